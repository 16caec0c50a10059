//! Language detection benchmark driver: throughput and accuracy on one core, before and after.
//!
//! ```text
//! language_bench TEXTS.csv    # columns: text, and optionally language and kind
//! ```
//!
//! Runs `detect_language_thorough` (lingua over every language: the answer before convlytics'
//! own n-gram scorer) and `detect_language` over every text, one thread, and prints texts/s for
//! each and their ratio. With a `language` column it prints, per `kind`, the accuracy (a `None`
//! answer counts as wrong), how often the two answers agree, and how often each answers a wrong
//! language (rather than `None`). `bench/detect_language.sh` drives it.

use std::collections::BTreeMap;
use std::time::Instant;

use convlytics_core::language::{detect_language, detect_language_thorough};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Row {
    text: String,
    language: Option<String>,
    kind: String,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: language_bench TEXTS.csv")?;
    let mut reader = csv::Reader::from_path(path)?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let text = column("text").ok_or("no `text` column")?;
    let (language, kind) = (column("language"), column("kind"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(Row {
            text: record[text].to_string(),
            language: language.map(|i| record[i].to_string()),
            kind: kind.map_or("all", |i| &record[i]).to_string(),
        });
    }
    let bytes: usize = rows.iter().map(|r| r.text.len()).sum();
    println!("texts {} ({:.2} MB)", rows.len(), bytes as f64 / 1e6);

    // Warm both paths (model loading is a one-time cost per process), then time one pass each.
    for row in rows.iter().take(200) {
        detect_language(&row.text);
        detect_language_thorough(&row.text);
    }
    let (thorough, thorough_s) = timed(&rows, detect_language_thorough);
    let (fast, fast_s) = timed(&rows, detect_language);
    let rate = |s: f64| rows.len() as f64 / s;
    println!(
        "thorough (lingua, every language): {:>9.0} texts/s  {:.2} MB/s",
        rate(thorough_s),
        bytes as f64 / 1e6 / thorough_s
    );
    println!(
        "detect_language (n-gram scorer):   {:>9.0} texts/s  {:.2} MB/s  ({:.1}x)",
        rate(fast_s),
        bytes as f64 / 1e6 / fast_s,
        thorough_s / fast_s
    );

    let mut kinds: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let k = kinds.entry(&row.kind).or_default();
        k[0] += 1;
        if let Some(truth) = &row.language {
            k[1] += usize::from(thorough[i].as_ref() == Some(truth));
            k[2] += usize::from(fast[i].as_ref() == Some(truth));
            k[4] += usize::from(thorough[i].as_ref().is_some_and(|l| l != truth));
            k[5] += usize::from(fast[i].as_ref().is_some_and(|l| l != truth));
        }
        k[3] += usize::from(thorough[i] == fast[i]);
    }
    println!("kind          texts  thorough  detect_language  agree   wrong (thorough / detect_language)");
    for (kind, [n, old, new, agree, old_wrong, new_wrong]) in &kinds {
        let share = |x: &usize| *x as f64 / *n as f64;
        let accuracy = |x| if language.is_some() { format!("{:.4}", share(x)) } else { "-".into() };
        let (old_wrong, new_wrong) = (accuracy(old_wrong), accuracy(new_wrong));
        let (old, new, agree) = (accuracy(old), accuracy(new), share(agree));
        println!("{kind:<12} {n:>6}  {old:>8}  {new:>15}  {agree:.4}  {old_wrong} / {new_wrong}");
    }

    Ok(())
}

/// Every row's answer, and the seconds one pass took.
fn timed(rows: &[Row], detect: fn(&str) -> Option<String>) -> (Vec<Option<String>>, f64) {
    let start = Instant::now();
    let answers = rows.iter().map(|r| detect(&r.text)).collect();
    (answers, start.elapsed().as_secs_f64())
}
