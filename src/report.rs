//! What a run did, channel by channel: the data every output (stderr lines, JSON, GitHub
//! outputs, step summary) is rendered from.

pub mod pages;

use serde::Serialize;

use crate::channels::Channel;
use crate::redact::Redactor;
use crate::transport::Outcome;
use crate::wire::Ids;
use pages::PageRecord;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelResult {
    Sent,
    Failed,
    Skipped,
    /// `--dry-run`: rendered, not sent.
    #[serde(rename = "dry-run")]
    DryRun,
}

/// A request as `--dry-run` shows it (docs/reference.md, "Output"): the headers onfail sets, in the order
/// they are sent, secret ones already `***`; the body as the exact text that would be sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShownRequest {
    pub method: &'static str,
    pub url: String,
    /// Header name and value, in the order sent; a JSON object in `--output json`.
    #[serde(serialize_with = "in_order")]
    pub headers: Vec<(String, String)>,
    /// The body's bytes as sent (UTF-8; lossily decoded if they were not), redacted string by
    /// string so every other byte stays as sent (see [`Redactor::json_text`]).
    pub body: String,
}

/// Pairs as a JSON object whose keys keep their order.
fn in_order<S: serde::Serializer>(pairs: &[(String, String)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(name, value)| (name, value)))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelReport {
    pub channel: &'static str,
    pub provider: &'static str,
    pub result: ChannelResult,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub detail: String,
    pub recipients: Vec<String>,
    pub ids: Ids,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<ShownRequest>,
    /// Under `--escalate`: the round and level this delivery belongs to.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
}

/// Where in an escalation a page went out (docs/escalation.md, "Escalation"): round 1 is the first pass
/// through the levels, level 1 the first list (or, with `sms-first`, the SMS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub round: u32,
    pub level: u32,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "round {}, level {}", self.round, self.level)
    }
}

/// How an escalation ended, as the JSON's `escalation.ended` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EscalationEnd {
    /// Every level was paged.
    Completed,
    /// Someone cancelled the run while onfail waited.
    Acknowledged,
    /// A newer run of the same workflow and branch cancelled this one.
    Superseded,
    /// `--escalation-timeout` ended the chain.
    EscalationTimeout,
    /// `--dry-run`: nothing was sent.
    DryRun,
}

/// What an escalation did, for the JSON document, the summary and the `acknowledged` output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EscalationReport {
    /// `sms-first` or `chain`.
    pub mode: &'static str,
    /// Someone cancelled the run while onfail waited: nothing more was sent.
    pub acknowledged: bool,
    /// A newer run of the same workflow and branch cancelled this one (`concurrency:
    /// cancel-in-progress`): nothing more was sent, and nobody acknowledged.
    pub superseded: bool,
    /// How it was acknowledged: `link` (the link in the SMS, at `onfail serve`) or `cancel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<&'static str>,
    /// When, where known (an acknowledgement by link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
    /// The newer run's page, when `superseded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// How it ended.
    pub ended: EscalationEnd,
    /// The time spent waiting between levels.
    pub waited_ms: u64,
    /// One entry per number per page, masked.
    pub recipients: Vec<RecipientResult>,
    /// The same pages as records of who was reached; the run report carries them.
    #[serde(skip)]
    pub pages: Vec<PageRecord>,
}

/// What one page did for one (masked) number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecipientResult {
    pub recipient: String,
    pub round: u32,
    pub level: u32,
    /// `sent` (no delivery report read), `delivered`, `undelivered`, `pending` or `failed`;
    /// absent when the number was not texted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<&'static str>,
    /// Whether a call to the number was queued (Alertalk cannot tell whether it was answered).
    pub called: bool,
}

impl ChannelReport {
    /// A report with nothing sent yet, filled from the channel's description.
    pub fn new(channel: &dyn Channel, result: ChannelResult, detail: String) -> ChannelReport {
        ChannelReport {
            channel: channel.name(),
            provider: channel.provider(),
            result,
            attempts: 0,
            http_status: None,
            detail,
            recipients: channel.recipients(),
            ids: channel.ids(),
            warnings: channel.warnings(),
            request: None,
            stage: None,
        }
    }

    /// Redacts every value that came from outside (see [`RunReport::redact`]).
    fn redact(&mut self, redactor: &Redactor) {
        self.detail = redactor.apply(&self.detail);
        for text in self.recipients.iter_mut().chain(&mut self.warnings) {
            *text = redactor.apply(text);
        }
        let ids = &mut self.ids;
        for id in [&mut ids.sms_order_id, &mut ids.alert_id].into_iter().flatten() {
            *id = redactor.apply(id);
        }
        for state in &mut ids.delivery_states {
            state.recipient = redactor.apply(&state.recipient);
        }
        if let Some(request) = &mut self.request {
            request.url = redactor.apply(&request.url);
            request.headers.iter_mut().for_each(|(_, value)| *value = redactor.apply(value));
            // The body's keys are the wire format (or the user's template), not values.
            request.body = redactor.json_text(&request.body);
        }
    }

    pub fn from_outcome(channel: &dyn Channel, outcome: Outcome) -> ChannelReport {
        let mut report = ChannelReport::new(channel, ChannelResult::Sent, String::new());
        report.attempts = outcome.attempts;
        report.http_status = outcome.http_status;
        match outcome.result {
            Ok(delivery) => {
                report.detail = delivery.detail;
                report.ids.merge(delivery.ids);
                report.warnings.extend(delivery.warnings);
            }
            Err(reason) => {
                report.result = ChannelResult::Failed;
                report.detail = reason;
                report.ids.merge(outcome.failed_ids);
            }
        }
        report
    }
}

/// The overall result, as the `result` output names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunResult {
    Sent,
    Partial,
    Failed,
    Skipped,
    #[serde(rename = "dry-run")]
    DryRun,
}

impl RunResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Sent => "sent",
            RunResult::Partial => "partial",
            RunResult::Failed => "failed",
            RunResult::Skipped => "skipped",
            RunResult::DryRun => "dry-run",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunReport {
    pub result: RunResult,
    pub status: &'static str,
    pub title: String,
    pub duration_ms: u64,
    pub channels: Vec<ChannelReport>,
    /// Run-wide warnings (no channel configured, ...); channel warnings sit on the channel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Under `--notify-when changes`: `first-failure`, `still-failing`, `recovered`, `steady`
    /// or `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<&'static str>,
    /// Under `--notify-when changes`: the previous run's page, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_run_url: Option<String>,
    /// Under `--escalate`: what the escalation did, and whether it was acknowledged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation: Option<EscalationReport>,
    /// Who was reached by a call or a text ([`pages`]), in the order the pages went out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageRecord>,
    /// For a failure: whether every call and text reached its people (docs/noise-control.md, "Paged means a
    /// person was reached"); absent when no call or text went out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paged: Option<bool>,
}

impl RunReport {
    pub fn new(status: &'static str, title: String, channels: Vec<ChannelReport>, dry_run: bool) -> RunReport {
        let count = |r| channels.iter().filter(|c| c.result == r).count();
        let (sent, failed) = (count(ChannelResult::Sent), count(ChannelResult::Failed));
        let result = match (dry_run, sent, failed) {
            (true, _, _) => RunResult::DryRun,
            (_, 0, 0) => RunResult::Skipped,
            (_, _, 0) => RunResult::Sent,
            (_, 0, _) => RunResult::Failed,
            _ => RunResult::Partial,
        };
        RunReport {
            result,
            status,
            title,
            duration_ms: 0,
            channels,
            warnings: Vec::new(),
            edge: None,
            previous_run_url: None,
            escalation: None,
            pages: Vec::new(),
            paged: None,
        }
    }

    /// Applies the redactor to every value that came from outside onfail (provider answers,
    /// user text, URLs, ids) and to nothing of onfail's own (channel names, result words, JSON
    /// keys), so a secret that happens to be `sent` or `null` cannot rewrite the result or break
    /// the JSON. What is rendered from the report afterwards needs no sweep.
    pub fn redact(&mut self, redactor: &Redactor) {
        self.title = redactor.apply(&self.title);
        if let Some(url) = &mut self.previous_run_url {
            *url = redactor.apply(url);
        }
        for warning in &mut self.warnings {
            *warning = redactor.apply(warning);
        }
        for channel in &mut self.channels {
            channel.redact(redactor);
        }
        for escalation in self.escalation.iter_mut() {
            for recipient in &mut escalation.recipients {
                recipient.recipient = redactor.apply(&recipient.recipient);
            }
            if let Some(url) = &mut escalation.superseded_by {
                *url = redactor.apply(url);
            }
        }
    }

    /// Whether an escalation was acknowledged (docs/escalation.md, "Escalation").
    pub fn acknowledged(&self) -> bool {
        self.escalation.as_ref().is_some_and(|e| e.acknowledged)
    }

    /// Whether a newer run of the same workflow and branch cancelled this one (docs/escalation.md, "Escalation").
    pub fn superseded(&self) -> bool {
        self.escalation.as_ref().is_some_and(|e| e.superseded)
    }

    pub fn any_failed(&self) -> bool {
        self.channels.iter().any(|c| c.result == ChannelResult::Failed)
    }

    /// Channel names with the given result, comma-joined, each once (for the action's outputs;
    /// an escalation sends the same channel at several levels).
    pub fn names(&self, result: ChannelResult) -> String {
        let mut names: Vec<&str> = Vec::new();
        for channel in self.channels.iter().filter(|c| c.result == result) {
            if !names.contains(&channel.channel) {
                names.push(channel.channel);
            }
        }
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_run_url_is_redacted_like_every_value_from_outside() {
        let mut redactor = Redactor::new();
        redactor.secret("s3cr3t-token-value");
        let mut report = RunReport::new("failure", "deploy".into(), Vec::new(), false);
        report.edge = Some("still-failing");
        report.previous_run_url = Some("https://example.test/runs/1?t=s3cr3t-token-value".into());
        report.redact(&redactor);
        let url = report.previous_run_url.unwrap();
        assert!(!url.contains("s3cr3t-token-value"), "{url}");
        assert_eq!(report.edge, Some("still-failing"));
    }
}
