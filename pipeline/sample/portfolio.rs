//! The sample's investments and their money: cost lines (actual, budget, forecast by TBM pool),
//! planned and realized benefits with ranges, monthly progress, the application catalogue and FX
//! rates.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::Frame;
use super::random::Draws;
use super::workbook::{Cell, SampleBook};
use crate::schedule::Period;

pub const VALUE_STREAMS: [&str; 6] = [
    "Retail Banking",
    "Payments",
    "Lending",
    "Wealth",
    "Corporate Services",
    "Shared Platforms",
];
const BUSINESS_UNITS: [&str; 5] = [
    "Retail",
    "Commercial",
    "Operations",
    "Group IT",
    "Risk & Compliance",
];
const OWNERS: [&str; 12] = [
    "A. Novak",
    "B. Okafor",
    "C. Lindqvist",
    "D. Moreau",
    "E. Rossi",
    "F. Haddad",
    "G. Tanaka",
    "H. Müller",
    "I. Kowalski",
    "J. Silva",
    "K. Chen",
    "L. O'Brien",
];

/// What investments of one category look like: their names, length and monthly cost.
struct CategoryShape {
    subjects: &'static [&'static str],
    actions: &'static [&'static str],
    /// Shortest and longest duration in months.
    months: (i64, i64),
    /// Range of the peak monthly cost in EUR.
    monthly_cost: (f64, f64),
}

const RUN: CategoryShape = CategoryShape {
    subjects: &[
        "Core Banking",
        "Data Centre",
        "Service Desk",
        "Network",
        "Mainframe",
        "Identity",
        "Backup",
        "Monitoring",
    ],
    actions: &["Operations", "Refresh", "Support", "Upgrade", "Maintenance"],
    months: (12, 36),
    monthly_cost: (15_000.0, 60_000.0),
};

const GROW: CategoryShape = CategoryShape {
    subjects: &[
        "Mobile App",
        "Customer Portal",
        "Payments API",
        "Lending Journey",
        "Partner Platform",
        "Analytics",
    ],
    actions: &["Expansion", "Release 2", "Growth", "Launch", "Enhancement"],
    months: (6, 24),
    monthly_cost: (40_000.0, 150_000.0),
};

const TRANSFORM: CategoryShape = CategoryShape {
    subjects: &[
        "Cloud",
        "Data Platform",
        "Core Systems",
        "Digital Channels",
        "Process Automation",
        "Customer Data",
    ],
    actions: &["Transformation", "Modernisation", "Migration", "Programme"],
    months: (12, 30),
    monthly_cost: (80_000.0, 300_000.0),
};

/// One investment as the generator sees it: its plan and how reality departs from it.
pub struct Investment {
    pub id: String,
    pub name: String,
    pub category: &'static str,
    pub value_stream: &'static str,
    pub business_unit: &'static str,
    pub owner: &'static str,
    pub status: &'static str,
    pub start: Period,
    pub end: Period,
    pub discount_rate: Option<f64>,
    /// Planned monthly cost at the peak, in cents.
    size: i64,
    pools: Vec<(&'static str, f64)>,
    /// A pool billed in a foreign currency, if any.
    foreign: Option<(&'static str, &'static str)>,
    /// Actual over budget (1.0 on plan).
    overrun: f64,
    /// Progress against plan (below 1.0 is late).
    pace: f64,
    has_progress: bool,
    benefit: Option<Benefit>,
}

struct Benefit {
    kind: &'static str,
    monthly: i64,
    start: Period,
    realization: f64,
    lag: i32,
    /// How many months the business case counts benefits for.
    months: i32,
}

/// One application of the catalogue.
pub struct Application {
    pub id: String,
    pub name: String,
    pub investment_id: Option<String>,
    pub criticality: i64,
    pub downtime_cost: i64,
    pub slo: f64,
    pub tier: String,
    pub lifecycle: &'static str,
    pub go_live: NaiveDate,
}

/// Everything money-related in the sample.
pub struct Portfolio {
    pub investments: Vec<Investment>,
    pub applications: Vec<Application>,
    /// (currency, month) -> rate into EUR.
    fx: BTreeMap<(&'static str, Period), f64>,
}

pub fn generate(frame: &Frame) -> Portfolio {
    let fx = fx_rates(frame);
    let mut draws = Draws::new(frame.seed, "investments");
    let investments: Vec<Investment> = (1..=frame.count(200.0, 3))
        .map(|i| investment(&mut draws, frame, i))
        .collect();
    let mut draws = Draws::new(frame.seed, "applications");
    let applications = (1..=frame.count(150.0, 3))
        .map(|i| application(&mut draws, frame, i, &investments))
        .collect();
    Portfolio {
        investments,
        applications,
        fx,
    }
}

fn fx_rates(frame: &Frame) -> BTreeMap<(&'static str, Period), f64> {
    let mut draws = Draws::new(frame.seed, "fx_rates");
    let mut rates = BTreeMap::new();
    for (currency, mut rate) in [("USD", 0.92), ("GBP", 1.17)] {
        let mut month = frame.start;
        while month <= frame.end.plus(24) {
            rates.insert((currency, month), (rate * 1e6_f64).round() / 1e6);
            rate *= 1.0 + draws.normal(0.0, 0.012);
            month = month.next();
        }
    }
    rates
}

fn investment(draws: &mut Draws, frame: &Frame, i: usize) -> Investment {
    let category = draws.weighted(&[("run", 0.4), ("grow", 0.35), ("transform", 0.25)]);
    let shape = match category {
        "run" => &RUN,
        "grow" => &GROW,
        _ => &TRANSFORM,
    };
    let name = format!(
        "{} {}",
        draws.pick(shape.subjects),
        draws.pick(shape.actions)
    );
    let (months, size) = (shape.months, shape.monthly_cost);
    let start = frame.start.plus(draws.int(-12, 38) as i32);
    let duration = draws.int(months.0, months.1) as i32;
    let end = start.plus(duration - 1);
    let status = if start > frame.end {
        "proposed"
    } else if end < frame.end {
        if draws.chance(0.06) {
            "cancelled"
        } else {
            "completed"
        }
    } else if draws.chance(0.08) {
        "on_hold"
    } else {
        "active"
    };
    let size = (draws.between(size.0, size.1) * 100.0).round() as i64;
    let pools = pools_for(draws, category);
    let foreign = draws
        .chance(0.12)
        .then(|| (pools[pools.len() - 1].0, draws.pick(&["USD", "USD", "GBP"])));
    let overrun = match draws.weighted(&[(0, 0.6), (1, 0.25), (2, 0.1), (3, 0.05)]) {
        0 => draws.normal(1.0, 0.03),
        1 => draws.between(1.08, 1.2),
        2 => draws.between(1.25, 1.5),
        _ => draws.between(0.8, 0.92),
    };
    let benefit = benefit_for(draws, category, size, start, end);
    Investment {
        id: format!("INV-{i:04}"),
        name,
        category,
        value_stream: draws.pick(&VALUE_STREAMS),
        business_unit: draws.pick(&BUSINESS_UNITS),
        owner: draws.pick(&OWNERS),
        status,
        start,
        end,
        discount_rate: draws
            .chance(0.15)
            .then(|| (draws.between(0.06, 0.12) * 200.0).round() / 200.0),
        size,
        pools,
        foreign,
        overrun,
        pace: draws.between(0.7, 1.05),
        has_progress: draws.chance(0.95),
        benefit,
    }
}

fn pools_for(draws: &mut Draws, category: &str) -> Vec<(&'static str, f64)> {
    let options: &[&'static str] = match category {
        "run" => &[
            "internal_labor",
            "hardware",
            "software",
            "facilities",
            "telecom",
        ],
        "grow" => &[
            "internal_labor",
            "external_labor",
            "software",
            "outside_services",
        ],
        _ => &[
            "external_labor",
            "internal_labor",
            "software",
            "outside_services",
            "hardware",
        ],
    };
    let count = draws.int(2, 3) as usize;
    let weights = [0.55, 0.3, 0.15];
    let mut chosen: Vec<(&'static str, f64)> = Vec::with_capacity(count);
    while chosen.len() < count {
        let pool = draws.pick(options);
        if chosen.iter().all(|(p, _)| *p != pool) {
            chosen.push((pool, weights[chosen.len()]));
        }
    }
    let total: f64 = chosen.iter().map(|(_, w)| w).sum();
    chosen.into_iter().map(|(p, w)| (p, w / total)).collect()
}

fn benefit_for(
    draws: &mut Draws,
    category: &str,
    size: i64,
    start: Period,
    end: Period,
) -> Option<Benefit> {
    // Business cases count three years of benefits, four for a transformation.
    let (kind, multiple, begins, months) = match category {
        "grow" => (
            draws.pick(&["revenue", "revenue", "productivity"]),
            draws.between(0.5, 1.6),
            end.next(),
            36,
        ),
        "transform" => (
            draws.pick(&["cost_saving", "productivity", "revenue"]),
            draws.between(0.4, 1.2),
            end.next(),
            48,
        ),
        _ if draws.chance(0.4) => (
            draws.pick(&["cost_saving", "risk_reduction"]),
            draws.between(0.2, 0.6),
            start.plus(3),
            36,
        ),
        _ => return None,
    };
    let realization = match draws.weighted(&[(0, 0.5), (1, 0.35), (2, 0.15)]) {
        0 => draws.between(0.85, 1.05),
        1 => draws.between(0.5, 0.85),
        _ => draws.between(0.2, 0.5),
    };
    Some(Benefit {
        kind,
        monthly: (size as f64 * multiple).round() as i64,
        start: begins,
        realization,
        lag: draws.int(1, 4) as i32,
        months,
    })
}

fn application(
    draws: &mut Draws,
    frame: &Frame,
    i: usize,
    investments: &[Investment],
) -> Application {
    let domain = draws.pick(&[
        "Payments", "Cards", "Lending", "Deposits", "Customer", "Treasury", "Risk", "HR",
        "Finance", "Channels",
    ]);
    let function = draws.pick(&[
        "Gateway",
        "Ledger",
        "Portal",
        "Engine",
        "Hub",
        "API",
        "Reporting",
        "Scheduler",
        "Mobile",
        "Warehouse",
    ]);
    let criticality = draws.weighted(&[(1, 0.15), (2, 0.3), (3, 0.35), (4, 0.2)]);
    let (cost, slo) = match criticality {
        1 => ((800.0, 3000.0), 0.9995),
        2 => ((150.0, 800.0), 0.999),
        3 => ((30.0, 150.0), 0.995),
        _ => ((5.0, 30.0), 0.99),
    };
    let live: Vec<&Investment> = investments
        .iter()
        .filter(|v| v.start <= frame.end)
        .collect();
    let investment_id =
        (draws.chance(0.7) && !live.is_empty()).then(|| draws.pick(&live).id.clone());
    let days_before = draws.int(0, 5 * 365) as u64;
    Application {
        id: format!("APP-{i:03}"),
        name: format!("{domain} {function}"),
        investment_id,
        criticality,
        downtime_cost: (draws.between(cost.0, cost.1) * 100.0).round() as i64,
        slo,
        tier: format!("Tier {}", (criticality + draws.int(-1, 1)).clamp(1, 4)),
        lifecycle: draws.weighted(&[
            ("plan", 0.05),
            ("build", 0.1),
            ("run", 0.75),
            ("retire", 0.1),
        ]),
        go_live: frame.end.last_day() - Days::new(days_before),
    }
}

/// The share of an investment's peak monthly cost spent in month `k` of `duration`: a ramp up,
/// a plateau and a ramp down.
fn profile(k: i32, duration: i32) -> f64 {
    let t = (f64::from(k) + 0.5) / f64::from(duration);
    0.55 + 0.6 * (std::f64::consts::PI * t).sin()
}

fn months(from: Period, to: Period) -> impl Iterator<Item = Period> {
    let mut m = from;
    std::iter::from_fn(move || {
        (m <= to).then(|| {
            let current = m;
            m = m.next();
            current
        })
    })
}

impl Portfolio {
    /// The workbooks: investments, applications, costs, benefits, progress and fx_rates.
    pub fn workbooks(&self, frame: &Frame) -> Vec<SampleBook> {
        let (costs, budget_totals) = self.costs(frame);
        vec![
            self.investments_book(frame, &budget_totals),
            self.applications_book(),
            costs,
            self.benefits_book(frame),
            self.progress_book(frame),
            self.fx_book(),
        ]
    }

    fn investments_book(&self, frame: &Frame, budget_totals: &BTreeMap<String, i64>) -> SampleBook {
        let mut draws = Draws::new(frame.seed, "investments-book");
        let rows = self
            .investments
            .iter()
            .map(|v| {
                // One in ten keeps its budget only in the cost lines, as happens in practice.
                let total = budget_totals
                    .get(&v.id)
                    .filter(|_| !draws.chance(0.1))
                    .map_or(Cell::Blank, |c| Cell::Money(*c));
                vec![
                    Cell::text(&v.id),
                    Cell::text(&v.name),
                    Cell::text(v.category),
                    Cell::text(v.value_stream),
                    Cell::text(v.business_unit),
                    Cell::text(v.owner),
                    Cell::text(v.status),
                    Cell::Date(v.start.first_day()),
                    Cell::Date(v.end.last_day()),
                    total,
                    v.discount_rate.map_or(Cell::Blank, Cell::Number),
                ]
            })
            .collect();
        SampleBook {
            file_name: "investments.xlsx",
            sheet: "Investments",
            headers: vec![
                "项目编号",
                "项目名称",
                "Category",
                "Value Stream",
                "Business Unit",
                "Owner",
                "Status",
                "Start Date",
                "End Date",
                "Budget Total",
                "Discount Rate",
            ],
            rows,
        }
    }

    fn applications_book(&self) -> SampleBook {
        let rows = self
            .applications
            .iter()
            .map(|a| {
                vec![
                    Cell::text(&a.id),
                    Cell::text(&a.name),
                    Cell::optional_text(a.investment_id.as_deref()),
                    Cell::Number(a.criticality as f64),
                    Cell::Money(a.downtime_cost),
                    Cell::Number(a.slo),
                    Cell::text(&a.tier),
                    Cell::text(a.lifecycle),
                    Cell::Date(a.go_live),
                ]
            })
            .collect();
        SampleBook {
            file_name: "applications.xlsx",
            sheet: "Applications",
            headers: vec![
                "Application ID",
                "Name",
                "Investment ID",
                "Business Criticality",
                "Downtime Cost per Minute",
                "SLO Availability",
                "Tier",
                "Lifecycle Stage",
                "Go-Live Date",
            ],
            rows,
        }
    }

    /// The cost lines, and each investment's budget total in EUR (the sum of its budget lines).
    fn costs(&self, frame: &Frame) -> (SampleBook, BTreeMap<String, i64>) {
        let mut draws = Draws::new(frame.seed, "costs");
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut totals = BTreeMap::new();
        for v in &self.investments {
            let duration = (v.end.year() - v.start.year()) * 12 + v.end.month() as i32
                - v.start.month() as i32
                + 1;
            let mut total = 0_i64;
            // Heavy overruns also run late: actuals continue past the planned end, unbudgeted.
            let tail = if v.overrun > 1.25 {
                draws.int(1, 3) as i32
            } else {
                0
            };
            for (k, month) in months(v.start, v.end.plus(tail)).enumerate() {
                // The plan is whole (every budgeted month); history starts at frame.start.
                if month < frame.start {
                    continue;
                }
                let planned = (k as i32) < duration;
                let peak = v.size as f64 * profile((k as i32).min(duration - 1), duration);
                for (pool, weight) in &v.pools {
                    let currency = match v.foreign {
                        Some((p, c)) if p == *pool => c,
                        _ => "EUR",
                    };
                    let rate = self.fx.get(&(currency, month)).copied().unwrap_or(1.0);
                    let budget = (peak * weight / rate).round() as i64;
                    let line = |scenario: &str, cents: i64| {
                        cost_row(v, month, scenario, Cell::Money(cents), currency, pool)
                    };
                    if planned {
                        rows.push(line("budget", budget));
                        total += (budget as f64 * rate).round() as i64;
                    }
                    if month <= frame.end {
                        let cents = (budget as f64 * v.overrun * draws.normal(1.0, 0.07).max(0.5))
                            .round() as i64;
                        rows.push(line("actual", cents));
                    } else if planned {
                        let trend = 1.0 + (v.overrun - 1.0) * 0.8;
                        rows.push(line("forecast", (budget as f64 * trend).round() as i64));
                    }
                }
            }
            if total > 0 {
                totals.insert(v.id.clone(), total);
            }
        }
        self.add_cost_faults(frame, &mut draws, &mut rows);
        let book = SampleBook {
            file_name: "costs.xlsx",
            sheet: "Costs",
            headers: vec![
                "Investment ID",
                "Period",
                "Scenario",
                "金额",
                "Currency",
                "Cost Type",
                "Cost Pool",
                "Line ID",
            ],
            rows,
        };
        (book, totals)
    }

    /// Some amounts typed as text (which load), and the two deliberate faults (which do not).
    fn add_cost_faults(&self, frame: &Frame, draws: &mut Draws, rows: &mut Vec<Vec<Cell>>) {
        let actual: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i][2] == Cell::text("actual"))
            .collect();
        for _ in 0..5 {
            let i = draws.pick(&actual);
            if let Cell::Money(c) = rows[i][3] {
                rows[i][3] = Cell::Text(group_thousands(c));
            }
        }
        let i = actual[actual.len() / 2];
        rows[i][3] = Cell::text("12,5OO.00");
        let orphan = format!("INV-{:04}", self.investments.len() + 1);
        rows.push(vec![
            Cell::Text(orphan),
            Cell::Month(frame.end),
            Cell::text("actual"),
            Cell::Money(420_000),
            Cell::text("EUR"),
            Cell::text("opex"),
            Cell::text("outside_services"),
            Cell::text("PO-88231"),
        ]);
    }

    fn benefits_book(&self, frame: &Frame) -> SampleBook {
        let mut draws = Draws::new(frame.seed, "benefits");
        let mut rows = Vec::new();
        for v in &self.investments {
            let Some(b) = &v.benefit else { continue };
            let planned = |m: Period| -> i64 {
                let k =
                    (m.year() - b.start.year()) * 12 + m.month() as i32 - b.start.month() as i32;
                if !(0..b.months).contains(&k) {
                    return 0;
                }
                (b.monthly as f64 * (f64::from(k + 1) / 6.0).min(1.0)).round() as i64
            };
            for month in months(b.start.max(frame.start), b.start.plus(b.months - 1)) {
                let plan = planned(month);
                rows.push(vec![
                    Cell::text(&v.id),
                    Cell::Month(month),
                    Cell::text("planned"),
                    Cell::Money(plan),
                    Cell::text(b.kind),
                    Cell::Money(plan * 7 / 10),
                    Cell::Money(plan * 5 / 4),
                    Cell::Blank,
                ]);
                let earlier = planned(month.plus(-b.lag));
                if month <= frame.end && earlier > 0 {
                    let realized =
                        (earlier as f64 * b.realization * draws.normal(1.0, 0.1).max(0.3)).round()
                            as i64;
                    rows.push(vec![
                        Cell::text(&v.id),
                        Cell::Month(month),
                        Cell::text("realized"),
                        Cell::Money(realized),
                        Cell::text(b.kind),
                        Cell::Blank,
                        Cell::Blank,
                        Cell::Blank,
                    ]);
                }
            }
        }
        SampleBook {
            file_name: "benefits.xlsx",
            sheet: "Benefits",
            headers: vec![
                "Investment ID",
                "Period",
                "Scenario",
                "Amount",
                "Benefit Type",
                "Amount Low",
                "Amount High",
                "Currency",
            ],
            rows,
        }
    }

    fn progress_book(&self, frame: &Frame) -> SampleBook {
        let mut rows = Vec::new();
        for v in self.investments.iter().filter(|v| v.has_progress) {
            let duration = f64::from(
                (v.end.year() - v.start.year()) * 12 + v.end.month() as i32
                    - v.start.month() as i32
                    + 1,
            );
            for (k, month) in months(v.start, v.end.min(frame.end)).enumerate() {
                if month < frame.start {
                    continue;
                }
                let done = if v.status == "completed" && month == v.end {
                    1.0
                } else {
                    ((k as f64 + 1.0) / duration * v.pace).min(1.0)
                };
                rows.push(vec![
                    Cell::text(&v.id),
                    Cell::Month(month),
                    Cell::Number((done * 100.0).round() / 100.0),
                ]);
            }
        }
        SampleBook {
            file_name: "progress.xlsx",
            sheet: "Progress",
            headers: vec!["Investment ID", "Period", "Percent Complete"],
            rows,
        }
    }

    fn fx_book(&self) -> SampleBook {
        let rows = self
            .fx
            .iter()
            .map(|((currency, month), rate)| {
                vec![
                    Cell::text(*currency),
                    Cell::Month(*month),
                    Cell::Number(*rate),
                ]
            })
            .collect();
        SampleBook {
            file_name: "fx_rates.xlsx",
            sheet: "FX Rates",
            headers: vec!["Currency", "Period", "Rate to EUR"],
            rows,
        }
    }
}

fn cost_row(
    v: &Investment,
    month: Period,
    scenario: &str,
    amount: Cell,
    currency: &str,
    pool: &str,
) -> Vec<Cell> {
    let capex = v.category != "run" && matches!(pool, "hardware" | "software" | "external_labor");
    vec![
        Cell::text(&v.id),
        Cell::Month(month),
        Cell::text(scenario),
        amount,
        Cell::text(currency),
        Cell::text(if capex { "capex" } else { "opex" }),
        Cell::text(pool),
        Cell::Blank,
    ]
}

/// Cents as text the way a spreadsheet shows them: "12,345.60".
fn group_thousands(cents: i64) -> String {
    format!(
        "{}.{:02}",
        crate::format::group_thousands(cents / 100),
        (cents % 100).abs()
    )
}
