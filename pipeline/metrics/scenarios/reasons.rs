//! Why each candidate is in or out of a scenario's selection, in words: the rule that fixed it,
//! or the constraint that binds it, with its value per unit of cost against the marginal.
//!
//! The marginal of a candidate is the value one more unit of the budgets it draws on would buy at
//! the margin: the shadow prices of the budget rows (from the LP relaxation, see
//! [`Model::shadow_prices`]) weighted by the share of its cost that falls in each. A candidate
//! whose value per unit of cost is below its marginal would not be funded even if it could be
//! funded in part; one above it is funded unless it does not fit what the better ones leave.
//!
//! In: the model, the selection, the shadow prices. Out: per candidate its decision, its value
//! per unit of cost, its marginal and the reason.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::candidates::{Candidate, Standing};
use super::program::{Fixed, Model, RowKind};
use crate::format::group_thousands;
use crate::labels::Lang;
use crate::labels::scenarios::reasons as say;

/// A candidate's decision, as the Scenarios sheet shows it.
pub mod decision {
    pub const FUNDED: &str = "funded";
    pub const CONTINUED: &str = "continued";
    pub const NOT_FUNDED: &str = "not funded";
    pub const STOPPED: &str = "stopped";
    pub const OUTSIDE: &str = "outside the window";
    pub const LEFT_OUT: &str = "left out";
    pub const NO_SELECTION: &str = "no selection";

    /// The order in which the sheet groups the decisions.
    pub const ORDER: [&str; 7] = [
        FUNDED,
        CONTINUED,
        NOT_FUNDED,
        STOPPED,
        OUTSIDE,
        LEFT_OUT,
        NO_SELECTION,
    ];

    /// The decision `code` (one of the above, as the warehouse stores it) in `lang`.
    pub fn word(code: &str, lang: Lang) -> &'static str {
        use crate::labels::scenarios::decision as words;
        let words = match code {
            FUNDED => words::FUNDED,
            CONTINUED => words::CONTINUED,
            NOT_FUNDED => words::NOT_FUNDED,
            STOPPED => words::STOPPED,
            OUTSIDE => words::OUTSIDE,
            LEFT_OUT => words::LEFT_OUT,
            NO_SELECTION => words::NO_SELECTION,
            _ => return "",
        };
        words.get(lang)
    }

    use crate::labels::Lang;
}

/// How the objective's figures are named in the reasons.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    /// "forward NPV at P50".
    pub value: &'a str,
    /// "NPV per EUR".
    pub per_cost: &'a str,
    pub currency: &'a str,
    /// The scenario's minimum probability of a positive NPV, if any.
    pub min_probability: Option<f64>,
    /// The language of the reasons.
    pub lang: Lang,
}

/// One candidate's place in the selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    pub decision: &'static str,
    pub value_per_cost: Option<f64>,
    pub marginal: Option<f64>,
    pub reason: String,
}

/// A value per unit of cost: two decimals, or three significant digits below 0.01.
pub fn ratio(x: f64) -> String {
    if x == 0.0 {
        return "0.00".to_string();
    }
    let text = if x.abs() >= 0.01 {
        format!("{x:.2}")
    } else {
        let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    };
    text.replace('-', "−")
}

/// Whole units of money with the currency: "−12,000 EUR".
pub fn money(value: f64, currency: &str) -> String {
    format!(
        "{} {currency}",
        group_thousands(value.round() as i64).replace('-', "−")
    )
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

fn decimal_money(value: Decimal, currency: &str) -> String {
    money(value.to_f64().unwrap_or(0.0), currency)
}

/// Whether a value per unit of cost is below the marginal, beyond the relaxation's rounding.
fn below(r: f64, m: f64) -> bool {
    r < m - 1e-9 * m.abs().max(1.0)
}

/// What one candidate's decision depends on.
struct Situation<'m, 'c> {
    model: &'m Model<'c>,
    selection: &'m [bool],
    prices: &'m [Option<f64>],
    optimal: bool,
    words: Words<'m>,
}

impl Situation<'_, '_> {
    fn on(&self, i: usize) -> bool {
        self.model.var_of[i].is_some_and(|v| self.selection[v])
    }

    fn marginal(&self, c: &Candidate) -> Option<f64> {
        let cost = c.cost?.to_f64()?;
        if cost <= 0.0 || self.prices.iter().all(Option::is_none) {
            return None;
        }
        let weighted: f64 = self
            .model
            .budgets
            .iter()
            .zip(self.prices)
            .map(|(b, p)| {
                p.unwrap_or(0.0) * c.cost_between(b.first, b.last).to_f64().unwrap_or(0.0)
            })
            .sum();
        Some(weighted / cost)
    }

    fn per_cost(c: &Candidate) -> Option<f64> {
        let cost = c.cost?.to_f64()?;
        (cost > 0.0).then_some(c.value? / cost)
    }

    /// "NPV per EUR 0.12 below the marginal 0.31".
    fn against_marginal(&self, r: Option<f64>, m: Option<f64>) -> Option<String> {
        let (r, m) = (r?, m?);
        let side = if below(r, m) {
            say::BELOW_MARGINAL
        } else {
            say::AT_MARGINAL
        };
        Some(self.say(
            side,
            &[
                ("per_cost", self.words.per_cost),
                ("ratio", &ratio(r)),
                ("marginal", &ratio(m)),
            ],
        ))
    }

    fn say(&self, words: crate::labels::Words, values: &[(&str, &str)]) -> String {
        words.fill(self.words.lang, values)
    }

    fn word(&self, words: crate::labels::Words) -> &'static str {
        words.get(self.words.lang)
    }

    fn joined(&self, parts: &[impl AsRef<str>], joiner: crate::labels::Words) -> String {
        let parts: Vec<&str> = parts.iter().map(AsRef::as_ref).collect();
        parts.join(self.word(joiner))
    }

    fn budget(&self, label: &str) -> String {
        self.say(say::BUDGET, &[("label", label)])
    }

    /// The budget rows in which `c` has cost and whose shadow price is positive.
    fn binding_rows(&self, c: &Candidate) -> Vec<String> {
        self.model
            .budgets
            .iter()
            .zip(self.prices)
            .filter(|(b, p)| {
                p.is_some_and(|p| p > 0.0) && !c.cost_between(b.first, b.last).is_zero()
            })
            .map(|(b, _)| self.budget(&b.label))
            .collect()
    }

    /// The budget rows `c` does not fit in beside the selection, with what it needs and what is
    /// left.
    fn unfit_rows(&self, c: &Candidate) -> Vec<String> {
        let currency = self.words.currency;
        self.model
            .budgets
            .iter()
            .filter_map(|b| {
                let need = c.cost_between(b.first, b.last);
                let left = b.limit - self.model.cost_of(self.selection, b.first, b.last);
                (need > left).then(|| {
                    self.say(
                        say::UNFIT,
                        &[
                            ("budget", &self.budget(&b.label)),
                            ("need", &decimal_money(need, currency)),
                            ("left", &decimal_money(left, currency)),
                        ],
                    )
                })
            })
            .collect()
    }

    /// The caps `c` would break if it were added.
    fn broken_caps(&self, c: &Candidate) -> Vec<String> {
        let cost = c.cost.unwrap_or_default();
        let total = self.model.funded_cost(self.selection) + cost;
        self.model
            .kinds
            .iter()
            .filter_map(|k| match k {
                RowKind::Cap { category, share } => {
                    let mut used = self.model.category_cost(self.selection, category);
                    if c.investment.category == *category {
                        used += cost;
                    }
                    (used > *share * total + Decimal::new(5, 3)).then(|| {
                        self.say(
                            say::CAP,
                            &[
                                ("category", category),
                                (
                                    "share",
                                    &(*share * Decimal::ONE_HUNDRED).normalize().to_string(),
                                ),
                            ],
                        )
                    })
                }
                _ => None,
            })
            .collect()
    }

    fn funded(&self, i: usize, fixed: Option<&Fixed>) -> String {
        let c = &self.model.candidates[i];
        let r = Self::per_cost(c);
        let m = self.marginal(c);
        match fixed {
            Some(Fixed::MustFund) => {
                let mut parts = vec![self.word(say::MUST_FUND).to_string()];
                if let (Some(min), true) = (self.words.min_probability, c.proposed())
                    && let Some(p) = c.investment.probability_positive.filter(|p| *p < min)
                {
                    parts.push(self.say(
                        say::BELOW_MINIMUM,
                        &[("share", &percent(p)), ("minimum", &percent(min))],
                    ));
                }
                if let Standing::LeftOut(why) = &c.standing {
                    parts.push(self.say(say::NOT_COUNTED, &[("why", why)]));
                }
                return self.joined(&parts, say::SEPARATOR);
            }
            Some(Fixed::KeptRunning) => {
                return self.word(say::KEPT_RUNNING).to_string();
            }
            Some(Fixed::PrerequisiteOf(w)) => {
                return self.say(
                    say::NEEDED_BY_FIXED,
                    &[("id", self.model.candidates[*w].id())],
                );
            }
            _ => {}
        }
        let needed_by: Vec<&str> = (0..self.model.candidates.len())
            .filter(|w| self.on(*w) && self.model.needs[*w].contains(&i))
            .map(|w| self.model.candidates[w].id())
            .collect();
        let weak =
            c.value.is_none_or(|v| v <= 0.0) || matches!((r, m), (Some(r), Some(m)) if below(r, m));
        if weak && !needed_by.is_empty() {
            let mut parts = vec![self.say(
                say::NEEDED_BY,
                &[("ids", &self.joined(&needed_by, say::LIST))],
            )];
            parts.extend(self.against_marginal(r, m));
            return self.joined(&parts, say::SEPARATOR);
        }
        if c.cost.is_some_and(|x| x <= Decimal::ZERO) {
            return self.word(say::NO_NET_COST).to_string();
        }
        match (r, m) {
            (Some(r), Some(m)) if m > 0.0 && below(r, m) => self.say(
                say::WORTH_LESS_BUT_FITS_NOT,
                &[(
                    "against",
                    &self.against_marginal(Some(r), Some(m)).unwrap_or_default(),
                )],
            ),
            (Some(r), Some(m)) if m > 0.0 => {
                self.against_marginal(Some(r), Some(m)).unwrap_or_default()
            }
            (Some(r), _) => self.say(
                say::ENVELOPE_SLACK,
                &[("per_cost", self.words.per_cost), ("ratio", &ratio(r))],
            ),
            _ => self.word(say::FUNDED).to_string(),
        }
    }

    fn not_funded(&self, i: usize, fixed: Option<&Fixed>) -> String {
        let model = self.model;
        let c = &model.candidates[i];
        let currency = self.words.currency;
        match fixed {
            Some(Fixed::MustStop) => return self.word(say::MUST_STOP).to_string(),
            Some(Fixed::BelowProbability(p)) => {
                let min = percent(self.words.min_probability.unwrap_or(0.0));
                return match p {
                    Some(p) => self.say(
                        say::BELOW_MINIMUM,
                        &[("share", &percent(*p)), ("minimum", &min)],
                    ),
                    None => self.say(say::PROBABILITY_UNKNOWN, &[("minimum", &min)]),
                };
            }
            Some(Fixed::NeedsUndecided(n)) => {
                let other = &model.candidates[*n];
                let why = match &other.standing {
                    Standing::Outside => self.word(say::PROPOSED_NO_COST).to_string(),
                    Standing::LeftOut(why) => why.clone(),
                    Standing::Decided => self.word(say::NOT_FUNDED).to_string(),
                };
                return self.say(say::NEEDS_UNFUNDABLE, &[("id", other.id()), ("why", &why)]);
            }
            _ => {}
        }
        let mut parts: Vec<String> = Vec::new();
        let missing: Vec<&str> = model.needs[i]
            .iter()
            .filter(|n| model.var_of[**n].is_some() && !self.on(**n))
            .map(|n| model.candidates[*n].id())
            .collect();
        if !missing.is_empty() {
            parts.push(self.say(
                say::NEEDS_MISSING,
                &[("ids", &self.joined(&missing, say::AND))],
            ));
        }
        for (group, members) in &model.groups {
            if !members.contains(&i) {
                continue;
            }
            if let Some(other) = members.iter().find(|o| **o != i && self.on(**o)) {
                parts.push(self.say(
                    say::EXCLUSIVE,
                    &[("group", group), ("id", model.candidates[*other].id())],
                ));
            }
        }
        if let Some(v) = c.value.filter(|v| *v <= 0.0) {
            let words = if c.proposed() {
                say::LOWERS_TOTAL_FUNDING
            } else {
                say::LOWERS_TOTAL_CONTINUING
            };
            parts.push(self.say(
                words,
                &[("value", self.words.value), ("amount", &money(v, currency))],
            ));
        }
        if !parts.is_empty() {
            return self.joined(&parts, say::SEPARATOR);
        }
        let r = Self::per_cost(c);
        let m = self.marginal(c);
        let unfit = self.unfit_rows(c);
        if !unfit.is_empty() {
            let binding = self.binding_rows(c);
            let unfit = self.joined(&unfit, say::AND);
            let named = if binding.is_empty() {
                unfit.clone()
            } else {
                self.joined(&binding, say::AND)
            };
            let against = self.against_marginal(r, m).unwrap_or_default();
            return match (r, m) {
                (Some(r), Some(m)) if below(r, m) => self.say(
                    say::BOUND_WORTH_LESS,
                    &[("named", &named), ("against", &against)],
                ),
                (Some(_), Some(_)) => self.say(
                    say::BOUND_FITS_NOT,
                    &[("unfit", &unfit), ("against", &against)],
                ),
                _ => self.say(say::BOUND, &[("unfit", &unfit)]),
            };
        }
        let caps = self.broken_caps(c);
        if !caps.is_empty() {
            return self.say(say::BOUND, &[("unfit", &self.joined(&caps, say::AND))]);
        }
        if !self.optimal {
            return self.word(say::TIME_LIMIT).to_string();
        }
        match self.against_marginal(r, m) {
            Some(against) => self.say(say::DISPLACES_AGAINST, &[("against", &against)]),
            None => self.word(say::DISPLACES).to_string(),
        }
    }
}

/// Each candidate's decision and reason under `selection` (one flag per variable), with the
/// budget rows' shadow prices; `optimal` says whether the selection is proven optimal.
pub fn explain(
    model: &Model,
    selection: &[bool],
    prices: &[Option<f64>],
    optimal: bool,
    words: Words,
) -> Vec<Explained> {
    let situation = Situation {
        model,
        selection,
        prices,
        optimal,
        words,
    };
    model
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let value_per_cost = Situation::per_cost(c);
            let marginal = situation.marginal(c);
            let Some(v) = model.var_of[i] else {
                let (decision, reason) = match &c.standing {
                    Standing::Outside => {
                        (decision::OUTSIDE, say::OUTSIDE.get(words.lang).to_string())
                    }
                    Standing::LeftOut(why) => (decision::LEFT_OUT, why.clone()),
                    Standing::Decided => (decision::LEFT_OUT, String::new()),
                };
                return Explained {
                    decision,
                    value_per_cost,
                    marginal: None,
                    reason,
                };
            };
            let fixed = model.fixed[v].as_ref();
            let (decision, reason) = if selection[v] {
                let label = if c.proposed() {
                    decision::FUNDED
                } else {
                    decision::CONTINUED
                };
                (label, situation.funded(i, fixed))
            } else {
                let label = if c.proposed() {
                    decision::NOT_FUNDED
                } else {
                    decision::STOPPED
                };
                (label, situation.not_funded(i, fixed))
            };
            Explained {
                decision,
                value_per_cost,
                marginal,
                reason,
            }
        })
        .collect()
}

/// Each candidate's decision when the scenario has no selection: the candidates it would decide
/// say so, the others why they are not among them.
pub fn without_selection(candidates: &[Candidate], why: &str, lang: Lang) -> Vec<Explained> {
    candidates
        .iter()
        .map(|c| {
            let (decision, reason) = match &c.standing {
                Standing::Outside => (decision::OUTSIDE, say::OUTSIDE.get(lang).to_string()),
                Standing::LeftOut(why) => (decision::LEFT_OUT, why.clone()),
                Standing::Decided => (decision::NO_SELECTION, why.to_string()),
            };
            Explained {
                decision,
                value_per_cost: Situation::per_cost(c),
                marginal: None,
                reason,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_keep_two_decimals_or_three_significant_digits() {
        assert_eq!(ratio(0.3149), "0.31");
        assert_eq!(ratio(1.5), "1.50");
        assert_eq!(ratio(0.001234), "0.00123");
        assert_eq!(ratio(-0.25), "−0.25");
        assert_eq!(ratio(0.0), "0.00");
        assert_eq!(money(-120_400.4, "EUR"), "−120,400 EUR");
    }
}
