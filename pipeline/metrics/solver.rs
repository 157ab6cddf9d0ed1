//! The 0/1 integer programs of the portfolio scenarios, solved exactly by good_lp's pure-Rust
//! microlp back end (branch and bound over the simplex; no C or C++ solver to build).
//!
//! In: a [`Program`]: per variable its value (maximised) and whether it is fixed, and rows
//! `Σ coefficient × x ≤ limit`. Out: the selection and whether it is proven optimal ([`Solved`]),
//! or the best selection found within a time limit; and the optimum of the LP relaxation, whose
//! change when a row's limit moves is that row's shadow price.
//!
//! Proven optimal means optimal to microlp's pruning tolerance: a selection whose value is within
//! 10⁻⁹ of the optimum (relative) may stand for it. Rows hold exact money converted to floats;
//! the caller checks the selection against its rows in decimals afterwards.

use std::time::{Duration, Instant};

use good_lp::solvers::microlp::microlp;
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolutionStatus, SolverModel, Variable,
    WithInitialSolution, WithTimeLimit, variable,
};

/// A row of a program: `Σ coefficient × x ≤ limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// (variable, coefficient); a variable appears at most once.
    pub terms: Vec<(usize, f64)>,
    pub limit: f64,
}

/// A 0/1 program: maximise `Σ values[j] × x[j]` over x in {0, 1}ⁿ subject to the rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Program {
    /// Per variable, what selecting it adds to the objective.
    pub values: Vec<f64>,
    /// Per variable: `Some(true)` selected whatever, `Some(false)` never, `None` free.
    pub fixed: Vec<Option<bool>>,
    pub rows: Vec<Row>,
}

impl Program {
    /// A program of `n` free variables with these values and no rows.
    pub fn new(values: Vec<f64>) -> Program {
        let n = values.len();
        Program {
            values,
            fixed: vec![None; n],
            rows: Vec::new(),
        }
    }

    /// The objective of `selection`.
    pub fn value_of(&self, selection: &[bool]) -> f64 {
        self.values
            .iter()
            .zip(selection)
            .filter(|(_, s)| **s)
            .map(|(v, _)| v)
            .sum()
    }

    /// Whether `selection` keeps every row and every fixed variable (within `tolerance` of a
    /// row's limit).
    pub fn admits(&self, selection: &[bool], tolerance: f64) -> bool {
        let fixed_kept = self
            .fixed
            .iter()
            .zip(selection)
            .all(|(f, s)| f.is_none_or(|f| f == *s));
        fixed_kept
            && self.rows.iter().all(|row| {
                let used: f64 = row
                    .terms
                    .iter()
                    .filter(|(j, _)| selection[*j])
                    .map(|(_, c)| c)
                    .sum();
                used <= row.limit + tolerance
            })
    }
}

/// How a solve ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Solved {
    /// The selection is proven optimal.
    Optimal(Vec<bool>),
    /// The time limit ran out; the best selection found by then (at least as good as the
    /// starting selection, when one was given and keeps every row).
    BestFound(Vec<bool>),
    /// No selection keeps every row and fixed variable.
    Infeasible,
    /// The time limit ran out before any selection was found.
    NothingInTime,
}

/// Why the solver gave up (a numerical failure inside it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the solver (good_lp with microlp) failed: {0}")]
pub struct SolverError(pub String);

/// One solve's outcome and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed<T> {
    pub outcome: T,
    pub elapsed: Duration,
}

fn variables(
    program: &Program,
    integer: bool,
    start: Option<&[bool]>,
) -> (ProblemVariables, Vec<Variable>) {
    let mut problem = ProblemVariables::new();
    let xs = (0..program.values.len())
        .map(|j| {
            let (low, high) = match program.fixed[j] {
                Some(true) => (1.0, 1.0),
                Some(false) => (0.0, 0.0),
                None => (0.0, 1.0),
            };
            let mut definition = variable().min(low).max(high);
            if integer {
                definition = definition.integer();
            }
            if let Some(start) = start {
                definition = definition.initial(if start[j] { 1.0 } else { 0.0 });
            }
            problem.add(definition)
        })
        .collect();
    (problem, xs)
}

fn objective(program: &Program, xs: &[Variable]) -> Expression {
    let mut objective = Expression::with_capacity(xs.len());
    for (x, value) in xs.iter().zip(&program.values) {
        objective.add_mul(*value, *x);
    }
    objective
}

fn row_expression(row: &Row, xs: &[Variable]) -> Expression {
    let mut expression = Expression::with_capacity(row.terms.len());
    for (j, coefficient) in &row.terms {
        expression.add_mul(*coefficient, xs[*j]);
    }
    expression
}

/// Solves `program` exactly, or as well as `time_limit` allows. `start`, a selection that keeps
/// every row, seeds the search: the result is never worse than it.
///
/// # Errors
///
/// [`SolverError`] when microlp fails numerically.
pub fn solve(
    program: &Program,
    start: Option<&[bool]>,
    time_limit: Duration,
) -> Result<Timed<Solved>, SolverError> {
    let clock = Instant::now();
    if program.values.is_empty() {
        let outcome = if program.admits(&[], 0.0) {
            Solved::Optimal(Vec::new())
        } else {
            Solved::Infeasible
        };
        return Ok(Timed {
            outcome,
            elapsed: clock.elapsed(),
        });
    }
    let start = start.filter(|s| program.admits(s, 0.0));
    let (problem, xs) = variables(program, true, start);
    let mut model = problem
        .maximise(objective(program, &xs))
        .using(microlp)
        .with_time_limit(time_limit.as_secs_f64());
    if let Some(start) = start {
        model = model.with_initial_solution(
            xs.iter()
                .zip(start)
                .map(|(x, s)| (*x, if *s { 1.0 } else { 0.0 })),
        );
    }
    for row in &program.rows {
        model.add_constraint(row_expression(row, &xs).leq(row.limit));
    }
    let outcome = match model.solve() {
        Ok(solution) => {
            let selection: Vec<bool> = xs.iter().map(|x| solution.value(*x) > 0.5).collect();
            match solution.status() {
                SolutionStatus::Optimal => Solved::Optimal(selection),
                SolutionStatus::TimeLimit | SolutionStatus::GapLimit => {
                    Solved::BestFound(selection)
                }
            }
        }
        Err(ResolutionError::Infeasible) => Solved::Infeasible,
        Err(ResolutionError::Other(message)) if message.starts_with("Time limit") => {
            Solved::NothingInTime
        }
        Err(e) => return Err(SolverError(e.to_string())),
    };
    Ok(Timed {
        outcome,
        elapsed: clock.elapsed(),
    })
}

/// The optimum of `program`'s LP relaxation (every free variable anywhere from 0 to 1), or
/// `None` when even the relaxation has no solution.
///
/// # Errors
///
/// [`SolverError`] when microlp fails numerically.
pub fn relaxation(program: &Program) -> Result<Option<f64>, SolverError> {
    if program.values.is_empty() {
        return Ok(program.admits(&[], 0.0).then_some(0.0));
    }
    let (problem, xs) = variables(program, false, None);
    let objective = objective(program, &xs);
    let mut model = problem.maximise(objective.clone()).using(microlp);
    for row in &program.rows {
        model.add_constraint(row_expression(row, &xs).leq(row.limit));
    }
    match model.solve() {
        Ok(solution) => Ok(Some(solution.eval(&objective))),
        Err(ResolutionError::Infeasible) => Ok(None),
        Err(e) => Err(SolverError(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    fn optimal(program: &Program) -> Vec<bool> {
        match solve(program, None, LIMIT).unwrap().outcome {
            Solved::Optimal(s) => s,
            other => panic!("not optimal: {other:?}"),
        }
    }

    #[test]
    fn a_knapsack_is_solved_to_its_optimum_and_its_relaxation_to_the_fractional_one() {
        // Values 60, 100, 120, weights 10, 20, 30, capacity 50: the best is the last two (220);
        // the relaxation takes the first two whole and 2/3 of the third: 60 + 100 + 80 = 240.
        let mut program = Program::new(vec![60.0, 100.0, 120.0]);
        program.rows.push(Row {
            terms: vec![(0, 10.0), (1, 20.0), (2, 30.0)],
            limit: 50.0,
        });
        assert_eq!(optimal(&program), [false, true, true]);
        let relaxed = relaxation(&program).unwrap().unwrap();
        assert!((relaxed - 240.0).abs() < 1e-9, "{relaxed}");
    }

    #[test]
    fn fixed_variables_hold_and_contradictions_are_infeasible() {
        let mut program = Program::new(vec![5.0, 4.0]);
        program.rows.push(Row {
            terms: vec![(0, 3.0), (1, 3.0)],
            limit: 4.0,
        });
        program.fixed[1] = Some(true);
        assert_eq!(optimal(&program), [false, true]);
        program.fixed[0] = Some(true);
        assert_eq!(
            solve(&program, None, LIMIT).unwrap().outcome,
            Solved::Infeasible
        );
        assert_eq!(relaxation(&program).unwrap(), None);
    }

    #[test]
    fn a_starting_selection_that_breaks_a_row_is_ignored() {
        let mut program = Program::new(vec![1.0, 1.0]);
        program.rows.push(Row {
            terms: vec![(0, 1.0), (1, 1.0)],
            limit: 1.0,
        });
        let solved = solve(&program, Some(&[true, true]), LIMIT).unwrap().outcome;
        match solved {
            Solved::Optimal(s) => assert_eq!(s.iter().filter(|x| **x).count(), 1),
            other => panic!("{other:?}"),
        }
    }
}
