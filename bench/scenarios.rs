//! Benchmark of a large portfolio scenario: N candidates (2,000 by default) over two years, with
//! a total, yearly and quarterly budgets, a category cap, exclusive groups, prerequisites and
//! must-funds, solved at 100% of the envelope and at the nine default frontier levels, with the
//! shadow prices and the reasons. Prints the time of each part, for the README and the note. A
//! figure to report, not a test: it depends on the machine and on what else runs on it.
//!
//!   bench/scenarios.sh [CANDIDATES] [RUNS]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use itvalue::Period;
use itvalue::config::scenario::{Budget, DEFAULT_FRONTIER, Objective, Quarter, Scenario};
use itvalue::labels::Lang;
use itvalue::metrics::decisions::Stage;
use itvalue::metrics::scenarios::candidates::{Investment, candidates};
use itvalue::metrics::scenarios::{Status, evaluate};
use itvalue::metrics::solver;
use rust_decimal::Decimal;

/// xorshift64*: the same portfolio on every machine.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn month(text: &str) -> Period {
    text.parse().expect("a month")
}

fn portfolio(n: usize) -> Vec<Investment> {
    let mut draws = Draws(0x5eed_2027);
    (0..n)
        .map(|i| {
            let d = &mut draws;
            let category = match d.next() {
                x if x < 0.4 => "run",
                x if x < 0.75 => "grow",
                _ => "transform",
            };
            let stage = if d.next() < 0.35 {
                Stage::UnderWay
            } else {
                Stage::NotStarted
            };
            // 50,000 to 2,000,000 a year, spread over 6 to 24 months from a start in the window.
            let yearly = 50_000.0 + d.next().powi(2) * 1_950_000.0;
            let start = (d.next() * 18.0) as i32;
            let months = 6 + (d.next() * 18.0) as i32;
            let first = month("2027-01").plus(start);
            let mut costs = BTreeMap::new();
            for m in 0..months {
                let at = first.plus(m);
                if at <= month("2028-12") {
                    let cents = (yearly / 12.0 * (0.8 + 0.4 * d.next()) * 100.0).round() as i64;
                    costs.insert(at, Some(Decimal::new(cents, 2)));
                }
            }
            let total: f64 = costs
                .values()
                .map(|c: &Option<Decimal>| c.unwrap().try_into().unwrap_or(0.0_f64))
                .sum();
            // NPV from −40% to +160% of the cost; run investments lean negative.
            let lean = if category == "run" { -0.3 } else { 0.0 };
            let npv = total * (lean - 0.4 + 2.0 * d.next().powf(1.5));
            let probability = (0.3 + 0.7 * d.next()).min(0.99);
            Investment {
                id: format!("INV-{i:05}"),
                name: format!("Candidate {i}"),
                category: category.to_string(),
                stage,
                runs_the_business: category == "run",
                costs,
                npv_p50: Some(Decimal::new((npv * 100.0).round() as i64, 2)),
                expected_npv: Some(Decimal::new((npv * 102.0).round() as i64, 2)),
                probability_positive: Some(probability),
                figures: BTreeMap::new(),
            }
        })
        .collect()
}

fn scenario(investments: &[Investment]) -> Scenario {
    // Budgets at about 40% of what every candidate would cost, so that they bind.
    let cost = |from: &str, to: &str| -> f64 {
        investments
            .iter()
            .flat_map(|i| i.costs.range(month(from)..=month(to)))
            .map(|(_, c)| f64::try_from(c.unwrap()).unwrap_or(0.0))
            .sum()
    };
    let amount = |x: f64| Decimal::new((x * 0.4).round() as i64, 0);
    let ids = |from: usize, count: usize| -> Vec<String> {
        (from..from + count)
            .map(|i| format!("INV-{i:05}"))
            .collect()
    };
    let mut exclusive = BTreeMap::new();
    for g in 0..20 {
        exclusive.insert(format!("g{g}"), ids(100 + 3 * g, 3));
    }
    let mut requires = BTreeMap::new();
    for r in 0..30 {
        requires.insert(format!("INV-{:05}", 300 + 2 * r), ids(301 + 2 * r, 1));
    }
    let mut quarters = BTreeMap::new();
    for q in 1..=4 {
        let quarter = Quarter {
            year: 2027,
            quarter: q,
        };
        let (first, last) = (quarter.first().to_string(), quarter.last().to_string());
        quarters.insert(quarter, amount(cost(&first, &last) * 1.2));
    }
    Scenario {
        name: "Benchmark".into(),
        window: Some((month("2027-01"), month("2028-12"))),
        budget: Budget {
            total: Some(amount(cost("2027-01", "2028-12"))),
            years: [
                (2027, amount(cost("2027-01", "2027-12") * 1.05)),
                (2028, amount(cost("2028-01", "2028-12") * 1.05)),
            ]
            .into_iter()
            .collect(),
            quarters,
        },
        objective: Objective::NpvP50,
        must_fund: ids(10, 5),
        must_stop: ids(20, 5),
        requires,
        exclusive,
        category_max_share: [("transform".to_string(), Decimal::new(35, 2))]
            .into_iter()
            .collect(),
        min_probability_positive: Some(0.5),
        keep_running: false,
        frontier: DEFAULT_FRONTIER.to_vec(),
        time_limit_seconds: 60.0,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let investments = portfolio(n);
    let scenario = scenario(&investments);
    let period = month("2026-10");
    let mut totals = Vec::new();
    for run in 1..=runs {
        // The main solve alone, as the job's first step does it.
        let months = (month("2027-01"), month("2028-12"));
        let all = candidates(&investments, months, &scenario.objective, Lang::En);
        let budgets = {
            let mut rows = vec![itvalue::metrics::scenarios::program::BudgetRow {
                label: "total".into(),
                first: months.0,
                last: months.1,
                limit: scenario.budget.total.unwrap(),
            }];
            for (year, limit) in &scenario.budget.years {
                rows.push(itvalue::metrics::scenarios::program::BudgetRow {
                    label: year.to_string(),
                    first: Period::new(*year, 1).unwrap(),
                    last: Period::new(*year, 12).unwrap(),
                    limit: *limit,
                });
            }
            for (quarter, limit) in &scenario.budget.quarters {
                rows.push(itvalue::metrics::scenarios::program::BudgetRow {
                    label: quarter.to_string(),
                    first: quarter.first(),
                    last: quarter.last(),
                    limit: *limit,
                });
            }
            rows
        };
        let model = itvalue::metrics::scenarios::program::build(
            &scenario,
            &all,
            budgets,
            &Default::default(),
            Lang::En,
        )
        .expect("the benchmark's scenario is consistent");
        let clock = Instant::now();
        let start = model.greedy(1.0);
        let greedy = clock.elapsed();
        let program = model.at_level(1.0);
        let solved = solver::solve(&program, start.as_deref(), Duration::from_secs(60))
            .expect("the solver runs");
        let proven = matches!(solved.outcome, solver::Solved::Optimal(_));
        let clock = Instant::now();
        let prices = model.shadow_prices().expect("the relaxation solves");
        let relaxations = clock.elapsed();
        // The whole scenario: the chain of nine levels and 100%, prices, reasons and rows.
        let clock = Instant::now();
        let evaluated = evaluate(&scenario, &investments, period, "EUR", Lang::En);
        let whole = clock.elapsed();
        let status = match &evaluated.status {
            Status::Optimal => "optimal".to_string(),
            Status::BestFound => "best found within the time limit".to_string(),
            Status::NoSelection(why) => format!("no selection: {why}"),
        };
        let funded = evaluated
            .explained
            .iter()
            .filter(|e| e.decision == "funded" || e.decision == "continued")
            .count();
        println!(
            "run {run}: {} candidates ({} variables, {} rows): greedy start {:.3} s; main solve {:.3} s ({}); {} shadow prices {:.3} s; whole scenario with {} frontier levels {:.3} s: {status}, {funded} selected",
            n,
            model.vars.len(),
            program.rows.len(),
            greedy.as_secs_f64(),
            solved.elapsed.as_secs_f64(),
            if proven {
                "proven optimal"
            } else {
                "time limit"
            },
            prices.iter().flatten().count(),
            relaxations.as_secs_f64(),
            evaluated.frontier.len(),
            whole.as_secs_f64(),
        );
        totals.push(whole.as_secs_f64());
    }
    totals.sort_by(f64::total_cmp);
    println!(
        "median of {runs} runs: {:.3} s for the whole scenario of {n} candidates",
        totals[totals.len() / 2]
    );
}
