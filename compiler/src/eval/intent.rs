//! `convlytics eval intent`: classify labelled texts with a taxonomy and score the intents.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use convlytics_core::classify::eval::{read_labels, score, IntentMetrics, LabelledText};
use convlytics_core::classify::{self, Classifier};
use convlytics_core::taxonomy::Registry;
use convlytics_core::taxonomy::{self, Taxonomy};
use serde::Serialize;

use super::{spinner, write_report, ReportFormat};
use crate::error::{Error, Result};
use crate::project::Project;

/// Texts classified per call: large batches sort by length well, and the progress bar moves.
const CHUNK: usize = 2048;

/// Where the taxonomy comes from.
#[derive(Debug, Clone)]
pub enum TaxonomySource {
    /// A YAML file holding one taxonomy (or a property file with one under `taxonomies:`).
    File(PathBuf),
    /// A taxonomy of a project, by name.
    Project {
        /// The project's directory.
        dir: PathBuf,
        /// The taxonomy's name.
        name: String,
    },
}

impl TaxonomySource {
    /// Reads and validates the taxonomy.
    pub fn load(&self) -> Result<Taxonomy> {
        match self {
            TaxonomySource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                taxonomy::parse_one(&text).map_err(|e| Error::taxonomy(path, e))
            }
            TaxonomySource::Project { dir, name } => {
                let mut project = Project::load(dir)?;
                let known: Vec<String> = project.taxonomies.keys().cloned().collect();
                project.taxonomies.remove(name).map(|(_, t)| t).ok_or_else(|| {
                    Error::Project(format!(
                        "no taxonomy named '{name}' in the project (declared: {})",
                        known.join(", ")
                    ))
                })
            }
        }
    }
}

/// The report `eval intent` prints.
#[derive(Debug, Serialize)]
pub struct IntentReport {
    /// The taxonomy's name.
    pub taxonomy: String,
    /// Its version.
    pub version: String,
    /// Its threshold.
    pub threshold: f64,
    /// The label files, in order.
    pub label_files: Vec<PathBuf>,
    /// Why semantic classification was off, when it was.
    pub rules_only: Option<String>,
    /// Seconds to compile the taxonomy (embedding the examples and training, unless cached).
    pub compile_seconds: f64,
    /// Seconds spent classifying.
    pub classify_seconds: f64,
    /// Texts classified per second.
    pub texts_per_second: f64,
    /// The scores.
    pub metrics: IntentMetrics,
}

/// Classifies the texts of `label_files` with `taxonomy` and scores them.
pub fn evaluate(taxonomy: &Taxonomy, label_files: &[PathBuf], top_confused: usize) -> Result<IntentReport> {
    let mut gold: Vec<LabelledText> = Vec::new();
    for path in label_files {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        gold.extend(read_labels(file).map_err(|e| input(path, e))?);
    }
    let spinner = spinner();
    let examples: usize = taxonomy.intents.iter().map(|l| l.examples.len()).sum();
    spinner.set_message(format!("compiling taxonomy '{}' ({examples} examples)", taxonomy.name));
    let started = Instant::now();
    let classifier = classify::classifier(taxonomy).map_err(|e| Error::Project(e.to_string()))?;
    let compile_seconds = started.elapsed().as_secs_f64();
    spinner.finish_and_clear();
    if let Some(notice) = classify::rules_only_notice(&Registry::new(), &classifier) {
        eprintln!("warning: {notice}");
    }
    let started = Instant::now();
    let predicted = classify_all(&classifier, &gold)?;
    let classify_seconds = started.elapsed().as_secs_f64();
    let intents: Vec<String> = taxonomy.intents.iter().map(|l| l.name.clone()).collect();
    Ok(IntentReport {
        taxonomy: taxonomy.name.clone(),
        version: classifier.version().to_owned(),
        threshold: taxonomy.threshold,
        label_files: label_files.to_vec(),
        rules_only: classifier.rules_only().map(str::to_owned),
        compile_seconds,
        classify_seconds,
        texts_per_second: gold.len() as f64 / classify_seconds.max(1e-9),
        metrics: score(&gold, &predicted, &intents, top_confused),
    })
}

fn input(path: &Path, e: convlytics_core::Error) -> Error {
    Error::Input { path: path.to_path_buf(), message: e.to_string() }
}

fn classify_all(classifier: &Classifier, gold: &[LabelledText]) -> Result<Vec<classify::Explanation>> {
    let bar = super::progress_bar(gold.len(), "classifying");
    let mut out = Vec::with_capacity(gold.len());
    for chunk in gold.chunks(CHUNK) {
        let texts: Vec<Option<&str>> = chunk.iter().map(|g| Some(g.text.as_str())).collect();
        let explained = classifier.explain(&texts).map_err(|e| Error::Project(e.to_string()))?;
        out.extend(explained.into_iter().map(|e| e.expect("a text has an explanation")));
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Prints `report` as `format`.
pub fn print(report: &IntentReport, format: ReportFormat, out: &mut impl Write) -> Result<()> {
    write_report(report, format, out, as_text)
}

fn as_text(report: &IntentReport) -> String {
    let m = &report.metrics;
    let files: Vec<String> = report.label_files.iter().map(|f| f.display().to_string()).collect();
    let mut text = format!(
        "Intent evaluation of taxonomy '{}' (version {}, threshold {}) on {}\n\n",
        report.taxonomy,
        report.version,
        report.threshold,
        files.join(", ")
    );
    if let Some(reason) = &report.rules_only {
        text += &format!("  rules only: {reason}\n\n");
    }
    text += &format!(
        "  texts                      {} ({} in scope, {} out of scope)\n",
        m.texts, m.in_scope, m.out_of_scope
    );
    text += &format!("  accuracy (in scope)        {:.4}\n", m.accuracy);
    text += &format!("  accuracy before threshold  {:.4}\n", m.accuracy_before_threshold);
    text += &format!("  macro F1                   {:.4}\n", m.macro_f1);
    text += &format!("  unknown rate (in scope)    {:.4}\n", m.unknown_rate);
    match m.out_of_scope_recall {
        Some(r) => text += &format!("  out-of-scope recall        {r:.4}\n"),
        None => text += "  out-of-scope recall        (no out-of-scope rows)\n",
    }
    let methods: Vec<String> = m.methods.iter().map(|(k, v)| format!("{k} {v}")).collect();
    text += &format!("  decided by                 {}\n", methods.join(", "));
    text += &format!(
        "  time                       {:.2} s compiling, {:.2} s classifying, {:.0} texts/s\n",
        report.compile_seconds, report.classify_seconds, report.texts_per_second
    );
    text += "\n  had the threshold been       ";
    text += &m.by_threshold.iter().map(|p| format!("{:>6.2}", p.threshold)).collect::<String>();
    text += "\n    accuracy (in scope)        ";
    text += &m.by_threshold.iter().map(|p| format!("{:>6.3}", p.accuracy)).collect::<String>();
    if m.out_of_scope > 0 {
        text += "\n    out-of-scope recall        ";
        text += &m
            .by_threshold
            .iter()
            .map(|p| format!("{:>6.3}", p.out_of_scope_recall.unwrap_or(0.0)))
            .collect::<String>();
    }
    text += "\n\n  reliability (best label, before the threshold)\n";
    text += &format!("    {:<12} {:>7} {:>11} {:>9}\n", "confidence", "texts", "mean conf.", "accuracy");
    for bin in m.reliability.iter().filter(|b| b.texts > 0) {
        let range = format!("{:.1}-{:.1}", bin.low, bin.low + 0.1);
        text += &format!("    {range:<12} {:>7} {:>11.3} {:>9.3}\n", bin.texts, bin.confidence, bin.accuracy);
    }
    text += &format!("    expected calibration error {:.3}\n", m.calibration_error);
    if !m.confused.is_empty() {
        text += "\n  most confused (labelled -> predicted)\n";
        for (gold, predicted, n) in &m.confused {
            text += &format!("    {n:>4}  {gold} -> {predicted}\n");
        }
    }
    text += &format!("\n  {:<28} {:>7} {:>9} {:>9} {:>9}\n", "intent", "support", "precision", "recall", "F1");
    let mut worst: Vec<_> = m.labels.iter().filter(|(_, s)| s.support > 0).collect();
    worst.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1).then(a.0.cmp(b.0)));
    for (name, s) in worst {
        text += &format!("  {name:<28} {:>7} {:>9.3} {:>9.3} {:>9.3}\n", s.support, s.precision, s.recall, s.f1);
    }
    text
}
