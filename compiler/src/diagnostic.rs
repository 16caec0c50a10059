//! Located problems shown as rustc shows them: the message, the file, line and column, and the
//! source line with a caret under the column.

use std::path::Path;

use annotate_snippets::{Level, Renderer, Snippet};

/// `message` about `text` (the file at `path`) at the 1-based `line` and `column` (0: the whole
/// line), as plain text.
pub fn render(path: &Path, text: &str, line: usize, column: usize, message: &str) -> String {
    let origin = path.display().to_string();
    let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let line_text = text[line_start.min(text.len())..].lines().next().unwrap_or_default();
    let (start, end) = if column == 0 {
        let indent = line_text.len() - line_text.trim_start().len();
        (line_start + indent, line_start + line_text.len())
    } else {
        let at = line_text.char_indices().nth(column - 1).map_or(line_text.len(), |(i, _)| i);
        let width = line_text[at..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | ')' | '('))
            .map_or(line_text.len() - at, |(i, _)| i)
            .max(1);
        (line_start + at, line_start + (at + width).min(line_text.len()))
    };
    let end = end.max(start);
    let snippet =
        Snippet::source(text).line_start(1).origin(&origin).fold(true).annotation(Level::Error.span(start..end));
    let message = Level::Error.title(message).snippet(snippet);
    let shown = Renderer::plain().render(message).to_string();
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caret_under_the_column() {
        let text = "select a\nfrom raw.events\nwhere b";
        let shown = render(Path::new("models/m.sql"), text, 2, 6, "raw.events is read directly");
        insta::assert_snapshot!(shown, @"
        error: raw.events is read directly
         --> models/m.sql:2:6
          |
        2 | from raw.events
          |      ^^^^^^^^^^
          |
        ");
    }
}
