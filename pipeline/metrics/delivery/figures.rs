//! The delivery tables: every production deployment with its team, strategy, failure and
//! recovery; the DORA figures per level with their tiers; the failed deployments of the period;
//! and the month-by-month trend of the portfolio and each release strategy.
//!
//! In: [`DeliveryInputs`], the period and the settings. Out: [`DeliveryTables`], in the columns
//! the family declares.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::links::{self, Deployment, FailedDeployment};
use super::tiers;
use super::{DELIVERY_FAILED_DEPLOYMENTS, DELIVERY_PERFORMANCE, DELIVERY_TREND, KEYS, LEVELS};
use crate::labels::Lang;
use crate::labels::explained::{self, SEPARATOR, delivery as notes};
use crate::metrics::Settings;
use crate::metrics::columns::texts;
use crate::metrics::flow::events_as_of;
use crate::metrics::levels::{Level, at_levels, every_month, join_levels};
use crate::metrics::stats::{
    DAY, Window, as_timestamp, count_where, month_index, month_start, percentile, percentile_inc,
    share, twelve_months, two_decimals,
};
use crate::schedule::Period;

/// The models' rows the delivery figures read.
pub struct DeliveryInputs<'a> {
    pub deployments: &'a DataFrame,
    pub incidents: &'a DataFrame,
    pub links: &'a DataFrame,
    pub demands: &'a DataFrame,
    pub events: &'a DataFrame,
}

/// The delivery tables of one period.
pub struct DeliveryTables {
    pub performance: DataFrame,
    pub failed: DataFrame,
    pub trend: DataFrame,
}

/// Computes the delivery tables as of `period`.
///
/// # Errors
///
/// Polars' error when an input lacks an expected column.
pub fn compute(
    inputs: &DeliveryInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<DeliveryTables> {
    let zone = settings.zone;
    let config = &settings.metrics.delivery;
    let window = Window::of(period, zone);
    let deployments = links::deployments(inputs.deployments, config, window.end, zone)?;
    let incidents = links::incidents(inputs.incidents, window.end, zone)?;
    let failed = links::failed_deployments(
        &deployments,
        &incidents,
        &links::mart_links(inputs.links)?,
        config,
    );
    let cycle_days = cycle_days(inputs.events, &window, settings)?;
    let production = production_frame(inputs, &deployments, &failed, &cycle_days)?;
    Ok(DeliveryTables {
        performance: performance_table(&production, &window, period, settings)?,
        failed: failed_table(&production, &failed, &window, period)?,
        trend: trend_table(&production, period)?,
    })
}

/// Released − first in_development, in days on instants, per demand released by the period's end.
fn cycle_days(
    events: &DataFrame,
    window: &Window,
    settings: &Settings,
) -> PolarsResult<BTreeMap<String, f64>> {
    let events = events_as_of(events, window, settings.zone)?;
    let first = |stage: &str| {
        col("entered_at_utc")
            .filter(col("stage").eq(lit(stage)))
            .min()
    };
    let cycles = events
        .lazy()
        .group_by([col("demand_id")])
        .agg([
            first("in_development").alias("development"),
            first("released").alias("released"),
        ])
        .with_column(
            ((col("released") - col("development")).cast(DataType::Float64) / lit(DAY))
                .alias("days"),
        )
        .filter(col("days").is_not_null())
        .collect()?;
    let ids = texts(&cycles, "demand_id")?;
    let days = cycles.column("days")?.f64()?;
    Ok(ids
        .into_iter()
        .zip(days.iter())
        .filter_map(|(id, days)| Some((id?, days?)))
        .collect())
}

/// One row per production deployment finished by the period's end: `deployment_id`,
/// `application_id`, `team` (of the demand it deploys), `strategy`, `result`, `finished_at`
/// (wall-clock microseconds), `day` (days since 1970), `success`, `failed`, `recovery_hours` and
/// `change_days` (the demand's cycle time).
fn production_frame(
    inputs: &DeliveryInputs,
    deployments: &[Deployment],
    failed: &BTreeMap<String, FailedDeployment>,
    cycle_days: &BTreeMap<String, f64>,
) -> PolarsResult<DataFrame> {
    let raw = inputs.deployments;
    let ids = texts(raw, "deployment_id")?;
    let strategies = texts(raw, "strategy")?;
    let results = texts(raw, "result")?;
    let demand_ids = texts(raw, "demand_id")?;
    // Per deployment: its strategy, result and demand.
    type Details<'a> = (Option<&'a String>, Option<&'a String>, Option<&'a String>);
    let details: BTreeMap<&str, Details> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            Some((
                id.as_deref()?,
                (
                    strategies[i].as_ref(),
                    results[i].as_ref(),
                    demand_ids[i].as_ref(),
                ),
            ))
        })
        .collect();
    let team_of: BTreeMap<String, String> = texts(inputs.demands, "demand_id")?
        .into_iter()
        .zip(texts(inputs.demands, "team")?)
        .filter_map(|(id, team)| Some((id?, team?)))
        .collect();
    let production: Vec<&Deployment> = deployments.iter().filter(|d| d.production).collect();
    let detail = |d: &Deployment| details.get(d.id.as_str()).copied().unwrap_or_default();
    let demand = |d: &Deployment| detail(d).2;
    let failure = |d: &Deployment| failed.get(&d.id);
    DataFrame::new_infer_height(vec![
        Column::new(
            "deployment_id".into(),
            production.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "application_id".into(),
            production
                .iter()
                .map(|d| d.application.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "team".into(),
            production
                .iter()
                .map(|d| demand(d).and_then(|id| team_of.get(id)).cloned())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "strategy".into(),
            production
                .iter()
                .map(|d| detail(d).0.cloned())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "result".into(),
            production
                .iter()
                .map(|d| detail(d).1.cloned())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "finished_at".into(),
            production.iter().map(|d| d.finished).collect::<Vec<_>>(),
        ),
        Column::new(
            "day".into(),
            production
                .iter()
                .map(|d| d.finished.div_euclid(DAY as i64))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "success".into(),
            production.iter().map(|d| d.success).collect::<Vec<_>>(),
        ),
        Column::new(
            "failed".into(),
            production
                .iter()
                .map(|d| failure(d).is_some())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "recovery_hours".into(),
            production
                .iter()
                .map(|d| failure(d).and_then(|f| f.recovery_hours))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "change_days".into(),
            production
                .iter()
                .map(|d| demand(d).and_then(|id| cycle_days.get(id)).copied())
                .collect::<Vec<_>>(),
        ),
    ])
}

fn performance_table(
    production: &DataFrame,
    window: &Window,
    period: Period,
    settings: &Settings,
) -> PolarsResult<DataFrame> {
    let in_period = || col("finished_at").gt_eq(lit(window.start));
    let succeeded = || in_period().and(col("success"));
    let failed = || in_period().and(col("failed"));
    let aggregations = [
        count_where(succeeded()).alias("deployments"),
        col("day")
            .filter(succeeded())
            .n_unique()
            .cast(DataType::Int64)
            .alias("deployment_days"),
        two_decimals(percentile(col("change_days").filter(succeeded()), 0.5))
            .alias("change_lead_time_p50"),
        count_where(in_period()).alias("production_deployments"),
        count_where(failed()).alias("failed_deployments"),
        two_decimals(percentile(col("recovery_hours").filter(failed()), 0.5))
            .alias("recovery_time_p50"),
        count_where(failed().and(col("recovery_hours").is_null())).alias("not_recovered"),
        count_where(succeeded().and(col("change_days").is_null())).alias("without_change"),
    ];
    let figures = at_levels(production.clone().lazy(), &LEVELS, &KEYS, &aggregations)?
        .lazy()
        .with_column(
            share(col("failed_deployments"), col("production_deployments"))
                .alias("change_failure_rate"),
        )
        .collect()?;
    let frequency = frequency_figures(production, &figures, window, period)?;
    let figures = join_levels(figures.lazy(), frequency.lazy(), &KEYS).collect()?;
    let figures = with_tiers_and_notes(
        figures,
        settings.metrics.delivery.dora_year,
        period,
        settings.lang,
    )?;
    DELIVERY_PERFORMANCE.in_order(figures.lazy(), period)
}

/// Per group of `figures`: the median deployment days per week of the weeks that end in the
/// period and in the six months to it, the median per month over those six months, and the
/// deployment days in them.
fn frequency_figures(
    production: &DataFrame,
    figures: &DataFrame,
    window: &Window,
    period: Period,
) -> PolarsResult<DataFrame> {
    let day_of = |micros: i64| micros.div_euclid(DAY as i64);
    let six_months: Vec<Period> = (0..6).map(|k| period.plus(k - 5)).collect();
    let first_day = day_of(month_start(six_months[0]));
    let period_first = day_of(window.start);
    let last_day = day_of(window.end) - 1;
    // Deployment days per group, from six days before the window so its first week is whole.
    let mut days: BTreeMap<(String, Option<String>), BTreeSet<i64>> = BTreeMap::new();
    let succeeded = production.column("success")?.bool()?;
    let deployment_days = production.column("day")?.i64()?;
    let keys: Vec<Vec<Option<String>>> = KEYS
        .iter()
        .map(|k| texts(production, k))
        .collect::<PolarsResult<_>>()?;
    for i in 0..production.height() {
        let (Some(true), Some(day)) = (succeeded.get(i), deployment_days.get(i)) else {
            continue;
        };
        if day < first_day - 6 || day > last_day {
            continue;
        }
        days.entry(("portfolio".into(), None))
            .or_default()
            .insert(day);
        for (level, values) in LEVELS[1..].iter().zip(&keys) {
            days.entry((level.name.to_string(), values[i].clone()))
                .or_default()
                .insert(day);
        }
    }
    // 1970-01-01 was a Thursday: day d is a Sunday when (d + 3) mod 7 = 6.
    let sundays = |from: i64| (from..=last_day).filter(|d| (d + 3).rem_euclid(7) == 6);
    let median_per_week = |set: &BTreeSet<i64>, from: i64| {
        let mut counts: Vec<f64> = sundays(from)
            .map(|sunday| set.range(sunday - 6..=sunday).count() as f64)
            .collect();
        percentile_inc(&mut counts, 0.5).unwrap_or(0.0)
    };
    let month_days: Vec<(i64, i64)> = six_months
        .iter()
        .map(|m| (day_of(month_start(*m)), day_of(month_start(m.next()))))
        .collect();
    let levels = texts(figures, "level")?;
    let figure_keys: Vec<Vec<Option<String>>> = KEYS
        .iter()
        .map(|k| texts(figures, k))
        .collect::<PolarsResult<_>>()?;
    let empty = BTreeSet::new();
    let (mut week, mut week_6m, mut month_6m, mut days_6m) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in 0..figures.height() {
        let level = levels[r].clone().unwrap_or_default();
        let value = LEVELS
            .iter()
            .position(|l| l.name == level)
            .and_then(|i| i.checked_sub(1))
            .and_then(|k| figure_keys[k][r].clone());
        let set = days.get(&(level, value)).unwrap_or(&empty);
        week.push(median_per_week(set, period_first));
        week_6m.push(median_per_week(set, first_day));
        let mut per_month: Vec<f64> = month_days
            .iter()
            .map(|(from, to)| set.range(*from..*to).count() as f64)
            .collect();
        month_6m.push(percentile_inc(&mut per_month, 0.5).unwrap_or(0.0));
        days_6m.push(set.range(first_day..=last_day).count() as i64);
    }
    let mut out = figures.select(["level"])?;
    for key in KEYS {
        out.with_column(figures.column(key)?.clone())?;
    }
    out.with_column(Column::new("median_days_per_week".into(), week))?;
    out.with_column(Column::new("median_days_per_week_6m".into(), week_6m))?;
    out.with_column(Column::new("median_days_per_month_6m".into(), month_6m))?;
    out.with_column(Column::new("deployment_days_6m".into(), days_6m))?;
    Ok(out)
}

/// Adds the four tiers and the notes, row by row.
fn with_tiers_and_notes(
    mut figures: DataFrame,
    year: u16,
    period: Period,
    lang: Lang,
) -> PolarsResult<DataFrame> {
    let period = period.to_string();
    let floats = |name: &str| -> PolarsResult<Vec<Option<f64>>> {
        Ok(figures
            .column(name)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let week = floats("median_days_per_week_6m")?;
    let month = floats("median_days_per_month_6m")?;
    let days = floats("deployment_days_6m")?;
    let lead = floats("change_lead_time_p50")?;
    let rate = floats("change_failure_rate")?;
    let recovery = floats("recovery_time_p50")?;
    let deployments = floats("deployments")?;
    let without_change = floats("without_change")?;
    let not_recovered = floats("not_recovered")?;
    let rows = figures.height();
    let name = |t: tiers::Tier| Some(t.as_str());
    let mut notes = Vec::with_capacity(rows);
    let (mut frequency, mut lead_tier, mut rate_tier, mut recovery_tier) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in 0..rows {
        frequency.push(name(tiers::frequency(
            year,
            week[r].unwrap_or(0.0),
            month[r].unwrap_or(0.0),
            days[r].unwrap_or(0.0) as i64,
        )));
        lead_tier.push(lead[r].and_then(|d| name(tiers::lead_time(year, d))));
        rate_tier.push(rate[r].and_then(|x| name(tiers::failure_rate(year, x))));
        recovery_tier.push(recovery[r].and_then(|h| name(tiers::recovery(h))));
        let mut row: Vec<String> = Vec::new();
        if rate[r].is_none() {
            row.push(explained::for_period(notes::NO_PRODUCTION, lang, &period));
        }
        let unnamed = without_change[r].unwrap_or(0.0) as i64;
        if unnamed > 0 && deployments[r].unwrap_or(0.0) > 0.0 {
            row.push(explained::counted(notes::UNNAMED, lang, unnamed, &period));
        }
        let waiting = not_recovered[r].unwrap_or(0.0) as i64;
        if waiting > 0 {
            row.push(explained::counted(
                notes::NOT_RECOVERED,
                lang,
                waiting,
                &period,
            ));
        }
        notes.push(row.join(SEPARATOR.get(lang)));
    }
    figures.with_column(Column::new("frequency_tier".into(), frequency))?;
    figures.with_column(Column::new("lead_time_tier".into(), lead_tier))?;
    figures.with_column(Column::new("failure_rate_tier".into(), rate_tier))?;
    figures.with_column(Column::new("recovery_tier".into(), recovery_tier))?;
    figures.with_column(Column::new("notes".into(), notes))?;
    Ok(figures)
}

/// Every production deployment of the period that failed, in the order they finished.
fn failed_table(
    production: &DataFrame,
    failed: &BTreeMap<String, FailedDeployment>,
    window: &Window,
    period: Period,
) -> PolarsResult<DataFrame> {
    let frame = production
        .clone()
        .lazy()
        .filter(col("failed").and(col("finished_at").gt_eq(lit(window.start))))
        .sort(
            ["finished_at", "deployment_id"],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let ids = texts(&frame, "deployment_id")?;
    let found = |id: &Option<String>| id.as_ref().and_then(|id| failed.get(id));
    let rules: Vec<String> = ids
        .iter()
        .map(|id| {
            found(id).map_or_else(String::new, |f| {
                f.rules
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        })
        .collect();
    let incidents: Vec<String> = ids
        .iter()
        .map(|id| {
            found(id).map_or_else(String::new, |f| {
                f.incidents.iter().cloned().collect::<Vec<_>>().join(", ")
            })
        })
        .collect();
    let recovered: Vec<Option<i64>> = ids
        .iter()
        .map(|id| found(id).and_then(|f| f.recovered))
        .collect();
    let frame = frame.lazy().with_columns([
        lit(Series::new("rules".into(), rules)).alias("rules"),
        lit(Series::new("incidents".into(), incidents)).alias("incidents"),
        as_timestamp(lit(Series::new("recovered_at".into(), recovered))).alias("recovered_at"),
        as_timestamp(col("finished_at")).alias("finished_at"),
        two_decimals(col("recovery_hours")).alias("recovery_hours"),
    ]);
    DELIVERY_FAILED_DEPLOYMENTS.in_order(frame, period)
}

/// The trend levels: the portfolio and each release strategy, by month.
const TREND_LEVELS: [Level; 2] = [
    Level {
        name: "portfolio",
        keys: &["month"],
    },
    Level {
        name: "strategy",
        keys: &["strategy", "month"],
    },
];
const TREND_KEYS: [&str; 2] = ["strategy", "month"];

fn trend_table(production: &DataFrame, period: Period) -> PolarsResult<DataFrame> {
    let months = twelve_months(period);
    let items = production
        .clone()
        .lazy()
        .with_column(month_index("finished_at", &months))
        .filter(col("month").is_not_null());
    let figures = at_levels(
        items,
        &TREND_LEVELS,
        &TREND_KEYS,
        &[
            count_where(col("success")).alias("deployments"),
            len().cast(DataType::Int64).alias("production_deployments"),
            count_where(col("failed")).alias("failed_deployments"),
            two_decimals(percentile(col("recovery_hours").filter(col("failed")), 0.5))
                .alias("recovery_time_p50"),
        ],
    )?;
    let groups = at_levels(
        production.clone().lazy(),
        &[LEVELS[0], LEVELS[3]],
        &TREND_KEYS[..1],
        &[len().alias("deployments_ever")],
    )?;
    let counts = [
        "deployments",
        "production_deployments",
        "failed_deployments",
    ];
    let trend = join_levels(every_month(groups, &months)?, figures.lazy(), &TREND_KEYS)
        .with_columns(
            counts
                .iter()
                .map(|c| col(*c).fill_null(lit(0_i64)).alias(*c))
                .collect::<Vec<_>>(),
        )
        .with_column(
            share(col("failed_deployments"), col("production_deployments"))
                .alias("change_failure_rate"),
        )
        .with_column(col("month_date").alias("month"))
        .sort(
            ["level", "strategy", "month"],
            SortMultipleOptions::default().with_nulls_last(true),
        );
    DELIVERY_TREND.in_order(trend, period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::metrics::MetricsConfig;
    use crate::zone::LocalTime;
    use chrono::NaiveDateTime;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// (deployment, application, environment, result, strategy, finished, demand).
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    );
    const DEPLOYMENTS: [Row; 7] = [
        (
            "P1",
            "A",
            "production",
            "success",
            "canary",
            "2026-03-02 10:00",
            Some("D1"),
        ),
        (
            "P2",
            "A",
            "production",
            "failed",
            "rolling",
            "2026-03-03 10:00",
            None,
        ),
        (
            "P3",
            "A",
            "production",
            "success",
            "rolling",
            "2026-03-03 14:00",
            None,
        ),
        (
            "P4",
            "B",
            "production",
            "success",
            "canary",
            "2026-03-10 09:00",
            None,
        ),
        (
            "P5",
            "B",
            "staging",
            "failed",
            "canary",
            "2026-03-11 09:00",
            None,
        ),
        (
            "P6",
            "A",
            "production",
            "success",
            "canary",
            "2026-02-27 09:00",
            None,
        ),
        (
            "P7",
            "B",
            "production",
            "success",
            "canary",
            "2026-04-02 09:00",
            None,
        ),
    ];

    fn compute_march(year: u16) -> DeliveryTables {
        let d = DEPLOYMENTS;
        let deployments = df!(
            "deployment_id" => d.map(|r| r.0),
            "application_id" => d.map(|r| r.1),
            "environment" => d.map(|r| r.2),
            "result" => d.map(|r| r.3),
            "strategy" => d.map(|r| r.4),
            "finished_at" => d.map(|r| at(r.5)),
            "demand_id" => d.map(|r| r.6),
        )
        .unwrap();
        // Two incidents name P4; their impacts end 2.5 and 3 hours after it.
        let incidents = df!(
            "incident_id" => ["I1", "I2"],
            "application_id" => ["B", "B"],
            "opened_at" => [at("2026-03-10 10:00"), at("2026-03-10 10:30")],
            "impact_end" => [at("2026-03-10 11:30"), at("2026-03-10 12:00")],
        )
        .unwrap();
        let links = df!(
            "deployment_id" => ["P2", "P5", "P4", "P4"],
            "rule" => ["result", "result", "caused_by", "caused_by"],
            "incident_id" => [None, None, Some("I1"), Some("I2")],
        )
        .unwrap();
        let demands = df!("demand_id" => ["D1"], "team" => ["Core"]).unwrap();
        // D1 entered development on Feb 1 and was released on Mar 5: 32 days.
        let events = df!(
            "demand_id" => ["D1", "D1"],
            "stage" => ["in_development", "released"],
            "stage_order" => [4_i32, 6],
            "entered_at" => [at("2026-02-01 00:00"), at("2026-03-05 00:00")],
        )
        .unwrap();
        let mut metrics = MetricsConfig::default();
        metrics.delivery.dora_year = year;
        let zone = LocalTime::utc();
        let settings = Settings {
            default_discount_rate: 0.08,
            reporting_currency: "EUR",
            metrics: &metrics,
            zone: &zone,
            lang: crate::labels::Lang::En,
        };
        let inputs = DeliveryInputs {
            deployments: &deployments,
            incidents: &incidents,
            links: &links,
            demands: &demands,
            events: &events,
        };
        compute(&inputs, "2026-03".parse().unwrap(), &settings).unwrap()
    }

    use crate::metrics::test_frames::value;

    /// The row of `level`, and of `key` = value when given.
    fn row(frame: &DataFrame, level: &str, key: Option<(&str, &str)>) -> DataFrame {
        let mut filter = col("level").eq(lit(level));
        if let Some((column, value)) = key {
            filter = filter.and(col(column).eq(lit(value)));
        }
        crate::metrics::test_frames::row(frame, filter)
    }

    #[test]
    fn the_months_production_deployments_are_counted_once_each() {
        let tables = compute_march(2023);
        let p = row(&tables.performance, "portfolio", None);
        let int = |c: &str| value(&p, c).extract::<i64>().unwrap();
        let float = |c: &str| value(&p, c).extract::<f64>();
        // P1, P3, P4 succeeded in March; P5 is staging, P6 February, P7 April.
        assert_eq!(int("deployments"), 3);
        assert_eq!(int("deployment_days"), 3);
        assert_eq!(int("production_deployments"), 4);
        // P2 by its result, P4 by two incidents: two failed deployments, not three.
        assert_eq!(int("failed_deployments"), 2);
        assert_eq!(float("change_failure_rate"), Some(0.5));
        // P2 recovered with P3 after 4 hours, P4 when the later impact ended after 3.
        assert_eq!(float("recovery_time_p50"), Some(3.5));
        assert_eq!(float("change_lead_time_p50"), Some(32.0));
        // Weeks ending Mar 1, 8, 15, 22, 29: 1 (P6 on Feb 27), 2, 1, 0, 0 deployment days.
        assert_eq!(float("median_days_per_week"), Some(1.0));
        // Six months Oct to Mar: 0, 0, 0, 0, 1, 3 days.
        assert_eq!(float("median_days_per_month_6m"), Some(0.0));
        assert_eq!(int("deployment_days_6m"), 4);
        assert_eq!(value(&p, "frequency_tier").to_string(), "\"low\"");
        assert_eq!(value(&p, "failure_rate_tier").to_string(), "\"low\"");
        assert_eq!(value(&p, "recovery_tier").to_string(), "\"high\"");
        assert_eq!(value(&p, "lead_time_tier").to_string(), "\"low\"");
        assert!(
            value(&p, "notes")
                .to_string()
                .contains("2 successful deployment(s) name no released demand")
        );
        // The 2021 report reads the same figures differently.
        let p = row(&compute_march(2021).performance, "portfolio", None);
        assert_eq!(value(&p, "frequency_tier").to_string(), "\"medium\"");
        assert_eq!(value(&p, "lead_time_tier").to_string(), "\"medium\"");
    }

    #[test]
    fn the_failure_rate_is_set_side_by_side_per_release_strategy() {
        let tables = compute_march(2023);
        for strategy in ["canary", "rolling"] {
            let r = row(
                &tables.performance,
                "strategy",
                Some(("strategy", strategy)),
            );
            assert_eq!(
                value(&r, "production_deployments").extract::<i64>(),
                Some(2)
            );
            assert_eq!(value(&r, "failed_deployments").extract::<i64>(), Some(1));
        }
        let team = row(&tables.performance, "team", Some(("team", "Core")));
        assert_eq!(value(&team, "deployments").extract::<i64>(), Some(1));
        let failed = &tables.failed;
        let ids: Vec<Option<&str>> = failed
            .column("deployment_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(ids, [Some("P2"), Some("P4")]);
        let rules: Vec<Option<&str>> = failed
            .column("rules")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(rules, [Some("result"), Some("caused_by")]);
        let incidents: Vec<Option<&str>> = failed
            .column("incidents")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(incidents, [Some(""), Some("I1, I2")]);
        // Twelve months for the portfolio and each of the two strategies.
        assert_eq!(tables.trend.height(), 36);
        let march = tables
            .trend
            .clone()
            .lazy()
            .filter(col("level").eq(lit("portfolio")).and(col("month").eq(
                crate::metrics::stats::date_lit(
                    chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                ),
            )))
            .collect()
            .unwrap();
        assert_eq!(
            value(&march, "change_failure_rate").extract::<f64>(),
            Some(0.5)
        );
    }
}
