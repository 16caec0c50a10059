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
    patterns::email(text, &mut spans);
    patterns::url(text, &mut spans);
    patterns::credential(text, &mut spans);
    patterns::ipv6(text, &mut spans);
    patterns::iban_code(text, &mut spans);
    patterns::written_date(text, &mut spans);
    patterns::postcode(text, &mut spans);
    numbers::scan(text, policy.region, &mut spans);
    address::scan(text, &mut spans);
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

/// One span per stretch of text: a span inside another gives way to it (a phone number inside a
/// URL, a name inside an address); of two that overlap partly, the higher score stays.
fn resolve(mut spans: Vec<Span<'_>>) -> Vec<Span<'_>> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)).then(b.score.total_cmp(&a.score)));
    let mut outer: Vec<Span<'_>> = Vec::with_capacity(spans.len());
    for span in spans {
        if outer.last().is_some_and(|o| span.end <= o.end) {
            continue;
        }
        outer.push(span);
    }
    let mut kept: Vec<Span<'_>> = Vec::with_capacity(outer.len());
    for span in outer {
        match kept.last_mut() {
            Some(last) if span.start < last.end => {
                if span.score > last.score {
                    *last = span;
                }
            }
            _ => kept.push(span),
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

    #[test]
    fn contained_spans_give_way_and_partial_overlaps_keep_the_higher_score() {
        let kept = resolve(vec![span(5, 8, 1.0), span(0, 10, 0.6), span(9, 14, 0.9), span(20, 25, 0.5), span(22, 30, 0.4)]);
        let ranges: Vec<(usize, usize)> = kept.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(ranges, vec![(9, 14), (20, 25)]);
    }
}
