//! Senders with `--server` (docs/serve-senders.md): `onfail send` and `onfail run` against a
//! real `onfail serve` on 127.0.0.1 (SQLite) and the fake phone providers. Orders registered,
//! delivery learned by long-poll, the acknowledge link in every SMS, an escalation stopped by
//! it, and a service that is down being only a warning.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::phones::{self, A, B, Fake, HASH, SMS_KEY, Voice, output};
use crate::common::service::{API_TOKEN, Backend, Service, client};
use crate::common::{Reply, Run, Server, Spawned, sentinels};

/// The fake's order id for every accepted SMS.
const ORDER: &str = "555";

fn with_server(mut cmd: Command, service: &Service) -> Command {
    cmd.env("ONFAIL_SERVER", &service.url).env("ONFAIL_SERVER_TOKEN", API_TOKEN);
    cmd
}

/// No secret, no number and not the service's token in any output.
fn assert_clean(run: &Run) {
    let mut secrets = sentinels();
    secrets.extend([API_TOKEN, SMS_KEY, HASH].map(String::from));
    run.assert_clean(&secrets);
}

/// Waits until the sender registered the order with the service.
fn registered(service: &Service, limit: Duration) -> Value {
    let until = Instant::now() + limit;
    loop {
        let (status, order) = service.api("GET", &format!("/v1/orders/{ORDER}"), None);
        if status == 200 {
            return order;
        }
        assert!(Instant::now() < until, "the order was never registered:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Acknowledges the page of `ack_url` as its button does: a POST to the link, no token.
fn acknowledge(ack_url: &str) {
    let response = client().post(ack_url).send().unwrap();
    assert_eq!(response.status().as_u16(), 200, "POST {ack_url}: {:?}", response.text());
}

/// The acknowledge link in an SMS text.
fn link_in(text: &str, service: &Service) -> String {
    let start = text.find(&format!("{}/a/", service.url)).unwrap_or_else(|| panic!("no link in {text:?}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn sms_wait_learns_delivery_from_the_service_as_soon_as_every_recipient_is_final() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    // get-report would say pending until the end of the wait: only the service can end it early.
    let fake = Fake::new(Voice::Queue, &[(A, 110), (B, 110)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = with_server(fake.send(dir.path()), &service);
    cmd.args(["--phone-numbers", &format!("{A},{B}"), "--sms-wait", "40s", "--timeout", "50s", "--language", "en"]);
    let started = Instant::now();
    let spawned = Spawned::start(&mut cmd);
    let order = registered(&service, Duration::from_secs(20));
    let numbers: Vec<&str> =
        order["recipients"].as_array().unwrap().iter().map(|r| r["to"].as_str().unwrap()).collect();
    assert_eq!(numbers, [format!("90{A}"), format!("90{B}")]);
    for (id, number) in [(1, A), (2, B)] {
        assert_eq!(service.report_of(id, ORDER, "delivered", &format!("90{number}")).0, 200);
    }
    let (out, took) = spawned.finish(Duration::from_secs(30), started);
    assert_clean(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(took < Duration::from_secs(15), "the wait did not end when both were delivered: {took:?}");
    let sms = out.json()["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "sms").cloned().unwrap();
    assert_eq!(sms["result"], "sent", "{sms}");
    assert!(sms["detail"].as_str().unwrap().contains("delivered to 2 of 2"), "{sms}");
    assert!(fake.hits("/v1/get-report/json").is_empty(), "get-report was polled although the service answered");
    // The failure's SMS carries the link, and the call says it is there.
    let (_, text) = &fake.texts()[0];
    link_in(text, &service);
    assert!(text.contains("To acknowledge, open the link: "), "{text}");
    let call = fake.hits("/webhook/receive")[0].1.json();
    assert!(call.to_string().contains("To acknowledge, open the link in the text message."), "{call}");
}

#[test]
fn a_service_that_is_down_is_a_warning_and_get_report_takes_over() {
    // A port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let fake = Fake::new(Voice::Queue, &[(A, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("ONFAIL_SERVER", &down).env("ONFAIL_SERVER_TOKEN", API_TOKEN);
    cmd.args(["--phone-numbers", A, "--sms-wait", "20s", "--timeout", "30s"]);
    let started = Instant::now();
    let out = phones::go(cmd);
    assert_clean(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(out.stderr.contains("no acknowledge link could be opened at onfail serve"), "{}", out.stderr);
    assert!(out.stderr.contains("could not be registered with onfail serve"), "{}", out.stderr);
    assert!(
        out.stderr.contains("the delivery report was read from iletiMerkezi's get-report instead"),
        "{}",
        out.stderr
    );
    let sms = out.json()["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "sms").cloned().unwrap();
    assert!(sms["detail"].as_str().unwrap().contains("delivered to 1 of 1"), "{sms}");
    assert!(!fake.texts()[0].1.contains("/a/"), "a link that no one can open: {:?}", fake.texts());
}

#[test]
fn a_wrong_token_is_a_warning_and_the_alert_still_goes_out() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[(A, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("ONFAIL_SERVER", &service.url).env("ONFAIL_SERVER_TOKEN", "not-the-SENTINEL-token");
    cmd.args(["--phone-numbers", A, "--sms-wait", "20s", "--timeout", "30s"]);
    let out = phones::go(cmd);
    out.assert_clean(&["not-the-SENTINEL-token".to_string()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("refused the token (401)"), "{}", out.stderr);
    assert_eq!(fake.texts().len(), 1);
    assert_eq!(fake.calls().len(), 1);
}

/// A chain whose first level waits a minute; the link acknowledges it.
fn chain_acknowledged_by_link(mut cmd: Command, service: &Service, fake: &Fake, dir: &Path) {
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "60s",
        "--escalation-repeat",
        "2",
    ]);
    let spawned = Spawned::start(&mut cmd);
    spawned.wait_for_line("escalation: waiting 1m for an acknowledgement", Duration::from_secs(20));
    let texts = fake.texts();
    assert_eq!(texts.len(), 1, "{texts:?}");
    let link = link_in(&texts[0].1, service);
    let pressed = Instant::now();
    acknowledge(&link);
    let (out, took) = spawned.finish(Duration::from_secs(20), pressed);
    assert_clean(&out);
    assert!(took < Duration::from_secs(5), "{took:?} after the acknowledgement:\n{}", out.stderr);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Nothing more was sent: the second level's call and text never went out.
    assert_eq!(fake.calls(), [vec![A.to_string()]]);
    assert_eq!(fake.texts().len(), 1);
    let json = out.json();
    assert_eq!(json["escalation"]["acknowledged"], true, "{json}");
    assert_eq!(json["escalation"]["ended"], "acknowledged");
    assert_eq!(json["escalation"]["acknowledged_by"], "link");
    assert!(json["escalation"]["acknowledged_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{json}");
    assert!(out.stderr.contains("escalation: acknowledged by the link in the SMS at "), "{}", out.stderr);
    assert_eq!(output(dir, "acknowledged").as_deref(), Some("true"));
}

#[test]
fn the_link_in_the_sms_acknowledges_a_chain_within_seconds_and_nothing_more_is_sent() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let cmd = with_server(fake.send(dir.path()), &service);
    chain_acknowledged_by_link(cmd, &service, &fake, dir.path());
    // On GitHub the chain's SMS says both ways: the link, and cancelling the run (in Turkish,
    // the default language).
    let text = &fake.texts()[0].1;
    assert!(text.contains("Cancel workflow") && text.contains("Onaylamak için bağlantıyı açın: "), "{text}");
    let summary = crate::common::read(&dir.path().join("summary"));
    assert!(summary.contains("**acknowledged** by the link in the SMS at "), "{summary}");
}

#[test]
fn on_a_cron_host_onfail_run_is_acknowledged_by_the_link_too() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[]);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("onfail"));
    cmd.env_clear()
        .env("RUST_BACKTRACE", "0")
        .env("HOSTNAME", "db-1")
        .env("ONFAIL_LANGUAGE", "tr")
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", crate::common::KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_SENDER", "ACME")
        .env("ONFAIL_SERVER", &service.url)
        .env("ONFAIL_SERVER_TOKEN", API_TOKEN)
        .args(["run", "--output", "json"])
        .args(["--alertalk-url", &fake.server.url("/webhook/receive")])
        .args(["--iletimerkezi-url", &fake.server.url("")])
        .args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B])
        .args(["--escalate-after", "60s"]);
    cmd.args(["--", "sh", "-c", "exit 3"]);
    let spawned = Spawned::start(&mut cmd);
    spawned.wait_for_line("escalation: waiting 1m for an acknowledgement", Duration::from_secs(20));
    let text = fake.texts()[0].1.clone();
    // A cron host has no "Cancel workflow": the Turkish SMS says to open the link.
    assert!(text.contains("Onaylamak için bağlantıyı açın: ") && !text.contains("Cancel workflow"), "{text}");
    let call = fake.hits("/webhook/receive")[0].1.json().to_string();
    assert!(call.contains("Onaylamak için kısa mesajdaki bağlantıyı açın."), "{call}");
    let pressed = Instant::now();
    acknowledge(&link_in(&text, &service));
    let (out, took) = spawned.finish(Duration::from_secs(20), pressed);
    assert_clean(&out);
    assert!(took < Duration::from_secs(5), "{took:?}:\n{}", out.stderr);
    // onfail run exits with its command's code, and sent nothing more.
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(fake.calls().len(), 1);
    assert_eq!(out.json()["escalation"]["acknowledged_by"], "link");
}

#[test]
fn a_wrong_server_option_is_exit_2_naming_it_and_nothing_is_sent() {
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("ONFAIL_SERVER", "http://onfail.example.com"), ("ONFAIL_SERVER_TOKEN", API_TOKEN)],
            "--server: must use https://",
        ),
        (&[("ONFAIL_SERVER_TOKEN", API_TOKEN)], "--server-token: is set but --server is not"),
        (&[("ONFAIL_SERVER", "https://onfail.example.com"), ("ONFAIL_SERVER_TOKEN", "Bearer")], "--server-token: "),
    ];
    for (vars, error) in cases {
        let mut cmd = fake.send(dir.path());
        cmd.envs(vars.iter().copied()).args(["--phone-numbers", A]);
        let out = phones::go(cmd);
        assert_clean(&out);
        assert_eq!(out.code, 2, "{vars:?}: {}", out.stderr);
        assert!(out.stderr.contains(error), "{vars:?}: {}", out.stderr);
    }
    assert!(fake.texts().is_empty() && fake.calls().is_empty());
}

#[test]
fn sms_first_calls_whoever_the_service_says_was_not_delivered_as_soon_as_all_are_final() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    // get-report says pending: a sender that polled it would wait the whole minute.
    let fake = Fake::new(Voice::Queue, &[(A, 110), (B, 110)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = with_server(fake.send(dir.path()), &service);
    cmd.args(["--escalate", "sms-first", "--phone-numbers", &format!("{A},{B}"), "--escalate-after", "60s"]);
    let started = Instant::now();
    let spawned = Spawned::start(&mut cmd);
    registered(&service, Duration::from_secs(20));
    service.report_of(1, ORDER, "delivered", &format!("90{A}"));
    service.report_of(2, ORDER, "undelivered", &format!("+90{B}"));
    let (out, took) = spawned.finish(Duration::from_secs(40), started);
    assert_clean(&out);
    assert!(took < Duration::from_secs(20), "{took:?}:\n{}", out.stderr);
    // B's SMS was not delivered: B is called, A is not.
    assert_eq!(fake.calls(), [vec![B.to_string()]], "{}", out.stderr);
    assert!(fake.hits("/v1/get-report/json").is_empty());
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn every_sms_of_every_level_and_round_carries_the_same_link() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = with_server(fake.send(dir.path()), &service);
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "1s",
        "--escalation-repeat",
        "1",
    ]);
    let out = phones::go(cmd);
    assert_clean(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let texts = fake.texts();
    assert_eq!(texts.len(), 4, "two levels, two rounds: {texts:?}");
    let link = link_in(&texts[0].1, &service);
    assert!(texts.iter().all(|(_, text)| text.ends_with(&link)), "{texts:?}");
    assert_eq!(fake.calls().len(), 4);
    assert_eq!(out.json()["escalation"]["acknowledged"], false);
    assert_eq!(service.api("GET", &format!("/v1/orders/{ORDER}"), None).0, 200);
}

#[test]
fn a_chain_with_the_service_down_still_pages_every_level() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("ONFAIL_SERVER", &down).env("ONFAIL_SERVER_TOKEN", API_TOKEN);
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B])
        .args(["--escalate-after", "1s"]);
    let out = phones::go(cmd);
    assert_clean(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.calls(), [vec![A.to_string()], vec![B.to_string()]]);
    assert_eq!(fake.texts().len(), 2);
    assert!(out.stderr.contains("no acknowledge link could be opened"), "{}", out.stderr);
}

#[test]
fn a_service_that_hangs_or_fails_delays_the_alert_by_seconds_only() {
    for (name, reply) in [("hangs", Reply::Hang), ("answers 503", Reply::json(503, "{}"))] {
        let broken = Server::new(Vec::new(), reply);
        let fake = Fake::new(Voice::Queue, &[(A, 111)]);
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = fake.send(dir.path());
        cmd.env("ONFAIL_SERVER", broken.url("")).env("ONFAIL_SERVER_TOKEN", API_TOKEN);
        cmd.args(["--phone-numbers", A, "--sms-wait", "30s", "--timeout", "40s"]);
        let started = Instant::now();
        let out = phones::go(cmd);
        assert_clean(&out);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        // The page (4 s), the registration (3 s) and the first look (2 s) at most, then get-report.
        assert!(started.elapsed() < Duration::from_secs(20), "{name}: {:?}", started.elapsed());
        let (call, text) = (&fake.hits("/webhook/receive")[0].0, &fake.hits("/v1/send-sms/json")[0].0);
        assert!(call.duration_since(started) < Duration::from_secs(8), "{name}: the call waited on the service");
        assert!(text.duration_since(started) < Duration::from_secs(8), "{name}");
        assert!(out.stderr.contains("no acknowledge link could be opened"), "{name}: {}", out.stderr);
        assert!(out.stderr.contains("read from iletiMerkezi's get-report instead"), "{name}: {}", out.stderr);
        let sms = out.json()["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "sms").cloned().unwrap();
        assert!(sms["detail"].as_str().unwrap().contains("delivered to 1 of 1"), "{name}: {sms}");
    }
}

#[test]
fn a_server_without_its_token_is_a_warning_and_the_alert_goes_out_without_it() {
    // A fork's pull request: the URL is an input, the token a secret it does not get.
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[(A, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("ONFAIL_SERVER", &service.url).env("ONFAIL_SERVER_TOKEN", "");
    cmd.args(["--phone-numbers", A, "--sms-wait", "10s"]);
    let out = phones::go(cmd);
    assert_clean(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("--server is set but --server-token is empty"), "{}", out.stderr);
    assert_eq!((fake.texts().len(), fake.calls().len()), (1, 1));
    assert!(!fake.texts()[0].1.contains("/a/"));
    assert_eq!(service.api("GET", &format!("/v1/orders/{ORDER}"), None).0, 404, "nothing was registered");
}
