//! The PostgreSQL engine: models become views or tables in the target schema, calling the
//! pg_convlytics functions.

use tokio_postgres::{Client, NoTls};

use crate::engine::Built;
use crate::error::{Error, Result};
use crate::project::Materialization;
use crate::render::{quote_ident, CompiledModel};

/// A connection to a PostgreSQL database with pg_convlytics installed.
pub struct PostgresEngine {
    client: Client,
}

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
        Ok(Self { client })
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

    /// Builds one model aside under a temporary name, then swaps it in, in one transaction: a
    /// failed build leaves the previous relation untouched.
    pub async fn build(&mut self, model: &CompiledModel) -> Result<Built> {
        let context = format!("model {} ({})", model.name, model.path.display());
        let schema = &model.relation.schema;
        let name = &model.relation.identifier;
        let aside_name = format!("{name}__convlytics_building");
        let aside = format!("{}.{}", quote_ident(schema), quote_ident(&aside_name));
        let kind = model.config.materialized.as_str();
        let tx = self.client.transaction().await.map_err(|e| Error::postgres(&context, &e))?;
        let existing = relkind(&tx, schema, name).await.map_err(|e| Error::postgres(&context, &e))?;
        if let Some(old) = relkind(&tx, schema, &aside_name).await.map_err(|e| Error::postgres(&context, &e))? {
            tx.batch_execute(&format!("drop {old} {aside} cascade"))
                .await
                .map_err(|e| Error::postgres(&context, &e))?;
        }
        let rows = tx
            .execute(&format!("create {kind} {aside} as\n{}", model.sql), &[])
            .await
            .map_err(|e| Error::postgres(&context, &e))?;
        if let Some(old) = existing {
            tx.batch_execute(&format!("drop {old} {} cascade", model.relation))
                .await
                .map_err(|e| Error::postgres(&context, &e))?;
        }
        tx.batch_execute(&format!("alter {kind} {aside} rename to {}", quote_ident(name)))
            .await
            .map_err(|e| Error::postgres(&context, &e))?;
        tx.commit().await.map_err(|e| Error::postgres(&context, &e))?;
        let rows = (model.config.materialized == Materialization::Table).then_some(rows);
        Ok(Built { rows })
    }
}

/// `view`, `table` or `materialized view` for an existing relation, or `None`.
async fn relkind(
    tx: &tokio_postgres::Transaction<'_>,
    schema: &str,
    name: &str,
) -> Result<Option<&'static str>, tokio_postgres::Error> {
    let row = tx
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
