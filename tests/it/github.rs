//! GitHub Actions runtime I/O, end to end: the binary runs as a process under
//! `GITHUB_ACTIONS=true` against a real HTTP server on 127.0.0.1, with temporary files for
//! `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY`. What the runner would make of the output is checked
//! with a small model of its command parser, so an injection shows up as an unexpected command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{KEY, PHONES, Reply, Run, Server, github_env, onfail, read, run, sentinels};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;

/// A scratch directory with the two runner files (not created: onfail must create them).
struct Files {
    _dir: tempfile::TempDir,
    output: PathBuf,
    summary: PathBuf,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let (output, summary) = (dir.path().join("output"), dir.path().join("summary"));
        Files { _dir: dir, output, summary }
    }

    fn outputs(&self) -> BTreeMap<String, String> {
        parse_outputs(&read(&self.output))
    }
}

/// onfail under GitHub Actions writing to `files`, with the sentinel key and a number.
fn under_actions(files: &Files) -> assert_cmd::Command {
    let mut cmd = onfail();
    github_env(&mut cmd)
        .env("GITHUB_OUTPUT", &files.output)
        .env("GITHUB_STEP_SUMMARY", &files.summary)
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0]);
    cmd
}

/// `onfail send` under GitHub Actions, aimed at `server`, with the sentinel key and a number.
fn send(server: &Server, files: &Files) -> assert_cmd::Command {
    let mut cmd = under_actions(files);
    cmd.args(["send", "--alertalk-url", &server.url("/webhook/receive")]);
    cmd
}

/// Parses `$GITHUB_OUTPUT` as the runner does: `name=value` lines and `name<<DELIM` heredocs.
/// Panics on anything malformed or on a name written twice.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let (name, value) = if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let next = lines.next().unwrap_or_else(|| panic!("output {name}: delimiter {delim} never closes"));
                if next == delim {
                    break;
                }
                value.push(next);
            }
            (name, value.join("\n"))
        } else {
            let (name, value) = line.split_once('=').unwrap_or_else(|| panic!("malformed output line {line:?}"));
            (name, value.to_string())
        };
        assert!(outputs.insert(name.to_string(), value).is_none(), "output {name} written twice");
    }
    outputs
}

/// A workflow command the runner would execute: its name, properties and unescaped data.
#[derive(Debug, PartialEq)]
struct Cmd {
    name: String,
    props: String,
    data: String,
}

/// The commands a GitHub runner would execute from one stream, modelled on actions/runner:
/// `::name props::data` at the start of a line (after leading spaces), the legacy
/// `##[name props]data` anywhere in a line, and `::stop-commands::T` pausing both until `::T::`
/// (recorded as `(resume)`). Fails if the stream leaves command processing paused.
fn commands(stream: &str) -> Vec<Cmd> {
    const KNOWN: [&str; 15] = [
        "add-mask",
        "warning",
        "error",
        "notice",
        "debug",
        "group",
        "endgroup",
        "echo",
        "set-output",
        "set-env",
        "save-state",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "stop-commands",
    ];
    let unescape = |s: &str| {
        s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")
    };
    let mut found = Vec::new();
    let mut paused: Option<String> = None;
    // The runner reads lines ending at CR, LF or CRLF.
    for line in stream.split(['\n', '\r']) {
        let trimmed = line.trim_start();
        let parsed = trimmed
            .strip_prefix("::")
            .and_then(|rest| rest.split_once("::"))
            .or_else(|| line.split_once("##[").and_then(|(_, rest)| rest.split_once(']')));
        let Some((info, data)) = parsed else { continue };
        let (name, props) = info.split_once(' ').unwrap_or((info, ""));
        if let Some(token) = &paused {
            if name == token {
                paused = None;
                found.push(Cmd { name: "(resume)".into(), props: String::new(), data: String::new() });
            }
            continue;
        }
        if name == "stop-commands" {
            paused = Some(data.to_string());
        }
        if KNOWN.contains(&name) {
            found.push(Cmd { name: name.into(), props: unescape(props), data: unescape(data) });
        }
    }
    assert!(paused.is_none(), "command processing was left paused:\n{stream}");
    found
}

/// Asserts that no secret appears anywhere (streams, outputs, summary), that every
/// `::add-mask::` comes before any other output, and returns the runner's view of stderr.
fn check(out: &Run, files: &Files) -> Vec<Cmd> {
    for secret in sentinels() {
        for (what, text) in [("GITHUB_OUTPUT", read(&files.output)), ("GITHUB_STEP_SUMMARY", read(&files.summary))] {
            assert!(!text.contains(&secret), "{what} leaks {secret:?}:\n{text}");
        }
    }
    let cmds = commands(&out.stderr);
    let leading = out.stderr.lines().take_while(|l| l.starts_with("::add-mask::")).count();
    assert_eq!(masks(&cmds).len(), leading, "a mask came after other output:\n{}", out.stderr);
    cmds
}

/// Asserts the runner would run no command but masks, errors, and the guard around echoed text.
fn assert_nothing_injected(cmds: &[Cmd], stderr: &str) {
    let unexpected: Vec<&Cmd> = cmds
        .iter()
        .filter(|c| !["add-mask", "stop-commands", "(resume)", "error"].contains(&c.name.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "injected: {unexpected:?}\n{stderr}");
}

fn masks(cmds: &[Cmd]) -> Vec<&str> {
    cmds.iter().filter(|c| c.name == "add-mask").map(|c| c.data.as_str()).collect()
}

#[test]
fn masks_come_first_even_before_a_configuration_error() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let numbers = format!("0{}, +90 {}", PHONES[1], PHONES[0]);
    let out = run(send(&server, &files).env("ONFAIL_PHONE_NUMBERS", numbers).args(["--message", "{bogus} failed"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.starts_with("::add-mask::"), "{}", out.stderr);
    let cmds = check(&out, &files);
    let masked = masks(&cmds);
    for secret in [KEY.to_string(), PHONES[1].to_string(), format!("0{}", PHONES[1]), format!("+90{}", PHONES[1])] {
        assert!(masked.contains(&secret.as_str()), "{secret} is not masked: {masked:?}");
    }
    let errors: Vec<_> = cmds.iter().filter(|c| c.name == "error").collect();
    assert_eq!(errors.len(), 1, "{cmds:?}");
    assert!(errors[0].data.starts_with("--message: unknown placeholder {bogus}"), "{:?}", errors[0]);
    assert!(!files.output.exists(), "a configuration error writes no outputs");
    assert!(server.received().is_empty());
}

#[test]
fn outputs_parse_and_match_the_json_document() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let out = run(send(&server, &files).args(["--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    check(&out, &files);

    let outputs = files.outputs();
    assert_eq!(
        outputs.keys().collect::<Vec<_>>(),
        [
            "acknowledged",
            "alert-id",
            "edge",
            "failed-channels",
            "json",
            "paged",
            "previous-run-url",
            "result",
            "sent-channels",
            "sms-order-id",
            "superseded"
        ]
    );
    assert_eq!(outputs["result"], "sent");
    assert_eq!(outputs["acknowledged"], "false");
    assert_eq!(outputs["superseded"], "false");
    assert_eq!(outputs["paged"], "true", "the call reached its person");
    assert_eq!(outputs["sent-channels"], "voice");
    assert_eq!(outputs["failed-channels"], "");
    assert_eq!(outputs["alert-id"], "");
    assert_eq!(outputs["sms-order-id"], "");
    // Only --notify-when changes decides an edge.
    assert_eq!((outputs["edge"].as_str(), outputs["previous-run-url"].as_str()), ("", ""));
    let json: serde_json::Value = serde_json::from_str(&outputs["json"]).unwrap();
    assert_eq!(json, out.json(), "the json output is the --output json document");
    assert_eq!(json["channels"][0]["recipients"][0], "5*******67");

    // Every value has its own delimiter.
    let text = read(&files.output);
    let delims: std::collections::BTreeSet<_> =
        text.lines().filter_map(|l| l.split_once("<<")).map(|(_, d)| d).collect();
    assert_eq!(delims.len(), 11, "{text}");
}

#[test]
fn outputs_append_to_what_earlier_steps_wrote() {
    let files = Files::new();
    std::fs::write(&files.output, "earlier=1\n").unwrap();
    std::fs::write(&files.summary, "# Earlier step\n").unwrap();
    let server = Server::ok(QUEUED);
    let out = run(&mut send(&server, &files));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let outputs = files.outputs();
    assert_eq!((outputs["earlier"].as_str(), outputs["result"].as_str()), ("1", "sent"));
    assert!(read(&files.summary).starts_with("# Earlier step\n### onfail: sent\n"), "{}", read(&files.summary));
}

#[test]
fn summary_has_the_delivery_table_masked() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    // The user pasted the key and a number into the title: both must still be hidden.
    let title = format!("Deploy broke, key {KEY}, call +90{}", PHONES[0]);
    let out = run(send(&server, &files).args(["--title", &title]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    check(&out, &files);
    let summary = read(&files.summary);
    assert!(summary.starts_with("### onfail: sent\n"), "{summary}");
    assert!(summary.contains("**Deploy broke, key \\*\\*\\*, call 5\\*\\*\\*\\*\\*\\*\\*67**"), "{summary}");
    assert!(
        summary.contains("| voice | alertalk | ✅ sent | 1 | 200 | 5\\*\\*\\*\\*\\*\\*\\*67 | 1 call(s) queued |"),
        "{summary}"
    );
}

#[test]
fn a_provider_answer_cannot_inject_commands_and_failures_are_escaped_errors() {
    let files = Files::new();
    let answer = format!(
        r#"{{"message":"bad key {KEY}\n::warning::pwned\n::add-mask::onfail\r::notice::cr\n##[error]legacy 100%0A done, really: yes"}}"#
    );
    let server = Server::new(vec![], Reply::json(403, &answer));
    let out = run(&mut send(&server, &files));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let cmds = check(&out, &files);

    assert_nothing_injected(&cmds, &out.stderr);
    assert!(cmds.iter().any(|c| c.name == "stop-commands"), "the echoed answer was not guarded:\n{}", out.stderr);
    assert!(!masks(&cmds).contains(&"onfail"), "an injected add-mask was executed");

    let errors: Vec<&Cmd> = cmds.iter().filter(|c| c.name == "error").collect();
    assert_eq!(errors.len(), 1, "{cmds:?}");
    assert_eq!(errors[0].props, "title=onfail voice (alertalk)");
    assert!(
        errors[0].data.ends_with(
            // A carriage return from outside is never printed raw (docs/security.md, "Security").
            "(Alertalk said: bad key ***\n::warning::pwned\n::add-mask::onfail\u{FFFD}::notice::cr\n##[error]legacy 100%0A done, really: yes)"
        ),
        "{:?}",
        errors[0].data
    );
    // Escaped on the wire: one line, with % and newlines encoded.
    let line = out.stderr.lines().find(|l| l.starts_with("::error ")).unwrap();
    assert!(line.contains("bad key ***%0A::warning::pwned%0A") && line.contains("100%250A"), "{line}");

    let outputs = files.outputs();
    assert_eq!((outputs["result"].as_str(), outputs["failed-channels"].as_str()), ("failed", "voice"));
    assert!(read(&files.summary).contains("| voice | alertalk | ❌ failed | 1 | 403 |"));
}

#[test]
fn a_lone_carriage_return_cannot_start_a_command() {
    // The runner ends a line at a lone CR too; nothing else in this answer looks like a command.
    let files = Files::new();
    let server = Server::new(vec![], Reply::json(403, r#"{"message":"nope\r::warning::after CR"}"#));
    let out = run(&mut send(&server, &files));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let cmds = check(&out, &files);
    assert!(cmds.iter().all(|c| c.name != "warning"), "injected: {cmds:?}\n{}", out.stderr);
}

#[test]
fn echoed_text_on_stdout_cannot_inject_commands() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let message = "x ##[warning]injected\n::add-mask::y";
    // Text mode: the dry-run block is wrapped in stop-commands.
    let out = run(send(&server, &files).args(["--dry-run", "--message", message]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    check(&out, &files);
    let cmds = commands(&out.stdout);
    assert!(cmds.first().is_some_and(|c| c.name == "stop-commands"), "{}", out.stdout);
    assert_eq!(cmds.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["stop-commands", "(resume)"]);
    // JSON mode: still valid JSON with the exact text, and nothing for the runner to read.
    let files = Files::new();
    let out = run(send(&server, &files).args(["--dry-run", "--message", message, "--output", "json"]));
    assert!(commands(&out.stdout).is_empty(), "{}", out.stdout);
    // The body is shown as the exact text that would be sent.
    let body = out.json()["channels"][0]["request"]["body"].as_str().map(serde_json::from_str::<serde_json::Value>);
    assert_eq!(body.unwrap().unwrap()["error_message"], message);
    assert!(server.received().is_empty());
    assert_eq!(files.outputs()["result"], "dry-run");
}

#[test]
fn skips_and_warnings_become_warnings() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let out = run(send(&server, &files).args(["--status", "success", "--message", &"a".repeat(600)]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cmds = check(&out, &files);
    let warnings: Vec<&str> = cmds.iter().filter(|c| c.name == "warning").map(|c| c.data.as_str()).collect();
    assert_eq!(warnings.len(), 2, "{cmds:?}");
    assert!(warnings[0].starts_with("skipped: status success is not in --notify-on"), "{warnings:?}");
    assert!(warnings[1].contains("600 characters"), "{warnings:?}");
    assert_eq!(files.outputs()["result"], "skipped");
    assert!(server.received().is_empty());
}

#[test]
fn missing_runner_files_write_nothing_and_do_not_fail() {
    let server = Server::ok(QUEUED);
    let mut cmd = onfail();
    github_env(&mut cmd).env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY).args([
        "send",
        "--phone-numbers",
        PHONES[0],
        "--alertalk-url",
        &server.url("/x"),
    ]);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn an_unwritable_output_file_is_a_warning_not_a_failure() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let dir = files.output.parent().unwrap().to_path_buf();
    let out = run(send(&server, &files).env("GITHUB_OUTPUT", &dir));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("could not write the step outputs to GITHUB_OUTPUT"), "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn outside_github_actions_nothing_github_is_written() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let out = run(send(&server, &files).env_remove("GITHUB_ACTIONS"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(commands(&out.stderr).is_empty(), "{}", out.stderr);
    assert!(!Path::new(&files.output).exists() && !Path::new(&files.summary).exists());
}

/// `onfail run CMD` under GitHub Actions, paging by voice through `server`.
fn run_command(server: &Server, files: &Files, command: &[&str]) -> assert_cmd::Command {
    let mut cmd = under_actions(files);
    cmd.args(["run", "--alertalk-url", &server.url("/webhook/receive"), "--"]).args(command);
    cmd
}

#[test]
fn onfail_run_gets_the_same_github_mode_as_send() {
    // Delivered: masks first, then the outputs and the summary, as for `onfail send`.
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let out = run(&mut run_command(&server, &files, &["sh", "-c", "exit 3"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.starts_with("::add-mask::"), "{}", out.stderr);
    let cmds = check(&out, &files);
    assert!(masks(&cmds).contains(&KEY), "{cmds:?}");
    let outputs = files.outputs();
    assert_eq!((outputs["result"].as_str(), outputs["sent-channels"].as_str()), ("sent", "voice"));
    assert!(outputs["json"].contains("\"channel\": \"voice\""), "{}", outputs["json"]);
    assert!(read(&files.summary).contains("| voice | alertalk | ✅ sent | 1 | 200 |"), "{}", read(&files.summary));

    // Failed, with an answer full of workflow commands: guarded, and one escaped ::error::.
    let files = Files::new();
    let server = Server::new(vec![], Reply::json(403, r#"{"message":"no\n::warning::pwned\n##[error]legacy"}"#));
    let out = run(&mut run_command(&server, &files, &["sh", "-c", "exit 4"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let cmds = check(&out, &files);
    assert_nothing_injected(&cmds, &out.stderr);
    assert_eq!(cmds.iter().filter(|c| c.name == "error").count(), 1, "{cmds:?}");
    assert_eq!(files.outputs()["failed-channels"], "voice");
}

#[test]
fn a_usage_error_cannot_carry_a_workflow_command() {
    let files = Files::new();
    let server = Server::ok(QUEUED);
    let payload = "5s\n::add-mask::onfail\n::set-output name=result::sent\n x ##[warning]legacy";
    let out = run(send(&server, &files).args(["--timeout", payload]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // clap quotes the argument; under GitHub Actions that quote is inert.
    assert!(out.stderr.contains("::set-output name=result::sent"), "{}", out.stderr);
    let cmds = commands(&out.stderr);
    let names: Vec<&str> = cmds.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["stop-commands", "(resume)", "error"], "{}", out.stderr);
    assert!(!files.output.exists());
    // An unexpected argument may be a misplaced secret: it is not quoted at all.
    let out = run(send(&server, &files).arg(payload));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty() && !out.stderr.contains("set-output"), "{}", out.stderr);
    let names: Vec<String> = commands(&out.stderr).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["error"], "{}", out.stderr);
    assert!(!files.output.exists());
    assert!(server.received().is_empty());
    // Outside GitHub Actions clap's message is printed as it is.
    let out = run(onfail().args(["send", "--timeout", payload]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: invalid value '5s\n::add-mask::onfail"), "{}", out.stderr);
    assert!(!out.stderr.contains("stop-commands"), "{}", out.stderr);
}
