//! The only place onfail writes to the terminal. Free text (errors, warnings) passes through the
//! redactor whole; a report has its outside values redacted one by one ([`Output::redacted`])
//! and is then printed as rendered, so a secret that happens to be `sent` or `voice` never
//! rewrites onfail's own words. Either way, no secret or phone number reaches stdout or stderr,
//! and no control character or terminal escape sequence from outside is printed raw.
//!
//! Under GitHub Actions it also registers the secrets with `::add-mask::` first thing, keeps
//! echoed text from being read as workflow commands, and writes the step outputs, the step
//! summary and the annotations (all rendered by [`crate::gha`], all redacted here).

use std::io::Write;

use crate::context::Env;
use crate::gha::{self, Annotation, Level, Runner};
use crate::redact::Redactor;
use crate::render;
use crate::report::RunReport;

pub struct Output {
    redactor: Redactor,
    /// Set when running under GitHub Actions.
    github: Option<Runner>,
}

impl Output {
    /// The output for one command. Whether onfail runs under GitHub Actions is decided here, once
    /// for every command (`send`, `run`, `check` and usage errors alike), by [`Runner::detect`].
    /// Under GitHub Actions it prints an `::add-mask::` for every secret and every spelling of
    /// every phone number now, before anything else, and turns on the GitHub behaviour of the
    /// other methods. Elsewhere it prints nothing.
    pub fn new(redactor: Redactor, env: &Env) -> Output {
        let github = Runner::detect(env);
        if github.is_some() {
            let _ = gha::write_all(
                &mut std::io::stderr().lock(),
                &gha::masks(redactor.needles().iter().map(String::as_str)),
            );
        }
        Output { redactor, github }
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn redact(&self, text: &str) -> String {
        self.redactor.apply(text)
    }

    /// A copy of `report` with every value from outside redacted (see [`RunReport::redact`]),
    /// ready for the `rendered_*` methods and [`Output::github_report`].
    pub fn redacted(&self, report: &RunReport) -> RunReport {
        let mut report = report.clone();
        report.redact(&self.redactor);
        report
    }

    /// A progress or result line on stderr; `text` may hold anything and is redacted.
    pub fn line(&self, text: &str) {
        self.stderr(&format!("onfail: {}\n", self.redact(text)));
    }

    pub fn warning(&self, text: &str) {
        self.stderr(&format!("onfail: warning: {}\n", self.redact(text)));
    }

    /// An error line; under GitHub Actions also an `::error::` annotation.
    pub fn error(&self, text: &str) {
        let text = self.redact(text);
        self.stderr(&format!("onfail: error: {text}\n"));
        if self.github.is_some() {
            self.annotate(&Annotation::new(Level::Error, "onfail", text));
        }
    }

    /// A usage error as clap words it (its own `error:` prefix, usage and hint included). It may
    /// echo any argument, so it is redacted, under GitHub Actions guarded like every other echo,
    /// and its first line becomes an `::error::` annotation.
    pub fn usage_error(&self, text: &str) {
        let text = self.redact(text);
        self.stderr(&text);
        if self.github.is_some() {
            let first = text.lines().next().unwrap_or_default();
            self.annotate(&Annotation::new(Level::Error, "onfail", first.strip_prefix("error: ").unwrap_or(first)));
        }
    }

    /// The command's product on stdout; `text` may hold anything and is redacted.
    pub fn stdout(&self, text: &str) {
        self.rendered_stdout(&self.redact(text));
    }

    /// A line rendered from a [redacted](Output::redacted) report: printed as it is.
    pub fn rendered_line(&self, text: &str) {
        self.stderr(&format!("onfail: {text}\n"));
    }

    /// A warning rendered from a [redacted](Output::redacted) report: printed as it is.
    pub fn rendered_warning(&self, text: &str) {
        self.stderr(&format!("onfail: warning: {text}\n"));
    }

    /// Dry-run requests or the JSON document, rendered from a [redacted](Output::redacted)
    /// report, on stdout.
    pub fn rendered_stdout(&self, text: &str) {
        let is_json = serde_json::from_str::<serde_json::Value>(text).is_ok();
        // The JSON document keeps its exact value (and stays parseable).
        let mut text = if is_json { neutralise_json(text) } else { neutralise(text) };
        if self.github.is_some() {
            text = if is_json { gha::defuse_json(&text) } else { gha::guard(&text, &gha::random_token()) };
        }
        // A closed pipe (`onfail ... | head`) is not worth a panic or an error exit.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    fn stderr(&self, text: &str) {
        let mut text = neutralise(text);
        if self.github.is_some() {
            text = gha::guard(&text, &gha::random_token());
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Under GitHub Actions: the step outputs, the step summary and the annotations for a
    /// finished send, from a [redacted](Output::redacted) report. A runner file that cannot be
    /// written is a warning, not a failed alert.
    pub fn github_report(&self, report: &RunReport) {
        let Some(runner) = &self.github else { return };
        if let Some(path) = &runner.output_file {
            let json = neutralise_json(&render::json(report));
            let outputs: Vec<(&str, String)> = gha::outputs(report, &json)
                .into_iter()
                .map(|(name, value)| (name, if name == "json" { value } else { neutralise(&value) }))
                .collect();
            if let Err(e) = gha::append(path, &gha::output_file_text(&outputs, gha::delimiter)) {
                self.warning(&format!("could not write the step outputs to GITHUB_OUTPUT: {e}"));
            }
        }
        // Each cell is redacted again before it is escaped: a value never meets the redactor in
        // escaped form.
        if let Some(path) = &runner.summary_file
            && let Err(e) = gha::append(path, &neutralise(&gha::summary(report, &|text| self.redact(text))))
        {
            self.warning(&format!("could not write the step summary to GITHUB_STEP_SUMMARY: {e}"));
        }
        for annotation in gha::annotations(report) {
            self.annotate(&annotation);
        }
    }

    /// Our own workflow command, from redacted text: neutralised, then escaped, so it is
    /// exactly one command line.
    fn annotate(&self, annotation: &Annotation) {
        let shown = Annotation::new(annotation.level, neutralise(&annotation.title), neutralise(&annotation.message));
        let _ = gha::write_all(&mut std::io::stderr().lock(), &shown.line());
    }
}

/// Characters that reorder or hide text without being control characters: the bidirectional
/// overrides, embeddings, isolates and marks, and the Unicode line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Text made harmless for a terminal and a log: escape sequences (CSI `ESC [ … final`, OSC
/// `ESC ] … BEL/ST`, and two-character ones) are dropped whole, and every other control character
/// (C0, DEL, C1 such as U+009B) and bidirectional override becomes `�`. Newlines and tabs stay:
/// onfail's own lines are made of them, and they cannot move the cursor backwards.
pub fn neutralise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS and friends: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || c == '\u{9c}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_control() || is_invisible_format(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A JSON document made harmless the same way without changing its value: serde already escapes
/// C0 controls, so what is left (DEL, C1, bidirectional overrides), which can only occur inside
/// strings, is written as `\uXXXX`.
pub fn neutralise_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if (c.is_control() && c != '\n') || is_invisible_format(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_never_reach_the_terminal() {
        let hostile =
            "a\u{1b}[2J\u{1b}[31mred\u{1b}]0;pwned\u{7}b\u{1b}]8;;http://x\u{1b}\\c\rd\u{8}e\u{9b}31mf\u{202e}g\u{0}h";
        let shown = neutralise(hostile);
        assert_eq!(shown, "aredbc\u{FFFD}d\u{FFFD}e\u{FFFD}31mf\u{FFFD}g\u{FFFD}h");
        assert_eq!(neutralise("line 1\n\tline 2\n"), "line 1\n\tline 2\n");
        assert_eq!(neutralise("cut \u{1b}"), "cut ");
    }

    #[test]
    fn json_keeps_its_value() {
        let value = serde_json::json!({"detail": "a\u{9b}b\u{202e}c\u{7f}d\u{1b}e\n"});
        let json = serde_json::to_string_pretty(&value).unwrap();
        let shown = neutralise_json(&json);
        assert!(!shown.contains(['\u{9b}', '\u{202e}', '\u{7f}', '\u{1b}']), "{shown}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).unwrap(), value);
    }
}
