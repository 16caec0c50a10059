//! The 0.1.0 entry points of the functions whose result type changed in 0.2.0 (their JSON is
//! `jsonb` now, `text` then). A database keeps calling its installed version's entry points
//! until `ALTER EXTENSION pg_convlytics UPDATE`, so each is kept here, with 0.1.0's result, and
//! left out of 0.2.0's SQL (`sql = false`): a database on 0.1.0 works with this library, and
//! `CREATE EXTENSION pg_convlytics VERSION '0.1.0'` still installs. The logic is the same core
//! call as the 0.2.0 function's.

use convlytics_core::{entities, resolution, sentiment};
use pgrx::prelude::*;

use crate::classify::{explain_one, session, sync_registered};
use crate::error::check;
use crate::signals::resolved;
use crate::text::{Text, TextArray};

/// 0.1.0's `detect_pii(text) returns text`.
#[pg_extern(sql = false)]
fn detect_pii(text: Text<'_>) -> String {
    let text = text.get("detect_pii", "text");
    check("detect_pii", convlytics_core::pii::detect_pii_text(text, None))
}

/// 0.1.0's `detect_pii(text, policy) returns text`.
#[pg_extern(sql = false)]
fn detect_pii_with_policy(text: Text<'_>, policy: Text<'_>) -> String {
    let text = text.get("detect_pii_with_policy", "text");
    let policy = policy.get("detect_pii_with_policy", "policy");
    check("detect_pii", convlytics_core::pii::detect_pii_text(text, Some(policy)))
}

/// 0.1.0's `sentiment_explain(text) returns text`.
#[pg_extern(sql = false)]
fn sentiment_explain(text: Text<'_>) -> String {
    let text = text.get("sentiment_explain", "text");
    sentiment::sentiment_explain_text(text)
}

/// 0.1.0's `tones(text) returns text`.
#[pg_extern(sql = false)]
fn tones(text: Text<'_>) -> String {
    let text = text.get("tones", "text");
    sentiment::tones_text(text)
}

/// 0.1.0's `extract_entities(text) returns text`.
#[pg_extern(sql = false)]
fn extract_entities(text: Text<'_>) -> String {
    let text = text.get("extract_entities", "text");
    check("extract_entities", entities::extract_entities_text(session(), text, None))
}

/// 0.1.0's `extract_entities(text, taxonomy) returns text`.
#[pg_extern(sql = false)]
fn extract_entities_with_taxonomy(text: Text<'_>, taxonomy: Text<'_>) -> String {
    let text = text.get("extract_entities_with_taxonomy", "text");
    let taxonomy = taxonomy.get("extract_entities_with_taxonomy", "taxonomy");
    sync_registered("extract_entities", taxonomy);
    check("extract_entities", entities::extract_entities_text(session(), text, Some(taxonomy)))
}

/// 0.1.0's `resolution_explain(roles, texts) returns text`.
#[pg_extern(sql = false)]
fn resolution_explain(roles: TextArray<'_>, texts: TextArray<'_>) -> String {
    resolved("resolution_explain", roles, texts, None, resolution::explain_text)
}

/// 0.1.0's `resolution_explain(roles, texts, taxonomy) returns text`.
#[pg_extern(sql = false)]
fn resolution_explain_with_taxonomy(roles: TextArray<'_>, texts: TextArray<'_>, taxonomy: Text<'_>) -> String {
    let taxonomy = taxonomy.get("resolution_explain_with_taxonomy", "taxonomy");
    resolved("resolution_explain", roles, texts, Some(taxonomy), resolution::explain_text)
}

/// 0.1.0's `classify_intent_explain(text, taxonomy)`, whose `evidence` column was `text`.
#[allow(clippy::type_complexity)]
#[pg_extern(sql = false)]
fn classify_intent_explain(
    text: Text<'_>,
    taxonomy: Text<'_>,
) -> TableIterator<
    'static,
    (
        name!(label, String),
        name!(confidence, f64),
        name!(runner_up, Option<String>),
        name!(runner_up_confidence, Option<f64>),
        name!(method, String),
        name!(evidence, String),
        name!(taxonomy_version, String),
    ),
> {
    let text = text.get("classify_intent_explain", "text");
    let taxonomy = taxonomy.get("classify_intent_explain", "taxonomy");
    let e = explain_one("classify_intent_explain", text, taxonomy);
    let evidence = e.evidence_json();
    TableIterator::once((
        e.label,
        e.confidence,
        e.runner_up,
        e.runner_up_confidence,
        e.method.to_owned(),
        evidence,
        e.taxonomy_version,
    ))
}
