//! `onfail run --check NAME` (docs/serve-checks.md): pings the check of an `onfail serve` when
//! the command starts and with its exit code when it ends, so the service pages when the job
//! never runs or never ends. The service is optional: a ping that fails is a warning, never a
//! reason to delay the command or its alert.

use std::time::Duration;

use crate::channels::companion::Server;
use crate::cli::RunArgs;
use crate::context::Env;
use crate::error::ConfigError;
use crate::output::Output;
use crate::transport::Transport;
use crate::values::non_empty;

/// A ping never holds the command up longer than this.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Heartbeat {
    server: Server,
    check: String,
    transport: Transport,
}

impl Heartbeat {
    /// `None` without `--check`; an error naming the option when `--check` cannot work.
    pub fn configure(args: &RunArgs, env: &Env, out: &Output) -> Result<Option<Heartbeat>, ConfigError> {
        let Some(check) = non_empty(&args.check).map(str::trim) else { return Ok(None) };
        if check.is_empty()
            || check.len() > 64
            || !check.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ConfigError::new(
                "--check",
                "must be the name of a check of the service (lower-case letters, digits and -)",
            ));
        }
        let server = Server::from_args(&args.alert.channels.shared.companion)?.ok_or_else(|| {
            ConfigError::new(
                "--check",
                "needs --server and --server-token (the onfail serve that has this check in its --config)",
            )
        })?;
        let transport = Transport::new(PING_TIMEOUT, 0, server.is_https(), env, out.redactor().secrets_only())
            .map_err(|e| ConfigError::new(e.what, e.message))?;
        Ok(Some(Heartbeat { server, check: check.to_string(), transport }))
    }

    pub fn started(&self, out: &Output) {
        self.ping("start", out);
    }

    pub fn ended(&self, exit_code: u8, out: &Output) {
        self.ping(&exit_code.to_string(), out);
    }

    fn ping(&self, what: &str, out: &Output) {
        let transport = self.transport.renewed(PING_TIMEOUT);
        if let Err(why) = self.server.ping(&transport, &self.check, what) {
            out.warning(&format!(
                "--check {}: the service did not take the {what} ping ({why}); the command and its alert go on",
                self.check
            ));
        }
    }
}
