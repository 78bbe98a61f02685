//! The channels, one module per provider, behind one small interface.
//!
//! To add a provider, write one file, `channels/<name>.rs`, and add its name to the
//! `providers!` list at the end of this file. The file holds:
//! - the provider's clap `Args`: its flags with `ONFAIL_*` env names and `hide_env_values`, a
//!   `next_help_heading`, and `#[group(id = "<name>")]` (clap names a flattened struct's group
//!   after its type, and every provider's type is `Args`, so each needs its own id);
//! - `impl Provider for Args`: the channel name, the option that enables it, the secrets to
//!   register, and `configure`, which validates the flags into a [`Channel`];
//! - `impl Channel` for the configured channel: the request and the verdict on a response;
//!   an incident platform instead implements [`incident::Event`] for its event and configures
//!   an [`incident::IncidentChannel`] of it.
//!
//! The flags, secret registration, configuration and the "what enables a channel" list all
//! derive from `providers!`; the delivery engine (retries, deadline, concurrency) and every
//! output come for free. Options that several providers read are not any provider's: they live
//! in [`SharedArgs`] (`--phone-numbers`) and [`incident`] (`--alert-id`, `--priority`,
//! `--alert-url`), and reach each provider's `configure` as the [`SharedArgs`].

pub mod companion;
pub mod incident;
pub mod sms_text;

use crate::context::Context;
use crate::edge::{self, Decision, Role};
use crate::error::ConfigError;
use crate::phone::Phone;
use crate::redact::Redactor;
use crate::status::{NotifyOn, Status};
use crate::texts::{Audience, Language};
use crate::transport::{Outcome, Transport};
use crate::values::non_empty;
use crate::wire::{Ids, Request, Response, Verdict};

/// What every channel is told about the alert.
#[derive(Clone, Debug)]
pub struct Alert {
    pub context: Context,
    /// `--title`, rendered, or the default title for the status.
    pub title: String,
    /// `--message`, rendered; `None` means each channel uses its own default text.
    pub message: Option<String>,
    /// `--voice-message` and `--sms-message`, rendered: that one channel's text, over `message`.
    pub voice_message: Option<String>,
    pub sms_message: Option<String>,
    /// The language of the default texts.
    pub language: Language,
    pub notify_on: NotifyOn,
    /// Under `--notify-when changes`: the edge, which silences voice and SMS while a failure
    /// goes on and turns SMS and webhook into a short "recovered" notice. `None` under `always`.
    pub decision: Option<Decision>,
    /// With `--server`, the link that acknowledges this page (docs/serve-senders.md): every SMS
    /// carries it, and the default voice text says it is in the SMS.
    pub ack_url: Option<String>,
}

impl Alert {
    pub fn status(&self) -> Status {
        self.context.status
    }

    /// Why a channel in `role` does nothing for this alert: the edge, then `--notify-on`.
    pub fn skip_reason(&self, role: Role) -> Option<String> {
        edge::skip_reason(self.decision.as_ref(), role, self.status(), &self.notify_on)
    }

    /// Whether a channel in `role` sends the short "recovered" text instead of its usual one.
    pub fn recovered(&self, role: Role) -> bool {
        self.decision.as_ref().is_some_and(|d| d.recovered(role, self.status()))
    }

    /// The short "recovered" text for `audience`, saying since when the failure lasted.
    pub fn recovered_text(&self, audience: Audience) -> String {
        let since = self.decision.as_ref().and_then(|d| d.since.as_deref());
        self.language.texts(audience).recovered(&self.context, since)
    }
}

/// One configured, validated channel.
pub trait Channel: Send + Sync {
    /// What it does, as every output names it: [`Provider::CHANNEL`].
    fn name(&self) -> &'static str;
    /// Who does it: `alertalk`, `iletimerkezi`, ...
    fn provider(&self) -> &'static str;
    /// Where it sends, safe to print (secret path and query hidden).
    fn endpoint(&self) -> String;
    /// Masked recipients, if the channel has any.
    fn recipients(&self) -> Vec<String> {
        Vec::new()
    }
    /// The numbers it calls or texts, normalised: who the record of a page names
    /// (`crate::report::pages`). Channels that page no phone have none.
    fn phones(&self) -> &[Phone] {
        &[]
    }
    /// Warnings found while configuring (text cut to a provider limit, ...).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// Ids known before anything is sent (the incident's `alert_id`), reported on every outcome.
    fn ids(&self) -> Ids {
        Ids::default()
    }
    /// Why the channel does nothing for this alert, if it doesn't. By default a channel fires on
    /// the statuses in `--notify-on`, and under `--notify-when changes` as the webhook does.
    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        alert.skip_reason(Role::Webhook)
    }
    /// The request for attempt `attempt` (1-based); the same request is rendered for `--dry-run`.
    fn request(&self, attempt: u32) -> Request;
    /// Judges a response to attempt `attempt`.
    fn classify(&self, response: &Response, attempt: u32) -> Verdict;
    /// Sends the alert. The default is one request with retries; a channel with follow-up work
    /// (waiting for a delivery report) overrides this and calls [`Transport::deliver`] itself.
    fn deliver(&self, transport: &Transport) -> Outcome {
        transport.deliver(&|attempt| self.request(attempt), &|response, attempt| self.classify(response, attempt))
    }
    /// For `check --online`: a side-effect-free credentials check, if the provider has one.
    fn check_online(&self, _transport: &Transport) -> Option<Result<String, String>> {
        None
    }
}

/// What each provider module offers the `providers!` list, implemented by its `Args`.
pub trait Provider {
    /// The channel's name in every output (docs/reference.md, "Output"): `voice`, `sms`, `temperstack`, ...
    const CHANNEL: &'static str;
    /// The option whose non-empty value enables the channel.
    const ENABLED_BY: &'static str;
    /// Registers every secret value and phone number the provider's options hold, before
    /// anything is validated or printed, so even a configuration error cannot leak one.
    fn register_secrets(&self, redactor: &mut Redactor);
    /// The channel, if its enabling option is set; an error naming the option if it is set but
    /// something the channel needs is missing or wrong.
    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError>;
}

/// The options more than one provider reads, flattened once.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Phones (voice and SMS)")]
#[group(id = "shared")]
pub struct SharedArgs {
    /// Turkish mobile numbers to call (and to text, unless --sms-phone-numbers is set), separated
    /// by commas, semicolons, spaces or newlines
    #[arg(long, env = "ONFAIL_PHONE_NUMBERS", value_name = "LIST", hide_env_values = true)]
    pub phone_numbers: Option<String>,

    #[command(flatten)]
    pub incident: incident::IncidentArgs,

    /// `--server`: SMS and escalation read it, and so does the page.
    #[command(flatten)]
    pub companion: companion::Args,
}

impl SharedArgs {
    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(list) = non_empty(&self.phone_numbers) {
            redactor.phone_list(list);
        }
        // The incident link is shown, but a password in it (`https://user:pass@host/...`) is not.
        if let Some(url) = non_empty(&self.incident.alert_url) {
            redactor.url_password_of(url);
        }
        self.companion.register_secrets(redactor);
    }
}

/// The one list of providers: declares each module, and derives from the list the flags of
/// every command ([`ChannelArgs`]), secret registration, configuration and [`CHANNELS`].
macro_rules! providers {
    ($($module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// Every provider's flags, flattened into each command, after the shared ones.
        #[derive(clap::Args, Clone, Debug, Default)]
        pub struct ChannelArgs {
            #[command(flatten)]
            pub shared: SharedArgs,
            $(
                #[command(flatten)]
                pub $module: $module::Args,
            )+
        }

        /// Each channel's name and the option that enables it, in the order of the list.
        pub const CHANNELS: &[(&str, &str)] =
            &[$((<$module::Args as Provider>::CHANNEL, <$module::Args as Provider>::ENABLED_BY)),+];

        impl ChannelArgs {
            /// Registers every secret value and phone number before anything is validated or
            /// printed, so even a configuration error cannot leak one.
            pub fn register_secrets(&self, redactor: &mut Redactor) {
                self.shared.register_secrets(redactor);
                $(self.$module.register_secrets(redactor);)+
            }

            /// Validates each provider's flags, once; an enabled channel comes back ready to
            /// send. Voice and SMS are configured as their own types, for the escalation, and
            /// the list holds copies of them.
            pub fn configure(&self, alert: &Alert) -> Result<Configured, ConfigError> {
                let phones = PhoneChannels {
                    voice: alertalk::configure(&self.alertalk, &self.shared, alert)?,
                    sms: iletimerkezi::configure(&self.iletimerkezi, &self.shared, alert)?,
                };
                let mut channels: Vec<Box<dyn Channel>> = Vec::new();
                $(
                    let name = <$module::Args as Provider>::CHANNEL;
                    if name == <alertalk::Args as Provider>::CHANNEL {
                        channels.extend(phones.voice.clone().map(|v| Box::new(v) as Box<dyn Channel>));
                    } else if name == <iletimerkezi::Args as Provider>::CHANNEL {
                        channels.extend(phones.sms.clone().map(|s| Box::new(s) as Box<dyn Channel>));
                    } else {
                        channels.extend(self.$module.configure(&self.shared, alert)?);
                    }
                )+
                Ok(Configured { channels, phones })
            }
        }
    };
}

/// The phone channels as their own types, for escalation (docs/escalation.md, "Escalation"), which
/// re-targets them at other numbers and reads the SMS delivery report per number.
pub struct PhoneChannels {
    pub voice: Option<alertalk::Voice>,
    pub sms: Option<iletimerkezi::Sms>,
}

/// Every enabled channel, configured once: the list a send fans out to, and the voice and SMS
/// channels (the same ones) for the escalation.
pub struct Configured {
    pub channels: Vec<Box<dyn Channel>>,
    pub phones: PhoneChannels,
}

/// Why nothing was configured, naming every option that would enable a channel.
pub fn none_enabled() -> String {
    let options: Vec<&str> = CHANNELS.iter().map(|(_, option)| *option).collect();
    format!("no channel is configured (none of {} is set)", options.join(", "))
}

providers! {
    alertalk,
    iletimerkezi,
    temperstack,
    pagerduty,
    incidentio,
    grafana_irm,
    webhook,
}
