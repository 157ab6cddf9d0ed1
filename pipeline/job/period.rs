//! The period rule: which month a run reports when none is given.
//!
//! In: the instant the run takes as "now", the configured zone and the loaded data. Out: the
//! latest month that has ended in that zone and that the data covers.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::schedule::Period;
use crate::warehouse::Warehouse;

/// The month that holds `now` in `zone`: a run at 00:30 on 1 November in Berlin is in November,
/// although it is still October in UTC. The configuration refused unknown zones when it loaded;
/// should jiff still fail to place the instant, the month is taken in UTC.
pub fn current_month(now: DateTime<Utc>, zone: &str) -> Period {
    let local = jiff::Timestamp::from_second(now.timestamp())
        .ok()
        .zip(jiff::tz::TimeZone::get(zone).ok())
        .map(|(t, tz)| t.to_zoned(tz).date());
    match local.and_then(|d| Period::new(i32::from(d.year()), d.month() as u32)) {
        Some(p) => p,
        None => Period::containing(now.date_naive()),
    }
}

/// The period to report: the one asked for, else the latest month before the current one (in
/// the configured zone) that the loaded data covers.
///
/// # Errors
///
/// [`Error::NoData`] when nothing dated is loaded in a month that has ended.
pub fn reporting_period(
    asked: Option<Period>,
    warehouse: &Warehouse,
    now: DateTime<Utc>,
    zone: &str,
) -> Result<Period> {
    if let Some(p) = asked {
        return Ok(p);
    }
    let current = current_month(now, zone);
    warehouse.latest_month_before(current)?.ok_or_else(|| {
        Error::NoData(format!(
            "no loaded data falls in a month that has ended (before {current} in {zone}): nothing to report; load data or pass --period"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_current_month_is_taken_in_the_configured_zone() {
        let p = |s: &str| s.parse::<Period>().unwrap();
        // 23:30 UTC on 31 October is 00:30 on 1 November in Berlin.
        assert_eq!(
            current_month(at("2026-10-31T23:30:00Z"), "Europe/Berlin"),
            p("2026-11")
        );
        assert_eq!(
            current_month(at("2026-10-31T23:30:00Z"), "UTC"),
            p("2026-10")
        );
        // 03:00 UTC on 1 November is still 31 October in New York.
        assert_eq!(
            current_month(at("2026-11-01T03:00:00Z"), "America/New_York"),
            p("2026-10")
        );
    }
}
