//! dbt's keys: which convlytics reads, which dbt knows and convlytics accepts without acting on
//! them (one warning each, naming the key and file), and, for a key dbt does not know either, an
//! error at its line with the nearest known key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What a YAML mapping is: the scope its keys are judged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `dbt_project.yml`'s top level.
    Project,
    /// A property file's top level.
    Properties,
    /// A model under `models:` of a property file.
    Model,
    /// A column of a model, seed or source table.
    Column,
    /// A source under `sources:`.
    Source,
    /// A table of a source.
    SourceTable,
    /// A seed under `seeds:` of a property file.
    Seed,
    /// A model config: `+key` in `dbt_project.yml`, `config:` of a model, `config(key=...)`.
    ModelConfig,
    /// A seed config.
    SeedConfig,
}

/// How convlytics treats a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Read and acted on.
    Supported,
    /// Documentation or metadata (`description`, `meta`, `docs`): accepted, nothing to do.
    Quiet,
    /// dbt's, accepted with a warning: convlytics does not act on it.
    Ignored,
    /// Neither dbt's nor convlytics': an error, with the nearest known key when one is close.
    Unknown(Option<&'static str>),
}

/// Keys that carry only documentation or metadata: accepted in every scope without a warning.
const QUIET: &[&str] = &["description", "meta", "docs"];

/// dbt's model configs that no adapter-specific list below names.
const DBT_MODEL_CONFIGS: &[&str] = &[
    "database",
    "persist_docs",
    "full_refresh",
    "grants",
    "contract",
    "group",
    "access",
    "pre-hook",
    "post-hook",
    "pre_hook",
    "post_hook",
    "incremental_strategy",
    "on_schema_change",
    "on_configuration_change",
    "sql_header",
    "batch_size",
    "lookback",
    "begin",
    "concurrent_batches",
    "packages",
    "submission_method",
    "python_version",
    "quoting",
    "column_types",
    "quote_columns",
    "delimiter",
    "store_failures",
    "store_failures_as",
    "severity",
    "warn_if",
    "error_if",
    "fail_calc",
    "limit",
    "where",
];

/// Configs of the common adapters (postgres, duckdb, snowflake, bigquery, redshift, databricks
/// and spark): accepted in a dbt project written for them, and ignored.
const ADAPTER_CONFIGS: &[&str] = &[
    "indexes",
    "unlogged",
    "location",
    "format",
    "options",
    "partition_by",
    "cluster_by",
    "transient",
    "copy_grants",
    "secure",
    "query_tag",
    "snowflake_warehouse",
    "automatic_clustering",
    "table_type",
    "target_lag",
    "labels",
    "hours_to_expiration",
    "kms_key_name",
    "require_partition_filter",
    "partition_expiration_days",
    "grant_access_to",
    "dist",
    "sort",
    "sort_type",
    "bind",
    "file_format",
    "location_root",
    "clustered_by",
    "buckets",
    "tblproperties",
    "liquid_clustered_by",
    "external_location",
    "glue_register",
];

impl Scope {
    /// The keys convlytics reads here.
    fn supported(self) -> &'static [&'static str] {
        match self {
            Scope::Project => &[
                "name",
                "version",
                "config-version",
                "profile",
                "model-paths",
                "macro-paths",
                "seed-paths",
                "test-paths",
                "target-path",
                "clean-targets",
                "require-dbt-version",
                "vars",
                "models",
                "seeds",
                "on-run-start",
                "on-run-end",
                "packages-install-path",
                "dispatch",
            ],
            Scope::Properties => &[
                "version",
                "models",
                "sources",
                "seeds",
                "taxonomies",
                "identities",
                "pii_policies",
                "transcripts",
                "roles",
                "retention",
                "taxonomy_approvals",
                "monitors",
                "unit_tests",
                "realtime",
            ],
            Scope::Model => &["name", "columns", "data_tests", "tests", "config", "contracts"],
            Scope::Column => &["name", "data_type", "data_tests", "tests"],
            Scope::Source => &["name", "schema", "tables", "loaded_at_field", "freshness"],
            Scope::SourceTable => {
                &["name", "identifier", "columns", "data_tests", "tests", "loaded_at_field", "freshness", "contract"]
            }
            Scope::Seed => &["name", "config", "columns", "data_tests", "tests"],
            Scope::ModelConfig => crate::project::model::ModelConfig::KEYS,
            Scope::SeedConfig => crate::project::seed::Seed::KEYS,
        }
    }

    /// The keys dbt knows here that convlytics accepts and does not act on.
    fn ignored(self) -> &'static [&'static str] {
        match self {
            Scope::Project => &[
                "analysis-paths",
                "snapshot-paths",
                "docs-paths",
                "asset-paths",
                "function-paths",
                "log-path",
                "query-comment",
                "quoting",
                "restrict-access",
                "flags",
                "dbt-cloud",
                "snapshots",
                "sources",
                "tests",
                "data_tests",
                "metrics",
                "semantic-models",
                "saved-queries",
                "exposures",
                "analyses",
                "unit_tests",
                "functions",
                "source-paths",
                "data-paths",
                "modules-path",
            ],
            Scope::Properties => &[
                "snapshots",
                "analyses",
                "macros",
                "exposures",
                "metrics",
                "semantic_models",
                "saved_queries",
                "groups",
                "data_tests",
                "functions",
            ],
            Scope::Model => &[
                "tags",
                "constraints",
                "access",
                "group",
                "latest_version",
                "versions",
                "deprecation_date",
                "time_spine",
            ],
            Scope::Column => &["quote", "tags", "constraints", "granularity", "config", "policy_tags"],
            Scope::Source => &["database", "loader", "tags", "config", "overrides", "quoting", "loaded_at_query"],
            Scope::SourceTable => &["quoting", "external", "tags", "config", "loaded_at_query", "event_time"],
            Scope::Seed => &["tags"],
            Scope::ModelConfig | Scope::SeedConfig => &[],
        }
    }

    /// Whether `key` is a config dbt or a common adapter knows (for the config scopes).
    fn dbt_config(self, key: &str) -> bool {
        matches!(self, Scope::ModelConfig | Scope::SeedConfig)
            && (DBT_MODEL_CONFIGS.contains(&key)
                || ADAPTER_CONFIGS.contains(&key)
                || ["schema", "alias", "tags", "enabled", "materialized", "unique_key", "event_time"].contains(&key))
    }

    /// What this scope is called in messages.
    fn noun(self) -> &'static str {
        match self {
            Scope::Project => "dbt_project.yml key",
            Scope::Properties => "property file key",
            Scope::Model => "model property",
            Scope::Column => "column property",
            Scope::Source => "source property",
            Scope::SourceTable => "source table property",
            Scope::Seed => "seed property",
            Scope::ModelConfig => "model config",
            Scope::SeedConfig => "seed config",
        }
    }

    /// How convlytics treats `key` here.
    pub fn judge(self, key: &str) -> Verdict {
        if self.supported().contains(&key) {
            return Verdict::Supported;
        }
        if QUIET.contains(&key) {
            return Verdict::Quiet;
        }
        if self.ignored().contains(&key) || self.dbt_config(key) {
            return Verdict::Ignored;
        }
        let known = self.supported().iter().chain(self.ignored()).copied();
        let known: Vec<&'static str> = match self {
            Scope::ModelConfig | Scope::SeedConfig => {
                known.chain(DBT_MODEL_CONFIGS.iter().copied()).chain(["schema", "alias"]).collect()
            }
            _ => known.collect(),
        };
        Verdict::Unknown(nearest(key, &known))
    }

    /// The error for an unknown `key` here, with the nearest known key when one is close, else
    /// the keys convlytics reads (for the scopes whose keys fit on a line).
    pub fn unknown(self, key: &str, near: Option<&str>) -> String {
        let hint = match near {
            Some(n) => format!("; did you mean '{n}'?"),
            None if !matches!(self, Scope::ModelConfig | Scope::SeedConfig) => {
                format!("; expected one of {} (or another key of dbt's, see docs/dbt.md)", self.supported().join(", "))
            }
            None => String::new(),
        };
        format!("unknown {} '{key}'{hint}", self.noun())
    }
}

/// The known key nearest to `key` (dashes and underscores alike), when it is close enough to be a
/// slip: at most two edits, and fewer than a third of the key.
pub(crate) fn nearest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let norm = |k: &str| k.replace('-', "_");
    let key = norm(key);
    known
        .iter()
        .map(|k| (strsim::osa_distance(&key, &norm(k)), *k))
        .filter(|(d, k)| *d <= 2 && *d * 3 <= k.len().max(key.len()))
        .min()
        .map(|(_, k)| k)
}

/// The warnings of one project load: each once per file, in the order first seen.
#[derive(Debug, Default, Clone)]
pub struct Warnings {
    seen: BTreeSet<(PathBuf, String)>,
    /// Each warning with the key it was recorded under.
    entries: Vec<((PathBuf, String), String)>,
}

impl Warnings {
    /// Records that `key` (of `scope`) in `file` is accepted and not acted on.
    pub fn ignored(&mut self, file: &Path, scope: Scope, key: &str) {
        let line = format!(
            "{}: {} '{key}' is accepted and ignored: convlytics does not support it (docs/dbt.md)",
            file.display(),
            scope.noun()
        );
        self.add((file.to_path_buf(), format!("{scope:?}.{key}")), line);
    }

    /// Records another warning about `file`, once.
    pub fn note(&mut self, file: &Path, message: String) {
        let line = format!("{}: {message}", file.display());
        self.add((file.to_path_buf(), message), line);
    }

    fn add(&mut self, key: (PathBuf, String), line: String) {
        if self.seen.insert(key.clone()) {
            self.entries.push((key, line));
        }
    }

    /// The warnings, in the order first seen.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, line)| line.as_str())
    }

    /// Adds `other`'s warnings not yet seen.
    pub fn extend(&mut self, other: &Warnings) {
        for (key, line) in &other.entries {
            self.add(key.clone(), line.clone());
        }
    }
}

/// Checks the keys of the YAML document `text` (of `path`; `file` names it relative to the
/// project in warnings) as `scope`, and those of the mappings below it that dbt defines: a key
/// that neither dbt nor convlytics knows is an error at its line, a key convlytics ignores a
/// warning.
pub fn screen(path: &Path, file: &Path, text: &str, scope: Scope, warnings: &mut Warnings) -> Result<()> {
    let value: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        // The typed parse that follows reports a malformed file with its position.
        Err(_) => return Ok(()),
    };
    let mut screen = Screen { path, file, lines: text.lines().collect(), warnings, cursor: 0 };
    screen.mapping(&value, scope)
}

/// One document being screened; `cursor` is the line the last key was found on, so that keys
/// are located in document order.
struct Screen<'a> {
    path: &'a Path,
    file: &'a Path,
    lines: Vec<&'a str>,
    warnings: &'a mut Warnings,
    cursor: usize,
}

impl Screen<'_> {
    fn mapping(&mut self, value: &serde_yaml::Value, scope: Scope) -> Result<()> {
        let Some(map) = value.as_mapping() else { return Ok(()) };
        for (key, child) in map {
            let Some(key) = key.as_str() else { continue };
            let line = self.locate(key);
            if !self.admit(scope, key, line)? {
                continue;
            }
            match (scope, key) {
                (Scope::Project, "models") => self.folders(child, Scope::ModelConfig)?,
                (Scope::Project, "seeds") => self.folders(child, Scope::SeedConfig)?,
                (Scope::Properties, "models") => self.items(child, Scope::Model)?,
                (Scope::Properties, "sources") => self.items(child, Scope::Source)?,
                (Scope::Properties, "seeds") => self.items(child, Scope::Seed)?,
                (Scope::Source, "tables") => self.items(child, Scope::SourceTable)?,
                (Scope::Model | Scope::SourceTable | Scope::Seed, "columns") => self.items(child, Scope::Column)?,
                (Scope::Model, "config") => self.mapping(child, Scope::ModelConfig)?,
                (Scope::Seed, "config") => self.mapping(child, Scope::SeedConfig)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Judges `key` (found at `line`) in `scope`: true when it is read, false (with a warning)
    /// when it is ignored, an error at its line when neither dbt nor convlytics knows it.
    fn admit(&mut self, scope: Scope, key: &str, line: Option<(usize, usize)>) -> Result<bool> {
        match scope.judge(key) {
            Verdict::Supported | Verdict::Quiet => Ok(true),
            Verdict::Ignored => {
                self.warnings.ignored(self.file, scope, key);
                Ok(false)
            }
            Verdict::Unknown(near) => {
                let (line, column) = line.unwrap_or((0, 0));
                Err(Error::Yaml { path: self.path.to_path_buf(), line, column, message: scope.unknown(key, near) })
            }
        }
    }

    fn items(&mut self, value: &serde_yaml::Value, scope: Scope) -> Result<()> {
        for item in value.as_sequence().into_iter().flatten() {
            self.mapping(item, scope)?;
        }
        Ok(())
    }

    /// A nested block of folder configs: `+key` (and a config key without `+` whose value is
    /// not a folder) is a config; any other key is a folder or resource name.
    fn folders(&mut self, value: &serde_yaml::Value, scope: Scope) -> Result<()> {
        let Some(map) = value.as_mapping() else { return Ok(()) };
        for (key, child) in map {
            let Some(key) = key.as_str() else { continue };
            match key.strip_prefix('+') {
                Some(config) => {
                    let line = self.locate(key);
                    self.admit(scope, config, line)?;
                }
                None if !child.is_mapping() && scope.judge(key) == Verdict::Ignored => {
                    self.locate(key);
                    self.warnings.ignored(self.file, scope, key);
                }
                None => {
                    self.locate(key);
                    self.folders(child, scope)?;
                }
            }
        }
        Ok(())
    }

    /// The 1-based line and column of `key:` at or after the cursor, which moves to it.
    fn locate(&mut self, key: &str) -> Option<(usize, usize)> {
        let quoted = [key.to_owned(), format!("\"{key}\""), format!("'{key}'")];
        let found = (self.cursor..self.lines.len()).find_map(|i| {
            let line = self.lines[i];
            let body = line.trim_start().trim_start_matches("- ").trim_start();
            let rest = quoted.iter().find_map(|q| body.strip_prefix(q.as_str()))?;
            rest.trim_start().starts_with(':').then(|| (i, line.len() - body.len() + 1))
        })?;
        self.cursor = found.0;
        Some((found.0 + 1, found.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screened(scope: Scope, text: &str) -> (Result<()>, Vec<String>) {
        let mut warnings = Warnings::default();
        let result = screen(Path::new("f.yml"), Path::new("f.yml"), text, scope, &mut warnings);
        (result, warnings.lines().map(str::to_owned).collect())
    }

    #[test]
    fn dbt_keys_warn_once_and_unknown_ones_fail_at_their_line() {
        let text = "name: p\nanalysis-paths: [analyses]\nmodels:\n  p:\n    +schema: s\n    staging:\n      +persist_docs: {relation: true}\n      +materialized: view\n    marts:\n      +persist_docs: {relation: true}\n";
        let (result, warnings) = screened(Scope::Project, text);
        result.unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("dbt_project.yml key 'analysis-paths' is accepted and ignored"), "{warnings:?}");
        assert!(warnings[1].contains("model config 'persist_docs'"), "{warnings:?}");
        let (result, _) = screened(Scope::Project, "name: p\nmodels:\n  p:\n    +materialised: table\n");
        let err = result.unwrap_err().to_string();
        assert!(err.contains("f.yml:4:5") && err.contains("did you mean 'materialized'?"), "{err}");
        let (result, _) = screened(Scope::Project, "name: p\nmodel_paths: [m]\n");
        assert!(result.unwrap_err().to_string().contains("did you mean 'model-paths'?"));
        let (result, _) = screened(Scope::Project, "name: p\nwhatever: 1\n");
        let err = result.unwrap_err().to_string();
        assert!(err.contains("unknown dbt_project.yml key 'whatever'") && !err.contains("did you mean"), "{err}");
    }

    #[test]
    fn merged_warnings_keep_each_line_with_its_key() {
        let mut model = Warnings::default();
        model.ignored(Path::new("m.sql"), Scope::ModelConfig, "sql_header");
        model.ignored(Path::new("m.sql"), Scope::ModelConfig, "grants");
        let mut all = Warnings::default();
        all.ignored(Path::new("m.sql"), Scope::ModelConfig, "grants");
        all.extend(&model);
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("'grants'") && lines[1].contains("'sql_header'"), "{lines:?}");
    }

    #[test]
    fn property_files_are_screened_to_their_columns() {
        let text = "version: 2\nsemantic_models: []\nmodels:\n  - name: a\n    access: public\n    columns:\n      - name: id\n        granularity: day\n      - name: b\n        data_tyep: int\n";
        let (result, warnings) = screened(Scope::Properties, text);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("f.yml:10:9") && err.contains("did you mean 'data_type'?"), "{err}");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }
}
