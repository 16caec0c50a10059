//! The identity functions in DataFusion: `conversation_id(source, source_id)`,
//! `normalize_identifier(kind, value [, region])`, and `stitch_identity(query [, settings])` as a
//! table function.
//!
//! `stitch_identity`'s query is planned in the calling session; its rows (a `record_id` column
//! and attribute columns, any type, read as text) go, all in one partition, to
//! `convlytics_core::identity::stitch` in a [`StitchExec`], and one row per record comes back. PostgreSQL's
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
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{exec_datafusion_err, internal_err, plan_datafusion_err, Result};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, SessionState, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{collect, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, PlanProperties};

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
            return Ok(Arc::new(StitchTable { input: None, settings: String::new() }));
        };
        Settings::from_json(&settings).map_err(|e| refused(NAME, e))?;
        let state = args
            .session()
            .as_any()
            .downcast_ref::<SessionState>()
            .ok_or_else(|| plan_datafusion_err!("{NAME} needs a DataFusion SessionState"))?;
        // Planning resolves the query's tables from the session's catalog, which answers at once:
        // the future completes without a runtime.
        let input = futures_executor::block_on(state.create_logical_plan(&query))
            .map_err(|e| plan_datafusion_err!("{NAME}: the query does not plan: {e}"))?;
        Ok(Arc::new(StitchTable { input: Some(input), settings }))
    }
}

const NAME: &str = "stitch_identity";

/// The rows of one `stitch_identity` call: its query's plan and settings (JSON), stitched when
/// scanned by a [`StitchExec`]; no rows without a query.
#[derive(Debug, Clone)]
pub(crate) struct StitchTable {
    /// The query's plan; `None` for a NULL argument.
    pub input: Option<LogicalPlan>,
    /// The settings as given (JSON, empty for the defaults).
    pub settings: String,
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
        let Some(input) = &self.input else {
            return Ok(MemorySourceConfig::try_new_exec(&[vec![]], schema(spec(NAME)), projection.cloned())?);
        };
        let input = state.create_physical_plan(input).await?;
        Ok(Arc::new(StitchExec::try_new(input, self.settings.clone(), projection.cloned())?))
    }
}

/// Stitches all the rows of its input (one partition: the clustering is global) into one
/// batch, one row per record, on a blocking thread that stops when the query is cancelled.
#[derive(Debug)]
pub(crate) struct StitchExec {
    input: Arc<dyn ExecutionPlan>,
    settings: String,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl StitchExec {
    /// Stitches `input`'s rows under `settings` (JSON), keeping the `projection` columns.
    pub(crate) fn try_new(
        input: Arc<dyn ExecutionPlan>,
        settings: String,
        projection: Option<Vec<usize>>,
    ) -> Result<Self> {
        let full = schema(spec(NAME));
        let schema = match &projection {
            Some(p) => Arc::new(full.project(p)?),
            None => full,
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Ok(Self { input, settings, projection, properties })
    }

    /// The settings (JSON) and the kept columns, as a codec writes them.
    pub(crate) fn parts(&self) -> (&str, Option<&[usize]>) {
        (&self.settings, self.projection.as_deref())
    }
}

impl DisplayAs for StitchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "StitchExec")
    }
}

impl ExecutionPlan for StitchExec {
    fn name(&self) -> &str {
        "StitchExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("StitchExec has one input, got {}", children.len());
        }
        Ok(Arc::new(Self::try_new(children.remove(0), self.settings.clone(), self.projection.clone())?))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("StitchExec has one partition, asked for {partition}");
        }
        let input = self.input.clone();
        let settings = Settings::from_json(&self.settings).map_err(|e| refused(NAME, e))?;
        let projection = self.projection.clone();
        let schema = self.properties.eq_properties.schema().clone();
        let stitched = futures_util::stream::once(async move {
            let input_schema = input.schema();
            let batches = collect(input, context).await?;
            let records = record_set(&input_schema, &batches)?;
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
            Ok(match &projection {
                Some(p) => batch.project(p)?,
                None => batch,
            })
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stitched)))
    }
}

/// Sets its flag when dropped: a cancelled query drops the stream, and the stitching on the
/// blocking thread then stops instead of running to the end.
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
