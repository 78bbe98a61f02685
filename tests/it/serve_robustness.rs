//! Bad input never stops `onfail serve` (docs/service.md, "onfail serve"): garbage, wrong methods,
//! unknown paths, huge headers, slow and half-open connections and many connections are each
//! answered or dropped, and the requests of everyone else go on being answered meanwhile. Raw
//! TCP, so nothing in a client library tidies the bytes up. And the report parser, fuzzed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Value, json};

use crate::common::service::{Backend, RECEIVE_TOKEN, Service, client};

fn address(service: &Service) -> String {
    service.url.trim_start_matches("http://").to_string()
}

/// Writes `bytes`, then reads until the server closes or 15 s pass: the answer's status line
/// ("" when the connection closed without one).
fn exchange(service: &Service, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(address(service)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
}

/// `/healthz` answers, and fast.
fn assert_healthy(service: &Service) {
    let started = Instant::now();
    let response = client().get(format!("{}/healthz", service.url)).send().unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "/healthz took {:?}", started.elapsed());
}

#[test]
fn garbage_wrong_methods_unknown_paths_and_huge_headers_are_answered() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let close = "Connection: close\r\n\r\n";
    for (request, expected) in [
        (format!("DELETE /healthz HTTP/1.1\r\nHost: x\r\n{close}"), "HTTP/1.1 405"),
        (format!("GET /v1/iletimerkezi/reports HTTP/1.1\r\nHost: x\r\n{close}"), "HTTP/1.1 405"),
        (format!("PATCH /v1/orders HTTP/1.1\r\nHost: x\r\n{close}"), "HTTP/1.1 405"),
        (format!("GET /nowhere HTTP/1.1\r\nHost: x\r\n{close}"), "HTTP/1.1 404"),
        (format!("GET /v1/orders/1/2/3 HTTP/1.1\r\nHost: x\r\n{close}"), "HTTP/1.1 404"),
        (format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n{close}", "a".repeat(20 * 1024)), "HTTP/1.1 431"),
        (format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{}{close}", "X-Many: 1\r\n".repeat(500)), "HTTP/1.1 431"),
        // Content-Length over the limit: refused before a byte of the body is read.
        (
            format!(
                "POST /v1/iletimerkezi/reports?token={RECEIVE_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n{close}"
            ),
            "HTTP/1.1 413",
        ),
        // Chunked, without a length, and still over the limit: five chunks of 16 KiB.
        (
            format!(
                "POST /v1/iletimerkezi/reports?token={RECEIVE_TOKEN} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\
                 Connection: close\r\n\r\n{}0\r\n\r\n",
                format!("4000\r\n{}\r\n", "x".repeat(0x4000)).repeat(5)
            ),
            "HTTP/1.1 413",
        ),
    ] {
        let answer = exchange(&service, request.as_bytes());
        assert!(answer.starts_with(expected), "{}...: {answer:?}", &request[..40.min(request.len())]);
    }
    for garbage in
        [&b"\x00\x01\x02\xff\xfe garbage\r\n\r\n"[..], b"GET\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"\r\n\r\n\r\n"]
    {
        let answer = exchange(&service, garbage);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{garbage:?}: {answer:?}");
    }
    assert_healthy(&service);
}

#[test]
fn slow_and_half_open_connections_are_dropped_without_delaying_others() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let open = |bytes: &[u8]| {
        let mut stream = TcpStream::connect(address(&service)).unwrap();
        stream.write_all(bytes).unwrap();
        stream
    };
    // Connected and silent; headers that stop half-way; a body that stops half-way.
    let silent: Vec<TcpStream> = (0..100).map(|_| open(b"")).collect();
    let half_headers: Vec<TcpStream> = (0..50).map(|_| open(b"POST /v1/orders HTTP/1.1\r\nHost: x\r\n")).collect();
    let head = format!(
        "POST /v1/iletimerkezi/reports?token={RECEIVE_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{{\"report\""
    );
    let half_bodies: Vec<TcpStream> = (0..50).map(|_| open(head.as_bytes())).collect();
    // Everyone else is answered meanwhile.
    for n in 0..20 {
        assert_healthy(&service);
        assert_eq!(service.report_of(n, "1", "accepted", "+905320000001").0, 200);
    }
    // Then the slow ones are dropped: the headers' and the body's timeouts are 10 s.
    let started = Instant::now();
    let dropped = |stream: &TcpStream| {
        let mut stream = stream.try_clone().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
    };
    for stream in &half_headers {
        let answer = dropped(stream);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    }
    for stream in &half_bodies {
        assert!(dropped(stream).starts_with("HTTP/1.1 408"));
    }
    for stream in &silent {
        let answer = dropped(stream);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert_healthy(&service);
}

/// The open-file limit of this process (the service inherits it), from the shell.
fn open_file_limit() -> usize {
    let output = std::process::Command::new("sh").args(["-c", "ulimit -n"]).output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap_or(usize::MAX)
}

#[test]
fn a_thousand_connections_at_once_are_all_answered() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    // A thousand where the limit allows (some systems default to 256 open files).
    let connections = 1000.min(open_file_limit().saturating_sub(64));
    let mut streams: Vec<TcpStream> =
        (0..connections).map(|_| TcpStream::connect(address(&service)).unwrap()).collect();
    for (n, stream) in streams.iter_mut().enumerate() {
        let body = crate::common::service::report_body(n as u64, "5", "accepted", "+905320000001");
        let request = format!(
            "POST /v1/iletimerkezi/reports?token={RECEIVE_TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
    }
    for stream in &mut streams {
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        assert!(answer.ends_with(r#"{"received":true}"#), "{answer:?}");
    }
    assert_healthy(&service);
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,30}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("id".to_string()), Just("report".to_string()), "[a-z_]{1,8}".prop_map(String::from)],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// What the parser must accept: an object `report` whose `id` is a number or a non-empty
/// string of at most 200 bytes.
fn is_a_report(value: &Value) -> bool {
    match value.get("report").filter(|r| r.is_object()).and_then(|r| r.get("id")) {
        Some(Value::Number(_)) => true,
        Some(Value::String(id)) => !id.trim().is_empty() && id.trim().len() <= 200,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_report_parser_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let parsed = onfail::serve::report::parse(&bytes);
        if let Ok(report) = parsed {
            prop_assert!(!report.id.is_empty());
        }
    }

    #[test]
    fn the_report_parser_takes_any_json(report in json_value(), wrapped in any::<bool>()) {
        let value = if wrapped { json!({ "report": report }) } else { report };
        let parsed = onfail::serve::report::parse(value.to_string().as_bytes());
        prop_assert_eq!(parsed.is_ok(), is_a_report(&value), "{}", value);
    }
}

/// The same shapes over HTTP: every answer is 200 or 400, and the service stays up.
#[test]
fn random_bodies_are_answered_200_or_400() {
    let backend = Backend::sqlite();
    let service = Service::start(&backend, &[]);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (json_value(), any::<bool>());
    for _ in 0..300 {
        let (report, wrapped) = strategy.new_tree(&mut runner).unwrap().current();
        let value = if wrapped { json!({ "report": report }) } else { report };
        let (status, _) = service.report(&value.to_string());
        let expected = if is_a_report(&value) { 200 } else { 400 };
        assert_eq!(status, expected, "{value}");
    }
    assert_healthy(&service);
}
