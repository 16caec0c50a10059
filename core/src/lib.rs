//! `convlytics-core`: every conversation function, written once and free of any SQL engine.
//!
//! The PostgreSQL extension (`pg_convlytics`) and the DataFusion adapter
//! (`datafusion_convlytics`) are thin adapters over these functions: they convert types and
//! nothing else, so both engines give the same answer for the same input. What each SQL function
//! is (name, arguments, result, volatility) is written once, in [`catalog`].

mod cache;
pub mod catalog;
pub mod classify;
pub mod conversation_id;
pub mod embed;
pub mod entities;
mod error;
mod fnv;
pub mod identity;
pub mod interrupt;
pub mod labels;
pub mod language;
pub mod pii;
pub mod resolution;
pub mod sentiment;
pub mod summarize;
pub mod taxonomy;
pub mod transcript;
mod user_regex;

pub use conversation_id::{conversation_id, CONVERSATION_NAMESPACE};
pub use error::{Error, ModelError, RecordsError, Result, SettingsKind};
pub use language::detect_language;
