//! Reading a frame's column as plain Rust values, for the computations that go row by row
//! (valuation, simulation, control totals) rather than through Polars expressions.
//!
//! In: a frame and a column name. Out: one `Option` per row.

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

/// A text column (any type, cast to text).
pub fn texts(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let c = frame.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|s| s.map(String::from)).collect())
}

/// A numeric column as floats.
pub fn floats(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let c = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

/// A money column as exact decimals of two places.
pub fn money(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<Decimal>>> {
    let c = frame.column(name)?.cast(&DataType::Decimal(38, 2))?;
    Ok(c.decimal()?
        .physical()
        .iter()
        .map(|v| v.and_then(|cents| Decimal::try_from_i128_with_scale(cents, 2).ok()))
        .collect())
}

/// A date column as dates.
pub fn dates(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<NaiveDate>>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let c = frame.column(name)?.cast(&DataType::Int32)?;
    Ok(c.i32()?
        .iter()
        .map(|d| d.map(|d| epoch + chrono::Duration::days(i64::from(d))))
        .collect())
}

/// `value` rounded once to cents, half away from zero (as Excel's ROUND).
pub fn cents(value: Decimal) -> Decimal {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    v
}

/// A money column (DECIMAL(18,2)) of `values`, each rounded to cents.
///
/// # Errors
///
/// Polars' error when a value does not fit DECIMAL(18,2).
pub fn money_series(
    name: &str,
    values: impl Iterator<Item = Option<Decimal>>,
) -> PolarsResult<Column> {
    let cents: Vec<Option<i128>> = values.map(|v| v.map(|d| cents(d).mantissa())).collect();
    Ok(Series::new(name.into(), cents)
        .into_decimal(18, 2)?
        .into_column())
}
