//! Keyword, phrase and pattern rules: whole words, with case and accents folded the way names
//! are (`identity`'s folding), so `Réembolso` matches `reembolso` and `can't` matches `cant`.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexSet};

use crate::identity::normalize;
use crate::taxonomy::Label;
use crate::{user_regex, Error, Result};

/// What fired for one label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    /// Index of the label.
    pub label: usize,
    /// `keyword`, `pattern` or `exclusion`.
    pub kind: &'static str,
    /// The keyword as written in the taxonomy, or the text a pattern matched.
    pub text: String,
}

/// The compiled rules of one label set (the intents, or the topics, of a taxonomy).
pub(crate) struct Rules {
    phrases: Option<AhoCorasick>,
    /// For each phrase of the automaton: label, whether it excludes, and the phrase as written.
    phrase_of: Vec<(usize, bool, String)>,
    pattern_set: Option<RegexSet>,
    patterns: Vec<(usize, Regex)>,
}

/// `text` folded to lower-case words without accents or punctuation, padded with a space each
/// side so whole-word phrases are found as ` phrase `.
pub(crate) fn fold(text: &str) -> String {
    format!(" {} ", normalize::name(text).unwrap_or_default())
}

/// Whether `c` belongs to a script written without spaces between words (Chinese, Japanese,
/// Thai, Lao, Khmer, Myanmar), where a phrase cannot be required to stand between spaces.
fn unspaced(c: char) -> bool {
    matches!(c, '\u{0E00}'..='\u{0EFF}' | '\u{1000}'..='\u{109F}' | '\u{1780}'..='\u{17FF}'
        | '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// A keyword as the automaton looks for it: folded, with a space on each side that must be a
/// word boundary (none on a side that ends in an unspaced script).
fn phrase(keyword: &str) -> String {
    let folded = fold(keyword);
    let inner = folded.trim();
    let (Some(first), Some(last)) = (inner.chars().next(), inner.chars().last()) else {
        return String::new();
    };
    let left = if unspaced(first) { "" } else { " " };
    let right = if unspaced(last) { "" } else { " " };
    format!("{left}{inner}{right}")
}

impl Rules {
    /// Compiles the keywords, exclusions and patterns of `labels` (patterns were checked when
    /// the taxonomy was read).
    pub(crate) fn new(labels: &[Label]) -> Result<Self> {
        let mut phrase_of = Vec::new();
        let mut folded = Vec::new();
        for (i, label) in labels.iter().enumerate() {
            for (excludes, words) in [(false, &label.keywords), (true, &label.exclusions)] {
                for w in words {
                    let f = phrase(w);
                    if f.is_empty() {
                        continue;
                    }
                    folded.push(f);
                    phrase_of.push((i, excludes, w.clone()));
                }
            }
        }
        let phrases = if folded.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().match_kind(MatchKind::Standard).build(&folded).map_err(|e| Error::Pattern {
                pattern: format!("{} keywords", folded.len()),
                problem: e.to_string(),
            })?)
        };
        let mut patterns = Vec::new();
        for (i, label) in labels.iter().enumerate() {
            for p in &label.patterns {
                patterns.push((i, user_regex::compile(p).map_err(|e| user_regex::pattern_error(p, &e))?));
            }
        }
        let pattern_set = if patterns.is_empty() {
            None
        } else {
            let sources: Vec<String> = patterns.iter().map(|(_, r)| r.as_str().to_owned()).collect();
            Some(user_regex::compile_set(&sources)?)
        };
        Ok(Self { phrases, phrase_of, pattern_set, patterns })
    }

    /// Rules from named phrase lists alone (the tone cues, the resolution phrases): each list is a
    /// label whose keywords are the phrases.
    pub(crate) fn from_phrase_lists(lists: impl IntoIterator<Item = (String, Vec<String>)>) -> Result<Self> {
        let labels: Vec<Label> = lists
            .into_iter()
            .map(|(name, keywords)| Label {
                name,
                description: None,
                examples: Vec::new(),
                keywords,
                patterns: Vec::new(),
                exclusions: Vec::new(),
                parent: None,
            })
            .collect();
        Self::new(&labels)
    }

    /// Every keyword, exclusion and pattern that fires on `text`, in label order.
    pub(crate) fn hits(&self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        if let Some(ac) = &self.phrases {
            // Matches may overlap at the shared space, so search overlapping.
            for m in ac.find_overlapping_iter(&fold(text)) {
                let (label, excludes, phrase) = &self.phrase_of[m.pattern().as_usize()];
                let kind = if *excludes { "exclusion" } else { "keyword" };
                let hit = Hit { label: *label, kind, text: phrase.clone() };
                if !hits.contains(&hit) {
                    hits.push(hit);
                }
            }
        }
        if let Some(set) = &self.pattern_set {
            for i in set.matches(text).iter() {
                let (label, regex) = &self.patterns[i];
                let matched = regex.find(text).map_or_else(String::new, |m| m.as_str().to_owned());
                hits.push(Hit { label: *label, kind: "pattern", text: matched });
            }
        }
        hits.sort_by_key(|h| h.label);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, keywords: &[&str], exclusions: &[&str], patterns: &[&str]) -> Label {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        Label {
            name: name.into(),
            description: None,
            examples: vec![],
            keywords: v(keywords),
            patterns: v(patterns),
            exclusions: v(exclusions),
            parent: None,
        }
    }

    #[test]
    fn keywords_match_whole_folded_words() {
        let rules = Rules::new(&[
            label("refund", &["money back", "Réembolso"], &["not a refund"], &[]),
            label("login", &["log in"], &[], &[r"(?i)\b2fa\b"]),
        ])
        .unwrap();
        let kinds = |t: &str| rules.hits(t).into_iter().map(|h| (h.label, h.kind, h.text)).collect::<Vec<_>>();
        assert_eq!(kinds("I want my MONEY-back!"), vec![(0, "keyword", "money back".to_string())]);
        assert_eq!(kinds("quiero un reembolso"), vec![(0, "keyword", "Réembolso".to_string())]);
        assert!(kinds("moneyback please").is_empty());
        assert_eq!(kinds("my 2FA code"), vec![(1, "pattern", "2FA".to_string())]);
        assert_eq!(kinds("this is not a refund, I can't log in")[0].1, "exclusion");
        assert_eq!(kinds("log in log in").len(), 1);
    }

    #[test]
    fn phrases_in_unspaced_scripts_match_inside_sentences() {
        let rules = Rules::new(&[label("late", &["まだ届いていません", "ยังไม่ได้รับ"], &[], &[])]).unwrap();
        assert_eq!(rules.hits("注文した商品がまだ届いていません。追跡番号を教えてください。").len(), 1);
        assert_eq!(rules.hits("ฉันยังไม่ได้รับพัสดุ").len(), 1);
        assert!(rules.hits("届きました").is_empty());
    }
}
