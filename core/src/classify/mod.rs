//! Intent classification and topic tagging against a taxonomy: keyword, phrase and pattern rules
//! first (they decide on their own), then the semantic head over sentence embeddings of the
//! examples and descriptions. Below the taxonomy's threshold the intent is `unknown`. Every
//! answer can explain itself: the rule that fired or the nearest examples.
//!
//! Without the embedding model, classification runs on the rules alone and
//! [`rules_only_notice`] says so, once per process.

pub mod eval;
pub(crate) mod rules;
mod semantic;
mod store;

use std::sync::Arc;

use ndarray::{Array2, ArrayView2};
use serde::Serialize;

use crate::cache::SharedCache;
use crate::embed::{self, Embedding};
use crate::interrupt::{self, Every};
use crate::taxonomy::{Label, Registry, Taxonomy, UNKNOWN};
use crate::{ModelError, Result};
use rules::{Hit, Rules};
use semantic::{Scores, Semantic};

/// How many nearest examples an explanation shows for the label.
const EVIDENCE_EXAMPLES: usize = 3;
/// Texts embedded between two cancel checks.
const EMBED_CHUNK: usize = 64;

/// A taxonomy compiled for classification.
pub struct Classifier {
    name: String,
    version: String,
    threshold: f64,
    topic_threshold: f64,
    embedding: Embedding,
    intents: LabelSet,
    topics: LabelSet,
    rules_only: Option<String>,
}

struct LabelSet {
    names: Vec<String>,
    rules: Rules,
    semantic: Option<Semantic>,
}

/// One piece of evidence for (or against) a label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `keyword`, `pattern`, `exclusion`, `example` or `description`.
    pub kind: &'static str,
    /// The label it speaks for.
    pub label: String,
    /// The keyword, the matched text, or the example.
    pub text: String,
    /// Cosine similarity of the text to the example (examples and descriptions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
}

/// An intent with its confidence, runner-up and evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The intent, or `unknown` below the threshold.
    pub label: String,
    /// 0 to 1: a rule's share of the rules that fired, or the mean of the semantic head's
    /// probability and the nearest example's similarity. The threshold applies to the latter:
    /// when rules fire, the intent is always one of theirs.
    pub confidence: f64,
    /// The next best intent (or, for `unknown`, the best one, which fell short).
    pub runner_up: Option<String>,
    /// Its confidence.
    pub runner_up_confidence: Option<f64>,
    /// `rule`, `semantic` or `none` (nothing matched and no model).
    pub method: &'static str,
    /// What fired, or the nearest examples.
    pub evidence: Vec<Evidence>,
    /// The taxonomy's version.
    pub taxonomy_version: String,
}

impl Explanation {
    /// The evidence as a JSON array (the same text on every engine).
    pub fn evidence_json(&self) -> String {
        serde_json::to_string(&self.evidence).expect("evidence serializes")
    }
}

impl LabelSet {
    fn new(labels: &[Label], semantic: Option<Semantic>) -> Result<Self> {
        Ok(Self { names: labels.iter().map(|l| l.name.clone()).collect(), rules: Rules::new(labels)?, semantic })
    }

    fn evidence(&self, hit: &Hit) -> Evidence {
        Evidence { kind: hit.kind, label: self.names[hit.label].clone(), text: hit.text.clone(), similarity: None }
    }
}

/// The labels whose keywords or patterns fired and that no exclusion rules out, with how many
/// rules fired for each, in taxonomy order.
fn fired(hits: &[Hit]) -> Vec<(usize, usize)> {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    let excluded = |l: usize| hits.iter().any(|h| h.kind == "exclusion" && h.label == l);
    for h in hits.iter().filter(|h| h.kind != "exclusion" && !excluded(h.label)) {
        match counts.iter_mut().find(|(l, _)| *l == h.label) {
            Some((_, c)) => *c += 1,
            None => counts.push((h.label, 1)),
        }
    }
    counts
}

/// Rounds a score so every engine prints the same digits.
/// The rule hits of each text (`None` stays `None`), with a cancel check every few texts.
fn hits(rules: &Rules, texts: &[Option<&str>]) -> Result<Vec<Option<Vec<Hit>>>> {
    let mut poll = Every::new(64);
    texts.iter().map(|t| poll.step().map(|()| t.map(|t| rules.hits(t)))).collect()
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl Classifier {
    /// Compiles `taxonomy`: rules always, and the semantic head when a label has examples or a
    /// description and the model can be loaded.
    pub fn new(taxonomy: &Taxonomy) -> Result<Self> {
        let mut rules_only = None;
        let mut head = |labels: &[Label]| -> Result<Option<Semantic>> {
            let samples = semantic::samples(labels);
            if samples.is_empty() {
                return Ok(None);
            }
            match embed::ready(taxonomy.semantic) {
                Ok(()) => store::semantic(samples, labels.len(), taxonomy.semantic).map(Some),
                Err(reason) => {
                    rules_only = Some(reason.to_string());
                    Ok(None)
                }
            }
        };
        let intents = head(&taxonomy.intents)?;
        let topics = head(&taxonomy.topics)?;
        Ok(Self {
            name: taxonomy.name.clone(),
            version: taxonomy.version(),
            threshold: taxonomy.threshold,
            topic_threshold: taxonomy.topic_threshold,
            embedding: taxonomy.semantic,
            intents: LabelSet::new(&taxonomy.intents, intents)?,
            topics: LabelSet::new(&taxonomy.topics, topics)?,
            rules_only,
        })
    }

    /// The taxonomy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The taxonomy's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The intents of `texts` (`None` stays `None`), explained. The texts the rules do not
    /// decide are embedded together (sorted by length, so batches pad little) and scored.
    pub fn explain(&self, texts: &[Option<&str>]) -> Result<Vec<Option<Explanation>>> {
        let hits = hits(&self.intents.rules, texts)?;
        // Rules decide alone when they fire for one intent that no exclusion rules out; the
        // model scores the rest (and breaks ties between intents whose rules fired).
        let decided = |h: &[Hit]| fired(h).len() == 1;
        let pending: Vec<usize> = (0..texts.len())
            .filter(|&i| matches!((&hits[i], texts[i]), (Some(h), Some(t)) if !decided(h) && !t.trim().is_empty()))
            .collect();
        let mut scores: Vec<Option<Scores>> = (0..texts.len()).map(|_| None).collect();
        if let Some(semantic) = self.intents.semantic.as_ref().filter(|_| !pending.is_empty()) {
            for (&i, s) in pending.iter().zip(semantic.score(self.embed(&pending, texts)?.view())) {
                scores[i] = Some(s);
            }
        }
        Ok(hits
            .into_iter()
            .zip(&scores)
            .map(|(hits, scores)| hits.map(|h| self.explain_one(&h, scores.as_ref())))
            .collect())
    }

    /// The embeddings of `texts[rows]`, one row each. They go through the model shortest first,
    /// `EMBED_CHUNK` at a time, with a cancel check before each chunk.
    fn embed(&self, rows: &[usize], texts: &[Option<&str>]) -> Result<Array2<f32>> {
        let text = |row: usize| texts[rows[row]].unwrap_or_default();
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&row| text(row).len());
        let dim = self.embedding.dim();
        let mut out = Array2::zeros((rows.len(), dim));
        for chunk in order.chunks(EMBED_CHUNK) {
            interrupt::poll()?;
            let batch: Vec<&str> = chunk.iter().map(|&row| text(row)).collect();
            let flat = embed::embed(&batch, self.embedding)?;
            let vectors =
                ArrayView2::from_shape((chunk.len(), dim), &flat).map_err(|e| ModelError::Run(e.to_string()))?;
            for (&row, vector) in chunk.iter().zip(vectors.rows()) {
                out.row_mut(row).assign(&vector);
            }
        }
        Ok(out)
    }

    fn explain_one(&self, hits: &[Hit], scores: Option<&Scores>) -> Explanation {
        let set = &self.intents;
        let excluded: Vec<usize> = hits.iter().filter(|h| h.kind == "exclusion").map(|h| h.label).collect();
        let mut evidence: Vec<Evidence> =
            hits.iter().filter(|h| h.kind == "exclusion").map(|h| set.evidence(h)).collect();
        let base = Explanation {
            label: UNKNOWN.to_owned(),
            confidence: 0.0,
            runner_up: None,
            runner_up_confidence: None,
            method: "none",
            evidence: Vec::new(),
            taxonomy_version: self.version.clone(),
        };
        let mut counts = fired(hits);
        if !counts.is_empty() {
            // More rules first; then what the model thinks; then taxonomy order.
            let model = |l: usize| scores.map_or(0.0, |s| s.probability[l]);
            counts.sort_by(|a, b| b.1.cmp(&a.1).then(model(b.0).total_cmp(&model(a.0))).then(a.0.cmp(&b.0)));
            let total: usize = counts.iter().map(|c| c.1).sum();
            let share = |c: usize| round(c as f64 / total as f64);
            let (top, runner) = (counts[0], counts.get(1));
            let rules_of = |label: usize| hits.iter().filter(move |h| h.label == label && h.kind != "exclusion");
            evidence.splice(
                0..0,
                rules_of(top.0).chain(runner.into_iter().flat_map(|r| rules_of(r.0))).map(|h| set.evidence(h)),
            );
            return Explanation {
                label: set.names[top.0].clone(),
                confidence: share(top.1),
                runner_up: runner.map(|r| set.names[r.0].clone()),
                runner_up_confidence: runner.map(|r| share(r.1)),
                method: "rule",
                evidence,
                ..base
            };
        }
        let (Some(semantic), Some(scores)) = (&set.semantic, scores) else {
            return Explanation { evidence, ..base };
        };
        // The head's probabilities, renormalized over the intents no exclusion rules out.
        let candidates: Vec<usize> =
            (0..set.names.len()).filter(|l| !excluded.contains(l) && semantic.knows(*l)).collect();
        let mass: f64 = candidates.iter().map(|&l| f64::from(scores.probability[l])).sum();
        let mut ranked: Vec<(usize, f64)> = candidates
            .into_iter()
            .map(|l| (l, f64::from(scores.probability[l]) / mass.max(f64::MIN_POSITIVE)))
            .collect();
        // Only the best two are read: select them, then order them.
        let order = |a: &(usize, f64), b: &(usize, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > 2 {
            ranked.select_nth_unstable_by(1, order);
            ranked.truncate(2);
        }
        ranked.sort_by(order);
        // A label's confidence, from its probability and its `k` nearest samples (the first is
        // the nearest); the samples become evidence.
        let scored = |(l, p): (usize, f64), k: usize| {
            let near = semantic.nearest(scores, l, k);
            let similarity = near.first().map_or(0.0, |n| f64::from(n.0.max(0.0)));
            ((l, round(0.5 * p + 0.5 * similarity)), near)
        };
        let Some(((top, confidence_top), near)) = ranked.first().map(|&r| scored(r, EVIDENCE_EXAMPLES)) else {
            return Explanation { evidence, ..base };
        };
        evidence.extend(near.into_iter().map(|(sim, i)| self.example_evidence(semantic, i, sim)));
        let accepted = confidence_top >= self.threshold;
        let runner = match ranked.get(1) {
            Some(&r) if accepted => {
                let (runner, near) = scored(r, 1);
                evidence.extend(near.into_iter().map(|(sim, i)| self.example_evidence(semantic, i, sim)));
                Some(runner)
            }
            _ if accepted => None,
            _ => Some((top, confidence_top)),
        };
        Explanation {
            label: if accepted { set.names[top].clone() } else { UNKNOWN.to_owned() },
            confidence: confidence_top,
            runner_up: runner.map(|r| set.names[r.0].clone()),
            runner_up_confidence: runner.map(|r| r.1),
            method: "semantic",
            evidence,
            ..base
        }
    }

    fn example_evidence(&self, semantic: &Semantic, i: usize, similarity: f32) -> Evidence {
        let sample = semantic.sample(i);
        Evidence {
            kind: if sample.is_description { "description" } else { "example" },
            label: self.intents.names[sample.label].clone(),
            text: sample.text.clone(),
            similarity: Some(round(f64::from(similarity))),
        }
    }

    /// The topics of `texts`, in taxonomy order: every topic whose keyword or pattern fires
    /// (and no exclusion does), or whose nearest example is at least `topic_threshold` alike.
    pub fn topics(&self, texts: &[Option<&str>]) -> Result<Vec<Option<Vec<String>>>> {
        let set = &self.topics;
        let hits = hits(&set.rules, texts)?;
        let mut similar: Vec<Vec<bool>> = vec![Vec::new(); texts.len()];
        let pending: Vec<usize> =
            (0..texts.len()).filter(|&i| texts[i].is_some_and(|t| !t.trim().is_empty())).collect();
        if let Some(semantic) = set.semantic.as_ref().filter(|_| !pending.is_empty()) {
            for (&i, scores) in pending.iter().zip(semantic.score(self.embed(&pending, texts)?.view())) {
                similar[i] = (0..set.names.len())
                    .map(|l| f64::from(semantic.nearest_similarity(&scores, l)) >= self.topic_threshold)
                    .collect();
            }
        }
        Ok(hits
            .into_iter()
            .zip(similar)
            .map(|(hits, similar)| {
                let hits = hits?;
                let by_rule = fired(&hits);
                let excluded = |l: usize| hits.iter().any(|h| h.kind == "exclusion" && h.label == l);
                let tagged =
                    |l: usize| by_rule.iter().any(|r| r.0 == l) || (similar.get(l) == Some(&true) && !excluded(l));
                Some((0..set.names.len()).filter(|&l| tagged(l)).map(|l| set.names[l].clone()).collect())
            })
            .collect())
    }

    /// Why the semantic head is off, when it is.
    pub fn rules_only(&self) -> Option<&str> {
        self.rules_only.as_deref()
    }
}

/// The first time in `session` that a classifier ran on rules alone for want of the model: the
/// message to show the user. `None` every other time.
pub fn rules_only_notice(session: &Registry, classifier: &Classifier) -> Option<String> {
    let reason = classifier.rules_only()?;
    session.first_rules_only_notice().then(|| {
        format!("semantic intent classification is off ({reason}); classifying with keyword and pattern rules only")
    })
}

/// Compiled classifiers by taxonomy name and version (content, never a name alone).
static COMPILED: SharedCache<Classifier> = SharedCache::new();

/// The classifier of `taxonomy`, compiled once per process and version.
pub fn classifier(taxonomy: &Taxonomy) -> Result<Arc<Classifier>> {
    let key = format!("{}@{}", taxonomy.name, taxonomy.version());
    // Compiled outside the lock: building a semantic head can take a while.
    COMPILED.get_or_build(&key, || Classifier::new(taxonomy))
}

/// The classifier a SQL function's taxonomy argument names in `session`: a registered
/// taxonomy's name, or a taxonomy written out as YAML or JSON.
pub fn resolve(session: &Registry, argument: &str) -> Result<Arc<Classifier>> {
    let resolved = session.resolve(argument)?;
    COMPILED.get_or_build(&resolved.key, || Classifier::new(&resolved.taxonomy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_taxonomy() -> Taxonomy {
        crate::taxonomy::parse_one(
            "{name: t, threshold: 0.5, intents: [{name: refund, keywords: [money back, refund], exclusions: [no refund]}, {name: login, keywords: [log in, password]}], topics: [{name: app, keywords: [iphone, the app]}, {name: billing, patterns: ['(?i)invoice']}]}",
        )
        .unwrap()
    }

    #[test]
    fn rules_decide_and_explain() {
        let c = Classifier::new(&rules_taxonomy()).unwrap();
        let out = c
            .explain(&[Some("I want my money back"), None, Some("refund? I can't log in, password reset fails")])
            .unwrap();
        let first = out[0].as_ref().unwrap();
        assert_eq!((first.label.as_str(), first.confidence, first.method), ("refund", 1.0, "rule"));
        assert_eq!(first.evidence_json(), r#"[{"kind":"keyword","label":"refund","text":"money back"}]"#);
        assert!(out[1].is_none());
        let third = out[2].as_ref().unwrap();
        assert_eq!((third.label.as_str(), third.runner_up.as_deref()), ("login", Some("refund")));
        assert_eq!((third.confidence, third.runner_up_confidence), (0.6667, Some(0.3333)));
    }

    #[test]
    fn exclusions_veto_and_nothing_is_unknown() {
        let c = Classifier::new(&rules_taxonomy()).unwrap();
        let out = c.explain(&[Some("there is no refund here"), Some("")]).unwrap();
        let vetoed = out[0].as_ref().unwrap();
        assert_eq!((vetoed.label.as_str(), vetoed.evidence[0].kind), (UNKNOWN, "exclusion"));
        assert_eq!(out[1].as_ref().unwrap().label, UNKNOWN);
    }

    #[test]
    fn a_name_resolves_in_its_own_session_only() {
        let (session, other) = (Registry::new(), Registry::new());
        session.register(rules_taxonomy());
        let c = resolve(&session, "t").unwrap();
        assert_eq!(c.version(), rules_taxonomy().version());
        assert!(Arc::ptr_eq(&c, &resolve(&session, "t").unwrap()), "compiled once per version");
        assert!(resolve(&other, "t").err().is_some_and(|e| e.to_string().contains("no taxonomy named 't'")));
    }

    #[test]
    fn topics_are_multi_label() {
        let c = Classifier::new(&rules_taxonomy()).unwrap();
        let out = c.topics(&[Some("the invoice in the app"), Some("hello"), None]).unwrap();
        assert_eq!(out, vec![Some(vec!["app".to_string(), "billing".to_string()]), Some(vec![]), None]);
    }
}
