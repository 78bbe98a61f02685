//! Checks (docs/serve-checks.md): jobs that ping the service, and what their pings say. `config`
//! reads them from the `--config` TOML file; [`judge`] decides, from the times the store kept,
//! whether a check is up, running or down, and since when. Pure: the clock is an argument, so
//! the same decision comes out of every replica and every restart.

pub mod config;

use std::collections::BTreeMap;
use std::time::Duration;

/// One `[[check]]` of the config file.
#[derive(Clone, Debug)]
pub struct Check {
    /// `[a-z0-9-]`, unique: the ping URL's last part and the alert id.
    pub name: String,
    pub schedule: Schedule,
    /// How late the success ping may be after a due time.
    pub grace: Duration,
    /// A start ping not followed by an end within this is down.
    pub max_runtime: Option<Duration>,
    /// The channel options this check sets for itself (`send`'s long option names, without `--`),
    /// over the service's own.
    pub overrides: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub enum Schedule {
    /// `every 15m`: due this long after the last success.
    Every(Duration),
    /// A 5-field cron line, read in a time zone (the due times are instants all the same).
    Cron { line: String, cron: Box<croner::Cron>, zone: jiff::tz::TimeZone },
}

impl Schedule {
    /// The first due time strictly after `after_ms` (milliseconds since 1970, UTC); `None` when a
    /// cron line never matches again.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match self {
            Schedule::Every(period) => after_ms.checked_add(period.as_millis() as i64),
            Schedule::Cron { cron, zone, .. } => {
                let after = jiff::Timestamp::from_millisecond(after_ms).ok()?.to_zoned(zone.clone());
                let next = cron.find_next_occurrence(&after, false).ok()?;
                Some(next.timestamp().as_millisecond())
            }
        }
    }

    /// As written in the config file.
    pub fn text(&self) -> String {
        match self {
            Schedule::Every(period) => format!("every {}", humantime::format_duration(*period)),
            Schedule::Cron { line, zone, .. } => format!("{line} ({})", zone.iana_name().unwrap_or("UTC")),
        }
    }
}

/// The times the store kept for one check, in milliseconds since 1970 (UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// When a service first knew the check: the first due time of a check that never pinged
    /// comes after it (a fresh start pages nobody).
    pub first_seen_at: i64,
    pub last_start_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_fail_at: Option<i64>,
    /// The newest ping of any kind, and its kind (`success`, `start`, `fail`, or an exit code).
    pub last_ping_at: Option<i64>,
    pub last_ping_kind: Option<String>,
    /// The newest incident not recovered: its `since` and why it was opened (`late`, `failed`,
    /// `ran too long`).
    pub incident: Option<(i64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No success ping between a due time and due + grace.
    Late { due: i64 },
    /// A fail ping (or a non-zero exit code) came after the last success.
    Failed { at: i64 },
    /// A start ping with no end within `max-runtime`.
    RanTooLong { started: i64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Never pinged, and not due yet.
    New,
    Up,
    /// A start ping came and no end yet (within `max-runtime`, when set).
    Running,
    Down(Why),
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::New => "new",
            Health::Up => "up",
            Health::Running => "running",
            Health::Down(_) => "down",
        }
    }
}

/// What a check is at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub health: Health,
    /// The next due time after the last success (or after the service first knew the check).
    pub next_due: Option<i64>,
    /// The last success (or first sight): an incident is "down since this", one per value, so
    /// every replica and every restart names the same incident the same way.
    pub since: i64,
}

/// Judges `check` at `now` from what the store kept.
pub fn judge(check: &Check, seen: &Seen, now: i64) -> Judgement {
    let since = seen.last_success_at.unwrap_or(seen.first_seen_at);
    let next_due = check.schedule.next_after(since);
    let after_success = |at: Option<i64>| at.filter(|at| seen.last_success_at.is_none_or(|success| *at > success));
    let failed = after_success(seen.last_fail_at);
    let started = after_success(seen.last_start_at).filter(|start| failed.is_none_or(|fail| *start > fail));
    let late = next_due.filter(|due| now > due.saturating_add(check.grace.as_millis() as i64));
    let health = if let Some(at) = failed {
        Health::Down(Why::Failed { at })
    } else if let Some(started) = started
        && check.max_runtime.is_some_and(|max| now > started.saturating_add(max.as_millis() as i64))
    {
        Health::Down(Why::RanTooLong { started })
    } else if let Some(due) = late {
        Health::Down(Why::Late { due })
    } else if let Some(why) = still_down(seen, since, next_due) {
        // Only a success ends an incident: a wall clock stepped back does not (docs/serve-checks.md, "Clocks").
        Health::Down(why)
    } else if started.is_some() {
        Health::Running
    } else if seen.last_ping_at.is_none() {
        Health::New
    } else {
        Health::Up
    };
    Judgement { health, next_due, since }
}

/// Why the incident of `since` is open, if one is: a check judged down once stays down until a
/// success moves `since` on, whatever the clock says now.
fn still_down(seen: &Seen, since: i64, next_due: Option<i64>) -> Option<Why> {
    let (opened, why) = seen.incident.as_ref().filter(|(opened, _)| *opened == since)?;
    Some(match why.as_str() {
        "failed" => Why::Failed { at: seen.last_fail_at.unwrap_or(*opened) },
        "ran too long" => Why::RanTooLong { started: seen.last_start_at.unwrap_or(*opened) },
        _ => Why::Late { due: next_due.unwrap_or(*opened) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(seconds: u64, grace: u64, max_runtime: Option<u64>) -> Check {
        Check {
            name: "backup".into(),
            schedule: Schedule::Every(Duration::from_secs(seconds)),
            grace: Duration::from_secs(grace),
            max_runtime: max_runtime.map(Duration::from_secs),
            overrides: BTreeMap::new(),
        }
    }

    const S: i64 = 1000;

    #[test]
    fn a_fresh_check_is_new_until_its_first_due_time_and_grace_pass() {
        let check = every(60, 10, None);
        let seen = Seen { first_seen_at: 0, ..Seen::default() };
        assert_eq!(judge(&check, &seen, 69 * S).health, Health::New);
        assert_eq!(judge(&check, &seen, 71 * S).health, Health::Down(Why::Late { due: 60 * S }));
    }

    #[test]
    fn a_success_moves_the_due_time_and_names_the_incident() {
        let check = every(60, 10, None);
        let seen =
            Seen { first_seen_at: 0, last_success_at: Some(50 * S), last_ping_at: Some(50 * S), ..Seen::default() };
        let judged = judge(&check, &seen, 100 * S);
        assert_eq!((judged.health, judged.next_due, judged.since), (Health::Up, Some(110 * S), 50 * S));
        assert_eq!(judge(&check, &seen, 121 * S).health, Health::Down(Why::Late { due: 110 * S }));
    }

    #[test]
    fn a_fail_after_the_last_success_is_down_and_a_later_success_is_up() {
        let check = every(60, 10, None);
        let mut seen =
            Seen { first_seen_at: 0, last_success_at: Some(5 * S), last_fail_at: Some(9 * S), ..Seen::default() };
        assert_eq!(judge(&check, &seen, 10 * S).health, Health::Down(Why::Failed { at: 9 * S }));
        seen.last_success_at = Some(12 * S);
        seen.last_ping_at = Some(12 * S);
        assert_eq!(judge(&check, &seen, 13 * S).health, Health::Up);
    }

    #[test]
    fn an_open_incident_stays_down_when_the_clock_goes_back_until_a_success() {
        let check = every(60, 10, None);
        let mut seen = Seen {
            first_seen_at: 0,
            last_success_at: Some(50 * S),
            last_ping_at: Some(50 * S),
            incident: Some((50 * S, "late".into())),
            ..Seen::default()
        };
        // The clock is back before the due time: still the same incident, still down.
        assert_eq!(judge(&check, &seen, 60 * S).health, Health::Down(Why::Late { due: 110 * S }));
        seen.last_success_at = Some(70 * S);
        assert_eq!(judge(&check, &seen, 71 * S).health, Health::Up);
    }

    #[test]
    fn a_start_without_an_end_is_down_after_max_runtime_only() {
        let seen =
            Seen { first_seen_at: 0, last_start_at: Some(10 * S), last_ping_at: Some(10 * S), ..Seen::default() };
        assert_eq!(judge(&every(600, 10, Some(5)), &seen, 14 * S).health, Health::Running);
        assert_eq!(
            judge(&every(600, 10, Some(5)), &seen, 16 * S).health,
            Health::Down(Why::RanTooLong { started: 10 * S })
        );
        assert_eq!(judge(&every(600, 10, None), &seen, 500 * S).health, Health::Running);
    }

    #[test]
    fn cron_due_times_are_read_in_the_time_zone() {
        let cron = croner::Cron::from_str("0 3 * * *").unwrap();
        let schedule = Schedule::Cron {
            line: "0 3 * * *".into(),
            cron: Box::new(cron),
            zone: jiff::tz::TimeZone::get("Europe/Istanbul").unwrap(),
        };
        // 2026-01-01T00:00:00Z is 03:00 in Istanbul (UTC+3): the next 03:00 there is a day later.
        let midnight_utc = 1_767_225_600_000;
        assert_eq!(schedule.next_after(midnight_utc), Some(midnight_utc + 24 * 3600 * S));
        assert_eq!(schedule.next_after(midnight_utc - S), Some(midnight_utc));
    }

    use std::str::FromStr;
}
