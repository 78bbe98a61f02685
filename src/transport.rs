//! The delivery engine every channel shares (README, "Delivery"): one HTTP client, an overall
//! deadline, a per-attempt timeout inside it, and retries with exponential backoff and jitter
//! for transient failures only, honouring `Retry-After`.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use reqwest::blocking::{Client, ClientBuilder};
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};

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

/// Why a request was not sent: a stop request came first (README, "Escalation").
pub const STOPPED: &str = "onfail was asked to stop (SIGINT/SIGTERM: the run was cancelled)";

/// How the detail of a request given up on in flight begins: its result is unknown.
pub const ABANDONED: &str = "abandoned in flight";

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
/// user agent, the environment's proxies and, for https, its trust roots (README, "Delivery");
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

    /// The same transport, heeding `stop` (README, "Escalation"): once it is set, no request
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
        let (this, request) = (self.clone(), request.clone());
        stop::unless_stopped(&self.stop, stop::IN_FLIGHT, move || this.exchange(&request, timeout)).unwrap_or_else(
            || {
                Err(format!(
                    "{ABANDONED} {}s after onfail was asked to stop: whether it arrived is unknown",
                    stop::IN_FLIGHT.as_secs()
                ))
            },
        )
    }

    fn exchange(&self, request: &Request, timeout: Duration) -> Result<Response, String> {
        let mut builder = self
            .client
            .post(request.url.clone())
            .timeout(timeout)
            .header(CONTENT_TYPE, "application/json")
            .body(request.body.clone());
        for header in &request.headers {
            builder = builder.header(header.name.as_str(), header.value.as_str());
        }
        let response = builder.send().map_err(|e| describe(e, timeout))?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header(RETRY_AFTER).and_then(|v| parse_retry_after(&v, SystemTime::now()));
        let location = header(LOCATION);
        let mut body = Vec::new();
        let cut_off = response
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .err()
            .map(|e| format!("the answer was cut off after HTTP {status} ({})", root_cause(&e)));
        // As bytes, before anything decodes or cuts them: an answer in another character set
        // or with the secret escaped is scrubbed too.
        let body = self.redactor.apply_body(&body);
        Ok(Response { status, retry_after, location, body, cut_off })
    }

    /// Sends with retries until the channel's `classify` says delivered or permanent, the
    /// retries run out, or the deadline comes.
    pub fn deliver(&self, request: &dyn Fn(u32) -> Request, classify: &dyn Fn(&Response, u32) -> Verdict) -> Outcome {
        let mut attempt = 0;
        let mut http_status = None;
        loop {
            if self.stop.is_set() {
                return Outcome {
                    result: Err(format!("not sent: {STOPPED}")),
                    attempts: attempt,
                    http_status,
                    failed_ids: Ids::default(),
                };
            }
            attempt += 1;
            let timeout = attempt_timeout(self.remaining(), attempt > self.retries);
            let (last_error, retry_after) = match self.send_once(&request(attempt), timeout) {
                Ok(response) => {
                    http_status = Some(response.status);
                    match classify(&response, attempt) {
                        Verdict::Delivered(mut delivery) => {
                            delivery.warnings.extend(response.cut_off);
                            return Outcome {
                                result: Ok(delivery),
                                attempts: attempt,
                                http_status,
                                failed_ids: Ids::default(),
                            };
                        }
                        Verdict::Permanent(reason) => {
                            return Outcome {
                                result: Err(reason),
                                attempts: attempt,
                                http_status,
                                failed_ids: Ids::default(),
                            };
                        }
                        Verdict::Transient(reason) => (reason, response.retry_after),
                    }
                }
                Err(reason) => (reason, None),
            };
            let fail =
                |why: String| Outcome { result: Err(why), attempts: attempt, http_status, failed_ids: Ids::default() };
            if attempt > self.retries {
                return fail(last_error);
            }
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if wait >= self.remaining() {
                return fail(format!(
                    "{last_error}; no time left within --timeout for another attempt (next in {})",
                    humantime::format_duration(round_ms(wait))
                ));
            }
            if self.stop.pause(wait) {
                return fail(format!("{last_error}; no retry: {STOPPED}"));
            }
        }
    }
}

/// How long one attempt may wait for its answer (README, "Delivery"). The last attempt the
/// retries allow gets all the time left. An earlier one gets two thirds of it: a provider that
/// is slow but answers within the deadline (an Alertalk taking 11 s under `--timeout 30s`) is
/// sent the alert once, not again after a short per-attempt cap, which would ring the phones
/// twice; and one that never answers still leaves a third of the time for its retries.
/// Connection failures do not wait for this at all (see [`CONNECT_TIMEOUT`]).
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
    let what = if error.is_connect() { "could not connect" } else { "the request failed" };
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
    fn backoff_grows_and_stays_capped() {
        for attempt in 1..40 {
            let wait = backoff(attempt);
            let ceiling = BACKOFF_BASE.saturating_mul(1 << (attempt - 1).min(16)).min(BACKOFF_CAP);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "attempt {attempt}: {wait:?}");
        }
    }
}
