//! Runs a parsed command, in five steps: parse (clap; [`parse_failed`] for what it refused),
//! gather the facts ([`Facts`]), build the one configuration ([`Config::build`]), deliver
//! ([`deliver`]), report. The redactor exists before any of it. Exit codes are decided here and
//! nowhere else.

mod heartbeat;
mod reached;

use std::ffi::OsString;
use std::time::{Instant, SystemTime};

use crate::channels::{self, Channel};
use crate::cli::{AlertArgs, AlertCommand, OutputFormat, RunArgs};
use crate::config::{self, Config};
use crate::context::{CommandRun, Env};
use crate::deliver::{self, Delivered};
use crate::error::ConfigError;
use crate::escalation;
use crate::exit::Exit;
use crate::facts::Facts;
use crate::history;
use crate::output::Output;
use crate::redact::{self, Redactor};
use crate::render;
use crate::report::{ChannelReport, ChannelResult, RunReport, RunResult};
use crate::runner::{self, Ended};
use crate::status::Status;
use crate::stop::Listener;
use crate::transport::Transport;
use crate::values::non_empty;

/// Runs one command: parse is done (clap, then [`parse_failed`] for what it refused); each
/// command gathers its facts, builds its one configuration, delivers and reports.
pub fn run(command: AlertCommand, env: &Env) -> Exit {
    match command {
        AlertCommand::Send(args) => {
            let out = Output::new(config::redactor(&args), env);
            usage_on_error(send(&args, env, &out, None, None), &out)
        }
        AlertCommand::Run(args) => run_command(&args, env),
        AlertCommand::Check(args) => {
            let out = Output::new(config::redactor(&args.alert), env);
            let online = args.online.unwrap_or(false).then_some(env);
            let result = Facts::local(&args.alert, env, SystemTime::now(), None)
                .and_then(|facts| Config::build(&args.alert, facts))
                .and_then(|config| check(&config, online, &out));
            usage_on_error(result, &out)
        }
    }
}

/// A configuration error is exit 2, its message printed (redacted, like every output).
fn usage_on_error(result: Result<Exit, ConfigError>, out: &Output) -> Exit {
    result.unwrap_or_else(|error| {
        out.error(&error.to_string());
        Exit::Usage
    })
}

/// A command line that clap could not parse, or `--help` / `--version` (exit code 0). clap's
/// message can echo any argument, so errors go through [`Output`] like every other text: under
/// GitHub Actions an argument such as `::add-mask::x` or `##[set-output]` stays inert.
pub fn parse_failed(error: &clap::Error, args: &[OsString], env: &Env) -> Exit {
    if !error.use_stderr() {
        // --help and --version: onfail's own text, to stdout as clap prints it.
        let _ = error.print();
        return Exit::Ok;
    }
    let mut text = error.render().to_string();
    if error.kind() == clap::error::ErrorKind::UnknownArgument {
        // Hidden in this text only: these are guesses, and an `::add-mask::` of a guess such as
        // `true` would blank that word out of the rest of the job's log.
        let mut guesses = Redactor::new();
        register_unparsed_values(&mut guesses, args, env);
        text = guesses.apply(&text);
    }
    if let Some(hint) = separator_hint(error, args) {
        text = format!("{}\n\n{hint}\n", text.trim_end());
    }
    Output::new(Redactor::new(), env).usage_error(&text);
    Exit::Usage
}

/// `onfail run sh -c '…'` without `--`: clap sees `sh` (or `-c`) as an argument of its own and
/// says only that it is unexpected, or even suggests `-- -c`. The command goes after `--`.
fn separator_hint(error: &clap::Error, args: &[OsString]) -> Option<&'static str> {
    use clap::error::ErrorKind::{MissingRequiredArgument, UnknownArgument};
    let words: Vec<_> = args.iter().skip(1).map(|a| a.to_string_lossy()).collect();
    let is_run = words.iter().find(|w| !w.starts_with('-')).is_some_and(|w| w == "run");
    let separated = words.iter().any(|w| w == "--");
    // A misspelled long option is not a command.
    let misspelled = match error.get(clap::error::ContextKind::InvalidArg) {
        Some(clap::error::ContextValue::String(arg)) => arg.starts_with("--"),
        _ => false,
    };
    let kind = matches!(error.kind(), UnknownArgument | MissingRequiredArgument);
    (is_run && !separated && !misspelled && kind).then_some(
        "tip: onfail run takes the command after `--`, so that its own options stay its own: \
         onfail run [OPTIONS] -- sh -c '...'",
    )
}

/// An unknown argument is quoted whole, and clap failed before onfail learned which values are
/// secrets: a misspelled `--alertalk-webhok-key=KEY` would print KEY. So every value on the
/// command line (a `--name=value` suffix or a word that is not a flag or a command) and every
/// `ONFAIL_*` value is hidden in that error; the flag names stay readable.
fn register_unparsed_values(redactor: &mut Redactor, args: &[OsString], env: &Env) {
    const COMMANDS: &[&str] = &["send", "run", "check", "serve", "help"];
    // After `--` come the command of `onfail run` and its arguments, which clap does not quote.
    for arg in args.iter().skip(1).map(|a| a.to_string_lossy()).take_while(|a| a != "--") {
        match arg.strip_prefix("--").and_then(|flag| flag.split_once('=')) {
            Some((_, value)) => redactor.secret(value),
            None if !arg.starts_with('-') && !COMMANDS.contains(&arg.as_ref()) => redactor.secret(&arg),
            None => {}
        }
    }
    env.iter().filter(|(name, _)| name.starts_with("ONFAIL_")).for_each(|(_, value)| redactor.secret(value));
}

/// `onfail run`: validate first (a broken configuration should show when the job is set up,
/// not when it fails), run the command, then alert with its result and exit with its code.
fn run_command(args: &RunArgs, env: &Env) -> Exit {
    let out = Output::new(config::redactor(&args.alert), env);
    let heartbeat = match refuse_status_options(args)
        .and_then(|()| config::validate(&args.alert, env))
        .and_then(|()| heartbeat::Heartbeat::configure(args, env, &out))
    {
        Ok(heartbeat) => heartbeat,
        Err(error) => {
            out.error(&error.to_string());
            return Exit::Usage;
        }
    };
    if let Some(heartbeat) = &heartbeat {
        heartbeat.started(&out);
    }
    let finished = runner::run(&args.command, args.tail_lines.unwrap_or(20) as usize);
    if let Some(heartbeat) = &heartbeat {
        heartbeat.ended(finished.ended.exit_code(), &out);
    }
    // From here on a SIGINT or SIGTERM stops the alert promptly, never kills it midway
    // (docs/getting-started.md, "Cron jobs and any CI: `onfail run`").
    let listener = Listener::listen();
    listener.exit_code_if_abandoned(finished.ended.exit_code());
    let status = match (&finished.ended, finished.stopped_by) {
        (ended, _) if ended.success() => Status::Success,
        (_, Some(_)) => Status::Cancelled,
        _ => Status::Failure,
    };
    let command_line = args.command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    if let Ended::NotStarted(why) = &finished.ended {
        out.error(&format!("{command_line}: {}", why.describe()));
    }
    let command = CommandRun {
        // A script's words can hold a secret too: redacted before the cut, like the tail.
        program: redact::cut(&out.redact(&runner::name_of(&args.command)), runner::SHOWN_NAME),
        // Both go to providers: secrets in the arguments or the output are redacted first.
        command_line: out.redact(&command_line),
        ended: finished.ended.clone(),
        // Redacted before the cut, so no part of a secret survives it.
        tail: finished.tail.iter().map(|line| redact::cut(&out.redact(line), runner::SHOWN_TAIL_LINE)).collect(),
    };
    let mut alert_args = args.alert.clone();
    alert_args.general.status = Some(status);
    if let Err(error) = send(&alert_args, env, &out, Some(command), Some(&listener)) {
        out.error(&error.to_string());
    }
    Exit::Command(finished.ended.exit_code())
}

/// The status of `onfail run` comes from the command's exit; an option that would set it
/// otherwise is refused (exit 2, before the command runs) rather than silently overridden.
/// `--needs` would be a second source for it (docs/noise-control.md, "One alert for a whole workflow").
fn refuse_status_options(args: &RunArgs) -> Result<(), ConfigError> {
    let general = &args.alert.general;
    if general.status.is_some() {
        return Err(ConfigError::new(
            "--status",
            "does not apply to onfail run: the status comes from the command (exit 0 is success, anything \
             else a failure, a stop signal cancelled); remove --status (or unset ONFAIL_STATUS) for this step",
        ));
    }
    if non_empty(&general.needs).is_some() {
        return Err(ConfigError::new(
            "--needs",
            "onfail run takes its status from the command it runs, so it cannot also take it from other jobs; \
             use onfail send --needs in a final job that needs the others, or drop --needs (and ONFAIL_NEEDS)",
        ));
    }
    Ok(())
}

/// `onfail send`, and `onfail run` once its `command` ended: gather every fact, build the one
/// configuration, deliver to every channel that fires, and report. `listener` hears a stop
/// request (`onfail run` listens once its command ended); without one, an escalation listens
/// from the start, so that a cancel during the lookups already stops every further request
/// (docs/escalation.md, "Escalation").
fn send(
    args: &AlertArgs,
    env: &Env,
    out: &Output,
    command: Option<CommandRun>,
    listener: Option<&Listener>,
) -> Result<Exit, ConfigError> {
    let started = Instant::now();
    let own;
    let stop = match listener {
        Some(listener) => listener,
        None => {
            own = own_listener(args);
            &own
        }
    };
    // With `--server`, gathering the facts opens a page at the service (docs/serve-senders.md):
    // a configuration error must show before that, since bad input sends nothing.
    if non_empty(&args.channels.shared.companion.server).is_some() {
        config::validate(args, env)?;
    }
    let facts = Facts::gather(args, env, command, stop)?;
    let config = Config::build(args, facts)?;
    let delivered = deliver::deliver(&config, env, out, stop)?;
    Ok(report(&config, delivered, args, env, out, stop, started))
}

/// A send's own stop listener: an escalation (not a dry run) listens from the start; any other
/// send is deaf, and a signal ends it as it would any program.
fn own_listener(args: &AlertArgs) -> Listener {
    let escalates = args.escalation.mode() != escalation::Mode::Off && !args.general.dry_run.unwrap_or(false);
    if escalates { Listener::listen() } else { Listener::deaf() }
}

/// The report of a send: who the alert reached, how a stop ended it, the history recorded for
/// next time, printed once; and the exit code.
fn report(
    config: &Config,
    delivered: Delivered,
    args: &AlertArgs,
    env: &Env,
    out: &Output,
    stop: &Listener,
    started: Instant,
) -> Exit {
    let settings = &config.settings;
    let status = config.alert.status();
    let mut report = RunReport::new(status.as_str(), config.alert.title.clone(), delivered.channels, settings.dry_run);
    report.pages = match delivered.escalation.as_ref() {
        Some(escalation) => escalation.pages.clone(),
        None => reached::pages_of(config, &report.channels),
    };
    report.escalation = delivered.escalation;
    if stop.given() {
        reached::stopped(args, env, &mut report, out);
    }
    stop.settled();
    if status == Status::Failure && !settings.dry_run {
        report.paged = reached::paged(&report);
    }
    if let Some(lookup) = &config.history {
        report.edge = config.alert.decision.as_ref().map(|d| d.edge.as_str());
        report.previous_run_url = lookup.previous_run_url.clone();
        report.warnings.extend(lookup.warnings.iter().cloned());
        let paged = report.paged.unwrap_or(false);
        report.warnings.extend(history::record(lookup, status, paged, &config.alert.context.run_url));
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.warnings.extend(config.warnings.iter().cloned());
    if let Some(needs) = &config.needs {
        out.line(&render::needs_line(needs));
    }
    if config.channels.is_empty() {
        report.warnings.push(format!("{}: nothing was sent", channels::none_enabled()));
    }
    let report = out.redacted(&report);
    print_report(&report, settings.output, out);
    out.github_report(&report);
    // An acknowledged page reached a person: not a failure, whatever a channel did. On any
    // other status than a failure, a notice that did not go out is a warning: a green job
    // never turns red (docs/reference.md, "Exit codes").
    let failed = report.any_failed()
        && settings.fail_on_error
        && !report.acknowledged()
        && !report.superseded()
        && status == Status::Failure;
    if failed { Exit::ChannelFailed } else { Exit::Ok }
}

/// `onfail check`: validation already happened; show what would go where. With `--online`
/// (`online` holds the environment then), also run each provider's side-effect-free credentials
/// check; a failed one is exit 1.
fn check(config: &Config, online: Option<&Env>, out: &Output) -> Result<Exit, ConfigError> {
    let transport = online.map(|env| deliver::transport(config, env, out)).transpose()?;
    let mut reports = Vec::new();
    for channel in &config.channels {
        let mut report = ChannelReport::new(channel.as_ref(), ChannelResult::DryRun, String::new());
        report.detail = match channel.skip_reason(&config.alert) {
            Some(reason) => format!("configured; would not fire: {reason}"),
            None => format!("configured; would send to {}", channel.endpoint()),
        };
        if let Some(transport) = &transport {
            check_online(channel.as_ref(), transport, &mut report);
        }
        reports.push(report);
    }
    let mut report = RunReport::new(config.alert.status().as_str(), config.alert.title.clone(), reports, true);
    if report.any_failed() {
        report.result = RunResult::Failed;
    }
    report.warnings.extend(config.warnings.iter().cloned());
    if config.channels.is_empty() {
        report.warnings.push(format!("{}: a send would do nothing", channels::none_enabled()));
    }
    let report = out.redacted(&report);
    match config.settings.output {
        OutputFormat::Json => out.rendered_stdout(&render::json(&report)),
        OutputFormat::Text => {
            for channel in &report.channels {
                out.rendered_line(&format!("{} ({}) {}", channel.channel, channel.provider, channel.detail));
                if !channel.recipients.is_empty() {
                    out.rendered_line(&format!("  recipients: {}", channel.recipients.join(", ")));
                }
                channel.warnings.iter().for_each(|w| out.rendered_warning(&format!("{}: {w}", channel.channel)));
            }
            report.warnings.iter().for_each(|w| out.rendered_warning(w));
            if let Some(needs) = &config.needs {
                out.line(&render::needs_line(needs));
            }
            if let Some(escalation) = &config.escalation {
                out.line(&escalation.describe());
            }
            out.rendered_line(match (&transport, report.any_failed()) {
                (_, true) => "configuration is valid, but the online check failed",
                (Some(_), false) => "configuration is valid; credentials checked online where possible",
                (None, false) => "configuration is valid",
            });
        }
    }
    Ok(if report.any_failed() { Exit::ChannelFailed } else { Exit::Ok })
}

fn check_online(channel: &dyn Channel, transport: &Transport, report: &mut ChannelReport) {
    match channel.check_online(transport) {
        None => report.detail.push_str("; not checked online (the provider has no side-effect-free check)"),
        Some(Ok(found)) => report.detail.push_str(&format!("; online: {found}")),
        Some(Err(reason)) => {
            report.result = ChannelResult::Failed;
            report.detail = format!("configured, but the online check FAILED: {reason}");
        }
    }
}

/// Prints a report whose values are already redacted ([`Output::redacted`]).
fn print_report(report: &RunReport, format: OutputFormat, out: &Output) {
    for warning in &report.warnings {
        out.rendered_warning(warning);
    }
    for channel in &report.channels {
        for warning in &channel.warnings {
            out.rendered_warning(&format!("{}: {warning}", channel.channel));
        }
        out.rendered_line(&render::channel_line(channel));
    }
    if let Some(line) = render::paged_line(report) {
        out.rendered_line(&line);
    }
    if let Some(line) = render::edge_line(report) {
        out.rendered_line(&line);
    }
    match format {
        OutputFormat::Json => out.rendered_stdout(&render::json(report)),
        OutputFormat::Text => {
            let blocks: Vec<String> =
                report.channels.iter().map(render::dry_run_block).filter(|b| !b.is_empty()).collect();
            if !blocks.is_empty() {
                out.rendered_stdout(&blocks.join("\n"));
            }
        }
    }
    out.rendered_line(&render::summary_line(report));
}
