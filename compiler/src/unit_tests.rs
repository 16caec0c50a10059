//! Unit tests (dbt 1.8's `unit_tests:`): a model's SQL run on given rows of its inputs and
//! compared with the rows expected. They run on the embedded engine, whatever the target, as
//! dbt runs them without the warehouse's data: each input the model reads (`ref`, `source`,
//! `this`) becomes a common table expression of its given rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Deserialize;

use crate::compile::{compile, CompileOptions, Compiled};
use crate::engine::EmbeddedEngine;
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::Project;
use crate::render::{quote_ident, quote_literal, CompiledModel};

/// One unit test as a property file declares it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitTestSpec {
    /// Its name, unique in the project.
    pub name: String,
    /// The model it tests.
    pub model: String,
    /// What it checks.
    #[serde(default)]
    pub description: Option<String>,
    /// The rows of each input.
    #[serde(default)]
    pub given: Vec<Given>,
    /// The rows the model must give.
    pub expect: Rows,
    /// Vars, and `is_incremental`, as the test renders the model.
    #[serde(default)]
    pub overrides: Overrides,
    /// `tags`, `enabled`, `meta`.
    #[serde(default)]
    pub config: serde_yaml::Mapping,
}

/// The given rows of one input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    /// `ref('model')`, `source('source', 'table')` or `this`.
    pub input: String,
    /// The rows.
    #[serde(flatten)]
    pub rows: Rows,
}

/// Rows, as `dict` (a list of mappings, the default), `csv` (text with a header) or `sql` (a
/// query).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rows {
    /// `dict`, `csv` or `sql`.
    #[serde(default)]
    pub format: Option<String>,
    /// The rows in that format.
    #[serde(default)]
    pub rows: Option<serde_yaml::Value>,
}

/// What a unit test changes in how the model renders.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Vars over the project's.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// `is_incremental: true` renders the model's incremental branch.
    #[serde(default)]
    pub macros: BTreeMap<String, serde_yaml::Value>,
    /// Environment variables (accepted; `env_var()` reads the process's).
    #[serde(default)]
    pub env_vars: BTreeMap<String, serde_yaml::Value>,
}

/// A unit test with the property file declaring it.
#[derive(Debug, Clone)]
pub struct UnitTest {
    /// The spec.
    pub spec: UnitTestSpec,
    /// The property file.
    pub declared_in: PathBuf,
}

/// How one unit test ended.
#[derive(Debug)]
pub struct Outcome {
    /// The test's name.
    pub name: String,
    /// The model it tests.
    pub model: String,
    /// `None` when it passed, else what differed or failed.
    pub failure: Option<String>,
}

impl UnitTest {
    /// Checks what can be checked without rendering: the model exists, the formats are known.
    pub fn check(&self, project: &Project) -> std::result::Result<(), String> {
        if !project.models.contains_key(&self.spec.model) {
            return Err(format!("tests model '{}', which is not in this project", self.spec.model));
        }
        for rows in self.spec.given.iter().map(|g| &g.rows).chain(std::iter::once(&self.spec.expect)) {
            if let Some(f) = rows.format.as_deref().filter(|f| !["dict", "csv", "sql"].contains(f)) {
                return Err(format!("format '{f}': expected dict, csv or sql"));
            }
        }
        Ok(())
    }

    fn enabled(&self) -> bool {
        self.spec.config.get("enabled").and_then(|v| v.as_bool()).unwrap_or(true)
    }
}

/// Runs the unit tests of the models in `selected` (all when empty) on one embedded engine with
/// the project's taxonomies; the project is compiled once for each set of `overrides.vars`.
pub async fn run(
    project: &Project,
    vars: &BTreeMap<String, serde_yaml::Value>,
    selected: &BTreeSet<String>,
) -> Result<Vec<Outcome>> {
    let target = Target::embedded("unit_test", crate::project::profiles::DEFAULT_SCHEMA);
    let tests: Vec<&UnitTest> = project
        .unit_tests
        .iter()
        .filter(|t| t.enabled() && (selected.is_empty() || selected.contains(&t.spec.model)))
        .collect();
    if tests.is_empty() {
        return Ok(Vec::new());
    }
    let scratch = tempfile_dir()?;
    let engine = EmbeddedEngine::new(scratch.clone());
    engine.register_taxonomies(project);
    let mut compiles: BTreeMap<String, Result<Compiled>> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for test in tests {
        let mut options = CompileOptions::with_vars(vars.clone());
        options.vars.extend(test.spec.overrides.vars.clone());
        let key = serde_yaml::to_string(&test.spec.overrides.vars).unwrap_or_default();
        let compiled = compiles.entry(key).or_insert_with(|| compile(project, &target, &options));
        let failure = match compiled {
            Ok(compiled) => run_one(project, &target, &engine, compiled, options, test).await,
            Err(e) => Err(Error::Project(e.to_string())),
        };
        let failure = failure.unwrap_or_else(|e| Some(e.to_string()));
        outcomes.push(Outcome { name: test.spec.name.clone(), model: test.spec.model.clone(), failure });
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(outcomes)
}

/// An empty directory of this process for the unit tests' engine (which writes nothing there).
fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("convlytics-unit-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

/// Runs one unit test on `compiled` (compiled with `options`; compiled again with the model's
/// relation existing when it overrides `is_incremental`): `None` when the model gave the expected
/// rows.
async fn run_one(
    project: &Project,
    target: &Target,
    engine: &EmbeddedEngine,
    compiled: &Compiled,
    mut options: CompileOptions,
    test: &UnitTest,
) -> Result<Option<String>> {
    let spec = &test.spec;
    let fail = |m: String| Error::Project(format!("{}: unit test '{}': {m}", test.declared_in.display(), spec.name));
    let find = |compiled: &Compiled| compiled.models.iter().find(|m| m.name == spec.model).cloned();
    let incremental = spec.overrides.macros.get("is_incremental").and_then(|v| v.as_bool()).unwrap_or(false);
    let again;
    let compiled = match find(compiled) {
        Some(model) if incremental => {
            options.existing.insert((model.relation.schema.clone(), model.relation.identifier.clone()));
            again = compile(project, target, &options)?;
            &again
        }
        _ => compiled,
    };
    let model = find(compiled).ok_or_else(|| fail(format!("model '{}' is disabled", spec.model)))?;
    if !model.questions.is_empty() {
        return Err(fail(format!(
            "model '{}' asks the warehouse while compiling, which a unit test has no data for",
            spec.model
        )));
    }
    let sql = test_sql(project, target, compiled, &model, test)?;
    let rows = engine.rows(&sql, &format!("unit test {} ({})", spec.name, test.declared_in.display())).await?;
    Ok(compare(&rows)
        .map(|diff| format!("({})\n{diff}", expected_columns(&spec.expect).unwrap_or_default().join(", "))))
}

/// The query giving every output row of the model on the given rows, and every expected row,
/// each column as text and the last column `actual` or `expected` (a union, so both sides are
/// read with one type per column).
fn test_sql(
    project: &Project,
    target: &Target,
    compiled: &Compiled,
    model: &CompiledModel,
    test: &UnitTest,
) -> Result<String> {
    let spec = &test.spec;
    let fail = |m: String| Error::Project(format!("{}: unit test '{}': {m}", test.declared_in.display(), spec.name));
    let mut bodies = Vec::new();
    for (i, given) in spec.given.iter().enumerate() {
        let (name, relation, known) = input(project, target, compiled, model, &given.input).map_err(fail)?;
        let body = rows_sql(&given.rows, &known).map_err(|m| fail(format!("given {}: {m}", given.input)))?;
        bodies.push((format!("{name}_given_{i}"), relation, body));
    }
    let read: BTreeSet<String> = model
        .refs
        .iter()
        .map(|r| format!("ref('{r}')"))
        .chain(model.sources.iter().map(|(s, t)| format!("source('{s}', '{t}')")))
        .collect();
    let given: BTreeSet<String> = spec.given.iter().map(|g| normalized(&g.input)).collect();
    if let Some(missing) = read.iter().find(|r| !given.contains(*r)) {
        return Err(fail(format!("the model reads {missing}, which has no given rows")));
    }
    let columns = expected_columns(&spec.expect).map_err(fail)?;
    let expected = rows_sql(&spec.expect, &[]).map_err(|m| fail(format!("expect: {m}")))?;
    let actual = crate::compile::with_inputs(&model.sql, &bodies);
    let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let text = columns.iter().map(|c| format!("cast({} as varchar)", quote_ident(c))).collect::<Vec<_>>().join(", ");
    Ok(format!(
        "select {text}, __side from (\nselect {list}, 'actual' as __side from (\n{actual}\n) as __actual\nunion all\nselect {list}, 'expected' as __side from (\n{expected}\n) as __expected\n) as __both"
    ))
}

/// `input` written as `ref('m')` / `source('s', 't')` with single quotes and one space.
fn normalized(input: &str) -> String {
    static CALL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"^\s*(ref|source)\s*\(\s*(.*?)\s*\)\s*$"#).expect("valid regex")
    });
    let Some(c) = CALL.captures(input) else { return input.trim().to_owned() };
    let args: Vec<String> =
        c[2].split(',').map(|a| format!("'{}'", a.trim().trim_matches(|q| q == '\'' || q == '"'))).collect();
    format!("{}({})", &c[1], args.join(", "))
}

/// The CTE name, the relation as the model's SQL names it, and the known columns of an input.
fn input(
    project: &Project,
    target: &Target,
    compiled: &Compiled,
    model: &CompiledModel,
    input: &str,
) -> std::result::Result<(String, String, Vec<String>), String> {
    let input = normalized(input);
    let args = |s: &str| -> Vec<String> {
        s.split_once('(')
            .map(|(_, a)| a.trim_end_matches(')').split(',').map(|x| x.trim().trim_matches('\'').to_owned()).collect())
            .unwrap_or_default()
    };
    if input == "this" {
        let columns = model.columns.iter().map(|c| c.name.clone()).collect();
        return Ok(("this".into(), model.relation.to_string(), columns));
    }
    if input.starts_with("ref(") {
        let name = args(&input).pop().unwrap_or_default();
        if let Some(m) = compiled.models.iter().find(|m| m.name == name) {
            return Ok((name.clone(), m.relation.to_string(), m.columns.iter().map(|c| c.name.clone()).collect()));
        }
        if let Some(seed) = compiled.seeds.iter().find(|s| s.name == name) {
            let header = std::fs::read_to_string(project.root.join(&seed.path)).unwrap_or_default();
            let columns = header
                .lines()
                .next()
                .unwrap_or_default()
                .split(seed.delimiter as char)
                .map(|c| c.trim().to_owned())
                .collect();
            return Ok((name.clone(), Compiled::seed_relation(target, seed).to_string(), columns));
        }
        return Err(format!("input {input}: no model or seed named '{name}'"));
    }
    if input.starts_with("source(") {
        let parts = args(&input);
        let key = (parts.first().cloned().unwrap_or_default(), parts.get(1).cloned().unwrap_or_default());
        let table = project.sources.get(&key).ok_or_else(|| format!("input {input}: no such source table"))?;
        let relation = crate::render::Relation { schema: table.schema.clone(), identifier: table.identifier.clone() };
        return Ok((
            format!("{}_{}", key.0, key.1),
            relation.to_string(),
            table.columns.iter().map(|c| c.name.clone()).collect(),
        ));
    }
    Err(format!("input '{input}': expected ref('model'), source('source', 'table') or this"))
}

/// The columns the expected rows name, in order of first appearance.
fn expected_columns(rows: &Rows) -> std::result::Result<Vec<String>, String> {
    let parsed = parse(rows)?;
    match parsed {
        Parsed::Rows(columns, _) if !columns.is_empty() => Ok(columns),
        Parsed::Sql(_) => Err("expect: rows in sql format cannot say which columns to compare: use dict or csv".into()),
        _ => Err("expect: needs at least one row, or a csv header".into()),
    }
}

/// Rows as a SQL query: the given columns, then the `known` columns they lack as NULL.
fn rows_sql(rows: &Rows, known: &[String]) -> std::result::Result<String, String> {
    let (mut columns, values) = match parse(rows)? {
        Parsed::Sql(sql) => return Ok(sql),
        Parsed::Rows(columns, values) => (columns, values),
    };
    let given = columns.len();
    let lacking: Vec<String> =
        known.iter().filter(|k| !columns.iter().any(|c| c.eq_ignore_ascii_case(k))).cloned().collect();
    columns.extend(lacking);
    if columns.is_empty() {
        return Err("no columns: give at least one row".into());
    }
    let row = |values: &[Option<String>]| -> String {
        let cells = columns.iter().enumerate().map(|(i, c)| {
            let value = if i < given { values.get(i).cloned().flatten() } else { None };
            format!("{} as {}", value.unwrap_or_else(|| "null".into()), quote_ident(c))
        });
        format!("select {}", cells.collect::<Vec<_>>().join(", "))
    };
    if values.is_empty() {
        return Ok(format!("{} where 1 = 0", row(&[])));
    }
    Ok(values.iter().map(|v| row(v)).collect::<Vec<_>>().join("\nunion all\n"))
}

/// Rows read from their format: column names and each row's SQL literals (`None` for NULL),
/// or a query.
enum Parsed {
    Rows(Vec<String>, Vec<Vec<Option<String>>>),
    Sql(String),
}

fn parse(rows: &Rows) -> std::result::Result<Parsed, String> {
    let value = rows.rows.clone().unwrap_or(serde_yaml::Value::Sequence(Vec::new()));
    match rows.format.as_deref().unwrap_or("dict") {
        "sql" => value.as_str().map(|s| Parsed::Sql(s.to_owned())).ok_or_else(|| "sql rows must be a query".into()),
        "csv" => {
            let text = value.as_str().ok_or("csv rows must be text with a header line")?;
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
            let columns: Vec<String> = reader.headers().map_err(|e| e.to_string())?.iter().map(str::to_owned).collect();
            let mut out = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| e.to_string())?;
                out.push(record.iter().map(|v| (!v.is_empty() && v != "null").then(|| quote_literal(v))).collect());
            }
            Ok(Parsed::Rows(columns, out))
        }
        _ => {
            let list = value.as_sequence().ok_or("dict rows must be a list of mappings")?;
            let mut columns: Vec<String> = Vec::new();
            for row in list {
                for key in row.as_mapping().ok_or("each row must be a mapping of column to value")?.keys() {
                    let key = key.as_str().ok_or("column names must be strings")?.to_owned();
                    if !columns.contains(&key) {
                        columns.push(key);
                    }
                }
            }
            let rows = list
                .iter()
                .map(|row| columns.iter().map(|c| row.get(c.as_str()).and_then(literal)).collect())
                .collect();
            Ok(Parsed::Rows(columns, rows))
        }
    }
}

/// A YAML value as a SQL literal (`None` for null).
fn literal(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::Null => None,
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::String(s) => Some(quote_literal(s)),
        other => Some(quote_literal(&serde_yaml::to_string(other).unwrap_or_default())),
    }
}

/// `None` when the actual and expected rows (the last column says which) are the same
/// multiset, else a diff: `+` rows the model gave and `-` rows it did not.
fn compare(rows: &[Vec<Option<String>>]) -> Option<String> {
    let mut counts: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let (side, cells) = row.split_last()?;
        let cells: Vec<String> = cells.iter().map(|c| c.clone().unwrap_or_else(|| "null".into())).collect();
        let entry = counts.entry(cells).or_default();
        if side.as_deref() == Some("actual") {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let mut diff = Vec::new();
    for (cells, (actual, expected)) in &counts {
        for _ in 0..(expected - actual).max(0) {
            diff.push(format!("- expected: ({})", cells.join(", ")));
        }
        for _ in 0..(actual - expected).max(0) {
            diff.push(format!("+ got:      ({})", cells.join(", ")));
        }
    }
    (!diff.is_empty()).then(|| diff.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_selects_and_differences_a_diff() {
        let rows: Rows = serde_yaml::from_str("rows: [{id: 1, email: a@x.com}, {id: 2}]").unwrap();
        let sql = rows_sql(&rows, &["id".into(), "region".into()]).unwrap();
        assert_eq!(
            sql,
            "select 1 as \"id\", 'a@x.com' as \"email\", null as \"region\"\nunion all\nselect 2 as \"id\", null as \"email\", null as \"region\""
        );
        let csv: Rows = serde_yaml::from_str("format: csv\nrows: |\n  tld\n  example.com\n").unwrap();
        assert_eq!(rows_sql(&csv, &[]).unwrap(), "select 'example.com' as \"tld\"");
        let row = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(compare(&[row(&["1", "actual"]), row(&["1", "expected"])]), None);
        let diff = compare(&[row(&["1", "actual"]), row(&["2", "expected"])]).unwrap();
        assert_eq!(diff, "+ got:      (1)\n- expected: (2)");
        assert_eq!(normalized(" ref(\"stg\") "), "ref('stg')");
        assert_eq!(normalized("source('raw','orders')"), "source('raw', 'orders')");
    }
}
