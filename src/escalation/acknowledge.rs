//! Acknowledging by link (docs/serve-senders.md): while an escalation runs, a thread long-polls
//! the page at `onfail serve`; once someone presses the button behind the SMS's link, it sets
//! the same stop flag a cancel sets, so the escalation stops exactly as at a cancel (nothing
//! more is sent). A service that cannot be reached is a warning; the thread keeps trying, and
//! a cancel still acknowledges.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::channels::companion::{OpenedPage, POLL_WAIT, Server};
use crate::stop::Listener;
use crate::transport::Transport;

/// The pause after a failed look, so a service that is down is not hammered.
const RETRY: Duration = Duration::from_secs(3);

/// The watch of one page, for as long as the escalation runs.
pub struct PageWatch {
    finished: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    acknowledged_at: Option<String>,
    problem: Option<String>,
}

/// What the watch found.
pub struct Found {
    /// When the page was acknowledged by its link, if it was.
    pub acknowledged_at: Option<String>,
    /// Why the page could not be watched, said once as a warning.
    pub warning: Option<String>,
}

impl PageWatch {
    /// Starts watching `page`; an acknowledgement sets `stop`'s flag.
    pub fn start(server: &Server, page: &OpenedPage, transport: &Transport, stop: &Listener) -> PageWatch {
        let finished = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (server, page_id, transport) = (server.clone(), page.page_id.clone(), transport.clone());
        let (done, found, acknowledge) = (Arc::clone(&finished), Arc::clone(&seen), stop.acknowledger());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                // Each look gets a deadline of its own: the watch lasts as long as the escalation.
                let look = transport.renewed(POLL_WAIT + Duration::from_secs(5));
                match server.acknowledged(&look, &page_id, POLL_WAIT) {
                    // After the escalation ended, an acknowledgement changes nothing it did.
                    Ok(Some(_)) if done.load(Ordering::SeqCst) => return,
                    Ok(Some(at)) => {
                        if let Ok(mut seen) = found.lock() {
                            seen.acknowledged_at = Some(at);
                        }
                        acknowledge();
                        return;
                    }
                    Ok(None) => {}
                    // A look cut short by the end of the escalation (or by a cancel) is no problem.
                    Err(_) if done.load(Ordering::SeqCst) => return,
                    Err(why) => {
                        if let Ok(mut seen) = found.lock() {
                            seen.problem.get_or_insert(why);
                        }
                        std::thread::sleep(RETRY);
                    }
                }
            }
        });
        PageWatch { finished, seen }
    }

    /// Ends the watch (its thread stops after the look in flight) and says what it found.
    pub fn finish(self) -> Found {
        self.finished.store(true, Ordering::SeqCst);
        let seen = self.seen.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
        let warning = seen.problem.filter(|_| seen.acknowledged_at.is_none()).map(|why| {
            format!(
                "--server: the page could not be watched at onfail serve ({why}); its link may not have stopped the \
                 escalation (cancelling the run still does)"
            )
        });
        Found { acknowledged_at: seen.acknowledged_at, warning }
    }
}
