//! PII benchmark driver: detect and redact throughput on one core.
//!
//! ```text
//! pii_bench TEXTS.jsonl [POLICY.json]    # one {"text": ...} object per line
//! PII_SPANS=FILE pii_bench TEXTS.jsonl      # also writes every span and redacted text to FILE
//! ```
//!
//! Prints texts/s and MB/s for `detect` and for `redact` (each over every text, one thread), and
//! the spans found per type. `bench/pii.sh` drives it, next to Presidio. `PII_SPANS` is for
//! checking that a change to the detectors leaves their output as it was: diff two such files.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::BufRead;
use std::time::Instant;

use convlytics_core::pii::{detect, redact, CompiledPolicy};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: pii_bench TEXTS.jsonl [POLICY.json]")?;
    let policy = match args.get(1) {
        Some(p) => CompiledPolicy::from_json(&std::fs::read_to_string(p)?)?,
        None => CompiledPolicy::from_json("")?,
    };
    let mut texts = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
        let line = line?;
        if !line.trim().is_empty() {
            let value: serde_json::Value = serde_json::from_str(&line)?;
            texts.push(value["text"].as_str().ok_or("a line without \"text\"")?.to_string());
        }
    }
    if let Ok(out) = std::env::var("PII_SPANS") {
        let mut lines = String::new();
        for (i, text) in texts.iter().enumerate() {
            for s in detect(text, &policy).expect("no cancel") {
                let (entity, start, end, score, method, evidence) =
                    (s.entity, s.start, s.end, s.score, s.method, s.evidence);
                writeln!(lines, "{i}\t{entity}\t{start}\t{end}\t{score:.4}\t{method:?}\t{evidence}")?;
            }
            writeln!(lines, "{i}\tredacted\t{}", redact(text, &policy)?)?;
        }
        std::fs::write(out, lines)?;
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "texts                {} ({:.2} MB, {:.0} bytes each)",
        texts.len(),
        mb,
        bytes as f64 / texts.len().max(1) as f64
    );

    // The spans are counted first, so one-time costs (lazily built automata, phone metadata) do
    // not count against steady throughput. A first pass then sizes the timed ones: each goes over
    // the texts as many times as fill MIN_PASS_S (a megabyte takes milliseconds, less than a
    // shared machine's noise), and the best of a few passes is reported.
    const PASSES: usize = 5;
    const MIN_PASS_S: f64 = 0.25;
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for span in texts.iter().flat_map(|t| detect(t, &policy).expect("no cancel")) {
        *by_type.entry(span.entity).or_default() += 1;
    }
    let best = |f: &dyn Fn() -> Result<()>| -> Result<f64> {
        let started = Instant::now();
        f()?;
        let rounds = (MIN_PASS_S / started.elapsed().as_secs_f64().max(1e-9)).ceil().max(1.0) as u32;
        let mut best = f64::MAX;
        for _ in 0..PASSES {
            let started = Instant::now();
            for _ in 0..rounds {
                f()?;
            }
            best = best.min(started.elapsed().as_secs_f64() / f64::from(rounds));
        }
        Ok(best)
    };
    let detect_s = best(&|| {
        for text in &texts {
            std::hint::black_box(detect(text, &policy).expect("no cancel"));
        }
        Ok(())
    })?;
    let redact_s = best(&|| {
        for text in &texts {
            std::hint::black_box(redact(text, &policy)?);
        }
        Ok(())
    })?;
    let out_bytes: usize =
        texts.iter().map(|t| redact(t, &policy).map(|r| r.len())).sum::<std::result::Result<usize, _>>()?;
    let line = |name: &str, s: f64| {
        println!("{name:<20} {:.3} s  {:>9.0} texts/s  {:>7.2} MB/s", s, texts.len() as f64 / s, mb / s);
    };
    line("detect", detect_s);
    line("redact", redact_s);
    let spans: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!("spans                {}", spans.join(", "));
    println!("redacted size        {:.2} MB", out_bytes as f64 / 1e6);
    Ok(())
}
