//! The job status and the `--notify-on` set. A status is written in GitHub's `job.status` words,
//! or in GitLab's (`CI_JOB_STATUS`) or Jenkins' (`currentBuild.result`) words for the same thing
//! (docs/reference.md, "Options"), so `--status $CI_JOB_STATUS` in an `after_script` pages.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Failure,
    Success,
    Cancelled,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Failure, Status::Success, Status::Cancelled, Status::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failure => "failure",
            Status::Success => "success",
            Status::Cancelled => "cancelled",
            Status::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every word `--status` takes, in any case: GitHub's first, then GitLab's and Jenkins' words for
/// the same outcomes. Jenkins' `UNSTABLE` (tests failed, the build went on) is a failure: someone
/// must look. GitLab's `success` and Jenkins' `SUCCESS` are GitHub's word already.
const WORDS: &[(&str, Status)] = &[
    ("failure", Status::Failure),
    ("success", Status::Success),
    ("cancelled", Status::Cancelled),
    ("skipped", Status::Skipped),
    // GitLab CI_JOB_STATUS.
    ("failed", Status::Failure),
    ("canceled", Status::Cancelled),
    // Jenkins currentBuild.result.
    ("unstable", Status::Failure),
    ("aborted", Status::Cancelled),
    ("not_built", Status::Skipped),
];

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Status, String> {
        let wanted = crate::values::word(s);
        WORDS.iter().find(|(name, _)| *name == wanted).map(|(_, status)| *status).ok_or_else(|| {
            format!(
                "'{}' is not a status; use failure, success, cancelled or skipped (GitLab's failed and canceled, \
                 and Jenkins' FAILURE, UNSTABLE, ABORTED, NOT_BUILT and SUCCESS are read too)",
                s.trim()
            )
        })
    }
}

/// The statuses on which voice, SMS and webhook fire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyOn(Vec<Status>);

impl NotifyOn {
    pub fn contains(&self, status: Status) -> bool {
        self.0.contains(&status)
    }

    pub fn describe(&self) -> String {
        self.0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }
}

impl Default for NotifyOn {
    fn default() -> NotifyOn {
        NotifyOn(vec![Status::Failure])
    }
}

impl FromStr for NotifyOn {
    type Err = String;

    /// A comma list of statuses, or `always` alone: `always` next to anything else is refused,
    /// since it would silently make the rest of the list meaningless (`always,never`).
    fn from_str(s: &str) -> Result<NotifyOn, String> {
        let words: Vec<String> = s.split(',').map(crate::values::word).filter(|w| !w.is_empty()).collect();
        if words.iter().any(|w| w == "always") {
            return match words.len() {
                1 => Ok(NotifyOn(Status::ALL.to_vec())),
                _ => Err("always means every status, so it stands alone; give always, or a comma list of \
                          failure, success, cancelled, skipped"
                    .into()),
            };
        }
        let mut statuses = Vec::new();
        for word in &words {
            let status = word.parse::<Status>().map_err(|_| {
                format!("'{word}' is not a status; use a comma list of failure, success, cancelled, skipped, or always")
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        if statuses.is_empty() {
            return Err("give at least one status, or always".into());
        }
        Ok(NotifyOn(statuses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_in_any_case() {
        assert_eq!("FAILURE".parse::<Status>(), Ok(Status::Failure));
        assert_eq!(" Cancelled ".parse::<Status>(), Ok(Status::Cancelled));
        assert!("failing".parse::<Status>().unwrap_err().contains("GitLab's failed"));
    }

    #[test]
    fn notify_on_lists_and_always() {
        let set: NotifyOn = "failure, Cancelled".parse().unwrap();
        assert!(set.contains(Status::Cancelled) && !set.contains(Status::Success));
        let all: NotifyOn = "always".parse().unwrap();
        assert!(Status::ALL.iter().all(|s| all.contains(*s)));
        assert!("sometimes".parse::<NotifyOn>().is_err());
        assert!(" , ".parse::<NotifyOn>().is_err());
        assert_eq!(" Always\n".parse::<NotifyOn>(), Ok(all));
        for mixed in ["always,never", "failure,always", "always, always"] {
            assert!(mixed.parse::<NotifyOn>().unwrap_err().contains("stands alone"), "{mixed}");
        }
    }
}
