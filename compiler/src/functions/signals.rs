//! The signal functions in DataFusion: `sentiment`, `sentiment_explain`, `tones`,
//! `extract_entities`, `summarize` over one text, and `resolution_status`,
//! `resolution_explain`, `summarize_turns` over a conversation's turns given as two lists
//! (`array_agg(role order by ...)`, `array_agg(text order by ...)`).
//!
//! The logic is `convlytics_core`'s; this module only reads and builds Arrow arrays.

use std::sync::Arc;

use convlytics_core::{entities, resolution, sentiment, summarize};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Builder, GenericListArray, Int64Array, OffsetSizeTrait, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::strings::{StringColumn, StringFunction};

/// The one-text signal functions.
pub fn text_udfs() -> Vec<ScalarUDF> {
    vec![
        StringFunction::udf("sentiment_explain", &[1], |a| Ok(Some(sentiment::sentiment_explain_text(a[0])))),
        StringFunction::udf("tones", &[1], |a| Ok(Some(sentiment::tones_text(a[0])))),
        StringFunction::udf("extract_entities", &[1, 2], |a| {
            entities::extract_entities_text(a[0], a.get(1).copied()).map(Some)
        }),
        ScalarUDF::from(TurnsFunction::new("sentiment", Shape::Text, Returns::Float)),
        ScalarUDF::from(TurnsFunction::new("summarize", Shape::Text, Returns::Text)),
        ScalarUDF::from(TurnsFunction::new("resolution_status", Shape::Turns, Returns::Text)),
        ScalarUDF::from(TurnsFunction::new("resolution_explain", Shape::Turns, Returns::Text)),
        ScalarUDF::from(TurnsFunction::new("summarize_turns", Shape::Turns, Returns::Text)),
    ]
}

/// What the first arguments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    /// One text, then an optional number of sentences (`summarize`).
    Text,
    /// Roles and texts as two lists, then an optional taxonomy or number of sentences.
    Turns,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Returns {
    Text,
    Float,
}

/// A UDF over a text or a conversation's turns, with an optional last argument; STRICT.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TurnsFunction {
    name: &'static str,
    shape: Shape,
    returns: Returns,
    signature: Signature,
}

impl TurnsFunction {
    fn new(name: &'static str, shape: Shape, returns: Returns) -> Self {
        Self { name, shape, returns, signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// How many arguments the function takes, and the type of the optional last one.
    fn arity(&self) -> (usize, Option<DataType>) {
        match (self.name, self.shape) {
            ("sentiment", _) => (1, None),
            (_, Shape::Text) => (1, Some(DataType::Int64)),
            ("summarize_turns", _) => (2, Some(DataType::Int64)),
            _ => (2, Some(DataType::Utf8)),
        }
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
}

impl ScalarUDFImpl for TurnsFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (fixed, optional) = self.arity();
        let usage = match (self.shape, &optional) {
            (Shape::Text, None) => format!("{}(text)", self.name),
            (Shape::Text, Some(_)) => format!("{}(text [, sentences])", self.name),
            (Shape::Turns, Some(DataType::Int64)) => format!("{}(roles text[], texts text[] [, sentences])", self.name),
            (Shape::Turns, _) => format!("{}(roles text[], texts text[] [, taxonomy])", self.name),
        };
        if arg_types.len() < fixed || arg_types.len() > fixed + usize::from(optional.is_some()) {
            return plan_err!("{usage}: got {} argument(s)", arg_types.len());
        }
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let ok = match (i < fixed, self.shape) {
                    (true, Shape::Text) => is_string(t),
                    (true, Shape::Turns) => {
                        matches!(t, DataType::List(f) | DataType::LargeList(f) if is_string(f.data_type()))
                            || matches!(t, DataType::Null)
                    }
                    (false, _) => match &optional {
                        Some(DataType::Int64) => t.is_integer() || t.is_null(),
                        _ => is_string(t),
                    },
                };
                if !ok {
                    return plan_err!("{usage}: argument {} has type {t}", i + 1);
                }
                Ok(match (i < fixed, self.shape) {
                    (true, Shape::Text) => DataType::Utf8,
                    (true, Shape::Turns) => list.clone(),
                    (false, _) => optional.clone().unwrap_or(DataType::Utf8),
                })
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.returns {
            Returns::Text => DataType::Utf8,
            Returns::Float => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let fail = |e: convlytics_core::Error| DataFusionError::Execution(format!("{}: {e}", self.name));
        let mut text_out = StringBuilder::with_capacity(rows, rows * 32);
        let mut float_out = Float64Builder::with_capacity(rows);
        let (fixed, _) = self.arity();
        let extra = arrays.get(fixed);
        for i in 0..rows {
            if arrays.iter().any(|a| a.is_null(i)) {
                text_out.append_null();
                float_out.append_null();
                continue;
            }
            let sentences = match extra.map(|a| a.data_type()) {
                Some(DataType::Int64) => {
                    let n = extra.expect("present").as_any().downcast_ref::<Int64Array>().expect("int64").value(i);
                    summarize::sentence_count(n).map_err(fail)?
                }
                _ => summarize::DEFAULT_SENTENCES,
            };
            match self.shape {
                Shape::Text => {
                    let column = StringColumn::new(&arrays[0])?;
                    let text = column.get(i).unwrap_or_default();
                    match self.returns {
                        Returns::Float => float_out.append_value(sentiment::sentiment(text)),
                        Returns::Text => text_out.append_value(summarize::summarize(text, sentences)),
                    }
                }
                Shape::Turns => {
                    let roles = list_row(&arrays[0], i)?;
                    let texts = list_row(&arrays[1], i)?;
                    let (roles, texts): (Vec<&str>, Vec<&str>) =
                        (roles.iter().map(String::as_str).collect(), texts.iter().map(String::as_str).collect());
                    let taxonomy = match extra {
                        Some(a) if matches!(a.data_type(), DataType::Utf8) => Some(a.as_string::<i32>().value(i)),
                        _ => None,
                    };
                    let value = match self.name {
                        "resolution_status" => resolution::status_text(&roles, &texts, taxonomy),
                        "resolution_explain" => resolution::explain_text(&roles, &texts, taxonomy),
                        _ => summarize::summarize_turns(&roles, &texts, sentences),
                    };
                    text_out.append_value(value.map_err(fail)?);
                }
            }
        }
        let array: ArrayRef = match self.returns {
            Returns::Text => Arc::new(text_out.finish()),
            Returns::Float => Arc::new(float_out.finish()),
        };
        if all_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Row `i` of a list-of-strings column; NULL elements read as empty strings.
fn list_row(array: &ArrayRef, i: usize) -> Result<Vec<String>> {
    fn read<O: OffsetSizeTrait>(list: &GenericListArray<O>, i: usize) -> Result<Vec<String>> {
        let values = list.value(i);
        let column = StringColumn::new(&values)?;
        Ok((0..values.len()).map(|j| column.get(j).unwrap_or_default().to_owned()).collect())
    }
    match array.data_type() {
        DataType::List(_) => read(array.as_list::<i32>(), i),
        DataType::LargeList(_) => read(array.as_list::<i64>(), i),
        other => exec_err!("expected a list of texts, got {other}"),
    }
}
