//! The REST API as a watch asks it (docs/serve-checks.md, "Watching a scheduled GitHub
//! workflow"): the workflow (its state), its scheduled runs, and its file when the schedule is to
//! be read from it. Blocking (reqwest's blocking client, made by `transport::client` like every
//! client of onfail): the poller calls it on tokio's blocking threads, never on the executor.
//!
//! Every URL's last `ETag` is remembered and sent back as `If-None-Match`; a 304 (which GitHub
//! does not count against the rate limit) reuses the last answer. A rate limit pauses every
//! request until GitHub's `retry-after` or `x-ratelimit-reset`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

use super::{Observation, Watch};
use crate::context::Env;

/// One request's deadline.
const TIMEOUT: Duration = Duration::from_secs(20);
/// A workflow file is at most 1 MB in the contents API (base64 makes it larger).
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// Scheduled runs listed per look: enough to find the newest that ran behind a few broken ones.
const RUNS: u32 = 20;
/// A rate limit without a reset time: ask again after this.
const RATE_LIMIT_PAUSE_MS: i64 = 60_000;

/// Why a look failed; `retry_at` (ms since 1970) when GitHub said when to ask again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    pub retry_at: Option<i64>,
}

impl ApiError {
    fn new(message: impl Into<String>) -> ApiError {
        ApiError { message: message.into(), retry_at: None }
    }
}

pub struct GitHub {
    client: Client,
    base: String,
    token: String,
    /// URL → (ETag, body) of the last 200.
    remembered: Mutex<HashMap<String, (String, Vec<u8>)>>,
    /// No request before this (a rate limit), ms since 1970.
    paused_until: Mutex<i64>,
}

impl GitHub {
    /// The client for `GITHUB_API_URL` (default `https://api.github.com`); made off the async
    /// runtime (a blocking client must be).
    pub fn new(env: &Env, token: &str) -> Result<GitHub, String> {
        let (client, base) = crate::history::github::api_client(env)?;
        Ok(GitHub {
            client,
            base,
            token: token.to_string(),
            remembered: Mutex::new(HashMap::new()),
            paused_until: Mutex::new(0),
        })
    }

    /// One look at `watch`: its workflow, its scheduled runs and, when it has no schedule of its
    /// own, its file's cron lines.
    pub fn look(&self, watch: &Watch, now: i64) -> Result<Observation, ApiError> {
        let repo = &watch.repository;
        let workflow = self.get_json(&format!("/repos/{repo}/actions/workflows/{}", watch.workflow), &[], now)?;
        let runs = self.get_json(
            &format!("/repos/{repo}/actions/workflows/{}/runs", watch.workflow),
            &[("event", "schedule"), ("per_page", &RUNS.to_string())],
            now,
        )?;
        let runs = runs["workflow_runs"].as_array().map(Vec::as_slice).unwrap_or_default();
        let mut seen = Observation::from_api(&workflow, runs)
            .ok_or_else(|| ApiError::new("the GitHub API's answer about the workflow has no state"))?;
        if watch.schedule.is_none() {
            match self.file(repo, &seen.path, now)? {
                Ok(text) => match super::file::crons(&text) {
                    Ok(lines) => seen.crons = Some(lines),
                    Err(problem) => seen.schedule_problem = Some(problem),
                },
                Err(problem) => seen.schedule_problem = Some(problem),
            }
        }
        Ok(seen)
    }

    /// The workflow file's text; the inner `Err` is a file that cannot be read as text.
    fn file(&self, repo: &str, path: &str, now: i64) -> Result<Result<String, String>, ApiError> {
        if path.is_empty() || !path.starts_with(".github/") {
            return Ok(Err(format!(
                "the workflow has no file to read its schedule from ({path:?}): give the watch a schedule"
            )));
        }
        let contents = self.get_json(&format!("/repos/{repo}/contents/{path}"), &[], now)?;
        if contents["encoding"] != "base64" {
            return Ok(Err("the workflow file is too large for the contents API: give the watch a schedule".into()));
        }
        let packed: String =
            contents["content"].as_str().unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
        Ok(base64::engine::general_purpose::STANDARD
            .decode(packed)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| "the workflow file is not UTF-8 text".to_string()))
    }

    fn get_json(&self, path: &str, query: &[(&str, &str)], now: i64) -> Result<Value, ApiError> {
        let body = self.get(path, query, now)?;
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(format!("the GitHub API's answer to {path} is not the JSON expected ({e})")))
    }

    /// A conditional GET: the body of a 200, or the remembered one on a 304.
    fn get(&self, path: &str, query: &[(&str, &str)], now: i64) -> Result<Vec<u8>, ApiError> {
        let paused_until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if now < paused_until {
            return Err(ApiError {
                message: format!(
                    "the GitHub API rate limit is used up; asking again after {}",
                    super::poller::clock(paused_until)
                ),
                retry_at: Some(paused_until),
            });
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| ApiError::new(format!("bad API path {path}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let key = url.to_string();
        let etag = self.remembered.lock().unwrap_or_else(|e| e.into_inner()).get(&key).map(|(etag, _)| etag.clone());
        let mut request = self
            .client
            .get(url)
            .timeout(TIMEOUT)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(etag) = &etag {
            request = request.header("If-None-Match", etag);
        }
        let response = request.send().map_err(|e| {
            ApiError::new(if e.is_timeout() {
                format!("the GitHub API did not answer within {}s", TIMEOUT.as_secs())
            } else {
                format!("could not reach the GitHub API at {}: {}", self.base, crate::error::root_cause(&e))
            })
        })?;
        let status = response.status().as_u16();
        if status == 304 {
            return self
                .remembered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .map(|(_, body)| body.clone())
                .ok_or_else(|| ApiError::new("the GitHub API answered 304 to a request it had not answered before"));
        }
        if !(200..300).contains(&status) {
            return Err(self.refusal(path, &response, now));
        }
        let new_etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut body = Vec::new();
        response
            .take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| ApiError::new(format!("the GitHub API's answer broke off: {e}")))?;
        if body.len() as u64 > MAX_BODY {
            return Err(ApiError::new("the GitHub API's answer is far larger than expected"));
        }
        if let Some(etag) = new_etag {
            self.remembered.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (etag, body.clone()));
        }
        Ok(body)
    }

    /// A non-2xx answer: what it means and the fix; a rate limit pauses every request.
    fn refusal(&self, path: &str, response: &Response, now: i64) -> ApiError {
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let used_up = header("x-ratelimit-remaining") == Some("0");
        let retry_after = header("retry-after").and_then(|v| v.parse::<i64>().ok());
        if status == 429 || (status == 403 && (used_up || retry_after.is_some())) {
            let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok()).map(|s| s * 1000);
            let until = match (retry_after, reset) {
                (Some(seconds), _) => now + seconds.clamp(1, 3600) * 1000,
                (None, Some(reset)) if used_up => reset.clamp(now + 1000, now + 3600 * 1000),
                _ => now + RATE_LIMIT_PAUSE_MS,
            };
            *self.paused_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
            return ApiError {
                message: format!(
                    "the GitHub API is rate limiting this token (HTTP {status}); asking again after {}",
                    super::poller::clock(until)
                ),
                retry_at: Some(until),
            };
        }
        ApiError::new(match status {
            401 => "GitHub refused the token (HTTP 401): check --github-token".to_string(),
            403 | 404 => format!(
                "GitHub answered HTTP {status} to {path}: the token needs `actions: read` (and `contents: read` to read the \
                 workflow file) on the repository, and the repository and workflow must exist"
            ),
            300..=399 => format!("the GitHub API redirected elsewhere (HTTP {status}); check GITHUB_API_URL"),
            _ => format!("the GitHub API answered HTTP {status} to {path}"),
        })
    }
}
