//! The sample's portfolio scenario read back from the workbook with calamine, and its selection
//! checked here against every constraint of the shipped configuration, with the costs recomputed
//! from the Cash Flows sheet; and a scenario without a selection, which still gets its pack.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use crate::common::{Workspace, query_i64, query_strings};

const PERIOD: &str = "2026-10";
const SHEET: &str = "Budget 2027";

fn workbook(ws: &Workspace) -> PathBuf {
    ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"))
}

fn range(path: &Path, sheet: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(path).expect("workbook opens");
    book.worksheet_range(sheet).expect("sheet exists")
}

fn text(cell: &Data) -> String {
    cell.to_string()
}

fn number(cell: &Data) -> Option<f64> {
    match cell {
        Data::Empty => None,
        other => other.as_f64(),
    }
}

/// The rows of the table whose header row starts with `first_header`, by header, until the
/// first empty row.
fn table(sheet: &calamine::Range<Data>, first_header: &str) -> Vec<BTreeMap<String, Data>> {
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let header = rows
        .iter()
        .position(|r| r.first().map(text).as_deref() == Some(first_header))
        .unwrap_or_else(|| panic!("a table headed {first_header}"));
    let names: Vec<String> = rows[header].iter().map(text).collect();
    rows[header + 1..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !matches!(c, Data::Empty)))
        .map(|r| {
            names
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .filter(|(n, _)| !n.is_empty())
                .collect()
        })
        .collect()
}

/// The value beside `label` in the sheet's first column.
fn beside(sheet: &calamine::Range<Data>, label: &str) -> String {
    sheet
        .rows()
        .find(|r| r.first().map(text).as_deref() == Some(label))
        .map(|r| text(&r[1]))
        .unwrap_or_else(|| panic!("a row {label}"))
}

/// Each investment's costs by month (`YYYY-MM`) from the Cash Flows sheet's grid of costs.
fn monthly_costs(path: &Path) -> BTreeMap<String, BTreeMap<String, f64>> {
    let sheet = range(path, "Cash Flows");
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let heading = rows
        .iter()
        .position(|r| r.first().map(text).as_deref() == Some("Costs"))
        .expect("the grid of costs");
    // The heading, the row of actual/plan tags, then the dates.
    let dates: Vec<Option<String>> = rows[heading + 2]
        .iter()
        .map(|c| match c {
            Data::DateTime(d) => d.as_datetime().map(|t| t.format("%Y-%m").to_string()),
            _ => None,
        })
        .collect();
    rows[heading + 3..]
        .iter()
        .take_while(|r| r.first().is_some_and(|c| !matches!(c, Data::Empty)))
        .map(|r| {
            let months = r
                .iter()
                .zip(&dates)
                .filter_map(|(cell, month)| Some((month.clone()?, number(cell)?)))
                .collect();
            (text(&r[0]), months)
        })
        .collect()
}

fn cost_between(
    costs: &BTreeMap<String, BTreeMap<String, f64>>,
    id: &str,
    from: &str,
    to: &str,
) -> f64 {
    costs.get(id).map_or(0.0, |m| {
        m.range(from.to_string()..=to.to_string())
            .map(|(_, c)| c)
            .sum()
    })
}

fn selected(row: &BTreeMap<String, Data>) -> bool {
    matches!(text(&row["Decision"]).as_str(), "funded" | "continued")
}

#[test]
fn the_sample_pack_has_the_scenario_sheet_its_frontier_chart_and_a_selection_that_keeps_every_constraint()
 {
    let ws = Workspace::with_sample();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(0);
    let path = workbook(&ws);
    let book: Xlsx<_> = open_workbook(&path).expect("workbook opens");
    let names = book.sheet_names();
    let monthly = names.iter().position(|n| n == "Monthly").unwrap();
    assert_eq!(names[monthly + 1], SHEET, "{names:?}");
    let sheet = range(&path, SHEET);
    assert_eq!(
        text(&sheet[(0, 0)]),
        "Scenario Budget 2027: what to fund from 2027-01 to 2027-12, as of 2026-10 (EUR)"
    );
    assert_eq!(beside(&sheet, "Status"), "optimal");
    assert_eq!(
        beside(&sheet, "Objective (maximised)"),
        "forward NPV at P50"
    );
    assert_eq!(beside(&sheet, "Envelope"), "55,000,000.00 EUR");

    let candidates = table(&sheet, "Investment");
    let by_id: BTreeMap<String, &BTreeMap<String, Data>> = candidates
        .iter()
        .map(|r| (text(&r["Investment"]), r))
        .collect();
    assert_eq!(candidates.len(), by_id.len(), "one row per candidate");
    let costs = monthly_costs(&path);
    // Every candidate's cost in the window is its plan for 2027 on the Cash Flows sheet.
    for (id, row) in &by_id {
        let expected = cost_between(&costs, id, "2027-01", "2027-12");
        let shown = number(&row["Cost in window"]).unwrap();
        assert!(
            (shown - expected).abs() < 0.005,
            "{id}: {shown} vs {expected}"
        );
    }
    // The selection keeps the envelope, the first-quarter budget and the cap on transform.
    let chosen: Vec<&str> = by_id
        .iter()
        .filter(|(_, r)| selected(r))
        .map(|(id, _)| id.as_str())
        .collect();
    let total: f64 = chosen
        .iter()
        .map(|id| cost_between(&costs, id, "2027-01", "2027-12"))
        .sum();
    let q1: f64 = chosen
        .iter()
        .map(|id| cost_between(&costs, id, "2027-01", "2027-03"))
        .sum();
    let transform: f64 = chosen
        .iter()
        .filter(|id| text(&by_id[**id]["Category"]) == "transform")
        .map(|id| cost_between(&costs, id, "2027-01", "2027-12"))
        .sum();
    assert!(total <= 55_000_000.0 && q1 <= 17_000_000.0, "{total} {q1}");
    assert!(transform <= 0.5 * total + 0.005, "{transform} of {total}");
    let envelope = table(&sheet, "Constraint");
    let funded_of = |name: &str| {
        let row = envelope
            .iter()
            .find(|r| text(&r["Constraint"]) == name)
            .unwrap_or_else(|| panic!("{name}"));
        (
            number(&row["Limit"]).unwrap(),
            number(&row["Funded"]).unwrap(),
        )
    };
    let (limit, funded) = funded_of("the total budget");
    assert_eq!(limit, 55_000_000.0);
    assert!((funded - total).abs() < 0.01, "{funded} vs {total}");
    let (limit, funded) = funded_of("the 2027-Q1 budget");
    assert_eq!(limit, 17_000_000.0);
    assert!((funded - q1).abs() < 0.01, "{funded} vs {q1}");
    let (_, funded) = funded_of("the cap of transform at 50% of the funded cost");
    assert!((funded - transform).abs() < 0.01);

    // Each configured rule holds, with its reason.
    let decision = |id: &str| text(&by_id[id]["Decision"]);
    let reason = |id: &str| text(&by_id[id]["Why"]);
    assert_eq!(decision("INV-0043"), "funded");
    assert!(
        reason("INV-0043").starts_with("must-fund"),
        "{}",
        reason("INV-0043")
    );
    assert_eq!(
        (decision("INV-0107"), reason("INV-0107")),
        ("not funded".to_string(), "must-stop".to_string())
    );
    assert!(!(chosen.contains(&"INV-0036") && chosen.contains(&"INV-0063")));
    let automation = ["INV-0058", "INV-0171", "INV-0199"];
    assert!(automation.iter().filter(|id| chosen.contains(id)).count() <= 1);
    assert!(!chosen.contains(&"INV-0066") || chosen.contains(&"INV-0097"));
    for (id, row) in &by_id {
        let p = number(&row["P(NPV > 0)"]);
        if text(&row["Stage"]) == "proposed" && *id != "INV-0043" && p.is_some_and(|p| p < 0.6) {
            assert!(!selected(row), "{id} is below the minimum probability");
        }
    }
    // Investments under way with a negative forward NPV and no run category are stopped.
    for (id, row) in &by_id {
        let npv = number(&row["Forward NPV P50"]);
        if text(&row["Stage"]) == "under way"
            && text(&row["Category"]) != "run"
            && npv.is_some_and(|v| v < 0.0)
            && text(&row["Decision"]) != "outside the window"
        {
            assert_eq!(text(&row["Decision"]), "stopped", "{id}");
            assert!(
                reason(id).contains("continuing it would lower the total"),
                "{id}"
            );
        }
    }
    // A candidate not funded for the budget says which one binds, against its marginal.
    assert!(
        by_id.values().any(|r| {
            let why = text(&r["Why"]);
            why.starts_with("the 2027-Q1 budget bound; NPV per EUR ")
                && why.contains(" below the marginal ")
        }),
        "{candidates:?}"
    );

    // The objective is the sum of the selected candidates' forward NPV at P50; the Portfolio
    // sheet shows the same figure per investment.
    let objective: f64 = chosen
        .iter()
        .map(|id| number(&by_id[*id]["Forward NPV P50"]).unwrap())
        .sum();
    let portfolio = range(&path, "Portfolio");
    let headers: Vec<String> = portfolio.rows().nth(2).unwrap().iter().map(text).collect();
    let column = headers.iter().position(|h| h == "Forward NPV P50").unwrap();
    for row in portfolio.rows().skip(3) {
        if let Some(candidate) = by_id.get(&text(&row[0])) {
            assert_eq!(
                number(&row[column]),
                number(&candidate["Forward NPV P50"]),
                "{}",
                text(&row[0])
            );
        }
    }

    // The frontier never falls, and at 100% it is the selection's objective.
    let frontier = table(&sheet, "Level");
    assert_eq!(frontier.len(), 9);
    let values: Vec<f64> = frontier
        .iter()
        .map(|r| number(&r["Best objective"]).unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[1] >= w[0]), "{values:?}");
    assert_eq!(number(&frontier[4]["Level"]), Some(1.0));
    assert!(
        (values[4] - objective).abs() < 0.05,
        "{} vs {objective}",
        values[4]
    );
    assert_eq!(number(&frontier[0]["Envelope"]), Some(33_000_000.0));

    // The chart: native in the workbook, and as images beside it.
    let dir = ws.path(&format!("reports/{PERIOD}"));
    let png = fs::read(dir.join("frontier-budget-2027-2026-10.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(dir.join("frontier-budget-2027-2026-10.svg")).unwrap();
    assert!(svg.contains("Efficient frontier of Budget 2027"));
    let mut zip = zip::ZipArchive::new(fs::File::open(&path).unwrap()).unwrap();
    let scatter = (0..zip.len()).any(|i| {
        let mut file = zip.by_index(i).unwrap();
        let mut xml = String::new();
        file.name().is_ok_and(|n| n.starts_with("xl/charts/chart"))
            && std::io::Read::read_to_string(&mut file, &mut xml).is_ok()
            && xml.contains("<c:scatterChart>")
    });
    assert!(scatter, "a native scatter chart of the frontier");
    assert!(
        out.stdout
            .contains("  charts   10 as PNG and SVG in reports/2026-10/\n"),
        "{}",
        out.stdout
    );

    // The warehouse holds the same rows, and the Definitions and Run Info sheets speak of them.
    let db = ws.warehouse();
    assert_eq!(
        query_i64(
            &db,
            "SELECT count(*) FROM metrics.scenario_candidates WHERE period = DATE '2026-10-01'"
        ),
        candidates.len() as i64
    );
    assert_eq!(
        query_strings(
            &db,
            "SELECT status FROM metrics.scenario_summary WHERE scenario = 'Budget 2027'"
        ),
        ["optimal"]
    );
    let definitions = range(&path, "Definitions");
    assert!(
        definitions
            .rows()
            .any(|r| r.get(1).map(text).as_deref() == Some("scenario_candidates.marginal"))
    );
    let run_info = range(&path, "Run Info");
    assert!(
        beside(&run_info, "Scenario Budget 2027").starts_with("optimal: "),
        "{}",
        beside(&run_info, "Scenario Budget 2027")
    );
}

#[test]
fn a_scenario_without_a_selection_says_why_and_the_rest_of_the_pack_is_written() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let mut text_of_config = fs::read_to_string(&config).unwrap();
    text_of_config.push_str(
        "\n[[scenario]]\nname = \"Too small\"\nmust_fund = [\"INV-0154\", \"INV-0071\"]\nkeep_running = false\nbudget = { total = 1_000_000 }\n",
    );
    fs::write(&config, text_of_config).unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(65);
    // INV-0154 and INV-0071 cost 2,539,064.00 and 3,415,000.00 in 2027 (the Cash Flows sheet).
    let costs = monthly_costs(&workbook(&ws));
    let a = cost_between(&costs, "INV-0154", "2027-01", "2027-12");
    let b = cost_between(&costs, "INV-0071", "2027-01", "2027-12");
    let need = format!("{:.2}", a + b);
    let (whole, cents) = need.split_once('.').unwrap();
    let grouped = whole
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    let why = format!(
        "the candidates funded whatever (must-fund, kept running or needed by one that is) need {grouped}.{cents} EUR in 2027-01 to 2027-12, over the total budget of 1,000,000.00 EUR"
    );
    assert!(
        out.stderr.contains(&format!(
            "error: published, but scenario \"Too small\": no selection: {why}"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("  fault    scenario \"Too small\": no selection: "),
        "{}",
        out.stdout
    );
    let path = workbook(&ws);
    let book: Xlsx<_> = open_workbook(&path).expect("the pack is written");
    let names = book.sheet_names();
    for sheet in ["Portfolio", "Cash Flows", SHEET, "Too small", "Run Info"] {
        assert!(names.iter().any(|n| n == sheet), "{sheet}: {names:?}");
    }
    let sheet = range(&path, "Too small");
    assert_eq!(beside(&sheet, "Status"), "no selection");
    assert!(
        beside(&sheet, "Why there is no selection").starts_with(&why),
        "{}",
        beside(&sheet, "Why there is no selection")
    );
    let candidates = table(&sheet, "Investment");
    assert!(
        candidates
            .iter()
            .filter(|r| text(&r["Decision"]) != "outside the window")
            .all(|r| text(&r["Decision"]) == "no selection")
    );
    // The frontier shows where the must-funds fit: not even at 140% of 1,000,000.
    let frontier = table(&sheet, "Level");
    assert!(frontier.iter().all(|r| text(&r["Status"]) == "infeasible"));
    let run_info = range(&path, "Run Info");
    assert!(beside(&run_info, "Scenario Too small").starts_with(&format!("no selection: {why}")));
    assert!(beside(&run_info, "Scenario Budget 2027").starts_with("optimal: "));
    let db = ws.warehouse();
    assert_eq!(
        query_strings(&db, "SELECT status FROM ledger.runs ORDER BY started_at"),
        ["partial"]
    );
    assert_eq!(
        query_strings(
            &db,
            "SELECT status FROM ledger.run_steps WHERE step = 'metrics' ORDER BY run_id"
        ),
        ["partial"]
    );
}

#[test]
fn a_scenario_that_breaks_a_rule_of_the_configuration_exits_2_before_anything_runs() {
    let ws = Workspace::with_sample();
    let config = ws.path("pipeline.toml");
    let text_of_config = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text_of_config.replace(
            "category_max_share = { transform = 0.5 }",
            "category_max_share = { transform = 50 }",
        ),
    )
    .unwrap();
    let out = ws.itvalue(&["run", "--period", PERIOD]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "error: configuration pipeline.toml: scenario[0] (Budget 2027): category_max_share.transform = 50: expected a share from 0 to 1 of the funded cost"
        ),
        "{}",
        out.stderr
    );
    assert!(!ws.path("notebooks-data/warehouse.duckdb").exists());
}

#[test]
fn the_readme_scenario_is_a_valid_configuration() {
    let readme = fs::read_to_string(crate::common::repo_path("README.md")).unwrap();
    let block = readme
        .split("```toml\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("[[scenario]]\nname = \"Budget 2027\""))
        .expect("the README's scenario");
    let text = format!(
        "reporting_currency = \"EUR\"\ndefault_discount_rate = 0.08\nwarehouse = \"w.duckdb\"\nreports = \"reports\"\n{block}"
    );
    let config = itvalue::Config::parse(&text, Path::new("/tmp/pipeline.toml")).unwrap();
    let scenario = &config.metrics.scenarios[0];
    assert_eq!(scenario.must_fund, ["INV-0101"]);
    assert_eq!(scenario.exclusive["crm"], ["INV-0150", "INV-0151"]);
    assert_eq!(scenario.budget.envelope().to_string(), "9000000.00");
    assert_eq!(scenario.time_limit_seconds, 10.0);
}

#[test]
fn a_chinese_pack_gives_the_scenario_decisions_and_reasons_in_chinese_and_restates_nothing() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD, "--lang", "zh"])
        .assert_code(0);
    let path = workbook(&ws);
    let rows = table(&range(&path, SHEET), "投资项目");
    assert!(!rows.is_empty(), "the candidates are listed");
    // The warehouse keeps the decision as its code (the English word); the sheet shows the word.
    let db = ws.warehouse();
    let stored: BTreeMap<String, String> = query_strings(
        &db,
        &format!(
            "SELECT investment_id || '|' || decision FROM metrics.scenario_candidates
             WHERE period = DATE '{PERIOD}-01' AND scenario = '{SHEET}'"
        ),
    )
    .into_iter()
    .map(|r| {
        let (id, code) = r.split_once('|').unwrap();
        (id.to_string(), code.to_string())
    })
    .collect();
    assert_eq!(rows.len(), stored.len());
    let word = |code: &str| match code {
        "funded" => "资助",
        "continued" => "继续",
        "not funded" => "不资助",
        "stopped" => "停止",
        "outside the window" => "不在窗口内",
        "left out" => "未纳入",
        "no selection" => "无入选组合",
        other => panic!("not a decision code: {other}"),
    };
    let chinese = |t: &str| t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for row in &rows {
        let id = text(&row["投资项目"]);
        assert_eq!(text(&row["决定"]), word(&stored[&id]), "{id}");
        let reason = text(&row["原因"]);
        assert!(chinese(&reason), "{id}: {reason}");
        assert!(
            !reason.contains("; "),
            "{id}: joined the Chinese way: {reason}"
        );
    }
    assert!(
        rows.iter().any(|r| text(&r["决定"]) == "资助")
            && rows.iter().any(|r| text(&r["决定"]) == "不资助"),
        "the sample funds some candidates and not others"
    );
    // The English run before stored the same selection: reasons in another language restate
    // nothing.
    drop(db);
    let out = ws.itvalue(&["diff", "--period", PERIOD]);
    out.assert_code(0);
    assert!(
        out.stdout.ends_with("no figure differs\n"),
        "{}",
        out.stdout
    );
}
