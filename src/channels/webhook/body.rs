//! The webhook bodies, pure: the standard event (docs/webhooks.md, "Webhooks"), a user's JSON template,
//! and the minimal Slack and Discord messages (`docs/providers.md`, "Webhooks"). Each is returned
//! as the exact bytes to send (and sign), always valid JSON whatever text went in: values are
//! escaped by serde_json, never pasted into JSON by hand.

use serde::Serialize;

use crate::context::{Context, FailedStep};
use crate::redact;
use crate::template::{Template, TemplateError};

/// Placeholders `--webhook-body` knows beyond the context's.
pub const EXTRA_PLACEHOLDERS: [&str; 2] = ["title", "message"];

/// Slack truncates text past 40,000 characters but advises clients to keep messages under
/// 4,000; an alert never needs more, and a cut with a visible `…` beats a silent one.
pub const SLACK_MAX: usize = 4000;

/// Discord refuses `content` longer than 2,000 characters. Counted in UTF-16 units, which is
/// never less than the count in characters, so the limit holds whichever way Discord counts.
pub const DISCORD_MAX: usize = 2000;

/// The standard body: `{"type": "ci.<status>", "timestamp": …, "data": {…}}`, every context
/// field present (empty when unknown), so receivers can rely on one shape. Serialised from the
/// struct, so the keys go out in this order.
#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: String,
    timestamp: &'a str,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    status: &'a str,
    title: &'a str,
    message: &'a str,
    repository: &'a str,
    workflow: &'a str,
    job: &'a str,
    ref_name: &'a str,
    sha: &'a str,
    actor: &'a str,
    event: &'a str,
    run_id: &'a str,
    run_attempt: &'a str,
    run_url: &'a str,
    job_url: &'a str,
    // Beyond the fields every CI has: outside GitHub the host is often the only context there is.
    run_number: &'a str,
    server_url: &'a str,
    hostname: &'a str,
    /// The jobs that failed: display names from the jobs API, else the ids `--needs` gives;
    /// empty when not known.
    failed_jobs: &'a [String],
    /// From the jobs API: `{"job": …, "step": …}`, the first failed step of each failed job.
    failed_steps: &'a [FailedStep],
}

pub fn standard(context: &Context, title: &str, message: &str) -> Vec<u8> {
    let event = Event {
        kind: format!("ci.{}", context.status.as_str()),
        timestamp: &context.time,
        data: Data {
            status: context.status.as_str(),
            title,
            message,
            repository: &context.repository,
            workflow: &context.workflow,
            job: &context.job,
            ref_name: &context.ref_name,
            sha: &context.sha,
            actor: &context.actor,
            event: &context.event,
            run_id: &context.run_id,
            run_attempt: &context.run_attempt,
            run_url: &context.run_url,
            job_url: &context.job_url,
            run_number: &context.run_number,
            server_url: &context.server_url,
            hostname: &context.hostname,
            failed_jobs: &context.failed_jobs,
            failed_steps: &context.failed_steps,
        },
    };
    serde_json::to_vec(&event).expect("a struct of strings always serialises")
}

/// Why a template was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TemplateProblem {
    /// Not JSON: serde's description (a position, never the content).
    Json(String),
    Placeholder(TemplateError),
}

/// Checks that `source` is JSON, then fills the placeholders in every string value. Only the
/// string values change, each re-encoded by serde_json (so inserted text is JSON-escaped);
/// keys, numbers, key order and whitespace go out exactly as the user wrote them.
pub fn from_template(source: &str, lookup: impl Fn(&str) -> String) -> Result<Vec<u8>, TemplateProblem> {
    let json = |e: serde_json::Error| TemplateProblem::Json(e.to_string());
    serde_json::from_str::<serde_json::Value>(source).map_err(json)?;
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    // In valid JSON every quote outside a string opens a string, so this finds each literal.
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..open]);
        let close = open + redact::json_string_len(&rest[open..]) - 1;
        let (literal, after) = (&rest[open..=close], &rest[close + 1..]);
        if after.trim_start().starts_with(':') {
            out.push_str(literal); // an object key
        } else {
            let text: String = serde_json::from_str(literal).map_err(json)?;
            let rendered =
                Template::parse_with(&text, &EXTRA_PLACEHOLDERS).map_err(TemplateProblem::Placeholder)?.render(&lookup);
            out.push_str(&serde_json::to_string(&rendered).map_err(json)?);
        }
        rest = after;
    }
    out.push_str(rest);
    Ok(out.into_bytes())
}

/// A chat body and, if the text had to be cut, its length before cutting.
pub struct Chat {
    pub body: Vec<u8>,
    pub cut_from: Option<usize>,
}

#[derive(Serialize)]
struct SlackBody<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct DiscordBody<'a> {
    content: &'a str,
    allowed_mentions: AllowedMentions,
}

/// `{"parse": []}`: no mention type is parsed from the text.
#[derive(Serialize)]
struct AllowedMentions {
    parse: [&'static str; 0],
}

/// Slack: `{"text": …}` with `&`, `<` and `>` escaped as Slack asks, which also keeps commit
/// text from forming `<!channel>` mentions or disguised `<url|label>` links.
pub fn slack(text: &str) -> Chat {
    let cost = |c: char| match c {
        '&' => "&amp;".len(),
        '<' | '>' => "&lt;".len(),
        _ => 1,
    };
    let (kept, cut) = cut(text, SLACK_MAX, cost);
    let escaped = kept.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = serde_json::to_vec(&SlackBody { text: &escaped }).expect("a struct of strings always serialises");
    Chat { body, cut_from: cut.then(|| text.chars().count()) }
}

/// Discord: `{"content": …}` with every mention type disabled, so `@everyone` or `<@id>` in a
/// commit message cannot ping anyone.
pub fn discord(text: &str) -> Chat {
    let (kept, cut) = cut(text, DISCORD_MAX, char::len_utf16);
    let body = DiscordBody { content: &kept, allowed_mentions: AllowedMentions { parse: [] } };
    Chat {
        body: serde_json::to_vec(&body).expect("a struct of strings always serialises"),
        cut_from: cut.then(|| text.chars().count()),
    }
}

/// Keeps the longest prefix of whole characters whose total `cost` fits in `max` with a closing
/// `…`; text that fits already is returned unchanged.
fn cut(text: &str, max: usize, cost: impl Fn(char) -> usize) -> (String, bool) {
    if text.chars().map(&cost).sum::<usize>() <= max {
        return (text.to_string(), false);
    }
    let budget = max - cost('…');
    let mut used = 0;
    let mut kept: String = text
        .chars()
        .take_while(|c| {
            used += cost(*c);
            used <= budget
        })
        .collect();
    kept.push('…');
    (kept, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use serde_json::{Value, json};
    use std::time::{Duration, UNIX_EPOCH};

    fn context() -> Context {
        crate::context::github_fixture(Status::Cancelled, UNIX_EPOCH + Duration::from_secs(1_700_000_000))
    }

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("the body is valid JSON")
    }

    fn template(source: &str, lookup: impl Fn(&str) -> String) -> Result<String, TemplateProblem> {
        from_template(source, lookup).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn standard_body_has_type_timestamp_and_every_field() {
        let bytes = standard(&context(), "T", "M");
        assert!(bytes.starts_with(br#"{"type":"ci.cancelled","timestamp":"2023-11-14T22:13:20Z","data":{"status""#));
        let body = parsed(&bytes);
        let data = body["data"].as_object().unwrap();
        for key in [
            "status",
            "title",
            "message",
            "repository",
            "workflow",
            "job",
            "ref_name",
            "sha",
            "actor",
            "event",
            "run_id",
            "run_attempt",
            "run_url",
            "job_url",
        ] {
            assert!(data[key].is_string(), "{key}");
        }
        assert_eq!((data["title"].as_str(), data["message"].as_str()), (Some("T"), Some("M")));
        assert_eq!(data["run_url"], "https://github.com/acme/api/actions/runs/9");
        assert_eq!(data["job"], "", "unknown fields are empty, not missing");
    }

    #[test]
    fn templates_fill_string_values_and_keep_everything_else_as_written() {
        let hostile = "say \"hi\" \\ back\nslash\t{status} </x> \u{2028}";
        let source = "{\"z\": \"{title}!\", \"n\": 12345678901234567890123, \"f\": 1.50,\n  \"{status}\" : [true, null, \"{message}\"], \"lit\": \"{{x}} \\\"q\\\"\"}";
        let lookup = |name: &str| if name == "message" { hostile.to_string() } else { format!("<{name}>") };
        let sent = template(source, lookup).unwrap();
        assert!(
            sent.starts_with("{\"z\": \"<title>!\", \"n\": 12345678901234567890123, \"f\": 1.50,\n  \"{status}\" : ["),
            "{sent}"
        );
        let value = parsed(sent.as_bytes());
        assert_eq!(value["{status}"][2].as_str(), Some(hostile), "keys are kept, values inserted verbatim");
        assert_eq!(value["lit"], "{x} \"q\"");
        assert_eq!(template(r#""{status} at {time}""#, lookup).unwrap(), r#""<status> at <time>""#);
        assert_eq!(template("[1, {\"a\":\"\\\\\"}]", lookup).unwrap(), "[1, {\"a\":\"\\\\\"}]");
    }

    #[test]
    fn bad_templates_say_why() {
        let lookup = |_: &str| String::new();
        assert!(matches!(template(r#"{"a": }"#, lookup), Err(TemplateProblem::Json(e)) if e.contains("column")));
        assert!(
            matches!(template("{\"a\": \"x\ny\"}", lookup), Err(TemplateProblem::Json(e)) if e.contains("control character"))
        );
        assert!(matches!(template("{\"a\": 1} x", lookup), Err(TemplateProblem::Json(_))));
        assert!(matches!(template("", lookup), Err(TemplateProblem::Json(_))));
        assert_eq!(
            template(r#"{"a": ["{branch}"]}"#, lookup).unwrap_err(),
            TemplateProblem::Placeholder(TemplateError::Unknown("branch".into()))
        );
    }

    #[test]
    fn slack_escapes_control_characters_of_its_markup() {
        let chat = slack("a < b && c > d <!channel> <https://evil|ok>");
        assert_eq!(
            parsed(&chat.body),
            json!({"text": "a &lt; b &amp;&amp; c &gt; d &lt;!channel&gt; &lt;https://evil|ok&gt;"})
        );
        assert!(chat.cut_from.is_none());
    }

    #[test]
    fn slack_cuts_on_characters_and_counts_the_escapes() {
        let text = |chat: Chat| parsed(&chat.body)["text"].as_str().unwrap().to_string();
        let chat = slack(&"ş".repeat(SLACK_MAX + 1));
        assert_eq!(chat.cut_from, Some(SLACK_MAX + 1));
        let sent = text(chat);
        assert_eq!(sent.chars().count(), SLACK_MAX);
        assert!(sent.ends_with("ş…"));
        // 1000 ampersands escape to 5000 characters: they must be cut too, never mid-escape.
        let sent = text(slack(&"&".repeat(1000)));
        assert!(sent.chars().count() <= SLACK_MAX && sent.ends_with("&amp;…"), "{}", sent.len());
        assert_eq!(slack(&"x".repeat(SLACK_MAX)).cut_from, None);
    }

    #[test]
    fn discord_disables_mentions_and_cuts_to_2000() {
        let chat = discord("@everyone deploy failed");
        assert_eq!(chat.body, br#"{"content":"@everyone deploy failed","allowed_mentions":{"parse":[]}}"#);
        let chat = discord(&"🚨".repeat(1500));
        assert_eq!(chat.cut_from, Some(1500));
        let body = parsed(&chat.body);
        let content = body["content"].as_str().unwrap();
        assert!(content.encode_utf16().count() <= DISCORD_MAX);
        assert_eq!(content.chars().count(), 1000, "999 emoji and the ellipsis");
        assert_eq!(discord(&"x".repeat(DISCORD_MAX)).cut_from, None);
    }

    proptest::proptest! {
        #[test]
        fn any_inserted_text_stays_valid_json_with_the_exact_text(text in "\\PC*|[\"\\\\\n\r\t\u{0}-\u{1f}{}]*") {
            let sent = template(r#"{"a": ["{message}", "x{message}y"]}"#, |_| text.clone()).unwrap();
            let value = parsed(sent.as_bytes());
            proptest::prop_assert_eq!(value["a"][0].as_str(), Some(text.as_str()));
            proptest::prop_assert_eq!(value["a"][1].as_str().map(str::to_string), Some(format!("x{text}y")));
        }
    }
}
