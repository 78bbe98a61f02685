//! Where the alert comes from (docs/reference.md, "Placeholders"): the run's repository, workflow, job,
//! commit and links,
//! read from the CI system's environment variables. Pure: the environment is passed in as a map.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::runner::Ended;
use crate::status::Status;

/// The environment as a plain map, so detection is testable without touching the process env.
pub type Env = BTreeMap<String, String>;

/// An environment variable's value, trimmed; `None` when it is unset or blank. Every reader of
/// the environment goes through it, so a blank variable means unset everywhere.
pub fn var<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Whether onfail runs as a step of GitHub Actions (which sets `GITHUB_ACTIONS=true`).
pub fn on_github_actions(env: &Env) -> bool {
    var(env, "GITHUB_ACTIONS") == Some("true")
}

/// Which CI system the values came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    GitHub,
    GitLab,
    Jenkins,
    /// Anything else: cron, systemd, a shell. Only the host's own values are known.
    Host,
}

/// For `onfail run`: the wrapped command and how it ended, so the default texts can say so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRun {
    /// The program's file name, short enough to read aloud: `backup.sh`.
    pub program: String,
    /// The whole command line as given.
    pub command_line: String,
    /// How it ended: the texts say it in their own language.
    pub ended: Ended,
    /// Its last lines of output, cleaned and redacted.
    pub tail: Vec<String>,
}

/// Everything a template placeholder can name. Unknown values are empty strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub source: Source,
    pub status: Status,
    pub repository: String,
    pub workflow: String,
    pub job: String,
    pub ref_name: String,
    pub sha: String,
    pub actor: String,
    pub event: String,
    pub run_id: String,
    pub run_number: String,
    pub run_attempt: String,
    pub run_url: String,
    pub job_url: String,
    pub server_url: String,
    pub hostname: String,
    pub time: String,
    /// Set by `onfail run`.
    pub command: Option<CommandRun>,
    /// The jobs that failed, as far as known (from `--needs`: the ids of the needed jobs that
    /// failed); the default texts name them, and so does `{failed_jobs}`.
    pub failed_jobs: Vec<String>,
    /// From `--needs`: ids of skipped jobs that were not allowed to be, when they alone made the
    /// status a failure; the default texts name them when no job failed.
    pub skipped_jobs: Vec<String>,
    /// From the jobs API: the first failed step of each failed job that has one, in the order of
    /// `failed_jobs`.
    pub failed_steps: Vec<FailedStep>,
}

/// A failed job's first failed step (docs/noise-control.md, "One alert for a whole workflow").
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FailedStep {
    pub job: String,
    pub step: String,
}

/// One failed job of this run, as the jobs API describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedJob {
    /// The display name, matrix values included: `test (ubuntu-latest, 1.24)`.
    pub name: String,
    /// The first step that failed, when the job got that far.
    pub step: Option<String>,
    /// The job's page, when it is an http(s) URL.
    pub url: Option<String>,
}

impl Context {
    /// Reads the context from `env`. `check_run_id` comes from `--check-run-id`.
    pub fn detect(env: &Env, status: Status, check_run_id: Option<&str>, now: SystemTime) -> Context {
        let var = |name: &str| var(env, name).unwrap_or_default().to_string();
        let mut context = Context {
            source: Source::Host,
            status,
            repository: String::new(),
            workflow: String::new(),
            job: String::new(),
            ref_name: String::new(),
            sha: String::new(),
            actor: non_empty(var("USER"), &var("USERNAME")),
            event: String::new(),
            run_id: String::new(),
            run_number: String::new(),
            run_attempt: String::new(),
            run_url: String::new(),
            job_url: String::new(),
            server_url: String::new(),
            hostname: hostname(env),
            time: humantime::format_rfc3339_seconds(now).to_string(),
            command: None,
            failed_jobs: Vec::new(),
            skipped_jobs: Vec::new(),
            failed_steps: Vec::new(),
        };
        if on_github_actions(env) {
            context.fill_from_github(&var, check_run_id);
        } else if var("GITLAB_CI") == "true" {
            context.fill_from_gitlab(&var);
        } else if !var("JENKINS_URL").is_empty() {
            context.fill_from_jenkins(&var);
        }
        context
    }

    /// GitLab CI's predefined variables. A pipeline has no name unless the project sets one, so
    /// `{workflow}` may stay empty; `{run_url}` is the pipeline and `{job_url}` the job.
    fn fill_from_gitlab(&mut self, var: &dyn Fn(&str) -> String) {
        self.source = Source::GitLab;
        self.repository = var("CI_PROJECT_PATH");
        self.workflow = var("CI_PIPELINE_NAME");
        self.job = var("CI_JOB_NAME");
        self.ref_name = var("CI_COMMIT_REF_NAME");
        self.sha = var("CI_COMMIT_SHA");
        self.actor = non_empty(var("GITLAB_USER_LOGIN"), &self.actor);
        self.event = var("CI_PIPELINE_SOURCE");
        self.run_id = var("CI_PIPELINE_ID");
        self.run_number = var("CI_PIPELINE_IID");
        self.server_url = var("CI_SERVER_URL");
        self.run_url = var("CI_PIPELINE_URL");
        self.job_url = non_empty(var("CI_JOB_URL"), &self.run_url);
    }

    /// Jenkins' environment (with the Git plugin's `GIT_*` variables when present).
    fn fill_from_jenkins(&mut self, var: &dyn Fn(&str) -> String) {
        self.source = Source::Jenkins;
        self.workflow = var("JOB_NAME");
        self.job = var("STAGE_NAME");
        let branch = non_empty(var("BRANCH_NAME"), &var("GIT_BRANCH"));
        self.ref_name = branch.strip_prefix("origin/").unwrap_or(&branch).to_string();
        self.sha = var("GIT_COMMIT");
        self.run_id = var("BUILD_ID");
        self.run_number = var("BUILD_NUMBER");
        self.server_url = var("JENKINS_URL").trim_end_matches('/').to_string();
        self.run_url = var("BUILD_URL");
        self.job_url = self.run_url.clone();
    }

    fn fill_from_github(&mut self, var: &dyn Fn(&str) -> String, check_run_id: Option<&str>) {
        self.source = Source::GitHub;
        self.repository = var("GITHUB_REPOSITORY");
        self.workflow = var("GITHUB_WORKFLOW");
        self.job = var("GITHUB_JOB");
        self.ref_name = var("GITHUB_REF_NAME");
        if self.ref_name.is_empty() {
            let full = var("GITHUB_REF");
            self.ref_name = full
                .strip_prefix("refs/heads/")
                .or_else(|| full.strip_prefix("refs/tags/"))
                .unwrap_or(&full)
                .to_string();
        }
        self.sha = var("GITHUB_SHA");
        self.actor = non_empty(var("GITHUB_ACTOR"), &self.actor);
        self.event = var("GITHUB_EVENT_NAME");
        self.run_id = var("GITHUB_RUN_ID");
        self.run_number = var("GITHUB_RUN_NUMBER");
        self.run_attempt = var("GITHUB_RUN_ATTEMPT");
        // GHES sets GITHUB_SERVER_URL to its own host; github.com is only the fallback.
        self.server_url = non_empty(var("GITHUB_SERVER_URL"), "https://github.com").trim_end_matches('/').to_string();
        if !self.repository.is_empty() && !self.run_id.is_empty() {
            self.run_url = format!("{}/{}/actions/runs/{}", self.server_url, self.repository, self.run_id);
        }
        self.job_url = match check_run_id.map(str::trim).filter(|id| !id.is_empty()) {
            Some(id) if !self.run_url.is_empty() => format!("{}/job/{id}", self.run_url),
            _ => self.run_url.clone(),
        };
    }

    /// The failure details from the run itself replace what `--needs` said: display names rather
    /// than job ids, the first failed step of each, and `{job_url}` at the first failed job.
    /// Nothing found changes nothing (the API may not have caught up with a job's end yet).
    pub fn add_failed_jobs(&mut self, jobs: &[FailedJob]) {
        if jobs.is_empty() {
            return;
        }
        self.failed_jobs = jobs.iter().map(|job| job.name.clone()).collect();
        self.failed_steps = jobs
            .iter()
            .filter_map(|job| job.step.as_ref().map(|step| FailedStep { job: job.name.clone(), step: step.clone() }))
            .collect();
        if let Some(url) = jobs.iter().find_map(|job| job.url.as_ref()) {
            self.job_url.clone_from(url);
        }
    }

    /// The first 7 characters of the commit, as GitHub shows it.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// The value of a placeholder named in [`crate::template::PLACEHOLDERS`].
    pub fn placeholder(&self, name: &str) -> String {
        match name {
            "status" => self.status.as_str(),
            "repository" => &self.repository,
            "workflow" => &self.workflow,
            "job" => &self.job,
            "ref_name" => &self.ref_name,
            "sha" => &self.sha,
            "short_sha" => self.short_sha(),
            "actor" => &self.actor,
            "event" => &self.event,
            "run_id" => &self.run_id,
            "run_number" => &self.run_number,
            "run_attempt" => &self.run_attempt,
            "run_url" => &self.run_url,
            "job_url" => &self.job_url,
            "server_url" => &self.server_url,
            "hostname" => &self.hostname,
            "time" => &self.time,
            "failed_jobs" => return self.failed_jobs.join(", "),
            _ => "",
        }
        .to_string()
    }
}

fn non_empty(value: String, fallback: &str) -> String {
    if value.is_empty() { fallback.to_string() } else { value }
}

/// The machine's name: `HOSTNAME` (most shells), `COMPUTERNAME` (Windows), then `/etc/hostname`.
fn hostname(env: &Env) -> String {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|name| var(env, name).map(str::to_string))
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()))
        .unwrap_or_default()
}

/// A GitHub run of workflow Deploy in acme/api on main, for unit tests of the texts.
#[cfg(test)]
pub(crate) fn github_fixture(status: Status, now: SystemTime) -> Context {
    let env: Env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/api"),
        ("GITHUB_WORKFLOW", "Deploy"),
        ("GITHUB_REF_NAME", "main"),
        ("GITHUB_SHA", "a1b2c3d4e5f6"),
        ("GITHUB_RUN_ID", "9"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Context::detect(&env, status, None, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn github() -> Env {
        env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/api"),
            ("GITHUB_WORKFLOW", "Deploy"),
            ("GITHUB_JOB", "build"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_SHA", "0123456789abcdef"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SERVER_URL", "https://ghe.example.com/"),
        ])
    }

    #[test]
    fn github_links_are_built_from_the_server_url() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ctx = Context::detect(&github(), Status::Failure, Some("777"), now);
        assert_eq!(ctx.source, Source::GitHub);
        assert_eq!(ctx.ref_name, "main");
        assert_eq!(ctx.short_sha(), "0123456");
        assert_eq!(ctx.run_url, "https://ghe.example.com/acme/api/actions/runs/42");
        assert_eq!(ctx.job_url, "https://ghe.example.com/acme/api/actions/runs/42/job/777");
        assert_eq!(ctx.placeholder("time"), "2023-11-14T22:13:20Z");
        assert_eq!(ctx.placeholder("status"), "failure");
    }

    #[test]
    fn job_url_falls_back_to_run_url() {
        let ctx = Context::detect(&github(), Status::Failure, Some(" "), SystemTime::now());
        assert_eq!(ctx.job_url, ctx.run_url);
    }

    #[test]
    fn gitlab_variables_give_pipeline_and_job_links() {
        let env = env(&[
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_PATH", "group/app"),
            ("CI_JOB_NAME", "deploy"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_COMMIT_SHA", "abcdef0123456"),
            ("GITLAB_USER_LOGIN", "ayse"),
            ("CI_PIPELINE_ID", "991"),
            ("CI_PIPELINE_URL", "https://gitlab.example.com/group/app/-/pipelines/991"),
            ("CI_JOB_URL", "https://gitlab.example.com/group/app/-/jobs/5"),
        ]);
        let ctx = Context::detect(&env, Status::Failure, None, SystemTime::now());
        assert_eq!(ctx.source, Source::GitLab);
        assert_eq!((ctx.repository.as_str(), ctx.job.as_str(), ctx.actor.as_str()), ("group/app", "deploy", "ayse"));
        assert_eq!(ctx.run_url, "https://gitlab.example.com/group/app/-/pipelines/991");
        assert_eq!(ctx.job_url, "https://gitlab.example.com/group/app/-/jobs/5");
    }

    #[test]
    fn jenkins_variables_give_the_build_link() {
        let env = env(&[
            ("JENKINS_URL", "https://ci.example.com/"),
            ("JOB_NAME", "nightly"),
            ("BUILD_NUMBER", "12"),
            ("BUILD_URL", "https://ci.example.com/job/nightly/12/"),
            ("GIT_BRANCH", "origin/main"),
        ]);
        let ctx = Context::detect(&env, Status::Failure, None, SystemTime::now());
        assert_eq!(ctx.source, Source::Jenkins);
        assert_eq!((ctx.workflow.as_str(), ctx.ref_name.as_str()), ("nightly", "main"));
        assert_eq!(ctx.run_url, "https://ci.example.com/job/nightly/12/");
    }

    #[test]
    fn outside_ci_only_host_values_are_known() {
        let ctx =
            Context::detect(&env(&[("HOSTNAME", "db-1"), ("USER", "ops")]), Status::Failure, None, SystemTime::now());
        assert_eq!(ctx.source, Source::Host);
        assert_eq!((ctx.hostname.as_str(), ctx.actor.as_str()), ("db-1", "ops"));
        assert_eq!(ctx.run_url, "");
    }
}
