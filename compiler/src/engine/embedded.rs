//! The embedded engine: DataFusion in process, sources from files, models written as Parquet.

use std::path::{Path, PathBuf};

use datafusion::common::TableReference;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::options::{CsvReadOptions, JsonReadOptions, ParquetReadOptions};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::engine::Built;
use crate::error::{Error, Result};
use crate::project::{Materialization, SourceTable};
use crate::render::{quote_ident, CompiledModel};

/// A DataFusion session with every convlytics function registered.
pub struct EmbeddedEngine {
    ctx: SessionContext,
    warehouse: PathBuf,
}

/// The formats a source file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated with a header row.
    Csv,
    /// JSON lines: one object per line.
    Json,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The format named `declared`, or else the one `path`'s extension implies.
    pub fn of(path: &Path, declared: Option<&str>) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        match declared.unwrap_or(&ext) {
            "csv" => Ok(Self::Csv),
            "json" | "jsonl" | "ndjson" => Ok(Self::Json),
            "parquet" => Ok(Self::Parquet),
            other => Err(Error::Project(format!(
                "{}: cannot tell the file format from '{other}': expected csv, json (JSON lines) or parquet; set meta.format",
                path.display()
            ))),
        }
    }
}

impl EmbeddedEngine {
    /// A session whose model outputs go under `warehouse/<schema>/<model>.parquet`.
    pub fn new(warehouse: PathBuf) -> Self {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config).enable_url_table();
        crate::functions::register(&ctx);
        Self { ctx, warehouse }
    }

    /// The DataFusion session, for ad-hoc queries.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Creates `schema` in the session unless it exists.
    pub async fn create_schema(&self, schema: &str) -> Result<()> {
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        let df = self.ctx.sql(&sql).await.map_err(|e| Error::datafusion(&sql, e))?;
        df.collect().await.map_err(|e| Error::datafusion(&sql, e))?;
        Ok(())
    }

    /// Registers a file (or directory of files) as the table `schema.name`.
    pub async fn register_file(&self, schema: &str, name: &str, path: &Path, format: FileFormat) -> Result<()> {
        self.create_schema(schema).await?;
        let table = TableReference::partial(schema, name);
        let location = path.to_string_lossy();
        let ext = path.extension().and_then(|e| e.to_str()).map(|e| format!(".{e}")).unwrap_or_default();
        let context = format!("registering {}", path.display());
        let result = match format {
            FileFormat::Csv => self.ctx.register_csv(table, location, CsvReadOptions::new().file_extension(&ext)).await,
            FileFormat::Json => {
                self.ctx.register_json(table, location, JsonReadOptions::default().file_extension(&ext)).await
            }
            FileFormat::Parquet => {
                self.ctx.register_parquet(table, location, ParquetReadOptions::default().file_extension(&ext)).await
            }
        };
        result.map_err(|e| Error::datafusion(context, e))
    }

    /// Registers a declared source table from its located files.
    pub async fn register_source(&self, table: &SourceTable, location: &Path) -> Result<()> {
        if !location.exists() {
            return Err(Error::Project(format!(
                "{}: source '{}.{}' points at {}, which does not exist",
                table.declared_in.display(),
                table.source,
                table.name,
                location.display()
            )));
        }
        let format = FileFormat::of(location, table.format.as_deref())?;
        self.register_file(&table.schema, &table.identifier, location, format).await
    }

    /// Makes the project's taxonomies known by name to the taxonomy functions (process-wide, as
    /// the embedded engine is the process).
    pub fn register_taxonomies(&self, project: &crate::project::Project) {
        for (_, taxonomy) in project.taxonomies.values() {
            convlytics_core::classify::register(taxonomy.clone());
        }
    }

    /// Registers every model output already in the warehouse directory, so ad-hoc queries can read
    /// `schema.model`.
    pub async fn register_warehouse(&self) -> Result<()> {
        let Ok(schemas) = std::fs::read_dir(&self.warehouse) else { return Ok(()) };
        for schema in schemas.flatten().filter(|e| e.path().is_dir()) {
            let schema_name = schema.file_name().to_string_lossy().into_owned();
            let files = std::fs::read_dir(schema.path()).map_err(|e| Error::io(schema.path(), e))?;
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "parquet") {
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    self.register_file(&schema_name, &stem, &path, FileFormat::Parquet).await?;
                }
            }
        }
        Ok(())
    }

    /// Builds one model: writes its rows to Parquet (aside, then renamed over the previous file)
    /// and makes it readable by later models, as a view or as the written table.
    pub async fn build(&self, model: &CompiledModel) -> Result<Built> {
        let context = format!("model {} ({})", model.name, model.path.display());
        let schema = &model.relation.schema;
        self.create_schema(schema).await?;
        let options = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        let df = self.ctx.sql_with_options(&model.sql, options).await.map_err(|e| Error::datafusion(&context, e))?;
        let dir = self.warehouse.join(schema);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{}.parquet", model.name));
        let aside = dir.join(format!(".{}.parquet.building", model.name));
        let written = df
            .clone()
            .write_parquet(&aside.to_string_lossy(), DataFrameWriteOptions::new().with_single_file_output(true), None)
            .await
            .map_err(|e| {
                let _ = std::fs::remove_file(&aside);
                Error::datafusion(&context, e)
            })?;
        std::fs::rename(&aside, &path).map_err(|e| Error::io(&path, e))?;
        let rows = written
            .first()
            .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>())
            .map(|a| a.value(0));
        let table = TableReference::partial(schema.as_str(), model.name.as_str());
        self.ctx.deregister_table(table.clone()).map_err(|e| Error::datafusion(&context, e))?;
        match model.config.materialized {
            Materialization::View => {
                self.ctx.register_table(table, df.into_view()).map_err(|e| Error::datafusion(&context, e))?;
            }
            Materialization::Table => {
                self.register_file(schema, &model.name, &path, FileFormat::Parquet).await?;
            }
        }
        Ok(Built { rows })
    }
}
