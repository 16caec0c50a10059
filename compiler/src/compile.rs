//! Compiling a project: render every enabled model and data test, inline ephemeral models, check
//! each model's SQL (see [`crate::analysis`]), order them, write `target/compiled/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::dag;
use crate::data_tests::{Severity, Subject};
use crate::error::{Error, Result};
use crate::project::profiles::Target;
use crate::project::{Materialization, Project, Seed, SourceTable};
use crate::render::{quote_ident, CompiledModel, Relation, Renderer};

/// What a compile depends on besides the project and the target.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// `--vars`, over the project's vars.
    pub vars: BTreeMap<String, serde_yaml::Value>,
    /// Relations, as `(schema, name)`, that already exist on the target: for a model built
    /// into one `is_incremental()` holds (when the model is incremental).
    pub existing: BTreeSet<(String, String)>,
    /// Source tables, as `(schema, identifier)`, that exist on the target: `load_relation()` of
    /// any other source is none.
    pub existing_sources: BTreeSet<(String, String)>,
    /// `--full-refresh`: rebuild incremental models from scratch.
    pub full_refresh: bool,
    /// The run's id, `{{ invocation_id }}` in models (a new UUID per compile).
    pub invocation_id: String,
    /// The time retention ages rows against.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            vars: BTreeMap::new(),
            existing: BTreeSet::new(),
            existing_sources: BTreeSet::new(),
            full_refresh: false,
            invocation_id: uuid::Uuid::new_v4().to_string(),
            now: chrono::Utc::now(),
        }
    }
}

impl CompileOptions {
    /// Options with these `--vars` and nothing built yet.
    pub fn with_vars(vars: BTreeMap<String, serde_yaml::Value>) -> Self {
        Self { vars, ..Self::default() }
    }
}

/// A data test after rendering.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompiledTest {
    /// Its unique name.
    pub name: String,
    /// The file that declares it.
    pub declared_in: PathBuf,
    /// The model or source it tests.
    pub subject: Option<Subject>,
    /// The column it tests.
    pub column: Option<String>,
    /// Error or warn.
    pub severity: Severity,
    /// When its failures fail or warn.
    pub thresholds: crate::data_tests::Thresholds,
    /// The SQL selecting the failing rows.
    pub sql: String,
    /// Models and seeds it reads.
    pub refs: BTreeSet<String>,
    /// Source tables it reads.
    pub sources: BTreeSet<(String, String)>,
    /// Whether its macros asked the warehouse: it is rendered again right before it runs.
    pub introspects: bool,
    /// Its SQL template, to render it again.
    #[serde(skip)]
    pub template: String,
    /// The relation `this` names while it renders.
    #[serde(skip)]
    pub this: Relation,
}

/// A compiled project: seeds, models in build order, tests, and sources with their files located.
#[derive(Debug)]
pub struct Compiled {
    /// Enabled seeds, by name.
    pub seeds: Vec<Seed>,
    /// Enabled models, each after the models it reads (ephemeral ones included, though they are
    /// never built).
    pub models: Vec<CompiledModel>,
    /// Data tests of enabled models and sources.
    pub tests: Vec<CompiledTest>,
    /// Source tables with `external_location` rendered and made absolute.
    pub sources: Vec<(SourceTable, Option<PathBuf>)>,
    /// The rendered `on-run-start` hooks (empty ones left out).
    pub on_run_start: Vec<String>,
    /// The rendered `on-run-end` hooks (empty ones left out).
    pub on_run_end: Vec<String>,
    /// The run's id (`{{ invocation_id }}`).
    pub invocation_id: String,
    /// When it was compiled: the time retention aged rows against.
    pub now: chrono::DateTime<chrono::Utc>,
    /// What the retention rules cover in each stored model, aged against `now`.
    pub retention: Vec<crate::governance::retention::Due>,
    /// dbt keys and configs the project uses that convlytics accepts and ignores.
    pub warnings: crate::project::dbt_keys::Warnings,
    /// The options it was compiled with, to render a model again.
    pub options: CompileOptions,
}

/// Guards `model`'s SQL with the retention rules due in it.
fn guard_retention(model: &mut CompiledModel, due: &[crate::governance::retention::Due]) {
    let mine: Vec<_> = due.iter().filter(|d| d.model == model.name).collect();
    if !mine.is_empty() {
        model.sql = crate::governance::retention::guard(&model.sql, model, &mine);
    }
}

/// The SQL of `test` rendered again (its ephemeral reads inlined).
pub fn finish_test_again(compiled: &Compiled, rendered: &crate::render::RenderedTest) -> String {
    with_ephemerals(&rendered.sql, &ephemeral_bodies(&compiled.models, &rendered.refs))
}

/// Finishes `fresh`, a model of `compiled` rendered again with the warehouse's answers, as a
/// compile finishes every model: analysed after the others, its retention guarded, the
/// ephemeral models it reads inlined.
pub fn finish_again(
    project: &Project,
    target: &Target,
    compiled: &Compiled,
    mut fresh: CompiledModel,
) -> Result<CompiledModel> {
    crate::analysis::analyze_after(project, target, &compiled.models, &mut fresh)?;
    let mut all = compiled.models.clone();
    if let Some(slot) = all.iter_mut().find(|m| m.name == fresh.name) {
        *slot = fresh.clone();
    }
    let due = crate::governance::retention::plan(project, &all, compiled.now)?;
    guard_retention(&mut fresh, &due);
    let read = ephemeral_bodies(&compiled.models, &fresh.refs);
    fresh.sql = with_ephemerals(&fresh.sql, &read);
    Ok(fresh)
}

impl Compiled {
    /// The relation a seed is loaded into.
    pub fn seed_relation(target: &Target, seed: &Seed) -> Relation {
        Relation { schema: target.schema.clone(), identifier: seed.name.clone() }
    }
}

/// Renders (in parallel), checks and orders every enabled model and test of `project` for
/// `target`; the first error in model-name order is the one reported. An approved taxonomy
/// changed since its approval fails it first.
pub fn compile(project: &Project, target: &Target, options: &CompileOptions) -> Result<Compiled> {
    crate::taxonomy::approval::check(project)?;
    let renderer = Renderer::new(project, target.clone(), options)?;
    let mut seeds: Vec<Seed> = Vec::new();
    for seed in project.seeds.values() {
        let mut seed = seed.clone();
        for (key, value) in std::mem::take(&mut seed.templated) {
            let text = renderer.render_str(value.as_str().unwrap_or_default(), &seed.path)?;
            let value = serde_yaml::from_str(&text).unwrap_or(serde_yaml::Value::String(text));
            seed.set(&key, &value)
                .map_err(|m| Error::Project(format!("seed config of {}: {m}", seed.path.display())))?;
        }
        if seed.enabled {
            seeds.push(seed);
        }
    }
    let all: Vec<&crate::project::Model> = project.models.values().collect();
    let render_all = || -> Result<Vec<CompiledModel>> {
        let results: Vec<Result<CompiledModel>> = all.par_iter().map(|model| renderer.render_model(model)).collect();
        let rendered: Result<Vec<CompiledModel>> = results.into_iter().collect();
        Ok(rendered?.into_iter().filter(|m| m.config.enabled).collect())
    };
    let mut first = render_all()?;
    // A model built elsewhere than `"<target schema>"."<name>"` changes what `ref()` renders.
    if renderer.place(&first)? {
        first = render_all()?;
    }
    let mut rendered: BTreeMap<String, CompiledModel> = first.into_iter().map(|m| (m.name.clone(), m)).collect();
    let seed_names: BTreeSet<&str> = seeds.iter().map(|s| s.name.as_str()).collect();
    for model in rendered.values() {
        if let Some(disabled) =
            model.refs.iter().find(|r| !rendered.contains_key(*r) && !seed_names.contains(r.as_str()))
        {
            return Err(Error::Project(format!(
                "{}: ref('{disabled}') names a disabled model or seed",
                model.path.display()
            )));
        }
    }
    let deps = rendered.iter().map(|(k, m)| (k.clone(), m.refs.clone())).collect();
    let order = dag::order(&deps)?;
    let mut models: Vec<CompiledModel> =
        order.into_iter().map(|name| rendered.remove(&name).expect("ordered model")).collect();
    crate::analysis::analyze(project, target, &mut models)?;
    let due = crate::governance::retention::plan(project, &models, options.now)?;
    for model in &mut models {
        guard_retention(model, &due);
    }
    inline_ephemerals(&mut models);
    let tests = compile_tests(project, &renderer, &models, &seeds)?;
    let sources = locate(project, &renderer)?;
    let hooks = |list: &[String]| -> Result<Vec<String>> {
        let rendered = list.iter().map(|h| renderer.render_str(h, std::path::Path::new("dbt_project.yml")));
        rendered.filter(|h| !h.as_ref().is_ok_and(|h| h.trim().is_empty())).collect()
    };
    let on_run_start = hooks(&project.config.on_run_start)?;
    let on_run_end = hooks(&project.config.on_run_end)?;
    let mut warnings = project.warnings.clone();
    for model in &models {
        warnings.extend(&model.warnings);
    }
    Ok(Compiled {
        seeds,
        models,
        tests,
        sources,
        on_run_start,
        on_run_end,
        invocation_id: options.invocation_id.clone(),
        now: options.now,
        retention: due,
        warnings,
        options: options.clone(),
    })
}

/// Renders every data test whose subject and reads are enabled (in parallel; the first error in
/// declaration order is the one reported).
fn compile_tests(
    project: &Project,
    renderer: &Renderer,
    models: &[CompiledModel],
    seeds: &[Seed],
) -> Result<Vec<CompiledTest>> {
    let relations: BTreeMap<&str, &CompiledModel> = models.iter().map(|m| (m.name.as_str(), m)).collect();
    let seed_names: BTreeSet<&str> = seeds.iter().map(|s| s.name.as_str()).collect();
    let enabled = |name: &str| relations.contains_key(name) || seed_names.contains(name);
    let compile_one = |test: &crate::data_tests::DataTest| -> Result<Option<CompiledTest>> {
        if let Some(Subject::Model(m)) = &test.subject {
            if !enabled(m) {
                return Ok(None);
            }
        }
        let this = match &test.subject {
            Some(Subject::Model(m)) => Relation { schema: String::new(), identifier: m.clone() },
            Some(Subject::Source(s, t)) => Relation { schema: s.clone(), identifier: t.clone() },
            None => Relation { schema: String::new(), identifier: test.name.clone() },
        };
        let rendered = renderer.render_test(&test.declared_in, &test.template, &this)?;
        // A test whose reads are disabled, or that disables itself (`config(enabled=false)`), is left out.
        let disabled = rendered.config.iter().any(|(k, v)| k == "enabled" && v.as_bool() == Some(false));
        if disabled || rendered.refs.iter().any(|r| !enabled(r)) {
            return Ok(None);
        }
        let sql = with_ephemerals(&rendered.sql, &ephemeral_bodies(models, &rendered.refs));
        let this = this.clone();
        Ok(Some(CompiledTest {
            name: test.name.clone(),
            declared_in: test.declared_in.clone(),
            subject: test.subject.clone(),
            column: test.column.clone(),
            severity: test.severity,
            thresholds: test
                .thresholds
                .with_defaults(&rendered.config)
                .map_err(|m| Error::Project(format!("{}: test {}: {m}", test.declared_in.display(), test.name)))?,
            sql,
            refs: rendered.refs,
            sources: rendered.sources,
            introspects: rendered.introspects,
            template: test.template.clone(),
            this,
        }))
    };
    let results: Vec<Result<Option<CompiledTest>>> = project.tests.par_iter().map(compile_one).collect();
    results.into_iter().filter_map(Result::transpose).collect()
}

/// Replaces each `ref()` of an ephemeral model by a common table expression holding its SQL. An
/// ephemeral model reading others carries their CTEs itself; `models` is in build order, so it is
/// complete before its readers.
fn inline_ephemerals(models: &mut [CompiledModel]) {
    for i in 0..models.len() {
        let read = ephemeral_bodies(&models[..i], &models[i].refs);
        models[i].sql = with_ephemerals(&models[i].sql, &read);
    }
}

/// The ephemeral models among `models` that `refs` names: `(name, relation, SQL)`.
fn ephemeral_bodies(models: &[CompiledModel], refs: &BTreeSet<String>) -> Vec<(String, String, String)> {
    models
        .iter()
        .filter(|m| m.config.materialized == Materialization::Ephemeral && refs.contains(&m.name))
        .map(|m| (m.name.clone(), m.relation.to_string(), m.sql.clone()))
        .collect()
}

/// `sql` with the ephemeral models it reads (`(name, relation, SQL)` in `bodies`) replaced by
/// common table expressions of their SQL.
fn with_ephemerals(sql: &str, bodies: &[(String, String, String)]) -> String {
    let named: Vec<(String, String, String)> =
        bodies.iter().map(|(n, relation, body)| (format!("__cte_{n}"), relation.clone(), body.clone())).collect();
    with_inputs(sql, &named)
}

/// `sql` with each relation of `inputs` (`(CTE name, relation as the SQL names it, SQL)`)
/// replaced by a common table expression of that name holding its SQL.
pub(crate) fn with_inputs(sql: &str, inputs: &[(String, String, String)]) -> String {
    if inputs.is_empty() {
        return sql.to_owned();
    }
    let replaced =
        inputs.iter().fold(sql.to_owned(), |sql, (name, relation, _)| sql.replace(relation, &quote_ident(name)));
    let bodies: Vec<(String, String)> = inputs.iter().map(|(n, _, b)| (n.clone(), b.clone())).collect();
    prepend_ctes(&replaced, &bodies)
}

/// `sql` with `bodies` as common table expressions: joined to its own `with` when it starts with
/// one, else in a `with` before it.
fn prepend_ctes(sql: &str, bodies: &[(String, String)]) -> String {
    let ctes: Vec<String> =
        bodies.iter().map(|(name, body)| format!("{} as (\n{}\n)", quote_ident(name), body.trim_end())).collect();
    let ctes = ctes.join(",\n");
    let start = leading_comments_end(sql);
    let rest = &sql[start..];
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if word.eq_ignore_ascii_case("with") {
        let after = &rest[4..];
        let trimmed = after.trim_start();
        let recursive = trimmed.get(..9).is_some_and(|w| w.eq_ignore_ascii_case("recursive"));
        let (head, tail) = if recursive {
            let at = 4 + (after.len() - trimmed.len()) + 9;
            rest.split_at(at)
        } else {
            rest.split_at(4)
        };
        format!("{}{head} {ctes},{tail}", &sql[..start])
    } else {
        format!("{}with {ctes}\n{rest}", &sql[..start])
    }
}

/// The byte offset after the leading white space and `--` / `/* */` comments of `sql`.
fn leading_comments_end(sql: &str) -> usize {
    let mut at = 0;
    loop {
        let rest = &sql[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            at += trimmed.find('\n').map_or(trimmed.len(), |n| n + 1);
        } else if trimmed.starts_with("/*") {
            at += trimmed.find("*/").map_or(trimmed.len(), |n| n + 2);
        } else {
            return at;
        }
    }
}

/// The project's source tables with their `external_location` rendered and made absolute, without
/// rendering any model (a broken model does not stop ad-hoc queries on the sources).
pub fn locate_sources(
    project: &Project,
    target: &Target,
    options: &CompileOptions,
) -> Result<Vec<(SourceTable, Option<PathBuf>)>> {
    locate(project, &Renderer::new(project, target.clone(), options)?)
}

fn locate(project: &Project, renderer: &Renderer) -> Result<Vec<(SourceTable, Option<PathBuf>)>> {
    project
        .sources
        .values()
        .map(|table| {
            let location = match &table.external_location {
                Some(loc) => Some(project.root.join(renderer.render_str(loc, &table.declared_in)?)),
                None => None,
            };
            Ok((table.clone(), location))
        })
        .collect()
}

/// Writes each model's and test's SQL under `target/compiled/<project>/`, as dbt does: a model at
/// its own path, a test at `<declaring file>/<test name>.sql`. Files that already hold the same
/// SQL are left alone; the rest are written in parallel.
pub fn write_compiled(project: &Project, compiled: &Compiled) -> Result<()> {
    let base = project.target_dir().join("compiled").join(&project.config.name);
    let models = compiled.models.iter().map(|m| (m.path.clone(), &m.sql));
    let tests = compiled.tests.iter().map(|t| {
        let path =
            if t.subject.is_some() { t.declared_in.join(format!("{}.sql", t.name)) } else { t.declared_in.clone() };
        (path, &t.sql)
    });
    let files: Vec<(PathBuf, &String)> = models.chain(tests).map(|(rel, sql)| (base.join(rel), sql)).collect();
    let dirs: BTreeSet<&std::path::Path> = files.iter().filter_map(|(p, _)| p.parent()).collect();
    let mut new_dirs = BTreeSet::new();
    for dir in dirs {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            new_dirs.insert(dir);
        }
    }
    files.par_iter().try_for_each(|(path, sql)| {
        let fresh = path.parent().is_some_and(|d| new_dirs.contains(d));
        if !fresh && std::fs::read(path).is_ok_and(|old| old == sql.as_bytes()) {
            return Ok(());
        }
        std::fs::write(path, sql).map_err(|e| Error::io(path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctes_join_a_leading_with_or_start_one() {
        let bodies = vec![("__cte_e".to_string(), "select 1 as x".to_string())];
        assert_eq!(
            prepend_ctes("-- note\nselect * from \"__cte_e\"", &bodies),
            "-- note\nwith \"__cte_e\" as (\nselect 1 as x\n)\nselect * from \"__cte_e\""
        );
        assert_eq!(
            prepend_ctes("WITH a as (select 2) select * from a", &bodies),
            "WITH \"__cte_e\" as (\nselect 1 as x\n), a as (select 2) select * from a"
        );
        assert_eq!(
            prepend_ctes("with recursive r as (select 1) select 1", &bodies),
            "with recursive \"__cte_e\" as (\nselect 1 as x\n), r as (select 1) select 1"
        );
    }
}
