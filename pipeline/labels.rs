//! The words of the pack, in every language it is written in, keyed by name: sheet names,
//! titles, table headers, chart titles and series, statuses, the metric tables' headers and
//! definitions, and the sentences stored with the figures ([`explained`]: reasons and notes). The words live in one catalogue per language, `labels/en.toml` and
//! `labels/zh.toml`, which a translator edits without reading Rust; they are compiled into the
//! binary. A test fails when a key is in one catalogue and not the other, or a key the code uses
//! is in neither.
//!
//! In: the catalogues. Out: [`Words`] (a key), which the report turns into text for a [`Lang`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Declares words of a module, each a key of the catalogues (`NAME = "section.key";`, doc
/// comments allowed), and `ALL`, every one of them, for the test that both catalogues have them:
/// a key declared here cannot be left out of that test.
macro_rules! words {
    ($($(#[$attr:meta])* $name:ident = $key:literal;)*) => {
        $($(#[$attr])* pub const $name: $crate::labels::Words = $crate::labels::Words::key($key);)*

        /// Every key above, for the test that both catalogues have them.
        #[cfg(test)]
        pub(crate) const ALL: &[$crate::labels::Words] = &[$($name),*];
    };
}

pub mod explained;
pub mod scenarios;

/// A language the pack can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// Every language, for the checks that the catalogues agree.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The language's code, as `--lang` and `report.language` take it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// The catalogues' text, compiled in.
const CATALOGUES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../labels/en.toml")),
    (Lang::Zh, include_str!("../labels/zh.toml")),
];

/// Every text of `lang`, by its dotted key (`pack.summary`, `figure.flow_trend.wip.header`).
pub fn catalogue(lang: Lang) -> &'static BTreeMap<String, String> {
    static PARSED: OnceLock<[BTreeMap<String, String>; 2]> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| CATALOGUES.map(|(_, text)| flatten(text)));
    &parsed[lang as usize]
}

/// A catalogue's TOML as dotted keys; a catalogue that does not parse is a defect of the build
/// (its test fails), so it reads as empty here rather than stopping a run.
fn flatten(text: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
        match value {
            toml::Value::Table(table) => {
                for (key, value) in table {
                    let key = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&key, value, out);
                }
            }
            toml::Value::String(text) => {
                out.insert(prefix.to_string(), text.clone());
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(value) = text.parse::<toml::Table>() {
        walk("", &toml::Value::Table(value), &mut out);
    }
    out
}

/// The text of `key` in `lang`, if the catalogue has it.
pub fn text(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang).get(key).map(String::as_str)
}

/// One text, by its key in the catalogues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub key: &'static str,
}

impl Words {
    /// The words under `key` (`pack.summary`).
    pub const fn key(key: &'static str) -> Words {
        Words { key }
    }

    /// The text in `lang`; English where `lang`'s catalogue lacks it, and the key itself where
    /// both do (the catalogue tests make both impossible).
    pub fn get(self, lang: Lang) -> &'static str {
        text(lang, self.key)
            .or_else(|| text(Lang::En, self.key))
            .unwrap_or(self.key)
    }

    /// The text in `lang` with `{name}` placeholders filled from `values`.
    pub fn fill(self, lang: Lang, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.get(lang).to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

// Sheets.
pub const SUMMARY: Words = Words::key("pack.summary");
pub const PORTFOLIO: Words = Words::key("pack.portfolio");
pub const MONTHLY: Words = Words::key("pack.monthly");
pub const CASH_FLOWS: Words = Words::key("pack.cash_flows");
pub const DATA_QUALITY: Words = Words::key("pack.data_quality");
pub const DEFINITIONS: Words = Words::key("pack.definitions");
pub const RUN_INFO: Words = Words::key("pack.run_info");
pub const VALUE_STREAM: Words = Words::key("pack.value_stream");
pub const DELIVERY: Words = Words::key("pack.delivery");
pub const RELIABILITY: Words = Words::key("pack.reliability");

// Titles; {period}, {currency}, {run_id} and {rejects} are filled in.
pub const SUMMARY_TITLE: Words = Words::key("pack.summary_title");
pub const DOCUMENT_SUBJECT: Words = Words::key("pack.document_subject");
pub const DECISIONS: Words = Words::key("pack.decisions");
pub const PORTFOLIO_TITLE: Words = Words::key("pack.portfolio_title");
pub const MONTHLY_TITLE: Words = Words::key("pack.monthly_title");
pub const CASH_FLOWS_TITLE: Words = Words::key("pack.cash_flows_title");
pub const CASH_FLOWS_NOTE: Words = Words::key("pack.cash_flows_note");
pub const NET_CASH_FLOW: Words = Words::key("pack.net_cash_flow");
pub const COSTS: Words = Words::key("pack.costs");
pub const BENEFITS: Words = Words::key("pack.benefits");
pub const INVESTMENT: Words = Words::key("pack.investment");
pub const NAME: Words = Words::key("pack.name");
pub const ACTUAL_MONTH: Words = Words::key("pack.actual_month");
pub const PLAN_MONTH: Words = Words::key("pack.plan_month");
pub const VALUE_STREAM_TITLE: Words = Words::key("pack.value_stream_title");
pub const DELIVERY_TITLE: Words = Words::key("pack.delivery_title");
pub const RELIABILITY_TITLE: Words = Words::key("pack.reliability_title");
pub const FLOW_BY_STREAM: Words = Words::key("pack.flow_by_stream");
pub const FUNNEL: Words = Words::key("pack.funnel");
pub const OLDEST_WIP: Words = Words::key("pack.oldest_wip");
pub const FLOW_TREND: Words = Words::key("pack.flow_trend");
pub const DORA_BY_LEVEL: Words = Words::key("pack.dora_by_level");
pub const DELIVERY_TREND: Words = Words::key("pack.delivery_trend");
pub const FAILED_DEPLOYMENTS: Words = Words::key("pack.failed_deployments");
pub const SERVICE_LEVELS: Words = Words::key("pack.service_levels");
pub const TIME_QUADRANT: Words = Words::key("pack.time_quadrant");
pub const BY_SEVERITY: Words = Words::key("pack.by_severity");
pub const COST_BY_INVESTMENT: Words = Words::key("pack.cost_by_investment");
pub const PROBLEMS: Words = Words::key("pack.problems");
pub const RELIABILITY_TREND: Words = Words::key("pack.reliability_trend");
pub const DATA_QUALITY_TITLE: Words = Words::key("pack.data_quality_title");
pub const DEFINITIONS_TITLE: Words = Words::key("pack.definitions_title");
pub const RUN_INFO_TITLE: Words = Words::key("pack.run_info_title");
pub const MODEL_SHEET_TITLE: Words = Words::key("pack.model_sheet_title");

// The Summary's headline figures, their details and statuses.
pub const H_SPEND: Words = Words::key("pack.h_spend");
pub const H_NPV: Words = Words::key("pack.h_npv");
pub const H_NPV_P50: Words = Words::key("pack.h_npv_p50");
pub const H_BENEFITS: Words = Words::key("pack.h_benefits");
pub const H_LEAD_TIME: Words = Words::key("pack.h_lead_time");
pub const H_THROUGHPUT: Words = Words::key("pack.h_throughput");
pub const H_FAILURE_RATE: Words = Words::key("pack.h_failure_rate");
pub const H_RESTORE: Words = Words::key("pack.h_restore");
pub const H_INCIDENT_COST: Words = Words::key("pack.h_incident_cost");
pub const H_SLA: Words = Words::key("pack.h_sla");
pub const H_DATA_QUALITY: Words = Words::key("pack.h_data_quality");
pub const H_NOT_COMPUTED: Words = Words::key("pack.h_not_computed");
pub const H_SPEND_DETAIL: Words = Words::key("pack.h_spend_detail");
pub const H_SUM_DETAIL: Words = Words::key("pack.h_sum_detail");
pub const H_BENEFITS_DETAIL: Words = Words::key("pack.h_benefits_detail");
pub const H_FROM: Words = Words::key("pack.h_from");
pub const H_EMPTY: Words = Words::key("pack.h_empty");
pub const H_QUALITY_DETAIL: Words = Words::key("pack.h_quality_detail");
pub const GREEN: Words = Words::key("pack.green");
pub const AMBER: Words = Words::key("pack.amber");
pub const RED: Words = Words::key("pack.red");
pub const NO_STATUS: Words = Words::key("pack.no_status");
pub const THIS_MONTH: Words = Words::key("pack.this_month");
pub const PREVIOUS_MONTH: Words = Words::key("pack.previous_month");
pub const TARGET: Words = Words::key("pack.target");
pub const HOW: Words = Words::key("pack.how");

// Charts.
pub const ACTUAL_VS_BUDGET: Words = Words::key("pack.actual_vs_budget");
pub const CHART_FUNNEL: Words = Words::key("pack.chart_funnel");
pub const CHART_CUMULATIVE_FLOW: Words = Words::key("pack.chart_cumulative_flow");
pub const CHART_LEAD_TIME: Words = Words::key("pack.chart_lead_time");
pub const CHART_FAILURE_RATE: Words = Words::key("pack.chart_failure_rate");
pub const CHART_INCIDENT_COST: Words = Words::key("pack.chart_incident_cost");
pub const CHART_ERROR_BUDGET: Words = Words::key("pack.chart_error_budget");
pub const ERROR_BUDGET_MOST: Words = Words::key("pack.error_budget_most");
pub const CHART_PORTFOLIO_MAP: Words = Words::key("pack.chart_portfolio_map");
pub const PORTFOLIO_MAP_DATA: Words = Words::key("pack.portfolio_map_data");
pub const CHART_NPV_RANGE: Words = Words::key("pack.chart_npv_range");
pub const NPV_RANGE_DATA: Words = Words::key("pack.npv_range_data");
pub const DEMANDS: Words = Words::key("pack.demands");
pub const DAYS: Words = Words::key("pack.days");
pub const SHARE: Words = Words::key("pack.share");
pub const ACTUAL: Words = Words::key("pack.actual");
pub const BUDGET: Words = Words::key("pack.budget");

// Headings within sheets.
pub const INPUT_FILES: Words = Words::key("pack.input_files");
pub const REJECTED_VALUES: Words = Words::key("pack.rejected_values");
pub const REJECTED_VALUES_CUT: Words = Words::key("pack.rejected_values_cut");
pub const LEFT_OUT: Words = Words::key("pack.left_out");
pub const MODELS: Words = Words::key("pack.models");
pub const DATA_TESTS: Words = Words::key("pack.data_tests");

// Definitions sheet headers.
pub const FIGURE: Words = Words::key("pack.figure");
pub const COLUMN_IN_METRICS: Words = Words::key("pack.column_in_metrics");
pub const DEFINITION: Words = Words::key("pack.definition");
pub const WHEN_EMPTY: Words = Words::key("pack.when_empty");
pub const UNIT: Words = Words::key("pack.unit");
pub const SOURCES: Words = Words::key("pack.sources");
pub const UNIT_TEXT: Words = Words::key("pack.unit_text");
pub const UNIT_MONEY: Words = Words::key("pack.unit_money");
pub const UNIT_PERCENT: Words = Words::key("pack.unit_percent");
pub const UNIT_RATIO: Words = Words::key("pack.unit_ratio");
pub const UNIT_INTEGER: Words = Words::key("pack.unit_integer");
pub const UNIT_NUMBER: Words = Words::key("pack.unit_number");
pub const UNIT_MONTH: Words = Words::key("pack.unit_month");
pub const UNIT_DATE: Words = Words::key("pack.unit_date");
pub const UNIT_DATETIME: Words = Words::key("pack.unit_datetime");

// Run Info rows.
pub const RUN_ID: Words = Words::key("pack.run_id");
pub const PERIOD: Words = Words::key("pack.period");
pub const STARTED_UTC: Words = Words::key("pack.started_utc");
pub const VERSION: Words = Words::key("pack.version");
pub const CONFIGURATION: Words = Words::key("pack.configuration");
pub const WAREHOUSE: Words = Words::key("pack.warehouse");
pub const REPORTING_CURRENCY: Words = Words::key("pack.reporting_currency");
pub const INPUTS: Words = Words::key("pack.inputs");
pub const REJECTS: Words = Words::key("pack.rejects");
pub const FX_RATES: Words = Words::key("pack.fx_rates");
pub const FAILED_OUTSIDE: Words = Words::key("pack.failed_outside");
pub const NOTHING: Words = Words::key("pack.nothing");
pub const NO_AMOUNTS: Words = Words::key("pack.no_amounts");
pub const NONE: Words = Words::key("pack.none");

// Column headers of the Data Quality and Run Info tables.
pub const SOURCE: Words = Words::key("pack.source");
pub const ENTITY: Words = Words::key("pack.entity");
pub const ROWS: Words = Words::key("pack.rows");
pub const LOADED: Words = Words::key("pack.loaded");
pub const REJECTED: Words = Words::key("pack.rejected");
pub const SUPERSEDED: Words = Words::key("pack.superseded");
pub const COMPLETENESS: Words = Words::key("pack.completeness");
pub const ACCURACY: Words = Words::key("pack.accuracy");
pub const INTEGRITY: Words = Words::key("pack.integrity");
pub const REJECT_RATE: Words = Words::key("pack.reject_rate");
pub const THRESHOLD: Words = Words::key("pack.threshold");
pub const VERDICT: Words = Words::key("pack.verdict");
pub const FILE: Words = Words::key("pack.file");
pub const ROWS_READ: Words = Words::key("pack.rows_read");
pub const ROWS_LOADED: Words = Words::key("pack.rows_loaded");
pub const ROWS_REJECTED: Words = Words::key("pack.rows_rejected");
pub const SHA256: Words = Words::key("pack.sha256");
pub const LOCATION: Words = Words::key("pack.location");
pub const ROW_KEY: Words = Words::key("pack.row_key");
pub const COLUMN: Words = Words::key("pack.column");
pub const VALUE: Words = Words::key("pack.value");
pub const RULE_BROKEN: Words = Words::key("pack.rule_broken");
pub const MODEL: Words = Words::key("pack.model");
pub const STATUS: Words = Words::key("pack.status");
pub const MATERIALIZED: Words = Words::key("pack.materialized");
pub const TIME_MS: Words = Words::key("pack.time_ms");
pub const MESSAGE: Words = Words::key("pack.message");
pub const TEST: Words = Words::key("pack.test");
pub const SEVERITY: Words = Words::key("pack.severity");
pub const FAILING_ROWS: Words = Words::key("pack.failing_rows");
pub const KIND: Words = Words::key("pack.kind");
pub const FAILING_ROWS_KEPT_IN: Words = Words::key("pack.failing_rows_kept_in");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fill_their_placeholders_in_each_language() {
        let title = PORTFOLIO_TITLE.fill(Lang::En, &[("period", "2026-10"), ("currency", "EUR")]);
        assert_eq!(title, "Portfolio as of 2026-10 (amounts in EUR)");
        assert_eq!(
            PORTFOLIO_TITLE.fill(Lang::Zh, &[("period", "2026-10"), ("currency", "EUR")]),
            "投资组合，截至 2026-10（金额单位：EUR）"
        );
    }

    #[test]
    fn both_catalogues_parse_and_hold_the_same_keys() {
        for (lang, text) in CATALOGUES {
            text.parse::<toml::Table>()
                .unwrap_or_else(|e| panic!("labels/{}.toml: {e}", lang.code()));
        }
        let en: Vec<&String> = catalogue(Lang::En).keys().collect();
        let zh: Vec<&String> = catalogue(Lang::Zh).keys().collect();
        let only = |a: &[&String], b: &[&String]| -> Vec<String> {
            a.iter()
                .filter(|k| !b.contains(k))
                .map(|k| k.to_string())
                .collect()
        };
        assert_eq!(only(&en, &zh), Vec::<String>::new(), "keys only in en.toml");
        assert_eq!(only(&zh, &en), Vec::<String>::new(), "keys only in zh.toml");
        // Every placeholder of a text is in its translation too.
        let braces = |t: &str| -> Vec<String> {
            let mut found: Vec<String> = t
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            found.sort();
            found
        };
        for key in en {
            assert_eq!(
                braces(&catalogue(Lang::En)[key]),
                braces(&catalogue(Lang::Zh)[key]),
                "{key}: the placeholders differ"
            );
        }
    }
}
