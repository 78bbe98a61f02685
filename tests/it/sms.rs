//! The SMS channel (iletiMerkezi) and `check --online`, end to end: the binary runs as a process
//! against a fake iletiMerkezi on 127.0.0.1 that answers send-sms, get-report and get-balance.

use crate::common::{KEY, PHONES, Reply, Run, Server, github_env, onfail, run};

/// A second sentinel: the hash must never show up either.
const HASH: &str = "ih-SENTINEL-hash-5b2e81";

const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"İşlem başarılı"},"order":{"id":"12323232"}}}"#;

/// An iletiMerkezi error envelope: only `response.status`.
fn error(code: &str) -> String {
    format!(r#"{{"response":{{"status":{{"code":{code},"message":"Hata mesajı"}}}}}}"#)
}

/// A get-report answer with the given order status and `(+90 number, message status)` pairs.
fn report(order_status: u16, messages: &[(&str, u16)]) -> Reply {
    let messages: Vec<String> =
        messages.iter().map(|(n, s)| format!(r#"{{"number":"+90{n}","status":{s}}}"#)).collect();
    Reply::json(
        200,
        &format!(
            r#"{{"response":{{"status":{{"code":200,"message":"İşlem başarılı"}},"order":{{"id":"12323232","status":{order_status},"total":{},"message":[{}]}}}}}}"#,
            messages.len(),
            messages.join(",")
        ),
    )
}

/// `onfail send` with the SMS channel aimed at `server`, credentials from the environment.
fn send(server: &Server) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.args(["send", "--iletimerkezi-url", &server.url("")])
        .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_SENDER", "ACME");
    cmd
}

/// `run`, plus the hash sentinel.
fn go(cmd: &mut assert_cmd::Command) -> Run {
    let out = run(cmd);
    out.assert_clean(&[HASH.to_string()]);
    out
}

#[test]
fn send_sms_goes_out_exactly_as_documented() {
    let server = Server::ok(ACCEPTED);
    let list = "+90 532 123 45 67; 05339876543, 5321234567";
    let out = go(github_env(&mut send(&server)).env("GITHUB_RUN_ATTEMPT", "1").args([
        "--sms-phone-numbers",
        list,
        "--output",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let requests = server.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/v1/send-sms/json"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    let body = request.json();
    let text = "CI HATA: Deploy başarısız - acme/api (main, 0123456) https://github.com/acme/api/actions/runs/4242";
    let expected = serde_json::json!({"request": {
        "authentication": {"key": KEY, "hash": HASH},
        "order": {
            "sender": "ACME",
            "iys": "0",
            "iysList": "BIREYSEL",
            "message": {"text": text, "receipents": {"number": ["905321234567", "905339876543"]}}
        }
    }});
    assert_eq!(body, expected);
    assert!(!String::from_utf8_lossy(&request.body).contains("recipients"));

    assert!(
        out.stderr
            .contains("sms (iletimerkezi) → 5*******67, 5*******43: sent after 1 attempt, HTTP 200: order 12323232"),
        "{}",
        out.stderr
    );
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["channel"], "sms");
    assert_eq!(channel["provider"], "iletimerkezi");
    assert_eq!(channel["ids"]["sms_order_id"], "12323232");
    assert_eq!(channel["recipients"], serde_json::json!(["5*******67", "5*******43"]));
}

#[test]
fn the_numbers_default_to_phone_numbers_and_a_message_overrides_the_text() {
    let server = Server::ok(ACCEPTED);
    let out = go(send(&server).args(["--phone-numbers", PHONES[1], "--message", "Disk full on {hostname}"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let body = server.received()[0].json();
    assert_eq!(body["request"]["order"]["message"]["receipents"]["number"], serde_json::json!(["905339876543"]));
    assert_eq!(body["request"]["order"]["message"]["text"], "Disk full on test-host");
}

#[test]
fn an_order_id_that_is_a_number_is_kept_as_text() {
    let server = Server::ok(r#"{"response":{"status":{"code":"200","message":"OK"},"order":{"id":987654321}}}"#);
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["channels"][0]["ids"]["sms_order_id"], "987654321");
    assert!(out.stderr.contains("HTTP 200: order 987654321"), "{}", out.stderr);
}

#[test]
fn the_body_code_decides_not_the_http_status() {
    // HTTP 200 with body code 401: a failure, never retried, explaining the panel settings.
    let server = Server::new(vec![], Reply::json(200, &error("401")));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 1, "a 401 must not be retried");
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "failed");
    assert_eq!(channel["http_status"], 200);
    let detail = channel["detail"].as_str().unwrap();
    assert!(detail.starts_with("iletiMerkezi refused the credentials: check iletimerkezi-key"), "{detail}");
    assert!(detail.contains("(code 401)"), "{detail}");
    assert!(detail.contains("Allow API access") && detail.contains("static IP"), "{detail}");
    assert!(detail.contains("iletiMerkezi said: Hata mesajı"), "{detail}");

    // A string "200" in the body is success even when the HTTP status says otherwise.
    let server = Server::new(vec![], Reply::json(202, r#"{"response":{"status":{"code":"200"},"order":{"id":"7"}}}"#));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 202: order 7"), "{}", out.stderr);
}

#[test]
fn every_permanent_code_has_a_plain_message_and_is_not_retried() {
    for (code, says) in [
        ("400", "could not parse the request"),
        ("402", "buy credit in the iletiMerkezi panel"),
        ("404", "check --iletimerkezi-url"),
        ("450", "the sender 'ACME' is not an approved sender"),
        ("452", "block list"),
        ("453", "7 SMS parts"),
        ("454", "text is empty"),
        ("470", "no İYS code"),
    ] {
        let server = Server::new(vec![], Reply::json(400, &error(code)));
        let out = go(send(&server).args(["--phone-numbers", PHONES[0]]));
        assert_eq!(out.code, 1, "code {code}: {}", out.stderr);
        assert_eq!(server.received().len(), 1, "code {code} must not be retried");
        assert!(out.stderr.contains(says), "code {code}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("(code {code})")), "code {code}: {}", out.stderr);
    }
}

#[test]
fn a_503_is_retried() {
    let server = Server::new(vec![Reply::json(200, &error("503")), Reply::status(502)], Reply::json(200, ACCEPTED));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
    assert_eq!(out.json()["channels"][0]["attempts"], 3);
}

#[test]
fn a_451_answering_a_retry_means_the_first_attempt_got_through() {
    let server = Server::new(vec![Reply::status(503)], Reply::json(200, &error("451")));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 2);
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "sent");
    assert_eq!(channel["attempts"], 2);
    assert_eq!(channel["detail"], "accepted by an earlier attempt");
    let warning = channel["warnings"][0].as_str().unwrap();
    assert!(warning.contains("451 (duplicate order)") && warning.contains("went out once"), "{warning}");
    assert!(out.stderr.contains("warning: sms: attempt 2 was answered 451"), "{}", out.stderr);
}

#[test]
fn a_451_on_the_first_attempt_explains_the_ten_minute_rule() {
    let server = Server::new(vec![], Reply::json(200, &error("451")));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    assert!(out.stderr.contains("duplicate (code 451)"), "{}", out.stderr);
    assert!(out.stderr.contains("within the last 10 minutes"), "{}", out.stderr);
    assert!(out.stderr.contains("{time}"), "{}", out.stderr);
}

#[test]
fn an_answer_without_a_status_code_is_retried_and_then_fails() {
    let server =
        Server::new(vec![], Reply::Respond { status: 200, headers: vec![], body: b"maintenance: back soon".to_vec() });
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--retries", "1"]));
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 2);
    assert!(out.stderr.contains("without a status code in the body: maintenance: back soon"), "{}", out.stderr);
}

#[test]
fn waiting_follows_the_report_from_queued_to_delivered() {
    let replies = vec![Reply::json(200, ACCEPTED), report(113, &[(PHONES[0], 110)]), report(113, &[(PHONES[0], 110)])];
    let server = Server::new(replies, report(114, &[(PHONES[0], 111)]));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--sms-wait", "30s", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let requests = server.received();
    assert_eq!(requests.len(), 4, "send, then polls until delivered");
    assert_eq!(requests[1].path, "/v1/get-report/json");
    let poll = requests[1].json();
    assert_eq!(poll["request"]["authentication"], serde_json::json!({"key": KEY, "hash": HASH}));
    assert_eq!(poll["request"]["order"], serde_json::json!({"id": "12323232", "page": 1, "rowCount": 1000}));

    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "sent");
    assert_eq!(channel["detail"], "order 12323232: delivered to 1 of 1");
    assert_eq!(
        channel["ids"]["delivery_states"],
        serde_json::json!([{"recipient": "5*******67", "state": "delivered"}])
    );
    assert!(out.stderr.contains("order 12323232: delivered to 1 of 1 [5*******67 delivered]"), "{}", out.stderr);
}

#[test]
fn one_undelivered_recipient_fails_the_channel() {
    let replies = vec![Reply::json(200, ACCEPTED)];
    let server = Server::new(replies, report(114, &[(PHONES[0], 111), (PHONES[1], 112)]));
    let out = go(send(&server).args(["--phone-numbers", &PHONES.join(","), "--sms-wait", "20s", "--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 2);
    let json = out.json();
    assert_eq!(json["result"], "failed");
    let channel = &json["channels"][0];
    assert_eq!(channel["result"], "failed");
    assert_eq!(channel["detail"], "order 12323232: not delivered to 1 of 2: 5*******43");
    assert_eq!(channel["ids"]["sms_order_id"], "12323232");
    assert_eq!(
        channel["ids"]["delivery_states"],
        serde_json::json!([
            {"recipient": "5*******67", "state": "delivered"},
            {"recipient": "5*******43", "state": "undelivered"}
        ])
    );
    assert!(out.stderr.contains("[5*******67 delivered, 5*******43 undelivered]"), "{}", out.stderr);
}

#[test]
fn still_pending_when_the_wait_ends_is_a_warning() {
    let server = Server::new(vec![Reply::json(200, ACCEPTED), Reply::json(200, &error("455"))], report(113, &[]));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--sms-wait", "1500ms", "--output", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().len() >= 3, "polled more than once: {}", server.received().len());
    let channel = &out.json()["channels"][0];
    assert_eq!(channel["result"], "sent");
    assert_eq!(channel["ids"]["delivery_states"][0]["state"], "pending");
    let warning = channel["warnings"][0].as_str().unwrap();
    assert!(warning.starts_with("order 12323232: still pending after waiting"), "{warning}");
    assert!(out.stderr.contains("[5*******67 pending]"), "{}", out.stderr);
    // Generous bound: the wait is 1.5 s, not --timeout's 30 s.
    assert!(out.elapsed < std::time::Duration::from_secs(10), "took {:?}", out.elapsed);
}

#[test]
fn a_report_the_credentials_cannot_read_stops_the_wait_with_a_warning() {
    let server = Server::new(vec![Reply::json(200, ACCEPTED)], Reply::json(200, &error("401")));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--sms-wait", "30s"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 2, "a 401 from get-report is not polled again");
    assert!(
        out.stderr.contains("the report could not be read: iletiMerkezi refused the credentials"),
        "{}",
        out.stderr
    );
}

#[test]
fn turkish_text_long_enough_to_split_is_sent_whole_with_a_warning() {
    let server = Server::ok(ACCEPTED);
    let text = "Dağıtım başarısız oldu, İstanbul sunucusu yanıt vermiyor. ".repeat(3);
    let count = text.chars().count();
    assert!(count > 150 && count < 300);
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--message", &text]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received()[0].json()["request"]["order"]["message"]["text"], text.as_str());
    assert!(
        out.stderr.contains(&format!(
            "warning: sms: the SMS text ({count} characters, Turkish-character encoding) goes out as 2 SMS parts"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn text_over_seven_parts_is_cut_on_a_character_boundary() {
    let server = Server::ok(ACCEPTED);
    let text = "ş".repeat(1200);
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--message", &text]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent = server.received()[0].json()["request"]["order"]["message"]["text"].as_str().unwrap().to_string();
    assert_eq!(sent.chars().count(), 149 * 7 - 5);
    assert!(text.starts_with(&sent));
    assert!(out.stderr.contains(
        "the SMS text has 1200 characters, more than iletiMerkezi's 7 SMS parts hold, so it was cut to 1038"
    ));
    assert!(out.stderr.contains("goes out as 7 SMS parts"), "{}", out.stderr);
}

#[test]
fn a_short_plain_text_gives_no_warning() {
    let server = Server::ok(ACCEPTED);
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--message", &"a".repeat(155)]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_sender_of_twelve_characters_is_a_usage_error_and_nothing_is_sent() {
    let server = Server::ok(ACCEPTED);
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--sms-sender", "ACMEPLATFORM"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--sms-sender: 'ACMEPLATFORM' has 12 characters"), "{}", out.stderr);
    assert!(out.stderr.contains("at most 11"), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[test]
fn an_incomplete_configuration_names_the_option_and_sends_nothing() {
    let server = Server::ok(ACCEPTED);
    for (remove, args, says) in [
        ("ONFAIL_ILETIMERKEZI_HASH", vec!["--phone-numbers", PHONES[0]], "--iletimerkezi-hash: missing"),
        ("ONFAIL_SMS_SENDER", vec!["--phone-numbers", PHONES[0]], "--sms-sender: missing"),
        ("X", vec![], "--sms-phone-numbers: missing"),
        ("X", vec!["--sms-phone-numbers", "5321234567, 2123334455"], "--sms-phone-numbers: entry 2 (2*******55)"),
        ("X", vec!["--phone-numbers", "+44 7700 900123"], "--phone-numbers: entry 1"),
        ("X", vec!["--phone-numbers", PHONES[0], "--sms-wait", "soon"], "--sms-wait"),
    ] {
        let out = go(send(&server).env_remove(remove).args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(server.received().is_empty());

    let out = go(onfail()
        .args(["send", "--iletimerkezi-url", "http://sms.example.com/?token=tk-9f8e7d"])
        .args(["--iletimerkezi-key", KEY, "--iletimerkezi-hash", HASH, "--sms-sender", "ACME"])
        .args(["--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--iletimerkezi-url: must use https://"), "{}", out.stderr);
    out.assert_clean(&["tk-9f8e7d".to_string()]);
}

#[test]
fn dry_run_shows_the_request_with_credentials_and_numbers_hidden() {
    let server = Server::ok(ACCEPTED);
    let out = go(send(&server).args(["--phone-numbers", &PHONES.join(" "), "--dry-run"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
    assert!(out.stdout.contains("/v1/send-sms/json"), "{}", out.stdout);
    assert!(out.stdout.contains(r#""key":"***""#) && out.stdout.contains(r#""hash":"***""#), "{}", out.stdout);
    assert!(out.stdout.contains(r#""receipents""#) && out.stdout.contains(r#""5*******43""#), "{}", out.stdout);
}

#[test]
fn sms_and_voice_go_out_together() {
    let sms = Server::ok(ACCEPTED);
    let voice = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
    let out = go(send(&sms)
        .args(["--alertalk-url", &voice.url("/webhook/receive"), "--phone-numbers", PHONES[0], "--output", "json"])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", "al-other-key-1234"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!((sms.received().len(), voice.received().len()), (1, 1));
    assert_eq!(out.json()["result"], "sent");
}

/// `onfail check` aimed at `server`, with the SMS credentials.
fn check(server: &Server) -> assert_cmd::Command {
    let mut check = onfail();
    check
        .args(["check", "--iletimerkezi-url", &server.url(""), "--phone-numbers", PHONES[0]])
        .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_SENDER", "ACME");
    check
}

#[test]
fn check_online_prints_the_balance() {
    let server =
        Server::ok(r#"{"response":{"status":{"code":200,"message":"OK"},"balance":{"amount":10.584,"sms":67}}}"#);
    let out = go(check(&server).arg("--online"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let requests = server.received();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/get-balance/json");
    assert_eq!(requests[0].json(), serde_json::json!({"request": {"authentication": {"key": KEY, "hash": HASH}}}));
    assert!(out.stderr.contains("online: credentials OK; balance 10.584 TL, about 67 SMS"), "{}", out.stderr);
    assert!(out.stderr.contains("credentials checked online"), "{}", out.stderr);

    // Old-style string values, and ONFAIL_ONLINE in any case.
    let server = Server::ok(r#"{"response":{"status":{"code":"200"},"balance":{"amount":"0,5000","sms":"3"}}}"#);
    let out = go(check(&server).env("ONFAIL_ONLINE", "TRUE"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("balance 0,5000 TL, about 3 SMS"), "{}", out.stderr);
}

#[test]
fn check_online_fails_clearly_on_bad_credentials() {
    let server = Server::new(vec![], Reply::json(200, &error("401")));
    let out = go(check(&server).args(["--online", "--output", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(server.received().len(), 1);
    let json = out.json();
    assert_eq!(json["result"], "failed");
    let detail = json["channels"][0]["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("configured, but the online check FAILED: iletiMerkezi refused the credentials"),
        "{detail}"
    );

    let out = go(check(&server).arg("--online"));
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("configuration is valid, but the online check failed"), "{}", out.stderr);
}

#[test]
fn check_online_fails_when_the_balance_funds_no_sms() {
    let server = Server::ok(r#"{"response":{"status":{"code":200},"balance":{"amount":0,"sms":0}}}"#);
    let out = go(check(&server).arg("--online"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("the balance funds no SMS: buy credit"), "{}", out.stderr);
}

#[test]
fn check_without_online_sends_nothing_and_rejects_a_bad_online_value() {
    let server = Server::ok(ACCEPTED);
    let out = go(&mut check(&server));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("sms (iletimerkezi) configured; would send to http://127.0.0.1:"), "{}", out.stderr);
    assert!(server.received().is_empty());

    let out = go(check(&server).env("ONFAIL_ONLINE", "maybe"));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--online takes true or false"), "{}", out.stderr);
}

#[test]
fn check_online_says_which_channels_have_no_online_check() {
    let server = Server::ok(r#"{"response":{"status":{"code":200},"balance":{"amount":5,"sms":30}}}"#);
    let voice = Server::ok("{}");
    let out = go(check(&server)
        .args(["--online", "--alertalk-url", &voice.url("/webhook/receive")])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", "al-other-key-1234"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("voice (alertalk) configured; would send to"), "{}", out.stderr);
    assert!(out.stderr.contains("not checked online (the provider has no side-effect-free check)"), "{}", out.stderr);
    assert!(voice.received().is_empty(), "the voice channel has no side-effect-free check");
}

#[test]
fn help_lists_the_sms_options_without_their_values() {
    let out = go(onfail()
        .args(["send", "--help"])
        .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
        .env("ONFAIL_ILETIMERKEZI_HASH", HASH)
        .env("ONFAIL_SMS_PHONE_NUMBERS", PHONES[0]));
    assert_eq!(out.code, 0);
    for flag in ["SMS (iletiMerkezi)", "--iletimerkezi-key", "--iletimerkezi-hash", "--sms-sender", "--sms-wait"] {
        assert!(out.stdout.contains(flag), "{flag}");
    }
    let out = go(onfail().args(["check", "--help"]));
    assert!(out.stdout.contains("--online"));
}

#[test]
fn an_http_error_without_a_body_code_gets_the_same_plain_message() {
    let server = Server::new(vec![], Reply::Respond { status: 401, headers: vec![], body: b"Unauthorized".to_vec() });
    let out = go(send(&server).args(["--phone-numbers", PHONES[0]]));
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 1);
    assert!(out.stderr.contains("Allow API access"), "{}", out.stderr);
    assert!(out.stderr.contains("(iletiMerkezi said: Unauthorized)"), "{}", out.stderr);
}

#[test]
fn the_wait_never_runs_past_the_timeout() {
    let server = Server::new(vec![Reply::json(200, ACCEPTED)], report(113, &[(PHONES[0], 110)]));
    let out = go(send(&server).args(["--phone-numbers", PHONES[0], "--sms-wait", "60s", "--timeout", "3s"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("still pending after waiting"), "{}", out.stderr);
    assert!(out.stderr.contains("--timeout ended the wait before --sms-wait did"), "{}", out.stderr);
    // Generous bound: about --timeout, nowhere near --sms-wait.
    assert!(out.elapsed < std::time::Duration::from_secs(15), "took {:?}", out.elapsed);
}
