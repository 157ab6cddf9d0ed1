//! What the warehouse keeps of the input files the last load typed, so that a rerun reuses an
//! unchanged file instead of reading it again.
//!
//! In: the [`TypedInput`]s of a load (the files it read and typed). Out: the `reuse` schema:
//! `reuse.inputs` (one row per kept file: source, path, SHA-256, source fingerprint, the run that
//! read it, its counts and layout), `reuse.rejects` (its typing rejects) and `reuse.<entity>` (its
//! typed rows, before the checks across files). The schema always holds exactly the files of the
//! last committed load: the load replaces it in its own transaction, so it commits or rolls back
//! with the raw tables it describes.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use duckdb::{Connection, params};

use super::{Warehouse, quote};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::ingest::reuse::{KeptInput, KeptLayout, KeptRows, TypedInput, repeated_text};
use crate::ingest::{Ingested, Quality, Reject};

/// The `reuse` schema's fixed tables.
pub(super) const SCHEMA_SQL: &str = "CREATE SCHEMA IF NOT EXISTS reuse;
     CREATE TABLE IF NOT EXISTS reuse.inputs (
         source VARCHAR NOT NULL,
         entity VARCHAR NOT NULL,
         path VARCHAR NOT NULL,
         sha256 VARCHAR NOT NULL,
         fingerprint VARCHAR NOT NULL,
         run_id VARCHAR NOT NULL,
         bytes BIGINT NOT NULL,
         rows_read BIGINT NOT NULL,
         rows_superseded BIGINT NOT NULL,
         rows_rejected BIGINT NOT NULL,
         file_name VARCHAR NOT NULL,
         addressing VARCHAR NOT NULL,
         columns VARCHAR NOT NULL,
         required_expected BIGINT NOT NULL,
         required_present BIGINT NOT NULL,
         values_present BIGINT NOT NULL,
         values_valid BIGINT NOT NULL
     );
     CREATE TABLE IF NOT EXISTS reuse.rejects (
         source VARCHAR NOT NULL,
         path VARCHAR NOT NULL,
         ordinal BIGINT NOT NULL,
         location VARCHAR NOT NULL,
         row_key VARCHAR NOT NULL,
         column_name VARCHAR NOT NULL,
         value VARCHAR NOT NULL,
         rule VARCHAR NOT NULL
     );";

impl Warehouse {
    /// Every file the last load kept, by source and path.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when `reuse.inputs` cannot be read.
    pub fn kept_inputs(&self) -> Result<HashMap<(String, PathBuf), KeptInput>> {
        let fail = |e| Error::warehouse(self.path(), "reading the kept inputs", e);
        let mut statement = self
            .connection()
            .prepare(
                "SELECT source, entity, path, sha256, fingerprint, run_id, bytes, rows_read,
                        rows_superseded, rows_rejected, file_name, addressing, columns,
                        required_expected, required_present, values_present, values_valid
                 FROM reuse.inputs",
            )
            .map_err(fail)?;
        let rows = statement
            .query_map([], |r| {
                let entity: String = r.get(1)?;
                let count = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                Ok((
                    entity,
                    KeptInput {
                        source: r.get(0)?,
                        entity: Entity::Costs,
                        path: PathBuf::from(r.get::<_, String>(2)?),
                        sha256: r.get(3)?,
                        fingerprint: r.get(4)?,
                        run_id: r.get(5)?,
                        bytes: count(6)?,
                        rows_read: count(7)?,
                        rows_superseded: count(8)?,
                        rows_rejected: count(9)?,
                        layout: KeptLayout {
                            file_name: r.get(10)?,
                            addressing: r.get(11)?,
                            columns: KeptLayout::parse_columns(&r.get::<_, String>(12)?),
                        },
                        quality: Quality {
                            required_expected: count(13)?,
                            required_present: count(14)?,
                            values_present: count(15)?,
                            values_valid: count(16)?,
                            references: 0,
                            references_resolved: 0,
                        },
                    },
                ))
            })
            .map_err(fail)?;
        let mut kept = HashMap::new();
        let mut usable: HashMap<Entity, bool> = HashMap::new();
        for row in rows {
            let (entity, mut input) = row.map_err(fail)?;
            // An entity this version does not know, or whose kept rows have other columns than
            // this version types, cannot be reused: its files are read again.
            let Some(entity) = Entity::ALL.into_iter().find(|e| e.name() == entity) else {
                continue;
            };
            let fits = match usable.get(&entity) {
                Some(fits) => *fits,
                None => {
                    let fits = table_fits(self.connection(), entity).map_err(fail)? == Some(true);
                    usable.insert(entity, fits);
                    fits
                }
            };
            if !fits {
                continue;
            }
            input.entity = entity;
            kept.insert((input.source.clone(), input.path.clone()), input);
        }
        Ok(kept)
    }

    /// The typed rows and typing rejects kept of one file, in typing order.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when they cannot be read.
    pub fn kept_rows(&self, input: &KeptInput) -> Result<KeptRows> {
        let fail = |e| {
            Error::warehouse(
                self.path(),
                format!("reading what was kept of {}", input.path.display()),
                e,
            )
        };
        let path = input.path.display().to_string();
        let columns: Vec<String> = input
            .entity
            .contract()
            .columns
            .iter()
            .map(|c| quote(c.name))
            .chain(["_row".to_string()])
            .collect();
        let mut statement = self
            .connection()
            .prepare(&format!(
                "SELECT {} FROM reuse.{} WHERE _source = ? AND _path = ? ORDER BY _row",
                columns.join(", "),
                input.entity.name()
            ))
            .map_err(fail)?;
        let rows: Vec<RecordBatch> = statement
            .query_arrow(params![input.source, path])
            .map_err(fail)?
            .collect();
        let mut statement = self
            .connection()
            .prepare(
                "SELECT location, row_key, column_name, value, rule FROM reuse.rejects
                 WHERE source = ? AND path = ? ORDER BY ordinal",
            )
            .map_err(fail)?;
        let rejects = statement
            .query_map(params![input.source, path], |r| {
                Ok(Reject {
                    source: input.source.clone(),
                    entity: input.entity,
                    location: r.get(0)?,
                    row_key: r.get(1)?,
                    column: r.get(2)?,
                    value: r.get(3)?,
                    rule: r.get(4)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<Reject>>>()
            .map_err(fail)?;
        Ok(KeptRows { rows, rejects })
    }
}

/// A file this load read (new, or changed since it was kept) with new or changed rows, and the
/// earliest day those rows are dated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedInput {
    pub source: String,
    pub path: PathBuf,
    pub earliest: chrono::NaiveDate,
}

impl Warehouse {
    /// For each file `ingested` read now, the earliest day of its rows that the kept version of
    /// the same file did not hold (all its rows for a new file): where late data lands. Call it
    /// before [`Warehouse::load`], which replaces what is kept.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the kept rows cannot be read.
    pub fn changed_inputs(&self, ingested: &Ingested) -> Result<Vec<ChangedInput>> {
        let kept = self.kept_inputs()?;
        let mut changed = Vec::new();
        for typed in &ingested.typed {
            let k = &typed.kept;
            let old = match kept.get(&(k.source.clone(), k.path.clone())) {
                Some(before) => self.kept_rows(before)?.rows,
                None => Vec::new(),
            };
            let earliest = crate::ingest::reuse::earliest_new(k.entity, &typed.rows, &old)
                .map_err(|e| {
                    Error::warehouse(self.path(), "comparing a file with its kept rows", e)
                })?;
            if let Some(earliest) = earliest {
                changed.push(ChangedInput {
                    source: k.source.clone(),
                    path: k.path.clone(),
                    earliest,
                });
            }
        }
        Ok(changed)
    }
}

/// Makes `reuse` hold what this load typed: the files it read now replace what was kept of the
/// same source and path, and files no source of this load reads any more are dropped. Files it
/// reused stay as they are. Called inside the load's transaction. Takes `ingested.typed`: each
/// file's rows go as soon as they are kept.
pub(super) fn keep(conn: &Connection, run_id: &str, ingested: &mut Ingested) -> duckdb::Result<()> {
    let current: BTreeSet<(String, String)> = ingested
        .inputs
        .iter()
        .map(|i| (i.source.clone(), i.path.display().to_string()))
        .collect();
    let read_now: BTreeSet<(String, String)> = ingested
        .typed
        .iter()
        .map(|t| (t.kept.source.clone(), t.kept.path.display().to_string()))
        .collect();
    // What to drop: kept files that were read again now, or that no longer feed the load.
    let stored: Vec<(String, String, String)> = {
        let mut statement = conn.prepare("SELECT source, path, entity FROM reuse.inputs")?;
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<duckdb::Result<_>>()?
    };
    for (source, path, entity) in stored {
        let key = (source.clone(), path.clone());
        if current.contains(&key) && !read_now.contains(&key) {
            continue;
        }
        conn.execute(
            "DELETE FROM reuse.inputs WHERE source = ? AND path = ?",
            params![source, path],
        )?;
        conn.execute(
            "DELETE FROM reuse.rejects WHERE source = ? AND path = ?",
            params![source, path],
        )?;
        if Entity::ALL.iter().any(|e| e.name() == entity) && table_exists(conn, &entity)? {
            conn.execute(
                &format!("DELETE FROM reuse.{entity} WHERE _source = ? AND _path = ?"),
                params![source, path],
            )?;
        }
    }
    // An earlier version's table of an entity with other columns goes, with what it kept (no
    // file of that entity was reused in this load, since its rows could not be read back).
    let entities: BTreeSet<Entity> = ingested.typed.iter().map(|t| t.kept.entity).collect();
    for entity in entities {
        if table_fits(conn, entity)? == Some(false) {
            conn.execute_batch(&format!("DROP TABLE reuse.{};", entity.name()))?;
            conn.execute(
                "DELETE FROM reuse.rejects WHERE (source, path) IN (SELECT source, path FROM reuse.inputs WHERE entity = ?)",
                [entity.name()],
            )?;
            conn.execute("DELETE FROM reuse.inputs WHERE entity = ?", [entity.name()])?;
        }
    }
    for typed in std::mem::take(&mut ingested.typed) {
        keep_one(conn, run_id, &typed)?;
    }
    Ok(())
}

fn table_exists(conn: &Connection, entity: &str) -> duckdb::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'reuse' AND table_name = ?",
        [entity],
        |r| r.get(0),
    )
}

/// The columns of `reuse.<entity>` as this version keeps them: the contract's, then `_row`,
/// `_source` and `_path`, with their types.
fn kept_columns(entity: Entity) -> Vec<(String, String)> {
    entity
        .contract()
        .columns
        .iter()
        .map(|c| (c.name.to_string(), c.kind.sql_type().to_string()))
        .chain([
            ("_row".to_string(), "BIGINT".to_string()),
            ("_source".to_string(), "VARCHAR".to_string()),
            ("_path".to_string(), "VARCHAR".to_string()),
        ])
        .collect()
}

/// Whether `reuse.<entity>` has the columns this version keeps; `None` when it does not exist.
fn table_fits(conn: &Connection, entity: Entity) -> duckdb::Result<Option<bool>> {
    let stored = super::existing_columns(conn, "reuse", entity.name())?;
    if stored.is_empty() {
        return Ok(None);
    }
    Ok(Some(stored == kept_columns(entity)))
}

/// Keeps one typed file: its record, its rejects and its rows.
fn keep_one(conn: &Connection, run_id: &str, typed: &TypedInput) -> duckdb::Result<()> {
    let k = &typed.kept;
    let path = k.path.display().to_string();
    conn.execute(
        "INSERT INTO reuse.inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            k.source,
            k.entity.name(),
            path,
            k.sha256,
            k.fingerprint,
            run_id,
            k.bytes as i64,
            k.rows_read as i64,
            k.rows_superseded as i64,
            k.rows_rejected as i64,
            k.layout.file_name,
            k.layout.addressing,
            k.layout.columns_text(),
            k.quality.required_expected as i64,
            k.quality.required_present as i64,
            k.quality.values_present as i64,
            k.quality.values_valid as i64
        ],
    )?;
    let mut rejects = conn.appender_to_db("rejects", "reuse")?;
    for (ordinal, r) in typed.rejects.iter().enumerate() {
        rejects.append_row(params![
            k.source,
            path,
            ordinal as i64,
            r.location,
            r.row_key,
            r.column,
            r.value,
            r.rule
        ])?;
    }
    rejects.flush()?;
    drop(rejects);
    let entity = k.entity;
    let columns: Vec<String> = entity
        .contract()
        .columns
        .iter()
        .map(|c| format!("{} {}", quote(c.name), c.kind.sql_type()))
        .chain(["_row BIGINT", "_source VARCHAR", "_path VARCHAR"].map(String::from))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS reuse.{} ({});",
        entity.name(),
        columns.join(", ")
    ))?;
    let rows = typed.rows.num_rows();
    if rows == 0 {
        return Ok(());
    }
    let schema = typed.rows.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("_source", DataType::Utf8, false));
    fields.push(Field::new("_path", DataType::Utf8, false));
    let mut arrays = typed.rows.columns().to_vec();
    arrays.push(repeated_text(&k.source, rows));
    arrays.push(repeated_text(&path, rows));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))?;
    let mut appender = conn.appender_to_db(entity.name(), "reuse")?;
    appender.append_record_batch(batch)?;
    appender.flush()
}
