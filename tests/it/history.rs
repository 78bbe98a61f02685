//! `--notify-when changes` on GitHub Actions, end to end: the binary runs as a process with a
//! GitHub environment whose `GITHUB_API_URL` points at a fake REST API on 127.0.0.1, and every
//! channel points at its own local server. Each row of the decision table and each pitfall of
//! the runs API has a case; the token appears in no output.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::github_api::{FakeGitHub, FakeRun, Fault, RUN_ID, Script, TOKEN};
use crate::common::{KEY, PHONES, Run, Server, TEMPERSTACK_KEY, github_env, onfail, read, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;
const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"İşlem başarılı"},"order":{"id":"12323232"}}}"#;
const SMS_KEY: &str = "ik-SENTINEL-key-90ab12";
const SMS_HASH: &str = "ih-SENTINEL-hash-cd34ef";
const CHECK_RUN_ID: u64 = 777;
const JOB: &str = "deploy (ubuntu-latest)";

/// One local server per channel.
struct Providers {
    voice: Server,
    sms: Server,
    incident: Server,
    webhook: Server,
    _dir: tempfile::TempDir,
    output: PathBuf,
    summary: PathBuf,
}

impl Providers {
    fn new() -> Providers {
        let dir = tempfile::tempdir().unwrap();
        let (output, summary) = (dir.path().join("output"), dir.path().join("summary"));
        Providers {
            voice: Server::ok(QUEUED),
            sms: Server::ok(ACCEPTED),
            incident: Server::ok("{}"),
            webhook: Server::ok("{}"),
            _dir: dir,
            output,
            summary,
        }
    }

    /// What each provider received: the voice calls, SMS texts, incident statuses, webhook messages.
    fn sms_text(&self) -> String {
        let body = self.sms.received()[0].json();
        body["request"]["order"]["message"]["text"].as_str().unwrap_or_default().to_string()
    }

    fn webhook_message(&self) -> String {
        self.webhook.received()[0].json()["data"]["message"].as_str().unwrap().to_string()
    }

    fn incident_status(&self) -> String {
        self.incident.received()[0].json()["status"].as_str().unwrap().to_string()
    }
}

/// `onfail send --notify-when changes` in run #17 of Deploy on main, every channel configured.
fn send(api: &FakeGitHub, providers: &Providers, status: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    github_env(&mut cmd)
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .env("GITHUB_API_URL", api.url())
        .env("GITHUB_OUTPUT", &providers.output)
        .env("GITHUB_STEP_SUMMARY", &providers.summary)
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .env("ONFAIL_NOTIFY_WHEN", "changes")
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", SMS_HASH)
        .args(["send", "--status", status, "--output", "json", "--phone-numbers", PHONES[0], "--sms-sender", "ACME"])
        .args(["--alertalk-url", &providers.voice.url("/webhook/receive")])
        .args(["--iletimerkezi-url", &providers.sms.url("")])
        .args(["--temperstack-url", &providers.incident.url(&format!("/api/integration/webhook/{TEMPERSTACK_KEY}"))])
        .args(["--webhook-url", &providers.webhook.url("/hook")]);
    cmd
}

/// Runs and checks that no secret, the token included, shows anywhere.
fn go(cmd: &mut assert_cmd::Command, providers: &Providers) -> Run {
    let out = run(cmd);
    let secrets = [TOKEN.to_string(), SMS_KEY.to_string(), SMS_HASH.to_string()];
    out.assert_clean(&secrets);
    for file in [&providers.output, &providers.summary] {
        let text = read(file);
        assert!(!text.contains(TOKEN), "{} leaks the token:\n{text}", file.display());
    }
    out
}

/// Channel name → result, from the JSON document.
fn results(out: &Run) -> BTreeMap<String, String> {
    let json = out.json();
    json["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel"].as_str().unwrap().to_string(), c["result"].as_str().unwrap().to_string()))
        .collect()
}

fn detail(out: &Run, channel: &str) -> String {
    let json = out.json();
    let found = json["channels"].as_array().unwrap().iter().find(|c| c["channel"] == channel).cloned();
    found.map(|c| c["detail"].as_str().unwrap_or_default().to_string()).unwrap_or_default()
}

fn expect(out: &Run, want: [(&str, &str); 4]) {
    let want: BTreeMap<String, String> = want.iter().map(|(c, r)| (c.to_string(), r.to_string())).collect();
    assert_eq!(results(out), want, "{}", out.stderr);
}

fn edge(out: &Run) -> String {
    out.json()["edge"].as_str().unwrap_or_default().to_string()
}

fn history(runs: Vec<FakeRun>) -> Vec<FakeRun> {
    let mut all = vec![FakeRun::current()];
    all.extend(runs);
    all
}

#[test]
fn a_first_failure_pages_every_channel_within_one_request() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "success"), FakeRun::done(15, "failure")])));
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "failure"), &p);
    assert_eq!(out.code, 0, "{}", out.stderr);
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert_eq!(edge(&out), "first-failure");
    assert_eq!(out.json()["previous_run_url"], "https://github.com/acme/api/actions/runs/1016");
    assert!(out.stderr.contains("edge: first-failure (previous run: https://github.com/acme/api/actions/runs/1016)"));
    // The whole run is compared, with one request that carries GitHub's headers.
    let requests = api.server.received();
    assert_eq!(requests.len(), 1, "{:?}", api.paths());
    let list = &requests[0];
    assert!(list.path.starts_with("/repos/acme/api/actions/workflows/deploy.yml/runs?"), "{}", list.path);
    for part in ["branch=main", "status=completed", "exclude_pull_requests=true"] {
        assert!(list.path.contains(part), "{}", list.path);
    }
    assert_eq!(list.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(list.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(list.header("x-github-api-version"), Some("2022-11-28"));
    let outputs = read(&p.output);
    assert!(outputs.contains("edge<<") && outputs.contains("\nfirst-failure\n"), "{outputs}");
    assert!(outputs.contains("\nhttps://github.com/acme/api/actions/runs/1016\n"), "{outputs}");
}

#[test]
fn still_failing_keeps_voice_and_sms_silent_and_says_since_when() {
    // #16 failed, #15 was cancelled (stepped over), #14 failed, #13 succeeded: failing since #14.
    let runs = vec![
        FakeRun::done(16, "failure"),
        FakeRun::done(15, "cancelled"),
        FakeRun::done(14, "timed_out"),
        FakeRun::done(13, "success"),
    ];
    let api = FakeGitHub::new(Script::new(history(runs)));
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "failure"), &p);
    assert_eq!(out.code, 0, "{}", out.stderr);
    expect(&out, [("voice", "skipped"), ("sms", "skipped"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert_eq!(edge(&out), "still-failing");
    assert!(detail(&out, "voice").starts_with("still failing since run #14"), "{}", detail(&out, "voice"));
    assert!(p.voice.received().is_empty() && p.sms.received().is_empty());
    assert_eq!(p.incident_status(), "Alarm");
    let summary = read(&p.summary);
    // The summary escapes Markdown: `#` is written `\#`.
    assert!(summary.contains(r"still failing since run \#14") && summary.contains("Edge `still-failing`"), "{summary}");
    assert!(
        out.stderr.contains("voice (alertalk) → 5*******67: skipped: still failing since run #14"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_first_success_after_a_failure_says_recovered_without_a_call() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure"), FakeRun::done(15, "success")])));
    let p = Providers::new();
    // --notify-on is failure only (the default): the recovery notice goes out all the same.
    let out = go(&mut send(&api, &p, "success"), &p);
    assert_eq!(out.code, 0, "{}", out.stderr);
    expect(&out, [("voice", "skipped"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert_eq!(edge(&out), "recovered");
    assert!(p.voice.received().is_empty());
    assert_eq!(p.incident_status(), "OK");
    // The phone hears Turkish, the screen reads English (docs/language.md, "Language").
    assert!(p.sms_text().starts_with("CI DÜZELDİ: Deploy (acme/api, main) yeniden başarılı."), "{}", p.sms_text());
    let message = p.webhook_message();
    assert!(message.starts_with("CI RECOVERED: Deploy (acme/api, main) is passing again."), "{message}");
}

#[test]
fn a_success_after_a_success_only_resolves() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "success")])));
    let p = Providers::new();
    let mut cmd = send(&api, &p, "success");
    let out = go(cmd.args(["--notify-on", "always"]), &p);
    expect(&out, [("voice", "skipped"), ("sms", "skipped"), ("temperstack", "sent"), ("webhook", "skipped")]);
    assert_eq!(edge(&out), "steady");
    assert!(detail(&out, "webhook").contains("nothing changed"), "{}", detail(&out, "webhook"));
    assert_eq!(p.incident_status(), "OK");
}

#[test]
fn cancelled_and_skipped_do_nothing_and_ask_nothing() {
    for status in ["cancelled", "skipped"] {
        let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure")])));
        let p = Providers::new();
        let mut cmd = send(&api, &p, status);
        let out = go(cmd.args(["--notify-on", "always"]), &p);
        expect(&out, [("voice", "skipped"), ("sms", "skipped"), ("temperstack", "skipped"), ("webhook", "skipped")]);
        assert_eq!(edge(&out), "steady");
        assert!(api.server.received().is_empty(), "{status}: {:?}", api.paths());
    }
}

#[test]
fn no_earlier_run_is_a_first_failure_without_a_previous_url() {
    let api = FakeGitHub::new(Script::new(history(vec![])));
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "failure"), &p);
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert_eq!(edge(&out), "first-failure");
    assert!(out.json().get("previous_run_url").is_none());
    // On the first success there is nothing to recover from.
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "success"), &p);
    expect(&out, [("voice", "skipped"), ("sms", "skipped"), ("temperstack", "sent"), ("webhook", "skipped")]);
}

#[test]
fn the_comparison_skips_newer_runs_other_branches_forks_and_non_verdicts() {
    // Only #11 (success) counts: the rest is newer, elsewhere, or says nothing about health.
    let runs = vec![
        FakeRun { number: 18, ..FakeRun::done(18, "failure") },
        FakeRun::done(16, "failure").on("main-old", "acme/api"),
        FakeRun::done(15, "failure").on("main", "forker/api"),
        FakeRun::done(14, "failure").on("feature", "acme/api"),
        FakeRun::done(13, "cancelled"),
        FakeRun::done(12, "skipped"),
        FakeRun::done(10, "neutral"),
        FakeRun::done(9, "stale"),
        FakeRun::done(8, "action_required"),
        FakeRun { status: "in_progress", conclusion: None, ..FakeRun::done(7, "") },
        FakeRun::done(11, "success"),
        FakeRun::done(6, "failure"),
    ];
    let api = FakeGitHub::new(Script::new(history(runs)));
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "failure"), &p);
    assert_eq!(edge(&out), "first-failure", "{}", out.stderr);
    assert_eq!(out.json()["previous_run_url"], "https://github.com/acme/api/actions/runs/1011");
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
}

#[test]
fn results_are_paged_through_when_a_page_holds_no_verdict() {
    let mut runs: Vec<FakeRun> = (20..=49).map(|n| FakeRun::done(n, "cancelled")).collect();
    runs.push(FakeRun::done(19, "failure"));
    let mut all = vec![FakeRun { number: 50, ..FakeRun::current() }];
    all.extend(runs);
    let api = FakeGitHub::new(Script::new(all));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env("GITHUB_RUN_NUMBER", "50"), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    let paths = api.paths();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[1].contains("page=2"), "{paths:?}");
}

#[test]
fn inside_a_job_the_same_job_is_compared_within_three_requests() {
    // Run #16 failed as a whole, but this job passed in it: a first failure of this job.
    let runs = vec![FakeRun::done(16, "failure").job("lint", "failure").job(JOB, "success")];
    let mut script = Script::new(history(runs));
    script.current_job = Some((CHECK_RUN_ID, JOB));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").args(["--check-run-id", &CHECK_RUN_ID.to_string()]), &p);
    assert_eq!(edge(&out), "first-failure", "{}", out.stderr);
    let paths = api.paths();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert_eq!(paths[0], format!("/repos/acme/api/actions/jobs/{CHECK_RUN_ID}"));
    assert!(paths[2].starts_with("/repos/acme/api/actions/runs/1016/jobs?"), "{paths:?}");
}

#[test]
fn with_needs_the_whole_run_is_compared_not_the_notify_job() {
    // Run #16 failed as a whole while its notify job passed, as a notify job does: still failing.
    let runs = vec![FakeRun::done(16, "failure").job("build", "failure").job("notify", "success")];
    let mut script = Script::new(history(runs));
    script.current_job = Some((CHECK_RUN_ID, "notify"));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let needs = r#"{"build": {"result": "failure", "outputs": {}}, "lint": {"result": "success", "outputs": {}}}"#;
    let out = go(send(&api, &p, "success").args(["--needs", needs, "--check-run-id", &CHECK_RUN_ID.to_string()]), &p);
    assert_eq!(out.json()["status"], "failure", "{}", out.stderr);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    // This run's jobs for the failure details (docs/noise-control.md, "One alert for a whole workflow"), then
    // the runs; never the notify job's name.
    let paths = api.paths();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[0].starts_with("/repos/acme/api/actions/runs/4242/jobs?"), "{paths:?}");
    assert!(paths[1].starts_with("/repos/acme/api/actions/workflows/deploy.yml/runs?"), "{paths:?}");
}

#[test]
fn a_run_without_this_job_is_stepped_over() {
    let runs = vec![
        FakeRun::done(16, "success").job("lint", "success"),
        FakeRun::done(15, "failure").job(JOB, "skipped"),
        FakeRun::done(14, "failure").job(JOB, "failure"),
    ];
    let mut script = Script::new(history(runs));
    script.current_job = Some((CHECK_RUN_ID, JOB));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").args(["--check-run-id", &CHECK_RUN_ID.to_string()]), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    assert!(detail(&out, "sms").starts_with("still failing since run #14"), "{}", detail(&out, "sms"));
    assert_eq!(out.json()["previous_run_url"], "https://github.com/acme/api/actions/runs/1014");
}

/// A nightly job in a push and schedule workflow: run #`current` is a `schedule` run, the
/// `pushes` newest runs before it are pushes in which the job was skipped, then a `schedule` run
/// where it failed.
fn nightly(current: u64, pushes: u64) -> (FakeGitHub, u64) {
    let mut runs = vec![FakeRun { number: current, ..FakeRun::current() }.by("schedule")];
    let last_push = current - 1;
    for n in (last_push + 1 - pushes..=last_push).rev() {
        runs.push(FakeRun::done(n, "success").job("build", "success").job(JOB, "skipped"));
    }
    let nightly = last_push - pushes;
    runs.push(FakeRun::done(nightly, "failure").by("schedule").job(JOB, "failure"));
    let mut script = Script::new(runs);
    script.current_job = Some((CHECK_RUN_ID, JOB));
    (FakeGitHub::new(script), nightly)
}

fn nightly_send(api: &FakeGitHub, p: &Providers, current: u64) -> assert_cmd::Command {
    let mut cmd = send(api, p, "failure");
    cmd.env("GITHUB_EVENT_NAME", "schedule")
        .env("GITHUB_RUN_NUMBER", current.to_string())
        .args(["--check-run-id", &CHECK_RUN_ID.to_string()]);
    cmd
}

/// Item: a job skipped in most runs still finds its previous run: once it proved absent from a
/// `push` run, the other pushes are stepped over without a request each.
#[test]
fn a_nightly_job_skipped_in_most_runs_finds_its_previous_run() {
    let (api, nightly) = nightly(60, 40);
    let p = Providers::new();
    let out = go(&mut nightly_send(&api, &p, 60), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    assert!(detail(&out, "voice").starts_with(&format!("still failing since run #{nightly}")), "{}", out.stderr);
    assert!(p.voice.received().is_empty(), "the nightly already paged when it first failed");
    let paths = api.paths();
    assert!(paths.len() <= 6, "{} requests: {paths:#?}", paths.len());
}

/// Item: when the pages run out before a run of this event, the runs of this event alone are
/// paged through (`event=schedule`).
#[test]
fn past_the_pages_the_runs_of_this_event_are_looked_through() {
    let (api, nightly) = nightly(200, 120);
    let p = Providers::new();
    let out = go(&mut nightly_send(&api, &p, 200), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    assert_eq!(out.json()["previous_run_url"], format!("https://github.com/acme/api/actions/runs/{}", 1000 + nightly));
    let paths = api.paths();
    assert!(paths.iter().any(|p| p.contains("event=schedule")), "{paths:#?}");
    assert!(paths.len() <= 8, "{} requests: {paths:#?}", paths.len());
}

/// Item: a job absent from every run of its own event gives up within the request budget, and
/// says what it looked at.
#[test]
fn a_job_that_never_ran_gives_up_saying_what_was_looked_at() {
    let mut runs = vec![FakeRun { number: 40, ..FakeRun::current() }];
    runs.extend((10..40).rev().map(|n| FakeRun::done(n, "success").job("build", "success").job(JOB, "skipped")));
    let mut script = Script::new(runs);
    script.current_job = Some((CHECK_RUN_ID, JOB));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let out = go(
        send(&api, &p, "failure").env("GITHUB_RUN_NUMBER", "40").args(["--check-run-id", &CHECK_RUN_ID.to_string()]),
        &p,
    );
    assert_eq!(edge(&out), "unknown", "{}", out.stderr);
    assert_eq!(p.voice.received().len(), 1, "an unknown history pages");
    assert!(out.stderr.contains(&format!("job `{JOB}` did not run in ")), "{}", out.stderr);
    assert!(out.stderr.contains("(events: push)"), "{}", out.stderr);
    assert!(api.paths().len() <= 12);
}

/// Item: "since" is where the job's failing streak began, not its last failure; the recovery
/// text says it.
#[test]
fn a_jobs_failing_streak_is_dated_from_its_first_failure() {
    let runs = vec![
        FakeRun::done(16, "failure").job(JOB, "failure"),
        FakeRun::done(15, "failure").job(JOB, "failure"),
        FakeRun::done(14, "success").job(JOB, "success"),
    ];
    let mut script = Script::new(history(runs));
    script.current_job = Some((CHECK_RUN_ID, JOB));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let out = go(send(&api, &p, "success").args(["--check-run-id", &CHECK_RUN_ID.to_string()]), &p);
    assert_eq!(edge(&out), "recovered", "{}", out.stderr);
    let message = p.webhook_message();
    assert!(message.contains(" It had failed since run #15. "), "{message}");
    assert!(p.sms_text().contains(" Hata başlangıcı: çalıştırma #15. "), "{}", p.sms_text());
}

#[test]
fn a_rerun_looks_at_its_own_earlier_attempts_first() {
    // Attempt 1 of this run failed; the run before it succeeded. Attempt 2 failing again is
    // still the same incident, not a new one.
    let current = FakeRun::current().attempt("failure", vec![(JOB, Some("failure"))]);
    let api = FakeGitHub::new(Script::new(vec![current, FakeRun::done(16, "success")]));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env("GITHUB_RUN_ATTEMPT", "2"), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    assert!(detail(&out, "voice").contains("since run #17, attempt 1"), "{}", detail(&out, "voice"));
    assert_eq!(api.paths(), vec![format!("/repos/acme/api/actions/runs/{RUN_ID}/attempts/1")]);
    // And a re-run that passes recovers.
    let p = Providers::new();
    let out = go(send(&api, &p, "success").env("GITHUB_RUN_ATTEMPT", "2"), &p);
    assert_eq!(edge(&out), "recovered", "{}", out.stderr);
}

#[test]
fn a_rerun_inside_a_job_compares_the_job_of_the_earlier_attempt() {
    let current = FakeRun::current().attempt("failure", vec![("lint", Some("failure")), (JOB, Some("success"))]);
    let mut script = Script::new(vec![current, FakeRun::done(16, "failure").job(JOB, "failure")]);
    script.current_job = Some((CHECK_RUN_ID, JOB));
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let mut cmd = send(&api, &p, "failure");
    let out = go(cmd.env("GITHUB_RUN_ATTEMPT", "2").args(["--check-run-id", &CHECK_RUN_ID.to_string()]), &p);
    assert_eq!(edge(&out), "first-failure", "{}", out.stderr);
    assert_eq!(api.paths().len(), 2, "{:?}", api.paths());
}

#[test]
fn a_pull_request_compares_its_head_branch_in_its_head_repository() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request":{"head":{"ref":"fix","repo":{"full_name":"forker/api"}}}}"#).unwrap();
    let runs =
        vec![FakeRun::done(16, "success").on("fix", "acme/api"), FakeRun::done(15, "failure").on("fix", "forker/api")];
    let api = FakeGitHub::new(Script::new(history(runs)));
    let p = Providers::new();
    let mut cmd = send(&api, &p, "failure");
    cmd.env("GITHUB_HEAD_REF", "fix").env("GITHUB_REF_NAME", "3/merge").env("GITHUB_EVENT_PATH", &event);
    let out = go(&mut cmd, &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    assert!(api.paths()[0].contains("branch=fix"), "{:?}", api.paths());
}

#[test]
fn without_the_workflow_ref_the_run_itself_is_asked() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure")])));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env_remove("GITHUB_WORKFLOW_REF"), &p);
    assert_eq!(edge(&out), "still-failing", "{}", out.stderr);
    let paths = api.paths();
    assert_eq!(paths[0], format!("/repos/acme/api/actions/runs/{RUN_ID}"));
    assert!(paths[1].starts_with("/repos/acme/api/actions/workflows/161335/runs?"), "{paths:?}");
}

/// Every way the lookup can fail pages as a first failure would, with a warning naming the fix.
#[test]
fn any_failure_of_the_lookup_pages_and_names_the_fix() {
    let cases: Vec<(Fault, &str)> = vec![
        (Fault::Status(403), "permissions: actions: read"),
        (Fault::Status(404), "permissions: actions: read"),
        (Fault::Status(401), "check github-token"),
        (Fault::RateLimited, "rate limit is used up"),
        (Fault::Status(429), "rate limiting"),
        (Fault::Status(502), "HTTP 502"),
        (Fault::Garbage, "not the JSON expected"),
    ];
    for (fault, fix) in cases {
        let mut script = Script::new(history(vec![FakeRun::done(16, "failure")]));
        script.fault = fault.clone();
        let api = FakeGitHub::new(script);
        let p = Providers::new();
        let out = go(&mut send(&api, &p, "failure"), &p);
        assert_eq!(out.code, 0, "{fault:?}: {}", out.stderr);
        expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
        assert_eq!(edge(&out), "unknown", "{fault:?}");
        assert!(
            out.stderr.contains("the run history is unknown") && out.stderr.contains(fix),
            "{fault:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("::warning"), "{fault:?}: an annotation too");
    }
}

#[test]
fn without_a_token_it_pages_and_asks_for_one() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure")])));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env_remove("ONFAIL_GITHUB_TOKEN"), &p);
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert!(out.stderr.contains("no GitHub token") && out.stderr.contains("actions: read"), "{}", out.stderr);
    assert!(api.server.received().is_empty());
}

#[test]
fn a_hanging_api_costs_a_few_seconds_at_most_and_pages() {
    let mut script = Script::new(history(vec![FakeRun::done(16, "failure")]));
    script.fault = Fault::Hang;
    let api = FakeGitHub::new(script);
    let p = Providers::new();
    let out = go(&mut send(&api, &p, "failure"), &p);
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert!(out.stderr.contains("did not answer within 5s"), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(20), "took {:?}", out.elapsed);
}

#[test]
fn under_always_the_api_is_never_asked() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure")])));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env("ONFAIL_NOTIFY_WHEN", "always"), &p);
    expect(&out, [("voice", "sent"), ("sms", "sent"), ("temperstack", "sent"), ("webhook", "sent")]);
    assert!(out.json().get("edge").is_none());
    assert!(api.server.received().is_empty());
}

#[test]
fn a_bad_notify_when_is_a_usage_error() {
    let api = FakeGitHub::new(Script::new(history(vec![])));
    let p = Providers::new();
    let out = go(send(&api, &p, "failure").env("ONFAIL_NOTIFY_WHEN", "sometimes"), &p);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--notify-when"), "{}", out.stderr);
    assert!(out.stderr.contains("'sometimes' is not a notify-when mode; use always or changes"), "{}", out.stderr);
    assert!(p.voice.received().is_empty() && api.server.received().is_empty());
}

#[test]
fn a_dry_run_shows_the_decision() {
    let api = FakeGitHub::new(Script::new(history(vec![FakeRun::done(16, "failure")])));
    let p = Providers::new();
    let out = go(send(&api, &p, "success").arg("--dry-run"), &p);
    assert_eq!(edge(&out), "recovered");
    let json = out.json();
    let sms = json["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "sms").unwrap().clone();
    // The body is the exact text that would be sent.
    let body: serde_json::Value = serde_json::from_str(sms["request"]["body"].as_str().unwrap()).unwrap();
    let text = body["request"]["order"]["message"]["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("CI DÜZELDİ"), "{sms}");
    assert!(p.sms.received().is_empty() && p.voice.received().is_empty());
}
