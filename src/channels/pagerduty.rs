//! Incidents through PagerDuty's Events API v2 (`docs/providers.md`, "PagerDuty Events API v2"):
//! `failure` sends a `trigger`, `success` a `resolve`, both with `dedup_key` = the alert id, so a
//! green run resolves the alert a red run opened. The routing key travels in the body; it is a
//! secret, so it shows as `***` in a dry run and never appears in any output.

use serde::Serialize;
use serde_json::{Map, Value};

use super::incident::{self, IncidentChannel, Priority};
use super::{Alert, Channel, Provider, SharedArgs};
use crate::error::ConfigError;
use crate::redact::Redactor;
use crate::values::{check_url, non_empty};
use crate::wire::{Delivery, Ids, Response, Verdict, generic_verdict, web_page};

/// PagerDuty's US endpoint; EU accounts use `https://events.eu.pagerduty.com/v2/enqueue`.
pub const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// The limits PagerDuty documents for `dedup_key` and `payload.summary`. The key is counted in
/// bytes, so it fits however PagerDuty counts.
const MAX_DEDUP_KEY: usize = 255;
const MAX_SUMMARY: usize = 1024;
/// The whole event may be at most 512 KB; the message in `custom_details` is the only part
/// that can grow without bound (a long `--message`, `onfail run`'s output tail). At most 4
/// bytes a character, this leaves room for everything else.
const MAX_MESSAGE: usize = 100_000;

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incident (PagerDuty)")]
#[group(id = "pagerduty")]
pub struct Args {
    /// Integration key of a PagerDuty "Events API V2" integration (a secret); enables PagerDuty
    #[arg(long, env = "ONFAIL_PAGERDUTY_ROUTING_KEY", value_name = "KEY", hide_env_values = true)]
    pub pagerduty_routing_key: Option<String>,

    /// Events API endpoint; EU accounts: https://events.eu.pagerduty.com/v2/enqueue
    /// [default: https://events.pagerduty.com/v2/enqueue]
    #[arg(long, env = "ONFAIL_PAGERDUTY_URL", value_name = "URL", hide_env_values = true)]
    pub pagerduty_url: Option<String>,
}

/// The event (`docs/providers.md`, "PagerDuty Events API v2"). A resolve needs only the key
/// and the `dedup_key`, so it carries no payload or links.
#[derive(Clone, Debug, Serialize)]
struct Event {
    routing_key: String,
    event_action: &'static str,
    dedup_key: String,
    /// The alert id the key comes from: the same, unless it was too long (see `platform_key`).
    #[serde(skip)]
    alert_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Payload>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

#[derive(Clone, Debug, Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    timestamp: String,
    custom_details: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize)]
struct Link {
    href: String,
    text: &'static str,
}

/// PagerDuty's severity for `--priority`: medium is a warning, not an error, so it does not
/// page with high urgency on services whose urgency follows severity.
fn severity(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "critical",
        Priority::Medium => "warning",
    }
}

impl Provider for Args {
    const CHANNEL: &'static str = "pagerduty";
    const ENABLED_BY: &'static str = "--pagerduty-routing-key";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(key) = non_empty(&self.pagerduty_routing_key) {
            redactor.secret(key);
        }
        if let Some(url) = non_empty(&self.pagerduty_url) {
            redactor.url_secrets(url, false);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        configure(self, shared, alert)
    }
}

fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(key) = non_empty(&args.pagerduty_routing_key).map(str::trim) else {
        return Ok(None);
    };
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            "--pagerduty-routing-key",
            "contains spaces or line breaks: paste the Integration Key alone (Service → Integrations → \
             Events API V2 → Integration Key)",
        ));
    }
    let url = check_url("--pagerduty-url", non_empty(&args.pagerduty_url).unwrap_or(DEFAULT_URL))?;
    let ctx = &alert.context;
    let incident = shared.incident.resolve(ctx)?;
    incident::require_title(&alert.title, "PagerDuty")?;
    let mut warnings = Vec::new();
    let dedup_key = incident::platform_key(&incident.alert_id, MAX_DEDUP_KEY, "PagerDuty's dedup_key", &mut warnings);
    if key.chars().count() != 32 {
        // PagerDuty answers 400 for a key of the wrong length; say so now, but still try.
        warnings.push(format!(
            "--pagerduty-routing-key has {} characters; an Events API V2 Integration Key has 32 (a REST API \
             key or a service id will be refused)",
            key.chars().count()
        ));
    }
    let action = incident::open_or_resolve(ctx.status, "trigger", "resolve");
    let (payload, links) = if action == "trigger" {
        let mut custom_details = incident::details(ctx, incident.priority);
        let message = incident::description(alert);
        custom_details.insert("message".into(), incident::cut(&message, MAX_MESSAGE, "message", &mut warnings).into());
        let payload = Payload {
            summary: incident::cut(&alert.title, MAX_SUMMARY, "summary", &mut warnings),
            source: [&ctx.repository, &ctx.hostname]
                .into_iter()
                .find(|s| !s.is_empty())
                .cloned()
                .unwrap_or("onfail".into()),
            severity: severity(incident.priority),
            timestamp: ctx.time.clone(),
            custom_details,
        };
        let text = if incident.link == ctx.job_url { "CI job" } else { "Details" };
        let links = if incident.link.is_empty() { Vec::new() } else { vec![Link { href: incident.link, text }] };
        (Some(payload), links)
    } else {
        (None, Vec::new())
    };
    let event = Event {
        routing_key: key.to_string(),
        event_action: action,
        dedup_key,
        alert_id: incident.alert_id,
        payload,
        links,
    };
    // The routing key travels in the body; the URL is PagerDuty's public endpoint.
    let mut channel = IncidentChannel::new(url, false, event);
    channel.warnings = warnings;
    Ok(Some(Box::new(channel)))
}

/// PagerDuty's reason for a refusal: `message` and each of `errors`, e.g. "Event object is
/// invalid: Length of 'routing_key' is incorrect (should be 32 characters)".
fn reason(response: &Response) -> String {
    let Some(json) = response.json() else {
        return response.excerpt();
    };
    let message = json["message"].as_str().unwrap_or_default().trim().to_string();
    let errors: Vec<String> = match &json["errors"] {
        Value::Array(list) => {
            list.iter().map(|e| e.as_str().map(str::to_string).unwrap_or_else(|| e.to_string())).collect()
        }
        _ => Vec::new(),
    };
    let text = match (message.is_empty(), errors.is_empty()) {
        (true, true) => return response.excerpt(),
        (false, true) => message,
        (true, false) => errors.join("; "),
        (false, false) => format!("{message}: {}", errors.join("; ")),
    };
    crate::values::truncate_chars(&text, 300).0
}

impl incident::Event for Event {
    const CHANNEL: &'static str = Args::CHANNEL;
    const PROVIDER: &'static str = "pagerduty";

    fn alert_id(&self) -> &str {
        &self.alert_id
    }

    fn verdict(&self, response: &Response, ids: Ids) -> Verdict {
        let detail = format!("{} for dedup_key {}", self.event_action, self.dedup_key);
        if let Some(why) = web_page(response, "PagerDuty", "the event", "--pagerduty-url") {
            return Verdict::Permanent(why);
        }
        let says_success = || response.json().is_some_and(|json| json["status"] == "success");
        match response.status {
            202 => Verdict::Delivered(Delivery { detail, ids, warnings: Vec::new() }),
            // Not PagerDuty's status, but PagerDuty's words (perhaps a proxy in between that
            // rewrites the status): taken.
            200..=299 if says_success() => Verdict::Delivered(Delivery {
                detail,
                ids,
                warnings: vec![format!(
                    "PagerDuty answered HTTP {} instead of its usual 202; check --pagerduty-url if the event does \
                     not show up",
                    response.status
                )],
            }),
            // PagerDuty takes an event with 202 and `"status":"success"` (docs/incidents.md, "Incidents
            // (PagerDuty)"); anything else did not come from it. Sent again: PagerDuty folds a
            // repeat into the alert of the same dedup_key.
            200..=299 => Verdict::Transient(format!(
                "HTTP {} without PagerDuty's answer to an accepted event (202, \"status\": \"success\"){}, so the \
                 event is not known to have reached PagerDuty; check --pagerduty-url and HTTPS_PROXY",
                response.status,
                response.said_by("the server")
            )),
            400 => Verdict::Permanent(format!(
                "PagerDuty refused the event (HTTP 400): {}; check that --pagerduty-routing-key is the Integration \
                 Key of an Events API V2 integration (Service → Integrations)",
                reason(response)
            )),
            401 | 403 | 404 => Verdict::Permanent(format!(
                "PagerDuty did not accept the request (HTTP {}): check --pagerduty-url (default {DEFAULT_URL}; EU \
                 accounts: https://events.eu.pagerduty.com/v2/enqueue){}",
                response.status,
                response.said_by("PagerDuty")
            )),
            _ => generic_verdict(response, "PagerDuty"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::incident::IncidentArgs;
    use crate::status::Status;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn alert(status: Status, title: &str) -> Alert {
        incident::test_alert(status, title, None)
    }

    fn channel(args: Args, shared: SharedArgs, alert: &Alert) -> Box<dyn Channel> {
        configure(&args, &shared, alert).unwrap().expect("enabled")
    }

    fn args() -> Args {
        Args { pagerduty_routing_key: Some(format!(" {KEY} ")), pagerduty_url: None }
    }

    fn body(channel: &dyn Channel) -> Value {
        serde_json::from_slice(&channel.request(1).body).unwrap()
    }

    fn response(status: u16, body: &str) -> Response {
        Response { status, body: body.as_bytes().to_vec(), ..Response::default() }
    }

    #[test]
    fn a_failure_triggers_with_every_documented_field() {
        let alert = alert(Status::Failure, "Deploy failed in acme/api");
        let channel = channel(args(), SharedArgs::default(), &alert);
        let body = body(channel.as_ref());
        assert_eq!(body["routing_key"], KEY);
        assert_eq!(body["event_action"], "trigger");
        let id = incident::default_alert_id(&alert.context);
        assert_eq!(body["dedup_key"], id.as_str());
        assert_eq!(body["payload"]["summary"], "Deploy failed in acme/api");
        assert_eq!(body["payload"]["source"], "acme/api");
        assert_eq!(body["payload"]["severity"], "critical");
        assert_eq!(body["payload"]["custom_details"]["repository"], "acme/api");
        assert!(
            body["payload"]["custom_details"]["message"].as_str().unwrap().starts_with("Deploy failed in acme/api.")
        );
        assert_eq!(
            body["links"],
            serde_json::json!([{"href": "https://github.com/acme/api/actions/runs/9", "text": "CI job"}])
        );
        assert_eq!(channel.endpoint(), DEFAULT_URL);
        assert!(channel.warnings().is_empty(), "{:?}", channel.warnings());
    }

    #[test]
    fn a_success_resolves_the_same_key_without_a_payload() {
        let red = body(channel(args(), SharedArgs::default(), &alert(Status::Failure, "t")).as_ref());
        let green = body(channel(args(), SharedArgs::default(), &alert(Status::Success, "t")).as_ref());
        assert_eq!(green["event_action"], "resolve");
        assert_eq!(green["dedup_key"], red["dedup_key"]);
        let mut keys: Vec<&String> = green.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["dedup_key", "event_action", "routing_key"]);
    }

    #[test]
    fn medium_is_a_warning_and_long_summaries_are_cut() {
        let incident = IncidentArgs { priority: Some("medium".into()), ..IncidentArgs::default() };
        let shared = SharedArgs { incident, ..SharedArgs::default() };
        let long = "é".repeat(1500);
        let channel = channel(args(), shared, &alert(Status::Failure, &long));
        let body = body(channel.as_ref());
        assert_eq!(body["payload"]["severity"], "warning");
        assert_eq!(body["payload"]["custom_details"]["priority"], "medium");
        assert_eq!(body["payload"]["summary"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(channel.warnings(), ["summary cut to 1024 characters (from 1500)"]);
    }

    #[test]
    fn bad_keys_ids_and_urls_are_usage_errors_or_warnings() {
        let alert = alert(Status::Failure, "t");
        let err = |args: Args, shared: SharedArgs| configure(&args, &shared, &alert).err().unwrap().to_string();
        let spaced = Args { pagerduty_routing_key: Some("abc def".into()), ..args() };
        assert!(err(spaced, SharedArgs::default()).starts_with("--pagerduty-routing-key: contains spaces"));
        let http = Args { pagerduty_url: Some("http://events.pagerduty.com/v2/enqueue".into()), ..args() };
        assert!(err(http, SharedArgs::default()).starts_with("--pagerduty-url: must use https://"));
        let incident = IncidentArgs { alert_id: Some("x".repeat(256)), ..IncidentArgs::default() };
        let long_id = channel(args(), SharedArgs { incident, ..SharedArgs::default() }, &alert);
        assert_eq!(body(long_id.as_ref())["dedup_key"].as_str().unwrap().len(), 255);
        assert_eq!(long_id.ids().alert_id, Some("x".repeat(256)));
        assert!(long_id.warnings()[0].contains("more than PagerDuty's dedup_key holds (255)"));
        let short = Args { pagerduty_routing_key: Some("short-key".into()), ..args() };
        let warnings = channel(short, SharedArgs::default(), &alert).warnings();
        assert!(warnings[0].contains("has 9 characters") && !warnings[0].contains("short-key"), "{warnings:?}");
        assert!(configure(&Args::default(), &SharedArgs::default(), &alert).unwrap().is_none());
    }

    #[test]
    fn verdicts_follow_the_documented_answers() {
        let channel = channel(args(), SharedArgs::default(), &alert(Status::Failure, "t"));
        let ok = r#"{"status":"success","message":"Event processed","dedup_key":"x"}"#;
        assert!(matches!(channel.classify(&response(202, ok), 1), Verdict::Delivered(d) if d.warnings.is_empty()));
        assert!(matches!(channel.classify(&response(200, ok), 1), Verdict::Delivered(d) if d.warnings.len() == 1));
        assert!(matches!(channel.classify(&response(200, ""), 1), Verdict::Transient(t) if t.contains("202")));
        let login = "<!DOCTYPE html><html><head><title>Sign in to Proxy</title></head></html>";
        match channel.classify(&response(200, login), 1) {
            Verdict::Permanent(text) => assert!(text.contains("web page titled \"Sign in to Proxy\""), "{text}"),
            other => panic!("{other:?}"),
        }
        let invalid = r#"{"status":"invalid event","message":"Event object is invalid","errors":["'payload.source' is missing or blank"]}"#;
        match channel.classify(&response(400, invalid), 1) {
            Verdict::Permanent(text) => assert!(
                text.contains("HTTP 400): Event object is invalid: 'payload.source' is missing or blank; check that --pagerduty-routing-key"),
                "{text}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(channel.classify(&response(404, ""), 1), Verdict::Permanent(t) if t.contains("check --pagerduty-url"))
        );
        assert!(matches!(channel.classify(&response(429, ""), 1), Verdict::Transient(_)));
        assert!(matches!(channel.classify(&response(502, ""), 1), Verdict::Transient(_)));
    }
}
