//! A request to stop while onfail alerts (docs/escalation.md, "Escalation"): SIGINT or SIGTERM, which is how
//! a runner cancels a step (GitHub sends SIGINT, then SIGTERM 7.5 s later, then kills the step
//! 2.5 s after that). Either signal sets a flag that every wait and every delivery looks at: no
//! request starts after it, no retry, no next level. A request already in flight is given a few
//! seconds ([`GRACE`]) to finish; past that onfail says so and exits, so that a cancel never ends
//! in a kill.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// How often a wait looks at the flag.
const SLICE: Duration = Duration::from_millis(50);

/// How long a request already in flight may take after the stop request before onfail gives up
/// on it and exits: well within the 7.5 s GitHub leaves before its SIGTERM.
pub const GRACE: Duration = Duration::from_secs(4);

/// How long the delivery engine waits for the answer to a request in flight after a stop
/// request before it abandons it and reports its result as unknown: within [`GRACE`], so that
/// the outputs are still written.
pub const IN_FLIGHT: Duration = Duration::from_secs(2);

/// Runs `work` on its own thread and waits for it, but no longer than `patience` after a stop
/// request (`None` when it was abandoned). The work goes on unseen until it ends by itself (its
/// own timeout); onfail exits without waiting for it. Without a listener, it simply runs.
pub fn unless_stopped<T: Send + 'static>(
    stop: &StopFlag,
    patience: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    if !stop.listening() {
        return Some(work());
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    let mut stopped_at: Option<Instant> = None;
    loop {
        match receiver.recv_timeout(SLICE) {
            Ok(done) => return Some(done),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if stop.is_set() && stopped_at.get_or_insert_with(Instant::now).elapsed() >= patience {
            return None;
        }
    }
}

/// Whether a stop was requested; cheap to clone and hand to the delivery engine. The default
/// flag is never set (nothing listens).
#[derive(Clone, Debug, Default)]
pub struct StopFlag(Option<Arc<AtomicBool>>);

impl StopFlag {
    /// Whether anything listens for a stop at all.
    pub fn listening(&self) -> bool {
        self.0.is_some()
    }

    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    /// Waits `duration`, or less if a stop is requested meanwhile; `true` if it was.
    pub fn pause(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        while !self.is_set() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            std::thread::sleep(SLICE.min(left));
        }
        true
    }
}

/// Listens for SIGINT and SIGTERM for as long as it lives, and keeps the watch that ends onfail
/// [`GRACE`] after a stop request if it is still busy then.
pub struct Listener {
    flag: Arc<AtomicBool>,
    /// False for [`Listener::deaf`]: its flag is never set, and nothing needs to watch it.
    listening: bool,
    /// The code onfail exits with if the watch has to end it.
    exit_code: Arc<AtomicU8>,
    done: Arc<AtomicBool>,
    #[cfg(unix)]
    registered: Vec<signal_hook::SigId>,
}

impl Listener {
    /// Starts listening. On Windows nothing is listened for: a cancel there ends onfail as it
    /// always did (docs/escalation.md, "Escalation").
    pub fn listen() -> Listener {
        let flag = Arc::new(AtomicBool::new(false));
        let exit_code = Arc::new(AtomicU8::new(0));
        let done = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            // A signal that cannot be listened for keeps its default (onfail ends).
            let registered = [SIGINT, SIGTERM]
                .into_iter()
                .filter_map(|signal| signal_hook::flag::register(signal, Arc::clone(&flag)).ok())
                .collect();
            watch(Arc::clone(&flag), Arc::clone(&exit_code), Arc::clone(&done));
            Listener { flag, listening: true, exit_code, done, registered }
        }
        #[cfg(not(unix))]
        Listener { flag, listening: false, exit_code, done }
    }

    /// A listener that never hears anything, for runs that do not listen (tests of the logic).
    pub fn deaf() -> Listener {
        Listener {
            flag: Arc::new(AtomicBool::new(false)),
            listening: false,
            exit_code: Arc::new(AtomicU8::new(0)),
            done: Arc::new(AtomicBool::new(true)),
            #[cfg(unix)]
            registered: Vec::new(),
        }
    }

    pub fn flag(&self) -> StopFlag {
        StopFlag(self.listening.then(|| Arc::clone(&self.flag)))
    }

    /// Sets the flag as a stop signal does: an acknowledgement by link (docs/serve-senders.md)
    /// stops an escalation exactly as a cancel does.
    pub fn acknowledger(&self) -> impl Fn() + Send + 'static {
        let flag = Arc::clone(&self.flag);
        move || flag.store(true, Ordering::SeqCst)
    }

    pub fn given(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Waits `duration`, or less if a stop is requested meanwhile; `true` if it was.
    pub fn wait(&self, duration: Duration) -> bool {
        StopFlag(Some(Arc::clone(&self.flag))).pause(duration)
    }

    /// The sending is over (what remains is writing the outputs): the watch no longer ends onfail.
    pub fn settled(&self) {
        self.done.store(true, Ordering::SeqCst);
    }

    /// The code onfail exits with if a request in flight outlives [`GRACE`] after a stop
    /// request: the wrapped command's own under `onfail run`, else 0 (a cancelled page is not a
    /// failure of onfail's).
    pub fn exit_code_if_abandoned(&self, code: u8) {
        self.exit_code.store(code, Ordering::SeqCst);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        #[cfg(unix)]
        for id in self.registered.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// The watch: once a stop is requested, gives onfail [`GRACE`] to finish on its own, then says
/// what it abandons and exits with the code set for it.
#[cfg(unix)]
fn watch(flag: Arc<AtomicBool>, exit_code: Arc<AtomicU8>, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !flag.load(Ordering::SeqCst) {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(SLICE);
        }
        let until = Instant::now() + GRACE;
        while Instant::now() < until {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(SLICE);
        }
        // onfail's own words only: nothing here can hold a secret.
        eprintln!(
            "onfail: stopped (SIGINT/SIGTERM): a request still in flight after {}s was abandoned; its result is \
             unknown, and nothing more was sent",
            GRACE.as_secs()
        );
        std::process::exit(i32::from(exit_code.load(Ordering::SeqCst)));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_without_a_stop_lasts_its_time_and_ends_at_once_after_one() {
        let listener = Listener::deaf();
        let started = Instant::now();
        assert!(!listener.wait(Duration::from_millis(120)));
        assert!(started.elapsed() >= Duration::from_millis(120));
        listener.flag.store(true, Ordering::SeqCst);
        assert!(listener.wait(Duration::from_secs(60)) && listener.given());
        assert!(!StopFlag::default().is_set());
    }
}

#[cfg(test)]
mod in_flight {
    use super::*;

    #[test]
    fn work_is_awaited_until_the_patience_after_a_stop_runs_out() {
        let flag = StopFlag(Some(Arc::new(AtomicBool::new(false))));
        assert_eq!(unless_stopped(&flag, Duration::ZERO, || 7), Some(7));
        flag.0.as_ref().unwrap().store(true, Ordering::SeqCst);
        let started = Instant::now();
        let slow = unless_stopped(&flag, Duration::from_millis(200), || std::thread::sleep(Duration::from_secs(5)));
        assert_eq!(slow, None);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        // Nobody listening: the work simply runs.
        assert_eq!(unless_stopped(&StopFlag::default(), Duration::ZERO, || 8), Some(8));
    }
}
