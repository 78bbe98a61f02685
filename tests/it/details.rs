//! Failure details from the jobs API, end to end: a notify job with `--needs` on GitHub Actions
//! reads this run's failed jobs (matrix legs by display name), the first failed step of each and
//! the first failed job's link from a fake GitHub REST API on 127.0.0.1; voice, SMS and webhook
//! point at their own local servers. Without a token, or when the API fails, the alert still goes
//! out with what `--needs` says, and a warning names the fix. The token appears in no output.

use crate::common::github_api::{FakeGitHub, FakeRun, Fault, RUN_ID, Script, TOKEN};
use crate::common::{KEY, PHONES, Run, Server, github_env, onfail, run};
use serde_json::json;

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;
const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"İşlem başarılı"},"order":{"id":"12323232"}}}"#;
const SMS_KEY: &str = "ik-SENTINEL-key-90ab12";
const SMS_HASH: &str = "ih-SENTINEL-hash-cd34ef";
const LEG: &str = "test (ubuntu-latest, 1.24)";

/// `toJSON(needs)`: build passed, the test matrix failed (one entry for all its legs).
const NEEDS: &str = "{\n  \"build\": {\n    \"result\": \"success\",\n    \"outputs\": {}\n  },\n  \"test\": {\n    \"result\": \"failure\",\n    \"outputs\": {}\n  }\n}";
const NEEDS_GREEN: &str = "{\n  \"build\": {\n    \"result\": \"success\",\n    \"outputs\": {}\n  }\n}";

struct Providers {
    voice: Server,
    sms: Server,
    webhook: Server,
}

impl Providers {
    fn new() -> Providers {
        Providers { voice: Server::ok(QUEUED), sms: Server::ok(ACCEPTED), webhook: Server::ok("{}") }
    }

    fn call(&self) -> String {
        self.voice.received()[0].json()["error_message"].as_str().unwrap().to_string()
    }

    fn sms_text(&self) -> String {
        let body = self.sms.received()[0].json();
        body["request"]["order"]["message"]["text"].as_str().unwrap().to_string()
    }

    fn event(&self) -> serde_json::Value {
        self.webhook.received()[0].json()
    }
}

/// The current run: build and both legs of the test matrix done, the notify job running.
fn this_run() -> FakeRun {
    FakeRun::current()
        .job("build", "success")
        .job(LEG, "failure")
        .job("test (macos-latest, 1.24)", "success")
        .running("notify")
        .steps("build", vec![("Set up job", "success"), ("Build", "success")])
        .steps(LEG, vec![("Set up job", "success"), ("Run tests", "failure"), ("Upload logs", "failure")])
}

/// The check run id of the `index`th job of [`this_run`].
fn job_id(index: usize) -> u64 {
    this_run().job_id(index)
}

/// `onfail send --needs` in the notify job of run 4242, calling, texting and posting locally.
fn notify(api: &FakeGitHub, p: &Providers, needs: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    github_env(&mut cmd)
        .env("GITHUB_JOB", "notify")
        .env("GITHUB_API_URL", api.url())
        .env("ONFAIL_NEEDS", needs)
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", SMS_HASH)
        .args(["send", "--phone-numbers", PHONES[0], "--sms-sender", "ACME"])
        .args(["--check-run-id", &job_id(3).to_string()])
        .args(["--alertalk-url", &p.voice.url("/webhook/receive")])
        .args(["--iletimerkezi-url", &p.sms.url("")])
        .args(["--webhook-url", &p.webhook.url("/hook")]);
    cmd
}

/// Runs and checks that no secret, the token included, shows anywhere.
fn go(cmd: &mut assert_cmd::Command) -> Run {
    let out = run(cmd);
    out.assert_clean(&[TOKEN.to_string(), SMS_KEY.to_string(), SMS_HASH.to_string()]);
    out
}

fn jobs_requests(api: &FakeGitHub) -> Vec<String> {
    api.paths().into_iter().filter(|p| p.contains(&format!("/actions/runs/{RUN_ID}/jobs"))).collect()
}

#[test]
fn with_a_token_the_texts_name_the_matrix_leg_its_failed_step_and_link_to_it() {
    let api = FakeGitHub::new(Script::new(vec![this_run()]));
    let p = Providers::new();
    let out =
        go(notify(&api, &p, NEEDS).env("ONFAIL_GITHUB_TOKEN", TOKEN).args(["--title", "{failed_jobs} at {job_url}"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("failure details"), "{}", out.stderr);
    let job_url = format!("https://github.com/acme/api/actions/runs/{RUN_ID}/job/{}", job_id(1));

    // One request for the latest attempt's jobs, a full page, with GitHub's headers and the token.
    assert_eq!(jobs_requests(&api).len(), 1, "{:?}", api.paths());
    let request = &api.server.received()[0];
    assert!(request.path.contains("filter=latest") && request.path.contains("per_page=100"), "{}", request.path);
    assert_eq!(request.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));

    // The call names the leg, speakably, and no step; the SMS adds the step and links to the leg.
    let call = p.call();
    assert!(call.contains(" Başarısız iş: test (ubuntu latest, 1.24). Tekrar ediyorum: "), "{call}");
    assert!(!call.contains("Run tests"), "{call}");
    let sms = p.sms_text();
    assert!(sms.ends_with(&format!(". Başarısız iş: {LEG}. Başarısız adım: Run tests. {job_url}")), "{sms}");

    // The webhook carries them as fields; the templates see them too.
    let event = p.event();
    let data = &event["data"];
    assert_eq!(data["failed_jobs"], json!([LEG]));
    assert_eq!(data["failed_steps"], json!([{"job": LEG, "step": "Run tests"}]));
    assert_eq!(data["job_url"], job_url.as_str());
    assert_eq!(data["title"], format!("{LEG} at {job_url}"));
    let message = data["message"].as_str().unwrap();
    assert!(message.contains(&format!("\nFailed jobs: {LEG}\nFailed step ({LEG}): Run tests")), "{message}");
}

#[test]
fn the_jobs_are_read_over_several_pages() {
    let mut run = FakeRun::current();
    for i in 0..150 {
        let name: &'static str = Box::leak(format!("shard-{i}").into_boxed_str());
        run = run.job(name, if i == 120 { "failure" } else { "success" });
    }
    let api = FakeGitHub::new(Script::new(vec![run.job("lint", "timed_out")]));
    let p = Providers::new();
    let out = go(notify(&api, &p, NEEDS).env("ONFAIL_GITHUB_TOKEN", TOKEN).args(["--language", "en"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pages = jobs_requests(&api);
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].contains("page=2"), "{pages:?}");
    assert_eq!(p.event()["data"]["failed_jobs"], json!(["shard-120", "lint"]));
    assert!(p.call().contains(" Failed jobs: shard 120, lint. I repeat: "), "{}", p.call());
}

#[test]
fn the_notify_job_itself_is_left_out_by_its_check_run_id() {
    // Whatever the API says of the job onfail runs in, it is not one of the failed jobs.
    let run =
        FakeRun::current().job(LEG, "failure").job("build", "success").job("lint", "success").job("notify", "failure");
    let api = FakeGitHub::new(Script::new(vec![run]));
    let p = Providers::new();
    let out = go(notify(&api, &p, NEEDS).env("ONFAIL_GITHUB_TOKEN", TOKEN));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(p.event()["data"]["failed_jobs"], json!([LEG]));
}

#[test]
fn without_a_token_the_alert_names_the_needs_jobs_and_warns_with_the_fix() {
    let api = FakeGitHub::new(Script::new(vec![this_run()]));
    let p = Providers::new();
    let out = go(&mut notify(&api, &p, NEEDS));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(api.paths().is_empty(), "{:?}", api.paths());
    assert!(
        out.stderr.contains("warning: failure details: this run's jobs could not be read, so the alert names the jobs --needs lists: no GitHub token")
            && out.stderr.contains("actions: read"),
        "{}",
        out.stderr
    );
    assert!(p.call().contains(" Başarısız iş: test. "), "{}", p.call());
    assert_eq!(p.event()["data"]["failed_jobs"], json!(["test"]));
    assert_eq!(p.event()["data"]["failed_steps"], json!([]));
    assert_eq!(
        p.event()["data"]["job_url"],
        format!("https://github.com/acme/api/actions/runs/{RUN_ID}/job/{}", job_id(3))
    );
}

#[test]
fn a_failing_api_leaves_the_needs_jobs_and_a_warning_naming_the_fix() {
    let cases = [
        (Fault::Status(403), "actions: read"),
        (Fault::Status(404), "actions: read"),
        (Fault::Status(429), "rate limiting"),
        (Fault::RateLimited, "rate limit is used up"),
        (Fault::Status(500), "HTTP 500"),
        (Fault::Garbage, "not the JSON expected"),
    ];
    for (fault, why) in cases {
        let api = FakeGitHub::new(Script { fault: fault.clone(), ..Script::new(vec![this_run()]) });
        let p = Providers::new();
        let out = go(notify(&api, &p, NEEDS).env("ONFAIL_GITHUB_TOKEN", TOKEN));
        assert_eq!(out.code, 0, "{fault:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("warning: failure details:") && out.stderr.contains(why),
            "{fault:?}: {}",
            out.stderr
        );
        assert!(p.call().contains(" Başarısız iş: test. "), "{fault:?}: {}", p.call());
        assert_eq!(p.sms.received().len(), 1, "{fault:?}");
        assert_eq!(p.event()["data"]["failed_jobs"], json!(["test"]), "{fault:?}");
    }
}

#[test]
fn a_hanging_api_costs_at_most_the_lookup_budget_and_the_alert_goes_out() {
    let api = FakeGitHub::new(Script { fault: Fault::Hang, ..Script::new(vec![this_run()]) });
    let p = Providers::new();
    let out = go(notify(&api, &p, NEEDS).env("ONFAIL_GITHUB_TOKEN", TOKEN).args(["--notify-when", "changes"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: failure details:") && out.stderr.contains("did not answer within 5s"),
        "{}",
        out.stderr
    );
    // The history lookup shares the budget: it is spent, so it fails at once rather than wait again.
    assert!(out.stderr.contains("the run history is unknown"), "{}", out.stderr);
    assert!(out.elapsed < std::time::Duration::from_secs(30), "{:?}", out.elapsed);
    assert_eq!(api.paths().len(), 1, "{:?}", api.paths());
    assert!(p.call().contains(" Başarısız iş: test. "), "{}", p.call());
}

#[test]
fn no_lookup_on_success_cancel_or_without_needs() {
    let api = FakeGitHub::new(Script::new(vec![this_run()]));
    let p = Providers::new();
    let out = go(notify(&api, &p, NEEDS_GREEN).env("ONFAIL_GITHUB_TOKEN", TOKEN));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cancelled = NEEDS.replace("failure", "cancelled");
    let out = go(notify(&api, &p, &cancelled).env("ONFAIL_GITHUB_TOKEN", TOKEN));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Without --needs onfail runs in the failing job itself: it knows its own name and link.
    let out = go(notify(&api, &p, "").env("ONFAIL_GITHUB_TOKEN", TOKEN).args(["--status", "failure"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(api.paths().is_empty(), "{:?}", api.paths());
    assert_eq!(p.event()["data"]["failed_jobs"], json!([]));
}

#[test]
fn with_notify_when_changes_the_details_and_the_history_come_from_one_client() {
    let runs = vec![this_run(), FakeRun::done(16, "success")];
    let api = FakeGitHub::new(Script::new(runs));
    let p = Providers::new();
    let out = go(notify(&api, &p, NEEDS)
        .env("ONFAIL_GITHUB_TOKEN", TOKEN)
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_WORKFLOW_REF", "acme/api/.github/workflows/deploy.yml@refs/heads/main")
        .args(["--notify-when", "changes", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["edge"], "first-failure", "{}", out.stderr);
    assert_eq!(jobs_requests(&api).len(), 1, "{:?}", api.paths());
    assert_eq!(p.event()["data"]["failed_jobs"], json!([LEG]));
    assert!(p.sms_text().contains("Başarısız adım: Run tests."), "{}", p.sms_text());
}
