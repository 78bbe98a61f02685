//! `onfail serve`, the standing companion (docs/service.md, "onfail serve"): a small HTTP service that
//! keeps iletiMerkezi's delivery reports and serves the API of SMS orders, acknowledgeable pages
//! and alert states. A sibling of `app` (the CLI's commands): neither imports the other.
//!
//! `settings` validates the options (the redactor is built first); `store` keeps everything
//! (SQLite or PostgreSQL); `api` holds the routes; `http` the connections; `forward` passes
//! on the reports that are not onfail's. Blocking work (SQLite, forwarding) runs on threads of
//! its own, never on the async executor. Nothing of this runs unless `serve` is the command.

mod ack_words;
mod api;
pub mod checks;
mod forward;
mod html;
mod http;
mod pager;
mod pings;
pub mod report;
mod scheduler;
pub mod settings;
pub mod store;
mod token;
pub mod watch;
mod web;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::cli::ServeArgs;
use crate::context::Env;
use crate::exit::Exit;
use crate::output::Output;
use crate::redact::Redactor;
use api::App;
use settings::{Settings, shown_store};
use store::Store;
use token::Token;

/// Reports older than this are deleted.
const KEEP_REPORTS: Duration = Duration::from_secs(30 * 24 * 3600);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub fn run(args: &ServeArgs, env: &Env) -> Exit {
    let log = Arc::new(Output::new(redactor(args), env));
    let settings = match Settings::from_args(args, env) {
        Ok(settings) => settings,
        Err(e) => {
            log.error(&e.to_string());
            return Exit::Usage;
        }
    };
    // The certificate and key are configuration: a file that cannot be used is a usage error.
    let tls = match settings.tls.as_ref().map(|(cert, key)| http::tls_acceptor(cert, key)).transpose() {
        Ok(tls) => tls,
        Err(e) => {
            log.error(&e);
            return Exit::Usage;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            log.error(&format!("cannot start: {e}"));
            return Exit::ServiceFailed;
        }
    };
    // Before the runtime runs: the forwarding threads' blocking HTTP client must not be made
    // (or dropped) on an async thread.
    let forward = match settings.forward_reports_to.clone().map(|to| forward::Forwarder::start(to, env, &log)) {
        None => None,
        Some(Ok(forward)) => Some(forward),
        Some(Err(e)) => {
            log.error(&e);
            return Exit::ServiceFailed;
        }
    };
    // Made here for the same reason: the watches' blocking GitHub client.
    let github = match settings.github_token.as_deref().filter(|_| !settings.checks.watches.is_empty()) {
        None => None,
        Some(token) => match watch::github::GitHub::new(env, token) {
            Ok(github) => Some(Arc::new(github)),
            Err(e) => {
                log.error(&e);
                return Exit::Usage;
            }
        },
    };
    let served = runtime.block_on(serve(settings, tls, forward, github, log.clone(), env.clone()));
    // Every request has been answered by now; idle threads of the runtime need not be waited for.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match served {
        Ok(()) => Exit::Ok,
        Err(e) => {
            log.error(&e);
            Exit::ServiceFailed
        }
    }
}

/// Every secret the options hold, known before anything is printed.
fn redactor(args: &ServeArgs) -> Redactor {
    let mut redactor = Redactor::new();
    for token in [&args.receive_token, &args.api_token, &args.github_token].into_iter().flatten() {
        redactor.secret(token.trim());
    }
    if let Some(store) = &args.store {
        redactor.database_password_of(store);
        // `?password=` is how libpq-style URLs may carry it too.
        if let Ok(url) = reqwest::Url::parse(store.trim()) {
            url.query_pairs().filter(|(k, _)| k == "password").for_each(|(_, v)| redactor.secret(&v));
        }
    }
    if let Some(url) = &args.forward_reports_to {
        redactor.url_secrets(url, false);
    }
    redactor
}

async fn serve(
    settings: Settings,
    tls: Option<tokio_rustls::TlsAcceptor>,
    forward: Option<forward::Forwarder>,
    github: Option<Arc<watch::github::GitHub>>,
    log: Arc<Output>,
    env: Env,
) -> Result<(), String> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("--listen: cannot listen on {}: {e}", settings.listen))?;
    let address = listener.local_addr().map_err(|e| format!("--listen: {e}"))?;
    let store = Store::open(&settings.store, &env).await.map_err(|e| format!("--store: {e}"))?;
    let names = settings.checks.checks.iter().map(|check| check.name.clone()).collect();
    store.know_checks(names, api::now_ms()).await.map_err(|e| format!("--store: {e}"))?;
    let keys = settings.checks.watches.iter().map(watch::Watch::key).collect();
    store.know_watches(keys, api::now_ms()).await.map_err(|e| format!("--store: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{address}");
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let connections = store.connections();
    let app = Arc::new(App {
        store,
        receive_token: Token::new(&settings.receive_token),
        api_token: Token::new(&settings.api_token),
        public_url: settings.public_url.clone().unwrap_or_else(|| url.clone()),
        forward,
        log: log.clone(),
        stopping: stopping.clone(),
        checks: settings.checks.checks.clone(),
        watches: settings.checks.watches.clone(),
        changed: Notify::new(),
        forward_queued: Notify::new(),
    });
    // The service's own pages reach it here, as a sender's `--server` (docs/serve-checks.md): plain
    // HTTP on loopback whatever --listen and TLS are, and served until those pages are done.
    // Without it they go out all the same, without a link.
    let (own_stop, own_stopping) = tokio::sync::watch::channel(false);
    let own = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .and_then(|own| own.local_addr().map(|address| (own, address)));
    let own_server = match own {
        Ok((own, address)) => {
            tokio::spawn(http::serve(own, None, api::router(app.clone()), own_stopping, connections.clone()));
            Some(pager::OwnServer { url: format!("http://{address}"), token: settings.api_token.clone() })
        }
        Err(e) => {
            log.warning(&format!(
                "cannot listen on 127.0.0.1 for the checks' own pages ({e}): they go out without an acknowledge link"
            ));
            None
        }
    };
    tokio::spawn(prune(app.clone()));
    let pager = pager::Pager::start(app.clone(), tokio::runtime::Handle::current(), env.clone(), own_server)?;
    tokio::spawn(watch::poller::run(app.clone(), pager.clone(), github, env.clone()));
    tokio::spawn(scheduler::run(app.clone(), pager.clone()));
    tokio::spawn(forward::run(app.clone()));
    let (hurry, hurrying) = tokio::sync::watch::channel(false);
    tokio::spawn(signals(stop, hurry));
    log.line(&format!("serving on {url} (store {})", shown_store(&settings.store)));
    if settings.public_url.is_none() && address.ip().is_unspecified() {
        log.warning(&format!("acknowledge links will point at {url}, which no one can open: set --public-url"));
    }
    // At a stop the pages in flight finish while the requests in flight do (docs/serve-deploy.md, "Stopping").
    let pages = async {
        let _ = stopping.clone().wait_for(|stop| *stop).await;
        pager.finish(&app, hurrying.clone()).await;
        let _ = own_stop.send(true);
    };
    // A second signal does not wait for the requests in flight either.
    let requests = async {
        let mut hurried = hurrying.clone();
        tokio::select! {
            _ = http::serve(listener, tls, api::router(app.clone()), stopping.clone(), connections) => {}
            _ = hurried.wait_for(|hurry| *hurry) => {}
        }
    };
    tokio::join!(requests, pages);
    log.line("stopped");
    Ok(())
}

/// Deletes old reports now and every [`PRUNE_EVERY`]; a failure is a warning, tried again later.
async fn prune(app: Arc<App>) {
    loop {
        let before = api::now_ms() - KEEP_REPORTS.as_millis() as i64;
        if let Err(e) = app.store.prune_reports(before).await {
            app.log.warning(&format!("old reports could not be pruned: {e}"));
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// The first SIGTERM or SIGINT (Ctrl-C on Windows) stops the service, gently; the second
/// hurries the stop (the pages in flight are given back at once).
async fn signals(stop: tokio::sync::watch::Sender<bool>, hurry: tokio::sync::watch::Sender<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return std::future::pending().await;
        };
        for sender in [stop, hurry] {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = sender.send(true);
        }
    }
    #[cfg(not(unix))]
    {
        for sender in [stop, hurry] {
            if tokio::signal::ctrl_c().await.is_err() {
                return std::future::pending::<()>().await;
            }
            let _ = sender.send(true);
        }
    }
}
