//! Turkish mobile numbers (docs/voice.md, "Voice calls (Alertalk)"): parsing, normalisation, de-duplication
//! and masking.
//!
//! Numbers are personal data and often come from a secret, so nothing in this module ever puts a
//! full number into an error message: entries are named by position and shown masked.

use std::fmt;
use std::sync::OnceLock;

/// Every number of this alert (each list: `--phone-numbers`, `--sms-phone-numbers`,
/// `--escalation-phone-numbers`), set once before anything is printed ([`distinguish`]): a mask
/// shows as many last digits as it takes to tell each number from the others.
static ALERT_NUMBERS: OnceLock<Vec<String>> = OnceLock::new();

/// Makes the masks of `phones`, the numbers of this alert, tell them apart: a report must say
/// who was called (docs/voice.md, "Voice calls (Alertalk)"). One onfail process sends one alert, so this
/// is set once; later calls change nothing.
pub fn distinguish(phones: &[Phone]) {
    let _ = ALERT_NUMBERS.set(phones.iter().map(|p| p.0.clone()).collect());
}

/// The most digits a mask shows of a ten-digit number: three always stay hidden.
const MAX_SHOWN: usize = 7;

/// `number` masked among `others` (the alert's numbers, itself included): its first digit and
/// last two, and for each other number the digit where the two differ last, with every digit
/// after it when that is close to the end (`5******567` next to `5******467`). Both masks of a
/// pair show that position, so they differ. Should that show more than [`MAX_SHOWN`] digits (only
/// numbers made to look alike do), the plain mask carries the number's place in the alert
/// instead (`5*******67#2`).
fn mask_among(number: &str, others: &[String]) -> String {
    let digits: Vec<char> = number.chars().collect();
    let len = digits.len();
    if len < 7 {
        return mask_digits(number);
    }
    let mut shown = vec![false; len];
    shown[0] = true;
    shown[len - 2..].iter_mut().for_each(|s| *s = true);
    for other in others.iter().filter(|o| o.as_str() != number && o.len() == len) {
        let Some(last) = number.bytes().zip(other.bytes()).rposition(|(a, b)| a != b) else { continue };
        match last {
            _ if last >= len - 2 => {}
            _ if last >= len - 5 => shown[last..].iter_mut().for_each(|s| *s = true),
            _ => shown[last] = true,
        }
    }
    if shown.iter().filter(|s| **s).count() > MAX_SHOWN {
        let place = others.iter().position(|o| o == number).map_or(0, |p| p + 1);
        return format!("{}#{place}", mask_digits(number));
    }
    digits.iter().zip(&shown).map(|(digit, shown)| if *shown { *digit } else { '*' }).collect()
}

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

    /// Safe to print: `5*******67`; `5******567` when another number of the alert also ends in
    /// 67 (see [`distinguish`]).
    pub fn masked(&self) -> String {
        mask_among(&self.0, ALERT_NUMBERS.get().map(Vec::as_slice).unwrap_or_default())
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
    fn masks_tell_the_numbers_of_one_alert_apart() {
        let among: Vec<String> = ["5321234567", "5339876567", "5441112233", "5551114567"].map(String::from).into();
        let masks: Vec<String> = among.iter().map(|n| mask_among(n, &among)).collect();
        assert_eq!(masks, ["5****34567", "5*****6567", "5*******33", "5****14567"]);
        // Two numbers that differ in one digit far from the end show that digit.
        let close: Vec<String> = ["5321234567", "5331234567"].map(String::from).into();
        assert_eq!(mask_among(&close[0], &close), "5*2*****67");
        assert_eq!(mask_among(&close[1], &close), "5*3*****67");
        // Alone, a number shows its last two digits.
        assert_eq!(mask_among("5321234567", &[]), "5*******67");
    }

    proptest::proptest! {
        /// However alike the numbers of one alert are, no two print the same mask.
        #[test]
        fn no_two_numbers_of_an_alert_share_a_mask(tails in proptest::collection::vec(0u32..1_000_000_000, 1..8)) {
            let mut among: Vec<String> = tails.iter().map(|t| format!("5{t:09}")).collect();
            among.sort();
            among.dedup();
            let masks: Vec<String> = among.iter().map(|n| mask_among(n, &among)).collect();
            let mut unique = masks.clone();
            unique.sort();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), masks.len(), "{:?}", masks);
            for (number, mask) in among.iter().zip(&masks) {
                let digits = mask.split('#').next().unwrap().chars().filter(char::is_ascii_digit).count();
                proptest::prop_assert!(digits <= MAX_SHOWN, "{} shows too much of {}", mask, number);
            }
        }

        /// Numbers made alike on purpose (one digit apart each) still get distinct masks.
        #[test]
        fn numbers_one_digit_apart_share_no_mask(base in 0u32..1_000_000_000, places in proptest::collection::vec(1usize..10, 1..9)) {
            let first = format!("5{base:09}");
            let mut among = vec![first.clone()];
            for place in places {
                let mut digits: Vec<u8> = first.clone().into_bytes();
                digits[place] = b'0' + (digits[place] - b'0' + 1) % 10;
                among.push(String::from_utf8(digits).unwrap());
            }
            among.dedup();
            let mut seen = Vec::new();
            for number in &among {
                if !seen.contains(number) { seen.push(number.clone()); }
            }
            let masks: Vec<String> = seen.iter().map(|n| mask_among(n, &seen)).collect();
            let mut unique = masks.clone();
            unique.sort();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), masks.len(), "{:?}", masks);
        }
    }

    #[test]
    fn masks_keep_first_and_last_two() {
        let phone = &parse_list("5321234567").unwrap()[0];
        assert_eq!(phone.masked(), "5*******67");
        assert_eq!(phone.international(), "905321234567");
        assert_eq!(mask_digits("1234"), "****");
    }
}
