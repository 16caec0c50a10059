//! Labelled texts for evaluation (`text,label` CSV files) and the per-label scores every
//! `eval` command reports.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use crate::{Error, Result};

/// One labelled text: `text,label` in a CSV file.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LabelledText {
    /// The utterance.
    pub text: String,
    /// Its label.
    pub label: String,
}

/// Reads a CSV with a header holding `text` and `label` columns (others are ignored).
pub fn read_labels(reader: impl Read) -> Result<Vec<LabelledText>> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers =
        csv.headers().map_err(|e| Error::InputFile { what: "labels", line: Some(1), problem: e.to_string() })?.clone();
    for needed in ["text", "label"] {
        if !headers.iter().any(|h| h == needed) {
            return Err(Error::InputFile {
                what: "labels",
                line: Some(1),
                problem: format!(
                    "no `{needed}` column (the header is: {}); expected `text,label`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            });
        }
    }
    csv.deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| Error::InputFile { what: "labels", line: Some(i + 2), problem: e.to_string() }))
        .collect()
}

/// Precision, recall and support of one label.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelScore {
    /// Texts labelled with it.
    pub support: usize,
    /// Texts predicted as it.
    pub predicted: usize,
    /// Of those predicted, the share that were right.
    pub precision: f64,
    /// Of those labelled, the share found.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

/// `a / b`, 0 when `b` is 0.
pub(crate) fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Turns counts into scores: on entry each label's `recall` holds its number of correct
/// predictions. Returns the macro-F1 and macro-recall over the labels with support.
pub(crate) fn finish(labels: &mut BTreeMap<String, LabelScore>) -> (f64, f64) {
    let (mut f1_sum, mut recall_sum, mut with_support) = (0.0, 0.0, 0);
    for score in labels.values_mut() {
        let hits = score.recall as usize;
        score.recall = ratio(hits, score.support);
        score.precision = ratio(hits, score.predicted);
        score.f1 = if score.precision + score.recall > 0.0 {
            2.0 * score.precision * score.recall / (score.precision + score.recall)
        } else {
            0.0
        };
        if score.support > 0 {
            f1_sum += score.f1;
            recall_sum += score.recall;
            with_support += 1;
        }
    }
    let n = f64::from(with_support.max(1));
    (f1_sum / n, recall_sum / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_label_and_names_a_missing_column() {
        let rows = read_labels("label,text,extra\nx,\"a, b\",1\n".as_bytes()).unwrap();
        assert_eq!(rows, [LabelledText { text: "a, b".into(), label: "x".into() }]);
        let e = read_labels("text,intent\na,b\n".as_bytes()).unwrap_err().to_string();
        assert!(e.contains("no `label` column"), "{e}");
    }

    #[test]
    fn macro_scores_count_labels_with_support() {
        let mut labels = BTreeMap::new();
        labels.insert("a".to_string(), LabelScore { support: 2, predicted: 1, recall: 1.0, ..Default::default() });
        labels.insert("b".to_string(), LabelScore { support: 0, predicted: 1, ..Default::default() });
        let (f1, recall) = finish(&mut labels);
        assert!((recall - 0.5).abs() < 1e-9);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-9);
    }
}
