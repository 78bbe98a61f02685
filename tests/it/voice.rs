//! The voice channel (Alertalk) and the shared send pipeline, end to end: the binary runs as a
//! process against a real HTTP server on 127.0.0.1.

use std::time::Duration;

use crate::common::{KEY, PHONES, Reply, Server, github_env, onfail, run};

/// `onfail send` aimed at `server`, with the sentinel key.
fn send(server: &Server) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["send", "--alertalk-url", &server.url("/webhook/receive")]).env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY);
    cmd
}

const QUEUED: &str = r#"{"message":"2 call(s) queued","status":"success"}"#;

#[test]
fn every_number_form_arrives_normalised_and_deduplicated() {
    let server = Server::ok(QUEUED);
    let list = "5321234567; +90 (533) 987-65-43\n05321234567, 905339876543 00905321234567 0 532 123 45 67";
    let out = run(send(&server).args(["--phone-numbers", list]));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let requests = server.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/webhook/receive"));
    assert_eq!(request.header("X-Webhook-Key"), Some(KEY));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert!(request.header("User-Agent").unwrap().starts_with("onfail/"));
    assert_eq!(request.json()["phone_number"], format!("{},{}", PHONES[0], PHONES[1]));
    assert!(
        out.stderr
            .contains("voice (alertalk) → 5*******67, 5*******43: sent after 1 attempt, HTTP 200: 2 call(s) queued"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_number_is_a_usage_error_and_nothing_is_sent() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", "5321234567, 2123334455"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--phone-numbers: entry 2 (2*******55)"), "{}", out.stderr);
    assert!(!out.stderr.contains("2123334455"));
    assert!(server.received().is_empty());
}

#[test]
fn voice_without_numbers_is_a_usage_error() {
    let server = Server::ok(QUEUED);
    let out = run(&mut send(&server));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--phone-numbers: missing"), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[test]
fn hostile_text_arrives_byte_identical() {
    let server = Server::ok(QUEUED);
    let text = "Deploy \"prod\" failed: C:\\path\\to\\x\nline two\ttab 'single' $HOME $(id) `id` {\"json\": [1]} { x } a{b şğüöçıİ 🚨🔥 </script>";
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--message", text]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let body = server.received()[0].json();
    assert_eq!(body["error_message"].as_str(), Some(text));
}

#[test]
fn long_text_is_cut_to_500_characters_with_a_warning() {
    let server = Server::ok(QUEUED);
    let text = "ş".repeat(600);
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--message", &text]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent = server.received()[0].json()["error_message"].as_str().unwrap().to_string();
    assert_eq!(sent.chars().count(), 500);
    assert!(text.starts_with(&sent));
    assert!(out.stderr.contains("warning: voice: the voice text has 600 characters"), "{}", out.stderr);
}

#[test]
fn permanent_errors_are_not_retried_and_say_what_to_do() {
    for (status, says) in
        [(400, "malformed"), (402, "buy credit in the Alertalk panel"), (403, "refused the webhook key")]
    {
        let server = Server::new(vec![], Reply::json(status, r#"{"status":"error","message":"nope"}"#));
        let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
        assert_eq!(out.code, 1, "HTTP {status}: {}", out.stderr);
        assert_eq!(server.received().len(), 1, "HTTP {status} must not be retried");
        assert!(out.stderr.contains(says), "HTTP {status}: {}", out.stderr);
        let json = out.json();
        assert_eq!(json["result"], "failed");
        assert_eq!(json["channels"][0]["http_status"], status);
        assert_eq!(json["channels"][0]["attempts"], 1);
    }
}

#[test]
fn transient_errors_are_retried_until_delivered() {
    let server = Server::new(vec![Reply::status(503), Reply::status(503)], Reply::json(200, QUEUED));
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "sent");
    assert_eq!(channel["attempts"], 3);
    assert_eq!(channel["ids"]["calls_queued"], 2, "a number, not the provider's sentence");
}

#[test]
fn retries_stop_at_the_retry_limit() {
    let server = Server::new(vec![], Reply::status(500));
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--retries", "1"]));
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 2);
    assert!(out.stderr.contains("FAILED after 2 attempts, HTTP 500"), "{}", out.stderr);
}

#[test]
fn retry_after_longer_than_the_deadline_fails_without_waiting() {
    let server = Server::new(vec![], Reply::status(429).header("Retry-After", "3600"));
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--timeout", "5s"]));
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 1);
    assert!(out.stderr.contains("no time left within --timeout"), "{}", out.stderr);
}

#[test]
fn a_server_that_never_answers_fails_at_the_deadline() {
    let server = Server::new(vec![], Reply::Hang);
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--timeout", "1500ms"]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no answer within"), "{}", out.stderr);
    // Generous bound: the point is "about --timeout", not "after all retries of 10 s each".
    assert!(out.elapsed < Duration::from_secs(6), "took {:?}", out.elapsed);
}

#[test]
fn a_refused_connection_is_a_clear_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = run(onfail()
        .args(["send", "--alertalk-url", &format!("http://127.0.0.1:{port}/x"), "--retries", "1"])
        .args(["--alertalk-webhook-key", KEY, "--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let out = run(onfail().args(["send", "--alertalk-url", "http://alerts.example.com/hook?key=abc123"]).args([
        "--alertalk-webhook-key",
        KEY,
        "--phone-numbers",
        PHONES[0],
    ]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--alertalk-url: must use https://"), "{}", out.stderr);
    assert!(!out.stderr.contains("abc123"));
}

#[test]
fn dry_run_sends_nothing_and_shows_the_redacted_request() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", &PHONES.join(","), "--dry-run"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
    assert!(out.stdout.contains("POST http://127.0.0.1:"));
    assert!(out.stdout.contains("X-Webhook-Key: ***"));
    assert!(out.stdout.contains(r#""phone_number":"5*******67,5*******43""#), "{}", out.stdout);
}

#[test]
fn github_context_fills_the_placeholders() {
    let server = Server::ok(QUEUED);
    let template = "{repository}|{workflow}|{job}|{ref_name}|{short_sha}|{actor}|{event}|{run_id}|{run_number}|{run_attempt}|{run_url}|{job_url}|{status}|{{literal}}";
    let out = run(github_env(&mut send(&server)).args([
        "--phone-numbers",
        PHONES[0],
        "--message",
        template,
        "--check-run-id",
        "99",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = server.received()[0].json()["error_message"].as_str().unwrap().to_string();
    assert_eq!(
        text,
        "acme/api|Deploy|build|main|0123456|octocat|push|4242|17|2|https://github.com/acme/api/actions/runs/4242|https://github.com/acme/api/actions/runs/4242/job/99|failure|{literal}"
    );
}

#[test]
fn default_voice_text_is_speakable() {
    let server = Server::ok(QUEUED);
    let out = run(github_env(&mut send(&server)).args(["--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = server.received()[0].json()["error_message"].as_str().unwrap().to_string();
    let key = "acme api deposunda Deploy iş akışı main dalında başarısız oldu";
    assert_eq!(text, format!("CI alarmı. {key}. Tekrar ediyorum: {key}."));
}

#[test]
fn an_unknown_placeholder_lists_the_valid_names() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--message", "{branch} broke"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--message: unknown placeholder {branch}"), "{}", out.stderr);
    assert!(out.stderr.contains("{ref_name}") && out.stderr.contains("{job_url}"));
    assert!(server.received().is_empty());
}

#[test]
fn success_with_only_voice_sends_nothing() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--status", "SUCCESS", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
    let json = out.json();
    assert_eq!(json["result"], "skipped");
    assert_eq!(json["channels"][0]["result"], "skipped");
    assert!(out.stderr.contains("status success is not in --notify-on (failure)"), "{}", out.stderr);
}

#[test]
fn notify_on_always_fires_on_success() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--status", "success", "--notify-on", "always"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn no_channel_is_a_warning_and_success() {
    let out = run(onfail().args(["send", "--output", "json"]));
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("warning: no channel is configured"), "{}", out.stderr);
    assert_eq!(out.json()["result"], "skipped");
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server)
        .args(["--phone-numbers", PHONES[0]])
        .env("ONFAIL_STATUS", "")
        .env("ONFAIL_TIMEOUT", "")
        .env("ONFAIL_DRY_RUN", "")
        .env("ONFAIL_MESSAGE", ""));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
}

#[test]
fn options_come_from_the_environment_in_any_case() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server)
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0])
        .env("ONFAIL_DRY_RUN", "TRUE")
        .env("ONFAIL_OUTPUT", "JSON"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["result"], "dry-run");
    assert!(server.received().is_empty());
}

#[test]
fn bad_values_name_the_option() {
    for (args, says) in [
        (vec!["--dry-run=yes"], "--dry-run takes true or false"),
        (vec!["--timeout", "soon"], "not a duration"),
        (vec!["--status", "broken"], "not a status"),
        (vec!["--notify-on", "failure,never"], "'never' is not a status"),
    ] {
        let out = run(onfail().arg("send").args(&args));
        assert_eq!(out.code, 2, "{args:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let out = run(onfail().args(["send"]).env("ONFAIL_FAIL_ON_ERROR", "maybe"));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--fail-on-error takes true or false"), "{}", out.stderr);
}

/// GitLab's `CI_JOB_STATUS` and Jenkins' `currentBuild.result` words are read as the outcome
/// they name: `--status $CI_JOB_STATUS` in an `after_script` pages on `failed`.
#[test]
fn gitlab_and_jenkins_status_words_are_read() {
    for (word, calls) in [
        ("failed", true),
        ("FAILURE", true),
        ("UNSTABLE", true),
        ("canceled", false),
        ("ABORTED", false),
        ("NOT_BUILT", false),
        ("SUCCESS", false),
    ] {
        let server = Server::ok(QUEUED);
        let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--status", word, "--output", "json"]));
        assert_eq!(out.code, 0, "{word}: {}", out.stderr);
        assert_eq!(server.received().len(), usize::from(calls), "{word}: {}", out.stderr);
        let status = out.json()["status"].as_str().unwrap().to_string();
        let want = match word {
            "failed" | "FAILURE" | "UNSTABLE" => "failure",
            "canceled" | "ABORTED" => "cancelled",
            "NOT_BUILT" => "skipped",
            _ => "success",
        };
        assert_eq!(status, want, "{word}");
    }
    let out = run(onfail().args(["send", "--status", "broke"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--status") && out.stderr.contains("UNSTABLE"), "{}", out.stderr);
}

#[test]
fn fail_on_error_false_exits_zero_on_failure() {
    let server = Server::new(vec![], Reply::status(403));
    let out = run(send(&server).args(["--phone-numbers", PHONES[0], "--fail-on-error", "false"]));
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("FAILED"));
}

#[test]
fn check_validates_and_shows_where_alerts_go() {
    let server = Server::ok(QUEUED);
    let out = run(send(&server).args(["--phone-numbers", &PHONES.join(" ")]).env("X", "1"));
    assert_eq!(out.code, 0);
    let out = run(onfail()
        .args(["check", "--alertalk-url", &server.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("voice (alertalk) configured; would send to http://127.0.0.1:"), "{}", out.stderr);
    assert!(out.stderr.contains("recipients: 5*******67"));
    assert_eq!(server.received().len(), 1, "check sends nothing");
}

#[test]
fn help_shows_examples_and_version_prints() {
    let out = run(onfail().arg("--help"));
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Examples:") && out.stdout.contains("onfail send --dry-run"));
    let out = run(onfail().args(["send", "--help"]));
    assert!(out.stdout.contains("--alertalk-webhook-key") && out.stdout.contains("Voice (Alertalk)"));
    let out = run(onfail().arg("--version"));
    assert_eq!(out.stdout.trim(), format!("onfail {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_never_shows_secret_environment_values() {
    let out = run(onfail()
        .args(["send", "--help"])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("ONFAIL_PHONE_NUMBERS", PHONES[0]));
    assert_eq!(out.code, 0);
}
