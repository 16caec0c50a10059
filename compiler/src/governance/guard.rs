//! `convlytics sql --role NAME` on the embedded engine: an optimizer rule, last in the session,
//! that looks at every table scan of every plan the session optimizes (the statement's, its
//! views' and subqueries', and those the table functions run) and refuses the query when the
//! role may not read a column it scans, naming the relation and the column.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::common::{DataFusionError, TableReference};
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::roles::{Policy, RoleSpec};

/// The rule: the project's policy and the role the session reads as.
#[derive(Debug)]
pub struct Guard {
    policy: Arc<Policy>,
    role: RoleSpec,
}

impl Guard {
    /// A guard reading as `role` of `policy`.
    pub fn new(policy: Arc<Policy>, role: RoleSpec) -> Self {
        Self { policy, role }
    }

    fn check(&self, plan: &LogicalPlan) -> datafusion::error::Result<()> {
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                // The catalogue's own views list names and types, no rows of data; a convlytics
                // table function's rows come from its arguments, and the queries it runs are
                // plans this rule checks too.
                let function = scan.table_name.table().strip_suffix("()").and_then(convlytics_core::catalog::function);
                if scan.table_name.schema() == Some("information_schema") || function.is_some() {
                    return Ok(TreeNodeRecursion::Continue);
                }
                let (schema, table) = match &scan.table_name {
                    TableReference::Bare { table } => ("public".to_owned(), table.to_string()),
                    TableReference::Partial { schema, table } | TableReference::Full { schema, table, .. } => {
                        (schema.to_string(), table.to_string())
                    }
                };
                let source = scan.source.schema();
                let mut columns: Vec<String> = match &scan.projection {
                    Some(p) => p.iter().map(|i| source.field(*i).name().clone()).collect(),
                    None => source.fields().iter().map(|f| f.name().clone()).collect(),
                };
                for filter in &scan.filters {
                    columns.extend(filter.column_refs().into_iter().map(|c| c.name.clone()));
                }
                self.policy.check(&self.role, &schema, &table, &columns).map_err(|denied| {
                    DataFusionError::Plan(format!(
                        "permission denied: role {} may not read {denied}; it reads {}",
                        self.role.name,
                        self.role.reads.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map(|_| ())
    }
}

impl OptimizerRule for Guard {
    fn name(&self) -> &str {
        "convlytics_role_guard"
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> datafusion::error::Result<Transformed<LogicalPlan>> {
        self.check(&plan)?;
        Ok(Transformed::no(plan))
    }
}
