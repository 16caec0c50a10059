//! `detect_language(text)`: an adapter over `convlytics_core::language`.

use std::sync::Arc;

use convlytics_core::taxonomy::Registry;
use datafusion::logical_expr::ScalarUDF;

use crate::udf::Udf;

/// The language functions.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![Udf::text("detect_language", session, |_, a| Ok(convlytics_core::detect_language(a[0])))]
}
