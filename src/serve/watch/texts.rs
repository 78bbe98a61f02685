//! What a watch's page says (docs/serve-checks.md, "Watching a scheduled GitHub workflow"), in
//! English and Turkish: which of the three things happened and what to do about it. Pure. As
//! with the default texts (docs/language.md, "Language"), `auto` speaks Turkish to phones and
//! English on screens; the voice text holds no URL, command or `/` (names go through
//! [`speakable`]), and the Turkish one says its key sentence twice, as the first seconds of a
//! call are lost while answering.

use std::time::Duration;

use super::{Observation, Watch, Why};
use crate::texts::{Language, speakable};

/// The texts of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    /// The alert's name (incidents, webhooks), in the screen language.
    pub title: String,
    /// The long form for incidents and webhooks.
    pub message: String,
    pub sms: String,
    pub voice: String,
}

#[derive(Clone, Copy)]
enum Tongue {
    En,
    Tr,
}

/// The phone's and the screen's languages of `language`.
fn tongues(language: Language) -> (Tongue, Tongue) {
    match language {
        Language::Auto => (Tongue::Tr, Tongue::En),
        Language::Tr => (Tongue::Tr, Tongue::Tr),
        Language::En => (Tongue::En, Tongue::En),
    }
}

/// The names a text uses.
struct Names {
    repo: String,
    file: String,
    name: String,
    spoken_repo: String,
    spoken_name: String,
    link: String,
}

fn names(watch: &Watch, seen: &Observation) -> Names {
    let file = seen.path.rsplit('/').next().filter(|f| !f.is_empty()).unwrap_or(&watch.workflow).to_string();
    let name = if seen.name.trim().is_empty() { file.clone() } else { seen.name.trim().to_string() };
    Names {
        spoken_repo: speakable(&watch.repository),
        spoken_name: speakable(name.trim_end_matches(".yml").trim_end_matches(".yaml")),
        repo: watch.repository.clone(),
        file,
        name,
        link: format!("https://github.com/{}/actions", watch.repository),
    }
}

/// `2026-12-03 03:00 UTC`.
fn clock(ms: i64) -> String {
    super::poller::clock(ms)
}

fn grace(watch: &Watch) -> String {
    humantime::format_duration(Duration::from_secs(watch.grace.as_secs())).to_string()
}

pub fn page(watch: &Watch, seen: &Observation, why: &Why, language: Language) -> Said {
    let (phone, screen) = tongues(language);
    let n = names(watch, seen);
    let (title, message) = written(screen, watch, &n, why, true);
    let (_, sms) = written(phone, watch, &n, why, false);
    Said { title, message, sms, voice: spoken(phone, &n, why) }
}

/// The title of a recovery.
pub fn recovered_title(watch: &Watch, seen: &Observation, language: Language) -> String {
    let n = names(watch, seen);
    match tongues(language).1 {
        Tongue::En => format!("Scheduled workflow {} of {} runs again", n.name, n.repo),
        Tongue::Tr => format!("{} deposundaki {} zamanlanmış iş akışı yeniden çalışıyor", n.repo, n.name),
    }
}

fn enable(tongue: Tongue, n: &Names) -> String {
    match tongue {
        Tongue::En => format!(
            "Re-enable it: gh workflow enable {} -R {}, or Enable workflow in the repository's Actions tab ({}), or PUT /repos/{}/actions/workflows/{}/enable.",
            n.file, n.repo, n.link, n.repo, n.file
        ),
        Tongue::Tr => format!(
            "Yeniden etkinleştirmek için: gh workflow enable {} -R {} ya da deponun Actions sekmesinde Enable workflow ({}).",
            n.file, n.repo, n.link
        ),
    }
}

/// The title and the text to read; `long` adds the API's way of re-enabling (an SMS is short).
fn written(tongue: Tongue, watch: &Watch, n: &Names, why: &Why, long: bool) -> (String, String) {
    let (repo, file, name) = (&n.repo, &n.file, &n.name);
    let mut enable = enable(tongue, n);
    if !long && let Some(cut) = enable.find(", or PUT") {
        enable.truncate(cut);
        enable.push('.');
    }
    match (tongue, why) {
        (Tongue::En, Why::Disabled { state }) => {
            let title = format!("Scheduled workflow {name} of {repo} is disabled");
            let text = match state.as_str() {
                "disabled_inactivity" => format!(
                    "GitHub disabled the scheduled workflow {name} ({file}) of {repo} after 60 days without activity in the repository: its scheduled runs have stopped. {enable} A commit to the repository keeps it from being disabled again."
                ),
                "disabled_manually" => format!(
                    "The scheduled workflow {name} ({file}) of {repo} was disabled by hand: its scheduled runs have stopped. {enable}"
                ),
                "disabled_fork" => format!(
                    "The scheduled workflow {name} ({file}) of {repo} is disabled because the repository is a fork (GitHub disables scheduled workflows in forks). {enable}"
                ),
                "deleted" => format!(
                    "The workflow {name} ({file}) of {repo} was deleted: nothing runs on its schedule any more. Restore its file, or remove this watch."
                ),
                other => format!(
                    "The scheduled workflow {name} ({file}) of {repo} is {other}: its scheduled runs may not run. {enable}"
                ),
            };
            (title, text)
        }
        (Tongue::En, Why::Late { due }) => (
            format!("Scheduled run of {name} of {repo} did not start"),
            format!(
                "No scheduled run of {name} ({file}) of {repo} started by its due time, {}, plus the grace of {}. GitHub delays scheduled runs under load, but not this long: look at the repository's Actions tab ({}).",
                clock(*due),
                grace(watch),
                n.link
            ),
        ),
        (Tongue::En, Why::Broken { run }) => (
            format!("Workflow file of {name} of {repo} is broken"),
            format!(
                "Scheduled run #{} of {name} ({file}) of {repo} ended with startup_failure: the workflow file is broken (it does not parse, or a uses: cannot be resolved), so no step ran and no failure step could page. Fix the file. The run: {}",
                run.number, run.html_url
            ),
        ),
        (Tongue::Tr, Why::Disabled { state }) => {
            let title = format!("{repo} deposundaki {name} zamanlanmış iş akışı devre dışı");
            let text = match state.as_str() {
                "disabled_inactivity" => format!(
                    "GitHub, {repo} deposundaki {name} ({file}) zamanlanmış iş akışını depoda 60 gün etkinlik olmadığı için devre dışı bıraktı: zamanlanmış çalıştırmalar durdu. {enable} Depoya bir commit, yeniden devre dışı kalmasını önler."
                ),
                "disabled_manually" => format!(
                    "{repo} deposundaki {name} ({file}) zamanlanmış iş akışı elle devre dışı bırakıldı: zamanlanmış çalıştırmalar durdu. {enable}"
                ),
                "disabled_fork" => format!(
                    "{repo} deposu bir fork olduğu için {name} ({file}) zamanlanmış iş akışı devre dışı (GitHub, forklarda zamanlanmış iş akışlarını kapatır). {enable}"
                ),
                "deleted" => format!(
                    "{repo} deposundaki {name} ({file}) iş akışı silindi: zamanlanmış hiçbir çalıştırma olmayacak. Dosyasını geri getirin ya da bu izlemeyi kaldırın."
                ),
                other => format!(
                    "{repo} deposundaki {name} ({file}) zamanlanmış iş akışının durumu {other}: zamanlanmış çalıştırmalar çalışmayabilir. {enable}"
                ),
            };
            (title, text)
        }
        (Tongue::Tr, Why::Late { due }) => (
            format!("{repo} deposundaki {name} zamanlanmış çalıştırması başlamadı"),
            format!(
                "{repo} deposundaki {name} ({file}) iş akışının zamanlanmış çalıştırması {} zamanında, {} ek süre içinde de başlamadı. GitHub yoğunlukta zamanlanmış çalıştırmaları geciktirir, ama bu kadar değil: deponun Actions sekmesine bakın ({}).",
                clock(*due),
                grace(watch),
                n.link
            ),
        ),
        (Tongue::Tr, Why::Broken { run }) => (
            format!("{repo} deposundaki {name} iş akışı dosyası bozuk"),
            format!(
                "{repo} deposundaki {name} ({file}) iş akışının #{} numaralı zamanlanmış çalıştırması startup_failure ile bitti: iş akışı dosyası bozuk (okunamıyor ya da bir uses: çözülemiyor), hiçbir adım çalışmadı, bu yüzden hata adımı da bildiremedi. Dosyayı düzeltin. Çalıştırma: {}",
                run.number, run.html_url
            ),
        ),
    }
}

/// The call: no URL, no command, no file name; the names as a voice says them.
fn spoken(tongue: Tongue, n: &Names, why: &Why) -> String {
    let (repo, name) = (&n.spoken_repo, &n.spoken_name);
    match (tongue, why) {
        (Tongue::En, Why::Disabled { state }) if state == "deleted" => {
            format!(
                "Attention. The scheduled workflow {name} of {repo} was deleted. Nothing runs on its schedule any more."
            )
        }
        (Tongue::En, Why::Disabled { state }) => {
            let cause = if state == "disabled_inactivity" { " after sixty days without activity" } else { "" };
            format!(
                "Attention. The scheduled workflow {name} of {repo} was disabled{cause}. Its scheduled runs have stopped. Enable it again in the Actions tab of the repository. Details are in the text message."
            )
        }
        (Tongue::En, Why::Late { .. }) => format!(
            "Attention. The scheduled run of workflow {name} of {repo} did not start on time. Look at the Actions tab of the repository."
        ),
        (Tongue::En, Why::Broken { .. }) => format!(
            "Attention. The workflow file of {name} of {repo} is broken. Its scheduled run ended before any step ran. Fix the workflow file."
        ),
        (Tongue::Tr, Why::Disabled { state }) if state == "deleted" => {
            let key = format!("{repo} deposundaki {name} iş akışı silindi.");
            format!("Dikkat. {key} Zamanlanmış hiçbir çalıştırma olmayacak. Tekrar ediyorum: {key}")
        }
        (Tongue::Tr, Why::Disabled { state }) => {
            let cause = if state == "disabled_inactivity" { " altmış gün etkinlik olmadığı için" } else { "" };
            let key = format!("{repo} deposundaki {name} zamanlanmış iş akışı{cause} devre dışı bırakıldı.");
            format!(
                "Dikkat. {key} Zamanlanmış çalıştırmalar durdu. Deponun Actions sekmesinden yeniden etkinleştirin. Ayrıntılar kısa mesajda. Tekrar ediyorum: {key}"
            )
        }
        (Tongue::Tr, Why::Late { .. }) => {
            let key = format!("{repo} deposundaki {name} iş akışının zamanlanmış çalıştırması zamanında başlamadı.");
            format!("Dikkat. {key} Deponun Actions sekmesine bakın. Tekrar ediyorum: {key}")
        }
        (Tongue::Tr, Why::Broken { .. }) => {
            let key = format!("{repo} deposundaki {name} iş akışının dosyası bozuk.");
            format!(
                "Dikkat. {key} Zamanlanmış çalıştırma hiçbir adım çalışmadan bitti. İş akışı dosyasını düzeltin. Tekrar ediyorum: {key}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::RunSeen;
    use super::*;

    fn watch() -> Watch {
        Watch {
            repository: "acme/payments-api".into(),
            workflow: "nightly.yml".into(),
            schedule: None,
            grace: Duration::from_secs(3600),
            poll: Duration::from_secs(300),
            overrides: BTreeMap::new(),
        }
    }

    fn seen() -> Observation {
        Observation { name: "Nightly".into(), path: ".github/workflows/nightly.yml".into(), ..Observation::default() }
    }

    fn whys() -> Vec<Why> {
        let run = RunSeen {
            id: 9,
            number: 41,
            created_at: 0,
            status: "completed".into(),
            conclusion: Some("startup_failure".into()),
            html_url: "https://github.com/acme/payments-api/actions/runs/9".into(),
        };
        ["disabled_inactivity", "disabled_manually", "disabled_fork", "deleted"]
            .iter()
            .map(|state| Why::Disabled { state: state.to_string() })
            .chain([Why::Late { due: 1_767_225_600_000 }, Why::Broken { run }])
            .collect()
    }

    #[test]
    fn the_texts_say_how_to_re_enable_and_the_voice_is_speakable() {
        for language in [Language::Auto, Language::En, Language::Tr] {
            for why in whys() {
                let said = page(&watch(), &seen(), &why, language);
                for bad in ["/", "://", "gh ", ".yml", "_"] {
                    assert!(!said.voice.contains(bad), "{language} {why:?}: {}", said.voice);
                }
                assert!(said.voice.contains("acme payments api"), "{}", said.voice);
                if matches!(&why, Why::Disabled { state } if state != "deleted") {
                    for text in [&said.message, &said.sms] {
                        assert!(text.contains("gh workflow enable nightly.yml -R acme/payments-api"), "{text}");
                    }
                    assert!(said.message.contains("/enable") || language != Language::En, "{}", said.message);
                }
                if let Why::Broken { .. } = &why {
                    assert!(
                        said.sms.contains("actions/runs/9") && said.sms.contains("startup_failure"),
                        "{}",
                        said.sms
                    );
                }
            }
        }
        let auto = page(&watch(), &seen(), &whys()[0], Language::Auto);
        assert!(auto.voice.starts_with("Dikkat.") && auto.sms.contains("60 gün"), "{auto:?}");
        assert!(auto.title.contains("is disabled") && auto.message.contains("A commit"), "{auto:?}");
    }
}
