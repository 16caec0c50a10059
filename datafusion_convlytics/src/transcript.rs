//! `parse_transcript` and `transcript_info` in DataFusion, in two forms with one name each:
//!
//! * scalar functions over columns: `parse_transcript(payload, format [, settings])` gives a
//!   list of turn structs (used with `unnest`), `transcript_info(...)` one struct;
//! * table functions over constants: `select * from parse_transcript('...', 'vtt')` gives one
//!   row per turn, `select * from transcript_info('...', 'vtt')` one row, with the same columns
//!   as PostgreSQL's set-returning functions.
//!
//! And `remove_lines(text, lines)`. The logic is `convlytics_core::transcript`'s; this module
//! only builds Arrow arrays, in the catalogue's column order.

use std::sync::Arc;

use convlytics_core::taxonomy::Registry;
use convlytics_core::transcript::{format_time, parse_transcript_text, remove_lines, transcript_info_text, Info, Turn};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, StringArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::error::{failed, refused};
use crate::udf::{fields, literal_args, spec, table, StringColumn, Udf};

const TURNS: &str = "parse_transcript";
const INFO: &str = "transcript_info";

/// The scalar transcript functions.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![
        Udf::of(TURNS, session, |args| {
            let columns = (0..args.arrays.len()).map(|i| args.text(i)).collect::<Result<Vec<_>>>()?;
            let (mut turns, mut offsets, mut valid) = (Vec::new(), vec![0i32], Vec::with_capacity(args.rows));
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..args.rows {
                let present = StringColumn::read_row(&columns, i, &mut values);
                if present {
                    let parsed = parse_transcript_text(values[0], values[1], values.get(2).copied());
                    turns.extend(parsed.map_err(|e| failed(TURNS, e))?);
                }
                valid.push(present);
                offsets.push(i32::try_from(turns.len()).map_err(|_| too_many(TURNS))?);
            }
            let fields = fields(spec(TURNS).columns());
            let values = StructArray::try_new(fields.clone(), turn_columns(&turns), None)?;
            let item = Arc::new(Field::new_list_field(DataType::Struct(fields), true));
            let nulls = Some(NullBuffer::from(valid));
            Ok(Arc::new(ListArray::try_new(item, OffsetBuffer::new(offsets.into()), Arc::new(values), nulls)?)
                as ArrayRef)
        }),
        Udf::of(INFO, session, |args| {
            let columns = (0..args.arrays.len()).map(|i| args.text(i)).collect::<Result<Vec<_>>>()?;
            let mut infos = Vec::with_capacity(args.rows);
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..args.rows {
                infos.push(if StringColumn::read_row(&columns, i, &mut values) {
                    let info = transcript_info_text(values[0], values[1], values.get(2).copied());
                    Some(info.map_err(|e| failed(INFO, e))?)
                } else {
                    None
                });
            }
            let nulls = Some(NullBuffer::from(infos.iter().map(Option::is_some).collect::<Vec<_>>()));
            Ok(Arc::new(StructArray::try_new(fields(spec(INFO).columns()), info_columns(&infos), nulls)?) as ArrayRef)
        }),
        Udf::text("remove_lines", session, |_, a| Ok(Some(remove_lines(a[0], a[1])))),
    ]
}

fn too_many(function: &str) -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::Execution(format!(
        "{function}: more than 2^31 turns in one batch; read the payloads in smaller batches"
    ))
}

/// The columns of `turns` (one row per turn).
fn turn_columns(turns: &[Turn]) -> Vec<ArrayRef> {
    let text = |f: fn(&Turn) -> Option<&str>| Arc::new(turns.iter().map(f).collect::<StringArray>()) as ArrayRef;
    vec![
        Arc::new(turns.iter().map(|t| i32::try_from(t.index).unwrap_or(i32::MAX)).collect::<Int32Array>()),
        text(|t| Some(t.role.as_str())),
        text(|t| t.speaker.as_deref()),
        text(|t| Some(&t.text)),
        Arc::new(turns.iter().map(|t| t.start_ms).collect::<Int64Array>()),
        Arc::new(turns.iter().map(|t| t.end_ms).collect::<Int64Array>()),
        Arc::new(turns.iter().map(|t| t.sent_at.as_ref().map(format_time)).collect::<StringArray>()),
    ]
}

/// The columns of `infos` (one row each; `None` is a row of NULLs).
fn info_columns(infos: &[Option<Info>]) -> Vec<ArrayRef> {
    let int = |f: fn(&Info) -> u32| {
        let values = infos.iter().map(|i| i.as_ref().map(|i| i32::try_from(f(i)).unwrap_or(i32::MAX)));
        Arc::new(values.collect::<Int32Array>()) as ArrayRef
    };
    let big = |f: fn(&Info) -> Option<i64>| {
        Arc::new(infos.iter().map(|i| i.as_ref().and_then(f)).collect::<Int64Array>()) as ArrayRef
    };
    let text = |f: fn(&Info) -> Option<&str>| {
        Arc::new(infos.iter().map(|i| i.as_ref().and_then(f)).collect::<StringArray>()) as ArrayRef
    };
    let formatted = |f: fn(&Info) -> Option<String>| {
        Arc::new(infos.iter().map(|i| i.as_ref().and_then(f)).collect::<StringArray>()) as ArrayRef
    };
    vec![
        int(|i| i.turn_count),
        int(|i| i.customer_turns),
        int(|i| i.agent_turns),
        int(|i| i.bot_turns),
        formatted(|i| i.started_at.as_ref().map(format_time)),
        formatted(|i| i.ended_at.as_ref().map(format_time)),
        big(|i| i.duration_ms),
        text(|i| i.subject.as_deref()),
        text(|i| i.agent.as_deref()),
        text(|i| i.queue.as_deref()),
        text(|i| i.platform.as_deref()),
        text(|i| i.campaign.as_deref()),
        text(|i| i.thread_id.as_deref()),
        text(|i| i.message_id.as_deref()),
        big(|i| i.voice.as_ref().map(|v| v.customer_talk_ms)),
        big(|i| i.voice.as_ref().map(|v| v.agent_talk_ms)),
        Arc::new(infos.iter().map(|i| i.as_ref().and_then(|i| i.voice.as_ref()?.talk_ratio)).collect::<Float64Array>()),
        big(|i| i.voice.as_ref().map(|v| v.silence_ms)),
        big(|i| i.voice.as_ref().map(|v| v.silences)),
        big(|i| i.voice.as_ref().map(|v| v.overlap_ms)),
        big(|i| i.voice.as_ref().map(|v| v.interruptions)),
        big(|i| i.voice.as_ref().map(|v| v.longest_monologue_ms)),
        text(|i| i.quarantine_reason.as_deref()),
    ]
}

/// The table form of `parse_transcript` or `transcript_info`, over constant arguments.
#[derive(Debug)]
pub(crate) struct TranscriptTable(pub(crate) &'static str);

/// The table functions of this module.
pub(crate) fn udtfs() -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    vec![(TURNS, Arc::new(TranscriptTable(TURNS))), (INFO, Arc::new(TranscriptTable(INFO)))]
}

impl TableFunctionImpl for TranscriptTable {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = self.0;
        let function = spec(name);
        let values = literal_args(function, args.exprs())?;
        // STRICT, as on PostgreSQL: a NULL argument gives no rows.
        let present = values.iter().map(Option::as_deref).collect::<Option<Vec<&str>>>();
        let columns = match (name, present) {
            (TURNS, None) => turn_columns(&[]),
            (_, None) => info_columns(&[]),
            (TURNS, Some(v)) => {
                turn_columns(&parse_transcript_text(v[0], v[1], v.get(2).copied()).map_err(|e| refused(name, e))?)
            }
            (_, Some(v)) => info_columns(&[Some(
                transcript_info_text(v[0], v[1], v.get(2).copied()).map_err(|e| refused(name, e))?,
            )]),
        };
        table(function, columns)
    }
}
