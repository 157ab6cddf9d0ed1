//! The reliability tables, row by row from the incidents and applications as of the period: the
//! applications' figures and service levels, the severities, the problems, the incident cost of
//! each investment, the portfolio's trend and (in `quadrant`) the TIME classification.
//!
//! In: [`ReliabilityInputs`], the period and the settings. Out: [`ReliabilityTables`] in the
//! columns the family declares.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;
use rust_decimal::Decimal;

use super::incidents::{
    Application, Incident, ServiceLevel, applications, covered_minutes, incidents, slo_measurements,
};
use super::{
    RELIABILITY_APPLICATION, RELIABILITY_INVESTMENT, RELIABILITY_PROBLEMS, RELIABILITY_SEVERITY,
    RELIABILITY_TREND,
};
use crate::labels::explained::{self, SEPARATOR, reliability as said};
use crate::metrics::Settings;
use crate::metrics::columns::{dates, floats, money_series, texts};
use crate::metrics::incident_cost::weighted_costs;
use crate::metrics::stats::{DAY, Window, month_start, percentile_inc, twelve_months};
use crate::schedule::Period;

/// The models' rows the reliability figures read.
pub struct ReliabilityInputs<'a> {
    pub incidents: &'a DataFrame,
    pub applications: &'a DataFrame,
    pub impact: &'a DataFrame,
    pub slo: &'a DataFrame,
    pub monthly: &'a DataFrame,
    pub deployments: &'a DataFrame,
    pub links: &'a DataFrame,
}

/// The reliability tables of one period.
pub struct ReliabilityTables {
    pub application: DataFrame,
    pub severity: DataFrame,
    pub problems: DataFrame,
    pub investment: DataFrame,
    pub trend: DataFrame,
    pub quadrant: DataFrame,
}

/// One row of `mart_incident_impact_monthly`: its month, minutes and weighted cost.
#[derive(Debug, Clone)]
pub(super) struct ImpactRow {
    pub application: Option<String>,
    pub investment: Option<String>,
    pub severity: Option<i64>,
    pub month: Option<NaiveDate>,
    pub minutes: f64,
    pub cost: Option<Decimal>,
}

/// Everything the tables are made from, as of the period.
pub(super) struct Facts {
    pub period: Period,
    pub window: Window,
    pub months: Vec<Period>,
    pub incidents: Vec<Incident>,
    pub applications: BTreeMap<String, Application>,
    pub impact: Vec<ImpactRow>,
    /// Per application, its service level in each of `months`.
    pub levels: BTreeMap<String, Vec<ServiceLevel>>,
    /// The indexes into `incidents` of each application's incidents.
    by_application: BTreeMap<String, Vec<usize>>,
    /// The indexes into `impact` of each month's rows, and of each application's in a month.
    impact_by_month: BTreeMap<Option<NaiveDate>, Vec<usize>>,
    impact_by_application: BTreeMap<(String, Option<NaiveDate>), Vec<usize>>,
}

impl Facts {
    /// The incidents of `application` (all when `None`).
    pub fn of<'a>(
        &'a self,
        application: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Incident> + 'a> {
        match application {
            None => Box::new(self.incidents.iter()),
            Some(app) => Box::new(
                self.by_application
                    .get(app)
                    .into_iter()
                    .flatten()
                    .map(|i| &self.incidents[*i]),
            ),
        }
    }

    /// The impact rows of `month` of `application` (all when `None`).
    fn impact_of<'a>(
        &'a self,
        application: Option<&'a str>,
        month: Period,
    ) -> impl Iterator<Item = &'a ImpactRow> {
        let day = Some(month.first_day());
        let rows = match application {
            None => self.impact_by_month.get(&day),
            Some(app) => self.impact_by_application.get(&(app.to_string(), day)),
        };
        rows.into_iter().flatten().map(|i| &self.impact[*i])
    }
}

/// Computes the reliability tables as of `period`.
///
/// # Errors
///
/// Polars' error when an input lacks an expected column.
pub fn compute(
    inputs: &ReliabilityInputs,
    period: Period,
    settings: &Settings,
) -> PolarsResult<ReliabilityTables> {
    let facts = facts(inputs, period, settings)?;
    Ok(ReliabilityTables {
        application: application_table(&facts, settings)?,
        severity: severity_table(&facts)?,
        problems: problems_table(&facts)?,
        investment: investment_table(&facts)?,
        trend: trend_table(&facts)?,
        quadrant: super::quadrant::table(&facts, inputs, settings)?,
    })
}

fn facts(inputs: &ReliabilityInputs, period: Period, settings: &Settings) -> PolarsResult<Facts> {
    let zone = settings.zone;
    let r = &settings.metrics.reliability;
    let window = Window::of(period, zone);
    let incidents = incidents(inputs.incidents, window.end, zone)?;
    let applications = applications(inputs.applications, &incidents)?;
    let costs = weighted_costs(inputs.impact, &r.severity_weights)?;
    let impact_apps = texts(inputs.impact, "application_id")?;
    let impact_investments = texts(inputs.impact, "investment_id")?;
    let impact_months = dates(inputs.impact, "period")?;
    let impact_minutes = floats(inputs.impact, "impact_minutes")?;
    let impact_severity = inputs.impact.column("severity")?.cast(&DataType::Int64)?;
    let impact_severity = impact_severity.i64()?;
    let impact: Vec<ImpactRow> = (0..inputs.impact.height())
        .map(|i| ImpactRow {
            application: impact_apps[i].clone(),
            investment: impact_investments[i].clone(),
            severity: impact_severity.get(i),
            month: impact_months[i],
            minutes: impact_minutes[i].unwrap_or(0.0),
            cost: costs[i],
        })
        .collect();
    let months = twelve_months(period);
    let measured = slo_measurements(inputs.slo)?;
    let mut by_application: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, incident) in incidents.iter().enumerate() {
        if let Some(app) = &incident.application {
            by_application.entry(app.clone()).or_default().push(i);
        }
    }
    let mut impact_by_month: BTreeMap<Option<NaiveDate>, Vec<usize>> = BTreeMap::new();
    let mut impact_by_application: BTreeMap<(String, Option<NaiveDate>), Vec<usize>> =
        BTreeMap::new();
    for (i, row) in impact.iter().enumerate() {
        impact_by_month.entry(row.month).or_default().push(i);
        if let Some(app) = &row.application {
            impact_by_application
                .entry((app.clone(), row.month))
                .or_default()
                .push(i);
        }
    }
    let mut levels = BTreeMap::new();
    for app in applications.values() {
        // Impact not ended by the period's end runs to it.
        let windows: Vec<(i64, i64)> = by_application
            .get(&app.id)
            .into_iter()
            .flatten()
            .map(|i| &incidents[*i])
            .filter(|i| {
                i.severity
                    .is_some_and(|s| s <= i64::from(r.availability_max_severity))
            })
            .map(|i| {
                (
                    i.impact_start.utc,
                    i.impact_end.map_or(window.end_utc, |e| e.utc),
                )
            })
            .collect();
        let per_month: Vec<ServiceLevel> = months
            .iter()
            .map(|month| {
                let from = zone.instant(month_start(*month));
                let to = zone.instant(month_start(month.next()));
                ServiceLevel {
                    downtime_minutes: covered_minutes(&mut windows.clone(), from, to),
                    minutes: (to - from) as f64 / 60_000_000.0,
                    events: measured.get(&(app.id.clone(), month.first_day())).copied(),
                    slo: app.slo.unwrap_or(r.default_slo),
                }
            })
            .collect();
        levels.insert(app.id.clone(), per_month);
    }
    Ok(Facts {
        period,
        window,
        months,
        incidents,
        applications,
        impact,
        levels,
        by_application,
        impact_by_month,
        impact_by_application,
    })
}

/// Incident counts, restore and resolve times of a set of incidents in `[from, to)`.
#[derive(Debug, Clone, Default)]
struct IncidentFigures {
    opened: i64,
    by_severity: [i64; 4],
    restore_p50: Option<f64>,
    restore_mean: Option<f64>,
    resolve_p50: Option<f64>,
    resolve_mean: Option<f64>,
}

fn incident_figures<'a>(
    incidents: impl Iterator<Item = &'a Incident>,
    from: i64,
    to: i64,
) -> IncidentFigures {
    let mut f = IncidentFigures::default();
    let mut restore = Vec::new();
    let mut resolve = Vec::new();
    for i in incidents {
        if Incident::within(Some(i.opened), from, to) {
            f.opened += 1;
            if let Some(s) = i.severity.filter(|s| (1..=4).contains(s)) {
                f.by_severity[s as usize - 1] += 1;
            }
        }
        if Incident::within(i.impact_end, from, to) {
            restore.extend(i.restore_hours());
        }
        if Incident::within(i.resolved, from, to) {
            resolve.extend(i.resolve_hours());
        }
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    f.restore_mean = mean(&restore).map(round2);
    f.resolve_mean = mean(&resolve).map(round2);
    f.restore_p50 = percentile_inc(&mut restore, 0.5).map(round2);
    f.resolve_p50 = percentile_inc(&mut resolve, 0.5).map(round2);
    f
}

/// Two decimals, half away from zero.
pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Minutes and cost of impact rows, with how many rows had no price.
fn impact_totals<'a>(rows: impl Iterator<Item = &'a ImpactRow>) -> (f64, Option<Decimal>, usize) {
    let (mut minutes, mut cost, mut priced, mut unpriced) = (0.0, Decimal::ZERO, 0, 0);
    for row in rows {
        minutes += row.minutes;
        match row.cost {
            Some(c) => {
                cost += c;
                priced += 1;
            }
            None => unpriced += 1,
        }
    }
    (round2(minutes), (priced > 0).then_some(cost), unpriced)
}

/// The cells of one column of [`Rows`], typed so that a column of empty cells keeps its type.
enum Cells {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Money(Vec<Option<Decimal>>),
    Timestamp(Vec<Option<i64>>),
    Date(Vec<Option<NaiveDate>>),
}

/// A table's columns, filled row by row.
#[derive(Default)]
pub(super) struct Rows {
    columns: Vec<(&'static str, Cells)>,
}

impl Rows {
    fn cells(&mut self, name: &'static str, empty: fn() -> Cells) -> &mut Cells {
        let at = match self.columns.iter().position(|(n, _)| *n == name) {
            Some(at) => at,
            None => {
                self.columns.push((name, empty()));
                self.columns.len() - 1
            }
        };
        &mut self.columns[at].1
    }

    pub fn text(&mut self, name: &'static str, value: Option<String>) {
        if let Cells::Text(v) = self.cells(name, || Cells::Text(Vec::new())) {
            v.push(value);
        }
    }

    pub fn int(&mut self, name: &'static str, value: i64) {
        if let Cells::Int(v) = self.cells(name, || Cells::Int(Vec::new())) {
            v.push(Some(value));
        }
    }

    pub fn float(&mut self, name: &'static str, value: Option<f64>) {
        if let Cells::Float(v) = self.cells(name, || Cells::Float(Vec::new())) {
            v.push(value);
        }
    }

    /// Exact money, rounded once to cents when the frame is made.
    pub fn money(&mut self, name: &'static str, value: Option<Decimal>) {
        if let Cells::Money(v) = self.cells(name, || Cells::Money(Vec::new())) {
            v.push(value);
        }
    }

    /// Wall-clock microseconds shown as a timestamp.
    pub fn timestamp(&mut self, name: &'static str, value: Option<i64>) {
        if let Cells::Timestamp(v) = self.cells(name, || Cells::Timestamp(Vec::new())) {
            v.push(value);
        }
    }

    pub fn date(&mut self, name: &'static str, value: NaiveDate) {
        if let Cells::Date(v) = self.cells(name, || Cells::Date(Vec::new())) {
            v.push(Some(value));
        }
    }

    /// The rows as `table`'s frame for `period` (no rows: the declared columns, empty).
    pub fn frame(
        self,
        table: &crate::metrics::catalogue::Table,
        period: Period,
    ) -> PolarsResult<DataFrame> {
        if self.columns.is_empty() {
            return table.empty_frame();
        }
        let mut columns = Vec::new();
        for (name, cells) in self.columns {
            columns.push(match cells {
                Cells::Text(v) => Column::new(name.into(), v),
                Cells::Int(v) => Column::new(name.into(), v),
                Cells::Float(v) => Column::new(name.into(), v),
                Cells::Money(v) => money_series(name, v.into_iter())?,
                Cells::Timestamp(v) => Column::new(name.into(), v)
                    .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?,
                Cells::Date(v) => Column::new(name.into(), v),
            });
        }
        table.in_order(DataFrame::new_infer_height(columns)?.lazy(), period)
    }
}

fn application_table(facts: &Facts, settings: &Settings) -> PolarsResult<DataFrame> {
    let (from, to) = (facts.window.start, facts.window.end);
    let last = facts.months.len() - 1;
    let mut rows = Rows::default();
    let keys: Vec<Option<&Application>> = std::iter::once(None)
        .chain(facts.applications.values().map(Some))
        .collect();
    let meeting = facts
        .levels
        .values()
        .filter(|l| l[last].meets_slo())
        .count();
    for app in keys {
        let id = app.map(|a| a.id.as_str());
        let f = incident_figures(facts.of(id), from, to);
        let (minutes, cost, unpriced) = impact_totals(facts.impact_of(id, facts.period));
        rows.text(
            "level",
            Some(
                if app.is_some() {
                    "application"
                } else {
                    "portfolio"
                }
                .into(),
            ),
        );
        rows.text("application_id", app.map(|a| a.id.clone()));
        rows.text("name", app.and_then(|a| a.name.clone()));
        rows.text("investment_id", app.and_then(|a| a.investment.clone()));
        rows.int("incidents", f.opened);
        for (s, name) in ["severity_1", "severity_2", "severity_3", "severity_4"]
            .into_iter()
            .enumerate()
        {
            rows.int(name, f.by_severity[s]);
        }
        rows.float("restore_p50_hours", f.restore_p50);
        rows.float("restore_mean_hours", f.restore_mean);
        rows.float("resolve_p50_hours", f.resolve_p50);
        rows.float("resolve_mean_hours", f.resolve_mean);
        let open = facts.of(id).filter(|i| i.impact_end.is_none()).count() as i64;
        rows.int("impact_open", open);
        rows.float("impact_minutes", Some(minutes));
        rows.money("incident_cost", cost);
        let mut notes: Vec<String> = Vec::new();
        if unpriced > 0 {
            notes.push(explained::counted(
                said::UNPRICED,
                settings.lang,
                unpriced,
                &facts.period.to_string(),
            ));
        }
        if open > 0 {
            notes.push(explained::counted(
                said::IMPACT_OPEN,
                settings.lang,
                open,
                &facts.period.to_string(),
            ));
        }
        match app.and_then(|a| facts.levels.get(&a.id)) {
            Some(levels) => {
                let level = &levels[last];
                rows.float("downtime_minutes", Some(round2(level.downtime_minutes)));
                rows.float("availability", Some(level.availability()));
                rows.float("sli", Some(level.sli()));
                rows.text("sli_basis", Some(level.basis().into()));
                rows.float("slo", Some(level.slo));
                rows.float("error_budget", Some(round2(level.error_budget())));
                rows.float("budget_consumed", level.consumed());
                rows.float("burn_rate", level.burn_rate());
                rows.text(
                    "meets_slo",
                    Some(if level.meets_slo() { "yes" } else { "no" }.into()),
                );
                rows.float("sla_attainment", None);
                if app.is_some_and(|a| a.slo.is_none()) {
                    let slo = settings.metrics.reliability.default_slo.to_string();
                    notes.push(said::DEFAULT_SLO.fill(settings.lang, &[("slo", &slo)]));
                }
            }
            None => {
                let all: Vec<&ServiceLevel> = facts.levels.values().map(|l| &l[last]).collect();
                let downtime: f64 = all.iter().map(|l| l.downtime_minutes).sum();
                let minutes: f64 = all.iter().map(|l| l.minutes).sum();
                let availability = (minutes > 0.0).then(|| 1.0 - downtime / minutes);
                rows.float("downtime_minutes", Some(round2(downtime)));
                rows.float("availability", availability);
                rows.float("sli", availability);
                rows.text("sli_basis", availability.map(|_| "minutes".to_string()));
                for name in ["slo", "error_budget", "budget_consumed", "burn_rate"] {
                    rows.float(name, None);
                }
                rows.text("meets_slo", None);
                rows.float(
                    "sla_attainment",
                    (!all.is_empty()).then(|| meeting as f64 / all.len() as f64),
                );
            }
        }
        rows.text("notes", Some(notes.join(SEPARATOR.get(settings.lang))));
    }
    rows.frame(&RELIABILITY_APPLICATION, facts.period)
}

fn severity_table(facts: &Facts) -> PolarsResult<DataFrame> {
    let (from, to) = (facts.window.start, facts.window.end);
    let mut rows = Rows::default();
    let apps = std::iter::once(None).chain(facts.applications.keys().map(|a| Some(a.as_str())));
    for app in apps {
        for severity in 1..=4_i64 {
            let of = || facts.of(app).filter(move |i| i.severity == Some(severity));
            let f = incident_figures(of(), from, to);
            let impact = facts
                .impact_of(app, facts.period)
                .filter(|r| r.severity == Some(severity));
            let (minutes, cost, _) = impact_totals(impact);
            let active = f.opened > 0 || minutes > 0.0 || f.restore_p50.is_some();
            if app.is_some() && !active {
                continue;
            }
            rows.text(
                "level",
                Some(
                    if app.is_some() {
                        "application"
                    } else {
                        "portfolio"
                    }
                    .into(),
                ),
            );
            rows.text("application_id", app.map(str::to_string));
            rows.int("severity", severity);
            rows.int("incidents", f.opened);
            rows.float("restore_p50_hours", f.restore_p50);
            rows.float("restore_mean_hours", f.restore_mean);
            rows.float("resolve_p50_hours", f.resolve_p50);
            rows.float("resolve_mean_hours", f.resolve_mean);
            rows.float("impact_minutes", Some(minutes));
            rows.money("incident_cost", cost);
        }
    }
    rows.frame(&RELIABILITY_SEVERITY, facts.period)
}

fn problems_table(facts: &Facts) -> PolarsResult<DataFrame> {
    let year_from = month_start(facts.months[0]);
    let mut by_problem: BTreeMap<&str, Vec<&Incident>> = BTreeMap::new();
    for i in &facts.incidents {
        if let Some(p) = &i.problem {
            by_problem.entry(p.as_str()).or_default().push(i);
        }
    }
    let mut problems: Vec<(&str, Vec<&Incident>, i64)> = by_problem
        .into_iter()
        .map(|(p, list)| {
            let recent = list.iter().filter(|i| i.opened.local >= year_from).count() as i64;
            (p, list, recent)
        })
        .collect();
    // The most recurring first.
    problems.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then(b.1.len().cmp(&a.1.len()))
            .then(a.0.cmp(b.0))
    });
    let mut rows = Rows::default();
    for (problem, list, recent) in problems {
        let first = list.iter().map(|i| i.opened).min();
        let last = list.iter().map(|i| i.opened).max();
        let open = list
            .iter()
            .any(|i| i.resolved.is_none() && i.closed.is_none());
        let applications: BTreeSet<&str> = list
            .iter()
            .filter_map(|i| i.application.as_deref())
            .collect();
        rows.text("problem_id", Some(problem.to_string()));
        rows.int("incidents", list.len() as i64);
        rows.int("incidents_12m", recent);
        rows.text(
            "recurring",
            Some(if recent >= 3 { "yes" } else { "no" }.into()),
        );
        rows.text(
            "applications",
            Some(applications.into_iter().collect::<Vec<_>>().join(", ")),
        );
        rows.timestamp("first_opened", first.map(|m| m.local));
        rows.timestamp("last_opened", last.map(|m| m.local));
        rows.text("open", Some(if open { "yes" } else { "no" }.into()));
        rows.float(
            "age_days",
            first
                .filter(|_| open)
                .map(|f| round2((facts.window.end_utc - f.utc) as f64 / DAY)),
        );
    }
    rows.frame(&RELIABILITY_PROBLEMS, facts.period)
}

fn investment_table(facts: &Facts) -> PolarsResult<DataFrame> {
    let (from, to) = (facts.window.start, facts.window.end);
    let mut investments: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for app in facts.applications.values() {
        if let Some(inv) = &app.investment {
            investments
                .entry(inv.as_str())
                .or_default()
                .insert(app.id.as_str());
        }
    }
    let ytd_from = facts.period.year_start().first_day();
    let year_from = facts.months[0].first_day();
    let to_day = facts.period.first_day();
    let mut impact_of_investment: BTreeMap<&str, Vec<usize>> =
        investments.keys().map(|i| (*i, Vec::new())).collect();
    for (i, row) in facts.impact.iter().enumerate() {
        if let Some(list) = row
            .investment
            .as_deref()
            .and_then(|inv| impact_of_investment.get_mut(inv))
        {
            list.push(i);
        }
    }
    let mut rows = Rows::default();
    for (investment, apps) in &investments {
        let incidents = apps
            .iter()
            .flat_map(|a| facts.of(Some(a)))
            .filter(|i| Incident::within(Some(i.opened), from, to))
            .count() as i64;
        let rows_of = &impact_of_investment[investment];
        let within = |since: NaiveDate| {
            rows_of
                .iter()
                .map(|i| &facts.impact[*i])
                .filter(move |r| r.month.is_some_and(|m| m >= since && m <= to_day))
        };
        let (minutes, month_cost, _) = impact_totals(within(to_day));
        let (_, ytd, _) = impact_totals(within(ytd_from));
        let (_, year, _) = impact_totals(within(year_from));
        rows.text("investment_id", Some(investment.to_string()));
        rows.int("applications", apps.len() as i64);
        rows.int("incidents", incidents);
        rows.float("impact_minutes", Some(minutes));
        rows.money("incident_cost_month", month_cost);
        rows.money("incident_cost_ytd", ytd);
        rows.money("incident_cost_12m", year);
    }
    rows.frame(&RELIABILITY_INVESTMENT, facts.period)
}

fn trend_table(facts: &Facts) -> PolarsResult<DataFrame> {
    let mut rows = Rows::default();
    let mut months = Vec::new();
    for (k, month) in facts.months.iter().enumerate() {
        let (from, to) = (month_start(*month), month_start(month.next()));
        let f = incident_figures(facts.incidents.iter(), from, to);
        let (minutes, cost, _) = impact_totals(facts.impact_of(None, *month));
        let levels: Vec<&ServiceLevel> = facts.levels.values().map(|l| &l[k]).collect();
        months.push(month.first_day());
        rows.int("incidents", f.opened);
        rows.int("severe_incidents", f.by_severity[0] + f.by_severity[1]);
        rows.float("impact_minutes", Some(minutes));
        rows.money("incident_cost", cost);
        rows.float("restore_p50_hours", f.restore_p50);
        rows.float(
            "sla_attainment",
            (!levels.is_empty()).then(|| {
                levels.iter().filter(|l| l.meets_slo()).count() as f64 / levels.len() as f64
            }),
        );
    }
    for month in months {
        rows.date("month", month);
    }
    rows.frame(&RELIABILITY_TREND, facts.period)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::metrics::MetricsConfig;
    use crate::zone::LocalTime;
    use chrono::NaiveDateTime;

    fn at(s: &str) -> Option<NaiveDateTime> {
        Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn empty(columns: &[(&str, DataType)]) -> DataFrame {
        DataFrame::new_infer_height(
            columns
                .iter()
                .map(|(name, dtype)| Column::new_empty((*name).into(), dtype))
                .collect(),
        )
        .unwrap()
    }

    fn cents(values: &[Option<i128>]) -> Column {
        Series::new("downtime_cost".into(), values.to_vec())
            .into_decimal(18, 2)
            .unwrap()
            .into_column()
    }

    /// Berlin time. I1 spans the night clocks go forward; I2 spans the end of February; I3 is
    /// still open; I1..I4 share problem PRB1 but I1.
    fn compute_march() -> ReliabilityTables {
        let incidents = df!(
            "incident_id" => ["I1", "I2", "I3", "I4"],
            "application_id" => ["A", "A", "A", "B"],
            "severity" => [1_i64, 2, 3, 1],
            "problem_id" => [None, Some("PRB1"), Some("PRB1"), Some("PRB1")],
            "users_affected" => [Some(100_i64), None, Some(5), Some(40)],
            "opened_at" => [at("2026-03-29 01:30"), at("2026-02-28 23:00"), at("2026-03-10 10:00"), at("2026-01-05 00:00")],
            "impact_start" => [at("2026-03-29 01:30"), at("2026-02-28 23:00"), at("2026-03-10 10:00"), at("2026-01-05 00:00")],
            "impact_end" => [at("2026-03-29 04:00"), at("2026-03-01 01:00"), None, at("2026-01-05 12:00")],
            "resolved_at" => [at("2026-03-29 05:00"), at("2026-03-01 01:00"), None, at("2026-01-05 12:00")],
            "closed_at" => [None::<NaiveDateTime>, None, None, None],
        )
        .unwrap();
        let applications = df!(
            "application_id" => ["A", "B"],
            "name" => ["Payments API", "Ledger"],
            "investment_id" => [Some("INV-1"), None],
            "slo_availability" => [Some(0.999), None],
            "business_criticality" => [Some(1_i64), Some(4)],
        )
        .unwrap();
        let march = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mut impact = df!(
            "application_id" => ["A", "A", "A"],
            "investment_id" => ["INV-1", "INV-1", "INV-1"],
            "severity" => [1_i64, 2, 3],
            "period" => [march, march, march],
            "impact_minutes" => [90.0, 60.0, 30_000.0],
        )
        .unwrap();
        impact
            .with_column(cents(&[Some(9_000), Some(6_000), None]))
            .unwrap();
        let slo = empty(&[
            ("application_id", DataType::String),
            ("period", DataType::Date),
            ("good_events", DataType::Int64),
            ("total_events", DataType::Int64),
        ]);
        let mut monthly = df!("investment_id" => ["INV-1"]).unwrap();
        monthly
            .with_column(cents(&[Some(1_000_000)]).with_name("planned_benefit".into()))
            .unwrap();
        let deployments = empty(&[
            ("deployment_id", DataType::String),
            ("application_id", DataType::String),
            (
                "finished_at",
                DataType::Datetime(TimeUnit::Microseconds, None),
            ),
            ("result", DataType::String),
            ("environment", DataType::String),
        ]);
        let links = empty(&[
            ("deployment_id", DataType::String),
            ("rule", DataType::String),
            ("incident_id", DataType::String),
        ]);
        let metrics = MetricsConfig::default();
        let zone = LocalTime::new("Europe/Berlin", (2026, 2026)).unwrap();
        let settings = Settings {
            default_discount_rate: 0.08,
            reporting_currency: "EUR",
            metrics: &metrics,
            zone: &zone,
            lang: crate::labels::Lang::En,
        };
        let inputs = ReliabilityInputs {
            incidents: &incidents,
            applications: &applications,
            impact: &impact,
            slo: &slo,
            monthly: &monthly,
            deployments: &deployments,
            links: &links,
        };
        compute(&inputs, "2026-03".parse().unwrap(), &settings).unwrap()
    }

    use crate::metrics::test_frames::{float, row, value};

    #[test]
    fn an_applications_month_is_measured_on_instants_and_split_at_month_ends() {
        let tables = compute_march();
        let a = row(&tables.application, col("application_id").eq(lit("A")));
        // Opened in March: I1 and I3 (I2 opened in February).
        assert_eq!(value(&a, "incidents").extract::<i64>(), Some(2));
        // Restored in March: I1 01:30 to 04:00 across the skipped hour (1.5 hours on instants),
        // I2 23:00 to 01:00 (2 hours).
        assert_eq!(float(&a, "restore_p50_hours"), Some(1.75));
        // Resolved in March: I1 in 2.5 hours, I2 in 2.
        assert_eq!(float(&a, "resolve_p50_hours"), Some(2.25));
        assert_eq!(value(&a, "impact_open").extract::<i64>(), Some(1), "I3");
        // Downtime of severity 1-2 in March: 90 minutes of I1 and I2's 60 after midnight.
        assert_eq!(float(&a, "downtime_minutes"), Some(150.0));
        // March in Berlin has 31 days less the skipped hour: 44,580 minutes.
        let minutes = 31.0 * 1440.0 - 60.0;
        assert_eq!(float(&a, "availability"), Some(1.0 - 150.0 / minutes));
        assert_eq!(float(&a, "error_budget"), Some(44.58));
        let consumed = float(&a, "budget_consumed").unwrap();
        assert!(
            (consumed - 150.0 / (0.001 * minutes)).abs() < 1e-9,
            "{consumed}"
        );
        assert_eq!(value(&a, "meets_slo").to_string(), "\"no\"");
        // 90.00 × 1 + 60.00 × 0.5; the severity-3 impact has no downtime cost.
        assert_eq!(value(&a, "incident_cost").to_string(), "120.00");
        assert!(
            value(&a, "notes")
                .to_string()
                .contains("1 incident(s) with impact in 2026-03 have no downtime cost")
        );
        let p = row(&tables.application, col("level").eq(lit("portfolio")));
        assert_eq!(
            float(&p, "sla_attainment"),
            Some(0.5),
            "B met its default SLO, A did not"
        );
        let b = row(&tables.application, col("application_id").eq(lit("B")));
        assert!(value(&b, "notes").to_string().contains("default SLO 0.999"));
    }

    #[test]
    fn problems_recur_at_three_incidents_in_twelve_months_and_age_while_open() {
        let tables = compute_march();
        let p = row(&tables.problems, col("problem_id").eq(lit("PRB1")));
        assert_eq!(value(&p, "incidents_12m").extract::<i64>(), Some(3));
        assert_eq!(value(&p, "recurring").to_string(), "\"yes\"");
        assert_eq!(
            value(&p, "open").to_string(),
            "\"yes\"",
            "I3 is neither resolved nor closed"
        );
        // From Jan 5 00:00 (UTC+1) to Apr 1 00:00 (UTC+2): 86 days less an hour.
        assert_eq!(float(&p, "age_days"), Some(85.96));
        assert_eq!(value(&p, "applications").to_string(), "\"A, B\"");
    }

    #[test]
    fn severities_investments_trend_and_quadrant_have_their_rows() {
        let tables = compute_march();
        assert_eq!(
            tables
                .severity
                .clone()
                .lazy()
                .filter(col("level").eq(lit("portfolio")))
                .collect()
                .unwrap()
                .height(),
            4
        );
        let inv = row(&tables.investment, col("investment_id").eq(lit("INV-1")));
        assert_eq!(value(&inv, "incident_cost_month").to_string(), "120.00");
        assert_eq!(value(&inv, "incidents").extract::<i64>(), Some(2));
        assert_eq!(tables.trend.height(), 12);
        let february = row(
            &tables.trend,
            col("month").eq(crate::metrics::stats::date_lit(
                NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            )),
        );
        assert_eq!(
            value(&february, "severe_incidents").extract::<i64>(),
            Some(1)
        );
        // A: 3 incidents in 12 months (I1..I3), no deployments, 210 of about 525.6 budget
        // minutes spent over the year; most critical, the only benefits and the most users.
        let a = row(&tables.quadrant, col("application_id").eq(lit("A")));
        assert_eq!(float(&a, "incident_score"), Some(0.938), "1 − 0.25 / 4");
        assert_eq!(float(&a, "change_failure_rate_12m"), None);
        assert_eq!(float(&a, "business_fit"), Some(1.0));
        assert_eq!(value(&a, "quadrant").to_string(), "\"Invest\"");
        // B: 720 minutes of severity 1 in January overspend its year's budget (technical fit
        // (0.979 + 0) / 2 < 0.5); least critical, fewest users: Eliminate.
        let b = row(&tables.quadrant, col("application_id").eq(lit("B")));
        assert_eq!(float(&b, "budget_score"), Some(0.0));
        assert_eq!(float(&b, "business_fit"), Some(0.0));
        assert_eq!(value(&b, "quadrant").to_string(), "\"Eliminate\"");
    }
}
