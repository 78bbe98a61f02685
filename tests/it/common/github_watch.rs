//! A fake GitHub REST API for the watches of `onfail serve` (docs/serve-checks.md, "Watching a
//! scheduled GitHub workflow"): one workflow of acme/api whose state, scheduled runs and file
//! the test changes while the service polls, with ETags (a request whose `If-None-Match` matches
//! is answered 304) and faults (any status, rate limits).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{Value, json};

use super::github_api::{REPO, TOKEN, WORKFLOW_ID};
use super::{Received, Reply, Server};

/// A scheduled run; `created_at` in seconds since 1970.
#[derive(Clone, Debug)]
pub struct ScheduledRun {
    pub id: u64,
    pub created_at: u64,
    pub status: &'static str,
    pub conclusion: Option<&'static str>,
}

impl ScheduledRun {
    /// A run created now.
    pub fn now(id: u64, status: &'static str, conclusion: Option<&'static str>) -> ScheduledRun {
        ScheduledRun { id, created_at: seconds_now(), status, conclusion }
    }

    pub fn url(&self) -> String {
        format!("https://github.com/{REPO}/actions/runs/{}", self.id)
    }
}

pub fn seconds_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn rfc3339(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(seconds)).to_string()
}

/// What goes wrong with every request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    None,
    Status(u16),
    /// 403 with `x-ratelimit-remaining: 0` and `retry-after` seconds.
    RateLimited(u64),
}

#[derive(Clone, Debug)]
pub struct Workflow {
    pub state: &'static str,
    /// Seconds since 1970.
    pub updated_at: u64,
    pub runs: Vec<ScheduledRun>,
    /// The workflow file's text.
    pub file: String,
    pub fault: Fault,
}

impl Workflow {
    pub fn new(state: &'static str) -> Workflow {
        Workflow {
            state,
            updated_at: seconds_now() - 3600,
            runs: Vec::new(),
            file: "name: Nightly\non:\n  schedule:\n    - cron: '0 3 * * *'\njobs: {}\n".into(),
            fault: Fault::None,
        }
    }
}

pub struct FakeWatched {
    pub server: Server,
    pub workflow: Arc<Mutex<Workflow>>,
    /// How many requests were answered 304.
    not_modified: Arc<AtomicUsize>,
}

impl FakeWatched {
    pub fn new(workflow: Workflow) -> FakeWatched {
        let workflow = Arc::new(Mutex::new(workflow));
        let not_modified = Arc::new(AtomicUsize::new(0));
        let (script, count) = (workflow.clone(), not_modified.clone());
        let server = Server::routed(move |request| {
            let reply = route(&script.lock().unwrap(), request);
            if matches!(reply, Reply::Respond { status: 304, .. }) {
                count.fetch_add(1, Ordering::SeqCst);
            }
            reply
        });
        FakeWatched { server, workflow, not_modified }
    }

    /// For `GITHUB_API_URL`.
    pub fn url(&self) -> String {
        self.server.url("")
    }

    pub fn change(&self, change: impl FnOnce(&mut Workflow)) {
        change(&mut self.workflow.lock().unwrap());
    }

    pub fn paths(&self) -> Vec<String> {
        self.server.received().into_iter().map(|r| r.path).collect()
    }

    pub fn not_modified(&self) -> usize {
        self.not_modified.load(Ordering::SeqCst)
    }
}

/// A weak ETag over the body, as GitHub's are.
fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    format!("W/\"{hash:016x}\"")
}

fn route(workflow: &Workflow, request: &Received) -> Reply {
    match workflow.fault {
        Fault::None => {}
        Fault::Status(status) => return Reply::json(status, r#"{"message":"Server Error"}"#),
        Fault::RateLimited(after) => {
            return Reply::json(403, r#"{"message":"API rate limit exceeded"}"#)
                .header("x-ratelimit-remaining", "0")
                .header("retry-after", &after.to_string());
        }
    }
    if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Reply::json(401, r#"{"message":"Bad credentials"}"#);
    }
    let url = url::Url::parse(&format!("http://fake{}", request.path)).unwrap();
    let body: Value = match url.path() {
        "/repos/acme/api/actions/workflows/nightly.yml" => json!({
            "id": WORKFLOW_ID,
            "name": "Nightly",
            "path": ".github/workflows/nightly.yml",
            "state": workflow.state,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": rfc3339(workflow.updated_at),
            "html_url": format!("https://github.com/{REPO}/blob/main/.github/workflows/nightly.yml"),
        }),
        "/repos/acme/api/actions/workflows/nightly.yml/runs" => {
            let scheduled = url.query_pairs().any(|(k, v)| k == "event" && v == "schedule");
            let mut runs: Vec<&ScheduledRun> = workflow.runs.iter().filter(|_| scheduled).collect();
            runs.sort_by_key(|run| std::cmp::Reverse(run.id));
            let shown: Vec<Value> = runs
                .iter()
                .map(|run| {
                    json!({"id": run.id, "run_number": run.id, "event": "schedule", "status": run.status,
                           "conclusion": run.conclusion, "created_at": rfc3339(run.created_at),
                           "html_url": run.url()})
                })
                .collect();
            json!({"total_count": shown.len(), "workflow_runs": shown})
        }
        "/repos/acme/api/contents/.github/workflows/nightly.yml" => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&workflow.file);
            // GitHub wraps the base64 at 60 characters.
            let wrapped: Vec<String> =
                encoded.as_bytes().chunks(60).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            json!({"type": "file", "encoding": "base64", "path": ".github/workflows/nightly.yml",
                   "content": wrapped.join("\n") + "\n"})
        }
        _ => return Reply::json(404, r#"{"message":"Not Found"}"#),
    };
    let body = body.to_string();
    let tag = etag(&body);
    if request.header("if-none-match") == Some(tag.as_str()) {
        return Reply::status(304).header("etag", &tag);
    }
    Reply::json(200, &body).header("etag", &tag)
}
