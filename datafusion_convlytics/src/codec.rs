//! Plans with convlytics parts as bytes, for an engine that plans in one process and runs in
//! others (Ballista: a client, a scheduler, executors).
//!
//! What DataFusion's protobuf codec cannot write by itself, [`Codec`] writes, and hands every
//! other node to the codecs it wraps:
//!
//! * a taxonomy function (`classify_intent`, `tag_topics`, ...) carries the taxonomies of the
//!   session that planned it, so an executor classifies with the same taxonomy versions as the
//!   client, whatever it has registered; the registry an executor builds from them is kept for
//!   the next plan with the same ones;
//! * an in-memory table (a seed's rows, a table function over constants) carries its rows as
//!   Arrow IPC;
//! * `stitch_identity` carries its settings and its query's plan, and runs as a [`StitchExec`]
//!   of one partition on one executor: the clustering is global.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use convlytics_core::taxonomy::{Registry, Taxonomy};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::{internal_datafusion_err, not_impl_err, DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::MemTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::bytes::{
    logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::identity::{StitchExec, StitchTable};
use crate::udf::Udf;

/// The first bytes of everything [`Codec`] writes, then one byte for what follows.
const MAGIC: &[u8] = b"convlytics\x01";
const TAXONOMIES: u8 = 1;
const ROWS: u8 = 2;
const STITCH_TABLE: u8 = 3;
const STITCH_EXEC: u8 = 4;

/// How many taxonomy sets an executor keeps compiled registries of.
const KEPT_REGISTRIES: usize = 16;

/// The convlytics extension codec: taxonomy functions, in-memory tables and `stitch_identity`,
/// over the logical and physical codecs of the engine that runs the plans.
#[derive(Debug)]
pub struct Codec {
    logical: Arc<dyn LogicalExtensionCodec>,
    physical: Arc<dyn PhysicalExtensionCodec>,
}

impl Codec {
    /// A codec that writes convlytics parts itself and everything else with `logical` and
    /// `physical` (e.g. Ballista's own codecs).
    pub fn new(logical: Arc<dyn LogicalExtensionCodec>, physical: Arc<dyn PhysicalExtensionCodec>) -> Self {
        Self { logical, physical }
    }
}

/// `part` tagged as convlytics bytes.
fn tag(part: u8, buf: &mut Vec<u8>) {
    buf.extend_from_slice(MAGIC);
    buf.push(part);
}

/// What a convlytics buffer holds and its body, or `None` for another codec's bytes.
fn tagged(buf: &[u8]) -> Option<(u8, &[u8])> {
    let rest = buf.strip_prefix(MAGIC)?;
    rest.split_first().map(|(part, body)| (*part, body))
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> DataFusionError {
    internal_datafusion_err!("convlytics codec: cannot read {what}: {e}")
}

/// A length-prefixed piece of a buffer, and what follows it.
fn split_piece(body: &[u8]) -> Result<(&[u8], &[u8])> {
    let (len, rest) = body.split_first_chunk::<8>().ok_or_else(|| corrupt("a length", "too short"))?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|e| corrupt("a length", e))?;
    if rest.len() < len {
        return Err(corrupt("a piece", "too short"));
    }
    Ok(rest.split_at(len))
}

fn push_piece(piece: &[u8], buf: &mut Vec<u8>) {
    buf.extend_from_slice(&(piece.len() as u64).to_le_bytes());
    buf.extend_from_slice(piece);
}

/// The convlytics functions bound to one registry, by name.
type Functions = Arc<HashMap<String, Arc<ScalarUDF>>>;

/// The functions built from taxonomy sets, by the sets' bytes.
static REGISTRIES: Mutex<Vec<(Vec<u8>, Functions)>> = Mutex::new(Vec::new());

/// The convlytics functions bound to a registry of the taxonomies `body` holds (JSON).
fn functions_with(body: &[u8]) -> Result<Functions> {
    let mut kept = REGISTRIES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, functions)) = kept.iter().find(|(key, _)| key.as_slice() == body) {
        return Ok(functions.clone());
    }
    let taxonomies: Vec<Taxonomy> = serde_json::from_slice(body).map_err(|e| corrupt("taxonomies", e))?;
    let registry = Arc::new(Registry::new());
    for taxonomy in taxonomies {
        registry.register(taxonomy);
    }
    let functions: HashMap<String, Arc<ScalarUDF>> =
        crate::udfs(&registry).into_iter().map(|f| (f.name().to_owned(), Arc::new(f))).collect();
    let functions = Arc::new(functions);
    if kept.len() >= KEPT_REGISTRIES {
        kept.remove(0);
    }
    kept.push((body.to_vec(), functions.clone()));
    Ok(functions)
}

fn encode_udf(node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<bool> {
    let Some(udf) = node.inner().as_ref().downcast_ref::<Udf>() else { return Ok(false) };
    let Some(taxonomies) = udf.taxonomies() else { return Ok(false) };
    tag(TAXONOMIES, buf);
    let list: Vec<&Taxonomy> = taxonomies.iter().map(Arc::as_ref).collect();
    serde_json::to_writer(buf, &list).map_err(|e| corrupt("taxonomies", e))?;
    Ok(true)
}

fn decode_udf(name: &str, buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    let (TAXONOMIES, body) = tagged(buf)? else { return None };
    Some(functions_with(body).and_then(|functions| {
        functions
            .get(name)
            .cloned()
            .ok_or_else(|| corrupt("a function", format!("{name} is not a convlytics function")))
    }))
}

/// An in-memory table's rows as Arrow IPC.
fn encode_rows(table: &MemTable, buf: &mut Vec<u8>) -> Result<()> {
    tag(ROWS, buf);
    let mut writer = StreamWriter::try_new(buf, &table.schema())?;
    for partition in &table.batches {
        let batches = partition
            .try_read()
            .map_err(|_| DataFusionError::Execution("an in-memory table is being written while planned".into()))?;
        for batch in batches.iter() {
            writer.write(batch)?;
        }
    }
    writer.finish()?;
    Ok(())
}

fn decode_rows(body: &[u8], schema: SchemaRef) -> Result<Arc<dyn TableProvider>> {
    let reader = StreamReader::try_new(Cursor::new(body), None)?;
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}

impl LogicalExtensionCodec for Codec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.logical.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.logical.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match tagged(buf) {
            Some((ROWS, body)) => decode_rows(body, schema),
            Some((STITCH_TABLE, body)) => {
                let (settings, plan) = split_piece(body)?;
                let settings = String::from_utf8(settings.to_vec()).map_err(|e| corrupt("settings", e))?;
                let input = match plan.is_empty() {
                    true => None,
                    false => Some(logical_plan_from_bytes_with_extension_codec(plan, ctx, self)?),
                };
                Ok(Arc::new(StitchTable { input, settings }))
            }
            Some((part, _)) => Err(corrupt("a table", format!("part {part}"))),
            None => self.logical.try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(table) = node.as_ref().downcast_ref::<MemTable>() {
            return encode_rows(table, buf);
        }
        if let Some(table) = node.as_ref().downcast_ref::<StitchTable>() {
            tag(STITCH_TABLE, buf);
            push_piece(table.settings.as_bytes(), buf);
            if let Some(input) = &table.input {
                buf.extend_from_slice(&logical_plan_to_bytes_with_extension_codec(input, self)?);
            }
            return Ok(());
        }
        let name = provider_name(&node);
        self.logical.try_encode_table_provider(table_ref, node, buf).map_err(|e| {
            DataFusionError::NotImplemented(format!(
                "table {table_ref} cannot be sent to the cluster: its provider ({name}) has no codec ({e})"
            ))
        })
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.logical.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.logical.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.logical.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_udf(node, buf)? {
            return Ok(());
        }
        self.logical.try_encode_udf(node, buf)
    }
}

/// The type name of a table provider, for an error.
fn provider_name(node: &Arc<dyn TableProvider>) -> String {
    format!("{node:?}").split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("?").to_owned()
}

impl PhysicalExtensionCodec for Codec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match tagged(buf) {
            Some((STITCH_EXEC, body)) => {
                let [input] = inputs else { return Err(corrupt("StitchExec", "it has one input")) };
                let (settings, projection) = split_piece(body)?;
                let settings = String::from_utf8(settings.to_vec()).map_err(|e| corrupt("settings", e))?;
                let projection: Option<Vec<usize>> =
                    serde_json::from_slice(projection).map_err(|e| corrupt("a projection", e))?;
                Ok(Arc::new(StitchExec::try_new(input.clone(), settings, projection)?))
            }
            Some((part, _)) => Err(corrupt("a plan node", format!("part {part}"))),
            None => self.physical.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let Some(stitch) = node.downcast_ref::<StitchExec>() else {
            return self.physical.try_encode(node, buf, proto_converter);
        };
        let (settings, projection) = stitch.parts();
        tag(STITCH_EXEC, buf);
        push_piece(settings.as_bytes(), buf);
        serde_json::to_writer(buf, &projection).map_err(|e| corrupt("a projection", e))?;
        Ok(())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.physical.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_udf(node, buf)? {
            return Ok(());
        }
        self.physical.try_encode_udf(node, buf)
    }
}

/// A codec that handles only convlytics parts: the one a single process uses to check that a
/// plan survives the trip.
#[derive(Debug)]
struct NoOther;

impl LogicalExtensionCodec for NoOther {
    fn try_decode(&self, _buf: &[u8], _inputs: &[LogicalPlan], _ctx: &TaskContext) -> Result<Extension> {
        not_impl_err!("no codec for this extension node")
    }

    fn try_encode(&self, _node: &Extension, _buf: &mut Vec<u8>) -> Result<()> {
        not_impl_err!("no codec for this extension node")
    }

    fn try_decode_table_provider(
        &self,
        _buf: &[u8],
        table_ref: &TableReference,
        _schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        not_impl_err!("no codec for table {table_ref}")
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        _node: Arc<dyn TableProvider>,
        _buf: &mut Vec<u8>,
    ) -> Result<()> {
        not_impl_err!("no codec for table {table_ref}")
    }
}

impl PhysicalExtensionCodec for NoOther {
    fn try_decode(
        &self,
        _buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        not_impl_err!("no codec for this plan node")
    }

    fn try_encode(
        &self,
        _node: Arc<dyn ExecutionPlan>,
        _buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        not_impl_err!("no codec for this plan node")
    }
}

impl Default for Codec {
    /// Convlytics parts only; any other extension is an error.
    fn default() -> Self {
        Self::new(Arc::new(NoOther), Arc::new(NoOther))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use convlytics_core::taxonomy::{parse_one, Registry};
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
        physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
    };

    use super::Codec;

    /// A session with the convlytics functions bound to an empty registry, as a scheduler's or
    /// an executor's is.
    fn remote() -> SessionContext {
        let ctx = SessionContext::new();
        for udf in crate::udfs(&Arc::new(Registry::new())) {
            ctx.register_udf(udf);
        }
        ctx
    }

    /// `sql` planned in a client session, its logical plan re-planned from bytes by a
    /// "scheduler", its physical plan run from bytes by an "executor": the rows, sorted.
    async fn across_processes(client: &SessionContext, sql: &str) -> String {
        let codec = Codec::default();
        let plan = client.sql(sql).await.expect("plan").into_optimized_plan().expect("optimize");
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &codec).expect("encode the logical plan");
        let scheduler = remote();
        let decoded =
            logical_plan_from_bytes_with_extension_codec(&bytes, &scheduler.task_ctx(), &codec).expect("decode it");
        let physical = scheduler.state().create_physical_plan(&decoded).await.expect("physical plan");
        let bytes = physical_plan_to_bytes_with_extension_codec(physical, &codec).expect("encode the physical plan");
        let executor = remote();
        let task = executor.task_ctx();
        let physical = physical_plan_from_bytes_with_extension_codec(&bytes, &task, &codec).expect("decode it");
        let batches = collect(physical, task).await.expect("run");
        let mut lines: Vec<String> =
            pretty_format_batches(&batches).unwrap().to_string().lines().map(String::from).collect();
        lines.sort();
        lines.join("\n")
    }

    async fn here(client: &SessionContext, sql: &str) -> String {
        let batches = client.sql(sql).await.expect("plan").collect().await.expect("run");
        let mut lines: Vec<String> =
            pretty_format_batches(&batches).unwrap().to_string().lines().map(String::from).collect();
        lines.sort();
        lines.join("\n")
    }

    #[tokio::test]
    async fn taxonomies_rows_and_stitching_survive_the_trip() {
        let client = SessionContext::new();
        let registry = crate::register(&client);
        registry.register(
            parse_one("{name: t, intents: [{name: late, keywords: [late]}, {name: lost, keywords: [lost]}]}").unwrap(),
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("email", DataType::Utf8, true),
        ]));
        let ids = StringArray::from(vec!["c", "a", "b", "d"]);
        let emails = StringArray::from(vec![Some("x@example.com"), Some("X@Example.com"), None, Some("y@example.com")]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(ids), Arc::new(emails)]).unwrap();
        client.register_batch("people", batch).unwrap();
        for sql in [
            "select v, classify_intent(v, 't') as i from (values ('it is late'), ('my parcel is lost'), ('hello')) as x(v)",
            "select record_id, email from people",
            "select record_id, cluster_key, linked_to, rule from stitch_identity('select record_id, email from people')",
            "select count(*) as n from parse_transcript('Agent: Hello\nCustomer: My parcel is late', 'plain')",
        ] {
            let expected = here(&client, sql).await;
            assert_eq!(across_processes(&client, sql).await, expected, "{sql}");
        }
        let classified = here(&client, "select classify_intent('it is late', 't') as i").await;
        assert!(classified.contains("late"), "{classified}");
    }

    #[test]
    fn corrupt_bytes_are_an_error_not_a_panic() {
        use datafusion::arrow::datatypes::SchemaRef;
        use datafusion::common::TableReference;
        use datafusion_proto::logical_plan::LogicalExtensionCodec;
        let codec = Codec::default();
        let ctx = SessionContext::new();
        let task = ctx.task_ctx();
        let schema: SchemaRef = Arc::new(Schema::empty());
        let table = TableReference::bare("t");
        let tagged = |part: u8, body: &[u8]| [super::MAGIC, &[part], body].concat();
        for buf in [
            tagged(super::STITCH_TABLE, &[]),
            tagged(super::STITCH_TABLE, &u64::MAX.to_le_bytes()),
            tagged(super::STITCH_TABLE, &[5, 0, 0, 0, 0, 0, 0, 0, 0xff]),
            tagged(super::ROWS, b"not arrow"),
            tagged(99, b""),
            super::MAGIC.to_vec(),
        ] {
            let err = codec.try_decode_table_provider(&buf, &table, schema.clone(), &task);
            assert!(err.is_err(), "{buf:?}");
        }
        let err = codec.try_decode_udf("classify_intent", &tagged(super::TAXONOMIES, b"[{"));
        assert!(err.unwrap_err().to_string().contains("cannot read taxonomies"));
        let err = codec.try_decode_udf("no_such_function", &tagged(super::TAXONOMIES, b"[]"));
        assert!(err.unwrap_err().to_string().contains("no_such_function is not a convlytics function"));
    }

    #[tokio::test]
    async fn a_taxonomy_function_without_the_codec_finds_no_taxonomy() {
        let client = SessionContext::new();
        crate::register(&client).register(parse_one("{name: t, intents: [{name: late, keywords: [late]}]}").unwrap());
        let sql = "select classify_intent(v, 't') as i from (values ('it is late')) as x(v)";
        let plan = client.sql(sql).await.unwrap().into_optimized_plan().unwrap();
        let bytes = datafusion_proto::bytes::logical_plan_to_bytes(&plan).expect("encode by name only");
        let scheduler = remote();
        let decoded = datafusion_proto::bytes::logical_plan_from_bytes(&bytes, &scheduler.task_ctx()).expect("decode");
        let err = scheduler.execute_logical_plan(decoded).await.unwrap().collect().await.unwrap_err();
        assert!(err.to_string().contains("no taxonomy named 't'"), "{err}");
    }
}
