//! The delivery engine's rules that no single channel owns: how long an attempt may wait, which
//! requests go through a proxy, and which URLs validation lets through.

use std::time::Duration;

use crate::common::{KEY, PHONES, Reply, Server, onfail, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

fn voice(url: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["send", "--alertalk-url", url, "--phone-numbers", PHONES[0]]).env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY);
    cmd
}

#[test]
fn a_slow_provider_that_answers_within_the_deadline_is_sent_the_alert_once() {
    // Past the old 10 s per-attempt cap, well within --timeout: a second request would ring
    // the phones twice.
    let server = Server::new(vec![], Reply::json(200, QUEUED).after(Duration::from_secs(11)));
    let out = run(voice(&server.url("/webhook/receive")).args(["--timeout", "30s"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    assert!(out.stderr.contains("sent after 1 attempt"), "{}", out.stderr);
}

#[test]
fn an_alertalk_answering_after_25s_within_30s_is_called_once() {
    // The first attempt used to wait two thirds of --timeout (20 s), then call again.
    let server = Server::new(vec![], Reply::json(200, QUEUED).after(Duration::from_secs(25)));
    let out = run(voice(&server.url("/webhook/receive")).args(["--timeout", "30s"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.wait_for(2).len(), 1, "the phones rang twice");
    assert!(out.stderr.contains("sent after 1 attempt"), "{}", out.stderr);
}

#[test]
fn a_call_that_was_sent_and_got_no_answer_is_not_sent_again() {
    for reply in [Reply::Hang, Reply::Close, Reply::Raw(b"\x00 not HTTP\r\n\r\n".to_vec())] {
        let server = Server::new(vec![], reply.clone());
        let out =
            run(voice(&server.url("/webhook/receive")).args(["--timeout", "2s", "--retries", "3", "--output", "json"]));
        assert_eq!(out.code, 1, "{reply:?}: {}", out.stderr);
        assert_eq!(server.wait_for(2).len(), 1, "{reply:?}: the call was sent again");
        let detail = out.json()["channels"][0]["detail"].as_str().unwrap_or_default().to_string();
        assert!(detail.starts_with("sent, but no answer came ("), "{detail}");
        assert!(detail.ends_with("so it is not sent again, so that no one is paged twice"), "{detail}");
        // Whether the phone rang is unknown, so the failure is not taken for paged.
        assert_eq!(out.json()["pages"][0]["result"], "unknown", "{}", out.stdout);
        assert_eq!(out.json()["paged"], false);
        assert!(out.elapsed < Duration::from_secs(6), "{reply:?}: took {:?}", out.elapsed);
    }
}

#[test]
fn a_call_that_surely_did_not_arrive_is_retried() {
    // Refused connections and explicit 5xx / 429 answers: the provider has not taken the call.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = run(voice(&format!("http://127.0.0.1:{port}/webhook/receive")).args(["--retries", "2"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("FAILED after 3 attempts") && out.stderr.contains("could not connect"),
        "{}",
        out.stderr
    );
    let server =
        Server::new(vec![Reply::status(503), Reply::status(429).header("Retry-After", "0")], Reply::json(200, QUEUED));
    let out = run(&mut voice(&server.url("/webhook/receive")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
}

#[test]
fn a_call_goes_out_on_a_connection_of_its_own() {
    // A reused connection the server closed while idle could fail the call after it was
    // written, and a call that may have arrived is never sent again.
    let server = Server::ok(QUEUED);
    let out = run(&mut voice(&server.url("/webhook/receive")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received()[0].header("Connection"), Some("close"));
}

#[test]
fn an_incident_platform_that_never_answers_still_gets_its_retries() {
    // PagerDuty folds a repeat into the alert of the same dedup_key, so a lost answer is retried.
    let server = Server::new(vec![], Reply::Hang);
    let out = run(onfail()
        .args(["send", "--pagerduty-url", &server.url("/v2/enqueue"), "--timeout", "3s", "--retries", "3"])
        .env("ONFAIL_PAGERDUTY_ROUTING_KEY", crate::common::PAGERDUTY_KEY));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(server.wait_for(2).len() >= 2, "{} requests", server.received().len());
    assert!(out.stderr.contains("no answer within"), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(8), "took {:?}", out.elapsed);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 10, failure_persistence: None, ..Default::default() })]

    /// Never twice: whenever within the deadline Alertalk answers, it got exactly one request.
    #[test]
    fn a_call_answered_within_the_deadline_is_sent_exactly_once(tenths in 1u64..=8) {
        let delay = Duration::from_millis(400 * tenths);
        let server = Server::new(vec![], Reply::json(200, QUEUED).after(delay));
        let out = run(voice(&server.url("/webhook/receive")).args(["--timeout", "4s"]));
        proptest::prop_assert_eq!(out.code, 0, "answer after {:?}: {}", delay, out.stderr);
        // onfail has exited, so any second request has reached the server by now.
        std::thread::sleep(Duration::from_millis(200));
        proptest::prop_assert_eq!(server.received().len(), 1, "answer after {:?}", delay);
    }
}

#[test]
fn the_last_attempt_gets_all_the_time_left() {
    let server = Server::new(vec![], Reply::json(200, QUEUED).after(Duration::from_millis(2500)));
    let out = run(voice(&server.url("/webhook/receive")).args(["--timeout", "3s", "--retries", "0"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
}

/// Every proxy variable pointing at `proxy`, a server that records what it is handed.
fn through(cmd: &mut assert_cmd::Command, proxy: &Server) {
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        cmd.env(name, proxy.url(""));
    }
}

#[test]
fn loopback_providers_never_go_through_a_proxy() {
    let proxy = Server::ok("{}");
    let provider = Server::ok(QUEUED);
    let localhost = provider.url("/webhook/receive").replace("127.0.0.1", "localhost");
    for url in [provider.url("/webhook/receive"), localhost] {
        let mut cmd = voice(&url);
        through(&mut cmd, &proxy);
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{url}: {}", out.stderr);
    }
    assert_eq!(provider.received().len(), 2);
    assert!(proxy.received().is_empty(), "the proxy was handed {:?}", proxy.received());
}

/// A provider at an address outside 127.0.0.0/8 that nothing answers on (TEST-NET-1).
const REMOTE: &str = "https://192.0.2.1/webhook/receive";

#[test]
fn a_remote_provider_goes_through_the_proxy() {
    // The control for the NO_PROXY test below: without it, the proxy is asked to connect.
    let proxy = Server::new(vec![], Reply::status(502));
    let mut cmd = voice(REMOTE);
    through(&mut cmd, &proxy);
    let out = run(cmd.args(["--timeout", "2s", "--retries", "0"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let asked = proxy.wait_for(1);
    assert_eq!(asked.first().map(|r| r.method.as_str()), Some("CONNECT"), "{asked:?}");
}

#[test]
fn no_proxy_star_turns_proxies_off_for_every_host() {
    for name in ["NO_PROXY", "no_proxy"] {
        let proxy = Server::new(vec![], Reply::status(502));
        let mut cmd = voice(REMOTE);
        through(&mut cmd, &proxy);
        let out = run(cmd.env(name, "example.com, *").args(["--timeout", "1s", "--retries", "0"]));
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(proxy.received().is_empty(), "{name}=*: the proxy was handed {:?}", proxy.received());
    }
}

#[test]
fn an_unusable_proxy_setting_only_warns() {
    let provider = Server::ok(QUEUED);
    let out = run(voice(&provider.url("/webhook/receive")).env("HTTPS_PROXY", "http://[::1"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning: HTTPS_PROXY is not a usable proxy URL"), "{}", out.stderr);
    assert!(!out.stderr.contains("[::1"), "{}", out.stderr);
}

#[test]
fn a_url_the_http_client_would_refuse_is_refused_at_validation() {
    let server = Server::ok("{}");
    let long = server.url(&format!("/{}", "a".repeat(70_000)));
    for mode in [&["check"][..], &["send", "--dry-run"], &["send"]] {
        let out = run(onfail().args(mode).args(["--webhook-url", &long]));
        assert_eq!(out.code, 2, "{mode:?}: {}", out.stderr);
        assert!(out.stderr.contains("--webhook-url: is 70") && out.stderr.contains("at most 65534"), "{}", out.stderr);
        assert!(!out.stderr.contains("aaaaaaaa"), "the URL is not repeated: {}", out.stderr);
    }
    assert!(server.received().is_empty());
}

#[test]
fn a_non_ascii_host_is_refused_with_its_ascii_form_as_the_fix() {
    let out = run(onfail().args(["send", "--webhook-url", "https://şirket.example/hook/SECRETPATH"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--webhook-url: the host name is not ASCII"), "{}", out.stderr);
    assert!(out.stderr.contains("(xn--...)"), "{}", out.stderr);
    assert!(!out.stderr.contains("SECRETPATH"), "the URL is not repeated: {}", out.stderr);
    // The ASCII form of the same name is accepted as it is.
    let out =
        run(onfail().args(["send", "--dry-run", "--webhook-url", "https://xn--irket-idb.example/hook/SECRETPATH"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("POST https://xn--irket-idb.example/***"), "{}", out.stdout);
    let out = run(onfail()
        .args(["send", "--dry-run", "--pagerduty-routing-key", "R0UT1NGKEY0123456789abcdef012345"])
        .args(["--alert-url", "https://şirket.example/run"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--alert-url: the host name is not ASCII"), "{}", out.stderr);
}

#[test]
fn an_unparseable_url_error_keeps_onfails_own_words() {
    for value in ["https://", "https", "https:"] {
        let out = run(onfail().args(["check", "--webhook-url", value]));
        assert_eq!(out.code, 2, "{value}: {}", out.stderr);
        assert!(out.stderr.contains("--webhook-url: not a valid URL"), "{value}: {}", out.stderr);
        assert!(out.stderr.contains("give a full https:// URL"), "{value}: {}", out.stderr);
        assert!(!out.stderr.contains("***"), "{value}: {}", out.stderr);
    }
}
