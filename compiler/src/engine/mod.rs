//! The engines models are built on: embedded DataFusion (the default) and PostgreSQL.

pub mod ballista;
pub mod embedded;
pub mod files;
pub mod generation;
pub mod postgres;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::project::profiles::{Target, TargetKind};
use crate::project::{Project, SourceTable};
use crate::render::{CompiledModel, Relation};
use crate::seed::SeedData;
pub use embedded::EmbeddedEngine;
use generation::{BuildLock, Generation};
pub use postgres::PostgresEngine;

/// The directory holding a file-based target's published `warehouse` and its generations: the
/// project's `target/` for the embedded engine, the `path:` every executor shares for Ballista.
pub fn root(project: &Project, target: &Target) -> PathBuf {
    match &target.kind {
        TargetKind::Ballista { path, .. } => path.clone(),
        _ => project.target_dir(),
    }
}

/// What building one model or loading one seed produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// Rows written, when the engine reports them (tables; views on the embedded engine).
    pub rows: Option<u64>,
}

/// An engine for a change outside a build (`retention --apply`, `review import`): on the embedded
/// engine writing into a new [`Generation`] under the build lock, published when the change is
/// kept; on PostgreSQL inside one transaction.
pub struct Writer {
    /// The engine to write with.
    pub engine: Engine,
    generation: Option<Generation>,
    schema: String,
    _lock: BuildLock,
}

impl Writer {
    /// Opens `target` for a change, or only to read when `write` is false.
    pub async fn open(project: &Project, target: &Target, write: bool) -> Result<Self> {
        let root = root(project, target);
        let lock = BuildLock::acquire(&root)?;
        let generation = match (target.kind.is_files(), write) {
            (true, true) => Some(Generation::start(&root, &lock)?),
            _ => None,
        };
        let warehouse = generation.as_ref().map_or_else(|| root.join("warehouse"), Generation::dir);
        let mut engine = Engine::open_in(project, target, warehouse).await?;
        if write {
            engine.begin_run().await?;
        }
        Ok(Self { engine, generation, schema: target.schema.clone(), _lock: lock })
    }

    /// Keeps the change when `outcome` is a success (publishing the generation, committing the
    /// transaction), else drops it and says so; gives `outcome` back.
    pub async fn finish<T>(mut self, outcome: Result<T>) -> Result<T> {
        self.engine.finish_run(outcome.is_ok()).await?;
        match (&outcome, self.generation) {
            (Ok(_), Some(generation)) => generation.publish()?,
            (Err(_), Some(generation)) => {
                println!("Nothing published: {} is still the previous build's", generation.published().display())
            }
            (Err(_), None) => {
                println!("Nothing published: the run was rolled back, schema {} is as it was", self.schema)
            }
            (Ok(_), None) => {}
        }
        outcome
    }
}

/// A connected engine, ready to build the models of one compiled project.
pub enum Engine {
    /// Embedded DataFusion.
    Embedded(EmbeddedEngine),
    /// PostgreSQL with pg_convlytics.
    Postgres(PostgresEngine),
}

impl Engine {
    /// Connects to `target` with the project's taxonomies registered; on the embedded engine the
    /// outputs of earlier runs are readable too.
    pub async fn open(project: &Project, target: &Target) -> Result<Self> {
        Self::open_in(project, target, root(project, target).join("warehouse")).await
    }

    /// [`Engine::open`], with the embedded engine reading and writing `warehouse` (a build's
    /// [`generation::Generation`]).
    pub async fn open_in(project: &Project, target: &Target, warehouse: PathBuf) -> Result<Self> {
        match &target.kind {
            TargetKind::Embedded => {
                let engine = match target.memory_limit {
                    Some(limit) => EmbeddedEngine::with_memory_limit(warehouse, limit)?,
                    None => EmbeddedEngine::new(warehouse),
                };
                engine.register_taxonomies(project);
                engine.register_warehouse().await?;
                Ok(Self::Embedded(engine))
            }
            TargetKind::Ballista { url, job_timeout, .. } => {
                let engine = EmbeddedEngine::remote(url, warehouse, *job_timeout).await?;
                engine.register_taxonomies(project);
                engine.register_warehouse().await?;
                Ok(Self::Embedded(engine))
            }
            TargetKind::Postgres { connection } => {
                let engine = PostgresEngine::connect(connection, &target.schema).await?;
                engine.register_taxonomies(project).await?;
                Ok(Self::Postgres(engine))
            }
            TargetKind::Other { .. } => Err(crate::project::profiles::unsupported(target)),
        }
    }

    /// Makes the source tables that `compiled`'s models and tests read available (on the
    /// embedded engine, from their files; PostgreSQL has them as tables).
    pub async fn register_sources(&self, compiled: &Compiled) -> Result<()> {
        let used: BTreeSet<(String, String)> = compiled
            .models
            .iter()
            .flat_map(|m| m.sources.iter())
            .chain(compiled.tests.iter().flat_map(|t| t.sources.iter()))
            .cloned()
            .collect();
        self.register_located(&compiled.sources, &used).await
    }

    /// Registers located source tables on the embedded engine; a table in `used` without files,
    /// and not a relation of the warehouse, is an error.
    pub async fn register_located(
        &self,
        sources: &[(SourceTable, Option<PathBuf>)],
        used: &BTreeSet<(String, String)>,
    ) -> Result<()> {
        let Self::Embedded(engine) = self else { return Ok(()) };
        for (table, location) in sources {
            let key = (table.source.clone(), table.name.clone());
            match location {
                Some(location) => engine.register_source(table, location).await?,
                // A relation convlytics keeps in the warehouse (e.g. `reviews.label_reviews`).
                None if !engine.existing(&table.schema, &[table.identifier.as_str()]).is_empty() => {}
                None if used.contains(&key) => {
                    return Err(Error::Project(format!(
                        "{}: source '{}.{}' has no meta.external_location, which the embedded engine needs to find its files",
                        table.declared_in.display(),
                        table.source,
                        table.name
                    )))
                }
                None => {}
            }
        }
        Ok(())
    }

    /// Starts a run: on PostgreSQL, the transaction every node runs in (the embedded engine
    /// writes a [`generation::Generation`] instead).
    pub async fn begin_run(&mut self) -> Result<()> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::Postgres(p) => p.begin_run().await,
        }
    }

    /// Ends a run: on PostgreSQL, commits it when `publish`, else rolls it back.
    pub async fn finish_run(&mut self, publish: bool) -> Result<()> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::Postgres(p) => p.finish_run(publish).await,
        }
    }

    /// Every relation of the warehouse, as `(schema, name)`: which models exist, whatever their
    /// schema.
    pub async fn relations(&self) -> Result<BTreeSet<(String, String)>> {
        match self {
            Self::Embedded(e) => Ok(embedded::relations(e.warehouse())),
            Self::Postgres(p) => p.relations().await,
        }
    }

    /// The columns `(name, type)` of `relation`, or `None` when it does not exist.
    pub async fn columns(&self, relation: &Relation) -> Result<Option<Vec<(String, String)>>> {
        match self {
            Self::Embedded(e) => e.columns(relation).await,
            Self::Postgres(p) => p.columns(relation).await,
        }
    }

    /// The column names and rows of the query `sql`.
    pub async fn query_rows(&self, sql: &str) -> Result<crate::introspect::Rows> {
        match self {
            Self::Embedded(e) => e.query_rows(sql).await,
            Self::Postgres(p) => p.query_rows(sql).await,
        }
    }

    /// The models and seeds among `names` whose relation already exists in `schema`.
    pub async fn existing(&self, schema: &str, names: &[&str]) -> Result<BTreeSet<String>> {
        match self {
            Self::Embedded(e) => Ok(e.existing(schema, names)),
            Self::Postgres(p) => p.existing(schema, names).await,
        }
    }

    /// Builds one model.
    pub async fn build(&mut self, model: &CompiledModel) -> Result<Built> {
        match self {
            Self::Embedded(e) => e.build(model).await,
            Self::Postgres(p) => p.build(model).await,
        }
    }

    /// Loads one seed's rows into `relation`.
    pub async fn load_seed(&mut self, relation: &Relation, data: &SeedData) -> Result<Built> {
        match self {
            Self::Embedded(e) => e.load_seed(relation, data).await,
            Self::Postgres(p) => p.load_seed(relation, data).await,
        }
    }

    /// How many rows a data test's SQL returns (its failures).
    pub async fn count(&self, sql: &str, context: &str) -> Result<u64> {
        let count = format!("select count(*) from ({}) as __failures", sql.trim_end());
        Ok(self.scalar(&count, context).await?.unwrap_or(0.0) as u64)
    }

    /// The database user it runs as (PostgreSQL's `current_user`; `None` on the embedded engine).
    pub async fn user(&self) -> Result<Option<String>> {
        match self {
            Self::Embedded(_) => Ok(None),
            Self::Postgres(p) => {
                let row = p.client().query_one("select current_user::text", &[]).await;
                Ok(Some(row.map_err(|e| Error::postgres("reading current_user", &e))?.get(0)))
            }
        }
    }

    /// `embedded`, `ballista` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Embedded(e) if e.cluster().is_some() => "ballista",
            Self::Embedded(_) => "embedded",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Adds the rows `select` gives to the append-only `relation` (created with `columns` when
    /// missing): on PostgreSQL an insert into a table whose trigger refuses UPDATE, DELETE and
    /// TRUNCATE; on the embedded engine the stored rows and the new ones written as the relation.
    pub async fn append(
        &mut self,
        relation: &Relation,
        columns: &[(&str, &str, crate::governance::DataClass)],
        select: &str,
    ) -> Result<()> {
        match self {
            Self::Embedded(e) => e.append(relation, select).await,
            Self::Postgres(p) => p.append(relation, columns, select).await,
        }
    }

    /// Creates `schema` when it does not exist.
    pub async fn create_schema(&self, schema: &str) -> Result<()> {
        match self {
            Self::Embedded(e) => e.create_schema(schema).await,
            Self::Postgres(p) => {
                let sql = format!("create schema if not exists {}", crate::render::quote_ident(schema));
                p.client()
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| Error::postgres(format!("creating schema {schema}"), &e))
            }
        }
    }

    /// Runs a hook's SQL (one or more statements).
    pub async fn execute(&self, sql: &str, context: &str) -> Result<()> {
        match self {
            Self::Embedded(e) => e.execute(sql, context).await,
            Self::Postgres(p) => p.client().batch_execute(sql).await.map_err(|e| Error::postgres(context, &e)),
        }
    }

    /// Every row `sql` selects, each value as text (`None` for NULL), for the commands that read
    /// the warehouse row by row (`review`, `taxonomy diff`).
    pub async fn rows(&self, sql: &str, context: &str) -> Result<Vec<Vec<Option<String>>>> {
        match self {
            Self::Embedded(e) => e.rows(sql, context).await,
            Self::Postgres(p) => p.rows(sql, context).await,
        }
    }

    /// The one value `sql` selects, as a number (`None` for NULL or no row).
    pub async fn scalar(&self, sql: &str, context: &str) -> Result<Option<f64>> {
        match self {
            Self::Embedded(e) => e.scalar(sql, context).await,
            Self::Postgres(p) => p.scalar(sql, context).await,
        }
    }
}
