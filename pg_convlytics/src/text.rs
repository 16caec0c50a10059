//! Text arguments as bytes, checked as UTF-8 here: an element that is not (a `SQL_ASCII`
//! database stores any bytes) is an ERROR naming the function, the argument and the element,
//! raised on the backend's thread before any work starts. pgrx's own `&str` array elements are
//! read unchecked, and an invalid one took the backend down.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::datum::{Datum, UnboxDatum};
use pgrx::prelude::*;
use pgrx::{pg_sys, FromDatum, PgSqlErrorCode};

/// A `text` value (an argument or an array element) as the bytes PostgreSQL stores.
#[derive(Clone, Copy)]
pub(crate) struct Text<'a>(&'a [u8]);

/// A `text[]` argument.
pub(crate) type TextArray<'a> = Array<'a, Text<'a>>;

impl<'a> Text<'a> {
    /// The argument called `argument` of `function` as UTF-8, or an ERROR naming both.
    pub(crate) fn get(self, function: &str, argument: &str) -> &'a str {
        self.utf8(function, &|| format!("argument {argument}"))
    }

    /// The value as UTF-8, or an ERROR of `function` naming `what` (the argument, the element).
    fn utf8(self, function: &str, what: &dyn Fn() -> String) -> &'a str {
        match std::str::from_utf8(self.0) {
            Ok(text) => text,
            Err(e) => {
                let message = format!(
                    "{function}: {} is not valid UTF-8 (byte 0x{:02x} at offset {})",
                    what(),
                    self.0[e.valid_up_to()],
                    e.valid_up_to()
                );
                ereport!(
                    ERROR,
                    PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
                    message,
                    "convlytics reads text as UTF-8; in a SQL_ASCII database, store UTF-8 text or convert it with convert_from(bytes, 'LATIN1')"
                );
            }
        }
    }
}

/// The elements of `array`, the argument called `argument` of `function`, as UTF-8; NULL stays
/// `None`.
pub(crate) fn elements<'a>(function: &str, argument: &str, array: &'a TextArray<'_>) -> Vec<Option<&'a str>> {
    array
        .iter()
        .enumerate()
        .map(|(i, e)| e.map(|e| e.utf8(function, &|| format!("element {} of {argument}", i + 1))))
        .collect()
}

/// A list of turns (`roles` or `texts`) as UTF-8, a NULL element read as an empty string.
pub(crate) fn turns<'a>(function: &str, argument: &str, array: &'a TextArray<'_>) -> Vec<&'a str> {
    elements(function, argument, array).into_iter().map(Option::unwrap_or_default).collect()
}

impl<'a> FromDatum for Text<'a> {
    #[allow(unsafe_code)] // pgrx's own conversion of a varlena to its bytes
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, typoid: pg_sys::Oid) -> Option<Self> {
        // SAFETY: the caller's contract: `datum` is a `text` datum (or NULL).
        unsafe { <&'a [u8]>::from_polymorphic_datum(datum, is_null, typoid) }.map(Text)
    }
}

// SAFETY: a `text` array element is a varlena, read as its bytes for as long as the array lives.
#[allow(unsafe_code)] // pgrx's trait for reading array elements
unsafe impl UnboxDatum for Text<'_> {
    type As<'src>
        = Text<'src>
    where
        Self: 'src;

    unsafe fn unbox<'src>(datum: Datum<'src>) -> Text<'src>
    where
        Self: 'src,
    {
        // SAFETY: `datum` points at a varlena element inside the array, which outlives `'src`.
        Text(unsafe { pgrx::varlena_to_byte_slice(datum.sans_lifetime().cast_mut_ptr()) })
    }
}

// SAFETY: `Text` is read from a `text` argument through `FromDatum`, as pgrx reads `&[u8]`.
#[allow(unsafe_code)] // pgrx's trait for reading arguments
unsafe impl<'fcx> ArgAbi<'fcx> for Text<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        // SAFETY: the caller's contract: the argument is a non-NULL `text`.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| error!("argument {index} must not be null"))
    }
}

pgrx::impl_sql_translatable!(Text<'_>, "text");
