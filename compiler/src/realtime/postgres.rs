//! Real time on PostgreSQL: a statement-level trigger (with a transition table) on the raw
//! source table enriches each insert's records in the inserting transaction, through a function
//! that runs the chain's [`Plan`](super::Chain::plan); alerts are sent with NOTIFY.
//!
//! In the same transaction, not after it: the enriched rows become visible exactly when the raw
//! rows do (no window in which a reader sees a record without its labels, and nothing to run
//! beside the database), and a failure is caught in a subtransaction: the batch is retried record
//! by record, and a record that still fails goes to quarantine with the reason, while the
//! customer's insert commits.

use std::collections::BTreeMap;
use std::fmt::Write;

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::realtime::alerts::{self, CHANNEL};
use crate::realtime::{Action, Chain, Scope};
use crate::render::{quote_ident, quote_literal, Relation};

/// The session's temporary tables hold an arrival's relations.
pub struct TempScope;

impl Scope for TempScope {
    fn relation(&self, name: &str) -> Relation {
        Relation { schema: "pg_temp".into(), identifier: format!("convlytics_rt_{name}") }
    }
}

/// The trigger on the source table.
const TRIGGER: &str = "convlytics_realtime";
/// The dollar-quote tag around each statement of the generated functions.
const TAG: &str = "$convlytics_sql$";

/// What `realtime enable` installed.
#[derive(Debug)]
pub struct Enabled {
    /// The table the trigger is on.
    pub source: Relation,
    /// The models kept current.
    pub models: Vec<String>,
    /// The alert rules.
    pub alerts: Vec<String>,
    /// Where alerts are written.
    pub alerts_relation: Relation,
}

/// Installs (or replaces) the trigger and its functions for `chain` in `schema`, in one
/// transaction; the chain's stored models must exist.
pub async fn enable(client: &Client, chain: &Chain, schema: &str) -> Result<Enabled> {
    let pg = |e: tokio_postgres::Error| Error::postgres("enabling real time", &e);
    let mut columns = BTreeMap::new();
    for relation in chain.steps.iter().map(|s| &s.stored).chain([&chain.source, &chain.quarantine.0]) {
        let found = table_columns(client, relation).await?;
        if found.is_empty() {
            return Err(Error::Project(format!(
                "{relation} does not exist: build the project once (convlytics build) before enabling real time"
            )));
        }
        columns.insert(relation.clone(), found);
    }
    let mut sql = String::from("begin;\n");
    let _ = writeln!(
        sql,
        "create table if not exists {} ({});",
        chain.alerts_relation,
        alerts::COLUMNS.iter().map(|(c, t, _)| format!("{c} {t}")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        sql,
        "create index if not exists convlytics_realtime_key on {} ({});",
        chain.source,
        chain.key.iter().map(|k| quote_ident(k)).collect::<Vec<_>>().join(", ")
    );
    sql.push_str(&enrich_function(chain, schema, &columns)?);
    // Only the trigger (running as this function's owner) calls it.
    let _ = writeln!(sql, "revoke all on function {}() from public;", function(schema, "convlytics_realtime_enrich"));
    sql.push_str(&trigger_function(chain, schema, &columns));
    let _ = writeln!(
        sql,
        "drop trigger if exists {TRIGGER} on {source};
         create trigger {TRIGGER} after insert on {source} referencing new table as convlytics_new_rows
             for each statement execute function {function}();
         commit;",
        source = chain.source,
        function = function(schema, "convlytics_realtime"),
    );
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("rollback").await;
        return Err(pg(e));
    }
    Ok(Enabled {
        source: chain.source.clone(),
        models: chain.steps.iter().map(|s| s.name.clone()).collect(),
        alerts: chain.alerts.iter().map(|a| a.rule.clone()).collect(),
        alerts_relation: chain.alerts_relation.clone(),
    })
}

/// Removes the trigger and its functions (the alerts relation and every enriched row stay).
pub async fn disable(client: &Client, source: &Relation, schema: &str) -> Result<bool> {
    let installed = client
        .query_opt(
            "select 1 from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
             where t.tgname = $1 and n.nspname = $2 and c.relname = $3",
            &[&TRIGGER, &source.schema, &source.identifier],
        )
        .await
        .map_err(|e| Error::postgres("looking for the realtime trigger", &e))?
        .is_some();
    let sql = format!(
        "begin;
         drop trigger if exists {TRIGGER} on {source};
         drop function if exists {trigger}();
         drop function if exists {enrich}();
         drop index if exists {index};
         commit;",
        trigger = function(schema, "convlytics_realtime"),
        enrich = function(schema, "convlytics_realtime_enrich"),
        index = format_args!("{}.convlytics_realtime_key", quote_ident(&source.schema)),
    );
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("rollback").await;
        return Err(Error::postgres("disabling real time", &e));
    }
    Ok(installed)
}

/// `schema.name`, quoted.
fn function(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// The columns `(name, type)` of a table, in order; empty when it does not exist.
async fn table_columns(client: &Client, relation: &Relation) -> Result<Vec<(String, String)>> {
    let rows = client
        .query(
            "select a.attname::text, format_type(a.atttypid, a.atttypmod)
             from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped order by a.attnum",
            &[&relation.schema, &relation.identifier],
        )
        .await
        .map_err(|e| Error::postgres(format!("reading the columns of {relation}"), &e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// `execute <tag>sql<tag>;`, refusing SQL that holds the tag.
fn execute(sql: &str) -> Result<String> {
    if sql.contains(TAG) {
        return Err(Error::Project(format!("a realtime statement contains {TAG}, which quotes it")));
    }
    Ok(format!("    execute {TAG}{sql}{TAG};\n"))
}

/// The function that runs the chain's plan on the records in the session's `__new` table.
fn enrich_function(chain: &Chain, schema: &str, columns: &BTreeMap<Relation, Vec<(String, String)>>) -> Result<String> {
    let mut body = String::new();
    let mut created = Vec::new();
    for action in chain.plan() {
        match action {
            Action::Create { relation, sql } => {
                body.push_str(&execute(&format!(
                    "drop table if exists {relation}; create temp table {} on commit drop as\n{sql}",
                    quote_ident(&relation.identifier)
                ))?);
                created.push(relation);
            }
            Action::Merge { stored, scoped, key } => {
                let names: Vec<String> = columns[&stored].iter().map(|(c, _)| quote_ident(c)).collect();
                let matched: Vec<String> =
                    key.iter().map(|k| format!("s.{k} is not distinct from t.{k}", k = quote_ident(k))).collect();
                body.push_str(&execute(&format!(
                    "delete from {stored} as t where exists (select 1 from {scoped} as s where {});
                     insert into {stored} ({c}) select {c} from {scoped}",
                    matched.join(" and "),
                    c = names.join(", ")
                ))?);
            }
            Action::Alert(alert) => {
                let names: Vec<&str> = alerts::COLUMNS.iter().map(|(c, _, _)| *c).collect();
                let insert = format!(
                    "insert into {} ({})\n{}\nreturning alert_id, rule, conversation_id",
                    alert.relation,
                    names.join(", "),
                    alert.select()
                );
                if insert.contains(TAG) {
                    return Err(Error::Project(format!("alert '{}' contains {TAG}", alert.rule)));
                }
                let _ = write!(
                    body,
                    "    for fired in execute {TAG}{insert}{TAG} loop
        perform pg_notify({channel}, json_build_object('schema', {schema_literal}, 'alert_id', fired.alert_id,
            'rule', fired.rule, 'conversation_id', fired.conversation_id)::text);
    end loop;\n",
                    channel = quote_literal(CHANNEL),
                    schema_literal = quote_literal(schema),
                );
            }
        }
    }
    created.dedup();
    for relation in created.iter().filter(|r| **r != chain.new) {
        body.push_str(&format!("    drop table if exists {relation};\n"));
    }
    Ok(format!(
        "create or replace function {name}() returns void language plpgsql
set search_path = {path} set client_min_messages = warning as {FN_TAG}
declare
    fired record;
begin
{body}end
{FN_TAG};\n",
        name = function(schema, "convlytics_realtime_enrich"),
        path = search_path(schema),
    ))
}

/// The dollar-quote tag of a generated function's body.
const FN_TAG: &str = "$convlytics_fn$";

/// The search path the functions run with: the project's schema, then the extension's, and the
/// session's temporary schema last (a SECURITY DEFINER function must not find a caller's
/// temporary relations first).
fn search_path(schema: &str) -> String {
    format!("{}, convlytics, public, pg_temp", quote_ident(schema))
}

/// The trigger function: the statement's new rows into `__new`, the chain run on them in a
/// subtransaction; on failure each record on its own, and a record that still fails into
/// quarantine with the reason. It runs as its owner (SECURITY DEFINER): whoever inserts raw
/// records needs no rights on the warehouse.
fn trigger_function(chain: &Chain, schema: &str, columns: &BTreeMap<Relation, Vec<(String, String)>>) -> String {
    let source: Vec<String> = columns[&chain.source].iter().map(|(c, _)| quote_ident(c)).collect();
    let source = source.join(", ");
    let (quarantine, reason) = &chain.quarantine;
    let source_names: Vec<&str> = columns[&chain.source].iter().map(|(c, _)| c.as_str()).collect();
    let shared: Vec<&(String, String)> =
        columns[quarantine].iter().filter(|(c, _)| c != reason && source_names.contains(&c.as_str())).collect();
    let keys: Vec<&(String, String)> = shared.iter().copied().filter(|(c, _)| chain.key.contains(c)).collect();
    let quarantine_insert = |cols: &[&(String, String)]| {
        let names: Vec<String> = cols.iter().map(|(c, _)| quote_ident(c)).collect();
        let values: Vec<String> = cols.iter().map(|(c, t)| format!("cast(b.{} as {t})", quote_ident(c))).collect();
        format!(
            "insert into {quarantine} ({names}{comma}{reason}) select {values}{comma}'realtime enrichment failed: ' || failure
                 from pg_temp.convlytics_rt___batch as b where b.convlytics_rt_row = i",
            names = names.join(", "),
            values = values.join(", "),
            comma = if cols.is_empty() { "" } else { ", " },
            reason = quote_ident(reason),
        )
    };
    let new = &chain.new;
    format!(
        "create or replace function {name}() returns trigger language plpgsql security definer
set search_path = {path} set client_min_messages = warning as {FN_TAG}
declare
    n bigint;
    failure text;
begin
    drop table if exists pg_temp.convlytics_rt___batch;
    create temp table convlytics_rt___batch on commit drop as
        select row_number() over () as convlytics_rt_row, * from convlytics_new_rows;
    begin
        drop table if exists {new};
        create temp table {new_name} on commit drop as select {source} from pg_temp.convlytics_rt___batch;
        perform {enrich}();
    exception when others then
        select count(*) into n from pg_temp.convlytics_rt___batch;
        for i in 1..n loop
            begin
                drop table if exists {new};
                create temp table {new_name} on commit drop as
                    select {source} from pg_temp.convlytics_rt___batch where convlytics_rt_row = i;
                perform {enrich}();
            exception when others then
                get stacked diagnostics failure = message_text;
                begin
                    {full};
                exception when others then
                    begin
                        {keys_only};
                    exception when others then
                        raise warning 'convlytics realtime: a record of % could not be enriched nor quarantined: %',
                            TG_TABLE_NAME, failure;
                    end;
                end;
            end;
        end loop;
    end;
    drop table if exists {new};
    drop table if exists pg_temp.convlytics_rt___batch;
    return null;
end
{FN_TAG};\n",
        name = function(schema, "convlytics_realtime"),
        path = search_path(schema),
        enrich = function(schema, "convlytics_realtime_enrich"),
        new_name = quote_ident(&new.identifier),
        full = quarantine_insert(&shared),
        keys_only = quarantine_insert(&keys),
    )
}

/// One alert as `alerts listen` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fired {
    /// The alert's id.
    pub alert_id: String,
    /// The rule.
    pub rule: String,
    /// Its severity.
    pub severity: Option<String>,
    /// The conversation.
    pub conversation_id: Option<String>,
    /// The detail the rule recorded.
    pub detail: Option<String>,
    /// When it fired.
    pub fired_at: Option<String>,
}

/// Listens for alerts of `schema` at `url`, calling `each` with every one as it arrives (its row
/// read from `alerts`), until `each` returns false.
pub async fn listen(url: &str, schema: &str, mut each: impl FnMut(Fired) -> bool) -> Result<()> {
    use futures_util::StreamExt;
    let (client, mut connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(|e| Error::postgres("connecting", &e))?;
    let (sender, mut notices) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    if sender.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("PostgreSQL connection closed: {e}");
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("listen {CHANNEL}")).await.map_err(|e| Error::postgres("LISTEN", &e))?;
    let relation = Relation { schema: schema.to_owned(), identifier: alerts::ALERTS.into() };
    let read = format!(
        "select alert_id, rule, severity, conversation_id, detail, to_char(fired_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
         from {relation} where alert_id = $1"
    );
    while let Some(payload) = notices.recv().await {
        let Ok(notice) = serde_json::from_str::<serde_json::Value>(&payload) else { continue };
        if notice["schema"].as_str() != Some(schema) {
            continue;
        }
        let Some(id) = notice["alert_id"].as_str() else { continue };
        let row = client.query_opt(&read, &[&id]).await.map_err(|e| Error::postgres("reading an alert", &e))?;
        let fired = match row {
            Some(r) => Fired {
                alert_id: r.get(0),
                rule: r.get(1),
                severity: r.get(2),
                conversation_id: r.get(3),
                detail: r.get(4),
                fired_at: r.get(5),
            },
            // Its transaction committed the NOTIFY: the row is there unless removed since.
            None => Fired {
                alert_id: id.to_owned(),
                rule: notice["rule"].as_str().unwrap_or_default().to_owned(),
                severity: None,
                conversation_id: notice["conversation_id"].as_str().map(str::to_owned),
                detail: None,
                fired_at: None,
            },
        };
        if !each(fired) {
            break;
        }
    }
    Ok(())
}
