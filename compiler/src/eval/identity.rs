//! `convlytics eval identity`: stitch a CSV of records and score it against true pairs.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use convlytics_core::identity::{pairwise_metrics, read_truth, stitch, PairwiseMetrics, RecordSet, Settings, Stitched};
use serde::Serialize;

use super::{spinner, write_report, ReportFormat, SettingsSource};
use crate::error::{Error, Result};

/// The report `eval identity` prints.
#[derive(Debug, Serialize)]
pub struct IdentityReport {
    /// The records file.
    pub records_file: PathBuf,
    /// Seconds to read the records.
    pub read_seconds: f64,
    /// Seconds to stitch them.
    pub stitch_seconds: f64,
    /// Records stitched per second, reading included.
    pub records_per_second: f64,
    /// The stitching: model and counts (assignments are not reported).
    pub stats: convlytics_core::identity::Stats,
    /// The trained model.
    pub model: convlytics_core::identity::Model,
    /// The scores.
    pub metrics: PairwiseMetrics,
}

fn input_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Input { path: path.to_path_buf(), message: e.to_string() }
}

/// Loads the settings from `source`: a project's `identities:` entry by name.
pub fn load_settings(source: &SettingsSource) -> Result<Settings> {
    source.load("identity", |project, name| {
        let found = project.identities.get(name).map(|(_, spec)| spec.settings.clone());
        (found, project.identities.keys().cloned().collect())
    })
}

/// Reads `records` and `truth`, stitches, and scores.
pub fn evaluate(records_file: &Path, truth_file: &Path, settings: &Settings) -> Result<IdentityReport> {
    let spinner = spinner();
    let started = Instant::now();
    spinner.set_message(format!("reading {}", records_file.display()));
    let file = File::open(records_file).map_err(|e| Error::io(records_file, e))?;
    let records = RecordSet::from_csv(BufReader::new(file)).map_err(|e| input_error(records_file, e))?;
    let file = File::open(truth_file).map_err(|e| Error::io(truth_file, e))?;
    let truth = read_truth(BufReader::new(file)).map_err(|e| input_error(truth_file, e))?;
    let read_seconds = started.elapsed().as_secs_f64();
    spinner.set_message(format!("stitching {} records", records.len()));
    let stitch_started = Instant::now();
    let Stitched { assignments, model, stats } =
        stitch(&records, settings).map_err(|e| input_error(records_file, e))?;
    let stitch_seconds = stitch_started.elapsed().as_secs_f64();
    let metrics = pairwise_metrics(&records, &assignments, &truth).map_err(|e| input_error(truth_file, e))?;
    spinner.finish_and_clear();
    Ok(IdentityReport {
        records_file: records_file.to_path_buf(),
        read_seconds,
        stitch_seconds,
        records_per_second: records.len() as f64 / (read_seconds + stitch_seconds).max(1e-9),
        stats,
        model,
        metrics,
    })
}

/// Prints `report` as `format`.
pub fn print(report: &IdentityReport, format: ReportFormat, out: &mut impl Write) -> Result<()> {
    write_report(report, format, out, as_text)
}

/// The report for people.
fn as_text(report: &IdentityReport) -> String {
    let (m, s) = (&report.metrics, &report.stats);
    let mut text = format!(
        "Identity evaluation of {} ({} records, {} true pairs)\n\n",
        report.records_file.display(),
        m.records,
        m.true_pairs
    );
    text += &format!("  precision  {:.4}   recall  {:.4}   F1  {:.4}\n", m.precision, m.recall, m.f1);
    text +=
        &format!("  pairs      {} predicted, {} true, {} both\n", m.predicted_pairs, m.true_pairs, m.true_positives);
    text += &format!("  clusters   {} predicted, {} true\n\n", m.predicted_clusters, m.true_clusters);
    text += &format!(
        "  time       {:.2} s read + {:.2} s stitch = {:.0} records/s\n",
        report.read_seconds, report.stitch_seconds, report.records_per_second
    );
    let rules: Vec<String> = s.pairs_per_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
    text += &format!("  compared   {} pairs ({})\n", s.compared_pairs(), rules.join(", "));
    text += &format!("  links      {} deterministic, {} probabilistic\n", s.deterministic_links, s.probabilistic_links);
    if s.oversized_groups > 0 {
        text += &format!(
            "  skipped    {} blocks over max_block_size ({} records)\n",
            s.oversized_groups, s.oversized_records
        );
    }
    text += &format!("\n  model (prior {:.3e}; weight = log2(m/u))\n", report.model.prior);
    for c in &report.model.columns {
        let levels: Vec<String> = c.levels.iter().map(|l| format!("{} {:+.1}", l.level, l.weight)).collect();
        text += &format!("    {:<16} {:<8} {}\n", c.column, c.m_source, levels.join("  "));
    }
    if !m.wrong_links.is_empty() {
        text += "\n  wrong links (record -> linked_to, rule, weight)\n";
        for (record, to, rule, weight) in &m.wrong_links {
            let weight = weight.map_or_else(String::new, |w| format!(", {w:.1}"));
            text += &format!("    {record} -> {to} ({rule}{weight})\n");
        }
    }
    if !m.missed_pairs.is_empty() {
        text += "\n  missed pairs\n";
        for (a, b) in &m.missed_pairs {
            text += &format!("    {a} ~ {b}\n");
        }
    }
    text
}
