//! iletiMerkezi's JSON envelope (`docs/providers.md`, "iletiMerkezi"): the request bodies, reading
//! `response.status.code`, and what every documented code means in plain words.

use serde::Serialize;
use serde_json::Value;

use crate::wire::Response;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    request: Request<'a, T>,
}

#[derive(Serialize)]
struct Request<'a, T: Serialize> {
    authentication: Authentication<'a>,
    #[serde(flatten)]
    fields: T,
}

#[derive(Serialize)]
struct Authentication<'a> {
    key: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct SendFields<'a> {
    order: SendOrder<'a>,
}

#[derive(Serialize)]
struct SendOrder<'a> {
    sender: &'a str,
    /// "0": alerts are transactional, so no İYS consent lookup (`docs/providers.md`, "iletiMerkezi").
    iys: &'static str,
    /// Ignored when `iys` is "0"; sent anyway so a strict backend never answers 469.
    #[serde(rename = "iysList")]
    iys_list: &'static str,
    message: Message<'a>,
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
    /// Spelled this way by the API; "recipients" is not accepted.
    receipents: Numbers<'a>,
}

#[derive(Serialize)]
struct Numbers<'a> {
    number: &'a [String],
}

#[derive(Serialize)]
struct ReportFields<'a> {
    order: ReportOrder<'a>,
}

#[derive(Serialize)]
struct ReportOrder<'a> {
    id: &'a str,
    page: u32,
    #[serde(rename = "rowCount")]
    row_count: u32,
}

/// get-report returns at most this many messages per page.
pub const REPORT_PAGE: u32 = 1000;

/// The credentials every request carries in its body.
#[derive(Clone)]
pub struct Credentials {
    pub key: String,
    pub hash: String,
}

impl Credentials {
    fn body<T: Serialize>(&self, fields: T) -> Vec<u8> {
        let envelope = Envelope {
            request: Request { authentication: Authentication { key: &self.key, hash: &self.hash }, fields },
        };
        serde_json::to_vec(&envelope).expect("a struct of strings always serialises")
    }

    /// send-sms: one order, one text, every number as `905XXXXXXXXX`.
    pub fn send_sms(&self, sender: &str, text: &str, numbers: &[String]) -> Vec<u8> {
        let message = Message { text, receipents: Numbers { number: numbers } };
        self.body(SendFields { order: SendOrder { sender, iys: "0", iys_list: "BIREYSEL", message } })
    }

    /// get-report for one page of an order's messages.
    pub fn get_report(&self, order_id: &str, page: u32) -> Vec<u8> {
        self.body(ReportFields { order: ReportOrder { id: order_id, page, row_count: REPORT_PAGE } })
    }

    /// get-balance: only the credentials.
    pub fn get_balance(&self) -> Vec<u8> {
        self.body(serde_json::Map::new())
    }
}

/// A parsed answer: the body's status code and message, and the whole `response` object.
pub struct Answer {
    pub code: u16,
    pub message: Option<String>,
    pub response: Value,
}

impl Answer {
    /// The code that decides: the body's `response.status.code` (a number or a numeric string);
    /// for a body without one, an HTTP error status, which the docs say mirrors it. `None` for
    /// a 2xx or 3xx answer without a code in the body.
    pub fn read(response: &Response) -> Option<Answer> {
        Answer::from_body(response).or_else(|| {
            (400..=599).contains(&response.status).then(|| {
                let excerpt = response.excerpt();
                let message = (!excerpt.is_empty()).then_some(excerpt);
                Answer { code: response.status, message, response: Value::Null }
            })
        })
    }

    fn from_body(response: &Response) -> Option<Answer> {
        let body = response.json()?;
        let inner = body.get("response")?.clone();
        let status = inner.get("status")?;
        let code = number(status.get("code")?)?;
        let code = u16::try_from(code).ok()?;
        let message = status.get("message").and_then(Value::as_str).map(clean).filter(|m| !m.is_empty());
        Some(Answer { code, message, response: inner })
    }

    /// " (iletiMerkezi said: …)" for error messages, or nothing.
    pub fn said(&self) -> String {
        self.message.as_deref().map(|m| format!(" (iletiMerkezi said: {m})")).unwrap_or_default()
    }
}

/// A JSON number or numeric string as an integer (`200`, `"200"`, `111`).
pub fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON string or number as text (order ids drift between the two).
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(clean(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Provider text made safe to print on one line: no control characters, at most 200 characters.
fn clean(text: &str) -> String {
    crate::redact::one_line_cut(text, 200)
}

/// Whether another attempt may help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Transient,
    Permanent,
}

/// What a non-200 code means, in plain words, and whether it is worth retrying. 451 is not here:
/// its meaning depends on the attempt (see the channel's `classify`).
pub fn explain(code: u16, sender: &str) -> (Kind, String) {
    use Kind::{Permanent, Transient};
    let permanent = |text: &str| (Permanent, format!("{text} (code {code})"));
    match code {
        400 => permanent("iletiMerkezi could not parse the request; this is a bug in onfail, please report it"),
        401 => permanent(
            "iletiMerkezi refused the credentials: check iletimerkezi-key and iletimerkezi-hash against the panel \
             (Settings → Security → API Access), make sure \"Allow API access\" is switched on there, and, if the \
             account is locked to a static IP, that this machine's IP is allowed",
        ),
        402 => permanent("the iletiMerkezi balance is too low for this SMS: buy credit in the iletiMerkezi panel"),
        404 => permanent(
            "iletiMerkezi does not know this endpoint: check --iletimerkezi-url \
             (the base URL, e.g. https://api.iletimerkezi.com)",
        ),
        422 => permanent("iletiMerkezi could not validate the values in the request"),
        450 => (
            Permanent,
            format!(
                "the sender '{sender}' is not an approved sender of this iletiMerkezi account (code {code}): \
                 --sms-sender must match a sender approved in the panel exactly, case and spaces included"
            ),
        ),
        452 => permanent("iletiMerkezi rejected the recipients: a number is invalid or on the account's block list"),
        453 => permanent(
            "the text is longer than iletiMerkezi's 7 SMS parts (onfail cuts at 7 parts by its own count, so \
             iletiMerkezi counted it differently): shorten --message",
        ),
        454 => permanent("the SMS text is empty: give --message some text"),
        455 => permanent("iletiMerkezi has no such order (or it is not this account's)"),
        456 => permanent("the order is scheduled and its send time has not come yet"),
        457 => permanent("iletiMerkezi rejected the send date format"),
        459 => permanent("the sender is empty: set --sms-sender"),
        460 => permanent("the sender must be at most 11 characters, without Turkish letters: fix --sms-sender"),
        468 | 469 => permanent(
            "iletiMerkezi wants the İYS (consent registry) settings; this is a bug in onfail, please report it",
        ),
        470 => permanent("the iletiMerkezi account has no İYS code configured: set it in the panel"),
        429 => (Transient, format!("iletiMerkezi is rate limiting (code {code})")),
        503 => (Transient, format!("iletiMerkezi is temporarily unavailable (code {code})")),
        500..=599 => (Transient, format!("iletiMerkezi had a server error (code {code})")),
        _ => permanent("iletiMerkezi refused the request with an undocumented code"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response { status, retry_after: None, location: None, body: body.as_bytes().to_vec(), ..Response::default() }
    }

    #[test]
    fn the_send_body_matches_the_documented_envelope() {
        let credentials = Credentials { key: "k".into(), hash: "h".into() };
        let body: Value =
            serde_json::from_slice(&credentials.send_sms("ACME", "hi", &["905321234567".into()])).unwrap();
        let expected = serde_json::json!({"request": {
            "authentication": {"key": "k", "hash": "h"},
            "order": {"sender": "ACME", "iys": "0", "iysList": "BIREYSEL",
                      "message": {"text": "hi", "receipents": {"number": ["905321234567"]}}}
        }});
        assert_eq!(body, expected);
        let balance: Value = serde_json::from_slice(&credentials.get_balance()).unwrap();
        assert_eq!(balance, serde_json::json!({"request": {"authentication": {"key": "k", "hash": "h"}}}));
        let report: Value = serde_json::from_slice(&credentials.get_report("42", 2)).unwrap();
        assert_eq!(report["request"]["order"], serde_json::json!({"id": "42", "page": 2, "rowCount": 1000}));
    }

    #[test]
    fn the_code_is_a_number_or_a_string() {
        let answer =
            Answer::read(&response(200, r#"{"response":{"status":{"code":"401","message":"Üyelik\nhatalı"}}}"#));
        let answer = answer.unwrap();
        assert_eq!(answer.code, 401);
        assert_eq!(answer.said(), " (iletiMerkezi said: Üyelik hatalı)");
        assert_eq!(Answer::read(&response(500, r#"{"response":{"status":{"code":200}}}"#)).unwrap().code, 200);
        assert!(Answer::read(&response(200, "<html>")).is_none());
        assert!(Answer::read(&response(301, "")).is_none());
        let bare = Answer::read(&response(401, "<h1>Unauthorized</h1>")).unwrap();
        assert_eq!((bare.code, bare.said().as_str()), (401, " (iletiMerkezi said: <h1>Unauthorized</h1>)"));
        assert!(Answer::read(&response(200, r#"{"response":{"status":{"code":"ok"}}}"#)).is_none());
    }

    #[test]
    fn every_documented_code_has_its_own_words() {
        let codes = [400, 401, 402, 404, 422, 450, 452, 453, 454, 455, 456, 457, 459, 460, 468, 469, 470, 503];
        let texts: Vec<String> = codes.iter().map(|&c| explain(c, "ACME").1).collect();
        for (code, text) in codes.iter().zip(&texts) {
            assert!(text.contains(&format!("code {code}")), "{text}");
            assert!(!text.contains("undocumented"), "{code}: {text}");
        }
        assert!(texts[1].contains("Allow API access") && texts[1].contains("static IP"));
        assert_eq!(explain(503, "").0, Kind::Transient);
        assert_eq!(explain(502, "").0, Kind::Transient);
        assert_eq!(explain(402, "").0, Kind::Permanent);
        assert!(explain(499, "").1.contains("undocumented code"));
    }
}
