//! The convlytics SQL functions as DataFusion scalar UDFs.
//!
//! Each UDF works on whole Arrow arrays and accepts `Utf8`, `LargeUtf8` and `Utf8View` input
//! (Parquet strings arrive as `Utf8View`). The logic is `convlytics-core`'s; this module only
//! converts Arrow values to Rust ones and back.

mod strings;

use datafusion::prelude::SessionContext;

use strings::StringFunction;

/// Every convlytics function, as registered in DataFusion.
pub fn udfs() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        StringFunction::udf("conversation_id", 2, |args| {
            Some(convlytics_core::conversation_id(args[0], args[1]).to_string())
        }),
        StringFunction::udf("detect_language", 1, |args| convlytics_core::detect_language(args[0])),
    ]
}

/// Registers every convlytics function in `ctx`.
pub fn register(ctx: &SessionContext) {
    for udf in udfs() {
        ctx.register_udf(udf);
    }
}
