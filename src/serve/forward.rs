//! Reports that are not onfail's go on to `--forward-reports-to`, body unchanged
//! (docs/service.md, "onfail serve"): the account has one report URL, so onfail can sit in front of the app that
//! used it. The queue is in the store (a report answered 200 is forwarded even if the service
//! stops first; with several replicas each report is claimed by one); [`run`] takes what is due
//! and a few threads send it with the CLI's delivery engine (no redirects, https except to a
//! loopback host), one attempt at a time, after the report was answered: the provider never
//! waits for the other app. Failed attempts are tried again later, with growing pauses.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::api::{App, now_ms};
use super::store::Forward;
use crate::context::Env;
use crate::output::Output;
use crate::transport::Transport;
use crate::wire::{Request, Response};

const WORKERS: usize = 4;
/// Claimed at once; the next batch follows as soon as this one is done.
const BATCH: i64 = 16;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// A claimed report not settled by then (its replica died) is taken up again.
const LEASE: Duration = Duration::from_secs(120);
/// After this many attempts a report is dropped from forwarding (it stays in the store).
const MAX_ATTEMPTS: i64 = 12;
const MAX_PAUSE: Duration = Duration::from_secs(600);
/// How often the queue is looked at when nothing wakes it (another replica may have queued).
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How one attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Worth trying again (connection failed, 429, 5xx).
    Transient(String),
    /// Not worth trying again (4xx, a redirect).
    Permanent(String),
}

type Job = (Vec<u8>, oneshot::Sender<Attempt>);

pub struct Forwarder {
    jobs: SyncSender<Job>,
}

impl Forwarder {
    /// Starts the sending threads. Their blocking HTTP client must be made (and dropped) off
    /// the async runtime, so this runs before it.
    pub fn start(url: reqwest::Url, env: &Env, log: &Output) -> Result<Forwarder, String> {
        let https = url.scheme() == "https";
        let transport = Transport::new(ATTEMPT_TIMEOUT, 0, https, env, log.redactor().secrets_only())
            .map_err(|e| format!("--forward-reports-to: {}", e.message))?;
        for warning in transport.warnings() {
            log.warning(warning);
        }
        let (jobs, queue) = sync_channel::<Job>(WORKERS * 4);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..WORKERS {
            let (url, transport, queue) = (url.clone(), transport.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("onfail-forward-{n}"))
                .spawn(move || work(&url, &transport, &queue))
                .map_err(|e| format!("cannot start the forwarding threads: {e}"))?;
        }
        Ok(Forwarder { jobs })
    }

    /// One attempt at sending `body`.
    pub async fn attempt(&self, body: Vec<u8>) -> Attempt {
        let (answer, answered) = oneshot::channel();
        if self.jobs.try_send((body, answer)).is_err() {
            return Attempt::Transient("the forwarding threads are busy".into());
        }
        answered.await.unwrap_or_else(|_| Attempt::Transient("the forwarding thread stopped".into()))
    }
}

fn work(url: &reqwest::Url, transport: &Transport, queue: &Mutex<Receiver<Job>>) {
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok((body, answer)) = next else { return };
        // The provider itself repeats reports, so every receiver of them takes a second copy.
        let request = Request { url: url.clone(), headers: Vec::new(), body, repeat_safe: true };
        let attempt = match transport.send_once(&request, ATTEMPT_TIMEOUT) {
            Ok(response) => verdict(&response),
            Err(why) => Attempt::Transient(why),
        };
        let _ = answer.send(attempt);
    }
}

/// By the status alone: the other app's answer may well echo the report, phone number and all,
/// and it must not reach the log.
fn verdict(response: &Response) -> Attempt {
    let said = |what: &str| format!("the --forward-reports-to server {what} (HTTP {})", response.status);
    match response.status {
        200..=299 => Attempt::Delivered,
        429 | 500..=599 => Attempt::Transient(said("is busy or failing")),
        300..=399 => Attempt::Permanent(said("answered with a redirect, which is never followed")),
        _ => Attempt::Permanent(said("refused the report")),
    }
}

/// The pause before attempt `attempts + 1`: 2 s, 4 s, 8 s, ... at most [`MAX_PAUSE`].
fn pause(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(1, 20)).min(MAX_PAUSE)
}

/// Forwards what is due until the service stops.
pub async fn run(app: Arc<App>) {
    if app.forward.is_none() {
        return;
    }
    let mut stopping = app.stopping.clone();
    loop {
        let now = now_ms();
        let claimed = app.store.claim_forwards(now, now + LEASE.as_millis() as i64, BATCH).await;
        let full = match claimed {
            Ok(claimed) => {
                let full = claimed.len() as i64 == BATCH;
                let mut attempts = JoinSet::new();
                for forward in claimed {
                    attempts.spawn(send(app.clone(), forward));
                }
                attempts.join_all().await;
                full
            }
            Err(e) => {
                app.log.warning(&format!("the reports to forward could not be read: {e}"));
                false
            }
        };
        if full {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = app.forward_queued.notified() => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}

async fn send(app: Arc<App>, forward: Forward) {
    let Some(forwarder) = &app.forward else { return };
    let attempt = forwarder.attempt(forward.body.clone().into_bytes()).await;
    let next = match attempt {
        Attempt::Delivered => None,
        Attempt::Permanent(why) => {
            app.log.warning(&format!("a delivery report was not forwarded: {why}"));
            None
        }
        Attempt::Transient(why) if forward.attempts >= MAX_ATTEMPTS => {
            app.log.warning(&format!("a delivery report was not forwarded after {} attempts: {why}", forward.attempts));
            None
        }
        Attempt::Transient(_) => Some(now_ms() + pause(forward.attempts).as_millis() as i64),
    };
    if let Err(e) = app.store.forward_tried(&forward, next).await {
        app.log.warning(&format!("a forwarded report could not be marked: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_a_cap() {
        assert_eq!(pause(1), Duration::from_secs(2));
        assert_eq!(pause(3), Duration::from_secs(8));
        assert_eq!(pause(40), MAX_PAUSE);
    }
}
