//! Data tests: generic tests declared on models, sources and their columns in property files
//! (`not_null`, `unique`, `accepted_values`, `relationships`, and `taxonomy_labels`, which accepts
//! exactly a taxonomy's labels), and singular tests: SQL files under the test paths. A test is a
//! query selecting the rows that fail it; it passes when there are none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::error::{Error, Result};

/// What a test is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// A model, by name.
    Model(String),
    /// A source table, by `(source, table)`.
    Source(String, String),
}

impl Subject {
    /// The Jinja that renders the subject's relation (and records the dependency).
    fn jinja(&self) -> String {
        format!("{{{{ {} }}}}", self.expression())
    }

    /// The Jinja expression of the subject's relation: `ref('m')`, `source('s', 't')`.
    fn expression(&self) -> String {
        match self {
            Self::Model(m) => format!("ref('{m}')"),
            Self::Source(s, t) => format!("source('{s}', '{t}')"),
        }
    }

    /// The name used in test names: `model` or `source_table`.
    fn slug(&self) -> String {
        match self {
            Self::Model(m) => m.clone(),
            Self::Source(s, t) => format!("source_{s}_{t}"),
        }
    }
}

/// Whether a failing test fails the run or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Failing rows fail the test, and `build` skips what depends on its model.
    #[default]
    Error,
    /// Failing rows are reported as a warning.
    Warn,
}

/// When a test's failures fail or warn (dbt's `fail_calc`, `warn_if`, `error_if`): the failures
/// are `fail_calc` over the failing rows (`count(*)`), compared with each condition (`!= 0`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// The SQL aggregate over the failing rows, when not `count(*)`.
    pub fail_calc: Option<String>,
    /// Warn when the failures meet it.
    pub warn_if: Condition,
    /// Fail (at severity error) when the failures meet it.
    pub error_if: Condition,
}

/// A comparison of the failures with a number: `>10`, `!= 0`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Condition {
    /// `>`, `>=`, `<`, `<=`, `=`, `!=`.
    pub op: String,
    /// The number compared with.
    pub value: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        let any = Condition { op: "!=".into(), value: 0.0 };
        Self { fail_calc: None, warn_if: any.clone(), error_if: any }
    }
}

impl Condition {
    /// Reads `>10`, `!= 0`, `>=5`.
    fn parse(text: &str) -> std::result::Result<Self, String> {
        static CONDITION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"^\s*(>=|<=|!=|<>|==|=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$").expect("valid regex")
        });
        let c = CONDITION
            .captures(text)
            .ok_or_else(|| format!("'{text}': expected a comparison with a number, such as '>10' or '!= 0'"))?;
        let op = match &c[1] {
            "<>" => "!=",
            "==" => "=",
            other => other,
        };
        Ok(Self { op: op.to_owned(), value: c[2].parse().map_err(|_| format!("'{text}': not a number"))? })
    }

    /// Whether `failures` meets the condition.
    pub fn holds(&self, failures: f64) -> bool {
        match self.op.as_str() {
            ">" => failures > self.value,
            ">=" => failures >= self.value,
            "<" => failures < self.value,
            "<=" => failures <= self.value,
            "=" => failures == self.value,
            _ => failures != self.value,
        }
    }
}

impl Thresholds {
    /// These thresholds with a test macro's own `config(fail_calc=..., warn_if=..., error_if=...)`
    /// for what its YAML did not set.
    pub fn with_defaults(&self, config: &[(String, serde_yaml::Value)]) -> std::result::Result<Self, String> {
        let mut out = self.clone();
        let default = Thresholds::default();
        for (key, value) in config {
            let Some(text) = value.as_str() else { continue };
            match key.as_str() {
                "fail_calc" if out.fail_calc.is_none() => out.fail_calc = Some(text.to_owned()),
                "warn_if" if out.warn_if == default.warn_if => out.warn_if = Condition::parse(text)?,
                "error_if" if out.error_if == default.error_if => out.error_if = Condition::parse(text)?,
                _ => {}
            }
        }
        Ok(out)
    }

    /// `fail`, `warn` or `pass` for `failures` at `severity`.
    pub fn status(&self, severity: Severity, failures: f64) -> &'static str {
        match severity {
            Severity::Error if self.error_if.holds(failures) => "fail",
            _ if self.warn_if.holds(failures) => "warn",
            _ => "pass",
        }
    }
}

/// One data test, before rendering.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DataTest {
    /// Its unique name, e.g. `not_null_conversations_conversation_id`.
    pub name: String,
    /// The file that declares it (a property file or the singular test's SQL file).
    pub declared_in: PathBuf,
    /// The model or source it tests (none for a singular test).
    pub subject: Option<Subject>,
    /// The column it tests, when a column's.
    pub column: Option<String>,
    /// Error or warn.
    pub severity: Severity,
    /// When its failures fail or warn.
    pub thresholds: Thresholds,
    /// The SQL template selecting the failing rows (Jinja: `ref`, `source`, macros).
    pub template: String,
}

/// The generic tests, by the name used in YAML.
pub const GENERIC_TESTS: [&str; 5] = ["not_null", "unique", "accepted_values", "relationships", "taxonomy_labels"];

/// The labels a taxonomy gives, for `taxonomy_labels`: `(taxonomy, intents, topics)`.
pub type TaxonomyLabels<'a> = &'a dyn Fn(&str) -> Option<(Vec<String>, Vec<String>)>;

/// Reads the `data_tests:` entries of one model, source table or column.
pub struct Declarations<'a> {
    /// The property file, relative to the project root.
    pub file: &'a Path,
    /// The property file's text, to locate entries by line.
    pub text: &'a str,
    /// Labels of the project's taxonomies.
    pub taxonomies: TaxonomyLabels<'a>,
    /// The macro a generic test defined with `{% test %}` is called as, by the name YAML uses
    /// (`positive`, `dbt_utils.expression_is_true`): `test_positive`, `dbt_utils.test_...`.
    pub generic: GenericTests<'a>,
}

/// Finds the macro of a generic test defined in the project or a package.
pub type GenericTests<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Declarations<'_> {
    /// The tests declared by `entries` on `subject` (and `column`, when a column's).
    pub fn tests(&self, subject: &Subject, column: Option<&str>, entries: &[Value]) -> Result<Vec<DataTest>> {
        entries.iter().map(|entry| self.test(subject, column, entry)).collect()
    }

    fn test(&self, subject: &Subject, column: Option<&str>, entry: &Value) -> Result<DataTest> {
        let (kind, args) = match entry {
            Value::String(name) => (name.as_str(), serde_yaml::Mapping::new()),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, v) = m.iter().next().expect("one entry");
                let kind = k.as_str().ok_or_else(|| self.error(subject, column, "", "a test name must be a string"))?;
                let args = match v {
                    Value::Mapping(a) => a.clone(),
                    Value::Null => serde_yaml::Mapping::new(),
                    _ => return Err(self.error(subject, column, kind, "expected a mapping of arguments")),
                };
                (kind, args)
            }
            _ => {
                return Err(self.error(
                    subject,
                    column,
                    "",
                    "a data test is a name (`- not_null`) or a mapping of one name to its arguments",
                ))
            }
        };
        let mut args = Args { decl: self, subject, column, kind, map: flatten(args) };
        let severity = match args.take_str("severity")?.as_deref() {
            None | Some("error") => Severity::Error,
            Some("warn") => Severity::Warn,
            Some(other) => {
                return Err(self.error(subject, column, kind, &format!("severity '{other}': expected error or warn")))
            }
        };
        let filter = args.take_str("where")?;
        let mut thresholds = Thresholds { fail_calc: args.take_str("fail_calc")?, ..Thresholds::default() };
        for (key, slot) in [("warn_if", &mut thresholds.warn_if), ("error_if", &mut thresholds.error_if)] {
            if let Some(text) = args.take_str(key)? {
                *slot =
                    Condition::parse(&text).map_err(|m| self.error(subject, column, kind, &format!("{key} {m}")))?;
            }
        }
        if !GENERIC_TESTS.contains(&kind) {
            if let Some(callee) = (self.generic)(kind) {
                return Ok(macro_test(
                    self.file,
                    subject,
                    column,
                    kind,
                    &callee,
                    (severity, thresholds),
                    filter.as_deref(),
                    args.map,
                ));
            }
        }
        let column = match args.take_str("column_name")? {
            Some(c) => Some(c),
            None => column.map(str::to_owned),
        };
        let Some(col) = column.clone() else {
            return Err(self.error(
                subject,
                None,
                kind,
                "needs a column: declare it under a column or give column_name",
            ));
        };
        let from = match &filter {
            Some(w) => format!("(select * from {} where {w})", subject.jinja()),
            None => subject.jinja(),
        };
        let (template, suffix) = match kind {
            "not_null" => (format!("select * from {from} as __t where {col} is null"), String::new()),
            "unique" => (
                format!(
                    "select {col}, count(*) as n_records from {from} as __t where {col} is not null group by {col} having count(*) > 1"
                ),
                String::new(),
            ),
            "accepted_values" => {
                let values = args.take_list("values")?.ok_or_else(|| self.error(subject, Some(&col), kind, "needs values: [...]"))?;
                let quote = args.take_bool("quote")?.unwrap_or(true);
                (not_in(&from, &col, &values, quote), String::new())
            }
            "relationships" => {
                let to = args.take_str("to")?.ok_or_else(|| self.error(subject, Some(&col), kind, "needs to: ref('model')"))?;
                let field = args.take_str("field")?.ok_or_else(|| self.error(subject, Some(&col), kind, "needs field: column"))?;
                let target = to.trim().trim_start_matches("{{").trim_end_matches("}}").trim().to_owned();
                let slug: String = target.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
                (
                    format!(
                        "select __t.* from {from} as __t where __t.{col} is not null and not exists (select 1 from {{{{ {target} }}}} as __p where __p.{field} = __t.{col})"
                    ),
                    format!("__{field}__{}", slug.trim_matches('_')),
                )
            }
            "taxonomy_labels" => {
                let name = args.take_str("taxonomy")?.ok_or_else(|| self.error(subject, Some(&col), kind, "needs taxonomy: name"))?;
                let (intents, topics) = (self.taxonomies)(&name).ok_or_else(|| {
                    self.error(subject, Some(&col), kind, &format!("no taxonomy named '{name}' in this project"))
                })?;
                let template = match args.take_str("labels")?.as_deref() {
                    None | Some("intents") => taxonomy_labels_sql(&from, &col, &Labels::Intents, &intents),
                    Some("topics") => {
                        let separator = args.take_str("separator")?.map(|s| s.replace('\'', "''"));
                        taxonomy_labels_sql(&from, &col, &Labels::Topics { separator }, &topics)
                    }
                    Some(other) => {
                        return Err(self.error(subject, Some(&col), kind, &format!("labels '{other}': expected intents or topics")))
                    }
                };
                (template, String::new())
            }
            other => {
                return Err(self.error(
                    subject,
                    Some(&col),
                    other,
                    &match crate::project::dbt_keys::nearest(other, &GENERIC_TESTS) {
                        Some(near) => format!("unknown data test '{other}'; did you mean '{near}'?"),
                        None => format!(
                            "unknown data test '{other}': expected one of {}, or a test a macro file or package defines",
                            GENERIC_TESTS.join(", ")
                        ),
                    },
                ))
            }
        };
        args.done()?;
        Ok(DataTest {
            name: format!("{kind}_{}_{col}{suffix}", subject.slug()),
            declared_in: self.file.to_path_buf(),
            subject: Some(subject.clone()),
            column: Some(col),
            severity,
            thresholds,
            template,
        })
    }

    /// An error naming the file (and the line of the entry, when it can be found), the subject,
    /// the column and the test.
    fn error(&self, subject: &Subject, column: Option<&str>, kind: &str, message: &str) -> Error {
        let name = match subject {
            Subject::Model(m) => m.as_str(),
            Subject::Source(_, t) => t.as_str(),
        };
        let mut needles = vec![name];
        needles.extend(column);
        if !kind.is_empty() {
            needles.push(kind);
        }
        let (line, column_no) = locate(self.text, &needles);
        let what = match column {
            Some(c) => format!("{name}.{c}"),
            None => name.to_owned(),
        };
        let test = if kind.is_empty() { String::new() } else { format!(" test '{kind}'") };
        Error::Yaml {
            path: self.file.to_path_buf(),
            line,
            column: column_no,
            message: format!("{what}:{test} {message}"),
        }
    }
}

/// The arguments of one test entry, consumed as they are read; what is left is an error.
struct Args<'a> {
    decl: &'a Declarations<'a>,
    subject: &'a Subject,
    column: Option<&'a str>,
    kind: &'a str,
    map: serde_yaml::Mapping,
}

impl Args<'_> {
    fn err(&self, message: String) -> Error {
        self.decl.error(self.subject, self.column, self.kind, &message)
    }

    fn take_str(&mut self, key: &str) -> Result<Option<String>> {
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.err(format!("'{key}' must be a string"))),
        }
    }

    fn take_bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.err(format!("'{key}' must be true or false"))),
        }
    }

    fn take_list(&mut self, key: &str) -> Result<Option<Vec<String>>> {
        match self.map.remove(key) {
            None => Ok(None),
            Some(Value::Sequence(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    _ => Err(self.err(format!("'{key}' must be a list of strings or numbers"))),
                })
                .collect::<Result<_>>()
                .map(Some),
            Some(_) => Err(self.err(format!("'{key}' must be a list"))),
        }
    }

    fn done(self) -> Result<()> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => {
                let key = k.as_str().unwrap_or("?").to_owned();
                Err(self.err(format!("unknown argument '{key}'")))
            }
        }
    }
}

/// A generic test defined by a macro (`{% test name(model, column_name, ...) %}`): called with
/// the subject as `model`, the column as `column_name` and the other arguments as keywords,
/// each rendered as dbt renders test arguments.
#[allow(clippy::too_many_arguments)]
fn macro_test(
    file: &Path,
    subject: &Subject,
    column: Option<&str>,
    kind: &str,
    callee: &str,
    (severity, thresholds): (Severity, Thresholds),
    filter: Option<&str>,
    mut args: serde_yaml::Mapping,
) -> DataTest {
    let relation = subject.expression();
    let model = match filter {
        Some(w) => format!("'(select * from ' ~ {relation} ~ ' where ' ~ {} ~ ') dbt_subquery'", jinja_string(w)),
        None => relation,
    };
    let column = match args.remove("column_name") {
        Some(Value::String(c)) => Some(c),
        _ => column.map(str::to_owned),
    };
    let mut call = vec![format!("model={model}")];
    call.extend(column.as_ref().map(|c| format!("column_name={}", jinja_string(c))));
    for (key, value) in &args {
        let Some(key) = key.as_str() else { continue };
        if TEST_CONFIGS.contains(&key) {
            continue;
        }
        call.push(format!("{key}={}", jinja_argument(value)));
    }
    let slug = kind.replace('.', "_");
    let name = match &column {
        Some(c) => format!("{slug}_{}_{c}", subject.slug()),
        None => format!("{slug}_{}", subject.slug()),
    };
    DataTest {
        name,
        declared_in: file.to_path_buf(),
        subject: Some(subject.clone()),
        column,
        severity,
        thresholds,
        template: format!("{{{{ {callee}({}) }}}}", call.join(", ")),
    }
}

/// dbt's test configs, which are not arguments of the test's macro.
const TEST_CONFIGS: [&str; 11] = [
    "tags",
    "meta",
    "enabled",
    "warn_if",
    "error_if",
    "store_failures",
    "store_failures_as",
    "limit",
    "fail_calc",
    "alias",
    "name",
];

/// A YAML test argument as a Jinja expression, as dbt renders one: a string that looks like a
/// call of `ref`, `source`, `var`, `env_var` or `doc` is that call; other strings are strings.
fn jinja_argument(value: &Value) -> String {
    static CALL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$").expect("valid regex")
    });
    match value {
        Value::Null => "none".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if CALL.is_match(s) => s.trim().to_owned(),
        Value::String(s) => jinja_string(s),
        // Changeable, as Python's lists and dicts are: test macros append to their arguments.
        Value::Sequence(items) => {
            format!("__list([{}])", items.iter().map(jinja_argument).collect::<Vec<_>>().join(", "))
        }
        Value::Mapping(map) => {
            let entries = map.iter().map(|(k, v)| format!("{}: {}", jinja_argument(k), jinja_argument(v)));
            format!("__dict({{{}}})", entries.collect::<Vec<_>>().join(", "))
        }
        Value::Tagged(t) => jinja_argument(&t.value),
    }
}

/// `text` as a Jinja string literal.
fn jinja_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// dbt's `arguments:` (1.10) and `config:` blocks merged into the test's top-level arguments.
fn flatten(mut args: serde_yaml::Mapping) -> serde_yaml::Mapping {
    for block in ["arguments", "config"] {
        if let Some(Value::Mapping(inner)) = args.remove(block) {
            args.extend(inner);
        }
    }
    args
}

fn quoted(values: &[String]) -> String {
    values.iter().map(|v| crate::render::quote_literal(v)).collect::<Vec<_>>().join(", ")
}

/// Which labels of a taxonomy a `taxonomy_labels` test accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labels {
    /// Its intents and `unknown`, in a text column.
    Intents,
    /// Its topics, each element of an array column, or of a text column split on `separator`
    /// (SQL-escaped).
    Topics {
        /// The separator of a text list.
        separator: Option<String>,
    },
}

/// The rows of `from` (a relation's SQL) whose column `col` holds a label outside `labels`
/// (intents: or `unknown`).
pub fn taxonomy_labels_sql(from: &str, col: &str, kind: &Labels, labels: &[String]) -> String {
    match kind {
        Labels::Intents => {
            let mut values = labels.to_vec();
            values.push("unknown".into());
            not_in(from, col, &values, true)
        }
        Labels::Topics { separator } => {
            let list = match separator {
                Some(sep) => format!("string_to_array({col}, '{sep}')"),
                None => col.to_owned(),
            };
            format!(
                "select * from (select unnest({list}) as label from {from} as __t) as __l where label <> '' and label not in ({})",
                quoted(labels)
            )
        }
    }
}

/// Rows whose `col` is not one of `values`.
fn not_in(from: &str, col: &str, values: &[String], quote: bool) -> String {
    if quote {
        format!(
            "select * from {from} as __t where {col} is not null and cast({col} as varchar) not in ({})",
            quoted(values)
        )
    } else {
        format!("select * from {from} as __t where {col} is not null and {col} not in ({})", values.join(", "))
    }
}

/// The 1-based line and column of the first occurrence of the last needle after the ones before
/// it (each searched from the line after the previous); `(0, 0)` when one is missing.
fn locate(text: &str, needles: &[&str]) -> (usize, usize) {
    let mut from = 0;
    let mut found = None;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => {
                found = Some(from + at);
                from += at + needle.len();
            }
            None => return (0, 0),
        }
    }
    found.map_or((0, 0), |at| crate::analysis::source_map::line_column(text, at))
}

/// The singular tests: every `.sql` file under `dirs`, each a query selecting failing rows.
pub fn singular(root: &Path, files: &[PathBuf]) -> Result<Vec<DataTest>> {
    files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "sql"))
        .map(|file| {
            let template = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
            Ok(DataTest {
                name: file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
                declared_in: file.strip_prefix(root).unwrap_or(file).to_path_buf(),
                subject: None,
                column: None,
                severity: Severity::Error,
                thresholds: Thresholds::default(),
                template,
            })
        })
        .collect()
}

/// Makes test names unique, adding `_2`, `_3`... to repeats, in declaration order.
pub fn dedupe_names(tests: &mut [DataTest]) {
    let mut seen = BTreeSet::new();
    for test in tests {
        let base = test.name.clone();
        let mut n = 1;
        while !seen.insert(test.name.clone()) {
            n += 1;
            test.name = format!("{base}_{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl<'a>(text: &'a str, labels: TaxonomyLabels<'a>) -> Declarations<'a> {
        Declarations { file: Path::new("models/m.yml"), text, taxonomies: labels, generic: &|_| None }
    }

    fn entries(yaml: &str) -> Vec<Value> {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn generic_tests_become_queries_of_failing_rows() {
        let none = |_: &str| None;
        let d = decl("", &none);
        let subject = Subject::Model("orders".into());
        let tests = d
            .tests(
                &subject,
                Some("status"),
                &entries("[not_null, {accepted_values: {values: [open, shipped], config: {severity: warn}}}]"),
            )
            .unwrap();
        assert_eq!(tests[0].name, "not_null_orders_status");
        assert_eq!(tests[0].template, "select * from {{ ref('orders') }} as __t where status is null");
        assert_eq!(tests[1].severity, Severity::Warn);
        assert!(tests[1].template.ends_with("not in ('open', 'shipped')"), "{}", tests[1].template);
        let rel = d
            .tests(
                &subject,
                Some("account_id"),
                &entries("[{relationships: {arguments: {to: \"ref('accounts')\", field: id}}}]"),
            )
            .unwrap();
        assert_eq!(rel[0].name, "relationships_orders_account_id__id__ref__accounts");
        assert!(rel[0].template.contains("from {{ ref('accounts') }} as __p where __p.id = __t.account_id"));
    }

    #[test]
    fn taxonomy_labels_accept_the_taxonomy_and_unknown() {
        let labels = |name: &str| (name == "support").then(|| (vec!["refund".to_string()], vec!["app".to_string()]));
        let d = decl("", &labels);
        let s = Subject::Model("intents".into());
        let t = d.tests(&s, Some("intent"), &entries("[{taxonomy_labels: {taxonomy: support}}]")).unwrap();
        assert!(t[0].template.ends_with("not in ('refund', 'unknown')"), "{}", t[0].template);
        let t =
            d.tests(&s, Some("topics"), &entries("[{taxonomy_labels: {taxonomy: support, labels: topics}}]")).unwrap();
        assert!(t[0].template.contains("unnest(topics)") && t[0].template.ends_with("not in ('app')"));
        let err = d.tests(&s, Some("intent"), &entries("[{taxonomy_labels: {taxonomy: sales}}]")).unwrap_err();
        assert!(err.to_string().contains("no taxonomy named 'sales'"), "{err}");
    }

    #[test]
    fn thresholds_decide_fail_warn_and_pass() {
        let none = |_: &str| None;
        let text = "models:\n  - name: orders\n";
        let d = decl(text, &none);
        let s = Subject::Model("orders".into());
        let t =
            d.tests(&s, Some("id"), &entries("[{not_null: {config: {warn_if: '>2', error_if: '>= 10'}}}]")).unwrap();
        let th = &t[0].thresholds;
        assert_eq!(
            (th.status(Severity::Error, 1.0), th.status(Severity::Error, 3.0), th.status(Severity::Error, 10.0)),
            ("pass", "warn", "fail")
        );
        assert_eq!(th.status(Severity::Warn, 10.0), "warn");
        assert_eq!(Thresholds::default().status(Severity::Error, 1.0), "fail");
        let err =
            d.tests(&s, Some("id"), &entries("[{not_null: {config: {error_if: 'lots'}}}]")).unwrap_err().to_string();
        assert!(err.contains("error_if 'lots': expected a comparison with a number"), "{err}");
    }

    #[test]
    fn unknown_tests_and_arguments_are_located_errors() {
        let none = |_: &str| None;
        let text = "models:\n  - name: orders\n    columns:\n      - name: id\n        data_tests: [uniqe]\n";
        let d = decl(text, &none);
        let s = Subject::Model("orders".into());
        let err = d.tests(&s, Some("id"), &entries("[uniqe]")).unwrap_err().to_string();
        assert_eq!(err, "models/m.yml:5:22: orders.id: test 'uniqe' unknown data test 'uniqe'; did you mean 'unique'?");
        let err = d.tests(&s, Some("id"), &entries("[{unique: {colour: red}}]")).unwrap_err().to_string();
        assert!(err.ends_with("unknown argument 'colour'"), "{err}");
    }

    #[test]
    fn repeated_names_get_a_number() {
        let none = |_: &str| None;
        let d = decl("", &none);
        let mut t = d.tests(&Subject::Model("m".into()), Some("c"), &entries("[not_null, not_null]")).unwrap();
        dedupe_names(&mut t);
        assert_eq!((t[0].name.as_str(), t[1].name.as_str()), ("not_null_m_c", "not_null_m_c_2"));
    }
}
