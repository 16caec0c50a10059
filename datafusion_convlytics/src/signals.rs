//! The signal functions in DataFusion: `sentiment`, `sentiment_explain`, `tones`,
//! `extract_entities`, `summarize` over one text, and `resolution_status`,
//! `resolution_explain`, `summarize_turns` over a conversation's turns given as two lists
//! (`array_agg(role order by ...)`, `array_agg(text order by ...)`).
//!
//! The logic is `convlytics_core`'s; this module only reads and builds Arrow arrays.

use std::sync::Arc;

use convlytics_core::taxonomy::Registry;
use convlytics_core::{entities, resolution, sentiment, summarize};
use datafusion::arrow::array::{ArrayRef, Float64Builder, StringBuilder};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::error::failed;
use crate::udf::{list_row, Args, Udf};

/// The signal functions of `session`.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![
        Udf::of("sentiment", session, |args| {
            let texts = args.text(0)?;
            let mut out = Float64Builder::with_capacity(args.rows);
            for i in 0..args.rows {
                out.append_option(texts.get(i).map(sentiment::sentiment));
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        }),
        Udf::text("sentiment_explain", session, |_, a| Ok(Some(sentiment::sentiment_explain_text(a[0])))),
        Udf::text("tones", session, |_, a| Ok(Some(sentiment::tones_text(a[0])))),
        Udf::text("extract_entities", session, |session, a| {
            entities::extract_entities_text(session, a[0], a.get(1).copied()).map(Some)
        }),
        Udf::of("summarize", session, |args| {
            let texts = args.text(0)?;
            text_rows(args, "summarize", Some(1), |i, n| Ok(texts.get(i).map(|t| summarize::summarize(t, n))))
        }),
        Udf::of("summarize_turns", session, |args| {
            turn_rows(args, "summarize_turns", Turns::Sentences, |roles, texts, _, n| {
                summarize::summarize_turns(roles, texts, n)
            })
        }),
        Udf::of("resolution_status", session, |args| {
            turn_rows(args, "resolution_status", Turns::Taxonomy, |roles, texts, taxonomy, _| {
                resolution::status_text(args.session, roles, texts, taxonomy)
            })
        }),
        Udf::of("resolution_explain", session, |args| {
            turn_rows(args, "resolution_explain", Turns::Taxonomy, |roles, texts, taxonomy, _| {
                resolution::explain_text(args.session, roles, texts, taxonomy)
            })
        }),
    ]
}

/// A text per row from `row(i, sentences)`, NULL for rows with a NULL argument (STRICT); the
/// number of sentences is the integer argument at `sentences_at`, when it is given.
fn text_rows(
    args: &Args<'_>,
    function: &str,
    sentences_at: Option<usize>,
    mut row: impl FnMut(usize, usize) -> Result<Option<String>>,
) -> Result<ArrayRef> {
    let sentences = match sentences_at.filter(|&at| at < args.arrays.len()) {
        Some(at) => Some(args.int(at)?),
        None => None,
    };
    let mut out = StringBuilder::with_capacity(args.rows, args.rows * 64);
    for i in 0..args.rows {
        if args.any_null(i) {
            out.append_null();
            continue;
        }
        let n = match sentences {
            Some(s) => summarize::sentence_count(s.value(i)).map_err(|e| failed(function, e))?,
            None => summarize::DEFAULT_SENTENCES,
        };
        out.append_option(row(i, n)?);
    }
    Ok(Arc::new(out.finish()))
}

/// What the optional third argument of a function over turns is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Turns {
    /// The number of sentences of a summary.
    Sentences,
    /// A taxonomy with resolution phrases.
    Taxonomy,
}

/// The functions over a conversation's turns: `run(roles, texts, taxonomy, sentences)` per row;
/// a NULL element of either list reads as an empty string.
fn turn_rows(
    args: &Args<'_>,
    function: &str,
    third: Turns,
    run: impl Fn(&[&str], &[&str], Option<&str>, usize) -> convlytics_core::Result<String>,
) -> Result<ArrayRef> {
    let (roles, texts) = (args.list(0)?, args.list(1)?);
    let taxonomy = if third == Turns::Taxonomy && args.arrays.len() > 2 { Some(args.text(2)?) } else { None };
    let sentences_at = (third == Turns::Sentences).then_some(2);
    let (mut role_row, mut text_row) = (Vec::new(), Vec::new());
    text_rows(args, function, sentences_at, |i, n| {
        list_row(roles, i, &mut role_row)?;
        list_row(texts, i, &mut text_row)?;
        let taxonomy = taxonomy.as_ref().and_then(|t| t.get(i));
        run(&plain(&role_row), &plain(&text_row), taxonomy, n).map(Some).map_err(|e| failed(function, e))
    })
}

/// A turn list's elements with NULL read as the empty string.
fn plain<'a>(values: &[Option<&'a str>]) -> Vec<&'a str> {
    values.iter().map(|s| s.unwrap_or_default()).collect()
}
