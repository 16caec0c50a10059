//! Every signal of realistic support conversations written for the project
//! (`tests/inputs/signals/*.txt`, one `role: text` line per turn), snapshot with insta.

use convlytics_core::{entities, resolution, sentiment, summarize};

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
                &entities::extract_entities_text(&all_customer, Some(TAXONOMY)).expect("entities")
            ).expect("json"),
        });
        insta::assert_snapshot!(serde_json::to_string_pretty(&report).expect("json"));
    });
}
