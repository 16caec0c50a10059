//! Real time on the embedded engine: `convlytics watch` follows the raw data directory in
//! micro-batches. Each batch takes the complete lines that appeared in its JSON-lines files (a
//! half-written last line waits for the next batch), lands them in the warehouse, runs the
//! chain's [`Plan`](super::Chain::plan) on them, rebuilds the models downstream (marts), writes
//! the alerts, and records how far it read, all in one [`Generation`]: a batch is published
//! whole or not at all, so a killed watcher reads nothing twice and misses nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::prelude::{JsonReadOptions, SessionContext};

use crate::compile::{compile, CompileOptions};
use crate::engine::generation::{BuildLock, Generation};
use crate::engine::{EmbeddedEngine, Engine};
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::Project;
use crate::realtime::{Action, Chain, Scope};
use crate::render::Relation;

/// The schema an arrival's relations are kept under in the session.
const SCOPE_SCHEMA: &str = "convlytics_realtime";
/// The most a batch reads of the files (a backlog is taken in several batches).
const MAX_BATCH_BYTES: u64 = 64 << 20;
/// The warehouse directory of the watcher's own state.
const STATE_DIR: &str = "_realtime";

/// In-memory tables of the session hold an arrival's relations.
pub struct MemoryScope;

impl Scope for MemoryScope {
    fn relation(&self, name: &str) -> Relation {
        Relation { schema: SCOPE_SCHEMA.into(), identifier: name.to_owned() }
    }
}

/// How far the watcher has read: each file's byte offset after its last complete line taken.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// Batches published.
    pub batches: u64,
    /// Byte offsets by file name.
    pub files: BTreeMap<String, u64>,
}

impl Checkpoint {
    fn path(warehouse: &Path) -> PathBuf {
        warehouse.join(STATE_DIR).join("checkpoint.json")
    }

    /// The checkpoint published in `warehouse`, if any.
    pub fn read(warehouse: &Path) -> Result<Option<Self>> {
        let path = Self::path(warehouse);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::Input { path, message: format!("not a watcher checkpoint: {e}") }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    fn write(&self, warehouse: &Path) -> Result<()> {
        let path = Self::path(warehouse);
        let text = serde_json::to_string_pretty(self).expect("a checkpoint serializes");
        let aside = path.with_extension("json.part");
        std::fs::write(&aside, text).map_err(|e| Error::io(&aside, e))?;
        std::fs::rename(&aside, &path).map_err(|e| Error::io(&path, e))
    }
}

/// The complete lines new since `checkpoint` in the JSON-lines files of `dir` (sorted by name),
/// up to about [`MAX_BATCH_BYTES`], with the offsets they reach. A file shorter than its checkpoint (truncated or replaced) is
/// left alone, with a warning: raw files are appended to, never rewritten.
pub fn scan(dir: &Path, checkpoint: &Checkpoint) -> Result<(Vec<u8>, BTreeMap<String, u64>)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "jsonl" || e == "json"))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    let mut chunk = Vec::new();
    let mut offsets = checkpoint.files.clone();
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let from = checkpoint.files.get(&name).copied().unwrap_or(0);
        let len = std::fs::metadata(&file).map_err(|e| Error::io(&file, e))?.len();
        if len < from {
            eprintln!(
                "warning: {} is shorter than when it was last read ({len} < {from} bytes): left alone",
                file.display()
            );
            continue;
        }
        if len == from {
            continue;
        }
        if chunk.len() as u64 >= MAX_BATCH_BYTES {
            break;
        }
        let mut reader = std::fs::File::open(&file).map_err(|e| Error::io(&file, e))?;
        reader.seek(SeekFrom::Start(from)).map_err(|e| Error::io(&file, e))?;
        // A backlog is taken a batch at a time; a line longer than that is taken whole.
        let limit = (len - from).min(MAX_BATCH_BYTES - chunk.len() as u64);
        let mut bytes = Vec::with_capacity(limit as usize);
        (&mut reader).take(limit).read_to_end(&mut bytes).map_err(|e| Error::io(&file, e))?;
        if limit < len - from && !bytes.contains(&b'\n') {
            reader.read_to_end(&mut bytes).map_err(|e| Error::io(&file, e))?;
        }
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else { continue };
        chunk.extend_from_slice(&bytes[..=end]);
        offsets.insert(name, from + end as u64 + 1);
    }
    Ok((chunk, offsets))
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct Batch {
    /// The batch's number.
    pub number: u64,
    /// Raw records taken.
    pub records: usize,
    /// Lines that were not JSON objects, with the reason (quarantined once the project is built;
    /// the lines are kept under the warehouse's `_realtime/rejected/`).
    pub rejected: Vec<(String, String)>,
    /// Whether it built the whole project (the first batch).
    pub full: bool,
    /// Records whose enrichment failed (quarantined with the reason).
    pub failed: usize,
    /// Alerts fired: rule, severity, conversation and detail.
    pub alerts: Vec<[String; 4]>,
    /// Seconds from the batch's start to its publication.
    pub seconds: f64,
}

/// Follows `dir` until `stop` is set, running a batch whenever complete lines arrive (checking
/// every `interval`), and reports each batch to `report`.
pub async fn watch(
    project: &Project,
    target: &Target,
    vars: &BTreeMap<String, serde_yaml::Value>,
    dir: &Path,
    interval: Duration,
    stop: Arc<AtomicBool>,
    mut report: impl FnMut(&Batch),
) -> Result<()> {
    super::spec(project)?;
    let target_dir = project.target_dir();
    let lock = BuildLock::acquire(&target_dir)?;
    while !stop.load(Ordering::Relaxed) {
        let warehouse = target_dir.join("warehouse");
        let checkpoint = Checkpoint::read(&warehouse)?;
        let (chunk, offsets) = scan(dir, checkpoint.as_ref().unwrap_or(&Checkpoint::default()))?;
        if chunk.is_empty() {
            tokio::time::sleep(interval).await;
            continue;
        }
        let started = Instant::now();
        let generation = Generation::start(&target_dir, &lock)?;
        let mut batch = Batch::default();
        let next = Checkpoint { batches: checkpoint.as_ref().map_or(0, |c| c.batches) + 1, files: offsets };
        batch.number = next.batches;
        run_batch(project, target, vars, &generation.dir(), &chunk, &mut batch).await?;
        next.write(&generation.dir())?;
        generation.publish()?;
        batch.seconds = started.elapsed().as_secs_f64();
        report(&batch);
    }
    Ok(())
}

/// Lands `chunk` in the generation at `warehouse` and processes it.
async fn run_batch(
    project: &Project,
    target: &Target,
    vars: &BTreeMap<String, serde_yaml::Value>,
    warehouse: &Path,
    chunk: &[u8],
    batch: &mut Batch,
) -> Result<()> {
    let landed = warehouse.join(STATE_DIR).join("landed");
    std::fs::create_dir_all(&landed).map_err(|e| Error::io(&landed, e))?;
    // Until records have landed, there is nothing built to enrich into: the first batch with
    // records builds the whole project.
    batch.full = landed.read_dir().map_err(|e| Error::io(&landed, e))?.next().is_none();
    let (records, rejected) = split_lines(chunk);
    batch.records = records.len();
    batch.rejected = rejected;
    if !batch.rejected.is_empty() {
        let kept = warehouse.join(STATE_DIR).join("rejected");
        std::fs::create_dir_all(&kept).map_err(|e| Error::io(&kept, e))?;
        let lines: Vec<&str> = batch.rejected.iter().map(|(line, _)| line.as_str()).collect();
        let path = kept.join(format!("{:010}.jsonl", batch.number));
        std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| Error::io(&path, e))?;
    }
    if records.is_empty() && batch.full {
        return Ok(());
    }
    let file = landed.join(format!("{:010}.jsonl", batch.number));
    if !records.is_empty() {
        let mut text = records.join("\n");
        text.push('\n');
        std::fs::write(&file, text).map_err(|e| Error::io(&file, e))?;
    }
    let (mut engine, compiled) = open(project, target, vars, warehouse).await?;
    let (_, spec) = super::spec(project)?;
    let mut audited: Vec<String> = Vec::new();
    let mut failed: Vec<(Option<&str>, String)> =
        batch.rejected.iter().map(|(_, reason)| (None, reason.clone())).collect();
    let nodes: BTreeSet<String> = if batch.full {
        let models = compiled.models.iter().map(|m| m.name.clone());
        models.chain(compiled.seeds.iter().map(|s| s.name.clone())).collect()
    } else if records.is_empty() {
        BTreeSet::new()
    } else {
        let chain = Chain::new(project, target, &compiled, &MemoryScope)?;
        match compute_arrival(embedded(&engine)?, &chain, &file).await {
            Ok(computed) => {
                write(embedded(&engine)?, &computed).await?;
                batch.alerts = computed.alerts;
            }
            Err(e) => {
                // The batch as a whole failed (nothing was written). A failure an empty arrival
                // meets too is the project's (a rule naming a column that is not there), not the
                // records': stop, publishing and quarantining nothing. Otherwise each record on
                // its own, in a session of its own; one that still fails goes to quarantine.
                let single = warehouse.join(STATE_DIR).join("record.jsonl");
                if let (_, Err(broken)) = alone(project, target, vars, warehouse, &single, "").await? {
                    return Err(Error::Project(format!(
                        "realtime: batch {}: the chain fails on an empty arrival too, so the project is at fault, \
                         not its records (nothing was published): {broken}",
                        batch.number
                    )));
                }
                eprintln!("warning: batch {}: {e}\nwarning: enriching its records one by one", batch.number);
                for record in &records {
                    match alone(project, target, vars, warehouse, &single, &format!("{record}\n")).await? {
                        (engine, Ok(computed)) => {
                            write(embedded(&engine)?, &computed).await?;
                            batch.alerts.extend(computed.alerts);
                        }
                        (_, Err(e)) => failed.push((Some(record.as_str()), format!("realtime enrichment failed: {e}"))),
                    }
                }
                std::fs::remove_file(&single).map_err(|e| Error::io(&single, e))?;
                engine = open(project, target, vars, warehouse).await?.0;
            }
        }
        audited = chain.steps.iter().map(|s| s.name.clone()).collect();
        downstream(&compiled, &chain)
    };
    if !nodes.is_empty() {
        let steps = crate::run::plan(&compiled, &nodes, true, batch.full, &[]);
        let results = crate::run::execute(project, target, &steps, &mut engine, None, &BTreeSet::new()).await?;
        audited.extend(results.into_iter().filter(|r| r.resource_type == "model").map(|r| r.name));
    }
    batch.failed = failed.iter().filter(|(record, _)| record.is_some()).count();
    if !failed.is_empty() {
        let quarantine = compiled
            .models
            .iter()
            .find(|m| m.name == spec.quarantine.model)
            .ok_or_else(|| Error::Project(format!("realtime: no quarantine model '{}'", spec.quarantine.model)))?;
        quarantine_rows(embedded(&engine)?, &quarantine.relation, &spec.quarantine.column, &failed).await?;
    }
    // Each batch is a run of the audit trail: label_runs and label_history say what it labelled.
    crate::governance::audit::record(&mut engine, project, &compiled, &target.schema, &audited).await?;
    Ok(())
}

/// The embedded engine on the generation at `warehouse`, with the project compiled against it
/// and the landed records as its raw source.
async fn open(
    project: &Project,
    target: &Target,
    vars: &BTreeMap<String, serde_yaml::Value>,
    warehouse: &Path,
) -> Result<(Engine, crate::compile::Compiled)> {
    let engine = Engine::open_in(project, target, warehouse.to_path_buf()).await?;
    let existing = engine.relations().await?;
    let existing_sources = crate::cli::existing_sources(project, target, Some(&engine)).await?;
    let options = CompileOptions { vars: vars.clone(), existing, existing_sources, ..CompileOptions::default() };
    let compiled = compile(project, target, &options)?;
    engine.register_sources(&compiled).await?;
    let source = super::source(project, &compiled)?;
    register_json(embedded(&engine)?, &source, &warehouse.join(STATE_DIR).join("landed"), None).await?;
    Ok((engine, compiled))
}

/// The embedded engine of `engine`, or an error for another.
fn embedded(engine: &Engine) -> Result<&EmbeddedEngine> {
    match engine {
        Engine::Embedded(e) => Ok(e),
        _ => Err(Error::Project("convlytics watch runs on the embedded engine".into())),
    }
}

/// The chain computed on the records of `file` (an arrival), nothing written yet.
async fn compute_arrival(engine: &EmbeddedEngine, chain: &Chain, file: &Path) -> Result<Computed> {
    let source = engine.context().table(reference(&chain.source)).await;
    let schema = source.map_err(|e| Error::datafusion("reading the landed records", e))?.schema().as_arrow().clone();
    register_json(engine, &chain.new, file, Some(schema)).await?;
    compute(engine, chain).await
}

/// Computes an arrival of `records` (JSON lines, written to `file`) in an engine of its own on
/// the generation at `warehouse`; the outer error is the engine's, the inner the arrival's.
async fn alone(
    project: &Project,
    target: &Target,
    vars: &BTreeMap<String, serde_yaml::Value>,
    warehouse: &Path,
    file: &Path,
    records: &str,
) -> Result<(Engine, Result<Computed>)> {
    std::fs::write(file, records).map_err(|e| Error::io(file, e))?;
    let (engine, compiled) = open(project, target, vars, warehouse).await?;
    let chain = Chain::new(project, target, &compiled, &MemoryScope)?;
    let computed = compute_arrival(embedded(&engine)?, &chain, file).await;
    Ok((engine, computed))
}

/// The lines of `chunk` that are JSON objects, and the others (blank lines aside) with the reason.
fn split_lines(chunk: &[u8]) -> (Vec<String>, Vec<(String, String)>) {
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    for line in chunk.split(|b| *b == b'\n') {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(_)) => records.push(line.to_owned()),
            Ok(_) => rejected.push((line.to_owned(), "a raw line is JSON but not an object".to_owned())),
            Err(e) => rejected.push((line.to_owned(), format!("a raw line is not JSON: {e}"))),
        }
    }
    (records, rejected)
}

/// Registers the JSON-lines file or directory `path` as `relation`, with `schema` or the one
/// read from every record.
async fn register_json(
    engine: &EmbeddedEngine,
    relation: &Relation,
    path: &Path,
    schema: Option<datafusion::arrow::datatypes::Schema>,
) -> Result<()> {
    let context = format!("registering {}", path.display());
    engine.create_schema(&relation.schema).await?;
    let mut options = JsonReadOptions::default().file_extension(".jsonl");
    options.schema_infer_max_records = usize::MAX;
    if let Some(schema) = &schema {
        options = options.schema(schema);
    }
    let ctx = engine.context();
    ctx.deregister_table(reference(relation)).map_err(|e| Error::datafusion(&context, e))?;
    ctx.register_json(reference(relation), path.to_string_lossy(), options)
        .await
        .map_err(|e| Error::datafusion(&context, e))
}

fn reference(relation: &Relation) -> TableReference {
    TableReference::partial(relation.schema.as_str(), relation.identifier.as_str())
}

/// Keeps the rows of `sql` in memory as `relation`.
async fn keep(ctx: &SessionContext, relation: &Relation, sql: &str) -> Result<usize> {
    let context = format!("realtime: {relation}");
    let fail = |e| Error::datafusion(&context, e);
    let df = ctx.sql_with_options(sql, crate::engine::embedded::read_only()).await.map_err(fail)?;
    let planned = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(fail)?;
    // The batches' own schema: it may say more than the plan's (field metadata, nullability).
    let schema = batches.first().map_or(planned, |b| b.schema());
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let table = MemTable::try_new(schema, vec![batches]).map_err(fail)?;
    ctx.deregister_table(reference(relation)).map_err(fail)?;
    ctx.register_table(reference(relation), Arc::new(table)).map_err(fail)?;
    Ok(rows)
}

/// What an arrival's plan computed, not yet written.
struct Computed {
    /// Stored tables registered merged (as views), to write.
    merged: Vec<Relation>,
    /// The in-memory firings of each rule that fired.
    fired: Vec<(Relation, Relation)>,
    /// The alerts fired: rule, severity, conversation, detail.
    alerts: Vec<[String; 4]>,
}

/// Runs the chain's plan without writing anything: each model's rows of the arrival kept in
/// memory and merged into its stored table as a view (so later models read it merged), then the
/// alert rules' firings.
async fn compute(engine: &EmbeddedEngine, chain: &Chain) -> Result<Computed> {
    let ctx = engine.context();
    let mut computed = Computed { merged: Vec::new(), fired: Vec::new(), alerts: Vec::new() };
    for action in chain.plan() {
        match action {
            Action::Create { relation, sql } => {
                keep(ctx, &relation, &sql).await?;
            }
            Action::Merge { stored, scoped, key } => {
                let context = format!("realtime: merging into {stored}");
                let fail = |e| Error::datafusion(&context, e);
                let new = ctx.table(reference(&scoped)).await.map_err(fail)?;
                let view = engine.merged(&stored, &key, new).await.map_err(fail)?.into_view();
                ctx.deregister_table(reference(&stored)).map_err(fail)?;
                ctx.register_table(reference(&stored), view).map_err(fail)?;
                computed.merged.push(stored);
            }
            Action::Alert(alert) => {
                let table = reference(&alert.relation);
                if !ctx.table_exist(table).map_err(|e| Error::datafusion("realtime: the alerts table", e))? {
                    let empty = "select cast(null as varchar) as alert_id, cast(null as varchar) as rule,
                        cast(null as varchar) as severity, cast(null as varchar) as conversation_id,
                        cast(null as varchar) as model, cast(null as varchar) as detail, now() as fired_at
                        from (values (1)) as v(x) where x = 0";
                    keep(ctx, &alert.relation, empty).await?;
                }
                let fired = MemoryScope.relation(&format!("__fired_{}", alert.rule));
                if keep(ctx, &fired, &alert.select()).await? > 0 {
                    let read = format!("select rule, severity, conversation_id, coalesce(detail, '') from {fired}");
                    let rows = engine.rows(&read, "realtime: reading alerts").await?;
                    computed.alerts.extend(rows.into_iter().map(|r| {
                        let cell = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                        [cell(0), cell(1), cell(2), cell(3)]
                    }));
                    computed.fired.push((alert.relation.clone(), fired));
                }
            }
        }
    }
    Ok(computed)
}

/// Writes what [`compute`] computed: every merged table, then the alerts.
async fn write(engine: &EmbeddedEngine, computed: &Computed) -> Result<()> {
    for stored in &computed.merged {
        let sql = format!("select * from {stored}");
        engine.replace_with(stored, &sql, &format!("realtime: writing {stored}")).await?;
    }
    for (alerts, fired) in &computed.fired {
        engine.append(alerts, &format!("select * from {fired}")).await?;
    }
    Ok(())
}

/// The models to rebuild after an arrival: the raw model (its export) and every model reading,
/// directly or not, a model of the chain, except the chain's own.
fn downstream(compiled: &crate::compile::Compiled, chain: &Chain) -> BTreeSet<String> {
    let own: BTreeSet<&str> = chain.steps.iter().map(|s| s.name.as_str()).collect();
    let mut changed: BTreeSet<&str> = own.iter().copied().chain([chain.raw.name.as_str()]).collect();
    let mut nodes = BTreeSet::from([chain.raw.name.clone()]);
    for model in &compiled.models {
        if !own.contains(model.name.as_str()) && model.refs.iter().any(|r| changed.contains(r.as_str())) {
            changed.insert(&model.name);
            nodes.insert(model.name.clone());
        }
    }
    nodes
}

/// Adds a quarantine row per `(record, reason)`: the reason in `column`, each other column from
/// the record's field of that name where it has one (cast to the column's type), else NULL.
async fn quarantine_rows(
    engine: &EmbeddedEngine,
    relation: &Relation,
    column: &str,
    rows: &[(Option<&str>, String)],
) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    let context = format!("quarantining into {relation}");
    let fail = |e| Error::datafusion(&context, e);
    let ctx = engine.context();
    let stored = ctx.table(reference(relation)).await.map_err(fail)?;
    let schema = Arc::new(stored.schema().as_arrow().clone());
    let records: Vec<serde_json::Value> =
        rows.iter().map(|(r, _)| r.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default()).collect();
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let values: StringArray = match f.name() == column {
                true => rows.iter().map(|(_, reason)| Some(reason.as_str())).collect(),
                false => records
                    .iter()
                    .map(|r| match &r[f.name()] {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    })
                    .collect(),
            };
            // A value that does not cast (a field of another type) is NULL.
            datafusion::arrow::compute::cast(&values, f.data_type()).map_err(|e| fail(e.into()))
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    let added_rows = RecordBatch::try_new(schema.clone(), columns).map_err(|e| fail(e.into()))?;
    let added = MemoryScope.relation("__quarantined");
    engine.create_schema(&added.schema).await?;
    let table = MemTable::try_new(schema, vec![vec![added_rows]]).map_err(fail)?;
    ctx.deregister_table(reference(&added)).map_err(fail)?;
    ctx.register_table(reference(&added), Arc::new(table)).map_err(fail)?;
    engine.replace_with(relation, &format!("select * from {relation} union all select * from {added}"), &context).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_lines_are_taken_and_each_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("raw.jsonl");
        std::fs::write(&file, "{\"a\": 1}\n{\"a\": 2}\n{\"a\"").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not followed\n").expect("write");
        std::fs::write(dir.path().join(".hidden.jsonl"), "{}\n").expect("write");
        let (chunk, offsets) = scan(dir.path(), &Checkpoint::default()).expect("scan");
        assert_eq!(String::from_utf8_lossy(&chunk), "{\"a\": 1}\n{\"a\": 2}\n");
        assert_eq!(offsets["raw.jsonl"], 18);
        let checkpoint = Checkpoint { batches: 1, files: offsets };
        let (chunk, _) = scan(dir.path(), &checkpoint).expect("scan");
        assert!(chunk.is_empty(), "the half line waits");
        std::fs::write(&file, "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n").expect("complete it");
        std::fs::write(dir.path().join("more.json"), "{\"b\": 1}\r\n").expect("a new file");
        let (chunk, offsets) = scan(dir.path(), &checkpoint).expect("scan");
        assert_eq!(String::from_utf8_lossy(&chunk), "{\"b\": 1}\r\n{\"a\": 3}\n", "files in name order");
        assert_eq!((offsets["raw.jsonl"], offsets["more.json"]), (27, 10));
        // A file shorter than its checkpoint is left alone.
        std::fs::write(&file, "{}\n").expect("truncate");
        let (chunk, _) = scan(dir.path(), &Checkpoint { batches: 2, files: offsets }).expect("scan");
        assert!(chunk.is_empty());
    }

    #[test]
    fn lines_that_are_not_json_objects_are_set_aside_with_the_reason() {
        let (records, rejected) = split_lines(b"{\"a\": 1}\r\n\n  \n[1, 2]\n{broken\n{\"b\": \"\xff\"}\n");
        assert_eq!(records, ["{\"a\": 1}", "{\"b\": \"\u{fffd}\"}"]);
        let reasons: Vec<&str> = rejected.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(reasons[0], "a raw line is JSON but not an object");
        assert!(
            reasons[1].starts_with("a raw line is not JSON: key must be a string at line 1 column 2"),
            "{reasons:?}"
        );
    }

    /// A project whose grouping model divides by a record's `body`: a record with body 0 cannot
    /// be enriched.
    fn dividing_project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            ("dbt_project.yml", "name: rt\nprofile: rt\n"),
            (
                "models/sources.yml",
                "version: 2\nsources:\n  - name: raw\n    meta: {external_location: 'inbox/records.jsonl'}\n    tables:\n      - name: records\n",
            ),
            ("models/raw_records.sql", "{{ config(materialized='view') }}\nselect source, id, body from {{ source('raw', 'records') }}"),
            (
                "models/parsed.sql",
                "{{ config(materialized='table') }}\nselect source, id, source || ':' || id as thread, 100 / cast(body as int) as share from {{ ref('raw_records') }}",
            ),
            (
                "models/quarantine.sql",
                "{{ config(materialized='table') }}\nselect source, id, cast(null as varchar) as reason from {{ ref('parsed') }} where share < 0",
            ),
            (
                "models/realtime.yml",
                "version: 2\nrealtime:\n  raw: raw_records\n  key: [source, id]\n  conversation: {model: parsed, column: thread}\n  models:\n    - {name: parsed, key: [source, id]}\n    - {name: quarantine, key: [source, id]}\n  quarantine: {model: quarantine, column: reason}\n",
            ),
            ("inbox/records.jsonl", ""),
        ];
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[tokio::test]
    async fn a_record_that_cannot_be_enriched_is_quarantined_and_the_others_are_not_held_back() {
        let dir = dividing_project();
        let project = Project::load(dir.path()).expect("load");
        let target = Target::embedded("dev", "analytics");
        let warehouse = dir.path().join("warehouse");
        let vars = BTreeMap::new();
        let mut first = Batch { number: 1, ..Batch::default() };
        let records = "{\"source\": \"s\", \"id\": \"1\", \"body\": \"4\"}\n{\"source\": \"s\", \"id\": \"2\", \"body\": \"5\"}\n";
        run_batch(&project, &target, &vars, &warehouse, records.as_bytes(), &mut first).await.expect("first batch");
        assert!(first.full && first.failed == 0);
        let mut second = Batch { number: 2, ..Batch::default() };
        let records = "{\"source\": \"s\", \"id\": \"3\", \"body\": \"0\"}\n{\"source\": \"s\", \"id\": \"4\", \"body\": \"20\"}\n";
        run_batch(&project, &target, &vars, &warehouse, records.as_bytes(), &mut second).await.expect("second batch");
        assert_eq!((second.full, second.records, second.failed), (false, 2, 1));
        let (engine, _) = open(&project, &target, &vars, &warehouse).await.expect("open");
        let rows = |sql: &'static str| {
            let engine = embedded(&engine).expect("embedded");
            async move { engine.rows(sql, "test").await.expect(sql) }
        };
        let parsed = rows("select id, cast(share as varchar) from analytics.parsed order by id").await;
        let parsed: Vec<Vec<String>> = parsed.into_iter().map(|r| r.into_iter().flatten().collect()).collect();
        assert_eq!(parsed, [["1", "25"], ["2", "20"], ["4", "5"]], "the other record of the batch is enriched");
        let quarantined = rows("select source, id, reason from analytics.quarantine").await;
        assert_eq!(quarantined.len(), 1, "{quarantined:?}");
        let [source, id, reason] = &quarantined[0][..] else { panic!("three columns") };
        assert_eq!((source.as_deref(), id.as_deref()), (Some("s"), Some("3")));
        let reason = reason.as_deref().unwrap_or_default();
        assert!(reason.starts_with("realtime enrichment failed: ") && reason.contains("Divide by zero"), "{reason}");
    }

    #[tokio::test]
    async fn a_rule_that_cannot_run_stops_the_watcher_and_quarantines_nothing() {
        let dir = dividing_project();
        let spec = dir.path().join("models/realtime.yml");
        let text = std::fs::read_to_string(&spec).expect("spec");
        let rule = "  alerts:\n    - {name: big, model: parsed, conversation: thread, where: 'sharez > 10'}\n";
        std::fs::write(&spec, text + rule).expect("spec");
        let project = Project::load(dir.path()).expect("load");
        let target = Target::embedded("dev", "analytics");
        let warehouse = dir.path().join("warehouse");
        let vars = BTreeMap::new();
        let mut first = Batch { number: 1, ..Batch::default() };
        let records = "{\"source\": \"s\", \"id\": \"1\", \"body\": \"4\"}\n";
        run_batch(&project, &target, &vars, &warehouse, records.as_bytes(), &mut first).await.expect("first batch");
        let mut second = Batch { number: 2, ..Batch::default() };
        let records = "{\"source\": \"s\", \"id\": \"2\", \"body\": \"5\"}\n";
        let e = run_batch(&project, &target, &vars, &warehouse, records.as_bytes(), &mut second)
            .await
            .expect_err("a broken rule")
            .to_string();
        assert!(e.contains("the chain fails on an empty arrival too") && e.contains("sharez"), "{e}");
        let (engine, _) = open(&project, &target, &vars, &warehouse).await.expect("open");
        let quarantined = embedded(&engine).expect("embedded").rows("select id from analytics.quarantine", "test");
        assert!(quarantined.await.expect("quarantine").is_empty(), "no record is blamed");
    }

    #[test]
    fn a_checkpoint_round_trips_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(Checkpoint::read(dir.path()).expect("none").is_none());
        std::fs::create_dir_all(dir.path().join(STATE_DIR)).expect("mkdir");
        let checkpoint = Checkpoint { batches: 3, files: [("a.jsonl".to_owned(), 12)].into() };
        checkpoint.write(dir.path()).expect("write");
        let read = Checkpoint::read(dir.path()).expect("read").expect("some");
        assert_eq!((read.batches, read.files), (3, checkpoint.files));
        std::fs::write(dir.path().join(STATE_DIR).join("checkpoint.json"), "{").expect("break it");
        let e = Checkpoint::read(dir.path()).expect_err("broken").to_string();
        assert!(e.contains("not a watcher checkpoint"), "{e}");
    }
}
