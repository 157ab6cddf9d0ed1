//! The statistics and time arithmetic the flow, delivery and reliability figures share:
//! Excel's PERCENTILE.INC, durations on instants in days or hours with two decimals, and the
//! timestamps of a frame as wall-clock microseconds and as instants.
//!
//! In: Polars expressions and frames with TIMESTAMP columns (wall-clock times in the configured
//! zone). Out: expressions and columns of plain numbers.

use polars::prelude::*;

use crate::schedule::Period;
use crate::zone::LocalTime;

/// Microseconds in a day and in an hour.
pub const DAY: f64 = 86_400_000_000.0;
pub const HOUR: f64 = 3_600_000_000.0;

/// Excel's PERCENTILE.INC of `expr` at `p` (0 to 1): linear interpolation between the closest
/// ranks, rank (n − 1)·p from 0. Empty over no values.
pub fn percentile(expr: Expr, p: f64) -> Expr {
    expr.quantile(lit(p), QuantileMethod::Linear)
}

/// A figure rounded to two decimals, half away from zero (as Excel's ROUND).
pub fn two_decimals(expr: Expr) -> Expr {
    expr.round(2, RoundMode::HalfAwayFromZero)
}

/// A share `numerator / denominator` as a float; empty when the denominator is zero.
pub fn share(numerator: Expr, denominator: Expr) -> Expr {
    let d = denominator.cast(DataType::Float64);
    when(d.clone().eq(lit(0.0)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(numerator.cast(DataType::Float64) / d)
}

/// Counts the rows where `condition` holds (as a 64-bit integer, 0 over none).
pub fn count_where(condition: Expr) -> Expr {
    condition.cast(DataType::Int64).sum()
}

/// Excel's PERCENTILE.INC of `values` at `p`, for figures computed row by row; `None` over no
/// values. Sorts `values`.
pub fn percentile_inc(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() - 1) as f64 * p;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    Some(values[below] + (rank - below as f64) * (values[above] - values[below]))
}

/// Replaces each of `columns` (TIMESTAMP, wall-clock times in the configured zone) by its
/// wall-clock microseconds since 1970 (Int64, for comparing with month boundaries) and adds
/// `<column>_utc`, the instant it names (for durations across daylight-saving changes).
///
/// # Errors
///
/// Polars' error when a column is missing or is not a timestamp.
pub fn with_instants(
    mut frame: DataFrame,
    columns: &[&str],
    zone: &LocalTime,
) -> PolarsResult<DataFrame> {
    for name in columns {
        let local = frame
            .column(name)?
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            .cast(&DataType::Int64)?;
        let instants = local
            .i64()?
            .apply_values(|v| zone.instant(v))
            .with_name(format!("{name}_utc").into());
        frame.with_column(local)?;
        frame.with_column(instants.into_column())?;
    }
    Ok(frame)
}

/// Wall-clock microseconds since 1970 of a moment, for comparing with [`with_instants`]' columns.
pub fn micros(moment: chrono::NaiveDateTime) -> i64 {
    moment.and_utc().timestamp_micros()
}

/// The period's boundaries as wall-clock microseconds, and its end as an instant.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub end_utc: i64,
}

impl Window {
    /// The wall-clock span of `period` in the configured zone.
    pub fn of(period: Period, zone: &LocalTime) -> Window {
        let end = month_start(period.next());
        Window {
            start: month_start(period),
            end,
            end_utc: zone.instant(end),
        }
    }
}

/// Midnight of the first day of `period`, in wall-clock microseconds.
pub fn month_start(period: Period) -> i64 {
    micros(period.first_day().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The index into `months` of the month a wall-clock microseconds column falls in, as a UInt32
/// column `month`; empty outside them.
pub fn month_index(column: &str, months: &[Period]) -> Expr {
    let mut index = lit(NULL).cast(DataType::UInt32);
    for (k, month) in months.iter().enumerate().rev() {
        index = when(
            col(column)
                .gt_eq(lit(month_start(*month)))
                .and(col(column).lt(lit(month_start(month.next())))),
        )
        .then(lit(k as u32))
        .otherwise(index);
    }
    index.alias("month")
}

/// The twelve months to `period`, the oldest first.
pub fn twelve_months(period: Period) -> Vec<Period> {
    (0..12).map(|k| period.plus(k - 11)).collect()
}

/// A date literal (the `period` column of every metric table, month columns).
pub fn date_lit(day: chrono::NaiveDate) -> Expr {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    lit((day - epoch).num_days() as i32).cast(DataType::Date)
}

/// An Int64 column of wall-clock microseconds shown again as a TIMESTAMP.
pub fn as_timestamp(expr: Expr) -> Expr {
    expr.cast(DataType::Datetime(TimeUnit::Microseconds, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_inc_interpolates_between_ranks_as_excel_does() {
        // Excel: PERCENTILE.INC({1,2,3,4}, 0.85) = 3.55 (rank 2.55 from 0).
        assert_eq!(percentile_inc(&mut [4.0, 1.0, 3.0, 2.0], 0.85), Some(3.55));
        assert_eq!(percentile_inc(&mut [4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(percentile_inc(&mut [7.0], 0.85), Some(7.0));
        assert_eq!(percentile_inc(&mut [], 0.5), None);
        let frame = df!("x" => [4.0, 1.0, 3.0, 2.0]).unwrap();
        let out = frame
            .lazy()
            .select([
                percentile(col("x"), 0.85).alias("p85"),
                percentile(col("x"), 0.5).alias("p50"),
            ])
            .collect()
            .unwrap();
        let p85 = out.column("p85").unwrap().f64().unwrap().get(0).unwrap();
        assert!((p85 - 3.55).abs() < 1e-12, "{p85}");
        assert_eq!(out.column("p50").unwrap().f64().unwrap().get(0), Some(2.5));
    }

    #[test]
    fn timestamps_become_wall_clock_and_instant_microseconds() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let frame = df!(
            "opened_at" => [at("2026-10-25 01:00"), at("2026-03-29 01:00")],
            "closed_at" => [at("2026-10-25 04:00"), at("2026-03-29 04:00")],
        )
        .unwrap();
        let berlin = LocalTime::new("Europe/Berlin", (2026, 2026)).unwrap();
        let out = with_instants(frame, &["opened_at", "closed_at"], &berlin).unwrap();
        let hours = out
            .lazy()
            .select([
                ((col("closed_at_utc") - col("opened_at_utc")).cast(DataType::Float64) / lit(HOUR))
                    .alias("hours"),
            ])
            .collect()
            .unwrap();
        let hours: Vec<Option<f64>> = hours
            .column("hours")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        // Clocks go back in October (four hours pass) and forward in March (two hours pass).
        assert_eq!(hours, [Some(4.0), Some(2.0)]);
    }
}
