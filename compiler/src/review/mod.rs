//! `convlytics review`: people check the labels. `sample` draws a deterministic, stratified
//! sample of labelled conversations into a review file (CSV, and an offline HTML page that
//! exports the same CSV); `import` validates a filled file and appends its verdicts to the
//! append-only `reviews.label_reviews`, which `mart_label_quality` reads; `promote` turns
//! reviewed corrections into taxonomy examples, as a diff to approve.

pub mod import;
pub mod page;
pub mod promote;
pub mod sample;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::governance::DataClass::{self, Identifier, Label, Metric, RedactedText};
use crate::render::Relation;

/// The schema of the reviews: kept apart from the models' schema, which a build replaces.
pub const SCHEMA: &str = "reviews";
/// The append-only relation of every imported verdict.
pub const LABEL_REVIEWS: &str = "label_reviews";

/// `reviews.label_reviews`.
pub fn relation() -> Relation {
    Relation { schema: SCHEMA.into(), identifier: LABEL_REVIEWS.into() }
}

/// The columns of `label_reviews`: name, type (both engines) and class.
pub const LABEL_REVIEWS_COLUMNS: &[(&str, &str, DataClass)] = &[
    ("review_id", "varchar", Identifier),
    ("item_id", "varchar", Identifier),
    ("sample_id", "varchar", Identifier),
    ("conversation_id", "varchar", Identifier),
    ("field", "varchar", Label),
    ("label", "varchar", Label),
    ("verdict", "varchar", Label),
    ("correct_label", "varchar", Label),
    ("note", "varchar", RedactedText),
    ("text_sha256", "varchar", Identifier),
    ("reviewer", "varchar", Identifier),
    ("reviewed_at", "varchar", Metric),
    ("imported_by", "varchar", Identifier),
    ("taxonomy", "varchar", Label),
    ("taxonomy_version", "varchar", Label),
    ("model_hash", "varchar", Label),
    ("run_id", "varchar", Identifier),
    ("design", "varchar", Label),
    ("stratum", "varchar", Label),
    ("stratum_size", "bigint", Metric),
    ("strata", "bigint", Metric),
    ("source_file", "varchar", Label),
    ("file_sha256", "varchar", Label),
];

/// The columns of a review file, in order; the last three are the reviewer's.
pub const FILE_COLUMNS: &[&str] = &[
    "item_id",
    "sample_id",
    "conversation_id",
    "field",
    "label",
    "confidence",
    "evidence",
    "text",
    "text_sha256",
    "taxonomy",
    "taxonomy_version",
    "model_hash",
    "run_id",
    "design",
    "stratum",
    "stratum_size",
    "strata",
    "received_at",
    "verdict",
    "correct_label",
    "note",
];

/// A reviewer's verdicts.
pub const VERDICTS: [&str; 3] = ["correct", "wrong", "unsure"];

/// What a review judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Field {
    /// The intent of `conversation_intents` (of its opening message).
    Intent,
    /// One topic of `conversation_intents` (each topic a conversation was tagged with is an item).
    Topic,
    /// The resolution status of `conversation_signals`, judged on the whole transcript.
    Resolution,
    /// The summary of `conversation_signals`, judged on the whole transcript.
    Summary,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 4] = [Field::Intent, Field::Topic, Field::Resolution, Field::Summary];

    /// Its name in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Intent => "intent",
            Field::Topic => "topic",
            Field::Resolution => "resolution",
            Field::Summary => "summary",
        }
    }

    /// The field called `name`.
    pub fn parse(name: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| format!("unknown field '{name}': expected intent, topic, resolution or summary"))
    }

    /// The model whose rows carry it.
    pub fn model(self) -> &'static str {
        match self {
            Field::Intent | Field::Topic => "conversation_intents",
            Field::Resolution | Field::Summary => "conversation_signals",
        }
    }

    /// The column holding it.
    pub fn column(self) -> &'static str {
        match self {
            Field::Intent => "intent",
            Field::Topic => "topics",
            Field::Resolution => "resolution",
            Field::Summary => "summary",
        }
    }

    /// The field a sample of `model` reviews when none is named.
    pub fn default_for(model: &str) -> Result<Self> {
        match model {
            "conversation_intents" => Ok(Field::Intent),
            "conversation_signals" => Ok(Field::Resolution),
            other => Err(Error::Project(format!(
                "review sample: model '{other}' has no reviewable label: use conversation_intents (intent, topic) \
                 or conversation_signals (resolution, summary)"
            ))),
        }
    }

    /// Whether the label is one of a fixed set (so a correction names another one); a summary is
    /// free text.
    pub fn is_categorical(self) -> bool {
        self != Field::Summary
    }

    /// The labels it may take under `taxonomy` (`unknown` included for intents); `None` for a
    /// summary.
    pub fn labels(self, taxonomy: &convlytics_core::taxonomy::Taxonomy) -> Option<Vec<String>> {
        fn names(labels: &[convlytics_core::taxonomy::Label]) -> impl Iterator<Item = String> + '_ {
            labels.iter().map(|l| l.name.clone())
        }
        match self {
            Field::Intent => {
                Some(names(&taxonomy.intents).chain([convlytics_core::taxonomy::UNKNOWN.to_owned()]).collect())
            }
            Field::Topic => Some(names(&taxonomy.topics).collect()),
            Field::Resolution => Some(convlytics_core::resolution::STATUSES.iter().map(|s| (*s).to_owned()).collect()),
            Field::Summary => None,
        }
    }
}

/// The id of one reviewable label: the same conversation, field, label and taxonomy version give
/// the same id in every sample, so two reviewers of one label review one item.
pub fn item_id(conversation_id: &str, field: Field, label: &str, taxonomy_version: &str) -> String {
    short_hash(&[conversation_id, field.as_str(), label, taxonomy_version])
}

/// The SHA-256 of `text`, as 64 hex digits: what a review file records of the text it shows.
pub fn text_sha256(text: &str) -> String {
    sha256(text.as_bytes())
}

/// The SHA-256 of `bytes`, as 64 hex digits.
pub fn sha256(bytes: &[u8]) -> String {
    crate::governance::audit::hex(&Sha256::digest(bytes))
}

/// 16 hex digits of the SHA-256 of `parts` (each followed by a NUL, so parts cannot run together).
fn short_hash(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    crate::governance::audit::hex(&hash.finalize()[..8])
}

/// The text a reviewer judges `field` on, for each of `ids`: the opening message (intent,
/// topic) or the transcript, one `role: text` line per turn, boilerplate left out (resolution,
/// summary). Read from the warehouse the same way by `sample` and `import`, so a changed text
/// is noticed.
pub async fn texts(
    engine: &crate::engine::Engine,
    schema: &str,
    field: Field,
    ids: &[&str],
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for chunk in ids.chunks(500) {
        let list: Vec<String> = chunk.iter().map(|id| crate::render::quote_literal(id)).collect();
        let schema = crate::render::quote_ident(schema);
        let sql = match field {
            Field::Intent | Field::Topic => format!(
                "select conversation_id, opening_text from {schema}.conversation_intents \
                 where conversation_id in ({})",
                list.join(", ")
            ),
            Field::Resolution | Field::Summary => format!(
                "select conversation_id, role, text_redacted from {schema}.turns \
                 where not is_boilerplate and conversation_id in ({}) order by conversation_id, turn_index",
                list.join(", ")
            ),
        };
        for row in engine.rows(&sql, "reading the texts to review").await? {
            let id = row[0].clone().unwrap_or_default();
            match field {
                Field::Intent | Field::Topic => {
                    out.insert(id, row[1].clone().unwrap_or_default());
                }
                Field::Resolution | Field::Summary => {
                    let line = format!("{}: {}", row[1].as_deref().unwrap_or(""), row[2].as_deref().unwrap_or(""));
                    let text = out.entry(id).or_default();
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&line);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_depend_on_every_part() {
        let a = item_id("c1", Field::Intent, "billing_issue", "v1");
        assert_eq!(a.len(), 16);
        assert_eq!(a, item_id("c1", Field::Intent, "billing_issue", "v1"));
        assert_ne!(a, item_id("c1", Field::Intent, "billing_issue", "v2"));
        assert_ne!(a, item_id("c1", Field::Topic, "billing_issue", "v1"));
        assert_ne!(item_id("ab", Field::Intent, "c", "v"), item_id("a", Field::Intent, "bc", "v"));
    }

    #[test]
    fn fields_round_trip_and_name_their_model() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.as_str()), Ok(f));
        }
        assert!(Field::parse("sentiment").unwrap_err().contains("expected intent"));
        assert_eq!(Field::default_for("conversation_signals").unwrap(), Field::Resolution);
        assert!(Field::default_for("mart_conversations").is_err());
    }
}
