//! Seeds: CSV files under the seed paths, loaded as tables and read with `ref()`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::project::properties::ColumnSpec;

/// A seed as found on disk, with its config.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seed {
    /// Its name: the file name without `.csv`.
    pub name: String,
    /// Its file, relative to the project root.
    pub path: PathBuf,
    /// Declared column types (SQL types, e.g. `bigint`, `date`); other columns are inferred.
    pub column_types: BTreeMap<String, String>,
    /// Free labels for selection.
    pub tags: Vec<String>,
    /// Disabled seeds are not loaded.
    pub enabled: bool,
    /// The field separator of its CSV (default `,`).
    pub delimiter: u8,
    /// What it holds.
    pub description: Option<String>,
    /// Its documented columns.
    pub columns: Vec<ColumnSpec>,
    /// Configs whose values are Jinja (`+enabled: "{{ var('x', false) }}"`), applied when the
    /// project compiles, with its vars.
    #[serde(skip)]
    pub templated: Vec<(String, serde_yaml::Value)>,
}

impl Seed {
    /// The configs convlytics acts on.
    pub(crate) const KEYS: &'static [&'static str] = &["column_types", "delimiter", "tags", "enabled"];

    /// Sets the seed config `key`; an unknown key or a value of the wrong type is an error. A
    /// string value with Jinja is kept for [`Seed::templated`].
    pub fn set(&mut self, key: &str, value: &serde_yaml::Value) -> Result<(), String> {
        if value.as_str().is_some_and(|v| v.contains("{{") || v.contains("{%")) {
            self.templated.push((key.to_owned(), value.clone()));
            return Ok(());
        }
        match key {
            "column_types" => {
                let map = value.as_mapping().ok_or("'column_types' must map column names to SQL types")?;
                for (k, v) in map {
                    let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                        return Err("'column_types' must map column names to SQL types".into());
                    };
                    self.column_types.insert(k.to_owned(), v.to_owned());
                }
            }
            "enabled" => self.enabled = value.as_bool().ok_or("'enabled' must be true or false")?,
            "delimiter" => {
                let text = value.as_str().map(|d| if d == "\\t" { "\t" } else { d });
                match text.map(str::as_bytes) {
                    Some([b]) if b.is_ascii() => self.delimiter = *b,
                    _ => return Err("'delimiter' must be one ASCII character, such as ';' or '\\t'".into()),
                }
            }
            "tags" => self.tags = crate::project::model::string_list(key, value)?,
            other => return Err(format!("unknown seed config '{other}': expected one of {}", Self::KEYS.join(", "))),
        }
        Ok(())
    }
}
