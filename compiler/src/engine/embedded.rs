//! The embedded engine: DataFusion in process, sources from files, models written as Parquet.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use convlytics_core::taxonomy::Registry;
use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{JoinType, TableReference};
use datafusion::dataframe::{DataFrame, DataFrameWriteOptions};
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::execution::context::SQLOptions;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::options::{JsonReadOptions, ParquetReadOptions};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{col, SessionConfig, SessionContext};

use crate::engine::files::{self, CsvOptions, FileFormat};
use crate::engine::Built;
use crate::error::{Error, Result};
use crate::project::{Materialization, SourceTable};
use crate::render::{quote_ident, CompiledModel, Relation};
use crate::seed::SeedData;

/// A DataFusion session with every convlytics function registered: in process, or a client of a
/// Ballista cluster.
pub struct EmbeddedEngine {
    ctx: SessionContext,
    taxonomies: Arc<Registry>,
    warehouse: PathBuf,
    cluster: Option<Cluster>,
}

/// The Ballista cluster an engine is a client of.
struct Cluster {
    url: String,
    job_timeout: std::time::Duration,
}

/// Where a model's or seed's rows are written.
fn output(warehouse: &Path, schema: &str, name: &str) -> PathBuf {
    warehouse.join(schema).join(format!("{name}.parquet"))
}

/// The names among `names` with an output in `schema` of the `warehouse` directory.
pub fn existing(warehouse: &Path, schema: &str, names: &[&str]) -> BTreeSet<String> {
    names.iter().filter(|n| output(warehouse, schema, n).is_file()).map(|n| n.to_string()).collect()
}

/// Every relation with an output in the `warehouse` directory, as `(schema, name)`.
pub fn relations(warehouse: &Path) -> BTreeSet<(String, String)> {
    let schemas = std::fs::read_dir(warehouse).into_iter().flatten().flatten().filter(|e| e.path().is_dir());
    schemas
        .flat_map(|schema| {
            let name = schema.file_name().to_string_lossy().into_owned();
            let files = std::fs::read_dir(schema.path()).into_iter().flatten().flatten();
            let tables = files.filter_map(|f| {
                let path = f.path();
                (path.extension().is_some_and(|e| e == "parquet") && path.is_file())
                    .then(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                    .flatten()
            });
            tables.map(move |t| (name.clone(), t)).collect::<Vec<_>>()
        })
        .collect()
}

/// The SQL name of an Arrow type, as a cast in a model would write it.
fn sql_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 | DataType::UInt8 => "integer".into(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// An empty Parquet file at `path` with the columns of `schema`.
fn write_empty(path: &Path, schema: &Schema) -> datafusion::error::Result<()> {
    let file = std::fs::File::create(path)?;
    let writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, Arc::new(schema.clone()), None)?;
    writer.close()?;
    Ok(())
}

/// The optimizer rules convlytics sessions run without: they push a struct field access
/// (`f['label']`) down into the projection that computes `f`, so a per-row function returning a
/// struct (`transcript_info`, `parse_transcript`, the explain functions) would run once per field
/// read.
pub(crate) const REMOVED_RULES: [&str; 2] = ["extract_leaf_expressions", "push_down_leaf_projections"];

/// SQL options for model and test queries: queries only.
pub(crate) fn read_only() -> SQLOptions {
    SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false)
}

impl EmbeddedEngine {
    /// A session whose model outputs go under `warehouse/<schema>/<model>.parquet`.
    pub fn new(warehouse: PathBuf) -> Self {
        Self::in_context(SessionContext::new_with_config(Self::config()), warehouse)
    }

    /// As [`EmbeddedEngine::new`], with DataFusion's operators held to `limit` bytes: sorts,
    /// joins and aggregates spill to files in the OS temporary directory past it, and a query
    /// that cannot stay under it fails with DataFusion's "Resources exhausted" error, naming
    /// the operators that hold the most. The convlytics functions' own memory (the embedding
    /// model, an identity stitching's records) is outside the limit.
    pub fn with_memory_limit(warehouse: PathBuf, limit: u64) -> Result<Self> {
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(usize::try_from(limit).unwrap_or(usize::MAX)),
            NonZeroUsize::new(5).expect("five is not zero"),
        );
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .build_arc()
            .map_err(|e| Error::datafusion("setting up the memory pool and its spill directory", e))?;
        Ok(Self::in_context(SessionContext::new_with_config_rt(Self::config(), runtime), warehouse))
    }

    /// A client of the Ballista scheduler at `url`: queries run on the cluster's executors, which
    /// write model outputs under `warehouse` (a directory every executor reads and writes); a
    /// query not finished in `job_timeout` fails.
    pub async fn remote(url: &str, warehouse: PathBuf, job_timeout: std::time::Duration) -> Result<Self> {
        let ctx = crate::engine::ballista::connect(url).await?;
        let mut engine = Self::in_context(ctx, warehouse);
        engine.cluster = Some(Cluster { url: url.to_owned(), job_timeout });
        Ok(engine)
    }

    /// The Ballista scheduler it is a client of, if any.
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_ref().map(|c| c.url.as_str())
    }

    /// Runs a query's future; on a cluster, within its job timeout. A Ballista job can wait
    /// without end (one whose stages were rolled back for a lost executor, in Ballista 55), and
    /// the run must fail instead.
    async fn bounded<T>(
        &self,
        context: &str,
        query: impl std::future::Future<Output = datafusion::error::Result<T>>,
    ) -> Result<T> {
        let Some(cluster) = &self.cluster else {
            return query.await.map_err(|e| Error::datafusion(context, e));
        };
        match tokio::time::timeout(cluster.job_timeout, query).await {
            Ok(done) => done.map_err(|e| Error::datafusion(context, e)),
            Err(_) => Err(Error::Project(format!(
                "{context}: the Ballista cluster at {} did not finish the query in {} s (job_timeout_seconds); \
                 see the scheduler's log for a lost executor",
                cluster.url,
                cluster.job_timeout.as_secs()
            ))),
        }
    }

    fn config() -> SessionConfig {
        SessionConfig::new().with_information_schema(true)
    }

    fn in_context(ctx: SessionContext, warehouse: PathBuf) -> Self {
        let mut ctx = ctx.enable_url_table();
        for rule in REMOVED_RULES {
            let _ = ctx.remove_optimizer_rule(rule);
        }
        files::configure(&ctx);
        let taxonomies = datafusion_convlytics::register(&ctx);
        // JSON operators (`->`, `->>`) and json_get functions, for the JSON the functions return.
        if let Err(e) = datafusion_functions_json::register_all(&mut ctx) {
            eprintln!("warning: the JSON functions (->, ->>, json_get) are not available: {e}");
        }
        Self { ctx, taxonomies, warehouse, cluster: None }
    }

    /// The DataFusion session, for ad-hoc queries.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Creates `schema` in the session unless it exists.
    pub async fn create_schema(&self, schema: &str) -> Result<()> {
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
        let df = self.ctx.sql(&sql).await.map_err(|e| Error::datafusion(&sql, e))?;
        self.bounded(&sql, df.collect()).await?;
        Ok(())
    }

    /// Registers a file (or directory of files) as the table `schema.name`; CSV files are read
    /// with `csv`'s options.
    pub async fn register_file(
        &self,
        schema: &str,
        name: &str,
        path: &Path,
        format: FileFormat,
        csv: &CsvOptions,
    ) -> Result<()> {
        self.create_schema(schema).await?;
        let table = TableReference::partial(schema, name);
        let context = format!("registering {}", path.display());
        let path = match format {
            FileFormat::Csv => csv.utf8_location(path, &self.warehouse.join(".utf8"))?,
            _ => path.to_path_buf(),
        };
        let location = path.to_string_lossy();
        let ext = path.extension().and_then(|e| e.to_str()).map(|e| format!(".{e}")).unwrap_or_default();
        let result = match format {
            FileFormat::Csv => {
                let format = files::QuotedCsv::new(csv).map_err(|m| Error::Project(format!("{context}: {m}")))?;
                // The schema is inferred the quoted way; the table reads with DataFusion's own CSV
                // format (quoted values across lines on), which a distributed plan can carry.
                let plain = format.plain();
                let url = ListingTableUrl::parse(&location).map_err(|e| Error::datafusion(&context, e))?;
                let inferring = ListingOptions::new(Arc::new(format)).with_file_extension(&ext);
                async {
                    let schema = inferring.infer_schema(&self.ctx.state(), &url).await?;
                    let options = ListingOptions::new(Arc::new(plain)).with_file_extension(&ext);
                    self.ctx.register_listing_table(table, location, options, Some(schema), None).await
                }
                .await
            }
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
        table.csv.check().map_err(|m| {
            Error::Project(format!(
                "{}: source '{}.{}': meta.{m}",
                table.declared_in.display(),
                table.source,
                table.name
            ))
        })?;
        if format == FileFormat::Json && table.contract.is_some() {
            // A contract reports fields that appear anywhere: the schema is read from every record,
            // not DataFusion's first thousand.
            self.create_schema(&table.schema).await?;
            let ext = location.extension().and_then(|e| e.to_str()).map(|e| format!(".{e}")).unwrap_or_default();
            let mut options = JsonReadOptions::default().file_extension(&ext);
            options.schema_infer_max_records = usize::MAX;
            let reference = TableReference::partial(table.schema.as_str(), table.identifier.as_str());
            return self
                .ctx
                .register_json(reference, location.to_string_lossy(), options)
                .await
                .map_err(|e| Error::datafusion(format!("registering {}", location.display()), e));
        }
        self.register_file(&table.schema, &table.identifier, location, format, &table.csv).await
    }

    /// Makes the project's taxonomies known by name to this session's taxonomy functions.
    pub fn register_taxonomies(&self, project: &crate::project::Project) {
        for (_, taxonomy) in project.taxonomies.values() {
            self.taxonomies.register(taxonomy.clone());
        }
    }

    /// Registers every model output already in the warehouse directory, so ad-hoc queries, models
    /// outside a selection and incremental models can read `schema.model`.
    pub async fn register_warehouse(&self) -> Result<()> {
        let Ok(schemas) = std::fs::read_dir(&self.warehouse) else { return Ok(()) };
        for schema in schemas.flatten().filter(|e| e.path().is_dir()) {
            let schema_name = schema.file_name().to_string_lossy().into_owned();
            let files = std::fs::read_dir(schema.path()).map_err(|e| Error::io(schema.path(), e))?;
            for file in files.flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "parquet") {
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    self.register_file(&schema_name, &stem, &path, FileFormat::Parquet, &CsvOptions::default()).await?;
                }
            }
        }
        Ok(())
    }

    /// The directory its outputs are written to.
    pub fn warehouse(&self) -> &Path {
        &self.warehouse
    }

    /// The names among `names` with an output in `schema` of the warehouse.
    pub fn existing(&self, schema: &str, names: &[&str]) -> BTreeSet<String> {
        existing(&self.warehouse, schema, names)
    }

    fn output(&self, schema: &str, name: &str) -> PathBuf {
        output(&self.warehouse, schema, name)
    }

    /// Builds one model: writes its rows to Parquet (aside, then renamed over the previous file)
    /// and makes it readable by later models, as a view or as the written table. An incremental
    /// model that exists keeps its rows whose `unique_key` the new rows do not have.
    pub async fn build(&self, model: &CompiledModel) -> Result<Built> {
        let context = format!("model {} ({})", model.name, model.path.display());
        let df =
            self.ctx.sql_with_options(&model.sql, read_only()).await.map_err(|e| Error::datafusion(&context, e))?;
        let df = if model.incremental {
            self.merge(model, df).await.map_err(|e| Error::datafusion(&context, e))?
        } else {
            df
        };
        let view = model.config.materialized == Materialization::View;
        self.persist(&model.relation, df, view, &context).await
    }

    /// The new rows `df` of an incremental model, then its existing rows whose unique key is not
    /// among them (all of them, when it has no unique key).
    async fn merge(&self, model: &CompiledModel, df: DataFrame) -> datafusion::error::Result<DataFrame> {
        self.merged(&model.relation, &model.config.unique_key, df).await
    }

    /// `df`'s rows, then the rows of the stored `relation` whose `keys` are not among them (all
    /// of them, without keys).
    pub async fn merged(
        &self,
        relation: &Relation,
        keys: &[String],
        df: DataFrame,
    ) -> datafusion::error::Result<DataFrame> {
        let existing =
            self.ctx.table(TableReference::partial(relation.schema.as_str(), relation.identifier.as_str())).await?;
        if keys.is_empty() {
            return df.union_by_name(existing);
        }
        let renamed: Vec<String> = keys.iter().map(|k| format!("__convlytics_key_{k}")).collect();
        let new_keys = df
            .clone()
            .select(keys.iter().zip(&renamed).map(|(k, r)| col(quote_ident(k)).alias(r)).collect::<Vec<_>>())?;
        let left: Vec<&str> = keys.iter().map(String::as_str).collect();
        let right: Vec<&str> = renamed.iter().map(String::as_str).collect();
        let kept = existing.join(new_keys, JoinType::LeftAnti, &left, &right, None)?;
        df.union_by_name(kept)
    }

    /// Writes `df` to the relation's Parquet file (aside, then renamed) and registers it: as the
    /// query itself when `view`, else as the written file.
    async fn persist(&self, relation: &Relation, df: DataFrame, view: bool, context: &str) -> Result<Built> {
        let (schema, name) = (relation.schema.as_str(), relation.identifier.as_str());
        self.create_schema(schema).await?;
        let dir = self.warehouse.join(schema);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = self.output(schema, name);
        let aside = dir.join(format!(".{name}.parquet.building"));
        let aside_path = aside.to_string_lossy().into_owned();
        let write =
            df.clone().write_parquet(&aside_path, DataFrameWriteOptions::new().with_single_file_output(true), None);
        let written = self.bounded(context, write).await.inspect_err(|_| {
            let _ = std::fs::remove_file(&aside);
        })?;
        let rows = written
            .first()
            .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>())
            .map(|a| a.value(0));
        if self.cluster.is_some() && rows == Some(0) {
            // Ballista writes a query that plans to no rows at all (`where 1 = 0`) without its
            // columns: the empty table is written here, with them.
            write_empty(&aside, df.schema().as_arrow()).map_err(|e| Error::datafusion(context, e))?;
        }
        std::fs::rename(&aside, &path).map_err(|e| Error::io(&path, e))?;
        let table = TableReference::partial(schema, name);
        self.ctx.deregister_table(table.clone()).map_err(|e| Error::datafusion(context, e))?;
        if view {
            self.ctx.register_table(table, df.into_view()).map_err(|e| Error::datafusion(context, e))?;
        } else {
            self.register_file(schema, name, &path, FileFormat::Parquet, &CsvOptions::default()).await?;
        }
        Ok(Built { rows })
    }

    /// Writes the rows `sql` selects as the table `relation` (which `sql` may read).
    pub async fn replace_with(&self, relation: &Relation, sql: &str, context: &str) -> Result<()> {
        let df = self.ctx.sql_with_options(sql, read_only()).await.map_err(|e| Error::datafusion(context, e))?;
        self.persist(relation, df, false, context).await.map(|_| ())
    }

    /// Writes the rows of `relation` (when it exists) and then those of `select` as `relation`.
    pub async fn append(&self, relation: &Relation, select: &str) -> Result<()> {
        let context = format!("appending to {relation}");
        let table = TableReference::partial(relation.schema.as_str(), relation.identifier.as_str());
        let exists = self.ctx.table_exist(table).map_err(|e| Error::datafusion(&context, e))?;
        let sql = if exists { format!("select * from {relation} union all {select}") } else { select.to_owned() };
        self.replace_with(relation, &sql, &context).await
    }

    /// Loads a seed's rows into `relation`, typed by [`SeedData::select`].
    pub async fn load_seed(&self, relation: &Relation, data: &SeedData) -> Result<Built> {
        let context = format!("seed {}", relation.identifier);
        let fields: Vec<Field> = data.columns.iter().map(|c| Field::new(c, DataType::Utf8, true)).collect();
        let arrays: Vec<ArrayRef> = (0..data.columns.len())
            .map(|i| Arc::new(data.rows.iter().map(|r| Some(r[i].as_str())).collect::<StringArray>()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| Error::datafusion(&context, e.into()))?;
        let staging = format!("__convlytics_seed_{}", relation.identifier);
        self.ctx.register_batch(staging.as_str(), batch).map_err(|e| Error::datafusion(&context, e))?;
        let df = self.ctx.sql(&data.select(&quote_ident(&staging))).await;
        self.ctx.deregister_table(staging.as_str()).map_err(|e| Error::datafusion(&context, e))?;
        let df = df.map_err(|e| Error::datafusion(&context, e))?;
        self.persist(relation, df, false, &context).await
    }

    /// Runs each statement of `sql`.
    pub async fn execute(&self, sql: &str, context: &str) -> Result<()> {
        let dialect = datafusion::sql::sqlparser::dialect::GenericDialect {};
        let statements = datafusion::sql::sqlparser::parser::Parser::parse_sql(&dialect, sql)
            .map_err(|e| Error::datafusion(context, e.into()))?;
        for statement in statements {
            let df = self.ctx.sql(&statement.to_string()).await.map_err(|e| Error::datafusion(context, e))?;
            self.bounded(context, df.collect()).await?;
        }
        Ok(())
    }

    /// The columns `(name, SQL type)` of `relation`, or `None` when it is not registered.
    pub async fn columns(&self, relation: &Relation) -> Result<Option<Vec<(String, String)>>> {
        let reference = TableReference::partial(relation.schema.as_str(), relation.identifier.as_str());
        let Ok(table) = self.ctx.table(reference).await else { return Ok(None) };
        Ok(Some(table.schema().fields().iter().map(|f| (f.name().clone(), sql_type(f.data_type()))).collect()))
    }

    /// The column names and rows (as JSON values) of the query `sql`.
    pub async fn query_rows(&self, sql: &str) -> Result<crate::introspect::Rows> {
        let context = "a query while compiling";
        let df = self.ctx.sql_with_options(sql, read_only()).await.map_err(|e| Error::datafusion(context, e))?;
        crate::jinja::query::dataframe_rows(df).await.map_err(|e| Error::Project(format!("{context}: {e}")))
    }

    /// Every row `sql` selects, each value cast to text (`None` for NULL).
    pub async fn rows(&self, sql: &str, context: &str) -> Result<Vec<Vec<Option<String>>>> {
        let df = self.ctx.sql_with_options(sql, read_only()).await.map_err(|e| Error::datafusion(context, e))?;
        let batches = self.bounded(context, df.collect()).await?;
        let mut rows = Vec::new();
        for batch in &batches {
            let columns = batch
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::cast(c, &DataType::Utf8))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::datafusion(context, e.into()))?;
            let columns: Vec<&StringArray> =
                columns.iter().map(|c| c.as_any().downcast_ref::<StringArray>().expect("cast to Utf8")).collect();
            for i in 0..batch.num_rows() {
                rows.push(columns.iter().map(|c| c.is_valid(i).then(|| c.value(i).to_owned())).collect());
            }
        }
        Ok(rows)
    }

    /// The one value `sql` selects, as a number (`None` for NULL or no row).
    pub async fn scalar(&self, sql: &str, context: &str) -> Result<Option<f64>> {
        let df = self.ctx.sql_with_options(sql, read_only()).await.map_err(|e| Error::datafusion(context, e))?;
        let batches = self.bounded(context, df.collect()).await?;
        let Some(column) = batches.iter().find(|b| b.num_rows() > 0).map(|b| b.column(0).clone()) else {
            return Ok(None);
        };
        let cast = datafusion::arrow::compute::cast(&column, &DataType::Float64)
            .map_err(|e| Error::datafusion(context, e.into()))?;
        let values = cast.as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().expect("cast to Float64");
        Ok(values.is_valid(0).then(|| values.value(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reading several fields of a per-row function's struct computes the function once.
    #[tokio::test]
    async fn struct_fields_do_not_repeat_the_call() {
        let engine = EmbeddedEngine::new(PathBuf::from("unused"));
        let sql = "explain select f['a'] as a, f['b'] as b from \
                   (select named_struct('a', sentiment(t), 'b', sentiment(t) > 0) as f from (values ('fine')) as v(t)) as u";
        let batches = engine.context().sql(sql).await.expect("plan").collect().await.expect("explain");
        let plan = datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string();
        let physical = plan.split("physical_plan").nth(1).expect("a physical plan");
        assert_eq!(physical.matches("named_struct(").count(), 1, "{plan}");
    }

    /// Under a memory limit an aggregate of 300,000 groups spills to disk and gives the same
    /// answer; a limit too small for any batch fails with an error that says what to change.
    #[tokio::test]
    async fn a_memory_limit_spills_and_then_says_so() {
        let sql = "select count(*) as groups, sum(n) as rows from \
                   (select md5(cast(v as varchar)) as h, count(*) as n from generate_series(1, 300000) as t(v) group by h) as g";
        let run = |engine: EmbeddedEngine| async move {
            let df = engine.context().sql(sql).await.map_err(|e| Error::datafusion(sql, e))?;
            df.collect().await.map_err(|e| Error::datafusion(sql, e))
        };
        let unlimited = run(EmbeddedEngine::new(PathBuf::from("unused"))).await.expect("aggregated");
        let limited = EmbeddedEngine::with_memory_limit(PathBuf::from("unused"), 8 << 20).expect("a pool");
        let analyzed = limited.context().sql(&format!("explain analyze {sql}")).await.expect("plan");
        let plan = datafusion::arrow::util::pretty::pretty_format_batches(&analyzed.collect().await.expect("analyze"))
            .expect("format")
            .to_string();
        let spills: usize = plan
            .split("spill_count=")
            .skip(1)
            .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok())
            .sum();
        assert!(spills > 0, "the aggregate spilled: {plan}");
        let spilled = run(limited).await.expect("aggregated within 8 MiB");
        let rows = |batches: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(batches).unwrap().to_string()
        };
        assert_eq!(rows(&spilled), rows(&unlimited));
        let tiny = EmbeddedEngine::with_memory_limit(PathBuf::from("unused"), 4 << 10).expect("a pool");
        let err = run(tiny).await.expect_err("4 KiB holds no batch").to_string();
        assert!(err.contains("Resources exhausted") && err.contains("raise --memory-limit"), "{err}");
    }
}
