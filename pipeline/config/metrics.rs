//! `[metrics]`: every weight, threshold, window, year, draw count and seed the figure families
//! use, in one section of the configuration, each with its default.
//!
//! In: the raw TOML table. Out: validated [`MetricsConfig`]; a value outside its range is an error
//! naming the key.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::contract::FUNNEL_STAGES;

/// The whole `[metrics]` section.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    pub valuation: Valuation,
    pub flow: Flow,
    pub delivery: Delivery,
    pub reliability: Reliability,
    pub decisions: Decisions,
    pub time_quadrant: TimeQuadrant,
}

/// `[metrics.valuation]`: the risk-adjusted NPV's simulation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Valuation {
    /// Monte Carlo draws per investment.
    pub draws: u32,
    /// The simulation's seed; each investment's stream is derived from it and the investment id.
    pub seed: u64,
    /// Per benefit_type, the low and high factors of a benefit line without amount_low and
    /// amount_high (its amount is the mode of the triangle).
    pub benefit_bands: BTreeMap<String, [f64; 2]>,
    /// Future costs' overrun factor: `observed` draws it from the portfolio's CPI, or give a
    /// triangle `[low, mode, high]`.
    pub cost_overrun: CostOverrun,
}

impl Default for Valuation {
    fn default() -> Self {
        Valuation {
            draws: 10_000,
            seed: 42,
            benefit_bands: [
                ("revenue", [0.6, 1.2]),
                ("cost_saving", [0.8, 1.1]),
                ("risk_reduction", [0.5, 1.3]),
                ("productivity", [0.6, 1.2]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            cost_overrun: CostOverrun::Observed,
        }
    }
}

/// How future costs may overrun.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum CostOverrun {
    /// `"observed"`: from the portfolio's CPI to date.
    #[serde(deserialize_with = "observed")]
    Observed,
    /// A triangle of factors `[low, mode, high]`.
    Band([f64; 3]),
}

fn observed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    let text = String::deserialize(d)?;
    if text == "observed" {
        Ok(())
    } else {
        Err(serde::de::Error::custom(format!(
            "{text:?}: expected \"observed\" or a band [low, mode, high]"
        )))
    }
}

/// `[metrics.flow]`: the value funnel.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Flow {
    /// The stages whose time counts as active work for flow efficiency.
    pub active_stages: Vec<String>,
    /// Months of proposals the stage conversion looks back over.
    pub conversion_months: u32,
    /// How many of the oldest work items in progress the Value Stream sheet lists.
    pub oldest_wip: u32,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            active_stages: vec!["in_development".into(), "in_test".into()],
            conversion_months: 12,
            oldest_wip: 10,
        }
    }
}

/// `[metrics.delivery]`: DORA.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// The year of the DORA report whose performance tiers classify the figures (2021 or 2023,
    /// with Apache DevLake's criteria for each).
    pub dora_year: u16,
    /// The environments that count as production (matched ignoring case).
    pub production_environments: Vec<String>,
    /// Hours after a deployment within which an incident on the same application marks it
    /// failed; 0 switches the rule off.
    pub incident_window_hours: u32,
    /// Link an incident to the latest successful deployment of its application before it opened
    /// (as Apache DevLake does).
    pub latest_prior: bool,
    /// With `latest_prior`: the longest time, in hours, between that deployment and the
    /// incident; 0 for no limit (DevLake's own rule).
    pub latest_prior_max_gap_hours: u32,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            dora_year: 2023,
            production_environments: vec!["production".into(), "prod".into()],
            incident_window_hours: 0,
            latest_prior: false,
            latest_prior_max_gap_hours: 0,
        }
    }
}

/// `[metrics.reliability]`: incident cost and availability.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reliability {
    /// Per severity (1 to 4), the weight of an impact minute in the incident cost.
    pub severity_weights: BTreeMap<String, f64>,
    /// Incidents of this severity or more severe count against availability.
    pub availability_max_severity: u8,
    /// The SLO of an application without `slo_availability`.
    pub default_slo: f64,
}

impl Default for Reliability {
    fn default() -> Self {
        Reliability {
            severity_weights: [("1", 1.0), ("2", 0.5), ("3", 0.2), ("4", 0.05)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            availability_max_severity: 2,
            default_slo: 0.999,
        }
    }
}

/// `[metrics.decisions]`: the thresholds of the continue / fix / stop / review recommendation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Decisions {
    /// Fix when CPI is below this.
    pub fix_below_cpi: f64,
    /// Fix when SPI is below this.
    pub fix_below_spi: f64,
    /// Stop when the forward NPV at P50 is below this (in the reporting currency).
    pub stop_below_forward_npv: f64,
    /// Stop when the probability of a positive NPV is below this.
    pub stop_below_probability_positive: f64,
    /// Review when benefit realization is below this.
    pub review_below_benefit_realization: f64,
    /// Investment categories that keep the business running (Gartner's "run"): a negative NPV
    /// is what they cost, so they are never stopped or reviewed on NPV, only fixed on CPI and
    /// SPI and reviewed on benefit realization.
    pub run_categories: Vec<String>,
}

impl Default for Decisions {
    fn default() -> Self {
        Decisions {
            fix_below_cpi: 0.9,
            fix_below_spi: 0.9,
            stop_below_forward_npv: 0.0,
            stop_below_probability_positive: 0.5,
            review_below_benefit_realization: 0.8,
            run_categories: vec!["run".to_string()],
        }
    }
}

/// `[metrics.time_quadrant]`: Tolerate, Invest, Migrate or Eliminate per application.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeQuadrant {
    /// A technical-fit score (0 to 1) at or above this is good.
    pub technical_fit: f64,
    /// A business-fit score (0 to 1) at or above this is good.
    pub business_fit: f64,
    /// Incidents per month (over the trailing twelve months) at which the incident score of the
    /// technical fit reaches 0.
    pub max_incidents_per_month: f64,
    /// The change failure rate (over the trailing twelve months) at which the change score of
    /// the technical fit reaches 0.
    pub max_change_failure_rate: f64,
}

impl Default for TimeQuadrant {
    fn default() -> Self {
        TimeQuadrant {
            technical_fit: 0.5,
            business_fit: 0.5,
            max_incidents_per_month: 4.0,
            max_change_failure_rate: 0.3,
        }
    }
}

impl MetricsConfig {
    /// Checks every value against its range.
    ///
    /// # Errors
    ///
    /// A message naming the key (`metrics.valuation.draws = 0: ...`).
    pub fn validate(&self) -> Result<(), String> {
        let v = &self.valuation;
        if !(1..=1_000_000).contains(&v.draws) {
            return Err(format!(
                "metrics.valuation.draws = {}: expected 1 to 1,000,000 draws per investment",
                v.draws
            ));
        }
        for (kind, [low, high]) in &v.benefit_bands {
            if !["revenue", "cost_saving", "risk_reduction", "productivity"]
                .contains(&kind.as_str())
            {
                return Err(format!(
                    "metrics.valuation.benefit_bands.{kind}: not a benefit_type (revenue, cost_saving, risk_reduction, productivity)"
                ));
            }
            if !(0.0..=1.0).contains(low) || *high < 1.0 || !high.is_finite() {
                return Err(format!(
                    "metrics.valuation.benefit_bands.{kind} = [{low}, {high}]: expected a low factor from 0 to 1 and a high factor of at least 1"
                ));
            }
        }
        if let CostOverrun::Band([low, mode, high]) = v.cost_overrun
            && !(low > 0.0 && low <= mode && mode <= high && high.is_finite())
        {
            return Err(format!(
                "metrics.valuation.cost_overrun = [{low}, {mode}, {high}]: expected 0 < low <= mode <= high"
            ));
        }
        for category in &self.decisions.run_categories {
            if !["run", "grow", "transform"].contains(&category.as_str()) {
                return Err(format!(
                    "metrics.decisions.run_categories: {category:?} is not a category (run, grow, transform)"
                ));
            }
        }
        let f = &self.flow;
        for stage in &f.active_stages {
            if !FUNNEL_STAGES.contains(&stage.as_str()) {
                return Err(format!(
                    "metrics.flow.active_stages: {stage:?} is not a funnel stage ({})",
                    FUNNEL_STAGES.join(", ")
                ));
            }
        }
        if !(1..=120).contains(&f.conversion_months) {
            return Err(format!(
                "metrics.flow.conversion_months = {}: expected 1 to 120",
                f.conversion_months
            ));
        }
        let d = &self.delivery;
        if !DORA_YEARS.contains(&d.dora_year) {
            return Err(format!(
                "metrics.delivery.dora_year = {}: itvalue knows the tiers of the DORA reports of {}",
                d.dora_year,
                DORA_YEARS
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let t = &self.time_quadrant;
        for (key, value) in [
            ("max_incidents_per_month", t.max_incidents_per_month),
            ("max_change_failure_rate", t.max_change_failure_rate),
        ] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(format!(
                    "metrics.time_quadrant.{key} = {value}: expected a number above 0"
                ));
            }
        }
        let r = &self.reliability;
        for (severity, weight) in &r.severity_weights {
            if !["1", "2", "3", "4"].contains(&severity.as_str())
                || weight.is_nan()
                || *weight < 0.0
            {
                return Err(format!(
                    "metrics.reliability.severity_weights.{severity} = {weight}: expected severities 1 to 4 with weights of at least 0"
                ));
            }
        }
        if !(1..=4).contains(&r.availability_max_severity) {
            return Err(format!(
                "metrics.reliability.availability_max_severity = {}: expected a severity from 1 to 4",
                r.availability_max_severity
            ));
        }
        if !(r.default_slo > 0.0 && r.default_slo < 1.0) {
            return Err(format!(
                "metrics.reliability.default_slo = {}: expected a share between 0 and 1 (0.999 for 99.9%)",
                r.default_slo
            ));
        }
        let shares = [
            (
                "decisions.stop_below_probability_positive",
                self.decisions.stop_below_probability_positive,
            ),
            (
                "decisions.review_below_benefit_realization",
                self.decisions.review_below_benefit_realization,
            ),
            (
                "time_quadrant.technical_fit",
                self.time_quadrant.technical_fit,
            ),
            (
                "time_quadrant.business_fit",
                self.time_quadrant.business_fit,
            ),
        ];
        for (key, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!(
                    "metrics.{key} = {value}: expected a share from 0 to 1"
                ));
            }
        }
        Ok(())
    }
}

/// The DORA reports whose tiers itvalue carries.
pub const DORA_YEARS: [u16; 2] = [2021, 2023];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MetricsConfig, String> {
        let config: MetricsConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate().map(|()| config)
    }

    #[test]
    fn every_setting_has_a_default_and_a_checked_range() {
        let defaults = parse("").unwrap();
        assert_eq!(defaults, MetricsConfig::default());
        assert_eq!(defaults.valuation.draws, 10_000);
        assert_eq!(defaults.delivery.dora_year, 2023);
        let set = parse(
            "[valuation]\ndraws = 500\nseed = 7\ncost_overrun = [0.95, 1.0, 1.4]\n[flow]\nactive_stages = [\"in_development\"]\n",
        )
        .unwrap();
        assert_eq!(
            set.valuation.cost_overrun,
            CostOverrun::Band([0.95, 1.0, 1.4])
        );
        assert_eq!(set.flow.active_stages, ["in_development"]);
        assert_eq!(
            parse("[valuation]\ndraws = 0\n").unwrap_err(),
            "metrics.valuation.draws = 0: expected 1 to 1,000,000 draws per investment"
        );
        assert_eq!(
            parse("[flow]\nactive_stages = [\"coding\"]\n").unwrap_err(),
            "metrics.flow.active_stages: \"coding\" is not a funnel stage (proposed, analysed, scheduled, in_development, in_test, released, reviewed, rejected, cancelled)"
        );
        assert_eq!(
            parse("[delivery]\ndora_year = 2019\n").unwrap_err(),
            "metrics.delivery.dora_year = 2019: itvalue knows the tiers of the DORA reports of 2021, 2023"
        );
        assert!(
            parse("[valuation]\ncost_overrun = \"guess\"\n").is_err(),
            "a word other than observed is refused"
        );
    }
}
