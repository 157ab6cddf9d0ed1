//! Cron schedules in the configured time zone: when a job is due, and which reporting period
//! each due time stands for.
//!
//! In: a cron expression (five fields, or a nickname such as `@monthly`; parsed by the croner
//! crate) and an IANA zone. Out: due times as UTC instants, computed on the zone's wall clock by
//! croner through jiff: a time that a spring-forward change skips runs at the first minute after
//! the gap, and one that a fall-back change repeats runs once (as Vixie cron does). [`Due`]s
//! collapse the due times missed while nothing ran to one per period, the latest of each, so a
//! job due twice during one downtime runs each period once.

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use super::Period;

/// Which period a due time stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRule {
    /// The month before the due time's month, in the zone: the month that has just ended.
    Previous,
    /// The due time's own month, in the zone (month to date, or a job due on its last day).
    Current,
}

impl PeriodRule {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodRule::Previous => "previous",
            PeriodRule::Current => "current",
        }
    }
}

/// A due time and the period a run for it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub period: Period,
}

/// A cron expression evaluated in one zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: String,
    cron: Cron,
    zone: TimeZone,
    zone_name: String,
}

impl CronSchedule {
    /// Parses `expression` (minute hour day-of-month month day-of-week, or `@yearly`,
    /// `@monthly`, `@weekly`, `@daily`, `@hourly`) for the IANA zone `zone`.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong with the expression or the zone.
    pub fn parse(expression: &str, zone: &str) -> Result<CronSchedule, String> {
        let zone_name = zone.to_string();
        let zone = TimeZone::get(zone).map_err(|e| format!("{zone:?} is not a time zone: {e}"))?;
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(expression.trim())
            .map_err(|e| {
                format!(
                    "{expression:?} is not a cron expression (minute hour day-of-month month day-of-week, e.g. \"0 6 2 * *\"): {e}"
                )
            })?;
        Ok(CronSchedule {
            expression: expression.trim().to_string(),
            cron,
            zone,
            zone_name,
        })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone's name.
    pub fn zone(&self) -> &str {
        &self.zone_name
    }

    fn zoned(&self, t: DateTime<Utc>) -> Option<Zoned> {
        Timestamp::from_microsecond(t.timestamp_micros())
            .ok()
            .map(|ts| ts.to_zoned(self.zone.clone()))
    }

    fn utc(z: &Zoned) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(z.timestamp().as_microsecond())
    }

    /// The first due time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let z = self.zoned(t)?;
        let next = self.cron.find_next_occurrence(&z, false).ok()?;
        Self::utc(&next)
    }

    /// The latest due time at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let z = self.zoned(t)?;
        let previous = self.cron.find_previous_occurrence(&z, true).ok()?;
        Self::utc(&previous)
    }

    /// The month that holds `t` on the zone's calendar.
    pub fn month_of(&self, t: DateTime<Utc>) -> Option<Period> {
        let date = self.zoned(t)?.date();
        Period::new(i32::from(date.year()), date.month() as u32)
    }

    /// The first instant of the month after the one that holds `t`, in the zone.
    fn next_month_start(&self, t: DateTime<Utc>) -> Option<Zoned> {
        let date = self.zoned(t)?.date().first_of_month();
        let next = date.checked_add(1.month()).ok()?;
        next.to_zoned(self.zone.clone()).ok()
    }

    /// The due times after `after` up to and including `now`, collapsed to the latest one of
    /// each month (which is the latest of each period), oldest first. Without `after` (a job
    /// that has never run), only the latest due time at or before `now`: a new job does not
    /// catch up on the past.
    pub fn due(
        &self,
        rule: PeriodRule,
        after: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<Due> {
        let period = |at: DateTime<Utc>| {
            self.month_of(at).map(|m| match rule {
                PeriodRule::Previous => m.previous(),
                PeriodRule::Current => m,
            })
        };
        let Some(after) = after else {
            return self
                .latest_at_or_before(now)
                .and_then(|at| {
                    Some(Due {
                        at,
                        period: period(at)?,
                    })
                })
                .into_iter()
                .collect();
        };
        let mut due = Vec::new();
        let mut cursor = after;
        while let Some(next) = self.next_after(cursor).filter(|n| *n <= now) {
            // The latest due time of the same month, up to now.
            let latest = match self.next_month_start(next) {
                Some(start) if Self::utc(&start).is_some_and(|s| s <= now) => self
                    .cron
                    .find_previous_occurrence(&start, false)
                    .ok()
                    .and_then(|z| Self::utc(&z)),
                _ => self.latest_at_or_before(now),
            }
            .filter(|l| *l >= next)
            .unwrap_or(next);
            match period(latest) {
                Some(p) => due.push(Due {
                    at: latest,
                    period: p,
                }),
                None => break,
            }
            cursor = latest;
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn text(due: &[Due]) -> Vec<String> {
        due.iter()
            .map(|d| format!("{} {}", d.at.format("%Y-%m-%dT%H:%MZ"), d.period))
            .collect()
    }

    fn schedule(expression: &str, zone: &str) -> CronSchedule {
        CronSchedule::parse(expression, zone).unwrap()
    }

    /// One row of the due-job table: a schedule, a zone, a rule, the last answered due time,
    /// "now", and the runs that are due.
    type Row<'a> = (
        &'a str,
        &'a str,
        PeriodRule,
        Option<&'a str>,
        &'a str,
        &'a [&'a str],
    );

    /// The due-job table: each row a schedule, a zone, a rule, the last handled due time and
    /// "now", and the runs that are due, worked out by hand from a calendar.
    #[test]
    fn due_jobs_across_month_ends_leap_years_daylight_saving_and_downtime() {
        let table: &[Row] = &[
            // The monthly pack on the 2nd at 06:00 UTC, after a month's pause: one run.
            (
                "0 6 2 * *",
                "UTC",
                PeriodRule::Previous,
                Some("2026-10-02T06:00:00Z"),
                "2026-11-02T06:00:00Z",
                &["2026-11-02T06:00Z 2026-10"],
            ),
            // The machine was off in March and April: February's and March's packs, in order.
            (
                "0 6 2 * *",
                "UTC",
                PeriodRule::Previous,
                Some("2026-02-02T06:00:00Z"),
                "2026-05-01T09:00:00Z",
                &["2026-03-02T06:00Z 2026-02", "2026-04-02T06:00Z 2026-03"],
            ),
            // Due twice a month; down from 20 September to 20 November: each period once, at
            // its latest due time.
            (
                "0 6 1,15 * *",
                "UTC",
                PeriodRule::Previous,
                Some("2026-09-15T06:00:00Z"),
                "2026-11-20T00:00:00Z",
                &["2026-10-15T06:00Z 2026-09", "2026-11-15T06:00Z 2026-10"],
            ),
            // The last day of each month: 31 January, 29 February (2024 is a leap year), 31 March.
            (
                "0 22 L * *",
                "UTC",
                PeriodRule::Current,
                Some("2023-12-31T22:00:00Z"),
                "2024-04-15T00:00:00Z",
                &[
                    "2024-01-31T22:00Z 2024-01",
                    "2024-02-29T22:00Z 2024-02",
                    "2024-03-31T22:00Z 2024-03",
                ],
            ),
            // The 31st exists in only some months.
            (
                "0 6 31 * *",
                "UTC",
                PeriodRule::Current,
                Some("2026-01-31T06:00:00Z"),
                "2026-08-01T00:00:00Z",
                &[
                    "2026-03-31T06:00Z 2026-03",
                    "2026-05-31T06:00Z 2026-05",
                    "2026-07-31T06:00Z 2026-07",
                ],
            ),
            // 29 February comes only in leap years.
            (
                "0 0 29 2 *",
                "UTC",
                PeriodRule::Current,
                Some("2023-01-01T00:00:00Z"),
                "2029-01-01T00:00:00Z",
                &["2024-02-29T00:00Z 2024-02", "2028-02-29T00:00Z 2028-02"],
            ),
            // 06:00 in Berlin is 05:00 UTC in winter and 04:00 UTC in summer.
            (
                "0 6 2 * *",
                "Europe/Berlin",
                PeriodRule::Previous,
                Some("2026-02-02T05:00:00Z"),
                "2026-04-02T12:00:00Z",
                &["2026-03-02T05:00Z 2026-02", "2026-04-02T04:00Z 2026-03"],
            ),
            // Midnight on the 1st in Berlin is still the last day of the month before in UTC:
            // the period is taken on Berlin's calendar.
            (
                "0 0 1 * *",
                "Europe/Berlin",
                PeriodRule::Previous,
                Some("2026-09-30T22:00:00Z"),
                "2026-11-01T00:00:00Z",
                &["2026-10-31T23:00Z 2026-10"],
            ),
            // A job that has never run takes only its latest due time.
            (
                "0 6 2 * *",
                "UTC",
                PeriodRule::Previous,
                None,
                "2026-11-20T00:00:00Z",
                &["2026-11-02T06:00Z 2026-10"],
            ),
            // Nothing due yet.
            (
                "0 6 2 * *",
                "UTC",
                PeriodRule::Previous,
                Some("2026-11-02T06:00:00Z"),
                "2026-12-02T05:59:00Z",
                &[],
            ),
        ];
        for (expression, zone, rule, after, now, expected) in table {
            let got = schedule(expression, zone).due(*rule, after.map(at), at(now));
            assert_eq!(
                text(&got),
                *expected,
                "{expression} in {zone} after {after:?} at {now}"
            );
        }
    }

    #[test]
    fn a_time_the_spring_change_skips_runs_after_the_gap_and_a_repeated_one_runs_once() {
        let daily = schedule("30 2 * * *", "Europe/Berlin");
        // 29 March 2026: clocks jump from 02:00 to 03:00 in Berlin; 02:30 does not exist, so
        // the run is at 03:00 CEST (01:00 UTC).
        assert_eq!(
            daily.next_after(at("2026-03-28T12:00:00Z")),
            Some(at("2026-03-29T01:00:00Z"))
        );
        assert_eq!(
            daily.next_after(at("2026-03-29T01:00:00Z")),
            Some(at("2026-03-30T00:30:00Z"))
        );
        // 25 October 2026: 02:30 happens twice (CEST, then CET); the job runs at the first.
        assert_eq!(
            daily.next_after(at("2026-10-24T12:00:00Z")),
            Some(at("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            daily.next_after(at("2026-10-25T00:30:00Z")),
            Some(at("2026-10-26T01:30:00Z"))
        );
        // A month of daily runs missed across the spring change collapses to one run.
        let due = daily.due(
            PeriodRule::Previous,
            Some(at("2026-03-01T01:30:00Z")),
            at("2026-03-31T12:00:00Z"),
        );
        assert_eq!(text(&due), ["2026-03-31T00:30Z 2026-02"]);
    }

    #[test]
    fn a_bad_expression_or_zone_says_what_is_wrong() {
        let e = CronSchedule::parse("0 6 2 *", "UTC").unwrap_err();
        assert!(e.starts_with("\"0 6 2 *\" is not a cron expression"), "{e}");
        let e = CronSchedule::parse("0 6 2 * *", "Mars/Olympus").unwrap_err();
        assert!(e.starts_with("\"Mars/Olympus\" is not a time zone"), "{e}");
        assert_eq!(
            schedule("@monthly", "UTC").next_after(at("2026-10-15T00:00:00Z")),
            Some(at("2026-11-01T00:00:00Z"))
        );
    }
}
