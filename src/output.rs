//! The only place onfail writes to the terminal. Everything passes through the redactor, so no
//! secret or phone number reaches stdout or stderr, whatever produced the text.

use std::io::Write;

use crate::redact::Redactor;

pub struct Output {
    redactor: Redactor,
}

impl Output {
    pub fn new(redactor: Redactor) -> Output {
        Output { redactor }
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

    pub fn error(&self, text: &str) {
        self.stderr(&format!("onfail: error: {text}\n"));
    }

    /// The command's product (dry-run requests, the JSON document) on stdout.
    pub fn stdout(&self, text: &str) {
        // A closed pipe (`onfail ... | head`) is not worth a panic or an error exit.
        let _ = std::io::stdout().lock().write_all(self.redact(text).as_bytes());
    }

    fn stderr(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(self.redact(text).as_bytes());
    }
}
