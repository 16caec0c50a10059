//! Candidate pairs: records that share a key (a blocking rule's values, or one deterministic
//! column's value). Each pair is produced once, by the first rule that finds it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::stitch::Normalized;

/// Records grouped by one rule's key; key 0 means "has a NULL in a rule column, never grouped".
#[derive(Debug)]
pub(crate) struct Grouping {
    /// The rule's key of every record.
    pub(crate) keys: Vec<u32>,
    /// Groups of 2..=max records sharing a key, as ranges into `members`.
    groups: Vec<(u32, u32)>,
    members: Vec<u32>,
    /// Groups over the size limit, and how many records they held.
    pub(crate) oversized_groups: usize,
    pub(crate) oversized_records: usize,
}

impl Grouping {
    /// Groups the records by the values of `columns`, keeping groups of at most `max` records.
    pub(crate) fn new(columns: &[&Normalized], records: usize, max: usize) -> Self {
        // One column at a time: the key of columns 1..=k is the interned pair (key of 1..k,
        // code of k), so no record needs a key of its own allocated; 0 stays NULL.
        let mut keys = columns.first().map_or_else(|| vec![0; records], |c| c.codes.clone());
        for column in &columns[1..] {
            let mut ids: HashMap<(u32, u32), u32> = HashMap::new();
            for (key, &code) in keys.iter_mut().zip(&column.codes) {
                if *key != 0 && code != 0 {
                    let next = ids.len() as u32 + 1;
                    *key = *ids.entry((*key, code)).or_insert(next);
                } else {
                    *key = 0;
                }
            }
        }
        let distinct = keys.iter().copied().max().unwrap_or(0) as usize;
        let mut counts = vec![0u32; distinct + 1];
        for &k in &keys {
            counts[k as usize] += 1;
        }
        let mut starts = vec![0u32; distinct + 2];
        for k in 1..=distinct {
            starts[k + 1] = starts[k] + counts[k];
        }
        let mut members = vec![0u32; starts[distinct + 1] as usize];
        let mut fill = starts.clone();
        for (r, &k) in keys.iter().enumerate() {
            if k != 0 {
                members[fill[k as usize] as usize] = r as u32;
                fill[k as usize] += 1;
            }
        }
        let (mut oversized_groups, mut oversized_records) = (0, 0);
        let mut groups = Vec::new();
        for k in 1..=distinct {
            let size = counts[k] as usize;
            if size > max {
                oversized_groups += 1;
                oversized_records += size;
            } else if size >= 2 {
                groups.push((starts[k], starts[k + 1]));
            }
        }
        Self { keys, groups, members, oversized_groups, oversized_records }
    }

    /// The record groups, each as a slice of record indices in input order.
    pub(crate) fn groups(&self) -> impl IndexedParallelIterator<Item = &[u32]> + '_ {
        self.groups.par_iter().map(|&(s, e)| &self.members[s as usize..e as usize])
    }

    /// How many pairs the groups hold.
    pub(crate) fn pairs(&self) -> u64 {
        self.groups.iter().map(|&(s, e)| u64::from(e - s) * u64::from(e - s - 1) / 2).sum()
    }

    /// Whether this rule puts records `a` and `b` in one group.
    pub(crate) fn together(&self, a: u32, b: u32) -> bool {
        let key = self.keys[a as usize];
        key != 0 && key == self.keys[b as usize]
    }
}

/// Which of a rule's pairs to visit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Visit {
    /// Every pair of every `n`-th group, whatever earlier rules found: the rule's pairs as the
    /// rule alone makes them, thinned by whole groups, for training.
    EveryNthGroup(usize),
    /// Every pair no earlier rule produced, so each candidate pair is visited once.
    New,
}

/// Folds `f` over the pairs of rule `rule` chosen by `visit`, in parallel. Once `cancel` is set
/// the remaining pairs are skipped (it is read once per record of a group).
pub(crate) fn fold_pairs<A, I, F, M>(
    rules: &[Grouping],
    rule: usize,
    visit: Visit,
    cancel: &AtomicBool,
    init: I,
    f: F,
    merge: M,
) -> A
where
    A: Send,
    I: Fn() -> A + Sync + Send,
    F: Fn(&mut A, u32, u32) + Sync + Send,
    M: Fn(A, A) -> A + Sync + Send,
{
    let (earlier, every) = match visit {
        Visit::EveryNthGroup(n) => (&rules[..0], n.max(1)),
        Visit::New => (&rules[..rule], 1),
    };
    rules[rule]
        .groups()
        .enumerate()
        .filter(|(i, _)| i % every == 0 && !cancel.load(Ordering::Relaxed))
        .fold(&init, |mut acc, (_, group)| {
            for (i, &a) in group.iter().enumerate() {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                for &b in &group[i + 1..] {
                    if !earlier.iter().any(|g| g.together(a, b)) {
                        f(&mut acc, a, b);
                    }
                }
            }
            acc
        })
        .reduce(&init, merge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::columns::ColumnKind;

    fn column(codes: &[u32]) -> Normalized {
        let distinct = codes.iter().copied().max().unwrap_or(0) as usize;
        Normalized {
            kind: ColumnKind::Text,
            dict: (0..=distinct).map(|i| i.to_string()).collect(),
            codes: codes.to_vec(),
        }
    }

    fn pairs(rules: &[Grouping], rule: usize, visit: Visit) -> Vec<(u32, u32)> {
        let mut out = fold_pairs(
            rules,
            rule,
            visit,
            &AtomicBool::new(false),
            Vec::new,
            |acc, a, b| acc.push((a, b)),
            |mut x, y| {
                x.extend(y);
                x
            },
        );
        out.sort();
        out
    }

    #[test]
    fn pairs_come_once_from_the_first_rule_that_finds_them() {
        let surname = column(&[1, 1, 1, 2, 0]);
        let dob = column(&[1, 2, 1, 2, 2]);
        let rules = [Grouping::new(&[&surname], 5, 10), Grouping::new(&[&dob], 5, 10)];
        assert_eq!(pairs(&rules, 0, Visit::New), [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(pairs(&rules, 1, Visit::New), [(1, 3), (1, 4), (3, 4)]);
        assert_eq!(pairs(&rules, 1, Visit::EveryNthGroup(1)), [(0, 2), (1, 3), (1, 4), (3, 4)]);
        assert_eq!(pairs(&rules, 1, Visit::EveryNthGroup(2)), [(0, 2)]);
        assert_eq!(rules[1].pairs(), 4);
    }

    #[test]
    fn nulls_never_group_and_big_groups_are_counted() {
        let a = column(&[1, 1, 1, 0, 0]);
        let b = column(&[1, 1, 2, 1, 1]);
        let grouping = Grouping::new(&[&a, &b], 5, 10);
        assert_eq!(grouping.keys, [1, 1, 2, 0, 0]);
        let limited = Grouping::new(&[&a], 5, 2);
        assert_eq!((limited.oversized_groups, limited.oversized_records), (1, 3));
        assert_eq!(pairs(&[limited], 0, Visit::New), []);
    }
}
