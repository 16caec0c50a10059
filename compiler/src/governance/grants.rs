//! The roles of a project made real on PostgreSQL: created when asked, marked as the project's
//! (a comment on the role), and given exactly what the policy lets them read: `USAGE` on the
//! schemas, `SELECT` on a relation whose every column they may read, `SELECT (columns)` on one
//! they may read part of, row-level security policies for their row filters. Everything a
//! managed role held on those schemas is revoked first, in the same transaction, so applying
//! twice changes nothing and a grant the YAML no longer makes is gone.

use std::collections::BTreeSet;

use tokio_postgres::Client;

use super::roles::Policy;
use crate::error::{Error, Result};
use crate::render::{quote_ident, quote_literal};

/// What applying grants did, for the command's output.
#[derive(Debug, Default)]
pub struct Applied {
    /// `role: N relations (M in part)` lines.
    pub lines: Vec<String>,
    /// Declared roles that do not exist (and were not created).
    pub missing: Vec<String>,
}

/// The comment that marks a role as managed by `project`.
fn marker(project: &str) -> String {
    format!("managed by convlytics project {project}")
}

/// Applies `policy` on the connected database, inside the caller's transaction.
pub async fn apply(client: &Client, policy: &Policy, project: &str, create_roles: bool) -> Result<Applied> {
    let pg = |what: &str| {
        let what = what.to_owned();
        move |e: tokio_postgres::Error| Error::postgres(format!("grants: {what}"), &e)
    };
    let marker = marker(project);
    let managed: Vec<String> = client
        .query(
            "select r.rolname::text from pg_roles r join pg_shdescription d
               on d.objoid = r.oid and d.classoid = 'pg_authid'::regclass where d.description = $1",
            &[&marker],
        )
        .await
        .map_err(pg("listing managed roles"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let existing: BTreeSet<String> = client
        .query("select rolname::text from pg_roles", &[])
        .await
        .map_err(pg("listing roles"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut applied = Applied::default();
    let mut roles = Vec::new();
    for name in policy.roles.keys() {
        if !existing.contains(name) {
            if !create_roles {
                applied.missing.push(name.clone());
                continue;
            }
            client
                .batch_execute(&format!("create role {} nologin", quote_ident(name)))
                .await
                .map_err(pg("create role"))?;
        }
        let comment = format!("comment on role {} is {}", quote_ident(name), quote_literal(&marker));
        client.batch_execute(&comment).await.map_err(pg("marking a role"))?;
        roles.push(name.clone());
    }
    let relations = present(client, policy).await?;
    let schemas: BTreeSet<&str> = relations.iter().map(|(g, _)| g.schema.as_str()).collect();
    let everyone: BTreeSet<&String> = roles.iter().chain(managed.iter().filter(|m| existing.contains(*m))).collect();
    let mut sql = Vec::new();
    for role in &everyone {
        let r = quote_ident(role);
        for schema in &schemas {
            let s = quote_ident(schema);
            sql.push(format!("revoke all on all tables in schema {s} from {r}"));
            sql.push(format!("revoke all on schema {s} from {r}"));
        }
    }
    for (schema, table, name) in row_policies(client, &schemas).await? {
        sql.push(format!("drop policy {} on {}.{}", quote_ident(&name), quote_ident(&schema), quote_ident(&table)));
    }
    for name in &roles {
        let role = &policy.roles[name];
        let r = quote_ident(name);
        sql.push(format!("grant usage on schema convlytics to {r}"));
        sql.push(format!("grant select on convlytics.taxonomies to {r}"));
        let (mut whole, mut part) = (0, 0);
        let mut usage = BTreeSet::new();
        for (g, actual) in &relations {
            let readable = policy.readable(role, g, actual);
            if readable.is_empty() {
                continue;
            }
            let rel = format!("{}.{}", quote_ident(&g.schema), quote_ident(&g.identifier));
            usage.insert(g.schema.as_str());
            if readable.len() == actual.len() {
                whole += 1;
                sql.push(format!("grant select on {rel} to {r}"));
            } else {
                part += 1;
                let cols: Vec<String> = readable.iter().map(|c| quote_ident(c)).collect();
                sql.push(format!("grant select ({}) on {rel} to {r}", cols.join(", ")));
            }
        }
        for schema in usage {
            sql.push(format!("grant usage on schema {} to {r}", quote_ident(schema)));
        }
        applied.lines.push(format!("{name}: reads {whole} relations whole and {part} in part"));
    }
    sql.extend(row_security(policy, &roles, &relations)?);
    client.batch_execute(&sql.join(";\n")).await.map_err(pg("applying"))?;
    Ok(applied)
}

/// Row-level security for the row filters: every table some role filters gets RLS enabled and a
/// policy per role that reads it (the filter, or every row); tables nobody filters have it off.
fn row_security(
    policy: &Policy,
    roles: &[String],
    relations: &[(&super::roles::Governed, Vec<String>)],
) -> Result<Vec<String>> {
    for name in roles {
        let known = |m: &String| relations.iter().any(|(g, _)| &g.name == m);
        if let Some(unknown) = policy.roles[name].rows.keys().find(|m| !known(m)) {
            return Err(Error::Project(format!(
                "role {name}: rows: {unknown} is not a model or seed the project has built"
            )));
        }
    }
    let mut sql = Vec::new();
    for (g, actual) in relations {
        let rel = format!("{}.{}", quote_ident(&g.schema), quote_ident(&g.identifier));
        let filtered = roles.iter().any(|r| policy.roles[r].rows.contains_key(&g.name));
        if !filtered {
            if !g.view {
                sql.push(format!("alter table {rel} disable row level security"));
            }
            continue;
        }
        if g.view {
            return Err(Error::Project(format!(
                "role row filter on {}: it is a view, and row-level security applies to tables",
                g.name
            )));
        }
        sql.push(format!("alter table {rel} enable row level security"));
        for name in roles {
            let role = &policy.roles[name];
            if policy.readable(role, g, actual).is_empty() {
                continue;
            }
            let using = role.rows.get(&g.name).map_or("true", String::as_str);
            sql.push(format!(
                "create policy {} on {rel} for select to {} using ({using})",
                quote_ident(&format!("convlytics_{name}")),
                quote_ident(name)
            ));
        }
    }
    Ok(sql)
}

/// The governed relations that exist in the database, with their columns (one query).
async fn present<'p>(client: &Client, policy: &'p Policy) -> Result<Vec<(&'p super::roles::Governed, Vec<String>)>> {
    let schemas: Vec<&str> = policy.relations.values().map(|g| g.schema.as_str()).collect();
    let rows = client
        .query(
            "select n.nspname::text, c.relname::text, a.attname::text from pg_attribute a
             join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = any($1) and a.attnum > 0 and not a.attisdropped order by a.attnum",
            &[&schemas],
        )
        .await
        .map_err(|e| Error::postgres("grants: listing columns", &e))?;
    let mut columns: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
    for row in &rows {
        columns.entry((row.get(0), row.get(1))).or_default().push(row.get(2));
    }
    Ok(policy.relations.iter().filter_map(|(key, g)| columns.remove(key).map(|c| (g, c))).collect())
}

/// The row-level security policies convlytics made in `schemas`: schema, table and name.
async fn row_policies(client: &Client, schemas: &BTreeSet<&str>) -> Result<Vec<(String, String, String)>> {
    let schemas: Vec<&str> = schemas.iter().copied().collect();
    let rows = client
        .query(
            "select schemaname::text, tablename::text, policyname::text from pg_policies
             where schemaname = any($1) and policyname like 'convlytics\\_%'",
            &[&schemas],
        )
        .await
        .map_err(|e| Error::postgres("grants: listing row policies", &e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}
