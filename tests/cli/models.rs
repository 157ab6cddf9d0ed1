//! The model stage through the real binary: the shipped models on the sample, a failing model in
//! the middle of the graph, failing data tests, selection, incremental models, the fence, and a
//! model shown as a workbook sheet.

use std::fs;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use duckdb::Connection;

use crate::common::{self, Workspace, query_f64, query_i64, query_strings};

const PERIOD: &str = "2026-10";

fn sample_run() -> Workspace {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    ws
}

fn write(ws: &Workspace, relative: &str, text: &str) {
    let path = ws.path(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// The statuses the latest ledger run gives its models, as `model=status`.
fn latest_model_statuses(db: &Connection) -> Vec<String> {
    query_strings(
        db,
        "SELECT model || '=' || status FROM ledger.run_models
         WHERE run_id = (SELECT run_id FROM ledger.runs ORDER BY started_at DESC LIMIT 1)
         ORDER BY model",
    )
}

fn run_results(ws: &Workspace) -> serde_json::Value {
    let text = fs::read_to_string(ws.path(&format!("reports/{PERIOD}/run_results.json")))
        .expect("run_results.json written");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Every model the sample builds, as the `shipped_models` snapshot shows it: its rows, a
/// checksum of every row (equal checksums mean equal contents), its columns with their types,
/// and its first two rows in sort order. Reviewed against the raw tables with separate
/// SQL: stg_costs and stg_incidents are the raw rows less the rejects (16,655 − 2, 2,000 − 1),
/// stg_fx_rates adds a EUR rate for each of the 60 periods to the 120 loaded, stg_demand_events is
/// the 31,454 non-empty wide stage dates plus the 932 long-form events,
/// mart_deployment_incident_links the 281 failed or rolled-back deployments plus 192 incidents
/// naming one, and mart_incident_impact_monthly one row per month each impact window touches:
/// 2,049 for the 1,997 closed impacts (610,041 minutes, the same total as the raw windows) and 2
/// for the 2 still open at the end of the period (9,112 minutes up to its end). The data-quality
/// history is left out: it grows with every run by design. A change to a shipped model or to the
/// sample shows up here first.
fn shipped_models(db: &Connection) -> String {
    let mut out = String::new();
    for line in common::row_counts(db, &["main"])
        .into_iter()
        .filter(|t| !t.starts_with("main.mart_data_quality_summary="))
    {
        let (table, summary) = line.split_once('=').unwrap();
        let (rows, checksum) = summary.split_once(':').unwrap();
        let name = table.trim_start_matches("main.");
        let columns = query_strings(
            db,
            &format!(
                "SELECT column_name || ' ' || data_type FROM information_schema.columns
                 WHERE table_schema = 'main' AND table_name = '{name}' ORDER BY ordinal_position"
            ),
        );
        let sample = query_strings(
            db,
            &format!(
                "SELECT CAST(r AS VARCHAR) FROM (SELECT * FROM {table} ORDER BY ALL LIMIT 2) AS r"
            ),
        );
        out.push_str(&format!(
            "{name}: {rows} rows, checksum {checksum}\n  columns: {}\n",
            columns.join(", ")
        ));
        for row in sample {
            out.push_str(&format!("  | {row}\n"));
        }
    }
    out
}

#[test]
fn every_shipped_model_builds_on_the_sample_and_matches_its_snapshot() {
    let ws = sample_run();
    let db = ws.warehouse();
    insta::assert_snapshot!("shipped_models", shipped_models(&db));

    // The data-quality history holds one row per source of this one run.
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM mart_data_quality_summary"),
        11
    );
    // Every model and every test is in run_results.json, and all passed on the sample.
    let results = run_results(&ws);
    let models = results["models"].as_array().unwrap();
    assert_eq!(models.len(), 16);
    assert!(
        models.iter().all(|m| m["status"] == "success"),
        "{models:?}"
    );
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 36);
    let not_passed: Vec<String> = tests
        .iter()
        .filter(|t| t["status"] != "pass")
        .map(|t| format!("{} {}", t["name"], t["status"]))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:?}");
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM ledger.test_results WHERE status = 'pass'"
        ),
        36
    );
}

#[test]
fn an_incident_across_a_month_end_is_split_at_the_boundary() {
    let ws = sample_run();
    {
        let db = Connection::open(ws.path("notebooks-data/warehouse.duckdb")).unwrap();
        let rate = query_f64(
            &db,
            "SELECT downtime_cost_per_minute::DOUBLE FROM raw.applications WHERE application_id = 'APP-001'",
        );
        assert!(rate > 0.0);
        db.execute_batch(
            "INSERT INTO raw.incidents (incident_id, application_id, severity, opened_at, impact_start, impact_end)
             VALUES ('INC-SPLIT', 'APP-001', 2, TIMESTAMP '2026-09-30 23:05:00',
                     TIMESTAMP '2026-09-30 23:00:00', TIMESTAMP '2026-10-01 01:30:00')",
        )
        .unwrap();
    }
    ws.itvalue(&[
        "models",
        "run",
        "--select",
        "stg_incidents+",
        "--period",
        PERIOD,
    ])
    .assert_code(0);
    let db = ws.warehouse();
    let rate = query_f64(
        &db,
        "SELECT downtime_cost_per_minute::DOUBLE FROM raw.applications WHERE application_id = 'APP-001'",
    );
    let split = query_strings(
        &db,
        "SELECT strftime(period, '%Y-%m') || ' ' || impact_minutes || ' ' || downtime_cost
         FROM mart_incident_impact_monthly WHERE incident_id = 'INC-SPLIT' ORDER BY period",
    );
    let cost = |minutes: f64| format!("{:.2}", minutes * rate);
    assert_eq!(
        split,
        [
            format!("2026-09 60.0 {}", cost(60.0)),
            format!("2026-10 90.0 {}", cost(90.0)),
        ]
    );
    assert_eq!(
        latest_model_statuses(&db),
        [
            "mart_deployment_incident_links=success",
            "mart_incident_impact_monthly=success",
            "stg_incidents=success",
        ]
    );
}

#[test]
fn a_failing_model_keeps_its_previous_table_and_skips_only_what_is_downstream() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/marts/mart_costs_by_pool.sql",
        "SELECT cost_pool, count(*) AS lines FROM stg_costs GROUP BY cost_pool",
    );
    write(
        &ws,
        "sql/marts/mart_top_pool.sql",
        "SELECT * FROM mart_costs_by_pool ORDER BY lines DESC LIMIT 1",
    );
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let before = common::row_counts(&ws.warehouse(), &["main"]);

    write(
        &ws,
        "sql/marts/mart_costs_by_pool.sql",
        "SELECT cost_pool, count(*) AS lines, sum(amount_in_eur) AS total FROM stg_costs GROUP BY cost_pool",
    );
    // Nothing in the pack reads either model, so the run publishes and still exits 65.
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr
            .contains("error: published, but models outside what the pack needs failed: model mart_costs_by_pool (")
            && out.stderr.contains("mart_costs_by_pool.sql): Binder Error")
            && out.stderr.contains("amount_in_eur")
            && out.stderr.contains(
                "mart_top_pool.sql): upstream model mart_costs_by_pool did not build or failed a test"
            ),
        "{}",
        out.stderr
    );
    let db = ws.warehouse();
    let statuses = latest_model_statuses(&db);
    assert!(
        statuses.contains(&"mart_costs_by_pool=error".to_string()),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&"mart_top_pool=skipped".to_string()),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| s.ends_with("=success")).count(),
        16,
        "{statuses:?}"
    );
    // Both tables are as the good run left them, and nothing half-built is left behind.
    let pick = |counts: Vec<String>| -> Vec<String> {
        counts
            .into_iter()
            .filter(|t| t.contains("mart_costs_by_pool") || t.contains("mart_top_pool"))
            .collect()
    };
    let after = common::row_counts(&db, &["main"]);
    assert_eq!(pick(before), pick(after.clone()));
    assert!(
        !after.iter().any(|t| t.contains("__itvalue_building__")),
        "{after:?}"
    );
    let results = run_results(&ws);
    let status = |name: &str| {
        results["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status("mart_costs_by_pool").as_deref(), Some("error"));
    assert_eq!(status("mart_top_pool").as_deref(), Some("skipped"));
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["succeeded", "partial"]
    );
}

#[test]
fn a_failing_error_test_fails_the_run_keeps_its_rows_and_skips_downstream() {
    // A good run first: the failed run publishes nothing, so what it would have built is this.
    let ws = sample_run();
    write(
        &ws,
        "sql/checks/tests.toml",
        r#"
[[test]]
model = "stg_fx_rates"
type = "row_count"
max = 10

[[test]]
model = "stg_deployments"
type = "accepted_values"
column = "strategy"
values = ["canary", "rolling"]
severity = "warn"
"#,
    );
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr.contains("test row_count__stg_fx_rates on stg_fx_rates: 1 failing rows, over the 0 allowed; see test_failures.row_count__stg_fx_rates"),
        "{}",
        out.stderr
    );
    let db = ws.warehouse();
    let statuses = latest_model_statuses(&db);
    for skipped in ["stg_costs", "stg_benefits", "mart_investment_monthly"] {
        assert!(
            statuses.contains(&format!("{skipped}=skipped")),
            "{skipped}: {statuses:?}"
        );
    }
    assert!(statuses.contains(&"stg_incidents=success".to_string()));
    let fx_rows = query_i64(&db, "SELECT count(*) FROM stg_fx_rates");
    assert_eq!(
        query_i64(
            &db,
            "SELECT row_count FROM test_failures.row_count__stg_fx_rates"
        ),
        fx_rows
    );
    // The warning counts the deployments outside the two accepted strategies.
    let outside = query_i64(
        &db,
        "SELECT count(*) FROM stg_deployments WHERE strategy NOT IN ('canary', 'rolling')",
    );
    assert!(outside > 0);
    assert_eq!(
        query_strings(
            &db,
            "SELECT status || ' ' || failures FROM ledger.test_results
             WHERE test = 'accepted_values__stg_deployments__strategy'"
        ),
        [format!("warn {outside}")]
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM test_failures.accepted_values__stg_deployments__strategy"
        ),
        outside
    );
}

#[test]
fn select_builds_the_model_and_what_is_downstream_only() {
    let ws = sample_run();
    let out = ws.itvalue(&["models", "run", "--select", "stg_costs+"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("for {PERIOD}")),
        "{}",
        out.stdout
    );
    let db = ws.warehouse();
    assert_eq!(
        latest_model_statuses(&db),
        ["mart_investment_monthly=success", "stg_costs=success"]
    );
    assert_eq!(
        query_strings(&db, "SELECT command FROM ledger.runs ORDER BY started_at"),
        ["run", "models run"]
    );
    drop(db);
    let out = ws.itvalue(&["models", "run", "--select", "stg_cost+"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "--select stg_cost+: no model is named `stg_cost`; did you mean `stg_costs`?"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn models_test_runs_the_tests_without_building() {
    let ws = sample_run();
    let out = ws.itvalue(&["models", "test", "--select", "stg_incidents"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("tests    4 of 4 passed"),
        "{}",
        out.stdout
    );
    let db = ws.warehouse();
    assert!(latest_model_statuses(&db).is_empty());
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM ledger.test_results WHERE run_id = (SELECT run_id FROM ledger.runs ORDER BY started_at DESC LIMIT 1)"
        ),
        4
    );
}

#[test]
fn an_incremental_model_replaces_only_the_period_it_runs_for() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/marts/mart_cost_lines_monthly.sql",
        "-- materialized: incremental\n\
         SELECT period, count(*) AS lines, getvariable('run_id') AS built_by FROM stg_costs GROUP BY period",
    );
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    let db = ws.warehouse();
    let first_run = query_strings(&db, "SELECT run_id FROM ledger.runs")[0].clone();
    let months = query_i64(&db, "SELECT count(DISTINCT period) FROM stg_costs");
    drop(db);

    ws.itvalue(&[
        "models",
        "run",
        "--select",
        "mart_cost_lines_monthly",
        "--period",
        PERIOD,
    ])
    .assert_code(0);
    let db = ws.warehouse();
    let second_run =
        query_strings(&db, "SELECT run_id FROM ledger.runs ORDER BY started_at")[1].clone();
    assert_eq!(
        query_strings(
            &db,
            "SELECT DISTINCT built_by FROM mart_cost_lines_monthly WHERE period = DATE '2026-10-01'"
        ),
        [second_run]
    );
    assert_eq!(
        query_i64(
            &db,
            &format!("SELECT count(*) FROM mart_cost_lines_monthly WHERE built_by = '{first_run}'")
        ),
        months - 1
    );
    assert_eq!(
        query_strings(
            &db,
            "SELECT materialized || ' ' || rows FROM ledger.run_models WHERE model = 'mart_cost_lines_monthly' ORDER BY rows DESC"
        ),
        [format!("incremental {months}"), "incremental 1".to_string()]
    );
}

#[test]
fn fenced_models_cannot_read_files() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/marts/mart_passwd.sql",
        "SELECT * FROM read_csv('/etc/passwd')",
    );
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr.contains("model mart_passwd (") && out.stderr.contains("Permission Error"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("root:"), "{}", out.stderr);
}

#[test]
fn a_configured_model_sheet_shows_the_period_rows_in_order() {
    let ws = sample_run();
    let workbook = ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"));
    let mut book: Xlsx<_> = open_workbook(&workbook).unwrap();
    let range = book.worksheet_range("Incident Impact").unwrap();
    let headers = common::row_texts(&range, 2);
    assert_eq!(
        headers,
        [
            "Incident",
            "Application",
            "Investment",
            "severity",
            "period",
            "Impact (minutes)",
            "Impact open",
            "Impact end from",
            "Downtime cost"
        ]
    );
    let db = ws.warehouse();
    let rows = query_i64(
        &db,
        "SELECT count(*) FROM mart_incident_impact_monthly WHERE period = DATE '2026-10-01'",
    );
    assert!(rows > 10, "{rows}");
    assert_eq!(range.height() as i64 - 3, rows);
    let top = query_strings(
        &db,
        "SELECT incident_id FROM mart_incident_impact_monthly WHERE period = DATE '2026-10-01'
         ORDER BY impact_minutes DESC, incident_id LIMIT 1",
    );
    let first = range.rows().nth(3).unwrap();
    assert_eq!(first[0], Data::String(top[0].clone()));
    let minutes = query_f64(
        &db,
        &format!(
            "SELECT impact_minutes FROM mart_incident_impact_monthly WHERE incident_id = '{}' AND period = DATE '2026-10-01'",
            top[0]
        ),
    );
    assert_eq!(first[5].as_f64(), Some(minutes));
}

#[test]
fn a_sheet_naming_an_unknown_model_or_column_exits_2() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace(
            "impact_minutes = \"Impact (minutes)\"",
            "impact_minute = \"Impact (minutes)\"",
        ),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("sheet[0] (Incident Impact): headers.impact_minute: model mart_incident_impact_monthly has no column `impact_minute`; its columns are: incident_id, application_id, investment_id, severity, period, impact_minutes, impact_open, impact_end_from, downtime_cost"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_cycle_exits_2_naming_the_files() {
    let ws = Workspace::with_sample();
    write(&ws, "sql/marts/mart_a.sql", "SELECT * FROM mart_b");
    write(&ws, "sql/marts/mart_b.sql", "SELECT * FROM mart_a");
    let out = ws.itvalue(&["models", "list"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("these models depend on each other in a cycle: mart_a (")
            && out.stderr.contains("sql/marts/mart_b.sql)"),
        "{}",
        out.stderr
    );
}

#[test]
fn models_list_and_graph_show_the_shipped_lineage() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["models", "list"]);
    out.assert_code(0);
    assert_eq!(out.stdout, MODELS_LIST);
    let out = ws.itvalue(&["models", "graph", "--format", "dot"]);
    out.assert_code(0);
    for edge in [
        "\"raw.costs\" -> \"stg_costs\";",
        "\"stg_fx_rates\" -> \"stg_costs\";",
        "\"stg_costs\" -> \"mart_investment_monthly\";",
        "\"ledger.data_quality\" -> \"mart_data_quality_summary\";",
    ] {
        assert!(out.stdout.contains(edge), "{edge}\n{}", out.stdout);
    }
    let out = ws.itvalue(&["models", "graph"]);
    out.assert_code(0);
    assert!(out.stdout.starts_with("flowchart LR\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("    raw_costs --> stg_costs\n"),
        "{}",
        out.stdout
    );
}

/// What `itvalue models list` prints for the shipped models.
const MODELS_LIST: &str = concat!(
    "model                              materialized tests  reads\n",
    "mart_data_quality_summary          table            2  ledger.data_quality, ledger.runs\n",
    "stg_applications                   table            2  raw.applications\n",
    "stg_demand_events                  table            2  raw.demand_events, raw.demands\n",
    "stg_demands                        table            1  raw.demands\n",
    "stg_deployments                    table            3  raw.deployments\n",
    "stg_fx_rates                       table            1  raw.benefits, raw.costs, raw.fx_rates\n",
    "stg_incidents                      table            4  raw.incidents\n",
    "stg_investments                    table            2  raw.investments\n",
    "stg_progress                       table            2  raw.progress\n",
    "stg_slo_measurements               table            1  raw.slo_measurements\n",
    "mart_demand_stage_intervals        table            2  stg_demand_events, stg_demands\n",
    "mart_deployment_incident_links     table            2  stg_deployments, stg_incidents\n",
    "mart_incident_impact_monthly       table            3  stg_applications, stg_incidents\n",
    "stg_benefits                       table            2  stg_fx_rates, raw.benefits\n",
    "stg_costs                          table            4  stg_fx_rates, raw.costs\n",
    "mart_investment_monthly            table            3  stg_benefits, stg_costs\n",
);

#[test]
fn a_sheet_filter_cannot_run_a_second_statement() {
    let ws = sample_run();
    let before = common::row_counts(&ws.warehouse(), &["raw"]);
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace(
            "where = \"period = getvariable('period')\"",
            "where = \"true; DELETE FROM raw.costs; SELECT 1\"",
        ),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("sheet[0] (Incident Impact): where / order_by must keep it one SELECT"),
        "{}",
        out.stderr
    );
    assert_eq!(before, common::row_counts(&ws.warehouse(), &["raw"]));
}

#[test]
fn configuration_can_make_a_model_a_view() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!("{text}\n[model.stg_demands]\nmaterialized = \"view\"\n"),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'stg_demands'"
        ),
        ["VIEW"]
    );
    assert_eq!(query_i64(&db, "SELECT count(*) FROM stg_demands"), 5000);
}

/// The fenced block of `language` that follows `heading` in the analyst guide.
fn guide_block(heading: &str, language: &str) -> String {
    let guide = fs::read_to_string(common::repo_path("docs/analyst-guide.md")).unwrap();
    let section = &guide[guide.find(heading).expect(heading)..];
    let fence = format!("```{language}\n");
    let start = section.find(&fence).expect(&fence) + fence.len();
    section[start..start + section[start..].find("```").unwrap()].to_string()
}

#[test]
fn the_analyst_guide_example_runs_in_order_tested_and_as_a_sheet() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/marts/mart_open_incidents.sql",
        &guide_block("## A model is one SELECT", "sql"),
    );
    write(
        &ws,
        "sql/marts/guide/tests.toml",
        &guide_block("## Data tests", "toml"),
    );
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!(
            "{text}\n{}",
            guide_block("## A model as a workbook sheet", "toml")
        ),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT status || ' ' || count(*) FROM ledger.test_results WHERE model = 'mart_open_incidents' GROUP BY status"
        ),
        ["pass 3"]
    );
    let rows = query_i64(
        &db,
        "SELECT count(*) FROM mart_open_incidents WHERE open_incidents > 0",
    );
    assert!(rows > 0);
    let mut book: Xlsx<_> =
        open_workbook(ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"))).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Summary",
            "Portfolio",
            "Cash Flows",
            "Monthly",
            "Budget 2027",
            "Value Stream",
            "Delivery",
            "Reliability",
            "Incident Impact",
            "Open Incidents",
            "Data Quality",
            "Definitions",
            "Run Info"
        ]
    );
    let range = book.worksheet_range("Open Incidents").unwrap();
    assert_eq!(range.height() as i64 - 3, rows);
    assert_eq!(
        range.rows().nth(2).unwrap()[0],
        Data::String("Application".into())
    );
}

#[test]
fn a_model_reading_the_figures_runs_after_them_and_reads_this_runs() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/reports/report_overruns.sql",
        "SELECT investment_id, variance_ytd, period FROM metrics.investment_finance \
         WHERE period = getvariable('period') AND variance_ytd > 0",
    );
    // On a fresh warehouse the model could not run before the figures: metrics.* is not there.
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT DISTINCT strftime(period, '%Y-%m') FROM report_overruns"
        ),
        [PERIOD]
    );
    assert_eq!(
        query_i64(&db, "SELECT count(*) FROM report_overruns"),
        query_i64(
            &db,
            "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-10-01' AND variance_ytd > 0"
        )
    );
    let steps = query_strings(
        &db,
        "SELECT step FROM ledger.run_steps WHERE run_id = (SELECT max(run_id) FROM ledger.runs) ORDER BY started_at, rowid",
    );
    assert_eq!(
        steps,
        [
            "ingest",
            "load",
            "models",
            "metrics",
            "restatements",
            "models after the figures",
            "model sheets",
            "report",
            "extracts"
        ]
    );
}

#[test]
fn figures_that_would_read_a_model_of_the_figures_are_refused() {
    let ws = Workspace::with_sample();
    write(
        &ws,
        "sql/staging/stg_progress.sql",
        "SELECT p.investment_id, p.period, p.percent_complete FROM raw.progress AS p \
         WHERE p.investment_id NOT IN (SELECT investment_id FROM metrics.investment_finance)",
    );
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "error: models: the finance figures need model `stg_progress` (sql/staging/stg_progress.sql), but it reads metrics.* (itself or through metrics.investment_finance), so it runs after the figures are computed"
        ),
        "{}",
        out.stderr
    );
}
