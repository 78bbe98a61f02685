//! Incidents through an incident.io HTTP alert source (`docs/providers.md`, "incident.io HTTP
//! alert source"): `failure` sends `status: "firing"`, `success` sends `status: "resolved"`, both
//! with `deduplication_key` = the alert id. The source's token goes in an `Authorization: Bearer`
//! header, never in the URL; the URL's path names the source, so it is hidden too.

use serde::Serialize;
use serde_json::{Map, Value};

use super::incident::{self, IncidentChannel};
use super::{Alert, Channel, Provider, SharedArgs};
use crate::error::ConfigError;
use crate::redact::Redactor;
use crate::values::{check_url, header_value_error, non_empty};
use crate::wire::{Delivery, Header, Ids, Response, Verdict, generic_verdict, web_page};

/// Where the alert source's page shows the two values.
const WHERE: &str = "incident.io: Alerts → Sources → your HTTP source";

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incident (incident.io)")]
#[group(id = "incidentio")]
pub struct Args {
    /// URL of an incident.io HTTP alert source
    /// (https://api.incident.io/v2/alert_events/http/<id>); enables incident.io
    #[arg(long, env = "ONFAIL_INCIDENTIO_URL", value_name = "URL", hide_env_values = true)]
    pub incidentio_url: Option<String>,

    /// The alert source's token, sent as Authorization: Bearer (a secret)
    #[arg(long, env = "ONFAIL_INCIDENTIO_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub incidentio_token: Option<String>,
}

/// The event (`docs/providers.md`, "incident.io HTTP alert source").
#[derive(Clone, Debug, Serialize)]
struct Event {
    status: &'static str,
    title: String,
    description: String,
    deduplication_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    source_url: String,
    metadata: Map<String, Value>,
}

impl Provider for Args {
    const CHANNEL: &'static str = "incidentio";
    const ENABLED_BY: &'static str = "--incidentio-url";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(url) = non_empty(&self.incidentio_url) {
            redactor.url_secrets(url, true);
        }
        if let Some(token) = non_empty(&self.incidentio_token) {
            redactor.secret(token);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        configure(self, shared, alert)
    }
}

fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(raw) = non_empty(&args.incidentio_url) else {
        return Ok(None);
    };
    let url = check_url("--incidentio-url", raw)?;
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::new(
            "--incidentio-url",
            format!(
                "has no alert source in its path: give the whole URL the source shows \
                 (https://api.incident.io/v2/alert_events/http/SOURCE_ID; {WHERE})"
            ),
        ));
    }
    let Some(token) = non_empty(&args.incidentio_token).map(str::trim) else {
        return Err(ConfigError::new(
            "--incidentio-token",
            format!("is required with --incidentio-url: give the alert source's token ({WHERE})"),
        ));
    };
    // Sent as `Authorization: Bearer <token>`: a token that is itself only a scheme is the
    // rest of `Bearer ${{ secrets.UNSET }}`.
    if let Some(why) = header_value_error(token) {
        return Err(ConfigError::new("--incidentio-token", format!("{why} (it is sent as Authorization: Bearer)")));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            "--incidentio-token",
            "contains spaces or line breaks: paste the token alone, without \"Bearer\"",
        ));
    }
    let ctx = &alert.context;
    let incident = shared.incident.resolve(ctx)?;
    incident::require_title(&alert.title, "incident.io")?;
    let event = Event {
        // Cancelled and skipped never reach a request (see `skip_reason`).
        status: incident::open_or_resolve(ctx.status, "firing", "resolved"),
        title: alert.title.clone(),
        description: incident::description(alert),
        deduplication_key: incident.alert_id,
        source_url: incident.link,
        metadata: incident::details(ctx, incident.priority),
    };
    // The path names the alert source: hidden too.
    let mut channel = IncidentChannel::new(url, true, event);
    channel.headers.push(Header::secret("Authorization", &format!("Bearer {token}")));
    Ok(Some(Box::new(channel)))
}

/// incident.io's reason for a refusal: the `message` of each entry of `errors`, else the body.
fn reason(response: &Response) -> String {
    let messages: Vec<String> = response
        .json()
        .and_then(|json| json["errors"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    let text = if messages.is_empty() { response.excerpt() } else { messages.join("; ") };
    crate::wire::said_by("incident.io", &crate::values::truncate_chars(&text, 300).0)
}

impl incident::Event for Event {
    const CHANNEL: &'static str = Args::CHANNEL;
    const PROVIDER: &'static str = "incident.io";

    fn alert_id(&self) -> &str {
        &self.deduplication_key
    }

    fn verdict(&self, response: &Response, ids: Ids) -> Verdict {
        if let Some(why) = web_page(response, "incident.io", "the event", "--incidentio-url") {
            return Verdict::Permanent(why);
        }
        match response.status {
            200..=299 => Verdict::Delivered(Delivery {
                detail: format!("status {} for deduplication_key {}", self.status, self.deduplication_key),
                ids,
                warnings: Vec::new(),
            }),
            401 | 403 => Verdict::Permanent(format!(
                "incident.io did not accept the token (HTTP {}): check --incidentio-token is the token of this alert \
                 source ({WHERE}){}",
                response.status,
                reason(response)
            )),
            404 => Verdict::Permanent(format!(
                "incident.io knows no such alert source (HTTP 404): copy --incidentio-url again ({WHERE}){}",
                reason(response)
            )),
            400 | 422 => Verdict::Permanent(format!(
                "incident.io refused the event (HTTP {}): check --title, --message and --alert-url{}",
                response.status,
                reason(response)
            )),
            _ => generic_verdict(response, "incident.io"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn alert(status: Status) -> Alert {
        incident::test_alert(status, "Deploy failed in acme/api", Some("it broke"))
    }

    fn args() -> Args {
        Args {
            incidentio_url: Some("https://api.incident.io/v2/alert_events/http/01SOURCE".into()),
            incidentio_token: Some(" tok-123 ".into()),
        }
    }

    fn channel(status: Status) -> Box<dyn Channel> {
        configure(&args(), &SharedArgs::default(), &alert(status)).unwrap().expect("enabled")
    }

    fn response(status: u16, body: &str) -> Response {
        Response { status, body: body.as_bytes().to_vec(), ..Response::default() }
    }

    #[test]
    fn firing_then_resolved_under_one_key_with_the_token_as_bearer() {
        let red = channel(Status::Failure).request(1);
        let green = channel(Status::Success).request(1);
        let (r, g): (Value, Value) =
            (serde_json::from_slice(&red.body).unwrap(), serde_json::from_slice(&green.body).unwrap());
        assert_eq!((r["status"].as_str(), g["status"].as_str()), (Some("firing"), Some("resolved")));
        assert_eq!(r["deduplication_key"], g["deduplication_key"]);
        assert!(r["deduplication_key"].as_str().unwrap().starts_with("onfail-"));
        assert_eq!(r["title"], "Deploy failed in acme/api");
        assert_eq!(r["description"], "it broke");
        assert_eq!(r["source_url"], "https://github.com/acme/api/actions/runs/9");
        assert_eq!(r["metadata"]["repository"], "acme/api");
        assert_eq!(r["metadata"]["priority"], "critical");
        let auth = &red.headers[0];
        assert_eq!((auth.name.as_str(), auth.value.as_str(), auth.secret), ("Authorization", "Bearer tok-123", true));
        assert_eq!(channel(Status::Failure).endpoint(), "https://api.incident.io/***");
    }

    #[test]
    fn a_url_without_a_token_or_a_source_is_a_usage_error() {
        let alert = alert(Status::Failure);
        let err = |args: Args| configure(&args, &SharedArgs::default(), &alert).err().unwrap().to_string();
        assert!(err(Args { incidentio_token: None, ..args() }).starts_with("--incidentio-token: is required"));
        assert!(err(Args { incidentio_token: Some("Bearer x".into()), ..args() }).contains("without \"Bearer\""));
        let no_source = Args { incidentio_url: Some("https://api.incident.io/".into()), ..args() };
        assert!(err(no_source).starts_with("--incidentio-url: has no alert source"));
        // A token alone enables nothing.
        let token_only = Args { incidentio_url: None, ..args() };
        assert!(configure(&token_only, &SharedArgs::default(), &alert).unwrap().is_none());
    }

    #[test]
    fn verdicts_give_the_reason_and_what_to_fix() {
        let channel = channel(Status::Failure);
        let accepted = r#"{"deduplication_key":"x","message":"Event accepted for processing","status":"success"}"#;
        assert!(matches!(channel.classify(&response(202, accepted), 1), Verdict::Delivered(_)));
        let invalid =
            r#"{"type":"validation_error","status":422,"errors":[{"code":"missing","message":"title is required"}]}"#;
        match channel.classify(&response(422, invalid), 1) {
            Verdict::Permanent(text) => assert!(text.ends_with("(incident.io said: title is required)"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(channel.classify(&response(401, ""), 1), Verdict::Permanent(t) if t.contains("--incidentio-token"))
        );
        assert!(
            matches!(channel.classify(&response(404, ""), 1), Verdict::Permanent(t) if t.contains("--incidentio-url"))
        );
        assert!(matches!(channel.classify(&response(429, ""), 1), Verdict::Transient(_)));
        assert!(matches!(channel.classify(&response(503, ""), 1), Verdict::Transient(_)));
    }
}
