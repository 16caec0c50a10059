//! The signal functions: adapters over `convlytics_core`'s sentiment, resolution, entities and
//! summarize modules. Turns are passed as two arrays, `array_agg(role order by ...)` and
//! `array_agg(text order by ...)`; a NULL element reads as an empty string, one that is not
//! UTF-8 is an ERROR.
//!
//! `sentiment_explain`, `tones`, `extract_entities` and `resolution_explain` return `jsonb`
//! since 0.2.0; their entry points are new symbols (`*_json`), so a database still on 0.1.0's
//! `text` definitions never reads a `jsonb` result as text.

use convlytics_core::{entities, resolution, sentiment, summarize};
use pgrx::prelude::*;

use crate::classify::{session, sync_registered};
use crate::error::check;
use crate::jsonb;
use crate::text::{turns, Text, TextArray};

/// The sentiment of `text` in [-1, 1].
#[pg_extern(immutable, parallel_safe, strict)]
fn sentiment(text: Text<'_>) -> f64 {
    let text = text.get("sentiment", "text");
    sentiment::sentiment(text)
}

/// The sentiment of `text` with the cues and rules that decided it.
#[pg_extern(immutable, parallel_safe, strict, name = "sentiment_explain")]
fn sentiment_explain_json(text: Text<'_>) -> pgrx::JsonB {
    let text = text.get("sentiment_explain", "text");
    jsonb("sentiment_explain", sentiment::sentiment_explain_text(text))
}

/// Frustration, urgency, confusion and satisfaction of `text` with their evidence.
#[pg_extern(immutable, parallel_safe, strict, name = "tones")]
fn tones_json(text: Text<'_>) -> pgrx::JsonB {
    let text = text.get("tones", "text");
    jsonb("tones", sentiment::tones_text(text))
}

/// The built-in entities of `text` (money, dates, durations).
#[pg_extern(immutable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities_json(text: Text<'_>) -> pgrx::JsonB {
    let text = text.get("extract_entities", "text");
    entities_of(text, None)
}

/// The entities of `text` under `taxonomy` (a registered name or YAML).
#[pg_extern(stable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities_with_taxonomy_json(text: Text<'_>, taxonomy: Text<'_>) -> pgrx::JsonB {
    let text = text.get("extract_entities", "text");
    let taxonomy = taxonomy.get("extract_entities", "taxonomy");
    sync_registered("extract_entities", taxonomy);
    entities_of(text, Some(taxonomy))
}

fn entities_of(text: &str, taxonomy: Option<&str>) -> pgrx::JsonB {
    const NAME: &str = "extract_entities";
    jsonb(NAME, check(NAME, entities::extract_entities_text(session(), text, taxonomy)))
}

/// An extractive summary of `text`: its two most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize(text: Text<'_>) -> String {
    let text = text.get("summarize", "text");
    summarize::summarize(text, summarize::DEFAULT_SENTENCES)
}

/// An extractive summary of `text`: its `sentences` most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize_n(text: Text<'_>, sentences: i64) -> String {
    let text = text.get("summarize", "text");
    summarize::summarize(text, check("summarize", summarize::sentence_count(sentences)))
}

/// A conversation's problem and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns(roles: TextArray<'_>, texts: TextArray<'_>) -> String {
    turns_summary(roles, texts, summarize::DEFAULT_SENTENCES)
}

/// A conversation's problem (in `sentences - 1` sentences) and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns_n(roles: TextArray<'_>, texts: TextArray<'_>, sentences: i64) -> String {
    turns_summary(roles, texts, check("summarize_turns", summarize::sentence_count(sentences)))
}

/// How a conversation ended: solved, escalated, handoff, abandoned or unresolved.
#[pg_extern(immutable, parallel_safe, strict, name = "resolution_status")]
fn resolution_status(roles: TextArray<'_>, texts: TextArray<'_>) -> String {
    resolved("resolution_status", roles, texts, None, resolution::status_text)
}

/// How a conversation ended, with a taxonomy's resolution phrases.
#[pg_extern(stable, parallel_safe, strict, name = "resolution_status")]
fn resolution_status_with_taxonomy(roles: TextArray<'_>, texts: TextArray<'_>, taxonomy: Text<'_>) -> String {
    let taxonomy = taxonomy.get("resolution_status", "taxonomy");
    resolved("resolution_status", roles, texts, Some(taxonomy), resolution::status_text)
}

/// How a conversation ended, with the turn and phrase that decided it and every signal.
#[pg_extern(immutable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain_json(roles: TextArray<'_>, texts: TextArray<'_>) -> pgrx::JsonB {
    jsonb("resolution_explain", resolved("resolution_explain", roles, texts, None, resolution::explain_text))
}

/// [`resolution_explain_json`] with a taxonomy's resolution phrases.
#[pg_extern(stable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain_with_taxonomy_json(
    roles: TextArray<'_>,
    texts: TextArray<'_>,
    taxonomy: Text<'_>,
) -> pgrx::JsonB {
    let taxonomy = taxonomy.get("resolution_explain", "taxonomy");
    let explained = resolved("resolution_explain", roles, texts, Some(taxonomy), resolution::explain_text);
    jsonb("resolution_explain", explained)
}

type TurnsFn =
    fn(&convlytics_core::taxonomy::Registry, &[&str], &[&str], Option<&str>) -> convlytics_core::Result<String>;

/// A turns function's answer, after syncing a named taxonomy.
pub(crate) fn resolved(
    function: &str,
    roles: TextArray<'_>,
    texts: TextArray<'_>,
    taxonomy: Option<&str>,
    run: TurnsFn,
) -> String {
    if let Some(t) = taxonomy {
        sync_registered(function, t);
    }
    let (roles, texts) = (turns(function, "roles", &roles), turns(function, "texts", &texts));
    check(function, run(session(), &roles, &texts, taxonomy))
}

fn turns_summary(roles: TextArray<'_>, texts: TextArray<'_>, sentences: usize) -> String {
    const NAME: &str = "summarize_turns";
    let (roles, texts) = (turns(NAME, "roles", &roles), turns(NAME, "texts", &texts));
    check(NAME, summarize::summarize_turns(&roles, &texts, sentences))
}
