//! A scalar UDF shape shared by the string functions: strings in, an optional string out.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

/// The row function: one `&str` per argument in, `None` for SQL NULL out, an error for input
/// that is present but unusable.
type RowFn = fn(&[&str]) -> convlytics_core::Result<Option<String>>;

/// A UDF taking string arguments, STRICT (any NULL argument gives NULL) and immutable.
/// Two instances are equal when their names and signatures are: a name is one function.
#[derive(Debug)]
pub struct StringFunction {
    name: &'static str,
    signature: Signature,
    row: RowFn,
}

impl PartialEq for StringFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature
    }
}

impl Eq for StringFunction {}

impl std::hash::Hash for StringFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.signature.hash(state);
    }
}

impl StringFunction {
    /// The UDF `name(text, ...)` taking any of `arities` string arguments, computed row by row
    /// with `row`.
    pub fn udf(name: &'static str, arities: &[usize], row: RowFn) -> ScalarUDF {
        let types = vec![DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8];
        let forms = arities.iter().map(|&n| TypeSignature::Uniform(n, types.clone())).collect();
        ScalarUDF::from(Self { name, signature: Signature::one_of(forms, Volatility::Immutable), row })
    }
}

impl ScalarUDFImpl for StringFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns = arrays.iter().map(StringColumn::new).collect::<Result<Vec<_>>>()?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let mut out = StringBuilder::with_capacity(rows, rows * 16);
        let mut values: Vec<&str> = Vec::with_capacity(columns.len());
        for i in 0..rows {
            let value = if StringColumn::read_row(&columns, i, &mut values) {
                (self.row)(&values).map_err(|e| DataFusionError::Execution(format!("{}: {e}", self.name)))?
            } else {
                None
            };
            out.append_option(value);
        }
        let array: ArrayRef = Arc::new(out.finish());
        if all_scalar {
            return Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&array, 0)?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

/// Read access to any of Arrow's three string layouts.
pub(crate) enum StringColumn<'a> {
    Utf8(&'a datafusion::arrow::array::StringArray),
    Large(&'a datafusion::arrow::array::LargeStringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
}

impl<'a> StringColumn<'a> {
    /// Reads `array`, which must hold strings.
    pub(crate) fn new(array: &'a ArrayRef) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => Self::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Self::Large(array.as_string::<i64>()),
            DataType::Utf8View => Self::View(array.as_string_view()),
            other => return exec_err!("expected a string argument, got {other}"),
        })
    }

    /// Row `i` of every column into `out`; false (and `out` cut short) when one is NULL.
    pub(crate) fn read_row(columns: &[Self], i: usize, out: &mut Vec<&'a str>) -> bool {
        out.clear();
        out.extend(columns.iter().map_while(|c| c.get(i)));
        out.len() == columns.len()
    }

    /// Row `i`, `None` when NULL.
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Self::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Self::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Self::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{LargeStringArray, StringArray, StringViewArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    fn call(udf: &ScalarUDF, args: Vec<ArrayRef>) -> ArrayRef {
        let rows = args[0].len();
        let arg_fields = args.iter().map(|a| Arc::new(Field::new("a", a.data_type().clone(), true))).collect();
        let result = udf
            .invoke_with_args(ScalarFunctionArgs {
                args: args.into_iter().map(ColumnarValue::Array).collect(),
                arg_fields,
                number_rows: rows,
                return_field: Arc::new(Field::new("r", DataType::Utf8, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .expect("invoke");
        result.into_array(rows).expect("array")
    }

    fn concat() -> ScalarUDF {
        StringFunction::udf("concat2", &[2], |a| Ok(Some(format!("{}{}", a[0], a[1]))))
    }

    #[test]
    fn every_string_layout_is_read() {
        let left: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("c")])),
            Arc::new(StringViewArray::from(vec![Some("a"), None, Some("c")])),
        ];
        for l in left {
            let r: ArrayRef = Arc::new(StringViewArray::from(vec![Some("x"), Some("y"), None]));
            let out = call(&concat(), vec![l, r]);
            let out = out.as_string::<i32>();
            assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some("ax"), None, None]);
        }
    }
}
