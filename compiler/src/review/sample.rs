//! `convlytics review sample`: which labels people review. The population is every label of one
//! field in the stored model (within a date range); the draw is deterministic (items ordered by
//! a hash of the seed and their id), per label (`--per-label N`: up to N of each, every label a
//! stratum), uniform (`--uniform N`) or the least confident first (`--low-confidence N`). Each
//! item records its design, stratum and the stratum's size, so `mart_label_quality` can weigh
//! reviews back to the population (recall) where the design allows it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{item_id, text_sha256, Field, FILE_COLUMNS};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::render::{quote_ident, quote_literal};

/// How the sample is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// Up to this many of each label (each label a stratum).
    PerLabel(usize),
    /// This many, every label alike.
    Uniform(usize),
    /// The least confident this many.
    LowConfidence(usize),
}

impl Design {
    /// Its name in review files and `label_reviews`.
    pub fn as_str(self) -> &'static str {
        match self {
            Design::PerLabel(_) => "per_label",
            Design::Uniform(_) => "uniform",
            Design::LowConfidence(_) => "low_confidence",
        }
    }

    fn size(self) -> usize {
        match self {
            Design::PerLabel(n) | Design::Uniform(n) | Design::LowConfidence(n) => n,
        }
    }
}

/// What `review sample` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The field reviewed.
    pub field: Field,
    /// How it is drawn.
    pub design: Design,
    /// Only conversations received on or after this day.
    pub since: Option<chrono::NaiveDate>,
    /// Only conversations received on or before this day.
    pub until: Option<chrono::NaiveDate>,
    /// The seed of the draw: the same seed and data give the same sample.
    pub seed: u64,
}

/// One label of the population.
#[derive(Debug, Clone)]
struct Candidate {
    conversation_id: String,
    label: String,
    confidence: Option<f64>,
    evidence: String,
    taxonomy_version: String,
    run_id: String,
    received_at: String,
    item_id: String,
}

/// One row of a review file, in [`FILE_COLUMNS`] order.
pub type Row = Vec<String>;

/// A drawn sample: its rows and the labels a correction may name.
#[derive(Debug)]
pub struct Sample {
    /// The sample's id (a hash of the options and the population).
    pub sample_id: String,
    /// The items, in [`FILE_COLUMNS`] order.
    pub rows: Vec<Row>,
    /// The field reviewed.
    pub field: Field,
    /// The labels a correction may name (none for summaries).
    pub labels: Option<Vec<String>>,
    /// How many labels the population had.
    pub population: usize,
    /// How many strata it was split into.
    pub strata: usize,
}

/// Draws the sample from the stored `model` (the relation `schema.model`, labelled under
/// `taxonomy`).
pub async fn draw(
    engine: &Engine,
    schema: &str,
    taxonomy: &convlytics_core::taxonomy::Taxonomy,
    options: &Options,
) -> Result<Sample> {
    let field = options.field;
    if matches!(options.design, Design::LowConfidence(_)) && field != Field::Intent {
        return Err(Error::Project(format!(
            "review sample: only intents carry a confidence; --low-confidence cannot sample {}s (use --per-label or --uniform)",
            field.as_str()
        )));
    }
    if matches!(options.design, Design::PerLabel(_)) && field == Field::Summary {
        return Err(Error::Project(
            "review sample: every summary is its own text; sample summaries with --uniform N".into(),
        ));
    }
    if options.design.size() == 0 {
        return Err(Error::Project("review sample: the sample size must be at least 1".into()));
    }
    let population = population(engine, schema, options).await?;
    let seed = options.seed.to_string();
    let order = |c: &Candidate| draw_key(&seed, &c.item_id);
    let mut strata: BTreeMap<String, Vec<&Candidate>> = BTreeMap::new();
    for c in &population {
        let stratum = match options.design {
            Design::PerLabel(_) => c.label.clone(),
            _ => "all".to_owned(),
        };
        strata.entry(stratum).or_default().push(c);
    }
    let strata_count = strata.len();
    let mut chosen: Vec<(&str, usize, &Candidate)> = Vec::new();
    for (stratum, members) in &mut strata {
        match options.design {
            Design::LowConfidence(_) => members.sort_by(|a, b| {
                a.confidence
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.confidence.unwrap_or(f64::INFINITY))
                    .then_with(|| order(a).cmp(&order(b)))
            }),
            _ => members.sort_by_cached_key(|c| order(c)),
        }
        chosen.extend(members.iter().take(options.design.size()).map(|c| (stratum.as_str(), members.len(), *c)));
    }
    let ids: Vec<&str> = chosen.iter().map(|(_, _, c)| c.conversation_id.as_str()).collect();
    let texts = super::texts(engine, schema, field, &ids).await?;
    let models = model_hashes(engine, schema).await?;
    let sample_id = sample_id(options, &population);
    let rows = chosen
        .iter()
        .map(|(stratum, size, c)| {
            let text = texts.get(&c.conversation_id).cloned().unwrap_or_default();
            let hash = text_sha256(&text);
            vec![
                c.item_id.clone(),
                sample_id.clone(),
                c.conversation_id.clone(),
                field.as_str().to_owned(),
                c.label.clone(),
                c.confidence.map(|x| x.to_string()).unwrap_or_default(),
                c.evidence.clone(),
                text,
                hash,
                taxonomy.name.clone(),
                c.taxonomy_version.clone(),
                models.get(&c.run_id).cloned().unwrap_or_default(),
                c.run_id.clone(),
                options.design.as_str().to_owned(),
                (*stratum).to_owned(),
                size.to_string(),
                strata_count.to_string(),
                c.received_at.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]
        })
        .collect();
    Ok(Sample {
        sample_id,
        rows,
        field,
        labels: field.labels(taxonomy),
        population: population.len(),
        strata: strata_count,
    })
}

/// Writes `sample` as a review file: a CSV with [`FILE_COLUMNS`].
pub fn write_csv(sample: &Sample, path: &Path) -> Result<()> {
    let mut out = csv::Writer::from_path(path).map_err(|e| csv_error(path, e))?;
    out.write_record(FILE_COLUMNS).map_err(|e| csv_error(path, e))?;
    for row in &sample.rows {
        out.write_record(row).map_err(|e| csv_error(path, e))?;
    }
    out.flush().map_err(|e| Error::io(path, e))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Input { path: PathBuf::from(path), message: e.to_string() }
}

/// Every label of the field in the stored model, within the date range.
async fn population(engine: &Engine, schema: &str, options: &Options) -> Result<Vec<Candidate>> {
    let field = options.field;
    let (confidence, evidence) = match field {
        Field::Intent => ("cast(intent_confidence as varchar)", "intent_evidence"),
        Field::Resolution => ("cast(null as varchar)", "cast(resolution_evidence as varchar)"),
        Field::Topic | Field::Summary => ("cast(null as varchar)", "cast(null as varchar)"),
    };
    let mut filters = vec![format!("{} is not null", field.column())];
    if let Some(since) = options.since {
        filters.push(format!("cast(received_at as date) >= cast({} as date)", quote_literal(&since.to_string())));
    }
    if let Some(until) = options.until {
        filters.push(format!("cast(received_at as date) <= cast({} as date)", quote_literal(&until.to_string())));
    }
    let sql = format!(
        "select conversation_id, cast({label} as varchar) as label, {confidence} as confidence, {evidence} as evidence, \
         taxonomy_version, run_id, cast(received_at as varchar) as received_at from {schema}.{model} where {filters} order by conversation_id",
        label = field.column(),
        schema = quote_ident(schema),
        model = quote_ident(field.model()),
        filters = filters.join(" and "),
    );
    let rows = engine.rows(&sql, &format!("reading the {}s to sample from {}", field.as_str(), field.model())).await?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = Vec::new();
    for row in &rows {
        let labels: Vec<String> = match field {
            Field::Topic => {
                text(&row[1]).split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
            }
            _ => vec![text(&row[1])],
        };
        for label in labels {
            let (conversation_id, taxonomy_version) = (text(&row[0]), text(&row[4]));
            out.push(Candidate {
                item_id: item_id(&conversation_id, field, &label, &taxonomy_version),
                conversation_id,
                label,
                confidence: row[2].as_deref().and_then(|c| c.parse().ok()),
                evidence: text(&row[3]),
                taxonomy_version,
                run_id: text(&row[5]),
                received_at: text(&row[6]),
            });
        }
    }
    Ok(out)
}

/// The model hash of each run, from `label_runs` (empty when it does not exist yet).
async fn model_hashes(engine: &Engine, schema: &str) -> Result<BTreeMap<String, String>> {
    let runs = crate::governance::audit::LABEL_RUNS;
    if engine.existing(schema, &[runs]).await?.is_empty() {
        return Ok(BTreeMap::new());
    }
    let sql = format!("select run_id, model_hash from {}.{runs}", quote_ident(schema));
    let rows = engine.rows(&sql, "reading the model hash of each run").await?;
    Ok(rows.into_iter().map(|r| (r[0].clone().unwrap_or_default(), r[1].clone().unwrap_or_default())).collect())
}

/// The sample's id: the options and the population's items, so the same draw has the same id.
fn sample_id(options: &Options, population: &[Candidate]) -> String {
    let mut hash = Sha256::new();
    let dates = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for part in [
        options.field.as_str().to_owned(),
        options.design.as_str().to_owned(),
        options.design.size().to_string(),
        options.seed.to_string(),
        dates(options.since),
        dates(options.until),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    for c in population {
        hash.update(c.item_id.as_bytes());
    }
    crate::governance::audit::hex(&hash.finalize()[..8])
}

/// The draw order of an item: a hash of the seed and its id.
fn draw_key(seed: &str, item_id: &str) -> [u8; 32] {
    Sha256::new().chain_update(seed.as_bytes()).chain_update([0]).chain_update(item_id.as_bytes()).finalize().into()
}
