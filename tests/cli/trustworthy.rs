//! Regression tests for the trustworthy-runs issue: each test is named after the defect it pins,
//! and runs the real binary on a temporary copy of the sample or on small CSV fixtures.

use std::fs;
use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader, Xlsx, open_workbook};
use duckdb::Connection;

use crate::common::{self, Workspace, query_i64, query_strings, repo_path};

const PERIOD: &str = "2026-10";

/// The top of a configuration for CSV fixtures, with the shipped models.
const HEAD: &str = r#"reporting_currency = "EUR"
default_discount_rate = 0.08
warehouse = "w.duckdb"
reports = "reports"
"#;

/// A workspace with the shipped models, the CSV files and a configuration with one source per
/// file (named after its entity), then `extra`.
fn csv_workspace(files: &[(&str, &str)], extra: &str) -> Workspace {
    let ws = Workspace::empty();
    copy_sql(&ws);
    let mut config = HEAD.to_string();
    for (entity, body) in files {
        fs::write(ws.path(&format!("{entity}.csv")), body).unwrap();
        config.push_str(&format!(
            "\n[[source]]\nname = \"{entity}\"\nentity = \"{entity}\"\npath = \"{entity}.csv\"\n"
        ));
    }
    config.push_str(extra);
    fs::write(ws.path("pipeline.toml"), config).unwrap();
    ws
}

fn copy_sql(ws: &Workspace) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(repo_path("sql"))
        .arg(ws.path("sql"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn csv_warehouse(ws: &Workspace) -> Connection {
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .unwrap();
    Connection::open_with_flags(ws.path("w.duckdb"), config).unwrap()
}

fn writable(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn sheet_names(workbook: &Path) -> Vec<String> {
    let book: Xlsx<_> = open_workbook(workbook).expect("workbook opens");
    book.sheet_names()
}

/// The value beside `key` in column A of a sheet (the Run Info layout).
fn beside(workbook: &Path, sheet: &str, key: &str) -> String {
    let mut book: Xlsx<_> = open_workbook(workbook).expect("workbook opens");
    let range = book.worksheet_range(sheet).expect("sheet");
    range
        .rows()
        .find(|r| r.first() == Some(&Data::String(key.to_string())))
        .and_then(|r| r.get(1).map(|c| c.to_string()))
        .unwrap_or_else(|| panic!("{key} on {sheet}"))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn sample_workbook(ws: &Workspace) -> std::path::PathBuf {
    ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"))
}

#[test]
fn a_metric_table_gaining_a_column_keeps_every_stored_period() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    let stored = query_i64(
        &ws.warehouse(),
        "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-09-01'",
    );
    assert!(stored > 100, "{stored}");
    // As an older version stored it: without the spi column.
    writable(&ws.path("notebooks-data/warehouse.duckdb"))
        .execute_batch("ALTER TABLE metrics.investment_finance DROP COLUMN spi")
        .unwrap();

    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let per_period = query_strings(
        &db,
        "SELECT strftime(period, '%Y-%m') || ' ' || count(*) || ' ' || count(spi)
         FROM metrics.investment_finance GROUP BY period ORDER BY period",
    );
    let october = query_i64(
        &db,
        "SELECT count(spi) FROM metrics.investment_finance WHERE period = DATE '2026-10-01'",
    );
    assert!(october > 100, "{october}");
    let october_rows = query_i64(
        &db,
        "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-10-01'",
    );
    assert_eq!(
        per_period,
        [
            format!("2026-09 {stored} 0"),
            format!("2026-10 {october_rows} {october}")
        ]
    );
}

#[test]
fn a_metric_table_whose_column_changed_type_stops_and_says_how_to_migrate() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    let warehouse = ws.path("notebooks-data/warehouse.duckdb");
    writable(&warehouse)
        .execute_batch("ALTER TABLE metrics.investment_finance ALTER cpi TYPE VARCHAR")
        .unwrap();
    let before = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"]);

    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr.contains(
            "error: metrics.investment_finance: it stores `cpi` as VARCHAR, but this version of itvalue writes it as DOUBLE. To keep the stored periods, rename the table (ALTER TABLE metrics.investment_finance RENAME TO investment_finance_before) and rerun the periods you need"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        before,
        common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"])
    );
}

#[test]
fn a_model_that_fails_after_a_good_load_publishes_nothing_and_keeps_the_old_pack() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let before = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics", "ledger"]);
    let workbook = fs::read(sample_workbook(&ws)).unwrap();
    let results = fs::read(ws.path(&format!("reports/{PERIOD}/run_results.json"))).unwrap();
    let pack_files = files_in(&ws.path(&format!("reports/{PERIOD}")));

    // New inputs that load well, and a model the finance figures read that then fails.
    ws.write_other_sample("notebooks-data/sample");
    fs::write(
        ws.path("sql/staging/stg_progress.sql"),
        "SELECT investment_id, period, CAST('x' || percent_complete AS DOUBLE) AS percent_complete FROM raw.progress",
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr
            .contains("error: models failed: model stg_progress (")
            && out.stderr.contains("Conversion Error"),
        "{}",
        out.stderr
    );

    let db = ws.warehouse();
    // Raw tables, models and metrics are those of the good run; the ledger gained the failed run.
    let now = common::row_counts(&db, &["raw", "main", "metrics"]);
    let without_ledger: Vec<String> = before
        .iter()
        .filter(|t| !t.starts_with("ledger."))
        .cloned()
        .collect();
    assert_eq!(without_ledger, now);
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["succeeded", "failed"]
    );
    let failed = "(SELECT run_id FROM ledger.runs WHERE status = 'failed')";
    assert_eq!(
        query_strings(
            &db,
            &format!(
                "SELECT status FROM ledger.run_models WHERE run_id = {failed} AND model = 'stg_progress'"
            )
        ),
        ["error"]
    );
    assert!(
        query_i64(
            &db,
            &format!("SELECT count(*) FROM ledger.run_inputs WHERE run_id = {failed}")
        ) == 11
    );
    let steps = query_strings(
        &db,
        &format!(
            "SELECT step || ' ' || status FROM ledger.run_steps WHERE run_id = {failed} ORDER BY started_at"
        ),
    );
    assert_eq!(
        steps,
        ["ingest succeeded", "load succeeded", "models failed"]
    );
    // The old pack is untouched; the failed run's model results sit beside it under its own name,
    // and nothing else is left behind.
    assert_eq!(fs::read(sample_workbook(&ws)).unwrap(), workbook);
    assert_eq!(
        fs::read(ws.path(&format!("reports/{PERIOD}/run_results.json"))).unwrap(),
        results
    );
    let failed_id = query_strings(&db, &format!("SELECT {failed}"))[0].clone();
    let mut expected = pack_files.clone();
    expected.push(format!("run_results-{failed_id}.json"));
    expected.sort();
    assert_eq!(files_in(&ws.path(&format!("reports/{PERIOD}"))), expected);
    assert_eq!(
        files_in(&ws.path("notebooks-data"))
            .into_iter()
            .filter(|f| f.contains(".run-"))
            .count(),
        0
    );
}

#[test]
fn an_analyst_model_that_fails_outside_the_pack_still_publishes_the_pack() {
    let ws = Workspace::with_sample();
    fs::write(
        ws.path("sql/marts/analyst_scratch.sql"),
        "SELECT CAST('x' || investment_id AS INTEGER) AS n FROM stg_investments",
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stdout
            .contains(&format!("workbook reports/{PERIOD}/itvalue-{PERIOD}.xlsx")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(
            "error: published, but models outside what the pack needs failed: model analyst_scratch ("
        ),
        "{}",
        out.stderr
    );
    let workbook = sample_workbook(&ws);
    assert!(
        beside(&workbook, "Run Info", "Failed outside the pack")
            .starts_with("model analyst_scratch (")
    );
    let db = ws.warehouse();
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs"),
        ["partial"]
    );
    assert!(
        query_i64(
            &db,
            "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-10-01'"
        ) > 100
    );
}

#[test]
fn a_killed_run_leaves_the_warehouse_and_the_pack_as_they_were() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let before = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"]);
    let workbook = fs::read(sample_workbook(&ws)).unwrap();

    let mut child = Command::new(common::binary())
        .args(["run", "--period", PERIOD])
        .current_dir(ws.path(""))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The work copy appears once the run has started; the commit comes about a second later.
    let dir = ws.path("notebooks-data");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !files_in(&dir).iter().any(|f| f.contains(".run-")) {
        assert!(
            std::time::Instant::now() < deadline,
            "no work copy appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(
        before,
        common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"])
    );
    assert_eq!(fs::read(sample_workbook(&ws)).unwrap(), workbook);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["succeeded", "running"]
    );
    drop(db);

    // The next run cleans up and says what it found.
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["succeeded", "abandoned", "succeeded"]
    );
    let message = query_strings(
        &db,
        "SELECT message FROM ledger.runs WHERE status = 'abandoned'",
    );
    assert!(
        message[0].starts_with("found unfinished at ")
            && message[0].contains("nothing it did was published"),
        "{message:?}"
    );
    assert!(!files_in(&dir).iter().any(|f| f.contains(".run-")));
}

#[test]
fn staged_pack_files_of_a_killed_run_are_removed_and_those_of_a_committed_run_put_in_place() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let committed = query_strings(&db, "SELECT run_id FROM ledger.runs")[0].clone();
    drop(db);
    let dir = ws.path(&format!("reports/{PERIOD}"));
    let pack = files_in(&dir);
    // What kills leave: a committed run's workbook not yet renamed, an uncommitted run's staged
    // chart, and the random temporary files of older versions.
    fs::write(
        dir.join(format!(".itvalue-{committed}.extra-{PERIOD}.txt")),
        "finished",
    )
    .unwrap();
    fs::write(
        dir.join(".itvalue-20260101T000000000Z-00001.chart.png"),
        "x",
    )
    .unwrap();
    fs::write(dir.join(".itvalue-k3Jd9a"), "x").unwrap();
    fs::write(dir.join(".chart-Q81xzp.png"), "x").unwrap();

    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let mut expected = pack.clone();
    expected.push(format!("extra-{PERIOD}.txt"));
    expected.sort();
    assert_eq!(files_in(&dir), expected);
}

#[test]
fn the_default_period_is_the_last_month_that_ended_in_the_configured_zone() {
    // 23:30 UTC on 31 October 2026 is already 1 November in Berlin.
    let now = [("ITVALUE_NOW", "2026-10-31T23:30:00Z")];
    let ws = Workspace::with_sample();
    let out = ws.itvalue_with_env(&["run"], &now);
    out.assert_code(0);
    assert!(out.stdout.contains("for 2026-09\n"), "{}", out.stdout);

    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace(
            "models = \"sql\"",
            "models = \"sql\"\ntimezone = \"Europe/Berlin\"",
        ),
    )
    .unwrap();
    let out = ws.itvalue_with_env(&["run"], &now);
    out.assert_code(0);
    assert!(out.stdout.contains("for 2026-10\n"), "{}", out.stdout);
}

#[test]
fn money_figures_are_stored_as_decimal_and_incident_cost_is_exact() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let types = query_strings(
        &db,
        "SELECT column_name || ' ' || data_type FROM information_schema.columns
         WHERE table_schema = 'metrics' AND table_name = 'investment_finance'
           AND column_name IN ('actual_month', 'variance_ytd', 'budget_at_completion', 'earned_value', 'cpi')
         ORDER BY column_name",
    );
    assert_eq!(
        types,
        [
            "actual_month DECIMAL(18,2)",
            "budget_at_completion DECIMAL(18,2)",
            "cpi DOUBLE",
            "earned_value DECIMAL(18,2)",
            "variance_ytd DECIMAL(18,2)"
        ]
    );
    assert_eq!(
        query_strings(
            &db,
            "SELECT data_type FROM information_schema.columns
             WHERE table_name = 'mart_incident_impact_monthly' AND column_name = 'downtime_cost'"
        ),
        ["DECIMAL(18,2)"]
    );
    // Recomputed here from the raw rows in integer cents: seconds × cents per minute / 60,
    // rounded half up.
    let rows: Vec<(String, String, String, String)> = {
        let mut statement = db
            .prepare(
                "SELECT m.incident_id, strftime(i.impact_start, '%Y-%m-%d %H:%M:%S.%g'),
                        strftime(i.impact_end, '%Y-%m-%d %H:%M:%S.%g'), CAST(a.downtime_cost_per_minute AS VARCHAR)
                 FROM mart_incident_impact_monthly m
                 JOIN raw.incidents i USING (incident_id)
                 JOIN raw.applications a ON a.application_id = i.application_id
                 WHERE date_trunc('month', i.impact_start) = date_trunc('month', i.impact_end)
                   AND i.impact_start IS NOT NULL AND NOT m.impact_open
                 ORDER BY m.incident_id LIMIT 50",
            )
            .unwrap();
        statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(rows.len(), 50);
    for (incident, start, end, per_minute) in rows {
        let at =
            |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        let seconds = (at(&end) - at(&start)).num_seconds() as i128;
        let cents: i128 = per_minute.replace('.', "").parse().unwrap();
        let expected = (seconds * cents + 30) / 60;
        let stored = query_strings(
            &db,
            &format!(
                "SELECT CAST(downtime_cost AS VARCHAR) FROM mart_incident_impact_monthly WHERE incident_id = '{incident}'"
            ),
        );
        assert_eq!(
            stored,
            [format!("{}.{:02}", expected / 100, expected % 100)],
            "{incident}"
        );
    }
}

#[test]
fn a_glob_match_that_cannot_be_read_is_an_error_naming_it() {
    let ws = csv_workspace(&[], "");
    fs::write(
        ws.path("costs-2026-01.csv"),
        "investment_id,period,scenario,amount\nINV-1,2026-01,actual,10.00\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(ws.path("gone.csv"), ws.path("costs-2026-02.csv")).unwrap();
    let mut config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    config.push_str("\n[[source]]\nname = \"costs\"\nentity = \"costs\"\npath = \"costs-*.csv\"\n");
    fs::write(ws.path("pipeline.toml"), config).unwrap();
    let out = ws.itvalue(&["check"]);
    out.assert_code(66);
    assert!(
        out.stderr
            .contains("error: input costs-2026-02.csv: matched by costs-*.csv but cannot be read: No such file or directory"),
        "{}",
        out.stderr
    );
}

const APPLICATIONS: &str = "application_id,name,downtime_cost_per_minute\nAPP-1,Payments,12.50\n";

#[test]
fn an_incident_whose_impact_ends_before_it_starts_is_a_reject_naming_both_cells() {
    let ws = csv_workspace(
        &[
            ("applications", APPLICATIONS),
            (
                "incidents",
                "incident_id,application_id,severity,opened_at,impact_start,impact_end\n\
                 INC-1,APP-1,2,2026-10-03 11:55,2026-10-03 12:00,2026-10-03 13:00\n\
                 INC-2,APP-1,2,2026-10-03 11:55,2026-10-03 12:00,2026-10-03 10:00\n",
            ),
        ],
        "",
    );
    let out = ws.itvalue(&["check"]);
    out.assert_code(65);
    assert!(
        out.stdout.contains(
            "incidents.csv!F3  impact_end = \"2026-10-03 10:00\": impact_end 2026-10-03 10:00:00 is before impact_start 2026-10-03 12:00:00 (at incidents.csv!E3): business impact cannot end before it starts"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn an_open_impact_counts_to_the_end_of_the_period_and_is_marked_open() {
    let ws = csv_workspace(
        &[
            ("applications", APPLICATIONS),
            (
                "incidents",
                "incident_id,application_id,severity,opened_at,impact_start,impact_end\n\
                 INC-OPEN,APP-1,1,2026-10-31 22:00,2026-10-31 22:00,\n\
                 INC-DONE,APP-1,3,2026-10-10 08:00,2026-10-10 08:00,2026-10-10 08:30\n",
            ),
        ],
        "",
    );
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = csv_warehouse(&ws);
    assert_eq!(
        query_strings(
            &db,
            "SELECT incident_id || ' ' || impact_minutes || ' ' || impact_open || ' ' || downtime_cost
             FROM mart_incident_impact_monthly ORDER BY incident_id"
        ),
        ["INC-DONE 30.0 false 375.00", "INC-OPEN 120.0 true 1500.00"]
    );
}

#[test]
fn a_duration_across_the_spring_clock_change_is_measured_on_instants() {
    // 01:30 to 03:30 in Berlin on 29 March 2026 is one hour: the clocks skip 02:00 to 03:00.
    let ws = csv_workspace(
        &[
            ("applications", APPLICATIONS),
            (
                "incidents",
                "incident_id,application_id,severity,opened_at,impact_start,impact_end\n\
                 INC-DST,APP-1,2,2026-03-29 01:30,2026-03-29 01:30,2026-03-29 03:30\n\
                 INC-FALL,APP-1,2,2026-10-25 01:30,2026-10-25 01:30,2026-10-25 03:30\n",
            ),
        ],
        "",
    );
    // The zone is a top-level key: it goes before the first [[source]].
    let text = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(
        ws.path("pipeline.toml"),
        text.replacen(
            "reports = \"reports\"\n",
            "reports = \"reports\"\ntimezone = \"Europe/Berlin\"\n",
            1,
        ),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", "2026-03"]).assert_code(0);
    let db = csv_warehouse(&ws);
    // 25 October: 01:30 summer time to 03:30 winter time is three hours.
    assert_eq!(
        query_strings(
            &db,
            "SELECT incident_id || ' ' || impact_minutes FROM mart_incident_impact_monthly ORDER BY incident_id"
        ),
        ["INC-DST 60.0", "INC-FALL 180.0"]
    );
}

#[test]
fn text_timestamps_with_an_offset_and_file_zones_load_as_the_instants_they_name() {
    let ws = csv_workspace(
        &[
            ("applications", APPLICATIONS),
            (
                "incidents",
                "incident_id,application_id,severity,opened_at,resolved_at,closed_at\n\
                 INC-1,APP-1,2,2022-09-11T08:51:47.000+02:00,2022-09-11T09:00:00Z,2022-09-11 12:00\n",
            ),
        ],
        "source_timezone = \"America/New_York\"\n[source.rules.opened_at]\nformats = [\"%Y-%m-%dT%H:%M:%S%.f%:z\"]\n",
    );
    ws.itvalue(&["run", "--period", "2022-09"]).assert_code(0);
    let db = csv_warehouse(&ws);
    assert_eq!(
        query_strings(
            &db,
            "SELECT opened_at || ' | ' || resolved_at || ' | ' || closed_at FROM raw.incidents"
        ),
        // The offset is honoured, RFC 3339 needs no format, and a naive time is New York's.
        ["2022-09-11 06:51:47 | 2022-09-11 09:00:00 | 2022-09-11 16:00:00"]
    );
}

const INVESTMENTS: &str = "investment_id,name,category\nINV-1,Core banking,run\n";

#[test]
fn future_foreign_currency_lines_take_the_latest_known_rate_and_run_info_counts_them() {
    let costs = "investment_id,period,scenario,amount,currency,line_id\n\
                 INV-1,2026-09,actual,100.00,USD,a\n\
                 INV-1,2026-10,actual,100.00,USD,b\n\
                 INV-1,2026-12,budget,100.00,USD,c\n\
                 INV-1,2027-01,budget,50.00,EUR,d\n";
    let fx = "currency,period,rate_to_reporting\nUSD,2026-09,0.90\nUSD,2026-10,0.95\n";
    let files = [
        ("investments", INVESTMENTS),
        ("costs", costs),
        ("fx_rates", fx),
    ];
    let ws = csv_workspace(&files, "");
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "  fx       cost lines: 2 at their month's rate, 1 in EUR, 1 at the latest known rate\n"
        ),
        "{}",
        out.stdout
    );
    let db = csv_warehouse(&ws);
    assert_eq!(
        query_strings(
            &db,
            "SELECT line_id || ' ' || amount_reporting || ' ' || fx_rule FROM stg_costs ORDER BY line_id"
        ),
        [
            "a 90.00 month",
            "b 95.00 month",
            "c 95.00 latest",
            "d 50.00 reporting"
        ]
    );
    let workbook = ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"));
    assert_eq!(
        beside(&workbook, "Run Info", "FX rates"),
        "months without a rate take the latest known rate (fx.missing_rate = \"latest\"); cost lines: 2 at their month's rate, 1 in EUR, 1 at the latest known rate"
    );
    drop(db);

    let strict = format!("{HEAD}[fx]\nmissing_rate = \"none\"\n");
    let text = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(ws.path("pipeline.toml"), text.replacen(HEAD, &strict, 1)).unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "  fx       cost lines: 2 at their month's rate, 1 in EUR, 1 without a rate (their figures are empty)\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn a_currency_that_is_not_an_iso_4217_code_is_a_reject() {
    let costs = "investment_id,period,scenario,amount,currency\n\
                 INV-1,2026-10,actual,100.00,XYZ\n\
                 INV-1,2026-09,actual,100.00,usd\n";
    let ws = csv_workspace(
        &[("investments", INVESTMENTS), ("costs", costs)],
        "max_reject_rate = 1.0\n",
    );
    let out = ws.itvalue(&["check"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "costs.csv!E2  currency = \"XYZ\": \"XYZ\" is not an ISO 4217 currency code (three letters such as EUR, USD, CNY)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("rejected values (1 in all"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_notebook_holding_the_warehouse_gives_75_naming_the_program() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let notebook = writable(&ws.path("notebooks-data/warehouse.duckdb"));
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(75);
    assert!(
        out.stderr.contains(
            "error: warehouse notebooks-data/warehouse.duckdb is open in another program ("
        ) && out.stderr.contains(&format!("PID {}", std::process::id())),
        "{}",
        out.stderr
    );
    drop(notebook);
}

#[test]
fn a_missing_mart_exits_65_naming_the_model_and_who_needs_it() {
    let ws = Workspace::with_sample();
    fs::remove_file(ws.path("sql/marts/mart_investment_monthly.sql")).unwrap();
    let tests = fs::read_to_string(ws.path("sql/marts/tests.toml")).unwrap();
    let kept: Vec<&str> = tests
        .split("[[test]]")
        .filter(|t| !t.contains("model = \"mart_investment_monthly\""))
        .collect();
    fs::write(ws.path("sql/marts/tests.toml"), kept.join("[[test]]")).unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr.contains(
            "error: model `mart_investment_monthly` is needed by the finance figures, but it is not among the models under sql"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn models_run_before_any_load_exits_66() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["models", "run", "--period", PERIOD]);
    out.assert_code(66);
    assert!(
        out.stderr
            .contains("holds no loaded data yet: run `itvalue run` first"),
        "{}",
        out.stderr
    );
}

/// The README's example of an incident audit export, as written there.
fn readme_block(starting: &str) -> String {
    let readme = fs::read_to_string(repo_path("README.md")).unwrap();
    readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .find(|b| b.starts_with(starting))
        .unwrap_or_else(|| panic!("a toml block starting {starting:?} in the README"))
}

#[test]
fn an_incident_export_alone_gives_a_pack_by_configuration_alone() {
    let ws = Workspace::empty();
    copy_sql(&ws);
    fs::create_dir_all(ws.path("exports")).unwrap();
    fs::copy(
        repo_path("tests/fixtures/servicenow_incident_export.csv"),
        ws.path("exports/incident.csv"),
    )
    .unwrap();
    fs::write(
        ws.path("pipeline.toml"),
        format!(
            "{HEAD}\n{}",
            readme_block("[[source]]\nname = \"servicenow\"")
        ),
    )
    .unwrap();
    let check = ws.itvalue(&["check"]);
    check.assert_code(0);
    assert!(
        check
            .stdout
            .contains("servicenow         incidents             300         0        1455"),
        "{}",
        check.stdout
    );
    let now = [("ITVALUE_NOW", "2026-12-01T08:00:00Z")];
    let out = ws.itvalue_with_env(&["run"], &now);
    out.assert_code(0);
    assert!(out.stdout.contains("for 2026-08\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "  left out the finance figures (metrics.investment_finance, metrics.portfolio_monthly, metrics.investment_cash_flows) and their sheets and charts: no source feeds investments or costs\n"
        ),
        "{}",
        out.stdout
    );
    let workbook = ws.path("reports/2026-08/itvalue-2026-08.xlsx");
    assert_eq!(
        sheet_names(&workbook),
        [
            "Summary",
            "Reliability",
            "Data Quality",
            "Definitions",
            "Run Info"
        ]
    );
    let db = csv_warehouse(&ws);
    // The relationship to applications, which have no source, is skipped as `check` skips it.
    assert_eq!(
        query_strings(
            &db,
            "SELECT status || ': ' || message FROM ledger.test_results
             WHERE test = 'relationships__stg_incidents__application_id'"
        ),
        ["skipped: stg_applications: no source feeds applications"]
    );
    assert_eq!(
        query_strings(
            &db,
            "SELECT status || ': ' || message FROM ledger.run_models WHERE model = 'stg_costs'"
        ),
        [
            "skipped: no source feeds benefits, costs, fx_rates; left empty so the models that read it still build"
        ]
    );
    // The export has no impact_end: each impact ends when the incident was resolved (else
    // closed), and one neither resolved nor closed is open to the end of the period. Worked out
    // here from the export itself, per incident its row with the highest sys_mod_count.
    let (minutes, open) = servicenow_impact_minutes("2026-09-01 00:00");
    assert_eq!(
        query_strings(
            &db,
            "SELECT CAST(round(sum(impact_minutes)) AS BIGINT) || ' ' || count(DISTINCT incident_id) FILTER (WHERE impact_open)
             FROM mart_incident_impact_monthly"
        ),
        [format!("{minutes} {open}")]
    );
    drop(db);
    let out = ws.itvalue(&["run", "--period", "2026-02"]);
    out.assert_code(0);
}

/// The impact minutes of the ServiceNow fixture, from each incident's latest row: opened_at to
/// resolved_at, else closed_at, else `period_end`; and how many incidents are still open.
fn servicenow_impact_minutes(period_end: &str) -> (i64, usize) {
    use std::collections::HashMap;
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%d-%m-%Y %H:%M").ok();
    let end_of_period =
        chrono::NaiveDateTime::parse_from_str(period_end, "%Y-%m-%d %H:%M").unwrap();
    let mut reader =
        csv::Reader::from_path(repo_path("tests/fixtures/servicenow_incident_export.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (number, version) = (column("number"), column("sys_mod_count"));
    let (opened, resolved, closed) = (
        column("opened_at"),
        column("resolved_at"),
        column("closed_at"),
    );
    let mut latest: HashMap<String, (i64, csv::StringRecord)> = HashMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let v: i64 = row[version].parse().unwrap();
        let entry = latest
            .entry(row[number].to_string())
            .or_insert((v, row.clone()));
        if v >= entry.0 {
            *entry = (v, row);
        }
    }
    let (mut seconds, mut open) = (0i64, 0usize);
    for (_, row) in latest.values() {
        let start = at(&row[opened]).unwrap();
        let end = match at(&row[resolved]).or_else(|| at(&row[closed])) {
            Some(end) => end,
            None => {
                open += 1;
                end_of_period
            }
        };
        seconds += (end - start).num_seconds().max(0);
    }
    ((seconds as f64 / 60.0).round() as i64, open)
}

#[test]
fn the_readmes_configuration_examples_load_as_written() {
    let readme = fs::read_to_string(repo_path("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 3, "{}", blocks.len());
    for block in blocks {
        let text = if block.contains("reporting_currency") {
            block.to_string()
        } else {
            format!("{HEAD}{block}")
        };
        itvalue::Config::parse(&text, Path::new("/tmp/pipeline.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}

#[test]
fn a_missing_models_folder_is_a_configuration_error_found_before_anything_is_read() {
    let ws = Workspace::with_sample();
    fs::rename(ws.path("sql"), ws.path("models-elsewhere")).unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("error: configuration pipeline.toml: models: the folder sql does not exist"),
        "{}",
        out.stderr
    );
    assert!(!ws.path("notebooks-data/warehouse.duckdb").exists());
}

/// An xlsx of cost lines whose investment_id cells all show one shared string of `length`
/// characters: written with a short placeholder, then the shared-string table rewritten.
fn costs_sharing_one_long_string(path: &Path, rows: usize, length: usize) {
    costs_with_shared_strings(path, rows, |xml| {
        xml.replace("SHARED-PLACEHOLDER", &"x".repeat(length))
    });
}

/// An xlsx of `rows` cost lines whose shared-string table `rewrite` changes.
fn costs_with_shared_strings(path: &Path, rows: usize, rewrite: impl Fn(&str) -> String) {
    use std::io::{Cursor, Read, Write};
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["Investment ID", "Period", "Scenario", "Amount"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=rows as u32 {
        sheet.write_string(r, 0, "SHARED-PLACEHOLDER").unwrap();
        sheet.write_string(r, 1, "2026-10").unwrap();
        sheet.write_string(r, 2, "actual").unwrap();
        sheet.write_number(r, 3, 10.0).unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        let mut content = Vec::new();
        part.read_to_end(&mut content).unwrap();
        if name == "xl/sharedStrings.xml" {
            content = rewrite(&String::from_utf8(content).unwrap()).into_bytes();
        }
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file(name, options).unwrap();
        out.write_all(&content).unwrap();
    }
    fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

/// Runs `itvalue check --show 1` on `costs.xlsx` in `ws` with its address space capped at 1 GiB.
fn check_capped(ws: &Workspace) -> (Option<i32>, String, String) {
    fs::write(
        ws.path("pipeline.toml"),
        format!(
            "{HEAD}\n[[source]]\nname = \"costs\"\nentity = \"costs\"\npath = \"costs.xlsx\"\n"
        ),
    )
    .unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1048576 && exec {} check --show 1",
            common::binary().display()
        ))
        .current_dir(ws.path(""))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_mebibyte_shared_string_in_two_thousand_cells_is_refused_by_the_text_limit_in_bounded_memory() {
    // 1.4 MB on disk; before the fix it grew the process past 24 GB. Under a 1 GiB address space
    // it must end cleanly, naming the limit it hit.
    let ws = Workspace::empty();
    fs::create_dir_all(ws.path("sql")).unwrap();
    costs_sharing_one_long_string(&ws.path("costs.xlsx"), 2_241, 1 << 20);
    let size = fs::metadata(ws.path("costs.xlsx")).unwrap().len();
    assert!(size < 1_500_000, "{size}");
    let (code, stdout, stderr) = check_capped(&ws);
    assert_eq!(code, Some(65), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: input costs.xlsx: refused: its cells expand to more than 512.0 MiB of text (limits.max_text_bytes), counting each cell that repeats a shared string"
    );
}

#[test]
fn a_long_shared_string_in_two_thousand_cells_is_rejected_with_excerpts_in_bounded_memory() {
    // 64 KiB in each of 2,241 cells is 147 MB of text, under the limit: every row is a reject,
    // and each reject keeps 80 characters and the length, not the 64 KiB.
    let ws = Workspace::empty();
    fs::create_dir_all(ws.path("sql")).unwrap();
    costs_sharing_one_long_string(&ws.path("costs.xlsx"), 2_241, 64 << 10);
    let (code, stdout, stderr) = check_capped(&ws);
    assert_eq!(code, Some(65), "{stdout}\n{stderr}");
    let first = stdout
        .lines()
        .find(|l| l.starts_with("  costs.xlsx!"))
        .unwrap_or_else(|| panic!("{stdout}\n{stderr}"));
    assert_eq!(
        first,
        format!(
            "  costs.xlsx!Sheet1!A2  investment_id = \"{}… (65,536 characters)\": the text is 65,536 characters long, over Excel's limit of 32,767 characters in a cell",
            "x".repeat(80)
        )
    );
    assert!(stdout.contains("rejected values (2241 in all"), "{stdout}");
    assert!(
        stderr.contains("source costs rejected 2241 of 2241 rows (100.00%)"),
        "{stderr}"
    );
}

#[test]
fn a_shared_string_count_past_what_the_part_holds_is_refused_before_calamine_reserves_it() {
    // Found by fuzz/fuzz_workbooks.py: calamine reserves uniqueCount strings up front, so this
    // 6 KB workbook aborted the process asking for 103 GB.
    let ws = Workspace::empty();
    fs::create_dir_all(ws.path("sql")).unwrap();
    costs_with_shared_strings(&ws.path("costs.xlsx"), 3, |xml| {
        let at = xml.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').unwrap();
        format!("{}4294967296{}", &xml[..at], &xml[end..])
    });
    let (code, stdout, stderr) = check_capped(&ws);
    assert_eq!(code, Some(65), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("error: input costs.xlsx: refused: part xl/sharedStrings.xml declares 4294967296 shared strings (uniqueCount), more than its ")
            && stderr.contains("can hold; the workbook is damaged"),
        "{stderr}"
    );
}

/// A small ods of cost lines, written by hand (nothing in the tests writes ods), its content
/// cut at `keep` bytes.
fn costs_ods(path: &Path, keep: usize) {
    use std::io::{Cursor, Write};
    let cell = |v: &str| {
        format!(
            "<table:table-cell office:value-type=\"string\"><text:p>{v}</text:p></table:table-cell>"
        )
    };
    let mut rows = String::new();
    for row in [
        ["investment_id", "period", "scenario", "amount"],
        ["INV-1", "2026-10", "actual", "10.00"],
    ] {
        rows.push_str("<table:table-row>");
        for v in row {
            rows.push_str(&cell(v));
        }
        rows.push_str("</table:table-row>");
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
         <office:body><office:spreadsheet><table:table table:name=\"Costs\">{rows}</table:table>\
         </office:spreadsheet></office:body></office:document-content>"
    );
    let content = &content.as_bytes()[..keep.min(content.len())];
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("mimetype", stored).unwrap();
    out.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    out.start_file("META-INF/manifest.xml", stored).unwrap();
    out.write_all(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest \
          xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\">\
          <manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
          <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\
          </manifest:manifest>",
    )
    .unwrap();
    out.start_file("content.xml", stored).unwrap();
    out.write_all(content).unwrap();
    fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

#[test]
fn an_ods_cut_short_is_refused_instead_of_hanging_the_reader() {
    // Found by fuzz/fuzz_workbooks.py: calamine's ods reader loops for good at the end of a
    // content.xml that stops inside a table.
    let ws = Workspace::empty();
    fs::create_dir_all(ws.path("sql")).unwrap();
    costs_ods(&ws.path("costs.ods"), 800);
    fs::write(
        ws.path("pipeline.toml"),
        format!("{HEAD}\n[[source]]\nname = \"costs\"\nentity = \"costs\"\npath = \"costs.ods\"\n"),
    )
    .unwrap();
    let out = ws.itvalue(&["check"]);
    out.assert_code(65);
    assert!(
        out.stderr.contains(
            "error: input costs.ods: cannot read it as ods: content.xml ends before its closing </office:document-content> tag"
        ),
        "{}",
        out.stderr
    );
    // The whole file reads.
    costs_ods(&ws.path("costs.ods"), usize::MAX);
    let out = ws.itvalue(&["check"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("costs              costs                   1         0"),
        "{}",
        out.stdout
    );
}

/// The pack of the sample's period as published: the run its `run_results.json` names, the run
/// its workbook's Run Info names (the two must agree, or the pack is a mixture), and its files.
fn published_pack(ws: &Workspace) -> (String, Vec<String>) {
    let dir = ws.path(&format!("reports/{PERIOD}"));
    let results: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run_results.json")).unwrap()).unwrap();
    let from_results = results["run_id"].as_str().unwrap().to_string();
    let from_workbook = beside(&sample_workbook(ws), "Run Info", "Run ID");
    assert_eq!(from_results, from_workbook, "a pack of two runs");
    (from_results, files_in(&dir))
}

/// The shipped configuration without its portfolio scenario (the last entries of the file), for
/// runs on a generated sample that lacks the investments the scenario names: there the scenario
/// would have no selection, and the run would end `partial`.
fn without_scenarios(ws: &Workspace) {
    let path = ws.path("pipeline.toml");
    let text = fs::read_to_string(&path).unwrap();
    let cut = text.find("[[scenario]]").expect("the shipped scenario");
    fs::write(path, &text[..cut]).unwrap();
}

#[test]
fn a_run_killed_at_any_moment_of_publishing_leaves_a_whole_warehouse_and_a_whole_pack() {
    for point in ["before-commit", "after-commit", "pack-exchanged"] {
        let ws = Workspace::with_sample();
        without_scenarios(&ws);
        ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
        let tables = || common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"]);
        let before = tables();
        let (first_run, _) = published_pack(&ws);
        ws.write_other_sample("notebooks-data/sample");
        let killed = ws.itvalue_with_env(
            &["run", "--period", PERIOD],
            &[("ITVALUE_FAILPOINT", point)],
        );
        assert_eq!(
            killed.code, -1,
            "{point}: stopped by a signal\n{}",
            killed.stderr
        );
        let db = ws.warehouse();
        let last = query_strings(
            &db,
            "SELECT run_id || ' ' || status FROM ledger.runs ORDER BY started_at DESC LIMIT 1",
        )[0]
        .clone();
        drop(db);
        let (killed_run, status) = last.split_once(' ').unwrap();
        let (pack_run, _) = published_pack(&ws);
        match point {
            "before-commit" => {
                assert_eq!(tables(), before, "{point}");
                assert_eq!((status, pack_run.as_str()), ("running", first_run.as_str()));
            }
            "after-commit" => {
                assert_ne!(tables(), before, "{point}");
                // The warehouse is the new run's; the pack is still wholly the old one.
                assert_eq!(
                    (status, pack_run.as_str()),
                    ("succeeded", first_run.as_str())
                );
            }
            _ => {
                assert_ne!(tables(), before, "{point}");
                assert_eq!((status, pack_run.as_str()), ("succeeded", killed_run));
            }
        }
        // The next ledgered run cleans up: a committed run's pack is swapped in, the rest removed.
        ws.itvalue(&["models", "test", "--period", PERIOD])
            .assert_code(0);
        let (pack_run, files) = published_pack(&ws);
        let expected = if point == "before-commit" {
            first_run.as_str()
        } else {
            killed_run
        };
        assert_eq!(pack_run, expected, "{point}");
        assert!(
            files.contains(&format!("itvalue-{PERIOD}.xlsx")),
            "{files:?}"
        );
        let leftovers: Vec<String> = files_in(&ws.path("reports"))
            .into_iter()
            .chain(files_in(&ws.path("notebooks-data")))
            .filter(|f| f.starts_with(".itvalue-") || f.contains(".run-"))
            .collect();
        assert!(leftovers.is_empty(), "{point}: {leftovers:?}");
    }
}
