//! Taxonomies and intent classification: explanations of fixed texts under a fixture taxonomy
//! (rules and the semantic model), taxonomy files that must be refused with the line and
//! column, and properties over arbitrary text.
//!
//! The semantic cases need the embedding model: `scripts/setup-models.sh` fetches it.

use std::sync::Arc;

use convlytics_core::classify::{self, Classifier, Explanation};
use convlytics_core::taxonomy::Registry;
use convlytics_core::{embed, taxonomy};
use proptest::prelude::*;

fn support() -> Arc<Classifier> {
    embed::available().expect("the embedding model (run scripts/setup-models.sh)");
    let text = include_str!("inputs/classify/taxonomy.yml");
    classify::classifier(&taxonomy::parse_one(text).expect("the fixture taxonomy")).expect("compiles")
}

/// An explanation with scores to two decimals: int8 kernels differ in the last digits from one
/// CPU to another.
fn report(text: &str, e: &Explanation, topics: &[String]) -> String {
    let mut out = format!("text: {:?}\nlabel: {} ({:.2}, {})\n", text.trim(), e.label, e.confidence, e.method);
    if let (Some(r), Some(c)) = (&e.runner_up, e.runner_up_confidence) {
        out += &format!("runner-up: {r} ({c:.2})\n");
    }
    out += "evidence:\n";
    for ev in &e.evidence {
        let similarity = ev.similarity.map_or(String::new(), |s| format!(" ~{s:.2}"));
        out += &format!("  {} {} {:?}{similarity}\n", ev.kind, ev.label, ev.text);
    }
    out + &format!("topics: {topics:?}\n")
}

#[test]
fn explanations() {
    if !embed::available_for_test("explanations") {
        return;
    }
    let classifier = support();
    insta::glob!("inputs/classify/*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let explained = classifier.explain(&[Some(&text)]).expect("explains").remove(0).expect("a text");
        let topics = classifier.topics(&[Some(&text)]).expect("tags").remove(0).expect("a text");
        insta::assert_snapshot!(report(&text, &explained, &topics));
    });
}

#[test]
fn taxonomy_errors() {
    insta::glob!("inputs/taxonomy_errors/*.yml", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let error = taxonomy::parse(&text).expect_err("a bad taxonomy");
        insta::assert_snapshot!(error.to_string());
    });
}

#[test]
fn a_batch_gives_what_single_texts_give() {
    if !embed::available_for_test("a_batch_gives_what_single_texts_give") {
        return;
    }
    let classifier = support();
    let texts = ["where is my parcel", "refund please", "", "what is love"];
    let batch: Vec<Option<&str>> = texts.iter().map(|t| Some(*t)).chain([None]).collect();
    let together = classifier.explain(&batch).expect("explains");
    for (i, text) in texts.iter().enumerate() {
        let alone = classifier.explain(&[Some(text)]).expect("explains").remove(0);
        assert_eq!(alone.map(|e| e.label), together[i].as_ref().map(|e| e.label.clone()), "{text}");
    }
    assert!(together[4].is_none());
}

#[test]
fn huge_text_is_classified() {
    if !embed::available_for_test("huge_text_is_classified") {
        return;
    }
    let classifier = support();
    let text = "my parcel has not arrived and nobody answers. ".repeat(200_000);
    let e = classifier.explain(&[Some(&text)]).expect("explains").remove(0).expect("a text");
    assert_eq!(e.label, "delivery_status", "the model reads the first 256 tokens");
}

fn rules_only() -> Arc<Classifier> {
    let text = "{name: rules, intents: [{name: refund, keywords: [refund, money back], exclusions: [no refund]}, {name: login, patterns: ['(?i)\\b2fa\\b']}], topics: [{name: app, keywords: [the app]}]}";
    classify::resolve(&Registry::new(), text).expect("compiles")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Any text gets a label of the taxonomy or `unknown`, with a confidence in [0, 1].
    #[test]
    fn any_text_gets_a_known_label(text in "\\PC{0,200}") {
        let e = rules_only().explain(&[Some(&text)]).unwrap().remove(0).unwrap();
        prop_assert!(["refund", "login", "unknown"].contains(&e.label.as_str()));
        prop_assert!((0.0..=1.0).contains(&e.confidence));
        let topics = rules_only().topics(&[Some(&text)]).unwrap().remove(0).unwrap();
        prop_assert!(topics.iter().all(|t| t == "app"));
    }
}
