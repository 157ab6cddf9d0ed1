//! The sheets of the flow, delivery and reliability figures: Value Stream, Delivery and
//! Reliability, each a title and its family's tables, every table under a heading with the
//! columns its declaration gives (the period is in the title).
//!
//! In: [`PackInputs`] (the computed metric tables). Out: a [`SheetSpec`] per sheet whose tables
//! the run computed; a sheet whose family the loaded data cannot give is left out (Run Info says
//! why).

use super::PackInputs;
use super::figure_charts;
use super::sheet::ColumnSpec;
use super::spec::{Block, ChartSpec, SheetSpec, TableBlock};
use polars::prelude::PolarsResult;

use crate::error::WorkbookError;
use crate::labels::{self as label, Words};
use crate::metrics::catalogue::Table;
use crate::metrics::{delivery, flow, reliability};

/// A sheet's charts, and the tables made for them.
pub type SheetCharts = (Vec<ChartSpec>, Vec<TableBlock>);

/// A sheet of one family's tables.
pub struct FamilySheet {
    pub name: Words,
    /// With `{period}` and `{currency}` filled in.
    pub title: Words,
    /// The tables in the order shown, each under its heading.
    pub tables: &'static [(&'static Table, Words)],
    /// Rows and columns kept in view: the title rows and the key columns of the first table.
    pub freeze: Option<(u32, u16)>,
    /// The sheet's charts, above its tables, and the tables made for them, below.
    pub charts: fn(&PackInputs) -> PolarsResult<SheetCharts>,
}

/// The Value Stream, Delivery and Reliability sheets, in that order.
pub const FAMILY_SHEETS: [FamilySheet; 3] = [
    FamilySheet {
        name: label::VALUE_STREAM,
        title: label::VALUE_STREAM_TITLE,
        tables: &[
            (&flow::FLOW_VALUE_STREAM, label::FLOW_BY_STREAM),
            (&flow::FLOW_FUNNEL, label::FUNNEL),
            (&flow::FLOW_OLDEST_WIP, label::OLDEST_WIP),
            (&flow::FLOW_TREND, label::FLOW_TREND),
        ],
        freeze: None,
        charts: |inputs| Ok((figure_charts::value_stream_charts(inputs), Vec::new())),
    },
    FamilySheet {
        name: label::DELIVERY,
        title: label::DELIVERY_TITLE,
        tables: &[
            (&delivery::DELIVERY_PERFORMANCE, label::DORA_BY_LEVEL),
            (&delivery::DELIVERY_TREND, label::DELIVERY_TREND),
            (
                &delivery::DELIVERY_FAILED_DEPLOYMENTS,
                label::FAILED_DEPLOYMENTS,
            ),
        ],
        freeze: None,
        charts: |inputs| Ok((figure_charts::delivery_charts(inputs), Vec::new())),
    },
    FamilySheet {
        name: label::RELIABILITY,
        title: label::RELIABILITY_TITLE,
        tables: &[
            (&reliability::RELIABILITY_APPLICATION, label::SERVICE_LEVELS),
            (
                &reliability::APPLICATION_TIME_QUADRANT,
                label::TIME_QUADRANT,
            ),
            (&reliability::RELIABILITY_SEVERITY, label::BY_SEVERITY),
            (
                &reliability::RELIABILITY_INVESTMENT,
                label::COST_BY_INVESTMENT,
            ),
            (&reliability::RELIABILITY_PROBLEMS, label::PROBLEMS),
            (&reliability::RELIABILITY_TREND, label::RELIABILITY_TREND),
        ],
        freeze: None,
        charts: |inputs| {
            let (charts, table) = figure_charts::reliability_charts(inputs)?;
            Ok((charts, table.into_iter().collect()))
        },
    },
];

/// `spec`'s sheet, or `None` when the run computed none of its tables.
///
/// # Errors
///
/// [`WorkbookError::Frame`] when a chart's rows cannot be taken from its table (a defect).
pub fn family_sheet(
    inputs: &PackInputs,
    spec: &FamilySheet,
) -> Result<Option<SheetSpec>, WorkbookError> {
    let lang = inputs.lang;
    let mut blocks = vec![Block::Title(spec.title.fill(
        lang,
        &[
            ("period", &inputs.period.to_string()),
            ("currency", inputs.reporting_currency),
        ],
    ))];
    let (charts, chart_tables) = (spec.charts)(inputs).map_err(|source| WorkbookError::Frame {
        sheet: spec.name.get(lang).to_string(),
        source,
    })?;
    blocks.extend(charts.into_iter().map(Block::Chart));
    let before_tables = blocks.len();
    for (table, heading) in spec.tables {
        let Some(frame) = inputs.figures.get(table.name) else {
            continue;
        };
        let columns: Vec<ColumnSpec> = table
            .columns
            .iter()
            .filter(|c| c.name != "period")
            .map(|c| {
                let column = ColumnSpec::declared(c, lang);
                if c.name == "notes" || c.name == "reason" {
                    column.wrapped()
                } else {
                    column
                }
            })
            .collect();
        blocks.push(Block::Table(
            TableBlock::new(table.name, frame.clone(), columns).headed(heading.get(lang).into()),
        ));
    }
    if blocks.len() == before_tables {
        return Ok(None);
    }
    blocks.extend(chart_tables.into_iter().map(Block::Table));
    Ok(Some(SheetSpec {
        name: spec.name.get(lang).to_string(),
        blocks,
        freeze: spec.freeze,
        names: Vec::new(),
    }))
}
