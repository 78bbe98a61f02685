//! `--notify-when changes --server` (docs/serve-checks.md, "History for runners that keep
//! nothing"): a runner with no home and no state folder (a fresh container) pages once per
//! incident, the history kept by the real `onfail serve`; the service unreachable pages, with a
//! warning.

use std::process::{Command, Output};

use crate::common::phones::{Fake, HASH, SMS_KEY, Voice};
use crate::common::service::{API_TOKEN, Backend, Service};
use crate::common::{KEY, PHONES};

/// `onfail run` in an empty environment (no HOME, no state folder), voice and SMS at `fake`.
fn run(fake: &Fake, server: &str, command: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onfail"))
        .env_clear()
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_SENDER", "ACME")
        .args(["run", "--notify-when", "changes", "--server", server, "--server-token", API_TOKEN])
        .args(["--alertalk-url", &fake.server.url("/webhook/receive"), "--iletimerkezi-url", &fake.server.url("")])
        .args(["--phone-numbers", PHONES[0], "--alert-id", "nightly-backup", "--"])
        .args(command)
        .output()
        .unwrap()
}

#[test]
fn a_runner_that_keeps_nothing_pages_once_per_incident() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let fake = Fake::new(Voice::Queue, &[]);
    let fail = ["sh", "-c", "exit 1"];
    let first = run(&fake, &service.url, &fail);
    assert_eq!(first.status.code(), Some(1), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(fake.calls().len(), 1);
    let second = run(&fake, &service.url, &fail);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(fake.calls().len(), 1, "still failing calls nobody:\n{stderr}");
    assert_eq!(fake.texts().len(), 1, "{stderr}");
    let (status, state) = service.api("GET", "/v1/alerts/nightly-backup/state", None);
    assert_eq!((status, state["status"].as_str(), state["failures"].as_u64()), (200, Some("failure"), Some(2)));
    run(&fake, &service.url, &["true"]);
    assert_eq!(fake.calls().len(), 1, "a recovery never calls");
    assert_eq!(fake.texts().len(), 2);
    assert!(fake.texts()[1].1.contains("DÜZELDİ"), "{:?}", fake.texts());
    run(&fake, &service.url, &fail);
    assert_eq!(fake.calls().len(), 2, "a new incident pages again");
}

#[test]
fn the_service_unreachable_is_unknown_and_pages_with_a_warning() {
    let fake = Fake::new(Voice::Queue, &[]);
    for _ in 0..2 {
        let out = run(&fake, "http://127.0.0.1:9", &["sh", "-c", "exit 1"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("the history is unknown"), "{stderr}");
        assert!(!stderr.contains(API_TOKEN), "{stderr}");
    }
    assert_eq!(fake.calls().len(), 2, "fail open: each failure pages");
}
