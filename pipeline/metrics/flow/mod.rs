//! Flow: the demand value funnel per value stream and team as of a period (DESIGN.md, "Flow"):
//! arrivals and throughput, lead and cycle time, work in progress and its age, flow efficiency,
//! rework, post-implementation reviews, the funnel's conversion and drop-off, stage times, a
//! twelve-month trend for the cumulative flow, the oldest work in progress, and the money next to
//! the flow (cost per released demand, incident cost against the run cost).
//!
//! In: `stg_demands`, `stg_demand_events`, `mart_demand_stage_intervals`, and for the money
//! `mart_investment_monthly`, `stg_investments` and `mart_incident_impact_monthly`. Out: the
//! tables [`FLOW_VALUE_STREAM`], [`FLOW_FUNNEL`], [`FLOW_TREND`] and [`FLOW_OLDEST_WIP`]. Every
//! duration is measured on instants (a daylight-saving change never adds or removes an hour) and
//! shown in days with two decimals; percentiles are Excel's PERCENTILE.INC.

mod demands;
mod figures;

use super::catalogue::{Column, Family, Table, Unit, figure, key};
use super::levels::{Level, PORTFOLIO};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::labels::Words;
use crate::schedule::Period;

pub use demands::events_as_of;
pub use figures::FlowInputs;

/// The models the flow figures are computed from.
pub const MODELS: [&str; 6] = [
    "stg_demands",
    "stg_demand_events",
    "mart_demand_stage_intervals",
    "mart_investment_monthly",
    "stg_investments",
    "mart_incident_impact_monthly",
];

/// The flow family.
pub static FAMILY: Family = Family {
    name: "flow",
    models: &MODELS,
    entities: &[Entity::Demands],
    tables: &[FLOW_VALUE_STREAM, FLOW_FUNNEL, FLOW_TREND, FLOW_OLDEST_WIP],
    compute: compute_family,
};

/// The levels of the value-stream figures: the portfolio, each value stream, each of its teams.
pub const LEVELS: [Level; 3] = [
    PORTFOLIO,
    Level {
        name: "value_stream",
        keys: &["value_stream"],
    },
    Level {
        name: "team",
        keys: &["value_stream", "team"],
    },
];

/// The key columns of [`LEVELS`].
pub const KEYS: [&str; 2] = ["value_stream", "team"];

const fn days(
    name: &'static str,
    header: Words,
    formula: &'static str,
    when_empty: &'static str,
) -> Column {
    figure(
        name,
        header,
        Unit::Number,
        11.0,
        Words::en(formula),
        Words::en(when_empty),
    )
}

const fn count(
    name: &'static str,
    header: Words,
    formula: &'static str,
    when_empty: &'static str,
) -> Column {
    figure(
        name,
        header,
        Unit::Integer,
        10.0,
        Words::en(formula),
        Words::en(when_empty),
    )
}

const fn percent(
    name: &'static str,
    header: Words,
    formula: &'static str,
    when_empty: &'static str,
) -> Column {
    figure(
        name,
        header,
        Unit::Percent,
        10.0,
        Words::en(formula),
        Words::en(when_empty),
    )
}

const fn money(
    name: &'static str,
    header: Words,
    formula: &'static str,
    when_empty: &'static str,
) -> Column {
    figure(
        name,
        header,
        Unit::Money,
        15.0,
        Words::en(formula),
        Words::en(when_empty),
    )
}

const PERIOD: Column = key("period", Words::new("Period", "期间"), Unit::Month, 10.0);
const LEVEL: Column = key("level", Words::new("Level", "层级"), Unit::Text, 13.0);
const VALUE_STREAM: Column = key(
    "value_stream",
    Words::new("Value stream", "价值流"),
    Unit::Text,
    16.0,
);
const TEAM: Column = key("team", Words::new("Team", "团队"), Unit::Text, 14.0);
const NOTES: Column = key("notes", Words::new("Notes", "说明"), Unit::Text, 60.0);

/// `metrics.flow_value_stream`: per level, value stream and team.
pub const FLOW_VALUE_STREAM: Table = Table {
    name: "flow_value_stream",
    columns: &[
        PERIOD,
        LEVEL,
        VALUE_STREAM,
        TEAM,
        count(
            "proposed",
            Words::new("Proposed", "新提出"),
            "Demands whose first `proposed` event falls in the period (arrivals).",
            "Never empty: 0 when none arrived.",
        ),
        count(
            "released",
            Words::new("Released (throughput)", "已发布（吞吐量）"),
            "Throughput: demands whose first `released` event falls in the period.",
            "Never empty: 0 when none was released.",
        ),
        count(
            "released_feature",
            Words::new("Features", "功能"),
            "Released demands of type feature.",
            "Never empty.",
        ),
        count(
            "released_defect",
            Words::new("Defects", "缺陷"),
            "Released demands of type defect.",
            "Never empty.",
        ),
        count(
            "released_risk",
            Words::new("Risks", "风险"),
            "Released demands of type risk.",
            "Never empty.",
        ),
        count(
            "released_debt",
            Words::new("Debt", "技术债"),
            "Released demands of type debt.",
            "Never empty.",
        ),
        percent(
            "share_feature",
            Words::new("Feature share", "功能占比"),
            "Flow distribution: released features / released demands.",
            "Nothing was released in the period.",
        ),
        percent(
            "share_defect",
            Words::new("Defect share", "缺陷占比"),
            "Flow distribution: released defects / released demands.",
            "Nothing was released in the period.",
        ),
        percent(
            "share_risk",
            Words::new("Risk share", "风险占比"),
            "Flow distribution: released risks / released demands.",
            "Nothing was released in the period.",
        ),
        percent(
            "share_debt",
            Words::new("Debt share", "技术债占比"),
            "Flow distribution: released debt / released demands.",
            "Nothing was released in the period.",
        ),
        days(
            "lead_time_p50",
            Words::new("Lead time p50 (days)", "交付周期 P50（天）"),
            "PERCENTILE.INC(released − proposed, 0.5) over the demands released in the period, in days on instants (first released, first proposed).",
            "No demand released in the period has a proposed date.",
        ),
        days(
            "lead_time_p85",
            Words::new("Lead time p85 (days)", "交付周期 P85（天）"),
            "PERCENTILE.INC(released − proposed, 0.85) over the demands released in the period.",
            "No demand released in the period has a proposed date.",
        ),
        days(
            "lead_time_mean",
            Words::new("Lead time mean (days)", "交付周期均值（天）"),
            "Mean of released − proposed over the demands released in the period.",
            "No demand released in the period has a proposed date.",
        ),
        days(
            "cycle_time_p50",
            Words::new("Cycle time p50 (days)", "开发周期 P50（天）"),
            "PERCENTILE.INC(released − first in_development, 0.5) over the demands released in the period.",
            "No demand released in the period entered in_development.",
        ),
        days(
            "cycle_time_p85",
            Words::new("Cycle time p85 (days)", "开发周期 P85（天）"),
            "PERCENTILE.INC(released − first in_development, 0.85) over the demands released in the period.",
            "No demand released in the period entered in_development.",
        ),
        days(
            "cycle_time_mean",
            Words::new("Cycle time mean (days)", "开发周期均值（天）"),
            "Mean of released − first in_development over the demands released in the period.",
            "No demand released in the period entered in_development.",
        ),
        count(
            "wip",
            Words::new("WIP at month end", "月末在制品"),
            "Demands in the funnel at the end of the period: their latest event by then is proposed, analysed, scheduled, in_development or in_test (not released, reviewed, rejected or cancelled).",
            "Never empty.",
        ),
        days(
            "wip_age_p50",
            Words::new("WIP age p50 (days)", "在制品年龄 P50（天）"),
            "PERCENTILE.INC(end of the period − proposed, 0.5) over the work in progress at the end of the period (its first event where it has no proposed date).",
            "No work in progress at the end of the period.",
        ),
        days(
            "wip_age_p85",
            Words::new("WIP age p85 (days)", "在制品年龄 P85（天）"),
            "PERCENTILE.INC(end of the period − proposed, 0.85) over the work in progress at the end of the period.",
            "No work in progress at the end of the period.",
        ),
        percent(
            "flow_efficiency",
            Words::new("Flow efficiency", "流动效率"),
            "Σ time in the active stages ([metrics.flow] active_stages; in_development and in_test by default) before release / Σ lead time, over the demands released in the period that have a lead time.",
            "No demand released in the period has a lead time.",
        ),
        percent(
            "rework_rate",
            Words::new("Rework rate", "返工率"),
            "Released demands with at least one move back to an earlier funnel stage before their release / released demands, in the period.",
            "Nothing was released in the period.",
        ),
        percent(
            "review_share",
            Words::new("Reviewed after release", "已做实施后评审"),
            "Post-implementation review: demands released in the third month before the period or earlier that have reached `reviewed` by its end / those demands.",
            "No demand was released three or more months before the period.",
        ),
        money(
            "actual_cost_month",
            Words::new("Actual cost (month)", "本月实际成本"),
            "Actual cost lines of the period of the investments in the value stream (investments.value_stream), in the reporting currency.",
            "Team level (costs are kept per investment, not per team), no source feeds costs, or a line lacks an FX rate.",
        ),
        money(
            "cost_per_released_demand",
            Words::new("Cost per released demand", "每个已发布需求的成本"),
            "Actual cost (month) / released demands, rounded once to cents.",
            "No cost, or nothing was released in the period.",
        ),
        money(
            "run_cost_month",
            Words::new("Run cost (month)", "本月运行成本"),
            "Actual cost lines of the period of the value stream's investments whose category is a run category ([metrics.decisions] run_categories).",
            "Team level, no source feeds costs, or a line lacks an FX rate.",
        ),
        money(
            "incident_cost_month",
            Words::new("Incident cost (month)", "本月事件成本"),
            "Σ impact minutes in the period × the application's downtime cost per minute × the severity's weight, over the incidents of applications whose investment is in the value stream; rounded once to cents. Applications without a downtime cost per minute are left out (the notes count them).",
            "Team level, or no source feeds incidents.",
        ),
        percent(
            "incident_cost_share_of_run_cost",
            Words::new("Incident cost / run cost", "事件成本占运行成本比"),
            "Incident cost (month) / run cost (month).",
            "No run cost in the period, or an input is empty.",
        ),
        NOTES,
    ],
};

/// `metrics.flow_funnel`: per level and stage.
pub const FLOW_FUNNEL: Table = Table {
    name: "flow_funnel",
    columns: &[
        PERIOD,
        LEVEL,
        VALUE_STREAM,
        TEAM,
        key("stage", Words::new("Stage", "阶段"), Unit::Text, 15.0),
        key(
            "stage_order",
            Words::new("Order", "顺序"),
            Unit::Integer,
            7.0,
        ),
        count(
            "entered",
            Words::new("Entered in month", "本月进入"),
            "Demands with an event of this stage in the period (each demand once).",
            "Never empty.",
        ),
        count(
            "cohort_reached",
            Words::new("Proposals that got this far", "到达此阶段的提案"),
            "Of the demands first proposed in the trailing [metrics.flow] conversion_months months (12 by default) up to the period: those that reached this stage or a later funnel stage by its end (for rejected and cancelled: those whose latest event is that exit).",
            "Never empty.",
        ),
        percent(
            "conversion_to_next",
            Words::new("Conversion to next stage", "向下一阶段转化率"),
            "Proposals that got to the next funnel stage / proposals that got to this one (the same cohort).",
            "The last stage and the exits have no next stage; or no proposal got this far.",
        ),
        count(
            "rejected_here",
            Words::new("Rejected here", "在此阶段被拒绝"),
            "Drop-off: proposals of the cohort whose latest event is `rejected` and whose furthest funnel stage was this one.",
            "Never empty.",
        ),
        count(
            "cancelled_here",
            Words::new("Cancelled here", "在此阶段被取消"),
            "Drop-off: proposals of the cohort whose latest event is `cancelled` and whose furthest funnel stage was this one.",
            "Never empty.",
        ),
        days(
            "stage_time_p50",
            Words::new("Stage time p50 (days)", "阶段时长 P50（天）"),
            "PERCENTILE.INC(next stage's entered_at − this stage's entered_at, 0.5) over the visits to this stage that ended in the period, in days on instants.",
            "No visit to this stage ended in the period (exits and reviewed are final).",
        ),
        days(
            "stage_time_p85",
            Words::new("Stage time p85 (days)", "阶段时长 P85（天）"),
            "PERCENTILE.INC of the stage time, 0.85, over the visits that ended in the period.",
            "No visit to this stage ended in the period.",
        ),
        days(
            "stage_time_mean",
            Words::new("Stage time mean (days)", "阶段时长均值（天）"),
            "Mean stage time over the visits to this stage that ended in the period.",
            "No visit to this stage ended in the period.",
        ),
    ],
};

/// `metrics.flow_trend`: per level and month, the twelve months to the period.
pub const FLOW_TREND: Table = Table {
    name: "flow_trend",
    columns: &[
        PERIOD,
        LEVEL,
        VALUE_STREAM,
        TEAM,
        key("month", Words::new("Month", "月份"), Unit::Month, 10.0),
        count(
            "proposed",
            Words::new("Proposed", "新提出"),
            "Demands first proposed in the month.",
            "Never empty.",
        ),
        count(
            "released",
            Words::new("Released", "已发布"),
            "Demands first released in the month.",
            "Never empty.",
        ),
        days(
            "lead_time_p50",
            Words::new("Lead time p50 (days)", "交付周期 P50（天）"),
            "As in flow_value_stream, for the demands released in the month.",
            "No demand released in the month has a proposed date.",
        ),
        days(
            "lead_time_p85",
            Words::new("Lead time p85 (days)", "交付周期 P85（天）"),
            "As in flow_value_stream, for the demands released in the month.",
            "No demand released in the month has a proposed date.",
        ),
        count(
            "at_proposed",
            Words::new("In proposed", "处于提出"),
            "Cumulative flow: demands whose latest event by the end of the month is `proposed`.",
            "Never empty.",
        ),
        count(
            "at_analysed",
            Words::new("In analysed", "处于分析"),
            "Demands whose latest event by the end of the month is `analysed`.",
            "Never empty.",
        ),
        count(
            "at_scheduled",
            Words::new("In scheduled", "处于排期"),
            "Demands whose latest event by the end of the month is `scheduled`.",
            "Never empty.",
        ),
        count(
            "at_in_development",
            Words::new("In development", "处于开发"),
            "Demands whose latest event by the end of the month is `in_development`.",
            "Never empty.",
        ),
        count(
            "at_in_test",
            Words::new("In test", "处于测试"),
            "Demands whose latest event by the end of the month is `in_test`.",
            "Never empty.",
        ),
        count(
            "done",
            Words::new("Released or reviewed", "已发布或已评审"),
            "Demands whose latest event by the end of the month is `released` or `reviewed` (cumulative).",
            "Never empty.",
        ),
        count(
            "exited",
            Words::new("Rejected or cancelled", "已拒绝或已取消"),
            "Demands whose latest event by the end of the month is `rejected` or `cancelled` (cumulative).",
            "Never empty.",
        ),
        count(
            "wip",
            Words::new("WIP at month end", "月末在制品"),
            "In proposed + analysed + scheduled + development + test at the end of the month.",
            "Never empty.",
        ),
    ],
};

/// `metrics.flow_oldest_wip`: the oldest work in progress at the end of the period.
pub const FLOW_OLDEST_WIP: Table = Table {
    name: "flow_oldest_wip",
    columns: &[
        PERIOD,
        key("rank", Words::new("Rank", "排名"), Unit::Integer, 6.0),
        key("demand_id", Words::new("Demand", "需求"), Unit::Text, 12.0),
        key("title", Words::new("Title", "标题"), Unit::Text, 36.0),
        key("type", Words::new("Type", "类型"), Unit::Text, 9.0),
        VALUE_STREAM,
        TEAM,
        key("stage", Words::new("Stage", "阶段"), Unit::Text, 15.0),
        key(
            "in_funnel_since",
            Words::new("In the funnel since", "进入漏斗时间"),
            Unit::DateTime,
            17.0,
        ),
        days(
            "age_days",
            Words::new("Age (days)", "年龄（天）"),
            "End of the period − proposed (else the demand's first event), in days on instants; the [metrics.flow] oldest_wip oldest (10 by default), oldest first.",
            "Never empty.",
        ),
    ],
};

/// The flow tables as of `period`.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails (an input lacks an expected column).
pub fn compute_family(inputs: &Inputs, period: Period, settings: &Settings) -> Result<Computed> {
    let flow_inputs = FlowInputs {
        demands: inputs.frame("stg_demands")?,
        events: inputs.frame("stg_demand_events")?,
        intervals: inputs.frame("mart_demand_stage_intervals")?,
        monthly: inputs.frame("mart_investment_monthly")?,
        investments: inputs.frame("stg_investments")?,
        impact: inputs.frame("mart_incident_impact_monthly")?,
    };
    let tables =
        figures::compute(&flow_inputs, period, settings).map_err(|e| Error::metrics("flow", e))?;
    Ok(Computed {
        tables: vec![
            (FLOW_VALUE_STREAM.name, tables.value_stream),
            (FLOW_FUNNEL.name, tables.funnel),
            (FLOW_TREND.name, tables.trend),
            (FLOW_OLDEST_WIP.name, tables.oldest),
        ],
        run_info: Vec::new(),
    })
}
