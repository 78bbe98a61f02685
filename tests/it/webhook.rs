//! The webhook channel end to end: the binary runs as a process against a real HTTP server on
//! 127.0.0.1, which checks headers, bodies and Standard Webhooks signatures itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{Received, Reply, Run, Server, github_env, onfail, run};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// The credential inside the ComToHome-style header; the whole value is a secret too.
const API_KEY: &str = "whk-SENTINEL-hdr-91c4e2";
const TEAM: &str = "team-SENTINEL-5d1e";
/// A Standard Webhooks secret: whsec_ + base64 of the 24-byte key.
const WHSEC: &str = "whsec_d2hrLVNFTlRJTkVMLXNpZ25pbmcta2V5";
const RAW_SECRET: &str = "raw-SENTINEL-secret-3b7f";
/// A credential in a URL path (Slack, Discord) and one in a query string.
const PATH_TOKEN: &str = "pathSENTINELtoken0a1b2c3d";
const QUERY_TOKEN: &str = "qry-SENTINEL-77aa";

fn authorization() -> String {
    format!("APIKEY {API_KEY}")
}

/// Every secret value this file uses; none may appear in any output.
fn secrets() -> Vec<String> {
    [authorization().as_str(), API_KEY, TEAM, WHSEC, &WHSEC["whsec_".len()..], RAW_SECRET, PATH_TOKEN, QUERY_TOKEN]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Runs `onfail` and checks that no webhook secret reached stdout or stderr.
fn run_clean(cmd: &mut assert_cmd::Command) -> Run {
    let out = run(cmd);
    out.assert_clean(&secrets());
    out
}

/// `onfail send` aimed at `server` (the path given), with no other channel.
fn send(server: &Server, path: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["send", "--webhook-url", &server.url(path)]);
    cmd
}

/// A Standard Webhooks verifier written from the specification, independent of onfail's code:
/// it decodes the secret, checks the timestamp tolerance, and compares each `v1` signature
/// in constant time. Returns the id and timestamp it verified.
fn verify(secret: &str, request: &Received) -> Result<(String, u64), String> {
    let id = request.header("webhook-id").ok_or("no webhook-id")?;
    let timestamp: u64 =
        request.header("webhook-timestamp").ok_or("no webhook-timestamp")?.parse().map_err(|_| "bad ts")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if now.abs_diff(timestamp) > 300 {
        return Err(format!("timestamp {timestamp} is more than 5 minutes from now ({now})"));
    }
    let key = match secret.strip_prefix("whsec_") {
        Some(encoded) => STANDARD.decode(encoded).map_err(|e| e.to_string())?,
        None => secret.as_bytes().to_vec(),
    };
    let signatures = request.header("webhook-signature").ok_or("no webhook-signature")?;
    for entry in signatures.split(' ') {
        let Some(("v1", encoded)) = entry.split_once(',') else { continue };
        let Ok(signature) = STANDARD.decode(encoded) else { continue };
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(&request.body);
        if mac.verify_slice(&signature).is_ok() {
            return Ok((id.to_string(), timestamp));
        }
    }
    Err(format!("no signature in {signatures:?} matches"))
}

#[test]
fn the_default_body_carries_every_context_field() {
    let server = Server::new(vec![], Reply::status(204));
    let out = run_clean(github_env(&mut send(&server, "/hooks/ci")).args(["--check-run-id", "99"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("webhook (json): sent after 1 attempt, HTTP 204: delivered"), "{}", out.stderr);

    let requests = server.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/hooks/ci"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert!(request.header("User-Agent").unwrap().starts_with("onfail/"));
    assert_eq!(request.header("webhook-signature"), None, "unsigned without --webhook-secret");
    assert!(request.body.starts_with(br#"{"type":"ci.failure","timestamp":""#), "type first, as documented");

    let body = request.json();
    let timestamp = body["timestamp"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(timestamp).is_ok(), "RFC 3339: {timestamp}");
    let run_url = "https://github.com/acme/api/actions/runs/4242";
    let data = &body["data"];
    assert_eq!(data["status"], "failure");
    assert_eq!(data["title"], "Deploy failed in acme/api");
    let message = data["message"].as_str().unwrap();
    assert!(message.starts_with("Deploy failed in acme/api.\nRepository: acme/api\n"), "{message}");
    assert!(message.contains(&format!("Run: {run_url}")), "{message}");
    for (field, value) in [
        ("repository", "acme/api"),
        ("workflow", "Deploy"),
        ("job", "build"),
        ("ref_name", "main"),
        ("sha", "0123456789abcdef0123456789abcdef01234567"),
        ("actor", "octocat"),
        ("event", "push"),
        ("run_id", "4242"),
        ("run_attempt", "2"),
        ("run_url", run_url),
        ("job_url", &format!("{run_url}/job/99")),
        ("run_number", "17"),
        ("server_url", "https://github.com"),
        ("hostname", "test-host"),
    ] {
        assert_eq!(data[field].as_str(), Some(value), "data.{field}");
    }
}

#[test]
fn title_message_and_status_flow_into_the_body() {
    let server = Server::ok("{}");
    let out = run_clean(send(&server, "/").args([
        "--status",
        "success",
        "--notify-on",
        "always",
        "--title",
        "{hostname} is green",
        "--message",
        "all good",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let body = server.received()[0].json();
    assert_eq!(body["type"], "ci.success");
    assert_eq!(body["data"]["title"], "test-host is green");
    assert_eq!(body["data"]["message"], "all good");
    assert_eq!(body["data"]["repository"], "", "outside CI unknown fields are empty strings");
}

#[test]
fn custom_headers_arrive_as_given_and_never_show() {
    let server = Server::ok("{}");
    // The environment variable holds newline-separated lines, as an action input would.
    let lines = format!("Authorization: {}\r\n\nX-Team:   {TEAM}  \n", authorization());
    let out =
        run_clean(send(&server, "/api/v1/events").env("ONFAIL_WEBHOOK_HEADERS", &lines).args(["--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let request = &server.received()[0];
    assert_eq!(request.header("Authorization"), Some(authorization().as_str()));
    assert_eq!(request.header("X-Team"), Some(TEAM));
    assert_eq!(out.json()["channels"][0]["result"], "sent");
}

#[test]
fn the_headers_flag_may_repeat() {
    let server = Server::ok("{}");
    let out = run_clean(send(&server, "/").args([
        "--webhook-headers",
        &format!("Authorization: {}", authorization()),
        "--webhook-headers",
        &format!("X-Team: {TEAM}\nX-Env: prod"),
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let request = &server.received()[0];
    assert_eq!(request.header("Authorization"), Some(authorization().as_str()));
    assert_eq!((request.header("X-Team"), request.header("X-Env")), (Some(TEAM), Some("prod")));
}

#[test]
fn bad_header_lines_stop_the_run_before_anything_is_sent() {
    let cases = [
        (format!("X-Ok: fine\nBad Name: {API_KEY}"), "--webhook-headers: line 2: the header name is not a valid"),
        (
            format!("X-A: {API_KEY}\rX-Evil: injected"),
            "--webhook-headers: line 1 (X-A): the value holds a carriage return",
        ),
        (format!("X-A: APIKEY\n{API_KEY}"), "--webhook-headers: line 2 is not `Name: value`"),
        (format!("X-A\u{7f}: {API_KEY}"), "--webhook-headers: line 1: the header name"),
        ("Authorization:".to_string(), "--webhook-headers: line 1 (Authorization): the value is empty"),
        (format!("Content-Type: text/plain; {API_KEY}"), "--webhook-headers: line 1: Content-Type cannot be set here"),
        (format!("webhook-signature: v1,{API_KEY}"), "--webhook-headers: line 1: webhook-signature cannot be set"),
    ];
    for (lines, says) in cases {
        let server = Server::ok("{}");
        let out = run_clean(send(&server, "/").args(["--webhook-headers", &lines]));
        assert_eq!(out.code, 2, "{lines:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{lines:?}: {}", out.stderr);
        assert!(!out.stderr.contains("injected"), "{}", out.stderr);
        assert!(server.received().is_empty(), "{lines:?}: nothing may be sent");
    }
}

#[test]
fn signed_requests_verify_and_keep_their_id_across_retries() {
    // Retry-After: 1 makes the second attempt at least a second later, so its timestamp differs.
    let server = Server::new(vec![Reply::status(503).header("Retry-After", "1")], Reply::status(200));
    let out = run_clean(send(&server, "/").env("ONFAIL_WEBHOOK_SECRET", WHSEC).args([
        "--webhook-headers",
        &format!("Authorization: {}", authorization()),
        "--output",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let requests = server.received();
    assert_eq!(requests.len(), 2);
    let (id1, ts1) = verify(WHSEC, &requests[0]).unwrap();
    let (id2, ts2) = verify(WHSEC, &requests[1]).unwrap();
    assert!(id1.starts_with("msg_"), "{id1}");
    assert_eq!(id1, id2, "webhook-id is the same on every retry of one alert");
    assert!(ts2 > ts1, "webhook-timestamp is fresh per attempt ({ts1}, {ts2})");
    assert_eq!(requests[0].body, requests[1].body, "the same bytes are sent and signed");
    // The key is the decoded secret: the raw text of the secret does not verify.
    assert!(verify(&WHSEC["whsec_".len()..], &requests[1]).is_err());

    let channel = &out.json()["channels"][0];
    assert_eq!(channel["attempts"], 2);
    assert_eq!(channel["detail"], format!("delivered, webhook-id {id1}"));
}

#[test]
fn another_alert_gets_another_id() {
    let server = Server::ok("{}");
    for _ in 0..2 {
        assert_eq!(run_clean(send(&server, "/").args(["--webhook-secret", WHSEC])).code, 0);
    }
    let requests = server.received();
    let (first, second) = (verify(WHSEC, &requests[0]).unwrap().0, verify(WHSEC, &requests[1]).unwrap().0);
    assert_ne!(first, second);
}

#[test]
fn a_secret_without_whsec_is_used_as_raw_bytes() {
    let server = Server::ok("{}");
    let out = run_clean(send(&server, "/").args(["--webhook-secret", RAW_SECRET, "--webhook-format", "slack"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    verify(RAW_SECRET, &server.received()[0]).unwrap();
}

#[test]
fn a_whsec_secret_that_is_not_base64_is_a_usage_error() {
    let server = Server::ok("{}");
    let bad = "whsec_SENTINEL*not!base64";
    let out = run_clean(send(&server, "/").args(["--webhook-secret", bad]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--webhook-secret: starts with whsec_ but the rest is not valid base64"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("SENTINEL*not"), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[test]
fn a_body_template_stays_valid_json_whatever_the_commit_message_holds() {
    let server = Server::ok("{}");
    let commit =
        "Fix \"quoted\" path C:\\temp\\new\\n\nsecond line\ttab {\"json\": [1]} { x } {{status}} 'single' \u{1}🚨";
    let template = r#"{
  "text": "{title}: {message}",
  "meta": {"workflow": "{workflow}", "sha": "{short_sha}", "attempt": 2, "tags": ["ci", "{status}"]},
  "literal": "{{not a placeholder}}"
}"#;
    let out = run_clean(github_env(&mut send(&server, "/")).env("GITHUB_WORKFLOW", "Deploy \"prod\" \\ main").args([
        "--webhook-body",
        template,
        "--message",
        commit,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let request = &server.received()[0];
    let body = request.json();
    // --message is a template itself: its doubled braces are literal braces.
    let text = commit.replace("{{status}}", "{status}");
    assert_eq!(body["text"].as_str(), Some(format!("Deploy \"prod\" \\ main failed in acme/api: {text}").as_str()));
    assert_eq!(
        body["meta"],
        json!({"workflow": "Deploy \"prod\" \\ main", "sha": "0123456", "attempt": 2, "tags": ["ci", "failure"]})
    );
    assert_eq!(body["literal"], "{not a placeholder}");
    let sent = String::from_utf8(request.body.clone()).unwrap();
    assert!(sent.starts_with("{\n  \"text\": "), "the template's layout and key order are kept: {sent}");
}

#[test]
fn a_bad_body_template_is_a_usage_error() {
    for (template, says) in [
        (r#"{"text": "{message}""#, "--webhook-body: is not valid JSON (EOF while parsing an object"),
        ("{\"text\": \"two\nlines\"}", "a line break inside a JSON string must be written \\n"),
        (r#"{"text": "{branch}"}"#, "--webhook-body: unknown placeholder {branch}; valid placeholders are {status}"),
    ] {
        let server = Server::ok("{}");
        let out = run_clean(send(&server, "/").args(["--webhook-body", template]));
        assert_eq!(out.code, 2, "{template}");
        assert!(out.stderr.contains(says), "{template}: {}", out.stderr);
        assert!(server.received().is_empty());
    }
    let out = run_clean(onfail().args(["check", "--webhook-url", "https://example.com/h", "--webhook-body", "{x}"]));
    assert_eq!(out.code, 2, "check validates the template too");
    let out = run_clean(onfail().args([
        "send",
        "--webhook-url",
        "https://example.com/h",
        "--webhook-body",
        "{\"a\": \"{x}\"}",
    ]));
    assert!(out.stderr.contains("{title} {message}"), "the extra names are listed: {}", out.stderr);
}

#[test]
fn slack_gets_escaped_text_and_its_url_stays_secret() {
    let server = Server::new(vec![], Reply::Respond { status: 200, headers: vec![], body: b"ok".to_vec() });
    let path = format!("/services/T0001/B0001/{PATH_TOKEN}?k={QUERY_TOKEN}");
    let out = run_clean(send(&server, &path).args(["--webhook-format", "Slack", "--message", "a <!channel> & b > c"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("webhook (slack): sent after 1 attempt, HTTP 200"), "{}", out.stderr);
    let request = &server.received()[0];
    assert_eq!(request.path, path);
    assert_eq!(request.json(), json!({"text": "a &lt;!channel&gt; &amp; b &gt; c"}));
}

#[test]
fn slack_default_text_is_the_detailed_alert() {
    let server = Server::ok("ok");
    let out = run_clean(github_env(&mut send(&server, "/")).env("ONFAIL_WEBHOOK_FORMAT", "slack"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = server.received()[0].json()["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("Deploy failed in acme/api.\n") && text.contains("Commit: 0123456789abcdef"), "{text}");
}

#[test]
fn discord_gets_content_with_mentions_disabled_cut_to_its_limit() {
    let server = Server::new(vec![], Reply::status(204));
    let message = format!("@everyone {}", "ı".repeat(2500));
    let out = run_clean(send(&server, &format!("/api/webhooks/123/{PATH_TOKEN}")).args([
        "--webhook-format",
        "DISCORD",
        "--message",
        &message,
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: webhook: the message has 2510 characters; Discord shows at most 2000, so it was cut"),
        "{}",
        out.stderr
    );
    let body = server.received()[0].json();
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let content = body["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), 2000);
    assert!(message.starts_with(content.trim_end_matches('…')) && content.ends_with('…'));
}

#[test]
fn a_body_template_and_a_chat_format_do_not_mix() {
    let server = Server::ok("{}");
    let out = run_clean(send(&server, "/").args(["--webhook-format", "discord", "--webhook-body", r#"{"a": 1}"#]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--webhook-body: cannot be combined with --webhook-format discord"), "{}", out.stderr);
    assert!(server.received().is_empty());
    let out = run_clean(send(&server, "/").args(["--webhook-format", "teams"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--webhook-format"), "{}", out.stderr);
}

#[test]
fn a_redirect_is_a_failure_and_is_not_followed() {
    let target = Server::new(vec![], Reply::status(200));
    let server = Server::new(vec![Reply::status(302).header("Location", &target.url("/moved"))], Reply::status(200));
    let out = run_clean(send(&server, "/hook").args(["--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 1, "exactly one request: the redirect is not retried");
    assert!(target.received().is_empty(), "the Location is never visited");
    assert!(out.stderr.contains("answered with a redirect (HTTP 302), which onfail never follows"), "{}", out.stderr);
    assert_eq!(out.json()["channels"][0]["http_status"], 302);
}

#[test]
fn permanent_answers_are_not_retried_and_say_what_to_do() {
    for (status, says) in [
        (410, "the endpoint is gone (HTTP 410)"),
        (401, "refused the request (HTTP 401)"),
        (403, "check the credentials in --webhook-headers or --webhook-secret"),
        (404, "has no webhook at that URL (HTTP 404)"),
        (400, "rejected the request (HTTP 400)"),
    ] {
        let server = Server::new(vec![], Reply::json(status, r#"{"error":"nope"}"#));
        let out = run_clean(send(&server, "/").args(["--output", "json"]));
        assert_eq!(out.code, 1, "HTTP {status}");
        assert_eq!(server.received().len(), 1, "HTTP {status} must not be retried");
        assert!(out.stderr.contains(says), "HTTP {status}: {}", out.stderr);
        assert_eq!(out.json()["channels"][0]["attempts"], 1);
    }
}

#[test]
fn a_rate_limit_is_retried_after_the_time_it_asks() {
    let server = Server::new(vec![Reply::status(429).header("Retry-After", "1")], Reply::status(200));
    let out = run_clean(send(&server, "/").args(["--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 2);
    assert!(out.elapsed >= Duration::from_secs(1), "waited as asked: {:?}", out.elapsed);
    assert_eq!(out.json()["channels"][0]["attempts"], 2);
}

#[test]
fn a_rate_limit_past_the_deadline_fails_without_waiting() {
    let server = Server::new(vec![], Reply::status(429).header("Retry-After", "120"));
    let out = run_clean(send(&server, "/").args(["--timeout", "5s"]));
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 1);
    assert!(out.stderr.contains("no time left within --timeout"), "{}", out.stderr);
}

#[test]
fn secrets_echoed_by_the_receiver_are_masked() {
    let echo = format!("bad credentials: {} / {WHSEC} / {PATH_TOKEN}", authorization());
    let server = Server::new(vec![], Reply::Respond { status: 400, headers: vec![], body: echo.into_bytes() });
    let out = run_clean(
        send(&server, &format!("/h/{PATH_TOKEN}"))
            .args(["--webhook-headers", &format!("Authorization: {}", authorization())])
            .args(["--webhook-secret", WHSEC, "--output", "json"]),
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("bad credentials: *** / *** / ***"), "{}", out.stderr);
}

#[test]
fn dry_run_and_check_show_the_request_with_every_secret_hidden() {
    let server = Server::ok("{}");
    let path = format!("/hooks/{PATH_TOKEN}?token={QUERY_TOKEN}");
    let configure = |cmd: &mut assert_cmd::Command| {
        cmd.env("ONFAIL_WEBHOOK_HEADERS", format!("Authorization: {}\nX-Team: {TEAM}", authorization()))
            .env("ONFAIL_WEBHOOK_SECRET", WHSEC);
    };
    let mut cmd = send(&server, &path);
    configure(&mut cmd);
    let out = run_clean(cmd.arg("--dry-run"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown_url = format!("POST {}", server.url("/***?***"));
    assert!(out.stdout.contains(&shown_url), "{}", out.stdout);
    for line in
        ["Authorization: ***", "X-Team: ***", "webhook-signature: ***", "webhook-id: msg_", "webhook-timestamp: "]
    {
        assert!(out.stdout.contains(line), "{line}: {}", out.stdout);
    }
    assert!(out.stdout.contains("\"type\":\"ci.failure\""), "{}", out.stdout);

    let mut cmd = send(&server, &path);
    configure(&mut cmd);
    let out = run_clean(cmd.args(["--dry-run", "--output", "json"]));
    let request = &out.json()["channels"][0]["request"];
    assert_eq!(request["headers"]["Authorization"], "***");
    assert_eq!(request["url"], server.url("/***?***"));

    let mut cmd = onfail();
    cmd.args(["check", "--webhook-url", &server.url(&path)]);
    configure(&mut cmd);
    let out = run_clean(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("webhook (json) configured; would send to {}", server.url("/***?***"))));
    assert!(server.received().is_empty(), "dry run and check send nothing");
}

#[test]
fn a_webhook_url_must_be_https_unless_loopback() {
    let out =
        run_clean(onfail().args(["send", "--webhook-url", &format!("http://hooks.example.com/x?k={QUERY_TOKEN}")]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--webhook-url: must use https://"), "{}", out.stderr);
}

#[test]
fn webhook_and_voice_run_side_by_side() {
    let voice = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
    let hook = Server::new(vec![], Reply::status(500));
    let out = run_clean(
        send(&hook, "/")
            .args(["--alertalk-url", &voice.url("/webhook/receive"), "--alertalk-webhook-key", crate::common::KEY])
            .args(["--phone-numbers", crate::common::PHONES[0], "--retries", "0", "--output", "json"]),
    );
    assert_eq!(out.code, 1);
    let json = out.json();
    assert_eq!(json["result"], "partial");
    assert_eq!(voice.received().len(), 1);
    assert_eq!(hook.received().len(), 1);
}

#[test]
fn help_lists_the_webhook_options_without_their_values() {
    let out = run_clean(
        onfail()
            .args(["send", "--help"])
            .env("ONFAIL_WEBHOOK_HEADERS", format!("Authorization: {}", authorization()))
            .env("ONFAIL_WEBHOOK_SECRET", WHSEC)
            .env("ONFAIL_WEBHOOK_URL", format!("https://x.test/{PATH_TOKEN}")),
    );
    assert_eq!(out.code, 0);
    for flag in
        ["Webhook:", "--webhook-url", "--webhook-headers", "--webhook-secret", "--webhook-body", "--webhook-format"]
    {
        assert!(out.stdout.contains(flag), "{flag}");
    }
}
