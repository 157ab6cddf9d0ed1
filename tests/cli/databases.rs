//! Database sources against the real PostgreSQL and MariaDB servers named by
//! `ITVALUE_TEST_POSTGRES` and `ITVALUE_TEST_MYSQL` (`.ci/run` sets both). Each test makes its own
//! schema with service-desk tables, loads them through the real binary, and checks the rows, the
//! rejects with their row keys, the incremental second run and the faults. Without the variables
//! the tests say they were skipped.

use std::fs;
use std::time::{Duration, Instant};

use duckdb::Connection;

use crate::common::{self, Workspace, query_i64, query_strings};

pub(crate) const PERIOD: &str = "2026-10";
/// The variable the test configurations name in `connection_env`.
pub(crate) const URL_VARIABLE: &str = "ITVALUE_SERVICEDESK_URL";
pub(crate) const SECRET: &str = "hunter2-not-for-logs";

/// The server's URL, or `None` (the test is skipped, and says so) when the variable is unset.
/// `.ci/run` sets `ITVALUE_REQUIRE_DATABASES`, under which a missing server fails the test.
pub(crate) fn server(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("ITVALUE_REQUIRE_DATABASES").is_none(),
                "{variable} is not set, and ITVALUE_REQUIRE_DATABASES says the database tests must run"
            );
            eprintln!("skipped: {variable} is not set, so this test has no server to run against");
            None
        }
    }
}

/// A PostgreSQL schema of the test's own, dropped when the test ends.
struct PgSchema {
    client: postgres::Client,
    name: String,
    url: String,
}

impl PgSchema {
    fn new(test: &str) -> Option<PgSchema> {
        let url = server("ITVALUE_TEST_POSTGRES")?;
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL");
        let name = format!("itv_{test}_{}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
            ))
            .unwrap();
        Some(PgSchema { client, name, url })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// The incidents columns of a service desk, as an export names them.
const SERVICEDESK_INCIDENTS: &str = "number TEXT PRIMARY KEY, cmdb_ci TEXT, priority TEXT, \
     opened_at TIMESTAMP, impact_start TIMESTAMP, impact_end TIMESTAMP, resolved_at TIMESTAMP, \
     closed_at TIMESTAMP, caused_by TEXT, problem_id TEXT, users_affected BIGINT, category TEXT, \
     updated_at TIMESTAMP";

/// The `[[source]]` that reads the service-desk table in place of incidents.xlsx.
fn incidents_source(kind: &str, table: &str, extra: &str) -> String {
    format!(
        r#"[[source]]
name = "servicedesk"
entity = "incidents"
kind = "{kind}"
connection_env = "{URL_VARIABLE}"
table = "{table}"
retries = 1
{extra}
[source.columns]
incident_id = "number"
application_id = "cmdb_ci"
severity = "priority"
caused_by_deployment_id = "caused_by"
[source.rules.severity.values]
"1 - Critical" = "1"
"2 - High" = "2"
"3 - Moderate" = "3"
"4 - Low" = "4"
"#
    )
}

/// The sample's configuration with its incidents source replaced by `source`.
pub(crate) fn with_incidents_from(ws: &Workspace, source: &str, top: &str) {
    with_source_replaced(ws, "incidents", source, top);
}

/// The sample's configuration with its source `name` replaced by `source`, and `top` first.
fn with_source_replaced(ws: &Workspace, name: &str, source: &str, top: &str) {
    let path = ws.path("pipeline.toml");
    let text = fs::read_to_string(&path).unwrap();
    let start = text
        .find(&format!("[[source]]\nname = \"{name}\""))
        .expect("the source to replace");
    let end = start + text[start + 10..].find("[[source]]").expect("next source") + 10;
    let replaced = format!("{top}{}{source}\n{}", &text[..start], &text[end..]);
    fs::write(path, replaced).unwrap();
}

/// The sample's incidents as loaded from incidents.xlsx, as rows for the service-desk table.
fn sample_incidents() -> Vec<Vec<Option<String>>> {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let mut statement = db
        .prepare(
            "SELECT incident_id, application_id, \
             ['1 - Critical', '2 - High', '3 - Moderate', '4 - Low'][severity], \
             CAST(opened_at AS VARCHAR), CAST(impact_start AS VARCHAR), CAST(impact_end AS VARCHAR), \
             CAST(resolved_at AS VARCHAR), CAST(closed_at AS VARCHAR), caused_by_deployment_id, \
             problem_id, CAST(users_affected AS VARCHAR), category \
             FROM raw.incidents ORDER BY incident_id",
        )
        .unwrap();
    statement
        .query_map([], |r| {
            (0..12)
                .map(|i| r.get::<_, Option<String>>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn pg_insert_incidents(schema: &mut PgSchema, rows: &[Vec<Option<String>>]) {
    let table = format!("{}.incidents", schema.name);
    schema
        .client
        .batch_execute(&format!("CREATE TABLE {table} ({SERVICEDESK_INCIDENTS})"))
        .unwrap();
    let mut tx = schema.client.transaction().unwrap();
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} VALUES ($1, $2, $3, $4::TEXT::TIMESTAMP, $5::TEXT::TIMESTAMP, \
             $6::TEXT::TIMESTAMP, $7::TEXT::TIMESTAMP, $8::TEXT::TIMESTAMP, $9, $10, $11::TEXT::BIGINT, $12, \
             $4::TEXT::TIMESTAMP)"
        ))
        .unwrap();
    for row in rows {
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = row
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        tx.execute(&insert, &params).unwrap();
    }
    tx.commit().unwrap();
}

/// Every model and metric table, and raw.incidents without the columns that say where rows came
/// from, as `table=rows:checksum`.
fn contents(db: &Connection) -> Vec<String> {
    let mut lines: Vec<String> = common::row_counts(db, &["main", "metrics"])
        .into_iter()
        .filter(|t| !t.starts_with("main.mart_data_quality_summary="))
        .collect();
    lines.extend(query_strings(
        db,
        "SELECT 'raw.incidents=' || count(*) || ':' || coalesce(sum(hash(r)::HUGEINT), 0) \
         FROM (SELECT * EXCLUDE (_source, _file, _row) FROM raw.incidents) AS r",
    ));
    lines
}

fn sheet(ws: &Workspace, name: &str) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let path = ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    book.worksheet_range(name).unwrap()
}

#[test]
fn incidents_from_postgres_give_the_same_warehouse_and_workbook_as_the_spreadsheet() {
    let Some(mut schema) = PgSchema::new("same") else {
        return;
    };
    let rows = sample_incidents();
    assert_eq!(rows.len(), 1999);
    pg_insert_incidents(&mut schema, &rows);

    let spreadsheet = Workspace::with_sample();
    spreadsheet
        .itvalue(&["run", "--period", PERIOD])
        .assert_code(0);
    let mixed = Workspace::with_sample();
    let table = format!("{}.incidents", schema.name);
    with_incidents_from(&mixed, &incidents_source("postgres", &table, ""), "");
    let out = mixed.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, &schema.url)]);
    out.assert_code(0);

    assert_eq!(
        contents(&spreadsheet.warehouse()),
        contents(&mixed.warehouse())
    );
    for name in ["Portfolio", "Monthly", "Incident Impact"] {
        assert_eq!(
            sheet(&spreadsheet, name),
            sheet(&mixed, name),
            "sheet {name}"
        );
    }
    let db = mixed.warehouse();
    let input = query_strings(
        &db,
        "SELECT path || ' ' || rows_read || ' ' || rows_loaded FROM ledger.run_inputs WHERE source = 'servicedesk'",
    );
    assert_eq!(input.len(), 1);
    assert!(
        input[0].starts_with("postgres://") && input[0].ends_with(&format!("/{table} 1999 1999")),
        "{input:?}"
    );
}

/// Runs the sample with incidents from a `kind` source in Berlin time and checks the two rows
/// whose timestamps cross zones: Berlin is UTC+1 in winter and UTC+2 from 01:00 UTC on
/// 2026-03-29, so 00:45 UTC that day is 01:45 and 01:30 UTC (a timestamp without zone, read as UTC,
/// the default source_timezone) is 03:30 summer time. NUMERIC/DECIMAL users_affected arrive exact.
fn run_in_berlin_time(kind: &str, table: &str, url: &str) -> Workspace {
    let ws = Workspace::with_sample();
    with_incidents_from(
        &ws,
        &incidents_source(kind, table, "max_reject_rate = 1.0"),
        "timezone = \"Europe/Berlin\"\n",
    );
    let out = ws.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, url)]);
    out.assert_code(0);
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT incident_id || ' ' || severity || ' ' || strftime(opened_at, '%Y-%m-%d %H:%M') || ' ' \
             || coalesce(strftime(impact_end, '%Y-%m-%d %H:%M'), '-') || ' ' || coalesce(CAST(users_affected AS VARCHAR), '-') \
             FROM raw.incidents ORDER BY incident_id"
        ),
        [
            "INC-TZ-1 2 2026-01-15 13:00 - 12",
            "INC-TZ-2 4 2026-03-29 01:45 2026-03-29 03:30 250",
        ]
    );
    ws
}

#[test]
fn postgres_values_are_typed_converted_to_the_configured_zone_and_rejected_with_their_row_key() {
    let Some(mut schema) = PgSchema::new("types") else {
        return;
    };
    let table = format!("{}.incidents", schema.name);
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} (number TEXT, cmdb_ci TEXT, priority TEXT, opened_at TIMESTAMPTZ, \
                 impact_end TIMESTAMP, users_affected NUMERIC(12, 0), category TEXT);
             INSERT INTO {table} VALUES
                 ('INC-TZ-1', 'APP-001', '2 - High', '2026-01-15 12:00:00+00', NULL, 12, 'network'),
                 ('INC-TZ-2', 'APP-001', '4 - Low', '2026-03-29 00:45:00+00', '2026-03-29 01:30:00', 250, NULL),
                 ('INC-BAD-1', 'APP-001', NULL, '2026-07-16 08:00:00+00', NULL, NULL, NULL),
                 ('INC-BAD-2', 'APP-999', '1 - Critical', '2026-07-17 08:00:00+00', NULL, NULL, NULL),
                 ('INC-BAD-3', 'APP-001', '9 - Unknown', '2026-07-18 08:00:00+00', NULL, NULL, NULL);"
        ))
        .unwrap();
    let ws = run_in_berlin_time("postgres", &table, &schema.url);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT location || ' | ' || row_key || ' | ' || column_name || ' | ' || value || ' | ' || rule \
             FROM ledger.rejects WHERE source = 'servicedesk' ORDER BY location"
        ),
        [
            format!(
                "postgres:{table}!row 3 | incident_id=INC-BAD-1 | severity |  | a value is required"
            ),
            format!(
                "postgres:{table}!row 4 | incident_id=INC-BAD-2 | application_id | APP-999 | application_id APP-999 does not match any row of applications"
            ),
            format!(
                "postgres:{table}!row 5 | incident_id=INC-BAD-3 | severity | 9 - Unknown | expected a whole number, found the text \"9 - Unknown\""
            ),
        ]
    );
}

#[test]
fn a_second_postgres_run_extracts_only_changed_rows_and_keeps_the_others() {
    let Some(mut schema) = PgSchema::new("incremental") else {
        return;
    };
    let rows = sample_incidents();
    pg_insert_incidents(&mut schema, &rows);
    let table = format!("{}.incidents", schema.name);
    let ws = Workspace::with_sample();
    with_incidents_from(
        &ws,
        &incidents_source("postgres", &table, "watermark = \"updated_at\""),
        "",
    );
    let env = [(URL_VARIABLE, schema.url.as_str())];
    ws.itvalue_with_env(&["run", "--period", PERIOD], &env)
        .assert_code(0);

    schema
        .client
        .batch_execute(&format!(
            "UPDATE {table} SET priority = '1 - Critical', updated_at = TIMESTAMP '2026-11-20 10:00:00' \
                 WHERE number = '{first}';
             INSERT INTO {table} (number, cmdb_ci, priority, opened_at, updated_at) VALUES
                 ('INC-NEW-1', 'APP-001', '3 - Moderate', TIMESTAMP '2026-10-30 09:00:00', TIMESTAMP '2026-11-20 11:00:00');",
            first = rows[0][0].as_deref().unwrap()
        ))
        .unwrap();
    ws.itvalue_with_env(&["run", "--period", PERIOD], &env)
        .assert_code(0);
    let db = ws.warehouse();
    // Each row's watermark is its opened_at. The second run reads the rows at or after the last
    // watermark: the changed row, the new one, and the row(s) stamped with the watermark itself
    // (read again so that a late commit with the same stamp is not lost).
    let first = rows[0][0].clone().unwrap();
    let latest = rows.iter().filter_map(|r| r[3].clone()).max().unwrap();
    let boundary = rows
        .iter()
        .filter(|r| {
            r[3].as_deref() == Some(latest.as_str()) && r[0].as_deref() != Some(first.as_str())
        })
        .count();
    assert_eq!(
        query_strings(
            &db,
            "SELECT incremental || ' ' || rows || ' ' || watermark FROM ledger.extractions ORDER BY recorded_at"
        ),
        [
            format!("false 1999 {latest}"),
            format!("true {} 2026-11-20 11:00:00", boundary + 2),
        ]
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT rows_read FROM ledger.run_inputs WHERE source = 'servicedesk' ORDER BY run_id DESC LIMIT 1"
        ),
        boundary as i64 + 2
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM raw.incidents"), 2000);
    assert_eq!(
        query_strings(
            &db,
            &format!(
                "SELECT CAST(severity AS VARCHAR) FROM raw.incidents WHERE incident_id IN ('{}', 'INC-NEW-1') ORDER BY incident_id DESC",
                rows[0][0].as_deref().unwrap()
            )
        ),
        ["3", "1"]
    );

    // After a third run that brings nothing new, the rows are still all there.
    schema
        .client
        .batch_execute(&format!(
            "UPDATE {table} SET updated_at = TIMESTAMP '2026-11-01 00:00:00'"
        ))
        .unwrap();
    drop(db);
    ws.itvalue_with_env(&["run", "--period", PERIOD], &env)
        .assert_code(0);
    let db = ws.warehouse();
    assert_eq!(query_i64(&db, "SELECT count(*) FROM raw.incidents"), 2000);
    assert_eq!(
        query_strings(
            &db,
            "SELECT rows || ' ' || watermark FROM ledger.extractions ORDER BY recorded_at DESC LIMIT 1"
        ),
        ["0 2026-11-20 11:00:00"]
    );
    drop(db);
    // --full-refresh reads everything again and replaces what incremental runs kept.
    ws.itvalue_with_env(&["run", "--period", PERIOD, "--full-refresh"], &env)
        .assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT incremental || ' ' || rows FROM ledger.extractions ORDER BY recorded_at DESC LIMIT 1"
        ),
        ["false 2000"]
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM raw.incidents"), 2000);
}

/// Runs the sample with incidents from `url` and returns the outcome and the ledger's messages.
fn run_against(url: &str, kind: &str) -> (common::Outcome, Vec<String>) {
    let ws = Workspace::with_sample();
    with_incidents_from(&ws, &incidents_source(kind, "incidents", ""), "");
    let out = ws.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, url)]);
    let messages = if ws.path("notebooks-data/warehouse.duckdb").exists() {
        query_strings(
            &ws.warehouse(),
            "SELECT coalesce(message, '') FROM ledger.runs UNION ALL SELECT coalesce(detail, '') FROM ledger.run_steps",
        )
    } else {
        Vec::new()
    };
    (out, messages)
}

pub(crate) fn assert_no_secret(out: &common::Outcome, ledger: &[String]) {
    assert!(!out.stderr.contains(SECRET), "{}", out.stderr);
    assert!(!out.stdout.contains(SECRET), "{}", out.stdout);
    assert!(ledger.iter().all(|m| !m.contains(SECRET)), "{ledger:?}");
}

#[test]
fn a_postgres_server_that_is_down_exits_69_naming_the_source_not_the_secret() {
    if server("ITVALUE_TEST_POSTGRES").is_none() {
        return;
    }
    let (out, ledger) = run_against(
        &format!("postgresql://itvalue:{SECRET}@127.0.0.1:1/test"),
        "postgres",
    );
    out.assert_code(69);
    assert!(
        out.stderr
            .contains("error: source servicedesk: postgres://itvalue@127.0.0.1:1/test: ")
            && out.stderr.contains("(after 2 attempts)"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &ledger);
}

#[test]
fn a_refused_postgres_login_exits_78() {
    let Some(url) = server("ITVALUE_TEST_POSTGRES") else {
        return;
    };
    let port = url
        .rsplit_once(':')
        .map(|(_, p)| p.split('/').next().unwrap_or("5432"))
        .unwrap_or("5432");
    let (out, ledger) = run_against(
        &format!("postgresql://no_such_role:{SECRET}@127.0.0.1:{port}/test"),
        "postgres",
    );
    out.assert_code(78);
    assert!(
        out.stderr
            .contains("error: source servicedesk: postgres://no_such_role@127.0.0.1:")
            && out
                .stderr
                .contains("role \"no_such_role\" does not exist (28000)"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &ledger);
}

/// Terminates itvalue's PostgreSQL sessions while they extract: once, or all within `window`.
fn terminate_extractions(
    schema: &PgSchema,
    once: bool,
    window: Duration,
) -> std::thread::JoinHandle<u32> {
    let url = schema.url.clone();
    // Only this test's extraction: tests run in parallel, each with its own schema.
    let pattern = format!("%{}.slow_text%", schema.name);
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let started = Instant::now();
        let mut killed = 0;
        while started.elapsed() < window {
            let rows = client
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = 'itvalue' AND query LIKE $1",
                    &[&pattern],
                )
                .unwrap();
            killed += rows.len() as u32;
            if killed > 0 && once {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        killed
    })
}

fn slow_source(schema: &mut PgSchema) -> String {
    let rows = sample_incidents();
    pg_insert_incidents(schema, &rows[..400]);
    let name = &schema.name;
    schema
        .client
        .batch_execute(&format!(
            "CREATE FUNCTION {name}.slow_text(t TEXT) RETURNS TEXT AS $$
                 BEGIN PERFORM pg_sleep(0.004); RETURN t; END $$ LANGUAGE plpgsql;"
        ))
        .unwrap();
    format!(
        "[[source]]\nname = \"servicedesk\"\nentity = \"incidents\"\nkind = \"postgres\"\n\
         connection_env = \"{URL_VARIABLE}\"\nretries = 1\nbatch_rows = 20\n\
         query = \"SELECT {name}.slow_text(number) AS number, cmdb_ci, priority, opened_at, impact_start, impact_end, resolved_at, closed_at, caused_by FROM {name}.incidents\"\n\
         [source.columns]\nincident_id = \"number\"\napplication_id = \"cmdb_ci\"\nseverity = \"priority\"\ncaused_by_deployment_id = \"caused_by\"\n\
         [source.rules.severity.values]\n\"1 - Critical\" = \"1\"\n\"2 - High\" = \"2\"\n\"3 - Moderate\" = \"3\"\n\"4 - Low\" = \"4\"\n"
    )
}

#[test]
fn a_connection_lost_mid_extract_is_retried_as_a_whole() {
    let Some(mut schema) = PgSchema::new("retry") else {
        return;
    };
    let source = slow_source(&mut schema);
    let ws = Workspace::with_sample();
    with_incidents_from(&ws, &source, "");
    let killer = terminate_extractions(&schema, true, Duration::from_secs(20));
    let out = ws.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, &schema.url)]);
    assert_eq!(killer.join().unwrap(), 1);
    out.assert_code(0);
    assert!(
        out.stderr
            .contains("extraction failed; retrying it from the start"),
        "{}",
        out.stderr
    );
    assert_eq!(
        query_i64(&ws.warehouse(), "SELECT count(*) FROM raw.incidents"),
        400
    );
    // The first attempt's spilled batches went with it.
    assert_eq!(spill_folders(&ws), Vec::<String>::new());
}

#[test]
fn a_connection_that_keeps_failing_leaves_the_warehouse_as_it_was() {
    let Some(mut schema) = PgSchema::new("lost") else {
        return;
    };
    let source = slow_source(&mut schema);
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let before = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"]);
    with_incidents_from(&ws, &source, "");
    let killer = terminate_extractions(&schema, false, Duration::from_secs(8));
    let out = ws.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, &schema.url)]);
    assert!(killer.join().unwrap() >= 2);
    out.assert_code(69);
    assert!(out.stderr.contains("(after 2 attempts)"), "{}", out.stderr);
    let db = ws.warehouse();
    assert_eq!(before, common::row_counts(&db, &["raw", "main", "metrics"]));
    assert_eq!(query_i64(&db, "SELECT count(*) FROM ledger.extractions"), 0);
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["succeeded", "failed"]
    );
    assert_eq!(spill_folders(&ws), Vec::<String>::new());
}

/// A MariaDB database of the test's own, dropped when the test ends.
struct MyDatabase {
    conn: mysql::Conn,
    name: String,
    url: String,
}

impl MyDatabase {
    fn new(test: &str) -> Option<MyDatabase> {
        use mysql::prelude::Queryable;
        let base = server("ITVALUE_TEST_MYSQL")?;
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(&base).unwrap()).expect("MariaDB");
        let name = format!("itv_{test}_{}", std::process::id());
        conn.query_drop(format!("DROP DATABASE IF EXISTS {name}"))
            .unwrap();
        conn.query_drop(format!("CREATE DATABASE {name}")).unwrap();
        let url = format!(
            "{}/{name}",
            base.rsplit_once('/').map_or(base.as_str(), |(b, _)| b)
        );
        Some(MyDatabase { conn, name, url })
    }
}

impl Drop for MyDatabase {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let _ = self
            .conn
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

#[test]
fn incidents_from_mariadb_are_typed_zoned_and_rejected_with_their_row_key() {
    use mysql::prelude::Queryable;
    let Some(mut db) = MyDatabase::new("types") else {
        return;
    };
    db.conn
        .query_drop(format!(
            "CREATE TABLE {name}.incidents (number VARCHAR(20) PRIMARY KEY, cmdb_ci VARCHAR(20), \
                 priority VARCHAR(20), opened_at TIMESTAMP NULL, impact_end DATETIME NULL, \
                 users_affected DECIMAL(12, 0), category VARCHAR(40))",
            name = db.name
        ))
        .unwrap();
    // The session that writes is in UTC, so the TIMESTAMP values below are UTC instants.
    db.conn.query_drop("SET time_zone = '+00:00'").unwrap();
    db.conn
        .query_drop(format!(
            "INSERT INTO {name}.incidents VALUES
                 ('INC-TZ-1', 'APP-001', '2 - High', '2026-01-15 12:00:00', NULL, 12, 'network'),
                 ('INC-TZ-2', 'APP-001', '4 - Low', '2026-03-29 00:45:00', '2026-03-29 01:30:00', 250, NULL),
                 ('INC-BAD-1', 'APP-001', NULL, '2026-07-16 08:00:00', NULL, NULL, NULL)",
            name = db.name
        ))
        .unwrap();
    let ws = run_in_berlin_time("mysql", "incidents", &db.url);
    let warehouse = ws.warehouse();
    assert_eq!(
        query_strings(
            &warehouse,
            "SELECT location || ' | ' || row_key || ' | ' || rule FROM ledger.rejects WHERE source = 'servicedesk'"
        ),
        // The table's rows come in primary-key order, so INC-BAD-1 is the first.
        ["mysql:incidents!row 1 | incident_id=INC-BAD-1 | a value is required"]
    );
}

#[test]
fn a_refused_mariadb_login_exits_78_and_a_server_that_is_down_69() {
    let Some(base) = server("ITVALUE_TEST_MYSQL") else {
        return;
    };
    let host_port = base
        .trim_start_matches("mysql://")
        .split('/')
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_string();
    let (out, ledger) = run_against(&format!("mysql://root:{SECRET}@{host_port}/test"), "mysql");
    out.assert_code(78);
    assert!(
        out.stderr
            .contains("error: source servicedesk: mysql://root@")
            && out.stderr.contains("(1045)"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &ledger);

    let (out, ledger) = run_against(&format!("mysql://root:{SECRET}@127.0.0.1:1/test"), "mysql");
    out.assert_code(69);
    assert!(
        out.stderr
            .contains("error: source servicedesk: mysql://root@127.0.0.1:1/test: "),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &ledger);
}

#[test]
fn a_mariadb_watermark_is_bound_not_spliced_into_the_query() {
    use mysql::prelude::Queryable;
    let Some(mut db) = MyDatabase::new("watermark") else {
        return;
    };
    let name = db.name.clone();
    db.conn
        .query_drop(format!(
            "CREATE TABLE {name}.incidents (number VARCHAR(20) PRIMARY KEY, cmdb_ci VARCHAR(20), \
                 priority VARCHAR(20), opened_at DATETIME, rev VARCHAR(40))"
        ))
        .unwrap();
    // The highest revision is text that would break out of a quoted literal.
    let tricky = r"r2\' OR 1=1 -- ";
    db.conn
        .exec_drop(
            format!("INSERT INTO {name}.incidents VALUES (?, 'APP-001', '2 - High', '2026-10-02 08:00:00', ?)"),
            ("INC-1", "r1"),
        )
        .unwrap();
    db.conn
        .exec_drop(
            format!("INSERT INTO {name}.incidents VALUES (?, 'APP-001', '3 - Moderate', '2026-10-03 08:00:00', ?)"),
            ("INC-2", tricky),
        )
        .unwrap();
    let ws = Workspace::with_sample();
    with_incidents_from(
        &ws,
        &incidents_source("mysql", "incidents", "watermark = \"rev\""),
        "",
    );
    let env = [(URL_VARIABLE, db.url.as_str())];
    ws.itvalue_with_env(&["run", "--period", PERIOD], &env)
        .assert_code(0);
    db.conn
        .exec_drop(
            format!("INSERT INTO {name}.incidents VALUES (?, 'APP-001', '4 - Low', '2026-10-04 08:00:00', ?)"),
            ("INC-3", "r3"),
        )
        .unwrap();
    ws.itvalue_with_env(&["run", "--period", PERIOD], &env)
        .assert_code(0);
    let warehouse = ws.warehouse();
    assert_eq!(
        query_strings(
            &warehouse,
            "SELECT incremental || ' ' || rows || ' ' || watermark FROM ledger.extractions ORDER BY run_id"
        ),
        [format!("false 2 {tricky}"), "true 2 r3".to_string()]
    );
    assert_eq!(
        query_strings(
            &warehouse,
            "SELECT incident_id FROM raw.incidents ORDER BY 1"
        ),
        ["INC-1", "INC-2", "INC-3"]
    );
    drop(warehouse);
    // A lag counts back in time: on a text watermark it is refused, not compared as a date.
    let path = ws.path("pipeline.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replacen("retries = 1\n", "retries = 1\nwatermark_lag = \"1h\"\n", 1),
    )
    .unwrap();
    let out = ws.itvalue_with_env(&["run", "--period", PERIOD], &env);
    out.assert_code(2);
    assert!(
        out.stderr.contains(&format!("error: source servicedesk: {}: watermark_lag counts back in time, but the watermark column rev is of type MYSQL_TYPE_VAR_STRING; use a date or timestamp column, or no lag", db.url)),
        "{}",
        out.stderr
    );
}

/// A story's two tests, against PostgreSQL and against MariaDB, each in a schema or database of
/// its own named after `$name`.
macro_rules! told_against_both {
    ($story:ident: $postgres:ident, $mariadb:ident, $name:literal) => {
        #[test]
        fn $postgres() {
            let Some(mut schema) = PgSchema::new($name) else {
                return;
            };
            $story(pg_story(&mut schema));
        }

        #[test]
        fn $mariadb() {
            let Some(mut db) = MyDatabase::new($name) else {
                return;
            };
            $story(mysql_story(&mut db));
        }
    };
}

/// The server side of a story told against both PostgreSQL and MariaDB: statements to run, the
/// source's kind, table and URL, and the column type of a wall-clock time.
struct Story<'a> {
    kind: &'a str,
    table: String,
    url: String,
    timestamp: &'a str,
    execute: Box<dyn FnMut(&str) + 'a>,
}

fn pg_story(schema: &mut PgSchema) -> Story<'_> {
    Story {
        kind: "postgres",
        table: format!("{}.incidents", schema.name),
        url: schema.url.clone(),
        timestamp: "TIMESTAMP",
        execute: Box::new(move |sql: &str| schema.client.batch_execute(sql).unwrap()),
    }
}

fn mysql_story(db: &mut MyDatabase) -> Story<'_> {
    use mysql::prelude::Queryable;
    Story {
        kind: "mysql",
        table: format!("{}.incidents", db.name),
        url: db.url.clone(),
        timestamp: "DATETIME",
        execute: Box::new(move |sql: &str| db.conn.query_drop(sql).unwrap()),
    }
}

impl Story<'_> {
    fn execute(&mut self, sql: &str) {
        (self.execute)(sql);
    }

    /// The incidents table with a watermark column, and a workspace whose incidents come from it.
    fn create(&mut self, rows: &str) -> Workspace {
        let (table, timestamp) = (self.table.clone(), self.timestamp);
        self.execute(&format!(
            "CREATE TABLE {table} (number VARCHAR(20) PRIMARY KEY, cmdb_ci VARCHAR(20), \
             priority VARCHAR(20), opened_at {timestamp}, updated_at {timestamp})"
        ));
        self.execute(&format!("INSERT INTO {table} VALUES {rows}"));
        let ws = Workspace::with_sample();
        with_incidents_from(
            &ws,
            &incidents_source(
                self.kind,
                &table,
                "watermark = \"updated_at\"\nmax_reject_rate = 1.0",
            ),
            "",
        );
        ws
    }

    fn run(&self, ws: &Workspace) {
        ws.itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, &self.url)])
            .assert_code(0);
    }
}

/// The last extraction as `incremental rows watermark rejected_watermark`, and the story's
/// incidents as `id severity`.
fn extraction_and_rows(ws: &Workspace) -> (String, Vec<String>) {
    let db = ws.warehouse();
    let extraction = query_strings(
        &db,
        "SELECT incremental || ' ' || rows || ' ' || watermark || ' ' || coalesce(rejected_watermark, '-') \
         FROM ledger.extractions ORDER BY run_id DESC LIMIT 1",
    );
    let rows = query_strings(
        &db,
        "SELECT incident_id || ' ' || severity FROM raw.incidents ORDER BY incident_id",
    );
    (extraction[0].clone(), rows)
}

/// Three rows, the middle one rejected (no priority). It is fixed in the source by a statement
/// that leaves its watermark as it was, below the highest one loaded: a watermark alone would
/// never read it again.
fn a_rejected_row_is_read_again_until_it_loads(mut story: Story<'_>) {
    let ws = story.create(
        "('INC-W-1', 'APP-001', '2 - High', '2026-10-05 08:00:00', '2026-11-01 10:00:00'), \
         ('INC-W-2', 'APP-001', NULL, '2026-10-06 08:00:00', '2026-11-01 11:00:00'), \
         ('INC-W-3', 'APP-001', '3 - Moderate', '2026-10-07 08:00:00', '2026-11-01 12:00:00')",
    );
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "false 3 2026-11-01 12:00:00 2026-11-01 11:00:00".to_string(),
            vec!["INC-W-1 2".to_string(), "INC-W-3 3".to_string()]
        )
    );
    // Still rejected: read again from its watermark, and rejected again; INC-W-3 is read again
    // too and replaces itself, once.
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 2 2026-11-01 12:00:00 2026-11-01 11:00:00".to_string(),
            vec!["INC-W-1 2".to_string(), "INC-W-3 3".to_string()]
        )
    );
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT row_key || ' ' || rule FROM ledger.rejects \
             WHERE source = 'servicedesk' AND run_id = (SELECT max(run_id) FROM ledger.runs)"
        ),
        ["incident_id=INC-W-2 a value is required"]
    );
    let table = story.table.clone();
    story.execute(&format!(
        "UPDATE {table} SET priority = '1 - Critical' WHERE number = 'INC-W-2'"
    ));
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 2 2026-11-01 12:00:00 -".to_string(),
            vec![
                "INC-W-1 2".to_string(),
                "INC-W-2 1".to_string(),
                "INC-W-3 3".to_string()
            ]
        )
    );
    // Nothing rejected any more: the next run starts from the highest watermark again.
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws).0,
        "true 1 2026-11-01 12:00:00 -".to_string()
    );
    assert_eq!(
        query_i64(&ws.warehouse(), "SELECT count(*) FROM raw.incidents"),
        3
    );
}

told_against_both!(
    a_rejected_row_is_read_again_until_it_loads:
    a_rejected_postgres_row_is_read_again_until_it_loads,
    a_rejected_mariadb_row_is_read_again_until_it_loads,
    "rejected"
);

/// A row committed after a run with a stamp half an hour before that run's watermark: an
/// incremental run without a lag never reads it; with `watermark_lag = "1h"` it does.
fn a_late_commit_is_lost_without_a_watermark_lag_and_read_with_one(mut story: Story<'_>) {
    let ws = story
        .create("('INC-L-1', 'APP-001', '2 - High', '2026-10-05 08:00:00', '2026-11-01 10:00:00')");
    story.run(&ws);
    let table = story.table.clone();
    story.execute(&format!(
        "INSERT INTO {table} VALUES \
         ('INC-L-2', 'APP-001', '4 - Low', '2026-10-06 08:00:00', '2026-11-01 09:30:00')"
    ));
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 1 2026-11-01 10:00:00 -".to_string(),
            vec!["INC-L-1 2".to_string()]
        )
    );
    let path = ws.path("pipeline.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replacen("retries = 1\n", "retries = 1\nwatermark_lag = \"1h\"\n", 1),
    )
    .unwrap();
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 2 2026-11-01 10:00:00 -".to_string(),
            vec!["INC-L-1 2".to_string(), "INC-L-2 4".to_string()]
        )
    );
    // The margin is read again on every run, and replaces what it loaded before.
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 2 2026-11-01 10:00:00 -".to_string(),
            vec!["INC-L-1 2".to_string(), "INC-L-2 4".to_string()]
        )
    );
}

told_against_both!(
    a_late_commit_is_lost_without_a_watermark_lag_and_read_with_one:
    a_late_postgres_commit_is_lost_without_a_watermark_lag_and_read_with_one,
    a_late_mariadb_commit_is_lost_without_a_watermark_lag_and_read_with_one,
    "late"
);

/// Applications streamed from PostgreSQL are what the incidents' and deployments' foreign keys
/// are checked against: their keys are read back from the spill, so every row the spreadsheet
/// run loads is loaded, and the same rows are rejected.
#[test]
fn keys_of_a_streamed_entity_serve_the_foreign_keys_of_later_entities() {
    let Some(mut schema) = PgSchema::new("referenced") else {
        return;
    };
    let spreadsheet = Workspace::with_sample();
    spreadsheet
        .itvalue(&["run", "--period", PERIOD])
        .assert_code(0);
    let columns = [
        "application_id",
        "name",
        "investment_id",
        "business_criticality",
        "downtime_cost_per_minute",
        "slo_availability",
        "tier",
        "lifecycle_stage",
        "go_live_date",
    ];
    // COPY's text format: tab-separated, \N for NULL.
    let rows = query_strings(
        &spreadsheet.warehouse(),
        &format!(
            "SELECT concat_ws(chr(9), {}) FROM raw.applications",
            columns
                .iter()
                .map(|c| format!("coalesce(CAST({c} AS VARCHAR), '\\N')"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let table = format!("{}.applications", schema.name);
    schema
        .client
        .batch_execute(&format!(
            "CREATE TABLE {table} ({})",
            columns
                .iter()
                .map(|c| format!("{c} TEXT"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .unwrap();
    let mut copy = schema
        .client
        .copy_in(&format!("COPY {table} FROM STDIN"))
        .unwrap();
    std::io::Write::write_all(&mut copy, format!("{}\n", rows.join("\n")).as_bytes()).unwrap();
    copy.finish().unwrap();

    let streamed = Workspace::with_sample();
    with_source_replaced(
        &streamed,
        "applications",
        &format!(
            "[[source]]\nname = \"applications\"\nentity = \"applications\"\nkind = \"postgres\"\n\
             connection_env = \"{URL_VARIABLE}\"\ntable = \"{table}\"\nbatch_rows = 7\n"
        ),
        "",
    );
    streamed
        .itvalue_with_env(&["run", "--period", PERIOD], &[(URL_VARIABLE, &schema.url)])
        .assert_code(0);
    let loaded = |ws: &Workspace| {
        query_strings(
            &ws.warehouse(),
            "SELECT 'applications ' || (SELECT count(*) FROM raw.applications) \
             || ', incidents ' || (SELECT count(*) FROM raw.incidents) \
             || ', deployments ' || (SELECT count(*) FROM raw.deployments) \
             || ', slo ' || (SELECT count(*) FROM raw.slo_measurements) \
             || ', rejects ' || (SELECT count(*) FROM ledger.rejects \
                 WHERE entity IN ('incidents', 'deployments', 'slo_measurements'))",
        )
    };
    let expected = loaded(&spreadsheet);
    assert_eq!(loaded(&streamed), expected);
    assert!(
        !expected[0].starts_with("applications 0"),
        "the sample has applications: {expected:?}"
    );
    assert_eq!(spill_folders(&streamed), Vec::<String>::new());
}

/// The spill folders of streamed extracts beside the warehouse; none outlives its run.
fn spill_folders(ws: &Workspace) -> Vec<String> {
    fs::read_dir(ws.path("notebooks-data"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".itvalue-spill-"))
        .collect()
}

/// Seven rows fetched two at a time, so that a key's second row comes in a later batch than its
/// first: each later copy is rejected and names where the first is, the foreign-key reject is
/// found within its batch, and the extraction starts next time from the first rejected row's
/// watermark.
fn duplicate_keys_across_batches_are_rejected_naming_the_first_row(mut story: Story<'_>) {
    let (table, timestamp) = (format!("{}_log", story.table), story.timestamp);
    story.execute(&format!(
        "CREATE TABLE {table} (number VARCHAR(20), cmdb_ci VARCHAR(20), priority VARCHAR(20), \
         opened_at {timestamp}, updated_at {timestamp})"
    ));
    story.execute(&format!(
        "INSERT INTO {table} VALUES \
         ('INC-D-1', 'APP-001', '2 - High', '2026-10-05 08:00:00', '2026-11-01 10:00:00'), \
         ('INC-D-2', 'APP-001', '3 - Moderate', '2026-10-05 09:00:00', '2026-11-01 10:01:00'), \
         ('INC-D-3', 'APP-999', '3 - Moderate', '2026-10-05 10:00:00', '2026-11-01 10:02:00'), \
         ('INC-D-4', 'APP-001', '4 - Low', '2026-10-05 11:00:00', '2026-11-01 10:03:00'), \
         ('INC-D-2', 'APP-001', '1 - Critical', '2026-10-05 12:00:00', '2026-11-01 10:04:00'), \
         ('INC-D-5', 'APP-001', '4 - Low', '2026-10-05 13:00:00', '2026-11-01 10:05:00'), \
         ('INC-D-1', 'APP-001', '1 - Critical', '2026-10-05 14:00:00', '2026-11-01 10:06:00')"
    ));
    let ws = Workspace::with_sample();
    with_incidents_from(
        &ws,
        &incidents_source(
            story.kind,
            &table,
            "watermark = \"updated_at\"\nbatch_rows = 2\nmax_reject_rate = 1.0",
        ),
        "",
    );
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "false 7 2026-11-01 10:06:00 2026-11-01 10:02:00".to_string(),
            ["INC-D-1 2", "INC-D-2 3", "INC-D-4 4", "INC-D-5 4"]
                .map(String::from)
                .to_vec()
        )
    );
    let at = format!("{}:{table}!row", story.kind);
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT location || ' | ' || row_key || ' | ' || column_name || ' | ' || value || ' | ' || rule \
             FROM ledger.rejects WHERE source = 'servicedesk' ORDER BY location"
        ),
        [
            format!(
                "{at} 3 | incident_id=INC-D-3 | application_id | APP-999 | application_id APP-999 does not match any row of applications"
            ),
            format!(
                "{at} 5 | incident_id=INC-D-2 | incident_id | INC-D-2 | duplicate key: the same incident_id as {at} 2"
            ),
            format!(
                "{at} 7 | incident_id=INC-D-1 | incident_id | INC-D-1 | duplicate key: the same incident_id as {at} 1"
            ),
        ]
    );
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT rows_read || ' ' || rows_loaded || ' ' || rows_rejected FROM ledger.run_inputs \
             WHERE source = 'servicedesk'"
        ),
        ["7 4 3"]
    );
    assert_eq!(spill_folders(&ws), Vec::<String>::new());
}

told_against_both!(
    duplicate_keys_across_batches_are_rejected_naming_the_first_row:
    duplicate_postgres_keys_across_batches_are_rejected_naming_the_first_row,
    duplicate_mariadb_keys_across_batches_are_rejected_naming_the_first_row,
    "duplicates"
);

#[test]
fn a_postgres_run_killed_part_way_leaves_rows_and_watermarks_as_they_were() {
    let Some(mut schema) = PgSchema::new("killed") else {
        return;
    };
    let mut story = pg_story(&mut schema);
    let ws = story.create(
        "('INC-W-1', 'APP-001', '2 - High', '2026-10-05 08:00:00', '2026-11-01 10:00:00'), \
         ('INC-W-2', 'APP-001', NULL, '2026-10-06 08:00:00', '2026-11-01 11:00:00'), \
         ('INC-W-3', 'APP-001', '3 - Moderate', '2026-10-07 08:00:00', '2026-11-01 12:00:00')",
    );
    story.run(&ws);
    let before = extraction_and_rows(&ws);
    let table = story.table.clone();
    story.execute(&format!(
        "UPDATE {table} SET priority = '1 - Critical' WHERE number = 'INC-W-2';
         INSERT INTO {table} VALUES
             ('INC-W-4', 'APP-001', '4 - Low', '2026-10-08 08:00:00', '2026-11-01 13:00:00');"
    ));
    // Killed with the raw tables replaced inside the load's transaction, and with every step
    // done but the warehouse not yet put in place: rows, rejects and watermarks stay as they were.
    for point in ["raw-loaded", "before-commit"] {
        let killed = ws.itvalue_with_env(
            &["run", "--period", PERIOD],
            &[(URL_VARIABLE, &story.url), ("ITVALUE_FAILPOINT", point)],
        );
        assert_eq!(
            killed.code, -1,
            "{point}: stopped by a signal\n{}",
            killed.stderr
        );
        assert_eq!(extraction_and_rows(&ws), before, "{point}");
        assert_eq!(
            query_i64(&ws.warehouse(), "SELECT count(*) FROM ledger.extractions"),
            1,
            "{point}"
        );
    }
    story.run(&ws);
    assert_eq!(
        extraction_and_rows(&ws),
        (
            "true 3 2026-11-01 13:00:00 -".to_string(),
            vec![
                "INC-W-1 2".to_string(),
                "INC-W-2 1".to_string(),
                "INC-W-3 3".to_string(),
                "INC-W-4 4".to_string()
            ]
        )
    );
}
