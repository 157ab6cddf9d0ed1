//! The incidents and applications the reliability figures are computed from, with every time as
//! a wall-clock time (for month membership) and as an instant (for durations), and the service
//! level of an application in a month: its downtime (overlapping incidents counted once), its SLI
//! and how much of its error budget it spent.
//!
//! In: `stg_incidents`, `stg_applications` and `stg_slo_measurements` rows. Out: [`Incident`],
//! [`Application`] and [`ServiceLevel`].

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::metrics::columns::{dates, floats, texts};
use crate::metrics::stats::with_instants;
use crate::zone::LocalTime;

/// A wall-clock time and its instant, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    pub local: i64,
    pub utc: i64,
}

/// An incident opened by the period's end; times after the period's end are not known yet.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: String,
    pub application: Option<String>,
    pub severity: Option<i64>,
    pub opened: Moment,
    pub impact_start: Moment,
    pub impact_end: Option<Moment>,
    pub resolved: Option<Moment>,
    pub closed: Option<Moment>,
    pub problem: Option<String>,
    pub users_affected: Option<i64>,
}

impl Incident {
    /// Time to restore business, in hours on instants.
    pub fn restore_hours(&self) -> Option<f64> {
        self.impact_end
            .map(|end| (end.utc - self.impact_start.utc) as f64 / crate::metrics::stats::HOUR)
    }

    /// Time to resolve, in hours on instants.
    pub fn resolve_hours(&self) -> Option<f64> {
        self.resolved
            .map(|r| (r.utc - self.opened.utc) as f64 / crate::metrics::stats::HOUR)
    }

    /// Whether `moment` lies in `[from, to)` (wall-clock).
    pub fn within(moment: Option<Moment>, from: i64, to: i64) -> bool {
        moment.is_some_and(|m| m.local >= from && m.local < to)
    }
}

/// The incidents of `frame` opened before `end` (wall-clock microseconds).
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn incidents(frame: &DataFrame, end: i64, zone: &LocalTime) -> PolarsResult<Vec<Incident>> {
    let times = [
        "opened_at",
        "impact_start",
        "impact_end",
        "resolved_at",
        "closed_at",
    ];
    let mut columns = vec![
        "incident_id",
        "application_id",
        "severity",
        "problem_id",
        "users_affected",
    ];
    columns.extend(times);
    let frame = with_instants(frame.select(columns)?, &times, zone)?;
    let moments = |name: &str| -> PolarsResult<Vec<Option<Moment>>> {
        let local = frame.column(name)?.i64()?;
        let utc = frame.column(&format!("{name}_utc"))?.i64()?;
        Ok(local
            .iter()
            .zip(utc.iter())
            .map(|(local, utc)| {
                Some(Moment {
                    local: local?,
                    utc: utc?,
                })
            })
            // What happens after the period's end is not known as of the period.
            .map(|m| m.filter(|m| m.local < end))
            .collect())
    };
    let opened = moments("opened_at")?;
    let impact_start = moments("impact_start")?;
    let impact_end = moments("impact_end")?;
    let resolved = moments("resolved_at")?;
    let closed = moments("closed_at")?;
    let ids = texts(&frame, "incident_id")?;
    let applications = texts(&frame, "application_id")?;
    let problems = texts(&frame, "problem_id")?;
    let severity = frame.column("severity")?.cast(&DataType::Int64)?;
    let severity = severity.i64()?;
    let users = frame.column("users_affected")?.cast(&DataType::Int64)?;
    let users = users.i64()?;
    let mut out = Vec::new();
    for i in 0..frame.height() {
        let (Some(id), Some(opened)) = (&ids[i], opened[i]) else {
            continue;
        };
        out.push(Incident {
            id: id.clone(),
            application: applications[i].clone(),
            severity: severity.get(i),
            opened,
            impact_start: impact_start[i].unwrap_or(opened),
            impact_end: impact_end[i],
            resolved: resolved[i],
            closed: closed[i],
            problem: problems[i].clone(),
            users_affected: users.get(i),
        });
    }
    out.sort_by(|a, b| (a.opened, &a.id).cmp(&(b.opened, &b.id)));
    Ok(out)
}

/// An application of the catalogue, or one that only incidents name.
#[derive(Debug, Clone, Default)]
pub struct Application {
    pub id: String,
    pub name: Option<String>,
    pub investment: Option<String>,
    pub criticality: Option<i64>,
    pub slo: Option<f64>,
}

/// The applications of `frame` (`stg_applications`) and any other that `incidents` name, by id.
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn applications(
    frame: &DataFrame,
    incidents: &[Incident],
) -> PolarsResult<BTreeMap<String, Application>> {
    let ids = texts(frame, "application_id")?;
    let names = texts(frame, "name")?;
    let investments = texts(frame, "investment_id")?;
    let slo = floats(frame, "slo_availability")?;
    let criticality = frame
        .column("business_criticality")?
        .cast(&DataType::Int64)?;
    let criticality = criticality.i64()?;
    let mut out: BTreeMap<String, Application> = BTreeMap::new();
    for i in 0..frame.height() {
        if let Some(id) = &ids[i] {
            out.insert(
                id.clone(),
                Application {
                    id: id.clone(),
                    name: names[i].clone(),
                    investment: investments[i].clone(),
                    criticality: criticality.get(i),
                    slo: slo[i],
                },
            );
        }
    }
    for incident in incidents {
        if let Some(app) = &incident.application {
            out.entry(app.clone()).or_insert_with(|| Application {
                id: app.clone(),
                ..Application::default()
            });
        }
    }
    Ok(out)
}

/// The SLO measurements of `frame`, by application and month (its first day).
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn slo_measurements(
    frame: &DataFrame,
) -> PolarsResult<BTreeMap<(String, chrono::NaiveDate), (f64, f64)>> {
    let ids = texts(frame, "application_id")?;
    let months = dates(frame, "period")?;
    let good = floats(frame, "good_events")?;
    let total = floats(frame, "total_events")?;
    Ok((0..frame.height())
        .filter_map(|i| Some(((ids[i].clone()?, months[i]?), (good[i]?, total[i]?))))
        .collect())
}

/// The minutes of `[from, to)` (instants) covered by at least one of `windows`: overlapping
/// impact counted once.
pub fn covered_minutes(windows: &mut [(i64, i64)], from: i64, to: i64) -> f64 {
    windows.sort_unstable();
    let mut covered = 0_i64;
    let mut reach = from;
    for (start, end) in windows.iter() {
        let start = (*start).max(reach);
        let end = (*end).min(to);
        if end > start {
            covered += end - start;
            reach = end;
        }
    }
    covered as f64 / 60_000_000.0
}

/// An application's service level over one span (a month, or twelve of them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceLevel {
    pub downtime_minutes: f64,
    pub minutes: f64,
    /// good and total events, when SLO measurements cover the span.
    pub events: Option<(f64, f64)>,
    pub slo: f64,
}

impl ServiceLevel {
    pub fn availability(&self) -> f64 {
        1.0 - self.downtime_minutes / self.minutes
    }

    /// The SLI held against the SLO: events where measured, else availability.
    pub fn sli(&self) -> f64 {
        match self.events {
            Some((good, total)) if total > 0.0 => good / total,
            _ => self.availability(),
        }
    }

    /// `"events"` or `"minutes"`.
    pub fn basis(&self) -> &'static str {
        match self.events {
            Some((_, total)) if total > 0.0 => "events",
            _ => "minutes",
        }
    }

    /// (bad, budget) in the basis' unit.
    fn bad_and_budget(&self) -> (f64, f64) {
        match self.events {
            Some((good, total)) if total > 0.0 => (total - good, (1.0 - self.slo) * total),
            _ => (self.downtime_minutes, (1.0 - self.slo) * self.minutes),
        }
    }

    pub fn error_budget(&self) -> f64 {
        self.bad_and_budget().1
    }

    pub fn bad(&self) -> f64 {
        self.bad_and_budget().0
    }

    /// Bad / budget; `None` when the budget is zero.
    pub fn consumed(&self) -> Option<f64> {
        let (bad, budget) = self.bad_and_budget();
        (budget > 0.0).then(|| bad / budget)
    }

    /// Bad rate / (1 − SLO).
    pub fn burn_rate(&self) -> Option<f64> {
        let units = match self.events {
            Some((_, total)) if total > 0.0 => total,
            _ => self.minutes,
        };
        (units > 0.0 && self.slo < 1.0).then(|| (self.bad() / units) / (1.0 - self.slo))
    }

    pub fn meets_slo(&self) -> bool {
        self.sli() >= self.slo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_impact_is_counted_once_and_clipped_to_the_span() {
        let minute = 60_000_000;
        // 10..40 and 30..60 overlap by 10 minutes; 100..130 reaches past the span's end at 120.
        let mut windows = [
            (30 * minute, 60 * minute),
            (10 * minute, 40 * minute),
            (100 * minute, 130 * minute),
        ];
        assert_eq!(covered_minutes(&mut windows, 0, 120 * minute), 50.0 + 20.0);
        // A window that starts before the span counts from its start.
        let mut early = [(-5 * minute, 5 * minute)];
        assert_eq!(covered_minutes(&mut early, 0, 120 * minute), 5.0);
    }

    #[test]
    fn the_service_level_uses_events_where_measured_else_minutes() {
        let minutes = ServiceLevel {
            downtime_minutes: 86.4,
            minutes: 43_200.0,
            events: None,
            slo: 0.999,
        };
        // 30 days: a budget of 43.2 minutes, 86.4 spent: twice over, SLI 99.8%.
        assert!((minutes.error_budget() - 43.2).abs() < 1e-9);
        assert!((minutes.consumed().unwrap() - 2.0).abs() < 1e-9);
        assert!((minutes.burn_rate().unwrap() - 2.0).abs() < 1e-9);
        assert!((minutes.sli() - 0.998).abs() < 1e-12);
        assert!(!minutes.meets_slo());
        let events = ServiceLevel {
            events: Some((999_500.0, 1_000_000.0)),
            ..minutes
        };
        assert_eq!(events.basis(), "events");
        assert!((events.error_budget() - 1_000.0).abs() < 1e-6);
        assert!((events.consumed().unwrap() - 0.5).abs() < 1e-9);
        assert!(events.meets_slo());
    }
}
