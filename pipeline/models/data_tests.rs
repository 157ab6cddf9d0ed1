//! Data tests declared next to the models, in a `tests.toml` per folder.
//!
//! In: the `tests.toml` files and, when run, the warehouse connection. Out: [`DataTest`]s, and per
//! test a [`TestResult`] with the number of failing rows; failing rows are kept in
//! `test_failures.<test name>` for inspection.
//!
//! Each test is a query that returns the rows breaking it, so every kind (and a custom SQL
//! assertion) is counted, thresholded and stored the same way.

use std::path::{Path, PathBuf};
use std::time::Instant;

use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::warehouse::{quote, quote_text};

/// The schema that holds each failing test's rows.
pub const FAILURES_SCHEMA: &str = "test_failures";

/// What a test checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// No row has an empty value in any of the columns.
    NotNull { columns: Vec<String> },
    /// No two rows share the same values in the columns (taken together).
    Unique { columns: Vec<String> },
    /// Every non-empty value of the column is one of `values`.
    AcceptedValues { column: String, values: Vec<String> },
    /// Every non-empty value of the column exists in `to.field`.
    Relationships {
        column: String,
        to: String,
        field: String,
    },
    /// The row count lies within the bounds.
    RowCount { min: Option<u64>, max: Option<u64> },
    /// A query that returns the failing rows.
    Sql { query: String },
}

impl Check {
    fn kind(&self) -> &'static str {
        match self {
            Check::NotNull { .. } => "not_null",
            Check::Unique { .. } => "unique",
            Check::AcceptedValues { .. } => "accepted_values",
            Check::Relationships { .. } => "relationships",
            Check::RowCount { .. } => "row_count",
            Check::Sql { .. } => "sql",
        }
    }
}

/// Whether a failing test fails the run or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    #[default]
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// One declared test.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTest {
    /// Unique across the project; also the name of its failures table.
    pub name: String,
    pub model: String,
    pub check: Check,
    pub severity: Severity,
    /// The test passes while it finds at most this many failing rows.
    pub max_failures: u64,
    /// An optional SQL condition restricting the rows tested.
    pub filter: Option<String>,
    /// The `tests.toml` it comes from.
    pub file: PathBuf,
    /// Other models its query reads, which must have had their turn before it runs (filled in
    /// from the query's parse tree when the project loads).
    pub needs: Vec<String>,
}

impl DataTest {
    pub fn kind(&self) -> &'static str {
        self.check.kind()
    }

    /// The query returning the rows that break the test.
    pub fn failing_rows_sql(&self) -> String {
        let model = format!("main.{}", quote(&self.model));
        let filter = |extra: Option<String>| {
            let conditions: Vec<String> = extra
                .into_iter()
                .chain(self.filter.as_ref().map(|f| format!("({f})")))
                .collect();
            if conditions.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conditions.join(" AND "))
            }
        };
        match &self.check {
            Check::NotNull { columns } => {
                let any_null: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{} IS NULL", quote(c)))
                    .collect();
                format!(
                    "SELECT * FROM {model}{}",
                    filter(Some(format!("({})", any_null.join(" OR "))))
                )
            }
            Check::Unique { columns } => {
                let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                let list = list.join(", ");
                format!(
                    "SELECT {list}, count(*) AS occurrences FROM {model}{} GROUP BY {list} HAVING count(*) > 1",
                    filter(None)
                )
            }
            Check::AcceptedValues { column, values } => {
                let accepted: Vec<String> = values.iter().map(|v| quote_text(v)).collect();
                format!(
                    "SELECT * FROM {model}{}",
                    filter(Some(format!(
                        "{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({})",
                        accepted.join(", "),
                        c = quote(column)
                    )))
                )
            }
            Check::Relationships { column, to, field } => format!(
                "SELECT * FROM {model} AS child{}",
                filter(Some(format!(
                    "child.{c} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {to} AS parent WHERE parent.{f} = child.{c})",
                    c = quote(column),
                    to = qualified(to),
                    f = quote(field)
                )))
            ),
            Check::RowCount { min, max } => {
                let mut outside = Vec::new();
                if let Some(min) = min {
                    outside.push(format!("row_count < {min}"));
                }
                if let Some(max) = max {
                    outside.push(format!("row_count > {max}"));
                }
                format!(
                    "SELECT row_count FROM (SELECT count(*) AS row_count FROM {model}{}) WHERE {}",
                    filter(None),
                    outside.join(" OR ")
                )
            }
            Check::Sql { query } => strip_semicolons(query).to_string(),
        }
    }
}

/// `schema.table` quoted part by part; a bare name is a model in `main`.
fn qualified(name: &str) -> String {
    match name.split_once('.') {
        Some((schema, table)) => format!("{}.{}", quote(schema), quote(table)),
        None => format!("main.{}", quote(name)),
    }
}

pub(super) fn strip_semicolons(sql: &str) -> &str {
    let mut body = sql.trim_end();
    while let Some(stripped) = body.strip_suffix(';') {
        body = stripped.trim_end();
    }
    body
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    Pass,
    Warn,
    Fail,
    /// The test's model (or the model it refers to) was not built in this run.
    Skipped,
    /// The test's query itself failed (a typo in a column name, say); counts as a failure.
    Error,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Pass => "pass",
            TestStatus::Warn => "warn",
            TestStatus::Fail => "fail",
            TestStatus::Skipped => "skipped",
            TestStatus::Error => "error",
        }
    }
}

/// The outcome of one test.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub model: String,
    pub kind: &'static str,
    pub severity: Severity,
    pub status: TestStatus,
    /// Failing rows found; `None` when the test did not run.
    pub failures: Option<u64>,
    /// Where the failing rows are kept, when there are any.
    pub failures_table: Option<String>,
    pub milliseconds: u64,
    /// The error or the reason it was skipped.
    pub message: String,
}

impl TestResult {
    /// Whether this result stops the run: an error-severity test that failed or could not run.
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Error
            && matches!(self.status, TestStatus::Fail | TestStatus::Error)
    }

    pub(super) fn skipped(test: &DataTest, reason: String) -> TestResult {
        TestResult {
            name: test.name.clone(),
            model: test.model.clone(),
            kind: test.kind(),
            severity: test.severity,
            status: TestStatus::Skipped,
            failures: None,
            failures_table: None,
            milliseconds: 0,
            message: reason,
        }
    }
}

/// Runs `test`, keeping its failing rows in `test_failures.<name>` (and dropping that table when
/// the test passes or cannot run, so what is there belongs to the test's latest run).
pub fn run(conn: &Connection, test: &DataTest) -> TestResult {
    let started = Instant::now();
    let table = format!("{FAILURES_SCHEMA}.{}", quote(&test.name));
    let outcome = (|| -> duckdb::Result<u64> {
        let sql = test.failing_rows_sql();
        // Most tests pass: counting first spares them creating and dropping a table. The line
        // break ends a `--` comment that an analyst's SQL may close with.
        let failures: i64 =
            conn.query_row(&format!("SELECT count(*) FROM ({sql}\n)"), [], |r| r.get(0))?;
        if failures == 0 {
            conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
        } else {
            conn.execute_batch(&format!("CREATE OR REPLACE TABLE {table} AS {sql}"))?;
        }
        Ok(failures as u64)
    })();
    let milliseconds = started.elapsed().as_millis() as u64;
    let (status, failures, message) = match outcome {
        Ok(n) if n <= test.max_failures => (TestStatus::Pass, Some(n), String::new()),
        Ok(n) => {
            let status = match test.severity {
                Severity::Warn => TestStatus::Warn,
                Severity::Error => TestStatus::Fail,
            };
            let message = format!(
                "{n} failing rows, over the {} allowed; see {FAILURES_SCHEMA}.{}",
                test.max_failures, test.name
            );
            (status, Some(n), message)
        }
        Err(e) => {
            // Rows kept by an earlier run would pass for this run's.
            let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"));
            (TestStatus::Error, None, e.to_string())
        }
    };
    TestResult {
        name: test.name.clone(),
        model: test.model.clone(),
        kind: test.kind(),
        severity: test.severity,
        status,
        failures,
        failures_table: failures
            .filter(|n| *n > 0)
            .map(|_| format!("{FAILURES_SCHEMA}.{}", test.name)),
        milliseconds,
        message,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestsFile {
    #[serde(default, rename = "test")]
    tests: Vec<RawTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    model: String,
    #[serde(rename = "type")]
    kind: String,
    name: Option<String>,
    column: Option<String>,
    columns: Option<Vec<String>>,
    values: Option<Vec<toml::Value>>,
    to: Option<String>,
    field: Option<String>,
    min: Option<u64>,
    max: Option<u64>,
    query: Option<String>,
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    max_failures: u64,
    #[serde(rename = "where")]
    filter: Option<String>,
}

/// Reads the tests of one `tests.toml`.
///
/// # Errors
///
/// [`Error::Config`] naming the file and the test (by position and model) when a key is unknown,
/// missing for its type, or holds a bad value.
pub fn load(path: &Path) -> Result<Vec<DataTest>> {
    let fail = |message: String| Error::Config {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let file: TestsFile = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    file.tests
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let model = raw.model.clone();
            from_raw(raw, path).map_err(|m| fail(format!("test[{i}] (model {model}): {m}")))
        })
        .collect()
}

fn from_raw(raw: RawTest, file: &Path) -> std::result::Result<DataTest, String> {
    let one_column = |raw: &RawTest| -> std::result::Result<String, String> {
        match (&raw.column, &raw.columns) {
            (Some(c), None) => Ok(c.clone()),
            _ => Err(format!("a {} test takes one `column`", raw.kind)),
        }
    };
    let some_columns = |raw: &RawTest| -> std::result::Result<Vec<String>, String> {
        match (&raw.column, &raw.columns) {
            (Some(c), None) => Ok(vec![c.clone()]),
            (None, Some(cs)) if !cs.is_empty() => Ok(cs.clone()),
            _ => Err(format!(
                "a {} test takes `column` or a non-empty `columns`",
                raw.kind
            )),
        }
    };
    let check = match raw.kind.as_str() {
        "not_null" => Check::NotNull {
            columns: some_columns(&raw)?,
        },
        "unique" => Check::Unique {
            columns: some_columns(&raw)?,
        },
        "accepted_values" => Check::AcceptedValues {
            column: one_column(&raw)?,
            values: raw
                .values
                .as_ref()
                .filter(|v| !v.is_empty())
                .ok_or("an accepted_values test needs a non-empty `values` list")?
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    toml::Value::Boolean(b) => Ok(b.to_string()),
                    other => Err(format!(
                        "values: {other:?} is neither text, a whole number nor true/false"
                    )),
                })
                .collect::<std::result::Result<_, _>>()?,
        },
        "relationships" => Check::Relationships {
            column: one_column(&raw)?,
            to: raw
                .to
                .clone()
                .ok_or("a relationships test needs `to`, the model or table referred to")?,
            field: raw.field.clone().unwrap_or(one_column(&raw)?),
        },
        "row_count" => {
            if raw.min.is_none() && raw.max.is_none() {
                return Err("a row_count test needs `min`, `max` or both".into());
            }
            if let (Some(min), Some(max)) = (raw.min, raw.max)
                && min > max
            {
                return Err(format!("min = {min} is over max = {max}"));
            }
            Check::RowCount {
                min: raw.min,
                max: raw.max,
            }
        }
        "sql" => Check::Sql {
            query: raw
                .query
                .clone()
                .filter(|q| !q.trim().is_empty())
                .ok_or("a sql test needs `query`, a SELECT returning the failing rows")?,
        },
        other => {
            return Err(format!(
                "type = {other:?} is not one of not_null, unique, accepted_values, relationships, row_count, sql"
            ));
        }
    };
    let name = raw.name.clone().unwrap_or_else(|| {
        let columns = match &check {
            Check::NotNull { columns } | Check::Unique { columns } => columns.join("_"),
            Check::AcceptedValues { column, .. } | Check::Relationships { column, .. } => {
                column.clone()
            }
            Check::RowCount { .. } | Check::Sql { .. } => String::new(),
        };
        [check.kind(), raw.model.as_str(), columns.as_str()]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("__")
    });
    if let Check::Sql { .. } = check {
        if raw.name.is_none() {
            return Err("a sql test needs a `name`, which names its failures table".into());
        }
        if raw.filter.is_some() {
            return Err(
                "`where` does not apply to a sql test; put the condition in its query".into(),
            );
        }
    }
    Ok(DataTest {
        name: name.to_lowercase(),
        model: raw.model.to_lowercase(),
        check,
        severity: raw.severity,
        max_failures: raw.max_failures,
        filter: raw.filter,
        file: file.to_path_buf(),
        needs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> std::result::Result<Vec<DataTest>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tests.toml");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| {
            e.to_string()
                .replace(&path.display().to_string(), "tests.toml")
        })
    }

    #[test]
    fn each_kind_becomes_the_query_of_its_failing_rows() {
        let tests = parse(
            r#"
[[test]]
model = "stg_costs"
type = "not_null"
columns = ["investment_id", "period"]
where = "scenario = 'actual'"

[[test]]
model = "stg_costs"
type = "unique"
columns = ["line_id", "scenario"]
severity = "warn"
max_failures = 3

[[test]]
model = "stg_costs"
type = "accepted_values"
column = "scenario"
values = ["actual", "budget", "it's"]

[[test]]
model = "stg_costs"
type = "relationships"
column = "investment_id"
to = "stg_investments"

[[test]]
model = "stg_costs"
type = "row_count"
min = 1
"#,
        )
        .unwrap();
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "not_null__stg_costs__investment_id_period",
                "unique__stg_costs__line_id_scenario",
                "accepted_values__stg_costs__scenario",
                "relationships__stg_costs__investment_id",
                "row_count__stg_costs",
            ]
        );
        let sql: Vec<String> = tests.iter().map(DataTest::failing_rows_sql).collect();
        assert_eq!(
            sql[0],
            "SELECT * FROM main.\"stg_costs\" WHERE (\"investment_id\" IS NULL OR \"period\" IS NULL) AND (scenario = 'actual')"
        );
        assert_eq!(
            sql[1],
            "SELECT \"line_id\", \"scenario\", count(*) AS occurrences FROM main.\"stg_costs\" GROUP BY \"line_id\", \"scenario\" HAVING count(*) > 1"
        );
        assert_eq!(
            sql[2],
            "SELECT * FROM main.\"stg_costs\" WHERE \"scenario\" IS NOT NULL AND CAST(\"scenario\" AS VARCHAR) NOT IN ('actual', 'budget', 'it''s')"
        );
        assert_eq!(
            sql[3],
            "SELECT * FROM main.\"stg_costs\" AS child WHERE child.\"investment_id\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM main.\"stg_investments\" AS parent WHERE parent.\"investment_id\" = child.\"investment_id\")"
        );
        assert_eq!(
            sql[4],
            "SELECT row_count FROM (SELECT count(*) AS row_count FROM main.\"stg_costs\") WHERE row_count < 1"
        );
        assert_eq!(tests[1].severity, Severity::Warn);
        assert_eq!(tests[1].max_failures, 3);
    }

    #[test]
    fn a_test_missing_what_its_type_needs_is_named() {
        assert_eq!(
            parse("[[test]]\nmodel = \"m\"\ntype = \"relationships\"\ncolumn = \"a\"\n")
                .unwrap_err(),
            "configuration tests.toml: test[0] (model m): a relationships test needs `to`, the model or table referred to"
        );
        assert_eq!(
            parse("[[test]]\nmodel = \"m\"\ntype = \"between\"\n").unwrap_err(),
            "configuration tests.toml: test[0] (model m): type = \"between\" is not one of not_null, unique, accepted_values, relationships, row_count, sql"
        );
        assert_eq!(
            parse("[[test]]\nmodel = \"m\"\ntype = \"row_count\"\nmin = 5\nmax = 2\n").unwrap_err(),
            "configuration tests.toml: test[0] (model m): min = 5 is over max = 2"
        );
    }

    #[test]
    fn tests_count_store_and_clear_their_failing_rows() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE SCHEMA test_failures; CREATE TABLE m AS SELECT * FROM (VALUES (1, 'a'), (2, NULL), (3, NULL)) t(id, label);",
        )
        .unwrap();
        let mut test = DataTest {
            name: "not_null__m__label".into(),
            model: "m".into(),
            check: Check::NotNull {
                columns: vec!["label".into()],
            },
            severity: Severity::Error,
            max_failures: 0,
            filter: None,
            file: "tests.toml".into(),
            needs: Vec::new(),
        };
        let failed = run(&conn, &test);
        assert_eq!(failed.status, TestStatus::Fail);
        assert_eq!(failed.failures, Some(2));
        assert_eq!(
            failed.failures_table.as_deref(),
            Some("test_failures.not_null__m__label")
        );
        let kept: Vec<i32> = conn
            .prepare("SELECT id FROM test_failures.not_null__m__label ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(kept, [2, 3]);

        test.max_failures = 2;
        assert_eq!(run(&conn, &test).status, TestStatus::Pass);
        test.max_failures = 0;
        test.severity = Severity::Warn;
        assert_eq!(run(&conn, &test).status, TestStatus::Warn);

        conn.execute_batch("UPDATE m SET label = 'x'").unwrap();
        let passed = run(&conn, &test);
        assert_eq!(
            (passed.status, passed.failures),
            (TestStatus::Pass, Some(0))
        );
        let left: i64 = conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'test_failures'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
