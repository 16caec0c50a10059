//! Core errors as PostgreSQL errors, each with the SQLSTATE a client can act on (a bad argument
//! is `invalid_parameter_value`, an unknown taxonomy `undefined_object`, a cancelled call
//! `query_canceled`), never the catch-all `XX000`.

use convlytics_core::{Error, ModelError, RecordsError};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

/// The SQLSTATE of `e`.
pub(crate) fn sqlstate(e: &Error) -> PgSqlErrorCode {
    use PgSqlErrorCode::*;
    match e {
        Error::UnknownValue { .. }
        | Error::Settings { .. }
        | Error::Taxonomy(_)
        | Error::Pattern { .. }
        | Error::TurnLists { .. }
        | Error::SentenceCount(_)
        | Error::InputFile { .. } => ERRCODE_INVALID_PARAMETER_VALUE,
        Error::SettingsJson { .. } | Error::Unreadable(_) => ERRCODE_INVALID_TEXT_REPRESENTATION,
        Error::UnknownTaxonomy { .. } => ERRCODE_UNDEFINED_OBJECT,
        Error::MissingKey { .. } | Error::ShortKey { .. } => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        Error::KeyNotPermitted { .. } => ERRCODE_INSUFFICIENT_PRIVILEGE,
        Error::Records(RecordsError::NoIdColumn { .. }) => ERRCODE_UNDEFINED_COLUMN,
        Error::Records(RecordsError::DuplicateColumn(_)) => ERRCODE_DUPLICATE_COLUMN,
        Error::Records(RecordsError::MissingId { .. }) => ERRCODE_NULL_VALUE_NOT_ALLOWED,
        Error::Records(RecordsError::DuplicateId(_)) => ERRCODE_UNIQUE_VIOLATION,
        Error::Records(_) => ERRCODE_INVALID_PARAMETER_VALUE,
        Error::Model(ModelError::Missing(_)) => ERRCODE_UNDEFINED_FILE,
        Error::Model(_) => ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        Error::Cancelled => ERRCODE_QUERY_CANCELED,
    }
}

/// Whether a cancel, a statement timeout or a terminate request is pending: what core's long
/// computations ask (see `convlytics_core::interrupt`), from any thread.
pub(crate) fn interrupt_pending() -> bool {
    // SAFETY: plain reads of the sig_atomic_t flags PostgreSQL's signal handlers set.
    #[allow(unsafe_code)] // reads of the signal flags PostgreSQL's handlers set
    unsafe {
        std::ptr::addr_of!(pg_sys::QueryCancelPending).read_volatile() != 0
            || std::ptr::addr_of!(pg_sys::ProcDiePending).read_volatile() != 0
    }
}

/// Whether the current user is a superuser, who may read server paths in messages.
pub(crate) fn is_superuser() -> bool {
    // SAFETY: a catalog lookup of the current user, on the backend's thread.
    #[allow(unsafe_code)] // calls into PostgreSQL's role check
    unsafe {
        pg_sys::superuser()
    }
}

/// What the embedding model's trouble is called for a user who may not read the server's
/// paths; the full reason goes to the server log.
pub(crate) const MODEL_UNAVAILABLE: &str =
    "the embedding model cannot be used on this server (the server log says why; an administrator can fix it)";

/// Raises `e` as an ERROR of `function`, with its SQLSTATE; the session goes on. A cancelled
/// computation is PostgreSQL's own cancel, timeout or terminate error. A model error names
/// server paths, so other users than superusers see [`MODEL_UNAVAILABLE`] instead.
pub(crate) fn raise(function: &str, e: Error) -> ! {
    if matches!(e, Error::Cancelled) {
        check_for_interrupts!();
    }
    let code = sqlstate(&e);
    if matches!(e, Error::Model(_)) && !is_superuser() {
        log!("{function}: {e}");
        ereport!(ERROR, code, format!("{function}: {MODEL_UNAVAILABLE}"));
    }
    ereport!(ERROR, code, format!("{function}: {e}"));
}

/// The value of `result`, or its error raised as an ERROR of `function`.
pub(crate) fn check<T>(function: &str, result: convlytics_core::Result<T>) -> T {
    result.unwrap_or_else(|e| raise(function, e))
}
