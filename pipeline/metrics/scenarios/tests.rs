//! Scenarios small enough to work out by hand: each test states the optimum and why, and the
//! larger ones are checked against every possible selection.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::Decimal;

use super::candidates::Investment;
use super::evaluate::{Evaluated, Status, evaluate};
use super::reasons::decision;
use crate::config::scenario::{Budget, DEFAULT_FRONTIER, Objective, Quarter, Scenario};
use crate::labels::Lang;
use crate::metrics::decisions::Stage;
use crate::schedule::Period;

fn p(text: &str) -> Period {
    text.parse().unwrap()
}

const PERIOD: &str = "2026-10";

fn eur(units: i64) -> Decimal {
    Decimal::new(units * 100, 2)
}

/// A scenario over 2027 with a total envelope and nothing else.
fn scenario(total: i64) -> Scenario {
    Scenario {
        name: "Test".into(),
        window: Some((p("2027-01"), p("2027-12"))),
        budget: Budget {
            total: Some(eur(total)),
            years: BTreeMap::new(),
            quarters: BTreeMap::new(),
        },
        objective: Objective::NpvP50,
        must_fund: Vec::new(),
        must_stop: Vec::new(),
        requires: BTreeMap::new(),
        exclusive: BTreeMap::new(),
        category_max_share: BTreeMap::new(),
        min_probability_positive: None,
        keep_running: true,
        frontier: DEFAULT_FRONTIER.to_vec(),
        time_limit_seconds: 10.0,
    }
}

/// A proposed grow investment costing `cost` in January 2027, worth `npv`.
fn proposal(id: &str, cost: i64, npv: i64) -> Investment {
    investment(
        id,
        "grow",
        Stage::NotStarted,
        &[("2027-01", cost)],
        npv,
        0.9,
    )
}

fn investment(
    id: &str,
    category: &str,
    stage: Stage,
    costs: &[(&str, i64)],
    npv: i64,
    probability: f64,
) -> Investment {
    Investment {
        id: id.into(),
        name: format!("{id} name"),
        category: category.into(),
        stage,
        runs_the_business: category == "run",
        costs: costs.iter().map(|(m, c)| (p(m), Some(eur(*c)))).collect(),
        npv_p50: Some(eur(npv)),
        expected_npv: Some(eur(npv + 1)),
        probability_positive: Some(probability),
        figures: [
            ("forward_npv_p50", Some(npv as f64)),
            ("probability_npv_positive", Some(probability)),
        ]
        .into_iter()
        .collect(),
    }
}

fn run(s: &Scenario, investments: &[Investment]) -> Evaluated {
    let mut sorted = investments.to_vec();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    evaluate(s, &sorted, p(PERIOD), "EUR", Lang::En)
}

/// The ids selected (funded or continued), in id order.
fn selected(e: &Evaluated) -> Vec<&str> {
    e.candidates
        .iter()
        .zip(&e.explained)
        .filter(|(_, x)| x.decision == decision::FUNDED || x.decision == decision::CONTINUED)
        .map(|(c, _)| c.id())
        .collect()
}

fn decision_of<'e>(e: &'e Evaluated, id: &str) -> (&'static str, &'e str) {
    let i = e.candidates.iter().position(|c| c.id() == id).unwrap();
    (e.explained[i].decision, e.explained[i].reason.as_str())
}

fn no_selection(e: &Evaluated) -> &str {
    match &e.status {
        Status::NoSelection(why) => why,
        other => panic!("expected no selection, got {other:?}"),
    }
}

#[test]
fn the_optimum_beats_the_greedy_order_of_value_per_cost() {
    // Budget 100. A: 60 for 66 (1.10 per EUR), B and C: 50 for 50 each (1.00). Ranking by value
    // per cost funds A first, and then neither B nor C fits: 66. The eight selections by hand:
    // {} 0, {A} 66, {B} 50, {C} 50, {A,B} and {A,C} cost 110 (over), {B,C} 100 for 100, {A,B,C}
    // over. The optimum is {B, C}: 100.
    let s = scenario(100);
    let e = run(
        &s,
        &[
            proposal("A", 60, 66),
            proposal("B", 50, 50),
            proposal("C", 50, 50),
        ],
    );
    assert_eq!(e.status, Status::Optimal);
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(e.value, Some(100.0));
    assert_eq!(e.funded_cost, Some(eur(100)));
    // The greedy order, for comparison, stops at A.
    let candidates = e.candidates.clone();
    let model = super::program::build(
        &s,
        &candidates,
        vec![super::program::BudgetRow {
            label: "total".into(),
            first: p("2027-01"),
            last: p("2027-12"),
            limit: eur(100),
        }],
        &Default::default(),
        Lang::En,
    )
    .unwrap();
    let greedy = model.greedy(1.0).unwrap();
    assert_eq!(greedy, [true, false, false]);
    assert_eq!(model.program.value_of(&greedy), 66.0);
    // The LP relaxation funds A and 40 of B or C: one more EUR buys 1.00 of NPV. A is worth
    // more per EUR than that, but does not fit beside B and C, which are worth more together.
    let (d, why) = decision_of(&e, "A");
    assert_eq!(d, decision::NOT_FUNDED);
    assert_eq!(
        why,
        "the total budget (it needs 60 EUR, 0 EUR is left) bound: NPV per EUR 1.10 at or above the marginal 1.00, but it does not fit beside candidates worth more together"
    );
    assert_eq!(
        decision_of(&e, "B").1,
        "NPV per EUR 1.00 at or above the marginal 1.00"
    );
    assert_eq!(e.envelope_rows[0].shadow_price, Some(1.0));
}

#[test]
fn a_candidate_below_the_marginal_is_not_funded_with_the_budget_that_binds() {
    // Budget 2027 of 100: A 50 for 100 (2.00 per EUR), B 50 for 60 (1.20), D 50 for 30 (0.60).
    // The optimum is {A, B} (160); the relaxation's last EUR goes to B: the marginal is 1.20.
    let mut s = scenario(0);
    s.budget.total = None;
    s.budget.years.insert(2027, eur(100));
    let e = run(
        &s,
        &[
            proposal("A", 50, 100),
            proposal("B", 50, 60),
            proposal("D", 50, 30),
        ],
    );
    assert_eq!(selected(&e), ["A", "B"]);
    assert_eq!(
        decision_of(&e, "D"),
        (
            decision::NOT_FUNDED,
            "the 2027 budget bound; NPV per EUR 0.60 below the marginal 1.20"
        )
    );
    assert_eq!(
        decision_of(&e, "A").1,
        "NPV per EUR 2.00 at or above the marginal 1.20"
    );
}

#[test]
fn yearly_and_quarterly_budgets_bind_their_own_months() {
    // Window 2027-2028; 2027 budget 100, 2028 budget 100, Q1 2027 at most 40.
    // A: 2027-02 60 + 2028-02 40 for 90; B: 2027-03 30 + 2028-03 70 for 80;
    // C: 2027-05 50 for 60; D: 2027-01 50 for 70 (Q1).
    // Q1 holds A's 60? No: 60 > 40, so A is out, and D (50 in January) too: the quarter
    // allows 40. B spends 30 in Q1. Left: B (80) and C (60): 2027 80, 2028 70: fits. Best 140.
    let mut s = scenario(0);
    s.window = Some((p("2027-01"), p("2028-12")));
    s.budget.total = None;
    s.budget.years.insert(2027, eur(100));
    s.budget.years.insert(2028, eur(100));
    s.budget.quarters.insert(
        Quarter {
            year: 2027,
            quarter: 1,
        },
        eur(40),
    );
    let g = |id: &str, costs: &[(&str, i64)], npv: i64| {
        investment(id, "grow", Stage::NotStarted, costs, npv, 0.9)
    };
    let e = run(
        &s,
        &[
            g("A", &[("2027-02", 60), ("2028-02", 40)], 90),
            g("B", &[("2027-03", 30), ("2028-03", 70)], 80),
            g("C", &[("2027-05", 50)], 60),
            g("D", &[("2027-01", 50)], 70),
        ],
    );
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(e.value, Some(140.0));
    let rows: Vec<(&str, Option<Decimal>)> = e
        .envelope_rows
        .iter()
        .map(|r| (r.constraint.as_str(), r.funded))
        .collect();
    assert_eq!(
        rows,
        [
            ("the 2027 budget", Some(eur(80))),
            ("the 2028 budget", Some(eur(70))),
            ("the 2027-Q1 budget", Some(eur(30))),
        ]
    );
    // D needs 50 in January: 10 is left of the quarter, 20 of the year.
    let d = decision_of(&e, "D").1;
    assert!(d.contains("2027-Q1 budget") && d.contains("bound"), "{d}");
}

#[test]
fn must_fund_and_must_stop_override_the_objective() {
    // Budget 100: A 50 for 100, B 50 for 80, C 50 for 10. Free, the best is {A, B}. C must be
    // funded and A must be stopped: only B fits beside C: {B, C}.
    let mut s = scenario(100);
    s.must_fund = vec!["C".into()];
    s.must_stop = vec!["A".into()];
    let e = run(
        &s,
        &[
            proposal("A", 50, 100),
            proposal("B", 50, 80),
            proposal("C", 50, 10),
        ],
    );
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(decision_of(&e, "A"), (decision::NOT_FUNDED, "must-stop"));
    assert_eq!(decision_of(&e, "C"), (decision::FUNDED, "must-fund"));
}

#[test]
fn an_exclusive_group_funds_one_of_its_members() {
    // Budget 200: A 50 for 100 and B 50 for 90 exclude each other; C 100 for 50. Best: A and C
    // (150) rather than A and B (not allowed).
    let mut s = scenario(200);
    s.exclusive
        .insert("crm".into(), vec!["A".into(), "B".into()]);
    let e = run(
        &s,
        &[
            proposal("A", 50, 100),
            proposal("B", 50, 90),
            proposal("C", 100, 50),
        ],
    );
    assert_eq!(selected(&e), ["A", "C"]);
    assert_eq!(
        decision_of(&e, "B"),
        (decision::NOT_FUNDED, "exclusive group crm: A is funded")
    );
}

#[test]
fn a_prerequisite_is_funded_for_what_it_enables() {
    // Budget 100. Platform P costs 40 and is worth −10 alone; app Q (30, worth 60) needs it.
    // R (60, worth 45) is free of both. {P, Q} is worth 50 for 70; {R} 45; {Q, R} is not
    // allowed; {P, Q, R} costs 130. Best: {P, Q}.
    let mut s = scenario(100);
    s.requires.insert("Q".into(), vec!["P".into()]);
    let e = run(
        &s,
        &[
            proposal("P", 40, -10),
            proposal("Q", 30, 60),
            proposal("R", 60, 45),
        ],
    );
    assert_eq!(selected(&e), ["P", "Q"]);
    assert_eq!(e.value, Some(50.0));
    assert!(
        decision_of(&e, "P")
            .1
            .starts_with("needed by Q, which is funded"),
        "{}",
        decision_of(&e, "P").1
    );
    // Without the platform allowed, the app cannot be funded either.
    s.must_stop = vec!["P".into()];
    let e = run(
        &s,
        &[
            proposal("P", 40, -10),
            proposal("Q", 30, 60),
            proposal("R", 60, 45),
        ],
    );
    assert_eq!(selected(&e), ["R"]);
    assert_eq!(
        decision_of(&e, "Q"),
        (decision::NOT_FUNDED, "needs P, which is not funded")
    );
}

#[test]
fn a_category_cap_limits_its_share_of_the_funded_cost() {
    // Budget 200; transform at most 40% of the funded cost. T1 (transform) 60 for 120, T2
    // (transform) 40 for 70, G1 (grow) 60 for 40, G2 (grow) 40 for 20. Free: all fit (200) for
    // 250, but transform would be 100 of 200 = 50%. With both T: 100 ≤ 0.4 × funded needs 250 of
    // cost: impossible. With T1 alone: 60 ≤ 0.4 × (60 + grow) needs grow ≥ 90: G1 + G2 (100):
    // 180 for 120 + 60 = 180. With T2 alone: 40 ≤ 0.4 × (40 + grow) needs grow ≥ 60: G1 (+G2):
    // T2 + G1 + G2 = 130. Best: {T1, G1, G2}, 180, transform 60 of 160 = 37.5%.
    let mut s = scenario(200);
    s.category_max_share
        .insert("transform".into(), Decimal::new(4, 1));
    let t = |id: &str, cost: i64, npv: i64| {
        investment(
            id,
            "transform",
            Stage::NotStarted,
            &[("2027-01", cost)],
            npv,
            0.9,
        )
    };
    let e = run(
        &s,
        &[
            t("T1", 60, 120),
            t("T2", 40, 70),
            proposal("G1", 60, 40),
            proposal("G2", 40, 20),
        ],
    );
    assert_eq!(selected(&e), ["G1", "G2", "T1"]);
    assert_eq!(e.value, Some(180.0));
    assert_eq!(
        decision_of(&e, "T2").1,
        "the cap of transform at 40% of the funded cost bound"
    );
    let cap = &e.envelope_rows[1];
    assert_eq!(
        cap.constraint,
        "the cap of transform at 40% of the funded cost"
    );
    assert_eq!((cap.limit, cap.funded), (Some(eur(64)), Some(eur(60))));
}

#[test]
fn a_minimum_probability_rules_out_proposals_but_not_investments_under_way() {
    // Budget 200. A proposed (50 for 100) at P(NPV > 0) 40%; B under way (50 for 30) at 30%;
    // C proposed (50 for 20) at 90%. With a minimum of 50%, A is out; B goes on (its lifecycle
    // probability would weigh sunk cost).
    let mut s = scenario(200);
    s.min_probability_positive = Some(0.5);
    let e = run(
        &s,
        &[
            investment("A", "grow", Stage::NotStarted, &[("2027-01", 50)], 100, 0.4),
            investment("B", "grow", Stage::UnderWay, &[("2027-01", 50)], 30, 0.3),
            investment("C", "grow", Stage::NotStarted, &[("2027-01", 50)], 20, 0.9),
        ],
    );
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(
        decision_of(&e, "A"),
        (
            decision::NOT_FUNDED,
            "its P(NPV > 0) of 40% is below the minimum 50%"
        )
    );
    assert_eq!(decision_of(&e, "B").0, decision::CONTINUED);
}

#[test]
fn investments_under_way_are_stopped_at_their_forward_cost_and_run_ones_kept() {
    // Budget 100 for 2027. X under way spent 500 in 2026 (sunk, not counted) and needs 60 in
    // 2027 for a forward NPV of −5: stopping it frees 60. Y under way needs 40 for 30. R is a run
    // investment under way needing 30 for −20: kept by keep_running. N proposed 60 for 50.
    // Kept R (30) leaves 70: N (60, worth 50) beats Y (40, worth 30), and both would make 130;
    // X is worth less than nothing.
    let s = scenario(100);
    let u = |id: &str, category: &str, costs: &[(&str, i64)], npv: i64| {
        investment(id, category, Stage::UnderWay, costs, npv, 0.5)
    };
    let investments = [
        u("X", "grow", &[("2026-09", 500), ("2027-02", 60)], -5),
        u("Y", "grow", &[("2027-02", 40)], 30),
        u("R", "run", &[("2027-02", 30)], -20),
        proposal("N", 60, 50),
    ];
    let e = run(&s, &investments);
    assert_eq!(selected(&e), ["N", "R"]);
    let x = e.candidates.iter().find(|c| c.id() == "X").unwrap();
    assert_eq!(x.cost, Some(eur(60)));
    assert_eq!(
        decision_of(&e, "X"),
        (
            decision::STOPPED,
            "its forward NPV at P50 is −5 EUR: continuing it would lower the total"
        )
    );
    assert_eq!(
        decision_of(&e, "R"),
        (
            decision::CONTINUED,
            "kept: a run investment under way is not stopped on NPV (keep_running)"
        )
    );
    // Without keep_running, R is stopped and N fits: {N, Y} for 80.
    let mut s = s;
    s.keep_running = false;
    let e = run(&s, &investments);
    assert_eq!(selected(&e), ["N", "Y"]);
    assert_eq!(decision_of(&e, "R").0, decision::STOPPED);
}

#[test]
fn candidates_without_cost_in_the_window_or_without_figures_are_not_decided() {
    let mut later = proposal("L", 0, 10);
    later.costs = [(p("2028-03"), Some(eur(80)))].into_iter().collect();
    let mut unknown = proposal("U", 20, 10);
    unknown.costs.insert(p("2027-02"), None);
    let mut no_npv = proposal("V", 20, 10);
    no_npv.npv_p50 = None;
    let e = run(
        &scenario(100),
        &[later, unknown, no_npv, proposal("A", 10, 5)],
    );
    assert_eq!(selected(&e), ["A"]);
    assert_eq!(decision_of(&e, "L").0, decision::OUTSIDE);
    assert_eq!(
        decision_of(&e, "U"),
        (
            decision::LEFT_OUT,
            "a cost line in the window lacks an FX rate, so its cost in the window is unknown"
        )
    );
    assert_eq!(
        decision_of(&e, "V"),
        (
            decision::LEFT_OUT,
            "no forward NPV at P50 (the Portfolio sheet's notes say why)"
        )
    );
}

#[test]
fn must_funds_over_budget_leave_no_selection_naming_the_budget_and_the_ids() {
    let mut s = scenario(100);
    s.must_fund = vec!["A".into(), "B".into()];
    let e = run(&s, &[proposal("A", 70, 10), proposal("B", 50, 10)]);
    assert_eq!(
        no_selection(&e),
        "the candidates funded whatever (must-fund, kept running or needed by one that is) need 120.00 EUR in 2027-01 to 2027-12, over the total budget of 100.00 EUR: A 70.00, B 50.00"
    );
    assert!(
        e.explained
            .iter()
            .all(|x| x.decision == decision::NO_SELECTION)
    );
    // The frontier says where it becomes feasible: from 120% of the envelope.
    let statuses: Vec<(f64, &str)> = e
        .frontier
        .iter()
        .map(|r| (r.level, r.status.as_str()))
        .collect();
    assert_eq!(statuses[5], (1.1, "infeasible"));
    assert_eq!(statuses[6], (1.2, "optimal"));
    assert_eq!(e.frontier[6].value, Some(20.0));
}

#[test]
fn a_cycle_of_prerequisites_is_named() {
    let mut s = scenario(100);
    s.requires.insert("A".into(), vec!["B".into()]);
    s.requires.insert("B".into(), vec!["C".into()]);
    s.requires.insert("C".into(), vec!["A".into()]);
    let e = run(
        &s,
        &[
            proposal("A", 10, 10),
            proposal("B", 10, 10),
            proposal("C", 10, 10),
        ],
    );
    assert_eq!(
        no_selection(&e),
        "the prerequisites form a cycle: A needs B, which needs C, which needs A"
    );
    assert!(e.frontier.is_empty());
}

#[test]
fn conflicting_lists_are_named_together() {
    let mut s = scenario(100);
    s.must_fund = vec!["A".into(), "B".into(), "C".into()];
    s.must_stop = vec!["C".into()];
    s.exclusive
        .insert("erp".into(), vec!["A".into(), "B".into()]);
    let e = run(
        &s,
        &[
            proposal("A", 10, 10),
            proposal("B", 10, 10),
            proposal("C", 10, 10),
        ],
    );
    assert_eq!(
        no_selection(&e),
        "C is both must-fund and must-stop; exclusive group erp allows one of A, B, but A and B are all funded whatever (must-fund, kept running or needed by one that is)"
    );
}

#[test]
fn an_id_that_names_no_investment_is_named_with_a_suggestion() {
    let mut s = scenario(100);
    s.must_fund = vec!["INV-0O12".into()];
    let e = run(&s, &[proposal("INV-0012", 10, 10)]);
    assert_eq!(
        no_selection(&e),
        "must_fund names INV-0O12, which is not an investment (did you mean INV-0012?)"
    );
}

#[test]
fn a_cap_that_the_must_funds_and_the_budget_cannot_both_keep_is_diagnosed() {
    // T (transform, must-fund) costs 50; transform at most 40% of the funded cost needs a
    // funded cost of at least 125, but the budget is 100.
    let mut s = scenario(100);
    s.must_fund = vec!["T".into()];
    s.category_max_share
        .insert("transform".into(), Decimal::new(4, 1));
    let e = run(
        &s,
        &[
            investment(
                "T",
                "transform",
                Stage::NotStarted,
                &[("2027-01", 50)],
                10,
                0.9,
            ),
            proposal("G1", 40, 10),
            proposal("G2", 40, 10),
        ],
    );
    assert_eq!(
        no_selection(&e),
        "no selection keeps the total budget (100.00 EUR) and the cap of transform at 40% of the funded cost with the candidates funded whatever (T)"
    );
}

#[test]
fn a_window_that_has_ended_leaves_no_selection() {
    let mut s = scenario(100);
    s.window = Some((p("2026-01"), p("2026-09")));
    let e = run(&s, &[proposal("A", 10, 10)]);
    assert_eq!(
        no_selection(&e),
        "its window 2026-01 to 2026-09 has ended by the period 2026-10: move from and to (or the budgets' years) ahead"
    );
}

/// A deterministic portfolio of `n` proposals over two years, for the larger checks.
fn portfolio(n: usize, seed: u64) -> Vec<Investment> {
    let mut state = seed;
    let mut next = move || {
        // xorshift64*: a fixed sequence, so the test is the same everywhere.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33
    };
    (0..n)
        .map(|i| {
            let a = 10 + (next() % 90) as i64;
            let b = (next() % 60) as i64;
            let npv = (next() % 200) as i64 - 40;
            let category = ["run", "grow", "transform"][(next() % 3) as usize];
            let stage = if next() % 4 == 0 {
                Stage::UnderWay
            } else {
                Stage::NotStarted
            };
            investment(
                &format!("I{i:02}"),
                category,
                stage,
                &[("2027-03", a), ("2028-06", b)],
                npv,
                0.5 + (next() % 50) as f64 / 100.0,
            )
        })
        .collect()
}

fn two_year_scenario() -> Scenario {
    let mut s = scenario(0);
    s.window = Some((p("2027-01"), p("2028-12")));
    s.budget.total = Some(eur(420));
    s.budget.years.insert(2027, eur(300));
    s.budget.years.insert(2028, eur(160));
    s.category_max_share
        .insert("transform".into(), Decimal::new(45, 2));
    s.exclusive
        .insert("g".into(), vec!["I01".into(), "I02".into(), "I03".into()]);
    s.requires.insert("I05".into(), vec!["I04".into()]);
    s.keep_running = false;
    s
}

/// The best objective over every selection of the decided candidates, each checked against
/// the scenario's constraints as written, not as the program encodes them.
fn brute_force(s: &Scenario, investments: &[Investment], level: f64) -> Option<f64> {
    let n = investments.len();
    let cost = |inv: &Investment, from: &str, to: &str| -> Decimal {
        inv.costs
            .range(p(from)..=p(to))
            .map(|(_, c)| c.unwrap())
            .sum()
    };
    let scale = |d: Decimal| -> Decimal { (d * Decimal::try_from(level).unwrap()).round_dp(2) };
    let mut best: Option<f64> = None;
    for mask in 0u32..(1 << n) {
        let on = |i: usize| mask & (1 << i) != 0;
        let id_on = |id: &str| investments.iter().position(|x| x.id == id).is_some_and(on);
        let chosen: Vec<&Investment> = (0..n).filter(|i| on(*i)).map(|i| &investments[i]).collect();
        let total: Decimal = chosen.iter().map(|i| cost(i, "2027-01", "2028-12")).sum();
        let y27: Decimal = chosen.iter().map(|i| cost(i, "2027-01", "2027-12")).sum();
        let y28: Decimal = chosen.iter().map(|i| cost(i, "2028-01", "2028-12")).sum();
        if total > scale(s.budget.total.unwrap())
            || y27 > scale(s.budget.years[&2027])
            || y28 > scale(s.budget.years[&2028])
        {
            continue;
        }
        let share = s.category_max_share["transform"];
        let transform: Decimal = chosen
            .iter()
            .filter(|i| i.category == "transform")
            .map(|i| cost(i, "2027-01", "2028-12"))
            .sum();
        if transform > share * total {
            continue;
        }
        if s.exclusive["g"].iter().filter(|id| id_on(id)).count() > 1 {
            continue;
        }
        if id_on("I05") && !id_on("I04") {
            continue;
        }
        let value: f64 = chosen
            .iter()
            .map(|i| rust_decimal::prelude::ToPrimitive::to_f64(&i.npv_p50.unwrap()).unwrap())
            .sum();
        if best.is_none_or(|b| value > b) {
            best = Some(value);
        }
    }
    best
}

#[test]
fn every_selection_of_a_fourteen_candidate_scenario_is_no_better_than_the_solvers() {
    let investments = portfolio(14, 7);
    let s = two_year_scenario();
    let e = run(&s, &investments);
    assert_eq!(e.status, Status::Optimal);
    let best = brute_force(&s, &investments, 1.0).unwrap();
    assert!(
        (e.value.unwrap() - best).abs() < 1e-6,
        "solver {:?}, every selection tried {best}",
        e.value
    );
    for row in &e.frontier {
        let best = brute_force(&s, &investments, row.level);
        match (row.value, best) {
            (Some(v), Some(b)) => assert!((v - b).abs() < 1e-6, "{}: {v} vs {b}", row.level),
            (v, b) => assert_eq!(v, b, "level {}", row.level),
        }
    }
}

#[test]
fn the_frontier_never_falls_as_the_budget_grows_and_holds_the_selection_at_100_percent() {
    let investments = portfolio(40, 11);
    let mut s = two_year_scenario();
    s.frontier = vec![0.5, 0.75, 1.0, 1.25, 1.5, 2.0];
    let e = run(&s, &investments);
    let values: Vec<f64> = e.frontier.iter().map(|r| r.value.unwrap()).collect();
    for pair in values.windows(2) {
        assert!(pair[1] >= pair[0], "{values:?}");
    }
    assert_eq!(values[2], e.value.unwrap());
    // Who enters and leaves turns one level's selection into the next.
    for pair in e.frontier.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        let entering = after.entering.split(", ").filter(|s| !s.is_empty()).count() as i64;
        let leaving = after.leaving.split(", ").filter(|s| !s.is_empty()).count() as i64;
        assert_eq!(
            before.funded.unwrap() + entering - leaving,
            after.funded.unwrap()
        );
    }
}

/// The finance family's two tables as `investments` would leave them, rows in the given order.
fn finance_tables(investments: &[Investment]) -> (DataFrame, DataFrame) {
    use crate::config::scenario::WEIGHABLE;
    let cents = |d: Option<Decimal>| d.map(|d| d.mantissa());
    let money = |name: &str, values: Vec<Option<i128>>| {
        Series::new(name.into(), values)
            .into_decimal(18, 2)
            .unwrap()
            .into_column()
    };
    let texts = |name: &str, f: &dyn Fn(&Investment) -> String| {
        Series::new(name.into(), investments.iter().map(f).collect::<Vec<_>>()).into_column()
    };
    let mut columns = vec![
        texts("investment_id", &|i| i.id.clone()),
        texts("name", &|i| i.name.clone()),
        texts("category", &|i| i.category.clone()),
        texts("status", &|i| {
            if i.stage == Stage::NotStarted {
                "proposed".into()
            } else {
                "active".into()
            }
        }),
        money(
            "actual_to_date",
            investments
                .iter()
                .map(|i| (i.stage == Stage::UnderWay).then_some(100))
                .collect(),
        ),
    ];
    for figure in WEIGHABLE {
        columns.push(match figure {
            "forward_npv_p50" => money(
                figure,
                investments.iter().map(|i| cents(i.npv_p50)).collect(),
            ),
            "forward_npv_mean" => money(
                figure,
                investments.iter().map(|i| cents(i.expected_npv)).collect(),
            ),
            "probability_npv_positive" => Series::new(
                figure.into(),
                investments
                    .iter()
                    .map(|i| i.probability_positive)
                    .collect::<Vec<_>>(),
            )
            .into_column(),
            _ => Series::new(figure.into(), vec![None::<f64>; investments.len()]).into_column(),
        });
    }
    let finance = DataFrame::new_infer_height(columns).unwrap();
    let flows: Vec<(&str, Period, Option<Decimal>)> = investments
        .iter()
        .flat_map(|i| i.costs.iter().map(move |(m, c)| (i.id.as_str(), *m, *c)))
        .collect();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let flows = DataFrame::new_infer_height(vec![
        Series::new(
            "investment_id".into(),
            flows.iter().map(|f| f.0).collect::<Vec<_>>(),
        )
        .into_column(),
        Series::new(
            "month".into(),
            flows
                .iter()
                .map(|f| (f.1.first_day() - epoch).num_days() as i32)
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)
        .unwrap()
        .into_column(),
        money("costs", flows.iter().map(|f| cents(f.2)).collect()),
    ])
    .unwrap();
    (finance, flows)
}

#[test]
fn the_same_inputs_give_the_same_tables_whatever_the_order_of_their_rows() {
    let investments = portfolio(40, 3);
    let metrics = crate::config::metrics::MetricsConfig {
        scenarios: vec![two_year_scenario()],
        ..Default::default()
    };
    let zone = crate::zone::LocalTime::utc();
    let settings = crate::metrics::Settings {
        default_discount_rate: 0.08,
        reporting_currency: "EUR",
        metrics: &metrics,
        zone: &zone,
        lang: crate::labels::Lang::En,
    };
    let tables = |investments: &[Investment]| {
        let (finance, flows) = finance_tables(investments);
        let mut inputs = crate::metrics::Inputs::default();
        inputs.insert_table("investment_finance", finance);
        inputs.insert_table("investment_cash_flows", flows);
        crate::metrics::compute(&super::FAMILY, &inputs, p(PERIOD), &settings)
            .unwrap()
            .tables
    };
    let first = tables(&investments);
    let again = tables(&investments);
    let mut reversed = investments.clone();
    reversed.reverse();
    let reversed = tables(&reversed);
    assert_eq!(first.len(), 4);
    for ((a, x), ((_, y), (_, z))) in first.iter().zip(again.iter().zip(&reversed)) {
        assert!(x.height() > 0, "{a}");
        assert!(x.equals_missing(y), "{a}: {x}\n{y}");
        assert!(x.equals_missing(z), "{a}: {x}\n{z}");
    }
}

#[test]
fn the_expected_npv_and_a_weighted_score_change_what_is_maximised() {
    // Budget 50: A 50 for NPV 100 at P(NPV > 0) 60%, B 50 for NPV 90 at 95%.
    let a = investment("A", "grow", Stage::NotStarted, &[("2027-01", 50)], 100, 0.6);
    let b = investment("B", "grow", Stage::NotStarted, &[("2027-01", 50)], 90, 0.95);
    let mut s = scenario(50);
    assert_eq!(selected(&run(&s, &[a.clone(), b.clone()])), ["A"]);
    // The mean is NPV + 1 in this fixture: still A (101 against 91).
    s.objective = Objective::ExpectedNpv;
    let e = run(&s, &[a.clone(), b.clone()]);
    assert_eq!((selected(&e), e.value), (vec!["A"], Some(101.0)));
    // Score = NPV + 100 × P(NPV > 0): A 160, B 185.
    s.objective = Objective::Weighted(
        [
            ("forward_npv_p50".to_string(), 1.0),
            ("probability_npv_positive".to_string(), 100.0),
        ]
        .into_iter()
        .collect(),
    );
    let e = run(&s, &[a, b]);
    assert_eq!(selected(&e), ["B"]);
    assert!((e.value.unwrap() - 185.0).abs() < 1e-9);
}

#[test]
fn the_window_defaults_to_the_budgeted_years_else_the_year_after_the_period() {
    let mut s = scenario(100);
    s.window = None;
    assert_eq!(super::window(&s, p(PERIOD)), (p("2027-01"), p("2027-12")));
    s.budget.quarters.insert(
        Quarter {
            year: 2028,
            quarter: 2,
        },
        eur(10),
    );
    s.budget.years.insert(2027, eur(50));
    assert_eq!(super::window(&s, p(PERIOD)), (p("2027-01"), p("2028-12")));
}

#[test]
fn reasons_are_written_in_the_runs_language_with_the_figures_formatted_alike() {
    let zh = |s: &Scenario, investments: &[Investment]| {
        let mut sorted = investments.to_vec();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        evaluate(s, &sorted, p(PERIOD), "EUR", Lang::Zh)
    };
    // The first case of the_optimum_beats_the_greedy_order_of_value_per_cost: same selection,
    // same figures, Chinese words.
    let e = zh(
        &scenario(100),
        &[
            proposal("A", 60, 66),
            proposal("B", 50, 50),
            proposal("C", 50, 50),
        ],
    );
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(
        decision_of(&e, "A"),
        (
            decision::NOT_FUNDED,
            "total 预算（需要 60 EUR，剩余 0 EUR） 构成约束：每 EUR 净现值 1.10，不低于边际值 1.00，但它与合计价值更高的候选项目放不到一起"
        )
    );
    assert_eq!(
        decision_of(&e, "B").1,
        "每 EUR 净现值 1.00，不低于边际值 1.00"
    );
    // The decision stays a code; the sheet shows its word.
    assert_eq!(decision::word(decision::NOT_FUNDED, Lang::Zh), "不资助");
    assert_eq!(decision::word(decision::NOT_FUNDED, Lang::En), "not funded");
    assert_eq!(decision::word(decision::CONTINUED, Lang::Zh), "继续");
    // A budget of one year that binds, and rules that fix a candidate.
    let mut s = scenario(0);
    s.budget.total = None;
    s.budget.years.insert(2027, eur(100));
    let e = zh(
        &s,
        &[
            proposal("A", 50, 100),
            proposal("B", 50, 60),
            proposal("D", 50, 30),
        ],
    );
    assert_eq!(
        decision_of(&e, "D").1,
        "2027 预算 构成约束；每 EUR 净现值 0.60，低于边际值 1.20"
    );
    let mut s = scenario(100);
    s.must_fund = vec!["C".into()];
    s.must_stop = vec!["A".into()];
    s.exclusive
        .insert("crm".into(), vec!["B".into(), "D".into()]);
    let e = zh(
        &s,
        &[
            proposal("A", 50, 100),
            proposal("B", 50, 80),
            proposal("C", 50, 10),
            proposal("D", 40, 30),
        ],
    );
    assert_eq!(selected(&e), ["B", "C"]);
    assert_eq!(decision_of(&e, "A").1, "必须停止（must-stop）");
    assert_eq!(decision_of(&e, "C").1, "必须资助（must-fund）");
    assert_eq!(decision_of(&e, "D").1, "互斥组 crm：B 已获资助");
}

#[test]
fn why_a_scenario_has_no_selection_is_written_in_the_runs_language() {
    // The lists of conflicting_lists_are_named_together, in a Chinese run.
    let mut s = scenario(100);
    s.must_fund = vec!["A".into(), "B".into(), "C".into()];
    s.must_stop = vec!["C".into()];
    s.exclusive
        .insert("erp".into(), vec!["A".into(), "B".into()]);
    let mut investments = vec![
        proposal("A", 10, 10),
        proposal("B", 10, 10),
        proposal("C", 10, 10),
    ];
    investments.sort_by(|a, b| a.id.cmp(&b.id));
    let e = evaluate(&s, &investments, p(PERIOD), "EUR", Lang::Zh);
    assert_eq!(
        no_selection(&e),
        "C 既是必须资助（must-fund）又是必须停止（must-stop）；互斥组 erp 只允许 A、B 中的一个，但 A和B 都无论如何要资助（必须资助、保持运行或被这类项目需要）"
    );
    assert!(
        e.explained
            .iter()
            .all(|x| x.decision == decision::NO_SELECTION),
        "{:?}",
        e.explained
    );
    // The cycle of a_cycle_of_prerequisites_is_named.
    let mut s = scenario(100);
    s.requires.insert("A".into(), vec!["B".into()]);
    s.requires.insert("B".into(), vec!["C".into()]);
    s.requires.insert("C".into(), vec!["A".into()]);
    let e = evaluate(&s, &investments, p(PERIOD), "EUR", Lang::Zh);
    assert_eq!(
        no_selection(&e),
        "前置条件形成循环：A 需要 B，后者需要 C，后者需要 A"
    );
}
