//! Report: the committee pack for one period.
//!
//! In: the period's metric DataFrames (when the loaded data supports them), the model sheets the
//! configuration asks for, and the run's record (inputs, rejects, models, tests). Out:
//! `<reports>/<YYYY-MM>/itvalue-<YYYY-MM>.xlsx` with native Excel charts, the same charts as PNG
//! and SVG beside it, and `run_results.json`, all [`Staged`] first and put in place only after the
//! run's warehouse changes are committed.

mod charts;
mod sheet;
mod staging;
mod workbook;

use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::config::ModelSheet;
use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject, SourceQuality};
use crate::metrics::finance::Finance;
use crate::models::{ModelResult, TestResult};
use crate::schedule::Period;

pub use staging::{Recovered, Staged, recover};

/// What the Run Info and Data Quality sheets tell about the run.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub run_id: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS.fff`.
    pub started_at: String,
    pub config_path: PathBuf,
    pub warehouse: PathBuf,
    pub inputs: Vec<InputFile>,
    pub rejects: Vec<Reject>,
    pub quality: Vec<SourceQuality>,
    pub models: Vec<ModelResult>,
    pub tests: Vec<TestResult>,
    /// How amounts in other currencies were converted, in words.
    pub fx: Vec<String>,
    /// Parts of the pack left out, each with the reason.
    pub left_out: Vec<LeftOut>,
    /// Models or tests outside what the pack needs that failed, in words; empty when none did.
    pub failures: Option<String>,
}

/// A sheet or chart the pack does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub what: String,
    pub reason: String,
}

/// A model's rows for a sheet that the configuration adds to the workbook.
#[derive(Debug, Clone)]
pub struct ModelSheetData {
    pub sheet: ModelSheet,
    pub frame: DataFrame,
}

/// Everything the pack is made from.
pub struct PackInputs<'a> {
    pub period: Period,
    pub reporting_currency: &'a str,
    /// The finance figures; `None` when the loaded data cannot give them (see `run.left_out`).
    pub finance: Option<&'a Finance>,
    pub run: &'a RunInfo,
    /// Model sheets, in the configuration's order, after the Monthly sheet.
    pub model_sheets: &'a [ModelSheetData],
    /// The chart font from the configuration, if any.
    pub chart_font: Option<&'a Path>,
}

/// The files of a pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub workbook: PathBuf,
    pub charts: Vec<PathBuf>,
    pub results: PathBuf,
}

/// The folder of one period's pack.
pub fn period_dir(reports: &Path, period: Period) -> PathBuf {
    reports.join(period.to_string())
}

/// Stages the workbook, the chart images and `results` for `inputs.period` under `reports`, and
/// returns where they will be once published. The workbook goes into place last, so a reader who
/// sees the new workbook sees its charts too.
///
/// # Errors
///
/// [`Error::Output`] when the folder or a file cannot be written, [`Error::Workbook`] when a value
/// breaks an Excel limit, [`Error::Chart`] when a chart cannot be drawn. Nothing is left behind.
pub fn stage_pack(
    reports: &Path,
    inputs: &PackInputs,
    results: &RunResults,
    results_file: &str,
) -> Result<(Pack, Staged)> {
    let dir = period_dir(reports, inputs.period);
    let period = inputs.period;
    let run_id = inputs.run.run_id.as_str();
    let mut staged = Staged::default();
    let mut charts_written = Vec::new();
    if inputs.finance.is_some() {
        let png = dir.join(format!("actual-vs-budget-{period}.png"));
        let svg = dir.join(format!("actual-vs-budget-{period}.svg"));
        let chart = actual_vs_budget_chart(inputs, &png)?;
        charts::stage_column_chart(&chart, &mut staged, run_id, &png, &svg, inputs.chart_font)?;
        charts_written = vec![png, svg];
    }
    let results_path = dir.join(results_file);
    staged.write(
        run_id,
        &results_path,
        &results_json(results, &results_path)?,
    )?;
    let workbook = dir.join(format!("itvalue-{period}.xlsx"));
    let bytes = workbook::build(inputs).map_err(|e| Error::Workbook {
        path: workbook.clone(),
        message: e,
    })?;
    staged.write(run_id, &workbook, &bytes)?;
    Ok((
        Pack {
            workbook,
            charts: charts_written,
            results: results_path,
        },
        staged,
    ))
}

/// Stages only `run_results-<run id>.json`, for runs of the models on their own.
///
/// # Errors
///
/// [`Error::Output`] when the file cannot be written.
pub fn stage_results(
    reports: &Path,
    period: Period,
    file_name: &str,
    results: &RunResults,
) -> Result<(PathBuf, Staged)> {
    let path = period_dir(reports, period).join(file_name);
    let mut staged = Staged::default();
    staged.write(results.run_id, &path, &results_json(results, &path)?)?;
    Ok((path, staged))
}

fn actual_vs_budget_chart(inputs: &PackInputs, png: &Path) -> Result<charts::ColumnChart> {
    let data = workbook::actual_vs_budget(inputs).map_err(|e| Error::Chart {
        path: png.to_path_buf(),
        message: e,
    })?;
    Ok(charts::ColumnChart {
        title: format!(
            "Actual vs budget, 12 months to {} ({})",
            inputs.period, inputs.reporting_currency
        ),
        months: data.months,
        series: vec![
            charts::Bars {
                name: "Actual".into(),
                values: data.actual,
                colour: plotters::style::RGBColor(0x1f, 0x4e, 0x79),
            },
            charts::Bars {
                name: "Budget".into(),
                values: data.budget,
                colour: plotters::style::RGBColor(0xa5, 0xa5, 0xa5),
            },
        ],
        y_label: inputs.reporting_currency.to_string(),
    })
}

/// What `run_results.json` holds: per model its status, rows and time, per test its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RunResults<'a> {
    pub run_id: &'a str,
    pub command: &'a str,
    pub period: String,
    pub itvalue_version: &'a str,
    pub models: &'a [ModelResult],
    pub tests: &'a [TestResult],
}

fn results_json(results: &RunResults, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(results).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes `results` to `<reports>/<period>/<file_name>` at once (staged and put in place), for
/// a run that fails: its results sit beside the pack without replacing anything of it.
///
/// # Errors
///
/// [`Error::Output`] when the file cannot be written.
pub fn write_results_now(
    reports: &Path,
    period: Period,
    file_name: &str,
    results: &RunResults,
) -> Result<PathBuf> {
    let (path, staged) = stage_results(reports, period, file_name, results)?;
    staged.publish()?;
    Ok(path)
}
