//! Tones: frustration, urgency, confusion and satisfaction, each a score in [0, 1] from cue
//! phrases (matched like taxonomy keywords: whole words, case and accents folded) and the shape of
//! the text (capitals, repeated punctuation, the sentiment score).

use std::sync::LazyLock;

use serde::Serialize;

use crate::classify::rules::Rules;

/// The four tones of a text, with what raised each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tones {
    /// Anger, impatience, repeated failure.
    pub frustration: f64,
    /// Time pressure: now, today, before a deadline.
    pub urgency: f64,
    /// Not understanding what happened or what to do.
    pub confusion: f64,
    /// Thanks, praise, a problem confirmed solved.
    pub satisfaction: f64,
    /// What raised each tone, in the order frustration, urgency, confusion, satisfaction.
    pub evidence: Vec<ToneCue>,
}

/// One thing that raised a tone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToneCue {
    /// The tone it raised.
    pub tone: &'static str,
    /// The phrase, or a description of the shape (`3 words in capitals`, `sentiment -0.62`).
    pub cue: String,
}

const TONES: [&str; 4] = ["frustration", "urgency", "confusion", "satisfaction"];

/// The cue phrases of each tone, in [`TONES`] order.
const CUES: [&[&str]; 4] = [
    &[
        "still not",
        "still waiting",
        "still no",
        "still doesn't",
        "still hasn't",
        "still haven't",
        "again",
        "yet again",
        "second time",
        "third time",
        "fourth time",
        "fifth time",
        "how many times",
        "every time",
        "keep getting",
        "keeps happening",
        "over and over",
        "ridiculous",
        "unacceptable",
        "fed up",
        "sick of",
        "tired of",
        "had enough",
        "last straw",
        "waste of time",
        "wasted",
        "cancel my account",
        "cancel my subscription",
        "close my account",
        "switching to",
        "never again",
        "no one",
        "nobody",
        "no response",
        "no reply",
        "ignored",
        "hung up",
        "runaround",
        "on hold",
        "for hours",
        "for days",
        "for weeks",
        "useless",
        "terrible",
        "awful",
        "horrible",
        "worst",
        "disgusting",
        "furious",
        "angry",
        "annoyed",
        "annoying",
        "frustrated",
        "frustrating",
        "pathetic",
        "incompetent",
        "joke",
        "seriously",
        "are you kidding",
        "what the hell",
        "wtf",
        "come on",
        "unbelievable",
        "disappointed",
        "complaint",
        "lawyer",
        "chargeback",
        "report you",
    ],
    &[
        "urgent",
        "urgently",
        "asap",
        "as soon as possible",
        "immediately",
        "right now",
        "right away",
        "today",
        "tonight",
        "by tomorrow",
        "this morning",
        "emergency",
        "critical",
        "deadline",
        "time sensitive",
        "time-sensitive",
        "can't wait",
        "cannot wait",
        "need it now",
        "need this now",
        "quickly",
        "hurry",
        "before friday",
        "before monday",
        "running out of time",
        "last day",
        "expires today",
        "overdue",
        "locked out",
        "down",
        "outage",
        "production",
        "blocking",
        "stuck",
    ],
    &[
        "confused",
        "confusing",
        "don't understand",
        "do not understand",
        "doesn't make sense",
        "does not make sense",
        "makes no sense",
        "not sure",
        "unclear",
        "no idea",
        "what does",
        "what is",
        "how do i",
        "how can i",
        "where do i",
        "where is",
        "where can i",
        "which one",
        "what happened",
        "why is",
        "why was",
        "why did",
        "i thought",
        "supposed to",
        "i don't get",
        "lost",
        "puzzled",
        "can you explain",
        "could you explain",
        "explain",
        "mean by",
        "what am i",
        "am i supposed",
    ],
    &[
        "thank you",
        "thanks",
        "thx",
        "appreciate",
        "appreciated",
        "grateful",
        "great",
        "perfect",
        "awesome",
        "excellent",
        "amazing",
        "wonderful",
        "fantastic",
        "brilliant",
        "helpful",
        "resolved",
        "solved",
        "sorted",
        "works now",
        "working now",
        "that worked",
        "it worked",
        "fixed it",
        "all good",
        "happy",
        "glad",
        "pleased",
        "love",
        "you're a star",
        "you rock",
        "above and beyond",
        "well done",
        "quick",
        "fast",
        "easy",
        "no problem",
        "no worries",
    ],
];

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let lists =
        TONES.iter().zip(CUES).map(|(name, cues)| (name.to_string(), cues.iter().map(|c| c.to_string()).collect()));
    Rules::from_phrase_lists(lists).expect("tone cues compile")
});

/// The tones of `text`.
pub fn tones(text: &str) -> Tones {
    let mut weight = [0.0f64; 4];
    let mut evidence = Vec::new();
    for hit in RULES.hits(text) {
        weight[hit.label] += 0.7;
        evidence.push(ToneCue { tone: TONES[hit.label], cue: hit.text });
    }
    let sentiment = super::sentiment(text);
    let mut shape = |tone: usize, amount: f64, cue: String| {
        if amount > 0.0 {
            weight[tone] += amount;
            evidence.push(ToneCue { tone: TONES[tone], cue });
        }
    };
    let caps = text
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3 && !w.chars().any(char::is_lowercase))
        .filter(|w| !w.trim_matches(|c: char| !c.is_alphabetic()).eq_ignore_ascii_case("asap"))
        .count();
    let lower = text.chars().any(char::is_lowercase);
    shape(0, if lower && caps > 0 { 0.3 * caps.min(3) as f64 } else { 0.0 }, format!("{caps} word(s) in capitals"));
    shape(0, if text.contains("!!") || text.contains("?!") { 0.4 } else { 0.0 }, "repeated !".into());
    shape(0, (-sentiment).max(0.0) * 0.8, format!("sentiment {sentiment}"));
    shape(2, if text.contains("??") { 0.5 } else { 0.0 }, "repeated ?".into());
    shape(3, sentiment.max(0.0) * 0.8, format!("sentiment {sentiment}"));
    evidence.sort_by_key(|e| TONES.iter().position(|t| *t == e.tone));
    let score = |w: f64| ((1.0 - (-w).exp()) * 100.0).round() / 100.0;
    Tones {
        frustration: score(weight[0]),
        urgency: score(weight[1]),
        confusion: score(weight[2]),
        satisfaction: score(weight[3]),
        evidence,
    }
}

/// `tones(text)` as SQL returns it: the [`Tones`] as JSON.
pub fn tones_text(text: &str) -> String {
    serde_json::to_string(&tones(text)).expect("tones serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tone_has_its_cues() {
        let t = tones("This is the THIRD time I ask!! Still not fixed. I need it today, it's urgent.");
        assert!(t.frustration > 0.8, "{t:?}");
        assert!(t.urgency > 0.7, "{t:?}");
        assert!(t.satisfaction < 0.2, "{t:?}");
        let t = tones("I'm confused, what does this charge mean?? I don't understand.");
        assert!(t.confusion > 0.8, "{t:?}");
        let t = tones("Thank you so much, that worked perfectly!");
        assert!(t.satisfaction > 0.8, "{t:?}");
        assert!(t.frustration < 0.1, "{t:?}");
    }

    #[test]
    fn calm_text_has_no_tone() {
        let t = tones("My order number is 4411.");
        assert_eq!([t.frustration, t.urgency, t.confusion, t.satisfaction], [0.0; 4]);
        assert!(t.evidence.is_empty());
    }
}
