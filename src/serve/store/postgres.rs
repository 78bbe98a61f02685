//! The shared store: PostgreSQL, for several replicas behind one load balancer. A few
//! connections, each used by one request at a time and opened again when it broke. Over TLS
//! when the URL says `sslmode=require` (or libpq's `verify-ca`, `verify-full`), always with the
//! server's certificate verified against the roots HTTPS uses, or `sslrootcert`'s file; plain
//! TCP otherwise (docs/serve-deploy.md, "PostgreSQL").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::checks::Seen;
use super::{
    Forward, Inserted, MIGRATIONS, MIGRATIONS_TABLE, NewOrder, NewPage, NewReport, Order, Page, Ping, StoreError,
    StoredReport, WatchKept, newer_schema,
};
use crate::context::Env;

const CONNECTIONS: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Taken by whichever replica migrates; the others wait for it.
const MIGRATION_LOCK: i64 = 0x6f6e_6661_696c;

/// A ping's time, never before the check's last ping or first sight: a wall clock stepped back
/// keeps the order of the pings (a fail after a success stays after it), and a success stays
/// later than the incident it ends (docs/serve-checks.md, "Clocks").
const AFTER_THE_LAST: &str = "GREATEST(excluded.last_ping_at, coalesce(checks.last_ping_at, checks.first_seen_at) + 1)";

pub struct Postgres {
    config: Config,
    /// `Some` under `sslmode=require`: every connection is TLS, its certificate verified.
    tls: Option<MakeRustlsConnect>,
    /// What was wrong with the trust settings, said when a TLS connection fails.
    tls_warnings: Vec<String>,
    slots: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
}

fn error(e: tokio_postgres::Error) -> StoreError {
    StoreError(format!("PostgreSQL: {}", crate::error::root_cause(&e)))
}

/// The URL as tokio-postgres reads it, and `sslrootcert`'s file. libpq's `sslmode=verify-ca`
/// and `verify-full` mean `require` here: onfail verifies the certificate under every TLS mode
/// (a `require` that trusted any certificate would let anyone between the service and its
/// database read the tokens' pages and forge acknowledgements).
fn tls_settings(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
    let mut root_file = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("sslrootcert", _) => {
                root_file = url::form_urlencoded::parse(pair.as_bytes()).next().map(|(_, file)| file.into_owned());
            }
            ("sslmode", "verify-ca" | "verify-full") => kept.push("sslmode=require".to_string()),
            _ => kept.push(pair.to_string()),
        }
    }
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (url, root_file)
}

impl Postgres {
    pub async fn open(url: &str, env: &Env) -> Result<Postgres, StoreError> {
        let (url, root_file) = tls_settings(url);
        let mut config: Config = url.parse().map_err(|_| {
            StoreError(
                "--store: not a valid postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE, \
                 optionally ?sslmode=require&sslrootcert=/path/ca.pem)"
                    .into(),
            )
        })?;
        config.connect_timeout(CONNECT_TIMEOUT).application_name("onfail serve");
        let (tls, tls_warnings) = if config.get_ssl_mode() == SslMode::Require {
            let mut env = env.clone();
            if let Some(file) = root_file {
                env.insert("SSL_CERT_FILE".into(), file);
                env.remove("SSL_CERT_DIR");
            }
            let (client_config, warnings) = crate::tls::client_config(&env);
            (Some(MakeRustlsConnect::new(client_config)), warnings)
        } else {
            (None, Vec::new())
        };
        let store = Postgres {
            config,
            tls,
            tls_warnings,
            slots: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A new connection, over TLS when the URL asked for it.
    async fn connect(&self) -> Result<Client, StoreError> {
        let Some(tls) = &self.tls else {
            let (client, connection) = self.config.connect(NoTls).await.map_err(error)?;
            tokio::spawn(connection);
            return Ok(client);
        };
        match self.config.connect(tls.clone()).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                Ok(client)
            }
            Err(e) => {
                let mut message = error(e).0;
                if message.contains("certificate") || message.contains("Certificate") {
                    message.push_str(
                        ": the database's certificate must be signed by a CA onfail trusts; put that CA's PEM file \
                         in the URL's sslrootcert= (or SSL_CERT_FILE)",
                    );
                }
                self.tls_warnings.iter().for_each(|w| message.push_str(&format!("; {w}")));
                Err(StoreError(message))
            }
        }
    }

    /// A connection of the pool, opened (again) when needed.
    async fn client(&self) -> Result<MappedMutexGuard<'_, Client>, StoreError> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % CONNECTIONS];
        let mut guard = slot.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(self.connect().await?);
        }
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| StoreError("PostgreSQL: no connection".into()))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(error)?;
        tx.batch_execute(MIGRATIONS_TABLE).await.map_err(error)?;
        let done: i64 = tx
            .query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations", &[])
            .await
            .map_err(error)?
            .get(0);
        if done > MIGRATIONS.len() as i64 {
            return Err(newer_schema(done));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > done) {
            tx.batch_execute(sql).await.map_err(error)?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[version, &now_ms()])
                .await
                .map_err(error)?;
        }
        tx.commit().await.map_err(error)
    }

    pub async fn insert_report(&self, report: NewReport) -> Result<Inserted, StoreError> {
        // One statement, so it is atomic without a transaction.
        let row = self
            .client()
            .await?
            .query_one(
                "WITH inserted AS (\
                   INSERT INTO reports (report_id, status, packet_id, recipient, received_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1), \
                 known AS (SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = $3) AS known), \
                 queued AS (\
                   INSERT INTO forwards (report_id, status, body, due_at, attempts) \
                   SELECT $1, $2, $6, $5, 0 \
                   WHERE $7 AND EXISTS (SELECT 1 FROM inserted) AND NOT (SELECT known FROM known) \
                   ON CONFLICT DO NOTHING RETURNING 1) \
                 SELECT EXISTS (SELECT 1 FROM inserted), (SELECT known FROM known), EXISTS (SELECT 1 FROM queued)",
                &[
                    &report.id,
                    &report.status,
                    &report.packet_id,
                    &report.recipient,
                    &report.at,
                    &report.body,
                    &report.forward,
                ],
            )
            .await
            .map_err(error)?;
        Ok(Inserted { new: row.get(0), order_known: row.get(1) })
    }

    pub async fn register_order(&self, order: NewOrder) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(error)?;
        let created = tx
            .execute(
                "INSERT INTO orders (order_id, alert_id, run_url, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
                &[&order.order_id, &order.alert_id, &order.run_url, &order.at],
            )
            .await
            .map_err(error)?
            == 1;
        if created {
            for (position, number) in order.numbers.iter().enumerate() {
                tx.execute(
                    "INSERT INTO order_recipients (order_id, position, number) VALUES ($1, $2, $3)",
                    &[&order.order_id, &(position as i64), number],
                )
                .await
                .map_err(error)?;
            }
        }
        tx.commit().await.map_err(error)?;
        Ok(created)
    }

    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        select_order(&*self.client().await?, order_id).await
    }

    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<Order>, StoreError> {
        let client = self.client().await?;
        let ids = client
            .query("SELECT order_id FROM orders ORDER BY created_at DESC, order_id LIMIT $1", &[&limit])
            .await
            .map_err(error)?;
        let mut orders = Vec::with_capacity(ids.len());
        for row in ids {
            if let Some(order) = select_order(&client, row.get(0)).await? {
                orders.push(order);
            }
        }
        Ok(orders)
    }

    pub async fn alert_numbers(&self, alert_id: &str, from: i64, to: i64) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT DISTINCT r.number FROM orders o JOIN order_recipients r USING (order_id) \
                 WHERE o.alert_id = $1 AND o.created_at >= $2 AND o.created_at < $3 ORDER BY r.number",
                &[&alert_id, &from, &to],
            )
            .await
            .map_err(error)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub async fn open_page(&self, page: NewPage) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO pages (page_id, code, alert_id, title, run_url, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&page.page_id, &page.code, &page.alert_id, &page.title, &page.run_url, &page.at],
            )
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn page(&self, page_id: &str) -> Result<Option<Page>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(&format!("{SELECT_PAGE} WHERE page_id = $1"), &[&page_id])
            .await
            .map_err(error)?;
        Ok(row.as_ref().map(page))
    }

    pub async fn page_by_code(&self, code: &str) -> Result<Option<Page>, StoreError> {
        let row =
            self.client().await?.query_opt(&format!("{SELECT_PAGE} WHERE code = $1"), &[&code]).await.map_err(error)?;
        Ok(row.as_ref().map(page))
    }

    pub async fn next_page_of_alert(&self, alert_id: &str, after: i64) -> Result<Option<i64>, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT MIN(created_at) FROM pages WHERE alert_id = $1 AND created_at > $2",
                &[&alert_id, &after],
            )
            .await
            .map_err(error)?;
        Ok(row.get(0))
    }

    pub async fn recent_pages(&self, limit: i64) -> Result<Vec<Page>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(&format!("{SELECT_PAGE} ORDER BY created_at DESC, page_id LIMIT $1"), &[&limit])
            .await
            .map_err(error)?;
        Ok(rows.iter().map(page).collect())
    }

    pub async fn acknowledge(&self, code: &str, at: i64, opened_since: i64) -> Result<Option<Page>, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE pages SET acknowledged_at = COALESCE(acknowledged_at, $2) WHERE code = $1 AND created_at >= $3",
                &[&code, &at, &opened_since],
            )
            .await
            .map_err(error)?;
        let row = client.query_opt(&format!("{SELECT_PAGE} WHERE code = $1"), &[&code]).await.map_err(error)?;
        Ok(row.as_ref().map(page))
    }

    pub async fn alert_state(&self, alert_id: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT state FROM alert_states WHERE alert_id = $1", &[&alert_id])
            .await
            .map_err(error)?;
        Ok(row.map(|row| row.get(0)))
    }

    pub async fn put_alert_state(&self, alert_id: &str, state: &str, at: i64) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO alert_states (alert_id, state, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                &[&alert_id, &state, &at],
            )
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn claim_forwards(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Forward>, StoreError> {
        // SKIP LOCKED: two replicas claiming at once take different rows.
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE forwards SET due_at = $2, attempts = attempts + 1 WHERE (report_id, status) IN \
                 (SELECT report_id, status FROM forwards WHERE due_at <= $1 ORDER BY due_at LIMIT $3 \
                  FOR UPDATE SKIP LOCKED) \
                 RETURNING report_id, status, body, attempts",
                &[&now, &lease_until, &limit],
            )
            .await
            .map_err(error)?;
        Ok(rows
            .iter()
            .map(|row| Forward { report_id: row.get(0), status: row.get(1), body: row.get(2), attempts: row.get(3) })
            .collect())
    }

    pub async fn forward_tried(&self, forward: &Forward, next: Option<i64>) -> Result<(), StoreError> {
        let client = self.client().await?;
        let (id, status) = (&forward.report_id, &forward.status);
        match next {
            Some(at) => {
                client
                    .execute("UPDATE forwards SET due_at = $3 WHERE report_id = $1 AND status = $2", &[id, status, &at])
                    .await
            }
            None => client.execute("DELETE FROM forwards WHERE report_id = $1 AND status = $2", &[id, status]).await,
        }
        .map_err(error)?;
        Ok(())
    }

    pub async fn know_checks(&self, names: Vec<String>, at: i64) -> Result<(), StoreError> {
        let client = self.client().await?;
        for name in &names {
            client
                .execute(
                    "INSERT INTO checks (name, first_seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[name, &at],
                )
                .await
                .map_err(error)?;
        }
        Ok(())
    }

    pub async fn ping(&self, ping: Ping) -> Result<(), StoreError> {
        let column = ping.kind.column();
        self.client()
            .await?
            .execute(
                &format!(
                    "INSERT INTO checks (name, first_seen_at, {column}, last_ping_at, last_ping_kind) \
                     VALUES ($1, $2, $2, $2, $3) ON CONFLICT (name) DO UPDATE SET {column} = {AFTER_THE_LAST}, \
                     last_ping_at = {AFTER_THE_LAST}, last_ping_kind = excluded.last_ping_kind"
                ),
                &[&ping.check, &ping.at, &ping.label],
            )
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn checks_seen(&self) -> Result<Vec<(String, Seen)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT name, first_seen_at, last_start_at, last_success_at, last_fail_at, last_ping_at, \
                 last_ping_kind, (SELECT since FROM check_incidents WHERE check_name = name AND recovered_at IS NULL \
                 ORDER BY since DESC LIMIT 1), (SELECT why FROM check_incidents WHERE check_name = name \
                 AND recovered_at IS NULL ORDER BY since DESC LIMIT 1) FROM checks",
                &[],
            )
            .await
            .map_err(error)?;
        Ok(rows
            .iter()
            .map(|row| {
                let seen = Seen {
                    first_seen_at: row.get(1),
                    last_start_at: row.get(2),
                    last_success_at: row.get(3),
                    last_fail_at: row.get(4),
                    last_ping_at: row.get(5),
                    last_ping_kind: row.get(6),
                    incident: row.get::<_, Option<i64>>(7).zip(row.get::<_, Option<String>>(8)),
                };
                (row.get(0), seen)
            })
            .collect())
    }

    pub async fn claim_page(
        &self,
        check: &str,
        since: i64,
        why: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO check_incidents (check_name, since, why, opened_at, claimed_until) \
                 VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
                &[&check, &since, &why, &now],
            )
            .await
            .map_err(error)?;
        // The row lock of the UPDATE: a second replica re-reads the row after the first's
        // commit, finds the claim held, and updates nothing.
        let claimed = client
            .execute(
                "UPDATE check_incidents SET claimed_until = $4 WHERE check_name = $1 AND since = $2 \
                 AND paged_at IS NULL AND claimed_until <= $3",
                &[&check, &since, &now, &lease_until],
            )
            .await
            .map_err(error)?;
        Ok(claimed == 1)
    }

    pub async fn page_done(
        &self,
        check: &str,
        since: i64,
        paged: Option<i64>,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "UPDATE check_incidents SET paged_at = $3, claimed_until = $4 WHERE check_name = $1 AND since = $2",
                &[&check, &since, &paged, &retry_at],
            )
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn hold_claim(&self, check: &str, since: i64, until: i64) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "UPDATE check_incidents SET claimed_until = $3 WHERE check_name = $1 AND since = $2 \
                 AND paged_at IS NULL",
                &[&check, &since, &until],
            )
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn claim_recoveries(&self, check: &str, since: i64, now: i64) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE check_incidents SET recovered_at = $3 WHERE check_name = $1 AND since < $2 \
                 AND paged_at IS NOT NULL AND recovered_at IS NULL RETURNING since",
                &[&check, &since, &now],
            )
            .await
            .map_err(error)?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub async fn know_watches(&self, keys: Vec<String>, at: i64) -> Result<(), StoreError> {
        let client = self.client().await?;
        for key in &keys {
            client
                .execute(
                    "INSERT INTO watches (watch_key, first_seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[key, &at],
                )
                .await
                .map_err(error)?;
        }
        Ok(())
    }

    pub async fn watch_observed(&self, key: &str, at: i64, observed: String) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute("UPDATE watches SET observed_at = $2, observed = $3 WHERE watch_key = $1", &[&key, &at, &observed])
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn watch_warning(&self, key: &str, at: i64, warning: String) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute("UPDATE watches SET warning_at = $2, warning = $3 WHERE watch_key = $1", &[&key, &at, &warning])
            .await
            .map_err(error)?;
        Ok(())
    }

    pub async fn watches_kept(&self) -> Result<Vec<(String, WatchKept)>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT watch_key, first_seen_at, observed_at, observed, warning_at, warning FROM watches", &[])
            .await
            .map_err(error)?;
        Ok(rows
            .iter()
            .map(|row| {
                (
                    row.get(0),
                    WatchKept {
                        first_seen_at: row.get(1),
                        observed_at: row.get(2),
                        observed: row.get(3),
                        warning_at: row.get(4),
                        warning: row.get(5),
                    },
                )
            })
            .collect())
    }

    pub async fn prune_reports(&self, before: i64) -> Result<u64, StoreError> {
        self.client().await?.execute("DELETE FROM reports WHERE received_at < $1", &[&before]).await.map_err(error)
    }
}

const SELECT_PAGE: &str = "SELECT page_id, code, alert_id, title, run_url, created_at, acknowledged_at FROM pages";

async fn select_order(client: &Client, order_id: &str) -> Result<Option<Order>, StoreError> {
    let Some(head) = client
        .query_opt("SELECT alert_id, created_at FROM orders WHERE order_id = $1", &[&order_id])
        .await
        .map_err(error)?
    else {
        return Ok(None);
    };
    let numbers = client
        .query("SELECT number FROM order_recipients WHERE order_id = $1 ORDER BY position", &[&order_id])
        .await
        .map_err(error)?;
    let reports = client
        .query("SELECT recipient, status, received_at FROM reports WHERE packet_id = $1", &[&order_id])
        .await
        .map_err(error)?;
    Ok(Some(Order {
        order_id: order_id.to_string(),
        alert_id: head.get(0),
        created_at: head.get(1),
        numbers: numbers.iter().map(|row| row.get(0)).collect(),
        reports: reports
            .iter()
            .map(|row| StoredReport { recipient: row.get(0), status: row.get(1), received_at: row.get(2) })
            .collect(),
    }))
}

fn page(row: &Row) -> Page {
    Page {
        page_id: row.get(0),
        code: row.get(1),
        alert_id: row.get(2),
        title: row.get(3),
        run_url: row.get(4),
        created_at: row.get(5),
        acknowledged_at: row.get(6),
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
