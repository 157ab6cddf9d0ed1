//! The monthly job on a temporary copy of the shipped sample, checked against what DuckDB holds
//! and what calamine reads back from the workbook.

use std::fs;
use std::path::Path;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use crate::common::{self, Workspace, query_f64, query_i64, query_strings};

const PERIOD: &str = "2026-10";

fn sheet(workbook: &Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(workbook).expect("workbook opens");
    book.worksheet_range(name).expect("sheet exists")
}

/// The Portfolio sheet's data rows keyed by investment id (the table header is on row 3).
fn portfolio_row(range: &calamine::Range<Data>, investment: &str) -> Vec<Data> {
    range
        .rows()
        .find(|r| r.first() == Some(&Data::String(investment.to_string())))
        .unwrap_or_else(|| panic!("{investment} on the Portfolio sheet"))
        .to_vec()
}

fn header_index(range: &calamine::Range<Data>, header: &str) -> usize {
    let headers = range.rows().nth(2).expect("header row");
    headers
        .iter()
        .position(|h| h == &Data::String(header.to_string()))
        .unwrap_or_else(|| panic!("header {header}"))
}

#[test]
fn run_writes_the_workbook_and_charts_whose_figures_match_the_warehouse() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    let relative = format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx");
    assert!(
        out.stdout.contains(&format!("workbook {relative}")),
        "{}",
        out.stdout
    );
    let workbook = ws.path(&relative);

    let book: Xlsx<_> = open_workbook(&workbook).expect("workbook opens");
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
            "Data Quality",
            "Definitions",
            "Run Info"
        ]
    );

    // AC of one investment, worked out in SQL straight from the raw cost lines and FX rates,
    // independently of the models and of Polars.
    let db = ws.warehouse();
    let expected_ac = query_f64(
        &db,
        "SELECT sum(round(c.amount * coalesce(f.rate_to_reporting, 1), 2))::DOUBLE
         FROM raw.costs c LEFT JOIN raw.fx_rates f ON f.currency = c.currency AND f.period = c.period
         WHERE c.investment_id = 'INV-0002' AND c.scenario = 'actual' AND c.period <= DATE '2026-10-01'",
    );
    let portfolio = sheet(&workbook, "Portfolio");
    let row = portfolio_row(&portfolio, "INV-0002");
    let ac = row[header_index(&portfolio, "Actual to date (AC)")]
        .as_f64()
        .unwrap();
    assert!((ac - expected_ac).abs() < 0.005, "AC {ac} vs {expected_ac}");

    // The month's variance on the sheet is the warehouse's metric row.
    let variance = query_f64(
        &db,
        "SELECT variance_month::DOUBLE FROM metrics.investment_finance
         WHERE investment_id = 'INV-0002' AND period = DATE '2026-10-01'",
    );
    let on_sheet = row[header_index(&portfolio, "Variance (month)")]
        .as_f64()
        .unwrap();
    assert_eq!(on_sheet, variance);

    // Every investment the metrics hold is on the sheet, and nothing else.
    let investments = query_i64(
        &db,
        "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-10-01'",
    );
    assert_eq!(portfolio.height() as i64 - 3, investments);

    // Monthly totals reconcile to the raw actual lines of the same month.
    let monthly = sheet(&workbook, "Monthly");
    let october = monthly.rows().next_back().expect("last month");
    let actual_october = query_f64(
        &db,
        "SELECT sum(round(c.amount * coalesce(f.rate_to_reporting, 1), 2))::DOUBLE
         FROM raw.costs c LEFT JOIN raw.fx_rates f ON f.currency = c.currency AND f.period = c.period
         WHERE c.scenario = 'actual' AND c.period = DATE '2026-10-01'",
    );
    assert!((october[1].as_f64().unwrap() - actual_october).abs() < 0.005);

    for (name, magic) in [
        (format!("actual-vs-budget-{PERIOD}.png"), &b"\x89PNG"[..]),
        (format!("actual-vs-budget-{PERIOD}.svg"), &b"<svg"[..]),
    ] {
        let bytes = fs::read(ws.path(&format!("reports/{PERIOD}/{name}"))).expect("chart written");
        assert!(bytes.starts_with(magic), "{name}");
        assert!(bytes.len() > 5_000, "{name} has content");
    }
}

#[test]
fn the_sample_loads_with_exactly_its_deliberate_faults_rejected_at_their_cells() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    let db = ws.warehouse();
    let rejects = query_strings(
        &db,
        "SELECT location || ' | ' || column_name || ' | ' || value || ' | ' || rule
         FROM ledger.rejects ORDER BY location",
    );
    assert_eq!(rejects, common::SAMPLE_REJECTS);
    assert!(out.stdout.contains("3 values rejected"), "{}", out.stdout);
}

#[test]
fn rerunning_a_period_leaves_the_same_rows_and_the_same_workbook_figures() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let workbook = ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"));
    let first: Vec<_> = ["Portfolio", "Monthly", "Definitions"]
        .iter()
        .map(|s| sheet(&workbook, s))
        .collect();
    // The data-quality history mart reads the ledger, which keeps every run by design.
    let without_history = |counts: Vec<String>| -> Vec<String> {
        counts
            .into_iter()
            .filter(|t| !t.starts_with("main.mart_data_quality_summary="))
            .collect()
    };
    let before = without_history(common::row_counts(
        &ws.warehouse(),
        &["raw", "main", "metrics"],
    ));
    assert!(before.len() > 20, "{before:?}");

    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let second: Vec<_> = ["Portfolio", "Monthly", "Definitions"]
        .iter()
        .map(|s| sheet(&workbook, s))
        .collect();
    assert_eq!(first, second);
    let db = ws.warehouse();
    assert_eq!(
        before,
        without_history(common::row_counts(&db, &["raw", "main", "metrics"]))
    );
    let duplicates = query_i64(
        &db,
        "SELECT count(*) FROM (SELECT investment_id, period FROM metrics.investment_finance
         GROUP BY ALL HAVING count(*) > 1)",
    );
    assert_eq!(duplicates, 0);
    let runs = query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at");
    assert_eq!(runs, ["succeeded", "succeeded"]);
}

#[test]
fn the_period_defaults_to_the_latest_complete_month_with_actuals() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(&format!("for {PERIOD}")),
        "{}",
        out.stdout
    );
}

/// Run ids (`20261126T183319593Z-17334`) hold the time and the process id.
/// The text with run ids and the run's duration (`took     2.6 s`) masked.
fn mask_run_ids(text: &str) -> String {
    let text: String = text
        .lines()
        .map(|line| match line.strip_prefix("  took     ") {
            Some(_) => "  took     [duration]\n".to_string(),
            None => format!("{line}\n"),
        })
        .collect();
    text.split(' ')
        .map(|word| {
            let id = word.len() == 25
                && word.as_bytes()[8] == b'T'
                && word.as_bytes()[18] == b'Z'
                && word.as_bytes()[19] == b'-';
            if id { "[run id]" } else { word }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_run_summary_is_what_the_readme_shows() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run"]);
    out.assert_code(0);
    let printed = mask_run_ids(&out.stdout);
    insta::assert_snapshot!("run_summary", printed);
    let readme = fs::read_to_string(common::repo_path("README.md")).unwrap();
    let block = readme
        .split("```text\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("itvalue run "))
        .expect("the README shows a run's output");
    assert_eq!(mask_run_ids(block), printed);
}

#[test]
fn an_unknown_configuration_key_exits_2_naming_the_file_and_the_key() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace("reports = \"reports\"", "report_folder = \"reports\""),
    )
    .unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("error: configuration pipeline.toml: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("unknown field `report_folder`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_input_file_exits_66_naming_the_file() {
    let ws = Workspace::with_sample();
    fs::remove_file(ws.path("notebooks-data/sample/costs.xlsx")).unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(66);
    assert!(
        out.stderr
            .contains("error: input notebooks-data/sample/costs.xlsx: No such file or directory"),
        "{}",
        out.stderr
    );
    let db = ws.warehouse();
    let status = query_strings(&db, "SELECT status FROM ledger.runs");
    assert_eq!(status, ["failed"]);
}

#[test]
fn a_missing_sheet_exits_66_and_lists_the_sheets_there_are() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace("sheet = \"Costs\"", "sheet = \"Kosten\""),
    )
    .unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(66);
    assert!(
        out.stderr
            .contains("costs.xlsx: sheet `Kosten` not found (the workbook has: Costs)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_renamed_required_column_exits_65_naming_the_file_sheet_and_column() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace("amount = [\"金额\", \"Amount\"]", "amount = \"Betrag\""),
    )
    .unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(65);
    assert!(
        out.stderr.contains("error: input costs.xlsx!Costs: required column `amount` (looked for \"Betrag\", \"amount\") not found"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_second_run_while_one_holds_the_lock_exits_75() {
    let ws = Workspace::with_sample();
    let lock_path = ws.path("notebooks-data/warehouse.duckdb.lock");
    fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let lock = fs::File::create(&lock_path).unwrap();
    lock.try_lock().unwrap();
    let out = ws.itvalue(&["run"]);
    out.assert_code(75);
    assert!(
        out.stderr.contains("another run holds the lock"),
        "{}",
        out.stderr
    );
    drop(lock);
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let ws = Workspace::empty();
    for (dir, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        ws.itvalue(&["sample", "--scale", "0.05", "--seed", seed, "--out", dir])
            .assert_code(0);
    }
    for file in common::SAMPLE_FILES {
        let a = fs::read(ws.path(&format!("a/{file}"))).unwrap();
        let b = fs::read(ws.path(&format!("b/{file}"))).unwrap();
        assert!(a == b, "{file} differs between two runs with the same seed");
    }
    let a = fs::read(ws.path("a/costs.xlsx")).unwrap();
    let c = fs::read(ws.path("c/costs.xlsx")).unwrap();
    assert_ne!(a, c);
}

#[test]
fn the_committed_sample_is_what_the_generator_writes() {
    let ws = Workspace::empty();
    ws.itvalue(&["sample", "--scale", "1", "--seed", "42", "--out", "fresh"])
        .assert_code(0);
    for file in common::SAMPLE_FILES {
        let fresh = fs::read(ws.path(&format!("fresh/{file}"))).unwrap();
        let committed =
            fs::read(common::repo_path(&format!("notebooks-data/sample/{file}"))).unwrap();
        assert!(
            fresh == committed,
            "{file}: the committed sample is stale; regenerate it with `itvalue sample --out notebooks-data/sample`"
        );
    }
}

#[test]
fn a_source_over_its_reject_threshold_stops_the_run_before_anything_is_loaded() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let before = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics"]);

    let config = ws.path("pipeline.toml");
    let text = fs::read_to_string(&config).unwrap();
    let strict = text.replace(
        "name = \"costs\"\nentity = \"costs\"",
        "name = \"costs\"\nentity = \"costs\"\nmax_reject_rate = 0.0",
    );
    fs::write(&config, &strict).unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    assert!(
        out.stderr.contains(
            "error: too many rejected rows, nothing loaded: source costs rejected 2 of 18105 rows (0.01%), over its max_reject_rate of 0.00%"
        ),
        "{}",
        out.stderr
    );
    let db = ws.warehouse();
    assert_eq!(before, common::row_counts(&db, &["raw", "main", "metrics"]));
    let runs = query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at");
    assert_eq!(runs, ["succeeded", "failed"]);
    let kept = query_i64(
        &db,
        "SELECT count(*) FROM ledger.rejects WHERE run_id = (SELECT max(run_id) FROM ledger.runs)",
    );
    assert_eq!(kept, 3);
    let verdict = query_strings(
        &db,
        "SELECT verdict FROM ledger.data_quality WHERE source = 'costs' ORDER BY run_id",
    );
    assert_eq!(verdict, ["ok", "fail"]);
    drop(db);

    fs::write(
        &config,
        strict.replace(
            "max_reject_rate = 0.0",
            "max_reject_rate = 0.0\nover_threshold = \"warn\"",
        ),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "warning  source costs rejected 0.01% of its rows, over its max_reject_rate of 0.00%"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn check_reports_every_source_and_the_first_rejects_without_touching_the_warehouse() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["check", "--show", "2"]);
    out.assert_code(0);
    assert_eq!(out.stdout, common::SAMPLE_CHECK);
    assert!(!ws.path("notebooks-data/warehouse.duckdb").exists());
}
