//! What a channel and the delivery engine exchange: the request a channel wants sent, the
//! response that came back, the channel's verdict on it, and what a delivered channel reports.
//! Plain data with no knowledge of any provider, so that [`crate::transport`] can sit below the
//! channels.

use std::time::Duration;

use serde::Serialize;

/// One HTTP request, as a channel wants it sent. Always a JSON POST.
#[derive(Clone, Debug)]
pub struct Request {
    pub url: reqwest::Url,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    /// Whether the provider takes a second copy of this request for the same one (it
    /// deduplicates by a key, or the request only reads). Then a request that got no answer may
    /// be sent again; otherwise only one that surely did not arrive is (docs/delivery.md, "Delivery":
    /// never twice, never never).
    pub repeat_safe: bool,
}

#[derive(Clone, Debug)]
pub struct Header {
    pub name: String,
    pub value: String,
    /// Shown as `***` in every output.
    pub secret: bool,
}

impl Header {
    pub fn public(name: &str, value: &str) -> Header {
        Header { name: name.into(), value: value.into(), secret: false }
    }

    pub fn secret(name: &str, value: &str) -> Header {
        Header { name: name.into(), value: value.into(), secret: true }
    }
}

/// What came back, with the body capped (see [`crate::transport::MAX_BODY`]).
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub location: Option<String>,
    /// The declared media type, which tells a web page from an API's answer ([`web_page`]).
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Why the body is incomplete, when the connection broke or stalled after the status line.
    /// The status still stands: a provider that answered 200 has accepted the request, and
    /// retrying could ring the same phones twice.
    pub cut_off: Option<String>,
}

impl Response {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// ` (<who> said: <excerpt>)`, or nothing for an empty body: the provider's own words, to end
    /// an error message with.
    pub fn said_by(&self, who: &str) -> String {
        said_by(who, &self.excerpt())
    }

    /// A short, printable excerpt of the body for error messages. The body's secrets are gone
    /// already (the transport scrubs it on arrival), so the cut cannot leave part of one.
    pub fn excerpt(&self) -> String {
        crate::redact::one_line_cut(&String::from_utf8_lossy(&self.body), 200)
    }
}

/// How a channel judges one response.
#[derive(Clone, Debug)]
pub enum Verdict {
    Delivered(Delivery),
    /// Will not get better by retrying (bad key, no credit, bad request).
    Permanent(String),
    /// May succeed on another attempt (5xx, 429, a cut-off body).
    Transient(String),
}

/// What a delivered channel reports.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    pub detail: String,
    pub ids: Ids,
    pub warnings: Vec<String>,
}

/// Identifiers a provider hands back, for the JSON output and the action's outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ids {
    /// How many calls Alertalk queued: a number, not its sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls_queued: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delivery_states: Vec<RecipientState>,
}

impl Ids {
    /// Adds what `other` knows; its values win where both have one.
    pub fn merge(&mut self, other: Ids) {
        self.calls_queued = other.calls_queued.or(self.calls_queued.take());
        self.sms_order_id = other.sms_order_id.or(self.sms_order_id.take());
        self.alert_id = other.alert_id.or(self.alert_id.take());
        if !other.delivery_states.is_empty() {
            self.delivery_states = other.delivery_states;
        }
    }
}

/// The delivery state of one (masked) recipient.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecipientState {
    pub recipient: String,
    pub state: String,
}

/// Why a 2xx answer that is a web page (HTML) is not a delivery, or `None` for any other
/// answer. The JSON APIs never answer with a page; a proxy's or captive portal's login page,
/// or a web site at a mistyped URL, does, with 200 (docs/delivery.md, "Delivery"). The page's title, if it
/// has one, says whose page it is. `what` is what did not arrive ("the call", "the event"),
/// `option` the URL option to check.
pub fn web_page(response: &Response, provider: &str, what: &str, option: &str) -> Option<String> {
    if !(200..=299).contains(&response.status) || !is_html(response) {
        return None;
    }
    let text = String::from_utf8_lossy(&response.body);
    let lower = text.to_ascii_lowercase();
    let title = lower
        .find("<title")
        .and_then(|start| Some(start + lower[start..].find('>')? + 1))
        .and_then(|start| Some(&text[start..start + lower[start..].find("</title")?]))
        .map(|title| title.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|title| !title.is_empty())
        .map(|title| format!(" titled \"{}\"", crate::redact::cut(&title, 80)))
        .unwrap_or_default();
    Some(format!(
        "HTTP {} with a web page{title} instead of {provider}'s answer: a proxy's or captive portal's login \
         page, or a web site at a wrong URL, took the request, so {what} did not reach {provider}; check \
         {option} and HTTPS_PROXY",
        response.status
    ))
}

/// Whether an answer is a web page: a body that starts as HTML does (`<!DOCTYPE html`, `<html`),
/// or, declared `text/html`, with any tag. Not the declared type alone: many servers label
/// every answer `text/html`, a JSON one or an empty one too, and those are still the API's.
fn is_html(response: &Response) -> bool {
    let start: Vec<u8> = response
        .body
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&response.body)
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(14)
        .map(u8::to_ascii_lowercase)
        .collect();
    let declared =
        response.content_type.as_deref().is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/html"));
    start.starts_with(b"<!doctype html") || start.starts_with(b"<html") || (declared && start.starts_with(b"<"))
}

/// ` (<who> said: <text>)`, or nothing when `text` is empty.
pub fn said_by(who: &str, text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(" ({who} said: {text})") }
}

/// The verdict for a response no provider-specific rule covered (docs/delivery.md, "Delivery"): 2xx is the caller's
/// business, 3xx is never followed, 429 and 5xx are worth retrying, other 4xx are permanent.
pub fn generic_verdict(response: &Response, provider: &str) -> Verdict {
    let status = response.status;
    let said = match response.excerpt() {
        excerpt if excerpt.is_empty() => String::new(),
        excerpt => format!(": {excerpt}"),
    };
    match status {
        300..=399 => Verdict::Permanent(format!(
            "{provider} answered with a redirect (HTTP {status}), which onfail never follows; use the final URL"
        )),
        429 => Verdict::Transient(format!("{provider} is rate limiting (HTTP 429){said}")),
        500..=599 => Verdict::Transient(format!("{provider} had a server error (HTTP {status}){said}")),
        _ => Verdict::Permanent(format!("{provider} rejected the request (HTTP {status}){said}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: Option<&str>, body: &str) -> Response {
        Response { status, content_type: content_type.map(str::to_string), body: body.into(), ..Response::default() }
    }

    #[test]
    fn a_web_page_is_told_from_an_api_answer() {
        let page = |r: &Response| web_page(r, "Alertalk", "the call", "--alertalk-url");
        let html = Some("text/html; charset=UTF-8");
        // Servers that label every answer text/html still answer in their own terms.
        for api in [
            answer(200, html, r#"{"message":"1 call(s) queued","status":"success"}"#),
            answer(200, html, ""),
            answer(200, html, "OK"),
            answer(200, None, "<?xml version=\"1.0\"?><ok/>"),
            answer(302, html, "<html>moved</html>"),
            answer(503, None, "<!DOCTYPE html><title>Down</title>"),
        ] {
            assert_eq!(page(&api), None, "{api:?}");
        }
        let portal = answer(200, None, "\u{feff}\n  <!DOCTYPE HTML><html><head><TITLE>\n Wi-Fi   login </TITLE>");
        let why = page(&portal).unwrap();
        assert!(
            why.starts_with("HTTP 200 with a web page titled \"Wi-Fi login\" instead of Alertalk's answer"),
            "{why}"
        );
        assert!(why.ends_with("so the call did not reach Alertalk; check --alertalk-url and HTTPS_PROXY"), "{why}");
        assert!(
            page(&answer(202, html, "<div>Sign in</div>")).unwrap().starts_with("HTTP 202 with a web page instead")
        );
        assert!(page(&answer(200, None, "<html><title>x")).unwrap().contains("with a web page instead"));
    }
}
