//! Transcripts: every channel's payload (plain speaker-prefixed text, WebVTT, SRT, JSON chat
//! exports, JSON-lines bot logs, RFC 5322 email) read into one list of turns, with the
//! conversation's metadata and, for timed transcripts, its voice metrics.
//!
//! A payload that cannot be read is an [`Error::Unreadable`] whose text is the quarantine
//! reason; the SQL functions turn it into no turns and a `quarantine_reason`, never a crash.

mod boilerplate;
mod email;
mod info;
mod json;
mod metrics;
mod plain;
mod roles;
mod settings;
mod subtitles;
mod time;

use std::sync::LazyLock;

use chrono::{DateTime, SecondsFormat, Utc};
use regex::Regex;

pub use boilerplate::remove_lines;
pub use info::{info, Info};
pub use metrics::VoiceMetrics;
pub use settings::{JsonMapping, Paths, Settings, Speakers, PRESETS};

use crate::error::{Error, Result};

/// Who is speaking, from explicit fields, configured names or the heuristics of [`roles`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person the conversation is with: the customer, caller, user or prospect.
    Customer,
    /// A person answering for the business.
    Agent,
    /// An automated assistant answering for the business.
    Bot,
    /// Messages from the platform itself (assignments, notices, disclaimers).
    System,
    /// A speaker no rule could place.
    Unknown,
}

impl Role {
    /// The role's name as the SQL functions return it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Bot => "bot",
            Role::System => "system",
            Role::Unknown => "unknown",
        }
    }
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Turn {
    /// Position in the conversation, from 1.
    pub index: u32,
    /// The speaker's role.
    pub role: Role,
    /// The speaker's name or id as the payload gives it.
    pub speaker: Option<String>,
    /// What was said, with markup, quoted replies and configured boilerplate removed.
    pub text: String,
    /// Milliseconds from the start of the recording, for timed transcripts.
    pub start_ms: Option<i64>,
    /// Milliseconds from the start of the recording at which the turn ends.
    pub end_ms: Option<i64>,
    /// When the message was sent, in UTC, for timestamped chats and emails.
    pub sent_at: Option<DateTime<Utc>>,
}

/// What a payload says about its conversation besides the turns.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Meta {
    /// The subject line (emails, tickets), without `Re:` and `Fwd:` prefixes.
    pub subject: Option<String>,
    /// The assigned agent (name or id).
    pub agent: Option<String>,
    /// The queue, team or group the conversation was routed to.
    pub queue: Option<String>,
    /// The channel or platform within the source (web widget, mobile, api, ...).
    pub platform: Option<String>,
    /// The campaign the conversation started from.
    pub campaign: Option<String>,
    /// When the conversation started, when the payload says so apart from its messages.
    pub started_at: Option<DateTime<Utc>>,
    /// For email: the Message-ID of the thread's first message.
    pub thread_id: Option<String>,
    /// For email: the payload's earliest message's own Message-ID.
    pub message_id: Option<String>,
}

/// A payload read into turns.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Transcript {
    /// The turns, in order, numbered from 1.
    pub turns: Vec<Turn>,
    /// What the payload says about the conversation.
    pub meta: Meta,
}

/// A turn as a reader finds it, before roles are settled and boilerplate is removed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawTurn {
    pub speaker: Option<String>,
    pub role: Option<Role>,
    pub text: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The formats that are not JSON, each with a reader of its own; their names cannot name a
/// JSON mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TextFormat {
    Plain,
    Vtt,
    Srt,
    Email,
}

impl TextFormat {
    /// The format a lower-case name stands for, aliases included.
    pub(crate) fn named(name: &str) -> Option<Self> {
        Some(match name {
            "plain" | "text" | "txt" => Self::Plain,
            "vtt" | "webvtt" => Self::Vtt,
            "srt" => Self::Srt,
            "email" | "eml" | "mbox" => Self::Email,
            _ => return None,
        })
    }
}

/// Reads `payload` in `format` with `settings`: the formats are `plain`, `vtt`, `srt`, `email`,
/// `json` and `jsonl` (fields guessed), the presets in [`PRESETS`], and the names of the
/// mappings in `settings.formats`.
pub fn parse(payload: &str, format: &str, settings: &Settings) -> Result<Transcript> {
    let fail = |reason: String| Error::Unreadable(reason);
    if payload.len() > settings.max_payload_bytes {
        return Err(fail(format!(
            "payload is {} bytes, over the limit of {} (settings.max_payload_bytes)",
            payload.len(),
            settings.max_payload_bytes
        )));
    }
    if payload.trim().is_empty() {
        return Err(fail("empty payload".into()));
    }
    let format = format.trim().to_ascii_lowercase();
    let (raw, meta) = match TextFormat::named(&format) {
        Some(TextFormat::Plain) => (plain::read(payload, settings)?, Meta::default()),
        Some(TextFormat::Vtt) => (subtitles::read_vtt(payload, settings)?, Meta::default()),
        Some(TextFormat::Srt) => (subtitles::read_srt(payload, settings)?, Meta::default()),
        Some(TextFormat::Email) => email::read(payload, settings)?,
        None => match settings.mapping(&format) {
            Some(mapping) => json::read(payload, mapping)?,
            None => {
                return Err(fail(format!(
                    "unknown format '{format}': expected plain, vtt, srt, email, json, jsonl, one of the presets ({}) or a mapping in settings.formats",
                    PRESETS.join(", ")
                )))
            }
        },
    };
    let meta = Meta { subject: meta.subject.as_deref().and_then(clean_subject), ..meta };
    crate::interrupt::poll()?;
    let turns = finish(raw, settings);
    crate::interrupt::poll()?;
    if turns.is_empty() {
        return Err(fail("no turns: the payload has no text in any message".into()));
    }
    Ok(Transcript { turns, meta })
}

/// Reply and forward prefixes of subject lines, in the languages mail clients write them.
static SUBJECT_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rif|antw)\s*(?:\[\d+\])?\s*:\s*)+").expect("subject prefix")
});

/// A subject without `Re:` / `Fwd:` prefixes; `None` when nothing is left.
fn clean_subject(subject: &str) -> Option<String> {
    Some(SUBJECT_PREFIX.replace(subject, "").trim().to_string()).filter(|s| !s.is_empty())
}

/// Settles roles, removes configured boilerplate lines and empty turns, and numbers the turns.
fn finish(raw: Vec<RawTurn>, settings: &Settings) -> Vec<Turn> {
    let roles = roles::assign(&raw, settings);
    raw.into_iter()
        .zip(roles)
        .filter_map(|(turn, role)| {
            let text = settings.strip_boilerplate(&turn.text);
            (!text.is_empty()).then_some(Turn {
                index: 0,
                role,
                speaker: turn.speaker,
                text,
                start_ms: turn.start_ms,
                end_ms: turn.end_ms,
                sent_at: turn.sent_at,
            })
        })
        .enumerate()
        .map(|(i, turn)| Turn { index: i as u32 + 1, ..turn })
        .collect()
}

/// A UTC time as the SQL functions return it: RFC 3339, `Z`, whole seconds unless finer.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `parse_transcript(payload, format, settings)` as SQL calls it: the turns, or none when the
/// payload cannot be read (its reason is [`Info::quarantine_reason`]). Bad settings are an error.
pub fn parse_transcript_text(payload: &str, format: &str, settings: Option<&str>) -> Result<Vec<Turn>> {
    let settings = Settings::cached(settings.unwrap_or_default())?;
    match parse(payload, format, &settings) {
        Ok(t) => Ok(t.turns),
        Err(Error::Unreadable(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// `transcript_info(payload, format, settings)` as SQL calls it: one [`Info`] per payload,
/// with `quarantine_reason` set when it cannot be read. Bad settings are an error.
pub fn transcript_info_text(payload: &str, format: &str, settings: Option<&str>) -> Result<Info> {
    let settings = Settings::cached(settings.unwrap_or_default())?;
    info(payload, format, &settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_prefixes() {
        assert_eq!(clean_subject("Re: RE: Fwd: Double charge").as_deref(), Some("Double charge"));
        assert_eq!(clean_subject("AW: Rechnung").as_deref(), Some("Rechnung"));
        assert_eq!(clean_subject("Re: "), None);
    }
}
