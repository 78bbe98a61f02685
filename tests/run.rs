//! `onfail run -- CMD`: pass-through, exit codes, signals, alerts with the command's result, and
//! context from GitLab CI. The binary runs as a process against a server on 127.0.0.1.
#![cfg(unix)] // the commands under test are POSIX shell scripts

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{KEY, PHONES, Server, TEMPERSTACK_KEY, onfail, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

/// `onfail run` with voice aimed at `server`, extra `options`, and `command` after `--`. The
/// English texts: the Turkish ones are tested in `tests/language.rs`.
fn run_with_voice(server: &Server, options: &[&str], command: &[&str]) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["run", "--alertalk-url", &server.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
        .args(["--language", "en"])
        .args(options)
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--")
        .args(command);
    cmd
}

fn voice_text(server: &Server) -> String {
    server.received()[0].json()["error_message"].as_str().unwrap().to_string()
}

#[test]
fn success_exits_zero_and_pages_nobody() {
    let server = Server::ok(QUEUED);
    let out = run(&mut run_with_voice(&server, &[], &["sh", "-c", "echo all good"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "all good\n");
    assert!(server.received().is_empty());
    assert!(out.stderr.contains("skipped: status success is not in --notify-on"), "{}", out.stderr);
}

#[test]
fn a_failing_command_keeps_its_exit_code_and_pages() {
    let server = Server::ok(QUEUED);
    let out = run(&mut run_with_voice(&server, &[], &["sh", "-c", "echo doing; exit 3"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    // The voice text is short and speakable: the command and its end, never the output.
    assert_eq!(voice_text(&server), "Alert. Command sh failed on host test host: it exited with code 3.");
}

#[test]
fn a_command_killed_by_a_signal_exits_128_plus_the_signal() {
    let server = Server::ok(QUEUED);
    let out = run(&mut run_with_voice(&server, &[], &["sh", "-c", "kill -9 $$"]));
    assert_eq!(out.code, 137, "{}", out.stderr);
    assert!(voice_text(&server).contains("it was killed by signal 9 (SIGKILL)"));
}

#[test]
fn a_missing_command_exits_127_and_pages() {
    let server = Server::ok(QUEUED);
    let out = run(&mut run_with_voice(&server, &[], &["/no/such/command", "--flag"]));
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(out.stderr.contains("/no/such/command --flag: command not found"), "{}", out.stderr);
    assert!(voice_text(&server).contains("Command command failed on host test host: it could not be started"));
}

#[test]
fn output_passes_through_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let file = dir.path().join("data.bin");
    std::fs::write(&file, &data).unwrap();
    let err_file = dir.path().join("err.txt");
    std::fs::write(&err_file, "no newline at end\r").unwrap();
    let script = format!("cat '{}'; cat '{}' >&2", file.display(), err_file.display());
    let output = onfail()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["run", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout == data, "stdout differs from the command's output");
    assert!(output.stderr.starts_with(b"no newline at end\r"), "{:?}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn json_follows_the_command_output_on_stdout() {
    let server = Server::ok(QUEUED);
    let out = run(&mut run_with_voice(&server, &["--output", "json"], &["sh", "-c", "echo line 1; exit 1"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = out.stdout.strip_prefix("line 1\n").expect("the command's output comes first");
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!((json["status"].as_str(), json["result"].as_str()), (Some("failure"), Some("sent")));
}

#[test]
fn the_tail_of_a_failing_command_reaches_the_incident() {
    let server = Server::ok("{}");
    // One stream only: the relative order of two pipes is up to the scheduler.
    let script =
        "exec 1>&2; for i in 1 2 3 4 5; do echo line $i; done; printf '\\033[31mfatal: disk full\\033[0m\\n'; exit 4";
    let out = run(onfail()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["run", "--temperstack-url", &server.url(&format!("/api/integration/webhook/{TEMPERSTACK_KEY}"))])
        .args(["--tail-lines", "3", "--", "sh", "-c", script]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let body = server.received()[0].json();
    assert_eq!(body["status"], "Alarm");
    let description = body["description"].as_str().unwrap();
    assert!(description.contains("Command: sh -c exec 1>&2; for i in"), "{description}");
    assert!(description.contains("Result: exited with code 4"), "{description}");
    assert!(
        description.ends_with("Last 3 lines of output:\nline 4\nline 5\nfatal: disk full"),
        "colour codes must be gone and only the last 3 lines kept: {description:?}"
    );
}

#[test]
fn the_tail_of_a_failing_script_arrives_in_the_webhook_body() {
    let server = Server::ok("{}");
    let script = "exec 1>&2; echo starting backup; echo 'rsync: write failed: No space left on device (28)'; exit 23";
    let out = run(onfail().env("PATH", std::env::var("PATH").unwrap_or_default()).args([
        "run",
        "--webhook-url",
        &server.url("/hook"),
        "--",
        "sh",
        "-c",
        script,
    ]));
    assert_eq!(out.code, 23, "{}", out.stderr);
    let body = server.received()[0].json();
    assert_eq!(body["type"], "ci.failure");
    let message = body["data"]["message"].as_str().unwrap();
    assert!(message.contains("Result: exited with code 23"), "{message}");
    assert!(
        message
            .ends_with("Last 2 lines of output:\nstarting backup\nrsync: write failed: No space left on device (28)"),
        "{message:?}"
    );
}

#[test]
fn a_succeeding_command_resolves_the_incident() {
    let server = Server::ok("{}");
    let out = run(onfail()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["run", "--temperstack-url", &server.url(&format!("/api/integration/webhook/{TEMPERSTACK_KEY}"))])
        .args(["--", "sh", "-c", "exit 0"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received()[0].json()["status"], "OK");
}

#[test]
fn secrets_printed_by_the_command_never_reach_onfail_output() {
    let server = Server::ok(QUEUED);
    let script = format!("echo leaking {KEY} {}; exit 2", PHONES[1]);
    let output = run_with_voice(&server, &[], &["sh", "-c", &script]).output().unwrap();
    // The command's own stdout is passed through untouched (it is the user's output) ...
    assert!(String::from_utf8_lossy(&output.stdout).contains(KEY));
    // ... but nothing onfail itself writes repeats it.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(KEY) && !stderr.contains(PHONES[1]), "{stderr}");
}

#[test]
fn gitlab_variables_give_the_pipeline_url() {
    let server = Server::ok(QUEUED);
    let template = "{repository} {job} {ref_name} {actor} {run_url} {job_url}";
    let out = run(run_with_voice(&server, &["--message", template], &["sh", "-c", "exit 1"])
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_PATH", "group/app")
        .env("CI_JOB_NAME", "deploy")
        .env("CI_COMMIT_REF_NAME", "main")
        .env("GITLAB_USER_LOGIN", "ayse")
        .env("CI_PIPELINE_URL", "https://gitlab.example.com/group/app/-/pipelines/991")
        .env("CI_JOB_URL", "https://gitlab.example.com/group/app/-/jobs/5"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        voice_text(&server),
        "group/app deploy main ayse https://gitlab.example.com/group/app/-/pipelines/991 https://gitlab.example.com/group/app/-/jobs/5"
    );
}

#[test]
fn a_configuration_error_stops_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let out = run(onfail().env("PATH", std::env::var("PATH").unwrap_or_default()).args([
        "run",
        "--alertalk-webhook-key",
        KEY,
        "--",
        "sh",
        "-c",
        &format!("touch '{}'", marker.display()),
    ]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--phone-numbers: missing"), "{}", out.stderr);
    assert!(!marker.exists(), "the command must not run when the alert is misconfigured");
}

#[test]
fn run_needs_a_command() {
    let out = run(onfail().args(["run"]));
    assert_eq!(out.code, 2);
}

/// Starts `onfail run` on a script that prints `ready` and then waits for a signal.
fn start_waiting(server: &Server, trap: &str) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let script = format!("trap '{trap}' INT TERM; echo ready; while :; do sleep 0.05; done");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("onfail"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .args(["run", "--alertalk-url", &server.url("/x"), "--phone-numbers", PHONES[0], "--notify-on", "always"])
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (child, stdout)
}

fn wait_with_limit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < until, "onfail did not finish after the signal");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_and_sigint_are_forwarded_and_make_the_run_cancelled() {
    for (signal, code) in [("TERM", "7"), ("INT", "8")] {
        let server = Server::ok(QUEUED);
        let (mut child, mut stdout) = start_waiting(&server, &format!("echo got-$0; exit {code}"));
        let status = std::process::Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
        assert!(status.unwrap().success());
        let exit = wait_with_limit(&mut child);
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert_eq!(exit.code(), Some(code.parse().unwrap()), "SIG{signal}");
        assert!(rest.contains("got-"), "the command saw SIG{signal}: {rest:?}");
        let text = voice_text(&server);
        // The default language: Turkish on the phone.
        assert!(text.contains(&format!("sh komutu iptal edildi. Çıkış kodu {code}.")), "SIG{signal}: {text}");
    }
}
