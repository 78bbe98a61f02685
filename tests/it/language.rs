//! Languages and per-channel texts, end to end: the binary runs as a process against fake
//! Alertalk, iletiMerkezi and webhook servers on 127.0.0.1 (docs/language.md, "Language").

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
        // A first attempt: its SMS links the run (a re-run's links its attempt).
        cmd.env("GITHUB_RUN_ATTEMPT", "1");
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
    // The key sentence is said twice, as in Turkish: the first seconds of a call are lost.
    let key = "Workflow Deploy failed in acme api on branch main";
    assert_eq!(voice, format!("CI alert. {key}. I repeat: {key}."));
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
        .args(["--", "sh", "-c", "nightly_backup() { exit 4; }; nightly_backup"]));
    assert_eq!(out.code, 4, "{}", out.stderr);
    let voice = server.received()[0].json()["error_message"].as_str().unwrap().to_string();
    // A shell's command is named by its script, not "sh".
    let key = "test host sunucusunda nightly backup komutu başarısız oldu";
    assert_eq!(voice, format!("Alarm. {key}. Çıkış kodu 4. Tekrar ediyorum: {key}."));
}

impl Fakes {
    /// `onfail run` on a host (no CI variables) aimed at all three fakes, with `options` and
    /// `command`.
    #[cfg(unix)]
    fn run_on_host(&self, options: &[&str], command: &[&str]) -> assert_cmd::Command {
        let mut cmd = onfail();
        cmd.args(["run", "--phone-numbers", PHONES[0], "--sms-sender", "ACME"])
            .args(options)
            .args(["--alertalk-url", &self.voice.url("/webhook/receive")])
            .args(["--iletimerkezi-url", &self.sms.url("")])
            .args(["--webhook-url", &self.webhook.url("/hook")])
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_HASH", KEY)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--")
            .args(command);
        cmd
    }
}

/// Item: outside CI, the English title, SMS and incident text do not speak of a "CI job".
#[cfg(unix)]
#[test]
fn outside_ci_english_texts_do_not_say_ci() {
    let fakes = Fakes::new();
    let out = run(&mut fakes.run_on_host(&["--language", "en"], &["sh", "-c", "exit 3"]));
    assert_eq!(out.code, 3, "{}", out.stderr);
    let (voice, sms, (title, message)) = fakes.received();
    assert_eq!(sms, "FAILURE: exit 3 failed on test-host: exit 3 exited with code 3.");
    assert_eq!(title, "exit 3 failed on test-host");
    assert!(message.starts_with("exit 3 failed on test-host.\n"), "{message}");
    for text in [&voice, &sms, &title, &message] {
        assert!(!text.contains("CI"), "{text}");
    }
    // Without a command, a host's job is "Job".
    let fakes = Fakes::new();
    let mut cmd = fakes.send();
    cmd.env_remove("GITHUB_ACTIONS").args(["--language", "en"]);
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, sms, (title, _)) = fakes.received();
    assert_eq!((sms.as_str(), title.as_str()), ("FAILURE: Job failed on test-host", "Job failed on test-host"));
}

/// Item: a Turkish SMS does not carry the operating system's English error text when the
/// command cannot start: not "command not found", not "Exec format error (os error 8)".
#[cfg(unix)]
#[test]
fn a_turkish_sms_says_in_turkish_why_the_command_did_not_start() {
    let fakes = Fakes::new();
    let out = run(&mut fakes.run_on_host(&[], &["/no/such/backup.sh"]));
    assert_eq!(out.code, 127, "{}", out.stderr);
    let (voice, sms, _) = fakes.received();
    assert_eq!(sms, "HATA: backup.sh başarısız - test-host sunucusu. Başlatılamadı: komut bulunamadı.");
    assert!(voice.contains(" Komut bulunamadı. "), "{voice}");

    // A file that is executable but no program: the kernel's ENOEXEC, in English from the OS.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, [0u8, 1, 2, 3, 0xff, 0xfe]).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o755)).unwrap();
    let fakes = Fakes::new();
    let out = run(&mut fakes.run_on_host(&[], &[junk.to_str().unwrap()]));
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(out.stderr.contains("Exec format error"), "the terminal keeps the system's reason: {}", out.stderr);
    let (voice, sms, _) = fakes.received();
    assert_eq!(sms, "HATA: junk başarısız - test-host sunucusu. Başlatılamadı.");
    for text in [&voice, &sms] {
        assert!(!text.contains("error") && !text.contains("not found"), "{text}");
    }
}

/// Item: the chain's SMS says how to acknowledge where that is known (GitHub: cancel the run);
/// a cron host has no "Cancel workflow" to press, so nothing is said there.
#[test]
fn a_chain_sms_says_cancel_workflow_on_github_only() {
    let chain = |github: bool| {
        let mut cmd = onfail();
        cmd.args(["send", "--dry-run", "--escalate", "chain", "--sms-sender", "ACME"])
            .args(["--phone-numbers", PHONES[0], "--escalation-phone-numbers", PHONES[1]])
            .env("ONFAIL_ALERTALK_WEBHOOK_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_KEY", KEY)
            .env("ONFAIL_ILETIMERKEZI_HASH", KEY);
        if github {
            github_env(&mut cmd);
        }
        let out = run(&mut cmd);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    let on_github = chain(true);
    assert!(on_github.contains("Onaylamak için çalıştırmayı açıp Cancel workflow düğmesine basın."), "{on_github}");
    let on_host = chain(false);
    assert!(on_host.contains("\"text\":\"HATA: İş başarısız - test-host sunucusu\""), "{on_host}");
    assert!(!on_host.contains("Cancel workflow") && !on_host.contains("Onaylamak"), "{on_host}");
}
