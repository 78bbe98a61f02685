//! `{placeholder}` templates (docs/reference.md, "Placeholders"): `{{` and `}}` are literal braces, an
//! unknown name is an
//! error that lists the valid ones. Templates are parsed once, at configuration time, so a bad
//! template stops the run before anything is sent.

use std::fmt;

/// Every name a template may use, in the order the help and errors list them.
pub const PLACEHOLDERS: [&str; 18] = [
    "status",
    "repository",
    "workflow",
    "job",
    "ref_name",
    "sha",
    "short_sha",
    "actor",
    "event",
    "run_id",
    "run_number",
    "run_attempt",
    "run_url",
    "job_url",
    "server_url",
    "hostname",
    "time",
    "failed_jobs",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Placeholder(&'static str),
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    Unknown(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let valid = PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ");
        match self {
            TemplateError::Unknown(name) => write!(
                f,
                "unknown placeholder {{{name}}}; valid placeholders are {valid} (write {{{{name}}}} for a literal {{name}})"
            ),
        }
    }
}

/// `{name}` at the start of `text`, where name is an identifier (letters, digits, `_`, not
/// starting with a digit): the name and the text after the closing brace.
fn placeholder_at(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('{')?;
    let end = inner.find('}')?;
    let name = &inner[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    let identifier =
        (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    identifier.then(|| (name, &inner[end + 1..]))
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        Template::parse_with(source, &[])
    }

    /// Like [`Template::parse`], but also accepts the `extra` names: an option that knows more
    /// than the context (`--webhook-body` knows `{title}` and `{message}`) passes them here.
    pub fn parse_with(source: &str, extra: &[&'static str]) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{{") {
                text.push('{');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("}}") {
                text.push('}');
                rest = after;
            } else if let Some((name, after)) = placeholder_at(rest) {
                let known = PLACEHOLDERS
                    .iter()
                    .chain(extra)
                    .find(|p| **p == name)
                    .ok_or_else(|| TemplateError::Unknown(name.to_string()))?;
                if !text.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut text)));
                }
                segments.push(Segment::Placeholder(known));
                rest = after;
            } else {
                // Any other brace is text: JSON, `{ x }` or a lone `}` in a message stay as written.
                text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(Template { segments })
    }

    /// Renders with `lookup` giving each placeholder's value.
    pub fn render(&self, lookup: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Placeholder(name) => out.push_str(&lookup(name)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> String {
        Template::parse(source).unwrap().render(|name| format!("<{name}>"))
    }

    #[test]
    fn fills_placeholders_and_keeps_text() {
        assert_eq!(render("{workflow} failed on {ref_name}!"), "<workflow> failed on <ref_name>!");
        assert_eq!(render("plain"), "plain");
        assert_eq!(render(""), "");
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(render("{{status}} is {status}"), "{status} is <status>");
        assert_eq!(render("a }} b :}"), "a } b :}");
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = Template::parse("{nope}").unwrap_err();
        assert_eq!(err, TemplateError::Unknown("nope".into()));
        let text = err.to_string();
        assert!(text.contains("{nope}") && text.contains("{run_url}") && text.contains("{time}"));
        assert!(Template::parse("{HOME}").is_err());
    }

    #[test]
    fn braces_that_are_not_placeholders_stay_text() {
        assert_eq!(
            render(r#"{"a": [1]} { status } {status {9} ${x-y}"#),
            r#"{"a": [1]} { status } {status {9} ${x-y}"#
        );
    }

    #[test]
    fn extra_names_are_accepted_only_where_given() {
        assert!(Template::parse("{title}").is_err());
        let t = Template::parse_with("{title}: {status}", &["title"]).unwrap();
        assert_eq!(t.render(|name| format!("<{name}>")), "<title>: <status>");
    }

    #[test]
    fn values_are_inserted_verbatim() {
        let t = Template::parse("[{sha}]").unwrap();
        assert_eq!(t.render(|_| "{run_url} \"x\"".into()), "[{run_url} \"x\"]");
    }
}
