//! The DataFusion adapter registers exactly the catalogue: every function it adds to a session
//! is listed in `convlytics_core::catalog`, with the catalogue's volatility, and every form of
//! every listed function runs in a real query and returns the catalogue's type or columns.

use std::collections::BTreeSet;

use convlytics_core::catalog::{self, Arg, Function, Kind, Returns, Volatility};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::prelude::SessionContext;

/// How DataFusion holds each catalogue type.
fn arrow(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Taxonomy | Kind::Uuid | Kind::Json => DataType::Utf8,
        Kind::TextArray => DataType::List(Field::new_list_field(DataType::Utf8, true).into()),
        Kind::Integer => DataType::Int32,
        Kind::BigInt => DataType::Int64,
        Kind::Double => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
    }
}

/// A constant that is a valid value for `arg`.
fn sample(arg: &Arg) -> &'static str {
    const TAXONOMY: &str =
        "'{name: t, intents: [{name: a, keywords: [refund]}], topics: [{name: b, keywords: [app]}]}'";
    match arg.name {
        "source" => "'zendesk'",
        "source_id" => "'12345'",
        "kind" => "'email'",
        "value" => "'A@B.co'",
        "region" => "'GB'",
        "query" => "'select ''r1'' as record_id, ''a@b.co'' as email'",
        "settings" => "''",
        "policy" => "'{}'",
        "payload" => "'Agent: hi' || chr(10) || 'Customer: my refund?'",
        "format" => "'plain'",
        "lines" => "'hi'",
        "definition" | "taxonomy" => TAXONOMY,
        "sentences" => "1",
        "roles" => "['customer', 'agent']",
        "texts" => "['my refund?', 'done']",
        _ => match arg.kind {
            Kind::Text => "'I want a refund on the app'",
            other => panic!("no sample for argument {} of type {other:?}", arg.name),
        },
    }
}

fn call(function: &Function, args: &[Arg]) -> String {
    let values: Vec<&str> = args.iter().map(sample).collect();
    format!("{}({})", function.name, values.join(", "))
}

fn volatility(v: Volatility) -> datafusion::logical_expr::Volatility {
    match v {
        Volatility::Immutable => datafusion::logical_expr::Volatility::Immutable,
        Volatility::Stable => datafusion::logical_expr::Volatility::Stable,
        Volatility::Volatile => datafusion::logical_expr::Volatility::Volatile,
    }
}

fn registered(ctx: &SessionContext) -> (BTreeSet<String>, BTreeSet<String>) {
    let state = ctx.state();
    (state.scalar_functions().keys().cloned().collect(), state.table_functions().keys().cloned().collect())
}

#[tokio::test]
async fn the_adapter_registers_exactly_the_catalogue() {
    let ctx = SessionContext::new();
    let (udfs_before, udtfs_before) = registered(&ctx);
    datafusion_convlytics::register(&ctx);
    let (udfs_after, udtfs_after) = registered(&ctx);
    let added_udfs: BTreeSet<&str> = udfs_after.difference(&udfs_before).map(String::as_str).collect();
    let added_udtfs: BTreeSet<&str> = udtfs_after.difference(&udtfs_before).map(String::as_str).collect();
    let expect = |table: bool| -> BTreeSet<&str> {
        catalog::FUNCTIONS
            .iter()
            .filter(|f| match f.returns {
                Returns::Value { .. } => !table,
                Returns::Row(_) | Returns::Rows(_) => true,
                Returns::Table(_) => table,
            })
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(added_udfs, expect(false), "scalar functions registered vs the catalogue");
    assert_eq!(added_udtfs, expect(true), "table functions registered vs the catalogue");
}

#[tokio::test]
async fn every_form_runs_with_the_catalogue_volatility_and_columns() {
    let ctx = SessionContext::new();
    datafusion_convlytics::register(&ctx);
    let state = ctx.state();
    for function in catalog::FUNCTIONS {
        let columns: Fields =
            function.columns().iter().map(|c| Field::new(c.name, arrow(c.kind), c.nullable)).collect();
        if let Some(udf) = state.scalar_functions().get(function.name) {
            assert_eq!(udf.signature().volatility, volatility(function.most_volatile()), "{}", function.name);
        }
        for form in function.forms() {
            let call = call(function, form.args);
            if !matches!(function.returns, Returns::Table(_)) {
                let sql = format!("select {call} as v");
                let df = ctx.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                let got = df.schema().field(0).data_type().clone();
                df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                let expected = match function.returns {
                    Returns::Value { kind, .. } => arrow(kind),
                    Returns::Row(_) => DataType::Struct(columns.clone()),
                    _ => DataType::List(Field::new_list_field(DataType::Struct(columns.clone()), true).into()),
                };
                assert_eq!(got, expected, "{sql}");
            }
            if !matches!(function.returns, Returns::Value { .. }) {
                let sql = format!("select * from {call}");
                let df = ctx.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                let names: Vec<(String, DataType)> =
                    df.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
                let expected: Vec<(String, DataType)> =
                    columns.iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
                assert_eq!(names, expected, "{sql}");
                df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_argument_names_the_usage() {
    let ctx = SessionContext::new();
    datafusion_convlytics::register(&ctx);
    let e = ctx.sql("select summarize('a', 'b')").await.unwrap_err().to_string();
    assert!(e.contains("summarize(text [, sentences]): argument 2 (sentences) has type Utf8, expected bigint"), "{e}");
    let e = ctx.sql("select * from parse_transcript('x')").await.unwrap_err().to_string();
    assert!(e.contains("parse_transcript(payload, format [, settings]) takes 2 to 3 argument(s), got 1"), "{e}");
}
