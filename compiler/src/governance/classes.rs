//! Data classes: what a column holds, from least to most sensitive, and how a class flows
//! through SQL (functions that carry text, sanitise it, pseudonymise it or label it).

use convlytics_core::catalog::TextFlow;

/// What a column holds. Ordered from least to most sensitive: a column computed from several
/// columns holds the most sensitive of them unless a function caps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// A number, time or duration: a count, score, ratio, timestamp.
    Metric,
    /// A category decided by the project: an intent, a topic, a channel, a status, its evidence.
    Label,
    /// A key of a record inside the business (conversation id, account id, order id).
    Identifier,
    /// A stable key derived from personal data (an identity cluster key, a keyed hash).
    Pseudonym,
    /// Customer or agent text with its personal data replaced (`redact_pii`).
    RedactedText,
    /// One personal value: an email, phone number, name or address.
    Personal,
    /// Text as written or spoken, personal data included.
    RawText,
}

impl DataClass {
    /// Every class, least sensitive first.
    pub const ALL: [DataClass; 7] = [
        DataClass::Metric,
        DataClass::Label,
        DataClass::Identifier,
        DataClass::Pseudonym,
        DataClass::RedactedText,
        DataClass::Personal,
        DataClass::RawText,
    ];

    /// The name YAML and output use: `raw_text`, `redacted_text`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Metric => "metric",
            DataClass::Label => "label",
            DataClass::Identifier => "identifier",
            DataClass::Pseudonym => "pseudonym",
            DataClass::RedactedText => "redacted_text",
            DataClass::Personal => "personal",
            DataClass::RawText => "raw_text",
        }
    }

    /// The class named `name`; an unknown name is an error listing the classes.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|c| c.as_str() == name).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown data class '{name}': expected one of {}", names.join(", "))
        })
    }

    /// Whether it is text a person wrote or said (raw or redacted).
    pub fn is_text(self) -> bool {
        matches!(self, DataClass::RawText | DataClass::RedactedText)
    }
}

impl std::fmt::Display for DataClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most sensitive class a call of `function` (lower case, unqualified) can give, whatever
/// its arguments hold; `None` when it carries its arguments' class through. convlytics
/// functions say it in the catalogue; SQL built-ins that count, measure or hash are capped here.
pub fn ceiling(function: &str) -> Option<DataClass> {
    if let Some(f) = convlytics_core::catalog::function(function) {
        return flow_ceiling(f.text);
    }
    const MEASURES: &[&str] = &[
        "count",
        "length",
        "char_length",
        "character_length",
        "octet_length",
        "bit_length",
        "array_length",
        "cardinality",
        "sum",
        "avg",
        "mean",
        "stddev",
        "stddev_samp",
        "stddev_pop",
        "variance",
        "var_samp",
        "var_pop",
        "median",
        "percentile_cont",
        "approx_distinct",
        "approx_median",
        "approx_percentile_cont",
        "row_number",
        "rank",
        "dense_rank",
        "percent_rank",
        "cume_dist",
        "ntile",
        "corr",
        "extract",
        "date_part",
        "epoch",
    ];
    const HASHES: &[&str] = &["md5", "sha224", "sha256", "sha384", "sha512", "digest", "hashtext"];
    if MEASURES.contains(&function) {
        Some(DataClass::Metric)
    } else if HASHES.contains(&function) {
        Some(DataClass::Pseudonym)
    } else {
        None
    }
}

/// The most sensitive class a result that keeps `text` of its input can be (`None`: its input's).
pub fn flow_ceiling(text: TextFlow) -> Option<DataClass> {
    match text {
        TextFlow::Carries => None,
        TextFlow::Sanitises => Some(DataClass::RedactedText),
        TextFlow::Pseudonymises => Some(DataClass::Pseudonym),
        TextFlow::Labels => Some(DataClass::Label),
        TextFlow::Metadata => Some(DataClass::Metric),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_decides_for_convlytics_functions() {
        assert_eq!(ceiling("redact_pii"), Some(DataClass::RedactedText));
        assert_eq!(ceiling("summarize"), None);
        assert_eq!(ceiling("classify_intent"), Some(DataClass::Label));
        assert_eq!(ceiling("conversation_id"), Some(DataClass::Pseudonym));
        assert_eq!(ceiling("count"), Some(DataClass::Metric));
        assert_eq!(ceiling("lower"), None);
        assert!(DataClass::RawText > DataClass::Personal && DataClass::Personal > DataClass::RedactedText);
    }
}
