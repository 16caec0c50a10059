//! Throughput of the signal functions on one thread: `sentiment`, `tones`, `extract_entities`
//! and `summarize` per turn text, `resolution_status` and `summarize_turns` per conversation.
//!
//! Usage: signals_bench FILE [ROUNDS]
//! FILE is JSON lines with `turns: [{speaker, text}]` per conversation (as the dev set's
//! `conversations/sgd_dialogues.jsonl`; `speaker` is `customer`, `agent`, ... or `USER`/`SYSTEM`),
//! or a `text,label` CSV (each text a one-turn conversation).

use std::time::Instant;

use convlytics_core::taxonomy::Registry;
use convlytics_core::{entities, resolution, sentiment, summarize};

/// A function over one text, returning something to keep the work from being optimized away.
type PerText = (&'static str, fn(&str) -> usize);
/// A function over a conversation's roles and texts.
type PerConversation = (&'static str, fn(&[&str], &[&str]) -> usize);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: signals_bench FILE.jsonl|FILE.csv [ROUNDS]")?;
    let rounds: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let mut conversations: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    if path.ends_with(".csv") {
        for row in convlytics_core::labels::read_labels(std::fs::File::open(&path)?)? {
            conversations.push((vec!["customer".to_string()], vec![row.text]));
        }
    }
    let jsonl = if path.ends_with(".csv") { String::new() } else { std::fs::read_to_string(&path)? };
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let turns = value["turns"].as_array().ok_or("a dialogue without turns")?;
        let role = |s: &str| match s.to_ascii_lowercase().as_str() {
            "user" | "customer" => "customer".to_string(),
            "system" | "agent" => "agent".to_string(),
            other => other.to_string(),
        };
        conversations.push((
            turns.iter().map(|t| role(t["speaker"].as_str().unwrap_or_default())).collect(),
            turns.iter().map(|t| t["text"].as_str().unwrap_or_default().to_string()).collect(),
        ));
    }
    let texts: Vec<&str> = conversations.iter().flat_map(|(_, t)| t.iter().map(String::as_str)).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    println!(
        "{} conversations, {} turns, {:.1} MB; best of {rounds} rounds, one thread",
        conversations.len(),
        texts.len(),
        bytes as f64 / 1e6
    );
    let per_text: [PerText; 4] = [
        ("sentiment", |t| sentiment::sentiment(t).to_bits() as usize),
        ("tones", |t| sentiment::tones_text(t).len()),
        ("extract_entities", |t| entities::extract_entities_text(&Registry::new(), t, None).map_or(0, |s| s.len())),
        ("summarize", |t| summarize::summarize(t, 2).len()),
    ];
    for (name, f) in per_text {
        let seconds = best(rounds, || texts.iter().map(|t| f(t)).sum());
        println!(
            "  {name:<20} {:>10.0} texts/s {:>7.1} MB/s",
            texts.len() as f64 / seconds,
            bytes as f64 / seconds / 1e6
        );
    }
    let per_conversation: [PerConversation; 2] = [
        ("resolution_status", |r, t| resolution::status_text(&Registry::new(), r, t, None).map_or(0, |s| s.len())),
        ("summarize_turns", |r, t| summarize::summarize_turns(r, t, 2).map_or(0, |s| s.len())),
    ];
    for (name, f) in per_conversation {
        let seconds = best(rounds, || {
            conversations
                .iter()
                .map(|(r, t)| {
                    let roles: Vec<&str> = r.iter().map(String::as_str).collect();
                    let texts: Vec<&str> = t.iter().map(String::as_str).collect();
                    f(&roles, &texts)
                })
                .sum()
        });
        println!(
            "  {name:<20} {:>10.0} conversations/s ({:.0} turns/s)",
            conversations.len() as f64 / seconds,
            texts.len() as f64 / seconds
        );
    }
    Ok(())
}

/// The fastest of `rounds` runs of `work`, in seconds.
fn best(rounds: usize, work: impl Fn() -> usize) -> f64 {
    (0..rounds.max(1))
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}
