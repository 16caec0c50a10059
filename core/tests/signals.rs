//! Every signal of realistic support conversations written for the project
//! (`tests/inputs/signals/*.txt`, one `role: text` line per turn), snapshot with insta.

use convlytics_core::taxonomy::Registry;
use convlytics_core::{entities, resolution, sentiment, summarize};
use proptest::prelude::*;

const TAXONOMY: &str = r#"{name: shop, entities: [{name: order_id, pattern: '\b(ORD-\d{4,})\b'}, {name: plan, values: [{value: yearly plan, synonyms: [annual plan]}]}]}"#;

#[test]
fn signals_of_conversations() {
    insta::glob!("inputs/signals/*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let turns: Vec<(&str, &str)> =
            text.lines().filter_map(|l| l.split_once(": ")).map(|(r, t)| (r.trim(), t.trim())).collect();
        let (roles, texts): (Vec<&str>, Vec<&str>) = turns.iter().copied().unzip();
        let customer: Vec<&str> = turns.iter().filter(|(r, _)| *r == "customer").map(|(_, t)| *t).collect();
        let all_customer = customer.join("\n");
        let per_turn: Vec<serde_json::Value> = turns
            .iter()
            .map(|(role, t)| {
                serde_json::json!({
                    "role": role,
                    "sentiment": sentiment::analyze(t),
                })
            })
            .collect();
        let report = serde_json::json!({
            "turns": per_turn,
            "customer_tones": sentiment::tones(&all_customer),
            "resolution": resolution::resolve(&roles, &texts).expect("resolution"),
            "summary": summarize::summarize_turns(&roles, &texts, 2).expect("summary"),
            "summary_of_customer_text": summarize::summarize(&all_customer, 1),
            "entities": serde_json::from_str::<serde_json::Value>(
                &entities::extract_entities_text(&Registry::new(), &all_customer, Some(TAXONOMY)).expect("entities")
            ).expect("json"),
        });
        insta::assert_snapshot!(serde_json::to_string_pretty(&report).expect("json"));
    });
}

/// Words and marks that exercise the tokenizer's edges: contractions, elision, emoji with
/// selectors, emoticons, money, dates, negators before and after the verb.
const PIECES: &[&str] = &[
    "not",
    "n'",
    "doesn't",
    "work",
    "nicht",
    "funktioniert",
    "but",
    "STILL",
    "!!",
    "??",
    ":(",
    "😡",
    "❤️",
    "🙏",
    "$",
    "€",
    "1,234.56",
    "12,50",
    "March",
    "5th",
    "2024-02-30",
    "3",
    "days",
    "thanks",
    ".",
    ",",
    "\n",
    "'",
    "’",
    "if",
    "would",
    "expected",
    "better",
    "waited",
    "40",
    "minutes",
    "é",
    "注文",
    "\u{200b}",
    "-",
    "—",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any text, built from edge pieces or arbitrary: no panic, scores in range, entity offsets on
    /// the text's characters, and roles and texts of the same length always resolve.
    #[test]
    fn any_text_is_scored_without_panic(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40),
        noise in ".{0,200}",
    ) {
        for text in [pieces.join(" "), pieces.concat(), noise] {
            let s = sentiment::analyze(&text);
            prop_assert!((-1.0..=1.0).contains(&s.score));
            let t = sentiment::tones(&text);
            for v in [t.frustration, t.urgency, t.confusion, t.satisfaction] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            let found: Vec<serde_json::Value> =
                serde_json::from_str(&entities::extract_entities_text(&Registry::new(), &text, None).unwrap()).unwrap();
            let chars: Vec<char> = text.chars().collect();
            for e in found {
                let (start, end) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
                let slice: String = chars[start..end].iter().collect();
                prop_assert_eq!(slice.as_str(), e["text"].as_str().unwrap());
            }
            let _ = summarize::summarize(&text, 2);
            let lines: Vec<&str> = text.lines().collect();
            let roles: Vec<&str> = (0..lines.len()).map(|i| if i % 2 == 0 { "customer" } else { "agent" }).collect();
            prop_assert!(resolution::resolve(&roles, &lines).is_ok());
            prop_assert!(summarize::summarize_turns(&roles, &lines, 2).is_ok());
        }
    }
}

/// A 5 MB text goes through every function (linear time; no recursion or quadratic step).
#[test]
fn a_huge_text_is_handled() {
    let text = "My order still hasn't arrived after 3 weeks, I paid $40. ".repeat(90_000);
    assert!(sentiment::sentiment(&text) < 0.0);
    assert!(sentiment::tones(&text).frustration > 0.5);
    assert!(entities::extract_entities_text(&Registry::new(), &text, None).unwrap().len() > 1_000_000);
    assert!(!summarize::summarize(&text, 2).is_empty());
    assert_eq!(resolution::resolve(&["customer"], &[text.as_str()]).unwrap().status, "unresolved");
}
