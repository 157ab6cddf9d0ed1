//! The flow tables, from each demand's lifecycle as of the period: the value-stream figures,
//! the funnel by stage, the twelve-month trend with the cumulative flow, and the oldest work in
//! progress; with the money of the value streams beside them.
//!
//! In: [`FlowInputs`], the period and the settings. Out: [`FlowTables`], in the columns the
//! family declares.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::Decimal;

use super::demands::{DONE_ORDERS, EXIT_ORDERS, events_as_of, lifecycle, month_end_states};
use super::{FLOW_FUNNEL, FLOW_OLDEST_WIP, FLOW_TREND, FLOW_VALUE_STREAM, KEYS, LEVELS};
use crate::contract::{DEMAND_TYPES, FUNNEL_STAGES};
use crate::labels::explained::{self, SEPARATOR, flow as notes};
use crate::metrics::Settings;
use crate::metrics::columns::{dates, money, money_series, texts};
use crate::metrics::incident_cost::weighted_costs;
use crate::metrics::levels::{Level, at_levels, every_month, join_levels};
use crate::metrics::stats::{
    Window, as_timestamp, count_where, month_index, month_start, percentile, share, twelve_months,
    two_decimals, with_instants,
};
use crate::schedule::Period;

/// The models' rows the flow figures read.
pub struct FlowInputs<'a> {
    pub demands: &'a DataFrame,
    pub events: &'a DataFrame,
    pub intervals: &'a DataFrame,
    pub monthly: &'a DataFrame,
    pub investments: &'a DataFrame,
    pub impact: &'a DataFrame,
}

/// The flow tables of one period.
pub struct FlowTables {
    pub value_stream: DataFrame,
    pub funnel: DataFrame,
    pub trend: DataFrame,
    pub oldest: DataFrame,
}

/// Computes the flow tables as of `period`.
///
/// # Errors
///
/// Polars' error when an input lacks an expected column.
pub fn compute(
    inputs: &FlowInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<FlowTables> {
    let zone = settings.zone;
    let flow = &settings.metrics.flow;
    let window = Window::of(period, zone);
    let events = events_as_of(inputs.events, &window, zone)?;
    let demands = lifecycle(
        inputs.demands,
        &events,
        inputs.intervals,
        &window,
        // Released in the third month before the period or earlier.
        month_start(period.plus(-2)),
        &flow.active_stages,
        zone,
    )?;
    Ok(FlowTables {
        value_stream: value_stream_table(&demands, inputs, period, settings)?,
        funnel: funnel_table(
            &demands,
            &events,
            inputs.intervals,
            &window,
            period,
            flow.conversion_months,
            settings,
        )?,
        trend: trend_table(&demands, &events, period)?,
        oldest: oldest_table(&demands, period, flow.oldest_wip)?,
    })
}

/// Every group of every level: the rows each table of the family has.
fn groups(demands: &DataFrame) -> PolarsResult<DataFrame> {
    at_levels(
        demands.clone().lazy(),
        &LEVELS,
        &KEYS,
        &[len().alias("demands")],
    )
}

fn value_stream_table(
    demands: &DataFrame,
    inputs: &FlowInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<DataFrame> {
    let released = || col("released_in_period");
    let with_lead = || released().and(col("lead_days").is_not_null());
    let mut aggregations = vec![
        count_where(col("proposed_in_period")).alias("proposed"),
        count_where(released()).alias("released"),
    ];
    for kind in DEMAND_TYPES {
        aggregations.push(
            count_where(released().and(col("type").eq(lit(kind))))
                .alias(format!("released_{kind}")),
        );
    }
    for (name, column) in [("lead_time", "lead_days"), ("cycle_time", "cycle_days")] {
        let values = || col(column).filter(released());
        aggregations.extend([
            percentile(values(), 0.5).alias(format!("{name}_p50")),
            percentile(values(), 0.85).alias(format!("{name}_p85")),
            values().mean().alias(format!("{name}_mean")),
        ]);
    }
    let wip_ages = || col("wip_age").filter(col("in_wip"));
    aggregations.extend([
        count_where(col("in_wip")).alias("wip"),
        percentile(wip_ages(), 0.5).alias("wip_age_p50"),
        percentile(wip_ages(), 0.85).alias("wip_age_p85"),
        col("active_days")
            .filter(with_lead())
            .sum()
            .alias("active_sum"),
        col("lead_days").filter(with_lead()).sum().alias("lead_sum"),
        count_where(released().and(col("reworked"))).alias("reworked"),
        count_where(col("review_due")).alias("review_due"),
        count_where(col("review_due").and(col("reviewed"))).alias("reviewed_due"),
        count_where(released().and(col("proposed_utc").is_null())).alias("without_proposed"),
        count_where(released().and(col("development_utc").is_null())).alias("without_development"),
    ]);
    let mut shares: Vec<Expr> = DEMAND_TYPES
        .iter()
        .map(|kind| {
            share(col(format!("released_{kind}")), col("released")).alias(format!("share_{kind}"))
        })
        .collect();
    shares.extend([
        share(col("active_sum"), col("lead_sum")).alias("flow_efficiency"),
        share(col("reworked"), col("released")).alias("rework_rate"),
        share(col("reviewed_due"), col("review_due")).alias("review_share"),
    ]);
    let rounded: Vec<Expr> = [
        "lead_time_p50",
        "lead_time_p85",
        "lead_time_mean",
        "cycle_time_p50",
        "cycle_time_p85",
        "cycle_time_mean",
        "wip_age_p50",
        "wip_age_p85",
    ]
    .iter()
    .map(|c| two_decimals(col(*c)).alias(*c))
    .collect();
    let figures = at_levels(demands.clone().lazy(), &LEVELS, &KEYS, &aggregations)?
        .lazy()
        .with_columns(shares)
        .with_columns(rounded)
        .collect()?;
    let figures = with_money_and_notes(figures, inputs, period, settings)?;
    FLOW_VALUE_STREAM.in_order(figures.lazy(), period)
}

/// A value stream's money in the period; `None` with the reason where it cannot be told.
#[derive(Debug, Clone)]
struct StreamMoney {
    actual: Option<Decimal>,
    run: Option<Decimal>,
    incident: Option<Decimal>,
    notes: Vec<String>,
}

impl StreamMoney {
    fn zero() -> StreamMoney {
        StreamMoney {
            actual: Some(Decimal::ZERO),
            run: Some(Decimal::ZERO),
            incident: Some(Decimal::ZERO),
            notes: Vec::new(),
        }
    }
}

/// The key of the portfolio (`None`) or of a value stream (`Some(name)`, the inner `None` for
/// investments without a value stream).
type StreamKey = Option<Option<String>>;

/// Each investment's value stream and whether it is a run investment.
type Streams = BTreeMap<String, (Option<String>, bool)>;

/// The money of the portfolio and of each value stream in the period.
fn stream_money(
    inputs: &FlowInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<BTreeMap<StreamKey, StreamMoney>> {
    let ids = texts(inputs.investments, "investment_id")?;
    let streams = texts(inputs.investments, "value_stream")?;
    let categories = texts(inputs.investments, "category")?;
    let run_categories = &settings.metrics.decisions.run_categories;
    let stream_of: Streams = ids
        .into_iter()
        .zip(streams)
        .zip(categories)
        .filter_map(|((id, stream), category)| {
            let run = category.is_some_and(|c| run_categories.contains(&c));
            Some((id?, (stream, run)))
        })
        .collect();
    let mut out: BTreeMap<StreamKey, StreamMoney> = BTreeMap::new();
    out.insert(None, StreamMoney::zero());
    for (stream, _) in stream_of.values() {
        out.insert(Some(stream.clone()), StreamMoney::zero());
    }
    // Complete sums: a line without an FX rate empties the total rather than lower it.
    let add = |total: &mut Option<Decimal>, value: Option<Decimal>| {
        *total = total.zip(value).map(|(t, v)| t + v);
    };
    let months = dates(inputs.monthly, "period")?;
    let monthly_ids = texts(inputs.monthly, "investment_id")?;
    let actual = money(inputs.monthly, "actual_cost")?;
    for i in 0..inputs.monthly.height() {
        if months[i] != Some(period.first_day()) {
            continue;
        }
        let found = monthly_ids[i].as_ref().and_then(|id| stream_of.get(id));
        let run = found.is_some_and(|(_, run)| *run);
        let keys = [Some(None), found.map(|(stream, _)| Some(stream.clone()))];
        for key in keys.into_iter().flatten() {
            let entry = out.entry(key).or_insert_with(StreamMoney::zero);
            add(&mut entry.actual, actual[i]);
            if run {
                add(&mut entry.run, actual[i]);
            }
        }
    }
    if inputs.monthly.height() == 0 {
        for entry in out.values_mut() {
            entry.actual = None;
            entry.run = None;
            entry
                .notes
                .push(notes::NO_COST_LINES.get(settings.lang).to_string());
        }
    }
    incident_money(inputs, period, settings, &stream_of, &mut out)?;
    Ok(out)
}

/// Adds each value stream's weighted incident cost of the period to `out`.
fn incident_money(
    inputs: &FlowInputs,
    period: Period,
    settings: &Settings,
    stream_of: &Streams,
    out: &mut BTreeMap<StreamKey, StreamMoney>,
) -> PolarsResult<()> {
    if inputs.impact.height() == 0 {
        for entry in out.values_mut() {
            entry.incident = None;
            entry
                .notes
                .push(notes::NO_INCIDENT_IMPACT.get(settings.lang).to_string());
        }
        return Ok(());
    }
    let costs = weighted_costs(
        inputs.impact,
        &settings.metrics.reliability.severity_weights,
    )?;
    let months = dates(inputs.impact, "period")?;
    let investments = texts(inputs.impact, "investment_id")?;
    let mut unpriced: BTreeMap<StreamKey, usize> = BTreeMap::new();
    for i in 0..inputs.impact.height() {
        if months[i] != Some(period.first_day()) {
            continue;
        }
        let stream = investments[i]
            .as_ref()
            .and_then(|id| stream_of.get(id))
            .map(|(s, _)| Some(s.clone()));
        for key in [Some(None), stream].into_iter().flatten() {
            match costs[i] {
                Some(cost) => {
                    let entry = out.entry(key).or_insert_with(StreamMoney::zero);
                    if let Some(total) = entry.incident.as_mut() {
                        *total += cost;
                    }
                }
                None => *unpriced.entry(key).or_default() += 1,
            }
        }
    }
    for (key, n) in unpriced {
        out.entry(key)
            .or_insert_with(StreamMoney::zero)
            .notes
            .push(explained::counted(
                notes::UNPRICED,
                settings.lang,
                n,
                &period.to_string(),
            ));
    }
    Ok(())
}

/// Adds the money columns and the notes, row by row.
fn with_money_and_notes(
    mut figures: DataFrame,
    inputs: &FlowInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<DataFrame> {
    let money_by_stream = stream_money(inputs, period, settings)?;
    let levels = texts(&figures, "level")?;
    let streams = texts(&figures, "value_stream")?;
    let count = |name: &str| -> PolarsResult<Vec<i64>> {
        let c = figures.column(name)?.cast(&DataType::Int64)?;
        Ok(c.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let released = count("released")?;
    let without_proposed = count("without_proposed")?;
    let without_development = count("without_development")?;
    let rows = figures.height();
    let (mut actual, mut per_demand, mut run, mut incident, mut incident_share) = (
        vec![None; rows],
        vec![None; rows],
        vec![None; rows],
        vec![None; rows],
        vec![None; rows],
    );
    let lang = settings.lang;
    let month = period.to_string();
    let mut notes = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut row_notes: Vec<String> = Vec::new();
        if released[r] == 0 {
            row_notes.push(explained::for_period(notes::NOTHING_RELEASED, lang, &month));
        }
        if without_proposed[r] > 0 {
            row_notes.push(explained::counted(
                notes::WITHOUT_PROPOSED,
                lang,
                without_proposed[r],
                &month,
            ));
        }
        if without_development[r] > 0 {
            row_notes.push(explained::counted(
                notes::WITHOUT_DEVELOPMENT,
                lang,
                without_development[r],
                &month,
            ));
        }
        let key = match levels[r].as_deref() {
            Some("portfolio") => Some(None),
            Some("value_stream") => Some(Some(streams[r].clone())),
            _ => None,
        };
        match key.and_then(|k| money_by_stream.get(&k)) {
            Some(m) => {
                actual[r] = m.actual;
                run[r] = m.run;
                incident[r] = m.incident;
                per_demand[r] = m
                    .actual
                    .filter(|_| released[r] > 0)
                    .map(|a| a / Decimal::from(released[r]));
                incident_share[r] = m
                    .incident
                    .zip(m.run.filter(|r| !r.is_zero()))
                    .and_then(|(i, r)| rust_decimal::prelude::ToPrimitive::to_f64(&(i / r)));
                row_notes.extend(m.notes.iter().cloned());
            }
            None if levels[r].as_deref() == Some("team") => {
                row_notes.push(notes::TEAM_COSTS.get(lang).to_string());
            }
            None => row_notes.push(notes::NO_INVESTMENT.get(lang).to_string()),
        }
        notes.push(row_notes.join(SEPARATOR.get(lang)));
    }
    figures.with_column(money_series("actual_cost_month", actual.into_iter())?)?;
    figures.with_column(money_series(
        "cost_per_released_demand",
        per_demand.into_iter(),
    )?)?;
    figures.with_column(money_series("run_cost_month", run.into_iter())?)?;
    figures.with_column(money_series("incident_cost_month", incident.into_iter())?)?;
    figures.with_column(Column::new(
        "incident_cost_share_of_run_cost".into(),
        incident_share,
    ))?;
    figures.with_column(Column::new("notes".into(), notes))?;
    Ok(figures)
}

/// The funnel: per group and stage, arrivals in the period, the trailing cohort's progress and
/// drop-off, and the times of the visits that ended in the period.
fn funnel_table(
    demands: &DataFrame,
    events: &DataFrame,
    intervals: &DataFrame,
    window: &Window,
    period: Period,
    cohort_months: u32,
    settings: &Settings,
) -> PolarsResult<DataFrame> {
    let keys = demands
        .select(["demand_id", "value_stream", "team"])?
        .lazy();
    let inner = || JoinArgs::new(JoinType::Inner);
    let arrivals = events
        .clone()
        .lazy()
        .filter(col("entered_at").gt_eq(lit(window.start)))
        .join(
            keys.clone(),
            [col("demand_id")],
            [col("demand_id")],
            inner(),
        );
    let entered: Vec<Expr> = FUNNEL_STAGES
        .iter()
        .map(|stage| {
            col("demand_id")
                .filter(col("stage").eq(lit(*stage)))
                .n_unique()
                .cast(DataType::Int64)
                .alias(format!("entered__{stage}"))
        })
        .collect();
    let entered = at_levels(arrivals, &LEVELS, &KEYS, &entered)?;

    let cohort_start = month_start(period.plus(1 - cohort_months as i32));
    let cohort = || col("proposed_at").gt_eq(lit(cohort_start));
    let mut progress = Vec::new();
    for (i, stage) in FUNNEL_STAGES.iter().enumerate() {
        let order = i as i64 + 1;
        progress.push(
            if EXIT_ORDERS.contains(&order) {
                count_where(cohort().and(col("state").eq(lit(*stage))))
            } else {
                count_where(cohort().and(col("furthest").gt_eq(lit(order))))
            }
            .alias(format!("reached__{stage}")),
        );
        for exit in ["rejected", "cancelled"] {
            progress.push(
                count_where(
                    cohort()
                        .and(col("state").eq(lit(exit)))
                        .and(col("furthest").eq(lit(order))),
                )
                .alias(format!("{exit}_here__{stage}")),
            );
        }
    }
    let progress = at_levels(demands.clone().lazy(), &LEVELS, &KEYS, &progress)?;

    let visits = with_instants(
        intervals.select(["demand_id", "stage", "left_at", "days_in_stage"])?,
        &["left_at"],
        settings.zone,
    )?
    .lazy()
    .filter(
        col("left_at")
            .gt_eq(lit(window.start))
            .and(col("left_at").lt(lit(window.end))),
    )
    .join(keys, [col("demand_id")], [col("demand_id")], inner());
    let mut times = Vec::new();
    for stage in FUNNEL_STAGES {
        let days = || col("days_in_stage").filter(col("stage").eq(lit(stage)));
        times.extend([
            two_decimals(percentile(days(), 0.5)).alias(format!("p50__{stage}")),
            two_decimals(percentile(days(), 0.85)).alias(format!("p85__{stage}")),
            two_decimals(days().mean()).alias(format!("mean__{stage}")),
        ]);
    }
    let times = at_levels(visits, &LEVELS, &KEYS, &times)?;

    let wide = join_levels(
        join_levels(
            join_levels(groups(demands)?.lazy(), entered.lazy(), &KEYS),
            progress.lazy(),
            &KEYS,
        ),
        times.lazy(),
        &KEYS,
    );
    let mut parts = Vec::new();
    for (i, stage) in FUNNEL_STAGES.iter().enumerate() {
        let order = i as i64 + 1;
        let next = FUNNEL_STAGES.get(i + 1).filter(|_| order < DONE_ORDERS[1]);
        let conversion = match next {
            Some(next) => share(
                col(format!("reached__{next}")),
                col(format!("reached__{stage}")),
            ),
            None => lit(NULL).cast(DataType::Float64),
        };
        let zero = |name: String| col(name).fill_null(lit(0_i64));
        parts.push(wide.clone().select([
            col("level"),
            col("value_stream"),
            col("team"),
            lit(*stage).alias("stage"),
            lit(order).alias("stage_order"),
            zero(format!("entered__{stage}")).alias("entered"),
            zero(format!("reached__{stage}")).alias("cohort_reached"),
            conversion.alias("conversion_to_next"),
            zero(format!("rejected_here__{stage}")).alias("rejected_here"),
            zero(format!("cancelled_here__{stage}")).alias("cancelled_here"),
            col(format!("p50__{stage}")).alias("stage_time_p50"),
            col(format!("p85__{stage}")).alias("stage_time_p85"),
            col(format!("mean__{stage}")).alias("stage_time_mean"),
        ]));
    }
    let long = concat(parts, UnionArgs::default())?
        .with_column(level_rank())
        .sort(
            ["level_rank", "value_stream", "team", "stage_order"],
            SortMultipleOptions::default().with_nulls_last(true),
        );
    FLOW_FUNNEL.in_order(long, period)
}

/// Orders the levels portfolio, value stream, team.
fn level_rank() -> Expr {
    when(col("level").eq(lit("portfolio")))
        .then(lit(0))
        .when(col("level").eq(lit("value_stream")))
        .then(lit(1))
        .otherwise(lit(2))
        .alias("level_rank")
}

/// The trend levels: [`LEVELS`] by month.
const TREND_LEVELS: [Level; 3] = [
    Level {
        name: "portfolio",
        keys: &["month"],
    },
    Level {
        name: "value_stream",
        keys: &["value_stream", "month"],
    },
    Level {
        name: "team",
        keys: &["value_stream", "team", "month"],
    },
];
const TREND_KEYS: [&str; 3] = ["value_stream", "team", "month"];

/// Twelve rows per group, one per month to the period: arrivals, throughput, lead time and the
/// stages of the demands in the funnel at each month's end (the cumulative flow).
fn trend_table(demands: &DataFrame, events: &DataFrame, period: Period) -> PolarsResult<DataFrame> {
    let months = twelve_months(period);
    let ends: Vec<i64> = months.iter().map(|m| month_start(m.next())).collect();
    let with_month = |column: &str| {
        demands
            .clone()
            .lazy()
            .with_column(month_index(column, &months))
            .filter(col("month").is_not_null())
    };
    let lead = || col("lead_days");
    let released = at_levels(
        with_month("released_at"),
        &TREND_LEVELS,
        &TREND_KEYS,
        &[
            len().cast(DataType::Int64).alias("released"),
            two_decimals(percentile(lead(), 0.5)).alias("lead_time_p50"),
            two_decimals(percentile(lead(), 0.85)).alias("lead_time_p85"),
        ],
    )?;
    let proposed = at_levels(
        with_month("proposed_at"),
        &TREND_LEVELS,
        &TREND_KEYS,
        &[len().cast(DataType::Int64).alias("proposed")],
    )?;
    let states = month_end_states(events, &ends)?.lazy().join(
        demands
            .select(["demand_id", "value_stream", "team"])?
            .lazy(),
        [col("demand_id")],
        [col("demand_id")],
        JoinArgs::new(JoinType::Inner),
    );
    let at = |order: i64| count_where(col("state_order").eq(lit(order)));
    let among = |orders: [i64; 2]| {
        count_where(
            col("state_order")
                .eq(lit(orders[0]))
                .or(col("state_order").eq(lit(orders[1]))),
        )
    };
    let mut flow = Vec::new();
    for (i, stage) in FUNNEL_STAGES[..5].iter().enumerate() {
        flow.push(at(i as i64 + 1).alias(format!("at_{stage}")));
    }
    flow.extend([
        among(DONE_ORDERS).alias("done"),
        among(EXIT_ORDERS).alias("exited"),
    ]);
    let flow = at_levels(states, &TREND_LEVELS, &TREND_KEYS, &flow)?;

    let every_month = every_month(groups(demands)?, &months)?;
    let counts = [
        "proposed",
        "released",
        "at_proposed",
        "at_analysed",
        "at_scheduled",
        "at_in_development",
        "at_in_test",
        "done",
        "exited",
    ];
    let joined = join_levels(
        join_levels(
            join_levels(every_month, released.lazy(), &TREND_KEYS),
            proposed.lazy(),
            &TREND_KEYS,
        ),
        flow.lazy(),
        &TREND_KEYS,
    )
    .with_columns(
        counts
            .iter()
            .map(|c| col(*c).fill_null(lit(0_i64)).alias(*c))
            .collect::<Vec<_>>(),
    )
    .with_column(
        (col("at_proposed")
            + col("at_analysed")
            + col("at_scheduled")
            + col("at_in_development")
            + col("at_in_test"))
        .alias("wip"),
    )
    .with_column(col("month_date").alias("month"))
    .with_column(level_rank())
    .sort(
        ["level_rank", "value_stream", "team", "month"],
        SortMultipleOptions::default().with_nulls_last(true),
    );
    FLOW_TREND.in_order(joined, period)
}

/// The oldest work in progress at the end of the period, oldest first.
fn oldest_table(demands: &DataFrame, period: Period, how_many: u32) -> PolarsResult<DataFrame> {
    let oldest = demands
        .clone()
        .lazy()
        .filter(col("in_wip"))
        .sort(
            ["wip_age", "demand_id"],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .limit(how_many)
        .collect()?;
    let ranks: Vec<i64> = (1..=oldest.height() as i64).collect();
    let oldest = oldest.lazy().with_columns([
        lit(Series::new("rank".into(), ranks)).alias("rank"),
        col("state").alias("stage"),
        as_timestamp(coalesce(&[col("proposed_at"), col("since")])).alias("in_funnel_since"),
        two_decimals(col("wip_age")).alias("age_days"),
    ]);
    FLOW_OLDEST_WIP.in_order(oldest, period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::metrics::MetricsConfig;
    use crate::metrics::stats::date_lit;
    use crate::zone::LocalTime;
    use chrono::NaiveDateTime;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{s} 00:00"), "%Y-%m-%d %H:%M").unwrap()
    }

    /// (demand, stage, entered on) of the test's demands; D8 is proposed after the period.
    const EVENTS: [(&str, &str, &str); 24] = [
        ("D1", "proposed", "2026-01-05"),
        ("D1", "analysed", "2026-01-10"),
        ("D1", "in_development", "2026-02-01"),
        ("D1", "in_test", "2026-02-20"),
        ("D1", "released", "2026-03-05"),
        ("D2", "proposed", "2026-02-01"),
        ("D2", "in_development", "2026-02-10"),
        ("D2", "in_test", "2026-02-20"),
        ("D2", "in_development", "2026-02-25"),
        ("D2", "in_test", "2026-03-01"),
        ("D2", "released", "2026-03-10"),
        ("D3", "proposed", "2026-03-02"),
        ("D3", "analysed", "2026-03-20"),
        ("D4", "proposed", "2025-12-01"),
        ("D4", "rejected", "2026-01-15"),
        ("D5", "proposed", "2026-02-15"),
        ("D5", "in_development", "2026-03-25"),
        ("D6", "proposed", "2025-10-01"),
        ("D6", "in_development", "2025-11-01"),
        ("D6", "released", "2025-12-01"),
        ("D6", "reviewed", "2026-01-10"),
        ("D7", "proposed", "2025-09-01"),
        ("D7", "released", "2025-11-15"),
        ("D8", "proposed", "2026-04-02"),
    ];

    /// (demand, type, value stream, team).
    const DEMANDS: [(&str, &str, &str, &str); 8] = [
        ("D1", "feature", "Payments", "Core"),
        ("D2", "defect", "Payments", "Mobile"),
        ("D3", "feature", "Lending", "Core"),
        ("D4", "risk", "Payments", "Core"),
        ("D5", "feature", "Payments", "Core"),
        ("D6", "debt", "Lending", "Core"),
        ("D7", "feature", "Payments", "Mobile"),
        ("D8", "feature", "Payments", "Core"),
    ];

    fn order(stage: &str) -> i64 {
        FUNNEL_STAGES.iter().position(|s| *s == stage).unwrap() as i64 + 1
    }

    fn demands() -> DataFrame {
        df!(
            "demand_id" => DEMANDS.map(|d| d.0),
            "type" => DEMANDS.map(|d| d.1),
            "investment_id" => DEMANDS.map(|_| None::<&str>),
            "value_stream" => DEMANDS.map(|d| d.2),
            "team" => DEMANDS.map(|d| d.3),
            "title" => DEMANDS.map(|d| format!("Demand {}", d.0)),
        )
        .unwrap()
    }

    fn events() -> DataFrame {
        df!(
            "demand_id" => EVENTS.map(|e| e.0),
            "stage" => EVENTS.map(|e| e.1),
            "stage_order" => EVENTS.map(|e| order(e.1) as i32),
            "entered_at" => EVENTS.map(|e| at(e.2)),
        )
        .unwrap()
    }

    /// What mart_demand_stage_intervals gives for the events (in UTC, days are wall-clock days).
    fn intervals() -> DataFrame {
        let mut rows: Vec<(&str, &str, NaiveDateTime, Option<NaiveDateTime>, bool)> = Vec::new();
        for (i, (demand, stage, on)) in EVENTS.iter().enumerate() {
            let next = EVENTS.get(i + 1).filter(|n| n.0 == *demand);
            let back = next.is_some_and(|n| order(stage) <= 7 && order(n.1) < order(stage));
            rows.push((demand, stage, at(on), next.map(|n| at(n.2)), back));
        }
        df!(
            "demand_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "stage" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "entered_at" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "left_at" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "days_in_stage" => rows.iter().map(|r| r.3.map(|l| (l - r.2).num_seconds() as f64 / 86_400.0)).collect::<Vec<_>>(),
            "is_back_transition" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn money(values: &[Option<i128>]) -> Column {
        Series::new("x".into(), values.to_vec())
            .into_decimal(18, 2)
            .unwrap()
            .into_column()
    }

    fn compute_march() -> FlowTables {
        let investments = df!(
            "investment_id" => ["INV-1", "INV-2", "INV-3"],
            "value_stream" => ["Payments", "Payments", "Lending"],
            "category" => ["run", "grow", "transform"],
        )
        .unwrap();
        let march = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let february = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        let mut monthly = df!(
            "investment_id" => ["INV-1", "INV-2", "INV-3"],
            "period" => [march, march, february],
        )
        .unwrap();
        monthly
            .with_column(
                money(&[Some(100_000), Some(50_000), Some(30_000)]).with_name("actual_cost".into()),
            )
            .unwrap();
        let mut impact = df!(
            "investment_id" => [Some("INV-1"), Some("INV-3"), None],
            "severity" => [2_i64, 1, 1],
            "period" => [march, march, march],
        )
        .unwrap();
        impact
            .with_column(
                money(&[Some(20_000), Some(5_000), Some(1_000)]).with_name("downtime_cost".into()),
            )
            .unwrap();
        let (demands, events, intervals) = (demands(), events(), intervals());
        let metrics = MetricsConfig::default();
        let zone = LocalTime::utc();
        let settings = Settings {
            default_discount_rate: 0.08,
            reporting_currency: "EUR",
            metrics: &metrics,
            zone: &zone,
            lang: crate::labels::Lang::En,
        };
        let inputs = FlowInputs {
            demands: &demands,
            events: &events,
            intervals: &intervals,
            monthly: &monthly,
            investments: &investments,
            impact: &impact,
        };
        compute(&inputs, "2026-03".parse().unwrap(), &settings).unwrap()
    }

    use crate::metrics::test_frames::{float, row, value as get};

    #[test]
    fn value_stream_figures_of_the_portfolio_are_those_worked_out_by_hand() {
        let tables = compute_march();
        let p = row(&tables.value_stream, col("level").eq(lit("portfolio")));
        let count = |c: &str| get(&p, c).extract::<i64>().unwrap();
        assert_eq!(count("proposed"), 1, "D3 arrived in March");
        assert_eq!(count("released"), 2, "D1 and D2");
        assert_eq!(
            (count("released_feature"), count("released_defect")),
            (1, 1)
        );
        assert_eq!(float(&p, "share_feature"), Some(0.5));
        // Lead times 59 (Jan 5 to Mar 5) and 37 days (Feb 1 to Mar 10).
        assert_eq!(float(&p, "lead_time_p50"), Some(48.0));
        assert_eq!(float(&p, "lead_time_p85"), Some(55.7));
        assert_eq!(float(&p, "lead_time_mean"), Some(48.0));
        // Cycle times 32 (Feb 1 to Mar 5) and 28 days (Feb 10 to Mar 10).
        assert_eq!(float(&p, "cycle_time_p50"), Some(30.0));
        assert_eq!(float(&p, "cycle_time_p85"), Some(31.4));
        // In progress at the end of March: D3 (30 days since Mar 2), D5 (45 days since Feb 15).
        assert_eq!(count("wip"), 2);
        assert_eq!(float(&p, "wip_age_p50"), Some(37.5));
        assert_eq!(float(&p, "wip_age_p85"), Some(42.75));
        // Active days 32 + 28 over lead time 59 + 37.
        assert_eq!(float(&p, "flow_efficiency"), Some(60.0 / 96.0));
        assert_eq!(
            float(&p, "rework_rate"),
            Some(0.5),
            "D2 went back to development"
        );
        // Released three months before or earlier: D6 (reviewed) and D7 (not).
        assert_eq!(float(&p, "review_share"), Some(0.5));
        // Money: 1,000 + 500 spent in March, 1,000 of it on a run investment; incident cost
        // 200 × 0.5 + 50 × 1 + 10 × 1.
        let money = |c: &str| get(&p, c).to_string();
        assert_eq!(money("actual_cost_month"), "1500.00");
        assert_eq!(money("cost_per_released_demand"), "750.00");
        assert_eq!(money("run_cost_month"), "1000.00");
        assert_eq!(money("incident_cost_month"), "160.00");
        assert_eq!(float(&p, "incident_cost_share_of_run_cost"), Some(0.16));
    }

    #[test]
    fn value_streams_and_teams_get_their_own_rows_and_teams_no_money() {
        let tables = compute_march();
        let vs = &tables.value_stream;
        let lending = row(
            vs,
            col("level")
                .eq(lit("value_stream"))
                .and(col("value_stream").eq(lit("Lending"))),
        );
        assert_eq!(get(&lending, "released").extract::<i64>(), Some(0));
        assert_eq!(get(&lending, "wip").extract::<i64>(), Some(1));
        assert_eq!(float(&lending, "wip_age_p50"), Some(30.0));
        assert_eq!(get(&lending, "actual_cost_month").to_string(), "0.00");
        assert_eq!(get(&lending, "cost_per_released_demand"), AnyValue::Null);
        assert_eq!(get(&lending, "incident_cost_month").to_string(), "50.00");
        let team = row(
            vs,
            col("level")
                .eq(lit("team"))
                .and(col("value_stream").eq(lit("Payments")))
                .and(col("team").eq(lit("Mobile"))),
        );
        assert_eq!(float(&team, "lead_time_p50"), Some(37.0));
        assert_eq!(get(&team, "actual_cost_month"), AnyValue::Null);
        assert!(get(&team, "notes").to_string().contains("not per team"));
        // Portfolio, two value streams, three teams.
        assert_eq!(vs.height(), 6);
    }

    #[test]
    fn the_funnel_counts_arrivals_the_cohorts_progress_drop_off_and_stage_times() {
        let tables = compute_march();
        let stage = |name: &str| {
            row(
                &tables.funnel,
                col("level")
                    .eq(lit("portfolio"))
                    .and(col("stage").eq(lit(name))),
            )
        };
        let count = |f: &DataFrame, c: &str| get(f, c).extract::<i64>().unwrap();
        let reached: Vec<i64> = FUNNEL_STAGES
            .iter()
            .map(|s| count(&stage(s), "cohort_reached"))
            .collect();
        assert_eq!(reached, [7, 6, 5, 5, 4, 4, 1, 1, 0]);
        assert_eq!(
            float(&stage("proposed"), "conversion_to_next"),
            Some(6.0 / 7.0)
        );
        assert_eq!(float(&stage("released"), "conversion_to_next"), Some(0.25));
        assert_eq!(float(&stage("reviewed"), "conversion_to_next"), None);
        assert_eq!(count(&stage("proposed"), "rejected_here"), 1, "D4");
        let entered: Vec<i64> = FUNNEL_STAGES
            .iter()
            .map(|s| count(&stage(s), "entered"))
            .collect();
        assert_eq!(entered, [1, 1, 0, 1, 1, 2, 0, 0, 0]);
        // Visits that ended in March: in_test 13 (D1) and 9 days (D2); proposed 18 (D3) and 38
        // (D5); in_development 4 (D2, before going back to test).
        let test = stage("in_test");
        assert_eq!(float(&test, "stage_time_p50"), Some(11.0));
        assert_eq!(float(&test, "stage_time_p85"), Some(12.4));
        assert_eq!(float(&stage("proposed"), "stage_time_p85"), Some(35.0));
        assert_eq!(
            float(&stage("in_development"), "stage_time_mean"),
            Some(4.0)
        );
    }

    #[test]
    fn the_trend_holds_twelve_months_with_the_cumulative_flow_at_each_end() {
        let tables = compute_march();
        let portfolio = tables
            .trend
            .clone()
            .lazy()
            .filter(col("level").eq(lit("portfolio")))
            .collect()
            .unwrap();
        assert_eq!(portfolio.height(), 12);
        let month = |m: u32| {
            row(
                &portfolio,
                col("month").eq(date_lit(
                    chrono::NaiveDate::from_ymd_opt(2026, m, 1).unwrap(),
                )),
            )
        };
        let count = |f: &DataFrame, c: &str| get(f, c).extract::<i64>().unwrap();
        let march = month(3);
        assert_eq!(
            [
                "at_proposed",
                "at_analysed",
                "at_in_development",
                "done",
                "exited",
                "wip"
            ]
            .map(|c| count(&march, c)),
            [0, 1, 1, 4, 1, 2]
        );
        let february = month(2);
        assert_eq!(
            [
                "at_proposed",
                "at_in_development",
                "at_in_test",
                "done",
                "exited",
                "wip"
            ]
            .map(|c| count(&february, c)),
            [1, 1, 1, 2, 1, 3]
        );
        assert_eq!(float(&march, "lead_time_p85"), Some(55.7));
        assert_eq!(count(&month(1), "released"), 0);
    }

    #[test]
    fn the_oldest_work_in_progress_comes_first() {
        let tables = compute_march();
        let oldest = &tables.oldest;
        assert_eq!(oldest.height(), 2);
        let ids: Vec<Option<&str>> = oldest
            .column("demand_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("D5"), Some("D3")]);
        let ages: Vec<Option<f64>> = oldest
            .column("age_days")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ages, [Some(45.0), Some(30.0)]);
        assert_eq!(get(oldest, "stage").to_string(), "\"in_development\"");
    }

    #[test]
    fn lead_time_across_a_daylight_saving_change_is_measured_on_instants() {
        // Proposed at noon the day before Berlin's clocks go forward, released at noon the day
        // after: 23 hours, 0.96 days, although the wall clocks show a whole day.
        let stamp = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let events = df!(
            "demand_id" => ["X", "X"],
            "stage" => ["proposed", "released"],
            "stage_order" => [1_i32, 6],
            "entered_at" => [stamp("2026-03-28 12:00"), stamp("2026-03-29 12:00")],
        )
        .unwrap();
        let demands = df!(
            "demand_id" => ["X"],
            "type" => ["feature"],
            "value_stream" => ["Payments"],
            "team" => ["Core"],
            "title" => ["Across the change"],
        )
        .unwrap();
        let intervals = df!(
            "demand_id" => ["X", "X"],
            "stage" => ["proposed", "released"],
            "left_at" => [Some(stamp("2026-03-29 12:00")), None],
            "days_in_stage" => [Some(23.0 / 24.0), None],
            "is_back_transition" => [false, false],
        )
        .unwrap();
        let berlin = LocalTime::new("Europe/Berlin", (2026, 2026)).unwrap();
        let window = Window::of("2026-03".parse().unwrap(), &berlin);
        let events = events_as_of(&events, &window, &berlin).unwrap();
        let out = lifecycle(&demands, &events, &intervals, &window, 0, &[], &berlin).unwrap();
        let lead = out
            .column("lead_days")
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap();
        assert!((lead - 23.0 / 24.0).abs() < 1e-12, "{lead}");
    }
}
