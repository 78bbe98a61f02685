//! The `--config` TOML file (docs/serve-checks.md): a default time zone, `[[check]]` tables and
//! `[[watch]]` tables. Read once at start; every error names the check and the key, and what
//! to write instead (exit 2, nothing served).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use croner::parser::{CronParser, Seconds, Year};
use toml::{Table, Value};

use super::{Check, Schedule};
use crate::error::ConfigError;
use crate::serve::watch::{self, Watch};

const DEFAULT_GRACE: Duration = Duration::from_secs(5 * 60);
/// A schedule, grace or run time longer than a year is a mistake.
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

/// What the file holds.
#[derive(Clone, Debug, Default)]
pub struct ChecksConfig {
    pub checks: Vec<Check>,
    /// The `[[watch]]` tables: scheduled GitHub workflows.
    pub watches: Vec<Watch>,
}

pub(in crate::serve) fn bad(what: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(&format!("--config: {what}"), message)
}

pub fn read(path: &Path, send_options: &BTreeSet<String>) -> Result<ChecksConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("--config", format!("cannot read {}: {e}", path.display())))?;
    parse(&text, send_options)
}

/// `send_options` are the long names of `onfail send`'s options: a check may set any of them.
pub fn parse(text: &str, send_options: &BTreeSet<String>) -> Result<ChecksConfig, ConfigError> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::new("--config", format!("is not valid TOML: {}", e.message())))?;
    let mut zone = jiff::tz::TimeZone::UTC;
    let mut config = ChecksConfig::default();
    let mut check_tables = Vec::new();
    let mut watch_tables = Vec::new();
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("timezone", Value::String(name)) => zone = time_zone("timezone", name)?,
            ("check", Value::Array(items)) => check_tables = items.clone(),
            ("watch", Value::Array(items)) => watch_tables = items.clone(),
            _ => {
                return Err(bad(
                    key,
                    "is not a setting here: the file holds `timezone = \"Area/City\"`, [[check]] and [[watch]] tables",
                ));
            }
        }
    }
    let mut names = BTreeSet::new();
    for (index, item) in check_tables.iter().enumerate() {
        let Value::Table(fields) = item else {
            return Err(bad("check", "must be a list of tables: write each as [[check]]"));
        };
        let check = check(index, fields, &zone, send_options)?;
        if !names.insert(check.name.clone()) {
            return Err(bad(&format!("check \"{}\"", check.name), "is named twice: give each check its own name"));
        }
        config.checks.push(check);
    }
    for (index, item) in watch_tables.iter().enumerate() {
        let Value::Table(fields) = item else {
            return Err(bad("watch", "must be a list of tables: write each as [[watch]]"));
        };
        let watch = watch::config::watch(index, fields, send_options)?;
        if config.watches.iter().any(|w: &Watch| w.key() == watch.key()) {
            return Err(bad(&watch.label(), "is watched twice: keep one [[watch]] table per workflow"));
        }
        config.watches.push(watch);
    }
    Ok(config)
}

fn check(
    index: usize,
    fields: &Table,
    default_zone: &jiff::tz::TimeZone,
    send_options: &BTreeSet<String>,
) -> Result<Check, ConfigError> {
    let name = match fields.get("name") {
        Some(Value::String(name)) if valid_name(name) => name.clone(),
        _ => {
            return Err(bad(
                &format!("check #{}", index + 1),
                "needs a name of lower-case letters, digits and - (at most 64), e.g. name = \"nightly-backup\"",
            ));
        }
    };
    let at = |key: &str| format!("check \"{name}\", {key}");
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        match fields.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(bad(&at(key), "must be a string in quotes")),
        }
    };
    let zone = match text("timezone")? {
        Some(name) => time_zone(&at("timezone"), &name)?,
        None => default_zone.clone(),
    };
    let Some(schedule) = text("schedule")? else {
        return Err(bad(
            &at("schedule"),
            "is missing: give a 5-field cron line such as \"0 3 * * *\", or \"every 15m\"",
        ));
    };
    let schedule = schedule_of(&at("schedule"), &schedule, zone)?;
    let grace = match text("grace")? {
        Some(grace) => duration(&at("grace"), &grace)?,
        None => DEFAULT_GRACE,
    };
    let max_runtime = text("max-runtime")?.map(|d| duration(&at("max-runtime"), &d)).transpose()?;
    let mut overrides = BTreeMap::new();
    for (key, value) in fields {
        if ["name", "schedule", "grace", "max-runtime", "timezone"].contains(&key.as_str()) {
            continue;
        }
        if !send_options.contains(key) {
            return Err(bad(
                &at(key),
                "is not a check setting nor an option of `onfail send`: use schedule, grace, max-runtime, timezone, or a send option's name without -- (e.g. phone-numbers)",
            ));
        }
        overrides.insert(key.clone(), option_value(&at(key), value)?);
    }
    Ok(Check { name, schedule, grace, max_runtime, overrides })
}

/// A send option's value as its command line would give it.
pub(in crate::serve) fn option_value(what: &str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(n) => Ok(n.to_string()),
        Value::Float(x) => Ok(x.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(bad(what, "must be a string, a number or true/false")),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(in crate::serve) fn time_zone(what: &str, name: &str) -> Result<jiff::tz::TimeZone, ConfigError> {
    jiff::tz::TimeZone::get(name.trim()).map_err(|_| {
        bad(what, format!("'{name}' is not a time zone: give an IANA name such as \"Europe/Istanbul\" or \"UTC\""))
    })
}

pub(in crate::serve) fn duration(what: &str, text: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(text.trim())
        .map_err(|_| bad(what, format!("'{text}' is not a duration: write e.g. \"30s\", \"5m\" or \"2h\"")))?;
    if parsed.is_zero() || parsed > LONGEST {
        return Err(bad(what, "must be more than zero and at most a year"));
    }
    Ok(parsed)
}

pub(in crate::serve) fn schedule_of(what: &str, text: &str, zone: jiff::tz::TimeZone) -> Result<Schedule, ConfigError> {
    if let Some(period) = text.strip_prefix("every ") {
        return Ok(Schedule::Every(duration(what, period)?));
    }
    let fields = text.split_whitespace().count();
    if fields != 5 {
        return Err(bad(
            what,
            format!(
                "'{text}' has {fields} fields: give 5 (minute hour day month weekday), e.g. \"0 3 * * *\", or \"every 15m\""
            ),
        ));
    }
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    let cron = parser.parse(text).map_err(|e| bad(what, format!("'{text}' is not a cron line ({e})")))?;
    Ok(Schedule::Cron { line: text.to_string(), cron: Box::new(cron), zone })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> BTreeSet<String> {
        ["phone-numbers", "webhook-url", "escalate"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_checks_with_defaults_and_overrides() {
        let config = parse(
            "timezone = \"Europe/Istanbul\"\n[[check]]\nname = \"nightly-backup\"\nschedule = \"0 3 * * *\"\n\
             phone-numbers = \"0532 111 22 33\"\n[[check]]\nname = \"beat\"\nschedule = \"every 2s\"\ngrace = \"1s\"\n\
             max-runtime = \"1m\"\ntimezone = \"UTC\"\n",
            &options(),
        )
        .unwrap();
        let [backup, beat] = &config.checks[..] else { panic!("two checks") };
        assert_eq!(backup.grace, DEFAULT_GRACE);
        assert_eq!(backup.schedule.text(), "0 3 * * * (Europe/Istanbul)");
        assert_eq!(backup.overrides.get("phone-numbers").map(String::as_str), Some("0532 111 22 33"));
        assert_eq!((beat.grace, beat.max_runtime), (Duration::from_secs(1), Some(Duration::from_secs(60))));
        assert_eq!(beat.schedule.text(), "every 2s");
    }

    #[test]
    fn errors_name_the_check_and_the_key() {
        let cases = [
            ("[[check]]\nname = \"Bad Name\"\nschedule = \"every 1m\"", "check #1"),
            ("[[check]]\nname = \"a\"", "check \"a\", schedule"),
            ("[[check]]\nname = \"a\"\nschedule = \"0 3 * *\"", "4 fields"),
            ("[[check]]\nname = \"a\"\nschedule = \"0 3 * * * *\"", "6 fields"),
            ("[[check]]\nname = \"a\"\nschedule = \"99 3 * * *\"", "not a cron line"),
            ("[[check]]\nname = \"a\"\nschedule = \"every soon\"", "not a duration"),
            ("[[check]]\nname = \"a\"\nschedule = \"every 1m\"\ngrace = \"0s\"", "more than zero"),
            ("[[check]]\nname = \"a\"\nschedule = \"every 1m\"\ntimezone = \"Mars/Olympus\"", "not a time zone"),
            ("[[check]]\nname = \"a\"\nschedule = \"every 1m\"\nphone-number = \"1\"", "check \"a\", phone-number"),
            (
                "[[check]]\nname = \"a\"\nschedule = \"every 1m\"\n[[check]]\nname = \"a\"\nschedule = \"every 1m\"",
                "twice",
            ),
            ("timezon = \"UTC\"", "timezon"),
            ("[[check]\n", "not valid TOML"),
        ];
        for (text, expected) in cases {
            let error = parse(text, &options()).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
