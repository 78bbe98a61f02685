//! The embedded store: one SQLite file in WAL mode. Every write goes to one writer thread,
//! which takes whatever has queued up, runs it in one transaction (each write in its own
//! savepoint, so one failure does not undo the others; the report insert excepted, see
//! [`Sqlite::write_unguarded`]) and commits once: a report is on disk
//! before its 200, and a burst costs one fsync, not one each (group commit). Reads run on
//! blocking threads with their own connections. Nothing here runs on an async executor thread.
//!
//! Checkpoints (copying the WAL into the database file) are kept out of the commits: SQLite's
//! automatic checkpoint would run inside the commit of whichever group crosses 1000 pages of
//! WAL, and that group's answers would wait for it (`docs/benchmarks.md`, "onfail serve: report
//! intake"). Here a checkpointer thread on its own connection copies the WAL in the background
//! (PASSIVE: it never blocks the writer), and the writer restarts the WAL between two groups
//! once it has grown past [`RESTART_PAGES`], which keeps the file bounded under a steady stream.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::super::checks::Seen;
use super::group::Queue;
use super::{
    Forward, Inserted, MIGRATIONS, MIGRATIONS_TABLE, NewOrder, NewPage, NewReport, Order, Page, Ping, StoreError,
    StoredReport, WatchKept, newer_schema,
};

/// The checkpointer copies the WAL at most this often, so that one pass copies many commits.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);
/// WAL pages (4 KiB each) past which the writer restarts the WAL between two groups. Under a
/// steady stream the background checkpoints never catch up with the end of the WAL (SQLite
/// starts a WAL again from its beginning only when every frame has been copied), so without
/// this the file would grow as long as the stream lasts. A restart copies what the last
/// background pass left (little), once per thousands of groups; when a reader or the
/// checkpointer is in its way it is not waited for but tried again after the next pass.
const RESTART_PAGES: i64 = 8192;
/// Connections kept for readers between reads.
const IDLE_READERS: usize = 8;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs one write in the writer's open transaction; gives back what to do once the
/// transaction's commit succeeded or failed, and whether the transaction can still commit.
type Job = Box<dyn FnOnce(&Connection) -> Ran + Send>;

struct Ran {
    finish: Finish,
    /// False when the write failed outside a savepoint: what it did cannot be undone alone, so
    /// the whole group is rolled back and every caller in it hears of the failure.
    whole: bool,
}
type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A ping's time, never before the check's last ping or first sight: a wall clock stepped back
/// keeps the order of the pings (a fail after a success stays after it), and a success stays
/// later than the incident it ends (docs/serve-checks.md, "Clocks").
const AFTER_THE_LAST: &str = "max(excluded.last_ping_at, coalesce(checks.last_ping_at, checks.first_seen_at) + 1)";

pub struct Sqlite {
    path: PathBuf,
    /// The HTTP connections open now (kept by `http`): no report can come but on one of them.
    connections: Arc<AtomicUsize>,
    writer: Arc<Queue<Job>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        self.writer.close();
    }
}

fn error(e: rusqlite::Error) -> StoreError {
    StoreError(format!("SQLite: {e}"))
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
    // FULL: a commit is on disk, not only in the WAL's page cache, before the writer answers.
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(error)?;
    Ok(conn)
}

impl Sqlite {
    /// Creates the file's directory and the file when needed, migrates, starts the writer.
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        Sqlite::open_with(path, RESTART_PAGES)
    }

    fn open_with(path: &Path, restart_pages: i64) -> Result<Sqlite, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create the directory {}: {e}", dir.display())))?;
        }
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0").map_err(error)?;
        let checkpointer = Checkpointer::start(connect(path)?, restart_pages)?;
        let connections = Arc::new(AtomicUsize::new(0));
        let writer = Arc::new(Queue::new(connections.clone()));
        let jobs = writer.clone();
        std::thread::Builder::new()
            .name("onfail-sqlite-writer".into())
            .spawn(move || write_loop(conn, &jobs, checkpointer))
            .map_err(|e| StoreError(format!("cannot start the writer thread: {e}")))?;
        Ok(Sqlite { path: path.to_path_buf(), connections, writer, readers: Arc::new(Mutex::new(Vec::new())) })
    }

    /// The gauge of open HTTP connections that the writer reads (see `group::Queue::complete`).
    pub fn connections(&self) -> Arc<AtomicUsize> {
        self.connections.clone()
    }

    /// Queues a write and waits for its commit. The write runs in a savepoint of its own: when
    /// it fails, the others of its group are kept.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.queue(move |conn| in_savepoint(conn, f)).await
    }

    /// Queues a write without a savepoint: when it fails, its whole group is rolled back (and
    /// answered 500; the provider sends every report again). For the report insert only, which
    /// runs thousands of times a second, whose statements never conflict (`ON CONFLICT DO
    /// NOTHING`) and so fail only as the disk does; a savepoint each copied every page it
    /// changed (`docs/benchmarks.md`, "onfail serve: report intake").
    async fn write_unguarded<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.queue(move |conn| {
            let result = f(conn).map_err(error);
            let whole = result.is_ok();
            (result, whole)
        })
        .await
    }

    async fn queue<T: Send + 'static>(
        &self,
        run: impl FnOnce(&Connection) -> (Result<T, StoreError>, bool) + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let (result, whole) = run(conn);
            let finish: Finish = Box::new(move |committed: Result<(), StoreError>| {
                let _ = answer.send(result.and_then(|value| committed.map(|()| value)));
            });
            Ran { finish, whole }
        });
        self.writer.push(job).map_err(|_| StoreError("the SQLite writer has stopped".into()))?;
        answered.await.map_err(|_| StoreError("the SQLite writer has stopped".into()))?
    }

    /// Runs a read on a blocking thread with a connection of its own.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let idle = readers.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match idle {
                Some(conn) => conn,
                None => connect(&path)?,
            };
            let result = f(&conn).map_err(error);
            if let Ok(mut idle) = readers.lock()
                && idle.len() < IDLE_READERS
            {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError(format!("a read stopped: {e}")))?
    }

    pub async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        self.write_unguarded(move |conn| {
            // Cached statements: the writer runs these thousands of times a second.
            let new = conn
                .prepare_cached(
                    "INSERT INTO reports (report_id, status, packet_id, recipient, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![report.id, report.status, report.packet_id, report.recipient, report.at])?
                == 1;
            let order_known: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = ?1)")?
                .query_row([&report.packet_id], |row| row.get(0))?;
            if new && !order_known && report.forward {
                conn.execute(
                    "INSERT INTO forwards (report_id, status, body, due_at, attempts) VALUES (?1, ?2, ?3, ?4, 0) \
                     ON CONFLICT DO NOTHING",
                    params![report.id, report.status, report.body, report.at],
                )?;
            }
            Ok(Inserted { new, order_known })
        })
        .await
    }

    pub async fn register_order(&self, order: NewOrder) -> Result<bool, StoreError> {
        self.write(move |conn| {
            let created = conn.execute(
                "INSERT INTO orders (order_id, alert_id, run_url, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT DO NOTHING",
                params![order.order_id, order.alert_id, order.run_url, order.at],
            )? == 1;
            if created {
                for (position, number) in order.numbers.iter().enumerate() {
                    conn.execute(
                        "INSERT INTO order_recipients (order_id, position, number) VALUES (?1, ?2, ?3)",
                        params![order.order_id, position as i64, number],
                    )?;
                }
            }
            Ok(created)
        })
        .await
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        let order_id = order_id.to_string();
        self.read(move |conn| select_order(conn, &order_id)).await
    }

    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<Order>, StoreError> {
        self.read(move |conn| {
            let ids = conn
                .prepare("SELECT order_id FROM orders ORDER BY created_at DESC, order_id LIMIT ?1")?
                .query_map([limit], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            ids.iter().filter_map(|id| select_order(conn, id).transpose()).collect()
        })
        .await
    }

    pub async fn alert_numbers(&self, alert_id: &str, from: i64, to: i64) -> Result<Vec<String>, StoreError> {
        let alert_id = alert_id.to_string();
        self.read(move |conn| {
            conn.prepare(
                "SELECT DISTINCT r.number FROM orders o JOIN order_recipients r USING (order_id) \
                 WHERE o.alert_id = ?1 AND o.created_at >= ?2 AND o.created_at < ?3 ORDER BY r.number",
            )?
            .query_map(params![alert_id, from, to], |row| row.get(0))?
            .collect()
        })
        .await
    }

    pub async fn open_page(&self, page: NewPage) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO pages (page_id, code, alert_id, title, run_url, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![page.page_id, page.code, page.alert_id, page.title, page.run_url, page.at],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn page(&self, page_id: &str) -> Result<Option<Page>, StoreError> {
        let page_id = page_id.to_string();
        self.read(move |conn| select_page(conn, "page_id", &page_id)).await
    }

    pub async fn page_by_code(&self, code: &str) -> Result<Option<Page>, StoreError> {
        let code = code.to_string();
        self.read(move |conn| select_page(conn, "code", &code)).await
    }

    pub async fn next_page_of_alert(&self, alert_id: &str, after: i64) -> Result<Option<i64>, StoreError> {
        let alert_id = alert_id.to_string();
        self.read(move |conn| {
            conn.query_row(
                "SELECT MIN(created_at) FROM pages WHERE alert_id = ?1 AND created_at > ?2",
                params![alert_id, after],
                |row| row.get(0),
            )
        })
        .await
    }

    pub async fn recent_pages(&self, limit: i64) -> Result<Vec<Page>, StoreError> {
        self.read(move |conn| {
            conn.prepare(&format!("{SELECT_PAGE} ORDER BY created_at DESC, page_id LIMIT ?1"))?
                .query_map([limit], page_of)?
                .collect()
        })
        .await
    }

    pub async fn acknowledge(&self, code: &str, at: i64, opened_since: i64) -> Result<Option<Page>, StoreError> {
        let code = code.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE pages SET acknowledged_at = COALESCE(acknowledged_at, ?2) WHERE code = ?1 AND created_at >= ?3",
                params![code, at, opened_since],
            )?;
            select_page(conn, "code", &code)
        })
        .await
    }

    pub async fn alert_state(&self, alert_id: &str) -> Result<Option<String>, StoreError> {
        let alert_id = alert_id.to_string();
        self.read(move |conn| {
            conn.query_row("SELECT state FROM alert_states WHERE alert_id = ?1", [&alert_id], |row| row.get(0))
                .optional()
        })
        .await
    }

    pub async fn put_alert_state(&self, alert_id: &str, state: &str, at: i64) -> Result<(), StoreError> {
        let (alert_id, state) = (alert_id.to_string(), state.to_string());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO alert_states (alert_id, state, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                params![alert_id, state, at],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn claim_forwards(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Forward>, StoreError> {
        self.write(move |conn| {
            conn.prepare(
                "UPDATE forwards SET due_at = ?2, attempts = attempts + 1 WHERE (report_id, status) IN \
                 (SELECT report_id, status FROM forwards WHERE due_at <= ?1 ORDER BY due_at LIMIT ?3) \
                 RETURNING report_id, status, body, attempts",
            )?
            .query_map(params![now, lease_until, limit], |row| {
                Ok(Forward { report_id: row.get(0)?, status: row.get(1)?, body: row.get(2)?, attempts: row.get(3)? })
            })?
            .collect()
        })
        .await
    }

    pub async fn forward_tried(&self, forward: &Forward, next: Option<i64>) -> Result<(), StoreError> {
        let (id, status) = (forward.report_id.clone(), forward.status.clone());
        self.write(move |conn| {
            match next {
                Some(at) => conn.execute(
                    "UPDATE forwards SET due_at = ?3 WHERE report_id = ?1 AND status = ?2",
                    params![id, status, at],
                )?,
                None => {
                    conn.execute("DELETE FROM forwards WHERE report_id = ?1 AND status = ?2", params![id, status])?
                }
            };
            Ok(())
        })
        .await
    }

    pub async fn know_checks(&self, names: Vec<String>, at: i64) -> Result<(), StoreError> {
        self.write(move |conn| {
            for name in &names {
                conn.execute(
                    "INSERT INTO checks (name, first_seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![name, at],
                )?;
            }
            Ok(())
        })
        .await
    }

    pub async fn ping(&self, ping: Ping) -> Result<(), StoreError> {
        let column = ping.kind.column();
        self.write(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO checks (name, first_seen_at, {column}, last_ping_at, last_ping_kind) \
                     VALUES (?1, ?2, ?2, ?2, ?3) ON CONFLICT (name) DO UPDATE SET {column} = {AFTER_THE_LAST}, \
                     last_ping_at = {AFTER_THE_LAST}, last_ping_kind = excluded.last_ping_kind"
                ),
                params![ping.check, ping.at, ping.label],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn checks_seen(&self) -> Result<Vec<(String, Seen)>, StoreError> {
        self.read(|conn| {
            conn.prepare(
                "SELECT name, first_seen_at, last_start_at, last_success_at, last_fail_at, last_ping_at, \
                 last_ping_kind, (SELECT since FROM check_incidents WHERE check_name = name AND recovered_at IS NULL \
                 ORDER BY since DESC LIMIT 1), (SELECT why FROM check_incidents WHERE check_name = name \
                 AND recovered_at IS NULL ORDER BY since DESC LIMIT 1) FROM checks",
            )?
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    Seen {
                        first_seen_at: row.get(1)?,
                        last_start_at: row.get(2)?,
                        last_success_at: row.get(3)?,
                        last_fail_at: row.get(4)?,
                        last_ping_at: row.get(5)?,
                        last_ping_kind: row.get(6)?,
                        incident: row.get::<_, Option<i64>>(7)?.zip(row.get::<_, Option<String>>(8)?),
                    },
                ))
            })?
            .collect()
        })
        .await
    }

    pub async fn claim_page(
        &self,
        check: &str,
        since: i64,
        why: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let (check, why) = (check.to_string(), why.to_string());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO check_incidents (check_name, since, why, opened_at, claimed_until) \
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING",
                params![check, since, why, now],
            )?;
            Ok(conn.execute(
                "UPDATE check_incidents SET claimed_until = ?4 WHERE check_name = ?1 AND since = ?2 \
                 AND paged_at IS NULL AND claimed_until <= ?3",
                params![check, since, now, lease_until],
            )? == 1)
        })
        .await
    }

    pub async fn page_done(
        &self,
        check: &str,
        since: i64,
        paged: Option<i64>,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        let check = check.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE check_incidents SET paged_at = ?3, claimed_until = ?4 WHERE check_name = ?1 AND since = ?2",
                params![check, since, paged, retry_at],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn hold_claim(&self, check: &str, since: i64, until: i64) -> Result<(), StoreError> {
        let check = check.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE check_incidents SET claimed_until = ?3 WHERE check_name = ?1 AND since = ?2 \
                 AND paged_at IS NULL",
                params![check, since, until],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn claim_recoveries(&self, check: &str, since: i64, now: i64) -> Result<Vec<i64>, StoreError> {
        let check = check.to_string();
        self.write(move |conn| {
            conn.prepare(
                "UPDATE check_incidents SET recovered_at = ?3 WHERE check_name = ?1 AND since < ?2 \
                 AND paged_at IS NOT NULL AND recovered_at IS NULL RETURNING since",
            )?
            .query_map(params![check, since, now], |row| row.get(0))?
            .collect()
        })
        .await
    }

    pub async fn know_watches(&self, keys: Vec<String>, at: i64) -> Result<(), StoreError> {
        self.write(move |conn| {
            for key in &keys {
                conn.execute(
                    "INSERT INTO watches (watch_key, first_seen_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![key, at],
                )?;
            }
            Ok(())
        })
        .await
    }

    pub async fn watch_observed(&self, key: &str, at: i64, observed: String) -> Result<(), StoreError> {
        let key = key.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE watches SET observed_at = ?2, observed = ?3 WHERE watch_key = ?1",
                params![key, at, observed],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn watch_warning(&self, key: &str, at: i64, warning: String) -> Result<(), StoreError> {
        let key = key.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE watches SET warning_at = ?2, warning = ?3 WHERE watch_key = ?1",
                params![key, at, warning],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn watches_kept(&self) -> Result<Vec<(String, WatchKept)>, StoreError> {
        self.read(|conn| {
            conn.prepare("SELECT watch_key, first_seen_at, observed_at, observed, warning_at, warning FROM watches")?
                .query_map([], |row| {
                    Ok((
                        row.get(0)?,
                        WatchKept {
                            first_seen_at: row.get(1)?,
                            observed_at: row.get(2)?,
                            observed: row.get(3)?,
                            warning_at: row.get(4)?,
                            warning: row.get(5)?,
                        },
                    ))
                })?
                .collect()
        })
        .await
    }

    pub async fn prune_reports(&self, before: i64) -> Result<u64, StoreError> {
        self.write(move |conn| Ok(conn.execute("DELETE FROM reports WHERE received_at < ?1", [before])? as u64)).await
    }
}

const SELECT_PAGE: &str = "SELECT page_id, code, alert_id, title, run_url, created_at, acknowledged_at FROM pages";

/// `column` is one of this file's own names, never input.
fn select_page(conn: &Connection, column: &str, value: &str) -> rusqlite::Result<Option<Page>> {
    conn.query_row(&format!("{SELECT_PAGE} WHERE {column} = ?1"), [value], page_of).optional()
}

fn page_of(row: &rusqlite::Row) -> rusqlite::Result<Page> {
    Ok(Page {
        page_id: row.get(0)?,
        code: row.get(1)?,
        alert_id: row.get(2)?,
        title: row.get(3)?,
        run_url: row.get(4)?,
        created_at: row.get(5)?,
        acknowledged_at: row.get(6)?,
    })
}

fn select_order(conn: &Connection, order_id: &str) -> rusqlite::Result<Option<Order>> {
    let head: Option<(String, i64)> = conn
        .query_row("SELECT alert_id, created_at FROM orders WHERE order_id = ?1", [order_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((alert_id, created_at)) = head else {
        return Ok(None);
    };
    let numbers = conn
        .prepare("SELECT number FROM order_recipients WHERE order_id = ?1 ORDER BY position")?
        .query_map([order_id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let reports = conn
        .prepare("SELECT recipient, status, received_at FROM reports WHERE packet_id = ?1")?
        .query_map([order_id], |row| {
            Ok(StoredReport { recipient: row.get(0)?, status: row.get(1)?, received_at: row.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Order { order_id: order_id.to_string(), alert_id, created_at, numbers, reports }))
}

/// Runs `f` in a savepoint; false with it when what `f` did could not be undone.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> (Result<T, StoreError>, bool) {
    if let Err(e) = conn.prepare_cached("SAVEPOINT job").and_then(|mut s| s.execute([])) {
        return (Err(error(e)), true);
    }
    let result = f(conn).and_then(|value| conn.prepare_cached("RELEASE job")?.execute([]).map(|_| value));
    match result {
        Ok(value) => (Ok(value), true),
        Err(e) => {
            let undone = conn.execute_batch("ROLLBACK TO job; RELEASE job").is_ok();
            (Err(error(e)), undone)
        }
    }
}

/// The writer: one transaction per group of whatever has queued, one commit, then every
/// waiting caller is answered. Ends when the store is dropped.
fn write_loop(conn: Connection, jobs: &Queue<Job>, checkpointer: Checkpointer) {
    while let Some((first, mut gathering)) = jobs.first() {
        if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
            // Dropped unrun: each caller hears that the write failed, and answers 500.
            drop(first);
            continue;
        }
        let mut ran: Vec<Ran> = first.into_iter().map(|job| job(&conn)).collect();
        while let Some(more) = jobs.more(&mut gathering) {
            ran.extend(more.into_iter().map(|job| job(&conn)));
        }
        let committed = if ran.iter().all(|ran| ran.whole) {
            conn.execute_batch("COMMIT").map_err(error)
        } else {
            Err(StoreError("another write of the same transaction failed; none of it was kept".into()))
        };
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        ran.into_iter().for_each(|ran| (ran.finish)(committed.clone()));
        checkpointer.committed(&conn);
    }
}

/// The writer's side of the background checkpoints.
struct Checkpointer {
    /// Wakes the checkpointer thread; full when it has a wake-up pending already.
    nudge: mpsc::SyncSender<()>,
    /// Pages in the WAL when the checkpointer last looked.
    wal_pages: Arc<AtomicI64>,
    restart_pages: i64,
}

impl Checkpointer {
    fn start(conn: Connection, restart_pages: i64) -> Result<Checkpointer, StoreError> {
        let (nudge, nudges) = mpsc::sync_channel(1);
        let wal_pages = Arc::new(AtomicI64::new(0));
        let seen = wal_pages.clone();
        std::thread::Builder::new()
            .name("onfail-sqlite-checkpointer".into())
            .spawn(move || {
                // Ends when the writer does (its sender is dropped).
                while nudges.recv().is_ok() {
                    if let Ok(pages) = checkpoint(&conn, "PASSIVE") {
                        seen.store(pages, Ordering::Relaxed);
                    }
                    std::thread::sleep(CHECKPOINT_PAUSE);
                }
            })
            .map_err(|e| StoreError(format!("cannot start the checkpointer thread: {e}")))?;
        Ok(Checkpointer { nudge, wal_pages, restart_pages })
    }

    /// After a group's commit, its callers answered already. A restart that cannot be done at
    /// once (a reader still needs the WAL, or the checkpointer is running) is not waited for:
    /// it is tried again once the checkpointer has looked again.
    fn committed(&self, conn: &Connection) {
        let _ = self.nudge.try_send(());
        if self.wal_pages.load(Ordering::Relaxed) > self.restart_pages {
            let _ = conn.busy_timeout(Duration::ZERO);
            let _ = checkpoint(conn, "RESTART");
            let _ = conn.busy_timeout(BUSY_TIMEOUT);
            self.wal_pages.store(0, Ordering::Relaxed);
        }
    }
}

/// Runs a checkpoint; gives the pages in the WAL.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| row.get(1))
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(MIGRATIONS_TABLE).map_err(error)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(error)?;
    let done: i64 =
        tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0)).map_err(error)?;
    if done > MIGRATIONS.len() as i64 {
        return Err(newer_schema(done));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > done) {
        tx.execute_batch(sql).map_err(error)?;
        tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", params![version, now_ms()])
            .map_err(error)?;
    }
    tx.commit().map_err(error)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A report's body (the SMS text) is not written to the store unless it is to be forwarded.
    #[test]
    fn a_report_keeps_no_body_unless_it_is_to_be_forwarded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.db");
        let store = Sqlite::open(&path).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = |id: &str, body: &str, forward: bool| NewReport {
            id: id.into(),
            status: "delivered".into(),
            packet_id: "77".into(),
            recipient: "905321112233".into(),
            body: body.into(),
            at: 1,
            forward,
        };
        runtime.block_on(store.insert_report(report("1", "kept-NOWHERE-3f9a", false))).unwrap();
        runtime.block_on(store.insert_report(report("2", "to-FORWARD-81c2", true))).unwrap();
        let bytes: Vec<u8> = ["serve.db", "serve.db-wal"]
            .iter()
            .flat_map(|name| std::fs::read(dir.path().join(name)).unwrap_or_default())
            .collect();
        let holds = |text: &str| bytes.windows(text.len()).any(|window| window == text.as_bytes());
        assert!(holds("905321112233"), "the report itself was not written");
        assert!(holds("to-FORWARD-81c2"), "the body to forward was not kept");
        assert!(!holds("kept-NOWHERE-3f9a"), "the body of a report that is not forwarded was written");
    }

    /// A write without a savepoint that fails takes its group down with it: the writes queued
    /// with it are not kept and their callers hear so (an answered 200 is never a lost write),
    /// while a failing write in a savepoint leaves the others of its group alone.
    #[test]
    fn a_failed_unguarded_write_rolls_its_whole_group_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Sqlite::open(&dir.path().join("serve.db")).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let group = |guarded: bool| {
            let (busy, kept, failing, open) = (store.clone(), store.clone(), store.clone(), store.connections());
            runtime.block_on(async move {
                // The writer busy with a group of its own while the two writes queue up behind
                // it; then two connections open, so the two make one complete group.
                open.store(1, Ordering::Relaxed);
                let busy = tokio::spawn(async move {
                    busy.write(|_| {
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(())
                    })
                    .await
                });
                tokio::time::sleep(Duration::from_millis(100)).await;
                open.store(2, Ordering::Relaxed);
                let kept = tokio::spawn(async move { kept.know_checks(vec![format!("kept-{guarded}")], 1).await });
                let failing = tokio::spawn(async move {
                    let fails = |conn: &Connection| conn.execute("INSERT INTO no_such_table VALUES (1)", []);
                    if guarded { failing.write(fails).await } else { failing.write_unguarded(fails).await }
                });
                busy.await.unwrap().unwrap();
                (kept.await.unwrap(), failing.await.unwrap())
            })
        };
        let (kept, failing) = group(false);
        assert!(failing.is_err());
        assert!(kept.is_err(), "a write of a rolled-back group was answered as kept");
        let (kept, failing) = group(true);
        assert!(failing.is_err());
        assert!(kept.is_ok(), "{kept:?}");
        let names: Vec<String> = connect(&dir.path().join("serve.db"))
            .unwrap()
            .prepare("SELECT name FROM checks")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(names, vec!["kept-true".to_string()]);
    }

    /// Under a stream that never pauses (each group queued while the one before commits) the
    /// WAL stays bounded: the background checkpoints alone would let it grow for as long as the
    /// stream lasts, and the writer's restarts keep it near [`RESTART_PAGES`] (here a small one).
    #[test]
    fn the_wal_stays_bounded_under_a_steady_stream() {
        const RESTART: i64 = 64;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.db");
        let store = Arc::new(Sqlite::open_with(&path, RESTART).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let wal = path.with_extension("db-wal");
        let mut largest = 0;
        runtime.block_on(async {
            let started = Instant::now();
            let mut n = 0;
            // At least two seconds, so the checkpointer has run many times.
            while started.elapsed() < Duration::from_secs(2) || n < 20_000 {
                let writes: Vec<_> = (0..50)
                    .map(|_| {
                        n += 1;
                        let store = store.clone();
                        let report = NewReport {
                            id: format!("r{n}"),
                            status: "delivered".into(),
                            packet_id: "104525848".into(),
                            recipient: "905321112233".into(),
                            body: "x".repeat(200),
                            at: n,
                            forward: false,
                        };
                        tokio::spawn(async move { store.insert_report(report).await })
                    })
                    .collect();
                for write in writes {
                    assert!(write.await.unwrap().unwrap().new);
                }
                largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            }
        });
        // The restart threshold and what piles up past it while the checkpointer looks again
        // (or a restart waits for a busy moment to pass) on a loaded machine. Without the
        // restarts this WAL grows to hundreds of MiB.
        let bound = (RESTART as u64 + 4096) * 4096;
        assert!(largest > 0, "the WAL was never seen");
        assert!(largest <= bound, "the WAL grew to {largest} bytes (bound {bound})");
        let kept: i64 = connect(&path).unwrap().query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0)).unwrap();
        assert!(kept >= 20_000);
    }
}
