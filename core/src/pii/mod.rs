//! PII detection and redaction.
//!
//! * [`detect`] finds the spans of personal data in a text: each with its type, byte offsets
//!   (characters in [`to_json`]'s output), a score and how it was found (pattern, checksum, context word, name cue, names list,
//!   deny list). Validators do the deciding where one exists: libphonenumber for phone numbers,
//!   Luhn and issuer ranges for cards, mod-97 for IBANs, the SSA rules for SSNs.
//! * [`redact`] replaces each span with the [`Policy`]'s operator for its type: a typed
//!   placeholder, an indexed placeholder, a mask, a keyed hash pseudonym, or nothing.
//! * Every detector is a linear scan or a `regex` (finite automata, no backtracking), so a
//!   megabyte of digits or a pathological repetition costs linear time.

mod address;
mod checksum;
mod context;
mod detect;
mod eval;
mod numbers;
mod patterns;
mod person;
mod policy;
mod redact;

use std::fmt::{self, Write as _};

pub use detect::detect;
pub use eval::{evaluate, read_gold, Example, GoldSpan, GoldText, PiiMetrics, TypeMetrics};
pub use policy::{
    permit_key_vars, CompiledPolicy, DenyList, MaskSpec, Operator, PatternSpec, Policy, DEFAULT_KEY_ENV,
    DEFAULT_KEY_VARS,
};
pub use redact::redact;

use crate::error::Result;

/// One piece of personal data found in a text. Offsets are byte offsets into the text; [`to_json`]
/// reports them in characters, as SQL's `substr` counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Span<'a> {
    /// The entity type, e.g. `EMAIL_ADDRESS` or a type the policy declares.
    pub entity: &'a str,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Confidence in [0, 1]; spans below the policy's threshold for their type are not reported.
    pub score: f64,
    /// How the span was found.
    pub method: Method,
    /// What decided it: the validator, the context word or the cue.
    pub evidence: &'a str,
}

/// How a span was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A pattern match alone.
    Pattern,
    /// A pattern match confirmed by a validator (Luhn, mod-97, libphonenumber, SSA rules).
    Checksum,
    /// A pattern match whose score a context word raised.
    Context,
    /// A person named after a cue such as "my name is", "Dear" or a sign-off.
    NameCue,
    /// A person whose name is in the names list.
    NamesList,
    /// A value on the policy's deny list.
    DenyList,
    /// A whole speaker field, under a policy for speaker fields.
    SpeakerField,
}

impl Method {
    /// The name used in `detect_pii` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Pattern => "pattern",
            Method::Checksum => "checksum",
            Method::Context => "context",
            Method::NameCue => "name_cue",
            Method::NamesList => "names_list",
            Method::DenyList => "deny_list",
            Method::SpeakerField => "speaker_field",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The spans as the JSON array `detect_pii` returns: `type`, `start` and `end` in characters
/// (end exclusive), `score` to two decimals, `method` and `evidence`. The matched text itself is
/// left out, so the output carries no more personal data than offsets.
pub fn to_json(text: &str, spans: &[Span<'_>]) -> String {
    let mut out = String::with_capacity(2 + spans.len() * 96);
    out.push('[');
    let mut chars = 0usize;
    let mut at = 0usize;
    let mut char_offset = |byte: usize| {
        chars += text[at..byte].chars().count();
        at = byte;
        chars
    };
    for (i, span) in spans.iter().enumerate() {
        let start = char_offset(span.start);
        let end = char_offset(span.end);
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"type":{},"start":{start},"end":{end},"score":{},"method":"{}","evidence":{}}}"#,
            serde_json::Value::from(span.entity),
            (span.score * 100.0).round() / 100.0,
            span.method.as_str(),
            serde_json::Value::from(span.evidence),
        );
    }
    out.push(']');
    out
}

/// `detect_pii(text, policy)` as SQL calls it: the policy as JSON text (NULL or empty for the
/// default policy), the answer as [`to_json`]'s array.
pub fn detect_pii_text(text: &str, policy: Option<&str>) -> Result<String> {
    let policy = CompiledPolicy::cached(policy.unwrap_or_default())?;
    Ok(to_json(text, &detect(text, &policy)?))
}

/// `redact_pii(text, policy)` as SQL calls it: the policy as JSON text (NULL or empty for the
/// default policy).
pub fn redact_pii_text(text: &str, policy: Option<&str>) -> Result<String> {
    let policy = CompiledPolicy::cached(policy.unwrap_or_default())?;
    redact(text, &policy)
}
