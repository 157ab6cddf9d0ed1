//! Wall-clock time in the configured zone and the instants it names. The warehouse stores every
//! timestamp as a wall-clock time in the configured `timezone`; a duration between two of them is
//! measured on the instants, so that a daylight-saving change never adds or removes an hour. The
//! warehouse's `to_utc` macro (for the SQL models) and [`LocalTime`] (for the figures computed in
//! Polars) both follow the same [`offset_stretches`], so SQL and Rust agree to the second.
//!
//! In: an IANA zone and a range of years. Out: the zone's offset stretches, and instants in
//! microseconds since 1970 for wall-clock times in microseconds.

use chrono::{DateTime, NaiveDateTime};

/// The offset of the configured zone from UTC over `years`, as consecutive stretches of local
/// wall-clock time: `(local_from, local_until, offset_seconds)`. Each stretch runs from one
/// transition to the next; where clocks go back, two stretches overlap and the earlier one wins
/// (the first of the repeated hour), and where they go forward the earlier stretch also covers the
/// skipped hour. The models use it to compute durations on instants ([`crate::warehouse`]).
pub fn offset_stretches(
    zone: &jiff::tz::TimeZone,
    years: std::ops::RangeInclusive<i16>,
) -> Vec<(NaiveDateTime, NaiveDateTime, i32)> {
    let start = jiff::civil::date(*years.start(), 1, 1)
        .at(0, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp());
    let end = jiff::civil::date(years.end().saturating_add(1), 1, 1)
        .at(0, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp());
    let (Ok(start), Ok(end)) = (start, end) else {
        return Vec::new();
    };
    let mut instants = vec![start];
    instants.extend(
        zone.following(start)
            .take_while(|t| t.timestamp() < end)
            .map(|t| t.timestamp()),
    );
    instants.push(end);
    let local = |t: jiff::Timestamp, offset: i32| {
        DateTime::from_timestamp(t.as_second() + i64::from(offset), 0).map(|d| d.naive_utc())
    };
    let mut stretches = Vec::new();
    for pair in instants.windows(2) {
        let offset = zone.to_offset(pair[0]).seconds();
        let next_offset = zone.to_offset(pair[1]).seconds();
        // A gap (clocks forward) is covered by the stretch before it.
        let until = pair[1].as_second() + i64::from(offset.max(next_offset));
        if let (Some(from), Some(until)) = (
            local(pair[0], offset),
            DateTime::from_timestamp(until, 0).map(|d| d.naive_utc()),
        ) {
            stretches.push((from, until, offset));
        }
    }
    stretches
}

/// Converts wall-clock times of the configured zone into instants, as the warehouse's `to_utc`
/// macro does: a time in the hour repeated when clocks go back is taken at its first occurrence,
/// and one in the skipped hour with the offset before the change.
#[derive(Debug, Clone)]
pub struct LocalTime {
    /// `(local_until, offset)` in microseconds, in order: a wall-clock time before `local_until`
    /// (and not before an earlier stretch's) has that offset.
    stretches: Vec<(i64, i64)>,
}

impl LocalTime {
    /// The zone named `zone` (IANA) over `years` and one year either side.
    ///
    /// # Errors
    ///
    /// A message naming the zone when it is not known.
    pub fn new(zone: &str, years: (i32, i32)) -> Result<LocalTime, String> {
        let tz = jiff::tz::TimeZone::get(zone).map_err(|e| format!("time zone {zone:?}: {e}"))?;
        let clamp = |y: i32| y.clamp(1900, 2200) as i16;
        let stretches = offset_stretches(&tz, clamp(years.0 - 1)..=clamp(years.1 + 1))
            .into_iter()
            .map(|(_, until, offset)| {
                (
                    until.and_utc().timestamp_micros(),
                    i64::from(offset) * 1_000_000,
                )
            })
            .collect();
        Ok(LocalTime { stretches })
    }

    /// UTC: every wall-clock time is its own instant.
    pub fn utc() -> LocalTime {
        LocalTime {
            stretches: Vec::new(),
        }
    }

    /// The instant (microseconds since 1970, UTC) of a wall-clock time given in microseconds.
    pub fn instant(&self, local: i64) -> i64 {
        if self.stretches.is_empty() {
            return local;
        }
        let at = self.stretches.partition_point(|(until, _)| *until <= local);
        let (_, offset) = self.stretches[at.min(self.stretches.len() - 1)];
        local - offset
    }

    /// The instant of a wall-clock date-time, in microseconds since 1970.
    pub fn instant_of(&self, local: NaiveDateTime) -> i64 {
        self.instant(local.and_utc().timestamp_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn offset_stretches_cover_berlin_2026_with_the_gap_and_the_fold() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let stretches = offset_stretches(&berlin, 2026..=2026);
        assert_eq!(
            stretches,
            [
                // Winter time until 2026-03-29 01:00 UTC; the skipped 02:00-03:00 stays in it.
                (at("2026-01-01 01:00:00"), at("2026-03-29 03:00:00"), 3600),
                // Summer time until 2026-10-25 01:00 UTC, 03:00 local.
                (at("2026-03-29 03:00:00"), at("2026-10-25 03:00:00"), 7200),
                // Winter again; 02:00-03:00 local is in both, and the summer stretch comes first.
                (at("2026-10-25 02:00:00"), at("2027-01-01 01:00:00"), 3600),
            ]
        );
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(
            offset_stretches(&utc, 2026..=2026),
            [(at("2026-01-01 00:00:00"), at("2027-01-01 00:00:00"), 0)]
        );
    }

    #[test]
    fn local_time_measures_hours_across_both_daylight_saving_changes() {
        let berlin = LocalTime::new("Europe/Berlin", (2026, 2026)).unwrap();
        let hours = |from: &str, to: &str| {
            (berlin.instant_of(at(to)) - berlin.instant_of(at(from))) as f64 / 3.6e9
        };
        // 01:00 to 04:00 on 2026-03-29 spans the skipped hour: two hours passed.
        assert_eq!(hours("2026-03-29 01:00:00", "2026-03-29 04:00:00"), 2.0);
        // 01:00 to 04:00 on 2026-10-25 spans the repeated hour: four hours passed.
        assert_eq!(hours("2026-10-25 01:00:00", "2026-10-25 04:00:00"), 4.0);
        assert_eq!(hours("2026-06-01 00:00:00", "2026-06-02 00:00:00"), 24.0);
        // Winter time is UTC+1.
        assert_eq!(
            berlin.instant_of(at("2026-01-15 13:00:00")),
            at("2026-01-15 12:00:00").and_utc().timestamp_micros()
        );
        let utc = LocalTime::utc();
        assert_eq!(utc.instant(42), 42);
    }
}
