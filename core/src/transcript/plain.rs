//! Plain transcripts: `Speaker: text` lines, with optional clock offsets before the name
//! (`[00:01:23] Agent: ...`, `00:01:23 - Agent: ...`) or after it (`Agent (00:01:23): ...`);
//! chat exports with dates (`[12/03/2026, 10:02:33] Ana: ...`, `12/03/2026, 10:02 - Ana: ...`,
//! `[2026-03-12 10:02] Ana: ...`) or times of day (`[10:02 AM] Ana: ...`); and call transcripts
//! that put the speaker and offset on a line of their own with the words below
//! (`Jane Doe  0:03`, `Speaker 1 (00:00:05):`).
//!
//! A `Name:` prefix starts a turn when it carries a time, the name is a configured speaker,
//! states a role (`Agent`, `Customer`, ...), opens the transcript, starts at least two lines, or
//! is written like a name (capitalized words, `Speaker 2`) and is not a field label (`Order ID`,
//! `Email`, `Tracking number`, ...). Any other line continues the turn before it.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::roles::role_of_name;
use super::time::{dated, offset_ms};
use super::{RawTurn, Settings};
use crate::error::Result;

const CLOCK: &str = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?";
const NAME: &str = r"\p{L}[\p{L}\p{N} .'’_@-]{0,39}?";

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    let stamp = format!(
        r"(?:(?P<date>\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}),?[T ]\s*)?(?P<t1>{CLOCK})(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?))?(?:Z|[+-]\d{{2}}:?\d{{2}})?"
    );
    Regex::new(&format!(
        r"^\s*(?:[\[(]?{stamp}[\])]?\s*[-–—|]?\s*)?(?P<name>{NAME})\s*(?:[\[(](?P<t2>{CLOCK})[\])])?\s*:"
    ))
    .expect("plain line regex")
});

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^\s*(?P<name>{NAME})\s*[\[(]?(?P<t2>{CLOCK})[\])]?\s*:?\s*$")).expect("plain header regex")
});

/// Words that make a once-seen prefix a field label rather than a speaker.
#[rustfmt::skip]
const LABEL_WORDS: &[&str] = &[
    "id", "no", "number", "email", "e-mail", "mail", "phone", "tel", "mobile", "fax", "address", "name", "subject",
    "date", "time", "note", "notes", "ref", "reference", "order", "account", "username", "password", "pin", "code",
    "zip", "postcode", "total", "amount", "price", "status", "tracking", "ticket", "case", "sku", "model", "serial",
    "invoice", "ps", "re", "fwd", "from", "to", "cc", "sent", "website", "url", "link", "error", "step", "question",
    "answer", "update", "edit", "warning", "tip", "example", "item", "product", "plan", "card", "balance",
];

/// Whether a prefix seen once reads as a person's name: capitalized words, none a field label.
fn looks_like_name(name: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    words.len() <= 3
        && words.iter().enumerate().all(|(i, w)| {
            let first = w.chars().next();
            (first.is_some_and(char::is_uppercase) || (i > 0 && first.is_some_and(|c| c.is_ascii_digit())))
                && !LABEL_WORDS.contains(&w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase().as_str())
        })
}

/// When a line says it was spoken or sent.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp<'a> {
    /// No time.
    None,
    /// An offset into the recording (`00:01:23`).
    Offset(&'a str),
    /// A time of day without a date (`10:02 AM`): not an offset, not a timestamp.
    TimeOfDay,
    /// A date and time (`12/03/2026, 10:02`).
    Dated { date: &'a str, clock: &'a str, pm: Option<bool> },
}

/// A line that opens with a speaker prefix, split up.
struct Prefixed<'a> {
    name: &'a str,
    stamp: Stamp<'a>,
    text: &'a str,
}

/// Longest prefix, in bytes, that can hold a stamp, a name and the colon.
const MAX_PREFIX: usize = 96;

fn prefixed(line: &str) -> Option<Prefixed<'_>> {
    let mut cut = line.len().min(MAX_PREFIX);
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &line[..cut];
    if !head.contains(':') {
        return None;
    }
    if let Some(c) = LINE.captures(head) {
        let rest = &line[c.get(0)?.end()..];
        let name = c.name("name")?.as_str().trim();
        if rest.chars().next().is_none_or(char::is_whitespace) && name.split_whitespace().count() <= 4 {
            let pm = c.name("ampm").map(|m| m.as_str().starts_with(['p', 'P']));
            let stamp = match (c.name("date"), c.name("t1").or_else(|| c.name("t2"))) {
                (Some(date), Some(clock)) => Stamp::Dated { date: date.as_str(), clock: clock.as_str(), pm },
                (None, Some(_)) if pm.is_some() => Stamp::TimeOfDay,
                (None, Some(clock)) => Stamp::Offset(clock.as_str()),
                _ => Stamp::None,
            };
            return Some(Prefixed { name, stamp, text: rest.trim() });
        }
    }
    if line.len() > MAX_PREFIX {
        return None;
    }
    let c = HEADER.captures(line)?;
    let name = c.name("name")?.as_str().trim();
    (name.split_whitespace().count() <= 4).then(|| Prefixed {
        name,
        stamp: c.name("t2").map_or(Stamp::None, |m| Stamp::Offset(m.as_str())),
        text: "",
    })
}

/// The turns of a plain transcript.
pub(crate) fn read(payload: &str, settings: &Settings) -> Result<Vec<RawTurn>> {
    let lines: Vec<(&str, Option<Prefixed<'_>>)> = payload.lines().map(|l| (l, prefixed(l))).collect();
    // Per name (case-insensitive): how many lines it starts, and whether any of them has a time.
    let mut seen: HashMap<String, (usize, bool)> = HashMap::new();
    for p in lines.iter().filter_map(|(_, p)| p.as_ref()) {
        let entry = seen.entry(p.name.to_lowercase()).or_default();
        entry.0 += 1;
        entry.1 |= p.stamp != Stamp::None;
    }
    let first_name =
        lines.iter().find(|(l, _)| !l.trim().is_empty()).and_then(|(_, p)| p.as_ref()).map(|p| p.name.to_lowercase());
    let mut speakers: HashMap<&str, bool> = HashMap::new();
    for p in lines.iter().filter_map(|(_, p)| p.as_ref()) {
        speakers.entry(p.name).or_insert_with(|| {
            let lower = p.name.to_lowercase();
            let (count, stamped) = seen[&lower];
            stamped
                || count >= 2
                || first_name.as_deref() == Some(lower.as_str())
                || settings.configured_role(p.name).is_some()
                || role_of_name(p.name).is_some()
                || looks_like_name(p.name)
        });
    }
    // Slash dates are day first when the settings say so, or when any of them cannot be month
    // first (13/03/2026).
    let day_first = settings.day_first.unwrap_or_else(|| {
        lines
            .iter()
            .filter_map(|(_, p)| match p.as_ref()?.stamp {
                Stamp::Dated { date, .. } if !date.contains('-') => date.split(['/', '.']).next()?.parse::<u32>().ok(),
                _ => None,
            })
            .any(|first| first > 12)
    });
    let mut turns: Vec<RawTurn> = Vec::new();
    for (line, prefix) in &lines {
        match prefix.as_ref().filter(|p| speakers[p.name]) {
            Some(p) => turns.push(RawTurn {
                speaker: Some(p.name.to_string()),
                text: p.text.to_string(),
                start_ms: match p.stamp {
                    Stamp::Offset(clock) => offset_ms(clock),
                    _ => None,
                },
                sent_at: match p.stamp {
                    Stamp::Dated { date, clock, pm } => dated(date, clock, pm, day_first),
                    _ => None,
                },
                ..RawTurn::default()
            }),
            None => match turns.last_mut() {
                Some(turn) => {
                    turn.text.push('\n');
                    turn.text.push_str(line.trim_end());
                }
                None if !line.trim().is_empty() => {
                    turns.push(RawTurn { text: line.trim_end().to_string(), ..RawTurn::default() })
                }
                None => {}
            },
        }
    }
    Ok(turns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_clocks_and_continuations() {
        let text = "[00:00:01] Agent: Thanks for calling.\n[00:00:04] Customer: My order ID: 123\nis late.\nCustomer (00:00:09): Also https://x.y/z";
        let turns = read(text, &Settings::default()).unwrap();
        let got: Vec<_> = turns.iter().map(|t| (t.speaker.as_deref().unwrap(), t.text.as_str(), t.start_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("Agent", "Thanks for calling.", Some(1_000)),
                ("Customer", "My order ID: 123\nis late.", Some(4_000)),
                ("Customer", "Also https://x.y/z", Some(9_000)),
            ]
        );
    }

    #[test]
    fn chat_exports_with_dates() {
        let text = "[13/03/2026, 10:02:33] Ana Ruiz: my order is late\n[13/03/2026, 10:05:00] Shop: sorry, checking\n03/14/2026, 9:00 PM - Ana Ruiz: thanks";
        let turns = read(text, &Settings::default()).unwrap();
        let got: Vec<_> =
            turns.iter().map(|t| (t.speaker.as_deref().unwrap(), t.sent_at.map(|t| t.to_rfc3339()))).collect();
        assert_eq!(
            got,
            vec![
                ("Ana Ruiz", Some("2026-03-13T10:02:33+00:00".into())),
                ("Shop", Some("2026-03-13T10:05:00+00:00".into())),
                ("Ana Ruiz", None),
            ]
        );
        let turns = read("[10:02 AM] Ana: hi\n[10:03 AM] Sam: hello", &Settings::default()).unwrap();
        assert_eq!((turns[1].speaker.as_deref(), turns[1].start_ms, turns[1].sent_at), (Some("Sam"), None, None));
    }

    #[test]
    fn speaker_lines_with_the_words_below() {
        let text = "Jane Doe  0:03\nThanks for calling, this is Jane.\n\nSpeaker 2 (00:00:09):\nHi, my bill is wrong.\nIt doubled.";
        let turns = read(text, &Settings::default()).unwrap();
        let got: Vec<_> = turns.iter().map(|t| (t.speaker.as_deref().unwrap(), t.text.trim(), t.start_ms)).collect();
        assert_eq!(
            got,
            vec![
                ("Jane Doe", "Thanks for calling, this is Jane.", Some(3_000)),
                ("Speaker 2", "Hi, my bill is wrong.\nIt doubled.", Some(9_000))
            ]
        );
    }

    #[test]
    fn a_label_said_once_is_text() {
        let text = "Maria: Hi there\nOrder ID: 3348917502\nDana: Thanks\nMaria: ok";
        let turns = read(text, &Settings::default()).unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].text, "Hi there\nOrder ID: 3348917502");
    }
}
