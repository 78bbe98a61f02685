//! Incidents through the Temperstack webhook (providers.md §3): `failure` raises the alert
//! (`status: "Alarm"`), `success` clears it (`status: "OK"`) under the same `alert_id`, so a green
//! run resolves what a red run opened. The integration key sits in the URL path, so the path is
//! a secret and never shown.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Alert, Channel, Delivery, Ids, Request, Response, Verdict, generic_verdict};
use crate::config::{ConfigError, non_empty};
use crate::context::Context;
use crate::messages;
use crate::redact::{self, Redactor};
use crate::status::Status;
use crate::template::Template;

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incident (Temperstack)")]
// clap names a flattened struct's argument group after the type; every provider's is `Args`.
#[group(id = "temperstack")]
pub struct Args {
    /// Temperstack integration URL (its path holds the key: keep it secret); enables incidents
    #[arg(long, env = "ONFAIL_TEMPERSTACK_URL", value_name = "URL", hide_env_values = true)]
    pub temperstack_url: Option<String>,

    /// Id that ties the OK to the Alarm it resolves; {placeholders} allowed
    /// [default: derived from repository, workflow, job and branch]
    #[arg(long, env = "ONFAIL_ALERT_ID", value_name = "ID", hide_env_values = true)]
    pub alert_id: Option<String>,

    /// Incident priority: critical or medium [default: critical]
    #[arg(long, env = "ONFAIL_PRIORITY", value_name = "PRIORITY", hide_env_values = true)]
    pub priority: Option<String>,

    /// Link on the incident; {placeholders} allowed [default: {job_url}, else {run_url}]
    #[arg(long, env = "ONFAIL_ALERT_URL", value_name = "URL", hide_env_values = true)]
    pub alert_url: Option<String>,

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

impl Args {
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(url) = non_empty(&self.temperstack_url) {
            redactor.url_secrets(url, true);
        }
        // Links are shown, but a password in one (`https://user:pass@host/...`) is not.
        for url in [&self.alert_url, &self.runbook_url].into_iter().filter_map(non_empty) {
            redactor.url_password_of(url);
        }
    }
}

/// The wire body (providers.md §3). Optional fields that are empty are left out.
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

/// Temperstack's state for a job status. Cancelled and skipped jobs have none: a cancelled run
/// says nothing about whether the job is healthy, so it must neither page nor resolve.
fn alarm_state(status: Status) -> Option<&'static str> {
    match status {
        Status::Failure => Some("Alarm"),
        Status::Success => Some("OK"),
        Status::Cancelled | Status::Skipped => None,
    }
}

/// `--priority`: `critical` or `medium` in any case, sent exactly as Temperstack documents them.
fn parse_priority(value: &str) -> Result<&'static str, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "critical" => Ok("Critical"),
        "medium" => Ok("Medium"),
        _ => Err(ConfigError::new(
            "--priority",
            format!("'{}' is not a Temperstack priority; use critical or medium", value.trim()),
        )),
    }
}

/// The default `alert_id`: `onfail-` and the first 16 hex digits of the SHA-256 of repository,
/// workflow, job and branch joined by NUL bytes (no environment value can hold a NUL, so the
/// join is unambiguous). Outside CI there is no repository; the hostname stands in, so a cron job
/// still gets an id that is the same on every run.
pub fn default_alert_id(ctx: &Context) -> String {
    let parts: Vec<&str> = if ctx.repository.is_empty() {
        vec![&ctx.hostname]
    } else {
        vec![&ctx.repository, &ctx.workflow, &ctx.job, &ctx.ref_name]
    };
    let digest = Sha256::digest(parts.join("\0").as_bytes());
    let hex: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("onfail-{hex}")
}

/// Renders an optional templated option; `None` when it is unset.
fn render(option: &str, value: &Option<String>, ctx: &Context) -> Result<Option<String>, ConfigError> {
    let Some(source) = non_empty(value) else {
        return Ok(None);
    };
    let template = Template::parse(source).map_err(|e| ConfigError::new(option, e.to_string()))?;
    Ok(Some(template.render(|name| ctx.placeholder(name)).trim().to_string()))
}

/// A link field must be an absolute http(s) URL, or Temperstack may refuse the whole alert.
/// The error does not repeat the value: links can carry tokens.
fn check_link(option: &str, value: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(()),
        _ => Err(ConfigError::new(
            option,
            "not an http(s) URL: give a full link such as https://wiki.example.com/runbook",
        )),
    }
}

pub struct Incident {
    url: reqwest::Url,
    body: Body,
}

/// The incident channel, if the Temperstack URL is set; an error if anything it needs is wrong.
pub fn configure(args: &Args, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
    let Some(raw) = non_empty(&args.temperstack_url) else {
        return Ok(None);
    };
    let url = crate::transport::check_url("--temperstack-url", raw)?;
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::new(
            "--temperstack-url",
            "has no key in its path: give the whole integration URL Temperstack shows \
             (https://YOUR_ORG.temperstack.com/api/integration/webhook/API_KEY)",
        ));
    }
    let ctx = &alert.context;
    let priority = non_empty(&args.priority).map(parse_priority).transpose()?.unwrap_or("Critical");
    let alert_id = match render("--alert-id", &args.alert_id, ctx)? {
        Some(id) if id.is_empty() => {
            return Err(ConfigError::new(
                "--alert-id",
                "renders to an empty id (its placeholders are empty here): Alarm and OK need the same non-empty id; \
                 leave --alert-id unset for the derived default",
            ));
        }
        Some(id) => id,
        None => default_alert_id(ctx),
    };
    let alert_url = render("--alert-url", &args.alert_url, ctx)?.unwrap_or_else(|| ctx.job_url.clone());
    let run_book_url = render("--runbook-url", &args.runbook_url, ctx)?.unwrap_or_default();
    for (option, link) in [("--alert-url", &alert_url), ("--runbook-url", &run_book_url)] {
        if !link.is_empty() {
            check_link(option, link)?;
        }
    }
    if alert.title.trim().is_empty() {
        return Err(ConfigError::new("--title", "renders to an empty text: Temperstack needs an alert name"));
    }
    let body = Body {
        alert_name: alert.title.clone(),
        // Cancelled and skipped never reach a request (see `skip_reason`), so this "Alarm" is never sent.
        status: alarm_state(ctx.status).unwrap_or("Alarm"),
        alert_priority: priority,
        alert_id,
        description: alert.message.clone().unwrap_or_else(|| messages::detailed(ctx)),
        alert_url,
        metric_name: render("--metric-name", &args.metric_name, ctx)?.unwrap_or_default(),
        resource_id: render("--resource-id", &args.resource_id, ctx)?.unwrap_or_default(),
        resource_name: render("--resource-name", &args.resource_name, ctx)?.unwrap_or_default(),
        resource_type: render("--resource-type", &args.resource_type, ctx)?.unwrap_or_default(),
        run_book_url,
    };
    Ok(Some(Box::new(Incident { url, body })))
}

impl Channel for Incident {
    fn name(&self) -> &'static str {
        "incident"
    }

    fn provider(&self) -> &'static str {
        "temperstack"
    }

    fn endpoint(&self) -> String {
        redact::url(&self.url, true)
    }

    fn ids(&self) -> Ids {
        Ids { alert_id: Some(self.body.alert_id.clone()), ..Ids::default() }
    }

    /// The incident follows the job's state, not `--notify-on`: it must hear about the green run
    /// to resolve, and must not hear about a cancelled one.
    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        match alert.status() {
            Status::Failure | Status::Success => None,
            Status::Cancelled => Some(
                "status cancelled: a cancelled run neither opens nor resolves an incident (it says nothing about \
                 whether the job works; an open incident stays open until a run succeeds)"
                    .into(),
            ),
            Status::Skipped => Some(
                "status skipped: a skipped job neither opens nor resolves an incident (it did not run; an open \
                 incident stays open until a run succeeds)"
                    .into(),
            ),
        }
    }

    fn request(&self, _attempt: u32) -> Request {
        Request {
            url: self.url.clone(),
            headers: Vec::new(),
            body: serde_json::to_vec(&self.body).expect("a struct of strings always serialises"),
        }
    }

    fn classify(&self, response: &Response, _attempt: u32) -> Verdict {
        let said = match response.excerpt() {
            excerpt if excerpt.is_empty() => String::new(),
            excerpt => format!(" (Temperstack said: {excerpt})"),
        };
        match response.status {
            200..=299 => Verdict::Delivered(Delivery {
                detail: format!("status {} for alert_id {}", self.body.status, self.body.alert_id),
                ids: self.ids(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut env: crate::context::Env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/api"),
            ("GITHUB_WORKFLOW", "Deploy"),
            ("GITHUB_JOB", "build"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_RUN_ID", "1"),
            ("HOSTNAME", "runner-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            env.insert(k.to_string(), v.to_string());
        }
        Context::detect(&env, Status::Failure, None, SystemTime::now())
    }

    #[test]
    fn the_default_id_is_stable_and_follows_the_four_values() {
        let base = default_alert_id(&ctx(&[]));
        // printf 'acme/api\0Deploy\0build\0main' | sha256sum | cut -c1-16
        assert_eq!(base, "onfail-9439583697af4dc7");
        assert_eq!(default_alert_id(&ctx(&[("GITHUB_RUN_ID", "2"), ("GITHUB_SHA", "abc"), ("HOSTNAME", "x")])), base);
        for (name, value) in [
            ("GITHUB_REPOSITORY", "acme/web"),
            ("GITHUB_WORKFLOW", "Test"),
            ("GITHUB_JOB", "lint"),
            ("GITHUB_REF_NAME", "dev"),
        ] {
            assert_ne!(default_alert_id(&ctx(&[(name, value)])), base, "{name}");
        }
    }

    #[test]
    fn shifting_text_between_fields_changes_the_id() {
        let a = default_alert_id(&ctx(&[("GITHUB_WORKFLOW", "Dep"), ("GITHUB_JOB", "loybuild")]));
        let b = default_alert_id(&ctx(&[("GITHUB_WORKFLOW", "Deploy"), ("GITHUB_JOB", "build")]));
        assert_ne!(a, b);
    }

    #[test]
    fn outside_ci_the_hostname_stands_in() {
        let host = |name: &str| {
            let env = [("HOSTNAME".to_string(), name.to_string())].into_iter().collect();
            default_alert_id(&Context::detect(&env, Status::Failure, None, SystemTime::now()))
        };
        assert_eq!(host("test-host"), "onfail-c80cb283080a15df");
        assert_ne!(host("db-1"), host("db-2"));
    }

    #[test]
    fn priorities_parse_in_any_case() {
        assert_eq!(parse_priority("CRITICAL").unwrap(), "Critical");
        assert_eq!(parse_priority(" medium ").unwrap(), "Medium");
        let err = parse_priority("high").unwrap_err().to_string();
        assert!(err.starts_with("--priority: 'high'") && err.contains("critical or medium"), "{err}");
    }
}
