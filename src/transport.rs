//! The delivery engine every channel shares (README, "Delivery"): one HTTP client, an overall
//! deadline, a per-attempt timeout inside it, and retries with exponential backoff and jitter
//! for transient failures only, honouring `Retry-After`.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use reqwest::blocking::Client;
use reqwest::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};

use crate::context::Env;
use crate::redact::Redactor;
use crate::wire::{Delivery, Ids, Request, Response, Verdict};

/// Provider answers are short; anything past this is dropped unread, so a hostile or broken
/// server cannot make onfail buffer without limit.
pub const MAX_BODY: u64 = 64 * 1024;

/// No single attempt may take longer than this, so a hung connection leaves time to retry.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The first backoff step; each later one doubles, with full jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

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

#[derive(Clone)]
pub struct Transport {
    client: Client,
    deadline: Instant,
    retries: u32,
    /// Provider answers are redacted as they arrive: a provider echoing a key must not reach
    /// the output, not even the part of it left after a channel shortens the answer.
    redactor: Redactor,
}

impl Transport {
    /// Builds the client. Extra trust roots from `SSL_CERT_FILE` / `SSL_CERT_DIR` are read only
    /// when some channel talks https: plain-http local runs skip that I/O entirely.
    pub fn new(
        timeout: Duration,
        retries: u32,
        https: bool,
        env: &Env,
        redactor: Redactor,
    ) -> Result<Transport, SetupError> {
        // reqwest is built without a default crypto provider (ring is smaller and builds
        // everywhere); installing it twice is harmless, forgetting it would panic.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("onfail/", env!("CARGO_PKG_VERSION")));
        if https {
            for certificate in extra_roots(env)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|e| SetupError::new("--timeout", format!("could not set up the HTTP client: {e}")))?;
        Ok(Transport { client, deadline: Instant::now() + timeout, retries, redactor })
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

    /// Sends one request with the given timeout. The error text never contains the URL.
    pub fn send_once(&self, request: &Request, timeout: Duration) -> Result<Response, String> {
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
            .map(|e| format!("the answer was cut off after HTTP {status} ({})", io_reason(&e)));
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
            attempt += 1;
            let remaining = self.remaining();
            let (last_error, retry_after) = match self.send_once(&request(attempt), remaining.min(ATTEMPT_TIMEOUT)) {
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
            std::thread::sleep(wait);
        }
    }
}

/// Exponential backoff with full jitter: a random wait up to base × 2^(attempt-1), capped.
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
/// (Temperstack puts it in the path), so the URL is stripped and the cause chain kept.
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {}", humantime::format_duration(round_ms(timeout)));
    }
    let what = if error.is_connect() { "could not connect" } else { "the request failed" };
    let error = error.without_url();
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.dedup();
    match causes.last() {
        Some(root) => format!("{what}: {root}"),
        None => format!("{what}: {error}"),
    }
}

fn io_reason(error: &std::io::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    let mut last = error.to_string();
    while let Some(cause) = source {
        last = cause.to_string();
        source = cause.source();
    }
    last
}

/// Trust roots from `SSL_CERT_FILE` (a PEM bundle) and `SSL_CERT_DIR` (a folder of PEM files),
/// added to the built-in web roots, for private CAs on self-hosted runners and GHES.
pub(crate) fn extra_roots(env: &Env) -> Result<Vec<reqwest::Certificate>, SetupError> {
    let mut roots = Vec::new();
    if let Some(file) = env.get("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        let pem =
            std::fs::read(file).map_err(|e| SetupError::new("SSL_CERT_FILE", format!("cannot read {file}: {e}")))?;
        roots.extend(
            reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| SetupError::new("SSL_CERT_FILE", format!("{file} is not a PEM bundle: {e}")))?,
        );
    }
    if let Some(dir) = env.get("SSL_CERT_DIR").filter(|v| !v.is_empty()) {
        // OpenSSL allows a ':'-separated list; unreadable or non-PEM entries are skipped,
        // as OpenSSL itself does.
        for entry in std::env::split_paths(dir).filter_map(|d| std::fs::read_dir(d).ok()).flatten().flatten() {
            if let Ok(pem) = std::fs::read(entry.path()) {
                roots.extend(reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default());
            }
        }
    }
    Ok(roots)
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
