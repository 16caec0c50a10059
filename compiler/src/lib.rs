//! convlytics: the compiler and CLI.
//!
//! Loads a dbt-style project, renders its models with Jinja, orders them by `ref()`, and builds
//! them on embedded DataFusion (files in, Parquet out) or on PostgreSQL with pg_convlytics.

pub mod analysis;
pub mod cli;
pub mod compile;
pub mod dag;
pub mod data_tests;
pub mod dbt;
pub mod demo;
pub mod diagnostic;
pub mod docs;
pub mod engine;
pub mod error;
pub mod eval;
pub mod freshness;
pub mod governance;
pub mod introspect;
pub mod jinja;
pub mod manifest;
pub mod monitor;
pub mod project;
pub mod query;
pub mod realtime;
pub mod render;
pub mod review;
pub mod run;
pub mod seed;
pub mod select;
pub mod taxonomy;
pub mod unit_tests;

pub use error::{Error, Result};
