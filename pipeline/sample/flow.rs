//! The sample's demand funnel: demands with their stage dates in wide form (one column per stage,
//! as trackers export them), and the back-transitions (rework) as events in long form.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Weekday};

use super::Frame;
use super::portfolio::Portfolio;
use super::random::Draws;
use super::workbook::{Cell, SampleBook};

const TEAMS: [&str; 12] = [
    "Atlas", "Borealis", "Comet", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris",
    "Juniper", "Kestrel", "Lumen",
];

/// Positions of the stages in [`Demand::stages`], in funnel order.
pub const PROPOSED: usize = 0;
pub const RELEASED: usize = 5;
const ANALYSED: usize = 1;
const SCHEDULED: usize = 2;
const IN_DEVELOPMENT: usize = 3;
const IN_TEST: usize = 4;
const REVIEWED: usize = 6;
const REJECTED: usize = 7;
const CANCELLED: usize = 8;

/// One demand and when it entered each stage.
pub struct Demand {
    pub id: String,
    kind: &'static str,
    investment_id: Option<String>,
    value_stream: &'static str,
    team: &'static str,
    priority: &'static str,
    title: String,
    /// First entry into each stage, in the order of `contract::FUNNEL_STAGES`.
    pub stages: [Option<NaiveDateTime>; 9],
    /// Re-entries into earlier stages: (stage label as the tracker writes it, when).
    rework: Vec<(&'static str, NaiveDateTime)>,
}

pub struct Flow {
    pub demands: Vec<Demand>,
}

pub fn generate(frame: &Frame, portfolio: &Portfolio) -> Flow {
    let mut draws = Draws::new(frame.seed, "demands");
    let window_start = frame.start.first_day().and_time(NaiveTime::MIN);
    let window_end = frame
        .end
        .last_day()
        .and_hms_opt(23, 59, 59)
        .unwrap_or(window_start);
    let span = (window_end - window_start).num_minutes();
    let live: Vec<_> = portfolio
        .investments
        .iter()
        .filter(|v| v.start <= frame.end && v.category != "run")
        .collect();
    let mut demands = Vec::new();
    for i in 1..=frame.count(5000.0, 20) {
        let kind = draws.weighted(&[
            ("feature", 0.55),
            ("defect", 0.25),
            ("risk", 0.08),
            ("debt", 0.12),
        ]);
        let investment = (draws.chance(0.6) && !live.is_empty()).then(|| draws.pick(&live));
        let offset = Duration::minutes(draws.int(0, span));
        let proposed = working_time(&mut draws, window_start + offset);
        let stages = journey(&mut draws, kind, proposed, window_end);
        let rework = rework(&mut draws, &stages, kind);
        let verb = draws.pick(&[
            "Add", "Fix", "Automate", "Improve", "Replace", "Harden", "Simplify", "Migrate",
        ]);
        let object = draws.pick(&[
            "card limits",
            "login flow",
            "statement export",
            "payment retries",
            "KYC checks",
            "fee engine",
            "audit trail",
            "batch scheduling",
            "loan offers",
            "alerting",
        ]);
        demands.push(Demand {
            id: format!("DEM-{i:05}"),
            kind,
            investment_id: investment.map(|v| v.id.clone()),
            value_stream: investment.map_or_else(
                || draws.pick(&super::portfolio::VALUE_STREAMS),
                |v| v.value_stream,
            ),
            team: draws.pick(&TEAMS),
            priority: draws.weighted(&[("P1", 0.1), ("P2", 0.3), ("P3", 0.45), ("P4", 0.15)]),
            title: format!("{verb} {object}"),
            stages,
            rework,
        });
    }
    Flow { demands }
}

/// Moves a time into working hours on a weekday, as tracker events are.
fn working_time(draws: &mut Draws, t: NaiveDateTime) -> NaiveDateTime {
    let mut day = t.date();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap_or(day);
    }
    let minutes = draws.int(8 * 60, 18 * 60 - 1);
    day.and_time(NaiveTime::MIN) + Duration::minutes(minutes)
}

/// Stage entry times: each stage follows the previous one after a skewed wait; some demands leave
/// as rejected or cancelled, and a stage that would fall after the window has not happened yet.
fn journey(
    draws: &mut Draws,
    kind: &str,
    proposed: NaiveDateTime,
    end: NaiveDateTime,
) -> [Option<NaiveDateTime>; 9] {
    let pace = match kind {
        "defect" => 0.5,
        "risk" => 0.8,
        "debt" => 1.2,
        _ => 1.0,
    };
    let mut stages = [None; 9];
    stages[PROPOSED] = Some(proposed);
    let mut at = proposed;
    let waits = [
        (ANALYSED, 6.0, 0.6),
        (SCHEDULED, 10.0, 0.7),
        (IN_DEVELOPMENT, 7.0, 0.8),
        (IN_TEST, 12.0, 0.6),
        (RELEASED, 5.0, 0.6),
        (REVIEWED, 25.0, 0.4),
    ];
    for (stage, median_days, spread) in waits {
        let exit = match stage {
            SCHEDULED if draws.chance(0.10) => Some(REJECTED),
            IN_DEVELOPMENT | IN_TEST if draws.chance(0.03) => Some(CANCELLED),
            _ => None,
        };
        let wait = draws.skewed(median_days * pace, spread).max(0.05);
        let next = working_time(draws, at + Duration::minutes((wait * 24.0 * 60.0) as i64));
        let next = next.max(at + Duration::minutes(30));
        if next > end {
            break;
        }
        if let Some(exit) = exit {
            stages[exit] = Some(next);
            break;
        }
        stages[stage] = Some(next);
        at = next;
    }
    stages
}

/// Some demands fail their test and go back to development before release: two events, back to
/// development and into test again, both between the first test entry and the release.
fn rework(
    draws: &mut Draws,
    stages: &[Option<NaiveDateTime>; 9],
    kind: &str,
) -> Vec<(&'static str, NaiveDateTime)> {
    let (Some(test), Some(released)) = (stages[IN_TEST], stages[RELEASED]) else {
        return Vec::new();
    };
    let p = if kind == "feature" { 0.15 } else { 0.08 };
    let window = (released - test).num_minutes();
    if window < 120 || !draws.chance(p) {
        return Vec::new();
    }
    let back = test + Duration::minutes(window * 2 / 5);
    let again = test + Duration::minutes(window * 4 / 5);
    vec![("In Development", back), ("In Test", again)]
}

impl Flow {
    pub fn workbooks(&self) -> Vec<SampleBook> {
        let wide = self
            .demands
            .iter()
            .map(|d| {
                let mut row = vec![
                    Cell::text(&d.id),
                    Cell::text(d.kind),
                    Cell::optional_text(d.investment_id.as_deref()),
                    Cell::text(d.value_stream),
                    Cell::text(d.team),
                    Cell::text(d.priority),
                    Cell::text(&d.title),
                ];
                row.extend(
                    d.stages
                        .iter()
                        .map(|s| s.map_or(Cell::Blank, Cell::DateTime)),
                );
                row
            })
            .collect();
        let events = self
            .demands
            .iter()
            .flat_map(|d| {
                d.rework.iter().map(|(stage, at)| {
                    vec![Cell::text(&d.id), Cell::text(*stage), Cell::DateTime(*at)]
                })
            })
            .collect();
        vec![
            SampleBook {
                file_name: "demands.xlsx",
                sheet: "Demands",
                headers: vec![
                    "需求编号",
                    "Type",
                    "Investment ID",
                    "Value Stream",
                    "Team",
                    "Priority",
                    "Title",
                    "Proposed",
                    "Analysed",
                    "Scheduled",
                    "Dev Start",
                    "Test Start",
                    "Released",
                    "Reviewed",
                    "Rejected",
                    "Cancelled",
                ],
                rows: wide,
            },
            SampleBook {
                file_name: "demand_events.xlsx",
                sheet: "Transitions",
                headers: vec!["Demand ID", "Stage", "Entered At"],
                rows: events,
            },
        ]
    }
}
