//! Column-level lineage: for each output column of a model, the upstream columns (of models,
//! seeds and sources) its value is computed from, followed through CTEs, subqueries, joins,
//! `select *` (where the upstream columns are known) and set operations.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::sql::sqlparser::ast::{
    visit_expressions, ExcludeSelectItem, Expr, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    TableFactor, WildcardAdditionalOptions,
};

use super::normalize;
use crate::project::profiles::Target;
use crate::project::Project;
use crate::render::CompiledModel;

/// An upstream column: the node (`model.<project>.<name>`, `seed.…`, `source.<project>.<source>.<table>`)
/// and the column's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Origin {
    /// The upstream node's unique id.
    pub node: String,
    /// The column of that node.
    pub column: String,
}

/// One output column of a model and what it is computed from (empty for a constant, or when the
/// upstream could not be told).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnLineage {
    /// The column's name.
    pub name: String,
    /// The upstream columns it reads.
    pub from: Vec<Origin>,
}

/// The relations models can read, with their node ids and, when known, their columns.
pub struct Known {
    relations: BTreeMap<Vec<String>, (String, Option<Vec<String>>)>,
    schema: String,
    project: String,
}

impl Known {
    /// Seeds and sources of `project` (sources with their documented columns); models are added
    /// as they are analysed.
    pub fn new(project: &Project, target: &Target) -> Self {
        let name = &project.config.name;
        let mut relations = BTreeMap::new();
        for seed in project.seeds.values() {
            let columns = (!seed.columns.is_empty()).then(|| seed.columns.iter().map(|c| c.name.clone()).collect());
            relations.insert(
                vec![target.schema.clone(), seed.name.clone()],
                (format!("seed.{name}.{}", seed.name), columns),
            );
        }
        for t in project.sources.values() {
            let columns = (!t.columns.is_empty()).then(|| t.columns.iter().map(|c| c.name.clone()).collect());
            relations.insert(
                vec![t.schema.clone(), t.identifier.clone()],
                (format!("source.{name}.{}.{}", t.source, t.name), columns),
            );
        }
        Self { relations, schema: target.schema.clone(), project: name.clone() }
    }

    /// Makes an analysed model readable, with its output columns (unless one is a `*` that could
    /// not be expanded).
    pub fn add_model(&mut self, model: &CompiledModel) {
        let complete = !model.columns.iter().any(|c| c.name == "*");
        let columns = complete.then(|| model.columns.iter().map(|c| c.name.clone()).collect());
        let id = format!("model.{}.{}", self.project, model.name);
        self.relations.insert(vec![self.schema.clone(), model.name.clone()], (id, columns));
    }
}

/// What a name in a FROM clause stands for.
#[derive(Debug, Clone)]
enum Scope {
    /// A model, seed or source, with its columns when known.
    Base(String, Option<Vec<String>>),
    /// A CTE or subquery, with its columns' lineage.
    Derived(Vec<ColumnLineage>),
    /// A table function or anything else whose columns are not known.
    Opaque,
}

type Ctes = BTreeMap<String, Vec<ColumnLineage>>;

/// The output columns of `query` with their lineage.
pub fn columns(query: &Query, known: &Known) -> Vec<ColumnLineage> {
    query_columns(query, known, &Ctes::new())
}

fn query_columns(query: &Query, known: &Known, outer: &Ctes) -> Vec<ColumnLineage> {
    let mut ctes = outer.clone();
    for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
        let mut cols = query_columns(&cte.query, known, &ctes);
        for (col, alias) in cols.iter_mut().zip(&cte.alias.columns) {
            col.name = ident_name(&alias.name);
        }
        ctes.insert(ident_name(&cte.alias.name), cols);
    }
    set_columns(&query.body, known, &ctes)
}

fn set_columns(body: &SetExpr, known: &Known, ctes: &Ctes) -> Vec<ColumnLineage> {
    match body {
        SetExpr::Select(select) => select_columns(select, known, ctes),
        SetExpr::Query(q) => query_columns(q, known, ctes),
        SetExpr::SetOperation { left, right, .. } => {
            let mut cols = set_columns(left, known, ctes);
            for (col, other) in cols.iter_mut().zip(set_columns(right, known, ctes)) {
                col.from.extend(other.from);
                col.from.sort();
                col.from.dedup();
            }
            cols
        }
        _ => Vec::new(),
    }
}

fn ident_name(ident: &datafusion::sql::sqlparser::ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

fn select_columns(select: &Select, known: &Known, ctes: &Ctes) -> Vec<ColumnLineage> {
    let mut scopes: Vec<(String, Scope)> = Vec::new();
    for table in &select.from {
        scopes.push(factor_scope(&table.relation, known, ctes));
        for join in &table.joins {
            scopes.push(factor_scope(&join.relation, known, ctes));
        }
    }
    let mut out = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(expr) => {
                out.push(ColumnLineage { name: expr_name(expr), from: origins(expr, &scopes) })
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                out.push(ColumnLineage { name: ident_name(alias), from: origins(expr, &scopes) })
            }
            SelectItem::Wildcard(options) => {
                for (_, scope) in &scopes {
                    out.extend(expand(scope, options));
                }
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), options) => {
                let alias = normalize(name).pop().unwrap_or_default();
                if let Some((_, scope)) = scopes.iter().find(|(a, _)| *a == alias) {
                    out.extend(expand(scope, options));
                }
            }
            _ => out.push(ColumnLineage { name: "*".into(), from: Vec::new() }),
        }
    }
    out
}

/// The columns a `*` over `scope` gives, less those excluded; one `*` column when unknown.
fn expand(scope: &Scope, options: &WildcardAdditionalOptions) -> Vec<ColumnLineage> {
    let excluded: BTreeSet<String> = match &options.opt_exclude {
        Some(ExcludeSelectItem::Single(name)) => normalize(name).pop().into_iter().collect(),
        Some(ExcludeSelectItem::Multiple(names)) => names.iter().filter_map(|n| normalize(n).pop()).collect(),
        None => BTreeSet::new(),
    };
    let cols = match scope {
        Scope::Base(node, Some(columns)) => columns
            .iter()
            .map(|c| ColumnLineage { name: c.clone(), from: vec![Origin { node: node.clone(), column: c.clone() }] })
            .collect(),
        Scope::Derived(cols) => cols.clone(),
        Scope::Base(_, None) | Scope::Opaque => vec![ColumnLineage { name: "*".into(), from: Vec::new() }],
    };
    cols.into_iter().filter(|c| !excluded.contains(&c.name)).collect()
}

fn factor_scope(factor: &TableFactor, known: &Known, ctes: &Ctes) -> (String, Scope) {
    match factor {
        TableFactor::Table { name, alias, args, .. } => {
            let parts = normalize(name);
            let alias = alias
                .as_ref()
                .map(|a| ident_name(&a.name))
                .unwrap_or_else(|| parts.last().cloned().unwrap_or_default());
            if args.is_some() {
                return (alias, Scope::Opaque);
            }
            let scope = match (parts.len(), ctes.get(&parts[0])) {
                (1, Some(cols)) => Scope::Derived(cols.clone()),
                _ => match known.relations.get(&parts) {
                    Some((node, columns)) => Scope::Base(node.clone(), columns.clone()),
                    None => Scope::Opaque,
                },
            };
            (alias, scope)
        }
        TableFactor::Derived { subquery, alias, .. } => {
            let mut cols = query_columns(subquery, known, ctes);
            if let Some(a) = alias {
                for (col, name) in cols.iter_mut().zip(&a.columns) {
                    col.name = ident_name(&name.name);
                }
            }
            (alias.as_ref().map(|a| ident_name(&a.name)).unwrap_or_default(), Scope::Derived(cols))
        }
        TableFactor::NestedJoin { table_with_joins, alias } => {
            let (_, scope) = factor_scope(&table_with_joins.relation, known, ctes);
            (alias.as_ref().map(|a| ident_name(&a.name)).unwrap_or_default(), scope)
        }
        other => {
            let alias = match other {
                TableFactor::UNNEST { alias, .. }
                | TableFactor::Function { alias, .. }
                | TableFactor::TableFunction { alias, .. } => alias.as_ref().map(|a| ident_name(&a.name)),
                _ => None,
            };
            (alias.unwrap_or_default(), Scope::Opaque)
        }
    }
}

/// The name an unaliased expression gets: a column's own name, else its SQL text.
fn expr_name(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(ident) => ident_name(ident),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_name).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The upstream columns the column references of `expr` resolve to.
fn origins(expr: &Expr, scopes: &[(String, Scope)]) -> Vec<Origin> {
    let mut found = BTreeSet::new();
    let _ = visit_expressions(expr, |e| {
        match e {
            Expr::Identifier(ident) => found.extend(unqualified(&ident_name(ident), scopes)),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let column = ident_name(&parts[parts.len() - 1]);
                let qualifier = ident_name(&parts[parts.len() - 2]);
                if let Some((_, scope)) = scopes.iter().find(|(alias, _)| *alias == qualifier) {
                    found.extend(in_scope(scope, &column, true).into_iter().flatten());
                }
            }
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found.into_iter().collect()
}

/// An unqualified column: the one scope known to have it, else the only scope when there is one.
fn unqualified(column: &str, scopes: &[(String, Scope)]) -> Vec<Origin> {
    let having: Vec<Vec<Origin>> = scopes.iter().filter_map(|(_, s)| in_scope(s, column, false)).collect();
    match (having.len(), scopes) {
        (1, _) => having.into_iter().next().unwrap_or_default(),
        (0, [(_, only)]) => in_scope(only, column, true).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `column` in `scope`: `Some` when the scope has it (or, with `assume`, could have it).
fn in_scope(scope: &Scope, column: &str, assume: bool) -> Option<Vec<Origin>> {
    match scope {
        Scope::Base(node, Some(cols)) => cols
            .iter()
            .any(|c| c.eq_ignore_ascii_case(column))
            .then(|| vec![Origin { node: node.clone(), column: column.to_owned() }]),
        Scope::Base(node, None) => assume.then(|| vec![Origin { node: node.clone(), column: column.to_owned() }]),
        Scope::Derived(cols) => cols.iter().find(|c| c.name.eq_ignore_ascii_case(column)).map(|c| c.from.clone()),
        Scope::Opaque => None,
    }
}
