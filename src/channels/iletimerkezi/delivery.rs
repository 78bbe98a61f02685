//! Waiting for the delivery report (`--sms-wait`): get-report (`docs/providers.md`,
//! "iletiMerkezi") is polled with growing pauses until every recipient is delivered (111) or not
//! (112), the order is finished, or the wait (bounded by `--timeout`) is over. get-report is
//! read-only, so polling is safe. An escalation (docs/escalation.md, "Escalation") watches the same way, and
//! can stop the wait at once when the page is acknowledged.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::envelope::{self, Answer, Credentials, Kind, REPORT_PAGE};
use crate::channels::companion::{self, Server};
use crate::phone::{self, Phone};
use crate::transport::{ATTEMPT_TIMEOUT, Transport};
use crate::wire::{RecipientState, Request};

/// The first pause after sending; each later one doubles, up to [`LAST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LAST_PAUSE: Duration = Duration::from_secs(5);

/// The wait ends this long before the overall deadline, so the last poll still has time to answer.
const RESERVE: Duration = Duration::from_secs(1);

/// A poll with less time than this left is not worth starting.
const MIN_POLL: Duration = Duration::from_millis(200);

/// No poll waits longer than this for its answer: a poll is repeated anyway, and a short one
/// lets a stopped wait (an acknowledged escalation) end within seconds.
const POLL_TIMEOUT: Duration = Duration::from_secs(4);

/// Pauses are slept in slices this long, checking whether the wait was stopped.
const SLICE: Duration = Duration::from_millis(50);

/// One recipient's delivery state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// 110, or not in the report yet.
    Pending,
    /// 111.
    Delivered,
    /// 112, or the whole order was not sent (115).
    Undelivered,
}

impl State {
    /// As every output names it.
    pub fn word(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Undelivered => "undelivered",
        }
    }
}

/// Where the wait ended.
#[derive(Clone, Debug)]
pub struct Report {
    /// One state per recipient, in the configured order.
    pub states: Vec<State>,
    /// iletiMerkezi reported the whole order as not sent (115).
    pub order_failed: bool,
    /// How long the wait lasted.
    pub waited: Duration,
    /// Why the report could not be read, if the last attempt to read it failed.
    pub problem: Option<String>,
    /// What went wrong on the way that the user should know (`onfail serve` unreachable).
    pub warnings: Vec<String>,
}

impl Report {
    pub fn masked_states(&self, phones: &[Phone]) -> Vec<RecipientState> {
        phones
            .iter()
            .zip(&self.states)
            .map(|(phone, state)| RecipientState { recipient: phone.masked(), state: state.word().to_string() })
            .collect()
    }

    /// The masked recipients in `state`.
    pub fn list(&self, phones: &[Phone], state: State) -> Vec<String> {
        phones.iter().zip(&self.states).filter(|(_, s)| **s == state).map(|(p, _)| p.masked()).collect()
    }
}

/// With `--server` (docs/serve-senders.md): the states are long-polled from `onfail serve`,
/// which hears iletiMerkezi's delivery reports as they come, so the wait ends as soon as every
/// recipient is final. The first look does not wait, so a service that is down shows within
/// seconds; whenever the service fails, it is a warning and get-report polling takes over for
/// the time that is left.
pub fn from_service(watch: &Watch, server: &Server, wait: Duration) -> Report {
    let started = Instant::now();
    let end = started + wait.min(watch.transport.remaining().saturating_sub(RESERVE));
    let mut states = vec![State::Pending; watch.phones.len()];
    let mut first = true;
    while !(watch.stop)() {
        let left = end.saturating_duration_since(Instant::now());
        if left < MIN_POLL {
            break;
        }
        let poll = if first { Duration::ZERO } else { left.saturating_sub(companion::ANSWER_SLACK) };
        first = false;
        match server.order_states(watch.transport, watch.order_id, watch.phones, poll) {
            Ok(now) => {
                for (state, seen) in states.iter_mut().zip(now) {
                    // A terminal state never goes back to pending.
                    if *state == State::Pending {
                        *state = match seen {
                            companion::Delivery::Delivered => State::Delivered,
                            companion::Delivery::Undelivered => State::Undelivered,
                            companion::Delivery::Pending => State::Pending,
                        };
                    }
                }
                if !states.contains(&State::Pending) {
                    break;
                }
            }
            Err(_) if (watch.stop)() => break,
            Err(why) => {
                let mut report = watch.wait(end.saturating_duration_since(Instant::now()));
                report.warnings.push(format!(
                    "--server: onfail serve could not be reached ({why}); the delivery report was read from \
                     iletiMerkezi's get-report instead"
                ));
                report.waited = started.elapsed();
                return report;
            }
        }
    }
    Report { states, order_failed: false, waited: started.elapsed(), problem: None, warnings: Vec::new() }
}

/// What one poll found out.
enum Poll {
    /// Read; `true` when the order is finished (114 or 115).
    Read(bool),
    /// Not readable now; worth asking again.
    Retry(String),
    /// Will not become readable (bad credentials, wrong URL).
    Stop(String),
}

pub struct Watch<'a> {
    pub transport: &'a Transport,
    pub url: &'a reqwest::Url,
    pub credentials: &'a Credentials,
    pub order_id: &'a str,
    pub phones: &'a [Phone],
    /// Ends the wait early when it turns true (checked between polls and during pauses).
    pub stop: &'a dyn Fn() -> bool,
}

impl Watch<'_> {
    /// Polls for at most `wait`, and never past the overall deadline.
    pub fn wait(&self, wait: Duration) -> Report {
        let started = Instant::now();
        let budget = wait.min(self.transport.remaining().saturating_sub(RESERVE));
        let end = started + budget;
        let mut report = Report {
            states: vec![State::Pending; self.phones.len()],
            order_failed: false,
            waited: budget,
            problem: None,
            warnings: Vec::new(),
        };
        if budget.is_zero() {
            report.problem = Some("no time was left within --timeout to wait".into());
            return report;
        }
        let mut pause = FIRST_PAUSE;
        while Instant::now() < end && !(self.stop)() {
            if !self.pause(pause.min(end.saturating_duration_since(Instant::now()))) {
                break;
            }
            let timeout = ATTEMPT_TIMEOUT.min(POLL_TIMEOUT).min(self.transport.remaining());
            if timeout < MIN_POLL {
                break;
            }
            match self.poll(&mut report, timeout) {
                Poll::Read(finished) => {
                    report.problem = None;
                    if finished || !report.states.contains(&State::Pending) {
                        break;
                    }
                }
                Poll::Retry(why) => report.problem = Some(why),
                Poll::Stop(why) => {
                    report.problem = Some(why);
                    break;
                }
            }
            pause = (pause * 2).min(LAST_PAUSE);
        }
        report.waited = started.elapsed();
        report
    }

    /// Sleeps for `pause` in short slices; `false` if the wait was stopped meanwhile.
    fn pause(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        while Instant::now() < until {
            if (self.stop)() {
                return false;
            }
            std::thread::sleep(SLICE.min(until.saturating_duration_since(Instant::now())));
        }
        !(self.stop)()
    }

    /// Reads every page of the report once and updates the states.
    fn poll(&self, report: &mut Report, timeout: Duration) -> Poll {
        let pages = self.phones.len().div_ceil(REPORT_PAGE as usize).max(1) as u32;
        let mut finished = false;
        for page in 1..=pages {
            let request = Request {
                url: self.url.clone(),
                headers: Vec::new(),
                body: self.credentials.get_report(self.order_id, page),
                repeat_safe: true,
            };
            let response = match self.transport.send_once(&request, timeout) {
                Ok(response) => response,
                Err(why) => return Poll::Retry(why),
            };
            let Some(answer) = Answer::read(&response) else {
                return Poll::Retry(format!(
                    "get-report answered HTTP {} without a status code: {}",
                    response.status,
                    response.excerpt()
                ));
            };
            match answer.code {
                200 => finished |= self.apply(&answer.response, report),
                // Right after sending, the order may not be in the report yet.
                455 | 456 => return Poll::Retry(envelope::explain(answer.code, "").1 + &answer.said()),
                code => {
                    return match envelope::explain(code, "") {
                        (Kind::Transient, why) => Poll::Retry(why + &answer.said()),
                        (Kind::Permanent, why) => Poll::Stop(why + &answer.said()),
                    };
                }
            }
        }
        Poll::Read(finished)
    }

    /// Copies the states of one report page onto the recipients; `true` if the order is finished.
    fn apply(&self, response: &Value, report: &mut Report) -> bool {
        let order = &response["order"];
        let messages = match &order["message"] {
            Value::Array(items) => items.iter().collect(),
            single @ Value::Object(_) => vec![single],
            _ => Vec::new(),
        };
        for message in messages {
            let Some(number) = message.get("number").and_then(envelope::text) else { continue };
            let Some(phone) = phone::parse_list(&number).ok().and_then(|p| p.into_iter().next()) else { continue };
            let Some(index) = self.phones.iter().position(|p| *p == phone) else { continue };
            let state = match message.get("status").and_then(envelope::number) {
                Some(111) => State::Delivered,
                Some(112) => State::Undelivered,
                _ => State::Pending,
            };
            // A terminal state never goes back to pending.
            if report.states[index] == State::Pending {
                report.states[index] = state;
            }
        }
        match order.get("status").and_then(envelope::number) {
            Some(115) => {
                report.order_failed = true;
                for state in report.states.iter_mut().filter(|s| **s == State::Pending) {
                    *state = State::Undelivered;
                }
                true
            }
            Some(114) => true,
            _ => false,
        }
    }
}
