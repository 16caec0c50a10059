//! Scoring intent predictions against labels: accuracy, macro-F1, per-label precision and
//! recall, the most confused pairs, the unknown rate, and out-of-scope recall.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Explanation;
use crate::labels::{finish, ratio};
pub use crate::labels::{read_labels, LabelScore, LabelledText};
use crate::taxonomy::{Label, UNKNOWN};

/// Intent labels built from labelled texts: up to `per_label` examples each, in file order,
/// with a description made from the label's name (for the team to rewrite). Rows labelled
/// `out_of_scope` are left out.
pub fn labels_from_examples(rows: &[LabelledText], per_label: Option<usize>, out_of_scope: &str) -> Vec<Label> {
    let mut labels: Vec<Label> = Vec::new();
    for row in rows.iter().filter(|r| r.label != out_of_scope && !r.label.trim().is_empty()) {
        let i = match labels.iter().position(|l| l.name == row.label) {
            Some(i) => i,
            None => {
                labels.push(Label {
                    name: row.label.clone(),
                    description: Some(row.label.replace(['_', '-'], " ")),
                    examples: Vec::new(),
                    keywords: Vec::new(),
                    patterns: Vec::new(),
                    exclusions: Vec::new(),
                    parent: None,
                });
                labels.len() - 1
            }
        };
        let examples = &mut labels[i].examples;
        if per_label.is_none_or(|n| examples.len() < n) && !row.text.trim().is_empty() && !examples.contains(&row.text)
        {
            examples.push(row.text.clone());
        }
    }
    labels
}

/// In-scope accuracy and out-of-scope recall had the taxonomy's threshold been another.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdPoint {
    /// The threshold.
    pub threshold: f64,
    /// Share of in-scope texts given their label.
    pub accuracy: f64,
    /// Share of out-of-scope texts labelled `unknown`.
    pub out_of_scope_recall: Option<f64>,
}

/// How often a best label with confidence in `[low, low + 0.1)` was right: a calibrated
/// classifier's accuracy there is close to its mean confidence.
#[derive(Debug, Clone, Serialize)]
pub struct ReliabilityBin {
    /// The bin's lower edge (0.0, 0.1, ... 0.9; the last bin holds 1.0 too).
    pub low: f64,
    /// Texts whose best label's confidence fell in the bin.
    pub texts: usize,
    /// Their mean confidence.
    pub confidence: f64,
    /// The share of them whose best label was the gold one (an out-of-scope text's never is).
    pub accuracy: f64,
}

/// The bins of [`ReliabilityBin`], and the expected calibration error: the texts-weighted mean
/// of `|accuracy - confidence|` over the bins.
fn reliability(gold: &[LabelledText], predicted: &[Explanation]) -> (Vec<ReliabilityBin>, f64) {
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); 10];
    for (g, p) in gold.iter().zip(predicted) {
        let (label, confidence) = best(p);
        let bin = &mut bins[((confidence * 10.0).floor().max(0.0) as usize).min(9)];
        bin.0 += 1;
        bin.1 += confidence;
        bin.2 += usize::from(label == g.label);
    }
    let total = gold.len().max(1) as f64;
    let mut error = 0.0;
    let bins = bins
        .into_iter()
        .enumerate()
        .map(|(i, (texts, confidence_sum, right))| {
            let confidence = if texts > 0 { confidence_sum / texts as f64 } else { 0.0 };
            let accuracy = ratio(right, texts);
            error += texts as f64 / total * (accuracy - confidence).abs();
            ReliabilityBin { low: i as f64 / 10.0, texts, confidence, accuracy }
        })
        .collect();
    (bins, error)
}

/// The thresholds the sweep tries.
const SWEEP: [f64; 9] = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7];

/// What `eval intent` reports.
#[derive(Debug, Clone, Serialize)]
pub struct IntentMetrics {
    /// Texts scored.
    pub texts: usize,
    /// Of them, labelled with one of the taxonomy's intents.
    pub in_scope: usize,
    /// Of them, labelled out of scope.
    pub out_of_scope: usize,
    /// Share of in-scope texts given their label (`unknown` counts as wrong).
    pub accuracy: f64,
    /// Share of in-scope texts whose best label was right, before the threshold.
    pub accuracy_before_threshold: f64,
    /// Mean F1 over the intents that have texts.
    pub macro_f1: f64,
    /// Share of in-scope texts labelled `unknown`.
    pub unknown_rate: f64,
    /// Share of out-of-scope texts labelled `unknown` (absent without out-of-scope rows).
    pub out_of_scope_recall: Option<f64>,
    /// Texts by how they were decided (`rule`, `semantic`, `none`).
    pub methods: BTreeMap<String, usize>,
    /// Per intent.
    pub labels: BTreeMap<String, LabelScore>,
    /// The most frequent (labelled, predicted) mistakes with their counts, among intents.
    pub confused: Vec<(String, String, usize)>,
    /// Accuracy and out-of-scope recall at other thresholds, to choose one.
    pub by_threshold: Vec<ThresholdPoint>,
    /// How right the best label is at each confidence, before the threshold.
    pub reliability: Vec<ReliabilityBin>,
    /// The expected calibration error of those bins (0 is perfectly calibrated).
    pub calibration_error: f64,
}

/// The best label of a prediction and its confidence, before the threshold.
fn best(p: &Explanation) -> (&str, f64) {
    if p.label == UNKNOWN {
        (p.runner_up.as_deref().unwrap_or(UNKNOWN), p.runner_up_confidence.unwrap_or(0.0))
    } else {
        (&p.label, p.confidence)
    }
}

/// Scores `predicted` against `gold`; labels that are not intents of `intents` are out of scope.
pub fn score(
    gold: &[LabelledText],
    predicted: &[Explanation],
    intents: &[String],
    top_confused: usize,
) -> IntentMetrics {
    let mut labels: BTreeMap<String, LabelScore> = BTreeMap::new();
    let mut confused: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut methods: BTreeMap<String, usize> = BTreeMap::new();
    let (mut in_scope, mut right, mut right_before, mut unknown, mut oos, mut oos_caught) = (0, 0, 0, 0, 0, 0);
    for (g, p) in gold.iter().zip(predicted) {
        *methods.entry(p.method.to_owned()).or_default() += 1;
        if p.label != UNKNOWN {
            labels.entry(p.label.clone()).or_default().predicted += 1;
        }
        if !intents.contains(&g.label) {
            oos += 1;
            oos_caught += usize::from(p.label == UNKNOWN);
            continue;
        }
        in_scope += 1;
        let entry = labels.entry(g.label.clone()).or_default();
        entry.support += 1;
        right_before += usize::from(best(p).0 == g.label);
        if p.label == g.label {
            right += 1;
            entry.recall += 1.0;
        } else if p.label == UNKNOWN {
            unknown += 1;
        } else {
            *confused.entry((g.label.clone(), p.label.clone())).or_default() += 1;
        }
    }
    let (macro_f1, _) = finish(&mut labels);
    let mut confused: Vec<(String, String, usize)> = confused.into_iter().map(|((g, p), n)| (g, p, n)).collect();
    confused.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    confused.truncate(top_confused);
    let by_threshold = SWEEP
        .iter()
        .map(|&t| {
            let (mut right, mut caught) = (0, 0);
            for (g, p) in gold.iter().zip(predicted) {
                let (label, confidence) = best(p);
                let accepted = confidence >= t && label != UNKNOWN;
                if intents.contains(&g.label) {
                    right += usize::from(accepted && label == g.label);
                } else {
                    caught += usize::from(!accepted);
                }
            }
            ThresholdPoint {
                threshold: t,
                accuracy: ratio(right, in_scope),
                out_of_scope_recall: (oos > 0).then(|| ratio(caught, oos)),
            }
        })
        .collect();
    let (reliability, calibration_error) = reliability(gold, predicted);
    IntentMetrics {
        texts: gold.len(),
        in_scope,
        out_of_scope: oos,
        accuracy: ratio(right, in_scope),
        accuracy_before_threshold: ratio(right_before, in_scope),
        macro_f1,
        unknown_rate: ratio(unknown, in_scope),
        out_of_scope_recall: (oos > 0).then(|| ratio(oos_caught, oos)),
        methods,
        labels,
        confused,
        by_threshold,
        reliability,
        calibration_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, label: &str) -> LabelledText {
        LabelledText { text: text.into(), label: label.into() }
    }

    fn predicted(label: &str, runner_up: Option<&str>) -> Explanation {
        Explanation {
            label: label.into(),
            confidence: 0.9,
            runner_up: runner_up.map(Into::into),
            runner_up_confidence: runner_up.map(|_| 0.9),
            method: "semantic",
            evidence: vec![],
            taxonomy_version: String::new(),
        }
    }

    #[test]
    fn scores_in_scope_and_out_of_scope() {
        let gold = [row("a", "x"), row("b", "x"), row("c", "y"), row("d", "oos"), row("e", "oos")];
        let p = [
            predicted("x", None),
            predicted(UNKNOWN, Some("x")),
            predicted("x", None),
            predicted(UNKNOWN, Some("y")),
            predicted("y", None),
        ];
        let m = score(&gold, &p, &["x".into(), "y".into()], 5);
        assert_eq!((m.in_scope, m.out_of_scope), (3, 2));
        assert!((m.accuracy - 1.0 / 3.0).abs() < 1e-9);
        assert!((m.accuracy_before_threshold - 2.0 / 3.0).abs() < 1e-9);
        assert!((m.unknown_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.out_of_scope_recall, Some(0.5));
        assert_eq!(m.confused, vec![("y".into(), "x".into(), 1)]);
        assert_eq!(m.labels["x"].predicted, 2);
        let at_half = m.by_threshold.iter().find(|p| p.threshold == 0.5).unwrap();
        assert!((at_half.accuracy - 2.0 / 3.0).abs() < 1e-9, "the unknown x had confidence 0.9 under its runner-up");
        assert!((m.labels["x"].precision - 0.5).abs() < 1e-9);
        // Every best label had confidence 0.9 and two of the five were right (x, and x as the
        // runner-up under the threshold): the 0.9 bin is 0.4 accurate, 0.5 off.
        let bin = &m.reliability[9];
        assert_eq!((bin.texts, m.reliability.iter().map(|b| b.texts).sum::<usize>()), (5, 5));
        assert!((bin.accuracy - 0.4).abs() < 1e-9 && (bin.confidence - 0.9).abs() < 1e-9);
        assert!((m.calibration_error - 0.5).abs() < 1e-9);
    }

    #[test]
    fn builds_labels_from_a_csv() {
        let rows =
            read_labels("text,label\nhi there,greet_user\nhello,greet_user\nhey,greet_user\nweather?,oos\n".as_bytes())
                .unwrap();
        let labels = labels_from_examples(&rows, Some(2), "oos");
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].examples, vec!["hi there", "hello"]);
        assert_eq!(labels[0].description.as_deref(), Some("greet user"));
        assert!(read_labels("utterance,intent\nx,y\n".as_bytes())
            .unwrap_err()
            .to_string()
            .contains("no `text` column"));
    }
}
