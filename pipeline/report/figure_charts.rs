//! The pack's charts of the figures: the demand funnel, the cumulative flow and the lead-time
//! trend (Value Stream), the change failure rate by release strategy (Delivery), the incident
//! cost trend and the error budget consumed by application (Reliability), and the portfolio map
//! and the risk-adjusted NPV ranges of the largest investments (Summary). Each is one
//! [`ChartSpec`], drawn as the workbook's native chart and as PNG and SVG images; a chart that
//! needs its rows in another order than its table's gets a small table of its own.
//!
//! In: [`PackInputs`] (the metric tables). Out: chart specifications and their data tables.

use polars::prelude::*;

use super::PackInputs;
use super::sheet::ColumnSpec;
use super::spec::{ChartKind, ChartSpec, SeriesSpec, TableBlock};
use crate::labels::{self as label, Lang, Words};
use crate::metrics::catalogue::Table;
use crate::metrics::{delivery, finance, flow, reliability};

/// The palette: dark blue, orange, grey, green, light blue, red.
const PALETTE: [u32; 6] = [0x1f4e79, 0xed7d31, 0xa5a5a5, 0x70ad47, 0x5b9bd5, 0xc00000];

/// How many investments the NPV ranges show, and applications the error budget chart.
const LARGEST: usize = 10;
const MOST_SPENT: usize = 15;

fn title(words: Words, inputs: &PackInputs) -> String {
    words.fill(
        inputs.lang,
        &[
            ("period", &inputs.period.to_string()),
            ("currency", inputs.reporting_currency),
        ],
    )
}

/// The header a table declares for `column`, as a series' name.
fn header(table: &Table, column: &str, lang: Lang) -> String {
    table
        .column(column)
        .map_or(column, |c| c.header.get(lang))
        .to_string()
}

/// The image's file name: `<stem>-<period>`.
fn image(stem: &str, inputs: &PackInputs) -> Option<String> {
    Some(format!("{stem}-{}", inputs.period))
}

/// The first `n` rows of a table sorted portfolio first: its portfolio rows.
fn first(n: usize, frame: &DataFrame) -> Option<std::ops::Range<usize>> {
    Some(0..n.min(frame.height()))
}

/// The rows of `frame` whose `level` is `level` (contiguous: the tables sort by level).
fn level_rows(frame: &DataFrame, level: &str) -> Option<std::ops::Range<usize>> {
    let levels = frame.column("level").ok()?.str().ok()?.clone();
    let rows: Vec<usize> = levels
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == Some(level))
        .map(|(i, _)| i)
        .collect();
    Some(*rows.first()?..*rows.last()? + 1)
}

/// The Value Stream sheet's charts.
pub fn value_stream_charts(inputs: &PackInputs) -> Vec<ChartSpec> {
    let lang = inputs.lang;
    let mut charts = Vec::new();
    if let Some(funnel) = inputs.figures.get(flow::FLOW_FUNNEL.name) {
        charts.push(ChartSpec {
            title: title(label::CHART_FUNNEL, inputs),
            kind: ChartKind::Column,
            table: flow::FLOW_FUNNEL.name.into(),
            categories: "stage".into(),
            // The portfolio's seven funnel stages, not its exits.
            rows: first(7, funnel),
            series: vec![SeriesSpec::new(
                "cohort_reached",
                &header(&flow::FLOW_FUNNEL, "cohort_reached", lang),
                PALETTE[0],
            )],
            category_format: String::new(),
            category_label: None,
            value_format: "#,##0".into(),
            value_label: label::DEMANDS.get(lang).into(),
            image: image("demand-funnel", inputs),
        });
    }
    if let Some(trend) = inputs.figures.get(flow::FLOW_TREND.name) {
        let stacked = [
            "done",
            "at_in_test",
            "at_in_development",
            "at_scheduled",
            "at_analysed",
            "at_proposed",
        ];
        charts.push(ChartSpec {
            title: title(label::CHART_CUMULATIVE_FLOW, inputs),
            kind: ChartKind::AreaStacked,
            table: flow::FLOW_TREND.name.into(),
            categories: "month".into(),
            rows: first(12, trend),
            series: stacked
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    SeriesSpec::new(c, &header(&flow::FLOW_TREND, c, lang), PALETTE[i % 6])
                })
                .collect(),
            category_format: "yyyy-mm".into(),
            category_label: None,
            value_format: "#,##0".into(),
            value_label: label::DEMANDS.get(lang).into(),
            image: image("cumulative-flow", inputs),
        });
        charts.push(ChartSpec {
            title: title(label::CHART_LEAD_TIME, inputs),
            kind: ChartKind::Line,
            table: flow::FLOW_TREND.name.into(),
            categories: "month".into(),
            rows: first(12, trend),
            series: vec![
                SeriesSpec::new(
                    "lead_time_p50",
                    &header(&flow::FLOW_TREND, "lead_time_p50", lang),
                    PALETTE[0],
                ),
                SeriesSpec::new(
                    "lead_time_p85",
                    &header(&flow::FLOW_TREND, "lead_time_p85", lang),
                    PALETTE[1],
                ),
            ],
            category_format: "yyyy-mm".into(),
            category_label: None,
            value_format: "#,##0.0".into(),
            value_label: label::DAYS.get(lang).into(),
            image: image("lead-time", inputs),
        });
    }
    charts
}

/// The Delivery sheet's chart: the change failure rate of each release strategy side by side.
pub fn delivery_charts(inputs: &PackInputs) -> Vec<ChartSpec> {
    let table = &delivery::DELIVERY_PERFORMANCE;
    let Some(frame) = inputs.figures.get(table.name) else {
        return Vec::new();
    };
    let Some(rows) = level_rows(frame, "strategy") else {
        return Vec::new();
    };
    vec![ChartSpec {
        title: title(label::CHART_FAILURE_RATE, inputs),
        kind: ChartKind::Column,
        table: table.name.into(),
        categories: "strategy".into(),
        rows: Some(rows),
        series: vec![SeriesSpec::new(
            "change_failure_rate",
            &header(table, "change_failure_rate", inputs.lang),
            PALETTE[5],
        )],
        category_format: String::new(),
        category_label: None,
        value_format: "0%".into(),
        value_label: label::SHARE.get(inputs.lang).into(),
        image: image("change-failure-rate", inputs),
    }]
}

/// The Reliability sheet's charts and the table the error budget chart draws.
pub fn reliability_charts(
    inputs: &PackInputs,
) -> PolarsResult<(Vec<ChartSpec>, Option<TableBlock>)> {
    let lang = inputs.lang;
    let mut charts = Vec::new();
    if inputs
        .figures
        .contains_key(reliability::RELIABILITY_TREND.name)
    {
        charts.push(ChartSpec {
            title: title(label::CHART_INCIDENT_COST, inputs),
            kind: ChartKind::Column,
            table: reliability::RELIABILITY_TREND.name.into(),
            categories: "month".into(),
            rows: None,
            series: vec![SeriesSpec::new(
                "incident_cost",
                &header(&reliability::RELIABILITY_TREND, "incident_cost", lang),
                PALETTE[1],
            )],
            category_format: "yyyy-mm".into(),
            category_label: None,
            value_format: "#,##0".into(),
            value_label: inputs.reporting_currency.into(),
            image: image("incident-cost", inputs),
        });
    }
    let table = &reliability::RELIABILITY_APPLICATION;
    let most = inputs
        .figures
        .get(table.name)
        .map(|frame| {
            frame
                .clone()
                .lazy()
                .filter(
                    col("level")
                        .eq(lit("application"))
                        .and(col("budget_consumed").is_not_null()),
                )
                .sort(
                    ["budget_consumed", "application_id"],
                    SortMultipleOptions::default().with_order_descending_multi([true, false]),
                )
                .limit(MOST_SPENT as u32)
                .select([col("application_id"), col("name"), col("budget_consumed")])
                .collect()
        })
        .transpose()?
        .filter(|f| f.height() > 0);
    let block = most.map(|frame| {
        let columns = ["application_id", "name", "budget_consumed"]
            .iter()
            .filter_map(|c| table.column(c).map(|c| ColumnSpec::declared(c, lang)))
            .collect();
        TableBlock::new("error_budget_most_spent", frame, columns)
            .headed(title(label::ERROR_BUDGET_MOST, inputs))
    });
    if block.is_some() {
        charts.push(ChartSpec {
            title: title(label::CHART_ERROR_BUDGET, inputs),
            kind: ChartKind::Bar,
            table: "error_budget_most_spent".into(),
            categories: "application_id".into(),
            rows: None,
            series: vec![SeriesSpec::new(
                "budget_consumed",
                &header(table, "budget_consumed", lang),
                PALETTE[5],
            )],
            category_format: String::new(),
            category_label: None,
            value_format: "0%".into(),
            value_label: label::SHARE.get(lang).into(),
            image: image("error-budget", inputs),
        });
    }
    Ok((charts, block))
}

/// The portfolio map (cost to date against NPV, bubble size the budget, a series per category)
/// and the NPV ranges of the largest investments, with the tables they draw.
pub fn portfolio_charts(inputs: &PackInputs) -> PolarsResult<Vec<(ChartSpec, TableBlock)>> {
    let Some(frame) = inputs.figures.get(finance::INVESTMENT_FINANCE.name) else {
        return Ok(Vec::new());
    };
    let lang = inputs.lang;
    let table = &finance::INVESTMENT_FINANCE;
    let declared = |names: &[&str]| -> Vec<ColumnSpec> {
        names
            .iter()
            .filter_map(|c| table.column(c).map(|c| ColumnSpec::declared(c, lang)))
            .collect()
    };
    let mut out = Vec::new();
    let map_columns = [
        "investment_id",
        "name",
        "category",
        "actual_to_date",
        "npv",
        "budget_at_completion",
    ];
    let map = frame
        .clone()
        .lazy()
        .filter(
            col("npv")
                .is_not_null()
                .and(col("actual_to_date").is_not_null())
                .and(col("budget_at_completion").is_not_null()),
        )
        .sort(
            ["category", "investment_id"],
            SortMultipleOptions::default(),
        )
        .select(map_columns.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?;
    if map.height() > 0 {
        let categories: Vec<Option<String>> = map
            .column("category")
            .ok()
            .and_then(|c| {
                c.str()
                    .ok()
                    .map(|s| s.iter().map(|v| v.map(String::from)).collect())
            })
            .unwrap_or_default();
        let mut series = Vec::new();
        let mut start = 0;
        while start < categories.len() {
            let end = (start..categories.len())
                .find(|i| categories[*i] != categories[start])
                .unwrap_or(categories.len());
            let name = categories[start].clone().unwrap_or_default();
            series.push(SeriesSpec {
                x: Some("actual_to_date".into()),
                size: Some("budget_at_completion".into()),
                rows: Some(start..end),
                ..SeriesSpec::new("npv", &name, PALETTE[series.len() % 6])
            });
            start = end;
        }
        out.push((
            ChartSpec {
                title: title(label::CHART_PORTFOLIO_MAP, inputs),
                kind: ChartKind::Bubble,
                table: "portfolio_map".into(),
                categories: String::new(),
                rows: None,
                series,
                category_format: "#,##0".into(),
                category_label: Some(header(table, "actual_to_date", lang)),
                value_format: "#,##0".into(),
                value_label: header(table, "npv", lang),
                image: image("portfolio-map", inputs),
            },
            TableBlock::new("portfolio_map", map, declared(&map_columns))
                .headed(title(label::PORTFOLIO_MAP_DATA, inputs)),
        ));
    }
    let range_columns = ["investment_id", "name", "npv_p10", "npv_p50", "npv_p90"];
    let largest = frame
        .clone()
        .lazy()
        .filter(
            col("npv_p50")
                .is_not_null()
                .and(col("budget_at_completion").is_not_null()),
        )
        .sort(
            ["budget_at_completion", "investment_id"],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(LARGEST as u32)
        .select(range_columns.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?;
    if largest.height() > 0 {
        out.push((
            ChartSpec {
                title: title(label::CHART_NPV_RANGE, inputs),
                kind: ChartKind::Range,
                table: "npv_ranges".into(),
                categories: "investment_id".into(),
                rows: None,
                series: ["npv_p10", "npv_p50", "npv_p90"]
                    .iter()
                    .zip([PALETTE[2], PALETTE[0], PALETTE[2]])
                    .map(|(c, colour)| SeriesSpec::new(c, &header(table, c, lang), colour))
                    .collect(),
                category_format: String::new(),
                category_label: None,
                value_format: "#,##0".into(),
                value_label: inputs.reporting_currency.into(),
                image: image("npv-range", inputs),
            },
            TableBlock::new("npv_ranges", largest, declared(&range_columns))
                .headed(title(label::NPV_RANGE_DATA, inputs)),
        ));
    }
    Ok(out)
}
