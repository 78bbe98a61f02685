//! `--webhook-headers`: one `Name: value` per line, sent as given (the ComToHome `securityData`
//! model, `docs/providers.md`, "Webhooks": a header such as `Authorization: APIKEY …` that the
//! receiver compares). Values are secrets, so no message here ever quotes one.

/// Headers onfail sets itself. A user line naming one is refused rather than silently sent
/// twice or dropped: two `Content-Type`s or a stale `webhook-signature` would only confuse the
/// receiver, and the framing headers belong to the HTTP client.
const RESERVED: [(&str, &str); 8] = [
    ("content-type", "onfail always sends Content-Type: application/json"),
    ("webhook-id", "onfail sets the webhook-* headers itself when --webhook-secret is given"),
    ("webhook-timestamp", "onfail sets the webhook-* headers itself when --webhook-secret is given"),
    ("webhook-signature", "onfail sets the webhook-* headers itself when --webhook-secret is given"),
    ("content-length", "the HTTP client sets it from the body"),
    ("transfer-encoding", "the HTTP client decides the framing"),
    ("host", "the HTTP client sets it from --webhook-url"),
    ("connection", "the HTTP client manages connections"),
];

/// One validated header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderLine {
    pub name: String,
    pub value: String,
}

/// Every line of every `--webhook-headers` value, in order, numbered from 1. Lines end with LF
/// or CRLF (a file written on Windows); blank lines are skipped but still counted, so "line 3"
/// is the third line the user wrote.
fn lines(values: &[String]) -> impl Iterator<Item = (usize, &str)> {
    values
        .iter()
        .flat_map(|value| value.split('\n'))
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim().is_empty())
}

/// The secret parts of the raw lines, for the redactor, before anything is validated: each
/// value, the credential after an auth scheme (`APIKEY abc` → `abc` too), what a `Basic`
/// credential decodes to (`user:password`, and the password), and a line without a colon as a
/// whole (it may be a value with its name forgotten).
pub fn secrets(values: &[String]) -> Vec<String> {
    use base64::Engine;
    let mut secrets = Vec::new();
    for (_, line) in lines(values) {
        let value = line.split_once(':').map_or(line, |(_, value)| value).trim();
        secrets.push(value.to_string());
        let Some((scheme, credential)) = value.split_once(char::is_whitespace) else { continue };
        let credential = credential.trim();
        secrets.push(credential.to_string());
        if !scheme.eq_ignore_ascii_case("basic") {
            continue;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(credential).ok();
        if let Some(pair) = decoded.and_then(|bytes| String::from_utf8(bytes).ok()) {
            if let Some((_, password)) = pair.split_once(':') {
                secrets.push(password.to_string());
            }
            secrets.push(pair);
        }
    }
    secrets
}

/// RFC 9110 `token`: the characters a header name may use.
fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses and validates every line. The error names the line by position (and the header name
/// once the name is known to be a valid one), never the value.
pub fn parse(values: &[String]) -> Result<Vec<HeaderLine>, String> {
    let mut headers = Vec::new();
    for (number, line) in lines(values) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "line {number} is not `Name: value` (it has no colon); give one header per line, e.g. `Authorization: APIKEY …`"
            ));
        };
        let name = name.trim();
        if !is_token(name) {
            return Err(format!(
                "line {number}: the header name is not a valid HTTP header name (use letters, digits and \
                 !#$%&'*+-.^_`|~ only, no spaces)"
            ));
        }
        if let Some((_, why)) = RESERVED.iter().find(|(reserved, _)| name.eq_ignore_ascii_case(reserved)) {
            return Err(format!("line {number}: {name} cannot be set here ({why}); remove the line"));
        }
        let value = value.trim();
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!(
                "line {number} ({name}): the value holds a carriage return or another control character; \
                 a header value must be a single line of text"
            ));
        }
        if value.is_empty() {
            return Err(format!(
                "line {number} ({name}): the value is empty; is the secret it comes from set for this workflow?"
            ));
        }
        headers.push((number, HeaderLine { name: name.to_string(), value: value.to_string() }));
    }
    // `Authorization: Bearer ${{ secrets.UNSET }}` arrives as `Authorization: Bearer`. Checked
    // once every line is a header: `APIKEY` followed by the key on a line of its own is a line
    // break in the value, which the line after it names.
    for (number, header) in &headers {
        if let Some(why) = crate::values::header_value_error(&header.value) {
            return Err(format!("line {number} ({}): the value {why}", header.name));
        }
    }
    Ok(headers.into_iter().map(|(_, header)| header).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(text: &str) -> Result<Vec<HeaderLine>, String> {
        parse(&[text.to_string()])
    }

    fn header(name: &str, value: &str) -> HeaderLine {
        HeaderLine { name: name.into(), value: value.into() }
    }

    #[test]
    fn lines_and_repeated_flags_are_read_in_order() {
        let values = vec!["Authorization: APIKEY k-1:2\r\n\n  X-Team :  on-call \n".to_string(), "X-A:b".to_string()];
        assert_eq!(
            parse(&values).unwrap(),
            vec![header("Authorization", "APIKEY k-1:2"), header("X-Team", "on-call"), header("X-A", "b")]
        );
        assert_eq!(parse(&[]).unwrap(), vec![]);
    }

    #[test]
    fn bad_lines_are_named_by_position_without_their_value() {
        let cases = [
            ("X-A: ok\nBearer s3cr3t-value", "line 2 is not `Name: value`"),
            ("X-A: ok\n\nBad Name: s3cr3t-value", "line 3: the header name is not a valid"),
            (": s3cr3t-value", "line 1: the header name"),
            ("X-A: s3cr3t\rvalue", "line 1 (X-A): the value holds a carriage return"),
            ("X-A: s3cr3t\u{0}value", "line 1 (X-A): the value holds"),
            ("X-A:   ", "line 1 (X-A): the value is empty"),
            ("Authorization: Bearer ", "line 1 (Authorization): the value is only the authorization scheme `Bearer`"),
            ("X-Key:  apikey", "line 1 (X-Key): the value is only the authorization scheme `apikey`"),
            ("content-TYPE: s3cr3t-value", "line 1: content-TYPE cannot be set here (onfail always sends"),
            ("Webhook-Signature: s3cr3t-value", "line 1: Webhook-Signature cannot be set here"),
            ("Host: s3cr3t-value", "line 1: Host cannot be set here"),
        ];
        for (text, says) in cases {
            let err = parse_one(text).unwrap_err();
            assert!(err.starts_with(says), "{text:?}: {err}");
            assert!(!err.contains("s3cr3t"), "{text:?} leaks: {err}");
        }
    }

    #[test]
    fn a_line_break_inside_a_value_splits_it_into_a_bad_line() {
        // A value cannot smuggle a second header: the part after LF is its own line.
        let err = parse_one("X-A: a\nb").unwrap_err();
        assert!(err.starts_with("line 2 is not"), "{err}");
        assert_eq!(parse_one("X-A: a\r\nX-B: b").unwrap(), vec![header("X-A", "a"), header("X-B", "b")]);
    }

    #[test]
    fn secrets_cover_values_credentials_and_unparsable_lines() {
        let values = vec!["Authorization: APIKEY abc-123\nnot a header line\nX: v".to_string()];
        assert_eq!(secrets(&values), ["APIKEY abc-123", "abc-123", "not a header line", "a header line", "v"]);
        // printf 'deploy:hunter-22' | base64
        let basic = vec!["Authorization: basic ZGVwbG95Omh1bnRlci0yMg==".to_string()];
        assert_eq!(
            secrets(&basic),
            ["basic ZGVwbG95Omh1bnRlci0yMg==", "ZGVwbG95Omh1bnRlci0yMg==", "hunter-22", "deploy:hunter-22"]
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(lines in proptest::collection::vec(proptest::prelude::any::<String>(), 0..4)) {
            let _ = parse(&lines);
            let _ = secrets(&lines);
        }

        #[test]
        fn valid_lines_round_trip_and_errors_never_quote_values(
            headers in proptest::collection::vec(("X-[A-Za-z0-9-]{1,12}", "[!-~][ -~]{0,30}[!-~]"), 1..5),
            bad_value in "[A-Za-z0-9]{8,16}",
        ) {
            let text = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect::<Vec<_>>().join("\r\n");
            let parsed = parse(&[text]).unwrap();
            let expected: Vec<HeaderLine> =
                headers.iter().map(|(n, v)| HeaderLine { name: n.clone(), value: v.clone() }).collect();
            proptest::prop_assert_eq!(parsed, expected);
            for line in [format!("Bad Name: {bad_value}"), format!("X-Ok: {bad_value}\u{7}"), bad_value.clone()] {
                let error = parse(&[line]).unwrap_err();
                proptest::prop_assert!(!error.contains(&bad_value), "{}", error);
            }
        }
    }
}
