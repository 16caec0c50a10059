//! `detect_language(text)`: an adapter over `convlytics_core::language`.

use pgrx::prelude::*;

use crate::text::Text;

/// The ISO 639-1 code of the text's language, or NULL when unsure.
#[pg_extern(immutable, parallel_safe, strict)]
fn detect_language(text: Text<'_>) -> Option<String> {
    let text = text.get("detect_language", "text");
    convlytics_core::detect_language(text)
}
