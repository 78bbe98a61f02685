//! A page is a person reached (docs/noise-control.md, "Paged means a person was reached"): the paths where a
//! page could be lost while reporting success, or rung twice, each end to end against the fake
//! providers of `common::phones` on 127.0.0.1.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::github_api::{FakeGitHub, FakeRun, Script, TOKEN};
use crate::common::phones::{A, B, C, Fake, Voice, go, output, pages};
use crate::common::{KEY, Reply, Server, read, sentinels};

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

/// sms-first: a number only voice knows whose call surely did not go out at once is called
/// again after the wait, with the numbers whose SMS was not delivered (docs/escalation.md,
/// "Escalation"); a call sent and unanswered never is.
#[test]
fn sms_first_calls_again_a_number_whose_first_call_failed() {
    let fake = Fake::new(Voice::RefuseFirst, &[(A, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(dir.path());
    cmd.args(["--escalate", "sms-first", "--escalate-after", "2s"]).args([
        "--phone-numbers",
        &format!("{A},{B}"),
        "--sms-phone-numbers",
        A,
    ]);
    let out = go(cmd);
    // The refused call is still a failed channel (exit 1: something needs fixing), but B was reached.
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(fake.calls(), [vec![B.to_string()], vec![B.to_string()]], "{}", out.stderr);
    assert!(out.stderr.contains("the first call to 5*******43 failed, so it is called again"), "{}", out.stderr);
    let records = pages(&out);
    assert!(records.contains(&("5*******43".into(), "voice".into(), "failed".into())), "{records:?}");
    assert!(records.contains(&("5*******43".into(), "voice".into(), "delivered".into())), "{records:?}");
    assert_eq!(out.json()["paged"], true, "{}", out.stderr);
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

/// A re-run of the same run within iletiMerkezi's 10 minutes: the same text would be refused as
/// a duplicate (451) and the re-run's SMS lost, so the link names the attempt
/// (docs/sms.md, "SMS (iletiMerkezi)").
#[test]
fn a_rerun_within_ten_minutes_texts_again() {
    let fake = Fake::new(Voice::Queue, &[]);
    for attempt in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = fake.send(dir.path());
        cmd.env("GITHUB_RUN_ATTEMPT", attempt).args(["--phone-numbers", A]);
        let out = go(cmd);
        assert_eq!(out.code, 0, "attempt {attempt}: {}", out.stderr);
    }
    let texts = fake.texts();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].1.ends_with("/actions/runs/4242"), "{}", texts[0].1);
    assert!(texts[1].1.ends_with("/actions/runs/4242/attempts/2"), "{}", texts[1].1);
}
