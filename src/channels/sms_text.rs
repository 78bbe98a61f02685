//! How long an SMS text is in SMS parts, and cutting it to the provider's part cap. Pure.
//!
//! The rule (`docs/providers.md`, "iletiMerkezi", with the gaps filled from the GSM standard, 3GPP TS 23.038/23.040):
//!
//! - **Encoding.** A text made only of the GSM 7-bit alphabet is *GSM*. One that also uses the
//!   Turkish letters missing from that alphabet (`ç ğ Ğ ı İ ş Ş`; `Ç Ö ö Ü ü` are already in it)
//!   is *Turkish*: the national-language table, still 7-bit. Anything else (emoji, `â`, a tab, a
//!   curly quote) makes the whole text *Unicode* (UCS-2).
//! - **Units.** GSM and Turkish count one per character, two for the GSM extension characters
//!   (`^ { } \ [ ~ ] |`, `€`, form feed), which travel behind an escape. Unicode counts UTF-16
//!   code units, so an emoji counts two.
//! - **Parts.** Every SMS in Turkey gets the 5-character operator code (` B186`) appended by
//!   iletiMerkezi, so a single SMS holds 155 GSM, 150 Turkish or 65 Unicode units of text
//!   (documented). A longer text is sent in parts of 153 GSM, 149 Turkish or 67 Unicode units
//!   (the standard concatenation sizes; iletiMerkezi does not state them), with the operator code
//!   counted once, at the end, and an escaped pair or an emoji never split across two parts.
//! - **Cap.** iletiMerkezi refuses a text over 7 parts (error 453); such a text is cut, on a
//!   character boundary, to the longest beginning that fits.

/// iletiMerkezi rejects an order longer than this many parts (error 453).
pub const MAX_PARTS: usize = 7;

/// The operator code iletiMerkezi appends to every SMS: a space and four characters (` B186`).
const OPERATOR_CODE: usize = 5;

/// The GSM 7-bit default alphabet (without the escape code), one unit each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM extension table: two units each (escape + character).
const GSM_EXTENSION: &str = "\x0c^{}\\[~]|€";

/// Turkish letters outside the GSM alphabet; one unit each in Turkish mode.
const TURKISH: &str = "çğĞıİşŞ";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm,
    Turkish,
    Unicode,
}

impl Encoding {
    /// What the user reads in a warning.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm => "GSM",
            Encoding::Turkish => "Turkish-character",
            Encoding::Unicode => "Unicode",
        }
    }

    /// Units in a one-part SMS, before the operator code is appended.
    fn single(self) -> usize {
        match self {
            Encoding::Gsm => 160,
            Encoding::Turkish => 155,
            Encoding::Unicode => 70,
        }
    }

    /// Units in each part of a multi-part SMS.
    fn part(self) -> usize {
        match self {
            Encoding::Gsm => 153,
            Encoding::Turkish => 149,
            Encoding::Unicode => 67,
        }
    }

    /// How many text characters fit in one part without splitting (155, 150, 65).
    pub fn single_limit(self) -> usize {
        self.single() - OPERATOR_CODE
    }

    /// The units `c` takes in this encoding; `None` if it cannot be written in it.
    fn units(self, c: char) -> Option<usize> {
        let gsm = if GSM_BASIC.contains(c) {
            Some(1)
        } else if GSM_EXTENSION.contains(c) {
            Some(2)
        } else {
            None
        };
        match self {
            Encoding::Gsm => gsm,
            Encoding::Turkish => gsm.or_else(|| TURKISH.contains(c).then_some(1)),
            Encoding::Unicode => Some(c.len_utf16()),
        }
    }
}

/// What a text costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    pub encoding: Encoding,
    /// Length in the encoding's units, without the operator code.
    pub units: usize,
    pub parts: usize,
}

/// The cheapest encoding that can carry every character of `text`.
pub fn encoding(text: &str) -> Encoding {
    [Encoding::Gsm, Encoding::Turkish]
        .into_iter()
        .find(|e| text.chars().all(|c| e.units(c).is_some()))
        .unwrap_or(Encoding::Unicode)
}

pub fn measure(text: &str) -> Measure {
    let encoding = encoding(text);
    let units = text.chars().map(|c| encoding.units(c).unwrap_or(2)).sum();
    Measure { encoding, units, parts: parts_in(text, encoding) }
}

/// Parts `text` takes in `encoding`, operator code included.
fn parts_in(text: &str, encoding: Encoding) -> usize {
    let weights = text.chars().map(|c| encoding.units(c).unwrap_or(2)).chain(std::iter::repeat_n(1, OPERATOR_CODE));
    if weights.clone().sum::<usize>() <= encoding.single() {
        return 1;
    }
    // Fill parts in order; a two-unit character that does not fit moves whole to the next part.
    let (mut parts, mut fill) = (1, 0);
    for weight in weights {
        if fill + weight > encoding.part() {
            parts += 1;
            fill = 0;
        }
        fill += weight;
    }
    parts
}

/// `text` cut to at most [`MAX_PARTS`] parts on a character boundary, and whether it was cut.
pub fn fit(text: &str) -> (String, bool) {
    let encoding = encoding(text);
    if parts_in(text, encoding) <= MAX_PARTS {
        return (text.to_string(), false);
    }
    // Binary search for the longest fitting prefix (in characters). Measuring every prefix in the
    // full text's encoding is safe: a prefix can only need a cheaper one.
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let (mut fits, mut too_long) = (0, boundaries.len());
    while too_long - fits > 1 {
        let middle = (fits + too_long) / 2;
        if parts_in(&text[..boundaries[middle]], encoding) <= MAX_PARTS {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    (text[..boundaries[fits]].to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gsm_alphabet_has_127_characters_and_10_extensions() {
        assert_eq!(GSM_BASIC.chars().count(), 127);
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
        assert!(!TURKISH.chars().any(|c| GSM_BASIC.contains(c) || GSM_EXTENSION.contains(c)));
    }

    #[test]
    fn encodings_follow_the_characters() {
        assert_eq!(encoding("Deploy failed: https://x.test/a?b=c"), Encoding::Gsm);
        assert_eq!(encoding("Gözlük Ünlü Çay {json} €5"), Encoding::Gsm);
        assert_eq!(encoding("Dağıtım başarısız İstanbul"), Encoding::Turkish);
        assert_eq!(encoding("şimdi 🚨"), Encoding::Unicode);
        assert_eq!(encoding("tab\there"), Encoding::Unicode);
        assert_eq!(encoding("“quoted”"), Encoding::Unicode);
    }

    #[test]
    fn single_part_limits_are_the_documented_ones() {
        for (c, encoding, limit) in
            [('a', Encoding::Gsm, 155), ('ş', Encoding::Turkish, 150), ('â', Encoding::Unicode, 65)]
        {
            let at = c.to_string().repeat(limit);
            assert_eq!(measure(&at), Measure { encoding, units: limit, parts: 1 }, "{encoding:?}");
            let over = c.to_string().repeat(limit + 1);
            assert_eq!(measure(&over).parts, 2, "{encoding:?}");
            assert_eq!(encoding.single_limit(), limit);
        }
    }

    #[test]
    fn multi_part_totals_count_the_operator_code_once() {
        // n parts hold n × part − 5 characters: 301, 454, ... for GSM.
        for (c, part) in [('a', 153), ('ğ', 149), ('â', 67)] {
            for n in 2..=MAX_PARTS {
                let full = c.to_string().repeat(n * part - OPERATOR_CODE);
                assert_eq!(measure(&full).parts, n, "{c} × {}", n * part - OPERATOR_CODE);
                assert_eq!(measure(&format!("{full}{c}")).parts, n + 1);
            }
        }
    }

    #[test]
    fn extension_characters_and_emoji_count_two() {
        assert_eq!(measure("{}").units, 4);
        assert_eq!(measure("a€").units, 3);
        assert_eq!(measure("🚨x").units, 3);
        // 77 braces are 154 units: one part; a 78th does not fit in 155.
        assert_eq!(measure(&"{".repeat(77)).parts, 1);
        assert_eq!(measure(&"{".repeat(78)).parts, 2);
    }

    #[test]
    fn a_pair_never_straddles_two_parts() {
        // 306 units would just fill two parts, but the brace after 152 units moves whole into
        // part 2, which then overflows into a third.
        let text = format!("{}{{{}", "a".repeat(152), "a".repeat(153 - 1 - OPERATOR_CODE));
        assert_eq!(measure(&text).units + OPERATOR_CODE, 2 * 153);
        assert_eq!(parts_in(&text, Encoding::Gsm), 3);
    }

    #[test]
    fn fitting_cuts_to_seven_parts_on_a_character_boundary() {
        let (same, cut) = fit("short");
        assert_eq!((same.as_str(), cut), ("short", false));

        for (c, max) in [('a', 153 * 7 - 5), ('ş', 149 * 7 - 5), ('â', 67 * 7 - 5)] {
            let (text, cut) = fit(&c.to_string().repeat(2000));
            assert!(cut);
            assert_eq!(text.chars().count(), max, "{c}");
            assert_eq!(measure(&text).parts, MAX_PARTS);
        }
        let (text, cut) = fit(&"🚨".repeat(400));
        assert!(cut && measure(&text).parts == MAX_PARTS);
        // An emoji never straddles parts: 33 per 67-unit part, 31 in the last beside the code.
        assert_eq!(text.chars().count(), 6 * 33 + 31);
    }

    /// The Turkish default texts (`crate::texts`) measured by the rule above.
    #[test]
    fn the_turkish_default_sms_is_one_part_in_turkish_mode() {
        use crate::status::Status;
        use crate::texts::fixtures::github;
        use crate::texts::{Texts, Turkish};

        for text in
            [Turkish.sms(&github(Status::Failure)), Turkish.recovered(&github(Status::Success), Some("run #41"))]
        {
            let got = measure(&text);
            assert_eq!((got.encoding, got.parts), (Encoding::Turkish, 1), "{text}");
        }
        // The escalation note costs a second part; still far from iletiMerkezi's cap of 7.
        assert_eq!(measure(&Turkish.escalation_sms(&github(Status::Failure))).parts, 2);

        // Long names are clipped, so even a very long repository name costs only two parts.
        let mut ctx = github(Status::Failure);
        ctx.repository = format!("acme/{}", "ğüşıöç-".repeat(40));
        assert_eq!(measure(&Turkish.sms(&ctx)).parts, 2);
    }
}
