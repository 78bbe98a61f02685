//! Who the alert reached, and how a stop ended it (docs/noise-control.md, "Paged means a person was
//! reached"): the page records of a send without escalation, whether a failure counts as paged,
//! and what a SIGINT or SIGTERM while alerting was (an acknowledgement, or `superseded`).

use std::time::Duration;

use crate::cli::AlertArgs;
use crate::config::Config;
use crate::context::Env;
use crate::history::github;
use crate::output::Output;
use crate::report::pages::{self, PageRecord};
use crate::report::{ChannelReport, ChannelResult, EscalationEnd, RunReport};

/// The record of who each call and text reached, for a send without escalation: every voice
/// and SMS channel's numbers, by its result and delivery report.
pub(super) fn pages_of(config: &Config, reports: &[ChannelReport]) -> Vec<PageRecord> {
    config
        .channels
        .iter()
        .zip(reports)
        .flat_map(|(channel, report)| pages::records(report, channel.phones(), None))
        .collect()
}

/// Whether this failure counts as paged (docs/noise-control.md, "Paged means a person was reached"): an
/// acknowledgement says someone was reached; else every call and text must have reached its
/// person, or been made up for by a later level; with neither voice nor SMS firing, every
/// channel that fired must have delivered. `None` when nothing fired at all.
pub(super) fn paged(report: &RunReport) -> Option<bool> {
    // Someone answered; a cancel before any page reached nobody, though.
    if report.acknowledged() && !report.pages.is_empty() {
        return Some(true);
    }
    if !report.pages.is_empty() {
        return Some(pages::unreached(&report.pages).is_empty());
    }
    let fired = report.channels.iter().any(|c| matches!(c.result, ChannelResult::Sent | ChannelResult::Failed));
    fired.then(|| !report.any_failed())
}

/// A stop request came while onfail alerted. Under an escalation it is an acknowledgement, or,
/// on GitHub Actions, `superseded` when a newer run of the same workflow and branch cancelled
/// this one: the line says which. Without an escalation it is a warning: the alert was stopped.
pub(super) fn stopped(args: &AlertArgs, env: &Env, report: &mut RunReport, out: &Output) {
    if let Some(escalation) = report.escalation.as_mut().filter(|e| e.acknowledged_by == Some("link")) {
        let at = escalation.acknowledged_at.as_deref().unwrap_or("an unknown time");
        out.line(&format!("escalation: acknowledged by the link in the SMS at {at}: nothing more is sent"));
        return;
    }
    let newer = superseded_by(args, env);
    match (report.escalation.as_mut(), newer) {
        (Some(escalation), Some(run)) => {
            escalation.acknowledged = false;
            escalation.superseded = true;
            escalation.ended = EscalationEnd::Superseded;
            out.line(&format!(
                "escalation: superseded by a newer run of this workflow and branch ({run}), which cancelled this \
                 one: nothing more is sent, and nobody acknowledged"
            ));
            escalation.superseded_by = Some(run);
        }
        (Some(escalation), None) => {
            escalation.acknowledged_by = Some("cancel");
            out.line("escalation: acknowledged (the run was cancelled): nothing more is sent")
        }
        (None, newer) => {
            let why = newer.map(|run| format!(" by a newer run ({run})")).unwrap_or_default();
            report.warnings.push(format!(
                "stopped (SIGINT/SIGTERM{why}) while alerting: no request or retry started after it, and a \
                 request in flight was given {}s to be answered (each channel says how it ended)",
                crate::stop::IN_FLIGHT.as_secs()
            ));
        }
    }
}

/// On GitHub Actions with a token: the newer run of the same workflow and branch that is
/// queued or in progress, which `concurrency: cancel-in-progress` cancels this one for
/// (docs/escalation.md, "Escalation"). Anything unknown is `None`: the cancel is then an acknowledgement.
fn superseded_by(args: &AlertArgs, env: &Env) -> Option<String> {
    if !crate::context::on_github_actions(env) {
        return None;
    }
    let api = github::Api::connect_within(env, args.history.token(), SUPERSEDED_BUDGET).ok()?;
    github::newer_run(&api, env).ok().flatten()
}

/// How long the superseded check may take, after the cancel: within the grace a cancel leaves.
const SUPERSEDED_BUDGET: Duration = Duration::from_millis(1500);
