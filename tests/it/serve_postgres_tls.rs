//! The PostgreSQL store over TLS (docs/serve-deploy.md, "PostgreSQL"), against the real test
//! server of `tests/postgres.sh`, which takes TLS with a private CA (`ONFAIL_TEST_POSTGRES_CA`):
//! `sslmode=require` connects over TLS with the certificate verified, through the URL's
//! `sslrootcert` or `SSL_CERT_FILE`; a certificate of an unknown CA is refused with the fix.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::service::{Backend, Service, command};

const PASSWORD: &str = "pw-SENTINEL-9e1d7c";

/// The test server's CA, or `None` (said loudly; a failure under CI on Linux).
fn ca() -> Option<String> {
    let ca = std::env::var("ONFAIL_TEST_POSTGRES_CA").ok().filter(|v| !v.is_empty());
    if ca.is_none() {
        let message = "ONFAIL_TEST_POSTGRES_CA is not set: the PostgreSQL TLS tests did NOT run \
                       (tests/postgres.sh start DIR writes DIR/ca.pem)";
        assert!(std::env::var_os("CI").is_none() || !cfg!(target_os = "linux"), "{message}");
        eprintln!("\n*** SKIPPED: {message}\n");
    }
    ca
}

/// Whether every connection of `onfail serve` to `database` is TLS, and how many there are.
fn service_connections(base: &str, database: &str) -> (bool, i64) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT COALESCE(bool_and(s.ssl), false), count(*) FROM pg_stat_ssl s \
                 JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'onfail serve' AND a.datname = $1",
                &[&database],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    })
}

fn assert_all_tls(backend: &Backend, tls: bool, log: &str) {
    let (all_tls, connections) = service_connections(&backend.store, &database_of(backend));
    assert!(connections >= 1 && all_tls == tls, "{connections} connections, all TLS: {all_tls}\n{log}");
}

fn database_of(backend: &Backend) -> String {
    reqwest::Url::parse(&backend.store).unwrap().path().trim_start_matches('/').to_string()
}

#[test]
fn sslmode_require_connects_over_tls_verified_by_sslrootcert() {
    let (Some(backend), Some(ca)) = (Backend::postgres(), ca()) else { return };
    let with_password = backend.with_password(PASSWORD);
    let mut cmd = command(&backend);
    cmd.env("ONFAIL_STORE", format!("{}?sslmode=require&sslrootcert={ca}", with_password.store));
    let service = Service::spawn(cmd);
    let (status, answer) = service.report_of(7, "order-tls", "delivered", "905321234567");
    assert_eq!(status, 200, "{answer}");
    assert_all_tls(&backend, true, &service.log());
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains(PASSWORD), "{log}");
}

#[test]
fn libpq_verify_full_with_ssl_cert_file_is_tls_too() {
    let (Some(backend), Some(ca)) = (Backend::postgres(), ca()) else { return };
    let mut cmd = command(&backend);
    cmd.env("ONFAIL_STORE", format!("{}?sslmode=verify-full", backend.store)).env("SSL_CERT_FILE", &ca);
    let service = Service::spawn(cmd);
    assert_eq!(service.report_of(8, "order-tls", "delivered", "905321234567").0, 200);
    assert_all_tls(&backend, true, &service.log());
}

#[test]
fn without_sslmode_the_connection_stays_plain() {
    let (Some(backend), Some(_)) = (Backend::postgres(), ca()) else { return };
    let service = Service::start(&backend, &[]);
    assert_eq!(service.report_of(9, "order-plain", "delivered", "905321234567").0, 200);
    assert_all_tls(&backend, false, &service.log());
}

#[test]
fn a_certificate_of_an_unknown_ca_is_refused_with_the_fix() {
    let (Some(backend), Some(_)) = (Backend::postgres(), ca()) else { return };
    let with_password = backend.with_password(PASSWORD);
    let mut cmd = command(&backend);
    cmd.env("ONFAIL_STORE", format!("{}?sslmode=require", with_password.store));
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < until, "onfail serve started with an unverifiable database certificate");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sslrootcert=") && stderr.contains("certificate"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}
