//! `convlytics review promote`: reviewed intent corrections become examples of the intent the
//! reviewers said was right, written into the taxonomy's YAML as a diff to read (and with
//! `--apply`, to write), never a silent edit. The new taxonomy version re-labels, on the next
//! incremental run, every conversation it labels differently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use convlytics_core::classify::Classifier;
use convlytics_core::taxonomy::{Taxonomy, UNKNOWN};

use super::{text_sha256, Field};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::render::{quote_ident, quote_literal};

/// Opening messages longer than this are not promoted: an example should be one utterance.
pub const MAX_EXAMPLE_CHARS: usize = 600;

/// What `promote` would change.
#[derive(Debug)]
pub struct Promotion {
    /// The taxonomy's file.
    pub file: PathBuf,
    /// Its text now.
    pub before: String,
    /// Its text with the new examples.
    pub after: String,
    /// The examples added: intent and text.
    pub added: Vec<(String, String)>,
    /// Corrections left out, and why.
    pub skipped: Vec<String>,
    /// The taxonomy's version now and with the examples.
    pub versions: (String, String),
}

impl Promotion {
    /// The change as a unified diff of the taxonomy file.
    pub fn diff(&self) -> String {
        let name = self.file.display().to_string();
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&name, &name)
            .to_string()
    }
}

/// The examples the reviews of `taxonomy` (in its `file`) teach, read from `label_reviews` and
/// the stored `conversation_intents` of `schema`.
pub async fn plan(engine: &Engine, schema: &str, file: &Path, taxonomy: &Taxonomy) -> Result<Promotion> {
    if engine.existing(super::SCHEMA, &[super::LABEL_REVIEWS]).await?.is_empty() {
        return Err(Error::Project(
            "review promote: no reviews yet (convlytics review sample, then review import)".into(),
        ));
    }
    let sql = format!(
        "select r.item_id, r.conversation_id, r.verdict, r.correct_label, r.reviewer, r.text_sha256, i.opening_text \
         from {reviews}.{table} r left join {schema}.conversation_intents i on i.conversation_id = r.conversation_id \
         where r.field = {field} and r.taxonomy = {name} order by r.item_id, r.reviewer",
        reviews = quote_ident(super::SCHEMA),
        table = quote_ident(super::LABEL_REVIEWS),
        schema = quote_ident(schema),
        field = quote_literal(Field::Intent.as_str()),
        name = quote_literal(&taxonomy.name),
    );
    let rows = engine.rows(&sql, "reading the reviewed intents").await?;
    let mut items: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for row in rows {
        let row: Vec<String> = row.into_iter().map(Option::unwrap_or_default).collect();
        items.entry(row[0].clone()).or_default().push(row);
    }
    let known: BTreeMap<&str, &str> =
        taxonomy.intents.iter().flat_map(|i| i.examples.iter().map(move |e| (e.trim(), i.name.as_str()))).collect();
    let mut skipped = Vec::new();
    let mut candidates: Vec<(String, String, String)> = Vec::new();
    for (item, reviews) in &items {
        let corrections: Vec<&Vec<String>> = reviews.iter().filter(|r| r[2] == "wrong" && !r[3].is_empty()).collect();
        let Some(first) = corrections.first() else { continue };
        let (conversation, intent, text) = (&first[1], &first[3], first[6].trim());
        let agreed = reviews.iter().all(|r| r[2] == "wrong" && r[3] == *intent);
        if !agreed {
            skipped.push(format!("item {item} (conversation {conversation}): its reviewers disagree"));
        } else if intent == UNKNOWN {
            skipped.push(format!(
                "item {item} (conversation {conversation}): no intent fits it (a new intent, not an example)"
            ));
        } else if taxonomy.intent(intent).is_none() {
            skipped.push(format!(
                "item {item} (conversation {conversation}): intent '{intent}' is no longer in the taxonomy"
            ));
        } else if first[6].is_empty() || text_sha256(&first[6]) != first[5] {
            skipped.push(format!("item {item} (conversation {conversation}): its text changed since it was reviewed"));
        } else if text.chars().count() > MAX_EXAMPLE_CHARS {
            skipped
                .push(format!("item {item} (conversation {conversation}): longer than {MAX_EXAMPLE_CHARS} characters"));
        } else if let Some(owner) = known.get(text) {
            skipped.push(format!("item {item} (conversation {conversation}): already an example of {owner}"));
        } else if !candidates.iter().any(|(_, _, t)| t == text) {
            candidates.push((item.clone(), intent.clone(), text.to_owned()));
        }
    }
    // An example only speaks where the rules are silent: a conversation a keyword decided keeps
    // that keyword's intent, so its correction is a rule change, not an example.
    let classifier =
        Classifier::new(taxonomy).map_err(|e| Error::Project(format!("taxonomy '{}': {e}", taxonomy.name)))?;
    let texts: Vec<Option<&str>> = candidates.iter().map(|(_, _, t)| Some(t.as_str())).collect();
    let now = classifier.explain(&texts).map_err(|e| Error::Project(format!("classifying the reviewed texts: {e}")))?;
    let mut added = Vec::new();
    for ((item, intent, text), explanation) in candidates.iter().zip(now) {
        let explanation = explanation.expect("a text");
        if explanation.method == "rule" && explanation.label != *intent {
            let rules: Vec<&str> =
                explanation.evidence.iter().filter(|e| e.label == explanation.label).map(|e| e.text.as_str()).collect();
            skipped.push(format!(
                "item {item}: the rule '{}' of {} decides it; an example cannot override a rule (edit the rule)",
                rules.join("', '"),
                explanation.label
            ));
        } else if explanation.label == *intent {
            skipped.push(format!("item {item}: the taxonomy already labels it {intent}"));
        } else {
            added.push((intent.clone(), text.clone()));
        }
    }
    let before = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let mut after = before.clone();
    for (intent, text) in &added {
        after = add_example(&after, &taxonomy.name, intent, text)
            .map_err(|message| Error::Input { path: file.to_path_buf(), message })?;
    }
    let new = convlytics_core::taxonomy::parse(&after)
        .map_err(|e| Error::taxonomy(file, e))?
        .into_iter()
        .find(|t| t.name == taxonomy.name)
        .ok_or_else(|| Error::Input {
            path: file.to_path_buf(),
            message: format!("taxonomy '{}' lost in the edit", taxonomy.name),
        })?;
    for (intent, text) in &added {
        let placed = new.intent(intent).is_some_and(|i| i.examples.iter().any(|e| e == text));
        if !placed {
            return Err(Error::Input {
                path: file.to_path_buf(),
                message: format!("could not place the example of {intent} in the YAML: add it by hand: {text:?}"),
            });
        }
    }
    Ok(Promotion {
        file: file.to_path_buf(),
        before,
        after,
        added,
        skipped,
        versions: (taxonomy.version(), new.version()),
    })
}

/// `yaml` with `example` appended to the `examples:` of `intent` in taxonomy `taxonomy`
/// (created after the intent's `name:` when it has none), the rest of the text as it was.
fn add_example(yaml: &str, taxonomy: &str, intent: &str, example: &str) -> std::result::Result<String, String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let named = |l: &str, name: &str| {
        let t = l.trim_start().trim_start_matches("- ").trim();
        t.strip_prefix("name:").is_some_and(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == name)
    };
    let start = lines.iter().position(|l| named(l, taxonomy)).ok_or(format!("taxonomy '{taxonomy}' not found"))?;
    let intents = (start..lines.len())
        .find(|&i| lines[i].trim() == "intents:")
        .ok_or(format!("taxonomy '{taxonomy}' has no block `intents:`"))?;
    let at = (intents + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with("- ") && named(lines[i], intent))
        .ok_or(format!("intent '{intent}' not found as `- name: {intent}`"))?;
    let dash = indent(lines[at]);
    let key = dash + 2;
    let end = (at + 1..lines.len())
        .find(|&i| !lines[i].trim().is_empty() && !lines[i].trim_start().starts_with('#') && indent(lines[i]) <= dash)
        .unwrap_or(lines.len());
    let quoted = serde_json::to_string(example).expect("a string serializes");
    let examples = (at + 1..end).find(|&i| indent(lines[i]) == key && lines[i].trim_start().starts_with("examples:"));
    let (insert, text) = match examples {
        Some(i) if lines[i].trim() != "examples:" => {
            return Err(format!("the examples of {intent} are not a block list (`examples:` then `- ...` lines)"))
        }
        Some(i) => {
            // The list runs on through its items (at the key's indent or deeper) and blank lines;
            // the example goes after its last item, before any blank line.
            let in_list = |l: &str| l.trim().is_empty() || indent(l) > key || l.trim_start().starts_with("- ");
            let last = (i + 1..end)
                .take_while(|&j| in_list(lines[j]))
                .filter(|&j| !lines[j].trim().is_empty())
                .last()
                .unwrap_or(i);
            let item = lines.get(i + 1).filter(|l| l.trim_start().starts_with("- ")).map_or(key + 2, |l| indent(l));
            (last + 1, format!("{}- {quoted}", " ".repeat(item)))
        }
        None => (at + 1, format!("{}examples:\n{}- {quoted}", " ".repeat(key), " ".repeat(key + 2))),
    };
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    out.insert(insert, text);
    let mut text = out.join("\n");
    if yaml.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::add_example;

    const YAML: &str = "version: 2\ntaxonomies:\n  - name: support\n    intents:\n      - name: a\n        examples:\n          - one\n          - two\n        keywords: [x]\n      - name: b\n        keywords: [y]\n";

    #[test]
    fn appends_to_the_examples_list() {
        let out = add_example(YAML, "support", "a", "it's \"three\"").unwrap();
        assert!(out.contains("          - two\n          - \"it's \\\"three\\\"\"\n        keywords: [x]"), "{out}");
    }

    #[test]
    fn goes_before_a_blank_line_after_the_list() {
        let spaced = YAML.replace("          - two\n", "          - two\n\n");
        let out = add_example(&spaced, "support", "a", "three").unwrap();
        assert!(out.contains("          - two\n          - \"three\"\n\n        keywords: [x]"), "{out}");
    }

    #[test]
    fn creates_the_list_when_missing() {
        let out = add_example(YAML, "support", "b", "new").unwrap();
        assert!(
            out.ends_with("      - name: b\n        examples:\n          - \"new\"\n        keywords: [y]\n"),
            "{out}"
        );
    }

    #[test]
    fn flow_lists_and_missing_intents_are_errors() {
        let flow =
            YAML.replace("        examples:\n          - one\n          - two\n", "        examples: [one, two]\n");
        assert!(add_example(&flow, "support", "a", "x").unwrap_err().contains("block list"));
        assert!(add_example(YAML, "support", "c", "x").unwrap_err().contains("intent 'c' not found"));
    }
}
