//! The default texts a person reads or hears (README, "Language"), one file per language. Each
//! language implements [`Texts`]; a third language is one more file and one more [`Language`].
//! Everything here is a pure function of the [`Context`].

mod en;
mod tr;

use std::fmt;
use std::str::FromStr;

use crate::context::Context;
use crate::values::truncate_chars;

pub use en::English;
pub use tr::Turkish;

/// `--language`: which language the default texts are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// Turkish for phones, English for screens: see [`Language::texts`].
    #[default]
    Auto,
    Tr,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Auto, Language::Tr, Language::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Auto => "auto",
            Language::Tr => "tr",
            Language::En => "en",
        }
    }

    /// The texts for `audience`. `auto` speaks Turkish to phones, because onfail only calls and
    /// texts Turkish mobile numbers, and English on screens (incidents, webhooks, chat), whose
    /// readers may be anywhere.
    pub fn texts(self, audience: Audience) -> &'static dyn Texts {
        match (self, audience) {
            (Language::Tr, _) | (Language::Auto, Audience::Phone) => &Turkish,
            (Language::En, _) | (Language::Auto, Audience::Screen) => &English,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = String;

    /// Read like every enumerated value (`crate::values`): trimmed, in any case.
    fn from_str(s: &str) -> Result<Language, String> {
        let choices = Language::ALL.map(|language| (language.as_str(), language));
        crate::values::choose(s, "a language", &choices)
    }
}

/// Who takes the text in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// A person called or texted (voice, SMS).
    Phone,
    /// A person reading an incident, a webhook or a chat message.
    Screen,
}

/// Every default text, in one language. Texts for a phone call are heard, not read: they never
/// hold a URL, a commit hash or a `/` (see [`speakable`]).
pub trait Texts: Sync {
    /// The short name of the alert: the incident's name, the webhook's and the chat's title.
    fn title(&self, ctx: &Context) -> String;
    /// Read aloud on a phone call.
    fn voice(&self, ctx: &Context) -> String;
    /// A short SMS that ends with the run (or job) URL when there is one.
    fn sms(&self, ctx: &Context) -> String;
    /// The long form for incidents and webhooks: every known field, one per line.
    fn detailed(&self, ctx: &Context) -> String;
    /// A short SMS or webhook text for the first success after a failure.
    fn recovered(&self, ctx: &Context) -> String;
    /// The SMS of an escalation chain: the alert and how to acknowledge it (by cancelling the run).
    fn escalation_sms(&self, ctx: &Context) -> String;
}

/// At most this many failed jobs are named; the rest are counted.
const MAX_JOBS_NAMED: usize = 5;

/// A name in an SMS is cut to this many characters, so one long name does not crowd out the rest.
const MAX_SMS_NAME: usize = 60;

/// A default SMS is at most this many UTF-16 units long, which fits iletiMerkezi's 7 parts in every
/// encoding (README, "SMS (iletiMerkezi)"): in GSM and Turkish a character costs at most 2 units
/// (800 of 1038), in Unicode exactly its UTF-16 units (400 of the 458 that 7 parts hold even when
/// every part loses a unit to an emoji that may not straddle two).
const MAX_SMS_UNITS: usize = 400;

/// A name as a voice says it: `/`, `-` and `_` become spaces; a word holding a URL or a hash (see
/// [`looks_hashed`]) is left out; "http" inside a word is spelled "HTTP".
pub fn speakable(name: &str) -> String {
    name.split_whitespace()
        .filter(|word| !word.contains("://"))
        .flat_map(|word| word.split(['/', '-', '_']))
        .filter(|piece| !piece.is_empty() && !looks_hashed(piece))
        .map(spell_http)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` holds a run of 7 or more hex digits with a decimal digit among them: a commit
/// hash (or a long number, just as useless aloud). Words like "feedback" or "succeeded" are
/// hex letters too, so a run of letters alone does not count.
pub fn looks_hashed(text: &str) -> bool {
    let (mut run, mut digits) = (0, 0);
    text.chars().any(|c| {
        (run, digits) = match c {
            '0'..='9' => (run + 1, digits + 1),
            c if c.is_ascii_hexdigit() => (run + 1, digits),
            _ => (0, 0),
        };
        run >= 7 && digits > 0
    })
}

/// Any casing of "http" becomes "HTTP": letters to spell, not a link to read out.
fn spell_http(piece: &str) -> String {
    let lower = piece.to_ascii_lowercase();
    let mut out = String::with_capacity(piece.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices("http") {
        out.push_str(&piece[rest..at]);
        out.push_str("HTTP");
        rest = at + 4;
    }
    out.push_str(&piece[rest..]);
    out
}

/// Why a text names some jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobsNamed {
    /// They failed.
    Failed,
    /// No job failed, but these were skipped without being allowed to be, which made the status a
    /// failure (README, "One alert for a whole workflow").
    Skipped,
}

/// The jobs the texts name: the failed ones, or else the skipped ones that alone made the status
/// a failure; `None` when neither is known.
pub(crate) fn named_jobs(ctx: &Context) -> Option<(JobsNamed, &[String])> {
    match (ctx.failed_jobs.is_empty(), ctx.skipped_jobs.is_empty()) {
        (false, _) => Some((JobsNamed::Failed, &ctx.failed_jobs)),
        (true, false) => Some((JobsNamed::Skipped, &ctx.skipped_jobs)),
        (true, true) => None,
    }
}

/// The first failed step of the job an SMS links to (the first failed job), cut for an SMS;
/// `None` when the jobs API did not name one.
pub(crate) fn linked_step(ctx: &Context) -> Option<String> {
    let first = ctx.failed_steps.first()?;
    (ctx.failed_jobs.first() == Some(&first.job)).then(|| clip(&first.step))
}

/// The names a voice text uses, made speakable once. An empty value is unknown (or unsayable).
pub(crate) struct Spoken {
    pub repository: String,
    pub workflow: String,
    pub ref_name: String,
    pub hostname: String,
    pub program: String,
    /// The [named jobs](named_jobs) that can be said; `None` when there are none.
    pub jobs: Option<(JobsNamed, Vec<String>)>,
}

impl Spoken {
    pub fn of(ctx: &Context) -> Spoken {
        Spoken {
            repository: speakable(&ctx.repository),
            workflow: speakable(&ctx.workflow),
            ref_name: speakable(&ctx.ref_name),
            hostname: speakable(&ctx.hostname),
            program: ctx.command.as_ref().map(|c| speakable(&c.program)).unwrap_or_default(),
            jobs: named_jobs(ctx)
                .map(|(kind, jobs)| {
                    (kind, jobs.iter().map(|job| speakable(job)).filter(|job| !job.is_empty()).collect::<Vec<_>>())
                })
                .filter(|(_, jobs)| !jobs.is_empty()),
        }
    }
}

/// The link an SMS ends with: the job if known, else the run; empty outside CI.
fn link(ctx: &Context) -> &str {
    if ctx.job_url.is_empty() { &ctx.run_url } else { &ctx.job_url }
}

/// `body`, then the link. The whole stays within [`MAX_SMS_UNITS`], with a link or without: a
/// body too long for that is cut (marked "..."), so iletiMerkezi's part cap never cuts the link
/// off the end, nor cuts a text that has none.
pub(crate) fn with_link(body: String, ctx: &Context) -> String {
    let link = link(ctx);
    let units = |text: &str| text.encode_utf16().count();
    let budget = if link.is_empty() { MAX_SMS_UNITS } else { MAX_SMS_UNITS.saturating_sub(units(link) + 1) };
    let body = if units(&body) <= budget {
        body
    } else {
        let mut used = 0;
        let kept: String = body
            .chars()
            .take_while(|c| {
                used += c.len_utf16();
                used + "...".len() <= budget
            })
            .collect();
        format!("{}...", kept.trim_end())
    };
    if link.is_empty() { body } else { format!("{body} {link}") }
}

/// Ends the text's last sentence with a full stop, if it has none, before another is added.
pub(crate) fn end_sentence(text: &mut String) {
    if !text.ends_with('.') {
        text.push('.');
    }
}

/// `name` cut for an SMS, marked with "..." (GSM characters, so the encoding stays cheap).
pub(crate) fn clip(name: &str) -> String {
    match truncate_chars(name, MAX_SMS_NAME) {
        (short, true) => format!("{}...", short.trim_end()),
        (same, false) => same,
    }
}

/// The first few `jobs`, comma-joined; `more` says how many were left out ("and 3 more").
pub(crate) fn job_list(jobs: &[String], more: impl Fn(usize) -> String) -> String {
    let mut list = jobs.iter().take(MAX_JOBS_NAMED).cloned().collect::<Vec<_>>().join(", ");
    if jobs.len() > MAX_JOBS_NAMED {
        list.push_str(&more(jobs.len() - MAX_JOBS_NAMED));
    }
    list
}

/// Contexts for the unit tests of both languages.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use crate::context::{CommandRun, Context, Env};
    use crate::runner::Ended;
    use crate::status::Status;

    pub fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn detect(pairs: &[(&str, &str)], status: Status) -> Context {
        let env: Env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Context::detect(&env, status, None, now())
    }

    /// The host name is read from `/etc/hostname` when the variables lack it: set it here.
    fn on_host(mut ctx: Context, hostname: &str) -> Context {
        ctx.hostname = hostname.into();
        ctx
    }

    /// Workflow Deploy of acme/payments-api on main, on GitHub.
    pub fn github(status: Status) -> Context {
        let mut ctx = crate::context::github_fixture(status, now());
        ctx.repository = "acme/payments-api".into();
        ctx.run_url = "https://github.com/acme/payments-api/actions/runs/9".into();
        ctx.job_url = ctx.run_url.clone();
        on_host(ctx, "fv-az1-2")
    }

    pub fn gitlab(status: Status) -> Context {
        let ctx = detect(
            &[
                ("GITLAB_CI", "true"),
                ("CI_PROJECT_PATH", "group/web_app"),
                ("CI_COMMIT_REF_NAME", "release/2.1"),
                ("CI_COMMIT_SHA", "abcdef0123456"),
                ("CI_PIPELINE_URL", "https://gitlab.example.com/group/web_app/-/pipelines/991"),
                ("CI_JOB_URL", "https://gitlab.example.com/group/web_app/-/jobs/5"),
            ],
            status,
        );
        on_host(ctx, "runner-7")
    }

    pub fn jenkins(status: Status) -> Context {
        let ctx = detect(
            &[
                ("JENKINS_URL", "https://ci.example.com/"),
                ("JOB_NAME", "nightly-build"),
                ("BUILD_URL", "https://ci.example.com/job/nightly-build/12/"),
                ("GIT_BRANCH", "origin/main"),
            ],
            status,
        );
        on_host(ctx, "agent-2")
    }

    pub fn host(status: Status) -> Context {
        detect(&[("HOSTNAME", "db-1")], status)
    }

    /// `onfail run -- /opt/backup.sh` on host db-1, ended as `ended`.
    pub fn host_command(status: Status, ended: Ended) -> Context {
        let mut ctx = host(status);
        ctx.command = Some(CommandRun {
            program: "backup.sh".into(),
            command_line: "/opt/backup.sh --full https://x.example/y".into(),
            ended,
            tail: vec!["copying".into(), "error: disk full".into()],
        });
        ctx
    }

    /// `onfail run -- make deploy` inside the GitHub workflow.
    pub fn github_command(status: Status, ended: Ended) -> Context {
        let mut ctx = github(status);
        ctx.command =
            Some(CommandRun { program: "make".into(), command_line: "make deploy".into(), ended, tail: Vec::new() });
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    #[test]
    fn auto_is_turkish_on_phones_and_english_on_screens() {
        let ctx = fixtures::github(Status::Failure);
        let voice = |language: Language| language.texts(Audience::Phone).voice(&ctx);
        let title = |language: Language| language.texts(Audience::Screen).title(&ctx);
        assert_eq!(voice(Language::Auto), Turkish.voice(&ctx));
        assert_eq!(title(Language::Auto), English.title(&ctx));
        assert_eq!((voice(Language::Tr), title(Language::Tr)), (Turkish.voice(&ctx), Turkish.title(&ctx)));
        assert_eq!((voice(Language::En), title(Language::En)), (English.voice(&ctx), English.title(&ctx)));
    }

    #[test]
    fn languages_parse_in_any_case_and_name_the_choices() {
        assert_eq!(" TR\n".parse(), Ok(Language::Tr));
        assert_eq!("En".parse(), Ok(Language::En));
        assert_eq!("auto".parse(), Ok(Language::Auto));
        assert_eq!("fr".parse::<Language>().unwrap_err(), "'fr' is not a language; use auto, tr or en");
    }

    #[test]
    fn speakable_names_lose_separators_links_and_hashes() {
        assert_eq!(speakable("acme/payments-api"), "acme payments api");
        assert_eq!(speakable("feature/PROJ-12_fix  login"), "feature PROJ 12 fix login");
        assert_eq!(speakable("deploy https://x.example/a?b=1 now"), "deploy now");
        assert_eq!(speakable("renovate/a1b2c3d4e5"), "renovate");
        assert_eq!(speakable("my-http-service"), "my HTTP service");
        assert_eq!(speakable("Https"), "HTTPs");
        assert_eq!(speakable("v1.2.3"), "v1.2.3");
        assert_eq!(speakable("///"), "");
        assert_eq!(speakable("İstanbul-şube"), "İstanbul şube");
        assert_eq!(speakable("feedback-service"), "feedback service");
        assert_eq!(speakable("build 12345678"), "build");
    }

    #[test]
    fn hashes_have_seven_hex_digits_one_of_them_decimal() {
        assert!(looks_hashed("a1b2c3d") && looks_hashed("x-0123456") && looks_hashed("deadbeef1"));
        assert!(!looks_hashed("a1b2c3") && !looks_hashed("feedback") && !looks_hashed("succeeded"));
        assert!(!looks_hashed("abc123-456def"));
    }

    #[test]
    fn sms_names_are_clipped_and_job_lists_counted() {
        let long = "ş".repeat(70);
        assert_eq!(clip(&long), format!("{}...", "ş".repeat(60)));
        assert_eq!(clip("short"), "short");
        let jobs: Vec<String> = (1..=7).map(|i| format!("j{i}")).collect();
        assert_eq!(job_list(&jobs, |n| format!(" +{n}")), "j1, j2, j3, j4, j5 +2");
        assert_eq!(job_list(&jobs[..2], |_| unreachable!()), "j1, j2");
    }

    #[test]
    fn an_sms_keeps_its_link_when_the_body_is_too_long() {
        let mut ctx = fixtures::github(crate::status::Status::Failure);
        ctx.job_url = "https://ci.example.com/run/1".into();
        assert_eq!(with_link("short".into(), &ctx), "short https://ci.example.com/run/1");
        let text = with_link("🚨".repeat(300), &ctx);
        assert!(text.ends_with("🚨... https://ci.example.com/run/1"), "{text}");
        assert!(text.encode_utf16().count() <= MAX_SMS_UNITS);
        assert!(text.encode_utf16().count() > MAX_SMS_UNITS - 2, "cut no shorter than needed");
        ctx.job_url.clear();
        ctx.run_url.clear();
        assert_eq!(with_link("no link".into(), &ctx), "no link");
        let text = with_link("🚨".repeat(300), &ctx);
        assert!(text.ends_with("🚨...") && text.encode_utf16().count() <= MAX_SMS_UNITS, "{text}");
    }
}
