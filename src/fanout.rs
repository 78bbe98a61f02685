//! One page to several channels: each channel that fires delivers on its own thread, so the
//! page takes about as long as the slowest channel; a channel the alert silences is reported as
//! skipped. The plain send and every page of an escalation go out through here, and so does the
//! dry run's plan.

use crate::channels::{Alert, Channel};
use crate::render;
use crate::report::{ChannelReport, ChannelResult};
use crate::transport::Transport;

/// Every channel concurrently; the reports in the order of `channels`.
pub fn deliver_all(channels: &[&dyn Channel], alert: &Alert, transport: &Transport) -> Vec<ChannelReport> {
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            channels.iter().map(|channel| scope.spawn(move || deliver(*channel, alert, transport))).collect();
        handles.into_iter().map(|handle| handle.join().expect("a channel thread panicked")).collect()
    })
}

/// One channel: delivered, or skipped with the reason the alert gives.
pub fn deliver(channel: &dyn Channel, alert: &Alert, transport: &Transport) -> ChannelReport {
    match channel.skip_reason(alert) {
        Some(reason) => ChannelReport::new(channel, ChannelResult::Skipped, reason),
        None => ChannelReport::from_outcome(channel, channel.deliver(transport)),
    }
}

/// `--dry-run`: what one channel would send, or why it would not fire.
pub fn planned(channel: &dyn Channel, alert: &Alert) -> ChannelReport {
    match channel.skip_reason(alert) {
        Some(reason) => ChannelReport::new(channel, ChannelResult::Skipped, reason),
        None => {
            let mut report = ChannelReport::new(channel, ChannelResult::DryRun, String::new());
            report.request = Some(render::shown_request(&channel.request(1), channel.endpoint()));
            report
        }
    }
}
