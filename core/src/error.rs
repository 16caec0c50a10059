//! The one error type of `convlytics-core`.

/// Why a core function could not give an answer. Functions that can only fail on NULL input
/// return `Option` instead; this enum is for input that is present but unusable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `normalize_identifier` was given a kind it does not know.
    #[error("unknown identifier kind '{0}': expected one of email, email_provider, phone, id, name")]
    UnknownIdentifierKind(String),
    /// A phone region that is not an ISO 3166-1 alpha-2 code libphonenumber knows.
    #[error("unknown phone region '{0}': expected an ISO 3166-1 alpha-2 code such as US, GB or DE")]
    UnknownRegion(String),
    /// Identity-stitching settings that cannot be used, with what was expected.
    #[error("identity settings: {0}")]
    IdentitySettings(String),
    /// The caller asked a long computation to stop (a cancelled query).
    #[error("cancelled")]
    Cancelled,
    /// Identity records that cannot be stitched (no id column, duplicate ids, ragged rows).
    #[error("identity records: {0}")]
    IdentityRecords(String),
    /// A PII policy that cannot be used (unknown type, bad regex, threshold out of range).
    #[error("pii policy: {0}")]
    PiiPolicy(String),
    /// The hash operator's key is missing or too short.
    #[error("pii key: {0}")]
    PiiKey(String),
    /// A gold file for `eval pii` that cannot be read.
    #[error("pii gold: {0}")]
    PiiGold(String),
    /// A payload that cannot be read as a transcript; the text is its quarantine reason.
    #[error("{0}")]
    Transcript(String),
    /// A taxonomy that cannot be used (bad YAML, unknown key, duplicate label, bad pattern).
    #[error("taxonomy: {0}")]
    Taxonomy(String),
    /// Turns that cannot be read as a conversation (roles and texts of different lengths).
    #[error("resolution: {0}")]
    Resolution(String),
    /// A summary that cannot be made (fewer than one sentence asked for).
    #[error("{0}")]
    Summarize(String),
    /// A labelled-texts file for an `eval` command that cannot be read.
    #[error("labels: {0}")]
    Labels(String),
    /// The embedding model failed while running.
    #[error("embedding model: {0}")]
    Model(String),
    /// Transcript settings that cannot be used (unknown key, bad pattern, bad mapping).
    #[error("transcript settings: {0}")]
    TranscriptSettings(String),
}

/// `Result` with the core [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
