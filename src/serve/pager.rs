//! Sends the pages of checks (docs/serve-checks.md) on a thread of its own: the delivery engine
//! is blocking (reqwest's blocking client, threads for the fan-out) and must never run on the
//! async executor. Each notice becomes the `onfail send` it stands for: the service's own
//! channel options (its environment and flags, the names of docs/reference.md, "Options"), the check's
//! overrides over them, a title saying what happened, and the `--notify-when changes` decision that makes a first
//! failure page every channel and a recovery text without a call (docs/noise-control.md, "Page once per
//! incident"); then the same build and delivery as the CLI (`facts` → `config` → `deliver`).

use std::sync::{Arc, mpsc};
use std::time::SystemTime;

use super::api::App;
use super::checks::{Check, Why};
use crate::cli::{AlertCommand, Cli, Command};
use crate::config::{self, Config};
use crate::context::Env;
use crate::deliver;
use crate::edge::{Decision, Previous};
use crate::facts::Facts;
use crate::output::Output;
use crate::report::ChannelResult;
use crate::status::Status;
use crate::stop::Listener;

/// A page none of whose channels went out is tried again after this.
const RETRY_MS: i64 = 60_000;

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

/// The sending thread's queue.
#[derive(Clone)]
pub struct Pager {
    queue: mpsc::Sender<Notice>,
}

impl Pager {
    /// Starts the thread; it marks each page done in `store` (through `runtime`, from outside it).
    pub fn start(app: Arc<App>, runtime: tokio::runtime::Handle, env: Env) -> Result<Pager, String> {
        let (queue, notices) = mpsc::channel::<Notice>();
        std::thread::Builder::new()
            .name("onfail-pager".into())
            .spawn(move || {
                for notice in notices {
                    let outcome = send(&notice, &env, &app.log);
                    if let Notice::Plain(plain) = &notice
                        && let Some((name, since)) = &plain.incident
                    {
                        let now = super::api::now_ms();
                        let paged = outcome.then_some(now);
                        if let Err(e) = runtime.block_on(app.store.page_done(name, *since, paged, now + RETRY_MS)) {
                            app.log.warning(&format!("{}: the page could not be marked sent: {e}", plain.label));
                        }
                    }
                    if let Notice::Down { check, since, .. } = &notice {
                        let now = super::api::now_ms();
                        let paged = outcome.then_some(now);
                        if let Err(e) =
                            runtime.block_on(app.store.page_done(&check.name, *since, paged, now + RETRY_MS))
                        {
                            app.log.warning(&format!("check {}: the page could not be marked sent: {e}", check.name));
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the pager thread: {e}"))?;
        Ok(Pager { queue })
    }

    pub fn send(&self, notice: Notice) {
        let _ = self.queue.send(notice);
    }
}

fn why_text(why: Why) -> &'static str {
    match why {
        Why::Late { .. } => "no success ping came by its due time and grace",
        Why::Failed { .. } => "it reported a failure",
        Why::RanTooLong { .. } => "it started and did not finish within its max-runtime",
    }
}

/// The command line of the `send` a notice stands for.
fn arguments(notice: &Notice) -> (Vec<String>, Status, Previous) {
    let (check, status, previous, title) = match notice {
        Notice::Plain(plain) => {
            let mut args: Vec<String> =
                ["onfail", "send", "--status", plain.status.as_str()].iter().map(|s| s.to_string()).collect();
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
    for (key, value) in &check.overrides {
        args.push(format!("--{key}"));
        args.push(value.clone());
    }
    (args, status, previous)
}

/// Builds and delivers one notice; true when some channel sent it.
fn send(notice: &Notice, env: &Env, log: &Output) -> bool {
    let (argv, status, previous) = arguments(notice);
    let name = match notice {
        Notice::Down { check, .. } | Notice::Recovered { check, .. } => &check.name,
        Notice::Plain(plain) => &plain.label,
    };
    // Parsed as `onfail send` is: the service's environment supplies every option not given.
    let args = match crate::cli::parse_from(&argv) {
        Ok(Cli { command: Command::Alert(AlertCommand::Send(args)) }) => args,
        Ok(_) => return false,
        Err(e) => {
            // clap's message may quote a value (a number): only its kind is logged.
            log.error(&format!("check {name}: the page cannot be built from its options ({})", e.kind()));
            return false;
        }
    };
    let out = Output::new(config::redactor(&args), env);
    let built = Facts::local(&args, env, SystemTime::now(), None).and_then(|mut facts| {
        facts.decision = Some(Decision::new(status, &previous));
        // What the texts name: "check nightly-backup" is the job that did not run.
        facts.context.workflow = format!("check {name}");
        if let Notice::Plain(plain) = notice {
            facts.context.workflow = plain.workflow.clone();
            facts.context.repository = plain.repository.clone();
            facts.context.run_url = plain.run_url.clone();
        }
        Config::build(&args, facts)
    });
    let config = match built {
        Ok(config) => config,
        Err(e) => {
            out.error(&format!("check {name}: the page cannot be built: {e}"));
            return false;
        }
    };
    let delivered = match deliver::deliver(&config, env, &out, &Listener::deaf()) {
        Ok(delivered) => delivered,
        Err(e) => {
            out.error(&format!("check {name}: {e}"));
            return false;
        }
    };
    let results: Vec<String> =
        delivered.channels.iter().map(|c| format!("{} {}", c.channel, result_text(c.result))).collect();
    let what = if matches!(notice, Notice::Down { .. }) { "down" } else { "recovered" };
    match notice {
        Notice::Plain(plain) if plain.incident.is_some() => out.line(&format!("{name} paged: {}", results.join(", "))),
        Notice::Plain(_) => out.line(&format!("{name} recovered: {}", results.join(", "))),
        _ => out.line(&format!("check {name} {what}: {}", results.join(", "))),
    }
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
