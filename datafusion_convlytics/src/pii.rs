//! `detect_pii(text [, policy])` and `redact_pii(text [, policy])`: adapters over
//! `convlytics_core::pii`.

use std::sync::Arc;

use convlytics_core::pii::{detect_pii_text, redact_pii_text};
use convlytics_core::taxonomy::Registry;
use datafusion::logical_expr::ScalarUDF;

use crate::udf::Udf;

/// The PII functions.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![
        Udf::text("detect_pii", session, |_, a| detect_pii_text(a[0], a.get(1).copied()).map(Some)),
        Udf::text("redact_pii", session, |_, a| redact_pii_text(a[0], a.get(1).copied()).map(Some)),
    ]
}
