//! The pages a person reads (docs/serve-pages.md): the acknowledge page of a link and the web
//! page of what was sent. Pure rendering, no I/O: plain `format!` with every value passed
//! through [`escape`] (a title comes from a commit message and can hold `<script>`), one small
//! inline stylesheet, nothing loaded from elsewhere, no JavaScript, a viewport for phones.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use super::ack_words::AckWords;
use super::store::{Order, Page};
use crate::phone::mask_digits;

/// A page's link acknowledges for this long after the page was opened; then it is expired.
pub const LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The web page reloads itself this often (seconds).
const REFRESH: u32 = 30;

/// The pages' one stylesheet; the Content-Security-Policy allows it by its hash.
pub const STYLE: &str = "body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;\
max-width:46rem;padding:1rem;color:#1b1b1b;background:#fafafa}\
h1{font-size:1.4rem;margin:.2rem 0 .8rem;overflow-wrap:anywhere}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}\
p{margin:.4rem 0}.muted{color:#5c5c5c;font-size:.9rem}\
ul{list-style:none;padding:0;margin:0}li{background:#fff;border:1px solid #ddd;border-radius:6px;\
padding:.6rem .8rem;margin:.4rem 0;overflow-wrap:anywhere}\
.state{font-weight:600}.ok{color:#17692b}.open{color:#a33}.expired{color:#666}\
button{font:inherit;font-weight:600;font-size:1.15rem;width:100%;max-width:22rem;padding:.9rem;margin:1rem 0;\
border:0;border-radius:8px;background:#b3261e;color:#fff}\
.done{background:#e7f4ea;border:1px solid #9cc9a6;border-radius:8px;padding:.8rem;margin:1rem 0}\
a{color:#0b57d0}";

/// `text` safe inside HTML text and double- or single-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole English document; `head_extra` is markup of this module's own, never input.
fn document(title: &str, head_extra: &str, body: &str) -> String {
    document_in("en", title, head_extra, body)
}

fn document_in(lang: &str, title: &str, head_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">{head_extra}<title>{}</title><style>{STYLE}</style></head>\
         <body>{body}</body></html>\n",
        escape(title)
    )
}

/// `2026-12-03 20:14 UTC`.
fn when(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    let text = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} UTC", text.get(..16).unwrap_or(&text).replace('T', " "))
}

/// `5 min ago`, coarse: a person at 3 a.m. wants the order of magnitude.
fn ago(ms: i64, now: i64) -> String {
    let seconds = (now - ms).max(0) / 1000;
    match seconds {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86400),
    }
}

fn when_ago(ms: i64, now: i64) -> String {
    format!("{} ({})", when(ms), ago(ms, now))
}

/// A stored number (`905321234567`) as it may be shown: `5*******67`.
pub fn masked_number(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let national = digits.get(digits.len().saturating_sub(10)..).unwrap_or(&digits);
    mask_digits(national)
}

/// Whether the page's link no longer acknowledges at `now`.
pub fn expired(page: &Page, now: i64) -> bool {
    page.created_at < opened_since(now)
}

/// The oldest opening time whose link still acknowledges at `now`.
pub fn opened_since(now: i64) -> i64 {
    now - LINK_LIFETIME.as_millis() as i64
}

fn title_of(page: &Page) -> &str {
    if page.title.trim().is_empty() { "An alert" } else { page.title.trim() }
}

/// `GET /a/{code}` and the answer to its `POST`, in `words`' language. `numbers` are the numbers
/// the alert's SMS orders went to (shown masked); `just_acknowledged` is true on the answer to
/// the button.
pub fn ack_page(page: &Page, numbers: &[String], now: i64, just_acknowledged: bool, words: &AckWords) -> String {
    let when_ago = |ms: i64| format!("{} ({})", when(ms), (words.ago)((now - ms).max(0) / 1000));
    let mut body = format!(
        "<p class=\"muted\">{}</p><h1>{}</h1><p>{}: {}.</p>",
        words.label,
        escape(title_of(page)),
        words.sent,
        escape(&when_ago(page.created_at))
    );
    if !numbers.is_empty() {
        let shown: Vec<String> = numbers.iter().map(|n| masked_number(n)).collect();
        let _ = write!(body, "<p>{}: {}.</p>", words.paged, escape(&shown.join(", ")));
    }
    match page.acknowledged_at {
        Some(at) => {
            let lead = if just_acknowledged { words.thanks } else { words.acknowledged };
            let _ = write!(
                body,
                "<div class=\"done\" role=\"status\"><p class=\"state ok\">{lead} {}.</p>\
                 <p class=\"muted\">{}</p></div>",
                escape(&when_ago(at)),
                words.stops
            );
        }
        None => {
            let _ = write!(
                body,
                "<form method=\"post\"><button type=\"submit\">{}</button></form><p class=\"muted\">{}</p>",
                words.button, words.button_note
            );
        }
    }
    document_in(words.lang, &format!("{}: {}", words.title, title_of(page)), "", &body)
}

/// The answer to a link whose page is older than [`LINK_LIFETIME`]: it says nothing of the page.
pub fn expired_page(words: &AckWords) -> String {
    let body = format!("<h1>{}</h1><p>{}</p>", words.expired_title, words.expired_text);
    document_in(words.lang, words.expired_title, "", &body)
}

pub fn not_found_page(words: &AckWords) -> String {
    let body = format!("<h1>{}</h1><p>{}</p>", words.not_found_title, words.not_found_text);
    document_in(words.lang, words.not_found_title, "", &body)
}

pub fn unavailable_page(words: &AckWords) -> String {
    let body = format!("<h1>{}</h1><p>{}</p>", words.unavailable_title, words.unavailable_text);
    document_in(words.lang, words.unavailable_title, "", &body)
}

pub fn unauthorized_page() -> String {
    document("Sign in", "", "<h1>Sign in</h1><p>User name: anything. Password: the service's API token.</p>")
}

/// A check as the web page shows it.
pub struct CheckLine {
    pub name: String,
    pub state: String,
    pub next_due: Option<i64>,
}

/// A watched GitHub workflow as the web page shows it.
pub struct WatchLine {
    pub name: String,
    pub state: String,
    pub schedule: String,
    /// When the newest scheduled run was created, and `#12 success`.
    pub last_run: Option<(i64, String)>,
    pub next_due: Option<i64>,
    /// The last API warning and when.
    pub warning: Option<(i64, String)>,
    /// Whether the API answered since that warning.
    pub answered_since: bool,
}

fn watch_lines(body: &mut String, watches: &[WatchLine], now: i64) {
    if watches.is_empty() {
        return;
    }
    body.push_str("<h2>GitHub workflows</h2><ul>");
    for watch in watches {
        let _ = write!(
            body,
            "<li><strong>{}</strong>: <span class=\"state\">{}</span><br><span class=\"muted\">Schedule {}",
            escape(&watch.name),
            escape(&watch.state),
            escape(&watch.schedule)
        );
        if let Some(at) = watch.next_due {
            let _ = write!(body, ", next due {}", escape(&when(at)));
        }
        match &watch.last_run {
            Some((at, what)) => {
                let _ = write!(body, "; last scheduled run {} {}", escape(what), escape(&when_ago(*at, now)));
            }
            None => body.push_str("; no scheduled run seen"),
        }
        body.push_str("</span>");
        if let Some((at, warning)) = &watch.warning {
            let (class, lead) = if watch.answered_since {
                ("muted", "Last GitHub API warning")
            } else {
                ("open", "GitHub API warning")
            };
            let _ = write!(
                body,
                "<br><span class=\"{class}\">{lead} {}: {}</span>",
                escape(&when_ago(*at, now)),
                escape(warning)
            );
        }
        body.push_str("</li>");
    }
    body.push_str("</ul>");
}

/// `GET /`: pages, checks, watches and SMS orders, newest first.
pub fn web_page(pages: &[Page], checks: &[CheckLine], watches: &[WatchLine], orders: &[Order], now: i64) -> String {
    let mut body = format!(
        "<h1>onfail serve</h1><p class=\"muted\">As of {}; this page reloads every {REFRESH} s.</p>",
        escape(&when(now))
    );
    body.push_str("<h2>Pages</h2>");
    if pages.is_empty() {
        body.push_str("<p class=\"muted\">No pages yet.</p>");
    } else {
        body.push_str("<ul>");
        for page in pages {
            let state = match page.acknowledged_at {
                Some(at) => format!("<span class=\"state ok\">Acknowledged</span> {}", escape(&when_ago(at, now))),
                None if expired(page, now) => {
                    "<span class=\"state expired\">Not acknowledged (link expired)</span>".into()
                }
                None => "<span class=\"state open\">Not acknowledged</span>".into(),
            };
            let _ = write!(
                body,
                "<li><strong>{}</strong><br><span class=\"muted\">Sent {}{}</span><br>{state}{}</li>",
                escape(title_of(page)),
                escape(&when_ago(page.created_at, now)),
                alert_label(&page.alert_id),
                run_link(&page.run_url),
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Checks</h2>");
    if checks.is_empty() {
        body.push_str("<p class=\"muted\">No checks configured.</p>");
    } else {
        body.push_str("<ul>");
        for check in checks {
            let due = check.next_due.map(|at| format!(", next due {}", escape(&when(at)))).unwrap_or_default();
            let _ = write!(
                body,
                "<li><strong>{}</strong>: <span class=\"state\">{}</span>{due}</li>",
                escape(&check.name),
                escape(&check.state)
            );
        }
        body.push_str("</ul>");
    }
    watch_lines(&mut body, watches, now);
    body.push_str("<h2>SMS orders</h2>");
    if orders.is_empty() {
        body.push_str("<p class=\"muted\">No SMS orders yet.</p>");
    } else {
        body.push_str("<ul>");
        for order in orders {
            let _ = write!(
                body,
                "<li><strong>Order {}</strong><br><span class=\"muted\">Sent {}{}</span>",
                escape(&order.order_id),
                escape(&when_ago(order.created_at, now)),
                alert_label(&order.alert_id)
            );
            for recipient in order.recipients() {
                let class = match recipient.status {
                    "delivered" => "ok",
                    "undelivered" => "open",
                    _ => "",
                };
                let at = recipient.at.map(|at| format!(" {}", escape(&when_ago(at, now)))).unwrap_or_default();
                let _ = write!(
                    body,
                    "<br>{}: <span class=\"state {class}\">{}</span>{at}",
                    escape(&masked_number(&recipient.to)),
                    recipient.status
                );
            }
            body.push_str("</li>");
        }
        body.push_str("</ul>");
    }
    let refresh = format!("<meta http-equiv=\"refresh\" content=\"{REFRESH}\">");
    document("onfail serve", &refresh, &body)
}

fn alert_label(alert_id: &str) -> String {
    if alert_id.is_empty() { String::new() } else { format!(" · alert {}", escape(alert_id)) }
}

/// A link to the run, only for http(s) URLs (a `javascript:` URL is shown as nothing).
fn run_link(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<br><a href=\"{}\" rel=\"noreferrer\">The run</a>", escape(url))
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ack_words::{ENGLISH, TURKISH};
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn page(title: &str, created_at: i64, acknowledged_at: Option<i64>) -> Page {
        Page {
            page_id: "p1".into(),
            code: "CODE-SENTINEL".into(),
            alert_id: "deploy".into(),
            title: title.into(),
            run_url: "javascript:alert(1)".into(),
            created_at,
            acknowledged_at,
        }
    }

    #[test]
    fn values_are_escaped_everywhere() {
        let evil = "<script>alert('x')</script> & \"quoted\"";
        let mut p = page(evil, NOW - 60_000, None);
        p.alert_id = evil.into();
        let order = Order {
            order_id: evil.into(),
            alert_id: evil.into(),
            created_at: NOW,
            numbers: vec!["905321234567".into()],
            reports: vec![],
        };
        let check = CheckLine { name: evil.into(), state: evil.into(), next_due: None };
        let watch = WatchLine {
            name: evil.into(),
            state: evil.into(),
            schedule: evil.into(),
            last_run: Some((NOW, evil.into())),
            next_due: None,
            warning: Some((NOW, evil.into())),
            answered_since: false,
        };
        for html in [ack_page(&p, &[], NOW, false, &ENGLISH), web_page(&[p.clone()], &[check], &[watch], &[order], NOW)]
        {
            assert!(!html.contains("<script>"), "{html}");
            assert!(
                html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"),
                "{html}"
            );
            assert!(!html.contains("javascript:"), "a run URL that is not http(s) is not a link: {html}");
        }
    }

    #[test]
    fn the_ack_page_has_a_button_until_acknowledged_and_never_the_code() {
        let open =
            ack_page(&page("Deploy failed", NOW - 120_000, None), &["905321234567".into()], NOW, false, &ENGLISH);
        assert!(open.contains("<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>"));
        assert!(open.contains("Paged: 5*******67."), "{open}");
        assert!(!open.contains("5321234567") && !open.contains("CODE-SENTINEL"), "{open}");
        let done = ack_page(&page("Deploy failed", NOW - 120_000, Some(NOW - 60_000)), &[], NOW, true, &ENGLISH);
        assert!(!done.contains("<button"), "{done}");
        assert!(done.contains("acknowledged at 2027-01-15 07:59 UTC (1 min ago)"), "{done}");
    }

    #[test]
    fn a_turkish_browser_reads_the_ack_page_in_turkish() {
        let open = ack_page(&page("Deploy failed", NOW - 120_000, None), &[], NOW, false, &TURKISH);
        assert!(open.contains("<html lang=\"tr\">"), "{open}");
        assert!(open.contains("<button type=\"submit\">Onayla</button>"), "{open}");
        assert!(open.contains("Gönderildi: 2027-01-15 07:58 UTC (2 dk önce)."), "{open}");
        let done = ack_page(&page("Deploy failed", NOW - 120_000, Some(NOW - 60_000)), &[], NOW, true, &TURKISH);
        assert!(done.contains("Teşekkürler: onaylandı, 2027-01-15 07:59 UTC (1 dk önce)."), "{done}");
        assert!(expired_page(&TURKISH).contains("süresi doldu") && not_found_page(&TURKISH).contains("lang=\"tr\""));
    }

    #[test]
    fn links_expire_after_seven_days() {
        let seven_days = LINK_LIFETIME.as_millis() as i64;
        assert!(!expired(&page("t", NOW - seven_days, None), NOW));
        assert!(expired(&page("t", NOW - seven_days - 1, None), NOW));
    }

    #[test]
    fn the_web_page_refreshes_and_masks_numbers() {
        let order = Order {
            order_id: "42".into(),
            alert_id: String::new(),
            created_at: NOW,
            numbers: vec!["905321234567".into()],
            reports: vec![],
        };
        let html = web_page(&[], &[], &[], &[order], NOW);
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"), "{html}");
        assert!(html.contains("5*******67: <span class=\"state \">pending</span>"), "{html}");
        assert!(!html.contains("5321234567"), "{html}");
        assert!(html.contains("No checks configured."), "{html}");
    }
}
