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
    support_with(embed::Embedding::Encoder)
}

/// The fixture taxonomy with `semantic:` set to `embedding`.
fn support_with(embedding: embed::Embedding) -> Arc<Classifier> {
    embed::available().expect("the embedding model (run scripts/setup-models.sh)");
    let text = include_str!("inputs/classify/taxonomy.yml");
    let mut taxonomy = taxonomy::parse_one(text).expect("the fixture taxonomy");
    taxonomy.semantic = embedding;
    classify::classifier(&taxonomy).expect("compiles")
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

/// The same fixtures under the static embedding: the rules decide as before; the model's answers
/// and similarities are the static vectors'.
#[test]
fn static_explanations() {
    if !embed::available_for_test("static_explanations") {
        return;
    }
    let classifier = support_with(embed::Embedding::Static);
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
    for embedding in [embed::Embedding::Encoder, embed::Embedding::Static] {
        let classifier = support_with(embedding);
        let texts = ["where is my parcel", "refund please", "", "what is love"];
        let batch: Vec<Option<&str>> = texts.iter().map(|t| Some(*t)).chain([None]).collect();
        let together = classifier.explain(&batch).expect("explains");
        for (i, text) in texts.iter().enumerate() {
            let alone = classifier.explain(&[Some(text)]).expect("explains").remove(0);
            assert_eq!(alone.as_ref().map(|e| &e.label), together[i].as_ref().map(|e| &e.label), "{text}");
            if embedding == embed::Embedding::Static {
                assert_eq!(alone, together[i], "static vectors do not depend on the batch: {text}");
            }
        }
        assert!(together[4].is_none());
    }
}

#[test]
fn huge_text_is_classified() {
    if !embed::available_for_test("huge_text_is_classified") {
        return;
    }
    let text = "my parcel has not arrived and nobody answers. ".repeat(200_000);
    for embedding in [embed::Embedding::Encoder, embed::Embedding::Static] {
        let e = support_with(embedding).explain(&[Some(&text)]).expect("explains").remove(0).expect("a text");
        assert_eq!(e.label, "delivery_status", "{embedding:?} reads the first 256 tokens");
    }
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
