//! With `--server`, a failure page is an acknowledgeable page at `onfail serve`
//! (docs/serve-senders.md): it is opened before anything is sent, and every SMS of the alert
//! carries its link. Opening it is optional: if it fails, that is a warning and the alert goes
//! out without a link.

use crate::channels::companion::OpenedPage;
use crate::channels::{self, Alert};
use crate::cli::AlertArgs;
use crate::config::Config;
use crate::context::Env;
use crate::error::ConfigError;
use crate::escalation::{self, Escalation};
use crate::output::Output;
use crate::status::Status;

/// Opens the page when this alert pages phones, and configures the channels again around its
/// link; `None` when there is no server, nothing to acknowledge, or the service failed.
pub(super) fn open(
    config: &mut Config,
    args: &AlertArgs,
    env: &Env,
    out: &Output,
) -> Result<Option<OpenedPage>, ConfigError> {
    let Some(server) = config.server.clone() else { return Ok(None) };
    if config.settings.dry_run || !pages_phones(config) {
        return Ok(None);
    }
    let transport = super::transport(config, env, out)?;
    let alert = &config.alert;
    let alert_id = channels::incident::default_alert_id(&alert.context);
    let page = match server.open_page(&transport, &alert_id, &alert.title, &alert.context.run_url) {
        Ok(page) => page,
        Err(why) => {
            config.warnings.push(format!(
                "--server: no acknowledge link could be opened at onfail serve ({why}); the alert went out without \
                 one (cancelling the run still acknowledges an escalation)"
            ));
            return Ok(None);
        }
    };
    config.alert.ack_url = Some(page.ack_url.clone());
    config.channels = args.channels.configure(&config.alert)?;
    let any_channel = !config.channels.is_empty();
    config.escalation = Escalation::configure(&args.escalation, &args.channels, &config.alert, any_channel)?;
    Ok(Some(page))
}

/// Whether this is a failure that calls or texts someone.
fn pages_phones(config: &Config) -> bool {
    let alert: &Alert = &config.alert;
    alert.status() == Status::Failure
        && config.channels.iter().any(|c| escalation::drives(c.as_ref()) && c.skip_reason(alert).is_none())
}
