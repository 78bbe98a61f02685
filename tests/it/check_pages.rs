//! The pages of checks (docs/serve-checks.md) beyond the first page: the acknowledge link in a
//! check's SMS and an escalating check stopped by it, a success that comes while the down page
//! is in flight, and a stop (SIGTERM, a second signal, SIGKILL) while a page is in flight.

use std::time::{Duration, Instant};

use crate::checks::{config_file, paging_command, paging_service, wait_for};
use crate::common::phones::{A, B, Fake, Voice};
use crate::common::service::{API_TOKEN, Backend, Service, client};
use crate::on_both_stores;

const NIGHTLY: &str = "[[check]]\nname = \"nightly\"\nschedule = \"every 1h\"\n";

fn ping(service: &Service, path: &str) {
    assert_eq!(service.request("POST", &format!("/v1/ping/{path}"), Some(API_TOKEN), None).0, 200, "{path}");
}

/// The acknowledge link in an SMS text.
fn link_in(text: &str, service: &Service) -> String {
    let start = text.find(&format!("{}/a/", service.url)).unwrap_or_else(|| panic!("no link in {text:?}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

/// The link's page, then its button, as a phone's browser does (no token); the page's text.
fn open_and_acknowledge(link: &str) -> String {
    let page = client().get(link).send().unwrap();
    assert_eq!(page.status(), 200, "GET {link}");
    let pressed = client().post(link).send().unwrap();
    assert_eq!(pressed.status(), 200, "POST {link}");
    page.text().unwrap()
}

/// The link is on `--public-url`; the test opens it on the service's own address.
fn a_check_page_carries_a_link_that_acknowledges_it(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let mut cmd = paging_command(backend, &fake, &config);
    cmd.args(["--public-url", "https://onfail.example.com"]);
    let service = Service::spawn(cmd);
    ping(&service, "nightly/0");
    ping(&service, "nightly/fail");
    wait_for("the page", &service, || fake.texts().len() == 1 && fake.calls().len() == 1);
    let text = &fake.texts()[0].1;
    let start = text.find("https://onfail.example.com/a/").unwrap_or_else(|| panic!("no link in {text:?}"));
    let link = text[start..].split_whitespace().next().unwrap().replace("https://onfail.example.com", &service.url);
    let page = open_and_acknowledge(&link);
    assert!(page.contains("check nightly"), "{page}");
    let logged = || service.log().contains("acknowledged by its link (check nightly)");
    wait_for("the acknowledgement in the log", &service, logged);
    for secret in [API_TOKEN, A] {
        assert!(!service.log().contains(secret), "{}", service.log());
    }
}

/// A chain whose second level would call and text B a while later: the link stops it.
fn an_escalating_check_stops_at_the_link(backend: &Backend) {
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(&format!(
        "{NIGHTLY}escalate = \"chain\"\nphone-numbers = \"{A}\"\nescalation-phone-numbers = \"{B}\"\n\
         escalate-after = \"8s\"\n"
    ));
    let service = paging_service(backend, &fake, &config);
    ping(&service, "nightly/0");
    ping(&service, "nightly/fail");
    wait_for("the first level", &service, || fake.texts().len() == 1 && fake.calls().len() == 1);
    let link = link_in(&fake.texts()[0].1, &service);
    let pressed = Instant::now();
    open_and_acknowledge(&link);
    wait_for("the escalation's end", &service, || service.log().contains("check nightly down: "));
    assert!(pressed.elapsed() < Duration::from_secs(10), "{:?}:\n{}", pressed.elapsed(), service.log());
    let log = service.log();
    assert!(log.contains("acknowledged by link at "), "{log}");
    // There is no run to cancel here: the wait names the link.
    assert!(log.contains("for an acknowledgement (open the SMS's link to acknowledge)"), "{log}");
    // Past the time of the second level: nothing more went out, and the incident is paged.
    std::thread::sleep(Duration::from_secs(10).saturating_sub(pressed.elapsed()));
    assert_eq!(fake.calls(), [vec![A.to_string()]], "{}", service.log());
    assert_eq!(fake.texts().len(), 1, "{}", service.log());
}

/// Two replicas on one PostgreSQL: the link of the page one of them sends, opened on the other,
/// stops the escalation all the same.
#[test]
fn a_link_opened_on_another_replica_stops_the_escalation() {
    let Some(backend) = Backend::postgres() else { return };
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(&format!(
        "{NIGHTLY}escalate = \"chain\"\nphone-numbers = \"{A}\"\nescalation-phone-numbers = \"{B}\"\n\
         escalate-after = \"8s\"\n"
    ));
    let one = paging_service(&backend, &fake, &config);
    let two = paging_service(&backend, &fake, &config);
    ping(&one, "nightly/fail");
    wait_for("the first level", &one, || fake.texts().len() == 1 && fake.calls().len() == 1);
    let text = fake.texts()[0].1.clone();
    let (pager, other) = if text.contains(&format!("{}/a/", one.url)) { (&one, &two) } else { (&two, &one) };
    let link = link_in(&text, pager).replace(&pager.url, &other.url);
    let pressed = Instant::now();
    open_and_acknowledge(&link);
    wait_for("the escalation's end", pager, || pager.log().contains("acknowledged by link at "));
    std::thread::sleep(Duration::from_secs(10).saturating_sub(pressed.elapsed()));
    assert_eq!(fake.calls(), [vec![A.to_string()]], "one:\n{}\ntwo:\n{}", one.log(), two.log());
    assert_eq!(fake.texts().len(), 1);
}

mod links {
    use super::*;
    on_both_stores!(a_check_page_carries_a_link_that_acknowledges_it, an_escalating_check_stops_at_the_link);
}

/// The success comes while the call of the down page is still in flight: its "recovered" is
/// sent once that page is marked, once.
fn a_success_during_the_down_page_is_recovered_after_it(backend: &Backend) {
    let fake = Fake::new(Voice::Slow(Duration::from_secs(3)), &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let service = paging_service(backend, &fake, &config);
    ping(&service, "nightly/0");
    ping(&service, "nightly/7");
    wait_for("the call in flight", &service, || fake.calls().len() == 1);
    ping(&service, "nightly/0");
    wait_for("the down page's end", &service, || service.log().contains("check nightly down: "));
    wait_for("the recovery", &service, || fake.texts().len() == 2);
    assert!(fake.texts()[1].1.starts_with("DÜZELDİ: check nightly"), "{:?}", fake.texts());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.texts().len(), 2, "one recovery:\n{}", service.log());
    assert_eq!(fake.calls().len(), 1);
}

mod in_flight {
    use super::*;
    on_both_stores!(a_success_during_the_down_page_is_recovered_after_it);
}

/// Two replicas: whichever pages, one "recovered".
#[test]
fn two_replicas_recover_a_success_during_the_down_page_once() {
    let Some(backend) = Backend::postgres() else { return };
    let fake = Fake::new(Voice::Slow(Duration::from_secs(3)), &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let one = paging_service(&backend, &fake, &config);
    let two = paging_service(&backend, &fake, &config);
    ping(&one, "nightly/0");
    ping(&two, "nightly/7");
    wait_for("the call in flight", &one, || fake.calls().len() == 1);
    ping(&one, "nightly/0");
    wait_for("the recovery", &one, || fake.texts().len() == 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fake.texts().len(), 2, "one:\n{}\ntwo:\n{}", one.log(), two.log());
    assert_eq!(fake.calls().len(), 1);
}

/// SIGTERM while the call is in flight: the page finishes and is marked, the exit is 0, and a
/// restart does not page again.
#[test]
fn sigterm_finishes_the_page_in_flight() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Slow(Duration::from_secs(3)), &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let service = paging_service(&backend, &fake, &config);
    ping(&service, "nightly/7");
    wait_for("the call in flight", &service, || fake.calls().len() == 1);
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("stopping: waiting up to 30s for the pages in flight"), "{log}");
    assert!(log.contains("check nightly down: voice sent"), "{log}");
    let service = paging_service(&backend, &fake, &config);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fake.calls().len(), 1, "paged again after a stop that finished the page:\n{}", service.log());
}

/// A second signal does not wait: the page in flight is given back, and the next start pages
/// it at once (the call may have gone out: a duplicate beats a missed page).
#[test]
fn a_second_signal_gives_the_page_back_and_the_next_start_pages_at_once() {
    let backend = Backend::sqlite();
    let hanging = Fake::new(Voice::Hang, &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let service = paging_service(&backend, &hanging, &config);
    ping(&service, "nightly/7");
    wait_for("the call in flight", &service, || hanging.calls().len() == 1);
    let pid = service.pid().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let stopped = Instant::now();
    let (code, log) = service.stop("-TERM");
    assert!(stopped.elapsed() < Duration::from_secs(5), "{:?}:\n{log}", stopped.elapsed());
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("check nightly: its page did not finish before the stop; it is given back"), "{log}");
    let fake = Fake::new(Voice::Queue, &[]);
    let started = Instant::now();
    let service = paging_service(&backend, &fake, &config);
    wait_for("the page again", &service, || fake.calls().len() == 1);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// SIGKILL while the call is in flight: no code runs, and the claim runs out within its
/// lease (30 s, renewed while a page is in flight), not 20 minutes later.
#[test]
fn after_sigkill_mid_page_the_next_start_pages_within_the_lease() {
    let backend = Backend::sqlite();
    let hanging = Fake::new(Voice::Hang, &[]);
    let (_dir, config) = config_file(NIGHTLY);
    let service = paging_service(&backend, &hanging, &config);
    ping(&service, "nightly/7");
    wait_for("the call in flight", &service, || hanging.calls().len() == 1);
    // Past one renewal: the lease is renewed, and still runs out after the kill.
    std::thread::sleep(Duration::from_secs(6));
    let killed = Instant::now();
    service.stop("-KILL");
    let fake = Fake::new(Voice::Queue, &[]);
    let service = paging_service(&backend, &fake, &config);
    let deadline = Instant::now() + Duration::from_secs(45);
    while fake.calls().is_empty() {
        assert!(Instant::now() < deadline, "not paged again after the kill:\n{}", service.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(killed.elapsed() > Duration::from_secs(20), "paged again while the claim held: {:?}", killed.elapsed());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fake.calls().len(), 1, "{}", service.log());
}

/// SIGTERM during an escalation's wait, which takes longer than the stop waits: after 30 s the
/// page is given back and the exit is 0; the next start pages it again at once.
#[test]
fn a_page_that_cannot_finish_by_the_stop_is_given_back() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(&format!(
        "{NIGHTLY}escalate = \"chain\"\nphone-numbers = \"{A}\"\nescalation-phone-numbers = \"{B}\"\n\
         escalate-after = \"2m\"\n"
    ));
    let service = paging_service(&backend, &fake, &config);
    ping(&service, "nightly/fail");
    wait_for("the first level", &service, || fake.calls().len() == 1 && service.log().contains("waiting 2m"));
    let stopped = Instant::now();
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
    let took = stopped.elapsed();
    assert!(took >= Duration::from_secs(29) && took < Duration::from_secs(38), "{took:?}:\n{log}");
    assert!(log.contains("check nightly: its page did not finish before the stop; it is given back"), "{log}");
    let again = Fake::new(Voice::Queue, &[]);
    let started = Instant::now();
    let service = paging_service(&backend, &again, &config);
    wait_for("the page again", &service, || again.calls().len() == 1);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(again.calls(), [vec![A.to_string()]]);
}

/// One check escalating (waiting a minute for its link) holds back no other check's page.
#[test]
fn an_escalation_holds_back_no_other_check() {
    let backend = Backend::sqlite();
    let fake = Fake::new(Voice::Queue, &[]);
    let (_dir, config) = config_file(&format!(
        "{NIGHTLY}escalate = \"chain\"\nphone-numbers = \"{A}\"\nescalation-phone-numbers = \"{B}\"\n\
         escalate-after = \"60s\"\n\n[[check]]\nname = \"backup\"\nschedule = \"every 1h\"\nphone-numbers = \"{B}\"\n"
    ));
    let service = paging_service(&backend, &fake, &config);
    ping(&service, "nightly/fail");
    wait_for("the escalation's wait", &service, || service.log().contains("waiting 1m"));
    let failed = Instant::now();
    ping(&service, "backup/fail");
    wait_for("the other check's page", &service, || fake.calls().len() == 2);
    assert!(failed.elapsed() < Duration::from_secs(5), "{:?}:\n{}", failed.elapsed(), service.log());
    assert_eq!(fake.calls()[1], [B.to_string()]);
}
