//! The n-gram scorer for the scripts several languages share (Latin, Cyrillic, Arabic): lingua's
//! own language models (the `ngrams.fst` files of its model crates), scored with lingua's
//! high-accuracy formula, but laid out for speed.
//!
//! Lingua makes one FST lookup per n-gram and candidate language. Here the 1- to 3-grams of every
//! language sit in one hash table whose row holds all languages' log-probabilities, so those
//! orders cost one lookup per n-gram for all languages at once. They rank the languages of the
//! text's script; only the close best few ([`CANDIDATE_MARGIN`]) are then scored on 4- and 5-grams,
//! from the FSTs.
//!
//! The formula is lingua's but for one change ([`UNKNOWN`]): for each order n (1 to 5; only 3
//! for texts of 120 letters or more), the sum over the text's distinct n-grams (inside words) of
//! log P(last | previous), backing off to shorter prefixes of the n-gram until one is known, else
//! [`UNKNOWN`]; the orders' sums are added and divided by the number of the text's distinct
//! letters the language knows; the confidences are the normalised exponentials.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use fst::{Automaton, IntoStreamer, Streamer};
use lingua::Language;

use super::script::Script;
use crate::fnv::BuildFnv;

/// The languages whose 1- to 3-gram score (per known letter) is within this many nats of the
/// best are scored on 4- and 5-grams too: at least 2 of them, at most [`MAX_CANDIDATES`].
/// Chosen on lingua's own test data: see `docs/functions/detect_language.md`.
pub const CANDIDATE_MARGIN: f64 = 1.0;

/// At most this many languages are scored on 4- and 5-grams.
pub const MAX_CANDIDATES: usize = 6;

/// The log-probability of an n-gram a language knows at no back-off level, down to its first
/// letter. Lingua adds nothing for it, which favours the languages that know least of the text
/// (a Czech "ř" then counts for Dutch); here it costs what a rare letter costs. Chosen on
/// lingua's own test data, like [`CANDIDATE_MARGIN`].
const UNKNOWN: f32 = -6.0;

/// From this many letters on, as in lingua, only trigrams are scored.
const LONG_TEXT: usize = 120;

/// Each language's confidence that `text` (whose letters are all in `script`, one of Latin,
/// Cyrillic or Arabic) is in it, best first, summing to 1; languages without a chance are left
/// out. `None` when the models could not be read or `script` is not one of the three.
pub fn confidences(text: &str, script: Script) -> Option<Vec<(Language, f64)>> {
    let table = table()?;
    let columns = table.columns(script)?;
    let words = words(text);
    let letters: usize = words.iter().map(Vec::len).sum();
    let long = letters >= LONG_TEXT;
    let orders = if long { 3..4 } else { 1..6 };

    let width = columns.len();
    let mut sums = vec![0.0f64; width];
    let mut known_letters = vec![0usize; width];
    for n in orders.start..orders.end.min(4) {
        for gram in distinct(&words, n) {
            let mut chain = Chain::new(table, gram);
            for (i, sum) in sums.iter_mut().enumerate() {
                let found = chain.value(columns.start + i);
                *sum += f64::from(found.unwrap_or(UNKNOWN));
                if n == 1 && found.is_some() {
                    known_letters[i] += 1;
                }
            }
        }
    }
    let normalised = |i: usize, sum: f64| if known_letters[i] > 0 { sum / known_letters[i] as f64 } else { sum };
    let mut ranked: Vec<(usize, f64)> =
        sums.iter().enumerate().filter(|(_, s)| **s < 0.0).map(|(i, s)| (i, *s)).collect();
    ranked.sort_by(|a, b| normalised(b.0, b.1).total_cmp(&normalised(a.0, a.1)).then(a.0.cmp(&b.0)));
    if !long {
        let best = ranked.first().map_or(0.0, |(i, s)| normalised(*i, *s));
        let close = ranked.iter().take_while(|(i, s)| best - normalised(*i, *s) <= CANDIDATE_MARGIN).count();
        ranked.truncate(close.clamp(2, MAX_CANDIDATES));
        let mut text = String::new();
        for n in 4..orders.end {
            for gram in distinct(&words, n) {
                text.clear();
                text.extend(gram);
                // The byte lengths of the gram and its 4-character prefix: the FST keys tried.
                let lengths = [text.len(), gram[..4].iter().map(|c| c.len_utf8()).sum()];
                let mut chain = Chain::new(table, &gram[..3]);
                for (i, sum) in ranked.iter_mut() {
                    let model = &table.models[columns.start + *i];
                    let found = lengths[..n - 3].iter().find_map(|&len| model.ngrams.get(&text[..len]));
                    *sum += match found {
                        Some(bits) => f64::from_bits(bits),
                        None => f64::from(chain.value(columns.start + *i).unwrap_or(UNKNOWN)),
                    };
                }
            }
        }
    }
    let scored: Vec<(Language, f64)> =
        ranked.into_iter().map(|(i, sum)| (table.models[columns.start + i].language, normalised(i, sum))).collect();
    let top = scored.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = scored.iter().map(|s| (s.1 - top).exp()).sum();
    let mut confidences: Vec<(Language, f64)> =
        scored.into_iter().map(|(language, s)| (language, (s - top).exp() / total)).collect();
    confidences.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Some(confidences)
}

/// The text's words (runs of letters), lower-cased, as characters.
fn words(text: &str) -> Vec<Vec<char>> {
    let mut words = Vec::new();
    let mut word = Vec::new();
    for c in text.chars() {
        if c.is_alphabetic() {
            word.extend(c.to_lowercase());
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The distinct n-grams inside the words, in a stable order.
fn distinct(words: &[Vec<char>], n: usize) -> Vec<&[char]> {
    let mut grams: Vec<&[char]> = words.iter().flat_map(|w| w.windows(n)).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// One to three characters as one key: no character is NUL, so lengths never collide.
fn pack(chars: &[char]) -> u64 {
    chars.iter().take(3).enumerate().fold(0, |key, (i, c)| key | (u64::from(*c) << (21 * i)))
}

/// One language's model.
struct Model {
    language: Language,
    script: Script,
    ngrams: fst::Map<&'static [u8]>,
}

/// Every model, and the 1- to 3-gram log-probabilities of all of them, one row per n-gram.
struct Table {
    models: Vec<Model>,
    rows: HashMap<u64, u32, BuildFnv>,
    /// `rows.len() × models.len()` values; NaN where a language lacks the n-gram.
    values: Vec<f32>,
}

impl Table {
    /// The models written in `script`: consecutive columns.
    fn columns(&self, script: Script) -> Option<Range<usize>> {
        let start = self.models.iter().position(|m| m.script == script)?;
        let len = self.models[start..].iter().take_while(|m| m.script == script).count();
        Some(start..start + len)
    }

    fn row(&self, key: u64) -> Option<&[f32]> {
        let width = self.models.len();
        self.rows.get(&key).map(|&r| &self.values[r as usize * width..(r as usize + 1) * width])
    }
}

/// An n-gram (n ≤ 3) and its shorter prefixes, each row looked up only when needed.
struct Chain<'t> {
    table: &'t Table,
    key: u64,
    n: usize,
    /// The rows of the prefixes of length n, n - 1, ..., 1; `None` until looked up.
    rows: [Option<Option<&'t [f32]>>; 3],
}

impl<'t> Chain<'t> {
    fn new(table: &'t Table, gram: &[char]) -> Self {
        Chain { table, key: pack(gram), n: gram.len().min(3), rows: [None; 3] }
    }

    /// The first log-probability the language of `column` knows, longest prefix first.
    fn value(&mut self, column: usize) -> Option<f32> {
        let (table, key, n) = (self.table, self.key, self.n);
        for (level, row) in self.rows[..n].iter_mut().enumerate() {
            let row = *row.get_or_insert_with(|| table.row(prefix(key, n - level)));
            if let Some(v) = row.map(|r| r[column]).filter(|v| !v.is_nan()) {
                return Some(v);
            }
        }
        None
    }
}

/// The key of the first `len` characters of a packed key.
fn prefix(key: u64, len: usize) -> u64 {
    key & ((1u64 << (21 * len)) - 1)
}

/// The table, read from the model crates on first use; `None` if a model cannot be read (the
/// caller then asks lingua).
fn table() -> Option<&'static Table> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    TABLE.get_or_init(read_table).as_ref()
}

/// Reads every 1- to 3-gram of the models, pruning the FST walk below three characters.
fn read_table() -> Option<Table> {
    let models = models()?;
    let width = models.len();
    let mut rows: HashMap<u64, u32, BuildFnv> = HashMap::default();
    let mut values: Vec<f32> = Vec::new();
    for (column, model) in models.iter().enumerate() {
        let mut stream = model.ngrams.search(AtMostThreeChars).into_stream();
        while let Some((ngram, bits)) = stream.next() {
            let chars: Vec<char> = std::str::from_utf8(ngram).ok()?.chars().collect();
            let next = u32::try_from(rows.len()).ok()?;
            let row = *rows.entry(pack(&chars)).or_insert(next);
            if row == next {
                values.resize(values.len() + width, f32::NAN);
            }
            values[row as usize * width + column] = f64::from_bits(bits) as f32;
        }
    }
    Some(Table { models, rows, values })
}

/// The models of the languages written in Latin, Cyrillic and Arabic script, grouped by script.
fn models() -> Option<Vec<Model>> {
    macro_rules! models {
        ($($script:ident: $($language:ident => $krate:ident::$dir:ident),*;)*) => {
            vec![$($((
                Language::$language,
                Script::$script,
                $krate::$dir.get_file("ngrams.fst").map(|f| f.contents()),
            )),*),*]
        };
    }
    models![
        Latin:
        Bokmal => lingua_bokmal_language_model::BOKMAL_MODELS_DIRECTORY,
        Catalan => lingua_catalan_language_model::CATALAN_MODELS_DIRECTORY,
        Croatian => lingua_croatian_language_model::CROATIAN_MODELS_DIRECTORY,
        Czech => lingua_czech_language_model::CZECH_MODELS_DIRECTORY,
        Danish => lingua_danish_language_model::DANISH_MODELS_DIRECTORY,
        Dutch => lingua_dutch_language_model::DUTCH_MODELS_DIRECTORY,
        English => lingua_english_language_model::ENGLISH_MODELS_DIRECTORY,
        Finnish => lingua_finnish_language_model::FINNISH_MODELS_DIRECTORY,
        French => lingua_french_language_model::FRENCH_MODELS_DIRECTORY,
        German => lingua_german_language_model::GERMAN_MODELS_DIRECTORY,
        Hungarian => lingua_hungarian_language_model::HUNGARIAN_MODELS_DIRECTORY,
        Indonesian => lingua_indonesian_language_model::INDONESIAN_MODELS_DIRECTORY,
        Italian => lingua_italian_language_model::ITALIAN_MODELS_DIRECTORY,
        Malay => lingua_malay_language_model::MALAY_MODELS_DIRECTORY,
        Polish => lingua_polish_language_model::POLISH_MODELS_DIRECTORY,
        Portuguese => lingua_portuguese_language_model::PORTUGUESE_MODELS_DIRECTORY,
        Romanian => lingua_romanian_language_model::ROMANIAN_MODELS_DIRECTORY,
        Slovak => lingua_slovak_language_model::SLOVAK_MODELS_DIRECTORY,
        Spanish => lingua_spanish_language_model::SPANISH_MODELS_DIRECTORY,
        Swedish => lingua_swedish_language_model::SWEDISH_MODELS_DIRECTORY,
        Tagalog => lingua_tagalog_language_model::TAGALOG_MODELS_DIRECTORY,
        Turkish => lingua_turkish_language_model::TURKISH_MODELS_DIRECTORY,
        Vietnamese => lingua_vietnamese_language_model::VIETNAMESE_MODELS_DIRECTORY;
        Cyrillic:
        Bulgarian => lingua_bulgarian_language_model::BULGARIAN_MODELS_DIRECTORY,
        Russian => lingua_russian_language_model::RUSSIAN_MODELS_DIRECTORY,
        Ukrainian => lingua_ukrainian_language_model::UKRAINIAN_MODELS_DIRECTORY;
        Arabic:
        Arabic => lingua_arabic_language_model::ARABIC_MODELS_DIRECTORY,
        Persian => lingua_persian_language_model::PERSIAN_MODELS_DIRECTORY;
    ]
    .into_iter()
    .map(|(language, script, bytes)| Some(Model { language, script, ngrams: fst::Map::new(bytes?).ok()? }))
    .collect()
}

/// Matches keys of at most three UTF-8 characters, and stops the walk below them.
struct AtMostThreeChars;

impl Automaton for AtMostThreeChars {
    /// Characters started so far.
    type State = u8;

    fn start(&self) -> u8 {
        0
    }

    fn is_match(&self, started: &u8) -> bool {
        *started <= 3
    }

    fn can_match(&self, started: &u8) -> bool {
        *started <= 3
    }

    fn accept(&self, started: &u8, byte: u8) -> u8 {
        if byte & 0xC0 == 0x80 {
            *started
        } else {
            started.saturating_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(text: &str, script: Script) -> (Language, f64) {
        confidences(text, script).expect("the models load")[0]
    }

    #[test]
    fn every_model_is_read_into_the_table() {
        let table = table().expect("the models load");
        assert_eq!(table.models.len(), 28);
        assert_eq!(table.columns(Script::Latin), Some(0..23));
        assert_eq!(table.columns(Script::Cyrillic), Some(23..26));
        assert_eq!(table.columns(Script::Arabic), Some(26..28));
        assert_eq!(table.columns(Script::Greek), None);
        let english = table.models.iter().position(|m| m.language == Language::English).unwrap();
        let the = table.row(pack(&['t', 'h', 'e'])).expect("'the' is a known trigram");
        assert!(the[english] > -2.0, "P(e | th) is high in English: {}", the[english]);
    }

    #[test]
    fn scores_the_script_s_languages() {
        let cases = [
            ("I have been charged twice for my subscription this month", Script::Latin, Language::English),
            ("Hallo, ik wil mijn abonnement opzeggen", Script::Latin, Language::Dutch),
            ("Hej, jag vill avsluta mitt abonnemang", Script::Latin, Language::Swedish),
            ("Здравствуйте, я не могу войти в свой аккаунт", Script::Cyrillic, Language::Russian),
            ("Доброго дня, я не можу увійти до свого облікового запису", Script::Cyrillic, Language::Ukrainian),
            ("طلبي لم يصل بعد، أريد استرداد المبلغ", Script::Arabic, Language::Arabic),
            ("سفارش من هنوز نرسیده است", Script::Arabic, Language::Persian),
        ];
        for (text, script, language) in cases {
            let (found, confidence) = best(text, script);
            assert_eq!(found, language, "{text}");
            assert!(confidence > 0.5, "{text}: {confidence}");
        }
    }

    #[test]
    fn a_letter_a_language_does_not_know_counts_against_it() {
        // Lingua's formula alone adds nothing for the unknown "ř", which lets languages without
        // it win; with UNKNOWN the Czech word is Czech.
        assert_eq!(best("patřit", Script::Latin).0, Language::Czech);
        assert_eq!(best("formulação", Script::Latin).0, Language::Portuguese);
    }

    #[test]
    fn confidences_sum_to_one_best_first_and_are_deterministic() {
        let text = "ciao, il mio ordine non è arrivato";
        let scores = confidences(text, Script::Latin).unwrap();
        assert!(scores.len() <= MAX_CANDIDATES);
        assert!((scores.iter().map(|s| s.1).sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(scores.windows(2).all(|w| w[0].1 >= w[1].1));
        assert_eq!(confidences(text, Script::Latin), Some(scores));
    }

    #[test]
    fn long_text_is_scored_on_trigrams_over_every_language_of_its_script() {
        let text = "Je voudrais annuler ma commande, elle n'est toujours pas arrivée et personne ne \
                    répond à mes messages depuis deux semaines. Pouvez-vous me rembourser ?";
        assert!(words(text).iter().map(Vec::len).sum::<usize>() >= LONG_TEXT);
        let scores = confidences(text, Script::Latin).unwrap();
        assert_eq!(scores[0].0, Language::French);
        assert!(scores.len() > MAX_CANDIDATES, "no 4- and 5-gram pruning for long text");
    }

    #[test]
    fn words_are_lower_cased_runs_of_letters() {
        let words = words("What's UP, straße-42!");
        let words: Vec<String> = words.iter().map(|w| w.iter().collect()).collect();
        assert_eq!(words, ["what", "s", "up", "straße"]);
        assert_eq!(distinct(&[vec!['a', 'a', 'a', 'a']], 3), vec![&['a', 'a', 'a'][..]]);
    }

    #[test]
    fn only_keys_of_three_characters_or_fewer_are_matched() {
        let set = fst::Set::from_iter(["a", "ab", "abc", "abcd", "é", "éé", "ééé", "éééé"]).unwrap();
        let found: Vec<String> = set.search(AtMostThreeChars).into_stream().into_strs().unwrap();
        assert_eq!(found, ["a", "ab", "abc", "é", "éé", "ééé"]);
    }
}
