//! One scenario from start to end: its window and budgets as of the period, its candidates, its
//! program, the solves at 100% of the envelope and at each frontier level, the reasons, and the
//! rows of its tables; or, when it has no selection, why.
//!
//! In: a [`Scenario`], every investment as the finance family left it, the period and the
//! reporting currency. Out: an [`Evaluated`] scenario.
//!
//! The frontier's levels are solved in rising order, each seeded with the selection of the level
//! below (which still fits a larger envelope) and with the greedy selection at its own level, so
//! that its best objective never falls as the budget grows, even where a time limit stops a solve
//! early. The selection at 100% is one of that chain.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use super::candidates::{self, Candidate, Investment};
use super::program::{self, BudgetRow, Model, id_list};
use super::reasons::{self, Explained, Words};
use crate::config::scenario::{Objective, Scenario, budget_spans};
use crate::labels::Lang;
use crate::labels::scenarios::notes as say;
use crate::metrics::decisions::Stage;
use crate::metrics::solver::{self, Program, Solved};
use crate::schedule::Period;

/// How a scenario's selection came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Proven optimal.
    Optimal,
    /// The best selection found within the time limit.
    BestFound,
    /// No selection; why (this is the scenario's fault).
    NoSelection(String),
}

impl Status {
    /// In words for the tables.
    pub fn words(&self, seconds: f64) -> String {
        match self {
            Status::Optimal => "optimal".to_string(),
            Status::BestFound => format!("best found within {seconds} s (not proven optimal)"),
            Status::NoSelection(_) => "no selection".to_string(),
        }
    }
}

/// A row of the envelope: a budget or a category cap against what the selection spends.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeRow {
    pub constraint: String,
    pub first: Period,
    pub last: Period,
    pub limit: Option<Decimal>,
    pub funded: Option<Decimal>,
    /// The LP relaxation's shadow price of a budget: value per unit of budget at the margin.
    pub shadow_price: Option<f64>,
}

/// A level of the efficient frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierRow {
    pub level: f64,
    pub envelope: Decimal,
    pub value: Option<f64>,
    pub funded_cost: Option<Decimal>,
    pub funded: Option<i64>,
    /// The objective gained per unit of envelope since the level below.
    pub gain_per_cost: Option<f64>,
    pub entering: String,
    pub leaving: String,
    pub status: String,
}

/// One scenario, evaluated.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub name: String,
    pub objective: String,
    /// The objective is money (an NPV), not a score.
    pub in_currency: bool,
    /// The window as configured (or derived), before the period cuts it.
    pub window: (Period, Period),
    pub envelope: Decimal,
    pub status: Status,
    pub candidates: Vec<Candidate>,
    pub explained: Vec<Explained>,
    pub envelope_rows: Vec<EnvelopeRow>,
    pub frontier: Vec<FrontierRow>,
    /// The objective of the selection (the candidates whose value is known).
    pub value: Option<f64>,
    pub funded_cost: Option<Decimal>,
    /// What the Scenarios sheet and Run Info add (months already past, values not counted).
    pub notes: Vec<String>,
    pub time_limit_seconds: f64,
    pub elapsed: Duration,
}

/// The objective in words: (its figure, per unit of cost).
pub fn objective_words(objective: &Objective, currency: &str, lang: Lang) -> (String, String) {
    use crate::labels::scenarios::value;
    let per_currency = |words: crate::labels::Words| words.fill(lang, &[("currency", currency)]);
    match objective {
        Objective::NpvP50 => (
            value::NPV_P50.get(lang).to_string(),
            per_currency(value::NPV_PER_COST),
        ),
        Objective::ExpectedNpv => (
            value::EXPECTED_NPV.get(lang).to_string(),
            per_currency(value::NPV_PER_COST),
        ),
        Objective::Weighted(weights) => {
            let terms: Vec<String> = weights.iter().map(|(f, w)| format!("{w} × {f}")).collect();
            (
                value::SCORE.fill(lang, &[("terms", &terms.join(" + "))]),
                per_currency(value::SCORE_PER_COST),
            )
        }
    }
}

/// The window: as configured, else the whole calendar years the yearly and quarterly budgets
/// fall in (a budget for 2027-Q1 alone makes the window 2027), else the calendar year after the
/// period.
pub fn window(scenario: &Scenario, period: Period) -> (Period, Period) {
    if let Some(window) = scenario.window {
        return window;
    }
    let spans = budget_spans(&scenario.budget);
    let years = (
        spans.iter().map(|s| s.1.year()).min(),
        spans.iter().map(|s| s.2.year()).max(),
    );
    let (first, last) = match years {
        (Some(first), Some(last)) => (first, last),
        _ => (period.year() + 1, period.year() + 1),
    };
    match (Period::new(first, 1), Period::new(last, 12)) {
        (Some(first), Some(last)) => (first, last),
        _ => (period.next(), period.plus(12)),
    }
}

/// The budget rows of the window's months after the period; the rows entirely past are noted.
fn budget_rows(
    scenario: &Scenario,
    months: (Period, Period),
    notes: &mut Vec<String>,
    lang: Lang,
) -> Vec<BudgetRow> {
    let mut rows = Vec::new();
    if let Some(total) = scenario.budget.total {
        rows.push(BudgetRow {
            label: "total".to_string(),
            first: months.0,
            last: months.1,
            limit: total,
        });
    }
    let spans = budget_spans(&scenario.budget);
    let amounts = scenario
        .budget
        .years
        .values()
        .chain(scenario.budget.quarters.values());
    for ((key, first, last), limit) in spans.into_iter().zip(amounts) {
        let label = key
            .split_once('.')
            .map_or(key.clone(), |(_, l)| l.to_string());
        let (first, last) = (first.max(months.0), last.min(months.1));
        if first > last {
            notes.push(say::BUDGET_OUTSIDE.fill(lang, &[("label", &label)]));
            continue;
        }
        rows.push(BudgetRow {
            label,
            first,
            last,
            limit: *limit,
        });
    }
    rows
}

/// One solve of the chain.
struct Level {
    level: f64,
    selection: Option<Vec<bool>>,
    status: String,
    optimal: bool,
}

/// Evaluates `scenario` as of `period` over `investments` (in id order).
pub fn evaluate(
    scenario: &Scenario,
    investments: &[Investment],
    period: Period,
    currency: &str,
    lang: Lang,
) -> Evaluated {
    let clock = Instant::now();
    let (value_words, per_cost_words) = objective_words(&scenario.objective, currency, lang);
    let window = window(scenario, period);
    let mut notes = Vec::new();
    let mut evaluated = Evaluated {
        name: scenario.name.clone(),
        objective: value_words.clone(),
        in_currency: !matches!(scenario.objective, Objective::Weighted(_)),
        window,
        envelope: scenario.budget.envelope(),
        status: Status::Optimal,
        candidates: Vec::new(),
        explained: Vec::new(),
        envelope_rows: Vec::new(),
        frontier: Vec::new(),
        value: None,
        funded_cost: None,
        notes: Vec::new(),
        time_limit_seconds: scenario.time_limit_seconds,
        elapsed: Duration::ZERO,
    };
    let first = window.0.max(period.next());
    if first > window.1 {
        evaluated.status =
            Status::NoSelection(crate::labels::scenarios::faults::WINDOW_ENDED.fill(
                lang,
                &[
                    ("from", &window.0.to_string()),
                    ("to", &window.1.to_string()),
                    ("period", &period.to_string()),
                ],
            ));
        return evaluated;
    }
    if first > window.0 {
        notes.push(say::MONTHS_PAST.fill(
            lang,
            &[
                ("period", &period.to_string()),
                ("first", &first.to_string()),
                ("last", &window.1.to_string()),
            ],
        ));
    }
    let months = (first, window.1);
    let budgets = budget_rows(scenario, months, &mut notes, lang);
    evaluated.candidates = candidates::candidates(investments, months, &scenario.objective, lang);
    let known: BTreeSet<&str> = investments.iter().map(|i| i.id.as_str()).collect();
    let closed: BTreeSet<&str> = investments
        .iter()
        .filter(|i| i.stage == Stage::Closed)
        .map(|i| i.id.as_str())
        .collect();
    let mut conflicts = program::unknown_ids(scenario, &known);
    let words = Words {
        value: &value_words,
        per_cost: &per_cost_words,
        currency,
        min_probability: scenario.min_probability_positive,
        lang,
    };
    let model = if conflicts.is_empty() {
        match program::build(
            scenario,
            &evaluated.candidates,
            budgets.clone(),
            &closed,
            lang,
        ) {
            Ok(model) => Some(model),
            Err(found) => {
                conflicts = found;
                None
            }
        }
    } else {
        None
    };
    let Some(model) = model else {
        let why = conflicts.join(crate::labels::scenarios::reasons::SEPARATOR.get(lang));
        evaluated.explained = reasons::without_selection(&evaluated.candidates, &why, lang);
        evaluated.envelope_rows = envelope_rows(None, &budgets, None, &[], scenario, months);
        evaluated.status = Status::NoSelection(why);
        evaluated.notes = notes;
        evaluated.elapsed = clock.elapsed();
        return evaluated;
    };
    let time_limit = Duration::from_secs_f64(scenario.time_limit_seconds);
    let chain = solve_chain(&model, scenario, time_limit, currency);
    let main = chain
        .iter()
        .find(|l| l.level == 1.0)
        .expect("the chain holds 100%");
    evaluated.frontier = frontier_rows(&model, scenario, &chain);
    let selection = match &main.selection {
        Some(selection) => selection.clone(),
        None => {
            let why = match model.forced_over_budget(1.0, currency) {
                Some(why) => why,
                None if main.status == "infeasible" => model
                    .diagnose(1.0, time_limit, currency)
                    .unwrap_or_else(|e| e.to_string()),
                None => main.status.clone(),
            };
            evaluated.explained = reasons::without_selection(&evaluated.candidates, &why, lang);
            evaluated.envelope_rows =
                envelope_rows(Some(&model), &budgets, None, &[], scenario, months);
            evaluated.status = Status::NoSelection(why);
            evaluated.notes = notes;
            evaluated.elapsed = clock.elapsed();
            return evaluated;
        }
    };
    if !main.optimal {
        tracing::warn!(
            scenario = %scenario.name,
            seconds = scenario.time_limit_seconds,
            "the solver reached its time limit; the scenario uses the best selection found"
        );
    }
    let prices = model.shadow_prices().unwrap_or_else(|e| {
        tracing::warn!(scenario = %scenario.name, error = %e, "no shadow prices");
        vec![None; budgets.len()]
    });
    evaluated.explained = reasons::explain(&model, &selection, &prices, main.optimal, words);
    evaluated.envelope_rows = envelope_rows(
        Some(&model),
        &budgets,
        Some(&selection),
        &prices,
        scenario,
        months,
    );
    let unknown: Vec<&str> = model
        .selected(&selection)
        .filter(|i| evaluated.candidates[*i].value.is_none())
        .map(|i| evaluated.candidates[i].id())
        .collect();
    if !unknown.is_empty() {
        let ids = unknown.join(crate::labels::scenarios::reasons::LIST.get(lang));
        notes.push(say::VALUE_UNKNOWN.fill(lang, &[("ids", &ids)]));
    }
    evaluated.value = Some(model.program.value_of(&selection));
    evaluated.funded_cost = Some(model.funded_cost(&selection));
    evaluated.status = if main.optimal {
        Status::Optimal
    } else {
        Status::BestFound
    };
    evaluated.notes = notes;
    evaluated.elapsed = clock.elapsed();
    evaluated
}

/// Solves the levels of the frontier and 100%, in rising order, each seeded with the one below.
fn solve_chain(
    model: &Model,
    scenario: &Scenario,
    time_limit: Duration,
    currency: &str,
) -> Vec<Level> {
    let mut levels: Vec<f64> = scenario.frontier.clone();
    if !levels.contains(&1.0) {
        levels.push(1.0);
        levels.sort_by(f64::total_cmp);
    }
    let mut chain: Vec<Level> = Vec::with_capacity(levels.len());
    for level in levels {
        let program = model.at_level(level);
        if model.forced_over_budget(level, currency).is_some() {
            chain.push(Level {
                level,
                selection: None,
                status: "infeasible".to_string(),
                optimal: false,
            });
            continue;
        }
        let below = chain.iter().rev().find_map(|l| l.selection.clone());
        let start = best_start(&program, [below, model.greedy(level)]);
        let solved = solver::solve(&program, start.as_deref(), time_limit);
        let (selection, status, optimal) = match solved.map(|t| t.outcome) {
            Ok(Solved::Optimal(s)) => (Some(s), "optimal".to_string(), true),
            Ok(Solved::BestFound(s)) => (
                Some(s),
                format!("best found within {} s", scenario.time_limit_seconds),
                false,
            ),
            Ok(Solved::Infeasible) => (None, "infeasible".to_string(), false),
            Ok(Solved::NothingInTime) => (
                None,
                format!(
                    "no selection found within {} s",
                    scenario.time_limit_seconds
                ),
                false,
            ),
            Err(e) => (None, e.to_string(), false),
        };
        // The solver works in floats; the selection must keep every constraint in decimals.
        let (selection, status, optimal) = match selection {
            Some(s) => match model.breaks(&s, level, currency) {
                None => (Some(s), status, optimal),
                Some(broken) => (
                    None,
                    format!(
                        "the solver's selection breaks a constraint ({broken}), so it is not used"
                    ),
                    false,
                ),
            },
            None => (None, status, optimal),
        };
        chain.push(Level {
            level,
            selection,
            status,
            optimal,
        });
    }
    chain
}

/// The better of the starting selections that keep every row.
fn best_start<const N: usize>(
    program: &Program,
    starts: [Option<Vec<bool>>; N],
) -> Option<Vec<bool>> {
    starts
        .into_iter()
        .flatten()
        .filter(|s| program.admits(s, 0.0))
        .max_by(|a, b| program.value_of(a).total_cmp(&program.value_of(b)))
}

fn frontier_rows(model: &Model, scenario: &Scenario, chain: &[Level]) -> Vec<FrontierRow> {
    let envelope = scenario.budget.envelope();
    let mut rows: Vec<FrontierRow> = Vec::new();
    let mut previous: Option<(&Vec<bool>, f64, Decimal)> = None;
    for level in chain
        .iter()
        .filter(|l| scenario.frontier.contains(&l.level))
    {
        let at = program::scaled(envelope, level.level);
        let mut row = FrontierRow {
            level: level.level,
            envelope: at,
            value: None,
            funded_cost: None,
            funded: None,
            gain_per_cost: None,
            entering: String::new(),
            leaving: String::new(),
            status: level.status.clone(),
        };
        if let Some(selection) = &level.selection {
            let value = model.program.value_of(selection);
            row.value = Some(value);
            row.funded_cost = Some(model.funded_cost(selection));
            row.funded = Some(model.selected(selection).count() as i64);
            if let Some((before, before_value, before_envelope)) = previous {
                let ids = |keep: &dyn Fn(usize) -> bool| {
                    let list: Vec<&str> = (0..selection.len())
                        .filter(|v| keep(*v))
                        .map(|v| model.candidates[model.vars[v]].id())
                        .collect();
                    id_list(list, 100)
                };
                row.entering = ids(&|v| selection[v] && !before[v]);
                row.leaving = ids(&|v| !selection[v] && before[v]);
                let span = rust_decimal::prelude::ToPrimitive::to_f64(&(at - before_envelope))
                    .unwrap_or(0.0);
                if span > 0.0 {
                    row.gain_per_cost = Some((value - before_value) / span);
                }
            }
            previous = Some((selection, value, at));
        }
        rows.push(row);
    }
    rows
}

fn envelope_rows(
    model: Option<&Model>,
    budgets: &[BudgetRow],
    selection: Option<&[bool]>,
    prices: &[Option<f64>],
    scenario: &Scenario,
    months: (Period, Period),
) -> Vec<EnvelopeRow> {
    let mut rows: Vec<EnvelopeRow> = budgets
        .iter()
        .enumerate()
        .map(|(b, budget)| EnvelopeRow {
            constraint: budget.named(),
            first: budget.first,
            last: budget.last,
            limit: Some(budget.limit),
            funded: model
                .zip(selection)
                .map(|(m, s)| m.cost_of(s, budget.first, budget.last)),
            shadow_price: prices.get(b).copied().flatten(),
        })
        .collect();
    for (category, share) in &scenario.category_max_share {
        let funded = model
            .zip(selection)
            .map(|(m, s)| (m.category_cost(s, category), m.funded_cost(s)));
        rows.push(EnvelopeRow {
            constraint: format!(
                "the cap of {category} at {}% of the funded cost",
                (*share * Decimal::ONE_HUNDRED).normalize()
            ),
            first: months.0,
            last: months.1,
            limit: funded.map(|(_, total)| {
                let mut cap = (*share * total).round_dp_with_strategy(
                    2,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
                cap.rescale(2);
                cap
            }),
            funded: funded.map(|(used, _)| used),
            shadow_price: None,
        });
    }
    rows
}
