//! A cancel at any moment (docs/escalation.md, "Escalation"): during the history lookup, between retries,
//! during a send, by a newer run, and after `onfail run`'s command ended. Each stops every
//! further request, ends onfail within seconds and still writes its outputs.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::github_api::{FakeGitHub, FakeRun, Fault, Script, TOKEN};
use crate::common::phones::{A, B, Fake, HASH, SMS_KEY, Voice, output, pages};
use crate::common::{Run, Spawned, read};

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
    // The first call is answered 503 at once with Retry-After: 2, so onfail is in its backoff
    // from a moment after the call arrived until 2 s later: the signal lands in that window (no
    // line on stderr marks a backoff to wait for).
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
