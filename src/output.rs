//! The only place onfail writes to the terminal. Everything passes through the redactor, so no
//! secret or phone number reaches stdout or stderr, whatever produced the text.
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
    pub fn new(redactor: Redactor) -> Output {
        Output { redactor, github: None }
    }

    /// Under GitHub Actions (`GITHUB_ACTIONS=true` in `env`): prints an `::add-mask::` for every
    /// secret and every spelling of every phone number now, before anything else, and turns on
    /// the GitHub behaviour of the other methods. Elsewhere it changes nothing.
    pub fn for_github(mut self, env: &Env) -> Output {
        self.github = Runner::detect(env);
        if self.github.is_some() {
            let _ = gha::write_all(&mut std::io::stderr().lock(), &gha::masks(self.redactor.needles()));
        }
        self
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn redact(&self, text: &str) -> String {
        self.redactor.apply(text)
    }

    /// A progress or result line on stderr.
    pub fn line(&self, text: &str) {
        self.stderr(&format!("onfail: {text}\n"));
    }

    pub fn warning(&self, text: &str) {
        self.stderr(&format!("onfail: warning: {text}\n"));
    }

    /// An error line; under GitHub Actions also an `::error::` annotation.
    pub fn error(&self, text: &str) {
        self.stderr(&format!("onfail: error: {text}\n"));
        if self.github.is_some() {
            self.annotate(&Annotation::new(Level::Error, "onfail", text));
        }
    }

    /// The command's product (dry-run requests, the JSON document) on stdout.
    pub fn stdout(&self, text: &str) {
        let mut text = self.redact(text);
        if self.github.is_some() {
            // The JSON document keeps its exact value (and stays parseable); other text is wrapped.
            text = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(_) => gha::defuse_json(&text),
                Err(_) => gha::guard(&text, &gha::random_token()),
            };
        }
        // A closed pipe (`onfail ... | head`) is not worth a panic or an error exit.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }

    fn stderr(&self, text: &str) {
        let mut text = self.redact(text);
        if self.github.is_some() {
            text = gha::guard(&text, &gha::random_token());
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Under GitHub Actions: the step outputs, the step summary and the annotations for a
    /// finished send. A runner file that cannot be written is a warning, not a failed alert.
    pub fn github_report(&self, report: &RunReport) {
        let Some(runner) = &self.github else { return };
        if let Some(path) = &runner.output_file {
            let json = self.redact(&render::json(report));
            let outputs: Vec<(&str, String)> =
                gha::outputs(report, &json).into_iter().map(|(name, value)| (name, self.redact(&value))).collect();
            if let Err(e) = gha::append(path, &gha::output_file_text(&outputs, gha::delimiter)) {
                self.warning(&format!("could not write the step outputs to GITHUB_OUTPUT: {e}"));
            }
        }
        if let Some(path) = &runner.summary_file
            && let Err(e) = gha::append(path, &self.redact(&gha::summary(report, &|text| self.redact(text))))
        {
            self.warning(&format!("could not write the step summary to GITHUB_STEP_SUMMARY: {e}"));
        }
        for annotation in gha::annotations(report) {
            self.annotate(&annotation);
        }
    }

    /// Our own workflow command: redacted, then escaped, so it is exactly one command line.
    fn annotate(&self, annotation: &Annotation) {
        let redacted =
            Annotation::new(annotation.level, self.redact(&annotation.title), self.redact(&annotation.message));
        let _ = gha::write_all(&mut std::io::stderr().lock(), &redacted.line());
    }
}
