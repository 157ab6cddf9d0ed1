//! Finance metrics per investment as of a period: budget variance for the month and the year to
//! date, actual cost to date (AC), budget to date (PV), budget at completion (BAC), earned value
//! (EV) and the cost and schedule performance indices (CPI, SPI).
//!
//! In: `mart_investment_monthly`, `stg_investments`, `stg_progress` and `stg_benefits` as
//! DataFrames. Out: one row per investment, the proposed ones included (their flows are all in the
//! future), with its earned value and its appraisal (see `appraisal`); the portfolio's monthly
//! totals for the trailing twelve months; and every investment's monthly cash flows. Money is DECIMAL(18,2) throughout, rounded once (half away
//! from zero) where a figure is made; ratios are floats. A figure whose inputs are missing is
//! empty, and the row's `notes` says why: an investment without actual cost lines has no actuals,
//! not actuals of zero. A zero is shown only where the lines say zero (an investment that books
//! actuals, but none in the window).

use polars::prelude::*;

use super::catalogue::{Column as Declared, Family, Table, Unit, figure, key, label};
use super::stats::date_lit;
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::labels::explained::{self, SEPARATOR, finance as notes};
use crate::labels::{Lang, Words};
use crate::schedule::Period;

/// The models the finance figures are computed from.
pub const MODELS: [&str; 4] = [
    "mart_investment_monthly",
    "stg_investments",
    "stg_progress",
    "stg_benefits",
];

/// The finance family: the investments' budget and earned-value figures and the portfolio's
/// months.
pub static FAMILY: Family = Family {
    name: "finance",
    models: &MODELS,
    entities: &[Entity::Investments, Entity::Costs],
    after: &[],
    tables: &[INVESTMENT_FINANCE, PORTFOLIO_MONTHLY, INVESTMENT_CASH_FLOWS],
    compute: compute_family,
};

const fn money(name: &'static str, width: f64) -> Declared {
    figure(name, Unit::Money, width)
}

const fn share(name: &'static str, unit: Unit, width: f64) -> Declared {
    figure(name, unit, width)
}

const PERIOD: Declared = key("period", Unit::Month, 10.0);

const fn plain(name: &'static str, unit: Unit, width: f64) -> Declared {
    share(name, unit, width)
}

/// `metrics.investment_finance`: one row per investment as of the period.
pub const INVESTMENT_FINANCE: Table = Table {
    name: "investment_finance",
    columns: &[
        PERIOD,
        key("investment_id", Unit::Text, 12.0),
        label("name", Unit::Text, 34.0),
        label("category", Unit::Text, 11.0),
        label("value_stream", Unit::Text, 16.0),
        label("status", Unit::Text, 11.0),
        money("actual_month", 15.0),
        money("budget_month", 15.0),
        money("variance_month", 16.0),
        share("variance_month_pct", Unit::Percent, 12.0),
        money("actual_ytd", 15.0),
        money("budget_ytd", 15.0),
        money("variance_ytd", 15.0),
        share("variance_ytd_pct", Unit::Percent, 12.0),
        money("actual_to_date", 17.0),
        money("budget_to_date", 17.0),
        money("budget_at_completion", 17.0),
        share("percent_complete", Unit::Percent, 11.0),
        money("earned_value", 16.0),
        share("cpi", Unit::Ratio, 8.0),
        share("spi", Unit::Ratio, 8.0),
        money("cv", 14.0),
        money("sv", 14.0),
        money("eac", 17.0),
        money("etc", 17.0),
        money("vac", 17.0),
        plain("tcpi", Unit::Ratio, 8.0),
        plain("discount_rate", Unit::Percent, 10.0),
        money("npv", 15.0),
        plain("irr", Unit::Percent, 9.0),
        money("forward_npv", 15.0),
        money("npv_p10", 14.0),
        money("npv_p50", 14.0),
        money("npv_p90", 14.0),
        plain("probability_npv_positive", Unit::Percent, 10.0),
        money("forward_npv_p50", 15.0),
        money("forward_npv_mean", 15.0),
        plain("roi_lifecycle", Unit::Percent, 11.0),
        plain("roi_to_date", Unit::Percent, 11.0),
        figure("payback_date", Unit::Date, 12.0),
        plain("payback_months", Unit::Number, 10.0),
        figure("discounted_payback_date", Unit::Date, 12.0),
        plain("discounted_payback_months", Unit::Number, 12.0),
        money("planned_benefits_to_date", 16.0),
        money("realized_benefits_to_date", 16.0),
        plain("benefit_realization", Unit::Percent, 11.0),
        figure("recommendation", Unit::Text, 13.0),
        figure("recommendation_reason", Unit::Text, 50.0).in_run_language(),
        label("notes", Unit::Text, 60.0).in_run_language(),
    ],
};

/// `metrics.investment_cash_flows`: every investment's monthly flows as the valuation uses them.
pub const INVESTMENT_CASH_FLOWS: Table = Table {
    name: "investment_cash_flows",
    columns: &[
        PERIOD,
        key("investment_id", Unit::Text, 12.0),
        key("month", Unit::Month, 10.0),
        label("flow_date", Unit::Date, 11.0),
        money("costs", 14.0),
        money("benefits", 14.0),
        money("net_flow", 14.0),
        label("basis", Unit::Text, 10.0),
    ],
};

/// `metrics.portfolio_monthly`: the portfolio's twelve months ending at the period.
pub const PORTFOLIO_MONTHLY: Table = Table {
    name: "portfolio_monthly",
    columns: &[
        PERIOD,
        key("month", Unit::Month, 10.0),
        money("actual", 16.0),
        money("budget", 16.0),
        money("forecast", 16.0),
    ],
};

/// The finance tables as of `period`, from the family's models.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails (an input lacks an expected column).
pub fn compute_family(inputs: &Inputs, period: Period, settings: &Settings) -> Result<Computed> {
    let figures = compute(
        &FinanceInputs {
            monthly: inputs.frame("mart_investment_monthly")?.clone(),
            investments: inputs.frame("stg_investments")?.clone(),
            progress: inputs.frame("stg_progress")?.clone(),
            benefits: inputs.frame("stg_benefits")?.clone(),
        },
        period,
        settings,
    )?;
    Ok(Computed {
        tables: vec![
            (INVESTMENT_FINANCE.name, figures.investments),
            (PORTFOLIO_MONTHLY.name, figures.portfolio_monthly),
            (INVESTMENT_CASH_FLOWS.name, figures.cash_flows),
        ],
        run_info: vec![("Risk-adjusted NPV".to_string(), figures.simulation)],
        faults: Vec::new(),
    })
}

/// The money type of every figure.
pub const MONEY: DataType = DataType::Decimal(18, 2);

/// The inputs, as read from the warehouse.
pub struct FinanceInputs {
    /// `mart_investment_monthly`: investment_id, period, actual_cost, budget_cost, forecast_cost,
    /// planned_benefit, realized_benefit (DECIMAL) and the line counts (actual_lines,
    /// budget_lines, forecast_lines).
    pub monthly: DataFrame,
    /// `stg_investments`.
    pub investments: DataFrame,
    /// `stg_progress`: investment_id, period, percent_complete.
    pub progress: DataFrame,
    /// `stg_benefits`: the benefit lines, with their low and high amounts.
    pub benefits: DataFrame,
}

/// The finance tables for one period.
pub struct Finance {
    /// One row per investment, as [`INVESTMENT_FINANCE`] declares.
    pub investments: DataFrame,
    /// period (the as-of month), month, actual, budget, forecast: twelve rows ending at the period.
    pub portfolio_monthly: DataFrame,
    /// Every investment's monthly flows, as [`INVESTMENT_CASH_FLOWS`] declares.
    pub cash_flows: DataFrame,
    /// The simulation's settings, in words for Run Info.
    pub simulation: String,
}

/// Computes the finance tables as of `period`.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails, which means the inputs lack an expected column.
pub fn compute(inputs: &FinanceInputs, period: Period, settings: &Settings) -> Result<Finance> {
    let earned = investment_finance(inputs, period, settings.lang)
        .map_err(|e| Error::metrics("investment_finance", e))?;
    let appraisal = super::appraisal::appraise(
        earned,
        &inputs.monthly,
        &inputs.investments,
        &inputs.benefits,
        period,
        settings,
    )
    .map_err(|e| Error::metrics("investment_finance", e))?;
    let order: Vec<&str> = INVESTMENT_FINANCE.columns.iter().map(|c| c.name).collect();
    let investments = appraisal
        .investments
        .select(order)
        .map_err(|e| Error::metrics("investment_finance", e))?;
    Ok(Finance {
        investments,
        portfolio_monthly: portfolio_monthly(&inputs.monthly, period)
            .map_err(|e| Error::metrics("portfolio_monthly", e))?,
        cash_flows: appraisal.cash_flows,
        simulation: appraisal.simulation,
    })
}

/// The sum of a money column, empty when any of its values is empty (a line without an FX rate):
/// a partial total would understate the figure without saying so.
fn complete_sum(column: &str) -> Expr {
    when(col(column).null_count().gt(lit(0)))
        .then(lit(NULL))
        .otherwise(col(column).sum())
}

fn ratio(numerator: Expr, denominator: Expr) -> Expr {
    let d = denominator.cast(DataType::Float64);
    when(d.clone().eq(lit(0.0)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(numerator.cast(DataType::Float64) / d)
}

/// A note when `condition` holds, else nothing; each note ends with `separator`, which the last
/// one loses.
fn clause(condition: Expr, text: String, separator: &str) -> Expr {
    when(condition)
        .then(lit(format!("{text}{separator}")))
        .otherwise(lit(""))
}

/// Columns: period, investment_id, name, category, value_stream, status, actual_month,
/// budget_month, variance_month, variance_month_pct, actual_ytd, budget_ytd, variance_ytd,
/// variance_ytd_pct, actual_to_date, budget_to_date, budget_at_completion, percent_complete,
/// earned_value, cpi, spi, notes.
fn investment_finance(
    inputs: &FinanceInputs,
    period: Period,
    lang: Lang,
) -> PolarsResult<DataFrame> {
    let first = date_lit(period.first_day());
    let year_start = date_lit(period.year_start().first_day());
    let monthly = inputs.monthly.clone().lazy();
    let id = || [col("investment_id")];

    let to_date = monthly
        .clone()
        .filter(col("period").lt_eq(first.clone()))
        .group_by(id())
        .agg([
            complete_sum("actual_cost").alias("actual_to_date"),
            complete_sum("budget_cost").alias("budget_to_date"),
            col("period").count().alias("months_to_date"),
        ]);
    let ytd = monthly
        .clone()
        .filter(
            col("period")
                .lt_eq(first.clone())
                .and(col("period").gt_eq(year_start)),
        )
        .group_by(id())
        .agg([
            complete_sum("actual_cost").alias("actual_ytd"),
            complete_sum("budget_cost").alias("budget_ytd"),
            col("period").count().alias("months_ytd"),
        ]);
    let month = monthly
        .clone()
        .filter(col("period").eq(first.clone()))
        .select([
            col("investment_id"),
            col("actual_cost").alias("actual_month"),
            col("budget_cost").alias("budget_month"),
            col("period").alias("month_present"),
        ]);
    // Whether the investment books lines of a scenario at all, in any month.
    let lifetime = monthly.group_by(id()).agg([
        complete_sum("budget_cost").alias("budget_lines_total"),
        col("actual_lines").sum().alias("actual_lines_ever"),
        col("budget_lines").sum().alias("budget_lines_ever"),
    ]);
    let progress = inputs
        .progress
        .clone()
        .lazy()
        .filter(col("period").lt_eq(first.clone()))
        .sort(["period"], SortMultipleOptions::default())
        .group_by(id())
        .agg([col("percent_complete").last()]);

    let left = || JoinArgs::new(JoinType::Left);
    // An investment that books a scenario's lines but has none in a window spent (or planned)
    // nothing in it: zero. One that books none of them at all has no such figure: empty. After the
    // left joins both are null; the window's presence column and the lifetime counts tell them
    // apart.
    let zero = || lit(0).cast(DataType::Decimal(38, 2));
    let books = |lines: &str| col(lines).fill_null(lit(0)).gt(lit(0));
    let figure = |name: &str, presence: &str, lines: &str| {
        when(books(lines).not())
            .then(lit(NULL).cast(DataType::Decimal(38, 2)))
            .when(col(presence).is_null())
            .then(zero())
            .otherwise(col(name))
            .alias(name)
    };
    let frame = inputs
        .investments
        .clone()
        .lazy()
        .select([
            col("investment_id"),
            col("name"),
            col("category"),
            col("value_stream"),
            col("status"),
            col("budget_total"),
        ])
        .join(month, id(), id(), left())
        .join(ytd, id(), id(), left())
        .join(to_date, id(), id(), left())
        .join(lifetime, id(), id(), left())
        .join(progress, id(), id(), left())
        .with_columns([
            figure("actual_month", "month_present", "actual_lines_ever"),
            figure("budget_month", "month_present", "budget_lines_ever"),
            figure("actual_ytd", "months_ytd", "actual_lines_ever"),
            figure("budget_ytd", "months_ytd", "budget_lines_ever"),
            figure("actual_to_date", "months_to_date", "actual_lines_ever"),
            figure("budget_to_date", "months_to_date", "budget_lines_ever"),
            coalesce(&[
                col("budget_total").cast(DataType::Decimal(38, 2)),
                when(books("budget_lines_ever"))
                    .then(col("budget_lines_total"))
                    .otherwise(lit(NULL).cast(DataType::Decimal(38, 2))),
            ])
            .alias("budget_at_completion"),
        ])
        .with_columns([
            (col("actual_month") - col("budget_month")).alias("variance_month"),
            ratio(
                col("actual_month") - col("budget_month"),
                col("budget_month"),
            )
            .alias("variance_month_pct"),
            (col("actual_ytd") - col("budget_ytd")).alias("variance_ytd"),
            ratio(col("actual_ytd") - col("budget_ytd"), col("budget_ytd"))
                .alias("variance_ytd_pct"),
        ])
        .collect()?;
    let frame = with_earned_value(frame)?
        .lazy()
        .with_columns([
            ratio(col("earned_value"), col("actual_to_date")).alias("cpi"),
            ratio(col("earned_value"), col("budget_to_date")).alias("spi"),
        ])
        .with_column(notes(period, lang).alias("notes"))
        .select([
            first.alias("period"),
            col("investment_id"),
            col("name"),
            col("category"),
            col("value_stream"),
            col("status"),
            as_money("actual_month"),
            as_money("budget_month"),
            as_money("variance_month"),
            col("variance_month_pct"),
            as_money("actual_ytd"),
            as_money("budget_ytd"),
            as_money("variance_ytd"),
            col("variance_ytd_pct"),
            as_money("actual_to_date"),
            as_money("budget_to_date"),
            as_money("budget_at_completion"),
            col("percent_complete"),
            as_money("earned_value"),
            col("cpi"),
            col("spi"),
            col("notes"),
        ])
        .sort(["investment_id"], SortMultipleOptions::default());
    frame.collect()
}

/// A money column in the stored type; every figure is already at cents, so nothing rounds here.
fn as_money(name: &str) -> Expr {
    col(name).cast(MONEY).alias(name)
}

/// Adds `earned_value` = BAC × % complete, computed exactly in decimal and rounded once to cents,
/// half away from zero (as Excel's ROUND). The percentage is read as the 15 significant digits
/// Excel shows, so 35% of 1,000.10 is 350.04 and not a double's 350.03499….
fn with_earned_value(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    use rust_decimal::{Decimal, RoundingStrategy};
    let bac = frame
        .column("budget_at_completion")?
        .cast(&DataType::Decimal(38, 2))?;
    let bac = bac.decimal()?.physical().clone();
    let complete = frame.column("percent_complete")?.cast(&DataType::Float64)?;
    let complete = complete.f64()?.clone();
    let values: Vec<Option<i128>> = bac
        .iter()
        .zip(complete.iter())
        .map(|(cents, share)| {
            let share = Decimal::from_scientific(&format!("{:.14e}", share?)).ok()?;
            let value = Decimal::try_from_i128_with_scale(cents?, 2)
                .ok()?
                .checked_mul(share)?;
            let mut rounded =
                value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            rounded.rescale(2);
            Some(rounded.mantissa())
        })
        .collect();
    let earned = Series::new("earned_value".into(), values).into_decimal(38, 2)?;
    frame.with_column(earned.into_column())?;
    Ok(frame)
}

/// Why figures are empty, one clause per reason, in `lang`.
fn notes(period: Period, lang: Lang) -> Expr {
    let zero = |c: &str| col(c).cast(DataType::Float64).eq(lit(0.0));
    let never = |lines: &str| col(lines).fill_null(lit(0)).eq(lit(0));
    let separator = SEPARATOR.get(lang);
    let note = |condition: Expr, words: Words| {
        let text = explained::for_period(words, lang, &period.to_string());
        clause(condition, text, separator)
    };
    let parts = [
        note(never("actual_lines_ever"), notes::NO_ACTUAL_LINES),
        note(never("budget_lines_ever"), notes::NO_BUDGET_LINES),
        note(
            col("actual_to_date")
                .is_null()
                .and(never("actual_lines_ever").not()),
            notes::FX_MISSING,
        ),
        note(zero("budget_month"), notes::NO_BUDGET_MONTH),
        note(zero("budget_ytd"), notes::NO_BUDGET_YTD),
        note(
            col("budget_at_completion")
                .is_null()
                .and(col("budget_total").is_null())
                .and(never("budget_lines_ever")),
            notes::NO_BAC,
        ),
        note(col("percent_complete").is_null(), notes::NO_PROGRESS),
        note(
            zero("actual_to_date").and(col("earned_value").is_not_null()),
            notes::NO_ACTUAL_TO_DATE,
        ),
        note(
            zero("budget_to_date").and(col("earned_value").is_not_null()),
            notes::NO_BUDGET_TO_DATE,
        ),
    ];
    let joined = parts
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| lit(""));
    joined.str().strip_chars_end(lit(separator))
}

/// The portfolio's monthly actual, budget and forecast for the twelve months ending at `period`.
/// A month without lines of a scenario has no figure for it (a gap in the chart), not zero.
fn portfolio_monthly(monthly: &DataFrame, period: Period) -> PolarsResult<DataFrame> {
    let months: Vec<Period> = (0..12).rev().map(|back| period.plus(-back)).collect();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days: Vec<i32> = months
        .iter()
        .map(|m| (m.first_day() - epoch).num_days() as i32)
        .collect();
    let calendar = DataFrame::new_infer_height(vec![
        Series::new("month".into(), days)
            .cast(&DataType::Date)?
            .into_column(),
    ])?;
    let totals = monthly
        .clone()
        .lazy()
        .group_by([col("period").alias("month")])
        .agg([
            complete_sum("actual_cost").alias("actual"),
            complete_sum("budget_cost").alias("budget"),
            complete_sum("forecast_cost").alias("forecast"),
            col("actual_lines").sum().alias("actual_lines"),
            col("budget_lines").sum().alias("budget_lines"),
            col("forecast_lines").sum().alias("forecast_lines"),
        ]);
    let booked = |figure: &str, lines: &str| {
        when(col(lines).fill_null(lit(0)).gt(lit(0)))
            .then(col(figure))
            .otherwise(lit(NULL).cast(DataType::Decimal(38, 2)))
            .cast(MONEY)
            .alias(figure)
    };
    calendar
        .lazy()
        .join(
            totals,
            [col("month")],
            [col("month")],
            JoinArgs::new(JoinType::Left),
        )
        .select([
            date_lit(period.first_day()).alias("period"),
            col("month"),
            booked("actual", "actual_lines"),
            booked("budget", "budget_lines"),
            booked("forecast", "forecast_lines"),
        ])
        .sort(["month"], SortMultipleOptions::default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(s: &str) -> Period {
        s.parse().unwrap()
    }

    fn dates(name: &str, days: &[Option<&str>]) -> Column {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let values: Vec<Option<i32>> = days
            .iter()
            .map(|d| {
                d.map(|d| {
                    let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
                    (day - epoch).num_days() as i32
                })
            })
            .collect();
        Series::new(name.into(), values)
            .cast(&DataType::Date)
            .unwrap()
            .into_column()
    }

    fn money(name: &str, values: &[Option<&str>]) -> Column {
        Series::new(name.into(), values)
            .cast(&DataType::Decimal(18, 2))
            .unwrap()
            .into_column()
    }

    fn text(name: &str, values: &[&str]) -> Column {
        Series::new(name.into(), values).into_column()
    }

    fn counts(name: &str, values: &[i64]) -> Column {
        Series::new(name.into(), values).into_column()
    }

    /// Monthly lines: (investment, month, actual, budget, forecast, actual lines, budget lines,
    /// forecast lines); an amount of `None` is a month with a line lacking an FX rate.
    type Line = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        i64,
        i64,
        i64,
    );

    const LINES: [Line; 9] = [
        (
            "INV-A",
            "2025-12-01",
            Some("100.00"),
            Some("100.00"),
            Some("0"),
            1,
            1,
            0,
        ),
        (
            "INV-A",
            "2026-09-01",
            Some("110.00"),
            Some("100.00"),
            Some("0"),
            1,
            1,
            0,
        ),
        (
            "INV-A",
            "2026-10-01",
            Some("130.50"),
            Some("100.00"),
            Some("0"),
            1,
            1,
            0,
        ),
        (
            "INV-A",
            "2026-11-01",
            Some("0"),
            Some("100.00"),
            Some("120.00"),
            0,
            1,
            1,
        ),
        (
            "INV-B",
            "2026-10-01",
            Some("50.00"),
            Some("0"),
            Some("0"),
            1,
            0,
            0,
        ),
        (
            "INV-B",
            "2026-11-01",
            Some("0"),
            Some("200.00"),
            Some("0"),
            0,
            1,
            0,
        ),
        ("INV-D", "2026-10-01", None, None, None, 1, 1, 0),
        // INV-F books actuals only, and has no budget_total: no budget, no BAC.
        (
            "INV-F",
            "2026-10-01",
            Some("75.00"),
            Some("0"),
            Some("0"),
            2,
            0,
            0,
        ),
        // INV-G: 35% of a BAC of 1,000.10 is 350.035, which rounds away from zero to 350.04.
        (
            "INV-G",
            "2026-10-01",
            Some("500.00"),
            Some("400.00"),
            Some("0"),
            1,
            1,
            0,
        ),
    ];

    /// (planned, realized) benefits of each of LINES: INV-A gets back part of what it spends by
    /// the period and plans 400.00 for November; the others have none.
    const BENEFITS: [(&str, &str); 9] = [
        ("0", "0"),
        ("100.00", "80.00"),
        ("100.00", "90.00"),
        ("400.00", "0"),
        ("0", "0"),
        ("0", "0"),
        ("0", "0"),
        ("0", "0"),
        ("0", "0"),
    ];

    pub(super) fn inputs() -> FinanceInputs {
        let dates_of: Vec<Option<&str>> = LINES.iter().map(|l| Some(l.1)).collect();
        let monthly = DataFrame::new_infer_height(vec![
            text(
                "investment_id",
                &LINES.iter().map(|l| l.0).collect::<Vec<_>>(),
            ),
            dates("period", &dates_of),
            money(
                "actual_cost",
                &LINES.iter().map(|l| l.2).collect::<Vec<_>>(),
            ),
            money(
                "budget_cost",
                &LINES.iter().map(|l| l.3).collect::<Vec<_>>(),
            ),
            money(
                "forecast_cost",
                &LINES.iter().map(|l| l.4).collect::<Vec<_>>(),
            ),
            counts(
                "actual_lines",
                &LINES.iter().map(|l| l.5).collect::<Vec<_>>(),
            ),
            counts(
                "budget_lines",
                &LINES.iter().map(|l| l.6).collect::<Vec<_>>(),
            ),
            counts(
                "forecast_lines",
                &LINES.iter().map(|l| l.7).collect::<Vec<_>>(),
            ),
            money(
                "planned_benefit",
                &BENEFITS.iter().map(|b| Some(b.0)).collect::<Vec<_>>(),
            ),
            money(
                "realized_benefit",
                &BENEFITS.iter().map(|b| Some(b.1)).collect::<Vec<_>>(),
            ),
            counts(
                "planned_lines",
                &BENEFITS
                    .iter()
                    .map(|b| i64::from(b.0 != "0"))
                    .collect::<Vec<_>>(),
            ),
            counts(
                "realized_lines",
                &BENEFITS
                    .iter()
                    .map(|b| i64::from(b.1 != "0"))
                    .collect::<Vec<_>>(),
            ),
        ])
        .unwrap();
        let investments = DataFrame::new_infer_height(vec![
            text(
                "investment_id",
                &[
                    "INV-A", "INV-B", "INV-C", "INV-D", "INV-E", "INV-F", "INV-G",
                ],
            ),
            text(
                "name",
                &["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Phi", "Gee"],
            ),
            text(
                "category",
                &["grow", "run", "transform", "run", "run", "grow", "grow"],
            ),
            text(
                "value_stream",
                &[
                    "Payments", "Lending", "Payments", "Wealth", "Wealth", "Lending", "Lending",
                ],
            ),
            text(
                "status",
                &[
                    "active", "active", "proposed", "active", "active", "active", "active",
                ],
            ),
            dates(
                "start_date",
                &[
                    Some("2026-01-01"),
                    Some("2025-06-01"),
                    Some("2027-01-01"),
                    None,
                    Some("2026-02-01"),
                    Some("2026-03-01"),
                    Some("2026-03-01"),
                ],
            ),
            money(
                "budget_total",
                &[
                    Some("1200.00"),
                    None,
                    Some("900.00"),
                    Some("500.00"),
                    None,
                    None,
                    Some("1000.10"),
                ],
            ),
            Series::new(
                "discount_rate".into(),
                [None, None, None, None, None, None, Some(0.1)],
            )
            .into_column(),
        ])
        .unwrap();
        let progress = DataFrame::new_infer_height(vec![
            text("investment_id", &["INV-A", "INV-A", "INV-G", "INV-F"]),
            dates(
                "period",
                &[
                    Some("2026-10-01"),
                    Some("2026-09-01"),
                    Some("2026-10-01"),
                    Some("2026-10-01"),
                ],
            ),
            Series::new("percent_complete".into(), [0.30, 0.25, 0.35, 0.5]).into_column(),
        ])
        .unwrap();
        let benefits = DataFrame::new_infer_height(vec![
            text("investment_id", &[]),
            dates("period", &[]),
            text("scenario", &[]),
            text("benefit_type", &[]),
            money("amount_reporting", &[]),
            money("amount_low_reporting", &[]),
            money("amount_high_reporting", &[]),
        ])
        .unwrap();
        FinanceInputs {
            monthly,
            investments,
            progress,
            benefits,
        }
    }

    pub(super) fn settings() -> Settings<'static> {
        static METRICS: std::sync::OnceLock<crate::config::metrics::MetricsConfig> =
            std::sync::OnceLock::new();
        static UTC: std::sync::OnceLock<crate::zone::LocalTime> = std::sync::OnceLock::new();
        Settings {
            default_discount_rate: 0.08,
            reporting_currency: "EUR",
            metrics: METRICS.get_or_init(Default::default),
            zone: UTC.get_or_init(crate::zone::LocalTime::utc),
            lang: Lang::En,
        }
    }

    fn cell(frame: &DataFrame, column: &str, row: usize) -> String {
        let value = frame.column(column).unwrap().get(row).unwrap();
        match value {
            AnyValue::Null => "∅".to_string(),
            AnyValue::String(s) => s.to_string(),
            // AnyValue's Display rounds floats; the exact value is what is asserted.
            AnyValue::Float64(f) => f.to_string(),
            other => other.to_string(),
        }
    }

    #[test]
    fn variance_actual_to_date_and_earned_value_as_of_a_period() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let ids: Vec<String> = (0..f.height())
            .map(|r| cell(&f, "investment_id", r))
            .collect();
        // Every investment is there, INV-C too although it starts after the period.
        assert_eq!(
            ids,
            [
                "INV-A", "INV-B", "INV-C", "INV-D", "INV-E", "INV-F", "INV-G"
            ]
        );
        let row = |c: &str| cell(&f, c, 0);
        assert_eq!(row("actual_month"), "130.50");
        assert_eq!(row("budget_month"), "100.00");
        assert_eq!(row("variance_month"), "30.50");
        assert_eq!(row("variance_month_pct"), "0.305");
        assert_eq!(row("actual_ytd"), "240.50");
        assert_eq!(row("budget_ytd"), "200.00");
        assert_eq!(row("variance_ytd"), "40.50");
        assert_eq!(row("variance_ytd_pct"), "0.2025");
        assert_eq!(row("actual_to_date"), "340.50");
        assert_eq!(row("budget_to_date"), "300.00");
        assert_eq!(row("budget_at_completion"), "1200.00");
        assert_eq!(row("percent_complete"), "0.3");
        assert_eq!(row("earned_value"), "360.00");
        // 360 / 340.5 and 360 / 300.
        assert_eq!(row("cpi"), (360.0_f64 / 340.5).to_string());
        assert_eq!(row("spi"), "1.2");
        assert_eq!(row("notes"), "");
    }

    #[test]
    fn an_investment_is_appraised_from_its_earned_value_and_cash_flows() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let row = |c: &str| cell(&f, c, 0);
        // EV 360.00, AC 340.50, PV 300.00, BAC 1,200.00 (the test above).
        assert_eq!(row("cv"), "19.50");
        assert_eq!(row("sv"), "60.00");
        // EAC = BAC / CPI = 1,200 × 340.50 / 360 = 1,135.00 exactly.
        assert_eq!(row("eac"), "1135.00");
        assert_eq!(row("etc"), "794.50");
        assert_eq!(row("vac"), "65.00");
        assert_eq!(row("tcpi"), (840.0_f64 / 859.5).to_string());
        // Net flows: −100.00 on 2025-12-31, zero months, −30.00 on 2026-09-30 (273 days later),
        // −40.50 on 2026-10-31 (304 days), and the forecast month +280.00 on 2026-11-30 (334).
        let npv =
            -100.0 - 30.0 / 1.08_f64.powf(273.0 / 365.0) - 40.5 / 1.08_f64.powf(304.0 / 365.0)
                + 280.0 / 1.08_f64.powf(334.0 / 365.0);
        assert_eq!(row("discount_rate"), "0.08");
        assert_eq!(row("npv"), format!("{npv:.2}"));
        assert_eq!(
            row("forward_npv"),
            format!("{:.2}", 280.0 / 1.08_f64.powf(30.0 / 365.0))
        );
        // Costs 460.50 and benefits 570.00 in all; 340.50 and 170.00 up to the period.
        assert_eq!(row("roi_lifecycle"), (109.5_f64 / 460.5).to_string());
        assert_eq!(row("roi_to_date"), (-170.5_f64 / 340.5).to_string());
        // Cumulative −100, −130, −170.50, then +109.50 in November, the twelfth month, after
        // 170.50 / 280 of it: day 1 + floor(0.6089 × 30) = the 19th.
        assert_eq!(
            row("payback_months"),
            (11.0 + 170.5_f64 / 280.0).to_string()
        );
        assert_eq!(row("payback_date"), "2026-11-19");
        assert_eq!(row("benefit_realization"), "0.85");
        let irr: f64 = row("irr").parse().unwrap();
        let at_irr = -100.0
            - 30.0 / (1.0 + irr).powf(273.0 / 365.0)
            - 40.5 / (1.0 + irr).powf(304.0 / 365.0)
            + 280.0 / (1.0 + irr).powf(334.0 / 365.0);
        assert!(at_irr.abs() < 1e-7, "XNPV at the IRR is {at_irr}");
        assert_eq!(row("notes"), "");
    }

    #[test]
    fn a_month_without_budget_gives_an_empty_percentage_with_the_reason() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let row = |c: &str| cell(&f, c, 1);
        assert_eq!(row("variance_month"), "50.00");
        assert_eq!(row("variance_month_pct"), "∅");
        assert_eq!(row("variance_ytd_pct"), "∅");
        // No budget_total: BAC is the sum of every budget line, the future one included.
        assert_eq!(row("budget_at_completion"), "200.00");
        assert_eq!(row("earned_value"), "∅");
        assert_eq!(row("cpi"), "∅");
        assert_eq!(
            row("notes"),
            "no budget in 2026-10, so no variance %; no budget this year, so no YTD variance %; \
             no progress reported by 2026-10, so no EV, CPI or SPI; no EV, so no EAC, ETC or VAC; \
             no planned benefits by 2026-10, so no benefit realization; \
             the cash flows never change sign, so no IRR; no benefits, so no ROI; \
             the cumulative net cash flow never turns positive, so no payback"
        );
    }

    #[test]
    fn a_line_without_an_fx_rate_empties_the_totals_instead_of_understating_them() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let row = |c: &str| cell(&f, c, 3);
        assert_eq!(row("actual_month"), "∅");
        assert_eq!(row("actual_ytd"), "∅");
        assert_eq!(row("actual_to_date"), "∅");
        assert_eq!(row("variance_month"), "∅");
        assert_eq!(
            row("notes"),
            "a cost line lacks an FX rate, so actual and budget totals are empty; \
             no progress reported by 2026-10, so no EV, CPI or SPI; no EV, so no EAC, ETC or VAC; \
             no planned benefits by 2026-10, so no benefit realization; \
             a cost or benefit line lacks an FX rate, so no NPV, IRR, ROI or payback"
        );
    }

    #[test]
    fn an_investment_without_cost_lines_or_budget_has_empty_money_figures_with_the_reason() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let row = |c: &str| cell(&f, c, 4);
        assert_eq!(row("investment_id"), "INV-E");
        for figure in [
            "actual_month",
            "budget_month",
            "variance_month",
            "actual_ytd",
            "budget_ytd",
            "variance_ytd",
            "actual_to_date",
            "budget_to_date",
            "budget_at_completion",
        ] {
            assert_eq!(row(figure), "∅", "{figure}");
        }
        assert_eq!(
            row("notes"),
            "no actual cost lines, so no actuals, variance, AC or CPI; \
             no budget cost lines, so no budget, variance or PV; \
             no budget_total and no budget lines, so no BAC, EV, CPI or SPI; \
             no progress reported by 2026-10, so no EV, CPI or SPI; no EV, so no EAC, ETC or VAC; \
             no planned benefits by 2026-10, so no benefit realization; \
             no cost or benefit lines, so no NPV, IRR, ROI or payback"
        );
    }

    #[test]
    fn actuals_without_a_budget_give_no_bac_rather_than_a_bac_of_zero() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        let row = |c: &str| cell(&f, c, 5);
        assert_eq!(row("investment_id"), "INV-F");
        assert_eq!(row("actual_to_date"), "75.00");
        assert_eq!(row("budget_to_date"), "∅");
        assert_eq!(row("budget_at_completion"), "∅");
        assert_eq!(row("earned_value"), "∅");
        assert_eq!(
            row("notes"),
            "no budget cost lines, so no budget, variance or PV; \
             no budget_total and no budget lines, so no BAC, EV, CPI or SPI; \
             no EV, so no EAC, ETC or VAC; no planned benefits by 2026-10, so no benefit realization; \
             the cash flows never change sign, so no IRR; no cash flows after 2026-10, so no forward NPV; \
             no benefits, so no ROI; the cumulative net cash flow never turns positive, so no payback"
        );
    }

    #[test]
    fn earned_value_is_exact_money_rounded_half_away_from_zero() {
        let f = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .investments;
        assert_eq!(f.column("earned_value").unwrap().dtype(), &MONEY);
        assert_eq!(f.column("actual_to_date").unwrap().dtype(), &MONEY);
        let row = |c: &str| cell(&f, c, 6);
        assert_eq!(row("investment_id"), "INV-G");
        assert_eq!(row("earned_value"), "350.04");
        assert_eq!(row("cpi"), (350.04_f64 / 500.0).to_string());
    }

    #[test]
    fn portfolio_months_without_lines_are_empty_and_the_window_is_twelve_months() {
        let m = compute(&inputs(), period("2026-10"), &settings())
            .unwrap()
            .portfolio_monthly;
        assert_eq!(m.height(), 12);
        assert_eq!(cell(&m, "month", 0), "2025-11-01");
        assert_eq!(cell(&m, "month", 11), "2026-10-01");
        assert_eq!(cell(&m, "actual", 0), "∅");
        assert_eq!(cell(&m, "actual", 1), "100.00");
        // No forecast lines before November: no forecast, rather than a forecast of zero.
        assert_eq!(cell(&m, "forecast", 1), "∅");
        // October holds INV-D's line without an FX rate: the total is empty, not understated.
        assert_eq!(cell(&m, "actual", 11), "∅");
        assert_eq!(cell(&m, "budget", 10), "100.00");
    }
}

#[cfg(test)]
mod declaration_tests {
    use super::*;

    #[test]
    fn the_computed_tables_have_exactly_the_declared_columns() {
        let f = compute(
            &super::tests::inputs(),
            "2026-10".parse().unwrap(),
            &super::tests::settings(),
        )
        .unwrap();
        INVESTMENT_FINANCE.check(&f.investments).unwrap();
        PORTFOLIO_MONTHLY.check(&f.portfolio_monthly).unwrap();
    }
}
