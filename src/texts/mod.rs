//! The default texts a person reads or hears (docs/language.md, "Language"), one file per language. Each
//! language implements [`Texts`]; a third language is one more file and one more [`Language`].
//! Everything here is a pure function of the [`Context`].

mod en;
mod tr;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::context::{CommandRun, Context, Source};
use crate::runner::Ended;
use crate::status::Status;
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
    /// A short SMS or webhook text for the first success after a failure; `since` is where the
    /// failing streak began, as the history knows it ([`since`]).
    fn recovered(&self, ctx: &Context, since: Option<&str>) -> String;
    /// The SMS of an escalation chain: the alert and, where it runs on GitHub, how to acknowledge
    /// it (by cancelling the run).
    fn escalation_sms(&self, ctx: &Context) -> String;
    /// What an SMS ends with when `onfail serve` gave the page an acknowledge link.
    fn ack_link(&self, link: &str) -> String;
    /// Said at the end of a call when the SMS carries an acknowledge link.
    fn ack_spoken(&self) -> &'static str;
}

/// At most this many failed jobs are named; the rest are counted.
const MAX_JOBS_NAMED: usize = 5;

/// A name in an SMS is cut to this many characters, so one long name does not crowd out the rest.
const MAX_SMS_NAME: usize = 60;

/// A default SMS is at most this many UTF-16 units long, which fits iletiMerkezi's 7 parts in every
/// encoding (docs/sms.md, "SMS (iletiMerkezi)"): in GSM and Turkish a character costs at most 2 units
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
    /// failure (docs/noise-control.md, "One alert for a whole workflow").
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

/// The link an SMS ends with: the job if known, else the run; empty outside CI. A re-run of a
/// GitHub run links its attempt: the same text to the same numbers within 10 minutes is refused
/// as a duplicate (docs/sms.md, "SMS (iletiMerkezi)"), and a re-run's SMS must still go out.
fn link(ctx: &Context) -> Cow<'_, str> {
    if !ctx.job_url.is_empty() && ctx.job_url != ctx.run_url {
        return Cow::Borrowed(&ctx.job_url);
    }
    match ctx.run_attempt.trim().parse::<u32>() {
        Ok(attempt) if attempt > 1 && ctx.source == Source::GitHub && !ctx.run_url.is_empty() => {
            Cow::Owned(format!("{}/attempts/{attempt}", ctx.run_url))
        }
        _ => Cow::Borrowed(&ctx.run_url),
    }
}

/// `body`, then the link. The whole stays within [`MAX_SMS_UNITS`], with a link or without: a
/// body too long for that is cut (marked "..."), so iletiMerkezi's part cap never cuts the link
/// off the end, nor cuts a text that has none.
pub(crate) fn with_link(body: String, ctx: &Context) -> String {
    let link = link(ctx);
    let link = link.as_ref();
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

/// Where a failing streak began, as the texts say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Since {
    /// A GitHub run: `run #41`, or an attempt of one (`run #41, attempt 1`); `earlier` when the
    /// streak may have begun before it (`run #41 or earlier`: the history ran out first).
    Run { number: String, attempt: Option<String>, earlier: bool },
    /// A time (the state file's, RFC 3339 in UTC), shown to the minute: `2023-11-14 22:13 UTC`;
    /// or any other text, as it is.
    Time(String),
}

/// Reads the history's `since` (docs/noise-control.md, "Page once per incident"): `run #41`, `run #41 or
/// earlier` and `run #41, attempt 1` from the GitHub history, an RFC 3339 time from the state file.
pub(crate) fn since(text: &str) -> Since {
    let (run, earlier) = match text.strip_suffix(" or earlier") {
        Some(run) => (run, true),
        None => (text, false),
    };
    if let Some(rest) = run.strip_prefix("run #") {
        let (number, attempt) = match rest.split_once(", attempt ") {
            Some((number, attempt)) => (number, Some(attempt.to_string())),
            None => (rest, None),
        };
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            return Since::Run { number: number.to_string(), attempt, earlier };
        }
    }
    let bytes = text.as_bytes();
    if text.len() == 20 && bytes[10] == b'T' && text.ends_with('Z') && text.is_ascii() {
        return Since::Time(format!("{} {} UTC", &text[..10], &text[11..16]));
    }
    Since::Time(text.to_string())
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

/// The words a language puts into the layouts shared by every language ([`detailed`], [`jobs_note`],
/// [`sms_ending`]): labels, and the few phrases built around a number or a name. The layout is the
/// same in every language, so a language is its words and its own sentences.
pub(crate) struct Words {
    /// The labels of the long text's fields, in the order it lists them.
    pub fields: FieldLabels,
    /// What the [named jobs](named_jobs) are, for one job (`true`) or more.
    pub jobs: fn(JobsNamed, bool) -> &'static str,
    /// The end of a job list cut short: " and 3 more".
    pub more_jobs: fn(usize) -> String,
    /// The label of a failed step: "Failed step".
    pub failed_step: &'static str,
    /// The label of the wrapped command line: "Command".
    pub command: &'static str,
    /// The label of how it ended: "Result".
    pub result: &'static str,
    /// How the command ended, as the long text writes it.
    pub ended: fn(&Ended) -> String,
    /// The heading of the command's last lines: "Last 2 lines of output:".
    pub tail: fn(usize) -> String,
}

/// The labels of the fields the long text lists when they are known.
pub(crate) struct FieldLabels {
    pub repository: &'static str,
    pub workflow: &'static str,
    pub job: &'static str,
    pub ref_name: &'static str,
    pub commit: &'static str,
    pub actor: &'static str,
    pub event: &'static str,
    pub run: &'static str,
    pub job_url: &'static str,
    pub host: &'static str,
    pub time: &'static str,
}

/// How the wrapped command ended, when that is news (not on success).
pub(crate) fn ended(ctx: &Context) -> Option<&CommandRun> {
    ctx.command.as_ref().filter(|_| ctx.status != Status::Success)
}

/// "Failed jobs: build, test" / "Failed job: build" / "Skipped job: deploy".
pub(crate) fn jobs_note(words: &Words, kind: JobsNamed, jobs: &[String]) -> String {
    format!("{}: {}", (words.jobs)(kind, jobs.len() == 1), job_list(jobs, words.more_jobs))
}

/// The end every SMS shares after its first sentence: the named jobs, the linked job's failed
/// step, `note` (if any), and the link last.
pub(crate) fn sms_ending(mut text: String, ctx: &Context, words: &Words, note: Option<&str>) -> String {
    if let Some((kind, jobs)) = named_jobs(ctx) {
        end_sentence(&mut text);
        text.push_str(&format!(" {}.", jobs_note(words, kind, &jobs.iter().map(|j| clip(j)).collect::<Vec<_>>())));
    }
    if let Some(step) = linked_step(ctx) {
        text.push_str(&format!(" {}: {step}.", words.failed_step));
    }
    if let Some(note) = note {
        end_sentence(&mut text);
        text.push_str(&format!(" {note}"));
    }
    with_link(text, ctx)
}

/// The long form (see [`Texts::detailed`]): `title`, then every known field, the named jobs, every
/// failed step, and the wrapped command with its last lines, one per line.
pub(crate) fn detailed(title: String, ctx: &Context, words: &Words) -> String {
    let labels = &words.fields;
    // A job URL that only repeats the run's says nothing new.
    let job_url = if ctx.job_url == ctx.run_url { "" } else { &ctx.job_url };
    let fields = [
        (labels.repository, ctx.repository.as_str()),
        (labels.workflow, &ctx.workflow),
        (labels.job, &ctx.job),
        (labels.ref_name, &ctx.ref_name),
        (labels.commit, &ctx.sha),
        (labels.actor, &ctx.actor),
        (labels.event, &ctx.event),
        (labels.run, &ctx.run_url),
        (labels.job_url, job_url),
        (labels.host, &ctx.hostname),
        (labels.time, &ctx.time),
    ];
    let mut lines = vec![format!("{title}.")];
    lines
        .extend(fields.iter().filter(|(_, value)| !value.is_empty()).map(|(label, value)| format!("{label}: {value}")));
    if let Some((kind, jobs)) = named_jobs(ctx) {
        lines.push(format!("{}: {}", (words.jobs)(kind, false), jobs.join(", ")));
    }
    lines.extend(
        ctx.failed_steps.iter().map(|failed| format!("{} ({}): {}", words.failed_step, failed.job, failed.step)),
    );
    if let Some(command) = &ctx.command {
        lines.push(format!("{}: {}", words.command, command.command_line));
        lines.push(format!("{}: {}", words.result, (words.ended)(&command.ended)));
        if !command.tail.is_empty() {
            lines.push(format!("\n{}", (words.tail)(command.tail.len())));
            lines.extend(command.tail.iter().cloned());
        }
    }
    lines.join("\n")
}

/// What recovered and where, for a recovery text: the workflow (else the command, else
/// `unnamed`), and ` (repository, ref)`, else the host as `on_host` says it, else nothing.
pub(crate) fn recovered_names(ctx: &Context, unnamed: String, on_host: fn(&str) -> String) -> (String, String) {
    let subject = match &ctx.command {
        _ if !ctx.workflow.is_empty() => clip(&ctx.workflow),
        Some(command) => clip(&command.program),
        None => unnamed,
    };
    let place: Vec<String> = [&ctx.repository, &ctx.ref_name]
        .into_iter()
        .filter(|value| !value.is_empty())
        .map(|value| clip(value))
        .collect();
    let place = match place.is_empty() {
        true if !ctx.hostname.is_empty() => format!(" ({})", on_host(&clip(&ctx.hostname))),
        true => String::new(),
        false => format!(" ({})", place.join(", ")),
    };
    (subject, place)
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

    /// The four places a text comes from: GitHub, GitLab, Jenkins and a host.
    pub fn all(status: Status) -> [Context; 4] {
        [github(status), gitlab(status), jenkins(status), host(status)]
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
    fn since_reads_runs_attempts_and_times() {
        let run = |number: &str, attempt: Option<&str>, earlier| Since::Run {
            number: number.into(),
            attempt: attempt.map(str::to_string),
            earlier,
        };
        assert_eq!(since("run #41"), run("41", None, false));
        assert_eq!(since("run #41 or earlier"), run("41", None, true));
        assert_eq!(since("run #17, attempt 1"), run("17", Some("1"), false));
        assert_eq!(since("2023-11-14T22:13:20Z"), Since::Time("2023-11-14 22:13 UTC".into()));
        assert_eq!(since("run #x"), Since::Time("run #x".into()));
        assert_eq!(since("yesterday"), Since::Time("yesterday".into()));
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
