//! Excel's financial functions, with Excel's conventions, so that a figure itvalue writes and the
//! live formula beside it agree: XNPV and XIRR over dated flows (dates as whole days, the year
//! fraction (dᵢ − d₀)/365 with d₀ the first date), and NPV and IRR over periodic flows.
//!
//! In: flows (and their dates). Out: the figure, or why there is none ([`NoRate`]).
//!
//! Which root XIRR returns when the flows change sign more than once (several rates then solve
//! them): the one Newton's method reaches from Excel's guess of 0.1, as Excel does; when Newton
//! cannot reach one (it leaves the domain above −100%, or does not settle), the root nearest to
//! 0.1 among the sign changes found on a scan of rates from −99.99% to 1,000,000%, refined by
//! bisection. A rate is returned only if the flows' XNPV there is zero to 1e-9 of the largest
//! flow; near −100% that precision cannot be had, and there is then no rate.
//!
//! Excel stops iterating within its own tolerance (its displayed XIRR of the documentation's
//! example is 0.373362535); this module refines to the exact root (0.3733625335188315), within
//! 1e-8 of Excel's figure.

use chrono::NaiveDate;

/// Why a rate of return could not be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRate {
    /// No flow, or the dates and values do not pair up.
    NoFlows,
    /// All flows have one sign (or are zero): no rate makes their present value zero.
    NoSignChange,
    /// The flows change sign, but no root was found in the range scanned.
    NotFound,
}

impl NoRate {
    /// The reason, in words for a notes column.
    pub fn reason(self) -> &'static str {
        match self {
            NoRate::NoFlows => "no cash flows",
            NoRate::NoSignChange => "the cash flows never change sign",
            NoRate::NotFound => {
                "no rate found that brings the cash flows' present value to zero (to 1e-9 of the largest flow)"
            }
        }
    }
}

/// Excel's XNPV: Σ vᵢ / (1 + rate)^((dᵢ − d₀)/365), d₀ the first date.
///
/// `None` when there are no flows, the dates and values differ in number, or the rate is at or
/// below −100%.
///
/// ```
/// use chrono::NaiveDate;
/// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
/// let npv = itvalue::metrics::excel::xnpv(
///     0.09,
///     &[-10_000.0, 2_750.0, 4_250.0, 3_250.0, 2_750.0],
///     &[d(2008, 1, 1), d(2008, 3, 1), d(2008, 10, 30), d(2009, 2, 15), d(2009, 4, 1)],
/// );
/// assert!((npv.unwrap() - 2_086.647_602_031_535).abs() < 1e-9);
/// ```
pub fn xnpv(rate: f64, values: &[f64], dates: &[NaiveDate]) -> Option<f64> {
    if values.is_empty() || values.len() != dates.len() || rate <= -1.0 || !rate.is_finite() {
        return None;
    }
    let years = year_fractions(dates);
    Some(present_value(rate, values, &years))
}

/// Excel's XIRR: the rate at which [`xnpv`] of the flows is zero. See the module's notes on which
/// root is returned when there are several.
///
/// # Errors
///
/// [`NoRate`] saying why there is no rate.
pub fn xirr(values: &[f64], dates: &[NaiveDate]) -> Result<f64, NoRate> {
    if values.is_empty() || values.len() != dates.len() {
        return Err(NoRate::NoFlows);
    }
    solve(values, &year_fractions(dates))
}

/// Excel's NPV over periodic flows: Σ vᵢ / (1 + rate)^i for i from 1, the first flow discounted
/// one period (Excel's convention; add an undiscounted flow yourself for a time-zero outlay).
pub fn npv(rate: f64, values: &[f64]) -> Option<f64> {
    if values.is_empty() || rate <= -1.0 || !rate.is_finite() {
        return None;
    }
    let periods: Vec<f64> = (1..=values.len()).map(|i| i as f64).collect();
    Some(present_value(rate, values, &periods))
}

/// Excel's IRR over periodic flows: the rate at which Σ vᵢ / (1 + rate)^i for i from 0 is zero.
///
/// # Errors
///
/// [`NoRate`] saying why there is no rate.
pub fn irr(values: &[f64]) -> Result<f64, NoRate> {
    if values.is_empty() {
        return Err(NoRate::NoFlows);
    }
    let periods: Vec<f64> = (0..values.len()).map(|i| i as f64).collect();
    solve(values, &periods)
}

/// Years from the first date to each date, counting days as Excel does (whole days over 365).
fn year_fractions(dates: &[NaiveDate]) -> Vec<f64> {
    let first = dates[0];
    dates
        .iter()
        .map(|d| (*d - first).num_days() as f64 / 365.0)
        .collect()
}

fn present_value(rate: f64, values: &[f64], times: &[f64]) -> f64 {
    values
        .iter()
        .zip(times)
        .map(|(v, t)| v / (1.0 + rate).powf(*t))
        .sum()
}

fn derivative(rate: f64, values: &[f64], times: &[f64]) -> f64 {
    values
        .iter()
        .zip(times)
        .map(|(v, t)| -t * v / (1.0 + rate).powf(t + 1.0))
        .sum()
}

/// The guess Excel starts from.
const GUESS: f64 = 0.1;

fn solve(values: &[f64], times: &[f64]) -> Result<f64, NoRate> {
    let positive = values.iter().any(|v| *v > 0.0);
    let negative = values.iter().any(|v| *v < 0.0);
    if !(positive && negative) {
        return Err(NoRate::NoSignChange);
    }
    if let Some(root) = newton(values, times) {
        return Ok(root);
    }
    // A bracketed root counts only if the flows' present value there is zero to the precision
    // asked of every rate (near −100% the present value grows too steep to compute it).
    let scale = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    bracketed(values, times)
        .filter(|r| present_value(*r, values, times).abs() <= 1e-9 * scale.max(1.0))
        .ok_or(NoRate::NotFound)
}

/// Newton's method from 0.1, refined until the step no longer changes the rate.
fn newton(values: &[f64], times: &[f64]) -> Option<f64> {
    let scale = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut rate = GUESS;
    for _ in 0..200 {
        let f = present_value(rate, values, times);
        let d = derivative(rate, values, times);
        if !f.is_finite() || !d.is_finite() || d == 0.0 {
            return None;
        }
        let next = rate - f / d;
        if !next.is_finite() || next <= -1.0 {
            return None;
        }
        if (next - rate).abs() <= 1e-15 * next.abs().max(1.0) {
            let residual = present_value(next, values, times);
            return (residual.abs() <= 1e-9 * scale.max(1.0)).then_some(next);
        }
        rate = next;
    }
    // Not settled to the last digit: accept it only if it is a root to the precision asked of it.
    let residual = present_value(rate, values, times);
    (residual.abs() <= 1e-9 * scale.max(1.0)).then_some(rate)
}

/// The root nearest to 0.1 among the sign changes of the present value on a scan of rates,
/// refined by bisection to the last representable digit.
fn bracketed(values: &[f64], times: &[f64]) -> Option<f64> {
    let f = |r: f64| present_value(r, values, times);
    // Dense near −100% and around ordinary rates, sparse towards extreme ones.
    let mut grid: Vec<f64> = vec![-0.9999, -0.999, -0.99, -0.95, -0.9];
    grid.extend((-17..=20).map(|i| i as f64 * 0.05));
    grid.extend([
        1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1_000.0, 10_000.0,
    ]);
    let mut brackets: Vec<(f64, f64)> = Vec::new();
    for pair in grid.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (fa, fb) = (f(a), f(b));
        if fa.is_finite() && fb.is_finite() && (fa == 0.0 || fa.signum() != fb.signum()) {
            brackets.push((a, b));
        }
    }
    let (mut lo, mut hi) = brackets.into_iter().min_by(|x, y| {
        let distance = |(a, b): &(f64, f64)| ((a + b) / 2.0 - GUESS).abs();
        distance(x).total_cmp(&distance(y))
    })?;
    let mut f_lo = f(lo);
    if f_lo == 0.0 {
        return Some(lo);
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        let f_mid = f(mid);
        if f_mid == 0.0 {
            return Some(mid);
        }
        if f_mid.signum() == f_lo.signum() {
            lo = mid;
            f_lo = f_mid;
        } else {
            hi = mid;
        }
    }
    Some((lo + hi) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The example of Microsoft's XIRR and XNPV documentation.
    fn golden() -> (Vec<f64>, Vec<NaiveDate>) {
        (
            vec![-10_000.0, 2_750.0, 4_250.0, 3_250.0, 2_750.0],
            vec![
                d(2008, 1, 1),
                d(2008, 3, 1),
                d(2008, 10, 30),
                d(2009, 2, 15),
                d(2009, 4, 1),
            ],
        )
    }

    #[test]
    fn xirr_of_the_documentation_example_is_the_exact_root_and_excels_figure() {
        let (values, dates) = golden();
        let rate = xirr(&values, &dates).unwrap();
        assert!((rate - 0.373_362_533_518_831_5).abs() < 1e-10, "{rate}");
        assert!((rate - 0.373_362_535).abs() < 1e-8, "{rate}");
        assert!(xnpv(rate, &values, &dates).unwrap().abs() < 1e-7);
    }

    #[test]
    fn xnpv_of_the_documentation_example_is_excels_figure() {
        // Microsoft documents 2,086.65 at 9%; the exact sum, worked out term by term:
        // −10000 + 2750/1.09^(60/365) + 4250/1.09^(303/365) + 3250/1.09^(411/365)
        // + 2750/1.09^(456/365).
        let (values, dates) = golden();
        let expected = -10_000.0
            + 2_750.0 / 1.09_f64.powf(60.0 / 365.0)
            + 4_250.0 / 1.09_f64.powf(303.0 / 365.0)
            + 3_250.0 / 1.09_f64.powf(411.0 / 365.0)
            + 2_750.0 / 1.09_f64.powf(456.0 / 365.0);
        let npv = xnpv(0.09, &values, &dates).unwrap();
        assert_eq!(npv, expected);
        assert!((npv - 2_086.65).abs() < 0.005);
    }

    #[test]
    fn flows_of_one_sign_have_no_rate_and_say_why() {
        let dates = [d(2026, 1, 31), d(2026, 2, 28)];
        assert_eq!(xirr(&[-100.0, -50.0], &dates), Err(NoRate::NoSignChange));
        assert_eq!(xirr(&[0.0, 0.0], &dates), Err(NoRate::NoSignChange));
        assert_eq!(xirr(&[], &[]), Err(NoRate::NoFlows));
        assert_eq!(
            NoRate::NoSignChange.reason(),
            "the cash flows never change sign"
        );
    }

    #[test]
    fn several_sign_changes_give_the_root_newton_reaches_from_a_tenth() {
        // −100, +230, −132 a period apart: (1 + r) is 1.1 or 1.2, so the rates 10% and 20%.
        assert!((irr(&[-100.0, 230.0, -132.0]).unwrap() - 0.1).abs() < 1e-12);
        // −100, +205, −105 a period apart: 1 + r is (205 ± √25)/200, the rates 0% and 5%.
        // From 0.1, Newton comes down to 5%, the root nearer its guess.
        let rate = irr(&[-100.0, 205.0, -105.0]).unwrap();
        assert!((rate - 0.05).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn when_newton_leaves_the_domain_the_bracketed_root_is_found() {
        // A 99.9% loss: from 0.1 Newton's first step lands far below −100%.
        let dates = [d(2025, 1, 1), d(2026, 1, 1)];
        let rate = xirr(&[-1_000.0, 1.0], &dates).unwrap();
        // (1 + r)^(365/365) = 1/1000.
        assert!((rate - (-0.999)).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn periodic_npv_discounts_the_first_flow_one_period_as_excel_does() {
        // Excel's documentation: NPV(10%, −10000, 3000, 4200, 6800) = 1,188.44.
        let npv = npv(0.1, &[-10_000.0, 3_000.0, 4_200.0, 6_800.0]).unwrap();
        assert!((npv - 1_188.443_412_335_221_6).abs() < 1e-9, "{npv}");
        // IRR(−70000, 12000, 15000, 18000, 21000, 26000) = 8.66% in Excel's documentation.
        let rate = irr(&[-70_000.0, 12_000.0, 15_000.0, 18_000.0, 21_000.0, 26_000.0]).unwrap();
        assert!((rate - 0.086_630_948_036_531_6).abs() < 1e-10, "{rate}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Whatever rate XIRR returns makes the flows' XNPV zero, to 1e-9 of the largest flow.
        #[test]
        fn xnpv_at_the_returned_xirr_is_zero(
            flows in proptest::collection::vec((-1.0e6..1.0e6_f64, 1..400_i64), 2..40),
        ) {
            let mut date = d(2020, 1, 1);
            let mut values = Vec::new();
            let mut dates = Vec::new();
            for (value, gap) in &flows {
                values.push(*value);
                dates.push(date);
                date += chrono::Duration::days(*gap);
            }
            let largest = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            if let Ok(rate) = xirr(&values, &dates) {
                proptest::prop_assert!(rate > -1.0);
                let residual = xnpv(rate, &values, &dates).unwrap();
                proptest::prop_assert!(
                    residual.abs() <= 1e-9 * largest,
                    "rate {rate}: XNPV {residual} of flows up to {largest}"
                );
            }
        }

        /// An outlay followed by returns changes sign once, so exactly one rate solves it; when
        /// that rate lies between −90% and 1,000% (XNPV changes sign between them), XIRR finds it.
        #[test]
        fn one_sign_change_with_a_root_in_range_always_gives_the_rate(
            outlay in 1.0..1.0e6_f64,
            returns in proptest::collection::vec((0.0..0.3_f64, 1..400_i64), 1..40),
        ) {
            let mut date = d(2020, 1, 1);
            let mut values = vec![-outlay];
            let mut dates = vec![date];
            // Each return a share of the outlay, so that most cases have a rate in range.
            for (share, gap) in &returns {
                date += chrono::Duration::days(*gap);
                values.push(share * outlay);
                dates.push(date);
            }
            let low = xnpv(-0.9, &values, &dates).unwrap();
            let high = xnpv(10.0, &values, &dates).unwrap();
            proptest::prop_assume!(low > 0.0 && high < 0.0);
            let rate = xirr(&values, &dates);
            proptest::prop_assert!(rate.is_ok(), "no rate for {values:?}: {rate:?}");
            let rate = rate.unwrap_or_default();
            proptest::prop_assert!((-0.9..=10.0).contains(&rate), "rate {rate} out of its bracket");
        }
    }
}
