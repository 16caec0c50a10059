//! The convlytics SQL functions as DataFusion scalar UDFs.
//!
//! Each UDF works on whole Arrow arrays and accepts `Utf8`, `LargeUtf8` and `Utf8View` input
//! (Parquet strings arrive as `Utf8View`). The logic is `convlytics-core`'s; this module only
//! converts Arrow values to Rust ones and back.

mod classify;
mod identity;
mod signals;
mod strings;
mod transcript;

use std::sync::Arc;

use convlytics_core::identity::normalize_identifier_text;
use convlytics_core::pii::{detect_pii_text, redact_pii_text};
use convlytics_core::transcript::remove_lines;
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::Expr;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::prelude::SessionContext;

pub use classify::EXPLAIN_COLUMNS;
use classify::{Classify, ExplainTable, RegisterTaxonomy};
use strings::StringFunction;
pub use transcript::Transcript;
use transcript::TranscriptTable;

/// Every convlytics scalar function, as registered in DataFusion.
pub fn udfs() -> Vec<datafusion::logical_expr::ScalarUDF> {
    let mut udfs = vec![
        StringFunction::udf("conversation_id", &[2], |args| {
            Ok(Some(convlytics_core::conversation_id(args[0], args[1]).to_string()))
        }),
        StringFunction::udf("detect_language", &[1], |args| Ok(convlytics_core::detect_language(args[0]))),
        StringFunction::udf("normalize_identifier", &[2, 3], |args| {
            normalize_identifier_text(args[0], args[1], args.get(2).copied())
        }),
        StringFunction::udf("detect_pii", &[1, 2], |args| detect_pii_text(args[0], args.get(1).copied()).map(Some)),
        StringFunction::udf("redact_pii", &[1, 2], |args| redact_pii_text(args[0], args.get(1).copied()).map(Some)),
        StringFunction::udf("remove_lines", &[2], |args| Ok(Some(remove_lines(args[0], args[1])))),
        Transcript::Turns.udf(),
        Transcript::Info.udf(),
    ];
    udfs.extend(Classify::ALL.map(Classify::udf));
    udfs.extend(signals::udfs());
    udfs
}

/// Registers every convlytics function in `ctx`: the scalar UDFs and the table functions
/// (`stitch_identity`, `register_taxonomy`, `classify_intent_explain`,
/// and `parse_transcript` / `transcript_info` over literals).
pub fn register(ctx: &SessionContext) {
    for udf in udfs() {
        ctx.register_udf(udf);
    }
    ctx.register_udtf("stitch_identity", Arc::new(identity::StitchIdentity));
    ctx.register_udtf("register_taxonomy", Arc::new(RegisterTaxonomy));
    ctx.register_udtf("classify_intent_explain", Arc::new(ExplainTable));
    ctx.register_udtf("parse_transcript", Arc::new(TranscriptTable(Transcript::Turns)));
    ctx.register_udtf("transcript_info", Arc::new(TranscriptTable(Transcript::Info)));
}

/// A table function's argument `position` (from 1), which must be a constant string (a literal,
/// or an expression of literals such as `'a' || chr(10)`) or NULL.
fn string_literal(expr: &Expr, function: &str, position: usize) -> Result<Option<String>> {
    let simplified = ExprSimplifier::new(SimplifyContext::default()).simplify(expr.clone());
    let expr = simplified.as_ref().unwrap_or(expr);
    match expr {
        Expr::Literal(ScalarValue::Utf8(s) | ScalarValue::Utf8View(s) | ScalarValue::LargeUtf8(s), _) => Ok(s.clone()),
        Expr::Literal(ScalarValue::Null, _) => Ok(None),
        other => plan_err!("{function}: argument {position} must be a constant string, got {other}"),
    }
}
