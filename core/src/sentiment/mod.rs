//! Sentiment and tones of customer-support text, by lexicon and rules: a score in [-1, 1] that
//! says which words moved it and why.
//!
//! The word valences are VADER's lexicon (Hutto & Gilbert, 2014) with a support lexicon laid
//! over it: request formulas VADER rates positive ("please help", "I would like") are neutral,
//! and complaints without an opinion word ("doesn't work", "still waiting", "third time",
//! "cancel my account") are negative. The rules are VADER's (negation, degree adverbs, capitals,
//! exclamation marks, "but") plus the ones support text needs: a negation reaches the end of its
//! clause and turns outcome verbs negative, persistence words strengthen complaints, and praise
//! inside a request, condition or question counts for less.

pub mod eval;
mod lexicon;
mod tones;

use serde::Serialize;

use lexicon::lexicon;
pub use tones::{tones, tones_text, Tones};

/// VADER's normalisation constant: a raw sum `s` becomes `s / sqrt(s² + ALPHA)`.
const ALPHA: f64 = 15.0;
/// Scores at or beyond ±this are positive or negative; between them, neutral.
pub const NEUTRAL_BAND: f64 = 0.05;
/// What a negation multiplies a valence by.
const NEGATION: f64 = -0.74;
/// What a word in capitals (in text that is not all capitals) adds to its valence.
const CAPS: f64 = 0.733;
/// The valence of an outcome verb under negation ("doesn't work").
const FAILED_OUTCOME: f64 = -1.6;
/// How far back (in tokens) a negation, degree adverb or persistence word reaches.
const REACH: usize = 3;

/// The sentiment of a text, with the cues that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    /// In [-1, 1]: below zero negative, above positive.
    pub score: f64,
    /// `negative`, `neutral` or `positive` (the neutral band is ±[`NEUTRAL_BAND`]).
    pub label: &'static str,
    /// Every word or phrase that carried a valence, in text order.
    pub cues: Vec<Cue>,
}

/// One word or phrase that moved the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cue {
    /// The words as written.
    pub text: String,
    /// Its valence after the rules, on VADER's [-4, 4] scale.
    pub valence: f64,
    /// The rules that changed it: `negated`, `boosted`, `dampened`, `persistence`, `caps`,
    /// `hypothetical`, `question`, `before contrast`, `after contrast`, `concession`, `sign-off`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<&'static str>,
}

/// A token of the text: a word, an emoticon or an emoji.
#[derive(Debug)]
struct Token<'a> {
    raw: &'a str,
    word: String,
    sentence: usize,
    clause: usize,
    caps: bool,
}

/// A sentence's shape: whether it asks, and where its contrast word is.
#[derive(Debug, Default, Clone, Copy)]
struct SentenceShape {
    question: bool,
    contrast_at: Option<usize>,
}

/// The sentiment score of `text`, in [-1, 1].
pub fn sentiment(text: &str) -> f64 {
    analyze(text).score
}

/// `negative`, `neutral` or `positive` for a score.
pub fn label(score: f64) -> &'static str {
    if score >= NEUTRAL_BAND {
        "positive"
    } else if score <= -NEUTRAL_BAND {
        "negative"
    } else {
        "neutral"
    }
}

/// `sentiment_explain(text)` as SQL returns it: the [`Sentiment`] as JSON.
pub fn sentiment_explain_text(text: &str) -> String {
    serde_json::to_string(&analyze(text)).expect("sentiment serializes")
}

/// The sentiment of `text` with its cues.
pub fn analyze(text: &str) -> Sentiment {
    let tokens = tokenize(text);
    let all_caps = !tokens.iter().any(|t| t.raw.chars().any(char::is_lowercase));
    let shapes = shapes(text, &tokens);
    let mut cues: Vec<(usize, Cue)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some((len, valence)) = lookup(&tokens, i) else {
            i += 1;
            continue;
        };
        let modifier = is_modifier(&tokens, i, len);
        if !modifier {
            if let Some(cue) = apply_rules(&tokens, i, len, valence, all_caps, &shapes) {
                cues.push((i, cue));
            }
        }
        i += len;
    }
    cues.extend(waits(&tokens));
    cues.sort_by_key(|(i, _)| *i);
    sign_off(&tokens, &mut cues);
    let mut sum: f64 = cues.iter().map(|(_, c)| c.valence).sum();
    if sum != 0.0 {
        sum += sum.signum() * punctuation_emphasis(text);
    }
    let score = round4((sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0));
    Sentiment { score, label: label(score), cues: cues.into_iter().map(|(_, c)| c).collect() }
}

/// Rounds to four decimals, so both engines print the same number (and never `-0`).
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}

/// A cue's valence to three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The words of `text`: emoticons kept whole, emoji split off, other tokens stripped of outer
/// punctuation and lower-cased. Sentences end at `.`, `!`, `?`, `;` and line breaks; clauses also
/// at `,`, `:`, dashes and contrast words.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let lex = lexicon();
    let mut tokens = Vec::new();
    let (mut sentence, mut clause) = (0, 0);
    for line in text.lines() {
        for raw in line.split_whitespace() {
            let lower = raw.to_lowercase();
            if !raw.chars().all(char::is_alphanumeric) && lex.get(&lower).is_some() {
                tokens.push(Token { raw, word: lower, sentence, clause, caps: false });
                continue;
            }
            let mut rest = raw;
            while !rest.is_empty() {
                let emoji_at = rest.char_indices().find(|&(_, c)| is_emoji(c));
                let (word_part, emoji) = match emoji_at {
                    Some((at, c)) => (&rest[..at], Some(&rest[at..at + c.len_utf8()])),
                    None => (rest, None),
                };
                push_word(&mut tokens, word_part, &mut sentence, &mut clause);
                match emoji {
                    Some(e) => {
                        tokens.push(Token { raw: e, word: e.to_string(), sentence, clause, caps: false });
                        rest = &rest[word_part.len() + e.len()..];
                        // A variation selector after an emoji belongs to it.
                        rest = rest.trim_start_matches('\u{FE0F}');
                    }
                    None => rest = "",
                }
            }
        }
        sentence += 1;
        clause += 1;
    }
    tokens
}

/// Adds the word in `part` (outer punctuation stripped), then moves to the next sentence or
/// clause if the punctuation after it ends one.
fn push_word<'a>(tokens: &mut Vec<Token<'a>>, part: &'a str, sentence: &mut usize, clause: &mut usize) {
    let word = part.trim_matches(|c: char| !c.is_alphanumeric());
    if !word.is_empty() {
        let mut lower = word.to_lowercase().replace(['’', '‘'], "'");
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        let caps = letters >= 2 && !word.chars().any(char::is_lowercase);
        if lexicon::is_contrast(&lower) {
            *clause += 1;
        }
        if let Some((negated, rest)) = lexicon::elided(&lower) {
            if negated {
                tokens.push(Token { raw: word, word: "ne".into(), sentence: *sentence, clause: *clause, caps });
            }
            lower = rest.to_string();
        }
        tokens.push(Token { raw: word, word: lower, sentence: *sentence, clause: *clause, caps });
    }
    let trailing = &part[part.trim_end_matches(|c: char| !c.is_alphanumeric()).len()..];
    if trailing.contains(['.', '!', '?', ';']) {
        *sentence += 1;
        *clause += 1;
    } else if trailing.contains([',', ':', '-', '–', '—', '(', ')']) {
        *clause += 1;
    }
}

/// Emoji and pictographs (the blocks the support lexicon draws on).
fn is_emoji(c: char) -> bool {
    matches!(c, '\u{1F300}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2B50}')
}

/// The longest lexicon entry starting at token `i` within its sentence: its length in tokens and
/// valence. Reads on only while a phrase could still match.
fn lookup(tokens: &[Token<'_>], i: usize) -> Option<(usize, f64)> {
    let lex = lexicon();
    let first = &tokens[i];
    let mut found = lex.get(&first.word).map(|v| (1, v));
    if lex.continues(&first.word) {
        let mut key = first.word.clone();
        for (n, token) in tokens[i + 1..].iter().take_while(|t| t.sentence == first.sentence).enumerate() {
            key.push(' ');
            key.push_str(&token.word);
            if let Some(v) = lex.get(&key) {
                found = Some((n + 2, v));
            }
            if !lex.continues(&key) {
                break;
            }
        }
    }
    match found {
        Some(hit) => Some(hit),
        None if lexicon::is_negatable_outcome(&first.word) => Some((1, 0.0)),
        None => None,
    }
}

/// Whether the single token at `i` modifies the next word (a degree adverb or a negator with a
/// word after it in its clause) rather than carrying a valence of its own.
fn is_modifier(tokens: &[Token<'_>], i: usize, len: usize) -> bool {
    let t = &tokens[i];
    let next_in_clause = tokens.get(i + 1).is_some_and(|n| n.clause == t.clause);
    len == 1 && next_in_clause && (lexicon::booster(&t.word).is_some() || lexicon::is_negator(&t.word))
}

/// The cue starting at token `i` (`len` tokens, base `valence`) after negation, degree,
/// persistence, capitals, hypotheticals, questions and contrast; `None` if nothing is left.
fn apply_rules(
    tokens: &[Token<'_>],
    i: usize,
    len: usize,
    valence: f64,
    all_caps: bool,
    shapes: &[SentenceShape],
) -> Option<Cue> {
    let first = &tokens[i];
    let mut v = valence;
    let mut rules = Vec::new();
    let before: Vec<&Token<'_>> =
        tokens[..i].iter().rev().take_while(|t| t.clause == first.clause).take(REACH).collect();
    let negator = before.iter().position(|t| lexicon::is_negator(&t.word));
    let intensified = negator.is_some_and(|n| {
        before[n].word == "never"
            && before[..n].iter().any(|t| matches!(t.word.as_str(), "more" | "so" | "this" | "such"))
    });
    let negated = negator.is_some() && !intensified && tokens.get(i + len).is_none_or(|t| t.word != "only");
    // German, Dutch, Swedish and spoken French negate after the verb: "funktioniert nicht".
    let negated_after = tokens[i + len..]
        .iter()
        .take(2)
        .take_while(|t| t.clause == first.clause)
        .any(|t| matches!(t.word.as_str(), "nicht" | "niet" | "inte" | "pas"));
    let negated = negated || (negated_after && len == 1 && lexicon::is_negatable_outcome(&first.word));
    if negated && len == 1 && lexicon::is_negatable_outcome(&first.word) && v >= 0.0 {
        v = FAILED_OUTCOME;
        rules.push("negated");
    } else if negated && v < 0.0 && is_warning(tokens, i - 1 - negator.unwrap_or(0)) {
        rules.push("warning");
    } else if negated {
        v *= NEGATION;
        rules.push("negated");
    }
    if v == 0.0 {
        return None;
    }
    for (distance, t) in before.iter().enumerate() {
        if let Some(boost) = lexicon::booster(&t.word) {
            let decay = [1.0, 0.95, 0.9][distance];
            let mut scalar = boost * decay;
            if t.caps && !all_caps {
                scalar += CAPS * boost.signum();
            }
            v += v.signum() * scalar;
            rules.push(if boost > 0.0 { "boosted" } else { "dampened" });
        } else if lexicon::is_persistence(&t.word) && v < 0.0 {
            v -= 0.293;
            rules.push("persistence");
        }
    }
    if !all_caps && tokens[i..i + len].iter().any(|t| t.caps) {
        v += v.signum() * CAPS;
        rules.push("caps");
    }
    let clause_start = tokens[..i].iter().rev().take_while(|t| t.clause == first.clause).count();
    let hypothetical = tokens[i - clause_start..i].iter().any(|t| lexicon::is_irrealis(&t.word));
    if v > 0.0 && hypothetical {
        v *= 0.3;
        rules.push("hypothetical");
    }
    if v > 0.0 && expectation(&tokens[i - clause_start..i]) {
        v *= -0.5;
        rules.push("unmet expectation");
    }
    let shape = shapes[first.sentence];
    if v > 0.0 && shape.question {
        v *= 0.5;
        rules.push("question");
    }
    let concession = tokens[i - clause_start..i].iter().any(|t| matches!(t.word.as_str(), "although" | "though"));
    if concession {
        v *= 0.5;
        rules.push("concession");
    } else if let Some(c) = shape.contrast_at {
        if i < c {
            v *= 0.5;
            rules.push("before contrast");
        } else if i > c {
            v *= 1.5;
            rules.push("after contrast");
        }
    }
    let text = tokens[i..i + len].iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");
    Some(Cue { text, valence: round3(v), rules })
}

/// Whether the negator at token `at` opens its clause as an imperative ("Don't buy this", "Never
/// order here"): a warning keeps its negative sign.
fn is_warning(tokens: &[Token<'_>], at: usize) -> bool {
    let t = &tokens[at];
    let start = if t.word == "not" && at > 0 && tokens[at - 1].word == "do" && tokens[at - 1].clause == t.clause {
        at - 1
    } else {
        at
    };
    let s = &tokens[start];
    let imperative = matches!(s.word.as_str(), "don't" | "dont" | "never" | "do");
    let opens = start == 0
        || tokens[start - 1].clause != s.clause
        || matches!(tokens[start - 1].word.as_str(), "please" | "just" | "so" | "and");
    imperative && opens
}

/// Whether praise in a clause is what was hoped for and not had: "I expected better", "I was
/// hoping for more", "it could have been better".
fn expectation(clause: &[Token<'_>]) -> bool {
    clause.iter().enumerate().any(|(k, t)| {
        matches!(t.word.as_str(), "expected" | "expecting" | "hoped" | "hoping" | "wanted" | "needed")
            || (matches!(t.word.as_str(), "would" | "could" | "should")
                && clause.get(k + 1).is_some_and(|n| matches!(n.word.as_str(), "have" | "'ve" | "be")))
            || matches!(t.word.as_str(), "would've" | "could've" | "should've")
    })
}

/// Complaints about waiting: "waited 40 minutes", "took three weeks", "on hold for 2 hours".
fn waits(tokens: &[Token<'_>]) -> Vec<(usize, Cue)> {
    let mut cues = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !matches!(
            t.word.as_str(),
            "wait" | "waited" | "waiting" | "waits" | "took" | "taking" | "takes" | "hold" | "spent"
        ) {
            continue;
        }
        let window = tokens[i + 1..].iter().take(4).take_while(|n| n.sentence == t.sentence);
        let mut saw_amount = false;
        for n in window {
            let unit = match n.word.as_str() {
                "minute" | "minutes" | "mins" | "min" => -1.0,
                "hour" | "hours" | "hrs" | "hr" => -1.5,
                "day" | "days" => -1.6,
                "week" | "weeks" | "month" | "months" => -1.8,
                _ => 0.0,
            };
            if unit != 0.0 && saw_amount {
                let text = format!("{} … {}", t.raw, n.raw);
                cues.push((i, Cue { text, valence: unit, rules: vec!["waiting time"] }));
                break;
            }
            saw_amount |= n.word.chars().all(|c| c.is_ascii_digit())
                || matches!(
                    n.word.as_str(),
                    "a" | "an"
                        | "two"
                        | "three"
                        | "four"
                        | "five"
                        | "six"
                        | "ten"
                        | "several"
                        | "many"
                        | "few"
                        | "over"
                        | "almost"
                        | "nearly"
                        | "about"
                        | "another"
                );
        }
    }
    cues
}

/// For each sentence: whether it is a question (its last token is followed by `?` in the text)
/// and the position of its first "but" or "however".
fn shapes(text: &str, tokens: &[Token<'_>]) -> Vec<SentenceShape> {
    let count = tokens.last().map_or(0, |t| t.sentence + 1);
    let mut shapes = vec![SentenceShape::default(); count];
    for (i, t) in tokens.iter().enumerate() {
        if matches!(t.word.as_str(), "but" | "however") && shapes[t.sentence].contrast_at.is_none() {
            shapes[t.sentence].contrast_at = Some(i);
        }
        let last_of_sentence = tokens.get(i + 1).is_none_or(|n| n.sentence != t.sentence);
        if last_of_sentence {
            let end = t.raw.as_ptr() as usize - text.as_ptr() as usize + t.raw.len();
            let after = text[end..].trim_start_matches(|c: char| !c.is_alphanumeric() && c != '?' && c != '\n');
            shapes[t.sentence].question = after.starts_with('?');
        }
    }
    shapes
}

/// Thanks in a short closing sentence of a complaint is politeness: it counts for less.
fn sign_off(tokens: &[Token<'_>], cues: &mut [(usize, Cue)]) {
    let Some(last_sentence) = tokens.last().map(|t| t.sentence) else { return };
    let rest: f64 = cues.iter().filter(|(i, _)| tokens[*i].sentence != last_sentence).map(|(_, c)| c.valence).sum();
    let short = tokens.iter().filter(|t| t.sentence == last_sentence).count() <= 4;
    if rest >= 0.0 || !short {
        return;
    }
    for (i, cue) in cues.iter_mut() {
        let thanks = matches!(tokens[*i].word.as_str(), "thanks" | "thank" | "cheers" | "regards");
        if tokens[*i].sentence == last_sentence && thanks && cue.valence > 0.0 {
            cue.valence = round3(cue.valence * 0.3);
            cue.rules.push("sign-off");
        }
    }
}

/// VADER's emphasis from exclamation marks (up to four) and repeated question marks.
fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(4) as f64 * 0.292;
    let questions = text.matches('?').count();
    let questions = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    exclamations + questions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> f64 {
        sentiment(text)
    }

    #[test]
    fn support_complaints_without_opinion_words_are_negative() {
        for text in [
            "My order never arrived",
            "The app doesn't work",
            "Still waiting for my refund",
            "This is the third time I'm contacting you",
            "I want to cancel my account",
            "I can't log in",
        ] {
            assert!(score(text) < -NEUTRAL_BAND, "{text}: {}", score(text));
        }
    }

    #[test]
    fn requests_are_not_praise() {
        for text in ["Please help me with my order", "I would like to change my address", "Could you help me?"] {
            assert_eq!(label(score(text)), "neutral", "{text}: {}", score(text));
        }
        assert!(score("It would be great if you could fix it") < score("It is great"));
    }

    #[test]
    fn negation_boosters_caps_and_contrast() {
        assert!(score("The agent was not helpful") < 0.0);
        assert!(score("The agent was very helpful") > score("The agent was helpful"));
        assert!(score("The agent was HELPFUL") > score("The agent was helpful"));
        assert!(score("Good phone but the battery is terrible") < 0.0);
        assert!(score("Terrible delivery!!!") < score("Terrible delivery"));
        assert!(score("No problem, happy to help") > 0.0);
    }

    #[test]
    fn emoji_emoticons_and_sign_offs() {
        assert!(score("thanks 🙏😊") > 0.0);
        assert!(score("great... 😡") < score("great"));
        assert!(score(":(") < 0.0);
        let s = analyze("My card was charged twice and nobody answers. Thanks.");
        assert!(s.score < 0.0);
        assert!(s.cues.iter().any(|c| c.rules.contains(&"sign-off")));
    }

    #[test]
    fn other_languages_have_their_support_words_and_negations() {
        for text in [
            "Mi pedido llegó roto y no funciona",
            "Le colis n'est pas arrivé, je suis très déçu",
            "Die App funktioniert nicht",
            "De app werkt niet en ik ben teleurgesteld",
            "Я не могу войти в свой аккаунт",
        ] {
            assert!(score(text) < -NEUTRAL_BAND, "{text}: {}", score(text));
        }
        for text in ["Muchas gracias, ¡perfecto!", "Merci beaucoup, c'est résolu", "Tack så mycket, toppen!"] {
            assert!(score(text) > NEUTRAL_BAND, "{text}: {}", score(text));
        }
    }

    #[test]
    fn empty_and_neutral_text() {
        assert_eq!(score(""), 0.0);
        assert_eq!(analyze("My order number is 12345").label, "neutral");
        assert!(analyze("").cues.is_empty());
    }

    #[test]
    fn explanation_names_each_rule() {
        let s = analyze("The replacement still doesn't work");
        assert_eq!(s.label, "negative");
        assert_eq!(s.cues.len(), 1);
        assert_eq!(s.cues[0].text, "work");
        assert!(s.cues[0].rules.contains(&"negated"));
        assert!(s.cues[0].rules.contains(&"persistence"));
    }
}
