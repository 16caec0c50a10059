//! Mapping a position in rendered SQL back to the model file: the template's literal text is
//! found, in order, in the output; a position inside it maps to the same character of the
//! template, and a position in text a Jinja tag produced maps to that tag.

/// Literal stretches of a template matched in its output.
#[derive(Debug)]
pub struct SourceMap<'a> {
    template: &'a str,
    output: &'a str,
    /// `(output start, output end, template start)` of each literal stretch found.
    literals: Vec<(usize, usize, usize)>,
    /// `(output position, template start)` of each tag, at the output position it wrote at.
    tags: Vec<(usize, usize)>,
}

impl<'a> SourceMap<'a> {
    /// Matches `template`'s literal text in `output`.
    pub fn new(template: &'a str, output: &'a str) -> Self {
        let mut map = Self { template, output, literals: Vec::new(), tags: Vec::new() };
        let mut cursor = 0;
        let mut at = 0;
        while at < template.len() {
            let next_tag = ["{{", "{%", "{#"].iter().filter_map(|open| template[at..].find(open).map(|i| at + i)).min();
            let literal_end = next_tag.unwrap_or(template.len());
            let literal = &template[at..literal_end];
            let trimmed = literal.trim();
            if !trimmed.is_empty() {
                let start = at + (literal.len() - literal.trim_start().len());
                if let Some(found) = output[cursor..].find(trimmed) {
                    let out = cursor + found;
                    map.literals.push((out, out + trimmed.len(), start));
                    cursor = out + trimmed.len();
                }
            }
            let Some(tag) = next_tag else { break };
            map.tags.push((cursor, tag));
            let close = match &template[tag..tag + 2] {
                "{{" => "}}",
                "{%" => "%}",
                _ => "#}",
            };
            at = template[tag + 2..].find(close).map_or(template.len(), |i| tag + 2 + i + 2);
        }
        map
    }

    /// The 1-based line and column in the template of the 1-based `line` and `column` (in
    /// characters) of the output; `(0, 0)` when unknown.
    pub fn locate(&self, line: usize, column: usize) -> (usize, usize) {
        let Some(offset) = offset_of(self.output, line, column) else { return (0, 0) };
        let literal = self.literals.iter().find(|(start, end, _)| (*start..*end).contains(&offset));
        let source = match literal {
            Some((start, _, source)) => source + (offset - start),
            None => match self.tags.iter().rev().find(|(out, _)| *out <= offset) {
                Some((_, tag)) => *tag,
                None => return (0, 0),
            },
        };
        line_column(self.template, source)
    }
}

/// The byte offset of a 1-based line and character column, when inside `text`.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let start = if line == 1 { 0 } else { text.match_indices('\n').nth(line - 2)?.0 + 1 };
    let rest = &text[start..];
    let end = rest.find('\n').unwrap_or(rest.len());
    let within = rest[..end].char_indices().nth(column - 1).map_or(end, |(i, _)| i);
    Some(start + within)
}

/// The 1-based line and character column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_maps_to_itself_and_generated_text_to_its_tag() {
        let template =
            "{{ config(materialized='table') }}\nselect a,\n  {{ col }} as b\nfrom {{ ref('x') }} where oops";
        let output = "\nselect a,\n  some_long_expression as b\nfrom \"analytics\".\"x\" where oops";
        let map = SourceMap::new(template, output);
        assert_eq!(map.locate(2, 8), (2, 8));
        assert_eq!(map.locate(3, 5), (3, 3));
        assert_eq!(map.locate(4, 6), (4, 6));
        assert_eq!(map.locate(4, 30), (4, 29));
    }

    #[test]
    fn whitespace_control_and_loops_keep_later_text_right() {
        let template = "select\n{%- for c in cols %}\n  {{ c }},{% endfor %}\n  1 as one\nfrom t";
        let output = "select\n  a,\n  b,\n  1 as one\nfrom t";
        let map = SourceMap::new(template, output);
        assert_eq!(map.locate(5, 6), (5, 6));
        assert_eq!(map.locate(4, 3), (4, 3));
    }
}
