//! Node selection, as dbt's `--select` and `--exclude`: names, `tag:`, `path:`, `source:`,
//! graph operators (`+model`, `model+`, `2+model`, `model+1`), unions (spaces or repeated flags)
//! and intersections (commas).

use std::collections::{BTreeMap, BTreeSet};

use crate::compile::Compiled;
use crate::error::{Error, Result};

/// The models and seeds (by name) that `select` (everything when empty) chooses, less those
/// `exclude` chooses.
pub fn select(compiled: &Compiled, select: &[String], exclude: &[String]) -> Result<BTreeSet<String>> {
    let graph = Graph::new(compiled);
    let mut chosen = if select.is_empty() { graph.all() } else { graph.union(select)? };
    if !exclude.is_empty() {
        let excluded = graph.union(exclude)?;
        chosen.retain(|n| !excluded.contains(n));
    }
    Ok(chosen)
}

/// Whether a test is chosen: any node it reads or tests is, or its own name is selected.
pub fn test_selected(
    test: &crate::compile::CompiledTest,
    nodes: &BTreeSet<String>,
    select: &[String],
    exclude: &[String],
) -> bool {
    let named = |list: &[String]| list.iter().flat_map(|s| s.split([' ', ','])).any(|s| s == test.name);
    if named(exclude) {
        return false;
    }
    if named(select) || (select.is_empty() && test.refs.is_empty()) {
        return true;
    }
    test.refs.iter().any(|r| nodes.contains(r))
}

struct Graph<'c> {
    compiled: &'c Compiled,
    parents: BTreeMap<&'c str, Vec<&'c str>>,
    children: BTreeMap<&'c str, Vec<&'c str>>,
}

impl<'c> Graph<'c> {
    fn new(compiled: &'c Compiled) -> Self {
        let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for m in &compiled.models {
            for r in &m.refs {
                parents.entry(&m.name).or_default().push(r);
                children.entry(r).or_default().push(&m.name);
            }
        }
        Self { compiled, parents, children }
    }

    fn all(&self) -> BTreeSet<String> {
        let seeds = self.compiled.seeds.iter().map(|s| s.name.clone());
        self.compiled.models.iter().map(|m| m.name.clone()).chain(seeds).collect()
    }

    fn union(&self, args: &[String]) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for term in args.iter().flat_map(|a| a.split_whitespace()) {
            let mut parts = term.split(',');
            let mut set = self.one(parts.next().unwrap_or_default())?;
            for part in parts {
                let other = self.one(part)?;
                set.retain(|n| other.contains(n));
            }
            out.extend(set);
        }
        Ok(out)
    }

    /// One selector with its graph operators.
    fn one(&self, term: &str) -> Result<BTreeSet<String>> {
        let (up, rest) = depth_prefix(term);
        let (core, down) = depth_suffix(rest);
        let (method, value) = core.split_once(':').unwrap_or(("name", core));
        let roots: BTreeSet<String> = match method {
            "name" => self.all().into_iter().filter(|n| n == value).collect(),
            "tag" => {
                let models = self
                    .compiled
                    .models
                    .iter()
                    .filter(|m| m.config.tags.iter().any(|t| t == value))
                    .map(|m| m.name.clone());
                let seeds =
                    self.compiled.seeds.iter().filter(|s| s.tags.iter().any(|t| t == value)).map(|s| s.name.clone());
                models.chain(seeds).collect()
            }
            "path" => {
                let value = value.trim_end_matches('/');
                let under = |p: &std::path::Path| p.starts_with(value) || p.to_string_lossy() == value;
                let models = self.compiled.models.iter().filter(|m| under(&m.path)).map(|m| m.name.clone());
                let seeds = self.compiled.seeds.iter().filter(|s| under(&s.path)).map(|s| s.name.clone());
                models.chain(seeds).collect()
            }
            "source" => {
                let (source, table) = value.split_once('.').map_or((value, None), |(s, t)| (s, Some(t)));
                let reads = |m: &&crate::render::CompiledModel| {
                    m.sources.iter().any(|(s, t)| s == source && table.is_none_or(|x| x == t))
                };
                let readers: BTreeSet<String> =
                    self.compiled.models.iter().filter(reads).map(|m| m.name.clone()).collect();
                let Some(depth) = down else {
                    return Err(Error::Project(format!(
                        "--select {term}: a source is not built; select what reads it with {term}+"
                    )));
                };
                let mut out = BTreeSet::new();
                for r in &readers {
                    out.extend(self.walk(r, &self.children, depth.map(|d| d.saturating_sub(1))));
                }
                return Ok(out);
            }
            other => {
                return Err(Error::Project(format!(
                    "--select {term}: unknown method '{other}': expected a name, tag:, path: or source:"
                )))
            }
        };
        let a_test = || self.compiled.tests.iter().any(|t| t.name == value);
        if roots.is_empty() && method == "name" && !a_test() {
            return Err(Error::Project(format!("--select {term}: no model, seed or test is named '{value}'")));
        }
        let mut out = roots.clone();
        for root in &roots {
            if let Some(depth) = up {
                out.extend(self.walk(root, &self.parents, depth));
            }
            if let Some(depth) = down {
                out.extend(self.walk(root, &self.children, depth));
            }
        }
        Ok(out)
    }

    /// `start` and the nodes reached through `edges`, at most `depth` steps away (`None`: all).
    fn walk(&self, start: &str, edges: &BTreeMap<&str, Vec<&str>>, depth: Option<usize>) -> BTreeSet<String> {
        let mut seen = BTreeSet::from([start.to_owned()]);
        let mut frontier = vec![start.to_owned()];
        let mut step = 0;
        while !frontier.is_empty() && depth.is_none_or(|d| step < d) {
            let mut next = Vec::new();
            for node in &frontier {
                for n in edges.get(node.as_str()).into_iter().flatten() {
                    if seen.insert(n.to_string()) {
                        next.push(n.to_string());
                    }
                }
            }
            frontier = next;
            step += 1;
        }
        seen
    }
}

/// `2+model` -> (Some(Some(2)), "model"); `+model` -> (Some(None), "model").
fn depth_prefix(term: &str) -> (Option<Option<usize>>, &str) {
    let digits = term.len() - term.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    match term[digits..].strip_prefix('+') {
        Some(rest) => (Some(term[..digits].parse().ok()), rest),
        None => (None, term),
    }
}

/// `model+1` -> ("model", Some(Some(1))); `model+` -> ("model", Some(None)).
fn depth_suffix(term: &str) -> (&str, Option<Option<usize>>) {
    let trimmed = term.trim_end_matches(|c: char| c.is_ascii_digit());
    match trimmed.strip_suffix('+') {
        Some(core) => (core, Some(term[trimmed.len()..].parse().ok())),
        None => (term, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_operators_parse_with_depths() {
        assert_eq!(depth_prefix("+m"), (Some(None), "m"));
        assert_eq!(depth_prefix("2+m+"), (Some(Some(2)), "m+"));
        assert_eq!(depth_suffix("m+1"), ("m", Some(Some(1))));
        assert_eq!(depth_suffix("tag:x"), ("tag:x", None));
    }
}
