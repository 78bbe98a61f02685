//! `onfail serve` black-box (docs/service.md, "onfail serve"): the binary as a process on 127.0.0.1,
//! reports and API over HTTP, the same tests on SQLite and on a real PostgreSQL.

use std::time::{Duration, Instant};

use onfail::serve::settings::StoreUrl;
use onfail::serve::store::{NewReport, Store};
use serde_json::{Value, json};

use crate::common::service::{API_TOKEN, Backend, RECEIVE_TOKEN, Service, command, report_body};
use crate::common::{Reply, Server};

crate::on_both_stores!(
    reports_need_the_token_and_a_report,
    reports_are_idempotent_and_keep_the_first_arrival,
    a_report_before_its_order_still_counts,
    orders_need_the_api_token_and_answer_404_for_unknown_ids,
    a_long_poll_answers_when_a_recipient_changes,
    a_long_poll_on_one_replica_sees_a_report_taken_by_another,
    pages_open_with_an_ack_link_and_are_long_polled,
    alert_states_are_kept_per_alert_id,
    reports_of_other_apps_are_forwarded_unchanged_in_the_background,
    forwarding_survives_a_kill_and_happens_once_across_replicas,
    a_sigkill_loses_no_report_that_was_answered_200,
    secrets_and_numbers_never_reach_the_log,
    old_reports_are_pruned,
    a_page_acknowledged_elsewhere_ends_its_long_poll,
);

/// The store itself, opened the way the service opens it (a second replica, as it were).
fn with_store<T>(backend: &Backend, f: impl AsyncFnOnce(&Store) -> T) -> T {
    let url = match backend.store.strip_prefix("sqlite://") {
        Some(path) => StoreUrl::Sqlite(path.into()),
        None => StoreUrl::Postgres(backend.store.clone()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Store::open(&url, &Default::default()).await.unwrap();
        f(&store).await
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn phone(n: u64) -> String {
    format!("90532{n:07}")
}

fn reports_need_the_token_and_a_report(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let good = report_body(1, "77", "accepted", "+905320000001");
    let path = |token: &str| format!("/v1/iletimerkezi/reports?token={token}");
    assert_eq!(service.post("/v1/iletimerkezi/reports", None, good.clone().into_bytes()).0, 401);
    assert_eq!(service.post(&path("wrong-token-000000000"), None, good.clone().into_bytes()).0, 401);
    // The API token is not the receive token.
    assert_eq!(service.post(&path(API_TOKEN), None, good.clone().into_bytes()).0, 401);
    for bad in
        ["", "not json", "[]", r#"{"report": 5}"#, r#"{"report": {}}"#, r#"{"report": {"id": null}}"#, r#"{"x": 1}"#]
    {
        let (status, body) = service.post(&path(RECEIVE_TOKEN), None, bad.as_bytes().to_vec());
        assert_eq!(status, 400, "{bad:?}: {body}");
    }
    let huge = format!(r#"{{"report": {{"id": 1, "body": "{}"}}}}"#, "x".repeat(70 * 1024));
    assert_eq!(service.post(&path(RECEIVE_TOKEN), None, huge.into_bytes()).0, 413);
    let (status, body) = service.report(&good);
    assert_eq!((status, body), (200, json!({"received": true})));
    // None of the refused ones was kept: only the good one shows on the order.
    service.api("POST", "/v1/orders", Some(json!({"order_id": "77", "numbers": ["905320000001"]})));
    let (_, order) = service.api("GET", "/v1/orders/77", None);
    assert_eq!(order["recipients"][0]["status"], "accepted", "{order}");
    assert_eq!(service.request("GET", "/healthz", None, None), (200, Value::String("ok".into())));
}

fn reports_are_idempotent_and_keep_the_first_arrival(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let order = "5001";
    service.api("POST", "/v1/orders", Some(json!({"order_id": order, "numbers": [phone(1)]})));
    assert_eq!(service.report_of(10, order, "delivered", &format!("+{}", phone(1))).0, 200);
    let (_, first) = service.api("GET", &format!("/v1/orders/{order}"), None);
    std::thread::sleep(Duration::from_millis(20));
    for _ in 0..3 {
        assert_eq!(
            service.report_of(10, order, "delivered", &format!("+{}", phone(1))),
            (200, json!({"received": true}))
        );
    }
    let (_, again) = service.api("GET", &format!("/v1/orders/{order}"), None);
    assert_eq!(first["recipients"][0]["status"], "delivered", "{first}");
    assert_eq!(first, again, "a repeated report changed the order");
}

fn a_report_before_its_order_still_counts(backend: &Backend) {
    let service = Service::start(backend, &[]);
    assert_eq!(service.report_of(20, "6001", "undelivered", "+905320000020").0, 200);
    let body = json!({"order_id": "6001", "alert_id": "a1", "numbers": ["905320000020", "05320000021"], "run_url": "https://ci/run/1"});
    assert_eq!(service.api("POST", "/v1/orders", Some(body.clone())).0, 201);
    assert_eq!(service.api("POST", "/v1/orders", Some(body)).0, 200);
    let (status, order) = service.api("GET", "/v1/orders/6001", None);
    assert_eq!(status, 200);
    assert_eq!(order["order_id"], "6001");
    let recipients = order["recipients"].as_array().unwrap();
    assert_eq!(recipients[0]["to"], "905320000020");
    assert_eq!(recipients[0]["status"], "undelivered");
    assert!(recipients[0]["at"].as_str().unwrap().ends_with('Z'), "{order}");
    assert_eq!(recipients[1]["status"], "pending");
    assert_eq!(recipients[1]["at"], Value::Null);
}

fn orders_need_the_api_token_and_answer_404_for_unknown_ids(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let body = json!({"order_id": "7001", "numbers": ["905320000001"]}).to_string().into_bytes();
    assert_eq!(service.post("/v1/orders", None, body.clone()).0, 401);
    assert_eq!(service.post("/v1/orders", Some(RECEIVE_TOKEN), body.clone()).0, 401);
    assert_eq!(service.request("GET", "/v1/orders/7001", Some("nope-nope-nope-nope"), None).0, 401);
    assert_eq!(service.request("GET", "/v1/checks", None, None).0, 401);
    assert_eq!(service.api("GET", "/v1/orders/7001", None).0, 404);
    assert_eq!(service.api("GET", "/v1/pages/nope", None).0, 404);
    assert_eq!(service.api("GET", "/v1/alerts/nope/state", None).0, 404);
    for bad in [
        json!({}),
        json!({"order_id": "1"}),
        json!({"order_id": "1", "numbers": []}),
        json!({"order_id": "1", "numbers": ["12"]}),
        json!([1]),
    ] {
        assert_eq!(service.api("POST", "/v1/orders", Some(bad.clone())).0, 400, "{bad}");
    }
    assert_eq!(service.api("GET", "/v1/orders/7001?wait=abc", None).0, 400);
    assert_eq!(service.api("GET", "/v1/checks", None), (200, json!({"checks": [], "watches": []})));
}

fn a_long_poll_answers_when_a_recipient_changes(backend: &Backend) {
    let service = Service::start(backend, &[]);
    service.api("POST", "/v1/orders", Some(json!({"order_id": "8001", "numbers": [phone(1), phone(2)]})));
    // Nothing changes: the wait runs out.
    let started = Instant::now();
    let (_, order) = service.api("GET", "/v1/orders/8001?wait=1", None);
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(order["recipients"][0]["status"], "pending");
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let started = Instant::now();
            (service.api("GET", "/v1/orders/8001?wait=30", None).1, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(service.report_of(1, "8001", "delivered", &format!("+{}", phone(1))).0, 200);
        let (order, took) = waiting.join().unwrap();
        assert_eq!(order["recipients"][0]["status"], "delivered", "{order}");
        assert!(took < Duration::from_secs(5), "the long-poll took {took:?}");
    });
    // Every recipient final: no wait at all.
    service.report_of(2, "8001", "undelivered", &format!("+{}", phone(2)));
    let started = Instant::now();
    let (_, order) = service.api("GET", "/v1/orders/8001?wait=30", None);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(order["recipients"][1]["status"], "undelivered");
}

/// Two services on one store (two replicas behind a load balancer): a report taken by one
/// ends a long-poll waiting on the other.
fn a_long_poll_on_one_replica_sees_a_report_taken_by_another(backend: &Backend) {
    let (one, two) = (Service::start(backend, &[]), Service::start(backend, &[]));
    one.api("POST", "/v1/orders", Some(json!({"order_id": "9001", "numbers": [phone(1)]})));
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let started = Instant::now();
            (two.api("GET", "/v1/orders/9001?wait=30", None), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(one.report_of(1, "9001", "accepted", &format!("+{}", phone(1))).0, 200);
        let ((status, order), took) = waiting.join().unwrap();
        assert_eq!(status, 200);
        assert_eq!(order["recipients"][0]["status"], "accepted", "{order}");
        assert!(took < Duration::from_secs(5), "the long-poll took {took:?}");
    });
}

fn pages_open_with_an_ack_link_and_are_long_polled(backend: &Backend) {
    let service = Service::start(backend, &["--public-url", "https://onfail.example.com/"]);
    let body = json!({"alert_id": "deploy", "title": "Deploy failed", "run_url": "https://ci/run/2"});
    let (status, page) = service.api("POST", "/v1/pages", Some(body.clone()));
    assert_eq!(status, 201, "{page}");
    let ack_url = page["ack_url"].as_str().unwrap();
    let code = ack_url.strip_prefix("https://onfail.example.com/a/").unwrap_or_else(|| panic!("{ack_url}"));
    assert!(code.len() >= 22 && code.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)), "{code}");
    let (_, other) = service.api("POST", "/v1/pages", Some(body));
    assert_ne!(other["ack_url"], page["ack_url"]);
    assert_ne!(other["page_id"], page["page_id"]);
    let page_id = page["page_id"].as_str().unwrap();
    let started = Instant::now();
    let (status, state) = service.api("GET", &format!("/v1/pages/{page_id}?wait=1"), None);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(status, 200);
    assert_eq!(state, json!({"page_id": page_id, "acknowledged": false, "acknowledged_at": null}));
}

fn alert_states_are_kept_per_alert_id(backend: &Backend) {
    let service = Service::start(backend, &[]);
    assert_eq!(service.api("GET", "/v1/alerts/deploy-main/state", None).0, 404);
    let state = json!({"version": 1, "alert_id": "deploy-main", "status": "failure", "since": "2026-12-03T10:00:00Z"});
    assert_eq!(service.api("PUT", "/v1/alerts/deploy-main/state", Some(state.clone())).0, 200);
    assert_eq!(service.api("GET", "/v1/alerts/deploy-main/state", None), (200, state));
    let next = json!({"version": 1, "alert_id": "deploy-main", "status": "success"});
    service.api("PUT", "/v1/alerts/deploy-main/state", Some(next.clone()));
    assert_eq!(service.api("GET", "/v1/alerts/deploy-main/state", None), (200, next));
    assert_eq!(service.request("PUT", "/v1/alerts/x/state", Some(API_TOKEN), Some(b"[1]".to_vec())).0, 400);
    assert_eq!(service.request("PUT", "/v1/alerts/x/state", None, Some(b"{}".to_vec())).0, 401);
}

fn reports_of_other_apps_are_forwarded_unchanged_in_the_background(backend: &Backend) {
    // The other app fails once (retried), then is slow: the provider never waits for it.
    let other_app = Server::new(vec![Reply::status(503)], Reply::json(200, "{}").after(Duration::from_secs(3)));
    let service = Service::start(backend, &["--forward-reports-to", &other_app.url("/hook?key=abc")]);
    service.api("POST", "/v1/orders", Some(json!({"order_id": "1111", "numbers": [phone(1)]})));
    let theirs = "{\"report\": {\"id\": 31, \"packet_id\": 2222, \"status\": \"accepted\", \"to\": \"+905320000031\", \"body\": \"their text\"}}";
    let started = Instant::now();
    assert_eq!(service.report(theirs).0, 200);
    assert_eq!(service.report(theirs).0, 200);
    assert_eq!(service.report_of(32, "1111", "accepted", &format!("+{}", phone(1))).0, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "the answers waited for the forwarding");
    let until = Instant::now() + Duration::from_secs(20);
    while other_app.received().len() < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let received = other_app.received();
    // One report, sent twice by the provider: forwarded once, tried twice (503, then 200).
    assert_eq!(received.len(), 2, "{received:?}\n{}", service.log());
    for request in &received {
        assert_eq!(request.path, "/hook?key=abc");
        assert_eq!(request.body, theirs.as_bytes(), "the body changed on the way");
    }
}

/// A stream of reports, SIGKILL in the middle, a restart on the same store: every report that
/// was answered 200 is there. The kill comes after a count of answers, not after a time: a fast
/// machine answers a whole timed stream before the kill (CI did), a slow one none of it.
fn a_sigkill_loses_no_report_that_was_answered_200(backend: &Backend) {
    // Four orders of 1,000 recipients (the API's most per order); report n is for recipient
    // n % 1000 of order "424x" with x = n / 1000.
    const REPORTS: u64 = 4000;
    const KILL_AFTER: usize = 150;
    let order_of = |n: u64| format!("424{}", n / 1000);
    let service = Service::start(backend, &[]);
    let url = service.url.clone();
    let answered = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..4u64 {
            let (url, answered) = (url.clone(), &answered);
            scope.spawn(move || {
                let client = crate::common::service::client();
                for n in (worker..REPORTS).step_by(4) {
                    let body = report_body(100_000 + n, &order_of(n), "delivered", &format!("+{}", phone(n)));
                    let sent =
                        client.post(format!("{url}/v1/iletimerkezi/reports?token={RECEIVE_TOKEN}")).body(body).send();
                    match sent {
                        Ok(response) if response.status() == 200 => answered.lock().unwrap().push(n),
                        _ => return,
                    }
                }
            });
        }
        let until = Instant::now() + Duration::from_secs(60);
        while answered.lock().unwrap().len() < KILL_AFTER && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        service.stop("-KILL");
    });
    let answered = answered.into_inner().unwrap();
    let total = REPORTS as usize;
    assert!(answered.len() >= KILL_AFTER && answered.len() < total, "{} answered before the kill", answered.len());
    let restarted = Service::start(backend, &[]);
    let mut lost = Vec::new();
    for first in (0..REPORTS).step_by(1000) {
        let numbers: Vec<String> = (first..first + 1000).map(phone).collect();
        let order_id = order_of(first);
        restarted.api("POST", "/v1/orders", Some(json!({"order_id": order_id, "numbers": numbers})));
        let (_, order) = restarted.api("GET", &format!("/v1/orders/{order_id}"), None);
        let recipients = order["recipients"].as_array().unwrap();
        let of_this_order = answered.iter().filter(|n| (first..first + 1000).contains(*n));
        lost.extend(of_this_order.filter(|n| recipients[(**n - first) as usize]["status"] != "delivered"));
    }
    let some: Vec<&&u64> = lost.iter().take(20).collect();
    assert!(lost.is_empty(), "{} of {} answered reports were lost, e.g. {some:?}", lost.len(), answered.len());
}

fn secrets_and_numbers_never_reach_the_log(backend: &Backend) {
    // The other app echoes what it got, phone number and all.
    let other_app =
        Server::routed(|request| Reply::Respond { status: 400, headers: Vec::new(), body: request.body.clone() });
    let backend = backend.with_password("pw-SENTINEL-91b2");
    let service = Service::start(&backend, &["--forward-reports-to", &other_app.url("/in?secret=fw-SENTINEL-77aa")]);
    service.post("/v1/iletimerkezi/reports?token=rcv-SENTINEL-wrong", None, b"{}".to_vec());
    service.report_of(1, "1", "accepted", "+905321234567");
    service.request("GET", "/v1/checks", Some("api-SENTINEL-wrong"), None);
    other_app.wait_for(1);
    std::thread::sleep(Duration::from_millis(300));
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("onfail: serving on http://127.0.0.1:"), "{log}");
    assert!(log.contains("was not forwarded"), "the forwarding failure is logged: {log}");
    for secret in [RECEIVE_TOKEN, API_TOKEN, "pw-SENTINEL-91b2", "fw-SENTINEL-77aa", "SENTINEL", "5321234567"] {
        assert!(!log.contains(secret), "the log shows {secret:?}:\n{log}");
    }
}

#[test]
fn the_ready_line_shows_the_real_port_and_sigterm_lets_requests_finish() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let port: u16 = service.url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    service.api("POST", "/v1/orders", Some(json!({"order_id": "1", "numbers": ["905320000001"]})));
    let pid = service.pid();
    std::thread::scope(|scope| {
        // A long-poll in flight when the stop comes gets its answer.
        let in_flight = scope.spawn(|| service.api("GET", "/v1/orders/1?wait=30", None));
        std::thread::sleep(Duration::from_millis(500));
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        let (status, order) = in_flight.join().unwrap();
        assert_eq!(status, 200, "{order}\n{}", service.log());
    });
    let (code, log) = service.stop("-TERM");
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn a_missing_or_weak_token_is_exit_2_with_how_to_make_one() {
    let backend = Backend::sqlite();
    for (unset, option) in [("ONFAIL_RECEIVE_TOKEN", "--receive-token"), ("ONFAIL_API_TOKEN", "--api-token")] {
        let output = command(&backend).env_remove(unset).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(option) && stderr.contains("openssl rand -hex 32"), "{stderr}");
    }
    let output = command(&backend).env("ONFAIL_API_TOKEN", "short").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = command(&backend).env("ONFAIL_RECEIVE_TOKEN", "has+a/plus=and-slash-0000").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("URL-safe"), "{stderr}");
    for (args, option) in [
        (&["--store", "mysql://x"][..], "--store"),
        (&["--listen", "nowhere"][..], "--listen"),
        (&["--tls-cert", "/nonexistent.pem"][..], "--tls-key"),
        (&["--forward-reports-to", "http://example.com/x"][..], "--forward-reports-to"),
    ] {
        let output = command(&backend).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(option), "{args:?}: {stderr}");
    }
}

#[test]
fn a_port_in_use_is_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = command(&Backend::sqlite()).args(["--listen", &address]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn the_default_store_is_created_under_xdg_state_home() {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = command(&Backend::sqlite());
    cmd.env_remove("ONFAIL_STORE").env("XDG_STATE_HOME", state.path());
    let service = Service::spawn(cmd);
    assert!(service.log().contains(&format!("(store sqlite://{}", state.path().join("onfail/serve.db").display())));
    assert!(state.path().join("onfail/serve.db").is_file());
    assert_eq!(service.report_of(1, "1", "accepted", "+905320000001").0, 200);
}

#[test]
fn tls_cert_and_key_serve_https() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let backend = Backend::sqlite();
    let service =
        Service::start(&backend, &["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()]);
    assert!(service.url.starts_with("https://127.0.0.1:"), "{}", service.url);
    let port = service.url.rsplit(':').next().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .build()
        .unwrap();
    let response = client
        .post(format!("https://localhost:{port}/v1/iletimerkezi/reports?token={RECEIVE_TOKEN}"))
        .body(report_body(1, "1", "accepted", "+905320000001"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    // Plain HTTP to the TLS port is dropped, and the service goes on.
    let plain = crate::common::service::client().get(format!("http://127.0.0.1:{port}/healthz")).send();
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    assert_eq!(client.get(format!("https://localhost:{port}/healthz")).send().unwrap().text().unwrap(), "ok");
    // A key that does not parse: a usage error naming the option.
    std::fs::write(&key_path, "not a key").unwrap();
    let output = command(&backend)
        .args(["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

fn old_reports_are_pruned(backend: &Backend) {
    const DAY: i64 = 24 * 3600 * 1000;
    let report = |id: &str, at| NewReport {
        id: id.into(),
        status: "delivered".into(),
        packet_id: "p".into(),
        recipient: "905320000001".into(),
        body: "{}".into(),
        at,
        forward: false,
    };
    let now = now_ms();
    let pruned = with_store(backend, async |store| {
        assert!(store.insert_report(report("old", now - 31 * DAY)).await.unwrap().new);
        assert!(store.insert_report(report("new", now - 29 * DAY)).await.unwrap().new);
        store.prune_reports(now - 30 * DAY).await.unwrap()
    });
    assert_eq!(pruned, 1);
    // A service starting on the store prunes at once, and keeps what is younger.
    let service = Service::start(backend, &[]);
    with_store(backend, async |store| {
        assert!(!store.insert_report(report("new", now)).await.unwrap().new, "the young report is still there");
        assert!(store.insert_report(report("old", now)).await.unwrap().new, "the old report is gone");
        assert!(store.insert_report(report("older", now - 40 * DAY)).await.unwrap().new);
    });
    drop(service);
    let _service = Service::start(backend, &[]);
    std::thread::sleep(Duration::from_millis(500));
    with_store(backend, async |store| {
        assert!(store.insert_report(report("older", now)).await.unwrap().new, "pruned by the service at start");
    });
}

fn a_page_acknowledged_elsewhere_ends_its_long_poll(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (_, page) = service.api("POST", "/v1/pages", Some(json!({"alert_id": "a", "title": "t", "run_url": "u"})));
    let page_id = page["page_id"].as_str().unwrap().to_string();
    let code = page["ack_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let started = Instant::now();
            (service.api("GET", &format!("/v1/pages/{page_id}?wait=30"), None).1, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(500));
        let acknowledged = with_store(backend, async |store| {
            let first = store.acknowledge(&code, 1_000, 0).await.unwrap().unwrap();
            // Idempotent: the first acknowledgement's time stays.
            let again = store.acknowledge(&code, 2_000, 0).await.unwrap().unwrap();
            assert!(store.acknowledge("no-such-code", 3_000, 0).await.unwrap().is_none());
            assert_eq!(first, again);
            first
        });
        assert_eq!(acknowledged.acknowledged_at, Some(1_000));
        let (state, took) = waiting.join().unwrap();
        assert_eq!(state["acknowledged"], true, "{state}");
        assert_eq!(state["acknowledged_at"], "1970-01-01T00:00:01.000Z");
        assert!(took < Duration::from_secs(5), "{took:?}");
    });
}

#[test]
fn an_unreachable_database_is_exit_1_without_its_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let backend = Backend::sqlite();
    let store = format!("postgres://onfail:pw-SENTINEL-3c1d@127.0.0.1:{closed}/onfail");
    let started = Instant::now();
    let output = command(&backend).args(["--store", &store]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--store") && stderr.contains("PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("SENTINEL"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The forwarding queue is in the store: a report answered 200 whose forwarding failed goes out
/// after a SIGKILL and a restart, and two replicas on one store send each report once.
fn forwarding_survives_a_kill_and_happens_once_across_replicas(backend: &Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = format!("http://127.0.0.1:{closed}/hook");
    let first = Service::start(backend, &["--forward-reports-to", &nowhere]);
    let early = report_body(500, "9999", "accepted", "+905320000500");
    assert_eq!(first.report(&early).0, 200);
    // The attempt fails at once (connection refused) and is put off; then the kill.
    std::thread::sleep(Duration::from_millis(500));
    first.stop("-KILL");
    let other_app = Server::ok("{}");
    let target = other_app.url("/hook");
    let (one, two) = (
        Service::start(backend, &["--forward-reports-to", &target]),
        Service::start(backend, &["--forward-reports-to", &target]),
    );
    let mut expected = vec![early];
    for n in 0..6u64 {
        let body = report_body(600 + n, "9999", "delivered", "+905320000600");
        let replica = if n % 2 == 0 { &one } else { &two };
        assert_eq!(replica.report(&body).0, 200);
        expected.push(body);
    }
    let until = Instant::now() + Duration::from_secs(20);
    while other_app.received().len() < expected.len() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Time for a second copy to show up, if there were to be one.
    std::thread::sleep(Duration::from_millis(1500));
    let mut received: Vec<String> =
        other_app.received().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    received.sort();
    expected.sort();
    assert_eq!(received, expected, "{}\n{}", one.log(), two.log());
}
