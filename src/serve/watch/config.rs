//! A `[[watch]]` table of the `--config` file (docs/serve-checks.md, "Watching a scheduled GitHub
//! workflow"): which workflow of which repository, its schedule when the file's own is not to be
//! read, the grace, how often to look, and the channel options it sets for itself. Every error
//! names the watch and the key, and what to write instead.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::{Table, Value};

use super::Watch;
use crate::error::ConfigError;
use crate::serve::checks::config::{bad, duration, option_value, schedule_of, time_zone};

/// GitHub delays scheduled runs at times of high load (docs/serve-checks.md, "Watching a scheduled
/// GitHub workflow"): an hour late is still normal, a missing run is not.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);
/// How often the API is looked at: a few conditional requests every five minutes.
pub const DEFAULT_POLL: Duration = Duration::from_secs(300);
/// Shorter than this would be rude to the API.
const SHORTEST_POLL: Duration = Duration::from_secs(1);

const KEYS: &[&str] = &["repository", "workflow", "schedule", "timezone", "grace", "poll"];

pub fn watch(index: usize, fields: &Table, send_options: &BTreeSet<String>) -> Result<Watch, ConfigError> {
    let number = format!("watch #{}", index + 1);
    let text = |key: &str, at: &str| -> Result<Option<String>, ConfigError> {
        match fields.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(Value::Integer(n)) if key == "workflow" => Ok(Some(n.to_string())),
            Some(_) => Err(bad(&format!("{at}, {key}"), "must be a string in quotes")),
        }
    };
    let repository = match text("repository", &number)? {
        Some(repository) if valid_repository(&repository) => repository,
        Some(_) => {
            return Err(bad(
                &format!("{number}, repository"),
                "must be OWNER/NAME as on GitHub, e.g. repository = \"acme/api\"",
            ));
        }
        None => {
            return Err(bad(
                &format!("{number}, repository"),
                "is missing: give OWNER/NAME, e.g. repository = \"acme/api\"",
            ));
        }
    };
    let workflow = match text("workflow", &number)? {
        Some(workflow) if valid_workflow(&workflow) => workflow,
        _ => {
            return Err(bad(
                &format!("{number}, workflow"),
                "must be the workflow's file name under .github/workflows (e.g. workflow = \"nightly.yml\") or its numeric id",
            ));
        }
    };
    let label = format!("watch \"{repository} {workflow}\"");
    let at = |key: &str| format!("{label}, {key}");
    // GitHub reads a workflow's cron lines in UTC; a schedule written here is read the same way
    // unless the watch names another zone.
    let zone = match text("timezone", &label)? {
        Some(name) => time_zone(&at("timezone"), &name)?,
        None => jiff::tz::TimeZone::UTC,
    };
    let schedule = text("schedule", &label)?.map(|s| schedule_of(&at("schedule"), &s, zone)).transpose()?;
    let grace = text("grace", &label)?.map(|d| duration(&at("grace"), &d)).transpose()?.unwrap_or(DEFAULT_GRACE);
    let poll = text("poll", &label)?.map(|d| duration(&at("poll"), &d)).transpose()?.unwrap_or(DEFAULT_POLL);
    if poll < SHORTEST_POLL {
        return Err(bad(&at("poll"), "must be at least 1s (the default, 5m, is kind to the API)"));
    }
    let mut overrides = BTreeMap::new();
    for (key, value) in fields {
        if KEYS.contains(&key.as_str()) {
            continue;
        }
        if !send_options.contains(key) {
            return Err(bad(
                &at(key),
                "is not a watch setting nor an option of `onfail send`: use repository, workflow, schedule, timezone, grace, poll, or a send option's name without -- (e.g. phone-numbers)",
            ));
        }
        overrides.insert(key.clone(), option_value(&at(key), value)?);
    }
    Ok(Watch { repository, workflow, schedule, grace, poll, overrides })
}

/// `OWNER/NAME`: GitHub's owner names (letters, digits, `-`, at most 39) and repository names
/// (letters, digits, `-`, `_`, `.`, at most 100; not `.` or `..`).
fn valid_repository(text: &str) -> bool {
    let Some((owner, name)) = text.split_once('/') else { return false };
    let owner_ok = (1..=39).contains(&owner.len()) && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_ok = (1..=100).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && name != "."
        && name != "..";
    owner_ok && name_ok
}

/// A numeric id, or a file name ending in `.yml` or `.yaml` (no path: the API takes the name).
fn valid_workflow(text: &str) -> bool {
    let numeric = !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
    let file = (5..=255).contains(&text.len())
        && (text.ends_with(".yml") || text.ends_with(".yaml"))
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !text.starts_with('.');
    numeric || file
}

#[cfg(test)]
mod tests {
    use crate::serve::checks::config::parse;

    use super::*;

    fn options() -> BTreeSet<String> {
        ["phone-numbers", "language"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_watches_with_defaults_and_overrides() {
        let config = parse(
            "timezone = \"Europe/Istanbul\"\n[[watch]]\nrepository = \"acme/api\"\nworkflow = \"nightly.yml\"\n\
             [[watch]]\nrepository = \"acme/web.site\"\nworkflow = 161335\nschedule = \"0 3 * * *\"\ngrace = \"10m\"\n\
             poll = \"2s\"\nlanguage = \"en\"\n",
            &options(),
        )
        .unwrap();
        let [nightly, web] = &config.watches[..] else { panic!("two watches") };
        assert_eq!((nightly.grace, nightly.poll), (DEFAULT_GRACE, DEFAULT_POLL));
        assert!(nightly.schedule.is_none());
        assert_eq!(web.workflow, "161335");
        // The file's time zone is for checks: a watch's schedule is UTC, as GitHub reads it.
        assert_eq!(web.schedule.as_ref().unwrap().text(), "0 3 * * * (UTC)");
        assert_eq!((web.grace, web.poll), (Duration::from_secs(600), Duration::from_secs(2)));
        assert_eq!(web.overrides.get("language").map(String::as_str), Some("en"));
    }

    #[test]
    fn errors_name_the_watch_and_the_key() {
        let cases = [
            ("[[watch]]\nworkflow = \"a.yml\"", "watch #1, repository"),
            ("[[watch]]\nrepository = \"acme\"\nworkflow = \"a.yml\"", "OWNER/NAME"),
            ("[[watch]]\nrepository = \"acme/api\"", "watch #1, workflow"),
            ("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"../x.yml\"", "watch #1, workflow"),
            (
                "[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"\nschedule = \"0 3 *\"",
                "\"acme/api a.yml\", schedule",
            ),
            ("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"\ngrace = \"soon\"", "grace"),
            ("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"\npoll = \"500ms\"", "at least 1s"),
            ("[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"\nphone = \"1\"", "\"acme/api a.yml\", phone"),
            (
                "[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"\n[[watch]]\nrepository = \"acme/api\"\nworkflow = \"a.yml\"",
                "twice",
            ),
        ];
        for (text, expected) in cases {
            let error = parse(text, &options()).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
