//! Typing one cell under its column's contract.
//!
//! In: a [`Cell`] as a reader saw it (a spreadsheet cell, later a CSV field) and the [`Column`] it
//! feeds. Out: a typed [`Value`], or the rule the cell broke, worded for the person who has to fix
//! the spreadsheet. A value that does not parse is never turned into NULL or zero.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rust_decimal::Decimal;

use super::contract::{Column, ColumnKind, Rule};

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
    /// The cell as the user sees it, for reject reports.
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
            Cell::Text(s) => format!("the text {s:?}"),
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

/// Types `cell` for `column`, or says which rule it broke.
pub fn type_cell(cell: &Cell, column: &Column) -> Result<Value, String> {
    if let Cell::Error(e) = cell {
        return Err(format!("the cell holds the error value {e}"));
    }
    let value = match column.kind {
        ColumnKind::Text => text(cell),
        ColumnKind::Integer => integer(cell),
        ColumnKind::Money => money(cell),
        ColumnKind::Number => number(cell),
        ColumnKind::Date => date(cell),
        ColumnKind::Timestamp => timestamp(cell),
        ColumnKind::Period => period(cell),
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

fn trimmed<'a>(cell: &Cell<'a>) -> Option<&'a str> {
    match cell {
        Cell::Text(s) => Some(s.trim()),
        _ => None,
    }
}

fn text(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Text(s) if s.trim().is_empty() => Value::Null,
        Cell::Text(s) => Value::Text(s.trim().to_string()),
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

fn integer(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Int(i) => Value::Integer(*i),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Integer(*f as i64),
        Cell::Text(_) => match trimmed(cell)? {
            "" => Value::Null,
            s => Value::Integer(without_grouping(s)?.parse().ok()?),
        },
        _ => return None,
    })
}

fn money(cell: &Cell) -> Option<Value> {
    let decimal = match cell {
        Cell::Empty => return Some(Value::Null),
        Cell::Int(i) => Decimal::from(*i),
        // Display gives the shortest text that reads back as the same double, so an amount
        // typed as 1234.56 comes back as exactly 1234.56.
        Cell::Float(f) if f.is_finite() => Decimal::from_str(&f.to_string()).ok()?,
        Cell::Text(_) => match trimmed(cell)? {
            "" => return Some(Value::Null),
            s => {
                let (negative, body) = match s.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
                    Some(inner) => (true, inner),
                    None => (false, s),
                };
                let d = Decimal::from_str(&without_grouping(body)?).ok()?;
                if negative { -d } else { d }
            }
        },
        _ => return None,
    };
    let d = decimal.normalize();
    if d.scale() > 2 || d.abs() >= Decimal::from(MONEY_LIMIT) {
        return None;
    }
    let mut d = d;
    d.rescale(2);
    Some(Value::Money(d))
}

fn number(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::Int(i) => Value::Number(*i as f64),
        Cell::Float(f) if f.is_finite() => Value::Number(*f),
        Cell::Text(_) => match trimmed(cell)? {
            "" => Value::Null,
            s => match s.strip_suffix('%') {
                Some(p) => {
                    Value::Number(finite(without_grouping(p.trim())?.parse().ok()?)? / 100.0)
                }
                None => Value::Number(finite(without_grouping(s)?.parse().ok()?)?),
            },
        },
        _ => return None,
    })
}

fn finite(f: f64) -> Option<f64> {
    f.is_finite().then_some(f)
}

/// Removes thousands separators when they group digits in threes ("1,234,567.5"), and refuses
/// text where a comma sits anywhere else, so that "1,5" is not read as 15.
fn without_grouping(s: &str) -> Option<String> {
    if !s.contains(',') {
        return Some(s.to_string());
    }
    let unsigned = s.trim_start_matches(['-', '+']);
    let integer_part = unsigned.split('.').next()?;
    let mut groups = integer_part.split(',');
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_digit());
    let rest_ok = groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    (first_ok && rest_ok).then(|| s.replace(',', ""))
}

fn date(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::DateTime(dt) if dt.time() == NaiveTime::MIN => Value::Date(dt.date()),
        Cell::Text(_) => match trimmed(cell)? {
            "" => Value::Null,
            s => Value::Date(parse_date_text(s)?),
        },
        _ => return None,
    })
}

fn timestamp(cell: &Cell) -> Option<Value> {
    Some(match cell {
        Cell::Empty => Value::Null,
        Cell::DateTime(dt) => Value::Timestamp(round_to_millis(*dt)),
        Cell::Text(_) => match trimmed(cell)? {
            "" => Value::Null,
            s => Value::Timestamp(parse_timestamp_text(s)?),
        },
        _ => return None,
    })
}

fn period(cell: &Cell) -> Option<Value> {
    let day = match cell {
        Cell::Empty => return Some(Value::Null),
        Cell::DateTime(dt) => dt.date(),
        Cell::Text(_) => match trimmed(cell)? {
            "" => return Some(Value::Null),
            s => parse_date_text(s)
                .or_else(|| NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok())?,
        },
        _ => return None,
    };
    Some(Value::Date(day.with_day(1)?))
}

fn parse_date_text(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

fn parse_timestamp_text(s: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| parse_date_text(s).map(|d| d.and_time(NaiveTime::MIN)))
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
        (Rule::OneOf(accepted), Value::Text(s), _) => {
            let normalised = s.to_lowercase().replace([' ', '-'], "_");
            match accepted.iter().find(|a| **a == normalised) {
                Some(a) => Ok(Value::Text((*a).to_string())),
                None => Err(format!("{s:?} is not one of: {}", accepted.join(", "))),
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

    fn money_of(cell: Cell) -> Result<Value, String> {
        type_cell(&cell, &column(ColumnKind::Money, true, Rule::Any))
    }

    fn cents(s: &str) -> Value {
        Value::Money(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn money_from_a_double_keeps_the_typed_cents() {
        assert_eq!(money_of(Cell::Float(1234.56)), Ok(cents("1234.56")));
        assert_eq!(
            money_of(Cell::Float(0.1 + 0.2)),
            Err(
                "expected an amount with at most 2 decimals, found the number 0.30000000000000004"
                    .into()
            )
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
            type_cell(&Cell::Text("Blue-Green"), &c),
            Ok(Value::Text("blue_green".into()))
        );
        assert_eq!(
            type_cell(&Cell::Text("rolled back"), &c),
            Ok(Value::Text("rolled_back".into()))
        );
        assert_eq!(
            type_cell(&Cell::Text("dark launch"), &c),
            Err("\"dark launch\" is not one of: blue_green, rolled_back".into())
        );
    }

    #[test]
    fn ranges_are_checked_after_typing() {
        let c = column(ColumnKind::Integer, true, Rule::Between(1.0, 4.0));
        assert_eq!(type_cell(&Cell::Float(2.0), &c), Ok(Value::Integer(2)));
        assert_eq!(
            type_cell(&Cell::Int(5), &c),
            Err("5 is outside the range 1 to 4".into())
        );
        assert_eq!(
            type_cell(&Cell::Float(2.5), &c),
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
        assert_eq!(type_cell(&Cell::DateTime(dt), &c), Ok(march.clone()));
        assert_eq!(type_cell(&Cell::Text("2025-03"), &c), Ok(march.clone()));
        assert_eq!(type_cell(&Cell::Text("2025-03-15"), &c), Ok(march));
        assert_eq!(
            type_cell(&Cell::Int(202503), &c),
            Err("expected a month (YYYY-MM), found the number 202503".into())
        );
    }

    #[test]
    fn dates_refuse_plain_numbers_and_times_of_day() {
        let c = column(ColumnKind::Date, false, Rule::Any);
        assert_eq!(
            type_cell(&Cell::Float(45000.0), &c),
            Err("expected a date, found the number 45000".into())
        );
        let noon = NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            type_cell(&Cell::DateTime(noon), &c),
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
            type_cell(&Cell::DateTime(almost), &c),
            Ok(Value::Timestamp(expected))
        );
        assert_eq!(
            type_cell(&Cell::Text("2025-01-02 09:30"), &c),
            Ok(Value::Timestamp(expected))
        );
    }

    #[test]
    fn numbers_accept_percent_text() {
        let c = column(ColumnKind::Number, true, Rule::Between(0.0, 1.0));
        assert_eq!(type_cell(&Cell::Text("85%"), &c), Ok(Value::Number(0.85)));
        assert_eq!(
            type_cell(&Cell::Float(1.2), &c),
            Err("1.2 is outside the range 0 to 1".into())
        );
    }
}
