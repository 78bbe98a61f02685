//! The leak sweep: every mode and every error path, with every channel configured from sentinel
//! secrets and numbers. None may appear in stdout, stderr (outside the `::add-mask::` lines the
//! runner consumes), `$GITHUB_OUTPUT` or `$GITHUB_STEP_SUMMARY`, even when a provider echoes
//! them back: URL-encoded, JSON-escaped, cut at any length, or (numbers) written with
//! separators. Every output is also read decoded, so an encoded echo counts as a leak.

use std::path::Path;

use crate::common::{Reply, Run, Server, github_env, onfail, read, run};

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
/// The password in the webhook URL's userinfo, percent-encoded as written there...
const URL_PASSWORD: &str = "uF3hJ8%40kL2mN5bV9";
/// ... and as it reads decoded.
const URL_PASSWORD_DECODED: &str = "uF3hJ8@kL2mN5bV9";
/// The password in `--alert-url`, a link that is otherwise shown.
const LINK_PASSWORD: &str = "lR7tW2yQ9pE4uI6oA3";
/// A header value with the characters that JSON escapes: `/`, `"` and `\`.
const QUOTED_VALUE: &str = r#"gT6/yH2"jK8\lM4nB7"#;
/// `--server-token`: the `onfail serve` API token.
const SERVER_TOKEN: &str = "sV4bN8mQ1wE5rT9yU2";
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
        URL_PASSWORD,
        URL_PASSWORD_DECODED,
        LINK_PASSWORD,
        QUOTED_VALUE,
        SERVER_TOKEN,
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
        "--alert-url".into(),
        format!("https://viewer:{LINK_PASSWORD}@dash.example/alerts"),
        "--webhook-url".into(),
        format!("{}/hooks/{HOOK_PATH}?token={HOOK_QUERY}", base.replace("://", &format!("://hook:{URL_PASSWORD}@"))),
        "--webhook-headers".into(),
        format!("Authorization: APIKEY {HEADER_VALUE}\nX-Signature: {QUOTED_VALUE}"),
        "--webhook-secret".into(),
        HOOK_SECRET.into(),
        "--server".into(),
        base.into(),
        "--server-token".into(),
        SERVER_TOKEN.into(),
    ]
}

/// A provider that echoes every secret back in an error, each one several times at shifting
/// offsets, so that wherever a channel shortens the answer it cuts through a secret; and then
/// each secret in every other spelling: percent-encoded, form-encoded, `\uXXXX` for every
/// character, JSON-escaped inside JSON, and each number with separators.
fn echoing_server(status: u16) -> Server {
    let mut echo = String::from("bad");
    for pad in 0..12 {
        for secret in words() {
            echo.push_str(&format!(" {}{secret}", "-".repeat(pad)));
        }
    }
    echo.push_str(&format!(" {}", sentinels().join(" ")));
    for secret in words() {
        echo.push_str(&format!(" {} {}", percent(&secret, false), percent(&secret, true)));
        let unicode: String = secret.chars().map(|c| format!("\\u{:04x}", u32::from(c))).collect();
        echo.push_str(&format!(" {unicode} {}", serde_json::to_string(&secret).unwrap().replace('/', "\\/")));
    }
    for n in [VOICE_PHONE, SMS_PHONE] {
        let (a, b, c, d) = (&n[..3], &n[3..6], &n[6..8], &n[8..]);
        echo.push_str(&format!(" +90 {a} {b} {c} {d}, 0({a}) {b}-{c}-{d}, 0{a}.{b}.{c}.{d}, 90 {a} {b}{c}{d}"));
    }
    Server::new(vec![], Reply::json(status, &serde_json::json!({ "error": echo }).to_string()))
}

/// The sentinels that are not bare numbers.
fn words() -> Vec<String> {
    sentinels().into_iter().filter(|s| !s.chars().all(|c| c.is_ascii_digit())).collect()
}

/// Every byte as `%XX`; with `form`, letters and digits as they are and a space as `+`.
fn percent(text: &str, form: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b' ' if form => "+".to_string(),
            b if form && b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The ways a reader could decode `text`: as it is, percent-decoded, JSON-unescaped (once and
/// twice), and without separators, NULs and replacement characters (a number written
/// `+90 545 …`, UTF-16 read as UTF-8). A secret in any of them is a leak.
fn readings(text: &str) -> Vec<String> {
    let once = unescape_json(text);
    let flat: String = text.chars().filter(|c| !" ().-\0\u{FFFD}".contains(*c)).collect();
    vec![text.to_string(), unpercent(text), unescape_json(&once), once, flat]
}

fn unpercent(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |at: usize| bytes.get(at..at + 2).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1)) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unescape_json(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Fails if `text`, read any way, holds a fragment of a secret.
fn assert_no_leak(name: &str, text: &str) {
    for reading in readings(text) {
        for secret in fragments() {
            assert!(!reading.contains(&secret), "{name} leaks {secret:?}:\n{text}");
        }
    }
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
    let out = plain(cmd);
    for (name, file) in [("GITHUB_OUTPUT", &output), ("GITHUB_STEP_SUMMARY", &summary)] {
        assert_no_leak(name, &read(file));
    }
    out
}

/// Runs and scans both streams (outside the `::add-mask::` lines the runner consumes).
fn plain(cmd: &mut assert_cmd::Command) -> Run {
    let out = run(cmd);
    let (stdout, stderr) = out.shown();
    assert_no_leak("stdout", &stdout);
    assert_no_leak("stderr", &stderr);
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
    let script = format!("echo '{}'; exit 3", sentinels().join(" "));
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
    assert_no_leak("stderr", &shown.join("\n"));
    for file in ["output", "summary"] {
        assert_no_leak(file, &read(&dir.path().join(file)));
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
        vec![PAGERDUTY_KEY.into(), LINK_PASSWORD.into()]
    } else if path.contains("webhook/receive") {
        vec![VOICE_PHONE.into()]
    } else if [INCIDENT_KEY, INCIDENTIO_SOURCE, GRAFANA_TOKEN].iter().any(|key| path.contains(key)) {
        // The user's own `--alert-url`, password and all, is the link an incident platform is given.
        vec![LINK_PASSWORD.into()]
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
        vec!["--server".into(), format!("http://example.com/{HOOK_PATH}?t={SERVER_TOKEN}")],
        vec!["--server-token".into(), format!("{SERVER_TOKEN}\n{SERVER_TOKEN}")],
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

#[test]
fn url_passwords_are_masked_for_the_runner() {
    let server = echoing_server(200);
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(onfail().arg("send").args(all_channels(&server)).args(["--dry-run"]), dir.path());
    for password in [URL_PASSWORD, URL_PASSWORD_DECODED, LINK_PASSWORD] {
        // Workflow command data is escaped: the runner reads `%25` as `%`.
        let line = format!("::add-mask::{}\n", password.replace('%', "%25"));
        assert!(out.stderr.contains(&line), "{password} is not masked:\n{}", out.stderr);
    }
}

/// A number in the `+90 545 111 22 33` layout, for cuts that fall inside it.
fn spaced(number: &str) -> String {
    format!("+90 {} {} {} {}", &number[..3], &number[3..6], &number[6..8], &number[8..])
}

#[test]
fn redaction_comes_before_the_cut_of_a_tail_line() {
    let server = Server::ok("{}");
    // The secret starts 8 characters before the 500-character cut, the number 6 before it.
    let script = format!(
        "echo '{}{ALERTALK_KEY} end'; echo '{}{} end'; exit 3",
        "x".repeat(492),
        "y".repeat(494),
        spaced(VOICE_PHONE)
    );
    let mut cmd = onfail();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default()).args([
        "run",
        "--webhook-url",
        &server.url("/hook"),
        "--alertalk-webhook-key",
        ALERTALK_KEY,
        "--alertalk-url",
        &server.url("/webhook/receive"),
        "--phone-numbers",
        VOICE_PHONE,
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert_eq!(cmd.output().unwrap().status.code(), Some(3));
    let hooks: Vec<_> = server.received().into_iter().filter(|r| r.path == "/hook").collect();
    assert_eq!(hooks.len(), 1);
    for request in hooks {
        let body = String::from_utf8_lossy(&request.body);
        assert_no_leak("the alert", &body);
        let number = &spaced(VOICE_PHONE)[..9];
        assert!(!body.contains(number), "the alert holds part of a number ({number}):\n{body}");
    }
}

#[test]
fn redaction_comes_before_the_cut_of_a_provider_answer() {
    // The 200-character excerpt ends 6 characters into a number, and, in an answer that is not
    // UTF-8 (so it cannot be scrubbed as text), 8 characters into a secret.
    let number = format!("{} {} end", "e".repeat(193), spaced(SMS_PHONE));
    let mut latin1 = b"\xe9".to_vec();
    latin1.extend(format!("{}{HOOK_SECRET} end", "e".repeat(191)).as_bytes());
    let utf16: Vec<u8> = format!("bad key {SMS_KEY}").encode_utf16().flat_map(u16::to_le_bytes).collect();
    for body in [number.into_bytes(), latin1, utf16] {
        let server = Server::new(vec![], Reply::Respond { status: 400, headers: vec![], body });
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = onfail();
        cmd.args(["send", "--webhook-url", &server.url("/hook"), "--webhook-secret", HOOK_SECRET]).args([
            "--iletimerkezi-key",
            SMS_KEY,
            "--iletimerkezi-hash",
            SMS_HASH,
            "--iletimerkezi-url",
            &server.url(""),
            "--sms-sender",
            "ONFAIL",
            "--phone-numbers",
            SMS_PHONE,
        ]);
        let out = sweep(&mut cmd, dir.path());
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains("rejected the request (HTTP 400)"), "{}", out.stderr);
        let part = &spaced(SMS_PHONE)[..6];
        assert!(!out.stderr.contains(part), "part of a number ({part}) survived the cut:\n{}", out.stderr);
    }
}

#[test]
fn numbers_written_with_separators_are_masked() {
    let (a, b, c, d) = (&VOICE_PHONE[..3], &VOICE_PHONE[3..6], &VOICE_PHONE[6..8], &VOICE_PHONE[8..]);
    let forms =
        [spaced(VOICE_PHONE), format!("0({a}) {b}-{c}-{d}"), format!("0{a}.{b}.{c}.{d}"), format!("90 {a} {b}{c}{d}")];
    let server = echoing_server(400);
    let dir = tempfile::tempdir().unwrap();
    let message = format!("call {} now", forms.join(" or "));
    for extra in [vec!["--dry-run"], vec!["--dry-run", "--output", "json"], vec!["--retries", "0"]] {
        let out = sweep(
            onfail().arg("send").args(all_channels(&server)).args(["--message", &message]).args(&extra),
            dir.path(),
        );
        for form in &forms {
            assert!(
                !out.stdout.contains(form.as_str()) && !out.stderr.contains(form.as_str()),
                "{form} shown:\n{}",
                out.stdout
            );
        }
    }
    let out = run(onfail()
        .args(["send", "--dry-run", "--webhook-url", &server.url("/h"), "--phone-numbers", VOICE_PHONE])
        .args(["--message", &message]));
    assert_eq!(out.stdout.matches("5*******33").count(), 4, "{}", out.stdout);
}

/// clap quotes an unexpected argument whole, before onfail knows which values are secrets: a key
/// that lands where no option takes it (`--message hi $KEY`, a misspelled flag before it) must
/// not be printed, from the command line or from an `ONFAIL_*` variable.
#[test]
fn a_usage_error_quoting_an_argument_leaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["send", "--message", "hi", ALERTALK_KEY],
        vec!["send", "--alertalk-webhok-key", ALERTALK_KEY],
        vec!["run", "--phone-numbrs=05321234567", "--", "true"],
    ] {
        let out = sweep(onfail().args(&args).env("ONFAIL_WEBHOOK_SECRET", HOOK_SECRET), dir.path());
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("unexpected argument"), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("5321234567"), "no mask line names a guess either: {}", out.stderr);
    }
}

#[test]
fn the_basic_credential_a_url_password_becomes_is_a_secret_everywhere() {
    // The HTTP client sends https://user:pass@host as `Authorization: Basic base64(user:pass)`.
    // printf 'deploy:Pa55-w0rd-4-hooks' | base64
    const BASIC: &str = "ZGVwbG95OlBhNTUtdzByZC00LWhvb2tz";
    let echo = Server::routed(|request| {
        let said = request.header("Authorization").unwrap_or_default().to_string();
        Reply::json(400, &serde_json::json!({ "error": format!("bad credentials {said}"), "raw": said }).to_string())
    });
    let url = echo.url("/hook").replace("http://", "http://deploy:Pa55-w0rd-4-hooks@");
    for dry_run in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = onfail();
        cmd.args(["send", "--webhook-url", &url, "--retries", "0", "--output", "json"]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = sweep(&mut cmd, dir.path());
        out.assert_clean(&[BASIC.to_string(), "Pa55-w0rd-4-hooks".to_string()]);
        assert!(out.stderr.contains(&format!("::add-mask::{BASIC}\n")), "not masked for the runner:\n{}", out.stderr);
        let channel = &out.json()["channels"][0];
        if dry_run {
            // The dry run shows the header the client will add, hidden like every secret header.
            assert_eq!(channel["request"]["headers"]["Authorization"], "***", "{channel}");
        } else {
            assert_eq!(out.code, 1, "{}", out.stderr);
            assert!(channel["detail"].as_str().unwrap().contains("bad credentials Basic ***"), "{channel}");
        }
    }
    let sent = echo.received();
    assert_eq!(sent.len(), 1, "the dry run sends nothing");
    assert_eq!(sent[0].header("Authorization"), Some(format!("Basic {BASIC}").as_str()));
    // The text dry run shows it too.
    let out = plain(onfail().args(["send", "--dry-run", "--webhook-url", &url]));
    assert!(out.stdout.contains("Authorization: ***\nContent-Type: application/json\n"), "{}", out.stdout);
}

#[test]
fn a_basic_header_given_by_hand_hides_what_it_decodes_to() {
    // printf 'ops:Secr3t-hdr-pass' | base64
    let header = "Authorization: Basic b3BzOlNlY3IzdC1oZHItcGFzcw==";
    let echo = Server::new(vec![], Reply::json(401, r#"{"error":"user ops, password Secr3t-hdr-pass: denied"}"#));
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(
        onfail().args(["send", "--webhook-url", &echo.url("/hook"), "--webhook-headers", header, "--output", "json"]),
        dir.path(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    out.assert_clean(&["Secr3t-hdr-pass".to_string(), "b3BzOlNlY3IzdC1oZHItcGFzcw==".to_string()]);
    assert!(out.stderr.contains("::add-mask::Secr3t-hdr-pass\n"), "{}", out.stderr);
}
