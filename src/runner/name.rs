//! The short name the alert gives a command of `onfail run` (docs/getting-started.md, "Cron jobs and any CI:
//! `onfail run`"): `backup.sh`, or for a shell the first words of its script.

use std::ffi::OsString;
use std::path::Path;

/// Shells whose `-c` runs a script given as text.
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox"];

/// The most characters of a command's name the texts show; the caller cuts, after redacting.
pub const SHOWN_NAME: usize = 40;

/// The short name the texts give the command: the program's file name (`/opt/backup.sh` →
/// `backup.sh`), except for a shell, which says nothing about the job:
/// `sh -c 'pg_dump shop > x; gzip x'` is named by its script's first command (`pg_dump shop`),
/// `bash -e deploy.sh` by its script file (`deploy.sh`). Options are stepped over (`-e`,
/// `-euo pipefail`, `--norc`; `-ec` is `-e` and `-c`).
pub fn name_of(argv: &[OsString]) -> String {
    let file_name = |arg: &str| Path::new(arg).file_name().map(|n| n.to_string_lossy().into_owned());
    let Some(program) = argv.first().map(|p| p.to_string_lossy()) else { return String::new() };
    let program = file_name(&program).unwrap_or_else(|| program.to_string());
    if !SHELLS.contains(&program.as_str()) {
        return program;
    }
    let (mut script, mut takes_value, mut operands) = (false, false, false);
    for arg in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if takes_value {
            takes_value = false;
        } else if !operands && arg == "--" {
            operands = true;
        } else if !operands && arg.len() > 1 && (arg.starts_with('-') || arg.starts_with('+')) {
            if !arg.starts_with("--") {
                script |= arg.contains('c');
                takes_value = arg.ends_with(['o', 'O']);
            }
        } else if program == "busybox" && !operands && SHELLS.contains(&arg.as_ref()) {
            // `busybox sh -c ...`: the applet is the shell.
        } else if script {
            return script_name(&arg).unwrap_or(program);
        } else {
            return file_name(&arg).unwrap_or(program);
        }
    }
    program
}

/// Commands that set a script up rather than do its job: a name is not taken from them.
const SET_UP: &[&str] =
    &["set", "trap", "cd", "export", "umask", "ulimit", "unset", "shopt", "source", ".", "readonly", ":", "exec"];

/// A script's first command that does the job (`set -e`, `cd /srv`, `trap …` and `FOO=1`
/// assignments are stepped over; `exec x` is `x`), its first word shortened to a file name:
/// `set -e; /opt/backup.sh --full; echo ok` → `backup.sh --full`. `None` for a script with no
/// words. Not cut here: the caller redacts first, then cuts to [`SHOWN_NAME`], so that no part of
/// a secret survives the cut.
fn script_name(script: &str) -> Option<String> {
    let commands = split_commands(script);
    let words_of = |command: &str| -> Vec<String> {
        let words = command.split_whitespace();
        let words = words.skip_while(|w| w.split_once('=').is_some_and(|(name, _)| is_name(name)));
        words.map(str::to_string).collect()
    };
    let mut all = commands.iter().map(|c| words_of(c)).filter(|w| !w.is_empty()).peekable();
    let first = all.peek().cloned()?;
    let doing = all.find_map(|mut words| match words[0].as_str() {
        "exec" if words.len() > 1 && !words[1].starts_with('-') => Some(words.split_off(1)),
        head if SET_UP.contains(&head) => None,
        _ => Some(words),
    });
    let mut words = doing.unwrap_or(first);
    if let Some(name) = Path::new(&words[0]).file_name() {
        words[0] = name.to_string_lossy().into_owned();
    }
    Some(words.join(" "))
}

/// A script cut into its commands at `;`, `&`, `|`, newlines and parentheses outside quotes.
fn split_commands(script: &str) -> Vec<String> {
    let (mut commands, mut current, mut quote) = (Vec::new(), String::new(), None);
    for c in script.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, ';' | '&' | '|' | '\n' | '(' | ')' | '{' | '}' | '<' | '>' | '`') => {
                commands.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    commands.push(current);
    commands
}

/// A shell variable name: letters, digits and `_`, not starting with a digit.
fn is_name(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_command_is_named_by_its_script() {
        let name = |args: &[&str]| name_of(&args.iter().map(OsString::from).collect::<Vec<_>>());
        assert_eq!(name(&["/opt/backup.sh", "--full"]), "backup.sh");
        assert_eq!(name(&["sh", "-c", "/opt/backup.sh --full && echo ok"]), "backup.sh --full");
        assert_eq!(name(&["/bin/bash", "-ec", "  pg_dump shop > /tmp/x; gzip /tmp/x"]), "pg_dump shop");
        assert_eq!(name(&["bash", "-e", "-o", "pipefail", "-c", "make deploy"]), "make deploy");
        assert_eq!(name(&["bash", "-euo", "pipefail", "-c", "exit 3"]), "exit 3");
        assert_eq!(name(&["bash", "--norc", "-c", "x|y"]), "x");
        assert_eq!(name(&["sh", "-e", "./deploy.sh", "prod"]), "deploy.sh");
        assert_eq!(name(&["busybox", "sh", "-c", "df -h"]), "df -h");
        assert_eq!(name(&["sh", "-c", "set -e; cd /srv; PGHOST=db exec /usr/bin/pg_dump shop"]), "pg_dump shop");
        assert_eq!(name(&["sh", "-c", "trap 'echo got; exit 7' TERM; sleep 30"]), "sleep 30");
        assert_eq!(name(&["sh", "-c", "nightly() { exit 4; }; nightly"]), "nightly");
        assert_eq!(name(&["sh", "-c", "set -e"]), "set -e");
        assert_eq!(name(&["sh", "-c", "   "]), "sh");
        assert_eq!(name(&["sh"]), "sh");
        assert_eq!(name(&[]), "");
    }
}
