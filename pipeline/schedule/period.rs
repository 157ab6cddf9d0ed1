//! The reporting period: a calendar month written `YYYY-MM`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};

/// A calendar month. Runs compute their figures as of the end of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    /// The month `month` (1-12) of `year`, or `None` if out of range.
    pub fn new(year: i32, month: u32) -> Option<Period> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year))
            .then_some(Period { year, month })
    }

    /// The month that contains `day`.
    pub fn containing(day: NaiveDate) -> Period {
        Period {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a Period is a valid month")
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - Days::new(1)
    }

    /// The following month.
    pub fn next(self) -> Period {
        self.plus(1)
    }

    /// The month before.
    pub fn previous(self) -> Period {
        self.plus(-1)
    }

    /// The month `months` later (earlier when negative).
    pub fn plus(self, months: i32) -> Period {
        let first = self.first_day();
        let day = if months >= 0 {
            first + Months::new(months.unsigned_abs())
        } else {
            first - Months::new(months.unsigned_abs())
        };
        Period::containing(day)
    }

    /// January of the same year, where year-to-date figures start.
    pub fn year_start(self) -> Period {
        Period {
            year: self.year,
            month: 1,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Why text is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a month: expected YYYY-MM, e.g. 2026-10")]
pub struct ParsePeriodError(pub String);

impl FromStr for Period {
    type Err = ParsePeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = || ParsePeriodError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(fail)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(fail());
        }
        let year = y.parse().map_err(|_| fail())?;
        let month = m.parse().map_err(|_| fail())?;
        Period::new(year, month).ok_or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_yyyy_mm() {
        assert_eq!(p("2026-02").to_string(), "2026-02");
        for bad in ["2026-13", "2026-2", "26-02", "2026/02", "2026-00", ""] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
        assert_eq!(
            "2026-13".parse::<Period>().unwrap_err().to_string(),
            "\"2026-13\" is not a month: expected YYYY-MM, e.g. 2026-10"
        );
    }

    #[test]
    fn month_arithmetic_crosses_years_and_knows_leap_februaries() {
        assert_eq!(p("2025-12").next(), p("2026-01"));
        assert_eq!(p("2026-01").previous(), p("2025-12"));
        assert_eq!(p("2026-10").plus(-11), p("2025-11"));
        assert_eq!(
            p("2024-02").last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(
            p("2025-02").last_day(),
            NaiveDate::from_ymd_opt(2025, 2, 28).unwrap()
        );
        assert_eq!(p("2026-10").year_start(), p("2026-01"));
    }
}
