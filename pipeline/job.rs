//! The monthly job: ingest → warehouse → models → metrics → report for one period, under the run
//! lock, recorded in the run ledger.
//!
//! In: a [`Config`] and [`RunOptions`]. Out: the warehouse updated, the pack written, and a
//! [`RunSummary`]; or an error, after which the ledger records the run as failed and the raw
//! tables hold what they held before (the load is one transaction).

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, Reject, SourceQuality};
use crate::metrics::finance::{self, FinanceInputs};
use crate::models::{self, Dependencies, ModelSettings, Outcome, Project, RunRequest};
use crate::progress::Progress;
use crate::report::{self, ModelSheetData, PackInputs, RunInfo, RunResults};
use crate::schedule::{Period, RunLock};
use crate::warehouse::ledger::{ModelRecord, RunRecord, Status, StepRecord, TestRecord};
use crate::warehouse::quote;
use crate::warehouse::{IncrementalSource, Warehouse};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The period to report; `None` takes the latest complete month in the data.
    pub period: Option<Period>,
    /// Extract incremental database sources in full (ignoring their watermarks) and rebuild
    /// incremental models in full instead of replacing the period's rows.
    pub full_refresh: bool,
}

/// What a successful run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub period: Period,
    pub workbook: PathBuf,
    pub charts: Vec<PathBuf>,
    pub inputs: usize,
    pub rows_loaded: u64,
    pub rejects: Vec<Reject>,
    /// Each source's data-quality scores and threshold verdict.
    pub quality: Vec<SourceQuality>,
    /// Each model's and data test's outcome.
    pub models: Outcome,
}

fn now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Runs the monthly job.
///
/// # Errors
///
/// [`Error::Locked`] when another run holds the warehouse, and any stage's error; each names the
/// file, sheet, model or table concerned.
pub fn run(config: &Config, options: &RunOptions, progress: &dyn Progress) -> Result<RunSummary> {
    in_ledger(config, "run", options.period, progress, |steps, record| {
        run_steps(config, options, steps, record)
    })
    .map(|(summary, _)| summary)
}

/// Runs `work` under the run lock as one ledger run of `command`, recording how it ended.
fn in_ledger<T>(
    config: &Config,
    command: &str,
    period: Option<Period>,
    progress: &dyn Progress,
    work: impl FnOnce(&mut Steps, &RunRecord) -> Result<T>,
) -> Result<(T, String)> {
    let _lock = RunLock::acquire(&config.warehouse)?;
    let mut warehouse = Warehouse::open(&config.warehouse)?;
    let started_at = now();
    let run_id = format!(
        "{}-{:05}",
        Utc::now().format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() % 100_000
    );
    let record = RunRecord {
        run_id: run_id.clone(),
        period,
        command: command.to_string(),
        started_at,
        config_path: config.path.display().to_string(),
    };
    warehouse.start_run(&record)?;
    tracing::info!(run_id, command, "run started");
    let mut steps = Steps {
        warehouse: &mut warehouse,
        run_id: &run_id,
        progress,
        counts: None,
    };
    let result = work(&mut steps, &record);
    let counts = steps.counts;
    match result {
        Ok(value) => {
            warehouse.finish_run(&run_id, Status::Succeeded, &now(), counts, "")?;
            tracing::info!(run_id, command, "run succeeded");
            Ok((value, run_id))
        }
        Err(e) => {
            // The run's own error matters more than a failure to record it.
            if let Err(ledger) =
                warehouse.finish_run(&run_id, Status::Failed, &now(), counts, &e.to_string())
            {
                tracing::error!(run_id, error = %ledger, "could not record the failed run");
            }
            Err(e)
        }
    }
}

/// Times each step, shows it as progress, and records it in the ledger, failed or not.
struct Steps<'a> {
    warehouse: &'a mut Warehouse,
    run_id: &'a str,
    progress: &'a dyn Progress,
    /// Rows loaded and values rejected, once the load is done.
    counts: Option<(u64, u64)>,
}

impl Steps<'_> {
    fn step<T>(
        &mut self,
        name: &str,
        work: impl FnOnce(&mut Warehouse) -> Result<T>,
        describe: impl FnOnce(&T) -> (Option<u64>, String),
    ) -> Result<T> {
        let started_at = now();
        let clock = Instant::now();
        // Steps with parts of their own (sources, models) replace this with a finer count.
        self.progress.begin(name, 1);
        let result = work(self.warehouse);
        self.progress.end();
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
            status = status.as_str(),
            "step"
        );
        self.warehouse.record_step(
            self.run_id,
            &StepRecord {
                step: name.to_string(),
                status,
                started_at,
                finished_at: now(),
                rows,
                detail,
            },
        )?;
        result
    }
}

fn run_steps(
    config: &Config,
    options: &RunOptions,
    steps: &mut Steps,
    record: &RunRecord,
) -> Result<RunSummary> {
    let progress = steps.progress;
    let incremental: Vec<IncrementalSource> = config
        .sources
        .iter()
        .filter_map(|s| {
            let db = s.database.as_ref().filter(|d| d.watermark.is_some())?;
            Some(IncrementalSource {
                name: s.name.clone(),
                entity: s.entity,
                fingerprint: db.fingerprint(s.kind),
            })
        })
        .collect();
    let prior = steps.warehouse.prior(&incremental, options.full_refresh)?;
    let ingested = steps.step(
        "ingest",
        |_| ingest::read_sources(config, &prior, progress),
        |i| {
            let read: u64 = i.inputs.iter().map(|f| f.rows_read).sum();
            (
                Some(read),
                format!(
                    "{} inputs, {} rejected values",
                    i.inputs.len(),
                    i.rejects.len()
                ),
            )
        },
    )?;
    for reject in &ingested.rejects {
        tracing::info!(location = %reject.location, value = %reject.value, rule = %reject.rule, "rejected");
    }
    if let Some(error) = threshold_error(&ingested) {
        steps
            .warehouse
            .record_without_load(&record.run_id, &ingested)?;
        return Err(error);
    }
    let rows_loaded = steps.step(
        "load",
        |w| w.load(&record.run_id, &ingested),
        |rows| (Some(*rows), String::new()),
    )?;

    steps.counts = Some((rows_loaded, ingested.rejects.len() as u64));

    let period = match options.period {
        Some(p) => p,
        None => latest_complete_period(steps.warehouse)?,
    };
    steps.warehouse.set_run_period(&record.run_id, period)?;

    let request = RunRequest {
        selected: None,
        full_refresh: options.full_refresh,
        test_only: false,
    };
    let outcome = steps.step(
        "models",
        |w| run_models(config, w, record, period, &request, progress),
        |o| (Some(o.models.len() as u64), String::new()),
    )?;
    let model_sheets = steps.step(
        "model sheets",
        |w| read_model_sheets(config, w),
        |s| (Some(s.len() as u64), String::new()),
    )?;

    let finance = steps.step(
        "metrics",
        |w| {
            let inputs = FinanceInputs {
                monthly: w.frame(
                    "reading mart_investment_monthly",
                    "SELECT * FROM mart_investment_monthly",
                )?,
                investments: w.frame("reading stg_investments", "SELECT * FROM stg_investments")?,
                progress: w.frame("reading stg_progress", "SELECT * FROM stg_progress")?,
            };
            let finance = finance::compute(&inputs, period)?;
            w.replace_period("investment_finance", period, &finance.investments)?;
            w.replace_period("portfolio_monthly", period, &finance.portfolio_monthly)?;
            Ok(finance)
        },
        |f| (Some(f.investments.height() as u64), String::new()),
    )?;

    let run_info = RunInfo {
        run_id: record.run_id.clone(),
        started_at: record.started_at.clone(),
        config_path: config.path.clone(),
        warehouse: config.warehouse.clone(),
        inputs: ingested.inputs.clone(),
        rejects: ingested.rejects.clone(),
        quality: ingested.quality.clone(),
        models: outcome.models.clone(),
        tests: outcome.tests.clone(),
    };
    let pack = steps.step(
        "report",
        |_| {
            report::write_pack(
                &config.reports,
                &PackInputs {
                    period,
                    reporting_currency: &config.reporting_currency,
                    finance: &finance,
                    run: &run_info,
                    model_sheets: &model_sheets,
                    chart_font: config.charts.font.as_deref(),
                },
            )
        },
        |p| (None, p.workbook.display().to_string()),
    )?;

    Ok(RunSummary {
        run_id: record.run_id.clone(),
        period,
        workbook: pack.workbook,
        charts: pack.charts,
        inputs: ingested.inputs.len(),
        rows_loaded,
        rejects: ingested.rejects,
        quality: ingested.quality,
        models: outcome,
    })
}

/// What `itvalue models run` and `itvalue models test` are asked to do.
#[derive(Debug, Clone, Default)]
pub struct ModelsOptions {
    /// A dbt-style selection (`name`, `name+`, `+name`); `None` takes every model.
    pub select: Option<String>,
    /// The period incremental models replace and model sheets filter on; `None` takes the latest
    /// complete month in the loaded data.
    pub period: Option<Period>,
    pub full_refresh: bool,
    /// Run the data tests against the models as they are, building nothing.
    pub test_only: bool,
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
/// recorded in the ledger as a run of its own.
///
/// # Errors
///
/// [`Error::ModelGraph`] for a bad selection or model graph, [`Error::ModelsFailed`] when a
/// model or an error-severity test fails (after the outcome is recorded), and the warehouse's
/// errors.
pub fn models_command(
    config: &Config,
    options: &ModelsOptions,
    progress: &dyn Progress,
) -> Result<ModelsSummary> {
    let command = if options.test_only {
        "models test"
    } else {
        "models run"
    };
    let (summary, _) = in_ledger(
        config,
        command,
        options.period,
        progress,
        |steps, record| {
            let period = match options.period {
                Some(p) => p,
                None => latest_complete_period(steps.warehouse)?,
            };
            steps.warehouse.set_run_period(&record.run_id, period)?;
            let mut results_file = PathBuf::new();
            let outcome = steps.step(
                if options.test_only { "tests" } else { "models" },
                |w| {
                    let project = prepare_models(config, w, record, period)?;
                    let request = RunRequest {
                        selected: Some(project.select(options.select.as_deref())?),
                        full_refresh: options.full_refresh,
                        test_only: options.test_only,
                    };
                    let outcome = models::run(w.connection(), &project, &request, progress);
                    results_file = record_outcome(config, w, record, period, &outcome)?;
                    Ok(outcome)
                },
                |o| (Some(o.models.len() as u64), String::new()),
            )?;
            Ok(ModelsSummary {
                run_id: record.run_id.clone(),
                period,
                outcome,
                results_file,
            })
        },
    )?;
    Ok(summary)
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
    load_project(config, &conn)
}

fn load_project(config: &Config, conn: &duckdb::Connection) -> Result<Project> {
    let settings = config
        .model_settings
        .iter()
        .map(|(name, setting)| {
            (
                name.to_lowercase(),
                ModelSettings {
                    materialized: setting.materialized.clone(),
                    period_column: setting.period_column.clone(),
                },
            )
        })
        .collect();
    let dependencies = Dependencies {
        external_schemas: vec!["metrics".into(), "ledger".into()],
    };
    Project::load(conn, &config.models, &settings, &dependencies)
}

/// Sets the variables models may read, fences the connection, and loads the models.
fn prepare_models(
    config: &Config,
    warehouse: &Warehouse,
    record: &RunRecord,
    period: Period,
) -> Result<Project> {
    warehouse.execute_batch(
        "setting model variables",
        &format!(
            "SET VARIABLE reporting_currency = {};
             SET VARIABLE period = DATE '{}';
             SET VARIABLE run_id = {};",
            sql_text(&config.reporting_currency),
            period.first_day(),
            sql_text(&record.run_id)
        ),
    )?;
    models::fence(warehouse.connection()).map_err(|e| {
        Error::warehouse(
            warehouse.path(),
            "fencing the models from files and network",
            e,
        )
    })?;
    load_project(config, warehouse.connection())
}

fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The models step of a monthly run: every model, then the outcome recorded.
fn run_models(
    config: &Config,
    warehouse: &mut Warehouse,
    record: &RunRecord,
    period: Period,
    request: &RunRequest,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let project = prepare_models(config, warehouse, record, period)?;
    let outcome = models::run(warehouse.connection(), &project, request, progress);
    record_outcome(config, warehouse, record, period, &outcome)?;
    Ok(outcome)
}

/// Records the outcome in the ledger and `run_results.json`, then fails if a model or an
/// error-severity test failed.
fn record_outcome(
    config: &Config,
    warehouse: &Warehouse,
    record: &RunRecord,
    period: Period,
    outcome: &Outcome,
) -> Result<PathBuf> {
    let models: Vec<ModelRecord> = outcome
        .models
        .iter()
        .map(|m| ModelRecord {
            model: m.name.clone(),
            path: m.path.display().to_string(),
            materialized: m.materialized.as_str(),
            status: m.status.as_str(),
            rows: m.rows,
            milliseconds: m.milliseconds,
            message: m.message.clone(),
        })
        .collect();
    let tests: Vec<TestRecord> = outcome
        .tests
        .iter()
        .map(|t| TestRecord {
            test: t.name.clone(),
            model: t.model.clone(),
            kind: t.kind,
            severity: t.severity.as_str(),
            status: t.status.as_str(),
            failures: t.failures,
            failures_table: t.failures_table.clone(),
            milliseconds: t.milliseconds,
            message: t.message.clone(),
        })
        .collect();
    warehouse.record_models(&record.run_id, &models, &tests)?;
    // The monthly run's results sit beside its workbook; a models-only run keeps its own file so
    // it never overwrites them.
    let file_name = if record.command == "run" {
        "run_results.json".to_string()
    } else {
        format!("run_results-{}.json", record.run_id)
    };
    let file = report::write_run_results(
        &config.reports,
        period,
        &file_name,
        &RunResults {
            run_id: &record.run_id,
            command: &record.command,
            period: period.to_string(),
            itvalue_version: crate::VERSION,
            models: &outcome.models,
            tests: &outcome.tests,
        },
    )?;
    for t in outcome
        .tests
        .iter()
        .filter(|t| t.status == models::TestStatus::Warn)
    {
        tracing::warn!(test = %t.name, failures = t.failures, "data test warned");
    }
    match outcome.failure() {
        Some(message) => Err(Error::ModelsFailed(message)),
        None => Ok(file),
    }
}

/// Reads each configured model sheet's rows, checking that the model and the columns its
/// formats and headers name exist.
fn read_model_sheets(config: &Config, warehouse: &Warehouse) -> Result<Vec<ModelSheetData>> {
    let fail = |i: usize, title: &str, message: String| Error::Config {
        path: config.path.clone(),
        message: format!("sheet[{i}] ({title}): {message}"),
    };
    if config.sheets.is_empty() {
        return Ok(Vec::new());
    }
    let listing = |e| Error::warehouse(warehouse.path(), "listing the models", e);
    let known: Vec<String> = {
        let mut statement = warehouse
            .connection()
            .prepare(
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = 'main' ORDER BY 1",
            )
            .map_err(listing)?;
        let names = statement
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(listing)?;
        names.collect::<duckdb::Result<_>>().map_err(listing)?
    };
    let mut sheets = Vec::with_capacity(config.sheets.len());
    for (i, sheet) in config.sheets.iter().enumerate() {
        if !known.contains(&sheet.model) {
            return Err(fail(
                i,
                &sheet.title,
                format!(
                    "model = {:?}: no model of that name was built; models are: {}",
                    sheet.model,
                    known.join(", ")
                ),
            ));
        }
        let mut sql = format!("SELECT * FROM main.{}", quote(&sheet.model));
        if let Some(filter) = &sheet.filter {
            sql.push_str(&format!(" WHERE {filter}"));
        }
        if let Some(order) = &sheet.order_by {
            sql.push_str(&format!(" ORDER BY {order}"));
        }
        models::check_select(warehouse.connection(), &sql).map_err(|message| {
            fail(
                i,
                &sheet.title,
                format!("where / order_by must keep it one SELECT: {message}"),
            )
        })?;
        let frame = warehouse
            .frame(
                &format!("reading model {} for sheet {}", sheet.model, sheet.title),
                &sql,
            )
            .map_err(|e| fail(i, &sheet.title, e.to_string()))?;
        let columns: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        for (key, column) in sheet
            .formats
            .keys()
            .map(|c| ("formats", c))
            .chain(sheet.headers.keys().map(|c| ("headers", c)))
        {
            if !columns.contains(column) {
                return Err(fail(
                    i,
                    &sheet.title,
                    format!(
                        "{key}.{column}: model {} has no column `{column}`; its columns are: {}",
                        sheet.model,
                        columns.join(", ")
                    ),
                ));
            }
        }
        let mut headers: Vec<&str> = columns
            .iter()
            .map(|c| sheet.headers.get(c).map_or(c.as_str(), String::as_str))
            .collect();
        headers.sort_unstable_by_key(|h| h.to_lowercase());
        if let Some(pair) = headers
            .windows(2)
            .find(|w| w[0].to_lowercase() == w[1].to_lowercase())
        {
            return Err(fail(
                i,
                &sheet.title,
                format!(
                    "two columns would have the header {:?}; an Excel table needs distinct headers",
                    pair[0]
                ),
            ));
        }
        sheets.push(ModelSheetData {
            sheet: sheet.clone(),
            frame,
        });
    }
    Ok(sheets)
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

/// The error that stops a run when sources reject more rows than their thresholds allow.
pub fn threshold_error(ingested: &ingest::Ingested) -> Option<Error> {
    let failing = ingested.failing();
    if failing.is_empty() {
        return None;
    }
    let reasons: Vec<String> = failing
        .iter()
        .map(|q| {
            format!(
                "source {} rejected {} of {} rows ({:.2}%), over its max_reject_rate of {:.2}%",
                q.source,
                q.rows_rejected,
                q.rows,
                q.reject_rate * 100.0,
                q.max_reject_rate * 100.0
            )
        })
        .collect();
    Some(Error::TooManyRejects(reasons.join("; ")))
}

/// The latest month with actual costs that has also ended: a month still under way is not
/// complete even when some actuals are already booked.
fn latest_complete_period(warehouse: &Warehouse) -> Result<Period> {
    let current = Period::containing(Utc::now().date_naive());
    let sql = format!(
        "SELECT CAST(max(period) AS VARCHAR) FROM raw.costs \
         WHERE scenario = 'actual' AND period < DATE '{}'",
        current.first_day()
    );
    let latest: Option<String> = warehouse
        .connection()
        .query_row(&sql, [], |r| r.get(0))
        .map_err(|e| Error::warehouse(warehouse.path(), "finding the latest period", e))?;
    latest
        .and_then(|d| d.get(..7).and_then(|m| m.parse().ok()))
        .ok_or_else(|| {
            Error::NoData(
                "no actual cost lines in a completed month: nothing to report; load costs or pass --period".to_string(),
            )
        })
}
