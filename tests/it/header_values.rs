//! Values onfail sends as HTTP header values (docs/security.md, "Security"): one a header cannot carry
//! (a line break, any control character) or one that is only an authorization scheme (a secret
//! that did not arrive) is a usage error naming the option, exit 2, nothing sent; never a
//! "transient" failure retried until the deadline.

use crate::common::{INCIDENTIO_TOKEN, KEY, PHONES, Server, onfail, run};

/// Each option that becomes a header value, set to `value`, with what its channel needs, all
/// aimed at `server`.
fn with_header_option(server: &Server, option: &str, value: &str) -> assert_cmd::Command {
    let mut cmd = onfail();
    cmd.arg("send");
    match option {
        "--alertalk-webhook-key" => {
            cmd.args(["--alertalk-url", &server.url("/webhook/receive"), "--phone-numbers", PHONES[0]]);
        }
        "--incidentio-token" => {
            cmd.args(["--incidentio-url", &server.url("/v2/alert_events/http/01SOURCE")]);
        }
        "--github-token" => {
            cmd.args(["--alertalk-url", &server.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
                .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY);
        }
        other => panic!("no set-up for {other}"),
    }
    cmd.arg(format!("{option}={value}"));
    cmd
}

const HEADER_OPTIONS: [&str; 3] = ["--alertalk-webhook-key", "--incidentio-token", "--github-token"];

#[test]
fn a_header_value_a_header_cannot_carry_is_a_usage_error_naming_the_option() {
    for option in HEADER_OPTIONS {
        for value in
            [format!("{KEY}\r\nX-Injected: 1"), format!("{KEY}\nrest"), format!("{KEY}\u{1b}x"), format!("{KEY}\u{7f}")]
        {
            let server = Server::ok(r#"{"message":"1 call(s) queued","status":"success"}"#);
            let out = run(&mut with_header_option(&server, option, &value));
            assert_eq!(out.code, 2, "{option} {value:?}: {}", out.stderr);
            assert!(out.stderr.contains(&format!("{option}: ")), "{option}: {}", out.stderr);
            assert!(out.stderr.contains("line break or another control character"), "{option}: {}", out.stderr);
            assert!(server.received().is_empty(), "{option}: something was sent");
        }
    }
    let server = Server::ok("{}");
    let out =
        run(onfail().args(["send", "--webhook-url", &server.url("/hook"), "--webhook-headers", "X-Key: a\u{1b}b"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--webhook-headers: line 1 (X-Key)"), "{}", out.stderr);
    assert!(server.received().is_empty());
}

#[test]
fn a_header_that_is_only_a_scheme_is_a_usage_error_naming_the_header() {
    for scheme in ["Bearer", "bearer", "APIKEY", "ApiKey", "Basic", "token", "TOKEN"] {
        let server = Server::ok("{}");
        let lines = format!("X-Team: on-call\nAuthorization:  {scheme} \n");
        let out = run(onfail()
            .args(["send", "--webhook-url", &server.url("/hook"), "--webhook-headers", &lines])
            .env("GITHUB_ACTIONS", "true"));
        assert_eq!(out.code, 2, "{scheme}: {}", out.stderr);
        let says =
            format!("--webhook-headers: line 2 (Authorization): the value is only the authorization scheme `{scheme}`");
        assert!(out.stderr.contains(&says), "{scheme}: {}", out.stderr);
        // The word is not a secret: it is neither masked in the log nor starred out.
        let mask = format!("::add-mask::{scheme}");
        assert!(!format!("{}\n{}", out.stdout, out.stderr).lines().any(|l| l.trim() == mask), "{}", out.stderr);
        assert!(out.stderr.contains("::add-mask::on-call"), "the real values are still masked: {}", out.stderr);
        assert!(server.received().is_empty());
    }
}

#[test]
fn a_token_that_is_only_a_scheme_is_a_usage_error_and_an_empty_one_is_unset() {
    let server = Server::ok("{}");
    for option in HEADER_OPTIONS {
        let out = run(&mut with_header_option(&server, option, " Bearer "));
        assert_eq!(out.code, 2, "{option}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("{option}: is only the authorization scheme `Bearer`")), "{}", out.stderr);
    }
    // An empty token is an unset one: incident.io then says the token is required.
    let out = run(&mut with_header_option(&server, "--incidentio-token", "  "));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--incidentio-token: is required with --incidentio-url"), "{}", out.stderr);
    // A real token still goes out as a bearer token.
    let out = run(&mut with_header_option(&server, "--incidentio-token", INCIDENTIO_TOKEN));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("Authorization"), Some(format!("Bearer {INCIDENTIO_TOKEN}").as_str()));
}

/// Control characters a command line can carry (no NUL), but the tab, which a header may hold.
fn control() -> impl proptest::strategy::Strategy<Value = char> {
    use proptest::prelude::*;
    prop_oneof![
        prop::char::range('\u{1}', '\u{8}'),
        prop::char::range('\u{a}', '\u{1f}'),
        Just('\u{7f}'),
        prop::char::range('\u{80}', '\u{9f}'),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, failure_persistence: None, ..Default::default() })]

    /// Wherever a control character sits in whichever option becomes a header value, the run
    /// stops with exit 2 naming that option, and nothing is sent.
    #[test]
    fn any_control_character_in_a_header_option_is_a_usage_error(
        option in proptest::sample::select(HEADER_OPTIONS.to_vec()),
        c in control(),
        at in 1..KEY.len() - 1,
    ) {
        let server = Server::ok("{}");
        let value = format!("{}{c}{}", &KEY[..at], &KEY[at..]);
        let out = run(&mut with_header_option(&server, option, &value));
        proptest::prop_assert_eq!(out.code, 2, "{} {:?}: {}", option, c, out.stderr);
        proptest::prop_assert!(out.stderr.contains(&format!("{option}: ")), "{}", out.stderr);
        proptest::prop_assert!(server.received().is_empty());
    }
}
