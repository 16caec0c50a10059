//! Language identification: ISO 639-1 codes, or nothing when the evidence is too thin.

use std::sync::OnceLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};

/// How much of a text is looked at: language is settled long before this many characters, and
/// capping it keeps the cost of a megabyte-long transcript flat.
pub const SAMPLE_CHARS: usize = 500;

/// Fewer letters than this and no language is claimed ("ok", "??", "12345").
pub const MIN_LETTERS: usize = 3;

/// The best language must score at least this many times the runner-up.
pub const MIN_MARGIN: f64 = 2.0;

/// The best language's share of the confidence must be at least this.
pub const MIN_CONFIDENCE: f64 = 0.2;

/// One detector per process (or Postgres backend), built on first use; its n-gram models load
/// lazily, per candidate language.
fn detector() -> &'static LanguageDetector {
    static DETECTOR: OnceLock<LanguageDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| LanguageDetectorBuilder::from_all_languages().build())
}

/// The ISO 639-1 code of the language `text` is written in, or `None` when unsure.
///
/// Looks at the first [`SAMPLE_CHARS`] characters. `None` means fewer than [`MIN_LETTERS`]
/// letters, or no language clearly ahead: the best must have at least [`MIN_CONFIDENCE`] of the
/// confidence and [`MIN_MARGIN`] times the runner-up's. Text mixing languages or scripts with no
/// clear majority is therefore `None`. 36 languages are known (see `docs/functions/detect_language.md`);
/// detection scores 1- to 5-gram statistics (the `lingua` crate, high-accuracy mode) and is
/// deterministic.
pub fn detect_language(text: &str) -> Option<String> {
    let sample = match text.char_indices().nth(SAMPLE_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    if sample.chars().filter(|c| c.is_alphabetic()).take(MIN_LETTERS).count() < MIN_LETTERS {
        return None;
    }
    let scores = detector().compute_language_confidence_values(sample);
    let (best, top) = *scores.first()?;
    let second = scores.get(1).map_or(0.0, |s| s.1);
    if top < MIN_CONFIDENCE || top < MIN_MARGIN * second {
        return None;
    }
    Some(best.iso_code_639_1().to_string())
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
