//! Plain value helpers shared by every layer: the parsers of option values (empty means unset,
//! enumerated words, booleans, durations, provider URLs) and cutting text on a character
//! boundary. They know no option struct, so the command line, the configuration and the
//! providers can all use them.
//!
//! # The rules every option follows (docs/reference.md, "Options")
//!
//! - **Enumerated values** (`--output`, `--status`, `--notify-on`, `--notify-when`, `--priority`,
//!   `--webhook-format`, booleans, and any new one) are read through [`word`]: surrounding
//!   whitespace dropped (a YAML block scalar ends in a newline, and GitHub passes inputs
//!   verbatim) and ASCII case folded. Declare a new one on the command line with
//!   `value_parser = one_of("a format", &[("text", Format::Text), ("json", Format::Json)])`;
//!   one checked later, in a provider's `configure`, goes through [`choose`] (the same rule).
//! - **Values may start with `-`.** Every option that takes a value takes the next argument as
//!   that value, whatever it starts with: `--message '- deploy failed'` works, and
//!   `--timeout -1s` gets the duration error naming `--timeout` instead of "unexpected
//!   argument". `crate::cli::command` sets clap's `allow_hyphen_values` on every such option
//!   (booleans, whose value is optional, excepted), so a new option follows the rule without a
//!   line of its own. The one guard: a value given on the command line that is exactly one of
//!   onfail's own flags (`--message --dry-run`, `--title --timeout=5s`) is refused with exit 2,
//!   since the value was almost certainly left out and the flag would be lost.
//! - **Durations** are read by [`parse_duration`]: more than zero and at most
//!   [`MAX_DURATION`], so no deadline computed from one can overflow.

use std::time::Duration;

use crate::error::ConfigError;

/// The longest duration any option accepts. A day is far past any send, wait or escalation a
/// pager needs, and far below what `Instant` arithmetic can hold on every platform.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// An empty string counts as unset everywhere (GitHub passes unset inputs as "").
pub fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// An enumerated value as it is compared: surrounding whitespace dropped, ASCII case folded.
/// The one place this happens, so every option reads `" JSON\n"` the same way.
pub fn word(value: &str) -> String {
    value.trim().to_ascii_lowercase()
}

/// Picks the choice named by `value` (through [`word`]); the error lists the choices. `what`
/// names the kind of value, e.g. `"an output format"`.
pub fn choose<T: Copy>(value: &str, what: &str, choices: &[(&str, T)]) -> Result<T, String> {
    let wanted = word(value);
    choices.iter().find(|(name, _)| *name == wanted).map(|(_, choice)| *choice).ok_or_else(|| {
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        format!("'{}' is not {what}; use {}", value.trim(), list(&names))
    })
}

/// [`choose`] as a clap value parser: `value_parser = one_of("an output format", &[...])`.
pub fn one_of<T: Copy + Send + Sync + 'static>(
    what: &'static str,
    choices: &'static [(&'static str, T)],
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |value| choose(value, what, choices)
}

/// `a`, `a or b`, `a, b or c`.
pub fn list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// `true` or `false` in any case; anything else names the option.
pub fn parse_bool(option: &'static str) -> impl Fn(&str) -> Result<bool, String> + Clone + Send + Sync + 'static {
    move |value| {
        choose(value, "a boolean", &[("true", true), ("false", false)])
            .map_err(|_| format!("{option} takes true or false"))
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds (`1.5` allowed); more than zero and
/// at most [`MAX_DURATION`]. Never panics, whatever the text.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let unknown = || format!("'{value}' is not a duration; use e.g. 500ms, 30s, 2m or a number of seconds");
    if value.starts_with('-') {
        return Err(format!("'{value}' is negative; give a duration more than zero, e.g. 30s"));
    }
    let parsed = match value.parse::<f64>() {
        // "inf" and "NaN" parse as numbers, but are not a number of seconds.
        Ok(seconds) if !seconds.is_finite() => return Err(unknown()),
        // Compared before converting: `Duration::from_secs_f64` panics on a value it cannot hold.
        Ok(seconds) if seconds > MAX_DURATION.as_secs_f64() => None,
        Ok(seconds) => Some(Duration::from_secs_f64(seconds.max(0.0))),
        Err(_) => Some(humantime::parse_duration(value).map_err(|_| unknown())?),
    };
    match parsed {
        Some(d) if d.is_zero() => Err("must be more than zero".into()),
        Some(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(format!("'{value}' is too long; durations are at most 24h")),
    }
}

/// What is wrong with a URL that does not parse, and the fix. Host names must be ASCII: the
/// Unicode tables that convert an internationalized name would cost a twentieth of the binary
/// (docs/delivery.md, "Delivery"), and its `xn--` form is what DNS sees anyway.
pub fn url_error(error: url::ParseError, value: &str) -> String {
    match error {
        url::ParseError::IdnaError if !value.is_ascii() => {
            "the host name is not ASCII: write an internationalized domain name in its \
                                       ASCII form (xn--...), as DNS sees it"
                .to_string()
        }
        e => format!("not a valid URL ({e}): give a full https:// URL"),
    }
}

/// Checks a provider URL (docs/delivery.md, "Delivery"): https, or plain http only to a loopback host,
/// and nothing the HTTP client would refuse at send time, so `check` and `--dry-run` never
/// call a URL fine that cannot be sent to. The error never repeats the URL, since URLs can
/// carry keys.
pub fn check_url(option: &str, value: &str) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(value.trim()).map_err(|e| ConfigError::new(option, url_error(e, value)))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                option,
                "must use https://; plain http:// is allowed only for 127.0.0.1, ::1 and localhost (local testing)",
            ));
        }
        _ => return Err(ConfigError::new(option, "must be an https:// URL")),
    }
    // reqwest moves user:password into an Authorization header and then needs the rest to
    // be a valid HTTP request target.
    let mut target = url.clone();
    let _ = (target.set_username(""), target.set_password(None));
    let length = target.as_str().len();
    if length > MAX_URL {
        return Err(ConfigError::new(
            option,
            format!("is {length} bytes long; the HTTP client sends at most {MAX_URL}: shorten the URL"),
        ));
    }
    if let Err(e) = target.as_str().parse::<http::Uri>() {
        return Err(ConfigError::new(option, format!("cannot be sent by the HTTP client ({e}); check the URL")));
    }
    Ok(url)
}

/// The longest request target the HTTP client (the `http` crate) accepts: 64 KiB minus 2.
const MAX_URL: usize = u16::MAX as usize - 1;

pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Authorization schemes: a header value that is one of these alone is a secret that did not
/// arrive (`Authorization: Bearer ${{ secrets.UNSET }}`), not a credential.
const SCHEMES: [&str; 4] = ["apikey", "bearer", "basic", "token"];

/// Whether `value` is an authorization scheme alone (any case, surrounding whitespace ignored).
pub fn is_scheme(value: &str) -> bool {
    SCHEMES.iter().any(|scheme| value.trim().eq_ignore_ascii_case(scheme))
}

/// What is wrong with a value onfail sends as an HTTP header value (docs/security.md, "Security"), if
/// anything: a line break or another control character (a header cannot carry one, and the
/// request would fail at every attempt), or an authorization scheme with nothing after it. The
/// value is never quoted, only the scheme. Surrounding whitespace is ignored, as when sent.
pub fn header_value_error(value: &str) -> Option<String> {
    let value = value.trim();
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Some(
            "holds a line break or another control character, which an HTTP header cannot carry: give the \
             value alone, on one line"
                .into(),
        );
    }
    is_scheme(value).then(|| {
        format!(
            "is only the authorization scheme `{value}`, with nothing after it: the secret that should follow \
             it is empty; is it set for this workflow?"
        )
    })
}

/// Cuts `text` to at most `max` characters, on a character boundary. Returns whether it cut.
pub fn truncate_chars(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((byte, _)) => (text[..byte].to_string(), true),
        None => (text.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("inf").is_err());
    }

    #[test]
    fn durations_are_bounded_and_negative_ones_say_so() {
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        assert_eq!(parse_duration(" 86400\n"), Ok(MAX_DURATION));
        for huge in ["9999999999999999999s", "18446744073709551615", "1e30", "86401", "25h", "2days", "1e308"] {
            assert!(parse_duration(huge).unwrap_err().contains("at most 24h"), "{huge}");
        }
        assert!(parse_duration("1e30s").unwrap_err().contains("not a duration"));
        for negative in ["-1s", "-1", " -0.5 ", "-0"] {
            assert!(parse_duration(negative).unwrap_err().contains("is negative"), "{negative}");
        }
    }

    #[test]
    fn enumerated_words_are_trimmed_and_case_folded_once() {
        const FORMATS: &[(&str, u8)] = &[("text", 1), ("json", 2)];
        assert_eq!(word(" JSON\n"), "json");
        assert_eq!(choose("Json\r\n", "an output format", FORMATS), Ok(2));
        assert_eq!(one_of("an output format", FORMATS)("\ttext "), Ok(1));
        assert_eq!(
            choose("yaml ", "an output format", FORMATS),
            Err("'yaml' is not an output format; use text or json".into())
        );
        assert_eq!(list(&["a", "b", "c"]), "a, b or c");
        assert_eq!(list(&["a"]), "a");
    }

    #[test]
    fn booleans_accept_any_case_only() {
        let parse = parse_bool("--dry-run");
        assert_eq!(parse("TRUE"), Ok(true));
        assert_eq!(parse("False"), Ok(false));
        assert_eq!(parse(" true\n"), Ok(true));
        assert!(parse("yes").unwrap_err().contains("--dry-run"));
    }

    #[test]
    fn urls_must_be_https_unless_loopback() {
        assert!(check_url("--x", "https://example.com/a").is_ok());
        for ok in ["http://127.0.0.1:8080/", "http://127.9.9.9/", "http://localhost/", "http://[::1]:1/"] {
            assert!(check_url("--x", ok).is_ok(), "{ok}");
        }
        let err = check_url("--x", "http://example.com/secret-path").unwrap_err().to_string();
        assert!(err.contains("--x") && err.contains("https") && !err.contains("secret-path"), "{err}");
        assert!(check_url("--x", "ftp://example.com").is_err());
        assert!(check_url("--x", "not a url").is_err());
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL));
        let err = check_url("--x", &long).unwrap_err().to_string();
        assert!(err.starts_with("--x: is ") && err.contains("at most 65534") && !err.contains("aaaa"), "{err}");
        let fits = format!("https://example.com/{}", "a".repeat(MAX_URL - 20));
        assert!(check_url("--x", &fits).is_ok());
        // user:password leaves the URL before the length and syntax checks, as in reqwest.
        assert!(check_url("--x", "https://user:pa%20ss@example.com/").is_ok());
    }

    #[test]
    fn header_values_hold_no_control_character_and_more_than_a_scheme() {
        for ok in ["Bearer abc", "APIKEY k-1", "k\tv", "token-123", "şifre", "  Basic dXNlcjpw  "] {
            assert_eq!(header_value_error(ok), None, "{ok:?}");
        }
        for bad in ["a\r\nX-Evil: 1", "k\ney", "k\0", "k\u{7f}"] {
            assert!(header_value_error(bad).unwrap().contains("line break or another control"), "{bad:?}");
        }
        for scheme in ["Bearer", " bearer\t", "APIKEY ", "basic", "TOKEN", "ApiKey"] {
            let error = header_value_error(scheme).unwrap();
            assert!(error.starts_with("is only the authorization scheme `") && error.contains("is empty"), "{error}");
        }
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("şğüöçı", 3), ("şğü".to_string(), true));
        assert_eq!(truncate_chars("ab", 2), ("ab".to_string(), false));
        assert_eq!(truncate_chars("👍👍", 1), ("👍".to_string(), true));
    }
}
