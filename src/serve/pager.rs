//! Sends the pages of checks and watches (docs/serve-checks.md) on threads of their own, one per
//! page: the delivery engine is blocking (reqwest's blocking client, threads for the fan-out, the
//! waits of an escalation) and must never run on the async executor, nor one page wait for
//! another. Each notice becomes the `onfail send` it stands for: the service's own channel
//! options (its environment and flags, the names of docs/reference.md, "Options"), the check's
//! overrides over them, a title saying what happened, and the `--notify-when changes` decision
//! that makes a first failure page every channel and a recovery text without a call
//! (docs/noise-control.md, "Page once per incident"); then the same build and delivery as the
//! CLI (`facts` → `config` → `deliver`).
//!
//! The service is its own `--server` (docs/serve-checks.md, "Acknowledging a check's page"): the
//! send is given the loopback address the service listens on for this alone and its API token,
//! so a down page opens an acknowledgeable page over the same API a sender uses, its SMS
//! carries the link, and an escalating check stops at the link exactly as `onfail send` does
//! (docs/serve-senders.md): one code path, not a second one that could drift from it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

use super::api::App;
use super::checks::{Check, Why};
use crate::cli::{AlertCommand, Cli, Command};
use crate::config::{self, Config};
use crate::context::Env;
use crate::deliver::{self, Delivered};
use crate::edge::{Decision, Previous};
use crate::facts::Facts;
use crate::output::Output;
use crate::report::ChannelResult;
use crate::status::Status;
use crate::stop::Listener;

/// A page none of whose channels went out is tried again after this.
const RETRY_MS: i64 = 60_000;
/// How long a claimed page is this replica's: renewed every [`RENEW`] while it is queued or in flight (an
/// escalation takes up to 15 minutes, docs/escalation.md, "Escalation"), so it runs out this
/// soon after the process died or hung, and another replica or the next start pages then.
pub const LEASE_MS: i64 = 30_000;
const RENEW: Duration = Duration::from_secs(5);
/// How long a stop (SIGTERM, SIGINT) waits for the pages in flight and queued
/// (docs/serve-deploy.md, "Stopping"): within the stop timeouts of the unit and of Docker there.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

pub enum Notice {
    Down { check: Check, since: i64, why: Why },
    Recovered { check: Check, since: i64 },
    Plain(Box<Plain>),
}

/// A page or recovery that is not a check's (a watch's: docs/serve-checks.md, "Watching a
/// scheduled GitHub workflow"), whose `send` options its caller made.
pub struct Plain {
    /// How the log names it.
    pub label: String,
    /// A page's incident in the store (name, since), marked paged once it went out; `None` for
    /// a recovery.
    pub incident: Option<(String, i64)>,
    pub status: Status,
    pub previous: Previous,
    /// `send`'s options: the title, the texts, the alert id, the overrides.
    pub options: Vec<String>,
    /// What the default texts (a recovery's) name.
    pub workflow: String,
    pub repository: String,
    pub run_url: String,
}

impl Notice {
    /// The incident in the store whose claim this notice's page holds: (name, since).
    fn incident(&self) -> Option<(String, i64)> {
        match self {
            Notice::Down { check, since, .. } => Some((check.name.clone(), *since)),
            Notice::Plain(plain) => plain.incident.clone(),
            Notice::Recovered { .. } => None,
        }
    }

    /// How the log names what the notice is about.
    fn label(&self) -> String {
        match self {
            Notice::Down { check, .. } | Notice::Recovered { check, .. } => format!("check {}", check.name),
            Notice::Plain(plain) => plain.label.clone(),
        }
    }
}

/// Where the service's own pages open their acknowledgeable page: its loopback listener and
/// its API token.
pub struct OwnServer {
    pub url: String,
    pub token: String,
}

/// The sending thread's queue; cheap to clone (the scheduler sends, the stop waits).
#[derive(Clone)]
pub struct Pager {
    queue: mpsc::Sender<Notice>,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    /// Notices queued or in flight.
    pending: AtomicUsize,
    /// The incidents (check, since) whose page this process claimed and has not marked yet.
    held: Mutex<Vec<(String, i64)>>,
    /// Checks whose down page was marked sent since the scheduler last asked: a success that
    /// came while the page was in flight found nothing to recover then, so it is looked at again.
    paged: Mutex<Vec<String>>,
    /// Set at a stop once the claims are given back: no renewal takes them again.
    given_back: AtomicBool,
}

impl Pager {
    /// Starts the thread that takes the notices; each notice is sent on a thread of its own, so
    /// that an escalation (minutes) never holds back another check's page. Each page is marked
    /// done in `store` (through `runtime`, from outside it).
    pub fn start(
        app: Arc<App>,
        runtime: tokio::runtime::Handle,
        env: Env,
        own: Option<OwnServer>,
    ) -> Result<Pager, String> {
        let (queue, notices) = mpsc::channel::<Notice>();
        let state = Arc::new(State::default());
        runtime.spawn(renew(app.clone(), state.clone()));
        let shared = state.clone();
        let own = Arc::new(own);
        std::thread::Builder::new()
            .name("onfail-pager".into())
            .spawn(move || {
                for notice in notices {
                    let (mine, runtime, env, own, state) =
                        (app.clone(), runtime.clone(), env.clone(), own.clone(), shared.clone());
                    let spawned = std::thread::Builder::new()
                        .name("onfail-page".into())
                        .spawn(move || page(&notice, &mine, &runtime, &env, own.as_ref().as_ref(), &state));
                    if let Err(e) = spawned {
                        // Its claim stays held and renewed: the stop gives it back, to be paged
                        // again (docs/serve-checks.md, "Pages in flight, stops and crashes").
                        app.log.warning(&format!("a page could not be started ({e}); restart onfail serve"));
                    }
                }
            })
            .map_err(|e| format!("cannot start the pager thread: {e}"))?;
        Ok(Pager { queue, state })
    }

    /// Whether this process holds the claim on the incident's page (queued or in flight): it is
    /// not claimed again meanwhile. `incident`: a check's name, or a watch's incident name.
    pub fn holds(&self, incident: &str, since: i64) -> bool {
        lock(&self.state.held).iter().any(|(name, at)| name == incident && *at == since)
    }

    pub fn send(&self, notice: Notice) {
        if let Some(incident) = notice.incident() {
            lock(&self.state.held).push(incident);
        }
        self.state.pending.fetch_add(1, Ordering::SeqCst);
        let _ = self.queue.send(notice);
    }

    /// The incidents (check names) whose down page was marked sent since the last call.
    pub fn newly_paged(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.state.paged))
    }

    /// At a stop: waits for the pages queued and in flight, up to [`STOP_GRACE`] or until
    /// `hurry` (a second signal) turns true; the claims of those that did not finish are given
    /// back, so that the next start or another replica pages them at once (a duplicate beats a
    /// missed page: one that went out but was not marked is sent again).
    pub async fn finish(&self, app: &App, mut hurry: tokio::sync::watch::Receiver<bool>) {
        let pending = || self.state.pending.load(Ordering::SeqCst);
        if pending() > 0 {
            app.log.line(&format!("stopping: waiting up to {}s for the pages in flight", STOP_GRACE.as_secs()));
        }
        let until = Instant::now() + STOP_GRACE;
        while pending() > 0 && Instant::now() < until && !*hurry.borrow() {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = hurry.changed() => {}
            }
        }
        self.state.given_back.store(true, Ordering::SeqCst);
        let held = lock(&self.state.held).clone();
        for (incident, since) in held {
            match app.store.hold_claim(&incident, since, super::api::now_ms()).await {
                Ok(()) => app.log.warning(&format!(
                    "{}: its page did not finish before the stop; it is given back, to be paged again at the next \
                     start or by another replica",
                    incident_label(&incident)
                )),
                Err(e) => app.log.warning(&format!(
                    "{}: its page did not finish before the stop and could not be given back ({e}); it is paged \
                     again when its claim runs out",
                    incident_label(&incident)
                )),
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends one notice, marks its page done, and lets go of its claim.
fn page(
    notice: &Notice,
    app: &App,
    runtime: &tokio::runtime::Handle,
    env: &Env,
    own: Option<&OwnServer>,
    state: &State,
) {
    let outcome = send(notice, env, &app.log, own);
    if let Some((incident, since)) = notice.incident() {
        let now = super::api::now_ms();
        let paged = outcome.then_some(now);
        match runtime.block_on(app.store.page_done(&incident, since, paged, now + RETRY_MS)) {
            Ok(()) if outcome => lock(&state.paged).push(incident.clone()),
            Ok(()) => {}
            Err(e) => app.log.warning(&format!("{}: the page could not be marked sent: {e}", notice.label())),
        }
        lock(&state.held).retain(|(name, at)| !(*name == incident && *at == since));
    }
    state.pending.fetch_sub(1, Ordering::SeqCst);
}

/// Keeps the claims this process holds (pages queued and in flight) its own, every [`RENEW`],
/// until they are given back at a stop.
async fn renew(app: Arc<App>, state: Arc<State>) {
    loop {
        tokio::time::sleep(RENEW).await;
        if state.given_back.load(Ordering::SeqCst) {
            return;
        }
        let held = lock(&state.held).clone();
        for (incident, since) in held {
            if let Err(e) = app.store.hold_claim(&incident, since, super::api::now_ms() + LEASE_MS).await {
                app.log.warning(&format!(
                    "{}: the claim on its page could not be renewed: {e}",
                    incident_label(&incident)
                ));
            }
        }
    }
}

/// How the log names a claimed incident: a watch's is named `watch:…` in the store.
fn incident_label(incident: &str) -> String {
    if incident.starts_with("watch:") { incident.to_string() } else { format!("check {incident}") }
}

fn why_text(why: Why) -> &'static str {
    match why {
        Why::Late { .. } => "no success ping came by its due time and grace",
        Why::Failed { .. } => "it reported a failure",
        Why::RanTooLong { .. } => "it started and did not finish within its max-runtime",
    }
}

/// The command line of the `send` a notice stands for.
fn arguments(notice: &Notice, own: Option<&OwnServer>) -> (Vec<String>, Status, Previous) {
    let (check, status, previous, title) = match notice {
        Notice::Plain(plain) => {
            let mut args: Vec<String> =
                ["onfail", "send", "--status", plain.status.as_str()].iter().map(|s| s.to_string()).collect();
            // As for checks: the service opens the acknowledgeable page of a watch's page too.
            if let Some(own) = own.filter(|_| !plain.options.iter().any(|o| o == "--server")) {
                args.extend(["--server".to_string(), own.url.clone(), "--server-token".to_string(), own.token.clone()]);
            }
            args.extend(plain.options.iter().cloned());
            return (args, plain.status, plain.previous.clone());
        }
        Notice::Down { check, why, .. } => {
            (check, Status::Failure, Previous::Succeeded, format!("Check {} is down: {}", check.name, why_text(*why)))
        }
        Notice::Recovered { check, since } => (
            check,
            Status::Success,
            Previous::Failed { since: super::api::rfc3339(*since) },
            format!("Check {} recovered", check.name),
        ),
    };
    let mut args: Vec<String> = ["onfail", "send", "--status", status.as_str(), "--title", &title, "--alert-id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(format!("onfail-check-{}", check.name));
    // The text names the check; a check's own --message wins.
    if !check.overrides.contains_key("message") {
        args.extend(["--message".to_string(), title]);
    }
    // The service itself opens the acknowledgeable page, unless the check names another one.
    if let Some(own) = own.filter(|_| !check.overrides.contains_key("server")) {
        args.extend(["--server".to_string(), own.url.clone(), "--server-token".to_string(), own.token.clone()]);
    }
    for (key, value) in &check.overrides {
        args.push(format!("--{key}"));
        args.push(value.clone());
    }
    (args, status, previous)
}

/// Builds and delivers one notice; true when some channel sent it.
fn send(notice: &Notice, env: &Env, log: &Output, own: Option<&OwnServer>) -> bool {
    let (argv, status, previous) = arguments(notice, own);
    let name = notice.label();
    // Parsed as `onfail send` is: the service's environment supplies every option not given.
    let args = match crate::cli::parse_from(&argv) {
        Ok(Cli { command: Command::Alert(AlertCommand::Send(args)) }) => args,
        Ok(_) => return false,
        Err(e) => {
            // clap's message may quote a value (a number): only its kind is logged.
            log.error(&format!("{name}: the page cannot be built from its options ({})", e.kind()));
            return false;
        }
    };
    let out = Output::new(config::redactor(&args), env);
    let deaf = Listener::deaf();
    let built = Facts::local(&args, env, SystemTime::now(), None).and_then(|mut facts| {
        facts.decision = Some(Decision::new(status, &previous));
        // What the texts name: "check nightly-backup" is the job that did not run; a watch's
        // texts name its workflow and repository.
        facts.context.workflow = name.clone();
        if let Notice::Plain(plain) = notice {
            facts.context.workflow = plain.workflow.clone();
            facts.context.repository = plain.repository.clone();
            facts.context.run_url = plain.run_url.clone();
        }
        facts.open_page_at_server(&args, env, &deaf)?;
        for warning in &facts.warnings {
            out.warning(&format!("{name}: {warning}"));
        }
        Config::build(&args, facts)
    });
    let config = match built {
        Ok(config) => config,
        Err(e) => {
            out.error(&format!("{name}: the page cannot be built: {e}"));
            return false;
        }
    };
    let delivered = match deliver::deliver(&config, env, &out, &deaf) {
        Ok(delivered) => delivered,
        Err(e) => {
            out.error(&format!("{name}: {e}"));
            return false;
        }
    };
    let results: Vec<String> =
        delivered.channels.iter().map(|c| format!("{} {}", c.channel, result_text(c.result))).collect();
    let what = match notice {
        Notice::Down { .. } => "down",
        Notice::Plain(plain) if plain.incident.is_some() => "paged",
        Notice::Recovered { .. } | Notice::Plain(_) => "recovered",
    };
    out.line(&format!("{name} {what}: {}{}", results.join(", "), acknowledged(&delivered)));
    delivered.channels.iter().any(|c| c.result == ChannelResult::Sent)
}

fn result_text(result: ChannelResult) -> &'static str {
    match result {
        ChannelResult::Sent => "sent",
        ChannelResult::Failed => "failed",
        ChannelResult::Skipped => "skipped",
        ChannelResult::DryRun => "dry-run",
    }
}

/// What the log says of an escalation's end: who acknowledged it, and when.
fn acknowledged(delivered: &Delivered) -> String {
    match &delivered.escalation {
        Some(escalation) if escalation.acknowledged => format!(
            "; acknowledged by {}{}",
            escalation.acknowledged_by.unwrap_or("someone"),
            escalation.acknowledged_at.as_deref().map(|at| format!(" at {at}")).unwrap_or_default()
        ),
        _ => String::new(),
    }
}
