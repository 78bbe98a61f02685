//! The routes a person's browser opens (docs/serve-pages.md): the acknowledge link `/a/{code}`
//! (its code is its only credential) and the web page `/` (HTTP Basic, the API token as the
//! password), and the headers every response of the service carries.
//!
//! A `GET` of a link never acknowledges: messaging apps fetch links to preview them. Only the
//! page's button, a `POST` to the same URL, does; it is idempotent (the first time stays), so a
//! forged cross-site `POST` could at most do what the person's own tap does.

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::ack_words::{self, AckWords};
use super::api::{App, now_ms};
use super::html;
use super::store::Page;

/// The newest pages and orders the web page shows.
const SHOWN: i64 = 50;
/// Codes are 22 characters (16 random bytes); anything much longer is not one.
const MAX_CODE: usize = 64;

/// No script, nothing loaded from anywhere, only the pages' own stylesheet (by its hash), forms
/// only to this service, never in a frame.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(html::STYLE.as_bytes()));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
});

/// Every response of the service carries these (the API's JSON included).
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

/// A page of the acknowledge link, in the words the browser asked for.
fn link_html(status: StatusCode, body: String) -> Response {
    let mut response = html(status, body);
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

fn words_for(headers: &HeaderMap) -> &'static AckWords {
    ack_words::for_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

fn store_failed(app: &App, what: &str, e: &impl std::fmt::Display, words: &AckWords) -> Response {
    app.log.error(&format!("{what}: {e}"));
    link_html(StatusCode::SERVICE_UNAVAILABLE, html::unavailable_page(words))
}

/// Orders registered this long before their page still count as its own (the clocks of
/// replicas differ a little; a sender opens the page first, as its SMS carries the link).
const CLOCK_SKEW: i64 = 60 * 1000;

/// The numbers the page's SMS went to: the orders of its alert id from when it was opened until
/// the next page of that alert id (an alert id lives across incidents), at most for the link's
/// lifetime. None when unknown: the page is shown without them.
async fn numbers_of(app: &App, page: &Page) -> Vec<String> {
    if page.alert_id.is_empty() {
        return Vec::new();
    }
    let until = match app.store.next_page_of_alert(&page.alert_id, page.created_at).await {
        Ok(Some(next)) => next,
        _ => page.created_at + html::LINK_LIFETIME.as_millis() as i64,
    };
    let from = page.created_at - CLOCK_SKEW;
    app.store.alert_numbers(&page.alert_id, from, until).await.unwrap_or_default()
}

/// `GET /a/{code}`: shows the page; acknowledges nothing.
pub async fn show_link(State(app): State<Arc<App>>, Path(code): Path<String>, headers: HeaderMap) -> Response {
    let words = words_for(&headers);
    if code.len() > MAX_CODE {
        return link_html(StatusCode::NOT_FOUND, html::not_found_page(words));
    }
    let now = now_ms();
    match app.store.page_by_code(&code).await {
        Ok(None) => link_html(StatusCode::NOT_FOUND, html::not_found_page(words)),
        Ok(Some(page)) if html::expired(&page, now) => link_html(StatusCode::GONE, html::expired_page(words)),
        Ok(Some(page)) => {
            let numbers = numbers_of(&app, &page).await;
            link_html(StatusCode::OK, html::ack_page(&page, &numbers, now, false, words))
        }
        Err(e) => store_failed(&app, "a page could not be read", &e, words),
    }
}

/// `POST /a/{code}`: the button. Acknowledges (once; again changes nothing) and says when.
pub async fn acknowledge_link(State(app): State<Arc<App>>, Path(code): Path<String>, headers: HeaderMap) -> Response {
    let words = words_for(&headers);
    if code.len() > MAX_CODE {
        return link_html(StatusCode::NOT_FOUND, html::not_found_page(words));
    }
    let now = now_ms();
    match app.store.acknowledge(&code, now, html::opened_since(now)).await {
        Ok(None) => link_html(StatusCode::NOT_FOUND, html::not_found_page(words)),
        // The store acknowledges no expired page; this says so.
        Ok(Some(page)) if html::expired(&page, now) => link_html(StatusCode::GONE, html::expired_page(words)),
        Ok(Some(page)) => {
            if page.acknowledged_at == Some(now) {
                // A check's own page names its check (a name of the config, never a sender's text).
                let check = page
                    .alert_id
                    .strip_prefix("onfail-check-")
                    .filter(|name| app.checks.iter().any(|c| c.name == *name));
                let of = check.map(|name| format!(" (check {name})")).unwrap_or_default();
                app.log.line(&format!("page {} acknowledged by its link{of}", page.page_id));
            }
            app.changed.notify_waiters();
            let numbers = numbers_of(&app, &page).await;
            link_html(StatusCode::OK, html::ack_page(&page, &numbers, now, true, words))
        }
        Err(e) => store_failed(&app, "a page could not be acknowledged", &e, words),
    }
}

/// The password of `Authorization: Basic …` (any user name) is the API token.
fn basic_authorized(app: &App, headers: &HeaderMap) -> bool {
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default().trim();
    let Some((scheme, encoded)) = given.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    text.split_once(':').is_some_and(|(_, password)| app.api_token.matches(password))
}

/// `GET /`: pages, checks and SMS orders, newest first.
pub async fn web_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if !basic_authorized(&app, &headers) {
        let mut response = html(StatusCode::UNAUTHORIZED, html::unauthorized_page());
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"onfail\""));
        return response;
    }
    let pages = match app.store.recent_pages(SHOWN).await {
        Ok(pages) => pages,
        Err(e) => return store_failed(&app, "the pages could not be read", &e, &ack_words::ENGLISH),
    };
    let orders = match app.store.recent_orders(SHOWN).await {
        Ok(orders) => orders,
        Err(e) => return store_failed(&app, "the orders could not be read", &e, &ack_words::ENGLISH),
    };
    let checks = match super::pings::judged(&app).await {
        Ok(judged) => judged
            .into_iter()
            .map(|(check, kept, judged)| {
                let state = match (super::pings::why(judged.health), &kept.last_ping_kind) {
                    (Some(why), _) => format!("down ({why})"),
                    (None, Some(kind)) => format!("{} (last ping: {kind})", judged.health.name()),
                    (None, None) => judged.health.name().to_string(),
                };
                html::CheckLine { name: check.name.clone(), state, next_due: judged.next_due }
            })
            .collect::<Vec<_>>(),
        Err(e) => return store_failed(&app, "the checks could not be read", &e, &ack_words::ENGLISH),
    };
    let watches = match super::watch::shown::shown(&app).await {
        Ok(shown) => shown.iter().map(watch_line).collect::<Vec<_>>(),
        Err(e) => return store_failed(&app, "the watches could not be read", &e, &ack_words::ENGLISH),
    };
    html(StatusCode::OK, html::web_page(&pages, &checks, &watches, &orders, now_ms()))
}

fn watch_line(shown: &super::watch::shown::Shown) -> html::WatchLine {
    let name = match shown.seen.as_ref().map(|seen| seen.name.trim()).filter(|name| !name.is_empty()) {
        Some(name) => format!("{} {} ({name})", shown.watch.repository, shown.watch.workflow),
        None => format!("{} {}", shown.watch.repository, shown.watch.workflow),
    };
    let state = match (shown.why(), shown.seen.as_ref()) {
        (Some(why), _) => format!("down ({why})"),
        (None, Some(seen)) => format!("{} (workflow {})", shown.state(), seen.state),
        (None, None) => shown.state().to_string(),
    };
    let last_run = shown.last_run().map(|run| {
        let outcome = run.conclusion.clone().unwrap_or_else(|| run.status.clone());
        (run.created_at, format!("#{} {outcome}", run.number))
    });
    html::WatchLine {
        name,
        state,
        schedule: shown.schedule(),
        last_run,
        next_due: shown.next_due,
        warning: shown.warning.clone(),
        answered_since: shown.warning.as_ref().is_some_and(|(at, _)| shown.observed_at.is_some_and(|seen| seen > *at)),
    }
}
