//! `convlytics taxonomy`: list a project's taxonomies, start one from labelled history, preview
//! a change on the warehouse's data (`diff`) and approve it (`approval`).

pub mod approval;
pub mod diff;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use convlytics_core::classify::eval::{labels_from_examples, read_labels};
use convlytics_core::embed::Embedding;
use convlytics_core::taxonomy::Taxonomy;

use crate::error::{Error, Result};
use crate::project::Project;

/// Options of `taxonomy from-csv`.
#[derive(Debug, Clone)]
pub struct FromCsv<'a> {
    /// The taxonomy's name.
    pub name: &'a str,
    /// Examples kept per label (all when `None`).
    pub examples_per_label: Option<usize>,
    /// Its threshold.
    pub threshold: f64,
    /// The label of rows that belong to no intent; they are left out.
    pub out_of_scope_label: &'a str,
    /// How texts are embedded for the semantic head.
    pub semantic: Embedding,
}

/// A property file (`version: 2`, `taxonomies:`) with one taxonomy whose intents are the labels
/// of `labels` (a `text,label` CSV) and whose examples are their texts.
pub fn from_csv(labels: &Path, options: &FromCsv) -> Result<String> {
    let file = File::open(labels).map_err(|e| Error::io(labels, e))?;
    let rows = read_labels(file).map_err(|e| Error::Input { path: labels.to_path_buf(), message: e.to_string() })?;
    let intents = labels_from_examples(&rows, options.examples_per_label, options.out_of_scope_label);
    if intents.is_empty() {
        return Err(Error::Input { path: labels.to_path_buf(), message: "no labelled rows".into() });
    }
    let taxonomy = Taxonomy {
        name: options.name.to_owned(),
        description: Some(format!("Built from {} by convlytics taxonomy from-csv", labels.display())),
        threshold: options.threshold,
        topic_threshold: 0.6,
        semantic: options.semantic,
        intents,
        topics: Vec::new(),
        entities: Vec::new(),
        resolution: None,
    };
    #[derive(serde::Serialize)]
    struct PropertyFile<'t> {
        version: u32,
        taxonomies: [&'t Taxonomy; 1],
    }
    let yaml =
        serde_yaml::to_string(&PropertyFile { version: 2, taxonomies: [&taxonomy] }).expect("a taxonomy serializes");
    convlytics_core::taxonomy::parse(&yaml)
        .map_err(|e| Error::Input { path: labels.to_path_buf(), message: e.message })?;
    Ok(yaml)
}

/// One line per taxonomy of `project`: name, version, label counts and file.
pub fn list(project: &Project, out: &mut impl Write) -> Result<()> {
    let mut text =
        format!("{:<24} {:<16} {:>7} {:>6} {:>8}  file\n", "taxonomy", "version", "intents", "topics", "entities");
    for (name, (file, t)) in &project.taxonomies {
        text += &format!(
            "{name:<24} {:<16} {:>7} {:>6} {:>8}  {}\n",
            t.version(),
            t.intents.len(),
            t.topics.len(),
            t.entities.len(),
            file.display()
        );
    }
    out.write_all(text.as_bytes()).map_err(|e| Error::io("stdout", e))
}

/// The taxonomy called `name` with its file, or the project's only one when `name` is `None`.
pub fn named<'p>(project: &'p Project, name: Option<&str>) -> Result<(&'p PathBuf, &'p Taxonomy)> {
    let names: Vec<&str> = project.taxonomies.keys().map(String::as_str).collect();
    let found = match name {
        Some(name) => project.taxonomies.get(name),
        None if project.taxonomies.len() == 1 => project.taxonomies.values().next(),
        None => {
            return Err(Error::Project(format!(
                "the project has {} taxonomies ({}): name one with --taxonomy",
                names.len(),
                names.join(", ")
            )))
        }
    };
    found.map(|(file, t)| (file, t)).ok_or_else(|| {
        Error::Project(format!("no taxonomy '{}': the project has {}", name.unwrap_or_default(), names.join(", ")))
    })
}
