//! Column lineage across the project: which columns a column is computed from, and which it
//! feeds, followed through every model (from the manifest's per-column `lineage`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// A column of a node: `(unique id, column)`.
pub type Column = (String, String);

/// Each column's direct upstream and downstream columns.
#[derive(Debug, Clone, Default)]
pub struct ColumnGraph {
    up: BTreeMap<Column, BTreeSet<Column>>,
    down: BTreeMap<Column, BTreeSet<Column>>,
}

impl ColumnGraph {
    /// The column graph of a manifest's models.
    pub fn of(manifest: &Value) -> Self {
        let mut graph = Self::default();
        for (id, node) in manifest["nodes"].as_object().into_iter().flatten() {
            for (column, spec) in node["columns"].as_object().into_iter().flatten() {
                for origin in spec["lineage"].as_array().into_iter().flatten() {
                    let (Some(from), Some(from_column)) = (origin["node"].as_str(), origin["column"].as_str()) else {
                        continue;
                    };
                    let here = (id.clone(), column.clone());
                    let there = (from.to_owned(), from_column.to_owned());
                    graph.up.entry(here.clone()).or_default().insert(there.clone());
                    graph.down.entry(there).or_default().insert(here);
                }
            }
        }
        graph
    }

    /// Every column `column` of `node` is computed from (`upstream`) or feeds, however many
    /// models away, in order.
    pub fn reach(&self, node: &str, column: &str, upstream: bool) -> Vec<Column> {
        let edges = if upstream { &self.up } else { &self.down };
        let start = (node.to_owned(), column.to_owned());
        let mut seen: BTreeSet<Column> = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(at) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if *next != start && seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Value {
        let from = |node: &str, column: &str| serde_json::json!({ "node": node, "column": column });
        serde_json::json!({ "nodes": {
            "model.p.b": { "columns": { "x": { "lineage": [from("source.p.s.t", "raw")] } } },
            "model.p.c": { "columns": {
                "y": { "lineage": [from("model.p.b", "x")] },
                "z": { "lineage": [] },
            } },
        } })
    }

    #[test]
    fn reach_follows_columns_through_every_model() {
        let graph = ColumnGraph::of(&manifest());
        let column = |n: &str, c: &str| (n.to_owned(), c.to_owned());
        assert_eq!(graph.reach("model.p.c", "y", true), vec![column("model.p.b", "x"), column("source.p.s.t", "raw")]);
        assert_eq!(graph.reach("source.p.s.t", "raw", false), vec![column("model.p.b", "x"), column("model.p.c", "y")]);
        assert!(graph.reach("model.p.c", "z", true).is_empty());
    }
}
