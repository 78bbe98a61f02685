//! `--help` of each command lists only the options that apply to it, grouped by channel, with a
//! few examples (docs/reference.md, "Options"); `onfail run --dry-run` says that the command
//! still runs.

use crate::common::{onfail, run};

fn help(command: &str) -> String {
    let out = run(onfail().args([command, "--help"]));
    assert_eq!(out.code, 0, "{command} --help: {}", out.stderr);
    out.stdout
}

/// The long option names a help text lists (`      --dry-run [<BOOL>]  …`).
fn listed(help: &str) -> Vec<String> {
    help.lines()
        .filter_map(|l| l.trim_start().strip_prefix("--").or_else(|| l.trim_start().strip_prefix("-h, --")))
        .map(|rest| rest.split([' ', '=']).next().unwrap().to_string())
        .collect()
}

#[test]
fn run_help_hides_the_status_options_the_command_replaces() {
    let text = help("run");
    let options = listed(&text);
    for hidden in ["status", "needs", "allowed-skips", "online"] {
        assert!(!options.contains(&hidden.to_string()), "onfail run --help lists --{hidden}:\n{text}");
    }
    for shown in ["tail-lines", "dry-run", "alertalk-webhook-key", "escalate"] {
        assert!(options.contains(&shown.to_string()), "onfail run --help misses --{shown}:\n{text}");
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("--dry-run [<BOOL>] Run the command as usual, but only print the alert"), "{text}");
}

#[test]
fn check_help_hides_what_only_a_send_does() {
    let text = help("check");
    let options = listed(&text);
    for hidden in ["dry-run", "fail-on-error", "tail-lines"] {
        assert!(!options.contains(&hidden.to_string()), "onfail check --help lists --{hidden}:\n{text}");
    }
    assert!(options.contains(&"online".to_string()), "{text}");
}

#[test]
fn send_help_has_no_options_of_other_commands() {
    let options = listed(&help("send"));
    for other in ["tail-lines", "online", "listen", "store"] {
        assert!(!options.contains(&other.to_string()), "onfail send --help lists --{other}");
    }
}

#[test]
fn each_command_groups_its_options_and_shows_two_or_three_examples() {
    for command in ["send", "run", "check", "serve"] {
        let text = help(command);
        let examples = text.split("Examples:").nth(1).unwrap_or_else(|| panic!("{command} --help has no examples"));
        // One example is a comment line and its command.
        let count = examples.lines().filter(|l| l.trim_start().starts_with("# ")).count();
        assert!((2..=3).contains(&count), "{command} --help shows {count} examples:\n{examples}");
        if command != "serve" {
            for heading in ["General:", "Voice (Alertalk):", "SMS (iletiMerkezi):", "Webhook"] {
                assert!(text.contains(heading), "{command} --help has no {heading} group");
            }
        }
    }
}
