//! The sample's operations: deployments by release strategy (canary failing least, recreate
//! most), incidents (some caused by failed deployments, some spanning a month end) and monthly
//! SLO measurements consistent with the incidents' impact.

use chrono::{Duration, NaiveDateTime, NaiveTime, Timelike};

use super::Frame;
use super::flow::{Flow, RELEASED};
use super::portfolio::{Application, Portfolio};
use super::random::Draws;
use super::workbook::{Cell, SampleBook};
use crate::schedule::Period;

struct Deployment {
    application: usize,
    started: NaiveDateTime,
    finished: NaiveDateTime,
    result: &'static str,
    environment: &'static str,
    strategy: &'static str,
    demand_id: Option<String>,
}

struct Incident {
    application: usize,
    severity: Option<i64>,
    opened: NaiveDateTime,
    impact_start: Option<NaiveDateTime>,
    impact_end: Option<NaiveDateTime>,
    resolved: Option<NaiveDateTime>,
    closed: Option<NaiveDateTime>,
    caused_by: Option<usize>,
    problem: Option<String>,
    users: i64,
    category: &'static str,
}

pub struct Operations {
    deployments: Vec<Deployment>,
    incidents: Vec<Incident>,
    slo: Vec<Vec<Cell>>,
    application_ids: Vec<String>,
}

pub fn generate(frame: &Frame, portfolio: &Portfolio, flow: &Flow) -> Operations {
    let window_start = frame.start.first_day().and_time(NaiveTime::MIN);
    let window_end = frame
        .end
        .last_day()
        .and_hms_opt(23, 59, 59)
        .unwrap_or(window_start);
    let apps = &portfolio.applications;
    let deployments = deployments(frame, apps, flow, window_start, window_end);
    let incidents = incidents(frame, apps, &deployments, window_start, window_end);
    let slo = slo_rows(frame, apps, &incidents);
    Operations {
        deployments,
        incidents,
        slo,
        application_ids: apps.iter().map(|a| a.id.clone()).collect(),
    }
}

/// Busier, more critical applications deploy and fail more visibly; retired ones rarely change.
fn pick_application(draws: &mut Draws, apps: &[Application]) -> usize {
    let weights: Vec<(usize, f64)> = apps
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let w = match a.lifecycle {
                "retire" => 0.2,
                "plan" => 0.05,
                _ => 1.0,
            };
            (i, w * (5 - a.criticality) as f64)
        })
        .collect();
    draws.weighted(&weights)
}

fn deployments(
    frame: &Frame,
    apps: &[Application],
    flow: &Flow,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Vec<Deployment> {
    let mut draws = Draws::new(frame.seed, "deployments");
    let wanted = frame.count(3000.0, 10);
    let mut out = Vec::with_capacity(wanted);
    for d in &flow.demands {
        if out.len() * 10 >= wanted * 6 {
            break;
        }
        if let Some(released) = d.stages[RELEASED] {
            let app = pick_application(&mut draws, apps);
            out.push(deployment(
                &mut draws,
                app,
                released,
                "production",
                Some(d.id.clone()),
            ));
        }
    }
    let span = (end - start).num_minutes();
    while out.len() < wanted {
        let app = pick_application(&mut draws, apps);
        let finished = start + Duration::minutes(draws.int(0, span));
        let environment = if draws.chance(0.8) {
            "production"
        } else {
            "staging"
        };
        out.push(deployment(&mut draws, app, finished, environment, None));
    }
    out.sort_by_key(|d| d.finished);
    out
}

fn deployment(
    draws: &mut Draws,
    application: usize,
    finished: NaiveDateTime,
    environment: &'static str,
    demand_id: Option<String>,
) -> Deployment {
    let strategy = draws.weighted(&[
        ("Blue-Green", 0.25),
        ("Canary", 0.25),
        ("Rolling", 0.35),
        ("Recreate", 0.15),
    ]);
    let failure = match strategy {
        "Canary" => 0.04,
        "Blue-Green" => 0.06,
        "Rolling" => 0.10,
        _ => 0.18,
    };
    let result = if draws.chance(failure) {
        if draws.chance(0.5) {
            "Failed"
        } else {
            "Rolled Back"
        }
    } else {
        "Success"
    };
    let minutes = draws.skewed(20.0, 0.6).clamp(2.0, 240.0) as i64;
    Deployment {
        application,
        started: finished - Duration::minutes(minutes),
        finished,
        result,
        environment,
        strategy,
        demand_id,
    }
}

fn incidents(
    frame: &Frame,
    apps: &[Application],
    deployments: &[Deployment],
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Vec<Incident> {
    let mut draws = Draws::new(frame.seed, "incidents");
    let wanted = frame.count(2000.0, 10);
    let mut out: Vec<Incident> = Vec::with_capacity(wanted);
    for (i, d) in deployments.iter().enumerate() {
        let p = match (d.environment, d.result) {
            ("production", "Success") => 0.02,
            ("production", _) => 0.55,
            _ => 0.0,
        };
        if out.len() < wanted / 3 && draws.chance(p) {
            let opened = d.finished + Duration::minutes(draws.int(5, 90));
            let severity = draws.weighted(&[(1, 0.1), (2, 0.3), (3, 0.4), (4, 0.2)]);
            out.push(incident(
                &mut draws,
                d.application,
                severity,
                opened,
                Some(i),
                end,
            ));
        }
    }
    let span = (end - start).num_minutes();
    while out.len() < wanted {
        let app = pick_application(&mut draws, apps);
        let severity = draws.weighted(&[(1, 0.04), (2, 0.14), (3, 0.42), (4, 0.4)]);
        let mut opened = start + Duration::minutes(draws.int(0, span));
        if draws.chance(0.02) {
            // Late on a month's last day: the impact runs into the next month.
            let last = Period::containing(opened.date()).last_day();
            opened =
                last.and_time(NaiveTime::MIN) + Duration::minutes(draws.int(22 * 60, 23 * 60 + 30));
        }
        out.push(incident(&mut draws, app, severity, opened, None, end));
    }
    out.sort_by_key(|i| i.opened);
    let middle = out.len() / 2;
    out[middle].severity = None;
    out
}

fn incident(
    draws: &mut Draws,
    application: usize,
    severity: i64,
    opened: NaiveDateTime,
    caused_by: Option<usize>,
    end: NaiveDateTime,
) -> Incident {
    let median = match severity {
        1 => 60.0,
        2 => 90.0,
        3 => 180.0,
        _ => 360.0,
    };
    let impact_start = opened - Duration::minutes(draws.int(0, 20));
    let long = opened.hour() >= 22;
    let minutes = if long {
        draws.int(180, 600)
    } else {
        draws.skewed(median, 0.7).clamp(5.0, 4000.0) as i64
    };
    let impact_end = impact_start + Duration::minutes(minutes);
    // A few impacts of the last week are still open when the sample ends; an older incident has
    // always been closed (a service desk does not leave business impact open for months).
    let recorded = impact_end <= end && !(draws.chance(0.03) && opened + Duration::days(7) > end);
    let resolved = impact_end + Duration::minutes(draws.int(0, 120));
    let closed = resolved + Duration::days(draws.int(1, 5));
    Incident {
        application,
        severity: Some(severity),
        opened,
        impact_start: Some(impact_start),
        impact_end: recorded.then_some(impact_end),
        resolved: (recorded && resolved <= end).then_some(resolved),
        closed: (recorded && closed <= end).then_some(closed),
        caused_by,
        problem: draws
            .chance(0.08)
            .then(|| format!("PRB-{:04}", draws.int(1, 120))),
        users: match severity {
            1 => draws.int(5_000, 80_000),
            2 => draws.int(500, 10_000),
            3 => draws.int(20, 1_000),
            _ => draws.int(0, 50),
        },
        category: draws.pick(&[
            "software",
            "hardware",
            "network",
            "capacity",
            "configuration",
            "security",
        ]),
    }
}

/// Monthly events per application: traffic by criticality, bad events from the minutes of severe
/// incident impact in the month plus a small background error rate.
fn slo_rows(frame: &Frame, apps: &[Application], incidents: &[Incident]) -> Vec<Vec<Cell>> {
    let mut draws = Draws::new(frame.seed, "slo_measurements");
    let mut rows = Vec::new();
    for (a, app) in apps.iter().enumerate() {
        if app.lifecycle == "plan" {
            continue;
        }
        let base = match app.criticality {
            1 => 50_000_000.0,
            2 => 10_000_000.0,
            3 => 2_000_000.0,
            _ => 500_000.0,
        };
        let mut month = frame.start;
        while month <= frame.end {
            if app.go_live <= month.last_day() {
                let from = month.first_day().and_time(NaiveTime::MIN);
                let to = month.next().first_day().and_time(NaiveTime::MIN);
                let minutes = (to - from).num_minutes() as f64;
                let impact: i64 = incidents
                    .iter()
                    .filter(|i| i.application == a && i.severity.is_some_and(|s| s <= 2))
                    .filter_map(|i| Some((i.impact_start?, i.impact_end?)))
                    .map(|(s, e)| (e.min(to) - s.max(from)).num_minutes().max(0))
                    .sum();
                let total = (base * draws.normal(1.0, 0.08).max(0.5)).round();
                let bad_share = impact as f64 / minutes + draws.between(0.00001, 0.0002);
                let good = (total * (1.0 - bad_share.min(1.0))).round();
                rows.push(vec![
                    Cell::text(&app.id),
                    Cell::Month(month),
                    Cell::Number(good),
                    Cell::Number(total),
                ]);
            }
            month = month.next();
        }
    }
    rows
}

fn time(t: Option<NaiveDateTime>) -> Cell {
    t.map_or(Cell::Blank, Cell::DateTime)
}

impl Operations {
    pub fn workbooks(&self) -> Vec<SampleBook> {
        let id = |i: usize| format!("DEP-{:05}", i + 1);
        let deployments = self
            .deployments
            .iter()
            .enumerate()
            .map(|(i, d)| {
                vec![
                    Cell::Text(id(i)),
                    Cell::text(&self.application_ids[d.application]),
                    Cell::DateTime(d.started),
                    Cell::DateTime(d.finished),
                    Cell::text(d.result),
                    Cell::text(d.environment),
                    Cell::text(d.strategy),
                    Cell::optional_text(d.demand_id.as_deref()),
                ]
            })
            .collect();
        let incidents = self
            .incidents
            .iter()
            .enumerate()
            .map(|(i, n)| {
                vec![
                    Cell::Text(format!("INC-{:05}", i + 1)),
                    Cell::text(&self.application_ids[n.application]),
                    n.severity.map_or(Cell::Blank, |s| Cell::Number(s as f64)),
                    Cell::DateTime(n.opened),
                    time(n.impact_start),
                    time(n.impact_end),
                    time(n.resolved),
                    time(n.closed),
                    n.caused_by.map_or(Cell::Blank, |d| Cell::Text(id(d))),
                    Cell::optional_text(n.problem.as_deref()),
                    Cell::Number(n.users as f64),
                    Cell::text(n.category),
                ]
            })
            .collect();
        vec![
            SampleBook {
                file_name: "deployments.xlsx",
                sheet: "Deployments",
                headers: vec![
                    "Deployment ID",
                    "Application ID",
                    "Started At",
                    "Finished At",
                    "Result",
                    "Environment",
                    "Strategy",
                    "Demand ID",
                ],
                rows: deployments,
            },
            SampleBook {
                file_name: "incidents.xlsx",
                sheet: "Incidents",
                headers: vec![
                    "Incident ID",
                    "Application ID",
                    "Severity",
                    "Opened At",
                    "Impact Start",
                    "Impact End",
                    "Resolved At",
                    "Closed At",
                    "Caused By Deployment",
                    "Problem ID",
                    "Users Affected",
                    "Category",
                ],
                rows: incidents,
            },
            SampleBook {
                file_name: "slo_measurements.xlsx",
                sheet: "SLO",
                headers: vec!["Application ID", "Period", "Good Events", "Total Events"],
                rows: self.slo.clone(),
            },
        ]
    }
}
