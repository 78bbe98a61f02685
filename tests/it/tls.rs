//! HTTPS to a provider with a private CA: a real TLS server on 127.0.0.1 whose certificate
//! chains to a CA made at test time, trusted through `SSL_CERT_FILE` or `SSL_CERT_DIR`; and
//! every way those settings can be broken, which must only warn.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;

use crate::common::{Run, onfail, run};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// OpenSSL's subject hash of `CN=onfail test CA` (`openssl x509 -subject_hash`), the name
/// `c_rehash` gives the CA in a certificate directory.
const CA_HASH: &str = "7fd3e52f";

/// A private CA and a server certificate it signed for 127.0.0.1 and localhost.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::new(&[(DnType::CommonName, "onfail test CA")], 0))
}

impl Pki {
    /// A CA named `name`, with `extra_names` DNS names in its subjectAltName extension (to make
    /// its PEM block long after its subject), and a server certificate it signed.
    fn new(name: &[(DnType, &str)], extra_names: usize) -> Pki {
        let mut ca =
            CertificateParams::new((0..extra_names).map(|n| format!("ca{n}.onfail.test")).collect::<Vec<_>>()).unwrap();
        for (kind, value) in name {
            ca.distinguished_name.push(kind.clone(), *value);
        }
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        Pki { ca_pem: ca.pem(), chain: vec![server.der().clone()], key: server_key.serialize_der() }
    }
}

/// An HTTPS server that answers every request 200 `{}` and counts them. A client that rejects
/// the certificate never gets as far as a request, so it is not counted.
struct TlsServer {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start() -> TlsServer {
        TlsServer::start_with(pki())
    }

    fn start_with(pki: &Pki) -> TlsServer {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, counter) = (Arc::clone(&config), Arc::clone(&counter));
                thread::spawn(move || {
                    let connection = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(connection, tcp);
                    if read_request(&mut tls).is_some() {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                });
            }
        });
        TlsServer { port, requests }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/hook", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &mut impl Read) -> Option<()> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    reader.read_exact(&mut vec![0; length]).ok()
}

/// A folder with the CA under its hash name, as `c_rehash` leaves it, next to a file that is
/// not a certificate at all.
fn hashed_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("{CA_HASH}.0")), &pki().ca_pem).unwrap();
    std::fs::write(dir.path().join("README"), "not a certificate").unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn send(server: &TlsServer, env: &[(&str, &Path)]) -> Run {
    let mut cmd = onfail();
    cmd.args(["send", "--timeout", "10s", "--retries", "0", "--webhook-url", &server.url()]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    run(&mut cmd)
}

fn assert_sent(server: &TlsServer, out: &Run) {
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("webhook (json)") && out.stderr.contains("sent after 1 attempt"), "{}", out.stderr);
    assert_eq!(server.requests(), 1);
}

#[test]
fn the_private_ca_in_ssl_cert_file_is_trusted() {
    let server = TlsServer::start();
    let scratch = tempfile::tempdir().unwrap();
    let bundle = write(scratch.path(), "ca.pem", &pki().ca_pem);
    let out = send(&server, &[("SSL_CERT_FILE", &bundle)]);
    assert_sent(&server, &out);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn the_private_ca_is_found_in_ssl_cert_dir_by_its_subject_hash() {
    let server = TlsServer::start();
    let dir = hashed_dir();
    let out = send(&server, &[("SSL_CERT_DIR", dir.path())]);
    assert_sent(&server, &out);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_ca_in_ssl_cert_dir_under_another_name_is_not_trusted() {
    // OpenSSL looks a directory up by subject hash only, and so does onfail.
    let server = TlsServer::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "private-ca.pem", &pki().ca_pem);
    let out = send(&server, &[("SSL_CERT_DIR", dir.path())]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_broken_ssl_cert_file_only_warns_and_the_ca_in_ssl_cert_dir_still_works() {
    let server = TlsServer::start();
    let scratch = tempfile::tempdir().unwrap();
    let dir = hashed_dir();
    let broken = write(scratch.path(), "broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64 !!\n");
    let not_a_cert =
        write(scratch.path(), "garbage.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    let files = [broken.as_path(), not_a_cert.as_path(), Path::new("/nonexistent/ca.pem"), scratch.path()];
    for file in files {
        let out = send(&server, &[("SSL_CERT_FILE", file), ("SSL_CERT_DIR", dir.path())]);
        assert_eq!(out.code, 0, "{}: {}", file.display(), out.stderr);
        assert_eq!(out.stderr.matches("warning: SSL_CERT_FILE").count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("using the built-in roots"), "{}", out.stderr);
    }
    assert_eq!(server.requests(), files.len());
}

#[test]
fn a_bundle_with_one_broken_entry_still_trusts_the_others() {
    let server = TlsServer::start();
    let scratch = tempfile::tempdir().unwrap();
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let bundle = write(scratch.path(), "mixed.pem", &format!("{garbage}{}", pki().ca_pem));
    let out = send(&server, &[("SSL_CERT_FILE", &bundle)]);
    assert_sent(&server, &out);
    assert!(out.stderr.contains("1 of the entries in"), "{}", out.stderr);
}

/// The system bundle of this machine, if it has one: set-up (b) of docs/benchmarks.md, "Benchmarks".
fn system_bundle() -> String {
    std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default()
}

#[test]
fn a_ca_with_a_long_block_is_found_by_the_start_of_it_behind_the_system_bundle() {
    // Only the start of each block is decoded to read the subject (docs/delivery.md, "Delivery"); a CA
    // whose extensions make its block long is still found, and decoded whole when used.
    let pki = Pki::new(&[(DnType::CommonName, "onfail long CA")], 60);
    assert!(pki.ca_pem.len() > 2_000, "the CA's block is long: {}", pki.ca_pem.len());
    let server = TlsServer::start_with(&pki);
    let scratch = tempfile::tempdir().unwrap();
    let bundle = write(scratch.path(), "bundle.pem", &format!("{}{}", system_bundle(), pki.ca_pem));
    let out = send(&server, &[("SSL_CERT_FILE", &bundle), ("SSL_CERT_DIR", Path::new("/etc/ssl/certs"))]);
    assert_sent(&server, &out);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_ca_whose_names_run_past_the_start_of_its_block_is_read_whole() {
    let long = "onfail test organisation ".repeat(20);
    let pki = Pki::new(&[(DnType::OrganizationName, &long), (DnType::CommonName, "onfail wordy CA")], 0);
    let server = TlsServer::start_with(&pki);
    let scratch = tempfile::tempdir().unwrap();
    let bundle = write(scratch.path(), "bundle.pem", &format!("{}{}", system_bundle(), pki.ca_pem));
    let out = send(&server, &[("SSL_CERT_FILE", &bundle)]);
    assert_sent(&server, &out);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_copy_of_the_ca_broken_after_its_names_does_not_hide_the_good_one() {
    // The broken copy passes the look at the start of its block; it is left out when a chain
    // needs it, and the good copy after it is still used.
    let pki = Pki::new(&[(DnType::CommonName, "onfail twice CA")], 60);
    let server = TlsServer::start_with(&pki);
    let lines: Vec<&str> = pki.ca_pem.lines().collect();
    let cut = lines.len() - 3;
    let broken = format!("{}\n!!!!\n{}\n", lines[..cut].join("\n"), lines[cut..].join("\n"));
    let scratch = tempfile::tempdir().unwrap();
    let bundle = write(scratch.path(), "bundle.pem", &format!("{broken}{}", pki.ca_pem));
    let out = send(&server, &[("SSL_CERT_FILE", &bundle)]);
    assert_sent(&server, &out);
    // Alone, the broken copy cannot complete the chain: the channel fails, the alert is not
    // mistaken for sent.
    let alone = write(scratch.path(), "broken.pem", &broken);
    let out = send(&server, &[("SSL_CERT_FILE", &alone)]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
}

#[test]
fn an_unknown_ca_fails_the_channel_clearly_but_is_not_a_usage_error() {
    let server = TlsServer::start();
    let out = send(&server, &[("SSL_CERT_FILE", Path::new("/nonexistent/ca.pem"))]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("warning: SSL_CERT_FILE: cannot read /nonexistent/ca.pem"), "{}", out.stderr);
    assert!(out.stderr.contains("webhook (json)") && out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_missing_ssl_cert_dir_only_warns() {
    let server = TlsServer::start();
    let scratch = tempfile::tempdir().unwrap();
    let bundle = write(scratch.path(), "ca.pem", &pki().ca_pem);
    let out = send(&server, &[("SSL_CERT_FILE", &bundle), ("SSL_CERT_DIR", Path::new("/nonexistent/certs"))]);
    assert_sent(&server, &out);
    assert!(
        out.stderr.contains("warning: SSL_CERT_DIR: /nonexistent/certs is not a readable directory"),
        "{}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn onfail_run_alerts_over_https_even_with_a_broken_ssl_cert_file() {
    let server = TlsServer::start();
    let dir = hashed_dir();
    let out = run(onfail()
        .args(["run", "--timeout", "10s", "--webhook-url", &server.url(), "--", "sh", "-c", "exit 3"])
        .env("SSL_CERT_FILE", "/nonexistent/ca.pem")
        .env("SSL_CERT_DIR", dir.path()));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("warning: SSL_CERT_FILE: cannot read"), "{}", out.stderr);
    assert_eq!(server.requests(), 1, "{}", out.stderr);
}
