//! Incident cost: business-impact minutes × the application's downtime cost per minute × the
//! configured weight of the incident's severity, in exact money. The reliability figures show it
//! per application and investment; the value-stream figures set it against the run cost.
//!
//! In: `mart_incident_impact_monthly` (one row per incident and month, with `downtime_cost`, the
//! exact cost of its minutes before weighting) and the severity weights. Out: each row's weighted
//! cost, unrounded, so that a total is rounded once where it is made.

use std::collections::BTreeMap;
use std::str::FromStr;

use polars::prelude::*;
use rust_decimal::Decimal;

use super::columns::money;

/// The weighted cost of every row of `impact`, exact (not yet rounded to cents). A row is empty
/// when its application has no downtime cost per minute, or its severity has no weight.
///
/// # Errors
///
/// Polars' error when `impact` lacks `downtime_cost` or `severity`.
pub fn weighted_costs(
    impact: &DataFrame,
    weights: &BTreeMap<String, f64>,
) -> PolarsResult<Vec<Option<Decimal>>> {
    // The weight as written in the configuration ("0.05"), not as the nearest double.
    let weights: BTreeMap<i64, Decimal> = weights
        .iter()
        .filter_map(|(severity, weight)| {
            Some((
                severity.parse().ok()?,
                Decimal::from_str(&weight.to_string()).ok()?,
            ))
        })
        .collect();
    let cost = money(impact, "downtime_cost")?;
    let severity = impact.column("severity")?.cast(&DataType::Int64)?;
    let severity = severity.i64()?;
    Ok(cost
        .into_iter()
        .zip(severity.iter())
        .map(|(cost, severity)| Some(cost? * *weights.get(&severity?)?))
        .collect())
}

/// The severities of `impact` that have no weight, for the notes.
///
/// # Errors
///
/// Polars' error when `impact` lacks `severity`.
pub fn unweighted_severities(
    impact: &DataFrame,
    weights: &BTreeMap<String, f64>,
) -> PolarsResult<Vec<i64>> {
    let severity = impact.column("severity")?.cast(&DataType::Int64)?;
    let mut missing: Vec<i64> = severity
        .i64()?
        .iter()
        .flatten()
        .filter(|s| !weights.contains_key(&s.to_string()))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_minute_costs_the_applications_rate_times_the_severitys_weight_exactly() {
        let impact = DataFrame::new_infer_height(vec![
            Series::new("downtime_cost".into(), [Some(12_345_i128), Some(100), None])
                .into_decimal(18, 2)
                .unwrap()
                .into_column(),
            Column::new("severity".into(), [2_i64, 4, 1]),
        ])
        .unwrap();
        let weights: BTreeMap<String, f64> = [("2", 0.5), ("4", 0.05)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let costs = weighted_costs(&impact, &weights).unwrap();
        // 123.45 × 0.5 = 61.725 (kept exact); 1.00 × 0.05 = 0.05; no rate per minute: empty.
        assert_eq!(
            costs,
            [
                Some(Decimal::new(61_725, 3)),
                Some(Decimal::new(5, 2)),
                None
            ]
        );
        assert_eq!(unweighted_severities(&impact, &weights).unwrap(), [1]);
    }
}
