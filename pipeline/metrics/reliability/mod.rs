//! Reliability: incidents and service levels per application as of a period (DESIGN.md,
//! "Reliability"): incidents by severity, time to restore business (the deck's risk-control
//! figure) and time to resolve, impact minutes split at month ends, incident cost, availability or
//! the SLI of the SLO measurements against each application's SLO with its error budget, SLA
//! attainment, problem management, the incident cost rolled up to the investments, a
//! twelve-month trend, and the TIME quadrant of every application.
//!
//! In: `stg_incidents`, `stg_applications`, `mart_incident_impact_monthly`,
//! `stg_slo_measurements`, `mart_investment_monthly`, and for the TIME quadrant's change failure
//! rate `stg_deployments` and `mart_deployment_incident_links`. Out: [`RELIABILITY_APPLICATION`],
//! [`RELIABILITY_SEVERITY`], [`RELIABILITY_PROBLEMS`], [`RELIABILITY_INVESTMENT`],
//! [`RELIABILITY_TREND`] and [`APPLICATION_TIME_QUADRANT`].

mod figures;
mod incidents;
mod quadrant;

use super::catalogue::{Column, Family, Table, Unit, figure, key, label};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::schedule::Period;

pub use figures::ReliabilityInputs;

/// The models the reliability figures are computed from.
pub const MODELS: [&str; 7] = [
    "stg_incidents",
    "stg_applications",
    "mart_incident_impact_monthly",
    "stg_slo_measurements",
    "mart_investment_monthly",
    "stg_deployments",
    "mart_deployment_incident_links",
];

/// The reliability family.
pub static FAMILY: Family = Family {
    name: "reliability",
    models: &MODELS,
    entities: &[Entity::Incidents],
    after: &[],
    tables: &[
        RELIABILITY_APPLICATION,
        RELIABILITY_SEVERITY,
        RELIABILITY_PROBLEMS,
        RELIABILITY_INVESTMENT,
        RELIABILITY_TREND,
        APPLICATION_TIME_QUADRANT,
    ],
    compute: compute_family,
};

const fn measure(name: &'static str, unit: Unit) -> Column {
    figure(name, unit, 11.0)
}

const PERIOD: Column = key("period", Unit::Month, 10.0);
const LEVEL: Column = key("level", Unit::Text, 12.0);
const APPLICATION: Column = key("application_id", Unit::Text, 14.0);
const NAME: Column = label("name", Unit::Text, 26.0);
const INVESTMENT: Column = key("investment_id", Unit::Text, 12.0);
/// The investment an application belongs to: it describes the row, the application identifies it.
const OWNING_INVESTMENT: Column = label("investment_id", Unit::Text, 12.0);
const NOTES: Column = label("notes", Unit::Text, 50.0).in_run_language();

const INCIDENTS: Column = measure("incidents", Unit::Integer);
const TTR_P50: Column = measure("restore_p50_hours", Unit::Number);
const TTR_MEAN: Column = measure("restore_mean_hours", Unit::Number);
const RESOLVE_P50: Column = measure("resolve_p50_hours", Unit::Number);
const RESOLVE_MEAN: Column = measure("resolve_mean_hours", Unit::Number);
const IMPACT_MINUTES: Column = measure("impact_minutes", Unit::Number);
const INCIDENT_COST: Column = measure("incident_cost", Unit::Money);

/// `metrics.reliability_application`: the portfolio and each application.
pub const RELIABILITY_APPLICATION: Table = Table {
    name: "reliability_application",
    columns: &[
        PERIOD,
        LEVEL,
        APPLICATION,
        NAME,
        OWNING_INVESTMENT,
        INCIDENTS,
        measure("severity_1", Unit::Integer),
        measure("severity_2", Unit::Integer),
        measure("severity_3", Unit::Integer),
        measure("severity_4", Unit::Integer),
        TTR_P50,
        TTR_MEAN,
        RESOLVE_P50,
        RESOLVE_MEAN,
        measure("impact_open", Unit::Integer),
        IMPACT_MINUTES,
        INCIDENT_COST,
        measure("downtime_minutes", Unit::Number),
        measure("availability", Unit::Percent),
        measure("sli", Unit::Percent),
        label("sli_basis", Unit::Text, 11.0),
        measure("slo", Unit::Percent),
        measure("error_budget", Unit::Number),
        measure("budget_consumed", Unit::Percent),
        measure("burn_rate", Unit::Ratio),
        measure("meets_slo", Unit::Text),
        measure("sla_attainment", Unit::Percent),
        NOTES,
    ],
};

/// `metrics.reliability_severity`: per severity, for the portfolio and each application.
pub const RELIABILITY_SEVERITY: Table = Table {
    name: "reliability_severity",
    columns: &[
        PERIOD,
        LEVEL,
        APPLICATION,
        key("severity", Unit::Integer, 9.0),
        INCIDENTS,
        TTR_P50,
        TTR_MEAN,
        RESOLVE_P50,
        RESOLVE_MEAN,
        IMPACT_MINUTES,
        INCIDENT_COST,
    ],
};

/// `metrics.reliability_problems`: problem management.
pub const RELIABILITY_PROBLEMS: Table = Table {
    name: "reliability_problems",
    columns: &[
        PERIOD,
        key("problem_id", Unit::Text, 12.0),
        measure("incidents", Unit::Integer),
        measure("incidents_12m", Unit::Integer),
        measure("recurring", Unit::Text),
        label("applications", Unit::Text, 24.0),
        label("first_opened", Unit::DateTime, 17.0),
        label("last_opened", Unit::DateTime, 17.0),
        measure("open", Unit::Text),
        measure("age_days", Unit::Number),
    ],
};

/// `metrics.reliability_investment`: the incident cost rolled up to the investments.
pub const RELIABILITY_INVESTMENT: Table = Table {
    name: "reliability_investment",
    columns: &[
        PERIOD,
        INVESTMENT,
        measure("applications", Unit::Integer),
        measure("incidents", Unit::Integer),
        measure("impact_minutes", Unit::Number),
        measure("incident_cost_month", Unit::Money),
        measure("incident_cost_ytd", Unit::Money),
        measure("incident_cost_12m", Unit::Money),
    ],
};

/// `metrics.reliability_trend`: the portfolio month by month.
pub const RELIABILITY_TREND: Table = Table {
    name: "reliability_trend",
    columns: &[
        PERIOD,
        key("month", Unit::Month, 10.0),
        measure("incidents", Unit::Integer),
        measure("severe_incidents", Unit::Integer),
        measure("impact_minutes", Unit::Number),
        measure("incident_cost", Unit::Money),
        measure("restore_p50_hours", Unit::Number),
        measure("sla_attainment", Unit::Percent),
    ],
};

/// `metrics.application_time_quadrant`: Gartner's TIME per application.
pub const APPLICATION_TIME_QUADRANT: Table = Table {
    name: "application_time_quadrant",
    columns: &[
        PERIOD,
        APPLICATION,
        NAME,
        OWNING_INVESTMENT,
        measure("incidents_per_month", Unit::Number),
        measure("incident_score", Unit::Ratio),
        measure("change_failure_rate_12m", Unit::Percent),
        measure("change_score", Unit::Ratio),
        measure("budget_consumed_12m", Unit::Percent),
        measure("budget_score", Unit::Ratio),
        measure("technical_fit", Unit::Ratio),
        measure("criticality_score", Unit::Ratio),
        measure("benefit_score", Unit::Ratio),
        measure("users_score", Unit::Ratio),
        measure("business_fit", Unit::Ratio),
        measure("quadrant", Unit::Text),
        label("reason", Unit::Text, 48.0),
    ],
};

/// The reliability tables as of `period`.
///
/// # Errors
///
/// [`Error::Metrics`] when a computation fails (an input lacks an expected column).
pub fn compute_family(inputs: &Inputs, period: Period, settings: &Settings) -> Result<Computed> {
    let reliability_inputs = ReliabilityInputs {
        incidents: inputs.frame("stg_incidents")?,
        applications: inputs.frame("stg_applications")?,
        impact: inputs.frame("mart_incident_impact_monthly")?,
        slo: inputs.frame("stg_slo_measurements")?,
        monthly: inputs.frame("mart_investment_monthly")?,
        deployments: inputs.frame("stg_deployments")?,
        links: inputs.frame("mart_deployment_incident_links")?,
    };
    let tables = figures::compute(&reliability_inputs, period, settings)
        .map_err(|e| Error::metrics("reliability", e))?;
    let r = &settings.metrics.reliability;
    let weights: Vec<String> = r
        .severity_weights
        .iter()
        .map(|(s, w)| format!("severity {s} × {w}"))
        .collect();
    Ok(Computed {
        tables: vec![
            (RELIABILITY_APPLICATION.name, tables.application),
            (RELIABILITY_SEVERITY.name, tables.severity),
            (RELIABILITY_PROBLEMS.name, tables.problems),
            (RELIABILITY_INVESTMENT.name, tables.investment),
            (RELIABILITY_TREND.name, tables.trend),
            (APPLICATION_TIME_QUADRANT.name, tables.quadrant),
        ],
        run_info: vec![(
            "Reliability".to_string(),
            format!(
                "incident cost weights {}; downtime counts severities 1 to {}; default SLO {}",
                weights.join(", "),
                r.availability_max_severity,
                r.default_slo
            ),
        )],
        faults: Vec::new(),
    })
}
