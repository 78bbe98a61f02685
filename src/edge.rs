//! Noise control across runs (docs/noise-control.md, "Page once per incident"): from this alert's status and
//! what the same alert did last time, the *edge*, and what each kind of channel does about it.
//! Pure: the history itself is looked up by [`crate::history`].

use std::fmt;

use crate::status::{NotifyOn, Status};

/// `--notify-when`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotifyWhen {
    /// Every alert goes out as its status and `--notify-on` say.
    #[default]
    Always,
    /// Page on the first failure, say "recovered" on the first success after one.
    Changes,
}

/// What the same alert (the same alert id) did last time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Previous {
    Succeeded,
    /// Failed; `since` names where the failing streak began, as far as known ("run #41").
    Failed {
        since: String,
    },
    /// Failed, but its page did not reach everyone (docs/noise-control.md, "Paged means a person was reached"):
    /// a failure now pages again, a success now is a recovery.
    Unpaged {
        since: String,
    },
    /// There is no earlier run at all.
    Nothing,
    /// The history could not be learnt (no token, no permission, timeout, a corrupt state file).
    Unknown,
}

/// The `edge` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// A failure after a success, or with no earlier run at all.
    FirstFailure,
    StillFailing,
    Recovered,
    /// Nothing changed: a success after a success, or a cancelled or skipped run.
    Steady,
    /// The history could not be learnt.
    Unknown,
}

impl Edge {
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::FirstFailure => "first-failure",
            Edge::StillFailing => "still-failing",
            Edge::Recovered => "recovered",
            Edge::Steady => "steady",
            Edge::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The edge for this status after `previous`.
pub fn edge(status: Status, previous: &Previous) -> Edge {
    match (status, previous) {
        (Status::Cancelled | Status::Skipped, _) => Edge::Steady,
        (_, Previous::Unknown) => Edge::Unknown,
        (Status::Failure, Previous::Failed { .. }) => Edge::StillFailing,
        (Status::Failure, Previous::Succeeded | Previous::Nothing | Previous::Unpaged { .. }) => Edge::FirstFailure,
        (Status::Success, Previous::Failed { .. } | Previous::Unpaged { .. }) => Edge::Recovered,
        (Status::Success, Previous::Succeeded | Previous::Nothing) => Edge::Steady,
    }
}

/// The part a channel plays in the decision table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Voice: rings a phone, so it rings only for a new incident.
    Call,
    /// SMS: the page on a first failure, the short "recovered" text at the end.
    Text,
    /// The webhook: hears every failure, and the "recovered" text.
    Webhook,
}

/// What a channel does for this alert under `--notify-when changes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// As under `always`: its usual text, if `--notify-on` lets the status through.
    Usual,
    /// The short "recovered" text, whatever `--notify-on` says.
    Recovered,
    /// Nothing.
    Silent,
}

/// The decision table (docs/noise-control.md, "Page once per incident"). Incident channels are not in it:
/// they open on every failure and resolve on every success (their platforms deduplicate).
pub fn action(role: Role, status: Status, edge: Edge) -> Action {
    match (status, edge, role) {
        (Status::Cancelled | Status::Skipped, _, _) => Action::Silent,
        (Status::Failure, Edge::StillFailing, Role::Call | Role::Text) => Action::Silent,
        (Status::Failure, _, _) => Action::Usual,
        (Status::Success, Edge::Recovered, Role::Text | Role::Webhook) => Action::Recovered,
        (Status::Success, _, _) => Action::Silent,
    }
}

/// The decision as the channels see it, carried on the alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub edge: Edge,
    /// Where the failing streak began ("run #41"), when the edge is still-failing or recovered.
    pub since: Option<String>,
}

impl Decision {
    pub fn new(status: Status, previous: &Previous) -> Decision {
        let since = match previous {
            Previous::Failed { since } | Previous::Unpaged { since } if !since.is_empty() => Some(since.clone()),
            _ => None,
        };
        Decision { edge: edge(status, previous), since }
    }

    pub fn action(&self, role: Role, status: Status) -> Action {
        action(role, status, self.edge)
    }

    /// Why a channel in `role` stays silent, or `None` when it speaks (`--notify-on` is the
    /// channel's own business on the usual path).
    pub fn silence(&self, role: Role, status: Status) -> Option<String> {
        if self.action(role, status) != Action::Silent {
            return None;
        }
        let since = self.since.as_deref().map(|s| format!(" since {s}")).unwrap_or_default();
        Some(match (status, self.edge, role) {
            (Status::Cancelled | Status::Skipped, _, _) => {
                format!("status {status}: a {status} run changes nothing (--notify-when changes)")
            }
            (Status::Failure, _, _) => format!(
                "still failing{since}: the first failure already paged; calls and SMS stay silent until it recovers \
                 (--notify-when changes)"
            ),
            (_, Edge::Recovered, _) => {
                let since = self.since.as_deref().map(|s| format!(" after failing since {s}")).unwrap_or_default();
                format!("recovered{since}: a recovery is never a call (--notify-when changes)")
            }
            (_, Edge::Unknown, _) => {
                "the previous result is unknown: a success only resolves incidents (--notify-when changes)".into()
            }
            _ => "nothing changed: the previous run did not fail (--notify-when changes)".into(),
        })
    }

    /// Whether channels in `role` send the short "recovered" text instead of their usual one.
    pub fn recovered(&self, role: Role, status: Status) -> bool {
        self.action(role, status) == Action::Recovered
    }
}

/// Why a voice, SMS or webhook channel does nothing for this alert: the edge first (under
/// `--notify-when changes`), then `--notify-on`. A recovery notice passes `--notify-on`.
pub fn skip_reason(decision: Option<&Decision>, role: Role, status: Status, notify_on: &NotifyOn) -> Option<String> {
    if let Some(decision) = decision {
        if let Some(why) = decision.silence(role, status) {
            return Some(why);
        }
        if decision.recovered(role, status) {
            return None;
        }
    }
    (!notify_on.contains(status)).then(|| format!("status {status} is not in --notify-on ({})", notify_on.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Previous {
        Previous::Failed { since: "run #41".into() }
    }

    #[test]
    fn the_edge_follows_the_table() {
        use Edge::*;
        use Status::*;
        let table = [
            (Failure, Previous::Succeeded, FirstFailure),
            (Failure, Previous::Nothing, FirstFailure),
            (Failure, failed(), StillFailing),
            (Failure, Previous::Unknown, Unknown),
            (Success, Previous::Succeeded, Steady),
            (Success, Previous::Nothing, Steady),
            (Success, failed(), Recovered),
            (Success, Previous::Unknown, Unknown),
            (Cancelled, failed(), Steady),
            (Cancelled, Previous::Unknown, Steady),
            (Skipped, Previous::Succeeded, Steady),
        ];
        for (status, previous, want) in table {
            assert_eq!(edge(status, &previous), want, "{status} after {previous:?}");
        }
    }

    #[test]
    fn each_channel_acts_as_the_table_says() {
        use Action::*;
        use Role::*;
        use Status::*;
        // (status, previous) → (call, text, webhook)
        let table = [
            (Failure, Previous::Succeeded, [Usual, Usual, Usual]),
            (Failure, Previous::Nothing, [Usual, Usual, Usual]),
            (Failure, failed(), [Silent, Silent, Usual]),
            (Failure, Previous::Unknown, [Usual, Usual, Usual]),
            (Success, Previous::Succeeded, [Silent, Silent, Silent]),
            (Success, failed(), [Silent, Recovered, Recovered]),
            (Success, Previous::Unknown, [Silent, Silent, Silent]),
            (Cancelled, failed(), [Silent, Silent, Silent]),
            (Cancelled, Previous::Succeeded, [Silent, Silent, Silent]),
            (Skipped, Previous::Unknown, [Silent, Silent, Silent]),
        ];
        for (status, previous, want) in table {
            let decision = Decision::new(status, &previous);
            let got = [Call, Text, Webhook].map(|role| decision.action(role, status));
            assert_eq!(got, want, "{status} after {previous:?}");
        }
    }

    #[test]
    fn silence_says_why_and_since_when() {
        let decision = Decision::new(Status::Failure, &failed());
        let why = decision.silence(Role::Call, Status::Failure).unwrap();
        assert!(why.starts_with("still failing since run #41"), "{why}");
        assert_eq!(decision.silence(Role::Webhook, Status::Failure), None);
        let recovered = Decision::new(Status::Success, &failed());
        let why = recovered.silence(Role::Call, Status::Success).unwrap();
        assert!(why.starts_with("recovered after failing since run #41: a recovery is never a call"), "{why}");
    }

    #[test]
    fn a_recovery_passes_notify_on_and_a_usual_alert_does_not() {
        let only_failure = NotifyOn::default();
        let recovered = Decision::new(Status::Success, &failed());
        assert_eq!(skip_reason(Some(&recovered), Role::Text, Status::Success, &only_failure), None);
        assert_eq!(skip_reason(Some(&recovered), Role::Webhook, Status::Success, &only_failure), None);
        assert!(skip_reason(Some(&recovered), Role::Call, Status::Success, &only_failure).is_some());
        let first = Decision::new(Status::Failure, &Previous::Succeeded);
        let success_only: NotifyOn = "success".parse().unwrap();
        let why = skip_reason(Some(&first), Role::Call, Status::Failure, &success_only).unwrap();
        assert!(why.contains("--notify-on"), "{why}");
        // --notify-when always: --notify-on alone.
        assert_eq!(skip_reason(None, Role::Call, Status::Failure, &only_failure), None);
        assert!(skip_reason(None, Role::Text, Status::Success, &only_failure).is_some());
    }
}
