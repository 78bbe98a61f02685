//! The sender's side of `onfail serve`: `--server` and `--server-token`, and the calls a
//! sender makes: here the pings of `onfail run --check` (docs/serve-checks.md).
//!
//! Every call goes through the one [`Transport`] (no redirects, a deadline, answers redacted on
//! arrival) and is a few seconds at most: the service is optional, so any failure here is a
//! warning and the alert goes on without it (never a missed or late page).

use std::time::Duration;

use serde_json::{Value, json};

use crate::error::ConfigError;
use crate::redact::Redactor;
use crate::transport::Transport;
use crate::values::{check_url, header_value_error, non_empty};
use crate::wire::{Header, Request, Response};

/// How long a write (register, open) may take: the page must not wait on the service.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

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
#[derive(Clone, Debug)]
pub struct Server {
    base: reqwest::Url,
    token: String,
}

impl Server {
    /// The server, if `--server` is set; an error naming the option when it is set wrongly.
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
        let token = non_empty(&args.server_token).map(str::trim).ok_or_else(|| {
            ConfigError::new("--server-token", "missing: --server needs the service's --api-token (pass a secret)")
        })?;
        if let Some(why) = header_value_error(token) {
            return Err(ConfigError::new("--server-token", why));
        }
        Ok(Some(Server { base, token: token.to_string() }))
    }

    /// The `--server` URL and the token, for the history kept there (`history::remote`).
    pub fn base_and_token(&self) -> (&reqwest::Url, &str) {
        (&self.base, &self.token)
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

    /// `/v1/ping/{check}[/{what}]` (docs/serve-checks.md): `what` is `start`, or the exit code.
    pub fn ping(&self, transport: &Transport, check: &str, what: &str) -> Result<(), String> {
        let path = match what {
            "" => format!("/v1/ping/{check}"),
            what => format!("/v1/ping/{check}/{what}"),
        };
        expect(&transport.send_once(&self.request(&path, json!({})), WRITE_TIMEOUT)?, &[200]).map(|_| ())
    }
}

fn expect(response: &Response, ok: &[u16]) -> Result<Value, String> {
    match response.status {
        status if ok.contains(&status) => response.json().ok_or_else(|| "the service's answer is not JSON".into()),
        401 => Err("the service refused the token (401): --server-token must be its --api-token".into()),
        status => Err(format!("the service answered HTTP {status}: {}", response.excerpt())),
    }
}
