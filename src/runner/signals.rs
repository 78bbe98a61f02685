//! SIGINT and SIGTERM during `onfail run`: noticed (the run is then `cancelled`) and, when a
//! process sent them to onfail alone, passed on to the command.

#[cfg(unix)]
pub use unix::Forwarder;

#[cfg(not(unix))]
pub use other::Forwarder;

#[cfg(unix)]
mod unix {
    use signal_hook::SigId;
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::SignalsInfo;
    use signal_hook::iterator::exfiltrator::WithOrigin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread::JoinHandle;

    /// Records SIGINT and SIGTERM sent to onfail and passes process-sent ones on to the command.
    pub struct Forwarder {
        forwarding: Option<(signal_hook::iterator::Handle, JoinHandle<()>)>,
        /// The last stop signal onfail received, 0 for none. Set inside the signal handler
        /// itself, so it is already set when the command's death by the same Ctrl-C is seen.
        received: Arc<AtomicUsize>,
        recorders: Vec<SigId>,
    }

    impl Forwarder {
        pub fn start(child: u32) -> Forwarder {
            let received = Arc::new(AtomicUsize::new(0));
            let recorders = [SIGINT, SIGTERM]
                .into_iter()
                .filter_map(|signal| {
                    let value = usize::try_from(signal).ok()?;
                    signal_hook::flag::register_usize(signal, Arc::clone(&received), value).ok()
                })
                .collect();
            let forwarding = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM]).ok().map(|mut signals| {
                let handle = signals.handle();
                let thread = std::thread::spawn(move || {
                    for origin in signals.forever() {
                        // A terminal's Ctrl-C comes from the kernel and already reached the whole
                        // foreground process group, the command included; sending it again would
                        // make it see two. A signal some process sent to onfail alone is passed on.
                        if origin.process.is_some() {
                            forward(child, origin.signal);
                        }
                    }
                });
                (handle, thread)
            });
            Forwarder { forwarding, received, recorders }
        }

        /// Stops forwarding; returns the stop signal onfail received, if any.
        pub fn stop(self) -> Option<i32> {
            if let Some((handle, thread)) = self.forwarding {
                handle.close();
                let _ = thread.join();
            }
            for id in self.recorders {
                signal_hook::low_level::unregister(id);
            }
            match self.received.load(Ordering::SeqCst) {
                0 => None,
                signal => i32::try_from(signal).ok(),
            }
        }
    }

    /// The pid is our own child, which we have not reaped yet (wait() is still pending), so it
    /// cannot have been reused; a signal rustix does not name (none onfail forwards) is dropped.
    fn forward(child: u32, signal: i32) {
        let pid = i32::try_from(child).ok().and_then(rustix::process::Pid::from_raw);
        if let (Some(pid), Some(signal)) = (pid, rustix::process::Signal::from_named_raw(signal)) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }
}

#[cfg(not(unix))]
mod other {
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
