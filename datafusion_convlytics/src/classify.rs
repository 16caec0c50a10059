//! The taxonomy functions in DataFusion: `register_taxonomy` (a table function),
//! `classify_intent`, `classify_intents`, `classify_intent_explain` (scalar, and a table function
//! over constants), `tag_topics` and `taxonomy_version`. Each call classifies its whole batch at
//! once, so the texts the rules do not decide go through the embedding model together.
//!
//! The taxonomy argument is a name registered in this session (the compiler registers the
//! project's taxonomies; `register_taxonomy` adds more) or the taxonomy's YAML. The logic is
//! `convlytics_core::classify`'s.

use std::sync::Arc;

use convlytics_core::classify::{self, Classifier, Explanation};
use convlytics_core::taxonomy::{self, Registry};
use datafusion::arrow::array::{Array, ArrayRef, Float64Array, ListBuilder, StringArray, StringBuilder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::error::{failed, refused};
use crate::udf::{fields, list_row, literal_args, spec, table, Args, Udf};

const EXPLAIN: &str = "classify_intent_explain";

/// The scalar taxonomy functions of `session`.
pub(crate) fn udfs(session: &Arc<Registry>) -> Vec<ScalarUDF> {
    vec![
        Udf::of("classify_intent", session, |args| {
            let explained = explain_rows("classify_intent", args)?;
            Ok(Arc::new(explained.iter().map(|e| e.as_ref().map(|e| e.label.as_str())).collect::<StringArray>())
                as ArrayRef)
        }),
        Udf::of("classify_intents", session, classify_lists),
        Udf::of(EXPLAIN, session, |args| {
            let explained = explain_rows(EXPLAIN, args)?;
            let nulls = NullBuffer::from(explained.iter().map(Option::is_some).collect::<Vec<_>>());
            let columns = explain_columns(&explained);
            Ok(Arc::new(StructArray::try_new(fields(spec(EXPLAIN).columns()), columns, Some(nulls))?) as ArrayRef)
        }),
        Udf::of("tag_topics", session, |args| {
            let mut list = ListBuilder::new(StringBuilder::new());
            for_each_run("tag_topics", args, |classifier, texts| {
                let Some(classifier) = classifier else {
                    texts.iter().for_each(|_| list.append(false));
                    return Ok(());
                };
                for row in classifier.topics(texts).map_err(|e| failed("tag_topics", e))? {
                    match row {
                        Some(labels) => {
                            labels.iter().for_each(|l| list.values().append_value(l));
                            list.append(true);
                        }
                        None => list.append(false),
                    }
                }
                Ok(())
            })?;
            Ok(Arc::new(list.finish()) as ArrayRef)
        }),
        Udf::text("taxonomy_version", session, |session, a| session.version(a[0]).map(Some)),
    ]
}

/// The classifier of `argument` in `session`, saying once per session when it runs on rules
/// alone.
fn classifier(function: &str, session: &Registry, argument: &str) -> Result<Arc<Classifier>> {
    let classifier = classify::resolve(session, argument).map_err(|e| failed(function, e))?;
    if let Some(notice) = classify::rules_only_notice(session, &classifier) {
        eprintln!("warning: {notice}");
    }
    Ok(classifier)
}

/// Calls `each` with the classifier and texts of every run of rows that share a taxonomy
/// (almost always one run); no classifier for a run whose taxonomy is NULL.
fn for_each_run(
    function: &str,
    args: &Args<'_>,
    mut each: impl FnMut(Option<&Classifier>, &[Option<&str>]) -> Result<()>,
) -> Result<()> {
    let (texts, taxonomies) = (args.text(0)?, args.text(1)?);
    let mut start = 0;
    while start < args.rows {
        let taxonomy = taxonomies.get(start);
        let end = (start + 1..args.rows).find(|&i| taxonomies.get(i) != taxonomy).unwrap_or(args.rows);
        let run: Vec<Option<&str>> = (start..end).map(|i| texts.get(i)).collect();
        match taxonomy {
            Some(taxonomy) => each(Some(&*classifier(function, args.session, taxonomy)?), &run)?,
            None => each(None, &run)?,
        }
        start = end;
    }
    Ok(())
}

/// The explained intent of every row (`None` where the text or taxonomy is NULL).
fn explain_rows(function: &str, args: &Args<'_>) -> Result<Vec<Option<Explanation>>> {
    let mut explained = Vec::with_capacity(args.rows);
    for_each_run(function, args, |classifier, texts| {
        match classifier {
            Some(c) => explained.extend(c.explain(texts).map_err(|e| failed(function, e))?),
            None => explained.extend(texts.iter().map(|_| None)),
        }
        Ok(())
    })?;
    Ok(explained)
}

/// `classify_intents(texts text[], taxonomy)`: each row's array classified in one call; NULL
/// elements stay NULL.
fn classify_lists(args: &Args<'_>) -> Result<ArrayRef> {
    const NAME: &str = "classify_intents";
    let (lists, taxonomies) = (args.list(0)?, args.text(1)?);
    let mut out = ListBuilder::new(StringBuilder::new());
    let mut texts = Vec::new();
    for i in 0..args.rows {
        let (Some(taxonomy), false) = (taxonomies.get(i), lists.is_null(i)) else {
            out.append(false);
            continue;
        };
        list_row(lists, i, &mut texts)?;
        for e in classifier(NAME, args.session, taxonomy)?.explain(&texts).map_err(|e| failed(NAME, e))? {
            out.values().append_option(e.map(|e| e.label));
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// One column per `classify_intent_explain` field.
fn explain_columns(rows: &[Option<Explanation>]) -> Vec<ArrayRef> {
    let text = |f: fn(&Explanation) -> Option<String>| {
        Arc::new(rows.iter().map(|e| e.as_ref().and_then(f)).collect::<StringArray>()) as ArrayRef
    };
    let float = |f: fn(&Explanation) -> Option<f64>| {
        Arc::new(rows.iter().map(|e| e.as_ref().and_then(f)).collect::<Float64Array>()) as ArrayRef
    };
    vec![
        text(|e| Some(e.label.clone())),
        float(|e| Some(e.confidence)),
        text(|e| e.runner_up.clone()),
        float(|e| e.runner_up_confidence),
        text(|e| Some(e.method.to_owned())),
        text(|e| Some(e.evidence_json())),
        text(|e| Some(e.taxonomy_version.clone())),
    ]
}

/// The table functions of `session`: `register_taxonomy` and `classify_intent_explain`.
pub(crate) fn udtfs(session: &Arc<Registry>) -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    vec![
        ("register_taxonomy", Arc::new(RegisterTaxonomy(session.clone()))),
        (EXPLAIN, Arc::new(ExplainTable(session.clone()))),
    ]
}

/// `register_taxonomy(definition)`: validates the taxonomies of a YAML document and makes each
/// known by name in this session, as PostgreSQL's function stores them in
/// `convlytics.taxonomies`. One row per taxonomy: its name and version.
#[derive(Debug)]
struct RegisterTaxonomy(Arc<Registry>);

impl TableFunctionImpl for RegisterTaxonomy {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        const NAME: &str = "register_taxonomy";
        let parsed = match literal_args(spec(NAME), args.exprs())?.remove(0) {
            Some(definition) => taxonomy::parse(&definition).map_err(|e| refused(NAME, e.into()))?,
            None => Vec::new(),
        };
        let (names, versions): (Vec<String>, Vec<String>) =
            parsed.into_iter().map(|t| (t.name.clone(), self.0.register(t))).unzip();
        table(spec(NAME), vec![Arc::new(StringArray::from(names)), Arc::new(StringArray::from(versions))])
    }
}

/// `classify_intent_explain(text, taxonomy)` as a table function over constants: one row with
/// the columns of PostgreSQL's set-returning function.
#[derive(Debug)]
struct ExplainTable(Arc<Registry>);

impl TableFunctionImpl for ExplainTable {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let values = literal_args(spec(EXPLAIN), args.exprs())?;
        // STRICT, as on PostgreSQL: a NULL argument gives no rows.
        let rows = match (&values[0], &values[1]) {
            (Some(text), Some(taxonomy)) => {
                classifier(EXPLAIN, &self.0, taxonomy)?.explain(&[Some(text)]).map_err(|e| refused(EXPLAIN, e))?
            }
            _ => Vec::new(),
        };
        table(spec(EXPLAIN), explain_columns(&rows))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    async fn one(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
        datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string()
    }

    #[tokio::test]
    async fn two_sessions_keep_their_own_taxonomy_of_one_name() {
        let (a, b) = (SessionContext::new(), SessionContext::new());
        crate::register(&a);
        crate::register(&b);
        one(&a, "select * from register_taxonomy('{name: t, intents: [{name: late, keywords: [late]}]}')").await;
        one(&b, "select * from register_taxonomy('{name: t, intents: [{name: slow, keywords: [late]}]}')").await;
        assert!(one(&a, "select classify_intent('it is late', 't') as l").await.contains("| late |"));
        assert!(one(&b, "select classify_intent('it is late', 't') as l").await.contains("| slow |"));
        let c = SessionContext::new();
        crate::register(&c);
        let unknown = c.sql("select classify_intent('it is late', 't')").await.unwrap().collect().await.unwrap_err();
        assert!(unknown.to_string().contains("no taxonomy named 't' (known: none)"), "{unknown}");
    }

    #[tokio::test]
    async fn classify_intents_keeps_null_elements() {
        let ctx = SessionContext::new();
        crate::register(&ctx);
        let out = one(
            &ctx,
            "select classify_intents(['refund please', null, 'hello'], '{name: b, intents: [{name: refund, keywords: [refund]}]}') as l",
        )
        .await;
        assert!(out.contains("[refund, , unknown]"), "{out}");
    }
}
