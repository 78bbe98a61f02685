//! Plain value helpers shared by every layer: the parsers of option values (empty means unset,
//! booleans, durations, provider URLs) and cutting text on a character boundary. They know no
//! option struct, so the command line, the configuration and the providers can all use them.

use std::time::Duration;

use crate::error::ConfigError;

/// An empty string counts as unset everywhere (GitHub passes unset inputs as "").
pub fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// `true` or `false` in any case; anything else names the option.
pub fn parse_bool(option: &'static str) -> impl Fn(&str) -> Result<bool, String> + Clone + Send + Sync + 'static {
    move |value| match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{option} takes true or false")),
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds (`1.5` allowed).
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let parsed = match value.parse::<f64>() {
        Ok(seconds) if (0.0..1e9).contains(&seconds) => Ok(Duration::from_secs_f64(seconds)),
        Ok(_) => Err(()),
        Err(_) => humantime::parse_duration(value).map_err(|_| ()),
    };
    match parsed {
        Ok(d) if d.is_zero() => Err("must be more than zero".into()),
        Ok(d) => Ok(d),
        Err(()) => Err(format!("'{value}' is not a duration; use e.g. 500ms, 30s, 2m or a number of seconds")),
    }
}

/// Checks a provider URL (README, "Delivery"): https, or plain http only to a loopback host,
/// and nothing the HTTP client would refuse at send time, so `check` and `--dry-run` never
/// call a URL fine that cannot be sent to. The error never repeats the URL, since URLs can
/// carry keys.
pub fn check_url(option: &str, value: &str) -> Result<reqwest::Url, ConfigError> {
    let url = reqwest::Url::parse(value.trim())
        .map_err(|e| ConfigError::new(option, format!("not a valid URL ({e}): give a full https:// URL")))?;
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
    }

    #[test]
    fn booleans_accept_any_case_only() {
        let parse = parse_bool("--dry-run");
        assert_eq!(parse("TRUE"), Ok(true));
        assert_eq!(parse("False"), Ok(false));
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
    fn truncation_respects_characters() {
        assert_eq!(truncate_chars("şğüöçı", 3), ("şğü".to_string(), true));
        assert_eq!(truncate_chars("ab", 2), ("ab".to_string(), false));
        assert_eq!(truncate_chars("👍👍", 1), ("👍".to_string(), true));
    }
}
