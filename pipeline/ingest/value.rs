//! Typing one cell under its column's contract.
//!
//! In: a [`Cell`] as a reader saw it (a spreadsheet cell, a CSV field, a Parquet value), the
//! [`Column`] it feeds and how the source writes values ([`Reading`]). Out: a typed [`Value`], or
//! the rule the cell broke, worded for the person who has to fix the spreadsheet. A value that
//! does not parse is never turned into NULL or zero.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rust_decimal::Decimal;

use super::zones::Zones;
use crate::config::ColumnRules;
use crate::contract::{Column, ColumnKind, ISO_4217, Rule};

/// The most characters Excel holds in one cell; longer text could not reach the workbook.
pub const EXCEL_CELL_CHARACTERS: usize = 32_767;

/// How much of a long value a reject keeps: enough to recognise it, never the whole of a
/// hostile cell.
const EXCERPT_CHARACTERS: usize = 80;

/// `text` itself when short, else its first characters and its length, so that a reject, its
/// rule and its row key stay small whatever the cell holds.
pub fn excerpt(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(EXCERPT_CHARACTERS) {
        None => text.to_string(),
        Some((end, _)) => format!(
            "{}… ({} characters)",
            &text[..end],
            crate::format::group_thousands(text.chars().count() as i64)
        ),
    }
}

/// A spreadsheet number as Excel shows it: rounded to 15 significant digits, so a cached
/// formula result such as `=10.1*3` (30.299999999999997 as a double) reads as the 30.3 the user
/// sees.
pub fn excel_digits(f: f64) -> f64 {
    if f == 0.0 || !f.is_finite() || whole_cents(f).is_some() {
        return f;
    }
    format!("{f:.14e}").parse().unwrap_or(f)
}

/// `f` in cents, when `f` is the double nearest to a whole number of cents with at most 15
/// significant digits; `None` otherwise.
///
/// This is the common case of money and most other numbers in spreadsheets, and it needs no
/// formatting: a decimal of at most 15 significant digits goes to the nearest double and back to
/// 15 digits unchanged (`f64::DIGITS` is 15), so [`excel_digits`] of such an `f` is `f` itself
/// and the amount Excel shows is exactly `cents / 100`. Dividing the whole `cents` (below 2^53,
/// so exact) by 100 is correctly rounded, so the equality below holds exactly when `f` is that
/// nearest double.
pub fn whole_cents(f: f64) -> Option<i64> {
    let cents = (f * 100.0).round();
    (cents.abs() < 1e15 && cents / 100.0 == f).then_some(cents as i64)
}

/// A cell as read from a source, before typing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A cell Excel formats as a date or time, already converted from the workbook's date system.
    DateTime(NaiveDateTime),
    /// A cell that holds an Excel error such as `#N/A` or `#DIV/0!`.
    Error(&'static str),
}

impl Cell<'_> {
    /// The cell as the user sees it, bounded to an excerpt for reject reports.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(s) => excerpt(s),
            other => other.raw(),
        }
    }

    /// The cell as the user sees it.
    pub fn raw(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => (*s).to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::DateTime(dt) if dt.time() == NaiveTime::MIN => dt.date().to_string(),
            Cell::DateTime(dt) => dt.to_string(),
            Cell::Error(e) => (*e).to_string(),
        }
    }

    fn found(&self) -> String {
        match self {
            Cell::Empty => "an empty cell".to_string(),
            Cell::Text(s) => format!("the text {:?}", excerpt(s)),
            Cell::Int(_) | Cell::Float(_) => format!("the number {}", self.raw()),
            Cell::Bool(_) => format!("the boolean {}", self.raw()),
            Cell::DateTime(_) => format!("the date {}", self.raw()),
            Cell::Error(e) => format!("the error value {e}"),
        }
    }
}

/// A typed value, ready for the warehouse.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    /// Exact, with scale 2.
    Money(Decimal),
    Number(f64),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl Value {
    /// The value as key text, for uniqueness and foreign-key checks and row keys in reports.
    pub fn key_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Money(d) => d.to_string(),
            Value::Number(f) => f.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Timestamp(t) => t.to_string(),
        }
    }
}

/// The largest magnitude DECIMAL(18,2) holds.
const MONEY_LIMIT: i64 = 10_000_000_000_000_000;

/// How a source writes its values: what means empty, per column the formats, separators and
/// labels (see [`ColumnRules`]), and the zone of its timestamps.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    pub rules: &'a ColumnRules,
    /// Text that means "empty", compared ignoring case.
    pub null_values: &'a [String],
    /// The zone timestamps without an offset are written in, and the zone they are stored in.
    pub zones: &'a Zones,
}

/// Types `cell` for `column` as the source writes it, or says which rule it broke.
pub fn type_cell(cell: &Cell, column: &Column, reading: Reading) -> Result<Value, String> {
    match cell {
        Cell::Error(e) => return Err(format!("the cell holds the error value {e}")),
        Cell::Text(s) if s.len() > EXCEL_CELL_CHARACTERS => {
            let characters = s.chars().count();
            if characters > EXCEL_CELL_CHARACTERS {
                return Err(format!(
                    "the text is {} characters long, over Excel's limit of 32,767 characters in a cell",
                    crate::format::group_thousands(characters as i64)
                ));
            }
        }
        _ => {}
    }
    let mapped: String;
    let prepared = match cell {
        Cell::Text(s) => {
            let t = s.trim();
            if t.is_empty() || reading.null_values.iter().any(|n| same_text(n, t)) {
                Cell::Empty
            } else if let Some(v) = lookup(&reading.rules.values, t) {
                mapped = v.to_string();
                Cell::Text(&mapped)
            } else {
                Cell::Text(t)
            }
        }
        Cell::Float(f) => Cell::Float(excel_digits(*f)),
        other => *other,
    };
    let rules = reading.rules;
    let value = match column.kind {
        ColumnKind::Text => text(&prepared),
        ColumnKind::Integer => integer(&prepared, rules),
        ColumnKind::Money => money(&prepared, rules),
        ColumnKind::Number => number(&prepared, rules),
        ColumnKind::Date => date(&prepared, rules),
        ColumnKind::Timestamp => match timestamp(&prepared, rules, reading.zones) {
            Some(Err(rule)) => return Err(rule),
            Some(Ok(value)) => Some(value),
            None => None,
        },
        ColumnKind::Period => period(&prepared, rules),
    }
    .ok_or_else(|| {
        format!(
            "expected {}, found {}",
            column.kind.describe(),
            cell.found()
        )
    })?;
    if value == Value::Null {
        return if column.required {
            Err("a value is required".to_string())
        } else {
            Ok(Value::Null)
        };
    }
    check_rule(value, column.rule)
}

/// The value a label maps to, matched ignoring case and surrounding spaces.
fn lookup<'a>(
    values: &'a std::collections::BTreeMap<String, String>,
    text: &str,
) -> Option<&'a str> {
    values
        .iter()
        .find(|(label, _)| same_text(label, text))
        .map(|(_, v)| v.as_str())
}

/// Whether a configured word (a null marker, a label) stands for `text` (already trimmed): equal
/// ignoring case and the word's surrounding spaces. Typing asks this for every text cell, so the
/// common case, ASCII on both sides, allocates nothing.
pub(super) fn same_text(word: &str, text: &str) -> bool {
    let word = word.trim();
    if word.is_ascii() && text.is_ascii() {
        word.eq_ignore_ascii_case(text)
    } else {
        word.to_lowercase() == text.to_lowercase()
    }
}

fn text(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Text(s) => Value::Text((*s).to_string()),
        Cell::Int(i) => Value::Text(i.to_string()),
        // Identifiers typed as numbers (1001) arrive as floats from Excel.
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Value::Text((*f as i64).to_string())
        }
        Cell::Float(f) => Value::Text(f.to_string()),
        Cell::Bool(b) => Value::Text(if *b { "true" } else { "false" }.to_string()),
        Cell::DateTime(_) | Cell::Error(_) => return None,
    })
}

fn integer(cell: &Cell, rules: &ColumnRules) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Int(i) => Value::Integer(*i),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Integer(*f as i64),
        Cell::Text(s) => {
            let (negative, digits) = number_text(s, rules)?;
            let i: i64 = digits.parse().ok()?;
            Value::Integer(if negative { -i } else { i })
        }
        _ => return None,
    })
}

fn money(cell: &Cell, rules: &ColumnRules) -> Option<Value> {
    let decimal = match cell {
        Cell::Empty => return Some(Value::Null),
        Cell::Int(i) => Decimal::from(*i),
        // The 15 significant digits Excel shows, exactly: an amount typed as 1234.56, or computed
        // by a formula as 30.299999999999997, comes back as the cents the user sees.
        Cell::Float(f) if f.is_finite() => match whole_cents(*f) {
            Some(cents) => Decimal::new(cents, 2),
            None => Decimal::from_scientific(&format!("{f:.14e}")).ok()?,
        },
        Cell::Text(s) => {
            let (negative, digits) = number_text(s, rules)?;
            let d = Decimal::from_str(&digits).ok()?;
            if negative { -d } else { d }
        }
        _ => return None,
    };
    let mut d = decimal.normalize();
    if d.scale() > 2 || d.abs() >= Decimal::from(MONEY_LIMIT) {
        return None;
    }
    d.rescale(2);
    Some(Value::Money(d))
}

fn number(cell: &Cell, rules: &ColumnRules) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Int(i) => Value::Number(*i as f64),
        Cell::Float(f) if f.is_finite() => Value::Number(*f),
        Cell::Text(s) => {
            let (body, scale) = match s.strip_suffix('%') {
                Some(p) => (p, 100.0),
                None => (*s, 1.0),
            };
            let (negative, digits) = number_text(body, rules)?;
            let f: f64 = digits.parse().ok().filter(|f: &f64| f.is_finite())?;
            Value::Number(if negative { -f } else { f } / scale)
        }
        _ => return None,
    })
}

/// Reads a number written as text under the column's rules: strips currency symbols, takes a
/// minus sign or accounting parentheses, and removes thousands separators only where they group
/// digits in threes, so that "1,5" is not read as 15. Returns the sign and the unsigned number
/// with a `.` decimal point.
fn number_text(s: &str, rules: &ColumnRules) -> Option<(bool, String)> {
    let mut body = s.trim().to_string();
    for symbol in &rules.strip {
        body = body.replace(symbol.as_str(), "");
    }
    let mut body = body.trim();
    let mut negative = false;
    if let Some(inner) = body.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        negative = true;
        body = inner.trim();
    }
    if let Some(rest) = body.strip_prefix('-').or_else(|| body.strip_suffix('-')) {
        negative = !negative;
        body = rest.trim();
    } else if let Some(rest) = body.strip_prefix('+') {
        body = rest.trim();
    }
    let (integer, fraction) = match body.split_once(rules.decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let whole = match rules.thousands {
        Some(sep)
            if integer.contains(sep) || (sep == ' ' && integer.contains(char::is_whitespace)) =>
        {
            let groups: Vec<&str> = if sep == ' ' {
                integer.split(char::is_whitespace).collect()
            } else {
                integer.split(sep).collect()
            };
            let first_ok = groups[0].len() <= 3 && digits(groups[0]);
            let rest_ok = groups[1..].iter().all(|g| g.len() == 3 && digits(g));
            if !(first_ok && rest_ok) {
                return None;
            }
            groups.concat()
        }
        _ if digits(integer) => integer.to_string(),
        _ => return None,
    };
    match fraction {
        Some(f) if digits(f) => Some((negative, format!("{whole}.{f}"))),
        Some(_) => None,
        None => Some((negative, whole)),
    }
}

fn date(cell: &Cell, rules: &ColumnRules) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::DateTime(dt) if dt.time() == NaiveTime::MIN => Value::Date(dt.date()),
        Cell::Text(s) => Value::Date(parse_date_text(s, &rules.formats)?),
        _ => return None,
    })
}

/// A point in time as a wall-clock time in the configured zone: a spreadsheet date-time or text
/// without an offset is read in the source's zone; text with an offset (RFC 3339 `2026-03-29T
/// 01:30:00Z`, or a format with `%z`/`%:z`) is the instant it names. `None` when the cell is not
/// a timestamp at all, `Some(Err)` when it is one that cannot be placed in the zones.
fn timestamp(cell: &Cell, rules: &ColumnRules, zones: &Zones) -> Option<Result<Value, String>> {
    let converted = match cell {
        Cell::Empty => return Some(Ok(Value::Null)),
        Cell::DateTime(dt) => zones.local_in_target(round_to_millis(*dt)),
        Cell::Text(s) => match parse_timestamp_text(s, &rules.formats)? {
            Stamp::Instant(instant) => zones.instant_in_target(instant),
            Stamp::Local(local) => zones.local_in_target(local),
        },
        _ => return None,
    };
    Some(converted.map(Value::Timestamp))
}

fn period(cell: &Cell, rules: &ColumnRules) -> Option<Value> {
    let day = match cell {
        Cell::Empty => return Some(Value::Null),
        Cell::DateTime(dt) => dt.date(),
        Cell::Text(s) => parse_month_text(s, &rules.formats)?,
        _ => return None,
    };
    Some(Value::Date(day.with_day(1)?))
}

const ISO_DATES: [&str; 2] = ["%Y-%m-%d", "%Y/%m/%d"];
const ISO_TIMESTAMPS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// A day from text: the configured formats first, then ISO 8601. Text with a time of day is a
/// day only at midnight (a Parquet or database date often arrives as a midnight timestamp).
fn parse_date_text(s: &str, formats: &[String]) -> Option<NaiveDate> {
    let at_midnight = |t: NaiveDateTime| (t.time() == NaiveTime::MIN).then(|| t.date());
    for f in formats.iter().map(String::as_str).chain(ISO_DATES) {
        // A format with a time must be tried as one: chrono's date parser ignores the time.
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return at_midnight(t);
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d);
        }
    }
    ISO_TIMESTAMPS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .and_then(at_midnight)
}

/// A timestamp read from text: an instant when the text carries an offset, else a wall-clock
/// time in the source's zone.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime),
}

impl Stamp {
    /// An order across both kinds, for picking the latest row of an update log.
    fn seconds(self) -> i64 {
        match self {
            Stamp::Instant(i) => i.timestamp(),
            Stamp::Local(l) => l.and_utc().timestamp(),
        }
    }
}

/// An offset in the text wins: the configured formats that read one (so that `%:z` is honoured
/// rather than dropped), then RFC 3339 (so that a format with a literal `Z` never reads a UTC time
/// as a local one); then the configured formats without an offset, ISO 8601, and a day.
fn parse_timestamp_text(s: &str, formats: &[String]) -> Option<Stamp> {
    let s = s.trim();
    let formats = || formats.iter().map(String::as_str);
    if let Some(t) = formats().find_map(|f| DateTime::parse_from_str(s, f).ok()) {
        return Some(Stamp::Instant(t.with_timezone(&Utc)));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(Stamp::Instant(t.with_timezone(&Utc)));
    }
    formats()
        .chain(ISO_TIMESTAMPS)
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            let formats: Vec<String> = formats().map(String::from).collect();
            parse_date_text(s, &formats).map(|d| d.and_time(NaiveTime::MIN))
        })
        .map(Stamp::Local)
}

/// The instant a timestamp cell names, in microseconds since 1970: what the order of two points in
/// time is checked on, so that the hour repeated when clocks go back cannot invert them. `None`
/// when the cell is not a timestamp.
pub fn instant_of(cell: &Cell, reading: Reading) -> Option<i64> {
    let stamp = match cell {
        Cell::DateTime(dt) => Stamp::Local(round_to_millis(*dt)),
        Cell::Text(s) => parse_timestamp_text(s, &reading.rules.formats)?,
        _ => return None,
    };
    match stamp {
        Stamp::Instant(i) => Some(i.timestamp_micros()),
        Stamp::Local(l) => reading.zones.source_instant(l),
    }
}

/// A point in time from text, in the configured formats, RFC 3339 or ISO 8601, as seconds that
/// order the texts of one column (for `latest.by`).
pub fn timestamp_order(s: &str, formats: &[String]) -> Option<i64> {
    parse_timestamp_text(s, formats).map(Stamp::seconds)
}

/// A month from text: any day or time in it, or a format without a day (`%m/%Y`), or `YYYY-MM`.
fn parse_month_text(s: &str, formats: &[String]) -> Option<NaiveDate> {
    parse_date_text(s, formats)
        .or_else(|| {
            parse_timestamp_text(s, formats).map(|t| match t {
                Stamp::Instant(i) => i.date_naive(),
                Stamp::Local(l) => l.date(),
            })
        })
        .or_else(|| {
            formats
                .iter()
                .map(String::as_str)
                .chain(["%Y-%m"])
                .find_map(|f| NaiveDate::parse_from_str(&format!("{s} 1"), &format!("{f} %d")).ok())
        })
}

/// Excel stores times as fractions of a day; the nearest millisecond is what the user typed.
fn round_to_millis(dt: NaiveDateTime) -> NaiveDateTime {
    let nanos = dt.nanosecond() % 1_000_000_000;
    let millis = (nanos + 500_000) / 1_000_000;
    let base = dt.with_nanosecond(0).unwrap_or(dt);
    base + chrono::Duration::milliseconds(i64::from(millis))
}

fn check_rule(value: Value, rule: Rule) -> Result<Value, String> {
    let magnitude = match &value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(f) => Some(*f),
        Value::Money(d) => Some(f64::try_from(*d).unwrap_or(f64::NAN)),
        _ => None,
    };
    match (rule, &value, magnitude) {
        (Rule::Any, _, _) => Ok(value),
        (Rule::Currency, Value::Text(s), _) => {
            let code = s.trim().to_ascii_uppercase();
            if ISO_4217.binary_search(&code.as_str()).is_ok() {
                Ok(Value::Text(code))
            } else {
                Err(format!(
                    "{:?} is not an ISO 4217 currency code (three letters such as EUR, USD, CNY)",
                    excerpt(s)
                ))
            }
        }
        (Rule::OneOf(accepted), Value::Text(s), _) => {
            let normalised = s.to_lowercase().replace([' ', '-'], "_");
            match accepted.iter().find(|a| **a == normalised) {
                Some(a) => Ok(Value::Text((*a).to_string())),
                None => Err(format!(
                    "{:?} is not one of: {}",
                    excerpt(s),
                    accepted.join(", ")
                )),
            }
        }
        (Rule::Between(min, max), _, Some(x)) if !(min..=max).contains(&x) => Err(format!(
            "{} is outside the range {min} to {max}",
            value.key_text()
        )),
        (Rule::AtLeast(min), _, Some(x)) if x < min => {
            Err(format!("{} is below the minimum {min}", value.key_text()))
        }
        (Rule::Above(min), _, Some(x)) if x <= min => {
            Err(format!("{} must be greater than {min}", value.key_text()))
        }
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(kind: ColumnKind, required: bool, rule: Rule) -> Column {
        Column {
            name: "c",
            kind,
            required,
            rule,
        }
    }

    fn plain() -> Reading<'static> {
        static RULES: std::sync::OnceLock<ColumnRules> = std::sync::OnceLock::new();
        Reading {
            rules: RULES.get_or_init(ColumnRules::default),
            null_values: &[],
            zones: utc(),
        }
    }

    fn utc() -> &'static Zones {
        static UTC: std::sync::OnceLock<Zones> = std::sync::OnceLock::new();
        UTC.get_or_init(|| Zones::new("UTC", "UTC").unwrap())
    }

    fn typed(cell: Cell, c: &Column) -> Result<Value, String> {
        type_cell(&cell, c, plain())
    }

    fn money_of(cell: Cell) -> Result<Value, String> {
        typed(cell, &column(ColumnKind::Money, true, Rule::Any))
    }

    fn cents(s: &str) -> Value {
        Value::Money(Decimal::from_str(s).unwrap())
    }

    /// What `excel_digits` and money typing did before the whole-cents path: format every double
    /// to 15 significant digits and read that back.
    fn by_formatting(f: f64) -> (f64, Option<Decimal>) {
        let shown = format!("{f:.14e}");
        let mut amount = Decimal::from_scientific(&shown).ok().map(|d| d.normalize());
        if let Some(d) = &mut amount {
            d.rescale(2);
        }
        let amount = amount.filter(|_| {
            let exact = Decimal::from_scientific(&shown).unwrap().normalize();
            exact.scale() <= 2 && exact.abs() < Decimal::from(MONEY_LIMIT)
        });
        (if f == 0.0 { f } else { shown.parse().unwrap() }, amount)
    }

    #[test]
    fn whole_cents_agree_with_fifteen_digit_formatting_at_the_edges() {
        for f in [
            0.01,
            0.1,
            0.29,
            1.005,
            1234.56,
            30.299999999999997,
            9_999_999_999_999.99,
            -9_999_999_999_999.99,
            99_999_999_999_999.9,
            1e15,
            0.015,
            -0.07,
            4.35,
            2.675,
            1e-7,
            123_456_789.123_456_79,
        ] {
            let (digits, amount) = by_formatting(f);
            assert_eq!(
                excel_digits(f).to_bits(),
                digits.to_bits(),
                "excel_digits({f})"
            );
            let typed = money_of(Cell::Float(f)).ok().map(|v| match v {
                Value::Money(d) => d,
                other => panic!("{other:?}"),
            });
            assert_eq!(typed, amount, "money of {f}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// Any whole number of cents, and any double near one, types as formatting it would.
        #[test]
        fn whole_cents_agree_with_fifteen_digit_formatting(
            cents in -999_999_999_999_999_i64..999_999_999_999_999,
            nudge in -3_i64..=3,
        ) {
            let exact = cents as f64 / 100.0;
            let f = f64::from_bits((exact.to_bits() as i64 + nudge) as u64);
            proptest::prop_assume!(f.is_finite());
            let (digits, amount) = by_formatting(f);
            proptest::prop_assert_eq!(excel_digits(f).to_bits(), digits.to_bits());
            let typed = money_of(Cell::Float(f)).ok().map(|v| match v {
                Value::Money(d) => d,
                _ => unreachable!(),
            });
            proptest::prop_assert_eq!(typed, amount);
        }
    }

    #[test]
    fn money_from_a_double_keeps_the_typed_cents() {
        assert_eq!(money_of(Cell::Float(1234.56)), Ok(cents("1234.56")));
        assert_eq!(
            money_of(Cell::Float(1.005)),
            Err("expected an amount with at most 2 decimals, found the number 1.005".into())
        );
        assert_eq!(money_of(Cell::Int(-7)), Ok(cents("-7.00")));
    }

    #[test]
    fn money_stored_as_text_with_grouping_and_parentheses() {
        assert_eq!(money_of(Cell::Text(" 12,500.00 ")), Ok(cents("12500.00")));
        assert_eq!(money_of(Cell::Text("(1,250.5)")), Ok(cents("-1250.50")));
    }

    #[test]
    fn money_text_with_a_letter_o_is_rejected_not_zeroed() {
        assert_eq!(
            money_of(Cell::Text("12,5OO.00")),
            Err("expected an amount with at most 2 decimals, found the text \"12,5OO.00\"".into())
        );
        assert_eq!(
            money_of(Cell::Text("1,5")),
            Err("expected an amount with at most 2 decimals, found the text \"1,5\"".into())
        );
    }

    #[test]
    fn missing_required_value_and_error_cells_are_rejects() {
        assert_eq!(money_of(Cell::Empty), Err("a value is required".into()));
        assert_eq!(
            money_of(Cell::Text("  ")),
            Err("a value is required".into())
        );
        assert_eq!(
            money_of(Cell::Error("#N/A")),
            Err("the cell holds the error value #N/A".into())
        );
    }

    #[test]
    fn accepted_values_are_matched_loosely_and_stored_canonically() {
        let c = column(
            ColumnKind::Text,
            true,
            Rule::OneOf(&["blue_green", "rolled_back"]),
        );
        assert_eq!(
            typed(Cell::Text("Blue-Green"), &c),
            Ok(Value::Text("blue_green".into()))
        );
        assert_eq!(
            typed(Cell::Text("rolled back"), &c),
            Ok(Value::Text("rolled_back".into()))
        );
        assert_eq!(
            typed(Cell::Text("dark launch"), &c),
            Err("\"dark launch\" is not one of: blue_green, rolled_back".into())
        );
    }

    #[test]
    fn ranges_are_checked_after_typing() {
        let c = column(ColumnKind::Integer, true, Rule::Between(1.0, 4.0));
        assert_eq!(typed(Cell::Float(2.0), &c), Ok(Value::Integer(2)));
        assert_eq!(
            typed(Cell::Int(5), &c),
            Err("5 is outside the range 1 to 4".into())
        );
        assert_eq!(
            typed(Cell::Float(2.5), &c),
            Err("expected a whole number, found the number 2.5".into())
        );
    }

    #[test]
    fn periods_accept_any_day_of_the_month_and_month_text() {
        let c = column(ColumnKind::Period, true, Rule::Any);
        let march = Value::Date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        let dt = NaiveDate::from_ymd_opt(2025, 3, 31)
            .unwrap()
            .and_time(NaiveTime::MIN);
        assert_eq!(typed(Cell::DateTime(dt), &c), Ok(march.clone()));
        assert_eq!(typed(Cell::Text("2025-03"), &c), Ok(march.clone()));
        assert_eq!(typed(Cell::Text("2025-03-15"), &c), Ok(march));
        assert_eq!(
            typed(Cell::Int(202503), &c),
            Err("expected a month (YYYY-MM), found the number 202503".into())
        );
    }

    #[test]
    fn dates_refuse_plain_numbers_and_times_of_day() {
        let c = column(ColumnKind::Date, false, Rule::Any);
        assert_eq!(
            typed(Cell::Float(45000.0), &c),
            Err("expected a date, found the number 45000".into())
        );
        let noon = NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            typed(Cell::DateTime(noon), &c),
            Err("expected a date, found the date 2025-01-02 12:00:00".into())
        );
    }

    #[test]
    fn timestamps_round_excel_fractions_to_the_millisecond() {
        let c = column(ColumnKind::Timestamp, true, Rule::Any);
        let almost = NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_nano_opt(9, 29, 59, 999_999_600)
            .unwrap();
        let expected = NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap();
        assert_eq!(
            typed(Cell::DateTime(almost), &c),
            Ok(Value::Timestamp(expected))
        );
        assert_eq!(
            typed(Cell::Text("2025-01-02 09:30"), &c),
            Ok(Value::Timestamp(expected))
        );
    }

    #[test]
    fn numbers_accept_percent_text() {
        let c = column(ColumnKind::Number, true, Rule::Between(0.0, 1.0));
        assert_eq!(typed(Cell::Text("85%"), &c), Ok(Value::Number(0.85)));
        assert_eq!(
            typed(Cell::Float(1.2), &c),
            Err("1.2 is outside the range 0 to 1".into())
        );
    }

    fn reading(rules: &ColumnRules, nulls: &'static [String]) -> Reading<'static> {
        Reading {
            rules: Box::leak(Box::new(rules.clone())),
            null_values: nulls,
            zones: utc(),
        }
    }

    #[test]
    fn european_amounts_with_decimal_comma_and_currency_symbol() {
        let rules = ColumnRules {
            decimal: ',',
            thousands: Some('.'),
            strip: vec!["€".into(), "EUR".into()],
            ..ColumnRules::default()
        };
        let c = column(ColumnKind::Money, true, Rule::Any);
        let r = reading(&rules, &[]);
        assert_eq!(
            type_cell(&Cell::Text("€ 1.234,50"), &c, r),
            Ok(cents("1234.50"))
        );
        assert_eq!(
            type_cell(&Cell::Text("-12,5 EUR"), &c, r),
            Ok(cents("-12.50"))
        );
        assert_eq!(
            type_cell(&Cell::Text("(1.000)"), &c, r),
            Ok(cents("-1000.00"))
        );
        assert_eq!(
            type_cell(&Cell::Text("1.23,4"), &c, r),
            Err("expected an amount with at most 2 decimals, found the text \"1.23,4\"".into())
        );
    }

    #[test]
    fn day_first_timestamps_and_null_markers_as_a_service_desk_writes_them() {
        let rules = ColumnRules {
            formats: vec!["%d-%m-%Y %H:%M".into()],
            ..ColumnRules::default()
        };
        static NULLS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let nulls = NULLS.get_or_init(|| vec!["?".into()]);
        let r = reading(&rules, nulls);
        let c = column(ColumnKind::Timestamp, false, Rule::Any);
        let leap = NaiveDate::from_ymd_opt(2016, 2, 29)
            .unwrap()
            .and_hms_opt(1, 16, 0)
            .unwrap();
        assert_eq!(
            type_cell(&Cell::Text("29-02-2016 01:16"), &c, r),
            Ok(Value::Timestamp(leap))
        );
        assert_eq!(type_cell(&Cell::Text(" ? "), &c, r), Ok(Value::Null));
        assert_eq!(
            type_cell(&Cell::Text("29-02-2015 01:16"), &c, r),
            Err("expected a date and time, found the text \"29-02-2015 01:16\"".into())
        );
    }

    #[test]
    fn null_markers_and_labels_match_ignoring_case_and_spaces_in_any_script() {
        assert!(same_text("  N/A ", "n/a"));
        assert!(same_text("Müller", "MÜLLER"));
        assert!(same_text("不适用", "不适用"));
        assert!(!same_text("na", "n/a"));
        assert!(!same_text("Straße", "strasse"));
    }

    #[test]
    fn labels_map_to_values_before_typing() {
        let mut rules = ColumnRules::default();
        rules.values.insert("2 - High".into(), "2".into());
        rules.values.insert("4 - Low".into(), "4".into());
        let c = column(ColumnKind::Integer, true, Rule::Between(1.0, 4.0));
        let r = reading(&rules, &[]);
        assert_eq!(
            type_cell(&Cell::Text("2 - high"), &c, r),
            Ok(Value::Integer(2))
        );
        assert_eq!(
            type_cell(&Cell::Text("4 - Low"), &c, r),
            Ok(Value::Integer(4))
        );
        assert_eq!(
            type_cell(&Cell::Text("5 - Planning"), &c, r),
            Err("expected a whole number, found the text \"5 - Planning\"".into())
        );
    }

    #[test]
    fn months_in_a_configured_format_without_a_day() {
        let rules = ColumnRules {
            formats: vec!["%m/%Y".into()],
            ..ColumnRules::default()
        };
        let c = column(ColumnKind::Period, true, Rule::Any);
        let march = Value::Date(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap());
        assert_eq!(
            type_cell(&Cell::Text("03/2025"), &c, reading(&rules, &[])),
            Ok(march)
        );
    }

    #[test]
    fn a_date_column_refuses_a_time_of_day_even_in_a_configured_format() {
        let rules = ColumnRules {
            formats: vec!["%d-%m-%Y %H:%M".into()],
            ..ColumnRules::default()
        };
        let c = column(ColumnKind::Date, false, Rule::Any);
        let r = reading(&rules, &[]);
        let leap = Value::Date(NaiveDate::from_ymd_opt(2016, 2, 29).unwrap());
        assert_eq!(
            type_cell(&Cell::Text("29-02-2016 00:00"), &c, r),
            Ok(leap.clone())
        );
        assert_eq!(
            type_cell(&Cell::Text("29-02-2016 13:16"), &c, r),
            Err("expected a date, found the text \"29-02-2016 13:16\"".into())
        );
        // As exports often write a date column: a midnight timestamp is a day.
        assert_eq!(typed(Cell::Text("2016-02-29 00:00:00"), &c), Ok(leap));
        let p = column(ColumnKind::Period, false, Rule::Any);
        let feb = Value::Date(NaiveDate::from_ymd_opt(2016, 2, 1).unwrap());
        assert_eq!(typed(Cell::Text("2016-02-29 13:16:00"), &p), Ok(feb));
    }

    #[test]
    fn amounts_from_formulas_are_rounded_to_excels_15_digits_before_the_decimal_check() {
        // `=10.1*3` caches 30.299999999999997; Excel shows 30.3.
        assert_eq!(money_of(Cell::Float(10.1 * 3.0)), Ok(cents("30.30")));
        assert_eq!(money_of(Cell::Float(0.1 + 0.2)), Ok(cents("0.30")));
        let n = column(ColumnKind::Number, true, Rule::Any);
        assert_eq!(typed(Cell::Float(0.1 + 0.2), &n), Ok(Value::Number(0.3)));
        let i = column(ColumnKind::Integer, true, Rule::Any);
        assert_eq!(
            typed(Cell::Float(29.999999999999996), &i),
            Ok(Value::Integer(30))
        );
    }

    #[test]
    fn text_over_excels_cell_limit_is_a_reject_and_rejects_keep_an_excerpt() {
        let c = column(ColumnKind::Text, true, Rule::Any);
        let long = "x".repeat(40_000);
        assert_eq!(
            typed(Cell::Text(&long), &c),
            Err("the text is 40,000 characters long, over Excel's limit of 32,767 characters in a cell".into())
        );
        let fits = "é".repeat(32_767);
        assert_eq!(typed(Cell::Text(&fits), &c), Ok(Value::Text(fits.clone())));
        assert_eq!(excerpt("short"), "short");
        let shown = Cell::Text(&long).shown();
        assert_eq!(shown, format!("{}… (40,000 characters)", "x".repeat(80)));
        let amount = column(ColumnKind::Money, true, Rule::Any);
        assert_eq!(
            typed(Cell::Text(&"9".repeat(1000)), &amount),
            Err(format!(
                "expected an amount with at most 2 decimals, found the text \"{}… (1,000 characters)\"",
                "9".repeat(80)
            ))
        );
    }

    #[test]
    fn currencies_are_iso_4217_codes() {
        let c = column(ColumnKind::Text, false, Rule::Currency);
        assert_eq!(typed(Cell::Text("usd"), &c), Ok(Value::Text("USD".into())));
        assert_eq!(typed(Cell::Text("EUR"), &c), Ok(Value::Text("EUR".into())));
        assert_eq!(
            typed(Cell::Text("XYZ"), &c),
            Err(
                "\"XYZ\" is not an ISO 4217 currency code (three letters such as EUR, USD, CNY)"
                    .into()
            )
        );
        assert!(
            ISO_4217.windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
    }

    fn stamp(text: &str, formats: &[&str], zones: &Zones) -> Result<Value, String> {
        let rules = ColumnRules {
            formats: formats.iter().map(|f| f.to_string()).collect(),
            ..ColumnRules::default()
        };
        let c = column(ColumnKind::Timestamp, true, Rule::Any);
        let r = Reading {
            rules: &rules,
            null_values: &[],
            zones,
        };
        type_cell(&Cell::Text(text), &c, r)
    }

    fn at(s: &str) -> Value {
        Value::Timestamp(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
    }

    #[test]
    fn text_timestamps_with_an_offset_are_the_instant_they_name() {
        let utc = utc();
        // The offset of a `%:z` format is honoured, not dropped.
        assert_eq!(
            stamp(
                "2022-09-11T08:51:47.000+02:00",
                &["%Y-%m-%dT%H:%M:%S%.f%:z"],
                utc
            ),
            Ok(at("2022-09-11 06:51:47"))
        );
        // RFC 3339 needs no format, with Z or with an offset.
        assert_eq!(
            stamp("2022-09-11T08:51:47Z", &[], utc),
            Ok(at("2022-09-11 08:51:47"))
        );
        assert_eq!(
            stamp("2022-09-11T08:51:47.250-04:00", &[], utc),
            Ok(Value::Timestamp(
                NaiveDateTime::parse_from_str("2022-09-11 12:51:47.250", "%Y-%m-%d %H:%M:%S%.f")
                    .unwrap()
            ))
        );
        let berlin = Zones::new("UTC", "Europe/Berlin").unwrap();
        assert_eq!(
            stamp("2026-03-29T01:30:00Z", &[], &berlin),
            Ok(at("2026-03-29 03:30:00"))
        );
    }

    #[test]
    fn naive_timestamps_are_read_in_the_source_zone() {
        let from_new_york = Zones::new("America/New_York", "UTC").unwrap();
        assert_eq!(
            stamp("2026-07-01 12:00", &[], &from_new_york),
            Ok(at("2026-07-01 16:00:00"))
        );
        let c = column(ColumnKind::Timestamp, true, Rule::Any);
        let r = Reading {
            rules: plain().rules,
            null_values: &[],
            zones: &from_new_york,
        };
        let winter = NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            type_cell(&Cell::DateTime(winter), &c, r),
            Ok(at("2026-01-15 17:00:00"))
        );
    }
}

#[cfg(test)]
mod instant_tests {
    use super::*;

    #[test]
    fn a_format_with_a_literal_z_reads_utc_not_local_time() {
        let berlin = Zones::new("Europe/Berlin", "Europe/Berlin").unwrap();
        let rules = ColumnRules {
            formats: vec!["%Y-%m-%dT%H:%M:%S%.fZ".into()],
            ..ColumnRules::default()
        };
        let c = Column {
            name: "c",
            kind: ColumnKind::Timestamp,
            required: true,
            rule: Rule::Any,
        };
        let r = Reading {
            rules: &rules,
            null_values: &[],
            zones: &berlin,
        };
        let at = |s: &str| {
            Value::Timestamp(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
        };
        assert_eq!(
            type_cell(&Cell::Text("2022-09-11T08:51:47.000Z"), &c, r),
            Ok(at("2022-09-11 10:51:47"))
        );
        // 00:30Z and 01:10Z on 25 October are 02:30 and 02:10 in Berlin (the hour repeats), but
        // their instants keep their order.
        let early = instant_of(&Cell::Text("2026-10-25T00:30:00Z"), r).unwrap();
        let late = instant_of(&Cell::Text("2026-10-25T01:10:00Z"), r).unwrap();
        assert_eq!(late - early, 40 * 60 * 1_000_000);
    }
}
