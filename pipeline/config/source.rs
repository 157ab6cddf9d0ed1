//! One `[[source]]` of the configuration: which files or database table feed which entity, how
//! their headers map to the entity's columns, and how their text is read (formats, separators,
//! labels, defaults).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::contract::Entity;

/// The kind of file a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Xlsx,
    Xlsm,
    Xlsb,
    Xls,
    Ods,
    Csv,
    Parquet,
    /// A PostgreSQL table or query.
    Postgres,
    /// A MySQL or MariaDB table or query.
    Mysql,
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
            "csv" | "tsv" | "txt" => SourceKind::Csv,
            "parquet" => SourceKind::Parquet,
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
            SourceKind::Csv => "csv",
            SourceKind::Parquet => "parquet",
            SourceKind::Postgres => "postgres",
            SourceKind::Mysql => "mysql",
        }
    }

    /// True for the kinds that hold sheets.
    pub fn is_workbook(self) -> bool {
        !matches!(
            self,
            SourceKind::Csv | SourceKind::Parquet | SourceKind::Postgres | SourceKind::Mysql
        )
    }

    /// True for the database kinds.
    pub fn is_database(self) -> bool {
        matches!(self, SourceKind::Postgres | SourceKind::Mysql)
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

/// How the text of one column is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRules {
    /// chrono formats tried in order for dates, times and months, e.g. `%d-%m-%Y %H:%M`.
    pub formats: Vec<String>,
    /// The decimal separator of numbers written as text: `.` or `,`.
    pub decimal: char,
    /// The thousands separator, if numbers use one.
    pub thousands: Option<char>,
    /// Text removed before a number is read: currency symbols and codes such as `€` or `EUR`.
    pub strip: Vec<String>,
    /// Labels replaced by values before typing, e.g. `"2 - High"` by `"2"`. Matched ignoring case
    /// and surrounding spaces.
    pub values: BTreeMap<String, String>,
}

impl Default for ColumnRules {
    fn default() -> Self {
        ColumnRules {
            formats: Vec::new(),
            decimal: '.',
            thousands: Some(','),
            strip: Vec::new(),
            values: BTreeMap::new(),
        }
    }
}

/// Which row stands for an entity when an export holds one row per update.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatestRow {
    /// The entity column that identifies the entity (e.g. `incident_id`).
    pub key: String,
    /// The source header whose highest value marks the latest row (e.g. `sys_mod_count`).
    pub by: String,
}

/// What happens when a source's share of rejected rows passes its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverThreshold {
    /// The run stops before loading anything (exit 65).
    Fail,
    /// The run goes on and the summary warns.
    Warn,
}

/// What a database source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// A table or view, optionally schema-qualified (`servicedesk.incidents`).
    Table(String),
    /// A SELECT of its own.
    Query(String),
}

/// Where and how a database source is read. The connection string comes from an environment
/// variable, never from the configuration file, so no secret is ever written in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSource {
    /// The environment variable holding the connection string (`postgresql://user@host/db` or
    /// `host=... user=...`; `mysql://user@host:3306/db`).
    pub connection_env: String,
    /// An environment variable holding the password, when the connection string has none; else
    /// the standard password file (`~/.pgpass` or `PGPASSFILE`; `~/.my.cnf`) is consulted.
    pub password_env: Option<String>,
    pub relation: Relation,
    /// A column that grows with every change (`updated_at`, a sequence): after the first run,
    /// only rows whose watermark is at or after the last loaded one are extracted.
    pub watermark: Option<String>,
    /// How far before the last watermark a later run starts reading, in seconds, so that rows
    /// committed late with an earlier stamp are not lost; `0` reads from the watermark itself.
    /// Only for date and timestamp watermark columns.
    pub watermark_lag_seconds: u64,
    /// Rows fetched per round trip; memory on the database side of the client stays this size.
    pub batch_rows: usize,
    /// Whole-extract retries after a lost connection, with doubling waits from half a second.
    pub retries: u32,
    /// The zone that timestamps without a time zone are in (an IANA name such as `Europe/Paris`).
    pub source_timezone: String,
}

impl DatabaseSource {
    /// What is read, as text: the ledger keeps it with each watermark, so a watermark is only
    /// reused for the same table or query and the same watermark column.
    pub fn fingerprint(&self, kind: SourceKind) -> String {
        let relation = match &self.relation {
            Relation::Table(t) => format!("table {t}"),
            Relation::Query(q) => format!("query {}", q.trim()),
        };
        format!(
            "{} {relation} watermark {}",
            kind.name(),
            self.watermark.as_deref().unwrap_or("")
        )
    }
}

/// One input: one or more files, or a database table, feeding one entity.
#[derive(Debug, Clone)]
pub struct Source {
    /// A short name, unique in the configuration, used in the ledger and in messages.
    pub name: String,
    pub entity: Entity,
    pub kind: SourceKind,
    /// A file, or a glob pattern (`costs/*.xlsx`) whose matches are read in name order; empty for
    /// a database source.
    pub path: PathBuf,
    /// The table or query of a database source.
    pub database: Option<DatabaseSource>,
    /// `None` reads the first visible sheet.
    pub sheet: Option<SheetRef>,
    /// The 1-based row holding the headers; `None` finds it.
    pub header_row: Option<u32>,
    /// For each entity column, the headers that stand for it. A column that is not listed is
    /// found by its own name.
    pub columns: BTreeMap<String, Vec<String>>,
    /// Text that means "empty" in this source (e.g. `?`, `N/A`), compared ignoring case.
    pub null_values: Vec<String>,
    /// Values for columns the source lacks or leaves empty, as text typed like any cell.
    pub defaults: BTreeMap<String, String>,
    /// How the text of each column is read; columns not listed use [`ColumnRules::default`].
    pub rules: BTreeMap<String, ColumnRules>,
    pub latest: Option<LatestRow>,
    /// The zone of timestamps the source writes without an offset (an IANA name); `None` means
    /// the configured `timezone` for files and UTC for databases.
    pub source_timezone: Option<String>,
    /// CSV only: the field delimiter.
    pub delimiter: u8,
    /// The share of rows (0 to 1) that may be rejected before `over_threshold` applies.
    pub max_reject_rate: f64,
    pub over_threshold: OverThreshold,
}

impl Source {
    /// The reading rules of `column`.
    pub fn rules_for(&self, column: &str) -> &ColumnRules {
        static DEFAULT: std::sync::OnceLock<ColumnRules> = std::sync::OnceLock::new();
        self.rules
            .get(column)
            .unwrap_or_else(|| DEFAULT.get_or_init(ColumnRules::default))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    name: String,
    entity: Entity,
    kind: Option<SourceKind>,
    path: Option<PathBuf>,
    connection_env: Option<String>,
    password_env: Option<String>,
    table: Option<String>,
    query: Option<String>,
    watermark: Option<String>,
    watermark_lag: Option<String>,
    batch_rows: Option<usize>,
    retries: Option<u32>,
    source_timezone: Option<String>,
    sheet: Option<SheetRef>,
    header_row: Option<u32>,
    #[serde(default)]
    columns: BTreeMap<String, Aliases>,
    #[serde(default)]
    null_values: Vec<String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    #[serde(default)]
    rules: BTreeMap<String, RawRules>,
    latest: Option<LatestRow>,
    delimiter: Option<String>,
    max_reject_rate: Option<f64>,
    over_threshold: Option<OverThreshold>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Aliases {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    formats: Vec<String>,
    decimal: Option<String>,
    thousands: Option<String>,
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    values: BTreeMap<String, String>,
}

/// The default share of rejected rows a source may have before the run fails.
pub const DEFAULT_MAX_REJECT_RATE: f64 = 0.05;

/// Checks one raw source and resolves its path; the message names the source and the key.
pub(super) fn validate(
    raw: RawSource,
    index: usize,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<Source, String> {
    let at = format!("source[{index}] ({})", raw.name);
    if raw.name.trim().is_empty() {
        return Err(format!("source[{index}]: name must not be empty"));
    }
    let path = raw.path.clone().unwrap_or_default();
    let Some(kind) = raw.kind.or_else(|| SourceKind::from_extension(&path)) else {
        return Err(format!(
            "{at}: kind is missing and the extension of {} does not tell it; set kind to one of xlsx, xlsm, xlsb, xls, ods, csv, parquet, postgres, mysql",
            path.display()
        ));
    };
    let database = database_source(&raw, kind).map_err(|m| format!("{at}: {m}"))?;
    if raw.header_row == Some(0) {
        return Err(format!("{at}: header_row = 0: rows are numbered from 1"));
    }
    if let Some(zone) = &raw.source_timezone {
        check_timezone("source_timezone", zone).map_err(|m| format!("{at}: {m}"))?;
    }
    if raw.sheet == Some(SheetRef::Index(0)) {
        return Err(format!("{at}: sheet = 0: sheets are numbered from 1"));
    }
    if raw.sheet.is_some() && !kind.is_workbook() {
        return Err(format!("{at}: sheet: a {} file has no sheets", kind.name()));
    }
    let entity = raw.entity;
    let contract = entity.contract();
    let known = |key: &str, column: &str| -> Result<(), String> {
        match contract.column(column) {
            Some(_) => Ok(()),
            None => Err(format!(
                "{at}: {key}: entity {entity} has no column `{column}`; its columns are: {}",
                contract.column_list()
            )),
        }
    };

    let mut columns = BTreeMap::new();
    for (column, aliases) in raw.columns {
        known(&format!("columns.{column}"), &column)?;
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
    for column in raw.defaults.keys() {
        known(&format!("defaults.{column}"), column)?;
    }
    let mut rules = BTreeMap::new();
    for (column, r) in raw.rules {
        known(&format!("rules.{column}"), &column)?;
        rules.insert(
            column.clone(),
            validate_rules(r).map_err(|m| format!("{at}: rules.{column}.{m}"))?,
        );
    }
    if let Some(latest) = &raw.latest {
        known("latest.key", &latest.key)?;
        if latest.by.trim().is_empty() {
            return Err(format!(
                "{at}: latest.by: name the header whose highest value marks the latest row"
            ));
        }
    }
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = match raw.delimiter.as_deref() {
        None if tsv => b'\t',
        None => b',',
        Some("\\t") | Some("\t") => b'\t',
        Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
        Some(d) => {
            return Err(format!(
                "{at}: delimiter = {d:?}: expected one ASCII character such as \",\" or \";\""
            ));
        }
    };
    if raw.delimiter.is_some() && kind != SourceKind::Csv {
        return Err(format!("{at}: delimiter: only csv sources have one"));
    }
    let max_reject_rate = raw.max_reject_rate.unwrap_or(DEFAULT_MAX_REJECT_RATE);
    if !(0.0..=1.0).contains(&max_reject_rate) {
        return Err(format!(
            "{at}: max_reject_rate = {max_reject_rate}: expected a share from 0 to 1 (0.05 for 5%)"
        ));
    }
    Ok(Source {
        name: raw.name,
        entity,
        kind,
        path: if kind.is_database() {
            PathBuf::new()
        } else {
            resolve(&path)
        },
        database,
        sheet: raw.sheet,
        header_row: raw.header_row,
        columns,
        null_values: raw.null_values,
        defaults: raw.defaults,
        rules,
        latest: raw.latest,
        source_timezone: raw.source_timezone,
        delimiter,
        max_reject_rate,
        over_threshold: raw.over_threshold.unwrap_or(OverThreshold::Fail),
    })
}

/// The database settings of a source, refused on file sources and required on database ones.
fn database_source(raw: &RawSource, kind: SourceKind) -> Result<Option<DatabaseSource>, String> {
    let database_keys = [
        ("connection_env", raw.connection_env.is_some()),
        ("password_env", raw.password_env.is_some()),
        ("table", raw.table.is_some()),
        ("query", raw.query.is_some()),
        ("watermark", raw.watermark.is_some()),
        ("watermark_lag", raw.watermark_lag.is_some()),
        ("batch_rows", raw.batch_rows.is_some()),
        ("retries", raw.retries.is_some()),
    ];
    if !kind.is_database() {
        if raw.path.is_none() {
            return Err("path is missing: name the file (or a glob pattern) to read".into());
        }
        return match database_keys.iter().find(|(_, set)| *set) {
            Some((key, _)) => Err(format!("{key}: only postgres and mysql sources have one")),
            None => Ok(None),
        };
    }
    if raw.path.is_some() {
        return Err(format!(
            "path: a {} source reads a table or query, not a file",
            kind.name()
        ));
    }
    if raw.sheet.is_some() || raw.header_row.is_some() || raw.delimiter.is_some() {
        return Err("sheet, header_row and delimiter belong to file sources".into());
    }
    let connection_env = raw.connection_env.clone().ok_or(
        "connection_env is missing: name the environment variable that holds the connection string (it is never written in this file)",
    )?;
    if connection_env.contains("://") || connection_env.contains('=') {
        return Err(
            "connection_env: give the name of an environment variable, not the connection string itself (secrets stay out of the configuration)"
                .into(),
        );
    }
    let relation = match (&raw.table, &raw.query) {
        (Some(t), None) if is_table_name(t) => Relation::Table(t.clone()),
        (Some(t), None) => {
            return Err(format!(
                "table = {t:?}: expected a table name such as \"incidents\" or \"servicedesk.incidents\"; use query for anything else"
            ));
        }
        (None, Some(q)) if !q.trim().is_empty() => Relation::Query(q.clone()),
        (None, None) | (None, Some(_)) => return Err("give table or query".into()),
        (Some(_), Some(_)) => return Err("give table or query, not both".into()),
    };
    let batch_rows = raw.batch_rows.unwrap_or(5_000);
    if batch_rows == 0 {
        return Err("batch_rows = 0: fetch at least one row per round trip".into());
    }
    let retries = raw.retries.unwrap_or(3);
    if retries > 10 {
        return Err(format!(
            "retries = {retries}: at most 10 (the waits double from half a second)"
        ));
    }
    let source_timezone = raw.source_timezone.clone().unwrap_or_else(|| "UTC".into());
    check_timezone("source_timezone", &source_timezone)?;
    let watermark = raw.watermark.clone().filter(|w| !w.trim().is_empty());
    let watermark_lag_seconds = match &raw.watermark_lag {
        None => 0,
        Some(_) if watermark.is_none() => {
            return Err("watermark_lag: set a watermark column first; the lag is counted back from its last value".into());
        }
        Some(lag) => lag_seconds(lag).map_err(|m| format!("watermark_lag = {lag:?}: {m}"))?,
    };
    Ok(Some(DatabaseSource {
        connection_env,
        password_env: raw.password_env.clone(),
        relation,
        watermark,
        watermark_lag_seconds,
        batch_rows,
        retries,
        source_timezone,
    }))
}

/// The longest lag: re-reading more than a year on every run is a full refresh in disguise.
const MAX_LAG_SECONDS: u64 = 366 * 86_400;

/// Seconds in a lag written as whole numbers with units, largest first: `90s`, `15m`, `2h`,
/// `1d`, `1d12h`.
fn lag_seconds(text: &str) -> Result<u64, String> {
    let usage =
        "expected a duration such as \"30m\", \"2h\", \"1d\" or \"1d12h\" (units d, h, m, s)";
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut last_unit = u64::MAX;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(usage.into()),
        };
        if digits.is_empty() || unit >= last_unit {
            return Err(usage.into());
        }
        let n: u64 = digits.parse().map_err(|_| usage.to_string())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| usage.to_string())?;
        digits.clear();
        last_unit = unit;
    }
    if !digits.is_empty() || last_unit == u64::MAX {
        return Err(usage.into());
    }
    if total > MAX_LAG_SECONDS {
        return Err("at most 366d; for more, run with --full-refresh".into());
    }
    Ok(total)
}

/// A plain or schema-qualified identifier, so a table name can be quoted safely.
fn is_table_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() <= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

/// Checks that `zone` is an IANA time-zone name itvalue knows.
pub(crate) fn check_timezone(key: &str, zone: &str) -> Result<(), String> {
    jiff::tz::TimeZone::get(zone)
        .map(|_| ())
        .map_err(|_| format!("{key} = {zone:?}: not a time zone; use an IANA name such as \"Europe/Berlin\" or \"UTC\""))
}

fn validate_rules(raw: RawRules) -> Result<ColumnRules, String> {
    let one_char = |key: &str, value: &str| -> Result<char, String> {
        let mut chars = value.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(format!("{key} = {value:?}: expected one character")),
        }
    };
    let decimal = match raw.decimal.as_deref() {
        None => '.',
        Some(d) => one_char("decimal", d)?,
    };
    if decimal != '.' && decimal != ',' {
        return Err(format!("decimal = {decimal:?}: expected \".\" or \",\""));
    }
    let thousands = match raw.thousands.as_deref() {
        // Without a setting, the separator is the one a decimal point or comma implies.
        None => Some(if decimal == '.' { ',' } else { '.' }),
        Some("") => None,
        Some(t) => Some(one_char("thousands", t)?),
    };
    if thousands == Some(decimal) {
        return Err(format!(
            "thousands = {decimal:?}: it is also the decimal separator"
        ));
    }
    for format in &raw.formats {
        if chrono::format::StrftimeItems::new(format).any(|i| i == chrono::format::Item::Error) {
            return Err(format!("formats: {format:?} is not a valid chrono format"));
        }
    }
    Ok(ColumnRules {
        formats: raw.formats,
        decimal,
        thousands,
        strip: raw.strip,
        values: raw.values,
    })
}
