//! `detect_pii` and `redact_pii`: adapters over `convlytics_core::pii`.
//!
//! `detect_pii` returns `jsonb` since 0.2.0; its entry points are new symbols (`*_json`), so a
//! database still on 0.1.0's `text` definitions never reads a `jsonb` result as text.

use pgrx::prelude::*;

use crate::error::check;
use crate::jsonb;

/// The PII spans found in `text` under the default policy.
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii_json(text: &str) -> pgrx::JsonB {
    detect(text, None)
}

/// The PII spans found in `text` under `policy` (JSON).
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii_with_policy_json(text: &str, policy: &str) -> pgrx::JsonB {
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

fn detect(text: &str, policy: Option<&str>) -> pgrx::JsonB {
    jsonb("detect_pii", check("detect_pii", convlytics_core::pii::detect_pii_text(text, policy)))
}

fn redact(text: &str, policy: Option<&str>) -> String {
    check("redact_pii", convlytics_core::pii::redact_pii_text(text, policy))
}
