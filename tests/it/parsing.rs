//! The rules every option value follows (docs/reference.md, "Options"), run against the real binary:
//! durations are bounded (no input can make onfail panic), values may start with `-`, a flag
//! taken as a value is refused, enumerated words are trimmed and case-folded the same way, and
//! `onfail run` refuses `--status`. The option lists come from the command definition itself,
//! so an option added later is covered without touching this file.

use crate::common::{Run, Server, onfail, run};

/// Every option of `onfail send` that takes a value: its long name, its environment variable
/// and its value name.
fn value_options() -> Vec<(String, String, String)> {
    let mut cmd = onfail::cli::command();
    cmd.build();
    let send = cmd.find_subcommand("send").expect("a send command");
    send.get_arguments()
        .filter(|arg| !arg.is_positional() && arg.get_action().takes_values())
        .filter(|arg| arg.get_num_args().is_none_or(|n| n.min_values() > 0))
        .filter_map(|arg| {
            let long = arg.get_long()?;
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
            let value_name = arg.get_value_names().and_then(|v| v.first()).map(|v| v.to_string()).unwrap_or_default();
            Some((format!("--{long}"), env, value_name))
        })
        .collect()
}

fn usage_error(out: &Run, option: &str) {
    assert_eq!(out.code, 2, "{option}: {}", out.stderr);
    assert!(out.stderr.contains(option), "{option} is not named: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn no_duration_can_overflow_or_go_negative() {
    let durations: Vec<_> = value_options().into_iter().filter(|(_, _, name)| name == "DURATION").collect();
    assert!(durations.iter().any(|(long, _, _)| long == "--timeout") && durations.len() >= 2, "{durations:?}");
    let server = Server::ok("{}");
    for (option, env, _) in &durations {
        for value in ["9999999999999999999s", "1e30s", "18446744073709551615", "1e30", "25h", "-1s", "-1", "inf"] {
            // Sent for real, were the value accepted: a dry run never builds a deadline.
            let args = ["send", "--webhook-url", &server.url("/hook")];
            usage_error(&run(onfail().args(args).args([option.as_str(), value])), option);
            usage_error(&run(onfail().args(args).arg(format!("{option}={value}"))), option);
            usage_error(&run(onfail().args(args).env(env, value)), option);
        }
    }
    assert!(server.received().is_empty());
    let out = run(onfail().args(["send", "--webhook-url", &server.url("/hook"), "--timeout", "24h"]));
    assert_eq!(out.code, 0, "the longest timeout still sends: {}", out.stderr);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_negative_timeout_names_the_option() {
    let out = run(onfail().args(["send", "--timeout", "-1s"]));
    usage_error(&out, "--timeout");
    assert!(out.stderr.contains("'-1s' is negative"), "{}", out.stderr);
    assert!(!out.stderr.contains("unexpected argument"), "{}", out.stderr);
}

#[test]
fn text_that_starts_with_a_hyphen_is_sent() {
    let server = Server::ok("{}");
    let hook = server.url("/hook");
    let sent = |args: &[&str], env: &[(&str, &str)]| {
        let out = run(onfail().args(["send", "--webhook-url", &hook]).args(args).envs(env.iter().copied()));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let data = server.received().last().unwrap().json()["data"].clone();
        (data["title"].as_str().unwrap().to_string(), data["message"].as_str().unwrap().to_string())
    };
    let (title, message) = sent(&["--message", "- deploy failed", "--title", "-x"], &[]);
    assert_eq!((title.as_str(), message.as_str()), ("-x", "- deploy failed"));
    let (title, message) = sent(&["--message=-x", "--title=--- red ---"], &[]);
    assert_eq!((title.as_str(), message.as_str()), ("--- red ---", "-x"));
    let (title, message) = sent(&[], &[("ONFAIL_MESSAGE", "- x"), ("ONFAIL_TITLE", "--dry-run")]);
    assert_eq!((title.as_str(), message.as_str()), ("--dry-run", "- x"), "a variable cannot swallow a flag");
}

#[test]
fn every_option_takes_a_value_that_starts_with_a_hyphen() {
    for (option, _, _) in value_options() {
        // Taken as the value: accepted, or refused by the option's own check (a value parser,
        // or a channel it enables that lacks something), never "unexpected argument".
        let out = run(onfail().args(["send", "--dry-run", &option, "-x"]));
        assert!(!out.stderr.contains("unexpected argument"), "{option}: {}", out.stderr);
        assert!(!out.stderr.contains("a value is required"), "{option}: {}", out.stderr);
        assert!(matches!(out.code, 0 | 2), "{option}: {}", out.stderr);
    }
}

#[test]
fn a_flag_taken_as_a_value_is_refused() {
    let server = Server::ok("{}");
    let hook = server.url("/hook");
    // Without the guard this is a real send of the text "--dry-run".
    let out = run(onfail().args(["send", "--webhook-url", &hook, "--message", "--dry-run"]));
    usage_error(&out, "--message");
    assert!(out.stderr.contains("--message got the option --dry-run as its value"), "{}", out.stderr);
    for (option, _, _) in value_options() {
        for flag in ["--dry-run", "--timeout=5s", "-h"] {
            // Refused by the guard, or first by the option's own value parser; named either way.
            let out = run(onfail().env("ONFAIL_WEBHOOK_URL", &hook).args(["send", &option, flag]));
            usage_error(&out, &option);
        }
    }
    assert!(server.received().is_empty(), "nothing was sent");
}

#[test]
fn enumerated_values_are_trimmed_and_case_folded_alike() {
    let server = Server::ok("{}");
    // As a YAML block scalar (`|`) hands them over: a trailing newline, any case.
    let out = run(onfail()
        .args(["send", "--webhook-url", &server.url("/hook"), "--temperstack-url", &server.url("/ts/key-123")])
        .env("ONFAIL_OUTPUT", "JSON\n")
        .env("ONFAIL_STATUS", " Success\n")
        .env("ONFAIL_NOTIFY_ON", "Failure ,\nSUCCESS\n")
        .env("ONFAIL_NOTIFY_WHEN", " Always\n")
        .env("ONFAIL_WEBHOOK_FORMAT", "Slack\r\n")
        .env("ONFAIL_PRIORITY", "Medium\n")
        .env("ONFAIL_LANGUAGE", " TR\n")
        .env("ONFAIL_DRY_RUN", "TRUE\n")
        .env("ONFAIL_FAIL_ON_ERROR", " false\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!((json["result"].as_str(), json["status"].as_str()), (Some("dry-run"), Some("success")));
    let channels = json["channels"].as_array().unwrap();
    let channel = |name: &str| channels.iter().find(|c| c["channel"] == name).unwrap().clone();
    assert_eq!(channel("webhook")["provider"], "slack");
    assert_eq!(channel("webhook")["result"], "dry-run", "success is in --notify-on");
    assert!(channel("temperstack")["request"]["body"].as_str().unwrap().contains(r#""alert_priority":"Medium""#));
    // The same words on the command line.
    let out = run(onfail().args(["send", "--dry-run", "--output", " Json ", "--status", "CANCELLED\n"]));
    assert_eq!((out.code, out.json()["status"].as_str()), (0, Some("cancelled")), "{}", out.stderr);
    assert!(server.received().is_empty());
    // And a word that is not one is named with its choices.
    let out = run(onfail().args(["send", "--output", "yaml"]));
    usage_error(&out, "--output");
    assert!(out.stderr.contains("'yaml' is not an output format; use text or json"), "{}", out.stderr);
}

#[test]
fn always_stands_alone_in_notify_on() {
    for list in ["always,never", "failure,always", "ALWAYS, success"] {
        let out = run(onfail().args(["send", "--notify-on", list]));
        usage_error(&out, "--notify-on");
        assert!(out.stderr.contains("always means every status, so it stands alone"), "{}", out.stderr);
    }
    let out = run(onfail().args(["send", "--dry-run", "--notify-on", " Always\n"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn run_refuses_a_status_before_running_the_command() {
    let server = Server::ok("{}");
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let base = |cmd: &mut assert_cmd::Command| {
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default()).args(["run", "--webhook-url", &server.url("/h")]);
    };
    let mut cmd = onfail();
    base(&mut cmd);
    let out = run(cmd.args(["--status", "success", "--", "sh", "-c", &script]));
    usage_error(&out, "--status");
    assert!(out.stderr.contains("does not apply to onfail run: the status comes from the command"), "{}", out.stderr);
    let mut cmd = onfail();
    base(&mut cmd);
    let out = run(cmd.env("ONFAIL_STATUS", "failure").args(["--", "sh", "-c", &script]));
    usage_error(&out, "ONFAIL_STATUS");
    assert!(!marker.exists(), "the command must not run");
    assert!(server.received().is_empty());
}
