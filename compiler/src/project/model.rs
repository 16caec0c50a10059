//! Models: one SQL file each, with the config that decides how it is built.

use std::path::PathBuf;

/// How a model's result is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialization {
    /// A view: the query is kept, not its rows (on the embedded engine it is also exported).
    #[default]
    View,
    /// A table: the rows are computed and stored.
    Table,
}

impl Materialization {
    /// The materialization named `value` in YAML or in `config(materialized=...)`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "view" => Ok(Self::View),
            "table" => Ok(Self::Table),
            other => Err(format!("unknown materialization '{other}': expected 'view' or 'table'")),
        }
    }

    /// The word used in output, artefacts and SQL (`create view`, `create table`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Table => "table",
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
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self { materialized: Materialization::View, tags: Vec::new(), enabled: true }
    }
}

impl ModelConfig {
    const KEYS: [&'static str; 3] = ["materialized", "tags", "enabled"];

    /// Whether `key` is a model config key.
    pub fn is_key(key: &str) -> bool {
        Self::KEYS.contains(&key)
    }

    /// Sets `key` to `value`; an unknown key or a value of the wrong type is an error.
    pub fn set(&mut self, key: &str, value: &serde_yaml::Value) -> Result<(), String> {
        match key {
            "materialized" => {
                let v = value.as_str().ok_or("'materialized' must be a string")?;
                self.materialized = Materialization::parse(v)?;
            }
            "enabled" => self.enabled = value.as_bool().ok_or("'enabled' must be true or false")?,
            "tags" => {
                self.tags = match value {
                    serde_yaml::Value::String(s) => vec![s.clone()],
                    serde_yaml::Value::Sequence(items) => items
                        .iter()
                        .map(|t| t.as_str().map(str::to_owned).ok_or("'tags' must be strings"))
                        .collect::<Result<_, _>>()?,
                    _ => return Err("'tags' must be a string or a list of strings".into()),
                }
            }
            other => return Err(format!("unknown model config '{other}': expected one of {}", Self::KEYS.join(", "))),
        }
        Ok(())
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
    /// Its config from `dbt_project.yml` folders (its own `config()` call applies on top).
    pub folder_config: ModelConfig,
    /// Its description from a YAML property file.
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_and_bad_values_are_errors() {
        let mut c = ModelConfig::default();
        assert!(c.set("materialised", &"table".into()).unwrap_err().contains("unknown model config"));
        assert!(c.set("materialized", &"snapshot".into()).unwrap_err().contains("expected 'view' or 'table'"));
        c.set("materialized", &"table".into()).unwrap();
        c.set("tags", &"nightly".into()).unwrap();
        assert_eq!((c.materialized, c.tags), (Materialization::Table, vec!["nightly".to_string()]));
    }
}
