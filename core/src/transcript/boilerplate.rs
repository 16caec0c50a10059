//! `remove_lines(text, lines)`: a turn without the lines found repeated across many
//! conversations (disclaimers, templated greetings), which the normalized layer finds in SQL.

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
    if drop.is_empty() {
        return text.trim().to_string();
    }
    text.split('\n').filter(|l| !drop.contains(l.trim_matches(' '))).collect::<Vec<_>>().join("\n").trim().to_string()
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
