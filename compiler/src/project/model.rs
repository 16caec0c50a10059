//! Models: one SQL file each, with the config that decides how it is built.

use std::path::PathBuf;

use crate::governance::DataClass;

/// How a model's result is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialization {
    /// A view: the query is kept, not its rows (on the embedded engine it is also exported).
    #[default]
    View,
    /// A table: the rows are computed and stored.
    Table,
    /// A table updated in place: later runs add the model's new rows, replacing those with the
    /// same `unique_key`.
    Incremental,
    /// Not built: inlined as a common table expression into the models that `ref()` it.
    Ephemeral,
}

impl Materialization {
    /// The materialization named `value` in YAML or in `config(materialized=...)`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "view" => Ok(Self::View),
            "table" => Ok(Self::Table),
            "incremental" => Ok(Self::Incremental),
            "ephemeral" => Ok(Self::Ephemeral),
            other => Err(format!(
                "unknown materialization '{other}': expected 'view', 'table', 'incremental' or 'ephemeral'"
            )),
        }
    }

    /// The word used in output, artefacts and SQL (`create view`, `create table`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Table => "table",
            Self::Incremental => "incremental",
            Self::Ephemeral => "ephemeral",
        }
    }
}

/// A model's config, from `dbt_project.yml` folders and then its own `config(...)` call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelConfig {
    /// How the model is built.
    pub materialized: Materialization,
    /// Free labels for selection.
    pub tags: Vec<String>,
    /// Disabled models are neither compiled nor run.
    pub enabled: bool,
    /// The columns that identify a row of an incremental model (empty: new rows are appended).
    pub unique_key: Vec<String>,
    /// The data classes its columns may hold (`None`: any); a column of another class, or of
    /// none, is a compile error naming its lineage.
    pub allowed_data_classes: Option<Vec<DataClass>>,
    /// The column telling when a row happened, which retention ages rows by.
    pub event_time: Option<String>,
    /// The custom schema `generate_schema_name` receives (dbt's default builds into
    /// `<target schema>_<schema>`).
    pub schema: Option<String>,
    /// The relation's name when it differs from the model's, through `generate_alias_name`.
    pub alias: Option<String>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            materialized: Materialization::View,
            tags: Vec::new(),
            enabled: true,
            unique_key: Vec::new(),
            allowed_data_classes: None,
            event_time: None,
            schema: None,
            alias: None,
        }
    }
}

impl ModelConfig {
    /// The configs convlytics acts on.
    pub(crate) const KEYS: &'static [&'static str] =
        &["materialized", "tags", "enabled", "unique_key", "allowed_data_classes", "event_time", "schema", "alias"];

    /// Sets `key` to `value`; an unknown key or a value of the wrong type is an error.
    pub fn set(&mut self, key: &str, value: &serde_yaml::Value) -> Result<(), String> {
        match key {
            "materialized" => {
                let v = value.as_str().ok_or("'materialized' must be a string")?;
                self.materialized = Materialization::parse(v)?;
            }
            "enabled" => self.enabled = value.as_bool().ok_or("'enabled' must be true or false")?,
            "tags" => self.tags = string_list(key, value)?,
            "unique_key" => self.unique_key = string_list(key, value)?,
            "allowed_data_classes" => {
                let classes: Result<Vec<DataClass>, String> =
                    string_list(key, value)?.iter().map(|c| DataClass::parse(c)).collect();
                self.allowed_data_classes = Some(classes?);
            }
            "event_time" => {
                self.event_time = Some(value.as_str().ok_or("'event_time' must be a column name")?.to_owned())
            }
            "schema" | "alias" => {
                let text = match value {
                    serde_yaml::Value::Null => None,
                    serde_yaml::Value::String(s) if s.trim().is_empty() => None,
                    serde_yaml::Value::String(s) => Some(s.clone()),
                    _ => return Err(format!("'{key}' must be a name")),
                };
                if key == "schema" {
                    self.schema = text;
                } else {
                    self.alias = text;
                }
            }
            other => return Err(format!("unknown model config '{other}': expected one of {}", Self::KEYS.join(", "))),
        }
        Ok(())
    }
}

/// A string or a list of strings, as `tags` and `unique_key` take.
pub(crate) fn string_list(key: &str, value: &serde_yaml::Value) -> Result<Vec<String>, String> {
    match value {
        serde_yaml::Value::String(s) => Ok(vec![s.clone()]),
        serde_yaml::Value::Sequence(items) => items
            .iter()
            .map(|t| t.as_str().map(str::to_owned).ok_or_else(|| format!("'{key}' must be strings")))
            .collect(),
        _ => Err(format!("'{key}' must be a string or a list of strings")),
    }
}

/// A model as found on disk.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model's name: its file name without `.sql`.
    pub name: String,
    /// Its path relative to the project root.
    pub path: PathBuf,
    /// Its SQL before rendering.
    pub raw_sql: String,
    /// Its configs from `dbt_project.yml` folders, then from its property file's `config:`, as
    /// `(key, value)` with Jinja not yet rendered (its own `config()` call applies on top).
    pub settings: Vec<(String, serde_yaml::Value)>,
    /// Its description from a YAML property file.
    pub description: Option<String>,
    /// Its documented columns from a YAML property file.
    pub columns: Vec<crate::project::ColumnSpec>,
    /// The contracts its rows are checked against (`docs/observability.md`).
    pub contracts: Vec<crate::monitor::contract::Contract>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_and_bad_values_are_errors() {
        let mut c = ModelConfig::default();
        assert!(c.set("materialised", &"table".into()).unwrap_err().contains("unknown model config"));
        assert!(c.set("materialized", &"snapshot".into()).unwrap_err().contains("expected 'view', 'table'"));
        c.set("unique_key", &serde_yaml::from_str("[a, b]").unwrap()).unwrap();
        assert_eq!(c.unique_key, ["a", "b"]);
        c.set("materialized", &"table".into()).unwrap();
        c.set("tags", &"nightly".into()).unwrap();
        assert_eq!((c.materialized, c.tags), (Materialization::Table, vec!["nightly".to_string()]));
    }
}
