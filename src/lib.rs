//! onfail: wake the right people when CI fails.
//!
//! The flow is `cli` (parse) → `config` (validate into plain values) → `app` (send, dry-run or
//! check) → `report` + `render` (pure text) → `output` (the only printing, always redacted, and
//! where GitHub mode is decided, once, for every command).
//!
//! Modules import only downwards, and `tests/structure.rs` keeps it so:
//! - `app` runs everything; `config` turns the parsed `cli` arguments into a `Config`;
//! - `escalation` climbs from one page to the next while the step waits, driving the voice and
//!   SMS providers; it sits above `channels` and below `config`;
//! - `channels` holds one module per provider, listed once in `providers!`, plus what several
//!   providers share; a provider gets plain values and never sees `cli`, `config` or `app`;
//! - `details` reads the failed jobs and steps of this run from the GitHub API, through the
//!   history lookup's client (`history::github`), for `--needs`;
//! - `transport` is the delivery engine (deadline, retries); it exchanges the `wire` types with
//!   the channels and knows no provider and no configuration; under it, `tls` (which servers
//!   to trust, with `der` for certificate names) and `proxy` (which requests go through one);
//! - at the bottom, `error` (the usage error every layer can raise), `values` (value parsers),
//!   `context`, `stop` (SIGINT and SIGTERM while onfail alerts), `template`, `texts` (the default
//!   texts, one file per language), `needs` (the status of a whole workflow from
//!   `toJSON(needs)`), `phone`, `redact` and `status`.

pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod context;
pub mod der;
pub mod details;
pub mod edge;
pub mod error;
pub mod escalation;
pub mod gha;
pub mod history;
pub mod needs;
pub mod output;
pub mod phone;
pub mod proxy;
pub mod redact;
pub mod render;
pub mod report;
pub mod runner;
pub mod status;
pub mod stop;
pub mod template;
pub mod texts;
pub mod tls;
pub mod transport;
pub mod values;
pub mod wire;
