//! Pairwise evaluation of a stitching against known true pairs.

use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;

use super::cluster::UnionFind;
use super::records::RecordSet;
use super::stitch::Assignment;
use crate::error::{Error, Result};

/// How many example errors of each sort a report keeps.
const EXAMPLES: usize = 10;

/// Pairwise precision, recall and F1 of predicted clusters against true ones, with examples of
/// what went wrong.
#[derive(Debug, Clone, Serialize)]
pub struct PairwiseMetrics {
    /// Records evaluated.
    pub records: usize,
    /// Pairs of records in one true cluster.
    pub true_pairs: u64,
    /// Pairs of records in one predicted cluster.
    pub predicted_pairs: u64,
    /// Pairs in both.
    pub true_positives: u64,
    /// true_positives / predicted_pairs.
    pub precision: f64,
    /// true_positives / true_pairs.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Predicted clusters (singletons included).
    pub predicted_clusters: usize,
    /// True clusters (singletons included).
    pub true_clusters: usize,
    /// Links that joined records of different true clusters: (record, linked_to, rule, weight).
    pub wrong_links: Vec<(String, String, String, Option<f64>)>,
    /// True pairs left in different predicted clusters.
    pub missed_pairs: Vec<(String, String)>,
}

/// Pairs within groups of these sizes.
fn pairs<K>(sizes: HashMap<K, u64>) -> u64 {
    sizes.values().map(|s| s * (s - 1) / 2).sum()
}

/// Reads true pairs from a CSV with a header and two id columns.
pub fn read_truth(reader: impl Read) -> Result<Vec<(String, String)>> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let mut pairs = Vec::new();
    for (line, row) in csv.records().enumerate() {
        let row = row.map_err(|e| Error::InputFile {
            what: "truth",
            line: e.position().map(|p| p.line() as usize),
            problem: e.to_string(),
        })?;
        if row.len() < 2 {
            return Err(Error::InputFile {
                what: "truth",
                line: Some(line + 2),
                problem: "expected two record ids".into(),
            });
        }
        pairs.push((row[0].to_string(), row[1].to_string()));
    }
    Ok(pairs)
}

/// Scores `assignments` (one per record of `records`) against the `truth` pairs. A truth id that
/// is not a record is an error.
pub fn pairwise_metrics(
    records: &RecordSet,
    assignments: &[Assignment],
    truth: &[(String, String)],
) -> Result<PairwiseMetrics> {
    let n = records.len();
    let index: HashMap<&str, usize> = (0..n).map(|i| (records.id(i), i)).collect();
    let lookup = |id: &str| {
        index.get(id).copied().ok_or_else(|| Error::InputFile {
            what: "truth",
            line: None,
            problem: format!("names record '{id}', which is not in the records"),
        })
    };
    let mut sets = UnionFind::new(n);
    for (a, b) in truth {
        sets.union(lookup(a)? as u32, lookup(b)? as u32);
    }
    let true_cluster: Vec<u32> = (0..n as u32).map(|i| sets.find(i)).collect();
    let mut predicted: HashMap<&str, u64> = HashMap::new();
    let mut truth_sizes: HashMap<u32, u64> = HashMap::new();
    let mut both: HashMap<(&str, u32), u64> = HashMap::new();
    for (i, a) in assignments.iter().enumerate() {
        *predicted.entry(&a.cluster_key).or_default() += 1;
        *truth_sizes.entry(true_cluster[i]).or_default() += 1;
        *both.entry((&a.cluster_key, true_cluster[i])).or_default() += 1;
    }
    let (predicted_clusters, true_clusters) = (predicted.len(), truth_sizes.len());
    let (predicted_pairs, true_pairs, true_positives) = (pairs(predicted), pairs(truth_sizes), pairs(both));
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(true_positives, predicted_pairs), ratio(true_positives, true_pairs));
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    let wrong_links = assignments
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let to = a.linked_to?;
            (true_cluster[i] != true_cluster[to]).then(|| {
                let rule = a.rule.clone().unwrap_or_default();
                (records.id(i).to_string(), records.id(to).to_string(), rule, a.match_weight)
            })
        })
        .take(EXAMPLES)
        .collect();
    let mut missed_pairs = Vec::new();
    for (a, b) in truth {
        if missed_pairs.len() == EXAMPLES {
            break;
        }
        if assignments[lookup(a)?].cluster_key != assignments[lookup(b)?].cluster_key {
            missed_pairs.push((a.clone(), b.clone()));
        }
    }
    Ok(PairwiseMetrics {
        records: n,
        true_pairs,
        predicted_pairs,
        true_positives,
        precision,
        recall,
        f1,
        predicted_clusters,
        true_clusters,
        wrong_links,
        missed_pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(key: &str, linked_to: Option<usize>) -> Assignment {
        Assignment {
            cluster_key: key.into(),
            linked_to,
            rule: Some("email".into()),
            match_weight: None,
            match_probability: None,
        }
    }

    #[test]
    fn pairwise_counts() {
        let mut records = RecordSet::new(vec!["x".into()]).unwrap();
        for id in ["a", "b", "c", "d"] {
            records.push(id, &[None]).unwrap();
        }
        // Predicted {a, b, c} {d}; true {a, b} {c, d}.
        let assigned =
            [assignment("k1", None), assignment("k1", Some(0)), assignment("k1", Some(1)), assignment("k2", None)];
        let truth = read_truth("l,r\na,b\nc,d\n".as_bytes()).unwrap();
        let m = pairwise_metrics(&records, &assigned, &truth).unwrap();
        assert_eq!((m.predicted_pairs, m.true_pairs, m.true_positives), (3, 2, 1));
        assert!((m.precision - 1.0 / 3.0).abs() < 1e-12 && (m.recall - 0.5).abs() < 1e-12);
        assert!((m.f1 - 0.4).abs() < 1e-12);
        assert_eq!((m.predicted_clusters, m.true_clusters), (2, 2));
        assert_eq!(m.wrong_links, [("c".to_string(), "b".to_string(), "email".to_string(), None)]);
        assert_eq!(m.missed_pairs, [("c".to_string(), "d".to_string())]);
        let unknown = pairwise_metrics(&records, &assigned, &[("a".into(), "zz".into())]).unwrap_err();
        assert!(unknown.to_string().contains("'zz'"));
    }
}
