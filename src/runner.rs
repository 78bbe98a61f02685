//! `onfail run -- CMD`: runs the command with its output passed through byte for byte, keeps
//! the last lines for the alert, and forwards SIGINT/SIGTERM to it.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;

/// Longest tail line the alert shows; a megabyte of minified JSON on one line is not an alert.
pub const SHOWN_TAIL_LINE: usize = 500;

/// Longest line kept in the tail: more than is shown, because the caller redacts before it cuts
/// to [`SHOWN_TAIL_LINE`], and a secret straddling that cut must still be whole to be found.
const MAX_TAIL_LINE: usize = 4 * SHOWN_TAIL_LINE;

/// How the command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// Killed by a signal.
    Signalled(i32),
    /// It could not be started (not found, not executable).
    NotStarted(String),
}

impl Ended {
    pub fn success(&self) -> bool {
        *self == Ended::Exited(0)
    }

    /// The code onfail exits with: the command's own, 128 + signal, or 127 when it never ran.
    pub fn exit_code(&self) -> u8 {
        match self {
            Ended::Exited(code) => u8::try_from(*code).unwrap_or(1),
            Ended::Signalled(signal) => u8::try_from(128 + signal).unwrap_or(255),
            Ended::NotStarted(_) => 127,
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
            Ended::NotStarted(reason) => format!("could not be started: {reason}"),
        }
    }
}

/// A finished command and the last lines it printed (stdout and stderr, in arrival order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    pub ended: Ended,
    pub tail: Vec<String>,
    /// The stop signal (SIGINT, SIGTERM) onfail was sent and passed on, if any: someone stopped
    /// the job on purpose.
    pub stopped_by: Option<i32>,
}

/// Runs `argv`, streaming its output through unchanged and keeping its last `tail_lines` lines.
pub fn run(argv: &[OsString], tail_lines: usize) -> Finished {
    let Some((program, args)) = argv.split_first() else {
        return Finished { ended: Ended::NotStarted("no command given".into()), tail: Vec::new(), stopped_by: None };
    };
    let mut child = match Command::new(program).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            return Finished { ended: Ended::NotStarted(not_started(&error)), tail: Vec::new(), stopped_by: None };
        }
    };
    let forwarder = signals::Forwarder::start(child.id());
    let tail = Tail::new(tail_lines);
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let status = std::thread::scope(|scope| {
        if let Some(stdout) = stdout {
            scope.spawn(|| pump(stdout, std::io::stdout(), &tail));
        }
        if let Some(stderr) = stderr {
            scope.spawn(|| pump(stderr, std::io::stderr(), &tail));
        }
        child.wait()
    });
    let stopped_by = forwarder.stop();
    let ended = match status {
        Ok(status) => ended(status),
        Err(error) => Ended::NotStarted(error.to_string()),
    };
    Finished { ended, tail: tail.into_lines(), stopped_by }
}

fn not_started(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "command not found".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied (is it executable?)".into(),
        _ => error.to_string(),
    }
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

/// Copies one stream through as it arrives, feeding the tail.
fn pump(mut from: impl Read, mut to: impl Write, tail: &Tail) {
    let mut buffer = [0u8; 8192];
    let mut partial = Vec::new();
    loop {
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                // Write and flush at once: output must not lag behind the command.
                let _ = to.write_all(&buffer[..n]).and_then(|()| to.flush());
                partial.extend_from_slice(&buffer[..n]);
                while let Some(end) = partial.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=end).collect();
                    tail.push(&line);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    if !partial.is_empty() {
        tail.push(&partial);
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

#[cfg(unix)]
mod signals {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    /// Passes SIGINT and SIGTERM sent to onfail on to the command.
    pub struct Forwarder {
        handle: Option<(signal_hook::iterator::Handle, JoinHandle<()>)>,
        forwarded: Arc<Mutex<Option<i32>>>,
    }

    impl Forwarder {
        pub fn start(child: u32) -> Forwarder {
            let forwarded = Arc::new(Mutex::new(None));
            let Ok(mut signals) = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM]) else {
                return Forwarder { handle: None, forwarded };
            };
            let handle = signals.handle();
            let record = Arc::clone(&forwarded);
            let thread = std::thread::spawn(move || {
                for origin in signals.forever() {
                    // A terminal's Ctrl-C comes from the kernel and already reached the whole
                    // foreground process group, the command included; sending it again would
                    // make it see two. A signal some process sent to onfail alone is passed on.
                    if origin.process.is_some() {
                        *record.lock().unwrap_or_else(|p| p.into_inner()) = Some(origin.signal);
                        forward(child, origin.signal);
                    }
                }
            });
            Forwarder { handle: Some((handle, thread)), forwarded }
        }

        /// Stops forwarding; returns the signal onfail passed on, if any.
        pub fn stop(self) -> Option<i32> {
            if let Some((handle, thread)) = self.handle {
                handle.close();
                let _ = thread.join();
            }
            *self.forwarded.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    #[allow(unsafe_code)]
    fn forward(child: u32, signal: i32) {
        let Ok(pid) = libc::pid_t::try_from(child) else { return };
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child, which
        // we have not reaped yet (wait() is still pending), so it cannot have been reused.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

#[cfg(not(unix))]
mod signals {
    /// On Windows, Ctrl-C and Ctrl-Break reach every process on the console: nothing to forward.
    pub struct Forwarder;

    impl Forwarder {
        pub fn start(_child: u32) -> Forwarder {
            Forwarder
        }

        pub fn stop(self) -> Option<i32> {
            None
        }
    }
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

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Ended::Exited(3).exit_code(), 3);
        assert_eq!(Ended::Signalled(9).exit_code(), 137);
        assert_eq!(Ended::NotStarted("x".into()).exit_code(), 127);
        assert_eq!(Ended::Signalled(15).describe(), "was killed by signal 15 (SIGTERM)");
    }
}
