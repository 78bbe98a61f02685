//! Watched GitHub workflows (docs/serve-checks.md, "Watching a scheduled GitHub workflow"): a
//! scheduled workflow that GitHub disabled, whose scheduled run did not start, or whose file is
//! broken (`startup_failure`: no step runs, so no failure step can page) pages anyway. `config`
//! reads the `[[watch]]` tables; `github` asks the REST API (blocking, conditional requests);
//! `poller` looks every `poll` and pages through the store's claim; `texts` says what happened
//! and what to do. [`judge`] is pure: the clock is an argument and everything else comes from
//! what the API said, so every replica and every restart names an incident the same way.

pub mod config;
pub mod file;
pub mod github;
pub mod poller;
pub mod shown;
pub mod texts;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::checks::Schedule;

/// One `[[watch]]` of the config file.
#[derive(Clone, Debug)]
pub struct Watch {
    /// `OWNER/NAME`.
    pub repository: String,
    /// The workflow's file name (`nightly.yml`) or numeric id.
    pub workflow: String,
    /// `None`: read from the workflow file's `on.schedule`.
    pub schedule: Option<Schedule>,
    /// How late a scheduled run may start after its due time.
    pub grace: Duration,
    /// How often the API is looked at.
    pub poll: Duration,
    /// The channel options this watch sets for itself (`send`'s long option names).
    pub overrides: BTreeMap<String, String>,
}

impl Watch {
    /// Its row in the store.
    pub fn key(&self) -> String {
        format!("{}:{}", self.repository, self.workflow)
    }

    /// Its incidents' name in the store: no check's name holds a `:`.
    pub fn incident_name(&self) -> String {
        format!("watch:{}", self.key())
    }

    /// How errors and the log name it.
    pub fn label(&self) -> String {
        format!("watch \"{} {}\"", self.repository, self.workflow)
    }
}

/// A scheduled run, as the API listed it; times in milliseconds since 1970.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSeen {
    pub id: u64,
    pub number: u64,
    pub created_at: i64,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    pub conclusion: Option<String>,
    pub html_url: String,
}

/// GitHub's `2026-12-03T03:00:12Z`, in milliseconds since 1970.
fn millis(text: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339_weak(text.trim()).ok()?;
    at.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

// Read from and written as `serde_json::Value`s of the API's own shape rather than derived: the
// store keeps what the API said in the same form, and the binary carries no code for it twice
// (docs/benchmarks.md, "Benchmarks": its size).
impl RunSeen {
    /// A run of the API's `workflow_runs`.
    fn from_json(run: &Value) -> Option<RunSeen> {
        Some(RunSeen {
            id: run["id"].as_u64()?,
            number: run["run_number"].as_u64().unwrap_or_default(),
            created_at: millis(run["created_at"].as_str()?)?,
            status: text(&run["status"]),
            conclusion: run["conclusion"].as_str().map(str::to_string),
            html_url: text(&run["html_url"]),
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "run_number": self.number,
            "created_at": super::api::rfc3339(self.created_at),
            "status": self.status,
            "conclusion": self.conclusion,
            "html_url": self.html_url,
        })
    }

    fn completed(&self) -> bool {
        self.status == "completed"
    }

    fn broken(&self) -> bool {
        self.completed() && self.conclusion.as_deref() == Some("startup_failure")
    }
}

/// What one successful look at the API saw (kept in the store as JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The workflow's `name` (what people call it) and `path` (its file).
    pub name: String,
    pub path: String,
    /// `active`, `disabled_inactivity`, `disabled_manually`, `disabled_fork`, `deleted`.
    pub state: String,
    /// The workflow's `updated_at`: when it was disabled, for a disabled one.
    pub updated_at: Option<i64>,
    pub html_url: String,
    /// The newest scheduled run.
    pub latest: Option<RunSeen>,
    /// The newest completed scheduled run that ran (any conclusion but `startup_failure`).
    pub latest_ran: Option<RunSeen>,
    /// The `on.schedule` cron lines of the file, when it was read; `schedule_problem` when it
    /// could not be.
    pub crons: Option<Vec<String>>,
    pub schedule_problem: Option<String>,
}

impl Observation {
    /// From the API's workflow and its scheduled runs; `None` when the workflow has no `state`.
    pub fn from_api(workflow: &Value, runs: &[Value]) -> Option<Observation> {
        let mut runs: Vec<RunSeen> = runs.iter().filter_map(RunSeen::from_json).collect();
        runs.sort_by_key(|run| std::cmp::Reverse((run.created_at, run.id)));
        Some(Observation {
            name: text(&workflow["name"]),
            path: text(&workflow["path"]),
            state: workflow["state"].as_str()?.to_string(),
            updated_at: workflow["updated_at"].as_str().and_then(millis),
            html_url: text(&workflow["html_url"]),
            latest: runs.first().cloned(),
            latest_ran: runs.iter().find(|run| run.completed() && !run.broken()).cloned(),
            crons: None,
            schedule_problem: None,
        })
    }

    /// As the store keeps it: the API's shapes, with only the runs that matter.
    pub fn to_json(&self) -> Value {
        let mut runs: Vec<Value> = self.latest.iter().map(RunSeen::to_json).collect();
        if self.latest_ran != self.latest {
            runs.extend(self.latest_ran.iter().map(RunSeen::to_json));
        }
        json!({
            "workflow": {
                "name": self.name,
                "path": self.path,
                "state": self.state,
                "updated_at": self.updated_at.map(super::api::rfc3339),
                "html_url": self.html_url,
            },
            "workflow_runs": runs,
            "crons": self.crons,
            "schedule_problem": self.schedule_problem,
        })
    }

    pub fn from_json(kept: &Value) -> Option<Observation> {
        let mut seen = Observation::from_api(&kept["workflow"], kept["workflow_runs"].as_array()?)?;
        seen.crons = kept["crons"].as_array().map(|lines| lines.iter().map(text).collect());
        seen.schedule_problem = kept["schedule_problem"].as_str().map(str::to_string);
        Some(seen)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// The workflow's state is not `active`.
    Disabled { state: String },
    /// No scheduled run was created between a due time and due + grace.
    Late { due: i64 },
    /// The newest scheduled run ended `startup_failure`.
    Broken { run: RunSeen },
}

impl Why {
    pub fn name(&self) -> &'static str {
        match self {
            Why::Disabled { .. } => "disabled",
            Why::Late { .. } => "late",
            Why::Broken { .. } => "startup failure",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    Up,
    /// The newest scheduled run has not completed yet.
    Running,
    Down(Why),
}

impl Health {
    pub fn name(&self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Running => "running",
            Health::Down(_) => "down",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub health: Health,
    /// The next time a scheduled run is due (`None`: no schedule known).
    pub next_due: Option<i64>,
    /// The incident a down watch is in, the same on every replica: when it was disabled, the
    /// due time missed, or the broken run's creation.
    pub since: i64,
    /// Incidents that began before this were ended by a scheduled run that completed.
    pub recovered_before: Option<i64>,
}

/// The schedule: the configured one, else the file's cron lines (UTC, as GitHub reads them);
/// `None` when neither is known. A line that does not parse is left out (and said on the page).
pub fn schedules(watch: &Watch, seen: &Observation) -> Option<Vec<Schedule>> {
    if let Some(schedule) = &watch.schedule {
        return Some(vec![schedule.clone()]);
    }
    let lines = seen.crons.as_ref()?;
    let parsed: Vec<Schedule> = lines.iter().filter_map(|line| cron_schedule(line)).collect();
    (!parsed.is_empty()).then_some(parsed)
}

/// One cron line of a workflow file, read as GitHub does (5 fields, UTC).
pub fn cron_schedule(line: &str) -> Option<Schedule> {
    crate::serve::checks::config::schedule_of("on.schedule", line, jiff::tz::TimeZone::UTC).ok()
}

/// The earliest due time after `after_ms` of several cron lines.
pub fn next_due(schedules: &[Schedule], after_ms: i64) -> Option<i64> {
    schedules.iter().filter_map(|s| s.next_after(after_ms)).min()
}

/// Judges `watch` at `now` from the last look at the API and when the service first knew it.
pub fn judge(watch: &Watch, first_seen_at: i64, seen: &Observation, now: i64) -> Judgement {
    // A fresh start pages nobody: the first due time is after the service first knew the watch.
    // Nor does a workflow just enabled again (or whose file changed): GitHub moves its
    // `updated_at`, and the next due time comes after it.
    let base = [Some(first_seen_at), seen.latest.as_ref().map(|run| run.created_at), seen.updated_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(first_seen_at);
    let next_due = schedules(watch, seen).and_then(|schedules| next_due(&schedules, base));
    let recovered_before = seen.latest_ran.as_ref().map(|run| run.created_at);
    let late = next_due.filter(|due| now > due.saturating_add(watch.grace.as_millis() as i64));
    let (health, since) = if seen.state != "active" {
        let since = seen.updated_at.unwrap_or(first_seen_at);
        (Health::Down(Why::Disabled { state: seen.state.clone() }), since)
    } else if let Some(run) = seen.latest.as_ref().filter(|run| run.broken()) {
        (Health::Down(Why::Broken { run: run.clone() }), run.created_at)
    } else if let Some(due) = late {
        (Health::Down(Why::Late { due }), due)
    } else if seen.latest.as_ref().is_some_and(|run| !run.completed()) {
        (Health::Running, base)
    } else {
        (Health::Up, base)
    };
    Judgement { health, next_due, since, recovered_before }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    fn watch(schedule: Option<&str>) -> Watch {
        Watch {
            repository: "acme/api".into(),
            workflow: "nightly.yml".into(),
            schedule: schedule
                .map(|s| crate::serve::checks::config::schedule_of("schedule", s, jiff::tz::TimeZone::UTC).unwrap()),
            grace: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            overrides: BTreeMap::new(),
        }
    }

    fn run(id: u64, created_at: i64, status: &str, conclusion: Option<&str>) -> RunSeen {
        RunSeen {
            id,
            number: id,
            created_at,
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
            html_url: format!("https://github.com/acme/api/actions/runs/{id}"),
        }
    }

    fn active() -> Observation {
        Observation { state: "active".into(), ..Observation::default() }
    }

    #[test]
    fn a_fresh_watch_is_due_after_its_first_sight_and_late_after_the_grace() {
        let w = watch(Some("every 60s"));
        assert_eq!(judge(&w, 0, &active(), 69 * S).health, Health::Up);
        let late = judge(&w, 0, &active(), 71 * S);
        assert_eq!((late.health, late.since), (Health::Down(Why::Late { due: 60 * S }), 60 * S));
        // An old run does not make a fresh start page.
        let old = Observation { latest: Some(run(1, -900 * S, "completed", Some("success"))), ..active() };
        assert_eq!(judge(&w, 0, &old, 69 * S).health, Health::Up);
        // Enabled again at 500s after a long pause: due 60s after that, not at once.
        let enabled = Observation { updated_at: Some(500 * S), ..old };
        assert_eq!(judge(&w, 0, &enabled, 569 * S).health, Health::Up);
        assert_eq!(judge(&w, 0, &enabled, 571 * S).health, Health::Down(Why::Late { due: 560 * S }));
    }

    #[test]
    fn a_created_run_counts_as_started_and_a_completed_one_ends_incidents_before_it() {
        let w = watch(Some("every 60s"));
        let seen = Observation { latest: Some(run(2, 65 * S, "queued", None)), ..active() };
        let judged = judge(&w, 0, &seen, 80 * S);
        assert_eq!((judged.health, judged.next_due), (Health::Running, Some(125 * S)));
        let done = run(2, 65 * S, "completed", Some("failure"));
        let seen = Observation { latest: Some(done.clone()), latest_ran: Some(done), ..active() };
        assert_eq!(judge(&w, 0, &seen, 80 * S).recovered_before, Some(65 * S));
    }

    #[test]
    fn disabled_and_broken_come_before_late() {
        let w = watch(Some("every 60s"));
        let disabled =
            Observation { state: "disabled_inactivity".into(), updated_at: Some(7 * S), ..Observation::default() };
        let judged = judge(&w, 0, &disabled, 500 * S);
        assert_eq!(judged.health, Health::Down(Why::Disabled { state: "disabled_inactivity".into() }));
        assert_eq!(judged.since, 7 * S);
        let broken = run(3, 30 * S, "completed", Some("startup_failure"));
        let seen = Observation { latest: Some(broken.clone()), ..active() };
        let judged = judge(&w, 0, &seen, 500 * S);
        assert_eq!((judged.health, judged.since), (Health::Down(Why::Broken { run: broken }), 30 * S));
    }

    #[test]
    fn what_the_store_keeps_reads_back_the_same() {
        let ran = run(4, 1_767_225_600_000, "completed", Some("success"));
        let seen = Observation {
            name: "Nightly".into(),
            path: ".github/workflows/nightly.yml".into(),
            updated_at: Some(1_767_225_000_000),
            latest: Some(run(5, 1_767_225_700_000, "queued", None)),
            latest_ran: Some(ran),
            crons: Some(vec!["0 3 * * *".into()]),
            ..active()
        };
        assert_eq!(Observation::from_json(&seen.to_json()), Some(seen));
        assert_eq!(Observation::from_json(&active().to_json()), Some(active()));
    }

    #[test]
    fn the_file_s_cron_lines_are_utc_and_the_earliest_is_due() {
        let w = watch(None);
        let seen = Observation { crons: Some(vec!["0 3 * * *".into(), "30 1 * * *".into(), "bad".into()]), ..active() };
        // 2026-01-01T00:00:00Z: 01:30 comes before 03:00.
        let midnight = 1_767_225_600_000;
        assert_eq!(judge(&w, midnight, &seen, midnight).next_due, Some(midnight + 5400 * S));
        assert_eq!(
            judge(&w, midnight, &active(), midnight + 999_999 * S).health,
            Health::Up,
            "no schedule: never late"
        );
    }
}
