//! Backfill: the monthly run for every period of a range, oldest first, under one run lock.
//!
//! In: the configuration, the first and last period, and the run's options. Out: one outcome per
//! period that ran, each published on its own (a later failure never takes back an earlier
//! period), and the periods left unrun after a failure. The run stops at the first period that
//! fails; a period that publishes with failures outside the pack (partial) does not stop it.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::schedule::{Period, RunLock};

use super::{RunOptions, RunSummary, run_locked};

/// One period's run in a backfill.
#[derive(Debug)]
pub struct PeriodOutcome {
    pub period: Period,
    pub result: Result<RunSummary>,
}

impl PeriodOutcome {
    /// The exit code this period alone would end with.
    pub fn exit_code(&self) -> u8 {
        match &self.result {
            Ok(summary) => summary.failure().map_or(0, |e| e.class().exit_code()),
            Err(e) => e.class().exit_code(),
        }
    }
}

/// What a backfill did.
#[derive(Debug)]
pub struct Backfill {
    /// The periods that ran, in order.
    pub outcomes: Vec<PeriodOutcome>,
    /// The periods not run because an earlier one failed.
    pub not_run: Vec<Period>,
    pub duration: Duration,
}

impl Backfill {
    /// The period whose run failed (nothing of it published), if one did.
    pub fn failed(&self) -> Option<&PeriodOutcome> {
        self.outcomes.iter().find(|o| o.result.is_err())
    }

    /// The worst exit code of the periods: that of the period that failed, else 65 when a period
    /// published with failures outside its pack, else 0.
    pub fn exit_code(&self) -> u8 {
        if let Some(failed) = self.failed() {
            return failed.exit_code();
        }
        self.outcomes
            .iter()
            .map(PeriodOutcome::exit_code)
            .max()
            .unwrap_or(0)
    }
}

/// The periods from `from` to `to`, both included.
///
/// # Errors
///
/// [`Error::Config`] naming `--from` when it comes after `to`.
pub fn periods(from: Period, to: Period) -> Result<Vec<Period>> {
    if from > to {
        return Err(Error::Config {
            path: "--from".into(),
            message: format!("{from} comes after --to {to}: give the earlier month first"),
        });
    }
    let mut out = vec![from];
    while let Some(&last) = out.last()
        && last < to
    {
        out.push(last.next());
    }
    Ok(out)
}

/// Runs the monthly job for each of `periods` in order, under one lock. `options.period` is
/// replaced by each period; `options.full_refresh` applies to the first run only (the later ones
/// reuse what it read). `each` hears of every period as it ends.
///
/// # Errors
///
/// [`Error::Locked`] when another run holds the warehouse; a period's own failure is in its
/// outcome instead.
pub fn backfill(
    config: &Config,
    periods: &[Period],
    options: &RunOptions,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&PeriodOutcome),
) -> Result<Backfill> {
    let clock = Instant::now();
    let lock = RunLock::acquire(&config.warehouse)?;
    let mut outcomes = Vec::new();
    let mut not_run = Vec::new();
    for (i, &period) in periods.iter().enumerate() {
        if outcomes.iter().any(|o: &PeriodOutcome| o.result.is_err()) {
            not_run.push(period);
            continue;
        }
        let options = RunOptions {
            period: Some(period),
            full_refresh: options.full_refresh && i == 0,
            ..options.clone()
        };
        tracing::info!(period = %period, of = periods.len(), "backfill period");
        let outcome = PeriodOutcome {
            period,
            result: run_locked(config, &lock, &options, progress),
        };
        each(&outcome);
        outcomes.push(outcome);
    }
    Ok(Backfill {
        outcomes,
        not_run,
        duration: clock.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_range_runs_every_month_in_order_across_years() {
        let got: Vec<String> = periods(p("2025-11"), p("2026-02"))
            .unwrap()
            .iter()
            .map(Period::to_string)
            .collect();
        assert_eq!(got, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(periods(p("2026-02"), p("2026-02")).unwrap(), [p("2026-02")]);
        assert_eq!(
            periods(p("2026-03"), p("2026-02")).unwrap_err().to_string(),
            "configuration --from: 2026-03 comes after --to 2026-02: give the earlier month first"
        );
    }
}
