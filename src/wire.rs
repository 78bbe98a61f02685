//! What a channel and the delivery engine exchange: the request a channel wants sent, the
//! response that came back, the channel's verdict on it, and what a delivered channel reports.
//! Plain data with no knowledge of any provider, so that [`crate::transport`] can sit below the
//! channels.

use std::time::Duration;

use serde::Serialize;

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

    /// ` (<who> said: <excerpt>)`, or nothing for an empty body: the provider's own words, to end
    /// an error message with.
    pub fn said_by(&self, who: &str) -> String {
        said_by(who, &self.excerpt())
    }

    /// A short, printable excerpt of the body for error messages. The body's secrets are gone
    /// already (the transport scrubs it on arrival), so the cut cannot leave part of one.
    pub fn excerpt(&self) -> String {
        crate::redact::one_line_cut(&String::from_utf8_lossy(&self.body), 200)
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
    /// How many calls Alertalk queued: a number, not its sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls_queued: Option<u64>,
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

/// ` (<who> said: <text>)`, or nothing when `text` is empty.
pub fn said_by(who: &str, text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(" ({who} said: {text})") }
}

/// The verdict for a response no provider-specific rule covered (README, "Delivery"): 2xx is the caller's
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
