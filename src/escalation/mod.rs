//! Escalation (docs/escalation.md, "Escalation"): how a failure climbs while the step waits. `sms-first`
//! texts first and calls the numbers whose SMS was not delivered; `chain` pages the first list,
//! waits, and pages a second list, round after round, until someone acknowledges by cancelling
//! the run.
//!
//! It sits above `channels` and drives the voice and SMS providers through their own types,
//! re-targeted at other numbers ([`crate::channels::alertalk::Voice::to`]); the delivery engine
//! knows nothing of it. [`plan`] is the pure order of pages and waits, and [`driver`] runs the
//! plan; `crate::stop` hears the cancel.

pub mod acknowledge;
mod driver;
pub mod plan;

use std::fmt;
use std::time::Duration;

use crate::channels::alertalk::Voice;
use crate::channels::iletimerkezi::Sms;
use crate::channels::{Alert, Channel, PhoneChannels, Provider, alertalk, iletimerkezi};
use crate::error::ConfigError;
use crate::phone::{self, Phone};
use crate::redact::Redactor;
use crate::status::Status;
use crate::texts::Audience;
use crate::values::{non_empty, one_of, parse_duration};

pub use driver::{dry_run, run};

/// Whether `channel` is one the escalation drives itself (voice or SMS).
pub fn drives(channel: &dyn Channel) -> bool {
    [<alertalk::Args as Provider>::CHANNEL, <iletimerkezi::Args as Provider>::CHANNEL].contains(&channel.name())
}

/// `--escalate-after`'s default.
pub const DEFAULT_AFTER: Duration = Duration::from_secs(60);

/// `--escalation-timeout`'s default.
pub const DEFAULT_CAP: Duration = Duration::from_secs(15 * 60);

/// `--escalate`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Every channel at once.
    #[default]
    Off,
    /// Text everyone, then call whoever's SMS was not delivered.
    SmsFirst,
    /// Page the first list, wait, page the second list; repeat.
    Chain,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::SmsFirst => "sms-first",
            Mode::Chain => "chain",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const MODES: &[(&str, Mode)] = &[("off", Mode::Off), ("sms-first", Mode::SmsFirst), ("chain", Mode::Chain)];

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Escalation")]
#[group(id = "escalation")]
pub struct Args {
    /// How a failure climbs while the step waits: off, sms-first (text, then call whoever's SMS
    /// was not delivered) or chain (page, wait, page --escalation-phone-numbers) [default: off]
    #[arg(long, env = "ONFAIL_ESCALATE", value_name = "MODE", value_parser = one_of("an escalation", MODES),
          hide_env_values = true)]
    pub escalate: Option<Mode>,

    /// The wait before the next level: for the SMS delivery report (sms-first) or for an
    /// acknowledgement (chain) [default: 60s]
    #[arg(long, env = "ONFAIL_ESCALATE_AFTER", value_name = "DURATION", value_parser = parse_duration,
          hide_env_values = true)]
    pub escalate_after: Option<Duration>,

    /// The second level of a chain: Turkish mobile numbers to call and text when nobody
    /// acknowledged the first page
    #[arg(long, env = "ONFAIL_ESCALATION_PHONE_NUMBERS", value_name = "LIST", hide_env_values = true)]
    pub escalation_phone_numbers: Option<String>,

    /// Run the whole chain this many more times (0 to 20) [default: 0]
    #[arg(long, env = "ONFAIL_ESCALATION_REPEAT", value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=20), hide_env_values = true)]
    pub escalation_repeat: Option<u32>,

    /// A hard cap on all the waiting between levels [default: 15m]
    #[arg(long, env = "ONFAIL_ESCALATION_TIMEOUT", value_name = "DURATION", value_parser = parse_duration,
          hide_env_values = true)]
    pub escalation_timeout: Option<Duration>,
}

impl Args {
    /// The second list holds phone numbers: registered before anything is printed.
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(list) = non_empty(&self.escalation_phone_numbers) {
            redactor.phone_list(list);
        }
    }

    pub fn mode(&self) -> Mode {
        self.escalate.unwrap_or_default()
    }

    /// The default SMS of a chain says how to acknowledge, in the alert's language; a text the
    /// user wrote (`--sms-message`, `--message`) is theirs and stays as it is.
    pub fn chain_sms(&self, alert: &Alert) -> Option<String> {
        let default = self.mode() == Mode::Chain && alert.sms_message.is_none() && alert.message.is_none();
        default.then(|| alert.language.texts(Audience::Phone).escalation_sms(&alert.context))
    }
}

/// A validated escalation, with the phone channels it drives.
pub struct Escalation {
    pub mode: Mode,
    pub after: Duration,
    pub repeat: u32,
    pub cap: Duration,
    /// The first list's channels, as configured.
    pub voice: Option<Voice>,
    pub sms: Option<Sms>,
    /// The second list of a chain.
    pub backup: Vec<Phone>,
}

impl Escalation {
    /// The escalation `args` ask for, or `None` for `off`. Every wrong combination is an error
    /// naming the option, found before anything is sent. With no channel enabled at all (a fork
    /// pull request, which gets no secrets) there is nothing to escalate: `None`, and the run
    /// is the clean skip any send without a channel is (docs/escalation.md, "Escalation").
    pub fn configure(args: &Args, phones: PhoneChannels, any_channel: bool) -> Result<Option<Escalation>, ConfigError> {
        let mode = args.mode();
        let backup = non_empty(&args.escalation_phone_numbers);
        if mode != Mode::Chain {
            if backup.is_some() {
                return Err(ConfigError::new(
                    "--escalation-phone-numbers",
                    format!("is only paged by --escalate chain (it is {mode}): set --escalate chain, or remove it"),
                ));
            }
            if args.escalation_repeat.is_some_and(|n| n > 0) {
                return Err(ConfigError::new(
                    "--escalation-repeat",
                    format!("only repeats --escalate chain (it is {mode}): set --escalate chain, or remove it"),
                ));
            }
        }
        if mode == Mode::Off || !any_channel {
            return Ok(None);
        }
        let after = args.escalate_after.unwrap_or(DEFAULT_AFTER);
        let cap = args.escalation_timeout.unwrap_or(DEFAULT_CAP);
        let escalation = Escalation {
            mode,
            after,
            repeat: args.escalation_repeat.unwrap_or(0),
            cap,
            voice: phones.voice,
            sms: phones.sms,
            backup: Vec::new(),
        };
        match mode {
            Mode::SmsFirst => escalation.check_sms_first().map(Some),
            _ => escalation.check_chain(backup).map(Some),
        }
    }

    fn check_sms_first(self) -> Result<Escalation, ConfigError> {
        let missing: Vec<&str> = [
            (self.voice.is_none(), "voice calls (--alertalk-webhook-key with --phone-numbers)"),
            (self.sms.is_none(), "SMS (--iletimerkezi-key, --iletimerkezi-hash, --sms-sender)"),
        ]
        .into_iter()
        .filter_map(|(missing, what)| missing.then_some(what))
        .collect();
        if !missing.is_empty() {
            return Err(ConfigError::new(
                "--escalate",
                format!(
                    "sms-first texts, then calls: it needs voice and SMS configured; missing: {}",
                    missing.join(" and ")
                ),
            ));
        }
        Ok(self)
    }

    fn check_chain(mut self, backup: Option<&str>) -> Result<Escalation, ConfigError> {
        const OPTION: &str = "--escalation-phone-numbers";
        let list = backup.ok_or_else(|| {
            ConfigError::new(
                OPTION,
                "missing: --escalate chain pages this second list when nobody acknowledges the first",
            )
        })?;
        self.backup = phone::parse_list(list).map_err(|e| ConfigError::new(OPTION, phone::fix_hint(&e)))?;
        if self.backup.is_empty() {
            return Err(ConfigError::new(OPTION, "holds no number: give the numbers of the second on-call list"));
        }
        if self.voice.is_none() && self.sms.is_none() {
            return Err(ConfigError::new(
                "--escalate",
                "chain pages by voice call and SMS, and neither is configured: set --alertalk-webhook-key \
                 (with --phone-numbers) or --iletimerkezi-key",
            ));
        }
        if self.cap < self.after {
            return Err(ConfigError::new(
                "--escalation-timeout",
                format!(
                    "is shorter than --escalate-after ({} < {}), so the second level would never be paged: \
                     give it at least --escalate-after",
                    humantime::format_duration(self.cap),
                    humantime::format_duration(self.after)
                ),
            ));
        }
        Ok(self)
    }

    /// Escalation is for failures that page phones: a success, a cancel, a skip, or a failure
    /// whose calls and SMS stay silent (`--notify-on`, a failure that goes on) sends as usual.
    pub fn applies(&self, alert: &Alert) -> bool {
        let fires = |channel: Option<&dyn Channel>| channel.is_some_and(|c| c.skip_reason(alert).is_none());
        alert.status() == Status::Failure
            && (fires(self.voice.as_ref().map(|v| v as &dyn Channel))
                || fires(self.sms.as_ref().map(|s| s as &dyn Channel)))
    }

    /// One line for `check`: what would climb how.
    pub fn describe(&self) -> String {
        let after = humantime::format_duration(self.after);
        let cap = humantime::format_duration(self.cap);
        match self.mode {
            Mode::SmsFirst => {
                let texted = self.sms.as_ref().map(|s| s.phones()).unwrap_or_default();
                let called = self.voice.as_ref().map(|v| v.phones()).unwrap_or_default();
                let at_once: Vec<String> = plan::call_at_once(called, texted).iter().map(Phone::masked).collect();
                let at_once = match at_once.is_empty() {
                    true => String::new(),
                    false => format!("; calls {} at once (no SMS list has it)", at_once.join(", ")),
                };
                format!(
                    "escalation sms-first: text first, wait up to {after} for the delivery report, then call \
                     the numbers whose SMS was not delivered{at_once}"
                )
            }
            _ => {
                let backup: Vec<String> = self.backup.iter().map(Phone::masked).collect();
                let rounds = match self.repeat {
                    0 => String::new(),
                    n => format!(", {n} more round(s)"),
                };
                format!(
                    "escalation chain: page, wait {after} for an acknowledgement, then page {}{rounds}; \
                     at most {cap} of waiting",
                    backup.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_in_any_case_and_name_the_choices() {
        let parse = |value| crate::values::choose(value, "an escalation", MODES);
        assert_eq!(parse(" Chain\n"), Ok(Mode::Chain));
        assert_eq!(parse("SMS-FIRST"), Ok(Mode::SmsFirst));
        assert_eq!(parse("off"), Ok(Mode::Off));
        assert_eq!(parse("loud").unwrap_err(), "'loud' is not an escalation; use off, sms-first or chain");
    }
}
