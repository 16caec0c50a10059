//! Row filters on the embedded engine: for `sql --role NAME`, each relation the role reads
//! through a `rows:` filter is replaced, under its own name, by a table that returns only the
//! rows meeting the filter, whatever the query asks (PostgreSQL's row-level security does the
//! same on the server).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, TableReference};
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::roles::{Policy, RoleSpec};
use crate::error::{Error, Result};

/// A relation seen through a row filter.
#[derive(Debug)]
struct RowFiltered {
    inner: Arc<dyn TableProvider>,
    filter: Expr,
}

#[async_trait]
impl TableProvider for RowFiltered {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let rows = self.inner.scan(state, None, &[], None).await?;
        let schema = DFSchema::try_from(self.inner.schema().as_ref().clone())?;
        let predicate = state.create_physical_expr(self.filter.clone(), &schema)?;
        let kept: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, rows)?);
        let Some(projection) = projection else { return Ok(kept) };
        let columns: Vec<(Arc<dyn PhysicalExpr>, String)> = projection
            .iter()
            .map(|&i| {
                let name = schema.field(i).name().clone();
                (Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>, name)
            })
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(columns, kept)?))
    }
}

/// Replaces each relation `role` reads through a row filter by its filtered form in `ctx`.
pub async fn apply(ctx: &SessionContext, policy: &Policy, role: &RoleSpec) -> Result<()> {
    for (model, condition) in &role.rows {
        let Some(g) = policy.relations.values().find(|g| &g.name == model) else {
            return Err(Error::Project(format!("role {}: rows: {model} is not a model or seed", role.name)));
        };
        let table = TableReference::partial(g.schema.as_str(), g.identifier.as_str());
        let context = format!("role {}: rows: {model}", role.name);
        let Some(inner) = ctx.table_provider(table.clone()).await.ok() else { continue };
        let schema = DFSchema::try_from(inner.schema().as_ref().clone()).map_err(|e| Error::datafusion(&context, e))?;
        let filter = ctx.state().create_logical_expr(condition, &schema).map_err(|e| Error::datafusion(&context, e))?;
        ctx.deregister_table(table.clone()).map_err(|e| Error::datafusion(&context, e))?;
        ctx.register_table(table, Arc::new(RowFiltered { inner, filter }))
            .map_err(|e| Error::datafusion(&context, e))?;
    }
    Ok(())
}
