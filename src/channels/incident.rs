//! What every incident channel shares (docs/incidents.md, "Incidents (Temperstack)" and `docs/providers.md`):
//! the options `--alert-id`, `--priority` and `--alert-url`, the stable default alert id that
//! ties the resolve on a green run to the incident a red run opened, the rule that a
//! cancelled or skipped run neither opens nor resolves anything, and the channel itself
//! ([`IncidentChannel`]): a platform's module only adds its event and its reading of answers.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Alert, Channel};
use crate::context::{Context, Source};
use crate::error::ConfigError;
use crate::redact;
use crate::status::Status;
use crate::template::{PLACEHOLDERS, Template};
use crate::texts::Audience;
use crate::values::{choose, non_empty, truncate_chars, url_error};
use crate::wire::{Header, Ids, Request, Response, Verdict};

/// What makes one incident platform's channel: the event it sends (the JSON body), the key that
/// event deduplicates by, and the platform's answers read in its own terms. Everything else is
/// the same for every platform and lives in [`IncidentChannel`].
pub trait Event: Serialize + Send + Sync {
    /// The channel's name, its provider's [`super::Provider::CHANNEL`].
    const CHANNEL: &'static str;
    /// The provider's name in outputs (`provider` in the JSON).
    const PROVIDER: &'static str;
    /// The alert id, reported as `alert_id`: the event's deduplication key, or what that key
    /// was shortened from when the id was too long for the platform (see [`platform_key`]).
    fn alert_id(&self) -> &str;
    /// Judges the platform's answer; `ids` belong in a delivery.
    fn verdict(&self, response: &Response, ids: Ids) -> Verdict;
}

/// An incident platform's channel: one event POSTed as JSON to one URL, the same on every
/// attempt (the platform deduplicates a repeat by the event's key); a cancelled or skipped run
/// sends nothing (see [`skip_reason`]).
pub struct IncidentChannel<E> {
    pub url: reqwest::Url,
    /// Whether the URL's path is a secret (a token, or the id of an alert source).
    pub secret_path: bool,
    /// Headers besides `Content-Type` (a bearer token).
    pub headers: Vec<Header>,
    pub event: E,
    /// What configuring found (a field cut to the platform's limit).
    pub warnings: Vec<String>,
}

impl<E: Event> IncidentChannel<E> {
    /// The channel for `event` at `url`, with no headers of its own and nothing to warn about.
    pub fn new(url: reqwest::Url, secret_path: bool, event: E) -> IncidentChannel<E> {
        IncidentChannel { url, secret_path, headers: Vec::new(), event, warnings: Vec::new() }
    }
}

impl<E: Event> Channel for IncidentChannel<E> {
    fn name(&self) -> &'static str {
        E::CHANNEL
    }

    fn provider(&self) -> &'static str {
        E::PROVIDER
    }

    fn endpoint(&self) -> String {
        redact::url(&self.url, self.secret_path)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn ids(&self) -> Ids {
        Ids { alert_id: Some(self.event.alert_id().to_string()), ..Ids::default() }
    }

    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        skip_reason(alert.status())
    }

    fn request(&self, _attempt: u32) -> Request {
        Request {
            url: self.url.clone(),
            headers: self.headers.clone(),
            body: serde_json::to_vec(&self.event).expect("an event of strings and maps always serialises"),
            // The platform folds a repeat into the alert of the same key.
            repeat_safe: true,
        }
    }

    fn classify(&self, response: &Response, _attempt: u32) -> Verdict {
        self.event.verdict(response, self.ids())
    }
}

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Incidents (every platform)")]
#[group(id = "incident")]
pub struct IncidentArgs {
    /// Id that ties the resolve to the incident it closes; {placeholders} allowed
    /// [default: derived from repository, workflow, job and branch]
    #[arg(long, env = "ONFAIL_ALERT_ID", value_name = "ID", hide_env_values = true)]
    pub alert_id: Option<String>,

    /// Incident priority: critical or medium [default: critical]
    #[arg(long, env = "ONFAIL_PRIORITY", value_name = "PRIORITY", hide_env_values = true)]
    pub priority: Option<String>,

    /// Link on the incident; {placeholders} allowed [default: {job_url}, else {run_url}]
    #[arg(long, env = "ONFAIL_ALERT_URL", value_name = "URL", hide_env_values = true)]
    pub alert_url: Option<String>,
}

/// `--priority`; each platform spells it its own way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    #[default]
    Critical,
    Medium,
}

/// The shared incident fields, validated and rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// The key that opens and resolves the same incident.
    pub alert_id: String,
    pub priority: Priority,
    /// The link on the incident: `--alert-url`, else the job's URL.
    pub link: String,
}

impl IncidentArgs {
    /// Validates the shared options for an incident channel that is enabled.
    pub fn resolve(&self, ctx: &Context) -> Result<Incident, ConfigError> {
        let priority = non_empty(&self.priority).map(parse_priority).transpose()?.unwrap_or_default();
        let alert_id = match render("--alert-id", &self.alert_id, ctx)? {
            Some(id) if id.is_empty() => {
                return Err(ConfigError::new(
                    "--alert-id",
                    "renders to an empty id (its placeholders are empty here): opening and resolving need the \
                     same non-empty id; leave --alert-id unset for the derived default",
                ));
            }
            Some(id) => id,
            None => default_alert_id(ctx),
        };
        let link = render("--alert-url", &self.alert_url, ctx)?.unwrap_or_else(|| ctx.job_url.clone());
        if !link.is_empty() {
            check_link("--alert-url", &link)?;
        }
        Ok(Incident { alert_id, priority, link })
    }
}

impl Priority {
    /// The word `--priority` takes, for platforms that carry it as a plain field.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Medium => "medium",
        }
    }
}

/// The incident's text: `--message`, else every known field of the run, one per line, in the
/// language of the texts people read.
pub fn description(alert: &super::Alert) -> String {
    alert.message.clone().unwrap_or_else(|| alert.language.texts(Audience::Screen).detailed(&alert.context))
}

/// Most platforms refuse an incident without a name.
pub fn require_title(title: &str, platform: &str) -> Result<(), ConfigError> {
    if title.trim().is_empty() {
        return Err(ConfigError::new(
            "--title",
            format!("renders to an empty text: {platform} needs a title for the incident"),
        ));
    }
    Ok(())
}

/// Cuts `text` to `max` characters on a character boundary; the warning names the platform's
/// field and limit, so the user knows where the rest went.
pub fn cut(text: &str, max: usize, field: &str, warnings: &mut Vec<String>) -> String {
    let (kept, was_cut) = truncate_chars(text, max);
    if was_cut {
        warnings.push(format!("{field} cut to {max} characters (from {})", text.chars().count()));
    }
    kept
}

/// The run's context as a flat JSON object of its known fields, for the platforms' free-form
/// detail objects (PagerDuty `custom_details`, incident.io `metadata`). Unknown fields are left
/// out, so a cron job's details are not a list of empty strings.
pub fn details(ctx: &Context, priority: Priority) -> Map<String, Value> {
    let mut map = Map::new();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            map.insert(key.into(), value.into());
        }
    };
    put("status", ctx.status.as_str());
    put("priority", priority.as_str());
    // Every other context field a template can name, but the short hash (the full one is there)
    // and the failed jobs (a list, added below).
    let skipped = ["status", "short_sha", "failed_jobs"];
    for name in PLACEHOLDERS.into_iter().filter(|name| !skipped.contains(name)) {
        put(name, &ctx.placeholder(name));
    }
    if let Some(command) = &ctx.command {
        put("command", &command.command_line);
        put("command_result", &command.ended.describe());
    }
    // The failure details (docs/noise-control.md, "One alert for a whole workflow"), as lists a platform's
    // templates can read, like the webhook event's `failed_jobs` and `failed_steps`.
    if !ctx.failed_jobs.is_empty() {
        map.insert("failed_jobs".into(), ctx.failed_jobs.clone().into());
    }
    if !ctx.failed_steps.is_empty() {
        let steps = ctx.failed_steps.iter().map(|s| serde_json::json!({"job": s.job, "step": s.step}));
        map.insert("failed_steps".into(), Value::Array(steps.collect()));
    }
    map
}

/// `--priority`: `critical` or `medium`, read like every enumerated value (`crate::values`).
fn parse_priority(value: &str) -> Result<Priority, ConfigError> {
    const PRIORITIES: &[(&str, Priority)] = &[("critical", Priority::Critical), ("medium", Priority::Medium)];
    choose(value, "an incident priority", PRIORITIES).map_err(|why| ConfigError::new("--priority", why))
}

/// The default alert id: `onfail-` and the first 16 hex digits of the SHA-256 of repository,
/// workflow, job and branch joined by NUL bytes (no environment value can hold a NUL, so the
/// join is unambiguous). Without a repository (a host, Jenkins) the hostname stands in, followed
/// by the workflow, job and branch when known, so two Jenkins jobs on one agent differ. Outside
/// GitHub the wrapped command of `onfail run` is part of it too (docs/noise-control.md, "Page once per
/// incident"): two cron jobs on one host never share an incident, nor a state file. On GitHub
/// the job already tells one step's alert from another's history (the run history is per job).
pub fn default_alert_id(ctx: &Context) -> String {
    let mut parts: Vec<&str> = if ctx.repository.is_empty() {
        // Only known values are added, so an id made before they counted stays the same.
        let mut parts = vec![ctx.hostname.as_str()];
        for (label, value) in [("workflow", &ctx.workflow), ("job", &ctx.job), ("ref", &ctx.ref_name)] {
            if !value.is_empty() {
                parts.extend([label, value.as_str()]);
            }
        }
        parts
    } else {
        vec![&ctx.repository, &ctx.workflow, &ctx.job, &ctx.ref_name]
    };
    if let Some(command) = ctx.command.as_ref().filter(|_| ctx.source != Source::GitHub) {
        parts.extend(["command", command.command_line.as_str()]);
    }
    let digest = Sha256::digest(parts.join("\0").as_bytes());
    let hex: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("onfail-{hex}")
}

/// The alert id as a platform's key field of at most `max` bytes takes it (docs/incidents.md, "Incidents
/// (PagerDuty)"): as it is when it fits; else its start, `-` and the first 16 hex digits of the
/// SHA-256 of the whole id, `max` bytes in all, with a warning. The same id always gives the
/// same key, so the resolve finds the alert the trigger opened; a long id never stops the alert.
pub fn platform_key(alert_id: &str, max: usize, field: &str, warnings: &mut Vec<String>) -> String {
    if alert_id.len() <= max {
        return alert_id.to_string();
    }
    let digest = Sha256::digest(alert_id.as_bytes());
    let hash: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    let mut keep = max - hash.len() - 1;
    while !alert_id.is_char_boundary(keep) {
        keep -= 1;
    }
    let key = format!("{}-{hash}", &alert_id[..keep]);
    warnings.push(format!(
        "the alert id has {} bytes, more than {field} holds ({max}): it is sent as its first {keep} bytes, \
         \"-\" and a hash of the whole id (…-{hash}), the same on every run, so the resolve still finds the alert",
        alert_id.len()
    ));
    key
}

/// Renders an optional templated option; `None` when it is unset.
pub fn render(option: &str, value: &Option<String>, ctx: &Context) -> Result<Option<String>, ConfigError> {
    let Some(source) = non_empty(value) else {
        return Ok(None);
    };
    let template = Template::parse(source).map_err(|e| ConfigError::new(option, e.to_string()))?;
    Ok(Some(template.render(|name| ctx.placeholder(name)).trim().to_string()))
}

/// A link field must be an absolute http(s) URL, or the platform may refuse the whole alert.
/// The error does not repeat the value: links can carry tokens.
pub fn check_link(option: &str, value: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(()),
        Err(e @ url::ParseError::IdnaError) if !value.is_ascii() => Err(ConfigError::new(option, url_error(e, value))),
        _ => Err(ConfigError::new(
            option,
            "not an http(s) URL: give a full link such as https://wiki.example.com/runbook",
        )),
    }
}

/// The platform's word for this status: `resolve` for a success, `open` for a failure. Only
/// those two are ever sent: [`skip_reason`] stops cancelled and skipped runs first.
pub fn open_or_resolve(status: Status, open: &'static str, resolve: &'static str) -> &'static str {
    if status == Status::Success { resolve } else { open }
}

/// An incident follows the job's state, not `--notify-on`: it must hear about the green run to
/// resolve, and must not hear about a cancelled or skipped one, which says nothing about whether
/// the job works.
pub fn skip_reason(status: Status) -> Option<String> {
    match status {
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

/// An alert about the GitHub run of `context::github_fixture`, for the incident providers' unit
/// tests: one constructor, so a new `Alert` field is added in one place.
#[cfg(test)]
pub(crate) fn test_alert(status: Status, title: &str, message: Option<&str>) -> super::Alert {
    super::Alert {
        context: crate::context::github_fixture(status, std::time::SystemTime::now()),
        title: title.into(),
        message: message.map(str::to_string),
        voice_message: None,
        sms_message: None,
        language: crate::texts::Language::default(),
        notify_on: crate::status::NotifyOn::default(),
        decision: None,
        ack_url: None,
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
    fn outside_github_the_wrapped_command_and_the_jenkins_job_count() {
        let with = |pairs: &[(&str, &str)], command: Option<&str>| {
            let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let mut ctx = Context::detect(&env, Status::Failure, None, SystemTime::now());
            ctx.command = command.map(|line| crate::context::CommandRun {
                program: "sh".into(),
                command_line: line.into(),
                ended: crate::runner::Ended::Exited(1),
                tail: Vec::new(),
            });
            default_alert_id(&ctx)
        };
        let host = [("HOSTNAME", "db-1")];
        let backup = with(&host, Some("/opt/backup.sh --full"));
        assert_ne!(backup, with(&host, Some("/opt/backup.sh --incremental")));
        assert_ne!(backup, with(&host, None));
        assert_eq!(backup, with(&host, Some("/opt/backup.sh --full")));
        let jenkins = |job: &'static str| [("JENKINS_URL", "https://ci/"), ("JOB_NAME", job), ("HOSTNAME", "agent")];
        assert_ne!(with(&jenkins("a"), None), with(&jenkins("b"), None));
        // On GitHub the job tells steps apart: the command does not change the id.
        let github = [("GITHUB_ACTIONS", "true"), ("GITHUB_REPOSITORY", "acme/api")];
        assert_eq!(with(&github, Some("make deploy")), with(&github, None));
    }

    #[test]
    fn details_hold_the_known_context_fields_only() {
        let github = ctx(&[("GITHUB_SHA", "abc123")]);
        let map = details(&github, Priority::Medium);
        assert_eq!(map["status"], "failure");
        assert_eq!(map["priority"], "medium");
        assert_eq!(map["repository"], "acme/api");
        assert_eq!(map["sha"], "abc123");
        assert_eq!(map["run_url"], "https://github.com/acme/api/actions/runs/1");
        assert!(!map.contains_key("actor") && !map.contains_key("command"), "{map:?}");
        let host = Context::detect(&Default::default(), Status::Success, None, SystemTime::now());
        let map = details(&host, Priority::Critical);
        let keys: Vec<&String> = map.keys().collect();
        assert!(
            keys.iter().all(|k| ["status", "priority", "hostname", "time", "actor"].contains(&k.as_str())),
            "{keys:?}"
        );
    }

    #[test]
    fn cutting_warns_with_the_field_and_the_limit() {
        let mut warnings = Vec::new();
        assert_eq!(cut("çok uzun", 3, "summary", &mut warnings), "çok");
        assert_eq!(warnings, ["summary cut to 3 characters (from 8)"]);
        assert_eq!(cut("ok", 3, "summary", &mut warnings), "ok");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn a_key_too_long_for_a_platform_is_shortened_stably() {
        let mut warnings = Vec::new();
        assert_eq!(platform_key("onfail-1234", 255, "PagerDuty's dedup_key", &mut warnings), "onfail-1234");
        assert!(warnings.is_empty());
        let long = format!("deploy-{}", "ş".repeat(200));
        let key = platform_key(&long, 255, "dedup_key", &mut warnings);
        assert!(key.len() <= 255 && key.len() >= 254, "{}", key.len());
        assert!(long.starts_with(&key[..key.len() - 17]) && key.as_bytes()[key.len() - 17] == b'-');
        assert_eq!(platform_key(&long, 255, "dedup_key", &mut Vec::new()), key, "the same id, the same key");
        let other = format!("{long}x");
        assert_ne!(platform_key(&other, 255, "dedup_key", &mut Vec::new()), key);
        assert!(warnings[0].starts_with("the alert id has 407 bytes, more than dedup_key holds (255)"), "{warnings:?}");
    }

    #[test]
    fn priorities_parse_in_any_case() {
        assert_eq!(parse_priority("CRITICAL").unwrap(), Priority::Critical);
        assert_eq!(parse_priority(" medium ").unwrap(), Priority::Medium);
        let err = parse_priority("high").unwrap_err().to_string();
        assert!(err.starts_with("--priority: 'high'") && err.contains("critical or medium"), "{err}");
    }

    #[test]
    fn the_shared_fields_resolve_with_their_defaults() {
        let github = ctx(&[]);
        let incident = IncidentArgs::default().resolve(&github).unwrap();
        let link = github.job_url.clone();
        assert_eq!(incident, Incident { alert_id: default_alert_id(&github), priority: Priority::Critical, link });
        let args = IncidentArgs { alert_id: Some("{repository}-x".into()), ..IncidentArgs::default() };
        assert_eq!(args.resolve(&ctx(&[])).unwrap().alert_id, "acme/api-x");
        let empty = IncidentArgs { alert_id: Some("{sha}".into()), ..IncidentArgs::default() };
        assert!(empty.resolve(&ctx(&[])).unwrap_err().to_string().starts_with("--alert-id: renders to an empty id"));
        let bad_link = IncidentArgs { alert_url: Some("not a link".into()), ..IncidentArgs::default() };
        assert!(bad_link.resolve(&ctx(&[])).unwrap_err().to_string().starts_with("--alert-url: not an http(s) URL"));
    }

    #[test]
    fn the_details_carry_the_failed_jobs_and_steps_when_known() {
        let mut run = ctx(&[]);
        let plain = details(&run, Priority::Critical);
        assert!(!plain.contains_key("failed_jobs") && !plain.contains_key("failed_steps"));
        run.failed_jobs = vec!["test (ubuntu, 1.24)".into()];
        run.failed_steps =
            vec![crate::context::FailedStep { job: "test (ubuntu, 1.24)".into(), step: "cargo test".into() }];
        let map = details(&run, Priority::Critical);
        assert_eq!(map["failed_jobs"], serde_json::json!(["test (ubuntu, 1.24)"]));
        assert_eq!(map["failed_steps"], serde_json::json!([{"job": "test (ubuntu, 1.24)", "step": "cargo test"}]));
    }
}
