//! The SQLite writer's queue (`sqlite.rs`): callers add their writes, the writer takes them as
//! one group per transaction. A caller wakes the writer only when the writer sleeps and either
//! the queue was empty or the group is complete (see [`Queue::complete`]): under
//! a stream of reports that is one or two wake-ups per commit instead of one per report, and a
//! wake-up is a thread switch on the machine the service shares with its clients
//! (`docs/benchmarks.md`, "onfail serve: report intake").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Writes taken into one transaction at most.
pub const MAX_GROUP: usize = 1000;
/// Once a write has come, the writer keeps gathering while more keep coming, each within
/// [`LINGER_GAP`] of the last, for at most [`LINGER`]: the answers of one commit reach every
/// waiting client at once, and their next reports arrive a moment apart, so without this the
/// next commit would carry the first few and the rest wait a whole fsync
/// (`docs/benchmarks.md`, "onfail serve: report intake"). It stops as soon as the group is
/// complete ([`Queue::complete`]), so with no connection open (the service's own writes) it
/// does not wait at all.
const LINGER: Duration = Duration::from_millis(2);
const LINGER_GAP: Duration = Duration::from_micros(250);

pub struct Queue<J> {
    state: Mutex<State<J>>,
    arrived: Condvar,
    /// The HTTP connections open now (kept by `http`): no report can come but on one of them.
    connections: std::sync::Arc<AtomicUsize>,
}

/// One group being gathered by the writer.
pub struct Gathering {
    until: Instant,
    /// Writes the writer has taken into the group so far.
    taken: usize,
}

struct State<J> {
    jobs: Vec<J>,
    /// The writer sleeps on `arrived`.
    writer_asleep: bool,
    /// Writes the sleeping writer has taken into its group already.
    taken: usize,
    /// The store was dropped: the writer ends once the queue is empty.
    closed: bool,
}

impl<J> Queue<J> {
    pub fn new(connections: std::sync::Arc<AtomicUsize>) -> Queue<J> {
        let state = State { jobs: Vec::new(), writer_asleep: false, taken: 0, closed: false };
        Queue { state: Mutex::new(state), arrived: Condvar::new(), connections }
    }

    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // A panic while holding this lock cannot leave the queue half-changed (a push or a
        // drain): go on with it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a write; gives it back when the writer has stopped.
    pub fn push(&self, job: J) -> Result<(), J> {
        let mut state = self.lock();
        if state.closed {
            return Err(job);
        }
        state.jobs.push(job);
        // The idle writer wakes for the first write; the gathering writer once its group is
        // complete (else it looks again after a gap).
        let queued = state.jobs.len();
        let wake =
            state.writer_asleep && ((state.taken == 0 && queued == 1) || state.taken + queued >= self.complete());
        drop(state);
        if wake {
            self.arrived.notify_one();
        }
        Ok(())
    }

    /// No more writes: the writer ends after the ones queued.
    pub fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_one();
    }

    /// The size at which the writer stops gathering: a write for half the open connections.
    /// Were it all of them, every client would wait for the same commit, and the processor
    /// (parsing the next reports) and the disk (syncing the commit) would take turns; with two
    /// groups in flight one gathers while the other commits (measured in
    /// `docs/benchmarks.md`, "onfail serve: report intake").
    fn complete(&self) -> usize {
        self.connections.load(Ordering::Relaxed).div_ceil(2).clamp(1, MAX_GROUP)
    }

    /// The first writes of the writer's next group, all that have queued (waiting for one when
    /// none has); `None` once closed and empty. The writer runs them, then asks for [`Queue::more`].
    pub fn first(&self) -> Option<(Vec<J>, Gathering)> {
        let mut state = self.lock();
        while state.jobs.is_empty() {
            if state.closed {
                return None;
            }
            state = self.sleep(state, 0, None);
        }
        let taken = state.jobs.len().min(MAX_GROUP);
        let first: Vec<J> = state.jobs.drain(..taken).collect();
        let gathering = Gathering { until: Instant::now() + LINGER, taken: first.len() };
        Some((first, gathering))
    }

    /// More writes for the group being gathered, run by the writer while the rest arrive (the
    /// inserts overlap the parsing of the next requests); `None` when the group is complete, or
    /// no write came within [`LINGER_GAP`], or [`LINGER`] is over: then the writer commits.
    pub fn more(&self, gathering: &mut Gathering) -> Option<Vec<J>> {
        let mut state = self.lock();
        let mut slept = false;
        loop {
            if gathering.taken >= self.complete() {
                return None;
            }
            if !state.jobs.is_empty() {
                let taken = state.jobs.len().min(MAX_GROUP - gathering.taken);
                gathering.taken += taken;
                return Some(state.jobs.drain(..taken).collect());
            }
            let gap = LINGER_GAP.min(gathering.until.saturating_duration_since(Instant::now()));
            if slept || gap.is_zero() {
                return None;
            }
            state = self.sleep(state, gathering.taken, Some(gap));
            slept = true;
        }
    }

    fn sleep<'a>(
        &self,
        mut state: MutexGuard<'a, State<J>>,
        taken: usize,
        at_most: Option<Duration>,
    ) -> MutexGuard<'a, State<J>> {
        state.writer_asleep = true;
        state.taken = taken;
        let mut state = match at_most {
            None => self.arrived.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some(gap) => self.arrived.wait_timeout(state, gap).unwrap_or_else(|poisoned| poisoned.into_inner()).0,
        };
        state.writer_asleep = false;
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A whole group, as the writer gathers it.
    fn next_group<J>(queue: &Queue<J>) -> Option<Vec<J>> {
        let (mut group, mut gathering) = queue.first()?;
        while let Some(more) = queue.more(&mut gathering) {
            group.extend(more);
        }
        Some(group)
    }

    #[test]
    fn a_group_is_taken_at_once_when_half_the_connections_have_their_write_in() {
        let queue = Arc::new(Queue::new(Arc::new(AtomicUsize::new(6))));
        for n in 0..3 {
            queue.push(n).unwrap();
        }
        let started = Instant::now();
        assert_eq!(next_group(&queue), Some(vec![0, 1, 2]));
        assert!(started.elapsed() < LINGER, "a complete group waited");
    }

    #[test]
    fn a_lone_write_waits_at_most_one_gap_and_a_closed_queue_drains_then_ends() {
        let queue = Arc::new(Queue::new(Arc::new(AtomicUsize::new(64))));
        let writer = {
            let queue = queue.clone();
            std::thread::spawn(move || std::iter::from_fn(|| next_group(&queue)).collect::<Vec<_>>())
        };
        queue.push(1).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        queue.push(2).unwrap();
        queue.push(3).unwrap();
        queue.close();
        assert_eq!(queue.push(4), Err(4));
        let groups = writer.join().unwrap();
        assert_eq!(groups.concat(), vec![1, 2, 3]);
        assert_eq!(groups[0], vec![1], "the first write waited for the later ones");
    }

    #[test]
    fn no_group_is_larger_than_the_most_one_transaction_takes() {
        let queue = Queue::new(Arc::new(AtomicUsize::new(5000)));
        for n in 0..MAX_GROUP + 5 {
            queue.push(n).unwrap();
        }
        assert_eq!(next_group(&queue).map(|group| group.len()), Some(MAX_GROUP));
        assert_eq!(next_group(&queue).map(|group| group.len()), Some(5));
    }
}
