//! SMS through iletiMerkezi (`docs/providers.md`, "iletiMerkezi"): one send-sms order with every
//! number, judged by the body's `response.status.code` rather than the HTTP status; with
//! `--sms-wait`, the delivery report is polled afterwards; `check --online` asks get-balance.

mod delivery;
mod envelope;

use std::time::Duration;

use super::sms_text::{self, MAX_PARTS};
use super::companion::Server;
use super::{Alert, Channel, Provider, SharedArgs};
use crate::edge::Role;
use crate::error::ConfigError;
use crate::phone::{self, Phone};
use crate::redact::{self, Redactor};
use crate::texts::Audience;
use crate::transport::{Outcome, Transport};
use crate::values::{check_url, non_empty, parse_duration};
use crate::wire::{Delivery, Ids, Request, Response, Verdict, generic_verdict};
use delivery::Watch;
pub use delivery::{Report as DeliveryReport, State as DeliveryState};
use envelope::{Answer, Credentials, Kind};

pub const DEFAULT_URL: &str = "https://api.iletimerkezi.com";

/// iletiMerkezi senders (SMS headers) are at most this many characters (`docs/providers.md`,
/// "iletiMerkezi").
pub const MAX_SENDER: usize = 11;

/// Letters a sender may not contain (status code 460).
const TURKISH_LETTERS: &str = "çğıöşüÇĞİÖŞÜ";

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "SMS (iletiMerkezi)")]
#[group(id = "iletimerkezi")]
pub struct Args {
    /// iletiMerkezi API key (panel → Settings → Security → API Access); enables SMS
    #[arg(long, env = "ONFAIL_ILETIMERKEZI_KEY", value_name = "KEY", hide_env_values = true)]
    pub iletimerkezi_key: Option<String>,

    /// iletiMerkezi API hash, issued by the panel together with the key
    #[arg(long, env = "ONFAIL_ILETIMERKEZI_HASH", value_name = "HASH", hide_env_values = true)]
    pub iletimerkezi_hash: Option<String>,

    /// SMS sender (header) exactly as approved in the iletiMerkezi panel, at most 11 characters
    #[arg(long, env = "ONFAIL_SMS_SENDER", value_name = "NAME", hide_env_values = true)]
    pub sms_sender: Option<String>,

    /// Turkish mobile numbers to text [default: --phone-numbers]
    #[arg(long, env = "ONFAIL_SMS_PHONE_NUMBERS", value_name = "LIST", hide_env_values = true)]
    pub sms_phone_numbers: Option<String>,

    /// Wait up to this long (within --timeout) for the delivery report; 0 = don't wait [default: 0]
    #[arg(long, env = "ONFAIL_SMS_WAIT", value_name = "DURATION", value_parser = parse_wait, hide_env_values = true)]
    pub sms_wait: Option<Duration>,

    /// iletiMerkezi API base URL [default: https://api.iletimerkezi.com]
    #[arg(long, env = "ONFAIL_ILETIMERKEZI_URL", value_name = "URL", hide_env_values = true)]
    pub iletimerkezi_url: Option<String>,
}

impl Provider for Args {
    const CHANNEL: &'static str = "sms";
    const ENABLED_BY: &'static str = "--iletimerkezi-key";

    fn register_secrets(&self, redactor: &mut Redactor) {
        for secret in [&self.iletimerkezi_key, &self.iletimerkezi_hash] {
            if let Some(value) = non_empty(secret) {
                redactor.secret(value);
            }
        }
        if let Some(list) = non_empty(&self.sms_phone_numbers) {
            redactor.phone_list(list);
        }
        if let Some(url) = non_empty(&self.iletimerkezi_url) {
            redactor.url_secrets(url, false);
        }
    }

    fn configure(&self, shared: &SharedArgs, alert: &Alert) -> Result<Option<Box<dyn Channel>>, ConfigError> {
        Ok(configure(self, shared, alert)?.map(|sms| Box::new(sms) as Box<dyn Channel>))
    }
}

/// Like every duration option, but 0 is allowed and means "don't wait".
fn parse_wait(value: &str) -> Result<Duration, String> {
    let zero = value.trim().parse::<f64>() == Ok(0.0) || humantime::parse_duration(value.trim()) == Ok(Duration::ZERO);
    if zero { Ok(Duration::ZERO) } else { parse_duration(value) }
}

#[derive(Clone)]
pub struct Sms {
    send_url: reqwest::Url,
    report_url: reqwest::Url,
    balance_url: reqwest::Url,
    credentials: Credentials,
    sender: String,
    phones: Vec<Phone>,
    text: String,
    wait: Duration,
    warnings: Vec<String>,
    /// With `--server`: where the order is registered and its delivery learned.
    companion: Option<Registration>,
    /// The acknowledge words and link the text ends with, kept whole when the text is cut.
    ack_line: Option<String>,
}

/// What an order is registered with at `onfail serve`.
#[derive(Clone, Debug)]
struct Registration {
    server: Server,
    alert_id: String,
    run_url: String,
}

/// The SMS channel, if the iletiMerkezi key is set; an error if it is set but incomplete.
/// The shared `--phone-numbers` is the default list.
pub fn configure(args: &Args, shared: &SharedArgs, alert: &Alert) -> Result<Option<Sms>, ConfigError> {
    let Some(key) = non_empty(&args.iletimerkezi_key) else {
        return Ok(None);
    };
    let base = check_url("--iletimerkezi-url", non_empty(&args.iletimerkezi_url).unwrap_or(DEFAULT_URL))?;
    let hash = non_empty(&args.iletimerkezi_hash).ok_or_else(|| {
        ConfigError::new(
            "--iletimerkezi-hash",
            "missing: iletiMerkezi needs the hash the panel issues with the key (Settings → Security → API Access)",
        )
    })?;
    let sender = check_sender(non_empty(&args.sms_sender))?;
    let (option, list) = match (non_empty(&args.sms_phone_numbers), non_empty(&shared.phone_numbers)) {
        (Some(list), _) => ("--sms-phone-numbers", list),
        (None, Some(list)) => ("--phone-numbers", list),
        (None, None) => {
            return Err(ConfigError::new(
                "--sms-phone-numbers",
                "missing: SMS needs the numbers to text (the iletiMerkezi key is set); \
                 set --sms-phone-numbers, or --phone-numbers for both calls and SMS",
            ));
        }
    };
    let phones = phone::parse_list(list).map_err(|e| ConfigError::new(option, phone::fix_hint(&e)))?;
    if phones.is_empty() {
        return Err(ConfigError::new(option, "holds no number: give the numbers to text"));
    }
    let (option, full) = match (&alert.sms_message, &alert.message) {
        // Under --notify-when changes, the first success after a failure (docs/noise-control.md, "Page once
        // per incident").
        _ if alert.recovered(Role::Text) => {
            ("--language", alert.recovered_text(Audience::Phone))
        }
        (Some(text), _) => ("--sms-message", text.clone()),
        (None, Some(text)) => ("--message", text.clone()),
        (None, None) => ("--language", alert.language.texts(Audience::Phone).sms(&alert.context)),
    };
    if full.trim().is_empty() {
        return Err(ConfigError::new(option, "renders to an empty text: an SMS needs some text"));
    }
    let ack_line = match &alert.ack_url {
        Some(link) if !alert.recovered(Role::Text) => Some(alert.language.texts(Audience::Phone).ack_link(link)),
        _ => None,
    };
    let full = match &ack_line {
        Some(line) => with_link(&full, line),
        None => full,
    };
    let (text, warnings) = fit_text(&full);
    let companion = Server::from_args(&shared.companion)?.map(|server| Registration {
        server,
        alert_id: super::incident::default_alert_id(&alert.context),
        run_url: alert.context.run_url.clone(),
    });
    Ok(Some(Sms {
        send_url: endpoint(&base, "send-sms"),
        report_url: endpoint(&base, "get-report"),
        balance_url: endpoint(&base, "get-balance"),
        credentials: Credentials { key: key.trim().to_string(), hash: hash.trim().to_string() },
        sender,
        phones,
        text,
        wait: args.sms_wait.unwrap_or(Duration::ZERO),
        warnings,
        companion,
        ack_line,
    }))
}

/// `text` and then `link` (the acknowledge link), the text cut first if both do not fit in
/// iletiMerkezi's part cap: the link is never cut.
fn with_link(text: &str, link: &str) -> String {
    let mut body: Vec<char> = text.trim_end().chars().collect();
    loop {
        let joined = format!("{} {link}", body.iter().collect::<String>());
        if body.is_empty() || sms_text::measure(&joined).parts <= MAX_PARTS {
            return joined;
        }
        body.truncate(body.len().saturating_sub(16));
    }
}

/// `https://api.iletimerkezi.com` + `send-sms` → `https://api.iletimerkezi.com/v1/send-sms/json`.
/// A base that already ends in `/v1` is taken as meaning the same.
fn endpoint(base: &reqwest::Url, name: &str) -> reqwest::Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let prefix = prefix.strip_suffix("/v1").unwrap_or(prefix);
    url.set_path(&format!("{prefix}/v1/{name}/json"));
    url
}

/// The sender must be present, at most 11 characters and free of Turkish letters. Surrounding
/// whitespace (a secret pasted with a newline) is dropped; inner spaces count, as they do for
/// iletiMerkezi.
fn check_sender(value: Option<&str>) -> Result<String, ConfigError> {
    let sender = value.map(str::trim).ok_or_else(|| {
        ConfigError::new(
            "--sms-sender",
            "missing: SMS needs the sender (header) approved in the iletiMerkezi panel, e.g. --sms-sender ACME",
        )
    })?;
    let count = sender.chars().count();
    if count > MAX_SENDER {
        return Err(ConfigError::new(
            "--sms-sender",
            format!(
                "'{sender}' has {count} characters; iletiMerkezi allows at most {MAX_SENDER}: \
                 give the sender exactly as approved in the panel"
            ),
        ));
    }
    if sender.chars().any(|c| TURKISH_LETTERS.contains(c)) {
        return Err(ConfigError::new(
            "--sms-sender",
            format!(
                "'{sender}' contains Turkish letters, which iletiMerkezi senders may not: use the approved spelling"
            ),
        ));
    }
    Ok(sender.to_string())
}

/// The text cut to iletiMerkezi's part cap, and warnings about cutting and splitting.
fn fit_text(full: &str) -> (String, Vec<String>) {
    let (text, cut) = sms_text::fit(full);
    let measure = sms_text::measure(&text);
    let mut warnings = Vec::new();
    if cut {
        warnings.push(format!(
            "the SMS text has {} characters, more than iletiMerkezi's {MAX_PARTS} SMS parts hold, so it was cut to {}",
            full.chars().count(),
            text.chars().count()
        ));
    }
    if measure.parts > 1 {
        warnings.push(format!(
            "the SMS text ({} characters, {} encoding) goes out as {} SMS parts per number, each billed; \
             one part holds {} characters",
            text.chars().count(),
            measure.encoding.name(),
            measure.parts,
            measure.encoding.single_limit()
        ));
    }
    (text, warnings)
}

impl Sms {
    /// The same SMS (credentials, sender, text, `--sms-wait`) to other numbers: an escalation
    /// chain texts its second list with it (docs/escalation.md, "Escalation").
    pub fn to(&self, phones: &[Phone]) -> Sms {
        Sms { phones: phones.to_vec(), ..self.clone() }
    }

    /// The same SMS with `marker` before its text, cut again to the part cap: a repeated round
    /// of an escalation says which round it is (docs/escalation.md, "Escalation").
    pub fn marked(&self, marker: &str) -> Sms {
        let text = match &self.ack_line {
            Some(line) => {
                let body = self.text.strip_suffix(line.as_str()).unwrap_or(&self.text);
                with_link(&format!("{marker}{body}"), line)
            }
            None => sms_text::fit(&format!("{marker}{}", self.text)).0,
        };
        Sms { text, ..self.clone() }
    }

    /// Sends the order, and nothing more: no delivery report is read.
    pub fn send(&self, transport: &Transport) -> Outcome {
        let mut outcome = transport.deliver(&|attempt| self.request(attempt), &|r, attempt| self.classify(r, attempt));
        if let (Some(companion), Ok(delivery)) = (&self.companion, &mut outcome.result)
            && let Some(order_id) = &delivery.ids.sms_order_id
        {
            let registered = companion.server.register_order(
                transport,
                order_id,
                &self.phones,
                &companion.alert_id,
                &companion.run_url,
            );
            if let Err(why) = registered {
                delivery.warnings.push(format!(
                    "--server: order {order_id} could not be registered with onfail serve ({why}); its delivery \
                     is read from iletiMerkezi's get-report instead"
                ));
            }
        }
        outcome
    }

    /// Reads the delivery report of `order_id` for at most `wait` (and never past the transport's
    /// deadline), ending early once every number is settled or `stop` says so. The report holds
    /// one state per number of [`Sms::phones`], unmasked: it is for deciding, not for printing.
    pub fn watch(
        &self,
        transport: &Transport,
        order_id: &str,
        wait: Duration,
        stop: &dyn Fn() -> bool,
    ) -> DeliveryReport {
        let watch = Watch {
            transport,
            url: &self.report_url,
            credentials: &self.credentials,
            order_id,
            phones: &self.phones,
            stop,
        };
        match &self.companion {
            Some(companion) => delivery::from_service(&watch, &companion.server, wait),
            None => watch.wait(wait),
        }
    }

    /// [`Channel::deliver`], with the `--sms-wait` ending early when `stop` says so; also returns
    /// what the delivery report said per number, if it was read.
    pub fn deliver_until(&self, transport: &Transport, stop: &dyn Fn() -> bool) -> (Outcome, Option<DeliveryReport>) {
        let mut outcome = self.send(transport);
        if self.wait.is_zero() {
            return (outcome, None);
        }
        let Ok(delivery) = &mut outcome.result else { return (outcome, None) };
        let Some(order_id) = delivery.ids.sms_order_id.clone() else {
            delivery.warnings.push("--sms-wait: without an order id the delivery report cannot be read".into());
            return (outcome, None);
        };
        let report = self.watch(transport, &order_id, self.wait, stop);
        let states = report.clone();
        (self.settle(outcome, &order_id, report), Some(states))
    }

    fn accepted(&self, answer: &Answer) -> Delivery {
        let order_id = answer.response.get("order").and_then(|o| o.get("id")).and_then(envelope::text);
        let mut warnings = Vec::new();
        let detail = match &order_id {
            Some(id) => format!("order {id}"),
            None => {
                warnings.push("iletiMerkezi accepted the SMS but its answer carried no order id".to_string());
                "accepted".to_string()
            }
        };
        Delivery { detail, ids: Ids { sms_order_id: order_id, ..Ids::default() }, warnings }
    }

    /// Folds the delivery report into the outcome of the send: any undelivered recipient fails
    /// the channel; recipients still pending are a warning.
    fn settle(&self, mut outcome: Outcome, order_id: &str, report: delivery::Report) -> Outcome {
        let Ok(delivery) = &mut outcome.result else { return outcome };
        delivery.ids.delivery_states = report.masked_states(&self.phones);
        delivery.warnings.extend(report.warnings.iter().cloned());
        let (delivered, undelivered, pending) = (
            report.list(&self.phones, DeliveryState::Delivered),
            report.list(&self.phones, DeliveryState::Undelivered),
            report.list(&self.phones, DeliveryState::Pending),
        );
        let total = self.phones.len();
        let waited = format!("{:.1} s", report.waited.as_secs_f64());
        let mut problem =
            report.problem.as_ref().map(|p| format!(" (the report could not be read: {p})")).unwrap_or_default();
        if report.waited + Duration::from_millis(500) < self.wait && report.problem.is_none() {
            problem.push_str(" (--timeout ended the wait before --sms-wait did: give --timeout more time)");
        }
        if !pending.is_empty() {
            delivery.warnings.push(format!(
                "order {order_id}: still pending after waiting {waited} for the delivery report: {}{problem}; \
                 it may still arrive (see the iletiMerkezi panel)",
                pending.join(", ")
            ));
        }
        if !undelivered.is_empty() {
            let why = if report.order_failed { "iletiMerkezi reports the order as not sent" } else { "not delivered" };
            let mut reason =
                format!("order {order_id}: {why} to {} of {total}: {}", undelivered.len(), undelivered.join(", "));
            if !pending.is_empty() {
                reason.push_str(&format!("; still pending: {}", pending.join(", ")));
            }
            outcome.failed_ids = delivery.ids.clone();
            outcome.result = Err(reason);
            return outcome;
        }
        delivery.detail = format!("order {order_id}: delivered to {} of {total}", delivered.len());
        outcome
    }
}

impl Channel for Sms {
    fn name(&self) -> &'static str {
        Args::CHANNEL
    }

    fn provider(&self) -> &'static str {
        "iletimerkezi"
    }

    fn endpoint(&self) -> String {
        redact::url(&self.send_url, false)
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

    /// Under `--notify-when changes` an SMS pages a new incident and tells its end, no more.
    fn skip_reason(&self, alert: &Alert) -> Option<String> {
        alert.skip_reason(Role::Text)
    }

    fn request(&self, _attempt: u32) -> Request {
        let numbers: Vec<String> = self.phones.iter().map(Phone::international).collect();
        Request {
            url: self.send_url.clone(),
            headers: Vec::new(),
            body: self.credentials.send_sms(&self.sender, &self.text, &numbers),
            // iletiMerkezi refuses the same text to the same numbers within 10 minutes (451),
            // which `classify` reads as the earlier attempt's success.
            repeat_safe: true,
        }
    }

    fn classify(&self, response: &Response, attempt: u32) -> Verdict {
        let Some(answer) = Answer::read(response) else {
            return unreadable(response);
        };
        match answer.code {
            200 => Verdict::Delivered(self.accepted(&answer)),
            // No idempotency key exists; 451 is iletiMerkezi's only guard against repeats. Answering
            // a retry, it means an earlier attempt was accepted even though its answer was lost.
            451 if attempt > 1 => Verdict::Delivered(Delivery {
                detail: "accepted by an earlier attempt".into(),
                ids: Ids::default(),
                warnings: vec![format!(
                    "attempt {attempt} was answered 451 (duplicate order): an earlier attempt had already been \
                     accepted, so the SMS went out once; iletiMerkezi does not repeat that order's id, so there is \
                     no order id and no delivery report"
                )],
            }),
            451 => Verdict::Permanent(format!(
                "iletiMerkezi rejected the SMS as a duplicate (code 451): the same text went to the same numbers \
                 within the last 10 minutes, and iletiMerkezi refuses repeats for 10 minutes. If this is a new \
                 alert, make the text unique, e.g. with {{time}} or {{run_attempt}} in --message{}",
                answer.said()
            )),
            code => match envelope::explain(code, &self.sender) {
                (Kind::Transient, why) => Verdict::Transient(why + &answer.said()),
                (Kind::Permanent, why) => Verdict::Permanent(why + &answer.said()),
            },
        }
    }

    fn deliver(&self, transport: &Transport) -> Outcome {
        self.deliver_until(transport, &|| false).0
    }

    fn check_online(&self, transport: &Transport) -> Option<Result<String, String>> {
        let request = Request {
            url: self.balance_url.clone(),
            headers: Vec::new(),
            body: self.credentials.get_balance(),
            repeat_safe: true,
        };
        let outcome = transport.deliver(&|_| request.clone(), &|response, _| balance(response));
        Some(outcome.result.map(|delivery| delivery.detail))
    }
}

/// A 2xx or 3xx response without a status code in the body. On 2xx that is a cut-off or foreign
/// body: worth another attempt, and safe, since a repeat of an accepted order is answered 451.
fn unreadable(response: &Response) -> Verdict {
    if let Some(why) = crate::wire::web_page(response, "iletiMerkezi", "the SMS", "--iletimerkezi-url") {
        return Verdict::Transient(why);
    }
    match response.status {
        200..=299 => Verdict::Transient(format!(
            "iletiMerkezi answered HTTP {} without a status code in the body: {}",
            response.status,
            response.excerpt()
        )),
        _ => generic_verdict(response, "iletiMerkezi"),
    }
}

/// Judges a get-balance answer: the credentials work and there is credit left.
fn balance(response: &Response) -> Verdict {
    let Some(answer) = Answer::read(response) else {
        return unreadable(response);
    };
    if answer.code != 200 {
        return match envelope::explain(answer.code, "") {
            (Kind::Transient, why) => Verdict::Transient(why + &answer.said()),
            (Kind::Permanent, why) => Verdict::Permanent(why + &answer.said()),
        };
    }
    let balance = &answer.response["balance"];
    let amount = balance.get("amount").and_then(envelope::text);
    let sms = balance.get("sms").and_then(envelope::number);
    if sms == Some(0) {
        return Verdict::Permanent(
            "the credentials work, but the balance funds no SMS: buy credit in the iletiMerkezi panel, \
             or alerts will fail with code 402"
                .into(),
        );
    }
    let detail = match (amount, sms) {
        (Some(amount), Some(sms)) => format!("credentials OK; balance {amount} TL, about {sms} SMS"),
        (Some(amount), None) => format!("credentials OK; balance {amount} TL"),
        (None, Some(sms)) => format!("credentials OK; balance about {sms} SMS"),
        (None, None) => "credentials OK (the answer carried no balance)".into(),
    };
    Verdict::Delivered(Delivery { detail, ..Delivery::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_sit_under_v1() {
        let at = |base: &str| endpoint(&base.parse().unwrap(), "send-sms").to_string();
        assert_eq!(at("https://api.iletimerkezi.com"), "https://api.iletimerkezi.com/v1/send-sms/json");
        assert_eq!(at("https://api.iletimerkezi.com/v1/"), "https://api.iletimerkezi.com/v1/send-sms/json");
        assert_eq!(at("http://127.0.0.1:9/proxy/"), "http://127.0.0.1:9/proxy/v1/send-sms/json");
    }

    #[test]
    fn the_wait_accepts_zero_and_durations() {
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        assert_eq!(parse_wait("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_wait("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_wait("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_wait("-1").is_err());
        assert!(parse_wait("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn senders_are_checked_before_sending() {
        assert_eq!(check_sender(Some(" ACME CI \n")), Ok("ACME CI".into()));
        assert_eq!(check_sender(Some("ABCDEFGHIJK")), Ok("ABCDEFGHIJK".into()));
        let long = check_sender(Some("ABCDEFGHIJKL")).unwrap_err();
        assert!(long.to_string().starts_with("--sms-sender: 'ABCDEFGHIJKL' has 12 characters"), "{long}");
        assert!(check_sender(Some("İZMİR")).unwrap_err().message.contains("Turkish letters"));
        assert!(check_sender(None).unwrap_err().message.starts_with("missing"));
    }
}

/// How many SMS parts the default texts take with an acknowledge link (docs/serve-senders.md,
/// "How long the SMS is"): the numbers the docs give.
#[cfg(test)]
mod ack_link_parts {
    use crate::channels::sms_text::{MAX_PARTS, measure};
    use crate::status::Status;
    use crate::texts::fixtures::{github, host};
    use crate::texts::{Audience, Language};

    /// A link as long as a real one: a short host, `/a/` and the 22 characters of 128 bits.
    const LINK: &str = "https://onfail.example.com/a/BJ2PqGqMj1bnoCZw9sniZQ";

    #[test]
    fn the_default_texts_with_the_link_take_the_fewest_parts_they_can() {
        for language in [Language::En, Language::Tr] {
            let texts = language.texts(Audience::Phone);
            let cases = [
                // A GitHub SMS (113 characters) and the link (51) cannot share one part of 155
                // (150 Turkish): two parts, as few as both need. A chain's SMS is two parts
                // already, and stays two. A cron host's SMS stays one.
                (texts.sms(&github(Status::Failure)), 1, 2),
                (texts.escalation_sms(&github(Status::Failure)), 2, 2),
                (texts.sms(&host(Status::Failure)), 1, 1),
            ];
            for (text, before, after) in cases {
                let linked = super::with_link(&text, &texts.ack_link(LINK));
                assert!(linked.ends_with(LINK), "{linked}");
                assert_eq!((measure(&text).parts, measure(&linked).parts), (before, after), "{language:?}: {linked}");
            }
        }
    }

    #[test]
    fn a_text_too_long_for_the_cap_is_cut_before_the_link_never_the_link() {
        let linked = super::with_link(&"x".repeat(3000), LINK);
        assert!(linked.ends_with(&format!(" {LINK}")), "{linked}");
        assert!(measure(&linked).parts <= MAX_PARTS);
    }
}
