//! Intent classification benchmark driver.
//!
//! ```text
//! classify_bench TAXONOMY.yml TEXTS.csv rules       # rules only: one thread, then two
//! classify_bench TAXONOMY.yml TEXTS.csv semantic [REPEAT]  # the model (CONVLYTICS_ONNX_THREADS threads)
//! ```
//!
//! TEXTS.csv has a `text` column. `rules` repeats the texts to at least 200,000 and prints the
//! best of 3 passes in texts/s and MB/s on one thread and on two (the texts split in halves).
//! `semantic` compiles the taxonomy first (embedding its examples, or reading the cached head),
//! then times `explain` over the texts (REPEAT times, default 1) in the batches the SQL functions
//! use, and prints texts/s.
//! `bench/classify.sh` drives it, next to plain ONNX Runtime on the same model.

use std::time::Instant;

use convlytics_core::classify::eval::read_labels;
use convlytics_core::classify::{self, Classifier};
use convlytics_core::taxonomy;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Texts per `explain` call: DataFusion's default batch size, as a UDF receives them (the
/// classifier sorts them by length and embeds them 32 at a time).
const CALL: usize = 8192;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (taxonomy_path, texts_path, mode, repeat) = match args.as_slice() {
        [t, x, m] => (t, x, m, 1),
        [t, x, m, r] => (t, x, m, r.parse()?),
        _ => return Err("usage: classify_bench TAXONOMY.yml TEXTS.csv rules|semantic [REPEAT]".into()),
    };
    let taxonomy = taxonomy::parse_one(&std::fs::read_to_string(taxonomy_path)?)?;
    let read: Vec<String> = read_labels(std::fs::File::open(texts_path)?)?.into_iter().map(|r| r.text).collect();
    let texts: Vec<String> = (0..repeat).flat_map(|_| read.iter().cloned()).collect();
    let started = Instant::now();
    let classifier = classify::classifier(&taxonomy)?;
    let compile = started.elapsed().as_secs_f64();
    println!(
        "taxonomy             {} ({} intents, version {}), compiled in {compile:.2} s",
        taxonomy.name,
        taxonomy.intents.len(),
        classifier.version()
    );
    match mode.as_str() {
        "rules" => rules(&classifier, &texts),
        "semantic" => semantic(&classifier, &texts),
        other => Err(format!("unknown mode {other}: expected rules or semantic").into()),
    }
}

fn rules(classifier: &Classifier, texts: &[String]) -> Result<()> {
    let copies = 200_000usize.div_ceil(texts.len().max(1));
    let all: Vec<&str> = (0..copies).flat_map(|_| texts.iter().map(String::as_str)).collect();
    let bytes: usize = all.iter().map(|t| t.len()).sum();
    let run = |part: &[&str]| -> convlytics_core::Result<usize> {
        let batch: Vec<Option<&str>> = part.iter().map(|t| Some(*t)).collect();
        let explained = classifier.explain(&batch)?;
        if explained.iter().flatten().any(|e| e.method == "semantic") {
            return Err(convlytics_core::Error::Taxonomy(convlytics_core::taxonomy::TaxonomyError {
                line: 0,
                column: 0,
                message: "the rules benchmark needs a taxonomy without examples or descriptions".into(),
            }));
        }
        Ok(explained.iter().flatten().filter(|e| e.method == "rule").count())
    };
    let mut decided = 0;
    for threads in [1, 2] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            decided = std::thread::scope(|s| -> Result<usize> {
                let handles: Vec<_> =
                    all.chunks(all.len().div_ceil(threads)).map(|c| s.spawn(move || run(c))).collect();
                let mut n = 0;
                for h in handles {
                    n += h.join().map_err(|_| "a worker panicked")?.map_err(|e| e.to_string())?;
                }
                Ok(n)
            })?;
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "rules, {threads} thread{}     {:>9.0} texts/s {:>7.1} MB/s ({} texts, {:.1}% decided by a rule)",
            if threads == 1 { " " } else { "s" },
            all.len() as f64 / best,
            bytes as f64 / 1e6 / best,
            all.len(),
            100.0 * decided as f64 / all.len() as f64
        );
    }
    Ok(())
}

fn semantic(classifier: &Classifier, texts: &[String]) -> Result<()> {
    if let Some(reason) = classifier.rules_only() {
        return Err(format!("the model is not available: {reason}").into());
    }
    let threads = std::env::var("CONVLYTICS_ONNX_THREADS").unwrap_or_else(|_| "all".into());
    let warm: Vec<Option<&str>> = texts.iter().take(64).map(|t| Some(t.as_str())).collect();
    classifier.explain(&warm)?;
    let started = Instant::now();
    let mut semantic = 0;
    for chunk in texts.chunks(CALL) {
        let batch: Vec<Option<&str>> = chunk.iter().map(|t| Some(t.as_str())).collect();
        semantic += classifier.explain(&batch)?.iter().flatten().filter(|e| e.method == "semantic").count();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "semantic, {threads} ONNX thread(s) {:>7.1} texts/s ({} texts, {semantic} by the model, {seconds:.1} s)",
        texts.len() as f64 / seconds,
        texts.len()
    );
    Ok(())
}
