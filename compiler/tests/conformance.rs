//! The cross-engine conformance suite: every `tests/*.slt` file of the repository runs on
//! DataFusion (always) and on PostgreSQL with pg_convlytics (when `CONVLYTICS_TEST_PG_URL` names a
//! database; required when `CONVLYTICS_REQUIRE_PG=1`). Both engines must print the same rows.
//!
//! Values print the same way on both: SQL NULL as `NULL`, the empty string as `(empty)`, JSON
//! objects and arrays compactly with their keys sorted (PostgreSQL's `jsonb` keeps no key order),
//! other values as the engine's text form. Records marked `onlyif model` need the embedding model
//! and run when it is there (always under `scripts/test.sh`). Each file runs in a fresh session (DataFusion) or a fresh
//! schema (PostgreSQL), so files cannot see each other's tables.

mod common;
mod json;

use std::path::PathBuf;

use async_trait::async_trait;
use convlytics::engine::EmbeddedEngine;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/ directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    files
}

fn cell(value: Option<&str>) -> String {
    match value {
        None => "NULL".into(),
        Some("") => "(empty)".into(),
        Some(v) => json::canonical(v).unwrap_or_else(|| v.into()),
    }
}

/// DataFusion with every convlytics function registered.
struct DataFusionDb {
    engine: EmbeddedEngine,
}

#[async_trait]
impl AsyncDB for DataFusionDb {
    type Error = datafusion::error::DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        let df = self.engine.context().sql(sql).await?;
        let columns = df.schema().fields().len();
        let batches = df.collect().await?;
        if columns == 0 {
            return Ok(DBOutput::StatementComplete(0));
        }
        let options = FormatOptions::default().with_null("\u{0}");
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .map(|f| {
                            let text = f.value(row).to_string();
                            cell((text != "\u{0}").then_some(text.as_str()))
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; columns], rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }
}

/// A PostgreSQL session in its own schema, with `convlytics` on the search path.
struct PostgresDb {
    client: tokio_postgres::Client,
    schema: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PgError(String);

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()))
    }
}

impl PostgresDb {
    async fn connect(url: &str, schema: &str) -> Result<Self, PgError> {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "drop schema if exists {schema} cascade; create schema {schema}; set search_path to {schema}, convlytics"
            ))
            .await?;
        Ok(Self { client, schema: schema.to_owned() })
    }
}

#[async_trait]
impl AsyncDB for PostgresDb {
    type Error = PgError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        // Booleans print as `true`/`false`, as DataFusion prints them, not as PostgreSQL's `t`/`f`.
        let booleans: Vec<bool> = match self.client.prepare(sql).await {
            Ok(stmt) => stmt.columns().iter().map(|c| *c.type_() == tokio_postgres::types::Type::BOOL).collect(),
            Err(_) => Vec::new(),
        };
        let mut rows = Vec::new();
        let mut columns = None;
        let mut count = 0;
        for message in self.client.simple_query(sql).await? {
            match message {
                tokio_postgres::SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    rows.push(
                        (0..row.len())
                            .map(|i| match (row.get(i), booleans.get(i)) {
                                (Some("t"), Some(true)) => "true".into(),
                                (Some("f"), Some(true)) => "false".into(),
                                (value, _) => cell(value),
                            })
                            .collect(),
                    );
                }
                tokio_postgres::SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows { types: vec![DefaultColumnType::Any; n], rows },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn shutdown(&mut self) {
        let _ = self.client.batch_execute(&format!("drop schema if exists {} cascade", self.schema)).await;
    }

    fn engine_name(&self) -> &str {
        "postgres"
    }
}

fn report(engine: &str, failures: Vec<String>) {
    assert!(failures.is_empty(), "{} .slt failure(s) on {engine}:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The key `tests/pii.slt` hashes with; `scripts/test.sh` gives the PostgreSQL server the same.
const PII_TEST_KEY: (&str, &str) = ("CONVLYTICS_PII_TEST_KEY", "convlytics conformance key, not a secret");

#[tokio::test]
async fn slt_on_datafusion() {
    if std::env::var_os(PII_TEST_KEY.0).is_none() {
        std::env::set_var(PII_TEST_KEY.0, PII_TEST_KEY.1);
    }
    let model = convlytics_core::embed::available_for_test("slt_on_datafusion: the `onlyif model` records");
    let mut failures = Vec::new();
    for file in slt_files() {
        let mut runner = Runner::new(|| async {
            let warehouse = std::env::temp_dir().join("convlytics-slt");
            Ok(DataFusionDb { engine: EmbeddedEngine::new(warehouse) })
        });
        runner.add_label("datafusion");
        if model {
            runner.add_label("model");
        }
        if let Err(e) = runner.run_file_async(&file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    report("DataFusion", failures);
}

#[tokio::test]
async fn slt_on_postgres() {
    let Some(url) = common::postgres_url("slt_on_postgres") else { return };
    let model = convlytics_core::embed::available_for_test("slt_on_postgres: the `onlyif model` records");
    let mut failures = Vec::new();
    for file in slt_files() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let schema = format!("slt_{}", stem.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let url = url.clone();
        let mut runner = Runner::new(move || {
            let (url, schema) = (url.clone(), schema.clone());
            async move { PostgresDb::connect(&url, &schema).await }
        });
        runner.add_label("postgres");
        if model {
            runner.add_label("model");
        }
        if let Err(e) = runner.run_file_async(&file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
        runner.shutdown_async().await;
    }
    report("PostgreSQL", failures);
}
