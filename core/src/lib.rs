//! `convlytics-core`: every conversation function, written once and free of any SQL engine.
//!
//! The PostgreSQL extension (`pg_convlytics`) and the DataFusion UDFs in the compiler are thin
//! adapters over these functions: they convert types and nothing else, so both engines give the
//! same answer for the same input.

mod cache;
pub mod classify;
pub mod conversation_id;
pub mod embed;
pub mod entities;
mod error;
pub mod identity;
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
pub use error::{Error, Result};
pub use language::detect_language;
