//! What the same alert did last time, for `--notify-when changes`
//! (docs/noise-control.md, "Page once per incident"): on GitHub Actions from the REST API ([`github`]),
//! elsewhere from a state file per alert id ([`state`]). Any failure to learn it is *unknown*,
//! with a warning that names the fix: the alert then goes out as a first failure would.

pub mod github;
pub mod remote;
pub mod state;

use std::path::PathBuf;
use std::time::SystemTime;

use crate::context::Env;
use crate::edge::{NotifyWhen, Previous};
use crate::redact::Redactor;
use crate::status::Status;
use crate::stop::StopFlag;
use crate::values::one_of;

/// The words `--notify-when` takes (read through `crate::values::word`, like every enumerated option).
const WHEN: &[(&str, NotifyWhen)] = &[("always", NotifyWhen::Always), ("changes", NotifyWhen::Changes)];

#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Page once per incident")]
#[group(id = "history")]
pub struct Args {
    /// always, or changes: page on the first failure only, and say "recovered" on the first
    /// success after it [default: always]
    #[arg(long, env = "ONFAIL_NOTIFY_WHEN", value_name = "WHEN", value_parser = one_of("a notify-when mode", WHEN),
          hide_env_values = true)]
    pub notify_when: Option<NotifyWhen>,

    /// GitHub token to read the run history with --notify-when changes, and with --needs the
    /// failed jobs' names and steps (the workflow needs `permissions: actions: read`)
    #[arg(long, env = "ONFAIL_GITHUB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,

    /// Where --notify-when changes keeps its state outside GitHub Actions
    /// [default: $XDG_STATE_HOME/onfail, else ~/.local/state/onfail]
    #[arg(long, env = "ONFAIL_STATE_DIR", value_name = "DIR", hide_env_values = true)]
    pub state_dir: Option<PathBuf>,
}

impl Args {
    pub fn register_secrets(&self, redactor: &mut Redactor) {
        if let Some(token) = self.token() {
            redactor.secret(token);
        }
    }

    /// `--github-token`, if set and not blank.
    pub fn token(&self) -> Option<&str> {
        self.github_token.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }

    pub fn notify_when(&self) -> NotifyWhen {
        self.notify_when.unwrap_or_default()
    }
}

/// What is looked up: the alert, and where it runs.
pub struct Query<'a> {
    pub env: &'a Env,
    pub status: Status,
    /// The stable alert id (docs/incidents.md, "Incidents (Temperstack)"): the key of the state file.
    pub alert_id: &'a str,
    /// Whether the alert id was given (`--alert-id`) rather than derived: only a given id can be
    /// shared by two jobs by mistake.
    pub alert_id_given: bool,
    /// `onfail run`: the command line (redacted), remembered in the state file.
    pub command: Option<&'a str>,
    /// `--check-run-id`: on GitHub, compare with the same job rather than the whole run.
    pub check_run_id: Option<&'a str>,
    /// A dry run reads the history but writes nothing.
    pub dry_run: bool,
    /// The GitHub API client already set up for this run (the failure details use it too), so
    /// both lookups share one budget; `None` sets one up when needed.
    pub github: Option<&'a Result<github::Api, String>>,
    /// A stop request (a cancel): the lookup asks nothing more once it is set.
    pub stop: StopFlag,
    /// `--server` and `--server-token`: outside GitHub the history is kept there, not in a file.
    pub server: Option<(&'a reqwest::Url, &'a str)>,
}

/// Where the outcome is recorded once the alert went out.
#[derive(Debug)]
enum Keeper {
    File(state::Store),
    Service(remote::Remote),
}

/// What the lookup found.
#[derive(Debug)]
pub struct Lookup {
    pub previous: Previous,
    pub previous_run_url: Option<String>,
    pub warnings: Vec<String>,
    /// Outside GitHub: where the outcome is recorded once the alert went out.
    store: Option<Keeper>,
}

impl Lookup {
    fn unknown(warning: String) -> Lookup {
        Lookup { previous: Previous::Unknown, previous_run_url: None, warnings: vec![warning], store: None }
    }
}

/// Learns what the same alert did last time. Cancelled and skipped runs change nothing
/// whatever came before, so they cost no lookup.
pub fn look_back(args: &Args, query: &Query) -> Lookup {
    if matches!(query.status, Status::Cancelled | Status::Skipped) {
        return Lookup { previous: Previous::Unknown, previous_run_url: None, warnings: Vec::new(), store: None };
    }
    if crate::context::on_github_actions(query.env) {
        let connected;
        let api = match query.github {
            Some(api) => api,
            None => {
                connected =
                    github::Api::connect(query.env, args.token()).map(|api| api.stopping_on(query.stop.clone()));
                &connected
            }
        };
        let found = api.as_ref().map_err(String::clone);
        return match found.and_then(|api| github::previous(api, query.env, query.check_run_id)) {
            Ok(found) => {
                Lookup { previous: found.previous, previous_run_url: found.url, warnings: found.warnings, store: None }
            }
            Err(problem) => Lookup::unknown(format!(
                "--notify-when changes: the run history is unknown, so this alert goes out as a first failure \
                 would: {problem}"
            )),
        };
    }
    if let Some((base, token)) = query.server {
        return from_service(base, token, query);
    }
    let dir =
        match args.state_dir.clone().filter(|d| !d.as_os_str().is_empty()).or_else(|| state::default_dir(query.env)) {
            Some(dir) => dir,
            None => {
                return Lookup::unknown(
                    "--notify-when changes: no place for the state file (neither XDG_STATE_HOME nor HOME is set): \
                 set --state-dir; this alert goes out as a first failure would"
                        .into(),
                );
            }
        };
    let store = state::Store::new(dir, query.alert_id).for_command(query.command);
    let read = store.read();
    let shared = match (&read, query.command) {
        (Ok(Some(last)), Some(command)) if query.alert_id_given => shared_id(query.alert_id, &last.command, command),
        _ => None,
    };
    let (previous, previous_run_url, mut warnings) = match read {
        Ok(None) => (Previous::Nothing, None, Vec::new()),
        // A failure after a "failing" state stays silent, so that state is trusted only where
        // a success could have replaced it: in a folder that cannot be written, it may be stale.
        Ok(Some(last))
            if query.status == Status::Failure
                && matches!(last.previous(), Previous::Failed { .. })
                && !query.dry_run =>
        {
            match store.check_writable() {
                Ok(()) => (last.previous(), last.run_url().map(str::to_string), Vec::new()),
                Err(problem) => (
                    Previous::Unknown,
                    None,
                    vec![format!(
                        "--notify-when changes: {problem}: the recorded failure may be stale (a success could not \
                         have replaced it), so the history is unknown and this alert goes out as a first failure \
                         would"
                    )],
                ),
            }
        }
        Ok(Some(last)) => (last.previous(), last.run_url().map(str::to_string), Vec::new()),
        Err(problem) => (
            Previous::Unknown,
            None,
            vec![format!(
                "--notify-when changes: {problem}; the history is unknown, so this alert goes out as a first \
                 failure would"
            )],
        ),
    };
    warnings.extend(shared);
    let store = (!query.dry_run).then_some(Keeper::File(store));
    Lookup { previous, previous_run_url, warnings, store }
}

/// The history kept by the service at `--server` (docs/serve-checks.md).
fn from_service(base: &reqwest::Url, token: &str, query: &Query) -> Lookup {
    let unknown = |problem: String| {
        Lookup::unknown(format!(
            "--notify-when changes: {problem}; the history is unknown, so this alert goes out as a first failure would"
        ))
    };
    let remote = match remote::Remote::new(query.env, base, token, query.alert_id, query.command) {
        Ok(remote) => remote,
        Err(problem) => return unknown(problem),
    };
    match remote.read() {
        Ok(last) => {
            let previous = last.as_ref().map_or(Previous::Nothing, state::State::previous);
            let previous_run_url = last.as_ref().and_then(|s| s.run_url()).map(str::to_string);
            let store = (!query.dry_run).then_some(Keeper::Service(remote));
            Lookup { previous, previous_run_url, warnings: Vec::new(), store }
        }
        Err(problem) => unknown(problem),
    }
}

/// The warning for a `--alert-id` that another command recorded last: the two jobs share one
/// incident and one state, so one's failure can stay silent as the other's "still failing".
fn shared_id(alert_id: &str, last: &str, command: &str) -> Option<String> {
    (!last.is_empty() && last != command).then(|| {
        format!(
            "--alert-id {alert_id} was last used by another command ({}): the two share one incident and one \
             state, so a failure of one can stay silent as the other's \"still failing\"; give each job its own \
             --alert-id, or leave it unset (outside GitHub the default includes the command)",
            crate::redact::cut(last, 80)
        )
    })
}

/// Outside GitHub, after the alert went out: records this outcome for the next run. A failure
/// is recorded only when it was `paged` (docs/noise-control.md, "Paged means a person was reached": every call
/// and text reached its person) or the alert was already failing, so a page that did not reach
/// everyone is tried again next time. Returns a warning when the file could not be written; the
/// alert itself is done by then.
pub fn record(lookup: &Lookup, status: Status, paged: bool, run_url: &str) -> Option<String> {
    let store = lookup.store.as_ref()?;
    let already_failing = matches!(lookup.previous, Previous::Failed { .. });
    let outcome = match status {
        Status::Failure if paged || already_failing => state::Outcome::Failure,
        Status::Failure => {
            return Some(
                "--notify-when changes: this failure did not reach everyone it pages, so it is not recorded as \
                 paged: the next failure pages again"
                    .into(),
            );
        }
        Status::Success => state::Outcome::Success,
        Status::Cancelled | Status::Skipped => return None,
    };
    let recorded = match store {
        Keeper::File(file) => file.record(outcome, run_url, SystemTime::now()),
        Keeper::Service(service) => service
            .record(outcome, run_url, SystemTime::now())
            .map_err(|problem| format!("{problem}; the next run reads the state the service had before this one")),
    };
    recorded.err().map(|problem| format!("--notify-when changes: {problem}"))
}
