//! `detect_pii` and `redact_pii`: adapters over `convlytics_core::pii`.

use pgrx::prelude::*;

/// The PII spans found in `text` under the default policy, as a JSON array (cast to jsonb to
/// query it).
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii(text: &str) -> String {
    detect(text, None)
}

/// The PII spans found in `text` under `policy` (JSON), as a JSON array.
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii_with_policy(text: &str, policy: &str) -> String {
    detect(text, Some(policy))
}

/// `text` with its PII replaced by typed placeholders.
#[pg_extern(stable, parallel_safe, strict, name = "redact_pii")]
fn redact_pii(text: &str) -> String {
    redact(text, None)
}

/// `text` with its PII replaced by `policy`'s operators. Stable, not immutable: the hash
/// operator reads its key from the server's environment.
#[pg_extern(stable, parallel_safe, strict, name = "redact_pii")]
fn redact_pii_with_policy(text: &str, policy: &str) -> String {
    redact(text, Some(policy))
}

fn detect(text: &str, policy: Option<&str>) -> String {
    convlytics_core::pii::detect_pii_text(text, policy).unwrap_or_else(|e| error!("detect_pii: {e}"))
}

fn redact(text: &str, policy: Option<&str>) -> String {
    convlytics_core::pii::redact_pii_text(text, policy).unwrap_or_else(|e| error!("redact_pii: {e}"))
}
