//! `--needs`: one alert for a whole workflow, end to end. The binary runs as a process against
//! a fake Alertalk and a webhook receiver on 127.0.0.1, with `toJSON(needs)` as GitHub writes it.

use crate::common::{KEY, PHONES, Run, Server, github_env, onfail, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

/// `toJSON(needs)` as GitHub pretty-prints it: two-space indent, one job per entry, outputs.
fn needs(jobs: &[(&str, &str)]) -> String {
    let entries: Vec<String> = jobs
        .iter()
        .map(|(id, result)| {
            format!("  \"{id}\": {{\n    \"result\": \"{result}\",\n    \"outputs\": {{\n      \"digest\": \"sha256:0f\"\n    }}\n  }}")
        })
        .collect();
    format!("{{\n{}\n}}", entries.join(",\n"))
}

/// The notify job of a GitHub run, calling through `voice` and posting to `hook`.
fn notify(voice: &Server, hook: &Server) -> assert_cmd::Command {
    let mut cmd = onfail();
    github_env(&mut cmd)
        .env("GITHUB_JOB", "notify")
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0])
        .env("ONFAIL_ALERTALK_URL", voice.url("/webhook/receive"))
        .env("ONFAIL_WEBHOOK_URL", hook.url("/hook"))
        .arg("send");
    cmd
}

fn nothing_sent(voice: &Server, hook: &Server, out: &Run) {
    assert!(voice.received().is_empty(), "a call went out:\n{}", out.stderr);
    assert!(hook.received().is_empty(), "a webhook went out:\n{}", out.stderr);
}

#[test]
fn a_failed_job_in_needs_overrides_status_success_and_is_named() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "success"), ("test", "failure"), ("lint", "failure"), ("deploy", "skipped")]);
    let out = run(notify(&voice, &hook).env("ONFAIL_NEEDS", &jobs).args(["--status", "success"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("status from --needs: failure (failed jobs: test, lint)"), "{}", out.stderr);
    // deploy was skipped because test failed: that is the failure's doing, not worth a warning.
    // (Without a token, the failure details from the jobs API are the one warning.)
    let warnings: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("onfail: warning:")).collect();
    assert!(warnings.iter().all(|w| w.contains("failure details: ") && w.contains("no GitHub token")), "{warnings:?}");

    // Calls are in Turkish by default (docs/language.md, "Language"); the webhook's text is in English.
    let call = voice.received()[0].json();
    let key = "acme api deposunda Deploy iş akışı main dalında başarısız oldu";
    assert_eq!(
        call["error_message"],
        format!("CI alarmı. {key}. Başarısız işler: test, lint. Tekrar ediyorum: {key}.")
    );
    let event = hook.received()[0].json();
    assert_eq!(event["type"], "ci.failure");
    assert_eq!(event["data"]["status"], "failure");
    assert_eq!(event["data"]["failed_jobs"], serde_json::json!(["test", "lint"]));
    let message = event["data"]["message"].as_str().unwrap();
    assert!(message.contains("\nFailed jobs: test, lint"), "{message}");
}

#[test]
fn a_cancelled_job_sends_nothing_whatever_the_status() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "cancelled"), ("test", "success"), ("deploy", "skipped")]);
    let out = run(notify(&voice, &hook).args(["--needs", &jobs, "--status", "failure"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("status from --needs: cancelled"), "{}", out.stderr);
    assert!(out.stderr.contains("skipped: status cancelled is not in --notify-on"), "{}", out.stderr);
    nothing_sent(&voice, &hook, &out);
}

#[test]
fn a_skip_that_is_not_allowed_pages_with_a_warning_naming_the_job() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "success"), ("deploy", "skipped")]);
    let out = run(notify(&voice, &hook).env("ONFAIL_NEEDS", &jobs).env("ONFAIL_STATUS", "success"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "warning: job deploy was skipped, which counts as a failure; list every job in needs: or allow the \
             skip with --allowed-skips deploy"
        ),
        "{}",
        out.stderr
    );
    let call = voice.received()[0].json();
    assert!(call["error_message"].as_str().unwrap().contains(" başarısız oldu. Atlanan iş: deploy. Tekrar "), "{call}");
    let event = hook.received()[0].json();
    assert_eq!(event["data"]["failed_jobs"], serde_json::json!([]));
    assert!(event["data"]["message"].as_str().unwrap().ends_with("\nSkipped jobs: deploy"), "{event}");
}

#[test]
fn an_allowed_skip_is_success() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "success"), ("deploy", "skipped"), ("docs", "skipped")]);
    let out = run(notify(&voice, &hook)
        .env("ONFAIL_NEEDS", &jobs)
        .env("ONFAIL_ALLOWED_SKIPS", "deploy, docs")
        .args(["--status", "failure", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("status from --needs: success"), "{}", out.stderr);
    assert!(!out.stderr.contains("onfail: warning:"), "{}", out.stderr);
    assert_eq!(out.json()["status"], "success");
    nothing_sent(&voice, &hook, &out);
}

#[test]
fn an_unknown_job_in_allowed_skips_is_a_warning_and_the_alert_still_goes_out() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "failure")]);
    let out = run(notify(&voice, &hook).args(["--needs", &jobs, "--allowed-skips", "deploy"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: --allowed-skips names job deploy, which is not in --needs"),
        "{}",
        out.stderr
    );
    assert_eq!((voice.received().len(), hook.received().len()), (1, 1));
}

#[test]
fn allowed_skips_without_needs_is_a_warning_and_the_status_stands() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(notify(&voice, &hook).args(["--allowed-skips", "deploy"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning: --allowed-skips has no effect without --needs"), "{}", out.stderr);
    assert_eq!(voice.received().len(), 1);
}

#[test]
fn invalid_or_empty_needs_is_exit_2_and_nothing_is_sent() {
    let cases = [
        ("{}", "--needs: is an empty object"),
        ("{\n}\n", "--needs: is an empty object"),
        ("null", "--needs: is not a JSON object"),
        ("[\"build\"]", "--needs: is not a JSON object"),
        ("build: failure", "--needs: is not a JSON object"),
        ("{\n  \"build\": {\n    \"result\": \"failure\"\n  }\n", "--needs: is not valid JSON (EOF while parsing"),
        ("{\"build\": {\"outputs\": {}}}", "--needs: job build has no result"),
        ("{\"build\": {\"result\": \"timed_out\"}}", "--needs: job build has result 'timed_out'"),
        // The error names the problem, never the value: a result holding the key is redacted.
        (&format!("{{\"build\": {{\"result\": \"{KEY}\"}}}}"), "--needs: job build has result '***'"),
    ];
    for (text, error) in cases {
        for via_env in [true, false] {
            let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
            let mut cmd = notify(&voice, &hook);
            if via_env {
                cmd.env("ONFAIL_NEEDS", text)
            } else {
                cmd.args(["--needs", text])
            };
            let out = run(&mut cmd);
            assert_eq!(out.code, 2, "{text:?}: {}", out.stderr);
            assert!(out.stderr.contains(error), "{text:?}: expected {error:?} in\n{}", out.stderr);
            nothing_sent(&voice, &hook, &out);
        }
    }
}

#[test]
fn failed_jobs_renders_in_templates_and_is_empty_without_needs() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "failure"), ("e2e-tests", "failure"), ("docs", "success")]);
    let out = run(notify(&voice, &hook)
        .env("ONFAIL_NEEDS", &jobs)
        .args(["--message", "Broken in {repository}: {failed_jobs}"])
        .args(["--webhook-body", r#"{"text": "{failed_jobs}", "title": "{title}"}"#]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(voice.received()[0].json()["error_message"], "Broken in acme/api: build, e2e-tests");
    assert_eq!(hook.received()[0].json()["text"], "build, e2e-tests");

    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(notify(&voice, &hook).args(["--message", "[{failed_jobs}]"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(voice.received()[0].json()["error_message"], "[]");
}

#[test]
fn run_refuses_needs_before_running_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let jobs = needs(&[("build", "failure")]);
    let server = Server::ok(QUEUED);
    for via_env in [true, false] {
        let mut cmd = onfail();
        cmd.env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY).args([
            "run",
            "--phone-numbers",
            PHONES[0],
            "--alertalk-url",
            &server.url("/webhook/receive"),
        ]);
        if via_env {
            cmd.env("ONFAIL_NEEDS", &jobs)
        } else {
            cmd.args(["--needs", &jobs])
        };
        let out = run(cmd.args(["--", "touch"]).arg(&marker));
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("--needs: onfail run takes its status from the command"), "{}", out.stderr);
        assert!(!marker.exists(), "the command ran");
        assert!(server.received().is_empty());
    }
}

#[test]
fn check_shows_the_status_from_needs_and_refuses_bad_needs() {
    let (voice, hook) = (Server::ok(QUEUED), Server::ok("{}"));
    let jobs = needs(&[("build", "success"), ("deploy", "skipped")]);
    let out = run(onfail().args(["send", "--help"]));
    assert!(out.stdout.contains("--needs <JSON>") && out.stdout.contains("--allowed-skips <JOBS>"), "{}", out.stdout);

    let check = || {
        let mut cmd = onfail();
        cmd.env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
            .env("ONFAIL_ALERTALK_URL", voice.url("/webhook/receive"))
            .env("ONFAIL_WEBHOOK_URL", hook.url("/hook"))
            .args(["check", "--phone-numbers", PHONES[0]]);
        cmd
    };
    let out = run(check().args(["--needs", &jobs]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("status from --needs: failure (skipped, not allowed: deploy)"), "{}", out.stderr);
    assert!(out.stderr.contains("warning: job deploy was skipped"), "{}", out.stderr);
    assert!(out.stderr.contains("configuration is valid"), "{}", out.stderr);

    let out = run(check().args(["--needs", "{}"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--needs: is an empty object"), "{}", out.stderr);
    nothing_sent(&voice, &hook, &out);
}
