//! The history outside GitHub Actions: one small JSON file per alert id in `--state-dir`,
//! replaced atomically (a temporary file in the same folder, then a rename) so a reader never
//! sees half a file, and read-modify-written under a lock file so two overlapping runs do not
//! lose each other's update. The lock is waited for briefly only: it never holds up an alert.
//!
//! Only a regular file is read or replaced: a FIFO, a device or a folder at the state path makes
//! the history unknown at once (opening a FIFO to read it would wait forever). A state that
//! cannot be written says what the next run will read, and never leaves a "failing" state behind
//! a success: that would keep the next new incident silent (docs/noise-control.md, "Page once per incident").

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::context::Env;
use crate::edge::Previous;

/// How long a run waits for another one's lock before going on without it.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// A state file is a few hundred bytes; anything much larger is not ours.
const MAX_STATE: u64 = 64 * 1024;

const VERSION: u32 = 1;

/// `$XDG_STATE_HOME/onfail`, else `~/.local/state/onfail` (`%LOCALAPPDATA%\onfail` on Windows).
pub fn default_dir(env: &Env) -> Option<PathBuf> {
    let var = |name: &str| crate::context::var(env, name).map(PathBuf::from);
    var("XDG_STATE_HOME")
        .filter(|p| p.is_absolute())
        .map(|p| p.join("onfail"))
        .or_else(|| var("HOME").map(|home| home.join(".local").join("state").join("onfail")))
        .or_else(|| var("LOCALAPPDATA").map(|p| p.join("onfail")))
}

/// What the last run of an alert recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub alert_id: String,
    /// How the last recorded run ended.
    pub status: Recorded,
    /// When the current streak began (RFC 3339).
    pub since: String,
    /// Failures in a row (0 after a success).
    pub failures: u32,
    /// The last run's link, when it had one (GitLab, Jenkins).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_url: String,
    /// The command of `onfail run` that last recorded this alert id (redacted), so that a
    /// second job sharing a `--alert-id` is noticed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
    pub updated: String,
}

/// A state file's `status`: `failure` or `success`; any other word is read as `Unknown`, a file
/// this onfail does not write (reported as such, and replaced by the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recorded {
    Failure,
    Success,
    #[serde(other)]
    Unknown,
}

impl State {
    pub fn previous(&self) -> Previous {
        match self.status {
            Recorded::Failure => Previous::Failed { since: self.since.clone() },
            Recorded::Success => Previous::Succeeded,
            Recorded::Unknown => Previous::Unknown,
        }
    }

    pub fn run_url(&self) -> Option<&str> {
        Some(self.run_url.as_str()).filter(|u| !u.is_empty())
    }
}

/// What a run records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Failure,
    Success,
}

/// The state file of one alert id, and its lock.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
    alert_id: String,
    file: PathBuf,
    lock: PathBuf,
    /// The command of `onfail run`, recorded with the outcome; empty for `onfail send`.
    command: String,
}

impl Store {
    pub fn new(dir: PathBuf, alert_id: &str) -> Store {
        let name = file_name(alert_id);
        let file = dir.join(format!("{name}.json"));
        let lock = dir.join(format!("{name}.lock"));
        Store { dir, alert_id: alert_id.to_string(), file, lock, command: String::new() }
    }

    /// The store that records `command` (the command line of `onfail run`) with each outcome.
    pub fn for_command(self, command: Option<&str>) -> Store {
        Store { command: command.unwrap_or_default().to_string(), ..self }
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The last recorded state; `None` when there is none yet. A file that cannot be read or
    /// parsed is an error that says which file and why. Reading needs no lock (the file is only
    /// ever replaced whole) and so writes nothing, as a dry run must not.
    pub fn read(&self) -> Result<Option<State>, String> {
        let shown = self.file.display();
        let cannot = |e: std::io::Error| format!("cannot read the state file {shown}: {e}");
        match fs::metadata(&self.file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot(e)),
            Ok(meta) if !meta.is_file() => return Err(self.not_regular(&meta)),
            Ok(meta) if meta.len() > MAX_STATE => {
                return Err(format!("the state file {shown} is corrupt (too large); it is replaced by this run"));
            }
            Ok(_) => {}
        }
        // Checked again on the open file: the path may have been swapped since.
        let file = open_without_waiting(&self.file, OpenOptions::new().read(true)).map_err(cannot)?;
        let meta = file.metadata().map_err(cannot)?;
        if !meta.is_file() {
            return Err(self.not_regular(&meta));
        }
        let mut bytes = Vec::new();
        file.take(MAX_STATE + 1).read_to_end(&mut bytes).map_err(cannot)?;
        let state: State = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the state file {shown} is corrupt ({e}); it is replaced by this run"))?;
        if state.version != VERSION || state.previous() == Previous::Unknown {
            return Err(format!("the state file {shown} is not one this onfail writes; it is replaced by this run"));
        }
        Ok(Some(state))
    }

    /// Why a state path that is not a regular file is not read: what it is, and the fix.
    fn not_regular(&self, meta: &fs::Metadata) -> String {
        format!(
            "the state path {} is {}, not a regular file, so it is neither read nor replaced: remove it (every \
             run's history stays unknown until then)",
            self.file.display(),
            kind_of(meta)
        )
    }

    /// Whether this folder takes a write now: a small file is written, flushed and removed. Run
    /// before trusting a "failing" state, which a success that could not be written would
    /// have replaced: on a full disk or a folder gone read-only the history is unknown.
    pub fn check_writable(&self) -> Result<(), String> {
        let temp = self.temp_path();
        let written = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
            file.write_all(b"onfail: checking that the state folder can be written\n")?;
            file.sync_all()
        })();
        let _ = fs::remove_file(&temp);
        written.map_err(|e| format!("the state folder {} cannot be written ({e})", self.dir.display()))
    }

    /// Records this run's outcome: a failure keeps the streak's start, a success starts anew.
    /// When the file cannot be written, the error says what the next run will read; a "failing"
    /// state that a success could not replace is removed, so that it cannot silence the next
    /// failure (removing needs no free space).
    pub fn record(&self, outcome: Outcome, run_url: &str, now: SystemTime) -> Result<(), String> {
        let last = self.read();
        self.write(outcome, run_url, now).map_err(|problem| {
            let failing = matches!(&last, Ok(Some(state)) if state.status == Recorded::Failure);
            let next = match (outcome, &last) {
                (_, Err(_)) => "the next run finds the same unreadable state, so its history is unknown and a \
                                failure pages"
                    .to_string(),
                (Outcome::Success, _) if failing => match fs::remove_file(&self.file) {
                    Ok(()) => {
                        "the old \"failing\" state is removed, so the next failure pages as a first failure".to_string()
                    }
                    Err(e) => format!(
                        "the old \"failing\" state could not be removed either ({e}); the next run checks that \
                         the folder can be written before it trusts that state, and pages on a failure"
                    ),
                },
                (Outcome::Failure, _) if failing => {
                    "the next run still reads the failure recorded before, so it stays silent as still failing \
                     (no new incident is missed: this one already paged)"
                        .to_string()
                }
                (_, Ok(Some(state))) if state.status == Recorded::Success => {
                    "the next run still reads the last success, so the next failure pages again".to_string()
                }
                _ => "the next run finds no state, so the next failure pages again".to_string(),
            };
            format!("{problem}; {next}")
        })
    }

    fn write(&self, outcome: Outcome, run_url: &str, now: SystemTime) -> Result<(), String> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create the state folder {}: {e}", self.dir.display()))?;
        if let Ok(meta) = fs::metadata(&self.file)
            && !meta.is_file()
        {
            return Err(self.not_regular(&meta));
        }
        let _lock = self.lock();
        let last = self.read().ok().flatten();
        let now_text = humantime::format_rfc3339_seconds(now).to_string();
        let state = next(last, outcome, &self.alert_id, &self.command, run_url, now_text);
        let json = serde_json::to_vec_pretty(&state).expect("a struct of strings and numbers always serialises");
        self.replace(&json)
    }

    /// Writes a temporary file next to the state file and renames it over it: the rename is
    /// atomic, so a reader sees the old state or the new one, never a mix.
    fn replace(&self, bytes: &[u8]) -> Result<(), String> {
        let temp = self.temp_path();
        let written = (|| {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &self.file)
        })();
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            format!("cannot write the state file {}: {e}", self.file.display())
        })
    }

    /// A new, unique name next to the state file.
    fn temp_path(&self) -> PathBuf {
        self.dir.join(format!(
            ".{}.{}.{:08x}.tmp",
            self.file.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id(),
            fastrand::u32(..)
        ))
    }

    /// Takes the lock file, waiting at most [`LOCK_WAIT`]. `None` when it could not be had:
    /// the caller goes on without it (the rename still keeps the file whole). A lock path that
    /// is not a regular file (a FIFO would block the open) is gone without.
    fn lock(&self) -> Option<File> {
        let file =
            open_without_waiting(&self.lock, OpenOptions::new().create(true).truncate(false).write(true)).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        let until = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Some(file),
                Err(TryLockError::WouldBlock) if Instant::now() < until => thread::sleep(Duration::from_millis(20)),
                Err(_) => return None,
            }
        }
    }
}

/// Opens `path` without waiting on it: a FIFO opens at once (and is then refused by the caller),
/// a terminal does not become the controlling one.
fn open_without_waiting(path: &Path, options: &mut OpenOptions) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
    }
    options.open(path)
}

/// What a path that is not a regular file is, in words.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "something else"
}

/// The alert id as a file name: kept as is when it is a plain name (the default
/// `onfail-<16 hex>` is), else `onfail-` and a hash of it, so no id can point outside the folder.
fn file_name(alert_id: &str) -> String {
    let plain = !alert_id.is_empty()
        && alert_id.len() <= 100
        && !alert_id.starts_with('.')
        && alert_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return alert_id.to_string();
    }
    let digest = Sha256::digest(alert_id.as_bytes());
    let hex: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("onfail-id-{hex}")
}

/// The state a run records after `last`: a failure keeps the streak's start, a success starts
/// anew. Shared by the state file and the service (`history::remote`).
pub fn next(last: Option<State>, outcome: Outcome, alert_id: &str, command: &str, run_url: &str, now: String) -> State {
    let fresh = |status, failures| State {
        version: VERSION,
        alert_id: alert_id.to_string(),
        status,
        since: now.clone(),
        failures,
        run_url: run_url.to_string(),
        command: command.to_string(),
        updated: now.clone(),
    };
    match (outcome, last) {
        (Outcome::Failure, Some(last)) if last.status == Recorded::Failure => State {
            failures: last.failures.saturating_add(1),
            run_url: run_url.to_string(),
            command: command.to_string(),
            updated: now.clone(),
            ..last
        },
        (Outcome::Failure, _) => fresh(Recorded::Failure, 1),
        (Outcome::Success, _) => fresh(Recorded::Success, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn a_failing_streak_keeps_its_start_and_a_success_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("deep/er"), "onfail-0123456789abcdef");
        assert_eq!(store.read(), Ok(None));
        store.record(Outcome::Failure, "https://ci/1", at(1_700_000_000)).unwrap();
        store.record(Outcome::Failure, "", at(1_700_000_600)).unwrap();
        let state = store.read().unwrap().unwrap();
        assert_eq!((state.failures, state.since.as_str()), (2, "2023-11-14T22:13:20Z"));
        assert_eq!(state.previous(), Previous::Failed { since: "2023-11-14T22:13:20Z".into() });
        store.record(Outcome::Success, "", at(1_700_001_200)).unwrap();
        assert_eq!(store.read().unwrap().unwrap().previous(), Previous::Succeeded);
        assert!(store.path().ends_with("onfail-0123456789abcdef.json"));
    }

    #[test]
    fn the_status_is_written_as_a_word_and_an_unknown_word_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf(), "id");
        store.record(Outcome::Failure, "", at(1_700_000_000)).unwrap();
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(text.contains(r#""status": "failure""#), "{text}");
        fs::write(store.path(), text.replace(r#""failure""#, r#""paused""#)).unwrap();
        assert!(store.read().unwrap_err().contains("is not one this onfail writes"));
    }

    #[test]
    fn corrupt_files_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf(), "x");
        for junk in ["{not json", r#"{"version":9}"#, ""] {
            fs::write(store.path(), junk).unwrap();
            let err = store.read().unwrap_err();
            assert!(err.contains("x.json") && err.contains("replaced"), "{err}");
        }
        store.record(Outcome::Failure, "", at(0)).unwrap();
        assert!(matches!(store.read(), Ok(Some(_))), "a corrupt file is replaced");
    }

    #[test]
    fn odd_alert_ids_stay_inside_the_folder() {
        assert_eq!(file_name("onfail-9439583697af4dc7"), "onfail-9439583697af4dc7");
        for odd in ["../../etc/passwd", "a/b", "", ".hidden", "deploy prod", "ş"] {
            let name = file_name(odd);
            assert!(name.starts_with("onfail-id-") && name.len() == 26, "{odd} → {name}");
        }
        assert_ne!(file_name("a/b"), file_name("a/c"));
    }

    #[test]
    fn the_default_folder_follows_xdg_then_home() {
        let env =
            |pairs: &[(&str, &str)]| -> Env { pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() };
        assert_eq!(default_dir(&env(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])), Some(PathBuf::from("/s/onfail")));
        assert_eq!(
            default_dir(&env(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/onfail"))
        );
        assert_eq!(default_dir(&env(&[])), None);
    }
}
