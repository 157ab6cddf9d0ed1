//! Operations: scheduled runs with catch-up, concurrent and killed schedulers, backfill, rerun
//! idempotency, reuse of unchanged inputs, run history and restatement diffs, each on the real
//! binary in a temporary copy of the sample. "Now" is pinned with ITVALUE_NOW.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Reader, open_workbook_auto};

use crate::common::{self, Workspace, query_i64, query_strings};

/// The shipped sample's configuration with a `[[schedule]]` job appended.
fn with_job(ws: &Workspace, job: &str) {
    let mut config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    config.push_str(&format!("\n[[schedule]]\n{job}\n"));
    fs::write(ws.path("pipeline.toml"), config).unwrap();
}

fn schedule_once(ws: &Workspace, now: &str) -> common::Outcome {
    ws.itvalue_with_env(&["schedule", "--once"], &[("ITVALUE_NOW", now)])
}

/// `job period due status` of every scheduled run, oldest first.
fn scheduled_runs(ws: &Workspace) -> Vec<String> {
    query_strings(
        &ws.warehouse(),
        "SELECT job || ' ' || strftime(period, '%Y-%m') || ' ' || strftime(due_at, '%Y-%m-%d %H:%M') || ' ' || status
         FROM ledger.runs WHERE job IS NOT NULL ORDER BY started_at",
    )
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until a run's work copy appears beside the warehouse: the run holds the lock by then.
fn wait_for_work_copy(ws: &Workspace) {
    let dir = ws.path("notebooks-data");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !files_in(&dir).iter().any(|f| f.contains(".run-")) {
        assert!(Instant::now() < deadline, "no work copy appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn(ws: &Workspace, args: &[&str], now: &str) -> std::process::Child {
    Command::new(common::binary())
        .args(args)
        .current_dir(ws.path(""))
        .env("ITVALUE_NOW", now)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_machine_off_for_two_months_catches_up_each_missed_period_once_in_order() {
    let ws = Workspace::with_sample();
    // Due on the 1st and the 15th: twice per period.
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 1,15 * *\"");

    // A job that has never run takes only its latest due time.
    let out = schedule_once(&ws, "2026-09-15T07:00:00Z");
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("job pack due 2026-09-15 06:00 UTC for 2026-08:"),
        "{}",
        out.stdout
    );
    assert_eq!(
        scheduled_runs(&ws),
        ["pack 2026-08 2026-09-15 06:00 succeeded"]
    );

    // Off from the 16th of September to the 20th of November: four due times, two periods.
    let out = schedule_once(&ws, "2026-11-20T09:00:00Z");
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("schedule: 2 runs, 2 published, 0 failed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        scheduled_runs(&ws),
        [
            "pack 2026-08 2026-09-15 06:00 succeeded",
            "pack 2026-09 2026-10-15 06:00 succeeded",
            "pack 2026-10 2026-11-15 06:00 succeeded",
        ]
    );
    for period in ["2026-08", "2026-09", "2026-10"] {
        assert!(
            ws.path(&format!("reports/{period}/itvalue-{period}.xlsx"))
                .exists(),
            "{period}"
        );
    }

    // Nothing more is due until the 1st of December.
    let out = schedule_once(&ws, "2026-11-30T23:00:00Z");
    out.assert_code(0);
    assert!(
        out.stdout.contains("schedule: nothing is due"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("next     pack at 2026-12-01 06:00 UTC"),
        "{}",
        out.stdout
    );
    assert_eq!(scheduled_runs(&ws).len(), 3);
}

#[test]
fn two_concurrent_schedule_once_calls_run_the_due_period_once() {
    let ws = Workspace::with_sample();
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 * *\"");
    let now = "2026-11-02T06:30:00Z";
    let first = spawn(&ws, &["schedule", "--once"], now);
    wait_for_work_copy(&ws);
    let second = schedule_once(&ws, now);
    second.assert_code(75);
    assert!(
        second.stderr.contains("another run holds the lock")
            && second
                .stderr
                .contains("the due jobs wait for the next check"),
        "{}",
        second.stderr
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        scheduled_runs(&ws),
        ["pack 2026-10 2026-11-02 06:00 succeeded"]
    );
    // Once the first has finished, the period is done: nothing runs twice.
    let again = schedule_once(&ws, now);
    again.assert_code(0);
    assert!(again.stdout.contains("nothing is due"), "{}", again.stdout);
    assert_eq!(scheduled_runs(&ws).len(), 1);
}

#[test]
fn a_scheduled_run_killed_with_sigkill_frees_the_lock_keeps_the_last_commit_and_is_run_again() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    let committed = common::row_counts(&ws.warehouse(), &["raw", "main", "metrics", "reported"]);
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 * *\"");
    let now = "2026-11-02T06:30:00Z";
    let mut child = spawn(&ws, &["schedule", "--once"], now);
    wait_for_work_copy(&ws);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The warehouse is as the last committed run left it; the killed run is recorded as running.
    assert_eq!(
        common::row_counts(&ws.warehouse(), &["raw", "main", "metrics", "reported"]),
        committed
    );
    assert_eq!(
        scheduled_runs(&ws),
        ["pack 2026-10 2026-11-02 06:00 running"]
    );
    // The lock went with the process: the next check takes it, marks the killed run abandoned
    // and runs its due time again.
    let out = schedule_once(&ws, now);
    out.assert_code(0);
    assert_eq!(
        scheduled_runs(&ws),
        [
            "pack 2026-10 2026-11-02 06:00 abandoned",
            "pack 2026-10 2026-11-02 06:00 succeeded",
        ]
    );
    assert!(
        !files_in(&ws.path("notebooks-data"))
            .iter()
            .any(|f| f.contains(".run-"))
    );
}

#[test]
fn the_foreground_scheduler_runs_a_job_when_it_falls_due_and_stops_on_sigterm() {
    let ws = Workspace::with_sample();
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 * *\"");
    // The clock starts two seconds before a due time, with nothing run before: the first pass
    // runs the latest due time (1 October, for September), then the next falls due.
    let child = spawn(&ws, &["schedule"], "2026-11-02T05:59:58Z");
    let pack = ws.path("reports/2026-10/itvalue-2026-10.xlsx");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !pack.exists() {
        assert!(Instant::now() < deadline, "the due run did not happen");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the run finish publishing (the lock is free when it has), then ask it to stop.
    let lock = ws.path("notebooks-data/warehouse.duckdb.lock");
    loop {
        let file = fs::OpenOptions::new().read(true).open(&lock).unwrap();
        if file.try_lock().is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("schedule: waiting for pack at 2026-11-02 06:00 UTC"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("stopped"), "{stdout}");
    assert_eq!(
        scheduled_runs(&ws),
        [
            "pack 2026-09 2026-10-02 06:00 succeeded",
            "pack 2026-10 2026-11-02 06:00 succeeded",
        ]
    );
}

#[test]
fn crontab_and_systemd_units_run_schedule_once_for_this_configuration() {
    let ws = Workspace::with_sample();
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 * *\"");
    let config = fs::canonicalize(ws.path("pipeline.toml")).unwrap();
    let out = ws.itvalue(&["schedule", "--print-crontab"]);
    out.assert_code(0);
    let line = out.stdout.lines().last().unwrap();
    assert!(line.starts_with("*/15 * * * * cd "), "{line}");
    assert!(
        line.ends_with(&format!(
            " --config {} --quiet schedule --once",
            config.display()
        )),
        "{line}"
    );
    assert!(
        out.stdout.contains("pack \"0 6 2 * *\" (in UTC)"),
        "{}",
        out.stdout
    );
    let out = ws.itvalue(&["schedule", "--print-systemd"]);
    out.assert_code(0);
    for expected in [
        "[Service]\nType=oneshot\n",
        &format!("--config {} schedule --once\n", config.display()),
        "[Timer]\nOnCalendar=*:0/15\nPersistent=true\n",
        "WantedBy=timers.target\n",
    ] {
        assert!(out.stdout.contains(expected), "{expected}\n{}", out.stdout);
    }
    // Without a job, schedule says so instead of waiting for nothing.
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["schedule", "--once"]);
    out.assert_code(2);
    assert!(out.stderr.contains("no [[schedule]] job"), "{}", out.stderr);
}

#[test]
fn a_schedule_with_a_bad_cron_expression_is_a_configuration_error_naming_the_job() {
    let ws = Workspace::with_sample();
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 *\"");
    let out = ws.itvalue(&["schedule", "--once"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("schedule[0] (pack): cron = \"0 6 2 *\" is not a cron expression"),
        "{}",
        out.stderr
    );
}

/// A model the sample's pack needs (through a sheet) that fails for September only.
fn fragile_september(ws: &Workspace) {
    fs::write(
        ws.path("sql/marts/fragile.sql"),
        "SELECT 1 AS x WHERE CASE WHEN getvariable('period') = DATE '2026-09-01' THEN error('September is not ready') ELSE true END\n",
    )
    .unwrap();
    let mut config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    config.push_str("\n[[sheet]]\nmodel = \"fragile\"\ntitle = \"Fragile\"\n");
    fs::write(ws.path("pipeline.toml"), config).unwrap();
}

#[test]
fn a_backfill_runs_each_period_in_order_and_stops_at_the_one_that_fails_keeping_those_before() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run", "--from", "2026-07", "--to", "2026-09"]);
    out.assert_code(0);
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT strftime(period, '%Y-%m') || ' ' || status FROM ledger.runs ORDER BY started_at"
        ),
        [
            "2026-07 succeeded",
            "2026-08 succeeded",
            "2026-09 succeeded"
        ]
    );
    // The later periods reused every input the first one read.
    assert_eq!(
        query_strings(
            &db,
            "SELECT strftime(r.period, '%Y-%m') || ' ' || count(i.reused_from) || '/' || count(*)
             FROM ledger.runs r JOIN ledger.run_inputs i USING (run_id)
             GROUP BY r.period, r.started_at ORDER BY r.started_at"
        ),
        ["2026-07 0/11", "2026-08 11/11", "2026-09 11/11"]
    );
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(DISTINCT period) FROM metrics.investment_finance"
        ),
        3
    );
    drop(db);
    assert!(
        out.stdout
            .contains("backfill: 3 of 3 periods published (2026-07 … 2026-09)"),
        "{}",
        out.stdout
    );

    // September fails: August stays published, October is not run, exit 65 names September.
    let ws = Workspace::with_sample();
    fragile_september(&ws);
    let out = ws.itvalue(&["run", "--from", "2026-08", "--to", "2026-10"]);
    out.assert_code(65);
    assert!(
        out.stderr.contains("period 2026-09 failed (exit 65):")
            && out.stderr.contains("September is not ready"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("  failed   2026-09 (exit 65)")
            && out.stdout.contains("not run: 2026-10"),
        "{}",
        out.stdout
    );
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT strftime(period, '%Y-%m') || ' ' || status || ' ' || exit_code FROM ledger.runs ORDER BY started_at"
        ),
        ["2026-08 succeeded 0", "2026-09 failed 65"]
    );
    assert!(ws.path("reports/2026-08/itvalue-2026-08.xlsx").exists());
    assert!(!ws.path("reports/2026-10").exists());
}

#[test]
fn a_rerun_of_a_period_replaces_exactly_that_period_and_changes_nothing_else() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--from", "2026-09", "--to", "2026-10"])
        .assert_code(0);
    // The models in main.* are the latest run's view (as of its period); what a period owns is
    // its rows of metrics.* and its pack.
    let tables = |ws: &Workspace| common::row_counts(&ws.warehouse(), &["raw", "metrics"]);
    let before = tables(&ws);
    let workbook = |period: &str| {
        let path = ws.path(&format!("reports/{period}/itvalue-{period}.xlsx"));
        let mut book = open_workbook_auto(&path).unwrap();
        let names = book.sheet_names().to_vec();
        names
            .iter()
            // Run Info names the run, and Data Quality shows the scores of every run so far.
            .filter(|n| *n != "Run Info" && *n != "Data Quality")
            .map(|n| {
                format!(
                    "{n}: {:?}",
                    book.worksheet_range(n).unwrap().rows().collect::<Vec<_>>()
                )
            })
            .collect::<Vec<_>>()
    };
    let september = workbook("2026-09");
    let october = fs::read(ws.path("reports/2026-10/itvalue-2026-10.xlsx")).unwrap();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    assert_eq!(tables(&ws), before);
    assert_eq!(workbook("2026-09"), september);
    assert_eq!(
        fs::read(ws.path("reports/2026-10/itvalue-2026-10.xlsx")).unwrap(),
        october
    );
    let db = ws.warehouse();
    assert_eq!(
        query_strings(
            &db,
            "SELECT strftime(period, '%Y-%m') FROM ledger.runs ORDER BY started_at"
        ),
        ["2026-09", "2026-10", "2026-09"]
    );
    // The rerun restated nothing, and its Run Info says so.
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(DISTINCT run_id) FROM reported.investment_finance WHERE period = DATE '2026-09-01'"
        ),
        2
    );
    drop(db);
    let out = ws.itvalue(&["diff", "--period", "2026-09"]);
    out.assert_code(0);
    assert!(
        out.stdout.ends_with("no figure differs\n"),
        "{}",
        out.stdout
    );
}

/// `source path reused?` per input of the latest run.
fn latest_inputs(ws: &Workspace) -> Vec<String> {
    query_strings(
        &ws.warehouse(),
        "SELECT source || ' ' || CASE WHEN reused_from IS NULL THEN 'read' ELSE 'reused' END
         FROM ledger.run_inputs WHERE run_id = (SELECT max(run_id) FROM ledger.runs) ORDER BY source",
    )
}

fn reused_count(ws: &Workspace) -> usize {
    latest_inputs(ws)
        .iter()
        .filter(|i| i.ends_with("reused"))
        .count()
}

#[test]
fn unchanged_inputs_are_reused_with_their_rejects_and_a_changed_file_or_source_is_read_again() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    assert_eq!(reused_count(&ws), 0);
    let read = common::row_counts(&ws.warehouse(), &["raw"]);
    let rejects = |ws: &Workspace| {
        query_strings(
            &ws.warehouse(),
            "SELECT location || ' | ' || column_name || ' | ' || value || ' | ' || rule FROM ledger.rejects
             WHERE run_id = (SELECT max(run_id) FROM ledger.runs) ORDER BY location",
        )
    };
    let quality = |ws: &Workspace| {
        query_strings(
            &ws.warehouse(),
            "SELECT source || ' ' || rows || ' ' || rows_loaded || ' ' || rows_rejected || ' ' || completeness || ' ' || accuracy || ' ' || coalesce(CAST(integrity AS VARCHAR), '-')
             FROM ledger.data_quality WHERE run_id = (SELECT max(run_id) FROM ledger.runs) ORDER BY source",
        )
    };
    let first_quality = quality(&ws);

    // Nothing changed: every input is reused, and the load, rejects and scores are the same.
    let out = ws.itvalue(&["run", "--period", "2026-10"]);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("  reused   11 of 11 inputs unchanged since they were last typed"),
        "{}",
        out.stdout
    );
    assert_eq!(reused_count(&ws), 11);
    assert_eq!(common::row_counts(&ws.warehouse(), &["raw"]), read);
    assert_eq!(rejects(&ws), common::SAMPLE_REJECTS);
    assert_eq!(quality(&ws), first_quality);

    // One file changes: only it is read again.
    let other = ws.path("other");
    ws.write_other_sample(other.to_str().unwrap());
    fs::copy(
        other.join("fx_rates.xlsx"),
        ws.path("notebooks-data/sample/fx_rates.xlsx"),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    let inputs = latest_inputs(&ws);
    assert!(inputs.contains(&"fx_rates read".to_string()), "{inputs:?}");
    assert_eq!(reused_count(&ws), 10);

    // A source's configuration changes: its file is read again although its bytes did not.
    let config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(
        ws.path("pipeline.toml"),
        config.replace(
            "path = \"notebooks-data/sample/incidents.xlsx\"",
            "path = \"notebooks-data/sample/incidents.xlsx\"\nnull_values = [\"n/a\"]",
        ),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    let inputs = latest_inputs(&ws);
    assert!(inputs.contains(&"incidents read".to_string()), "{inputs:?}");
    assert_eq!(reused_count(&ws), 10);
    let reused = common::row_counts(&ws.warehouse(), &["raw"]);

    // A full refresh reads everything, and loads exactly what the reuse loaded.
    ws.itvalue(&["run", "--period", "2026-10", "--full-refresh"])
        .assert_code(0);
    assert_eq!(reused_count(&ws), 0);
    assert_eq!(common::row_counts(&ws.warehouse(), &["raw"]), reused);
    assert_eq!(rejects(&ws), common::SAMPLE_REJECTS);
}

#[test]
fn a_reused_file_is_judged_again_against_the_files_that_changed() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    // The orphan cost line names INV-0201, which the investments file lacks. Once the
    // investments file gains it, the unchanged costs file is reused but its line now loads.
    let orphan = "SELECT count(*) FROM raw.costs WHERE investment_id = 'INV-0201'";
    assert_eq!(query_i64(&ws.warehouse(), orphan), 0);
    let config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(
        ws.path("extra_investments.csv"),
        "investment_id,name,category\nINV-0201,Late registration,run\n",
    )
    .unwrap();
    fs::write(
        ws.path("pipeline.toml"),
        format!(
            "{config}\n[[source]]\nname = \"extra_investments\"\nentity = \"investments\"\npath = \"extra_investments.csv\"\n"
        ),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    let inputs = latest_inputs(&ws);
    assert!(inputs.contains(&"costs reused".to_string()), "{inputs:?}");
    assert_eq!(query_i64(&ws.warehouse(), orphan), 1);
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT location FROM ledger.rejects WHERE run_id = (SELECT max(run_id) FROM ledger.runs) ORDER BY location"
        ),
        ["costs.xlsx!Costs!D9276", "incidents.xlsx!Incidents!C1002"]
    );
}

#[test]
fn a_job_that_reads_only_some_sources_keeps_what_the_others_last_loaded() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    let fx = |ws: &Workspace| {
        common::row_counts(&ws.warehouse(), &["raw"])
            .into_iter()
            .find(|t| t.starts_with("raw.fx_rates="))
            .unwrap()
    };
    let before = fx(&ws);
    // The fx file changes, but a run that reads only incidents keeps the fx rates it had.
    let other = ws.path("other");
    ws.write_other_sample(other.to_str().unwrap());
    fs::copy(
        other.join("fx_rates.xlsx"),
        ws.path("notebooks-data/sample/fx_rates.xlsx"),
    )
    .unwrap();
    ws.itvalue(&["run", "--period", "2026-10", "--source", "incidents"])
        .assert_code(0);
    assert_eq!(fx(&ws), before);
    // Incidents were looked at (unchanged, so reused); fx_rates was not looked at.
    assert_eq!(reused_count(&ws), 11);
    // A run of every source reads the changed file.
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    assert_ne!(fx(&ws), before);
    assert!(latest_inputs(&ws).contains(&"fx_rates read".to_string()));
    let out = ws.itvalue(&["run", "--source", "nonesuch"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("no source is named \"nonesuch\""),
        "{}",
        out.stderr
    );
}

/// Adds a cost source `late_costs.csv`, holding only its header, to the sample's configuration;
/// returns its path and header, for tests that file late cost lines into it.
fn late_costs_source(ws: &Workspace) -> (std::path::PathBuf, &'static str) {
    let late = ws.path("late_costs.csv");
    let header = "investment_id,period,scenario,amount,currency,cost_type,cost_pool,line_id\n";
    fs::write(&late, header).unwrap();
    let config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(
        ws.path("pipeline.toml"),
        format!("{config}\n[[source]]\nname = \"late_costs\"\nentity = \"costs\"\npath = \"late_costs.csv\"\n"),
    )
    .unwrap();
    (late, header)
}

#[test]
fn a_late_cost_line_restates_an_earlier_period_and_diff_and_run_info_list_it() {
    let ws = Workspace::with_sample();
    let (late, header) = late_costs_source(&ws);
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    let db = ws.warehouse();
    let first = query_strings(&db, "SELECT run_id FROM ledger.runs")[0].clone();
    let figure = |column: &str| {
        query_strings(
            &db,
            &format!(
                "SELECT CAST({column} AS VARCHAR) FROM reported.investment_finance WHERE run_id = '{first}' AND investment_id = 'INV-0007'"
            ),
        )[0]
        .clone()
    };
    let actual_before = figure("actual_month");
    let to_date_before = figure("actual_to_date");
    drop(db);
    // A late actual line of 1,234.56 EUR for September arrives after the pack went out.
    fs::write(
        &late,
        format!("{header}INV-0007,2026-09,actual,1234.56,EUR,opex,other,LATE-0001\n"),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", "2026-09"]);
    out.assert_code(0);
    let db = ws.warehouse();
    let second = query_strings(
        &db,
        "SELECT run_id FROM ledger.runs ORDER BY started_at DESC LIMIT 1",
    )[0]
    .clone();
    drop(db);
    assert!(
        out.stdout
            .contains(&format!("figures differ from run {first}")),
        "{}",
        out.stdout
    );
    let plus = |text: &str| {
        let cents: i64 = text.replace('.', "").parse().unwrap();
        let cents = cents + 123_456;
        format!("{}.{:02}", cents / 100, cents % 100)
    };

    let out = ws.itvalue(&["diff", "--period", "2026-09", "--format", "json"]);
    out.assert_code(0);
    let diff: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(diff["before"], first.as_str());
    assert_eq!(diff["after"], second.as_str());
    let changes = diff["changes"].as_array().unwrap();
    let find = |table: &str, key: &str, figure: &str| {
        changes
            .iter()
            .find(|c| c["table"] == table && c["key"] == key && c["figure"] == figure)
            .unwrap_or_else(|| panic!("{table} {key} {figure} in {changes:?}"))
    };
    let c = find("investment_finance", "INV-0007", "actual_month");
    assert_eq!(c["change"], "changed");
    assert_eq!(c["before"], actual_before.as_str());
    assert_eq!(c["after"], plus(&actual_before).as_str());
    let c = find("investment_finance", "INV-0007", "actual_to_date");
    assert_eq!(c["after"], plus(&to_date_before).as_str());
    let c = find("investment_cash_flows", "INV-0007, 2026-09", "costs");
    assert_eq!(c["change"], "changed");
    // Other investments' own cost figures are untouched.
    assert!(
        !changes
            .iter()
            .any(|c| c["figure"] == "actual_month" && c["key"] != "INV-0007"),
        "{changes:?}"
    );

    // Text, with explicit runs, gives the same lines.
    let out = ws.itvalue(&[
        "diff", "--period", "2026-09", "--run", &first, "--run", &second,
    ]);
    out.assert_code(0);
    assert!(
        out.stdout
            .starts_with(&format!("2026-09: run {second} against run {first}\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("{} differences\n", changes.len())),
        "{}",
        out.stdout
    );

    // The workbook's Run Info lists the change.
    let mut book = open_workbook_auto(ws.path("reports/2026-09/itvalue-2026-09.xlsx")).unwrap();
    let info = book.worksheet_range("Run Info").unwrap();
    let rows: Vec<Vec<String>> = info
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(
        rows.iter().any(|r| r
            .first()
            .is_some_and(|c| c.starts_with(&format!("Restated since run {first}")))),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r.len() >= 6
            && r[0] == "investment_finance"
            && r[1] == "INV-0007"
            && r[3] == "actual_month"
            && r[4] == actual_before
            && r[5] == plus(&actual_before)),
        "{rows:?}"
    );

    // A run that did not report the period is refused by name.
    let out = ws.itvalue(&[
        "diff", "--period", "2026-09", "--run", "nonesuch", "--run", &second,
    ]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("run nonesuch did not report 2026-09"),
        "{}",
        out.stderr
    );
}

#[test]
fn history_lists_runs_and_shows_one_in_full_as_text_and_json() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["history"]);
    out.assert_code(0);
    assert_eq!(out.stdout, "no runs in the ledger yet\n");
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);
    ws.itvalue(&["run", "--period", "2026-10"]).assert_code(0);

    let out = ws.itvalue(&["history", "--format", "json"]);
    out.assert_code(0);
    let runs: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let newest = &runs[0];
    assert_eq!(newest["period"], "2026-10");
    assert_eq!(newest["command"], "run");
    assert_eq!(newest["status"], "succeeded");
    assert_eq!(newest["exit_code"], 0);
    assert_eq!(newest["inputs"], 11);
    assert_eq!(newest["inputs_reused"], 11);
    assert_eq!(runs[1]["inputs_reused"], 0);
    assert_eq!(newest["rejects"], 3);
    assert_eq!(newest["rows_loaded"], 42983);
    assert!(newest["models_built"].as_i64().unwrap() > 10);
    assert_eq!(newest["tests_passed"], newest["tests"]);
    assert!(newest["outputs"].as_i64().unwrap() >= 4);
    assert!(newest["duration_ms"].as_i64().unwrap() > 0);

    let id = newest["run_id"].as_str().unwrap();
    let out = ws.itvalue(&["history", "--run", id, "--format", "json"]);
    out.assert_code(0);
    let detail: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let first_id = runs[1]["run_id"].as_str().unwrap();
    assert!(
        detail["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["reused_from"] == first_id),
        "{}",
        detail["inputs"]
    );
    let outputs: Vec<&str> = detail["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    let images = fs::read_dir(ws.path("reports/2026-10"))
        .unwrap()
        .filter(|e| {
            let name = e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .into_owned();
            name.ends_with(".png") || name.ends_with(".svg")
        })
        .count();
    assert!(images > 0);
    let mut expected = vec!["workbook"];
    expected.extend(std::iter::repeat_n("chart", images));
    expected.push("results");
    // One Parquet extract per built mart and metric table, put in place with the pack.
    let extracts = fs::read_dir(ws.path("notebooks-data/exports/2026-10"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("parquet".as_ref()))
        .count();
    assert!(extracts > 0);
    expected.extend(std::iter::repeat_n("extract", extracts));
    assert_eq!(outputs, expected);
    let steps: Vec<&str> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "ingest",
            "load",
            "models",
            "metrics",
            "restatements",
            "model sheets",
            "report",
            "extracts"
        ]
    );
    // Each step's peak memory is kept (Linux says it): the whole sample fits in well under 1 GiB.
    for step in detail["steps"].as_array().unwrap() {
        let mib = step["peak_rss_mib"].as_i64().unwrap_or(0);
        assert!((1..1024).contains(&mib), "{step}");
    }
    assert_eq!(detail["rejects"].as_array().unwrap().len(), 3);

    let out = ws.itvalue(&["history"]);
    out.assert_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(lines[0].starts_with("run "), "{}", lines[0]);
    assert!(
        lines[1].starts_with(id) && lines[1].contains("11 (11 kept)"),
        "{}",
        lines[1]
    );
    let out = ws.itvalue(&["history", "--run", id]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("inputs (11, 11 reused):"),
        "{}",
        out.stdout
    );
    let out = ws.itvalue(&["history", "--run", "nonesuch"]);
    out.assert_code(2);
}

#[test]
fn json_logs_are_one_object_per_line_and_tell_the_run() {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run", "--period", "2026-10", "--log-format", "json"]);
    out.assert_code(0);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    for expected in ["run started", "step", "run published"] {
        assert!(messages.contains(&expected), "{messages:?}");
    }
}

#[test]
fn the_readmes_schedule_example_loads_as_written() {
    let readme = fs::read_to_string(common::repo_path("README.md")).unwrap();
    let start = readme
        .find("```toml\n[[schedule]]\n")
        .expect("the README's schedule example");
    let block = &readme[start + "```toml\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let ws = Workspace::with_sample();
    let config = fs::read_to_string(ws.path("pipeline.toml")).unwrap();
    fs::write(ws.path("pipeline.toml"), format!("{config}\n{block}")).unwrap();
    let out = ws.itvalue(&["schedule", "--print-crontab"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("monthly-pack \"0 6 2 * *\" (in UTC)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_scheduled_run_that_fails_on_its_data_exits_with_its_code_and_is_not_retried_every_check() {
    let ws = Workspace::with_sample();
    fragile_september(&ws);
    with_job(&ws, "name = \"pack\"\ncron = \"0 6 2 * *\"");
    let out = schedule_once(&ws, "2026-10-02T07:00:00Z");
    out.assert_code(65);
    assert!(
        out.stderr
            .contains("job pack due 2026-10-02 06:00 UTC for 2026-09 failed (exit 65):")
            && out.stderr.contains("September is not ready"),
        "{}",
        out.stderr
    );
    assert_eq!(
        query_strings(
            &ws.warehouse(),
            "SELECT job || ' ' || strftime(period, '%Y-%m') || ' ' || status || ' ' || exit_code FROM ledger.runs"
        ),
        ["pack 2026-09 failed 65"]
    );
    // Bad data is not mended by trying again: the due time is answered, and the next check
    // waits for the next due time (the operator reruns September by hand once it is mended).
    let out = schedule_once(&ws, "2026-10-02T07:15:00Z");
    out.assert_code(0);
    assert!(out.stdout.contains("nothing is due"), "{}", out.stdout);
    let out = schedule_once(&ws, "2026-11-02T07:00:00Z");
    out.assert_code(0);
    assert_eq!(
        scheduled_runs(&ws),
        [
            "pack 2026-09 2026-10-02 06:00 failed",
            "pack 2026-10 2026-11-02 06:00 succeeded",
        ]
    );
}

#[test]
fn a_late_file_for_reported_months_is_named_in_the_next_run_and_a_rerun_restates_them() {
    let ws = Workspace::with_sample();
    let (late, header) = late_costs_source(&ws);
    ws.itvalue(&["run", "--from", "2026-08", "--to", "2026-09"])
        .assert_code(0);
    // While the packs of August and September are out, a late August line arrives.
    fs::write(
        &late,
        format!("{header}INV-0007,2026-08,actual,500.00,EUR,opex,other,LATE-0002\n"),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", "2026-10"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "  late     late_costs.csv brings new or changed rows from 2026-08 on, into periods reported before they arrived (2026-08, 2026-09); rerun them (itvalue run --from 2026-08 --to 2026-09)"
        ),
        "{}",
        out.stdout
    );
    let mut book = open_workbook_auto(ws.path("reports/2026-10/itvalue-2026-10.xlsx")).unwrap();
    let info = book.worksheet_range("Run Info").unwrap();
    assert!(
        info.rows().any(|r| r[0] == "Late data"
            && r[1]
                .to_string()
                .starts_with("late_costs.csv brings new or changed rows from 2026-08 on")),
        "no Late data row on Run Info"
    );
    // A file unchanged since is not late again.
    let out = ws.itvalue(&["run", "--period", "2026-10"]);
    out.assert_code(0);
    assert!(!out.stdout.contains("  late "), "{}", out.stdout);
    // Rerunning the months restates them.
    let out = ws.itvalue(&["run", "--from", "2026-08", "--to", "2026-09"]);
    out.assert_code(0);
    let out = ws.itvalue(&["diff", "--period", "2026-08", "--format", "json"]);
    out.assert_code(0);
    let diff: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == "INV-0007" && c["figure"] == "actual_month"),
        "{}",
        out.stdout
    );
}
