//! Default titles and alert texts (README, "Placeholders"), rendered from the context. Pure functions.

use crate::context::{Context, Source};
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

/// The short name of the alert: `Deploy failed in acme/api`, `backup.sh failed on db-1`.
pub fn title(ctx: &Context) -> String {
    let name = match &ctx.command {
        _ if !ctx.workflow.is_empty() => ctx.workflow.as_str(),
        Some(command) => command.program.as_str(),
        None => "CI job",
    };
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
    let lead = match (ctx.source, ctx.status) {
        (Source::Host, Status::Failure) => "Alert.",
        (Source::Host, _) => "Notice.",
        (_, Status::Failure) => "CI alert.",
        _ => "CI notice.",
    };
    let mut text = match &ctx.command {
        Some(command) => {
            let mut text = format!("{lead} Command {} {}", command.program, outcome(ctx.status));
            if !ctx.workflow.is_empty() {
                text.push_str(&format!(" in workflow {}", ctx.workflow));
            } else if ctx.repository.is_empty() && !ctx.hostname.is_empty() {
                text.push_str(&format!(" on host {}", ctx.hostname));
            }
            text
        }
        None => format!("{lead} {} {}", subject(ctx), outcome(ctx.status)),
    };
    if !ctx.repository.is_empty() {
        text.push_str(&format!(" in {}", ctx.repository));
    }
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" on branch {}", ctx.ref_name));
    }
    if let Some(command) = ctx.command.as_ref().filter(|_| ctx.status != Status::Success) {
        text.push_str(&format!(": it {}", command.outcome));
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
    if let Some(command) = ctx.command.as_ref().filter(|_| ctx.status != Status::Success) {
        text.push_str(&format!(": {} {}.", command.program, command.outcome));
    }
    let link = if ctx.job_url.is_empty() { &ctx.run_url } else { &ctx.job_url };
    if !link.is_empty() {
        text.push(' ');
        text.push_str(link);
    }
    text
}

/// The short "recovered" notice for SMS and webhook (README, "Page once per incident"):
/// `CI RECOVERED: Deploy in acme/api (main a1b2c3d) passes again after failing since run #41. URL`
pub fn recovered(ctx: &Context, since: Option<&str>) -> String {
    let name = match &ctx.command {
        _ if !ctx.workflow.is_empty() => ctx.workflow.as_str(),
        Some(command) => command.program.as_str(),
        None => "CI job",
    };
    let mut text = format!("CI RECOVERED: {name}");
    if !ctx.repository.is_empty() {
        text.push_str(&format!(" in {}", ctx.repository));
    } else if !ctx.hostname.is_empty() {
        text.push_str(&format!(" on {}", ctx.hostname));
    }
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" ({}", ctx.ref_name));
        if !ctx.sha.is_empty() {
            text.push_str(&format!(" {}", ctx.short_sha()));
        }
        text.push(')');
    }
    text.push_str(" passes again");
    if let Some(since) = since {
        text.push_str(&format!(" after failing since {since}"));
    }
    text.push('.');
    let link = if ctx.job_url.is_empty() { &ctx.run_url } else { &ctx.job_url };
    if !link.is_empty() {
        text.push(' ');
        text.push_str(link);
    }
    text
}

/// The Turkish "recovered" notice: `CI DÜZELDİ: acme/api deposunda Deploy iş akışı main dalında
/// yeniden başarılı (run #41 sonrasından beri başarısızdı). URL`. Suffixes sit on fixed words.
pub fn recovered_tr(ctx: &Context, since: Option<&str>) -> String {
    let mut text = "CI DÜZELDİ:".to_string();
    if !ctx.repository.is_empty() {
        text.push_str(&format!(" {} deposunda", ctx.repository));
    } else if !ctx.hostname.is_empty() {
        text.push_str(&format!(" {} sunucusunda", ctx.hostname));
    }
    match &ctx.command {
        _ if !ctx.workflow.is_empty() => text.push_str(&format!(" {} iş akışı", ctx.workflow)),
        Some(command) => text.push_str(&format!(" {} komutu", command.program)),
        None => text.push_str(" CI işi"),
    }
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" {} dalında", ctx.ref_name));
    }
    text.push_str(" yeniden başarılı");
    if let Some(since) = since {
        text.push_str(&format!(" (başarısızlık başlangıcı: {since})"));
    }
    text.push('.');
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
    if let Some(command) = &ctx.command {
        lines.push(format!("Command: {}", command.command_line));
        lines.push(format!("Result: {}", command.outcome));
        if !command.tail.is_empty() {
            lines.push(format!("\nLast {} lines of output:", command.tail.len()));
            lines.extend(command.tail.iter().cloned());
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Env;
    use std::time::SystemTime;

    fn ctx(status: Status) -> Context {
        crate::context::github_fixture(status, SystemTime::now())
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
    fn recovered_texts_are_short_and_end_with_the_link() {
        let ctx = ctx(Status::Success);
        assert_eq!(
            recovered(&ctx, Some("run #41")),
            "CI RECOVERED: Deploy in acme/api (main a1b2c3d) passes again after failing since run #41. \
             https://github.com/acme/api/actions/runs/9"
        );
        assert_eq!(
            recovered_tr(&ctx, None),
            "CI DÜZELDİ: acme/api deposunda Deploy iş akışı main dalında yeniden başarılı. \
             https://github.com/acme/api/actions/runs/9"
        );
        assert_eq!(recovered(&host_command(Status::Success), None), "CI RECOVERED: backup.sh on db-1 passes again.");
    }

    #[test]
    fn detailed_text_lists_known_fields_only() {
        let text = detailed(&ctx(Status::Failure));
        assert!(text.contains("Commit: a1b2c3d4e5f6") && text.contains("Run: https://"));
        assert!(!text.contains("Event:"));
    }

    fn host_command(status: Status) -> Context {
        let env: Env = [("HOSTNAME", "db-1")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut ctx = Context::detect(&env, status, None, SystemTime::now());
        ctx.command = Some(crate::context::CommandRun {
            program: "backup.sh".into(),
            command_line: "/opt/backup.sh --full https://x.example/y".into(),
            outcome: "exited with code 3".into(),
            tail: vec!["copying".into(), "error: disk full".into()],
        });
        ctx
    }

    #[test]
    fn command_texts_name_the_command_and_its_end() {
        let ctx = host_command(Status::Failure);
        assert_eq!(title(&ctx), "backup.sh failed on db-1");
        assert_eq!(voice(&ctx), "Alert. Command backup.sh failed on host db-1: it exited with code 3.");
        assert_eq!(sms(&ctx), "CI FAILURE: backup.sh failed on db-1: backup.sh exited with code 3.");
        let long = detailed(&ctx);
        assert!(long.contains("Command: /opt/backup.sh --full https://x.example/y\nResult: exited with code 3"));
        assert!(long.ends_with("Last 2 lines of output:\ncopying\nerror: disk full"), "{long}");
        assert_eq!(voice(&host_command(Status::Success)), "Notice. Command backup.sh succeeded on host db-1.");
    }
}
