//! The PostgreSQL engine: models become views or tables in the target schema, calling the
//! pg_convlytics functions.

use std::collections::BTreeSet;

use tokio_postgres::{Client, NoTls};

use crate::engine::Built;
use crate::error::{Error, Result};
use crate::project::Materialization;
use crate::render::{quote_ident, quote_literal, CompiledModel, Relation};
use crate::seed::SeedData;

/// A connection to a PostgreSQL database with pg_convlytics installed.
pub struct PostgresEngine {
    client: Client,
    /// The schema models are built in.
    schema: String,
    /// Whether a run's transaction is open ([`PostgresEngine::begin_run`]): each node then runs
    /// in a savepoint of it, and nothing is visible to readers before the run commits.
    in_run: bool,
}

/// The savepoint each node of a run is built in.
const NODE_SAVEPOINT: &str = "convlytics_node";

/// Rows of a seed inserted per statement.
const SEED_BATCH: usize = 500;

impl PostgresEngine {
    /// Connects, checks that the extension is installed, and sets the search path to `schema`
    /// then `convlytics`, so models call the functions unqualified as on the embedded engine.
    pub async fn connect(connection: &str, schema: &str) -> Result<Self> {
        let (client, conn) = tokio_postgres::connect(connection, NoTls)
            .await
            .map_err(|e| Error::postgres("connecting to PostgreSQL", &e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("PostgreSQL connection closed: {e}");
            }
        });
        let installed = client
            .query_opt("select 1 from pg_extension where extname = 'pg_convlytics'", &[])
            .await
            .map_err(|e| Error::postgres("checking for pg_convlytics", &e))?;
        if installed.is_none() {
            return Err(Error::Project(
                "the pg_convlytics extension is not installed in this database: run CREATE EXTENSION pg_convlytics"
                    .into(),
            ));
        }
        let setup = format!(
            "create schema if not exists {s}; set search_path to {s}, convlytics, public",
            s = quote_ident(schema)
        );
        client.batch_execute(&setup).await.map_err(|e| Error::postgres("preparing the target schema", &e))?;
        Ok(Self { client, schema: schema.to_owned(), in_run: false })
    }

    /// Opens the run's transaction: every model, seed and test after this runs inside it (each
    /// in a savepoint, so one failure does not abort the rest) and readers see none of it until
    /// [`PostgresEngine::finish_run`] commits. A second run building the same schema, from any
    /// machine, is refused while this one holds the schema's advisory lock.
    pub async fn begin_run(&mut self) -> Result<()> {
        let pg = |e: tokio_postgres::Error| Error::postgres("starting the run's transaction", &e);
        self.client.batch_execute("begin").await.map_err(pg)?;
        let key = format!("convlytics build {}", self.schema);
        let row = self.client.query_one("select pg_try_advisory_xact_lock(hashtext($1))", &[&key]).await.map_err(pg)?;
        if !row.get::<_, bool>(0) {
            self.client.batch_execute("rollback").await.map_err(pg)?;
            return Err(Error::Project(format!(
                "another build of schema {} is running on this database: wait for it to finish, or stop it",
                self.schema
            )));
        }
        self.in_run = true;
        Ok(())
    }

    /// Ends the run's transaction: commits when `publish`, else rolls back, so a failed run
    /// leaves every relation as the previous run left it. (A run whose process dies rolls back
    /// with its connection.)
    pub async fn finish_run(&mut self, publish: bool) -> Result<()> {
        self.in_run = false;
        let sql = if publish { "commit" } else { "rollback" };
        self.client.batch_execute(sql).await.map_err(|e| Error::postgres("ending the run's transaction", &e))
    }

    /// Starts one node's statements as a unit: a savepoint of the run's transaction, or a
    /// transaction of their own outside a run.
    async fn begin_unit(&self) -> Result<(), tokio_postgres::Error> {
        let sql = if self.in_run { format!("savepoint {NODE_SAVEPOINT}") } else { "begin".to_owned() };
        self.client.batch_execute(&sql).await
    }

    /// Ends the unit [`PostgresEngine::begin_unit`] started: kept when `done` is a success,
    /// undone otherwise (so a failed node neither lands nor aborts the run's transaction).
    async fn end_unit<T>(&self, done: Result<T, tokio_postgres::Error>) -> Result<T, tokio_postgres::Error> {
        let sql = match (self.in_run, done.is_ok()) {
            (true, true) => format!("release savepoint {NODE_SAVEPOINT}"),
            (true, false) => format!("rollback to savepoint {NODE_SAVEPOINT}"),
            (false, true) => "commit".to_owned(),
            (false, false) => "rollback".to_owned(),
        };
        self.client.batch_execute(&sql).await?;
        done
    }

    /// Stores each of the project's taxonomies in `convlytics.taxonomies` (through
    /// `register_taxonomy`), so models name them as on the embedded engine.
    pub async fn register_taxonomies(&self, project: &crate::project::Project) -> Result<()> {
        for (name, (file, taxonomy)) in &project.taxonomies {
            let yaml = convlytics_core::taxonomy::to_yaml(taxonomy);
            self.client
                .execute("select convlytics.register_taxonomy($1)", &[&yaml])
                .await
                .map_err(|e| Error::postgres(format!("registering taxonomy '{name}' ({})", file.display()), &e))?;
        }
        Ok(())
    }

    /// The connected client, for callers that need more than building models.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every table and view outside PostgreSQL's own schemas, as `(schema, name)`.
    pub async fn relations(&self) -> Result<BTreeSet<(String, String)>> {
        let rows = self
            .client
            .query(
                "select n.nspname::text, c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where c.relkind in ('r', 'v', 'm', 'p', 'f')
                   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'",
                &[],
            )
            .await
            .map_err(|e| Error::postgres("listing existing relations", &e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The columns `(name, type)` of `relation`, as dbt-postgres gives them (`character
    /// varying(n)`, `numeric(p,s)`), or `None` when it does not exist.
    pub async fn columns(&self, relation: &Relation) -> Result<Option<Vec<(String, String)>>> {
        let rows = self
            .client
            .query(
                "select column_name::text, data_type::text, character_maximum_length, numeric_precision, numeric_scale
                 from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position",
                &[&relation.schema, &relation.identifier],
            )
            .await
            .map_err(|e| Error::postgres("reading a relation's columns", &e))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let columns = rows.iter().map(|r| {
            let (name, kind): (String, String) = (r.get(0), r.get(1));
            let kind = match (
                kind.as_str(),
                r.get::<_, Option<i32>>(2),
                r.get::<_, Option<i32>>(3),
                r.get::<_, Option<i32>>(4),
            ) {
                ("character varying" | "character", Some(n), _, _) => format!("{kind}({n})"),
                ("numeric", _, Some(p), Some(s)) => format!("numeric({p},{s})"),
                _ => kind,
            };
            (name, kind)
        });
        Ok(Some(columns.collect()))
    }

    /// The column names and rows (as JSON values, typed as `row_to_json` types them) of `sql`.
    pub async fn query_rows(&self, sql: &str) -> Result<crate::introspect::Rows> {
        let pg = |e: tokio_postgres::Error| Error::postgres("a query while compiling", &e);
        // In a unit of its own, so a failing query fails its node, not the run's transaction.
        self.begin_unit().await.map_err(pg)?;
        let queried = async {
            let statement = self.client.prepare(sql).await?;
            let names: Vec<String> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
            let wrapped = format!("select row_to_json(__q)::text from ({sql}) as __q");
            Ok((names, self.client.query(&wrapped, &[]).await?))
        }
        .await;
        let (names, rows) = self.end_unit(queried).await.map_err(pg)?;
        let rows = rows
            .iter()
            .map(|r| {
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(r.get::<_, &str>(0)).unwrap_or_default();
                names.iter().map(|n| object.get(n).cloned().unwrap_or(serde_json::Value::Null)).collect()
            })
            .collect();
        Ok((names, rows))
    }

    /// The names among `names` with a relation in `schema`.
    pub async fn existing(&self, schema: &str, names: &[&str]) -> Result<BTreeSet<String>> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let rows = self
            .client
            .query(
                "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = $1 and c.relname = any($2)",
                &[&schema, &names],
            )
            .await
            .map_err(|e| Error::postgres("listing existing relations", &e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Builds one model. A view or table is created aside under a temporary name and swapped in,
    /// as one unit (a savepoint of the run, or a transaction), so a failed build leaves the
    /// previous relation untouched; an existing incremental model is merged into on its
    /// `unique_key` (or appended to without one).
    pub async fn build(&mut self, model: &CompiledModel) -> Result<Built> {
        let context = format!("model {} ({})", model.name, model.path.display());
        let pg = |e: tokio_postgres::Error| Error::postgres(&context, &e);
        self.begin_unit().await.map_err(pg)?;
        let built = async {
            // A model with a custom schema (`+schema`) may be the first in it.
            if model.relation.schema != self.schema {
                let create = format!("create schema if not exists {}", quote_ident(&model.relation.schema));
                self.client.batch_execute(&create).await?;
            }
            if model.incremental {
                merge(&self.client, model).await
            } else {
                let kind = if model.config.materialized == Materialization::View { "view" } else { "table" };
                replace(&self.client, &model.relation, kind, &model.sql).await
            }
        }
        .await;
        let rows = self.end_unit(built).await.map_err(pg)?;
        let rows = (model.config.materialized != Materialization::View).then_some(rows);
        Ok(Built { rows })
    }

    /// Loads a seed's rows into `relation`: as text into a temporary table, then typed by
    /// [`SeedData::select`] into a table swapped in as models are.
    pub async fn load_seed(&mut self, relation: &Relation, data: &SeedData) -> Result<Built> {
        let context = format!("seed {}", relation.identifier);
        let pg = |e: tokio_postgres::Error| Error::postgres(&context, &e);
        self.begin_unit().await.map_err(pg)?;
        let loaded = load(&self.client, relation, data).await;
        let rows = self.end_unit(loaded).await.map_err(pg)?;
        Ok(Built { rows: Some(rows) })
    }

    /// Inserts the rows of `select` into the append-only `relation`, creating it with `columns`
    /// and its guard trigger (UPDATE, DELETE and TRUNCATE refused) when missing.
    pub async fn append(
        &self,
        relation: &Relation,
        columns: &[(&str, &str, crate::governance::DataClass)],
        select: &str,
    ) -> Result<()> {
        let ddl: Vec<String> = columns
            .iter()
            .map(|(name, ty, _)| format!("{} {}", quote_ident(name), if *ty == "varchar" { "text" } else { ty }))
            .collect();
        let guard = format!("{}.convlytics_append_only", quote_ident(&relation.schema));
        let sql = format!(
            "create table if not exists {relation} ({ddl});
             create or replace function {guard}() returns trigger language plpgsql as $f$
             begin raise exception '%.% is append-only: convlytics never changes or removes its rows',
                 TG_TABLE_SCHEMA, TG_TABLE_NAME using errcode = 'insufficient_privilege'; end $f$;
             drop trigger if exists convlytics_append_only on {relation};
             create trigger convlytics_append_only before update or delete on {relation}
                 for each row execute function {guard}();
             drop trigger if exists convlytics_append_only_truncate on {relation};
             create trigger convlytics_append_only_truncate before truncate on {relation}
                 for each statement execute function {guard}();
             insert into {relation}\n{select}",
            ddl = ddl.join(", ")
        );
        let pg = |e: tokio_postgres::Error| Error::postgres(format!("appending to {relation}"), &e);
        self.begin_unit().await.map_err(pg)?;
        let done = self.client.batch_execute(&sql).await;
        self.end_unit(done).await.map_err(pg)
    }

    /// Every row `sql` selects, each value as PostgreSQL writes it as text (`None` for NULL).
    pub async fn rows(&self, sql: &str, context: &str) -> Result<Vec<Vec<Option<String>>>> {
        let messages = self.client.simple_query(sql).await.map_err(|e| Error::postgres(context, &e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect())
    }

    /// The one value `sql` selects, as a number (`None` for NULL or no row).
    /// A query that fails (a data test's SQL) is undone alone, and the run goes on.
    pub async fn scalar(&self, sql: &str, context: &str) -> Result<Option<f64>> {
        let pg = |e: tokio_postgres::Error| Error::postgres(context, &e);
        let sql = format!("select cast(({}) as double precision)", sql.trim_end());
        self.begin_unit().await.map_err(pg)?;
        let row = self.client.query_one(&sql, &[]).await;
        let row = self.end_unit(row).await.map_err(pg)?;
        Ok(row.get(0))
    }
}

/// Loads a seed's rows as text into a temporary table, then typed into `relation`.
async fn load(client: &Client, relation: &Relation, data: &SeedData) -> Result<u64, tokio_postgres::Error> {
    let columns: Vec<String> = data.columns.iter().map(|c| format!("{} text", quote_ident(c))).collect();
    client
        .batch_execute(&format!(
            "drop table if exists pg_temp.__convlytics_seed; create temp table __convlytics_seed ({}) on commit drop",
            columns.join(", ")
        ))
        .await?;
    for chunk in data.rows.chunks(SEED_BATCH) {
        let values: Vec<String> = chunk
            .iter()
            .map(|row| {
                let cells: Vec<String> = row.iter().map(|v| quote_literal(v)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        client.batch_execute(&format!("insert into pg_temp.__convlytics_seed values {}", values.join(", "))).await?;
    }
    replace(client, relation, "table", &data.select("pg_temp.__convlytics_seed")).await
}

/// The temporary name a relation is built under: `<name>__convlytics_building`, or, past
/// PostgreSQL's 63 bytes, the name cut short with a hash of it.
fn aside_name(name: &str) -> String {
    let full = format!("{name}__convlytics_building");
    if full.len() <= 63 {
        return full;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let tag: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = 63 - "__building_".len() - tag.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}__building_{tag}", &name[..cut])
}

/// Creates `relation` as a `kind` (view or table) of `sql` under a temporary name, drops the old
/// relation and renames the new one in; returns the rows written.
async fn replace(client: &Client, relation: &Relation, kind: &str, sql: &str) -> Result<u64, tokio_postgres::Error> {
    let (schema, name) = (&relation.schema, &relation.identifier);
    let aside_name = aside_name(name);
    let aside = format!("{}.{}", quote_ident(schema), quote_ident(&aside_name));
    let existing = relkind(client, schema, name).await?;
    if let Some(old) = relkind(client, schema, &aside_name).await? {
        client.batch_execute(&format!("drop {old} {aside} cascade")).await?;
    }
    let rows = client.execute(&format!("create {kind} {aside} as\n{sql}"), &[]).await?;
    if let Some(old) = existing {
        client.batch_execute(&format!("drop {old} {relation} cascade")).await?;
    }
    client.batch_execute(&format!("alter {kind} {aside} rename to {}", quote_ident(name))).await?;
    Ok(rows)
}

/// Adds an incremental model's new rows to its table: `merge` on the unique key (update what
/// matches, insert the rest), or `insert` without one; returns the new rows' count.
async fn merge(client: &Client, model: &CompiledModel) -> Result<u64, tokio_postgres::Error> {
    let rows =
        client.execute(&format!("create temp table __convlytics_new on commit drop as\n{}", model.sql), &[]).await?;
    let columns: Vec<String> = client
        .prepare("select * from pg_temp.__convlytics_new")
        .await?
        .columns()
        .iter()
        .map(|c| quote_ident(c.name()))
        .collect();
    let target = &model.relation;
    let keys = &model.config.unique_key;
    let statement = if keys.is_empty() {
        format!("insert into {target} ({c}) select {c} from pg_temp.__convlytics_new", c = columns.join(", "))
    } else {
        let on: Vec<String> = keys.iter().map(|k| format!("__t.{k} = __n.{k}", k = quote_ident(k))).collect();
        let set: Vec<String> = columns.iter().map(|c| format!("{c} = __n.{c}")).collect();
        let values: Vec<String> = columns.iter().map(|c| format!("__n.{c}")).collect();
        format!(
            "merge into {target} as __t using pg_temp.__convlytics_new as __n on {}
             when matched then update set {}
             when not matched then insert ({}) values ({})",
            on.join(" and "),
            set.join(", "),
            columns.join(", "),
            values.join(", ")
        )
    };
    client.batch_execute(&statement).await?;
    client.batch_execute("drop table pg_temp.__convlytics_new").await?;
    Ok(rows)
}

/// `view`, `table` or `materialized view` for an existing relation, or `None`.
async fn relkind(client: &Client, schema: &str, name: &str) -> Result<Option<&'static str>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = $1 and c.relname = $2",
            &[&schema, &name],
        )
        .await?;
    Ok(row.map(|r| match r.get::<_, String>(0).as_str() {
        "v" => "view",
        "m" => "materialized view",
        _ => "table",
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn aside_names_fit_postgres_identifiers() {
        assert_eq!(super::aside_name("orders"), "orders__convlytics_building");
        let long = "data_test_mutually_exclusive_ranges_with_gaps_zero_length";
        let aside = super::aside_name(long);
        assert!(aside.len() <= 63 && aside.starts_with("data_test_mutually"), "{aside}");
        assert_ne!(aside, super::aside_name(&format!("{long}_2")));
    }
}
