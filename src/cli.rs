//! The command line. One naming rule (docs/reference.md, "Options"): flag `--foo-bar` = env `ONFAIL_FOO_BAR` =
//! action input `foo-bar`. Values are only parsed here; [`crate::config`] validates them.
//! Every option is an `Option` so that "not given" stays distinguishable from a default.
//! [`command`] adds the rules every option follows (`crate::values`): values may start with `-`,
//! and a value that is one of onfail's own flags is refused.

use std::ffi::OsString;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::channels::ChannelArgs;
use crate::escalation;
use crate::status::{NotifyOn, Status};
use crate::texts::Language;
use crate::values::{one_of, parse_bool, parse_duration};

const EXAMPLES: &str = "\
Examples:
  # Call the on-call phones when a deploy fails (credentials from the environment)
  ONFAIL_ALERTALK_WEBHOOK_KEY=... onfail send --phone-numbers '+90 555 000 11 22, 05550003344'

  # See exactly what would be sent, with secrets redacted; sends nothing
  onfail send --dry-run --alertalk-webhook-key demo --phone-numbers 5550001122

  # Machine-readable result
  onfail send --output json --message 'Backup of {hostname} failed at {time}'

Every flag can also be set as an ONFAIL_* environment variable (--phone-numbers =
ONFAIL_PHONE_NUMBERS); an empty variable counts as unset.
Exit codes: 0 delivered or nothing to do, 1 a channel failed, 2 usage or configuration error.";

#[derive(Parser, Debug)]
#[command(name = "onfail", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    #[command(flatten)]
    Alert(AlertCommand),
    /// Run the standing companion: receive iletiMerkezi delivery reports, serve the API of
    /// orders, pages and alert states
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
}

/// The commands that build and send an alert (`crate::app`).
#[derive(Subcommand, Debug)]
pub enum AlertCommand {
    /// Render the alert and deliver it to every configured channel, concurrently
    #[command(after_help = EXAMPLES)]
    Send(AlertArgs),
    /// Run CMD with its output streamed through; alert if it fails; exit with its exit code
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Validate the configuration and print what would be sent where; sends no alert
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
}

const CHECK_EXAMPLES: &str = "\
Examples:
  # Validate the configuration and print where each channel would go
  onfail check --alertalk-webhook-key \"$KEY\" --phone-numbers \"$PHONES\"

  # Also check the iletiMerkezi credentials and balance (no SMS is sent)
  onfail check --online --iletimerkezi-key \"$KEY\" --iletimerkezi-hash \"$HASH\" --sms-sender ACME \\
    --phone-numbers \"$PHONES\"

Exit codes: 0 valid, 1 an online check failed, 2 usage or configuration error.";

const RUN_EXAMPLES: &str = "\
Examples:
  # A cron job that pages when the backup fails
  onfail run --phone-numbers \"$ONCALL\" -- /opt/backup.sh --full

  # Any CI: post the failure with the last 50 lines of output to a webhook
  onfail run --tail-lines 50 -- make deploy

  # Try the set-up: the command really runs; only the alert is printed, not sent
  onfail run --dry-run -- false

The status comes from the command: exit 0 is success (only the incident channels act: they
resolve), anything else is a failure. A stop signal sent to onfail (SIGINT, SIGTERM) is passed
on to the command and makes the run 'cancelled'. onfail exits with the command's exit code,
128 + N when a signal N killed it, or 127 when it could not be started.";

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub alert: AlertArgs,

    /// Lines of the command's output to keep for the alert (0 to 1000) [default: 20]
    #[arg(long, env = "ONFAIL_TAIL_LINES", value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000),
          hide_env_values = true, help_heading = "Run")]
    pub tail_lines: Option<u32>,

    /// Ping this check of the --server (an onfail serve --config check) when the command starts
    /// and with its exit code when it ends, so the service pages if it never runs
    #[arg(long, env = "ONFAIL_CHECK", value_name = "NAME", hide_env_values = true, help_heading = "Run")]
    pub check: Option<String>,

    /// The command to run and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

const SERVE_EXAMPLES: &str = "\
Examples:
  # Make the two secrets once, keep them somewhere safe
  openssl rand -hex 32

  # Serve on 127.0.0.1:8087 with the embedded store (SQLite under ~/.local/state/onfail)
  ONFAIL_RECEIVE_TOKEN=... ONFAIL_API_TOKEN=... onfail serve

  # Several replicas on one PostgreSQL database, behind a TLS-terminating proxy
  onfail serve --listen 0.0.0.0:8087 --store postgres://onfail@db/onfail --public-url https://onfail.example.com

iletiMerkezi's report URL is {public-url}/v1/iletimerkezi/reports?token=RECEIVE_TOKEN.
SIGTERM or SIGINT stops it gracefully (requests in flight finish, exit 0).";

/// `onfail serve`. Values are only parsed here; `crate::serve` validates them.
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8087]
    #[arg(long, env = "ONFAIL_LISTEN", value_name = "ADDR", hide_env_values = true)]
    pub listen: Option<String>,

    /// Where everything is kept: sqlite://PATH, or postgres://... for several replicas on one
    /// database [default: sqlite://$XDG_STATE_HOME/onfail/serve.db, else ~/.local/state/onfail/serve.db]
    #[arg(long, env = "ONFAIL_STORE", value_name = "URL", hide_env_values = true)]
    pub store: Option<String>,

    /// The secret iletiMerkezi puts in the report URL (?token=); required
    #[arg(long, env = "ONFAIL_RECEIVE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub receive_token: Option<String>,

    /// The secret of the API (Authorization: Bearer ...) and the web page's password (HTTP Basic,
    /// any user); required
    #[arg(long, env = "ONFAIL_API_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,

    /// The address people and providers reach (behind a proxy or tunnel), used in links
    /// [default: the listen URL]
    #[arg(long, env = "ONFAIL_PUBLIC_URL", value_name = "URL", hide_env_values = true)]
    pub public_url: Option<String>,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key
    #[arg(long, env = "ONFAIL_TLS_CERT", value_name = "FILE", hide_env_values = true)]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The private key of --tls-cert (PEM)
    #[arg(long, env = "ONFAIL_TLS_KEY", value_name = "FILE", hide_env_values = true)]
    pub tls_key: Option<std::path::PathBuf>,

    /// Where delivery reports of SMS that are not onfail's go, body unchanged
    #[arg(long, env = "ONFAIL_FORWARD_REPORTS_TO", value_name = "URL", hide_env_values = true)]
    pub forward_reports_to: Option<String>,

    /// A TOML file of checks and watches
    #[arg(long, env = "ONFAIL_CONFIG", value_name = "FILE", hide_env_values = true)]
    pub config: Option<std::path::PathBuf>,

    /// GitHub token the [[watch]] tables of --config read the REST API with (actions: read, and
    /// contents: read for a schedule read from the workflow file); GITHUB_API_URL for GHES
    #[arg(long, env = "ONFAIL_GITHUB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub alert: AlertArgs,

    /// Also check credentials where the provider has a side-effect-free call (iletiMerkezi
    /// get-balance); sends no alert
    #[arg(long, env = "ONFAIL_ONLINE", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true",
          value_parser = parse_bool("--online"), hide_env_values = true)]
    pub online: Option<bool>,
}

/// Everything that describes an alert and where it goes.
#[derive(Args, Debug, Default, Clone)]
pub struct AlertArgs {
    #[command(flatten)]
    pub general: GeneralArgs,
    #[command(flatten)]
    pub history: crate::history::Args,
    #[command(flatten)]
    pub channels: ChannelArgs,
    #[command(flatten)]
    pub escalation: escalation::Args,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

const OUTPUT_FORMATS: &[(&str, OutputFormat)] = &[("text", OutputFormat::Text), ("json", OutputFormat::Json)];

#[derive(Args, Debug, Default, Clone)]
#[command(next_help_heading = "General")]
pub struct GeneralArgs {
    /// Job status: failure, success, cancelled or skipped; also GitLab's failed, canceled and
    /// Jenkins' FAILURE, UNSTABLE (a failure), ABORTED, NOT_BUILT (skipped), SUCCESS [default: failure]
    #[arg(long, env = "ONFAIL_STATUS", value_name = "STATUS", value_parser = parse_status, hide_env_values = true)]
    pub status: Option<Status>,

    /// `${{ toJSON(needs) }}` of a final job: the status comes from the needed jobs' results,
    /// overriding --status (`send` and `check` only)
    #[arg(long, env = "ONFAIL_NEEDS", value_name = "JSON", hide_env_values = true)]
    pub needs: Option<String>,

    /// Comma list of job ids in --needs that may be skipped without counting as a failure
    #[arg(long, env = "ONFAIL_ALLOWED_SKIPS", value_name = "JOBS", hide_env_values = true)]
    pub allowed_skips: Option<String>,

    /// Comma list of statuses on which voice, SMS and webhook fire, or `always` [default: failure]
    #[arg(long, env = "ONFAIL_NOTIFY_ON", value_name = "LIST", value_parser = parse_notify_on, hide_env_values = true)]
    pub notify_on: Option<NotifyOn>,

    /// Short name of the alert; {placeholders} allowed [default: from the status and context]
    #[arg(long, env = "ONFAIL_TITLE", hide_env_values = true)]
    pub title: Option<String>,

    /// Alert text for every channel; {placeholders} allowed [default: per channel]
    #[arg(long, env = "ONFAIL_MESSAGE", hide_env_values = true)]
    pub message: Option<String>,

    /// Text read aloud on the call, instead of --message; {placeholders} allowed [default: speakable, per language]
    #[arg(long, env = "ONFAIL_VOICE_MESSAGE", value_name = "TEXT", hide_env_values = true)]
    pub voice_message: Option<String>,

    /// SMS text, instead of --message; {placeholders} allowed [default: short, ends with the run URL]
    #[arg(long, env = "ONFAIL_SMS_MESSAGE", value_name = "TEXT", hide_env_values = true)]
    pub sms_message: Option<String>,

    /// Language of the default texts: auto (Turkish on calls and SMS, English elsewhere), tr or en [default: auto]
    #[arg(long, env = "ONFAIL_LANGUAGE", value_name = "LANGUAGE", value_parser = parse_language, hide_env_values = true)]
    pub language: Option<Language>,

    /// Print every request as it would be sent (the body byte for byte, secrets redacted), and
    /// send nothing
    #[arg(long, env = "ONFAIL_DRY_RUN", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true",
          value_parser = parse_bool("--dry-run"), hide_env_values = true)]
    pub dry_run: Option<bool>,

    /// Deadline for the whole send, retries included: 500ms, 30s, 2m or seconds [default: 30s]
    #[arg(long, env = "ONFAIL_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, hide_env_values = true)]
    pub timeout: Option<Duration>,

    /// Retries per channel for transient failures [default: 3]
    #[arg(long, env = "ONFAIL_RETRIES", value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20),
          hide_env_values = true)]
    pub retries: Option<u32>,

    /// Exit 1 when any channel failed [default: true]
    #[arg(long, env = "ONFAIL_FAIL_ON_ERROR", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true",
          value_parser = parse_bool("--fail-on-error"), hide_env_values = true)]
    pub fail_on_error: Option<bool>,

    /// text, or json (a machine-readable result on stdout) [default: text]
    #[arg(long, env = "ONFAIL_OUTPUT", value_name = "FORMAT", value_parser = one_of("an output format", OUTPUT_FORMATS),
          hide_env_values = true)]
    pub output: Option<OutputFormat>,

    /// GitHub check run id of the job, for {job_url}
    #[arg(long, env = "ONFAIL_CHECK_RUN_ID", value_name = "ID", hide_env_values = true)]
    pub check_run_id: Option<String>,
}

/// The command line as onfail reads it: the derived definition, plus the rule that every option
/// taking a value takes the next argument as that value, whatever it starts with (the rules are
/// in `crate::values`). Options added anywhere get the rule here, without a line of their own.
///
/// Each subcommand's `--help` lists only what applies to it: `run` takes its status from the
/// command, so `--status`, `--needs` and `--allowed-skips` are hidden there (the first two are
/// refused when given, in `app`), and its `--dry-run` says that the command still runs; `check`
/// sends nothing, so `--dry-run` and `--fail-on-error` are hidden there (accepted, no effect).
pub fn command() -> clap::Command {
    Cli::command()
        .mut_subcommand("run", |run| {
            run.mut_arg("status", |a| a.hide(true))
                .mut_arg("needs", |a| a.hide(true))
                .mut_arg("allowed_skips", |a| a.hide(true))
                .mut_arg("dry_run", |a| {
                    a.help(
                        "Run the command as usual, but only print the alert (the body byte for byte, secrets \
                     redacted) instead of sending it",
                    )
                })
        })
        .mut_subcommand("check", |check| {
            check.mut_arg("dry_run", |a| a.hide(true)).mut_arg("fail_on_error", |a| a.hide(true))
        })
        .mut_subcommands(|sub| {
            sub.mut_args(|arg| if takes_a_value(&arg) { arg.allow_hyphen_values(true) } else { arg })
        })
}

/// An option (not a positional) whose value is required: `--message TEXT`, not `--dry-run [BOOL]`.
fn takes_a_value(arg: &clap::Arg) -> bool {
    !arg.is_positional() && arg.get_action().takes_values() && arg.get_num_args().is_none_or(|n| n.min_values() > 0)
}

/// Parses a command line. `--help` and `--version` come back as the error clap makes of them,
/// like every usage error.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cmd = command();
    cmd.build();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some((name, sub_matches)) = matches.subcommand()
        && let Some(sub) = cmd.find_subcommand_mut(name)
    {
        refuse_flags_as_values(sub, sub_matches)?;
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The guard of the hyphen rule: a value given on the command line that is exactly one of the
/// command's own flags (`--message --dry-run`, `--title --timeout=5s`) means the value was left
/// out, and the flag would silently be lost (a dry run would become a real send). Values from
/// `ONFAIL_*` variables cannot swallow a flag, so they are not checked.
fn refuse_flags_as_values(cmd: &mut clap::Command, matches: &ArgMatches) -> Result<(), clap::Error> {
    let flags: Vec<String> = cmd
        .get_arguments()
        .flat_map(|arg| {
            arg.get_long().map(|l| format!("--{l}")).into_iter().chain(arg.get_short().map(|c| format!("-{c}")))
        })
        .collect();
    let mut swallowed = None;
    for arg in cmd.get_arguments().filter(|arg| takes_a_value(arg)) {
        let id = arg.get_id().as_str();
        if matches.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        let Ok(Some(values)) = matches.try_get_raw(id) else { continue };
        for value in values.map(|v| v.to_string_lossy()) {
            let value = value.trim();
            if let Some(flag) = flags.iter().find(|f| value == f.as_str() || value.starts_with(&format!("{f}="))) {
                swallowed = Some((arg.get_long().unwrap_or(id).to_string(), flag.clone()));
                break;
            }
        }
    }
    match swallowed {
        None => Ok(()),
        Some((option, flag)) => Err(cmd.error(
            ErrorKind::InvalidValue,
            format!(
                "--{option} got the option {flag} as its value, so the value of --{option} was probably left \
                 out. Give --{option} its value first (a value may start with '-', e.g. --{option} '- x')"
            ),
        )),
    }
}

fn parse_status(value: &str) -> Result<Status, String> {
    value.parse()
}

fn parse_language(value: &str) -> Result<Language, String> {
    value.parse()
}

fn parse_notify_on(value: &str) -> Result<NotifyOn, String> {
    value.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        command().debug_assert();
    }
}
