//! Taxonomies: the governed vocabulary of intents, topics and entity types that every label is
//! traced to. Read from YAML (the `taxonomies:` key of a property file, or one taxonomy on its
//! own), validated with the line and column of each problem, and versioned by a hash of their
//! normalized content.

mod locate;
mod registry;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::embed::Embedding;
use crate::user_regex;
use locate::Locator;
pub use registry::{is_name, Registry, Resolved};

/// The label given below a taxonomy's threshold; no taxonomy may declare it.
pub const UNKNOWN: &str = "unknown";

/// One taxonomy: what `classify_intent(text, name)` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// The name SQL functions take.
    pub name: String,
    /// What it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Below this confidence (0 to 1) the intent is `unknown`.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// A topic with examples is tagged when the text is at least this similar (cosine, 0 to 1)
    /// to one of them.
    #[serde(default = "default_topic_threshold")]
    pub topic_threshold: f64,
    /// How texts and examples are embedded for the semantic head: `encoder` or `static`.
    #[serde(default, skip_serializing_if = "Embedding::is_default")]
    pub semantic: Embedding,
    /// One of these is each text's intent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<Label>,
    /// Any number of these tag a text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Label>,
    /// Entity types, with gazetteer values or patterns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<EntityType>,
    /// Phrases that mark how conversations end, added to (or replacing) the built-in ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ResolutionPhrases>,
}

/// Phrases per resolution status, matched like keywords (whole words, case and accents folded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionPhrases {
    /// Replace the built-in phrases of every status listed here instead of adding to them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
    /// Said by the customer when the problem is gone ("that worked").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub solved: Vec<String>,
    /// Said by the business when it has solved the problem ("your refund has been issued").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub solved_by_agent: Vec<String>,
    /// Said by the business when it passes the problem up ("I've escalated this").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalated: Vec<String>,
    /// Said by the business when it passes the customer to someone else ("transferring you").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoff: Vec<String>,
    /// Said by the business when the customer has gone quiet ("are you still there?").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abandoned: Vec<String>,
    /// Said by the customer when the problem remains ("still not working").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

fn default_threshold() -> f64 {
    0.5
}

fn default_topic_threshold() -> f64 {
    0.6
}

/// An intent or a topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// The label written into tables.
    pub name: String,
    /// What it means; also embedded beside the examples, so it should read like one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Utterances that carry this label (for the semantic model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Words or phrases that decide the label on their own (case and accents folded, whole
    /// words).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Regular expressions that decide the label on their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Words or phrases that rule this label out, whatever else matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    /// A broader label of the same kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// An entity type: a gazetteer of values with synonyms, and patterns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityType {
    /// The entity type written into tables.
    pub name: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Known values; a value may list synonyms that normalize to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<EntityValue>,
    /// One pattern (the shorthand of `patterns` with one entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Patterns whose matches are entities of this type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
}

/// A gazetteer value: a plain name, or a name with synonyms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntityValue {
    /// The value as written.
    Name(String),
    /// The value and other ways of writing it.
    WithSynonyms {
        /// The normalized value.
        value: String,
        /// Other spellings that mean it.
        #[serde(default)]
        synonyms: Vec<String>,
    },
}

/// A taxonomy that cannot be used, with where the problem is (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct TaxonomyError {
    /// Line of the problem in the YAML text.
    pub line: usize,
    /// Column of the problem.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

#[derive(Deserialize)]
struct PropertyFile {
    #[serde(default)]
    taxonomies: Vec<Taxonomy>,
}

/// The taxonomies of a YAML document: a property file's `taxonomies:` list (other keys are left
/// to their readers), a list of taxonomies, or one taxonomy. Each is validated.
pub fn parse(text: &str) -> Result<Vec<Taxonomy>, TaxonomyError> {
    check_shape(text)?;
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(yaml_error)?;
    let taxonomies =
        match &value {
            serde_yaml::Value::Mapping(m) if m.contains_key("taxonomies") => {
                serde_yaml::from_str::<PropertyFile>(text).map_err(yaml_error)?.taxonomies
            }
            serde_yaml::Value::Sequence(_) => serde_yaml::from_str(text).map_err(yaml_error)?,
            serde_yaml::Value::Mapping(_) => vec![serde_yaml::from_str(text).map_err(yaml_error)?],
            _ => return Err(TaxonomyError {
                line: 1,
                column: 1,
                message:
                    "expected a taxonomy (a mapping with name and intents, topics or entities) or a `taxonomies:` list"
                        .into(),
            }),
        };
    let locator = Locator::new(text);
    let mut names = Vec::new();
    for t in &taxonomies {
        if names.contains(&t.name.as_str()) {
            return Err(locator.error(&[&t.name], 1, format!("taxonomy '{}' is declared twice", t.name)));
        }
        names.push(&t.name);
        t.validate().map_err(|(needles, nth, message)| locator.error(&needles, nth, message))?;
    }
    Ok(taxonomies)
}

/// The one taxonomy of a document; a document with several must be narrowed by name first.
pub fn parse_one(text: &str) -> Result<Taxonomy, TaxonomyError> {
    let mut all = parse(text)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        n => Err(TaxonomyError { line: 1, column: 1, message: format!("expected one taxonomy, found {n}") }),
    }
}

/// `taxonomy` as YAML that [`parse_one`] reads back to an equal taxonomy.
pub fn to_yaml(taxonomy: &Taxonomy) -> String {
    serde_yaml::to_string(taxonomy).expect("a taxonomy serializes")
}

/// The largest taxonomy document read, in bytes.
pub const MAX_BYTES: usize = 16 << 20;
/// The deepest nesting of flow collections (`[`, `{`) a taxonomy document may have.
pub const MAX_DEPTH: usize = 64;
/// The widest indentation (spaces and `- ` list markers) of a line of a taxonomy document.
pub const MAX_INDENT: usize = 256;

/// Checks a document's size, flow nesting and indentation before the YAML parser sees it, so a
/// hostile argument (40,000 brackets deep) is refused at once instead of after seconds of
/// parsing. Quoted strings and comments do not count.
fn check_shape(text: &str) -> Result<(), TaxonomyError> {
    let refuse = |line: usize, column: usize, message: String| Err(TaxonomyError { line, column, message });
    if text.len() > MAX_BYTES {
        return refuse(1, 1, format!("the document is {} bytes, over the limit of {MAX_BYTES}", text.len()));
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (l, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-', '\t']).len();
        if quote.is_none() && indent > MAX_INDENT {
            return refuse(l + 1, 1, format!("a line indented {indent} columns deep, over the limit of {MAX_INDENT}"));
        }
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some('\''), '\'') if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                    chars.next();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if previous.is_whitespace() || "[{,:".contains(previous) => quote = Some(c),
                (None, '#') if previous.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        let column = line[..at].chars().count() + 1;
                        return refuse(l + 1, column, format!("nested more than {MAX_DEPTH} brackets deep"));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    Ok(())
}

fn yaml_error(e: serde_yaml::Error) -> TaxonomyError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let message = e.to_string();
    let message = message.split_once(" at line ").map_or(message.clone(), |(head, _)| head.to_owned());
    TaxonomyError { line, column, message }
}

/// A problem found after parsing: the texts that locate it, which occurrence, and the message.
type Problem = (Vec<String>, usize, String);

impl Taxonomy {
    /// The hash of its normalized content (formatting, comments and key order do not count):
    /// 16 hex digits, written beside every label it produces.
    pub fn version(&self) -> String {
        let canonical = serde_json::to_vec(self).expect("a taxonomy serializes");
        let digest = Sha256::digest(&canonical);
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The intent called `name`.
    pub fn intent(&self, name: &str) -> Option<&Label> {
        self.intents.iter().find(|l| l.name == name)
    }

    fn validate(&self) -> Result<(), Problem> {
        let at = |needle: &str, message: String| (vec![self.name.clone(), needle.to_owned()], 1, message);
        let name = &self.name;
        if name.trim().is_empty() {
            return Err((vec!["name:".into()], 1, "a taxonomy needs a name".into()));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(at(
                "threshold",
                format!("taxonomy '{name}': threshold {} is not between 0 and 1", self.threshold),
            ));
        }
        if !(0.0..=1.0).contains(&self.topic_threshold) {
            return Err(at(
                "topic_threshold",
                format!("taxonomy '{name}': topic_threshold {} is not between 0 and 1", self.topic_threshold),
            ));
        }
        if self.intents.is_empty() && self.topics.is_empty() && self.entities.is_empty() && self.resolution.is_none() {
            return Err(at(
                name,
                format!("taxonomy '{name}' has no labels: give it intents, topics, entities or resolution phrases"),
            ));
        }
        for (kind, labels) in [("intent", &self.intents), ("topic", &self.topics)] {
            check_names(name, kind, labels.iter().map(|l| l.name.as_str()))?;
            for label in labels {
                label.validate(name, kind, labels)?;
            }
        }
        check_names(name, "entity", self.entities.iter().map(|e| e.name.as_str()))?;
        for entity in &self.entities {
            if entity.values.is_empty() && entity.pattern.is_none() && entity.patterns.is_empty() {
                return Err((
                    vec![name.clone(), entity.name.clone()],
                    1,
                    format!("entity '{}' has nothing to match: give it values, pattern or patterns", entity.name),
                ));
            }
            for p in entity.pattern.iter().chain(&entity.patterns) {
                check_pattern(name, &entity.name, p)?;
            }
        }
        Ok(())
    }
}

impl EntityValue {
    /// The normalized value.
    pub fn value(&self) -> &str {
        match self {
            Self::Name(v) | Self::WithSynonyms { value: v, .. } => v,
        }
    }

    /// The value and its synonyms: every spelling that means it.
    pub fn spellings(&self) -> impl Iterator<Item = &str> {
        let synonyms: &[String] = match self {
            Self::Name(_) => &[],
            Self::WithSynonyms { synonyms, .. } => synonyms,
        };
        std::iter::once(self.value()).chain(synonyms.iter().map(String::as_str))
    }
}

impl Label {
    fn validate(&self, taxonomy: &str, kind: &str, siblings: &[Label]) -> Result<(), Problem> {
        let here = |needle: &str, message: String| {
            (vec![taxonomy.to_owned(), self.name.clone(), needle.to_owned()], 1, message)
        };
        let has_text = |v: &[String]| v.iter().any(|s| !s.trim().is_empty());
        let described = self.description.as_deref().is_some_and(|d| !d.trim().is_empty());
        if !has_text(&self.examples) && !has_text(&self.keywords) && !has_text(&self.patterns) && !described {
            return Err(here(
                &self.name,
                format!(
                    "{kind} '{}' has nothing to match: give it examples, keywords, patterns or a description",
                    self.name
                ),
            ));
        }
        for p in &self.patterns {
            check_pattern(taxonomy, &self.name, p)?;
        }
        if let Some(parent) = &self.parent {
            if !siblings.iter().any(|l| &l.name == parent) {
                return Err(here(
                    "parent",
                    format!(
                        "{kind} '{}' has parent '{parent}', which is not {} of taxonomy '{taxonomy}'",
                        self.name,
                        article(kind)
                    ),
                ));
            }
            let mut seen = vec![self.name.as_str()];
            let mut next = Some(parent.as_str());
            while let Some(p) = next {
                if seen.contains(&p) {
                    return Err(here(
                        "parent",
                        format!("{kind} '{}' is its own ancestor: {} -> {p}", self.name, seen.join(" -> ")),
                    ));
                }
                seen.push(p);
                next = siblings.iter().find(|l| l.name == p).and_then(|l| l.parent.as_deref());
            }
        }
        Ok(())
    }
}

/// `kind` with its indefinite article: "an intent", "a topic", "an entity".
fn article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

fn check_names<'a>(taxonomy: &str, kind: &str, names: impl Iterator<Item = &'a str>) -> Result<(), Problem> {
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if n.trim().is_empty() {
            return Err((
                vec![taxonomy.to_owned()],
                1,
                format!("{} of taxonomy '{taxonomy}' has an empty name", article(kind)),
            ));
        }
        if n == UNKNOWN {
            return Err((
                vec![taxonomy.to_owned(), n.to_owned()],
                1,
                format!("'{UNKNOWN}' is the label given below the threshold; {} cannot be called that", article(kind)),
            ));
        }
        if !seen.insert(n) {
            return Err((
                vec![taxonomy.to_owned(), n.to_owned()],
                2,
                format!("{kind} '{n}' is declared twice in taxonomy '{taxonomy}'"),
            ));
        }
    }
    Ok(())
}

fn check_pattern(taxonomy: &str, label: &str, pattern: &str) -> Result<(), Problem> {
    user_regex::compile(pattern).map(drop).map_err(|e| {
        let problem = user_regex::pattern_error(pattern, &e);
        (vec![taxonomy.to_owned(), label.to_owned(), pattern.to_owned()], 1, format!("'{label}': {problem}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORT: &str = "version: 2\ntaxonomies:\n  - name: support\n    threshold: 0.6\n    intents:\n      - name: refund\n        keywords: [money back]\n      - name: login\n        examples: [I cannot sign in]\n        parent: refund\n";

    #[test]
    fn reads_a_property_file_and_one_taxonomy() {
        let all = parse(SUPPORT).unwrap();
        assert_eq!(all[0].name, "support");
        assert_eq!(all[0].threshold, 0.6);
        let one = parse_one("{name: t, intents: [{name: a, keywords: [x]}]}").unwrap();
        assert_eq!(one.threshold, 0.5);
    }

    #[test]
    fn version_ignores_formatting_but_not_content() {
        let a = parse_one("name: t\nintents:\n  - {name: a, keywords: [x]}  # a comment\n").unwrap();
        let b = parse_one("{intents: [{keywords: [x], name: a}], name: t}").unwrap();
        let c = parse_one("{intents: [{keywords: [y], name: a}], name: t}").unwrap();
        assert_eq!(a.version(), b.version());
        assert_ne!(a.version(), c.version());
        assert_eq!(a.version().len(), 16);
    }

    #[test]
    fn hostile_nesting_and_indentation_are_refused_before_parsing() {
        let deep = format!("{{name: t, intents: {}{}}}", "[".repeat(40_000), "]".repeat(40_000));
        let started = std::time::Instant::now();
        let e = parse(&deep).unwrap_err();
        assert!(started.elapsed().as_millis() < 100, "refused at once");
        assert_eq!((e.line, e.column, e.message.as_str()), (1, 83, "nested more than 64 brackets deep"));
        let wide = format!("name: t\nintents:\n{}- name: a", " ".repeat(300));
        assert_eq!(parse(&wide).unwrap_err().message, "a line indented 302 columns deep, over the limit of 256");
        let quoted = "{name: t, intents: [{name: a, keywords: ['[[[[', \"{{{{\", it's]}]} # [[[[";
        assert_eq!(parse(quoted).unwrap()[0].intents[0].keywords, ["[[[[", "{{{{", "it's"]);
    }

    #[test]
    fn problems_name_their_line_and_column() {
        let e = parse(&SUPPORT.replace("parent: refund", "parent: billing")).unwrap_err();
        assert_eq!((e.line, e.column), (10, 9), "{e}");
        assert!(e.message.contains("parent 'billing'"), "{e}");
        let e = parse(&SUPPORT.replace("name: login", "name: refund")).unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("declared twice"), "{e}");
        let e = parse(&SUPPORT.replace("threshold: 0.6", "treshold: 0.6")).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("unknown field `treshold`"), "{e}");
        let e = parse(&SUPPORT.replace("keywords: [money back]", "patterns: ['(a{1000}){1000}']")).unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("more than"), "{e}");
        let e = parse(&SUPPORT.replace("keywords: [money back]", r"patterns: ['(\w+)\1']")).unwrap_err();
        assert!(e.message.contains("backreferences"), "{e}");
        let e = parse("taxonomies:\n  - name: empty\n").unwrap_err();
        assert!(e.message.contains("has no labels"), "{e}");
        let e = parse(&SUPPORT.replace("parent: refund", "parent: login")).unwrap_err();
        assert!(e.message.contains("own ancestor"), "{e}");
    }
}
