//! Identity stitching: which records (CRM rows, chat contacts, email senders, callers) are one
//! customer.
//!
//! * [`normalize_identifier`] gives emails, phone numbers, ids and names one canonical form.
//! * [`stitch`] clusters a [`RecordSet`]: deterministic links on shared normalized keys, and
//!   Fellegi-Sunter scoring of blocked candidate pairs with weights estimated from the data (or
//!   fixed in [`Settings`]); union-find makes clusters, each with a stable key, and every record
//!   keeps the link that placed it.
//! * [`pairwise_metrics`] measures a stitching against true pairs.

mod blocking;
mod cluster;
mod columns;
mod eval;
mod model;
pub(crate) mod normalize;
mod phone;
mod records;
mod settings;
mod similarity;
mod stitch;
mod term_frequency;

pub use cluster::CLUSTER_NAMESPACE;
pub use columns::ColumnKind;
pub use eval::{pairwise_metrics, read_truth, PairwiseMetrics};
pub use model::{ColumnModel, LevelModel, Model};
pub(crate) use normalize::valid_phone;
pub use normalize::{normalize_identifier, normalize_identifier_text, IdentifierKind, Region};
pub use records::{QueryRecords, RecordSet, RECORD_ID_COLUMN};
pub use settings::{LevelWeights, Settings};
pub use stitch::{stitch, stitch_until, Assignment, Stats, Stitched, PROBABILISTIC_RULE};
