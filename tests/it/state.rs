//! `--notify-when changes` outside GitHub Actions: `onfail run` keeps a state file per alert id
//! in `--state-dir`. The binary runs as a process against local servers, as cron would run it.
#![cfg(unix)] // the commands under test are POSIX shell scripts

use std::path::Path;
use std::process::Stdio;

use crate::common::{KEY, PHONES, Reply, Run, Server, onfail, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

/// `onfail run --notify-when changes` with voice and webhook, the state in `dir`, and `script`.
fn cron(voice: &Server, webhook: &Server, dir: &Path, script: &str) -> assert_cmd::Command {
    cron_with(onfail(), voice, webhook, dir, script)
}

/// [`cron`] where no file can grow past 0 bytes (`ulimit -f 0`, SIGXFSZ ignored so a write fails
/// with EFBIG, as on a full disk): the state cannot be written, though it can be read, created
/// empty and removed. Root-proof, unlike a read-only folder.
fn cron_on_a_full_disk(voice: &Server, webhook: &Server, dir: &Path, script: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.env_clear().env("RUST_BACKTRACE", "0").env("HOSTNAME", "test-host");
    cmd.args(["-c", "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\""]).arg(assert_cmd::cargo::cargo_bin("onfail"));
    cron_with(cmd, voice, webhook, dir, script)
}

fn cron_with(
    mut cmd: assert_cmd::Command,
    voice: &Server,
    webhook: &Server,
    dir: &Path,
    script: &str,
) -> assert_cmd::Command {
    cmd.args(["run", "--notify-when", "changes", "--output", "json", "--alert-id", "nightly-backup"])
        .arg("--state-dir")
        .arg(dir)
        .args(["--alertalk-url", &voice.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
        .args(["--webhook-url", &webhook.url("/hook")])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--", "sh", "-c", script]);
    cmd
}

fn result(out: &Run, channel: &str) -> (String, String) {
    let json: serde_json::Value =
        serde_json::from_str(out.stdout.lines().skip_while(|l| *l != "{").collect::<Vec<_>>().join("\n").as_str())
            .unwrap_or_else(|e| panic!("no JSON document ({e}):\n{}", out.stdout));
    let found = json["channels"].as_array().unwrap().iter().find(|c| c["channel"] == channel).unwrap().clone();
    (found["result"].as_str().unwrap().to_string(), found["detail"].as_str().unwrap_or_default().to_string())
}

fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("nightly-backup.json")).unwrap()).unwrap()
}

#[test]
fn fail_fail_succeed_gives_page_silence_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));

    let first = run(&mut cron(&voice, &webhook, dir.path(), "exit 3"));
    assert_eq!(first.code, 3, "{}", first.stderr);
    assert_eq!(result(&first, "voice").0, "sent");
    assert!(first.stderr.contains("edge: first-failure"), "{}", first.stderr);
    assert_eq!(state(dir.path())["status"], "failure");
    let since = state(dir.path())["since"].as_str().unwrap().to_string();

    let second = run(&mut cron(&voice, &webhook, dir.path(), "exit 3"));
    let (voice_result, why) = result(&second, "voice");
    assert_eq!(voice_result, "skipped");
    assert!(why.starts_with(&format!("still failing since {since}")), "{why}");
    assert_eq!(result(&second, "webhook").0, "sent");
    assert_eq!(voice.received().len(), 1, "the second failure must not ring");
    assert_eq!(state(dir.path())["failures"], 2);

    let third = run(&mut cron(&voice, &webhook, dir.path(), "true"));
    assert_eq!(third.code, 0);
    assert_eq!(result(&third, "voice").0, "skipped");
    assert_eq!(result(&third, "webhook").0, "sent");
    assert!(third.stderr.contains("edge: recovered"), "{}", third.stderr);
    let recovered = webhook.received()[2].json();
    let message = recovered["data"]["message"].as_str().unwrap();
    // Outside CI nothing says "CI"; the text says since when it failed (the first failure's time).
    let shown = format!("{} {} UTC", &since[..10], &since[11..16]);
    assert_eq!(message, format!("RECOVERED: true (on test-host) is passing again. It had failed since {shown}."));
    assert_eq!(voice.received().len(), 1, "a recovery never rings");
    assert_eq!(state(dir.path())["status"], "success");

    // And the next failure is a new incident.
    let fourth = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&fourth, "voice").0, "sent");
}

#[test]
fn a_corrupt_state_file_pages_with_a_warning_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nightly-backup.json"), "{\"version\": 1, \"stat").unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(&mut cron(&voice, &webhook, dir.path(), "exit 2"));
    assert_eq!(result(&out, "voice").0, "sent");
    assert!(out.stderr.contains("nightly-backup.json is corrupt"), "{}", out.stderr);
    assert!(out.stderr.contains("edge: unknown"), "{}", out.stderr);
    assert_eq!(state(dir.path())["status"], "failure");
}

#[test]
fn a_page_that_did_not_get_out_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    // No credit: the call fails, and so does the webhook; nothing reached anyone.
    let voice = Server::new(vec![], Reply::json(402, r#"{"message":"no credit"}"#));
    let webhook = Server::new(vec![], Reply::status(404));
    let out = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&out, "voice").0, "failed");
    assert!(out.stderr.contains("not recorded"), "{}", out.stderr);
    assert!(!dir.path().join("nightly-backup.json").exists());
    // So the next failure pages again.
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let again = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&again, "voice").0, "sent");
}

#[test]
fn a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(cron(&voice, &webhook, &state_dir, "exit 1").env("ONFAIL_DRY_RUN", "true"));
    assert!(out.stderr.contains("edge: first-failure"), "{}", out.stderr);
    assert!(!state_dir.exists(), "a dry run created {}", state_dir.display());
    assert!(voice.received().is_empty());
}

#[test]
fn the_default_folder_is_under_xdg_state_home() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let mut cmd = onfail();
    cmd.args(["run", "--notify-when", "changes", "--alertalk-url", &voice.url("/"), "--phone-numbers", PHONES[0]])
        .args(["--webhook-url", &webhook.url("/hook")])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("XDG_STATE_HOME", dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--", "false"]);
    run(&mut cmd);
    // The default alert id outside CI comes from the host name (test-host) and the command.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("onfail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert!(names.len() == 1 && names[0].starts_with("onfail-") && names[0].len() == 28, "{names:?}");
}

/// `onfail run --notify-when changes` with the default alert id, voice only, `script` as the command.
fn cron_default_id(voice: &Server, dir: &Path, script: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["run", "--notify-when", "changes", "--output", "json"])
        .arg("--state-dir")
        .arg(dir)
        .args(["--alertalk-url", &voice.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--", "sh", "-c", script]);
    cmd
}

/// Item: outside GitHub the default alert id includes the wrapped command, so a second cron job
/// on the same host that starts failing is a new incident, not the first one's "still failing".
#[test]
fn two_cron_jobs_on_one_host_never_share_an_incident() {
    let dir = tempfile::tempdir().unwrap();
    let voice = Server::ok(QUEUED);
    let backup = run(&mut cron_default_id(&voice, dir.path(), "echo backup; exit 1"));
    assert_eq!(result(&backup, "voice").0, "sent", "{}", backup.stderr);
    let disk = run(&mut cron_default_id(&voice, dir.path(), "echo disk check; exit 1"));
    assert_eq!(result(&disk, "voice").0, "sent", "the second job's failure was silenced:\n{}", disk.stderr);
    assert!(disk.stderr.contains("edge: first-failure"), "{}", disk.stderr);
    assert_eq!(voice.received().len(), 2);
    let states = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json"));
    assert_eq!(states.count(), 2, "one state file per job");
    // The same job again is the same incident: still failing, silent.
    let again = run(&mut cron_default_id(&voice, dir.path(), "echo backup; exit 1"));
    assert!(again.stderr.contains("edge: still-failing"), "{}", again.stderr);
    assert_eq!(voice.received().len(), 2);
}

/// Item: a `--alert-id` given to two different commands is shared on purpose or by mistake:
/// either way a warning says so.
#[test]
fn a_given_alert_id_shared_by_two_commands_warns() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let first = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert!(!first.stderr.contains("last used by another command"), "{}", first.stderr);
    assert_eq!(state(dir.path())["command"], "sh -c exit 1");
    let same = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert!(!same.stderr.contains("last used by another command"), "{}", same.stderr);
    let other = run(&mut cron(&voice, &webhook, dir.path(), "exit 2"));
    assert!(
        other.stderr.contains("--alert-id nightly-backup was last used by another command (sh -c exit 1)"),
        "{}",
        other.stderr
    );
    assert!(other.stderr.contains("give each job its own --alert-id"), "{}", other.stderr);
}

#[test]
fn an_unwritable_state_folder_warns_and_still_pages() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(&mut cron(&voice, &webhook, &blocker, "exit 1"));
    assert_eq!(result(&out, "voice").0, "sent");
    assert!(out.stderr.contains("cannot create the state folder"), "{}", out.stderr);
}

/// Item: a state path that is not a regular file is unknown at once. Opening a FIFO to read it
/// would wait for a writer forever, and the page with it.
#[test]
fn a_fifo_at_the_state_path_is_unknown_at_once_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("nightly-backup.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let out = run(cron(&voice, &webhook, dir.path(), "exit 1").timeout(std::time::Duration::from_secs(20)));
    assert_eq!(out.code, 1, "onfail hung or died: {}", out.stderr);
    assert!(out.elapsed < std::time::Duration::from_secs(10), "took {:?}", out.elapsed);
    assert_eq!(result(&out, "voice").0, "sent");
    assert!(out.stderr.contains("edge: unknown"), "{}", out.stderr);
    assert!(out.stderr.contains("is a FIFO (named pipe), not a regular file"), "{}", out.stderr);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    // A device is refused the same way (it reads as endless zeros, or nothing).
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let devices = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", devices.path().join("nightly-backup.json")).unwrap();
    let out = run(cron(&voice, &webhook, devices.path(), "exit 1").timeout(std::time::Duration::from_secs(20)));
    assert_eq!(result(&out, "voice").0, "sent");
    assert!(out.stderr.contains("is a device, not a regular file"), "{}", out.stderr);
}

/// Item: a success that cannot be written must not leave the "failing" state behind, or the next
/// new failure would be taken for "still failing" and nobody would be called.
#[test]
fn a_recovery_that_cannot_be_written_does_not_silence_the_next_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(state(dir.path())["status"], "failure");

    let recovered = run(&mut cron_on_a_full_disk(&voice, &webhook, dir.path(), "true"));
    assert_eq!(recovered.code, 0, "{}", recovered.stderr);
    assert!(recovered.stderr.contains("edge: recovered"), "{}", recovered.stderr);
    assert!(recovered.stderr.contains("cannot write the state file"), "{}", recovered.stderr);
    assert!(
        recovered.stderr.contains("the old \"failing\" state is removed, so the next failure pages as a first failure"),
        "{}",
        recovered.stderr
    );

    let next = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&next, "voice").0, "sent", "{}", next.stderr);
    assert_eq!(voice.received().len(), 2, "the new incident must ring");
}

/// Item: a failure that cannot be recorded says what the next run does: it still reads the last
/// success, so the next failure pages again.
#[test]
fn a_failure_that_cannot_be_written_says_the_next_one_pages_again() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    run(&mut cron(&voice, &webhook, dir.path(), "true"));
    let out = run(&mut cron_on_a_full_disk(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&out, "voice").0, "sent");
    assert!(
        out.stderr.contains("the next run still reads the last success, so the next failure pages again"),
        "{}",
        out.stderr
    );
    let next = run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&next, "voice").0, "sent", "{}", next.stderr);
}

/// Item: a "failing" state in a folder that cannot be written may be stale (a success could not
/// have replaced it): it is not trusted, and the failure pages.
#[test]
fn a_failing_state_in_a_folder_that_cannot_be_written_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    run(&mut cron(&voice, &webhook, dir.path(), "exit 1"));
    let out = run(&mut cron_on_a_full_disk(&voice, &webhook, dir.path(), "exit 1"));
    assert_eq!(result(&out, "voice").0, "sent", "{}", out.stderr);
    assert!(out.stderr.contains("edge: unknown"), "{}", out.stderr);
    assert!(out.stderr.contains("cannot be written"), "{}", out.stderr);
    assert_eq!(voice.received().len(), 2);
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"));
    assert_eq!(leftovers.count(), 0);
}

#[test]
fn overlapping_runs_leave_a_whole_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let (voice, webhook) = (Server::ok(QUEUED), Server::ok("{}"));
    let children: Vec<_> = (0..8)
        .map(|i| {
            let script = if i % 2 == 0 { "exit 1" } else { "true" };
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("onfail"));
            cmd.env_clear()
                .env("HOSTNAME", "test-host")
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
                .args(["run", "--notify-when", "changes", "--alert-id", "nightly-backup"])
                .arg("--state-dir")
                .arg(dir.path())
                .args(["--alertalk-url", &voice.url("/"), "--phone-numbers", PHONES[0]])
                .args(["--webhook-url", &webhook.url("/hook"), "--", "sh", "-c", script])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("corrupt") && !stderr.contains("cannot"), "{stderr}");
    }
    let state = state(dir.path());
    assert!(state["status"] == "failure" || state["status"] == "success", "{state}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `onfail run --notify-when changes --escalate chain` as cron runs it, voice and SMS on one
/// local server (`hits` notes every request), the state in `dir`.
fn escalating(server: &Server, dir: &Path, script: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["run", "--notify-when", "changes", "--output", "json", "--alert-id", "nightly-backup"])
        .arg("--state-dir")
        .arg(dir)
        .args(["--escalate", "chain", "--escalate-after", "1s"])
        .args(["--phone-numbers", PHONES[0], "--escalation-phone-numbers", PHONES[1], "--sms-sender", "ACME"])
        .args(["--alertalk-url", &server.url("/webhook/receive"), "--iletimerkezi-url", &server.url("")])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_KEY", SMS_KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", SMS_HASH)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--", "sh", "-c", script]);
    cmd
}

const SMS_KEY: &str = "ik-SENTINEL-key-3e7a01";
const SMS_HASH: &str = "ih-SENTINEL-hash-5c2b88";

/// The JSON document `--output json` printed after the command's own output.
fn document(out: &Run) -> serde_json::Value {
    let text = out.stdout.lines().skip_while(|l| *l != "{").collect::<Vec<_>>().join("\n");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("no JSON document ({e}):\n{}", out.stdout))
}

#[test]
fn a_still_failing_or_recovered_run_never_starts_an_escalation() {
    let dir = tempfile::tempdir().unwrap();
    let accepted = r#"{"response":{"status":{"code":200,"message":"OK"},"order":{"id":"555"}}}"#;
    let server = Server::routed(move |request| match request.path.as_str() {
        "/webhook/receive" => Reply::json(200, QUEUED),
        "/v1/send-sms/json" => Reply::json(200, accepted),
        _ => Reply::status(404),
    });
    let calls = |server: &Server| server.received().iter().filter(|r| r.path == "/webhook/receive").count();
    let texts = |server: &Server| -> Vec<String> {
        let sent = server.received().into_iter().filter(|r| r.path == "/v1/send-sms/json");
        sent.map(|r| r.json()["request"]["order"]["message"]["text"].as_str().unwrap().to_string()).collect()
    };
    let secrets = [SMS_KEY.to_string(), SMS_HASH.to_string()];

    // The first failure climbs the chain: the first list, and after the wait the second.
    let first = run(&mut escalating(&server, dir.path(), "exit 3"));
    first.assert_clean(&secrets);
    assert_eq!(first.code, 3, "{}", first.stderr);
    assert!(first.stderr.contains("edge: first-failure"), "{}", first.stderr);
    assert_eq!(document(&first)["escalation"]["ended"], "completed", "{}", first.stdout);
    assert_eq!((calls(&server), texts(&server).len()), (2, 2), "{}", first.stderr);

    // Still failing: no level is paged, nobody is called or texted, and nothing waits.
    let second = run(&mut escalating(&server, dir.path(), "exit 3"));
    second.assert_clean(&secrets);
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert!(second.stderr.contains("edge: still-failing"), "{}", second.stderr);
    assert!(document(&second).get("escalation").is_none(), "{}", second.stdout);
    assert!(!second.stderr.contains("escalation: round"), "{}", second.stderr);
    assert_eq!((calls(&server), texts(&server).len()), (2, 2), "a still-failing run paged:\n{}", second.stderr);

    // Recovered: the short notice by SMS, no call and no escalation.
    let third = run(&mut escalating(&server, dir.path(), "true"));
    third.assert_clean(&secrets);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(third.stderr.contains("edge: recovered"), "{}", third.stderr);
    assert!(document(&third).get("escalation").is_none(), "{}", third.stdout);
    assert_eq!(calls(&server), 2, "a recovery rang:\n{}", third.stderr);
    let sent = texts(&server);
    assert_eq!(sent.len(), 3, "one recovery notice, to the first list only: {sent:?}");
    assert!(sent[2].starts_with("DÜZELDİ: true (test-host sunucusu) yeniden başarılı. Hata başlangıcı: "), "{sent:?}");
}
