//! The identity functions in DataFusion: `conversation_id(source, source_id)`,
//! `normalize_identifier(kind, value [, region])`, and `stitch_identity(query [, settings])` as a
//! table function.
//!
//! `stitch_identity`'s query runs in the calling session when the table is scanned; its rows (a
//! `record_id` column and attribute columns, any type, read as text) go to
//! `convlytics_core::identity::stitch`, and one row per record comes back. PostgreSQL's
//! `convlytics.stitch_identity` has the same arguments and columns.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use convlytics_core::identity::{normalize_identifier_text, stitch_until, QueryRecords, RecordSet, Settings, Stitched};
use convlytics_core::taxonomy::Registry;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{exec_datafusion_err, Result};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::TableType;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, ScalarUDF};
use datafusion::physical_plan::{collect, ExecutionPlan};

use crate::error::{failed, refused};
use crate::udf::{literal_args, schema, spec, Udf};

/// The scalar identity functions.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![
        Udf::text("conversation_id", session, |_, a| {
            Ok(Some(convlytics_core::conversation_id(a[0], a[1]).to_string()))
        }),
        Udf::text("normalize_identifier", session, |_, a| normalize_identifier_text(a[0], a[1], a.get(2).copied())),
    ]
}

/// The table function `stitch_identity(query text [, settings text])`.
#[derive(Debug)]
pub(crate) struct StitchIdentity;

impl TableFunctionImpl for StitchIdentity {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let mut values = literal_args(spec(NAME), args.exprs())?;
        values.resize(2, Some(String::new()));
        // STRICT, as on PostgreSQL: a NULL argument gives no rows.
        let (Some(query), Some(settings)) = (values[0].take(), values[1].take()) else {
            return Ok(Arc::new(StitchTable { query: None, settings: Settings::default() }));
        };
        let settings = Settings::from_json(&settings).map_err(|e| refused(NAME, e))?;
        Ok(Arc::new(StitchTable { query: Some(query), settings }))
    }
}

const NAME: &str = "stitch_identity";

/// The rows of one `stitch_identity` call, computed when scanned; no rows without a query.
#[derive(Debug)]
struct StitchTable {
    query: Option<String>,
    settings: Settings,
}

#[async_trait]
impl TableProvider for StitchTable {
    fn schema(&self) -> SchemaRef {
        schema(spec(NAME))
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
            .ok_or_else(|| exec_datafusion_err!("{NAME} needs a DataFusion SessionState"))?;
        let Some(query) = &self.query else {
            return Ok(MemorySourceConfig::try_new_exec(&[vec![]], schema(spec(NAME)), projection.cloned())?);
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
        .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))?;
        let stitched = stitched.map_err(|e| failed(NAME, e))?;
        let batch = output(&records, &stitched)?;
        Ok(MemorySourceConfig::try_new_exec(&[vec![batch]], schema(spec(NAME)), projection.cloned())?)
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
    let fail = |e: convlytics_core::Error| failed(NAME, e);
    let mut records = QueryRecords::new(&names).map_err(|e| refused(NAME, e))?;
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
    Ok(RecordBatch::try_new(schema(spec(NAME)), columns)?)
}
