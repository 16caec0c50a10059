//! The signal functions: adapters over `convlytics_core`'s sentiment, resolution, entities and
//! summarize modules. Turns are passed as two arrays, `array_agg(role order by ...)` and
//! `array_agg(text order by ...)`; a NULL element reads as an empty string.
//!
//! `sentiment_explain`, `tones`, `extract_entities` and `resolution_explain` return `jsonb`
//! since 0.2.0; their entry points are new symbols (`*_json`), so a database still on 0.1.0's
//! `text` definitions never reads a `jsonb` result as text.

use convlytics_core::{entities, resolution, sentiment, summarize};
use pgrx::prelude::*;

use crate::classify::{session, sync_registered};
use crate::error::check;
use crate::jsonb;

/// The sentiment of `text` in [-1, 1].
#[pg_extern(immutable, parallel_safe, strict)]
fn sentiment(text: &str) -> f64 {
    sentiment::sentiment(text)
}

/// The sentiment of `text` with the cues and rules that decided it.
#[pg_extern(immutable, parallel_safe, strict, name = "sentiment_explain")]
fn sentiment_explain_json(text: &str) -> pgrx::JsonB {
    jsonb("sentiment_explain", sentiment::sentiment_explain_text(text))
}

/// Frustration, urgency, confusion and satisfaction of `text` with their evidence.
#[pg_extern(immutable, parallel_safe, strict, name = "tones")]
fn tones_json(text: &str) -> pgrx::JsonB {
    jsonb("tones", sentiment::tones_text(text))
}

/// The built-in entities of `text` (money, dates, durations).
#[pg_extern(immutable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities_json(text: &str) -> pgrx::JsonB {
    entities_of(text, None)
}

/// The entities of `text` under `taxonomy` (a registered name or YAML).
#[pg_extern(stable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities_with_taxonomy_json(text: &str, taxonomy: &str) -> pgrx::JsonB {
    sync_registered("extract_entities", taxonomy);
    entities_of(text, Some(taxonomy))
}

fn entities_of(text: &str, taxonomy: Option<&str>) -> pgrx::JsonB {
    const NAME: &str = "extract_entities";
    jsonb(NAME, check(NAME, entities::extract_entities_text(session(), text, taxonomy)))
}

/// An extractive summary of `text`: its two most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize(text: &str) -> String {
    summarize::summarize(text, summarize::DEFAULT_SENTENCES)
}

/// An extractive summary of `text`: its `sentences` most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize_n(text: &str, sentences: i64) -> String {
    summarize::summarize(text, check("summarize", summarize::sentence_count(sentences)))
}

/// A conversation's problem and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns(roles: Turns<'_>, texts: Turns<'_>) -> String {
    turns_summary(roles, texts, summarize::DEFAULT_SENTENCES)
}

/// A conversation's problem (in `sentences - 1` sentences) and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns_n(roles: Turns<'_>, texts: Turns<'_>, sentences: i64) -> String {
    turns_summary(roles, texts, check("summarize_turns", summarize::sentence_count(sentences)))
}

/// How a conversation ended: solved, escalated, handoff, abandoned or unresolved.
#[pg_extern(immutable, parallel_safe, strict, name = "resolution_status")]
fn resolution_status(roles: Turns<'_>, texts: Turns<'_>) -> String {
    resolved("resolution_status", roles, texts, None, resolution::status_text)
}

/// How a conversation ended, with a taxonomy's resolution phrases.
#[pg_extern(stable, parallel_safe, strict, name = "resolution_status")]
fn resolution_status_with_taxonomy(roles: Turns<'_>, texts: Turns<'_>, taxonomy: &str) -> String {
    resolved("resolution_status", roles, texts, Some(taxonomy), resolution::status_text)
}

/// How a conversation ended, with the turn and phrase that decided it and every signal.
#[pg_extern(immutable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain_json(roles: Turns<'_>, texts: Turns<'_>) -> pgrx::JsonB {
    jsonb("resolution_explain", resolved("resolution_explain", roles, texts, None, resolution::explain_text))
}

/// [`resolution_explain_json`] with a taxonomy's resolution phrases.
#[pg_extern(stable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain_with_taxonomy_json(roles: Turns<'_>, texts: Turns<'_>, taxonomy: &str) -> pgrx::JsonB {
    let explained = resolved("resolution_explain", roles, texts, Some(taxonomy), resolution::explain_text);
    jsonb("resolution_explain", explained)
}

type TurnsFn =
    fn(&convlytics_core::taxonomy::Registry, &[&str], &[&str], Option<&str>) -> convlytics_core::Result<String>;

fn resolved(function: &str, roles: Turns<'_>, texts: Turns<'_>, taxonomy: Option<&str>, run: TurnsFn) -> String {
    if let Some(t) = taxonomy {
        sync_registered(function, t);
    }
    let (roles, texts) = (plain(&roles), plain(&texts));
    check(function, run(session(), &roles, &texts, taxonomy))
}

fn turns_summary(roles: Turns<'_>, texts: Turns<'_>, sentences: usize) -> String {
    let (roles, texts) = (plain(&roles), plain(&texts));
    check("summarize_turns", summarize::summarize_turns(&roles, &texts, sentences))
}

/// A turn list as PostgreSQL passes it: `text[]`, borrowed from the datum.
type Turns<'a> = Array<'a, &'a str>;

fn plain<'b>(values: &'b Turns<'_>) -> Vec<&'b str> {
    values.iter().map(Option::unwrap_or_default).collect()
}
