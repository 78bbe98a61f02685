//! Default titles and alert texts (SPEC §4), rendered from the context. Pure functions.

use crate::context::Context;
use crate::status::Status;

/// What happened, as a verb phrase: "failed", "succeeded", ...
fn outcome(status: Status) -> &'static str {
    match status {
        Status::Failure => "failed",
        Status::Success => "succeeded",
        Status::Cancelled => "was cancelled",
        Status::Skipped => "was skipped",
    }
}

/// "Workflow Deploy", or a plainer name when the workflow is unknown (cron, shell).
fn subject(ctx: &Context) -> String {
    if ctx.workflow.is_empty() {
        if ctx.hostname.is_empty() { "The job".to_string() } else { format!("The job on {}", ctx.hostname) }
    } else {
        format!("Workflow {}", ctx.workflow)
    }
}

/// The short name of the alert: `Deploy failed in acme/api`.
pub fn title(ctx: &Context) -> String {
    let name = if ctx.workflow.is_empty() { "CI job" } else { &ctx.workflow };
    let mut title = format!("{name} {}", outcome(ctx.status));
    if !ctx.repository.is_empty() {
        title.push_str(&format!(" in {}", ctx.repository));
    } else if !ctx.hostname.is_empty() {
        title.push_str(&format!(" on {}", ctx.hostname));
    }
    title
}

/// Speakable text for a phone call: no URL, no commit hash.
/// `CI alert. Workflow Deploy failed in acme/api on branch main.`
pub fn voice(ctx: &Context) -> String {
    let lead = if ctx.status == Status::Failure { "CI alert." } else { "CI notice." };
    let mut text = format!("{lead} {} {}", subject(ctx), outcome(ctx.status));
    if !ctx.repository.is_empty() {
        text.push_str(&format!(" in {}", ctx.repository));
    }
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" on branch {}", ctx.ref_name));
    }
    text.push('.');
    text
}

/// A short SMS that ends with the run URL when there is one.
pub fn sms(ctx: &Context) -> String {
    let mut text = format!("CI {}: {}", ctx.status.as_str().to_uppercase(), title(ctx));
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" ({}", ctx.ref_name));
        if !ctx.sha.is_empty() {
            text.push_str(&format!(" {}", ctx.short_sha()));
        }
        text.push(')');
    }
    let link = if ctx.job_url.is_empty() { &ctx.run_url } else { &ctx.job_url };
    if !link.is_empty() {
        text.push(' ');
        text.push_str(link);
    }
    text
}

/// The long form for incidents and webhooks: every known field, one per line.
pub fn detailed(ctx: &Context) -> String {
    let mut lines = vec![format!("{}.", title(ctx))];
    let fields = [
        ("Repository", &ctx.repository),
        ("Workflow", &ctx.workflow),
        ("Job", &ctx.job),
        ("Ref", &ctx.ref_name),
        ("Commit", &ctx.sha),
        ("Actor", &ctx.actor),
        ("Event", &ctx.event),
        ("Run", &ctx.run_url),
        ("Job URL", &ctx.job_url),
        ("Host", &ctx.hostname),
        ("Time", &ctx.time),
    ];
    for (label, value) in fields {
        let repeats_run_url = label == "Job URL" && ctx.job_url == ctx.run_url;
        if !value.is_empty() && !repeats_run_url {
            lines.push(format!("{label}: {value}"));
        }
    }
    lines.join("\n")
}

/// Cuts `text` to at most `max` characters, on a character boundary. Returns whether it cut.
pub fn truncate_chars(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((byte, _)) => (text[..byte].to_string(), true),
        None => (text.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Env;
    use std::time::SystemTime;

    fn ctx(status: Status) -> Context {
        let env: Env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/api"),
            ("GITHUB_WORKFLOW", "Deploy"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SHA", "a1b2c3d4e5f6"),
            ("GITHUB_RUN_ID", "9"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Context::detect(&env, status, None, SystemTime::now())
    }

    #[test]
    fn voice_text_is_the_speakable_sentence() {
        assert_eq!(voice(&ctx(Status::Failure)), "CI alert. Workflow Deploy failed in acme/api on branch main.");
        let text = voice(&ctx(Status::Failure));
        assert!(!text.contains("http") && !text.contains("a1b2c3d"));
    }

    #[test]
    fn title_and_sms_carry_status_and_link() {
        assert_eq!(title(&ctx(Status::Success)), "Deploy succeeded in acme/api");
        let sms = sms(&ctx(Status::Failure));
        assert!(sms.starts_with("CI FAILURE: Deploy failed in acme/api (main a1b2c3d)"), "{sms}");
        assert!(sms.ends_with("https://github.com/acme/api/actions/runs/9"), "{sms}");
    }

    #[test]
    fn detailed_text_lists_known_fields_only() {
        let text = detailed(&ctx(Status::Failure));
        assert!(text.contains("Commit: a1b2c3d4e5f6") && text.contains("Run: https://"));
        assert!(!text.contains("Event:"));
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("şğüöçı", 3), ("şğü".to_string(), true));
        assert_eq!(truncate_chars("ab", 2), ("ab".to_string(), false));
        assert_eq!(truncate_chars("👍👍", 1), ("👍".to_string(), true));
    }
}
