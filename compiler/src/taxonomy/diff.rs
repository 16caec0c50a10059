//! `convlytics taxonomy diff`: what a taxonomy change would do to the labels already in the
//! warehouse. Each stored opening message is labelled under both versions (labels stored under
//! the baseline version are reused, so the diff is against what a run would replace); the
//! report counts the changes, tabulates old -> new, shows examples, and says which reviewed
//! labels the change breaks or fixes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use convlytics_core::classify::Classifier;
use convlytics_core::taxonomy::Taxonomy;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::render::{quote_ident, quote_literal};
use crate::review::{self, text_sha256, Field};

/// The model whose stored openings and labels a diff reads.
pub const MODEL: &str = "conversation_intents";
/// Reviewed items listed in a report, per effect; the counts cover all of them.
pub const MAX_LISTED: usize = 50;
/// Characters of an example's text shown in a report.
pub const EXAMPLE_CHARS: usize = 200;

/// One version of a taxonomy and where it was read from.
#[derive(Debug, Clone)]
pub struct Version {
    /// The taxonomy.
    pub taxonomy: Taxonomy,
    /// Where it came from: a file, or `REV:path` of a git revision.
    pub origin: String,
}

/// A conversation's labels under both versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The conversation.
    pub conversation_id: String,
    /// Its redacted opening message.
    pub text: String,
    /// Its intent under the baseline.
    pub old_intent: String,
    /// Its intent under the candidate.
    pub new_intent: String,
    /// How the candidate decided it (`rule`, `semantic`, `none`).
    pub new_method: String,
    /// The candidate's confidence.
    pub new_confidence: f64,
    /// Its topics under the baseline.
    pub old_topics: BTreeSet<String>,
    /// Its topics under the candidate.
    pub new_topics: BTreeSet<String>,
}

impl Labelled {
    /// Whether its intent or its topics change.
    pub fn changes(&self) -> bool {
        self.old_intent != self.new_intent || self.old_topics != self.new_topics
    }
}

/// One imported verdict, as the diff reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The conversation reviewed.
    pub conversation_id: String,
    /// `intent` or `topic`.
    pub field: Field,
    /// The label the reviewer judged.
    pub label: String,
    /// `correct`, `wrong` or `unsure`.
    pub verdict: String,
    /// The reviewer's label when the verdict is `wrong` (may be empty).
    pub correct_label: String,
    /// The SHA-256 of the text the reviewer read.
    pub text_sha256: String,
}

/// How a change treats one reviewed label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Reviewers said the baseline's label was right; the candidate changes it.
    Breaks,
    /// Reviewers said the baseline's label was wrong; the candidate gives their label.
    Fixes,
}

/// A reviewed label the change breaks or fixes.
#[derive(Debug, Clone, PartialEq)]
pub struct Reviewed {
    /// The conversation.
    pub conversation_id: String,
    /// `intent` or `topic`.
    pub field: Field,
    /// What the reviewers said: the right intent, or `topic X` / `not topic X`.
    pub truth: String,
    /// The label under the baseline (for a topic: whether it is tagged).
    pub old: String,
    /// The label under the candidate.
    pub new: String,
    /// Breaks or fixes.
    pub effect: Effect,
}

/// What the reviews say about the change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewEffect {
    /// Conversations whose intent was reviewed (with a usable verdict).
    pub intents_reviewed: usize,
    /// (Conversation, topic) pairs reviewed.
    pub topics_reviewed: usize,
    /// Reviewed items left out because reviewers disagree.
    pub disputed: usize,
    /// Reviewed items left out because their text changed or is gone since the review.
    pub stale: usize,
    /// The reviewed labels the change breaks or fixes.
    pub items: Vec<Reviewed>,
}

impl ReviewEffect {
    /// How many `field` labels have `effect`.
    pub fn count(&self, field: Field, effect: Effect) -> usize {
        self.items.iter().filter(|i| i.field == field && i.effect == effect).count()
    }
}

/// A whole diff: both versions, every conversation's labels, and the reviews' verdict.
#[derive(Debug, Clone)]
pub struct Diff {
    /// The baseline.
    pub old: Version,
    /// The candidate.
    pub new: Version,
    /// The relation read.
    pub relation: String,
    /// Every stored conversation, by id.
    pub rows: Vec<Labelled>,
    /// How many baseline labels were reused from the warehouse (stored under its version).
    pub reused: usize,
    /// Stored conversations left out because their opening text is gone (retention).
    pub without_text: usize,
    /// What the reviews say.
    pub reviews: ReviewEffect,
}

/// The baseline of `name` in `file` at git revision `rev`.
pub fn at_revision(file: &Path, name: &str, rev: &str) -> Result<Version> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains(':') {
        return Err(Error::Project(format!(
            "taxonomy diff --rev {rev:?}: expected a git revision (a commit, branch or tag, e.g. HEAD or main~1)"
        )));
    }
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let spec = format!("{rev}:./{base}");
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &spec])
        .output()
        .map_err(|e| Error::Project(format!("taxonomy diff --rev: could not run git: {e}")))?;
    let origin = format!("{rev}:{}", file.display());
    if !out.status.success() {
        return Err(Error::Project(format!(
            "taxonomy diff --rev {rev}: git cannot show {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text =
        String::from_utf8(out.stdout).map_err(|_| Error::Project(format!("taxonomy diff: {origin} is not UTF-8")))?;
    named_in(&text, name, &origin)
}

/// The taxonomy `name` of the file `path` (a property file or a taxonomy on its own).
pub fn in_file(path: &Path, name: &str) -> Result<Version> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    named_in(&text, name, &path.display().to_string())
}

fn named_in(text: &str, name: &str, origin: &str) -> Result<Version> {
    let all = convlytics_core::taxonomy::parse(text).map_err(|e| Error::taxonomy(origin, e))?;
    let names: Vec<String> = all.iter().map(|t| t.name.clone()).collect();
    let taxonomy = all
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::Project(format!("{origin} has no taxonomy '{name}' (it has: {})", names.join(", "))))?;
    Ok(Version { taxonomy, origin: origin.to_owned() })
}

/// Labels every conversation stored in `schema`'s `conversation_intents` under `old` and `new`,
/// and weighs the reviews of `reviews.label_reviews` against both.
pub async fn diff(engine: &Engine, schema: &str, old: Version, new: Version) -> Result<Diff> {
    if old.taxonomy.name != new.taxonomy.name {
        return Err(Error::Project(format!(
            "taxonomy diff: the baseline is '{}' and the candidate '{}'",
            old.taxonomy.name, new.taxonomy.name
        )));
    }
    if engine.existing(schema, &[MODEL]).await?.is_empty() {
        return Err(Error::Project(format!(
            "taxonomy diff: {schema}.{MODEL} is not built yet (convlytics run): the diff labels its stored openings"
        )));
    }
    let relation = format!("{schema}.{MODEL}");
    let sql = format!(
        "select conversation_id, opening_text, intent, topics, taxonomy_version from {}.{} order by conversation_id",
        quote_ident(schema),
        quote_ident(MODEL)
    );
    let all = engine.rows(&sql, "reading the stored intents").await?;
    let total = all.len();
    // A conversation whose opening retention has removed cannot be labelled again: left out.
    let stored: Vec<Stored> = all
        .into_iter()
        .filter(|r| r[1].is_some())
        .map(|r| {
            let mut r = r.into_iter().map(Option::unwrap_or_default);
            let mut next = || r.next().unwrap_or_default();
            Stored { id: next(), text: next(), intent: next(), topics: split_topics(&next()), version: next() }
        })
        .collect();
    let without_text = total - stored.len();
    let verdicts = verdicts(engine, &old.taxonomy.name).await?;
    let (rows, reused) = label(&stored, &old.taxonomy, &new.taxonomy)?;
    let reviews = weigh(&rows, &verdicts);
    Ok(Diff { old, new, relation, rows, reused, without_text, reviews })
}

/// One row of `conversation_intents` as stored.
struct Stored {
    id: String,
    text: String,
    intent: String,
    topics: BTreeSet<String>,
    version: String,
}

fn split_topics(text: &str) -> BTreeSet<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

async fn verdicts(engine: &Engine, taxonomy: &str) -> Result<Vec<Verdict>> {
    if engine.existing(review::SCHEMA, &[review::LABEL_REVIEWS]).await?.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select conversation_id, field, label, verdict, correct_label, text_sha256 from {}.{} \
         where taxonomy = {} and field in ({}, {}) order by review_id",
        quote_ident(review::SCHEMA),
        quote_ident(review::LABEL_REVIEWS),
        quote_literal(taxonomy),
        quote_literal(Field::Intent.as_str()),
        quote_literal(Field::Topic.as_str()),
    );
    let rows = engine.rows(&sql, "reading the reviews").await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let r: Vec<String> = r.into_iter().map(Option::unwrap_or_default).collect();
            Some(Verdict {
                field: Field::parse(&r[1]).ok()?,
                conversation_id: r[0].clone(),
                label: r[2].clone(),
                verdict: r[3].clone(),
                correct_label: r[4].clone(),
                text_sha256: r[5].clone(),
            })
        })
        .collect())
}

/// Texts classified per call, so the progress bar moves.
const CHUNK: usize = 256;

/// Each stored row under both versions; the baseline reuses the stored labels of rows stored
/// under its version. Also returns how many it reused.
fn label(stored: &[Stored], old: &Taxonomy, new: &Taxonomy) -> Result<(Vec<Labelled>, usize)> {
    let classifier = |t: &Taxonomy| {
        Classifier::new(t).map_err(|e| Error::Project(format!("taxonomy '{}' ({}): {e}", t.name, t.version())))
    };
    let old_version = old.version();
    let again: Vec<&str> = stored.iter().filter(|s| s.version != old_version).map(|s| s.text.as_str()).collect();
    let reused = stored.len() - again.len();
    let old_labels = if again.is_empty() { Vec::new() } else { classify(&classifier(old)?, &again)? };
    let texts: Vec<&str> = stored.iter().map(|s| s.text.as_str()).collect();
    let new_labels = classify(&classifier(new)?, &texts)?;
    let mut old_labels = old_labels.into_iter();
    let rows = stored
        .iter()
        .zip(new_labels)
        .map(|(s, (new, new_topics))| {
            let (old_intent, old_topics) = if s.version == old_version {
                (s.intent.clone(), s.topics.clone())
            } else {
                let (e, topics) = old_labels.next().expect("one baseline label per row stored under another version");
                (e.label, topics)
            };
            Labelled {
                conversation_id: s.id.clone(),
                text: s.text.clone(),
                old_intent,
                new_intent: new.label,
                new_method: new.method.to_owned(),
                new_confidence: new.confidence,
                old_topics,
                new_topics,
            }
        })
        .collect();
    Ok((rows, reused))
}

/// The intent explanation and topics of each text, with a progress bar on a terminal.
fn classify(
    classifier: &Classifier,
    texts: &[&str],
) -> Result<Vec<(convlytics_core::classify::Explanation, BTreeSet<String>)>> {
    let bar = crate::eval::progress_bar(texts.len(), &format!("labelling under {}", classifier.version()));
    let mut out = Vec::with_capacity(texts.len());
    let failed = |e: convlytics_core::Error| Error::Project(format!("taxonomy diff: labelling: {e}"));
    for chunk in texts.chunks(CHUNK) {
        let some: Vec<Option<&str>> = chunk.iter().map(|t| Some(*t)).collect();
        let intents = classifier.explain(&some).map_err(failed)?;
        let topics = classifier.topics(&some).map_err(failed)?;
        for (intent, topics) in intents.into_iter().zip(topics) {
            let intent = intent.expect("a text has an explanation");
            out.push((intent, topics.unwrap_or_default().into_iter().collect()));
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// What the verdicts say about the labels of `rows`: per reviewed conversation intent and
/// (conversation, topic) pair, whether the change breaks a label reviewers called right or
/// gives the label they said was right where the baseline's was wrong. Items whose text changed
/// since the review, or whose reviewers disagree, are left out and counted.
fn weigh(rows: &[Labelled], verdicts: &[Verdict]) -> ReviewEffect {
    let by_id: BTreeMap<&str, &Labelled> = rows.iter().map(|r| (r.conversation_id.as_str(), r)).collect();
    // What the reviewers know: the right intent of a conversation (or intents it is not), and
    // whether a topic applies.
    let mut intents: BTreeMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    let mut topics: BTreeMap<(&str, &str), BTreeSet<bool>> = BTreeMap::new();
    let mut stale = BTreeSet::new();
    for v in verdicts {
        let id = v.conversation_id.as_str();
        if v.verdict == "unsure" {
            continue;
        }
        if by_id.get(id).is_none_or(|r| text_sha256(&r.text) != v.text_sha256) {
            stale.insert((id, v.field.as_str(), v.label.as_str()));
            continue;
        }
        let correction = (!v.correct_label.is_empty()).then_some(v.correct_label.as_str());
        match (v.field, v.verdict.as_str()) {
            (Field::Intent, "correct") => {
                intents.entry(id).or_default().0.insert(&v.label);
            }
            (Field::Intent, _) => {
                let known = intents.entry(id).or_default();
                known.1.insert(&v.label);
                known.0.extend(correction);
            }
            (Field::Topic, verdict) => {
                topics.entry((id, &v.label)).or_default().insert(verdict == "correct");
                if let Some(other) = correction {
                    topics.entry((id, other)).or_default().insert(true);
                }
            }
            _ => {}
        }
    }
    let mut effect = ReviewEffect { stale: stale.len(), ..ReviewEffect::default() };
    for (id, (right, not)) in &intents {
        let truth = match right.iter().collect::<Vec<_>>().as_slice() {
            [one] if !not.contains(**one) => Some(**one),
            [] => None,
            _ => {
                effect.disputed += 1;
                continue;
            }
        };
        effect.intents_reviewed += 1;
        let row = by_id[id];
        let judge = |label: &str| match truth {
            Some(t) => Some(label == t),
            None => not.contains(label).then_some(false),
        };
        let (old, new) = (judge(&row.old_intent), judge(&row.new_intent));
        let effect_of = match (old, new) {
            (Some(true), Some(false)) => Some(Effect::Breaks),
            (Some(false), Some(true)) => Some(Effect::Fixes),
            _ => None,
        };
        if let Some(e) = effect_of {
            effect.items.push(Reviewed {
                conversation_id: (*id).to_owned(),
                field: Field::Intent,
                truth: truth.unwrap_or_default().to_owned(),
                old: row.old_intent.clone(),
                new: row.new_intent.clone(),
                effect: e,
            });
        }
    }
    for ((id, topic), holds) in &topics {
        let [holds] = holds.iter().copied().collect::<Vec<_>>()[..] else {
            effect.disputed += 1;
            continue;
        };
        effect.topics_reviewed += 1;
        let row = by_id[id];
        let tagged = |set: &BTreeSet<String>| set.contains(*topic);
        let (old, new) = (tagged(&row.old_topics) == holds, tagged(&row.new_topics) == holds);
        if old != new {
            let mark = |t: bool| if t { format!("tagged {topic}") } else { format!("not tagged {topic}") };
            effect.items.push(Reviewed {
                conversation_id: (*id).to_owned(),
                field: Field::Topic,
                truth: if holds { format!("topic {topic}") } else { format!("not topic {topic}") },
                old: mark(tagged(&row.old_topics)),
                new: mark(tagged(&row.new_topics)),
                effect: if old { Effect::Breaks } else { Effect::Fixes },
            });
        }
    }
    effect
        .items
        .sort_by(|a, b| (a.effect, &a.conversation_id, &a.truth).cmp(&(b.effect, &b.conversation_id, &b.truth)));
    effect
}

/// The first lines of every report: what `approve` and the compile's approval check read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The taxonomy.
    pub taxonomy: String,
    /// The baseline's version.
    pub from: String,
    /// The candidate's version.
    pub to: String,
}

/// The header of a report written by [`Diff::report`], if `text` is one.
pub fn header(text: &str) -> Option<Header> {
    let field = |key: &str| {
        text.lines().take(12).find_map(|l| {
            let rest = l.strip_prefix(&format!("| {key} | "))?;
            Some(rest.split([' ', '|']).next().unwrap_or_default().trim_matches('`').to_owned())
        })
    };
    Some(Header { taxonomy: field("taxonomy")?, from: field("from")?, to: field("to")? })
}

impl Diff {
    /// The conversations whose intent or topics change.
    pub fn changed(&self) -> impl Iterator<Item = &Labelled> {
        self.rows.iter().filter(|r| r.changes())
    }

    /// How many conversations change intent.
    pub fn intent_changes(&self) -> usize {
        self.rows.iter().filter(|r| r.old_intent != r.new_intent).count()
    }

    /// (old, new) intent -> conversations, for every pair (changed or not).
    fn matrix(&self) -> BTreeMap<(&str, &str), usize> {
        let mut m = BTreeMap::new();
        for r in &self.rows {
            *m.entry((r.old_intent.as_str(), r.new_intent.as_str())).or_insert(0) += 1;
        }
        m
    }

    /// One summary line per fact, for the terminal.
    pub fn summary(&self) -> String {
        let n = self.rows.len();
        let topics = self.rows.iter().filter(|r| r.old_topics != r.new_topics).count();
        let mut out = format!(
            "Taxonomy '{}' {} -> {} on {} conversations of {}: {} change intent ({}), {} change topics\n",
            self.new.taxonomy.name,
            self.old.taxonomy.version(),
            self.new.taxonomy.version(),
            n,
            self.relation,
            self.intent_changes(),
            percent(self.intent_changes(), n),
            topics
        );
        let mut pairs: Vec<((&str, &str), usize)> = self.matrix().into_iter().filter(|((a, b), _)| a != b).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for ((a, b), count) in pairs {
            let _ = writeln!(out, "  {a} -> {b}: {count}");
        }
        if self.without_text > 0 {
            let _ = writeln!(
                out,
                "  ({} conversations without their opening text (retention) left out)",
                self.without_text
            );
        }
        let r = &self.reviews;
        let _ = writeln!(
            out,
            "Reviewed: {} intents and {} topics; the change breaks {} reviewed-correct labels and fixes {} reviewed-wrong ones",
            r.intents_reviewed,
            r.topics_reviewed,
            r.items.iter().filter(|i| i.effect == Effect::Breaks).count(),
            r.items.iter().filter(|i| i.effect == Effect::Fixes).count(),
        );
        out
    }

    /// The report as Markdown, with up to `examples` conversations per change. The same
    /// versions and warehouse give the same bytes, so its hash can be approved.
    pub fn report(&self, examples: usize) -> String {
        let n = self.rows.len();
        let (old, new) = (&self.old, &self.new);
        let mut out = format!("# Taxonomy diff: {}\n\n| | |\n|---|---|\n", new.taxonomy.name);
        let _ = writeln!(out, "| taxonomy | {} |", new.taxonomy.name);
        let _ = writeln!(out, "| from | `{}` ({}) |", old.taxonomy.version(), old.origin);
        let _ = writeln!(out, "| to | `{}` ({}) |", new.taxonomy.version(), new.origin);
        let _ = writeln!(
            out,
            "| data | {}: {n} conversations ({} baseline labels as stored; {} without their text, left out) |",
            self.relation, self.reused, self.without_text
        );
        let _ = writeln!(out, "\n## Intents\n");
        let changed = self.intent_changes();
        let _ = writeln!(out, "{changed} of {n} conversations ({}) change intent.\n", percent(changed, n));
        let matrix = self.matrix();
        let mut pairs: Vec<((&str, &str), usize)> =
            matrix.iter().filter(|((a, b), _)| a != b).map(|(k, v)| (*k, *v)).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if !pairs.is_empty() {
            out += "| from | to | conversations |\n|---|---|---:|\n";
            for ((a, b), count) in &pairs {
                let _ = writeln!(out, "| {a} | {b} | {count} |");
            }
            let labels: BTreeSet<&str> = pairs.iter().flat_map(|((a, b), _)| [*a, *b]).collect();
            out += "\n### Old -> new matrix\n\nRows are the baseline's intent, columns the candidate's, for the intents a change \
                    touches; the diagonal is the conversations that keep their intent.\n\n| from \\ to |";
            for l in &labels {
                let _ = write!(out, " {l} |");
            }
            out += "\n|---|";
            out += &"---:|".repeat(labels.len());
            out += "\n";
            for a in &labels {
                let _ = write!(out, "| {a} |");
                for b in &labels {
                    match matrix.get(&(*a, *b)) {
                        Some(c) => {
                            let _ = write!(out, " {c} |");
                        }
                        None => out += " |",
                    }
                }
                out += "\n";
            }
            if examples > 0 {
                out += "\n### Examples\n";
                for ((a, b), _) in &pairs {
                    let _ = writeln!(out, "\n{a} -> {b}:\n");
                    let cases = self.rows.iter().filter(|r| r.old_intent == *a && r.new_intent == *b);
                    for r in cases.take(examples) {
                        let _ = writeln!(
                            out,
                            "- `{}` ({} {:.2}): {}",
                            r.conversation_id,
                            r.new_method,
                            r.new_confidence,
                            excerpt(&r.text)
                        );
                    }
                }
            }
        }
        let _ = writeln!(out, "\n## Topics\n");
        let mut topics: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in &self.rows {
            for t in r.new_topics.difference(&r.old_topics) {
                topics.entry(t).or_default().0 += 1;
            }
            for t in r.old_topics.difference(&r.new_topics) {
                topics.entry(t).or_default().1 += 1;
            }
        }
        let changed = self.rows.iter().filter(|r| r.old_topics != r.new_topics).count();
        let _ = writeln!(out, "{changed} of {n} conversations ({}) change topics.", percent(changed, n));
        if !topics.is_empty() {
            out += "\n| topic | tagged | untagged |\n|---|---:|---:|\n";
            for (t, (gained, lost)) in &topics {
                let _ = writeln!(out, "| {t} | {gained} | {lost} |");
            }
        }
        let r = &self.reviews;
        let _ = writeln!(out, "\n## Reviewed labels\n");
        let _ = writeln!(
            out,
            "{} reviewed intents and {} reviewed topics (left out: {} whose reviewers disagree, {} whose text changed or is gone since the review).\n",
            r.intents_reviewed, r.topics_reviewed, r.disputed, r.stale
        );
        out += "| | breaks (reviewed correct, changed) | fixes (reviewed wrong, now the reviewers' label) |\n|---|---:|---:|\n";
        for field in [Field::Intent, Field::Topic] {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                field.as_str(),
                r.count(field, Effect::Breaks),
                r.count(field, Effect::Fixes)
            );
        }
        for (effect, title) in [(Effect::Breaks, "Breaks"), (Effect::Fixes, "Fixes")] {
            let items: Vec<&Reviewed> = r.items.iter().filter(|i| i.effect == effect).collect();
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n### {title}\n\n| conversation | field | reviewers | from | to |\n|---|---|---|---|---|"
            );
            for i in items.iter().take(MAX_LISTED) {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    i.conversation_id,
                    i.field.as_str(),
                    i.truth,
                    i.old,
                    i.new
                );
            }
            if items.len() > MAX_LISTED {
                let _ = writeln!(out, "\n... and {} more", items.len() - MAX_LISTED);
            }
        }
        out
    }

    /// Every conversation whose intent or topics change, as CSV, to `path`.
    pub fn write_changes(&self, path: &Path) -> Result<()> {
        let failed = |e: csv::Error| Error::Input { path: path.to_path_buf(), message: e.to_string() };
        let mut w = csv::Writer::from_path(path).map_err(failed)?;
        w.write_record([
            "conversation_id",
            "old_intent",
            "new_intent",
            "new_method",
            "new_confidence",
            "old_topics",
            "new_topics",
            "text",
        ])
        .map_err(failed)?;
        let join = |s: &BTreeSet<String>| s.iter().map(String::as_str).collect::<Vec<_>>().join(",");
        for r in self.changed() {
            w.write_record([
                r.conversation_id.as_str(),
                &r.old_intent,
                &r.new_intent,
                &r.new_method,
                &format!("{:.4}", r.new_confidence),
                &join(&r.old_topics),
                &join(&r.new_topics),
                &r.text,
            ])
            .map_err(failed)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    }
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

/// The text on one line, cut to [`EXAMPLE_CHARS`] characters, with what Markdown would read
/// as markup (a placeholder like `<EMAIL>` as an HTML tag, `**` as emphasis) escaped.
fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = match flat.char_indices().nth(EXAMPLE_CHARS) {
        Some((at, _)) => format!("{}...", &flat[..at]),
        None => flat,
    };
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        if "\\<>[]`*_|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, old: &str, new: &str, old_topics: &[&str], new_topics: &[&str]) -> Labelled {
        Labelled {
            conversation_id: id.into(),
            text: format!("text of {id}"),
            old_intent: old.into(),
            new_intent: new.into(),
            new_method: "rule".into(),
            new_confidence: 1.0,
            old_topics: old_topics.iter().map(|t| (*t).to_owned()).collect(),
            new_topics: new_topics.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn verdict(id: &str, field: Field, label: &str, verdict: &str, correct: &str) -> Verdict {
        Verdict {
            conversation_id: id.into(),
            field,
            label: label.into(),
            verdict: verdict.into(),
            correct_label: correct.into(),
            text_sha256: text_sha256(&format!("text of {id}")),
        }
    }

    #[test]
    fn reviews_count_what_a_change_breaks_and_fixes() {
        let rows = [
            row("a", "billing", "refund", &[], &[]),
            row("b", "billing", "refund", &[], &[]),
            row("c", "unknown", "refund", &[], &[]),
            row("d", "refund", "refund", &["payment"], &[]),
            row("e", "billing", "refund", &[], &[]),
        ];
        let verdicts = [
            verdict("a", Field::Intent, "billing", "correct", ""),
            verdict("b", Field::Intent, "billing", "wrong", "refund"),
            verdict("c", Field::Intent, "unknown", "wrong", ""),
            verdict("d", Field::Topic, "payment", "wrong", ""),
            verdict("e", Field::Intent, "billing", "unsure", ""),
        ];
        let effect = weigh(&rows, &verdicts);
        assert_eq!((effect.intents_reviewed, effect.topics_reviewed, effect.disputed, effect.stale), (3, 1, 0, 0));
        let summary: Vec<(&str, Field, Effect)> =
            effect.items.iter().map(|i| (i.conversation_id.as_str(), i.field, i.effect)).collect();
        // c: reviewers said only that `unknown` is wrong, not what is right: no fix counted.
        assert_eq!(
            summary,
            [
                ("a", Field::Intent, Effect::Breaks),
                ("b", Field::Intent, Effect::Fixes),
                ("d", Field::Topic, Effect::Fixes)
            ]
        );
    }

    #[test]
    fn a_revision_that_git_would_read_as_an_option_is_refused() {
        for rev in ["--output=/tmp/x", "", "HEAD:other.yml"] {
            let err = at_revision(Path::new("t.yml"), "t", rev).unwrap_err().to_string();
            assert!(err.contains("expected a git revision"), "{rev}: {err}");
        }
    }

    #[test]
    fn disagreeing_reviewers_and_changed_texts_are_left_out() {
        let rows = [row("a", "billing", "refund", &[], &[]), row("b", "billing", "refund", &[], &[])];
        let mut stale = verdict("b", Field::Intent, "billing", "correct", "");
        stale.text_sha256 = text_sha256("another text");
        let verdicts = [
            verdict("a", Field::Intent, "billing", "correct", ""),
            verdict("a", Field::Intent, "billing", "wrong", "refund"),
            stale,
        ];
        let effect = weigh(&rows, &verdicts);
        assert_eq!((effect.intents_reviewed, effect.disputed, effect.stale), (0, 1, 1));
        assert!(effect.items.is_empty());
    }

    #[test]
    fn the_report_counts_tabulates_and_reads_back() {
        let taxonomy =
            convlytics_core::taxonomy::parse_one("name: t\nintents:\n  - name: billing\n    keywords: [invoice]\n")
                .expect("taxonomy");
        let version = |origin: &str| Version { taxonomy: taxonomy.clone(), origin: origin.into() };
        let mut rows = vec![
            row("a", "billing", "refund", &[], &["payment"]),
            row("b", "billing", "billing", &[], &[]),
            row("c", "unknown", "refund", &[], &[]),
        ];
        rows[2].text = "my <ORDER_ID> **** 42".into();
        let reviews = weigh(&rows, &[verdict("a", Field::Intent, "billing", "correct", "")]);
        let diff = Diff {
            old: version("HEAD:t.yml"),
            new: version("t.yml"),
            relation: "analytics.conversation_intents".into(),
            rows,
            reused: 3,
            without_text: 1,
            reviews,
        };
        let report = diff.report(1);
        let v = taxonomy.version();
        assert_eq!(header(&report), Some(Header { taxonomy: "t".into(), from: v.clone(), to: v }));
        assert_eq!(header("# a note\n"), None);
        insta::assert_snapshot!("report", report.replace(&taxonomy.version(), "VERSION"));
    }
}
