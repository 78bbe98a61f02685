//! Everything `onfail serve` keeps, behind one type with two back ends (docs/service.md, "onfail serve"):
//! SQLite, embedded (one writer thread that commits in groups, readers on their own
//! connections), and PostgreSQL, for several replicas on one database. The schema is one set
//! of numbered migrations, run at start by both; idempotency lives in it (unique keys and
//! `ON CONFLICT DO NOTHING`), never in a read-then-write two replicas could race.

mod group;
pub mod postgres;
pub mod sqlite;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::checks::Seen;
use super::settings::StoreUrl;
use crate::context::Env;

/// The numbered migrations, in order. A store that has more than this binary knows was made by
/// a newer onfail and is refused.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_forwards.sql")),
    (3, include_str!("migrations/0003_checks.sql")),
    (4, include_str!("migrations/0004_check_incidents.sql")),
    (5, include_str!("migrations/0005_watches.sql")),
    (6, include_str!("migrations/0006_reports_without_body.sql")),
];

/// Created by both back ends before the migrations run.
const MIGRATIONS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn newer_schema(found: i64) -> StoreError {
    StoreError(format!(
        "the store has schema version {found}, made by a newer onfail than this one (which knows {}): run the newer onfail",
        MIGRATIONS.len()
    ))
}

/// A delivery report to keep; the times are milliseconds since 1970, UTC.
#[derive(Clone, Debug)]
pub struct NewReport {
    pub id: String,
    pub status: String,
    pub packet_id: String,
    pub recipient: String,
    /// The report as it came, kept only to be forwarded (the report itself keeps no body).
    pub body: String,
    pub at: i64,
    /// Queue it for `--forward-reports-to` when it is new and not for a registered order.
    pub forward: bool,
}

/// What keeping a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inserted {
    /// False when the same id and status were there already.
    pub new: bool,
    /// Whether its `packet_id` is a registered order.
    pub order_known: bool,
}

/// A report queued for forwarding, claimed for one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forward {
    pub report_id: String,
    pub status: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

#[derive(Clone, Debug)]
pub struct NewOrder {
    pub order_id: String,
    pub alert_id: String,
    pub numbers: Vec<String>,
    pub run_url: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReport {
    pub recipient: String,
    pub status: String,
    pub received_at: i64,
}

/// A registered order with every report kept for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub alert_id: String,
    pub created_at: i64,
    pub numbers: Vec<String>,
    pub reports: Vec<StoredReport>,
}

#[derive(Clone, Debug)]
pub struct NewPage {
    pub page_id: String,
    pub code: String,
    pub alert_id: String,
    pub title: String,
    pub run_url: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub page_id: String,
    pub code: String,
    pub alert_id: String,
    pub title: String,
    pub run_url: String,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// What the store kept of one watch (docs/serve-checks.md, "Watching a scheduled GitHub workflow").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchKept {
    /// When a service first knew the watch: a fresh start pages nobody for a late run.
    pub first_seen_at: i64,
    /// The last successful look at the API, and what it saw (the watch module's JSON).
    pub observed_at: Option<i64>,
    pub observed: Option<String>,
    /// The last API failure, and when.
    pub warning_at: Option<i64>,
    pub warning: Option<String>,
}

/// A ping of a check: which time it sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingKind {
    Start,
    Success,
    Fail,
}

impl PingKind {
    /// The column of `checks` this kind of ping sets (a fixed name, never user text).
    fn column(self) -> &'static str {
        match self {
            PingKind::Start => "last_start_at",
            PingKind::Success => "last_success_at",
            PingKind::Fail => "last_fail_at",
        }
    }
}

/// A ping to keep: `label` is what the API shows (`start`, `success`, `fail`, `exit 3`).
#[derive(Clone, Debug)]
pub struct Ping {
    pub check: String,
    pub kind: PingKind,
    pub label: String,
    pub at: i64,
}

// One per process.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Calls the same method on whichever back end this is.
macro_rules! each {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match $self {
            Store::Sqlite(store) => store.$method($($arg),*).await,
            Store::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens the store and brings its schema up to date.
    /// `env`: where a PostgreSQL URL with `sslmode=require` finds `SSL_CERT_FILE` and `SSL_CERT_DIR`.
    pub async fn open(url: &StoreUrl, env: &Env) -> Result<Store, StoreError> {
        match url {
            StoreUrl::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || sqlite::Sqlite::open(&path))
                    .await
                    .map_err(|e| StoreError(format!("opening the store stopped: {e}")))??;
                Ok(Store::Sqlite(store))
            }
            StoreUrl::Postgres(url) => Ok(Store::Postgres(postgres::Postgres::open(url, env).await?)),
        }
    }

    /// The gauge of open HTTP connections that the server keeps for the store: SQLite's writer
    /// stops gathering a group once every connection has its report in it.
    pub fn connections(&self) -> Arc<AtomicUsize> {
        match self {
            Store::Sqlite(store) => store.connections(),
            Store::Postgres(_) => Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Keeps a report, durably, unless its id and status are there already.
    pub async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        each!(self.insert_report(report))
    }

    /// Registers an order; false when it existed (it is left as it was).
    pub async fn register_order(&self, order: NewOrder) -> Result<bool, StoreError> {
        each!(self.register_order(order))
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        each!(self.order(order_id))
    }

    /// The newest `limit` orders, newest first.
    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<Order>, StoreError> {
        each!(self.recent_orders(limit))
    }

    /// Every number the orders of `alert_id` registered from `from` until before `to` went
    /// to, each once.
    pub async fn alert_numbers(&self, alert_id: &str, from: i64, to: i64) -> Result<Vec<String>, StoreError> {
        each!(self.alert_numbers(alert_id, from, to))
    }

    pub async fn open_page(&self, page: NewPage) -> Result<(), StoreError> {
        each!(self.open_page(page))
    }

    pub async fn page(&self, page_id: &str) -> Result<Option<Page>, StoreError> {
        each!(self.page(page_id))
    }

    /// The page of an acknowledge link's code.
    pub async fn page_by_code(&self, code: &str) -> Result<Option<Page>, StoreError> {
        each!(self.page_by_code(code))
    }

    /// When the next page of `alert_id` after `after` was opened, if one was.
    pub async fn next_page_of_alert(&self, alert_id: &str, after: i64) -> Result<Option<i64>, StoreError> {
        each!(self.next_page_of_alert(alert_id, after))
    }

    /// The newest `limit` pages, newest first.
    pub async fn recent_pages(&self, limit: i64) -> Result<Vec<Page>, StoreError> {
        each!(self.recent_pages(limit))
    }

    /// Acknowledges the page of a link code if it was opened at `opened_since` or later (an
    /// older link is expired and changes nothing); the first acknowledgement's time stays.
    /// Gives the page as it is afterwards.
    pub async fn acknowledge(&self, code: &str, at: i64, opened_since: i64) -> Result<Option<Page>, StoreError> {
        each!(self.acknowledge(code, at, opened_since))
    }

    pub async fn alert_state(&self, alert_id: &str) -> Result<Option<String>, StoreError> {
        each!(self.alert_state(alert_id))
    }

    pub async fn put_alert_state(&self, alert_id: &str, state: &str, at: i64) -> Result<(), StoreError> {
        each!(self.put_alert_state(alert_id, state, at))
    }

    /// Claims up to `limit` forwards that are due at `now`, leasing each until `lease_until`
    /// (another replica takes it up again after that, if this one never reports back).
    pub async fn claim_forwards(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Forward>, StoreError> {
        each!(self.claim_forwards(now, lease_until, limit))
    }

    /// A forward is done (`None`: delivered or given up) or due again at `Some(at)`.
    pub async fn forward_tried(&self, forward: &Forward, next: Option<i64>) -> Result<(), StoreError> {
        each!(self.forward_tried(forward, next))
    }

    /// Makes the rows of checks not seen before (a known check keeps its first sight).
    pub async fn know_checks(&self, names: Vec<String>, at: i64) -> Result<(), StoreError> {
        each!(self.know_checks(names, at))
    }

    /// Keeps a ping, durably.
    pub async fn ping(&self, ping: Ping) -> Result<(), StoreError> {
        each!(self.ping(ping))
    }

    /// What was kept of every check, by name.
    pub async fn checks_seen(&self) -> Result<Vec<(String, Seen)>, StoreError> {
        each!(self.checks_seen())
    }

    /// Opens the incident (check, since) if it is new, and claims its page until `lease_until`
    /// unless it was paged or another claim still holds; true when this process is to page.
    pub async fn claim_page(
        &self,
        check: &str,
        since: i64,
        why: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        each!(self.claim_page(check, since, why, now, lease_until))
    }

    /// The page of an incident went out (`paged`), or it is to be tried again after `retry_at`.
    pub async fn page_done(
        &self,
        check: &str,
        since: i64,
        paged: Option<i64>,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        each!(self.page_done(check, since, paged, retry_at))
    }

    /// Moves the claim on an incident whose page is not marked sent to `until`: later while its
    /// page is in flight (a lease that runs out soon after a crash), or now to give it back when
    /// the page cannot finish (another replica, or the next start, pages at once).
    pub async fn hold_claim(&self, check: &str, since: i64, until: i64) -> Result<(), StoreError> {
        each!(self.hold_claim(check, since, until))
    }

    /// Marks the paged, unrecovered incidents of `check` older than `since` recovered at `now`;
    /// gives their `since`s (empty when another replica did it first).
    pub async fn claim_recoveries(&self, check: &str, since: i64, now: i64) -> Result<Vec<i64>, StoreError> {
        each!(self.claim_recoveries(check, since, now))
    }

    /// Makes the rows of watches not seen before (a known watch keeps its first sight).
    pub async fn know_watches(&self, keys: Vec<String>, at: i64) -> Result<(), StoreError> {
        each!(self.know_watches(keys, at))
    }

    /// What a successful look at the API saw.
    pub async fn watch_observed(&self, key: &str, at: i64, observed: String) -> Result<(), StoreError> {
        each!(self.watch_observed(key, at, observed))
    }

    /// The API failed: the warning the web page shows.
    pub async fn watch_warning(&self, key: &str, at: i64, warning: String) -> Result<(), StoreError> {
        each!(self.watch_warning(key, at, warning))
    }

    /// What was kept of every watch, by key.
    pub async fn watches_kept(&self) -> Result<Vec<(String, WatchKept)>, StoreError> {
        each!(self.watches_kept())
    }

    /// Deletes the reports received before `before`; how many.
    pub async fn prune_reports(&self, before: i64) -> Result<u64, StoreError> {
        each!(self.prune_reports(before))
    }
}

/// One recipient of an order as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientState {
    pub to: String,
    /// `pending`, `accepted`, `delivered` or `undelivered`.
    pub status: &'static str,
    pub at: Option<i64>,
}

impl RecipientState {
    pub fn is_final(&self) -> bool {
        matches!(self.status, "delivered" | "undelivered")
    }
}

impl Order {
    /// Each recipient's state from the reports: the first final report (delivered or
    /// undelivered), else the first `accepted`, else pending. Numbers are matched on their last
    /// ten digits, so `905…` and a report's `+905…` are the same phone.
    pub fn recipients(&self) -> Vec<RecipientState> {
        self.numbers
            .iter()
            .map(|number| {
                let mine: Vec<&StoredReport> =
                    self.reports.iter().filter(|r| same_phone(&r.recipient, number)).collect();
                let first = |statuses: &[&str]| {
                    mine.iter().filter(|r| statuses.contains(&r.status.as_str())).min_by_key(|r| r.received_at).copied()
                };
                let (status, report) = match (first(&["delivered", "undelivered"]), first(&["accepted"])) {
                    (Some(done), _) if done.status == "delivered" => ("delivered", Some(done)),
                    (Some(done), _) => ("undelivered", Some(done)),
                    (None, Some(accepted)) => ("accepted", Some(accepted)),
                    (None, None) => ("pending", None),
                };
                RecipientState { to: number.clone(), status, at: report.map(|r| r.received_at) }
            })
            .collect()
    }
}

fn same_phone(a: &str, b: &str) -> bool {
    let tail = |s: &str| s.get(s.len().saturating_sub(10)..).unwrap_or(s).to_string();
    !a.is_empty() && tail(a) == tail(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(recipient: &str, status: &str, at: i64) -> StoredReport {
        StoredReport { recipient: recipient.into(), status: status.into(), received_at: at }
    }

    #[test]
    fn recipient_states_come_from_the_first_report_of_each_kind() {
        let order = Order {
            order_id: "1".into(),
            alert_id: String::new(),
            created_at: 0,
            numbers: vec!["905320000001".into(), "905320000002".into(), "905320000003".into()],
            reports: vec![
                report("905320000001", "accepted", 10),
                report("905320000001", "delivered", 30),
                report("905320000001", "delivered", 40),
                report("905320000002", "accepted", 20),
                report("905329999999", "undelivered", 5),
            ],
        };
        let states: Vec<(&str, Option<i64>)> = order.recipients().iter().map(|r| (r.status, r.at)).collect();
        assert_eq!(states, [("delivered", Some(30)), ("accepted", Some(20)), ("pending", None)]);
    }

    fn new_page(code: &str, at: i64) -> NewPage {
        NewPage {
            page_id: format!("id-{code}"),
            code: code.into(),
            alert_id: "deploy".into(),
            title: "Deploy failed".into(),
            run_url: String::new(),
            at,
        }
    }

    /// An acknowledge link acknowledges once (the first time stays) and, past its lifetime,
    /// changes nothing: the old page is put in the store directly, as no test can wait 7 days.
    #[test]
    fn links_acknowledge_once_and_not_after_they_expired() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let url = super::super::settings::StoreUrl::Sqlite(dir.path().join("serve.db"));
            let store = Store::open(&url, &Env::new()).await.unwrap();
            let (now, week) = (1_800_000_000_000, 7 * 24 * 3600 * 1000);
            store.open_page(new_page("fresh", now - week)).await.unwrap();
            store.open_page(new_page("old", now - week - 1)).await.unwrap();

            let fresh = store.acknowledge("fresh", now, now - week).await.unwrap().unwrap();
            assert_eq!(fresh.acknowledged_at, Some(now));
            let again = store.acknowledge("fresh", now + 5, now + 5 - week).await.unwrap().unwrap();
            assert_eq!(again.acknowledged_at, Some(now), "the first acknowledgement's time stays");

            let old = store.acknowledge("old", now, now - week).await.unwrap().unwrap();
            assert_eq!(old.acknowledged_at, None, "an expired link acknowledges nothing");
            assert_eq!(store.page_by_code("old").await.unwrap().unwrap().acknowledged_at, None);
            assert_eq!(store.acknowledge("unknown", now, now - week).await.unwrap(), None);

            let newest: Vec<String> = store.recent_pages(10).await.unwrap().into_iter().map(|p| p.code).collect();
            assert_eq!(newest, ["fresh", "old"]);
        });
    }
}
