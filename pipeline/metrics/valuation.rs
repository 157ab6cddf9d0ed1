//! Valuing an investment from its monthly cash flows: NPV and IRR (Excel's XNPV and XIRR),
//! forward NPV, ROI, simple and discounted payback, and benefit realization.
//!
//! In: the rows of `mart_investment_monthly` and the period. Out: per investment its [`Flow`]s
//! (DESIGN.md: realized benefits and actual costs up to the period, planned benefits and forecast
//! else budget costs after it, each month dated on its last day) and its [`Valuation`]. A figure
//! whose inputs are missing is `None`, with the reason among the notes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::columns::{dates, money, texts};
use super::excel::{self, NoRate};
use crate::labels::explained::{self, finance as notes};
use crate::labels::{Lang, Words};
use crate::schedule::Period;

/// One month of an investment's cash flows.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// The month's first day.
    pub month: NaiveDate,
    /// Costs of the month in the reporting currency; `None` when a line lacks an FX rate.
    pub costs: Option<Decimal>,
    pub benefits: Option<Decimal>,
    /// Where the month's figures come from: `actual` (up to the period), `forecast` or `budget`
    /// (after it), `none` (a month within the investment's span without lines).
    pub basis: &'static str,
}

impl Flow {
    /// Benefits − costs.
    pub fn net(&self) -> Option<Decimal> {
        Some(self.benefits? - self.costs?)
    }

    /// The month's last day, the date its flow is dated on.
    pub fn date(&self) -> NaiveDate {
        Period::containing(self.month).last_day()
    }
}

/// What the monthly mart holds for one investment and month.
struct MonthRow {
    month: NaiveDate,
    actual: Option<Decimal>,
    budget: Option<Decimal>,
    forecast: Option<Decimal>,
    planned: Option<Decimal>,
    realized: Option<Decimal>,
    forecast_lines: i64,
    /// Whether the month has a line the valuation uses: an actual cost or realized benefit up to
    /// the period, a forecast or budget cost or planned benefit after it.
    used: bool,
}

/// Every investment's flows, month by month from its first month with a line the valuation uses
/// to its last (a month in between without one is a flow of zero, basis `none`). Months before
/// the first, with only budget or planned lines up to the period, would move XNPV's first date
/// and the payback count without adding a flow, so they are left out.
///
/// # Errors
///
/// A Polars error when the mart lacks a column.
pub fn cash_flows(
    monthly: &DataFrame,
    period: Period,
) -> PolarsResult<BTreeMap<String, Vec<Flow>>> {
    let ids = texts(monthly, "investment_id")?;
    let months = dates(monthly, "period")?;
    let actual = money(monthly, "actual_cost")?;
    let budget = money(monthly, "budget_cost")?;
    let forecast = money(monthly, "forecast_cost")?;
    let planned = money(monthly, "planned_benefit")?;
    let realized = money(monthly, "realized_benefit")?;
    let count = |name: &str| -> PolarsResult<Vec<i64>> {
        let c = monthly.column(name)?.cast(&DataType::Int64)?;
        Ok(c.i64()?.iter().map(|n| n.unwrap_or(0)).collect())
    };
    let actual_lines = count("actual_lines")?;
    let budget_lines = count("budget_lines")?;
    let forecast_lines = count("forecast_lines")?;
    let planned_lines = count("planned_lines")?;
    let realized_lines = count("realized_lines")?;
    let end = period.first_day();
    let mut rows: BTreeMap<String, BTreeMap<NaiveDate, MonthRow>> = BTreeMap::new();
    for i in 0..monthly.height() {
        let (Some(id), Some(month)) = (&ids[i], months[i]) else {
            continue;
        };
        rows.entry(id.clone()).or_default().insert(
            month,
            MonthRow {
                month,
                actual: actual[i],
                budget: budget[i],
                forecast: forecast[i],
                planned: planned[i],
                realized: realized[i],
                forecast_lines: forecast_lines[i],
                used: if month <= end {
                    actual_lines[i] + realized_lines[i] > 0
                } else {
                    forecast_lines[i] + budget_lines[i] + planned_lines[i] > 0
                },
            },
        );
    }
    Ok(rows
        .into_iter()
        .map(|(id, months)| {
            let mut used = months.values().filter(|m| m.used).map(|m| m.month);
            let Some(first) = used.next() else {
                return (id, Vec::new());
            };
            let last = used.next_back().unwrap_or(first);
            let mut flows = Vec::new();
            let mut month = Period::containing(first);
            while month.first_day() <= last {
                let day = month.first_day();
                flows.push(match months.get(&day).filter(|m| m.used) {
                    None => Flow {
                        month: day,
                        costs: Some(Decimal::ZERO),
                        benefits: Some(Decimal::ZERO),
                        basis: "none",
                    },
                    Some(row) if row.month <= end => Flow {
                        month: day,
                        costs: row.actual,
                        benefits: row.realized,
                        basis: "actual",
                    },
                    Some(row) if row.forecast_lines > 0 => Flow {
                        month: day,
                        costs: row.forecast,
                        benefits: row.planned,
                        basis: "forecast",
                    },
                    Some(row) => Flow {
                        month: day,
                        costs: row.budget,
                        benefits: row.planned,
                        basis: "budget",
                    },
                });
                month = month.next();
            }
            (id, flows)
        })
        .collect())
}

/// The figures that value one investment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Valuation {
    pub npv: Option<f64>,
    pub irr: Option<f64>,
    pub forward_npv: Option<f64>,
    pub roi_lifecycle: Option<f64>,
    pub roi_to_date: Option<f64>,
    pub payback_date: Option<NaiveDate>,
    pub payback_months: Option<f64>,
    pub discounted_payback_date: Option<NaiveDate>,
    pub discounted_payback_months: Option<f64>,
    pub benefit_realization: Option<f64>,
    /// The investment's costs and benefits the figures used, for the control totals.
    pub costs_used: Decimal,
    pub benefits_used: Decimal,
    /// Why figures are empty.
    pub notes: Vec<String>,
}

/// An investment's benefits of the months up to the period; `None` when a line of them lacks an
/// FX rate (a partial total would overstate or understate the realization).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BenefitsToDate {
    pub planned: Option<Decimal>,
    pub realized: Option<Decimal>,
}

/// Values `flows` at `rate` (a yearly rate, as XNPV takes it) as of `period`.
/// The notes are in `lang`.
pub fn value(
    flows: &[Flow],
    rate: f64,
    period: Period,
    to_date: BenefitsToDate,
    lang: Lang,
) -> Valuation {
    let mut v = Valuation::default();
    let text = |words: Words| words.get(lang).to_string();
    let at = |words: Words| explained::for_period(words, lang, &period.to_string());
    let end = period.first_day();
    v.benefit_realization = match (to_date.planned, to_date.realized) {
        (Some(planned), Some(realized)) if planned > Decimal::ZERO => (realized / planned).to_f64(),
        (Some(_), Some(_)) => {
            v.notes.push(at(notes::NO_PLANNED_BENEFITS));
            None
        }
        _ => {
            v.notes.push(at(notes::BENEFIT_FX_MISSING));
            None
        }
    };
    let nets: Option<Vec<Decimal>> = flows.iter().map(Flow::net).collect();
    let Some(nets) = nets.filter(|n| !n.is_empty()) else {
        if flows.is_empty() {
            v.notes.push(text(notes::NO_LINES));
        } else {
            v.notes.push(text(notes::FLOWS_FX_MISSING));
        }
        return v;
    };
    if flows.iter().all(|f| f.costs.is_some_and(|c| c.is_zero())) {
        // Benefits for nothing: the case's costs are not loaded (yet), not free.
        v.benefits_used = flows.iter().filter_map(|f| f.benefits).sum();
        v.notes.push(text(notes::NO_COSTS));
        return v;
    }
    v.costs_used = flows.iter().filter_map(|f| f.costs).sum();
    v.benefits_used = flows.iter().filter_map(|f| f.benefits).sum();
    let values: Vec<f64> = nets.iter().map(|n| n.to_f64().unwrap_or(0.0)).collect();
    let dates: Vec<NaiveDate> = flows.iter().map(Flow::date).collect();
    v.npv = excel::xnpv(rate, &values, &dates);
    match excel::xirr(&values, &dates) {
        Ok(r) => v.irr = Some(r),
        Err(e) => v.notes.push(text(match e {
            NoRate::NoFlows => notes::IRR_NO_FLOWS,
            NoRate::NoSignChange => notes::IRR_NO_SIGN_CHANGE,
            NoRate::NotFound => notes::IRR_NOT_FOUND,
        })),
    }
    let valuation_date = period.last_day();
    let later: Vec<usize> = (0..flows.len()).filter(|i| flows[*i].month > end).collect();
    v.forward_npv = if later.is_empty() {
        v.notes.push(at(notes::NO_FORWARD_FLOWS));
        None
    } else {
        let future: Vec<f64> = later.iter().map(|i| values[*i]).collect();
        let mut future_dates: Vec<NaiveDate> = later.iter().map(|i| dates[*i]).collect();
        // XNPV discounts to its first date: a flow of zero on the period's last day sets it.
        let mut at = vec![0.0];
        at.extend(future);
        future_dates.insert(0, valuation_date);
        excel::xnpv(rate, &at, &future_dates)
    };
    v.roi_lifecycle = roi(flows.iter());
    v.roi_to_date = roi(flows.iter().filter(|f| f.month <= end));
    if v.benefits_used.is_zero() {
        v.notes.push(text(notes::NO_BENEFITS));
        v.roi_lifecycle = None;
        v.roi_to_date = None;
    } else if v.roi_to_date.is_none() {
        v.notes.push(at(notes::NOTHING_SPENT));
    }
    let simple: Vec<f64> = values.clone();
    let discounted: Vec<f64> = values
        .iter()
        .zip(&dates)
        .map(|(value, date)| {
            value / (1.0 + rate).powf((*date - dates[0]).num_days() as f64 / 365.0)
        })
        .collect();
    match payback(flows, &simple) {
        Some((date, months)) => {
            v.payback_date = Some(date);
            v.payback_months = Some(months);
        }
        None => {
            let mut cumulative = 0.0;
            let ever_below = simple.iter().any(|x| {
                cumulative += x;
                cumulative < 0.0
            });
            v.notes.push(text(if ever_below {
                notes::NEVER_POSITIVE
            } else {
                notes::NEVER_BELOW
            }));
        }
    }
    if let Some((date, months)) = payback(flows, &discounted) {
        v.discounted_payback_date = Some(date);
        v.discounted_payback_months = Some(months);
    } else if v.payback_date.is_some() {
        v.notes.push(text(notes::NO_DISCOUNTED_PAYBACK));
    }
    v
}

/// (Σ benefits − Σ costs) / Σ costs over `flows`; `None` without costs.
fn roi<'a>(flows: impl Iterator<Item = &'a Flow>) -> Option<f64> {
    let (mut costs, mut benefits) = (Decimal::ZERO, Decimal::ZERO);
    for f in flows {
        costs += f.costs?;
        benefits += f.benefits?;
    }
    if costs.is_zero() {
        return None;
    }
    ((benefits - costs) / costs).to_f64()
}

/// The first month in which the cumulative net flow turns ≥ 0 after being negative, interpolated
/// within it as if the month's flow came in evenly: the date, and the months since the first
/// month's start.
fn payback(flows: &[Flow], values: &[f64]) -> Option<(NaiveDate, f64)> {
    let mut cumulative = 0.0;
    let mut below = false;
    for (i, (flow, value)) in flows.iter().zip(values).enumerate() {
        let before = cumulative;
        cumulative += value;
        if cumulative < 0.0 {
            below = true;
            continue;
        }
        if below && *value > 0.0 {
            let share = (-before / value).clamp(0.0, 1.0);
            let days = Period::containing(flow.month).last_day().day();
            // A crossing at the very end of the month stays on its last day.
            let into = ((share * f64::from(days)).floor() as i64).min(i64::from(days) - 1);
            let date = flow.month + chrono::Duration::days(into);
            return Some((date, i as f64 + share));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn money(cents: i64) -> Option<Decimal> {
        Some(Decimal::new(cents, 2))
    }

    fn flow(month: NaiveDate, costs: i64, benefits: i64, basis: &'static str) -> Flow {
        Flow {
            month,
            costs: money(costs),
            benefits: money(benefits),
            basis,
        }
    }

    #[test]
    fn an_investment_is_valued_from_its_flows_as_excel_values_them() {
        // 10,000 spent in January and February 2026, 6,000 back each month from March to June.
        let flows = vec![
            flow(d(2026, 1, 1), 1_000_000, 0, "actual"),
            flow(d(2026, 2, 1), 1_000_000, 0, "actual"),
            flow(d(2026, 3, 1), 0, 600_000, "actual"),
            flow(d(2026, 4, 1), 0, 600_000, "budget"),
            flow(d(2026, 5, 1), 0, 600_000, "budget"),
            flow(d(2026, 6, 1), 0, 600_000, "budget"),
        ];
        let period: Period = "2026-03".parse().unwrap();
        let to_date = BenefitsToDate {
            planned: Some(Decimal::new(600_000, 2)),
            realized: Some(Decimal::new(600_000, 2)),
        };
        let v = value(&flows, 0.1, period, to_date, Lang::En);
        // Worked out term by term: flows dated 2026-01-31, 02-28, 03-31, 04-30, 05-31, 06-30.
        let days = [0.0, 28.0, 59.0, 89.0, 120.0, 150.0];
        let values = [-10_000.0, -10_000.0, 6_000.0, 6_000.0, 6_000.0, 6_000.0];
        let npv: f64 = values
            .iter()
            .zip(days)
            .map(|(v, t)| v / 1.1_f64.powf(t / 365.0))
            .sum();
        assert_eq!(v.npv, Some(npv));
        // Forward: April to June discounted to 2026-03-31 (30, 61, 91 days later).
        let forward = [30.0, 61.0, 91.0]
            .iter()
            .map(|t| 6_000.0 / 1.1_f64.powf(t / 365.0))
            .sum::<f64>();
        assert!((v.forward_npv.unwrap() - forward).abs() < 1e-9);
        assert_eq!(v.roi_lifecycle, Some(0.2));
        // To date: 6,000 back on 20,000 spent.
        assert_eq!(v.roi_to_date, Some(-0.7));
        // Cumulative: −10,000, −20,000, −14,000, −8,000, −2,000, +4,000: June, a third in.
        assert_eq!(v.payback_months, Some(5.0 + 2_000.0 / 6_000.0));
        assert_eq!(v.payback_date, Some(d(2026, 6, 11)));
        // Discounted at 10% from 2026-01-31 the cumulative flow is still −2,341.81 after May;
        // June brings 6,000 / 1.1^(150/365) = 5,769.53, so it turns positive 0.4059 into June:
        // day 1 + floor(0.4059 × 30) = the 13th.
        let discounted: Vec<f64> = values
            .iter()
            .zip(days)
            .map(|(v, t)| v / 1.1_f64.powf(t / 365.0))
            .collect();
        let before_june: f64 = discounted[..5].iter().sum();
        assert_eq!(
            v.discounted_payback_months,
            Some(5.0 + -before_june / discounted[5])
        );
        assert_eq!(v.discounted_payback_date, Some(d(2026, 6, 13)));
        assert_eq!(v.benefit_realization, Some(1.0));
        // The IRR, found here by bisection of the same sum: 110.296...% a year.
        let at = |r: f64| -> f64 {
            values
                .iter()
                .zip(days)
                .map(|(v, t)| v / (1.0 + r).powf(t / 365.0))
                .sum()
        };
        let (mut lo, mut hi) = (0.0, 100.0);
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if at(mid) > 0.0 { lo = mid } else { hi = mid }
        }
        assert!((v.irr.unwrap() - lo).abs() < 1e-10, "{:?} vs {lo}", v.irr);
        assert!((lo - 1.102_964_710_321_465).abs() < 1e-12);
        assert_eq!(v.costs_used, Decimal::new(2_000_000, 2));
        assert!(v.notes.is_empty(), "{:?}", v.notes);
    }

    #[test]
    fn missing_inputs_give_empty_figures_with_the_reason() {
        let period: Period = "2026-03".parse().unwrap();
        let costs_only = vec![
            flow(d(2026, 1, 1), 1_000_000, 0, "actual"),
            flow(d(2026, 2, 1), 500_000, 0, "actual"),
        ];
        let none = BenefitsToDate {
            planned: Some(Decimal::ZERO),
            realized: Some(Decimal::ZERO),
        };
        let v = value(&costs_only, 0.1, period, none, Lang::En);
        assert_eq!(
            v.npv,
            Some(-10_000.0 - 5_000.0 / 1.1_f64.powf(28.0 / 365.0))
        );
        assert_eq!(
            (v.irr, v.roi_lifecycle, v.forward_npv, v.payback_date),
            (None, None, None, None)
        );
        assert_eq!(
            v.notes,
            [
                "no planned benefits by 2026-03, so no benefit realization",
                "the cash flows never change sign, so no IRR",
                "no cash flows after 2026-03, so no forward NPV",
                "no benefits, so no ROI",
                "the cumulative net cash flow never turns positive, so no payback"
            ]
        );
        let no_rate = vec![Flow {
            month: d(2026, 1, 1),
            costs: None,
            benefits: money(0),
            basis: "actual",
        }];
        let v = value(&no_rate, 0.1, period, none, Lang::En);
        assert_eq!(v.npv, None);
        assert_eq!(
            v.notes[1],
            "a cost or benefit line lacks an FX rate, so no NPV, IRR, ROI or payback"
        );
    }

    #[test]
    fn benefits_without_any_cost_lines_are_not_valued_as_free() {
        let period: Period = "2026-03".parse().unwrap();
        let benefits_only = vec![
            flow(d(2026, 4, 1), 0, 500_000, "budget"),
            flow(d(2026, 5, 1), 0, 500_000, "budget"),
        ];
        let v = value(
            &benefits_only,
            0.1,
            period,
            BenefitsToDate::default(),
            Lang::En,
        );
        assert_eq!(
            (v.npv, v.irr, v.roi_lifecycle, v.payback_date),
            (None, None, None, None)
        );
        assert_eq!(
            v.notes,
            [
                "a benefit line up to 2026-03 lacks an FX rate, so no benefit realization",
                "no costs in its cash flows (no actual, forecast or budget lines), so no NPV, IRR, ROI or payback"
            ]
        );
    }

    #[test]
    fn a_payback_at_the_very_end_of_a_month_is_dated_on_its_last_day() {
        // −1,000 in January, +1,000 in February: the cumulative flow reaches 0 exactly at the
        // end of February, which stays February.
        let flows = vec![
            flow(d(2026, 1, 1), 100_000, 0, "actual"),
            flow(d(2026, 2, 1), 0, 100_000, "actual"),
        ];
        let to_date = BenefitsToDate {
            planned: money(100_000),
            realized: money(100_000),
        };
        let v = value(&flows, 0.1, "2026-02".parse().unwrap(), to_date, Lang::En);
        assert_eq!(v.payback_months, Some(2.0));
        assert_eq!(v.payback_date, Some(d(2026, 2, 28)));
        assert_eq!(v.roi_to_date, Some(0.0));
    }
}
