//! Acknowledging is cancelling the run (README, "Escalation"): GitHub sends the step SIGINT, then
//! SIGTERM 7.5 s later, then kills it 2.5 s after that. Either signal sets a flag; the waits
//! sleep in short slices and look at it, so onfail stops within a fraction of a second and still
//! has the time to write its outputs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a wait looks at the flag.
const SLICE: Duration = Duration::from_millis(50);

/// Whether the page was acknowledged, for as long as this lives.
pub struct Ack {
    flag: Arc<AtomicBool>,
    #[cfg(unix)]
    registered: Vec<signal_hook::SigId>,
}

impl Ack {
    /// Starts listening for SIGINT and SIGTERM. On Windows nothing is listened for: a cancel
    /// there ends onfail as before, without the `acknowledged` output (README, "Escalation").
    pub fn listen() -> Ack {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            // A signal that cannot be listened for leaves its default (onfail ends): the page
            // is then at worst not reported as acknowledged.
            let registered = [SIGINT, SIGTERM]
                .into_iter()
                .filter_map(|signal| signal_hook::flag::register(signal, Arc::clone(&flag)).ok())
                .collect();
            Ack { flag, registered }
        }
        #[cfg(not(unix))]
        Ack { flag }
    }

    pub fn given(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Waits `duration`, or less if the page is acknowledged meanwhile; `true` if it was.
    pub fn wait(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        while !self.given() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(SLICE.min(left));
        }
        true
    }
}

#[cfg(unix)]
impl Drop for Ack {
    fn drop(&mut self) {
        for id in self.registered.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_without_acknowledgement_lasts_its_time() {
        let flag = Arc::new(AtomicBool::new(false));
        let ack = Ack {
            flag: Arc::clone(&flag),
            #[cfg(unix)]
            registered: Vec::new(),
        };
        let started = Instant::now();
        assert!(!ack.wait(Duration::from_millis(120)));
        assert!(started.elapsed() >= Duration::from_millis(120));
        flag.store(true, Ordering::SeqCst);
        assert!(ack.wait(Duration::from_secs(60)) && ack.given());
    }
}
