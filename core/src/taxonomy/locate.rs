//! Finding where in the YAML text a problem found after parsing lies: the first occurrence of
//! each locating text in turn, each searched after the previous one (taxonomy name, then label
//! name, then the key or value at fault).

use super::TaxonomyError;

/// The text being located in.
pub(super) struct Locator<'a> {
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self { text }
    }

    /// An error at the `nth` occurrence of the last of `needles`, each found after the one
    /// before; line 0 when a needle is not in the text.
    pub(super) fn error(&self, needles: &[impl AsRef<str>], nth: usize, message: String) -> TaxonomyError {
        let mut from = 0;
        let mut found = None;
        for (i, needle) in needles.iter().enumerate() {
            let needle = needle.as_ref();
            let count = if i + 1 == needles.len() { nth.max(1) } else { 1 };
            for _ in 0..count {
                match self.text[from..].find(needle) {
                    Some(at) => {
                        found = Some(from + at);
                        from += at + needle.len();
                    }
                    None => break,
                }
            }
        }
        let (line, column) = found.map_or((0, 0), |at| {
            let before = &self.text[..at];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
        });
        TaxonomyError { line, column, message }
    }
}
