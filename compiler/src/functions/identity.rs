//! `stitch_identity(query, settings)`: identity stitching as a DataFusion table function.
//!
//! The query runs in the calling session when the table is scanned; its rows (a `record_id`
//! column and attribute columns, any type, read as text) go to `convlytics_core::identity::stitch`,
//! and one row per record comes back. PostgreSQL's `convlytics.stitch_identity` has the same
//! arguments and columns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use convlytics_core::identity::{stitch_until, QueryRecords, RecordSet, Settings, Stitched};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{exec_datafusion_err, plan_err, DataFusionError, Result};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::TableType;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::{collect, ExecutionPlan};

use super::string_literal;

/// The output columns, the same on both engines.
static OUTPUT: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("record_id", DataType::Utf8, false),
        Field::new("cluster_key", DataType::Utf8, false),
        Field::new("linked_to", DataType::Utf8, true),
        Field::new("rule", DataType::Utf8, true),
        Field::new("match_weight", DataType::Float64, true),
        Field::new("match_probability", DataType::Float64, true),
    ]))
});

/// The table function `stitch_identity(query text [, settings text])`.
#[derive(Debug)]
pub struct StitchIdentity;

impl TableFunctionImpl for StitchIdentity {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.is_empty() || exprs.len() > 2 {
            return plan_err!("stitch_identity(query [, settings]) takes one or two arguments, got {}", exprs.len());
        }
        let query = string_literal(&exprs[0], "stitch_identity", 1)?;
        let settings = match exprs.get(1) {
            Some(e) => string_literal(e, "stitch_identity", 2)?,
            None => Some(String::new()),
        };
        // STRICT, as on PostgreSQL: a NULL argument gives no rows.
        let (Some(query), Some(settings)) = (query, settings) else {
            return Ok(Arc::new(StitchTable { query: None, settings: Settings::default() }));
        };
        let settings =
            Settings::from_json(&settings).map_err(|e| DataFusionError::Plan(format!("stitch_identity: {e}")))?;
        Ok(Arc::new(StitchTable { query: Some(query), settings }))
    }
}

/// The rows of one `stitch_identity` call, computed when scanned; no rows without a query.
#[derive(Debug)]
struct StitchTable {
    query: Option<String>,
    settings: Settings,
}

#[async_trait]
impl TableProvider for StitchTable {
    fn schema(&self) -> SchemaRef {
        OUTPUT.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = state
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| exec_datafusion_err!("stitch_identity needs a DataFusion SessionState"))?;
        let Some(query) = &self.query else {
            return Ok(MemorySourceConfig::try_new_exec(&[vec![]], OUTPUT.clone(), projection.cloned())?);
        };
        let plan = state.create_logical_plan(query).await?;
        let batches = collect(state.create_physical_plan(&plan).await?, state.task_ctx()).await?;
        let records = record_set(plan.schema().as_arrow(), &batches)?;
        let settings = self.settings.clone();
        let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
        let flag = cancel.0.clone();
        let (records, stitched) = tokio::task::spawn_blocking(move || {
            let stitched = stitch_until(&records, &settings, &flag);
            (records, stitched)
        })
        .await
        .map_err(|e| exec_datafusion_err!("stitch_identity: {e}"))?;
        let stitched = stitched.map_err(|e| exec_datafusion_err!("stitch_identity: {e}"))?;
        let batch = output(&records, &stitched)?;
        Ok(MemorySourceConfig::try_new_exec(&[vec![batch]], OUTPUT.clone(), projection.cloned())?)
    }
}

/// Sets its flag when dropped: a cancelled query drops the scan future, and the stitching on
/// the blocking thread then stops instead of running to the end.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The query's rows as records, every column cast to text.
fn record_set(schema: &Schema, batches: &[RecordBatch]) -> Result<RecordSet> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let fail = |e: convlytics_core::Error| exec_datafusion_err!("stitch_identity: {e}");
    let mut records = QueryRecords::new(&names).map_err(|e| DataFusionError::Plan(format!("stitch_identity: {e}")))?;
    for batch in batches {
        let text: Vec<ArrayRef> = batch.columns().iter().map(|c| cast(c, &DataType::Utf8)).collect::<Result<_, _>>()?;
        let text: Vec<&StringArray> = text.iter().map(|c| c.as_string::<i32>()).collect();
        let mut row: Vec<Option<&str>> = Vec::with_capacity(names.len());
        for i in 0..batch.num_rows() {
            row.clear();
            row.extend(text.iter().map(|c| c.is_valid(i).then(|| c.value(i))));
            records.push(&row).map_err(fail)?;
        }
    }
    Ok(records.finish())
}

fn output(records: &RecordSet, stitched: &Stitched) -> Result<RecordBatch> {
    let a = &stitched.assignments;
    let ids = StringArray::from_iter_values((0..records.len()).map(|i| records.id(i)));
    let keys = StringArray::from_iter_values(a.iter().map(|x| x.cluster_key.as_str()));
    let linked: StringArray = a.iter().map(|x| x.linked_to.map(|i| records.id(i))).collect();
    let rules: StringArray = a.iter().map(|x| x.rule.as_deref()).collect();
    let weights: Float64Array = a.iter().map(|x| x.match_weight).collect();
    let probabilities: Float64Array = a.iter().map(|x| x.match_probability).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(keys),
        Arc::new(linked),
        Arc::new(rules),
        Arc::new(weights),
        Arc::new(probabilities),
    ];
    Ok(RecordBatch::try_new(OUTPUT.clone(), columns)?)
}
