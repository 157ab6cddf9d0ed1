//! `[report]`: the pack's language, the company named in the workbook's properties, and per
//! headline figure of the Summary sheet its target and the thresholds of its red/amber/green
//! status.
//!
//! In: the raw TOML table. Out: validated [`ReportSettings`]; an unknown headline or thresholds in
//! the wrong order are errors naming the key.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::labels::Lang;

/// Which way a headline figure is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Nearer zero either way (a variance against budget): thresholds bound its size.
    NearZero,
}

/// The Summary's headline figures, by key, and which way each is better.
pub const HEADLINES: [(&str, Better); 11] = [
    ("spend_vs_budget_ytd", Better::NearZero),
    ("portfolio_npv", Better::Higher),
    ("risk_adjusted_npv_p50", Better::Higher),
    ("benefit_realization", Better::Higher),
    ("lead_time_p85", Better::Lower),
    ("throughput", Better::Higher),
    ("change_failure_rate", Better::Lower),
    ("time_to_restore", Better::Lower),
    ("incident_cost", Better::Lower),
    ("sla_attainment", Better::Higher),
    ("data_quality", Better::Higher),
];

/// The whole `[report]` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// The language of the pack's words (`en` or `zh`); `run --lang` overrides it.
    pub language: Lang,
    /// The company named in the workbook's document properties.
    pub company: Option<String>,
    /// Per headline key, its target and status thresholds.
    pub headlines: BTreeMap<String, Thresholds>,
}

/// A headline's target and the bounds of its status: at or better than `green` it is green, at
/// or better than `amber` amber, else red (for a variance, its size against the bounds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub target: Option<f64>,
    pub green: Option<f64>,
    pub amber: Option<f64>,
}

/// A headline's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Green,
    Amber,
    Red,
}

impl Thresholds {
    /// The status of `value` for a figure that is better `better`; `None` without thresholds.
    pub fn status(&self, value: f64, better: Better) -> Option<Status> {
        let (green, amber) = (self.green?, self.amber?);
        let at_least = |bound: f64| match better {
            Better::Higher => value >= bound,
            Better::Lower => value <= bound,
            Better::NearZero => value.abs() <= bound,
        };
        Some(if at_least(green) {
            Status::Green
        } else if at_least(amber) {
            Status::Amber
        } else {
            Status::Red
        })
    }
}

impl ReportSettings {
    /// Checks every headline key and its thresholds' order.
    ///
    /// # Errors
    ///
    /// A message naming the key (`report.headlines.lead_time_p85: ...`).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(company) = &self.company
            && company.chars().count() > 255
        {
            return Err("report.company: over 255 characters, which Excel's document properties cannot hold".into());
        }
        for (key, t) in &self.headlines {
            let Some((_, better)) = HEADLINES.iter().find(|(k, _)| k == key) else {
                let known: Vec<&str> = HEADLINES.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "report.headlines.{key}: not a headline figure ({})",
                    known.join(", ")
                ));
            };
            let order = match (t.green, t.amber, better) {
                (Some(_), None, _) | (None, Some(_), _) => {
                    return Err(format!(
                        "report.headlines.{key}: give both green and amber, or neither"
                    ));
                }
                (Some(g), Some(a), Better::Higher) => g >= a,
                (Some(g), Some(a), _) => g <= a,
                (None, None, _) => true,
            };
            if !order {
                let which = match better {
                    Better::Higher => "higher is better, so green must be at least amber",
                    _ => "lower is better, so green must be at most amber",
                };
                return Err(format!("report.headlines.{key}: {which}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_give_the_status_in_the_figures_direction() {
        let rate = Thresholds {
            target: Some(0.1),
            green: Some(0.15),
            amber: Some(0.3),
        };
        assert_eq!(rate.status(0.15, Better::Lower), Some(Status::Green));
        assert_eq!(rate.status(0.2, Better::Lower), Some(Status::Amber));
        assert_eq!(rate.status(0.31, Better::Lower), Some(Status::Red));
        let sla = Thresholds {
            target: None,
            green: Some(0.95),
            amber: Some(0.9),
        };
        assert_eq!(sla.status(0.92, Better::Higher), Some(Status::Amber));
        let spend = Thresholds {
            target: Some(0.0),
            green: Some(0.05),
            amber: Some(0.1),
        };
        assert_eq!(spend.status(-0.07, Better::NearZero), Some(Status::Amber));
        assert_eq!(Thresholds::default().status(1.0, Better::Higher), None);
    }

    #[test]
    fn unknown_headlines_and_reversed_thresholds_name_the_key() {
        let parse = |text: &str| -> Result<ReportSettings, String> {
            let settings: ReportSettings = toml::from_str(text).map_err(|e| e.to_string())?;
            settings.validate().map(|()| settings)
        };
        assert_eq!(
            parse("[headlines.speed]\ngreen = 1.0\namber = 2.0\n").unwrap_err(),
            "report.headlines.speed: not a headline figure (spend_vs_budget_ytd, portfolio_npv, risk_adjusted_npv_p50, benefit_realization, lead_time_p85, throughput, change_failure_rate, time_to_restore, incident_cost, sla_attainment, data_quality)"
        );
        assert_eq!(
            parse("[headlines.sla_attainment]\ngreen = 0.9\namber = 0.95\n").unwrap_err(),
            "report.headlines.sla_attainment: higher is better, so green must be at least amber"
        );
        assert_eq!(
            parse("[headlines.throughput]\ngreen = 10.0\n").unwrap_err(),
            "report.headlines.throughput: give both green and amber, or neither"
        );
        let ok = parse("language = \"zh\"\ncompany = \"Acme\"\n").unwrap();
        assert_eq!(ok.language, Lang::Zh);
    }
}
