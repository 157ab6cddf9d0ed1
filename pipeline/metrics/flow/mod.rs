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

use super::catalogue::{Column, Family, Table, Unit, figure, key, label};
use super::levels::{Level, PORTFOLIO};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
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
    after: &[],
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

const fn days(name: &'static str) -> Column {
    figure(name, Unit::Number, 11.0)
}

const fn count(name: &'static str) -> Column {
    figure(name, Unit::Integer, 10.0)
}

const fn percent(name: &'static str) -> Column {
    figure(name, Unit::Percent, 10.0)
}

const fn money(name: &'static str) -> Column {
    figure(name, Unit::Money, 15.0)
}

const PERIOD: Column = key("period", Unit::Month, 10.0);
const LEVEL: Column = key("level", Unit::Text, 13.0);
const VALUE_STREAM: Column = key("value_stream", Unit::Text, 16.0);
const TEAM: Column = key("team", Unit::Text, 14.0);
const NOTES: Column = label("notes", Unit::Text, 60.0).in_run_language();

/// `metrics.flow_value_stream`: per level, value stream and team.
pub const FLOW_VALUE_STREAM: Table = Table {
    name: "flow_value_stream",
    columns: &[
        PERIOD,
        LEVEL,
        VALUE_STREAM,
        TEAM,
        count("proposed"),
        count("released"),
        count("released_feature"),
        count("released_defect"),
        count("released_risk"),
        count("released_debt"),
        percent("share_feature"),
        percent("share_defect"),
        percent("share_risk"),
        percent("share_debt"),
        days("lead_time_p50"),
        days("lead_time_p85"),
        days("lead_time_mean"),
        days("cycle_time_p50"),
        days("cycle_time_p85"),
        days("cycle_time_mean"),
        count("wip"),
        days("wip_age_p50"),
        days("wip_age_p85"),
        percent("flow_efficiency"),
        percent("rework_rate"),
        percent("review_share"),
        money("actual_cost_month"),
        money("cost_per_released_demand"),
        money("run_cost_month"),
        money("incident_cost_month"),
        percent("incident_cost_share_of_run_cost"),
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
        key("stage", Unit::Text, 15.0),
        label("stage_order", Unit::Integer, 7.0),
        count("entered"),
        count("cohort_reached"),
        percent("conversion_to_next"),
        count("rejected_here"),
        count("cancelled_here"),
        days("stage_time_p50"),
        days("stage_time_p85"),
        days("stage_time_mean"),
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
        key("month", Unit::Month, 10.0),
        count("proposed"),
        count("released"),
        days("lead_time_p50"),
        days("lead_time_p85"),
        count("at_proposed"),
        count("at_analysed"),
        count("at_scheduled"),
        count("at_in_development"),
        count("at_in_test"),
        count("done"),
        count("exited"),
        count("wip"),
    ],
};

/// `metrics.flow_oldest_wip`: the oldest work in progress at the end of the period.
pub const FLOW_OLDEST_WIP: Table = Table {
    name: "flow_oldest_wip",
    columns: &[
        PERIOD,
        key("rank", Unit::Integer, 6.0),
        label("demand_id", Unit::Text, 12.0),
        label("title", Unit::Text, 36.0),
        label("type", Unit::Text, 9.0),
        VALUE_STREAM,
        TEAM,
        label("stage", Unit::Text, 15.0),
        label("in_funnel_since", Unit::DateTime, 17.0),
        days("age_days"),
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
        faults: Vec::new(),
    })
}
