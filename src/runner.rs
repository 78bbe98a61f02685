//! `onfail run -- CMD`: runs the command with its output passed through byte for byte, keeps
//! the last lines for the alert, and forwards SIGINT/SIGTERM to it.

mod name;
mod pump;
mod signals;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;

pub use name::{SHOWN_NAME, name_of};
use pump::ExitSignal;

/// Longest tail line the alert shows; a megabyte of minified JSON on one line is not an alert.
pub const SHOWN_TAIL_LINE: usize = 500;

/// Longest line kept in the tail: more than is shown, because the caller redacts before it cuts
/// to [`SHOWN_TAIL_LINE`], and a secret straddling that cut must still be whole to be found.
const MAX_TAIL_LINE: usize = 4 * SHOWN_TAIL_LINE;

/// The most bytes of one line kept while reading it: room for [`MAX_TAIL_LINE`] characters of
/// text even with colour codes around the words.
const MAX_LINE_BYTES: usize = 16 * 1024;

/// How the command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// Killed by a signal.
    Signalled(i32),
    /// It could not be started.
    NotStarted(StartFailure),
}

/// Why a command could not be started. The texts word each in their own language; the
/// operating system's own (English) words are kept only for a cause without a name here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartFailure {
    /// No such command (exit code 127).
    NotFound,
    /// A path to a folder (126).
    IsDirectory,
    /// No execute permission (126).
    NotExecutable,
    /// Anything else, in the operating system's words (126).
    Other(String),
}

impl StartFailure {
    /// In English: "command not found", "it is a directory", ...
    pub fn describe(&self) -> String {
        match self {
            StartFailure::NotFound => "command not found".into(),
            StartFailure::IsDirectory => "it is a directory".into(),
            StartFailure::NotExecutable => "permission denied (is it executable?)".into(),
            StartFailure::Other(reason) => reason.clone(),
        }
    }
}

impl Ended {
    pub fn success(&self) -> bool {
        *self == Ended::Exited(0)
    }

    /// The code onfail exits with, as a shell would: the command's own, 128 + signal, 127 when
    /// it was not found, 126 when it was found but could not be executed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Ended::Exited(code) => u8::try_from(*code).unwrap_or(1),
            Ended::Signalled(signal) => u8::try_from(128 + signal).unwrap_or(255),
            Ended::NotStarted(StartFailure::NotFound) => 127,
            Ended::NotStarted(_) => 126,
        }
    }

    /// "exited with code 3", "was killed by signal 9 (SIGKILL)", "could not be started: ...".
    pub fn describe(&self) -> String {
        match self {
            Ended::Exited(code) => format!("exited with code {code}"),
            Ended::Signalled(signal) => match signal_name(*signal) {
                Some(name) => format!("was killed by signal {signal} ({name})"),
                None => format!("was killed by signal {signal}"),
            },
            Ended::NotStarted(why) => format!("could not be started: {}", why.describe()),
        }
    }
}

/// A finished command and the last lines it printed (stdout and stderr, in arrival order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub ended: Ended,
    pub tail: Vec<String>,
    /// The stop signal (SIGINT, SIGTERM) onfail received while the command ran, if any, from a
    /// process or from a terminal's Ctrl-C: someone stopped the job on purpose.
    pub stopped_by: Option<i32>,
}

/// Runs `argv`, streaming its output through unchanged and keeping its last `tail_lines` lines.
/// Returns when the command exits, even if a process it left behind still holds its output.
pub fn run(argv: &[OsString], tail_lines: usize) -> Finished {
    let Some((program, args)) = argv.split_first() else {
        return Finished { ended: not_started(ErrorKind::NotFound.into(), None), tail: Vec::new(), stopped_by: None };
    };
    let mut child = match Command::new(program).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            return Finished { ended: not_started(error, Some(program)), tail: Vec::new(), stopped_by: None };
        }
    };
    let forwarder = signals::Forwarder::start(child.id());
    let tail = Tail::new(tail_lines);
    let exited = ExitSignal::new();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let status = std::thread::scope(|scope| {
        if let Some(stdout) = stdout {
            scope.spawn(|| copy(stdout, std::io::stdout(), &exited, &tail));
        }
        if let Some(stderr) = stderr {
            scope.spawn(|| copy(stderr, std::io::stderr(), &exited, &tail));
        }
        let status = child.wait();
        exited.notify();
        status
    });
    let stopped_by = forwarder.stop();
    let ended = match status {
        Ok(status) => ended(status),
        // Not seen in practice: the child is ours and only this thread waits for it.
        Err(error) => Ended::NotStarted(StartFailure::Other(error.to_string())),
    };
    Finished { ended, tail: tail.into_lines(), stopped_by }
}

/// One output stream: passed through, and split into lines for the tail.
fn copy<R: Read + pump::Source>(from: R, to: impl Write, exited: &ExitSignal, tail: &Tail) {
    let mut lines = Lines::default();
    pump::pump(from, to, exited, |chunk| lines.feed(chunk, tail));
    lines.finish(tail);
}

/// Why the command could not be started; the shell's codes: 127 not found, 126 not executable.
fn not_started(error: std::io::Error, program: Option<&OsString>) -> Ended {
    // A bare name is looked up in PATH, so only a path can be "a directory".
    let is_dir = program.map(Path::new).is_some_and(|p| p.components().count() > 1 && p.is_dir());
    Ended::NotStarted(match error.kind() {
        ErrorKind::NotFound => StartFailure::NotFound,
        _ if is_dir => StartFailure::IsDirectory,
        ErrorKind::PermissionDenied => StartFailure::NotExecutable,
        _ => StartFailure::Other(error.to_string()),
    })
}

#[cfg(unix)]
fn ended(status: ExitStatus) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Exited(code),
        (None, Some(signal)) => Ended::Signalled(signal),
        (None, None) => Ended::Exited(1),
    }
}

#[cfg(not(unix))]
fn ended(status: ExitStatus) -> Ended {
    Ended::Exited(status.code().unwrap_or(1))
}

/// Splits a stream into lines for the tail in one pass, keeping at most [`MAX_LINE_BYTES`] of
/// each: a 100 MB line without a newline costs no more time than 100 MB of short lines, and
/// little memory.
#[derive(Default)]
struct Lines {
    current: Vec<u8>,
    /// A '\r' was seen: a progress bar redraws the line, unless '\n' follows ("\r\n").
    carriage_return: bool,
}

impl Lines {
    fn feed(&mut self, mut chunk: &[u8], tail: &Tail) {
        if tail.keep == 0 {
            return;
        }
        while let Some(at) = chunk.iter().position(|b| matches!(b, b'\n' | b'\r')) {
            self.append(&chunk[..at]);
            if chunk[at] == b'\n' {
                tail.push(&self.current);
                self.current.clear();
                self.carriage_return = false;
            } else {
                self.carriage_return = true;
            }
            chunk = &chunk[at + 1..];
        }
        self.append(chunk);
    }

    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if std::mem::take(&mut self.carriage_return) {
            // Only the last state of a redrawn line matters.
            self.current.clear();
        }
        let room = MAX_LINE_BYTES.saturating_sub(self.current.len());
        self.current.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(self, tail: &Tail) {
        if !self.current.is_empty() {
            tail.push(&self.current);
        }
    }
}

/// The last N lines of output, cleaned for use in alert text.
struct Tail {
    lines: Mutex<VecDeque<String>>,
    keep: usize,
}

impl Tail {
    fn new(keep: usize) -> Tail {
        Tail { lines: Mutex::new(VecDeque::with_capacity(keep)), keep }
    }

    fn push(&self, raw: &[u8]) {
        if self.keep == 0 {
            return;
        }
        let line = clean_line(&String::from_utf8_lossy(raw));
        let mut lines = self.lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lines.len() == self.keep {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn into_lines(self) -> Vec<String> {
        self.lines.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()).into()
    }
}

/// Removes what does not belong in an alert: ANSI colour codes, carriage-return progress bars,
/// other control characters, and the end of overlong lines.
pub fn clean_line(raw: &str) -> String {
    let raw = raw.trim_end_matches(['\n', '\r']);
    // A progress bar redraws with '\r'; only the last state matters.
    let raw = raw.rsplit('\r').next().unwrap_or(raw);
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI sequences: ESC [ params final-byte.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    crate::values::truncate_chars(out.trim_end(), MAX_TAIL_LINE).0
}

/// The usual name of `signal`, for the texts that say how a command ended.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_colours_progress_and_controls() {
        assert_eq!(clean_line("\u{1b}[31merror\u{1b}[0m: disk\tfull\r\n"), "error: disk full");
        assert_eq!(clean_line("10%\r50%\r100% done"), "100% done");
        assert_eq!(clean_line("bell\u{7} ok"), "bell ok");
        assert_eq!(clean_line(&"x".repeat(3 * MAX_TAIL_LINE)).len(), MAX_TAIL_LINE);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let tail = Tail::new(2);
        for line in ["a\n", "b\n", "c"] {
            tail.push(line.as_bytes());
        }
        assert_eq!(tail.into_lines(), ["b", "c"]);
        let none = Tail::new(0);
        none.push(b"a");
        assert!(none.into_lines().is_empty());
    }

    fn lines_of(chunks: &[&[u8]]) -> Vec<String> {
        let tail = Tail::new(10);
        let mut lines = Lines::default();
        for chunk in chunks {
            lines.feed(chunk, &tail);
            assert!(lines.current.len() <= MAX_LINE_BYTES);
        }
        lines.finish(&tail);
        tail.into_lines()
    }

    #[test]
    fn lines_are_split_across_chunks_and_redraws_keep_the_last_state() {
        assert_eq!(lines_of(&[b"a", b"b\nc\r\n", b"10%\r", b"50%\r100%\n", b"end"]), ["ab", "c", "100%", "end"]);
        assert_eq!(lines_of(&[b"crlf\r", b"\r\n", b"\n"]), ["crlf", ""]);
    }

    #[test]
    fn a_long_line_is_kept_up_to_the_cap_only() {
        let long = vec![b'a'; MAX_LINE_BYTES];
        assert_eq!(lines_of(&[&long, &long, b"b\n"]), ["a".repeat(MAX_TAIL_LINE)]);
        // A progress bar that redraws an overlong line still shows its last state.
        assert_eq!(lines_of(&[&long, &long, b"\rdone"]), ["done"]);
    }

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Ended::Exited(3).exit_code(), 3);
        assert_eq!(Ended::Signalled(9).exit_code(), 137);
        assert_eq!(Ended::NotStarted(StartFailure::NotFound).exit_code(), 127);
        assert_eq!(Ended::NotStarted(StartFailure::Other("x".into())).exit_code(), 126);
        assert_eq!(Ended::Signalled(15).describe(), "was killed by signal 15 (SIGTERM)");
    }
}
