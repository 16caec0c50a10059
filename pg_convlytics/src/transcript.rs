//! `parse_transcript` and `transcript_info`: set-returning adapters over
//! `convlytics_core::transcript`, with the same columns as the DataFusion table functions.

use convlytics_core::transcript::{format_time, parse_transcript_text, transcript_info_text};
use pgrx::prelude::*;

use crate::error::check;
use crate::text::Text;

/// The turns of `payload` read as `format` (plain, vtt, srt, email, json, jsonl, a preset, or a
/// mapping in `settings`); no rows when the payload cannot be read (see `transcript_info`).
// pgrx reads the output column names from the name!() tuple, so it must be written inline.
#[allow(clippy::type_complexity)]
#[pg_extern(immutable, parallel_safe, strict)]
fn parse_transcript(
    payload: Text<'_>,
    format: Text<'_>,
    settings: default!(Text<'_>, "''"),
) -> TableIterator<
    'static,
    (
        name!(turn_index, i32),
        name!(role, String),
        name!(speaker, Option<String>),
        name!(text, String),
        name!(start_ms, Option<i64>),
        name!(end_ms, Option<i64>),
        name!(sent_at, Option<String>),
    ),
> {
    let payload = payload.get("parse_transcript", "payload");
    let format = format.get("parse_transcript", "format");
    let settings = settings.get("parse_transcript", "settings");
    let turns = check("parse_transcript", parse_transcript_text(payload, format, Some(settings)));
    TableIterator::new(turns.into_iter().map(|t| {
        (
            t.index as i32,
            t.role.as_str().to_string(),
            t.speaker,
            t.text,
            t.start_ms,
            t.end_ms,
            t.sent_at.as_ref().map(format_time),
        )
    }))
}

/// One row for `payload`: turn counts, times, metadata, voice metrics, or the reason it could
/// not be read.
#[allow(clippy::type_complexity)]
#[pg_extern(immutable, parallel_safe, strict)]
fn transcript_info(
    payload: Text<'_>,
    format: Text<'_>,
    settings: default!(Text<'_>, "''"),
) -> TableIterator<
    'static,
    (
        name!(turn_count, i32),
        name!(customer_turns, i32),
        name!(agent_turns, i32),
        name!(bot_turns, i32),
        name!(started_at, Option<String>),
        name!(ended_at, Option<String>),
        name!(duration_ms, Option<i64>),
        name!(subject, Option<String>),
        name!(agent, Option<String>),
        name!(queue, Option<String>),
        name!(platform, Option<String>),
        name!(campaign, Option<String>),
        name!(thread_id, Option<String>),
        name!(message_id, Option<String>),
        name!(customer_talk_ms, Option<i64>),
        name!(agent_talk_ms, Option<i64>),
        name!(talk_ratio, Option<f64>),
        name!(silence_ms, Option<i64>),
        name!(silences, Option<i64>),
        name!(overlap_ms, Option<i64>),
        name!(interruptions, Option<i64>),
        name!(longest_monologue_ms, Option<i64>),
        name!(quarantine_reason, Option<String>),
    ),
> {
    let payload = payload.get("transcript_info", "payload");
    let format = format.get("transcript_info", "format");
    let settings = settings.get("transcript_info", "settings");
    let i = check("transcript_info", transcript_info_text(payload, format, Some(settings)));
    let v = i.voice.as_ref();
    TableIterator::once((
        i.turn_count as i32,
        i.customer_turns as i32,
        i.agent_turns as i32,
        i.bot_turns as i32,
        i.started_at.as_ref().map(format_time),
        i.ended_at.as_ref().map(format_time),
        i.duration_ms,
        i.subject,
        i.agent,
        i.queue,
        i.platform,
        i.campaign,
        i.thread_id,
        i.message_id,
        v.map(|v| v.customer_talk_ms),
        v.map(|v| v.agent_talk_ms),
        v.and_then(|v| v.talk_ratio),
        v.map(|v| v.silence_ms),
        v.map(|v| v.silences),
        v.map(|v| v.overlap_ms),
        v.map(|v| v.interruptions),
        v.map(|v| v.longest_monologue_ms),
        i.quarantine_reason,
    ))
}

/// `text` without its lines that equal one of `lines` (newline-separated), ignoring leading and
/// trailing spaces: the normalized layer's removal of lines repeated across conversations.
#[pg_extern(immutable, parallel_safe, strict)]
fn remove_lines(text: Text<'_>, lines: Text<'_>) -> String {
    let text = text.get("remove_lines", "text");
    let lines = lines.get("remove_lines", "lines");
    convlytics_core::transcript::remove_lines(text, lines)
}
