//! `convlytics_functions()`: the function catalogue as a table, one row per form of every
//! function (the same rows as PostgreSQL's `convlytics.convlytics_functions()`).

use std::sync::Arc;

use convlytics_core::catalog::{self, FormRow};
use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use crate::udf::{literal_args, spec, table};

const NAME: &str = "convlytics_functions";

/// The table function.
pub(crate) fn udtfs() -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    vec![(NAME, Arc::new(Functions))]
}

#[derive(Debug)]
struct Functions;

impl TableFunctionImpl for Functions {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        literal_args(spec(NAME), args.exprs())?;
        let rows = catalog::rows();
        let text = |f: fn(&FormRow) -> &str| Arc::new(StringArray::from_iter_values(rows.iter().map(f))) as ArrayRef;
        let flag =
            |f: fn(&FormRow) -> bool| Arc::new(rows.iter().map(|r| Some(f(r))).collect::<BooleanArray>()) as ArrayRef;
        table(
            spec(NAME),
            vec![
                text(|r| r.name),
                text(|r| &r.arguments),
                text(|r| &r.returns),
                text(|r| r.volatility),
                flag(|r| r.strict),
                flag(|r| r.parallel_safe),
                text(|r| r.summary),
            ],
        )
    }
}
