//! The pipeline configuration (`pipeline.toml`): reporting currency, default discount rate, where
//! the warehouse, the reports and the SQL models live, and one `[[source]]` per input.
//!
//! In: a TOML file. Out: a validated [`Config`] whose paths are resolved against the file's
//! folder. Unknown keys and bad values are errors that name the key and the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ingest::contract::Entity;

/// The validated configuration of one pipeline.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration was read from.
    pub path: PathBuf,
    /// ISO 4217 code every amount is converted into (e.g. `EUR`).
    pub reporting_currency: String,
    /// The discount rate for investments that do not carry their own.
    pub default_discount_rate: f64,
    /// The DuckDB warehouse file.
    pub warehouse: PathBuf,
    /// The folder under which each period's pack is written (`<reports>/<YYYY-MM>/`).
    pub reports: PathBuf,
    /// The folder of SQL models.
    pub models: PathBuf,
    /// Chart rendering settings.
    pub charts: ChartSettings,
    /// The inputs, in the order given.
    pub sources: Vec<Source>,
}

/// How chart images are drawn.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSettings {
    /// A TrueType font for chart text; when absent, common system locations are searched.
    pub font: Option<PathBuf>,
}

/// The kind of file a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Xlsx,
    Xlsm,
    Xlsb,
    Xls,
    Ods,
}

impl SourceKind {
    /// The kind a file extension stands for.
    fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "xlsx" => SourceKind::Xlsx,
            "xlsm" => SourceKind::Xlsm,
            "xlsb" => SourceKind::Xlsb,
            "xls" => SourceKind::Xls,
            "ods" => SourceKind::Ods,
            _ => return None,
        })
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Xlsx => "xlsx",
            SourceKind::Xlsm => "xlsm",
            SourceKind::Xlsb => "xlsb",
            SourceKind::Xls => "xls",
            SourceKind::Ods => "ods",
        }
    }
}

/// Which sheet of a workbook a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SheetRef {
    /// By name, as shown on the tab.
    Name(String),
    /// By position, 1 for the first sheet.
    Index(usize),
}

/// One input: a file feeding one entity.
#[derive(Debug, Clone)]
pub struct Source {
    /// A short name, unique in the configuration, used in the ledger and in messages.
    pub name: String,
    pub entity: Entity,
    pub kind: SourceKind,
    pub path: PathBuf,
    /// `None` reads the first sheet.
    pub sheet: Option<SheetRef>,
    /// The 1-based row holding the headers; `None` finds it.
    pub header_row: Option<u32>,
    /// For each entity column, the headers that stand for it. A column that is not listed is
    /// found by its own name.
    pub columns: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    reporting_currency: String,
    default_discount_rate: f64,
    warehouse: PathBuf,
    reports: PathBuf,
    #[serde(default = "default_models")]
    models: PathBuf,
    #[serde(default)]
    charts: ChartSettings,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
}

fn default_models() -> PathBuf {
    PathBuf::from("sql")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: String,
    entity: Entity,
    kind: Option<SourceKind>,
    path: PathBuf,
    sheet: Option<SheetRef>,
    header_row: Option<u32>,
    #[serde(default)]
    columns: BTreeMap<String, Aliases>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Aliases {
    One(String),
    Many(Vec<String>),
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
        Config::parse(&text, path)
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
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(fail(format!(
                "reporting_currency = {currency:?}: expected a three-letter ISO 4217 code such as \"EUR\""
            )));
        }
        let rate = raw.default_discount_rate;
        if !(0.0..1.0).contains(&rate) {
            return Err(fail(format!(
                "default_discount_rate = {rate}: expected a yearly rate from 0 up to 1 (0.08 for 8%)"
            )));
        }

        let mut sources = Vec::with_capacity(raw.sources.len());
        for (i, s) in raw.sources.into_iter().enumerate() {
            let source = validate_source(s, i, &resolve).map_err(&fail)?;
            if sources.iter().any(|o: &Source| o.name == source.name) {
                return Err(fail(format!(
                    "source[{i}]: name {:?} is used by another source; names must be unique",
                    source.name
                )));
            }
            sources.push(source);
        }

        Ok(Config {
            path: path.to_path_buf(),
            reporting_currency: raw.reporting_currency,
            default_discount_rate: rate,
            warehouse: resolve(&raw.warehouse),
            reports: resolve(&raw.reports),
            models: resolve(&raw.models),
            charts: ChartSettings {
                font: raw.charts.font.as_deref().map(resolve),
            },
            sources,
        })
    }
}

fn validate_source(
    raw: RawSource,
    index: usize,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> std::result::Result<Source, String> {
    let at = format!("source[{index}] ({})", raw.name);
    if raw.name.trim().is_empty() {
        return Err(format!("source[{index}]: name must not be empty"));
    }
    let kind = match raw.kind.or_else(|| SourceKind::from_extension(&raw.path)) {
        Some(kind) => kind,
        None => {
            return Err(format!(
                "{at}: kind is missing and the extension of {} does not tell it; set kind to one of xlsx, xlsm, xlsb, xls, ods",
                raw.path.display()
            ));
        }
    };
    if raw.header_row == Some(0) {
        return Err(format!("{at}: header_row = 0: rows are numbered from 1"));
    }
    if raw.sheet == Some(SheetRef::Index(0)) {
        return Err(format!("{at}: sheet = 0: sheets are numbered from 1"));
    }
    let contract = raw.entity.contract();
    let mut columns = BTreeMap::new();
    for (column, aliases) in raw.columns {
        if contract.column(&column).is_none() {
            return Err(format!(
                "{at}: columns.{column}: entity {} has no column `{column}`; its columns are: {}",
                raw.entity,
                contract.column_list()
            ));
        }
        let aliases = match aliases {
            Aliases::One(a) => vec![a],
            Aliases::Many(v) => v,
        };
        if aliases.is_empty() || aliases.iter().any(|a| a.trim().is_empty()) {
            return Err(format!(
                "{at}: columns.{column}: header names must not be empty"
            ));
        }
        columns.insert(column, aliases);
    }
    Ok(Source {
        name: raw.name,
        entity: raw.entity,
        kind,
        path: resolve(&raw.path),
        sheet: raw.sheet,
        header_row: raw.header_row,
        columns,
    })
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
}
