//! Runs every detector, applies context, the allow list, the enabled types and thresholds, and
//! resolves overlaps to one span per stretch of text. A long text is searched a segment at a
//! time, cut at line breaks, so the work is linear in its length and a cancel is noticed between
//! segments.

use super::patterns::Open;
use super::policy::{CompiledPolicy, Operator};
use super::{address, context, numbers, patterns, person, Method, Span};
use crate::{interrupt, Result};

/// Texts longer than this are searched in segments of about this many bytes.
const SEGMENT_BYTES: usize = 64 * 1024;

/// Every span of personal data `policy` asks for, in text order, no two overlapping. Fails only
/// when the call is cancelled.
pub fn detect<'a>(text: &'a str, policy: &'a CompiledPolicy) -> Result<Vec<Span<'a>>> {
    find(text, policy, false)
}

/// As [`detect`]; with `redacting`, types whose operator is `keep` are left out before overlaps
/// are resolved, so a secret inside a kept URL is still redacted.
pub(super) fn find<'a>(text: &'a str, policy: &'a CompiledPolicy, redacting: bool) -> Result<Vec<Span<'a>>> {
    let mut spans = Vec::new();
    let mut start = 0;
    while start < text.len() {
        interrupt::poll()?;
        let end = segment_end(text, start);
        let found = find_in(&text[start..end], policy, redacting);
        spans.extend(found.into_iter().map(|s| Span { start: s.start + start, end: s.end + start, ..s }));
        start = end;
    }
    if policy.policy.speaker {
        return Ok(speaker_field(text, spans, policy));
    }
    Ok(spans)
}

/// Role words a speaker field may hold instead of a name (any case, a number after them).
const ROLE_WORDS: [&str; 20] = [
    "agent",
    "customer",
    "user",
    "bot",
    "chatbot",
    "system",
    "assistant",
    "virtual assistant",
    "support",
    "caller",
    "client",
    "operator",
    "representative",
    "rep",
    "visitor",
    "guest",
    "speaker",
    "moderator",
    "unknown",
    "automated message",
];

/// The spans of a speaker field: what was found when it holds PII of a type other than a
/// person's name, or is empty, a role word or has no letter; else the whole field as one
/// `PERSON` (when the policy reports names and does not allow the value).
fn speaker_field<'a>(text: &'a str, found: Vec<Span<'a>>, policy: &CompiledPolicy) -> Vec<Span<'a>> {
    let name = text.trim();
    let role = name.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, ' ' | '_' | '-' | '#'));
    let is_role = ROLE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(role));
    if found.iter().any(|s| s.entity != "PERSON")
        || is_role
        || !name.chars().any(char::is_alphabetic)
        || !policy.enabled("PERSON")
        || policy.allowed(name)
    {
        return found;
    }
    let start = text.len() - text.trim_start().len();
    vec![Span {
        entity: "PERSON",
        start,
        end: start + name.len(),
        score: 1.0,
        method: Method::SpeakerField,
        evidence: "speaker field",
    }]
}

/// Where the segment from `start` ends: the whole rest when it is short; else at the last blank
/// line, else line break, else sentence end, else space in the second half of the next
/// `SEGMENT_BYTES` (a name or address rarely spans a sentence end); else at a character boundary.
fn segment_end(text: &str, start: usize) -> usize {
    let limit = start + SEGMENT_BYTES;
    if limit >= text.len() {
        return text.len();
    }
    let boundary = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let (from, to) = (boundary(start + SEGMENT_BYTES / 2), boundary(limit));
    let window = &text[from..to];
    let cut = window
        .rfind("\n\n")
        .map(|at| at + 2)
        .or_else(|| window.rfind('\n').map(|at| at + 1))
        .or_else(|| [". ", "! ", "? "].iter().filter_map(|end| window.rfind(end)).max().map(|at| at + 2))
        .or_else(|| window.rfind([' ', '\t']).map(|at| at + 1));
    cut.map_or(to, |at| from + at)
}

/// Every span of one segment, offsets within it.
fn find_in<'a>(text: &'a str, policy: &'a CompiledPolicy, redacting: bool) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    // Cheap checks first: one pass over the bytes for the shapes, one for the gate words (email
    // looks for its @ itself). Most chat turns have no digit, no @ and no URL, and the detectors
    // that need one are skipped.
    let shapes = Shapes::of(text.as_bytes());
    let open = Open::of(text);
    patterns::email(text, &mut spans);
    if text.contains("://") || text.contains("www.") {
        patterns::url(text, &mut spans);
    }
    patterns::credential(text, open, &mut spans);
    if shapes.digit {
        patterns::ipv6(text, &mut spans);
        if shapes.letter_digit {
            patterns::iban_code(text, &mut spans);
        }
        patterns::written_date(text, open, &mut spans);
        if shapes.upper_digit {
            patterns::postcode(text, &mut spans);
        }
        numbers::scan(text, policy.region, &mut spans);
        address::scan(text, open, &mut spans);
    }
    person::scan(text, open, &mut spans);
    patterns::declared(text, policy, &mut spans);
    context::adjust(text, policy, &mut spans);
    spans.retain(|s| {
        policy.enabled(s.entity)
            && s.score >= policy.threshold(s.entity)
            && !(redacting && policy.operator(s.entity) == Operator::Keep)
            && !policy.allowed(&text[s.start..s.end])
    });
    resolve(spans)
}

/// What one pass over a segment's bytes finds, for the detectors that need it. A byte at or
/// above 0x80 counts as a possible letter or digit, so text in other scripts is never skipped.
#[derive(Default)]
struct Shapes {
    /// An ASCII digit: every number-shaped detector.
    digit: bool,
    /// A digit right after a letter: IBANs (`DE89…`).
    letter_digit: bool,
    /// An upper-case letter right before a digit: UK and Canadian postcodes (`SW1A 1AA`).
    upper_digit: bool,
}

impl Shapes {
    /// The shapes of `bytes`; the pairs are looked for only when there is a digit, as only the
    /// number detectors use them.
    fn of(bytes: &[u8]) -> Self {
        if !bytes.iter().any(u8::is_ascii_digit) {
            return Self::default();
        }
        // Branch-free, which the compiler can turn into vector code.
        let (mut letter_digit, mut upper_digit) = (false, false);
        for pair in bytes.windows(2) {
            let digit = pair[1].is_ascii_digit() | (pair[1] >= 0x80);
            letter_digit |= digit & (pair[0].is_ascii_alphabetic() | (pair[0] >= 0x80));
            upper_digit |= digit & pair[0].is_ascii_uppercase();
        }
        Self { digit: true, letter_digit, upper_digit }
    }
}

/// One span per stretch of text. Spans that overlap form a group; a span containing the whole
/// group speaks for it (a phone number inside a URL, a name inside an address); otherwise the
/// highest score (then the longest) names the group, which covers all of its spans, so no part of
/// any of them is left unredacted.
fn resolve(mut spans: Vec<Span<'_>>) -> Vec<Span<'_>> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Span<'_>> = Vec::with_capacity(spans.len());
    let mut group_start = 0;
    let mut group_end = 0;
    for span in spans {
        match kept.last_mut() {
            Some(last) if span.start < group_end => {
                let better = span.score > last.score
                    || (span.score == last.score && span.end - span.start > last.end - last.start);
                let contains_group = last.start == group_start && last.end >= span.end;
                if better && !contains_group {
                    let start = last.start.min(span.start);
                    *last = Span { start, ..span };
                }
                group_end = group_end.max(span.end);
                last.end = last.end.max(group_end);
                last.start = last.start.min(group_start);
            }
            _ => {
                group_start = span.start;
                group_end = span.end;
                kept.push(span);
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::super::Method;
    use super::*;

    fn span(start: usize, end: usize, score: f64) -> Span<'static> {
        Span { entity: "X", start, end, score, method: Method::Pattern, evidence: "" }
    }

    fn resolved(spans: Vec<Span<'static>>) -> Vec<(usize, usize, f64)> {
        resolve(spans).iter().map(|s| (s.start, s.end, s.score)).collect()
    }

    #[test]
    fn a_long_text_is_searched_in_segments_that_find_what_the_whole_would() {
        let policy = CompiledPolicy::cached("").unwrap();
        let line = "Please write to jane.doe@example.com or call 415-555-0134 today.\n";
        let text = line.repeat(3 * SEGMENT_BYTES / line.len());
        let spans = detect(&text, &policy).unwrap();
        assert_eq!(spans.len(), 2 * text.lines().count());
        assert!(spans.iter().all(|s| ["EMAIL_ADDRESS", "PHONE_NUMBER"].contains(&s.entity)), "{spans:?}");
        let unbroken = "x".repeat(SEGMENT_BYTES + 10) + "é";
        assert_eq!(segment_end(&unbroken, 0), SEGMENT_BYTES, "cut at a character boundary");
    }

    #[test]
    fn a_speaker_field_is_a_name_whatever_its_words() {
        let policy = CompiledPolicy::from_json(r#"{"speaker": true, "allow": ["support@example.com"]}"#).unwrap();
        let found = |text: &str| -> Vec<(String, usize, usize)> {
            detect(text, &policy).unwrap().iter().map(|s| (s.entity.to_owned(), s.start, s.end)).collect()
        };
        for name in ["Grace Taylor", "Tom Smith", "Will", "the night manager", " Hope Street "] {
            let start = name.len() - name.trim_start().len();
            assert_eq!(found(name), [("PERSON".to_owned(), start, start + name.trim().len())], "{name}");
        }
        for role in ["Agent", "customer 2", "BOT", "Speaker_1", "", "  ", "17", "support@example.com"] {
            assert_eq!(found(role), [], "{role}");
        }
        assert_eq!(found("jane@example.com"), [("EMAIL_ADDRESS".to_owned(), 0, 16)]);
    }

    #[test]
    fn shapes_are_what_the_number_detectors_need() {
        let shapes = Shapes::of(b"IBAN DE89 3704 at SW1A 1AA, mail a@b.io");
        assert!(shapes.digit && shapes.letter_digit && shapes.upper_digit);
        let shapes = Shapes::of(b"call 555 0134 or 12-34");
        assert!(shapes.digit && !shapes.letter_digit && !shapes.upper_digit);
        // Any byte of another script may be a letter or a digit.
        assert!(Shapes::of("Straße 12".as_bytes()).letter_digit);
    }

    #[test]
    fn a_span_containing_its_group_speaks_for_it() {
        assert_eq!(resolved(vec![span(5, 8, 1.0), span(0, 10, 0.6)]), vec![(0, 10, 0.6)]);
    }

    #[test]
    fn overlapping_spans_merge_under_the_best_score() {
        assert_eq!(resolved(vec![span(0, 13, 0.85), span(10, 29, 0.9), span(14, 24, 0.85)]), vec![(0, 29, 0.9)]);
        assert_eq!(
            resolved(vec![span(20, 25, 0.5), span(22, 30, 0.4), span(40, 42, 0.7)]),
            vec![(20, 30, 0.5), (40, 42, 0.7)]
        );
    }
}
