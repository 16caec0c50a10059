//! `convlytics eval sentiment`: score `sentiment()` against labelled texts.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use convlytics_core::labels::read_labels;
use convlytics_core::sentiment::{self, eval};
use serde::Serialize;

use super::{write_report, ReportFormat};
use crate::error::{Error, Result};

/// The report `eval sentiment` prints: one score set per label file, and all files together.
#[derive(Debug, Serialize)]
pub struct SentimentReport {
    /// Per file, in order.
    pub files: Vec<FileReport>,
    /// Every file's texts together (present when there are several files).
    pub overall: Option<eval::SentimentMetrics>,
    /// Seconds spent scoring.
    pub seconds: f64,
    /// Texts scored per second.
    pub texts_per_second: f64,
}

/// The scores on one label file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its scores.
    pub metrics: eval::SentimentMetrics,
}

/// Scores the sentiment labels of every file in `label_files`.
pub fn evaluate(label_files: &[PathBuf]) -> Result<SentimentReport> {
    let mut golds = Vec::new();
    for path in label_files {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let gold = read_labels(file).map_err(|e| input(path, e))?;
        eval::check_gold(&gold).map_err(|e| input(path, e))?;
        golds.push(gold);
    }
    let started = Instant::now();
    let predicted: Vec<Vec<&'static str>> = golds
        .iter()
        .map(|gold| gold.iter().map(|g| sentiment::label(sentiment::sentiment(&g.text))).collect())
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let texts: usize = golds.iter().map(Vec::len).sum();
    let files = label_files
        .iter()
        .zip(golds.iter().zip(&predicted))
        .map(|(path, (gold, p))| FileReport { path: path.clone(), metrics: eval::score(gold, p) })
        .collect();
    let overall = (golds.len() > 1).then(|| eval::score(&golds.concat(), &predicted.concat()));
    Ok(SentimentReport { files, overall, seconds, texts_per_second: texts as f64 / seconds.max(1e-9) })
}

fn input(path: &Path, e: convlytics_core::Error) -> Error {
    Error::Input { path: path.to_path_buf(), message: e.to_string() }
}

/// Prints `report` as `format`.
pub fn print(report: &SentimentReport, format: ReportFormat, out: &mut impl Write) -> Result<()> {
    write_report(report, format, out, as_text)
}

fn as_text(report: &SentimentReport) -> String {
    let mut text = String::from("Sentiment evaluation\n\n");
    text += &format!("  {:<40} {:>6} {:>9} {:>9} {:>12}\n", "labels", "texts", "accuracy", "macro F1", "macro recall");
    let mut row = |name: &str, m: &eval::SentimentMetrics| {
        text +=
            &format!("  {name:<40} {:>6} {:>9.4} {:>9.4} {:>12.4}\n", m.texts, m.accuracy, m.macro_f1, m.macro_recall);
    };
    for f in &report.files {
        row(&f.path.display().to_string(), &f.metrics);
    }
    if let Some(all) = &report.overall {
        row("all files", all);
    }
    let m = report.overall.as_ref().unwrap_or(&report.files[0].metrics);
    text += "\n  confusion (rows labelled, columns predicted)\n";
    text += &format!("  {:<10}", "");
    text += &eval::LABELS.iter().map(|l| format!("{l:>10}")).collect::<String>();
    text += "\n";
    for gold in eval::LABELS {
        let Some(counts) = m.confusion.get(gold) else { continue };
        text += &format!("  {gold:<10}");
        text += &eval::LABELS.iter().map(|p| format!("{:>10}", counts.get(*p).unwrap_or(&0))).collect::<String>();
        text += "\n";
    }
    text += &format!("\n  time  {:.3} s, {:.0} texts/s\n", report.seconds, report.texts_per_second);
    text
}
