//! The Turkish texts (docs/language.md, "Language"). Suffixes sit on fixed words ("deposunda", "dalında",
//! "iş akışı"), never on a name, whose last vowel nobody knows in advance; the voice text says
//! its key sentence twice, because the first seconds of a call are lost while answering.

use super::{
    FieldLabels, JobsNamed, Since, Spoken, Texts, Words, clip, end_sentence, ended, jobs_note, recovered_names,
    sms_ending, with_link,
};
use crate::context::{Context, Source};
use crate::runner::{Ended, StartFailure, signal_name};
use crate::status::Status;

pub struct Turkish;

/// The Turkish words of the shared layouts.
const WORDS: Words = Words {
    fields: FieldLabels {
        repository: "Depo",
        workflow: "İş akışı",
        job: "İş",
        ref_name: "Dal",
        commit: "Commit",
        actor: "Tetikleyen",
        event: "Olay",
        run: "Çalıştırma",
        job_url: "İş bağlantısı",
        host: "Sunucu",
        time: "Zaman",
    },
    jobs: |kind, one| match (kind, one) {
        (JobsNamed::Failed, true) => "Başarısız iş",
        (JobsNamed::Failed, false) => "Başarısız işler",
        (JobsNamed::Skipped, true) => "Atlanan iş",
        (JobsNamed::Skipped, false) => "Atlanan işler",
    },
    more_jobs: |n| format!(" ve {n} iş daha"),
    failed_step: "Başarısız adım",
    command: "Komut",
    result: "Sonuç",
    ended: |ended| match ended {
        Ended::Exited(0) => "başarılı (çıkış kodu 0)".to_string(),
        other => written_end(other),
    },
    tail: |n| format!("Çıktının son {n} satırı:"),
};

/// What happened, as the end of a sentence.
fn verb(status: Status) -> &'static str {
    match status {
        Status::Failure => "başarısız oldu",
        Status::Success => "başarıyla tamamlandı",
        Status::Cancelled => "iptal edildi",
        Status::Skipped => "atlandı",
    }
}

/// What happened, in the few words of an SMS.
fn short_verb(status: Status) -> &'static str {
    match status {
        Status::Failure => "başarısız",
        Status::Success => "başarılı",
        Status::Cancelled => "iptal edildi",
        Status::Skipped => "atlandı",
    }
}

/// The SMS's first word: "CI HATA", or "HATA" outside CI.
fn sms_lead(ctx: &Context) -> String {
    let word = match ctx.status {
        Status::Failure => "HATA",
        Status::Success => "TAMAM",
        Status::Cancelled => "İPTAL",
        Status::Skipped => "ATLANDI",
    };
    if ctx.source == Source::Host { word.to_string() } else { format!("CI {word}") }
}

/// The CI system's word for a named workflow, and the same word as "the one in ...":
/// `Deploy iş akışı`, `Deploy iş akışındaki make komutu`.
fn workflow_words(source: Source) -> (&'static str, &'static str) {
    match source {
        Source::GitHub => ("iş akışı", "iş akışındaki"),
        Source::GitLab => ("işlem hattı", "işlem hattındaki"),
        Source::Jenkins | Source::Host => ("işi", "işindeki"),
    }
}

/// What to call a workflow without a name (a GitLab pipeline often has none).
fn unnamed(source: Source) -> &'static str {
    match source {
        Source::GitHub => "iş akışı",
        Source::GitLab => "işlem hattı",
        Source::Jenkins => "Jenkins işi",
        Source::Host => "bir iş",
    }
}

/// The names a sentence mentions: spoken forms for a call, written ones for a title.
struct Names<'a> {
    repository: &'a str,
    workflow: &'a str,
    ref_name: &'a str,
    hostname: &'a str,
    program: &'a str,
}

/// `acme payments api deposunda Deploy iş akışı main dalında başarısız oldu`
fn sentence(ctx: &Context, names: &Names) -> String {
    let mut words = Vec::new();
    if !names.repository.is_empty() {
        words.push(format!("{} deposunda", names.repository));
    } else if names.workflow.is_empty() && !names.hostname.is_empty() {
        words.push(format!("{} sunucusunda", names.hostname));
    }
    let (named, inside) = workflow_words(ctx.source);
    words.push(match (names.workflow, names.program) {
        ("", "") => unnamed(ctx.source).to_string(),
        (workflow, "") => format!("{workflow} {named}"),
        ("", program) => format!("{program} komutu"),
        (workflow, program) => format!("{workflow} {inside} {program} komutu"),
    });
    if !names.ref_name.is_empty() {
        words.push(format!("{} dalında", names.ref_name));
    }
    words.push(verb(ctx.status).to_string());
    words.join(" ")
}

/// The command's end, to be heard: no paths, no signal names.
fn spoken_end(ended: &Ended) -> String {
    match ended {
        Ended::Exited(code) => format!("Çıkış kodu {code}."),
        Ended::Signalled(signal) => format!("Komut {signal} numaralı sinyalle durduruldu."),
        Ended::NotStarted(StartFailure::NotFound) => "Komut bulunamadı.".to_string(),
        Ended::NotStarted(_) => "Komut başlatılamadı.".to_string(),
    }
}

/// Why a command could not start, in Turkish; the operating system's own English words (an
/// unnamed cause) are left out rather than put into a Turkish text.
fn start_failure(why: &StartFailure) -> &'static str {
    match why {
        StartFailure::NotFound => "başlatılamadı: komut bulunamadı",
        StartFailure::IsDirectory => "başlatılamadı: bu bir klasör",
        StartFailure::NotExecutable => "başlatılamadı: çalıştırma izni yok",
        StartFailure::Other(_) => "başlatılamadı",
    }
}

/// The command's end, to be read: `çıkış kodu 3`, `9 numaralı sinyalle durduruldu (SIGKILL)`.
fn written_end(ended: &Ended) -> String {
    match ended {
        Ended::Exited(code) => format!("çıkış kodu {code}"),
        Ended::Signalled(signal) => match signal_name(*signal) {
            Some(name) => format!("{signal} numaralı sinyalle durduruldu ({name})"),
            None => format!("{signal} numaralı sinyalle durduruldu"),
        },
        Ended::NotStarted(why) => start_failure(why).to_string(),
    }
}

/// The first letter in upper case, the Turkish way: `i` becomes `İ` (`char::to_uppercase` would
/// give `I`, which is the capital of `ı`, another letter).
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some('i') => std::iter::once('İ').chain(chars).collect(),
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The SMS: the alert, `note` (if any), and the link last.
fn sms_with(ctx: &Context, note: Option<&str>) -> String {
    let name = match &ctx.command {
        _ if !ctx.workflow.is_empty() => clip(&ctx.workflow),
        Some(command) => clip(&command.program),
        None => capitalised(unnamed(ctx.source).trim_start_matches("bir ")),
    };
    let mut text = format!("{}: {name} {}", sms_lead(ctx), short_verb(ctx.status));
    if !ctx.repository.is_empty() {
        text.push_str(&format!(" - {}", clip(&ctx.repository)));
    } else if ctx.workflow.is_empty() && !ctx.hostname.is_empty() {
        text.push_str(&format!(" - {} sunucusu", clip(&ctx.hostname)));
    }
    if !ctx.ref_name.is_empty() {
        text.push_str(&format!(" ({}", clip(&ctx.ref_name)));
        if !ctx.sha.is_empty() {
            text.push_str(&format!(", {}", ctx.short_sha()));
        }
        text.push(')');
    }
    if let Some(command) = ended(ctx) {
        end_sentence(&mut text);
        let end = written_end(&command.ended);
        if ctx.workflow.is_empty() {
            text.push_str(&format!(" {}.", capitalised(&end)));
        } else {
            text.push_str(&format!(" {}: {end}.", clip(&command.program)));
        }
    }
    sms_ending(text, ctx, &WORDS, note)
}

impl Texts for Turkish {
    /// `acme/api deposunda Deploy iş akışı başarısız oldu`
    fn title(&self, ctx: &Context) -> String {
        let program = ctx.command.as_ref().map(|c| c.program.as_str()).unwrap_or_default();
        let names = Names {
            repository: &ctx.repository,
            workflow: &ctx.workflow,
            ref_name: "",
            hostname: &ctx.hostname,
            program: if ctx.workflow.is_empty() { program } else { "" },
        };
        sentence(ctx, &names)
    }

    /// `CI alarmı. acme payments api deposunda Deploy iş akışı main dalında başarısız oldu.
    /// Tekrar ediyorum: ...`
    fn voice(&self, ctx: &Context) -> String {
        let said = Spoken::of(ctx);
        let names = Names {
            repository: &said.repository,
            workflow: &said.workflow,
            ref_name: &said.ref_name,
            hostname: &said.hostname,
            program: &said.program,
        };
        let key = sentence(ctx, &names);
        let lead = match (ctx.source, ctx.status) {
            (Source::Host, Status::Failure) => "Alarm.",
            (Source::Host, _) => "Bildirim.",
            (_, Status::Failure) => "CI alarmı.",
            _ => "CI bildirimi.",
        };
        let mut text = format!("{lead} {key}.");
        if let Some(command) = ended(ctx) {
            text.push_str(&format!(" {}", spoken_end(&command.ended)));
        }
        if let Some((kind, jobs)) = &said.jobs {
            text.push_str(&format!(" {}.", jobs_note(&WORDS, *kind, jobs)));
        }
        text.push_str(&format!(" Tekrar ediyorum: {key}."));
        text
    }

    /// `CI HATA: Deploy başarısız - acme/api (main, a1b2c3d) https://...`
    fn sms(&self, ctx: &Context) -> String {
        sms_with(ctx, None)
    }

    fn detailed(&self, ctx: &Context) -> String {
        super::detailed(self.title(ctx), ctx, &WORDS)
    }

    /// `CI DÜZELDİ: Deploy (acme/api, main) yeniden başarılı. Hata başlangıcı: çalıştırma #41.
    /// https://...` (a label and a colon: no suffix on a name or a number).
    fn recovered(&self, ctx: &Context, since: Option<&str>) -> String {
        let unnamed = capitalised(unnamed(ctx.source).trim_start_matches("bir "));
        let (subject, place) = recovered_names(ctx, unnamed, |host| format!("{host} sunucusu"));
        let lead = if ctx.source == Source::Host { "DÜZELDİ" } else { "CI DÜZELDİ" };
        let mut text = format!("{lead}: {subject}{place} yeniden başarılı.");
        if let Some(since) = since.map(super::since) {
            let since = match since {
                Since::Run { number, attempt: None, earlier: false } => format!("çalıştırma #{number}"),
                Since::Run { number, attempt: None, earlier: true } => format!("çalıştırma #{number} veya öncesi"),
                Since::Run { number, attempt: Some(attempt), .. } => format!("çalıştırma #{number}, deneme {attempt}"),
                Since::Time(time) => time,
            };
            text.push_str(&format!(" Hata başlangıcı: {since}."));
        }
        with_link(text, ctx)
    }

    /// The SMS, and how to acknowledge on GitHub (by cancelling the run); elsewhere there is
    /// no "Cancel workflow", so nothing is said.
    fn escalation_sms(&self, ctx: &Context) -> String {
        let ack = (ctx.source == Source::GitHub)
            .then_some("Onaylamak için çalıştırmayı açıp Cancel workflow düğmesine basın.");
        sms_with(ctx, ack)
    }

    fn ack_link(&self, link: &str) -> String {
        format!("Onaylamak için bağlantıyı açın: {link}")
    }

    fn ack_spoken(&self) -> &'static str {
        "Onaylamak için kısa mesajdaki bağlantıyı açın."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::FailedStep;
    use crate::runner::StartFailure;
    use crate::texts::fixtures::{self, all, github, gitlab, host, jenkins};

    /// The voice text says `key` twice: once after `lead`, once after "Tekrar ediyorum:".
    fn twice(lead: &str, key: &str) -> String {
        format!("{lead} {key}. Tekrar ediyorum: {key}.")
    }

    #[test]
    fn the_documented_example_is_the_first_sentence() {
        let text = Turkish.voice(&github(Status::Failure));
        assert!(
            text.starts_with("CI alarmı. acme payments api deposunda Deploy iş akışı main dalında başarısız oldu."),
            "{text}"
        );
    }

    #[test]
    fn voice_texts_for_every_status_and_context() {
        let keys = |verb: &str| {
            [
                format!("acme payments api deposunda Deploy iş akışı main dalında {verb}"),
                format!("group web app deposunda işlem hattı release 2.1 dalında {verb}"),
                format!("nightly build işi main dalında {verb}"),
                format!("db 1 sunucusunda bir iş {verb}"),
            ]
        };
        let cases = [
            (Status::Failure, "başarısız oldu", ["CI alarmı.", "CI alarmı.", "CI alarmı.", "Alarm."]),
            (Status::Success, "başarıyla tamamlandı", ["CI bildirimi.", "CI bildirimi.", "CI bildirimi.", "Bildirim."]),
            (Status::Cancelled, "iptal edildi", ["CI bildirimi.", "CI bildirimi.", "CI bildirimi.", "Bildirim."]),
            (Status::Skipped, "atlandı", ["CI bildirimi.", "CI bildirimi.", "CI bildirimi.", "Bildirim."]),
        ];
        for (status, verb, leads) in cases {
            let got: Vec<String> = all(status).iter().map(|ctx| Turkish.voice(ctx)).collect();
            let expected: Vec<String> = leads.iter().zip(keys(verb)).map(|(lead, key)| twice(lead, &key)).collect();
            assert_eq!(got, expected, "{status}");
        }
    }

    #[test]
    fn titles_and_sms_for_every_status_and_context() {
        let cases = [
            (Status::Failure, "başarısız oldu", "CI HATA: Deploy başarısız"),
            (Status::Success, "başarıyla tamamlandı", "CI TAMAM: Deploy başarılı"),
            (Status::Cancelled, "iptal edildi", "CI İPTAL: Deploy iptal edildi"),
            (Status::Skipped, "atlandı", "CI ATLANDI: Deploy atlandı"),
        ];
        for (status, verb, sms) in cases {
            let ctx = github(status);
            assert_eq!(Turkish.title(&ctx), format!("acme/payments-api deposunda Deploy iş akışı {verb}"));
            assert_eq!(
                Turkish.sms(&ctx),
                format!(
                    "{sms} - acme/payments-api (main, a1b2c3d) https://github.com/acme/payments-api/actions/runs/9"
                )
            );
        }
        let failure = Status::Failure;
        assert_eq!(Turkish.title(&gitlab(failure)), "group/web_app deposunda işlem hattı başarısız oldu");
        assert_eq!(
            Turkish.sms(&gitlab(failure)),
            "CI HATA: İşlem hattı başarısız - group/web_app (release/2.1, abcdef0) https://gitlab.example.com/group/web_app/-/jobs/5"
        );
        assert_eq!(Turkish.title(&jenkins(failure)), "nightly-build işi başarısız oldu");
        assert_eq!(
            Turkish.sms(&jenkins(failure)),
            "CI HATA: nightly-build başarısız (main) https://ci.example.com/job/nightly-build/12/"
        );
        assert_eq!(Turkish.title(&host(failure)), "db-1 sunucusunda bir iş başarısız oldu");
        assert_eq!(Turkish.sms(&host(Status::Cancelled)), "İPTAL: İş iptal edildi - db-1 sunucusu");
    }

    #[test]
    fn command_texts_say_how_it_ended() {
        let ctx = fixtures::host_command(Status::Failure, Ended::Exited(3));
        let key = "db 1 sunucusunda backup.sh komutu başarısız oldu";
        assert_eq!(Turkish.voice(&ctx), format!("Alarm. {key}. Çıkış kodu 3. Tekrar ediyorum: {key}."));
        assert_eq!(Turkish.title(&ctx), "db-1 sunucusunda backup.sh komutu başarısız oldu");
        assert_eq!(Turkish.sms(&ctx), "HATA: backup.sh başarısız - db-1 sunucusu. Çıkış kodu 3.");
        let long = Turkish.detailed(&ctx);
        assert!(long.contains("Komut: /opt/backup.sh --full https://x.example/y\nSonuç: çıkış kodu 3"), "{long}");
        assert!(long.ends_with("Çıktının son 2 satırı:\ncopying\nerror: disk full"), "{long}");

        let ok = fixtures::host_command(Status::Success, Ended::Exited(0));
        let key = "db 1 sunucusunda backup.sh komutu başarıyla tamamlandı";
        assert_eq!(Turkish.voice(&ok), format!("Bildirim. {key}. Tekrar ediyorum: {key}."));
        assert!(Turkish.detailed(&ok).contains("\nSonuç: başarılı (çıkış kodu 0)"));

        let killed = fixtures::github_command(Status::Cancelled, Ended::Signalled(9));
        let key = "acme payments api deposunda Deploy iş akışındaki make komutu main dalında iptal edildi";
        assert_eq!(
            Turkish.voice(&killed),
            format!("CI bildirimi. {key}. Komut 9 numaralı sinyalle durduruldu. Tekrar ediyorum: {key}.")
        );
        assert_eq!(
            Turkish.sms(&killed),
            "CI İPTAL: Deploy iptal edildi - acme/payments-api (main, a1b2c3d). make: 9 numaralı sinyalle \
             durduruldu (SIGKILL). https://github.com/acme/payments-api/actions/runs/9"
        );

        let missing = fixtures::host_command(Status::Failure, Ended::NotStarted(StartFailure::NotFound));
        assert!(Turkish.voice(&missing).contains(" Komut bulunamadı. "), "{}", Turkish.voice(&missing));
        assert!(!Turkish.voice(&missing).contains('/'));
        assert!(Turkish.sms(&missing).ends_with(". Başlatılamadı: komut bulunamadı."), "{}", Turkish.sms(&missing));
        // The operating system's English words never reach a Turkish text.
        let odd = fixtures::host_command(
            Status::Failure,
            Ended::NotStarted(StartFailure::Other("Exec format error (os error 8)".into())),
        );
        for text in [Turkish.sms(&odd), Turkish.voice(&odd), Turkish.detailed(&odd)] {
            assert!(!text.contains("Exec format") && text.contains("aşlatılamadı"), "{text}");
        }
        let denied = fixtures::host_command(Status::Failure, Ended::NotStarted(StartFailure::NotExecutable));
        assert!(Turkish.sms(&denied).ends_with(". Başlatılamadı: çalıştırma izni yok."), "{}", Turkish.sms(&denied));
    }

    #[test]
    fn failed_jobs_are_named_in_every_text() {
        let mut ctx = github(Status::Failure);
        ctx.failed_jobs = vec!["build".into(), "test (ubuntu-latest, 18)".into()];
        let key = "acme payments api deposunda Deploy iş akışı main dalında başarısız oldu";
        assert_eq!(
            Turkish.voice(&ctx),
            format!("CI alarmı. {key}. Başarısız işler: build, test (ubuntu latest, 18). Tekrar ediyorum: {key}.")
        );
        assert_eq!(
            Turkish.sms(&ctx),
            "CI HATA: Deploy başarısız - acme/payments-api (main, a1b2c3d). Başarısız işler: build, test \
             (ubuntu-latest, 18). https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(Turkish.detailed(&ctx).ends_with("\nBaşarısız işler: build, test (ubuntu-latest, 18)"));
        ctx.failed_jobs = (1..=7).map(|i| format!("job-{i}")).collect();
        assert!(Turkish.voice(&ctx).contains(" Başarısız işler: job 1, job 2, job 3, job 4, job 5 ve 2 iş daha. "));
        ctx.failed_jobs.truncate(1);
        assert!(Turkish.voice(&ctx).contains(" Başarısız iş: job 1. "));
    }

    #[test]
    fn the_first_failed_step_goes_into_the_sms_and_every_step_into_the_long_text() {
        let mut ctx = github(Status::Failure);
        ctx.failed_jobs = vec!["test (ubuntu-latest, 1.24)".into()];
        ctx.failed_steps =
            vec![FailedStep { job: "test (ubuntu-latest, 1.24)".into(), step: "Testleri çalıştır".into() }];
        assert_eq!(
            Turkish.sms(&ctx),
            "CI HATA: Deploy başarısız - acme/payments-api (main, a1b2c3d). Başarısız iş: test (ubuntu-latest, 1.24). \
             Başarısız adım: Testleri çalıştır. https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(
            Turkish.detailed(&ctx).ends_with(
                "\nBaşarısız işler: test (ubuntu-latest, 1.24)\nBaşarısız adım (test (ubuntu-latest, 1.24)): Testleri çalıştır"
            ),
            "{}",
            Turkish.detailed(&ctx)
        );
        assert!(!Turkish.voice(&ctx).contains("Testleri"), "{}", Turkish.voice(&ctx));
    }

    #[test]
    fn skipped_jobs_are_named_when_no_job_failed() {
        let mut ctx = github(Status::Failure);
        ctx.skipped_jobs = vec!["deploy".into()];
        let key = "acme payments api deposunda Deploy iş akışı main dalında başarısız oldu";
        assert_eq!(Turkish.voice(&ctx), format!("CI alarmı. {key}. Atlanan iş: deploy. Tekrar ediyorum: {key}."));
        assert_eq!(
            Turkish.sms(&ctx),
            "CI HATA: Deploy başarısız - acme/payments-api (main, a1b2c3d). Atlanan iş: deploy. \
             https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(Turkish.detailed(&ctx).ends_with("\nAtlanan işler: deploy"), "{}", Turkish.detailed(&ctx));
        ctx.skipped_jobs.push("docs-site".into());
        assert!(Turkish.voice(&ctx).contains(" Atlanan işler: deploy, docs site. Tekrar"), "{}", Turkish.voice(&ctx));
        // A failed job outranks a skip: only the failed jobs are named.
        ctx.failed_jobs = vec!["build".into()];
        let texts = [Turkish.voice(&ctx), Turkish.sms(&ctx), Turkish.detailed(&ctx)];
        assert!(texts.iter().all(|t| t.contains("Başarısız iş") && !t.contains("Atlanan")), "{texts:?}");
    }

    #[test]
    fn detailed_text_lists_known_fields_in_turkish() {
        let text = Turkish.detailed(&github(Status::Failure));
        assert_eq!(
            text,
            "acme/payments-api deposunda Deploy iş akışı başarısız oldu.\nDepo: acme/payments-api\n\
             İş akışı: Deploy\nDal: main\nCommit: a1b2c3d4e5f6\n\
             Çalıştırma: https://github.com/acme/payments-api/actions/runs/9\nSunucu: fv-az1-2\n\
             Zaman: 2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn recovery_and_escalation_texts() {
        assert_eq!(
            Turkish.recovered(&github(Status::Success), Some("run #41")),
            "CI DÜZELDİ: Deploy (acme/payments-api, main) yeniden başarılı. Hata başlangıcı: çalıştırma #41. \
             https://github.com/acme/payments-api/actions/runs/9"
        );
        assert!(
            Turkish
                .recovered(&github(Status::Success), Some("run #17, attempt 1"))
                .contains(" Hata başlangıcı: çalıştırma #17, deneme 1. ")
        );
        assert!(
            Turkish
                .recovered(&github(Status::Success), Some("run #9 or earlier"))
                .contains(" Hata başlangıcı: çalıştırma #9 veya öncesi. ")
        );
        let cron = fixtures::host_command(Status::Success, Ended::Exited(0));
        assert_eq!(
            Turkish.recovered(&cron, Some("2023-11-14T22:13:20Z")),
            "DÜZELDİ: backup.sh (db-1 sunucusu) yeniden başarılı. Hata başlangıcı: 2023-11-14 22:13 UTC."
        );
        assert_eq!(Turkish.recovered(&host(Status::Success), None), "DÜZELDİ: İş (db-1 sunucusu) yeniden başarılı.");
        assert_eq!(
            Turkish.escalation_sms(&github(Status::Failure)),
            "CI HATA: Deploy başarısız - acme/payments-api (main, a1b2c3d). Onaylamak için çalıştırmayı açıp \
             Cancel workflow düğmesine basın. https://github.com/acme/payments-api/actions/runs/9"
        );
        for ctx in [host(Status::Failure), gitlab(Status::Failure), jenkins(Status::Failure)] {
            let sms = Turkish.escalation_sms(&ctx);
            assert!(!sms.contains("Cancel") && !sms.contains("Onaylamak"), "{sms}");
        }
    }

    #[test]
    fn long_names_keep_the_sms_link_and_get_the_voice_cut() {
        let mut ctx = github(Status::Failure);
        ctx.repository = format!("acme/{}", "ğüşıöç-".repeat(40));
        let sms = Turkish.sms(&ctx);
        assert!(sms.ends_with(" https://github.com/acme/payments-api/actions/runs/9"), "{sms}");
        // 60 characters of the name, then "...".
        assert!(sms.contains(&format!(" - acme/{}ğüşıöç... (main", "ğüşıöç-".repeat(7))), "{sms}");

        let voice = Turkish.voice(&ctx);
        assert!(voice.chars().count() > 500);
        let (cut, was_cut) = crate::values::truncate_chars(&voice, 500);
        assert!(was_cut && voice.starts_with(&cut));
        assert_eq!(cut.chars().count(), 500);
        assert!(cut.starts_with("CI alarmı. acme ğüşıöç ğüşıöç"));
    }

    #[test]
    fn capitals_are_turkish() {
        assert_eq!(capitalised("işlem hattı"), "İşlem hattı");
        assert_eq!(capitalised("çıkış kodu 3"), "Çıkış kodu 3");
        assert_eq!(capitalised("başlatılamadı"), "Başlatılamadı");
        assert_eq!(capitalised(""), "");
    }
}
