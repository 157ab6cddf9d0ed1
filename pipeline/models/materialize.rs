//! Building one model: as a table, a view, or incrementally by period, always under a temporary
//! name first and swapped in inside a transaction, so a failing model leaves what was there.
//!
//! In: the connection and a model. Out: the model's table or view in `main`, and a
//! [`ModelResult`] with its status, rows and time.

use std::path::PathBuf;
use std::time::Instant;

use duckdb::Connection;
use serde::Serialize;

use super::data_tests::strip_semicolons;
use super::{Materialization, Model};
use crate::warehouse::quote;

/// How a model's build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    Success,
    Error,
    /// Not built because a model upstream failed or failed an error-severity test.
    Skipped,
}

impl ModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Success => "success",
            ModelStatus::Error => "error",
            ModelStatus::Skipped => "skipped",
        }
    }
}

/// How one model's build went.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub name: String,
    pub path: PathBuf,
    pub materialized: Materialization,
    pub status: ModelStatus,
    /// Rows in the model after the build; for an incremental model that only replaced a period,
    /// the rows of that period (a first build or full refresh counts them all).
    pub rows: Option<u64>,
    pub milliseconds: u64,
    /// The error, or why it was skipped.
    pub message: String,
    /// Skipped because no source feeds what it reads, and left empty (not a failure).
    pub without_data: bool,
}

impl ModelResult {
    pub(super) fn skipped(model: &Model, reason: String) -> ModelResult {
        ModelResult {
            name: model.name.clone(),
            path: model.path.clone(),
            materialized: model.materialization.clone(),
            status: ModelStatus::Skipped,
            rows: None,
            milliseconds: 0,
            message: reason,
            without_data: false,
        }
    }
}

/// The name a model is built under before it is swapped in.
fn building_name(model: &str) -> String {
    format!("__itvalue_building__{model}")
}

/// Builds `model`. Incremental models need the `period` variable set to the first day of the
/// run's month.
pub fn build(conn: &Connection, model: &Model, full_refresh: bool) -> ModelResult {
    let started = Instant::now();
    let outcome = match &model.materialization {
        Materialization::Table => build_table(conn, model),
        Materialization::View => build_view(conn, model),
        Materialization::Incremental { period_column } => existing_kind(conn, &model.name)
            .and_then(|kind| {
                if full_refresh || kind.as_deref() != Some("BASE TABLE") {
                    build_table(conn, model)
                } else {
                    build_increment(conn, model, period_column)
                }
            }),
    };
    let (status, rows, message) = match outcome {
        Ok(rows) => (ModelStatus::Success, Some(rows), String::new()),
        Err(e) => {
            // Whatever was half-built under the temporary name goes; the model itself is intact.
            let _ = drop_existing(conn, &building_name(&model.name));
            (ModelStatus::Error, None, e.to_string())
        }
    };
    ModelResult {
        name: model.name.clone(),
        path: model.path.clone(),
        materialized: model.materialization.clone(),
        status,
        rows,
        milliseconds: started.elapsed().as_millis() as u64,
        message,
        without_data: false,
    }
}

/// Leaves `model` empty because nothing feeds it (`reason` says what is missing): a table model
/// becomes an empty table with the model's columns, a view stays a view (empty, as what it reads
/// is empty), and an incremental model keeps the periods it holds. Reported as skipped, with the
/// rows it holds afterwards for a table or view, so models that read it still build.
pub fn build_empty(conn: &Connection, model: &Model, reason: &str) -> ModelResult {
    let started = Instant::now();
    let outcome = match &model.materialization {
        Materialization::View => build_view(conn, model),
        Materialization::Incremental { .. } => {
            existing_kind(conn, &model.name).and_then(|kind| match kind.as_deref() {
                Some("BASE TABLE") => Ok(0),
                _ => build_and_swap(conn, &nothing_of(model), "TABLE"),
            })
        }
        Materialization::Table => build_and_swap(conn, &nothing_of(model), "TABLE"),
    };
    let (status, rows, message, without_data) = match outcome {
        Ok(rows) => (
            ModelStatus::Skipped,
            Some(rows),
            format!("{reason}; left empty so the models that read it still build"),
            true,
        ),
        Err(e) => {
            let _ = drop_existing(conn, &building_name(&model.name));
            (ModelStatus::Error, None, e.to_string(), false)
        }
    };
    ModelResult {
        name: model.name.clone(),
        path: model.path.clone(),
        materialized: model.materialization.clone(),
        status,
        rows,
        milliseconds: started.elapsed().as_millis() as u64,
        message,
        without_data,
    }
}

/// The model with its query wrapped so that it yields its columns and no rows.
fn nothing_of(model: &Model) -> Model {
    let mut empty = model.clone();
    empty.sql = format!(
        "SELECT * FROM ({}\n) AS model WHERE false",
        strip_semicolons(&model.sql)
    );
    empty
}

/// `BASE TABLE`, `VIEW`, or `None` when nothing in `main` has the name.
fn existing_kind(conn: &Connection, name: &str) -> duckdb::Result<Option<String>> {
    let mut statement = conn.prepare(
        "SELECT table_type FROM information_schema.tables \
         WHERE table_schema = 'main' AND table_name = ?",
    )?;
    let mut rows = statement.query([name])?;
    match rows.next()? {
        Some(row) => row.get(0).map(Some),
        None => Ok(None),
    }
}

/// Drops whatever holds `name` in `main`, table or view, so the new one can take its place.
fn drop_existing(conn: &Connection, name: &str) -> duckdb::Result<()> {
    let target = format!("main.{}", quote(name));
    match existing_kind(conn, name)?.as_deref() {
        Some("VIEW") => conn.execute_batch(&format!("DROP VIEW {target}")),
        Some(_) => conn.execute_batch(&format!("DROP TABLE {target}")),
        None => Ok(()),
    }
}

fn count(conn: &Connection, relation: &str) -> duckdb::Result<u64> {
    let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {relation}"), [], |r| {
        r.get(0)
    })?;
    Ok(rows as u64)
}

/// Runs `work` in a transaction, rolling back when it fails.
fn in_transaction(
    conn: &Connection,
    work: impl FnOnce() -> duckdb::Result<()>,
) -> duckdb::Result<()> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match work() {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Builds the model as a `TABLE` or a `VIEW` under its temporary name (a view is bound there, so
/// a broken one fails before anything is replaced), counts it, and swaps it in.
fn build_and_swap(conn: &Connection, model: &Model, object: &str) -> duckdb::Result<u64> {
    let temp = building_name(&model.name);
    conn.execute_batch(&format!(
        "CREATE OR REPLACE {object} main.{} AS {}\n;",
        quote(&temp),
        strip_semicolons(&model.sql)
    ))?;
    let rows = count(conn, &format!("main.{}", quote(&temp)))?;
    in_transaction(conn, || {
        drop_existing(conn, &model.name)?;
        conn.execute_batch(&format!(
            "ALTER {object} main.{} RENAME TO {}",
            quote(&temp),
            quote(&model.name)
        ))
    })?;
    Ok(rows)
}

fn build_table(conn: &Connection, model: &Model) -> duckdb::Result<u64> {
    build_and_swap(conn, model, "TABLE")
}

fn build_view(conn: &Connection, model: &Model) -> duckdb::Result<u64> {
    build_and_swap(conn, model, "VIEW")
}

/// Replaces the rows of the run's period (the `period` variable) and keeps the others. The new
/// rows must fit the existing columns; when the model's columns change, `--full-refresh`
/// rebuilds it.
fn build_increment(conn: &Connection, model: &Model, period_column: &str) -> duckdb::Result<u64> {
    let unset: bool = conn.query_row("SELECT getvariable('period') IS NULL", [], |r| r.get(0))?;
    if unset {
        return Err(duckdb::Error::InvalidParameterName(
            "the period variable is not set, so there is no period to replace".to_string(),
        ));
    }
    let temp = format!("main.{}", quote(&building_name(&model.name)));
    let in_period = format!(
        "date_trunc('month', {}) = getvariable('period')",
        quote(period_column)
    );
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE {temp} AS SELECT * FROM ({}\n) AS model WHERE {in_period};",
        strip_semicolons(&model.sql)
    ))?;
    let rows = count(conn, &temp)?;
    let target = format!("main.{}", quote(&model.name));
    in_transaction(conn, || {
        conn.execute_batch(&format!(
            "DELETE FROM {target} WHERE {in_period};
             INSERT INTO {target} BY NAME SELECT * FROM {temp};
             DROP TABLE {temp};"
        ))
    })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, materialization: Materialization, sql: &str) -> Model {
        Model {
            name: name.into(),
            path: format!("sql/{name}.sql").into(),
            sql: sql.into(),
            description: String::new(),
            materialization,
            depends_on: Vec::new(),
            reads: Vec::new(),
        }
    }

    fn objects(conn: &Connection) -> Vec<String> {
        conn.prepare(
            "SELECT table_name || ' ' || table_type FROM information_schema.tables ORDER BY 1",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<duckdb::Result<_>>()
        .unwrap()
    }

    #[test]
    fn a_view_that_fails_when_read_leaves_the_old_table_and_no_temporary_view() {
        let conn = Connection::open_in_memory().unwrap();
        let table = build(
            &conn,
            &model("m", Materialization::Table, "SELECT 1 AS n"),
            false,
        );
        assert_eq!((table.status, table.rows), (ModelStatus::Success, Some(1)));
        // It binds (so the view is created) but fails once rows are read.
        let broken = model(
            "m",
            Materialization::View,
            "SELECT n FROM range(3) t(n) WHERE CAST('x' || n AS INTEGER) > 0",
        );
        let result = build(&conn, &broken, false);
        assert_eq!(result.status, ModelStatus::Error, "{}", result.message);
        assert_eq!(objects(&conn), ["m BASE TABLE"]);
        // A table model replaces a view of the same name, and the other way round.
        let view = build(
            &conn,
            &model("m", Materialization::View, "SELECT 2 AS n"),
            false,
        );
        assert_eq!(view.status, ModelStatus::Success, "{}", view.message);
        assert_eq!(objects(&conn), ["m VIEW"]);
        let back = build(
            &conn,
            &model("m", Materialization::Table, "SELECT 3 AS n"),
            false,
        );
        assert_eq!(back.status, ModelStatus::Success, "{}", back.message);
        assert_eq!(objects(&conn), ["m BASE TABLE"]);
    }

    #[test]
    fn an_incremental_model_without_a_period_is_an_error_not_an_empty_success() {
        let conn = Connection::open_in_memory().unwrap();
        let incremental = Materialization::Incremental {
            period_column: "period".into(),
        };
        let m = model(
            "m",
            incremental,
            "SELECT DATE '2026-10-01' AS period, 1 AS n",
        );
        assert_eq!(build(&conn, &m, false).status, ModelStatus::Success);
        let again = build(&conn, &m, false);
        assert_eq!(again.status, ModelStatus::Error);
        assert_eq!(
            again.message,
            "Invalid parameter name: the period variable is not set, so there is no period to replace"
        );
    }
}
