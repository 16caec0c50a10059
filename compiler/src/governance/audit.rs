//! The audit trail of labels: every enriched row carries the `run_id` of the run that wrote it
//! (`{{ invocation_id }}`), and each run that builds an enriched model appends one row to
//! `label_runs` (what it labelled and re-labelled, under which taxonomy versions, with which
//! model files, who ran it) and the labels it wrote to `label_history`. Neither is ever updated:
//! PostgreSQL refuses UPDATE, DELETE and TRUNCATE on them with a trigger, and the embedded engine
//! only ever adds rows.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::roles::Governed;
use super::DataClass;
use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::Result;
use crate::project::{Materialization, Project};
use crate::render::{quote_ident, quote_literal, CompiledModel, Relation};

/// The column every audited (enriched) model carries: the run that wrote the row.
pub const RUN_ID: &str = "run_id";

/// `label_runs`: one row per run that built an enriched model.
pub const LABEL_RUNS: &str = "label_runs";
/// `label_history`: every label a run wrote to an incremental enriched model, one row per key and
/// field.
pub const LABEL_HISTORY: &str = "label_history";

use DataClass::{Identifier, Label, Metric};

/// The columns of `label_runs`: name, type (both engines) and class.
pub const LABEL_RUNS_COLUMNS: &[(&str, &str, DataClass)] = &[
    ("run_id", "varchar", Identifier),
    ("started_at", "varchar", Metric),
    ("finished_at", "varchar", Metric),
    ("run_by", "varchar", Identifier),
    ("engine", "varchar", Label),
    ("target", "varchar", Label),
    ("models", "varchar", Label),
    ("labelled", "bigint", Metric),
    ("relabelled", "bigint", Metric),
    ("taxonomy_versions", "varchar", Label),
    ("model_name", "varchar", Label),
    ("model_hash", "varchar", Label),
    ("sql_hash", "varchar", Label),
];

/// The columns of `label_history`.
pub const LABEL_HISTORY_COLUMNS: &[(&str, &str, DataClass)] = &[
    ("run_id", "varchar", Identifier),
    ("model", "varchar", Label),
    ("key", "varchar", Identifier),
    ("field", "varchar", Label),
    ("value", "varchar", Label),
];

/// The relations convlytics itself keeps in `schema` (the audit trail, retention log, monitor
/// results, alerts), with their columns' classes, for the access policy.
pub fn relations(schema: &str) -> Vec<Governed> {
    let governed = |name: &str, columns: &[(&str, &str, DataClass)]| Governed {
        name: name.to_owned(),
        schema: schema.to_owned(),
        identifier: name.to_owned(),
        view: false,
        columns: columns.iter().map(|(c, _, class)| ((*c).to_owned(), Some(*class))).collect(),
    };
    let mut out = vec![governed(LABEL_RUNS, LABEL_RUNS_COLUMNS), governed(LABEL_HISTORY, LABEL_HISTORY_COLUMNS)];
    out.push(governed(super::retention::RETENTION_LOG, super::retention::RETENTION_LOG_COLUMNS));
    out.push(governed(crate::monitor::MONITOR_RESULTS, crate::monitor::COLUMNS));
    out.push(governed(crate::realtime::alerts::ALERTS, crate::realtime::alerts::COLUMNS));
    out
}

/// The models whose rows a run labels: built (not views or ephemeral), with a `run_id` column.
pub fn audited(compiled: &Compiled) -> impl Iterator<Item = &CompiledModel> {
    compiled.models.iter().filter(|m| {
        matches!(m.config.materialized, Materialization::Table | Materialization::Incremental)
            && m.columns.iter().any(|c| c.name == RUN_ID)
    })
}

/// Appends this run's rows to `label_history` and its row to `label_runs` (the run being
/// `compiled`'s `invocation_id`, started when it was compiled), for the audited models among
/// `built`; nothing when it built none.
pub async fn record(
    engine: &mut Engine,
    project: &Project,
    compiled: &Compiled,
    schema: &str,
    built: &[String],
) -> Result<()> {
    let models: Vec<&CompiledModel> = audited(compiled).filter(|m| built.contains(&m.name)).collect();
    if models.is_empty() {
        return Ok(());
    }
    let run = quote_literal(&compiled.invocation_id);
    let history = Relation { schema: schema.to_owned(), identifier: LABEL_HISTORY.into() };
    let mut labelled = 0u64;
    let mut relabelled = 0u64;
    for m in &models {
        let count = format!("select count(*) from {} where run_id = {run}", m.relation);
        labelled += engine.scalar(&count, &format!("counting what {} labelled", m.name)).await?.unwrap_or(0.0) as u64;
        // History is kept of incremental models, whose rows a run writes only when it labels
        // them; a table is rebuilt whole by every run, and its rows carry the run that built it.
        let key = match (m.config.materialized, m.config.unique_key.first()) {
            (Materialization::Incremental, Some(key)) => key.clone(),
            _ => continue,
        };
        let fields: Vec<String> = m
            .columns
            .iter()
            .filter(|c| c.data_class == Some(Label) && c.name != RUN_ID && c.name != key)
            .map(|c| {
                format!(
                    "select cast({run} as varchar) as run_id, cast({model} as varchar) as model, \
                     cast({k} as varchar) as key, cast({field} as varchar) as field, cast({c} as varchar) as value \
                     from {rel} where run_id = {run}",
                    model = quote_literal(&m.name),
                    k = quote_ident(&key),
                    field = quote_literal(&c.name),
                    c = quote_ident(&c.name),
                    rel = m.relation,
                )
            })
            .collect();
        if fields.is_empty() {
            continue;
        }
        engine.append(&history, LABEL_HISTORY_COLUMNS, &fields.join("\nunion all\n")).await?;
        let again = format!(
            "select count(distinct key) from {history} where run_id = {run} and model = {model} \
             and key in (select key from {history} where model = {model} and run_id <> {run})",
            model = quote_literal(&m.name)
        );
        relabelled +=
            engine.scalar(&again, &format!("counting what {} re-labelled", m.name)).await?.unwrap_or(0.0) as u64;
    }
    let taxonomies: BTreeMap<&str, String> = models
        .iter()
        .flat_map(|m| m.settings.iter())
        .filter(|(f, _)| f == "taxonomy")
        .filter_map(|(_, t)| project.taxonomies.get(t).map(|(_, tax)| (t.as_str(), tax.version())))
        .collect();
    let (model_name, model_hash) = model_identity();
    let mut sql = Sha256::new();
    for m in &models {
        sql.update(project.models[&m.name].raw_sql.as_bytes());
    }
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let values = [
        quote_literal(&compiled.invocation_id),
        quote_literal(&iso(compiled.now)),
        quote_literal(&iso(chrono::Utc::now())),
        quote_literal(&match engine.user().await? {
            Some(db) => format!("{} as {db}", run_by()),
            None => run_by(),
        }),
        quote_literal(engine.kind()),
        quote_literal(schema),
        quote_literal(&names.join(",")),
        labelled.to_string(),
        relabelled.to_string(),
        quote_literal(&serde_json::to_string(&taxonomies).unwrap_or_default()),
        quote_literal(&model_name),
        quote_literal(&model_hash),
        quote_literal(&hex(&sql.finalize())),
    ];
    let runs = Relation { schema: schema.to_owned(), identifier: LABEL_RUNS.into() };
    append_row(engine, &runs, LABEL_RUNS_COLUMNS, &values).await
}

/// Appends one row of SQL `values` (literals, in column order) to the append-only `relation`.
pub(crate) async fn append_row(
    engine: &mut Engine,
    relation: &Relation,
    columns: &[(&str, &str, DataClass)],
    values: &[String],
) -> Result<()> {
    engine.append(relation, columns, &row_select(columns, values)).await
}

/// A `select` of one row of SQL `values` (literals, in column order), each cast to its column's
/// type and named for it.
pub(crate) fn row_select(columns: &[(&str, &str, DataClass)], values: &[String]) -> String {
    let select: Vec<String> =
        columns.iter().zip(values).map(|((name, ty, _), v)| format!("cast({v} as {ty}) as {name}")).collect();
    format!("select {}", select.join(", "))
}

/// An instant as ISO 8601 UTC: `2026-12-02T18:16:39Z`.
pub(crate) fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Who is running convlytics: the operating system's user (`$USER`, `$LOGNAME`, else the name
/// `/etc/passwd` gives the process's user id).
pub(crate) fn run_by() -> String {
    use std::os::unix::fs::MetadataExt;
    if let Ok(user) = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        return user;
    }
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid().to_string()).unwrap_or_default();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let named = passwd.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| f.get(2) == Some(&uid.as_str()));
    named.map_or_else(|| format!("uid {uid}"), |f| f[0].to_owned())
}

/// The embedding model's directory name and the SHA-256 of its files (`model.onnx`,
/// `tokenizer.json`), as found where convlytics runs; `none` when they are missing (intents are
/// then decided by the taxonomy's rules alone).
pub fn model_identity() -> (String, String) {
    let dir = convlytics_core::embed::ModelConfig::from_env().dir;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut hash = Sha256::new();
    for file in ["model.onnx", "tokenizer.json"] {
        if hash_file(&dir.join(file), &mut hash).is_err() {
            return (name, "none".into());
        }
    }
    (name, format!("sha256:{}", hex(&hash.finalize())))
}

fn hash_file(path: &Path, hash: &mut Sha256) -> std::io::Result<()> {
    hash.update(std::fs::read(path)?);
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The query behind `convlytics labels history`: every label `conversation_id` was given, by
/// which run, when, under which taxonomy versions and model, oldest first.
pub fn history_sql(schema: &str, conversation_id: &str) -> String {
    format!(
        "select r.finished_at, h.model, h.field, h.value, h.run_id, r.run_by, r.taxonomy_versions, r.model_hash \
         from {s}.{LABEL_HISTORY} h join {s}.{LABEL_RUNS} r on r.run_id = h.run_id \
         where h.key = {id} order by r.finished_at, h.model, h.field",
        s = crate::render::quote_ident(schema),
        id = quote_literal(conversation_id)
    )
}
