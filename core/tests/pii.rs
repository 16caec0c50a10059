//! PII detection and redaction: fixtures with snapshots, properties, and hostile input.

use convlytics_core::pii::{detect, redact, CompiledPolicy};
use proptest::prelude::*;

fn policy(json: &str) -> CompiledPolicy {
    CompiledPolicy::from_json(json).expect("policy")
}

/// Each fixture text: every span found (type, text, score, method, evidence), then the text
/// redacted with typed placeholders and with indexed ones.
#[test]
fn fixtures() {
    insta::glob!("inputs/pii/*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let default = policy("");
        let mut report = String::from("spans:\n");
        for s in detect(&text, &default).unwrap() {
            report += &format!(
                "  {:<15} {:?} {:.2} {} ({})\n",
                s.entity,
                &text[s.start..s.end],
                s.score,
                s.method,
                s.evidence
            );
        }
        report += "\nplaceholder:\n";
        report += &redact(&text, &default).expect("redact");
        report += "\nindexed:\n";
        report += &redact(&text, &policy(r#"{"operator": "indexed"}"#)).expect("redact");
        insta::assert_snapshot!(report);
    });
}

/// Fragments that chat text is made of: words, punctuation, and values of every type.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "hi",
            "my",
            "name",
            "is",
            "call",
            "me",
            "at",
            "the",
            "order",
            "card",
            "Mr.",
            "Dear",
            "Thanks,",
            "\n",
            ",",
            ".",
            ":",
            "(",
            ")",
            "-",
            "+",
            "@",
            "é",
            "Ω",
            "🙂",
            "  ",
            "born",
            "zip",
            "password is",
            "https://",
        ])
        .prop_map(str::to_string),
        "[a-z]{1,8}@[a-z]{1,6}\\.(com|org|de)",
        "\\(?[2-9][0-9]{2}\\)? ?[2-9][0-9]{2}-[0-9]{4}",
        "4[0-9]{3} [0-9]{4} [0-9]{4} [0-9]{4}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        "[1-9][0-9]{0,4} [A-Z][a-z]{2,8} (Street|Road|Avenue)",
        "(Anna|Lukas|Priya|Kenji|Fatima|Mateo) (Schmidt|Raman|Tanaka|Haddad|Garcia)",
        "[0-9]{1,20}",
        "\\PC{1,6}",
    ]
}

fn chat_text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Spans lie on character boundaries, inside the text, in order, and never overlap.
    #[test]
    fn spans_are_well_formed(text in chat_text()) {
        let p = policy("");
        let spans = detect(&text, &p).unwrap();
        let mut previous_end = 0;
        for s in &spans {
            prop_assert!(s.start < s.end && s.end <= text.len());
            prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            prop_assert!(s.start >= previous_end, "overlap in {:?}", text);
            previous_end = s.end;
        }
    }

    /// Nothing a detector finds survives redaction, whatever the operator (the same characters
    /// may still stand elsewhere in the text, where nothing was found).
    #[test]
    fn nothing_found_survives_redaction(text in chat_text(), operator in prop::sample::select(vec!["placeholder", "indexed", "drop"])) {
        let p = policy(&format!(r#"{{"operator": "{operator}"}}"#));
        let redacted = redact(&text, &p).expect("redact");
        let spans = detect(&text, &p).unwrap();
        let mut outside = Vec::new();
        let mut at = 0;
        for s in &spans {
            outside.push(&text[at..s.start]);
            at = s.end;
        }
        outside.push(&text[at..]);
        let outside = outside.join("\u{1}");
        for s in &spans {
            let value = &text[s.start..s.end];
            prop_assert!(
                !redacted.contains(value) || outside.contains(value) || value.chars().count() < 6,
                "{} {:?} survived in {:?}", s.entity, value, redacted
            );
        }
    }

    /// Any text at all, however broken, is answered without a panic.
    #[test]
    fn arbitrary_text_does_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let p = policy(r#"{"operator": "mask"}"#);
        detect(&text, &p).unwrap();
        redact(&text, &p).expect("redact");
    }
}

/// Texts built to hurt: long runs of digits, a megabyte of repetition, address and name cues
/// over and over, binary junk. They must finish (in time linear in their length) without a panic.
#[test]
fn hostile_input_finishes() {
    let junk: String = (0..1_000_000u32).map(|i| char::from_u32(i % 0xD7FF).unwrap_or('?')).collect();
    let texts = [
        "9".repeat(1_000_000),
        "1 2 3 4 5 6 7 8 9 0 ".repeat(50_000),
        "a@".repeat(500_000),
        "Mr. ".repeat(250_000),
        "12 Main Street\n".repeat(60_000),
        "my password is ".repeat(60_000),
        "Anna Schmidt ".repeat(80_000),
        "https://x.io/".repeat(70_000),
        ":".repeat(1_000_000),
        junk,
    ];
    let p = policy("");
    for text in &texts {
        let redacted = redact(text, &p).expect("redact");
        assert!(!redacted.is_empty());
    }
    // 40,000 different people, numbered: one number each, in linear time.
    let letters = |mut i: usize| {
        let mut name = String::from("Q");
        for _ in 0..4 {
            name.push((b'a' + (i % 26) as u8) as char);
            i /= 26;
        }
        name
    };
    let people: String = (0..40_000).map(|i| format!("Dear Mr. {}. ", letters(i))).collect();
    let indexed = redact(&people, &policy(r#"{"operator": "indexed"}"#)).expect("redact");
    assert!(indexed.contains("<PERSON_40000>"), "{}", &indexed[indexed.len() - 200..]);
}

/// Allow lists drop values; deny lists and project patterns add them; the enabled types and
/// thresholds filter.
#[test]
fn policy_lists_and_patterns() {
    let text = "Write to support@acme.com or jane@example.com about ORD-123456 and Project Falcon.";
    let p = policy(
        r#"{"allow": ["support@acme.com"],
            "deny": [{"type": "CODENAME", "values": ["project falcon"]}],
            "patterns": [{"type": "ORDER_ID", "regex": "\\bORD-\\d{6}\\b", "score": 0.9}],
            "operators": {"ORDER_ID": "mask"}}"#,
    );
    assert_eq!(
        redact(text, &p).unwrap(),
        "Write to support@acme.com or <EMAIL_ADDRESS> about ***-**3456 and <CODENAME>."
    );
    let only_orders = policy(r#"{"entities": ["ORDER_ID"], "patterns": [{"type": "ORDER_ID", "regex": "ORD-\\d+"}]}"#);
    assert_eq!(
        redact(text, &only_orders).unwrap(),
        "Write to support@acme.com or jane@example.com about <ORDER_ID> and Project Falcon."
    );
}

/// The hash operator: the same value (however written) gives the same pseudonym, under one key.
#[test]
fn pseudonyms_join_across_rows() {
    std::env::set_var("CONVLYTICS_PII_CORE_TEST_KEY", "a test key that is long enough");
    let p = policy(r#"{"operator": "hash", "key_env": "CONVLYTICS_PII_CORE_TEST_KEY"}"#);
    let a = redact("from Jane.Doe@Example.com", &p).unwrap();
    let b = redact("reply to jane.doe@example.com", &p).unwrap();
    let token = a.trim_start_matches("from ");
    assert!(token.starts_with("<EMAIL_ADDRESS_") && token.len() == "<EMAIL_ADDRESS_>".len() + 12, "{a}");
    assert_eq!(b, format!("reply to {token}"));
}
