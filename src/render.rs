//! Pure rendering of reports and requests into text. No I/O here: the caller prints the result
//! through [`crate::output::Output`], which also redacts it.

use crate::needs::NeedsVerdict;
use crate::report::pages::{self, Reach};
use crate::report::{ChannelReport, ChannelResult, RunReport, ShownRequest};
use crate::wire::Request;

/// A request as `--dry-run` shows it: the headers in the order they are sent, secret ones as
/// `***`, the URL as the channel shows it, and the body's exact bytes (the redactor hides the
/// secrets and numbers in it later, string by string, leaving every other byte as sent).
pub fn shown_request(request: &Request, endpoint: String) -> ShownRequest {
    // The HTTP client turns a URL's userinfo into `Authorization: Basic`, first; the transport
    // then sends Content-Type, then the channel's headers in order.
    let mut headers = Vec::new();
    if crate::redact::basic_credential(&request.url).is_some() {
        headers.push(("Authorization".to_string(), crate::redact::REDACTED.to_string()));
    }
    headers.push(("Content-Type".to_string(), "application/json".to_string()));
    for h in &request.headers {
        let value = if h.secret { crate::redact::REDACTED.to_string() } else { h.value.clone() };
        headers.push((h.name.clone(), value));
    }
    let body = String::from_utf8_lossy(&request.body).into_owned();
    ShownRequest { method: "POST", url: endpoint, headers, body }
}

/// What `--needs` decided: `status from --needs: failure (failed jobs: build, test)`.
pub fn needs_line(verdict: &NeedsVerdict) -> String {
    let mut line = format!("status from --needs: {}", verdict.status);
    if !verdict.failed_jobs.is_empty() {
        line.push_str(&format!(" (failed jobs: {})", verdict.failed_jobs.join(", ")));
    } else if !verdict.skipped_jobs.is_empty() {
        line.push_str(&format!(" (skipped, not allowed: {})", verdict.skipped_jobs.join(", ")));
    }
    line
}

fn attempts(n: u32) -> String {
    if n == 1 { "1 attempt".to_string() } else { format!("{n} attempts") }
}

/// The one stderr line per channel (docs/reference.md, "Output").
pub fn channel_line(report: &ChannelReport) -> String {
    let mut line = format!("{} ({})", report.channel, report.provider);
    if let Some(stage) = report.stage {
        line.push_str(&format!(" [{stage}]"));
    }
    if !report.recipients.is_empty() {
        line.push_str(&format!(" → {}", report.recipients.join(", ")));
    }
    let http = report.http_status.map(|s| format!(", HTTP {s}")).unwrap_or_default();
    let detail = if report.detail.is_empty() { String::new() } else { format!(": {}", report.detail) };
    match report.result {
        ChannelResult::Sent => line.push_str(&format!(": sent after {}{http}{detail}", attempts(report.attempts))),
        ChannelResult::Failed => line.push_str(&format!(": FAILED after {}{http}{detail}", attempts(report.attempts))),
        ChannelResult::Skipped => line.push_str(&format!(": skipped{detail}")),
        ChannelResult::DryRun => line.push_str(&format!(": dry run, nothing sent{detail}")),
    }
    if !report.ids.delivery_states.is_empty() {
        let states: Vec<String> =
            report.ids.delivery_states.iter().map(|s| format!("{} {}", s.recipient, s.state)).collect();
        line.push_str(&format!(" [{}]", states.join(", ")));
    }
    line
}

/// The dry-run block for one channel: method, URL, headers and body as they would be sent.
pub fn dry_run_block(report: &ChannelReport) -> String {
    let Some(request) = &report.request else {
        return String::new();
    };
    let mut text = format!("--- {} ({}) ---\n{} {}\n", report.channel, report.provider, request.method, request.url);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    // The body exactly as sent, not re-indented; the newline after it is the block's own.
    text.push_str(&format!("\n{}\n", request.body));
    text
}

/// The `--output json` document (docs/reference.md, "Output").
pub fn json(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).expect("the report holds only serialisable data") + "\n"
}

/// Under `--notify-when changes`: the edge, and the run it was measured against.
pub fn edge_line(report: &RunReport) -> Option<String> {
    let edge = report.edge?;
    Some(match &report.previous_run_url {
        Some(url) => format!("edge: {edge} (previous run: {url})"),
        None => format!("edge: {edge}"),
    })
}

/// Who was reached (docs/noise-control.md, "Paged means a person was reached"): each number with the channels
/// that reached it, or what did not reach its person. `None` when no call or text went out, and
/// for anything but a failure (a "recovered" text is not a page).
pub fn paged_line(report: &RunReport) -> Option<String> {
    if report.pages.is_empty() || report.paged.is_none() {
        return None;
    }
    let unreached = pages::unreached(&report.pages);
    if !unreached.is_empty() && report.paged != Some(true) {
        return Some(format!("NOT paged: not reached: {}", pages::describe(&unreached)));
    }
    let mut who: Vec<(String, Vec<&str>)> = Vec::new();
    for record in report.pages.iter().filter(|r| r.result == Reach::Delivered) {
        let masked = record.masked();
        match who.iter_mut().find(|(m, _)| *m == masked) {
            Some((_, channels)) if channels.contains(&record.channel) => {}
            Some((_, channels)) => channels.push(record.channel),
            None => who.push((masked, vec![record.channel])),
        }
    }
    let who: Vec<String> = who.into_iter().map(|(m, channels)| format!("{m} ({})", channels.join(", "))).collect();
    Some(format!("paged: {}", who.join(", ")))
}

/// The closing line on stderr.
pub fn summary_line(report: &RunReport) -> String {
    let sent = report.names(ChannelResult::Sent);
    let failed = report.names(ChannelResult::Failed);
    let mut line = format!("result: {}", report.result.as_str());
    if !sent.is_empty() {
        line.push_str(&format!(" (sent: {sent})"));
    }
    if !failed.is_empty() {
        line.push_str(&format!(" (failed: {failed})"));
    }
    match report.escalation.as_ref().filter(|e| e.acknowledged) {
        Some(e) if e.acknowledged_by == Some("link") => line.push_str(&format!(
            " (acknowledged by the link in the SMS at {}, so the escalation stopped)",
            e.acknowledged_at.as_deref().unwrap_or("an unknown time")
        )),
        Some(_) => line.push_str(" (acknowledged: the run was cancelled, so the escalation stopped)"),
        None => {}
    }
    if report.superseded() {
        line.push_str(" (superseded: a newer run of this workflow and branch cancelled this one)");
    }
    line.push_str(&format!(" in {} ms", report.duration_ms));
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Header, Ids};

    fn report(result: ChannelResult) -> ChannelReport {
        ChannelReport {
            channel: "voice",
            provider: "alertalk",
            result,
            attempts: 2,
            http_status: Some(200),
            detail: "1 call(s) queued".into(),
            recipients: vec!["5*******67".into()],
            ids: Ids::default(),
            warnings: vec![],
            request: None,
            stage: None,
        }
    }

    #[test]
    fn lines_name_channel_recipients_result_and_attempts() {
        assert_eq!(
            channel_line(&report(ChannelResult::Sent)),
            "voice (alertalk) → 5*******67: sent after 2 attempts, HTTP 200: 1 call(s) queued"
        );
        let mut failed = report(ChannelResult::Failed);
        failed.attempts = 1;
        failed.http_status = None;
        failed.detail = "could not connect".into();
        assert_eq!(channel_line(&failed), "voice (alertalk) → 5*******67: FAILED after 1 attempt: could not connect");
    }

    #[test]
    fn dry_run_hides_secret_headers_and_shows_the_exact_body() {
        let body = br#"{"z": 1.50, "a":"b" ,"n":1e2}"#;
        let request = Request {
            url: "https://x.test/a".parse().unwrap(),
            headers: vec![Header::secret("X-Webhook-Key", "k-123456"), Header::public("X-Trace", "t")],
            body: body.to_vec(),
            repeat_safe: true,
        };
        let mut r = report(ChannelResult::DryRun);
        r.request = Some(shown_request(&request, "https://x.test/a".into()));
        let text = dry_run_block(&r);
        assert!(text.contains("POST https://x.test/a\n"));
        assert!(text.contains("Content-Type: application/json\nX-Webhook-Key: ***\nX-Trace: t\n"), "{text}");
        assert!(text.ends_with(&format!("\n\n{}\n", String::from_utf8_lossy(body))) && !text.contains("k-123456"));
    }
}
