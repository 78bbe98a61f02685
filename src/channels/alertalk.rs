//! Voice calls through the Alertalk webhook (`docs/providers.md`, "Alertalk"): one JSON POST with
//! every number comma-joined and the text read aloud; the key goes in the `X-Webhook-Key` header.

use serde::{Deserialize, Serialize};

use super::{Alert, Channel, Provider, SharedArgs};
use crate::edge::Role;
use crate::error::ConfigError;
use crate::phone::{self, Phone};
use crate::redact::{self, Redactor};
use crate::texts::Audience;
use crate::values::{check_url, header_value_error, non_empty, truncate_chars};
use crate::wire::{Delivery, Header, Ids, Request, Response, Verdict, generic_verdict, web_page};

pub const DEFAULT_URL: &str = "https://tr.alertalk.net/webhook/receive";

/// Alertalk reads at most this many characters.
pub const MAX_TEXT: usize = 500;

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Voice (Alertalk)")]
#[group(id = "alertalk")]
pub struct Args {
    /// Alertalk webhook key (Panel → API Anahtarları); enables voice calls
    #[arg(long, env = "ONFAIL_ALERTALK_WEBHOOK_KEY", value_name = "KEY", hide_env_values = true)]
    pub alertalk_webhook_key: Option<String>,

    /// Alertalk webhook URL [default: https://tr.alertalk.net/webhook/receive]
    #[arg(long, env = "ONFAIL_ALERTALK_URL", value_name = "URL", hide_env_values = true)]
    pub alertalk_url: Option<String>,
}

impl Provider for Args {
    const CHANNEL: &'static str = "voice";
    const ENABLED_BY: &'static str = "--alertalk-webhook-key";

    fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(key) = non_empty(&self.alertalk_webhook_key) {
            redactor.secret(key);
        }
        if let Some(url) = non_empty(&self.alertalk_url) {
            redactor.url_secrets(url, false);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        Ok(configure(self, shared, alert)?.map(|voice| Box::new(voice) as Box<dyn Channel>))
    }
}

/// The wire body (`docs/providers.md`, "Alertalk").
#[derive(Serialize)]
struct Body<'a> {
    phone_number: &'a str,
    error_message: &'a str,
}

/// The documented answer: `{"message":"1 call(s) queued","status":"success"}`.
#[derive(Deserialize)]
struct Answer {
    message: Option<String>,
}

#[derive(Clone)]
pub struct Voice {
    url: reqwest::Url,
    key: String,
    phones: Vec<Phone>,
    text: String,
    warnings: Vec<String>,
}

/// The voice channel, if the Alertalk key is set; an error if it is set but incomplete.
pub fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Voice>, ConfigError> {
    let Some(key) = non_empty(&args.alertalk_webhook_key) else {
        return Ok(None);
    };
    if let Some(why) = header_value_error(key) {
        return Err(ConfigError::new("--alertalk-webhook-key", format!("{why} (it is sent as the X-Webhook-Key header)")));
    }
    let url = check_url("--alertalk-url", non_empty(&args.alertalk_url).unwrap_or(DEFAULT_URL))?;
    let list = non_empty(&shared.phone_numbers).ok_or_else(|| {
        ConfigError::new("--phone-numbers", "missing: voice calls need the numbers to call (the Alertalk key is set)")
    })?;
    let phones = phone::parse_list(list).map_err(|e| ConfigError::new("--phone-numbers", phone::fix_hint(&e)))?;
    if phones.is_empty() {
        return Err(ConfigError::new("--phone-numbers", "holds no number: give the numbers to call"));
    }
    let (option, full) = match (&alert.voice_message, &alert.message) {
        (Some(text), _) => ("--voice-message", text.clone()),
        (None, Some(text)) => ("--message", text.clone()),
        (None, None) => {
            let texts = alert.language.texts(Audience::Phone);
            let mut text = texts.voice(&alert.context);
            if alert.ack_url.is_some() && alert.status() == crate::status::Status::Failure {
                text = format!("{text} {}", texts.ack_spoken());
            }
            ("--language", text)
        }
    };
    if full.trim().is_empty() {
        return Err(ConfigError::new(option, "renders to an empty text: Alertalk needs text to read aloud"));
    }
    let (text, cut) = truncate_chars(&full, MAX_TEXT);
    let mut warnings = Vec::new();
    if cut {
        warnings.push(format!(
            "the voice text has {} characters; Alertalk reads at most {MAX_TEXT}, so it was cut",
            full.chars().count()
        ));
    }
    Ok(Some(Voice { url, key: key.trim().to_string(), phones, text, warnings }))
}

impl Voice {
    /// The same call (key, URL, text) to other numbers: escalation calls a second list, or only
    /// the numbers whose SMS was not delivered (docs/escalation.md, "Escalation").
    pub fn to(&self, phones: &[Phone]) -> Voice {
        Voice { phones: phones.to_vec(), ..self.clone() }
    }
}

impl Channel for Voice {
    fn name(&self) -> &'static str {
        Args::CHANNEL
    }

    fn provider(&self) -> &'static str {
        "alertalk"
    }

    fn endpoint(&self) -> String {
        redact::url(&self.url, false)
    }

    fn recipients(&self) -> Vec<String> {
        self.phones.iter().map(Phone::masked).collect()
    }

    fn phones(&self) -> &[Phone] {
        &self.phones
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// A call rings only for a new incident (`--notify-when changes`), never for a recovery.
    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        alert.skip_reason(Role::Call)
    }

    fn request(&self, _attempt: u32) -> Request {
        let numbers = self.phones.iter().map(Phone::national).collect::<Vec<_>>().join(",");
        let body = Body { phone_number: &numbers, error_message: &self.text };
        Request {
            url: self.url.clone(),
            headers: vec![Header::secret("X-Webhook-Key", &self.key)],
            body: serde_json::to_vec(&body).expect("a struct of strings always serialises"),
            // Every accepted POST queues the calls again (`docs/providers.md`, "Alertalk").
            repeat_safe: false,
        }
    }

    fn classify(&self, response: &Response, _attempt: u32) -> Verdict {
        // Alertalk answers in JSON; a 200 page is someone else's, and no call was queued. Not
        // retried: the page would come again, and the request might have got through after all.
        if let Some(why) = web_page(response, "Alertalk", "the call", "--alertalk-url") {
            return Verdict::Permanent(why);
        }
        let said = serde_json::from_slice::<Answer>(&response.body).ok().and_then(|a| a.message);
        let provider_said = || said.as_deref().map(|m| format!(" (Alertalk said: {m})")).unwrap_or_default();
        match response.status {
            200..=299 => {
                // The count, as a number: the provider's own ("2 call(s) queued"), else one call
                // per number sent.
                let count = said.as_deref().and_then(leading_number).unwrap_or(self.phones.len() as u64);
                let queued = said.clone().unwrap_or_else(|| format!("{count} call(s) queued"));
                Verdict::Delivered(Delivery {
                    detail: queued,
                    ids: Ids { calls_queued: Some(count), ..Ids::default() },
                    warnings: Vec::new(),
                })
            }
            400 => Verdict::Permanent(format!(
                "Alertalk rejected the request as malformed (HTTP 400): a number or the text was not accepted{}",
                provider_said()
            )),
            402 => Verdict::Permanent(format!(
                "Alertalk has no call credit left (HTTP 402): buy credit in the Alertalk panel{}",
                provider_said()
            )),
            403 => Verdict::Permanent(format!(
                "Alertalk refused the webhook key (HTTP 403): check alertalk-webhook-key against Panel → API Anahtarları → Webhook Key (needs the Starter plan or higher){}",
                provider_said()
            )),
            _ => generic_verdict(response, "Alertalk"),
        }
    }
}

/// The number a sentence starts with: `2 call(s) queued` → 2.
fn leading_number(text: &str) -> Option<u64> {
    let digits: String = text.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
