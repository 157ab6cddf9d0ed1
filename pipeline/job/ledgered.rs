//! A ledgered run: under the run lock, recorded in `ledger.runs` from start to end, working on a
//! copy of the warehouse that replaces it only when every step has succeeded, with each step
//! timed, shown as progress and recorded.
//!
//! In: the configuration, the command's name and the work to do (a closure over [`Steps`]). Out:
//! the work's value and its pack in place, or the work's own error, after which the warehouse
//! holds exactly what it held before plus the failed run's record (its steps, inputs, rejects,
//! models and tests).

use std::time::Instant;

use chrono::Utc;

use super::memory;
use crate::config::Config;
use crate::error::{Error, ErrorClass, Result};
use crate::progress::Progress;
use crate::report::{self, Staged};
use crate::schedule::{Period, RunLock};
use crate::warehouse::ledger::{
    IngestRecord, ModelRecord, RunEnd, RunRecord, Status, StepRecord, TestRecord,
};
use crate::warehouse::{Warehouse, WorkCopy, remove_stale_work_copies};

/// A timestamp for the ledger: UTC, to the millisecond.
pub(super) fn now_text() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// What the ledger keeps of a run that fails, since the work copy holding its records goes.
#[derive(Debug, Default)]
pub(super) struct Journal {
    steps: Vec<StepRecord>,
    pub period: Option<Period>,
    pub ingest: Option<(
        Vec<crate::ingest::InputFile>,
        Vec<crate::ingest::SourceQuality>,
        Vec<crate::ingest::Reject>,
    )>,
    pub models: Option<(Vec<ModelRecord>, Vec<TestRecord>)>,
    /// Rows loaded and values rejected, once known.
    pub counts: (Option<u64>, Option<u64>),
}

/// What starts a ledgered run: its command, the period asked for, and the scheduled job (name
/// and due time, UTC) it answers, if any.
#[derive(Debug, Clone, Copy)]
pub(super) struct Start<'a> {
    pub command: &'a str,
    pub period: Option<Period>,
    pub job: Option<&'a (String, String)>,
}

/// The exit code a published run ends with: 0, or 65 for a partial one.
fn published_code(status: Status) -> u8 {
    match status {
        Status::Partial => ErrorClass::BadData.exit_code(),
        _ => 0,
    }
}

/// How the work ended, when it did not fail.
pub(super) struct Finished<T> {
    pub value: T,
    /// The pack's files (or a models run's results), staged; put in place after the commit.
    pub staged: Staged,
    /// Other folders staged the same way (the Parquet extracts), put in place after the pack.
    pub also: Vec<Staged>,
    /// [`Status::Succeeded`] or [`Status::Partial`].
    pub status: Status,
    /// What the ledger says about the end (the failures of a partial run).
    pub message: String,
}

/// Times each step, shows it as progress, and records it in the work copy's ledger and in the
/// journal, failed or not.
pub(super) struct Steps<'a> {
    pub warehouse: &'a mut Warehouse,
    pub progress: &'a dyn Progress,
    run_id: &'a str,
    pub journal: Journal,
}

impl Steps<'_> {
    /// Changes the status of a recorded step, when what it did turns out to fail the run (or to
    /// make it partial) only once its result is judged.
    pub fn mark(&mut self, step: &str, status: Status, detail: &str) {
        for record in self.journal.steps.iter_mut().filter(|s| s.step == step) {
            record.status = status;
            record.detail = detail.to_string();
        }
        if let Err(e) = self
            .warehouse
            .update_step(self.run_id, step, status, detail)
        {
            tracing::error!(step, error = %e, "could not record the step's status");
        }
    }

    /// Runs one step. The step's own error is what the run fails with, even when recording the
    /// step fails too (that second failure is logged).
    pub fn step<T>(
        &mut self,
        name: &str,
        work: impl FnOnce(&mut Warehouse) -> Result<T>,
        describe: impl FnOnce(&T) -> (Option<u64>, String),
    ) -> Result<T> {
        let started_at = now_text();
        let clock = Instant::now();
        // Steps with parts of their own (sources, models) replace this with a finer count.
        self.progress.begin(name, 1);
        let result = work(self.warehouse);
        self.progress.end();
        let peak_rss_mib = memory::peak_rss_mib();
        let (status, rows, detail) = match &result {
            Ok(value) => {
                let (rows, detail) = describe(value);
                (Status::Succeeded, rows, detail)
            }
            Err(e) => (Status::Failed, None, e.to_string()),
        };
        tracing::info!(
            step = name,
            ms = clock.elapsed().as_millis() as u64,
            peak_rss_mib,
            status = status.as_str(),
            "step"
        );
        let record = StepRecord {
            step: name.to_string(),
            status,
            started_at,
            finished_at: now_text(),
            rows,
            detail,
            peak_rss_mib,
        };
        let recorded = self.warehouse.record_step(self.run_id, &record);
        self.journal.steps.push(record);
        match (result, recorded) {
            (Err(e), Err(ledger)) => {
                tracing::error!(step = name, error = %ledger, "could not record the failed step");
                Err(e)
            }
            (Ok(_), Err(ledger)) => Err(ledger),
            (result, Ok(())) => result,
        }
    }
}

/// Runs `work` as one ledger run of `start.command` under the run lock the caller holds: records
/// the start, cleans up what killed runs left (marking them abandoned), works on a copy of the
/// warehouse, and publishes the copy and then the pack when the work succeeds.
///
/// The ledger's times are the clock's; a pinned "now" (`ITVALUE_NOW`) only moves the period
/// rule, which the work applies.
///
/// # Errors
///
/// [`Error::WarehouseInUse`] when another program holds the warehouse, and the work's own
/// error.
pub(super) fn in_ledger<T>(
    config: &Config,
    _lock: &RunLock,
    start: Start,
    progress: &dyn Progress,
    work: impl FnOnce(&mut Steps, &RunRecord) -> Result<Finished<T>>,
) -> Result<T> {
    let command = start.command;
    let ledger = Warehouse::open(&config.warehouse)?;
    let run_id = format!(
        "{}-{:05}",
        Utc::now().format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() % 100_000
    );
    // The time the unfinished runs are found is the clock's, even when `now` is pinned.
    let abandoned = ledger.mark_abandoned(&now_text(), &run_id)?;
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "found runs that never finished; marked them abandoned"
        );
    }
    remove_stale_work_copies(&config.warehouse)?;
    report::recover(&config.reports, &|id| ledger.run_committed(id))?;
    report::recover(&config.exports, &|id| ledger.run_committed(id))?;
    let record = RunRecord {
        run_id: run_id.clone(),
        period: start.period,
        command: command.to_string(),
        started_at: now_text(),
        config_path: config.path.display().to_string(),
        job: start.job.cloned(),
    };
    ledger.start_run(&record)?;
    tracing::info!(run_id, command, "run started");

    let copy = match WorkCopy::create(&ledger, &run_id) {
        Ok(copy) => copy,
        Err(e) => {
            return Err(record_failure(
                &ledger,
                &record,
                &Journal::default(),
                None,
                e,
            ));
        }
    };
    let mut work_copy = match copy
        .open()
        .and_then(|w| w.limit_memory(&config.warehouse_memory).map(|()| w))
    {
        Ok(w) => w,
        Err(e) => {
            return Err(record_failure(
                &ledger,
                &record,
                &Journal::default(),
                None,
                e,
            ));
        }
    };
    let mut steps = Steps {
        warehouse: &mut work_copy,
        progress,
        run_id: &run_id,
        journal: Journal::default(),
    };
    let result = work(&mut steps, &record);
    let journal = steps.journal;
    let finished = match result {
        Ok(finished) => finished,
        Err(e) => {
            drop(work_copy);
            let e = record_failure(&ledger, &record, &journal, Some(copy.path()), e);
            drop(copy);
            return Err(e);
        }
    };
    if let Err(e) = work_copy.finish_run(
        &run_id,
        RunEnd {
            status: finished.status,
            finished_at: &now_text(),
            exit_code: published_code(finished.status),
        },
        journal.counts,
        &finished.message,
    ) {
        drop(work_copy);
        let e = record_failure(&ledger, &record, &journal, Some(copy.path()), e);
        drop(copy);
        return Err(e);
    }
    crate::failpoint::reached("before-commit");
    if let Err(e) = copy.publish(work_copy, ledger) {
        // The warehouse is the old file; record the failure in it, if it opens.
        match Warehouse::open(&config.warehouse) {
            Ok(ledger) => return Err(record_failure(&ledger, &record, &journal, None, e)),
            Err(reopen) => {
                tracing::error!(run_id, error = %reopen, "could not reopen the warehouse to record the failed run");
                return Err(e);
            }
        }
    }
    tracing::info!(
        run_id,
        command,
        status = finished.status.as_str(),
        "run published"
    );
    crate::failpoint::reached("after-commit");
    let published = finished
        .staged
        .publish()
        .and_then(|()| finished.also.into_iter().try_for_each(Staged::publish));
    match published {
        Ok(()) => Ok(finished.value),
        Err(e) => {
            // Committed, but the pack is not all in place: the next run finishes putting it
            // there. Say so in the ledger, and fail the command.
            let message = format!("published, but the pack is not all in place: {e}");
            if let Err(ledger) = Warehouse::open(&config.warehouse).and_then(|w| {
                w.finish_run(
                    &run_id,
                    RunEnd {
                        status: finished.status,
                        finished_at: &now_text(),
                        exit_code: e.class().exit_code(),
                    },
                    journal.counts,
                    &message,
                )
            }) {
                tracing::error!(run_id, error = %ledger, "could not record the pack failure");
            }
            Err(e)
        }
    }
}

/// Records in the (unchanged) warehouse what the failed run did, and returns its error: its
/// steps, inputs, rejects, models and tests in the ledger, and, from the closed work copy at
/// `work`, the failing rows of its data tests in `test_failures` (what an analyst needs to mend
/// the data). The run's own error matters more than a failure to record it, which is logged.
fn record_failure(
    ledger: &Warehouse,
    record: &RunRecord,
    journal: &Journal,
    work: Option<&std::path::Path>,
    error: Error,
) -> Error {
    let run_id = record.run_id.as_str();
    // The run's end first: whatever else fails to be recorded, the run never stays `running`
    // (which the next run would take for a killed one).
    if let Err(e) = ledger.finish_run(
        run_id,
        RunEnd {
            status: Status::Failed,
            finished_at: &now_text(),
            exit_code: error.class().exit_code(),
        },
        (None, journal.counts.1),
        &error.to_string(),
    ) {
        tracing::error!(run_id, error = %e, "could not record the failed run's end");
    }
    let write = || -> Result<()> {
        if let Some(period) = journal.period {
            ledger.set_run_period(run_id, period)?;
        }
        ledger.record_steps(run_id, &journal.steps)?;
        if let Some((inputs, quality, rejects)) = &journal.ingest {
            ledger.record_ingest(
                run_id,
                IngestRecord {
                    inputs,
                    quality,
                    rejects,
                },
            )?;
        }
        if let Some((models, tests)) = &journal.models {
            ledger.record_models(run_id, models, tests)?;
            let failing: Vec<&str> = tests
                .iter()
                .filter_map(|t| t.failures_table.as_deref())
                .collect();
            if let Some(work) = work
                && !failing.is_empty()
            {
                ledger.keep_failing_rows(work, &failing)?;
            }
        }
        Ok(())
    };
    if let Err(e) = write() {
        tracing::error!(run_id, error = %e, "could not record the failed run");
    }
    tracing::info!(run_id, command = %record.command, "run failed; nothing was published");
    error
}
