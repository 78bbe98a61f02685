//! Fault injection: every channel against a server that misbehaves in each way a real network
//! or provider can. Each case must end in a clear result with the right retry behaviour, within
//! the deadline, without a panic.

use std::time::Duration;

use crate::common::{
    GRAFANA_TOKEN, INCIDENTIO_TOKEN, KEY, PAGERDUTY_KEY, PHONES, Reply, Run, Server, TEMPERSTACK_KEY, onfail, run,
};

/// How to aim one channel at a base URL, and how it judges an answer.
struct Target {
    channel: &'static str,
    args: fn(&str) -> Vec<String>,
    /// Whether a 2xx status alone means delivered (true), or the body decides (false).
    status_decides: bool,
    /// Whether the provider deduplicates a repeat, so a request that got no answer is sent
    /// again; a call is sent again only when it surely did not arrive (docs/delivery.md, "Delivery").
    repeat_safe: bool,
}

fn targets() -> Vec<Target> {
    vec![
        Target {
            channel: "voice",
            args: |base| {
                [
                    "--alertalk-webhook-key",
                    KEY,
                    "--phone-numbers",
                    PHONES[0],
                    "--alertalk-url",
                    &format!("{base}/webhook"),
                ]
                .map(String::from)
                .to_vec()
            },
            status_decides: true,
            repeat_safe: false,
        },
        Target {
            channel: "temperstack",
            args: |base| vec!["--temperstack-url".into(), format!("{base}/api/integration/webhook/{TEMPERSTACK_KEY}")],
            status_decides: true,
            repeat_safe: true,
        },
    ]
}

const TIMEOUT: &str = "3s";

/// Sends through `target` only, with a 3 s deadline and 2 retries.
fn send(target: &Target, base: &str) -> Run {
    let out = run(onfail()
        .args(["send", "--timeout", TIMEOUT, "--retries", "2", "--output", "json"])
        .args((target.args)(base)));
    assert!(out.code == 0 || out.code == 1, "{}: exit {}\n{}", target.channel, out.code, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}: {}", target.channel, out.stderr);
    // The deadline is 3 s; "no hang" means well before the next multiple of it.
    assert!(out.elapsed < Duration::from_secs(9), "{}: took {:?}", target.channel, out.elapsed);
    out
}

fn channel(out: &Run) -> serde_json::Value {
    out.json()["channels"][0].clone()
}

/// Asserts a failure whose detail mentions one of `words`, after `attempts` attempts.
fn assert_failed(target: &Target, out: &Run, attempts: u64, words: &[&str]) {
    let channel = channel(out);
    assert_eq!(channel["result"], "failed", "{}: {channel}", target.channel);
    assert_eq!(out.code, 1);
    assert_eq!(channel["attempts"], attempts, "{}: {channel}", target.channel);
    let detail = channel["detail"].as_str().unwrap_or_default().to_lowercase();
    assert!(words.iter().any(|w| detail.contains(w)), "{}: detail {detail:?} lacks {words:?}", target.channel);
}

#[test]
fn connection_refused_is_retried_then_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for target in targets() {
        let out = send(&target, &format!("http://127.0.0.1:{port}"));
        assert_failed(&target, &out, 3, &["could not connect"]);
    }
}

#[test]
fn a_name_that_does_not_resolve_fails_clearly() {
    for target in targets() {
        let out = send(&target, "https://onfail-fault-test.invalid");
        assert_failed(&target, &out, 3, &["could not connect", "dns", "resolve"]);
    }
}

/// After the request went out, a lost answer is retried only where a repeat is harmless.
fn attempts_after_a_lost_answer(target: &Target) -> u64 {
    if target.repeat_safe { 3 } else { 1 }
}

#[test]
fn garbage_instead_of_http_is_retried_only_where_a_repeat_is_harmless() {
    for target in targets() {
        let server = Server::new(vec![], Reply::Raw(b"\x00\x01 certainly not HTTP\r\n\r\n".to_vec()));
        let out = send(&target, &server.url(""));
        let attempts = attempts_after_a_lost_answer(&target);
        assert_failed(&target, &out, attempts, &["request failed", "invalid", "parse"]);
        assert_eq!(server.received().len() as u64, attempts);
    }
}

#[test]
fn a_connection_closed_without_an_answer_is_retried_only_where_a_repeat_is_harmless() {
    for target in targets() {
        let server = Server::new(vec![], Reply::Close);
        let out = send(&target, &server.url(""));
        let attempts = attempts_after_a_lost_answer(&target);
        assert_failed(&target, &out, attempts, &["request failed", "closed", "connection"]);
    }
}

#[test]
fn slow_headers_hit_the_deadline() {
    for target in targets() {
        let server = Server::new(vec![], Reply::SlowHead(Duration::from_millis(300)));
        let out = send(&target, &server.url(""));
        // A request the provider deduplicates waits two thirds of --timeout, a retry the rest;
        // a call waits until the deadline, once (docs/delivery.md, "Delivery").
        let attempts = channel(&out)["attempts"].as_u64().unwrap_or_default();
        match target.repeat_safe {
            true => assert!(attempts >= 2, "{}: {attempts} attempts", target.channel),
            false => assert_eq!(attempts, 1, "{}", target.channel),
        }
        assert_failed(&target, &out, attempts, &["no answer within"]);
    }
}

/// After a 2xx status line the provider has the request. A channel decided by status reports it
/// delivered with a warning instead of retrying (which could page twice); a channel decided by
/// the body fails or retries, but always clearly and in time.
fn assert_cut_off_answer(target: &Target, out: &Run) {
    let channel = channel(out);
    if target.status_decides {
        assert_eq!(channel["result"], "sent", "{}: {channel}", target.channel);
        assert_eq!(channel["attempts"], 1);
        let warnings = channel["warnings"].to_string();
        assert!(warnings.contains("cut off after HTTP 200"), "{}: {channel}", target.channel);
    } else {
        assert_eq!(channel["result"], "failed", "{}: {channel}", target.channel);
        assert!(!channel["detail"].as_str().unwrap_or_default().is_empty());
    }
}

#[test]
fn a_reset_in_the_middle_of_the_answer() {
    for target in targets() {
        let server = Server::new(vec![], Reply::ResetMidBody);
        let out = send(&target, &server.url(""));
        assert_cut_off_answer(&target, &out);
    }
}

#[test]
fn a_slow_body_is_cut_at_the_deadline() {
    for target in targets() {
        let server = Server::new(vec![], Reply::SlowBody(Duration::from_millis(200)));
        let out = send(&target, &server.url(""));
        assert_cut_off_answer(&target, &out);
    }
}

#[test]
fn truncated_json_is_handled() {
    for target in targets() {
        let truncated = b"HTTP/1.1 200 OK\r\nContent-Length: 80\r\n\r\n{\"message\":\"1 ca".to_vec();
        let server = Server::new(vec![], Reply::Raw(truncated));
        let out = send(&target, &server.url(""));
        assert_cut_off_answer(&target, &out);
    }
}

#[test]
fn a_200_that_is_not_json_is_judged_by_the_status() {
    for target in targets() {
        let server = Server::new(vec![], Reply::Respond { status: 200, headers: vec![], body: b"OK".to_vec() });
        let out = send(&target, &server.url(""));
        let channel = channel(&out);
        let expected = if target.status_decides { "sent" } else { "failed" };
        assert_eq!(channel["result"], expected, "{}: {channel}", target.channel);
    }
}

/// A proxy's or captive portal's login page, answered with 200 in the provider's place.
fn login_page(status: u16, content_type: Option<&str>) -> Reply {
    let body =
        "\n<!DOCTYPE html>\n<html><head><title>Sign in - Corporate Proxy</title></head><body>Log in</body></html>";
    let headers = content_type.map(|t| vec![("Content-Type".to_string(), t.to_string())]).unwrap_or_default();
    Reply::Respond { status, headers, body: body.as_bytes().to_vec() }
}

/// Every channel whose provider's success answer can be told from a web page, aimed at `base`.
fn paging_channels(base: &str) -> Vec<(&'static str, Vec<String>)> {
    let strings = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        (
            "voice",
            strings(&[
                "--alertalk-webhook-key",
                KEY,
                "--phone-numbers",
                PHONES[0],
                "--alertalk-url",
                &format!("{base}/webhook"),
            ]),
        ),
        (
            "sms",
            strings(&[
                "--iletimerkezi-key",
                "k-SENTINEL-123",
                "--iletimerkezi-hash",
                "h-SENTINEL-456",
                "--sms-sender",
                "ACME",
                "--phone-numbers",
                PHONES[0],
                "--iletimerkezi-url",
                base,
            ]),
        ),
        ("temperstack", strings(&["--temperstack-url", &format!("{base}/api/integration/webhook/{TEMPERSTACK_KEY}")])),
        (
            "pagerduty",
            strings(&["--pagerduty-routing-key", PAGERDUTY_KEY, "--pagerduty-url", &format!("{base}/v2/enqueue")]),
        ),
        (
            "incidentio",
            strings(&[
                "--incidentio-url",
                &format!("{base}/v2/alert_events/http/01SOURCE"),
                "--incidentio-token",
                INCIDENTIO_TOKEN,
            ]),
        ),
        (
            "grafana-irm",
            strings(&["--grafana-irm-url", &format!("{base}/integrations/v1/formatted_webhook/{GRAFANA_TOKEN}/")]),
        ),
        ("webhook", strings(&["--webhook-url", &format!("{base}/services/T0/B0/x"), "--webhook-format", "slack"])),
        ("webhook", strings(&["--webhook-url", &format!("{base}/api/webhooks/1/x"), "--webhook-format", "discord"])),
    ]
}

#[test]
fn a_login_page_answering_2xx_is_never_a_delivered_page() {
    // Known by its Content-Type, or by its body alone; with 202, PagerDuty's own status, too.
    for (status, content_type) in [(200, Some("text/html; charset=utf-8")), (200, None), (202, None)] {
        for index in 0..paging_channels("").len() {
            let server = Server::new(vec![], login_page(status, content_type));
            let (name, args) = paging_channels(&server.url("")).swap_remove(index);
            let out =
                run(onfail().args(["send", "--timeout", TIMEOUT, "--retries", "1", "--output", "json"]).args(&args));
            let channel = channel(&out);
            assert_eq!(out.code, 1, "{name} {status} {content_type:?}: {}", out.stderr);
            assert_eq!(channel["result"], "failed", "{name}: {channel}");
            let detail = channel["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(&format!("HTTP {status} with a web page titled \"Sign in - Corporate Proxy\""))
                    && detail.contains("HTTPS_PROXY"),
                "{name}: {detail}"
            );
        }
    }
}

#[test]
fn an_api_answer_labelled_text_html_is_still_the_apis() {
    // Many servers label every answer text/html; only a body that is a page is one.
    for target in targets() {
        for body in [r#"{"message":"1 call(s) queued","status":"success"}"#, ""] {
            let headers = vec![("Content-Type".to_string(), "text/html; charset=UTF-8".to_string())];
            let server = Server::new(vec![], Reply::Respond { status: 200, headers, body: body.as_bytes().to_vec() });
            let out = send(&target, &server.url(""));
            assert_eq!(channel(&out)["result"], "sent", "{} {body:?}: {}", target.channel, out.stderr);
        }
    }
}

#[test]
fn a_web_page_from_your_own_webhook_receiver_is_delivered_with_a_warning() {
    let server = Server::new(vec![], login_page(200, Some("text/html")));
    let out = run(onfail().args(["send", "--output", "json", "--webhook-url", &server.url("/hook")]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let channel = channel(&out);
    assert_eq!(channel["result"], "sent", "{channel}");
    assert!(channel["warnings"].to_string().contains("login page, the alert did not arrive"), "{channel}");
}

#[test]
fn a_huge_answer_is_not_read_to_the_end() {
    const SIZE: u64 = 200 * 1024 * 1024;
    for target in targets() {
        let server = Server::new(vec![], Reply::Huge(SIZE));
        let out = send(&target, &server.url(""));
        assert!(out.code == 0 || out.code == 1);
        // onfail reads 64 KiB and hangs up; socket buffers absorb a few MiB at most.
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            server.huge_written() < SIZE / 4,
            "{}: the server wrote {} bytes",
            target.channel,
            server.huge_written()
        );
    }
}
