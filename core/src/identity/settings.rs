//! Stitching settings (YAML in a project, JSON in SQL) and the plan they resolve to.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::columns::ColumnKind;
use super::normalize::Region;
use crate::error::{Error, Result, SettingsKind};

/// How records are stitched. Every key is optional; the defaults are inferred from the column
/// names (see the identity docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Column kinds, over the ones inferred from column names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnKind>,
    /// Columns whose shared normalized value links two records outright (default: the email and
    /// phone columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deterministic: Option<Vec<String>>,
    /// Columns compared probabilistically (default: every column that is not deterministic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparisons: Option<Vec<String>>,
    /// Blocking rules: only records that agree on every column of some rule are compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocking: Option<Vec<Vec<String>>>,
    /// Compared columns whose exact matches are weighted by how common the value is, so a shared
    /// rare surname counts for more than a shared "smith" (default: the name columns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_frequency: Option<Vec<String>>,
    /// Match probability at or above which a compared pair is linked.
    pub threshold: f64,
    /// The region national phone numbers are read in (ISO 3166-1 alpha-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
    /// Blocks (and deterministic groups) larger than this are skipped and counted, so one common
    /// value cannot make the comparison quadratic.
    pub max_block_size: usize,
    /// Fixed m and u probabilities per comparison column, one per level; columns not listed
    /// are estimated from the data.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, LevelWeights>,
    /// The probability that two random records are one person; estimated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior: Option<f64>,
    /// Random pairs sampled to estimate the u probabilities.
    pub u_sample_pairs: usize,
    /// Seed of that sample, so reruns give the same answer.
    pub seed: u64,
}

/// The m (same person) and u (different people) probability of each comparison level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelWeights {
    /// P(level | same person), best level first.
    pub m: Vec<f64>,
    /// P(level | different people), best level first.
    pub u: Vec<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            columns: BTreeMap::new(),
            deterministic: None,
            comparisons: None,
            blocking: None,
            term_frequency: None,
            threshold: 0.9,
            default_region: None,
            max_block_size: 2000,
            weights: BTreeMap::new(),
            prior: None,
            u_sample_pairs: 1_000_000,
            seed: 42,
        }
    }
}

impl Settings {
    /// Reads settings from JSON (the SQL functions' second argument). Empty text is the defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| Error::settings_json(SettingsKind::Identity, &e))
    }
}

/// One column as the stitcher uses it.
#[derive(Debug, Clone)]
pub(crate) struct PlannedColumn {
    pub(crate) name: String,
    pub(crate) kind: ColumnKind,
}

/// Settings resolved against the record columns: indices instead of names, defaults filled in.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) columns: Vec<PlannedColumn>,
    pub(crate) deterministic: Vec<usize>,
    /// Indices into `columns` of the compared columns, in pattern order.
    pub(crate) comparisons: Vec<usize>,
    pub(crate) blocking: Vec<Vec<usize>>,
    /// Indices into `columns` of the compared columns with term-frequency adjustments.
    pub(crate) term_frequency: Vec<usize>,
    pub(crate) region: Option<Region>,
}

/// At most this many compared columns: a comparison pattern packs 4 bits per column in a u64.
pub(crate) const MAX_COMPARISONS: usize = 16;

impl Plan {
    pub(crate) fn new(settings: &Settings, names: &[String]) -> Result<Self> {
        let err = |problem: String| Error::Settings { settings: SettingsKind::Identity, problem };
        if let Some(unknown) = settings.columns.keys().find(|c| !names.contains(c)) {
            return Err(err(format!("columns: '{unknown}' is not a column (have: {})", names.join(", "))));
        }
        let columns: Vec<PlannedColumn> = names
            .iter()
            .map(|name| PlannedColumn {
                name: name.clone(),
                kind: settings.columns.get(name).copied().unwrap_or_else(|| ColumnKind::infer(name)),
            })
            .collect();
        let index = |key: &str, name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| err(format!("{key}: '{name}' is not a column (have: {})", names.join(", "))))
        };
        let deterministic = match &settings.deterministic {
            Some(list) => list.iter().map(|n| index("deterministic", n)).collect::<Result<Vec<_>>>()?,
            None => (0..columns.len())
                .filter(|&i| matches!(columns[i].kind, ColumnKind::Email | ColumnKind::Phone))
                .collect(),
        };
        let comparisons = match &settings.comparisons {
            Some(list) => list.iter().map(|n| index("comparisons", n)).collect::<Result<Vec<_>>>()?,
            None => (0..columns.len()).filter(|i| !deterministic.contains(i)).collect(),
        };
        if comparisons.len() > MAX_COMPARISONS {
            return Err(err(format!(
                "comparisons: {} columns compared, at most {MAX_COMPARISONS}; list the useful ones under `comparisons`",
                comparisons.len()
            )));
        }
        let blocking = match &settings.blocking {
            Some(rules) => rules
                .iter()
                .map(|rule| {
                    if rule.is_empty() {
                        return Err(err("blocking: a rule needs at least one column".into()));
                    }
                    rule.iter().map(|n| index("blocking", n)).collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?,
            None => default_blocking(&columns, &comparisons),
        };
        let term_frequency = match &settings.term_frequency {
            Some(list) => list
                .iter()
                .map(|n| {
                    let i = index("term_frequency", n)?;
                    if !comparisons.contains(&i) {
                        return Err(err(format!("term_frequency: '{n}' is not a compared column")));
                    }
                    Ok(i)
                })
                .collect::<Result<Vec<_>>>()?,
            None => comparisons.iter().copied().filter(|&i| columns[i].kind == ColumnKind::Name).collect(),
        };
        for (name, weights) in &settings.weights {
            let i = index("weights", name)?;
            let levels = columns[i].kind.levels().len();
            if weights.m.len() != levels || weights.u.len() != levels {
                return Err(err(format!(
                    "weights.{name}: a {:?} column has {levels} levels ({}), so m and u need {levels} values each",
                    columns[i].kind,
                    columns[i].kind.levels().join(", ")
                )));
            }
            if weights.m.iter().chain(&weights.u).any(|p| !(*p > 0.0 && *p <= 1.0)) {
                return Err(err(format!("weights.{name}: probabilities must be in (0, 1]")));
            }
        }
        if !(settings.threshold > 0.0 && settings.threshold < 1.0) {
            return Err(err(format!(
                "threshold: {} is not a probability strictly between 0 and 1",
                settings.threshold
            )));
        }
        if let Some(prior) = settings.prior {
            if !(prior > 0.0 && prior < 1.0) {
                return Err(err(format!("prior: {prior} is not a probability strictly between 0 and 1")));
            }
        }
        if settings.max_block_size < 2 {
            return Err(err("max_block_size: must be at least 2".into()));
        }
        let region = settings.default_region.as_deref().map(str::parse).transpose()?;
        Ok(Self { columns, deterministic, comparisons, blocking, term_frequency, region })
    }
}

/// Default blocking: each date or id column alone; all person-name columns together; each
/// person-name column with the postcode.
fn default_blocking(columns: &[PlannedColumn], comparisons: &[usize]) -> Vec<Vec<usize>> {
    let of_kind = |kinds: &[ColumnKind]| -> Vec<usize> {
        comparisons.iter().copied().filter(|&i| kinds.contains(&columns[i].kind)).collect()
    };
    let names: Vec<usize> =
        comparisons.iter().copied().filter(|&i| columns[i].kind.is_person_name(&columns[i].name)).collect();
    let mut rules: Vec<Vec<usize>> =
        of_kind(&[ColumnKind::Date, ColumnKind::Identifier, ColumnKind::Email, ColumnKind::Phone])
            .into_iter()
            .map(|i| vec![i])
            .collect();
    if !names.is_empty() {
        rules.push(names.clone());
    }
    for postcode in of_kind(&[ColumnKind::Postcode]) {
        rules.extend(names.iter().map(|&n| vec![n, postcode]));
    }
    if rules.is_empty() {
        rules.extend(comparisons.iter().map(|&i| vec![i]));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_follow_the_column_names() {
        let cols = names(&["given_name", "surname", "postcode", "date_of_birth", "email", "state"]);
        let plan = Plan::new(&Settings::default(), &cols).unwrap();
        assert_eq!(plan.deterministic, [4]);
        assert_eq!(plan.comparisons, [0, 1, 2, 3, 5]);
        assert_eq!(plan.blocking, [vec![3], vec![0, 1], vec![0, 2], vec![1, 2]]);
        assert_eq!(plan.term_frequency, [0, 1]);
    }

    #[test]
    fn mistakes_are_named() {
        let cols = names(&["name", "email"]);
        let bad = |json: &str| Plan::new(&Settings::from_json(json).unwrap(), &cols).unwrap_err().to_string();
        assert!(bad(r#"{"blocking": [["nmae"]]}"#).contains("blocking: 'nmae' is not a column"));
        assert!(bad(r#"{"threshold": 1.5}"#).contains("threshold"));
        assert!(bad(r#"{"term_frequency": ["email"]}"#).contains("'email' is not a compared column"));
        assert!(bad(r#"{"weights": {"name": {"m": [0.9, 0.1], "u": [0.1, 0.9]}}}"#).contains("4 levels"));
        assert!(bad(r#"{"default_region": "ZZ"}"#).contains("unknown phone region"));
        let unknown = Settings::from_json(r#"{"treshold": 0.5}"#).unwrap_err().to_string();
        assert!(unknown.contains("unknown field `treshold`") && unknown.contains("line 1"), "{unknown}");
    }
}
