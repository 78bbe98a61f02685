//! Watched GitHub workflows of `onfail serve --config` (docs/serve-checks.md, "Watching a
//! scheduled GitHub workflow"): the real binary on 127.0.0.1 polling a fake GitHub REST API whose
//! workflow the test changes, paging through the provider fakes, kept in SQLite or PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::checks::config_file;
use crate::common::github_api::TOKEN;
use crate::common::github_watch::{FakeWatched, Fault, ScheduledRun, Workflow, seconds_now};
use crate::common::phones::{Fake, HASH, SMS_KEY, Voice};
use crate::common::service::{API_TOKEN, Backend, Service, client, command};
use crate::common::{KEY, PHONES};
use crate::on_both_stores;

/// A watch of acme/api nightly.yml with `extra` lines.
fn watch_config(extra: &str) -> String {
    format!("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"nightly.yml\"\npoll = \"1s\"\n{extra}")
}

/// `onfail serve` watching through `github`, paging voice, SMS and a webhook at `fake`.
fn watching_service(backend: &Backend, fake: &Fake, github: &FakeWatched, config: &str) -> Service {
    let mut cmd = command(backend);
    cmd.env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ALERTALK_URL", fake.server.url("/webhook/receive"))
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_ILETIMERKEZI_URL", fake.server.url(""))
        .env("ONFAIL_SMS_SENDER", "ACME")
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0])
        .env("ONFAIL_WEBHOOK_URL", fake.server.url("/hook"))
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .env("GITHUB_API_URL", github.url())
        .args(["--config", config]);
    Service::spawn(cmd)
}

fn wait_for(what: &str, service: &Service, until: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !until() {
        assert!(Instant::now() < deadline, "{what} did not happen:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn the_watch(service: &Service) -> Value {
    let (status, checks) = service.api("GET", "/v1/checks", None);
    assert_eq!(status, 200, "{checks}");
    checks["watches"][0].clone()
}

fn assert_clean(service: &Service) {
    let log = service.log();
    for secret in [KEY, SMS_KEY, HASH, PHONES[0], API_TOKEN, TOKEN] {
        assert!(!log.contains(secret), "{log}");
    }
}

fn a_disabled_workflow_pages_once_and_a_completed_run_recovers_without_a_call(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let github = FakeWatched::new(Workflow::new("disabled_inactivity"));
    let (_dir, config) = config_file(&watch_config("schedule = \"0 3 * * *\"\n"));
    let service = watching_service(backend, &fake, &github, &config);
    wait_for("the page", &service, || fake.calls().len() == 1 && fake.texts().len() == 1);
    let sms = &fake.texts()[0].1;
    assert!(sms.contains("gh workflow enable nightly.yml -R acme/api") && sms.contains("60 gün"), "{sms}");
    // The service opens an acknowledgeable page for a watch's page too (docs/serve-checks.md).
    assert!(sms.contains("/a/"), "no acknowledge link: {sms}");
    let voice = fake.hits("/webhook/receive")[0].1.json()["error_message"].as_str().unwrap().to_string();
    assert!(voice.contains("acme api deposundaki Nightly") && !voice.contains('/'), "{voice}");
    let hook = fake.hits("/hook")[0].1.json();
    assert!(hook.to_string().contains("Actions tab"), "{hook}");
    let watch = the_watch(&service);
    assert_eq!(
        (watch["state"].as_str(), watch["why"].as_str()),
        (Some("down"), Some("disabled (disabled_inactivity)"))
    );
    // Still down: silent, across a restart too.
    std::thread::sleep(Duration::from_secs(3));
    service.stop("-KILL");
    let service = watching_service(backend, &fake, &github, &config);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 1), "{}", service.log());
    // Re-enabled, and a scheduled run completed: recovered, by text and webhook, no call.
    let hooks = fake.hits("/hook").len();
    github.change(|w| {
        w.state = "active";
        w.runs.push(ScheduledRun::now(77, "completed", Some("success")));
    });
    wait_for("the recovery", &service, || fake.texts().len() == 2 && fake.hits("/hook").len() > hooks);
    assert!(fake.texts()[1].1.starts_with("DÜZELDİ: Nightly"), "{:?}", fake.texts());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.calls().len(), 1, "a recovery never calls:\n{}", service.log());
    assert_eq!(fake.texts().len(), 2, "{}", service.log());
    assert_eq!(the_watch(&service)["state"], "up");
    assert_clean(&service);
}

fn a_late_scheduled_run_pages_once(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let github = FakeWatched::new(Workflow::new("active"));
    let (_dir, config) = config_file(&watch_config("schedule = \"every 2s\"\ngrace = \"1s\"\nlanguage = \"en\"\n"));
    let started = Instant::now();
    let service = watching_service(backend, &fake, &github, &config);
    // A fresh start pages nobody: due 2s after the first sight, plus 1s of grace.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(fake.calls().is_empty(), "paged before due + grace:\n{}", service.log());
    wait_for("the page", &service, || fake.calls().len() == 1 && fake.texts().len() == 1);
    assert!(started.elapsed() >= Duration::from_secs(3));
    let sms = &fake.texts()[0].1;
    assert!(sms.contains("No scheduled run of Nightly (nightly.yml) of acme/api started"), "{sms}");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 1), "{}", service.log());
    assert_eq!(the_watch(&service)["why"], "late");
}

fn a_startup_failure_pages_with_the_run(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let mut workflow = Workflow::new("active");
    let broken = ScheduledRun::now(90, "completed", Some("startup_failure"));
    workflow.runs.push(broken.clone());
    let github = FakeWatched::new(workflow);
    let (_dir, config) = config_file(&watch_config("schedule = \"0 3 * * *\"\n"));
    let service = watching_service(backend, &fake, &github, &config);
    wait_for("the page", &service, || fake.calls().len() == 1 && fake.texts().len() == 1);
    let sms = &fake.texts()[0].1;
    assert!(sms.contains("startup_failure") && sms.contains(&broken.url()) && sms.contains("dosyası bozuk"), "{sms}");
    let hook = fake.hits("/hook")[0].1.json().to_string();
    assert!(hook.contains("the workflow file is broken") && hook.contains("no step ran"), "{hook}");
    // The next scheduled run completes: recovered.
    github.change(|w| {
        w.runs.push(ScheduledRun {
            id: 91,
            created_at: seconds_now() + 1,
            ..ScheduledRun::now(91, "completed", Some("failure"))
        })
    });
    wait_for("the recovery", &service, || fake.texts().len() == 2);
    assert_eq!(fake.calls().len(), 1);
}

mod pages {
    use super::*;
    on_both_stores!(
        a_disabled_workflow_pages_once_and_a_completed_run_recovers_without_a_call,
        a_late_scheduled_run_pages_once,
        a_startup_failure_pages_with_the_run,
    );
}

/// The schedule comes from the workflow file's cron lines (UTC; the earliest is next), through
/// the contents API, and the requests after the first are conditional: 304s.
#[test]
fn the_schedule_is_read_from_the_file_and_requests_are_conditional() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let mut workflow = Workflow::new("active");
    workflow.file =
        "name: Nightly\n\"on\":\n  schedule:\n    - cron: '0 3 * * *'\n    - cron: \"30 1 * * *\"\n  workflow_dispatch:\njobs: {}\n"
            .into();
    let github = FakeWatched::new(workflow);
    let (_dir, config) = config_file(&watch_config(""));
    let service = watching_service(&backend, &fake, &github, &config);
    wait_for("a look", &service, || the_watch(&service)["state"] == "up");
    assert!(
        github.paths().iter().any(|p| p == "/repos/acme/api/contents/.github/workflows/nightly.yml"),
        "{:?}",
        github.paths()
    );
    let watch = the_watch(&service);
    assert_eq!(watch["schedule"], "0 3 * * *, 30 1 * * * (UTC, from the workflow file)");
    let now = seconds_now();
    let day = now - now % 86400;
    let next = [day + 5400, day + 10800, day + 86400 + 5400].into_iter().find(|t| *t > now).unwrap();
    let expected = humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_secs(next)).to_string();
    assert_eq!(watch["next_due"].as_str(), Some(expected.as_str()), "{watch}");
    wait_for("304s", &service, || github.not_modified() >= 3);
    let conditional = github.server.received().iter().filter(|r| r.header("if-none-match").is_some()).count();
    assert!(conditional >= 3, "{conditional}");
    let page =
        client().get(format!("{}/", service.url)).basic_auth("me", Some(API_TOKEN)).send().unwrap().text().unwrap();
    assert!(page.contains("GitHub workflows") && page.contains("acme/api nightly.yml (Nightly)"), "{page}");
    assert!(page.contains("up (workflow active)") && page.contains("30 1 * * *"), "{page}");
    assert!(fake.calls().is_empty());
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
}

/// A service watching a disabled workflow whose API answers with `fault`, and what it pages
/// through; the directory holds the config file.
fn faulty_watch(backend: &Backend, fault: Fault) -> (Fake, FakeWatched, tempfile::TempDir, Service) {
    let fake = Fake::new(Voice::Queue, &[]);
    let mut workflow = Workflow::new("disabled_manually");
    workflow.fault = fault;
    let github = FakeWatched::new(workflow);
    let (dir, config) = config_file(&watch_config("schedule = \"every 2s\"\ngrace = \"1s\"\n"));
    let service = watching_service(backend, &fake, &github, &config);
    (fake, github, dir, service)
}

/// A failing API (500, then a rate limit) is a warning in the log, once, and on the web page:
/// never a page; a rate limit is waited out.
#[test]
fn api_failures_and_rate_limits_are_warnings_not_pages() {
    let backend = Backend::sqlite();
    let (fake, github, _dir, service) = faulty_watch(&backend, Fault::Status(500));
    std::thread::sleep(Duration::from_secs(5));
    let log = service.log();
    assert_eq!(log.matches("the GitHub API answered HTTP 500").count(), 1, "one warning, not one per poll:\n{log}");
    assert!(github.server.received().len() >= 4, "polled every second");
    let watch = the_watch(&service);
    assert!(watch["last_warning"].as_str().unwrap().contains("HTTP 500"), "{watch}");
    assert_eq!(watch["state"], "unknown");
    let page =
        client().get(format!("{}/", service.url)).basic_auth("me", Some(API_TOKEN)).send().unwrap().text().unwrap();
    assert!(page.contains("GitHub API warning") && page.contains("HTTP 500"), "{page}");

    github.change(|w| w.fault = Fault::RateLimited(4));
    wait_for("the rate limit", &service, || service.log().contains("rate limiting"));
    let asked = github.server.received().len();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(github.server.received().len() <= asked + 1, "no request while the rate limit lasts");
    assert!(the_watch(&service)["last_warning"].as_str().unwrap().contains("rate limiting"));
    assert!(fake.calls().is_empty() && fake.texts().is_empty(), "an API failure never pages:\n{}", service.log());
    // The API answers again: now the disabled workflow pages.
    github.change(|w| w.fault = Fault::None);
    wait_for("the page", &service, || fake.calls().len() == 1);
    assert!(service.log().contains("the GitHub API answers again"));
    let page =
        client().get(format!("{}/", service.url)).basic_auth("me", Some(API_TOKEN)).send().unwrap().text().unwrap();
    assert!(page.contains("Last GitHub API warning") && page.contains("down (disabled (disabled_manually))"), "{page}");
    assert_clean(&service);
}

/// A refused token (401) and a repository or workflow the token cannot see (403 without a rate
/// limit, 404) are warnings that say what to fix, in the log and the watch's state: never pages.
#[test]
fn refusals_say_what_to_fix_and_never_page() {
    let backend = Backend::sqlite();
    let (fake, github, _dir, service) = faulty_watch(&backend, Fault::Status(401));
    let warning = || the_watch(&service)["last_warning"].as_str().unwrap_or_default().to_string();
    wait_for("the 401 warning", &service, || warning().contains("HTTP 401"));
    assert!(warning().contains("GitHub refused the token") && warning().contains("--github-token"), "{}", warning());
    assert!(service.log().contains("check --github-token"), "{}", service.log());
    for status in [403, 404] {
        github.change(|w| w.fault = Fault::Status(status));
        wait_for("the warning", &service, || warning().contains(&format!("HTTP {status}")));
        let said = warning();
        assert!(said.contains("actions: read") && said.contains("must exist"), "{said}");
    }
    assert_eq!(the_watch(&service)["state"], "unknown");
    assert!(fake.calls().is_empty() && fake.texts().is_empty(), "a refusal never pages:\n{}", service.log());
    assert_clean(&service);
}

/// Two replicas on one PostgreSQL, one disabled workflow: one page.
#[test]
fn two_replicas_page_a_disabled_workflow_once() {
    let Some(backend) = Backend::postgres() else { return };
    let fake = Fake::new(Voice::Queue, &[]);
    let github = FakeWatched::new(Workflow::new("disabled_manually"));
    let (_dir, config) = config_file(&watch_config("schedule = \"0 3 * * *\"\n"));
    let one = watching_service(&backend, &fake, &github, &config);
    let two = watching_service(&backend, &fake, &github, &config);
    wait_for("the page", &one, || !fake.calls().is_empty());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fake.calls().len(), 1, "one:\n{}\ntwo:\n{}", one.log(), two.log());
    assert_eq!(fake.texts().len(), 1);
}

#[test]
fn a_watch_needs_a_token_and_a_valid_table() {
    let backend = Backend::sqlite();
    let (_dir, config) = config_file(&watch_config(""));
    let out = command(&backend).args(["--config", &config]).env_remove("ONFAIL_GITHUB_TOKEN").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--github-token: is required for the [[watch]] tables") && stderr.contains("actions: read"),
        "{stderr}"
    );
    for (text, expected) in [
        ("[[watch]]\nrepository = \"acme\"\nworkflow = \"nightly.yml\"", "--config: watch #1, repository"),
        (
            "[[watch]]\nrepository = \"acme/api\"\nworkflow = \"nightly.yml\"\nschedule = \"0 3 * *\"",
            "watch \"acme/api nightly.yml\", schedule",
        ),
        ("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"nightly.yml\"\npoll = \"0s\"", "poll"),
    ] {
        let (_dir, config) = config_file(text);
        let out = command(&backend).args(["--config", &config]).env("ONFAIL_GITHUB_TOKEN", TOKEN).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(TOKEN), "{stderr}");
    }
}

/// A workflow file without `on.schedule` (and no schedule in the watch): said once in the log
/// and with the schedule on the page; nothing is ever late, nobody is paged.
#[test]
fn a_file_without_a_schedule_is_said_once() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let mut workflow = Workflow::new("active");
    workflow.file = "name: Nightly\non: push\njobs: {}\n".into();
    let github = FakeWatched::new(workflow);
    let (_dir, config) = config_file(&watch_config("grace = \"1s\"\n"));
    let service = watching_service(&backend, &fake, &github, &config);
    std::thread::sleep(Duration::from_secs(4));
    let watch = the_watch(&service);
    assert_eq!(
        watch["schedule"], "unknown: the workflow file has no on.schedule: give the watch a schedule",
        "{watch}"
    );
    assert_eq!((watch["state"].as_str(), watch["next_due"].as_str()), (Some("up"), None));
    let log = service.log();
    assert_eq!(log.matches("no on.schedule").count(), 1, "{log}");
    assert!(!log.contains("answers again"), "{log}");
    assert!(fake.calls().is_empty());
}
