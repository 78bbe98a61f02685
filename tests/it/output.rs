//! What onfail prints stays onfail's: a provider cannot drive the terminal with escape sequences,
//! and a secret that happens to be an ordinary word (`sent`, `null`, `voice`) cannot rewrite the
//! result or break the JSON document.

use std::path::Path;

use crate::common::{Reply, Server, github_env, onfail, read, run};

const KEY: &str = "ak-output-key-41b7c2";
const PHONE: &str = "5321234567";

/// Voice aimed at `voice`, the webhook at `hook`, with extra webhook header lines.
fn channels(voice: &Server, hook: &Server, headers: &str) -> Vec<String> {
    [
        "--alertalk-webhook-key",
        KEY,
        "--phone-numbers",
        PHONE,
        "--alertalk-url",
        &voice.url("/webhook/receive"),
        "--webhook-url",
        &hook.url("/hook"),
        "--webhook-headers",
        headers,
        "--retries",
        "0",
    ]
    .map(String::from)
    .to_vec()
}

/// The value of one output in a `$GITHUB_OUTPUT` file (`name<<DELIM`, value, `DELIM`).
fn output(file: &Path, name: &str) -> String {
    let text = read(file);
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(delimiter) = line.strip_prefix(&format!("{name}<<")) {
            return lines.take_while(|l| *l != delimiter).collect::<Vec<_>>().join("\n");
        }
    }
    panic!("no output {name} in:\n{text}");
}

/// Header values that are onfail's own words, and JSON's.
const WORDS: &str =
    "X-A: sent\nX-B: null\nX-C: true\nX-D: voice\nX-E: result\nX-F: webhook\nX-G: status\nX-H: channels";

#[test]
fn a_secret_that_is_one_of_onfails_words_rewrites_nothing() {
    let server = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
    let out = run(onfail().arg("send").args(channels(&server, &server, WORDS)).args(["--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["result"], "sent", "{}", out.stdout);
    let names: Vec<&str> =
        json["channels"].as_array().unwrap().iter().map(|c| c["channel"].as_str().unwrap()).collect();
    assert_eq!(names, ["voice", "webhook"]);
    assert!(json["channels"].as_array().unwrap().iter().all(|c| c["result"] == "sent" && c["http_status"] == 200));
    assert!(
        out.stderr.contains("onfail: voice (alertalk) → 5*******67: sent after 1 attempt, HTTP 200"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("onfail: result: sent (sent: voice,webhook)"), "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let mut cmd = onfail();
    cmd.arg("send").args(channels(&server, &server, WORDS));
    github_env(&mut cmd).env("GITHUB_OUTPUT", &outputs).env("GITHUB_STEP_SUMMARY", &summary);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(output(&outputs, "result"), "sent");
    assert_eq!(output(&outputs, "sent-channels"), "voice,webhook");
    let json: serde_json::Value = serde_json::from_str(&output(&outputs, "json")).expect("the json output parses");
    assert_eq!(json["result"], "sent");
    assert!(read(&summary).starts_with("### onfail: sent\n"), "{}", read(&summary));

    // The dry run still hides the header values themselves.
    let out = run(onfail().arg("send").args(channels(&server, &server, WORDS)).args(["--dry-run", "--output", "json"]));
    let json = out.json();
    assert_eq!(json["result"], "dry-run");
    assert_eq!(json["channels"][1]["request"]["headers"]["X-A"], "***", "{}", out.stdout);
}

/// Control characters that must never reach a terminal or a log raw.
const RAW: [char; 8] = ['\u{1b}', '\r', '\u{8}', '\u{7}', '\u{0}', '\u{9b}', '\u{202e}', '\u{2066}'];

fn assert_inert(name: &str, text: &str) {
    for c in RAW {
        assert!(!text.contains(c), "{name} holds U+{:04X} raw:\n{text:?}", u32::from(c));
    }
}

#[test]
fn escape_sequences_from_a_provider_are_never_printed_raw() {
    // Alertalk's message is quoted whole; the webhook's plain-text answer is excerpted.
    let hostile =
        "bad \u{1b}[2J\u{1b}[1;1H\u{1b}]0;pwned\u{7} key\r\u{8}\u{8}ok \u{9b}31m \u{202e}live\u{2066} \u{0}end";
    let voice = Reply::json(400, &serde_json::json!({ "message": hostile }).to_string());
    let hook = Reply::Respond { status: 400, headers: vec![], body: hostile.as_bytes().to_vec() };
    let (voice, hook) = (Server::new(vec![], voice), Server::new(vec![], hook));
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
        let mut cmd = onfail();
        cmd.arg("send").args(channels(&voice, &hook, "X-Trace: t")).args(["--output", format]);
        github_env(&mut cmd).env("GITHUB_OUTPUT", &outputs).env("GITHUB_STEP_SUMMARY", &summary);
        let out = run(&mut cmd);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains("Alertalk said: bad"), "{}", out.stderr);
        assert_inert("stderr", &out.stderr);
        assert_inert("stdout", &out.stdout);
        assert_inert("GITHUB_OUTPUT", &read(&outputs));
        assert_inert("GITHUB_STEP_SUMMARY", &read(&summary));
        if format == "json" {
            // Still the provider's words, escaped in the document rather than dropped.
            let detail = out.json()["channels"][0]["detail"].as_str().unwrap().to_string();
            assert!(detail.contains('\u{202e}') && detail.contains('\u{9b}'), "{detail:?}");
        }
    }
}
