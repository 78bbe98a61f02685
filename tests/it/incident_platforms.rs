//! PagerDuty, incident.io and Grafana IRM, end to end: the binary runs as a process against fake
//! platforms on 127.0.0.1 that check every documented field (`docs/providers.md`) and answer as
//! the real ones do, refusing what the real ones would refuse. Every run is scanned for the
//! routing key, the token and the URL token (see `common::run`).

use std::time::Duration;

use crate::common::{
    GRAFANA_TOKEN, INCIDENTIO_TOKEN, PAGERDUTY_KEY, Received, Reply, Server, github_env, onfail, read, run,
};
use serde_json::{Value, json};

/// `printf 'acme/api\0Deploy\0build\0main' | sha256sum | cut -c1-16`, for `common::github_env`.
const GITHUB_ID: &str = "onfail-9439583697af4dc7";

const PAGERDUTY_PATH: &str = "/v2/enqueue";
const INCIDENTIO_PATH: &str = "/v2/alert_events/http/01HSOURCE";

fn grafana_path() -> String {
    format!("/integrations/v1/formatted_webhook/{GRAFANA_TOKEN}/")
}

/// The value at a dotted path: `field(&body, "payload.summary")`.
fn field<'a>(body: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(body, |value, key| &value[key])
}

fn text(body: &Value, path: &str, max: usize, problems: &mut Vec<String>) -> String {
    match field(body, path).as_str() {
        Some(s) if !s.trim().is_empty() && s.chars().count() <= max => s.to_string(),
        Some(s) if s.trim().is_empty() => {
            problems.push(format!("'{path}' is missing or blank"));
            String::new()
        }
        Some(_) => {
            problems.push(format!("'{path}' is longer than {max} characters"));
            String::new()
        }
        None => {
            problems.push(format!("'{path}' is missing or not a string"));
            String::new()
        }
    }
}

fn one_of(body: &Value, path: &str, allowed: &[&str], problems: &mut Vec<String>) {
    let value = field(body, path);
    if !value.as_str().is_some_and(|v| allowed.contains(&v)) {
        problems.push(format!("'{path}' must be one of {allowed:?}, got {value}"));
    }
}

/// PagerDuty Events API v2: 202 for a valid event, 400 with its error format otherwise.
fn fake_pagerduty(request: &Received) -> Reply {
    let mut problems = Vec::new();
    if request.path != PAGERDUTY_PATH || request.method != "POST" {
        return Reply::status(404);
    }
    if request.header("Authorization").is_some() {
        problems.push("no Authorization header belongs on the Events API".to_string());
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    if text(&body, "routing_key", 32, &mut problems).chars().count() != 32 {
        problems.push("Length of 'routing_key' is incorrect (should be 32 characters)".into());
    }
    one_of(&body, "event_action", &["trigger", "acknowledge", "resolve"], &mut problems);
    let dedup_key = text(&body, "dedup_key", 255, &mut problems);
    if body["event_action"] == "trigger" {
        text(&body, "payload.summary", 1024, &mut problems);
        text(&body, "payload.source", usize::MAX, &mut problems);
        one_of(&body, "payload.severity", &["critical", "error", "warning", "info"], &mut problems);
        if !body["payload"]["custom_details"].is_object() {
            problems.push("'payload.custom_details' is not an object".into());
        }
        for link in body["links"].as_array().into_iter().flatten() {
            if !link["href"].is_string() || !link["text"].is_string() {
                problems.push(format!("a link needs href and text: {link}"));
            }
        }
    }
    if problems.is_empty() {
        let answer = json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key});
        Reply::json(202, &answer.to_string())
    } else {
        let answer = json!({"status": "invalid event", "message": "Event object is invalid", "errors": problems});
        Reply::json(400, &answer.to_string())
    }
}

/// incident.io HTTP alert source: the bearer token, then the fields; 202 or 401 / 422.
fn fake_incidentio(request: &Received) -> Reply {
    if request.path != INCIDENTIO_PATH {
        return Reply::json(404, r#"{"type":"not_found","status":404,"errors":[{"code":"not_found"}]}"#);
    }
    if request.header("Authorization") != Some(&format!("Bearer {INCIDENTIO_TOKEN}")) {
        return Reply::json(
            401,
            r#"{"type":"authentication_error","status":401,"errors":[{"code":"unauthenticated","message":"Invalid API key"}]}"#,
        );
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let mut problems = Vec::new();
    one_of(&body, "status", &["firing", "resolved"], &mut problems);
    text(&body, "title", usize::MAX, &mut problems);
    let key = text(&body, "deduplication_key", usize::MAX, &mut problems);
    for optional in ["description", "source_url"] {
        if !body[optional].is_null() && !body[optional].is_string() {
            problems.push(format!("'{optional}' is not a string"));
        }
    }
    if !body["metadata"].is_null() && !body["metadata"].is_object() {
        problems.push("'metadata' is not an object".into());
    }
    if problems.is_empty() {
        let answer = json!({"deduplication_key": key, "message": "Event accepted for processing", "status": "success"});
        Reply::json(202, &answer.to_string())
    } else {
        let errors: Vec<Value> = problems.iter().map(|p| json!({"code": "invalid", "message": p})).collect();
        Reply::json(422, &json!({"type": "validation_error", "status": 422, "errors": errors}).to_string())
    }
}

/// Grafana IRM formatted webhook: the token is the path (with its trailing slash); no field is
/// required, but those given must have the documented types and values.
fn fake_grafana(request: &Received) -> Reply {
    if request.path != grafana_path() {
        return Reply::status(404);
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let mut problems = Vec::new();
    one_of(&body, "state", &["alerting", "ok"], &mut problems);
    for name in ["alert_uid", "title", "message", "link_to_upstream_details"] {
        if !body[name].is_null() && !body[name].is_string() {
            problems.push(format!("{name} is not a string"));
        }
    }
    if problems.is_empty() { Reply::json(200, r#"{"status":"ok"}"#) } else { Reply::json(400, &problems.join("; ")) }
}

/// The three fakes, and the flags that aim each channel at its fake.
struct Platforms {
    pagerduty: Server,
    incidentio: Server,
    grafana: Server,
}

impl Platforms {
    fn new() -> Platforms {
        Platforms::delayed(Duration::ZERO)
    }

    /// Each fake answers after `delay`.
    fn delayed(delay: Duration) -> Platforms {
        let after = move |reply: Reply| if delay.is_zero() { reply } else { reply.after(delay) };
        Platforms {
            pagerduty: Server::answering(vec![], move |r| after(fake_pagerduty(r))),
            incidentio: Server::answering(vec![], move |r| after(fake_incidentio(r))),
            grafana: Server::answering(vec![], move |r| after(fake_grafana(r))),
        }
    }

    fn pagerduty_args(&self) -> Vec<String> {
        let url = self.pagerduty.url(PAGERDUTY_PATH);
        vec!["--pagerduty-routing-key".into(), PAGERDUTY_KEY.into(), "--pagerduty-url".into(), url]
    }

    fn incidentio_args(&self) -> Vec<String> {
        let url = self.incidentio.url(INCIDENTIO_PATH);
        vec!["--incidentio-url".into(), url, "--incidentio-token".into(), INCIDENTIO_TOKEN.into()]
    }

    fn grafana_args(&self) -> Vec<String> {
        vec!["--grafana-irm-url".into(), self.grafana.url(&grafana_path())]
    }

    fn all_args(&self) -> Vec<String> {
        [self.pagerduty_args(), self.incidentio_args(), self.grafana_args()].concat()
    }
}

/// `onfail send` in the GitHub context of `common::github_env`, for `status`.
fn github_send(status: &str, args: &[String]) -> assert_cmd::Command {
    let mut cmd = onfail();
    github_env(&mut cmd).arg("send").args(args).args(["--status", status, "--output", "json"]);
    cmd
}

fn bodies(server: &Server) -> Vec<Value> {
    server.received().iter().map(|r| r.json()).collect()
}

/// The channel named `name` in a JSON result.
fn channel<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["channels"].as_array().unwrap().iter().find(|c| c["channel"] == name).unwrap_or_else(|| panic!("{name}"))
}

/// No trace of a secret URL path in either stream (the tokens themselves are sentinels).
fn assert_paths_hidden(out: &crate::common::Run) {
    let (stdout, stderr) = out.shown();
    for text in [&stdout, &stderr] {
        for path in ["formatted_webhook", "alert_events/http/01HSOURCE"] {
            assert!(!text.contains(path), "the URL path {path} leaks:\n{text}");
        }
    }
}

#[test]
fn each_platform_opens_on_red_and_resolves_on_green_under_one_key() {
    let platforms = Platforms::new();
    let red = run(&mut github_send("failure", &platforms.all_args()));
    assert_eq!(red.code, 0, "{}", red.stderr);
    let green = run(&mut github_send("success", &platforms.all_args()));
    assert_eq!(green.code, 0, "{}", green.stderr);

    let [trigger, resolve] = <[Value; 2]>::try_from(bodies(&platforms.pagerduty)).unwrap();
    assert_eq!(
        (trigger["event_action"].as_str(), resolve["event_action"].as_str()),
        (Some("trigger"), Some("resolve"))
    );
    assert_eq!((&trigger["dedup_key"], &resolve["dedup_key"]), (&json!(GITHUB_ID), &json!(GITHUB_ID)));
    assert_eq!(trigger["routing_key"], PAGERDUTY_KEY);
    assert_eq!(trigger["payload"]["summary"], "Deploy failed in acme/api");
    assert_eq!(trigger["payload"]["source"], "acme/api");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["custom_details"]["run_url"], "https://github.com/acme/api/actions/runs/4242");
    assert_eq!(trigger["links"], json!([{"href": "https://github.com/acme/api/actions/runs/4242", "text": "CI job"}]));

    let [firing, resolved] = <[Value; 2]>::try_from(bodies(&platforms.incidentio)).unwrap();
    assert_eq!((firing["status"].as_str(), resolved["status"].as_str()), (Some("firing"), Some("resolved")));
    assert_eq!((&firing["deduplication_key"], &resolved["deduplication_key"]), (&json!(GITHUB_ID), &json!(GITHUB_ID)));
    assert_eq!(resolved["title"], "Deploy succeeded in acme/api");
    assert!(firing["description"].as_str().unwrap().contains("Commit: 0123456789abcdef"), "{firing}");
    assert_eq!(firing["source_url"], "https://github.com/acme/api/actions/runs/4242");
    assert_eq!(firing["metadata"]["workflow"], "Deploy");

    let [alerting, ok] = <[Value; 2]>::try_from(bodies(&platforms.grafana)).unwrap();
    assert_eq!((alerting["state"].as_str(), ok["state"].as_str()), (Some("alerting"), Some("ok")));
    assert_eq!((&alerting["alert_uid"], &ok["alert_uid"]), (&json!(GITHUB_ID), &json!(GITHUB_ID)));
    assert_eq!(alerting["link_to_upstream_details"], "https://github.com/acme/api/actions/runs/4242");

    for (out, words) in [(&red, ["trigger", "firing", "alerting"]), (&green, ["resolve", "resolved", "ok"])] {
        let json = out.json();
        assert_eq!(json["result"], "sent");
        for (name, provider) in [("pagerduty", "pagerduty"), ("incidentio", "incident.io"), ("grafana-irm", "grafana")]
        {
            let c = channel(&json, name);
            assert_eq!((c["provider"].as_str(), c["result"].as_str()), (Some(provider), Some("sent")), "{c}");
            assert_eq!(c["ids"]["alert_id"], GITHUB_ID);
        }
        for (line, word) in [
            ("pagerduty (pagerduty): sent after 1 attempt, HTTP 202: {} for dedup_key", words[0]),
            ("incidentio (incident.io): sent after 1 attempt, HTTP 202: status {} for deduplication_key", words[1]),
            ("grafana-irm (grafana): sent after 1 attempt, HTTP 200: state {} for alert_uid", words[2]),
        ] {
            let line = format!("{} {GITHUB_ID}", line.replace("{}", word));
            assert!(out.stderr.contains(&line), "{line}\n{}", out.stderr);
        }
        assert_paths_hidden(out);
    }
}

#[test]
fn cancelled_and_skipped_send_nothing_and_say_why() {
    let platforms = Platforms::new();
    for status in ["cancelled", "skipped"] {
        let out = run(github_send(status, &platforms.all_args()).args(["--notify-on", "always"]));
        assert_eq!(out.code, 0, "{status}: {}", out.stderr);
        let json = out.json();
        assert_eq!(json["result"], "skipped");
        for name in ["pagerduty", "incidentio", "grafana-irm"] {
            let c = channel(&json, name);
            assert_eq!((c["result"].as_str(), c["attempts"].as_u64()), (Some("skipped"), Some(0)), "{c}");
            assert!(c["detail"].as_str().unwrap().contains("neither opens nor resolves an incident"), "{c}");
            assert_eq!(c["ids"]["alert_id"], GITHUB_ID);
            assert!(out.stderr.contains(&format!("{name} (")), "{}", out.stderr);
        }
    }
    for server in [&platforms.pagerduty, &platforms.incidentio, &platforms.grafana] {
        assert!(server.received().is_empty());
    }
}

#[test]
fn pagerduty_refusals_are_permanent_and_give_pagerdutys_reason() {
    // The fake refuses a routing key of the wrong length, as PagerDuty does.
    let platforms = Platforms::new();
    let mut args = platforms.pagerduty_args();
    args[1] = "pdSENTINELshort".into();
    let out = run(&mut github_send("failure", &args));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(platforms.pagerduty.received().len(), 1, "a 400 is not retried");
    assert!(out.stderr.contains("--pagerduty-routing-key has 15 characters; an Events API V2 Integration Key has 32"));
    assert!(
        out.stderr.contains(
            "PagerDuty refused the event (HTTP 400): Event object is invalid: Length of 'routing_key' is incorrect \
             (should be 32 characters); check that --pagerduty-routing-key is the Integration Key"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.shown().1.contains("pdSENTINELshort"), "{}", out.stderr);
    let json = out.json();
    let c = channel(&json, "pagerduty");
    assert_eq!((c["result"].as_str(), c["http_status"].as_u64()), (Some("failed"), Some(400)));
}

#[test]
fn pagerduty_rate_limits_and_server_errors_are_retried() {
    let server = Server::answering(
        vec![Reply::json(429, r#"{"status":"throttle event"}"#).header("Retry-After", "1"), Reply::status(502)],
        fake_pagerduty,
    );
    let args =
        ["--pagerduty-routing-key", PAGERDUTY_KEY, "--pagerduty-url", &server.url(PAGERDUTY_PATH)].map(String::from);
    let out = run(&mut github_send("failure", &args));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every retry sends the same event");
    assert!(out.stderr.contains("pagerduty (pagerduty): sent after 3 attempts, HTTP 202"), "{}", out.stderr);
    // Retry-After: 1 was honoured before the second attempt.
    assert!(out.elapsed >= Duration::from_secs(1), "{:?}", out.elapsed);
}

#[test]
fn incidentio_refusals_name_what_to_fix_and_are_not_retried() {
    let platforms = Platforms::new();
    let mut wrong_token = platforms.incidentio_args();
    wrong_token[3] = "inc-SENTINEL-wrong-token".into();
    let out = run(&mut github_send("failure", &wrong_token));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("incident.io did not accept the token (HTTP 401): check --incidentio-token"));
    assert!(out.stderr.contains("(incident.io said: Invalid API key)"), "{}", out.stderr);
    assert!(!out.shown().1.contains("inc-SENTINEL-wrong-token"), "{}", out.stderr);

    let mut wrong_source = platforms.incidentio_args();
    wrong_source[1] = platforms.incidentio.url("/v2/alert_events/http/01HOTHER");
    let out = run(&mut github_send("failure", &wrong_source));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("incident.io knows no such alert source (HTTP 404): copy --incidentio-url again"));
    assert_eq!(platforms.incidentio.received().len(), 2, "neither is retried");

    let refusing = Server::new(
        vec![],
        Reply::json(422, r#"{"type":"validation_error","status":422,"errors":[{"message":"title is too long"}]}"#),
    );
    let args =
        ["--incidentio-url", &refusing.url(INCIDENTIO_PATH), "--incidentio-token", INCIDENTIO_TOKEN].map(String::from);
    let out = run(&mut github_send("failure", &args));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("incident.io refused the event (HTTP 422)"), "{}", out.stderr);
    assert!(out.stderr.contains("(incident.io said: title is too long)"), "{}", out.stderr);
    assert_eq!(refusing.received().len(), 1);
}

#[test]
fn incidentio_server_errors_are_retried() {
    let server = Server::answering(vec![Reply::status(503), Reply::Close], fake_incidentio);
    let args =
        ["--incidentio-url", &server.url(INCIDENTIO_PATH), "--incidentio-token", INCIDENTIO_TOKEN].map(String::from);
    let out = run(&mut github_send("success", &args));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
    assert!(out.stderr.contains("incidentio (incident.io): sent after 3 attempts, HTTP 202: status resolved"));
}

#[test]
fn grafana_answers_are_judged_and_a_missing_trailing_slash_is_restored() {
    let platforms = Platforms::new();
    let without_slash = platforms.grafana.url(grafana_path().trim_end_matches('/'));
    let out = run(&mut github_send("failure", &["--grafana-irm-url".into(), without_slash]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(platforms.grafana.received()[0].path, grafana_path());

    let wrong = platforms.grafana.url("/integrations/v1/formatted_webhook/gr-SENTINEL-revoked/");
    let out = run(&mut github_send("failure", &["--grafana-irm-url".into(), wrong]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Grafana IRM did not accept the integration URL (HTTP 404)"), "{}", out.stderr);
    assert!(!out.shown().1.contains("gr-SENTINEL-revoked"), "{}", out.stderr);
    assert_eq!(platforms.grafana.received().len(), 2, "a 404 is not retried");

    let flaky = Server::answering(vec![Reply::status(500)], fake_grafana);
    let out = run(&mut github_send("success", &["--grafana-irm-url".into(), flaky.url(&grafana_path())]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("grafana-irm (grafana): sent after 2 attempts, HTTP 200: state ok"));
}

#[test]
fn medium_priority_is_a_pagerduty_warning_and_a_field_elsewhere() {
    let platforms = Platforms::new();
    let out = run(github_send("failure", &platforms.all_args()).env("ONFAIL_PRIORITY", "Medium"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(bodies(&platforms.pagerduty)[0]["payload"]["severity"], "warning");
    assert_eq!(bodies(&platforms.incidentio)[0]["metadata"]["priority"], "medium");
    assert_eq!(bodies(&platforms.grafana)[0]["priority"], "medium");
}

#[test]
fn dry_run_shows_every_request_with_the_secrets_hidden() {
    let platforms = Platforms::new();
    let mut text = onfail();
    let out = run(github_env(&mut text).arg("send").args(platforms.all_args()).arg("--dry-run"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (header, url) in [
        ("--- pagerduty (pagerduty) ---", platforms.pagerduty.url(PAGERDUTY_PATH)),
        ("--- incidentio (incident.io) ---", platforms.incidentio.url("/***")),
        ("--- grafana-irm (grafana) ---", platforms.grafana.url("/***")),
    ] {
        assert!(out.stdout.contains(&format!("{header}\nPOST {url}\n")), "{header}\n{}", out.stdout);
    }
    assert!(out.stdout.contains(r#"{"routing_key":"***","event_action":"trigger","#), "{}", out.stdout);
    assert!(out.stdout.contains("Authorization: ***\n"), "{}", out.stdout);
    assert_paths_hidden(&out);

    let out = run(github_send("success", &platforms.all_args()).arg("--dry-run"));
    let json = out.json();
    // The body is shown as the exact text that would be sent.
    let body = |name: &str| -> Value {
        serde_json::from_str(channel(&json, name)["request"]["body"].as_str().unwrap()).unwrap()
    };
    assert_eq!(body("pagerduty")["routing_key"], "***");
    assert_eq!(body("pagerduty")["event_action"], "resolve");
    assert_eq!(channel(&json, "incidentio")["request"]["headers"]["Authorization"], "***");
    assert_eq!(body("grafana-irm")["state"], "ok");
    for server in [&platforms.pagerduty, &platforms.incidentio, &platforms.grafana] {
        assert!(server.received().is_empty());
    }
}

#[test]
fn all_four_incident_channels_run_concurrently_and_fill_the_outputs() {
    let delay = Duration::from_millis(1500);
    let platforms = Platforms::delayed(delay);
    let temperstack = Server::new(vec![], Reply::json(200, "{}").after(delay));
    let dir = tempfile::tempdir().unwrap();
    let (output, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let out = run(github_send("failure", &platforms.all_args())
        .args([
            "--temperstack-url",
            &temperstack.url(&format!("/api/integration/webhook/{}", crate::common::TEMPERSTACK_KEY)),
        ])
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["result"], "sent");
    // One after another would take 6 s; together, about the slowest one's 1.5 s.
    assert!(out.elapsed >= delay, "{:?}", out.elapsed);
    assert!(out.elapsed < Duration::from_millis(4500), "took {:?}: the channels did not run concurrently", out.elapsed);

    let outputs = read(&output);
    assert!(outputs.contains("\nsent-channels<<"), "{outputs}");
    let sent = outputs.split("sent-channels<<").nth(1).unwrap().lines().nth(1).unwrap();
    assert_eq!(sent, "temperstack,pagerduty,incidentio,grafana-irm");
    assert!(outputs.contains(&format!("\n{GITHUB_ID}\n")), "alert-id: {outputs}");
    let summary = read(&summary);
    for row in ["| pagerduty | pagerduty |", "| incidentio | incident.io |", "| grafana-irm | grafana |"] {
        assert!(summary.contains(row), "{row}\n{summary}");
    }
    for secret in [PAGERDUTY_KEY, INCIDENTIO_TOKEN, GRAFANA_TOKEN, crate::common::TEMPERSTACK_KEY] {
        assert!(!outputs.contains(secret) && !summary.contains(secret), "{secret}");
    }
}

#[test]
fn bad_platform_options_are_usage_errors_and_nothing_is_sent() {
    let platforms = Platforms::new();
    // Each case also configures a valid channel, which must not send either.
    let (pagerduty, grafana) = (platforms.pagerduty_args(), platforms.grafana_args());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            [&pagerduty[..], &["--incidentio-url".into(), platforms.incidentio.url(INCIDENTIO_PATH)]].concat(),
            "--incidentio-token: is required with --incidentio-url",
        ),
        (
            [&pagerduty[..], &["--grafana-irm-url".into(), platforms.grafana.url("/")]].concat(),
            "--grafana-irm-url: has no token in its path",
        ),
        (
            [&pagerduty[..], &["--grafana-irm-url".into(), format!("http://grafana.example.com/x/{GRAFANA_TOKEN}/")]]
                .concat(),
            "--grafana-irm-url: must use https://",
        ),
        (
            [&grafana[..], &["--pagerduty-routing-key".into(), format!("{PAGERDUTY_KEY} x")]].concat(),
            "--pagerduty-routing-key: contains spaces or line breaks",
        ),
    ];
    for (args, says) in cases {
        let out = run(&mut github_send("failure", &args));
        assert_eq!(out.code, 2, "{says}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{says}: {}", out.stderr);
    }
    for server in [&platforms.pagerduty, &platforms.incidentio, &platforms.grafana] {
        assert!(server.received().is_empty(), "a usage error sends nothing");
    }
}

#[test]
fn help_lists_the_platforms_options() {
    let out = run(onfail().args(["send", "--help"]).env("ONFAIL_PAGERDUTY_ROUTING_KEY", PAGERDUTY_KEY));
    assert_eq!(out.code, 0);
    for heading in ["Incident (PagerDuty):", "Incident (incident.io):", "Incident (Grafana IRM):"] {
        assert!(out.stdout.contains(heading), "{heading}\n{}", out.stdout);
    }
    for flag in
        ["--pagerduty-routing-key", "--pagerduty-url", "--incidentio-url", "--incidentio-token", "--grafana-irm-url"]
    {
        assert!(out.stdout.contains(flag), "{flag}");
    }
    assert!(out.stdout.contains("https://events.eu.pagerduty.com/v2/enqueue"), "{}", out.stdout);
}

/// Under `--notify-when changes` (docs/noise-control.md, "Page once per incident") the incident platforms act
/// as Temperstack does: every failure sends the open event again (the platforms dedupe it under
/// the same key) and the success resolves, while the phones stay silent after the first page.
#[cfg(unix)]
#[test]
fn under_notify_when_changes_each_failure_reopens_and_the_success_resolves() {
    let platforms = Platforms::new();
    let voice = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
    let dir = tempfile::tempdir().unwrap();
    let cron = |script: &str| {
        let mut cmd = onfail();
        cmd.args(["run", "--notify-when", "changes", "--output", "json", "--alert-id", "nightly-backup"])
            .arg("--state-dir")
            .arg(dir.path())
            .args(platforms.all_args())
            .args(["--alertalk-url", &voice.url("/webhook/receive"), "--phone-numbers", crate::common::PHONES[0]])
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", crate::common::KEY)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["--", "sh", "-c", script]);
        let out = run(&mut cmd);
        out.json()["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c["channel"], c["result"]))
            .collect::<Vec<_>>()
    };
    let sent = ["\"pagerduty\" \"sent\"", "\"incidentio\" \"sent\"", "\"grafana-irm\" \"sent\""];
    for (script, voice_result) in [("exit 3", "sent"), ("exit 3", "skipped"), ("true", "skipped")] {
        let results = cron(script);
        assert!(results.contains(&format!("\"voice\" \"{voice_result}\"")), "{script}: {results:?}");
        for channel in sent {
            assert!(results.iter().any(|r| r == channel), "{script}: {results:?}");
        }
    }
    assert_eq!(voice.received().len(), 1, "the phones ring once");
    let actions: Vec<String> = bodies(&platforms.pagerduty).iter().map(|b| b["event_action"].to_string()).collect();
    assert_eq!(actions, ["\"trigger\"", "\"trigger\"", "\"resolve\""]);
    assert!(bodies(&platforms.pagerduty).iter().all(|b| b["dedup_key"] == "nightly-backup"));
    let states: Vec<String> = bodies(&platforms.incidentio).iter().map(|b| b["status"].to_string()).collect();
    assert_eq!(states, ["\"firing\"", "\"firing\"", "\"resolved\""]);
    let states: Vec<String> = bodies(&platforms.grafana).iter().map(|b| b["state"].to_string()).collect();
    assert_eq!(states, ["\"alerting\"", "\"alerting\"", "\"ok\""]);
}

#[test]
fn an_alert_id_too_long_for_pagerduty_is_shortened_stably_and_stops_nothing() {
    // 297 bytes after rendering; PagerDuty's dedup_key holds 255.
    let id = format!("{{repository}}-{}", "nightly-".repeat(36));
    let platforms = Platforms::new();
    let mut keys = Vec::new();
    for status in ["failure", "success"] {
        let args = [platforms.all_args(), vec!["--alert-id".into(), id.clone()]].concat();
        let out = run(&mut github_send(status, &args));
        assert_eq!(out.code, 0, "{status}: {}", out.stderr);
        let json = out.json();
        for name in ["pagerduty", "incidentio", "grafana-irm"] {
            assert_eq!(channel(&json, name)["result"], "sent", "{status} {name}: {json}");
        }
        assert!(
            out.stderr.contains(
                "warning: pagerduty: the alert id has 297 bytes, more than PagerDuty's dedup_key holds (255)"
            ),
            "{}",
            out.stderr
        );
        let sent = bodies(&platforms.pagerduty).pop().unwrap();
        keys.push(sent["dedup_key"].as_str().unwrap().to_string());
    }
    let rendered = id.replace("{repository}", "acme/api");
    // The same key opens and resolves: the start of the id and a hash of all of it.
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[0].len(), 255);
    assert!(rendered.starts_with(&keys[0][..238]) && keys[0].as_bytes()[238] == b'-', "{}", keys[0]);
    // Every other platform gets the whole id.
    assert!(bodies(&platforms.incidentio).iter().all(|b| b["deduplication_key"] == rendered.as_str()));
    assert!(bodies(&platforms.grafana).iter().all(|b| b["alert_uid"] == rendered.as_str()));
}
