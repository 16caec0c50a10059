//! Language identification: ISO 639-1 codes, or nothing when the evidence is too thin.

use std::sync::OnceLock;

use lingua::{Language, LanguageDetector, LanguageDetectorBuilder};

mod ngrams;
mod script;

use script::Script;

/// How much of a text is looked at: language is settled long before this many characters, and
/// capping it keeps the cost of a megabyte-long transcript flat.
pub const SAMPLE_CHARS: usize = 500;

/// Fewer letters than this and no language is claimed ("ok", "??", "12345").
pub const MIN_LETTERS: usize = 3;

/// The best language must score at least this many times the runner-up.
pub const MIN_MARGIN: f64 = 2.0;

/// The best language's share of the confidence must be at least this.
pub const MIN_CONFIDENCE: f64 = 0.2;

/// The ISO 639-1 code of the language `text` is written in, or `None` when unsure.
///
/// Looks at the first [`SAMPLE_CHARS`] characters. `None` means fewer than [`MIN_LETTERS`]
/// letters, or no language clearly ahead: the best must have at least [`MIN_CONFIDENCE`] of the
/// confidence and [`MIN_MARGIN`] times the runner-up's. 36 languages are known (see
/// `docs/functions/detect_language.md`). Deterministic.
///
/// Text in one script is settled by it where one known language uses that script (Greek, Hebrew,
/// Thai, Hangul, Bengali, Devanagari; Han with kana is Japanese, Han alone Chinese). Latin,
/// Cyrillic and Arabic text is scored on lingua's n-gram models of that script's languages,
/// with lingua's high-accuracy formula, the 4- and 5-grams for the best few only. Text mixing
/// scripts, or in a script no known language uses, goes to lingua over every language.
pub fn detect_language(text: &str) -> Option<String> {
    let sample = sample(text)?;
    let single = |language: Language| Some(code(language));
    match script::single(sample) {
        Some(Script::Greek) => single(Language::Greek),
        Some(Script::Hebrew) => single(Language::Hebrew),
        Some(Script::Thai) => single(Language::Thai),
        Some(Script::Hangul) => single(Language::Korean),
        Some(Script::Bengali) => single(Language::Bengali),
        Some(Script::Devanagari) => single(Language::Hindi),
        Some(Script::Kana) => single(Language::Japanese),
        Some(Script::Han) => single(Language::Chinese),
        Some(script @ (Script::Latin | Script::Cyrillic | Script::Arabic)) => {
            match ngrams::confidences(sample, script) {
                Some(scores) => gate(&scores),
                None => gate(&detector().compute_language_confidence_values(sample)),
            }
        }
        None => gate(&detector().compute_language_confidence_values(sample)),
    }
}

/// What [`detect_language`] answered before its own n-gram scorer: lingua's high-accuracy mode
/// over every language, with the same sampling and thresholds. Kept as the reference the scorer
/// is measured against (`bench/detect_language.sh`).
pub fn detect_language_thorough(text: &str) -> Option<String> {
    gate(&detector().compute_language_confidence_values(sample(text)?))
}

/// The first [`SAMPLE_CHARS`] characters, or `None` with fewer than [`MIN_LETTERS`] letters.
fn sample(text: &str) -> Option<&str> {
    let sample = match text.char_indices().nth(SAMPLE_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let letters = sample.chars().filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count();
    (letters == MIN_LETTERS).then_some(sample)
}

/// The best language of `scores` (best first), when it clears [`MIN_CONFIDENCE`] and
/// [`MIN_MARGIN`].
fn gate(scores: &[(Language, f64)]) -> Option<String> {
    let (best, top) = *scores.first()?;
    let second = scores.get(1).map_or(0.0, |s| s.1);
    if top < MIN_CONFIDENCE || top < MIN_MARGIN * second {
        return None;
    }
    Some(code(best))
}

fn code(language: Language) -> String {
    language.iso_code_639_1().to_string()
}

/// One detector over every language per process (or Postgres backend), built on first use; its
/// n-gram models load lazily, per candidate language, and are shared with every other detector.
fn detector() -> &'static LanguageDetector {
    static DETECTOR: OnceLock<LanguageDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| LanguageDetectorBuilder::from_all_languages().build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_support_languages() {
        let cases = [
            ("Bonjour, je voudrais annuler ma commande", "fr"),
            ("I have been charged twice for my subscription this month", "en"),
            ("My order hasn't arrived yet", "en"),
            ("Hola, quiero devolver el pedido porque llegó roto", "es"),
            ("Ich möchte mein Passwort zurücksetzen, aber die E-Mail kommt nicht an", "de"),
            ("Olá, o meu pedido ainda não chegou e já passaram duas semanas", "pt"),
            ("ciao, il mio ordine non è arrivato", "it"),
            ("Здравствуйте, я не могу войти в свой аккаунт", "ru"),
            ("注文した商品がまだ届いていません。確認してください。", "ja"),
            ("주문한 상품이 아직 도착하지 않았습니다", "ko"),
            ("Hej, jag vill avsluta mitt abonnemang", "sv"),
        ];
        for (text, code) in cases {
            assert_eq!(detect_language(text).as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn a_script_only_one_known_language_uses_settles_it() {
        let cases = [
            ("Γεια σας, η παραγγελία μου δεν έχει φτάσει", "el"),
            ("ההזמנה שלי עדיין לא הגיעה", "he"),
            ("คำสั่งซื้อของฉันยังไม่มาถึง", "th"),
            ("আমার অর্ডার এখনও আসেনি", "bn"),
            ("मेरा ऑर्डर अभी तक नहीं आया", "hi"),
            ("我的订单还没有到", "zh"),
            ("カタカナ", "ja"),
        ];
        for (text, code) in cases {
            assert_eq!(detect_language(text).as_deref(), Some(code), "{text}");
            assert_eq!(detect_language_thorough(text).as_deref(), Some(code), "lingua agrees: {text}");
        }
    }

    #[test]
    fn unsure_is_none() {
        for text in ["", "   ", "ok", "12345 67890", "!!! ??? ...", "👍👍👍👍👍👍", "Hello 你好 привет мир"]
        {
            assert_eq!(detect_language(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_few_foreign_words_do_not_change_the_language() {
        let text = "Bonjour, mon iPhone ne se connecte plus au Wi-Fi depuis la mise à jour, pouvez-vous m'aider ?";
        assert_eq!(detect_language(text).as_deref(), Some("fr"));
    }

    #[test]
    fn long_text_is_sampled() {
        let text = "Je voudrais annuler ma commande, s'il vous plaît. ".repeat(100_000);
        assert_eq!(detect_language(&text).as_deref(), Some("fr"));
    }
}
