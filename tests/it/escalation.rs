//! Escalation end to end (docs/escalation.md, "Escalation"): the binary runs as a process against one fake
//! Alertalk and iletiMerkezi on 127.0.0.1 whose delivery report is scripted per number, and which
//! notes when each request arrived, so the waits between levels can be checked from outside.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::phones::{HASH, SMS_KEY, github_send};
use crate::common::{PHONES, Received, Reply, Run, Server, Spawned, read, run};

const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"OK"},"order":{"id":"555"}}}"#;
const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

/// One request to the fake, with the moment it arrived.
#[derive(Clone)]
struct Hit {
    at: Instant,
    path: String,
    body: serde_json::Value,
}

impl Hit {
    fn is_call(&self) -> bool {
        self.path.ends_with("/webhook/receive")
    }

    fn is_sms(&self) -> bool {
        self.path.ends_with("/send-sms/json")
    }

    /// The numbers a call or an SMS went to, national form.
    fn numbers(&self) -> Vec<String> {
        if self.is_call() {
            return self.body["phone_number"].as_str().unwrap().split(',').map(str::to_string).collect();
        }
        let list = self.body["request"]["order"]["message"]["receipents"]["number"].as_array().unwrap();
        list.iter().map(|n| n.as_str().unwrap().trim_start_matches("90").to_string()).collect()
    }
}

/// Alertalk and iletiMerkezi on one server. get-report answers each number with its scripted
/// status (111 delivered, 112 undelivered, 110 pending; a number not listed is left out).
struct Fake {
    server: Server,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Fake {
    fn new(report: &[(&str, u16)]) -> Fake {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&hits);
        let report: Vec<(String, u16)> = report.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        let server = Server::routed(move |request: &Received| {
            let body = serde_json::from_slice(&request.body).unwrap_or_default();
            log.lock().unwrap().push(Hit { at: Instant::now(), path: request.path.clone(), body });
            match request.path.as_str() {
                "/webhook/receive" => Reply::json(200, QUEUED),
                "/v1/send-sms/json" => Reply::json(200, ACCEPTED),
                "/v1/get-report/json" => delivery_report(&report),
                _ => Reply::status(404),
            }
        });
        Fake { server, hits }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    fn calls(&self) -> Vec<Hit> {
        self.hits().into_iter().filter(Hit::is_call).collect()
    }

    fn texts(&self) -> Vec<Hit> {
        self.hits().into_iter().filter(Hit::is_sms).collect()
    }

    /// `onfail send --escalate MODE --output json`, with voice and SMS aimed at the fake, under
    /// GitHub Actions with its output files in `dir`.
    fn send(&self, mode: &str, dir: &Path) -> Command {
        let mut cmd = github_send(&self.server, dir);
        cmd.env("ONFAIL_ESCALATE", mode);
        cmd
    }
}

fn delivery_report(numbers: &[(String, u16)]) -> Reply {
    let finished = numbers.iter().all(|(_, s)| *s != 110);
    let messages: Vec<String> = numbers.iter().map(|(n, s)| format!(r#"{{"number":"+90{n}","status":{s}}}"#)).collect();
    Reply::json(
        200,
        &format!(
            r#"{{"response":{{"status":{{"code":200,"message":"OK"}},"order":{{"id":"555","status":{},"message":[{}]}}}}}}"#,
            if finished { 114 } else { 113 },
            messages.join(",")
        ),
    )
}

/// Runs to the end and checks that no secret and no phone number shows in any output.
fn go(cmd: Command) -> Run {
    let out = run(&mut assert_cmd::Command::from_std(cmd));
    out.assert_clean(&[SMS_KEY.to_string(), HASH.to_string()]);
    out
}

/// Every recipient row of the escalation, as `(masked, round, level, sms, called)`.
fn rows(out: &Run) -> Vec<(String, u64, u64, Option<String>, bool)> {
    let json = out.json();
    json["escalation"]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().to_string(),
                r["round"].as_u64().unwrap(),
                r["level"].as_u64().unwrap(),
                r["sms"].as_str().map(str::to_string),
                r["called"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The value of one step output in a `$GITHUB_OUTPUT` file (`name<<DELIM`, value, `DELIM`).
fn output(file: &str, name: &str) -> Option<String> {
    let mut lines = file.lines();
    while let Some(line) = lines.next() {
        if let Some((key, _)) = line.split_once("<<")
            && key == name
        {
            return lines.next().map(str::to_string);
        }
    }
    None
}

const A: &str = PHONES[0];
const B: &str = PHONES[1];

#[test]
fn sms_first_calls_only_the_number_whose_sms_was_not_delivered() {
    let fake = Fake::new(&[(A, 111), (B, 112)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("sms-first", dir.path());
    cmd.args(["--phone-numbers", &format!("{A},{B}"), "--escalate-after", "10s"]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let texts = fake.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].numbers(), [A, B]);
    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "one call, to the undelivered number only");
    assert_eq!(calls[0].numbers(), [B]);
    assert!(calls[0].at > texts[0].at);
    // The report is final at once: nobody waits the whole 10 s.
    assert!(out.elapsed < Duration::from_secs(8), "{:?}", out.elapsed);

    let (a, b) = ("5*******67".to_string(), "5*******43".to_string());
    assert_eq!(
        rows(&out),
        [
            (a, 1, 1, Some("delivered".into()), false),
            (b.clone(), 1, 1, Some("undelivered".into()), false),
            (b, 1, 2, None, true),
        ]
    );
    let json = out.json();
    assert_eq!(json["escalation"]["mode"], "sms-first");
    assert_eq!(json["escalation"]["acknowledged"], false);
    assert_eq!(json["escalation"]["ended"], "completed");
    let channels: Vec<(&str, u64)> = json["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel"].as_str().unwrap(), c["level"].as_u64().unwrap()))
        .collect();
    assert_eq!(channels, [("sms", 1), ("voice", 2)]);

    assert!(
        out.stderr.contains("escalation: SMS delivery report: 5*******67 delivered, 5*******43 undelivered"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("escalation: round 1, level 2: paged 5*******43 (voice sent)"), "{}", out.stderr);
    let outputs = read(&dir.path().join("output"));
    assert_eq!(output(&outputs, "acknowledged").as_deref(), Some("false"));
    assert_eq!(output(&outputs, "sent-channels").as_deref(), Some("sms,voice"));
    let summary = read(&dir.path().join("summary"));
    assert!(summary.contains("| 1 | 2 | 5\\*\\*\\*\\*\\*\\*\\*43 | — | yes |"), "{summary}");
}

#[test]
fn sms_first_calls_nobody_when_every_sms_was_delivered() {
    let fake = Fake::new(&[(A, 111), (B, 111)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("sms-first", dir.path());
    cmd.args(["--phone-numbers", &format!("{A} {B}")]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.texts().len(), 1);
    assert!(fake.calls().is_empty(), "a delivered SMS saves the call");
    assert!(out.stderr.contains("every SMS was delivered, so nobody is called"), "{}", out.stderr);
    assert!(
        rows(&out)
            .iter()
            .all(|(_, _, level, sms, called)| *level == 1 && sms.as_deref() == Some("delivered") && !called)
    );
}

#[test]
fn sms_first_calls_a_number_still_pending_when_the_wait_ends_and_not_before() {
    let fake = Fake::new(&[(A, 111), (B, 110)]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("sms-first", dir.path());
    cmd.args(["--phone-numbers", &format!("{A},{B}"), "--escalate-after", "2s"]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (texts, calls) = (fake.texts(), fake.calls());
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].numbers(), [B]);
    let waited = calls[0].at - texts[0].at;
    assert!(waited >= Duration::from_millis(1900), "called after {waited:?}, before --escalate-after");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    assert!(out.stderr.contains("waiting up to 2s for the SMS delivery report"), "{}", out.stderr);
    assert_eq!(rows(&out)[1].3.as_deref(), Some("pending"));
}

#[test]
fn a_chain_pages_the_second_list_only_after_the_wait() {
    let fake = Fake::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("chain", dir.path());
    cmd.args(["--phone-numbers", A, "--escalation-phone-numbers", B, "--escalate-after", "2s"]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let (calls, texts) = (fake.calls(), fake.texts());
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].numbers(), calls[1].numbers()), (vec![A.to_string()], vec![B.to_string()]));
    assert_eq!(texts.len(), 2);
    assert_eq!((texts[0].numbers(), texts[1].numbers()), (vec![A.to_string()], vec![B.to_string()]));
    let waited = calls[1].at - calls[0].at;
    assert!(waited >= Duration::from_millis(1950), "level 2 came after {waited:?}, before the wait was over");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    assert!(texts[1].at - texts[0].at >= Duration::from_millis(1950));

    // The chain's SMS says how to acknowledge, in the language of the texts (Turkish on phones).
    let text = texts[0].body["request"]["order"]["message"]["text"].as_str().unwrap().to_string();
    assert!(text.contains("Cancel workflow"), "{text}");
    assert_eq!(texts[1].body["request"]["order"]["message"]["text"], text.as_str());

    assert!(
        out.stderr.contains("escalation: round 1, level 1: paged 5*******67 (voice sent, sms sent)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("escalation: waiting 2s for an acknowledgement (cancel the run to acknowledge); round 1, level 2 (5*******43) is paged at "),
        "{}",
        out.stderr
    );
    let (a, b) = ("5*******67".to_string(), "5*******43".to_string());
    assert_eq!(rows(&out), [(a, 1, 1, Some("sent".into()), true), (b, 1, 2, Some("sent".into()), true)]);
    assert_eq!(out.json()["escalation"]["ended"], "completed");
}

#[test]
fn the_escalation_timeout_ends_a_repeating_chain() {
    let fake = Fake::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("chain", dir.path());
    cmd.args(["--phone-numbers", A, "--escalation-phone-numbers", B]).args([
        "--escalate-after",
        "1s",
        "--escalation-repeat",
        "5",
        "--escalation-timeout",
        "2500ms",
    ]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Round 1 level 1, wait, level 2, wait, round 2 level 1; the next wait would pass 2.5 s.
    let numbers: Vec<Vec<String>> = fake.calls().iter().map(Hit::numbers).collect();
    assert_eq!(numbers, [vec![A.to_string()], vec![B.to_string()], vec![A.to_string()]]);
    let json = out.json();
    assert_eq!(json["escalation"]["ended"], "escalation-timeout");
    assert!(json["escalation"]["waited_ms"].as_u64().unwrap() >= 2000);
    assert!(out.stderr.contains("--escalation-timeout (2s 500ms) ends the chain"), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
}

/// Starts a chain with a long wait, sends `signal` once level 1 is out, and returns the run and
/// how long onfail took to exit after the signal.
fn acknowledge_with(signal: &str) -> (Fake, Run, Duration, String) {
    let fake = Fake::new(&[]);
    let args = ["--phone-numbers", A, "--escalation-phone-numbers", B, "--escalate-after", "60s"];
    let (out, exited, files) = interrupt(&fake, "chain", &args, signal, |fake| fake.calls().len());
    (fake, out, exited, files)
}

/// Runs `onfail send --escalate MODE ARGS`, waits until `sent(fake)` is 1 (the first page is
/// out) and onfail says it is waiting for the next level, sends `signal`, and returns the run,
/// how long onfail took to exit after the signal, and its output files.
fn interrupt(
    fake: &Fake,
    mode: &str,
    args: &[&str],
    signal: &str,
    sent: fn(&Fake) -> usize,
) -> (Run, Duration, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send(mode, dir.path());
    cmd.args(args);
    let spawned = Spawned::start(&mut cmd);
    // Into the wait: level 1 is answered, and the wait has begun.
    spawned.wait_for_line("escalation: waiting", Duration::from_secs(20));
    assert_eq!(sent(fake), 1, "the first page never arrived");
    let signalled = Instant::now();
    spawned.signal(signal);
    let (out, exited) = spawned.finish(Duration::from_secs(30), signalled);
    out.assert_clean(&[SMS_KEY.to_string(), HASH.to_string()]);
    let outputs = read(&dir.path().join("output")) + "\n---summary---\n" + &read(&dir.path().join("summary"));
    (out, exited, outputs)
}

#[cfg(unix)]
#[test]
fn sigint_during_the_wait_acknowledges_the_page() {
    let (fake, out, exited, files) = acknowledge_with("-INT");
    assert!(exited < Duration::from_secs(5), "onfail took {exited:?} to exit after SIGINT");
    assert_eq!(out.code, 0, "an acknowledged page is not a failure: {}", out.stderr);
    thread::sleep(Duration::from_millis(300));
    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "nothing more is sent after the acknowledgement");
    assert_eq!(calls[0].numbers(), [A]);
    assert_eq!(fake.texts().len(), 1);

    let json = out.json();
    assert_eq!(json["escalation"]["acknowledged"], true);
    assert_eq!(json["escalation"]["ended"], "acknowledged");
    assert_eq!(output(&files, "acknowledged").as_deref(), Some("true"));
    assert_eq!(output(&files, "result").as_deref(), Some("sent"));
    assert!(files.contains("**acknowledged**: the run was cancelled"), "{files}");
    assert!(
        out.stderr.contains("escalation: acknowledged (the run was cancelled): nothing more is sent"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("(acknowledged: the run was cancelled, so the escalation stopped)"), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn sigterm_during_the_wait_acknowledges_too() {
    let (fake, out, exited, files) = acknowledge_with("-TERM");
    assert!(exited < Duration::from_secs(5), "onfail took {exited:?} to exit after SIGTERM");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.calls().len(), 1);
    assert_eq!(output(&files, "acknowledged").as_deref(), Some("true"));
}

/// Arguments, environment variables to clear, and what the error says.
type BadCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[cfg(unix)]
#[test]
fn sigint_while_sms_first_reads_the_report_means_nobody_is_called() {
    let fake = Fake::new(&[(A, 110), (B, 110)]);
    let args = ["--phone-numbers", &format!("{A},{B}"), "--escalate-after", "60s"].map(str::to_string);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, exited, files) = interrupt(&fake, "sms-first", &args, "-INT", |fake| fake.texts().len());
    assert!(exited < Duration::from_secs(5), "onfail took {exited:?} to exit after SIGINT");
    assert_eq!(out.code, 0, "{}", out.stderr);
    thread::sleep(Duration::from_millis(300));
    assert!(fake.calls().is_empty(), "an acknowledged page calls nobody");
    assert_eq!(output(&files, "acknowledged").as_deref(), Some("true"));
    let rows = rows(&out);
    assert!(rows.iter().all(|(_, _, level, sms, called)| *level == 1 && sms.as_deref() == Some("pending") && !called));
}

#[test]
fn bad_combinations_are_usage_errors_and_send_nothing() {
    let cases: &[BadCase] = &[
        (
            &["--escalate", "sms-first"],
            &[("ONFAIL_ILETIMERKEZI_KEY", "")],
            "--escalate: sms-first texts, then calls: it needs voice and SMS configured; missing: SMS",
        ),
        (
            &["--escalate", "sms-first"],
            &[("ONFAIL_ALERTALK_WEBHOOK_KEY", "")],
            "missing: voice calls (--alertalk-webhook-key with --phone-numbers)",
        ),
        (&["--escalate", "chain"], &[], "--escalation-phone-numbers: missing: --escalate chain pages this second list"),
        (&["--escalate", "chain", "--escalation-phone-numbers", "12345"], &[], "--escalation-phone-numbers: entry 1"),
        (
            &[
                "--escalate",
                "chain",
                "--escalation-phone-numbers",
                B,
                "--escalate-after",
                "2m",
                "--escalation-timeout",
                "1m",
            ],
            &[],
            "--escalation-timeout: is shorter than --escalate-after",
        ),
        (
            &["--escalation-phone-numbers", B],
            &[],
            "--escalation-phone-numbers: is only paged by --escalate chain (it is off)",
        ),
        (
            &["--escalate", "sms-first", "--escalation-repeat", "2"],
            &[],
            "--escalation-repeat: only repeats --escalate chain (it is sms-first)",
        ),
        (&["--escalate", "loud"], &[], "'loud' is not an escalation; use off, sms-first or chain"),
        (
            &["--escalate", "chain", "--escalation-phone-numbers", B, "--escalate-after", "soon"],
            &[],
            "'soon' is not a duration",
        ),
    ];
    for (args, env, says) in cases {
        let fake = Fake::new(&[]);
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = fake.send("off", dir.path());
        cmd.args(["--phone-numbers", A]).args(*args);
        for (name, value) in *env {
            cmd.env(name, value);
        }
        let out = go(cmd);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: expected {says:?} in:\n{}", out.stderr);
        assert!(fake.hits().is_empty(), "{args:?}: nothing may be sent");
    }
}

#[test]
fn a_success_never_escalates() {
    let fake = Fake::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("chain", dir.path());
    cmd.args(["--phone-numbers", A, "--escalation-phone-numbers", B, "--status", "success"]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.hits().is_empty(), "voice and SMS stay silent on success, and nothing waits");
    assert!(out.json().get("escalation").is_none());
    assert!(out.elapsed < Duration::from_secs(10));
}

#[test]
fn dry_run_shows_both_levels_and_sends_nothing() {
    let fake = Fake::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("chain", dir.path());
    cmd.args(["--phone-numbers", A, "--escalation-phone-numbers", B, "--dry-run"]);
    let out = go(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(fake.hits().is_empty());
    let json = out.json();
    let planned: Vec<(String, u64, String)> = json["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let recipients =
                c["recipients"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>();
            (c["channel"].as_str().unwrap().to_string(), c["level"].as_u64().unwrap(), recipients.join(","))
        })
        .collect();
    let (a, b) = ("5*******67".to_string(), "5*******43".to_string());
    assert_eq!(
        planned,
        [("voice".into(), 1, a.clone()), ("sms".into(), 1, a), ("voice".into(), 2, b.clone()), ("sms".into(), 2, b),]
    );
    assert_eq!(json["escalation"]["ended"], "dry-run");
    assert!(
        out.stderr.contains("escalation chain: page, wait 1m for an acknowledgement, then page 5*******43"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_describes_the_escalation() {
    let fake = Fake::new(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = fake.send("sms-first", dir.path());
    cmd.args(["--phone-numbers", A]);
    // `send` is the first argument; `check` takes the same options.
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    let mut check = Command::new(cmd.get_program());
    check.env_clear().envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    check.arg("check").args(args.iter().skip(1).filter(|a| *a != "--output" && *a != "json"));
    let out = go(check);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("escalation sms-first: text first, wait up to 1m for the delivery report"),
        "{}",
        out.stderr
    );
    assert!(fake.hits().is_empty());
}
