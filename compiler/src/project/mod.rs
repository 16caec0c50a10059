//! Loading a dbt-style project from disk: `dbt_project.yml`, models, property files, sources.

pub mod config;
pub mod model;
pub mod profiles;
pub mod properties;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use config::ProjectConfig;
pub use model::{Materialization, Model, ModelConfig};
pub use properties::{IdentitySpec, PiiPolicySpec, SourceTable, TranscriptSpec};

/// A project as read from disk, before rendering.
#[derive(Debug)]
pub struct Project {
    /// The project's root directory.
    pub root: PathBuf,
    /// `dbt_project.yml`.
    pub config: ProjectConfig,
    /// Every enabled-or-not model, by name.
    pub models: BTreeMap<String, Model>,
    /// Every declared source table, by `(source, table)`.
    pub sources: BTreeMap<(String, String), SourceTable>,
    /// Taxonomies by name, validated, with the property file that declares them.
    pub taxonomies: BTreeMap<String, (PathBuf, convlytics_core::taxonomy::Taxonomy)>,
    /// Identity-stitching settings by name, with the file that declared them.
    pub identities: BTreeMap<String, (PathBuf, IdentitySpec)>,
    /// PII policies by name, with the file that declared them.
    pub pii_policies: BTreeMap<String, (PathBuf, PiiPolicySpec)>,
    /// Transcript settings by name, with the property file that declares them.
    pub transcripts: BTreeMap<String, (PathBuf, TranscriptSpec)>,
}

/// Adds a named declaration; a name declared twice is an error naming both files.
fn insert_named<T>(
    map: &mut BTreeMap<String, (PathBuf, T)>,
    what: &str,
    name: String,
    rel: &Path,
    spec: T,
) -> Result<()> {
    if let Some((prev, _)) = map.insert(name.clone(), (rel.to_path_buf(), spec)) {
        return Err(Error::Project(format!(
            "{}: {what} '{name}' is declared twice (also in {})",
            rel.display(),
            prev.display()
        )));
    }
    Ok(())
}

impl Project {
    /// Reads the project rooted at `root`.
    pub fn load(root: &Path) -> Result<Self> {
        let config_path = root.join("dbt_project.yml");
        if !config_path.is_file() {
            return Err(Error::Project(format!(
                "{}: no dbt_project.yml here; run from a project directory or pass --project-dir",
                root.display()
            )));
        }
        let config = ProjectConfig::load(&config_path)?;
        let mut project = Project {
            root: root.to_path_buf(),
            config,
            models: BTreeMap::new(),
            sources: BTreeMap::new(),
            taxonomies: BTreeMap::new(),
            identities: BTreeMap::new(),
            pii_policies: BTreeMap::new(),
            transcripts: BTreeMap::new(),
        };
        let mut descriptions = BTreeMap::new();
        for model_path in project.config.model_paths.clone() {
            let base = root.join(&model_path);
            for file in files_under(&base)? {
                let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
                match file.extension().and_then(|e| e.to_str()) {
                    Some("sql") => project.add_model(&file, rel, &base)?,
                    Some("yml" | "yaml") => {
                        let props = properties::load(&file)?;
                        for source in &props.sources {
                            for table in source.resolve(&rel) {
                                let key = (table.source.clone(), table.name.clone());
                                if let Some(prev) = project.sources.insert(key, table) {
                                    return Err(Error::Project(format!(
                                        "{}: source '{}.{}' is declared twice (also in {})",
                                        rel.display(),
                                        prev.source,
                                        prev.name,
                                        prev.declared_in.display()
                                    )));
                                }
                            }
                        }
                        for m in props.models {
                            descriptions.insert(m.name, m.description);
                        }
                        if !props.taxonomies.is_empty() {
                            for taxonomy in properties::load_taxonomies(&file)? {
                                insert_named(
                                    &mut project.taxonomies,
                                    "taxonomy",
                                    taxonomy.name.clone(),
                                    &rel,
                                    taxonomy,
                                )?;
                            }
                        }
                        for identity in props.identities {
                            insert_named(&mut project.identities, "identity", identity.name.clone(), &rel, identity)?;
                        }
                        for policy in props.pii_policies {
                            convlytics_core::pii::CompiledPolicy::new(policy.policy.clone()).map_err(|e| {
                                Error::Project(format!("{}: pii policy '{}': {e}", rel.display(), policy.name))
                            })?;
                            insert_named(&mut project.pii_policies, "pii policy", policy.name.clone(), &rel, policy)?;
                        }
                        for transcript in props.transcripts {
                            transcript.settings.clone().compile().map_err(|e| {
                                Error::Project(format!("{}: transcripts '{}': {e}", rel.display(), transcript.name))
                            })?;
                            insert_named(
                                &mut project.transcripts,
                                "transcripts",
                                transcript.name.clone(),
                                &rel,
                                transcript,
                            )?;
                        }
                    }
                    _ => {}
                }
            }
        }
        for (name, description) in descriptions {
            if let Some(model) = project.models.get_mut(&name) {
                model.description = description;
            }
        }
        Ok(project)
    }

    fn add_model(&mut self, file: &Path, rel: PathBuf, base: &Path) -> Result<()> {
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        let folders: Vec<String> = file
            .parent()
            .and_then(|p| p.strip_prefix(base).ok())
            .map(|p| p.iter().map(|c| c.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let raw_sql = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let folder_config = self.config.folder_config(&folders, &rel)?;
        let model = Model { name: name.clone(), path: rel, raw_sql, folder_config, description: None };
        if let Some(prev) = self.models.insert(name.clone(), model) {
            return Err(Error::Project(format!(
                "two models are named '{name}': {} and {}",
                prev.path.display(),
                file.display()
            )));
        }
        Ok(())
    }

    /// The profile to read from `profiles.yml`.
    pub fn profile_name(&self) -> &str {
        self.config.profile.as_deref().unwrap_or(&self.config.name)
    }

    /// The target directory (`target/` unless `target-path` says otherwise).
    pub fn target_dir(&self) -> PathBuf {
        self.root.join(&self.config.target_path)
    }
}

/// Every file below `dir`, sorted, skipping hidden entries; a missing `dir` has none.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io(path, e.into())
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}
