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
    use super::Words;

    pub const FUNDED: Words = Words::key("scenarios.decision.funded");
    pub const CONTINUED: Words = Words::key("scenarios.decision.continued");
    pub const NOT_FUNDED: Words = Words::key("scenarios.decision.not_funded");
    pub const STOPPED: Words = Words::key("scenarios.decision.stopped");
    pub const OUTSIDE: Words = Words::key("scenarios.decision.outside");
    pub const LEFT_OUT: Words = Words::key("scenarios.decision.left_out");
    pub const NO_SELECTION: Words = Words::key("scenarios.decision.no_selection");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[
        FUNDED,
        CONTINUED,
        NOT_FUNDED,
        STOPPED,
        OUTSIDE,
        LEFT_OUT,
        NO_SELECTION,
    ];
}

/// How the objective is named in the reasons; {currency} and {terms} are filled in.
pub mod value {
    use super::Words;

    pub const NPV_P50: Words = Words::key("scenarios.value.npv_p50");
    pub const EXPECTED_NPV: Words = Words::key("scenarios.value.expected_npv");
    pub const NPV_PER_COST: Words = Words::key("scenarios.value.npv_per_cost");
    pub const SCORE: Words = Words::key("scenarios.value.score");
    pub const SCORE_PER_COST: Words = Words::key("scenarios.value.score_per_cost");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[NPV_P50, EXPECTED_NPV, NPV_PER_COST, SCORE, SCORE_PER_COST];
}

/// Why a candidate is in or out of the selection; the placeholders are filled in with figures formatted alike in every language.
pub mod reasons {
    use super::Words;

    pub const SEPARATOR: Words = Words::key("scenarios.reasons.separator");
    pub const AND: Words = Words::key("scenarios.reasons.and");
    pub const LIST: Words = Words::key("scenarios.reasons.list");
    pub const BELOW_MARGINAL: Words = Words::key("scenarios.reasons.below_marginal");
    pub const AT_MARGINAL: Words = Words::key("scenarios.reasons.at_marginal");
    pub const BUDGET: Words = Words::key("scenarios.reasons.budget");
    pub const UNFIT: Words = Words::key("scenarios.reasons.unfit");
    pub const CAP: Words = Words::key("scenarios.reasons.cap");
    pub const MUST_FUND: Words = Words::key("scenarios.reasons.must_fund");
    pub const BELOW_MINIMUM: Words = Words::key("scenarios.reasons.below_minimum");
    pub const PROBABILITY_UNKNOWN: Words = Words::key("scenarios.reasons.probability_unknown");
    pub const NOT_COUNTED: Words = Words::key("scenarios.reasons.not_counted");
    pub const KEPT_RUNNING: Words = Words::key("scenarios.reasons.kept_running");
    pub const NEEDED_BY_FIXED: Words = Words::key("scenarios.reasons.needed_by_fixed");
    pub const NEEDED_BY: Words = Words::key("scenarios.reasons.needed_by");
    pub const NO_NET_COST: Words = Words::key("scenarios.reasons.no_net_cost");
    pub const WORTH_LESS_BUT_FITS_NOT: Words =
        Words::key("scenarios.reasons.worth_less_but_fits_not");
    pub const ENVELOPE_SLACK: Words = Words::key("scenarios.reasons.envelope_slack");
    pub const FUNDED: Words = Words::key("scenarios.reasons.funded");
    pub const MUST_STOP: Words = Words::key("scenarios.reasons.must_stop");
    pub const PROPOSED_NO_COST: Words = Words::key("scenarios.reasons.proposed_no_cost");
    pub const NOT_FUNDED: Words = Words::key("scenarios.reasons.not_funded");
    pub const NEEDS_UNFUNDABLE: Words = Words::key("scenarios.reasons.needs_unfundable");
    pub const NEEDS_MISSING: Words = Words::key("scenarios.reasons.needs_missing");
    pub const EXCLUSIVE: Words = Words::key("scenarios.reasons.exclusive");
    pub const LOWERS_TOTAL_FUNDING: Words = Words::key("scenarios.reasons.lowers_total_funding");
    pub const LOWERS_TOTAL_CONTINUING: Words =
        Words::key("scenarios.reasons.lowers_total_continuing");
    pub const BOUND_WORTH_LESS: Words = Words::key("scenarios.reasons.bound_worth_less");
    pub const BOUND_FITS_NOT: Words = Words::key("scenarios.reasons.bound_fits_not");
    pub const BOUND: Words = Words::key("scenarios.reasons.bound");
    pub const TIME_LIMIT: Words = Words::key("scenarios.reasons.time_limit");
    pub const DISPLACES_AGAINST: Words = Words::key("scenarios.reasons.displaces_against");
    pub const DISPLACES: Words = Words::key("scenarios.reasons.displaces");
    pub const OUTSIDE: Words = Words::key("scenarios.reasons.outside");
    pub const NO_FX: Words = Words::key("scenarios.reasons.no_fx");
    pub const NO_NPV_P50: Words = Words::key("scenarios.reasons.no_npv_p50");
    pub const NO_EXPECTED_NPV: Words = Words::key("scenarios.reasons.no_expected_npv");
    pub const NO_SCORE_FIGURES: Words = Words::key("scenarios.reasons.no_score_figures");
    pub const OR: Words = Words::key("scenarios.reasons.or");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[
        SEPARATOR,
        AND,
        LIST,
        BELOW_MARGINAL,
        AT_MARGINAL,
        BUDGET,
        UNFIT,
        CAP,
        MUST_FUND,
        BELOW_MINIMUM,
        PROBABILITY_UNKNOWN,
        NOT_COUNTED,
        KEPT_RUNNING,
        NEEDED_BY_FIXED,
        NEEDED_BY,
        NO_NET_COST,
        WORTH_LESS_BUT_FITS_NOT,
        ENVELOPE_SLACK,
        FUNDED,
        MUST_STOP,
        PROPOSED_NO_COST,
        NOT_FUNDED,
        NEEDS_UNFUNDABLE,
        NEEDS_MISSING,
        EXCLUSIVE,
        LOWERS_TOTAL_FUNDING,
        LOWERS_TOTAL_CONTINUING,
        BOUND_WORTH_LESS,
        BOUND_FITS_NOT,
        BOUND,
        TIME_LIMIT,
        DISPLACES_AGAINST,
        DISPLACES,
        OUTSIDE,
        NO_FX,
        NO_NPV_P50,
        NO_EXPECTED_NPV,
        NO_SCORE_FIGURES,
        OR,
    ];
}

/// What the Scenarios sheet adds under a scenario's totals; {label}, {period}, {first}, {last}
/// and {ids} are filled in.
pub mod notes {
    use super::Words;

    pub const BUDGET_OUTSIDE: Words = Words::key("scenarios.remarks.budget_outside");
    pub const MONTHS_PAST: Words = Words::key("scenarios.remarks.months_past");
    pub const VALUE_UNKNOWN: Words = Words::key("scenarios.remarks.value_unknown");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[BUDGET_OUTSIDE, MONTHS_PAST, VALUE_UNKNOWN];
}

/// Why a scenario has no selection; the placeholders are filled in with ids and figures.
pub mod faults {
    use super::Words;

    pub const BOTH_MUST: Words = Words::key("scenarios.faults.both_must");
    pub const MUST_FUND_CLOSED: Words = Words::key("scenarios.faults.must_fund_closed");
    pub const MUST_FUND_UNFUNDABLE: Words = Words::key("scenarios.faults.must_fund_unfundable");
    pub const NEEDS_UNFUNDABLE: Words = Words::key("scenarios.faults.needs_unfundable");
    pub const MUST_STOP_FORCED: Words = Words::key("scenarios.faults.must_stop_forced");
    pub const EXCLUSIVE_FORCED: Words = Words::key("scenarios.faults.exclusive_forced");
    pub const FORCED_MUST_FUND: Words = Words::key("scenarios.faults.forced_must_fund");
    pub const FORCED_KEPT: Words = Words::key("scenarios.faults.forced_kept");
    pub const FORCED_NEEDED_BY: Words = Words::key("scenarios.faults.forced_needed_by");
    pub const FORCED_FIXED: Words = Words::key("scenarios.faults.forced_fixed");
    pub const OVER_BUDGET: Words = Words::key("scenarios.faults.over_budget");
    pub const WINDOW_SPAN: Words = Words::key("scenarios.faults.window_span");
    pub const EXCLUSIVE_GROUP: Words = Words::key("scenarios.faults.exclusive_group");
    pub const PREREQUISITES: Words = Words::key("scenarios.faults.prerequisites");
    pub const FIXED_CANDIDATES: Words = Words::key("scenarios.faults.fixed_candidates");
    pub const NO_SELECTION_KEEPS: Words = Words::key("scenarios.faults.no_selection_keeps");
    pub const WINDOW_ENDED: Words = Words::key("scenarios.faults.window_ended");
    pub const CYCLE: Words = Words::key("scenarios.faults.cycle");
    pub const CYCLE_NEXT: Words = Words::key("scenarios.faults.cycle_next");

    /// Every key above, for the test that both catalogues have them.
    #[cfg(test)]
    pub(crate) const ALL: &[Words] = &[
        BOTH_MUST,
        MUST_FUND_CLOSED,
        MUST_FUND_UNFUNDABLE,
        NEEDS_UNFUNDABLE,
        MUST_STOP_FORCED,
        EXCLUSIVE_FORCED,
        FORCED_MUST_FUND,
        FORCED_KEPT,
        FORCED_NEEDED_BY,
        FORCED_FIXED,
        OVER_BUDGET,
        WINDOW_SPAN,
        EXCLUSIVE_GROUP,
        PREREQUISITES,
        FIXED_CANDIDATES,
        NO_SELECTION_KEEPS,
        WINDOW_ENDED,
        CYCLE,
        CYCLE_NEXT,
    ];
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
