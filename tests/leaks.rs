//! The leak sweep: every mode and every error path, with every channel configured from sentinel
//! secrets and numbers. None may appear in stdout, stderr (outside the `::add-mask::` lines the
//! runner consumes), `$GITHUB_OUTPUT` or `$GITHUB_STEP_SUMMARY`, even when a provider echoes
//! them back.

mod common;

use std::path::Path;

use common::{Reply, Run, Server, github_env, onfail, read, run};

// Random-looking on purpose: the sweep looks for every 6-character piece of each, and a
// piece of an ordinary word ("-temperstack") would match the help text.
const ALERTALK_KEY: &str = "zQa7Lk1x9Vb2Tn4Rw8";
const SMS_KEY: &str = "mK3pX8qZ2wJ6vN9cR1";
const SMS_HASH: &str = "hY5tG2bQ7nL4xF9dS3";
const INCIDENT_KEY: &str = "tP8wE3rU6yI1oA4sD7";
const HOOK_PATH: &str = "pJ2kL9zX4cV7bN1mQ6";
const HOOK_QUERY: &str = "qW5eR8tY3uI6oP9aZ2";
const HEADER_VALUE: &str = "vB4nM7kJ1hG9fD2sA5";
const HOOK_SECRET: &str = "sC6xZ3lK8jH5gF2dQ9";
const PAGERDUTY_KEY: &str = "kR7vT2mQ9xL4wN8pZ3cF6hJ1bD5gS0yA";
const INCIDENTIO_SOURCE: &str = "xC1vB4nM7qW0eR3tY6";
const INCIDENTIO_TOKEN: &str = "iU3oP6aS9dF2gH5jK8";
const GRAFANA_TOKEN: &str = "gL2kJ5hG8fD1sA4zX7";
const VOICE_PHONE: &str = "5451112233";
const SMS_PHONE: &str = "5467778899";

fn sentinels() -> Vec<String> {
    let mut all: Vec<String> = [
        ALERTALK_KEY,
        SMS_KEY,
        SMS_HASH,
        INCIDENT_KEY,
        PAGERDUTY_KEY,
        INCIDENTIO_SOURCE,
        INCIDENTIO_TOKEN,
        GRAFANA_TOKEN,
        HOOK_PATH,
        HOOK_QUERY,
        HEADER_VALUE,
        HOOK_SECRET,
    ]
    .map(String::from)
    .to_vec();
    for n in [VOICE_PHONE, SMS_PHONE] {
        all.extend([n.to_string(), format!("90{n}"), format!("0{n}")]);
    }
    all
}

/// Every channel aimed at `server`, configured from the sentinels.
fn all_channels(server: &Server) -> Vec<String> {
    channels_at(&server.url(""))
}

/// Every channel aimed at `base` (`http://127.0.0.1:PORT`).
fn channels_at(base: &str) -> Vec<String> {
    vec![
        "--alertalk-url".into(),
        format!("{base}/webhook/receive"),
        "--alertalk-webhook-key".into(),
        ALERTALK_KEY.into(),
        "--phone-numbers".into(),
        format!("+90 {VOICE_PHONE}"),
        "--iletimerkezi-url".into(),
        base.into(),
        "--iletimerkezi-key".into(),
        SMS_KEY.into(),
        "--iletimerkezi-hash".into(),
        SMS_HASH.into(),
        "--sms-sender".into(),
        "ONFAIL".into(),
        "--sms-phone-numbers".into(),
        format!("0{SMS_PHONE}"),
        "--temperstack-url".into(),
        format!("{base}/api/integration/webhook/{INCIDENT_KEY}"),
        "--pagerduty-routing-key".into(),
        PAGERDUTY_KEY.into(),
        "--pagerduty-url".into(),
        format!("{base}/v2/enqueue"),
        "--incidentio-url".into(),
        format!("{base}/v2/alert_events/http/{INCIDENTIO_SOURCE}"),
        "--incidentio-token".into(),
        INCIDENTIO_TOKEN.into(),
        "--grafana-irm-url".into(),
        format!("{base}/integrations/v1/formatted_webhook/{GRAFANA_TOKEN}/"),
        "--webhook-url".into(),
        format!("{base}/hooks/{HOOK_PATH}?token={HOOK_QUERY}"),
        "--webhook-headers".into(),
        format!("Authorization: APIKEY {HEADER_VALUE}"),
        "--webhook-secret".into(),
        HOOK_SECRET.into(),
    ]
}

/// A provider that echoes every secret back in an error, each one several times at shifting
/// offsets, so that wherever a channel shortens the answer it cuts through a secret.
fn echoing_server(status: u16) -> Server {
    let secrets: Vec<String> = sentinels().into_iter().filter(|s| !s.chars().all(|c| c.is_ascii_digit())).collect();
    let mut echo = String::from("{\"error\": \"bad");
    for pad in 0..12 {
        for secret in &secrets {
            echo.push_str(&format!(" {}{secret}", "-".repeat(pad)));
        }
    }
    echo.push_str(&format!(" {}\"}}", sentinels().join(" ")));
    Server::new(vec![], Reply::json(status, &echo))
}

/// "Whole or in part": every 6-character piece of each secret (they are random-looking, so a
/// piece never occurs by chance), plus the whole phone numbers.
fn fragments() -> Vec<String> {
    let mut all = Vec::new();
    for secret in sentinels() {
        let chars: Vec<char> = secret.chars().collect();
        if chars.iter().all(char::is_ascii_digit) {
            all.push(secret);
        } else {
            all.extend(chars.windows(6).map(|w| w.iter().collect::<String>()));
        }
    }
    all
}

/// Runs under GitHub Actions with runner files, and scans streams and files.
fn sweep(cmd: &mut assert_cmd::Command, dir: &Path) -> Run {
    let output = dir.join("output");
    let summary = dir.join("summary");
    github_env(cmd).env("GITHUB_OUTPUT", &output).env("GITHUB_STEP_SUMMARY", &summary);
    let out = run(cmd);
    out.assert_clean(&fragments());
    for (name, file) in [("GITHUB_OUTPUT", &output), ("GITHUB_STEP_SUMMARY", &summary)] {
        let text = read(file);
        for secret in fragments() {
            assert!(!text.contains(&secret), "{name} leaks {secret:?}:\n{text}");
        }
    }
    out
}

/// Runs outside GitHub and scans both streams.
fn plain(cmd: &mut assert_cmd::Command) -> Run {
    let out = run(cmd);
    out.assert_clean(&fragments());
    out
}

#[test]
fn sending_with_providers_that_echo_secrets_leaks_nothing() {
    for status in [200, 400, 500] {
        let server = echoing_server(status);
        let dir = tempfile::tempdir().unwrap();
        let out = sweep(onfail().arg("send").args(all_channels(&server)).args(["--retries", "1"]), dir.path());
        assert!(out.code == 0 || out.code == 1, "HTTP {status}: {}", out.stderr);
        assert!(!read(&dir.path().join("summary")).is_empty(), "the summary is written");
        let out = plain(onfail().arg("send").args(all_channels(&server)).args(["--retries", "0", "--output", "json"]));
        assert!(out.stdout.contains("\"channels\""));
    }
}

#[test]
fn dry_runs_and_checks_leak_nothing() {
    let server = echoing_server(400);
    let dir = tempfile::tempdir().unwrap();
    for extra in [vec!["send", "--dry-run"], vec!["send", "--dry-run", "--output", "json"], vec!["check"]] {
        let out = sweep(onfail().args(&extra).args(all_channels(&server)), dir.path());
        assert_eq!(out.code, 0, "{extra:?}: {}", out.stderr);
        plain(onfail().args(&extra).args(all_channels(&server)));
    }
    let out = sweep(onfail().args(["check", "--online"]).args(all_channels(&server)), dir.path());
    assert_eq!(out.code, 1, "a refused balance check fails: {}", out.stderr);
    assert!(server.received().iter().all(|r| r.path.contains("get-balance")), "check sends no alert");
}

#[test]
fn run_leaks_nothing_even_when_the_command_prints_secrets() {
    let server = echoing_server(500);
    let dir = tempfile::tempdir().unwrap();
    let script = format!("echo {}; exit 3", sentinels().join(" "));
    let mut cmd = onfail();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default()).arg("run").args(all_channels(&server)).args([
        "--retries",
        "0",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let output = github_env(&mut cmd)
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    // stdout is the command's own output, passed through; everything onfail writes is clean.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("::add-mask::")).collect();
    for secret in fragments() {
        assert!(!shown.iter().any(|l| l.contains(&secret)), "stderr leaks {secret:?}:\n{stderr}");
        for file in ["output", "summary"] {
            assert!(!read(&dir.path().join(file)).contains(&secret), "{file} leaks {secret:?}");
        }
    }
    // What the providers received: the tail and the command line are redacted before sending.
    for request in server.received() {
        let body = without_own_credentials(&request.path, &String::from_utf8_lossy(&request.body));
        for secret in fragments() {
            assert!(!body.contains(&secret), "{} received {secret:?} from the command:\n{body}", request.path);
        }
    }
}

/// A provider legitimately receives its own credential (iletiMerkezi's key and hash and
/// PagerDuty's routing key go in the body) and its own recipients; any other secret in a body
/// came from the command.
fn without_own_credentials(path: &str, body: &str) -> String {
    let own: Vec<String> = if path.contains("send-sms") {
        vec![SMS_KEY.into(), SMS_HASH.into(), format!("90{SMS_PHONE}")]
    } else if path.contains("v2/enqueue") {
        vec![PAGERDUTY_KEY.into()]
    } else if path.contains("webhook/receive") {
        vec![VOICE_PHONE.into()]
    } else {
        vec![]
    };
    own.iter().fold(body.to_string(), |body, value| body.replace(value.as_str(), ""))
}

#[test]
fn every_configuration_error_leaks_nothing() {
    let server = echoing_server(200);
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["--phone-numbers".into(), format!("{VOICE_PHONE}, 21{SMS_PHONE}")],
        vec!["--sms-phone-numbers".into(), format!("+44{SMS_PHONE}")],
        vec!["--webhook-headers".into(), format!("Bad Header: {HEADER_VALUE}")],
        vec!["--webhook-headers".into(), format!("X-Ok: {HEADER_VALUE}\rinjected")],
        vec!["--webhook-secret".into(), format!("whsec_{HOOK_SECRET}!!")],
        vec!["--webhook-url".into(), format!("http://example.com/{HOOK_PATH}?t={HOOK_QUERY}")],
        vec!["--temperstack-url".into(), format!("http://example.com/api/integration/webhook/{INCIDENT_KEY}")],
        vec!["--alertalk-url".into(), format!("not a url {ALERTALK_KEY}")],
        vec!["--pagerduty-routing-key".into(), format!("{PAGERDUTY_KEY}\n{PAGERDUTY_KEY}")],
        vec!["--incidentio-token".into(), format!("Bearer {INCIDENTIO_TOKEN}")],
        vec!["--incidentio-url".into(), format!("http://example.com/v2/alert_events/http/{INCIDENTIO_SOURCE}")],
        vec!["--grafana-irm-url".into(), format!("ftp://example.com/formatted_webhook/{GRAFANA_TOKEN}/")],
        vec!["--message".into(), format!("{{nope}} {SMS_KEY}")],
        vec!["--sms-sender".into(), "TOO-LONG-SENDER".into()],
    ];
    for case in cases {
        // The bad value replaces the good one for the same flag.
        let mut cmd = onfail();
        cmd.arg("send");
        let mut base = all_channels(&server);
        if let Some(at) = base.iter().position(|a| *a == case[0]) {
            base.drain(at..at + 2);
        }
        cmd.args(base).args(&case);
        let out = sweep(&mut cmd, dir.path());
        assert_eq!(out.code, 2, "{:?}: {}", case[0], out.stderr);
    }
    assert!(server.received().is_empty(), "no configuration error sends anything");
}

#[test]
fn deadline_and_connection_failures_leak_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hang = Server::new(vec![], Reply::Hang);
    let out = sweep(onfail().arg("send").args(all_channels(&hang)).args(["--timeout", "1s"]), dir.path());
    assert_eq!(out.code, 1, "{}", out.stderr);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let out = sweep(onfail().arg("send").args(channels_at(&base)).args(["--retries", "1"]), dir.path());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
}
