//! `detect_pii` and `redact_pii`: adapters over `convlytics_core::pii`.
//!
//! `detect_pii` returns `jsonb` since 0.2.0; its entry points are new symbols (`*_json`), so a
//! database still on 0.1.0's `text` definitions never reads a `jsonb` result as text.
//!
//! The hash operator pseudonymises with a key from the server's environment. Two superuser-only
//! settings decide who may: `convlytics.pii_key_vars` lists the variables a policy may name (any
//! other is refused before the environment is read), and `convlytics.pii_hash_role` names the
//! role whose members (and superusers) may redact with the hash operator at all.

use std::ffi::{CStr, CString};

use convlytics_core::pii::{self, CompiledPolicy, DEFAULT_KEY_VARS};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::error::{check, is_superuser};
use crate::jsonb;
use crate::text::Text;

/// The role whose members may pseudonymise when `convlytics.pii_hash_role` is not set.
const DEFAULT_HASH_ROLE: &CStr = c"convlytics_pseudonymizer";

static KEY_VARS: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c"CONVLYTICS_PII_*"));
static HASH_ROLE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(DEFAULT_HASH_ROLE));

/// Declares `convlytics.pii_key_vars` and `convlytics.pii_hash_role`, and makes core read the
/// permitted key variables from the first.
pub(crate) fn define_settings() {
    GucRegistry::define_string_guc(
        c"convlytics.pii_key_vars",
        c"Environment variables a PII policy may name as its hash key (comma-separated; a trailing * matches any rest).",
        c"A policy naming any other variable is refused without the environment being read.",
        &KEY_VARS,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"convlytics.pii_hash_role",
        c"Role whose members may redact with the hash operator (superusers always may).",
        c"Pseudonyms can be recomputed for guessed values by anyone holding the key, so hashing is a privilege.",
        &HASH_ROLE,
        GucContext::Suset,
        GucFlags::default(),
    );
    pii::permit_key_vars(|| {
        KEY_VARS.get().map_or_else(|| DEFAULT_KEY_VARS.to_owned(), |v| v.to_string_lossy().into_owned())
    });
}

/// Raises an ERROR unless the current user may pseudonymise: a superuser, or a member of the
/// role `convlytics.pii_hash_role` names.
fn require_hash_privilege() {
    let role = HASH_ROLE.get().unwrap_or_else(|| DEFAULT_HASH_ROLE.to_owned());
    // SAFETY: catalog lookups of the current user and a role by name, on the backend's thread.
    #[allow(unsafe_code)] // calls into PostgreSQL's role checks
    let member = unsafe {
        let oid = pg_sys::get_role_oid(role.as_ptr(), true);
        oid != pg_sys::InvalidOid && pg_sys::has_privs_of_role(pg_sys::GetUserId(), oid)
    };
    if !(is_superuser() || member) {
        let role = role.to_string_lossy();
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            format!("redact_pii: the hash operator is only for members of role {role}"),
            format!(
                "an administrator grants it: GRANT {role} TO <your role> (convlytics.pii_hash_role names the role)"
            )
        );
    }
}

/// The PII spans found in `text` under the default policy.
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii_json(text: Text<'_>) -> pgrx::JsonB {
    let text = text.get("detect_pii", "text");
    detect(text, None)
}

/// The PII spans found in `text` under `policy` (JSON).
#[pg_extern(immutable, parallel_safe, strict, name = "detect_pii")]
fn detect_pii_with_policy_json(text: Text<'_>, policy: Text<'_>) -> pgrx::JsonB {
    let text = text.get("detect_pii", "text");
    let policy = policy.get("detect_pii", "policy");
    detect(text, Some(policy))
}

/// `text` with its PII replaced by typed placeholders.
#[pg_extern(stable, parallel_safe, strict, name = "redact_pii")]
fn redact_pii(text: Text<'_>) -> String {
    let text = text.get("redact_pii", "text");
    redact(text, None)
}

/// `text` with its PII replaced by `policy`'s operators. Stable, not immutable: the hash
/// operator reads its key from the server's environment.
#[pg_extern(stable, parallel_safe, strict, name = "redact_pii")]
fn redact_pii_with_policy(text: Text<'_>, policy: Text<'_>) -> String {
    let text = text.get("redact_pii", "text");
    let policy = policy.get("redact_pii", "policy");
    redact(text, Some(policy))
}

fn detect(text: &str, policy: Option<&str>) -> pgrx::JsonB {
    jsonb("detect_pii", check("detect_pii", pii::detect_pii_text(text, policy)))
}

fn redact(text: &str, policy: Option<&str>) -> String {
    const NAME: &str = "redact_pii";
    let policy = check(NAME, CompiledPolicy::cached(policy.unwrap_or_default()));
    if policy.hashes() {
        require_hash_privilege();
    }
    check(NAME, pii::redact(text, &policy))
}
