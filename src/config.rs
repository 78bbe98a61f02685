//! The validated configuration: everything from the command line and `ONFAIL_*` variables,
//! checked and converted into plain values with no clap types. Any problem here is a
//! [`ConfigError`] (exit code 2), raised before anything is sent.

use std::time::{Duration, SystemTime};

use crate::channels::companion::{OpenedPage, Server};
use crate::channels::{Alert, Channel, Configured};
use crate::cli::{AlertArgs, OutputFormat};
use crate::context::Env;
use crate::error::ConfigError;
use crate::escalation::Escalation;
use crate::facts::Facts;
use crate::history::Lookup;
use crate::needs::NeedsVerdict;
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
    pub needs: Option<NeedsVerdict>,
    /// Found while configuring; reported with the result, never fatal.
    pub warnings: Vec<String>,
    /// `--escalate`, unless it is `off`.
    pub escalation: Option<Escalation>,
    /// Under `--notify-when changes`: what the same alert did last time, and where this outcome
    /// is recorded once the alert went out.
    pub history: Option<Lookup>,
    /// `--server`: an `onfail serve` (docs/serve-senders.md).
    pub server: Option<Server>,
    /// The acknowledgeable page a failure opened there, whose link every SMS carries.
    pub page: Option<OpenedPage>,
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
    /// The one configuration of a run, built once from the options and the facts learned before
    /// it ([`Facts::gather`]): every text, template and channel sees the whole context and the
    /// history decision, so nothing is configured again afterwards.
    pub fn build(args: &AlertArgs, facts: Facts) -> Result<Config, ConfigError> {
        let general = &args.general;
        let Facts { context, needs, warnings, history, decision, page } = facts;
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
        let message = optional("--message", &general.message)?;
        let voice_message = optional("--voice-message", &general.voice_message)?;
        let sms_message = optional("--sms-message", &general.sms_message)?;
        let notify_on = general.notify_on.clone().unwrap_or_default();
        let ack_url = page.as_ref().map(|p| p.ack_url.clone());
        let mut alert =
            Alert { title, message, voice_message, sms_message, language, notify_on, context, decision, ack_url };
        if let Some(text) = args.escalation.chain_sms(&alert) {
            alert.sms_message = Some(text);
        }
        let server = Server::from_args(&args.channels.shared.companion)?;
        let mut warnings = warnings;
        warnings.extend(args.channels.shared.companion.unused());
        let Configured { channels, phones } = args.channels.configure(&alert)?;
        let escalation = Escalation::configure(&args.escalation, phones, !channels.is_empty())?;
        let settings = Settings {
            dry_run: general.dry_run.unwrap_or(false),
            timeout: general.timeout.unwrap_or(Duration::from_secs(30)),
            retries: general.retries.unwrap_or(3),
            fail_on_error: general.fail_on_error.unwrap_or(true),
            output: general.output.unwrap_or(OutputFormat::Text),
        };
        Ok(Config { settings, alert, channels, needs, warnings, escalation, history, server, page })
    }

    /// Whether any channel will talk https (and so needs the trust roots).
    pub fn needs_tls(&self) -> bool {
        self.channels.iter().any(|c| c.endpoint().starts_with("https://"))
            || self.server.as_ref().is_some_and(Server::is_https)
    }
}

/// Validates the options with the facts known without asking anyone, and keeps nothing:
/// `onfail run` calls it before its command runs, so that a broken setup shows when the job
/// is set up, not when it fails (docs/getting-started.md, "Cron jobs and any CI: `onfail run`").
pub fn validate(args: &AlertArgs, env: &Env) -> Result<(), ConfigError> {
    Config::build(args, Facts::local(args, env, SystemTime::now(), None)?).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{AlertCommand, Command, parse_from};
    use crate::facts;

    fn send(words: &[&str]) -> AlertArgs {
        match parse_from(["onfail", "send"].iter().chain(words)).unwrap().command {
            Command::Alert(AlertCommand::Send(args)) => args,
            _ => unreachable!("a send"),
        }
    }

    /// The history is keyed by the alert id before any channel exists: it is the id the
    /// incident channels of the one configuration send.
    #[test]
    fn the_history_key_is_the_id_the_incident_channels_send() {
        let env: Env = [("GITHUB_ACTIONS", "true"), ("GITHUB_REPOSITORY", "acme/api"), ("GITHUB_WORKFLOW", "Deploy")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for given in [&[][..], &["--alert-id", "{repository}-x"][..]] {
            let args = send(&[&["--pagerduty-routing-key", "R0UT1NGKEY0123456789012345678901"][..], given].concat());
            let facts = Facts::local(&args, &env, SystemTime::now(), None).unwrap();
            let key = facts::alert_id(&args, &facts.context).unwrap();
            let config = Config::build(&args, facts).unwrap();
            assert_eq!(config.channels.len(), 1);
            assert_eq!(config.channels[0].ids().alert_id, Some(key), "{given:?}");
        }
    }

    /// Voice and SMS are configured once: the escalation drives the channels of the list.
    #[test]
    fn the_escalation_drives_the_voice_and_sms_of_the_list() {
        let args = send(&[
            "--alertalk-webhook-key",
            "k",
            "--phone-numbers",
            "05321112233",
            "--iletimerkezi-key",
            "i",
            "--iletimerkezi-hash",
            "h",
            "--sms-sender",
            "ACME",
            "--escalate",
            "chain",
            "--escalation-phone-numbers",
            "05324445566",
        ]);
        let env = Env::new();
        let config = Config::build(&args, Facts::local(&args, &env, SystemTime::now(), None).unwrap()).unwrap();
        let escalation = config.escalation.as_ref().expect("chain");
        let names: Vec<&str> = config.channels.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["voice", "sms"]);
        let voice = escalation.voice.as_ref().unwrap();
        let sms = escalation.sms.as_ref().unwrap();
        assert_eq!(config.channels[0].phones(), voice.phones());
        assert_eq!(config.channels[1].phones(), sms.phones());
        assert_eq!(config.channels[1].request(1).body, sms.request(1).body, "the chain's SMS text in both");
    }
}
