//! `convlytics_functions()`: the function catalogue as rows, one per form of every function
//! (the same rows as DataFusion's `convlytics_functions()`).

use convlytics_core::catalog;
use pgrx::prelude::*;

/// Every form of every convlytics function: name, arguments, result, volatility, strictness,
/// parallel safety and a one-line summary.
// pgrx reads the output column names from the name!() tuple, so it must be written inline.
#[allow(clippy::type_complexity)]
#[pg_extern(immutable, parallel_safe, strict)]
fn convlytics_functions() -> TableIterator<
    'static,
    (
        name!(name, String),
        name!(arguments, String),
        name!(returns, String),
        name!(volatility, String),
        name!(strict, bool),
        name!(parallel_safe, bool),
        name!(summary, String),
    ),
> {
    TableIterator::new(catalog::rows().into_iter().map(|r| {
        (
            r.name.to_owned(),
            r.arguments,
            r.returns,
            r.volatility.to_owned(),
            r.strict,
            r.parallel_safe,
            r.summary.to_owned(),
        )
    }))
}
