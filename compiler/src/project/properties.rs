//! YAML property files under the model paths: sources, model documentation, taxonomies,
//! identity settings, PII policies.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::files::CsvOptions;
use crate::error::{Error, Result};
use crate::governance::DataClass;
use crate::project::dbt_keys;

/// One property file. Its keys (down to columns) are screened first ([`dbt_keys`]): a key
/// neither dbt nor convlytics knows is an error, one of dbt's convlytics ignores a warning.
#[derive(Debug, Default, Deserialize)]
pub struct PropertiesFile {
    /// dbt's property file version (2).
    #[serde(default)]
    pub version: Option<u32>,
    /// Source declarations.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// Model documentation.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// Taxonomies (kept as YAML here; [`load_taxonomies`] reads and validates them).
    #[serde(default)]
    pub taxonomies: Vec<serde_yaml::Value>,
    /// Identity-stitching settings, by name, for `identity_settings()` and `eval identity`.
    #[serde(default)]
    pub identities: Vec<IdentitySpec>,
    /// PII policies, by name, for `pii_policy()` and `eval pii`.
    #[serde(default)]
    pub pii_policies: Vec<PiiPolicySpec>,
    /// Transcript settings, by name, for `transcript_settings()`.
    #[serde(default)]
    pub transcripts: Vec<TranscriptSpec>,
    /// Seed documentation and column types.
    #[serde(default)]
    pub seeds: Vec<SeedSpec>,
    /// Roles and the data classes they read (`docs/governance.md`).
    #[serde(default)]
    pub roles: Vec<crate::governance::roles::RoleSpec>,
    /// How long each class of data is kept (`docs/governance.md`).
    #[serde(default)]
    pub retention: Vec<crate::governance::retention::RetentionRule>,
    /// Approved taxonomies and the diff reports they were approved on (`docs/cli/taxonomy.md`).
    #[serde(default)]
    pub taxonomy_approvals: Vec<crate::taxonomy::approval::Approval>,
    /// Monitors: metrics compared with their history, drift, PII scans (`docs/observability.md`).
    #[serde(default)]
    pub monitors: Vec<crate::monitor::MonitorSpec>,
    /// dbt's unit tests: a model run on given rows (`docs/dbt.md`).
    #[serde(default)]
    pub unit_tests: Vec<crate::unit_tests::UnitTestSpec>,
    /// The models kept current as records arrive, and alert rules (`docs/realtime.md`).
    #[serde(default)]
    pub realtime: Option<crate::realtime::RealtimeSpec>,
}

/// Documentation and config of a seed.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedSpec {
    /// The seed's name: its CSV file name without `.csv`.
    pub name: String,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Seed configs: `column_types`, `tags`, `enabled`.
    #[serde(default)]
    pub config: serde_yaml::Mapping,
    /// Column documentation and tests.
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Tests of the whole seed.
    #[serde(default, alias = "tests")]
    pub data_tests: Vec<serde_yaml::Value>,
}

/// Named transcript settings: speaker names, agent domains, boilerplate patterns and JSON
/// mappings. Unknown keys, here and in `settings`, are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptSpec {
    /// The name `transcript_settings()` takes.
    pub name: String,
    /// Which payloads they are for.
    #[serde(default)]
    pub description: Option<String>,
    /// The settings `parse_transcript` and `transcript_info` receive.
    #[serde(default)]
    pub settings: convlytics_core::transcript::Settings,
}

/// Named identity-stitching settings. Unknown keys, here and in `settings`, are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySpec {
    /// The name `identity_settings()` takes.
    pub name: String,
    /// Which records it stitches and how.
    #[serde(default)]
    pub description: Option<String>,
    /// The settings `stitch_identity` receives.
    #[serde(default)]
    pub settings: convlytics_core::identity::Settings,
}

/// A named PII policy. Unknown keys, here and in `policy`, are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiPolicySpec {
    /// The name `pii_policy()` takes.
    pub name: String,
    /// What the policy is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The policy `detect_pii` and `redact_pii` receive. It names the environment variable of
    /// the hash key, never the key.
    #[serde(default)]
    pub policy: convlytics_core::pii::Policy,
}

/// A source: a group of tables that exist outside the project.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceSpec {
    /// The first argument of `source()`.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: Option<String>,
    /// The PostgreSQL schema holding its tables (defaults to `name`).
    #[serde(default)]
    pub schema: Option<String>,
    /// Adapter metadata; `external_location` and `format` are read by the embedded engine.
    #[serde(default)]
    pub meta: SourceMeta,
    /// Its tables.
    #[serde(default)]
    pub tables: Vec<SourceTableSpec>,
    /// The column (or expression) telling when a row was loaded, for `source freshness`.
    #[serde(default)]
    pub loaded_at_field: Option<String>,
    /// How old the newest row may be; `null` on a table turns the source's off.
    #[serde(default, deserialize_with = "explicit")]
    pub freshness: Option<Option<Freshness>>,
}

/// How old a source's newest row may be before `source freshness` warns or fails.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// Older than this warns.
    #[serde(default)]
    pub warn_after: Option<Age>,
    /// Older than this is an error.
    #[serde(default)]
    pub error_after: Option<Age>,
    /// A SQL condition: only rows matching it count.
    #[serde(default)]
    pub filter: Option<String>,
}

/// An age: `{count: 12, period: hour}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Age {
    /// How many periods.
    pub count: u32,
    /// `minute`, `hour` or `day`.
    pub period: Period,
}

/// The unit of an [`Age`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds.
    Day,
}

impl Age {
    /// The age in seconds.
    pub fn seconds(&self) -> f64 {
        let unit = match self.period {
            Period::Minute => 60.0,
            Period::Hour => 3600.0,
            Period::Day => 86400.0,
        };
        f64::from(self.count) * unit
    }
}

/// A key that may be absent (`None`), explicitly `null` (`Some(None)`) or set.
fn explicit<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A table of a source.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceTableSpec {
    /// The second argument of `source()`.
    pub name: String,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// The table's name in the database when it differs from `name`.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Overrides the source's `meta` for this table.
    #[serde(default)]
    pub meta: SourceMeta,
    /// Column documentation.
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Tests of the whole table.
    #[serde(default, alias = "tests")]
    pub data_tests: Vec<serde_yaml::Value>,
    /// The column (or expression) telling when a row was loaded, for `source freshness`.
    #[serde(default)]
    pub loaded_at_field: Option<String>,
    /// How old the newest row may be; `null` on a table turns the source's off.
    #[serde(default, deserialize_with = "explicit")]
    pub freshness: Option<Option<Freshness>>,
    /// The fields its records must carry (`docs/observability.md`).
    #[serde(default)]
    pub contract: Option<crate::monitor::contract::Contract>,
}

/// Where the embedded engine finds a source table's files (dbt-duckdb's `external_location`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceMeta {
    /// A file, directory or glob; Jinja (`var`, `env_var`) is rendered and `{name}` becomes the
    /// table name. Relative paths are relative to the project root.
    #[serde(default)]
    pub external_location: Option<String>,
    /// `csv`, `json` (JSON lines) or `parquet`; taken from the extension when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// How CSV files are read (delimiter, quote, escape, header, encoding).
    #[serde(default)]
    pub csv: Option<CsvOptions>,
}

/// Documentation and config of a model.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    /// The model's name.
    pub name: String,
    /// What it holds and what question it answers.
    #[serde(default)]
    pub description: Option<String>,
    /// Column documentation.
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Tests of the whole model.
    #[serde(default, alias = "tests")]
    pub data_tests: Vec<serde_yaml::Value>,
    /// Contracts its rows are checked against, e.g. one per transcript format's payload
    /// (`docs/observability.md`).
    #[serde(default)]
    pub contracts: Vec<crate::monitor::contract::Contract>,
    /// Model configs, applied over the folder configs of `dbt_project.yml`.
    #[serde(default)]
    pub config: serde_yaml::Mapping,
}

/// Documentation of a column.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct ColumnSpec {
    /// The column's name.
    pub name: String,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Data tests (kept as YAML for the test runner).
    #[serde(default, alias = "tests")]
    pub data_tests: Vec<serde_yaml::Value>,
    /// The column's type, as documented (a seed's `column_types` sets a type).
    #[serde(default)]
    pub data_type: Option<String>,
    /// Metadata: `data_class` is read (`docs/governance.md`), other keys are kept for dbt.
    #[serde(default)]
    pub meta: ColumnMeta,
}

/// A column's `meta:`. Other keys are dbt's or the team's own, and not read.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ColumnMeta {
    /// What the column holds (`raw_text`, `personal`, `redacted_text`, `pseudonym`, `identifier`,
    /// `label`, `metric`): who may read it and how long it is kept follow from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_class: Option<DataClass>,
}

/// Reads and validates one property file (`rel`, relative to the project, names it in messages),
/// adding a warning for each dbt key convlytics accepts and ignores.
pub fn load(path: &Path, rel: &Path, warnings: &mut dbt_keys::Warnings) -> Result<PropertiesFile> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    if text.trim().is_empty() {
        return Ok(PropertiesFile::default());
    }
    dbt_keys::screen(path, rel, &text, dbt_keys::Scope::Properties, warnings)?;
    serde_yaml::from_str(&text).map_err(|e| Error::yaml(path, &e))
}

/// The validated taxonomies of a property file; problems carry the file, line and column.
pub fn load_taxonomies(path: &Path) -> Result<Vec<convlytics_core::taxonomy::Taxonomy>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    convlytics_core::taxonomy::parse(&text).map_err(|e| Error::taxonomy(path, e))
}

/// A source table resolved for use: its names and where its files are.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// The source's name.
    pub source: String,
    /// The table's name as `source()` names it.
    pub name: String,
    /// The schema it lives in.
    pub schema: String,
    /// The table's name in the database.
    pub identifier: String,
    /// Its files for the embedded engine, with Jinja not yet rendered.
    pub external_location: Option<String>,
    /// Its file format, when declared.
    pub format: Option<String>,
    /// How its CSV files are read.
    pub csv: CsvOptions,
    /// The property file that declared it.
    pub declared_in: PathBuf,
    /// What it holds.
    pub description: Option<String>,
    /// Its documented columns.
    pub columns: Vec<ColumnSpec>,
    /// Tests of the whole table.
    pub data_tests: Vec<serde_yaml::Value>,
    /// The column telling when a row was loaded.
    pub loaded_at_field: Option<String>,
    /// The freshness expected of it, when any.
    pub freshness: Option<Freshness>,
    /// The fields its records must carry, when declared.
    pub contract: Option<crate::monitor::contract::Contract>,
}

impl SourceSpec {
    /// Its tables, with source-level metadata applied.
    pub fn resolve(&self, declared_in: &Path) -> Vec<SourceTable> {
        self.tables
            .iter()
            .map(|t| SourceTable {
                source: self.name.clone(),
                name: t.name.clone(),
                schema: self.schema.clone().unwrap_or_else(|| self.name.clone()),
                identifier: t.identifier.clone().unwrap_or_else(|| t.name.clone()),
                external_location: t
                    .meta
                    .external_location
                    .clone()
                    .or_else(|| self.meta.external_location.clone())
                    .map(|l| l.replace("{name}", &t.name)),
                format: t.meta.format.clone().or_else(|| self.meta.format.clone()),
                csv: t.meta.csv.clone().or_else(|| self.meta.csv.clone()).unwrap_or_default(),
                declared_in: declared_in.to_path_buf(),
                description: t.description.clone(),
                columns: t.columns.clone(),
                data_tests: t.data_tests.clone(),
                loaded_at_field: t.loaded_at_field.clone().or_else(|| self.loaded_at_field.clone()),
                freshness: match &t.freshness {
                    Some(table) => table.clone(),
                    None => self.freshness.clone().flatten(),
                },
                contract: t.contract.clone(),
            })
            .collect()
    }
}
