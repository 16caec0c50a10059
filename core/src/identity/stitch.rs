//! `stitch`: records in, one cluster per person out, each record with the link that placed it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::blocking::{fold_pairs, Grouping, Visit};
use super::cluster::{cluster, cluster_key, Link, Why};
use super::columns::ColumnKind;
use super::model::{em, estimate_u, probability, ColumnModel, LevelModel, Model, MIN_EM_PAIRS, NULL_LEVEL};
use super::records::RecordSet;
use super::settings::{LevelWeights, Plan, Settings};
use super::term_frequency::TermFrequencies;
use crate::error::{Error, Result};

/// EM trains on at most about this many pairs per blocking rule, taken as whole blocks.
const TRAINING_PAIRS_PER_RULE: u64 = 1_000_000;

/// Values are compared on at most their first this many characters, so a pathological value (a
/// whole document pasted into a name field) cannot make one comparison quadratic in its length.
pub const MAX_COMPARED_CHARS: usize = 256;

/// The `rule` of a link made by the probabilistic model.
pub const PROBABILISTIC_RULE: &str = "fellegi_sunter";

/// One column's normalized values, interned; code 0 is NULL.
#[derive(Debug)]
pub(crate) struct Normalized {
    pub(crate) kind: ColumnKind,
    pub(crate) dict: Vec<String>,
    pub(crate) codes: Vec<u32>,
}

impl Normalized {
    fn new(records: &RecordSet, column: usize, kind: ColumnKind, plan: &Plan) -> Self {
        let raw = records.column(column);
        let mut dict = vec![String::new()];
        let mut lookup: HashMap<String, u32> = HashMap::new();
        let remap: Vec<u32> = raw
            .dict
            .iter()
            .enumerate()
            .map(|(code, value)| {
                let Some(mut value) = (code != 0).then(|| kind.normalize(value, plan.region)).flatten() else {
                    return 0;
                };
                if let Some((cut, _)) = value.char_indices().nth(MAX_COMPARED_CHARS) {
                    value.truncate(cut);
                }
                *lookup.entry(value).or_insert_with_key(|v| {
                    dict.push(v.clone());
                    dict.len() as u32 - 1
                })
            })
            .collect();
        let codes = raw.codes.iter().map(|&c| remap[c as usize]).collect();
        Self { kind, dict, codes }
    }

    fn level(&self, a: u32, b: u32) -> u8 {
        let (x, y) = (self.codes[a as usize], self.codes[b as usize]);
        if x == 0 || y == 0 {
            NULL_LEVEL
        } else if x == y {
            0
        } else {
            self.kind.compare_different(&self.dict[x as usize], &self.dict[y as usize])
        }
    }
}

/// Where one record landed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    /// The stable key of the record's cluster: UUIDv5 of the cluster's smallest record id.
    pub cluster_key: String,
    /// The record (index) whose link placed this one in the cluster; `None` for the cluster's root.
    pub linked_to: Option<usize>,
    /// Why: the deterministic column both share, or [`PROBABILISTIC_RULE`].
    pub rule: Option<String>,
    /// The link's match weight (bits of evidence), for probabilistic links.
    pub match_weight: Option<f64>,
    /// The link's match probability, for probabilistic links.
    pub match_probability: Option<f64>,
}

/// Counts from one stitching run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Records in.
    pub records: usize,
    /// Clusters out (singletons included).
    pub clusters: usize,
    /// Pairs compared, per blocking rule (in rule order).
    pub pairs_per_rule: Vec<(String, u64)>,
    /// Links from deterministic columns.
    pub deterministic_links: usize,
    /// Compared pairs at or above the threshold.
    pub probabilistic_links: usize,
    /// Blocks or deterministic groups over `max_block_size`, skipped, and the records in them.
    pub oversized_groups: usize,
    /// Records in those skipped groups.
    pub oversized_records: usize,
}

impl Stats {
    /// Pairs compared in all.
    pub fn compared_pairs(&self) -> u64 {
        self.pairs_per_rule.iter().map(|(_, n)| n).sum()
    }
}

/// The result of [`stitch`].
#[derive(Debug, Clone, Serialize)]
pub struct Stitched {
    /// One per record, in input order.
    pub assignments: Vec<Assignment>,
    /// The model that scored the compared pairs.
    pub model: Model,
    /// What happened, in numbers.
    pub stats: Stats,
}

/// Groups `records` into clusters of one person each. Deterministic columns link outright;
/// other pairs that share a blocking key are scored with a Fellegi-Sunter model (u from random
/// pairs, m by EM per blocking rule) and linked at or above `settings.threshold`.
pub fn stitch(records: &RecordSet, settings: &Settings) -> Result<Stitched> {
    stitch_until(records, settings, &AtomicBool::new(false))
}

/// As [`stitch`], giving up with [`Error::Cancelled`] soon after `cancel` is set (by another
/// thread: a cancelled query).
pub fn stitch_until(records: &RecordSet, settings: &Settings, cancel: &AtomicBool) -> Result<Stitched> {
    let stop = || if cancel.load(Ordering::Relaxed) { Err(Error::Cancelled) } else { Ok(()) };
    let plan = Plan::new(settings, records.columns())?;
    let n = records.len();
    let columns: Vec<Normalized> =
        plan.columns.par_iter().enumerate().map(|(i, c)| Normalized::new(records, i, c.kind, &plan)).collect();
    let mut stats = Stats { records: n, ..Stats::default() };
    let max = settings.max_block_size;

    let mut links = Vec::new();
    for &d in &plan.deterministic {
        let grouping = Grouping::new(&[&columns[d]], n, max);
        stats.oversized_groups += grouping.oversized_groups;
        stats.oversized_records += grouping.oversized_records;
        let found: Vec<Link> = grouping
            .groups()
            .flat_map_iter(|g| g[1..].iter().map(move |&b| Link { a: g[0], b, why: Why::Deterministic(d) }))
            .collect();
        links.extend(found);
    }
    stats.deterministic_links = links.len();

    let compared: Vec<&Normalized> = plan.comparisons.iter().map(|&i| &columns[i]).collect();
    let pattern =
        |a: u32, b: u32| compared.iter().enumerate().fold(0u64, |p, (k, c)| p | (u64::from(c.level(a, b)) << (4 * k)));
    let rules: Vec<Grouping> = if compared.is_empty() {
        Vec::new()
    } else {
        plan.blocking
            .iter()
            .map(|rule| Grouping::new(&rule.iter().map(|&i| &columns[i]).collect::<Vec<_>>(), n, max))
            .collect()
    };
    let count_patterns = |r: usize, visit: Visit| {
        let count = |acc: &mut HashMap<u64, u64>, a, b| *acc.entry(pattern(a, b)).or_default() += 1;
        fold_pairs(&rules, r, visit, cancel, HashMap::new, count, merge_counts)
    };
    let (training, candidates): (Vec<_>, Vec<_>) = (0..rules.len())
        .map(|r| {
            let every = rules[r].pairs().div_ceil(TRAINING_PAIRS_PER_RULE).max(1) as usize;
            (count_patterns(r, Visit::EveryNthGroup(every)), count_patterns(r, Visit::New))
        })
        .unzip();
    for (rule, (grouping, patterns)) in plan.blocking.iter().zip(rules.iter().zip(&candidates)) {
        let pairs: u64 = patterns.values().sum();
        let name = rule.iter().map(|&i| plan.columns[i].name.as_str()).collect::<Vec<_>>().join("+");
        stats.pairs_per_rule.push((name, pairs));
        stats.oversized_groups += grouping.oversized_groups;
        stats.oversized_records += grouping.oversized_records;
    }

    stop()?;
    let model = train(records, settings, &plan, &training, &candidates, cancel, &pattern);
    stop()?;
    let adjusted: Vec<usize> =
        plan.term_frequency.iter().filter_map(|i| plan.comparisons.iter().position(|c| c == i)).collect();
    let frequencies = TermFrequencies::new(&compared, &adjusted, &model);
    let threshold = settings.threshold;
    let found = probabilistic_links(&rules, &candidates, &model, &frequencies, threshold, cancel, &pattern);
    stop()?;
    stats.probabilistic_links = found.len();
    links.extend(found);

    let assignments = assign(records, &plan, links);
    stats.clusters = assignments.iter().filter(|a| a.linked_to.is_none()).count();
    Ok(Stitched { assignments, model, stats })
}

/// The candidate pairs whose match probability, with term-frequency adjustments, reaches
/// `threshold`.
fn probabilistic_links(
    rules: &[Grouping],
    candidates: &[HashMap<u64, u64>],
    model: &Model,
    frequencies: &TermFrequencies,
    threshold: f64,
    cancel: &AtomicBool,
    pattern: &(impl Fn(u32, u32) -> u64 + Sync),
) -> Vec<Link> {
    let threshold = (threshold / (1.0 - threshold)).log2();
    let weights: HashMap<u64, f64> = candidates.iter().flat_map(|c| c.keys()).map(|&p| (p, model.weight(p))).collect();
    let keep = |acc: &mut Vec<Link>, a, b| {
        let p = pattern(a, b);
        let w = weights[&p] + frequencies.adjustment(p, a);
        if w >= threshold {
            acc.push(Link { a, b, why: Why::Probabilistic(w) });
        }
    };
    let concat = |mut x: Vec<Link>, y: Vec<Link>| {
        x.extend(y);
        x
    };
    (0..rules.len()).flat_map(|r| fold_pairs(rules, r, Visit::New, cancel, Vec::new, keep, concat)).collect()
}

/// Clusters the records over `links` and says, per record, its cluster key and placing link.
fn assign(records: &RecordSet, plan: &Plan, links: Vec<Link>) -> Vec<Assignment> {
    let placements = cluster(records.len(), links, |r| records.id(r as usize));
    let keys: HashMap<u32, String> = placements
        .iter()
        .filter(|p| p.parent.is_none())
        .map(|p| (p.root, cluster_key(records.id(p.root as usize))))
        .collect();
    placements
        .into_iter()
        .map(|p| {
            let (linked_to, rule, match_weight) = match p.parent {
                None => (None, None, None),
                Some((to, Why::Deterministic(c))) => (Some(to as usize), Some(plan.columns[c].name.clone()), None),
                Some((to, Why::Probabilistic(w))) => (Some(to as usize), Some(PROBABILISTIC_RULE.into()), Some(w)),
            };
            Assignment {
                cluster_key: keys[&p.root].clone(),
                linked_to,
                rule,
                match_weight,
                match_probability: match_weight.map(probability),
            }
        })
        .collect()
}

fn merge_counts(mut a: HashMap<u64, u64>, b: HashMap<u64, u64>) -> HashMap<u64, u64> {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

/// Fits the model: u from random pairs; m by EM on each rule's `training` pairs (leaving out
/// the rule's own columns), averaged by expected matches; the prior by EM over the deduplicated
/// `candidates`, counting pairs no rule proposes as non-matches. Settings override each part.
fn train(
    records: &RecordSet,
    settings: &Settings,
    plan: &Plan,
    training: &[HashMap<u64, u64>],
    candidates: &[HashMap<u64, u64>],
    cancel: &AtomicBool,
    pattern: &(impl Fn(u32, u32) -> u64 + Sync),
) -> Model {
    let n = records.len();
    let compared = &plan.comparisons;
    let kinds: Vec<ColumnKind> = compared.iter().map(|&i| plan.columns[i].kind).collect();
    let fixed: Vec<Option<&LevelWeights>> =
        compared.iter().map(|&i| settings.weights.get(&plan.columns[i].name)).collect();
    let frozen: Vec<bool> = fixed.iter().map(Option::is_some).collect();
    let sampled = if frozen.iter().all(|f| *f) {
        Vec::new()
    } else {
        estimate_u(&kinds, n, settings.u_sample_pairs, settings.seed, cancel, pattern)
    };
    let u: Vec<Vec<f64>> =
        fixed.iter().enumerate().map(|(k, f)| f.map_or_else(|| sampled[k].clone(), |w| w.u.clone())).collect();
    let start: Vec<Vec<f64>> = fixed
        .iter()
        .zip(&kinds)
        .map(|(f, kind)| f.map_or_else(|| kind.default_m().to_vec(), |w| w.m.clone()))
        .collect();

    let mut sum_m: Vec<Vec<f64>> = start.iter().map(|l| vec![0.0; l.len()]).collect();
    let mut sum_w = vec![0.0; compared.len()];
    for (rule, patterns) in plan.blocking.iter().zip(training) {
        let pairs: u64 = patterns.values().sum();
        if pairs < MIN_EM_PAIRS {
            continue;
        }
        let excluded: Vec<bool> = compared.iter().map(|c| rule.contains(c)).collect();
        let fit = em(patterns, &start, &u, &excluded, &frozen);
        let matches = fit.match_rate * pairs as f64;
        for k in (0..compared.len()).filter(|&k| !excluded[k]) {
            sum_w[k] += matches;
            for (s, m) in sum_m[k].iter_mut().zip(&fit.m[k]) {
                *s += matches * m;
            }
        }
    }
    let columns = compared
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let (m, m_source) = if frozen[k] {
                (start[k].clone(), "settings")
            } else if sum_w[k] > 0.0 {
                (sum_m[k].iter().map(|s| s / sum_w[k]).collect(), "em")
            } else {
                (start[k].clone(), "default")
            };
            let levels = kinds[k]
                .levels()
                .iter()
                .zip(m.iter().zip(&u[k]))
                .map(|(&level, (&m, &u))| LevelModel { level, m, u, weight: (m / u).log2() })
                .collect();
            ColumnModel { column: plan.columns[i].name.clone(), kind: kinds[k], levels, m_source }
        })
        .collect();
    let mut model = Model { prior: 0.5, columns };
    model.prior = settings.prior.unwrap_or_else(|| {
        let all_pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
        let mut evidence: HashMap<u64, (f64, u64)> = HashMap::new();
        for (&p, &count) in candidates.iter().flatten() {
            evidence.entry(p).or_insert((model.evidence(p), 0)).1 += count;
        }
        estimate_prior(evidence.values().copied(), all_pairs)
    });
    model
}

/// The prior that makes the expected number of matches among the candidates (each pattern's
/// posterior times its count) equal prior times all pairs: EM for the prior alone.
fn estimate_prior(evidence: impl Iterator<Item = (f64, u64)> + Clone, all_pairs: f64) -> f64 {
    if all_pairs < 1.0 {
        return 0.5;
    }
    let mut prior: f64 = 1.0 / all_pairs.sqrt();
    for _ in 0..200 {
        let log_odds = (prior / (1.0 - prior)).log2();
        let expected: f64 = evidence.clone().map(|(e, count)| count as f64 * probability(log_odds + e)).sum();
        let next = (expected / all_pairs).clamp(1e-12, 0.5);
        if (next - prior).abs() <= 1e-9 * prior {
            return next;
        }
        prior = next;
    }
    prior
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(rows: &[(&str, &[&str])], columns: &[&str]) -> RecordSet {
        let mut set = RecordSet::new(columns.iter().map(|c| c.to_string()).collect()).unwrap();
        for (id, values) in rows {
            let values: Vec<Option<&str>> = values.iter().map(|v| Some(*v)).collect();
            set.push(id, &values).unwrap();
        }
        set
    }

    #[test]
    fn deterministic_keys_link_across_spellings() {
        let set = records(
            &[
                ("crm-2", &["Jane.Doe+shop@Example.com", ""]),
                ("chat-9", &["jane.doe@example.com", "+44 20 7946 0018"]),
                ("call-4", &["", "020 7946 0018"]),
                ("crm-7", &["someone@else.org", ""]),
            ],
            &["email", "phone"],
        );
        let settings = Settings { default_region: Some("GB".into()), ..Settings::default() };
        let out = stitch(&set, &settings).unwrap();
        let a = &out.assignments;
        assert_eq!(a[0].cluster_key, a[1].cluster_key);
        assert_eq!(a[1].cluster_key, a[2].cluster_key);
        assert_ne!(a[0].cluster_key, a[3].cluster_key);
        assert_eq!(a[0].cluster_key, cluster_key("call-4"), "rooted at the smallest id");
        assert_eq!((a[1].linked_to, a[1].rule.as_deref()), (Some(2), Some("phone")));
        assert_eq!((a[0].linked_to, a[0].rule.as_deref()), (Some(1), Some("email")));
        assert_eq!(out.stats.clusters, 2);
    }

    #[test]
    fn fixed_weights_link_close_records_and_explain_the_weight() {
        let set = records(
            &[
                ("a", &["jonathan", "smith", "19800312"]),
                ("b", &["jonathon", "smith", "19800312"]),
                ("c", &["mary", "smith", "19550101"]),
            ],
            &["given_name", "surname", "dob"],
        );
        let settings = Settings::from_json(
            r#"{"blocking": [["surname"]], "prior": 0.01, "term_frequency": [],
                "weights": {"given_name": {"m": [0.85, 0.1, 0.03, 0.02], "u": [0.01, 0.02, 0.07, 0.9]},
                            "surname": {"m": [0.9, 0.05, 0.03, 0.02], "u": [0.01, 0.02, 0.07, 0.9]},
                            "dob": {"m": [0.9, 0.05, 0.03, 0.02], "u": [0.001, 0.01, 0.05, 0.939]}}}"#,
        )
        .unwrap();
        let out = stitch(&set, &settings).unwrap();
        let a = &out.assignments;
        assert_eq!(a[0].cluster_key, a[1].cluster_key);
        assert_ne!(a[0].cluster_key, a[2].cluster_key);
        assert_eq!(a[1].rule.as_deref(), Some(PROBABILISTIC_RULE));
        let expected =
            (0.01f64 / 0.99).log2() + (0.1f64 / 0.02).log2() + (0.9f64 / 0.01).log2() + (0.9f64 / 0.001).log2();
        assert!((a[1].match_weight.unwrap() - expected).abs() < 1e-9);
        assert_eq!(out.stats.compared_pairs(), 3);
        assert!(out.model.columns.iter().all(|c| c.m_source == "settings"));
    }

    #[test]
    fn rare_exact_matches_weigh_more_than_common_ones() {
        let weights = r#"{"blocking": [["dob"]], "prior": 0.01,
            "weights": {"surname": {"m": [0.9, 0.05, 0.03, 0.02], "u": [0.05, 0.02, 0.03, 0.9]},
                        "dob": {"m": [0.9, 0.05, 0.03, 0.02], "u": [0.001, 0.01, 0.05, 0.939]}}}"#;
        // smith 4 of 6 values, ng 2 of 6: exact-match adjustments log2(0.05 * 6 / 4), log2(0.05 * 6 / 2).
        let set = records(
            &[
                ("1", &["smith", "1980"]),
                ("2", &["smith", "1980"]),
                ("3", &["ng", "1990"]),
                ("4", &["ng", "1990"]),
                ("5", &["smith", "2000"]),
                ("6", &["smith", "2001"]),
            ],
            &["surname", "dob"],
        );
        let out = stitch(&set, &Settings::from_json(weights).unwrap()).unwrap();
        let base = (0.01f64 / 0.99).log2() + (0.9f64 / 0.05).log2() + (0.9f64 / 0.001).log2();
        let (smith, ng) = (out.assignments[1].match_weight.unwrap(), out.assignments[3].match_weight.unwrap());
        assert!((smith - (base + (0.3f64 / 4.0).log2())).abs() < 1e-9, "{smith}");
        assert!((ng - (base + (0.3f64 / 2.0).log2())).abs() < 1e-9, "{ng}");
    }

    #[test]
    fn reruns_and_reordering_give_the_same_keys() {
        let rows: &[(&str, &[&str])] = &[("x1", &["a@b.co"]), ("x2", &["A@B.co"]), ("x3", &["c@d.co"])];
        let first = stitch(&records(rows, &["email"]), &Settings::default()).unwrap();
        let reversed: Vec<_> = rows.iter().rev().copied().collect();
        let second = stitch(&records(&reversed, &["email"]), &Settings::default()).unwrap();
        let keys = |s: &Stitched| {
            let mut k: Vec<String> = s.assignments.iter().map(|a| a.cluster_key.clone()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(&first), keys(&second));
    }

    #[test]
    fn huge_values_are_compared_on_their_prefix() {
        let long_a = "a".repeat(2_000_000);
        let long_b = format!("{}b", "a".repeat(1_999_999));
        let set = records(&[("1", &[&long_a, "x"]), ("2", &[&long_b, "x"])], &["surname", "state"]);
        let plan = Plan::new(&Settings::default(), set.columns()).unwrap();
        let surname = Normalized::new(&set, 0, ColumnKind::Name, &plan);
        assert!(surname.dict.iter().all(|v| v.chars().count() <= MAX_COMPARED_CHARS));
        assert_eq!(surname.codes[0], surname.codes[1], "equal on their first {MAX_COMPARED_CHARS} characters");
        let settings = Settings::from_json(r#"{"blocking": [["state"]]}"#).unwrap();
        assert_eq!(stitch(&set, &settings).unwrap().stats.compared_pairs(), 1);
    }

    #[test]
    fn links_form_trees_rooted_at_the_smallest_id() {
        let mut rng = fastrand::Rng::with_seed(11);
        for round in 0..30 {
            let n = 2 + rng.usize(..60);
            let mut set = RecordSet::new(vec!["email".into(), "surname".into(), "dob".into()]).unwrap();
            for i in 0..n {
                let email = format!("p{}@example.com", rng.usize(..n / 2 + 1));
                let surname = ["smith", "smyth", "jones", "nguyen", "lee"][rng.usize(..5)].to_string();
                let dob = format!("19{:02}0101", rng.usize(..5));
                let values = [rng.bool().then_some(email.as_str()), Some(surname.as_str()), Some(dob.as_str())];
                set.push(&format!("r{:03}", (i * 37 + round) % 1000), &values).unwrap();
            }
            let out = stitch(&set, &Settings::from_json(r#"{"threshold": 0.5}"#).unwrap()).unwrap();
            let a = &out.assignments;
            for (i, assignment) in a.iter().enumerate() {
                let (mut at, mut steps) = (i, 0);
                while let Some(next) = a[at].linked_to {
                    assert_eq!(a[next].cluster_key, assignment.cluster_key, "round {round}: link leaves the cluster");
                    (at, steps) = (next, steps + 1);
                    assert!(steps <= n, "round {round}: links loop");
                }
                let smallest = (0..n).filter(|&j| a[j].cluster_key == assignment.cluster_key).map(|j| set.id(j)).min();
                assert_eq!(Some(set.id(at)), smallest, "round {round}");
                assert_eq!(assignment.cluster_key, cluster_key(set.id(at)));
            }
        }
    }

    #[test]
    fn a_set_cancel_flag_stops_the_work() {
        let set = records(&[("a", &["x@y.co"]), ("b", &["x@y.co"])], &["email"]);
        let out = stitch_until(&set, &Settings::default(), &AtomicBool::new(true));
        assert!(matches!(out, Err(Error::Cancelled)), "{out:?}");
    }

    #[test]
    fn empty_input_is_fine() {
        let out = stitch(&records(&[], &["email"]), &Settings::default()).unwrap();
        assert!(out.assignments.is_empty());
        assert_eq!(out.stats.clusters, 0);
    }
}
