//! Column-level lineage: for each output column of a model, the upstream columns (of models,
//! seeds and sources) its value is computed from, followed through CTEs, subqueries, joins,
//! `select *` (where the upstream columns are known) and set operations; and each column's data
//! class, from the classes of what it reads and the functions it goes through
//! ([`crate::governance::classes`]).

use std::collections::{BTreeMap, BTreeSet};

use datafusion::sql::sqlparser::ast::{
    visit_expressions, AccessExpr, BinaryOperator, ExcludeSelectItem, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Spanned, Subscript,
    TableFactor, UnaryOperator, Value, WildcardAdditionalOptions,
};

use super::normalize;
use crate::governance::DataClass;
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
/// upstream could not be told), with its data class.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnLineage {
    /// The column's name.
    pub name: String,
    /// The upstream columns it reads.
    pub from: Vec<Origin>,
    /// Its data class: `None` while unclassified (it reads a column whose class is not known).
    pub data_class: Option<DataClass>,
    /// Why it has that class: the path from the column that gave it, through the functions that
    /// capped it, to this column.
    pub why: Vec<String>,
    /// Whether it reads a column whose class could not be told (a table function's output).
    #[serde(skip)]
    pub opaque: bool,
    /// Where it is selected in the rendered SQL: line and column (1-based).
    #[serde(skip)]
    pub at: (u64, u64),
    /// When it is the row a catalogue function returns (a struct on the embedded engine), that
    /// function: its fields are classed by the catalogue's columns.
    #[serde(skip)]
    pub row: Option<&'static str>,
}

/// The class an expression gives and why; `class` is `None` for a constant.
#[derive(Debug, Clone, Default)]
struct Flow {
    class: Option<DataClass>,
    why: Vec<String>,
    opaque: bool,
    /// The catalogue function whose row (struct) this is, when it is one.
    row: Option<&'static str>,
}

impl Flow {
    /// The more sensitive of the two (with its reasons); opaque when either is.
    fn max(self, other: Flow) -> Flow {
        let opaque = self.opaque || other.opaque;
        let row = self.row.or(other.row);
        let mut out = if other.class > self.class { other } else { self };
        out.opaque = opaque;
        out.row = row;
        out
    }

    /// The flow of the column of `lineage`.
    fn of(lineage: &ColumnLineage) -> Flow {
        Flow { class: lineage.data_class, why: lineage.why.clone(), opaque: lineage.opaque, row: lineage.row }
    }

    /// Capped at `ceiling` by `step` (a function, a predicate, a row's field): an input whose
    /// class is not known gives the ceiling (the most it can be), a constant at most a label.
    fn cap(mut self, step: &str, ceiling: DataClass) -> Flow {
        match self.class {
            Some(class) if class > ceiling => {
                self.class = Some(ceiling);
                self.why.push(format!("{step} -> {ceiling}"));
            }
            None if self.opaque => {
                self.class = Some(ceiling);
                self.opaque = false;
                self.why.push(format!("{step} -> at most {ceiling}"));
            }
            None => self.class = Some(ceiling.min(DataClass::Label)),
            _ => {}
        }
        self
    }
}

/// The relations models can read, with their node ids and, when known, their columns.
pub struct Known {
    relations: BTreeMap<Vec<String>, (String, Option<Vec<String>>)>,
    /// The class of each known column, by node id and column (lower case), and why.
    classes: BTreeMap<(String, String), (Option<DataClass>, Vec<String>)>,
    project: String,
}

impl Known {
    /// Seeds and sources of `project` (sources with their documented columns); models are added
    /// as they are analysed.
    pub fn new(project: &Project, target: &Target) -> Self {
        let name = &project.config.name;
        let mut known = Self { relations: BTreeMap::new(), classes: BTreeMap::new(), project: name.clone() };
        for seed in project.seeds.values() {
            let node = format!("seed.{name}.{}", seed.name);
            known.add_declared(vec![target.schema.clone(), seed.name.clone()], node, &seed.columns, &seed.path);
        }
        for t in project.sources.values() {
            let node = format!("source.{name}.{}.{}", t.source, t.name);
            known.add_declared(vec![t.schema.clone(), t.identifier.clone()], node, &t.columns, &t.declared_in);
        }
        known
    }

    /// A seed or source with its documented columns and their declared classes.
    fn add_declared(
        &mut self,
        relation: Vec<String>,
        node: String,
        columns: &[crate::project::ColumnSpec],
        file: &std::path::Path,
    ) {
        for c in columns {
            let at = format!("{}.{}", short(&node), c.name);
            let why = match c.meta.data_class {
                Some(class) => vec![format!("{at} (declared {class} in {})", file.display())],
                None => vec![at],
            };
            self.classes.insert((node.clone(), c.name.to_lowercase()), (c.meta.data_class, why));
        }
        let names = (!columns.is_empty()).then(|| columns.iter().map(|c| c.name.clone()).collect());
        self.relations.insert(relation, (node, names));
    }

    /// The class of `column` of `node`, as a flow; opaque when not known.
    fn flow(&self, node: &str, column: &str) -> Flow {
        match self.classes.get(&(node.to_owned(), column.to_lowercase())) {
            Some((class, why)) => Flow { class: *class, why: why.clone(), opaque: class.is_none(), row: None },
            None => Flow { class: None, why: vec![format!("{}.{column}", short(node))], opaque: true, row: None },
        }
    }

    /// Makes a model whose columns are not known yet readable (its columns unknown).
    pub fn add_unknown(&mut self, model: &CompiledModel) {
        let relation = vec![model.relation.schema.clone(), model.relation.identifier.clone()];
        self.relations.insert(relation, (format!("model.{}.{}", self.project, model.name), None));
    }

    /// Makes an analysed model readable, with its output columns (unless one is a `*` that could
    /// not be expanded).
    pub fn add_model(&mut self, model: &CompiledModel) {
        let complete = !model.columns.iter().any(|c| c.name == "*");
        let columns = complete.then(|| model.columns.iter().map(|c| c.name.clone()).collect());
        let id = format!("model.{}.{}", self.project, model.name);
        for c in &model.columns {
            self.classes.insert((id.clone(), c.name.to_lowercase()), (c.data_class, c.why.clone()));
        }
        let relation = vec![model.relation.schema.clone(), model.relation.identifier.clone()];
        self.relations.insert(relation, (id, columns));
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

/// How lineage names a node in a path: `turns`, `seed crm_accounts`, `source raw.raw_interactions`.
pub fn short(node: &str) -> String {
    let parts: Vec<&str> = node.splitn(3, '.').collect();
    match parts.as_slice() {
        ["model", _, name] => (*name).to_owned(),
        [kind, _, name] => format!("{kind} {name}"),
        _ => node.to_owned(),
    }
}

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
                col.opaque |= other.opaque;
                if other.data_class > col.data_class {
                    col.data_class = other.data_class;
                    col.why = other.why;
                    col.why.push("a later branch of the set operation".into());
                }
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
    let reader = Reader { scopes: &scopes, known, ctes };
    let mut out = Vec::new();
    for item in &select.projection {
        let start = item.span().start;
        let at = (start.line, start.column);
        let column = |name: String, expr: &Expr| {
            let flow = reader.flow(expr);
            ColumnLineage {
                name,
                from: origins(expr, &scopes),
                data_class: flow.class,
                why: flow.why,
                opaque: flow.opaque,
                at,
                row: flow.row,
            }
        };
        match item {
            SelectItem::UnnamedExpr(expr) => out.push(column(expr_name(expr), expr)),
            SelectItem::ExprWithAlias { expr, alias } => out.push(column(ident_name(alias), expr)),
            SelectItem::Wildcard(options) => {
                for (_, scope) in &scopes {
                    out.extend(expand(scope, options, known, at));
                }
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), options) => {
                let alias = normalize(name).pop().unwrap_or_default();
                if let Some((_, scope)) = scopes.iter().find(|(a, _)| *a == alias) {
                    out.extend(expand(scope, options, known, at));
                }
            }
            _ => out.push(unknown_star(at)),
        }
    }
    out
}

/// The `*` column of a wildcard whose columns are not known.
fn unknown_star(at: (u64, u64)) -> ColumnLineage {
    ColumnLineage { name: "*".into(), from: Vec::new(), data_class: None, why: Vec::new(), opaque: true, at, row: None }
}

/// What one SELECT reads from: its FROM scopes, the known relations and the CTEs in reach.
struct Reader<'a> {
    scopes: &'a [(String, Scope)],
    known: &'a Known,
    ctes: &'a Ctes,
}

impl Reader<'_> {
    /// The class `expr` gives: a column's own, the most sensitive of what an expression reads,
    /// capped by the functions and predicates it goes through.
    fn flow(&self, expr: &Expr) -> Flow {
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => match reference(expr, self.scopes) {
                Some((Named::Base(node), column)) => self.known.flow(node, &column),
                Some((Named::Derived(c), _)) => Flow::of(c),
                // A column the relation lacks: the engine refuses the query, so it is not
                // reported here as unclassified.
                Some((Named::Missing(node), column)) => Flow {
                    class: None,
                    why: vec![format!("{}.{column} (no such column)", short(node))],
                    opaque: false,
                    row: None,
                },
                None => opaque(),
            },
            Expr::Value(_) | Expr::TypedString { .. } => Flow::default(),
            Expr::Function(f) => {
                let name = f.name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()).unwrap_or_default();
                let mut flow = match &f.args {
                    FunctionArguments::List(list) => list.args.iter().fold(Flow::default(), |acc, arg| {
                        let expr = match arg {
                            FunctionArg::Named { arg, .. }
                            | FunctionArg::ExprNamed { arg, .. }
                            | FunctionArg::Unnamed(arg) => arg,
                        };
                        match expr {
                            FunctionArgExpr::Expr(e) => acc.max(self.flow(e)),
                            _ => acc,
                        }
                    }),
                    FunctionArguments::Subquery(q) => self.subquery(q),
                    FunctionArguments::None => Flow::default(),
                };
                let catalogued = convlytics_core::catalog::function(&name);
                let mut flow = match crate::governance::classes::ceiling(&name) {
                    Some(ceiling) => Flow { row: None, ..flow.cap(&format!("{name}()"), ceiling) },
                    None => {
                        if let Some(class) = flow.class.filter(|c| catalogued.is_some() && c.is_text()) {
                            flow.why.push(format!("{name}() carries {class}"));
                        }
                        flow
                    }
                };
                // A catalogue function's row; a struct passed through (`unnest`, `coalesce`) stays one.
                if let Some(f) = catalogued {
                    flow.row = (!f.columns().is_empty()).then_some(f.name);
                }
                flow
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                // `alias.column['field']` parses as `alias` with `.column` first in the chain.
                let (flow, chain) = match (root.as_ref(), access_chain.split_first()) {
                    (Expr::Identifier(alias), Some((AccessExpr::Dot(Expr::Identifier(column)), rest)))
                        if self.scopes.iter().any(|(a, _)| *a == ident_name(alias)) =>
                    {
                        (self.flow(&Expr::CompoundIdentifier(vec![alias.clone(), column.clone()])), rest)
                    }
                    _ => (self.flow(root), access_chain.as_slice()),
                };
                let field = match chain.first() {
                    Some(AccessExpr::Dot(Expr::Identifier(ident))) => Some(ident_name(ident)),
                    Some(AccessExpr::Subscript(Subscript::Index { index: Expr::Value(v) })) => match &v.value {
                        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                field_flow(flow, field.as_deref())
            }
            Expr::Nested(e) | Expr::Cast { expr: e, .. } => self.flow(e),
            Expr::UnaryOp { op: UnaryOperator::Not, expr } => self.flow(expr).cap("not", DataClass::Label),
            Expr::UnaryOp { expr, .. } => self.flow(expr),
            Expr::BinaryOp { left, op, right } => {
                let flow = self.flow(left).max(self.flow(right));
                if is_predicate(op) {
                    flow.cap(&format!("`{op}`"), DataClass::Label)
                } else {
                    flow
                }
            }
            Expr::Case { operand, conditions, else_result, .. } => {
                let mut flow = else_result.as_ref().map(|e| self.flow(e)).unwrap_or_default();
                for when in conditions {
                    flow = flow.max(self.flow(&when.result));
                    flow = flow.max(self.deep(&when.condition).cap("case when", DataClass::Label));
                }
                if let Some(operand) = operand {
                    flow = flow.max(self.deep(operand).cap("case", DataClass::Label));
                }
                flow
            }
            Expr::Subquery(q) => self.subquery(q),
            Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::SimilarTo { .. }
            | Expr::RLike { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::Between { .. }
            | Expr::Exists { .. } => self.deep(expr).cap("a predicate", DataClass::Label),
            other => self.deep(other),
        }
    }

    /// The most sensitive class of every column `expr` references, at any depth, uncapped.
    fn deep(&self, expr: &Expr) -> Flow {
        let mut flow = Flow::default();
        let _ = visit_expressions(expr, |e| {
            match e {
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) => flow = std::mem::take(&mut flow).max(self.flow(e)),
                Expr::Subquery(q) | Expr::InSubquery { subquery: q, .. } | Expr::Exists { subquery: q, .. } => {
                    flow = std::mem::take(&mut flow).max(self.subquery(q))
                }
                _ => {}
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        flow
    }

    /// The most sensitive class of a subquery's columns.
    fn subquery(&self, query: &Query) -> Flow {
        let cols = query_columns(query, self.known, self.ctes);
        cols.iter().fold(Flow::default(), |acc, c| acc.max(Flow::of(c)))
    }
}

/// A flow whose class is not known.
fn opaque() -> Flow {
    Flow { class: None, why: Vec::new(), opaque: true, row: None }
}

/// The flow of field `field` of `row`: the catalogue column's own flow caps it when the row is a
/// catalogue function's and the column says one.
fn field_flow(row: Flow, field: Option<&str>) -> Flow {
    let function = row.row.and_then(convlytics_core::catalog::function);
    let column = function.zip(field).and_then(|(f, name)| f.columns().iter().find(|c| c.name == name));
    let mut flow = Flow { row: None, ..row };
    if let (Some(f), Some(text)) = (function, column.and_then(|c| c.text)) {
        let name = format!("{}.{}", f.name, column.map_or("", |c| c.name));
        if let Some(ceiling) = crate::governance::classes::flow_ceiling(text) {
            flow = flow.cap(&name, ceiling);
        }
    }
    flow
}

/// Whether `op` compares or combines truth values (its result tells about its operands, it does
/// not repeat them).
fn is_predicate(op: &BinaryOperator) -> bool {
    use BinaryOperator::*;
    matches!(
        op,
        Eq | NotEq
            | Lt
            | LtEq
            | Gt
            | GtEq
            | Spaceship
            | And
            | Or
            | Xor
            | PGRegexMatch
            | PGRegexIMatch
            | PGRegexNotMatch
            | PGRegexNotIMatch
            | PGLikeMatch
            | PGILikeMatch
            | PGNotLikeMatch
            | PGNotILikeMatch
            | AtArrow
            | ArrowAt
            | Question
            | QuestionAnd
            | QuestionPipe
    )
}

/// The columns a `*` over `scope` gives, less those excluded; one `*` column when unknown.
fn expand(scope: &Scope, options: &WildcardAdditionalOptions, known: &Known, at: (u64, u64)) -> Vec<ColumnLineage> {
    let excluded: BTreeSet<String> = match &options.opt_exclude {
        Some(ExcludeSelectItem::Single(name)) => normalize(name).pop().into_iter().collect(),
        Some(ExcludeSelectItem::Multiple(names)) => names.iter().filter_map(|n| normalize(n).pop()).collect(),
        None => BTreeSet::new(),
    };
    let cols = match scope {
        Scope::Base(node, Some(columns)) => columns
            .iter()
            .map(|c| {
                let flow = known.flow(node, c);
                ColumnLineage {
                    name: c.clone(),
                    from: vec![Origin { node: node.clone(), column: c.clone() }],
                    data_class: flow.class,
                    why: flow.why,
                    opaque: flow.opaque,
                    at,
                    row: None,
                }
            })
            .collect(),
        Scope::Derived(cols) => cols.clone(),
        Scope::Base(_, None) | Scope::Opaque => vec![unknown_star(at)],
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
        match reference(e, scopes) {
            Some((Named::Base(node), column)) => {
                found.insert(Origin { node: node.to_owned(), column });
            }
            Some((Named::Derived(c), _)) => found.extend(c.from.iter().cloned()),
            Some((Named::Missing(_), _)) | None => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found.into_iter().collect()
}

/// What a column reference names in the scopes of a SELECT.
enum Named<'a> {
    /// A column of this model, seed or source (whose columns may not be known).
    Base(&'a str),
    /// A column of a CTE or subquery.
    Derived(&'a ColumnLineage),
    /// A column this model, seed or source is known not to have.
    Missing(&'a str),
}

/// What `expr`, a column reference (qualified or not), names, with the column's name; `None`
/// for another expression, or a column that cannot be told.
fn reference<'a>(expr: &Expr, scopes: &'a [(String, Scope)]) -> Option<(Named<'a>, String)> {
    match expr {
        Expr::Identifier(ident) => {
            let column = ident_name(ident);
            unqualified(&column, scopes).map(|named| (named, column))
        }
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let column = ident_name(&parts[parts.len() - 1]);
            let qualifier = ident_name(&parts[parts.len() - 2]);
            let (_, scope) = scopes.iter().find(|(alias, _)| *alias == qualifier)?;
            in_scope(scope, &column, true).map(|named| (named, column))
        }
        _ => None,
    }
}

/// An unqualified column: the one scope known to have it, else the only scope when there is one.
fn unqualified<'a>(column: &str, scopes: &'a [(String, Scope)]) -> Option<Named<'a>> {
    let mut having = scopes.iter().filter_map(|(_, s)| in_scope(s, column, false));
    match (having.next(), having.next(), scopes) {
        (Some(named), None, _) => Some(named),
        (None, _, [(_, only)]) => in_scope(only, column, true),
        _ => None,
    }
}

/// `column` in `scope`: `Some` when the scope has it (or, with `assume`, could have it, or is
/// known to lack it).
fn in_scope<'a>(scope: &'a Scope, column: &str, assume: bool) -> Option<Named<'a>> {
    match scope {
        Scope::Base(node, Some(cols)) if cols.iter().any(|c| c.eq_ignore_ascii_case(column)) => Some(Named::Base(node)),
        Scope::Base(node, Some(_)) => assume.then_some(Named::Missing(node)),
        Scope::Base(node, None) => assume.then_some(Named::Base(node)),
        Scope::Derived(cols) => cols.iter().find(|c| c.name.eq_ignore_ascii_case(column)).map(Named::Derived),
        Scope::Opaque => None,
    }
}
