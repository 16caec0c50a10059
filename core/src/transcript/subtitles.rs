//! Timed transcripts from speech-to-text services: WebVTT (speakers in `<v Name>` voice tags, or
//! a `Name:` prefix) and SRT (speakers in a `Name:` or `[Name]` prefix).
//!
//! Cues are ordered by start time; consecutive cues of one speaker with a pause no longer than
//! `silence_ms` between them are one turn. Overlapping cues are kept (they are what the overlap
//! and interruption metrics count); a cue that ends before it starts, or timing that is not a
//! clock, makes the payload unreadable.

use std::sync::LazyLock;

use regex::Regex;

use super::time::offset_ms;
use super::{RawTurn, Settings};
use crate::error::{Error, Result};
use crate::interrupt::Every;

/// One cue's text split by speaker.
struct Cue {
    start: i64,
    end: i64,
    speaker: Option<String>,
    text: String,
}

static VOICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<v(?:\.[^ \t>]*)?[ \t]+([^>]*)>").expect("voice tag regex"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>|\{\\[^}]*\}").expect("tag regex"));
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:>>\s*)?(?:\[(?P<b>[^\]]{1,40})\]|(?P<n>\p{L}[\p{L}\p{N} .'_-]{0,39}?)\s*:)\s*(?P<t>.*)$")
        .expect("speaker prefix regex")
});

fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Cue text without tags and entities, its whitespace collapsed.
fn clean(text: &str) -> String {
    let untagged = if text.contains(['<', '{']) { TAG.replace_all(text, "") } else { text.into() };
    unescape(&untagged).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cue text cleaned, with a `Name:` / `[Name]` prefix split off when there is one.
fn speaker_and_text(text: &str) -> (Option<String>, String) {
    let text = clean(text);
    if let Some(c) = PREFIX.captures(&text) {
        let name = c.name("b").or_else(|| c.name("n")).map(|m| m.as_str().trim().to_string());
        if name.as_ref().is_some_and(|n| n.split_whitespace().count() <= 4) {
            return (name, c["t"].trim().to_string());
        }
    }
    (None, text)
}

/// The `start --> end` line of a cue.
fn timing(line: &str, cue: usize) -> Result<(i64, i64)> {
    let bad = || Error::Unreadable(format!("cue {cue}: timing '{}' is not 'start --> end'", line.trim()));
    let (start, rest) = line.split_once("-->").ok_or_else(bad)?;
    let end = rest.split_whitespace().next().ok_or_else(bad)?;
    let (start, end) = (offset_ms(start).ok_or_else(bad)?, offset_ms(end).ok_or_else(bad)?);
    if end < start {
        return Err(Error::Unreadable(format!("cue {cue}: ends at {} ms, before it starts at {} ms", end, start)));
    }
    Ok((start, end))
}

/// The turns of a WebVTT file.
pub(crate) fn read_vtt(payload: &str, settings: &Settings) -> Result<Vec<RawTurn>> {
    let body = payload.trim_start_matches('\u{feff}');
    if !body.starts_with("WEBVTT") {
        return Err(Error::Unreadable("not WebVTT: the first line must start with WEBVTT".into()));
    }
    let mut cues = Vec::new();
    let mut poll = Every::new(1024);
    for (n, block) in blocks(body).into_iter().enumerate().skip(1) {
        poll.step()?;
        let first = block[0];
        if ["NOTE", "STYLE", "REGION"].iter().any(|k| first.starts_with(k)) {
            continue;
        }
        let Some(at) = block.iter().position(|l| l.contains("-->")) else {
            return Err(Error::Unreadable(format!("block {}: a cue without a 'start --> end' line", n + 1)));
        };
        let (start, end) = timing(block[at], n)?;
        let text = block[at + 1..].join("\n");
        let voices: Vec<_> = VOICE.captures_iter(&text).collect();
        if voices.is_empty() {
            let (speaker, text) = speaker_and_text(&text);
            cues.push(Cue { start, end, speaker, text });
        } else {
            for (i, v) in voices.iter().enumerate() {
                let whole = v.get(0).expect("match");
                let until = voices.get(i + 1).map_or(text.len(), |next| next.get(0).expect("match").start());
                let spoken = clean(&text[whole.end()..until]);
                cues.push(Cue { start, end, speaker: Some(v[1].trim().to_string()), text: spoken });
            }
        }
    }
    Ok(merge(cues, settings))
}

/// The turns of an SRT file.
pub(crate) fn read_srt(payload: &str, settings: &Settings) -> Result<Vec<RawTurn>> {
    let body = payload.trim_start_matches('\u{feff}');
    let mut cues = Vec::new();
    let mut poll = Every::new(1024);
    for (n, block) in blocks(body).into_iter().enumerate() {
        poll.step()?;
        let Some(at) = block.iter().position(|l| l.contains("-->")) else {
            return Err(Error::Unreadable(format!("not SRT: subtitle {} has no 'start --> end' line", n + 1)));
        };
        let (start, end) = timing(&block[at].replace(',', "."), n + 1)?;
        let (speaker, text) = speaker_and_text(&block[at + 1..].join("\n"));
        cues.push(Cue { start, end, speaker, text });
    }
    Ok(merge(cues, settings))
}

/// Blank-line separated blocks of non-empty lines.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks: Vec<Vec<&str>> = vec![];
    let mut current: Vec<&str> = vec![];
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// Cues in start order, a speaker's consecutive cues with short pauses joined into one turn.
fn merge(mut cues: Vec<Cue>, settings: &Settings) -> Vec<RawTurn> {
    cues.sort_by_key(|c| c.start);
    let mut turns: Vec<RawTurn> = Vec::new();
    for cue in cues.into_iter().filter(|c| !c.text.is_empty()) {
        if let Some(last) = turns.last_mut() {
            let end = last.end_ms.unwrap_or(i64::MIN);
            if last.speaker == cue.speaker
                && cue.speaker.is_some()
                && cue.start >= end
                && cue.start - end <= settings.silence_ms
            {
                last.text.push('\n');
                last.text.push_str(&cue.text);
                last.end_ms = Some(cue.end);
                continue;
            }
        }
        turns.push(RawTurn {
            speaker: cue.speaker,
            text: cue.text,
            start_ms: Some(cue.start),
            end_ms: Some(cue.end),
            ..RawTurn::default()
        });
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtt_voices_and_merging() {
        let vtt = "WEBVTT\n\nNOTE made by a test\n\n1\n00:00:01.000 --> 00:00:03.000\n<v Agent>Hello &amp; welcome.</v>\n\n00:00:03.500 --> 00:00:05.000\n<v Agent>How can I help?\n\n00:00:04.500 --> 00:00:07.000 align:start\n<v.loud Customer>My <b>order</b> is late!";
        let turns = read_vtt(vtt, &Settings::default()).unwrap();
        let got: Vec<_> =
            turns.iter().map(|t| (t.speaker.as_deref().unwrap(), t.text.as_str(), t.start_ms, t.end_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("Agent", "Hello & welcome.\nHow can I help?", Some(1_000), Some(5_000)),
                ("Customer", "My order is late!", Some(4_500), Some(7_000)),
            ]
        );
    }

    #[test]
    fn srt_prefixes() {
        let srt =
            "1\n00:00:01,000 --> 00:00:02,500\nAgent: Hi.\n\n2\n00:00:03,000 --> 00:00:04,000\n[Caller] <i>Hello</i>\n";
        let turns = read_srt(srt, &Settings::default()).unwrap();
        assert_eq!(turns[1].speaker.as_deref(), Some("Caller"));
        assert_eq!(turns[1].text, "Hello");
        assert_eq!(turns[0].end_ms, Some(2_500));
    }

    #[test]
    fn broken_timing_is_a_reason() {
        let err = read_vtt("WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nhi", &Settings::default()).unwrap_err();
        assert_eq!(err.to_string(), "cue 1: ends at 1000 ms, before it starts at 5000 ms");
        assert!(read_srt("hello there", &Settings::default()).is_err());
        assert!(read_vtt("hello", &Settings::default()).is_err());
    }
}
