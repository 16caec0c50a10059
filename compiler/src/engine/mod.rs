//! The engines models are built on: embedded DataFusion (the default) and PostgreSQL.

pub mod embedded;
pub mod postgres;

use crate::compile::Compiled;
use crate::error::{Error, Result};
use crate::project::profiles::{Target, TargetKind};
use crate::project::Project;
use crate::render::CompiledModel;
pub use embedded::EmbeddedEngine;
pub use postgres::PostgresEngine;

/// What building one model produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// Rows written, when the engine reports them (tables; views on the embedded engine).
    pub rows: Option<u64>,
}

/// A connected engine, ready to build the models of one compiled project.
pub enum Engine {
    /// Embedded DataFusion.
    Embedded(EmbeddedEngine),
    /// PostgreSQL with pg_convlytics.
    Postgres(PostgresEngine),
}

impl Engine {
    /// Connects to `target` and makes the sources the models read available.
    pub async fn connect(project: &Project, target: &Target, compiled: &Compiled) -> Result<Self> {
        match &target.kind {
            TargetKind::Embedded => {
                let engine = EmbeddedEngine::new(project.target_dir().join("warehouse"));
                let used: std::collections::BTreeSet<_> =
                    compiled.models.iter().flat_map(|m| m.sources.iter()).collect();
                for (table, location) in &compiled.sources {
                    let key = (table.source.clone(), table.name.clone());
                    match location {
                        Some(location) => engine.register_source(table, location).await?,
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
                engine.register_taxonomies(project);
                Ok(Self::Embedded(engine))
            }
            TargetKind::Postgres { connection } => {
                let engine = PostgresEngine::connect(connection, &target.schema).await?;
                engine.register_taxonomies(project).await?;
                Ok(Self::Postgres(engine))
            }
        }
    }

    /// Builds one model.
    pub async fn build(&mut self, model: &CompiledModel) -> Result<Built> {
        match self {
            Self::Embedded(e) => e.build(model).await,
            Self::Postgres(p) => p.build(model).await,
        }
    }
}
