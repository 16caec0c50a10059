//! Scoring sentiment labels: accuracy, macro-F1, macro-recall and the confusion matrix.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::labels::{finish, ratio, LabelScore, LabelledText};
use crate::{Error, Result};

/// The labels a gold file may use.
pub const LABELS: [&str; 3] = ["negative", "neutral", "positive"];

/// How well predicted sentiment labels agree with gold ones.
#[derive(Debug, Clone, Serialize)]
pub struct SentimentMetrics {
    /// Texts scored.
    pub texts: usize,
    /// Share predicted right.
    pub accuracy: f64,
    /// Mean F1 over the gold labels present.
    pub macro_f1: f64,
    /// Mean recall over the gold labels present.
    pub macro_recall: f64,
    /// Per label.
    pub labels: BTreeMap<String, LabelScore>,
    /// `confusion[gold][predicted]`: how many texts.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Checks that every gold label is one of [`LABELS`]; names the first row that is not.
pub fn check_gold(gold: &[LabelledText]) -> Result<()> {
    match gold.iter().position(|g| !LABELS.contains(&g.label.as_str())) {
        Some(i) => Err(Error::InputFile {
            what: "labels",
            line: Some(i + 2),
            problem: format!("label '{}' is not one of negative, neutral, positive", gold[i].label),
        }),
        None => Ok(()),
    }
}

/// Scores `predicted` (one label per gold row) against `gold`.
pub fn score(gold: &[LabelledText], predicted: &[&str]) -> SentimentMetrics {
    let mut labels: BTreeMap<String, LabelScore> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut right = 0;
    for (g, &p) in gold.iter().zip(predicted) {
        labels.entry(p.to_string()).or_default().predicted += 1;
        let entry = labels.entry(g.label.clone()).or_default();
        entry.support += 1;
        if g.label == p {
            right += 1;
            entry.recall += 1.0;
        }
        *confusion.entry(g.label.clone()).or_default().entry(p.to_string()).or_default() += 1;
    }
    let (macro_f1, macro_recall) = finish(&mut labels);
    SentimentMetrics {
        texts: gold.len(),
        accuracy: ratio(right, gold.len()),
        macro_f1,
        macro_recall,
        labels,
        confusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str) -> LabelledText {
        LabelledText { text: String::new(), label: label.into() }
    }

    #[test]
    fn metrics_and_confusion() {
        let gold = [row("negative"), row("negative"), row("positive"), row("positive")];
        let m = score(&gold, &["negative", "neutral", "positive", "positive"]);
        assert_eq!(m.accuracy, 0.75);
        assert_eq!(m.macro_recall, 0.75);
        assert_eq!(m.confusion["negative"]["neutral"], 1);
        assert!((m.labels["negative"].f1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.macro_f1 - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_gold_labels_are_refused_with_their_row() {
        let e = check_gold(&[row("positive"), row("pos")]).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("'pos'"), "{e}");
    }
}
