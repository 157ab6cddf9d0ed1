//! Risk-adjusted NPV: a seeded Monte Carlo over an investment's future benefits and costs.
//!
//! In: an investment's cash flows, its future benefit lines with their low, likely and high
//! amounts, its rate, the cost-overrun model and the draw count and seed. Out: P10, P50 and P90 of
//! its NPV, the probability that the NPV is positive, and the P50 and mean of its forward NPV.
//!
//! Each draw takes one benefit factor for the investment, a uniform u: every future benefit line
//! is then its triangular distribution's u-quantile (an investment's benefits are over- or
//! under-estimated together, as one business case), so the present value of the future benefits
//! is an increasing function of u, tabulated at 257 points and interpolated. An independent
//! factor scales the future costs: drawn from the overruns the portfolio shows (AC / EV of every
//! investment with a CPI, between 0.5 and 3), or from a configured triangle. Past flows are what
//! they were. Each investment's stream is seeded by the seed and its id (FNV-1a), so the figures
//! do not depend on the thread count or the order; at no time are more than one investment's draws
//! held.

use chrono::NaiveDate;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::valuation::Flow;
use crate::schedule::Period;

/// A future benefit line: its month, and its low, likely and high amounts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenefitLine {
    pub month: NaiveDate,
    pub low: f64,
    pub likely: f64,
    pub high: f64,
}

/// How future costs may overrun.
#[derive(Debug, Clone, PartialEq)]
pub enum Overrun {
    /// Factors observed in the portfolio (AC / EV), sorted; drawn one at random.
    Observed(Vec<f64>),
    /// A triangle of factors.
    Band { low: f64, likely: f64, high: f64 },
}

impl Overrun {
    /// The observed factors, kept between 0.5 and 3 (a CPI from a tiny EV says nothing).
    pub fn observed(mut factors: Vec<f64>) -> Overrun {
        factors.retain(|f| f.is_finite() && *f > 0.0);
        for f in &mut factors {
            *f = f.clamp(0.5, 3.0);
        }
        factors.sort_by(f64::total_cmp);
        Overrun::Observed(factors)
    }

    fn draw(&self, v: f64) -> f64 {
        match self {
            Overrun::Observed(factors) if factors.is_empty() => 1.0,
            Overrun::Observed(factors) => {
                factors[((v * factors.len() as f64) as usize).min(factors.len() - 1)]
            }
            Overrun::Band { low, likely, high } => triangular(v, *low, *likely, *high),
        }
    }

    /// In words, for Run Info.
    pub fn describe(&self) -> String {
        match self {
            Overrun::Observed(f) if f.is_empty() => {
                "no investment has a CPI yet, so future costs are taken as planned".to_string()
            }
            Overrun::Observed(f) => format!(
                "future costs × an overrun drawn from the AC/EV of {} investments ({:.2} to {:.2})",
                f.len(),
                f[0],
                f[f.len() - 1]
            ),
            Overrun::Band { low, likely, high } => {
                format!("future costs × a triangular overrun ({low}, {likely}, {high})")
            }
        }
    }
}

/// The u-quantile of the triangular distribution on `[low, high]` with mode `likely`.
pub fn triangular(u: f64, low: f64, likely: f64, high: f64) -> f64 {
    if high <= low {
        return likely;
    }
    let cut = (likely - low) / (high - low);
    if u < cut {
        low + (u * (high - low) * (likely - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - likely)).sqrt()
    }
}

/// What the simulation gives for one investment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulated {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub probability_positive: f64,
    pub forward_p50: f64,
    /// The mean forward NPV over the draws: the expected value a portfolio scenario may maximise.
    pub forward_mean: f64,
}

/// The points at which the benefits' present value is tabulated.
const GRID: usize = 256;

/// Simulates `draws` NPVs of the investment `id` whose net flows are `flows` (every month known:
/// the caller checks), future benefits `lines`, at `rate`, as of `period`.
#[allow(clippy::too_many_arguments)]
pub fn simulate(
    id: &str,
    flows: &[Flow],
    nets: &[f64],
    lines: &[BenefitLine],
    rate: f64,
    period: Period,
    overrun: &Overrun,
    draws: u32,
    seed: u64,
) -> Option<Simulated> {
    let first = flows.first()?.date();
    let discount = |date: NaiveDate| (1.0 + rate).powf(-((date - first).num_days() as f64) / 365.0);
    let end = period.first_day();
    let (mut past, mut future_costs) = (0.0, 0.0);
    for (flow, net) in flows.iter().zip(nets) {
        if flow.month <= end {
            past += net * discount(flow.date());
        } else {
            let costs = flow
                .costs
                .and_then(|c| rust_decimal::prelude::ToPrimitive::to_f64(&c))?;
            future_costs += costs * discount(flow.date());
        }
    }
    let future: Vec<(f64, BenefitLine)> = lines
        .iter()
        .filter(|l| l.month > end)
        .map(|l| (discount(Period::containing(l.month).last_day()), *l))
        .collect();
    let benefits: Vec<f64> = (0..=GRID)
        .map(|k| {
            let u = k as f64 / GRID as f64;
            future
                .iter()
                .map(|(d, l)| d * triangular(u, l.low, l.likely, l.high))
                .sum()
        })
        .collect();
    let benefits_at = |u: f64| {
        let x = u * GRID as f64;
        let k = (x.floor() as usize).min(GRID - 1);
        let share = x - k as f64;
        benefits[k] + share * (benefits[k + 1] - benefits[k])
    };
    // Forward NPV is discounted to the period's last day rather than to the first flow.
    let to_period_end = (1.0 + rate).powf((period.last_day() - first).num_days() as f64 / 365.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv1a(id));
    let n = draws.max(1) as usize;
    let mut npvs = Vec::with_capacity(n);
    let mut forwards = Vec::with_capacity(n);
    for _ in 0..n {
        let u: f64 = rng.random();
        let v: f64 = rng.random();
        let ahead = benefits_at(u) - overrun.draw(v) * future_costs;
        npvs.push(past + ahead);
        forwards.push(ahead * to_period_end);
    }
    let positive = npvs.iter().filter(|v| **v > 0.0).count() as f64 / n as f64;
    let forward_mean = forwards.iter().sum::<f64>() / n as f64;
    npvs.sort_by(f64::total_cmp);
    forwards.sort_by(f64::total_cmp);
    Some(Simulated {
        p10: percentile(&npvs, 0.1),
        p50: percentile(&npvs, 0.5),
        p90: percentile(&npvs, 0.9),
        probability_positive: positive,
        forward_p50: percentile(&forwards, 0.5),
        forward_mean,
    })
}

/// Excel's PERCENTILE.INC of sorted values: linear between the closest ranks.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = p * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (rank - below as f64) * (sorted[above] - sorted[below])
}

/// FNV-1a of the investment id: its stream of the seed.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn triangular_quantiles_and_percentiles_follow_their_definitions() {
        assert_eq!(triangular(0.0, 80.0, 100.0, 120.0), 80.0);
        assert_eq!(triangular(0.5, 80.0, 100.0, 120.0), 100.0);
        assert_eq!(triangular(1.0, 80.0, 100.0, 120.0), 120.0);
        // F(90) = (90 − 80)² / ((120 − 80)(100 − 80)) = 1/8.
        assert!((triangular(0.125, 80.0, 100.0, 120.0) - 90.0).abs() < 1e-12);
        // PERCENTILE.INC({1,2,3,4}, 0.1) = 1.3, as Excel gives it.
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 0.1) - 1.3).abs() < 1e-12);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }

    fn case() -> (Vec<Flow>, Vec<f64>, Vec<BenefitLine>) {
        let flow = |m: u32, costs: i64, benefits: i64| Flow {
            month: d(2026, m, 1),
            costs: Some(Decimal::new(costs, 0)),
            benefits: Some(Decimal::new(benefits, 0)),
            basis: "actual",
        };
        let flows = vec![flow(1, 1_000, 0), flow(2, 100, 600), flow(3, 100, 600)];
        let nets = vec![-1_000.0, 500.0, 500.0];
        let lines = vec![
            BenefitLine {
                month: d(2026, 2, 1),
                low: 300.0,
                likely: 600.0,
                high: 700.0,
            },
            BenefitLine {
                month: d(2026, 3, 1),
                low: 300.0,
                likely: 600.0,
                high: 700.0,
            },
        ];
        (flows, nets, lines)
    }

    #[test]
    fn the_same_seed_gives_the_same_figures_and_another_seed_others() {
        let (flows, nets, lines) = case();
        let period: Period = "2026-01".parse().unwrap();
        let overrun = Overrun::Band {
            low: 0.9,
            likely: 1.0,
            high: 1.5,
        };
        let run = |seed| {
            simulate(
                "INV-1", &flows, &nets, &lines, 0.08, period, &overrun, 10_000, seed,
            )
            .unwrap()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
        let s = run(42);
        assert!(s.p10 < s.p50 && s.p50 < s.p90, "{s:?}");
        assert!((0.0..=1.0).contains(&s.probability_positive));
    }

    #[test]
    fn without_uncertainty_every_draw_is_the_npv() {
        // Lines whose low, likely and high agree, and no overrun: each draw is the XNPV.
        let (flows, nets, mut lines) = case();
        for l in &mut lines {
            l.low = l.likely;
            l.high = l.likely;
        }
        let period: Period = "2026-01".parse().unwrap();
        let none = Overrun::Band {
            low: 1.0,
            likely: 1.0,
            high: 1.0,
        };
        let s = simulate(
            "INV-1", &flows, &nets, &lines, 0.08, period, &none, 1_000, 7,
        )
        .unwrap();
        let dates: Vec<NaiveDate> = flows.iter().map(Flow::date).collect();
        let npv = crate::metrics::excel::xnpv(0.08, &nets, &dates).unwrap();
        for figure in [s.p10, s.p50, s.p90] {
            assert!((figure - npv).abs() < 1e-9, "{figure} {npv}");
        }
        assert_eq!(s.probability_positive, if npv > 0.0 { 1.0 } else { 0.0 });
    }

    #[test]
    fn the_percentiles_follow_a_worked_triangular_benefit() {
        // 1,000 spent in January 2026 (the period); one benefit line in February on a triangle
        // from 0 with its mode at 0 up to 2,000, so its u-quantile is 2,000 × (1 − √(1 − u)); no
        // overrun. A draw's NPV is −1,000 + B / 1.08^(28/365).
        let flows = vec![
            Flow {
                month: d(2026, 1, 1),
                costs: Some(Decimal::new(1_000, 0)),
                benefits: Some(Decimal::ZERO),
                basis: "actual",
            },
            Flow {
                month: d(2026, 2, 1),
                costs: Some(Decimal::ZERO),
                benefits: Some(Decimal::ZERO),
                basis: "budget",
            },
        ];
        let lines = [BenefitLine {
            month: d(2026, 2, 1),
            low: 0.0,
            likely: 0.0,
            high: 2_000.0,
        }];
        let none = Overrun::Band {
            low: 1.0,
            likely: 1.0,
            high: 1.0,
        };
        let period: Period = "2026-01".parse().unwrap();
        let s = simulate(
            "INV-W",
            &flows,
            &[-1_000.0, 0.0],
            &lines,
            0.08,
            period,
            &none,
            10_000,
            42,
        )
        .unwrap();
        let df = 1.08_f64.powf(-28.0 / 365.0);
        let npv_at = |u: f64| -1_000.0 + df * 2_000.0 * (1.0 - (1.0 - u).sqrt());
        // A percentile of 10,000 draws of u lies within about ±0.01 of u itself.
        let close = |got: f64, p: f64| {
            let (lo, hi) = (npv_at((p - 0.015).max(0.0)), npv_at((p + 0.015).min(1.0)));
            assert!(
                lo <= got && got <= hi,
                "P{}: {got} not in [{lo}, {hi}]",
                p * 100.0
            );
        };
        close(s.p10, 0.1);
        close(s.p50, 0.5);
        close(s.p90, 0.9);
        // P(NPV > 0) = P(B > 1,000 / df) = (1 − 1,000 / (2,000 df))², about 0.247.
        let exact = (1.0 - 1_000.0 / (2_000.0 * df)).powi(2);
        assert!(
            (s.probability_positive - exact).abs() < 0.015,
            "{} vs {exact}",
            s.probability_positive
        );
        // The forward NPV is the benefit alone, discounted to 2026-01-31, the first flow's date.
        let forward_median = df * 2_000.0 * (1.0 - 0.5_f64.sqrt());
        assert!(
            (s.forward_p50 - forward_median).abs() < 0.02 * 2_000.0,
            "{}",
            s.forward_p50
        );
        // The triangle (0, 0, 2,000) has mean 2,000 / 3; the mean of 10,000 draws lies within
        // about 4 standard errors (471 / √10,000 each) of it.
        let forward_mean = df * 2_000.0 / 3.0;
        assert!(
            (s.forward_mean - forward_mean).abs() < 4.0 * 471.4 / 100.0,
            "{} vs {forward_mean}",
            s.forward_mean
        );
    }
}
