//! Governance: the data class of every column, the roles that may read them (enforced by
//! PostgreSQL's privileges and by the embedded engine's `--role` guard), how long text is kept,
//! and the audit trail of every enrichment run (`docs/governance.md`).

pub mod audit;
pub mod classes;
pub mod grants;
pub mod guard;
pub mod retention;
pub mod roles;
pub mod rows;

pub use classes::DataClass;
