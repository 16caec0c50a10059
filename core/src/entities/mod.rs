//! Typed entities with normalized values: a taxonomy's gazetteers (values with synonyms) and
//! patterns, and built-in money amounts, dates and durations.

mod builtin;

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Serialize;

use crate::cache::SharedCache;
use crate::taxonomy::{Registry, Taxonomy};
use crate::{user_regex, Error, Result};

/// One entity found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// The entity type: a taxonomy entity's name, or `MONEY`, `DATE`, `DURATION`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text as written.
    pub text: String,
    /// The normalized value: the gazetteer value a synonym stands for, a pattern's first capture
    /// group (or whole match), `12.50 USD`, `2024-03-05` (`--03-05` without a year), `P3D`.
    pub value: String,
    /// Character offset of the start (0-based).
    pub start: usize,
    /// Character offset of the end (exclusive).
    pub end: usize,
    /// `gazetteer`, `pattern` or `builtin`.
    pub method: &'static str,
}

/// A taxonomy's entity types, compiled.
pub struct Extractor {
    gazetteer: Option<AhoCorasick>,
    /// For each spelling in the automaton: the type and the normalized value.
    spelling_of: Vec<(String, String)>,
    patterns: Vec<(String, Regex)>,
}

impl Extractor {
    /// Compiles the entity types of `taxonomy`.
    pub fn new(taxonomy: &Taxonomy) -> Result<Self> {
        let mut spellings = Vec::new();
        let mut spelling_of = Vec::new();
        let mut patterns = Vec::new();
        for entity in &taxonomy.entities {
            for value in &entity.values {
                for spelling in value.spellings().map(str::trim).filter(|s| !s.is_empty()) {
                    spellings.push(spelling.to_string());
                    spelling_of.push((entity.name.clone(), value.value().to_string()));
                }
            }
            for p in entity.pattern.iter().chain(&entity.patterns) {
                let regex = user_regex::compile(p).map_err(|e| user_regex::pattern_error(p, &e))?;
                patterns.push((entity.name.clone(), regex));
            }
        }
        let gazetteer = if spellings.is_empty() {
            None
        } else {
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&spellings)
                .map_err(|e| Error::Pattern {
                    pattern: format!("{} entity values", spellings.len()),
                    problem: e.to_string(),
                })?;
            Some(ac)
        };
        Ok(Self { gazetteer, spelling_of, patterns })
    }

    /// The extractor of the taxonomy a SQL function's argument names in `session`, compiled
    /// once per process and version.
    pub fn of(session: &Registry, argument: &str) -> Result<Arc<Self>> {
        static COMPILED: SharedCache<Extractor> = SharedCache::new();
        let resolved = session.resolve(argument)?;
        COMPILED.get_or_build(&resolved.key, || Self::new(&resolved.taxonomy))
    }

    /// The entities of `text`: the taxonomy's first, then built-ins where they do not overlap
    /// one, in text order.
    pub fn extract(&self, text: &str) -> Vec<Entity> {
        // Accepted spans by start byte: (end, type, value, method). They never overlap, so a
        // candidate overlaps one exactly when the last span starting before its end reaches past
        // its start.
        let mut found: BTreeMap<usize, (usize, String, String, &'static str)> = BTreeMap::new();
        let mut add = |start: usize, end: usize, kind: String, value: String, method: &'static str| {
            let overlaps = found.range(..end).next_back().is_some_and(|(_, (e, ..))| *e > start);
            if start < end && !overlaps {
                found.insert(start, (end, kind, value, method));
            }
        };
        if let Some(ac) = &self.gazetteer {
            for m in ac.find_iter(text) {
                if whole_word(text, m.start(), m.end()) {
                    let (kind, value) = &self.spelling_of[m.pattern().as_usize()];
                    add(m.start(), m.end(), kind.clone(), value.clone(), "gazetteer");
                }
            }
        }
        for (kind, regex) in &self.patterns {
            for caps in regex.captures_iter(text) {
                let whole = caps.get(0).expect("a match has group 0");
                let value = caps.get(1).unwrap_or(whole).as_str().to_string();
                add(whole.start(), whole.end(), kind.clone(), value, "pattern");
            }
        }
        for (start, end, kind, value) in builtin::find(text) {
            add(start, end, kind.to_string(), value, "builtin");
        }
        let chars = CharOffsets::new(text);
        found
            .into_iter()
            .map(|(start, (end, kind, value, method))| Entity {
                kind,
                text: text[start..end].to_string(),
                value,
                start: chars.of(start),
                end: chars.of(end),
                method,
            })
            .collect()
    }
}

/// Whether `text[start..end]` is not part of a longer word.
fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
    let after = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
    before && after
}

/// Byte offsets to character offsets.
struct CharOffsets(Vec<usize>);

impl CharOffsets {
    fn new(text: &str) -> Self {
        Self(text.char_indices().map(|(b, _)| b).collect())
    }

    fn of(&self, byte: usize) -> usize {
        self.0.partition_point(|&b| b < byte)
    }
}

static BUILT_IN_ONLY: LazyLock<Extractor> =
    LazyLock::new(|| Extractor { gazetteer: None, spelling_of: Vec::new(), patterns: Vec::new() });

/// `extract_entities(text [, taxonomy])` as SQL calls it in `session`: the entities as a JSON
/// array.
pub fn extract_entities_text(session: &Registry, text: &str, taxonomy: Option<&str>) -> Result<String> {
    let entities = match taxonomy {
        None => BUILT_IN_ONLY.extract(text),
        Some(arg) => Extractor::of(session, arg)?.extract(text),
    };
    Ok(serde_json::to_string(&entities).expect("entities serialize"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy;

    fn extractor() -> Extractor {
        let t = taxonomy::parse_one(
            "name: shop\nentities:\n  - name: plan\n    values:\n      - value: Premium\n        synonyms: [premium plan, pro tier]\n      - Basic\n  - name: order_id\n    pattern: '#?(A\\d{6})'\n",
        )
        .unwrap();
        Extractor::new(&t).unwrap()
    }

    #[test]
    fn gazetteer_synonyms_normalize_and_respect_words() {
        let found = extractor().extract("I'm on the Pro Tier, not basic. Basically fine.");
        let got: Vec<(&str, &str, &str)> =
            found.iter().map(|e| (e.kind.as_str(), e.text.as_str(), e.value.as_str())).collect();
        assert_eq!(got, [("plan", "Pro Tier", "Premium"), ("plan", "basic", "Basic")]);
    }

    #[test]
    fn patterns_take_their_first_group_and_offsets_are_characters() {
        let found = extractor().extract("Commande é #A123456 de 12,50 €");
        assert_eq!(found[0].value, "A123456");
        assert_eq!((found[0].start, found[0].end), (11, 19));
        assert_eq!(found[1].kind, "MONEY");
        assert_eq!(found[1].value, "12.50 EUR");
    }

    #[test]
    fn json_for_sql() {
        let session = Registry::new();
        let json = extract_entities_text(&session, "refund $40 within 3 days", None).unwrap();
        assert!(json.contains("\"value\":\"40.00 USD\"") && json.contains("\"value\":\"P3D\""), "{json}");
        assert_eq!(extract_entities_text(&session, "", None).unwrap(), "[]");
    }
}
