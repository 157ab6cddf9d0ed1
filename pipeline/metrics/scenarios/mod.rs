//! Portfolio scenarios: which candidates to fund within a budget envelope, solved exactly as a
//! 0/1 integer program, with the efficient frontier over budget levels and the reason each
//! candidate is in or out.
//!
//! In: the `[[scenario]]` entries of the configuration (in `settings.metrics.scenarios`) and the
//! finance family's `investment_finance` and `investment_cash_flows` of the same run. Out: per
//! period `metrics.scenario_summary` (one row per scenario), `scenario_candidates` (each
//! candidate's decision, cost in the window, values and reason), `scenario_envelope` (each
//! budget and category cap against what the selection spends, with the budgets' shadow prices)
//! and `scenario_frontier` (the best objective at each budget level and who enters or leaves);
//! and a fault per scenario without a selection (an infeasible one), which the job turns into a
//! published run with the bad-data exit code.
//!
//! The parts: [`candidates`] (who is decided, at what cost and value), [`program`] (the 0/1
//! program, its checks and its shadow prices), `evaluate` (one scenario from start to end) and
//! [`reasons`] (why, in words). The solver is [`crate::metrics::solver`].

pub mod candidates;
mod evaluate;
pub mod program;
pub mod reasons;
#[cfg(test)]
mod tests;

use polars::prelude::*;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::catalogue::{
    Column as Declared, Family, Table, Unit, figure, identifying_figure, key, label,
};
use super::{Computed, Fault, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::schedule::Period;

pub use evaluate::{
    EnvelopeRow, Evaluated, FrontierRow, Status, evaluate, objective_words, window,
};

/// The scenarios family: read after the finance family, from its tables.
pub static FAMILY: Family = Family {
    name: "scenarios",
    models: &[],
    entities: &[Entity::Investments, Entity::Costs],
    after: &["finance"],
    tables: &[
        SCENARIO_SUMMARY,
        SCENARIO_CANDIDATES,
        SCENARIO_ENVELOPE,
        SCENARIO_FRONTIER,
    ],
    compute: compute_family,
};

const PERIOD: Declared = key("period", Unit::Month, 10.0);
const SCENARIO: Declared = key("scenario", Unit::Text, 18.0);

const fn defined(name: &'static str, unit: Unit, width: f64) -> Declared {
    figure(name, unit, width)
}

/// `metrics.scenario_summary`: one row per configured scenario.
pub const SCENARIO_SUMMARY: Table = Table {
    name: "scenario_summary",
    columns: &[
        PERIOD,
        SCENARIO,
        defined("status", Unit::Text, 16.0),
        defined("objective", Unit::Text, 22.0).in_run_language(),
        defined("window_from", Unit::Month, 10.0),
        defined("window_to", Unit::Month, 10.0),
        defined("envelope", Unit::Money, 15.0),
        defined("funded_cost", Unit::Money, 15.0),
        defined("objective_value", Unit::Number, 16.0),
        defined("candidates", Unit::Integer, 11.0),
        defined("funded", Unit::Integer, 9.0),
        defined("continued", Unit::Integer, 10.0),
        defined("not_funded", Unit::Integer, 10.0),
        defined("stopped", Unit::Integer, 9.0),
        label("notes", Unit::Text, 60.0).in_run_language(),
    ],
};

/// `metrics.scenario_candidates`: every investment a scenario looks at.
pub const SCENARIO_CANDIDATES: Table = Table {
    name: "scenario_candidates",
    columns: &[
        PERIOD,
        SCENARIO,
        key("investment_id", Unit::Text, 12.0),
        label("name", Unit::Text, 30.0),
        label("category", Unit::Text, 11.0),
        defined("stage", Unit::Text, 10.0),
        defined("decision", Unit::Text, 13.0),
        defined("cost_in_window", Unit::Money, 15.0),
        defined("npv_p50", Unit::Money, 15.0),
        defined("expected_npv", Unit::Money, 15.0),
        defined("probability_npv_positive", Unit::Percent, 10.0),
        defined("value", Unit::Number, 15.0),
        defined("value_per_cost", Unit::Ratio, 12.0),
        defined("marginal", Unit::Ratio, 10.0),
        defined("reason", Unit::Text, 70.0).in_run_language(),
    ],
};

/// `metrics.scenario_envelope`: each budget and category cap against the selection.
pub const SCENARIO_ENVELOPE: Table = Table {
    name: "scenario_envelope",
    columns: &[
        PERIOD,
        SCENARIO,
        key("constraint", Unit::Text, 26.0),
        key("first_month", Unit::Month, 10.0),
        key("last_month", Unit::Month, 10.0),
        defined("limit", Unit::Money, 15.0),
        defined("funded", Unit::Money, 15.0),
        defined("remaining", Unit::Money, 15.0),
        defined("used", Unit::Percent, 9.0),
        defined("shadow_price", Unit::Ratio, 11.0),
    ],
};

/// `metrics.scenario_frontier`: the best objective at each budget level.
pub const SCENARIO_FRONTIER: Table = Table {
    name: "scenario_frontier",
    columns: &[
        PERIOD,
        SCENARIO,
        identifying_figure("level", Unit::Percent, 9.0),
        defined("envelope", Unit::Money, 15.0),
        defined("objective_value", Unit::Number, 16.0),
        defined("funded_cost", Unit::Money, 15.0),
        defined("funded", Unit::Integer, 9.0),
        defined("gain_per_cost", Unit::Ratio, 10.0),
        defined("entering", Unit::Text, 30.0),
        defined("leaving", Unit::Text, 30.0),
        defined("status", Unit::Text, 16.0),
    ],
};

/// The label Run Info gives a scenario.
pub fn run_info_label(name: &str) -> String {
    format!("Scenario {name}")
}

/// The scenarios' tables as of `period`.
///
/// # Errors
///
/// [`Error::Metrics`] when a finance table lacks a declared column (a defect).
pub fn compute_family(inputs: &Inputs, period: Period, settings: &Settings) -> Result<Computed> {
    let scenarios = &settings.metrics.scenarios;
    let evaluated: Vec<Evaluated> = if scenarios.is_empty() {
        Vec::new()
    } else {
        let investments = candidates::investments(
            inputs.table(super::finance::INVESTMENT_FINANCE.name)?,
            inputs.table(super::finance::INVESTMENT_CASH_FLOWS.name)?,
            period,
            &settings.metrics.decisions.run_categories,
        )
        .map_err(|e| Error::metrics("scenario_candidates", e))?;
        scenarios
            .par_iter()
            .map(|s| {
                evaluate(
                    s,
                    &investments,
                    period,
                    settings.reporting_currency,
                    settings.lang,
                )
            })
            .collect()
    };
    let currency = settings.reporting_currency;
    let mut run_info = Vec::new();
    let mut faults = Vec::new();
    for e in &evaluated {
        run_info.push((run_info_label(&e.name), describe(e, currency)));
        if let Status::NoSelection(why) = &e.status {
            faults.push(Fault {
                part: format!("scenario {:?}", e.name),
                message: format!("no selection: {why}"),
            });
        }
    }
    if scenarios.is_empty() {
        run_info.push((
            "Portfolio scenarios".to_string(),
            "none configured (add a [[scenario]] to the configuration)".to_string(),
        ));
    }
    let tables = vec![
        (
            SCENARIO_SUMMARY.name,
            tables::summary(&evaluated, period)
                .map_err(|e| Error::metrics("scenario_summary", e))?,
        ),
        (
            SCENARIO_CANDIDATES.name,
            tables::candidates(&evaluated, period)
                .map_err(|e| Error::metrics("scenario_candidates", e))?,
        ),
        (
            SCENARIO_ENVELOPE.name,
            tables::envelope(&evaluated, period)
                .map_err(|e| Error::metrics("scenario_envelope", e))?,
        ),
        (
            SCENARIO_FRONTIER.name,
            tables::frontier(&evaluated, period)
                .map_err(|e| Error::metrics("scenario_frontier", e))?,
        ),
    ];
    Ok(Computed {
        tables,
        run_info,
        faults,
    })
}

/// A scenario's outcome in one line for Run Info.
fn describe(e: &Evaluated, currency: &str) -> String {
    use crate::format::group_thousands_decimal as money;
    let count = |d: &str| e.explained.iter().filter(|x| x.decision == d).count();
    let seconds = e.elapsed.as_secs_f64();
    match &e.status {
        Status::NoSelection(why) => format!("no selection: {why}"),
        status => {
            let decided = e
                .candidates
                .iter()
                .filter(|c| c.standing == candidates::Standing::Decided)
                .count();
            format!(
                "{}: {} funded, {} continued, {} not funded, {} stopped of {decided} candidates; {} {currency} of {} {currency} in the window; {} {}; solved with good_lp's microlp in {seconds:.2} s ({} frontier levels, time limit {} s per solve)",
                status.words(e.time_limit_seconds),
                count(reasons::decision::FUNDED),
                count(reasons::decision::CONTINUED),
                count(reasons::decision::NOT_FUNDED),
                count(reasons::decision::STOPPED),
                money(e.funded_cost.unwrap_or_default()),
                money(e.envelope),
                e.objective,
                if e.in_currency {
                    reasons::money(e.value.unwrap_or_default(), currency)
                } else {
                    crate::format::group_thousands(e.value.unwrap_or_default().round() as i64)
                },
                e.frontier.len(),
                e.time_limit_seconds
            )
        }
    }
}

mod tables {
    //! The scenarios' tables as frames, rows in the order the sheet shows them.

    use super::*;
    use crate::metrics::finance::MONEY;

    fn days(d: chrono::NaiveDate) -> i32 {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        (d - epoch).num_days() as i32
    }

    fn months(name: &str, values: impl Iterator<Item = Period>) -> PolarsResult<Column> {
        let v: Vec<i32> = values.map(|p| days(p.first_day())).collect();
        Ok(Series::new(name.into(), v)
            .cast(&DataType::Date)?
            .into_column())
    }

    fn money(name: &str, values: impl Iterator<Item = Option<Decimal>>) -> PolarsResult<Column> {
        let cents: Vec<Option<i128>> = values
            .map(|v| {
                v.map(|d| {
                    let mut d = d.round_dp_with_strategy(
                        2,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    );
                    d.rescale(2);
                    d.mantissa()
                })
            })
            .collect();
        Ok(Series::new(name.into(), cents)
            .into_decimal(18, 2)?
            .cast(&MONEY)?
            .into_column())
    }

    fn floats(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
        Series::new(name.into(), values.collect::<Vec<_>>()).into_column()
    }

    fn ints(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
        Series::new(name.into(), values.collect::<Vec<_>>()).into_column()
    }

    fn text(name: &str, values: impl Iterator<Item = String>) -> Column {
        Series::new(name.into(), values.collect::<Vec<_>>()).into_column()
    }

    fn frame(columns: Vec<Column>) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(columns)
    }

    pub fn summary(evaluated: &[Evaluated], period: Period) -> PolarsResult<DataFrame> {
        let e = evaluated;
        let count = |x: &Evaluated, d: &str| -> Option<i64> {
            (!matches!(x.status, Status::NoSelection(_)))
                .then(|| x.explained.iter().filter(|c| c.decision == d).count() as i64)
        };
        use reasons::decision as d;
        frame(vec![
            months("period", e.iter().map(|_| period))?,
            text("scenario", e.iter().map(|x| x.name.clone())),
            text(
                "status",
                e.iter().map(|x| x.status.words(x.time_limit_seconds)),
            ),
            text("objective", e.iter().map(|x| x.objective.clone())),
            months("window_from", e.iter().map(|x| x.window.0))?,
            months("window_to", e.iter().map(|x| x.window.1))?,
            money("envelope", e.iter().map(|x| Some(x.envelope)))?,
            money("funded_cost", e.iter().map(|x| x.funded_cost))?,
            floats("objective_value", e.iter().map(|x| x.value)),
            ints(
                "candidates",
                e.iter().map(|x| {
                    Some(
                        x.candidates
                            .iter()
                            .filter(|c| c.standing == candidates::Standing::Decided)
                            .count() as i64,
                    )
                }),
            ),
            ints("funded", e.iter().map(|x| count(x, d::FUNDED))),
            ints("continued", e.iter().map(|x| count(x, d::CONTINUED))),
            ints("not_funded", e.iter().map(|x| count(x, d::NOT_FUNDED))),
            ints("stopped", e.iter().map(|x| count(x, d::STOPPED))),
            text(
                "notes",
                e.iter().map(|x| {
                    let mut notes = Vec::new();
                    if let Status::NoSelection(why) = &x.status {
                        notes.push(why.clone());
                    }
                    notes.extend(x.notes.iter().cloned());
                    notes.join("; ")
                }),
            ),
        ])
    }

    /// Candidates grouped by decision, the best value per unit of cost first, then by id.
    fn order(x: &Evaluated) -> Vec<usize> {
        let rank = |d: &str| reasons::decision::ORDER.iter().position(|o| *o == d);
        let mut order: Vec<usize> = (0..x.candidates.len()).collect();
        order.sort_by(|a, b| {
            let (ea, eb) = (&x.explained[*a], &x.explained[*b]);
            rank(ea.decision)
                .cmp(&rank(eb.decision))
                .then_with(|| {
                    let r = |e: &reasons::Explained| e.value_per_cost.unwrap_or(f64::NEG_INFINITY);
                    r(eb).total_cmp(&r(ea))
                })
                .then_with(|| x.candidates[*a].id().cmp(x.candidates[*b].id()))
        });
        order
    }

    pub fn candidates(evaluated: &[Evaluated], period: Period) -> PolarsResult<DataFrame> {
        let rows: Vec<(&Evaluated, usize)> = evaluated
            .iter()
            .flat_map(|x| order(x).into_iter().map(move |i| (x, i)))
            .collect();
        fn c(x: &Evaluated, i: usize) -> &candidates::Candidate {
            &x.candidates[i]
        }
        let stage = |x: &Evaluated, i: usize| {
            if c(x, i).proposed() {
                "proposed"
            } else {
                "under way"
            }
        };
        frame(vec![
            months("period", rows.iter().map(|_| period))?,
            text("scenario", rows.iter().map(|(x, _)| x.name.clone())),
            text(
                "investment_id",
                rows.iter().map(|(x, i)| c(x, *i).id().to_string()),
            ),
            text(
                "name",
                rows.iter().map(|(x, i)| c(x, *i).investment.name.clone()),
            ),
            text(
                "category",
                rows.iter()
                    .map(|(x, i)| c(x, *i).investment.category.clone()),
            ),
            text("stage", rows.iter().map(|(x, i)| stage(x, *i).to_string())),
            text(
                "decision",
                rows.iter()
                    .map(|(x, i)| x.explained[*i].decision.to_string()),
            ),
            money("cost_in_window", rows.iter().map(|(x, i)| c(x, *i).cost))?,
            money(
                "npv_p50",
                rows.iter().map(|(x, i)| c(x, *i).investment.npv_p50),
            )?,
            money(
                "expected_npv",
                rows.iter().map(|(x, i)| c(x, *i).investment.expected_npv),
            )?,
            floats(
                "probability_npv_positive",
                rows.iter()
                    .map(|(x, i)| c(x, *i).investment.probability_positive),
            ),
            floats("value", rows.iter().map(|(x, i)| c(x, *i).value)),
            floats(
                "value_per_cost",
                rows.iter().map(|(x, i)| x.explained[*i].value_per_cost),
            ),
            floats(
                "marginal",
                rows.iter().map(|(x, i)| x.explained[*i].marginal),
            ),
            text(
                "reason",
                rows.iter().map(|(x, i)| x.explained[*i].reason.clone()),
            ),
        ])
    }

    pub fn envelope(evaluated: &[Evaluated], period: Period) -> PolarsResult<DataFrame> {
        let rows: Vec<(&Evaluated, &EnvelopeRow)> = evaluated
            .iter()
            .flat_map(|x| x.envelope_rows.iter().map(move |r| (x, r)))
            .collect();
        frame(vec![
            months("period", rows.iter().map(|_| period))?,
            text("scenario", rows.iter().map(|(x, _)| x.name.clone())),
            text("constraint", rows.iter().map(|(_, r)| r.constraint.clone())),
            months("first_month", rows.iter().map(|(_, r)| r.first))?,
            months("last_month", rows.iter().map(|(_, r)| r.last))?,
            money("limit", rows.iter().map(|(_, r)| r.limit))?,
            money("funded", rows.iter().map(|(_, r)| r.funded))?,
            money(
                "remaining",
                rows.iter()
                    .map(|(_, r)| r.limit.zip(r.funded).map(|(l, f)| l - f)),
            )?,
            floats(
                "used",
                rows.iter().map(|(_, r)| {
                    use rust_decimal::prelude::ToPrimitive;
                    let (limit, funded) = (r.limit?, r.funded?);
                    (!limit.is_zero())
                        .then(|| (funded / limit).to_f64())
                        .flatten()
                }),
            ),
            floats("shadow_price", rows.iter().map(|(_, r)| r.shadow_price)),
        ])
    }

    pub fn frontier(evaluated: &[Evaluated], period: Period) -> PolarsResult<DataFrame> {
        let rows: Vec<(&Evaluated, &FrontierRow)> = evaluated
            .iter()
            .flat_map(|x| x.frontier.iter().map(move |r| (x, r)))
            .collect();
        frame(vec![
            months("period", rows.iter().map(|_| period))?,
            text("scenario", rows.iter().map(|(x, _)| x.name.clone())),
            floats("level", rows.iter().map(|(_, r)| Some(r.level))),
            money("envelope", rows.iter().map(|(_, r)| Some(r.envelope)))?,
            floats("objective_value", rows.iter().map(|(_, r)| r.value)),
            money("funded_cost", rows.iter().map(|(_, r)| r.funded_cost))?,
            ints("funded", rows.iter().map(|(_, r)| r.funded)),
            floats("gain_per_cost", rows.iter().map(|(_, r)| r.gain_per_cost)),
            text("entering", rows.iter().map(|(_, r)| r.entering.clone())),
            text("leaving", rows.iter().map(|(_, r)| r.leaving.clone())),
            text("status", rows.iter().map(|(_, r)| r.status.clone())),
        ])
    }
}
