//! The validated configuration: everything from the command line and `ONFAIL_*` variables,
//! checked and converted into plain values with no clap types. Any problem here is a
//! [`ConfigError`] (exit code 2), raised before anything is sent.

use std::time::{Duration, SystemTime};

use crate::channels::{Alert, Channel};
use crate::cli::{AlertArgs, GeneralArgs, OutputFormat};
use crate::context::{CommandRun, Context, Env, FailedJob};
use crate::error::ConfigError;
use crate::escalation::Escalation;
use crate::needs::{self, Verdict};
use crate::redact::Redactor;
use crate::template::Template;
use crate::texts::Audience;
use crate::values::non_empty;

/// How the run behaves, whatever the channels.
#[derive(Clone, Debug)]
pub struct Settings {
    pub dry_run: bool,
    pub timeout: Duration,
    pub retries: u32,
    pub fail_on_error: bool,
    pub output: OutputFormat,
}

pub struct Config {
    pub settings: Settings,
    pub alert: Alert,
    pub channels: Vec<Box<dyn Channel>>,
    /// What `--needs` said about the workflow, when it was given (its warnings are in `warnings`).
    pub needs: Option<Verdict>,
    /// Found while configuring; reported with the result, never fatal.
    pub warnings: Vec<String>,
    /// `--escalate`, unless it is `off`.
    pub escalation: Option<Escalation>,
}

/// Collects the secret values from the raw arguments. Done before validation, so that even a
/// configuration error is printed redacted.
pub fn redactor(args: &AlertArgs) -> Redactor {
    let mut redactor = Redactor::new();
    args.channels.register_secrets(&mut redactor);
    args.history.register_secrets(&mut redactor);
    args.escalation.register_secrets(&mut redactor);
    // Every number of the alert is known now: their masks tell them apart from here on.
    crate::phone::distinguish(redactor.phones());
    redactor
}

impl Config {
    pub fn from_args(args: &AlertArgs, env: &Env, now: SystemTime) -> Result<Config, ConfigError> {
        Config::for_command(args, env, now, None)
    }

    /// As [`Config::from_args`], for `onfail run`: the command's result goes into the context.
    pub fn for_command(
        args: &AlertArgs,
        env: &Env,
        now: SystemTime,
        command: Option<CommandRun>,
    ) -> Result<Config, ConfigError> {
        Config::build(args, env, now, command, &[])
    }

    /// As [`Config::from_args`], with the failed jobs the jobs API named: every text, template
    /// and channel is configured again from the one context that holds them.
    pub fn with_failed_jobs(
        args: &AlertArgs,
        env: &Env,
        now: SystemTime,
        failed: &[FailedJob],
    ) -> Result<Config, ConfigError> {
        Config::build(args, env, now, None, failed)
    }

    fn build(
        args: &AlertArgs,
        env: &Env,
        now: SystemTime,
        command: Option<CommandRun>,
        failed: &[FailedJob],
    ) -> Result<Config, ConfigError> {
        let general = &args.general;
        // Sent as `Authorization: Bearer` to the GitHub API (docs/security.md, "Security").
        if let Some(why) = args.history.token().and_then(crate::values::header_value_error) {
            return Err(ConfigError::new("--github-token", why));
        }
        let (needs, warnings) = needs_verdict(general)?;
        let status = needs.as_ref().map(|v| v.status).or(general.status).unwrap_or(crate::status::Status::Failure);
        let mut context = Context::detect(env, status, general.check_run_id.as_deref(), now);
        context.command = command;
        if let Some(verdict) = &needs {
            context.failed_jobs.clone_from(&verdict.failed_jobs);
            context.skipped_jobs.clone_from(&verdict.skipped_jobs);
        }
        context.add_failed_jobs(failed);
        let render = |option: &str, source: &str| -> Result<String, ConfigError> {
            let template = Template::parse(source).map_err(|e| ConfigError::new(option, e.to_string()))?;
            Ok(template.render(|name| context.placeholder(name)))
        };
        let language = general.language.unwrap_or_default();
        let title = match non_empty(&general.title) {
            Some(source) => render("--title", source)?,
            None => language.texts(Audience::Screen).title(&context),
        };
        let optional = |option: &str, value: &Option<String>| non_empty(value).map(|s| render(option, s)).transpose();
        let mut alert = Alert {
            title,
            message: optional("--message", &general.message)?,
            voice_message: optional("--voice-message", &general.voice_message)?,
            sms_message: optional("--sms-message", &general.sms_message)?,
            language,
            notify_on: general.notify_on.clone().unwrap_or_default(),
            context,
            decision: None,
        };
        if let Some(text) = args.escalation.chain_sms(&alert) {
            alert.sms_message = Some(text);
        }
        let channels = args.channels.configure(&alert)?;
        let escalation = Escalation::configure(&args.escalation, &args.channels, &alert, !channels.is_empty())?;
        let settings = Settings {
            dry_run: general.dry_run.unwrap_or(false),
            timeout: general.timeout.unwrap_or(Duration::from_secs(30)),
            retries: general.retries.unwrap_or(3),
            fail_on_error: general.fail_on_error.unwrap_or(true),
            output: general.output.unwrap_or(OutputFormat::Text),
        };
        Ok(Config { settings, alert, channels, needs, warnings, escalation })
    }

    /// Whether any channel will talk https (and so needs the trust roots).
    pub fn needs_tls(&self) -> bool {
        self.channels.iter().any(|c| c.endpoint().starts_with("https://"))
    }
}

/// `--needs` and `--allowed-skips` (docs/noise-control.md, "One alert for a whole workflow"): the verdict of the
/// needed jobs, and the warnings found on the way.
fn needs_verdict(general: &GeneralArgs) -> Result<(Option<Verdict>, Vec<String>), ConfigError> {
    let allowed = non_empty(&general.allowed_skips).map(needs::parse_list).unwrap_or_default();
    let Some(text) = non_empty(&general.needs) else {
        let ignored = (!allowed.is_empty()).then(|| "--allowed-skips has no effect without --needs".to_string());
        return Ok((None, ignored.into_iter().collect()));
    };
    let mut verdict = needs::parse(text).map_err(|e| ConfigError::new("--needs", e))?.verdict(&allowed);
    let warnings = std::mem::take(&mut verdict.warnings);
    Ok((Some(verdict), warnings))
}
