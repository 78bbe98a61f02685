//! A page is a person reached (README, "Paged means a person was reached"): the paths where a
//! page could be lost while reporting success, or rung twice, each end to end against fake
//! providers on 127.0.0.1. The fake iletiMerkezi refuses the same text to the same number as the
//! real one does (451), and the fake Alertalk can fail, hang or ask for a retry.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::github_api::{FakeGitHub, FakeRun, Fault, Script, TOKEN};
use crate::common::{KEY, PHONES, Received, Reply, Run, Server, Spawned, read, sentinels};

const SMS_KEY: &str = "im-SENTINEL-key-5d21c8";
const HASH: &str = "ih-SENTINEL-hash-77e0a4";
const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"OK"},"order":{"id":"555"}}}"#;
const DUPLICATE: &str = r#"{"response":{"status":{"code":451,"message":"Tekrar eden sipariş"}}}"#;
const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;
const A: &str = PHONES[0];
const B: &str = PHONES[1];
/// A third number that ends like A (…567): the two must print different masks.
const C: &str = "5441114567";

/// What the fake Alertalk does with a call.
#[derive(Clone)]
enum Voice {
    Queue,
    /// 403: a bad key.
    Refuse,
    /// 503 with `Retry-After: 2`, every time.
    Busy,
    Hang,
}

/// Alertalk, iletiMerkezi and a webhook on one server, noting every request.
struct Fake {
    server: Server,
    hits: Arc<Mutex<Vec<(Instant, Received)>>>,
}

impl Fake {
    /// `report`: the delivery state get-report gives each number (111 delivered, 112 not).
    fn new(voice: Voice, report: &[(&str, u16)]) -> Fake {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&hits);
        let report: Vec<(String, u16)> = report.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        // (number, text) pairs already accepted: iletiMerkezi refuses a repeat for minutes.
        let texted: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
        let server = Server::routed(move |request: &Received| {
            log.lock().unwrap().push((Instant::now(), request.clone()));
            match request.path.as_str() {
                "/webhook/receive" => match voice {
                    Voice::Queue => Reply::json(200, QUEUED),
                    Voice::Refuse => Reply::json(403, r#"{"message":"invalid key"}"#),
                    Voice::Busy => Reply::json(503, "{}").header("Retry-After", "2"),
                    Voice::Hang => Reply::Hang,
                },
                "/v1/send-sms/json" => {
                    let body = request.json();
                    let text = body["request"]["order"]["message"]["text"].as_str().unwrap_or_default().to_string();
                    let numbers = numbers_of(&body);
                    let mut seen = texted.lock().unwrap();
                    if numbers.iter().any(|n| seen.contains(&(n.clone(), text.clone()))) {
                        return Reply::json(200, DUPLICATE);
                    }
                    seen.extend(numbers.into_iter().map(|n| (n, text.clone())));
                    Reply::json(200, ACCEPTED)
                }
                "/v1/get-report/json" => delivery_report(&report),
                "/hook" => Reply::json(200, "{}"),
                _ => Reply::status(404),
            }
        });
        Fake { server, hits }
    }

    fn hits(&self, path: &str) -> Vec<(Instant, Received)> {
        self.hits.lock().unwrap().iter().filter(|(_, r)| r.path == path).cloned().collect()
    }

    /// The numbers of each call, in order.
    fn calls(&self) -> Vec<Vec<String>> {
        self.hits("/webhook/receive")
            .iter()
            .map(|(_, r)| r.json()["phone_number"].as_str().unwrap().split(',').map(str::to_string).collect())
            .collect()
    }

    /// The numbers and text of each SMS order, in order.
    fn texts(&self) -> Vec<(Vec<String>, String)> {
        self.hits("/v1/send-sms/json")
            .iter()
            .map(|(_, r)| {
                let body = r.json();
                (numbers_of(&body), body["request"]["order"]["message"]["text"].as_str().unwrap().to_string())
            })
            .collect()
    }

    /// `onfail send` under GitHub Actions with voice, SMS and a webhook aimed at the fake and
    /// its output files in `dir`; `--output json`.
    fn send(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("onfail"));
        cmd.env_clear()
            .env("RUST_BACKTRACE", "0")
            .env("HOSTNAME", "test-host")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", "acme/api")
            .env("GITHUB_WORKFLOW", "Deploy")
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_OUTPUT", dir.join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
            .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
            .env("ONFAIL_SMS_SENDER", "ACME")
            .args(["send", "--output", "json"])
            .args(["--alertalk-url", &self.server.url("/webhook/receive")])
            .args(["--iletimerkezi-url", &self.server.url("")])
            .args(["--webhook-url", &self.server.url("/hook")]);
        cmd
    }
}

fn numbers_of(body: &serde_json::Value) -> Vec<String> {
    let list = body["request"]["order"]["message"]["receipents"]["number"].as_array().cloned().unwrap_or_default();
    list.iter().map(|n| n.as_str().unwrap().trim_start_matches("90").to_string()).collect()
}

fn delivery_report(numbers: &[(String, u16)]) -> Reply {
    let messages: Vec<String> = numbers.iter().map(|(n, s)| format!(r#"{{"number":"+90{n}","status":{s}}}"#)).collect();
    Reply::json(
        200,
        &format!(
            r#"{{"response":{{"status":{{"code":200,"message":"OK"}},"order":{{"id":"555","status":114,"message":[{}]}}}}}}"#,
            messages.join(",")
        ),
    )
}

/// Runs to the end; no secret and no number shows in any output.
fn go(mut cmd: Command) -> Run {
    cmd.env("ONFAIL_TIMEOUT", "10s");
    let out = crate::common::run(&mut assert_cmd::Command::from_std(cmd));
    out.assert_clean(&[SMS_KEY.to_string(), HASH.to_string(), C.to_string(), TOKEN.to_string()]);
    out
}

/// The value of one step output in a `$GITHUB_OUTPUT` file.
fn output(dir: &Path, name: &str) -> Option<String> {
    let file = read(&dir.join("output"));
    let mut lines = file.lines();
    while let Some(line) = lines.next() {
        if line.split_once("<<").is_some_and(|(key, _)| key == name) {
            return lines.next().map(str::to_string);
        }
    }
    None
}

/// The `pages` records of the JSON document: (masked number, channel, result).
fn pages(out: &Run) -> Vec<(String, String, String)> {
    let json = out.json();
    let records = json["pages"].as_array().cloned().unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap().to_string();
            (text("recipient"), text("channel"), text("result"))
        })
        .collect()
}

#[test]
fn sms_first_calls_a_number_only_voice_knows_at_once() {
    let fake = Fake::new(Voice::Queue, &[(A, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--escalate", "sms-first", "--escalate-after", "20s"]).args([
        "--phone-numbers",
        &format!("{A},{B}"),
        "--sms-phone-numbers",
        A,
    ]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.texts().iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), [vec![A.to_string()]]);
    // B is on no SMS list: it is called with the first page, not after a wait, and A, whose SMS
    // was delivered, is not called.
    assert_eq!(fake.calls(), [vec![B.to_string()]], "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    let records = pages(&out);
    assert!(records.contains(&("5*******43".into(), "voice".into(), "delivered".into())), "{records:?}");
    assert!(records.contains(&("5*******67".into(), "sms".into(), "delivered".into())), "{records:?}");
    assert_eq!(out.json()["paged"], true);
    assert!(out.stderr.contains("paged: 5*******43 (voice), 5*******67 (sms)"), "{}", out.stderr);
    assert!(out.stderr.contains("calls 5*******43 at once (no SMS list has it)"), "{}", out.stderr);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 8, ..Default::default() })]

    /// Whatever the split of three numbers between --phone-numbers and --sms-phone-numbers,
    /// and whatever the report says, every number is paged and none is called twice.
    #[test]
    fn sms_first_leaves_no_number_out_whatever_the_split(
        split in proptest::collection::vec((0u8..3, proptest::bool::ANY), 3),
    ) {
        let numbers = [A, B, C];
        // 0: voice only, 1: SMS only, 2: both; the bool: the SMS was delivered.
        let voice: Vec<&str> = numbers.iter().zip(&split).filter(|(_, (l, _))| *l != 1).map(|(n, _)| *n).collect();
        let mut sms: Vec<&str> = numbers.iter().zip(&split).filter(|(_, (l, _))| *l != 0).map(|(n, _)| *n).collect();
        // Both lists need a number; a split that leaves one empty is a configuration error.
        proptest::prop_assume!(!voice.is_empty() && !sms.is_empty());
        sms.sort();
        let report: Vec<(&str, u16)> =
            numbers.iter().zip(&split).filter(|(_, (l, _))| *l != 0).map(|(n, (_, ok))| (*n, if *ok { 111 } else { 112 })).collect();
        let fake = Fake::new(Voice::Queue, &report);
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = fake.send(dir.path());
        cmd.args(["--escalate", "sms-first", "--escalate-after", "5s"])
            .args(["--phone-numbers", &voice.join(","), "--sms-phone-numbers", &sms.join(",")]);
        let out = go(cmd);
        proptest::prop_assert_eq!(out.code, 0, "{}", out.stderr);
        let texted: Vec<String> = fake.texts().into_iter().flat_map(|(n, _)| n).collect();
        let called: Vec<String> = fake.calls().into_iter().flatten().collect();
        for number in numbers.iter().filter(|n| voice.contains(n) || sms.contains(n)) {
            proptest::prop_assert!(texted.contains(&number.to_string()) || called.contains(&number.to_string()),
                "{} was paged by nothing: texted {:?}, called {:?}", number, texted, called);
        }
        let mut once = called.clone();
        once.sort();
        once.dedup();
        proptest::prop_assert_eq!(once.len(), called.len(), "a number was called twice: {:?}", called);
        for (number, status) in &report {
            proptest::prop_assert_eq!(called.contains(&number.to_string()), *status != 111);
        }
    }
}

/// `onfail send --notify-when changes` outside GitHub, with its state in `state`.
fn on_cron(fake: &Fake, state: &Path, voice_url: &str) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("onfail"));
    cmd.env_clear()
        .env("RUST_BACKTRACE", "0")
        .env("HOSTNAME", "test-host")
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .args(["send", "--output", "json", "--notify-when", "changes", "--alert-id", "nightly-backup"])
        .arg("--state-dir")
        .arg(state)
        .args(["--phone-numbers", A, "--alertalk-url", voice_url, "--webhook-url", &fake.server.url("/hook")]);
    cmd
}

#[test]
fn a_failed_call_is_not_recorded_as_paged_even_when_the_webhook_got_through() {
    let state = tempfile::tempdir().unwrap();
    let down = Fake::new(Voice::Refuse, &[]);
    let first = go(on_cron(&down, state.path(), &down.server.url("/webhook/receive")));
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(first.json()["paged"], false);
    assert!(first.stderr.contains("NOT paged: not reached: 5*******67 by voice (failed)"), "{}", first.stderr);
    assert!(first.stderr.contains("not recorded as paged: the next failure pages again"), "{}", first.stderr);
    assert_eq!(down.hits("/hook").len(), 1, "the webhook got through");

    // The next failure finds no paged failure before it: it calls.
    let up = Fake::new(Voice::Queue, &[]);
    let second = go(on_cron(&up, state.path(), &up.server.url("/webhook/receive")));
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(up.calls(), [vec![A.to_string()]], "{}", second.stderr);
    assert_ne!(second.json()["edge"], "still-failing");
    assert_eq!(second.json()["paged"], true);

    // That one was paged: the third failure is still failing, and silent on the phone.
    let third = go(on_cron(&up, state.path(), &up.server.url("/webhook/receive")));
    assert_eq!(third.json()["edge"], "still-failing", "{}", third.stderr);
    assert_eq!(up.calls().len(), 1);
}

/// `onfail send --notify-when changes` in run #17 of Deploy on main, in job `JOB`.
fn on_github(fake: &Fake, api: &FakeGitHub, dir: &Path) -> Command {
    let mut cmd = fake.send(dir);
    cmd.env("GITHUB_RUN_NUMBER", "17")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .env("GITHUB_API_URL", api.url())
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .args(["--notify-when", "changes", "--check-run-id", &CHECK_RUN_ID.to_string(), "--phone-numbers", A]);
    cmd
}

const CHECK_RUN_ID: u64 = 777;
const JOB: &str = "deploy";

fn github_with_failed_job(annotated: bool) -> (FakeGitHub, u64) {
    let previous = FakeRun::done(16, "failure").job(JOB, "failure");
    let job_id = previous.job_id(0);
    let mut script = Script::new(vec![FakeRun::current(), previous, FakeRun::done(15, "success").job(JOB, "success")]);
    script.current_job = Some((CHECK_RUN_ID, JOB));
    if annotated {
        script.annotations = vec![(job_id, "onfail: not paged")];
    }
    (FakeGitHub::new(script), job_id)
}

#[test]
fn on_github_a_failure_whose_call_failed_is_marked_and_the_next_run_pages_again() {
    // This run's call fails while the webhook gets through: the job is marked for the next run.
    let (api, _) = github_with_failed_job(false);
    let down = Fake::new(Voice::Refuse, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = on_github(&down, &api, dir.path());
    // Run #16, after the success of #15: a first failure.
    cmd.env("GITHUB_RUN_NUMBER", "16");
    let marked = go(cmd);
    assert_eq!(marked.code, 1, "{}", marked.stderr);
    assert_eq!(output(dir.path(), "paged").as_deref(), Some("false"), "{}", marked.stderr);
    // The title is escaped as a workflow command property; GitHub stores it as written.
    assert!(marked.stderr.contains("::warning title=onfail%3A not paged::"), "{}", marked.stderr);
    assert_eq!(down.hits("/hook").len(), 1, "the webhook got through");

    // The next run finds the mark on the failed job: it pages, where it would have stayed silent.
    let (api, job_id) = github_with_failed_job(true);
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = go(on_github(&fake, &api, dir.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.calls(), [vec![A.to_string()]], "{}", out.stderr);
    assert_eq!(out.json()["edge"], "first-failure");
    assert!(api.paths().iter().any(|p| p.starts_with(&format!("/repos/acme/api/check-runs/{job_id}/annotations"))));

    // Without the mark it is still failing, as before.
    let (api, _) = github_with_failed_job(false);
    let quiet = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = go(on_github(&quiet, &api, dir.path()));
    assert_eq!(out.json()["edge"], "still-failing", "{}", out.stderr);
    assert!(quiet.calls().is_empty());
}

#[test]
fn without_checks_read_a_marked_failure_counts_as_paged_with_a_warning_naming_the_fix() {
    let (api, _) = {
        let previous = FakeRun::done(16, "failure").job(JOB, "failure");
        let mut script = Script::new(vec![FakeRun::current(), previous]);
        script.current_job = Some((CHECK_RUN_ID, JOB));
        script.annotations_refused = Some(403);
        (FakeGitHub::new(script), ())
    };
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let out = go(on_github(&fake, &api, dir.path()));
    assert_eq!(out.json()["edge"], "still-failing", "{}", out.stderr);
    assert!(out.stderr.contains("give the workflow `permissions: checks: read` too"), "{}", out.stderr);
}

#[test]
fn every_repeated_round_texts_a_new_sms() {
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "200ms",
        "--escalation-repeat",
        "2",
    ]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "no round may fail the step: {}", out.stderr);
    let texts = fake.texts();
    assert_eq!(texts.len(), 6, "three rounds of two levels: {texts:?}");
    for level in 0..2 {
        let rounds: Vec<&String> = texts.iter().skip(level).step_by(2).map(|(_, t)| t).collect();
        assert_ne!(rounds[0], rounds[1]);
        assert_ne!(rounds[1], rounds[2]);
        assert!(rounds[1].starts_with("2. tur: ") && rounds[2].starts_with("3. tur: "), "{rounds:?}");
    }
    let json = out.json();
    let failed: Vec<&serde_json::Value> =
        json["channels"].as_array().unwrap().iter().filter(|c| c["result"] != "sent").collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[test]
fn a_fork_pull_request_without_secrets_skips_cleanly_under_escalation() {
    for mode in ["chain", "sms-first"] {
        for status in ["failure", "success"] {
            let dir = tempfile::tempdir().unwrap();
            let mut cmd = crate::common::onfail();
            crate::common::github_env(&mut cmd)
                .env("GITHUB_OUTPUT", dir.path().join("output"))
                // A fork's run: every secret is empty.
                .env("ONFAIL_ALERTALK_WEBHOOK_KEY", "")
                .env("ONFAIL_PHONE_NUMBERS", "")
                .env("ONFAIL_ESCALATION_PHONE_NUMBERS", "")
                .args(["send", "--escalate", mode, "--status", status]);
            let out = crate::common::run(&mut cmd);
            assert_eq!(out.code, 0, "{mode} {status}: {}", out.stderr);
            assert!(out.stderr.contains("no channel is configured"), "{mode} {status}: {}", out.stderr);
            assert_eq!(output(dir.path(), "result").as_deref(), Some("skipped"));
        }
    }
}

#[test]
fn a_resolve_that_fails_on_success_is_a_warning_and_exit_0() {
    let incident = Server::new(Vec::new(), Reply::json(500, "{}"));
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::common::onfail();
    crate::common::github_env(&mut cmd)
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .args(["send", "--status", "success", "--retries", "0"])
        .args([
            "--temperstack-url",
            &incident.url(&format!("/api/integration/webhook/{}", crate::common::TEMPERSTACK_KEY)),
        ]);
    let out = crate::common::run(&mut cmd);
    assert_eq!(out.code, 0, "a green job stays green: {}", out.stderr);
    assert_eq!(incident.received().len(), 1);
    assert!(out.stderr.contains("::warning title=onfail temperstack"), "{}", out.stderr);
    assert!(!out.stderr.contains("::error"), "{}", out.stderr);
    assert_eq!(output(dir.path(), "result").as_deref(), Some("failed"));
    // A failure whose incident fails is still exit 1.
    let mut cmd = crate::common::onfail();
    cmd.args(["send", "--status", "failure", "--retries", "0"]).args([
        "--temperstack-url",
        &incident.url(&format!("/api/integration/webhook/{}", crate::common::TEMPERSTACK_KEY)),
    ]);
    assert_eq!(crate::common::run(&mut cmd).code, 1);
}

/// Starts `cmd`, waits for the stderr line `ready`, sends `signal`, and returns the run and how
/// long onfail took to exit after the signal.
fn interrupted(cmd: &mut Command, ready: &str, signal: &str) -> (Run, Duration) {
    let spawned = Spawned::start(cmd);
    spawned.wait_for_line(ready, Duration::from_secs(20));
    let signalled = Instant::now();
    spawned.signal(signal);
    let (out, took) = spawned.finish(Duration::from_secs(20), signalled);
    out.assert_clean(&[SMS_KEY.to_string(), HASH.to_string(), TOKEN.to_string()]);
    (out, took)
}

#[cfg(unix)]
#[test]
fn a_cancel_during_the_history_lookup_acknowledges_cleanly_and_sends_nothing() {
    let mut script = Script::new(vec![FakeRun::current()]);
    script.fault = Fault::Hang;
    let api = FakeGitHub::new(script);
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("GITHUB_RUN_NUMBER", "17")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .env("GITHUB_API_URL", api.url())
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .args(["--notify-when", "changes", "--escalate", "chain", "--phone-numbers", A])
        .args(["--escalation-phone-numbers", B]);
    let spawned = Spawned::start(&mut cmd);
    let until = Instant::now() + Duration::from_secs(10);
    while api.server.received().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!api.server.received().is_empty(), "the lookup never started");
    let signalled = Instant::now();
    spawned.signal("-INT");
    let (out, took) = spawned.finish(Duration::from_secs(20), signalled);
    assert!(took < Duration::from_secs(5), "onfail took {took:?} after the cancel");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.calls().is_empty() && fake.texts().is_empty() && fake.hits("/hook").is_empty());
    assert_eq!(output(dir.path(), "acknowledged").as_deref(), Some("true"), "{}", out.stderr);
    assert_eq!(out.json()["escalation"]["ended"], "acknowledged");
    // Nobody was reached: the failure is not taken for paged.
    assert_eq!(output(dir.path(), "paged").as_deref(), Some(""));
    assert!(
        out.stderr.contains("escalation: acknowledged (the run was cancelled): nothing more is sent"),
        "{}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_acknowledgement_between_retries_stops_every_request() {
    let fake = Fake::new(Voice::Busy, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "1s",
        "--retries",
        "5",
        "--timeout",
        "30s",
    ]);
    let spawned = Spawned::start(&mut cmd);
    let until = Instant::now() + Duration::from_secs(10);
    while fake.calls().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The first call was answered 503 with Retry-After: 2; the retry waits.
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    spawned.signal("-INT");
    let (out, took) = spawned.finish(Duration::from_secs(20), signalled);
    assert!(took < Duration::from_secs(5), "onfail took {took:?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fake.calls().len(), 1, "no call after the acknowledgement: {:?}", fake.calls());
    assert!(!fake.calls().iter().flatten().any(|n| n == B), "level 2 was never paged");
    assert_eq!(output(dir.path(), "acknowledged").as_deref(), Some("true"));
}

#[cfg(unix)]
#[test]
fn an_acknowledgement_during_a_hanging_call_ends_onfail_within_seconds_with_its_outputs() {
    let fake = Fake::new(Voice::Hang, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "1s",
        "--timeout",
        "60s",
    ]);
    let spawned = Spawned::start(&mut cmd);
    let until = Instant::now() + Duration::from_secs(10);
    while fake.calls().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = Instant::now();
    spawned.signal("-TERM");
    let (out, took) = spawned.finish(Duration::from_secs(20), signalled);
    assert!(took < Duration::from_secs(5), "onfail took {took:?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("abandoned in flight"), "{}", out.stderr);
    assert_eq!(output(dir.path(), "acknowledged").as_deref(), Some("true"));
    assert_eq!(fake.calls().len(), 1);
    // The call may have gone out: its result is unknown, and the failure not paged.
    assert!(pages(&out).contains(&("5*******67".into(), "voice".into(), "unknown".into())), "{:?}", pages(&out));
}

#[cfg(unix)]
#[test]
fn a_cancel_by_a_newer_run_of_the_workflow_and_branch_is_superseded() {
    let mut newer = FakeRun::done(18, "");
    newer.status = "queued";
    newer.conclusion = None;
    let api = FakeGitHub::new(Script::new(vec![newer, FakeRun::current(), FakeRun::done(16, "success")]));
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("GITHUB_RUN_NUMBER", "17")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .env("GITHUB_API_URL", api.url())
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B])
        .args(["--escalate-after", "60s"]);
    let (out, took) = interrupted(&mut cmd, "escalation: waiting 1m for an acknowledgement", "-INT");
    assert!(took < Duration::from_secs(5), "onfail took {took:?}");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(output(dir.path(), "superseded").as_deref(), Some("true"), "{}", out.stderr);
    assert_eq!(output(dir.path(), "acknowledged").as_deref(), Some("false"));
    let json = out.json();
    assert_eq!(json["escalation"]["ended"], "superseded");
    assert_eq!(json["escalation"]["superseded_by"], "https://github.com/acme/api/actions/runs/1018");
    assert!(read(&dir.path().join("summary")).contains("**superseded**"));
    assert!(
        out.stderr.contains("escalation: superseded by a newer run of this workflow and branch (https://github.com/acme/api/actions/runs/1018)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("escalation: acknowledged"), "{}", out.stderr);
    assert_eq!(fake.calls().len(), 1);

    // With no newer run, the same cancel is an acknowledgement.
    let api = FakeGitHub::new(Script::new(vec![FakeRun::current(), FakeRun::done(16, "success")]));
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.env("GITHUB_RUN_NUMBER", "17")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .env("GITHUB_API_URL", api.url())
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .args(["--escalate", "chain", "--phone-numbers", A, "--escalation-phone-numbers", B])
        .args(["--escalate-after", "60s"]);
    let (out, _) = interrupted(&mut cmd, "escalation: waiting 1m for an acknowledgement", "-INT");
    assert_eq!(output(dir.path(), "acknowledged").as_deref(), Some("true"), "{}", out.stderr);
    assert_eq!(output(dir.path(), "superseded").as_deref(), Some("false"));
}

#[cfg(unix)]
#[test]
fn sigterm_after_the_command_ended_stops_onfail_run_promptly() {
    let fake = Fake::new(Voice::Hang, &[]);
    let dir = tempfile::tempdir().unwrap();
    let cmd = fake.send(dir.path());
    // `onfail run`, not `send`: the same options, then the command.
    let args: Vec<String> = cmd.get_args().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let mut run = Command::new(cmd.get_program());
    run.env_clear().envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))));
    run.arg("run").args(args).args(["--phone-numbers", A, "--timeout", "60s", "--", "sh", "-c", "exit 3"]);
    let spawned = Spawned::start(&mut run);
    let until = Instant::now() + Duration::from_secs(10);
    while fake.calls().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fake.calls().len(), 1, "the alert is in flight");
    let signalled = Instant::now();
    spawned.signal("-TERM");
    let (out, took) = spawned.finish(Duration::from_secs(20), signalled);
    assert!(took < Duration::from_secs(5), "onfail run took {took:?} after SIGTERM");
    assert_eq!(out.code, 3, "the command's own code: {}", out.stderr);
    assert!(out.stderr.contains("abandoned in flight"), "{}", out.stderr);
    assert!(out.stderr.contains("stopped (SIGINT/SIGTERM) while alerting: no request or retry"), "{}", out.stderr);
    assert_eq!(fake.calls().len(), 1, "no retry after the stop");
}

#[test]
fn numbers_that_end_alike_print_different_masks_and_the_report_says_who_was_called() {
    let fake = Fake::new(Voice::Queue, &[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--phone-numbers", &format!("{A},{C}")]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let voice = json["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "voice").unwrap().clone();
    let masks: Vec<&str> = voice["recipients"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(masks.len(), 2);
    assert_ne!(masks[0], masks[1], "{masks:?}");
    assert_eq!(masks, ["5****34567", "5****14567"]);
    assert!(out.stderr.contains("paged: 5****34567 (voice, sms), 5****14567 (voice, sms)"), "{}", out.stderr);
    let summary = read(&dir.path().join("summary"));
    assert!(summary.contains("5\\*\\*\\*\\*34567"), "{summary}");
    for secret in sentinels().iter().chain([C.to_string(), format!("90{C}")].iter()) {
        assert!(!summary.contains(secret.as_str()), "the summary leaks {secret}");
    }
}
