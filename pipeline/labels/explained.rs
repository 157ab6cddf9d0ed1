//! The sentences that explain the figures (`[reasons]` and `[notes]` of the label catalogues):
//! why an investment is recommended to continue, be fixed, stopped or reviewed, and why a figure
//! is empty. They are made while the figures are computed, in the run's language, and stored
//! with them; the recommendation itself stays a code (`continue`, `fix`, `stop`, `review`).
//!
//! In: a key and the values of its placeholders. Out: the sentence, through [`Words::fill`].

use super::{Lang, Words};

words! {
    // Reasons of a recommendation; {share}, {threshold}, {amount}, {cpi}, {spi} and {reason} are
    // filled in, numbers formatted as in English.
    CLOSED = "reasons.closed";
    PROBABILITY_BELOW = "reasons.probability_below";
    FORWARD_NPV_BELOW = "reasons.forward_npv_below";
    CPI_BELOW = "reasons.cpi_below";
    SPI_BELOW = "reasons.spi_below";
    OVER_LIFECYCLE = "reasons.over_lifecycle";
    BENEFIT_REALIZATION_BELOW = "reasons.benefit_realization_below";
    RUN_INVESTMENT = "reasons.run_investment";
    CPI = "reasons.cpi";
    SPI = "reasons.spi";
    FORWARD_NPV = "reasons.forward_npv";
    PROBABILITY = "reasons.probability";
    NO_FORWARD_NPV = "reasons.no_forward_npv";
    AND = "reasons.and";
    LIST = "reasons.list";

    /// Joins the notes of one row.
    SEPARATOR = "notes.separator";
}

/// The notes of `investment_finance`; {period} is filled in.
pub mod finance {
    words! {
        NO_ACTUAL_LINES = "notes.finance.no_actual_lines";
        NO_BUDGET_LINES = "notes.finance.no_budget_lines";
        FX_MISSING = "notes.finance.fx_missing";
        NO_BUDGET_MONTH = "notes.finance.no_budget_month";
        NO_BUDGET_YTD = "notes.finance.no_budget_ytd";
        NO_BAC = "notes.finance.no_bac";
        NO_PROGRESS = "notes.finance.no_progress";
        NO_ACTUAL_TO_DATE = "notes.finance.no_actual_to_date";
        NO_BUDGET_TO_DATE = "notes.finance.no_budget_to_date";
        NO_EAC_WITHOUT_EV = "notes.finance.no_eac_without_ev";
        NO_EAC_WITHOUT_ACTUAL = "notes.finance.no_eac_without_actual";
        NO_EAC_EV_ZERO = "notes.finance.no_eac_ev_zero";
        AC_REACHED_BAC = "notes.finance.ac_reached_bac";
        NO_PLANNED_BENEFITS = "notes.finance.no_planned_benefits";
        BENEFIT_FX_MISSING = "notes.finance.benefit_fx_missing";
        NO_LINES = "notes.finance.no_lines";
        FLOWS_FX_MISSING = "notes.finance.flows_fx_missing";
        NO_COSTS = "notes.finance.no_costs";
        IRR_NO_FLOWS = "notes.finance.irr_no_flows";
        IRR_NO_SIGN_CHANGE = "notes.finance.irr_no_sign_change";
        IRR_NOT_FOUND = "notes.finance.irr_not_found";
        NO_FORWARD_FLOWS = "notes.finance.no_forward_flows";
        NO_BENEFITS = "notes.finance.no_benefits";
        NOTHING_SPENT = "notes.finance.nothing_spent";
        NEVER_POSITIVE = "notes.finance.never_positive";
        NEVER_BELOW = "notes.finance.never_below";
        NO_DISCOUNTED_PAYBACK = "notes.finance.no_discounted_payback";
    }
}

/// The notes of the value-stream tables; {count} and {period} are filled in.
pub mod flow {
    words! {
        NO_COST_LINES = "notes.flow.no_cost_lines";
        NO_INCIDENT_IMPACT = "notes.flow.no_incident_impact";
        UNPRICED = "notes.flow.unpriced";
        NOTHING_RELEASED = "notes.flow.nothing_released";
        WITHOUT_PROPOSED = "notes.flow.without_proposed";
        WITHOUT_DEVELOPMENT = "notes.flow.without_development";
        TEAM_COSTS = "notes.flow.team_costs";
        NO_INVESTMENT = "notes.flow.no_investment";
    }
}

/// The notes of `delivery_performance`; {count} and {period} are filled in.
pub mod delivery {
    words! {
        NO_PRODUCTION = "notes.delivery.no_production";
        UNNAMED = "notes.delivery.unnamed";
        NOT_RECOVERED = "notes.delivery.not_recovered";
    }
}

/// The notes of `reliability_application`; {count}, {period} and {slo} are filled in.
pub mod reliability {
    words! {
        UNPRICED = "notes.reliability.unpriced";
        IMPACT_OPEN = "notes.reliability.impact_open";
        DEFAULT_SLO = "notes.reliability.default_slo";
    }
}

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
