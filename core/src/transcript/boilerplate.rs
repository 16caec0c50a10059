//! Boilerplate lines out of turns: the settings' patterns (while parsing), and
//! `remove_lines(text, lines)` for the lines the normalized layer finds repeated across many
//! conversations (disclaimers, templated greetings).

use std::collections::HashSet;
use std::convert::Infallible;

use crate::cache::TextCache;

/// `text` without its lines that equal one of `lines` (newline-separated), both sides without
/// leading and trailing spaces; the rest trimmed. Empty `lines` removes nothing.
pub fn remove_lines(text: &str, lines: &str) -> String {
    thread_local! {
        static CACHE: TextCache<HashSet<String>> = const { TextCache::new() };
    }
    let drop = CACHE
        .with(|c| {
            c.get_or_build(lines, |l| {
                Ok::<_, Infallible>(
                    l.split('\n').map(|x| x.trim_matches(' ').to_string()).filter(|x| !x.is_empty()).collect(),
                )
            })
        })
        .unwrap_or_else(|never| match never {});
    without_lines(text, |line| drop.contains(line.trim_matches(' ')))
}

/// `text` without the lines `drop` picks, `\n`-separated (a `\r\n` ending counts as `\n`), and
/// trimmed.
pub(crate) fn without_lines(text: &str, drop: impl Fn(&str) -> bool) -> String {
    let mut kept = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !drop(l)) {
        kept.push_str(line);
        kept.push('\n');
    }
    kept.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lines_go() {
        let lines = "This call may be recorded for quality purposes.\nHi! What can I help you with?";
        assert_eq!(remove_lines("Hi! What can I help you with?", lines), "");
        assert_eq!(
            remove_lines("  This call may be recorded for quality purposes. \nHow can I help?", lines),
            "How can I help?"
        );
        assert_eq!(remove_lines("keep me\n", ""), "keep me");
    }
}
