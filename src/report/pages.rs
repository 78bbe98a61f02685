//! Who was reached (docs/noise-control.md, "Paged means a person was reached"): one record per person per
//! channel per page — the normalised number (shown masked), the channel, delivered / failed /
//! unknown, and when. The escalation, the run history, the report, the outputs and the JSON all
//! read these records, so "paged" is decided per person and channel, never per request.

use std::time::SystemTime;

use serde::{Serialize, Serializer};

use super::{ChannelReport, ChannelResult, Stage};
use crate::phone::Phone;
use crate::transport::{ABANDONED, UNANSWERED};

/// Whether one person was reached by one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// The provider took it for this person: a call queued, an SMS accepted or reported
    /// delivered (Alertalk cannot tell whether a call was answered).
    Delivered,
    /// It did not go out, or the delivery report says it was not delivered.
    Failed,
    /// Sent, but whether it arrived is not known: a delivery report still pending, a request
    /// abandoned in flight after a stop request, a call that got no answer (never sent twice).
    Unknown,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Delivered => "delivered",
            Reach::Failed => "failed",
            Reach::Unknown => "unknown",
        }
    }
}

/// One person paged by one channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PageRecord {
    /// Who: the normalised number. Only its mask is ever shown or serialised.
    #[serde(rename = "recipient", serialize_with = "masked")]
    pub phone: Phone,
    /// `voice` or `sms`.
    pub channel: &'static str,
    pub result: Reach,
    #[serde(serialize_with = "rfc3339")]
    pub at: SystemTime,
    /// Under `--escalate`: the round and level of the page.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
}

impl PageRecord {
    pub fn masked(&self) -> String {
        self.phone.masked()
    }
}

fn masked<S: Serializer>(phone: &Phone, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&phone.masked())
}

fn rfc3339<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&humantime::format_rfc3339_millis(*at).to_string())
}

/// The records of one channel's delivery to `phones`: the delivery report's state per number
/// where it was read (in the order of `phones`), else the channel's result for every number. A
/// skipped channel paged nobody and has no record.
pub fn records(report: &ChannelReport, phones: &[Phone], stage: Option<Stage>) -> Vec<PageRecord> {
    let at = SystemTime::now();
    let whole = match report.result {
        ChannelResult::Sent => Reach::Delivered,
        // Given up on after a stop request, or sent and unanswered: it may have arrived.
        ChannelResult::Failed if [ABANDONED, UNANSWERED].iter().any(|p| report.detail.starts_with(p)) => Reach::Unknown,
        ChannelResult::Failed => Reach::Failed,
        ChannelResult::Skipped | ChannelResult::DryRun => return Vec::new(),
    };
    phones
        .iter()
        .enumerate()
        .map(|(index, phone)| {
            let result = match report.ids.delivery_states.get(index).map(|s| s.state.as_str()) {
                Some("delivered") => Reach::Delivered,
                Some("undelivered") => Reach::Failed,
                Some("pending") => Reach::Unknown,
                _ => whole,
            };
            PageRecord { phone: phone.clone(), channel: report.channel, result, at, stage }
        })
        .collect()
}

/// The records that reached nobody: failed or unknown, and not made up for by a page of a later
/// level or round that reached the same person (`sms-first` calls the number whose
/// SMS was not delivered). Empty means every paging channel reached its people.
pub fn unreached(records: &[PageRecord]) -> Vec<&PageRecord> {
    let order = |r: &PageRecord| r.stage.map(|s| (s.round, s.level));
    let made_up = |r: &PageRecord| {
        records.iter().any(|later| {
            later.phone == r.phone
                && later.result == Reach::Delivered
                && order(later).is_some()
                && order(later) > order(r)
        })
    };
    records.iter().filter(|r| r.result != Reach::Delivered && !made_up(r)).collect()
}

/// "5*******43 by voice (failed), 5*******67 by sms (unknown)".
pub fn describe(records: &[&PageRecord]) -> String {
    let list: Vec<String> =
        records.iter().map(|r| format!("{} by {} ({})", r.masked(), r.channel, r.result.as_str())).collect();
    list.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::parse_list;

    fn record(phone: &Phone, channel: &'static str, result: Reach, level: u32) -> PageRecord {
        PageRecord {
            phone: phone.clone(),
            channel,
            result,
            at: SystemTime::UNIX_EPOCH,
            stage: Some(Stage { round: 1, level }),
        }
    }

    #[test]
    fn a_failed_page_counts_unless_a_later_one_reached_the_same_person() {
        let phones = parse_list("5321234567, 5339876543").unwrap();
        let (a, b) = (&phones[0], &phones[1]);
        let sms_first = [
            record(a, "sms", Reach::Delivered, 1),
            record(b, "sms", Reach::Failed, 1),
            record(b, "voice", Reach::Delivered, 2),
        ];
        assert!(unreached(&sms_first).is_empty());
        let call_failed = [record(a, "voice", Reach::Failed, 1), record(a, "sms", Reach::Delivered, 1)];
        // The text got through, but the call did not: the failure is not paged.
        assert_eq!(describe(&unreached(&call_failed)), "5*******67 by voice (failed)");
        let pending = [record(b, "sms", Reach::Unknown, 1)];
        assert_eq!(unreached(&pending).len(), 1);
    }
}
