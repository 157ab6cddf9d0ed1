//! The flow, delivery and reliability figures of the sample, recomputed here in SQL straight from
//! the staged rows (independently of the Polars code that made them), stored per period, and
//! shown on the Value Stream, Delivery and Reliability sheets read back with calamine.

use std::collections::BTreeMap;
use std::path::Path;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use crate::common::{Workspace, query_f64, query_i64, query_strings, row_texts};

const PERIOD: &str = "2026-10";

/// `a` and `b` agree to the two decimals the figures are shown with.
fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 0.005 + 1e-9, "{what}: {a} against {b}");
}

fn range(path: &Path, sheet: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(path).expect("workbook opens");
    book.worksheet_range(sheet).expect("sheet exists")
}

/// The rows of the first table of a family sheet (the first row whose first cell is `Level`
/// is its header), by header.
fn first_table(sheet: &calamine::Range<Data>) -> Vec<BTreeMap<String, Data>> {
    let header = sheet
        .rows()
        .position(|r| r.first().map(|c| c.to_string()) == Some("Level".into()))
        .expect("a table with a Level column");
    let headers = row_texts(sheet, header);
    sheet
        .rows()
        .skip(header + 1)
        .take_while(|row| !row.iter().all(|c| c.is_empty()))
        .map(|row| headers.iter().cloned().zip(row.iter().cloned()).collect())
        .collect()
}

/// Demand lead times in days (released − proposed, first of each) released in the period.
const LEAD_TIMES: &str = "
    WITH firsts AS (
        SELECT demand_id,
            min(entered_at) FILTER (WHERE stage = 'proposed') AS proposed,
            min(entered_at) FILTER (WHERE stage = 'released') AS released
        FROM stg_demand_events
        WHERE entered_at < TIMESTAMP '2026-11-01'
        GROUP BY demand_id
    )
    SELECT date_diff('second', proposed, released) / 86400.0 AS days
    FROM firsts
    WHERE released >= TIMESTAMP '2026-10-01' AND proposed IS NOT NULL";

/// Production deployments of the period with whether they failed by result or caused_by.
const DEPLOYMENTS: &str = "
    SELECT d.deployment_id, d.strategy,
        d.result IN ('failed', 'rolled_back') OR EXISTS (
            SELECT 1 FROM stg_incidents i
            WHERE i.caused_by_deployment_id = d.deployment_id
              AND i.opened_at < TIMESTAMP '2026-11-01') AS failed
    FROM stg_deployments d
    WHERE lower(coalesce(d.environment, 'production')) IN ('production', 'prod')
      AND d.finished_at >= TIMESTAMP '2026-10-01' AND d.finished_at < TIMESTAMP '2026-11-01'";

#[test]
fn flow_delivery_and_reliability_figures_match_sql_worked_from_the_staged_rows() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let metric = |sql: &str| query_f64(&db, sql);
    let portfolio = |table: &str, column: &str| {
        metric(&format!(
            "SELECT {column}::DOUBLE FROM metrics.{table}
             WHERE period = DATE '2026-10-01' AND level = 'portfolio'"
        ))
    };

    // Flow: throughput and lead time, recomputed with DuckDB's quantile_cont (the same linear
    // interpolation as PERCENTILE.INC); the sample's zone is UTC.
    let released = query_i64(&db, &format!("SELECT count(*) FROM ({LEAD_TIMES})"));
    assert!(
        released > 20,
        "the sample releases demands every month: {released}"
    );
    assert_eq!(portfolio("flow_value_stream", "released"), released as f64);
    for (column, p) in [("lead_time_p50", 0.5), ("lead_time_p85", 0.85)] {
        let expected = metric(&format!(
            "SELECT quantile_cont(days, {p}) FROM ({LEAD_TIMES})"
        ));
        close(portfolio("flow_value_stream", column), expected, column);
    }
    let wip = query_i64(
        &db,
        "SELECT count(*) FROM (
            SELECT demand_id, arg_max(stage_order, (entered_at, stage_order)) AS state
            FROM stg_demand_events WHERE entered_at < TIMESTAMP '2026-11-01'
            GROUP BY demand_id) WHERE state <= 5",
    );
    assert_eq!(portfolio("flow_value_stream", "wip"), wip as f64);

    // Delivery: deployments counted, not incidents; only production; only the month.
    let production = query_i64(&db, &format!("SELECT count(*) FROM ({DEPLOYMENTS})"));
    let failed = query_i64(
        &db,
        &format!("SELECT count(*) FROM ({DEPLOYMENTS}) WHERE failed"),
    );
    assert_eq!(
        portfolio("delivery_performance", "production_deployments"),
        production as f64
    );
    assert_eq!(
        portfolio("delivery_performance", "failed_deployments"),
        failed as f64
    );
    assert_eq!(
        portfolio("delivery_performance", "change_failure_rate"),
        failed as f64 / production as f64
    );
    // Side by side per release strategy.
    let by_strategy = query_strings(
        &db,
        &format!(
            "SELECT strategy || ' ' || count(*) FILTER (WHERE failed) || '/' || count(*)
             FROM ({DEPLOYMENTS}) GROUP BY strategy ORDER BY strategy"
        ),
    );
    let stored = query_strings(
        &db,
        "SELECT strategy || ' ' || failed_deployments || '/' || production_deployments
         FROM metrics.delivery_performance
         WHERE period = DATE '2026-10-01' AND level = 'strategy' ORDER BY strategy",
    );
    assert_eq!(stored, by_strategy);
    assert_eq!(stored.len(), 4, "blue_green, canary, recreate and rolling");

    // Reliability: incidents opened, the incident cost rounded once, time to restore.
    let incidents = query_i64(
        &db,
        "SELECT count(*) FROM stg_incidents
         WHERE opened_at >= TIMESTAMP '2026-10-01' AND opened_at < TIMESTAMP '2026-11-01'",
    );
    assert_eq!(
        portfolio("reliability_application", "incidents"),
        incidents as f64
    );
    let cost = metric(
        "SELECT round(sum(downtime_cost * CASE severity WHEN 1 THEN 1.0 WHEN 2 THEN 0.5
            WHEN 3 THEN 0.2 ELSE 0.05 END), 2)::DOUBLE
         FROM mart_incident_impact_monthly WHERE period = DATE '2026-10-01'",
    );
    assert_eq!(portfolio("reliability_application", "incident_cost"), cost);
    let restore = metric(
        "SELECT quantile_cont(date_diff('second', impact_start, impact_end) / 3600.0, 0.5)
         FROM stg_incidents
         WHERE impact_end >= TIMESTAMP '2026-10-01' AND impact_end < TIMESTAMP '2026-11-01'",
    );
    close(
        portfolio("reliability_application", "restore_p50_hours"),
        restore,
        "time to restore p50",
    );
    // The incident cost rolls up to the investments and sums to what has an investment.
    let rolled_up = metric(
        "SELECT sum(incident_cost_month)::DOUBLE FROM metrics.reliability_investment
         WHERE period = DATE '2026-10-01'",
    );
    let with_investment = metric(
        "SELECT sum(cost)::DOUBLE FROM (
            SELECT round(sum(downtime_cost * CASE severity WHEN 1 THEN 1.0 WHEN 2 THEN 0.5
                WHEN 3 THEN 0.2 ELSE 0.05 END), 2) AS cost
            FROM mart_incident_impact_monthly
            WHERE period = DATE '2026-10-01' AND investment_id IS NOT NULL
            GROUP BY investment_id)",
    );
    assert_eq!(rolled_up, with_investment);
    let quadrants = query_strings(
        &db,
        "SELECT DISTINCT quadrant FROM metrics.application_time_quadrant ORDER BY 1",
    );
    assert!(quadrants.len() >= 3, "{quadrants:?}");
}

#[test]
fn the_sheets_show_what_the_warehouse_stores_and_every_figure_is_defined() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let path = ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"));
    let stored = |table: &str, column: &str| {
        query_f64(
            &db,
            &format!(
                "SELECT {column}::DOUBLE FROM metrics.{table}
                 WHERE period = DATE '2026-10-01' AND level = 'portfolio'"
            ),
        )
    };
    let shown = |sheet: &str, header: &str| -> f64 {
        let rows = first_table(&range(&path, sheet));
        let portfolio = rows
            .iter()
            .find(|r| r.get("Level").map(|l| l.to_string()) == Some("portfolio".into()))
            .unwrap_or_else(|| panic!("{sheet} has a portfolio row"));
        portfolio
            .get(header)
            .unwrap_or_else(|| panic!("{sheet} has a column {header}"))
            .as_f64()
            .unwrap_or_else(|| panic!("{sheet}: {header} is a number"))
    };
    assert_eq!(
        shown("Value Stream", "Released (throughput)"),
        stored("flow_value_stream", "released")
    );
    assert_eq!(
        shown("Value Stream", "Lead time p85 (days)"),
        stored("flow_value_stream", "lead_time_p85")
    );
    assert_eq!(
        shown("Delivery", "Change failure rate"),
        stored("delivery_performance", "change_failure_rate")
    );
    assert_eq!(
        shown("Reliability", "Incident cost"),
        stored("reliability_application", "incident_cost")
    );
    assert_eq!(
        shown("Reliability", "SLA attainment"),
        stored("reliability_application", "sla_attainment")
    );
    // Every figure of the three families has its row on the Definitions sheet.
    let definitions = range(&path, "Definitions");
    let defined: Vec<String> = definitions
        .rows()
        .skip(3)
        .map(|r| r[1].to_string())
        .collect();
    for (table, columns) in [
        ("flow_value_stream", 27),
        ("flow_funnel", 8),
        ("delivery_performance", 16),
        ("reliability_application", 21),
        ("application_time_quadrant", 12),
    ] {
        let n = defined
            .iter()
            .filter(|d| d.starts_with(&format!("{table}.")))
            .count();
        assert_eq!(n, columns, "{table}");
    }
}

#[test]
fn each_period_keeps_its_own_figures() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    for table in [
        "flow_value_stream",
        "flow_funnel",
        "flow_trend",
        "delivery_performance",
        "delivery_trend",
        "reliability_application",
        "reliability_trend",
        "application_time_quadrant",
    ] {
        assert_eq!(
            query_strings(
                &db,
                &format!(
                    "SELECT strftime(period, '%Y-%m') FROM metrics.{table} GROUP BY period ORDER BY period"
                )
            ),
            ["2026-09", "2026-10"],
            "{table}"
        );
    }
    // The September figures are September's: the trend's last month is the period.
    assert_eq!(
        query_strings(
            &db,
            "SELECT strftime(max(month), '%Y-%m') FROM metrics.reliability_trend
             WHERE period = DATE '2026-09-01'"
        ),
        ["2026-09"]
    );
}
