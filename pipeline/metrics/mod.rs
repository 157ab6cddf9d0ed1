//! Metrics: the figures of DESIGN.md computed with Polars from the marts, one family at a time.
//!
//! In: DataFrames read from the warehouse's models, by model name, and the tables of the families
//! a family comes after, computed earlier in the same run ([`Inputs`]). Out: each family's metric
//! tables for one period ([`MetricTables`]), which the job stores in `metrics.*` and hands to the
//! report, and the [`catalogue`] that declares every table and column (header, unit, formula,
//! what an empty cell means) for the warehouse, the sheets and the Definitions sheet alike.

mod appraisal;
pub mod catalogue;
pub mod columns;
pub mod controls;
pub mod decisions;
pub mod delivery;
pub mod excel;
pub mod finance;
pub mod flow;
pub mod incident_cost;
pub mod levels;
pub mod reliability;
pub mod scenarios;
pub mod simulation;
pub mod solver;
pub mod stats;
#[cfg(test)]
mod test_frames;
pub mod valuation;

use std::collections::BTreeMap;

use polars::prelude::DataFrame;

use crate::config::metrics::MetricsConfig;
use crate::error::{Error, Result};
use crate::labels::Lang;
use crate::schedule::Period;
use crate::zone::LocalTime;

pub use catalogue::{FAMILIES, Family};

/// A family's metric tables for one period, by table name, in the family's declared order.
pub type MetricTables = Vec<(&'static str, DataFrame)>;

/// What a family computed: its tables, what Run Info should say of how (`label`, `text`), and
/// the faults in the data that left a part of it without figures.
#[derive(Debug, Default)]
pub struct Computed {
    pub tables: MetricTables,
    pub run_info: Vec<(String, String)>,
    pub faults: Vec<Fault>,
}

/// A fault in the data (or in how the configuration meets it) that leaves one part of a family
/// without figures while the rest of the pack stands: an infeasible portfolio scenario, say. The
/// part says why on its sheet; the run publishes, and ends with the bad-data exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What has no figures (`scenario "Budget 2027"`).
    pub part: String,
    /// Why, naming the constraints, ids and amounts concerned.
    pub message: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.part, self.message)
    }
}

/// The settings every family may read.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The discount rate of investments without their own.
    pub default_discount_rate: f64,
    pub reporting_currency: &'a str,
    pub metrics: &'a MetricsConfig,
    /// The configured zone's wall-clock times as instants, for durations.
    pub zone: &'a LocalTime,
    /// The language of the sentences stored with the figures (reasons, notes): the pack's.
    pub lang: Lang,
}

/// What a family is computed from: its models' rows, by model name, and the tables of the
/// families it comes after, by table name.
#[derive(Debug, Default)]
pub struct Inputs {
    frames: BTreeMap<String, DataFrame>,
    tables: BTreeMap<&'static str, DataFrame>,
}

impl Inputs {
    /// Adds the rows of `model`.
    pub fn insert(&mut self, model: &str, frame: DataFrame) {
        self.frames.insert(model.to_string(), frame);
    }

    /// Adds a table an earlier family computed in this run.
    pub fn insert_table(&mut self, table: &'static str, frame: DataFrame) {
        self.tables.insert(table, frame);
    }

    /// The table `table` (`investment_finance`) an earlier family computed in this run.
    ///
    /// # Errors
    ///
    /// [`Error::Metrics`] when it was not handed over: the family does not declare the family
    /// that makes it in its `after`.
    pub fn table(&self, table: &str) -> Result<&DataFrame> {
        self.tables.get(table).ok_or_else(|| {
            Error::metrics(
                "inputs",
                polars::error::PolarsError::ColumnNotFound(
                    format!("table {table} of an earlier family was not handed to this family")
                        .into(),
                ),
            )
        })
    }

    /// The rows of `model`.
    ///
    /// # Errors
    ///
    /// [`Error::Metrics`] when the job did not read it: the family's declaration lacks it.
    pub fn frame(&self, model: &str) -> Result<&DataFrame> {
        self.frames.get(model).ok_or_else(|| {
            Error::metrics(
                "inputs",
                polars::error::PolarsError::ColumnNotFound(
                    format!("model {model} was not read for this family").into(),
                ),
            )
        })
    }
}

/// Computes `family` as of `period`, and checks every table against its declaration.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails or a table differs from its declaration; both are
/// defects in itvalue, not in the data.
pub fn compute(
    family: &Family,
    inputs: &Inputs,
    period: Period,
    settings: &Settings,
) -> Result<Computed> {
    let computed = (family.compute)(inputs, period, settings)?;
    for (name, frame) in &computed.tables {
        let declared = family.table(name).ok_or_else(|| {
            Error::metrics(
                family.name,
                polars::error::PolarsError::ColumnNotFound(
                    format!("table {name} is not declared by the family").into(),
                ),
            )
        })?;
        declared.check(frame).map_err(|message| {
            Error::metrics(
                family.name,
                polars::error::PolarsError::SchemaMismatch(message.into()),
            )
        })?;
    }
    Ok(computed)
}
