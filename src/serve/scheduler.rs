//! The clock of checks (docs/serve-checks.md): every tick, each check is judged from the times
//! the store kept, never from how long this process has been running, so a paused process or a
//! clock step changes nothing but when the next look happens. A down check's incident is
//! claimed in the store (one replica wins the claim) before its page goes to the pager; a
//! success after a paged incident is claimed as its recovery the same way, once its page went
//! out: a success that comes while the page is in flight is looked at again when it is marked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::api::{App, now_ms};
use super::checks::{Health, Why, judge};
use super::pager::{LEASE_MS, Notice, Pager};

const TICK: Duration = Duration::from_millis(500);

pub async fn run(app: Arc<App>, pager: Pager) {
    if app.checks.is_empty() {
        return;
    }
    let mut stopping = app.stopping.clone();
    let mut looked = HashMap::new();
    loop {
        if let Err(e) = tick(&app, &pager, &mut looked).await {
            app.log.warning(&format!("checks: {e}; looking again in a moment"));
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}

/// `looked`: the last success each check had when its recoveries were last claimed, so the
/// store is written only when a success is new (once after a start, then once per success).
async fn tick(app: &App, pager: &Pager, looked: &mut HashMap<String, i64>) -> Result<(), super::store::StoreError> {
    for name in pager.newly_paged() {
        looked.remove(&name);
    }
    let seen = app.store.checks_seen().await?;
    let now = now_ms();
    for check in &app.checks {
        let Some((_, kept)) = seen.iter().find(|(name, _)| *name == check.name) else { continue };
        let judged = judge(check, kept, now);
        match judged.health {
            Health::Down(why) => {
                // A page this process holds (queued, in flight) is renewed, never claimed twice.
                if !pager.holds(&check.name, judged.since)
                    && app.store.claim_page(&check.name, judged.since, why_name(why), now, now + LEASE_MS).await?
                {
                    app.log.line(&format!("check {} is down ({}): paging", check.name, why_name(why)));
                    pager.send(Notice::Down { check: check.clone(), since: judged.since, why });
                }
            }
            Health::Up | Health::Running if looked.get(&check.name) != Some(&judged.since) => {
                for since in app.store.claim_recoveries(&check.name, judged.since, now).await? {
                    app.log.line(&format!("check {} recovered", check.name));
                    pager.send(Notice::Recovered { check: check.clone(), since });
                }
                looked.insert(check.name.clone(), judged.since);
            }
            Health::Up | Health::Running | Health::New => {}
        }
    }
    Ok(())
}

fn why_name(why: Why) -> &'static str {
    match why {
        Why::Late { .. } => "late",
        Why::Failed { .. } => "failed",
        Why::RanTooLong { .. } => "ran too long",
    }
}
