//! The DORA performance tiers of the 2021 and 2023 State of DevOps reports, with the criteria
//! Apache DevLake turns the reports' ranges into (DevLake's metric pages "DORA - Deployment
//! Frequency", "Median Lead Time for Changes", "Change Failure Rate" and "Median Time to Restore
//! Service", v0.21), so that a figure lands in the tier DevLake's dashboard would show.
//!
//! In: a figure and the report's year. Out: its [`Tier`].

/// A DORA performance tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Elite,
    High,
    Medium,
    Low,
}

impl Tier {
    /// The tier's name in the metric tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Elite => "elite",
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
        }
    }
}

/// Deployment frequency from the six months to the period: the median deployment days per week
/// and per month, and the deployment days in all.
pub fn frequency(year: u16, per_week: f64, per_month: f64, days_in_six_months: i64) -> Tier {
    if per_week >= 7.0 {
        Tier::Elite
    } else if year >= 2023 {
        if per_week >= 1.0 {
            Tier::High
        } else if per_month >= 1.0 {
            Tier::Medium
        } else {
            Tier::Low
        }
    } else if per_month >= 1.0 {
        Tier::High
    } else if days_in_six_months >= 1 {
        Tier::Medium
    } else {
        Tier::Low
    }
}

/// Change lead time, in days.
pub fn lead_time(year: u16, days: f64) -> Tier {
    let hours = days * 24.0;
    if year >= 2023 {
        match days {
            d if d < 1.0 => Tier::Elite,
            d if d < 7.0 => Tier::High,
            d if d < 30.0 => Tier::Medium,
            _ => Tier::Low,
        }
    } else {
        match days {
            _ if hours < 1.0 => Tier::Elite,
            d if d < 7.0 => Tier::High,
            d if d < 180.0 => Tier::Medium,
            _ => Tier::Low,
        }
    }
}

/// Change failure rate, a share from 0 to 1.
pub fn failure_rate(year: u16, rate: f64) -> Tier {
    let bounds = if year >= 2023 {
        [0.05, 0.10, 0.15]
    } else {
        [0.15, 0.20, 0.30]
    };
    match rate {
        r if r <= bounds[0] => Tier::Elite,
        r if r <= bounds[1] => Tier::High,
        r if r <= bounds[2] => Tier::Medium,
        _ => Tier::Low,
    }
}

/// Failed deployment recovery time, in hours (the same criteria in both reports).
pub fn recovery(hours: f64) -> Tier {
    match hours {
        h if h < 1.0 => Tier::Elite,
        h if h < 24.0 => Tier::High,
        h if h < 168.0 => Tier::Medium,
        _ => Tier::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_devlakes_criteria_for_each_report() {
        // Deploying on 3 days of the median week: high in 2023; in 2021 it takes a deployment
        // day in the median month, which such a team has.
        assert_eq!(frequency(2023, 3.0, 13.0, 78), Tier::High);
        assert_eq!(frequency(2021, 3.0, 13.0, 78), Tier::High);
        assert_eq!(frequency(2023, 7.0, 30.0, 180), Tier::Elite);
        // Twice a month: medium in 2023 (the median week has none), high in 2021.
        assert_eq!(frequency(2023, 0.0, 2.0, 12), Tier::Medium);
        assert_eq!(frequency(2021, 0.0, 2.0, 12), Tier::High);
        // Once in six months: low in 2023, medium in 2021.
        assert_eq!(frequency(2023, 0.0, 0.0, 1), Tier::Low);
        assert_eq!(frequency(2021, 0.0, 0.0, 1), Tier::Medium);
        assert_eq!(frequency(2021, 0.0, 0.0, 0), Tier::Low);

        assert_eq!(lead_time(2023, 0.5), Tier::Elite);
        assert_eq!(lead_time(2021, 0.5), Tier::High);
        assert_eq!(lead_time(2021, 0.5 / 24.0), Tier::Elite);
        assert_eq!(lead_time(2023, 20.0), Tier::Medium);
        assert_eq!(lead_time(2023, 30.0), Tier::Low);
        assert_eq!(lead_time(2021, 30.0), Tier::Medium);

        assert_eq!(failure_rate(2023, 0.0), Tier::Elite);
        assert_eq!(failure_rate(2023, 0.05), Tier::Elite);
        assert_eq!(failure_rate(2023, 0.12), Tier::Medium);
        assert_eq!(failure_rate(2021, 0.12), Tier::Elite);
        assert_eq!(failure_rate(2021, 0.31), Tier::Low);

        assert_eq!(recovery(0.5), Tier::Elite);
        assert_eq!(recovery(23.9), Tier::High);
        assert_eq!(recovery(24.0), Tier::Medium);
        assert_eq!(recovery(168.0), Tier::Low);
    }
}
