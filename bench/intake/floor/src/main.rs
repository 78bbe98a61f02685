//! The floor: what any Rust HTTP handler of a delivery report costs at least. It checks the
//! token of `?token=` and parses the JSON body, as `onfail serve` does, and stores nothing.
//! Usage: intake-floor PORT TOKEN (prints nothing; ready when the port accepts connections).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::Value;

async fn receive(State(token): State<Arc<String>>, RawQuery(query): RawQuery, body: Bytes) -> impl IntoResponse {
    let given = query.as_deref().unwrap_or_default().split('&').find_map(|pair| pair.strip_prefix("token="));
    if given != Some(token.as_str()) {
        return (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "application/json")], r#"{"error":"token"}"#);
    }
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let has_id = parsed.ok().and_then(|v| v.get("report")?.get("id").cloned()).is_some_and(|id| !id.is_null());
    if !has_id {
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], r#"{"error":"report"}"#);
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], r#"{"received":true}"#)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (port, token) = (args.next().expect("PORT"), args.next().expect("TOKEN"));
    let app = Router::new().route("/v1/iletimerkezi/reports", post(receive)).with_state(Arc::new(token));
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
