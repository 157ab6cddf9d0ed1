//! The Summary sheet, first in the pack: the month's headline figures, each with the previous
//! month's (from the warehouse's stored figures), its target and a red/amber/green status by the
//! configured thresholds, a link to the sheet and row it comes from and a defined name
//! (`Portfolio_NPV`); then the investments that need a decision with the recommendation and its
//! reason; then the portfolio map and the NPV ranges of the largest investments.
//!
//! In: [`PackInputs`] and the other sheets (to link into). Out: the Summary's [`SheetSpec`].

use std::collections::BTreeMap;

use polars::prelude::*;

use super::PackInputs;
use super::figure_charts::portfolio_charts;
use super::sheet::{ColumnSpec, Highlight, Tone};
use super::spec::{Block, NamedCell, SheetSpec, TableBlock, landings};
use crate::config::report::{Better, HEADLINES, Status, Thresholds};
use crate::error::WorkbookError;
use crate::ingest::SourceQuality;
use crate::labels::{self as label, Lang, Words};
use crate::metrics::catalogue::Unit;
use crate::metrics::columns::{floats, money};
use crate::metrics::{delivery, finance, flow, reliability};

/// Where a headline comes from: the sheet's words, the table and its row (`None`: the header).
struct Source {
    sheet: Words,
    table: &'static str,
    row: Option<usize>,
}

/// A headline: its key (as `[report.headlines]` names it), words, unit, defined name and source.
struct Headline {
    key: &'static str,
    words: Words,
    unit: Unit,
    name: &'static str,
    source: Source,
}

const PORTFOLIO: Source = Source {
    sheet: label::PORTFOLIO,
    table: "Portfolio",
    row: None,
};

const fn first_row(sheet: Words, table: &'static str) -> Source {
    Source {
        sheet,
        table,
        row: Some(0),
    }
}

/// The headlines in the order the Summary shows them.
const SHOWN: [Headline; 11] = [
    Headline {
        key: "spend_vs_budget_ytd",
        words: label::H_SPEND,
        unit: Unit::Percent,
        name: "Spend_vs_Budget_YTD",
        source: PORTFOLIO,
    },
    Headline {
        key: "portfolio_npv",
        words: label::H_NPV,
        unit: Unit::Money,
        name: "Portfolio_NPV",
        source: PORTFOLIO,
    },
    Headline {
        key: "risk_adjusted_npv_p50",
        words: label::H_NPV_P50,
        unit: Unit::Money,
        name: "Risk_Adjusted_NPV_P50",
        source: PORTFOLIO,
    },
    Headline {
        key: "benefit_realization",
        words: label::H_BENEFITS,
        unit: Unit::Percent,
        name: "Benefit_Realization",
        source: PORTFOLIO,
    },
    Headline {
        key: "lead_time_p85",
        words: label::H_LEAD_TIME,
        unit: Unit::Number,
        name: "Lead_Time_P85",
        source: first_row(label::VALUE_STREAM, "flow_value_stream"),
    },
    Headline {
        key: "throughput",
        words: label::H_THROUGHPUT,
        unit: Unit::Integer,
        name: "Throughput",
        source: first_row(label::VALUE_STREAM, "flow_value_stream"),
    },
    Headline {
        key: "change_failure_rate",
        words: label::H_FAILURE_RATE,
        unit: Unit::Percent,
        name: "Change_Failure_Rate",
        source: first_row(label::DELIVERY, "delivery_performance"),
    },
    Headline {
        key: "time_to_restore",
        words: label::H_RESTORE,
        unit: Unit::Number,
        name: "Time_to_Restore",
        source: first_row(label::RELIABILITY, "reliability_application"),
    },
    Headline {
        key: "incident_cost",
        words: label::H_INCIDENT_COST,
        unit: Unit::Money,
        name: "Incident_Cost",
        source: first_row(label::RELIABILITY, "reliability_application"),
    },
    Headline {
        key: "sla_attainment",
        words: label::H_SLA,
        unit: Unit::Percent,
        name: "SLA_Attainment",
        source: first_row(label::RELIABILITY, "reliability_application"),
    },
    Headline {
        key: "data_quality",
        words: label::H_DATA_QUALITY,
        unit: Unit::Percent,
        name: "Data_Quality",
        source: Source {
            sheet: label::DATA_QUALITY,
            table: "Scores",
            row: None,
        },
    },
];

/// A headline's value and, in words, what it was made of or why it is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub value: Option<f64>,
    pub detail: String,
}

fn empty(reason: String) -> Value {
    Value {
        value: None,
        detail: reason,
    }
}

/// The portfolio row's `column` of `table` among `figures`.
fn portfolio_figure(
    figures: &BTreeMap<&'static str, DataFrame>,
    table: &str,
    column: &str,
) -> PolarsResult<Option<f64>> {
    let Some(frame) = figures.get(table) else {
        return Ok(None);
    };
    let rows = frame
        .clone()
        .lazy()
        .filter(col("level").eq(lit("portfolio")))
        .select([col(column)])
        .collect()?;
    Ok(floats(&rows, column)?.first().copied().flatten())
}

/// The sum of a money column over the investments that have it, and how many do not.
fn investment_sum(frame: &DataFrame, column: &str) -> PolarsResult<(f64, usize, usize)> {
    let values = money(frame, column)?;
    let known: Vec<rust_decimal::Decimal> = values.iter().flatten().copied().collect();
    let total: rust_decimal::Decimal = known.iter().sum();
    Ok((
        rust_decimal::prelude::ToPrimitive::to_f64(&total).unwrap_or(0.0),
        known.len(),
        values.len() - known.len(),
    ))
}

/// Every headline's value from one period's figures and data quality.
///
/// # Errors
///
/// Polars' error when a figure table lacks a declared column (a defect).
pub fn values(
    figures: &BTreeMap<&'static str, DataFrame>,
    quality: Option<f64>,
    lang: Lang,
    currency: &str,
) -> PolarsResult<BTreeMap<&'static str, Value>> {
    let mut out = BTreeMap::new();
    let no_source = |what: &str| empty(label::H_NOT_COMPUTED.fill(lang, &[("figures", what)]));
    let amount = |x: f64| crate::format::group_thousands(x.round() as i64);
    match figures.get(finance::INVESTMENT_FINANCE.name) {
        Some(frame) => {
            let (actual, _, _) = investment_sum(frame, "actual_ytd")?;
            let (budget, _, _) = investment_sum(frame, "budget_ytd")?;
            out.insert(
                "spend_vs_budget_ytd",
                Value {
                    value: (budget != 0.0).then(|| actual / budget - 1.0),
                    detail: label::H_SPEND_DETAIL.fill(
                        lang,
                        &[
                            ("actual", &amount(actual)),
                            ("budget", &amount(budget)),
                            ("currency", currency),
                        ],
                    ),
                },
            );
            for (key, column) in [
                ("portfolio_npv", "npv"),
                ("risk_adjusted_npv_p50", "npv_p50"),
            ] {
                let (total, known, missing) = investment_sum(frame, column)?;
                out.insert(
                    key,
                    Value {
                        value: (known > 0).then_some(total),
                        detail: label::H_SUM_DETAIL.fill(
                            lang,
                            &[
                                ("known", &known.to_string()),
                                ("missing", &missing.to_string()),
                            ],
                        ),
                    },
                );
            }
            let (planned, _, _) = investment_sum(frame, "planned_benefits_to_date")?;
            let (realized, _, _) = investment_sum(frame, "realized_benefits_to_date")?;
            out.insert(
                "benefit_realization",
                Value {
                    value: (planned > 0.0).then(|| realized / planned),
                    detail: label::H_BENEFITS_DETAIL.fill(
                        lang,
                        &[
                            ("realized", &amount(realized)),
                            ("planned", &amount(planned)),
                            ("currency", currency),
                        ],
                    ),
                },
            );
        }
        None => {
            for key in [
                "spend_vs_budget_ytd",
                "portfolio_npv",
                "risk_adjusted_npv_p50",
                "benefit_realization",
            ] {
                out.insert(key, no_source("finance"));
            }
        }
    }
    let from_table = [
        (
            "lead_time_p85",
            flow::FLOW_VALUE_STREAM.name,
            "lead_time_p85",
            "flow",
        ),
        (
            "throughput",
            flow::FLOW_VALUE_STREAM.name,
            "released",
            "flow",
        ),
        (
            "change_failure_rate",
            delivery::DELIVERY_PERFORMANCE.name,
            "change_failure_rate",
            "delivery",
        ),
        (
            "time_to_restore",
            reliability::RELIABILITY_APPLICATION.name,
            "restore_p50_hours",
            "reliability",
        ),
        (
            "incident_cost",
            reliability::RELIABILITY_APPLICATION.name,
            "incident_cost",
            "reliability",
        ),
        (
            "sla_attainment",
            reliability::RELIABILITY_APPLICATION.name,
            "sla_attainment",
            "reliability",
        ),
    ];
    for (key, table, column, family) in from_table {
        let value = if figures.contains_key(table) {
            let value = portfolio_figure(figures, table, column)?;
            Value {
                value,
                detail: match value {
                    Some(_) => {
                        label::H_FROM.fill(lang, &[("column", &format!("{table}.{column}"))])
                    }
                    None => label::H_EMPTY.fill(lang, &[("column", &format!("{table}.{column}"))]),
                },
            }
        } else {
            no_source(family)
        };
        out.insert(key, value);
    }
    out.insert(
        "data_quality",
        Value {
            value: quality,
            detail: label::H_QUALITY_DETAIL.get(lang).to_string(),
        },
    );
    Ok(out)
}

/// Rows that were not rejected, over every source: the data-quality headline.
pub fn quality_share(quality: &[SourceQuality]) -> Option<f64> {
    let rows: u64 = quality.iter().map(|q| q.rows).sum();
    let rejected: u64 = quality.iter().map(|q| q.rows_rejected).sum();
    (rows > 0).then(|| 1.0 - rejected as f64 / rows as f64)
}

/// The conditional formats of a headline's value cell: red, amber and green by its thresholds.
fn value_highlights(t: &Thresholds, better: Better) -> Vec<Highlight> {
    let (Some(g), Some(a)) = (t.green, t.amber) else {
        return Vec::new();
    };
    // The first rule wins where rules overlap, so red comes first.
    match better {
        Better::Lower => vec![
            Highlight::Above(a, Tone::Bad),
            Highlight::Above(g, Tone::Warn),
            Highlight::AtMost(g, Tone::Good),
        ],
        Better::Higher => vec![
            Highlight::Below(a, Tone::Bad),
            Highlight::Below(g, Tone::Warn),
            Highlight::AtLeast(g, Tone::Good),
        ],
        Better::NearZero => vec![
            Highlight::Outside(-a, a, Tone::Bad),
            Highlight::Outside(-g, g, Tone::Warn),
            Highlight::Within(-g, g, Tone::Good),
        ],
    }
}

fn status_word(status: Status, lang: Lang) -> &'static str {
    match status {
        Status::Green => label::GREEN.get(lang),
        Status::Amber => label::AMBER.get(lang),
        Status::Red => label::RED.get(lang),
    }
}

/// The Summary sheet.
///
/// # Errors
///
/// [`WorkbookError::Frame`] when a table cannot be assembled.
pub fn summary(inputs: &PackInputs, sheets: &[SheetSpec]) -> Result<SheetSpec, WorkbookError> {
    let lang = inputs.lang;
    let sheet = label::SUMMARY.get(lang);
    let frame_error = |source| WorkbookError::Frame {
        sheet: sheet.to_string(),
        source,
    };
    let currency = inputs.reporting_currency;
    let now = values(inputs.figures, inputs.quality, lang, currency).map_err(frame_error)?;
    let before =
        values(inputs.previous, inputs.previous_quality, lang, currency).map_err(frame_error)?;
    let table = headline_table(inputs, sheets, &now, &before).map_err(frame_error)?;
    let mut blocks = vec![
        Block::Title(label::SUMMARY_TITLE.fill(
            lang,
            &[
                ("period", &inputs.period.to_string()),
                ("currency", currency),
            ],
        )),
        Block::Table(table),
    ];
    blocks.push(Block::Table(
        decisions_table(inputs, sheets).map_err(frame_error)?,
    ));
    let charts = portfolio_charts(inputs).map_err(frame_error)?;
    let mut data = Vec::new();
    for (chart, table) in charts {
        blocks.push(Block::Chart(chart));
        data.push(Block::Table(table));
    }
    blocks.extend(data);
    let names = SHOWN
        .iter()
        .enumerate()
        .map(|(row, h)| NamedCell {
            name: h.name.to_string(),
            table: "Headlines".to_string(),
            row,
            column: "value".to_string(),
        })
        .collect();
    Ok(SheetSpec {
        name: sheet.to_string(),
        blocks,
        freeze: None,
        names,
    })
}

/// Where `source` lands among `sheets`: `'Sheet'!A<row>`.
fn place(source: &Source, sheets: &[SheetSpec], lang: Lang) -> Option<String> {
    let name = source.sheet.get(lang);
    let sheet = sheets.iter().find(|s| s.name == name)?;
    let (header, _) = *landings(sheet).get(source.table)?;
    let row = header + source.row.map_or(0, |r| r as u32 + 1);
    Some(format!(
        "{}!A{}",
        rust_xlsxwriter::utility::quote_sheet_name(name),
        row + 1
    ))
}

fn headline_table(
    inputs: &PackInputs,
    sheets: &[SheetSpec],
    now: &BTreeMap<&'static str, Value>,
    before: &BTreeMap<&'static str, Value>,
) -> PolarsResult<TableBlock> {
    let lang = inputs.lang;
    let settings = &inputs.report;
    let thresholds = |key: &str| settings.headlines.get(key).copied().unwrap_or_default();
    let better = |key: &str| {
        HEADLINES
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(Better::Higher, |(_, b)| *b)
    };
    let (mut figure, mut value, mut previous, mut target) = (vec![], vec![], vec![], vec![]);
    let (mut status, mut source, mut detail, mut links) = (vec![], vec![], vec![], vec![]);
    let (mut units, mut highlights) = (vec![], vec![]);
    for h in &SHOWN {
        let v = now
            .get(h.key)
            .cloned()
            .unwrap_or_else(|| empty(String::new()));
        let t = thresholds(h.key);
        figure.push(h.words.get(lang).to_string());
        value.push(v.value);
        previous.push(before.get(h.key).and_then(|p| p.value));
        target.push(t.target);
        status.push(
            v.value
                .and_then(|x| t.status(x, better(h.key)))
                .map(|s| status_word(s, lang).to_string())
                .unwrap_or_else(|| label::NO_STATUS.get(lang).to_string()),
        );
        source.push(h.source.sheet.get(lang).to_string());
        links.push(place(&h.source, sheets, lang));
        detail.push(v.detail);
        units.push(h.unit);
        highlights.push(value_highlights(&t, better(h.key)));
    }
    let frame = DataFrame::new_infer_height(vec![
        Column::new("figure".into(), figure),
        Column::new("value".into(), value),
        Column::new("previous".into(), previous),
        Column::new("target".into(), target),
        Column::new("status".into(), status),
        Column::new("source".into(), source),
        Column::new("detail".into(), detail),
    ])?;
    let word = |w: Words| w.get(lang);
    let tones = [
        (label::GREEN, Tone::Good),
        (label::AMBER, Tone::Warn),
        (label::RED, Tone::Bad),
    ]
    .iter()
    .map(|(w, tone)| Highlight::TextIs(w.get(lang).to_string(), *tone))
    .collect();
    let columns = vec![
        ColumnSpec::new("figure", word(label::FIGURE), Unit::Text, 34.0),
        ColumnSpec::new("value", word(label::THIS_MONTH), Unit::Number, 16.0),
        ColumnSpec::new("previous", word(label::PREVIOUS_MONTH), Unit::Number, 16.0),
        ColumnSpec::new("target", word(label::TARGET), Unit::Number, 14.0),
        ColumnSpec::new("status", word(label::STATUS), Unit::Text, 10.0).highlighted(tones),
        ColumnSpec::new("source", word(label::SOURCE), Unit::Text, 14.0),
        ColumnSpec::new("detail", word(label::HOW), Unit::Text, 90.0),
    ];
    let mut table = TableBlock::new("Headlines", frame, columns);
    for column in ["value", "previous", "target"] {
        table.extras.units.push((column.to_string(), units.clone()));
    }
    table.extras.links.push(("source".to_string(), links));
    table
        .extras
        .highlights
        .push(("value".to_string(), highlights));
    Ok(table)
}

/// The investments a decision is asked of: stop first, then fix, then review, the largest
/// budget first; each id links to its row on the Portfolio sheet.
fn decisions_table(inputs: &PackInputs, sheets: &[SheetSpec]) -> PolarsResult<TableBlock> {
    let lang = inputs.lang;
    let table = &finance::INVESTMENT_FINANCE;
    // The reason lines up under the headlines' "how it is made": the two long texts share a
    // column, so the figures' columns stay narrow.
    let names = [
        "investment_id",
        "name",
        "category",
        "status",
        "recommendation",
        "budget_at_completion",
        "recommendation_reason",
        "forward_npv_p50",
        "probability_npv_positive",
        "cpi",
        "spi",
    ];
    let columns: Vec<ColumnSpec> = names
        .iter()
        .filter_map(|c| {
            table
                .column(c)
                .map(|c| ColumnSpec::declared(table, c, lang))
        })
        .map(|c| match c.column.as_str() {
            "recommendation" => c.highlighted(vec![
                Highlight::TextIs("stop".into(), Tone::Bad),
                Highlight::TextIs("fix".into(), Tone::Warn),
                Highlight::TextIs("review".into(), Tone::Warn),
            ]),
            _ => c,
        })
        .collect();
    let heading = label::DECISIONS.get(lang).to_string();
    let Some(frame) = inputs.figures.get(table.name) else {
        let empty = table.empty_frame()?.select(names)?;
        return Ok(TableBlock::new("Decisions", empty, columns).headed(heading));
    };
    let rank = when(col("recommendation").eq(lit("stop")))
        .then(lit(0))
        .when(col("recommendation").eq(lit("fix")))
        .then(lit(1))
        .otherwise(lit(2));
    let chosen = frame
        .clone()
        .lazy()
        .filter(
            col("recommendation")
                .eq(lit("stop"))
                .or(col("recommendation").eq(lit("fix")))
                .or(col("recommendation").eq(lit("review"))),
        )
        .with_column(rank.alias("rank"))
        .sort(
            ["rank", "budget_at_completion", "investment_id"],
            SortMultipleOptions::default()
                .with_order_descending_multi([false, true, false])
                .with_nulls_last(true),
        )
        .select(names.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?;
    // The Portfolio lists the investments in id order, one row each.
    let ids: Vec<Option<String>> = crate::metrics::columns::texts(frame, "investment_id")?;
    let portfolio = PORTFOLIO.sheet.get(lang);
    let header = sheets
        .iter()
        .find(|s| s.name == portfolio)
        .and_then(|s| landings(s).get("Portfolio").copied())
        .map(|(h, _)| h);
    let links = crate::metrics::columns::texts(&chosen, "investment_id")?
        .iter()
        .map(|id| {
            let at = ids.iter().position(|i| i == id)? as u32;
            Some(format!(
                "{}!A{}",
                rust_xlsxwriter::utility::quote_sheet_name(portfolio),
                header? + at + 2
            ))
        })
        .collect();
    let mut block = TableBlock::new("Decisions", chosen, columns).headed(heading);
    block
        .extras
        .links
        .push(("investment_id".to_string(), links));
    Ok(block)
}
