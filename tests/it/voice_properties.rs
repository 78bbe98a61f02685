//! Property tests of the default texts (docs/language.md, "Language"): whatever the names in the context,
//! a call never reads out a URL, a path or a commit hash, and an SMS keeps its link.

use std::time::SystemTime;

use onfail::channels::sms_text;
use onfail::context::{CommandRun, Context, Env, Source};
use onfail::runner::{Ended, StartFailure};
use onfail::status::Status;
use onfail::texts::{English, Texts, Turkish};
use proptest::prelude::*;

/// Names as CI systems hand them over, hostile ones included: URLs, paths, hashes, numbers,
/// Turkish letters, any printable ASCII.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,30}",
        "(https?://|HTTP://|www\\.)?[a-zA-Z0-9./_:-]{0,30}",
        "[0-9a-fA-F]{0,12}",
        "[a-zA-ZçğıöşüÇĞİÖŞÜ0-9/_. -]{0,20}",
        Just("acme/payments-api".to_string()),
        Just("refs/heads/dependabot/npm_and_yarn/a1b2c3d4e5".to_string()),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn source() -> impl Strategy<Value = Source> {
    prop::sample::select(vec![Source::GitHub, Source::GitLab, Source::Jenkins, Source::Host])
}

fn ended() -> impl Strategy<Value = Ended> {
    prop_oneof![
        (0..=255).prop_map(Ended::Exited),
        (1..=64).prop_map(Ended::Signalled),
        name().prop_map(|reason| Ended::NotStarted(StartFailure::Other(reason)))
    ]
}

prop_compose! {
    fn context()(
        source in source(),
        status in status(),
        (repository, workflow, ref_name, hostname) in (name(), name(), name(), name()),
        sha in "[0-9a-f]{40}",
        command in prop::option::of((name(), name(), ended())),
        failed_jobs in prop::collection::vec(name(), 0..7),
        link in prop_oneof![Just(String::new()), "https://ci\\.example\\.com/[a-z0-9/_-]{1,60}"],
    ) -> Context {
        let mut ctx = Context::detect(&Env::new(), status, None, SystemTime::UNIX_EPOCH);
        ctx.source = source;
        ctx.repository = repository;
        ctx.workflow = workflow;
        ctx.ref_name = ref_name;
        ctx.hostname = hostname;
        ctx.sha = sha;
        ctx.run_url = link.clone();
        ctx.job_url = link;
        ctx.command = command.map(|(program, command_line, ended)| CommandRun { program, command_line, ended, tail: Vec::new() });
        ctx.failed_jobs = failed_jobs;
        ctx
    }
}

/// A stretch of hex digits with a decimal digit among them, at least 7 long: a hash or a long
/// number. Letters alone do not count: "succeeded" and "feedback" are made of hex letters.
fn hashed(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(7).any(|w| w.iter().all(char::is_ascii_hexdigit) && w.iter().any(char::is_ascii_digit))
}

proptest! {
    #[test]
    fn a_call_never_reads_a_link_a_path_or_a_hash(ctx in context()) {
        for texts in [&Turkish as &dyn Texts, &English] {
            let voice = texts.voice(&ctx);
            prop_assert!(!voice.contains('/'), "{}", voice);
            prop_assert!(!voice.contains("http"), "{}", voice);
            // A run of 7+ hex digits with a decimal among them: a hash ("succeeded" is hex letters).
            prop_assert!(!hashed(&voice), "{}", voice);
        }
    }

    #[test]
    fn an_sms_always_ends_with_its_link_within_the_part_cap(ctx in context()) {
        let link = if ctx.job_url.is_empty() { ctx.run_url.clone() } else { ctx.job_url.clone() };
        for texts in [&Turkish as &dyn Texts, &English] {
            for sms in [texts.sms(&ctx), texts.recovered(&ctx, Some("run #41")), texts.escalation_sms(&ctx)] {
                prop_assert!(sms.ends_with(&link), "{}", sms);
                // Names are clipped, so even the longest default text is never cut.
                prop_assert!(!sms_text::fit(&sms).1, "{}", sms);
            }
        }
    }
}
