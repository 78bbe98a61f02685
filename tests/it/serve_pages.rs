//! The pages of `onfail serve` a person opens (docs/serve-pages.md), black-box over HTTP against
//! the real binary on 127.0.0.1, on SQLite and PostgreSQL: the acknowledge link (GET shows,
//! only POST acknowledges, idempotent, unknown codes 404), the web page behind HTTP Basic, and
//! the security headers of every response. The same pages in a real browser: `browser`.

use std::time::{Duration, Instant};

use reqwest::blocking::Response;
use serde_json::{Value, json};

use onfail::serve::settings::StoreUrl;
use onfail::serve::store::{NewOrder, NewPage, Store};

use crate::common::service::{API_TOKEN, Backend, RECEIVE_TOKEN, Service, client};

crate::on_both_stores!(
    a_get_never_acknowledges_and_the_button_does_once,
    unknown_codes_are_an_html_404_and_post_changes_nothing,
    the_web_page_needs_the_api_token_as_basic_password,
    the_web_page_lists_pages_and_orders_newest_first_with_masked_numbers,
    every_response_carries_the_security_headers,
    the_button_ends_a_long_poll_at_once,
    each_page_shows_the_numbers_of_its_own_incident,
    a_link_older_than_seven_days_is_expired_and_acknowledges_nothing,
    a_phone_set_to_turkish_reads_the_link_in_turkish,
);

const NUMBER: &str = "905321234567";
const OTHER_NUMBER: &str = "905559876543";

/// An open page for `alert_id`, then (as a sender does: the SMS carries the link) an SMS order of
/// two numbers registered for the same alert.
pub fn open_page(service: &Service, alert_id: &str, title: &str) -> (String, String) {
    let (status, page) = service.api(
        "POST",
        "/v1/pages",
        Some(json!({"alert_id": alert_id, "title": title, "run_url": "https://ci.example/run/1"})),
    );
    assert_eq!(status, 201, "{page}");
    let order = json!({"order_id": format!("order-{alert_id}"), "alert_id": alert_id, "numbers": [NUMBER, OTHER_NUMBER], "run_url": "https://ci.example/run/1"});
    let (status, answer) = service.api("POST", "/v1/orders", Some(order));
    assert_eq!(status, 201, "{answer}");
    (page["page_id"].as_str().unwrap().to_string(), page["ack_url"].as_str().unwrap().to_string())
}

fn page_state(service: &Service, page_id: &str) -> Value {
    service.api("GET", &format!("/v1/pages/{page_id}"), None).1
}

fn send(method: &str, url: &str) -> (u16, Response) {
    let response = client().request(method.parse().unwrap(), url).send().unwrap();
    (response.status().as_u16(), response)
}

fn html_of(response: Response) -> String {
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(kind.as_deref(), Some("text/html; charset=utf-8"));
    response.text().unwrap()
}

/// Nothing secret on a page anyone with the link can open: no number, no token.
fn assert_reveals_nothing(html: &str) {
    for secret in [NUMBER, &NUMBER[2..], OTHER_NUMBER, &OTHER_NUMBER[2..], API_TOKEN, RECEIVE_TOKEN] {
        assert!(!html.contains(secret), "{secret} is on the page:\n{html}");
    }
}

fn a_get_never_acknowledges_and_the_button_does_once(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (page_id, ack_url) = open_page(&service, "deploy", "Deploy <b>failed</b> on main");
    // Link previewers fetch a link, sometimes several times, with GET and HEAD.
    for method in ["GET", "GET", "HEAD"] {
        let (status, response) = send(method, &ack_url);
        assert_eq!(status, 200);
        if method == "GET" {
            let html = html_of(response);
            assert!(html.contains("<h1>Deploy &lt;b&gt;failed&lt;/b&gt; on main</h1>"), "{html}");
            assert!(
                html.contains("<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>"),
                "{html}"
            );
            assert!(html.contains("Paged: 5*******67, 5*******43."), "{html}");
            assert_reveals_nothing(&html);
        }
    }
    assert_eq!(page_state(&service, &page_id)["acknowledged"], false, "a GET acknowledged the page");

    let (status, response) = send("POST", &ack_url);
    assert_eq!(status, 200);
    let html = html_of(response);
    assert!(html.contains("Thank you: acknowledged at ") && !html.contains("<button"), "{html}");
    assert_reveals_nothing(&html);
    let first = page_state(&service, &page_id);
    assert_eq!(first["acknowledged"], true, "{first}");
    let at = first["acknowledged_at"].as_str().unwrap().to_string();

    std::thread::sleep(Duration::from_millis(20));
    let (status, response) = send("POST", &ack_url);
    assert_eq!(status, 200, "a second press is fine");
    let shown_minute = &at[..16].replace('T', " ");
    assert!(html_of(response).contains(&format!("acknowledged at {shown_minute} UTC")));
    assert_eq!(page_state(&service, &page_id)["acknowledged_at"], at.as_str(), "the first time stays");
    let (_, response) = send("GET", &ack_url);
    let html = html_of(response);
    assert!(html.contains("Acknowledged at ") && !html.contains("<button"), "{html}");
    assert!(service.log().contains(&format!("page {page_id} acknowledged by its link")), "{}", service.log());
}

fn unknown_codes_are_an_html_404_and_post_changes_nothing(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (page_id, ack_url) = open_page(&service, "deploy", "Deploy failed");
    let code = ack_url.rsplit('/').next().unwrap();
    // One character off, a prefix, a page id (the API's handle is not a link), a long value.
    let mut wrong: Vec<String> = vec![format!("{}x", &code[..code.len() - 1]), code[..12].to_string(), page_id.clone()];
    wrong.push("A".repeat(5000));
    for code in &wrong {
        for method in ["GET", "POST"] {
            let (status, response) = send(method, &format!("{}/a/{code}", service.url));
            assert_eq!(status, 404, "{method} {code}");
            assert!(html_of(response).contains("No such link"));
        }
    }
    assert_eq!(page_state(&service, &page_id)["acknowledged"], false);
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn web_page(service: &Service, authorization: Option<&str>) -> (u16, Response) {
    let mut request = client().get(format!("{}/", service.url));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().unwrap();
    (response.status().as_u16(), response)
}

fn the_web_page_needs_the_api_token_as_basic_password(backend: &Backend) {
    let service = Service::start(backend, &[]);
    open_page(&service, "deploy", "Deploy failed");
    let bearer = format!("Bearer {API_TOKEN}");
    let wrong = [
        None,
        Some(basic("admin", "wrong-password-0000000")),
        Some(basic("admin", RECEIVE_TOKEN)),
        Some(basic(API_TOKEN, "")),
        Some(bearer),
        Some("Basic not-base64!".into()),
    ];
    for authorization in &wrong {
        let (status, response) = web_page(&service, authorization.as_deref());
        assert_eq!(status, 401, "{authorization:?}");
        let challenge = response.headers().get("www-authenticate").unwrap().to_str().unwrap().to_string();
        assert_eq!(challenge, "Basic realm=\"onfail\"");
        let html = html_of(response);
        assert!(!html.contains("Deploy failed"), "{html}");
    }
    for user in ["", "me", "on-call person"] {
        let (status, response) = web_page(&service, Some(&basic(user, API_TOKEN)));
        assert_eq!(status, 200, "user {user:?}");
        assert!(html_of(response).contains("Deploy failed"));
    }
}

fn the_web_page_lists_pages_and_orders_newest_first_with_masked_numbers(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (_, first_url) = open_page(&service, "nightly", "Nightly <script>alert(1)</script> failed");
    std::thread::sleep(Duration::from_millis(5));
    open_page(&service, "deploy", "Deploy failed");
    assert_eq!(send("POST", &first_url).0, 200);
    let report = json!({"report": {"id": 9, "packet_id": "order-deploy", "status": "delivered", "to": format!("+{NUMBER}"), "body": "x"}});
    assert_eq!(service.report(&report.to_string()).0, 200);

    let (status, response) = web_page(&service, Some(&basic("me", API_TOKEN)));
    assert_eq!(status, 200);
    let html = html_of(response);
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"), "{html}");
    assert!(html.contains("<meta name=\"viewport\""), "{html}");
    assert!(!html.contains("<script>") && html.contains("Nightly &lt;script&gt;alert(1)&lt;/script&gt; failed"));
    let (deploy, nightly) = (html.find("Deploy failed").unwrap(), html.find("Nightly").unwrap());
    assert!(deploy < nightly, "newest first:\n{html}");
    let acknowledged = html[nightly..].find("Acknowledged").unwrap() + nightly;
    assert!(acknowledged < html.find("<h2>Checks</h2>").unwrap(), "the nightly page shows acknowledged:\n{html}");
    assert!(html[..nightly].contains("Not acknowledged"), "the deploy page is open:\n{html}");
    assert!(html.contains("No checks configured."), "{html}");
    let orders = &html[html.find("<h2>SMS orders</h2>").unwrap()..];
    assert!(orders.find("Order order-deploy").unwrap() < orders.find("Order order-nightly").unwrap(), "{orders}");
    assert!(orders.contains("5*******67: <span class=\"state ok\">delivered</span>"), "{orders}");
    assert!(orders.contains("5*******43: <span class=\"state \">pending</span>"), "{orders}");
    assert_reveals_nothing(&html);
}

fn every_response_carries_the_security_headers(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (_, ack_url) = open_page(&service, "deploy", "Deploy failed");
    let base = &service.url;
    let requests = [
        ("GET", ack_url.clone()),
        ("POST", ack_url.clone()),
        ("GET", format!("{base}/a/unknown-code")),
        ("GET", format!("{base}/")),
        ("GET", format!("{base}/healthz")),
        ("GET", format!("{base}/v1/orders/none")),
        ("POST", format!("{base}/v1/iletimerkezi/reports?token=wrong")),
        ("GET", format!("{base}/no/such/path")),
        ("DELETE", format!("{base}/healthz")),
    ];
    for (method, url) in requests {
        let (status, response) = send(method, &url);
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
        let csp = header("content-security-policy").unwrap_or_else(|| panic!("{method} {url} ({status}): no CSP"));
        for part in ["default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'"] {
            assert!(csp.contains(part), "{method} {url}: {csp}");
        }
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{method} {url}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{method} {url}");
    }
}

fn the_button_ends_a_long_poll_at_once(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (page_id, ack_url) = open_page(&service, "deploy", "Deploy failed");
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let started = Instant::now();
            (service.api("GET", &format!("/v1/pages/{page_id}?wait=30"), None).1, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(send("GET", &ack_url).0, 200);
        assert_eq!(send("POST", &ack_url).0, 200);
        let (state, took) = waiting.join().unwrap();
        assert_eq!(state["acknowledged"], true, "{state}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    });
}

/// An alert id lives across incidents: the page of each shows the numbers of the orders that
/// followed it, not those of an earlier or later incident. Put in the store with past times.
fn each_page_shows_the_numbers_of_its_own_incident(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let hour = 3600 * 1000;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = open_store(backend).await;
        for (n, (at, number)) in [(now - 2 * hour, NUMBER), (now - hour, OTHER_NUMBER)].into_iter().enumerate() {
            let page = NewPage {
                page_id: format!("page-{n}"),
                code: format!("code-of-incident-{n}-000000"),
                alert_id: "nightly".into(),
                title: format!("Incident {n}"),
                run_url: String::new(),
                at,
            };
            store.open_page(page).await.unwrap();
            let order = NewOrder {
                order_id: format!("order-{n}"),
                alert_id: "nightly".into(),
                numbers: vec![number.into()],
                run_url: String::new(),
                at: at + 2_000,
            };
            store.register_order(order).await.unwrap();
        }
    });
    for (n, shown) in [(0, "Paged: 5*******67."), (1, "Paged: 5*******43.")] {
        let (status, response) = send("GET", &format!("{}/a/code-of-incident-{n}-000000", service.url));
        assert_eq!(status, 200);
        let html = html_of(response);
        assert!(html.contains(shown), "incident {n}: {html}");
    }
}

/// The service's store, opened in the test as a second replica would: pages with past times go
/// in directly.
async fn open_store(backend: &Backend) -> Store {
    let url = match backend.store.strip_prefix("sqlite://") {
        Some(path) => StoreUrl::Sqlite(path.into()),
        None => StoreUrl::Postgres(backend.store.clone()),
    };
    Store::open(&url, &Default::default()).await.unwrap()
}

fn a_link_older_than_seven_days_is_expired_and_acknowledges_nothing(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let week = 7 * 24 * 3600 * 1000;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = open_store(backend).await;
        for (code, at) in
            [("code-a-week-and-a-minute-old", now - week - 60_000), ("code-six-days-old", now - week / 7 * 6)]
        {
            let page = NewPage {
                page_id: format!("page-{code}"),
                code: code.into(),
                alert_id: "nightly".into(),
                title: "Nightly backup failed".into(),
                run_url: String::new(),
                at,
            };
            store.open_page(page).await.unwrap();
        }
    });
    let old = format!("{}/a/code-a-week-and-a-minute-old", service.url);
    for method in ["GET", "POST", "POST"] {
        let (status, response) = send(method, &old);
        assert_eq!(status, 410, "{method}");
        let html = html_of(response);
        assert!(html.contains("This link has expired") && !html.contains("Nightly"), "{html}");
    }
    assert_eq!(page_state(&service, "page-code-a-week-and-a-minute-old")["acknowledged"], false);
    assert_eq!(send("POST", &format!("{}/a/code-six-days-old", service.url)).0, 200);
    assert_eq!(page_state(&service, "page-code-six-days-old")["acknowledged"], true);
}

/// The link is opened from a Turkish SMS: a browser that prefers Turkish reads the page, the
/// button and the answer in Turkish; the same link in an English browser reads English.
fn a_phone_set_to_turkish_reads_the_link_in_turkish(backend: &Backend) {
    let service = Service::start(backend, &[]);
    let (page_id, ack_url) = open_page(&service, "deploy-tr", "Deploy failed on main");
    let in_language = |method: &str, url: &str, language: &str| {
        let response =
            client().request(method.parse().unwrap(), url).header("Accept-Language", language).send().unwrap();
        assert_eq!(
            response.headers().get("vary").map(|v| v.to_str().unwrap().to_string()).as_deref(),
            Some("accept-language")
        );
        (response.status().as_u16(), html_of(response))
    };
    let (status, html) = in_language("GET", &ack_url, "tr-TR,tr;q=0.9,en;q=0.5");
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"tr\">") && html.contains(">Onayla</button>"), "{html}");
    assert_eq!(page_state(&service, &page_id)["acknowledged"], false);
    let (status, html) = in_language("POST", &ack_url, "tr");
    assert_eq!(status, 200);
    assert!(html.contains("Teşekkürler: onaylandı,"), "{html}");
    assert_reveals_nothing(&html);
    let (_, html) = in_language("GET", &ack_url, "en-US,en;q=0.9");
    assert!(html.contains("<html lang=\"en\">") && html.contains("Acknowledged at"), "{html}");
    let (status, html) = in_language("GET", &format!("{ack_url}x"), "tr");
    assert_eq!(status, 404);
    assert!(html.contains("Böyle bir bağlantı yok"), "{html}");
}
