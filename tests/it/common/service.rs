//! `onfail serve` as a process, for the service's tests: started on 127.0.0.1 port 0 with the
//! port read from its ready line, on SQLite (a scratch file) or a real PostgreSQL (a fresh
//! database per service, on the server named by `ONFAIL_TEST_POSTGRES`; `tests/postgres.sh`
//! starts one). Never a mock of the database.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const RECEIVE_TOKEN: &str = "rcv-SENTINEL-4f9e2c7a1b";
pub const API_TOKEN: &str = "api-SENTINEL-8d3b6a0e5f";

/// Where a service keeps its data.
#[derive(Clone, Debug)]
pub struct Backend {
    pub store: String,
    /// Holds the SQLite file's directory for as long as the backend lives.
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let store = format!("sqlite://{}", dir.path().join("nested").join("serve.db").display());
        Backend { store, _dir: Some(Arc::new(dir)) }
    }

    /// A fresh database on the test PostgreSQL, or `None` (said loudly) when there is none.
    /// Under CI (`CI` set) on Linux, where `.ci/run` and the workflow start one, a missing
    /// server fails the test instead.
    pub fn postgres() -> Option<Backend> {
        let Some(base) = std::env::var("ONFAIL_TEST_POSTGRES").ok().filter(|v| !v.is_empty()) else {
            let message = "ONFAIL_TEST_POSTGRES is not set: the PostgreSQL store tests did NOT run. Start one with \
                           `d=$(mktemp -d); export ONFAIL_TEST_POSTGRES=$(tests/postgres.sh start \"$d\")`";
            assert!(std::env::var_os("CI").is_none() || !cfg!(target_os = "linux"), "{message}");
            // Straight to stderr: the test harness does not capture this, so it shows.
            let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {message}\n");
            return None;
        };
        let name = format!("onfail_test_{}", fastrand::u64(..));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("ONFAIL_TEST_POSTGRES={base}: cannot connect: {e}"));
            tokio::spawn(connection);
            client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
        });
        let mut url = reqwest::Url::parse(&base).unwrap();
        url.set_path(&name);
        Some(Backend { store: url.to_string(), _dir: None })
    }

    /// The same database with a password in its URL (trust authentication ignores it), for the
    /// tests that prove it never reaches the log.
    pub fn with_password(&self, password: &str) -> Backend {
        let mut backend = self.clone();
        if let Ok(mut url) = reqwest::Url::parse(&self.store)
            && url.scheme().starts_with("postgres")
        {
            url.set_password(Some(password)).unwrap();
            backend.store = url.to_string();
        }
        backend
    }
}

/// A running `onfail serve`.
pub struct Service {
    child: Child,
    pub url: String,
    log: Arc<Mutex<String>>,
}

/// The `onfail serve` command with an empty environment, the two tokens, the store and port 0
/// (all as variables, so a test can override any of them with a flag).
pub fn command(backend: &Backend) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_onfail"));
    cmd.env_clear()
        .env("RUST_BACKTRACE", "0")
        .env("ONFAIL_RECEIVE_TOKEN", RECEIVE_TOKEN)
        .env("ONFAIL_API_TOKEN", API_TOKEN)
        .env("ONFAIL_LISTEN", "127.0.0.1:0")
        .env("ONFAIL_STORE", &backend.store)
        .arg("serve");
    cmd
}

impl Service {
    pub fn start(backend: &Backend, extra: &[&str]) -> Service {
        let mut cmd = command(backend);
        cmd.args(extra);
        Service::spawn(cmd)
    }

    /// Starts `cmd` and waits for its ready line.
    pub fn spawn(mut cmd: Command) -> Service {
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (ready, url) = std::sync::mpsc::channel();
        let writer = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                writer.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(rest) = line.strip_prefix("onfail: serving on ") {
                    let _ = ready.send(rest.split(' ').next().unwrap_or_default().to_string());
                }
            }
        });
        let Ok(url) = url.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("onfail serve did not get ready:\n{}", log.lock().unwrap());
        };
        Service { child, url, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`-TERM`, `-KILL`, ...) and waits for the exit: its code (None when a
    /// signal ended it) and the whole log.
    pub fn stop(mut self, signal: &str) -> (Option<i32>, String) {
        Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        let until = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader thread has the last lines once stderr closes.
                std::thread::sleep(Duration::from_millis(100));
                return (status.code(), self.log());
            }
            assert!(Instant::now() < until, "onfail serve did not stop on {signal}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn report(&self, body: &str) -> (u16, Value) {
        self.post(&format!("/v1/iletimerkezi/reports?token={RECEIVE_TOKEN}"), None, body.as_bytes().to_vec())
    }

    /// A delivery report as iletiMerkezi sends it.
    pub fn report_of(&self, id: u64, packet_id: &str, status: &str, to: &str) -> (u16, Value) {
        self.report(&report_body(id, packet_id, status, to))
    }

    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string().into_bytes());
        self.request(method, path, Some(API_TOKEN), body)
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        self.request("POST", path, token, Some(body))
    }

    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<Vec<u8>>) -> (u16, Value) {
        let mut request = client().request(method.parse().unwrap(), format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.log()));
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn report_body(id: u64, packet_id: &str, status: &str, to: &str) -> String {
    serde_json::json!({"report": {"id": id, "packet_id": packet_id, "status": status, "to": to, "body": "Deploy failed"}})
        .to_string()
}

pub fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(90)).build().unwrap()
}

/// Runs `test` against SQLite and PostgreSQL: one `#[test]` per store and test.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&$crate::common::service::Backend::sqlite()) } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if let Some(backend) = $crate::common::service::Backend::postgres() { super::$name(&backend) }
            } )*
        }
    };
}
