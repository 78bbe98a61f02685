//! Runs an escalation's [steps](super::plan::steps): each page goes out on fresh time (its own
//! `--timeout`), channels of one page concurrently; each wait says on stderr what was sent, what
//! is awaited and when the next level fires, and ends at once when the page is acknowledged.

use std::time::{Duration, Instant, SystemTime};

use super::plan::{self, Step};
use super::{Escalation, Mode};
use crate::channels::alertalk::Voice;
use crate::channels::iletimerkezi::{DeliveryReport, DeliveryState, Sms};
use crate::channels::{Alert, Channel};
use crate::fanout;
use crate::output::Output;
use crate::phone::Phone;
use crate::report::pages::{self, PageRecord, Reach};
use crate::report::{ChannelReport, ChannelResult, EscalationEnd, EscalationReport, RecipientResult, Stage};
use crate::stop::Listener;
use crate::texts::Language;
use crate::transport::Transport;

/// A delivery-report watch gets this much time on top of its wait, for its last poll.
const WATCH_SLACK: Duration = Duration::from_secs(2);

/// How the SMS of a page goes out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Texting {
    /// As configured, `--sms-wait` included (a chain).
    Deliver,
    /// The order only; the escalation reads the report itself (`sms-first`).
    SendOnly,
}

/// What one page sent.
struct Paged {
    reports: Vec<ChannelReport>,
    recipients: Vec<(Phone, RecipientResult)>,
    /// Who was reached, per number and channel.
    pages: Vec<PageRecord>,
    /// The SMS order id, if an order was accepted.
    order_id: Option<String>,
    sms_result: Option<ChannelResult>,
}

struct Driver<'a> {
    escalation: &'a Escalation,
    others: &'a [&'a dyn Channel],
    alert: &'a Alert,
    transport: &'a Transport,
    timeout: Duration,
    out: &'a Output,
    ack: &'a Listener,
    reports: Vec<ChannelReport>,
    /// Keyed by the number itself.
    recipients: Vec<(Phone, RecipientResult)>,
    pages: Vec<PageRecord>,
    waited: Duration,
    /// `sms-first`: the first SMS order, and the numbers to call once the report is read.
    order_id: Option<String>,
    sms_result: Option<ChannelResult>,
    to_call: Vec<Phone>,
}

/// Runs the escalation and returns every delivery, in order, and what the escalation did.
/// `others` are the channels that are neither voice nor SMS: they go out with the first page.
pub fn run(
    escalation: &Escalation,
    others: &[&dyn Channel],
    alert: &Alert,
    transport: &Transport,
    timeout: Duration,
    out: &Output,
    ack: &Listener,
) -> (Vec<ChannelReport>, EscalationReport) {
    let mut driver = Driver {
        escalation,
        others,
        alert,
        transport,
        timeout,
        out,
        ack,
        reports: Vec::new(),
        recipients: Vec::new(),
        pages: Vec::new(),
        waited: Duration::ZERO,
        order_id: None,
        sms_result: None,
        to_call: Vec::new(),
    };
    let (steps, cut) = plan::steps(escalation.mode, escalation.after, escalation.repeat, escalation.cap);
    for (index, step) in steps.iter().enumerate() {
        if driver.ack.given() {
            break;
        }
        match *step {
            Step::Page(stage) => driver.page(stage),
            Step::Wait(wait) => driver.wait(wait, steps.get(index + 1)),
            Step::WatchSms(wait) => driver.watch_sms(wait),
        }
    }
    let acknowledged = driver.ack.given();
    // What the cancel was (an acknowledgement, or a newer run's) is said by the caller, which
    // can ask GitHub (docs/escalation.md, "Escalation").
    let ended = if acknowledged {
        EscalationEnd::Acknowledged
    } else if cut {
        out.line(&format!(
            "escalation: --escalation-timeout ({}) ends the chain: the next wait would pass it",
            humantime::format_duration(escalation.cap)
        ));
        EscalationEnd::EscalationTimeout
    } else {
        EscalationEnd::Completed
    };
    let report = EscalationReport {
        mode: escalation.mode.as_str(),
        acknowledged,
        superseded: false,
        superseded_by: None,
        acknowledged_by: None,
        acknowledged_at: None,
        ended,
        waited_ms: driver.waited.as_millis() as u64,
        recipients: driver.recipients.into_iter().map(|(_, row)| row).collect(),
        pages: driver.pages,
    };
    (driver.reports, report)
}

/// What `--dry-run` shows of an escalation: the first round's two levels, rendered, not sent.
pub fn dry_run(
    escalation: &Escalation,
    others: &[&dyn Channel],
    alert: &Alert,
) -> (Vec<ChannelReport>, EscalationReport) {
    let first = Stage { round: 1, level: 1 };
    let second = Stage { round: 1, level: 2 };
    let mut planned: Vec<(Stage, Box<dyn Channel>)> = Vec::new();
    let (voice, sms) = (escalation.voice.as_ref(), escalation.sms.as_ref());
    match escalation.mode {
        Mode::SmsFirst => {
            planned.extend(sms.map(|s| (first, Box::new(s.clone()) as Box<dyn Channel>)));
            if let (Some(voice), Some(sms)) = (voice, sms) {
                // The numbers only voice knows are called with the SMS.
                let at_once = plan::call_at_once(voice.phones(), sms.phones());
                if !at_once.is_empty() {
                    planned.push((first, Box::new(voice.to(&at_once))));
                }
                // Which numbers get the call depends on the report; at most every number texted.
                planned.push((second, Box::new(voice.to(sms.phones()))));
            }
        }
        _ => {
            planned.extend(voice.map(|v| (first, Box::new(v.clone()) as Box<dyn Channel>)));
            planned.extend(sms.map(|s| (first, Box::new(s.clone()) as Box<dyn Channel>)));
            planned.extend(voice.map(|v| (second, Box::new(v.to(&escalation.backup)) as Box<dyn Channel>)));
            planned.extend(sms.map(|s| (second, Box::new(s.to(&escalation.backup)) as Box<dyn Channel>)));
        }
    }
    let mut reports: Vec<ChannelReport> = others.iter().map(|c| shown(*c, alert, first)).collect();
    reports.extend(planned.iter().map(|(stage, channel)| shown(channel.as_ref(), alert, *stage)));
    let report = EscalationReport {
        mode: escalation.mode.as_str(),
        acknowledged: false,
        superseded: false,
        superseded_by: None,
        acknowledged_by: None,
        acknowledged_at: None,
        ended: EscalationEnd::DryRun,
        waited_ms: 0,
        recipients: Vec::new(),
        pages: Vec::new(),
    };
    (reports, report)
}

fn shown(channel: &dyn Channel, alert: &Alert, stage: Stage) -> ChannelReport {
    let mut report = fanout::planned(channel, alert);
    report.stage = Some(stage);
    report
}

impl Driver<'_> {
    fn page(&mut self, stage: Stage) {
        let escalation = self.escalation;
        let (voice, sms, texting) = match (escalation.mode, stage.level) {
            (Mode::SmsFirst, 1) => {
                // A number only voice knows gets no SMS to wait for: it is called at once.
                let texted = escalation.sms.as_ref().map(|s| s.phones()).unwrap_or_default();
                let voice_only = escalation.voice.as_ref().map(|v| plan::call_at_once(v.phones(), texted));
                let voice = escalation.voice.as_ref().zip(voice_only).filter(|(_, only)| !only.is_empty());
                (voice.map(|(v, only)| v.to(&only)), escalation.sms.clone(), Texting::SendOnly)
            }
            (Mode::SmsFirst, _) => {
                if self.to_call.is_empty() {
                    self.out.line("escalation: every SMS was delivered, so nobody is called");
                    return;
                }
                (escalation.voice.as_ref().map(|v| v.to(&self.to_call)), None, Texting::Deliver)
            }
            (_, 1) => (escalation.voice.clone(), escalation.sms.clone(), Texting::Deliver),
            (_, _) => (
                escalation.voice.as_ref().map(|v| v.to(&escalation.backup)),
                escalation.sms.as_ref().map(|s| s.to(&escalation.backup)),
                Texting::Deliver,
            ),
        };
        // iletiMerkezi refuses the same text to the same number within minutes (code 451): each
        // repeated round's SMS says which round it is, so it differs from the last one.
        let sms = match stage.round {
            1 => sms,
            round => sms.map(|s| s.marked(&round_marker(self.alert.language, round))),
        };
        // The incident and the webhook hear of the failure once; later rounds page phones.
        let others: &[&dyn Channel] = if stage == (Stage { round: 1, level: 1 }) { self.others } else { &[] };
        let transport = self.transport.renewed(self.timeout);
        let ack = self.ack;
        let sms = sms.as_ref().map(|s| (s, texting));
        let paged = send_page(stage, voice.as_ref(), sms, others, self.alert, &transport, &|| ack.given());
        self.out.line(&paged_line(stage, &paged));
        if stage.level == 1 && stage.round == 1 {
            self.order_id = paged.order_id.clone();
            self.sms_result = paged.sms_result;
        }
        self.reports.extend(paged.reports);
        self.recipients.extend(paged.recipients);
        self.pages.extend(paged.pages);
    }

    fn wait(&mut self, wait: Duration, next: Option<&Step>) {
        let next = match next {
            Some(Step::Page(stage)) => format!("{stage} ({}) is paged", self.masked_list(*stage).join(", ")),
            _ => "the next level is paged".to_string(),
        };
        self.out.line(&format!(
            "escalation: waiting {} for an acknowledgement ({}); {next} at {}",
            humantime::format_duration(wait),
            self.how_to_acknowledge(),
            at(wait)
        ));
        let started = Instant::now();
        self.ack.wait(wait);
        self.waited += started.elapsed();
    }

    /// What acknowledges this page where it runs (docs/escalation.md, "Escalation"): the SMS's
    /// link with `--server`, and cancelling the run on GitHub; elsewhere (a cron host, the
    /// service's own pages) there is no run to cancel.
    fn how_to_acknowledge(&self) -> &'static str {
        let on_github = self.alert.context.source == crate::context::Source::GitHub;
        match (self.alert.ack_url.is_some(), on_github) {
            (true, true) => "open the SMS's link or cancel the run to acknowledge",
            (true, false) => "open the SMS's link to acknowledge",
            (false, true) => "cancel the run to acknowledge",
            (false, false) => "no link to acknowledge it without --server",
        }
    }

    /// `sms-first`: reads the report of the first SMS, then decides who is called.
    fn watch_sms(&mut self, wait: Duration) {
        let escalation = self.escalation;
        let Some(sms) = &escalation.sms else { return };
        let phones = sms.phones();
        let started = Instant::now();
        let states = match (&self.order_id, self.sms_result) {
            (Some(order_id), _) => {
                self.out.line(&format!(
                    "escalation: waiting up to {} for the SMS delivery report; the numbers whose SMS is not \
                     delivered by {} are called",
                    humantime::format_duration(wait),
                    at(wait)
                ));
                let transport = self.transport.renewed(wait + WATCH_SLACK);
                let ack = self.ack;
                let report = sms.watch(&transport, order_id, wait, &|| ack.given());
                report.warnings.iter().for_each(|w| self.out.warning(&format!("escalation: {w}")));
                if let Some(problem) = &report.problem {
                    self.out.warning(&format!("escalation: the delivery report could not be read: {problem}"));
                }
                report.states
            }
            (None, Some(ChannelResult::Sent)) => {
                self.out.line(&format!(
                    "escalation: the SMS went out without an order id, so its delivery report cannot be read; \
                     every number is called at {} unless the page is acknowledged first",
                    at(wait)
                ));
                self.ack.wait(wait);
                vec![DeliveryState::Pending; phones.len()]
            }
            (None, _) => {
                self.out.line("escalation: the SMS did not go out, so every number is called now");
                vec![DeliveryState::Undelivered; phones.len()]
            }
        };
        self.waited += started.elapsed();
        self.settle_sms(phones, &states);
        self.to_call = plan::to_call(phones, &states);
        // A number only voice knows whose first call surely did not go out (refused, or retried
        // until --timeout) is called again with them: the wait gave the cause time to pass. A
        // call sent and unanswered is `unknown` and never repeated (docs/escalation.md, "Escalation").
        let first = Some(Stage { round: 1, level: 1 });
        let failed_calls: Vec<Phone> = self
            .pages
            .iter()
            .filter(|r| r.channel == "voice" && r.stage == first && r.result == Reach::Failed)
            .map(|r| r.phone.clone())
            .collect();
        for phone in failed_calls {
            if !self.to_call.contains(&phone) {
                self.out
                    .line(&format!("escalation: the first call to {} failed, so it is called again", phone.masked()));
                self.to_call.push(phone);
            }
        }
    }

    /// Writes the report's states onto the first page's rows, and says what it found.
    fn settle_sms(&mut self, phones: &[Phone], states: &[DeliveryState]) {
        let mut seen: Vec<String> = Vec::new();
        for (phone, state) in phones.iter().zip(states) {
            let first = self.recipients.iter_mut().find(|(p, r)| p == phone && r.level == 1 && r.round == 1);
            if let Some((_, row)) = first.filter(|(_, r)| r.sms == Some("sent")) {
                row.sms = Some(state.word());
            }
            let texted = self
                .pages
                .iter_mut()
                .find(|r| &r.phone == phone && r.channel == "sms" && r.stage == Some(Stage { round: 1, level: 1 }));
            if let Some(record) = texted.filter(|r| r.result == Reach::Delivered) {
                record.result = match state {
                    DeliveryState::Delivered => Reach::Delivered,
                    DeliveryState::Undelivered => Reach::Failed,
                    DeliveryState::Pending => Reach::Unknown,
                };
                record.at = SystemTime::now();
            }
            seen.push(format!("{} {}", phone.masked(), state.word()));
        }
        self.out.line(&format!("escalation: SMS delivery report: {}", seen.join(", ")));
    }

    /// The masked numbers a page of `stage` goes to.
    fn masked_list(&self, stage: Stage) -> Vec<String> {
        let escalation = self.escalation;
        let phones: Vec<&Phone> = if stage.level == 1 {
            let voice = escalation.voice.iter().flat_map(|v| v.phones());
            let sms = escalation.sms.iter().flat_map(|s| s.phones());
            let mut all: Vec<&Phone> = Vec::new();
            for phone in sms.chain(voice) {
                if !all.contains(&phone) {
                    all.push(phone);
                }
            }
            all
        } else {
            escalation.backup.iter().collect()
        };
        phones.iter().map(|p| p.masked()).collect()
    }
}

/// Sends one page: the channels concurrently, as a plain send does.
fn send_page(
    stage: Stage,
    voice: Option<&Voice>,
    sms: Option<(&Sms, Texting)>,
    others: &[&dyn Channel],
    alert: &Alert,
    transport: &Transport,
    stop: &(dyn Fn() -> bool + Sync),
) -> Paged {
    let (voice_report, sms_done, mut reports) = std::thread::scope(|scope| {
        let voice = voice.map(|v| scope.spawn(move || fanout::deliver(v, alert, transport)));
        let sms = sms.map(|(s, texting)| scope.spawn(move || text(s, texting, alert, transport, stop)));
        let others = fanout::deliver_all(others, alert, transport);
        let joined = |handle: std::thread::ScopedJoinHandle<'_, ChannelReport>| {
            handle.join().expect("a channel thread panicked")
        };
        (voice.map(joined), sms.map(|h| h.join().expect("a channel thread panicked")), others)
    });
    let mut recipients = Vec::new();
    let mut order_id = None;
    let mut sms_result = None;
    if let (Some((sms, _)), Some((report, delivery))) = (sms, &sms_done) {
        order_id = report.ids.sms_order_id.clone().filter(|_| report.result == ChannelResult::Sent);
        sms_result = Some(report.result);
        for (index, phone) in sms.phones().iter().enumerate() {
            let state = match (report.result, delivery) {
                (ChannelResult::Skipped, _) => None,
                (_, Some(delivery)) => delivery.states.get(index).map(|s| s.word()),
                (ChannelResult::Failed, None) => Some("failed"),
                (_, None) => Some("sent"),
            };
            recipients.push((phone.clone(), row(phone, stage, state)));
        }
    }
    if let (Some(voice), Some(report)) = (voice, &voice_report) {
        let called = report.result == ChannelResult::Sent;
        for phone in voice.phones() {
            match recipients.iter_mut().find(|(p, _)| p == phone) {
                Some((_, row)) => row.called = called,
                None => recipients.push((phone.clone(), RecipientResult { called, ..row(phone, stage, None) })),
            }
        }
    }
    let mut pages = Vec::new();
    if let (Some(voice), Some(report)) = (voice, &voice_report) {
        pages.extend(pages::records(report, voice.phones(), Some(stage)));
    }
    if let (Some((sms, _)), Some((report, _))) = (sms, &sms_done) {
        pages.extend(pages::records(report, sms.phones(), Some(stage)));
    }
    let mut phone_reports: Vec<ChannelReport> = voice_report.into_iter().chain(sms_done.map(|(r, _)| r)).collect();
    phone_reports.append(&mut reports);
    for report in &mut phone_reports {
        report.stage = Some(stage);
    }
    Paged { reports: phone_reports, recipients, pages, order_id, sms_result }
}

fn row(phone: &Phone, stage: Stage, sms: Option<&'static str>) -> RecipientResult {
    RecipientResult { recipient: phone.masked(), round: stage.round, level: stage.level, sms, called: false }
}

fn text(
    sms: &Sms,
    texting: Texting,
    alert: &Alert,
    transport: &Transport,
    stop: &dyn Fn() -> bool,
) -> (ChannelReport, Option<DeliveryReport>) {
    if let Some(reason) = sms.skip_reason(alert) {
        return (ChannelReport::new(sms, ChannelResult::Skipped, reason), None);
    }
    let (outcome, delivery) = match texting {
        Texting::Deliver => sms.deliver_until(transport, stop),
        Texting::SendOnly => (sms.send(transport), None),
    };
    (ChannelReport::from_outcome(sms, outcome), delivery)
}

/// "round 1, level 1: paged 5*******67, 5*******43 (voice sent, sms sent, webhook sent)".
fn paged_line(stage: Stage, paged: &Paged) -> String {
    let numbers: Vec<&str> = paged.recipients.iter().map(|(_, row)| row.recipient.as_str()).collect();
    let results: Vec<String> = paged
        .reports
        .iter()
        .map(|r| {
            let word = match r.result {
                ChannelResult::Sent => "sent",
                ChannelResult::Failed => "FAILED",
                ChannelResult::Skipped => "skipped",
                ChannelResult::DryRun => "dry run",
            };
            format!("{} {word}", r.channel)
        })
        .collect();
    let to = if numbers.is_empty() { String::new() } else { format!(" {}", numbers.join(", ")) };
    format!("escalation: {stage}: paged{to} ({})", results.join(", "))
}

/// What a repeated round's SMS starts with, in the language of the texts on phones: "Round 2: ".
fn round_marker(language: Language, round: u32) -> String {
    match language {
        Language::En => format!("Round {round}: "),
        Language::Tr | Language::Auto => format!("{round}. tur: "),
    }
}

/// When a wait of `wait` from now ends, in UTC, to the second.
fn at(wait: Duration) -> String {
    humantime::format_rfc3339_seconds(SystemTime::now() + wait).to_string()
}
