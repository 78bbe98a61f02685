//! The English texts (README, "Language"): the ones onfail always had, with speakable names in
//! the voice text and the failed jobs when they are known.

use super::{JobsNamed, Spoken, Texts, clip, end_sentence, job_list, linked_step, named_jobs, with_link};
use crate::context::{CommandRun, Context, Source};
use crate::runner::Ended;
use crate::status::Status;

pub struct English;

/// What happened, as a verb phrase: "failed", "succeeded", ...
fn outcome(status: Status) -> &'static str {
    match status {
        Status::Failure => "failed",
        Status::Success => "succeeded",
        Status::Cancelled => "was cancelled",
        Status::Skipped => "was skipped",
    }
}

/// How the wrapped command ended, when that is news (not on success).
fn ended(ctx: &Context) -> Option<&CommandRun> {
    ctx.command.as_ref().filter(|_| ctx.status != Status::Success)
}

/// What the [named jobs](named_jobs) are, for one job or more.
fn jobs_label(kind: JobsNamed, one: bool) -> &'static str {
    match (kind, one) {
        (JobsNamed::Failed, true) => "Failed job",
        (JobsNamed::Failed, false) => "Failed jobs",
        (JobsNamed::Skipped, true) => "Skipped job",
        (JobsNamed::Skipped, false) => "Skipped jobs",
    }
}

/// "Failed jobs: build, test" / "Failed job: build" / "Skipped job: deploy".
fn jobs_note(kind: JobsNamed, jobs: &[String]) -> String {
    format!("{}: {}", jobs_label(kind, jobs.len() == 1), job_list(jobs, |n| format!(" and {n} more")))
}

/// The alert and the link last, with `note` (if any) just before the link.
fn sms_with(ctx: &Context, note: Option<&str>) -> String {
    let mut text = format!("CI {}: {}", ctx.status.as_str().to_uppercase(), short_title(ctx, clip));
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" ({}", clip(&ctx.ref_name)));
        if !ctx.sha.is_empty() {
            text.push_str(&format!(" {}", ctx.short_sha()));
        }
        text.push(')');
    }
    if let Some(command) = ended(ctx) {
        let how = match &command.ended {
            Ended::NotStarted { reason, .. } => format!("could not be started: {}", clip(reason)),
            other => other.describe(),
        };
        text.push_str(&format!(": {} {how}.", clip(&command.program)));
    }
    if let Some((kind, jobs)) = named_jobs(ctx) {
        end_sentence(&mut text);
        text.push_str(&format!(" {}.", jobs_note(kind, &jobs.iter().map(|j| clip(j)).collect::<Vec<_>>())));
    }
    if let Some(step) = linked_step(ctx) {
        text.push_str(&format!(" Failed step: {step}."));
    }
    if let Some(note) = note {
        end_sentence(&mut text);
        text.push_str(&format!(" {note}"));
    }
    with_link(text, ctx)
}

/// `Deploy failed in acme/api`, `backup.sh failed on db-1`, each name passed through `name`.
fn short_title(ctx: &Context, name: fn(&str) -> String) -> String {
    let subject = match &ctx.command {
        _ if !ctx.workflow.is_empty() => name(&ctx.workflow),
        Some(command) => name(&command.program),
        None => "CI job".to_string(),
    };
    let mut title = format!("{subject} {}", outcome(ctx.status));
    if !ctx.repository.is_empty() {
        title.push_str(&format!(" in {}", name(&ctx.repository)));
    } else if !ctx.hostname.is_empty() {
        title.push_str(&format!(" on {}", name(&ctx.hostname)));
    }
    title
}

impl Texts for English {
    fn title(&self, ctx: &Context) -> String {
        short_title(ctx, str::to_string)
    }

    /// `CI alert. Workflow Deploy failed in acme payments api on branch main.`
    fn voice(&self, ctx: &Context) -> String {
        let said = Spoken::of(ctx);
        let lead = match (ctx.source, ctx.status) {
            (Source::Host, Status::Failure) => "Alert.",
            (Source::Host, _) => "Notice.",
            (_, Status::Failure) => "CI alert.",
            _ => "CI notice.",
        };
        let mut text = if !said.program.is_empty() {
            let mut text = format!("{lead} Command {} {}", said.program, outcome(ctx.status));
            if !said.workflow.is_empty() {
                text.push_str(&format!(" in workflow {}", said.workflow));
            } else if said.repository.is_empty() && !said.hostname.is_empty() {
                text.push_str(&format!(" on host {}", said.hostname));
            }
            text
        } else if !said.workflow.is_empty() {
            format!("{lead} Workflow {} {}", said.workflow, outcome(ctx.status))
        } else if !said.hostname.is_empty() {
            format!("{lead} The job on {} {}", said.hostname, outcome(ctx.status))
        } else {
            format!("{lead} The job {}", outcome(ctx.status))
        };
        if !said.repository.is_empty() {
            text.push_str(&format!(" in {}", said.repository));
        }
        if !said.ref_name.is_empty() {
            text.push_str(&format!(" on branch {}", said.ref_name));
        }
        if let Some(command) = ended(ctx) {
            // The reason a command could not start names paths: not for the ear.
            let how = match &command.ended {
                Ended::NotStarted { .. } => "could not be started".to_string(),
                other => other.describe(),
            };
            text.push_str(&format!(": it {how}"));
        }
        text.push('.');
        if let Some((kind, jobs)) = &said.jobs {
            text.push_str(&format!(" {}.", jobs_note(*kind, jobs)));
        }
        text
    }

    fn sms(&self, ctx: &Context) -> String {
        sms_with(ctx, None)
    }

    fn detailed(&self, ctx: &Context) -> String {
        let mut lines = vec![format!("{}.", self.title(ctx))];
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
        if let Some((kind, jobs)) = named_jobs(ctx) {
            lines.push(format!("{}: {}", jobs_label(kind, false), jobs.join(", ")));
        }
        lines.extend(ctx.failed_steps.iter().map(|failed| format!("Failed step ({}): {}", failed.job, failed.step)));
        if let Some(command) = &ctx.command {
            lines.push(format!("Command: {}", command.command_line));
            lines.push(format!("Result: {}", command.ended.describe()));
            if !command.tail.is_empty() {
                lines.push(format!("\nLast {} lines of output:", command.tail.len()));
                lines.extend(command.tail.iter().cloned());
            }
        }
        lines.join("\n")
    }

    /// `CI RECOVERED: Deploy (acme/api, main) is passing again. https://...`
    fn recovered(&self, ctx: &Context) -> String {
        let subject = match &ctx.command {
            _ if !ctx.workflow.is_empty() => clip(&ctx.workflow),
            Some(command) => clip(&command.program),
            None => "CI job".to_string(),
        };
        let place: Vec<String> = [&ctx.repository, &ctx.ref_name]
            .into_iter()
            .filter(|value| !value.is_empty())
            .map(|value| clip(value))
            .collect();
        let place = match place.is_empty() {
            true if !ctx.hostname.is_empty() => format!(" (on {})", clip(&ctx.hostname)),
            true => String::new(),
            false => format!(" ({})", place.join(", ")),
        };
        let text = format!("CI RECOVERED: {subject}{place} is passing again.");
        with_link(text, ctx)
    }

    fn escalation_sms(&self, ctx: &Context) -> String {
        sms_with(ctx, Some("To acknowledge, open the run and press Cancel workflow."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::FailedStep;
    use crate::texts::fixtures::{self, github, gitlab, host, jenkins};

    fn all(status: Status) -> [Context; 4] {
        [github(status), gitlab(status), jenkins(status), host(status)]
    }

    #[test]
    fn voice_texts_for_every_status_and_context() {
        let expected = [
            (
                Status::Failure,
                [
                    "CI alert. Workflow Deploy failed in acme payments api on branch main.",
                    "CI alert. The job on runner 7 failed in group web app on branch release 2.1.",
                    "CI alert. Workflow nightly build failed on branch main.",
                    "Alert. The job on db 1 failed.",
                ],
            ),
            (
                Status::Success,
                [
                    "CI notice. Workflow Deploy succeeded in acme payments api on branch main.",
                    "CI notice. The job on runner 7 succeeded in group web app on branch release 2.1.",
                    "CI notice. Workflow nightly build succeeded on branch main.",
                    "Notice. The job on db 1 succeeded.",
                ],
            ),
            (
                Status::Cancelled,
                [
                    "CI notice. Workflow Deploy was cancelled in acme payments api on branch main.",
                    "CI notice. The job on runner 7 was cancelled in group web app on branch release 2.1.",
                    "CI notice. Workflow nightly build was cancelled on branch main.",
                    "Notice. The job on db 1 was cancelled.",
                ],
            ),
            (
                Status::Skipped,
                [
                    "CI notice. Workflow Deploy was skipped in acme payments api on branch main.",
                    "CI notice. The job on runner 7 was skipped in group web app on branch release 2.1.",
                    "CI notice. Workflow nightly build was skipped on branch main.",
                    "Notice. The job on db 1 was skipped.",
                ],
            ),
        ];
        for (status, texts) in expected {
            let got: Vec<String> = all(status).iter().map(|ctx| English.voice(ctx)).collect();
            assert_eq!(got, texts, "{status}");
        }
    }

    #[test]
    fn titles_and_sms_for_every_status() {
        let cases = [
            (Status::Failure, "Deploy failed in acme/payments-api", "CI FAILURE"),
            (Status::Success, "Deploy succeeded in acme/payments-api", "CI SUCCESS"),
            (Status::Cancelled, "Deploy was cancelled in acme/payments-api", "CI CANCELLED"),
            (Status::Skipped, "Deploy was skipped in acme/payments-api", "CI SKIPPED"),
        ];
        for (status, title, lead) in cases {
            let ctx = github(status);
            assert_eq!(English.title(&ctx), title);
            assert_eq!(
                English.sms(&ctx),
                format!("{lead}: {title} (main a1b2c3d) https://github.com/acme/payments-api/actions/runs/9")
            );
        }
        assert_eq!(English.title(&jenkins(Status::Failure)), "nightly-build failed on agent-2");
        assert_eq!(
            English.sms(&gitlab(Status::Failure)),
            "CI FAILURE: CI job failed in group/web_app (release/2.1 abcdef0) https://gitlab.example.com/group/web_app/-/jobs/5"
        );
        assert_eq!(English.sms(&host(Status::Failure)), "CI FAILURE: CI job failed on db-1");
    }

    #[test]
    fn command_texts_name_the_command_and_its_end() {
        let ctx = fixtures::host_command(Status::Failure, Ended::Exited(3));
        assert_eq!(English.title(&ctx), "backup.sh failed on db-1");
        assert_eq!(English.voice(&ctx), "Alert. Command backup.sh failed on host db 1: it exited with code 3.");
        assert_eq!(English.sms(&ctx), "CI FAILURE: backup.sh failed on db-1: backup.sh exited with code 3.");
        let long = English.detailed(&ctx);
        assert!(long.contains("Command: /opt/backup.sh --full https://x.example/y\nResult: exited with code 3"));
        assert!(long.ends_with("Last 2 lines of output:\ncopying\nerror: disk full"), "{long}");
        let ok = fixtures::host_command(Status::Success, Ended::Exited(0));
        assert_eq!(English.voice(&ok), "Notice. Command backup.sh succeeded on host db 1.");

        let killed = fixtures::host_command(Status::Cancelled, Ended::Signalled(15));
        assert_eq!(
            English.voice(&killed),
            "Notice. Command backup.sh was cancelled on host db 1: it was killed by signal 15 (SIGTERM)."
        );
        let missing = fixtures::host_command(
            Status::Failure,
            Ended::NotStarted { reason: "/opt/backup.sh: not found".into(), found: false },
        );
        assert_eq!(English.voice(&missing), "Alert. Command backup.sh failed on host db 1: it could not be started.");
        assert!(English.sms(&missing).ends_with("backup.sh could not be started: /opt/backup.sh: not found."));

        let ci = fixtures::github_command(Status::Failure, Ended::Exited(2));
        assert_eq!(
            English.voice(&ci),
            "CI alert. Command make failed in workflow Deploy in acme payments api on branch main: it exited with code 2."
        );
    }

    #[test]
    fn failed_jobs_are_named_everywhere() {
        let mut ctx = github(Status::Failure);
        ctx.failed_jobs = vec!["build".into(), "test (ubuntu-latest)".into()];
        assert_eq!(
            English.voice(&ctx),
            "CI alert. Workflow Deploy failed in acme payments api on branch main. Failed jobs: build, test (ubuntu latest)."
        );
        assert!(English.sms(&ctx).contains("(main a1b2c3d). Failed jobs: build, test (ubuntu-latest). https://"));
        assert!(English.detailed(&ctx).ends_with("\nFailed jobs: build, test (ubuntu-latest)"));
        ctx.failed_jobs.truncate(1);
        assert!(English.voice(&ctx).ends_with(" Failed job: build."));
    }

    #[test]
    fn the_first_failed_step_goes_into_the_sms_and_every_step_into_the_long_text() {
        let mut ctx = github(Status::Failure);
        ctx.failed_jobs = vec!["test (ubuntu-latest, 1.24)".into(), "lint".into()];
        ctx.failed_steps = vec![
            FailedStep { job: "test (ubuntu-latest, 1.24)".into(), step: "Run tests".into() },
            FailedStep { job: "lint".into(), step: "clippy".into() },
        ];
        ctx.job_url = "https://github.com/acme/payments-api/actions/runs/9/job/5".into();
        assert_eq!(
            English.sms(&ctx),
            "CI FAILURE: Deploy failed in acme/payments-api (main a1b2c3d). Failed jobs: test (ubuntu-latest, 1.24), \
             lint. Failed step: Run tests. https://github.com/acme/payments-api/actions/runs/9/job/5"
        );
        assert!(
            English.detailed(&ctx).ends_with(
                "\nFailed jobs: test (ubuntu-latest, 1.24), lint\nFailed step (test (ubuntu-latest, 1.24)): Run tests\n\
                 Failed step (lint): clippy"
            ),
            "{}",
            English.detailed(&ctx)
        );
        // The voice names the jobs, never a step.
        assert!(!English.voice(&ctx).contains("Run tests"), "{}", English.voice(&ctx));
        // A step of another job than the one the link opens stays out of the SMS.
        ctx.failed_steps.remove(0);
        assert!(!English.sms(&ctx).contains("Failed step"), "{}", English.sms(&ctx));
    }

    #[test]
    fn skipped_jobs_are_named_when_no_job_failed() {
        let mut ctx = github(Status::Failure);
        ctx.skipped_jobs = vec!["deploy".into()];
        assert_eq!(
            English.voice(&ctx),
            "CI alert. Workflow Deploy failed in acme payments api on branch main. Skipped job: deploy."
        );
        assert_eq!(
            English.sms(&ctx),
            "CI FAILURE: Deploy failed in acme/payments-api (main a1b2c3d). Skipped job: deploy. \
             https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(English.detailed(&ctx).ends_with("\nSkipped jobs: deploy"), "{}", English.detailed(&ctx));
        ctx.skipped_jobs.push("docs-site".into());
        assert!(English.voice(&ctx).ends_with(" Skipped jobs: deploy, docs site."), "{}", English.voice(&ctx));
        // A failed job outranks a skip: only the failed jobs are named.
        ctx.failed_jobs = vec!["build".into()];
        let texts = [English.voice(&ctx), English.sms(&ctx), English.detailed(&ctx)];
        assert!(texts.iter().all(|t| t.contains("Failed job") && !t.contains("Skipped")), "{texts:?}");
    }

    #[test]
    fn detailed_text_lists_known_fields_only() {
        let text = English.detailed(&github(Status::Failure));
        assert!(text.starts_with("Deploy failed in acme/payments-api.\nRepository: acme/payments-api\n"), "{text}");
        assert!(text.contains("Commit: a1b2c3d4e5f6") && text.contains("Run: https://"));
        assert!(!text.contains("Event:") && !text.contains("Job URL:"));
    }

    #[test]
    fn recovery_and_escalation_texts() {
        let ctx = github(Status::Success);
        assert_eq!(
            English.recovered(&ctx),
            "CI RECOVERED: Deploy (acme/payments-api, main) is passing again. https://github.com/acme/payments-api/actions/runs/9"
        );
        assert_eq!(English.recovered(&host(Status::Success)), "CI RECOVERED: CI job (on db-1) is passing again.");
        assert_eq!(
            English.escalation_sms(&github(Status::Failure)),
            "CI FAILURE: Deploy failed in acme/payments-api (main a1b2c3d). To acknowledge, open the run and press \
             Cancel workflow. https://github.com/acme/payments-api/actions/runs/9"
        );
    }
}
