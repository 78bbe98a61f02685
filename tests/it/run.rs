//! `onfail run -- CMD`: pass-through, exit codes, signals, alerts with the command's result, and
//! context from GitLab CI. The binary runs as a process against a server on 127.0.0.1.
#![cfg(unix)] // the commands under test are POSIX shell scripts

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{KEY, PHONES, Server, TEMPERSTACK_KEY, github_env, onfail, run};

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

/// `onfail run` as a process to signal or read from: voice aimed at `server`, extra `options`,
/// and `command` after `--`, with nothing of this environment but `PATH`.
fn voice_process(server: &Server, options: &[&str], command: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("onfail"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .args(["run", "--alertalk-url", &server.url("/x"), "--phone-numbers", PHONES[0]])
        .args(options)
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
    let out = run(&mut run_with_voice(&server, &[], &["sh", "-c", "set -e; echo doing; exit 3"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    // The voice text is short and speakable: the command and its end, never the output, and
    // the key sentence twice. A shell's command is named by its script's first words, not "sh".
    let key = "Command echo doing failed on host test host";
    assert_eq!(voice_text(&server), format!("Alert. {key}: it exited with code 3. I repeat: {key}."));
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
    let mut child = voice_process(server, &["--notify-on", "always"], &["sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    assert_ready(&mut stdout);
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
        assert!(text.contains(&format!(" komutu iptal edildi. Çıkış kodu {code}.")), "SIG{signal}: {text}");
    }
}

/// Kills the background process whose pid a test script wrote to `file`, if it is still there.
fn kill_left_behind(file: &std::path::Path) {
    if let Ok(pid) = std::fs::read_to_string(file) {
        let _ = std::process::Command::new("kill").args(["-KILL", pid.trim()]).status();
    }
}

#[test]
fn a_background_process_holding_the_output_does_not_delay_the_alert() {
    let server = Server::ok(QUEUED);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    // The background sleep inherits the command's stdout and stderr and holds them for a minute.
    let script = format!("sleep 60 & echo $! > '{}'; echo started; exit 3", pid_file.display());
    let out = run(&mut run_with_voice(&server, &[], &["sh", "-c", &script]));
    kill_left_behind(&pid_file);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(out.stdout, "started\n", "what the command wrote before it exited is passed through");
    let key = "Command sleep 60 failed on host test host";
    assert_eq!(voice_text(&server), format!("Alert. {key}: it exited with code 3. I repeat: {key}."));
    assert!(out.elapsed < Duration::from_secs(30), "onfail waited for the background process: {:?}", out.elapsed);
}

#[test]
fn a_process_that_outlives_a_forwarded_sigterm_does_not_hold_onfail() {
    let server = Server::ok(QUEUED);
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    // `wait` returns at once when a trapped signal arrives; the background sleep survives it.
    let script = format!("trap 'exit 7' TERM; sleep 60 & echo $! > '{}'; echo ready; wait", pid_file.display());
    let mut child = voice_process(&server, &["--language", "en", "--notify-on", "always"], &["sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    assert_ready(&mut stdout);
    let started = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let exit = wait_with_limit(&mut child);
    let elapsed = started.elapsed();
    kill_left_behind(&pid_file);
    assert_eq!(exit.code(), Some(7));
    assert!(elapsed < Duration::from_secs(15), "onfail waited for the background process: {elapsed:?}");
    assert!(voice_text(&server).contains("was cancelled"), "{}", voice_text(&server));
}

#[test]
fn a_variable_that_is_not_utf8_stops_nothing() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let junk = OsStr::from_bytes(b"\xff\xfe junk");
    let workflow = OsStr::from_bytes(b"Deploy \xff");
    for (command, rest) in
        [("send", &["--status", "failure"][..]), ("run", &["--", "sh", "-c", "printf %s \"$JUNK\"; exit 1"])]
    {
        let server = Server::ok("{}");
        let mut cmd = onfail();
        github_env(&mut cmd).env("JUNK", junk).env("GITHUB_WORKFLOW", workflow);
        let output = cmd
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args([command, "--webhook-url", &server.url("/hook")])
            .args(rest)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let expected = if command == "run" { 1 } else { 0 };
        assert_eq!(output.status.code(), Some(expected), "{command}: {stderr}");
        if command == "run" {
            assert_eq!(output.stdout, junk.as_bytes(), "the command sees the variable unchanged");
        }
        let body = server.received()[0].json();
        assert_eq!(body["data"]["workflow"], "Deploy \u{fffd}", "{command}: a GITHUB_* value is read lossily");
    }
}

#[test]
fn an_option_variable_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let out = run(onfail().env("ONFAIL_MESSAGE", std::ffi::OsStr::from_bytes(b"disk \xff full")).args([
        "send",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
    ]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("ONFAIL_MESSAGE (--message) is not valid UTF-8"), "{}", out.stderr);
}

#[test]
fn a_reader_that_goes_away_ends_the_command() {
    let server = Server::ok(QUEUED);
    // `onfail run -- yes | head -1`: the test reads one line and closes the pipe.
    let mut child = voice_process(&server, &["--language", "en"], &["yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "y\n");
    drop(stdout);
    let exit = wait_with_limit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // `yes` dies of SIGPIPE, as it would in a shell pipeline: it had SIGPIPE's default action.
    assert_eq!(exit.code(), Some(141), "{stderr}");
    assert!(voice_text(&server).contains("killed by signal 13 (SIGPIPE)"), "{}", voice_text(&server));
}

#[test]
fn a_command_that_cannot_be_executed_exits_126() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("backup.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap(); // no execute permission
    for (program, reason) in [(&script, "permission denied"), (&dir.path().to_path_buf(), "it is a directory")] {
        let server = Server::ok(QUEUED);
        let out = run(&mut run_with_voice(&server, &[], &[program.to_str().unwrap()]));
        assert_eq!(out.code, 126, "{}", out.stderr);
        assert!(out.stderr.contains(&format!("{}: {reason}", program.display())), "{}", out.stderr);
        assert!(voice_text(&server).contains("it could not be started"), "{}", voice_text(&server));
    }
}

/// Waits for `child` for at most `limit`, killing it when it runs over; returns its exit code
/// and the highest peak memory (`VmHWM`, KiB) seen while it ran. Its own figure: the `ru_maxrss`
/// of a spawned process also counts the peak of the test process it was spawned from.
#[cfg(target_os = "linux")]
fn wait_watching_memory(mut child: std::process::Child, limit: Duration) -> (Option<i32>, u64) {
    let status_file = format!("/proc/{}/status", child.id());
    let until = Instant::now() + limit;
    let mut peak_kib = 0;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), peak_kib);
        }
        let status = std::fs::read_to_string(&status_file).unwrap_or_default();
        let hwm = status.lines().find_map(|line| line.strip_prefix("VmHWM:"));
        if let Some(kib) = hwm.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) {
            peak_kib = peak_kib.max(kib);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("onfail took longer than {limit:?} (peak {peak_kib} KiB)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_huge_line_without_newlines_streams_through_in_bounded_memory() {
    const SIZE: usize = 40_000_000;
    let server = Server::ok("{}");
    let script = format!("head -c {SIZE} /dev/zero | tr '\\0' a; exit 1");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("onfail"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["run", "--webhook-url", &server.url("/hook"), "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A second or two; holding the line and scanning it again for every chunk took minutes.
    let (code, peak_kib) = wait_watching_memory(child, Duration::from_secs(90));
    assert_eq!(code, Some(1));
    assert!(peak_kib < 30 * 1024, "onfail held the line in memory: peak {peak_kib} KiB for a {SIZE}-byte line");
    let message = server.received()[0].json()["data"]["message"].as_str().unwrap().to_string();
    let tail = message.rsplit_once("Last 1 lines of output:\n").expect("the tail is in the message").1;
    assert_eq!(tail, "a".repeat(500), "the tail line is cut at 500 characters");
}

/// `onfail run --` `script` with voice, default `--notify-on`, stdout piped; `setup` adjusts the
/// process before it starts (its own process group, a terminal).
fn spawn_waiting(server: &Server, script: &str, setup: impl FnOnce(&mut std::process::Command)) -> std::process::Child {
    let mut cmd = voice_process(server, &["--language", "en"], &["sh", "-c", script]);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    setup(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    assert_ready(&mut BufReader::new(child.stdout.as_mut().unwrap()));
    child
}

/// Reads the script's first line, which says it has set its traps: `ready`.
fn assert_ready(stdout: &mut impl BufRead) {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
}

/// Waits for `child`, then checks the run was `cancelled`: nobody paged, 128 + SIGINT.
fn assert_cancelled_by_sigint(server: &Server, mut child: std::process::Child) {
    let exit = wait_with_limit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(exit.code(), Some(130), "{stderr}");
    assert!(stderr.contains("status cancelled is not in --notify-on"), "{stderr}");
    assert!(server.received().is_empty(), "a Ctrl-C must not page anyone");
}

#[test]
fn sigint_to_the_whole_process_group_is_cancelled() {
    use std::os::unix::process::CommandExt;
    let server = Server::ok(QUEUED);
    let child = spawn_waiting(&server, "echo ready; exec sleep 30", |cmd| {
        cmd.process_group(0);
    });
    let group = format!("-{}", child.id());
    assert!(std::process::Command::new("kill").args(["-INT", "--", &group]).status().unwrap().success());
    assert_cancelled_by_sigint(&server, child);
}

#[test]
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn ctrl_c_in_a_terminal_is_cancelled() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let (mut master, mut terminal) = (-1, -1);
    // SAFETY: out-parameters for two new descriptors, which the OwnedFds below then own.
    let opened =
        unsafe { libc::openpty(&mut master, &mut terminal, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    let (master, terminal) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(terminal)) };
    for fd in [&master, &terminal] {
        // SAFETY: fcntl on a descriptor we own; other tests' processes must not inherit it.
        unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let terminal_fd = terminal.as_raw_fd();
    let server = Server::ok(QUEUED);
    let child = spawn_waiting(&server, "echo ready; exec sleep 30", |cmd| {
        // SAFETY: setsid and ioctl are async-signal-safe. onfail leads a new session whose
        // controlling terminal is the pty, so its process group is the foreground one.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(terminal_fd, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    // Typing Ctrl-C: the terminal (the kernel, not a process) sends SIGINT to the foreground
    // group, onfail and the command alike.
    let mut master = std::fs::File::from(master);
    std::io::Write::write_all(&mut master, b"\x03").expect("write to the pty");
    assert_cancelled_by_sigint(&server, child);
    drop((master, terminal));
}

/// Item: `onfail run sh -c '…'` without `--` is a usage error with a tip to add `--` (clap alone
/// says only "unexpected argument", or even suggests `-- -c`); nothing runs.
#[test]
fn a_command_without_the_separator_gets_a_tip_to_add_it() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    for args in [vec!["run", "sh", "-c", &script], vec!["run", "--language", "en", "sh", "-c", &script]] {
        let out = run(onfail().args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("onfail run [OPTIONS] -- sh -c '...'"), "{args:?}: {}", out.stderr);
        assert!(!marker.exists(), "the command ran");
    }
    // A misspelled option is not a command: no tip about `--` for it.
    let out = run(onfail().args(["run", "--langauge", "en", "--", "true"]));
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("takes the command after"), "{}", out.stderr);
}
