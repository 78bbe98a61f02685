//! An iletiMerkezi delivery report as it arrives at the report URL (`docs/providers.md`,
//! "iletiMerkezi"): `{"report": {"id", "packet_id", "status", "to", "body"}}`. Pure: bytes in, a
//! report or the reason for a 400 out. `report.id` and `report.packet_id` are numbers in the
//! documentation and strings in some SDKs, so both are taken and kept as text (the send-sms
//! order id is a string).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What the store keeps of one report (the body itself stays with the caller, which keeps and
/// forwards it unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub id: String,
    pub status: String,
    /// The order (send-sms `order.id`); empty when the report has none.
    pub packet_id: String,
    /// The recipient's digits (`+905…` → `905…`); empty when the report has none.
    pub to: String,
}

/// Why a body is not a report (the 400's text; it never quotes the body).
///
/// Read straight from the bytes into the four fields it needs (no tree of values, the report's
/// own `body` text skipped): this runs for every report the service takes
/// (`docs/benchmarks.md`, "onfail serve: report intake").
pub fn parse(body: &[u8]) -> Result<Report, &'static str> {
    let Envelope(report) = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let report = report.ok_or("the body has no \"report\" object")?;
    let id = id_text(report.id).ok_or("the report has no \"id\" (a number or a string)")?;
    let text = |field| id_text(field).unwrap_or_default();
    let to: String = text(report.to).chars().filter(char::is_ascii_digit).collect();
    Ok(Report { id, status: text(report.status), packet_id: text(report.packet_id), to })
}

/// A number or a non-empty string, as text (at most 200 characters: ids are short).
fn id_text(value: Scalar) -> Option<String> {
    let text = match value {
        Scalar::Text(s) => s.trim().to_string(),
        Scalar::Number(n) => n,
        Scalar::Other => return None,
    };
    (!text.is_empty() && text.len() <= 200).then_some(text)
}

/// The whole body: `Some` when it is an object with a `report` object in it.
struct Envelope<'a>(Option<Fields<'a>>);

/// The fields of `report` that are kept; absent ones are [`Scalar::Other`].
#[derive(Default)]
struct Fields<'a> {
    id: Scalar<'a>,
    packet_id: Scalar<'a>,
    status: Scalar<'a>,
    to: Scalar<'a>,
}

/// One JSON value as far as a field of a report goes: a string, a number (as its JSON text) or
/// anything else.
#[derive(Default)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Number(String),
    #[default]
    Other,
}

/// The visits of a value that is neither an object nor an array: each gives `$none`.
macro_rules! scalars_are {
    ($none:expr) => {
        fn visit_bool<E: Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_str<E: Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok($none)
        }
    };
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = Envelope<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut report = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "report" {
                        report = map.next_value::<ReportObject>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Envelope(report))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| Envelope(None))
            }
            scalars_are!(Envelope(None));
        }
        deserializer.deserialize_any(Top)
    }
}

/// `report`'s value: its fields when it is an object.
struct ReportObject<'a>(Option<Fields<'a>>);

impl<'de> Deserialize<'de> for ReportObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = ReportObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a report")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Fields::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let field = match key.as_ref() {
                        "id" => &mut fields.id,
                        "packet_id" => &mut fields.packet_id,
                        "status" => &mut fields.status,
                        "to" => &mut fields.to,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *field = map.next_value()?;
                }
                Ok(ReportObject(Some(fields)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| ReportObject(None))
            }
            scalars_are!(ReportObject(None));
        }
        deserializer.deserialize_any(Object)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Value;
        impl<'de> Visitor<'de> for Value {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.to_string()))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Number(v.to_string()))
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
                // As serde_json writes it (`1.0`, `1e300`), the same text as before this parser.
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, |n| Scalar::Number(n.to_string())))
            }
            fn visit_bool<E: Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| Scalar::Other)
            }
        }
        deserializer.deserialize_any(Value)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
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
