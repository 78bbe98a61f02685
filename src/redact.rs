//! The last line of defence for secrets and phone numbers: every value from outside that onfail
//! prints passes through a [`Redactor`] that knows each secret value and each phone number.
//! Rendering code already avoids secrets; this catches what it missed (a provider echoing a key,
//! a user pasting a number into `--message`).
//!
//! A provider may echo a secret in another spelling, so the redactor looks for each secret not
//! only as written but also in the text as it reads once decoded: JSON escapes (`\/`, `\"`,
//! `\\`, `\uXXXX` for any character), URL percent-encoding (and `+` for a space), and both nested
//! once; and, in raw bytes, UTF-16 and Latin-5 spellings. Whatever spelling matched, the
//! original bytes it spans are replaced whole. Phone numbers are found whatever their
//! separators (`+90 532 123 45 67`, `0(532) 123-45-67`).

use std::ops::Range;

use crate::phone::{self, Phone};

/// What a secret is replaced with.
pub const REDACTED: &str = "***";

/// Values shorter than this are not swept from text: replacing every `a` or `1` would destroy
/// the output while protecting nothing (GitHub's own masking skips such values too).
const MIN_SECRET_LEN: usize = 4;

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Values replaced wherever they occur: secrets (by `***`) and entries of a phone list that
    /// did not parse (by their masked form). Longest first.
    needles: Vec<Needle>,
    /// Numbers found in text whatever their separators, replaced by their masked form.
    phones: Vec<Phone>,
    /// Secrets too short to sweep from text: hidden only where a whole JSON string value is one
    /// (a request body's `"key": "k"`, as a dry run shows it).
    short: Vec<String>,
}

#[derive(Clone, Debug)]
struct Needle {
    value: String,
    replacement: String,
    /// The byte spellings looked for in the raw text: UTF-8, UTF-16 (both orders), and Latin-5
    /// (ISO-8859-9, Turkish) when that differs, for answers that are not UTF-8.
    spellings: Vec<Vec<u8>>,
}

impl Needle {
    fn new(value: String, replacement: String) -> Needle {
        let mut spellings = vec![value.as_bytes().to_vec()];
        let utf16: Vec<u16> = value.encode_utf16().collect();
        spellings.push(utf16.iter().flat_map(|u| u.to_le_bytes()).collect());
        spellings.push(utf16.iter().flat_map(|u| u.to_be_bytes()).collect());
        if let Some(latin) = latin5(&value).filter(|l| l.as_slice() != value.as_bytes()) {
            spellings.push(latin);
        }
        Needle { value, replacement, spellings }
    }

    fn is_secret(&self) -> bool {
        self.replacement == REDACTED
    }
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret value (a key, a hash, a header value...). Surrounding whitespace is ignored.
    /// An authorization scheme alone (`Bearer`, from a secret that did not arrive) holds no
    /// secret: hiding the word would blot out the error that says so, and every `Bearer` after.
    pub fn secret(&mut self, value: &str) {
        let value = value.trim();
        if crate::values::is_scheme(value) || value.is_empty() {
            return;
        }
        if value.chars().count() >= MIN_SECRET_LEN {
            self.push(value.to_string(), REDACTED.to_string());
        } else if !self.short.iter().any(|s| s == value) {
            self.short.push(value.to_string());
        }
    }

    /// The phone numbers registered, in the order they were.
    pub fn phones(&self) -> &[Phone] {
        &self.phones
    }

    /// Adds a phone number: found in any spelling, replaced by the masked form.
    pub fn phone(&mut self, phone: &Phone) {
        if !self.phones.contains(phone) {
            self.phones.push(phone.clone());
        }
    }

    /// Adds every number of a raw phone list. Entries of a list that does not parse are still
    /// registered (masked), so the error about them cannot leak them either.
    pub fn phone_list(&mut self, raw: &str) {
        match crate::phone::parse_list(raw) {
            Ok(phones) => phones.iter().for_each(|p| self.phone(p)),
            Err(_) => {
                for entry in raw.split([',', ';', '\n', '\r']).map(str::trim).filter(|e| !e.is_empty()) {
                    let digits: String = entry.chars().filter(char::is_ascii_digit).collect();
                    for value in [entry.to_string(), digits] {
                        if value.chars().count() >= MIN_SECRET_LEN {
                            let masked = crate::phone::mask_digits(&value);
                            self.push(value, masked);
                        }
                    }
                }
            }
        }
    }

    /// Adds the secret parts of a URL: the password of its userinfo (as written and decoded;
    /// a user name alone, `https://TOKEN@host`, is taken for a credential too), its query string
    /// and each query value, and with `hide_path` its path (Temperstack keeps its key there).
    pub fn url_secrets(&mut self, raw: &str, hide_path: bool) {
        let Ok(url) = reqwest::Url::parse(raw.trim()) else {
            // Not a URL: configuration will reject it; until then treat all of it as secret,
            // and its userinfo on its own, which an error may quote. A bare scheme (`https://`
            // from an empty secret) holds no key, but would blot out the error's own
            // "give a full https:// URL", so only what follows it counts.
            let value = raw.trim();
            let rest = ["https://", "http://", "https:", "http:", "https", "http"]
                .iter()
                .find_map(|scheme| value.strip_prefix(scheme))
                .unwrap_or(value);
            self.secret(rest);
            self.userinfo_of_unparsed(raw);
            return;
        };
        self.url_password(&url);
        if let Some(credential) = basic_credential(&url) {
            self.secret(&credential);
        }
        if let Some(query) = url.query() {
            self.secret(query);
            for (_, value) in url.query_pairs() {
                self.secret(&value);
            }
        }
        if hide_path {
            let path = url.path().trim_matches('/');
            self.secret(path);
            // The key is the last segment; the others ("api", "webhook") are ordinary words.
            if let Some(last) = path.rsplit('/').next() {
                self.secret(last);
            }
        }
    }

    /// Adds the userinfo password of a URL that is not otherwise secret (`--alert-url`,
    /// `--runbook-url`); a value that is not a URL (a template) adds nothing.
    pub fn url_password_of(&mut self, raw: &str) {
        if let Ok(url) = reqwest::Url::parse(raw.trim()) {
            self.url_password(&url);
        }
    }

    /// Adds the password of a database URL (`postgres://user:password@host/db`), as written and
    /// decoded. Its user name alone is no credential (trust and peer authentication have no
    /// password), and hiding it would blot out every word it spells, "onfail" included.
    pub fn database_password_of(&mut self, raw: &str) {
        match reqwest::Url::parse(raw.trim()) {
            Ok(url) => {
                if let Some(password) = url.password() {
                    self.secret_with_decoded(password);
                }
            }
            Err(_) => self.userinfo_of_unparsed(raw),
        }
    }

    fn url_password(&mut self, url: &reqwest::Url) {
        let credential = url.password().or((!url.username().is_empty()).then(|| url.username()));
        if let Some(credential) = credential {
            self.secret_with_decoded(credential);
        }
    }

    /// The userinfo of a URL that does not parse, found by hand: `scheme://user:pass@host`.
    fn userinfo_of_unparsed(&mut self, raw: &str) {
        let Some((_, rest)) = raw.trim().split_once("://") else { return };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            let credential = userinfo.split_once(':').map_or(userinfo, |(_, password)| password);
            self.secret_with_decoded(credential);
        }
    }

    fn secret_with_decoded(&mut self, value: &str) {
        self.secret(value);
        let decoded = View::raw(value.as_bytes()).decode(false).map(|v| String::from_utf8_lossy(&v.bytes).into_owned());
        if let Some(decoded) = decoded {
            self.secret(&decoded);
        }
    }

    fn push(&mut self, value: String, replacement: String) {
        if self.needles.iter().any(|n| n.value == value) {
            return;
        }
        let at = self.needles.partition_point(|n| n.value.len() >= value.len());
        self.needles.insert(at, Needle::new(value, replacement));
    }

    /// A redactor for the secrets alone, without the phone numbers: provider answers are scrubbed
    /// with it, since a delivery report must still name its recipients to be matched.
    pub fn secrets_only(&self) -> Redactor {
        Redactor {
            needles: self.needles.iter().filter(|n| n.is_secret()).cloned().collect(),
            phones: Vec::new(),
            short: self.short.clone(),
        }
    }

    /// Every value this redactor hides, in the spellings a log could show it (as written,
    /// percent-encoded, JSON-escaped; each phone number in its usual forms), for GitHub's
    /// `::add-mask::`, which then hides them in the rest of the job's log too.
    pub fn needles(&self) -> Vec<String> {
        let mut all = Vec::new();
        for needle in &self.needles {
            all.push(needle.value.clone());
            if needle.is_secret() {
                all.push(percent_encode(&needle.value));
                let json = serde_json::to_string(&needle.value).unwrap_or_default();
                all.push(json.trim_matches('"').to_string());
            }
        }
        all.extend(self.phones.iter().flat_map(Phone::spellings));
        all.dedup();
        all
    }

    /// `text` with every secret and phone number replaced.
    pub fn apply(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        let bytes = self.apply_bytes(text.as_bytes());
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Raw bytes (a provider answer in any character set) with every secret and phone number
    /// replaced, before anything decodes or cuts them.
    pub fn apply_bytes(&self, text: &[u8]) -> Vec<u8> {
        if self.is_empty() {
            return text.to_vec();
        }
        let raw = View::raw(text);
        let mut found = Vec::new();
        self.find(&raw, true, &mut found);
        // Decoded once, and twice: JSON inside JSON, a percent-encoded value in a JSON string.
        let once = raw.decode(false);
        let twice = once.as_ref().and_then(|view| view.decode(false));
        let plus = text.contains(&b'+').then(|| raw.decode(true)).flatten();
        for view in [once, twice, plus].iter().flatten() {
            self.find(view, false, &mut found);
        }
        replace(text, found)
    }

    /// Collects, in original coordinates, where `view` shows a secret or a number. The other
    /// character sets are looked for in the `raw` text only.
    fn find(&self, view: &View, raw: bool, found: &mut Vec<(Range<usize>, String)>) {
        for needle in &self.needles {
            let spellings = if raw { &needle.spellings[..] } else { &needle.spellings[..1] };
            for spelling in spellings {
                for at in occurrences(&view.bytes, spelling) {
                    found.push((view.original(at..at + spelling.len()), needle.replacement.clone()));
                }
            }
        }
        for (range, index) in phone::find(&view.bytes, &self.phones) {
            found.push((view.original(range), self.phones[index].masked()));
        }
    }

    /// A provider answer with its secrets replaced. A JSON answer is redacted value by value
    /// (keys included) and written back, so its structure survives for the channel to read even
    /// when a secret is `true` or `null`; anything else is redacted as bytes.
    pub fn apply_body(&self, body: &[u8]) -> Vec<u8> {
        if self.is_empty() {
            return body.to_vec();
        }
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) {
            if self.json(&mut value, true) {
                return serde_json::to_vec(&value).unwrap_or_else(|_| self.apply_bytes(body));
            }
            return body.to_vec();
        }
        self.apply_bytes(body)
    }

    /// Redacts every string in a JSON value, and with `keys` every object key; returns whether
    /// anything changed.
    pub fn json(&self, value: &mut serde_json::Value, keys: bool) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                let redacted = self.apply(text);
                let changed = redacted != *text;
                *text = redacted;
                changed
            }
            Value::Array(items) => items.iter_mut().fold(false, |changed, item| self.json(item, keys) | changed),
            Value::Object(map) => {
                let mut changed = false;
                for (key, mut item) in std::mem::take(map) {
                    changed |= self.json(&mut item, keys);
                    let mut shown = if keys { self.apply(&key) } else { key.clone() };
                    // Two keys redacted alike must not lose a value.
                    while map.contains_key(&shown) {
                        shown.push('*');
                    }
                    changed |= shown != key;
                    map.insert(shown, item);
                }
                changed
            }
            _ => false,
        }
    }

    /// A JSON text (a request body) with the secrets and numbers in its string values and its
    /// numbers replaced, and every other byte kept: keys (the wire format, or the user's
    /// template), whitespace, key order and the spelling of each number stay as they are, so a
    /// dry run shows the body as sent. A string value that holds nothing to hide keeps its
    /// exact escapes; one that does is written anew from its redacted text. Text that is not
    /// JSON is redacted as a whole.
    pub fn json_text(&self, text: &str) -> String {
        if self.is_empty() && self.short.is_empty() {
            return text.to_string();
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            return self.apply(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c == '"' || c == '-' || c.is_ascii_digit()) {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = if rest.starts_with('"') {
                json_string_len(rest)
            } else {
                rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len())
            };
            let (token, after) = rest.split_at(end);
            let is_key = after.trim_start().starts_with(':');
            out.push_str(&match token.strip_prefix('"') {
                Some(_) if is_key => token.to_string(),
                Some(_) => match serde_json::from_str::<String>(token) {
                    Ok(value) if self.short.contains(&value) => format!("\"{REDACTED}\""),
                    Ok(value) if self.apply(&value) != value => {
                        serde_json::to_string(&self.apply(&value)).unwrap_or_else(|_| self.apply(token))
                    }
                    Ok(_) => token.to_string(),
                    Err(_) => self.apply(token),
                },
                None => self.apply(token),
            });
            rest = after;
        }
        out.push_str(rest);
        out
    }

    fn is_empty(&self) -> bool {
        // The short secrets count only where a whole JSON value is one (`json_text`): text with
        // nothing else to hide is not walked for them.
        self.needles.is_empty() && self.phones.is_empty()
    }
}

/// The length of the JSON string literal at the start of `text` (which starts with `"`),
/// closing quote included; the whole text if it never closes. The one hand-written walker over
/// JSON strings: the redactor and the webhook's body templates both find literals with it.
pub fn json_string_len(text: &str) -> usize {
    let mut escaped = false;
    for (at, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return at + 1,
            _ => {}
        }
    }
    text.len()
}

/// A decoded reading of a text: each byte with the range of original bytes it stands for.
struct View {
    bytes: Vec<u8>,
    origin: Vec<Range<usize>>,
}

impl View {
    fn raw(text: &[u8]) -> View {
        View { bytes: text.to_vec(), origin: (0..text.len()).map(|i| i..i + 1).collect() }
    }

    /// The original range behind `range` of this view.
    fn original(&self, range: Range<usize>) -> Range<usize> {
        self.origin[range.start].start..self.origin[range.end - 1].end
    }

    /// The text with JSON escapes and percent-encoding undone (and `+` read as a space with
    /// `plus`), or `None` when there is nothing to undo.
    fn decode(&self, plus: bool) -> Option<View> {
        let b = &self.bytes;
        let mut out = View { bytes: Vec::with_capacity(b.len()), origin: Vec::with_capacity(b.len()) };
        let mut decoded = false;
        let mut i = 0;
        while i < b.len() {
            let (bytes, used): (Vec<u8>, usize) = match b[i] {
                b'\\' => match json_escape(&b[i..]) {
                    Some(found) => found,
                    None => (vec![b'\\'], 1),
                },
                b'%' => match (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex)) {
                    (Some(high), Some(low)) => (vec![high << 4 | low], 3),
                    _ => (vec![b'%'], 1),
                },
                b'+' if plus => (vec![b' '], 1),
                other => (vec![other], 1),
            };
            decoded |= used > 1 || bytes != [b[i]];
            let origin = self.origin[i].start..self.origin[i + used - 1].end;
            for byte in bytes {
                out.bytes.push(byte);
                out.origin.push(origin.clone());
            }
            i += used;
        }
        decoded.then_some(out)
    }
}

/// The JSON escape at the start of `text` (which starts with `\`): its UTF-8 bytes and length.
fn json_escape(text: &[u8]) -> Option<(Vec<u8>, usize)> {
    let simple = match *text.get(1)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let unit = |at: usize| -> Option<u32> {
                let digits = text.get(at..at + 4)?;
                digits.iter().try_fold(0u32, |n, d| hex(d).map(|d| n << 4 | u32::from(d)))
            };
            let first = unit(2)?;
            let (code, used) = if (0xD800..0xDC00).contains(&first) {
                let low = (text.get(6..8) == Some(b"\\u")).then(|| unit(8)).flatten()?;
                if !(0xDC00..0xE000).contains(&low) {
                    return None;
                }
                (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
            } else {
                (first, 6)
            };
            let c = char::from_u32(code)?;
            return Some((c.to_string().into_bytes(), used));
        }
        _ => return None,
    };
    Some((vec![simple], 2))
}

fn hex(digit: &u8) -> Option<u8> {
    (*digit as char).to_digit(16).map(|d| d as u8)
}

/// Every non-overlapping start of `needle` in `haystack`.
fn occurrences(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut found = Vec::new();
    if needle.is_empty() || needle.len() > haystack.len() {
        return found;
    }
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        if haystack[at] == needle[0] && haystack[at..at + needle.len()] == *needle {
            found.push(at);
            at += needle.len();
        } else {
            at += 1;
        }
    }
    found
}

/// `text` with each found range replaced; overlapping ranges merge, and a merged range that
/// holds a secret is `***`.
fn replace(text: &[u8], mut found: Vec<(Range<usize>, String)>) -> Vec<u8> {
    if found.is_empty() {
        return text.to_vec();
    }
    found.sort_by_key(|(range, _)| (range.start, std::cmp::Reverse(range.end)));
    let mut merged: Vec<(Range<usize>, String)> = Vec::new();
    for (range, replacement) in found {
        match merged.last_mut() {
            Some((last, with)) if range.start < last.end => {
                if range.end > last.end {
                    last.end = range.end;
                    *with = REDACTED.to_string();
                }
            }
            _ => merged.push((range, replacement)),
        }
    }
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (range, replacement) in merged {
        out.extend_from_slice(&text[at..range.start]);
        out.extend_from_slice(replacement.as_bytes());
        at = range.end;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// The credential of the `Authorization: Basic` header the HTTP client makes of a URL's
/// userinfo (`https://user:pass@host/`): base64 of the decoded `user:password`
/// (docs/security.md, "Security"). `None` without userinfo, or when it does not decode to UTF-8 (then the client
/// sends no header either).
pub fn basic_credential(url: &reqwest::Url) -> Option<String> {
    use base64::Engine;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user = percent_decoded(url.username())?;
    let password = url.password().map(percent_decoded).unwrap_or(Some(String::new()))?;
    Some(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// `%XX` sequences decoded (and nothing else), as the HTTP client reads a URL's userinfo.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Every byte outside the URL-unreserved set as `%XX`: how a client would send the value in a
/// query string.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ISO-8859-9 (Latin-5, Turkish) bytes of `text`, if it can be written so.
fn latin5(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| match c {
            'Ğ' => Some(0xD0),
            'İ' => Some(0xDD),
            'Ş' => Some(0xDE),
            'ğ' => Some(0xF0),
            'ı' => Some(0xFD),
            'ş' => Some(0xFE),
            'Ð' | 'Ý' | 'Þ' | 'ð' | 'ý' | 'þ' => None,
            c => u8::try_from(u32::from(c)).ok(),
        })
        .collect()
}

/// Control characters (line breaks, terminal escapes) blanked to spaces, so the text stays on
/// one line and cannot steer a terminal; every other character kept.
pub fn blank_controls(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Text made safe to print on one line: control characters blanked, runs of whitespace
/// squeezed to one space, no space at either end.
pub fn one_line(text: &str) -> String {
    blank_controls(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`one_line`], then [`cut`] to at most `max` characters: a provider's text in a message.
pub fn one_line_cut(text: &str, max: usize) -> String {
    cut(&one_line(text), max)
}

/// Cuts text that has already been redacted to at most `max` characters. When it cuts, a number
/// left half-way at the end is dropped too: a phone number cut in two is no longer recognised
/// as one, and its first half should not be shown either.
pub fn cut(text: &str, max: usize) -> String {
    let (short, cut) = crate::values::truncate_chars(text, max);
    if !cut {
        return short;
    }
    let keep = short.trim_end_matches(|c: char| c.is_ascii_digit() || " +-.()/".contains(c));
    if keep.len() < short.len() && short[keep.len()..].chars().any(|c| c.is_ascii_digit()) {
        keep.to_string()
    } else {
        short
    }
}

/// Shows a URL with its secret parts hidden: the query string always, and the path when
/// `hide_path` is set (Temperstack keeps its key there). The userinfo is never shown.
pub fn url(url: &reqwest::Url, hide_path: bool) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    if hide_path {
        shown.push_str("/***");
    } else {
        shown.push_str(url.path());
    }
    if url.query().is_some() {
        shown.push_str("?***");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::parse_list;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::new();
        secrets.iter().for_each(|s| r.secret(s));
        r
    }

    #[test]
    fn secrets_and_numbers_are_replaced_everywhere() {
        let mut r = redactor(&["key-123456", "key-123456-longer", "ab", "q\"uo\\te"]);
        r.phone(&parse_list("5321234567").unwrap()[0]);
        let text = r.apply("k=key-123456-longer k2=key-123456 ab +905321234567 05321234567");
        assert_eq!(text, "k=*** k2=*** ab 5*******67 5*******67");
        assert_eq!(r.apply(&serde_json::to_string("q\"uo\\te").unwrap()), "\"***\"");
    }

    #[test]
    fn a_json_body_keeps_every_byte_but_its_secret_values() {
        let mut r = redactor(&["SECRETKEY1", "true", "keep"]);
        r.phone(&parse_list("5321234567").unwrap()[0]);
        let body = "{\"keep\":\"SECRETKEY1\",  \"n\": 5321234567, \"s\":\"a\\/b\\u00e7\" ,\"x\" : 1.50e0,\n \"t\": true, \"to\":[\"905321234567\"]}";
        assert_eq!(
            r.json_text(body),
            "{\"keep\":\"***\",  \"n\": 5*******67, \"s\":\"a\\/b\\u00e7\" ,\"x\" : 1.50e0,\n \"t\": true, \"to\":[\"5*******67\"]}"
        );
        // A secret written with escapes is still found; text that is not JSON is redacted whole.
        assert_eq!(r.json_text(r#"{"a":"SECRET\u004bEY1"}"#), r#"{"a":"***"}"#);
        assert_eq!(r.json_text("not json SECRETKEY1"), "not json ***");
        assert_eq!(Redactor::new().json_text(body), body);
    }

    #[test]
    fn a_short_secret_is_hidden_where_it_is_a_whole_json_value_only() {
        let r = redactor(&["k", "h2"]);
        assert_eq!(
            r.json_text(r#"{"key":"k","hash":"h2","text":"a k h2"}"#),
            r#"{"key":"***","hash":"***","text":"a k h2"}"#
        );
        // Swept from text it would blot out every "k"; answers are read as they came.
        assert_eq!(r.apply("k h2"), "k h2");
    }

    #[test]
    fn echoes_in_other_spellings_are_replaced_whole() {
        let r = redactor(&["Zq7/Lk+x9\"V\\b", "şifre-İzmir-ğ"]);
        let secret = "Zq7/Lk+x9\"V\\b";
        let percent = percent_encode(secret);
        let form = secret.replace(' ', "+").replace('/', "%2F").replace('"', "%22").replace('\\', "%5C");
        let json_slash = serde_json::to_string(secret).unwrap().replace('/', "\\/");
        let unicode: String = secret.chars().map(|c| format!("\\u{:04X}", u32::from(c))).collect();
        let mixed = "Zq7\\/Lk%2Bx9\\u0022V\\\\b";
        let nested = serde_json::to_string(&serde_json::to_string(secret).unwrap()).unwrap();
        for echo in [percent.as_str(), &form, &json_slash, &unicode, mixed, &nested] {
            let shown = r.apply(&format!("said: <{echo}> end"));
            assert!(!shown.contains("Zq7") && !shown.contains("x9") && shown.ends_with("> end"), "{echo} → {shown}");
        }
        // Not UTF-8: UTF-16 in both byte orders, and Latin-5.
        for encoded in [
            secret.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>(),
            secret.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            latin5("şifre-İzmir-ğ").unwrap(),
        ] {
            let mut body = b"\xff\xfeerr: ".to_vec();
            body.extend(&encoded);
            body.extend(b" \xff tail");
            let shown = r.apply_bytes(&body);
            assert!(shown.windows(3).any(|w| w == b"***"), "{shown:?}");
            assert!(!shown.windows(encoded.len()).any(|w| w == encoded), "{shown:?}");
            assert!(shown.ends_with(b" \xff tail"));
        }
    }

    #[test]
    fn url_passwords_are_secrets_as_written_and_decoded() {
        let mut r = Redactor::new();
        r.url_secrets("https://deploy:p%40ss-w0rd@hooks.example/x", false);
        r.url_secrets("https://tok-en-123456@git.example/", false);
        r.url_password_of("https://u:runbook-pass@wiki.example/page");
        r.url_password_of("{job_url}");
        r.url_secrets("https://u:unparsed-pass@exa mple/", false);
        let shown = r.apply("p%40ss-w0rd p@ss-w0rd tok-en-123456 runbook-pass unparsed-pass deploy");
        assert_eq!(shown, "*** *** *** *** *** deploy");
        let needles = r.needles();
        assert!(needles.contains(&"p@ss-w0rd".to_string()) && needles.contains(&"p%2540ss-w0rd".to_string()));
    }

    #[test]
    fn the_basic_credential_a_url_becomes_is_a_secret() {
        // printf 'deploy:p@ss-w0rd' | base64
        let url = reqwest::Url::parse("https://deploy:p%40ss-w0rd@hooks.example/x").unwrap();
        assert_eq!(basic_credential(&url).as_deref(), Some("ZGVwbG95OnBAc3MtdzByZA=="));
        let token = reqwest::Url::parse("https://tok-en-123456@git.example/").unwrap();
        assert_eq!(basic_credential(&token).as_deref(), Some("dG9rLWVuLTEyMzQ1Njo="));
        assert_eq!(basic_credential(&reqwest::Url::parse("https://h.example/").unwrap()), None);
        let mut r = Redactor::new();
        r.url_secrets(url.as_str(), false);
        assert_eq!(r.apply("Authorization: Basic ZGVwbG95OnBAc3MtdzByZA=="), "Authorization: Basic ***");
        assert!(r.needles().contains(&"ZGVwbG95OnBAc3MtdzByZA==".to_string()));
    }

    #[test]
    fn json_answers_keep_their_structure_whatever_the_secret() {
        let r = redactor(&["true", "null", "sent", "status-key-9"]);
        let body = br#"{"ok": true, "n": null, "status": "sent", "status-key-9": "echo status-key-9"}"#;
        let shown: serde_json::Value = serde_json::from_slice(&r.apply_body(body)).unwrap();
        assert_eq!(shown, serde_json::json!({"ok": true, "n": null, "status": "***", "***": "echo ***"}));
        // Unchanged answers are passed on byte for byte.
        assert_eq!(r.apply_body(br#"{ "a" : 1 }"#), br#"{ "a" : 1 }"#);
    }

    #[test]
    fn cuts_never_leave_half_a_number() {
        assert_eq!(cut("call +90 532 1234", 16), "call");
        assert_eq!(cut("call +90 532 123 45 67 now", 16), "call");
        assert_eq!(cut("short +90 532", 50), "short +90 532");
        assert_eq!(cut("plain words here", 11), "plain words");
    }

    #[test]
    fn urls_lose_query_and_optionally_path() {
        let u = reqwest::Url::parse("https://acme.temperstack.com:8443/api/integration/webhook/KEY?x=1").unwrap();
        assert_eq!(url(&u, true), "https://acme.temperstack.com:8443/***?***");
        assert_eq!(url(&u, false), "https://acme.temperstack.com:8443/api/integration/webhook/KEY?***");
        let u = reqwest::Url::parse("https://user:pass@h.example/p").unwrap();
        assert_eq!(url(&u, false), "https://h.example/p");
    }
}
