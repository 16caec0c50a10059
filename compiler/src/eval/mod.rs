//! `convlytics eval`: measure a capability against labelled data and print a report.

pub mod identity;
pub mod intent;
pub mod pii;
pub mod sentiment;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::project::Project;

/// How an evaluation report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned text for people.
    Text,
    /// One JSON document for scripts.
    Json,
}

/// Where an evaluation's settings come from.
#[derive(Debug, Clone)]
pub enum SettingsSource {
    /// The defaults.
    Defaults,
    /// A YAML or JSON file holding the settings mapping.
    File(PathBuf),
    /// A named entry of a project (`identities:`, `pii_policies:`).
    Project {
        /// The project's directory.
        dir: PathBuf,
        /// The entry's name.
        name: String,
    },
}

impl SettingsSource {
    /// Loads the settings. `lookup` finds a named entry in a project and lists the declared
    /// names; `what` names the kind of entry in errors.
    pub fn load<T: DeserializeOwned + Default>(
        &self,
        what: &str,
        lookup: impl Fn(&Project, &str) -> (Option<T>, Vec<String>),
    ) -> Result<T> {
        match self {
            SettingsSource::Defaults => Ok(T::default()),
            SettingsSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                serde_yaml::from_str(&text).map_err(|e| Error::yaml(path, &e))
            }
            SettingsSource::Project { dir, name } => {
                let project = Project::load(dir)?;
                let (found, known) = lookup(&project, name);
                found.ok_or_else(|| {
                    Error::Project(format!("no {what} named '{name}' in the project (declared: {})", known.join(", ")))
                })
            }
        }
    }
}

/// A bar over `len` texts, labelled `what`, on a terminal; nothing otherwise.
pub(crate) fn progress_bar(len: usize, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} texts, {per_sec}, {eta} left").expect("style");
    ProgressBar::new(len as u64).with_style(style).with_message(what.to_owned())
}

/// A spinner on a terminal, nothing otherwise.
fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("style"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Writes `report` as one JSON document, or as the text `as_text` makes of it.
fn write_report<R: Serialize>(
    report: &R,
    format: ReportFormat,
    out: &mut impl Write,
    as_text: fn(&R) -> String,
) -> Result<()> {
    let text = match format {
        ReportFormat::Json => serde_json::to_string_pretty(report).expect("report serializes") + "\n",
        ReportFormat::Text => as_text(report),
    };
    out.write_all(text.as_bytes()).map_err(|e| Error::io("stdout", e))
}
