//! Failure details from the run itself (docs/noise-control.md, "One alert for a whole workflow"): the failed
//! jobs of this run by display name (matrix legs included), the first failed step of each, and
//! the page of the first, from the jobs API. Only with `--needs` and a failure: a notify job
//! that aggregates other jobs cannot see their names and steps otherwise, while onfail inside a
//! failing job is that job, whose name and link it already has.

use std::ops::ControlFlow;

use crate::context::{Env, FailedJob};
use crate::history::github::{Api, Job};

/// At most this many failed jobs are kept (the texts name five; the webhook carries them all).
const MAX_JOBS: usize = 50;

/// A job or step name longer than this is cut: names come from workflow files, not from us.
const MAX_NAME: usize = 200;

/// The failed jobs of this run's latest attempt, in the API's order, leaving out the job onfail
/// runs in (`own_check_run_id`: a job's id is its check run id). An error names the fix.
pub fn failed_jobs(api: &Api, env: &Env, own_check_run_id: Option<&str>) -> Result<Vec<FailedJob>, String> {
    let var = |name: &str| crate::context::var(env, name).map(str::to_string);
    let repo = var("GITHUB_REPOSITORY").ok_or("GITHUB_REPOSITORY is not set")?;
    let run_id = var("GITHUB_RUN_ID")
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or("GITHUB_RUN_ID is not set, or not a number")?;
    let own: Option<u64> = own_check_run_id.and_then(|id| id.trim().parse().ok());
    let path = format!("/repos/{repo}/actions/runs/{run_id}/jobs");
    let mut failed = Vec::new();
    api.job_pages(&path, &[("filter", "latest".to_string())], |jobs| {
        failed.extend(jobs.into_iter().filter(|job| own.is_none() || job.id != own).filter_map(failure));
        ControlFlow::Continue(())
    })?;
    failed.truncate(MAX_JOBS);
    Ok(failed)
}

/// A job that failed or timed out, with its first failed step and a link that is a link.
fn failure(job: Job) -> Option<FailedJob> {
    if !matches!(job.conclusion.as_deref(), Some("failure" | "timed_out")) {
        return None;
    }
    let name = clean(&job.name)?;
    let mut steps = job.steps.unwrap_or_default();
    steps.sort_by_key(|step| step.number.unwrap_or(u64::MAX));
    let step = steps
        .iter()
        .find(|step| matches!(step.conclusion.as_deref(), Some("failure" | "timed_out")))
        .and_then(|step| clean(&step.name));
    let url = job.html_url.filter(|url| is_web_link(url));
    Some(FailedJob { name, step, url })
}

/// A name as the texts may show it: control characters blanked, whitespace squeezed, at most
/// [`MAX_NAME`] characters; `None` when nothing is left.
fn clean(name: &str) -> Option<String> {
    let (cut, _) = crate::values::truncate_chars(&crate::redact::one_line(name), MAX_NAME);
    Some(cut).filter(|n| !n.is_empty())
}

/// Only an absolute http(s) URL may become `{job_url}`: the incident channels refuse anything else.
fn is_web_link(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.has_host())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::github::Step;

    fn job(conclusion: &str, steps: &[(&str, &str, u64)]) -> Job {
        Job {
            id: Some(1),
            name: "test (ubuntu-latest, 1.24)".into(),
            conclusion: Some(conclusion.into()),
            html_url: Some("https://github.com/acme/api/actions/runs/9/job/1".into()),
            steps: Some(
                steps
                    .iter()
                    .map(|(name, c, n)| Step {
                        name: name.to_string(),
                        conclusion: Some(c.to_string()),
                        number: Some(*n),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn the_first_failed_step_by_number() {
        let found =
            failure(job("failure", &[("Post", "failure", 9), ("Run tests", "failure", 4), ("Setup", "success", 1)]))
                .unwrap();
        assert_eq!(found.name, "test (ubuntu-latest, 1.24)");
        assert_eq!(found.step.as_deref(), Some("Run tests"));
        assert_eq!(found.url.as_deref(), Some("https://github.com/acme/api/actions/runs/9/job/1"));
    }

    #[test]
    fn only_failures_and_timeouts_count() {
        assert!(failure(job("timed_out", &[])).is_some_and(|j| j.step.is_none()));
        for other in ["success", "cancelled", "skipped", "neutral", "action_required"] {
            assert!(failure(job(other, &[])).is_none(), "{other}");
        }
    }

    #[test]
    fn names_and_links_from_the_api_are_cleaned() {
        assert_eq!(clean(" a\u{1b}[31m\n  b ").as_deref(), Some("a [31m b"));
        assert_eq!(clean(" \t").as_deref(), None);
        assert_eq!(clean(&"x".repeat(500)).map(|n| n.len()), Some(MAX_NAME));
        assert!(is_web_link("https://ghe.example.com/a/b/actions/runs/1/job/2"));
        assert!(!is_web_link("javascript:alert(1)") && !is_web_link("job/2") && !is_web_link(""));
    }
}
