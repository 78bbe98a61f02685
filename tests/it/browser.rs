//! The service's pages in a real browser (docs/serve-pages.md): headless Chromium opens the
//! acknowledge link and the web page served by the real `onfail serve` on 127.0.0.1, in a
//! phone-sized viewport, presses the button with the mouse, and the test checks what the page
//! says, what the store says, what was loaded, and the screenshots' size. `.ci/run` installs
//! Chromium; without it these tests fail under CI and are skipped (loudly) elsewhere.
//!
//! `ONFAIL_TEST_SCREENSHOTS=DIR` keeps the screenshots there (how the ones in docs/ were made).

use serde_json::json;

use crate::common::chromium::{Browser, png_size};
use crate::common::service::{API_TOKEN, Backend, Service};
use crate::serve_pages::open_page;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 800);

/// Checks a screenshot's size and that it shows something (a blank viewport compresses to
/// almost nothing); keeps it when asked and it has a name.
fn check_screenshot(png: &[u8], size: (u32, u32), name: &str) {
    assert_eq!(png_size(png), size, "{name} {size:?}");
    assert!(png.len() > 6_000, "{name}: {} bytes, a blank page?", png.len());
    if let Some(dir) = std::env::var_os("ONFAIL_TEST_SCREENSHOTS").filter(|_| !name.is_empty()) {
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

fn assert_loaded_only_from(requested: &[String], service: &Service) {
    assert!(!requested.is_empty());
    for url in requested {
        assert!(url.starts_with(&service.url), "the page loaded {url} from elsewhere");
    }
}

#[test]
fn the_ack_page_on_a_phone_acknowledges_with_its_button_only() {
    let Some(mut browser) = Browser::launch() else { return };
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let (page_id, ack_url) = open_page(&service, "deploy", "Deploy to production failed on main (a1b2c3d)");
    let state = |service: &Service| service.api("GET", &format!("/v1/pages/{page_id}"), None).1;

    let tab = browser.tab(PHONE.0, PHONE.1, true);
    browser.open(&tab, &ack_url);
    let text = browser.text(&tab);
    assert!(text.contains("Deploy to production failed on main (a1b2c3d)"), "{text}\n{}", service.log());
    assert!(text.contains("Paged: 5*******67, 5*******43."), "{text}");
    assert_eq!(browser.evaluate(&tab, "document.querySelector('button').innerText"), "Acknowledge");
    // The stylesheet applies under the Content-Security-Policy (allowed by its hash).
    let background = browser.evaluate(&tab, "getComputedStyle(document.querySelector('button')).backgroundColor");
    assert_eq!(background, "rgb(179, 38, 30)");
    assert_eq!(state(&service)["acknowledged"], false, "opening the link acknowledged: {text}");
    let requested = browser.requested(&tab);
    assert_loaded_only_from(&requested, &service);
    check_screenshot(&browser.screenshot(&tab), PHONE, "serve-ack-page.png");

    browser.press(&tab, "button");
    let text = browser.text(&tab);
    assert!(text.contains("Thank you: acknowledged at"), "{text}");
    assert_eq!(browser.evaluate(&tab, "document.querySelectorAll('button').length"), 0);
    let acknowledged = state(&service);
    assert_eq!(acknowledged["acknowledged"], true, "{acknowledged}");
    let requested = browser.requested(&tab);
    assert!(requested.contains(&ack_url), "the button posts to the link itself: {requested:?}");
    assert_loaded_only_from(&requested, &service);
    check_screenshot(&browser.screenshot(&tab), PHONE, "serve-ack-page-acknowledged.png");

    // Opened again later (a reload, a preview): still acknowledged, at the first time.
    browser.open(&tab, &ack_url);
    assert!(browser.text(&tab).contains("Acknowledged at"));
    assert_eq!(state(&service)["acknowledged_at"], acknowledged["acknowledged_at"]);
}

#[test]
fn the_web_page_reads_on_a_phone_and_a_desktop() {
    let Some(mut browser) = Browser::launch() else { return };
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let (_, nightly) = open_page(&service, "nightly", "Nightly backup failed");
    open_page(&service, "deploy", "Deploy to production failed on main (a1b2c3d)");
    let report = json!({"report": {"id": 1, "packet_id": "order-deploy", "status": "delivered", "to": "+905321234567", "body": "x"}});
    assert_eq!(service.report(&report.to_string()).0, 200);
    let tab = browser.tab(PHONE.0, PHONE.1, true);
    browser.open(&tab, &nightly);
    browser.press(&tab, "button");

    use base64::Engine;
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("on-call:{API_TOKEN}"));
    for (size, mobile, name) in [(PHONE, true, "serve-web-page.png"), (DESKTOP, false, "")] {
        let tab = browser.tab(size.0, size.1, mobile);
        browser.headers(&tab, json!({"Authorization": format!("Basic {credentials}")}));
        browser.open(&tab, &format!("{}/", service.url));
        let text = browser.text(&tab);
        for expected in [
            "Deploy to production failed on main (a1b2c3d)",
            "Not acknowledged",
            "Nightly backup failed",
            "Acknowledged",
            "No checks configured.",
            "Order order-deploy",
            "5*******67: delivered",
            "5*******43: pending",
        ] {
            assert!(text.contains(expected), "{expected:?} is not on the page:\n{text}");
        }
        assert!(!text.contains("5321234567"), "{text}");
        let refresh = browser.evaluate(&tab, "document.querySelector('meta[http-equiv=refresh]').content");
        assert_eq!(refresh, "30");
        // Readable on a phone: nothing wider than the viewport.
        let width = browser.evaluate(&tab, "document.documentElement.scrollWidth").as_u64().unwrap();
        assert!(width <= u64::from(size.0), "the page is {width} px wide in a {size:?} viewport");
        let requested = browser.requested(&tab);
        assert_loaded_only_from(&requested, &service);
        check_screenshot(&browser.screenshot(&tab), size, name);
    }
}
