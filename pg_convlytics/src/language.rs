//! `detect_language(text)`: an adapter over `convlytics_core::language`.

use pgrx::prelude::*;

/// The ISO 639-1 code of the text's language, or NULL when unsure.
#[pg_extern(immutable, parallel_safe, strict)]
fn detect_language(text: &str) -> Option<String> {
    convlytics_core::detect_language(text)
}
