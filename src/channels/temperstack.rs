//! Incidents through the Temperstack webhook (`docs/providers.md`, "Temperstack"): `failure`
//! raises the alert (`status: "Alarm"`), `success` clears it (`status: "OK"`) under the same
//! `alert_id`, so a green run resolves what a red run opened. The integration key sits in the URL
//! path, so the path is a secret and never shown.

use serde::Serialize;

use super::incident::{self, IncidentChannel, Priority, check_link, render};
use super::{Alert, Channel, Provider, SharedArgs};
use crate::error::ConfigError;
use crate::redact::Redactor;
use crate::texts::Audience;
use crate::values::{check_url, non_empty};
use crate::wire::{Delivery, Ids, Response, Verdict, generic_verdict, web_page};

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incident (Temperstack)")]
#[group(id = "temperstack")]
pub struct Args {
    /// Temperstack integration URL (its path holds the key: keep it secret); enables incidents
    #[arg(long, env = "ONFAIL_TEMPERSTACK_URL", value_name = "URL", hide_env_values = true)]
    pub temperstack_url: Option<String>,

    /// Runbook link on the incident; {placeholders} allowed
    #[arg(long, env = "ONFAIL_RUNBOOK_URL", value_name = "URL", hide_env_values = true)]
    pub runbook_url: Option<String>,

    /// Related metric name; {placeholders} allowed
    #[arg(long, env = "ONFAIL_METRIC_NAME", value_name = "NAME", hide_env_values = true)]
    pub metric_name: Option<String>,

    /// Resource identifier; {placeholders} allowed
    #[arg(long, env = "ONFAIL_RESOURCE_ID", value_name = "ID", hide_env_values = true)]
    pub resource_id: Option<String>,

    /// Resource name; {placeholders} allowed
    #[arg(long, env = "ONFAIL_RESOURCE_NAME", value_name = "NAME", hide_env_values = true)]
    pub resource_name: Option<String>,

    /// Resource type, e.g. API; {placeholders} allowed
    #[arg(long, env = "ONFAIL_RESOURCE_TYPE", value_name = "TYPE", hide_env_values = true)]
    pub resource_type: Option<String>,
}

/// The wire body (`docs/providers.md`, "Temperstack"). Optional fields that are empty are left out.
#[derive(Clone, Debug, Serialize)]
struct Body {
    alert_name: String,
    status: &'static str,
    alert_priority: &'static str,
    alert_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    alert_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    metric_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    resource_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    resource_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    resource_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    run_book_url: String,
}

/// Temperstack's spelling of `--priority`.
fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Critical => "Critical",
        Priority::Medium => "Medium",
    }
}

impl Provider for Args {
    const CHANNEL: &'static str = "temperstack";
    const ENABLED_BY: &'static str = "--temperstack-url";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(url) = non_empty(&self.temperstack_url) {
            redactor.url_secrets(url, true);
        }
        // The runbook link is shown, but a password in it (`https://user:pass@host/...`) is not.
        if let Some(url) = non_empty(&self.runbook_url) {
            redactor.url_password_of(url);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        configure(self, shared, alert)
    }
}

/// The Temperstack channel, if its URL is set; an error if anything it needs is wrong.
fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(raw) = non_empty(&args.temperstack_url) else {
        return Ok(None);
    };
    let url = check_url("--temperstack-url", raw)?;
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::new(
            "--temperstack-url",
            "has no key in its path: give the whole integration URL Temperstack shows \
             (https://YOUR_ORG.temperstack.com/api/integration/webhook/API_KEY)",
        ));
    }
    let ctx = &alert.context;
    let incident = shared.incident.resolve(ctx)?;
    let run_book_url = render("--runbook-url", &args.runbook_url, ctx)?.unwrap_or_default();
    if !run_book_url.is_empty() {
        check_link("--runbook-url", &run_book_url)?;
    }
    if alert.title.trim().is_empty() {
        return Err(ConfigError::new("--title", "renders to an empty text: Temperstack needs an alert name"));
    }
    let body = Body {
        alert_name: alert.title.clone(),
        // Cancelled and skipped never reach a request (see `skip_reason`), so this "Alarm" is never sent.
        status: incident::open_or_resolve(ctx.status, "Alarm", "OK"),
        alert_priority: priority(incident.priority),
        alert_id: incident.alert_id,
        description: alert.message.clone().unwrap_or_else(|| alert.language.texts(Audience::Screen).detailed(ctx)),
        alert_url: incident.link,
        metric_name: render("--metric-name", &args.metric_name, ctx)?.unwrap_or_default(),
        resource_id: render("--resource-id", &args.resource_id, ctx)?.unwrap_or_default(),
        resource_name: render("--resource-name", &args.resource_name, ctx)?.unwrap_or_default(),
        resource_type: render("--resource-type", &args.resource_type, ctx)?.unwrap_or_default(),
        run_book_url,
    };
    // The key is the URL's last path segment.
    Ok(Some(Box::new(IncidentChannel::new(url, true, body))))
}

impl incident::Event for Body {
    const CHANNEL: &'static str = Args::CHANNEL;
    const PROVIDER: &'static str = "temperstack";

    fn alert_id(&self) -> &str {
        &self.alert_id
    }

    fn verdict(&self, response: &Response, ids: Ids) -> Verdict {
        if let Some(why) = web_page(response, "Temperstack", "the alert", "--temperstack-url") {
            return Verdict::Permanent(why);
        }
        let said = response.said_by("Temperstack");
        match response.status {
            200..=299 => Verdict::Delivered(Delivery {
                detail: format!("status {} for alert_id {}", self.status, self.alert_id),
                ids,
                warnings: Vec::new(),
            }),
            400 => Verdict::Permanent(format!(
                "Temperstack rejected the alert as a bad request (HTTP 400): check that --temperstack-url is the whole \
                 integration URL Temperstack shows, and the fields sent (--priority, --alert-url, --runbook-url, \
                 --title, --message){said}"
            )),
            401 | 403 | 404 => Verdict::Permanent(format!(
                "Temperstack did not accept the integration URL (HTTP {}): its key may be wrong or revoked; copy the \
                 integration URL again (Notifications → Temperstack Notifications → Application Services → your \
                 service){said}",
                response.status
            )),
            _ => generic_verdict(response, "Temperstack"),
        }
    }
}
