//! Context words: a word near a span raises its score ("call me at", "zip"), or lowers it
//! ("order", "tracking"); a date after "born" becomes a date of birth.

use super::policy::CompiledPolicy;
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

/// Adjusts every span's score by the words around it.
pub(super) fn adjust<'a>(text: &'a str, policy: &'a CompiledPolicy, spans: &mut [Span<'a>]) {
    let mut window = String::new();
    for span in spans.iter_mut() {
        if span.method == Method::DenyList {
            continue;
        }
        let extra = policy.context.get(span.entity).map(Vec::as_slice).unwrap_or_default();
        let extra_negative = policy.negative_context.get(span.entity).map(Vec::as_slice).unwrap_or_default();
        let pattern_words =
            policy.patterns.iter().filter(|(_, p)| p.entity == span.entity).flat_map(|(_, p)| p.context.iter());
        let built_in = raising(span.entity);
        let is_date = span.entity == "DATE_TIME";
        if built_in.is_empty()
            && extra.is_empty()
            && !is_date
            && lowering(span.entity).is_empty()
            && extra_negative.is_empty()
            && policy.patterns.is_empty()
        {
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
        let raised = built_in
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .chain(pattern_words.map(String::as_str))
            .find(|w| contains_word(&window, w));
        let lowered = lowering(span.entity)
            .iter()
            .copied()
            .chain(extra_negative.iter().map(String::as_str))
            .find(|w| contains_word(&window, w));
        match (raised, lowered) {
            (Some(word), None) => {
                if span.score < 1.0 {
                    span.score = (span.score + BOOST).min(1.0);
                    if span.method == Method::Pattern {
                        span.method = Method::Context;
                        span.evidence = word;
                    }
                }
            }
            (_, Some(_)) => span.score = (span.score - PENALTY).max(0.0),
            (None, None) => {}
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
    window.push_str(&text[from..span.start].to_lowercase());
    window.push_str(" \u{1} ");
    window.push_str(&text[span.end..to].to_lowercase());
}

/// Whether `word` occurs in `haystack` with no letter or digit right before or after it.
pub(super) fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert!(contains_word("my phone is", "phone"));
        assert!(!contains_word("my phones", "phone"));
        assert!(!contains_word("telephone", "phone"));
    }
}
