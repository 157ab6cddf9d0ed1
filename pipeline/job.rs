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
use crate::ingest::{self, Reject};
use crate::metrics::finance::{self, FinanceInputs};
use crate::models::{self, Dependencies};
use crate::progress::Progress;
use crate::report::{self, PackInputs, RunInfo};
use crate::schedule::{Period, RunLock};
use crate::warehouse::Warehouse;
use crate::warehouse::ledger::{RunRecord, Status, StepRecord};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The period to report; `None` takes the latest complete month in the data.
    pub period: Option<Period>,
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
    pub models: usize,
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
        period: options.period,
        command: "run".to_string(),
        started_at: started_at.clone(),
        config_path: config.path.display().to_string(),
    };
    warehouse.start_run(&record)?;
    tracing::info!(run_id, "run started");
    let mut steps = Steps {
        warehouse: &mut warehouse,
        run_id: &run_id,
    };
    match run_steps(config, options, &mut steps, &record, progress) {
        Ok(summary) => {
            let counts = (summary.rows_loaded, summary.rejects.len() as u64);
            warehouse.finish_run(&run_id, Status::Succeeded, &now(), Some(counts), "")?;
            tracing::info!(run_id, period = %summary.period, "run succeeded");
            Ok(summary)
        }
        Err(e) => {
            // The run's own error matters more than a failure to record it.
            if let Err(ledger) =
                warehouse.finish_run(&run_id, Status::Failed, &now(), None, &e.to_string())
            {
                tracing::error!(run_id, error = %ledger, "could not record the failed run");
            }
            Err(e)
        }
    }
}

/// Times each step and records it in the ledger, failed or not.
struct Steps<'a> {
    warehouse: &'a mut Warehouse,
    run_id: &'a str,
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
        let result = work(self.warehouse);
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
    progress: &dyn Progress,
) -> Result<RunSummary> {
    let ingested = steps.step(
        "ingest",
        |_| ingest::read_sources(config, progress),
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
    let rows_loaded = steps.step(
        "load",
        |w| w.load(&record.run_id, &ingested),
        |rows| (Some(*rows), String::new()),
    )?;

    let built = steps.step(
        "models",
        |w| {
            let discovered = models::discover(&config.models)?;
            w.execute_batch(
                "setting model variables",
                &format!(
                    "SET VARIABLE reporting_currency = '{}';",
                    config.reporting_currency
                ),
            )?;
            let dependencies = Dependencies {
                external_schemas: vec!["metrics".into(), "ledger".into()],
            };
            let ordered = models::order(w.connection(), discovered, &dependencies)?;
            models::build_all(w.connection(), &ordered, progress)
        },
        |m| (Some(m.len() as u64), String::new()),
    )?;

    let period = match options.period {
        Some(p) => p,
        None => latest_complete_period(steps.warehouse)?,
    };
    steps.warehouse.set_run_period(&record.run_id, period)?;

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
        models: built.clone(),
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
        models: built.len(),
    })
}

/// The latest month with actual costs that has also ended: a month still under way is not
/// complete even when some actuals are already booked.
fn latest_complete_period(warehouse: &Warehouse) -> Result<Period> {
    let current = Period::containing(Utc::now().date_naive());
    let sql = format!(
        "SELECT CAST(max(period) AS VARCHAR) FROM stg_costs \
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
