//! One row per payload: turn counts, times, metadata, voice metrics, or the reason it could not
//! be read.

use chrono::{DateTime, Utc};

use super::metrics::{voice_metrics, VoiceMetrics};
use super::roles::role_of_name;
use super::{parse, Role, Settings, Turn};
use crate::error::{Error, Result};

/// What `transcript_info` returns for one payload.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Info {
    /// How many turns the payload has.
    pub turn_count: u32,
    /// Turns by the customer.
    pub customer_turns: u32,
    /// Turns by agents.
    pub agent_turns: u32,
    /// Turns by bots.
    pub bot_turns: u32,
    /// When the conversation started (UTC): the payload's own start, else its first message.
    pub started_at: Option<DateTime<Utc>>,
    /// When its last message was sent (UTC).
    pub ended_at: Option<DateTime<Utc>>,
    /// Length in milliseconds: from the first turn's start to the last turn's end for timed
    /// transcripts, else from `started_at` to `ended_at`.
    pub duration_ms: Option<i64>,
    /// The subject or title.
    pub subject: Option<String>,
    /// The assigned agent from the payload, else the first named agent who spoke.
    pub agent: Option<String>,
    /// The queue, team or group.
    pub queue: Option<String>,
    /// The channel within the platform.
    pub platform: Option<String>,
    /// The campaign the conversation started from.
    pub campaign: Option<String>,
    /// For email: the Message-ID that names the thread.
    pub thread_id: Option<String>,
    /// For email: the payload's earliest message's own Message-ID, so a reply that names only
    /// its parent (In-Reply-To) can be joined to the parent's thread.
    pub message_id: Option<String>,
    /// Voice metrics, for transcripts with start and end times.
    pub voice: Option<VoiceMetrics>,
    /// Why the payload could not be read; everything else is empty then.
    pub quarantine_reason: Option<String>,
}

/// The [`Info`] of a payload; an unreadable payload gives its `quarantine_reason`.
pub fn info(payload: &str, format: &str, settings: &Settings) -> Result<Info> {
    let transcript = match parse(payload, format, settings) {
        Ok(t) => t,
        Err(Error::Unreadable(reason)) => return Ok(Info { quarantine_reason: Some(reason), ..Info::default() }),
        Err(e) => return Err(e),
    };
    let turns = &transcript.turns;
    let meta = transcript.meta;
    let count = |role: Role| turns.iter().filter(|t| t.role == role).count() as u32;
    let sent = turns.iter().filter_map(|t| t.sent_at);
    let started_at = meta.started_at.or_else(|| sent.clone().min());
    let ended_at = sent.max();
    let starts = turns.iter().filter_map(|t| t.start_ms).min();
    let ends = turns.iter().filter_map(|t| t.end_ms).max();
    let duration_ms = match (starts, ends, started_at, ended_at) {
        (Some(s), Some(e), _, _) => Some(e - s),
        (_, _, Some(s), Some(e)) => Some((e - s).num_milliseconds()),
        _ => None,
    };
    Ok(Info {
        turn_count: turns.len() as u32,
        customer_turns: count(Role::Customer),
        agent_turns: count(Role::Agent),
        bot_turns: count(Role::Bot),
        started_at,
        ended_at,
        duration_ms,
        subject: meta.subject,
        agent: meta.agent.or_else(|| named_agent(turns)),
        queue: meta.queue,
        platform: meta.platform,
        campaign: meta.campaign,
        thread_id: meta.thread_id,
        message_id: meta.message_id,
        voice: voice_metrics(turns, settings.silence_ms),
        quarantine_reason: None,
    })
}

/// The first agent who spoke under a name of their own (not just "Agent" or "Support").
fn named_agent(turns: &[Turn]) -> Option<String> {
    turns
        .iter()
        .filter(|t| t.role == Role::Agent)
        .filter_map(|t| t.speaker.as_deref())
        .find(|s| !(s.split_whitespace().count() == 1 && role_of_name(s).is_some()))
        .map(str::to_string)
}
