//! The warehouse: one DuckDB file holding the raw entities, the run ledger and the metric tables.
//!
//! In: ingested Arrow batches, metric DataFrames, ledger records. Out: tables in the file
//! (`raw.<entity>`, `ledger.*`, `metrics.*`), and query results as Polars DataFrames through the
//! Arrow bridge. Loads are columnar (the Arrow appender) and all-or-nothing (one transaction); a
//! whole run works on a [`WorkCopy`] that replaces the file in one rename when the run succeeds.

mod bridge;
pub mod history;
mod kept;
pub mod ledger;
pub mod reported;
mod work_copy;

use std::path::{Path, PathBuf};

use duckdb::Connection;
use polars::prelude::DataFrame;
use rust_decimal::Decimal;

use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::ingest::{Ingested, Prior};
use crate::schedule::Period;

pub use bridge::BridgeError;
pub use history::Ledger;
pub use kept::ChangedInput;
pub use work_copy::{WorkCopy, remove_stale_work_copies};

/// A database source that extracts incrementally, as [`Warehouse::prior`] looks it up.
#[derive(Debug, Clone)]
pub struct IncrementalSource {
    pub name: String,
    pub entity: Entity,
    /// [`crate::config::DatabaseSource::fingerprint`].
    pub fingerprint: String,
}

/// An investment's raw cost and benefit lines, converted and summed for the control totals.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestmentMoney {
    pub investment_id: String,
    /// `None` when a line has no rate into the reporting currency.
    pub costs: Option<Decimal>,
    pub benefits: Option<Decimal>,
}

/// An open warehouse file.
pub struct Warehouse {
    conn: Connection,
    path: PathBuf,
}

impl Warehouse {
    /// Opens (creating if needed) the warehouse at `path` and makes sure its schemas and ledger
    /// tables exist.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder cannot be created, [`Error::Warehouse`] when DuckDB
    /// cannot open the file (for example because another program holds it).
    pub fn open(path: &Path) -> Result<Warehouse> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Output {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| opening_error(path, e))?;
        let warehouse = Warehouse {
            conn,
            path: path.to_path_buf(),
        };
        warehouse.execute_batch("creating schemas and ledger tables", &ledger::schema_sql())?;
        warehouse.execute_batch("creating the kept inputs' tables", kept::SCHEMA_SQL)?;
        warehouse.execute_batch(
            "creating the reported figures' schema",
            reported::SCHEMA_SQL,
        )?;
        Ok(warehouse)
    }

    /// Bounds the memory DuckDB uses for this connection's database (`512MB`, `2GiB`; see
    /// [`crate::Config::warehouse_memory`]).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when DuckDB refuses the size.
    pub fn limit_memory(&self, size: &str) -> Result<()> {
        self.execute_batch(
            "bounding the warehouse's memory (warehouse_memory)",
            &format!("SET memory_limit = {}", quote_text(size)),
        )
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for stages that run SQL of their own (the models).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Writes everything committed into the file itself, so the file alone holds the warehouse.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when DuckDB cannot checkpoint.
    pub fn checkpoint(&self) -> Result<()> {
        self.execute_batch("writing the warehouse file", "CHECKPOINT")
    }

    /// Runs statements, naming what was being done if they fail.
    pub fn execute_batch(&self, context: &str, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| Error::warehouse(&self.path, context, e))
    }

    /// Replaces every raw table with this run's rows and records the run's inputs and rejects,
    /// all in one transaction: after a failure the warehouse holds exactly what it held before.
    ///
    /// Raw tables hold the full snapshot of their sources, so a rerun replaces rather than adds.
    /// The load takes the rows of `ingested` (its entities' batches and the typed inputs kept for
    /// reuse), each as soon as it is written, so that they are not held beside DuckDB's copy;
    /// the record of what was read stays.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming the entity being loaded; nothing is changed.
    pub fn load(&mut self, run_id: &str, ingested: &mut Ingested) -> Result<u64> {
        let mut clock = std::time::Instant::now();
        // The parts' times, for -vv.
        let mut timed = |part: &str| {
            tracing::debug!(part, ms = clock.elapsed().as_millis() as u64, "load part");
            clock = std::time::Instant::now();
        };
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::warehouse(&path, "beginning the load", e))?;
        let mut rows = 0;
        for batch in std::mem::take(&mut ingested.entities) {
            let entity = batch.entity;
            let fail = |e| Error::warehouse(&path, format!("loading raw.{entity}"), e);
            let incremental: Vec<&str> = ingested
                .extractions
                .iter()
                .filter(|x| x.entity == entity && x.incremental)
                .map(|x| x.source.as_str())
                .collect();
            if !incremental.is_empty() {
                keep_earlier_rows(&tx, entity, &incremental).map_err(fail)?;
            }
            tx.execute_batch(&raw_table_sql(entity)).map_err(fail)?;
            if batch.rows() > 0 {
                // Spilled rows come one written batch at a time, so memory follows a batch.
                let mut appender = tx.appender_to_db(entity.name(), "raw").map_err(fail)?;
                for record_batch in batch.record_batches() {
                    appender.append_record_batch(record_batch?).map_err(fail)?;
                }
                appender.flush().map_err(fail)?;
            }
            if !incremental.is_empty() {
                restore_earlier_rows(&tx, entity).map_err(fail)?;
            }
            rows += batch.rows();
        }
        crate::failpoint::reached("raw-loaded");
        timed("raw tables");
        ledger::write_ingest(&tx, run_id, (&*ingested).into())
            .map_err(|e| Error::warehouse(&path, "recording inputs and rejects", e))?;
        ledger::record_extractions(&tx, run_id, ingested)
            .map_err(|e| Error::warehouse(&path, "recording watermarks", e))?;
        timed("recording inputs and rejects");
        kept::keep(&tx, run_id, &mut *ingested)
            .map_err(|e| Error::warehouse(&path, "keeping the typed inputs for reuse", e))?;
        timed("keeping the typed inputs for reuse");
        tx.commit()
            .map_err(|e| Error::warehouse(&path, "committing the load", e))?;
        timed("committing");
        Ok(rows)
    }

    /// What incremental database sources loaded before: where each one's next extraction starts
    /// (the smallest watermark among the rows its last extraction rejected, else the highest
    /// watermark it loaded) and, for the
    /// foreign keys of other entities, the keys of the rows it left in `raw`. A watermark is
    /// reused only when the source's latest committed extraction fed the same entity from the same
    /// table or query and watermark column (`fingerprint`), recorded a watermark, and its rows are
    /// still in `raw` (a run without the source replaced them); otherwise the source is extracted
    /// in full. `full_refresh` always extracts in full.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger or a raw table cannot be read.
    pub fn prior(&self, sources: &[IncrementalSource], full_refresh: bool) -> Result<Prior> {
        let mut prior = Prior::default();
        if full_refresh {
            return Ok(prior);
        }
        let fail = |e| Error::warehouse(&self.path, "reading the last watermarks", e);
        for source in sources {
            let latest: Option<(String, String, Option<String>)> = self
                .conn
                .query_row(
                    "SELECT entity, fingerprint, coalesce(rejected_watermark, watermark) \
                     FROM ledger.extractions \
                     WHERE source = ? ORDER BY run_id DESC LIMIT 1",
                    [&source.name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map(Some)
                .or_else(|e| match e {
                    duckdb::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })
                .map_err(fail)?;
            let Some((entity, fingerprint, Some(watermark))) = latest else {
                continue;
            };
            if entity != source.entity.name() || fingerprint != source.fingerprint {
                continue;
            }
            // Foreign keys name single-column keys (investments, applications, demands,
            // deployments), so the first key column is the one other entities refer to.
            let key = source.entity.contract().key[0];
            let mut statement = self
                .conn
                .prepare(&format!(
                    "SELECT CAST({} AS VARCHAR) FROM raw.{} WHERE _source = ?",
                    quote(key),
                    source.entity.name()
                ))
                .map_err(fail)?;
            let keys = statement
                .query_map([&source.name], |r| r.get::<_, String>(0))
                .map_err(fail)?
                .collect::<duckdb::Result<Vec<String>>>()
                .map_err(fail)?;
            if keys.is_empty() {
                continue;
            }
            prior
                .kept_keys
                .entry(source.entity)
                .or_default()
                .extend(keys);
            prior.watermarks.insert(source.name.clone(), watermark);
        }
        Ok(prior)
    }

    /// Runs a query and returns the result as a Polars DataFrame.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] with the query's error.
    pub fn frame(&self, context: &str, sql: &str) -> Result<DataFrame> {
        bridge::query_frame(&self.conn, sql).map_err(|e| Error::warehouse(&self.path, context, e))
    }

    /// The rows of `sql` as Arrow record batches, every type kept (for the Parquet extracts).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming `context` when the query fails.
    pub fn record_batches(
        &self,
        context: &str,
        sql: &str,
    ) -> Result<(
        arrow::datatypes::SchemaRef,
        Vec<arrow::record_batch::RecordBatch>,
    )> {
        let fail = |e| Error::warehouse(&self.path, context, e);
        let mut statement = self.conn.prepare(sql).map_err(fail)?;
        let arrow = statement.query_arrow([]).map_err(fail)?;
        let schema = arrow.get_schema();
        Ok((schema, arrow.collect()))
    }

    /// The stored rows of `period` of each of `tables` that the warehouse holds (a table it does
    /// not hold yet is left out): what an earlier run reported for that period.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when a table cannot be read.
    pub fn stored_figures(
        &self,
        tables: &[&'static str],
        period: Period,
    ) -> Result<std::collections::BTreeMap<&'static str, DataFrame>> {
        let mut out = std::collections::BTreeMap::new();
        for table in tables {
            if existing_columns(&self.conn, "metrics", table)
                .map_err(|e| Error::warehouse(&self.path, format!("reading metrics.{table}"), e))?
                .is_empty()
            {
                continue;
            }
            let frame = self.frame(
                &format!("reading metrics.{table} of {period}"),
                &format!(
                    "SELECT * FROM metrics.{} WHERE period = DATE '{}'",
                    quote(table),
                    period.first_day()
                ),
            )?;
            if frame.height() > 0 {
                out.insert(*table, frame);
            }
        }
        Ok(out)
    }

    /// The share of rows accepted (not rejected) over every source of the latest run of
    /// `period` that published, from the ledger; `None` when no such run read a row.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn accepted_share(&self, period: Period) -> Result<Option<f64>> {
        self.conn
            .query_row(
                "SELECT 1 - sum(rows_rejected)::DOUBLE / nullif(sum(rows), 0)
                 FROM ledger.data_quality
                 WHERE run_id = (
                     SELECT run_id FROM ledger.runs
                     WHERE period = ?::DATE AND status IN ('succeeded', 'partial')
                     ORDER BY started_at DESC LIMIT 1)",
                [period.first_day().to_string()],
                |r| r.get(0),
            )
            .map_err(|e| Error::warehouse(&self.path, "reading the ledger's data quality", e))
    }

    /// Replaces the rows of `period` in every `metrics.<table>` with its frame, all in one
    /// transaction. Each frame must have a `period` column of dates. A table is created from its
    /// frame's schema when missing; a frame with new columns adds them to the table (the stored
    /// periods keep their rows, empty in the new columns). A frame that lacks a stored column,
    /// or changes a column's type, stops with [`Error::MetricTableChanged`], which says how to
    /// migrate: metric history is never dropped to make room.
    ///
    /// # Errors
    ///
    /// [`Error::MetricTableChanged`] as above, [`Error::Warehouse`] naming the table; no table is
    /// changed.
    pub fn store_metrics(&mut self, period: Period, tables: &[(&str, &DataFrame)]) -> Result<()> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::warehouse(&path, "beginning to store the metrics", e))?;
        for (table, frame) in tables {
            let fail = |e: Box<dyn std::error::Error + Send + Sync>| {
                Error::warehouse(&path, format!("writing metrics.{table}"), e)
            };
            let wanted = ddl_columns(frame).map_err(|m| fail(m.into()))?;
            let existing =
                existing_columns(&tx, "metrics", table).map_err(|e| fail(Box::new(e)))?;
            let order = if existing.is_empty() {
                let ddl = format!(
                    "CREATE TABLE metrics.{} ({})",
                    quote(table),
                    wanted
                        .iter()
                        .map(|(n, t)| format!("{} {t}", quote(n)))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                tx.execute_batch(&ddl).map_err(|e| fail(Box::new(e)))?;
                wanted.iter().map(|(n, _)| n.clone()).collect()
            } else {
                let (converted, added) = added_columns(table, &existing, &wanted)?;
                for (name, kind) in &converted {
                    // Money a version of itvalue stored as DOUBLE becomes exact, at cents.
                    let scale = kind
                        .rsplit_once(',')
                        .and_then(|(_, s)| s.trim_end_matches(')').trim().parse::<u32>().ok())
                        .unwrap_or(2);
                    tx.execute_batch(&format!(
                        "ALTER TABLE metrics.{t} ALTER {c} SET DATA TYPE {kind} USING round({c}, {scale})",
                        t = quote(table),
                        c = quote(name)
                    ))
                    .map_err(|e| fail(Box::new(e)))?;
                    tracing::info!(table, column = %name, "stored figure converted from DOUBLE to exact money");
                }
                for (name, kind) in &added {
                    tx.execute_batch(&format!(
                        "ALTER TABLE metrics.{} ADD COLUMN {} {kind}",
                        quote(table),
                        quote(name)
                    ))
                    .map_err(|e| fail(Box::new(e)))?;
                    tracing::info!(table, column = %name, "metric table gained a column");
                }
                existing
                    .iter()
                    .map(|(n, _)| n.clone())
                    .chain(added.into_iter().map(|(n, _)| n))
                    .collect::<Vec<String>>()
            };
            tx.execute(
                &format!(
                    "DELETE FROM metrics.{} WHERE period = ?::DATE",
                    quote(table)
                ),
                [period.first_day().to_string()],
            )
            .map_err(|e| fail(Box::new(e)))?;
            // The appender goes by position, and added columns sit at the end of the table.
            let in_table_order = frame
                .select(order.iter().map(String::as_str))
                .map_err(|e| fail(Box::new(e)))?;
            bridge::append_frame(&tx, "metrics", table, &in_table_order)
                .map_err(|e| fail(Box::new(e)))?;
        }
        tx.commit()
            .map_err(|e| Error::warehouse(&path, "committing the metrics", e))
    }

    /// The latest month before `current` that the loaded data covers: the latest month with
    /// actual cost lines when costs are loaded (finance closes months by booking actuals), else
    /// the latest month any dated entity reaches (incidents, deployments, the demand funnel,
    /// SLO measurements, benefits, progress). `None` when nothing dated is loaded.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the raw tables cannot be read.
    pub fn latest_month_before(&self, current: Period) -> Result<Option<Period>> {
        let before = format!("DATE '{}'", current.first_day());
        let costs = format!(
            "SELECT max(period) FROM raw.costs WHERE scenario = 'actual' AND period < {before}"
        );
        let months = |column: &str, table: &str| {
            format!(
                "SELECT max(date_trunc('month', {column}))::DATE FROM raw.{table} WHERE {column} < {before}"
            )
        };
        let others = [
            months("opened_at", "incidents"),
            months("finished_at", "deployments"),
            months("entered_at", "demand_events"),
            months("proposed_at", "demands"),
            months("period", "slo_measurements"),
            format!(
                "SELECT max(period) FROM raw.benefits WHERE scenario = 'realized' AND period < {before}"
            ),
            months("period", "progress"),
        ];
        let latest = |sql: String| -> Result<Option<Period>> {
            let exists: bool = self
                .conn
                .query_row(
                    "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'raw'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| Error::warehouse(&self.path, "finding the latest period", e))?;
            if !exists {
                return Ok(None);
            }
            let day: Option<String> = self
                .conn
                .query_row(&format!("SELECT CAST(({sql}) AS VARCHAR)"), [], |r| {
                    r.get(0)
                })
                .map_err(|e| Error::warehouse(&self.path, "finding the latest period", e))?;
            Ok(day.and_then(|d| d.get(..7).and_then(|m| m.parse().ok())))
        };
        if let Some(p) = latest(costs)? {
            return Ok(Some(p));
        }
        let all = others
            .iter()
            .map(|q| format!("({q})"))
            .collect::<Vec<_>>()
            .join(", ");
        latest(format!("SELECT greatest({all})"))
    }

    /// Copies the failing rows of data tests (`tables`, as `test_failures.<test>`) from the closed
    /// work copy of a failed run at `work`, replacing those tables here: a failed run publishes
    /// nothing else, but the rows that failed its tests are what an analyst needs to mend the data.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the copy cannot be attached or a table copied.
    pub fn keep_failing_rows(&self, work: &Path, tables: &[&str]) -> Result<()> {
        let mut sql = format!(
            "ATTACH {} AS failed_run (READ_ONLY);
             CREATE SCHEMA IF NOT EXISTS test_failures;",
            quote_text(&work.display().to_string())
        );
        for table in tables {
            let name = table.strip_prefix("test_failures.").unwrap_or(table);
            sql.push_str(&format!(
                "CREATE OR REPLACE TABLE test_failures.{n} AS SELECT * FROM failed_run.test_failures.{n};",
                n = quote(name)
            ));
        }
        sql.push_str("DETACH failed_run;");
        self.execute_batch("keeping the failing rows of the failed run's tests", &sql)
    }

    /// How many cost and benefit lines each FX rule converted (`stg_costs` and `stg_benefits`
    /// say which rule converted each line; `None` is a line without a rate): `(kind, rule, lines)`
    /// with kind `cost` or `benefit`. Empty when those models are absent.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the models cannot be read.
    pub fn lines_by_fx_rule(&self) -> Result<Vec<(String, Option<String>, u64)>> {
        let fail = |e| Error::warehouse(&self.path, "counting the lines by FX rule", e);
        let mut parts = Vec::new();
        for (kind, model) in [("cost", "stg_costs"), ("benefit", "stg_benefits")] {
            let present: bool = self
                .conn
                .query_row(
                    "SELECT count(*) > 0 FROM information_schema.columns \
                     WHERE table_schema = 'main' AND table_name = ? AND column_name = 'fx_rule'",
                    [model],
                    |r| r.get(0),
                )
                .map_err(fail)?;
            if present {
                parts.push(format!(
                    "SELECT '{kind}' AS kind, fx_rule, count(*) AS lines FROM main.{model} GROUP BY ALL"
                ));
            }
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{} ORDER BY 1 DESC, 2 NULLS LAST",
            parts.join(" UNION ALL ")
        );
        let mut statement = self.conn.prepare(&sql).map_err(fail)?;
        let rows = statement
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(fail)?;
        rows.collect::<duckdb::Result<_>>().map_err(fail)
    }

    /// The money of `raw.costs` and `raw.benefits` per investment, for the control totals: each
    /// line converted into the reporting currency at the rate `stg_fx_rates` gives it (rounded
    /// to the cent per line, as the staging models round), selected as the valuation selects its
    /// flows — actual costs and realized benefits in the months up to `period`, and after it the
    /// month's forecast cost lines (else its budget lines) and planned benefits. It reads the raw
    /// lines, not the models, so a model that drops or repeats lines does not hide from it.
    ///
    /// A total is `None` when one of its lines has no rate. An investment with lines of only one
    /// kind has zero of the other.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the raw tables or `stg_fx_rates` cannot be read.
    pub fn money_loaded_by_investment(
        &self,
        period: Period,
        reporting_currency: &str,
    ) -> Result<Vec<InvestmentMoney>> {
        let fail = |e| Error::warehouse(&self.path, "computing the control totals", e);
        let sql = format!(
            "WITH rates AS (
                -- One rate per currency and month whatever the model holds, so a model that
                -- repeats rates fans out the staged lines but not these.
                SELECT currency, period, min(rate_to_reporting) AS rate_to_reporting
                FROM main.stg_fx_rates
                GROUP BY currency, period
            ),
            converted AS (
                SELECT 'cost' AS kind, c.investment_id, c.period, c.scenario,
                    CAST(round(c.amount * CAST(r.rate_to_reporting AS DECIMAL(18, 8)), 2)
                        AS DECIMAL(18, 2)) AS amount
                FROM raw.costs AS c
                LEFT JOIN rates AS r
                    ON r.currency = coalesce(c.currency, $1) AND r.period = c.period
                UNION ALL
                SELECT 'benefit', b.investment_id, b.period, b.scenario,
                    CAST(round(b.amount * CAST(r.rate_to_reporting AS DECIMAL(18, 8)), 2)
                        AS DECIMAL(18, 2))
                FROM raw.benefits AS b
                LEFT JOIN rates AS r
                    ON r.currency = coalesce(b.currency, $1) AND r.period = b.period
            ),
            forecast_months AS (
                SELECT DISTINCT investment_id, period FROM raw.costs WHERE scenario = 'forecast'
            ),
            used AS (
                SELECT * FROM converted AS l
                WHERE (l.period <= DATE '{day}' AND l.scenario IN ('actual', 'realized'))
                    OR (l.period > DATE '{day}' AND l.scenario IN ('forecast', 'planned'))
                    OR (l.period > DATE '{day}' AND l.scenario = 'budget' AND NOT EXISTS (
                        SELECT 1 FROM forecast_months AS f
                        WHERE f.investment_id = l.investment_id AND f.period = l.period))
            )
            SELECT investment_id,
                CASE WHEN count(*) FILTER (WHERE kind = 'cost' AND amount IS NULL) = 0
                    THEN CAST(coalesce(sum(amount) FILTER (WHERE kind = 'cost'), 0) AS VARCHAR)
                END,
                CASE WHEN count(*) FILTER (WHERE kind = 'benefit' AND amount IS NULL) = 0
                    THEN CAST(coalesce(sum(amount) FILTER (WHERE kind = 'benefit'), 0) AS VARCHAR)
                END
            FROM used
            GROUP BY investment_id
            ORDER BY investment_id",
            day = period.first_day()
        );
        let mut statement = self.conn.prepare(&sql).map_err(fail)?;
        let rows = statement
            .query_map([reporting_currency], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<_>>>()
            .map_err(fail)?;
        rows.into_iter()
            .map(|(id, costs, benefits)| {
                let parse = |text: Option<String>| -> Result<Option<Decimal>> {
                    text.map(|t| {
                        t.parse::<Decimal>()
                            .map_err(|e| fail(duckdb::Error::ToSqlConversionFailure(Box::new(e))))
                    })
                    .transpose()
                };
                Ok(InvestmentMoney {
                    investment_id: id,
                    costs: parse(costs)?,
                    benefits: parse(benefits)?,
                })
            })
            .collect()
    }

    /// The years the loaded timestamps span, for [`Warehouse::define_to_utc`].
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the raw tables cannot be read.
    pub fn timestamp_years(&self) -> Result<Option<(i32, i32)>> {
        let mut parts = Vec::new();
        for entity in Entity::ALL {
            for column in entity.contract().columns {
                if column.kind == crate::contract::ColumnKind::Timestamp {
                    parts.push(format!(
                        "SELECT min({c}) AS lo, max({c}) AS hi FROM raw.{}",
                        entity.name(),
                        c = quote(column.name)
                    ));
                }
            }
        }
        let sql = format!(
            "SELECT CAST(year(min(lo)) AS INTEGER), CAST(year(max(hi)) AS INTEGER) FROM ({})",
            parts.join(" UNION ALL ")
        );
        let years: (Option<i32>, Option<i32>) = self
            .conn
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| Error::warehouse(&self.path, "finding the span of the timestamps", e))?;
        Ok(match years {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        })
    }

    /// Defines the SQL macro `to_utc(ts)`: the UTC instant of a timestamp stored as wall-clock
    /// time in `zone`, from the zone's transitions over `years` (and the offsets at either end
    /// beyond them). Durations computed between `to_utc` values never gain or lose the hour of a
    /// daylight-saving change. A time in the hour repeated when clocks go back reads as its first
    /// occurrence.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the macro cannot be created.
    pub fn define_to_utc(&self, zone: &str, years: (i32, i32)) -> Result<()> {
        let tz = jiff::tz::TimeZone::get(zone)
            .map_err(|e| Error::warehouse(&self.path, format!("time zone {zone}"), e))?;
        let clamp = |y: i32| y.clamp(1900, 2200) as i16;
        let stretches = crate::zone::offset_stretches(&tz, clamp(years.0 - 1)..=clamp(years.1 + 1));
        let shift = |offset: i32| format!("ts - INTERVAL ({offset}) SECOND");
        let body = match stretches.as_slice() {
            [] => "ts".to_string(),
            [(_, _, offset)] if *offset == 0 => "ts".to_string(),
            [only] => shift(only.2),
            [rest @ .., last] => {
                let branches: Vec<String> = rest
                    .iter()
                    .map(|(_, until, offset)| {
                        format!(
                            "WHEN ts < TIMESTAMP '{}' THEN {}",
                            until.format("%Y-%m-%d %H:%M:%S"),
                            shift(*offset)
                        )
                    })
                    .collect();
                format!("CASE {} ELSE {} END", branches.join(" "), shift(last.2))
            }
        };
        self.execute_batch(
            "defining to_utc",
            &format!("CREATE OR REPLACE MACRO main.to_utc(ts) AS {body};"),
        )
    }
}

/// The stored columns to convert to exact money (stored as DOUBLE by an earlier version, now
/// DECIMAL) and the columns a frame adds to a stored metric table; or the error that says why the
/// frame cannot be stored beside the table's periods and how to migrate.
#[allow(clippy::type_complexity)]
fn added_columns(
    table: &str,
    existing: &[(String, String)],
    wanted: &[(String, String)],
) -> Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let mut converted = Vec::new();
    let changed = |message: String| Error::MetricTableChanged {
        table: format!("metrics.{table}"),
        message,
    };
    for (name, stored) in existing {
        match wanted.iter().find(|(n, _)| n == name) {
            None => {
                return Err(changed(format!(
                    "it stores a column `{name}` that this version of itvalue no longer writes. To keep the stored periods, rename the table (ALTER TABLE metrics.{table} RENAME TO {table}_before) and rerun the periods you need; to drop the old figures, ALTER TABLE metrics.{table} DROP COLUMN {name}"
                )));
            }
            Some((_, new))
                if ["DOUBLE", "FLOAT", "REAL"].contains(&stored.as_str())
                    && new.starts_with("DECIMAL(") =>
            {
                converted.push((name.clone(), new.clone()));
            }
            Some((_, new)) if !fits(stored, new) => {
                return Err(changed(format!(
                    "it stores `{name}` as {stored}, but this version of itvalue writes it as {new}. To keep the stored periods, rename the table (ALTER TABLE metrics.{table} RENAME TO {table}_before) and rerun the periods you need; or convert the column in place (ALTER TABLE metrics.{table} ALTER {name} TYPE {new}) if every stored value fits"
                )));
            }
            Some(_) => {}
        }
    }
    let added = wanted
        .iter()
        .filter(|(n, _)| !existing.iter().any(|(e, _)| e == n))
        .cloned()
        .collect();
    Ok((converted, added))
}

/// Whether values of type `new` can be stored in a column of type `stored` without loss: the same
/// type, or a decimal of the same scale and no more digits.
fn fits(stored: &str, new: &str) -> bool {
    let decimal = |t: &str| -> Option<(u32, u32)> {
        let inner = t.strip_prefix("DECIMAL(")?.strip_suffix(')')?;
        let (p, s) = inner.split_once(',')?;
        Some((p.trim().parse().ok()?, s.trim().parse().ok()?))
    };
    if stored.eq_ignore_ascii_case(new) {
        return true;
    }
    matches!((decimal(stored), decimal(new)), (Some((p0, s0)), Some((p1, s1))) if s0 == s1 && p0 >= p1)
}

/// The error DuckDB gives when the file is open elsewhere becomes [`Error::WarehouseInUse`]
/// naming the program that holds it.
fn opening_error(path: &Path, e: duckdb::Error) -> Error {
    let text = e.to_string();
    if let Some(at) = text.find("Conflicting lock is held in ") {
        // "… held in /usr/bin/python3 (PID 4242) by user root. However, you would be able to …"
        let rest = &text[at + "Conflicting lock is held in ".len()..];
        let holder = match rest.find(')') {
            Some(end) => &rest[..=end],
            None => rest.split(". ").next().unwrap_or(rest),
        };
        return Error::WarehouseInUse {
            path: path.to_path_buf(),
            holder: holder.trim().to_string(),
        };
    }
    Error::warehouse(path, "cannot open", e)
}

/// Sets aside the rows incremental sources loaded before, as the raw table is about to be
/// replaced.
fn keep_earlier_rows(
    tx: &duckdb::Transaction,
    entity: Entity,
    sources: &[&str],
) -> duckdb::Result<()> {
    let exists: i64 = tx.query_row(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = ?",
        [entity.name()],
        |r| r.get(0),
    )?;
    if exists == 0 {
        // Nothing loaded before: the table to copy from is made empty, with its columns.
        tx.execute_batch(&raw_table_sql(entity))?;
    }
    let list: Vec<String> = sources.iter().map(|s| quote_text(s)).collect();
    tx.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE earlier_rows AS SELECT * FROM raw.{} WHERE _source IN ({});",
        entity.name(),
        list.join(", ")
    ))
}

/// Puts back the rows set aside whose key no new row has, so the new rows replace old ones.
fn restore_earlier_rows(tx: &duckdb::Transaction, entity: Entity) -> duckdb::Result<()> {
    let same_key: Vec<String> = entity
        .contract()
        .key
        .iter()
        // Key parts may be empty (a cost line without cost_pool or line_id): `=` would never
        // match them, and every such row would be kept twice.
        .map(|k| format!("n.{k} IS NOT DISTINCT FROM e.{k}", k = quote(k)))
        .collect();
    tx.execute_batch(&format!(
        "INSERT INTO raw.{table} BY NAME SELECT e.* FROM earlier_rows AS e \
         WHERE NOT EXISTS (SELECT 1 FROM raw.{table} AS n WHERE {});
         DROP TABLE earlier_rows;",
        same_key.join(" AND "),
        table = entity.name()
    ))
}

/// `CREATE OR REPLACE TABLE raw.<entity>` with the contract's columns and types.
fn raw_table_sql(entity: Entity) -> String {
    let columns: Vec<String> = entity
        .contract()
        .columns
        .iter()
        .map(|c| format!("{} {}", quote(c.name), c.kind.sql_type()))
        .chain(["_source VARCHAR", "_file VARCHAR", "_row BIGINT"].map(String::from))
        .collect();
    format!(
        "CREATE OR REPLACE TABLE raw.{} ({});",
        entity.name(),
        columns.join(", ")
    )
}

/// The frame's columns with their DuckDB types, or the name of one that has none.
fn ddl_columns(frame: &DataFrame) -> std::result::Result<Vec<(String, String)>, String> {
    use polars::prelude::DataType as D;
    frame
        .columns()
        .iter()
        .map(|c| {
            let t = match c.dtype() {
                D::String => "VARCHAR".to_string(),
                D::Int64 => "BIGINT".to_string(),
                D::Int32 => "INTEGER".to_string(),
                D::UInt32 => "UINTEGER".to_string(),
                D::Float64 => "DOUBLE".to_string(),
                D::Boolean => "BOOLEAN".to_string(),
                D::Date => "DATE".to_string(),
                D::Datetime(_, None) => "TIMESTAMP".to_string(),
                D::Decimal(p, s) => format!("DECIMAL({p},{s})"),
                other => return Err(format!("column {} has type {other}", c.name())),
            };
            Ok((c.name().to_string(), t))
        })
        .collect()
}

fn existing_columns(
    conn: &Connection,
    schema: &str,
    table: &str,
) -> duckdb::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT column_name, data_type FROM information_schema.columns \
         WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
    )?;
    let rows = statement.query_map([schema, table], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Quotes text as an SQL string literal for DuckDB (`O'Brien` as `'O''Brien'`).
pub fn quote_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Quotes an identifier for DuckDB.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(conn: &Connection, sql: &str) -> Vec<String> {
        let mut statement = conn.prepare(sql).unwrap();
        statement
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap()
    }

    #[test]
    fn incremental_loads_keep_one_row_per_key_with_empty_key_parts() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&ledger::schema_sql()).unwrap();
        conn.execute_batch(&raw_table_sql(Entity::Costs)).unwrap();
        // Loaded before: two lines without cost_pool or line_id, from the database source.
        conn.execute_batch(
            "INSERT INTO raw.costs (investment_id, period, scenario, amount, _source, _file, _row) VALUES
             ('INV-1', DATE '2026-09-01', 'actual', 10.00, 'db', 'db', 1),
             ('INV-2', DATE '2026-09-01', 'actual', 20.00, 'db', 'db', 2);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        keep_earlier_rows(&tx, Entity::Costs, &["db"]).unwrap();
        tx.execute_batch(&raw_table_sql(Entity::Costs)).unwrap();
        // The incremental extract brings INV-1's line again, changed: it replaces the old one.
        tx.execute_batch(
            "INSERT INTO raw.costs (investment_id, period, scenario, amount, _source, _file, _row)
             VALUES ('INV-1', DATE '2026-09-01', 'actual', 11.00, 'db', 'db', 1);",
        )
        .unwrap();
        restore_earlier_rows(&tx, Entity::Costs).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            strings(
                &conn,
                "SELECT investment_id || ' ' || amount FROM raw.costs ORDER BY 1"
            ),
            ["INV-1 11.00", "INV-2 20.00"]
        );
    }

    fn frame(columns: Vec<polars::prelude::Column>) -> DataFrame {
        DataFrame::new_infer_height(columns).unwrap()
    }

    fn period_column(day: &str) -> polars::prelude::Column {
        use polars::prelude::{DataType, IntoColumn, NamedFrom, Series};
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        Series::new("period".into(), [(d - epoch).num_days() as i32])
            .cast(&DataType::Date)
            .unwrap()
            .into_column()
    }

    fn figure(name: &str, value: f64) -> polars::prelude::Column {
        use polars::prelude::{IntoColumn, NamedFrom, Series};
        Series::new(name.into(), [value]).into_column()
    }

    #[test]
    fn a_metric_table_gains_new_columns_and_keeps_its_periods_but_refuses_a_changed_type() {
        use polars::prelude::{IntoColumn, NamedFrom, Series};
        let dir = tempfile::tempdir().unwrap();
        let mut w = Warehouse::open(&dir.path().join("w.duckdb")).unwrap();
        let sep: Period = "2026-09".parse().unwrap();
        let oct: Period = "2026-10".parse().unwrap();
        let old = frame(vec![period_column("2026-09-01"), figure("cpi", 0.9)]);
        w.store_metrics(sep, &[("t", &old)]).unwrap();
        let new = frame(vec![
            period_column("2026-10-01"),
            figure("spi", 1.1),
            figure("cpi", 0.8),
        ]);
        w.store_metrics(oct, &[("t", &new)]).unwrap();
        assert_eq!(
            strings(
                w.connection(),
                "SELECT strftime(period, '%Y-%m') || ' ' || cpi || ' ' || coalesce(CAST(spi AS VARCHAR), '∅') FROM metrics.t ORDER BY period"
            ),
            ["2026-09 0.9 ∅", "2026-10 0.8 1.1"]
        );
        let changed = frame(vec![
            period_column("2026-10-01"),
            Series::new("spi".into(), ["high"]).into_column(),
            figure("cpi", 0.8),
        ]);
        let err = w.store_metrics(oct, &[("t", &changed)]).unwrap_err();
        assert!(matches!(err, Error::MetricTableChanged { .. }), "{err}");
        assert!(err.to_string().starts_with("metrics.t: it stores `spi` as DOUBLE, but this version of itvalue writes it as VARCHAR."), "{err}");
        let dropped = frame(vec![period_column("2026-10-01"), figure("cpi", 0.8)]);
        let err = w.store_metrics(oct, &[("t", &dropped)]).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "metrics.t: it stores a column `spi` that this version of itvalue no longer writes."
            ),
            "{err}"
        );
        // Figures an earlier version stored as DOUBLE (rounded to cents there) become exact money.
        w.connection()
            .execute_batch("CREATE TABLE metrics.m (period DATE, earned_value DOUBLE); INSERT INTO metrics.m VALUES (DATE '2026-09-01', 1234.57)")
            .unwrap();
        let money = frame(vec![
            period_column("2026-10-01"),
            Series::new("earned_value".into(), ["12.30"])
                .cast(&polars::prelude::DataType::Decimal(18, 2))
                .unwrap()
                .into_column(),
        ]);
        w.store_metrics(oct, &[("m", &money)]).unwrap();
        assert_eq!(
            strings(
                w.connection(),
                "SELECT data_type || ' ' || string_agg(CAST(earned_value AS VARCHAR), ' ' ORDER BY period) FROM metrics.m, information_schema.columns WHERE table_name = 'm' AND column_name = 'earned_value' GROUP BY data_type"
            ),
            ["DECIMAL(18,2) 1234.57 12.30"]
        );
        // Both refusals left the table as it was.
        assert_eq!(
            strings(w.connection(), "SELECT count(*)::VARCHAR FROM metrics.t"),
            ["2"]
        );
    }

    #[test]
    fn to_utc_measures_durations_across_berlins_clock_changes() {
        let dir = tempfile::tempdir().unwrap();
        let w = Warehouse::open(&dir.path().join("w.duckdb")).unwrap();
        w.define_to_utc("Europe/Berlin", (2026, 2026)).unwrap();
        let minutes = |from: &str, to: &str| {
            strings(
                w.connection(),
                &format!(
                    "SELECT CAST(date_diff('minute', to_utc(TIMESTAMP '{from}'), to_utc(TIMESTAMP '{to}')) AS VARCHAR)"
                ),
            )[0]
                .clone()
        };
        assert_eq!(minutes("2026-03-29 01:30:00", "2026-03-29 03:30:00"), "60");
        assert_eq!(minutes("2026-10-25 01:30:00", "2026-10-25 03:30:00"), "180");
        assert_eq!(minutes("2026-07-01 10:00:00", "2026-07-01 12:00:00"), "120");
        assert_eq!(
            strings(
                w.connection(),
                "SELECT CAST(to_utc(TIMESTAMP '2026-07-01 12:00:00') AS VARCHAR) || ' ' || CAST(to_utc(TIMESTAMP '2026-01-15 12:00:00') AS VARCHAR)"
            ),
            ["2026-07-01 10:00:00 2026-01-15 11:00:00"]
        );
        w.define_to_utc("UTC", (2026, 2026)).unwrap();
        assert_eq!(minutes("2026-03-29 01:30:00", "2026-03-29 03:30:00"), "120");
    }
}
