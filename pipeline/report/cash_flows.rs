//! The Cash Flows sheet and the live formulas that read it: one row per investment and one
//! column per month-end date, net cash flows first, then costs and benefits; on the Portfolio
//! sheet, NPV and IRR become `XNPV`/`XIRR` over the investment's row, with itvalue's figure as
//! the cached result, so that Excel or LibreOffice recalculating the workbook shows the same
//! figure and a reader can click through to the flows.
//!
//! In: the `investment_finance` and `investment_cash_flows` frames. Out: the sheet's
//! [`SheetSpec`] and the Portfolio's formula columns.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::{DataFrame, PolarsResult};
use rust_xlsxwriter::utility::{cell_range_absolute, column_number_to_name, quote_sheet_name};

use super::spec::{Block, GridBlock, SheetSpec};
use crate::error::WorkbookError;
use crate::labels::{self as label, Lang};
use crate::metrics::catalogue::Unit;
use crate::metrics::columns::{dates, floats, texts};
use crate::schedule::Period;

/// The Cash Flows sheet, and per investment the columns its flows span.
pub struct CashFlowSheet {
    pub sheet: SheetSpec,
    /// The formulas of the Portfolio's `npv` and `irr` columns, one per Portfolio row.
    pub formulas: Vec<(String, Vec<Option<String>>)>,
}

/// One month of an investment's flows.
#[derive(Debug, Clone, Copy)]
struct Month {
    net: Option<f64>,
    costs: Option<f64>,
    benefits: Option<f64>,
}

/// One investment's flows by month-end date.
type Flows = BTreeMap<NaiveDate, Month>;

fn flows_by_investment(cash_flows: &DataFrame) -> PolarsResult<BTreeMap<String, Flows>> {
    let ids = texts(cash_flows, "investment_id")?;
    let on = dates(cash_flows, "flow_date")?;
    let net = floats(cash_flows, "net_flow")?;
    let costs = floats(cash_flows, "costs")?;
    let benefits = floats(cash_flows, "benefits")?;
    let mut by: BTreeMap<String, Flows> = BTreeMap::new();
    for i in 0..cash_flows.height() {
        if let (Some(id), Some(date)) = (&ids[i], on[i]) {
            by.entry(id.clone()).or_default().insert(
                date,
                Month {
                    net: net[i],
                    costs: costs[i],
                    benefits: benefits[i],
                },
            );
        }
    }
    Ok(by)
}

/// The Cash Flows sheet for the Portfolio's investments (in its order), and the Portfolio's
/// NPV and IRR formulas over it; `rate_column` is the Portfolio's 0-based discount-rate column.
///
/// # Errors
///
/// [`WorkbookError::Frame`] when a frame lacks a column the sheet shows.
pub fn cash_flow_sheet(
    portfolio: &DataFrame,
    cash_flows: &DataFrame,
    rate_column: u16,
    period: Period,
    currency: &str,
    lang: Lang,
) -> Result<CashFlowSheet, WorkbookError> {
    let sheet_name = label::CASH_FLOWS.get(lang);
    let in_sheet = |source| WorkbookError::Frame {
        sheet: sheet_name.to_string(),
        source,
    };
    let by = flows_by_investment(cash_flows).map_err(in_sheet)?;
    let ids = texts(portfolio, "investment_id").map_err(in_sheet)?;
    let names = texts(portfolio, "name").map_err(in_sheet)?;
    let npv = floats(portfolio, "npv").map_err(in_sheet)?;
    let irr = floats(portfolio, "irr").map_err(in_sheet)?;
    let mut all_dates: Vec<NaiveDate> = by.values().flat_map(|f| f.keys().copied()).collect();
    all_dates.sort_unstable();
    all_dates.dedup();
    let column_of: BTreeMap<NaiveDate, usize> =
        all_dates.iter().enumerate().map(|(c, d)| (*d, c)).collect();
    let empty = Flows::new();
    let grid = |heading: label::Words, pick: fn(&Month) -> Option<f64>| {
        let values = ids
            .iter()
            .map(|id| {
                let flows = id.as_ref().and_then(|id| by.get(id)).unwrap_or(&empty);
                let mut row = vec![None; all_dates.len()];
                for (date, flow) in flows {
                    row[column_of[date]] = pick(flow);
                }
                row
            })
            .collect();
        GridBlock {
            heading: Some(heading.get(lang).to_string()),
            tags: Some(
                all_dates
                    .iter()
                    .map(|d| {
                        let words = if *d <= period.last_day() {
                            label::ACTUAL_MONTH
                        } else {
                            label::PLAN_MONTH
                        };
                        words.get(lang).to_string()
                    })
                    .collect(),
            ),
            labels: vec![
                (
                    label::INVESTMENT.get(lang).to_string(),
                    12.0,
                    ids.iter().map(|i| i.clone().unwrap_or_default()).collect(),
                ),
                (
                    label::NAME.get(lang).to_string(),
                    28.0,
                    names
                        .iter()
                        .map(|n| n.clone().unwrap_or_default())
                        .collect(),
                ),
            ],
            dates: all_dates.clone(),
            values,
            unit: Unit::Money,
            width: 13.0,
        }
    };
    let values = [
        ("period", period.to_string()),
        ("currency", currency.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sheet = SheetSpec {
        name: sheet_name.to_string(),
        blocks: vec![
            Block::Title(label::CASH_FLOWS_TITLE.fill(lang, &pairs)),
            Block::Heading(label::CASH_FLOWS_NOTE.fill(lang, &pairs)),
            Block::Grid(grid(label::NET_CASH_FLOW, |f| f.net)),
            Block::Grid(grid(label::COSTS, |f| f.costs)),
            Block::Grid(grid(label::BENEFITS, |f| f.benefits)),
        ],
        freeze: None,
        names: Vec::new(),
    };
    let formulas = portfolio_formulas(&sheet, &ids, &by, &column_of, (&npv, &irr), rate_column);
    Ok(CashFlowSheet { sheet, formulas })
}

/// XIRR's guess: itvalue's rate to six decimals. Flows that change sign more than once have
/// several rates, and where Newton from Excel's default guess of 0.1 fails (itvalue then finds
/// the rate by bracketing) a spreadsheet would show an error; started beside itvalue's rate,
/// Excel's and LibreOffice's Newton iterate to the same one.
fn guess(rate: f64) -> String {
    let rounded = (rate * 1e6).round() / 1e6;
    if rounded > -1.0 + 1e-6 {
        format!("{rounded}")
    } else {
        format!("{rate}")
    }
}

/// `XNPV(rate, values, dates)` and `XIRR(values, dates, guess)` per Portfolio row, over the net grid,
/// where itvalue has the figure (an empty figure stays an empty cell, its reason in the notes).
fn portfolio_formulas(
    sheet: &SheetSpec,
    ids: &[Option<String>],
    by: &BTreeMap<String, Flows>,
    column_of: &BTreeMap<NaiveDate, usize>,
    (npv, irr): (&[Option<f64>], &[Option<f64>]),
    rate_column: u16,
) -> Vec<(String, Vec<Option<String>>)> {
    let (Some(place), Some(Block::Grid(net))) = (sheet.grid_place(2), sheet.blocks.get(2)) else {
        return Vec::new();
    };
    let quoted = quote_sheet_name(&sheet.name);
    let first_column = net.first_date_column();
    let rate = column_number_to_name(rate_column);
    let mut npv_formulas = Vec::with_capacity(ids.len());
    let mut irr_formulas = Vec::with_capacity(ids.len());
    for (r, id) in ids.iter().enumerate() {
        let span = id.as_ref().and_then(|id| by.get(id)).and_then(|flows| {
            let first = column_of[flows.keys().next()?];
            let last = column_of[flows.keys().next_back()?];
            Some((first_column + first as u16, first_column + last as u16))
        });
        let Some((c0, c1)) = span else {
            npv_formulas.push(None);
            irr_formulas.push(None);
            continue;
        };
        let row = place.first_row + r as u32;
        let values = format!("{quoted}!{}", cell_range_absolute(row, c0, row, c1));
        let on = format!(
            "{quoted}!{}",
            cell_range_absolute(place.date_row, c0, place.date_row, c1)
        );
        npv_formulas.push(
            npv.get(r)
                .copied()
                .flatten()
                .map(|_| format!("=XNPV(${rate}{{row}},{values},{on})")),
        );
        irr_formulas.push(
            irr.get(r)
                .copied()
                .flatten()
                .map(|rate| format!("=XIRR({values},{on},{})", guess(rate))),
        );
    }
    vec![
        ("npv".to_string(), npv_formulas),
        ("irr".to_string(), irr_formulas),
    ]
}
