//! Every fact a run needs before its configuration can be built: where the alert runs (the
//! context), what `--needs` says, the failed jobs from the jobs API, and, under `--notify-when
//! changes`, what the same alert did last time. All of it is learned here, once, before
//! [`crate::config::Config::build`] turns the options and these facts into the one
//! configuration of the run; nothing learned later is folded back into it.

use std::time::SystemTime;

use crate::channels;
use crate::channels::companion::{OpenedPage, Server};
use crate::cli::{AlertArgs, GeneralArgs};
use crate::context::{self, CommandRun, Context, Env};
use crate::details;
use crate::edge::{self, Decision, NotifyWhen, Role};
use crate::error::ConfigError;
use crate::history::{self, Lookup, github};
use crate::needs::{self, NeedsVerdict};
use crate::redact::Redactor;
use crate::status::Status;
use crate::stop::Listener;
use crate::texts::Audience;
use crate::transport::Transport;
use crate::values::non_empty;

/// How long opening the page may take: the alert must not wait on the service.
const PAGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(4);

/// What the run knows before it configures anything. Built by [`Facts::local`] or
/// [`Facts::gather`], and consumed by the one build of the configuration.
pub struct Facts {
    /// Where and when the alert runs, with the command of `onfail run` and the failed jobs.
    pub context: Context,
    /// What `--needs` said about the workflow, when it was given.
    pub needs: Option<NeedsVerdict>,
    /// Found on the way (`--needs`, the jobs API); reported with the result, never fatal.
    pub warnings: Vec<String>,
    /// Under `--notify-when changes`: what the same alert did last time, and where this
    /// outcome is recorded.
    pub history: Option<Lookup>,
    /// Under `--notify-when changes`: the edge, decided from `history`.
    pub decision: Option<Decision>,
    /// With `--server`, the acknowledgeable page a failure opened (docs/serve-senders.md): its
    /// link goes into every SMS of the alert.
    pub page: Option<OpenedPage>,
}

impl Facts {
    /// The facts known without asking anyone: the environment, the options, the command's
    /// result. Enough to validate a configuration (`onfail check`, and `onfail run` before its
    /// command runs).
    pub fn local(
        args: &AlertArgs,
        env: &Env,
        now: SystemTime,
        command: Option<CommandRun>,
    ) -> Result<Facts, ConfigError> {
        let general = &args.general;
        // Sent as `Authorization: Bearer` to the GitHub API (docs/security.md, "Security"): checked before
        // any request carries it.
        if let Some(why) = args.history.token().and_then(crate::values::header_value_error) {
            return Err(ConfigError::new("--github-token", why));
        }
        let (needs, warnings) = needs_verdict(general)?;
        let status = needs.as_ref().map(|v| v.status).or(general.status).unwrap_or(Status::Failure);
        let mut context = Context::detect(env, status, general.check_run_id.as_deref(), now);
        context.command = command;
        if let Some(verdict) = &needs {
            context.failed_jobs.clone_from(&verdict.failed_jobs);
            context.skipped_jobs.clone_from(&verdict.skipped_jobs);
        }
        Ok(Facts { context, needs, warnings, history: None, decision: None, page: None })
    }

    /// Every fact of a send: the local ones, then the failure details from the jobs API and the
    /// history decision, asked through one GitHub client that stops asking once `stop` hears a
    /// stop request.
    pub fn gather(
        args: &AlertArgs,
        env: &Env,
        command: Option<CommandRun>,
        stop: &Listener,
    ) -> Result<Facts, ConfigError> {
        let mut facts = Facts::local(args, env, SystemTime::now(), command)?;
        // A wrong --server is a usage error before anyone is asked anything.
        let server = Server::from_args(&args.channels.shared.companion)?;
        let connect = || github::Api::connect(env, args.history.token()).map(|api| api.stopping_on(stop.flag()));
        let github = facts.wants_details(env).then(connect);
        facts.failure_details(args, env, github.as_ref());
        facts.look_back(args, env, github.as_ref(), stop)?;
        if let Some(server) = server {
            facts.open_page(&server, args, env, stop)?;
        }
        Ok(facts)
    }

    /// With `--server`, the acknowledgeable page of facts built by [`Facts::local`] with their
    /// decision set: how the service's own pages get theirs (docs/serve-checks.md).
    pub fn open_page_at_server(&mut self, args: &AlertArgs, env: &Env, stop: &Listener) -> Result<(), ConfigError> {
        match Server::from_args(&args.channels.shared.companion)? {
            Some(server) => self.open_page(&server, args, env, stop),
            None => Ok(()),
        }
    }

    /// With `--server`, a failure that calls or texts someone opens an acknowledgeable page
    /// (docs/serve-senders.md). The service is optional: if it fails, that is a warning and the
    /// alert goes out without a link.
    fn open_page(&mut self, server: &Server, args: &AlertArgs, env: &Env, stop: &Listener) -> Result<(), ConfigError> {
        let notify_on = args.general.notify_on.clone().unwrap_or_default();
        let fires = |role| edge::skip_reason(self.decision.as_ref(), role, self.status(), &notify_on).is_none();
        let channels = &args.channels;
        let calls = non_empty(&channels.alertalk.alertalk_webhook_key).is_some() && fires(Role::Call);
        let texts = non_empty(&channels.iletimerkezi.iletimerkezi_key).is_some() && fires(Role::Text);
        if args.general.dry_run.unwrap_or(false) || self.status() != Status::Failure || !(calls || texts) {
            return Ok(());
        }
        // Answers are scrubbed of the token; the transport's own warnings show when the alert
        // is delivered (the same environment, the same transport).
        let alert_id = alert_id(args, &self.context)?;
        let mut redactor = Redactor::new();
        channels.shared.companion.register_secrets(&mut redactor);
        let opened = Transport::new(PAGE_TIMEOUT, 0, server.is_https(), env, redactor).map_err(|e| e.message).and_then(
            |transport| {
                let transport = transport.stopping_on(stop.flag());
                let language = args.general.language.unwrap_or_default();
                let title = language.texts(Audience::Screen).title(&self.context);
                server.open_page(&transport, &alert_id, &title, &self.context.run_url).map_err(|why| why.to_string())
            },
        );
        match opened {
            Ok(page) => self.page = Some(page),
            Err(why) => self.warnings.push(format!(
                "--server: no acknowledge link could be opened at onfail serve ({why}); the alert went out without \
                 one (cancelling the run still acknowledges an escalation)"
            )),
        }
        Ok(())
    }

    fn status(&self) -> Status {
        self.context.status
    }

    /// Whether the failure details are read from the jobs API: with `--needs` on a failure, on
    /// GitHub Actions (docs/noise-control.md, "One alert for a whole workflow"). Without `--needs` onfail runs
    /// in the job that failed, and already knows its name and link.
    fn wants_details(&self, env: &Env) -> bool {
        self.needs.is_some() && self.status() == Status::Failure && context::on_github_actions(env)
    }

    /// The failed jobs' names, first failed steps and link from the jobs API, into the context.
    /// A failed lookup is a warning naming the fix, and the alert goes out with what `--needs`
    /// says.
    fn failure_details(&mut self, args: &AlertArgs, env: &Env, github: Option<&Result<github::Api, String>>) {
        let Some(api) = github else { return };
        let own = args.general.check_run_id.as_deref();
        match api.as_ref().map_err(String::clone).and_then(|api| details::failed_jobs(api, env, own)) {
            Ok(jobs) => self.context.add_failed_jobs(&jobs),
            Err(problem) => self.warnings.push(format!(
                "failure details: this run's jobs could not be read, so the alert names the jobs --needs lists: \
                 {problem}"
            )),
        }
    }

    /// Under `--notify-when changes`: learns what the same alert did last time and decides the
    /// edge. Under `always`: no lookup and no cost.
    fn look_back(
        &mut self,
        args: &AlertArgs,
        env: &Env,
        github: Option<&Result<github::Api, String>>,
        stop: &Listener,
    ) -> Result<(), ConfigError> {
        if args.history.notify_when() != NotifyWhen::Changes {
            return Ok(());
        }
        let alert_id = alert_id(args, &self.context)?;
        let server = Server::from_args(&args.channels.shared.companion)?;
        let query = history::Query {
            env,
            status: self.status(),
            alert_id: &alert_id,
            alert_id_given: non_empty(&args.channels.shared.incident.alert_id).is_some(),
            command: self.context.command.as_ref().map(|c| c.command_line.as_str()),
            // With --needs the status is the whole workflow's, so the whole run is compared: the
            // notify job itself passes every time (docs/noise-control.md, "One alert for a whole workflow").
            check_run_id: if self.needs.is_some() { None } else { args.general.check_run_id.as_deref() },
            dry_run: args.general.dry_run.unwrap_or(false),
            github,
            stop: stop.flag(),
            server: server.as_ref().map(|server| server.base_and_token()),
        };
        let lookup = history::look_back(&args.history, &query);
        self.decision = Some(Decision::new(self.status(), &lookup.previous));
        self.history = Some(lookup);
        Ok(())
    }
}

/// The stable alert id (docs/incidents.md, "Incidents (Temperstack)"), exactly as the incident channels
/// send it; the key of the state file outside GitHub. An `--alert-id` that renders empty is an
/// error for an incident channel (raised when it is configured) and the default otherwise.
pub fn alert_id(args: &AlertArgs, context: &Context) -> Result<String, ConfigError> {
    let given = channels::incident::render("--alert-id", &args.channels.shared.incident.alert_id, context)?;
    Ok(given.filter(|id| !id.is_empty()).unwrap_or_else(|| channels::incident::default_alert_id(context)))
}

/// `--needs` and `--allowed-skips` (docs/noise-control.md, "One alert for a whole workflow"): the verdict of the
/// needed jobs, and the warnings found on the way.
fn needs_verdict(general: &GeneralArgs) -> Result<(Option<NeedsVerdict>, Vec<String>), ConfigError> {
    let allowed = non_empty(&general.allowed_skips).map(needs::parse_list).unwrap_or_default();
    let Some(text) = non_empty(&general.needs) else {
        let ignored = (!allowed.is_empty()).then(|| "--allowed-skips has no effect without --needs".to_string());
        return Ok((None, ignored.into_iter().collect()));
    };
    let mut verdict = needs::parse(text).map_err(|e| ConfigError::new("--needs", e))?.verdict(&allowed);
    let warnings = std::mem::take(&mut verdict.warnings);
    Ok((Some(verdict), warnings))
}
