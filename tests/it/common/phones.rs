//! Voice, SMS and a webhook on one fake server, for the tests of who a page reached
//! (`paging`) and of cancels (`cancel`): the fake iletiMerkezi refuses the same text to the same
//! number as the real one does (451), and the fake Alertalk can fail, hang or ask for a retry.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::github_api::TOKEN;
use super::{KEY, PHONES, Received, Reply, Run, Server, read};

pub const SMS_KEY: &str = "im-SENTINEL-key-5d21c8";
pub const HASH: &str = "ih-SENTINEL-hash-77e0a4";
const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"OK"},"order":{"id":"555"}}}"#;
const DUPLICATE: &str = r#"{"response":{"status":{"code":451,"message":"Tekrar eden sipariş"}}}"#;
const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;
pub const A: &str = PHONES[0];
pub const B: &str = PHONES[1];
/// A third number that ends like A (…567): the two must print different masks.
pub const C: &str = "5441114567";

/// What the fake Alertalk does with a call.
#[derive(Clone)]
pub enum Voice {
    Queue,
    /// 403: a bad key.
    Refuse,
    /// 503 with `Retry-After: 2`, every time.
    Busy,
    Hang,
    /// Queued, after this long (a call in flight).
    Slow(std::time::Duration),
    /// 403 to the first call, queued after: a call that surely did not go out, once.
    RefuseFirst,
}

/// Alertalk, iletiMerkezi and a webhook on one server, noting every request.
pub struct Fake {
    pub server: Server,
    hits: Arc<Mutex<Vec<(Instant, Received)>>>,
}

impl Fake {
    /// `report`: the delivery state get-report gives each number (111 delivered, 112 not).
    pub fn new(voice: Voice, report: &[(&str, u16)]) -> Fake {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&hits);
        let report: Vec<(String, u16)> = report.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        // (number, text) pairs already accepted: iletiMerkezi refuses a repeat for minutes.
        let texted: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let server = Server::routed(move |request: &Received| {
            log.lock().unwrap().push((Instant::now(), request.clone()));
            match request.path.as_str() {
                "/webhook/receive" => match voice {
                    Voice::Queue => Reply::json(200, QUEUED),
                    Voice::Refuse => Reply::json(403, r#"{"message":"invalid key"}"#),
                    Voice::Busy => Reply::json(503, "{}").header("Retry-After", "2"),
                    Voice::Hang => Reply::Hang,
                    Voice::Slow(delay) => Reply::json(200, QUEUED).after(delay),
                    Voice::RefuseFirst if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 => {
                        Reply::json(403, r#"{"message":"invalid key"}"#)
                    }
                    Voice::RefuseFirst => Reply::json(200, QUEUED),
                },
                "/v1/send-sms/json" => {
                    let body = request.json();
                    let text = body["request"]["order"]["message"]["text"].as_str().unwrap_or_default().to_string();
                    let numbers = numbers_of(&body);
                    let mut seen = texted.lock().unwrap();
                    if numbers.iter().any(|n| seen.contains(&(n.clone(), text.clone()))) {
                        return Reply::json(200, DUPLICATE);
                    }
                    seen.extend(numbers.into_iter().map(|n| (n, text.clone())));
                    Reply::json(200, ACCEPTED)
                }
                "/v1/get-report/json" => delivery_report(&report),
                "/hook" => Reply::json(200, "{}"),
                _ => Reply::status(404),
            }
        });
        Fake { server, hits }
    }

    pub fn hits(&self, path: &str) -> Vec<(Instant, Received)> {
        self.hits.lock().unwrap().iter().filter(|(_, r)| r.path == path).cloned().collect()
    }

    /// The numbers of each call, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        self.hits("/webhook/receive")
            .iter()
            .map(|(_, r)| r.json()["phone_number"].as_str().unwrap().split(',').map(str::to_string).collect())
            .collect()
    }

    /// The numbers and text of each SMS order, in order.
    pub fn texts(&self) -> Vec<(Vec<String>, String)> {
        self.hits("/v1/send-sms/json")
            .iter()
            .map(|(_, r)| {
                let body = r.json();
                (numbers_of(&body), body["request"]["order"]["message"]["text"].as_str().unwrap().to_string())
            })
            .collect()
    }

    /// `onfail send` under GitHub Actions with voice, SMS and a webhook aimed at the fake and
    /// its output files in `dir`; `--output json`.
    pub fn send(&self, dir: &Path) -> Command {
        let mut cmd = github_send(&self.server, dir);
        cmd.args(["--webhook-url", &self.server.url("/hook")]);
        cmd
    }
}

/// `onfail send --output json` under GitHub Actions, with its output files in `dir` and voice
/// and SMS (the [`SMS_KEY`] and [`HASH`] sentinels) aimed at `server`.
pub fn github_send(server: &Server, dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("onfail"));
    cmd.env_clear()
        .env("RUST_BACKTRACE", "0")
        .env("HOSTNAME", "test-host")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/api")
        .env("GITHUB_WORKFLOW", "Deploy")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_SENDER", "ACME")
        .args(["send", "--output", "json"])
        .args(["--alertalk-url", &server.url("/webhook/receive")])
        .args(["--iletimerkezi-url", &server.url("")]);
    cmd
}

fn numbers_of(body: &serde_json::Value) -> Vec<String> {
    let list = body["request"]["order"]["message"]["receipents"]["number"].as_array().cloned().unwrap_or_default();
    list.iter().map(|n| n.as_str().unwrap().trim_start_matches("90").to_string()).collect()
}

fn delivery_report(numbers: &[(String, u16)]) -> Reply {
    let messages: Vec<String> = numbers.iter().map(|(n, s)| format!(r#"{{"number":"+90{n}","status":{s}}}"#)).collect();
    Reply::json(
        200,
        &format!(
            r#"{{"response":{{"status":{{"code":200,"message":"OK"}},"order":{{"id":"555","status":114,"message":[{}]}}}}}}"#,
            messages.join(",")
        ),
    )
}

/// Runs to the end; no secret and no number shows in any output.
pub fn go(mut cmd: Command) -> Run {
    cmd.env("ONFAIL_TIMEOUT", "10s");
    let out = crate::common::run(&mut assert_cmd::Command::from_std(cmd));
    out.assert_clean(&[SMS_KEY.to_string(), HASH.to_string(), C.to_string(), TOKEN.to_string()]);
    out
}

/// The value of one step output in a `$GITHUB_OUTPUT` file.
pub fn output(dir: &Path, name: &str) -> Option<String> {
    let file = read(&dir.join("output"));
    let mut lines = file.lines();
    while let Some(line) = lines.next() {
        if line.split_once("<<").is_some_and(|(key, _)| key == name) {
            return lines.next().map(str::to_string);
        }
    }
    None
}

/// The `pages` records of the JSON document: (masked number, channel, result).
pub fn pages(out: &Run) -> Vec<(String, String, String)> {
    let json = out.json();
    let records = json["pages"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap().to_string();
            (text("recipient"), text("channel"), text("result"))
        })
        .collect()
}
