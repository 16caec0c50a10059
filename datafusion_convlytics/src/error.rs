//! Core errors as DataFusion errors: an execution error that names the function, so a query
//! over many rows says which call failed and why.

use datafusion::common::DataFusionError;

/// The error of `function` failing with `e`.
pub(crate) fn failed(function: &str, e: convlytics_core::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: {e}"))
}

/// The error of `function` refusing its constant arguments while a query is planned.
pub(crate) fn refused(function: &str, e: convlytics_core::Error) -> DataFusionError {
    DataFusionError::Plan(format!("{function}: {e}"))
}
