//! Ordering models by their `ref()` dependencies; a cycle is an error that names it.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};

/// The names in `deps` ordered so every model comes after the models it refers to; ties are broken
/// by name, so the order is stable. `deps` maps each model to the models it reads.
pub fn order(deps: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<String>> {
    let mut waiting: BTreeMap<&str, usize> = deps.keys().map(|k| (k.as_str(), 0)).collect();
    let mut readers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (model, reads) in deps {
        for dep in reads.iter().filter(|d| deps.contains_key(*d)) {
            *waiting.get_mut(model.as_str()).expect("model is a key") += 1;
            readers.entry(dep.as_str()).or_default().push(model.as_str());
        }
    }
    let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, n)| **n == 0).map(|(k, _)| *k).collect();
    let mut ordered = Vec::with_capacity(deps.len());
    while let Some(next) = ready.pop_first() {
        ordered.push(next.to_owned());
        for reader in readers.get(next).into_iter().flatten() {
            let n = waiting.get_mut(reader).expect("reader is a key");
            *n -= 1;
            if *n == 0 {
                ready.insert(reader);
            }
        }
    }
    if ordered.len() < deps.len() {
        let done: BTreeSet<&str> = ordered.iter().map(String::as_str).collect();
        return Err(Error::Cycle(find_cycle(deps, &done)));
    }
    Ok(ordered)
}

/// One cycle among the models not in `done`, written `a -> b -> a`.
fn find_cycle(deps: &BTreeMap<String, BTreeSet<String>>, done: &BTreeSet<&str>) -> String {
    let start = deps.keys().find(|k| !done.contains(k.as_str())).expect("a model is left");
    let mut path: Vec<&str> = vec![start];
    loop {
        let last = *path.last().expect("path is never empty");
        let next = deps[last]
            .iter()
            .find(|d| deps.contains_key(*d) && !done.contains(d.as_str()))
            .expect("a model in a cycle reads another model in it");
        if let Some(at) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<&str> = path[at..].to_vec();
            cycle.push(next);
            return cycle.join(" -> ");
        }
        path.push(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges.iter().map(|(m, d)| (m.to_string(), d.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn dependencies_come_first_and_ties_by_name() {
        let d = deps(&[("mart", &["b", "a"]), ("b", &["stg"]), ("a", &["stg"]), ("stg", &[])]);
        assert_eq!(order(&d).unwrap(), vec!["stg", "a", "b", "mart"]);
    }

    #[test]
    fn a_cycle_is_named() {
        let d = deps(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &["a"]), ("e", &[])]);
        assert_eq!(order(&d).unwrap_err().to_string(), "dependency cycle: a -> b -> c -> a");
    }

    #[test]
    fn a_model_reading_itself_is_a_cycle() {
        let d = deps(&[("a", &["a"])]);
        assert_eq!(order(&d).unwrap_err().to_string(), "dependency cycle: a -> a");
    }
}
