//! The sentences that explain the figures (`[reasons]` and `[notes]` of the label catalogues):
//! why an investment is recommended to continue, be fixed, stopped or reviewed, and why a figure
//! is empty. They are made while the figures are computed, in the run's language, and stored
//! with them; the recommendation itself stays a code (`continue`, `fix`, `stop`, `review`).
//!
//! In: a key and the values of its placeholders. Out: the sentence, through [`Words::fill`].

use super::{Lang, Words};

// Reasons of a recommendation; {share}, {threshold}, {amount}, {cpi}, {spi} and {reason} are
// filled in, numbers formatted as in English.
pub const CLOSED: Words = Words::key("reasons.closed");
pub const PROBABILITY_BELOW: Words = Words::key("reasons.probability_below");
pub const FORWARD_NPV_BELOW: Words = Words::key("reasons.forward_npv_below");
pub const CPI_BELOW: Words = Words::key("reasons.cpi_below");
pub const SPI_BELOW: Words = Words::key("reasons.spi_below");
pub const OVER_LIFECYCLE: Words = Words::key("reasons.over_lifecycle");
pub const BENEFIT_REALIZATION_BELOW: Words = Words::key("reasons.benefit_realization_below");
pub const RUN_INVESTMENT: Words = Words::key("reasons.run_investment");
pub const CPI: Words = Words::key("reasons.cpi");
pub const SPI: Words = Words::key("reasons.spi");
pub const FORWARD_NPV: Words = Words::key("reasons.forward_npv");
pub const PROBABILITY: Words = Words::key("reasons.probability");
pub const NO_FORWARD_NPV: Words = Words::key("reasons.no_forward_npv");
pub const AND: Words = Words::key("reasons.and");
pub const LIST: Words = Words::key("reasons.list");

/// Joins the notes of one row.
pub const SEPARATOR: Words = Words::key("notes.separator");

/// The notes of `investment_finance`; {period} is filled in.
pub mod finance {
    use super::Words;

    pub const NO_ACTUAL_LINES: Words = Words::key("notes.finance.no_actual_lines");
    pub const NO_BUDGET_LINES: Words = Words::key("notes.finance.no_budget_lines");
    pub const FX_MISSING: Words = Words::key("notes.finance.fx_missing");
    pub const NO_BUDGET_MONTH: Words = Words::key("notes.finance.no_budget_month");
    pub const NO_BUDGET_YTD: Words = Words::key("notes.finance.no_budget_ytd");
    pub const NO_BAC: Words = Words::key("notes.finance.no_bac");
    pub const NO_PROGRESS: Words = Words::key("notes.finance.no_progress");
    pub const NO_ACTUAL_TO_DATE: Words = Words::key("notes.finance.no_actual_to_date");
    pub const NO_BUDGET_TO_DATE: Words = Words::key("notes.finance.no_budget_to_date");
    pub const NO_EAC_WITHOUT_EV: Words = Words::key("notes.finance.no_eac_without_ev");
    pub const NO_EAC_WITHOUT_ACTUAL: Words = Words::key("notes.finance.no_eac_without_actual");
    pub const NO_EAC_EV_ZERO: Words = Words::key("notes.finance.no_eac_ev_zero");
    pub const AC_REACHED_BAC: Words = Words::key("notes.finance.ac_reached_bac");
    pub const NO_PLANNED_BENEFITS: Words = Words::key("notes.finance.no_planned_benefits");
    pub const BENEFIT_FX_MISSING: Words = Words::key("notes.finance.benefit_fx_missing");
    pub const NO_LINES: Words = Words::key("notes.finance.no_lines");
    pub const FLOWS_FX_MISSING: Words = Words::key("notes.finance.flows_fx_missing");
    pub const NO_COSTS: Words = Words::key("notes.finance.no_costs");
    pub const IRR_NO_FLOWS: Words = Words::key("notes.finance.irr_no_flows");
    pub const IRR_NO_SIGN_CHANGE: Words = Words::key("notes.finance.irr_no_sign_change");
    pub const IRR_NOT_FOUND: Words = Words::key("notes.finance.irr_not_found");
    pub const NO_FORWARD_FLOWS: Words = Words::key("notes.finance.no_forward_flows");
    pub const NO_BENEFITS: Words = Words::key("notes.finance.no_benefits");
    pub const NOTHING_SPENT: Words = Words::key("notes.finance.nothing_spent");
    pub const NEVER_POSITIVE: Words = Words::key("notes.finance.never_positive");
    pub const NEVER_BELOW: Words = Words::key("notes.finance.never_below");
    pub const NO_DISCOUNTED_PAYBACK: Words = Words::key("notes.finance.no_discounted_payback");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[
        NO_ACTUAL_LINES,
        NO_BUDGET_LINES,
        FX_MISSING,
        NO_BUDGET_MONTH,
        NO_BUDGET_YTD,
        NO_BAC,
        NO_PROGRESS,
        NO_ACTUAL_TO_DATE,
        NO_BUDGET_TO_DATE,
        NO_EAC_WITHOUT_EV,
        NO_EAC_WITHOUT_ACTUAL,
        NO_EAC_EV_ZERO,
        AC_REACHED_BAC,
        NO_PLANNED_BENEFITS,
        BENEFIT_FX_MISSING,
        NO_LINES,
        FLOWS_FX_MISSING,
        NO_COSTS,
        IRR_NO_FLOWS,
        IRR_NO_SIGN_CHANGE,
        IRR_NOT_FOUND,
        NO_FORWARD_FLOWS,
        NO_BENEFITS,
        NOTHING_SPENT,
        NEVER_POSITIVE,
        NEVER_BELOW,
        NO_DISCOUNTED_PAYBACK,
    ];
}

/// The notes of the value-stream tables; {count} and {period} are filled in.
pub mod flow {
    use super::Words;

    pub const NO_COST_LINES: Words = Words::key("notes.flow.no_cost_lines");
    pub const NO_INCIDENT_IMPACT: Words = Words::key("notes.flow.no_incident_impact");
    pub const UNPRICED: Words = Words::key("notes.flow.unpriced");
    pub const NOTHING_RELEASED: Words = Words::key("notes.flow.nothing_released");
    pub const WITHOUT_PROPOSED: Words = Words::key("notes.flow.without_proposed");
    pub const WITHOUT_DEVELOPMENT: Words = Words::key("notes.flow.without_development");
    pub const TEAM_COSTS: Words = Words::key("notes.flow.team_costs");
    pub const NO_INVESTMENT: Words = Words::key("notes.flow.no_investment");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[
        NO_COST_LINES,
        NO_INCIDENT_IMPACT,
        UNPRICED,
        NOTHING_RELEASED,
        WITHOUT_PROPOSED,
        WITHOUT_DEVELOPMENT,
        TEAM_COSTS,
        NO_INVESTMENT,
    ];
}

/// The notes of `delivery_performance`; {count} and {period} are filled in.
pub mod delivery {
    use super::Words;

    pub const NO_PRODUCTION: Words = Words::key("notes.delivery.no_production");
    pub const UNNAMED: Words = Words::key("notes.delivery.unnamed");
    pub const NOT_RECOVERED: Words = Words::key("notes.delivery.not_recovered");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[NO_PRODUCTION, UNNAMED, NOT_RECOVERED];
}

/// The notes of `reliability_application`; {count}, {period} and {slo} are filled in.
pub mod reliability {
    use super::Words;

    pub const UNPRICED: Words = Words::key("notes.reliability.unpriced");
    pub const IMPACT_OPEN: Words = Words::key("notes.reliability.impact_open");
    pub const DEFAULT_SLO: Words = Words::key("notes.reliability.default_slo");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[UNPRICED, IMPACT_OPEN, DEFAULT_SLO];
}

/// Every key of the reasons and the separator, for the test that both catalogues have them.
#[cfg(test)]
pub(crate) const ALL: &[Words] = &[
    CLOSED,
    PROBABILITY_BELOW,
    FORWARD_NPV_BELOW,
    CPI_BELOW,
    SPI_BELOW,
    OVER_LIFECYCLE,
    BENEFIT_REALIZATION_BELOW,
    RUN_INVESTMENT,
    CPI,
    SPI,
    FORWARD_NPV,
    PROBABILITY,
    NO_FORWARD_NPV,
    AND,
    LIST,
    SEPARATOR,
];

/// `parts` joined with `joiner`'s text in `lang`.
pub fn join(parts: &[String], joiner: Words, lang: Lang) -> String {
    parts.join(joiner.get(lang))
}

/// A note with its `{period}` filled in.
pub fn for_period(words: Words, lang: Lang, period: &str) -> String {
    words.fill(lang, &[("period", period)])
}

/// A note with its `{count}` and `{period}` filled in.
pub fn counted(words: Words, lang: Lang, count: impl std::fmt::Display, period: &str) -> String {
    words.fill(lang, &[("count", &count.to_string()), ("period", period)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::text;

    #[test]
    fn every_reason_and_note_the_code_makes_is_in_both_catalogues() {
        for words in ALL
            .iter()
            .chain(finance::ALL)
            .chain(flow::ALL)
            .chain(delivery::ALL)
            .chain(reliability::ALL)
        {
            for lang in Lang::ALL {
                assert!(
                    text(lang, words.key).is_some(),
                    "{} is not in labels/{}.toml",
                    words.key,
                    lang.code()
                );
            }
        }
    }
}
