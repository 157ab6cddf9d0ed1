//! The words of the Scenarios sheets, in English and Chinese. The decisions and reasons are
//! stored in `metrics.scenario_*` in English, as the recommendations are.

use super::Words;

// Titles; {name}, {period}, {currency}, {from} and {to} are filled in.
pub const TITLE: Words = Words::new(
    "Scenario {name}: what to fund from {from} to {to}, as of {period} ({currency})",
    "情景 {name}：{from} 至 {to} 的资助选择，截至 {period}（{currency}）",
);

// Headings within the sheet.
pub const ENVELOPE: Words = Words::new(
    "Budgets and caps against the selection",
    "预算与上限对比入选组合",
);
pub const CANDIDATES: Words = Words::new(
    "Candidates: funded, continued, not funded, stopped, and why",
    "候选项目：资助、继续、不资助、停止及原因",
);
pub const FRONTIER: Words = Words::new(
    "Efficient frontier: the best objective at each budget level",
    "有效前沿：各预算水平下的最优目标值",
);

// Rows of the summary.
pub const STATUS: Words = Words::new("Status", "状态");
pub const WHY_NO_SELECTION: Words = Words::new("Why there is no selection", "无入选组合的原因");
pub const OBJECTIVE: Words = Words::new("Objective (maximised)", "目标（最大化）");
pub const WINDOW: Words = Words::new("Window", "窗口");
pub const ENVELOPE_TOTAL: Words = Words::new("Envelope", "预算总额");
pub const FUNDED_COST: Words = Words::new("Funded cost in the window", "窗口内已资助成本");
pub const OBJECTIVE_VALUE: Words = Words::new("Objective of the selection", "入选组合的目标值");
pub const DECISIONS: Words = Words::new("Decisions", "决定");
pub const DECISION_COUNTS: Words = Words::new(
    "{candidates} candidates: {funded} funded, {continued} continued, {not_funded} not funded, {stopped} stopped",
    "{candidates} 个候选项目：资助 {funded}，继续 {continued}，不资助 {not_funded}，停止 {stopped}",
);
pub const NOTES: Words = Words::new("Notes", "说明");
pub const HOW_TO_READ: Words = Words::new("How to read it", "阅读说明");
pub const HOW_TO_READ_TEXT: Words = Words::new(
    "Each candidate's value is what funding it (or continuing it) adds to the objective; its marginal is what the budgets it draws on earn per unit at the margin (their shadow prices). Below its marginal a candidate is not worth its cost; above it, it is funded unless it does not fit what candidates worth more leave. The Definitions sheet defines every column.",
    "每个候选项目的价值是资助（或继续）它给目标带来的增量；边际值是它所占用预算在边际上每单位所能获得的价值（影子价格）。低于边际值的项目不值得其成本；高于边际值的项目会被资助，除非它放不进更有价值的项目留下的预算。各列定义见“指标定义”表。",
);

// The frontier chart.
pub const FRONTIER_CHART: Words = Words::new(
    "Efficient frontier of {name}: the best objective by envelope ({currency})",
    "{name} 的有效前沿：各预算总额下的最优目标值（{currency}）",
);
pub const BEST_OBJECTIVE: Words = Words::new("Best objective", "最优目标值");
