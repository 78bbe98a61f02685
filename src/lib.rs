//! onfail: wake the right people when CI fails.
//!
//! The flow is `cli` (parse) → `config` (validate into plain values) → `app` (send, dry-run or
//! check) → `report` + `render` (pure text) → `output` (the only printing, always redacted).
//! Providers live in `channels/`, one module each; `transport` is the shared delivery engine.

pub mod app;
pub mod channels;
pub mod cli;
pub mod config;
pub mod context;
pub mod der;
pub mod gha;
pub mod messages;
pub mod output;
pub mod phone;
pub mod proxy;
pub mod redact;
pub mod render;
pub mod report;
pub mod runner;
pub mod status;
pub mod template;
pub mod tls;
pub mod transport;
