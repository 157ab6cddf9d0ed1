//! Report: the committee pack for one period.
//!
//! In: the period's metric DataFrames (when the loaded data supports them), the model sheets the
//! configuration asks for, and the run's record (inputs, rejects, models, tests). Out:
//! `<reports>/<YYYY-MM>/itvalue-<YYYY-MM>.xlsx` with native Excel charts, the same charts as PNG
//! and SVG beside it, and `run_results.json`, all [`Staged`] first and put in place only after the
//! run's warehouse changes are committed.

mod bubbles;
mod cash_flows;
mod charts;
mod extracts;
mod family_sheets;
mod figure_charts;
mod fonts;
mod model_sheets;
mod restated;
mod scenarios;
mod sheet;
pub mod spec;
mod staging;
mod summary;
mod workbook;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::DataFrame;
use serde::Serialize;

use crate::config::ModelSheet;
use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject, SourceQuality};
use crate::labels::Lang;
use crate::models::{ModelResult, TestResult};
use crate::schedule::Period;

pub use extracts::{Extract, stage_extracts};
pub use model_sheets::read_model_sheets;
pub use staging::{Recovered, Staged, recover};
pub use summary::quality_share;
pub use workbook::sheets;

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
    /// What the figure families say of how they were computed (`label`, `text`).
    pub figures: Vec<(String, String)>,
    /// What this run reports differently from the latest earlier run of the period; `None`
    /// when it is the period's first report.
    pub restated: Option<RestatedInfo>,
    /// Files that brought rows into periods reported before they arrived, in words.
    pub late: Vec<String>,
}

/// The figures a rerun restated, for the Run Info sheet.
#[derive(Debug, Clone)]
pub struct RestatedInfo {
    pub since_run: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub since_started: String,
    pub changes: Vec<crate::warehouse::reported::Restatement>,
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
    /// The language of the pack's words.
    pub lang: Lang,
    /// The metric tables the run computed, by name; a family the loaded data cannot give has
    /// none (see `run.left_out`), and its sheets are left out.
    pub figures: &'a BTreeMap<&'static str, DataFrame>,
    pub run: &'a RunInfo,
    /// Model sheets, in the configuration's order, after the Monthly sheet.
    pub model_sheets: &'a [ModelSheetData],
    /// The chart font from the configuration, if any.
    pub chart_font: Option<&'a Path>,
    /// The previous period's stored figures (empty when it was not run), for the Summary.
    pub previous: &'a BTreeMap<&'static str, DataFrame>,
    /// The share of rows accepted by this run's sources, and by the previous period's last run.
    pub quality: Option<f64>,
    pub previous_quality: Option<f64>,
    /// The Summary's targets and thresholds, and the company of the document properties.
    pub report: &'a crate::config::report::ReportSettings,
    /// When the run started (UTC): the workbook's creation time.
    pub created: chrono::NaiveDateTime,
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

/// Stages the period folder with the workbook, its charts' images and `results` for
/// `inputs.period` under `reports`, and returns where they will be once published: all at once,
/// when the staged folder is swapped in.
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
    let workbook_name = format!("itvalue-{}.xlsx", inputs.period);
    let workbook = dir.join(&workbook_name);
    let in_workbook = |source| Error::Workbook {
        path: workbook.clone(),
        source: Box::new(source),
    };
    let specs = workbook::sheets(inputs).map_err(in_workbook)?;
    let mut staged = Staged::new(&inputs.run.run_id, &dir)?;
    let mut images = Vec::new();
    for sheet in &specs {
        let tables: Vec<&spec::TableBlock> = sheet
            .blocks
            .iter()
            .filter_map(|b| match b {
                spec::Block::Table(t) => Some(t),
                _ => None,
            })
            .collect();
        for block in &sheet.blocks {
            if let spec::Block::Chart(chart) = block
                && let Some(table) = tables.iter().find(|t| t.name == chart.table)
            {
                images.extend(charts::stage_images(
                    chart,
                    &table.frame,
                    &mut staged,
                    inputs.chart_font,
                )?);
            }
        }
    }
    let results_path = dir.join(results_file);
    staged.write(results_file, &results_json(results, &results_path)?)?;
    let bytes = workbook::render(inputs, &specs).map_err(in_workbook)?;
    staged.write(&workbook_name, &bytes)?;
    Ok((
        Pack {
            workbook,
            charts: images,
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
    let dir = period_dir(reports, period);
    let path = dir.join(file_name);
    let mut staged = Staged::new(results.run_id, &dir)?;
    staged.write(file_name, &results_json(results, &path)?)?;
    Ok((path, staged))
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
