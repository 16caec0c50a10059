//! One scalar UDF type for every convlytics function, and the table-function helpers. The name,
//! volatility, accepted argument types and return type of each come from
//! `convlytics_core::catalog`; what a capability module supplies is how to compute its rows.

use std::sync::Arc;

use convlytics_core::catalog::{self, Column, Function, Kind, Returns};
use convlytics_core::taxonomy::Registry;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{exec_err, internal_datafusion_err, plan_datafusion_err, plan_err, Result, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;

use crate::error::failed;

/// The function called `name` in the catalogue; every module registers only catalogue names.
pub(crate) fn spec(name: &str) -> &'static Function {
    catalog::function(name).unwrap_or_else(|| panic!("{name} is not in convlytics_core::catalog"))
}

/// DataFusion's volatility for a catalogue volatility.
pub(crate) fn volatility(v: catalog::Volatility) -> Volatility {
    match v {
        catalog::Volatility::Immutable => Volatility::Immutable,
        catalog::Volatility::Stable => Volatility::Stable,
        catalog::Volatility::Volatile => Volatility::Volatile,
    }
}

/// The Arrow type of a catalogue type: texts, uuids and JSON as `Utf8`.
pub(crate) fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Taxonomy | Kind::Uuid | Kind::Json => DataType::Utf8,
        Kind::TextArray => text_list(),
        Kind::Integer => DataType::Int32,
        Kind::BigInt => DataType::Int64,
        Kind::Double => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
    }
}

/// `List(Utf8)`: a `text[]`.
pub(crate) fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// The Arrow fields of catalogue columns.
pub(crate) fn fields(columns: &[Column]) -> Fields {
    columns.iter().map(|c| Field::new(c.name, data_type(c.kind), c.nullable)).collect()
}

/// The schema of a function's rows.
pub(crate) fn schema(function: &Function) -> SchemaRef {
    Arc::new(Schema::new(fields(function.columns())))
}

/// What the scalar form of `function` returns: its value, the struct of its one row, or a list
/// of the structs of its rows.
pub(crate) fn return_type(function: &Function) -> Result<DataType> {
    Ok(match function.returns {
        Returns::Value { kind, .. } => data_type(kind),
        Returns::Row(columns) => DataType::Struct(fields(columns)),
        Returns::Rows(columns) => {
            DataType::List(Arc::new(Field::new_list_field(DataType::Struct(fields(columns)), true)))
        }
        Returns::Table(_) => return plan_err!("{} is a table function: call it in FROM", function.usage()),
    })
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The type an argument of `kind` given as `given` is read as, or `None` when it cannot be.
/// Strings keep their layout (no copy); lists become `List(Utf8)`, integers `Int64`.
pub(crate) fn coerce(kind: Kind, given: &DataType) -> Option<DataType> {
    match (kind, given) {
        (_, DataType::Null) => Some(data_type(kind)),
        (Kind::Text | Kind::Taxonomy | Kind::Uuid | Kind::Json, t) if is_string(t) => Some(t.clone()),
        (Kind::TextArray, DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _))
            if is_string(f.data_type()) || f.data_type().is_null() =>
        {
            Some(text_list())
        }
        (Kind::Integer | Kind::BigInt, t) if t.is_integer() => Some(data_type(kind)),
        (Kind::Double, t) if t.is_numeric() => Some(DataType::Float64),
        (Kind::Boolean, DataType::Boolean) => Some(DataType::Boolean),
        _ => None,
    }
}

/// The argument types `function` reads `given` as; an error names the usage and the argument.
pub(crate) fn coerce_all(function: &Function, given: &[DataType]) -> Result<Vec<DataType>> {
    let (fewest, most) = function.arity();
    if given.len() < fewest || given.len() > most {
        return plan_err!("{}: got {} argument(s)", function.usage(), given.len());
    }
    given
        .iter()
        .zip(function.args)
        .enumerate()
        .map(|(i, (t, arg))| {
            coerce(arg.kind, t).ok_or_else(|| {
                plan_datafusion_err!(
                    "{}: argument {} ({}) has type {t}, expected {}",
                    function.usage(),
                    i + 1,
                    arg.name,
                    arg.kind.sql_name()
                )
            })
        })
        .collect()
}

/// The arguments of one call of a scalar function, coerced by [`coerce_all`].
pub(crate) struct Args<'a> {
    /// One array per argument, `rows` long.
    pub arrays: &'a [ArrayRef],
    /// How many rows.
    pub rows: usize,
    /// The session's taxonomies.
    pub session: &'a Registry,
}

impl Args<'_> {
    /// Argument `i` (from 0) as strings.
    pub fn text(&self, i: usize) -> Result<StringColumn<'_>> {
        match self.arrays.get(i) {
            Some(a) => StringColumn::new(a),
            None => exec_err!("argument {} is missing", i + 1),
        }
    }

    /// Argument `i` as a `text[]` (coerced to `List(Utf8)`).
    pub fn list(&self, i: usize) -> Result<&ListArray> {
        self.arrays
            .get(i)
            .and_then(|a| a.as_list_opt::<i32>())
            .ok_or_else(|| internal_datafusion_err!("argument {} is not a text list", i + 1))
    }

    /// Argument `i` as an integer (coerced to `Int64`).
    pub fn int(&self, i: usize) -> Result<&Int64Array> {
        self.arrays
            .get(i)
            .and_then(|a| a.as_any().downcast_ref::<Int64Array>())
            .ok_or_else(|| internal_datafusion_err!("argument {} is not an integer", i + 1))
    }

    /// Whether row `i` has a NULL argument (STRICT functions give NULL for it).
    pub fn any_null(&self, i: usize) -> bool {
        self.arrays.iter().any(|a| a.is_null(i))
    }
}

/// How a scalar function computes its output array from its arguments.
pub(crate) type Invoke = dyn Fn(&Args<'_>) -> Result<ArrayRef> + Send + Sync;

/// A convlytics function as a DataFusion scalar UDF, bound to one session's taxonomies. Two are
/// equal when they are the same function of the same session.
pub(crate) struct Udf {
    function: &'static Function,
    signature: Signature,
    session: Arc<Registry>,
    invoke: Box<Invoke>,
}

impl std::fmt::Debug for Udf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Udf").field("name", &self.function.name).finish_non_exhaustive()
    }
}

impl PartialEq for Udf {
    fn eq(&self, other: &Self) -> bool {
        self.function.name == other.function.name && Arc::ptr_eq(&self.session, &other.session)
    }
}

impl Eq for Udf {}

impl std::hash::Hash for Udf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.function.name.hash(state);
        Arc::as_ptr(&self.session).hash(state);
    }
}

impl Udf {
    /// The scalar UDF of catalogue function `name`, computed by `invoke`.
    pub(crate) fn of(
        name: &str,
        session: &Arc<Registry>,
        invoke: impl Fn(&Args<'_>) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> ScalarUDF {
        let function = spec(name);
        let signature = Signature::user_defined(volatility(function.most_volatile()));
        ScalarUDF::from(Self { function, signature, session: session.clone(), invoke: Box::new(invoke) })
    }

    /// A function of text arguments whose result is text (or JSON text, or a uuid's text), one
    /// row at a time: `row` gets one `&str` per argument and gives `None` for SQL NULL. STRICT: a
    /// NULL argument gives NULL without a call.
    pub(crate) fn text(name: &str, session: &Arc<Registry>, row: TextRow) -> ScalarUDF {
        let name = spec(name).name;
        Self::of(name, session, move |args| {
            let columns = (0..args.arrays.len()).map(|i| args.text(i)).collect::<Result<Vec<_>>>()?;
            let mut out = StringBuilder::with_capacity(args.rows, args.rows * 16);
            let mut values: Vec<&str> = Vec::with_capacity(columns.len());
            for i in 0..args.rows {
                let value = if StringColumn::read_row(&columns, i, &mut values) {
                    row(args.session, &values).map_err(|e| failed(name, e))?
                } else {
                    None
                };
                out.append_option(value);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

impl Udf {
    /// The taxonomies of its session, when the function takes a taxonomy and the session has
    /// any: what a plan carries to the processes that run it.
    pub(crate) fn taxonomies(&self) -> Option<Vec<Arc<convlytics_core::taxonomy::Taxonomy>>> {
        let takes = self.function.args.iter().any(|a| a.kind == Kind::Taxonomy);
        let taxonomies = self.session.taxonomies();
        (takes && !taxonomies.is_empty()).then_some(taxonomies)
    }
}

/// The row function of [`Udf::text`].
pub(crate) type TextRow = fn(&Registry, &[&str]) -> convlytics_core::Result<Option<String>>;

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        self.function.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_all(self.function, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        return_type(self.function)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let out = (self.invoke)(&Args { arrays: &arrays, rows, session: &self.session })?;
        if all_scalar && rows == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
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

/// The elements of row `i` of a `text[]` column into `out`, borrowed from the column; a NULL
/// element reads as `None`.
pub(crate) fn list_row<'a>(list: &'a ListArray, i: usize, out: &mut Vec<Option<&'a str>>) -> Result<()> {
    let values = list
        .values()
        .as_string_opt::<i32>()
        .ok_or_else(|| internal_datafusion_err!("a text list holds {}", list.values().data_type()))?;
    let offsets = list.value_offsets();
    out.clear();
    out.extend((offsets[i] as usize..offsets[i + 1] as usize).map(|j| values.is_valid(j).then(|| values.value(j))));
    Ok(())
}

/// The arguments of a table function call, which must be constants: NULL (`None`) or strings.
/// An error names the usage when the count or a type is wrong.
pub(crate) fn literal_args(function: &Function, exprs: &[Expr]) -> Result<Vec<Option<String>>> {
    let (fewest, most) = function.arity();
    if exprs.len() < fewest || exprs.len() > most {
        let range = if fewest == most { fewest.to_string() } else { format!("{fewest} to {most}") };
        return plan_err!("{} takes {range} argument(s), got {}", function.usage(), exprs.len());
    }
    exprs.iter().enumerate().map(|(i, e)| string_literal(e, function, i)).collect()
}

/// A table function's argument `i` (from 0), which must be a constant string (a literal, or an
/// expression of literals such as `'a' || chr(10)`) or NULL.
fn string_literal(expr: &Expr, function: &Function, i: usize) -> Result<Option<String>> {
    let simplified = ExprSimplifier::new(SimplifyContext::default()).simplify(expr.clone());
    let expr = simplified.as_ref().unwrap_or(expr);
    match expr {
        Expr::Literal(ScalarValue::Utf8(s) | ScalarValue::Utf8View(s) | ScalarValue::LargeUtf8(s), _) => Ok(s.clone()),
        Expr::Literal(ScalarValue::Null, _) => Ok(None),
        other => plan_err!("{}: argument {} must be a constant string, got {other}", function.usage(), i + 1),
    }
}

/// The rows `columns` (in the catalogue's column order) of a table function as a table.
pub(crate) fn table(function: &Function, columns: Vec<ArrayRef>) -> Result<Arc<dyn TableProvider>> {
    let schema = schema(function);
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{LargeStringArray, StringArray, StringViewArray};
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

    #[test]
    fn every_string_layout_is_read_and_null_gives_null() {
        let session = Arc::new(Registry::new());
        let udf = Udf::text("remove_lines", &session, |_, a| Ok(Some(format!("{}|{}", a[0], a[1]))));
        let left: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
            Arc::new(LargeStringArray::from(vec![Some("a"), None, Some("c")])),
            Arc::new(StringViewArray::from(vec![Some("a"), None, Some("c")])),
        ];
        for l in left {
            let r: ArrayRef = Arc::new(StringViewArray::from(vec![Some("x"), Some("y"), None]));
            let out = call(&udf, vec![l, r]);
            let out = out.as_string::<i32>();
            assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some("a|x"), None, None]);
        }
    }

    #[test]
    fn coercion_follows_the_catalogue() {
        let summarize = spec("summarize_turns");
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)));
        let coerced = coerce_all(summarize, &[list.clone(), list, DataType::Int32]).unwrap();
        assert_eq!(coerced, [text_list(), text_list(), DataType::Int64]);
        let e = coerce_all(summarize, &[DataType::Utf8, text_list()]).unwrap_err().to_string();
        assert!(
            e.contains(
                "summarize_turns(roles, texts [, sentences]): argument 1 (roles) has type Utf8, expected text[]"
            ),
            "{e}"
        );
        let e = coerce_all(spec("tones"), &[]).unwrap_err().to_string();
        assert!(e.contains("tones(text): got 0 argument(s)"), "{e}");
    }
}
