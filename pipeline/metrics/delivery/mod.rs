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

use super::catalogue::{Column, Family, Table, Unit, figure, key};
use super::levels::{Level, PORTFOLIO};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::labels::Words;
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

const fn measure(
    name: &'static str,
    header: Words,
    unit: Unit,
    formula: &'static str,
    when_empty: &'static str,
) -> Column {
    figure(
        name,
        header,
        unit,
        11.0,
        Words::en(formula),
        Words::en(when_empty),
    )
}

const PERIOD: Column = key("period", Words::new("Period", "期间"), Unit::Month, 10.0);
const LEVEL: Column = key("level", Words::new("Level", "层级"), Unit::Text, 12.0);
const APPLICATION: Column = key(
    "application_id",
    Words::new("Application", "应用"),
    Unit::Text,
    14.0,
);
const TEAM: Column = key("team", Words::new("Team", "团队"), Unit::Text, 14.0);
const STRATEGY: Column = key(
    "strategy",
    Words::new("Release strategy", "发布策略"),
    Unit::Text,
    14.0,
);

/// `metrics.delivery_performance`: per level, application, team and release strategy.
pub const DELIVERY_PERFORMANCE: Table = Table {
    name: "delivery_performance",
    columns: &[
        PERIOD,
        LEVEL,
        APPLICATION,
        TEAM,
        STRATEGY,
        measure(
            "deployments",
            Words::new("Deployments", "部署次数"),
            Unit::Integer,
            "Deployment frequency: successful production deployments that finished in the period. Production: an environment in [metrics.delivery] production_environments, or none given.",
            "Never empty.",
        ),
        measure(
            "deployment_days",
            Words::new("Deployment days", "部署天数"),
            Unit::Integer,
            "Days of the period with at least one successful production deployment.",
            "Never empty.",
        ),
        measure(
            "median_days_per_week",
            Words::new("Median deployment days per week", "每周部署天数中位数"),
            Unit::Number,
            "PERCENTILE.INC(deployment days per week, 0.5) over the Monday-to-Sunday weeks that end in the period, weeks without a deployment counting 0.",
            "Never empty.",
        ),
        measure(
            "median_days_per_week_6m",
            Words::new(
                "Median days per week (6 months)",
                "每周部署天数中位数（6个月）",
            ),
            Unit::Number,
            "The same median over the weeks that end in the six months to the period: the tier's weekly criterion.",
            "Never empty.",
        ),
        measure(
            "median_days_per_month_6m",
            Words::new(
                "Median days per month (6 months)",
                "每月部署天数中位数（6个月）",
            ),
            Unit::Number,
            "PERCENTILE.INC(deployment days per month, 0.5) over the six months to the period: the tier's monthly criterion.",
            "Never empty.",
        ),
        measure(
            "deployment_days_6m",
            Words::new("Deployment days (6 months)", "部署天数（6个月）"),
            Unit::Integer,
            "Deployment days in the six months to the period: the 2021 tier's six-month criterion.",
            "Never empty.",
        ),
        measure(
            "frequency_tier",
            Words::new("Frequency tier", "部署频率等级"),
            Unit::Text,
            "DORA 2023 (DevLake): elite when the weekly median (6 months) ≥ 7, high when ≥ 1, medium when the monthly median (6 months) ≥ 1, else low. DORA 2021: elite when the weekly median ≥ 7, high when the monthly median ≥ 1, medium when there was a deployment day in the six months, else low.",
            "Never empty.",
        ),
        measure(
            "change_lead_time_p50",
            Words::new(
                "Change lead time p50 (days, proxy)",
                "变更前置时间 P50（天，代理指标）",
            ),
            Unit::Number,
            "A proxy (no commit data): PERCENTILE.INC(released − first in_development, 0.5) of the demands named by the period's successful production deployments, one value per deployment, in days on instants.",
            "No deployment of the period names a demand that has entered in_development and been released.",
        ),
        measure(
            "lead_time_tier",
            Words::new("Lead time tier", "前置时间等级"),
            Unit::Text,
            "DORA 2023 (DevLake): elite under 1 day, high under 7 days, medium under 30 days, else low. DORA 2021: elite under 1 hour, high under 7 days, medium under 180 days, else low.",
            "No change lead time.",
        ),
        measure(
            "production_deployments",
            Words::new("Production deployments", "生产部署"),
            Unit::Integer,
            "Production deployments that finished in the period, whatever their result: the change failure rate's denominator.",
            "Never empty.",
        ),
        measure(
            "failed_deployments",
            Words::new("Failed deployments", "失败部署"),
            Unit::Integer,
            "Production deployments of the period that failed by at least one rule: its result (failed, rolled_back), caused_by (an incident names it), window (an incident on its application opened within [metrics.delivery] incident_window_hours after it) or latest_prior (the latest successful deployment of an incident's application before it opened). Deployments are counted, not incidents.",
            "Never empty.",
        ),
        measure(
            "change_failure_rate",
            Words::new("Change failure rate", "变更失败率"),
            Unit::Percent,
            "Failed deployments / production deployments.",
            "No production deployment finished in the period.",
        ),
        measure(
            "failure_rate_tier",
            Words::new("Failure rate tier", "变更失败率等级"),
            Unit::Text,
            "DORA 2023 (DevLake): elite up to 5%, high up to 10%, medium up to 15%, else low. DORA 2021: elite up to 15%, high up to 20%, medium up to 30%, else low.",
            "No change failure rate.",
        ),
        measure(
            "recovery_time_p50",
            Words::new("Recovery time p50 (hours)", "失败部署恢复时间 P50（小时）"),
            Unit::Number,
            "Failed deployment recovery time: PERCENTILE.INC(recovered − the failed deployment's finished_at, 0.5) in hours on instants, over the period's failed deployments that have recovered; recovered = the latest impact_end of its linked incidents, else the next successful production deployment of its application.",
            "No failed deployment of the period has recovered.",
        ),
        measure(
            "recovery_tier",
            Words::new("Recovery tier", "恢复时间等级"),
            Unit::Text,
            "DORA 2021 and 2023 (DevLake): elite under 1 hour, high under 1 day, medium under 1 week, else low.",
            "No recovery time.",
        ),
        measure(
            "not_recovered",
            Words::new("Not recovered", "尚未恢复"),
            Unit::Integer,
            "Failed deployments of the period with no recovery by its end (a linked incident's impact has not ended, or no later successful deployment).",
            "Never empty.",
        ),
        key("notes", Words::new("Notes", "说明"), Unit::Text, 50.0),
    ],
};

/// `metrics.delivery_failed_deployments`: every production deployment of the period that failed.
pub const DELIVERY_FAILED_DEPLOYMENTS: Table = Table {
    name: "delivery_failed_deployments",
    columns: &[
        PERIOD,
        key(
            "deployment_id",
            Words::new("Deployment", "部署"),
            Unit::Text,
            14.0,
        ),
        APPLICATION,
        TEAM,
        STRATEGY,
        key(
            "finished_at",
            Words::new("Finished", "完成时间"),
            Unit::DateTime,
            17.0,
        ),
        key("result", Words::new("Result", "结果"), Unit::Text, 12.0),
        key(
            "rules",
            Words::new("Failed by rule", "判定规则"),
            Unit::Text,
            22.0,
        ),
        key(
            "incidents",
            Words::new("Linked incidents", "关联事件"),
            Unit::Text,
            30.0,
        ),
        key(
            "recovered_at",
            Words::new("Recovered", "恢复时间"),
            Unit::DateTime,
            17.0,
        ),
        measure(
            "recovery_hours",
            Words::new("Recovery (hours)", "恢复时长（小时）"),
            Unit::Number,
            "Recovered − finished_at, in hours on instants (0 when a linked incident's impact ended before the deployment finished).",
            "Not recovered by the end of the period.",
        ),
    ],
};

/// `metrics.delivery_trend`: the portfolio and each release strategy, month by month.
pub const DELIVERY_TREND: Table = Table {
    name: "delivery_trend",
    columns: &[
        PERIOD,
        LEVEL,
        STRATEGY,
        key("month", Words::new("Month", "月份"), Unit::Month, 10.0),
        measure(
            "deployments",
            Words::new("Deployments", "部署次数"),
            Unit::Integer,
            "Successful production deployments that finished in the month.",
            "Never empty.",
        ),
        measure(
            "production_deployments",
            Words::new("Production deployments", "生产部署"),
            Unit::Integer,
            "Production deployments that finished in the month, whatever their result.",
            "Never empty.",
        ),
        measure(
            "failed_deployments",
            Words::new("Failed deployments", "失败部署"),
            Unit::Integer,
            "Production deployments of the month that failed by a rule (links as of the period's end).",
            "Never empty.",
        ),
        measure(
            "change_failure_rate",
            Words::new("Change failure rate", "变更失败率"),
            Unit::Percent,
            "Failed deployments / production deployments of the month.",
            "No production deployment in the month.",
        ),
        measure(
            "recovery_time_p50",
            Words::new("Recovery time p50 (hours)", "恢复时间 P50（小时）"),
            Unit::Number,
            "As in delivery_performance, for the month's failed deployments.",
            "No failed deployment of the month has recovered.",
        ),
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
    })
}
