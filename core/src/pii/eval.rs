//! Evaluation against gold spans (the presidio-research JSONL shape): precision, recall and F1 per
//! type and overall, matching by overlap and by exact boundaries, with the misses and false
//! alarms to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use super::detect::detect;
use super::policy::{CompiledPolicy, BUILT_IN};
use crate::error::{Error, Result};

/// Gold type names that mean one of ours.
const ALIASES: [(&str, &str); 3] =
    [("ZIP_CODE", "POSTAL_CODE"), ("DOMAIN_NAME", "URL"), ("DATE_OF_BIRTH", "DATE_TIME")];

/// One labelled text.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldText {
    /// The text's id.
    #[serde(default)]
    pub id: String,
    /// The text.
    pub text: String,
    /// The labelled spans.
    pub spans: Vec<GoldSpan>,
}

/// One labelled span; offsets in characters, end exclusive.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldSpan {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// The type.
    #[serde(rename = "type")]
    pub entity: String,
}

/// Reads gold texts, one JSON object per line; errors name the line.
pub fn read_gold(reader: impl BufRead) -> Result<Vec<GoldText>> {
    let mut texts = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line =
            line.map_err(|e| Error::InputFile { what: "pii gold", line: Some(i + 1), problem: e.to_string() })?;
        if line.trim().is_empty() {
            continue;
        }
        let text: GoldText = serde_json::from_str(&line).map_err(|e| Error::InputFile {
            what: "pii gold",
            line: Some(i + 1),
            problem: e.to_string(),
        })?;
        texts.push(text);
    }
    Ok(texts)
}

/// How a prediction must meet a gold span to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matching {
    /// Same type and at least one character in common.
    Overlap,
    /// Same type, same start and end (surrounding whitespace ignored).
    Exact,
}

/// Counts and scores for one type (or all of them) under one matching.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TypeMetrics {
    /// Gold spans.
    pub gold: usize,
    /// Predicted spans.
    pub predicted: usize,
    /// Gold spans a prediction meets.
    pub found: usize,
    /// Predictions that meet a gold span.
    pub correct: usize,
    /// correct / predicted.
    pub precision: f64,
    /// found / gold.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl TypeMetrics {
    fn finish(&mut self) {
        self.precision = ratio(self.correct, self.predicted);
        self.recall = ratio(self.found, self.gold);
        self.f1 = if self.precision + self.recall > 0.0 {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        } else {
            0.0
        };
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A missed gold span or a false alarm, with the text around it.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// The text's id.
    pub id: String,
    /// The type.
    #[serde(rename = "type")]
    pub entity: String,
    /// The span's text.
    pub value: String,
    /// Up to 40 characters either side.
    pub context: String,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct PiiMetrics {
    /// Texts evaluated.
    pub texts: usize,
    /// Per type, by overlap.
    pub overlap: BTreeMap<String, TypeMetrics>,
    /// Per type, by exact boundaries.
    pub exact: BTreeMap<String, TypeMetrics>,
    /// Every evaluated type together, by overlap.
    pub overall_overlap: TypeMetrics,
    /// Every evaluated type together, by exact boundaries.
    pub overall_exact: TypeMetrics,
    /// Gold types convlytics does not detect, with their counts (not scored).
    pub unscored_gold_types: BTreeMap<String, usize>,
    /// Gold spans missed (overlap matching), a few of each type.
    pub misses: Vec<Example>,
    /// Predictions that meet no gold span, a few of each type.
    pub false_alarms: Vec<Example>,
}

/// Scores `policy`'s detections against `gold`. Types are compared after the aliases
/// (gold `ZIP_CODE` is `POSTAL_CODE`, `DOMAIN_NAME` is `URL`, our `DATE_OF_BIRTH` is `DATE_TIME`);
/// only types both sides can have are scored.
pub fn evaluate(gold: &[GoldText], policy: &CompiledPolicy, examples_per_type: usize) -> Result<PiiMetrics> {
    let alias = |t: &str| ALIASES.iter().find(|(from, _)| *from == t).map_or(t, |(_, to)| to).to_string();
    let ours: BTreeSet<String> = BUILT_IN
        .iter()
        .map(|t| alias(t))
        .chain(policy.policy.patterns.iter().map(|p| p.entity.clone()))
        .chain(policy.policy.deny.iter().map(|d| d.entity.clone()))
        .collect();
    let mut overlap: BTreeMap<String, TypeMetrics> = BTreeMap::new();
    let mut exact: BTreeMap<String, TypeMetrics> = BTreeMap::new();
    let mut unscored: BTreeMap<String, usize> = BTreeMap::new();
    let mut misses: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    let mut false_alarms: BTreeMap<String, Vec<Example>> = BTreeMap::new();
    let gold_types: BTreeSet<String> = gold.iter().flat_map(|g| g.spans.iter().map(|s| alias(&s.entity))).collect();
    for item in gold {
        let chars: Vec<(usize, char)> = item.text.char_indices().collect();
        let char_of = |byte: usize| chars.partition_point(|(b, _)| *b < byte);
        let predicted: Vec<(String, usize, usize)> = detect(&item.text, policy)?
            .iter()
            .map(|s| (alias(s.entity), char_of(s.start), char_of(s.end)))
            .filter(|(t, _, _)| gold_types.contains(t))
            .collect();
        let truth: Vec<(String, usize, usize)> = item
            .spans
            .iter()
            .filter_map(|s| {
                let t = alias(&s.entity);
                if ours.contains(&t) {
                    Some((t, s.start, s.end))
                } else {
                    *unscored.entry(s.entity.clone()).or_default() += 1;
                    None
                }
            })
            .collect();
        let slice =
            |s: usize, e: usize| chars.iter().skip(s).take(e.saturating_sub(s)).map(|(_, c)| c).collect::<String>();
        let trimmed = |s: usize, e: usize| {
            let value = slice(s, e);
            let lead = value.chars().take_while(|c| c.is_whitespace()).count();
            let trail = value.chars().rev().take_while(|c| c.is_whitespace()).count();
            (s + lead, e.saturating_sub(trail).max(s + lead))
        };
        let example = |t: &str, s: usize, e: usize| Example {
            id: item.id.clone(),
            entity: t.to_string(),
            value: slice(s, e),
            context: slice(s.saturating_sub(40), e + 40).replace('\n', " "),
        };
        for (metrics, mode) in [(&mut overlap, Matching::Overlap), (&mut exact, Matching::Exact)] {
            let meets = |a: &(String, usize, usize), b: &(String, usize, usize)| {
                a.0 == b.0
                    && match mode {
                        Matching::Overlap => a.1 < b.2 && b.1 < a.2,
                        Matching::Exact => trimmed(a.1, a.2) == trimmed(b.1, b.2),
                    }
            };
            for t in &truth {
                let m = metrics.entry(t.0.clone()).or_default();
                m.gold += 1;
                if predicted.iter().any(|p| meets(p, t)) {
                    m.found += 1;
                } else if mode == Matching::Overlap {
                    misses.entry(t.0.clone()).or_default().push(example(&t.0, t.1, t.2));
                }
            }
            for p in &predicted {
                let m = metrics.entry(p.0.clone()).or_default();
                m.predicted += 1;
                if truth.iter().any(|t| meets(p, t)) {
                    m.correct += 1;
                } else if mode == Matching::Overlap {
                    false_alarms.entry(p.0.clone()).or_default().push(example(&p.0, p.1, p.2));
                }
            }
        }
    }
    let total = |metrics: &mut BTreeMap<String, TypeMetrics>| {
        let mut all = TypeMetrics::default();
        for m in metrics.values_mut() {
            m.finish();
            all.gold += m.gold;
            all.predicted += m.predicted;
            all.found += m.found;
            all.correct += m.correct;
        }
        all.finish();
        all
    };
    let spread = |by_type: BTreeMap<String, Vec<Example>>| {
        by_type.into_values().flat_map(|v| v.into_iter().take(examples_per_type)).collect()
    };
    Ok(PiiMetrics {
        texts: gold.len(),
        overall_overlap: total(&mut overlap),
        overall_exact: total(&mut exact),
        overlap,
        exact,
        unscored_gold_types: unscored,
        misses: spread(misses),
        false_alarms: spread(false_alarms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_and_exact_matching() {
        let gold = read_gold(
            r#"{"id": "a", "text": "Mail jane@example.com or call 415 555 2671 now", "spans": [{"start": 5, "end": 21, "type": "EMAIL_ADDRESS"}, {"start": 30, "end": 38, "type": "PHONE_NUMBER"}, {"start": 0, "end": 4, "type": "GPE"}]}"#
                .as_bytes(),
        )
        .unwrap();
        let m = evaluate(&gold, &CompiledPolicy::from_json("").unwrap(), 3).unwrap();
        assert_eq!(m.overlap["EMAIL_ADDRESS"].f1, 1.0);
        assert_eq!(m.overlap["PHONE_NUMBER"].recall, 1.0);
        assert_eq!(m.exact["PHONE_NUMBER"].recall, 0.0);
        assert_eq!(m.unscored_gold_types["GPE"], 1);
        assert_eq!(m.overall_overlap.gold, 2);
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = read_gold("{\"text\": \"a\", \"spans\": []}\nnot json".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
