//! Checks of `onfail serve --config` (docs/serve-checks.md): the real binary on 127.0.0.1,
//! pings by any method with the token as Bearer or `?token=`, kept in SQLite or PostgreSQL,
//! and `GET /v1/checks` judging each check from what was kept.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::phones::{Fake, HASH, SMS_KEY, Voice};
use crate::common::service::{API_TOKEN, Backend, Service, client, command};
use crate::common::{KEY, PHONES};
use crate::on_both_stores;

const CONFIG: &str = r#"
timezone = "Europe/Istanbul"

[[check]]
name = "beat"
schedule = "every 2s"
grace = "1s"

[[check]]
name = "nightly-backup"
schedule = "0 3 * * *"
grace = "30m"
max-runtime = "1h"
"#;

/// A config file that lives as long as the test.
pub fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checks.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

fn check<'a>(checks: &'a Value, name: &str) -> &'a Value {
    checks["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{checks}"))
}

fn pings_by_any_method_with_either_token_and_404_for_unknown_checks(backend: &Backend) {
    let (_dir, config) = config_file(CONFIG);
    let service = Service::start(backend, &["--config", &config]);
    let http = client();
    let url = |path: &str| format!("{}{path}", service.url);
    for method in ["GET", "POST", "HEAD", "PUT"] {
        let response =
            http.request(method.parse().unwrap(), url(&format!("/v1/ping/beat?token={API_TOKEN}"))).send().unwrap();
        assert_eq!(response.status(), 200, "{method}");
    }
    let bearer = http.post(url("/v1/ping/beat/start")).bearer_auth(API_TOKEN).send().unwrap();
    assert_eq!(bearer.status(), 200);
    for path in ["/v1/ping/beat", "/v1/ping/beat?token=wrong", "/v1/ping/nope"] {
        assert_eq!(http.get(url(path)).send().unwrap().status(), 401, "{path}");
    }
    for path in ["/v1/ping/nope", "/v1/ping/nope/start", "/v1/ping/beat/256", "/v1/ping/beat/later"] {
        let response = http.get(url(&format!("{path}?token={API_TOKEN}"))).send().unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let (status, checks) = service.api("GET", "/v1/checks", None);
    assert_eq!(status, 200);
    assert_eq!(check(&checks, "beat")["last_ping_kind"], "start");
    assert_eq!(check(&checks, "beat")["state"], "running");
    assert_eq!(check(&checks, "nightly-backup")["schedule"], "0 3 * * * (Europe/Istanbul)");
    assert_eq!(check(&checks, "nightly-backup")["state"], "new");
    // 03:00 in Istanbul is 00:00 UTC.
    let due = check(&checks, "nightly-backup")["next_due"].as_str().unwrap().to_string();
    assert!(due.ends_with("T00:00:00.000Z"), "{due}");
    assert_eq!(service.request("GET", "/v1/checks", None, None).0, 401);
}

fn exit_codes_fail_and_success_set_the_state(backend: &Backend) {
    let (_dir, config) = config_file(CONFIG);
    let service = Service::start(backend, &["--config", &config]);
    let ping = |path: &str| service.request("POST", &format!("/v1/ping/{path}"), Some(API_TOKEN), None).0;
    let state = || {
        let (_, checks) = service.api("GET", "/v1/checks", None);
        let beat = check(&checks, "beat");
        (beat["state"].as_str().unwrap().to_string(), beat["why"].clone())
    };
    assert_eq!(state().0, "new");
    assert_eq!(ping("beat/0"), 200);
    assert_eq!(state().0, "up");
    assert_eq!(ping("beat/3"), 200);
    assert_eq!(state(), ("down".into(), Value::from("failed")));
    assert_eq!(ping("beat"), 200);
    assert_eq!(state().0, "up");
    assert_eq!(ping("beat/fail"), 200);
    assert_eq!(state().0, "down");
    assert_eq!(ping("beat/start"), 200);
    assert_eq!(state().0, "down", "a start does not end a failure: only a success does");
    assert_eq!(ping("beat/0"), 200);
    // No success within every 2s + grace 1s: late.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(state(), ("down".into(), Value::from("late")));
}

fn pings_survive_a_restart(backend: &Backend) {
    let (_dir, config) = config_file(CONFIG);
    let service = Service::start(backend, &["--config", &config]);
    assert_eq!(service.request("GET", &format!("/v1/ping/nightly-backup/start?token={API_TOKEN}"), None, None).0, 200);
    service.stop("-KILL");
    let service = Service::start(backend, &["--config", &config]);
    let (_, checks) = service.api("GET", "/v1/checks", None);
    assert_eq!(check(&checks, "nightly-backup")["state"], "running");
    assert_eq!(check(&checks, "nightly-backup")["last_ping_kind"], "start");
}

mod pings {
    use super::*;
    on_both_stores!(
        pings_by_any_method_with_either_token_and_404_for_unknown_checks,
        exit_codes_fail_and_success_set_the_state,
        pings_survive_a_restart,
    );
}

#[test]
fn a_bad_config_is_exit_2_naming_the_check_and_key() {
    let backend = Backend::sqlite();
    for (text, expected) in [
        ("[[check]]\nname = \"a\"\nschedule = \"0 3 * *\"", "--config: check \"a\", schedule"),
        ("[[check]]\nname = \"a\"\nschedule = \"every 1m\"\nphone-number = \"0532\"", "phone-number"),
        ("[[check]\n", "not valid TOML"),
    ] {
        let (_dir, config) = config_file(text);
        let out = command(&backend).args(["--config", &config]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn a_check_may_set_any_send_option() {
    let (_dir, config) = config_file(
        "[[check]]\nname = \"a\"\nschedule = \"every 1m\"\nphone-numbers = \"0532 111 22 33\"\nescalate = \"chain\"\n",
    );
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &["--config", &config]);
    let (status, checks) = service.api("GET", "/v1/checks", None);
    assert_eq!(status, 200, "{checks}");
    assert_eq!(check(&checks, "a")["state"], "new");
    assert!(!service.log().contains("111 22 33"));
}

/// `onfail serve` whose own channels are voice, SMS and a webhook aimed at `fake`.
pub fn paging_service(backend: &Backend, fake: &Fake, config: &str) -> Service {
    Service::spawn(paging_command(backend, fake, config))
}

/// The command of [`paging_service`].
pub fn paging_command(backend: &Backend, fake: &Fake, config: &str) -> std::process::Command {
    let mut cmd = command(backend);
    cmd.env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ALERTALK_URL", fake.server.url("/webhook/receive"))
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_ILETIMERKEZI_URL", fake.server.url(""))
        .env("ONFAIL_SMS_SENDER", "ACME")
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0])
        .env("ONFAIL_WEBHOOK_URL", fake.server.url("/hook"))
        .args(["--config", config]);
    cmd
}

pub fn wait_for(what: &str, service: &Service, until: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !until() {
        assert!(Instant::now() < deadline, "{what} did not happen:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub const BEAT: &str = "[[check]]\nname = \"beat\"\nschedule = \"every 2s\"\ngrace = \"1s\"\n";

fn an_overdue_check_pages_once_stays_silent_and_recovers_without_a_call(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(BEAT);
    let started = Instant::now();
    let service = paging_service(backend, &fake, &config);
    // A fresh start pages nobody: the first due time is 2s after the start, plus 1s of grace.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(fake.calls().is_empty(), "paged before due + grace:\n{}", service.log());
    wait_for("the page", &service, || !fake.calls().is_empty() && !fake.texts().is_empty());
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(fake.calls(), [vec![PHONES[0].to_string()]]);
    assert!(fake.texts()[0].1.contains("Check beat is down"), "{:?}", fake.texts());
    // Still down: silent, across a restart too.
    std::thread::sleep(Duration::from_secs(3));
    service.stop("-KILL");
    let service = paging_service(backend, &fake, &config);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fake.calls().len(), 1, "{}", service.log());
    assert_eq!(fake.texts().len(), 1, "{}", service.log());
    let hooks = fake.hits("/hook").len();
    // The next success: a "recovered" text and webhook, no call.
    assert_eq!(service.request("GET", &format!("/v1/ping/beat?token={API_TOKEN}"), None, None).0, 200);
    wait_for("the recovery", &service, || fake.texts().len() == 2);
    wait_for("the recovery webhook", &service, || fake.hits("/hook").len() > hooks);
    let recovered = &fake.texts()[1].1;
    assert!(recovered.starts_with("DÜZELDİ: check beat"), "{recovered}");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(fake.calls().len(), 1, "a recovery never calls:\n{}", service.log());
    let log = service.log();
    for secret in [KEY, SMS_KEY, HASH, PHONES[0], API_TOKEN] {
        assert!(!log.contains(secret), "{log}");
    }
}

fn a_fail_ping_pages_at_once(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file("[[check]]\nname = \"nightly\"\nschedule = \"every 1h\"\n");
    let service = paging_service(backend, &fake, &config);
    assert_eq!(service.request("POST", "/v1/ping/nightly/0", Some(API_TOKEN), None).0, 200);
    assert_eq!(service.request("POST", "/v1/ping/nightly/start", Some(API_TOKEN), None).0, 200);
    assert!(fake.calls().is_empty());
    assert_eq!(service.request("POST", "/v1/ping/nightly/7", Some(API_TOKEN), None).0, 200);
    wait_for("the page", &service, || fake.calls().len() == 1);
    assert_eq!(service.request("POST", "/v1/ping/nightly/fail", Some(API_TOKEN), None).0, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(fake.calls().len(), 1, "still down pages nobody again:\n{}", service.log());
}

/// Two replicas on one PostgreSQL, one overdue check: one page.
#[test]
fn two_replicas_page_an_overdue_check_once() {
    let Some(backend) = Backend::postgres() else { return };
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(BEAT);
    let one = paging_service(&backend, &fake, &config);
    let two = paging_service(&backend, &fake, &config);
    wait_for("the page", &one, || !fake.calls().is_empty());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fake.calls().len(), 1, "one:\n{}\ntwo:\n{}", one.log(), two.log());
    assert_eq!(fake.texts().len(), 1);
}

/// A process paused for longer than the grace pages once when it wakes up, not twice.
#[test]
fn a_paused_service_pages_once_when_it_resumes() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(BEAT);
    let service = paging_service(&backend, &fake, &config);
    assert_eq!(service.request("GET", &format!("/v1/ping/beat?token={API_TOKEN}"), None, None).0, 200);
    let pid = service.pid().to_string();
    std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_secs(5));
    assert!(fake.calls().is_empty());
    std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap();
    wait_for("the page", &service, || !fake.calls().is_empty());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.calls().len(), 1, "{}", service.log());
}

mod pages {
    use super::*;
    on_both_stores!(an_overdue_check_pages_once_stays_silent_and_recovers_without_a_call, a_fail_ping_pages_at_once);
}

/// `onfail run --check` with an empty environment: no channel of its own, only the pings.
fn run_checked(server: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_onfail"))
        .env_clear()
        .env("HOME", "/nonexistent")
        .args(["run", "--server", server, "--server-token", API_TOKEN, "--webhook-url", "http://127.0.0.1:9/hook"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn onfail_run_check_pings_start_and_the_exit_code() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file("[[check]]\nname = \"backup\"\nschedule = \"every 1h\"\n");
    let service = paging_service(&backend, &fake, &config);
    let state = || {
        let (_, checks) = service.api("GET", "/v1/checks", None);
        let backup = check(&checks, "backup").clone();
        (backup["state"].as_str().unwrap().to_string(), backup["last_ping_kind"].as_str().unwrap_or("").to_string())
    };
    // While the command runs, the check is running.
    let url = service.url.clone();
    let running = std::thread::spawn(move || run_checked(&url, &["--check", "backup", "--", "sleep", "2"]));
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(state(), ("running".to_string(), "start".to_string()));
    let out = running.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state(), ("up".to_string(), "exit 0".to_string()));
    let out = run_checked(&service.url, &["--check", "backup", "--", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(state(), ("down".to_string(), "exit 3".to_string()));
    wait_for("the service's page", &service, || fake.calls().len() == 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(API_TOKEN), "{stderr}");
}

#[test]
fn onfail_run_check_goes_on_when_the_service_is_down_and_needs_a_server() {
    let out = run_checked("http://127.0.0.1:9", &["--check", "backup", "--", "sh", "-c", "exit 4"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("--check backup: the service did not take the start ping"), "{stderr}");
    assert!(!stderr.contains(API_TOKEN), "{stderr}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onfail"))
        .env_clear()
        .args(["run", "--webhook-url", "http://127.0.0.1:9/hook", "--check", "backup", "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--check: needs --server"), "{stderr}");
}

#[test]
fn the_web_page_lists_the_checks_with_their_state() {
    let backend = Backend::sqlite();
    let (_dir, config) = config_file(CONFIG);
    let service = Service::start(&backend, &["--config", &config]);
    assert_eq!(service.request("GET", &format!("/v1/ping/beat/5?token={API_TOKEN}"), None, None).0, 200);
    let page = client().get(format!("{}/", service.url)).basic_auth("me", Some(API_TOKEN)).send().unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(page.contains("beat") && page.contains("down (failed)"), "{page}");
    assert!(page.contains("nightly-backup") && page.contains("new"), "{page}");
}
