//! Checks and the wall clock (docs/serve-checks.md, "Clocks"): the real service, its wall clock
//! stepped forward and back while it runs by libfaketime (Debian's `faketime` package, preloaded
//! into the service only; its monotonic clock, which timers and timeouts use, is left alone).
//! Without the library the tests say SKIPPED; under CI (`CI` set, Linux) they fail instead:
//! `.ci/run` installs it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::checks::{config_file, paging_command, wait_for};
use crate::common::phones::{Fake, Voice};
use crate::common::service::{API_TOKEN, Backend, Service};
use crate::on_both_stores;

const HOURLY: &str = "[[check]]\nname = \"hourly\"\nschedule = \"every 1h\"\ngrace = \"1m\"\n";

/// Where Debian puts libfaketime, or `ONFAIL_TEST_FAKETIME`.
fn libfaketime() -> Option<PathBuf> {
    let given = std::env::var_os("ONFAIL_TEST_FAKETIME").map(PathBuf::from);
    let debian = ["x86_64-linux-gnu", "aarch64-linux-gnu"]
        .map(|triple| PathBuf::from(format!("/usr/lib/{triple}/faketime/libfaketime.so.1")));
    let found = given.into_iter().chain(debian).find(|path| path.is_file());
    if found.is_none() {
        let message = "libfaketime is not installed: the clock-step tests did NOT run. Install it with \
                       `apt-get install faketime` (or set ONFAIL_TEST_FAKETIME to libfaketime.so.1)";
        assert!(std::env::var_os("CI").is_none() || !cfg!(target_os = "linux"), "{message}");
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {message}\n");
    }
    found
}

/// The service's wall clock: an offset from the real one, in libfaketime's words (`+0`, `-2h`,
/// `+3h`), read again at every clock reading.
struct Clock {
    file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Clock {
    fn new() -> Clock {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock { file: dir.path().join("faketime"), _dir: dir };
        clock.set("+0");
        clock
    }

    /// Written whole and renamed into place: the service never reads half an offset.
    fn set(&self, offset: &str) {
        let next = self.file.with_extension("next");
        std::fs::write(&next, format!("{offset}\n")).unwrap();
        std::fs::rename(&next, &self.file).unwrap();
    }
}

fn clocked_service(backend: &Backend, fake: &Fake, config: &str, library: &Path, clock: &Clock) -> Service {
    let mut cmd = paging_command(backend, fake, config);
    cmd.env("LD_PRELOAD", library)
        .env("FAKETIME_TIMESTAMP_FILE", &clock.file)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    Service::spawn(cmd)
}

fn ping(service: &Service, path: &str) {
    assert_eq!(service.request("POST", &format!("/v1/ping/{path}"), Some(API_TOKEN), None).0, 200, "{path}");
}

fn state(service: &Service) -> String {
    let (_, checks) = service.api("GET", "/v1/checks", None);
    let hourly = checks["checks"].as_array().unwrap().iter().find(|c| c["name"] == "hourly").cloned();
    hourly.unwrap_or(Value::Null)["state"].as_str().unwrap_or_default().to_string()
}

/// Stepped back two hours after a page: the incident is not paged again and stays down; the
/// next success recovers it, and the next failure is a new incident that pages.
fn a_clock_stepped_back_neither_pages_again_nor_hides_a_down(backend: &Backend) {
    let Some(library) = libfaketime() else { return };
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(HOURLY);
    let clock = Clock::new();
    let service = clocked_service(backend, &fake, &config, &library, &clock);
    ping(&service, "hourly");
    ping(&service, "hourly/fail");
    wait_for("the page", &service, || fake.calls().len() == 1 && fake.texts().len() == 1);
    clock.set("-2h");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(state(&service), "down", "{}", service.log());
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 1), "{}", service.log());
    // Pings an hour and more "before" the page keep their order all the same.
    ping(&service, "hourly");
    wait_for("the recovery", &service, || fake.texts().len() == 2);
    assert!(fake.texts()[1].1.starts_with("DÜZELDİ: check hourly"), "{:?}", fake.texts());
    assert_eq!(state(&service), "up");
    ping(&service, "hourly/3");
    wait_for("the next page", &service, || fake.calls().len() == 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((fake.calls().len(), fake.texts().len()), (2, 3), "{}", service.log());
}

/// Stepped forward three hours: the check is late by that clock and pages, once; stepped back,
/// it stays down and silent until its next success.
fn a_clock_stepped_forward_pages_a_late_check_once(backend: &Backend) {
    let Some(library) = libfaketime() else { return };
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(HOURLY);
    let clock = Clock::new();
    let service = clocked_service(backend, &fake, &config, &library, &clock);
    ping(&service, "hourly");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(state(&service), "up");
    clock.set("+3h");
    wait_for("the page", &service, || fake.calls().len() == 1);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 1), "paged again:\n{}", service.log());
    clock.set("+0");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(state(&service), "down", "{}", service.log());
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 1), "{}", service.log());
    ping(&service, "hourly");
    wait_for("the recovery", &service, || fake.texts().len() == 2);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!((fake.calls().len(), fake.texts().len()), (1, 2), "{}", service.log());
}

on_both_stores!(
    a_clock_stepped_back_neither_pages_again_nor_hides_a_down,
    a_clock_stepped_forward_pages_a_late_check_once
);
