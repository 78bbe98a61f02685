//! Any HTTPS webhook (docs/webhooks.md, "Webhooks"): one JSON POST with the user's headers sent as given,
//! optional Standard Webhooks signing, and the body either the standard event, the user's JSON
//! template, or the minimal Slack or Discord message.

mod body;
mod headers;
pub mod signing;

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Alert, Channel, Provider, SharedArgs};
use crate::edge::Role;
use crate::error::ConfigError;
use crate::redact::{self, Redactor};
use crate::template::PLACEHOLDERS;
use crate::texts::Audience;
use crate::values::{check_url, non_empty, one_of};
use crate::wire::{Delivery, Header, Request, Response, Verdict, generic_verdict, web_page};
use signing::Signer;

/// URL path segments at least this long are treated as credentials by the redactor (Slack's
/// token has 24 characters, Discord's 68); shorter ones are words like `api` or `hooks`, and
/// hiding those would garble every line that happens to contain them.
const CREDENTIAL_SEGMENT: usize = 16;

/// What the body looks like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The standard event, or `--webhook-body`.
    #[default]
    Json,
    /// `{"text": …}` for Slack incoming webhooks (and Slack-compatible receivers).
    Slack,
    /// `{"content": …}` for Discord webhooks.
    Discord,
}

const FORMATS: &[(&str, Format)] = &[("json", Format::Json), ("slack", Format::Slack), ("discord", Format::Discord)];

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Discord => "discord",
        }
    }

    /// The receiver, as error messages name it.
    fn receiver(self) -> &'static str {
        match self {
            Format::Json => "the webhook receiver",
            Format::Slack => "Slack",
            Format::Discord => "Discord",
        }
    }
}

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Webhook")]
#[group(id = "webhook")]
pub struct Args {
    /// HTTPS endpoint to POST the alert to; enables the webhook (path and query are kept secret)
    #[arg(long, env = "ONFAIL_WEBHOOK_URL", value_name = "URL", hide_env_values = true)]
    pub webhook_url: Option<String>,

    /// Extra request headers, one `Name: value` per line; may repeat. Values are secret
    #[arg(long, env = "ONFAIL_WEBHOOK_HEADERS", value_name = "LINES", action = clap::ArgAction::Append,
          hide_env_values = true)]
    pub webhook_headers: Vec<String>,

    /// Sign each request per Standard Webhooks; a whsec_ secret is base64-decoded, any other is used as is
    #[arg(long, env = "ONFAIL_WEBHOOK_SECRET", value_name = "SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// JSON body template; {placeholders} (plus {title} and {message}) in string values are filled in
    #[arg(long, env = "ONFAIL_WEBHOOK_BODY", value_name = "JSON", hide_env_values = true)]
    pub webhook_body: Option<String>,

    /// json (the standard event), or slack or discord for those chat webhooks [default: json]
    #[arg(long, env = "ONFAIL_WEBHOOK_FORMAT", value_name = "FORMAT", value_parser = one_of("a webhook format", FORMATS),
          hide_env_values = true)]
    pub webhook_format: Option<Format>,
}

impl Provider for Args {
    const CHANNEL: &'static str = "webhook";
    const ENABLED_BY: &'static str = "--webhook-url";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(url) = non_empty(&self.webhook_url) {
            redactor.url_secrets(url, false);
            // Slack, Discord and many others put the credential in the path.
            if let Ok(parsed) = reqwest::Url::parse(url.trim()) {
                parsed.path().split('/').filter(|s| s.len() >= CREDENTIAL_SEGMENT).for_each(|s| redactor.secret(s));
            }
        }
        for secret in headers::secrets(&self.webhook_headers) {
            redactor.secret(&secret);
        }
        if let Some(secret) = non_empty(&self.webhook_secret) {
            redactor.secret(secret);
            if let Some(encoded) = secret.trim().strip_prefix(signing::SECRET_PREFIX) {
                redactor.secret(encoded);
            }
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        configure(self, shared, alert)
    }
}

pub struct Webhook {
    url: reqwest::Url,
    format: Format,
    headers: Vec<headers::HeaderLine>,
    /// Built once: every attempt sends, and signs, exactly these bytes.
    body: Vec<u8>,
    signer: Option<Signer>,
    /// One per alert, the same on every retry (Standard Webhooks' idempotency key).
    id: String,
    warnings: Vec<String>,
}

/// The webhook channel, if `--webhook-url` is set; an error if anything about it is wrong.
fn configure(args: &Args, _shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(url) = non_empty(&args.webhook_url) else {
        return Ok(None);
    };
    let url = check_url("--webhook-url", url)?;
    let headers = headers::parse(&args.webhook_headers).map_err(|e| ConfigError::new("--webhook-headers", e))?;
    let signer = non_empty(&args.webhook_secret)
        .map(Signer::new)
        .transpose()
        .map_err(|e| ConfigError::new("--webhook-secret", e))?;
    let format = args.webhook_format.unwrap_or_default();
    let message = if alert.recovered(Role::Webhook) {
        alert.recovered_text(Audience::Screen)
    } else {
        alert.message.clone().unwrap_or_else(|| alert.language.texts(Audience::Screen).detailed(&alert.context))
    };
    let mut warnings = Vec::new();
    let body = match (format, non_empty(&args.webhook_body)) {
        (Format::Json, None) => body::standard(&alert.context, &alert.title, &message),
        (Format::Json, Some(template)) => template_body(template, alert, &message)?,
        (_, Some(_)) => {
            return Err(ConfigError::new(
                "--webhook-body",
                format!(
                    "cannot be combined with --webhook-format {0}, which writes the body itself; drop one of \
                     them (to send your own {0} body, give it in --webhook-body with --webhook-format json)",
                    format.as_str()
                ),
            ));
        }
        (Format::Slack | Format::Discord, None) => {
            let (chat, limit) = match format {
                Format::Slack => (body::slack(&message), body::SLACK_MAX),
                _ => (body::discord(&message), body::DISCORD_MAX),
            };
            if let Some(length) = chat.cut_from {
                warnings.push(format!(
                    "the message has {length} characters; {} shows at most {limit}, so it was cut",
                    format.receiver()
                ));
            }
            chat.body
        }
    };
    let id = signing::message_id();
    Ok(Some(Box::new(Webhook { url, format, headers, body, signer, id, warnings })))
}

fn template_body(template: &str, alert: &Alert, message: &str) -> Result<Vec<u8>, ConfigError> {
    let lookup = |name: &str| match name {
        "title" => alert.title.clone(),
        "message" => message.to_string(),
        _ => alert.context.placeholder(name),
    };
    body::from_template(template, lookup).map_err(|problem| {
        let why = match problem {
            body::TemplateProblem::Json(e) if e.contains("control character") => format!(
                "is not valid JSON ({e}): a line break inside a JSON string must be written \\n; the template \
                 is checked before its placeholders are filled"
            ),
            body::TemplateProblem::Json(e) => {
                format!("is not valid JSON ({e}); the template is checked before its placeholders are filled")
            }
            body::TemplateProblem::Placeholder(crate::template::TemplateError::Unknown(name)) => {
                let valid: Vec<String> =
                    PLACEHOLDERS.iter().chain(&body::EXTRA_PLACEHOLDERS).map(|p| format!("{{{p}}}")).collect();
                format!(
                    "unknown placeholder {{{name}}}; valid placeholders are {} (write {{{{name}}}} for a literal {{name}})",
                    valid.join(" ")
                )
            }
        };
        ConfigError::new("--webhook-body", why)
    })
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Channel for Webhook {
    fn name(&self) -> &'static str {
        Args::CHANNEL
    }

    fn provider(&self) -> &'static str {
        self.format.as_str()
    }

    /// The path is hidden whatever the format: for Slack, Discord, Teams, Zapier and many
    /// others the URL itself is the credential.
    fn endpoint(&self) -> String {
        redact::url(&self.url, self.url.path() != "/")
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// User headers first, as given; then, when signing, the Standard Webhooks headers with a
    /// timestamp taken now, for this attempt.
    fn request(&self, _attempt: u32) -> Request {
        let mut headers: Vec<Header> = self.headers.iter().map(|h| Header::secret(&h.name, &h.value)).collect();
        if let Some(signer) = &self.signer {
            let timestamp = unix_now();
            headers.push(Header::public("webhook-id", &self.id));
            headers.push(Header::public("webhook-timestamp", &timestamp.to_string()));
            // Not a secret as such, but a fresh signature printed in a log could be replayed
            // within the receiver's tolerance window; dry runs show it as ***.
            headers.push(Header::secret("webhook-signature", &signer.sign(&self.id, timestamp, &self.body)));
        }
        // A signed request carries the same `webhook-id` on every attempt, which Standard
        // Webhooks receivers deduplicate by; an unsigned one has nothing a receiver could tell a
        // repeat by.
        Request { url: self.url.clone(), headers, body: self.body.clone(), repeat_safe: self.signer.is_some() }
    }

    fn classify(&self, response: &Response, _attempt: u32) -> Verdict {
        let receiver = self.format.receiver();
        let status = response.status;
        let said = response.said_by(receiver);
        let page = web_page(response, receiver, "the message", "--webhook-url");
        match status {
            // Slack and Discord answer with a word or JSON, never a page: a page came from
            // someone else. Any other receiver is yours, and may well answer with a page.
            200..=299 if page.is_some() && self.format != Format::Json => Verdict::Permanent(page.unwrap_or_default()),
            200..=299 => {
                let detail = match self.signer {
                    Some(_) => format!("delivered, webhook-id {}", self.id),
                    None => "delivered".to_string(),
                };
                let warnings = page
                    .map(|_| {
                        format!(
                            "the receiver answered HTTP {status} with a web page: if that is a proxy's or captive \
                             portal's login page, the alert did not arrive; check --webhook-url and HTTPS_PROXY"
                        )
                    })
                    .into_iter()
                    .collect();
                Verdict::Delivered(Delivery { detail, warnings, ..Delivery::default() })
            }
            401 | 403 => Verdict::Permanent(format!(
                "{receiver} refused the request (HTTP {status}){said}: check the credentials in --webhook-headers \
                 or --webhook-secret"
            )),
            404 => Verdict::Permanent(format!(
                "{receiver} has no webhook at that URL (HTTP 404){said}: check --webhook-url; the webhook may have \
                 been deleted"
            )),
            410 => Verdict::Permanent(format!(
                "the endpoint is gone (HTTP 410){said}: {receiver} has disabled or deleted this webhook; create a \
                 new one and update --webhook-url"
            )),
            _ => generic_verdict(response, receiver),
        }
    }
}
