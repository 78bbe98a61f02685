//! The `--notify-when changes` history kept by an `onfail serve` (docs/serve-checks.md, "History for runners that
//! keep nothing"): with `--server`, outside GitHub Actions, the state of an alert id is read
//! from `GET /v1/alerts/{id}/state` and written with `PUT`, the same JSON as a state file. So
//! GitLab and Jenkins containers, which start empty, page once per incident too. The service
//! unreachable is an unknown history: the alert pages, with a warning.

use std::time::{Duration, SystemTime};

use super::state::{self, Outcome, State};
use crate::context::Env;

/// A lookup never holds the alert up longer than this.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Remote {
    client: reqwest::blocking::Client,
    url: reqwest::Url,
    token: String,
    alert_id: String,
    command: String,
}

impl Remote {
    /// `base`: the `--server` URL; `token`: `--server-token`.
    pub fn new(
        env: &Env,
        base: &reqwest::Url,
        token: &str,
        alert_id: &str,
        command: Option<&str>,
    ) -> Result<Remote, String> {
        let (builder, _) = crate::transport::client(env, base.scheme() == "https", reqwest::redirect::Policy::none());
        let client = builder.timeout(TIMEOUT).build().map_err(|e| format!("could not set up the HTTP client: {e}"))?;
        let mut url = base.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        // The id is one path segment, whatever it holds.
        let id: String = url::form_urlencoded::byte_serialize(alert_id.as_bytes()).collect();
        url.set_path(&format!("{prefix}/v1/alerts/{}/state", id.replace('+', "%20")));
        Ok(Remote {
            client,
            url,
            token: token.to_string(),
            alert_id: alert_id.to_string(),
            command: command.unwrap_or_default().to_string(),
        })
    }

    /// The last recorded state; `None` when the service has none (404).
    pub fn read(&self) -> Result<Option<State>, String> {
        let response =
            self.client.get(self.url.clone()).bearer_auth(&self.token).send().map_err(|e| {
                format!("the service at --server could not be asked ({})", crate::error::root_cause(&e))
            })?;
        match response.status().as_u16() {
            404 => Ok(None),
            200 => {
                let body = response.bytes().map_err(|e| format!("the service's answer was cut off ({e})"))?;
                serde_json::from_slice(&body).map(Some).map_err(|_| "the service's state is not onfail's".into())
            }
            401 => Err("the service refused the token (401): --server-token must be its --api-token".into()),
            status => Err(format!("the service answered HTTP {status}")),
        }
    }

    /// Records this run's outcome after the state the service holds now.
    pub fn record(&self, outcome: Outcome, run_url: &str, now: SystemTime) -> Result<(), String> {
        let last = self.read().ok().flatten();
        let now = humantime::format_rfc3339_seconds(now).to_string();
        let next = state::next(last, outcome, &self.alert_id, &self.command, run_url, now);
        let body = serde_json::to_vec(&next).expect("a struct of strings and numbers always serialises");
        let response = self
            .client
            .put(self.url.clone())
            .bearer_auth(&self.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .map_err(|e| format!("the service at --server could not be told ({})", crate::error::root_cause(&e)))?;
        match response.status().as_u16() {
            200 => Ok(()),
            status => Err(format!("the service answered HTTP {status} to the new state")),
        }
    }
}
