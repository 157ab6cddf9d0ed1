//! itvalue: a batch pipeline for IT investment and value analytics.
//!
//! Sources (spreadsheets today) go in; a DuckDB warehouse, metric tables and the committee workbook
//! with its charts come out. Data flows one way through one module per stage:
//!
//! ```text
//! ingest -> warehouse -> models -> metrics -> report
//! ```
//!
//! At the bottom sits [`contract`], the domain vocabulary every stage shares (the entities and
//! their columns, funnel stages, cost pools, severities, currencies); [`config`] reads the
//! pipeline's configuration in those terms. [`job`] strings the stages together for one period at
//! the top (with backfill, scheduled runs and their catch-up); [`sample`] writes a realistic
//! sample portfolio to try it on; [`schedule`] holds the period arithmetic, cron schedules and the
//! run lock. No module imports one above it. The library never prints:
//! it logs through `tracing` and reports progress through [`progress::Progress`].

pub mod config;
pub mod contract;
pub mod error;
pub mod failpoint;
pub mod format;
pub mod ingest;
pub mod job;
pub mod labels;
pub mod metrics;
pub mod models;
pub mod progress;
pub mod report;
pub mod sample;
pub mod schedule;
pub mod warehouse;
pub mod zone;

pub use config::Config;
pub use error::{Error, ErrorClass, Result};
pub use schedule::Period;

/// The version recorded in the run ledger and on the workbook's Run Info sheet.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
