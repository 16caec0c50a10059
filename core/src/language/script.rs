//! Which script a text's letters are written in: settles the single-script languages outright and
//! narrows the others to the languages written in that script.

/// A writing system, as far as language detection needs to tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    /// Latin: 23 of the known languages.
    Latin,
    /// Cyrillic: Bulgarian, Russian, Ukrainian.
    Cyrillic,
    /// Arabic: Arabic, Persian.
    Arabic,
    /// Greek.
    Greek,
    /// Hebrew.
    Hebrew,
    /// Thai.
    Thai,
    /// Hangul: Korean.
    Hangul,
    /// Bengali.
    Bengali,
    /// Devanagari: Hindi.
    Devanagari,
    /// Kana, alone or with Han characters: Japanese.
    Kana,
    /// Han characters without kana: Chinese.
    Han,
}

/// The one script every letter of `text` is in (Han with kana counts as [`Script::Kana`]), or
/// `None` for text without letters, mixing scripts, or in a script no known language uses.
pub fn single(text: &str) -> Option<Script> {
    let mut seen: Option<Script> = None;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        let script = of(c)?;
        seen = match (seen, script) {
            (None, s) => Some(s),
            (Some(a), b) if a == b => Some(a),
            (Some(Script::Han | Script::Kana), Script::Han | Script::Kana) => Some(Script::Kana),
            _ => return None,
        };
    }
    seen
}

/// The script of a letter; `None` for a script no known language is written in.
fn of(c: char) -> Option<Script> {
    Some(match c {
        'a'..='z' | 'A'..='Z' | 'ª' | 'º' | '\u{00C0}'..='\u{02AF}' | '\u{1E00}'..='\u{1EFF}' => Script::Latin,
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Script::Greek,
        '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' => Script::Cyrillic,
        '\u{A640}'..='\u{A69F}' => Script::Cyrillic,
        '\u{0590}'..='\u{05FF}' | '\u{FB1D}'..='\u{FB4F}' => Script::Hebrew,
        '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' => Script::Arabic,
        '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}' => Script::Arabic,
        '\u{0900}'..='\u{097F}' | '\u{A8E0}'..='\u{A8FF}' => Script::Devanagari,
        '\u{0980}'..='\u{09FF}' => Script::Bengali,
        '\u{0E00}'..='\u{0E7F}' => Script::Thai,
        '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{A960}'..='\u{A97F}' => Script::Hangul,
        '\u{AC00}'..='\u{D7FF}' => Script::Hangul,
        '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9F}' => Script::Kana,
        '\u{3005}'..='\u{3007}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' => Script::Han,
        '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}' => Script::Han,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_script_per_text() {
        let cases = [
            ("Bonjour, ça va ? 123", Some(Script::Latin)),
            ("Tiếng Việt có dấu", Some(Script::Latin)),
            ("Здравствуйте", Some(Script::Cyrillic)),
            ("مرحبا بكم", Some(Script::Arabic)),
            ("Καλημέρα", Some(Script::Greek)),
            ("שלום", Some(Script::Hebrew)),
            ("สวัสดีครับ", Some(Script::Thai)),
            ("안녕하세요", Some(Script::Hangul)),
            ("নমস্কার", Some(Script::Bengali)),
            ("नमस्ते", Some(Script::Devanagari)),
            ("注文した商品", Some(Script::Kana)),
            ("カタカナ", Some(Script::Kana)),
            ("我的订单", Some(Script::Han)),
            ("Hello 你好", None),
            ("Hello привет", None),
            ("Բարեւ", None),
            ("12 34 !! 👍", None),
        ];
        for (text, script) in cases {
            assert_eq!(single(text), script, "{text}");
        }
    }
}
