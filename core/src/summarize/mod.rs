//! Short extractive summaries that keep the customer's problem and the outcome: whole sentences
//! of the text, chosen by what they say (complaints, requests, outcomes) and where they stand,
//! never greetings or sign-offs.

use crate::classify::rules::fold;
use crate::resolution;
use crate::sentiment;

/// Sentences a summary keeps unless asked otherwise.
pub const DEFAULT_SENTENCES: usize = 2;

/// A summary length as SQL passes it: at least one sentence.
pub fn sentence_count(n: i64) -> crate::Result<usize> {
    usize::try_from(n).ok().filter(|&n| n >= 1).ok_or(crate::Error::SentenceCount(n))
}

/// Words that make a sentence a greeting, thanks or sign-off when it is short.
const SMALL_TALK: [&str; 18] = [
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "regards",
    "cheers",
    "best",
    "sincerely",
    "welcome",
    "good morning",
    "good afternoon",
    "good evening",
    "how can i help",
    "how may i help",
    "bye",
    "sent from my",
];

/// Words of a request or a problem.
const PROBLEM_WORDS: [&str; 20] = [
    "order",
    "refund",
    "charge",
    "charged",
    "account",
    "payment",
    "delivery",
    "package",
    "cancel",
    "broken",
    "error",
    "problem",
    "issue",
    "wrong",
    "missing",
    "login",
    "password",
    "card",
    "subscription",
    "bill",
];

/// A sentence of the text and its number of words.
struct Sentence<'a> {
    text: &'a str,
    words: usize,
}

/// The sentences of `text`: split after `.`, `!` or `?` followed by a space, and at line breaks.
fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let end_mark = matches!(b, b'.' | b'!' | b'?');
            let next_space = bytes.get(i + 1).is_none_or(|n| *n == b' ');
            if end_mark && next_space && i + 1 > start {
                push(&mut out, &line[start..=i]);
                start = i + 1;
            }
        }
        push(&mut out, &line[start..]);
    }
    out
}

fn push<'a>(out: &mut Vec<Sentence<'a>>, text: &'a str) {
    let text = text.trim();
    let words = text.split_whitespace().count();
    if text.chars().any(char::is_alphanumeric) {
        out.push(Sentence { text, words });
    }
}

fn is_small_talk(s: &Sentence<'_>) -> bool {
    let lower = s.text.to_lowercase();
    s.words <= 6 && SMALL_TALK.iter().any(|w| lower.starts_with(w) || lower.contains(&format!(" {w}")))
}

/// How much a sentence says about a problem.
fn problem_score(s: &Sentence<'_>) -> f64 {
    let lower = s.text.to_lowercase();
    let words = PROBLEM_WORDS.iter().filter(|w| lower.split(|c: char| !c.is_alphanumeric()).any(|t| t == **w)).count();
    let negative = (-sentiment::sentiment(s.text)).max(0.0);
    let asks = if s.text.ends_with('?') { 0.3 } else { 0.0 };
    let length = if (5..=40).contains(&s.words) { 0.3 } else { 0.0 };
    words as f64 * 0.4 + negative + asks + length
}

/// An extractive summary of `text`: its `n` most telling sentences, in text order. A text with
/// no more than `n` sentences (after dropping small talk) is returned as those sentences.
pub fn summarize(text: &str, n: usize) -> String {
    let all = sentences(text);
    let kept: Vec<(usize, &Sentence<'_>)> = all.iter().enumerate().filter(|(_, s)| !is_small_talk(s)).collect();
    let last = kept.last().map(|(i, _)| *i);
    let mut scored: Vec<(f64, usize)> = kept
        .iter()
        .enumerate()
        .map(|(rank, (i, s))| {
            let outcome = if resolution::names_outcome(s.text) { 0.8 } else { 0.0 };
            let position = if rank == 0 {
                0.6
            } else if Some(*i) == last {
                0.3
            } else {
                0.0
            };
            (problem_score(s) + outcome + position, *i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = scored.into_iter().take(n.max(1)).map(|(_, i)| i).collect();
    chosen.sort_unstable();
    chosen.iter().map(|&i| all[i].text).collect::<Vec<_>>().join(" ")
}

/// A speaker-aware summary of a conversation's turns: the customer's problem (the `n - 1` most
/// telling customer sentences, the first turns favoured) and the outcome (the status and the
/// sentence that decided it), as `Customer: … Outcome (solved): …`.
pub fn summarize_turns(roles: &[&str], texts: &[&str], n: usize) -> crate::Result<String> {
    let resolution = resolution::resolve(roles, texts)?;
    let mut problem: Vec<(f64, usize, &str)> = Vec::new();
    let mut order = 0;
    for (turn, (role, text)) in roles.iter().zip(texts).enumerate() {
        if !role.eq_ignore_ascii_case("customer") {
            continue;
        }
        for s in sentences(text).iter().filter(|s| !is_small_talk(s)) {
            let early = 1.0 / (1.0 + turn as f64 * 0.25);
            problem.push((problem_score(s) + early, order, s.text));
            order += 1;
        }
    }
    problem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    problem.truncate(n.saturating_sub(1).max(1));
    problem.sort_by_key(|p| p.1);
    let mut summary = String::new();
    if !problem.is_empty() {
        summary = format!("Customer: {}", problem.iter().map(|p| p.2).collect::<Vec<_>>().join(" "));
    }
    let outcome = resolution.turn.and_then(|t| {
        let phrase = fold(&resolution.reason);
        let sentences = sentences(texts[t - 1]);
        sentences
            .iter()
            .find(|s| fold(s.text).contains(&phrase))
            .or(sentences.last().filter(|_| resolution.status == "abandoned"))
            .map(|s| s.text.to_string())
    });
    let outcome = match outcome {
        Some(sentence) => format!("Outcome ({}): {sentence}", resolution.status),
        None => format!("Outcome ({})", resolution.status),
    };
    if !summary.is_empty() {
        summary.push(' ');
    }
    summary.push_str(&outcome);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_problem_and_drops_small_talk() {
        let text = "Hi there!\nI ordered a blender two weeks ago and it still hasn't arrived. The tracking page shows nothing. Can you refund me? Thanks, Ana";
        let s = summarize(text, 2);
        assert!(s.contains("still hasn't arrived"), "{s}");
        assert!(!s.contains("Hi there") && !s.contains("Thanks, Ana"), "{s}");
        assert_eq!(summarize("", 2), "");
        assert_eq!(sentence_count(3).unwrap(), 3);
        assert!(sentence_count(0).unwrap_err().to_string().contains("at least 1, got 0"));
        assert_eq!(summarize("Order 4411 is late.", 3), "Order 4411 is late.");
    }

    #[test]
    fn turns_give_problem_and_outcome() {
        let roles = ["customer", "agent", "customer"];
        let texts = [
            "Hello. I was charged twice for my subscription this month.",
            "Sorry about that! I've refunded the duplicate charge.",
            "Got my refund, thanks!",
        ];
        let s = summarize_turns(&roles, &texts, 2).unwrap();
        assert_eq!(
            s,
            "Customer: I was charged twice for my subscription this month. Outcome (solved): Got my refund, thanks!"
        );
    }
}
