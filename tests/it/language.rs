//! Languages and per-channel texts, end to end: the binary runs as a process against fake
//! Alertalk, iletiMerkezi and webhook servers on 127.0.0.1 (README, "Language").

use crate::common::{KEY, PHONES, Server, github_env, onfail, run};

const QUEUED: &str = r#"{"message":"1 call(s) queued","status":"success"}"#;
const ACCEPTED: &str = r#"{"response":{"status":{"code":200,"message":"İşlem başarılı"},"order":{"id":"1"}}}"#;

/// The GitHub run of `github_env` in Turkish, as the call says it.
const KEY_SENTENCE: &str = "acme api deposunda Deploy iş akışı main dalında başarısız oldu";

/// Fake Alertalk, iletiMerkezi and webhook servers, and `onfail send` aimed at all three.
struct Fakes {
    voice: Server,
    sms: Server,
    webhook: Server,
}

impl Fakes {
    fn new() -> Fakes {
        Fakes { voice: Server::ok(QUEUED), sms: Server::ok(ACCEPTED), webhook: Server::ok("{}") }
    }

    fn send(&self) -> assert_cmd::Command {
        let mut cmd = onfail();
        cmd.args(["send", "--phone-numbers", PHONES[0], "--sms-sender", "ACME"])
            .args(["--alertalk-url", &self.voice.url("/webhook/receive")])
            .args(["--iletimerkezi-url", &self.sms.url("")])
            .args(["--webhook-url", &self.webhook.url("/hook")])
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_HASH", KEY);
        github_env(&mut cmd);
        cmd
    }

    /// What was said on the call, texted, and posted (title, message).
    fn received(&self) -> (String, String, (String, String)) {
        let voice = self.voice.received()[0].json()["error_message"].as_str().unwrap().to_string();
        let sms = self.sms.received()[0].json()["request"]["order"]["message"]["text"].as_str().unwrap().to_string();
        let data = &self.webhook.received()[0].json()["data"];
        let posted = (data["title"].as_str().unwrap().to_string(), data["message"].as_str().unwrap().to_string());
        (voice, sms, posted)
    }
}

#[test]
fn by_default_phones_hear_turkish_and_screens_read_english() {
    let fakes = Fakes::new();
    let out = run(&mut fakes.send());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, sms, (title, message)) = fakes.received();
    assert_eq!(voice, format!("CI alarmı. {KEY_SENTENCE}. Tekrar ediyorum: {KEY_SENTENCE}."));
    assert_eq!(
        sms,
        "CI HATA: Deploy başarısız - acme/api (main, 0123456) https://github.com/acme/api/actions/runs/4242"
    );
    assert_eq!(title, "Deploy failed in acme/api");
    assert!(message.starts_with("Deploy failed in acme/api.\nRepository: acme/api\n"), "{message}");
    // onfail's own messages stay English.
    assert!(out.stderr.contains("voice (alertalk) → 5*******67: sent after 1 attempt"), "{}", out.stderr);
}

#[test]
fn language_en_speaks_english_everywhere() {
    let fakes = Fakes::new();
    let out = run(fakes.send().args(["--language", "en"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, sms, (title, _)) = fakes.received();
    assert_eq!(voice, "CI alert. Workflow Deploy failed in acme api on branch main.");
    assert_eq!(
        sms,
        "CI FAILURE: Deploy failed in acme/api (main 0123456) https://github.com/acme/api/actions/runs/4242"
    );
    assert_eq!(title, "Deploy failed in acme/api");
}

#[test]
fn language_tr_writes_turkish_everywhere_from_the_environment_in_any_case() {
    let fakes = Fakes::new();
    let out = run(fakes.send().env("ONFAIL_LANGUAGE", " TR\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, _, (title, message)) = fakes.received();
    assert!(voice.starts_with("CI alarmı."), "{voice}");
    assert_eq!(title, "acme/api deposunda Deploy iş akışı başarısız oldu");
    assert!(message.contains("\nDepo: acme/api\nİş akışı: Deploy\nİş: build\nDal: main\n"), "{message}");
    assert!(out.stderr.contains("sent after 1 attempt"), "{}", out.stderr);
}

#[test]
fn an_unknown_language_is_a_usage_error_and_nothing_is_sent() {
    let fakes = Fakes::new();
    let out = run(fakes.send().args(["--language", "fr"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--language"), "{}", out.stderr);
    assert!(out.stderr.contains("'fr' is not a language; use auto, tr or en"), "{}", out.stderr);
    assert!(
        fakes.voice.received().is_empty() && fakes.sms.received().is_empty() && fakes.webhook.received().is_empty()
    );
}

#[test]
fn voice_message_reaches_only_the_call() {
    let fakes = Fakes::new();
    let out =
        run(fakes.send().args(["--message", "All: {workflow}", "--voice-message", "Çağrı: {workflow} {ref_name}"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, sms, (_, message)) = fakes.received();
    assert_eq!(voice, "Çağrı: Deploy main");
    assert_eq!((sms.as_str(), message.as_str()), ("All: Deploy", "All: Deploy"));
}

#[test]
fn sms_message_reaches_only_the_sms_and_the_others_keep_their_defaults() {
    let fakes = Fakes::new();
    let out = run(fakes.send().env("ONFAIL_SMS_MESSAGE", "{repository} kırmızı: {run_url}"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, sms, (_, message)) = fakes.received();
    assert_eq!(sms, "acme/api kırmızı: https://github.com/acme/api/actions/runs/4242");
    assert!(voice.starts_with("CI alarmı. "), "{voice}");
    assert!(message.starts_with("Deploy failed in acme/api."), "{message}");
}

#[test]
fn a_bad_placeholder_in_a_channel_message_names_its_option() {
    let fakes = Fakes::new();
    let out = run(fakes.send().args(["--sms-message", "{branch}"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--sms-message: unknown placeholder {branch}"), "{}", out.stderr);
    let out = run(fakes.send().args(["--voice-message", "{commit}"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--voice-message: unknown placeholder {commit}"), "{}", out.stderr);
    assert!(fakes.voice.received().is_empty() && fakes.sms.received().is_empty());
}

#[test]
fn a_long_repository_name_cuts_the_call_on_a_character_boundary_and_keeps_the_sms_link() {
    let fakes = Fakes::new();
    let repository = format!("acme/{}", "ğüşıöç-".repeat(60));
    let out = run(fakes.send().env("GITHUB_REPOSITORY", &repository));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (voice, sms, _) = fakes.received();
    assert_eq!(voice.chars().count(), 500);
    assert!(voice.starts_with("CI alarmı. acme ğüşıöç ğüşıöç "), "{voice}");
    assert!(out.stderr.contains("warning: voice: the voice text has"), "{}", out.stderr);
    assert!(out.stderr.contains("Alertalk reads at most 500, so it was cut"), "{}", out.stderr);
    let link = format!("https://github.com/{repository}/actions/runs/4242");
    assert!(sms.ends_with(&format!(" {link}")), "{sms}");
}

#[cfg(unix)]
#[test]
fn onfail_run_says_the_exit_code_in_turkish() {
    let server = Server::ok(QUEUED);
    let out = run(onfail()
        .args(["run", "--alertalk-url", &server.url("/webhook/receive"), "--phone-numbers", PHONES[0]])
        .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["--", "sh", "-c", "exit 4"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let voice = server.received()[0].json()["error_message"].as_str().unwrap().to_string();
    let key = "test host sunucusunda sh komutu başarısız oldu";
    assert_eq!(voice, format!("Alarm. {key}. Çıkış kodu 4. Tekrar ediyorum: {key}."));
}
