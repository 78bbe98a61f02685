//! Reports that are not onfail's go on to `--forward-reports-to`, body unchanged (README,
//! "onfail serve"): the account has one report URL, so onfail can sit in front of the app that
//! used it. A few threads do it with the CLI's delivery engine (no redirects, https except to
//! a loopback host, retries with backoff), after the report was answered, so the provider
//! never waits for the other app.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::context::Env;
use crate::output::Output;
use crate::transport::Transport;
use crate::wire::{Delivery, Request, Response, Verdict};

/// Reports waiting to be forwarded; past this a report is dropped from forwarding (it is kept
/// in the store either way) with a warning.
const QUEUE: usize = 10_000;
const WORKERS: usize = 4;
/// Per report, retries included.
const DEADLINE: Duration = Duration::from_secs(120);
const RETRIES: u32 = 5;

pub struct Forwarder {
    queue: SyncSender<Vec<u8>>,
    log: Arc<Output>,
}

impl Forwarder {
    pub fn start(url: reqwest::Url, env: &Env, log: Arc<Output>) -> Result<Forwarder, String> {
        let https = url.scheme() == "https";
        let transport = Transport::new(DEADLINE, RETRIES, https, env, log.redactor().secrets_only())
            .map_err(|e| format!("--forward-reports-to: {}", e.message))?;
        for warning in transport.warnings() {
            log.warning(warning);
        }
        let (queue, reports) = sync_channel::<Vec<u8>>(QUEUE);
        let reports = Arc::new(Mutex::new(reports));
        for n in 0..WORKERS {
            let (url, transport, reports, log) = (url.clone(), transport.clone(), reports.clone(), log.clone());
            std::thread::Builder::new()
                .name(format!("onfail-forward-{n}"))
                .spawn(move || work(&url, &transport, &reports, &log))
                .map_err(|e| format!("cannot start the forwarding threads: {e}"))?;
        }
        Ok(Forwarder { queue, log })
    }

    /// Queues a report body; never waits.
    pub fn forward(&self, body: Vec<u8>) {
        if let Err(TrySendError::Full(_)) = self.queue.try_send(body) {
            self.log.warning("--forward-reports-to: too many reports waiting; one was kept but not forwarded");
        }
    }
}

fn work(url: &reqwest::Url, transport: &Transport, reports: &Mutex<Receiver<Vec<u8>>>, log: &Output) {
    loop {
        let next = match reports.lock() {
            Ok(reports) => reports.recv(),
            Err(_) => return,
        };
        let Ok(body) = next else { return };
        let request = Request { url: url.clone(), headers: Vec::new(), body };
        let outcome = transport.renewed(DEADLINE).deliver(&|_| request.clone(), &|response, _| verdict(response));
        if let Err(why) = outcome.result {
            log.warning(&format!(
                "a delivery report could not be forwarded after {} attempts: {why}",
                outcome.attempts
            ));
        }
    }
}

/// By the status alone: the other app's answer may well echo the report, phone number and all,
/// and it must not reach the log.
fn verdict(response: &Response) -> Verdict {
    let said = |what: &str| format!("the --forward-reports-to server {what} (HTTP {})", response.status);
    match response.status {
        200..=299 => Verdict::Delivered(Delivery::default()),
        429 | 500..=599 => Verdict::Transient(said("is busy or failing")),
        300..=399 => Verdict::Permanent(said("answered with a redirect, which is never followed")),
        _ => Verdict::Permanent(said("refused the report")),
    }
}
