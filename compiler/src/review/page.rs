//! The review page: one self-contained HTML file (no network, no server) holding a sample's
//! items, where a reviewer picks a verdict, a correction and a note per item, keeps their work
//! in the browser's storage, and exports it as the same CSV `review import` reads.

use super::sample::Sample;
use super::FILE_COLUMNS;

/// The page for `sample`; `file_stem` names the exported CSV (`<stem>-reviewed.csv`).
pub fn html(sample: &Sample, file_stem: &str) -> String {
    let items: Vec<serde_json::Map<String, serde_json::Value>> = sample
        .rows
        .iter()
        .map(|row| FILE_COLUMNS.iter().zip(row).map(|(c, v)| ((*c).to_owned(), v.clone().into())).collect())
        .collect();
    let data = serde_json::json!({
        "sample_id": sample.sample_id,
        "field": sample.field.as_str(),
        "columns": FILE_COLUMNS,
        "labels": sample.labels,
        "items": items,
        "export_name": format!("{file_stem}-reviewed.csv"),
    });
    let json = crate::docs::script_json(&data);
    PAGE.replace("{{title}}", &format!("Review: {} labels, sample {}", sample.field.as_str(), sample.sample_id))
        .replace("{{data}}", &json)
}

/// The page, with `{{title}}` and `{{data}}` to fill.
const PAGE: &str = include_str!("page.html");
