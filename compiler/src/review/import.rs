//! `convlytics review import FILE --reviewer NAME`: a filled review file into
//! `reviews.label_reviews`. Every row is checked first (its columns, field, verdict and labels
//! against the taxonomy, its item id and text against what was sampled and what the warehouse
//! holds now, duplicates in the file and reviews already imported); any problem is reported with
//! its row number and nothing is written. The rows go in with one append.

use std::collections::BTreeMap;
use std::path::Path;

use super::{item_id, text_sha256, Field, FILE_COLUMNS, LABEL_REVIEWS_COLUMNS, VERDICTS};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::render::{quote_ident, quote_literal};

/// The largest review file `import` reads: far above any sample a person reviews.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The problems an error lists (the rest are counted).
const MAX_LISTED: usize = 30;

/// What an import wrote.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported {
    /// Reviews appended.
    pub reviews: usize,
    /// Rows without a verdict, left for later.
    pub skipped: usize,
}

/// One checked row.
#[derive(Debug)]
struct Review {
    line: u64,
    values: BTreeMap<&'static str, String>,
    field: Field,
}

impl Review {
    fn get(&self, column: &str) -> &str {
        self.values.get(column).map_or("", String::as_str)
    }
}

/// Validates `file` and appends its verdicts, as `reviewer`, to `label_reviews`.
pub async fn import(
    engine: &mut Engine,
    project: &Project,
    schema: &str,
    file: &Path,
    reviewer: &str,
) -> Result<Imported> {
    let input = |message: String| Error::Input { path: file.to_path_buf(), message };
    if reviewer.trim().is_empty() {
        return Err(input("--reviewer needs a name".into()));
    }
    let size = std::fs::metadata(file).map_err(|e| Error::io(file, e))?.len();
    if size > MAX_FILE_BYTES {
        return Err(input(format!(
            "{size} bytes: a review file is at most {MAX_FILE_BYTES} bytes (split the sample with a smaller N)"
        )));
    }
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let file_sha256 = super::sha256(&bytes);
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| input(format!("not UTF-8 at byte {}: save the review file as UTF-8", e.valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (reviews, skipped, mut problems) = parse(text, project)?.map_err(input)?;
    problems.extend(check_warehouse(engine, schema, &reviews).await?);
    problems.extend(check_imported(engine, &reviews, reviewer).await?);
    if !problems.is_empty() {
        problems.sort_by_key(|(line, _)| *line);
        let mut lines: Vec<String> =
            problems.iter().take(MAX_LISTED).map(|(line, p)| format!("line {line}: {p}")).collect();
        if problems.len() > MAX_LISTED {
            lines.push(format!("... and {} more", problems.len() - MAX_LISTED));
        }
        return Err(input(format!("{} problem(s), nothing imported:\n  {}", problems.len(), lines.join("\n  "))));
    }
    if reviews.is_empty() {
        return Ok(Imported { reviews: 0, skipped });
    }
    let reviewed_at = crate::governance::audit::iso(chrono::Utc::now());
    let imported_by = crate::governance::audit::run_by();
    let source_file = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let rows: Vec<String> = reviews
        .iter()
        .map(|r| {
            let summary = r.field == Field::Summary;
            let correction = r.get("correct_label");
            let note = match (summary, correction.is_empty(), r.get("note")) {
                (true, false, "") => format!("suggested summary: {correction}"),
                (true, false, note) => format!("{note}\nsuggested summary: {correction}"),
                (_, _, note) => note.to_owned(),
            };
            let values = [
                super::short_hash(&[r.get("item_id"), reviewer, &file_sha256]),
                r.get("item_id").to_owned(),
                r.get("sample_id").to_owned(),
                r.get("conversation_id").to_owned(),
                r.get("field").to_owned(),
                // A summary is text, not a label: the item id stands for it.
                if summary { String::new() } else { r.get("label").to_owned() },
                r.get("verdict").to_owned(),
                if summary { String::new() } else { correction.to_owned() },
                note,
                r.get("text_sha256").to_owned(),
                reviewer.to_owned(),
                reviewed_at.clone(),
                imported_by.clone(),
                r.get("taxonomy").to_owned(),
                r.get("taxonomy_version").to_owned(),
                r.get("model_hash").to_owned(),
                r.get("run_id").to_owned(),
                r.get("design").to_owned(),
                r.get("stratum").to_owned(),
                r.get("stratum_size").to_owned(),
                r.get("strata").to_owned(),
                source_file.clone(),
                file_sha256.clone(),
            ];
            let literals: Vec<String> = values
                .iter()
                .map(|v| if v.is_empty() { "cast(null as varchar)".to_owned() } else { quote_literal(v) })
                .collect();
            format!("({})", literals.join(", "))
        })
        .collect();
    let names: Vec<&str> = LABEL_REVIEWS_COLUMNS.iter().map(|(n, _, _)| *n).collect();
    let select: Vec<String> =
        LABEL_REVIEWS_COLUMNS.iter().map(|(name, ty, _)| format!("cast(v.{name} as {ty}) as {name}")).collect();
    let sql = format!("select {} from (values {}) as v({})", select.join(", "), rows.join(",\n"), names.join(", "));
    engine.create_schema(super::SCHEMA).await?;
    engine.append(&super::relation(), LABEL_REVIEWS_COLUMNS, &sql).await?;
    Ok(Imported { reviews: reviews.len(), skipped })
}

/// Every row with a verdict, how many had none, and the problems of the rows (line, message);
/// an error when the file is not a review file at all.
#[allow(clippy::type_complexity)]
fn parse(
    text: &str,
    project: &Project,
) -> Result<std::result::Result<(Vec<Review>, usize, Vec<(u64, String)>), String>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Ok(Err(format!("not a CSV file: {e}"))),
    };
    let index: BTreeMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h.trim(), i)).collect();
    let missing: Vec<&str> = FILE_COLUMNS.iter().copied().filter(|c| !index.contains_key(c)).collect();
    if !missing.is_empty() {
        return Ok(Err(format!(
            "not a review file: missing column(s) {} (convlytics review sample writes them all)",
            missing.join(", ")
        )));
    }
    let mut reviews = Vec::new();
    let mut skipped = 0;
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(text, p.byte()));
                problems.push((line, format!("unreadable CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(text, p.byte()));
        let values: BTreeMap<&'static str, String> =
            FILE_COLUMNS.iter().map(|c| (*c, record.get(index[c]).unwrap_or_default().to_owned())).collect();
        let verdict = values["verdict"].trim().to_owned();
        if verdict.is_empty() {
            skipped += 1;
            continue;
        }
        let field = match Field::parse(&values["field"]) {
            Ok(f) => f,
            Err(e) => {
                problems.push((line, e));
                continue;
            }
        };
        let review = Review { line, field, values };
        for problem in check_row(&review, &verdict, project) {
            problems.push((line, problem));
        }
        match seen.get(review.get("item_id")) {
            Some(first) => problems.push((
                line,
                format!("item {} has a second verdict (the first is on line {first}): keep one", review.get("item_id")),
            )),
            None => {
                seen.insert(review.get("item_id").to_owned(), line);
            }
        }
        reviews.push(review);
    }
    Ok(Ok((reviews, skipped, problems)))
}

/// The line (from 1) of the record the csv crate places at byte `at` of `text`. After a CRLF
/// line end (which spreadsheets write) the crate places a record on the `\n` before it, and its
/// own line count is one short; counting the newlines up to and including `at` is right for both.
fn line_at(text: &str, at: u64) -> u64 {
    let end = (at as usize + 1).min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// What is wrong with one row on its own.
fn check_row(r: &Review, verdict: &str, project: &Project) -> Vec<String> {
    let mut problems = Vec::new();
    if !VERDICTS.contains(&verdict) {
        problems.push(format!("verdict '{verdict}' is not one of correct, wrong, unsure"));
    }
    let (conversation, label, version) = (r.get("conversation_id"), r.get("label"), r.get("taxonomy_version"));
    if item_id(conversation, r.field, label, version) != r.get("item_id") {
        problems.push(
            "item_id does not match its conversation_id, field, label and taxonomy_version: the row was edited \
             (only verdict, correct_label and note are the reviewer's)"
                .into(),
        );
    }
    if text_sha256(r.get("text")) != r.get("text_sha256") {
        problems.push("the text was edited (only verdict, correct_label and note are the reviewer's)".into());
    }
    for column in ["stratum_size", "strata"] {
        if r.get(column).parse::<u64>().is_err() {
            problems.push(format!("{column} '{}' is not a count", r.get(column)));
        }
    }
    let correction = r.get("correct_label").trim();
    match verdict {
        "correct" if !correction.is_empty() && correction != label => problems
            .push(format!("verdict correct with correct_label '{correction}': a correct label needs no correction")),
        "wrong" if r.field.is_categorical() && correction == label => {
            problems.push(format!("verdict wrong with correct_label '{correction}', the same label"))
        }
        _ => {}
    }
    let Some((_, taxonomy)) = project.taxonomies.get(r.get("taxonomy")) else {
        let names: Vec<&str> = project.taxonomies.keys().map(String::as_str).collect();
        problems.push(format!("unknown taxonomy '{}': the project has {}", r.get("taxonomy"), names.join(", ")));
        return problems;
    };
    let Some(labels) = r.field.labels(taxonomy) else { return problems };
    let unknown = |l: &str| !labels.iter().any(|k| k == l);
    // A label made under another version may name what this one no longer has.
    if version == taxonomy.version() && unknown(label) {
        problems.push(format!("unknown {} '{label}' in taxonomy '{}'", r.field.as_str(), taxonomy.name));
    }
    if !correction.is_empty() && unknown(correction) {
        problems.push(format!("unknown correct_label '{correction}': expected one of {}", labels.join(", ")));
    }
    problems
}

/// The rows whose conversation is gone from the warehouse or whose text changed since the sample.
async fn check_warehouse(engine: &Engine, schema: &str, reviews: &[Review]) -> Result<Vec<(u64, String)>> {
    let mut problems = Vec::new();
    let mut by_field: BTreeMap<Field, Vec<&Review>> = BTreeMap::new();
    for r in reviews {
        by_field.entry(r.field).or_default().push(r);
    }
    for (field, rows) in by_field {
        let ids: Vec<&str> = rows.iter().map(|r| r.get("conversation_id")).collect();
        let texts = super::texts(engine, schema, field, &ids).await?;
        for r in rows {
            match texts.get(r.get("conversation_id")) {
                None => problems.push((
                    r.line,
                    format!("conversation {} is not in {schema}.{}", r.get("conversation_id"), field.model()),
                )),
                Some(text) if text_sha256(text) != r.get("text_sha256") => problems.push((
                    r.line,
                    "the conversation's text in the warehouse changed since the sample was drawn (re-ingested or \
                     redacted by retention): draw a new sample"
                        .into(),
                )),
                Some(_) => {}
            }
        }
    }
    Ok(problems)
}

/// The rows whose item `reviewer` has already reviewed in an earlier import.
async fn check_imported(engine: &Engine, reviews: &[Review], reviewer: &str) -> Result<Vec<(u64, String)>> {
    if reviews.is_empty() || engine.existing(super::SCHEMA, &[super::LABEL_REVIEWS]).await?.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select item_id, reviewed_at, source_file from {}.{} where reviewer = {}",
        quote_ident(super::SCHEMA),
        quote_ident(super::LABEL_REVIEWS),
        quote_literal(reviewer)
    );
    let done: BTreeMap<String, (String, String)> = engine
        .rows(&sql, "reading earlier reviews")
        .await?
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].clone().unwrap_or_default();
            (text(0), (text(1), text(2)))
        })
        .collect();
    Ok(reviews
        .iter()
        .filter_map(|r| {
            done.get(r.get("item_id")).map(|(at, file)| {
                (r.line, format!("{reviewer} already reviewed item {} (imported {at} from {file})", r.get("item_id")))
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::line_at;

    #[test]
    fn lines_count_the_same_after_lf_and_crlf() {
        let lf = "a,b\n1,2\n\"x\ny\",3\n4,5\n";
        let crlf = lf.replace('\n', "\r\n");
        for text in [lf.to_owned(), crlf] {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let lines: Vec<u64> =
                reader.records().map(|r| line_at(&text, r.expect("row").position().expect("pos").byte())).collect();
            assert_eq!(lines, [2, 3, 5], "{text:?}");
        }
    }
}
