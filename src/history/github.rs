//! The history on GitHub Actions, from the REST API (docs/noise-control.md, "Page once per incident"): the
//! previous *completed* run of the same workflow, branch and head repository with a lower run
//! number whose conclusion says something about health; earlier attempts of this run first;
//! the same job by its display name when a check run id is known. Everything within
//! [`BUDGET`]; any failure is an error that names the fix, and the caller pages.
//!
//! The common cases cost at most three requests: the job's name, one page of runs, and that
//! run's jobs. The workflow, branch and head repository come from the runner's environment
//! (`GITHUB_WORKFLOW_REF`, `GITHUB_HEAD_REF`, the event payload); only when one is missing is
//! this run itself asked for.

use std::cell::Cell;
use std::io::Read;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::context::Env;
use crate::edge::Previous;
use crate::error::root_cause;
use crate::stop::StopFlag;

/// The whole lookup, every request included, never takes longer than this.
pub const BUDGET: Duration = Duration::from_secs(5);

/// A page of 30 runs or 100 jobs is far below this; a body past it is not what we asked for.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// Runs per page of the list; one page is almost always enough.
const PER_PAGE: usize = 30;

/// Pages of runs looked through before giving up (all cancelled or skipped, say).
const MAX_PAGES: u32 = 3;

/// Jobs per page of a run's jobs list (GitHub's maximum), and pages of it read at most.
const JOBS_PER_PAGE: usize = 100;
const JOB_PAGES: u32 = 3;

/// Requests in all, whatever happens (jobs of many runs that lack this job, say).
const MAX_REQUESTS: u32 = 12;

/// Requests spent at most on where a job's failing streak began, once its last result is known.
const STREAK_REQUESTS: u32 = 2;

/// The event payload of a pull request is small; a push of many commits may be large.
const MAX_EVENT: u64 = 32 * 1024 * 1024;

const PERMISSIONS_FIX: &str = "give the workflow or the job `permissions: actions: read`";

/// The title of the annotation onfail leaves on a job whose failure did not reach everyone it
/// pages (docs/noise-control.md, "Paged means a person was reached"): the next run finds it on the previous
/// job and pages again.
pub const NOT_PAGED: &str = "onfail: not paged";

/// What the lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub previous: Previous,
    /// The previous run's page, when there is one.
    pub url: Option<String>,
    /// What could not be learnt on the way (whether the previous failure was paged).
    pub warnings: Vec<String>,
}

impl Found {
    fn new(previous: Previous, url: Option<String>) -> Found {
        Found { previous, url, warnings: Vec::new() }
    }
}

/// The same alert's previous result. `check_run_id` (`--check-run-id`) makes it the same job's.
pub fn previous(api: &Api, env: &Env, check_run_id: Option<&str>) -> Result<Found, String> {
    let here = Here::from_env(env)?;
    let job = match check_run_id.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) if id.bytes().all(|b| b.is_ascii_digit()) => {
            Some(api.get::<Job>(&format!("/repos/{}/actions/jobs/{id}", here.repo), &[])?.name)
        }
        Some(_) => return Err("--check-run-id is not a number: pass ${{ job.check_run_id }}".into()),
        None => None,
    };
    let lookup = Lookup { api, job: job.as_deref(), seen: Default::default() };
    if let Some(found) = lookup.earlier_attempts(&here)? {
        return Ok(found);
    }
    let here = here.complete(api)?;
    lookup.earlier_runs(&here)
}

/// The newer run of this workflow and branch (and head repository) that is queued or in
/// progress, if there is one: the run whose start cancels this one under `concurrency:
/// cancel-in-progress` (docs/escalation.md, "Escalation"). Its page, or "run #N".
pub fn newer_run(api: &Api, env: &Env) -> Result<Option<String>, String> {
    let here = Here::from_env(env)?.complete(api)?;
    let (Some(number), Some(branch), Some(workflow)) = (here.run_number, &here.branch, &here.workflow) else {
        return Err("this run's number, branch or workflow is unknown".into());
    };
    let path = format!("/repos/{}/actions/workflows/{workflow}/runs", here.repo);
    let query = [("branch", branch.clone()), ("per_page", PER_PAGE.to_string())];
    let list: RunList = api.get(&path, &query)?;
    let newer = list.workflow_runs.into_iter().find(|run| {
        run.run_number > number
            && run.id != here.run_id
            && run.status.as_deref() != Some("completed")
            && run.head_branch.as_deref() == Some(branch.as_str())
            && (here.head_repo.is_none()
                || run.head_repository.as_ref().map(|h| &h.full_name) == here.head_repo.as_ref())
    });
    Ok(newer.map(|run| run.html_url.unwrap_or_else(|| format!("run #{}", run.run_number))))
}

/// This run, as the environment describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Here {
    repo: String,
    run_id: u64,
    attempt: u32,
    run_number: Option<u64>,
    /// The head branch: `GITHUB_HEAD_REF` for a pull request, else `GITHUB_REF_NAME`.
    branch: Option<String>,
    head_repo: Option<String>,
    /// The workflow file name, which the API takes in place of its numeric id.
    workflow: Option<String>,
    /// The event that started this run (`push`, `schedule`, ...): a job that runs on some
    /// events only last ran in a run of this event.
    event: Option<String>,
}

impl Here {
    fn from_env(env: &Env) -> Result<Here, String> {
        let var = |name: &str| crate::context::var(env, name).map(str::to_string);
        let repo = var("GITHUB_REPOSITORY").ok_or("GITHUB_REPOSITORY is not set")?;
        let run_id =
            var("GITHUB_RUN_ID").and_then(|v| v.parse().ok()).ok_or("GITHUB_RUN_ID is not set, or not a number")?;
        let head_ref = var("GITHUB_HEAD_REF");
        let head_repo = match &head_ref {
            Some(_) => var("GITHUB_EVENT_PATH").and_then(|path| pull_request_head_repo(&path)),
            None => Some(repo.clone()),
        };
        Ok(Here {
            attempt: var("GITHUB_RUN_ATTEMPT").and_then(|v| v.parse().ok()).unwrap_or(1),
            run_number: var("GITHUB_RUN_NUMBER").and_then(|v| v.parse().ok()),
            branch: head_ref.or_else(|| var("GITHUB_REF_NAME")),
            head_repo,
            workflow: var("GITHUB_WORKFLOW_REF").and_then(|r| workflow_file(&r)),
            event: var("GITHUB_EVENT_NAME"),
            repo,
            run_id,
        })
    }

    /// Fills in what the environment did not say from this run's own record (one request).
    fn complete(self, api: &Api) -> Result<Here, String> {
        if self.run_number.is_some() && self.branch.is_some() && self.head_repo.is_some() && self.workflow.is_some() {
            return Ok(self);
        }
        let run: Run = api.get(&format!("/repos/{}/actions/runs/{}", self.repo, self.run_id), &[])?;
        Ok(Here {
            run_number: Some(run.run_number),
            branch: run.head_branch.or(self.branch),
            head_repo: run.head_repository.map(|r| r.full_name).or(self.head_repo),
            workflow: run.workflow_id.map(|id| id.to_string()).or(self.workflow),
            ..self
        })
    }
}

/// `octo/api/.github/workflows/ci.yml@refs/heads/main` → `ci.yml`.
fn workflow_file(workflow_ref: &str) -> Option<String> {
    let path = workflow_ref.split('@').next()?;
    let (_, file) = path.rsplit_once("/.github/workflows/")?;
    Some(file.to_string()).filter(|f| !f.is_empty() && !f.contains('/'))
}

/// The head repository of a pull request, from the event payload the runner wrote.
fn pull_request_head_repo(path: &str) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_EVENT).read_to_end(&mut bytes).ok()?;
    let event: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    event.pointer("/pull_request/head/repo/full_name")?.as_str().map(str::to_string)
}

/// What a conclusion says about health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Good,
    Bad,
    /// Cancelled, skipped, neutral, stale, action required, or still running: look further back.
    Silent,
}

fn health(conclusion: Option<&str>) -> Health {
    match conclusion {
        Some("success") => Health::Good,
        Some("failure" | "timed_out" | "startup_failure") => Health::Bad,
        _ => Health::Silent,
    }
}

#[derive(Deserialize)]
struct RunList {
    workflow_runs: Vec<Run>,
}

#[derive(Clone, Deserialize)]
struct Run {
    id: u64,
    run_number: u64,
    status: Option<String>,
    conclusion: Option<String>,
    head_branch: Option<String>,
    head_repository: Option<Repo>,
    html_url: Option<String>,
    workflow_id: Option<u64>,
    #[serde(default)]
    event: Option<String>,
}

/// A check run annotation (`GET /repos/{repo}/check-runs/{id}/annotations`).
#[derive(Deserialize)]
struct Annotation {
    title: Option<String>,
}

#[derive(Clone, Deserialize)]
struct Repo {
    full_name: String,
}

/// A page of a run's jobs (read by [`Api::job_pages`]).
#[derive(Deserialize)]
struct JobList {
    total_count: Option<u64>,
    jobs: Vec<Job>,
}

/// A job of a run: what the lookup here compares by name, and what `crate::details` reads the
/// failed jobs and steps from.
#[derive(Deserialize)]
pub(crate) struct Job {
    /// The job's id, which is also its check run's.
    pub id: Option<u64>,
    pub name: String,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    #[serde(default)]
    pub steps: Option<Vec<Step>>,
}

#[derive(Deserialize)]
pub(crate) struct Step {
    pub name: String,
    pub conclusion: Option<String>,
    pub number: Option<u64>,
}

struct Lookup<'a> {
    api: &'a Api,
    /// The current job's display name, when comparing job with job.
    job: Option<&'a str>,
    /// What the search stepped over, to skip and to report.
    seen: std::cell::RefCell<Seen>,
}

/// Runs the search looked into without finding this job in them.
#[derive(Default)]
struct Seen {
    /// Runs whose jobs were read and did not hold a finished run of this job.
    ids: std::collections::BTreeSet<u64>,
    /// The events of those runs: a job skipped in a `push` run is taken not to run on `push`,
    /// so later `push` runs are stepped over without a request (unless this run is one).
    events: std::collections::BTreeSet<String>,
    /// Runs stepped over for their event, without a request.
    by_event: usize,
}

impl Lookup<'_> {
    /// A re-run first compares with this run's earlier attempts, newest first.
    fn earlier_attempts(&self, here: &Here) -> Result<Option<Found>, String> {
        let base = format!("/repos/{}/actions/runs/{}/attempts", here.repo, here.run_id);
        for attempt in (1..here.attempt).rev() {
            let (health, job_id, url) = match self.job {
                Some(name) => {
                    let (health, job_id) = self.job_health(&format!("{base}/{attempt}/jobs"), name)?;
                    (health, job_id, None)
                }
                None => {
                    let run: Run = self.api.get(&format!("{base}/{attempt}"), &[])?;
                    (health(run.conclusion.as_deref()), None, run.html_url)
                }
            };
            let number = here.run_number.map(|n| format!("run #{n}, ")).unwrap_or_default();
            let since = format!("{number}attempt {attempt}");
            match health {
                Health::Good => return Ok(Some(Found::new(Previous::Succeeded, url))),
                Health::Bad => return Ok(Some(self.failed(here, job_id, since, url))),
                Health::Silent => {}
            }
        }
        Ok(None)
    }

    /// The newest earlier run of the same workflow, branch and head repository that says
    /// something about health (and has this job, when comparing jobs). A job that runs on some
    /// events only (a nightly job in a push and schedule workflow) is skipped in most runs: the
    /// runs of other events are stepped over once it proved absent from one, and when the
    /// pages run out, the runs of this run's event alone are paged through (docs/noise-control.md, "Page once
    /// per incident"). Giving up says which was tried.
    fn earlier_runs(&self, here: &Here) -> Result<Found, String> {
        let (Some(_), Some(_), Some(_)) = (here.run_number, &here.branch, &here.workflow) else {
            return Err("this run's number, branch or workflow is unknown".into());
        };
        let all = self.search(here, None).map_err(|e| self.explained(e, here, false))?;
        match (all, self.job, &here.event) {
            (Search::Found(found), _, _) => Ok(found),
            (Search::End, _, _) => Ok(Found::new(Previous::Nothing, None)),
            // The job was skipped in the runs looked at: look further back among the runs of
            // this run's event, where it runs.
            (Search::OutOfPages, Some(_), Some(event)) if !self.seen.borrow().ids.is_empty() => {
                match self.search(here, Some(event)).map_err(|e| self.explained(e, here, true))? {
                    Search::Found(found) => Ok(found),
                    Search::End => Ok(Found::new(Previous::Nothing, None)),
                    Search::OutOfPages => Err(self.explained(format!("{} runs looked at", runs_looked()), here, true)),
                }
            }
            (Search::OutOfPages, _, _) => Err(format!(
                "none of the last {} runs on this branch says whether it is healthy (all cancelled or skipped)",
                runs_looked()
            )),
        }
    }

    /// Up to [`MAX_PAGES`] pages of the runs on this branch, of `event` only when given.
    fn search(&self, here: &Here, event: Option<&str>) -> Result<Search, String> {
        let (Some(number), Some(branch), Some(workflow)) = (here.run_number, &here.branch, &here.workflow) else {
            return Err("this run's number, branch or workflow is unknown".into());
        };
        let path = format!("/repos/{}/actions/workflows/{workflow}/runs", here.repo);
        for page in 1..=MAX_PAGES {
            let mut query = vec![
                ("branch", branch.clone()),
                ("status", "completed".to_string()),
                ("exclude_pull_requests", "true".to_string()),
                ("per_page", PER_PAGE.to_string()),
                ("page", page.to_string()),
            ];
            if let Some(event) = event {
                query.push(("event", event.to_string()));
            }
            let list: RunList = self.api.get(&path, &query)?;
            let full = list.workflow_runs.len() >= PER_PAGE;
            // The branch filter is fuzzy and the order is not promised: check and sort here.
            let mut runs: Vec<Run> = list
                .workflow_runs
                .into_iter()
                .filter(|r| r.id != here.run_id && r.run_number < number)
                .filter(|r| r.status.as_deref() == Some("completed"))
                .filter(|r| r.head_branch.as_deref() == Some(branch.as_str()))
                .filter(|r| event.is_none() || r.event.as_deref() == event)
                .filter(|r| {
                    here.head_repo.is_none()
                        || r.head_repository.as_ref().map(|h| &h.full_name) == here.head_repo.as_ref()
                })
                .collect();
            runs.sort_by_key(|run| std::cmp::Reverse(run.run_number));
            if let Some(found) = self.first_decisive(&runs, here, !full)? {
                return Ok(Search::Found(found));
            }
            if !full {
                return Ok(Search::End);
            }
        }
        Ok(Search::OutOfPages)
    }

    /// `problem`, and when this job was missing from runs looked at, what was tried: the job may
    /// run on some events only.
    fn explained(&self, problem: String, here: &Here, by_event: bool) -> String {
        let (Some(name), seen) = (self.job, self.seen.borrow()) else { return problem };
        if seen.ids.is_empty() {
            return problem;
        }
        let events: Vec<&str> = seen.events.iter().map(String::as_str).collect();
        let mut text = format!(
            "{problem}: job `{name}` did not run in {} earlier run(s) on this branch (events: {})",
            seen.ids.len(),
            events.join(", ")
        );
        if seen.by_event > 0 {
            text.push_str(&format!(", and {} more of those events were stepped over", seen.by_event));
        }
        if let (true, Some(event)) = (by_event, &here.event) {
            text.push_str(&format!("; the `{event}` runs alone were then looked through, without finding it either"));
        }
        text
    }

    /// The first run of `runs` (newest first) that says something; `ended`: no earlier runs
    /// exist beyond them.
    fn first_decisive(&self, runs: &[Run], here: &Here, ended: bool) -> Result<Option<Found>, String> {
        for (index, run) in runs.iter().enumerate() {
            let (health, job_id) = match (health(run.conclusion.as_deref()), self.job) {
                (Health::Silent, _) => continue,
                (run_health, None) => (run_health, None),
                (_, Some(name)) => match self.job_health_in(run, here, name)? {
                    Some(found) => found,
                    None => continue,
                },
            };
            let url = run.html_url.clone();
            match health {
                Health::Silent => continue,
                Health::Good => return Ok(Some(Found::new(Previous::Succeeded, url))),
                Health::Bad => {
                    let since = match self.job {
                        Some(name) => self.job_streak_start(&runs[index..], here, name),
                        // For a whole run, the rest of the page tells where the streak began.
                        None => streak_start(&runs[index..], ended),
                    };
                    return Ok(Some(self.failed(here, job_id, since, url)));
                }
            }
        }
        Ok(None)
    }

    /// This job's health in `run`, and its id; `None` when it did not run there (then, and for a run of an
    /// event it proved absent from, the run is stepped over).
    fn job_health_in(&self, run: &Run, here: &Here, name: &str) -> Result<Option<(Health, Option<u64>)>, String> {
        // Only when this run's event is known: else no run is of "another" event.
        let other_event = here.event.is_some() && run.event.is_some() && run.event != here.event;
        {
            let mut seen = self.seen.borrow_mut();
            if seen.ids.contains(&run.id) {
                return Ok(None);
            }
            if other_event && run.event.as_ref().is_some_and(|e| seen.events.contains(e)) {
                seen.by_event += 1;
                return Ok(None);
            }
        }
        let (health, job_id) = self.job_health(&format!("/repos/{}/actions/runs/{}/jobs", here.repo, run.id), name)?;
        if health != Health::Silent {
            return Ok(Some((health, job_id)));
        }
        let mut seen = self.seen.borrow_mut();
        seen.ids.insert(run.id);
        if let Some(event) = &run.event {
            seen.events.insert(event.clone());
        }
        Ok(None)
    }

    /// Where this job's failing streak began, from `runs` (newest first; the first one failed):
    /// older runs are asked for this job while requests are left ([`STREAK_REQUESTS`]); when the
    /// answer runs out before a success, the start is "or earlier".
    fn job_streak_start(&self, runs: &[Run], here: &Here, name: &str) -> String {
        let mut start = runs[0].run_number;
        let mut asked = 0;
        for run in &runs[1..] {
            if health(run.conclusion.as_deref()) == Health::Silent {
                continue;
            }
            if asked == STREAK_REQUESTS {
                return format!("run #{start} or earlier");
            }
            asked += 1;
            match self.job_health_in(run, here, name) {
                Ok(Some((Health::Bad, _))) => start = run.run_number,
                Ok(Some(_)) => return format!("run #{start}"),
                Ok(None) => {}
                Err(_) => return format!("run #{start} or earlier"),
            }
        }
        format!("run #{start}")
    }

    /// The health of the job named `name` in a jobs list (`Silent` when the run has no such
    /// job), and its id.
    fn job_health(&self, path: &str, name: &str) -> Result<(Health, Option<u64>), String> {
        let mut found = (Health::Silent, None);
        self.api.job_pages(path, &[], |jobs| match jobs.iter().find(|j| j.name == name) {
            Some(job) => {
                found = (health(job.conclusion.as_deref()), job.id);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        })?;
        Ok(found)
    }

    /// A failed previous job, as paged or not: the job's annotations hold [`NOT_PAGED`] when
    /// its page did not reach everyone. Reading them needs `checks: read`; when they cannot be
    /// read the failure counts as paged, as before, with a warning naming the fix.
    fn failed(&self, here: &Here, job_id: Option<u64>, since: String, url: Option<String>) -> Found {
        let Some(id) = job_id else { return Found::new(Previous::Failed { since }, url) };
        let path = format!("/repos/{}/check-runs/{id}/annotations", here.repo);
        match self.api.get::<Vec<Annotation>>(&path, &[("per_page", "50".to_string())]) {
            Ok(notes) if notes.iter().any(|n| n.title.as_deref() == Some(NOT_PAGED)) => {
                Found::new(Previous::Unpaged { since }, url)
            }
            Ok(_) => Found::new(Previous::Failed { since }, url),
            Err(problem) => Found {
                warnings: vec![format!(
                    "--notify-when changes: whether the previous failure ({since}) reached everyone it pages is \
                     unknown, so it counts as paged: {problem}; give the workflow `permissions: checks: read` too"
                )],
                ..Found::new(Previous::Failed { since }, url)
            },
        }
    }
}

/// Where the failing streak that begins `runs` (newest first) began: its oldest failed run, or
/// "or earlier" when no success ends it within `runs` and earlier runs exist (`ended` false:
/// the page ran out first).
fn streak_start(runs: &[Run], ended: bool) -> String {
    let mut start = runs[0].run_number;
    for run in runs {
        match health(run.conclusion.as_deref()) {
            Health::Bad => start = run.run_number,
            Health::Good => return format!("run #{start}"),
            Health::Silent => {}
        }
    }
    if ended { format!("run #{start}") } else { format!("run #{start} or earlier") }
}

/// Runs of the list looked at before giving up.
fn runs_looked() -> usize {
    PER_PAGE * MAX_PAGES as usize
}

/// How a search through the runs ended.
enum Search {
    Found(Found),
    /// The list ended: there is no earlier run that says something.
    End,
    /// [`MAX_PAGES`] pages and still nothing.
    OutOfPages,
}

/// The REST API: base URL, token, one client, and the budget. One per onfail run: the history
/// lookup and the failure details share it, so together they stay within [`BUDGET`].
pub struct Api {
    client: Client,
    base: String,
    token: String,
    deadline: Instant,
    requests: Cell<u32>,
    /// A stop request (a cancel): no request starts after it.
    stop: StopFlag,
}

impl Api {
    /// The client for `GITHUB_API_URL` with `--github-token`; no token is an error naming the fix.
    pub fn connect(env: &Env, token: Option<&str>) -> Result<Api, String> {
        let token = token.ok_or_else(|| {
            "no GitHub token: pass github-token (the action's default is the workflow's own token) or \
             --github-token / ONFAIL_GITHUB_TOKEN, and "
                .to_string()
                + PERMISSIONS_FIX
        })?;
        Api::new(env, token, BUDGET)
    }

    /// As [`Api::connect`], with its own `budget` for every request together.
    pub fn connect_within(env: &Env, token: Option<&str>, budget: Duration) -> Result<Api, String> {
        Api::connect(env, token).map(|api| Api { deadline: Instant::now() + budget, ..api })
    }

    /// The same client, asking nothing more once `stop` is set (docs/escalation.md, "Escalation").
    pub fn stopping_on(self, stop: StopFlag) -> Api {
        Api { stop, ..self }
    }

    fn new(env: &Env, token: &str, budget: Duration) -> Result<Api, String> {
        let (client, base) = api_client(env)?;
        Ok(Api {
            client,
            base,
            token: token.to_string(),
            deadline: Instant::now() + budget,
            requests: Cell::new(0),
            stop: StopFlag::default(),
        })
    }

    /// A run's jobs list at `path`, page by page (100 jobs each, three pages at most: 300 jobs is
    /// a very large workflow), each page handed to `visit` until it breaks or the list ends.
    pub(crate) fn job_pages(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut visit: impl FnMut(Vec<Job>) -> ControlFlow<()>,
    ) -> Result<(), String> {
        let mut seen = 0;
        for page in 1..=JOB_PAGES {
            let mut page_query = query.to_vec();
            page_query.extend([("per_page", JOBS_PER_PAGE.to_string()), ("page", page.to_string())]);
            let list: JobList = self.get(path, &page_query)?;
            seen += list.jobs.len() as u64;
            let last = list.jobs.len() < JOBS_PER_PAGE || list.total_count.is_some_and(|total| seen >= total);
            if visit(list.jobs).is_break() || last {
                break;
            }
        }
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, String> {
        if self.stop.is_set() {
            return Err("onfail was asked to stop (the run was cancelled)".into());
        }
        let count = self.requests.get() + 1;
        if count > MAX_REQUESTS {
            return Err(format!("no answer after {MAX_REQUESTS} requests to the GitHub API"));
        }
        self.requests.set(count);
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(too_slow());
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|e| format!("bad API path: {e}"))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        // A stop request (a cancel) ends the wait at once: the lookup is not an alert.
        let (client, token) = (self.client.clone(), self.token.clone());
        let body = crate::stop::unless_stopped(&self.stop, Duration::ZERO, move || fetch(&client, url, &token, left))
            .unwrap_or_else(|| Err("onfail was asked to stop (the run was cancelled)".into()))?;
        serde_json::from_slice(&body).map_err(|e| format!("the GitHub API's answer is not the JSON expected ({e})"))
    }
}

/// One GET with the token, within `left`: the body, or why there is none.
/// The client for the REST API at `GITHUB_API_URL` (default `https://api.github.com`), and that
/// base URL without a trailing slash; for the history lookups and the service's watches alike.
pub fn api_client(env: &Env) -> Result<(Client, String), String> {
    let raw = crate::context::var(env, "GITHUB_API_URL").unwrap_or("https://api.github.com");
    let url = crate::values::check_url("GITHUB_API_URL", raw).map_err(|e| e.to_string())?;
    let origin = url.origin();
    // A renamed repository answers with a redirect on the same host; anything else is not
    // followed (the token is never offered to another host).
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() < 3 && attempt.url().origin() == origin { attempt.follow() } else { attempt.stop() }
    });
    // The delivery's client, proxy and trust rules; what cannot be used in them is reported by
    // the delivery itself.
    let (builder, _) = crate::transport::client(env, url.scheme() == "https", policy);
    let client = builder.build().map_err(|e| format!("could not set up the HTTP client: {e}"))?;
    Ok((client, url.as_str().trim_end_matches('/').to_string()))
}

fn fetch(client: &Client, url: reqwest::Url, token: &str, left: Duration) -> Result<Vec<u8>, String> {
    let response = client
        .get(url)
        .timeout(left)
        .bearer_auth(token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .map_err(|e| {
            if e.is_timeout() { too_slow() } else { format!("could not reach the GitHub API: {}", root_cause(&e)) }
        })?;
    let status = response.status().as_u16();
    let rate_limited = response.headers().get("x-ratelimit-remaining").is_some_and(|v| v.as_bytes() == b"0");
    if !(200..300).contains(&status) {
        return Err(refusal(status, rate_limited));
    }
    let mut body = Vec::new();
    response.take(MAX_BODY + 1).read_to_end(&mut body).map_err(|e| {
        if e.to_string().contains("timed out") { too_slow() } else { format!("the GitHub API's answer broke off: {e}") }
    })?;
    if body.len() as u64 > MAX_BODY {
        return Err("the GitHub API's answer is far larger than expected".into());
    }
    Ok(body)
}

fn too_slow() -> String {
    format!("the GitHub API did not answer within {}s", BUDGET.as_secs())
}

/// A non-2xx answer, with the fix.
fn refusal(status: u16, rate_limited: bool) -> String {
    match status {
        429 => "the GitHub API is rate limiting (HTTP 429); it passes within the hour".into(),
        403 if rate_limited => "the GitHub API rate limit is used up (HTTP 403); it resets within the hour".into(),
        401 => "GitHub refused the token (HTTP 401): check github-token / --github-token".into(),
        403 | 404 => {
            format!("the token may not read this repository's Actions runs (HTTP {status}): {PERMISSIONS_FIX}")
        }
        300..=399 => format!("the GitHub API redirected elsewhere (HTTP {status}); check GITHUB_API_URL"),
        _ => format!("the GitHub API answered HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_file_comes_from_the_workflow_ref() {
        assert_eq!(workflow_file("octo/api/.github/workflows/ci.yml@refs/heads/main").as_deref(), Some("ci.yml"));
        assert_eq!(
            workflow_file("octo/api/.github/workflows/deploy.yaml@refs/pull/1/merge").as_deref(),
            Some("deploy.yaml")
        );
        assert_eq!(workflow_file("dynamic/github-code-scanning/codeql"), None);
        assert_eq!(workflow_file(""), None);
    }

    #[test]
    fn conclusions_map_to_health() {
        assert_eq!(health(Some("success")), Health::Good);
        for bad in ["failure", "timed_out", "startup_failure"] {
            assert_eq!(health(Some(bad)), Health::Bad, "{bad}");
        }
        for silent in ["cancelled", "skipped", "neutral", "stale", "action_required"] {
            assert_eq!(health(Some(silent)), Health::Silent, "{silent}");
        }
        assert_eq!(health(None), Health::Silent);
    }

    #[test]
    fn refusals_name_the_fix() {
        assert!(refusal(403, false).contains("actions: read"));
        assert!(refusal(404, false).contains("actions: read"));
        assert!(refusal(403, true).contains("rate limit"));
        assert!(refusal(429, false).contains("rate limiting"));
        assert!(refusal(401, false).contains("github-token"));
    }

    #[test]
    fn a_streak_starts_at_its_oldest_failure() {
        let run = |n, c: &str| Run {
            id: n,
            run_number: n,
            status: Some("completed".into()),
            conclusion: Some(c.into()),
            head_branch: None,
            head_repository: None,
            html_url: None,
            workflow_id: None,
            event: None,
        };
        let runs = [run(9, "failure"), run(8, "cancelled"), run(7, "timed_out"), run(6, "success"), run(5, "failure")];
        assert_eq!(streak_start(&runs, false), "run #7");
        // No success within a full page: the streak may have begun before it.
        assert_eq!(streak_start(&runs[..3], false), "run #7 or earlier");
        assert_eq!(streak_start(&runs[..3], true), "run #7");
    }
}
