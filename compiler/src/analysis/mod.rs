//! Static analysis of every compiled model with sqlparser: the SQL must parse, every relation it
//! reads must come through `ref()` or `source()`, and each output column's lineage (the upstream
//! columns it is computed from) is derived. Problems point at the model file's own line and
//! column, mapped back through the Jinja (see [`source_map`]).

pub mod lineage;
pub mod source_map;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{ObjectName, Query, Spanned, Statement, TableFactor, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect, PostgreSqlDialect};
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{Error, Result};
use crate::governance::DataClass;
use crate::project::profiles::Target;
use crate::project::Project;
use crate::render::CompiledModel;
pub use lineage::{ColumnLineage, Origin};
use source_map::SourceMap;

/// Parses each model of `models` (in build order; in parallel), checks the relations it reads and
/// fills in its column lineage (in order, as a model's lineage reads its parents').
pub fn analyze(project: &Project, target: &Target, models: &mut [CompiledModel]) -> Result<()> {
    let dialect: Box<dyn Dialect + Send + Sync> =
        if target.kind.is_postgres() { Box::new(PostgreSqlDialect {}) } else { Box::new(GenericDialect {}) };
    let placed: BTreeMap<String, Vec<String>> = models
        .iter()
        .map(|m| (m.name.clone(), vec![m.relation.schema.clone(), m.relation.identifier.clone()]))
        .collect();
    let checked: Vec<Option<Result<Box<Query>>>> = models
        .par_iter()
        .map(|m| m.questions.is_empty().then(|| check(project, target, &placed, dialect.as_ref(), m)))
        .collect();
    let mut known = lineage::Known::new(project, target);
    for (model, query) in models.iter_mut().zip(checked) {
        // A model whose SQL waits for the warehouse's answers is analysed when it is rendered
        // again with them, right before it is built (see `analyze_after`).
        let Some(query) = query else {
            known.add_unknown(model);
            continue;
        };
        model.columns = lineage::columns(&*query?, &known);
        classify(project, model)?;
        known.add_model(model);
    }
    Ok(())
}

/// Analyses `model`, rendered again, as [`analyze`] would after `earlier` (the compiled models,
/// analysed).
pub fn analyze_after(
    project: &Project,
    target: &Target,
    earlier: &[CompiledModel],
    model: &mut CompiledModel,
) -> Result<()> {
    let dialect: Box<dyn Dialect + Send + Sync> =
        if target.kind.is_postgres() { Box::new(PostgreSqlDialect {}) } else { Box::new(GenericDialect {}) };
    let placed: BTreeMap<String, Vec<String>> = earlier
        .iter()
        .chain(std::iter::once(&*model))
        .map(|m| (m.name.clone(), vec![m.relation.schema.clone(), m.relation.identifier.clone()]))
        .collect();
    let query = check(project, target, &placed, dialect.as_ref(), model)?;
    let mut known = lineage::Known::new(project, target);
    for m in earlier.iter().filter(|m| m.name != model.name) {
        if m.questions.is_empty() {
            known.add_model(m);
        } else {
            known.add_unknown(m);
        }
    }
    model.columns = lineage::columns(&query, &known);
    classify(project, model)
}

/// Settles each column's data class: a declared `meta.data_class` classes what lineage could not
/// tell and may raise what it could (or refine a key, label or metric; declaring a personal value
/// or text as anything less is an error); the
/// column is named at the end of its path; and a class the model's `allowed_data_classes` does
/// not allow is an error naming that path.
fn classify(project: &Project, model: &mut CompiledModel) -> Result<()> {
    let spec = &project.models[&model.name];
    let raw = &spec.raw_sql;
    let error = |at: (u64, u64), message: String| {
        let (line, column) = SourceMap::new(raw, &model.sql).locate(at.0 as usize, at.1 as usize);
        Error::Sql { path: project.root.join(&model.path), line, column, message }
    };
    let mut settled = Vec::with_capacity(model.columns.len());
    for mut column in std::mem::take(&mut model.columns) {
        let declared = spec.columns.iter().find(|c| c.name.eq_ignore_ascii_case(&column.name));
        if let Some(class) = declared.and_then(|c| c.meta.data_class) {
            match column.data_class {
                Some(computed) if computed > class && computed >= DataClass::RedactedText => {
                    return Err(error(
                        column.at,
                        format!(
                            "column {} is declared {class} but is computed as {computed}: {}",
                            column.name,
                            column.why.join(" -> ")
                        ),
                    ));
                }
                Some(computed) if computed == class => {}
                _ => {
                    column.why.push(format!("{}.{} (declared {class})", model.name, column.name));
                    column.data_class = Some(class);
                    column.opaque = false;
                    settled.push(column);
                    continue;
                }
            }
        } else if column.data_class.is_none() && !column.opaque {
            column.data_class = Some(DataClass::Label);
            column.why.push("a constant".into());
        } else if column.opaque {
            column.data_class = None;
        }
        column.why.push(format!("{}.{}", model.name, column.name));
        settled.push(column);
    }
    model.columns = settled;
    if let Some(allowed) = &model.config.allowed_data_classes {
        let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
        for column in &model.columns {
            let message = match column.data_class {
                Some(class) if allowed.contains(&class) => continue,
                Some(class) => format!(
                    "column {} holds {class}, which this model may not (allowed_data_classes: {}): {}",
                    column.name,
                    names.join(", "),
                    column.why.join(" -> ")
                ),
                None => format!(
                    "column {} has no data class (it reads {}, whose class is not known): declare its \
                     meta.data_class in a property file (allowed_data_classes: {})",
                    column.name,
                    column.why.first().map_or("a table function's output", String::as_str),
                    names.join(", ")
                ),
            };
            return Err(error(column.at, message));
        }
    }
    Ok(())
}

/// The parsed query of `model`, once it is known to read only what it may.
fn check(
    project: &Project,
    target: &Target,
    placed: &BTreeMap<String, Vec<String>>,
    dialect: &dyn Dialect,
    model: &CompiledModel,
) -> Result<Box<Query>> {
    let raw = &project.models[&model.name].raw_sql;
    let locate = |line: u64, column: u64| SourceMap::new(raw, &model.sql).locate(line as usize, column as usize);
    let query = parse(dialect, &model.sql).map_err(|(line, column, message)| {
        let (line, column) = locate(line, column);
        Error::Sql { path: project.root.join(&model.path), line, column, message }
    })?;
    let allowed = allowed_relations(project, target, placed, model);
    if let Some((name, line, column)) = direct_read(&query, &allowed) {
        let (line, column) = locate(line, column);
        let hint = hint(project, &name);
        return Err(Error::Sql {
            path: project.root.join(&model.path),
            line,
            column,
            message: format!(
                "{name} is read directly: every relation a model reads must come through ref() or source(){hint}"
            ),
        });
    }
    Ok(query)
}

/// For a relation read directly: the `ref()` or `source()` that names it, when it is one of the
/// project's.
fn hint(project: &Project, name: &str) -> String {
    let parts: Vec<String> = name.split('.').map(|p| p.trim_matches('"').to_lowercase()).collect();
    let last = parts.last().cloned().unwrap_or_default();
    let schema = (parts.len() > 1).then(|| parts[parts.len() - 2].clone());
    let source = |same_schema: bool| {
        project.sources.values().find(|t| {
            t.identifier.to_lowercase() == last && (!same_schema || schema.as_deref() == Some(&t.schema.to_lowercase()))
        })
    };
    let as_source = |t: &crate::project::SourceTable| format!(" (use {{{{ source('{}', '{}') }}}})", t.source, t.name);
    if let Some(t) = source(true) {
        return as_source(t);
    }
    if project.models.contains_key(&last) || project.seeds.contains_key(&last) {
        return format!(" (use {{{{ ref('{last}') }}}})");
    }
    source(false).map(as_source).unwrap_or_default()
}

/// The one query of `sql`, or the parser's message with its line and column.
fn parse(dialect: &dyn Dialect, sql: &str) -> Result<Box<Query>, (u64, u64, String)> {
    let statements = Parser::parse_sql(dialect, sql).map_err(|e| {
        let message = e.to_string();
        let position = message.rsplit_once(" at Line: ").and_then(|(head, tail)| {
            let (line, column) = tail.split_once(", Column: ")?;
            Some((head.to_owned(), line.trim().parse().ok()?, column.trim().parse().ok()?))
        });
        match position {
            Some((head, line, column)) => (line, column, head.replace("sql parser error: ", "")),
            None => {
                let end = sql.trim_end();
                let last = end.char_indices().last().map_or(0, |(i, _)| i);
                let (line, column) = source_map::line_column(sql, last);
                (line as u64, column as u64, message.replace("sql parser error: ", ""))
            }
        }
    })?;
    match <[Statement; 1]>::try_from(statements) {
        Ok([Statement::Query(query)]) => Ok(query),
        Ok(_) => Err((1, 1, "a model must be one SELECT query (no DDL or DML)".into())),
        Err(list) => Err((1, 1, format!("a model must be one SELECT query, not {} statements", list.len()))),
    }
}

/// A relation name as the engines see it: unquoted parts folded to lower case.
pub(crate) fn normalize(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) if ident.quote_style.is_some() => ident.value.clone(),
            Some(ident) => ident.value.to_lowercase(),
            None => part.to_string(),
        })
        .collect()
}

/// The `[schema, identifier]` of every relation `model` reads through `ref()`, `source()` or
/// `this` (an incremental model reads its own rows).
fn allowed_relations(
    project: &Project,
    target: &Target,
    placed: &BTreeMap<String, Vec<String>>,
    model: &CompiledModel,
) -> BTreeSet<Vec<String>> {
    let this = std::iter::once(model.name.clone());
    let refs = model
        .refs
        .iter()
        .cloned()
        .chain(this)
        .map(|r| placed.get(&r).cloned().unwrap_or_else(|| vec![target.schema.clone(), r]));
    let sources = model
        .sources
        .iter()
        .filter_map(|k| project.sources.get(k))
        .map(|t| vec![t.schema.clone(), t.identifier.clone()]);
    refs.chain(sources).collect()
}

/// The first relation `query` reads that is neither allowed, nor a CTE, nor a table function:
/// its name, line and column in the rendered SQL.
fn direct_read(query: &Query, allowed: &BTreeSet<Vec<String>>) -> Option<(String, u64, u64)> {
    struct Reads {
        ctes: BTreeSet<String>,
        tables: Vec<(Vec<String>, ObjectName)>,
    }
    impl Visitor for Reads {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
                let name = &cte.alias.name;
                self.ctes.insert(if name.quote_style.is_some() {
                    name.value.clone()
                } else {
                    name.value.to_lowercase()
                });
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, args: None, .. } = factor {
                self.tables.push((normalize(name), name.clone()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut reads = Reads { ctes: BTreeSet::new(), tables: Vec::new() };
    let _ = query.visit(&mut reads);
    reads.tables.into_iter().find_map(|(parts, name)| {
        let cte = parts.len() == 1 && reads.ctes.contains(&parts[0]);
        if cte || allowed.contains(&parts) {
            return None;
        }
        let start = name.span().start;
        Some((name.to_string(), start.line, start.column))
    })
}
