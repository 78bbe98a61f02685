//! Incidents through a Grafana IRM (OnCall) formatted webhook (`docs/providers.md`, "Grafana IRM
//! formatted webhook"): `failure` sends `state: "alerting"`, `success` sends `state: "ok"`, both
//! with `alert_uid` = the alert id. The integration's token is the URL path, so the whole URL is
//! a secret and only its host is ever shown.

use serde::Serialize;

use super::incident::{self, IncidentChannel};
use super::{Alert, Channel, Provider, SharedArgs};
use crate::error::ConfigError;
use crate::redact::Redactor;
use crate::values::{check_url, non_empty};
use crate::wire::{Delivery, Ids, Response, Verdict, generic_verdict, web_page};

/// Where Grafana shows the URL.
const WHERE: &str = "Grafana: Alerts & IRM → IRM → Integrations → your \"Formatted webhook\" integration";

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incident (Grafana IRM)")]
#[group(id = "grafana_irm")]
pub struct Args {
    /// URL of a Grafana IRM "Formatted webhook" integration (its path holds the token: keep it
    /// secret); enables Grafana IRM
    #[arg(long, env = "ONFAIL_GRAFANA_IRM_URL", value_name = "URL", hide_env_values = true)]
    pub grafana_irm_url: Option<String>,
}

/// The formatted webhook's fields (`docs/providers.md`, "Grafana IRM formatted webhook").
/// `priority` is not one of them: Grafana keeps every field of the payload, so routes and
/// templates can read it (`{{ payload.priority }}`).
#[derive(Clone, Debug, Serialize)]
struct Event {
    alert_uid: String,
    title: String,
    state: &'static str,
    message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    link_to_upstream_details: String,
    priority: &'static str,
}

impl Provider for Args {
    const CHANNEL: &'static str = "grafana-irm";
    const ENABLED_BY: &'static str = "--grafana-irm-url";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(url) = non_empty(&self.grafana_irm_url) {
            redactor.url_secrets(url, true);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        configure(self, shared, alert)
    }
}

fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(raw) = non_empty(&args.grafana_irm_url) else {
        return Ok(None);
    };
    let mut url = check_url("--grafana-irm-url", raw)?;
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::new(
            "--grafana-irm-url",
            format!(
                "has no token in its path: give the whole integration URL \
                 (https://STACK.grafana.net/integrations/v1/formatted_webhook/TOKEN/; {WHERE})"
            ),
        ));
    }
    // Grafana's URLs end in a slash, and without it the server answers with a redirect, which
    // onfail never follows: a URL copied without its last character would lose every alert.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    let ctx = &alert.context;
    let incident = shared.incident.resolve(ctx)?;
    let event = Event {
        alert_uid: incident.alert_id,
        title: alert.title.clone(),
        // Cancelled and skipped never reach a request (see `skip_reason`).
        state: incident::open_or_resolve(ctx.status, "alerting", "ok"),
        message: incident::description(alert),
        link_to_upstream_details: incident.link,
        priority: incident.priority.as_str(),
    };
    // The token is the URL's path.
    Ok(Some(Box::new(IncidentChannel::new(url, true, event))))
}

impl incident::Event for Event {
    const CHANNEL: &'static str = Args::CHANNEL;
    const PROVIDER: &'static str = "grafana";

    fn alert_id(&self) -> &str {
        &self.alert_uid
    }

    fn verdict(&self, response: &Response, ids: Ids) -> Verdict {
        if let Some(why) = web_page(response, "Grafana IRM", "the alert", "--grafana-irm-url") {
            return Verdict::Permanent(why);
        }
        let said = response.said_by("Grafana");
        match response.status {
            200..=299 => Verdict::Delivered(Delivery {
                detail: format!("state {} for alert_uid {}", self.state, self.alert_uid),
                ids,
                warnings: Vec::new(),
            }),
            401 | 403 | 404 => Verdict::Permanent(format!(
                "Grafana IRM did not accept the integration URL (HTTP {}): its token may be wrong or the integration \
                 deleted, or the integration requires an Authorization header, which onfail does not send; copy \
                 --grafana-irm-url again ({WHERE}){said}",
                response.status
            )),
            _ => generic_verdict(response, "Grafana IRM"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use serde_json::Value;

    fn alert(status: Status) -> Alert {
        incident::test_alert(status, "Deploy failed in acme/api", None)
    }

    fn channel(url: &str, status: Status) -> Box<dyn Channel> {
        let args = Args { grafana_irm_url: Some(url.into()) };
        configure(&args, &SharedArgs::default(), &alert(status)).unwrap().expect("enabled")
    }

    const URL: &str = "https://acme.grafana.net/integrations/v1/formatted_webhook/TOKEN123/";

    #[test]
    fn alerting_then_ok_under_one_uid() {
        let red: Value = serde_json::from_slice(&channel(URL, Status::Failure).request(1).body).unwrap();
        let green: Value = serde_json::from_slice(&channel(URL, Status::Success).request(1).body).unwrap();
        assert_eq!((red["state"].as_str(), green["state"].as_str()), (Some("alerting"), Some("ok")));
        assert_eq!(red["alert_uid"], green["alert_uid"]);
        assert!(red["alert_uid"].as_str().unwrap().starts_with("onfail-"));
        assert_eq!(red["title"], "Deploy failed in acme/api");
        assert!(red["message"].as_str().unwrap().starts_with("Deploy failed in acme/api.\nRepository: acme/api"));
        assert_eq!(red["link_to_upstream_details"], "https://github.com/acme/api/actions/runs/9");
        assert_eq!(red["priority"], "critical");
        assert_eq!(channel(URL, Status::Failure).endpoint(), "https://acme.grafana.net/***");
    }

    #[test]
    fn the_trailing_slash_is_restored() {
        let request = channel(URL.trim_end_matches('/'), Status::Failure).request(1);
        assert_eq!(request.url.as_str(), URL);
        assert_eq!(channel(URL, Status::Failure).request(1).url.as_str(), URL);
    }

    #[test]
    fn a_url_without_a_token_is_a_usage_error() {
        let args = Args { grafana_irm_url: Some("https://acme.grafana.net/".into()) };
        let err = configure(&args, &SharedArgs::default(), &alert(Status::Failure)).err().unwrap().to_string();
        assert!(err.starts_with("--grafana-irm-url: has no token in its path"), "{err}");
    }

    #[test]
    fn verdicts() {
        let channel = channel(URL, Status::Failure);
        let response = |status: u16| Response { status, ..Response::default() };
        assert!(matches!(channel.classify(&response(200), 1), Verdict::Delivered(_)));
        assert!(
            matches!(channel.classify(&response(403), 1), Verdict::Permanent(t) if t.contains("copy --grafana-irm-url again"))
        );
        assert!(matches!(channel.classify(&response(301), 1), Verdict::Permanent(_)));
        assert!(matches!(channel.classify(&response(500), 1), Verdict::Transient(_)));
    }
}
