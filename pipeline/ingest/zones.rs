//! Moving timestamps between time zones: every timestamp is stored as a wall-clock time in the
//! configured zone, whichever zone its source wrote it in.
//!
//! In: the zone a source writes naive timestamps in, the configured zone, and timestamps (naive
//! wall-clock times or instants). Out: wall-clock times in the configured zone.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

/// The zones timestamps are converted between.
#[derive(Debug, Clone)]
pub struct Zones {
    /// The zone of timestamps written without an offset.
    pub source: jiff::tz::TimeZone,
    /// The configured zone the warehouse stores timestamps in.
    pub target: jiff::tz::TimeZone,
    same: bool,
}

impl Zones {
    /// The zones named `source` and `target` (IANA names).
    ///
    /// # Errors
    ///
    /// A message naming the zone that is not known.
    pub fn new(source: &str, target: &str) -> Result<Zones, String> {
        let zone = |name: &str| {
            jiff::tz::TimeZone::get(name).map_err(|e| format!("time zone {name:?}: {e}"))
        };
        Ok(Zones {
            source: zone(source)?,
            target: zone(target)?,
            same: source == target,
        })
    }

    /// Zones for values that a reader has already placed in `target` (database sources convert
    /// while they read); only text with an explicit offset is still converted.
    ///
    /// # Errors
    ///
    /// As for [`Zones::new`].
    pub fn already_in(target: &str) -> Result<Zones, String> {
        Zones::new(target, target)
    }

    /// An instant, as a wall-clock time in the target zone.
    pub fn instant_in_target(
        &self,
        instant: DateTime<Utc>,
    ) -> std::result::Result<NaiveDateTime, String> {
        let ts = jiff::Timestamp::new(instant.timestamp(), instant.timestamp_subsec_nanos() as i32)
            .map_err(|e| format!("timestamp {instant} is out of range: {e}"))?;
        civil_to_naive(ts.to_zoned(self.target.clone()).datetime())
    }

    /// A timestamp without an offset, read in the source zone and shown in the target zone.
    /// jiff's "compatible" rule (RFC 5545) places a time in a daylight-saving fold at its earlier
    /// instant and a time in a gap after the gap.
    pub fn local_in_target(
        &self,
        local: NaiveDateTime,
    ) -> std::result::Result<NaiveDateTime, String> {
        if self.same {
            return Ok(local);
        }
        let zoned = naive_to_civil(local)?
            .to_zoned(self.source.clone())
            .map_err(|e| format!("timestamp {local} cannot be placed in the source zone: {e}"))?;
        civil_to_naive(zoned.timestamp().to_zoned(self.target.clone()).datetime())
    }
}

impl Zones {
    /// The instant a timestamp without an offset names in the source zone, in microseconds since
    /// 1970 (a time in a daylight-saving fold at its earlier instant, as [`Zones::local_in_target`]).
    pub fn source_instant(&self, local: NaiveDateTime) -> Option<i64> {
        let zoned = naive_to_civil(local)
            .ok()?
            .to_zoned(self.source.clone())
            .ok()?;
        let ts = zoned.timestamp();
        Some(ts.as_microsecond())
    }
}

fn naive_to_civil(local: NaiveDateTime) -> std::result::Result<jiff::civil::DateTime, String> {
    let year =
        i16::try_from(local.year()).map_err(|_| format!("timestamp {local} is out of range"))?;
    jiff::civil::DateTime::new(
        year,
        local.month() as i8,
        local.day() as i8,
        local.hour() as i8,
        local.minute() as i8,
        local.second() as i8,
        local.nanosecond() as i32,
    )
    .map_err(|e| format!("timestamp {local} is out of range: {e}"))
}

fn civil_to_naive(civil: jiff::civil::DateTime) -> std::result::Result<NaiveDateTime, String> {
    chrono::NaiveDate::from_ymd_opt(
        i32::from(civil.year()),
        civil.month() as u32,
        civil.day() as u32,
    )
    .and_then(|d| {
        d.and_hms_nano_opt(
            civil.hour() as u32,
            civil.minute() as u32,
            civil.second() as u32,
            civil.subsec_nanosecond() as u32,
        )
    })
    .ok_or_else(|| format!("{civil} is not a date itvalue can hold"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn timestamps_move_between_zones_across_daylight_saving() {
        let zones = Zones::new("America/New_York", "Europe/Berlin").unwrap();
        // 2026-03-29 01:00 UTC is when Berlin moves from UTC+1 to UTC+2.
        let utc = |s: &str| at(s).and_utc();
        assert_eq!(
            zones.instant_in_target(utc("2026-03-29 00:30:00")),
            Ok(at("2026-03-29 01:30:00"))
        );
        assert_eq!(
            zones.instant_in_target(utc("2026-03-29 01:30:00")),
            Ok(at("2026-03-29 03:30:00"))
        );
        // New York is on UTC-4 from 2026-03-08; 12:00 there is 16:00 UTC, 18:00 in Berlin.
        assert_eq!(
            zones.local_in_target(at("2026-03-30 12:00:00")),
            Ok(at("2026-03-30 18:00:00"))
        );
        // In winter both are on standard time: UTC-5 and UTC+1.
        assert_eq!(
            zones.local_in_target(at("2026-01-15 12:00:00")),
            Ok(at("2026-01-15 18:00:00"))
        );
    }
}
