//! The sender's side of `onfail serve` (docs/serve-senders.md): `--server` and
//! `--server-token`, and the few API calls a sender makes: register an SMS order, read its
//! delivery by long-poll, open an acknowledgeable page, and long-poll that page.
//!
//! Every call goes through the one [`Transport`] (no redirects, a deadline, answers redacted on
//! arrival) and is a few seconds at most: the service is optional, so any failure here is a
//! warning and the alert goes on without it (never a missed or late page).

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::ConfigError;
use crate::phone::Phone;
use crate::redact::Redactor;
use crate::transport::Transport;
use crate::values::{check_url, header_value_error, non_empty};
use crate::wire::{Header, Request, Response};

/// How long a write (register, open) may take: the page must not wait on the service.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// What a long-poll asks the service to wait at most; the request's own timeout adds
/// [`READ_SLACK`] to it.
pub const POLL_WAIT: Duration = Duration::from_secs(20);
/// How long after its wait a long-poll's answer may come before the service counts as down.
pub const ANSWER_SLACK: Duration = Duration::from_secs(2);

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "onfail serve (acknowledge links, delivery reports)")]
#[group(id = "companion")]
pub struct Args {
    /// The URL of an `onfail serve`: SMS orders are registered there, delivery is learned from
    /// it, and a failure page carries a link that acknowledges it
    #[arg(long, env = "ONFAIL_SERVER", value_name = "URL", hide_env_values = true)]
    pub server: Option<String>,

    /// The service's --api-token (a secret)
    #[arg(long, env = "ONFAIL_SERVER_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub server_token: Option<String>,
}

impl Args {
    /// Why `--server` is set but not used, if it is: its token is empty.
    pub fn unused(&self) -> Option<String> {
        (non_empty(&self.server).is_some() && non_empty(&self.server_token).is_none()).then(|| {
            "--server is set but --server-token is empty (a fork's pull request gets no secrets), so onfail serve is \
             not used: no acknowledge link, delivery from get-report; pass the service's --api-token as \
             --server-token"
                .to_string()
        })
    }

    pub fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(token) = non_empty(&self.server_token) {
            redactor.secret(token.trim());
        }
        if let Some(url) = non_empty(&self.server) {
            redactor.url_password_of(url);
        }
    }
}

/// A configured `onfail serve`.
#[derive(Clone)]
pub struct Server {
    base: reqwest::Url,
    token: String,
}

/// Never the token, nor a password in the URL.
impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("base", &crate::redact::url(&self.base, false)).finish_non_exhaustive()
    }
}

/// An acknowledgeable page the service opened.
#[derive(Clone, Debug)]
pub struct OpenedPage {
    pub page_id: String,
    pub ack_url: String,
}

/// The delivery state of one recipient of an order, as the service knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Pending,
    Delivered,
    Undelivered,
}

impl Server {
    /// The server, if `--server` is set with its token; an error naming the option when either
    /// is wrong. A URL without a token is no server (see [`Args::unused`]): a fork's pull request
    /// gets no secrets, and its alert must still go out.
    pub fn from_args(args: &Args) -> Result<Option<Server>, ConfigError> {
        let Some(url) = non_empty(&args.server) else {
            if non_empty(&args.server_token).is_some() {
                return Err(ConfigError::new(
                    "--server-token",
                    "is set but --server is not: give the URL of your onfail serve with --server, or remove the token",
                ));
            }
            return Ok(None);
        };
        let base = check_url("--server", url)?;
        let Some(token) = non_empty(&args.server_token).map(str::trim) else { return Ok(None) };
        if let Some(why) = header_value_error(token) {
            return Err(ConfigError::new("--server-token", why));
        }
        Ok(Some(Server { base, token: token.to_string() }))
    }

    /// The `--server` URL and the token, for the history kept there (`history::remote`).
    pub fn base_and_token(&self) -> (&reqwest::Url, &str) {
        (&self.base, &self.token)
    }

    /// `/v1/ping/{check}[/{what}]` (docs/serve-checks.md): `what` is `start`, or the exit code.
    pub fn ping(&self, transport: &Transport, check: &str, what: &str) -> Result<(), String> {
        let path = match what {
            "" => format!("/v1/ping/{check}"),
            what => format!("/v1/ping/{check}/{what}"),
        };
        expect(&transport.send_once(&self.request(&path, json!({})), WRITE_TIMEOUT)?, &[200]).map(|_| ())
    }

    /// Whether the service is reached over https (the transport then needs the trust roots).
    pub fn is_https(&self) -> bool {
        self.base.scheme() == "https"
    }

    fn request(&self, path: &str, body: Value) -> Request {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{prefix}{path}"));
        Request {
            url,
            headers: vec![Header::secret("Authorization", &format!("Bearer {}", self.token))],
            body: body.to_string().into_bytes(),
            repeat_safe: true,
        }
    }

    /// `POST /v1/orders`: the service learns which delivery reports are this order's.
    pub fn register_order(
        &self,
        transport: &Transport,
        order_id: &str,
        phones: &[Phone],
        alert_id: &str,
        run_url: &str,
    ) -> Result<(), String> {
        let numbers: Vec<String> = phones.iter().map(Phone::international).collect();
        let body = json!({"order_id": order_id, "alert_id": alert_id, "numbers": numbers, "run_url": run_url});
        let response = transport.send_once(&self.request("/v1/orders", body), WRITE_TIMEOUT)?;
        expect(&response, &[200, 201]).map(|_| ())
    }

    /// `GET /v1/orders/{id}?wait=`: each phone's state, in the order of `phones`, answered as
    /// soon as something changed or all are final, at the latest after `wait`.
    pub fn order_states(
        &self,
        transport: &Transport,
        order_id: &str,
        phones: &[Phone],
        wait: Duration,
    ) -> Result<Vec<Delivery>, String> {
        let path = format!("/v1/orders/{}", encode(order_id));
        let (request, timeout) = self.long_poll(&path, wait);
        let answer = expect(&transport.get_once(&request, timeout)?, &[200])?;
        let recipients = answer["recipients"].as_array().cloned().unwrap_or_default();
        Ok(phones
            .iter()
            .map(|phone| {
                let number = phone.international();
                let status =
                    recipients.iter().find(|r| r["to"].as_str() == Some(&number)).and_then(|r| r["status"].as_str());
                match status {
                    Some("delivered") => Delivery::Delivered,
                    Some("undelivered") => Delivery::Undelivered,
                    _ => Delivery::Pending,
                }
            })
            .collect())
    }

    /// `POST /v1/pages`: a page that the link in its SMS acknowledges.
    pub fn open_page(
        &self,
        transport: &Transport,
        alert_id: &str,
        title: &str,
        run_url: &str,
    ) -> Result<OpenedPage, String> {
        let body = json!({"alert_id": alert_id, "title": title, "run_url": run_url});
        let answer = expect(&transport.send_once(&self.request("/v1/pages", body), WRITE_TIMEOUT)?, &[201, 200])?;
        match (answer["page_id"].as_str(), answer["ack_url"].as_str()) {
            (Some(page_id), Some(ack_url)) if ack_url.starts_with("http") => {
                Ok(OpenedPage { page_id: page_id.to_string(), ack_url: ack_url.to_string() })
            }
            _ => Err("the service's answer carried no page_id and ack_url".into()),
        }
    }

    /// `GET /v1/pages/{id}?wait=`: `Some(when)` once the page is acknowledged.
    pub fn acknowledged(&self, transport: &Transport, page_id: &str, wait: Duration) -> Result<Option<String>, String> {
        let (request, timeout) = self.long_poll(&format!("/v1/pages/{}", encode(page_id)), wait);
        let answer = expect(&transport.get_once(&request, timeout)?, &[200])?;
        Ok((answer["acknowledged"] == true)
            .then(|| answer["acknowledged_at"].as_str().unwrap_or("an unknown time").to_string()))
    }

    fn long_poll(&self, path: &str, wait: Duration) -> (Request, Duration) {
        let mut request = self.request(path, Value::Null);
        let seconds = wait.min(POLL_WAIT).as_secs_f64();
        request.url.set_query(Some(&format!("wait={seconds:.1}")));
        (request, wait.min(POLL_WAIT) + ANSWER_SLACK)
    }
}

/// The JSON answer when the status is one of `ok`; otherwise why not, with the fix for a 401.
fn expect(response: &Response, ok: &[u16]) -> Result<Value, String> {
    match response.status {
        status if ok.contains(&status) => response.json().ok_or_else(|| "the service's answer is not JSON".into()),
        401 => Err("the service refused the token (401): --server-token must be its --api-token".into()),
        status => Err(format!("the service answered HTTP {status}: {}", response.excerpt())),
    }
}

/// An id as one path segment.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
