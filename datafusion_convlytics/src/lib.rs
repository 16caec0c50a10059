//! `datafusion_convlytics`: the convlytics conversation functions as Apache DataFusion scalar
//! UDFs and table functions, the mirror of the PostgreSQL extension `pg_convlytics` (the same
//! file per capability in both).
//!
//! Adapters only: each function converts Arrow arrays to Rust values, calls `convlytics-core`,
//! and converts back. What each function is (name, arguments, result, volatility) comes from
//! `convlytics_core::catalog`. Each UDF works on whole arrays and reads `Utf8`, `LargeUtf8` and
//! `Utf8View` strings alike (Parquet strings arrive as `Utf8View`).
//!
//! Registered functions belong to one `SessionContext`: the taxonomies a session registers
//! (by `register_taxonomy`, or through the [`Registry`] that [`register`] returns) are not seen
//! by another session in the same process.

mod catalog;
mod classify;
mod codec;
mod error;
mod identity;
mod language;
mod pii;
mod signals;
mod transcript;
mod udf;

use std::sync::Arc;

pub use codec::Codec;

use convlytics_core::taxonomy::Registry;
use datafusion::catalog::TableFunctionImpl;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every convlytics scalar function, bound to `session`'s taxonomies.
pub fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    let mut udfs = identity::udfs(session);
    udfs.extend(language::udfs(session));
    udfs.extend(pii::udfs(session));
    udfs.extend(transcript::udfs(session));
    udfs.extend(classify::udfs(session));
    udfs.extend(signals::udfs(session));
    udfs
}

/// Every convlytics table function by name, bound to `session`'s taxonomies: the functions that
/// return rows, over constant arguments.
pub fn udtfs(session: &Arc<Registry>) -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    let mut udtfs: Vec<(&'static str, Arc<dyn TableFunctionImpl>)> =
        vec![("stitch_identity", Arc::new(identity::StitchIdentity))];
    udtfs.extend(transcript::udtfs());
    udtfs.extend(classify::udtfs(session));
    udtfs.extend(catalog::udtfs());
    udtfs
}

/// Registers every convlytics function in `ctx` with a new, empty taxonomy registry of its own,
/// and returns that registry (to register a project's taxonomies by name).
pub fn register(ctx: &SessionContext) -> Arc<Registry> {
    let session = Arc::new(Registry::new());
    for udf in udfs(&session) {
        ctx.register_udf(udf);
    }
    for (name, udtf) in udtfs(&session) {
        ctx.register_udtf(name, udtf);
    }
    session
}
