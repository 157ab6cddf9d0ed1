//! The warehouse: one DuckDB file holding the raw entities, the run ledger and the metric tables.
//!
//! In: ingested Arrow batches, metric DataFrames, ledger records. Out: tables in the file
//! (`raw.<entity>`, `ledger.*`, `metrics.*`), and query results as Polars DataFrames through the
//! Arrow bridge. Loads are columnar (the Arrow appender) and all-or-nothing (one transaction).

mod bridge;
pub mod ledger;

use std::path::{Path, PathBuf};

use duckdb::Connection;
use polars::prelude::DataFrame;

use crate::error::{Error, Result};
use crate::ingest::contract::Entity;
use crate::ingest::{Ingested, Prior};
use crate::schedule::Period;

pub use bridge::BridgeError;

/// A database source that extracts incrementally, as [`Warehouse::prior`] looks it up.
#[derive(Debug, Clone)]
pub struct IncrementalSource {
    pub name: String,
    pub entity: Entity,
    /// [`crate::config::DatabaseSource::fingerprint`].
    pub fingerprint: String,
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
        let conn = Connection::open(path).map_err(|e| Error::warehouse(path, "cannot open", e))?;
        let warehouse = Warehouse {
            conn,
            path: path.to_path_buf(),
        };
        warehouse.execute_batch("creating schemas and ledger tables", &ledger::schema_sql())?;
        Ok(warehouse)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for stages that run SQL of their own (the models).
    pub fn connection(&self) -> &Connection {
        &self.conn
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
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming the entity being loaded; nothing is changed.
    pub fn load(&mut self, run_id: &str, ingested: &Ingested) -> Result<u64> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::warehouse(&path, "beginning the load", e))?;
        let mut rows = 0;
        for batch in &ingested.entities {
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
            if batch.batch.num_rows() > 0 {
                let mut appender = tx.appender_to_db(entity.name(), "raw").map_err(fail)?;
                appender
                    .append_record_batch(batch.batch.clone())
                    .map_err(fail)?;
                appender.flush().map_err(fail)?;
            }
            if !incremental.is_empty() {
                restore_earlier_rows(&tx, entity).map_err(fail)?;
            }
            rows += batch.batch.num_rows() as u64;
        }
        ledger::record_ingest(&tx, run_id, ingested)
            .map_err(|e| Error::warehouse(&path, "recording inputs and rejects", e))?;
        ledger::record_extractions(&tx, run_id, ingested)
            .map_err(|e| Error::warehouse(&path, "recording watermarks", e))?;
        tx.commit()
            .map_err(|e| Error::warehouse(&path, "committing the load", e))?;
        Ok(rows)
    }

    /// What incremental database sources loaded before: each one's watermark and, for the
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
                    "SELECT entity, fingerprint, watermark FROM ledger.extractions \
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

    /// Records the inputs, scores and rejects of a run that loads nothing (a reject threshold
    /// stopped it), in one transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be written.
    pub fn record_without_load(&mut self, run_id: &str, ingested: &Ingested) -> Result<()> {
        let path = self.path.clone();
        let fail = |e| Error::warehouse(&path, "recording inputs and rejects", e);
        let tx = self.conn.transaction().map_err(fail)?;
        ledger::record_ingest(&tx, run_id, ingested).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Runs a query and returns the result as a Polars DataFrame.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] with the query's error.
    pub fn frame(&self, context: &str, sql: &str) -> Result<DataFrame> {
        bridge::query_frame(&self.conn, sql).map_err(|e| Error::warehouse(&self.path, context, e))
    }

    /// Replaces the rows of `period` in `metrics.<table>` with `frame`, in one transaction. The
    /// frame must have a `period` column of dates. The table is created from the frame's schema
    /// when missing, and recreated when its columns differ (metric tables are derived, and each
    /// period can be recomputed by rerunning it).
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming the table; the table is left as it was.
    pub fn replace_period(&mut self, table: &str, period: Period, frame: &DataFrame) -> Result<()> {
        let path = self.path.clone();
        let context = format!("writing metrics.{table}");
        let columns = ddl_columns(frame).map_err(|m| Error::warehouse(&path, &context, m))?;
        let existing = existing_columns(&self.conn, "metrics", table)
            .map_err(|e| Error::warehouse(&path, &context, e))?;
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::warehouse(&path, &context, e))?;
        let wanted: Vec<String> = columns.iter().map(|(n, t)| format!("{n} {t}")).collect();
        if existing != wanted {
            if !existing.is_empty() {
                tracing::warn!(table, "metric table columns changed; recreating it");
            }
            let ddl = format!(
                "CREATE OR REPLACE TABLE metrics.{} ({})",
                quote(table),
                columns
                    .iter()
                    .map(|(n, t)| format!("{} {t}", quote(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            tx.execute_batch(&ddl)
                .map_err(|e| Error::warehouse(&path, &context, e))?;
        }
        tx.execute(
            &format!(
                "DELETE FROM metrics.{} WHERE period = ?::DATE",
                quote(table)
            ),
            [period.first_day().to_string()],
        )
        .map_err(|e| Error::warehouse(&path, &context, e))?;
        bridge::append_frame(&tx, "metrics", table, frame)
            .map_err(|e| Error::warehouse(&path, &context, e))?;
        tx.commit()
            .map_err(|e| Error::warehouse(&path, &context, e))
    }
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
    let list: Vec<String> = sources
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
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
        .map(|k| format!("n.{k} = e.{k}", k = quote(k)))
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

fn existing_columns(conn: &Connection, schema: &str, table: &str) -> duckdb::Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT column_name || ' ' || data_type FROM information_schema.columns \
         WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
    )?;
    let rows = statement.query_map([schema, table], |r| r.get::<_, String>(0))?;
    rows.collect()
}

/// Quotes an identifier for DuckDB.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
