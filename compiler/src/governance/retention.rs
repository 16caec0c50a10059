//! Retention: how long each class of data is kept. A rule names a data class and, optionally, a
//! source; rows older than `keep_days` (by the model's `event_time`) have those columns set to
//! NULL, redacted, or the rows deleted. Every table and incremental model applies its rules when
//! it is built (so a rebuilt or incremental model never brings retained text back), and
//! `convlytics retention --apply` applies them to what is already stored, logging each change in
//! `retention_log`.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::audit::iso;
use super::DataClass;
use crate::compile::Compiled;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::project::{Materialization, Project};
use crate::render::{quote_ident, quote_literal, CompiledModel};

/// `retention_log`: one row per relation a `retention --apply` changed.
pub const RETENTION_LOG: &str = "retention_log";

/// The columns of `retention_log`: name, type and class.
pub const RETENTION_LOG_COLUMNS: &[(&str, &str, DataClass)] = &[
    ("applied_at", "varchar", DataClass::Metric),
    ("applied_by", "varchar", DataClass::Identifier),
    ("relation", "varchar", DataClass::Label),
    ("columns", "varchar", DataClass::Label),
    ("action", "varchar", DataClass::Label),
    ("older_than", "varchar", DataClass::Metric),
    ("rows", "bigint", DataClass::Metric),
];

/// What happens to a due value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The column is set to NULL; the row stays (marts keep counting it).
    Null,
    /// Raw text is replaced by `redact_pii` of it (the project's policy `policy`, else the default).
    Redact,
    /// The whole row is deleted.
    Delete,
}

impl Action {
    /// `null`, `redact` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Null => "null",
            Action::Redact => "redact",
            Action::Delete => "delete",
        }
    }
}

/// A retention rule, as a property file declares it. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// The class it applies to; without it, every text and personal column (raw_text,
    /// personal, redacted_text) of what `source` feeds.
    #[serde(default)]
    pub data_class: Option<DataClass>,
    /// Only columns computed from this source table (`source_name.table_name`).
    #[serde(default)]
    pub source: Option<String>,
    /// How many days a value is kept after its row's `event_time`.
    pub keep_days: u32,
    /// What happens then (default `null`).
    #[serde(default = "null_action")]
    pub action: Action,
    /// With `action: redact`, the `pii_policies:` entry to redact with (default policy without).
    #[serde(default)]
    pub policy: Option<String>,
}

fn null_action() -> Action {
    Action::Null
}

impl RetentionRule {
    /// Checks what YAML cannot: the rule names a class or a source, and only raw text or personal
    /// data can be redacted.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.data_class.is_none() && self.source.is_none() {
            return Err("a rule names a data_class, a source, or both".into());
        }
        if self.action == Action::Redact && !matches!(self.data_class, Some(DataClass::RawText | DataClass::Personal)) {
            return Err(
                "action: redact is for data_class raw_text or personal (redacted text is already redacted)".into()
            );
        }
        Ok(())
    }

    /// Whether it covers a column of `class` computed from `sources` (an unclassified column is
    /// kept no longer than raw text).
    fn covers(&self, class: Option<DataClass>, sources: &BTreeSet<String>) -> bool {
        let class = class.unwrap_or(DataClass::RawText);
        let by_class = match self.data_class {
            Some(c) => class == c,
            None => class >= DataClass::RedactedText,
        };
        by_class && self.source.as_ref().is_none_or(|s| sources.contains(s))
    }

    /// The instant before which values are due: `keep_days` before `now`, ISO 8601.
    pub fn cutoff(&self, now: chrono::DateTime<chrono::Utc>) -> String {
        (now - chrono::Duration::days(i64::from(self.keep_days))).format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// One rule's effect on one stored model.
#[derive(Debug, Clone)]
pub struct Due {
    /// The model.
    pub model: String,
    /// Its relation, `schema.identifier`, quoted.
    pub relation: String,
    /// Its `event_time` column.
    pub event_time: String,
    /// The columns the rule covers.
    pub columns: Vec<String>,
    /// What happens to them.
    pub action: Action,
    /// Values of rows before this instant are due.
    pub cutoff: String,
    /// With `redact`, the arguments after the text that `redact_pii` takes (`, '<policy>'` or
    /// nothing for the default policy).
    pub policy: String,
}

impl Due {
    /// The condition of a due row.
    pub fn condition(&self) -> String {
        format!("{} < '{}'", quote_ident(&self.event_time), self.cutoff)
    }

    /// What replaces the due value of the column `value` (SQL): NULL, or its redacted form.
    pub fn replacement(&self, value: &str) -> String {
        match self.action {
            Action::Redact => format!("redact_pii({value}{})", self.policy),
            Action::Null | Action::Delete => "NULL".into(),
        }
    }

    /// The condition of a due row that still holds a covered value (deleted rows: any due row).
    pub fn pending(&self) -> String {
        if self.action == Action::Delete {
            return self.condition();
        }
        let held: Vec<String> = self.columns.iter().map(|c| format!("{} is not null", quote_ident(c))).collect();
        format!("{} and ({})", self.condition(), held.join(" or "))
    }
}

/// The source tables (`source.table`) each column of each model is computed from, through
/// every model in between.
fn sources_of(
    project: &Project,
    models: &[CompiledModel],
) -> std::collections::BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<(String, String), BTreeSet<String>> = Default::default();
    let prefix_model = format!("model.{}.", project.config.name);
    let prefix_source = format!("source.{}.", project.config.name);
    for m in models {
        for c in &m.columns {
            let mut set = BTreeSet::new();
            for o in &c.from {
                if let Some(s) = o.node.strip_prefix(&prefix_source) {
                    set.insert(s.to_owned());
                } else if let Some(parent) = o.node.strip_prefix(&prefix_model) {
                    if let Some(up) = out.get(&(parent.to_owned(), o.column.to_lowercase())) {
                        set.extend(up.iter().cloned());
                    }
                }
            }
            out.insert((m.name.clone(), c.name.to_lowercase()), set);
        }
    }
    out
}

/// What the project's rules make due, at `now`, in each stored model (tables and incremental
/// models; views store nothing). A stored model holding covered columns without an
/// `event_time` config is an error: its rows could not be aged.
pub fn plan(project: &Project, models: &[CompiledModel], now: chrono::DateTime<chrono::Utc>) -> Result<Vec<Due>> {
    let sources = sources_of(project, models);
    let mut out = Vec::new();
    for (file, rule) in &project.retention {
        if let Some(source) = rule.source.as_ref() {
            let known = project.sources.values().any(|t| &format!("{}.{}", t.source, t.name) == source);
            if !known {
                return Err(Error::Project(format!(
                    "{}: retention: source '{source}' is not a source table of the project (source_name.table_name)",
                    file.display()
                )));
            }
        }
        for m in models {
            if !matches!(m.config.materialized, Materialization::Table | Materialization::Incremental) {
                continue;
            }
            let columns: Vec<String> = m
                .columns
                .iter()
                .filter(|c| {
                    let from = sources.get(&(m.name.clone(), c.name.to_lowercase()));
                    rule.covers(c.data_class, from.unwrap_or(&BTreeSet::new()))
                })
                .map(|c| c.name.clone())
                .collect();
            if columns.is_empty() {
                continue;
            }
            let Some(event_time) = m.config.event_time.clone() else {
                return Err(Error::Project(format!(
                    "{}: model {} holds {} that {} keeps {} days, but has no event_time config to age its rows by \
                     (add config(event_time='...') or +event_time in dbt_project.yml)",
                    m.path.display(),
                    m.name,
                    columns.join(", "),
                    file.display(),
                    rule.keep_days
                )));
            };
            let policy = match &rule.policy {
                Some(name) => {
                    let (_, spec) = project.pii_policies.get(name).ok_or_else(|| {
                        Error::Project(format!("{}: retention: no pii policy '{name}'", file.display()))
                    })?;
                    let json = serde_json::to_string(&spec.policy).unwrap_or_default();
                    format!(", {}", quote_literal(&json))
                }
                None => String::new(),
            };
            out.push(Due {
                model: m.name.clone(),
                relation: m.relation.to_string(),
                event_time,
                columns,
                action: rule.action,
                cutoff: rule.cutoff(now),
                policy,
            });
        }
    }
    Ok(out)
}

/// A model's SQL with its due values replaced (and due rows left out, for `delete`), so that a
/// build never stores what retention removed.
pub fn guard(sql: &str, model: &CompiledModel, due: &[&Due]) -> String {
    let mut columns: Vec<String> =
        model.columns.iter().map(|c| format!("__retained.{}", quote_ident(&c.name))).collect();
    let mut filters = Vec::new();
    for d in due {
        let condition = format!("__retained.{}", d.condition());
        match d.action {
            Action::Delete => filters.push(format!("not coalesce({condition}, false)")),
            _ => {
                for column in &d.columns {
                    let i = model.columns.iter().position(|c| &c.name == column).expect("a column of the model");
                    let value = format!("__retained.{}", quote_ident(column));
                    columns[i] = format!(
                        "case when {condition} then {} else {value} end as {}",
                        d.replacement(&value),
                        quote_ident(column)
                    );
                }
            }
        }
    }
    let filter = if filters.is_empty() { String::new() } else { format!("\nwhere {}", filters.join(" and ")) };
    format!("select {}\nfrom (\n{}) as __retained{filter}\n", columns.join(",\n       "), sql.trim_end())
}

/// Applies `due` to its stored model (`rows` values are due) and logs it in `retention_log`: on
/// PostgreSQL an UPDATE (or DELETE) in the caller's transaction; on the embedded engine the
/// relation rewritten through [`guard`].
pub async fn apply(engine: &mut Engine, model: &CompiledModel, due: &Due, rows: u64) -> Result<()> {
    let context = format!("retention of {}", due.model);
    match engine {
        Engine::Postgres(pg) => {
            let sql = match due.action {
                Action::Delete => format!("delete from {} where {}", due.relation, due.condition()),
                _ => {
                    let set: Vec<String> = due
                        .columns
                        .iter()
                        .map(|c| format!("{} = {}", quote_ident(c), due.replacement(&quote_ident(c))))
                        .collect();
                    format!("update {} set {} where {}", due.relation, set.join(", "), due.condition())
                }
            };
            pg.client().batch_execute(&sql).await.map_err(|e| Error::postgres(&context, &e))?;
        }
        Engine::Embedded(e) => {
            let sql = guard(&format!("select * from {}", due.relation), model, &[due]);
            e.replace_with(&model.relation, &sql, &context).await?;
        }
    }
    let log = crate::render::Relation { schema: model.relation.schema.clone(), identifier: RETENTION_LOG.into() };
    let values = [
        quote_literal(&iso(chrono::Utc::now())),
        quote_literal(&super::audit::run_by()),
        quote_literal(&due.relation),
        quote_literal(&due.columns.join(",")),
        quote_literal(due.action.as_str()),
        quote_literal(&due.cutoff),
        rows.to_string(),
    ];
    super::audit::append_row(engine, &log, RETENTION_LOG_COLUMNS, &values).await
}

/// Counts what the compiled project's retention makes due in each stored model and prints it;
/// with `apply`, applies each (see [`apply`]) and prints what it did. Stops at the first error.
pub async fn run(engine: &mut Engine, compiled: &Compiled, apply: bool) -> Result<()> {
    let stored = engine.relations().await?;
    for d in &compiled.retention {
        let model = compiled.models.iter().find(|m| m.name == d.model).expect("a compiled model");
        if !stored.contains(&(model.relation.schema.clone(), model.relation.identifier.clone())) {
            continue;
        }
        let count = format!("select count(*) from {} where {}", d.relation, d.pending());
        let rows = engine.scalar(&count, &format!("retention of {}", d.model)).await?.unwrap_or(0.0) as u64;
        let verb = if apply {
            if rows > 0 {
                self::apply(engine, model, d, rows).await?;
            }
            "applied"
        } else {
            "due"
        };
        let columns = d.columns.join(", ");
        println!("{verb}: {rows} rows of {} ({columns}): {} older than {}", d.relation, d.action.as_str(), d.cutoff);
    }
    Ok(())
}
