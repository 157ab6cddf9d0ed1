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

use super::catalogue::{Column, Family, Table, Unit, figure, key};
use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::labels::Words;
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
const NAME: Column = key("name", Words::new("Name", "名称"), Unit::Text, 26.0);
const INVESTMENT: Column = key(
    "investment_id",
    Words::new("Investment", "投资项目"),
    Unit::Text,
    12.0,
);
const NOTES: Column = key("notes", Words::new("Notes", "说明"), Unit::Text, 50.0);

const INCIDENTS: Column = measure(
    "incidents",
    Words::new("Incidents", "事件数"),
    Unit::Integer,
    "Incidents opened in the period.",
    "Never empty.",
);
const TTR_P50: Column = measure(
    "restore_p50_hours",
    Words::new("Time to restore p50 (hours)", "业务恢复时间 P50（小时）"),
    Unit::Number,
    "Time to restore business: PERCENTILE.INC(impact_end − impact_start, 0.5) in hours on instants, over the incidents whose business impact ended in the period (impact_end, else resolved_at, else closed_at; impact_start, else opened_at).",
    "No incident's impact ended in the period.",
);
const TTR_MEAN: Column = measure(
    "restore_mean_hours",
    Words::new("Time to restore mean (hours)", "业务恢复时间均值（小时）"),
    Unit::Number,
    "Mean of impact_end − impact_start over the incidents whose impact ended in the period.",
    "No incident's impact ended in the period.",
);
const RESOLVE_P50: Column = measure(
    "resolve_p50_hours",
    Words::new("Time to resolve p50 (hours)", "解决时间 P50（小时）"),
    Unit::Number,
    "PERCENTILE.INC(resolved_at − opened_at, 0.5) in hours on instants, over the incidents resolved in the period.",
    "No incident was resolved in the period.",
);
const RESOLVE_MEAN: Column = measure(
    "resolve_mean_hours",
    Words::new("Time to resolve mean (hours)", "解决时间均值（小时）"),
    Unit::Number,
    "Mean of resolved_at − opened_at over the incidents resolved in the period.",
    "No incident was resolved in the period.",
);
const IMPACT_MINUTES: Column = measure(
    "impact_minutes",
    Words::new("Impact (minutes)", "影响时长（分钟）"),
    Unit::Number,
    "Σ of each incident's business-impact minutes that fall in the period (mart_incident_impact_monthly: an incident across a month end is split at it; an impact not yet ended counts to the period's end).",
    "Never empty.",
);
const INCIDENT_COST: Column = measure(
    "incident_cost",
    Words::new("Incident cost", "事件成本"),
    Unit::Money,
    "Σ impact minutes in the period × the application's downtime_cost_per_minute × the weight of the incident's severity ([metrics.reliability] severity_weights), rounded once to cents. Incidents of applications without a downtime cost per minute are left out (the notes count them).",
    "No incident with a downtime cost per minute had impact in the period.",
);

/// `metrics.reliability_application`: the portfolio and each application.
pub const RELIABILITY_APPLICATION: Table = Table {
    name: "reliability_application",
    columns: &[
        PERIOD,
        LEVEL,
        APPLICATION,
        NAME,
        INVESTMENT,
        INCIDENTS,
        measure(
            "severity_1",
            Words::new("Severity 1", "1级"),
            Unit::Integer,
            "Incidents of severity 1 (critical) opened in the period.",
            "Never empty.",
        ),
        measure(
            "severity_2",
            Words::new("Severity 2", "2级"),
            Unit::Integer,
            "Incidents of severity 2 (high) opened in the period.",
            "Never empty.",
        ),
        measure(
            "severity_3",
            Words::new("Severity 3", "3级"),
            Unit::Integer,
            "Incidents of severity 3 (moderate) opened in the period.",
            "Never empty.",
        ),
        measure(
            "severity_4",
            Words::new("Severity 4", "4级"),
            Unit::Integer,
            "Incidents of severity 4 (low) opened in the period.",
            "Never empty.",
        ),
        TTR_P50,
        TTR_MEAN,
        RESOLVE_P50,
        RESOLVE_MEAN,
        measure(
            "impact_open",
            Words::new("Impact still open", "影响尚未消除"),
            Unit::Integer,
            "Incidents opened by the end of the period whose business impact has not ended by then (no impact_end, resolved_at or closed_at): no time to restore for them yet.",
            "Never empty.",
        ),
        IMPACT_MINUTES,
        INCIDENT_COST,
        measure(
            "downtime_minutes",
            Words::new("Downtime (minutes)", "停机时长（分钟）"),
            Unit::Number,
            "The minutes of the period within the impact of at least one incident of severity 1 to [metrics.reliability] availability_max_severity (2 by default) of the application; overlapping incidents counted once.",
            "Never empty.",
        ),
        measure(
            "availability",
            Words::new("Availability", "可用性"),
            Unit::Percent,
            "1 − downtime minutes / minutes in the period (on instants). For the portfolio: Σ downtime / (applications × minutes).",
            "No application.",
        ),
        measure(
            "sli",
            Words::new("SLI", "SLI"),
            Unit::Percent,
            "The service level indicator held against the SLO: good_events / total_events of the period's SLO measurement where there is one, else the availability.",
            "No application.",
        ),
        key(
            "sli_basis",
            Words::new("SLI from", "SLI 依据"),
            Unit::Text,
            11.0,
        ),
        measure(
            "slo",
            Words::new("SLO", "SLO"),
            Unit::Percent,
            "The application's slo_availability, else [metrics.reliability] default_slo (0.999 by default).",
            "Portfolio level.",
        ),
        measure(
            "error_budget",
            Words::new("Error budget", "错误预算"),
            Unit::Number,
            "(1 − SLO) × the minutes of the period (SLI from availability) or × total_events (SLI from events); the unit is in sli_basis.",
            "Portfolio level.",
        ),
        measure(
            "budget_consumed",
            Words::new("Error budget consumed", "错误预算消耗"),
            Unit::Percent,
            "Bad minutes (downtime) or bad events (total − good) / error budget. Over 100% the SLO is missed.",
            "Portfolio level, or an error budget of zero.",
        ),
        measure(
            "burn_rate",
            Words::new("Burn rate", "消耗速率"),
            Unit::Ratio,
            "Bad rate / (1 − SLO), with the bad rate = bad / (minutes or events) of the period. Over the whole month it equals the budget consumed as a ratio: 1 spends the month's budget in exactly the month.",
            "Portfolio level.",
        ),
        measure(
            "meets_slo",
            Words::new("Meets SLO", "达到 SLO"),
            Unit::Text,
            "SLI ≥ SLO.",
            "Portfolio level.",
        ),
        measure(
            "sla_attainment",
            Words::new("SLA attainment", "SLA 达成率"),
            Unit::Percent,
            "Portfolio: applications meeting their SLO / applications (every application of stg_applications, and any other that has incidents).",
            "Application level.",
        ),
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
        key(
            "severity",
            Words::new("Severity", "严重级别"),
            Unit::Integer,
            9.0,
        ),
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
        key(
            "problem_id",
            Words::new("Problem", "问题"),
            Unit::Text,
            12.0,
        ),
        measure(
            "incidents",
            Words::new("Incidents", "事件数"),
            Unit::Integer,
            "Incidents naming the problem, opened by the end of the period.",
            "Never empty.",
        ),
        measure(
            "incidents_12m",
            Words::new("Incidents (12 months)", "事件数（12个月）"),
            Unit::Integer,
            "Incidents naming the problem opened in the twelve months to the period.",
            "Never empty.",
        ),
        measure(
            "recurring",
            Words::new("Recurring", "反复发生"),
            Unit::Text,
            "Three or more incidents in the twelve months to the period.",
            "Never empty.",
        ),
        key(
            "applications",
            Words::new("Applications", "应用"),
            Unit::Text,
            24.0,
        ),
        key(
            "first_opened",
            Words::new("First incident", "首次事件"),
            Unit::DateTime,
            17.0,
        ),
        key(
            "last_opened",
            Words::new("Latest incident", "最近事件"),
            Unit::DateTime,
            17.0,
        ),
        measure(
            "open",
            Words::new("Open", "未关闭"),
            Unit::Text,
            "A problem is open while one of its incidents is neither resolved nor closed at the end of the period.",
            "Never empty.",
        ),
        measure(
            "age_days",
            Words::new("Age (days)", "持续时间（天）"),
            Unit::Number,
            "For an open problem: the end of the period − its first incident's opened_at, in days on instants.",
            "The problem is not open.",
        ),
    ],
};

/// `metrics.reliability_investment`: the incident cost rolled up to the investments.
pub const RELIABILITY_INVESTMENT: Table = Table {
    name: "reliability_investment",
    columns: &[
        PERIOD,
        INVESTMENT,
        measure(
            "applications",
            Words::new("Applications", "应用数"),
            Unit::Integer,
            "Applications whose investment_id is the investment.",
            "Never empty.",
        ),
        measure(
            "incidents",
            Words::new("Incidents", "事件数"),
            Unit::Integer,
            "Incidents of those applications opened in the period.",
            "Never empty.",
        ),
        measure(
            "impact_minutes",
            Words::new("Impact (minutes)", "影响时长（分钟）"),
            Unit::Number,
            "Impact minutes of those applications' incidents in the period.",
            "Never empty.",
        ),
        measure(
            "incident_cost_month",
            Words::new("Incident cost (month)", "本月事件成本"),
            Unit::Money,
            "The incident cost of the investment's applications in the period, rounded once to cents.",
            "None of its applications has a downtime cost per minute.",
        ),
        measure(
            "incident_cost_ytd",
            Words::new("Incident cost YTD", "年初至今事件成本"),
            Unit::Money,
            "The same from January of the period's year to the period.",
            "None of its applications has a downtime cost per minute.",
        ),
        measure(
            "incident_cost_12m",
            Words::new("Incident cost (12 months)", "事件成本（12个月）"),
            Unit::Money,
            "The same over the twelve months to the period.",
            "None of its applications has a downtime cost per minute.",
        ),
    ],
};

/// `metrics.reliability_trend`: the portfolio month by month.
pub const RELIABILITY_TREND: Table = Table {
    name: "reliability_trend",
    columns: &[
        PERIOD,
        key("month", Words::new("Month", "月份"), Unit::Month, 10.0),
        measure(
            "incidents",
            Words::new("Incidents", "事件数"),
            Unit::Integer,
            "Incidents opened in the month.",
            "Never empty.",
        ),
        measure(
            "severe_incidents",
            Words::new("Severity 1-2 incidents", "1-2级事件"),
            Unit::Integer,
            "Incidents of severity 1 or 2 opened in the month.",
            "Never empty.",
        ),
        measure(
            "impact_minutes",
            Words::new("Impact (minutes)", "影响时长（分钟）"),
            Unit::Number,
            "Impact minutes in the month, split at month ends.",
            "Never empty.",
        ),
        measure(
            "incident_cost",
            Words::new("Incident cost", "事件成本"),
            Unit::Money,
            "The incident cost of the month, rounded once to cents.",
            "No incident with a downtime cost per minute had impact in the month.",
        ),
        measure(
            "restore_p50_hours",
            Words::new("Time to restore p50 (hours)", "业务恢复时间 P50（小时）"),
            Unit::Number,
            "As in reliability_application, for the incidents whose impact ended in the month.",
            "No incident's impact ended in the month.",
        ),
        measure(
            "sla_attainment",
            Words::new("SLA attainment", "SLA 达成率"),
            Unit::Percent,
            "Applications meeting their SLO in the month / applications.",
            "No application.",
        ),
    ],
};

/// `metrics.application_time_quadrant`: Gartner's TIME per application.
pub const APPLICATION_TIME_QUADRANT: Table = Table {
    name: "application_time_quadrant",
    columns: &[
        PERIOD,
        APPLICATION,
        NAME,
        INVESTMENT,
        measure(
            "incidents_per_month",
            Words::new("Incidents per month (12m)", "月均事件数（12个月）"),
            Unit::Number,
            "Incidents opened in the twelve months to the period / 12.",
            "Never empty.",
        ),
        measure(
            "incident_score",
            Words::new("Incident score", "事件得分"),
            Unit::Ratio,
            "1 − incidents per month / [metrics.time_quadrant] max_incidents_per_month (4 by default), not below 0.",
            "Never empty.",
        ),
        measure(
            "change_failure_rate_12m",
            Words::new("Change failure rate (12m)", "变更失败率（12个月）"),
            Unit::Percent,
            "Failed / production deployments of the application in the twelve months to the period, by the rules of the delivery figures.",
            "No production deployment of the application in those twelve months.",
        ),
        measure(
            "change_score",
            Words::new("Change score", "变更得分"),
            Unit::Ratio,
            "1 − change failure rate / [metrics.time_quadrant] max_change_failure_rate (0.3 by default), not below 0.",
            "No change failure rate.",
        ),
        measure(
            "budget_consumed_12m",
            Words::new("Error budget consumed (12m)", "错误预算消耗（12个月）"),
            Unit::Percent,
            "Bad minutes or events / error budget over the twelve months to the period.",
            "Never empty.",
        ),
        measure(
            "budget_score",
            Words::new("Budget score", "预算得分"),
            Unit::Ratio,
            "1 − error budget consumed, not below 0.",
            "Never empty.",
        ),
        measure(
            "technical_fit",
            Words::new("Technical fit", "技术适配度"),
            Unit::Ratio,
            "The mean of the incident, change and budget scores that exist.",
            "Never empty.",
        ),
        measure(
            "criticality_score",
            Words::new("Criticality score", "关键性得分"),
            Unit::Ratio,
            "From business_criticality: 1 (highest) scores 1, 2 scores 0.67, 3 scores 0.33, 4 scores 0.",
            "The application has no business_criticality.",
        ),
        measure(
            "benefit_score",
            Words::new("Benefit score", "收益得分"),
            Unit::Ratio,
            "PERCENTRANK.INC of the linked investment's planned benefits (all months, reporting currency) among the applications that have a linked investment with benefits.",
            "No linked investment, or it plans no benefits.",
        ),
        measure(
            "users_score",
            Words::new("Users score", "用户得分"),
            Unit::Ratio,
            "PERCENTRANK.INC of the most users_affected by one of its incidents in the twelve months to the period, among the applications that have such a figure.",
            "No incident of the application in those months gives users_affected.",
        ),
        measure(
            "business_fit",
            Words::new("Business fit", "业务适配度"),
            Unit::Ratio,
            "The mean of the criticality, benefit and users scores that exist.",
            "None of the three scores exists.",
        ),
        measure(
            "quadrant",
            Words::new("TIME", "TIME 象限"),
            Unit::Text,
            "Invest (technical and business fit at or above their [metrics.time_quadrant] thresholds), Tolerate (technical only), Migrate (business only), Eliminate (neither).",
            "No business fit.",
        ),
        key("reason", Words::new("Why", "原因"), Unit::Text, 48.0),
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
    })
}
