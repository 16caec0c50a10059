//! The Fellegi-Sunter model: u probabilities from random pairs, m probabilities and the match
//! rate by expectation-maximisation over the blocked pairs, and match weights per pattern.
//!
//! A comparison pattern packs one level per compared column, four bits each; [`NULL_LEVEL`]
//! means one side is missing and the column says nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::columns::ColumnKind;

/// The level of a comparison where either value is missing.
pub(crate) const NULL_LEVEL: u8 = 15;

/// Below this many pairs, EM has too little to learn from and the defaults stand.
pub(crate) const MIN_EM_PAIRS: u64 = 1000;

const EM_ITERATIONS: usize = 50;
const EM_TOLERANCE: f64 = 1e-6;
const FLOOR: f64 = 1e-6;

/// The level of compared column `k` in `pattern`.
pub(crate) fn level(pattern: u64, k: usize) -> u8 {
    ((pattern >> (4 * k)) & 0xF) as u8
}

/// What the model learned (or was given) for one compared column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnModel {
    /// The column.
    pub column: String,
    /// Its kind.
    pub kind: ColumnKind,
    /// Its levels, best first.
    pub levels: Vec<LevelModel>,
    /// Where m came from: `settings`, `em` or `default`.
    pub m_source: &'static str,
}

/// One comparison level's probabilities and the weight of evidence it gives.
#[derive(Debug, Clone, Serialize)]
pub struct LevelModel {
    /// The level's name, e.g. `jaro_winkler>=0.92`.
    pub level: &'static str,
    /// P(level | same person).
    pub m: f64,
    /// P(level | different people).
    pub u: f64,
    /// log2(m / u): the bits of evidence this level adds to a pair's match weight.
    pub weight: f64,
}

/// The trained model: per column levels, and the prior probability that two records match.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Probability that two records drawn at random are one person.
    pub prior: f64,
    /// The compared columns.
    pub columns: Vec<ColumnModel>,
}

impl Model {
    /// The match weight of a pattern: the prior's log2-odds plus the pattern's evidence.
    pub(crate) fn weight(&self, pattern: u64) -> f64 {
        (self.prior / (1.0 - self.prior)).log2() + self.evidence(pattern)
    }

    /// The log2 Bayes factor of a pattern: the sum of its levels' weights.
    pub(crate) fn evidence(&self, pattern: u64) -> f64 {
        let mut w = 0.0;
        for (k, column) in self.columns.iter().enumerate() {
            let l = level(pattern, k);
            if l != NULL_LEVEL {
                w += column.levels[l as usize].weight;
            }
        }
        w
    }
}

/// The probability that a pair with match weight `w` is one person.
pub(crate) fn probability(w: f64) -> f64 {
    1.0 / (1.0 + (-w).exp2())
}

/// Counts of levels per compared column, from random pairs: the u probabilities.
pub(crate) fn estimate_u(
    kinds: &[ColumnKind],
    records: usize,
    sample: usize,
    seed: u64,
    cancel: &AtomicBool,
    pattern: impl Fn(u32, u32) -> u64 + Sync,
) -> Vec<Vec<f64>> {
    let all_pairs = records.saturating_mul(records.saturating_sub(1)) / 2;
    let count = |acc: &mut Vec<Vec<u64>>, p: u64| {
        for (k, levels) in acc.iter_mut().enumerate() {
            let l = level(p, k);
            if l != NULL_LEVEL {
                levels[l as usize] += 1;
            }
        }
    };
    let empty = || kinds.iter().map(|k| vec![0u64; k.levels().len()]).collect::<Vec<_>>();
    let merge = |mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>| {
        for (x, y) in a.iter_mut().zip(b) {
            for (p, q) in x.iter_mut().zip(y) {
                *p += q;
            }
        }
        a
    };
    let counts = if all_pairs <= sample {
        (0..records as u32)
            .into_par_iter()
            .filter(|_| !cancel.load(Ordering::Relaxed))
            .fold(empty, |mut acc, a| {
                for b in a + 1..records as u32 {
                    count(&mut acc, pattern(a, b));
                }
                acc
            })
            .reduce(empty, merge)
    } else {
        const CHUNK: usize = 16_384;
        (0..sample.div_ceil(CHUNK))
            .into_par_iter()
            .filter(|_| !cancel.load(Ordering::Relaxed))
            .fold(empty, |mut acc, chunk| {
                let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(chunk as u64));
                for _ in 0..CHUNK.min(sample - chunk * CHUNK) {
                    let a = rng.u32(..records as u32);
                    let mut b = rng.u32(..records as u32 - 1);
                    if b >= a {
                        b += 1;
                    }
                    count(&mut acc, pattern(a, b));
                }
                acc
            })
            .reduce(empty, merge)
    };
    counts
        .into_iter()
        .map(|levels| {
            let total: u64 = levels.iter().sum();
            let n = levels.len() as f64;
            levels.iter().map(|&c| (c as f64 + 0.5) / (total as f64 + 0.5 * n)).collect()
        })
        .collect()
}

/// The result of EM over one blocking rule's pairs.
pub(crate) struct EmFit {
    /// Estimated m per compared column (meaningless where `excluded`).
    pub(crate) m: Vec<Vec<f64>>,
    /// The share of the rule's pairs that are matches.
    pub(crate) match_rate: f64,
}

/// EM with u fixed: estimates m for the columns neither `excluded` (those the rule blocks on,
/// whose agreement the rule forces; left out entirely) nor `frozen` (m given in the settings;
/// used but not updated), and the match rate among the rule's pairs.
pub(crate) fn em(
    patterns: &HashMap<u64, u64>,
    start: &[Vec<f64>],
    u: &[Vec<f64>],
    excluded: &[bool],
    frozen: &[bool],
) -> EmFit {
    let mut m = start.to_vec();
    let mut rate: f64 = 0.1;
    let total: u64 = patterns.values().sum();
    for _ in 0..EM_ITERATIONS {
        let mut acc: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut matched = 0.0;
        let log_prior = (rate / (1.0 - rate)).ln();
        for (&pattern, &count) in patterns {
            let mut logit = log_prior;
            for k in 0..m.len() {
                let l = level(pattern, k);
                if !excluded[k] && l != NULL_LEVEL {
                    logit += (m[k][l as usize] / u[k][l as usize]).ln();
                }
            }
            let w = count as f64 / (1.0 + (-logit).exp());
            matched += w;
            for (k, levels) in acc.iter_mut().enumerate() {
                let l = level(pattern, k);
                if l != NULL_LEVEL {
                    levels[l as usize] += w;
                }
            }
        }
        let new_rate = (matched / total as f64).clamp(FLOOR, 1.0 - FLOOR);
        let mut change = (new_rate - rate).abs();
        rate = new_rate;
        for (k, levels) in acc.iter().enumerate() {
            let sum: f64 = levels.iter().sum();
            if excluded[k] || frozen[k] || sum <= 0.0 {
                continue;
            }
            for (l, &a) in levels.iter().enumerate() {
                let next = (a / sum).max(FLOOR);
                change = change.max((next - m[k][l]).abs());
                m[k][l] = next;
            }
        }
        if change < EM_TOLERANCE {
            break;
        }
    }
    EmFit { m, match_rate: rate }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_recovers_planted_m_probabilities() {
        // Two columns with two levels: matches agree 90% / 80% of the time, non-matches 5% / 10%.
        let (m_true, u) = ([[0.9, 0.1], [0.8, 0.2]], vec![vec![0.05, 0.95], vec![0.1, 0.9]]);
        let (matches, non_matches) = (2000.0f64, 8000.0f64);
        let mut patterns = HashMap::new();
        for a in 0..2u64 {
            for b in 0..2u64 {
                let p_m = m_true[0][a as usize] * m_true[1][b as usize];
                let p_u = u[0][a as usize] * u[1][b as usize];
                patterns.insert(a | (b << 4), (matches * p_m + non_matches * p_u).round() as u64);
            }
        }
        let start = vec![vec![0.6, 0.4], vec![0.6, 0.4]];
        let fit = em(&patterns, &start, &u, &[false, false], &[false, false]);
        assert!((fit.match_rate - 0.2).abs() < 0.02, "{}", fit.match_rate);
        assert!((fit.m[0][0] - 0.9).abs() < 0.03 && (fit.m[1][0] - 0.8).abs() < 0.03, "{:?}", fit.m);
    }

    #[test]
    fn u_from_all_pairs_of_a_small_set() {
        // Three records, one column: pairs (0,1) agree, (0,2) and (1,2) differ.
        let u =
            estimate_u(&[ColumnKind::Text], 3, 100, 1, &AtomicBool::new(false), |a, b| u64::from(!(a == 0 && b == 1)));
        assert!((u[0][0] - 1.5 / 4.0).abs() < 1e-9 && (u[0][1] - 2.5 / 4.0).abs() < 1e-9, "{u:?}");
    }

    #[test]
    fn weights_add_bits_of_evidence() {
        let model = Model {
            prior: 0.5,
            columns: vec![ColumnModel {
                column: "x".into(),
                kind: ColumnKind::Text,
                levels: vec![
                    LevelModel { level: "exact", m: 0.8, u: 0.1, weight: 3.0 },
                    LevelModel { level: "different", m: 0.2, u: 0.9, weight: -2.17 },
                ],
                m_source: "settings",
            }],
        };
        assert_eq!(model.weight(0), 3.0);
        assert_eq!(model.weight(u64::from(NULL_LEVEL)), 0.0);
        assert!((probability(3.0) - 8.0 / 9.0).abs() < 1e-12);
    }
}
