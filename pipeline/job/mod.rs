//! The job: the monthly run and the models-only commands, each one ledgered run that publishes
//! all of what it changes or nothing.
//!
//! In: a [`Config`] and the command's options. Out: the warehouse replaced by the run's work
//! copy and the pack put in place, and a summary; or an error, after which the warehouse is as it
//! was apart from the failed run's record in the ledger. The parts: [`ledgered`] (the lock, the
//! ledger, the work copy, the steps), [`period`] (which month a run reports), `models_step` (the
//! models, their two phases and what their failures mean) and `monthly` (the monthly run's
//! steps), [`backfill`] (several periods in order under one lock) and [`scheduled`] (the jobs of
//! `[[schedule]]` that are due, with catch-up).

pub mod backfill;
mod ledgered;
mod memory;
mod models_step;
mod monthly;
pub mod period;
pub mod scheduled;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Failures, OverThreshold, Result};
use crate::ingest::{self, Reject, SourceQuality};
use crate::models::{Outcome, Project, RunRequest};
use crate::progress::Progress;
use crate::report::{self, LeftOut, Pack, RunResults};
use crate::schedule::{Period, RunLock};
use crate::warehouse::ledger::Status;
use crate::warehouse::reported::Restatement;

use ledgered::{Finished, Start, in_ledger};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The period to report; `None` takes the latest complete month in the data.
    pub period: Option<Period>,
    /// Extract incremental database sources in full (ignoring their watermarks) and rebuild
    /// incremental models in full instead of replacing the period's rows.
    pub full_refresh: bool,
    /// The instant the run takes as "now": which months have ended, in the configured zone.
    pub now: DateTime<Utc>,
    /// The pack's language; `None` takes the configuration's `report.language`.
    pub lang: Option<crate::labels::Lang>,
    /// Read only these file sources; every other file source keeps what the last load kept of it
    /// (a scheduled job's subset). `None` reads every source.
    pub sources: Option<Vec<String>>,
    /// The scheduled job (name, due time in UTC) the run answers, for the ledger.
    pub job: Option<(String, String)>,
}

/// What a rerun of a period changed in the figures an earlier run reported for it.
#[derive(Debug, Clone)]
pub struct Restated {
    /// The earlier run compared with, the latest that reported the period.
    pub since_run: String,
    /// When it started, UTC.
    pub since_started: String,
    pub changes: Vec<Restatement>,
}

/// Rows that arrived after their period was reported: a file read in this run brought rows,
/// new or changed, dated before the run's period, into periods already reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateData {
    pub file: PathBuf,
    /// The month of the earliest new or changed row.
    pub earliest: Period,
    /// The periods reported before the rows arrived, from `earliest` on.
    pub reported: Vec<Period>,
}

impl std::fmt::Display for LateData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.reported.iter().map(Period::to_string).collect();
        let (first, last) = (
            self.reported.first().copied().unwrap_or(self.earliest),
            self.reported.last().copied().unwrap_or(self.earliest),
        );
        write!(
            f,
            "{} brings new or changed rows from {} on, into periods reported before they arrived ({}); rerun them (itvalue run --from {first} --to {last}) and itvalue diff --period … shows what changed",
            self.file.display(),
            self.earliest,
            list.join(", ")
        )
    }
}

/// What a run that published did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub period: Period,
    pub pack: Pack,
    /// The Parquet extracts, where they are once published.
    pub extracts: Vec<std::path::PathBuf>,
    pub inputs: usize,
    pub rows_loaded: u64,
    pub rejects: Vec<Reject>,
    /// Each source's data-quality scores and threshold verdict.
    pub quality: Vec<SourceQuality>,
    /// Each model's and data test's outcome.
    pub models: Outcome,
    /// Sheets and charts the pack does not hold, with the reasons.
    pub left_out: Vec<LeftOut>,
    /// How amounts in other currencies were converted, in words.
    pub fx: Vec<String>,
    /// Models or tests that failed outside what the pack needs; the run published all the same.
    pub failures: Option<Failures>,
    /// Parts of the figures without any, because of faults in the data (a portfolio scenario
    /// with no selection); the run published all the same.
    pub faults: Vec<crate::metrics::Fault>,
    /// Inputs whose kept rows were reused because the file and its source are unchanged.
    pub reused_inputs: usize,
    /// The figures this run restated, when an earlier run reported the period.
    pub restated: Option<Restated>,
    /// Files that brought rows into periods reported before they arrived.
    pub late: Vec<LateData>,
    /// How long the run took, lock to pack.
    pub duration: Duration,
}

impl RunSummary {
    /// The error a run that published with failures still ends with, so that a scheduler sees
    /// them (failed models first, then faults in the figures); `None` when nothing failed.
    pub fn failure(&self) -> Option<Error> {
        match (&self.failures, self.faults.is_empty()) {
            (Some(failures), _) => Some(Error::PartialRun(failures.clone())),
            (None, false) => Some(Error::PartialFigures(
                self.faults.iter().map(ToString::to_string).collect(),
            )),
            (None, true) => None,
        }
    }
}

/// Runs the monthly job.
///
/// # Errors
///
/// [`Error::Locked`] when another run holds the warehouse, and any stage's error; each names the
/// file, sheet, model or table concerned. After an error nothing is published.
pub fn run(config: &Config, options: &RunOptions, progress: &dyn Progress) -> Result<RunSummary> {
    let lock = RunLock::acquire(&config.warehouse)?;
    run_locked(config, &lock, options, progress)
}

/// Runs the monthly job under a run lock the caller already holds (a backfill or a scheduler
/// pass holds it across several runs).
///
/// # Errors
///
/// As for [`run`], apart from the lock.
pub fn run_locked(
    config: &Config,
    lock: &RunLock,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunSummary> {
    let clock = Instant::now();
    let start = Start {
        command: "run",
        period: options.period,
        job: options.job.as_ref(),
    };
    let mut summary = in_ledger(config, lock, start, progress, |steps, record| {
        monthly::run(config, options, steps, record)
    })?;
    summary.duration = clock.elapsed();
    Ok(summary)
}

/// What `itvalue models run` and `itvalue models test` are asked to do.
#[derive(Debug, Clone)]
pub struct ModelsOptions {
    /// A dbt-style selection (`name`, `name+`, `+name`); `None` takes every model.
    pub select: Option<String>,
    /// The period incremental models replace and model sheets filter on; `None` takes the latest
    /// complete month in the loaded data.
    pub period: Option<Period>,
    pub full_refresh: bool,
    /// Run the data tests against the models as they are, building nothing.
    pub test_only: bool,
    /// As for [`RunOptions::now`].
    pub now: DateTime<Utc>,
    /// File sources to read and load before the models (a scheduled job's subset); the others
    /// keep what the last load kept of them. `None` loads nothing.
    pub sources: Option<Vec<String>>,
    /// As for [`RunOptions::job`].
    pub job: Option<(String, String)>,
}

/// What a models-only run did.
#[derive(Debug, Clone)]
pub struct ModelsSummary {
    pub run_id: String,
    pub period: Period,
    pub outcome: Outcome,
    pub results_file: PathBuf,
}

/// Builds (or only tests) the selected models on the warehouse as loaded by the last run,
/// recorded in the ledger as a run of its own, and published only when every selected model
/// builds and passes its error-severity tests.
///
/// # Errors
///
/// [`Error::NothingLoaded`] before any run has loaded data, [`Error::ModelGraph`] for a bad
/// selection or model graph, [`Error::ModelsFailed`] when a model or an error-severity test fails
/// (the ledger and `run_results-<run id>.json` keep the outcome), and the warehouse's errors.
pub fn models_command(
    config: &Config,
    options: &ModelsOptions,
    progress: &dyn Progress,
) -> Result<ModelsSummary> {
    let lock = RunLock::acquire(&config.warehouse)?;
    models_locked(config, &lock, options, progress)
}

/// [`models_command`] under a run lock the caller already holds.
///
/// # Errors
///
/// As for [`models_command`], apart from the lock.
pub fn models_locked(
    config: &Config,
    lock: &RunLock,
    options: &ModelsOptions,
    progress: &dyn Progress,
) -> Result<ModelsSummary> {
    let command = if options.test_only {
        "models test"
    } else {
        "models run"
    };
    let start = Start {
        command,
        period: options.period,
        job: options.job.as_ref(),
    };
    in_ledger(config, lock, start, progress, |steps, record| {
        if let Some(sources) = &options.sources {
            monthly::ingest_and_load(config, false, Some(sources), steps, record)?;
        }
        if !steps.warehouse.has_loaded_data()? {
            return Err(Error::NothingLoaded {
                path: config.warehouse.clone(),
            });
        }
        let period = period::reporting_period(
            options.period,
            steps.warehouse,
            options.now,
            &config.timezone,
        )?;
        steps.warehouse.set_run_period(&record.run_id, period)?;
        steps.journal.period = Some(period);
        let outcome = steps.step(
            if options.test_only { "tests" } else { "models" },
            |w| {
                let project = models_step::prepare(config, w, record, period)?;
                let request = RunRequest {
                    selected: Some(project.select(options.select.as_deref())?),
                    full_refresh: options.full_refresh,
                    test_only: options.test_only,
                    unfed_entities: models_step::unfed_entities(config),
                };
                // Without figures computed in between, the models that read metrics.* read
                // those of the last run; they still come after the others.
                let later = project.after_figures();
                let mut outcome = models_step::run_phase(
                    w,
                    &project,
                    &request,
                    |m| !later.contains_key(m),
                    progress,
                )?;
                let after = models_step::run_phase(
                    w,
                    &project,
                    &request,
                    |m| later.contains_key(m),
                    progress,
                )?;
                outcome.models.extend(after.models);
                outcome.tests.extend(after.tests);
                Ok(outcome)
            },
            |o| (Some(o.models.len() as u64), String::new()),
        )?;
        let (model_records, test_records) = models_step::records(&outcome);
        steps
            .warehouse
            .record_models(&record.run_id, &model_records, &test_records)?;
        steps.journal.models = Some((model_records, test_records));
        let file_name = format!("run_results-{}.json", record.run_id);
        let results = RunResults {
            run_id: &record.run_id,
            command: &record.command,
            period: period.to_string(),
            itvalue_version: crate::VERSION,
            models: &outcome.models,
            tests: &outcome.tests,
        };
        let verdict = models_step::judge(&outcome, None);
        if !verdict.blocking.is_empty() {
            monthly::keep_failed_results(config, period, &file_name, &results);
            return Err(Error::ModelsFailed(Failures(verdict.blocking)));
        }
        let (results_file, staged) =
            report::stage_results(&config.reports, period, &file_name, &results)?;
        Ok(Finished {
            value: ModelsSummary {
                run_id: record.run_id.clone(),
                period,
                outcome,
                results_file,
            },
            staged,
            also: Vec::new(),
            status: Status::Succeeded,
            message: String::new(),
        })
    })
}

/// The models and tests under the configured folder, in build order, without a warehouse (for
/// `models list` and `models graph`).
///
/// # Errors
///
/// As for [`Project::load`].
pub fn model_project(config: &Config) -> Result<Project> {
    let conn = duckdb::Connection::open_in_memory()
        .map_err(|e| Error::warehouse(":memory:".as_ref(), "opening a parser instance", e))?;
    models_step::load_project(config, &conn)
}

/// Validates every source against its contract without loading anything: what `itvalue check`
/// reports.
///
/// # Errors
///
/// As for reading the sources: a file that cannot be read or a header row that breaks the
/// contract. Rejects are not errors; [`threshold_error`] says whether they are too many.
pub fn check(config: &Config, progress: &dyn Progress) -> Result<ingest::Ingested> {
    ingest::read_sources(config, &ingest::Prior::default(), progress)
}

/// Every metric table's shape for restatements: what identifies a row, and the figures.
pub fn table_shapes() -> Vec<crate::warehouse::reported::TableShape> {
    crate::metrics::FAMILIES
        .iter()
        .flat_map(|f| f.tables)
        .map(|t| crate::warehouse::reported::TableShape {
            table: t.name.to_string(),
            identity: t
                .identity()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.unit == crate::metrics::catalogue::Unit::Month,
                    )
                })
                .collect(),
            figures: t
                .columns
                .iter()
                .filter(|c| !c.identifies && !c.in_run_language && c.name != "period")
                .map(|c| c.name.to_string())
                .collect(),
        })
        .collect()
}

/// The error that stops a run when sources reject more rows than their thresholds allow.
pub fn threshold_error(ingested: &ingest::Ingested) -> Option<Error> {
    let failing = ingested.failing();
    if failing.is_empty() {
        return None;
    }
    Some(Error::TooManyRejects(
        failing
            .iter()
            .map(|q| OverThreshold {
                source: q.source.clone(),
                rejected: q.rows_rejected,
                rows: q.rows,
                reject_rate: q.reject_rate,
                max_reject_rate: q.max_reject_rate,
            })
            .collect(),
    ))
}
