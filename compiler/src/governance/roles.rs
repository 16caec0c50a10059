//! Roles declared in property files (`roles:`), and the policy they make with the project's
//! column classes: which role may read which column of which relation, on either engine.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::DataClass;
use crate::compile::Compiled;
use crate::project::profiles::Target;
use crate::project::{Materialization, Project};

/// A role, as a property file declares it. Unknown keys are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// The role's name: a PostgreSQL role, and `convlytics sql --role NAME`.
    pub name: String,
    /// Who it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The data classes it reads; a column of another class is refused. An unclassified column is
    /// read only by a role that reads `raw_text`.
    pub reads: Vec<DataClass>,
    /// Row filters: a model (or seed) name and the SQL condition its rows must meet to be read
    /// (PostgreSQL row-level security; `sql --role` applies the same filter, see
    /// [`super::rows`]).
    #[serde(default)]
    pub rows: BTreeMap<String, String>,
}

impl RoleSpec {
    /// Checks what YAML cannot: a name PostgreSQL takes unquoted, and at least one class.
    pub fn check(&self) -> Result<(), String> {
        let ok = self.name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && self.name.len() <= 63;
        if !ok {
            return Err("a role name is lower-case letters, digits and _, starting with a letter (at most 63)".into());
        }
        if self.reads.is_empty() {
            return Err("reads: lists no data class; a role that reads nothing need not be declared".into());
        }
        Ok(())
    }

    /// Whether it may read a column of `class` (`None`: unclassified).
    pub fn may_read(&self, class: Option<DataClass>) -> bool {
        let class = class.unwrap_or(DataClass::RawText);
        self.reads.contains(&class)
    }
}

/// A relation the project builds or reads, with the class of each of its columns.
#[derive(Debug, Clone)]
pub struct Governed {
    /// Its name as the project knows it (model or seed name, `source.table`).
    pub name: String,
    /// Its schema.
    pub schema: String,
    /// Its identifier in the schema.
    pub identifier: String,
    /// Whether the engine stores it as a view.
    pub view: bool,
    /// Each column (lower case) and its class (`None`: unclassified).
    pub columns: BTreeMap<String, Option<DataClass>>,
}

/// A read the policy refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The relation, `schema.identifier`.
    pub relation: String,
    /// The column.
    pub column: String,
    /// Its class, when it has one.
    pub class: Option<DataClass>,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.class {
            Some(class) => write!(f, "column {} of {} ({class})", self.column, self.relation),
            None => write!(f, "column {} of {} (unclassified)", self.column, self.relation),
        }
    }
}

/// Every role of a project and every relation it governs.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Roles by name.
    pub roles: BTreeMap<String, RoleSpec>,
    /// Relations by `(schema, identifier)`.
    pub relations: BTreeMap<(String, String), Governed>,
}

impl Policy {
    /// The policy of `compiled`: its built models (ephemeral ones are not relations), seeds,
    /// sources and the audit relations, with the classes compile settled.
    pub fn new(project: &Project, target: &Target, compiled: &Compiled) -> Self {
        let mut relations = BTreeMap::new();
        let mut add = |g: Governed| {
            relations.insert((g.schema.clone(), g.identifier.clone()), g);
        };
        for m in compiled.models.iter().filter(|m| m.config.materialized != Materialization::Ephemeral) {
            add(Governed {
                name: m.name.clone(),
                schema: m.relation.schema.clone(),
                identifier: m.relation.identifier.clone(),
                view: m.config.materialized == Materialization::View,
                columns: m.columns.iter().map(|c| (c.name.to_lowercase(), c.data_class)).collect(),
            });
        }
        let declared = |cols: &[crate::project::ColumnSpec]| {
            cols.iter().map(|c| (c.name.to_lowercase(), c.meta.data_class)).collect::<BTreeMap<_, _>>()
        };
        for s in &compiled.seeds {
            add(Governed {
                name: s.name.clone(),
                schema: target.schema.clone(),
                identifier: s.name.clone(),
                view: false,
                columns: declared(&s.columns),
            });
        }
        for (t, _) in &compiled.sources {
            add(Governed {
                name: format!("{}.{}", t.source, t.name),
                schema: t.schema.clone(),
                identifier: t.identifier.clone(),
                view: false,
                columns: declared(&t.columns),
            });
        }
        for g in super::audit::relations(&target.schema) {
            add(g);
        }
        let roles = project.roles.values().map(|(_, r)| (r.name.clone(), r.clone())).collect();
        Self { roles, relations }
    }

    /// The role called `name`, or an error listing the project's roles.
    pub fn role(&self, name: &str) -> Result<&RoleSpec, String> {
        self.roles.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.roles.keys().map(String::as_str).collect();
            format!("the project has no role '{name}' (its roles: {})", names.join(", "))
        })
    }

    /// The relation at `schema.identifier` (case as the engine folds it).
    pub fn relation(&self, schema: &str, identifier: &str) -> Option<&Governed> {
        self.relations.get(&(schema.to_owned(), identifier.to_owned()))
    }

    /// Whether `role` may read `columns` of `schema.identifier` (a relation the policy does not
    /// know is read only by roles that read raw text). Reading no column (`count(*)`) needs one
    /// readable column.
    pub fn check(&self, role: &RoleSpec, schema: &str, identifier: &str, columns: &[String]) -> Result<(), Denied> {
        let relation = format!("{schema}.{identifier}");
        let classes = self.relation(schema, identifier).map(|g| &g.columns);
        let class_of = |c: &str| classes.and_then(|cols| cols.get(&c.to_lowercase()).copied().flatten());
        for column in columns {
            let class = class_of(column);
            if !role.may_read(class) {
                return Err(Denied { relation, column: column.clone(), class });
            }
        }
        if columns.is_empty() {
            let any = classes.is_some_and(|cols| cols.values().any(|c| role.may_read(*c)));
            if !any && !role.may_read(None) {
                return Err(Denied { relation, column: "*".into(), class: None });
            }
        }
        Ok(())
    }

    /// The columns of `relation` that `role` may read, of those the relation has.
    pub fn readable<'a>(&self, role: &RoleSpec, relation: &Governed, actual: &'a [String]) -> BTreeSet<&'a str> {
        actual
            .iter()
            .filter(|c| role.may_read(relation.columns.get(&c.to_lowercase()).copied().flatten()))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> (Policy, RoleSpec) {
        let analyst = RoleSpec {
            name: "analyst".into(),
            description: None,
            reads: vec![DataClass::Metric, DataClass::Label],
            rows: BTreeMap::new(),
        };
        let columns = [("payload", Some(DataClass::RawText)), ("channel", Some(DataClass::Label)), ("odd", None)];
        let turns = Governed {
            name: "turns".into(),
            schema: "analytics".into(),
            identifier: "turns".into(),
            view: false,
            columns: columns.iter().map(|(c, k)| ((*c).to_owned(), *k)).collect(),
        };
        let relations = [(("analytics".to_owned(), "turns".to_owned()), turns)].into_iter().collect();
        let roles = [("analyst".to_owned(), analyst.clone())].into_iter().collect();
        (Policy { roles, relations }, analyst)
    }

    #[test]
    fn a_role_reads_its_classes_and_nothing_else() {
        let (policy, analyst) = policy();
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(policy.check(&analyst, "analytics", "turns", &cols(&["channel"])).is_ok());
        let denied = policy.check(&analyst, "analytics", "turns", &cols(&["channel", "PAYLOAD"])).unwrap_err();
        assert_eq!(denied.to_string(), "column PAYLOAD of analytics.turns (raw_text)");
        let unclassified = policy.check(&analyst, "analytics", "turns", &cols(&["odd"])).unwrap_err();
        assert_eq!(unclassified.class, None, "unclassified is read only by roles that read raw text");
        assert!(policy.check(&analyst, "analytics", "turns", &[]).is_ok(), "count(*) with one readable column");
        assert!(policy.check(&analyst, "analytics", "elsewhere", &[]).is_err(), "an unknown relation");
        let actual = cols(&["payload", "channel", "odd"]);
        let relation = policy.relation("analytics", "turns").expect("turns");
        assert_eq!(policy.readable(&analyst, relation, &actual).into_iter().collect::<Vec<_>>(), ["channel"]);
        assert!(policy.role("nobody").unwrap_err().contains("its roles: analyst"));
    }

    #[test]
    fn role_names_are_checked() {
        let (_, mut role) = policy();
        role.name = "Analyst; drop".into();
        assert!(role.check().is_err());
        role.name = "analyst".into();
        role.reads.clear();
        assert!(role.check().unwrap_err().contains("no data class"));
    }
}
