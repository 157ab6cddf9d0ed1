//! The candidates of a scenario: every investment that is not completed or cancelled, with its
//! cost in the scenario's window and the figure the scenario maximises.
//!
//! In: `metrics.investment_finance` and `metrics.investment_cash_flows` of the same run, the
//! period, the window and the objective. Out: per investment (in id order) a [`Candidate`] whose
//! [`Standing`] says whether it is a decision of the scenario, and why not when it is not.
//!
//! A candidate's cost in the window is the sum of its cash-flow costs of the window's months
//! after the period: forecast, else budget, as the valuation uses them. For an investment under
//! way that is its forward cost, what stopping it frees (its sunk cost is spent either way); for a
//! proposed one, all of it. Its value is its forward NPV (at P50, or the mean of the draws): what
//! continuing or starting it is worth from the period on, discounted to the period's end, so
//! proposed and active investments weigh on the same footing.

use std::collections::BTreeMap;

use polars::prelude::{DataFrame, PolarsResult};
use rust_decimal::Decimal;

use crate::config::scenario::Objective;
use crate::labels::Lang;
use crate::labels::scenarios::reasons as say;
use crate::metrics::columns::{dates, floats, money, texts};
use crate::metrics::decisions::Stage;
use crate::schedule::Period;

/// What the finance family says of one investment, read once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct Investment {
    pub id: String,
    pub name: String,
    pub category: String,
    pub stage: Stage,
    /// Its category is one of `metrics.decisions.run_categories`.
    pub runs_the_business: bool,
    /// Costs per month after the period; `None` where a line lacks an FX rate.
    pub costs: BTreeMap<Period, Option<Decimal>>,
    pub npv_p50: Option<Decimal>,
    pub expected_npv: Option<Decimal>,
    pub probability_positive: Option<f64>,
    /// Every figure a weighted objective may weigh, by column name.
    pub figures: BTreeMap<&'static str, Option<f64>>,
}

/// Whether a candidate is a decision of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// A decision: funded (continued) or not.
    Decided,
    /// No cost in the window: nothing to fund in it.
    Outside,
    /// Its cost in the window or its value is unknown; the reason says why.
    LeftOut(String),
}

/// An investment as one scenario sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub investment: Investment,
    /// Its cost in the window; `None` when a month's cost is unknown.
    pub cost: Option<Decimal>,
    /// Its cost per month of the window after the period.
    pub months: BTreeMap<Period, Decimal>,
    /// What funding it adds to the objective; `None` when the figure is empty.
    pub value: Option<f64>,
    pub standing: Standing,
}

impl Candidate {
    /// The investment's id.
    pub fn id(&self) -> &str {
        &self.investment.id
    }

    /// Proposed (nothing spent yet), rather than under way.
    pub fn proposed(&self) -> bool {
        self.investment.stage == Stage::NotStarted
    }

    /// Its cost in the months from `first` to `last`.
    pub fn cost_between(&self, first: Period, last: Period) -> Decimal {
        self.months.range(first..=last).map(|(_, c)| *c).sum()
    }
}

/// Every investment of `investment_finance`, with its costs after the period from
/// `investment_cash_flows`, in id order.
///
/// # Errors
///
/// A Polars error when a table lacks a declared column.
pub fn investments(
    finance: &DataFrame,
    cash_flows: &DataFrame,
    period: Period,
    run_categories: &[String],
) -> PolarsResult<Vec<Investment>> {
    let mut costs: BTreeMap<String, BTreeMap<Period, Option<Decimal>>> = BTreeMap::new();
    {
        let ids = texts(cash_flows, "investment_id")?;
        let months = dates(cash_flows, "month")?;
        let amounts = money(cash_flows, "costs")?;
        for i in 0..cash_flows.height() {
            let (Some(id), Some(month)) = (&ids[i], months[i]) else {
                continue;
            };
            let month = Period::containing(month);
            if month > period {
                costs
                    .entry(id.clone())
                    .or_default()
                    .insert(month, amounts[i]);
            }
        }
    }
    let ids = texts(finance, "investment_id")?;
    let names = texts(finance, "name")?;
    let categories = texts(finance, "category")?;
    let statuses = texts(finance, "status")?;
    let spent = money(finance, "actual_to_date")?;
    let npv_p50 = money(finance, "forward_npv_p50")?;
    let expected = money(finance, "forward_npv_mean")?;
    let probability = floats(finance, "probability_npv_positive")?;
    let mut weighable: Vec<(&'static str, Vec<Option<f64>>)> = Vec::new();
    for figure in crate::config::scenario::WEIGHABLE {
        weighable.push((figure, floats(finance, figure)?));
    }
    let mut out = Vec::with_capacity(finance.height());
    for i in 0..finance.height() {
        let Some(id) = ids[i].clone() else { continue };
        let category = categories[i].clone().unwrap_or_default();
        let stage = Stage::of(
            statuses[i].as_deref(),
            spent[i].is_some_and(|s| s > Decimal::ZERO),
        );
        out.push(Investment {
            costs: costs.remove(&id).unwrap_or_default(),
            id,
            name: names[i].clone().unwrap_or_default(),
            runs_the_business: run_categories.contains(&category),
            category,
            stage,
            npv_p50: npv_p50[i],
            expected_npv: expected[i],
            probability_positive: probability[i],
            figures: weighable.iter().map(|(f, v)| (*f, v[i])).collect(),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// What an empty figure means for a candidate, for its reason.
fn missing(objective: &Objective, investment: &Investment, lang: Lang) -> Option<String> {
    match objective {
        Objective::NpvP50 => investment
            .npv_p50
            .is_none()
            .then(|| say::NO_NPV_P50.get(lang).to_string()),
        Objective::ExpectedNpv => investment
            .expected_npv
            .is_none()
            .then(|| say::NO_EXPECTED_NPV.get(lang).to_string()),
        Objective::Weighted(weights) => {
            let empty: Vec<&str> = weights
                .keys()
                .filter(|f| {
                    investment
                        .figures
                        .get(f.as_str())
                        .is_none_or(Option::is_none)
                })
                .map(String::as_str)
                .collect();
            (!empty.is_empty()).then(|| {
                say::NO_SCORE_FIGURES.fill(lang, &[("figures", &empty.join(say::OR.get(lang)))])
            })
        }
    }
}

/// What `investment` adds to the objective when funded.
fn value(objective: &Objective, investment: &Investment) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    match objective {
        Objective::NpvP50 => investment.npv_p50.and_then(|v| v.to_f64()),
        Objective::ExpectedNpv => investment.expected_npv.and_then(|v| v.to_f64()),
        Objective::Weighted(weights) => weights.iter().try_fold(0.0, |sum, (figure, weight)| {
            let figure = investment.figures.get(figure.as_str()).copied().flatten()?;
            Some(sum + weight * figure)
        }),
    }
}

/// The candidates of a scenario whose window's months after the period are `months` (first and
/// last), maximising `objective`: every investment that is not closed.
pub fn candidates(
    investments: &[Investment],
    months: (Period, Period),
    objective: &Objective,
    lang: Lang,
) -> Vec<Candidate> {
    investments
        .iter()
        .filter(|i| i.stage != Stage::Closed)
        .map(|investment| {
            let in_window: Vec<(Period, Option<Decimal>)> = investment
                .costs
                .range(months.0..=months.1)
                .map(|(m, c)| (*m, *c))
                .collect();
            let known = in_window.iter().all(|(_, c)| c.is_some());
            let months: BTreeMap<Period, Decimal> = in_window
                .iter()
                .filter_map(|(m, c)| c.map(|c| (*m, c)))
                .collect();
            let cost = known.then(|| months.values().copied().sum::<Decimal>());
            let value = value(objective, investment);
            let standing = match (cost, missing(objective, investment, lang)) {
                (None, _) => Standing::LeftOut(say::NO_FX.get(lang).to_string()),
                (Some(c), _) if c.is_zero() => Standing::Outside,
                (Some(_), Some(why)) => Standing::LeftOut(why),
                (Some(_), None) => Standing::Decided,
            };
            Candidate {
                investment: investment.clone(),
                cost,
                months,
                value,
                standing,
            }
        })
        .collect()
}
