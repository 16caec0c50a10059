//! The signal functions in DataFusion: `sentiment`, `sentiment_explain`, `tones`,
//! `extract_entities`, `summarize` over one text, and `resolution_status`,
//! `resolution_explain`, `summarize_turns` over a conversation's turns given as two lists
//! (`array_agg(role order by ...)`, `array_agg(text order by ...)`).
//!
//! The logic is `convlytics_core`'s; this module only reads and builds Arrow arrays.

use std::sync::Arc;

use convlytics_core::{entities, resolution, sentiment, summarize};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Array, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::strings::StringFunction;

/// The signal functions.
pub fn udfs() -> Vec<ScalarUDF> {
    let mut udfs = vec![
        StringFunction::udf("sentiment_explain", &[1], |a| Ok(Some(sentiment::sentiment_explain_text(a[0])))),
        StringFunction::udf("tones", &[1], |a| Ok(Some(sentiment::tones_text(a[0])))),
        StringFunction::udf("extract_entities", &[1, 2], |a| {
            entities::extract_entities_text(a[0], a.get(1).copied()).map(Some)
        }),
    ];
    udfs.extend(Signal::ALL.map(|signal| ScalarUDF::from(SignalFunction::new(signal))));
    udfs
}

/// The functions whose arguments are not all strings: a number of sentences, or turn lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Signal {
    /// `sentiment(text)`: a float.
    Sentiment,
    /// `summarize(text [, sentences])`.
    Summarize,
    /// `resolution_status(roles, texts [, taxonomy])`.
    ResolutionStatus,
    /// `resolution_explain(roles, texts [, taxonomy])`.
    ResolutionExplain,
    /// `summarize_turns(roles, texts [, sentences])`.
    SummarizeTurns,
}

/// The optional last argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Optional {
    None,
    Sentences,
    Taxonomy,
}

impl Signal {
    const ALL: [Signal; 5] =
        [Self::Sentiment, Self::Summarize, Self::ResolutionStatus, Self::ResolutionExplain, Self::SummarizeTurns];

    fn name(self) -> &'static str {
        match self {
            Self::Sentiment => "sentiment",
            Self::Summarize => "summarize",
            Self::ResolutionStatus => "resolution_status",
            Self::ResolutionExplain => "resolution_explain",
            Self::SummarizeTurns => "summarize_turns",
        }
    }

    /// Whether the fixed arguments are turn lists (roles, texts) rather than one text.
    fn over_turns(self) -> bool {
        !matches!(self, Self::Sentiment | Self::Summarize)
    }

    fn optional(self) -> Optional {
        match self {
            Self::Sentiment => Optional::None,
            Self::Summarize | Self::SummarizeTurns => Optional::Sentences,
            Self::ResolutionStatus | Self::ResolutionExplain => Optional::Taxonomy,
        }
    }

    fn usage(self) -> String {
        let fixed = if self.over_turns() { "roles text[], texts text[]" } else { "text" };
        let optional = match self.optional() {
            Optional::None => "",
            Optional::Sentences => " [, sentences]",
            Optional::Taxonomy => " [, taxonomy]",
        };
        format!("{}({fixed}{optional})", self.name())
    }
}

/// A signal function as a DataFusion UDF; STRICT (a NULL argument gives NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
struct SignalFunction {
    signal: Signal,
    signature: Signature,
}

impl SignalFunction {
    fn new(signal: Signal) -> Self {
        Self { signal, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
}

impl ScalarUDFImpl for SignalFunction {
    fn name(&self) -> &str {
        self.signal.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Texts become `Utf8`, turn lists `List(Utf8)`, the number of sentences `Int64`, so
    /// `invoke_with_args` reads one layout of each.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let signal = self.signal;
        let fixed = if signal.over_turns() { 2 } else { 1 };
        let most = fixed + usize::from(signal.optional() != Optional::None);
        if arg_types.len() < fixed || arg_types.len() > most {
            return plan_err!("{}: got {} argument(s)", signal.usage(), arg_types.len());
        }
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (ok, to) = if i >= fixed && signal.optional() == Optional::Sentences {
                    (t.is_integer() || t.is_null(), DataType::Int64)
                } else if i < fixed && signal.over_turns() {
                    let ok = matches!(t, DataType::List(f) | DataType::LargeList(f) if is_string(f.data_type()));
                    (ok || t.is_null(), list.clone())
                } else {
                    (is_string(t), DataType::Utf8)
                };
                if ok {
                    Ok(to)
                } else {
                    plan_err!("{}: argument {} has type {t}", signal.usage(), i + 1)
                }
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.signal == Signal::Sentiment { DataType::Float64 } else { DataType::Utf8 })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let signal = self.signal;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let fail = |e: convlytics_core::Error| DataFusionError::Execution(format!("{}: {e}", signal.name()));
        let fixed = if signal.over_turns() { 2 } else { 1 };
        let sentences = arrays.get(fixed).filter(|_| signal.optional() == Optional::Sentences);
        let sentences = sentences.map(|a| a.as_any().downcast_ref::<Int64Array>().expect("coerced to Int64"));
        let taxonomy =
            arrays.get(fixed).filter(|_| signal.optional() == Optional::Taxonomy).map(|a| a.as_string::<i32>());
        let array: ArrayRef = if signal == Signal::Sentiment {
            let texts = arrays[0].as_string::<i32>();
            let mut out = Float64Builder::with_capacity(rows);
            for i in 0..rows {
                out.append_option(texts.is_valid(i).then(|| sentiment::sentiment(texts.value(i))));
            }
            Arc::new(out.finish())
        } else {
            let mut out = StringBuilder::with_capacity(rows, rows * 64);
            let (mut roles, mut texts) = (Vec::new(), Vec::new());
            for i in 0..rows {
                if arrays.iter().any(|a| a.is_null(i)) {
                    out.append_null();
                    continue;
                }
                let n = match sentences {
                    Some(s) => summarize::sentence_count(s.value(i)).map_err(fail)?,
                    None => summarize::DEFAULT_SENTENCES,
                };
                let value = if signal.over_turns() {
                    turns_row(&arrays[0], i, &mut roles);
                    turns_row(&arrays[1], i, &mut texts);
                    let taxonomy = taxonomy.map(|t| t.value(i));
                    match signal {
                        Signal::ResolutionStatus => resolution::status_text(&roles, &texts, taxonomy),
                        Signal::ResolutionExplain => resolution::explain_text(&roles, &texts, taxonomy),
                        _ => summarize::summarize_turns(&roles, &texts, n),
                    }
                    .map_err(fail)?
                } else {
                    summarize::summarize(arrays[0].as_string::<i32>().value(i), n)
                };
                out.append_value(value);
            }
            Arc::new(out.finish())
        };
        if all_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Row `i` of a turn list (coerced to `List(Utf8)`) into `out`, borrowed from the column; a NULL
/// element reads as an empty string.
fn turns_row<'a>(array: &'a ArrayRef, i: usize, out: &mut Vec<&'a str>) {
    let list = array.as_list::<i32>();
    let values: &StringArray = list.values().as_string::<i32>();
    let offsets = list.value_offsets();
    out.clear();
    out.extend((offsets[i] as usize..offsets[i + 1] as usize).map(|j| {
        if values.is_valid(j) {
            values.value(j)
        } else {
            ""
        }
    }));
}
