//! The taxonomy functions in DataFusion: `classify_intent`, `classify_intent_explain`,
//! `tag_topics` and `taxonomy_version`. Each call classifies its whole batch at once, so the
//! texts the rules do not decide go through the embedding model together.
//!
//! The taxonomy argument is a name (a taxonomy of the project, registered when the engine
//! starts) or the taxonomy's YAML. The logic is `convlytics_core::classify`'s.

use std::sync::{Arc, LazyLock};

use convlytics_core::classify::{self, Classifier, Explanation};
use convlytics_core::taxonomy;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, ListBuilder, RecordBatch, StringArray, StringBuilder, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, DataFusionError, Result};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::string_literal;
use super::strings::StringColumn;

/// Which taxonomy function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Classify {
    /// `classify_intent(text, taxonomy)`: the intent.
    Intent,
    /// `classify_intent_explain(text, taxonomy)`: the intent with its evidence.
    Explain,
    /// `tag_topics(text, taxonomy)`: the topics.
    Topics,
    /// `taxonomy_version(taxonomy)`: the content hash.
    Version,
}

/// `classify_intent_explain`'s columns, in order (PostgreSQL's set-returning function has the same).
pub const EXPLAIN_COLUMNS: [&str; 7] =
    ["label", "confidence", "runner_up", "runner_up_confidence", "method", "evidence", "taxonomy_version"];

/// `classify_intent_explain`'s fields: the confidences are floats, the rest text.
static EXPLAIN_FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let kind = |n: &str| if n.ends_with("confidence") { DataType::Float64 } else { DataType::Utf8 };
    EXPLAIN_COLUMNS.iter().map(|n| Field::new(*n, kind(n), true)).collect()
});

impl Classify {
    /// Every taxonomy function.
    pub const ALL: [Classify; 4] = [Classify::Intent, Classify::Explain, Classify::Topics, Classify::Version];

    fn name(self) -> &'static str {
        match self {
            Classify::Intent => "classify_intent",
            Classify::Explain => "classify_intent_explain",
            Classify::Topics => "tag_topics",
            Classify::Version => "taxonomy_version",
        }
    }

    /// The scalar UDF.
    pub fn udf(self) -> ScalarUDF {
        let types = vec![DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8];
        let arity = if self == Classify::Version { 1 } else { 2 };
        let signature = Signature::one_of(vec![TypeSignature::Uniform(arity, types)], Volatility::Immutable);
        ScalarUDF::from(ClassifyUdf { kind: self, signature })
    }

    fn error(self, e: convlytics_core::Error) -> DataFusionError {
        DataFusionError::Execution(format!("{}: {e}", self.name()))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ClassifyUdf {
    kind: Classify,
    signature: Signature,
}

/// The classifier of `argument`, saying once when it runs on rules alone.
fn classifier(kind: Classify, argument: &str) -> Result<Arc<Classifier>> {
    let classifier = classify::resolve(argument).map_err(|e| kind.error(e))?;
    if let Some(notice) = classify::rules_only_notice(&classifier) {
        eprintln!("warning: {notice}");
    }
    Ok(classifier)
}

impl ScalarUDFImpl for ClassifyUdf {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Classify::Intent | Classify::Version => DataType::Utf8,
            Classify::Explain => DataType::Struct(EXPLAIN_FIELDS.clone()),
            Classify::Topics => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns = arrays.iter().map(StringColumn::new).collect::<Result<Vec<_>>>()?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let taxonomy_column = columns.last().expect("one or two arguments");
        // Rows are classified in runs that share a taxonomy (almost always one run).
        let mut start = 0;
        let mut explained: Vec<Option<Explanation>> = Vec::with_capacity(rows);
        let mut topics: Vec<Option<Vec<String>>> = Vec::with_capacity(rows);
        let mut versions: Vec<Option<String>> = Vec::with_capacity(rows);
        while start < rows {
            let taxonomy = taxonomy_column.get(start);
            let end = (start + 1..rows).find(|&i| taxonomy_column.get(i) != taxonomy).unwrap_or(rows);
            let Some(taxonomy) = taxonomy else {
                explained.extend((start..end).map(|_| None));
                topics.extend((start..end).map(|_| None));
                versions.extend((start..end).map(|_| None));
                start = end;
                continue;
            };
            let texts: Vec<Option<&str>> = (start..end).map(|i| columns[0].get(i)).collect();
            match self.kind {
                Classify::Intent | Classify::Explain => {
                    explained.extend(classifier(self.kind, taxonomy)?.explain(&texts).map_err(|e| self.kind.error(e))?)
                }
                Classify::Topics => {
                    topics.extend(classifier(self.kind, taxonomy)?.topics(&texts).map_err(|e| self.kind.error(e))?)
                }
                Classify::Version => {
                    let version = classify::version(taxonomy).map_err(|e| self.kind.error(e))?;
                    versions.extend((start..end).map(|_| Some(version.clone())));
                }
            }
            start = end;
        }
        let array: ArrayRef = match self.kind {
            Classify::Intent => {
                Arc::new(explained.iter().map(|e| e.as_ref().map(|e| e.label.as_str())).collect::<StringArray>())
            }
            Classify::Version => Arc::new(versions.into_iter().collect::<StringArray>()),
            Classify::Topics => {
                let mut list = ListBuilder::new(StringBuilder::new());
                for row in topics {
                    match row {
                        Some(labels) => {
                            labels.iter().for_each(|l| list.values().append_value(l));
                            list.append(true);
                        }
                        None => list.append(false),
                    }
                }
                Arc::new(list.finish())
            }
            Classify::Explain => explain_array(&explained)?,
        };
        if all_scalar {
            return Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(&array, 0)?));
        }
        Ok(ColumnarValue::Array(array))
    }
}

fn explain_array(rows: &[Option<Explanation>]) -> Result<ArrayRef> {
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    Ok(Arc::new(StructArray::try_new(EXPLAIN_FIELDS.clone(), explain_columns(rows), Some(nulls))?))
}

/// One column per `classify_intent_explain` field.
fn explain_columns(rows: &[Option<Explanation>]) -> Vec<ArrayRef> {
    let text = |f: fn(&Explanation) -> Option<String>| {
        Arc::new(rows.iter().map(|e| e.as_ref().and_then(f)).collect::<StringArray>()) as ArrayRef
    };
    let float = |f: fn(&Explanation) -> Option<f64>| {
        Arc::new(rows.iter().map(|e| e.as_ref().and_then(f)).collect::<Float64Array>()) as ArrayRef
    };
    vec![
        text(|e| Some(e.label.clone())),
        float(|e| Some(e.confidence)),
        text(|e| e.runner_up.clone()),
        float(|e| e.runner_up_confidence),
        text(|e| Some(e.method.to_owned())),
        text(|e| Some(e.evidence_json())),
        text(|e| Some(e.taxonomy_version.clone())),
    ]
}

/// `register_taxonomy(definition)`: validates the taxonomies of a YAML document and makes each
/// known by name in this process, as PostgreSQL's function stores them in
/// `convlytics.taxonomies`. One row per taxonomy: its name and version.
#[derive(Debug)]
pub struct RegisterTaxonomy;

impl TableFunctionImpl for RegisterTaxonomy {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() != 1 {
            return plan_err!("register_taxonomy(definition) takes one argument, got {}", exprs.len());
        }
        let parsed = match string_literal(&exprs[0], "register_taxonomy", 1)? {
            Some(definition) => {
                taxonomy::parse(&definition).map_err(|e| DataFusionError::Plan(format!("register_taxonomy: {e}")))?
            }
            None => Vec::new(),
        };
        let (names, versions): (Vec<String>, Vec<String>) =
            parsed.iter().map(|t| (t.name.clone(), t.version())).unzip();
        parsed.into_iter().for_each(classify::register);
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("version", DataType::Utf8, false),
        ]));
        let columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(names)), Arc::new(StringArray::from(versions))];
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// `classify_intent_explain(text, taxonomy)` as a table function over constants: one row with
/// the columns of PostgreSQL's set-returning function.
#[derive(Debug)]
pub struct ExplainTable;

impl TableFunctionImpl for ExplainTable {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let kind = Classify::Explain;
        let exprs = args.exprs();
        if exprs.len() != 2 {
            return plan_err!("classify_intent_explain(text, taxonomy) takes two arguments, got {}", exprs.len());
        }
        let text = string_literal(&exprs[0], kind.name(), 1)?;
        let taxonomy = string_literal(&exprs[1], kind.name(), 2)?;
        // STRICT, as on PostgreSQL: a NULL argument gives no rows.
        let rows = match (text, taxonomy) {
            (Some(text), Some(taxonomy)) => {
                classifier(kind, &taxonomy)?.explain(&[Some(&text)]).map_err(|e| kind.error(e))?
            }
            _ => Vec::new(),
        };
        let schema = Arc::new(Schema::new(EXPLAIN_FIELDS.clone()));
        let batch = RecordBatch::try_new(schema.clone(), explain_columns(&rows))?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
