//! `parse_transcript` and `transcript_info` in DataFusion, in two forms with one name each:
//!
//! * scalar functions over columns: `parse_transcript(payload, format [, settings])` gives a
//!   list of turn structs (used with `unnest`), `transcript_info(...)` one struct;
//! * table functions over literals: `select * from parse_transcript('...', 'vtt')` gives one row
//!   per turn, `select * from transcript_info('...', 'vtt')` one row, with the same columns as
//!   PostgreSQL's set-returning functions.
//!
//! The logic is `convlytics_core::transcript`'s; this module only builds Arrow arrays.

use std::sync::{Arc, LazyLock};

use convlytics_core::transcript::{format_time, parse_transcript_text, transcript_info_text, Info, Turn};
use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, DataFusionError, Result};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::string_literal;
use super::strings::StringColumn;

/// Which of the two functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transcript {
    /// `parse_transcript`: the turns.
    Turns,
    /// `transcript_info`: one row of metadata, metrics or the quarantine reason.
    Info,
}

static TURN_FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    Fields::from(vec![
        Field::new("turn_index", DataType::Int32, false),
        Field::new("role", DataType::Utf8, false),
        Field::new("speaker", DataType::Utf8, true),
        Field::new("text", DataType::Utf8, false),
        Field::new("start_ms", DataType::Int64, true),
        Field::new("end_ms", DataType::Int64, true),
        Field::new("sent_at", DataType::Utf8, true),
    ])
});

/// `transcript_info`'s columns: the counts, times and metadata, the voice metrics, the reason.
static INFO_FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let int = |n: &str| Field::new(n, DataType::Int32, true);
    let big = |n: &str| Field::new(n, DataType::Int64, true);
    let text = |n: &str| Field::new(n, DataType::Utf8, true);
    Fields::from(vec![
        int("turn_count"),
        int("customer_turns"),
        int("agent_turns"),
        int("bot_turns"),
        text("started_at"),
        text("ended_at"),
        big("duration_ms"),
        text("subject"),
        text("agent"),
        text("queue"),
        text("platform"),
        text("campaign"),
        text("thread_id"),
        text("message_id"),
        big("customer_talk_ms"),
        big("agent_talk_ms"),
        Field::new("talk_ratio", DataType::Float64, true),
        big("silence_ms"),
        big("silences"),
        big("overlap_ms"),
        big("interruptions"),
        big("longest_monologue_ms"),
        text("quarantine_reason"),
    ])
});

impl Transcript {
    /// The SQL function's name.
    pub fn name(self) -> &'static str {
        match self {
            Transcript::Turns => "parse_transcript",
            Transcript::Info => "transcript_info",
        }
    }

    /// The Jinja function that applies it to every row of a relation.
    pub fn relation_function(self) -> &'static str {
        match self {
            Transcript::Turns => "parse_transcripts",
            Transcript::Info => "transcript_infos",
        }
    }

    /// The names of its output columns.
    pub fn columns(self) -> impl Iterator<Item = &'static str> {
        self.fields().iter().map(|f| f.name().as_str())
    }

    fn fields(self) -> &'static Fields {
        match self {
            Transcript::Turns => &TURN_FIELDS,
            Transcript::Info => &INFO_FIELDS,
        }
    }

    /// The scalar function.
    pub fn udf(self) -> ScalarUDF {
        let types = vec![DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8];
        let forms = [2, 3].iter().map(|&n| TypeSignature::Uniform(n, types.clone())).collect();
        ScalarUDF::from(TranscriptUdf { kind: self, signature: Signature::one_of(forms, Volatility::Immutable) })
    }

    fn error(self, e: convlytics_core::Error) -> DataFusionError {
        DataFusionError::Execution(format!("{}: {e}", self.name()))
    }

    /// The columns of `turns` (one row per turn).
    fn turn_columns(turns: &[Turn]) -> Vec<ArrayRef> {
        let text = |f: fn(&Turn) -> Option<&str>| Arc::new(turns.iter().map(f).collect::<StringArray>()) as ArrayRef;
        vec![
            Arc::new(turns.iter().map(|t| t.index as i32).collect::<Int32Array>()),
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
            Arc::new(infos.iter().map(|i| i.as_ref().map(|i| f(i) as i32)).collect::<Int32Array>()) as ArrayRef
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
            Arc::new(
                infos.iter().map(|i| i.as_ref().and_then(|i| i.voice.as_ref()?.talk_ratio)).collect::<Float64Array>(),
            ),
            big(|i| i.voice.as_ref().map(|v| v.silence_ms)),
            big(|i| i.voice.as_ref().map(|v| v.silences)),
            big(|i| i.voice.as_ref().map(|v| v.overlap_ms)),
            big(|i| i.voice.as_ref().map(|v| v.interruptions)),
            big(|i| i.voice.as_ref().map(|v| v.longest_monologue_ms)),
            text(|i| i.quarantine_reason.as_deref()),
        ]
    }
}

/// The scalar form of either function.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TranscriptUdf {
    kind: Transcript,
    signature: Signature,
}

impl ScalarUDFImpl for TranscriptUdf {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        let fields = self.kind.fields().clone();
        Ok(match self.kind {
            Transcript::Turns => DataType::List(Arc::new(Field::new_list_field(DataType::Struct(fields), true))),
            Transcript::Info => DataType::Struct(fields),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns = arrays.iter().map(StringColumn::new).collect::<Result<Vec<_>>>()?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let fields = self.kind.fields().clone();
        let mut valid = Vec::with_capacity(rows);
        let (mut turns, mut offsets, mut infos) = (Vec::new(), vec![0i32], Vec::new());
        let mut values: Vec<&str> = Vec::with_capacity(columns.len());
        for i in 0..rows {
            let present = StringColumn::read_row(&columns, i, &mut values);
            valid.push(present);
            let settings = values.get(2).copied();
            match (self.kind, present) {
                (Transcript::Turns, true) => {
                    turns.extend(parse_transcript_text(values[0], values[1], settings).map_err(|e| self.kind.error(e))?)
                }
                (Transcript::Info, true) => infos
                    .push(Some(transcript_info_text(values[0], values[1], settings).map_err(|e| self.kind.error(e))?)),
                (Transcript::Info, false) => infos.push(None),
                (Transcript::Turns, false) => {}
            }
            offsets.push(turns.len() as i32);
        }
        let nulls = Some(NullBuffer::from(valid));
        let array: ArrayRef = match self.kind {
            Transcript::Turns => {
                let values = StructArray::try_new(fields.clone(), Transcript::turn_columns(&turns), None)?;
                let item = Arc::new(Field::new_list_field(DataType::Struct(fields), true));
                Arc::new(ListArray::try_new(item, OffsetBuffer::new(offsets.into()), Arc::new(values), nulls)?)
            }
            Transcript::Info => Arc::new(StructArray::try_new(fields, Transcript::info_columns(&infos), nulls)?),
        };
        Ok(ColumnarValue::Array(array))
    }
}

/// The table form of either function, over literal arguments.
#[derive(Debug)]
pub struct TranscriptTable(pub Transcript);

impl TableFunctionImpl for TranscriptTable {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let kind = self.0;
        let exprs = args.exprs();
        if !(2..=3).contains(&exprs.len()) {
            return plan_err!(
                "{}(payload, format [, settings]) takes two or three arguments, got {}",
                kind.name(),
                exprs.len()
            );
        }
        let values = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| string_literal(e, kind.name(), i + 1))
            .collect::<Result<Vec<Option<String>>>>()?;
        let schema = Arc::new(Schema::new(kind.fields().clone()));
        let columns = match values.iter().map(Option::as_deref).collect::<Option<Vec<&str>>>() {
            // STRICT, as on PostgreSQL: a NULL argument gives no rows.
            None => match kind {
                Transcript::Turns => Transcript::turn_columns(&[]),
                Transcript::Info => Transcript::info_columns(&[]),
            },
            Some(v) => match kind {
                Transcript::Turns => Transcript::turn_columns(
                    &parse_transcript_text(v[0], v[1], v.get(2).copied()).map_err(|e| kind.error(e))?,
                ),
                Transcript::Info => Transcript::info_columns(&[Some(
                    transcript_info_text(v[0], v[1], v.get(2).copied()).map_err(|e| kind.error(e))?,
                )]),
            },
        };
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
