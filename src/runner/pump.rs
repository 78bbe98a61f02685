//! Copies one of the command's output streams through as it arrives, until the command exits.
//!
//! The end of the command, not the end of its output, ends the copy: a background process it
//! started (`sleep 20 &`, a daemon) inherits the pipe and may hold it open for hours, and the
//! alert must not wait for that. Once the command has exited, what it wrote is already in the
//! pipe and is read at once; then the pump stops (docs/getting-started.md, "Cron jobs and any CI: `onfail run`").

use std::io::{ErrorKind, Read, Write};
#[cfg(unix)]
use std::time::Duration;

/// After the command exited: how long the pipe may stay quiet before the pump stops.
#[cfg(unix)]
const DRAIN_IDLE: Duration = Duration::from_millis(100);
/// After the command exited: the longest the pump keeps copying, so a background process that
/// keeps writing cannot hold the alert either.
#[cfg(unix)]
const DRAIN_MAX: Duration = Duration::from_secs(2);

/// Copies `from` to `to` and hands every chunk to `keep`, until end of file or until the
/// command has exited (`exited`) and the pipe has gone quiet. Stops early when `to` is a
/// closed pipe: the command then finds its own output closed, as it would without onfail.
pub fn pump<R: Read + Source>(mut from: R, mut to: impl Write, exited: &ExitSignal, mut keep: impl FnMut(&[u8])) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut drain = Drain::Running;
    while wait_readable(&from, exited, &mut drain) {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        keep(&buffer[..n]);
        // Write and flush at once: output must not lag behind the command.
        match to.write_all(&buffer[..n]).and_then(|()| to.flush()) {
            // `onfail run -- yes | head -1`: the reader went away; closing our end of the
            // command's pipe passes that on (the command gets SIGPIPE or EPIPE and ends).
            Err(e) if e.kind() == ErrorKind::BrokenPipe => break,
            // Any other failure (a full disk behind stdout) loses this chunk of the copy, not
            // the tail or the alert.
            _ => {}
        }
    }
}

#[cfg(unix)]
enum Drain {
    Running,
    /// The command has exited; stop at this instant at the latest.
    Until(std::time::Instant),
}

#[cfg(not(unix))]
enum Drain {
    Running,
}

#[cfg(unix)]
pub use std::os::fd::AsFd as Source;

/// What a pump can wait on; on Windows it reads until end of file.
#[cfg(not(unix))]
pub trait Source {}
#[cfg(not(unix))]
impl<T> Source for T {}

/// Tells the pumps that the command has exited: the write half of a socket pair is shut down,
/// which makes the read half readable (end of file) for every pump that polls it.
#[cfg(unix)]
pub struct ExitSignal(Option<(std::os::unix::net::UnixStream, std::os::unix::net::UnixStream)>);

#[cfg(unix)]
impl ExitSignal {
    /// Without a socket pair (out of file descriptors) the pumps read until end of file, as
    /// they would on Windows: later, but the alert still goes out.
    pub fn new() -> ExitSignal {
        ExitSignal(std::os::unix::net::UnixStream::pair().ok())
    }

    pub fn notify(&self) {
        if let Some((notify, _)) = &self.0 {
            let _ = notify.shutdown(std::net::Shutdown::Write);
        }
    }
}

/// Waits until `from` can be read (data or end of file): true; or until the pump should stop
/// because the command has exited and the pipe stayed quiet: false.
#[cfg(unix)]
fn wait_readable(from: &impl Source, exited: &ExitSignal, drain: &mut Drain) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::time::Instant;
    loop {
        let timeout = match drain {
            Drain::Running => None,
            Drain::Until(until) => match until.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Timespec::try_from(left.min(DRAIN_IDLE)).ok(),
                _ => return false,
            },
        };
        let mut fds = vec![PollFd::new(from, PollFlags::IN)];
        if let (Drain::Running, Some((_, watch))) = (&drain, &exited.0) {
            fds.push(PollFd::new(watch, PollFlags::IN));
        }
        match poll(&mut fds, timeout.as_ref()) {
            // Quiet for DRAIN_IDLE after the command exited: what it wrote has been read.
            Ok(0) => return false,
            Ok(_) if !fds[0].revents().is_empty() => return true,
            Ok(_) => *drain = Drain::Until(Instant::now() + DRAIN_MAX),
            Err(rustix::io::Errno::INTR) => {}
            // poll itself failed: fall back to a plain read, which ends at end of file.
            Err(_) => return true,
        }
    }
}

#[cfg(not(unix))]
pub struct ExitSignal;

#[cfg(not(unix))]
impl ExitSignal {
    pub fn new() -> ExitSignal {
        ExitSignal
    }

    pub fn notify(&self) {}
}

#[cfg(not(unix))]
fn wait_readable(_from: &impl Source, _exited: &ExitSignal, _drain: &mut Drain) -> bool {
    true
}
