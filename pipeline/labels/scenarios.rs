//! The words of the Scenarios sheets (`[scenarios]` of the label catalogues). The decisions and reasons are
//! stored in `metrics.scenario_*` in English (unlike the recommendations' reasons, which
//! [`super::explained`] writes in the run's language).

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
