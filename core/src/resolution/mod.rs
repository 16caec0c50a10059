//! How a conversation ended: `solved`, `escalated`, `handoff`, `abandoned` or `unresolved`,
//! from phrases in its turns (built-in, extended or replaced by a taxonomy's `resolution:`) and
//! its shape (who spoke last, a bot giving way to a person, a question left unanswered).

use std::sync::{Arc, LazyLock};

use serde::Serialize;

use crate::cache::SharedCache;
use crate::classify::rules::Rules;
use crate::taxonomy::{Registry, ResolutionPhrases};
use crate::{Error, Result};

/// The statuses, in the order of the phrase lists.
pub const STATUSES: [&str; 5] = ["solved", "escalated", "handoff", "abandoned", "unresolved"];

/// The phrase lists: which status each marks and whose turns it is looked for in.
const LISTS: [(&str, &str, Speaker); 6] = [
    ("solved", "solved", Speaker::Customer),
    ("solved_by_agent", "solved", Speaker::Business),
    ("escalated", "escalated", Speaker::Business),
    ("handoff", "handoff", Speaker::Business),
    ("abandoned", "abandoned", Speaker::Business),
    ("unresolved", "unresolved", Speaker::Customer),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Speaker {
    Customer,
    Business,
}

/// The built-in phrases, in [`LISTS`] order.
const DEFAULTS: [&[&str]; 6] = [
    &[
        "that worked",
        "it worked",
        "that fixed it",
        "fixed it",
        "it's fixed",
        "its fixed",
        "works now",
        "working now",
        "it's working",
        "it works",
        "problem solved",
        "issue resolved",
        "that solved it",
        "that's solved",
        "all sorted",
        "sorted now",
        "that's sorted",
        "that helps",
        "that helped",
        "that did it",
        "that did the trick",
        "all good now",
        "got it working",
        "got my refund",
        "received the refund",
        "received my refund",
        "it arrived",
        "got the package",
        "that's all i needed",
        "that's all i need",
        "that is all",
        "that's all",
        "that's everything",
        "nothing else",
        "no that's it",
        "perfect thanks",
        "perfect thank you",
        "great thanks",
        "great thank you",
        "awesome thanks",
        "you've been very helpful",
        "you have been very helpful",
        "thanks for your help",
        "thank you for your help",
        "thanks for the help",
        "problem is gone",
        "all set",
        // The same in the other languages of the sentiment lexicon.
        "ya funciona",
        "funciona ahora",
        "ahora funciona",
        "problema resuelto",
        "ça marche",
        "ça fonctionne",
        "c'est résolu",
        "es funktioniert",
        "funktioniert jetzt",
        "jetzt funktioniert",
        "het werkt",
        "werkt nu",
        "het is opgelost",
        "funciona agora",
        "já funciona",
        "ora funziona",
        "funziona ora",
        "risolto",
        "det fungerar",
        "fungerar nu",
        "всё работает",
        "теперь работает",
    ],
    &[
        "has been resolved",
        "is now resolved",
        "i've fixed",
        "i have fixed",
        "is now fixed",
        "has been fixed",
        "refund has been processed",
        "refund has been issued",
        "i've processed",
        "i have processed",
        "i've issued",
        "i have issued",
        "i've refunded",
        "i have refunded",
        "has been refunded",
        "i've updated",
        "i have updated",
        "has been updated",
        "i've reset",
        "i have reset",
        "has been reset",
        "i've cancelled",
        "i have cancelled",
        "has been cancelled",
        "has been canceled",
        "is now active",
        "should work now",
        "should now work",
        "should be working now",
        "i've sent a replacement",
        "replacement has been sent",
        "i've booked",
        "has been booked",
        "your booking is confirmed",
        "reservation is confirmed",
        "has been reserved",
        "i've made the change",
        "marking this as resolved",
        "mark this as resolved",
        "glad i could help",
        "glad that helped",
        "glad to hear",
        "happy to hear",
    ],
    &[
        "escalate",
        "escalated",
        "escalating",
        "escalation",
        "supervisor",
        "my manager",
        "a manager",
        "tier 2",
        "second line",
        "second-level",
        "specialist team",
        "engineering team",
        "technical team",
        "raised a ticket",
        "opened a ticket",
        "created a ticket",
        "logged a ticket",
        "forwarded this",
        "forwarded your",
        "passed this on",
        "passed it on",
        "refer this to",
        "referred this to",
        "investigate further",
        "our back office",
    ],
    &[
        "transfer you",
        "transferring you",
        "transferred you",
        "connect you with",
        "connect you to",
        "connecting you",
        "put you through",
        "putting you through",
        "hand you over",
        "handing you over",
        "handing over",
        "passing you to",
        "a human agent",
        "a live agent",
        "an agent will",
        "one of our agents",
        "a colleague will",
        "another department",
        "the right team",
    ],
    &[
        "are you still there",
        "still with me",
        "are you there",
        "haven't heard back",
        "have not heard back",
        "haven't heard from you",
        "have not heard from you",
        "due to inactivity",
        "closing this chat",
        "close this chat",
        "chat has ended",
        "session timed out",
        "session has expired",
        "customer left",
        "customer disconnected",
        "if we don't hear back",
        "if we do not hear back",
        "no response from you",
    ],
    &[
        "still not working",
        "still doesn't",
        "still does not",
        "still isn't",
        "still is not",
        "still broken",
        "still waiting",
        "still no",
        "still haven't",
        "still have not",
        "didn't help",
        "did not help",
        "doesn't help",
        "does not help",
        "didn't work",
        "did not work",
        "that doesn't work",
        "not resolved",
        "not fixed",
        "not solved",
        "useless",
        "waste of time",
        "never mind",
        "forget it",
        "i give up",
        "go elsewhere",
        "cancel my account",
        "speak to a manager",
        "talk to a manager",
        "speak to someone else",
        "not happy",
        "unacceptable",
        "this is ridiculous",
        "sigue sin funcionar",
        "todavía no",
        "toujours pas",
        "ne marche toujours pas",
        "immer noch nicht",
        "nog steeds niet",
        "ainda não",
        "ancora non",
        "fortfarande inte",
        "всё ещё не",
        "до сих пор не",
    ],
];

/// How a conversation ended, with the turn and phrase that decided it and every signal seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// One of [`STATUSES`].
    pub status: &'static str,
    /// The turn (from 1) that decided it; `None` when only the shape did.
    pub turn: Option<usize>,
    /// The phrase that decided it, or the shape (`customer spoke last`, `question left
    /// unanswered`, `bot gave way to agent`).
    pub reason: String,
    /// Every phrase and shape found, in turn order.
    pub signals: Vec<Signal>,
}

/// One phrase (or shape) in one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// The status it points to.
    pub status: &'static str,
    /// The turn, from 1.
    pub turn: usize,
    /// The turn's role.
    pub role: String,
    /// The phrase as listed, or the shape.
    pub phrase: String,
}

/// The compiled phrase lists of one taxonomy (or of the built-ins).
pub struct Phrases {
    rules: Rules,
}

impl Phrases {
    /// The built-in lists with `extra`'s added, or replacing them list by list when
    /// `extra.replace`.
    pub fn new(extra: Option<&ResolutionPhrases>) -> Result<Self> {
        let lists = LISTS.iter().zip(DEFAULTS).map(|((list, _, _), defaults)| {
            let own = extra.map(|e| own_list(e, list)).unwrap_or_default();
            let replace = extra.is_some_and(|e| e.replace) && !own.is_empty();
            let mut phrases: Vec<String> =
                if replace { Vec::new() } else { defaults.iter().map(|d| d.to_string()).collect() };
            phrases.extend(own.iter().cloned());
            (list.to_string(), phrases)
        });
        Ok(Self { rules: Rules::from_phrase_lists(lists)? })
    }

    /// The phrases of the taxonomy a SQL function's argument names in `session` (the built-ins
    /// when it has no `resolution:`), compiled once per process and version.
    pub fn of(session: &Registry, argument: &str) -> Result<Arc<Self>> {
        static COMPILED: SharedCache<Phrases> = SharedCache::new();
        let resolved = session.resolve(argument)?;
        COMPILED.get_or_build(&resolved.key, || Self::new(resolved.taxonomy.resolution.as_ref()))
    }
}

fn own_list<'a>(extra: &'a ResolutionPhrases, list: &str) -> &'a [String] {
    match list {
        "solved" => &extra.solved,
        "solved_by_agent" => &extra.solved_by_agent,
        "escalated" => &extra.escalated,
        "handoff" => &extra.handoff,
        "abandoned" => &extra.abandoned,
        _ => &extra.unresolved,
    }
}

static BUILT_IN: LazyLock<Phrases> = LazyLock::new(|| Phrases::new(None).expect("built-in phrases compile"));

/// Whether `text` says, in either side's words, how a problem ended (solved, escalated, handed
/// off or still open), by the built-in phrases.
pub fn names_outcome(text: &str) -> bool {
    BUILT_IN.rules.hits(text).iter().any(|hit| LISTS[hit.label].1 != "abandoned")
}

/// The resolution of a conversation given its turns' roles (`customer`, `agent`, `bot`,
/// `system`; case ignored) and texts, in order, with the built-in phrases.
pub fn resolve<S: AsRef<str>>(roles: &[S], texts: &[S]) -> Result<Resolution> {
    resolve_with(&BUILT_IN, roles, texts)
}

/// [`resolve`] with a taxonomy's phrases.
pub fn resolve_with<S: AsRef<str>>(phrases: &Phrases, roles: &[S], texts: &[S]) -> Result<Resolution> {
    if roles.len() != texts.len() {
        return Err(Error::TurnLists { roles: roles.len(), texts: texts.len() });
    }
    let roles: Vec<String> = roles.iter().map(|r| r.as_ref().trim().to_ascii_lowercase()).collect();
    let speaker = |role: &str| match role {
        "customer" | "user" | "caller" | "client" => Some(Speaker::Customer),
        "agent" | "bot" | "system" | "assistant" | "operator" => Some(Speaker::Business),
        _ => None,
    };
    let mut signals = Vec::new();
    let mut seen_bot = false;
    let mut handed_off = false;
    for (i, (role, text)) in roles.iter().zip(texts).enumerate() {
        let turn = i + 1;
        let who = speaker(role);
        for hit in phrases.rules.hits(text.as_ref()) {
            let (_, status, list_speaker) = LISTS[hit.label];
            if who == Some(list_speaker) {
                signals.push(Signal { status, turn, role: role.clone(), phrase: hit.text });
            }
        }
        if role == "bot" {
            seen_bot = true;
        } else if role == "agent" && seen_bot && !handed_off {
            handed_off = true;
            let phrase = "bot gave way to agent".to_string();
            signals.push(Signal { status: "handoff", turn, role: role.clone(), phrase });
        }
    }
    // A phrase of the same turn that points elsewhere than the last one is kept in turn order.
    signals.sort_by_key(|s| s.turn);
    let decided = signals.last().cloned();
    let last = roles.iter().rposition(|r| speaker(r).is_some());
    let (status, turn, reason) = match (&decided, last) {
        (Some(s), Some(l)) if abandoned_after(&roles, texts, l, s.turn, speaker) => {
            ("abandoned", Some(l + 1), "question left unanswered".to_string())
        }
        (Some(s), _) => (s.status, Some(s.turn), s.phrase.clone()),
        (None, Some(l)) if abandoned_after(&roles, texts, l, 0, speaker) => {
            ("abandoned", Some(l + 1), "question left unanswered".to_string())
        }
        (None, Some(l)) if speaker(&roles[l]) == Some(Speaker::Customer) => {
            ("unresolved", Some(l + 1), "customer spoke last".to_string())
        }
        _ => ("unresolved", None, "no sign of an outcome".to_string()),
    };
    Ok(Resolution { status, turn, reason, signals })
}

/// Whether the conversation ends with the business asking the customer something (not a closing
/// "anything else?") after turn `after`, with no answer.
fn abandoned_after<S: AsRef<str>>(
    roles: &[String],
    texts: &[S],
    last: usize,
    after: usize,
    speaker: impl Fn(&str) -> Option<Speaker>,
) -> bool {
    let text = texts[last].as_ref().trim();
    let closing = ["anything else", "something else", "help you with today", "else i can", "else we can"];
    let lower = text.to_lowercase();
    last + 1 >= after
        && speaker(&roles[last]) == Some(Speaker::Business)
        && text.ends_with('?')
        && !closing.iter().any(|c| lower.contains(c))
        && roles[..last].iter().any(|r| speaker(r) == Some(Speaker::Customer))
}

/// `resolution_status` as SQL calls it in `session`: the status alone.
pub fn status_text(session: &Registry, roles: &[&str], texts: &[&str], taxonomy: Option<&str>) -> Result<String> {
    explain(session, roles, texts, taxonomy).map(|r| r.status.to_string())
}

/// `resolution_explain` as SQL calls it in `session`: the [`Resolution`] as JSON.
pub fn explain_text(session: &Registry, roles: &[&str], texts: &[&str], taxonomy: Option<&str>) -> Result<String> {
    explain(session, roles, texts, taxonomy).map(|r| serde_json::to_string(&r).expect("resolution serializes"))
}

fn explain(session: &Registry, roles: &[&str], texts: &[&str], taxonomy: Option<&str>) -> Result<Resolution> {
    match taxonomy {
        None => resolve(roles, texts),
        Some(arg) => resolve_with(&*Phrases::of(session, arg)?, roles, texts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(turns: &[(&str, &str)]) -> Resolution {
        let (roles, texts): (Vec<&str>, Vec<&str>) = turns.iter().copied().unzip();
        resolve(&roles, &texts).unwrap()
    }

    #[test]
    fn each_status_from_its_phrases() {
        let r =
            status(&[("customer", "My router drops."), ("agent", "Restart it."), ("customer", "That worked, thanks!")]);
        assert_eq!((r.status, r.turn, r.reason.as_str()), ("solved", Some(3), "that worked"));
        let r = status(&[("customer", "Refund?"), ("agent", "I've escalated this to our billing team.")]);
        assert_eq!(r.status, "escalated");
        let r = status(&[("customer", "It broke."), ("agent", "Try this."), ("customer", "Still not working.")]);
        assert_eq!(r.status, "unresolved");
        let r = status(&[("customer", "Hi"), ("bot", "Let me connect you with a human agent.")]);
        assert_eq!(r.status, "handoff");
        let r = status(&[("customer", "Hi"), ("agent", "Hello, are you still there?")]);
        assert_eq!(r.status, "abandoned");
    }

    #[test]
    fn phrases_in_other_languages() {
        assert_eq!(status(&[("customer", "La app no abre"), ("customer", "Ya funciona, gracias")]).status, "solved");
        assert_eq!(
            status(&[("customer", "Die App stürzt ab"), ("customer", "Immer noch nicht!")]).status,
            "unresolved"
        );
    }

    #[test]
    fn shape_decides_without_phrases() {
        let r = status(&[("customer", "My card is blocked"), ("agent", "Which card is it?")]);
        assert_eq!((r.status, r.reason.as_str()), ("abandoned", "question left unanswered"));
        let r = status(&[("bot", "How can I help?"), ("customer", "card"), ("agent", "Hi, I'm Sam.")]);
        assert_eq!((r.status, r.reason.as_str()), ("handoff", "bot gave way to agent"));
        let r = status(&[("agent", "Hello"), ("customer", "My card is blocked")]);
        assert_eq!(r.status, "unresolved");
        let r = status(&[("customer", "Hi"), ("agent", "Done. Anything else I can help with?")]);
        assert_eq!(r.status, "unresolved");
        assert_eq!(status(&[]).status, "unresolved");
    }

    #[test]
    fn later_signals_win() {
        let r = status(&[
            ("customer", "Still waiting for my refund."),
            ("agent", "I've escalated it."),
            ("agent", "Your refund has been issued."),
            ("customer", "Got my refund, thanks."),
        ]);
        assert_eq!((r.status, r.turn), ("solved", Some(4)));
        assert_eq!(r.signals.len(), 4);
    }

    #[test]
    fn taxonomy_phrases_extend_or_replace() {
        let extra = ResolutionPhrases { solved: vec!["parcel is here".into()], ..Default::default() };
        let phrases = Phrases::new(Some(&extra)).unwrap();
        let r = resolve_with(&phrases, &["customer", "customer"], &["Where is it?", "The parcel is here!"]).unwrap();
        assert_eq!(r.status, "solved");
        let replace = ResolutionPhrases { replace: true, solved: vec!["parcel is here".into()], ..Default::default() };
        let phrases = Phrases::new(Some(&replace)).unwrap();
        let r = resolve_with(&phrases, &["agent", "customer"], &["Done.", "That worked"]).unwrap();
        assert_eq!(r.status, "unresolved");
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let e = resolve(&["customer"], &["a", "b"]).unwrap_err().to_string();
        assert!(e.contains("roles and texts differ"), "{e}");
    }
}
