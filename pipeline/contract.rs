//! The domain vocabulary, at the bottom of the crate: the data contracts of DESIGN.md (for each
//! canonical entity, its columns with their types, which are required, the values and ranges they
//! accept, its key and the foreign keys it holds), the funnel stages, cost pools, severities and
//! currency codes.
//!
//! In: nothing (static tables). Out: [`Entity`] and its [`Contract`], used by the configuration
//! to check column names, by the readers to type values, by the warehouse to declare raw tables
//! and by the models to tell which entities a model reads.

use std::fmt;

use serde::Deserialize;

/// A canonical raw entity; every source feeds exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Investments,
    Applications,
    Costs,
    Benefits,
    Progress,
    Demands,
    DemandEvents,
    Deployments,
    Incidents,
    SloMeasurements,
    FxRates,
}

impl Entity {
    /// Every entity, in load order: referenced entities come before the ones that reference them.
    pub const ALL: [Entity; 11] = [
        Entity::FxRates,
        Entity::Investments,
        Entity::Applications,
        Entity::Costs,
        Entity::Benefits,
        Entity::Progress,
        Entity::Demands,
        Entity::DemandEvents,
        Entity::Deployments,
        Entity::Incidents,
        Entity::SloMeasurements,
    ];

    /// The entity's name, which is also its raw table's name (`raw.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Investments => "investments",
            Entity::Applications => "applications",
            Entity::Costs => "costs",
            Entity::Benefits => "benefits",
            Entity::Progress => "progress",
            Entity::Demands => "demands",
            Entity::DemandEvents => "demand_events",
            Entity::Deployments => "deployments",
            Entity::Incidents => "incidents",
            Entity::SloMeasurements => "slo_measurements",
            Entity::FxRates => "fx_rates",
        }
    }

    /// The contract that rows of this entity must meet.
    pub fn contract(self) -> &'static Contract {
        match self {
            Entity::Investments => &INVESTMENTS,
            Entity::Applications => &APPLICATIONS,
            Entity::Costs => &COSTS,
            Entity::Benefits => &BENEFITS,
            Entity::Progress => &PROGRESS,
            Entity::Demands => &DEMANDS,
            Entity::DemandEvents => &DEMAND_EVENTS,
            Entity::Deployments => &DEPLOYMENTS,
            Entity::Incidents => &INCIDENTS,
            Entity::SloMeasurements => &SLO_MEASUREMENTS,
            Entity::FxRates => &FX_RATES,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The type a column's values are parsed into, and the warehouse type they are stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text, trimmed (VARCHAR).
    Text,
    /// A whole number (BIGINT).
    Integer,
    /// An amount of money with at most two decimals (DECIMAL(18,2)); never a float.
    Money,
    /// A ratio or rate (DOUBLE).
    Number,
    /// A calendar day (DATE).
    Date,
    /// A point in time in the configured zone (TIMESTAMP).
    Timestamp,
    /// A calendar month, stored as its first day (DATE).
    Period,
}

impl ColumnKind {
    /// The DuckDB type of the raw column.
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnKind::Text => "VARCHAR",
            ColumnKind::Integer => "BIGINT",
            ColumnKind::Money => "DECIMAL(18,2)",
            ColumnKind::Number => "DOUBLE",
            ColumnKind::Date | ColumnKind::Period => "DATE",
            ColumnKind::Timestamp => "TIMESTAMP",
        }
    }

    /// How the kind is named in reject messages ("expected a date").
    pub fn describe(self) -> &'static str {
        match self {
            ColumnKind::Text => "text",
            ColumnKind::Integer => "a whole number",
            ColumnKind::Money => "an amount with at most 2 decimals",
            ColumnKind::Number => "a number",
            ColumnKind::Date => "a date",
            ColumnKind::Timestamp => "a date and time",
            ColumnKind::Period => "a month (YYYY-MM)",
        }
    }
}

/// A rule a present value must also satisfy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// No rule beyond the type.
    Any,
    /// One of these values, matched case-insensitively and stored as written here.
    OneOf(&'static [&'static str]),
    /// A number within `[min, max]`.
    Between(f64, f64),
    /// A number of at least `min`.
    AtLeast(f64),
    /// A number strictly above `min`.
    Above(f64),
    /// A three-letter ISO 4217 currency code, matched ignoring case and stored in capitals.
    Currency,
}

/// One column of an entity.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub required: bool,
    pub rule: Rule,
}

/// A column whose values must name an existing row of another entity.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKey {
    pub column: &'static str,
    pub target: Entity,
}

/// Two points in time of one row that must come in order, such as the start and end of an
/// incident's business impact.
#[derive(Debug, Clone, Copy)]
pub struct InOrder {
    /// The earlier point: the first of these columns that has a value.
    pub earlier: &'static [&'static str],
    /// The later point, when it has a value.
    pub later: &'static str,
    /// What the order means, for the reject's rule.
    pub meaning: &'static str,
}

/// The contract of one entity.
#[derive(Debug)]
pub struct Contract {
    pub columns: &'static [Column],
    /// The columns that identify a row; no two loaded rows share them.
    pub key: &'static [&'static str],
    pub foreign_keys: &'static [ForeignKey],
    /// Points in time that must not be inverted; a row that inverts one is a reject.
    pub in_order: &'static [InOrder],
}

impl Contract {
    /// The column called `name`, if the entity has one.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Position of `name` among the columns.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column names, comma-separated, for messages.
    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The value-funnel stages in order, then the two exits (DESIGN.md, Flow).
pub const FUNNEL_STAGES: [&str; 9] = [
    "proposed",
    "analysed",
    "scheduled",
    "in_development",
    "in_test",
    "released",
    "reviewed",
    "rejected",
    "cancelled",
];

/// The kinds of demand, in the order the pack shows them.
pub const DEMAND_TYPES: [&str; 4] = ["feature", "defect", "risk", "debt"];

/// Release strategies of deployments.
pub const RELEASE_STRATEGIES: [&str; 4] = ["blue_green", "canary", "rolling", "recreate"];

/// Incident severities, 1 the highest.
pub const SEVERITIES: [(i64, &str); 4] =
    [(1, "critical"), (2, "high"), (3, "moderate"), (4, "low")];

/// TBM cost pools.
pub const COST_POOLS: [&str; 8] = [
    "internal_labor",
    "external_labor",
    "outside_services",
    "hardware",
    "software",
    "facilities",
    "telecom",
    "other",
];

/// The ISO 4217 currency codes, in order: the active ones and a few withdrawn since 2020 that old
/// cost lines still carry (HRK, SLL, ZWL). Without XTS (testing) and XXX (no currency).
pub const ISO_4217: [&str; 177] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR",
    "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP",
    "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED",
    "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF",
    "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

const fn col(name: &'static str, kind: ColumnKind) -> Column {
    Column {
        name,
        kind,
        required: false,
        rule: Rule::Any,
    }
}

const fn req(name: &'static str, kind: ColumnKind) -> Column {
    Column {
        name,
        kind,
        required: true,
        rule: Rule::Any,
    }
}

const fn ruled(mut column: Column, rule: Rule) -> Column {
    column.rule = rule;
    column
}

use ColumnKind::{Date, Integer, Money, Number, Period, Text, Timestamp};

static INVESTMENTS: Contract = Contract {
    columns: &[
        req("investment_id", Text),
        req("name", Text),
        ruled(
            req("category", Text),
            Rule::OneOf(&["run", "grow", "transform"]),
        ),
        col("value_stream", Text),
        col("business_unit", Text),
        col("owner", Text),
        col("status", Text),
        col("start_date", Date),
        col("end_date", Date),
        ruled(col("budget_total", Money), Rule::AtLeast(0.0)),
        ruled(col("discount_rate", Number), Rule::Between(0.0, 1.0)),
    ],
    key: &["investment_id"],
    foreign_keys: &[],
    in_order: &[],
};

static APPLICATIONS: Contract = Contract {
    columns: &[
        req("application_id", Text),
        req("name", Text),
        col("investment_id", Text),
        ruled(
            col("business_criticality", Integer),
            Rule::Between(1.0, 4.0),
        ),
        ruled(col("downtime_cost_per_minute", Money), Rule::AtLeast(0.0)),
        ruled(col("slo_availability", Number), Rule::Between(0.0, 1.0)),
        col("tier", Text),
        col("lifecycle_stage", Text),
        col("go_live_date", Date),
    ],
    key: &["application_id"],
    foreign_keys: &[ForeignKey {
        column: "investment_id",
        target: Entity::Investments,
    }],
    in_order: &[],
};

static COSTS: Contract = Contract {
    columns: &[
        req("investment_id", Text),
        req("period", Period),
        ruled(
            req("scenario", Text),
            Rule::OneOf(&["actual", "budget", "forecast"]),
        ),
        req("amount", Money),
        ruled(col("currency", Text), Rule::Currency),
        ruled(col("cost_type", Text), Rule::OneOf(&["capex", "opex"])),
        ruled(col("cost_pool", Text), Rule::OneOf(&COST_POOLS)),
        col("line_id", Text),
    ],
    key: &[
        "investment_id",
        "period",
        "cost_pool",
        "scenario",
        "line_id",
    ],
    foreign_keys: &[ForeignKey {
        column: "investment_id",
        target: Entity::Investments,
    }],
    in_order: &[],
};

static BENEFITS: Contract = Contract {
    columns: &[
        req("investment_id", Text),
        req("period", Period),
        ruled(req("scenario", Text), Rule::OneOf(&["planned", "realized"])),
        req("amount", Money),
        ruled(
            col("benefit_type", Text),
            Rule::OneOf(&["revenue", "cost_saving", "risk_reduction", "productivity"]),
        ),
        col("amount_low", Money),
        col("amount_high", Money),
        ruled(col("currency", Text), Rule::Currency),
    ],
    key: &["investment_id", "period", "benefit_type", "scenario"],
    foreign_keys: &[ForeignKey {
        column: "investment_id",
        target: Entity::Investments,
    }],
    in_order: &[],
};

static PROGRESS: Contract = Contract {
    columns: &[
        req("investment_id", Text),
        req("period", Period),
        ruled(req("percent_complete", Number), Rule::Between(0.0, 1.0)),
    ],
    key: &["investment_id", "period"],
    foreign_keys: &[ForeignKey {
        column: "investment_id",
        target: Entity::Investments,
    }],
    in_order: &[],
};

static DEMANDS: Contract = Contract {
    columns: &[
        req("demand_id", Text),
        ruled(req("type", Text), Rule::OneOf(&DEMAND_TYPES)),
        col("investment_id", Text),
        col("value_stream", Text),
        col("team", Text),
        col("priority", Text),
        col("title", Text),
        // The wide form: one column per funnel stage with the time the demand first entered it.
        // The staging model stg_demand_events turns these into events.
        col("proposed_at", Timestamp),
        col("analysed_at", Timestamp),
        col("scheduled_at", Timestamp),
        col("in_development_at", Timestamp),
        col("in_test_at", Timestamp),
        col("released_at", Timestamp),
        col("reviewed_at", Timestamp),
        col("rejected_at", Timestamp),
        col("cancelled_at", Timestamp),
    ],
    key: &["demand_id"],
    foreign_keys: &[ForeignKey {
        column: "investment_id",
        target: Entity::Investments,
    }],
    in_order: &[],
};

static DEMAND_EVENTS: Contract = Contract {
    columns: &[
        req("demand_id", Text),
        ruled(req("stage", Text), Rule::OneOf(&FUNNEL_STAGES)),
        req("entered_at", Timestamp),
    ],
    key: &["demand_id", "stage", "entered_at"],
    foreign_keys: &[ForeignKey {
        column: "demand_id",
        target: Entity::Demands,
    }],
    in_order: &[],
};

static DEPLOYMENTS: Contract = Contract {
    columns: &[
        req("deployment_id", Text),
        req("application_id", Text),
        req("finished_at", Timestamp),
        ruled(
            req("result", Text),
            Rule::OneOf(&["success", "failed", "rolled_back"]),
        ),
        col("environment", Text),
        ruled(col("strategy", Text), Rule::OneOf(&RELEASE_STRATEGIES)),
        col("started_at", Timestamp),
        col("demand_id", Text),
    ],
    key: &["deployment_id"],
    foreign_keys: &[ForeignKey {
        column: "application_id",
        target: Entity::Applications,
    }],
    in_order: &[InOrder {
        earlier: &["started_at"],
        later: "finished_at",
        meaning: "a deployment cannot finish before it starts",
    }],
};

static INCIDENTS: Contract = Contract {
    columns: &[
        req("incident_id", Text),
        req("application_id", Text),
        ruled(
            req("severity", Integer),
            Rule::Between(SEVERITIES[0].0 as f64, SEVERITIES[3].0 as f64),
        ),
        req("opened_at", Timestamp),
        col("impact_start", Timestamp),
        col("impact_end", Timestamp),
        col("resolved_at", Timestamp),
        col("closed_at", Timestamp),
        col("caused_by_deployment_id", Text),
        col("problem_id", Text),
        ruled(col("users_affected", Integer), Rule::AtLeast(0.0)),
        col("category", Text),
    ],
    key: &["incident_id"],
    foreign_keys: &[ForeignKey {
        column: "application_id",
        target: Entity::Applications,
    }],
    // Without an impact_start, the impact starts when the incident is opened (stg_incidents).
    in_order: &[
        InOrder {
            earlier: &["impact_start", "opened_at"],
            later: "impact_end",
            meaning: "business impact cannot end before it starts",
        },
        // Without an impact_end, the impact ends when the incident is resolved or closed.
        InOrder {
            earlier: &["impact_start", "opened_at"],
            later: "resolved_at",
            meaning: "an incident cannot be resolved before its impact starts",
        },
        InOrder {
            earlier: &["impact_start", "opened_at"],
            later: "closed_at",
            meaning: "an incident cannot be closed before its impact starts",
        },
    ],
};

static SLO_MEASUREMENTS: Contract = Contract {
    columns: &[
        req("application_id", Text),
        req("period", Period),
        ruled(req("good_events", Integer), Rule::AtLeast(0.0)),
        ruled(req("total_events", Integer), Rule::AtLeast(0.0)),
    ],
    key: &["application_id", "period"],
    foreign_keys: &[ForeignKey {
        column: "application_id",
        target: Entity::Applications,
    }],
    in_order: &[],
};

static FX_RATES: Contract = Contract {
    columns: &[
        ruled(req("currency", Text), Rule::Currency),
        req("period", Period),
        ruled(req("rate_to_reporting", Number), Rule::Above(0.0)),
    ],
    key: &["currency", "period"],
    foreign_keys: &[],
    in_order: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_and_foreign_key_names_a_column_of_its_entity() {
        for entity in Entity::ALL {
            let contract = entity.contract();
            for key in contract.key {
                assert!(contract.column(key).is_some(), "{entity}: key {key}");
            }
            for fk in contract.foreign_keys {
                assert!(
                    contract.column(fk.column).is_some(),
                    "{entity}: {}",
                    fk.column
                );
                let target = fk.target.contract();
                assert_eq!(target.key.len(), 1, "{entity} -> {}", fk.target);
            }
        }
    }

    #[test]
    fn referenced_entities_load_before_the_entities_that_reference_them() {
        let position = |e: Entity| Entity::ALL.iter().position(|x| *x == e).unwrap();
        for entity in Entity::ALL {
            for fk in entity.contract().foreign_keys {
                assert!(position(fk.target) < position(entity), "{entity}");
            }
        }
    }
}
