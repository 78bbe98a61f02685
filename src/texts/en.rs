//! The English texts (docs/language.md, "Language"): the ones onfail always had, with speakable names in
//! the voice text and the failed jobs when they are known.

use super::{
    FieldLabels, JobsNamed, Since, Spoken, Texts, Words, clip, ended, jobs_note, recovered_names, sms_ending, with_link,
};
use crate::context::{Context, Source};
use crate::runner::Ended;
use crate::status::Status;

pub struct English;

/// The English words of the shared layouts.
const WORDS: Words = Words {
    fields: FieldLabels {
        repository: "Repository",
        workflow: "Workflow",
        job: "Job",
        ref_name: "Ref",
        commit: "Commit",
        actor: "Actor",
        event: "Event",
        run: "Run",
        job_url: "Job URL",
        host: "Host",
        time: "Time",
    },
    jobs: |kind, one| match (kind, one) {
        (JobsNamed::Failed, true) => "Failed job",
        (JobsNamed::Failed, false) => "Failed jobs",
        (JobsNamed::Skipped, true) => "Skipped job",
        (JobsNamed::Skipped, false) => "Skipped jobs",
    },
    more_jobs: |n| format!(" and {n} more"),
    failed_step: "Failed step",
    command: "Command",
    result: "Result",
    ended: Ended::describe,
    tail: |n| format!("Last {n} lines of output:"),
};

/// What happened, as a verb phrase: "failed", "succeeded", ...
fn outcome(status: Status) -> &'static str {
    match status {
        Status::Failure => "failed",
        Status::Success => "succeeded",
        Status::Cancelled => "was cancelled",
        Status::Skipped => "was skipped",
    }
}

/// `CI` on a CI system; nothing on a host, where no CI is involved.
fn ci(ctx: &Context) -> &'static str {
    if ctx.source == Source::Host { "" } else { "CI " }
}

/// What to call the job when nothing names it: "CI job", or "Job" on a host.
fn unnamed(ctx: &Context) -> String {
    if ctx.source == Source::Host { "Job".into() } else { "CI job".into() }
}

/// The alert and the link last, with `note` (if any) just before the link.
fn sms_with(ctx: &Context, note: Option<&str>) -> String {
    let mut text = format!("{}{}: {}", ci(ctx), ctx.status.as_str().to_uppercase(), short_title(ctx, clip));
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" ({}", clip(&ctx.ref_name)));
        if !ctx.sha.is_empty() {
            text.push_str(&format!(" {}", ctx.short_sha()));
        }
        text.push(')');
    }
    if let Some(command) = ended(ctx) {
        let how = match &command.ended {
            Ended::NotStarted(why) => format!("could not be started: {}", clip(&why.describe())),
            other => other.describe(),
        };
        text.push_str(&format!(": {} {how}.", clip(&command.program)));
    }
    sms_ending(text, ctx, &WORDS, note)
}

/// `Deploy failed in acme/api`, `backup.sh failed on db-1`, each name passed through `name`.
fn short_title(ctx: &Context, name: fn(&str) -> String) -> String {
    let subject = match &ctx.command {
        _ if !ctx.workflow.is_empty() => name(&ctx.workflow),
        Some(command) => name(&command.program),
        None => unnamed(ctx),
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

    /// `CI alert. Workflow Deploy failed in acme payments api on branch main. I repeat: ...`:
    /// the key sentence is said twice, because the first seconds of a call are lost while
    /// answering.
    fn voice(&self, ctx: &Context) -> String {
        let said = Spoken::of(ctx);
        let lead = match (ctx.source, ctx.status) {
            (Source::Host, Status::Failure) => "Alert.",
            (Source::Host, _) => "Notice.",
            (_, Status::Failure) => "CI alert.",
            _ => "CI notice.",
        };
        let mut key = if !said.program.is_empty() {
            let mut text = format!("Command {} {}", said.program, outcome(ctx.status));
            if !said.workflow.is_empty() {
                text.push_str(&format!(" in workflow {}", said.workflow));
            } else if said.repository.is_empty() && !said.hostname.is_empty() {
                text.push_str(&format!(" on host {}", said.hostname));
            }
            text
        } else if !said.workflow.is_empty() {
            format!("Workflow {} {}", said.workflow, outcome(ctx.status))
        } else if !said.hostname.is_empty() {
            format!("The job on {} {}", said.hostname, outcome(ctx.status))
        } else {
            format!("The job {}", outcome(ctx.status))
        };
        if !said.repository.is_empty() {
            key.push_str(&format!(" in {}", said.repository));
        }
        if !said.ref_name.is_empty() {
            key.push_str(&format!(" on branch {}", said.ref_name));
        }
        let mut text = format!("{lead} {key}");
        if let Some(command) = ended(ctx) {
            // The reason a command could not start names paths: not for the ear.
            let how = match &command.ended {
                Ended::NotStarted(_) => "could not be started".to_string(),
                other => other.describe(),
            };
            text.push_str(&format!(": it {how}"));
        }
        text.push('.');
        if let Some((kind, jobs)) = &said.jobs {
            text.push_str(&format!(" {}.", jobs_note(&WORDS, *kind, jobs)));
        }
        text.push_str(&format!(" I repeat: {key}."));
        text
    }

    fn sms(&self, ctx: &Context) -> String {
        sms_with(ctx, None)
    }

    fn detailed(&self, ctx: &Context) -> String {
        super::detailed(self.title(ctx), ctx, &WORDS)
    }

    /// `CI RECOVERED: Deploy (acme/api, main) is passing again. It had failed since run #41.
    /// https://...`
    fn recovered(&self, ctx: &Context, since: Option<&str>) -> String {
        let (subject, place) = recovered_names(ctx, unnamed(ctx), |host| format!("on {host}"));
        let mut text = format!("{}RECOVERED: {subject}{place} is passing again.", ci(ctx));
        if let Some(since) = since.map(super::since) {
            let since = match since {
                Since::Run { number, attempt: None, earlier: false } => format!("run #{number}"),
                Since::Run { number, attempt: None, earlier: true } => format!("run #{number} or earlier"),
                Since::Run { number, attempt: Some(attempt), .. } => format!("run #{number}, attempt {attempt}"),
                Since::Time(time) => time,
            };
            text.push_str(&format!(" It had failed since {since}."));
        }
        with_link(text, ctx)
    }

    /// The SMS, and how to acknowledge where that is known: on GitHub by cancelling the run
    /// (docs/escalation.md, "Escalation"). A cron host or another CI has no "Cancel workflow", so nothing
    /// is said there.
    fn escalation_sms(&self, ctx: &Context) -> String {
        let ack = (ctx.source == Source::GitHub).then_some("To acknowledge, open the run and press Cancel workflow.");
        sms_with(ctx, ack)
    }

    fn ack_link(&self, link: &str) -> String {
        format!("To acknowledge, open the link: {link}")
    }

    fn ack_spoken(&self) -> &'static str {
        "To acknowledge, open the link in the text message."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::FailedStep;
    use crate::runner::StartFailure;
    use crate::texts::fixtures::{self, all, github, gitlab, host, jenkins};

    #[test]
    fn voice_texts_for_every_status_and_context() {
        // The key sentences of GitHub, GitLab, Jenkins and a host; each is said twice.
        let keys = |verb: &str| {
            [
                format!("Workflow Deploy {verb} in acme payments api on branch main"),
                format!("The job on runner 7 {verb} in group web app on branch release 2.1"),
                format!("Workflow nightly build {verb} on branch main"),
                format!("The job on db 1 {verb}"),
            ]
        };
        let cases = [
            (Status::Failure, "failed", ["CI alert.", "CI alert.", "CI alert.", "Alert."]),
            (Status::Success, "succeeded", ["CI notice.", "CI notice.", "CI notice.", "Notice."]),
            (Status::Cancelled, "was cancelled", ["CI notice.", "CI notice.", "CI notice.", "Notice."]),
            (Status::Skipped, "was skipped", ["CI notice.", "CI notice.", "CI notice.", "Notice."]),
        ];
        for (status, verb, leads) in cases {
            let got: Vec<String> = all(status).iter().map(|ctx| English.voice(ctx)).collect();
            let expected: Vec<String> =
                leads.iter().zip(keys(verb)).map(|(lead, key)| format!("{lead} {key}. I repeat: {key}.")).collect();
            assert_eq!(got, expected, "{status}");
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
        // Outside CI nothing says "CI".
        assert_eq!(English.sms(&host(Status::Failure)), "FAILURE: Job failed on db-1");
        assert_eq!(English.title(&host(Status::Failure)), "Job failed on db-1");
        assert!(English.detailed(&host(Status::Failure)).starts_with("Job failed on db-1.\n"));
    }

    #[test]
    fn command_texts_name_the_command_and_its_end() {
        let ctx = fixtures::host_command(Status::Failure, Ended::Exited(3));
        assert_eq!(English.title(&ctx), "backup.sh failed on db-1");
        let key = "Command backup.sh failed on host db 1";
        assert_eq!(English.voice(&ctx), format!("Alert. {key}: it exited with code 3. I repeat: {key}."));
        assert_eq!(English.sms(&ctx), "FAILURE: backup.sh failed on db-1: backup.sh exited with code 3.");
        let long = English.detailed(&ctx);
        assert!(long.contains("Command: /opt/backup.sh --full https://x.example/y\nResult: exited with code 3"));
        assert!(long.ends_with("Last 2 lines of output:\ncopying\nerror: disk full"), "{long}");
        let ok = fixtures::host_command(Status::Success, Ended::Exited(0));
        let key = "Command backup.sh succeeded on host db 1";
        assert_eq!(English.voice(&ok), format!("Notice. {key}. I repeat: {key}."));

        let killed = fixtures::host_command(Status::Cancelled, Ended::Signalled(15));
        assert!(English.voice(&killed).starts_with(
            "Notice. Command backup.sh was cancelled on host db 1: it was killed by signal 15 (SIGTERM)."
        ));
        let missing = fixtures::host_command(Status::Failure, Ended::NotStarted(StartFailure::NotFound));
        assert!(
            English
                .voice(&missing)
                .starts_with("Alert. Command backup.sh failed on host db 1: it could not be started.")
        );
        assert!(English.sms(&missing).ends_with("backup.sh could not be started: command not found."));

        let ci = fixtures::github_command(Status::Failure, Ended::Exited(2));
        let key = "Command make failed in workflow Deploy in acme payments api on branch main";
        assert_eq!(English.voice(&ci), format!("CI alert. {key}: it exited with code 2. I repeat: {key}."));
    }

    #[test]
    fn failed_jobs_are_named_everywhere() {
        let mut ctx = github(Status::Failure);
        ctx.failed_jobs = vec!["build".into(), "test (ubuntu-latest)".into()];
        let key = "Workflow Deploy failed in acme payments api on branch main";
        assert_eq!(
            English.voice(&ctx),
            format!("CI alert. {key}. Failed jobs: build, test (ubuntu latest). I repeat: {key}.")
        );
        assert!(English.sms(&ctx).contains("(main a1b2c3d). Failed jobs: build, test (ubuntu-latest). https://"));
        assert!(English.detailed(&ctx).ends_with("\nFailed jobs: build, test (ubuntu-latest)"));
        ctx.failed_jobs.truncate(1);
        assert!(English.voice(&ctx).contains(" Failed job: build. I repeat: "));
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
        let key = "Workflow Deploy failed in acme payments api on branch main";
        assert_eq!(English.voice(&ctx), format!("CI alert. {key}. Skipped job: deploy. I repeat: {key}."));
        assert_eq!(
            English.sms(&ctx),
            "CI FAILURE: Deploy failed in acme/payments-api (main a1b2c3d). Skipped job: deploy. \
             https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(English.detailed(&ctx).ends_with("\nSkipped jobs: deploy"), "{}", English.detailed(&ctx));
        ctx.skipped_jobs.push("docs-site".into());
        assert!(English.voice(&ctx).contains(" Skipped jobs: deploy, docs site. I repeat"), "{}", English.voice(&ctx));
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
            English.recovered(&ctx, Some("run #41")),
            "CI RECOVERED: Deploy (acme/payments-api, main) is passing again. It had failed since run #41. \
             https://github.com/acme/payments-api/actions/runs/9"
        );
        assert_eq!(
            English.recovered(&ctx, None),
            "CI RECOVERED: Deploy (acme/payments-api, main) is passing again. https://github.com/acme/payments-api/actions/runs/9"
        );
        assert_eq!(
            English.recovered(&host(Status::Success), Some("2023-11-14T22:13:20Z")),
            "RECOVERED: Job (on db-1) is passing again. It had failed since 2023-11-14 22:13 UTC."
        );
        assert!(English.recovered(&ctx, Some("run #17, attempt 1")).contains(" since run #17, attempt 1. "));
        assert!(English.recovered(&ctx, Some("run #9 or earlier")).contains(" since run #9 or earlier. "));
        assert_eq!(
            English.escalation_sms(&github(Status::Failure)),
            "CI FAILURE: Deploy failed in acme/payments-api (main a1b2c3d). To acknowledge, open the run and press \
             Cancel workflow. https://github.com/acme/payments-api/actions/runs/9"
        );
        // Elsewhere there is no "Cancel workflow" to press.
        for ctx in [host(Status::Failure), gitlab(Status::Failure), jenkins(Status::Failure)] {
            let sms = English.escalation_sms(&ctx);
            assert!(!sms.contains("Cancel") && !sms.contains("acknowledge"), "{sms}");
        }
    }
}
