//! Property tests for the parsers that take user text: they never panic, and they round-trip
//! where that applies.

use std::time::{Duration, Instant};

use onfail::phone::{mask_digits, parse_list};
use onfail::template::{PLACEHOLDERS, Template};
use onfail::values::{MAX_DURATION, parse_duration};
use proptest::prelude::*;

/// A Turkish mobile number's 10 national digits.
fn national() -> impl Strategy<Value = String> {
    "5[0-9]{9}"
}

/// One accepted spelling of `n`, with optional decoration inside.
fn spelled(n: String) -> impl Strategy<Value = String> {
    let forms = prop_oneof![
        Just(n.clone()),
        Just(format!("0{n}")),
        Just(format!("90{n}")),
        Just(format!("+90{n}")),
        Just(format!("0090{n}")),
        Just(format!("+90 ({}) {} {} {}", &n[..3], &n[3..6], &n[6..8], &n[8..])),
        Just(format!("0{}-{}-{}", &n[..3], &n[3..6], &n[6..])),
        Just(format!("{}.{}.{}", &n[..3], &n[3..6], &n[6..])),
    ];
    forms
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(","), Just(", "), Just(";"), Just(" "), Just("\n"), Just(" ;\n ")]
}

proptest! {
    #[test]
    fn phone_lists_never_panic(input in any::<String>()) {
        let _ = parse_list(&input);
    }

    #[test]
    fn phone_lists_never_panic_on_phone_like_text(input in "[0-9+() .,;\n-]{0,60}") {
        if let Err(error) = parse_list(&input) {
            // The error names a position and never holds more than three digits of the entry.
            let digits = error.masked.chars().filter(char::is_ascii_digit).count();
            prop_assert!(digits <= 3, "{}", error);
        }
    }

    #[test]
    fn every_spelling_of_a_list_parses_back_in_order(
        numbers in prop::collection::vec(national(), 1..5),
        seps in prop::collection::vec(separator(), 5),
        pick in prop::collection::vec(0usize..8, 5),
    ) {
        let mut list = String::new();
        for (i, n) in numbers.iter().enumerate() {
            let forms = [
                n.clone(), format!("0{n}"), format!("90{n}"), format!("+90{n}"), format!("0090{n}"),
                format!("+90 ({}) {} {} {}", &n[..3], &n[3..6], &n[6..8], &n[8..]),
                format!("0{}-{}-{}", &n[..3], &n[3..6], &n[6..]),
                format!("{}.{}.{}", &n[..3], &n[3..6], &n[6..]),
            ];
            if i > 0 {
                list.push_str(seps[i]);
            }
            list.push_str(&forms[pick[i]]);
        }
        let parsed: Vec<String> = parse_list(&list).unwrap().iter().map(|p| p.national().to_string()).collect();
        let mut expected: Vec<String> = Vec::new();
        for n in numbers {
            if !expected.contains(&n) {
                expected.push(n);
            }
        }
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn one_spelling_round_trips(form in national().prop_flat_map(spelled)) {
        let parsed = parse_list(&form).unwrap();
        prop_assert_eq!(parsed.len(), 1);
        let international = parsed[0].international();
        prop_assert_eq!(parse_list(&international).unwrap(), parsed.clone());
        prop_assert_eq!(parsed[0].masked(), mask_digits(parsed[0].national()));
    }

    #[test]
    fn templates_never_panic(input in any::<String>()) {
        if let Ok(template) = Template::parse(&input) {
            let _ = template.render(|name| name.to_uppercase());
        }
    }

    #[test]
    fn escaped_text_renders_as_itself(text in any::<String>()) {
        let escaped = text.replace('{', "{{").replace('}', "}}");
        let template = Template::parse(&escaped).unwrap();
        prop_assert_eq!(template.render(|_| "X".into()), text);
    }

    #[test]
    fn placeholders_render_their_values(
        parts in prop::collection::vec(("[^{}]{0,8}", 0usize..PLACEHOLDERS.len()), 0..6),
    ) {
        let mut source = String::new();
        let mut expected = String::new();
        for (text, index) in &parts {
            source.push_str(text);
            source.push_str(&format!("{{{}}}", PLACEHOLDERS[*index]));
            expected.push_str(text);
            expected.push_str(&format!("<{}>", PLACEHOLDERS[*index]));
        }
        let rendered = Template::parse(&source).unwrap().render(|name| format!("<{name}>"));
        prop_assert_eq!(rendered, expected);
    }

    #[test]
    fn durations_never_panic(input in any::<String>()) {
        let _ = parse_duration(&input);
    }

    #[test]
    fn accepted_durations_fit_any_deadline(
        input in "[-+]?[0-9]{0,25}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{1,3})?(ns|us|ms|s|m|h|d|w|M|y|days|years)?\
                  |([0-9]{1,21}(ns|ms|s|m|h|d|y) ?){1,4}|\\PC{0,24}",
    ) {
        if let Ok(d) = parse_duration(&input) {
            prop_assert!(!d.is_zero() && d <= MAX_DURATION, "{input:?} gave {d:?}");
            // What the transport and the SMS wait do with a duration, checked: never an overflow.
            prop_assert!(Instant::now().checked_add(d).is_some());
            prop_assert!(Instant::now().checked_add(d.saturating_mul(2)).is_some());
        }
    }

    #[test]
    fn durations_round_trip(ms in 1u64..10_000_000, secs in 1u64..86_400) {
        prop_assert_eq!(parse_duration(&format!("{ms}ms")), Ok(Duration::from_millis(ms)));
        prop_assert_eq!(parse_duration(&format!("{secs}s")), Ok(Duration::from_secs(secs)));
        prop_assert_eq!(parse_duration(&secs.to_string()), Ok(Duration::from_secs(secs)));
        prop_assert_eq!(parse_duration(&format!("{}m", secs % 1440 + 1)), Ok(Duration::from_secs((secs % 1440 + 1) * 60)));
    }
}
