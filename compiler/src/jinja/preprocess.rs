//! Source rewrites that let minijinja run dbt's Jinja: `{% test name(...) %}` blocks become
//! macros named `test_name` (as dbt names them); a macro whose body reads `kwargs` gets a
//! `kwargs={}` parameter (the caller passes its undeclared keyword arguments there); and in a
//! template that changes a list or dict in place, list and dict literals become changeable
//! ([`super::collections`]). Newlines are kept, so line numbers in errors stay right.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

static TEST_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{%(-?)(\s*)test(\s+)([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex"));
static TEST_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{%(-?)(\s*)endtest\b").expect("valid regex"));
static MACRO_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{%-?\s*macro\s+[A-Za-z_][A-Za-z0-9_]*\s*\(").expect("valid regex"));
static MACRO_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{%-?\s*endmacro\b").expect("valid regex"));
static KWARGS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bkwargs\b").expect("valid regex"));
static MUTATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.(append|extend|insert|pop|remove|update|setdefault)\s*\(").expect("valid regex"));

/// The names of the macros (and generic tests, as `test_<name>`) a file defines, in order.
pub fn macro_names(text: &str) -> Vec<String> {
    static DEFINITION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\{%-?\s*(macro|test)\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex"));
    DEFINITION
        .captures_iter(text)
        .map(|c| if &c[1] == "test" { format!("test_{}", &c[2]) } else { c[2].to_owned() })
        .collect()
}

/// `text` rewritten for minijinja (borrowed when nothing needs rewriting).
pub fn preprocess(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if TEST_START.is_match(&out) {
        let renamed = TEST_START.replace_all(&out, "{%$1${2}macro${3}test_$4").into_owned();
        out = Cow::Owned(TEST_END.replace_all(&renamed, "{%$1${2}endmacro").into_owned());
    }
    if KWARGS.is_match(&out) {
        if let Some(with) = add_kwargs(&out) {
            out = Cow::Owned(with);
        }
    }
    if MUTATION.is_match(&out) {
        out = Cow::Owned(changeable_literals(&out));
    }
    out
}

/// Adds `kwargs={}` to the parameters of each macro whose body reads `kwargs` and does not
/// declare it; `None` when there is none.
fn add_kwargs(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = 0;
    let mut changed = false;
    for start in MACRO_START.find_iter(text) {
        if start.start() < rest {
            continue;
        }
        let open = start.end();
        let Some(close) = matching_paren(text, open) else { continue };
        let body_end = MACRO_END.find_at(text, close).map_or(text.len(), |m| m.start());
        let params = &text[open..close];
        if KWARGS.is_match(&text[close..body_end]) && !KWARGS.is_match(params) {
            out.push_str(&text[rest..close]);
            out.push_str(if params.trim().is_empty() { "kwargs={}" } else { ", kwargs={}" });
            rest = close;
            changed = true;
        }
    }
    changed.then(|| {
        out.push_str(&text[rest..]);
        out
    })
}

/// The index of the `)` closing the parenthesis opened just before `open`, skipping strings.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (1usize, open);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => i = skip_string(bytes, i),
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the closing quote of the string starting at `i` (or the last byte).
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() && bytes[j] != quote {
        if bytes[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    j.min(bytes.len().saturating_sub(1))
}

/// What came before a `[` inside a Jinja expression: whether it makes the `[` a list literal
/// (after an operator, an opening bracket, a comma or a keyword) or a subscript.
#[derive(Clone, Copy, PartialEq)]
enum Prev {
    Operand,
    Operator,
}

const KEYWORDS: [&str; 9] = ["in", "and", "or", "not", "if", "else", "is", "elif", "return"];

/// Rewrites list and dict literals inside `{{ }}` and `{% %}` as `__list([...])` and
/// `__dict({...})`.
fn changeable_literals(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    let mut copied = 0;
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"{#" => {
                i = text[i..].find("#}").map_or(bytes.len(), |e| i + e + 2);
            }
            b"{{" | b"{%" => {
                let close: &[u8] = if bytes[i + 1] == b'{' { b"}}" } else { b"%}" };
                out.push_str(&text[copied..i + 2]);
                let (end, rewritten) = expression(text, i + 2, close);
                out.push_str(&rewritten);
                i = end;
                copied = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Rewrites the inside of one block starting at `start` up to its `close` delimiter (not
/// inside brackets); gives where the rewritten part ends and its text.
fn expression(text: &str, start: usize, close: &[u8]) -> (usize, String) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut stack: Vec<u8> = Vec::new();
    let mut prev = Prev::Operator;
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if stack.is_empty() && bytes[i..].starts_with(close) {
            return (i, out);
        }
        match c {
            b'\'' | b'"' => {
                let end = skip_string(bytes, i);
                out.push_str(&text[i..=end]);
                i = end + 1;
                prev = Prev::Operand;
                continue;
            }
            b'[' | b'{' if c == b'{' || prev == Prev::Operator => {
                out.push_str(if c == b'[' { "__list([" } else { "__dict({" });
                stack.push(c + 100);
                prev = Prev::Operator;
            }
            b'[' | b'(' => {
                out.push(c as char);
                stack.push(c);
                prev = Prev::Operator;
            }
            b']' | b'}' | b')' => {
                match stack.pop() {
                    Some(open) if open > 100 => {
                        out.push(c as char);
                        out.push(')');
                    }
                    _ => out.push(c as char),
                }
                prev = Prev::Operand;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let end = (i..bytes.len())
                    .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
                    .unwrap_or(bytes.len());
                let word = &text[i..end];
                out.push_str(word);
                prev = if KEYWORDS.contains(&word) { Prev::Operator } else { Prev::Operand };
                i = end;
                continue;
            }
            c if c.is_ascii_whitespace() => out.push(c as char),
            b'.' => {
                out.push('.');
                prev = Prev::Operator;
            }
            _ => {
                let ch = text[i..].chars().next().expect("a character");
                out.push(ch);
                prev = Prev::Operator;
                i += ch.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    (bytes.len(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_become_macros_and_kwargs_a_parameter() {
        let text = "{% test positive(model, column_name) %}select 1{% endtest %}\n{%- macro m(a) -%}{{ kwargs.get('x') }}{%- endmacro %}";
        let out = preprocess(text);
        assert_eq!(
            out,
            "{% macro test_positive(model, column_name) %}select 1{% endmacro %}\n{%- macro m(a, kwargs={}) -%}{{ kwargs.get('x') }}{%- endmacro %}"
        );
        assert_eq!(macro_names(text), ["test_positive", "m"]);
    }

    #[test]
    fn literals_become_changeable_where_a_method_changes_one() {
        let text =
            "{% set cols = [] %}{% set d = {'a': [1, x[0]]} %}{% do cols.append(d['a'][1]) %}{{ cols }} {# [] #}";
        assert_eq!(
            preprocess(text),
            "{% set cols = __list([]) %}{% set d = __dict({'a': __list([1, x[0]])}) %}{% do cols.append(d['a'][1]) %}{{ cols }} {# [] #}"
        );
        let untouched = "{% set cols = ['a'] %}{{ cols | join(',') }}";
        assert!(matches!(preprocess(untouched), Cow::Borrowed(_)));
        assert_eq!(
            preprocess("{% for c in [1] %}{% do l.extend([c]) %}{% endfor %}"),
            "{% for c in __list([1]) %}{% do l.extend(__list([c])) %}{% endfor %}"
        );
    }
}
