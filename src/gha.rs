//! GitHub Actions runtime I/O (docs/getting-started.md, "GitHub Action" and "Output"): `::add-mask::` for every
//! secret, annotations, the step outputs in `$GITHUB_OUTPUT` and the delivery table in
//! `$GITHUB_STEP_SUMMARY`.
//!
//! The renderers here are pure (text in, text out) and unit-tested; the two writers take a path
//! or an `impl Write`. Redaction is the caller's job ([`crate::output::Output`]), done before
//! anything reaches these functions, so an escaped secret can never slip past the redactor.
//!
//! Workflow commands are read by the runner from stdout **and** stderr, in two syntaxes: `::cmd::`
//! at the start of a line, and the legacy `##[cmd]` anywhere in a line. Text that onfail echoes
//! (provider answers, commit messages in a title, the user's message) must never become one, so
//! such text is either wrapped in `::stop-commands::<random token>` … `::<token>::`, or (the JSON
//! document) written with `[` after `##` as the JSON escape `\u005b`, which is the same value.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::context::Env;
// The title of the annotation that marks a failure whose page did not reach everyone.
use crate::history::github::NOT_PAGED;
use crate::report::pages;
use crate::report::{ChannelResult, EscalationEnd, EscalationReport, RunReport};

/// The runner shows at most 10 annotations of each kind per step; more are dropped silently.
pub const MAX_ANNOTATIONS: usize = 10;

/// The runner drops a step summary over 1 MiB whole; onfail's table stays far below that.
pub const MAX_SUMMARY: usize = 64 * 1024;

/// One cell of the summary table is cut to this many characters.
const MAX_CELL: usize = 300;

/// The files GitHub Actions gave this step. Present only under `GITHUB_ACTIONS=true`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Runner {
    /// `$GITHUB_OUTPUT`, if set.
    pub output_file: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`, if set.
    pub summary_file: Option<PathBuf>,
}

impl Runner {
    /// The runner, when onfail runs under GitHub Actions (or a compatible runner such as act).
    pub fn detect(env: &Env) -> Option<Runner> {
        if !crate::context::on_github_actions(env) {
            return None;
        }
        let path = |name: &str| env.get(name).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        Some(Runner { output_file: path("GITHUB_OUTPUT"), summary_file: path("GITHUB_STEP_SUMMARY") })
    }
}

/// Escapes a command's data (the part after the second `::`), as `@actions/core` does.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property value (`title=...`): data escaping plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command line: `::name k=v,k=v::data`.
pub fn command(name: &str, properties: &[(&str, &str)], data: &str) -> String {
    let props: Vec<String> = properties.iter().map(|(k, v)| format!("{k}={}", escape_property(v))).collect();
    let space = if props.is_empty() { "" } else { " " };
    format!("::{name}{space}{}::{}\n", props.join(","), escape_data(data))
}

/// `::add-mask::` lines for every value, plus one for each line of a multi-line value (the
/// runner masks line by line). Values shorter than four characters are not masked: masking
/// `ab` would star out every log line that contains it.
pub fn masks<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = BTreeSet::new();
    for value in values {
        let value = value.trim();
        seen.insert(value.to_string());
        for line in value.lines() {
            seen.insert(line.trim().to_string());
        }
    }
    seen.iter().filter(|v| v.chars().count() >= 4).map(|v| command("add-mask", &[], v)).collect()
}

/// A fresh random token (128 bits, hex) for `::stop-commands::` and heredoc delimiters.
pub fn random_token() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// A fresh heredoc delimiter for `$GITHUB_OUTPUT`, in the toolkit's style.
pub fn delimiter() -> String {
    format!("ghadelimiter_{}", random_token())
}

/// Whether the runner could read part of `text` as a workflow command. The runner ends a line at
/// CR as well as LF, so a lone CR starts a new line too.
pub fn looks_like_command(text: &str) -> bool {
    text.contains("##[") || text.split(['\n', '\r']).any(|line| line.trim_start().starts_with("::"))
}

/// Wraps `text` so the runner reads none of it as a command; `text` is returned unchanged when
/// it holds nothing command-like. `token` must be unguessable (see [`random_token`]).
pub fn guard(text: &str, token: &str) -> String {
    if !looks_like_command(text) {
        return text.to_string();
    }
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{}{text}{newline}{}", command("stop-commands", &[], token), command(token, &[], ""))
}

/// The JSON document made inert for the runner without changing its value: `[` after `##` is
/// written `\u005b` (only possible inside strings), and no line of pretty JSON starts with `::`.
pub fn defuse_json(json: &str) -> String {
    json.replace("##[", "##\\u005b")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// A `::error::` or `::warning::` annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub title: String,
    pub message: String,
}

impl Annotation {
    pub fn new(level: Level, title: impl Into<String>, message: impl Into<String>) -> Annotation {
        Annotation { level, title: title.into(), message: message.into() }
    }

    pub fn line(&self) -> String {
        let name = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        command(name, &[("title", &self.title)], &self.message)
    }
}

/// The annotations for a run: an error per failed channel, a warning per skipped channel and
/// per warning. At most [`MAX_ANNOTATIONS`] of each level; the last one says how many more
/// there are (they are all in the step summary).
pub fn annotations(report: &RunReport) -> Vec<Annotation> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Under `--notify-when changes` (an edge was decided), first, so that no cap drops it: the
    // next run's history reads it (docs/noise-control.md, "Paged means a person was reached").
    if report.paged == Some(false) && report.edge.is_some() {
        let unreached = pages::unreached(&report.pages);
        let who = if unreached.is_empty() { "a channel failed".to_string() } else { pages::describe(&unreached) };
        warnings.push(Annotation::new(
            Level::Warning,
            NOT_PAGED,
            format!("this failure did not reach everyone it pages ({who}); the next failure pages again"),
        ));
    }
    // On any other status than a failure, a notice that did not go out is a warning
    // (docs/reference.md, "Exit codes"): a green job shows no error.
    let failed_level = if report.status == "failure" { Level::Error } else { Level::Warning };
    for warning in &report.warnings {
        warnings.push(Annotation::new(Level::Warning, "onfail", warning.as_str()));
    }
    for channel in &report.channels {
        let title = format!("onfail {} ({})", channel.channel, channel.provider);
        match channel.result {
            ChannelResult::Failed if failed_level == Level::Error => {
                errors.push(Annotation::new(Level::Error, &title, &channel.detail))
            }
            ChannelResult::Failed => warnings.push(Annotation::new(Level::Warning, &title, &channel.detail)),
            ChannelResult::Skipped => {
                warnings.push(Annotation::new(Level::Warning, &title, format!("skipped: {}", channel.detail)))
            }
            ChannelResult::Sent | ChannelResult::DryRun => {}
        }
        for warning in &channel.warnings {
            warnings.push(Annotation::new(Level::Warning, &title, warning.as_str()));
        }
    }
    let mut all = cap(errors);
    all.extend(cap(warnings));
    all
}

fn cap(mut list: Vec<Annotation>) -> Vec<Annotation> {
    if list.len() > MAX_ANNOTATIONS {
        let more = list.len() - (MAX_ANNOTATIONS - 1);
        list.truncate(MAX_ANNOTATIONS - 1);
        let level = list[0].level;
        list.push(Annotation::new(level, "onfail", format!("{more} more; see the step summary")));
    }
    list
}

/// The step outputs (docs/getting-started.md, "Outputs"), in order. `json` is the `--output json` document.
pub fn outputs(report: &RunReport, json: &str) -> Vec<(&'static str, String)> {
    let first = |pick: fn(&crate::wire::Ids) -> Option<&String>| {
        report.channels.iter().find_map(|c| pick(&c.ids)).cloned().unwrap_or_default()
    };
    vec![
        ("result", report.result.as_str().to_string()),
        ("sent-channels", report.names(ChannelResult::Sent)),
        ("failed-channels", report.names(ChannelResult::Failed)),
        ("alert-id", first(|ids| ids.alert_id.as_ref())),
        ("sms-order-id", first(|ids| ids.sms_order_id.as_ref())),
        ("edge", report.edge.unwrap_or_default().to_string()),
        ("previous-run-url", report.previous_run_url.clone().unwrap_or_default()),
        ("acknowledged", report.acknowledged().to_string()),
        ("superseded", report.superseded().to_string()),
        ("paged", report.paged.map(|p| p.to_string()).unwrap_or_default()),
        ("json", json.trim_end().to_string()),
    ]
}

/// The `$GITHUB_OUTPUT` text: every value in the multi-line form `name<<DELIM`, value, `DELIM`,
/// with a fresh delimiter per value that the value does not contain (a fixed `EOF` would let a
/// value holding `EOF` end early and forge the next output).
pub fn output_file_text(outputs: &[(&str, String)], mut delimiter: impl FnMut() -> String) -> String {
    let mut text = String::new();
    for (name, value) in outputs {
        let delim = loop {
            let candidate = delimiter();
            if !value.contains(&candidate) && !name.contains(&candidate) {
                break candidate;
            }
        };
        let _ = write!(text, "{name}<<{delim}\n{value}\n{delim}\n");
    }
    text
}

/// The delivery table for `$GITHUB_STEP_SUMMARY`, in GitHub-flavoured Markdown. Text from
/// outside (titles, provider answers) is escaped so it cannot break the table or inject
/// markup, and the whole is capped at [`MAX_SUMMARY`] bytes. `redact` is applied to each piece
/// of text **before** it is escaped: escaping first could split a secret (`a_b` → `a\_b`) so
/// that the redactor no longer recognises it.
pub fn summary(report: &RunReport, redact: &dyn Fn(&str) -> String) -> String {
    let cell = |text: &str| cell(&redact(text));
    let mut md = format!("### onfail: {}\n\n", report.result.as_str());
    let _ = write!(md, "**{}** · status `{}` · {} ms\n\n", cell(&report.title), report.status, report.duration_ms);
    if let Some(edge) = report.edge {
        // Why channels stayed silent is in their rows; this says what they were measured against.
        let previous = report.previous_run_url.as_deref().map(|u| format!(" · previous run: {}", cell(u)));
        let _ = write!(md, "Edge `{edge}`{} (--notify-when changes)\n\n", previous.unwrap_or_default());
    }
    if report.channels.is_empty() {
        md.push_str("No channel is configured; nothing was sent.\n");
    } else {
        md.push_str("| channel | provider | result | attempts | HTTP | recipients | detail |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
        for c in &report.channels {
            let result = match c.result {
                ChannelResult::Sent => "✅ sent",
                ChannelResult::Failed => "❌ failed",
                ChannelResult::Skipped => "⏭️ skipped",
                ChannelResult::DryRun => "📝 dry run",
            };
            let http = c.http_status.map(|s| s.to_string()).unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {} | {result} | {} | {http} | {} | {} |",
                c.channel,
                c.provider,
                c.attempts,
                cell(&c.recipients.join(", ")),
                cell(&c.detail)
            );
        }
    }
    if let Some(escalation) = &report.escalation {
        escalation_summary(&mut md, escalation);
    }
    pages_summary(&mut md, report);
    let warnings: Vec<String> = report
        .warnings
        .iter()
        .cloned()
        .chain(report.channels.iter().flat_map(|c| c.warnings.iter().map(move |w| format!("{}: {w}", c.channel))))
        .collect();
    if !warnings.is_empty() {
        md.push_str("\n**Warnings**\n\n");
        for warning in warnings {
            let _ = writeln!(md, "- {}", cell(&warning));
        }
    }
    cap_summary(md)
}

/// The escalation's part of the summary: how it ended, and one row per number per page.
fn escalation_summary(md: &mut String, escalation: &EscalationReport) {
    let by_link = escalation.acknowledged_at.as_deref().filter(|_| escalation.acknowledged_by == Some("link"));
    let by_link =
        by_link.map(|at| format!("**acknowledged** by the link in the SMS at {at}, so nothing more was sent"));
    let ended = match escalation.ended {
        EscalationEnd::Acknowledged if by_link.is_some() => by_link.as_deref().unwrap_or_default(),
        EscalationEnd::Acknowledged => {
            "**acknowledged**: the run was cancelled while onfail waited, so nothing more was sent"
        }
        EscalationEnd::Superseded => {
            "**superseded**: a newer run of this workflow and branch cancelled this one, so nothing more was sent"
        }
        EscalationEnd::EscalationTimeout => "ended by --escalation-timeout",
        EscalationEnd::DryRun => "dry run: nothing was sent",
        EscalationEnd::Completed => "completed",
    };
    let _ = write!(md, "\n**Escalation** `{}`: {ended}\n\n", escalation.mode);
    if escalation.recipients.is_empty() {
        return;
    }
    md.push_str("| round | level | recipient | SMS | called |\n|---|---|---|---|---|\n");
    for r in &escalation.recipients {
        let called = if r.called { "yes" } else { "no" };
        let sms = r.sms.unwrap_or("—");
        let _ = writeln!(md, "| {} | {} | {} | {sms} | {called} |", r.round, r.level, cell(&r.recipient));
    }
}

/// Who was reached, one row per number per channel per page (docs/noise-control.md, "Paged means a person
/// was reached").
fn pages_summary(md: &mut String, report: &RunReport) {
    if report.pages.is_empty() {
        return;
    }
    let paged = match report.paged {
        Some(true) => "**paged**: every call and text reached its person",
        Some(false) => "**not paged**: a call or text did not reach its person; the next failure pages again",
        None => "who was reached",
    };
    let _ = write!(md, "\n{paged}\n\n| recipient | channel | result | at |\n|---|---|---|---|\n");
    for record in &report.pages {
        let at = humantime::format_rfc3339_seconds(record.at);
        let _ = writeln!(md, "| {} | {} | {} | {at} |", cell(&record.masked()), record.channel, record.result.as_str());
    }
}

fn cap_summary(mut md: String) -> String {
    const NOTE: &str = "\n\n_(cut: the summary is limited to 64 KiB; the full result is in the `json` output)_\n";
    if md.len() <= MAX_SUMMARY {
        return md;
    }
    let mut end = MAX_SUMMARY - NOTE.len();
    while !md.is_char_boundary(end) {
        end -= 1;
    }
    md.truncate(end);
    md.push_str(NOTE);
    md
}

/// One Markdown table cell: one line, at most [`MAX_CELL`] characters, with every character
/// that could end the cell or start markup escaped.
fn cell(text: &str) -> String {
    let flat = crate::redact::blank_controls(text);
    let (short, cut) = crate::values::truncate_chars(&flat, MAX_CELL);
    let mut out = String::with_capacity(short.len());
    for c in short.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' | '@' | ':' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if cut {
        out.push('…');
    }
    out
}

/// Appends `text` to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`).
pub fn append(path: &Path, text: &str) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    write_all(&mut file, text)
}

/// Writes `text` whole; the one place runner text meets a writer.
pub fn write_all(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ChannelReport;
    use crate::wire::Ids;

    fn channel(name: &'static str, result: ChannelResult, detail: &str) -> ChannelReport {
        ChannelReport {
            channel: name,
            provider: "alertalk",
            result,
            attempts: 1,
            http_status: Some(200),
            detail: detail.into(),
            recipients: vec!["5*******67".into()],
            ids: Ids::default(),
            warnings: vec![],
            request: None,
            stage: None,
        }
    }

    fn report(channels: Vec<ChannelReport>) -> RunReport {
        RunReport::new("failure", "Deploy failed".into(), channels, false)
    }

    #[test]
    fn data_and_properties_are_escaped_like_the_toolkit() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
        assert_eq!(
            command("error", &[("title", "x: y, z")], "line1\nline2"),
            "::error title=x%3A y%2C z::line1%0Aline2\n"
        );
        assert_eq!(command("add-mask", &[], "s%3A"), "::add-mask::s%253A\n");
    }

    #[test]
    fn masks_cover_each_line_and_skip_short_values() {
        let text = masks(["key-123456", "ab", "multi\nline-secret", "key-123456"]);
        assert_eq!(
            text,
            "::add-mask::key-123456\n::add-mask::line-secret\n::add-mask::multi\n::add-mask::multi%0Aline-secret\n"
        );
    }

    #[test]
    fn guard_wraps_only_command_like_text() {
        assert_eq!(guard("onfail: all good\n", "T"), "onfail: all good\n");
        let wrapped = guard("detail: x\n  ::warning::pwned", "tok");
        assert_eq!(wrapped, "::stop-commands::tok\ndetail: x\n  ::warning::pwned\n::tok::\n");
        assert!(looks_like_command("said ##[error]x"));
        assert!(looks_like_command("ok\r::warning::after a lone CR"));
        assert!(looks_like_command("ok\n\u{a0}::warning::after a no-break space"));
        assert!(!looks_like_command("https://a.test/x a::b"));
    }

    #[test]
    fn json_is_defused_without_changing_its_value() {
        let json = serde_json::to_string_pretty(&serde_json::json!({"d": "x ##[warning]y"})).unwrap();
        let defused = defuse_json(&json);
        assert!(!defused.contains("##["));
        let back: serde_json::Value = serde_json::from_str(&defused).unwrap();
        assert_eq!(back["d"], "x ##[warning]y");
    }

    #[test]
    fn tokens_are_fresh() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn outputs_use_a_delimiter_the_value_does_not_contain() {
        let outputs = vec![("json", "a\nD1\nb".to_string()), ("result", "sent".to_string())];
        let mut delims = vec!["D1", "D2", "D3"].into_iter();
        let text = output_file_text(&outputs, || delims.next().unwrap().to_string());
        assert_eq!(text, "json<<D2\na\nD1\nb\nD2\nresult<<D3\nsent\nD3\n");
    }

    #[test]
    fn outputs_name_channels_and_ids() {
        let mut sms = channel("sms", ChannelResult::Sent, "ok");
        sms.ids.sms_order_id = Some("77".into());
        let mut incident = channel("incident", ChannelResult::Failed, "down");
        incident.ids.alert_id = Some("acme-api-deploy".into());
        let r = report(vec![channel("voice", ChannelResult::Sent, "queued"), sms, incident]);
        let out = outputs(&r, "{}\n");
        assert_eq!(
            out,
            vec![
                ("result", "partial".to_string()),
                ("sent-channels", "voice,sms".to_string()),
                ("failed-channels", "incident".to_string()),
                ("alert-id", "acme-api-deploy".to_string()),
                ("sms-order-id", "77".to_string()),
                ("edge", String::new()),
                ("previous-run-url", String::new()),
                ("acknowledged", "false".to_string()),
                ("superseded", "false".to_string()),
                ("paged", String::new()),
                ("json", "{}".to_string()),
            ]
        );
    }

    #[test]
    fn annotations_are_capped_at_ten_per_level() {
        let channels = (0..12).map(|_| channel("voice", ChannelResult::Failed, "down")).collect();
        let mut r = report(channels);
        r.warnings.push("w".into());
        let list = annotations(&r);
        let errors: Vec<_> = list.iter().filter(|a| a.level == Level::Error).collect();
        assert_eq!(errors.len(), MAX_ANNOTATIONS);
        assert_eq!(errors[9].message, "3 more; see the step summary");
        assert_eq!(list.iter().filter(|a| a.level == Level::Warning).count(), 1);
        assert_eq!(list[0].line(), "::error title=onfail voice (alertalk)::down\n");
    }

    #[test]
    fn skips_and_warnings_are_warnings() {
        let mut skipped = channel("voice", ChannelResult::Skipped, "status success is not in --notify-on (failure)");
        skipped.warnings.push("text cut".into());
        let list = annotations(&report(vec![skipped]));
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|a| a.level == Level::Warning));
        assert_eq!(list[0].message, "skipped: status success is not in --notify-on (failure)");
    }

    #[test]
    fn summary_escapes_outside_text_into_one_cell() {
        let hostile = "a | b\nc <img src=x> [link](http://x) `code` @team **bold** s3cr_t";
        let r = report(vec![channel("voice", ChannelResult::Failed, hostile)]);
        let md = summary(&r, &|t| t.replace("s3cr_t", "***"));
        let row = md.lines().find(|l| l.starts_with("| voice")).unwrap();
        assert_eq!(row.matches(" | ").count() + 2, 8, "{row}");
        assert!(
            row.contains(r"a \| b c &lt;img src=x&gt; \[link\](http\://x) \`code\` \@team \*\*bold\*\* \*\*\*"),
            "{row}"
        );
        assert!(md.starts_with("### onfail: failed\n"));
    }

    #[test]
    fn summary_is_capped_on_a_character_boundary() {
        let channels = (0..400).map(|_| channel("voice", ChannelResult::Failed, &"ş".repeat(400))).collect();
        let md = summary(&report(channels), &|t| t.to_string());
        assert!(md.len() <= MAX_SUMMARY);
        assert!(md.ends_with("the full result is in the `json` output)_\n"));
    }

    #[test]
    fn runner_is_detected_only_under_actions() {
        let env: Env = [("GITHUB_ACTIONS", "true"), ("GITHUB_OUTPUT", "/o"), ("GITHUB_STEP_SUMMARY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let runner = Runner::detect(&env).unwrap();
        assert_eq!(runner.output_file, Some(PathBuf::from("/o")));
        assert_eq!(runner.summary_file, None);
        assert_eq!(Runner::detect(&Env::new()), None);
    }
}
