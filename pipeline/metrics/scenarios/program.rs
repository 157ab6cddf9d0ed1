//! A scenario as a 0/1 program: one variable per candidate the scenario decides, its value the
//! objective's figure, and rows for the budgets, the category caps, the mutually exclusive groups
//! and the prerequisites; must-funds, must-stops and the candidates the scenario's rules rule out
//! are fixed. Then the checks that need no solver (an id that names no investment, a cycle of
//! prerequisites, must-funds over a budget), the solves at each budget level, the exact check of
//! every selection in decimals, the LP relaxation's shadow prices, and a diagnosis of an
//! infeasible program that names the constraints in conflict.
//!
//! In: the scenario, its candidates and its budget rows. Out: a [`Model`] and what solving it
//! gives, or the conflicts that leave the scenario without a selection.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::candidates::{Candidate, Standing};
use crate::config::scenario::Scenario;
use crate::format::group_thousands_decimal;
use crate::labels::scenarios::{faults as say, reasons};
use crate::labels::{Lang, Words};
use crate::metrics::decisions::Stage;
use crate::metrics::solver::{self, Program, Row, Solved, SolverError};
use crate::schedule::Period;

/// A budget of the envelope: the total, a year's or a quarter's, and the window's months it
/// covers (those after the period).
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRow {
    /// `total`, `2027` or `2027-Q1`.
    pub label: String,
    pub first: Period,
    pub last: Period,
    pub limit: Decimal,
}

impl BudgetRow {
    /// "the 2027 budget", "the total budget".
    pub fn named(&self) -> String {
        format!("the {} budget", self.label)
    }
}

/// Why a variable is fixed.
#[derive(Debug, Clone, PartialEq)]
pub enum Fixed {
    MustFund,
    /// An active investment of a run category, kept by `keep_running`.
    KeptRunning,
    /// A prerequisite of a funded-whatever candidate (its candidate index).
    PrerequisiteOf(usize),
    MustStop,
    /// A proposed candidate whose probability of a positive NPV is below the minimum (or
    /// unknown).
    BelowProbability(Option<f64>),
    /// It needs a candidate that the scenario does not decide (its candidate index).
    NeedsUndecided(usize),
}

impl Fixed {
    /// Whether it fixes the variable at 1.
    pub fn funds(&self) -> bool {
        matches!(
            self,
            Fixed::MustFund | Fixed::KeptRunning | Fixed::PrerequisiteOf(_)
        )
    }
}

/// What a row of the program stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    /// The budget row of that index.
    Budget(usize),
    /// A category's cap, as a share of the funded cost.
    Cap { category: String, share: Decimal },
    /// A group of which at most one is funded.
    Exclusive(String),
    /// `who` (a candidate index) only with `needs` (a candidate index).
    Requires { who: usize, needs: usize },
}

/// The program of one scenario over its candidates.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    pub candidates: &'a [Candidate],
    /// The candidate of each variable.
    pub vars: Vec<usize>,
    /// The variable of each candidate, if it has one.
    pub var_of: Vec<Option<usize>>,
    /// Why each variable is fixed, if it is.
    pub fixed: Vec<Option<Fixed>>,
    pub budgets: Vec<BudgetRow>,
    /// The program with the budgets at 100% of the envelope.
    pub program: Program,
    /// What each row of the program stands for.
    pub kinds: Vec<RowKind>,
    /// Candidates named by `exclusive` groups: group name and members (candidate indexes).
    pub groups: BTreeMap<String, Vec<usize>>,
    /// Per candidate, the candidates it needs (candidate indexes).
    pub needs: Vec<Vec<usize>>,
    /// The language of the explanations.
    pub lang: Lang,
}

/// The slack a budget row gets: half a cent. Costs and budgets are whole cents, so a selection
/// within half a cent of a budget is within it; the solver's tolerance (10⁻⁷ of a unit on the
/// rows as given, which are in the reporting currency) cannot push one over.
const HALF_CENT: f64 = 0.005;

/// The slack of a category cap, whose limit (a share of the funded cost) is not whole cents:
/// a cap holds to the cent.
const CAP_SLACK: f64 = 0.004;

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

fn money(amount: Decimal, currency: &str) -> String {
    format!("{} {currency}", group_thousands_decimal(amount))
}

/// "INV-1, INV-2 and 3 more".
pub fn id_list<'b>(ids: impl IntoIterator<Item = &'b str>, at_most: usize) -> String {
    let ids: Vec<&str> = ids.into_iter().collect();
    if ids.len() <= at_most {
        return ids.join(", ");
    }
    format!(
        "{} and {} more",
        ids[..at_most].join(", "),
        ids.len() - at_most
    )
}

/// Ids the scenario names that are not investments at all, as conflicts.
pub fn unknown_ids(scenario: &Scenario, known: &BTreeSet<&str>) -> Vec<String> {
    let mut named: Vec<(String, &str)> = Vec::new();
    named.extend(
        scenario
            .must_fund
            .iter()
            .map(|id| ("must_fund".to_string(), id.as_str())),
    );
    named.extend(
        scenario
            .must_stop
            .iter()
            .map(|id| ("must_stop".to_string(), id.as_str())),
    );
    for (who, needs) in &scenario.requires {
        named.push(("requires".to_string(), who.as_str()));
        named.extend(
            needs
                .iter()
                .map(|id| (format!("requires.{who}"), id.as_str())),
        );
    }
    for (group, members) in &scenario.exclusive {
        named.extend(
            members
                .iter()
                .map(|id| (format!("exclusive.{group}"), id.as_str())),
        );
    }
    named
        .into_iter()
        .filter(|(_, id)| !known.contains(id))
        .map(|(key, id)| {
            let near = known
                .iter()
                .map(|k| (strsim::levenshtein(k, id), *k))
                .filter(|(d, _)| *d <= 2)
                .min();
            let hint = near.map_or(String::new(), |(_, k)| format!(" (did you mean {k}?)"));
            format!("{key} names {id}, which is not an investment{hint}")
        })
        .collect()
}

/// A cycle of prerequisites among the ids the scenario names, as "A needs B, which needs A".
pub fn prerequisite_cycle(requires: &BTreeMap<String, Vec<String>>, lang: Lang) -> Option<String> {
    // Depth-first search; `path` is the chain being followed.
    fn visit<'r>(
        id: &'r str,
        requires: &'r BTreeMap<String, Vec<String>>,
        done: &mut BTreeSet<&'r str>,
        path: &mut Vec<&'r str>,
    ) -> Option<Vec<&'r str>> {
        if let Some(start) = path.iter().position(|p| *p == id) {
            let mut cycle = path[start..].to_vec();
            cycle.push(id);
            return Some(cycle);
        }
        if !done.insert(id) {
            return None;
        }
        path.push(id);
        for next in requires.get(id).into_iter().flatten() {
            if let Some(cycle) = visit(next, requires, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for id in requires.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(id, requires, &mut done, &mut path) {
            let rest: String = cycle[2..]
                .iter()
                .map(|id| say::CYCLE_NEXT.fill(lang, &[("id", id)]))
                .collect();
            return Some(say::CYCLE.fill(
                lang,
                &[("first", cycle[0]), ("second", cycle[1]), ("rest", &rest)],
            ));
        }
    }
    None
}

/// What the checks before any solve find: the model, or the conflicts.
pub type Built<'a> = Result<Model<'a>, Vec<String>>;

/// Builds the program of `scenario` over `candidates` (every investment that is not closed, in
/// id order) with `budgets`; `closed` are the ids of completed or cancelled investments. The
/// conflicts found without a solver (a cycle of prerequisites, an id both must-fund and
/// must-stop, must-funds in one exclusive group, a must-fund that needs what cannot be funded)
/// come back instead; must-funds over a budget are [`Model::forced_over_budget`]'s, since the
/// frontier's larger envelopes may still hold them.
pub fn build<'a>(
    scenario: &Scenario,
    candidates: &'a [Candidate],
    budgets: Vec<BudgetRow>,
    closed: &BTreeSet<&str>,
    lang: Lang,
) -> Built<'a> {
    let say = |words: Words, values: &[(&str, &str)]| words.fill(lang, values);
    let index: BTreeMap<&str, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id(), i))
        .collect();
    let mut conflicts = Vec::new();
    if let Some(cycle) = prerequisite_cycle(&scenario.requires, lang) {
        conflicts.push(cycle);
    }
    for id in &scenario.must_fund {
        if scenario.must_stop.contains(id) {
            conflicts.push(say(say::BOTH_MUST, &[("id", id)]));
        }
        if closed.contains(id.as_str()) {
            conflicts.push(say(say::MUST_FUND_CLOSED, &[("id", id)]));
        }
    }
    // Per candidate, the candidates it needs (closed prerequisites are done: satisfied).
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
    for (who, list) in &scenario.requires {
        if let Some(&w) = index.get(who.as_str()) {
            needs[w] = list
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied())
                .collect();
        }
    }
    let must_fund: BTreeSet<usize> = scenario
        .must_fund
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    let must_stop: BTreeSet<usize> = scenario
        .must_stop
        .iter()
        .filter_map(|id| index.get(id.as_str()).copied())
        .collect();
    // A variable per decided candidate, and per must-fund whose value alone is unknown.
    let mut var_of = vec![None; candidates.len()];
    let mut vars = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let variable = match &c.standing {
            Standing::Decided => true,
            Standing::LeftOut(_) => must_fund.contains(&i) && c.cost.is_some(),
            Standing::Outside => false,
        };
        if variable {
            var_of[i] = Some(vars.len());
            vars.push(i);
        }
    }
    // What is funded whatever: must-funds, kept run investments, and what they need.
    let mut forced: BTreeMap<usize, Fixed> = BTreeMap::new();
    for &i in &must_fund {
        match &candidates[i].standing {
            Standing::LeftOut(why) if candidates[i].cost.is_none() => conflicts.push(say(
                say::MUST_FUND_UNFUNDABLE,
                &[("id", candidates[i].id()), ("why", why)],
            )),
            _ => {
                if var_of[i].is_some() {
                    forced.insert(i, Fixed::MustFund);
                }
            }
        }
    }
    if scenario.keep_running {
        for (i, c) in candidates.iter().enumerate() {
            if c.investment.runs_the_business
                && c.investment.stage == Stage::UnderWay
                && var_of[i].is_some()
                && !must_stop.contains(&i)
            {
                forced.entry(i).or_insert(Fixed::KeptRunning);
            }
        }
    }
    let mut queue: Vec<usize> = forced.keys().copied().collect();
    while let Some(i) = queue.pop() {
        for &n in &needs[i] {
            if forced.contains_key(&n) {
                continue;
            }
            if var_of[n].is_some() {
                forced.insert(n, Fixed::PrerequisiteOf(i));
                queue.push(n);
            } else if !undecided_is_satisfied(&candidates[n]) {
                conflicts.push(say(
                    say::NEEDS_UNFUNDABLE,
                    &[
                        ("id", candidates[i].id()),
                        ("forced", &forced_words(&forced[&i], candidates, lang)),
                        ("other", candidates[n].id()),
                        ("why", &undecided_words(&candidates[n], lang)),
                    ],
                ));
            }
        }
    }
    for (&i, why) in &forced {
        if must_stop.contains(&i) && *why != Fixed::MustFund {
            conflicts.push(say(
                say::MUST_STOP_FORCED,
                &[
                    ("id", candidates[i].id()),
                    ("forced", &forced_words(why, candidates, lang)),
                ],
            ));
        }
    }
    for (group, members) in &scenario.exclusive {
        let held: Vec<&str> = members
            .iter()
            .filter_map(|id| index.get(id.as_str()))
            .filter(|i| forced.contains_key(i))
            .map(|i| candidates[*i].id())
            .collect();
        if held.len() > 1 {
            conflicts.push(say(
                say::EXCLUSIVE_FORCED,
                &[
                    ("group", group),
                    ("members", &members.join(reasons::LIST.get(lang))),
                    ("held", &held.join(reasons::AND.get(lang))),
                ],
            ));
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    let mut fixed: Vec<Option<Fixed>> = vec![None; vars.len()];
    for (&i, why) in &forced {
        if let Some(v) = var_of[i] {
            fixed[v] = Some(why.clone());
        }
    }
    for (v, &i) in vars.iter().enumerate() {
        if fixed[v].is_some() {
            continue;
        }
        let c = &candidates[i];
        if must_stop.contains(&i) {
            fixed[v] = Some(Fixed::MustStop);
        } else if let Some(n) = needs[i]
            .iter()
            .copied()
            .find(|n| var_of[*n].is_none() && !undecided_is_satisfied(&candidates[*n]))
        {
            fixed[v] = Some(Fixed::NeedsUndecided(n));
        } else if let Some(min) = scenario.min_probability_positive
            && c.proposed()
            && c.investment.probability_positive.is_none_or(|p| p < min)
        {
            fixed[v] = Some(Fixed::BelowProbability(c.investment.probability_positive));
        }
    }
    let values: Vec<f64> = vars
        .iter()
        .map(|&i| candidates[i].value.unwrap_or(0.0))
        .collect();
    let mut program = Program::new(values);
    program.fixed = fixed.iter().map(|f| f.as_ref().map(Fixed::funds)).collect();
    let mut kinds = Vec::new();
    for (b, budget) in budgets.iter().enumerate() {
        let terms: Vec<(usize, f64)> = vars
            .iter()
            .enumerate()
            .map(|(v, &i)| (v, candidates[i].cost_between(budget.first, budget.last)))
            .filter(|(_, c)| !c.is_zero())
            .map(|(v, c)| (v, to_f64(c)))
            .collect();
        program.rows.push(Row {
            terms,
            limit: to_f64(budget.limit) + HALF_CENT,
        });
        kinds.push(RowKind::Budget(b));
    }
    for (category, share) in &scenario.category_max_share {
        let s = to_f64(*share);
        let terms: Vec<(usize, f64)> = vars
            .iter()
            .enumerate()
            .filter_map(|(v, &i)| {
                let cost = to_f64(candidates[i].cost?);
                let inside = if candidates[i].investment.category == *category {
                    1.0
                } else {
                    0.0
                };
                let coefficient = (inside - s) * cost;
                (coefficient != 0.0).then_some((v, coefficient))
            })
            .collect();
        program.rows.push(Row {
            terms,
            limit: CAP_SLACK,
        });
        kinds.push(RowKind::Cap {
            category: category.clone(),
            share: *share,
        });
    }
    let mut groups = BTreeMap::new();
    for (group, members) in &scenario.exclusive {
        let members: Vec<usize> = members
            .iter()
            .filter_map(|id| index.get(id.as_str()).copied())
            .collect();
        let terms: Vec<(usize, f64)> = members
            .iter()
            .filter_map(|i| var_of[*i])
            .map(|v| (v, 1.0))
            .collect();
        if terms.len() > 1 {
            program.rows.push(Row { terms, limit: 1.0 });
            kinds.push(RowKind::Exclusive(group.clone()));
        }
        groups.insert(group.clone(), members);
    }
    for (i, list) in needs.iter().enumerate() {
        let Some(w) = var_of[i] else { continue };
        for &n in list {
            if let Some(a) = var_of[n] {
                program.rows.push(Row {
                    terms: vec![(w, 1.0), (a, -1.0)],
                    limit: 0.0,
                });
                kinds.push(RowKind::Requires { who: i, needs: n });
            }
        }
    }
    Ok(Model {
        candidates,
        vars,
        var_of,
        fixed,
        budgets,
        program,
        kinds,
        groups,
        needs,
        lang,
    })
}

/// A prerequisite that the scenario does not decide is met when it is under way (it goes on
/// without money from this window) and not when it is proposed or its figures are unknown.
fn undecided_is_satisfied(c: &Candidate) -> bool {
    c.standing == Standing::Outside && c.investment.stage == Stage::UnderWay
}

fn undecided_words(c: &Candidate, lang: Lang) -> String {
    match &c.standing {
        Standing::Outside => reasons::PROPOSED_NO_COST.get(lang).to_string(),
        Standing::LeftOut(why) => why.clone(),
        Standing::Decided => reasons::NOT_FUNDED.get(lang).to_string(),
    }
}

fn forced_words(why: &Fixed, candidates: &[Candidate], lang: Lang) -> String {
    match why {
        Fixed::MustFund => say::FORCED_MUST_FUND.get(lang).to_string(),
        Fixed::KeptRunning => say::FORCED_KEPT.get(lang).to_string(),
        Fixed::PrerequisiteOf(i) => {
            say::FORCED_NEEDED_BY.fill(lang, &[("id", candidates[*i].id())])
        }
        _ => say::FORCED_FIXED.get(lang).to_string(),
    }
}

fn window_words(budget: &BudgetRow, lang: Lang) -> String {
    if budget.first == budget.last {
        budget.first.to_string()
    } else {
        say::WINDOW_SPAN.fill(
            lang,
            &[
                ("first", &budget.first.to_string()),
                ("last", &budget.last.to_string()),
            ],
        )
    }
}

/// "the 2027 budget", in `lang`.
fn budget_words(budget: &BudgetRow, lang: Lang) -> String {
    reasons::BUDGET.fill(lang, &[("label", &budget.label)])
}

/// The budget of `limit` at `level` of the envelope, to the cent.
pub fn scaled(limit: Decimal, level: f64) -> Decimal {
    let level = Decimal::from_f64_retain(level)
        .and_then(|l| l.round_sf(12))
        .unwrap_or(Decimal::ONE);
    let mut v = (limit * level)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    v.rescale(2);
    v
}

impl Model<'_> {
    /// Why the candidates funded whatever (must-funds, kept run investments and what they need)
    /// cannot all be funded at `level` of the envelope: the first budget they overrun, with the
    /// largest of them; `None` when they fit every budget.
    pub fn forced_over_budget(&self, level: f64, currency: &str) -> Option<String> {
        let forced: Vec<usize> = self
            .fixed
            .iter()
            .enumerate()
            .filter(|(_, f)| f.as_ref().is_some_and(Fixed::funds))
            .map(|(v, _)| self.vars[v])
            .collect();
        for budget in &self.budgets {
            let limit = scaled(budget.limit, level);
            let mut held: Vec<(Decimal, &str)> = forced
                .iter()
                .map(|i| {
                    (
                        self.candidates[*i].cost_between(budget.first, budget.last),
                        self.candidates[*i].id(),
                    )
                })
                .filter(|(c, _)| !c.is_zero())
                .collect();
            let need: Decimal = held.iter().map(|(c, _)| *c).sum();
            if need <= limit {
                continue;
            }
            held.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            let listed: Vec<String> = held
                .iter()
                .map(|(c, id)| format!("{id} {}", group_thousands_decimal(*c)))
                .collect();
            return Some(say::OVER_BUDGET.fill(
                self.lang,
                &[
                    ("need", &money(need, currency)),
                    ("window", &window_words(budget, self.lang)),
                    ("budget", &budget_words(budget, self.lang)),
                    ("limit", &money(limit, currency)),
                    ("ids", &id_list(listed.iter().map(String::as_str), 10)),
                ],
            ));
        }
        None
    }

    /// The program with every budget at `level` of the envelope.
    pub fn at_level(&self, level: f64) -> Program {
        let mut program = self.program.clone();
        for (row, kind) in program.rows.iter_mut().zip(&self.kinds) {
            if let RowKind::Budget(b) = kind {
                row.limit = to_f64(scaled(self.budgets[*b].limit, level)) + HALF_CENT;
            }
        }
        program
    }

    /// The selected candidates' cost between two months.
    pub fn cost_of(&self, selection: &[bool], first: Period, last: Period) -> Decimal {
        self.selected(selection)
            .map(|i| self.candidates[i].cost_between(first, last))
            .sum()
    }

    /// The candidate indexes of a selection.
    pub fn selected<'s>(&'s self, selection: &'s [bool]) -> impl Iterator<Item = usize> + 's {
        self.vars
            .iter()
            .zip(selection)
            .filter(|(_, s)| **s)
            .map(|(i, _)| *i)
    }

    /// The funded cost of each category of the caps, and the whole funded cost.
    pub fn category_cost(&self, selection: &[bool], category: &str) -> Decimal {
        self.selected(selection)
            .filter(|i| self.candidates[*i].investment.category == category)
            .filter_map(|i| self.candidates[i].cost)
            .sum()
    }

    /// The whole funded cost in the window.
    pub fn funded_cost(&self, selection: &[bool]) -> Decimal {
        self.selected(selection)
            .filter_map(|i| self.candidates[i].cost)
            .sum()
    }

    /// Checks `selection` against every constraint in decimals, at `level` of the envelope;
    /// the first broken one, in words.
    pub fn breaks(&self, selection: &[bool], level: f64, currency: &str) -> Option<String> {
        for (v, f) in self.fixed.iter().enumerate() {
            if let Some(f) = f
                && f.funds() != selection[v]
            {
                return Some(format!(
                    "{} is fixed but the selection does not keep it",
                    self.candidates[self.vars[v]].id()
                ));
            }
        }
        for budget in &self.budgets {
            let limit = scaled(budget.limit, level);
            let used = self.cost_of(selection, budget.first, budget.last);
            if used > limit {
                return Some(format!(
                    "it spends {} of {} of {}",
                    money(used, currency),
                    budget.named(),
                    money(limit, currency)
                ));
            }
        }
        let total = self.funded_cost(selection);
        for kind in &self.kinds {
            match kind {
                RowKind::Cap { category, share } => {
                    let used = self.category_cost(selection, category);
                    if used > *share * total + Decimal::new(5, 3) {
                        return Some(format!(
                            "{category} takes {} of a funded cost of {}, over its cap",
                            money(used, currency),
                            money(total, currency)
                        ));
                    }
                }
                RowKind::Exclusive(group) => {
                    let held = self.groups[group]
                        .iter()
                        .filter(|i| self.var_of[**i].is_some_and(|v| selection[v]))
                        .count();
                    if held > 1 {
                        return Some(format!("it funds {held} of exclusive group {group}"));
                    }
                }
                RowKind::Requires { who, needs } => {
                    let on = |i: usize| self.var_of[i].is_some_and(|v| selection[v]);
                    if on(*who) && !on(*needs) {
                        return Some(format!(
                            "it funds {} without {}",
                            self.candidates[*who].id(),
                            self.candidates[*needs].id()
                        ));
                    }
                }
                RowKind::Budget(_) => {}
            }
        }
        None
    }

    /// A selection that keeps every constraint at `level`, built greedily: what is funded
    /// whatever, then the best value per cost first, each with what it needs, when it fits.
    /// `None` when the fixed candidates alone break a row. It seeds the solver, so that a time
    /// limit always leaves a selection, and it is what a ranking by value per cost would fund.
    pub fn greedy(&self, level: f64) -> Option<Vec<bool>> {
        let program = self.at_level(level);
        let mut selection: Vec<bool> = program.fixed.iter().map(|f| *f == Some(true)).collect();
        if !program.admits(&selection, 0.0) {
            return None;
        }
        let mut order: Vec<usize> = (0..self.vars.len())
            .filter(|v| program.fixed[*v].is_none() && program.values[*v] > 0.0)
            .collect();
        let ratio = |v: usize| {
            let cost = self.candidates[self.vars[v]].cost.map_or(0.0, to_f64);
            if cost <= 0.0 {
                f64::INFINITY
            } else {
                program.values[v] / cost
            }
        };
        order.sort_by(|a, b| ratio(*b).total_cmp(&ratio(*a)).then(a.cmp(b)));
        for v in order {
            if selection[v] {
                continue;
            }
            let mut trial = selection.clone();
            let mut stack = vec![self.vars[v]];
            let mut possible = true;
            while let Some(i) = stack.pop() {
                match self.var_of[i] {
                    Some(w) if program.fixed[w] == Some(false) => possible = false,
                    Some(w) if !trial[w] => {
                        trial[w] = true;
                        stack.extend(self.needs[i].iter().copied());
                    }
                    Some(_) => {}
                    None => possible &= undecided_is_satisfied(&self.candidates[i]),
                }
            }
            if possible && program.admits(&trial, 0.0) {
                selection = trial;
            }
        }
        Some(selection)
    }

    /// The shadow price of each budget row at 100% of the envelope: what the last unit of that
    /// budget earns in the LP relaxation (candidates fundable in part), measured over its last
    /// 0.1% (at least a cent): (optimum − optimum with 0.1% less) / 0.1% of the budget. Where
    /// the rows' dual is not one number (a budget that whole candidates fill exactly), this is
    /// the value per unit of the last one funded, its upper end. Where a budget cannot shrink
    /// (the candidates funded whatever fill it), what the next 0.1% would earn. Rounded to 10⁻⁹.
    /// `None` for every row when the relaxation has no solution.
    ///
    /// # Errors
    ///
    /// [`SolverError`] when the solver fails.
    pub fn shadow_prices(&self) -> Result<Vec<Option<f64>>, SolverError> {
        // The budgets as they are, without the half cent of slack the integer program has: the
        // slack would blur a price measured over a small budget's last 0.1%.
        let mut base = self.at_level(1.0);
        for (row, kind) in base.rows.iter_mut().zip(&self.kinds) {
            if let RowKind::Budget(_) = kind {
                row.limit -= HALF_CENT;
            }
        }
        let Some(optimum) = solver::relaxation(&base)? else {
            return Ok(vec![None; self.budgets.len()]);
        };
        let mut prices = vec![None; self.budgets.len()];
        for (r, kind) in self.kinds.iter().enumerate() {
            let RowKind::Budget(b) = kind else { continue };
            let step = (to_f64(self.budgets[*b].limit) * 1e-3).max(0.01);
            let mut less = base.clone();
            less.rows[r].limit -= step;
            let change = match solver::relaxation(&less)? {
                Some(lowered) => optimum - lowered,
                None => {
                    let mut more = base.clone();
                    more.rows[r].limit += step;
                    match solver::relaxation(&more)? {
                        Some(raised) => raised - optimum,
                        None => continue,
                    }
                }
            };
            // Below a millionth of a unit per unit is the relaxation's rounding, not a price.
            let price = (change / step).max(0.0);
            prices[*b] = Some(if price < 1e-6 {
                0.0
            } else {
                (price * 1e9).round() / 1e9
            });
        }
        Ok(prices)
    }

    /// Why no selection exists at `level`: the smallest set of constraint groups (budgets,
    /// caps, exclusive groups, prerequisites) that cannot all hold together with what is fixed,
    /// found by dropping one group at a time and keeping it dropped when the rest still
    /// conflict.
    ///
    /// # Errors
    ///
    /// [`SolverError`] when the solver fails.
    pub fn diagnose(
        &self,
        level: f64,
        time_limit: Duration,
        currency: &str,
    ) -> Result<String, SolverError> {
        let lang = self.lang;
        let program = self.at_level(level);
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        let mut requires = Vec::new();
        for (r, kind) in self.kinds.iter().enumerate() {
            match kind {
                RowKind::Budget(b) => groups.push((
                    format!(
                        "{} ({})",
                        budget_words(&self.budgets[*b], lang),
                        money(scaled(self.budgets[*b].limit, level), currency)
                    ),
                    vec![r],
                )),
                RowKind::Cap { category, share } => groups.push((
                    reasons::CAP.fill(
                        lang,
                        &[
                            ("category", category),
                            (
                                "share",
                                &(share * Decimal::ONE_HUNDRED).normalize().to_string(),
                            ),
                        ],
                    ),
                    vec![r],
                )),
                RowKind::Exclusive(group) => {
                    groups.push((
                        say::EXCLUSIVE_GROUP.fill(lang, &[("group", group)]),
                        vec![r],
                    ));
                }
                RowKind::Requires { .. } => requires.push(r),
            }
        }
        if !requires.is_empty() {
            groups.push((say::PREREQUISITES.get(lang).to_string(), requires));
        }
        let feasible = |keep: &[bool]| -> Result<bool, SolverError> {
            let mut trial = program.clone();
            let mut kept = Vec::new();
            for (g, (_, rows)) in groups.iter().enumerate() {
                if keep[g] {
                    kept.extend(rows.iter().map(|r| program.rows[*r].clone()));
                }
            }
            trial.rows = kept;
            // Only whether a selection exists matters: no objective to chase.
            trial.values = vec![0.0; trial.values.len()];
            Ok(!matches!(
                solver::solve(&trial, None, time_limit)?.outcome,
                Solved::Infeasible
            ))
        };
        let mut keep = vec![true; groups.len()];
        for g in 0..groups.len() {
            keep[g] = false;
            if feasible(&keep)? {
                keep[g] = true;
            }
        }
        let fixed: Vec<&str> = self
            .fixed
            .iter()
            .enumerate()
            .filter(|(_, f)| f.as_ref().is_some_and(Fixed::funds))
            .map(|(v, _)| self.candidates[self.vars[v]].id())
            .collect();
        let named: Vec<&str> = groups
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|((name, _), _)| name.as_str())
            .collect();
        let named = if named.is_empty() {
            say::FIXED_CANDIDATES.get(lang).to_string()
        } else {
            named.join(reasons::AND.get(lang))
        };
        Ok(say::NO_SELECTION_KEEPS.fill(lang, &[("named", &named), ("ids", &id_list(fixed, 10))]))
    }
}
