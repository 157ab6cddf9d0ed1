//! The pipeline configuration (`pipeline.toml`): reporting currency, default discount rate, where
//! the warehouse, the reports and the SQL models live, and one `[[source]]` per input.
//!
//! In: a TOML file. Out: a validated [`Config`] whose paths are resolved against the file's
//! folder. Unknown keys and bad values are errors that name the key and the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

pub mod metrics;
pub mod report;
pub mod scenario;
mod schedule;
mod sheet;
mod source;

pub use schedule::{JobRun, ScheduledJob};
pub use sheet::{ColumnFormat, FIXED_SHEETS, MAX_SHEET_NAME, ModelConfig, ModelSheet};
pub use source::{
    ColumnRules, DEFAULT_MAX_REJECT_RATE, DatabaseSource, LatestRow, OverThreshold, Relation,
    SheetRef, Source, SourceKind,
};

/// The validated configuration of one pipeline.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration was read from.
    pub path: PathBuf,
    /// ISO 4217 code every amount is converted into (e.g. `EUR`).
    pub reporting_currency: String,
    /// The discount rate for investments that do not carry their own.
    pub default_discount_rate: f64,
    /// The IANA time zone that database timestamps are converted into (default `UTC`).
    pub timezone: String,
    /// The DuckDB warehouse file.
    pub warehouse: PathBuf,
    /// How much memory DuckDB may use for its cache and the models' work while a run writes the
    /// warehouse, as DuckDB reads it (`512MB`, `2GiB`); beyond it DuckDB evicts and spills to
    /// disk.
    pub warehouse_memory: String,
    /// The folder under which each period's pack is written (`<reports>/<YYYY-MM>/`).
    pub reports: PathBuf,
    /// The folder under which each period's Parquet extracts are written
    /// (`<exports>/<YYYY-MM>/`; default: `exports` beside the warehouse).
    pub exports: PathBuf,
    /// The folder of SQL models.
    pub models: PathBuf,
    /// Chart rendering settings.
    pub charts: ChartSettings,
    /// How amounts in months without an FX rate are converted.
    pub fx: FxSettings,
    /// Every weight, threshold, window and seed of the figure families (`[metrics]`).
    pub metrics: metrics::MetricsConfig,
    /// The pack's language, company and headline targets (`[report]`).
    pub report: report::ReportSettings,
    /// Bounds on what one input file may make itvalue allocate.
    pub limits: Limits,
    /// The inputs, in the order given.
    pub sources: Vec<Source>,
    /// Models shown as extra workbook sheets, in the order given.
    pub sheets: Vec<ModelSheet>,
    /// Per-model settings (`[model.<name>]`), overriding the models' headers.
    pub model_settings: BTreeMap<String, ModelConfig>,
    /// The jobs of `itvalue schedule` (`[[schedule]]`), in the order given.
    pub schedules: Vec<ScheduledJob>,
}

/// Bounds that keep a hostile or broken input from exhausting memory. They are checked before
/// anything is inflated or allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest uncompressed size a workbook's parts may declare, in total, in bytes.
    pub max_uncompressed_bytes: u64,
    /// The largest ratio of uncompressed to compressed size of any part over 1 MiB.
    pub max_compression_ratio: u64,
    /// The most non-empty cells one sheet or file may hold.
    pub max_cells: u64,
    /// The most text, in bytes, the cells of one sheet or file may expand to, counting a shared
    /// string once for each cell that shows it.
    pub max_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_uncompressed_bytes: 2 << 30,
            max_compression_ratio: 200,
            max_cells: 50_000_000,
            max_text_bytes: 512 << 20,
        }
    }
}

/// What converts an amount whose currency has no rate for its month (future budget and forecast
/// lines, typically).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingRate {
    /// The latest rate known for the currency in an earlier month (the default).
    #[default]
    Latest,
    /// The currency's rate in `fx.budget_rates`.
    Budget,
    /// No rate: the line's figures are empty, and Run Info counts them.
    None,
}

impl MissingRate {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingRate::Latest => "latest",
            MissingRate::Budget => "budget",
            MissingRate::None => "none",
        }
    }
}

/// The FX rate policy (`[fx]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxSettings {
    /// What converts an amount in a month without a rate for its currency.
    #[serde(default)]
    pub missing_rate: MissingRate,
    /// Per currency, the budget rate into the reporting currency (`USD = 0.92`).
    #[serde(default)]
    pub budget_rates: BTreeMap<String, f64>,
}

/// How chart images are drawn.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSettings {
    /// A TrueType font for chart text; when absent, common system locations are searched.
    pub font: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    reporting_currency: String,
    default_discount_rate: f64,
    timezone: Option<String>,
    warehouse: PathBuf,
    warehouse_memory: Option<String>,
    reports: PathBuf,
    exports: Option<PathBuf>,
    #[serde(default = "default_models")]
    models: PathBuf,
    #[serde(default)]
    charts: ChartSettings,
    #[serde(default)]
    fx: FxSettings,
    #[serde(default)]
    metrics: metrics::MetricsConfig,
    #[serde(default)]
    report: report::ReportSettings,
    #[serde(default)]
    limits: Limits,
    #[serde(default, rename = "source")]
    sources: Vec<source::RawSource>,
    #[serde(default, rename = "sheet")]
    sheets: Vec<sheet::RawSheet>,
    #[serde(default, rename = "scenario")]
    scenarios: Vec<scenario::RawScenario>,
    #[serde(default, rename = "model")]
    model_settings: BTreeMap<String, ModelConfig>,
    #[serde(default, rename = "schedule")]
    schedules: Vec<schedule::RawJob>,
}

/// DuckDB's memory during a run unless `warehouse_memory` says otherwise. DuckDB's own default
/// is 80% of the machine's memory, which it then keeps as a cache of everything the run wrote:
/// at scale 10 of the sample (resident memory sampled every 20 ms) the models step holds about
/// 300 MiB with this bound against 480 MiB without, and the run's peak drops by about 45 MiB, at
/// the same speed, since what DuckDB evicts is in the file anyway.
pub const DEFAULT_WAREHOUSE_MEMORY: &str = "512MB";

/// The least `warehouse_memory` may be, in bytes: below it DuckDB cannot build the models.
const LEAST_WAREHOUSE_MEMORY: f64 = 64.0 * 1_000_000.0;

/// A size as DuckDB's `memory_limit` reads it: a number and a unit (`512MB`, `1.5GiB`).
fn memory_size(text: &str) -> std::result::Result<String, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim();
    let scale = match unit.to_ascii_lowercase().as_str() {
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(
                "expected a number and a unit: KB, MB, GB, TB, KiB, MiB, GiB or TiB (\"512MB\")"
                    .to_string(),
            );
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "expected a number before the unit (\"512MB\")".to_string())?;
    if value * scale < LEAST_WAREHOUSE_MEMORY {
        return Err("below the least DuckDB needs to build the models, 64MB".to_string());
    }
    Ok(format!("{number}{unit}"))
}

fn default_models() -> PathBuf {
    PathBuf::from("sql")
}

impl Config {
    /// Reads and validates the configuration at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the file and the key when the file cannot be read, is not valid
    /// TOML, has an unknown key, or holds a value outside its rules.
    ///
    /// # Example
    ///
    /// ```no_run
    /// let config = itvalue::Config::load("pipeline.toml".as_ref())?;
    /// println!("{} sources", config.sources.len());
    /// # Ok::<(), itvalue::Error>(())
    /// ```
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read the file: {e}"),
        })?;
        let config = Config::parse(&text, path)?;
        config.check_folders()?;
        Ok(config)
    }

    /// Checks that the folders the configuration names exist, before anything is read.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the key (`models`) and the folder.
    pub fn check_folders(&self) -> Result<()> {
        if !self.models.is_dir() {
            return Err(Error::Config {
                path: self.path.clone(),
                message: format!(
                    "models: the folder {} does not exist; point `models` at the folder of SQL models (the shipped ones are in sql/)",
                    self.models.display()
                ),
            });
        }
        Ok(())
    }

    /// Validates configuration text as if it had been read from `path`.
    ///
    /// # Errors
    ///
    /// As for [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let fail = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let currency = &raw.reporting_currency;
        let iso = |code: &str| crate::contract::ISO_4217.binary_search(&code).is_ok();
        if !iso(currency) {
            return Err(fail(format!(
                "reporting_currency = {currency:?}: expected a three-letter ISO 4217 code such as \"EUR\""
            )));
        }
        for (code, rate) in &raw.fx.budget_rates {
            if !iso(code) {
                return Err(fail(format!(
                    "fx.budget_rates.{code}: not an ISO 4217 currency code (write it in capitals, such as USD)"
                )));
            }
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(fail(format!(
                    "fx.budget_rates.{code} = {rate}: a rate must be greater than 0"
                )));
            }
        }
        raw.metrics.validate().map_err(&fail)?;
        raw.report.validate().map_err(&fail)?;
        if raw.fx.missing_rate == MissingRate::Budget && raw.fx.budget_rates.is_empty() {
            return Err(fail(
                "fx.missing_rate = \"budget\": give the budget rates in fx.budget_rates (USD = 0.92)"
                    .to_string(),
            ));
        }
        let rate = raw.default_discount_rate;
        if !(0.0..1.0).contains(&rate) {
            return Err(fail(format!(
                "default_discount_rate = {rate}: expected a yearly rate from 0 up to 1 (0.08 for 8%)"
            )));
        }

        let timezone = raw.timezone.clone().unwrap_or_else(|| "UTC".to_string());
        source::check_timezone("timezone", &timezone).map_err(&fail)?;
        let warehouse_memory = match &raw.warehouse_memory {
            Some(size) => {
                memory_size(size).map_err(|m| fail(format!("warehouse_memory = {size:?}: {m}")))?
            }
            None => DEFAULT_WAREHOUSE_MEMORY.to_string(),
        };

        let mut sources = Vec::with_capacity(raw.sources.len());
        for (i, s) in raw.sources.into_iter().enumerate() {
            let source = source::validate(s, i, &resolve).map_err(&fail)?;
            if sources.iter().any(|o: &Source| o.name == source.name) {
                return Err(fail(format!(
                    "source[{i}]: name {:?} is used by another source; names must be unique",
                    source.name
                )));
            }
            sources.push(source);
        }

        let mut sheets: Vec<ModelSheet> = Vec::with_capacity(raw.sheets.len());
        for (i, s) in raw.sheets.into_iter().enumerate() {
            let sheet = sheet::validate(s, i, &sheets).map_err(&fail)?;
            sheets.push(sheet);
        }
        let mut metrics = raw.metrics;
        for (i, s) in raw.scenarios.into_iter().enumerate() {
            let scenario = scenario::validate(s, i, &metrics.scenarios, &sheets).map_err(&fail)?;
            metrics.scenarios.push(scenario);
        }
        for (name, settings) in &raw.model_settings {
            if let Some(m) = &settings.materialized
                && !["table", "view", "incremental"].contains(&m.as_str())
            {
                return Err(fail(format!(
                    "model.{name}.materialized = {m:?}: expected \"table\", \"view\" or \"incremental\""
                )));
            }
        }

        let mut schedules: Vec<ScheduledJob> = Vec::with_capacity(raw.schedules.len());
        for (i, job) in raw.schedules.into_iter().enumerate() {
            let job = schedule::validate(job, i, &timezone, &sources, &schedules).map_err(&fail)?;
            schedules.push(job);
        }

        Ok(Config {
            path: path.to_path_buf(),
            reporting_currency: raw.reporting_currency,
            default_discount_rate: rate,
            timezone,
            warehouse: resolve(&raw.warehouse),
            warehouse_memory,
            reports: resolve(&raw.reports),
            exports: raw.exports.as_deref().map_or_else(
                || {
                    resolve(&raw.warehouse)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .join("exports")
                },
                resolve,
            ),
            models: resolve(&raw.models),
            charts: ChartSettings {
                font: raw.charts.font.as_deref().map(resolve),
            },
            fx: raw.fx,
            metrics,
            report: raw.report,
            limits: raw.limits,
            sources,
            sheets,
            model_settings: raw.model_settings,
            schedules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
reporting_currency = "EUR"
default_discount_rate = 0.08
warehouse = "w.duckdb"
reports = "reports"
"#;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/itvalue/pipeline.toml"))
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn warehouse_memory_is_a_size_duckdb_reads_and_at_least_64_mb() {
        assert_eq!(parse(MINIMAL).unwrap().warehouse_memory, "512MB");
        let with = |size: &str| parse(&format!("{MINIMAL}warehouse_memory = \"{size}\"\n"));
        assert_eq!(with(" 1.5 GiB ").unwrap().warehouse_memory, "1.5GiB");
        assert_eq!(with("64MB").unwrap().warehouse_memory, "64MB");
        assert!(with("63MB").unwrap_err().to_string().ends_with(
            "warehouse_memory = \"63MB\": below the least DuckDB needs to build the models, 64MB"
        ));
        assert!(with("lots").unwrap_err().to_string().ends_with(
            "warehouse_memory = \"lots\": expected a number and a unit: KB, MB, GB, TB, KiB, MiB, GiB or TiB (\"512MB\")"
        ));
        assert!(
            with("512")
                .unwrap_err()
                .to_string()
                .contains("expected a number and a unit")
        );
        assert!(with("1.2.3GB").unwrap_err().to_string().ends_with(
            "warehouse_memory = \"1.2.3GB\": expected a number before the unit (\"512MB\")"
        ));
    }

    #[test]
    fn paths_resolve_against_the_configuration_folder() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.warehouse, Path::new("/etc/itvalue/w.duckdb"));
        assert_eq!(config.models, Path::new("/etc/itvalue/sql"));
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        let m = message(&format!("{MINIMAL}colour = \"blue\"\n"));
        assert!(
            m.starts_with("configuration /etc/itvalue/pipeline.toml: "),
            "{m}"
        );
        assert!(m.contains("unknown field `colour`"), "{m}");
    }

    #[test]
    fn unknown_entity_lists_the_entities() {
        let m = message(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"cost\"\npath = \"c.xlsx\"\n"
        ));
        assert!(m.contains("unknown variant `cost`"), "{m}");
        assert!(m.contains("`costs`"), "{m}");
    }

    #[test]
    fn column_mapping_to_a_column_the_entity_lacks_is_refused() {
        let m = message(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.xlsx\"\n[source.columns]\nammount = \"Amount\"\n"
        ));
        assert_eq!(
            m,
            "configuration /etc/itvalue/pipeline.toml: source[0] (c): columns.ammount: entity costs has no column `ammount`; its columns are: investment_id, period, scenario, amount, currency, cost_type, cost_pool, line_id"
        );
    }

    #[test]
    fn bad_currency_and_rate_are_refused_with_the_rule() {
        let m = message(&MINIMAL.replace("\"EUR\"", "\"euro\""));
        assert!(
            m.contains("reporting_currency = \"euro\": expected a three-letter ISO 4217 code"),
            "{m}"
        );
        let m = message(&MINIMAL.replace("0.08", "8"));
        assert!(
            m.contains("default_discount_rate = 8: expected a yearly rate"),
            "{m}"
        );
    }

    #[test]
    fn duplicate_source_names_are_refused() {
        let source = "[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.xlsx\"\n";
        let m = message(&format!("{MINIMAL}{source}{source}"));
        assert!(
            m.contains("source[1]: name \"c\" is used by another source"),
            "{m}"
        );
    }

    #[test]
    fn kind_comes_from_the_extension_and_aliases_take_one_or_many() {
        let config = parse(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.ODS\"\n[source.columns]\namount = \"金额\"\nperiod = [\"Month\", \"期间\"]\n"
        ))
        .unwrap();
        let s = &config.sources[0];
        assert_eq!(s.kind, SourceKind::Ods);
        assert_eq!(s.columns["amount"], vec!["金额"]);
        assert_eq!(s.columns["period"], vec!["Month", "期间"]);
    }

    fn source_message(extra: &str) -> String {
        message(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.csv\"\n{extra}"
        ))
    }

    #[test]
    fn reading_rules_are_validated_with_the_key_named() {
        assert!(
            source_message("[source.rules.amount]\ndecimal = \";\"\n")
                .ends_with("source[0] (c): rules.amount.decimal = ';': expected \".\" or \",\""),
            "{}",
            source_message("[source.rules.amount]\ndecimal = \";\"\n")
        );
        assert!(
            source_message("[source.rules.amount]\ndecimal = \",\"\nthousands = \",\"\n")
                .ends_with("rules.amount.thousands = ',': it is also the decimal separator")
        );
        assert!(
            source_message("[source.rules.period]\nformats = [\"%Q\"]\n")
                .ends_with("rules.period.formats: \"%Q\" is not a valid chrono format")
        );
        assert!(
            source_message("[source.rules.amont]\n")
                .contains("rules.amont: entity costs has no column `amont`")
        );
        assert!(
            source_message("[source.defaults]\ncurency = \"EUR\"\n")
                .contains("defaults.curency: entity costs has no column")
        );
    }

    #[test]
    fn csv_options_belong_to_csv_sources() {
        let m = message(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.xlsx\"\ndelimiter = \";\"\n"
        ));
        assert!(
            m.ends_with("source[0] (c): delimiter: only csv sources have one"),
            "{m}"
        );
        assert!(
            source_message("delimiter = \";;\"\n")
                .contains("delimiter = \";;\": expected one ASCII character")
        );
        assert!(source_message("sheet = \"x\"\n").ends_with("sheet: a csv file has no sheets"));
        assert!(
            source_message("max_reject_rate = 5\n")
                .contains("max_reject_rate = 5: expected a share from 0 to 1")
        );
    }

    #[test]
    fn decimal_comma_implies_a_thousands_point_and_defaults_apply() {
        let config = parse(&format!(
            "{MINIMAL}[[source]]\nname = \"c\"\nentity = \"costs\"\npath = \"c.csv\"\nlatest = {{ key = \"line_id\", by = \"version\" }}\n[source.rules.amount]\ndecimal = \",\"\n"
        ))
        .unwrap();
        let s = &config.sources[0];
        assert_eq!(s.rules_for("amount").thousands, Some('.'));
        assert_eq!(s.rules_for("period").thousands, Some(','));
        assert_eq!(s.delimiter, b',');
        assert_eq!(s.max_reject_rate, DEFAULT_MAX_REJECT_RATE);
        assert_eq!(s.over_threshold, OverThreshold::Fail);
        assert_eq!(s.latest.as_ref().map(|l| l.by.as_str()), Some("version"));
    }

    fn sheet_message(title: &str) -> String {
        message(&format!(
            "{MINIMAL}[[sheet]]\nmodel = \"mart\"\ntitle = {title:?}\n"
        ))
    }

    #[test]
    fn sheet_titles_follow_excel_rules() {
        assert!(
            sheet_message("Incident impact by month and app").ends_with(
                "sheet[0] (Incident impact by month and app): title is 32 characters, over Excel's limit of 31 for a sheet name"
            ),
            "{}",
            sheet_message("Incident impact by month and app")
        );
        assert!(sheet_message("Impact 2026/10").ends_with(
            "sheet[0] (Impact 2026/10): title holds '/', which Excel does not allow in a sheet name ([ ] : * ? / \\)"
        ));
        assert!(sheet_message("run info").ends_with(
            "sheet[0] (run info): title is already the name of sheet \"Run Info\" (Excel compares sheet names without case)"
        ));
        let config = parse(&format!(
            "{MINIMAL}[[sheet]]\nmodel = \"Mart_Impact\"\ntitle = \"Incident impact\"\nwhere = \"period = getvariable('period')\"\n[sheet.formats]\nimpact_minutes = \"integer\"\n"
        ))
        .unwrap();
        assert_eq!(config.sheets[0].model, "mart_impact");
        assert_eq!(
            config.sheets[0].formats["impact_minutes"],
            ColumnFormat::Integer
        );
    }

    #[test]
    fn model_settings_name_the_bad_value() {
        let m = message(&format!(
            "{MINIMAL}[model.mart]\nmaterialized = \"ephemeral\"\n"
        ));
        assert!(
            m.ends_with("model.mart.materialized = \"ephemeral\": expected \"table\", \"view\" or \"incremental\""),
            "{m}"
        );
    }

    fn db_message(extra: &str) -> String {
        message(&format!(
            "{MINIMAL}[[source]]\nname = \"sd\"\nentity = \"incidents\"\nkind = \"postgres\"\n{extra}"
        ))
    }

    #[test]
    fn database_sources_keep_secrets_out_and_name_what_is_missing() {
        assert!(db_message("table = \"incidents\"\n").ends_with(
            "source[0] (sd): connection_env is missing: name the environment variable that holds the connection string (it is never written in this file)"
        ));
        assert!(db_message("connection_env = \"postgresql://u:pw@h/db\"\ntable = \"t\"\n")
            .contains("connection_env: give the name of an environment variable, not the connection string itself"));
        assert!(
            db_message("connection_env = \"SD_URL\"\n")
                .ends_with("source[0] (sd): give table or query")
        );
        assert!(
            db_message("connection_env = \"SD_URL\"\ntable = \"t; DROP TABLE x\"\n")
                .contains("table = \"t; DROP TABLE x\": expected a table name")
        );
        assert!(db_message("connection_env = \"SD_URL\"\ntable = \"t\"\nsource_timezone = \"Mars/Olympus\"\n")
            .ends_with("source_timezone = \"Mars/Olympus\": not a time zone; use an IANA name such as \"Europe/Berlin\" or \"UTC\""));
        assert!(
            db_message("connection_env = \"SD_URL\"\ntable = \"t\"\npath = \"x.xlsx\"\n")
                .ends_with("path: a postgres source reads a table or query, not a file")
        );
        assert!(
            source_message("table = \"t\"\n")
                .ends_with("source[0] (c): table: only postgres and mysql sources have one")
        );
        let config = parse(&format!(
            "{MINIMAL}timezone = \"Europe/Berlin\"\n[[source]]\nname = \"sd\"\nentity = \"incidents\"\nkind = \"mysql\"\nconnection_env = \"SD_URL\"\ntable = \"servicedesk.incidents\"\nwatermark = \"updated_at\"\n"
        ))
        .unwrap();
        let db = config.sources[0].database.as_ref().unwrap();
        assert_eq!(db.relation, Relation::Table("servicedesk.incidents".into()));
        assert_eq!(
            (db.batch_rows, db.retries, db.source_timezone.as_str()),
            (5000, 3, "UTC")
        );
        assert_eq!(config.timezone, "Europe/Berlin");
        assert_eq!(db.watermark_lag_seconds, 0);
    }

    #[test]
    fn a_watermark_lag_is_a_duration_with_units_and_needs_a_watermark() {
        let lag = |text: &str| {
            parse(&format!(
                "{MINIMAL}[[source]]\nname = \"sd\"\nentity = \"incidents\"\nkind = \"postgres\"\nconnection_env = \"SD_URL\"\ntable = \"t\"\nwatermark = \"updated_at\"\nwatermark_lag = \"{text}\"\n"
            ))
            .map(|c| c.sources[0].database.as_ref().unwrap().watermark_lag_seconds)
            .map_err(|e| e.to_string())
        };
        assert_eq!(lag("90s"), Ok(90));
        assert_eq!(lag("2h"), Ok(7_200));
        assert_eq!(lag("1d"), Ok(86_400));
        assert_eq!(lag("1d12h30m"), Ok(131_400));
        assert_eq!(lag("0s"), Ok(0));
        assert_eq!(lag("366d"), Ok(31_622_400));
        for wrong in ["2", "h", "2 hours", "30m1h", "1h1h", "-1h", ""] {
            let message = lag(wrong).unwrap_err();
            assert!(
                message.contains(&format!("source[0] (sd): watermark_lag = \"{wrong}\": expected a duration such as \"30m\", \"2h\", \"1d\" or \"1d12h\" (units d, h, m, s)")),
                "{wrong}: {message}"
            );
        }
        assert!(lag("367d").unwrap_err().ends_with(
            "watermark_lag = \"367d\": at most 366d; for more, run with --full-refresh"
        ));
        let message = parse(&format!(
            "{MINIMAL}[[source]]\nname = \"sd\"\nentity = \"incidents\"\nkind = \"postgres\"\nconnection_env = \"SD_URL\"\ntable = \"t\"\nwatermark_lag = \"2h\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            message.ends_with("source[0] (sd): watermark_lag: set a watermark column first; the lag is counted back from its last value"),
            "{message}"
        );
    }
}
