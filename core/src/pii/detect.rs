//! Runs every detector, applies context, the allow list, the enabled types and thresholds, and
//! resolves overlaps to one span per stretch of text.

use super::policy::{CompiledPolicy, Operator};
use super::{address, context, numbers, patterns, person, Span};

/// Every span of personal data `policy` asks for, in text order, no two overlapping.
pub fn detect<'a>(text: &'a str, policy: &'a CompiledPolicy) -> Vec<Span<'a>> {
    find(text, policy, false)
}

/// As [`detect`]; with `redacting`, types whose operator is `keep` are left out before overlaps
/// are resolved, so a secret inside a kept URL is still redacted.
pub(super) fn find<'a>(text: &'a str, policy: &'a CompiledPolicy, redacting: bool) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let bytes = text.as_bytes();
    // Cheap checks first: most chat turns have no digit, no @ and no URL, and the detectors
    // that need one are skipped.
    if bytes.contains(&b'@') {
        patterns::email(text, &mut spans);
    }
    if text.contains("://") || text.contains("www.") {
        patterns::url(text, &mut spans);
    }
    patterns::credential(text, &mut spans);
    if bytes.iter().any(u8::is_ascii_digit) {
        patterns::ipv6(text, &mut spans);
        patterns::iban_code(text, &mut spans);
        patterns::written_date(text, &mut spans);
        patterns::postcode(text, &mut spans);
        numbers::scan(text, policy.region, &mut spans);
        address::scan(text, &mut spans);
    }
    person::scan(text, &mut spans);
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
