//! The channels, one module per provider, behind one small interface.
//!
//! To add a provider: write `channels/<name>.rs` with its clap `Args` (flags and `ONFAIL_*` env
//! names, `hide_env_values` on each, and a `#[group(id = "<name>")]`: clap names a flattened
//! struct's group after its type, and every provider's is `Args`), a `configure` that validates them into a [`Channel`], and the request/response mapping;
//! then add one field to [`ChannelArgs`] and one line to [`ChannelArgs::configure`] and
//! [`ChannelArgs::register_secrets`]. The delivery engine (retries, deadline, concurrency) and all
//! output rendering come for free.

pub mod alertalk;
pub mod iletimerkezi;
pub mod sms_text;
pub mod temperstack;
pub mod webhook;

use std::time::Duration;

use serde::Serialize;

use crate::config::ConfigError;
use crate::context::Context;
use crate::edge::{self, Decision, Role};
use crate::redact::Redactor;
use crate::status::{NotifyOn, Status};
use crate::transport::{Outcome, Transport};

/// What every channel is told about the alert.
#[derive(Clone, Debug)]
pub struct Alert {
    pub context: Context,
    /// `--title`, rendered, or the default title for the status.
    pub title: String,
    /// `--message`, rendered; `None` means each channel uses its own default text.
    pub message: Option<String>,
    pub notify_on: NotifyOn,
    /// Under `--notify-when changes`: the edge, which silences voice and SMS while a failure
    /// goes on and turns SMS and webhook into a short "recovered" notice. `None` under `always`.
    pub decision: Option<Decision>,
}

impl Alert {
    pub fn status(&self) -> Status {
        self.context.status
    }

    /// Why a channel in `role` does nothing for this alert: the edge, then `--notify-on`.
    pub fn skip_reason(&self, role: Role) -> Option<String> {
        edge::skip_reason(self.decision.as_ref(), role, self.status(), &self.notify_on)
    }

    /// Whether a channel in `role` sends the short "recovered" text instead of its usual one.
    pub fn recovered(&self, role: Role) -> bool {
        self.decision.as_ref().is_some_and(|d| d.recovered(role, self.status()))
    }
}

/// One HTTP request, as a channel wants it sent. Always a JSON POST.
#[derive(Clone, Debug)]
pub struct Request {
    pub url: reqwest::Url,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Header {
    pub name: String,
    pub value: String,
    /// Shown as `***` in every output.
    pub secret: bool,
}

impl Header {
    pub fn public(name: &str, value: &str) -> Header {
        Header { name: name.into(), value: value.into(), secret: false }
    }

    pub fn secret(name: &str, value: &str) -> Header {
        Header { name: name.into(), value: value.into(), secret: true }
    }
}

/// What came back, with the body capped (see [`crate::transport::MAX_BODY`]).
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// Why the body is incomplete, when the connection broke or stalled after the status line.
    /// The status still stands: a provider that answered 200 has accepted the request, and
    /// retrying could ring the same phones twice.
    pub cut_off: Option<String>,
}

impl Response {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A short, printable excerpt of the body for error messages.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        crate::messages::truncate_chars(&clean, 200).0
    }
}

/// How a channel judges one response.
#[derive(Clone, Debug)]
pub enum Verdict {
    Delivered(Delivery),
    /// Will not get better by retrying (bad key, no credit, bad request).
    Permanent(String),
    /// May succeed on another attempt (5xx, 429, a cut-off body).
    Transient(String),
}

/// What a delivered channel reports.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    pub detail: String,
    pub ids: Ids,
    pub warnings: Vec<String>,
}

/// Identifiers a provider hands back, for the JSON output and the action's outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ids {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls_queued: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delivery_states: Vec<RecipientState>,
}

impl Ids {
    /// Adds what `other` knows; its values win where both have one.
    pub fn merge(&mut self, other: Ids) {
        self.calls_queued = other.calls_queued.or(self.calls_queued.take());
        self.sms_order_id = other.sms_order_id.or(self.sms_order_id.take());
        self.alert_id = other.alert_id.or(self.alert_id.take());
        if !other.delivery_states.is_empty() {
            self.delivery_states = other.delivery_states;
        }
    }
}

/// The delivery state of one (masked) recipient.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecipientState {
    pub recipient: String,
    pub state: String,
}

/// One configured, validated channel.
pub trait Channel: Send + Sync {
    /// What it does: `voice`, `sms`, `incident`, `webhook`.
    fn name(&self) -> &'static str;
    /// Who does it: `alertalk`, `iletimerkezi`, ...
    fn provider(&self) -> &'static str;
    /// Where it sends, safe to print (secret path and query hidden).
    fn endpoint(&self) -> String;
    /// Masked recipients, if the channel has any.
    fn recipients(&self) -> Vec<String> {
        Vec::new()
    }
    /// Warnings found while configuring (text cut to a provider limit, ...).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// Ids known before anything is sent (the incident's `alert_id`), reported on every outcome.
    fn ids(&self) -> Ids {
        Ids::default()
    }
    /// Why the channel does nothing for this alert, if it doesn't. By default a channel fires on
    /// the statuses in `--notify-on`, and under `--notify-when changes` as the webhook does.
    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        alert.skip_reason(Role::Webhook)
    }
    /// The request for attempt `attempt` (1-based); the same request is rendered for `--dry-run`.
    fn request(&self, attempt: u32) -> Request;
    /// Judges a response to attempt `attempt`.
    fn classify(&self, response: &Response, attempt: u32) -> Verdict;
    /// Sends the alert. The default is one request with retries; a channel with follow-up work
    /// (waiting for a delivery report) overrides this and calls [`Transport::deliver`] itself.
    fn deliver(&self, transport: &Transport) -> Outcome {
        transport.deliver(&|attempt| self.request(attempt), &|response, attempt| self.classify(response, attempt))
    }
    /// For `check --online`: a side-effect-free credentials check, if the provider has one.
    fn check_online(&self, _transport: &Transport) -> Option<Result<String, String>> {
        None
    }
}

/// The verdict for a response no provider-specific rule covered (SPEC §5): 2xx is the caller's
/// business, 3xx is never followed, 429 and 5xx are worth retrying, other 4xx are permanent.
pub fn generic_verdict(response: &Response, provider: &str) -> Verdict {
    let status = response.status;
    let said = match response.excerpt() {
        excerpt if excerpt.is_empty() => String::new(),
        excerpt => format!(": {excerpt}"),
    };
    match status {
        300..=399 => Verdict::Permanent(format!(
            "{provider} answered with a redirect (HTTP {status}), which onfail never follows; use the final URL"
        )),
        429 => Verdict::Transient(format!("{provider} is rate limiting (HTTP 429){said}")),
        500..=599 => Verdict::Transient(format!("{provider} had a server error (HTTP {status}){said}")),
        _ => Verdict::Permanent(format!("{provider} rejected the request (HTTP {status}){said}")),
    }
}

/// Every provider's flags, flattened into each command.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ChannelArgs {
    #[command(flatten)]
    pub voice: alertalk::Args,
    #[command(flatten)]
    pub sms: iletimerkezi::Args,
    #[command(flatten)]
    pub incident: temperstack::Args,
    #[command(flatten)]
    pub webhook: webhook::Args,
}

impl ChannelArgs {
    /// Registers every secret value and phone number before anything is validated or printed,
    /// so even a configuration error cannot leak one.
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        self.voice.register_secrets(redactor);
        self.sms.register_secrets(redactor);
        self.incident.register_secrets(redactor);
        self.webhook.register_secrets(redactor);
    }

    /// Validates each provider's flags; an enabled channel comes back ready to send.
    pub fn configure(&self, alert: &Alert) -> Result<Vec<Box<dyn Channel>>, ConfigError> {
        let channels: Vec<Option<Box<dyn Channel>>> = vec![
            alertalk::configure(&self.voice, alert)?,
            iletimerkezi::configure(&self.sms, &self.voice.phone_numbers, alert)?,
            temperstack::configure(&self.incident, alert)?,
            webhook::configure(&self.webhook, alert)?,
        ];
        Ok(channels.into_iter().flatten().collect())
    }
}
