//! Transcript benchmark driver: parse + normalize throughput on one core.
//!
//! ```text
//! transcript_bench PAYLOADS.jsonl [SETTINGS.json]    # one {"format": ..., "payload": ...} per line
//! ```
//!
//! Prints conversations/s and MB/s for `parse` (the turns) and for `info` (turns, roles, metadata
//! and voice metrics), best of 5 passes on one thread, and how many payloads were quarantined.
//! When the lines also carry `"roles"` (the true role of each turn), prints how many turns got
//! the right role. `bench/transcript.sh` drives it, next to a Python peer.

use std::io::BufRead;
use std::time::Instant;

use convlytics_core::transcript::{info, parse, Settings};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One benchmark input.
struct Payload {
    format: String,
    payload: String,
    roles: Option<Vec<String>>,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: transcript_bench PAYLOADS.jsonl [SETTINGS.json]")?;
    let settings = Settings::from_json(&args.get(1).map(std::fs::read_to_string).transpose()?.unwrap_or_default())?;
    let mut payloads = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        payloads.push(Payload {
            format: v["format"].as_str().ok_or("a line without \"format\"")?.to_string(),
            payload: v["payload"].as_str().ok_or("a line without \"payload\"")?.to_string(),
            roles: v["roles"].as_array().map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()),
        });
    }
    let bytes: usize = payloads.iter().map(|p| p.payload.len()).sum();
    let n = payloads.len() as f64;
    println!(
        "conversations        {} ({:.2} MB, {:.0} bytes each)",
        payloads.len(),
        bytes as f64 / 1e6,
        bytes as f64 / n
    );

    let (mut turns, mut quarantined, mut right, mut judged) = (0usize, 0usize, 0usize, 0usize);
    for p in &payloads {
        match parse(&p.payload, &p.format, &settings) {
            Ok(t) => {
                turns += t.turns.len();
                if let Some(roles) = &p.roles {
                    judged += roles.len();
                    right += t.turns.iter().zip(roles).filter(|(t, r)| t.role.as_str() == r.as_str()).count();
                }
            }
            Err(_) => quarantined += 1,
        }
    }
    println!("turns                {turns}");
    println!("quarantined          {quarantined}");
    if judged > 0 {
        println!("roles right          {right} of {judged} ({:.1}%)", 100.0 * right as f64 / judged as f64);
    }

    const PASSES: usize = 5;
    let best = |f: &dyn Fn()| {
        (0..PASSES)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let parse_s = best(&|| {
        for p in &payloads {
            std::hint::black_box(parse(&p.payload, &p.format, &settings).ok());
        }
    });
    let info_s = best(&|| {
        for p in &payloads {
            std::hint::black_box(info(&p.payload, &p.format, &settings).ok());
        }
    });
    for (what, s) in [("parse", parse_s), ("info", info_s)] {
        println!("{what:<20} {:>10.0} conversations/s {:>8.2} MB/s", n / s, bytes as f64 / 1e6 / s);
    }
    Ok(())
}
