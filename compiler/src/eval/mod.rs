//! `convlytics eval`: measure a capability against labelled data and print a report.

pub mod identity;

/// How an evaluation report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for people.
    Text,
    /// One JSON document for scripts.
    Json,
}
