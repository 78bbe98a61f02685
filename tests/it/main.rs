//! The integration tests, in one binary: each module is one area (a channel, a command, a
//! property of every output), run against the real `onfail` binary and local servers on
//! 127.0.0.1. One binary links the crate once, so a change under `src/` rebuilds one test
//! executable, and `common` is the harness every module shares.

mod common;

mod action_inputs;
// Chromium is driven over a pipe (descriptors 3 and 4), and the service stopped with signals.
#[cfg(unix)]
mod browser;
mod cancel;
#[cfg(unix)]
mod check_clocks;
mod check_pages;
mod checks;
mod details;
mod docs;
mod dry_run;
mod escalation;
mod faults;
mod github;
mod header_values;
mod help;
mod history;
mod incident;
mod incident_platforms;
mod language;
mod leaks;
mod needs;
mod output;
mod paging;
mod parsing;
mod properties;
mod run;
// The service is stopped with signals in these tests (`kill`).
#[cfg(unix)]
mod serve;
#[cfg(unix)]
mod serve_history;
#[cfg(unix)]
mod serve_pages;
#[cfg(unix)]
mod serve_postgres_tls;
#[cfg(unix)]
mod serve_robustness;
// The service runs as a process (tests/it/common/service.rs), stopped with `kill`.
#[cfg(unix)]
mod senders;
mod sms;
mod state;
mod structure;
mod tls;
mod transport;
mod versions;
mod voice;
mod voice_properties;
// The service is stopped with signals (`kill`), as in `checks`, whose config files it uses.
#[cfg(unix)]
mod watch;
mod webhook;
