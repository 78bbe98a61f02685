//! The routes of `onfail serve` (docs/service.md, "onfail serve"): the report intake (token in the
//! URL), the API (Bearer token) and `/healthz`. Wrong methods are 405 and unknown paths 404
//! (axum's routing). Handlers never block: the store's blocking work runs on its own threads.
//! Acknowledge links and the web page are in `web`, routed here on the same [`App`].

// The `Err` of the helpers below is the HTTP answer to give, made once per request.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::checks::Check;
use super::forward::Forwarder;
use super::pings;
use super::report;
use super::store::{NewOrder, NewPage, NewReport, Order, Page, Store};
use super::token::{Token, random_code};
use super::watch::Watch;
use super::web;
use crate::output::Output;

/// Every body, reports and API alike.
pub const MAX_BODY: usize = 64 * 1024;
/// A body must arrive within this, once its headers have.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `?wait=`.
const MAX_WAIT: u64 = 60;
/// How often a long-poll looks at the store: another replica may have written.
const POLL: Duration = Duration::from_millis(250);

/// What every handler shares.
pub struct App {
    pub store: Store,
    pub receive_token: Token,
    pub api_token: Token,
    pub public_url: String,
    pub forward: Option<Forwarder>,
    pub log: Arc<Output>,
    /// The checks of `--config`.
    pub checks: Vec<Check>,
    /// The watched GitHub workflows of `--config`.
    pub watches: Vec<Watch>,
    /// Turns true on SIGTERM/SIGINT: long-polls answer at once.
    pub stopping: watch::Receiver<bool>,
    /// Woken by every write of this process, so a long-poll here answers without waiting for
    /// its next look.
    pub changed: Notify,
    /// Woken when a report was queued for forwarding.
    pub forward_queued: Notify,
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/iletimerkezi/reports", post(receive_report))
        .route("/v1/orders", post(register_order))
        .route("/v1/orders/{order_id}", get(get_order))
        .route("/v1/pages", post(open_page))
        .route("/v1/pages/{page_id}", get(get_page))
        .route("/v1/alerts/{alert_id}/state", get(get_alert_state).put(put_alert_state))
        .route("/v1/checks", get(pings::get_checks))
        .route("/v1/ping/{name}", any(pings::ping))
        .route("/v1/ping/{name}/{what}", any(pings::ping_with))
        .route("/", get(web::web_page))
        .route("/a/{code}", get(web::show_link).post(web::acknowledge_link))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such path") })
        .layer(axum::middleware::map_response(web::security_headers))
        .with_state(app)
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub(super) fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

pub(super) fn error(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({ "error": message }).to_string()).into_response()
}

pub(super) fn answer(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

pub(super) fn unauthorized(www: &'static str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "missing or wrong token");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(www));
    response
}

pub(super) fn store_failed(app: &App, what: &str, e: &impl std::fmt::Display) -> Response {
    app.log.error(&format!("{what}: {e}"));
    error(StatusCode::SERVICE_UNAVAILABLE, "the store is not available; try again")
}

/// The API's token, from `Authorization: Bearer …`, compared in constant time.
pub(super) fn authorized(app: &App, headers: &HeaderMap) -> bool {
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = given.strip_prefix("Bearer ").or_else(|| given.strip_prefix("bearer ")).unwrap_or_default();
    app.api_token.matches(token.trim())
}

/// Proof that a request carries the API token: a handler that takes it answers 401 before
/// anything else of the request is read.
pub(super) struct ApiToken;

impl FromRequestParts<Arc<App>> for ApiToken {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<ApiToken, Response> {
        if authorized(app, &parts.headers) { Ok(ApiToken) } else { Err(unauthorized("Bearer")) }
    }
}

/// `?wait=SECONDS` of a long-poll (at most [`MAX_WAIT`]; none is 0); a bad value is a 400.
pub(super) struct Wait(Duration);

impl<S: Send + Sync> FromRequestParts<S> for Wait {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Wait, Response> {
        wait_of(parts.uri.query()).map(Wait)
    }
}

pub(super) fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The body, at most [`MAX_BODY`] bytes, within [`BODY_TIMEOUT`]; or the answer to give.
async fn read_body(request: Request) -> Result<Vec<u8>, Response> {
    let too_large = || error(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 64 KiB");
    let length = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if length.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(too_large());
    }
    let collected = tokio::time::timeout(BODY_TIMEOUT, Limited::new(request.into_body(), MAX_BODY).collect()).await;
    match collected {
        Ok(Ok(body)) => Ok(body.to_bytes().to_vec()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(error(StatusCode::BAD_REQUEST, "the body could not be read")),
        Err(_) => Err(error(StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time")),
    }
}

/// `?wait=SECONDS` (at most [`MAX_WAIT`]); `Err` is the 400 to give.
fn wait_of(query: Option<&str>) -> Result<Duration, Response> {
    match query_value(query, "wait") {
        None => Ok(Duration::ZERO),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
                Ok(Duration::from_secs_f64(seconds.min(MAX_WAIT as f64)))
            }
            _ => Err(error(StatusCode::BAD_REQUEST, "wait must be a number of seconds from 0 to 60")),
        },
    }
}

/// The answer to a report that was kept: made once, not per report.
const RECEIVED: ([(header::HeaderName, &str); 1], &str) =
    ([(header::CONTENT_TYPE, "application/json")], r#"{"received":true}"#);

/// iletiMerkezi's delivery report: kept (committed) before the 200; forwarded afterwards when
/// it is not for one of onfail's orders.
async fn receive_report(State(app): State<Arc<App>>, RawQuery(query): RawQuery, request: Request) -> Response {
    let token = query_value(query.as_deref(), "token").unwrap_or_default();
    if !app.receive_token.matches(&token) {
        return unauthorized("Token");
    }
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let report = match report::parse(&body) {
        Ok(report) => report,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let forward = app.forward.is_some();
    let kept = NewReport {
        id: report.id,
        status: report.status,
        packet_id: report.packet_id,
        recipient: report.to,
        // As it came (valid UTF-8, as JSON is: no copy), for forwarding unchanged.
        body: if forward {
            String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        } else {
            String::new()
        },
        at: now_ms(),
        forward,
    };
    match app.store.insert_report(kept).await {
        Ok(inserted) => {
            if inserted.new {
                app.changed.notify_waiters();
                if !inserted.order_known && app.forward.is_some() {
                    app.forward_queued.notify_one();
                }
            }
            RECEIVED.into_response()
        }
        Err(e) => store_failed(&app, "a delivery report could not be kept", &e),
    }
}

/// A JSON object body, or the answer to give.
async fn json_body(request: Request) -> Result<serde_json::Map<String, Value>, Response> {
    let body = read_body(request).await?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(StatusCode::BAD_REQUEST, "the body must be a JSON object")),
    }
}

/// A string field (a number is taken as its text), at most 2000 characters.
fn text_field(body: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    let text = match body.get(name)? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (text.chars().count() <= 2000).then_some(text)
}

async fn register_order(State(app): State<Arc<App>>, _: ApiToken, request: Request) -> Response {
    let body = match json_body(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(order_id) = text_field(&body, "order_id").filter(|id| !id.is_empty() && id.len() <= 200) else {
        return error(StatusCode::BAD_REQUEST, "order_id is missing (the send-sms order id)");
    };
    let numbers: Option<Vec<String>> = match body.get("numbers") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 1000 => items
            .iter()
            .map(|item| item.as_str().map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>()))
            .map(|n| n.filter(|n| (10..=15).contains(&n.len())))
            .collect(),
        _ => None,
    };
    let Some(numbers) = numbers else {
        return error(StatusCode::BAD_REQUEST, "numbers must be a list of phone numbers (905XXXXXXXXX), 1 to 1000");
    };
    let order = NewOrder {
        order_id: order_id.clone(),
        alert_id: text_field(&body, "alert_id").unwrap_or_default(),
        numbers,
        run_url: text_field(&body, "run_url").unwrap_or_default(),
        at: now_ms(),
    };
    match app.store.register_order(order).await {
        Ok(created) => {
            app.changed.notify_waiters();
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            answer(status, json!({ "order_id": order_id }))
        }
        Err(e) => store_failed(&app, "an order could not be registered", &e),
    }
}

fn order_json(order: &Order) -> Value {
    let recipients: Vec<Value> =
        order.recipients().iter().map(|r| json!({ "to": r.to, "status": r.status, "at": r.at.map(rfc3339) })).collect();
    json!({ "order_id": order.order_id, "recipients": recipients })
}

async fn get_order(
    State(app): State<Arc<App>>,
    _: ApiToken,
    Path(order_id): Path<String>,
    Wait(wait): Wait,
) -> Response {
    let first = match app.store.order(&order_id).await {
        Ok(Some(order)) => order,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such order"),
        Err(e) => return store_failed(&app, "an order could not be read", &e),
    };
    let states = first.recipients();
    let done = |order: &Order| order.recipients().iter().all(|r| r.is_final());
    let (store, id, states) = (&app.store, &order_id, &states);
    let latest = long_poll(&app, wait, first.clone(), done(&first), move || async move {
        match store.order(id).await {
            Ok(Some(order)) => {
                let changed = order.recipients() != *states;
                Some((order, changed))
            }
            _ => None,
        }
    })
    .await;
    answer(StatusCode::OK, order_json(&latest))
}

/// Looks again every [`POLL`] (and at once after a write of this process) until `look` says
/// the thing changed, `wait` is over, or the service stops; gives the latest view.
async fn long_poll<T, F, Fut>(app: &App, wait: Duration, first: T, done: bool, look: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<(T, bool)>>,
{
    if done || wait.is_zero() {
        return first;
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut stopping = app.stopping.clone();
    let mut latest = first;
    loop {
        let woken = app.changed.notified();
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = woken => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = stopping.wait_for(|stop| *stop) => return latest,
        }
        if let Some((now, changed)) = look().await {
            latest = now;
            if changed {
                return latest;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return latest;
        }
    }
}

async fn open_page(State(app): State<Arc<App>>, _: ApiToken, request: Request) -> Response {
    let body = match json_body(request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let (page_id, code) = match (random_code(12), random_code(16)) {
        (Ok(page_id), Ok(code)) => (page_id, code),
        _ => return error(StatusCode::SERVICE_UNAVAILABLE, "no randomness available; try again"),
    };
    let page = NewPage {
        page_id: page_id.clone(),
        code: code.clone(),
        alert_id: text_field(&body, "alert_id").unwrap_or_default(),
        title: text_field(&body, "title").unwrap_or_default(),
        run_url: text_field(&body, "run_url").unwrap_or_default(),
        at: now_ms(),
    };
    match app.store.open_page(page).await {
        Ok(()) => {
            let ack_url = format!("{}/a/{code}", app.public_url);
            answer(StatusCode::CREATED, json!({ "page_id": page_id, "ack_url": ack_url }))
        }
        Err(e) => store_failed(&app, "a page could not be opened", &e),
    }
}

fn page_json(page: &Page) -> Value {
    json!({
        "page_id": page.page_id,
        "acknowledged": page.acknowledged_at.is_some(),
        "acknowledged_at": page.acknowledged_at.map(rfc3339),
    })
}

async fn get_page(State(app): State<Arc<App>>, _: ApiToken, Path(page_id): Path<String>, Wait(wait): Wait) -> Response {
    let first = match app.store.page(&page_id).await {
        Ok(Some(page)) => page,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such page"),
        Err(e) => return store_failed(&app, "a page could not be read", &e),
    };
    let acknowledged = first.acknowledged_at.is_some();
    let (store, id) = (&app.store, &page_id);
    let latest = long_poll(&app, wait, first, acknowledged, move || async move {
        match store.page(id).await {
            Ok(Some(page)) => {
                let changed = page.acknowledged_at.is_some();
                Some((page, changed))
            }
            _ => None,
        }
    })
    .await;
    answer(StatusCode::OK, page_json(&latest))
}

async fn get_alert_state(State(app): State<Arc<App>>, _: ApiToken, Path(alert_id): Path<String>) -> Response {
    match app.store.alert_state(&alert_id).await {
        Ok(Some(state)) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], Body::from(state)).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, "no state for this alert id"),
        Err(e) => store_failed(&app, "an alert state could not be read", &e),
    }
}

async fn put_alert_state(
    State(app): State<Arc<App>>,
    _: ApiToken,
    Path(alert_id): Path<String>,
    request: Request,
) -> Response {
    if alert_id.len() > 200 {
        return error(StatusCode::BAD_REQUEST, "the alert id is longer than 200 bytes");
    }
    let body = match json_body(request).await {
        Ok(body) => Value::Object(body),
        Err(response) => return response,
    };
    match app.store.put_alert_state(&alert_id, &body.to_string(), now_ms()).await {
        Ok(()) => answer(StatusCode::OK, json!({ "alert_id": alert_id })),
        Err(e) => store_failed(&app, "an alert state could not be kept", &e),
    }
}
