//! `docs/functions/` agrees with the function catalogue: every function has a page whose heading
//! carries its usage exactly (`redact_pii(text [, policy])`), every page is named for a function
//! that exists, and a page says the volatility of each form it documents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use convlytics_core::catalog::{self, Function};

/// Each page of `docs/functions/` by file stem, with its text.
fn pages() -> BTreeMap<String, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/functions");
    let mut pages = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("docs/functions") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
            pages.insert(stem, std::fs::read_to_string(&path).expect("page"));
        }
    }
    pages
}

/// The headings of a page.
fn headings(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| l.starts_with('#'))
}

/// The page documenting `function`: the one with a heading that has its usage.
fn page_of<'p>(function: &Function, pages: &'p BTreeMap<String, String>) -> Option<(&'p String, &'p String)> {
    let usage = function.usage();
    pages.iter().find(|(_, text)| headings(text).any(|h| h.contains(&usage)))
}

#[test]
fn every_function_has_a_page_with_its_usage() {
    let pages = pages();
    let missing: Vec<String> =
        catalog::FUNCTIONS.iter().filter(|f| page_of(f, &pages).is_none()).map(Function::usage).collect();
    assert!(missing.is_empty(), "no page of docs/functions/ has a heading with: {missing:?}");
}

#[test]
fn every_page_is_a_function() {
    let unknown: Vec<String> = pages().into_keys().filter(|stem| catalog::function(stem).is_none()).collect();
    assert!(unknown.is_empty(), "docs/functions/ pages named for no function: {unknown:?}");
}

#[test]
fn every_page_says_the_volatility_of_its_functions() {
    let pages = pages();
    for function in catalog::FUNCTIONS {
        let Some((stem, text)) = page_of(function, &pages) else { continue };
        for form in function.forms() {
            let word = form.volatility().as_str().to_uppercase();
            assert!(text.contains(&word), "docs/functions/{stem}.md does not say {} is {word}", form.arguments());
        }
    }
}

#[test]
fn every_page_says_what_its_functions_keep_of_their_text() {
    let pages = pages();
    for function in catalog::FUNCTIONS {
        let Some((stem, text)) = page_of(function, &pages) else { continue };
        let row = text.lines().find(|l| l.starts_with("| data class |"));
        let flow = function.text.as_str();
        assert!(
            row.is_some_and(|r| r.contains(&format!("| data class | {flow}:"))),
            "docs/functions/{stem}.md has no `| data class | {flow}: ...` row for {}",
            function.name
        );
    }
}
