//! An iletiMerkezi delivery report as it arrives at the report URL (`docs/providers.md`,
//! "iletiMerkezi"): `{"report": {"id", "packet_id", "status", "to", "body"}}`. Pure: bytes in, a
//! report or the reason for a 400 out. `report.id` and `report.packet_id` are numbers in the
//! documentation and strings in some SDKs, so both are taken and kept as text (the send-sms
//! order id is a string).

use serde_json::Value;

/// What the store keeps of one report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: String,
    pub status: String,
    /// The order (send-sms `order.id`); empty when the report has none.
    pub packet_id: String,
    /// The recipient's digits (`+905…` → `905…`); empty when the report has none.
    pub to: String,
    /// The request body exactly as it came, for forwarding it unchanged.
    pub raw: Vec<u8>,
}

/// Why a body is not a report (the 400's text; it never quotes the body).
pub fn parse(body: &[u8]) -> Result<Report, &'static str> {
    let value: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let report = value.get("report").filter(|r| r.is_object()).ok_or("the body has no \"report\" object")?;
    let id = id_text(report.get("id")).ok_or("the report has no \"id\" (a number or a string)")?;
    let text = |name| id_text(report.get(name)).unwrap_or_default();
    let to: String = text("to").chars().filter(char::is_ascii_digit).collect();
    Ok(Report { id, status: text("status"), packet_id: text("packet_id"), to, raw: body.to_vec() })
}

/// A number or a non-empty string, as text (at most 200 characters: ids are short).
fn id_text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    (!text.is_empty() && text.len() <= 200).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_report() {
        let body = br#"{"report":{"id":1599558518,"packet_id":104525848,"status":"accepted","to":"+905321112233","body":"x"}}"#;
        let report = parse(body).unwrap();
        assert_eq!(report.id, "1599558518");
        assert_eq!(report.packet_id, "104525848");
        assert_eq!(report.status, "accepted");
        assert_eq!(report.to, "905321112233");
        assert_eq!(report.raw, body);
    }

    #[test]
    fn what_is_not_a_report() {
        assert!(parse(b"").is_err());
        assert!(parse(b"not json").is_err());
        assert!(parse(br#"{"report": 1}"#).is_err());
        assert!(parse(br#"{"report": {}}"#).is_err());
        assert!(parse(br#"{"report": {"id": null}}"#).is_err());
        assert!(parse(br#"{"report": {"id": ""}}"#).is_err());
        assert!(parse(br#"{"report": {"id": true}}"#).is_err());
        assert_eq!(parse(br#"{"report": {"id": "7"}}"#).unwrap().packet_id, "");
    }
}
