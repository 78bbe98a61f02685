//! The incident channel (Temperstack), end to end: the binary runs as a process against a fake
//! Temperstack on 127.0.0.1. Every run is scanned for the integration key (see `common::run`).

use std::time::Duration;

use crate::common::{KEY, PHONES, Reply, Server, TEMPERSTACK_KEY, github_env, onfail, run};
use serde_json::Value;

/// The path Temperstack puts in an integration URL, with the sentinel key.
fn key_path() -> String {
    format!("/api/integration/webhook/{TEMPERSTACK_KEY}")
}

/// `onfail send` aimed at the fake Temperstack through `ONFAIL_TEMPERSTACK_URL`.
fn send(server: &Server) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.arg("send").env("ONFAIL_TEMPERSTACK_URL", server.url(&key_path()));
    cmd
}

/// `send` with the GitHub context of `common::github_env`, for `status`.
fn github_send(server: &Server, status: &str) -> assert_cmd::Command {
    let mut cmd = send(server);
    github_env(&mut cmd).args(["--status", status]);
    cmd
}

/// The JSON bodies the fake received, in order.
fn bodies(server: &Server) -> Vec<Value> {
    server.received().iter().map(|r| r.json()).collect()
}

/// The keys of a JSON object, sorted.
fn keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body.as_object().expect("a JSON object").keys().cloned().collect();
    keys.sort();
    keys
}

/// No trace of the key's path in either stream, not even with the key itself redacted (the
/// sentinel scan covers the key). The usage hint's `.../webhook/API_KEY` template is no leak.
fn assert_path_hidden(out: &crate::common::Run) {
    let (stdout, stderr) = out.shown();
    for text in [&stdout, &stderr] {
        let text = text.replace("/api/integration/webhook/API_KEY", "");
        assert!(!text.contains("integration/webhook"), "the URL path leaks:\n{text}");
    }
}

/// `printf 'acme/api\0Deploy\0build\0main' | sha256sum | cut -c1-16`: the formula
/// docs/incidents.md documents, for the context of `common::github_env`.
const GITHUB_ID: &str = "onfail-9439583697af4dc7";

#[test]
fn a_red_run_then_a_green_run_send_alarm_then_ok_with_the_same_alert_id() {
    let server = Server::ok("{}");
    let red = run(github_send(&server, "failure").args(["--output", "json"]));
    assert_eq!(red.code, 0, "{}", red.stderr);
    let green = run(github_send(&server, "success").args(["--output", "json"]));
    assert_eq!(green.code, 0, "{}", green.stderr);

    let requests = server.received();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", key_path().as_str()));
        assert_eq!(request.header("Content-Type"), Some("application/json"));
    }
    let [alarm, ok] = [requests[0].json(), requests[1].json()];
    assert_eq!(alarm["status"], "Alarm");
    assert_eq!(ok["status"], "OK");
    assert_eq!(alarm["alert_id"], GITHUB_ID);
    assert_eq!(ok["alert_id"], alarm["alert_id"]);
    assert_eq!(alarm["alert_name"], "Deploy failed in acme/api");
    assert_eq!(ok["alert_name"], "Deploy succeeded in acme/api");
    assert_eq!(alarm["alert_priority"], "Critical");
    assert_eq!(alarm["alert_url"], "https://github.com/acme/api/actions/runs/4242");
    let description = alarm["description"].as_str().unwrap();
    assert!(description.starts_with("Deploy failed in acme/api.\n"), "{description}");
    assert!(description.contains("Commit: 0123456789abcdef0123456789abcdef01234567"), "{description}");

    for (out, state) in [(&red, "Alarm"), (&green, "OK")] {
        let channel = &out.json()["channels"][0];
        assert_eq!(channel["channel"], "temperstack");
        assert_eq!(channel["provider"], "temperstack");
        assert_eq!(channel["result"], "sent");
        assert_eq!(channel["ids"]["alert_id"], GITHUB_ID);
        let line = format!(
            "temperstack (temperstack): sent after 1 attempt, HTTP 200: status {state} for alert_id {GITHUB_ID}"
        );
        assert!(out.stderr.contains(&line), "{}", out.stderr);
        assert_path_hidden(out);
    }
}

#[test]
fn the_default_id_differs_when_repository_workflow_job_or_branch_differs() {
    let server = Server::ok("{}");
    for (name, value) in [
        ("GITHUB_JOB", "deploy"),
        ("GITHUB_REPOSITORY", "acme/web"),
        ("GITHUB_WORKFLOW", "Release"),
        ("GITHUB_REF_NAME", "release/1.2"),
    ] {
        let out = run(github_send(&server, "failure").env(name, value));
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
    }
    // A different run of the same job (new run id, commit, attempt, actor) keeps the id.
    let out = run(github_send(&server, "failure")
        .env("GITHUB_RUN_ID", "9999")
        .env("GITHUB_SHA", "fedcba9876543210fedcba9876543210fedcba98")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("GITHUB_ACTOR", "someone-else"));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let ids: Vec<String> = bodies(&server).iter().map(|b| b["alert_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[4], GITHUB_ID);
    for (i, id) in ids.iter().enumerate() {
        assert!(id.starts_with("onfail-") && id.len() == "onfail-".len() + 16, "{id}");
        for other in &ids[i + 1..] {
            assert_ne!(id, other, "{ids:?}");
        }
    }
}

#[test]
fn outside_ci_the_id_comes_from_the_hostname() {
    let server = Server::ok("{}");
    // `common::onfail` sets HOSTNAME=test-host; printf 'test-host' | sha256sum | cut -c1-16
    let out = run(&mut send(&server));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(send(&server).args(["--status", "success"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(send(&server).env("HOSTNAME", "db-2"));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let bodies = bodies(&server);
    assert_eq!(bodies[0]["alert_id"], "onfail-c80cb283080a15df");
    assert_eq!(bodies[1]["alert_id"], bodies[0]["alert_id"]);
    assert_eq!(bodies[1]["status"], "OK");
    assert_ne!(bodies[2]["alert_id"], bodies[0]["alert_id"]);
    assert_eq!(bodies[0]["alert_name"], "Job failed on test-host", "outside CI nothing says CI");
    // No run URL outside CI, so no alert_url.
    assert!(bodies[0].get("alert_url").is_none(), "{}", bodies[0]);
}

#[test]
fn cancelled_and_skipped_send_nothing_and_say_why() {
    let server = Server::ok("{}");
    for (status, why) in [
        ("cancelled", "a cancelled run neither opens nor resolves an incident"),
        ("SKIPPED", "a skipped job neither opens nor resolves an incident"),
    ] {
        // --notify-on does not apply: even naming the status does not make the incident fire.
        let out = run(github_send(&server, status).args(["--output", "json", "--notify-on", "always"]));
        assert_eq!(out.code, 0, "{status}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("temperstack (temperstack): skipped: status {}", status.to_lowercase())));
        assert!(out.stderr.contains(why), "{status}: {}", out.stderr);
        let json = out.json();
        assert_eq!(json["result"], "skipped");
        assert_eq!(json["channels"][0]["result"], "skipped");
        assert_eq!(json["channels"][0]["attempts"], 0);
        // The id is still reported, for a workflow that wants to act on it.
        assert_eq!(json["channels"][0]["ids"]["alert_id"], GITHUB_ID);
    }
    assert!(server.received().is_empty());
}

#[test]
fn notify_on_does_not_hold_back_the_resolve() {
    let server = Server::ok("{}");
    let out = run(github_send(&server, "success").args(["--notify-on", "failure"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(bodies(&server)[0]["status"], "OK");
}

#[test]
fn a_400_is_permanent_with_a_clear_message() {
    let server = Server::new(vec![], Reply::json(400, r#"{"error":"invalid alert_priority"}"#));
    let out = run(github_send(&server, "failure").args(["--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 1, "a 400 must not be retried");
    assert!(out.stderr.contains("Temperstack rejected the alert as a bad request (HTTP 400)"), "{}", out.stderr);
    assert!(out.stderr.contains("check that --temperstack-url is the whole integration URL"), "{}", out.stderr);
    assert!(out.stderr.contains("Temperstack said: {\"error\":\"invalid alert_priority\"}"), "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["result"], "failed");
    let channel = &json["channels"][0];
    assert_eq!((channel["http_status"].as_u64(), channel["attempts"].as_u64()), (Some(400), Some(1)));
    assert_eq!(channel["ids"]["alert_id"], GITHUB_ID);
    assert_path_hidden(&out);
}

#[test]
fn a_refused_key_says_to_copy_the_integration_url_again() {
    for status in [401, 403, 404] {
        let server = Server::new(vec![], Reply::status(status));
        let out = run(&mut send(&server));
        assert_eq!(out.code, 1, "HTTP {status}: {}", out.stderr);
        assert_eq!(server.received().len(), 1, "HTTP {status} must not be retried");
        assert!(out.stderr.contains(&format!("did not accept the integration URL (HTTP {status})")), "{}", out.stderr);
    }
}

#[test]
fn a_500_then_a_200_is_delivered() {
    let server = Server::new(vec![Reply::status(500)], Reply::json(200, "{}"));
    let out = run(github_send(&server, "failure").args(["--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1], "a retry sends the same alert");
    let channel = &out.json()["channels"][0];
    assert_eq!((channel["result"].as_str(), channel["attempts"].as_u64()), (Some("sent"), Some(2)));
}

#[test]
fn a_dropped_connection_and_a_429_are_retried() {
    let server = Server::new(vec![Reply::Close, Reply::status(429).header("Retry-After", "0")], Reply::json(200, "{}"));
    let out = run(&mut send(&server));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
    assert!(out.stderr.contains("sent after 3 attempts, HTTP 200"), "{}", out.stderr);
}

#[test]
fn a_timed_out_attempt_is_retried() {
    // A first attempt that is not the last waits two thirds of --timeout (docs/delivery.md, "Delivery").
    let server = Server::new(vec![Reply::Hang], Reply::json(200, "{}"));
    let out = run(send(&server).args(["--timeout", "6s"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 2);
    assert!(out.stderr.contains("sent after 2 attempts, HTTP 200"), "{}", out.stderr);
}

#[test]
fn optional_fields_are_sent_when_given_and_left_out_when_empty() {
    let server = Server::ok("{}");
    let out = run(github_send(&server, "failure").args([
        "--priority",
        "MEDIUM",
        "--alert-url",
        "https://status.example.com/{repository}",
        "--runbook-url",
        "https://wiki.example.com/runbooks/deploy",
        "--metric-name",
        "ci.{job}.failed",
        "--resource-id",
        "{repository}@{ref_name}",
        "--resource-name",
        "api",
        "--resource-type",
        "Pipeline",
        "--message",
        "Deploy of {short_sha} broke",
        "--title",
        "{workflow} is red",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Everything given as an ONFAIL_* variable, and empty variables counting as unset.
    let out = run(github_send(&server, "failure")
        .env("ONFAIL_PRIORITY", "medium")
        .env("ONFAIL_RUNBOOK_URL", "https://wiki.example.com/runbooks/deploy")
        .env("ONFAIL_METRIC_NAME", "ci.build.failed")
        .env("ONFAIL_RESOURCE_ID", "acme/api@main")
        .env("ONFAIL_RESOURCE_NAME", "api")
        .env("ONFAIL_RESOURCE_TYPE", "Pipeline")
        .env("ONFAIL_ALERT_URL", "https://status.example.com/acme/api")
        .env("ONFAIL_ALERT_ID", "")
        .env("ONFAIL_MESSAGE", "Deploy of 0123456 broke")
        .env("ONFAIL_TITLE", "Deploy is red"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Outside CI, with nothing optional given.
    let out = run(send(&server).env("ONFAIL_PRIORITY", "").env("ONFAIL_RUNBOOK_URL", " "));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let bodies = bodies(&server);
    let full = &bodies[0];
    assert_eq!(
        full,
        &serde_json::json!({
            "alert_name": "Deploy is red",
            "status": "Alarm",
            "alert_priority": "Medium",
            "alert_id": GITHUB_ID,
            "description": "Deploy of 0123456 broke",
            "alert_url": "https://status.example.com/acme/api",
            "metric_name": "ci.build.failed",
            "resource_id": "acme/api@main",
            "resource_name": "api",
            "resource_type": "Pipeline",
            "run_book_url": "https://wiki.example.com/runbooks/deploy",
        })
    );
    assert_eq!(&bodies[1], full, "flags and ONFAIL_* variables are the same options");
    assert_eq!(keys(&bodies[2]), ["alert_id", "alert_name", "alert_priority", "description", "status"]);
    assert_eq!(bodies[2]["alert_priority"], "Critical");
}

#[test]
fn the_alert_url_is_the_job_url_when_the_check_run_id_is_known() {
    let server = Server::ok("{}");
    let out = run(github_send(&server, "failure").args(["--check-run-id", "777"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(bodies(&server)[0]["alert_url"], "https://github.com/acme/api/actions/runs/4242/job/777");
}

#[test]
fn alert_id_takes_placeholders_and_overrides_the_default() {
    let server = Server::ok("{}");
    for status in ["failure", "success"] {
        let out = run(github_send(&server, status).args([
            "--alert-id",
            "ci/{repository}/{job}/{ref_name}",
            "--output",
            "json",
        ]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.json()["channels"][0]["ids"]["alert_id"], "ci/acme/api/build/main");
    }
    let bodies = bodies(&server);
    assert_eq!((&bodies[0]["status"], &bodies[1]["status"]), (&Value::from("Alarm"), &Value::from("OK")));
    assert!(bodies.iter().all(|b| b["alert_id"] == "ci/acme/api/build/main"), "{bodies:?}");
}

#[test]
fn bad_incident_options_are_usage_errors_and_nothing_is_sent() {
    let server = Server::ok("{}");
    for (args, says) in [
        (vec!["--alert-id", "{branch}-{job}"], "--alert-id: unknown placeholder {branch}"),
        (vec!["--alert-id", "{job}"], "--alert-id: renders to an empty id"),
        (vec!["--priority", "high"], "--priority: 'high' is not an incident priority; use critical or medium"),
        (vec!["--runbook-url", "wiki/deploy"], "--runbook-url: not an http(s) URL"),
        (vec!["--alert-url", "ftp://x.example.com/a"], "--alert-url: not an http(s) URL"),
        (vec!["--resource-name", "{nope}"], "--resource-name: unknown placeholder {nope}"),
        (vec!["--title", "{job}"], "--title: renders to an empty text"),
    ] {
        // Outside CI, so {job} is empty.
        let out = run(send(&server).args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(server.received().is_empty());
}

#[test]
fn bad_urls_are_usage_errors_that_never_show_the_key() {
    let server = Server::ok("{}");
    for (url, says) in [
        (format!("http://temperstack.example.com/api/integration/webhook/{TEMPERSTACK_KEY}"), "must use https://"),
        (format!("temperstack.example.com/api/integration/webhook/{TEMPERSTACK_KEY}"), "not a valid URL"),
        (format!("https://exa mple.com/{TEMPERSTACK_KEY}"), "not a valid URL"),
        (server.url("/"), "has no key in its path"),
    ] {
        let out = run(onfail().args(["send", "--temperstack-url", &url]));
        assert_eq!(out.code, 2, "{url}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("--temperstack-url: {says}")), "{url}: {}", out.stderr);
        assert_path_hidden(&out);
    }
    assert!(server.received().is_empty());
}

#[test]
fn dry_run_shows_the_url_redacted_and_sends_nothing() {
    let server = Server::ok("{}");
    let out = run(github_send(&server, "failure").arg("--dry-run"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
    assert!(
        out.stdout.contains(&format!("--- temperstack (temperstack) ---\nPOST {}\n", server.url("/***"))),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!(r#""alert_id":"{GITHUB_ID}""#)), "{}", out.stdout);
    assert!(out.stdout.contains(r#""status":"Alarm""#), "{}", out.stdout);
    assert_path_hidden(&out);

    let out = run(github_send(&server, "success").args(["--dry-run", "--output", "json"]));
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "dry-run");
    assert_eq!(channel["request"]["url"], server.url("/***"));
    let body: serde_json::Value = serde_json::from_str(channel["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "OK");
    assert_eq!(channel["ids"]["alert_id"], GITHUB_ID);
    assert!(server.received().is_empty());
}

#[test]
fn the_key_stays_hidden_even_when_the_provider_echoes_it() {
    let echo =
        format!(r#"{{"error":"no integration {TEMPERSTACK_KEY} at /api/integration/webhook/{TEMPERSTACK_KEY}"}}"#);
    let server = Server::new(vec![], Reply::json(400, &echo));
    let out = run(github_send(&server, "failure").args(["--output", "json", "--message", TEMPERSTACK_KEY]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Temperstack said: {\"error\":\"no integration *** at /***\"}"), "{}", out.stderr);
    assert_path_hidden(&out);
    // The request itself carried the key, so the sentinel check above is not vacuous.
    assert_eq!(server.received()[0].path, key_path());
    assert_eq!(server.received()[0].json()["description"], TEMPERSTACK_KEY);
}

#[test]
fn check_shows_where_the_incident_goes_without_the_key() {
    let server = Server::ok("{}");
    let out = run(onfail().args(["check", "--temperstack-url", &server.url(&key_path())]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("temperstack (temperstack) configured; would send to {}", server.url("/***")))
    );
    let out = run(onfail().args(["check", "--status", "cancelled", "--temperstack-url", &server.url(&key_path())]));
    assert!(out.stderr.contains("would not fire: status cancelled"), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[test]
fn with_if_always_voice_pages_on_red_and_the_incident_resolves_on_green() {
    let voice = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
    let incident = Server::ok("{}");
    let both = |status: &str| {
        let mut cmd = github_send(&incident, status);
        cmd.args(["--alertalk-url", &voice.url("/webhook/receive"), "--phone-numbers", PHONES[0], "--output", "json"])
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY);
        cmd
    };
    let red = run(&mut both("failure"));
    assert_eq!((red.code, red.json()["result"].as_str()), (0, Some("sent")), "{}", red.stderr);
    let green = run(&mut both("success"));
    assert_eq!((green.code, green.json()["result"].as_str()), (0, Some("sent")), "{}", green.stderr);
    assert!(green.stderr.contains("voice (alertalk) → 5*******67: skipped"), "{}", green.stderr);
    assert_eq!(voice.received().len(), 1, "only the red run calls");
    let states: Vec<Value> = bodies(&incident).iter().map(|b| b["status"].clone()).collect();
    assert_eq!(states, ["Alarm", "OK"]);
}

#[test]
fn help_lists_the_incident_options_without_values() {
    let out = run(onfail()
        .args(["send", "--help"])
        .env("ONFAIL_TEMPERSTACK_URL", format!("https://acme.temperstack.com{}", key_path()))
        .env("ONFAIL_ALERT_ID", "secret-ish-id"));
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Incident (Temperstack):"), "{}", out.stdout);
    // The options every incident platform shares are listed once, under their own heading.
    assert!(out.stdout.contains("Incidents (every platform):\n      --alert-id <ID>"), "{}", out.stdout);
    for flag in [
        "--temperstack-url",
        "--alert-id",
        "--priority",
        "--alert-url",
        "--runbook-url",
        "--metric-name",
        "--resource-id",
        "--resource-name",
        "--resource-type",
    ] {
        assert!(out.stdout.contains(flag), "{flag}");
    }
    assert!(out.stdout.contains("ONFAIL_TEMPERSTACK_URL") && !out.stdout.contains("secret-ish-id"));
    assert_path_hidden(&out);
}

/// Retries stay within the deadline: a fake that always fails ends near `--timeout`.
#[test]
fn a_failing_temperstack_gives_up_at_the_deadline() {
    let server = Server::new(vec![], Reply::status(503).header("Retry-After", "1"));
    let out = run(send(&server).args(["--timeout", "2500ms", "--retries", "20"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("Temperstack had a server error (HTTP 503)"), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(8), "took {:?}", out.elapsed);
}
