//! What each run reported, and what a later run of the same period restated.
//!
//! In: the period's rows of the `metrics.*` tables a run has just stored, and the shape of each
//! table (which columns identify a row, which are figures). Out: `reported.<table>`, one copy of
//! the period's rows per run that computed them (a leading `run_id` column), so that the figures
//! of any earlier run stay readable after a rerun replaced them in `metrics.*`; and the
//! differences between two runs' copies, figure by figure ([`Restatement`]), which never need the
//! old inputs.

use std::collections::BTreeSet;

use duckdb::params;
use serde::Serialize;

use super::{Warehouse, existing_columns, quote};
use crate::error::{Error, Result};
use crate::schedule::Period;

/// The schema of the reported copies.
pub(super) const SCHEMA_SQL: &str = "CREATE SCHEMA IF NOT EXISTS reported;";

/// What identifies a row of a metric table, and which of its columns are figures.
#[derive(Debug, Clone)]
pub struct TableShape {
    pub table: String,
    /// The columns that identify a row within a period, each with whether it is a month (shown
    /// `YYYY-MM` in keys).
    pub identity: Vec<(String, bool)>,
    /// Every other column, in the table's order: what a restatement compares.
    pub figures: Vec<String>,
}

/// How a figure or row differs between two runs of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// The figure has another value.
    Changed,
    /// The later run reports a row the earlier did not.
    Added,
    /// The earlier run reported a row the later does not.
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// One difference between what two runs reported for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restatement {
    /// The metric table (`investment_finance`).
    pub table: String,
    /// The row's identity (`INV-0007`, or `INV-0007, 2026-09`).
    pub key: String,
    pub change: Change,
    /// The figure's column; empty for a row added or removed.
    pub figure: String,
    /// As text; `None` when empty (or, for a row, absent).
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A run that reported a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedRun {
    pub run_id: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub started_at: String,
    pub status: String,
}

impl Warehouse {
    /// Copies the period's rows of each `metrics.<table>` into `reported.<table>` under `run_id`.
    /// A table's copy gains the columns its metric table gained; earlier runs' rows stay, empty
    /// in them.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming the table.
    pub fn keep_reported(&mut self, run_id: &str, period: Period, tables: &[&str]) -> Result<()> {
        let path = self.path().to_path_buf();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::warehouse(&path, "beginning to keep the reported figures", e))?;
        for table in tables {
            let fail = |e| Error::warehouse(&path, format!("keeping reported.{table}"), e);
            let name = quote(table);
            tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS reported.{name} AS
                     SELECT CAST(NULL AS VARCHAR) AS run_id, * FROM metrics.{name} LIMIT 0;"
            ))
            .map_err(fail)?;
            let have = existing_columns(&tx, "reported", table).map_err(fail)?;
            for (column, kind) in existing_columns(&tx, "metrics", table).map_err(fail)? {
                if !have.iter().any(|(c, _)| *c == column) {
                    tx.execute_batch(&format!(
                        "ALTER TABLE reported.{name} ADD COLUMN {} {kind};",
                        quote(&column)
                    ))
                    .map_err(fail)?;
                }
            }
            tx.execute(
                &format!(
                    "INSERT INTO reported.{name} BY NAME
                     SELECT ? AS run_id, * FROM metrics.{name} WHERE period = ?::DATE"
                ),
                params![run_id, period.first_day().to_string()],
            )
            .map_err(fail)?;
        }
        tx.commit()
            .map_err(|e| Error::warehouse(&path, "committing the reported figures", e))
    }

    /// The runs whose figures of `period` are kept, oldest first: each run of the monthly job
    /// that published (succeeded or partial), and `also` (a run under way) when it has kept them.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the ledger cannot be read.
    pub fn reported_runs(&self, period: Period, also: Option<&str>) -> Result<Vec<ReportedRun>> {
        let fail = |e| Error::warehouse(self.path(), "reading the runs of the period", e);
        let kept = self.reported_run_ids(period)?;
        let mut statement = self
            .connection()
            .prepare(
                "SELECT run_id, strftime(started_at, '%Y-%m-%d %H:%M:%S'), status FROM ledger.runs
                 WHERE period = ?::DATE AND (status IN ('succeeded', 'partial') OR run_id = ?)
                 ORDER BY started_at, run_id",
            )
            .map_err(fail)?;
        let runs = statement
            .query_map(params![period.first_day().to_string(), also], |r| {
                Ok(ReportedRun {
                    run_id: r.get(0)?,
                    started_at: r.get(1)?,
                    status: r.get(2)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<ReportedRun>>>()
            .map_err(fail)?;
        Ok(runs
            .into_iter()
            .filter(|r| kept.contains(&r.run_id))
            .collect())
    }

    /// The runs with rows of `period` in any `reported.*` table.
    fn reported_run_ids(&self, period: Period) -> Result<BTreeSet<String>> {
        let fail = |e| Error::warehouse(self.path(), "reading the reported figures", e);
        let tables = self.reported_tables()?;
        let mut ids = BTreeSet::new();
        for table in tables {
            let mut statement = self
                .connection()
                .prepare(&format!(
                    "SELECT DISTINCT run_id FROM reported.{} WHERE period = ?::DATE",
                    quote(&table)
                ))
                .map_err(fail)?;
            let rows = statement
                .query_map([period.first_day().to_string()], |r| r.get::<_, String>(0))
                .map_err(fail)?;
            for row in rows {
                ids.insert(row.map_err(fail)?);
            }
        }
        Ok(ids)
    }

    fn reported_tables(&self) -> Result<Vec<String>> {
        let fail = |e| Error::warehouse(self.path(), "listing the reported figures", e);
        let mut statement = self
            .connection()
            .prepare(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'reported' ORDER BY 1",
            )
            .map_err(fail)?;
        statement
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<String>>>()
            .map_err(fail)
    }

    /// What `after` reported for `period` differently from `before`, table by table in the order
    /// of `shapes`, then by key and figure. Tables that either run did not report are left out.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] naming the table.
    pub fn restatements(
        &self,
        period: Period,
        before: &str,
        after: &str,
        shapes: &[TableShape],
    ) -> Result<Vec<Restatement>> {
        let tables = self.reported_tables()?;
        let mut out = Vec::new();
        for shape in shapes.iter().filter(|s| tables.contains(&s.table)) {
            out.extend(self.table_restatements(period, before, after, shape)?);
        }
        Ok(out)
    }

    fn table_restatements(
        &self,
        period: Period,
        before: &str,
        after: &str,
        shape: &TableShape,
    ) -> Result<Vec<Restatement>> {
        let fail = |e| {
            Error::warehouse(
                self.path(),
                format!("comparing reported.{} of two runs", shape.table),
                e,
            )
        };
        let stored = existing_columns(self.connection(), "reported", &shape.table).map_err(fail)?;
        let has = |c: &str| stored.iter().any(|(s, _)| s == c);
        let key_parts: Vec<String> = shape
            .identity
            .iter()
            .filter(|(c, _)| has(c))
            .map(|(c, month)| {
                if *month {
                    format!("coalesce(strftime({}, '%Y-%m'), '')", quote(c))
                } else {
                    format!("coalesce(CAST({} AS VARCHAR), '')", quote(c))
                }
            })
            .collect();
        let key = if key_parts.is_empty() {
            "''".to_string()
        } else {
            format!("concat_ws(', ', {})", key_parts.join(", "))
        };
        let table = quote(&shape.table);
        let side = |run: &str| {
            format!(
                "SELECT {key} AS _key, * FROM reported.{table} WHERE run_id = '{}' AND period = DATE '{}'",
                run.replace('\'', "''"),
                period.first_day()
            )
        };
        let mut branches = vec![
            "SELECT 'removed', a._key, '', -1, NULL, NULL FROM a WHERE a._key NOT IN (SELECT _key FROM b)".to_string(),
            "SELECT 'added', b._key, '', -1, NULL, NULL FROM b WHERE b._key NOT IN (SELECT _key FROM a)".to_string(),
        ];
        for (i, figure) in shape.figures.iter().filter(|f| has(f)).enumerate() {
            let f = quote(figure);
            branches.push(format!(
                "SELECT 'changed', a._key, '{}', {i}, CAST(a.{f} AS VARCHAR), CAST(b.{f} AS VARCHAR)
                 FROM a JOIN b ON a._key = b._key WHERE a.{f} IS DISTINCT FROM b.{f}",
                figure.replace('\'', "''")
            ));
        }
        let sql = format!(
            "WITH a AS ({}), b AS ({})
             SELECT * FROM ({}) AS d(change, key, figure, position, before, after)
             ORDER BY key, position",
            side(before),
            side(after),
            branches.join(" UNION ALL ")
        );
        let mut statement = self.connection().prepare(&sql).map_err(fail)?;
        statement
            .query_map([], |r| {
                let change: String = r.get(0)?;
                Ok(Restatement {
                    table: shape.table.clone(),
                    key: r.get(1)?,
                    change: match change.as_str() {
                        "added" => Change::Added,
                        "removed" => Change::Removed,
                        _ => Change::Changed,
                    },
                    figure: r.get(2)?,
                    before: r.get(4)?,
                    after: r.get(5)?,
                })
            })
            .map_err(fail)?
            .collect::<duckdb::Result<Vec<Restatement>>>()
            .map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restatements_name_the_row_the_figure_and_both_values_and_rows_added_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Warehouse::open(&dir.path().join("w.duckdb")).unwrap();
        let sep: Period = "2026-09".parse().unwrap();
        w.execute_batch(
            "test",
            "CREATE TABLE metrics.flows (period DATE, investment_id VARCHAR, month DATE, costs DECIMAL(18,2), basis VARCHAR);
             INSERT INTO metrics.flows VALUES
               (DATE '2026-09-01', 'INV-1', DATE '2026-08-01', 100.00, 'actual'),
               (DATE '2026-09-01', 'INV-1', DATE '2026-09-01', 50.00, 'actual'),
               (DATE '2026-09-01', 'INV-2', DATE '2026-09-01', NULL, 'actual');",
        )
        .unwrap();
        w.keep_reported("run-a", sep, &["flows"]).unwrap();
        // A late line raises INV-1's September costs, INV-2's gets a value, INV-3 appears and
        // INV-1's August goes.
        w.execute_batch(
            "test",
            "DELETE FROM metrics.flows;
             INSERT INTO metrics.flows VALUES
               (DATE '2026-09-01', 'INV-1', DATE '2026-09-01', 75.50, 'actual'),
               (DATE '2026-09-01', 'INV-2', DATE '2026-09-01', 10.00, 'actual'),
               (DATE '2026-09-01', 'INV-3', DATE '2026-09-01', 1.00, 'plan');",
        )
        .unwrap();
        w.keep_reported("run-b", sep, &["flows"]).unwrap();
        let shape = TableShape {
            table: "flows".into(),
            identity: vec![("investment_id".into(), false), ("month".into(), true)],
            figures: vec!["costs".into(), "basis".into()],
        };
        let text: Vec<String> = w
            .restatements(sep, "run-a", "run-b", &[shape])
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} | {} | {} | {} | {} -> {}",
                    r.table,
                    r.key,
                    r.change.as_str(),
                    r.figure,
                    r.before.as_deref().unwrap_or("∅"),
                    r.after.as_deref().unwrap_or("∅")
                )
            })
            .collect();
        assert_eq!(
            text,
            [
                "flows | INV-1, 2026-08 | removed |  | ∅ -> ∅",
                "flows | INV-1, 2026-09 | changed | costs | 50.00 -> 75.50",
                "flows | INV-2, 2026-09 | changed | costs | ∅ -> 10.00",
                "flows | INV-3, 2026-09 | added |  | ∅ -> ∅",
            ]
        );
        // The copies keep both runs, and the ledger-free list of runs finds none published.
        assert_eq!(
            w.reported_run_ids(sep)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            ["run-a", "run-b"]
        );
    }
}
