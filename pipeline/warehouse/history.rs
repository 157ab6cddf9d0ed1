//! Reading the run ledger back: the list of runs, one run in full, and where each scheduled job
//! stands.
//!
//! In: the `ledger` schema (see [`super::ledger`]). Out: [`RunRow`]s (what `itvalue history`
//! lists), a [`RunDetail`] (what `itvalue history --run ID` shows) and, per scheduled job, the
//! latest due time it has answered.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use duckdb::{AccessMode, Connection, params};
use serde::Serialize;

use super::{Warehouse, opening_error};
use crate::error::{Error, Result};
use crate::schedule::Period;

/// One run as `itvalue history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: String,
    /// `YYYY-MM`, when known.
    pub period: Option<String>,
    pub command: String,
    /// The scheduled job it answered, and the due time (UTC).
    pub job: Option<String>,
    pub due_at: Option<String>,
    pub status: String,
    pub exit_code: Option<i32>,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub tool_version: String,
    pub inputs: i64,
    pub inputs_reused: i64,
    pub rows_loaded: Option<i64>,
    pub rejects: Option<i64>,
    pub models_built: i64,
    pub models_failed: i64,
    pub tests_passed: i64,
    pub tests: i64,
    pub outputs: i64,
    pub message: Option<String>,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    pub step: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub rows: Option<i64>,
    pub detail: Option<String>,
    /// The run's peak resident memory up to the step's end, in MiB (none before it was kept).
    pub peak_rss_mib: Option<i64>,
}

/// One input of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputRow {
    pub source: String,
    pub entity: String,
    pub path: String,
    pub sha256: String,
    pub bytes: i64,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_rejected: i64,
    /// The run that read and typed the file, when this run reused what it kept.
    pub reused_from: Option<String>,
}

/// One model or data test of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeRow {
    pub name: String,
    pub status: String,
    /// Rows built (a model) or failing rows (a test).
    pub rows: Option<i64>,
    pub milliseconds: i64,
    pub message: String,
}

/// One output file of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputRow {
    pub kind: String,
    pub path: String,
}

/// One reject of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectRow {
    pub source: String,
    pub location: String,
    pub column: String,
    pub value: String,
    pub rule: String,
}

/// Everything the ledger holds of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    pub run: RunRow,
    pub config_path: String,
    pub steps: Vec<StepRow>,
    pub inputs: Vec<InputRow>,
    pub models: Vec<OutcomeRow>,
    pub tests: Vec<OutcomeRow>,
    pub outputs: Vec<OutputRow>,
    /// The first rejects, in the order they were found (`rejects` in [`RunRow`] counts all).
    pub rejects: Vec<RejectRow>,
}

/// The summary columns of `ledger.runs`, one row per run, for [`RunRow`].
const RUNS_SQL: &str = "
    SELECT r.run_id, strftime(r.period, '%Y-%m'), r.command, r.job,
           strftime(r.due_at, '%Y-%m-%d %H:%M:%S'), r.status, r.exit_code,
           strftime(r.started_at, '%Y-%m-%d %H:%M:%S'), strftime(r.finished_at, '%Y-%m-%d %H:%M:%S'),
           date_diff('millisecond', r.started_at, r.finished_at), r.tool_version,
           (SELECT count(*) FROM ledger.run_inputs i WHERE i.run_id = r.run_id),
           (SELECT count(*) FROM ledger.run_inputs i WHERE i.run_id = r.run_id AND i.reused_from IS NOT NULL),
           r.rows_loaded, r.rejects,
           (SELECT count(*) FROM ledger.run_models m WHERE m.run_id = r.run_id AND m.status = 'success'),
           (SELECT count(*) FROM ledger.run_models m WHERE m.run_id = r.run_id AND m.status = 'error'),
           (SELECT count(*) FROM ledger.test_results t WHERE t.run_id = r.run_id AND t.status = 'pass'),
           (SELECT count(*) FROM ledger.test_results t WHERE t.run_id = r.run_id),
           (SELECT count(*) FROM ledger.run_outputs o WHERE o.run_id = r.run_id),
           r.message, r.config_path
    FROM ledger.runs r";

fn run_row(r: &duckdb::Row) -> duckdb::Result<RunRow> {
    Ok(RunRow {
        run_id: r.get(0)?,
        period: r.get(1)?,
        command: r.get(2)?,
        job: r.get(3)?,
        due_at: r.get(4)?,
        status: r.get(5)?,
        exit_code: r.get(6)?,
        started_at: r.get(7)?,
        finished_at: r.get(8)?,
        duration_ms: r.get(9)?,
        tool_version: r.get(10)?,
        inputs: r.get(11)?,
        inputs_reused: r.get(12)?,
        rows_loaded: r.get(13)?,
        rejects: r.get(14)?,
        models_built: r.get(15)?,
        models_failed: r.get(16)?,
        tests_passed: r.get(17)?,
        tests: r.get(18)?,
        outputs: r.get(19)?,
        message: r.get(20)?,
    })
}

/// The run ledger opened read-only, as `itvalue history` and `itvalue diff` read it.
pub struct Ledger {
    warehouse: Warehouse,
}

impl Ledger {
    /// Opens the warehouse at `path` read-only; `None` when it does not exist yet (no run has
    /// happened).
    ///
    /// # Errors
    ///
    /// [`Error::WarehouseInUse`] when a run (or a program) has it open for writing,
    /// [`Error::Warehouse`] when it cannot be read or its ledger predates this version.
    pub fn open(path: &Path) -> Result<Option<Ledger>> {
        if !path.exists() {
            return Ok(None);
        }
        let config = duckdb::Config::default()
            .access_mode(AccessMode::ReadOnly)
            .map_err(|e| Error::warehouse(path, "opening read-only", e))?;
        let conn = Connection::open_with_flags(path, config).map_err(|e| opening_error(path, e))?;
        let current: bool = conn
            .query_row(
                "SELECT count(*) = 2 FROM duckdb_tables() WHERE schema_name = 'ledger' AND table_name IN ('runs', 'run_outputs')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(path, "reading the ledger", e))?;
        if !current {
            return Err(Error::warehouse(
                path,
                "reading the ledger",
                "its ledger was written by an earlier version of itvalue; run `itvalue run` once to bring it up to date",
            ));
        }
        Ok(Some(Ledger {
            warehouse: Warehouse {
                conn,
                path: path.to_path_buf(),
            },
        }))
    }

    /// The warehouse, for the restatement queries.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// The latest runs, newest first, of `period` when given, at most `limit`.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn runs(&self, period: Option<Period>, limit: usize) -> Result<Vec<RunRow>> {
        self.warehouse.runs(period, limit)
    }

    /// One run in full, `None` when no run has that id; `rejects` bounds the rejects listed.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn run(&self, run_id: &str, rejects: usize) -> Result<Option<RunDetail>> {
        self.warehouse.run_detail(run_id, rejects)
    }
}

impl Warehouse {
    /// The latest runs, newest first, of `period` when given, at most `limit`.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn runs(&self, period: Option<Period>, limit: usize) -> Result<Vec<RunRow>> {
        let fail = |e| Error::warehouse(self.path(), "reading the run ledger", e);
        let sql = format!(
            "{RUNS_SQL} WHERE ?::VARCHAR IS NULL OR r.period = ?::DATE
             ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?"
        );
        let period = period.map(|p| p.first_day().to_string());
        let mut statement = self.connection().prepare(&sql).map_err(fail)?;
        let rows = statement
            .query_map(params![period, period, limit as i64], run_row)
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<RunRow>>>()
            .map_err(fail)?;
        Ok(rows)
    }

    /// One run in full, `None` when no run has that id.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn run_detail(&self, run_id: &str, rejects: usize) -> Result<Option<RunDetail>> {
        let fail = |e| Error::warehouse(self.path(), "reading the run ledger", e);
        let conn = self.connection();
        let found = conn
            .query_row(&format!("{RUNS_SQL} WHERE r.run_id = ?"), [run_id], |r| {
                Ok((run_row(r)?, r.get::<_, String>(21)?))
            })
            .map(Some)
            .or_else(|e| match e {
                duckdb::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(fail)?;
        let Some((run, config_path)) = found else {
            return Ok(None);
        };
        let mut steps = conn
            .prepare(
                "SELECT step, status, strftime(started_at, '%Y-%m-%d %H:%M:%S.%g'),
                        strftime(finished_at, '%Y-%m-%d %H:%M:%S.%g'), rows, detail, peak_rss_mib
                 FROM ledger.run_steps WHERE run_id = ? ORDER BY started_at, rowid",
            )
            .map_err(fail)?;
        let steps = steps
            .query_map([run_id], |r| {
                Ok(StepRow {
                    step: r.get(0)?,
                    status: r.get(1)?,
                    started_at: r.get(2)?,
                    finished_at: r.get(3)?,
                    rows: r.get(4)?,
                    detail: r.get(5)?,
                    peak_rss_mib: r.get(6)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(fail)?;
        let mut inputs = conn
            .prepare(
                "SELECT source, entity, path, sha256, bytes, rows_read, rows_loaded, rows_rejected, reused_from
                 FROM ledger.run_inputs WHERE run_id = ? ORDER BY rowid",
            )
            .map_err(fail)?;
        let inputs = inputs
            .query_map([run_id], |r| {
                Ok(InputRow {
                    source: r.get(0)?,
                    entity: r.get(1)?,
                    path: r.get(2)?,
                    sha256: r.get(3)?,
                    bytes: r.get(4)?,
                    rows_read: r.get(5)?,
                    rows_loaded: r.get(6)?,
                    rows_rejected: r.get(7)?,
                    reused_from: r.get(8)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(fail)?;
        let outcome = |sql: &str| -> Result<Vec<OutcomeRow>> {
            let mut statement = conn.prepare(sql).map_err(fail)?;
            statement
                .query_map([run_id], |r| {
                    Ok(OutcomeRow {
                        name: r.get(0)?,
                        status: r.get(1)?,
                        rows: r.get(2)?,
                        milliseconds: r.get(3)?,
                        message: r.get(4)?,
                    })
                })
                .map_err(fail)?
                .collect::<duckdb::Result<Vec<_>>>()
                .map_err(fail)
        };
        let models = outcome(
            "SELECT model, status, rows, milliseconds, coalesce(message, '')
             FROM ledger.run_models WHERE run_id = ? ORDER BY rowid",
        )?;
        let tests = outcome(
            "SELECT test, status, failures, milliseconds, message
             FROM ledger.test_results WHERE run_id = ? ORDER BY rowid",
        )?;
        let mut outputs = conn
            .prepare("SELECT kind, path FROM ledger.run_outputs WHERE run_id = ? ORDER BY rowid")
            .map_err(fail)?;
        let outputs = outputs
            .query_map([run_id], |r| {
                Ok(OutputRow {
                    kind: r.get(0)?,
                    path: r.get(1)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(fail)?;
        let mut listed = conn
            .prepare(
                "SELECT source, location, column_name, value, rule FROM ledger.rejects
                 WHERE run_id = ? ORDER BY rowid LIMIT ?",
            )
            .map_err(fail)?;
        let rejects = listed
            .query_map(params![run_id, rejects as i64], |r| {
                Ok(RejectRow {
                    source: r.get(0)?,
                    location: r.get(1)?,
                    column: r.get(2)?,
                    value: r.get(3)?,
                    rule: r.get(4)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(fail)?;
        Ok(Some(RunDetail {
            run,
            config_path,
            steps,
            inputs,
            models,
            tests,
            outputs,
            rejects,
        }))
    }

    /// The periods from `from` up to (not including) `before` that a published monthly run has
    /// reported, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn reported_periods(&self, from: Period, before: Period) -> Result<Vec<Period>> {
        let fail = |e| Error::warehouse(self.path(), "reading the reported periods", e);
        let mut statement = self
            .connection()
            .prepare(
                "SELECT DISTINCT strftime(period, '%Y-%m') AS p FROM ledger.runs
                 WHERE command = 'run' AND status IN ('succeeded', 'partial')
                   AND period >= ?::DATE AND period < ?::DATE ORDER BY p",
            )
            .map_err(fail)?;
        let texts = statement
            .query_map(
                params![from.first_day().to_string(), before.first_day().to_string()],
                |r| r.get::<_, String>(0),
            )
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<String>>>()
            .map_err(fail)?;
        Ok(texts.iter().filter_map(|t| t.parse().ok()).collect())
    }

    /// Whether any monthly run has published a report.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn has_reports(&self) -> Result<bool> {
        self.connection()
            .query_row(
                "SELECT count(*) > 0 FROM ledger.runs WHERE command = 'run' AND status IN ('succeeded', 'partial')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(self.path(), "reading the run ledger", e))
    }

    /// The latest due time of scheduled job `job` that a run has answered for good: one that
    /// published, or failed for a reason that trying again would not mend (a failure whose exit
    /// code is in `transient`, or a run that was killed, leaves its due time to be tried again).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn last_answered_due(&self, job: &str, transient: &[u8]) -> Result<Option<DateTime<Utc>>> {
        let codes: Vec<String> = transient.iter().map(u8::to_string).collect();
        let codes = if codes.is_empty() {
            "-1".to_string()
        } else {
            codes.join(", ")
        };
        let due: Option<String> = self
            .connection()
            .query_row(
                &format!(
                    "SELECT strftime(max(due_at), '%Y-%m-%d %H:%M:%S') FROM ledger.runs
                     WHERE job = ? AND due_at IS NOT NULL
                       AND (status IN ('succeeded', 'partial')
                            OR (status = 'failed' AND coalesce(exit_code, 0) NOT IN ({codes})))"
                ),
                [job],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(self.path(), "reading the schedule's state", e))?;
        Ok(due.and_then(|d| {
            NaiveDateTime::parse_from_str(&d, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        }))
    }
}
