//! Delivery: the DORA figures per application, team and release strategy as of a period
//! (DESIGN.md, "Delivery"): deployment frequency with its tier, change lead time (a proxy from
//! the demands deployed), change failure rate counting deployments with the rule that failed
//! each one, and failed deployment recovery time; a twelve-month trend of the failure rate by
//! release strategy; and every failed deployment with its links.
//!
//! In: `stg_deployments`, `stg_incidents`, `mart_deployment_incident_links`, `stg_demands` and
//! `stg_demand_events`. Out: [`DELIVERY_PERFORMANCE`], [`DELIVERY_FAILED_DEPLOYMENTS`] and
//! [`DELIVERY_TREND`]. Tiers follow the DORA report of `[metrics.delivery] dora_year` (2021 or
//! 2023) with Apache DevLake's criteria, so the figures compare with DevLake's dashboards.

mod figures;
pub mod links;
mod tiers;

use super::catalogue::{Column, Family, Table, Unit, figure, key, label};
use super::levels::{Level, PORTFOLIO};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::schedule::Period;

pub use figures::DeliveryInputs;
pub use tiers::Tier;

/// The models the delivery figures are computed from.
pub const MODELS: [&str; 5] = [
    "stg_deployments",
    "stg_incidents",
    "mart_deployment_incident_links",
    "stg_demands",
    "stg_demand_events",
];

/// The delivery family.
pub static FAMILY: Family = Family {
    name: "delivery",
    models: &MODELS,
    entities: &[Entity::Deployments],
    after: &[],
    tables: &[
        DELIVERY_PERFORMANCE,
        DELIVERY_FAILED_DEPLOYMENTS,
        DELIVERY_TREND,
    ],
    compute: compute_family,
};

/// The levels of the delivery figures.
pub const LEVELS: [Level; 4] = [
    PORTFOLIO,
    Level {
        name: "application",
        keys: &["application_id"],
    },
    Level {
        name: "team",
        keys: &["team"],
    },
    Level {
        name: "strategy",
        keys: &["strategy"],
    },
];

/// The key columns of [`LEVELS`].
pub const KEYS: [&str; 3] = ["application_id", "team", "strategy"];

const fn measure(name: &'static str, unit: Unit) -> Column {
    figure(name, unit, 11.0)
}

const PERIOD: Column = key("period", Unit::Month, 10.0);
const LEVEL: Column = key("level", Unit::Text, 12.0);
const APPLICATION: Column = key("application_id", Unit::Text, 14.0);
const TEAM: Column = key("team", Unit::Text, 14.0);
const STRATEGY: Column = key("strategy", Unit::Text, 14.0);

/// `metrics.delivery_performance`: per level, application, team and release strategy.
pub const DELIVERY_PERFORMANCE: Table = Table {
    name: "delivery_performance",
    columns: &[
        PERIOD,
        LEVEL,
        APPLICATION,
        TEAM,
        STRATEGY,
        measure("deployments", Unit::Integer),
        measure("deployment_days", Unit::Integer),
        measure("median_days_per_week", Unit::Number),
        measure("median_days_per_week_6m", Unit::Number),
        measure("median_days_per_month_6m", Unit::Number),
        measure("deployment_days_6m", Unit::Integer),
        measure("frequency_tier", Unit::Text),
        measure("change_lead_time_p50", Unit::Number),
        measure("lead_time_tier", Unit::Text),
        measure("production_deployments", Unit::Integer),
        measure("failed_deployments", Unit::Integer),
        measure("change_failure_rate", Unit::Percent),
        measure("failure_rate_tier", Unit::Text),
        measure("recovery_time_p50", Unit::Number),
        measure("recovery_tier", Unit::Text),
        measure("not_recovered", Unit::Integer),
        label("notes", Unit::Text, 50.0).in_run_language(),
    ],
};

/// `metrics.delivery_failed_deployments`: every production deployment of the period that failed.
pub const DELIVERY_FAILED_DEPLOYMENTS: Table = Table {
    name: "delivery_failed_deployments",
    columns: &[
        PERIOD,
        key("deployment_id", Unit::Text, 14.0),
        APPLICATION,
        TEAM,
        STRATEGY,
        label("finished_at", Unit::DateTime, 17.0),
        label("result", Unit::Text, 12.0),
        label("rules", Unit::Text, 22.0),
        label("incidents", Unit::Text, 30.0),
        label("recovered_at", Unit::DateTime, 17.0),
        measure("recovery_hours", Unit::Number),
    ],
};

/// `metrics.delivery_trend`: the portfolio and each release strategy, month by month.
pub const DELIVERY_TREND: Table = Table {
    name: "delivery_trend",
    columns: &[
        PERIOD,
        LEVEL,
        STRATEGY,
        key("month", Unit::Month, 10.0),
        measure("deployments", Unit::Integer),
        measure("production_deployments", Unit::Integer),
        measure("failed_deployments", Unit::Integer),
        measure("change_failure_rate", Unit::Percent),
        measure("recovery_time_p50", Unit::Number),
    ],
};

/// The delivery tables as of `period`.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails (an input lacks an expected column).
pub fn compute_family(inputs: &Inputs, period: Period, settings: &Settings) -> Result<Computed> {
    let delivery_inputs = DeliveryInputs {
        deployments: inputs.frame("stg_deployments")?,
        incidents: inputs.frame("stg_incidents")?,
        links: inputs.frame("mart_deployment_incident_links")?,
        demands: inputs.frame("stg_demands")?,
        events: inputs.frame("stg_demand_events")?,
    };
    let tables = figures::compute(&delivery_inputs, period, settings)
        .map_err(|e| Error::metrics("delivery", e))?;
    let d = &settings.metrics.delivery;
    let mut rules = vec!["result".to_string(), "caused_by".to_string()];
    if d.incident_window_hours > 0 {
        rules.push(format!("window ({} hours)", d.incident_window_hours));
    }
    if d.latest_prior {
        rules.push(match d.latest_prior_max_gap_hours {
            0 => "latest_prior".to_string(),
            gap => format!("latest_prior (within {gap} hours)"),
        });
    }
    Ok(Computed {
        tables: vec![
            (DELIVERY_PERFORMANCE.name, tables.performance),
            (DELIVERY_FAILED_DEPLOYMENTS.name, tables.failed),
            (DELIVERY_TREND.name, tables.trend),
        ],
        run_info: vec![(
            "Delivery".to_string(),
            format!(
                "DORA {} tiers (Apache DevLake's criteria); production environments: {}; a deployment fails by the rules {}",
                d.dora_year,
                d.production_environments.join(", "),
                rules.join(", ")
            ),
        )],
        faults: Vec::new(),
    })
}
