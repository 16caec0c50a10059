//! The one error type of `convlytics-core`: each variant says what kind of input was wrong and
//! carries what identifies the problem (the value, the line and column, the file), so an adapter
//! can choose its engine's error class (a PostgreSQL SQLSTATE) and a user can act on the message.

use std::path::PathBuf;

use crate::taxonomy::TaxonomyError;

/// Which settings document an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsKind {
    /// A PII policy (`detect_pii` / `redact_pii`'s policy argument, `pii_policies:`).
    PiiPolicy,
    /// Transcript settings (`parse_transcript`'s settings argument, `transcripts:`).
    Transcript,
    /// Identity-stitching settings (`stitch_identity`'s settings argument, `identities:`).
    Identity,
}

impl std::fmt::Display for SettingsKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettingsKind::PiiPolicy => "pii policy",
            SettingsKind::Transcript => "transcript settings",
            SettingsKind::Identity => "identity settings",
        })
    }
}

/// Why identity records cannot be stitched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// The query or file has no `record_id` column.
    #[error("the query must return a column named record_id (it returns {})", .columns.join(", "))]
    NoIdColumn {
        /// The columns it has.
        columns: Vec<String>,
    },
    /// Two columns have one name.
    #[error("column '{0}' appears twice")]
    DuplicateColumn(String),
    /// A record's id is NULL or empty.
    #[error("record {record} has no record_id (it is NULL or empty)")]
    MissingId {
        /// The record's position, from 1.
        record: usize,
    },
    /// Two records have one id.
    #[error("record id '{0}' appears twice; ids must be unique")]
    DuplicateId(String),
    /// A record with more or fewer values than there are columns.
    #[error("record '{id}' has {values} values for {columns} columns")]
    Ragged {
        /// The record's id.
        id: String,
        /// How many values it has.
        values: usize,
        /// How many columns there are.
        columns: usize,
    },
    /// A records file that is not CSV with a header.
    #[error("CSV: {0}")]
    Csv(String),
}

/// Why the embedding model cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// One of the model's files is not there.
    #[error("{} is missing: run scripts/setup-models.sh (or set CONVLYTICS_MODEL_DIR to the directory holding model.onnx, tokenizer.json and libonnxruntime.so)", .0.display())]
    Missing(PathBuf),
    /// ONNX Runtime, the model or the tokenizer could not be loaded.
    #[error("{}: {problem}", .file.display())]
    Load {
        /// The file that would not load.
        file: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// The model ran and failed.
    #[error("ONNX Runtime: {0}")]
    Run(String),
    /// The static embedding could not be distilled from the encoder.
    #[error("distilling the static embedding: {0}")]
    Distill(String),
    /// The model's outputs are not what the project's code reads.
    #[error("the model's {output} has shape {got:?}, expected [texts, tokens, {expected}]: use the model of MODELS.md or one with {expected}-dimensional outputs")]
    Shape {
        /// The output read.
        output: &'static str,
        /// Its shape.
        got: Vec<i64>,
        /// The hidden size the project expects.
        expected: usize,
    },
}

/// Why a core function could not give an answer. Functions that can only fail on NULL input
/// return `Option` instead; this enum is for input that is present but unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An argument that must be one of a fixed set of words is not.
    #[error("unknown {what} '{value}': expected {expected}")]
    UnknownValue {
        /// What the argument is (`identifier kind`, `phone region`).
        what: &'static str,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A settings document that is not JSON of the expected shape: bad syntax, an unknown key,
    /// a value of the wrong type.
    #[error("{settings}: {message} at line {line} column {column}")]
    SettingsJson {
        /// Which settings.
        settings: SettingsKind,
        /// Line of the problem (from 1).
        line: usize,
        /// Column of the problem (from 1).
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A setting whose value cannot be used (out of range, an unknown name, a bad pattern).
    #[error("{settings}: {problem}")]
    Settings {
        /// Which settings.
        settings: SettingsKind,
        /// The key at fault and what is wrong with it.
        problem: String,
    },
    /// A taxonomy document that cannot be used, with its line and column.
    #[error("taxonomy: {0}")]
    Taxonomy(#[from] TaxonomyError),
    /// A taxonomy name the session does not know.
    #[error("taxonomy: no taxonomy named '{name}' (known: {}); declare it under `taxonomies:` in a property file, or pass its YAML", if .known.is_empty() { "none".to_owned() } else { .known.join(", ") })]
    UnknownTaxonomy {
        /// The name asked for.
        name: String,
        /// The names the session has.
        known: Vec<String>,
    },
    /// A user pattern (a taxonomy's, a policy's) that cannot be compiled.
    #[error("pattern '{pattern}' cannot be used: {problem}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why.
        problem: String,
    },
    /// The hash operator's key is not set where the query runs.
    #[error("pii key: the hash operator needs a key: set the environment variable {variable} (at least {min} bytes) where the query runs")]
    MissingKey {
        /// The environment variable the policy names.
        variable: String,
        /// The shortest key accepted, in bytes.
        min: usize,
    },
    /// The policy names a key variable the engine does not permit.
    #[error("pii key: {variable} is not a permitted key variable: an administrator lists the variables policies may name (convlytics.pii_key_vars on PostgreSQL; CONVLYTICS_PII_* elsewhere)")]
    KeyNotPermitted {
        /// The environment variable the policy names.
        variable: String,
    },
    /// The hash operator's key is too short.
    #[error("pii key: the key in {variable} is shorter than {min} bytes")]
    ShortKey {
        /// The environment variable the policy names.
        variable: String,
        /// The shortest key accepted, in bytes.
        min: usize,
    },
    /// A payload that cannot be read as a transcript in its format; the text is its quarantine
    /// reason (where in the payload, and what was expected).
    #[error("{0}")]
    Unreadable(String),
    /// A conversation's roles and texts differ in length.
    #[error("roles and texts differ in length ({roles} and {texts}): pass one role per turn")]
    TurnLists {
        /// Elements of the roles array.
        roles: usize,
        /// Elements of the texts array.
        texts: usize,
    },
    /// A summary asked for fewer than one sentence.
    #[error("the number of sentences must be at least 1, got {0}")]
    SentenceCount(i64),
    /// Identity records that cannot be stitched.
    #[error("identity records: {0}")]
    Records(#[from] RecordsError),
    /// A file given to an `eval` command (labels, gold spans, true links) that cannot be read.
    #[error("{what}: {}{problem}", .line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    InputFile {
        /// What the file is (`labels`, `pii gold`, `truth`).
        what: &'static str,
        /// The line at fault (from 1), when one is.
        line: Option<usize>,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The embedding model cannot be used.
    #[error("embedding model: {0}")]
    Model(#[from] ModelError),
    /// The caller asked a long computation to stop (a cancelled query).
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// A [`Error::SettingsJson`] from serde_json's error.
    pub(crate) fn settings_json(settings: SettingsKind, e: &serde_json::Error) -> Self {
        let message = e.to_string();
        let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(head, _)| head).to_owned();
        Error::SettingsJson { settings, line: e.line(), column: e.column(), message }
    }
}

/// `Result` with the core [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_json_names_line_and_column() {
        let e = serde_json::from_str::<serde_json::Value>("{\n  \"a\": }").unwrap_err();
        let error = Error::settings_json(SettingsKind::Transcript, &e);
        assert_eq!(error.to_string(), "transcript settings: expected value at line 2 column 8");
        assert!(matches!(error, Error::SettingsJson { line: 2, column: 8, .. }));
    }

    #[test]
    fn input_files_name_the_line_when_there_is_one() {
        let at = Error::InputFile { what: "labels", line: Some(3), problem: "bad".into() };
        let whole = Error::InputFile { what: "labels", line: None, problem: "bad".into() };
        assert_eq!((at.to_string().as_str(), whole.to_string().as_str()), ("labels: line 3: bad", "labels: bad"));
    }
}
