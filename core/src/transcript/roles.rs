//! Speaker roles, in this order: the payload's own field (JSON `role`, Intercom's author type),
//! the project's configured names, role words in the speaker's name (`Agent`, `Caller`,
//! `Support`, `Bot`), what unplaced speakers say (agents say "how can I help", "let me check",
//! "is there anything else"; customers "I need", "my order"), and, when every other human in the
//! conversation is placed, the remaining speaker takes the other side. A speaker none of these
//! place is `unknown`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{RawTurn, Role, Settings};

/// Words that name a role when a speaker name contains them, in the order tried (so "customer
/// service" is an agent before "customer" is a customer).
const ROLE_WORDS: &[(&str, Role)] = &[
    ("customer service", Role::Agent),
    ("customer support", Role::Agent),
    ("customer care", Role::Agent),
    ("customer success", Role::Agent),
    ("virtual agent", Role::Bot),
    ("virtual assistant", Role::Bot),
    ("chatbot", Role::Bot),
    ("bot", Role::Bot),
    ("assistant", Role::Bot),
    ("ivr", Role::Bot),
    ("automated", Role::Bot),
    ("system", Role::System),
    ("notification", Role::System),
    ("agent", Role::Agent),
    ("rep", Role::Agent),
    ("representative", Role::Agent),
    ("support", Role::Agent),
    ("advisor", Role::Agent),
    ("adviser", Role::Agent),
    ("operator", Role::Agent),
    ("specialist", Role::Agent),
    ("associate", Role::Agent),
    ("csr", Role::Agent),
    ("staff", Role::Agent),
    ("helpdesk", Role::Agent),
    ("sales", Role::Agent),
    ("salesperson", Role::Agent),
    ("seller", Role::Agent),
    ("host", Role::Agent),
    ("customer", Role::Customer),
    ("caller", Role::Customer),
    ("client", Role::Customer),
    ("user", Role::Customer),
    ("visitor", Role::Customer),
    ("guest", Role::Customer),
    ("member", Role::Customer),
    ("buyer", Role::Customer),
    ("prospect", Role::Customer),
    ("requester", Role::Customer),
    ("patient", Role::Customer),
    ("kunde", Role::Customer),
    ("cliente", Role::Customer),
    ("agente", Role::Agent),
    ("conseiller", Role::Agent),
];

/// What agents say in support conversations, whatever the business.
static AGENT_CUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(thanks? (you )?for (calling|contacting|reaching out|your patience|holding|waiting)|how (can|may|could) (i|we) (help|assist)|what can (i|we) do for you|(sorry|sad) to hear|we('ll| will) (replace|refund|send|ship|look|contact|call)|(is there )?anything else (i|we) can|is there anything else|please (confirm|hold|allow)|let me (check|look|see|verify|pull)|i(( have|'ve) | )(found|booked|reserved|refunded|cancel+ed|sent|updated|processed|issued|escalated|scheduled|placed|made)|your (reservation|booking|order|ticket|account|refund|appointment|request|payment) (is|has been|was)|sorry (about|for) (that|the (wait|inconvenience|delay))|would you like (me )?to|you'?re speaking (to|with)|my name is \w+ (and|from)|(this is|i'?m) \w+ (from|with) (the )?\w+|calling from|one moment)\b",
    )
    .expect("agent cue regex")
});

/// What customers say in support conversations.
static CUSTOMER_CUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(i (need|want|would like|'d like|have a problem|can'?t|cannot|am looking|'m looking|was charged|never (got|received)|bought|ordered|paid)|my (order|account|card|bill|package|parcel|subscription|payment|delivery|refund)|help me|(stopped|isn'?t|not|doesn'?t|does not) work(ing)?)\b",
    )
    .expect("customer cue regex")
});

/// Agent cues minus customer cues over everything `name` says.
fn lean(turns: &[RawTurn], name: &str) -> i64 {
    turns
        .iter()
        .filter(|t| t.speaker.as_deref() == Some(name))
        .map(|t| AGENT_CUES.find_iter(&t.text).count() as i64 - CUSTOMER_CUES.find_iter(&t.text).count() as i64)
        .sum()
}

/// The role a speaker's name states by its words, if any.
pub(crate) fn role_of_name(name: &str) -> Option<Role> {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words.is_empty() || words.len() > 5 {
        return None;
    }
    let joined = words.join(" ");
    ROLE_WORDS
        .iter()
        .find(|(word, _)| if word.contains(' ') { joined.contains(word) } else { words.contains(word) })
        .map(|(_, role)| *role)
}

/// The role of every turn, in order.
pub(crate) fn assign(turns: &[RawTurn], settings: &Settings) -> Vec<Role> {
    let mut by_speaker: BTreeMap<&str, Role> = BTreeMap::new();
    let mut unplaced: BTreeSet<&str> = BTreeSet::new();
    for turn in turns {
        let Some(name) = turn.speaker.as_deref() else { continue };
        if turn.role.is_some() || by_speaker.contains_key(name) {
            continue;
        }
        match settings.configured_role(name).or_else(|| role_of_name(name)) {
            Some(role) => {
                by_speaker.insert(name, role);
            }
            None => {
                unplaced.insert(name);
            }
        }
    }
    let leans: BTreeMap<&str, i64> = unplaced.iter().map(|n| (*n, lean(turns, n))).collect();
    let humans_placed = by_speaker
        .values()
        .chain(turns.iter().filter_map(|t| t.role.as_ref()))
        .any(|r| matches!(r, Role::Customer | Role::Agent));
    if unplaced.len() == 2 && !humans_placed {
        // Two people nothing else tells apart: the one who talks more like an agent is the agent.
        let (a, b) = (*unplaced.first().expect("two"), *unplaced.last().expect("two"));
        let sides = match leans[a].cmp(&leans[b]) {
            std::cmp::Ordering::Greater => Some((a, b)),
            std::cmp::Ordering::Less => Some((b, a)),
            std::cmp::Ordering::Equal => None,
        };
        if let Some((agent, customer)) = sides {
            by_speaker.insert(agent, Role::Agent);
            by_speaker.insert(customer, Role::Customer);
            unplaced.clear();
        }
    }
    for (name, lean) in &leans {
        if unplaced.contains(name) && *lean >= 2 {
            by_speaker.insert(name, Role::Agent);
            unplaced.remove(name);
        }
    }
    if unplaced.len() == 1 {
        let mut placed: BTreeSet<Role> = by_speaker.values().copied().collect();
        placed.extend(turns.iter().filter_map(|t| t.role));
        let humans: BTreeSet<Role> =
            placed.intersection(&BTreeSet::from([Role::Customer, Role::Agent])).copied().collect();
        let other = if humans == BTreeSet::from([Role::Agent]) || (humans.is_empty() && placed.contains(&Role::Bot)) {
            Some(Role::Customer)
        } else if humans == BTreeSet::from([Role::Customer]) {
            Some(Role::Agent)
        } else {
            None
        };
        if let (Some(role), Some(name)) = (other, unplaced.first()) {
            by_speaker.insert(name, role);
        }
    }
    turns
        .iter()
        .map(|t| {
            t.role.or_else(|| t.speaker.as_deref().and_then(|s| by_speaker.get(s).copied())).unwrap_or(Role::Unknown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: &str, text: &str) -> RawTurn {
        RawTurn { speaker: Some(speaker.into()), text: text.into(), ..RawTurn::default() }
    }

    #[test]
    fn names_state_roles() {
        assert_eq!(role_of_name("Agent"), Some(Role::Agent));
        assert_eq!(role_of_name("Customer Service"), Some(Role::Agent));
        assert_eq!(role_of_name("customer"), Some(Role::Customer));
        assert_eq!(role_of_name("Sarah (Support)"), Some(Role::Agent));
        assert_eq!(role_of_name("Virtual Assistant"), Some(Role::Bot));
        assert_eq!(role_of_name("Maria"), None);
        assert_eq!(role_of_name("Speaker 1"), None);
    }

    #[test]
    fn cues_and_the_other_side() {
        let turns = vec![turn("Dana", "Thanks for calling Acme, how can I help?"), turn("Lee", "My order is late.")];
        assert_eq!(assign(&turns, &Settings::default()), vec![Role::Agent, Role::Customer]);
        let turns = vec![turn("Agent", "Hello"), turn("Maria", "Hi")];
        assert_eq!(assign(&turns, &Settings::default()), vec![Role::Agent, Role::Customer]);
        let turns = vec![turn("Speaker 1", "Hello"), turn("Speaker 2", "Hi")];
        assert_eq!(assign(&turns, &Settings::default()), vec![Role::Unknown, Role::Unknown]);
        let turns = vec![
            turn("Lee", "Hi, I need to move my delivery to Friday."),
            turn("Sam", "Let me check. Would you like the morning or the afternoon?"),
            turn("Lee", "Morning."),
        ];
        assert_eq!(assign(&turns, &Settings::default()), vec![Role::Customer, Role::Agent, Role::Customer]);
    }

    #[test]
    fn configured_names_win() {
        let settings = Settings::from_json(r#"{"speakers": {"agent": ["Maria"]}}"#).unwrap();
        let turns = vec![turn("maria", "Hi"), turn("Customer", "Hello")];
        assert_eq!(assign(&turns, &settings), vec![Role::Agent, Role::Customer]);
    }
}
