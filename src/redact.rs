//! The last line of defence for secrets and phone numbers: every string onfail prints passes
//! through a [`Redactor`] that knows each secret value and each phone number in every spelling.
//! Rendering code already avoids secrets; this catches what it missed (a provider echoing a key,
//! a user pasting a number into `--message`).

use crate::phone::Phone;

/// What a secret is replaced with.
pub const REDACTED: &str = "***";

/// Values shorter than this are not swept from text: replacing every `a` or `1` would destroy
/// the output while protecting nothing (GitHub's own masking skips such values too).
const MIN_SECRET_LEN: usize = 4;

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// (needle, replacement), longest needle first so a secret containing another is replaced whole.
    rules: Vec<(String, String)>,
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret value (a key, a hash, a header value...). Surrounding whitespace is ignored.
    pub fn secret(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() >= MIN_SECRET_LEN {
            self.push(value.to_string(), REDACTED.to_string());
            // Inside JSON output a secret with quotes or backslashes appears escaped.
            let escaped = serde_json::to_string(value).unwrap_or_default();
            let escaped = &escaped[1..escaped.len().saturating_sub(1).max(1)];
            if escaped != value {
                self.push(escaped.to_string(), REDACTED.to_string());
            }
        }
    }

    /// Adds a phone number: every spelling is replaced by the masked form.
    pub fn phone(&mut self, phone: &Phone) {
        for spelling in phone.spellings() {
            self.push(spelling, phone.masked());
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

    /// Adds the secret parts of a URL: its query string and each query value, and with
    /// `hide_path` its path (Temperstack keeps its key there).
    pub fn url_secrets(&mut self, raw: &str, hide_path: bool) {
        let Ok(url) = reqwest::Url::parse(raw.trim()) else {
            // Not a URL: configuration will reject it; until then treat all of it as secret,
            // except a bare scheme (`https://` from an empty secret), which holds no key but
            // would blot out the "give a full https:// URL" of the error.
            let value = raw.trim();
            let rest = ["https://", "http://", "https:", "http:", "https", "http"]
                .iter()
                .find_map(|scheme| value.strip_prefix(scheme))
                .unwrap_or(value);
            self.secret(rest);
            return;
        };
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

    fn push(&mut self, needle: String, replacement: String) {
        if self.rules.iter().any(|(n, _)| *n == needle) {
            return;
        }
        let at = self.rules.partition_point(|(n, _)| n.len() >= needle.len());
        self.rules.insert(at, (needle, replacement));
    }

    /// A redactor for the secrets alone, without the phone numbers: provider answers are scrubbed
    /// with it, since a delivery report must still name its recipients to be matched.
    pub fn secrets_only(&self) -> Redactor {
        Redactor { rules: self.rules.iter().filter(|(_, r)| r == REDACTED).cloned().collect() }
    }

    /// The secret values themselves (not phone numbers), for `::add-mask::`.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().filter(|(_, r)| r == REDACTED).map(|(n, _)| n.as_str())
    }

    /// Every value this redactor hides (secrets and each spelling of each phone number), for
    /// GitHub's `::add-mask::`, which then hides them in the rest of the job's log too.
    pub fn needles(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|(n, _)| n.as_str())
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (needle, replacement) in &self.rules {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), replacement);
            }
        }
        out
    }
}

/// Shows a URL with its secret parts hidden: the query string always, and the path when
/// `hide_path` is set (Temperstack keeps its key there).
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

    #[test]
    fn secrets_and_numbers_are_replaced_everywhere() {
        let mut r = Redactor::new();
        r.secret("key-123456");
        r.secret("key-123456-longer");
        r.secret("ab");
        r.secret("q\"uo\\te");
        r.phone(&parse_list("5321234567").unwrap()[0]);
        let text = r.apply("k=key-123456-longer k2=key-123456 ab +905321234567 05321234567");
        assert_eq!(text, "k=*** k2=*** ab 5*******67 5*******67");
        assert_eq!(r.apply(&serde_json::to_string("q\"uo\\te").unwrap()), "\"***\"");
    }

    #[test]
    fn urls_lose_query_and_optionally_path() {
        let u = reqwest::Url::parse("https://acme.temperstack.com:8443/api/integration/webhook/KEY?x=1").unwrap();
        assert_eq!(url(&u, true), "https://acme.temperstack.com:8443/***?***");
        assert_eq!(url(&u, false), "https://acme.temperstack.com:8443/api/integration/webhook/KEY?***");
    }
}
