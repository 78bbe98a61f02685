//! A fake GitHub REST API on 127.0.0.1: the Actions runs and jobs endpoints onfail reads for
//! `--notify-when changes`, routed by path and query over a scripted list of runs, with the
//! pitfalls of the real one (a fuzzy branch filter, the current run in progress, other branches
//! and forks, re-run attempts, pages, jobs with steps and matrix names) and faults (any status, rate limits, hangs, garbage).

use serde_json::{Value, json};

use super::{Received, Reply, Server};

/// The token the fake accepts; it must never appear in any output.
pub const TOKEN: &str = "ghs_SENTINEL_token_4b1d9e2f";
pub const REPO: &str = "acme/api";
/// The workflow file, as `GITHUB_WORKFLOW_REF` names it.
pub const WORKFLOW_FILE: &str = "deploy.yml";
/// The numeric workflow id, as the run record gives it.
pub const WORKFLOW_ID: u64 = 161335;
/// The current run (matches `common::github_env`).
pub const RUN_ID: u64 = 4242;
pub const RUN_NUMBER: u64 = 17;

pub type Jobs = Vec<(&'static str, Option<&'static str>)>;

/// Steps of a job: name and conclusion, in order (numbered from 1).
pub type Steps = Vec<(&'static str, &'static str)>;

#[derive(Clone, Debug)]
pub struct FakeRun {
    pub id: u64,
    pub number: u64,
    pub status: &'static str,
    pub conclusion: Option<&'static str>,
    pub branch: &'static str,
    pub head_repo: &'static str,
    /// The event that started it: `push` unless [`FakeRun::by`] says otherwise.
    pub event: &'static str,
    /// The jobs of the latest attempt: display name and conclusion.
    pub jobs: Jobs,
    /// Earlier attempts, oldest first: conclusion and jobs.
    pub attempts: Vec<(Option<&'static str>, Jobs)>,
    /// The steps of the latest attempt's jobs, by job name (a job not listed has none).
    pub steps: Vec<(&'static str, Steps)>,
}

impl FakeRun {
    /// A completed run on main of acme/api.
    pub fn done(number: u64, conclusion: &'static str) -> FakeRun {
        FakeRun {
            id: 1000 + number,
            number,
            status: "completed",
            conclusion: Some(conclusion),
            branch: "main",
            head_repo: REPO,
            event: "push",
            jobs: Vec::new(),
            attempts: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// The current run, in progress.
    pub fn current() -> FakeRun {
        FakeRun { id: RUN_ID, status: "in_progress", conclusion: None, ..FakeRun::done(RUN_NUMBER, "") }
    }

    pub fn on(mut self, branch: &'static str, head_repo: &'static str) -> FakeRun {
        self.branch = branch;
        self.head_repo = head_repo;
        self
    }

    /// Started by `event` (`schedule`, ...).
    pub fn by(mut self, event: &'static str) -> FakeRun {
        self.event = event;
        self
    }

    pub fn job(mut self, name: &'static str, conclusion: &'static str) -> FakeRun {
        self.jobs.push((name, Some(conclusion)));
        self
    }

    /// A job still running (the notify job itself): no conclusion yet.
    pub fn running(mut self, name: &'static str) -> FakeRun {
        self.jobs.push((name, None));
        self
    }

    /// `job` (added with [`FakeRun::job`]) ran these steps.
    pub fn steps(mut self, job: &'static str, steps: Steps) -> FakeRun {
        self.steps.push((job, steps));
        self
    }

    /// The check run id the fake gives the `index`th job of the latest attempt.
    pub fn job_id(&self, index: usize) -> u64 {
        self.id * 100 + index as u64
    }

    pub fn attempt(mut self, conclusion: &'static str, jobs: Jobs) -> FakeRun {
        self.attempts.push((Some(conclusion), jobs));
        self
    }

    fn json(&self, attempt: usize, conclusion: Option<&str>) -> Value {
        json!({
            "id": self.id,
            "name": "Deploy",
            "run_number": self.number,
            "run_attempt": attempt,
            "event": self.event,
            "status": self.status,
            "conclusion": conclusion,
            "head_branch": self.branch,
            "head_sha": "0123456789abcdef0123456789abcdef01234567",
            "workflow_id": WORKFLOW_ID,
            "path": ".github/workflows/deploy.yml@refs/heads/main",
            "html_url": format!("https://github.com/{REPO}/actions/runs/{}", self.id),
            "head_repository": {"full_name": self.head_repo},
            "repository": {"full_name": REPO},
        })
    }
}

fn jobs_json(jobs: &Jobs, steps: &[(&str, Steps)], run_id: u64, page: usize, per_page: usize) -> Value {
    let shown: Vec<Value> = jobs
        .iter()
        .enumerate()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(i, (name, conclusion))| {
            let id = run_id * 100 + i as u64;
            let status = if conclusion.is_some() { "completed" } else { "in_progress" };
            let ran = steps.iter().find(|(job, _)| job == name).map(|(_, s)| s.as_slice()).unwrap_or_default();
            let steps: Vec<Value> = ran
                .iter()
                .enumerate()
                .map(|(n, (step, c))| json!({"name": step, "status": "completed", "conclusion": c, "number": n + 1}))
                .collect();
            json!({"id": id, "run_id": run_id, "name": name, "status": status, "conclusion": conclusion,
                   "html_url": format!("https://github.com/{REPO}/actions/runs/{run_id}/job/{id}"),
                   "check_run_url": format!("https://api.github.com/repos/{REPO}/check-runs/{id}"),
                   "steps": steps})
        })
        .collect();
    json!({"total_count": jobs.len(), "jobs": shown})
}

/// What goes wrong with every request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    None,
    /// This status with GitHub's message for a token without the permission.
    Status(u16),
    /// 403 with `x-ratelimit-remaining: 0`.
    RateLimited,
    Hang,
    /// 200 with a body that is not JSON.
    Garbage,
}

/// The scripted repository.
#[derive(Clone, Debug)]
pub struct Script {
    pub runs: Vec<FakeRun>,
    /// The check run id and display name of the job onfail runs in.
    pub current_job: Option<(u64, &'static str)>,
    pub fault: Fault,
    /// Annotation titles per check run (job) id.
    pub annotations: Vec<(u64, &'static str)>,
    /// Answer the annotations of check runs with this status (403: no `checks: read`).
    pub annotations_refused: Option<u16>,
}

impl Script {
    pub fn new(runs: Vec<FakeRun>) -> Script {
        Script { runs, current_job: None, fault: Fault::None, annotations: Vec::new(), annotations_refused: None }
    }
}

/// The fake API; `server.received()` shows what onfail asked.
pub struct FakeGitHub {
    pub server: Server,
}

impl FakeGitHub {
    pub fn new(script: Script) -> FakeGitHub {
        FakeGitHub { server: Server::routed(move |request| route(&script, request)) }
    }

    /// The base URL, for `GITHUB_API_URL`.
    pub fn url(&self) -> String {
        self.server.url("")
    }

    /// The paths (with queries) requested, in order.
    pub fn paths(&self) -> Vec<String> {
        self.server.received().into_iter().map(|r| r.path).collect()
    }
}

fn route(script: &Script, request: &Received) -> Reply {
    match &script.fault {
        Fault::None => {}
        Fault::Status(status) => {
            return Reply::json(*status, r#"{"message":"Resource not accessible by integration"}"#);
        }
        Fault::RateLimited => {
            return Reply::json(403, r#"{"message":"API rate limit exceeded"}"#).header("x-ratelimit-remaining", "0");
        }
        Fault::Hang => return Reply::Hang,
        Fault::Garbage => return Reply::json(200, "<html>Unicorn!</html>"),
    }
    if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Reply::json(401, r#"{"message":"Bad credentials"}"#);
    }
    let url = url::Url::parse(&format!("http://fake{}", request.path)).unwrap();
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let number = |name: &str, default: usize| query(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let segments: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
    let run = |id: &str| script.runs.iter().find(|r| r.id.to_string() == id);
    let ok = |value: Value| Reply::json(200, &value.to_string());
    let not_found = Reply::json(404, r#"{"message":"Not Found"}"#);
    match segments.as_slice() {
        ["repos", "acme", "api", "actions", "jobs", id] => match script.current_job {
            Some((job, name)) if job.to_string() == *id => ok(json!({"id": job, "run_id": RUN_ID, "name": name})),
            _ => not_found,
        },
        ["repos", "acme", "api", "check-runs", id, "annotations"] => match script.annotations_refused {
            Some(status) => Reply::json(status, r#"{"message":"Resource not accessible by integration"}"#),
            None => ok(Value::Array(
                script
                    .annotations
                    .iter()
                    .filter(|(job, _)| job.to_string() == *id)
                    .map(|(_, title)| {
                        json!({"path": ".github", "annotation_level": "warning", "title": title,
                                             "message": "x"})
                    })
                    .collect(),
            )),
        },
        ["repos", "acme", "api", "actions", "runs", id] => match run(id) {
            Some(run) => ok(run.json(run.attempts.len() + 1, run.conclusion)),
            None => not_found,
        },
        ["repos", "acme", "api", "actions", "runs", id, "jobs"] => match run(id) {
            Some(run) => {
                ok(jobs_json(&run.jobs, &run.steps, run.id, number("page", 1), number("per_page", 30).min(100)))
            }
            None => not_found,
        },
        ["repos", "acme", "api", "actions", "runs", id, "attempts", k] => {
            match (run(id), k.parse::<usize>().ok().and_then(|k| k.checked_sub(1))) {
                (Some(run), Some(k)) if k < run.attempts.len() => ok(run.json(k + 1, run.attempts[k].0)),
                _ => not_found,
            }
        }
        ["repos", "acme", "api", "actions", "runs", id, "attempts", k, "jobs"] => {
            match (run(id), k.parse::<usize>().ok().and_then(|k| k.checked_sub(1))) {
                (Some(run), Some(k)) if k < run.attempts.len() => {
                    ok(jobs_json(&run.attempts[k].1, &[], run.id, number("page", 1), number("per_page", 30).min(100)))
                }
                (Some(run), Some(k)) if k == run.attempts.len() => {
                    ok(jobs_json(&run.jobs, &run.steps, run.id, number("page", 1), number("per_page", 30).min(100)))
                }
                _ => not_found,
            }
        }
        ["repos", "acme", "api", "actions", "workflows", workflow, "runs"]
            if *workflow == WORKFLOW_FILE || *workflow == WORKFLOW_ID.to_string() =>
        {
            // Like GitHub's, the branch filter is fuzzy: it also matches `main-old` for `main`.
            let branch = query("branch");
            let status = query("status");
            let event = query("event");
            let mut runs: Vec<&FakeRun> = script
                .runs
                .iter()
                .filter(|r| branch.as_ref().is_none_or(|b| r.branch.contains(b.as_str())))
                .filter(|r| status.as_ref().is_none_or(|s| r.status == s || r.conclusion == Some(s.as_str())))
                .filter(|r| event.as_ref().is_none_or(|e| r.event == e))
                .collect();
            runs.sort_by_key(|r| std::cmp::Reverse(r.id));
            let (page, per_page) = (number("page", 1), number("per_page", 30).min(100));
            let shown: Vec<Value> = runs
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|r| r.json(r.attempts.len() + 1, r.conclusion))
                .collect();
            ok(json!({"total_count": runs.len(), "workflow_runs": shown}))
        }
        _ => not_found,
    }
}
