//! Shared test harness: a real HTTP/1.1 server on 127.0.0.1 with scripted replies, and a runner
//! for the `onfail` binary with a hermetic environment that scans every output for leaks.

#[cfg(unix)]
pub mod chromium;
pub mod github_api;
pub mod github_watch;
pub mod phones;
#[cfg(unix)]
pub mod service;

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answer with a status, headers and body.
    Respond { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Never answer; hold the connection open until the server is dropped (at most a minute).
    Hang,
    /// Close the connection without a byte.
    Close,
    /// Wait, then do the inner reply.
    Delay(Duration, Box<Reply>),
    /// Write these bytes as the whole answer (garbage, a truncated response), then close.
    Raw(Vec<u8>),
    /// Send a 200 head announcing a body, part of the body, then reset the connection (RST).
    ResetMidBody,
    /// Send a 200 head one byte every `gap`.
    SlowHead(Duration),
    /// Send a 200 head at once, then its 64-byte body one byte every `gap`.
    SlowBody(Duration),
    /// A 200 with a body of this many bytes, streamed as fast as the client reads.
    Huge(u64),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Respond { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Respond { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Reply::Respond { status, headers, body }
            }
            other => other,
        }
    }

    pub fn after(self, delay: Duration) -> Reply {
        Reply::Delay(delay, Box::new(self))
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
}

/// Picks the reply from the request itself (a fake API routed by path and query).
pub type Route = Box<dyn Fn(&Received) -> Reply + Send + Sync>;

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    route: Option<Route>,
    fallback: Reply,
    received: Mutex<Vec<Received>>,
    stopping: AtomicBool,
    /// Body bytes written by `Reply::Huge`, to prove the client stopped reading.
    huge_written: AtomicU64,
}

/// A scripted HTTP server on 127.0.0.1. Replies are used in order; once the script is used up
/// every request gets the fallback.
pub struct Server {
    port: u16,
    shared: Arc<Shared>,
}

impl Server {
    /// A server that answers every request with `fallback` after the scripted `replies`.
    pub fn new(replies: Vec<Reply>, fallback: Reply) -> Server {
        Server::start(replies, fallback, None)
    }

    /// A server that answers each request with what `route` makes of it.
    pub fn routed(route: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        Server::start(Vec::new(), Reply::status(500), Some(Box::new(route)))
    }

    /// A server that uses the scripted `replies` in order, then answers with what `handler`
    /// makes of each request: a fake provider that checks the fields, after a few faults.
    pub fn answering(replies: Vec<Reply>, handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        let script = Mutex::new(VecDeque::from(replies));
        Server::routed(move |request| script.lock().unwrap().pop_front().unwrap_or_else(|| handler(request)))
    }

    fn start(replies: Vec<Reply>, fallback: Reply, route: Option<Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            script: Mutex::new(replies.into()),
            route,
            fallback,
            received: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            huge_written: AtomicU64::new(0),
        });
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn_shared = Arc::clone(&accept_shared);
                thread::spawn(move || serve(stream, &conn_shared));
            }
        });
        Server { port, shared }
    }

    /// A server that answers everything with 200 and `body`.
    pub fn ok(body: &str) -> Server {
        Server::new(Vec::new(), Reply::json(200, body))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many body bytes `Reply::Huge` managed to write before the client hung up.
    pub fn huge_written(&self) -> u64 {
        self.shared.huge_written.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits briefly for `n` requests (a request is recorded before its reply is written, but a
    /// client may give up first), then returns what arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let until = Instant::now() + Duration::from_secs(2);
        while self.received().len() < n && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        self.received()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Some(request) = read_request(&stream) else { return };
    let routed = shared.route.as_ref().map(|route| route(&request));
    shared.received.lock().unwrap().push(request);
    let reply =
        routed.unwrap_or_else(|| shared.script.lock().unwrap().pop_front().unwrap_or_else(|| shared.fallback.clone()));
    respond(stream, reply, shared);
}

fn respond(mut stream: TcpStream, reply: Reply, shared: &Shared) {
    match reply {
        Reply::Respond { status, headers, body } => {
            let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        Reply::Hang => {
            let until = Instant::now() + Duration::from_secs(60);
            while !shared.stopping.load(Ordering::SeqCst) && Instant::now() < until {
                thread::sleep(Duration::from_millis(20));
            }
        }
        Reply::Close => {}
        Reply::Delay(delay, inner) => {
            thread::sleep(delay);
            respond(stream, *inner, shared);
        }
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::ResetMidBody => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"message\":");
            let _ = stream.flush();
            thread::sleep(Duration::from_millis(50));
            // SO_LINGER 0 makes close() send RST instead of FIN.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
        }
        Reply::SlowHead(gap) => {
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" {
                if stream.write_all(&[*byte]).is_err() || shared.stopping.load(Ordering::SeqCst) {
                    return;
                }
                thread::sleep(gap);
            }
        }
        Reply::SlowBody(gap) => {
            let body = [b' '; 64];
            let _ = stream.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
            for byte in body {
                if stream.write_all(&[byte]).is_err() || shared.stopping.load(Ordering::SeqCst) {
                    return;
                }
                thread::sleep(gap);
            }
        }
        Reply::Huge(size) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n");
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = [b'a'; 64 * 1024];
            let mut left = size;
            while left > 0 && !shared.stopping.load(Ordering::SeqCst) {
                let n = left.min(chunk.len() as u64) as usize;
                if stream.write_all(&chunk[..n]).is_err() {
                    return;
                }
                shared.huge_written.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { method, path, headers, body })
}

/// Values that must never appear in any output of any test.
pub const KEY: &str = "ak-SENTINEL-key-7f3a9c";
/// The Temperstack integration key, which lives in the URL path.
pub const TEMPERSTACK_KEY: &str = "ts-SENTINEL-key-5e81d0";
/// The PagerDuty routing key (32 characters, as PagerDuty's are), sent in the body.
pub const PAGERDUTY_KEY: &str = "pdSENTINELkey0123456789abcdef012";
/// The incident.io source token, sent as a bearer token.
pub const INCIDENTIO_TOKEN: &str = "inc-SENTINEL-token-3b7e19";
/// The Grafana IRM integration token, which lives in the URL path.
pub const GRAFANA_TOKEN: &str = "gr-SENTINEL-token-c4d2a8";
/// Numbers used in tests; none of their spellings may appear in output.
pub const PHONES: [&str; 2] = ["5321234567", "5339876543"];

/// Every spelling of the sentinel numbers, plus the key.
pub fn sentinels() -> Vec<String> {
    let mut all = vec![KEY.to_string()];
    all.extend([TEMPERSTACK_KEY, PAGERDUTY_KEY, INCIDENTIO_TOKEN, GRAFANA_TOKEN].map(String::from));
    for n in PHONES {
        all.extend([n.to_string(), format!("90{n}"), format!("0{n}")]);
    }
    all
}

/// The outcome of one `onfail` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// stdout and stderr as a log reader sees them: the runner consumes `::add-mask::` lines.
    pub fn shown(&self) -> (String, String) {
        let shown = |text: &str| text.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        (shown(&self.stdout), shown(&self.stderr))
    }

    /// Fails if any of `secrets` appears in stdout or stderr. Under GitHub Actions the only
    /// allowed place is an `::add-mask::` line, which the runner consumes and never shows.
    pub fn assert_clean(&self, secrets: &[String]) {
        let (stdout, stderr) = self.shown();
        for secret in secrets {
            assert!(!stdout.contains(secret.as_str()), "stdout leaks {secret:?}:\n{}", self.stdout);
            assert!(!stderr.contains(secret.as_str()), "stderr leaks {secret:?}:\n{}", self.stderr);
        }
    }
}

/// `onfail` with an empty environment (no proxies, no CI variables, no backtraces), so every
/// test states exactly what the binary sees.
pub fn onfail() -> Command {
    let mut cmd = Command::cargo_bin("onfail").expect("the onfail binary is built");
    cmd.env_clear().env("RUST_BACKTRACE", "0").env("HOSTNAME", "test-host");
    cmd
}

/// Runs the command and scans its output for the sentinel key and numbers.
pub fn run(cmd: &mut Command) -> Run {
    let started = Instant::now();
    let output = cmd.output().expect("onfail runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    run.assert_clean(&sentinels());
    run
}

/// Reads a file the binary wrote (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY), or "" if it is absent.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The GitHub Actions variables of a typical failing run.
pub fn github_env(cmd: &mut Command) -> &mut Command {
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/api")
        .env("GITHUB_WORKFLOW", "Deploy")
        .env("GITHUB_JOB", "build")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_RUN_NUMBER", "17")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env("GITHUB_SERVER_URL", "https://github.com")
}

/// A running `onfail` whose stderr is read line by line as it comes, so that a test waits for
/// the line it means (the wait has begun, the call went out) instead of sleeping.
pub struct Spawned {
    child: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    readers: Vec<thread::JoinHandle<()>>,
    started: Instant,
}

impl Spawned {
    pub fn start(cmd: &mut std::process::Command) -> Spawned {
        use std::process::Stdio;
        let started = Instant::now();
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("onfail starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (err, out) = (child.stderr.take().unwrap(), child.stdout.take().unwrap());
        let into = Arc::clone(&lines);
        let reading_err = thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push(line);
            }
        });
        let into = Arc::clone(&stdout);
        let reading_out = thread::spawn(move || {
            let mut out = out;
            let _ = out.read_to_end(&mut into.lock().unwrap());
        });
        Spawned { child, lines, stdout, readers: vec![reading_err, reading_out], started }
    }

    /// Waits up to `limit` for a stderr line containing `needle`; panics with what came if none.
    pub fn wait_for_line(&self, needle: &str, limit: Duration) {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if self.lines.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("no line with {needle:?} within {limit:?}; stderr so far:\n{}", self.lines.lock().unwrap().join("\n"));
    }

    /// Sends `signal` (`-INT`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }

    /// Waits up to `limit` for the exit (panics past it) and returns the run, its output scanned
    /// for the sentinels, and how long it took from `since`.
    pub fn finish(mut self, limit: Duration, since: Instant) -> (Run, Duration) {
        let until = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("onfail did not exit within {limit:?}:\n{}", self.lines.lock().unwrap().join("\n"));
            }
            thread::sleep(Duration::from_millis(10));
        };
        let took = since.elapsed();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned(),
            stderr: self.lines.lock().unwrap().join("\n"),
            elapsed: self.started.elapsed(),
        };
        run.assert_clean(&sentinels());
        (run, took)
    }
}
