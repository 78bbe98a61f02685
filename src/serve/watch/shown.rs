//! The watches as `GET /v1/checks` and the web page show them (docs/serve-checks.md, "Watching a
//! scheduled GitHub workflow"): each judged now from what the store kept of the last look, so
//! every replica shows the same, with the last API warning.

use serde_json::{Value, json};

use super::{Health, Observation, RunSeen, Watch, Why, judge};
use crate::serve::api::{App, now_ms, rfc3339};
use crate::serve::store::StoreError;

/// One watch, judged.
pub struct Shown {
    pub watch: Watch,
    /// `None` before the first successful look.
    pub seen: Option<Observation>,
    pub health: Option<Health>,
    pub next_due: Option<i64>,
    pub observed_at: Option<i64>,
    pub warning: Option<(i64, String)>,
}

impl Shown {
    /// `up`, `running`, `down`, or `unknown` before the first successful look.
    pub fn state(&self) -> &'static str {
        self.health.as_ref().map_or("unknown", Health::name)
    }

    /// Why it is down: `disabled (disabled_inactivity)`, `late`, `startup failure`.
    pub fn why(&self) -> Option<String> {
        match &self.health {
            Some(Health::Down(Why::Disabled { state })) => Some(format!("disabled ({state})")),
            Some(Health::Down(why)) => Some(why.name().to_string()),
            _ => None,
        }
    }

    pub fn last_run(&self) -> Option<&RunSeen> {
        self.seen.as_ref().and_then(|seen| seen.latest.as_ref())
    }

    /// The schedule and where it comes from.
    pub fn schedule(&self) -> String {
        if let Some(schedule) = &self.watch.schedule {
            return schedule.text();
        }
        match &self.seen {
            Some(Observation { crons: Some(lines), .. }) => {
                format!("{} (UTC, from the workflow file)", lines.join(", "))
            }
            Some(Observation { schedule_problem: Some(problem), .. }) => format!("unknown: {problem}"),
            _ => "from the workflow file, not read yet".to_string(),
        }
    }
}

pub async fn shown(app: &App) -> Result<Vec<Shown>, StoreError> {
    let kept = app.store.watches_kept().await?;
    let now = now_ms();
    Ok(app
        .watches
        .iter()
        .map(|watch| {
            let kept =
                kept.iter().find(|(key, _)| *key == watch.key()).map(|(_, kept)| kept.clone()).unwrap_or_default();
            let seen: Option<Observation> = kept
                .observed
                .as_deref()
                .and_then(|json| serde_json::from_str::<Value>(json).ok())
                .and_then(|kept| Observation::from_json(&kept));
            let judged = seen.as_ref().map(|seen| judge(watch, kept.first_seen_at, seen, now));
            Shown {
                watch: watch.clone(),
                health: judged.as_ref().map(|j| j.health.clone()),
                next_due: judged.and_then(|j| j.next_due),
                seen,
                observed_at: kept.observed_at,
                warning: kept.warning_at.zip(kept.warning),
            }
        })
        .collect())
}

/// The JSON of `GET /v1/checks`' `watches`.
pub fn json(shown: &Shown) -> Value {
    let seen = shown.seen.as_ref();
    json!({
        "repository": shown.watch.repository,
        "workflow": shown.watch.workflow,
        "name": seen.map(|s| s.name.clone()),
        "state": shown.state(),
        "why": shown.why(),
        "workflow_state": seen.map(|s| s.state.clone()),
        "schedule": shown.schedule(),
        "grace_seconds": shown.watch.grace.as_secs_f64(),
        "poll_seconds": shown.watch.poll.as_secs_f64(),
        "next_due": shown.next_due.map(rfc3339),
        "last_scheduled_run": shown.last_run().map(|run| json!({
            "id": run.id,
            "run_number": run.number,
            "created_at": rfc3339(run.created_at),
            "status": run.status,
            "conclusion": run.conclusion,
            "html_url": run.html_url,
        })),
        "last_looked": shown.observed_at.map(rfc3339),
        "last_warning": shown.warning.as_ref().map(|(_, text)| text.clone()),
        "last_warning_at": shown.warning.as_ref().map(|(at, _)| rfc3339(*at)),
    })
}
