//! Context words: a word near a span raises its score ("call me at", "zip"), or lowers it
//! ("order", "tracking"); a date after "born" becomes a date of birth.

use std::collections::HashMap;

use super::policy::{CompiledPolicy, Policy, BUILT_IN};
use super::{Method, Span};

/// How much a context word raises a score.
const BOOST: f64 = 0.35;
/// How much a lowering word lowers it: more than a validated phone number's margin over the
/// default threshold, so "order number 4155552671" is a reference, not a phone.
const PENALTY: f64 = 0.4;
/// Bytes looked at before a span, and after it.
const BEFORE: usize = 48;
const AFTER: usize = 24;

/// Built-in words that raise a type's score.
fn raising(entity: &str) -> &'static [&'static str] {
    match entity {
        "PHONE_NUMBER" => &[
            "phone",
            "call",
            "mobile",
            "cell",
            "tel",
            "telephone",
            "number",
            "reach me",
            "text me",
            "whatsapp",
            "fax",
            "contact",
            "registered",
            "landline",
        ],
        "CREDIT_CARD" => &["card", "credit", "debit", "cc", "visa", "mastercard", "amex", "payment", "charged"],
        "US_SSN" => &["ssn", "social security", "social"],
        "POSTAL_CODE" => &["zip", "zipcode", "zip code", "postal", "postcode", "post code"],
        "DATE_TIME" => &["date", "appointment", "scheduled", "admitted", "visit", "expires", "expiry", "issued"],
        "STREET_ADDRESS" => {
            &["address", "live at", "lives at", "ship", "deliver", "send it to", "mail it to", "apartment"]
        }
        "URL" => &["link", "site", "website", "profile", "url"],
        _ => &[],
    }
}

/// Built-in words that lower a type's score: numbers that are references, not people.
fn lowering(entity: &str) -> &'static [&'static str] {
    match entity {
        "PHONE_NUMBER" => &[
            "order",
            "tracking",
            "invoice",
            "ticket",
            "reference",
            "ref",
            "case",
            "confirmation",
            "serial",
            "model",
            "version",
            "account number",
            "license",
            "licence",
            "passport",
            "iban",
            "ssn",
        ],
        "IP_ADDRESS" => &["version", "v."],
        _ => &[],
    }
}

/// Words that make a date a date of birth.
const BIRTH: [&str; 6] = ["born", "birth", "dob", "d.o.b", "birthday", "bday"];

/// The words that move one type's score, lower-cased: the built-in ones, then the policy's.
#[derive(Debug, Default)]
pub(crate) struct ContextWords {
    raising: Vec<String>,
    lowering: Vec<String>,
}

impl ContextWords {
    /// The words of every type that has any: built-in words, the policy's `context` and
    /// `negative_context`, and each project pattern's `context`.
    pub(super) fn for_policy(policy: &Policy) -> HashMap<String, ContextWords> {
        let mut all: HashMap<String, ContextWords> = HashMap::new();
        let lower = |words: &[String]| words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>();
        for entity in BUILT_IN {
            let words = all.entry(entity.to_string()).or_default();
            words.raising.extend(raising(entity).iter().map(|w| w.to_string()));
            words.lowering.extend(lowering(entity).iter().map(|w| w.to_string()));
        }
        for (entity, words) in &policy.context {
            all.entry(entity.clone()).or_default().raising.extend(lower(words));
        }
        for (entity, words) in &policy.negative_context {
            all.entry(entity.clone()).or_default().lowering.extend(lower(words));
        }
        for pattern in &policy.patterns {
            all.entry(pattern.entity.clone()).or_default().raising.extend(lower(&pattern.context));
        }
        all.retain(|_, w| !w.raising.is_empty() || !w.lowering.is_empty());
        all
    }
}

/// Adjusts every span's score by the words around it.
pub(super) fn adjust<'a>(text: &'a str, policy: &'a CompiledPolicy, spans: &mut [Span<'a>]) {
    let mut window = String::new();
    for span in spans.iter_mut() {
        let is_date = span.entity == "DATE_TIME";
        let words = policy.context.get(span.entity);
        if span.method == Method::DenyList || (words.is_none() && !is_date) {
            continue;
        }
        fill_window(text, span, &mut window);
        if is_date {
            let before = window.split('\u{1}').next().unwrap_or_default();
            if let Some(word) = BIRTH.iter().find(|w| contains_word(before, w)) {
                span.entity = "DATE_OF_BIRTH";
                span.score = 0.85;
                span.method = Method::Context;
                span.evidence = word;
                continue;
            }
        }
        let Some(words) = words else { continue };
        let found =
            |list: &'a [String], window: &str| list.iter().map(String::as_str).find(|w| contains_word(window, w));
        // A lowering word counts in the span's own sentence only: "my invoice. Call me at
        // 415 555 2671" is a phone number; "invoice 4155552671" is not.
        match (found(&words.raising, &window), found(&words.lowering, same_sentence(&window))) {
            (_, Some(_)) => span.score = (span.score - PENALTY).max(0.0),
            (Some(word), None) if span.score < 1.0 => {
                span.score = (span.score + BOOST).min(1.0);
                if span.method == Method::Pattern {
                    span.method = Method::Context;
                    span.evidence = word;
                }
            }
            _ => {}
        }
    }
}

/// The lower-cased text around `span`, the span itself blanked so its own letters do not count.
fn fill_window(text: &str, span: &Span<'_>, window: &mut String) {
    let mut from = span.start.saturating_sub(BEFORE);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (span.end + AFTER).min(text.len());
    while !text.is_char_boundary(to) {
        to += 1;
    }
    window.clear();
    push_lowercase(window, &text[from..span.start]);
    window.push_str(" \u{1} ");
    push_lowercase(window, &text[span.end..to]);
}

/// Appends `part` lower-cased, without a new string when it is ASCII.
fn push_lowercase(window: &mut String, part: &str) {
    if part.is_ascii() {
        let at = window.len();
        window.push_str(part);
        window[at..].make_ascii_lowercase();
    } else {
        window.push_str(&part.to_lowercase());
    }
}

/// The part of a context window (before `\u{1}` after) in the span's own sentence: from the
/// last sentence end before it to the first one after it.
fn same_sentence(window: &str) -> &str {
    let Some(mid) = window.find('\u{1}') else { return window };
    let ends = |text: &str| -> Vec<usize> {
        text.char_indices()
            .filter(|&(i, c)| {
                c == '\n' || (matches!(c, '.' | '?' | '!') && text[i + 1..].starts_with(char::is_whitespace))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let from = ends(&window[..mid]).last().map_or(0, |i| i + 1);
    let to = ends(&window[mid..]).first().map_or(window.len(), |i| mid + i);
    &window[from..to]
}

/// Whether `word` occurs in `haystack` as a whole word.
pub(super) fn contains_word(haystack: &str, word: &str) -> bool {
    // Windows are short: finding the first byte and comparing beats building a searcher.
    let Some(&first) = word.as_bytes().first() else {
        return haystack.char_indices().map(|(i, _)| i).chain([haystack.len()]).any(|i| is_whole_word(haystack, i, i));
    };
    memchr::memchr_iter(first, haystack.as_bytes())
        .any(|i| haystack.as_bytes()[i..].starts_with(word.as_bytes()) && is_whole_word(haystack, i, i + word.len()))
}

/// Whether `text[start..end]` has no letter or digit right before or after it.
pub(super) fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    !text[..start].chars().next_back().is_some_and(char::is_alphanumeric)
        && !text[end..].chars().next().is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_words_count_whatever_their_case() {
        let policy = CompiledPolicy::from_json(
            r#"{"patterns": [{"type": "ORDER_ID", "regex": "\\bA\\d{6}\\b", "score": 0.3, "context": ["Order"]}]}"#,
        )
        .unwrap();
        let found = super::super::detect("your ORDER is A123456", &policy).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].entity, found[0].method, found[0].evidence), ("ORDER_ID", Method::Context, "order"));
        assert!(super::super::detect("A123456", &policy).unwrap().is_empty());
    }

    #[test]
    fn lowering_words_count_in_the_span_sentence_only() {
        let policy = CompiledPolicy::from_json(r#"{"default_region": "US"}"#).unwrap();
        let phones = |text: &str| {
            super::super::detect(text, &policy).unwrap().iter().filter(|s| s.entity == "PHONE_NUMBER").count()
        };
        assert_eq!(phones("I need a corrected invoice. You can reach me at (617) 788-0426."), 1);
        assert_eq!(phones("Can I add it to my order? Call me on 617-788-0426"), 1);
        assert_eq!(phones("Invoice 6177880426 is wrong"), 0);
        assert_eq!(phones("my order number 4155552671 has not arrived"), 0);
    }

    #[test]
    fn sentences_of_a_window() {
        assert_eq!(same_sentence("my invoice. call me at \u{1} . thanks"), " call me at \u{1} ");
        assert_eq!(same_sentence("order \u{1} ref"), "order \u{1} ref");
        assert_eq!(same_sentence("paid $10.50 for order \u{1} today!\nbye"), "paid $10.50 for order \u{1} today");
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_word("my phone is", "phone"));
        assert!(!contains_word("my phones", "phone"));
        assert!(!contains_word("telephone", "phone"));
        assert!(contains_word("phone, phones", "phones"));
        assert!(contains_word("a - b", "") && !contains_word("phones", ""));
    }
}
