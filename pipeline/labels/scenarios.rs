//! The words of the Scenarios sheets (`[scenarios]` of the label catalogues). The candidates'
//! reasons are stored in `metrics.scenario_candidates` in the run's language, like the
//! recommendations' reasons of [`super::explained`]; their decisions are stored as the English
//! word, a code the sheet shows through [`decision`].

use super::Words;

// Titles; {name}, {period}, {currency}, {from} and {to} are filled in.
pub const TITLE: Words = Words::key("scenarios.title");

// Headings within the sheet.
pub const ENVELOPE: Words = Words::key("scenarios.envelope");
pub const CANDIDATES: Words = Words::key("scenarios.candidates");
pub const FRONTIER: Words = Words::key("scenarios.frontier");

// Rows of the summary.
pub const STATUS: Words = Words::key("scenarios.status");
pub const WHY_NO_SELECTION: Words = Words::key("scenarios.why_no_selection");
pub const OBJECTIVE: Words = Words::key("scenarios.objective");
pub const WINDOW: Words = Words::key("scenarios.window");
pub const ENVELOPE_TOTAL: Words = Words::key("scenarios.envelope_total");
pub const FUNDED_COST: Words = Words::key("scenarios.funded_cost");
pub const OBJECTIVE_VALUE: Words = Words::key("scenarios.objective_value");
pub const DECISIONS: Words = Words::key("scenarios.decisions");
pub const DECISION_COUNTS: Words = Words::key("scenarios.decision_counts");
pub const NOTES: Words = Words::key("scenarios.notes");
pub const HOW_TO_READ: Words = Words::key("scenarios.how_to_read");
pub const HOW_TO_READ_TEXT: Words = Words::key("scenarios.how_to_read_text");

// The frontier chart.
pub const FRONTIER_CHART: Words = Words::key("scenarios.frontier_chart");
pub const BEST_OBJECTIVE: Words = Words::key("scenarios.best_objective");

/// A candidate's decision in words, by the code stored in the warehouse (`not funded`).
pub mod decision {
    words! {
        FUNDED = "scenarios.decision.funded";
        CONTINUED = "scenarios.decision.continued";
        NOT_FUNDED = "scenarios.decision.not_funded";
        STOPPED = "scenarios.decision.stopped";
        OUTSIDE = "scenarios.decision.outside";
        LEFT_OUT = "scenarios.decision.left_out";
        NO_SELECTION = "scenarios.decision.no_selection";
    }
}

/// How the objective is named in the reasons; {currency} and {terms} are filled in.
pub mod value {
    words! {
        NPV_P50 = "scenarios.value.npv_p50";
        EXPECTED_NPV = "scenarios.value.expected_npv";
        NPV_PER_COST = "scenarios.value.npv_per_cost";
        SCORE = "scenarios.value.score";
        SCORE_PER_COST = "scenarios.value.score_per_cost";
    }
}

/// Why a candidate is in or out of the selection; the placeholders are filled in with figures formatted alike in every language.
pub mod reasons {
    words! {
        SEPARATOR = "scenarios.reasons.separator";
        AND = "scenarios.reasons.and";
        LIST = "scenarios.reasons.list";
        BELOW_MARGINAL = "scenarios.reasons.below_marginal";
        AT_MARGINAL = "scenarios.reasons.at_marginal";
        BUDGET = "scenarios.reasons.budget";
        UNFIT = "scenarios.reasons.unfit";
        CAP = "scenarios.reasons.cap";
        MUST_FUND = "scenarios.reasons.must_fund";
        BELOW_MINIMUM = "scenarios.reasons.below_minimum";
        PROBABILITY_UNKNOWN = "scenarios.reasons.probability_unknown";
        NOT_COUNTED = "scenarios.reasons.not_counted";
        KEPT_RUNNING = "scenarios.reasons.kept_running";
        NEEDED_BY_FIXED = "scenarios.reasons.needed_by_fixed";
        NEEDED_BY = "scenarios.reasons.needed_by";
        NO_NET_COST = "scenarios.reasons.no_net_cost";
        WORTH_LESS_BUT_FITS_NOT = "scenarios.reasons.worth_less_but_fits_not";
        ENVELOPE_SLACK = "scenarios.reasons.envelope_slack";
        FUNDED = "scenarios.reasons.funded";
        MUST_STOP = "scenarios.reasons.must_stop";
        PROPOSED_NO_COST = "scenarios.reasons.proposed_no_cost";
        NOT_FUNDED = "scenarios.reasons.not_funded";
        NEEDS_UNFUNDABLE = "scenarios.reasons.needs_unfundable";
        NEEDS_MISSING = "scenarios.reasons.needs_missing";
        EXCLUSIVE = "scenarios.reasons.exclusive";
        LOWERS_TOTAL_FUNDING = "scenarios.reasons.lowers_total_funding";
        LOWERS_TOTAL_CONTINUING = "scenarios.reasons.lowers_total_continuing";
        BOUND_WORTH_LESS = "scenarios.reasons.bound_worth_less";
        BOUND_FITS_NOT = "scenarios.reasons.bound_fits_not";
        BOUND = "scenarios.reasons.bound";
        TIME_LIMIT = "scenarios.reasons.time_limit";
        DISPLACES_AGAINST = "scenarios.reasons.displaces_against";
        DISPLACES = "scenarios.reasons.displaces";
        OUTSIDE = "scenarios.reasons.outside";
        NO_FX = "scenarios.reasons.no_fx";
        NO_NPV_P50 = "scenarios.reasons.no_npv_p50";
        NO_EXPECTED_NPV = "scenarios.reasons.no_expected_npv";
        NO_SCORE_FIGURES = "scenarios.reasons.no_score_figures";
        OR = "scenarios.reasons.or";
    }
}

/// What the Scenarios sheet adds under a scenario's totals; {label}, {period}, {first}, {last}
/// and {ids} are filled in.
pub mod notes {
    words! {
        BUDGET_OUTSIDE = "scenarios.remarks.budget_outside";
        MONTHS_PAST = "scenarios.remarks.months_past";
        VALUE_UNKNOWN = "scenarios.remarks.value_unknown";
    }
}

/// Why a scenario has no selection; the placeholders are filled in with ids and figures.
pub mod faults {
    words! {
        BOTH_MUST = "scenarios.faults.both_must";
        MUST_FUND_CLOSED = "scenarios.faults.must_fund_closed";
        MUST_FUND_UNFUNDABLE = "scenarios.faults.must_fund_unfundable";
        NEEDS_UNFUNDABLE = "scenarios.faults.needs_unfundable";
        MUST_STOP_FORCED = "scenarios.faults.must_stop_forced";
        EXCLUSIVE_FORCED = "scenarios.faults.exclusive_forced";
        FORCED_MUST_FUND = "scenarios.faults.forced_must_fund";
        FORCED_KEPT = "scenarios.faults.forced_kept";
        FORCED_NEEDED_BY = "scenarios.faults.forced_needed_by";
        FORCED_FIXED = "scenarios.faults.forced_fixed";
        OVER_BUDGET = "scenarios.faults.over_budget";
        WINDOW_SPAN = "scenarios.faults.window_span";
        EXCLUSIVE_GROUP = "scenarios.faults.exclusive_group";
        PREREQUISITES = "scenarios.faults.prerequisites";
        FIXED_CANDIDATES = "scenarios.faults.fixed_candidates";
        NO_SELECTION_KEEPS = "scenarios.faults.no_selection_keeps";
        WINDOW_ENDED = "scenarios.faults.window_ended";
        CYCLE = "scenarios.faults.cycle";
        CYCLE_NEXT = "scenarios.faults.cycle_next";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Lang, text};

    #[test]
    fn every_scenario_decision_and_reason_the_code_makes_is_in_both_catalogues() {
        for words in decision::ALL
            .iter()
            .chain(value::ALL)
            .chain(reasons::ALL)
            .chain(notes::ALL)
            .chain(faults::ALL)
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
