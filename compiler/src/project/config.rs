//! `dbt_project.yml`: the project's name, paths, vars and per-folder model configs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::project::dbt_keys::{self, Scope, Warnings};

/// The parsed `dbt_project.yml`. Its keys are screened first ([`dbt_keys`]): a key neither dbt
/// nor convlytics knows is an error, one of dbt's that convlytics does not act on a warning.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    /// Where installed packages are (`dbt deps` puts them in `dbt_packages/`).
    #[serde(default = "default_packages_install_path")]
    pub packages_install_path: String,
    /// The packages `adapter.dispatch` searches for a macro namespace, in order.
    #[serde(default)]
    pub dispatch: Vec<Dispatch>,
}

/// One `dispatch:` entry: `{macro_namespace: dbt_utils, search_order: [my_project, dbt_utils]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    /// The namespace a package's macros dispatch in (usually the package's name).
    pub macro_namespace: String,
    /// The packages searched, in order.
    pub search_order: Vec<String>,
}

fn default_packages_install_path() -> String {
    "dbt_packages".into()
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

pub(crate) fn default_model_paths() -> Vec<String> {
    vec!["models".into()]
}
pub(crate) fn default_macro_paths() -> Vec<String> {
    vec!["macros".into()]
}
fn default_seed_paths() -> Vec<String> {
    vec!["seeds".into()]
}
pub(crate) fn default_test_paths() -> Vec<String> {
    vec!["tests".into()]
}
fn default_target_path() -> String {
    "target".into()
}

impl ProjectConfig {
    /// Reads and validates `dbt_project.yml` at `path`, adding a warning for each dbt key that
    /// convlytics accepts and ignores.
    pub fn load(path: &Path, warnings: &mut Warnings) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        dbt_keys::screen(path, Path::new("dbt_project.yml"), &text, Scope::Project, warnings)?;
        serde_yaml::from_str(&text).map_err(|e| Error::yaml(path, &e))
    }

    /// The model configs that apply to a model at `folders` (its folders below the model path),
    /// from the nested `models:` block, outer folders first; each is `(key, value)`, values not
    /// yet rendered. Only configs convlytics acts on are kept (the others were warned about).
    pub fn model_settings(&self, folders: &[String], file: &Path) -> Result<Vec<(String, serde_yaml::Value)>> {
        folder_settings(&self.models, &self.name, folders, Scope::ModelConfig)
            .map_err(|m| folder_error("models", file, &m))
    }

    /// The seed configs that apply to a seed at `folders` (its folders below the seed path, then
    /// its name), outer first; each is `(key, value)`.
    pub fn seed_settings(&self, folders: &[String], file: &Path) -> Result<Vec<(String, serde_yaml::Value)>> {
        folder_settings(&self.seeds, &self.name, folders, Scope::SeedConfig)
            .map_err(|m| folder_error("seeds", file, &m))
    }
}

/// The settings along `folders` in a nested block keyed by the project name, outer levels first,
/// that `scope` supports: `+key: value`, and `key: value` for a config key whose value is not a
/// mapping (a folder).
fn folder_settings(
    block: &serde_yaml::Value,
    project: &str,
    folders: &[String],
    scope: Scope,
) -> Result<Vec<(String, serde_yaml::Value)>, String> {
    let supported = |key: &str| scope.judge(key) == dbt_keys::Verdict::Supported;
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
                Some(name) if supported(name) => settings.push((name.to_owned(), value.clone())),
                None if supported(key) && !value.is_mapping() => settings.push((key.to_owned(), value.clone())),
                _ => {}
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
