//! onfail: wake the right people when CI fails.
//!
//! The flow is `cli` (parse) → `facts` (gather what the run needs to know) → `config` (build
//! the one validated configuration from the options and the facts) → `deliver` (send, dry-run)
//! → `report` + `render` (pure text) → `output` (the only printing, always redacted, and where
//! GitHub mode is decided, once, for every command); `app` runs these steps.
//!
//! The layers, top to bottom. This list is the one statement of the layering:
//! `tests/it/structure.rs` reads it, fails on a top-level module that is not in it, and fails on
//! any `crate::` path from a module to a module of its own layer or of a layer above.
//!
//! 1. `app`, `serve`: two siblings that never import each other. `app` runs `send`, `run` and
//!    `check` in five steps (parse, gather, build, deliver, report; their exit codes are decided
//!    there); `serve` is the standing companion, `onfail serve` (its own exit codes decided in
//!    its `run`).
//! 2. `deliver`: the delivery step of a send: the built configuration out to its channels,
//!    through the escalation when one applies, or as a dry run's plan.
//! 3. `config`: builds the one validated `Config` from the parsed arguments and the facts.
//! 4. `facts`: every fact a run needs before its configuration is built (context, `--needs`,
//!    the failed jobs, the history decision).
//! 5. `cli`: the command line (clap), each provider's flags flattened in.
//! 6. `escalation`: climbs from one page to the next while the step waits, driving the voice
//!    and SMS providers.
//! 7. `fanout`: one page to several channels at once (a send, each page of an escalation).
//! 8. `output`: the only printing, always redacted.
//! 9. `gha`, `render`: GitHub runtime I/O (annotations, outputs, summary) and the pure
//!    renderers of lines, JSON and dry runs.
//! 10. `report`: what a run did, channel by channel.
//! 11. `channels`, `details`: one module per provider, listed once in `providers!`, plus what
//!     several share (a provider gets plain values and never sees `cli`, `config` or `app`); the
//!     failed jobs and steps of this run from the GitHub API, for `--needs`.
//! 12. `history`: what the same alert did last time (the GitHub runs API, the state file).
//! 13. `transport`: the delivery engine (deadline, retries), which knows no provider, and the
//!     one place an HTTP client is made (the GitHub API's too).
//! 14. `texts`, `tls`, `proxy`: the default texts, one file per language; which servers to
//!     trust; which requests go through a proxy.
//! 15. `context`, `edge`, `needs`, `wire`: where the alert runs; the decision table of
//!     `--notify-when changes`; the status of a workflow from `toJSON(needs)`; the requests,
//!     answers and verdicts the engine exchanges with the channels.
//! 16. `redact`, `runner`, `status`, `stop`: the redactor; `onfail run`'s command and its end;
//!     the job status words; a SIGINT or SIGTERM while onfail alerts.
//! 17. `values`, `phone`, `template`, `der`: value parsers, phone numbers, `{placeholder}`
//!     templates, certificate names.
//! 18. `error`, `exit`: the usage error every layer can raise; the list of exit codes.

pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod context;
pub mod deliver;
pub mod der;
pub mod details;
pub mod edge;
pub mod error;
pub mod escalation;
pub mod exit;
pub mod facts;
pub mod fanout;
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
pub mod serve;
pub mod status;
pub mod stop;
pub mod template;
pub mod texts;
pub mod tls;
pub mod transport;
pub mod values;
pub mod wire;
