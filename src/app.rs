//! Runs a parsed command: build the redactor first, validate, then send, dry-run or check, and
//! report. Exit codes are decided here and nowhere else.

use std::time::{Instant, SystemTime};

use crate::channels::{Alert, Channel};
use crate::cli::{AlertArgs, Command, OutputFormat};
use crate::config::{self, Config, ConfigError};
use crate::context::Env;
use crate::output::Output;
use crate::render;
use crate::report::{ChannelReport, ChannelResult, RunReport};
use crate::transport::Transport;

/// SPEC §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every enabled channel delivered, or nothing to do, or a dry run.
    Ok,
    /// At least one channel failed (and `--fail-on-error` is on).
    ChannelFailed,
    /// Usage or configuration error; nothing was sent.
    Usage,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::ChannelFailed => 1,
            Exit::Usage => 2,
        }
    }
}

pub fn run(command: Command, env: &Env) -> Exit {
    match command {
        Command::Send(args) => with_config(&args, env, |config, out| send(config, env, out)),
        Command::Check(args) => with_config(&args.alert, env, check),
    }
}

/// Registers secrets, validates, and runs `body`; a configuration error is exit 2.
fn with_config(args: &AlertArgs, env: &Env, body: impl FnOnce(&Config, &Output) -> Result<Exit, ConfigError>) -> Exit {
    let out = Output::new(config::redactor(args)).for_github(env);
    let result = Config::from_args(args, env, SystemTime::now()).and_then(|config| body(&config, &out));
    result.unwrap_or_else(|error| {
        out.error(&error.to_string());
        Exit::Usage
    })
}

/// `onfail send`: deliver to every channel that fires, concurrently, and report.
fn send(config: &Config, env: &Env, out: &Output) -> Result<Exit, ConfigError> {
    let started = Instant::now();
    let settings = &config.settings;
    let mut report = if settings.dry_run {
        RunReport::new(config.alert.status().as_str(), config.alert.title.clone(), dry_run(config), true)
    } else {
        let transport = Transport::new(settings.timeout, settings.retries, config.needs_tls(), env)?;
        RunReport::new(
            config.alert.status().as_str(),
            config.alert.title.clone(),
            deliver_all(config, &transport),
            false,
        )
    };
    report.duration_ms = started.elapsed().as_millis() as u64;
    if config.channels.is_empty() {
        report.warnings.push(
            "no channel is configured (no Alertalk key, iletiMerkezi key, Temperstack URL or webhook URL): nothing was sent"
                .into(),
        );
    }
    print_report(&report, settings.output, out);
    out.github_report(&report);
    Ok(if report.any_failed() && settings.fail_on_error { Exit::ChannelFailed } else { Exit::Ok })
}

/// Every channel runs on its own thread, so the send takes about as long as the slowest one.
fn deliver_all(config: &Config, transport: &Transport) -> Vec<ChannelReport> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = config
            .channels
            .iter()
            .map(|channel| scope.spawn(|| deliver_one(channel.as_ref(), &config.alert, transport)))
            .collect();
        handles.into_iter().map(|handle| handle.join().expect("a channel thread panicked")).collect()
    })
}

fn deliver_one(channel: &dyn Channel, alert: &Alert, transport: &Transport) -> ChannelReport {
    match channel.skip_reason(alert) {
        Some(reason) => ChannelReport::new(channel, ChannelResult::Skipped, reason),
        None => ChannelReport::from_outcome(channel, channel.deliver(transport)),
    }
}

fn dry_run(config: &Config) -> Vec<ChannelReport> {
    config
        .channels
        .iter()
        .map(|channel| match channel.skip_reason(&config.alert) {
            Some(reason) => ChannelReport::new(channel.as_ref(), ChannelResult::Skipped, reason),
            None => planned(channel.as_ref()),
        })
        .collect()
}

fn planned(channel: &dyn Channel) -> ChannelReport {
    let mut report = ChannelReport::new(channel, ChannelResult::DryRun, String::new());
    report.request = Some(render::shown_request(&channel.request(1), channel.endpoint()));
    report
}

/// `onfail check`: validation already happened; show what would go where.
fn check(config: &Config, out: &Output) -> Result<Exit, ConfigError> {
    let mut reports = Vec::new();
    for channel in &config.channels {
        let mut report = ChannelReport::new(channel.as_ref(), ChannelResult::DryRun, String::new());
        report.detail = match channel.skip_reason(&config.alert) {
            Some(reason) => format!("configured; would not fire: {reason}"),
            None => format!("configured; would send to {}", channel.endpoint()),
        };
        reports.push(report);
    }
    let mut report = RunReport::new(config.alert.status().as_str(), config.alert.title.clone(), reports, true);
    if config.channels.is_empty() {
        report.warnings.push("no channel is configured: a send would do nothing".into());
    }
    match config.settings.output {
        OutputFormat::Json => out.stdout(&render::json(&report)),
        OutputFormat::Text => {
            for channel in &report.channels {
                out.line(&format!("{} ({}) {}", channel.channel, channel.provider, channel.detail));
                if !channel.recipients.is_empty() {
                    out.line(&format!("  recipients: {}", channel.recipients.join(", ")));
                }
                channel.warnings.iter().for_each(|w| out.warning(&format!("{}: {w}", channel.channel)));
            }
            report.warnings.iter().for_each(|w| out.warning(w));
            out.line("configuration is valid");
        }
    }
    Ok(Exit::Ok)
}

fn print_report(report: &RunReport, format: OutputFormat, out: &Output) {
    for warning in &report.warnings {
        out.warning(warning);
    }
    for channel in &report.channels {
        for warning in &channel.warnings {
            out.warning(&format!("{}: {warning}", channel.channel));
        }
        out.line(&render::channel_line(channel));
    }
    match format {
        OutputFormat::Json => out.stdout(&render::json(report)),
        OutputFormat::Text => {
            let blocks: Vec<String> =
                report.channels.iter().map(render::dry_run_block).filter(|b| !b.is_empty()).collect();
            if !blocks.is_empty() {
                out.stdout(&blocks.join("\n"));
            }
        }
    }
    out.line(&render::summary_line(report));
}
