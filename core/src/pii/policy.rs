//! The PII policy: which types, which operator for each, thresholds, context words, allow and
//! deny lists, project patterns, and where the hashing key comes from (never the key itself).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::context::ContextWords;
use crate::cache::TextCache;
use crate::error::{Error, Result, SettingsKind};
use crate::identity::Region;
use crate::user_regex;

/// The environment variable the hash operator reads its key from unless the policy names another.
pub const DEFAULT_KEY_ENV: &str = "CONVLYTICS_PII_KEY";
/// The environment variables a policy may name as its key when the engine installs no list of
/// its own ([`permit_key_vars`]): comma-separated names, a trailing `*` matching any rest.
pub const DEFAULT_KEY_VARS: &str = "CONVLYTICS_PII_*";

static KEY_VARS: OnceLock<fn() -> String> = OnceLock::new();

/// Installs where the permitted key variables come from (on PostgreSQL, the superuser-only
/// setting `convlytics.pii_key_vars`), asked on every use of a key; the first call wins.
pub fn permit_key_vars(list: fn() -> String) {
    let _ = KEY_VARS.set(list);
}

/// Whether a policy may read its key from `variable`: it is on the permitted list. The
/// environment is not consulted, so a refusal says nothing about what the server has set.
fn key_var_permitted(variable: &str) -> bool {
    let list = KEY_VARS.get().map_or_else(|| DEFAULT_KEY_VARS.to_owned(), |list| list());
    list.split(',').map(str::trim).filter(|p| !p.is_empty()).any(|pattern| match pattern.strip_suffix('*') {
        Some(prefix) => variable.starts_with(prefix),
        None => variable == pattern,
    })
}

/// Every type the built-in detectors report.
pub(crate) const BUILT_IN: [&str; 13] = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "CREDENTIAL",
    "DATE_OF_BIRTH",
    "DATE_TIME",
    "PERSON",
    "STREET_ADDRESS",
    "POSTAL_CODE",
];

/// The shortest key the hash operator accepts, in bytes.
const MIN_KEY_LEN: usize = 16;

/// How a policy is written (YAML in a project, JSON in SQL). Every key is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// The types detected and redacted (default: every built-in type and every declared one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<String>>,
    /// The operator for types not listed in `operators`.
    pub operator: Operator,
    /// The operator per type.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub operators: BTreeMap<String, Operator>,
    /// The score a span needs to be reported.
    pub threshold: f64,
    /// The score needed, per type, over `threshold`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, f64>,
    /// The region national phone numbers are read in (ISO 3166-1 alpha-2).
    pub default_region: String,
    /// Extra words that, near a span of the type, raise its score.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Vec<String>>,
    /// Extra words that, near a span of the type, lower its score.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub negative_context: BTreeMap<String, Vec<String>>,
    /// Values never reported (compared case-insensitively), such as the company's own support
    /// address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Values always reported as the given type wherever they occur as whole words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<DenyList>,
    /// The project's own types: account, order or ticket numbers as regexes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<PatternSpec>,
    /// How the mask operator masks.
    pub mask: MaskSpec,
    /// The environment variable that holds the hash operator's key.
    pub key_env: String,
    /// Whether each text is a speaker field (a name, id or address as a transcript gives it):
    /// unless it is a role word (`Agent`, `Customer 2`) or holds PII of another type, the whole
    /// field is one `PERSON`, whatever its words.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub speaker: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            entities: None,
            operator: Operator::Placeholder,
            operators: BTreeMap::new(),
            threshold: 0.5,
            thresholds: BTreeMap::new(),
            default_region: "US".into(),
            context: BTreeMap::new(),
            negative_context: BTreeMap::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            patterns: Vec::new(),
            mask: MaskSpec::default(),
            key_env: DEFAULT_KEY_ENV.into(),
            speaker: false,
        }
    }
}

/// What redaction puts in place of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// `<EMAIL_ADDRESS>`.
    Placeholder,
    /// `<PERSON_1>`, `<PERSON_2>`: the same value gets the same number throughout the text.
    Indexed,
    /// Every letter and digit but the last few replaced by the mask character.
    Mask,
    /// `<PERSON_3f9a0c1d2e4b>`: a keyed HMAC-SHA256 of the normalized value, the same across rows
    /// and runs under one key, so redacted columns still join.
    Hash,
    /// Removed.
    Drop,
    /// Left in place (detected, not redacted).
    Keep,
}

/// A deny list: values that are always the given type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyList {
    /// The type reported.
    #[serde(rename = "type")]
    pub entity: String,
    /// The values, matched case-insensitively as whole words.
    pub values: Vec<String>,
}

/// A project pattern, e.g. order numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    /// The type reported, e.g. `ORDER_ID`.
    #[serde(rename = "type")]
    pub entity: String,
    /// A regex (Rust `regex` syntax: no look-around or back-references, linear time).
    pub regex: String,
    /// The score of a match.
    #[serde(default = "default_pattern_score")]
    pub score: f64,
    /// Words that raise the score when near a match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

fn default_pattern_score() -> f64 {
    0.8
}

/// How the mask operator masks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaskSpec {
    /// Letters and digits left visible at the end.
    pub keep_last: usize,
    /// The character put in place of the others.
    pub char: char,
}

impl Default for MaskSpec {
    fn default() -> Self {
        Self { keep_last: 4, char: '*' }
    }
}

/// A policy checked and ready: regexes compiled, lists folded, the region parsed.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub(crate) policy: Policy,
    enabled: Option<HashSet<String>>,
    pub(crate) region: Region,
    pub(crate) patterns: Vec<(Regex, PatternSpec)>,
    pub(crate) deny: Option<(AhoCorasick, Vec<usize>)>,
    allow: HashSet<String>,
    /// The words that move each type's score, built-in and the policy's.
    pub(crate) context: HashMap<String, ContextWords>,
    /// The hash operator's key, read from `key_env` on first use.
    key: OnceLock<Vec<u8>>,
}

impl CompiledPolicy {
    /// Checks `policy` and compiles it. Unknown types, thresholds outside [0, 1], regexes that do
    /// not compile or compile too large, and an unknown region are errors naming the key.
    pub fn new(policy: Policy) -> Result<Self> {
        let err = |problem: String| Error::Settings { settings: SettingsKind::PiiPolicy, problem };
        let declared: Vec<&str> = policy
            .patterns
            .iter()
            .map(|p| p.entity.as_str())
            .chain(policy.deny.iter().map(|d| d.entity.as_str()))
            .collect();
        let known = |name: &str| BUILT_IN.contains(&name) || declared.contains(&name);
        let known_list = || BUILT_IN.iter().copied().chain(declared.iter().copied()).collect::<Vec<_>>().join(", ");
        let check = |key: &str, name: &str| {
            if known(name) {
                Ok(())
            } else {
                Err(err(format!("{key}: unknown type '{name}' (known: {})", known_list())))
            }
        };
        for name in policy.entities.iter().flatten() {
            check("entities", name)?;
        }
        for name in policy.operators.keys() {
            check("operators", name)?;
        }
        for (name, value) in &policy.thresholds {
            check("thresholds", name)?;
            check_probability(&format!("thresholds.{name}"), *value)?;
        }
        for name in policy.context.keys().chain(policy.negative_context.keys()) {
            check("context", name)?;
        }
        check_probability("threshold", policy.threshold)?;
        let region: Region = policy.default_region.parse().map_err(|e: Error| err(format!("default_region: {e}")))?;
        let patterns = policy
            .patterns
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                check_probability(&format!("patterns[{i}].score"), spec.score)?;
                if spec.entity.is_empty() || !spec.entity.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(err(format!(
                        "patterns[{i}].type: '{}' is not a type name (letters, digits and _)",
                        spec.entity
                    )));
                }
                let regex = user_regex::compile(&spec.regex)
                    .map_err(|e| err(format!("patterns[{i}] ({}): {e}", spec.entity)))?;
                Ok((regex, spec.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut deny_values = Vec::new();
        let mut deny_types = Vec::new();
        for (i, list) in policy.deny.iter().enumerate() {
            for value in list.values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
                deny_values.push(value.to_string());
                deny_types.push(i);
            }
        }
        let deny = if deny_values.is_empty() {
            None
        } else {
            let matcher = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&deny_values)
                .map_err(|e| err(format!("deny: {e}")))?;
            Some((matcher, deny_types))
        };
        if policy.key_env.trim().is_empty() {
            return Err(err("key_env: must name an environment variable".into()));
        }
        Ok(Self {
            enabled: policy.entities.as_ref().map(|list| list.iter().cloned().collect()),
            region,
            patterns,
            deny,
            allow: policy.allow.iter().map(|v| v.trim().to_lowercase()).collect(),
            context: ContextWords::for_policy(&policy),
            key: OnceLock::new(),
            policy,
        })
    }

    /// Reads a policy from JSON (the SQL functions' second argument); empty text is the default
    /// policy.
    pub fn from_json(text: &str) -> Result<Self> {
        let policy = if text.trim().is_empty() {
            Policy::default()
        } else {
            serde_json::from_str(text).map_err(|e| Error::settings_json(SettingsKind::PiiPolicy, &e))?
        };
        Self::new(policy)
    }

    /// [`CompiledPolicy::from_json`] through a small per-thread cache, so a query that passes
    /// the same policy on every row compiles it once.
    pub fn cached(text: &str) -> Result<Rc<Self>> {
        thread_local! {
            static CACHE: TextCache<CompiledPolicy> = const { TextCache::new() };
        }
        CACHE.with(|c| c.get_or_build(text, Self::from_json))
    }

    /// The policy as written.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether spans of `entity` are reported at all.
    pub fn enabled(&self, entity: &str) -> bool {
        self.enabled.as_ref().is_none_or(|set| set.contains(entity))
    }

    /// The score a span of `entity` needs.
    pub fn threshold(&self, entity: &str) -> f64 {
        self.policy.thresholds.get(entity).copied().unwrap_or(self.policy.threshold)
    }

    /// The operator redaction applies to `entity`.
    pub fn operator(&self, entity: &str) -> Operator {
        self.policy.operators.get(entity).copied().unwrap_or(self.policy.operator)
    }

    /// Whether redacting under this policy hashes any type (and so needs its key).
    pub fn hashes(&self) -> bool {
        self.policy.operator == Operator::Hash || self.policy.operators.values().any(|&o| o == Operator::Hash)
    }

    /// The hash operator's key from the environment variable `key_env` names, read once per
    /// compiled policy (so once per thread and policy, not per row). A variable not on the
    /// permitted list is refused before the environment is read; unset or shorter than 16
    /// bytes is an error that names the variable.
    pub(crate) fn key(&self) -> Result<&[u8]> {
        let variable = &self.policy.key_env;
        if !key_var_permitted(variable) {
            return Err(Error::KeyNotPermitted { variable: variable.clone() });
        }
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = match std::env::var_os(variable) {
            Some(key) if key.len() >= MIN_KEY_LEN => key.into_encoded_bytes(),
            Some(_) => return Err(Error::ShortKey { variable: variable.clone(), min: MIN_KEY_LEN }),
            None => return Err(Error::MissingKey { variable: variable.clone(), min: MIN_KEY_LEN }),
        };
        Ok(self.key.get_or_init(|| key))
    }

    /// Whether `value` is on the allow list.
    pub(crate) fn allowed(&self, value: &str) -> bool {
        !self.allow.is_empty() && self.allow.contains(&value.trim().to_lowercase())
    }
}

fn check_probability(key: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::Settings {
            settings: SettingsKind::PiiPolicy,
            problem: format!("{key}: {value} is not between 0 and 1"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default_policy() {
        let p = CompiledPolicy::from_json(" ").unwrap();
        assert_eq!(p.policy(), &Policy::default());
        assert!(p.enabled("PERSON"));
        assert_eq!(p.operator("PERSON"), Operator::Placeholder);
    }

    #[test]
    fn mistakes_are_errors_that_name_the_key() {
        let cases = [
            (r#"{"entities": ["PASSPORT"]}"#, "entities: unknown type 'PASSPORT'"),
            (r#"{"operators": {"EMAIL_ADDRESS": "scramble"}}"#, "unknown variant `scramble`"),
            (r#"{"threshold": 2}"#, "threshold: 2 is not between 0 and 1"),
            (r#"{"default_region": "XX"}"#, "default_region: unknown phone region 'XX'"),
            (
                r#"{"patterns": [{"type": "ORDER_ID", "regex": "(?=ORD)"}]}"#,
                "patterns[0] (ORDER_ID): regex parse error",
            ),
            (r#"{"patterns": [{"type": "ORDER_ID", "regex": "\\w{1000}{1000}"}]}"#, "patterns[0] (ORDER_ID): "),
            (r#"{"colour": 1}"#, "unknown field `colour`"),
        ];
        for (json, expected) in cases {
            let e = CompiledPolicy::from_json(json).unwrap_err().to_string();
            assert!(e.contains(expected), "{json}: {e}");
        }
    }

    #[test]
    fn declared_types_are_known() {
        let p = CompiledPolicy::from_json(
            r#"{"patterns": [{"type": "ORDER_ID", "regex": "ORD-\\d+"}], "operators": {"ORDER_ID": "mask"}}"#,
        )
        .unwrap();
        assert_eq!(p.operator("ORDER_ID"), Operator::Mask);
    }
}
