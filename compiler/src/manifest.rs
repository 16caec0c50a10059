//! `target/manifest.json`: every node of the compiled project (models, seeds, tests, sources,
//! macros) with its config, dependencies, documented columns, column lineage and the versions of
//! the taxonomies it uses, plus the parent and child maps, as dbt's manifest has them.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::compile::Compiled;
use crate::data_tests::Subject;
use crate::project::profiles::Target;
use crate::project::{ColumnSpec, Project};

/// The unique id of a model or seed (`model.<project>.<name>`), as lineage and the maps name it.
pub fn node_id(project: &Project, name: &str) -> String {
    let kind = if project.seeds.contains_key(name) { "seed" } else { "model" };
    format!("{kind}.{}.{name}", project.config.name)
}

/// The unique id of a source table (`source.<project>.<source>.<table>`).
pub fn source_id(project: &Project, (source, table): &(String, String)) -> String {
    format!("source.{}.{source}.{table}", project.config.name)
}

fn documented(columns: &[ColumnSpec]) -> Map<String, Value> {
    columns
        .iter()
        .map(|c| {
            let meta = json!({ "data_class": c.meta.data_class });
            (c.name.clone(), json!({ "description": c.description, "data_type": c.data_type, "meta": meta }))
        })
        .collect()
}

/// The manifest of `compiled` as JSON.
pub fn build(project: &Project, target: &Target, compiled: &Compiled) -> Value {
    let name = &project.config.name;
    let mut nodes = Map::new();
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for seed in &compiled.seeds {
        let id = node_id(project, &seed.name);
        parents.insert(id.clone(), Vec::new());
        nodes.insert(
            id,
            json!({
                "resource_type": "seed", "name": seed.name, "original_file_path": seed.path,
                "schema": target.schema, "alias": seed.name, "description": seed.description,
                "config": { "column_types": seed.column_types, "tags": seed.tags },
                "columns": documented(&seed.columns),
            }),
        );
    }
    for model in &compiled.models {
        let id = node_id(project, &model.name);
        let spec = &project.models[&model.name];
        let mut depends: Vec<String> = model.refs.iter().map(|r| node_id(project, r)).collect();
        depends.extend(model.sources.iter().map(|s| source_id(project, s)));
        parents.insert(id.clone(), depends.clone());
        let mut columns = documented(&spec.columns);
        for lineage in &model.columns {
            let entry = columns.entry(lineage.name.clone()).or_insert_with(|| json!({ "description": null }));
            entry["lineage"] = json!(lineage.from);
            entry["meta"] = json!({ "data_class": lineage.data_class, "data_class_why": lineage.why });
        }
        let taxonomies: Map<String, Value> = model
            .settings
            .iter()
            .filter(|(f, _)| f == "taxonomy")
            .filter_map(|(_, t)| project.taxonomies.get(t).map(|(_, tax)| (t.clone(), json!(tax.version()))))
            .collect();
        nodes.insert(
            id,
            json!({
                "resource_type": "model", "name": model.name, "original_file_path": model.path,
                "schema": model.relation.schema, "alias": model.relation.identifier,
                "relation_name": model.relation.to_string(), "description": spec.description,
                "config": model.config, "tags": model.config.tags,
                "depends_on": { "nodes": depends, "macros": model.macros.iter().map(|m| format!("macro.{name}.{m}")).collect::<Vec<_>>() },
                "settings": model.settings.iter().map(|(f, n)| format!("{f}('{n}')")).collect::<Vec<_>>(),
                "taxonomies": taxonomies,
                "columns": columns,
                "raw_code": spec.raw_sql, "compiled_code": model.sql,
            }),
        );
    }
    for test in &compiled.tests {
        let id = format!("test.{name}.{}", test.name);
        let mut depends: Vec<String> = test.refs.iter().map(|r| node_id(project, r)).collect();
        depends.extend(test.sources.iter().map(|s| source_id(project, s)));
        parents.insert(id.clone(), depends.clone());
        let attached = match &test.subject {
            Some(Subject::Model(m)) => Some(node_id(project, m)),
            Some(Subject::Source(s, t)) => Some(source_id(project, &(s.clone(), t.clone()))),
            None => None,
        };
        nodes.insert(
            id,
            json!({
                "resource_type": "test", "name": test.name, "original_file_path": test.declared_in,
                "attached_node": attached, "column_name": test.column,
                "config": { "severity": test.severity },
                "depends_on": { "nodes": depends }, "compiled_code": test.sql,
            }),
        );
    }
    let sources: Map<String, Value> = compiled
        .sources
        .iter()
        .map(|(t, location)| {
            (
                source_id(project, &(t.source.clone(), t.name.clone())),
                json!({
                    "resource_type": "source", "source_name": t.source, "name": t.name,
                    "schema": t.schema, "identifier": t.identifier, "description": t.description,
                    "original_file_path": t.declared_in, "external_location": location,
                    "columns": documented(&t.columns),
                }),
            )
        })
        .collect();
    let macros: Map<String, Value> = project
        .macros
        .iter()
        .map(|(m, file)| (format!("macro.{name}.{m}"), json!({ "name": m, "original_file_path": file })))
        .collect();
    let taxonomies: Map<String, Value> = project
        .taxonomies
        .iter()
        .map(|(t, (file, tax))| {
            (
                t.clone(),
                json!({ "version": tax.version(), "original_file_path": file, "intents": tax.intents.len(), "topics": tax.topics.len() }),
            )
        })
        .collect();
    let mut children: BTreeMap<String, Vec<String>> =
        parents.keys().chain(sources.keys()).map(|k| (k.clone(), Vec::new())).collect();
    for (child, ps) in &parents {
        for p in ps {
            children.entry(p.clone()).or_default().push(child.clone());
        }
    }
    json!({
        "metadata": {
            "generator": format!("convlytics {}", env!("CARGO_PKG_VERSION")),
            "project_name": name, "target_name": target.name, "adapter_type": target.kind.as_str(),
        },
        "nodes": nodes, "sources": sources, "macros": macros, "taxonomies": taxonomies,
        "parent_map": parents, "child_map": children,
    })
}
