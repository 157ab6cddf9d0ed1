//! Scheduled runs: the jobs of `[[schedule]]` that are due, with catch-up of the periods missed
//! while nothing ran, as anacron and systemd's persistent timers do.
//!
//! In: the configuration's jobs, the instant taken as "now" and the run ledger (which due times
//! each job has answered). Out: one ledgered run per due period, oldest first, each recorded with
//! its job and due time; and for `itvalue schedule` in the foreground, the wait until the next
//! due time.
//!
//! A job's due times after the latest one it has answered are due now, collapsed to one per
//! period (its latest); a job that has never run takes only its latest due time. A run that
//! publishes answers its due time; so does one that fails for a reason trying again would not
//! mend (bad data, a missing file: the operator reruns the period by hand once it is mended).
//! A run that could not start because the warehouse was busy, a database that could not be
//! reached, or a run that was killed leaves its due time to the next check. A job stops at its
//! first failure in a pass: its later periods wait for the next check.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, JobRun, ScheduledJob};
use crate::error::{ErrorClass, Result};
use crate::progress::Progress;
use crate::schedule::{Due, Period, RunLock};
use crate::warehouse::Warehouse;

use super::{ModelsOptions, ModelsSummary, RunOptions, RunSummary, models_locked, run_locked};

/// What one scheduled run did.
#[derive(Debug)]
pub enum Ran {
    Pack(Box<RunSummary>),
    Models(ModelsSummary),
}

/// One due period of one job, and how its run ended.
#[derive(Debug)]
pub struct JobOutcome {
    pub job: String,
    pub due: Due,
    pub result: Result<Ran>,
}

impl JobOutcome {
    /// The exit code this run alone would end with.
    pub fn exit_code(&self) -> u8 {
        match &self.result {
            Ok(Ran::Pack(summary)) => summary.failure().map_or(0, |e| e.class().exit_code()),
            Ok(Ran::Models(_)) => 0,
            Err(e) => e.class().exit_code(),
        }
    }
}

/// What one pass over the jobs did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Every run, in the order it ran.
    pub outcomes: Vec<JobOutcome>,
    /// Per job, the missed periods older than its `catch_up` allows, which were not run.
    pub too_old: Vec<(String, Vec<Period>)>,
    /// Per job, the due periods left for the next check: after a run of the job failed, or
    /// because the scheduler was asked to stop.
    pub waiting: Vec<(String, Vec<Period>)>,
}

impl Pass {
    /// The exit code of the pass: that of the first run that failed, else 65 when a run
    /// published with failures outside its pack, else 0.
    pub fn exit_code(&self) -> u8 {
        if let Some(failed) = self.outcomes.iter().find(|o| o.result.is_err()) {
            return failed.exit_code();
        }
        self.outcomes
            .iter()
            .map(JobOutcome::exit_code)
            .max()
            .unwrap_or(0)
    }

    /// Whether a due time is left to try again soon (the warehouse was busy, a database could
    /// not be reached).
    pub fn retry_soon(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| matches!(&o.result, Err(e) if e.class().is_transient()))
    }
}

/// The exit codes of failures whose due time is tried again at the next check.
fn transient_codes() -> [u8; 2] {
    [
        ErrorClass::Locked.exit_code(),
        ErrorClass::SourceUnavailable.exit_code(),
    ]
}

/// A job with the due periods to run now and those older than its `catch_up`.
pub type JobDue<'a> = (&'a ScheduledJob, Vec<Due>, Vec<Due>);

/// Per job (in configuration order), the due periods to run now and those older than its
/// `catch_up`.
///
/// # Errors
///
/// [`crate::Error::Warehouse`] when the ledger cannot be read.
pub fn due_now<'a>(
    config: &'a Config,
    warehouse: &Warehouse,
    now: DateTime<Utc>,
) -> Result<Vec<JobDue<'a>>> {
    let mut due = Vec::new();
    for job in &config.schedules {
        let answered = warehouse.last_answered_due(&job.name, &transient_codes())?;
        let mut all = job.cron.due(job.period, answered, now);
        let keep = job.catch_up as usize;
        let too_old = if all.len() > keep {
            all.drain(..all.len() - keep).collect()
        } else {
            Vec::new()
        };
        due.push((job, all, too_old));
    }
    Ok(due)
}

/// Runs every due period of every job, oldest first, under the run lock the caller holds, until
/// `stop` says so (checked before each run; what is left waits for the next check). `each`
/// hears of every run as it ends.
///
/// # Errors
///
/// [`crate::Error::Warehouse`] or [`crate::Error::WarehouseInUse`] when the ledger cannot be
/// read; a run's own failure is in its outcome instead.
pub fn run_due(
    config: &Config,
    lock: &RunLock,
    now: DateTime<Utc>,
    stop: &dyn Fn() -> bool,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&JobOutcome),
) -> Result<Pass> {
    let due = {
        let warehouse = Warehouse::open(&config.warehouse)?;
        due_now(config, &warehouse, now)?
    };
    let mut pass = Pass::default();
    // Every job's periods in the order of their due times, so an older period runs first.
    let mut queue: Vec<(usize, &ScheduledJob, Due)> = Vec::new();
    for (i, (job, periods, too_old)) in due.into_iter().enumerate() {
        if !too_old.is_empty() {
            tracing::warn!(
                job = %job.name,
                periods = %too_old.iter().map(|d| d.period.to_string()).collect::<Vec<_>>().join(", "),
                catch_up = job.catch_up,
                "missed periods older than the job's catch_up are not run; run them with itvalue run --from … --to …"
            );
            pass.too_old
                .push((job.name.clone(), too_old.iter().map(|d| d.period).collect()));
        }
        queue.extend(periods.into_iter().map(|d| (i, job, d)));
    }
    queue.sort_by_key(|(i, _, d)| (d.at, *i));
    let mut stopped: Vec<&str> = Vec::new();
    for (_, job, due) in queue {
        if stopped.contains(&job.name.as_str()) || stop() {
            match pass.waiting.iter_mut().find(|(j, _)| *j == job.name) {
                Some((_, periods)) => periods.push(due.period),
                None => pass.waiting.push((job.name.clone(), vec![due.period])),
            }
            continue;
        }
        tracing::info!(job = %job.name, period = %due.period, due = %due.at, "scheduled run");
        let outcome = JobOutcome {
            job: job.name.clone(),
            due,
            result: run_job(config, lock, job, due, now, progress),
        };
        each(&outcome);
        if outcome.result.is_err() {
            stopped.push(job.name.as_str());
        }
        pass.outcomes.push(outcome);
    }
    Ok(pass)
}

/// One run of `job` for `due`.
fn run_job(
    config: &Config,
    lock: &RunLock,
    job: &ScheduledJob,
    due: Due,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<Ran> {
    let tag = Some((
        job.name.clone(),
        due.at.format("%Y-%m-%d %H:%M:%S").to_string(),
    ));
    match job.run {
        JobRun::Pack => run_locked(
            config,
            lock,
            &RunOptions {
                period: Some(due.period),
                full_refresh: false,
                now,
                sources: job.sources.clone(),
                job: tag,
                // The configuration's report.language.
                lang: None,
            },
            progress,
        )
        .map(|summary| Ran::Pack(Box::new(summary))),
        JobRun::Models => models_locked(
            config,
            lock,
            &ModelsOptions {
                select: job.select.clone(),
                period: Some(due.period),
                full_refresh: false,
                test_only: false,
                now,
                sources: job.sources.clone(),
                job: tag,
            },
            progress,
        )
        .map(Ran::Models),
    }
}

/// Takes the run lock and runs what is due: `itvalue schedule --once`.
///
/// # Errors
///
/// [`crate::Error::Locked`] when another run holds the warehouse (nothing ran; the due jobs
/// wait for the next check), and as for [`run_due`].
pub fn once(
    config: &Config,
    now: DateTime<Utc>,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&JobOutcome),
) -> Result<Pass> {
    let lock = RunLock::acquire(&config.warehouse)?;
    run_due(config, &lock, now, &|| false, progress, each)
}

/// The next due time of any job after `now`, with the job's name.
pub fn next_due(config: &Config, now: DateTime<Utc>) -> Option<(DateTime<Utc>, String)> {
    config
        .schedules
        .iter()
        .filter_map(|j| j.cron.next_after(now).map(|at| (at, j.name.clone())))
        .min()
}

/// What the foreground scheduler tells its caller between passes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A pass ran.
    Pass(&'a Pass),
    /// Waiting until the next due time (`None`: no job is scheduled).
    Waiting(Option<(DateTime<Utc>, String)>),
    /// Another run holds the warehouse; the due jobs wait.
    Busy(&'a crate::Error),
    /// The configuration could not be read again; the last good one stays in force.
    ConfigError(&'a crate::Error),
}

/// `itvalue schedule` without `--once`: runs what is due, then sleeps until the next due time,
/// again and again, until `stop` says so (checked every second, and between runs). The
/// configuration is read again before each pass, so an edited schedule takes effect without a
/// restart. `clock` gives "now".
///
/// # Errors
///
/// As for [`run_due`], except a busy warehouse, which is waited out.
pub fn foreground(
    config: Config,
    reload: &dyn Fn() -> Result<Config>,
    clock: &dyn Fn() -> DateTime<Utc>,
    stop: &dyn Fn() -> bool,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&JobOutcome),
    events: &mut dyn FnMut(Event),
) -> Result<()> {
    let mut config = config;
    let mut first = true;
    while !stop() {
        if !first {
            match reload() {
                Ok(c) => config = c,
                Err(e) => events(Event::ConfigError(&e)),
            }
        }
        first = false;
        let now = clock();
        let retry = match RunLock::acquire(&config.warehouse) {
            Ok(lock) => {
                let pass = run_due(&config, &lock, now, stop, progress, &mut |o| {
                    each(o);
                })?;
                drop(lock);
                events(Event::Pass(&pass));
                pass.retry_soon()
            }
            Err(e) if e.class() == ErrorClass::Locked => {
                events(Event::Busy(&e));
                true
            }
            Err(e) => return Err(e),
        };
        // The first due time after this pass's "now": one that fell due while the pass ran is
        // already past, and the next pass starts at once.
        let next = next_due(&config, now);
        events(Event::Waiting(next.clone()));
        // Wake at the next due time, within a minute to try again after a busy warehouse or a
        // database that could not be reached, or in an hour to read the configuration again
        // when nothing is scheduled.
        let mut wait_until = match &next {
            Some((at, _)) => *at,
            None => clock() + chrono::Duration::hours(1),
        };
        if retry {
            wait_until = wait_until.min(clock() + chrono::Duration::seconds(60));
        }
        while !stop() && clock() < wait_until {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    Ok(())
}
