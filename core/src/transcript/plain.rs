//! Plain transcripts: `Speaker: text` lines, with optional clock offsets before the name
//! (`[00:01:23] Agent: ...`, `00:01:23 - Agent: ...`) or after it (`Agent (00:01:23): ...`).
//!
//! A `Name:` prefix starts a turn when the name is a configured speaker, states a role
//! (`Agent`, `Customer`, ...), opens the transcript, starts at least two lines, or is written like
//! a name (every word capitalized) and is not a field label (`Order ID`, `Email`, `Tracking
//! number`, ...). Any other line continues the turn before it.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::roles::role_of_name;
use super::time::offset_ms;
use super::{RawTurn, Settings};
use crate::error::Result;

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    let clock = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?";
    Regex::new(&format!(
        r"^\s*(?:[\[(]?(?P<t1>{clock})[\])]?\s*[-–—|]?\s*)?(?P<name>\p{{L}}[\p{{L}}\p{{N}} .'’_@-]{{0,39}}?)\s*(?:[\[(](?P<t2>{clock})[\])])?\s*:"
    ))
    .expect("plain line regex")
});

/// Words that make a once-seen prefix a field label rather than a speaker.
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
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && !LABEL_WORDS.contains(&w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase().as_str())
        })
}

/// A line that opens with a speaker prefix, split up.
struct Prefixed<'a> {
    name: &'a str,
    clock: Option<&'a str>,
    text: &'a str,
}

/// Longest prefix, in bytes, that can hold a clock, a name and the colon.
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
    let c = LINE.captures(head)?;
    let rest = &line[c.get(0)?.end()..];
    if rest.chars().next().is_some_and(|ch| !ch.is_whitespace()) {
        return None;
    }
    let name = c.name("name")?.as_str().trim();
    if name.split_whitespace().count() > 4 {
        return None;
    }
    Some(Prefixed {
        name,
        clock: c.name("t1").or_else(|| c.name("t2")).map(|m| m.as_str()),
        text: rest.trim(),
    })
}

/// The turns of a plain transcript.
pub(crate) fn read(payload: &str, settings: &Settings) -> Result<Vec<RawTurn>> {
    let lines: Vec<(&str, Option<Prefixed<'_>>)> = payload.lines().map(|l| (l, prefixed(l))).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for p in lines.iter().filter_map(|(_, p)| p.as_ref()) {
        *counts.entry(p.name.to_lowercase()).or_default() += 1;
    }
    let first_name = lines
        .iter()
        .find(|(l, _)| !l.trim().is_empty())
        .and_then(|(_, p)| p.as_ref())
        .map(|p| p.name.to_lowercase());
    let mut speakers: HashMap<&str, bool> = HashMap::new();
    for p in lines.iter().filter_map(|(_, p)| p.as_ref()) {
        speakers.entry(p.name).or_insert_with(|| {
            let lower = p.name.to_lowercase();
            settings.configured_role(p.name).is_some()
                || role_of_name(p.name).is_some()
                || counts.get(&lower).is_some_and(|n| *n >= 2)
                || first_name.as_deref() == Some(lower.as_str())
                || looks_like_name(p.name)
        });
    }
    let mut turns: Vec<RawTurn> = Vec::new();
    for (line, prefix) in &lines {
        match prefix.as_ref().filter(|p| speakers[p.name]) {
            Some(p) => turns.push(RawTurn {
                speaker: Some(p.name.to_string()),
                text: p.text.to_string(),
                start_ms: p.clock.and_then(offset_ms),
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
    fn a_label_said_once_is_text() {
        let text = "Maria: Hi there\nOrder ID: 3348917502\nDana: Thanks\nMaria: ok";
        let turns = read(text, &Settings::default()).unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].text, "Hi there\nOrder ID: 3348917502");
    }
}
