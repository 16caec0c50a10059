//! Transcripts: one fixture per format with snapshots of the turns and the info row, bad input
//! that must become a quarantine reason, and properties over arbitrary payloads.

use convlytics_core::transcript::{format_time, info, parse, Info, Settings, Transcript};
use proptest::prelude::*;

/// The settings the fixtures are read with: a named agent, the shop's email domain, one
/// boilerplate pattern, day-first dates and a mapping for Schema-Guided Dialogue exports.
const SETTINGS: &str = r#"{
    "speakers": {"agent": ["Dana"]},
    "agent_domains": ["shop.example"],
    "boilerplate": ["(?i)^this (call|chat) (may|will) be recorded"],
    "day_first": true,
    "formats": {"sgd": {"messages": "turns", "speaker": "speaker", "role": "speaker",
                        "roles": {"customer": "customer", "agent": "agent"}, "text": "text"}}
}"#;

fn settings() -> Settings {
    Settings::from_json(SETTINGS).expect("settings")
}

fn report(transcript: &Transcript, info: &Info) -> String {
    let mut out = String::from("turns:\n");
    for t in &transcript.turns {
        let time = match (t.start_ms, t.end_ms, t.sent_at) {
            (Some(s), Some(e), _) => format!(" [{s}-{e} ms]"),
            (Some(s), None, _) => format!(" [{s} ms]"),
            (_, _, Some(at)) => format!(" [{}]", format_time(&at)),
            _ => String::new(),
        };
        out += &format!(
            "  {} {} {:?}{}: {:?}\n",
            t.index,
            t.role.as_str(),
            t.speaker.as_deref().unwrap_or("-"),
            time,
            t.text
        );
    }
    let mut info = serde_json::to_value(info).expect("info");
    info.as_object_mut().expect("object").retain(|_, v| !v.is_null());
    out + "info: " + &serde_json::to_string_pretty(&info).expect("json") + "\n"
}

/// Each fixture is read in the format its extension names.
#[test]
fn fixtures() {
    insta::glob!("inputs/transcript/*", |path| {
        let payload = std::fs::read_to_string(path).expect("fixture");
        let format = path.extension().and_then(|e| e.to_str()).expect("extension");
        let settings = settings();
        let info = info(&payload, format, &settings).expect("settings are valid");
        let snapshot = match parse(&payload, format, &settings) {
            Ok(t) => report(&t, &info),
            Err(e) => {
                assert_eq!(info.quarantine_reason.as_deref(), Some(e.to_string().as_str()));
                format!("quarantined: {e}\n")
            }
        };
        insta::assert_snapshot!(snapshot);
    });
}

#[test]
fn bad_settings_are_errors_not_reasons() {
    for (json, expected) in [
        (r#"{"boilerplate": ["(unclosed"]}"#, "boilerplate pattern '(unclosed'"),
        (r#"{"speakerz": {}}"#, "unknown field `speakerz`"),
        (r#"{"formats": {"plain": {"text": "x"}}}"#, "'plain' names a format that is not JSON"),
        (r#"{"formats": {"mine": {"messages": "m"}}}"#, "`text` is required"),
        (r#"{"boilerplate": ["\\w{1000}{1000}"]}"#, "boilerplate pattern"),
        (r#"{"silence_ms": -1}"#, "negative"),
    ] {
        let err = Settings::from_json(json).expect_err(json).to_string();
        assert!(err.starts_with("transcript settings: ") && err.contains(expected), "{json}: {err}");
    }
}

#[test]
fn unknown_formats_and_oversized_payloads_are_reasons() {
    let s = settings();
    assert!(info("Agent: hi", "fax", &s).unwrap().quarantine_reason.unwrap().starts_with("unknown format 'fax'"));
    let small = Settings::from_json(r#"{"max_payload_bytes": 8}"#).unwrap();
    assert_eq!(
        info("Agent: hello there", "plain", &small).unwrap().quarantine_reason.as_deref(),
        Some("payload is 18 bytes, over the limit of 8 (settings.max_payload_bytes)")
    );
}

/// A 50 MB email (a short note and a large attachment) is read, not choked on; over the limit
/// it is a reason.
#[test]
fn a_50_mb_email() {
    let attachment = "QUJDRA==\r\n".repeat(5 << 20);
    let email = format!(
        "From: a@example.com\r\nSubject: logs\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nThe logs you asked for.\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}--x--\r\n"
    );
    assert!(email.len() > 50 << 20);
    let t = parse(&email, "email", &settings()).expect("parsed");
    assert_eq!(t.turns.len(), 1);
    assert_eq!(t.turns[0].text, "The logs you asked for.");
    let small = Settings::from_json(r#"{"max_payload_bytes": 1048576}"#).unwrap();
    assert!(info(&email, "email", &small).unwrap().quarantine_reason.unwrap().contains("over the limit"));
}

/// The formats every payload is tried in by the properties.
const FORMATS: &[&str] = &["plain", "vtt", "srt", "email", "json", "jsonl", "zendesk", "intercom", "messages", "sgd"];

fn payload() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "WEBVTT\n",
            "\n\n",
            "00:00:01.000 --> 00:00:02.000\n",
            "00:00:03,000 --> 00:00:01,000\n",
            "<v Agent>",
            "<v ",
            "Agent: ",
            "Customer: ",
            "[00:01:23] ",
            "From: a@b.c\r\n",
            "Subject: x\r\n",
            "From x\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "=E9",
            "{",
            "}",
            "[",
            "]",
            "\"messages\": ",
            "\"text\": \"hi\"",
            ",",
            "\"comments\": ",
            "null",
            "> quoted\n",
            "-- \n",
        ])
        .prop_map(str::to_string),
        "\\PC{0,12}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any payload in any format gives turns or a reason, never a panic; turns are numbered
    /// from 1, have text, and agree with the info row.
    #[test]
    fn any_payload_reads_or_is_a_reason(text in payload(), f in 0..FORMATS.len()) {
        let s = settings();
        let format = FORMATS[f];
        let info = info(&text, format, &s).expect("valid settings");
        match parse(&text, format, &s) {
            Ok(t) => {
                prop_assert!(info.quarantine_reason.is_none());
                prop_assert_eq!(info.turn_count as usize, t.turns.len());
                for (i, turn) in t.turns.iter().enumerate() {
                    prop_assert_eq!(turn.index as usize, i + 1);
                    prop_assert!(!turn.text.trim().is_empty());
                }
            }
            Err(e) => prop_assert_eq!(info.quarantine_reason, Some(e.to_string())),
        }
    }
}
