//! Each demand as of a period, from its funnel events: when it was first proposed, entered
//! development and was released, where it stands at the period's end (and at each of the twelve
//! month ends before), how long it has been in the funnel, whether it went back to an earlier
//! stage before its release and how long it spent in the active stages.
//!
//! In: `stg_demands`, `stg_demand_events` and `mart_demand_stage_intervals`, the period and the
//! configured zone. Out: one row per demand with an event by the period's end ([`lifecycle`]),
//! and its stage at month ends ([`month_end_states`]). Events after the period are ignored, so a
//! rerun of an old period gives the figures that period had.

use polars::prelude::*;

use crate::metrics::stats::{DAY, Window, count_where, with_instants};
use crate::zone::LocalTime;

/// The funnel stage orders of work in progress (proposed to in_test), released or reviewed, and
/// the exits.
pub const LAST_WIP_ORDER: i64 = 5;
pub const DONE_ORDERS: [i64; 2] = [6, 7];
pub const EXIT_ORDERS: [i64; 2] = [8, 9];

/// The events up to the end of the window, with `entered_at` as wall-clock microseconds and
/// `entered_at_utc` as an instant, sorted by demand, time and stage order.
///
/// # Errors
///
/// Polars' error when the events lack a column.
pub fn events_as_of(
    events: &DataFrame,
    window: &Window,
    zone: &LocalTime,
) -> PolarsResult<DataFrame> {
    let events = events
        .select(["demand_id", "stage", "stage_order", "entered_at"])?
        .lazy()
        .with_column(col("stage_order").cast(DataType::Int64))
        .collect()?;
    with_instants(events, &["entered_at"], zone)?
        .lazy()
        .filter(col("entered_at").lt(lit(window.end)))
        .sort(
            ["demand_id", "entered_at", "stage_order"],
            SortMultipleOptions::default(),
        )
        .collect()
}

/// One row per demand with an event by the window's end: `demand_id`, `type`, `value_stream`,
/// `team`, `title`, `since`, `proposed_at`, `released_at` (wall-clock microseconds) and their
/// instants, `reviewed`, `furthest` (the furthest funnel stage order reached), `state` and
/// `state_order` (its latest event), `in_wip`, `wip_age`, `lead_days`, `cycle_days`,
/// `released_in_period`, `proposed_in_period`, `review_due`, `reworked` and `active_days`.
///
/// # Errors
///
/// Polars' error when an input lacks a column.
pub fn lifecycle(
    demands: &DataFrame,
    events: &DataFrame,
    intervals: &DataFrame,
    window: &Window,
    review_cutoff: i64,
    active_stages: &[String],
    zone: &LocalTime,
) -> PolarsResult<DataFrame> {
    let stage_is = |stage: &str| col("stage").eq(lit(stage));
    let first = |stage: &str, column: &str| col(column).filter(stage_is(stage)).min();
    let latest = |column: &str| {
        col(column)
            .sort_by(
                [col("entered_at"), col("stage_order")],
                SortMultipleOptions::default(),
            )
            .last()
    };
    let per_demand = events
        .clone()
        .lazy()
        .group_by([col("demand_id")])
        .agg([
            col("entered_at").min().alias("since"),
            col("entered_at_utc").min().alias("since_utc"),
            first("proposed", "entered_at").alias("proposed_at"),
            first("proposed", "entered_at_utc").alias("proposed_utc"),
            first("in_development", "entered_at_utc").alias("development_utc"),
            first("released", "entered_at").alias("released_at"),
            first("released", "entered_at_utc").alias("released_utc"),
            stage_is("reviewed").any(true).alias("reviewed"),
            col("stage_order")
                .filter(col("stage_order").lt_eq(lit(7_i64)))
                .max()
                .alias("furthest"),
            latest("stage").alias("state"),
            latest("stage_order").alias("state_order"),
        ])
        .collect()?;
    let before_release = before_release(intervals, &per_demand, active_stages, zone)?;
    let in_window = |column: &str| {
        col(column)
            .gt_eq(lit(window.start))
            .and(col(column).lt(lit(window.end)))
    };
    let days_between =
        |to: &str, from: &str| (col(to) - col(from)).cast(DataType::Float64) / lit(DAY);
    let left = || JoinArgs::new(JoinType::Left);
    per_demand
        .lazy()
        .join(
            demands
                .select(["demand_id", "type", "value_stream", "team", "title"])?
                .lazy(),
            [col("demand_id")],
            [col("demand_id")],
            left(),
        )
        .join(
            before_release.lazy(),
            [col("demand_id")],
            [col("demand_id")],
            left(),
        )
        .with_columns([
            days_between("released_utc", "proposed_utc").alias("lead_days"),
            days_between("released_utc", "development_utc").alias("cycle_days"),
            in_window("released_at").alias("released_in_period"),
            in_window("proposed_at").alias("proposed_in_period"),
            col("state_order")
                .lt_eq(lit(LAST_WIP_ORDER))
                .alias("in_wip"),
            col("released_at")
                .lt(lit(review_cutoff))
                .alias("review_due"),
            col("reworked").fill_null(lit(false)),
            col("active_days").fill_null(lit(0.0)),
        ])
        .with_column(
            when(col("in_wip"))
                .then(
                    (lit(window.end_utc) - coalesce(&[col("proposed_utc"), col("since_utc")]))
                        .cast(DataType::Float64)
                        / lit(DAY),
                )
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("wip_age"),
        )
        .sort(["demand_id"], SortMultipleOptions::default())
        .collect()
}

/// Per released demand: whether it moved back to an earlier funnel stage before its release
/// (`reworked`) and its days in the active stages before it (`active_days`), from the visits that
/// ended by the release.
fn before_release(
    intervals: &DataFrame,
    per_demand: &DataFrame,
    active_stages: &[String],
    zone: &LocalTime,
) -> PolarsResult<DataFrame> {
    let visits = intervals.select([
        "demand_id",
        "stage",
        "left_at",
        "days_in_stage",
        "is_back_transition",
    ])?;
    let visits = with_instants(visits, &["left_at"], zone)?;
    let active = active_stages.iter().fold(lit(false), |any, stage| {
        any.or(col("stage").eq(lit(stage.as_str())))
    });
    visits
        .lazy()
        .join(
            per_demand
                .select(["demand_id", "released_at"])?
                .lazy()
                .filter(col("released_at").is_not_null()),
            [col("demand_id")],
            [col("demand_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("left_at")
                .is_not_null()
                .and(col("left_at").lt_eq(col("released_at"))),
        )
        .group_by([col("demand_id")])
        .agg([
            count_where(col("is_back_transition"))
                .gt(lit(0_i64))
                .alias("reworked"),
            col("days_in_stage")
                .filter(active)
                .sum()
                .alias("active_days"),
        ])
        .collect()
}

/// Each demand's stage order at the end of each month of `ends` (wall-clock microseconds, in
/// order): `demand_id`, `month` (the index into `ends`) and `state_order`, for the demands with an
/// event by then. `events` must be sorted as [`events_as_of`] sorts them.
///
/// # Errors
///
/// Polars' error when the events lack a column.
pub fn month_end_states(events: &DataFrame, ends: &[i64]) -> PolarsResult<DataFrame> {
    let ids = events.column("demand_id")?.str()?;
    let entered = events.column("entered_at")?.i64()?;
    let orders = events.column("stage_order")?.i64()?;
    let mut out_ids: Vec<&str> = Vec::new();
    let mut out_months: Vec<u32> = Vec::new();
    let mut out_states: Vec<i64> = Vec::new();
    let mut row = 0;
    let rows = events.height();
    while row < rows {
        let id = ids.get(row);
        let mut next = row;
        while next < rows && ids.get(next) == id {
            next += 1;
        }
        // The demand's events are rows row..next, in time order: walk the month ends along them.
        let mut at = row;
        let mut state: Option<i64> = None;
        for (month, end) in ends.iter().enumerate() {
            while at < next && entered.get(at).is_some_and(|t| t < *end) {
                state = orders.get(at).or(state);
                at += 1;
            }
            if let (Some(id), Some(state)) = (id, state) {
                out_ids.push(id);
                out_months.push(month as u32);
                out_states.push(state);
            }
        }
        row = next;
    }
    DataFrame::new_infer_height(vec![
        Column::new("demand_id".into(), out_ids),
        Column::new("month".into(), out_months),
        Column::new("state_order".into(), out_states),
    ])
}
