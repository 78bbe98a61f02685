//! Turkish mobile numbers (README, "Voice calls (Alertalk)"): parsing, normalisation, de-duplication and masking.
//!
//! Numbers are personal data and often come from a secret, so nothing in this module ever puts a
//! full number into an error message: entries are named by position and shown masked.

use std::fmt;

/// A Turkish mobile number, stored as the 10 national digits (`5XXXXXXXXX`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// The form Alertalk wants: `5XXXXXXXXX`.
    pub fn national(&self) -> &str {
        &self.0
    }

    /// The form iletiMerkezi takes: `905XXXXXXXXX`.
    pub fn international(&self) -> String {
        format!("90{}", self.0)
    }

    /// Safe to print: `5*******67`.
    pub fn masked(&self) -> String {
        mask_digits(&self.0)
    }

    /// Every spelling of this number that could show up in text we print, so the redactor can
    /// replace each with the masked form.
    pub fn spellings(&self) -> Vec<String> {
        let n = &self.0;
        vec![format!("0090{n}"), format!("+90{n}"), format!("90{n}"), format!("0{n}"), n.clone()]
    }
}

/// Why an entry of a phone list was rejected. Carries the position and a masked rendering only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneError {
    pub position: usize,
    pub masked: String,
    pub reason: &'static str,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} ({}) is not a Turkish mobile number: {}", self.position, self.masked, self.reason)
    }
}

/// The error text for `--phone-numbers`-like options: what is wrong and how to write it instead.
pub fn fix_hint(error: &PhoneError) -> String {
    format!("{error}; write Turkish mobiles as 5XXXXXXXXX, 05XXXXXXXXX or +905XXXXXXXXX")
}

/// Masks a run of digits for display: first digit and last two stay, the rest become `*`.
/// Short strings are masked entirely, since two visible digits of a four-digit value is half of it.
pub fn mask_digits(digits: &str) -> String {
    let chars: Vec<char> = digits.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len().max(1));
    }
    let mut out = String::with_capacity(chars.len());
    out.push(chars[0]);
    out.extend(std::iter::repeat_n('*', chars.len() - 3));
    out.extend(&chars[chars.len() - 2..]);
    out
}

/// What may stand between the digits of a number written in free text.
const SEPARATORS: &[u8] = b" -./()";

/// Where `phones` occur in `text`, however each is written: bare or with a `0`, `90`, `+90` or
/// `0090` prefix, and with spaces, dashes, dots, slashes or parentheses between the digits
/// (`+90 532 123 45 67`, `0(532) 123-45-67`, `0532.123.45.67`). Returns each byte range, from
/// the prefix to the last digit, with the index of the number found there.
pub fn find(text: &[u8], phones: &[Phone]) -> Vec<(std::ops::Range<usize>, usize)> {
    let mut found = Vec::new();
    if phones.is_empty() {
        return found;
    }
    let mut at = 0;
    while at < text.len() {
        if !text[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        // One run of digits, with at most two separators in a row between them.
        let mut digits = Vec::new();
        let mut positions = Vec::new();
        let mut gap = 0;
        let mut end = at;
        while end < text.len() {
            let byte = text[end];
            if byte.is_ascii_digit() {
                digits.push(byte);
                positions.push(end);
                gap = 0;
            } else if SEPARATORS.contains(&byte) && gap < 2 {
                gap += 1;
            } else {
                break;
            }
            end += 1;
        }
        for (index, phone) in phones.iter().enumerate() {
            let national = phone.national().as_bytes();
            let mut from = 0;
            while let Some(offset) = digits[from..].windows(national.len()).position(|w| w == national) {
                let start = from + offset;
                let prefix = [&b"0090"[..], b"90", b"0"]
                    .iter()
                    .find(|p| digits[from..start].ends_with(p))
                    .map_or(0, |p| p.len());
                let mut first = positions[start - prefix];
                if first > 0 && text[first - 1] == b'+' {
                    first -= 1;
                }
                found.push((first..positions[start + national.len() - 1] + 1, index));
                from = start + national.len();
            }
        }
        at = end.max(at + 1);
    }
    found
}

/// Parses a list of numbers separated by commas, semicolons, whitespace or newlines.
///
/// Because whitespace is both a separator and allowed inside an entry (`+90 532 123 45 67`),
/// whitespace-separated pieces are joined until they form a complete number of the length
/// their prefix announces. Returns the normalised numbers, de-duplicated in order.
pub fn parse_list(input: &str) -> Result<Vec<Phone>, PhoneError> {
    let mut phones: Vec<Phone> = Vec::new();
    let mut position = 0;
    for chunk in input.split([',', ';', '\n', '\r']) {
        let mut pending = String::new();
        for piece in chunk.split_whitespace() {
            pending.push_str(piece);
            let Some(expected) = expected_digits(&pending) else {
                continue;
            };
            let digits = count_digits(&pending);
            if digits >= expected {
                position += 1;
                let phone = parse_one(&pending, position)?;
                if !phones.contains(&phone) {
                    phones.push(phone);
                }
                pending.clear();
            }
        }
        if !pending.is_empty() {
            // Shorter than its prefix announces, or not a number at all: let parse_one say why.
            position += 1;
            return Err(match parse_one(&pending, position) {
                Err(err) => err,
                Ok(_) => error(&pending, position, "too few digits"),
            });
        }
    }
    Ok(phones)
}

/// How many digits a complete number starting like `entry` has, judged by its prefix.
fn expected_digits(entry: &str) -> Option<usize> {
    let digits: String = entry.chars().filter(char::is_ascii_digit).take(4).collect();
    let plus = entry.trim_start().starts_with('+');
    if plus {
        return Some(12);
    }
    if digits.starts_with("00") {
        return Some(14);
    }
    match digits.chars().next()? {
        '0' => Some(11),
        '9' => Some(12),
        _ => Some(10),
    }
}

fn count_digits(entry: &str) -> usize {
    entry.chars().filter(char::is_ascii_digit).count()
}

fn error(entry: &str, position: usize, reason: &'static str) -> PhoneError {
    let digits: String = entry.chars().filter(char::is_ascii_digit).collect();
    PhoneError { position, masked: mask_digits(if digits.is_empty() { entry } else { &digits }), reason }
}

/// Parses one entry with its whitespace already removed.
fn parse_one(entry: &str, position: usize) -> Result<Phone, PhoneError> {
    let mut digits = String::with_capacity(entry.len());
    for (i, c) in entry.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(error(
                    entry,
                    position,
                    "it may hold only digits, a leading +, spaces, dashes, dots and parentheses",
                ));
            }
        }
    }
    let national = if entry.starts_with('+') {
        digits.strip_prefix("90").ok_or_else(|| error(entry, position, "the country code must be +90"))?
    } else if let Some(rest) = digits.strip_prefix("0090") {
        rest
    } else if digits.starts_with("00") {
        return Err(error(entry, position, "the country code must be 0090"));
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else if digits.len() == 12 {
        digits.strip_prefix("90").ok_or_else(|| error(entry, position, "the country code must be 90"))?
    } else {
        &digits
    };
    if !national.starts_with('5') {
        return Err(error(entry, position, "Turkish mobile numbers start with 5 after the country code"));
    }
    if national.len() != 10 {
        return Err(error(entry, position, "expected 10 digits after the country code (5XXXXXXXXX)"));
    }
    Ok(Phone(national.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nationals(input: &str) -> Vec<String> {
        parse_list(input).unwrap().iter().map(|p| p.national().to_string()).collect()
    }

    #[test]
    fn every_accepted_form_normalises_to_ten_digits() {
        for form in [
            "5321234567",
            "05321234567",
            "905321234567",
            "+905321234567",
            "00905321234567",
            "+90 532 123 45 67",
            "0 (532) 123-45-67",
            "532.123.45.67",
        ] {
            assert_eq!(nationals(form), ["5321234567"], "form {form:?}");
        }
    }

    #[test]
    fn separators_mix_and_duplicates_collapse_in_order() {
        let got = nationals("5321234567, +90 533 111 22 33;05321234567\n5441112233 5551112233");
        assert_eq!(got, ["5321234567", "5331112233", "5441112233", "5551112233"]);
    }

    #[test]
    fn empty_list_is_empty() {
        assert!(parse_list(" ,; \n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_position_and_never_the_number() {
        let err = parse_list("5321234567, 2121234567").unwrap_err();
        assert_eq!(err.position, 2);
        assert!(!err.to_string().contains("2121234567"));
        assert_eq!(err.masked, "2*******67");

        let err = parse_list("+44 7700 900123").unwrap_err();
        assert_eq!(err.reason, "the country code must be +90");
        let err = parse_list("53212345").unwrap_err();
        assert!(err.reason.contains("10 digits"), "{err}");
        let err = parse_list("5321234567x").unwrap_err();
        assert!(err.reason.contains("only digits"));
        let err = parse_list("532123456789").unwrap_err();
        assert_eq!(err.position, 1);
    }

    #[test]
    fn numbers_are_found_whatever_their_separators() {
        let phones = parse_list("5321234567").unwrap();
        for (text, spelled) in [
            ("call +90 532 123 45 67 now", "+90 532 123 45 67"),
            ("call 0(532) 123-45-67 now", "0(532) 123-45-67"),
            ("call 0532.123.45.67.", "0532.123.45.67"),
            ("call 90 532 1234567", "90 532 1234567"),
            ("tel:00905321234567", "00905321234567"),
            ("n=5321234567&x", "5321234567"),
            ("(532) 123 45 67", "532) 123 45 67"),
        ] {
            let found = find(text.as_bytes(), &phones);
            assert_eq!(found.len(), 1, "{text}");
            assert_eq!(&text[found[0].0.clone()], spelled, "{text}");
        }
        assert!(find(b"532 123 45 6", &phones).is_empty());
        assert!(find(b"5321 x 234567", &phones).is_empty());
        // A prefix never takes digits from the number before it.
        let text = "5321234567 905321234567 05321234567";
        let spans: Vec<&str> = find(text.as_bytes(), &phones).into_iter().map(|(r, _)| &text[r]).collect();
        assert_eq!(spans, ["5321234567", "905321234567", "05321234567"]);
    }

    #[test]
    fn masks_keep_first_and_last_two() {
        let phone = &parse_list("5321234567").unwrap()[0];
        assert_eq!(phone.masked(), "5*******67");
        assert_eq!(phone.international(), "905321234567");
        assert_eq!(mask_digits("1234"), "****");
    }
}
