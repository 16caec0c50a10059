//! The signal functions: adapters over `convlytics_core`'s sentiment, resolution, entities and
//! summarize modules. Turns are passed as two arrays, `array_agg(role order by ...)` and
//! `array_agg(text order by ...)`; a NULL element reads as an empty string.

use convlytics_core::{entities, resolution, sentiment, summarize};
use pgrx::prelude::*;

use crate::classify::sync_registered;

/// The sentiment of `text` in [-1, 1].
#[pg_extern(immutable, parallel_safe, strict)]
fn sentiment(text: &str) -> f64 {
    sentiment::sentiment(text)
}

/// The sentiment of `text` with the cues and rules that decided it, as JSON.
#[pg_extern(immutable, parallel_safe, strict)]
fn sentiment_explain(text: &str) -> String {
    sentiment::sentiment_explain_text(text)
}

/// Frustration, urgency, confusion and satisfaction of `text` with their evidence, as JSON.
#[pg_extern(immutable, parallel_safe, strict)]
fn tones(text: &str) -> String {
    sentiment::tones_text(text)
}

/// The built-in entities of `text` (money, dates, durations), as a JSON array.
#[pg_extern(immutable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities(text: &str) -> String {
    entities::extract_entities_text(text, None).unwrap_or_else(|e| error!("extract_entities: {e}"))
}

/// The entities of `text` under `taxonomy` (a registered name or YAML), as a JSON array.
#[pg_extern(stable, parallel_safe, strict, name = "extract_entities")]
fn extract_entities_with_taxonomy(text: &str, taxonomy: &str) -> String {
    sync_registered("extract_entities", taxonomy);
    entities::extract_entities_text(text, Some(taxonomy)).unwrap_or_else(|e| error!("extract_entities: {e}"))
}

/// An extractive summary of `text`: its two most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize(text: &str) -> String {
    summarize::summarize(text, summarize::DEFAULT_SENTENCES)
}

/// An extractive summary of `text`: its `sentences` most telling sentences.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize")]
fn summarize_n(text: &str, sentences: i64) -> String {
    summarize::summarize(text, count("summarize", sentences))
}

/// A conversation's problem and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns(roles: Turns<'_>, texts: Turns<'_>) -> String {
    turns_summary(roles, texts, summarize::DEFAULT_SENTENCES)
}

/// A conversation's problem (in `sentences - 1` sentences) and outcome from its turns.
#[pg_extern(immutable, parallel_safe, strict, name = "summarize_turns")]
fn summarize_turns_n(roles: Turns<'_>, texts: Turns<'_>, sentences: i64) -> String {
    turns_summary(roles, texts, count("summarize_turns", sentences))
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

/// How a conversation ended, with the turn and phrase that decided it and every signal, as JSON.
#[pg_extern(immutable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain(roles: Turns<'_>, texts: Turns<'_>) -> String {
    resolved("resolution_explain", roles, texts, None, resolution::explain_text)
}

/// [`resolution_explain`] with a taxonomy's resolution phrases.
#[pg_extern(stable, parallel_safe, strict, name = "resolution_explain")]
fn resolution_explain_with_taxonomy(roles: Turns<'_>, texts: Turns<'_>, taxonomy: &str) -> String {
    resolved("resolution_explain", roles, texts, Some(taxonomy), resolution::explain_text)
}

type TurnsFn = fn(&[&str], &[&str], Option<&str>) -> convlytics_core::Result<String>;

fn resolved(function: &str, roles: Turns<'_>, texts: Turns<'_>, taxonomy: Option<&str>, run: TurnsFn) -> String {
    if let Some(t) = taxonomy {
        sync_registered(function, t);
    }
    let (roles, texts) = (plain(&roles), plain(&texts));
    run(&roles, &texts, taxonomy).unwrap_or_else(|e| error!("{function}: {e}"))
}

fn turns_summary(roles: Turns<'_>, texts: Turns<'_>, sentences: usize) -> String {
    let (roles, texts) = (plain(&roles), plain(&texts));
    summarize::summarize_turns(&roles, &texts, sentences).unwrap_or_else(|e| error!("summarize_turns: {e}"))
}

/// A turn list as PostgreSQL passes it: `text[]`, borrowed from the datum.
type Turns<'a> = Array<'a, &'a str>;

fn plain<'b>(values: &'b Turns<'_>) -> Vec<&'b str> {
    values.iter().map(Option::unwrap_or_default).collect()
}

fn count(function: &str, sentences: i64) -> usize {
    summarize::sentence_count(sentences).unwrap_or_else(|e| error!("{function}: {e}"))
}
