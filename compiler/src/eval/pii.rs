//! `convlytics eval pii`: detect PII in labelled texts and score it per type.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use convlytics_core::pii::{evaluate as score, read_gold, CompiledPolicy, PiiMetrics, Policy, TypeMetrics};
use serde::Serialize;

use super::{spinner, write_report, ReportFormat, SettingsSource};
use crate::error::{Error, Result};

/// A text with one of each kind, detected once before timing.
const WARM_UP: &str = "Jane Doe, 12 Main Street, (415) 555-2671, jane@example.com, https://x.io, 4111 1111 1111 1111";

/// The report `eval pii` prints.
#[derive(Debug, Serialize)]
pub struct PiiReport {
    /// The gold file.
    pub gold_file: PathBuf,
    /// Seconds spent detecting, one pass after a warm-up (reading and scoring excluded).
    pub detect_seconds: f64,
    /// Text detected per second, in MB.
    pub mb_per_second: f64,
    /// Missed spans and false alarms listed per type.
    pub examples_per_type: usize,
    /// The scores.
    pub metrics: PiiMetrics,
}

/// Loads the policy from `source`: a project's `pii_policies:` entry by name.
pub fn load_policy(source: &SettingsSource) -> Result<Policy> {
    source.load("pii policy", |project, name| {
        let found = project.pii_policies.get(name).map(|(_, spec)| spec.policy.clone());
        (found, project.pii_policies.keys().cloned().collect())
    })
}

/// Reads the gold texts, detects, and scores.
pub fn evaluate(gold_file: &Path, policy: Policy, examples_per_type: usize) -> Result<PiiReport> {
    let input = |e: convlytics_core::Error| Error::Input { path: gold_file.to_path_buf(), message: e.to_string() };
    let policy = CompiledPolicy::new(policy).map_err(|e| Error::Project(e.to_string()))?;
    let spinner = spinner();
    spinner.set_message(format!("reading {}", gold_file.display()));
    let file = File::open(gold_file).map_err(|e| Error::io(gold_file, e))?;
    let gold = read_gold(BufReader::new(file)).map_err(input)?;
    spinner.set_message(format!("detecting in {} texts", gold.len()));
    // Load the names lists, patterns and phone metadata before the clock starts.
    convlytics_core::pii::detect(WARM_UP, &policy).map_err(input)?;
    let started = Instant::now();
    for item in &gold {
        std::hint::black_box(convlytics_core::pii::detect(&item.text, &policy).map_err(input)?);
    }
    let detect_seconds = started.elapsed().as_secs_f64();
    let bytes: usize = gold.iter().map(|g| g.text.len()).sum();
    let metrics = score(&gold, &policy, examples_per_type).map_err(input)?;
    spinner.finish_and_clear();
    Ok(PiiReport {
        gold_file: gold_file.to_path_buf(),
        detect_seconds,
        mb_per_second: bytes as f64 / 1e6 / detect_seconds.max(1e-9),
        examples_per_type,
        metrics,
    })
}

/// Prints `report` as `format`.
pub fn print(report: &PiiReport, format: ReportFormat, out: &mut impl Write) -> Result<()> {
    write_report(report, format, out, as_text)
}

/// The report for people.
fn as_text(report: &PiiReport) -> String {
    let m = &report.metrics;
    let mut text = format!("PII evaluation of {} ({} texts)\n\n", report.gold_file.display(), m.texts);
    text += &format!(
        "  {:<16} {:>5} {:>5}   {:>6} {:>6} {:>6}   {:>6} {:>6} {:>6}\n",
        "type", "gold", "found", "P", "R", "F1", "P", "R", "F1"
    );
    text += &format!("  {:<16} {:>5} {:>5}   {:^20}   {:^20}\n", "", "", "", "overlap", "exact boundaries");
    let row = |name: &str, o: &TypeMetrics, e: &TypeMetrics| {
        format!(
            "  {name:<16} {:>5} {:>5}   {:>6.3} {:>6.3} {:>6.3}   {:>6.3} {:>6.3} {:>6.3}\n",
            o.gold, o.predicted, o.precision, o.recall, o.f1, e.precision, e.recall, e.f1
        )
    };
    for (name, o) in &m.overlap {
        text += &row(name, o, &m.exact[name]);
    }
    text += &row("overall", &m.overall_overlap, &m.overall_exact);
    if !m.unscored_gold_types.is_empty() {
        let list: Vec<String> = m.unscored_gold_types.iter().map(|(t, n)| format!("{t} {n}")).collect();
        text += &format!("\n  not scored (gold types convlytics does not detect): {}\n", list.join(", "));
    }
    text += &format!("\n  time  {:.3} s detecting, {:.1} MB/s\n", report.detect_seconds, report.mb_per_second);
    for (title, examples) in [("missed", &m.misses), ("false alarms", &m.false_alarms)] {
        if !examples.is_empty() {
            text += &format!("\n  {title} (up to {} per type)\n", report.examples_per_type);
            for e in examples {
                text += &format!("    {:<15} {:?} in {:?} ({})\n", e.entity, e.value, e.context, e.id);
            }
        }
    }
    text
}
