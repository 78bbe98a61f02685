//! The words of the acknowledge link's pages, in the language the person's browser asks for
//! (docs/serve-pages.md, "The acknowledge link: `/a/{code}`"): the link is opened from a Turkish
//! SMS on a phone at 3 a.m., so a phone set to Turkish reads Turkish; anything else reads English.

/// One language's words for the acknowledge pages.
pub struct AckWords {
    /// The `lang` of the document.
    pub lang: &'static str,
    pub label: &'static str,
    pub sent: &'static str,
    pub paged: &'static str,
    pub thanks: &'static str,
    pub acknowledged: &'static str,
    pub stops: &'static str,
    pub button: &'static str,
    pub button_note: &'static str,
    pub title: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_text: &'static str,
    /// "just now", "5 min ago", "3 h ago", "2 days ago".
    pub ago: fn(i64) -> String,
}

pub static ENGLISH: AckWords = AckWords {
    lang: "en",
    label: "onfail alert",
    sent: "Sent",
    paged: "Paged",
    thanks: "Thank you: acknowledged at",
    acknowledged: "Acknowledged at",
    stops: "Escalation stops: nobody else is called for this alert.",
    button: "Acknowledge",
    button_note: "Acknowledging stops the escalation: nobody else is called for this alert.",
    title: "Acknowledge",
    expired_title: "This link has expired",
    expired_text: "Acknowledge links work for 7 days after the alert. Nothing was changed.",
    not_found_title: "No such link",
    not_found_text: "Check that the whole link was opened; nothing was changed.",
    unavailable_title: "Try again",
    unavailable_text: "The service cannot read its store right now.",
    ago: |seconds| match seconds {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} days ago", seconds / 86400),
    },
};

pub static TURKISH: AckWords = AckWords {
    lang: "tr",
    label: "onfail alarmı",
    sent: "Gönderildi",
    paged: "Haber verilen",
    thanks: "Teşekkürler: onaylandı,",
    acknowledged: "Onaylandı,",
    stops: "Eskalasyon durdu: bu alarm için başka kimse aranmayacak.",
    button: "Onayla",
    button_note: "Onaylamak eskalasyonu durdurur: bu alarm için başka kimse aranmaz.",
    title: "Onayla",
    expired_title: "Bu bağlantının süresi doldu",
    expired_text: "Onay bağlantıları alarmdan sonra 7 gün geçerlidir. Hiçbir şey değişmedi.",
    not_found_title: "Böyle bir bağlantı yok",
    not_found_text: "Bağlantının tamamını açtığınızdan emin olun; hiçbir şey değişmedi.",
    unavailable_title: "Yeniden deneyin",
    unavailable_text: "Servis şu anda kayıtlarını okuyamıyor.",
    ago: |seconds| match seconds {
        0..60 => "az önce".into(),
        60..3600 => format!("{} dk önce", seconds / 60),
        3600..86400 => format!("{} sa önce", seconds / 3600),
        _ => format!("{} gün önce", seconds / 86400),
    },
};

/// The words for an `Accept-Language` header: Turkish when the browser prefers Turkish over
/// English (by quality, then by order), English otherwise and without the header.
pub fn for_accept_language(header: Option<&str>) -> &'static AckWords {
    let Some(header) = header else { return &ENGLISH };
    let mut best: Option<(f32, bool)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality =
            parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        let turkish = match primary {
            "tr" => true,
            "en" | "*" => false,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, turkish));
        }
    }
    if best.is_some_and(|(_, turkish)| turkish) { &TURKISH } else { &ENGLISH }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preference_picks_the_words() {
        let lang = |h: Option<&str>| for_accept_language(h).lang;
        assert_eq!(lang(None), "en");
        assert_eq!(lang(Some("tr-TR,tr;q=0.9,en-US;q=0.8,en;q=0.7")), "tr");
        assert_eq!(lang(Some("en-US,en;q=0.9,tr;q=0.8")), "en");
        assert_eq!(lang(Some("de-DE,tr;q=0.5")), "tr");
        assert_eq!(lang(Some("de-DE")), "en");
        assert_eq!(lang(Some("en;q=0.2, tr;q=0.8")), "tr");
        assert_eq!(lang(Some("tr;q=0, en")), "en");
        assert_eq!(lang(Some(";;,q=,tr;q=abc")), "tr");
    }

    #[test]
    fn ago_is_coarse_in_both_languages() {
        assert_eq!((ENGLISH.ago)(30), "just now");
        assert_eq!((TURKISH.ago)(300), "5 dk önce");
        assert_eq!((TURKISH.ago)(7200), "2 sa önce");
        assert_eq!((ENGLISH.ago)(3 * 86400), "3 days ago");
    }
}
