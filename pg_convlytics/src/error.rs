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

/// Raises `e` as an ERROR of `function`, with its SQLSTATE; the session goes on.
pub(crate) fn raise(function: &str, e: Error) -> ! {
    let code = sqlstate(&e);
    ereport!(ERROR, code, format!("{function}: {e}"));
}

/// The value of `result`, or its error raised as an ERROR of `function`.
pub(crate) fn check<T>(function: &str, result: convlytics_core::Result<T>) -> T {
    result.unwrap_or_else(|e| raise(function, e))
}
