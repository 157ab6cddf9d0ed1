//! Control totals: the costs and benefits the valuation used, per investment, against the raw
//! lines converted into the reporting currency by an independent query. A model that drops or
//! double-counts lines (a join that fans out, a filter too many) shows up here, to the cent,
//! instead of in a committee's NPV.
//!
//! In: the `investment_cash_flows` frame and the [`LoadedMoney`] per investment. Out: the
//! [`ControlTotals`], or the investments whose totals differ.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::Decimal;

use super::columns::{money, texts};
pub use crate::error::ControlMismatch as Mismatch;
use crate::format::group_thousands_decimal;

/// What the raw loads hold for one investment, converted line by line into the reporting
/// currency, selected as the valuation selects them (actual costs and realized benefits up to the
/// period; after it the month's forecast cost lines, else its budget lines, and planned benefits).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedMoney {
    pub investment_id: String,
    /// `None` when a line has no rate into the reporting currency.
    pub costs: Option<Decimal>,
    pub benefits: Option<Decimal>,
}

/// The totals that were compared, for Run Info.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlTotals {
    /// Investments whose totals were compared (and were equal).
    pub compared: usize,
    pub costs: Decimal,
    pub benefits: Decimal,
    /// Investments left out of the comparison because a line lacks an FX rate (their figures
    /// are empty, so they used nothing).
    pub without_rate: Vec<String>,
}

impl ControlTotals {
    /// The Run Info line, e.g. "200 investments: costs 1,234.50 EUR and benefits 2,000.00 EUR
    /// used, equal to the raw lines converted".
    pub fn describe(&self, currency: &str) -> String {
        let mut text = format!(
            "{} investments: costs {} {currency} and benefits {} {currency} used, equal to the raw lines converted, to the cent",
            self.compared,
            group_thousands_decimal(self.costs),
            group_thousands_decimal(self.benefits),
        );
        if !self.without_rate.is_empty() {
            text.push_str(&format!(
                "; not compared (a line lacks an FX rate, so no figures): {}",
                self.without_rate.join(", ")
            ));
        }
        text
    }
}

/// Per investment: (costs, benefits) summed over its flows, `None` when a month of it is empty.
type Used = BTreeMap<String, (Option<Decimal>, Option<Decimal>)>;

fn used_by_investment(cash_flows: &DataFrame) -> PolarsResult<Used> {
    let ids = texts(cash_flows, "investment_id")?;
    let costs = money(cash_flows, "costs")?;
    let benefits = money(cash_flows, "benefits")?;
    let mut used: Used = BTreeMap::new();
    for (i, id) in ids.into_iter().enumerate() {
        let Some(id) = id else { continue };
        let entry = used
            .entry(id)
            .or_insert((Some(Decimal::ZERO), Some(Decimal::ZERO)));
        entry.0 = entry.0.zip(costs[i]).map(|(a, b)| a + b);
        entry.1 = entry.1.zip(benefits[i]).map(|(a, b)| a + b);
    }
    Ok(used)
}

/// Compares what the figures used with what was loaded, per investment.
///
/// An investment the loads hold and the flows do not (or the reverse) counts as a total of zero
/// on the missing side, so a model that loses an investment entirely is caught too.
///
/// # Errors
///
/// The [`Mismatch`]es, every one of them, when any totals differ; a Polars error (as a
/// `PolarsError` in the outer result) when the frame lacks a column.
pub fn compare(
    cash_flows: &DataFrame,
    loaded: &[LoadedMoney],
    currency: &str,
) -> PolarsResult<Result<ControlTotals, Vec<Mismatch>>> {
    let used = used_by_investment(cash_flows)?;
    let loaded: BTreeMap<&str, &LoadedMoney> = loaded
        .iter()
        .map(|l| (l.investment_id.as_str(), l))
        .collect();
    let mut ids: Vec<&str> = used.keys().map(String::as_str).collect();
    ids.extend(loaded.keys().copied());
    ids.sort_unstable();
    ids.dedup();
    let mut totals = ControlTotals::default();
    let mut mismatches = Vec::new();
    let zero = Some(Decimal::ZERO);
    for id in ids {
        let (used_costs, used_benefits) = used.get(id).copied().unwrap_or((zero, zero));
        let (raw_costs, raw_benefits) = loaded
            .get(id)
            .map_or((zero, zero), |l| (l.costs, l.benefits));
        let pairs = [
            ("costs", used_costs, raw_costs),
            ("benefits", used_benefits, raw_benefits),
        ];
        if pairs.iter().any(|(_, u, r)| u.is_none() || r.is_none()) {
            totals.without_rate.push(id.to_string());
            continue;
        }
        for (kind, used, raw) in pairs {
            let (used, raw) = (used.unwrap_or_default(), raw.unwrap_or_default());
            if used != raw {
                mismatches.push(Mismatch {
                    investment_id: id.to_string(),
                    kind,
                    used,
                    loaded: raw,
                    currency: currency.to_string(),
                });
            }
        }
        totals.compared += 1;
        totals.costs += used_costs.unwrap_or_default();
        totals.benefits += used_benefits.unwrap_or_default();
    }
    Ok(if mismatches.is_empty() {
        Ok(totals)
    } else {
        Err(mismatches)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows(rows: &[(&str, Option<i64>, Option<i64>)]) -> DataFrame {
        let money = |name: &str, values: Vec<Option<i64>>| {
            Series::new(
                name.into(),
                values
                    .into_iter()
                    .map(|v| v.map(i128::from))
                    .collect::<Vec<_>>(),
            )
            .into_decimal(18, 2)
            .unwrap()
            .into_column()
        };
        DataFrame::new_infer_height(vec![
            Series::new(
                "investment_id".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )
            .into_column(),
            money("costs", rows.iter().map(|r| r.1).collect()),
            money("benefits", rows.iter().map(|r| r.2).collect()),
        ])
        .unwrap()
    }

    fn loaded(id: &str, costs: Option<i64>, benefits: Option<i64>) -> LoadedMoney {
        LoadedMoney {
            investment_id: id.into(),
            costs: costs.map(|c| Decimal::new(c, 2)),
            benefits: benefits.map(|b| Decimal::new(b, 2)),
        }
    }

    #[test]
    fn equal_totals_pass_and_are_summed_for_run_info() {
        // INV-A: 100.10 + 50.05 of costs and 30.00 of benefits in two months.
        let f = flows(&[
            ("INV-A", Some(10_010), Some(0)),
            ("INV-A", Some(5_005), Some(3_000)),
            ("INV-B", Some(20_000), Some(0)),
        ]);
        let totals = compare(
            &f,
            &[
                loaded("INV-A", Some(15_015), Some(3_000)),
                loaded("INV-B", Some(20_000), Some(0)),
            ],
            "EUR",
        )
        .unwrap()
        .unwrap();
        assert_eq!(totals.compared, 2);
        assert_eq!(totals.costs, Decimal::new(35_015, 2));
        assert_eq!(totals.benefits, Decimal::new(3_000, 2));
        assert_eq!(
            totals.describe("EUR"),
            "2 investments: costs 350.15 EUR and benefits 30.00 EUR used, equal to the raw lines converted, to the cent"
        );
    }

    #[test]
    fn a_cent_of_difference_names_the_investment_and_both_totals() {
        let f = flows(&[("INV-A", Some(15_015), Some(3_000))]);
        let mismatches = compare(&f, &[loaded("INV-A", Some(15_016), Some(3_000))], "EUR")
            .unwrap()
            .unwrap_err();
        assert_eq!(
            mismatches
                .iter()
                .map(Mismatch::to_string)
                .collect::<Vec<_>>(),
            [
                "investment INV-A: costs used 150.15 EUR, raw lines converted 150.16 EUR (difference -0.01 EUR)"
            ]
        );
    }

    #[test]
    fn an_investment_the_flows_lost_is_a_mismatch_against_zero() {
        let f = flows(&[("INV-A", Some(100), Some(0))]);
        let mismatches = compare(
            &f,
            &[
                loaded("INV-A", Some(100), Some(0)),
                loaded("INV-Z", Some(123_456), Some(0)),
            ],
            "EUR",
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(
            mismatches[0].to_string(),
            "investment INV-Z: costs used 0.00 EUR, raw lines converted 1,234.56 EUR (difference -1,234.56 EUR)"
        );
    }

    #[test]
    fn lines_without_a_rate_leave_the_investment_out_of_the_comparison() {
        let f = flows(&[("INV-A", None, Some(0)), ("INV-B", Some(100), Some(0))]);
        let totals = compare(
            &f,
            &[
                loaded("INV-A", None, Some(0)),
                loaded("INV-B", Some(100), Some(0)),
            ],
            "EUR",
        )
        .unwrap()
        .unwrap();
        assert_eq!(totals.compared, 1);
        assert_eq!(totals.without_rate, ["INV-A"]);
    }
}
