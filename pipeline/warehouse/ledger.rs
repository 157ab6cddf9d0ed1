//! The run ledger: every run with its period, status per step, inputs (SHA-256, row counts),
//! rejects and the tool's version, kept in the `ledger` schema of the warehouse.
//!
//! In: run events from the job. Out: rows in `ledger.runs`, `ledger.run_steps`,
//! `ledger.run_inputs`, `ledger.data_quality`, `ledger.run_models`, `ledger.test_results`,
//! `ledger.extractions` (database watermarks), `ledger.rejects` and `ledger.run_outputs`. A run of
//! a scheduled job carries the job's name and the due time it answers, and every finished run its
//! exit code. The ledger is history: a rerun adds a run, and the previous runs stay.

use duckdb::{Connection, params};

use super::Warehouse;
use crate::error::{Error, Result};
use crate::ingest::{InputFile, Reject, SourceQuality};
use crate::schedule::Period;

/// The ledger's tables and the other schemas, created when missing.
pub(super) fn schema_sql() -> String {
    "CREATE SCHEMA IF NOT EXISTS raw;
     CREATE SCHEMA IF NOT EXISTS metrics;
     CREATE SCHEMA IF NOT EXISTS ledger;
     CREATE TABLE IF NOT EXISTS ledger.runs (
         run_id VARCHAR NOT NULL,
         period DATE,
         command VARCHAR NOT NULL,
         started_at TIMESTAMP NOT NULL,
         finished_at TIMESTAMP,
         status VARCHAR NOT NULL,
         tool_version VARCHAR NOT NULL,
         config_path VARCHAR NOT NULL,
         rows_loaded BIGINT,
         rejects BIGINT,
         message VARCHAR,
         job VARCHAR,
         due_at TIMESTAMP,
         exit_code INTEGER
     );
     ALTER TABLE ledger.runs ADD COLUMN IF NOT EXISTS job VARCHAR;
     ALTER TABLE ledger.runs ADD COLUMN IF NOT EXISTS due_at TIMESTAMP;
     ALTER TABLE ledger.runs ADD COLUMN IF NOT EXISTS exit_code INTEGER;
     CREATE TABLE IF NOT EXISTS ledger.run_outputs (
         run_id VARCHAR NOT NULL,
         kind VARCHAR NOT NULL,
         path VARCHAR NOT NULL
     );
     CREATE TABLE IF NOT EXISTS ledger.run_steps (
         run_id VARCHAR NOT NULL,
         step VARCHAR NOT NULL,
         status VARCHAR NOT NULL,
         started_at TIMESTAMP NOT NULL,
         finished_at TIMESTAMP NOT NULL,
         rows BIGINT,
         detail VARCHAR
     );
     ALTER TABLE ledger.run_steps ADD COLUMN IF NOT EXISTS peak_rss_mib BIGINT;
     CREATE TABLE IF NOT EXISTS ledger.run_inputs (
         run_id VARCHAR NOT NULL,
         source VARCHAR NOT NULL,
         entity VARCHAR NOT NULL,
         path VARCHAR NOT NULL,
         sha256 VARCHAR NOT NULL,
         bytes BIGINT NOT NULL,
         rows_read BIGINT NOT NULL,
         rows_loaded BIGINT NOT NULL,
         rows_rejected BIGINT NOT NULL,
         rows_superseded BIGINT NOT NULL DEFAULT 0,
         reused_from VARCHAR
     );
     ALTER TABLE ledger.run_inputs ADD COLUMN IF NOT EXISTS rows_superseded BIGINT DEFAULT 0;
     ALTER TABLE ledger.run_inputs ADD COLUMN IF NOT EXISTS reused_from VARCHAR;
     CREATE TABLE IF NOT EXISTS ledger.data_quality (
         run_id VARCHAR NOT NULL,
         source VARCHAR NOT NULL,
         entity VARCHAR NOT NULL,
         files BIGINT NOT NULL,
         rows BIGINT NOT NULL,
         rows_superseded BIGINT NOT NULL,
         rows_loaded BIGINT NOT NULL,
         rows_rejected BIGINT NOT NULL,
         completeness DOUBLE,
         accuracy DOUBLE,
         integrity DOUBLE,
         reject_rate DOUBLE NOT NULL,
         max_reject_rate DOUBLE NOT NULL,
         verdict VARCHAR NOT NULL
     );
     CREATE TABLE IF NOT EXISTS ledger.run_models (
         run_id VARCHAR NOT NULL,
         model VARCHAR NOT NULL,
         path VARCHAR NOT NULL,
         rows BIGINT,
         milliseconds BIGINT NOT NULL,
         materialized VARCHAR NOT NULL DEFAULT 'table',
         status VARCHAR NOT NULL DEFAULT 'success',
         message VARCHAR NOT NULL DEFAULT ''
     );
     ALTER TABLE ledger.run_models ALTER COLUMN rows DROP NOT NULL;
     ALTER TABLE ledger.run_models ADD COLUMN IF NOT EXISTS materialized VARCHAR DEFAULT 'table';
     ALTER TABLE ledger.run_models ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'success';
     ALTER TABLE ledger.run_models ADD COLUMN IF NOT EXISTS message VARCHAR DEFAULT '';
     CREATE TABLE IF NOT EXISTS ledger.test_results (
         run_id VARCHAR NOT NULL,
         test VARCHAR NOT NULL,
         model VARCHAR NOT NULL,
         kind VARCHAR NOT NULL,
         severity VARCHAR NOT NULL,
         status VARCHAR NOT NULL,
         failures BIGINT,
         failures_table VARCHAR,
         milliseconds BIGINT NOT NULL,
         message VARCHAR NOT NULL
     );
     CREATE TABLE IF NOT EXISTS ledger.extractions (
         run_id VARCHAR NOT NULL,
         source VARCHAR NOT NULL,
         entity VARCHAR NOT NULL,
         incremental BOOLEAN NOT NULL,
         watermark VARCHAR,
         rows BIGINT NOT NULL,
         recorded_at TIMESTAMP NOT NULL,
         fingerprint VARCHAR NOT NULL DEFAULT ''
     );
     ALTER TABLE ledger.extractions ADD COLUMN IF NOT EXISTS fingerprint VARCHAR DEFAULT '';
     ALTER TABLE ledger.extractions ADD COLUMN IF NOT EXISTS rejected_watermark VARCHAR;
     CREATE TABLE IF NOT EXISTS ledger.rejects (
         run_id VARCHAR NOT NULL,
         source VARCHAR NOT NULL,
         entity VARCHAR NOT NULL,
         location VARCHAR NOT NULL,
         row_key VARCHAR NOT NULL,
         column_name VARCHAR NOT NULL,
         value VARCHAR NOT NULL,
         rule VARCHAR NOT NULL
     );"
    .to_string()
}

/// How a run or a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Succeeded,
    /// Published with its pack, but models or tests that the pack does not need failed, or a
    /// part of the figures (a portfolio scenario) has none because of a fault in the data.
    Partial,
    Failed,
    /// Found still running by a later run: the process was killed or the machine stopped.
    Abandoned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Abandoned => "abandoned",
        }
    }
}

/// How a run ended, as `ledger.runs` keeps it.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    pub status: Status,
    /// UTC, `YYYY-MM-DD HH:MM:SS.fff`.
    pub finished_at: &'a str,
    /// The code the command exits with for this run (README, "Exit codes").
    pub exit_code: u8,
}

/// What the ledger keeps of a run's ingest: its inputs, their scores and every reject.
#[derive(Debug, Clone, Copy)]
pub struct IngestRecord<'a> {
    pub inputs: &'a [InputFile],
    pub quality: &'a [SourceQuality],
    pub rejects: &'a [Reject],
}

impl<'a> From<&'a crate::ingest::Ingested> for IngestRecord<'a> {
    fn from(ingested: &'a crate::ingest::Ingested) -> Self {
        IngestRecord {
            inputs: &ingested.inputs,
            quality: &ingested.quality,
            rejects: &ingested.rejects,
        }
    }
}

/// The identity of a run as the ledger keeps it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub run_id: String,
    pub period: Option<Period>,
    pub command: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS.fff`.
    pub started_at: String,
    pub config_path: String,
    /// The scheduled job this run answers and its due time (UTC, `YYYY-MM-DD HH:MM:SS`), for a
    /// run started by `itvalue schedule`.
    pub job: Option<(String, String)>,
}

/// One finished step of a run.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub step: String,
    pub status: Status,
    pub started_at: String,
    pub finished_at: String,
    pub rows: Option<u64>,
    pub detail: String,
    /// The process's peak resident memory from its start to the step's end, in MiB, where the
    /// system says.
    pub peak_rss_mib: Option<u64>,
}

/// One model's build in a run, as `ledger.run_models` keeps it.
#[derive(Debug, Clone)]
pub struct ModelRecord {
    pub model: String,
    pub path: String,
    pub materialized: &'static str,
    /// `success`, `error` or `skipped`.
    pub status: &'static str,
    pub rows: Option<u64>,
    pub milliseconds: u64,
    pub message: String,
}

/// One data test's outcome in a run, as `ledger.test_results` keeps it.
#[derive(Debug, Clone)]
pub struct TestRecord {
    pub test: String,
    pub model: String,
    pub kind: &'static str,
    pub severity: &'static str,
    /// `pass`, `warn`, `fail`, `skipped` or `error`.
    pub status: &'static str,
    pub failures: Option<u64>,
    pub failures_table: Option<String>,
    pub milliseconds: u64,
    pub message: String,
}

impl Warehouse {
    /// Records that a run has started.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn start_run(&self, run: &RunRecord) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO ledger.runs (run_id, period, command, started_at, status, tool_version, config_path, job, due_at)
                 VALUES (?, ?::DATE, ?, ?::TIMESTAMP, 'running', ?, ?, ?, ?::TIMESTAMP)",
                params![
                    run.run_id,
                    run.period.map(|p| p.first_day().to_string()),
                    run.command,
                    run.started_at,
                    crate::VERSION,
                    run.config_path,
                    run.job.as_ref().map(|(name, _)| name.as_str()),
                    run.job.as_ref().map(|(_, due)| due.as_str())
                ],
            )
            .map(|_| ())
            .map_err(|e| Error::warehouse(self.path(), "recording the run start", e))
    }

    /// Sets the run's period once it is known (it may be derived from the data).
    pub fn set_run_period(&self, run_id: &str, period: Period) -> Result<()> {
        self.connection()
            .execute(
                "UPDATE ledger.runs SET period = ?::DATE WHERE run_id = ?",
                params![period.first_day().to_string(), run_id],
            )
            .map(|_| ())
            .map_err(|e| Error::warehouse(self.path(), "recording the run period", e))
    }

    /// Marks every run still recorded as running as abandoned, with the time it was found: the
    /// caller holds the run lock, so none of them is still going. Returns how many there were.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn mark_abandoned(&self, found_at: &str, by_run: &str) -> Result<usize> {
        self.connection()
            .execute(
                "UPDATE ledger.runs SET status = 'abandoned',
                     message = 'found unfinished at ' || ? || ' UTC by run ' || ? || '; the process stopped before the run ended, and nothing it did was published'
                 WHERE status = 'running'",
                params![found_at, by_run],
            )
            .map_err(|e| Error::warehouse(self.path(), "marking abandoned runs", e))
    }

    /// Whether `run_id` committed what it did (succeeded, or partial).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn run_committed(&self, run_id: &str) -> Result<bool> {
        self.connection()
            .query_row(
                "SELECT count(*) > 0 FROM ledger.runs WHERE run_id = ? AND status IN ('succeeded', 'partial')",
                [run_id],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(self.path(), "reading the run ledger", e))
    }

    /// Whether any run has loaded data into the warehouse.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn has_loaded_data(&self) -> Result<bool> {
        self.connection()
            .query_row(
                "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'raw'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(self.path(), "reading the warehouse", e))
    }

    /// Records finished steps.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn record_steps(&self, run_id: &str, steps: &[StepRecord]) -> Result<()> {
        steps.iter().try_for_each(|s| self.record_step(run_id, s))
    }

    /// Records a run's inputs, scores and rejects.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn record_ingest(&self, run_id: &str, ingest: IngestRecord) -> Result<()> {
        write_ingest(self.connection(), run_id, ingest)
            .map_err(|e| Error::warehouse(self.path(), "recording inputs and rejects", e))
    }

    /// Changes a recorded step's status and detail.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn update_step(
        &self,
        run_id: &str,
        step: &str,
        status: Status,
        detail: &str,
    ) -> Result<()> {
        self.connection()
            .execute(
                "UPDATE ledger.run_steps SET status = ?, detail = ? WHERE run_id = ? AND step = ?",
                params![status.as_str(), detail, run_id, step],
            )
            .map(|_| ())
            .map_err(|e| Error::warehouse(self.path(), "recording a step's status", e))
    }

    /// Records a finished step.
    pub fn record_step(&self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.connection()
            .execute(
                "INSERT INTO ledger.run_steps (run_id, step, status, started_at, finished_at, rows, detail, peak_rss_mib)
                 VALUES (?, ?, ?, ?::TIMESTAMP, ?::TIMESTAMP, ?, ?, ?)",
                params![
                    run_id,
                    step.step,
                    step.status.as_str(),
                    step.started_at,
                    step.finished_at,
                    step.rows.map(|r| r as i64),
                    step.detail,
                    step.peak_rss_mib.map(|m| m as i64)
                ],
            )
            .map(|_| ())
            .map_err(|e| Error::warehouse(self.path(), "recording a step", e))
    }

    /// Records the files a run's pack put in place (or will, once it is published).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn record_outputs(&self, run_id: &str, outputs: &[(&str, String)]) -> Result<()> {
        let write = || -> duckdb::Result<()> {
            let mut appender = self.connection().appender_to_db("run_outputs", "ledger")?;
            for (kind, path) in outputs {
                appender.append_row(params![run_id, kind, path])?;
            }
            appender.flush()
        };
        write().map_err(|e| Error::warehouse(self.path(), "recording the outputs", e))
    }

    /// Records each model the run built, failed or skipped, and each data test's outcome.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn record_models(
        &self,
        run_id: &str,
        models: &[ModelRecord],
        tests: &[TestRecord],
    ) -> Result<()> {
        let write = || -> duckdb::Result<()> {
            let mut appender = self.connection().appender_to_db("run_models", "ledger")?;
            for m in models {
                appender.append_row(params![
                    run_id,
                    m.model,
                    m.path,
                    m.rows.map(|r| r as i64),
                    m.milliseconds as i64,
                    m.materialized,
                    m.status,
                    m.message
                ])?;
            }
            appender.flush()?;
            let mut appender = self.connection().appender_to_db("test_results", "ledger")?;
            for t in tests {
                appender.append_row(params![
                    run_id,
                    t.test,
                    t.model,
                    t.kind,
                    t.severity,
                    t.status,
                    t.failures.map(|f| f as i64),
                    t.failures_table,
                    t.milliseconds as i64,
                    t.message
                ])?;
            }
            appender.flush()
        };
        write().map_err(|e| Error::warehouse(self.path(), "recording the models", e))
    }

    /// Records how the run ended, with the rows it loaded and the values it rejected when known,
    /// and the exit code the command ends with.
    pub fn finish_run(
        &self,
        run_id: &str,
        end: RunEnd,
        counts: (Option<u64>, Option<u64>),
        message: &str,
    ) -> Result<()> {
        self.connection()
            .execute(
                "UPDATE ledger.runs SET status = ?, finished_at = ?::TIMESTAMP,
                     rows_loaded = coalesce(?, rows_loaded), rejects = coalesce(?, rejects), message = ?,
                     exit_code = ?
                 WHERE run_id = ?",
                params![
                    end.status.as_str(),
                    end.finished_at,
                    counts.0.map(|c| c as i64),
                    counts.1.map(|c| c as i64),
                    message,
                    i32::from(end.exit_code),
                    run_id
                ],
            )
            .map(|_| ())
            .map_err(|e| Error::warehouse(self.path(), "recording the run end", e))
    }
}

/// Writes the run's inputs, data-quality scores and rejects. The load calls it inside its
/// transaction, so they commit or roll back with the rows they describe; a run that fails keeps
/// them in the ledger of the warehouse it leaves unchanged, so the rejects that stopped it are
/// kept.
pub(super) fn write_ingest(
    conn: &Connection,
    run_id: &str,
    ingested: IngestRecord,
) -> duckdb::Result<()> {
    let mut inputs = conn.appender_to_db("run_inputs", "ledger")?;
    for input in ingested.inputs {
        inputs.append_row(params![
            run_id,
            input.source,
            input.entity.name(),
            input.path.display().to_string(),
            input.sha256,
            input.bytes as i64,
            input.rows_read as i64,
            input.rows_loaded as i64,
            input.rows_rejected as i64,
            input.rows_superseded as i64,
            input.reused_from
        ])?;
    }
    inputs.flush()?;
    let mut quality = conn.appender_to_db("data_quality", "ledger")?;
    for q in ingested.quality {
        quality.append_row(params![
            run_id,
            q.source,
            q.entity.name(),
            q.files as i64,
            q.rows as i64,
            q.rows_superseded as i64,
            q.rows_loaded as i64,
            q.rows_rejected as i64,
            q.completeness,
            q.accuracy,
            q.integrity,
            q.reject_rate,
            q.max_reject_rate,
            q.verdict.as_str()
        ])?;
    }
    quality.flush()?;
    let mut rejects = conn.appender_to_db("rejects", "ledger")?;
    for r in ingested.rejects {
        rejects.append_row(params![
            run_id,
            r.source,
            r.entity.name(),
            r.location,
            r.row_key,
            r.column,
            r.value,
            r.rule
        ])?;
    }
    rejects.flush()
}

/// Records each database extraction with its watermark and the smallest watermark of its
/// rejected rows. The load calls it inside its transaction, so a watermark exists only for rows
/// that were committed, and a rejected row is read again unless the run that rejected it failed
/// (then nothing moved).
pub(super) fn record_extractions(
    conn: &Connection,
    run_id: &str,
    ingested: &crate::ingest::Ingested,
) -> duckdb::Result<()> {
    for x in &ingested.extractions {
        conn.execute(
            "INSERT INTO ledger.extractions \
             (run_id, source, entity, incremental, watermark, rows, recorded_at, fingerprint, \
              rejected_watermark) \
             VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?)",
            params![
                run_id,
                x.source,
                x.entity.name(),
                x.incremental,
                x.watermark,
                x.rows as i64,
                x.fingerprint,
                x.rejected_watermark
            ],
        )?;
    }
    Ok(())
}
