//! The routes of checks (docs/serve-checks.md): pings by any method, with the API token as
//! Bearer or `?token=` (a crontab line is `curl -fsS URL`), kept before the answer; and
//! `GET /v1/checks`, each check judged from what the store kept.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::api::{ApiToken, App, answer, authorized, error, now_ms, query_value, rfc3339, store_failed, unauthorized};
use super::checks::{Check, Health, Judgement, Seen, Why, judge};
use super::store::{Ping, PingKind, StoreError};

/// `/v1/ping/{name}`: a success.
pub async fn ping(state: State<Arc<App>>, Path(name): Path<String>, query: RawQuery, request: Request) -> Response {
    keep(state, name, "", query, request).await
}

/// `/v1/ping/{name}/start`, `/fail` or `/{exit code}`.
pub async fn ping_with(
    state: State<Arc<App>>,
    Path((name, what)): Path<(String, String)>,
    query: RawQuery,
    request: Request,
) -> Response {
    keep(state, name, &what, query, request).await
}

async fn keep(
    State(app): State<Arc<App>>,
    name: String,
    what: &str,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let by_query = query_value(query.as_deref(), "token").is_some_and(|token| app.api_token.matches(&token));
    if !by_query && !authorized(&app, request.headers()) {
        return unauthorized("Bearer");
    }
    let (kind, label) = match what {
        "" => (PingKind::Success, "success".to_string()),
        "start" => (PingKind::Start, "start".to_string()),
        "fail" => (PingKind::Fail, "fail".to_string()),
        code => match code.parse::<u8>() {
            Ok(0) => (PingKind::Success, "exit 0".to_string()),
            Ok(code) => (PingKind::Fail, format!("exit {code}")),
            Err(_) => return error(StatusCode::NOT_FOUND, "no such ping: use /start, /fail or an exit code 0-255"),
        },
    };
    if !app.checks.iter().any(|check| check.name == name) {
        return error(StatusCode::NOT_FOUND, "no such check: add it to the --config file");
    }
    // A body (a job's output, if any) is not kept.
    match app.store.ping(Ping { check: name.clone(), kind, label: label.clone(), at: now_ms() }).await {
        Ok(()) => {
            app.changed.notify_waiters();
            answer(StatusCode::OK, json!({ "check": name, "ping": label }))
        }
        Err(e) => store_failed(&app, "a ping could not be kept", &e),
    }
}

/// Every check of the config, with what the store kept of it and its state now.
pub async fn judged(app: &App) -> Result<Vec<(&Check, Seen, Judgement)>, StoreError> {
    let seen = app.store.checks_seen().await?;
    let now = now_ms();
    Ok(app
        .checks
        .iter()
        .map(|check| {
            let kept = seen.iter().find(|(name, _)| *name == check.name).map(|(_, seen)| seen.clone());
            let kept = kept.unwrap_or_else(|| Seen { first_seen_at: now, ..Default::default() });
            let judgement = judge(check, &kept, now);
            (check, kept, judgement)
        })
        .collect())
}

/// `down` with its reason, or the state's name.
pub fn why(health: Health) -> Option<&'static str> {
    match health {
        Health::Down(Why::Late { .. }) => Some("late"),
        Health::Down(Why::Failed { .. }) => Some("failed"),
        Health::Down(Why::RanTooLong { .. }) => Some("ran too long"),
        _ => None,
    }
}

pub async fn get_checks(State(app): State<Arc<App>>, _: ApiToken) -> Response {
    let judged = match judged(&app).await {
        Ok(judged) => judged,
        Err(e) => return store_failed(&app, "the checks could not be read", &e),
    };
    let checks: Vec<Value> = judged
        .into_iter()
        .map(|(check, kept, judged)| {
            let why = why(judged.health);
            json!({
                "name": check.name,
                "schedule": check.schedule.text(),
                "grace_seconds": check.grace.as_secs_f64(),
                "max_runtime_seconds": check.max_runtime.map(|d| d.as_secs_f64()),
                "state": judged.health.name(),
                "why": why,
                "last_ping": kept.last_ping_at.map(rfc3339),
                "last_ping_kind": kept.last_ping_kind,
                "next_due": judged.next_due.map(rfc3339),
            })
        })
        .collect();
    let watches = match super::watch::shown::shown(&app).await {
        Ok(shown) => shown.iter().map(super::watch::shown::json).collect::<Vec<Value>>(),
        Err(e) => return store_failed(&app, "the watches could not be read", &e),
    };
    answer(StatusCode::OK, json!({ "checks": checks, "watches": watches }))
}
