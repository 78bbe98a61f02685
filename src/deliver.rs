//! The delivery step of a send: the built configuration goes out to every channel that fires
//! (concurrently), through the escalation when one applies (docs/escalation.md, "Escalation"), or as a dry
//! run's plan. It prints only the escalation's own lines and what in the environment the
//! transport could not use; the report is the caller's.

use crate::channels::Channel;
use crate::config::Config;
use crate::context::Env;
use crate::error::ConfigError;
use crate::escalation;
use crate::escalation::acknowledge::PageWatch;
use crate::fanout;
use crate::output::Output;
use crate::report::{ChannelReport, EscalationReport};
use crate::stop::Listener;
use crate::transport::Transport;

/// What went out: each channel's report, and the escalation's when it drove the send.
pub struct Delivered {
    pub channels: Vec<ChannelReport>,
    pub escalation: Option<EscalationReport>,
}

/// Sends `config`'s alert; `stop` stops every further request once it hears a stop request.
pub fn deliver(config: &Config, env: &Env, out: &Output, stop: &Listener) -> Result<Delivered, ConfigError> {
    let channels: Vec<&dyn Channel> = config.channels.iter().map(|c| c.as_ref()).collect();
    let alert = &config.alert;
    let dry_run = config.settings.dry_run;
    let Some(escalation) = config.escalation.as_ref().filter(|e| e.applies(alert)) else {
        let channels = match dry_run {
            true => channels.iter().map(|channel| fanout::planned(*channel, alert)).collect(),
            false => fanout::deliver_all(&channels, alert, &transport(config, env, out)?.stopping_on(stop.flag())),
        };
        return Ok(Delivered { channels, escalation: None });
    };
    // The escalation drives voice and SMS; the other channels go out with its first page.
    let others: Vec<&dyn Channel> = channels.into_iter().filter(|c| !escalation::drives(*c)).collect();
    out.line(&escalation.describe());
    let (channels, report) = if dry_run {
        escalation::dry_run(escalation, &others, alert)
    } else {
        let transport = transport(config, env, out)?.stopping_on(stop.flag());
        // With `--server`, the link in the SMS acknowledges as a cancel does (docs/serve-senders.md).
        let watch = config.server.as_ref().zip(config.page.as_ref());
        let watch = watch.map(|(server, page)| PageWatch::start(server, page, &transport, stop));
        let (channels, mut report) =
            escalation::run(escalation, &others, alert, &transport, config.settings.timeout, out, stop);
        if let Some(found) = watch.map(PageWatch::finish) {
            found.warning.iter().for_each(|w| out.warning(w));
            if found.acknowledged_at.is_some() && stop.given() {
                report.acknowledged_by = Some("link");
                report.acknowledged_at = found.acknowledged_at;
            }
        }
        (channels, report)
    };
    Ok(Delivered { channels, escalation: Some(report) })
}

/// The HTTP transport for this configuration; provider answers are scrubbed of its secrets.
pub fn transport(config: &Config, env: &Env, out: &Output) -> Result<Transport, ConfigError> {
    let settings = &config.settings;
    let transport =
        Transport::new(settings.timeout, settings.retries, config.needs_tls(), env, out.redactor().secrets_only())
            .map_err(|e| ConfigError::new(e.what, e.message))?;
    transport.warnings().iter().for_each(|w| out.warning(w));
    Ok(transport)
}
