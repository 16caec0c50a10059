//! The convlytics SQL functions as DataFusion scalar UDFs.
//!
//! Each UDF works on whole Arrow arrays and accepts `Utf8`, `LargeUtf8` and `Utf8View` input
//! (Parquet strings arrive as `Utf8View`). The logic is `convlytics-core`'s; this module only
//! converts Arrow values to Rust ones and back.

mod identity;
mod strings;

use std::sync::Arc;

use convlytics_core::identity::normalize_identifier_text;
use convlytics_core::pii::{detect_pii_text, redact_pii_text};
use datafusion::prelude::SessionContext;

use strings::StringFunction;

/// Every convlytics scalar function, as registered in DataFusion.
pub fn udfs() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        StringFunction::udf("conversation_id", &[2], |args| {
            Ok(Some(convlytics_core::conversation_id(args[0], args[1]).to_string()))
        }),
        StringFunction::udf("detect_language", &[1], |args| Ok(convlytics_core::detect_language(args[0]))),
        StringFunction::udf("normalize_identifier", &[2, 3], |args| {
            normalize_identifier_text(args[0], args[1], args.get(2).copied())
        }),
        StringFunction::udf("detect_pii", &[1, 2], |args| detect_pii_text(args[0], args.get(1).copied()).map(Some)),
        StringFunction::udf("redact_pii", &[1, 2], |args| redact_pii_text(args[0], args.get(1).copied()).map(Some)),
    ]
}

/// Registers every convlytics function in `ctx`: the scalar UDFs and the `stitch_identity`
/// table function.
pub fn register(ctx: &SessionContext) {
    for udf in udfs() {
        ctx.register_udf(udf);
    }
    ctx.register_udtf("stitch_identity", Arc::new(identity::StitchIdentity));
}
