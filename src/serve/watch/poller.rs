//! The clock of watches (docs/serve-checks.md, "Watching a scheduled GitHub workflow"): every
//! `poll`, each watch is looked at through the API (on tokio's blocking threads), what was seen is
//! kept in the store (the web page of every replica shows it), and the watch is judged. A down
//! watch's incident is claimed in the store, as a check's is (one replica wins the claim, a
//! restart finds it paged), before its page goes to the pager; a scheduled run that completed
//! after paged incidents is claimed as their recovery the same way. An API failure is a warning
//! in the log (once per change, then hourly) and on the web page, never a page; a rate limit
//! waits for GitHub's reset.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::github::{ApiError, GitHub};
use super::{Health, Observation, Watch, judge, texts};
use crate::context::Env;
use crate::edge::Previous;
use crate::serve::api::{App, now_ms, rfc3339};
use crate::serve::pager::{LEASE_MS, Notice, Pager, Plain};
use crate::status::Status;
use crate::texts::Language;

const TICK: Duration = Duration::from_millis(250);
/// The same API warning is logged again after this.
const WARN_AGAIN_MS: i64 = 3600 * 1000;

/// `2026-12-03 03:00 UTC`.
pub fn clock(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let text = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} UTC", text.get(..16).unwrap_or(&text).replace('T', " "))
}

/// What this process remembers of one watch between looks.
#[derive(Default)]
struct Local {
    next_look: i64,
    first_seen_at: Option<i64>,
    /// The last API warning logged, and when.
    warned: Option<(String, i64)>,
    /// Why the workflow file gave no schedule, as last logged.
    schedule_problem: Option<String>,
    /// The `recovered_before` whose recoveries were last claimed.
    recovered_looked: Option<i64>,
}

pub async fn run(app: Arc<App>, pager: Pager, github: Option<Arc<GitHub>>, env: Env) {
    let Some(github) = github else { return };
    if app.watches.is_empty() {
        return;
    }
    let mut stopping = app.stopping.clone();
    let mut local: HashMap<String, Local> = HashMap::new();
    loop {
        let now = now_ms();
        for watch in &app.watches {
            let mine = local.entry(watch.key()).or_default();
            if mine.next_look > now {
                continue;
            }
            look(&app, &pager, &github, &env, watch, mine).await;
            if *stopping.borrow() {
                return;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
    }
}

async fn look(app: &App, pager: &Pager, github: &Arc<GitHub>, env: &Env, watch: &Watch, mine: &mut Local) {
    let now = now_ms();
    mine.next_look = now + watch.poll.as_millis() as i64;
    let (client, asked) = (github.clone(), watch.clone());
    let looked = tokio::task::spawn_blocking(move || client.look(&asked, now))
        .await
        .unwrap_or_else(|e| Err(ApiError { message: format!("the look stopped: {e}"), retry_at: None }));
    let seen = match looked {
        Ok(seen) => seen,
        Err(e) => {
            if let Some(retry_at) = e.retry_at {
                mine.next_look = mine.next_look.max(retry_at);
            }
            warn(app, watch, mine, &e.message, now).await;
            return;
        }
    };
    if mine.warned.take().is_some() {
        app.log.line(&format!("{}: the GitHub API answers again", watch.label()));
    }
    // The web page shows it with the schedule; the log says it when it changes.
    if seen.schedule_problem != mine.schedule_problem {
        if let Some(problem) = &seen.schedule_problem {
            app.log.warning(&format!("{}: {problem}", watch.label()));
        }
        mine.schedule_problem = seen.schedule_problem.clone();
    }
    let key = watch.key();
    let kept = seen.to_json().to_string();
    if let Err(e) = app.store.watch_observed(&key, now, kept).await {
        app.log.warning(&format!("{}: what the API said could not be kept: {e}", watch.label()));
    }
    let first_seen_at = match mine.first_seen_at {
        Some(at) => at,
        None => match app.store.watches_kept().await {
            Ok(kept) => {
                let at = kept.iter().find(|(k, _)| *k == key).map_or(now, |(_, kept)| kept.first_seen_at);
                *mine.first_seen_at.insert(at)
            }
            Err(e) => {
                app.log.warning(&format!(
                    "{}: the store could not be read: {e}; looking again in a moment",
                    watch.label()
                ));
                mine.next_look = now + 1000;
                return;
            }
        },
    };
    if let Err(e) = decide(app, pager, env, watch, &seen, first_seen_at, mine).await {
        app.log.warning(&format!("{}: {e}; looking again in a moment", watch.label()));
        mine.next_look = now + 1000;
    }
}

/// A warning in the log, once per change of text (and again hourly), and on the web page.
async fn warn(app: &App, watch: &Watch, mine: &mut Local, message: &str, now: i64) {
    let repeated = mine.warned.as_ref().is_some_and(|(said, at)| said == message && now - at < WARN_AGAIN_MS);
    if !repeated {
        app.log.warning(&format!("{}: {message}", watch.label()));
        mine.warned = Some((message.to_string(), now));
    }
    if let Err(e) = app.store.watch_warning(&watch.key(), now, message.to_string()).await {
        app.log.warning(&format!("{}: the warning could not be kept: {e}", watch.label()));
    }
}

/// Pages a new incident (through the claim), or claims the recovery of paged ones.
async fn decide(
    app: &App,
    pager: &Pager,
    env: &Env,
    watch: &Watch,
    seen: &Observation,
    first_seen_at: i64,
    mine: &mut Local,
) -> Result<(), crate::serve::store::StoreError> {
    let now = now_ms();
    let judged = judge(watch, first_seen_at, seen, now);
    let incident = watch.incident_name();
    let language = language(watch, env);
    match &judged.health {
        Health::Down(why) => {
            // As for checks: the claim is renewed while this process pages, and not taken again.
            if !pager.holds(&incident, judged.since)
                && app.store.claim_page(&incident, judged.since, why.name(), now, now + LEASE_MS).await?
            {
                app.log.line(&format!("{} is down ({}): paging", watch.label(), why.name()));
                let said = texts::page(watch, seen, why, language);
                let mut options = vec!["--title".to_string(), said.title, "--alert-id".to_string(), alert_id(watch)];
                for (option, text) in
                    [("message", said.message), ("sms-message", said.sms), ("voice-message", said.voice)]
                {
                    if !watch.overrides.contains_key(option) {
                        options.extend([format!("--{option}"), text]);
                    }
                }
                options.extend(overrides(watch));
                let run_url = match why {
                    super::Why::Broken { run } => run.html_url.clone(),
                    _ => seen.html_url.clone(),
                };
                pager.send(Notice::Plain(Box::new(Plain {
                    label: watch.label(),
                    incident: Some((incident, judged.since)),
                    status: Status::Failure,
                    previous: Previous::Succeeded,
                    options,
                    workflow: display_name(watch, seen),
                    repository: watch.repository.clone(),
                    run_url,
                })));
            }
        }
        Health::Up | Health::Running => {
            if let Some(before) = judged.recovered_before
                && mine.recovered_looked != Some(before)
            {
                let recovered = app.store.claim_recoveries(&incident, before, now).await?;
                if let Some(since) = recovered.iter().min() {
                    app.log.line(&format!("{} recovered", watch.label()));
                    let title = texts::recovered_title(watch, seen, language);
                    let mut options = vec!["--title".to_string(), title, "--alert-id".to_string(), alert_id(watch)];
                    options.extend(overrides(watch));
                    pager.send(Notice::Plain(Box::new(Plain {
                        label: watch.label(),
                        incident: None,
                        status: Status::Success,
                        previous: Previous::Failed { since: rfc3339(*since) },
                        options,
                        workflow: display_name(watch, seen),
                        repository: watch.repository.clone(),
                        run_url: seen.latest_ran.as_ref().map(|run| run.html_url.clone()).unwrap_or_default(),
                    })));
                }
                mine.recovered_looked = Some(before);
            }
        }
    }
    Ok(())
}

/// The watch's own `language`, else the service's (`ONFAIL_LANGUAGE`), else `auto`.
fn language(watch: &Watch, env: &Env) -> Language {
    let given =
        watch.overrides.get("language").map(String::as_str).or_else(|| crate::context::var(env, "ONFAIL_LANGUAGE"));
    given.and_then(|text| Language::from_str(text).ok()).unwrap_or_default()
}

/// Stable across replicas and restarts, so an incident platform resolves what it opened.
fn alert_id(watch: &Watch) -> String {
    let safe: String =
        watch.key().chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
    format!("onfail-watch-{safe}")
}

fn overrides(watch: &Watch) -> Vec<String> {
    watch.overrides.iter().flat_map(|(key, value)| [format!("--{key}"), value.clone()]).collect()
}

fn display_name(watch: &Watch, seen: &Observation) -> String {
    if seen.name.trim().is_empty() { watch.workflow.clone() } else { seen.name.trim().to_string() }
}
