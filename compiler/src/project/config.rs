//! `dbt_project.yml`: the project's name, paths, vars and per-folder model configs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::project::model::ModelConfig;

/// The parsed `dbt_project.yml`. Unknown keys are errors, as dbt's own schema makes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProjectConfig {
    /// The project's name; the key of its folder configs under `models:`.
    pub name: String,
    /// The project's own version (free form; not interpreted).
    #[serde(default)]
    pub version: Option<serde_yaml::Value>,
    /// dbt's config version (2); accepted for compatibility.
    #[serde(default)]
    pub config_version: Option<u32>,
    /// The profile in `profiles.yml` to connect with (defaults to the project name).
    #[serde(default)]
    pub profile: Option<String>,
    /// Folders holding models and their YAML property files.
    #[serde(default = "default_model_paths")]
    pub model_paths: Vec<String>,
    /// Folders holding Jinja macros.
    #[serde(default = "default_macro_paths")]
    pub macro_paths: Vec<String>,
    /// Folders holding seed CSVs.
    #[serde(default = "default_seed_paths")]
    pub seed_paths: Vec<String>,
    /// Folders holding singular data tests.
    #[serde(default = "default_test_paths")]
    pub test_paths: Vec<String>,
    /// Where compiled SQL, artefacts and (on the embedded engine) Parquet outputs go.
    #[serde(default = "default_target_path")]
    pub target_path: String,
    /// Folders `convlytics clean` would remove; accepted for compatibility.
    #[serde(default)]
    pub clean_targets: Vec<String>,
    /// dbt version constraint; accepted for compatibility, not checked.
    #[serde(default)]
    pub require_dbt_version: Option<serde_yaml::Value>,
    /// Project variables, read with `{{ var('name') }}`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// Per-folder model configs: `models: {project: {folder: {+materialized: table}}}`.
    #[serde(default)]
    pub models: serde_yaml::Value,
    /// SQL run before a `run`, `seed`, `test` or `build` (Jinja rendered; empty results skipped).
    #[serde(default, deserialize_with = "one_or_many")]
    pub on_run_start: Vec<String>,
    /// SQL run after one, whatever its nodes' outcome.
    #[serde(default, deserialize_with = "one_or_many")]
    pub on_run_end: Vec<String>,
    /// Per-folder and per-seed seed configs: `seeds: {project: {orders: {+column_types: {...}}}}`.
    #[serde(default)]
    pub seeds: serde_yaml::Value,
}

/// A string or a list of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

fn default_model_paths() -> Vec<String> {
    vec!["models".into()]
}
fn default_macro_paths() -> Vec<String> {
    vec!["macros".into()]
}
fn default_seed_paths() -> Vec<String> {
    vec!["seeds".into()]
}
fn default_test_paths() -> Vec<String> {
    vec!["tests".into()]
}
fn default_target_path() -> String {
    "target".into()
}

impl ProjectConfig {
    /// Reads and validates `dbt_project.yml` at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_yaml::from_str(&text).map_err(|e| Error::yaml(path, &e))
    }

    /// The config of a model at `folders` (its folders below the model path), from the nested
    /// `models:` block: outer folders first, inner ones override.
    pub fn folder_config(&self, folders: &[String], file: &Path) -> Result<ModelConfig> {
        let mut config = ModelConfig::default();
        for (key, value) in folder_settings(&self.models, &self.name, folders, ModelConfig::is_key)
            .map_err(|m| folder_error("models", file, &m))?
        {
            config.set(&key, &value).map_err(|m| folder_error("models", file, &m))?;
        }
        Ok(config)
    }

    /// The seed configs that apply to a seed at `folders` (its folders below the seed path, then
    /// its name), outer first; each is `(key, value)`.
    pub fn seed_settings(&self, folders: &[String], file: &Path) -> Result<Vec<(String, serde_yaml::Value)>> {
        folder_settings(&self.seeds, &self.name, folders, |_| false).map_err(|m| folder_error("seeds", file, &m))
    }
}

/// The `+key: value` settings along `folders` in a nested block keyed by the project name, outer
/// levels first; a key without `+` counts when `is_key` says it is a config and its value is not a
/// mapping (a folder).
fn folder_settings(
    block: &serde_yaml::Value,
    project: &str,
    folders: &[String],
    is_key: impl Fn(&str) -> bool,
) -> Result<Vec<(String, serde_yaml::Value)>, String> {
    let mut settings = Vec::new();
    let Some(mut level) = block.get(project) else {
        return Ok(settings);
    };
    let mut depth = 0;
    loop {
        let map = level.as_mapping().ok_or("expected a mapping of configs and folders")?;
        for (key, value) in map {
            let key = key.as_str().ok_or("config keys must be strings")?;
            match key.strip_prefix('+') {
                Some(name) => settings.push((name.to_owned(), value.clone())),
                None if is_key(key) && !value.is_mapping() => settings.push((key.to_owned(), value.clone())),
                None => {}
            }
        }
        match folders.get(depth).and_then(|f| level.get(f.as_str())) {
            Some(next) => level = next,
            None => return Ok(settings),
        }
        depth += 1;
    }
}

fn folder_error(block: &str, file: &Path, message: &str) -> Error {
    Error::Project(format!("dbt_project.yml, {block} config for {}: {message}", file.display()))
}
