//! Report: the committee pack for one period.
//!
//! In: the period's metric DataFrames, the model sheets the configuration asks for, and the run's
//! record (inputs, rejects, models, tests). Out: `<reports>/<YYYY-MM>/itvalue-<YYYY-MM>.xlsx` with
//! native Excel charts, the same charts as PNG and SVG beside it, and `run_results.json`. Every
//! file is written to a temporary file in the same folder and renamed into place, so a reader
//! never sees half a workbook.

mod charts;
mod sheet;
mod workbook;

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::config::ModelSheet;
use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject, SourceQuality};
use crate::metrics::finance::Finance;
use crate::models::{ModelResult, TestResult};
use crate::schedule::Period;

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
    pub finance: &'a Finance,
    pub run: &'a RunInfo,
    /// Model sheets, in the configuration's order, after the Monthly sheet.
    pub model_sheets: &'a [ModelSheetData],
    /// The chart font from the configuration, if any.
    pub chart_font: Option<&'a Path>,
}

/// The files written.
#[derive(Debug, Clone)]
pub struct Pack {
    pub workbook: PathBuf,
    pub charts: Vec<PathBuf>,
}

/// The folder of one period's pack.
pub fn period_dir(reports: &Path, period: Period) -> PathBuf {
    reports.join(period.to_string())
}

/// Writes the workbook and chart images for `inputs.period` under `reports`.
///
/// # Errors
///
/// [`Error::Output`] when the folder or a file cannot be written, [`Error::Workbook`] when a value
/// breaks an Excel limit, [`Error::Chart`] when a chart cannot be drawn.
pub fn write_pack(reports: &Path, inputs: &PackInputs) -> Result<Pack> {
    let dir = period_dir(reports, inputs.period);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Output {
        path: dir.clone(),
        source: e,
    })?;
    let period = inputs.period;
    let workbook = dir.join(format!("itvalue-{period}.xlsx"));
    let bytes = workbook::build(inputs).map_err(|e| Error::Workbook {
        path: workbook.clone(),
        message: e,
    })?;
    write_atomically(&workbook, &bytes)?;

    let png = dir.join(format!("actual-vs-budget-{period}.png"));
    let svg = dir.join(format!("actual-vs-budget-{period}.svg"));
    let data = workbook::actual_vs_budget(inputs).map_err(|e| Error::Chart {
        path: png.clone(),
        message: e,
    })?;
    let title = format!(
        "Actual vs budget, 12 months to {period} ({})",
        inputs.reporting_currency
    );
    let chart = charts::ColumnChart {
        title: &title,
        months: &data.months,
        series: [
            (
                "Actual",
                &data.actual,
                plotters::style::RGBColor(0x1f, 0x4e, 0x79),
            ),
            (
                "Budget",
                &data.budget,
                plotters::style::RGBColor(0xa5, 0xa5, 0xa5),
            ),
        ],
        y_label: inputs.reporting_currency,
    };
    charts::write_column_chart(&chart, &png, &svg, inputs.chart_font)?;
    Ok(Pack {
        workbook,
        charts: vec![png, svg],
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

/// Writes `<reports>/<period>/<file_name>` (`run_results.json` for the monthly run) atomically
/// and returns its path.
///
/// # Errors
///
/// [`Error::Output`] when the folder or the file cannot be written.
pub fn write_run_results(
    reports: &Path,
    period: Period,
    file_name: &str,
    results: &RunResults,
) -> Result<PathBuf> {
    let dir = period_dir(reports, period);
    let path = dir.join(file_name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Output {
        path: dir.clone(),
        source: e,
    })?;
    let mut bytes = serde_json::to_vec_pretty(results).map_err(|e| Error::Output {
        path: path.clone(),
        source: e.into(),
    })?;
    bytes.push(b'\n');
    write_atomically(&path, &bytes)?;
    Ok(path)
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, and renames it over
/// `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let output = |e| Error::Output {
        path: path.to_path_buf(),
        source: e,
    };
    let mut temp = temp_builder(".itvalue-", "")
        .tempfile_in(dir)
        .map_err(output)?;
    temp.write_all(bytes).map_err(output)?;
    temp.as_file().sync_all().map_err(output)?;
    temp.persist(path).map_err(|e| output(e.error))?;
    Ok(())
}

/// A temporary-file builder whose files are readable like any other output (tempfile's default
/// of owner-only would survive the rename and hide the pack from its readers).
pub(crate) fn temp_builder<'a>(prefix: &'a str, suffix: &'a str) -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder
}
