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
    let _ = writeln!(sql, "create index if not exists convlytics_alerts_id on {} (alert_id);", chain.alerts_relation);
    let _ = writeln!(
        sql,
        "create index if not exists convlytics_realtime_key on {} ({});",
        chain.source,
        chain.key.iter().map(|k| quote_ident(k)).collect::<Vec<_>>().join(", ")
    );
    for statement in index_statements(chain) {
        let _ = writeln!(sql, "{statement};");
    }
    sql.push_str(&session_functions(chain, schema)?);
    sql.push_str(&enrich_function(chain, schema, &columns, "convlytics_realtime_enrich", true)?);
    sql.push_str(&enrich_function(chain, schema, &columns, "convlytics_realtime_enrich_bulk", false)?);
    // Only the trigger (running as these functions' owner) calls them.
    for name in FUNCTIONS.iter().filter(|f| **f != "convlytics_realtime") {
        let _ = writeln!(sql, "revoke all on function {}() from public;", function(schema, name));
    }
    sql.push_str(&trigger_function(chain, schema, &columns));
    let _ = writeln!(
        sql,
        "drop trigger if exists {TRIGGER} on {source};
         create trigger {TRIGGER} after insert on {source} referencing new table as convlytics_new_rows
             for each statement execute function {function}();",
        source = chain.source,
        function = function(schema, "convlytics_realtime"),
    );
    // The trigger quarantines what fails; what fails on an empty arrival (a rule naming a column
    // that is not there) would fail every record, so it is refused here, before commit.
    let check = format!(
        "select {prepare}(); delete from {new}; select {bulk}(); select {enrich}(); select {reset}();",
        prepare = function(schema, "convlytics_realtime_prepare"),
        new = chain.new,
        bulk = function(schema, "convlytics_realtime_enrich_bulk"),
        enrich = function(schema, "convlytics_realtime_enrich"),
        reset = function(schema, "convlytics_realtime_reset"),
    );
    let installed = async {
        client.batch_execute(&sql).await.map_err(pg)?;
        let checked = client.batch_execute(&check).await;
        checked.map_err(|e| Error::postgres("running the chain and the alert rules on an empty arrival", &e))?;
        client.batch_execute("commit").await.map_err(pg)
    };
    if let Err(e) = installed.await {
        let _ = client.batch_execute("rollback").await;
        return Err(e);
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
    let installed = enabled(client, source).await?;
    let mut sql = format!("begin;\ndrop trigger if exists {TRIGGER} on {source};\n");
    for name in FUNCTIONS {
        let _ = writeln!(sql, "drop function if exists {}();", function(schema, name));
    }
    let _ = writeln!(sql, "drop index if exists {}.convlytics_realtime_key;\ncommit;", quote_ident(&source.schema));
    if let Err(e) = client.batch_execute(&sql).await {
        let _ = client.batch_execute("rollback").await;
        return Err(Error::postgres("disabling real time", &e));
    }
    Ok(installed)
}

/// The functions `enable` installs in the target schema.
const FUNCTIONS: [&str; 5] = [
    "convlytics_realtime",
    "convlytics_realtime_enrich",
    "convlytics_realtime_enrich_bulk",
    "convlytics_realtime_prepare",
    "convlytics_realtime_reset",
];

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

/// A statement of a generated function: static SQL (planned once per session and cached), or
/// `execute`d (planned afresh each time, for large arrivals); SQL that holds the quote tag is
/// refused.
fn statement(sql: &str, cached: bool) -> Result<String> {
    if sql.contains(TAG) {
        return Err(Error::Project(format!("a realtime statement contains {TAG}, which quotes it")));
    }
    Ok(match cached {
        true => format!("    {sql};\n"),
        false => format!("    execute {TAG}{sql}{TAG};\n"),
    })
}

/// The relations an arrival fills (the session's temporary tables), each with the SQL that first
/// fills it, in plan order; `__new` first.
fn scoped_relations(chain: &Chain) -> Vec<(Relation, String)> {
    let mut out: Vec<(Relation, String)> = vec![(chain.new.clone(), format!("select * from {}", chain.source))];
    for action in chain.plan() {
        if let Action::Create { relation, sql } = action {
            if !out.iter().any(|(r, _)| *r == relation) {
                out.push((relation, sql));
            }
        }
    }
    out
}

/// `prepare()` creates the session's temporary tables once (empty, shaped by their SQL), and
/// `reset()` drops them (after a failure, so that a changed table shapes them again).
fn session_functions(chain: &Chain, schema: &str) -> Result<String> {
    let relations = scoped_relations(chain);
    let mut create = String::new();
    let mut drop = String::new();
    for (relation, sql) in &relations {
        create.push_str(&statement(
            &format!("create temp table {} as\n{sql}\nwith no data", quote_ident(&relation.identifier)),
            false,
        )?);
        drop.push_str(&format!("    drop table if exists {relation};\n"));
    }
    let (last, _) = relations.last().expect("the plan fills relations");
    Ok(format!(
        "create or replace function {prepare}() returns void language plpgsql
set search_path = {path} set client_min_messages = warning as {FN_TAG}
begin
    if to_regclass({last}) is not null then
        return;
    end if;
{drop}{create}end
{FN_TAG};
create or replace function {reset}() returns void language plpgsql
set search_path = {path} set client_min_messages = warning as {FN_TAG}
begin
{drop}end
{FN_TAG};\n",
        prepare = function(schema, "convlytics_realtime_prepare"),
        reset = function(schema, "convlytics_realtime_reset"),
        path = search_path(schema),
        last = quote_literal(&last.to_string()),
    ))
}

/// The function that runs the chain's plan on the records in the session's `__new` table:
/// `name` with `cached` plans (static SQL), or planned afresh each call.
fn enrich_function(
    chain: &Chain,
    schema: &str,
    columns: &BTreeMap<Relation, Vec<(String, String)>>,
    name: &str,
    cached: bool,
) -> Result<String> {
    let mut body = String::new();
    for action in chain.plan() {
        match action {
            Action::Create { relation, sql } => {
                body.push_str(&statement(&format!("delete from {relation}"), cached)?);
                body.push_str(&statement(&format!("insert into {relation}\n{sql}"), cached)?);
            }
            Action::Merge { stored, scoped, key } => {
                let names: Vec<String> = columns[&stored].iter().map(|(c, _)| quote_ident(c)).collect();
                // `=`, which the key's index serves: a row with a NULL key is no row's to replace
                // (as in a batch run, each such record stays a row of its own).
                let matched: Vec<String> = key.iter().map(|k| format!("s.{k} = t.{k}", k = quote_ident(k))).collect();
                body.push_str(&statement(
                    &format!(
                        "delete from {stored} as t where exists (select 1 from {scoped} as s where {})",
                        matched.join(" and ")
                    ),
                    cached,
                )?);
                body.push_str(&statement(
                    &format!("insert into {stored} ({c}) select {c} from {scoped}", c = names.join(", ")),
                    cached,
                )?);
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
                    return Err(Error::Project(format!("alert '{}' contains {TAG}, which quotes it", alert.rule)));
                }
                let query = if cached { insert } else { format!("execute {TAG}{insert}{TAG}") };
                let _ = write!(
                    body,
                    "    for convlytics_fired in {query} loop
        perform pg_notify({channel}, json_build_object('schema', {schema_literal},
            'alert_id', convlytics_fired.alert_id, 'rule', convlytics_fired.rule,
            'conversation_id', convlytics_fired.conversation_id)::text);
    end loop;\n",
                    channel = quote_literal(CHANNEL),
                    schema_literal = quote_literal(schema),
                );
            }
        }
    }
    // No customer text stays in the session.
    for (relation, _) in scoped_relations(chain).iter().filter(|(r, _)| *r != chain.new) {
        body.push_str(&statement(&format!("delete from {relation}"), cached)?);
    }
    Ok(format!(
        "create or replace function {name}() returns void language plpgsql
set search_path = {path} set client_min_messages = warning as {FN_TAG}
#variable_conflict use_column
declare
    convlytics_fired record;
begin
{body}end
{FN_TAG};\n",
        name = function(schema, name),
        path = search_path(schema),
    ))
}

/// The dollar-quote tag of a generated function's body.
const FN_TAG: &str = "$convlytics_fn$";

/// An arrival of more records than this is planned afresh (its size would not suit the plans
/// cached for single records).
const CACHED_PLANS_UP_TO: usize = 50;

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
            "insert into {quarantine} ({names}{comma}{reason}) select {values}{comma}'realtime enrichment failed: ' || convlytics_failure
                 from pg_temp.convlytics_rt___batch as b where b.convlytics_rt_row = convlytics_i",
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
    convlytics_n bigint;
    convlytics_failure text;
begin
    begin
        delete from pg_temp.convlytics_rt___batch;
        insert into pg_temp.convlytics_rt___batch select row_number() over (), * from convlytics_new_rows;
    exception when others then
        drop table if exists pg_temp.convlytics_rt___batch;
        create temp table convlytics_rt___batch as
            select row_number() over () as convlytics_rt_row, * from convlytics_new_rows;
    end;
    select count(*) into convlytics_n from pg_temp.convlytics_rt___batch;
    begin
        perform {prepare}();
        delete from {new};
        insert into {new} select {source} from pg_temp.convlytics_rt___batch;
        if convlytics_n <= {cached_up_to} then
            perform {enrich}();
        else
            perform {enrich_bulk}();
        end if;
    exception when others then
        perform {reset}();
        for convlytics_i in 1..convlytics_n loop
            begin
                perform {prepare}();
                delete from {new};
                insert into {new} select {source} from pg_temp.convlytics_rt___batch where convlytics_rt_row = convlytics_i;
                perform {enrich}();
            exception when others then
                get stacked diagnostics convlytics_failure = message_text;
                begin
                    {full};
                exception when others then
                    begin
                        {keys_only};
                    exception when others then
                        raise warning 'convlytics realtime: a record of % could not be enriched nor quarantined: %',
                            TG_TABLE_NAME, convlytics_failure;
                    end;
                end;
            end;
        end loop;
    end;
    delete from pg_temp.convlytics_rt___batch;
    if to_regclass({new_literal}) is not null then
        delete from {new};
    end if;
    return null;
end
{FN_TAG};\n",
        name = function(schema, "convlytics_realtime"),
        path = search_path(schema),
        prepare = function(schema, "convlytics_realtime_prepare"),
        reset = function(schema, "convlytics_realtime_reset"),
        enrich = function(schema, "convlytics_realtime_enrich"),
        enrich_bulk = function(schema, "convlytics_realtime_enrich_bulk"),
        cached_up_to = CACHED_PLANS_UP_TO,
        new_literal = quote_literal(&new.to_string()),
        full = quarantine_insert(&shared),
        keys_only = quarantine_insert(&keys),
    )
}

/// The indexes that let an arrival find its stored rows: each model's key, and the grouping
/// model's conversation column (`create index if not exists`; a build that replaces a table
/// drops its indexes, and [`index`] puts them back).
fn index_statements(chain: &Chain) -> Vec<String> {
    let grouping = &chain.steps[chain.grouping];
    let wanted = chain
        .steps
        .iter()
        .flat_map(|s| {
            let by_time = s.event_time.iter().map(|column| (&s.stored, vec![column.clone()]));
            std::iter::once((&s.stored, s.key.clone())).chain(by_time)
        })
        .chain([(&grouping.stored, vec![chain.group_column.clone()])]);
    wanted
        .map(|(stored, key)| {
            let name = format!("convlytics_rt_{}_{}", stored.identifier, key.join("_"));
            let name: String = name.chars().take(63).collect();
            format!(
                "create index if not exists {} on {stored} ({})",
                quote_ident(&name),
                key.iter().map(|k| quote_ident(k)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// After a build on PostgreSQL: when real time is enabled on the chain's source, the indexes
/// it reads by, again (the build replaced the tables); returns whether it was enabled.
pub async fn index(client: &Client, chain: &Chain) -> Result<bool> {
    if !enabled(client, &chain.source).await? {
        return Ok(false);
    }
    let sql = index_statements(chain).join(";\n");
    client.batch_execute(&sql).await.map_err(|e| Error::postgres("indexing the realtime models", &e))?;
    Ok(true)
}

/// Whether the realtime trigger is on `source`.
async fn enabled(client: &Client, source: &Relation) -> Result<bool> {
    let found = client
        .query_opt(
            "select 1 from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
             where t.tgname = $1 and n.nspname = $2 and c.relname = $3",
            &[&TRIGGER, &source.schema, &source.identifier],
        )
        .await
        .map_err(|e| Error::postgres("looking for the realtime trigger", &e))?;
    Ok(found.is_some())
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
