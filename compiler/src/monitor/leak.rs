//! The PII leak scan: every text column of the models in the named layers, scanned with
//! `detect_pii` under a project policy. A finding in a column classed `label`, `metric` or
//! `redacted_text` (or unclassified) names the relation, column, PII type and row count, never the
//! value.

use std::collections::BTreeMap;

use super::{contract::columns, Check, Finding, MonitorSpec, Status};
use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::governance::DataClass;
use crate::project::{Materialization, Project};
use crate::render::{quote_ident, quote_literal};

/// The layers scanned when a `pii_leak` monitor names none.
pub const DEFAULT_LAYERS: [&str; 2] = ["enriched", "marts"];

/// The classes scanned (and unclassified columns): where no personal value belongs in any form.
/// `raw_text` and `personal` hold it by design; `identifier` and `pseudonym` columns are keys,
/// whose digits a detector reads as phone numbers and whose agent names as people.
pub const SCANNED: [DataClass; 3] = [DataClass::Label, DataClass::Metric, DataClass::RedactedText];

/// Whether an engine type (`Utf8View`, `text`, `character varying`, `jsonb`) holds text.
fn is_text(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    !t.contains("list") && (t.contains("utf8") || t == "text" || t.contains("char") || t.starts_with("json"))
}

/// Runs a `pii_leak` monitor: one finding per column and PII type found, and one passing result
/// per clean relation.
pub async fn scan(
    engine: &Engine,
    project: &Project,
    compiled: &Compiled,
    spec: &MonitorSpec,
    name: &str,
) -> Result<Vec<Finding>> {
    let policy_name = spec.policy.as_deref().unwrap_or_default();
    let Some((_, policy)) = project.pii_policies.get(policy_name) else {
        let known: Vec<&str> = project.pii_policies.keys().map(String::as_str).collect();
        return Err(Error::Project(format!(
            "monitor {name}: no pii policy named '{policy_name}' (declared: {})",
            known.join(", ")
        )));
    };
    let policy = quote_literal(&serde_json::to_string(&policy.policy).expect("policy serializes"));
    let layers: Vec<String> = if spec.layers.is_empty() {
        DEFAULT_LAYERS.iter().map(|l| (*l).to_owned()).collect()
    } else {
        spec.layers.clone()
    };
    let in_layer =
        |path: &std::path::Path| path.components().any(|c| layers.iter().any(|l| c.as_os_str() == l.as_str()));
    let min_score = spec.min_score.unwrap_or(0.7);
    let mut out = Vec::new();
    for model in
        compiled.models.iter().filter(|m| in_layer(&m.path) && m.config.materialized != Materialization::Ephemeral)
    {
        let base = Finding::new(Check::PiiLeak, name, &model.relation, spec.severity());
        let classes: BTreeMap<String, Option<DataClass>> =
            model.columns.iter().map(|c| (c.name.to_lowercase(), c.data_class)).collect();
        let scanned: Vec<String> = match columns(engine, &model.relation).await {
            Ok(cols) if cols.is_empty() => {
                let mut f = base;
                f.status = Status::Skipped;
                f.message = format!("{} is not built: nothing to scan", model.name);
                out.push(f);
                continue;
            }
            Ok(cols) => cols
                .into_iter()
                .filter(|(c, t)| {
                    is_text(t) && !matches!(classes.get(c).copied().flatten(), Some(class) if !SCANNED.contains(&class))
                })
                .map(|(c, _)| c)
                .collect(),
            Err(e) => {
                out.push(super::failed(base, &e));
                continue;
            }
        };
        let mut clean = true;
        for column in &scanned {
            let col = quote_ident(column);
            let sql = format!(
                "select f from (select cast(detect_pii(cast({col} as varchar), {policy}) as varchar) as f from {} \
                 where {col} is not null) as __p where f <> '[]'",
                model.relation
            );
            let rows = match engine.rows(&sql, &format!("PII scan of {}.{column}", model.relation)).await {
                Ok(rows) => rows,
                Err(e) => {
                    let mut f = super::failed(base.clone(), &e);
                    f.column = Some(column.clone());
                    out.push(f);
                    clean = false;
                    continue;
                }
            };
            let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
            for row in rows {
                let spans: Vec<serde_json::Value> =
                    row[0].as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
                let mut types: Vec<String> = spans
                    .iter()
                    .filter(|s| s["score"].as_f64().unwrap_or(1.0) >= min_score)
                    .filter_map(|s| s["type"].as_str().map(str::to_owned))
                    .collect();
                types.sort();
                types.dedup();
                for t in types.into_iter().filter(|t| !spec.ignore_types.contains(t)) {
                    *by_type.entry(t).or_default() += 1;
                }
            }
            let class = classes.get(column).copied().flatten().map_or("unclassified".to_owned(), |c| c.to_string());
            for (pii, rows) in by_type {
                clean = false;
                let mut f = base.clone();
                f.column = Some(column.clone());
                f.dimension = Some(format!("type={pii}"));
                f.value = Some(rows as f64);
                f.expected_low = Some(0.0);
                f.expected_high = Some(0.0);
                f.status = Status::Fail;
                f.message = format!(
                    "{rows} row(s) of {}.{column} (data class {class}) hold {pii} under pii policy {policy_name}",
                    model.name
                );
                out.push(f);
            }
        }
        if clean {
            let mut f = base;
            f.value = Some(0.0);
            f.message =
                format!("{} text column(s) scanned under pii policy {policy_name}: no personal data", scanned.len());
            out.push(f);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_types_of_both_engines() {
        for t in ["Utf8", "Utf8View", "LargeUtf8", "text", "character varying", "jsonb"] {
            assert!(super::is_text(t), "{t}");
        }
        for t in ["Int64", "bigint", "double precision", "Timestamp(ns)", "List(Utf8)"] {
            assert!(!super::is_text(t), "{t}");
        }
    }
}
