//! A faithful dry run: for every channel, and for a `--webhook-body` template, the body that
//! `--dry-run` prints is the body a real send delivers, byte for byte, apart from:
//! - the secrets and phone numbers, which the dry run shows redacted (`***`, `5*******67`): the
//!   received bytes are redacted the same way before comparing;
//! - RFC 3339 times (`{time}`, the webhook's `timestamp`) and the webhook's `webhook-id` and
//!   `webhook-timestamp` headers, which belong to the moment and the process that sends: they
//!   are masked in both before comparing.

use crate::common::{KEY, PHONES, Reply, Server, TEMPERSTACK_KEY, onfail, run};

const HASH: &str = "ih-SENTINEL-hash-0c41e2";

const SMS_ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"OK"},"order":{"id":"4242"}}}"#;

/// Text with quotes, a slash, Turkish letters and markup, so any re-encoding would show.
const MESSAGE: &str = r#"Deploy "api" failed: şğüİ / <b>&</b> \o/ on {hostname}"#;

/// A template whose spacing, key order and numbers a re-serialiser would change.
const TEMPLATE: &str = "{\"z\": 1.50, \"a\": \"{title}\",\n  \"n\": 1e2, \"m\": \"{message}\", \"t\": [true, null]}";

fn masked(national: &str) -> String {
    format!("{}*******{}", &national[..1], &national[8..])
}

/// The received bytes as the dry run shows them: secrets and numbers redacted.
fn as_shown(received: &[u8]) -> String {
    let mut text = String::from_utf8(received.to_vec()).expect("the body is UTF-8");
    for secret in [KEY, HASH] {
        text = text.replace(secret, "***");
    }
    for national in PHONES {
        text = text.replace(&format!("90{national}"), &masked(national)).replace(national, &masked(national));
    }
    text
}

/// Every RFC 3339 time (`2024-01-02T03:04:05Z`) replaced by `<time>`.
fn mask_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:ddZ";
    let fits =
        |window: &[u8]| window.iter().zip(SHAPE).all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s });
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.len() - at >= SHAPE.len() && fits(&bytes[at..at + SHAPE.len()]) {
            out.extend_from_slice(b"<time>");
            at += SHAPE.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn args(server: &Server, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["send", "--message", MESSAGE, "--title", "Deploy {status}: \"api\" şğü"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.replace("{server}", &server.url(""))));
    args
}

/// The channel, headers and body of each request a dry run of `args` prints, from its JSON
/// document; and checks that the text output prints each body the same, whole, on its own.
fn dry_run(args: &[String]) -> Vec<(String, serde_json::Value, String)> {
    let out = run(onfail().args(args).args(["--dry-run", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.assert_clean(&[HASH.to_string()]);
    let shown: Vec<_> = out.json()["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let request = &c["request"];
            (
                c["channel"].as_str().unwrap().to_string(),
                request["headers"].clone(),
                request["body"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let text = run(onfail().args(args).arg("--dry-run"));
    assert_eq!(text.code, 0, "{}", text.stderr);
    text.assert_clean(&[HASH.to_string()]);
    // Two processes, two moments: a second may tick between them (the webhook's `timestamp`).
    let stdout = mask_times(&text.stdout);
    for (channel, _, body) in &shown {
        assert!(
            stdout.contains(&format!("\n\n{}\n", mask_times(body))),
            "{channel}: the text output shows another body:\n{}",
            text.stdout
        );
    }
    shown
}

/// Sends `args` for real to `server` and compares each received request with its dry run.
fn compare(server: &Server, args: &[String], paths: &[(&str, &str)]) {
    let shown = dry_run(args);
    assert!(server.received().is_empty(), "the dry run sent something");
    let out = run(onfail().args(args));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let received = server.wait_for(paths.len());
    assert_eq!(shown.len(), paths.len(), "{shown:?}");
    for (channel, headers, body) in shown {
        let path = paths.iter().find(|(c, _)| *c == channel).map(|(_, p)| *p).expect("a path per channel");
        let request =
            received.iter().find(|r| r.path == path).unwrap_or_else(|| panic!("{channel}: nothing at {path}"));
        assert_eq!(
            mask_times(&body),
            mask_times(&as_shown(&request.body)),
            "{channel}: the dry run shows another body"
        );
        for (name, value) in headers.as_object().unwrap() {
            let sent = request.header(name).unwrap_or_else(|| panic!("{channel}: {name} was not sent"));
            match (name.as_str(), value.as_str().unwrap()) {
                (_, "***") => assert_ne!(sent, "***", "{channel}: {name}"),
                ("webhook-id" | "webhook-timestamp", _) => {}
                (_, shown) => assert_eq!(sent, shown, "{channel}: {name}"),
            }
        }
    }
}

#[test]
fn every_channel_prints_the_body_it_sends() {
    // PagerDuty takes an event with 202 and its own "success" (docs/delivery.md, "Delivery").
    let server = Server::routed(|request| match request.path.as_str() {
        "/v2/enqueue" => Reply::json(202, r#"{"status":"success","message":"Event processed"}"#),
        _ => Reply::json(200, SMS_ACCEPTED),
    });
    let temperstack = format!("/api/integration/webhook/{TEMPERSTACK_KEY}");
    let grafana = format!("/integrations/v1/formatted_webhook/{TEMPERSTACK_KEY}/");
    let args = args(
        &server,
        &[
            "--phone-numbers",
            &format!("+90 {}, 0{}", PHONES[0], PHONES[1]),
            "--alertalk-webhook-key",
            KEY,
            "--alertalk-url",
            "{server}/webhook/receive",
            "--iletimerkezi-key",
            KEY,
            "--iletimerkezi-hash",
            HASH,
            "--sms-sender",
            "ACME",
            "--iletimerkezi-url",
            "{server}",
            "--temperstack-url",
            &format!("{{server}}{temperstack}"),
            "--priority",
            "medium",
            "--runbook-url",
            "https://wiki.example.com/run?x=1&y=ş",
            "--pagerduty-routing-key",
            KEY,
            "--pagerduty-url",
            "{server}/v2/enqueue",
            "--incidentio-url",
            "{server}/v2/alert_events/http/01HSOURCE",
            "--incidentio-token",
            KEY,
            "--grafana-irm-url",
            &format!("{{server}}{grafana}"),
            "--webhook-url",
            "{server}/hook",
            "--webhook-headers",
            &format!("Authorization: APIKEY {KEY}\nX-Team: on-call"),
            "--webhook-secret",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ],
    );
    let paths = [
        ("voice", "/webhook/receive"),
        ("sms", "/v1/send-sms/json"),
        ("temperstack", temperstack.as_str()),
        ("pagerduty", "/v2/enqueue"),
        ("incidentio", "/v2/alert_events/http/01HSOURCE"),
        ("grafana-irm", grafana.as_str()),
        ("webhook", "/hook"),
    ];
    compare(&server, &args, &paths);
}

#[test]
fn a_webhook_body_template_prints_as_rendered() {
    let server = Server::ok("{}");
    let args = args(&server, &["--webhook-url", "{server}/hook", "--webhook-body", TEMPLATE]);
    compare(&server, &args, &[("webhook", "/hook")]);
    // The numbers and the spacing are the user's, not a re-serialiser's.
    let body = String::from_utf8(server.received()[0].body.clone()).unwrap();
    assert!(body.starts_with("{\"z\": 1.50, \"a\": \"Deploy failure"), "{body}");
    assert!(body.contains(",\n  \"n\": 1e2, \"m\": "), "{body}");
}

#[test]
fn chat_formats_print_as_sent() {
    for format in ["slack", "discord"] {
        let server = Server::ok("{}");
        let args = args(&server, &["--webhook-url", "{server}/hook", "--webhook-format", format]);
        compare(&server, &args, &[("webhook", "/hook")]);
    }
}

/// Credentials too short to sweep from every text are still hidden where a body holds them
/// whole (docs/security.md): a dry run never shows a key, however short.
#[test]
fn a_dry_run_hides_short_credentials_in_bodies() {
    let out = run(onfail().env_clear().args([
        "send",
        "--dry-run",
        "--phone-numbers",
        PHONES[0],
        "--sms-sender",
        "ACME",
        "--iletimerkezi-key",
        "q7",
        "--iletimerkezi-hash",
        "z",
        "--pagerduty-routing-key",
        "rk3",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    for secret in ["\"q7\"", "\"z\"", "\"rk3\""] {
        assert!(!all.contains(secret), "{secret} shown: {all}");
    }
    assert!(all.contains(r#""authentication":{"key":"***","hash":"***"}"#), "{all}");
    assert!(all.contains(r#""routing_key":"***""#), "{all}");
}
