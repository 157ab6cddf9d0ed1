//! A sheet per portfolio scenario: its status and totals, its budgets and caps against the
//! selection, every candidate with its decision and reason, and the efficient frontier as a
//! table and a chart (native, and as PNG and SVG beside the workbook). A scenario without a
//! selection says why at the top, and still lists its candidates and budgets.
//!
//! In: the scenarios family's tables of the period. Out: one [`SheetSpec`] per scenario, in the
//! configuration's order.

use polars::prelude::{AnyValue, Column, DataFrame, IntoLazy, col, lit};

use super::PackInputs;
use super::sheet::ColumnSpec;
use super::spec::{Block, ChartKind, ChartSpec, SeriesSpec, SheetSpec, TableBlock};
use crate::config::scenario::slug;
use crate::error::WorkbookError;
use crate::labels::{Lang, scenarios as words};
use crate::metrics::catalogue::{Table, Unit};
use crate::metrics::columns::{dates, floats, texts};
use crate::metrics::scenarios::reasons;
use crate::metrics::scenarios::{
    SCENARIO_CANDIDATES, SCENARIO_ENVELOPE, SCENARIO_FRONTIER, SCENARIO_SUMMARY,
};

/// The frontier line's colour.
const FRONTIER_COLOUR: u32 = 0x1f4e79;

/// The Scenarios sheets, one per row of `scenario_summary`; none when the family was left out or
/// no scenario is configured.
///
/// # Errors
///
/// [`WorkbookError::Frame`] when a table lacks a declared column.
pub fn scenario_sheets(inputs: &PackInputs) -> Result<Vec<SheetSpec>, WorkbookError> {
    let Some(summary) = inputs.figures.get(SCENARIO_SUMMARY.name) else {
        return Ok(Vec::new());
    };
    let names = texts(summary, "scenario").map_err(|e| frame_error("Scenarios", e))?;
    let mut sheets = Vec::with_capacity(names.len());
    for (index, name) in names.into_iter().flatten().enumerate() {
        sheets.push(sheet(inputs, &name, index + 1)?);
    }
    Ok(sheets)
}

fn frame_error(sheet: &str, source: polars::error::PolarsError) -> WorkbookError {
    WorkbookError::Frame {
        sheet: sheet.to_string(),
        source,
    }
}

/// The rows of `table` for scenario `name`.
fn rows_of(inputs: &PackInputs, table: &Table, name: &str) -> Result<DataFrame, WorkbookError> {
    let Some(frame) = inputs.figures.get(table.name) else {
        return Err(frame_error(
            name,
            polars::error::PolarsError::ColumnNotFound(
                format!("metrics.{} was not computed", table.name).into(),
            ),
        ));
    };
    frame
        .clone()
        .lazy()
        .filter(col("scenario").eq(lit(name.to_string())))
        .collect()
        .map_err(|e| frame_error(name, e))
}

/// A table's declared columns, but the period and the scenario (the sheet says both).
fn columns(table: &Table, lang: Lang) -> Vec<ColumnSpec> {
    table
        .columns
        .iter()
        .filter(|c| c.name != "period" && c.name != "scenario")
        .map(|c| {
            let spec = ColumnSpec::declared(table, c, lang);
            if c.unit == Unit::Text && (c.width >= 30.0 || c.name == "constraint") {
                spec.wrapped()
            } else {
                spec
            }
        })
        .collect()
}

fn text_of(frame: &DataFrame, column: &str, sheet: &str) -> Result<String, WorkbookError> {
    let values = texts(frame, column).map_err(|e| frame_error(sheet, e))?;
    Ok(values.into_iter().next().flatten().unwrap_or_default())
}

fn number_of(frame: &DataFrame, column: &str, sheet: &str) -> Result<Option<f64>, WorkbookError> {
    let values = floats(frame, column).map_err(|e| frame_error(sheet, e))?;
    Ok(values.into_iter().next().flatten())
}

fn money(value: Option<f64>, currency: &str) -> String {
    match value {
        Some(v) => format!(
            "{} {currency}",
            crate::format::group_thousands_decimal(
                rust_decimal::Decimal::from_f64_retain(v).unwrap_or_default()
            )
        ),
        None => "—".to_string(),
    }
}

/// The candidates with their decisions in `lang`: the warehouse keeps the decision as a code
/// (the English word), so that a rerun in the other language restates no decision.
fn decisions_in(mut frame: DataFrame, lang: Lang, sheet: &str) -> Result<DataFrame, WorkbookError> {
    let words: Vec<Option<&str>> = texts(&frame, "decision")
        .map_err(|e| frame_error(sheet, e))?
        .iter()
        .map(|code| {
            code.as_deref()
                .map(|code| reasons::decision::word(code, lang))
        })
        .collect();
    frame
        .with_column(Column::new("decision".into(), words))
        .map_err(|e| frame_error(sheet, e))?;
    Ok(frame)
}

fn sheet(inputs: &PackInputs, name: &str, index: usize) -> Result<SheetSpec, WorkbookError> {
    let lang = inputs.lang;
    let currency = inputs.reporting_currency;
    let summary = rows_of(inputs, &SCENARIO_SUMMARY, name)?;
    let month = |column: &str| -> Result<String, WorkbookError> {
        let d = dates(&summary, column).map_err(|e| frame_error(name, e))?;
        Ok(d.into_iter()
            .next()
            .flatten()
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default())
    };
    let (from, to) = (month("window_from")?, month("window_to")?);
    let status = text_of(&summary, "status", name)?;
    let notes = text_of(&summary, "notes", name)?;
    let objective = text_of(&summary, "objective", name)?;
    let count = |c: &str| -> Result<String, WorkbookError> {
        Ok(number_of(&summary, c, name)?.map_or("—".to_string(), |n| format!("{n:.0}")))
    };
    let mut rows = vec![(words::STATUS.get(lang).to_string(), status.clone())];
    let no_selection = number_of(&summary, "funded_cost", name)?.is_none();
    if no_selection && !notes.is_empty() {
        rows.push((words::WHY_NO_SELECTION.get(lang).to_string(), notes.clone()));
    }
    rows.extend([
        (words::OBJECTIVE.get(lang).to_string(), objective.clone()),
        (
            words::WINDOW.get(lang).to_string(),
            format!("{from} – {to}"),
        ),
        (
            words::ENVELOPE_TOTAL.get(lang).to_string(),
            money(number_of(&summary, "envelope", name)?, currency),
        ),
        (
            words::FUNDED_COST.get(lang).to_string(),
            money(number_of(&summary, "funded_cost", name)?, currency),
        ),
        (
            words::OBJECTIVE_VALUE.get(lang).to_string(),
            number_of(&summary, "objective_value", name)?.map_or("—".to_string(), |v| {
                crate::format::group_thousands(v.round() as i64)
            }),
        ),
        (
            words::DECISIONS.get(lang).to_string(),
            words::DECISION_COUNTS.fill(
                lang,
                &[
                    ("candidates", &count("candidates")?),
                    ("funded", &count("funded")?),
                    ("continued", &count("continued")?),
                    ("not_funded", &count("not_funded")?),
                    ("stopped", &count("stopped")?),
                ],
            ),
        ),
    ]);
    if !no_selection && !notes.is_empty() {
        rows.push((words::NOTES.get(lang).to_string(), notes));
    }
    rows.push((
        words::HOW_TO_READ.get(lang).to_string(),
        words::HOW_TO_READ_TEXT.get(lang).to_string(),
    ));
    let period = inputs.period.to_string();
    let mut blocks = vec![
        Block::Title(words::TITLE.fill(
            lang,
            &[
                ("name", name),
                ("from", &from),
                ("to", &to),
                ("period", &period),
                ("currency", currency),
            ],
        )),
        // The values run on over the empty cells beside them; fixed widths would widen the
        // tables' first columns below.
        Block::KeyValues { rows, widths: None },
        Block::Table(
            TableBlock::new(
                &format!("Scenario{index}Envelope"),
                rows_of(inputs, &SCENARIO_ENVELOPE, name)?,
                columns(&SCENARIO_ENVELOPE, lang),
            )
            .headed(words::ENVELOPE.get(lang).to_string()),
        ),
        Block::Table(
            TableBlock::new(
                &format!("Scenario{index}Candidates"),
                decisions_in(rows_of(inputs, &SCENARIO_CANDIDATES, name)?, lang, name)?,
                columns(&SCENARIO_CANDIDATES, lang),
            )
            .headed(words::CANDIDATES.get(lang).to_string()),
        ),
    ];
    let frontier = rows_of(inputs, &SCENARIO_FRONTIER, name)?;
    let drawn = frontier
        .column("objective_value")
        .map_err(|e| frame_error(name, e))?
        .as_materialized_series()
        .iter()
        .any(|v| !matches!(v, AnyValue::Null));
    let table = format!("Scenario{index}Frontier");
    blocks.push(Block::Table(
        TableBlock::new(&table, frontier, columns(&SCENARIO_FRONTIER, lang))
            .headed(words::FRONTIER.get(lang).to_string()),
    ));
    if drawn {
        blocks.push(Block::Chart(ChartSpec {
            title: words::FRONTIER_CHART.fill(lang, &[("name", name), ("currency", currency)]),
            kind: ChartKind::Scatter,
            table,
            categories: "envelope".into(),
            rows: None,
            series: vec![SeriesSpec::new(
                "objective_value",
                words::BEST_OBJECTIVE.get(lang),
                FRONTIER_COLOUR,
            )],
            category_format: "#,##0".into(),
            category_label: Some(words::ENVELOPE_TOTAL.get(lang).to_string()),
            value_format: "#,##0".into(),
            value_label: objective,
            image: Some(format!("{}-{}", slug(name), inputs.period)),
        }));
    }
    Ok(SheetSpec {
        name: name.to_string(),
        blocks,
        freeze: None,
        names: Vec::new(),
    })
}
