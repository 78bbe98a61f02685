//! The delivery engine every channel shares (docs/delivery.md, "Delivery"): one HTTP client, an overall
//! deadline, a per-attempt timeout inside it, and retries with exponential backoff and jitter
//! for transient failures only, honouring `Retry-After`.
//!
//! Never twice, never never: a request that may page twice when repeated (a voice call) is sent
//! again only when it surely did not arrive (the connection never opened) or the provider said
//! so (429, 5xx); once it is sent, it waits for its answer until the deadline. A request the
//! provider deduplicates ([`Request::repeat_safe`]) is also repeated after a lost answer.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use reqwest::blocking::{Client, ClientBuilder};
use reqwest::header::{CONNECTION, CONTENT_TYPE, LOCATION, RETRY_AFTER};

use crate::context::Env;
use crate::error::root_cause;
use crate::redact::Redactor;
use crate::stop::{self, StopFlag};
use crate::wire::{Delivery, Ids, Request, Response, Verdict};

/// Provider answers are short; anything past this is dropped unread, so a hostile or broken
/// server cannot make onfail buffer without limit.
pub const MAX_BODY: u64 = 64 * 1024;

/// A cap for a follow-up request that is safe to repeat (a delivery-report poll).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a TCP connection may take to open. A refused connection fails at once; one that
/// gets no answer at all is given up on after this, so it still leaves time to retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The first backoff step; each later one doubles, up to the cap ([`backoff`] adds the jitter).
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// Why a request was not sent: a stop request came first (docs/escalation.md, "Escalation").
pub const STOPPED: &str = "onfail was asked to stop (SIGINT/SIGTERM: the run was cancelled)";

/// How the detail of a request given up on in flight begins: its result is unknown.
pub const ABANDONED: &str = "abandoned in flight";

/// How the detail of a request begins that was sent, got no answer, and is not sent again
/// (it is not [`repeat_safe`](Request::repeat_safe)): its result is unknown.
pub const UNANSWERED: &str = "sent, but no answer came";

/// How one channel's delivery ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub result: Result<Delivery, String>,
    pub attempts: u32,
    pub http_status: Option<u16>,
    /// What the provider handed back before the channel failed after all (an SMS order that was
    /// accepted but not delivered); empty otherwise. On success the ids are in the `Delivery`.
    pub failed_ids: Ids,
}

/// Why the HTTP client could not be set up: what to fix (`SSL_CERT_FILE`, ...) and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupError {
    pub what: &'static str,
    pub message: String,
}

impl SetupError {
    fn new(what: &'static str, message: String) -> SetupError {
        SetupError { what, message }
    }
}

/// Every HTTP client onfail makes starts here (the channels' and the GitHub API's): onfail's
/// user agent, the environment's proxies and, for https, its trust roots (docs/delivery.md, "Delivery");
/// `redirect` is the caller's rule. A proxy or trust setting that cannot be used is left out
/// and comes back as a warning, never as an error.
pub fn client(env: &Env, https: bool, redirect: reqwest::redirect::Policy) -> (ClientBuilder, Vec<String>) {
    // reqwest is built without a default crypto provider (ring is smaller and builds
    // everywhere); it needs one even for plain http. Installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (proxies, mut warnings) = crate::proxy::from_env(env);
    let mut builder =
        Client::builder().redirect(redirect).user_agent(concat!("onfail/", env!("CARGO_PKG_VERSION"))).no_proxy();
    for proxy in proxies {
        builder = builder.proxy(proxy);
    }
    if https {
        let (tls, tls_warnings) = crate::tls::client_config(env);
        warnings.extend(tls_warnings);
        builder = builder.use_preconfigured_tls(tls);
    }
    (builder, warnings)
}

#[derive(Clone)]
pub struct Transport {
    client: Client,
    deadline: Instant,
    retries: u32,
    /// Provider answers are redacted as they arrive: a provider echoing a key must not reach
    /// the output, not even the part of it left after a channel shortens the answer.
    redactor: Redactor,
    warnings: Vec<String>,
    /// A stop request (a cancel, an acknowledgement): no attempt starts after it, no retry.
    stop: StopFlag,
}

impl Transport {
    /// Builds the client. Nothing in the environment can make this fail: a trust or proxy
    /// setting that cannot be used is reported by [`Transport::warnings`] and left out, so an
    /// alert is never stopped by it. Extra trust roots are read only when some channel talks
    /// https, and even then only when a certificate chain needs them (see `tls`).
    pub fn new(
        timeout: Duration,
        retries: u32,
        https: bool,
        env: &Env,
        redactor: Redactor,
    ) -> Result<Transport, SetupError> {
        let (builder, warnings) = client(env, https, reqwest::redirect::Policy::none());
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| SetupError::new("--timeout", format!("could not set up the HTTP client: {e}")))?;
        Ok(Transport {
            client,
            deadline: Instant::now() + timeout,
            retries,
            redactor,
            warnings,
            stop: StopFlag::default(),
        })
    }

    /// The same transport, heeding `stop` (docs/escalation.md, "Escalation"): once it is set, no request
    /// starts and no retry is made.
    pub fn stopping_on(mut self, stop: StopFlag) -> Transport {
        self.stop = stop;
        self
    }

    /// What in the environment could not be used (a broken `SSL_CERT_FILE`, a bad proxy URL).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The same client with a new overall deadline `timeout` from now: a later delivery in the
    /// same run (the next level of an escalation) gets its whole `--timeout` too.
    pub fn renewed(&self, timeout: Duration) -> Transport {
        let mut next = self.clone();
        next.deadline = Instant::now() + timeout;
        next
    }

    /// Time left before the overall deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sends one request with the given timeout. The error text never contains the URL. After a
    /// stop request, an answer is awaited for [`stop::IN_FLIGHT`] at most: past that the request
    /// is abandoned, and whether it arrived is unknown.
    pub fn send_once(&self, request: &Request, timeout: Duration) -> Result<Response, String> {
        self.attempt(request, timeout).map_err(|failure| failure.reason)
    }

    /// [`Transport::send_once`] as a GET (the body is ignored): for reading from `onfail serve`
    /// (docs/service.md, "onfail serve"), whose reads are GETs. Same rules: no redirect, the timeout, the
    /// stop flag, answers redacted on arrival.
    pub fn get_once(&self, request: &Request, timeout: Duration) -> Result<Response, String> {
        let (this, request) = (self.clone(), request.clone());
        let exchanged = stop::unless_stopped(&self.stop, stop::IN_FLIGHT, move || {
            this.exchange_with(reqwest::Method::GET, &request, timeout)
        });
        match exchanged {
            Some(result) => result.map_err(|failure| failure.reason),
            None => Err(format!("{ABANDONED} after onfail was asked to stop")),
        }
    }

    /// [`Transport::send_once`], saying on failure whether the request surely never arrived.
    fn attempt(&self, request: &Request, timeout: Duration) -> Result<Response, Failure> {
        let (this, request) = (self.clone(), request.clone());
        stop::unless_stopped(&self.stop, stop::IN_FLIGHT, move || this.exchange(&request, timeout)).unwrap_or_else(
            || {
                Err(Failure {
                    reason: format!(
                        "{ABANDONED} {}s after onfail was asked to stop: whether it arrived is unknown",
                        stop::IN_FLIGHT.as_secs()
                    ),
                    fate: Fate::Abandoned,
                })
            },
        )
    }

    fn exchange(&self, request: &Request, timeout: Duration) -> Result<Response, Failure> {
        self.exchange_with(reqwest::Method::POST, request, timeout)
    }

    fn exchange_with(
        &self,
        method: reqwest::Method,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, Failure> {
        let get = method == reqwest::Method::GET;
        let mut builder = self.client.request(method, request.url.clone()).timeout(timeout);
        if !get {
            builder = builder.header(CONTENT_TYPE, "application/json").body(request.body.clone());
        }
        for header in &request.headers {
            builder = builder.header(header.name.as_str(), header.value.as_str());
        }
        if !request.repeat_safe {
            // Never left open for reuse, so such a request always goes out on a connection of
            // its own: one the server closed while idle could fail it after it was written, and
            // it could not be sent again.
            builder = builder.header(CONNECTION, "close");
        }
        let response = builder.send().map_err(|e| Failure {
            fate: if e.is_builder() {
                Fate::Unbuildable
            } else if e.is_connect() {
                Fate::Unsent
            } else {
                Fate::Unknown
            },
            reason: describe(e, timeout),
        })?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let location = header(LOCATION);
        let content_type = header(CONTENT_TYPE);
        let mut body = Vec::new();
        let cut_off = response
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .err()
            .map(|e| format!("the answer was cut off after HTTP {status} ({})", root_cause(&e)));
        // As bytes, before anything decodes or cuts them: an answer in another character set
        // or with the secret escaped is scrubbed too.
        let body = self.redactor.apply_body(&body);
        Ok(Response { status, retry_after, location, content_type, body, cut_off })
    }

    /// Sends with retries until the channel's `classify` says delivered or permanent, the
    /// retries run out, or the deadline comes. A request that is not
    /// [`repeat_safe`](Request::repeat_safe) waits for its answer until the deadline and is sent
    /// again only after a connection that never opened or an answer that asks for it.
    pub fn deliver(&self, request: &dyn Fn(u32) -> Request, classify: &dyn Fn(&Response, u32) -> Verdict) -> Outcome {
        let outcome =
            |result, attempts, http_status| Outcome { result, attempts, http_status, failed_ids: Ids::default() };
        let mut attempt = 0;
        let mut http_status = None;
        loop {
            if self.stop.is_set() {
                return outcome(Err(format!("not sent: {STOPPED}")), attempt, http_status);
            }
            // A request sent with no time left would fail at once, as if it had been sent.
            if self.remaining().is_zero() {
                return outcome(Err("no time was left within --timeout to send it".into()), attempt, http_status);
            }
            attempt += 1;
            let request = request(attempt);
            let timeout = match request.repeat_safe {
                true => attempt_timeout(self.remaining(), attempt > self.retries),
                false => self.remaining(),
            };
            let (last_error, retry_after) = match self.attempt(&request, timeout) {
                Ok(response) => {
                    http_status = Some(response.status);
                    match classify(&response, attempt) {
                        Verdict::Delivered(mut delivery) => {
                            delivery.warnings.extend(response.cut_off);
                            return outcome(Ok(delivery), attempt, http_status);
                        }
                        Verdict::Permanent(reason) => return outcome(Err(reason), attempt, http_status),
                        Verdict::Transient(reason) => (reason, response.retry_after),
                    }
                }
                // Validation keeps every value a request cannot carry out (docs/security.md, "Security");
                // should one slip through, no attempt will fare better. An abandoned one was
                // given up on after a stop request, and nothing more is sent.
                Err(Failure { reason, fate: Fate::Unbuildable | Fate::Abandoned }) => {
                    return outcome(Err(reason), attempt, http_status);
                }
                Err(failure) if matches!(failure.fate, Fate::Unknown) && !request.repeat_safe => {
                    let why = format!(
                        "{UNANSWERED} ({}): the provider may have taken it, so it is not sent again, so that no one \
                         is paged twice",
                        failure.reason
                    );
                    return outcome(Err(why), attempt, http_status);
                }
                Err(failure) => (failure.reason, None),
            };
            if attempt > self.retries {
                return outcome(Err(last_error), attempt, http_status);
            }
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if wait >= self.remaining() {
                let why = format!(
                    "{last_error}; no time left within --timeout for another attempt (next in {})",
                    humantime::format_duration(round_ms(wait))
                );
                return outcome(Err(why), attempt, http_status);
            }
            if self.stop.pause(wait) {
                return outcome(Err(format!("{last_error}; no retry: {STOPPED}")), attempt, http_status);
            }
        }
    }
}

/// Why an attempt got no answer, and what became of the request.
struct Failure {
    reason: String,
    fate: Fate,
}

/// Whether a request that got no answer reached the provider.
enum Fate {
    /// Surely not: the connection did not open (DNS, TCP, TLS or the proxy's tunnel failed).
    Unsent,
    /// Not sent either: it could not be built (a header value it cannot carry), and no attempt
    /// will do better.
    Unbuildable,
    /// It may have: it was written, or the connection broke while it was.
    Unknown,
    /// Given up on in flight after a stop request: whether it arrived is unknown.
    Abandoned,
}

/// How long one attempt of a [`repeat_safe`](Request::repeat_safe) request may wait for its
/// answer (docs/delivery.md, "Delivery"). The last attempt the retries allow gets all the time left. An
/// earlier one gets two thirds of it: a slow provider has time to answer, and one that never
/// answers still leaves a third of the time for its retries, whose repeat it deduplicates.
/// Any other request waits until the deadline. Connection failures do not wait for this at
/// all (see [`CONNECT_TIMEOUT`]).
pub fn attempt_timeout(remaining: Duration, last: bool) -> Duration {
    if last { remaining } else { remaining - remaining / 3 }
}

/// Exponential backoff with equal jitter: the step is base × 2^(attempt-1), capped, and the
/// wait is half of it plus a random part up to the other half, so retries never come sooner
/// than half the step yet channels retrying together spread out.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(BACKOFF_CAP);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(millis / 2 + fastrand::u64(0..=millis / 2))
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// `Retry-After` is either delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    httpdate::parse_http_date(value).ok().map(|at| at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A transport error in plain words. reqwest's own text includes the URL, which may hold a key
/// (Temperstack puts it in the path), so the URL is stripped and the innermost cause said.
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {}", humantime::format_duration(round_ms(timeout)));
    }
    let what = if error.is_connect() {
        "could not connect"
    } else if error.is_builder() {
        "the request could not be built"
    } else {
        "the request failed"
    };
    format!("{what}: {}", root_cause(&error.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_request_that_cannot_be_built_is_not_attempted_again() {
        let transport =
            Transport::new(Duration::from_secs(5), 3, false, &Env::default(), Redactor::new()).expect("a client");
        let request = Request {
            url: "http://127.0.0.1:9/".parse().unwrap(),
            headers: vec![crate::wire::Header::secret("X-Key", "a\nb")],
            body: Vec::new(),
            repeat_safe: true,
        };
        let outcome = transport.deliver(&|_| request.clone(), &|_, _| unreachable!("nothing is sent"));
        assert_eq!(outcome.attempts, 1);
        assert!(outcome.result.unwrap_err().starts_with("the request could not be built"));
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        for attempt in 1..40 {
            let wait = backoff(attempt);
            let ceiling = BACKOFF_BASE.saturating_mul(1 << (attempt - 1).min(16)).min(BACKOFF_CAP);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "attempt {attempt}: {wait:?}");
        }
    }
}
