//! The committee pack read back as its readers would: the Summary's headline figures against the
//! warehouse, the native charts in the xlsx package and their PNG and SVG images in both
//! languages, source text that looks like a formula kept as text, the same contents on a rerun,
//! LibreOffice and openpyxl opening it, and the Parquet extracts holding the warehouse's rows.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

use crate::common::{Workspace, query_f64, query_i64, query_strings, row_texts};

const PERIOD: &str = "2026-10";

fn workbook(ws: &Workspace) -> PathBuf {
    ws.path(&format!("reports/{PERIOD}/itvalue-{PERIOD}.xlsx"))
}

fn sheet(path: &Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook(path).expect("workbook opens");
    book.worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"))
}

/// The files of the xlsx package whose names start with `prefix`, with their text.
fn parts(path: &Path, prefix: &str) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().unwrap().to_string();
        if name.starts_with(prefix) {
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            out.insert(name, text);
        }
    }
    out
}

/// The Summary's headline rows, by figure: (this month, previous month, status).
fn headlines(path: &Path) -> BTreeMap<String, (Option<f64>, Option<f64>, String)> {
    let summary = sheet(path, "Summary");
    let header = summary
        .rows()
        .position(|r| r.first().map(|c| c.to_string()) == Some("Figure".into()))
        .expect("the headline table");
    let headers = row_texts(&summary, header);
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    summary
        .rows()
        .skip(header + 1)
        .take(11)
        .map(|r| {
            (
                r[0].to_string(),
                (
                    r[at("This month")].as_f64(),
                    r[at("Previous month")].as_f64(),
                    r[at("Status")].to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn the_summary_comes_first_with_headlines_that_match_the_warehouse() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", "2026-09"]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let path = workbook(&ws);
    let book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names()[0], "Summary");
    let db = ws.warehouse();
    let portfolio = |table: &str, column: &str, period: &str| {
        query_f64(
            &db,
            &format!(
                "SELECT {column}::DOUBLE FROM metrics.{table}
                 WHERE period = DATE '{period}-01' AND level = 'portfolio'"
            ),
        )
    };
    let rows = headlines(&path);
    let throughput = &rows["Throughput (demands released)"];
    assert_eq!(
        throughput.0,
        Some(portfolio("flow_value_stream", "released", PERIOD))
    );
    assert_eq!(
        throughput.1,
        Some(portfolio("flow_value_stream", "released", "2026-09")),
        "the previous month is what the September run stored"
    );
    let npv = query_f64(
        &db,
        "SELECT sum(npv)::DOUBLE FROM metrics.investment_finance WHERE period = DATE '2026-10-01'",
    );
    assert!((rows["Portfolio NPV"].0.unwrap() - npv).abs() < 0.005);
    // pipeline.toml: change failure rate green at most 10%, amber at most 15%.
    let (rate, _, status) = &rows["Change failure rate"];
    let rate = rate.unwrap();
    let expected = if rate <= 0.10 {
        "green"
    } else if rate <= 0.15 {
        "amber"
    } else {
        "red"
    };
    assert_eq!(status, expected, "rate {rate}");
    assert_eq!(rows["Portfolio NPV"].2, "no thresholds");
    // Defined names for the headline cells, and links to where each comes from.
    let workbook_xml = &parts(&path, "xl/workbook.xml")["xl/workbook.xml"];
    for name in [
        "Portfolio_NPV",
        "Lead_Time_P85",
        "Change_Failure_Rate",
        "SLA_Attainment",
    ] {
        assert!(
            workbook_xml.contains(&format!("<definedName name=\"{name}\">Summary!$B$")),
            "{name}"
        );
    }
    let sheet1 = &parts(&path, "xl/worksheets/sheet1.xml")["xl/worksheets/sheet1.xml"];
    assert!(
        sheet1.contains("location=\"'Value Stream'!A"),
        "a link into Value Stream"
    );
    assert!(
        sheet1.contains("location=\"Portfolio!A"),
        "investments link to the Portfolio"
    );
    // The decisions listed are the stop, fix and review recommendations.
    let asked = query_i64(
        &db,
        "SELECT count(*) FROM metrics.investment_finance
         WHERE period = DATE '2026-10-01' AND recommendation IN ('stop', 'fix', 'review')",
    );
    let summary = sheet(&path, "Summary");
    let decisions = summary
        .rows()
        .position(|r| r.first().map(|c| c.to_string()) == Some("Investment".into()))
        .unwrap();
    let listed = summary
        .rows()
        .skip(decisions + 1)
        .take_while(|r| r[0].to_string().starts_with("INV-"))
        .count();
    assert_eq!(listed as i64, asked);
}

/// A PNG's width and height from its IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn every_chart_is_native_in_the_package_and_an_image_in_both_languages() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let check = |lang: &str, title: &str| {
        let path = workbook(&ws);
        let charts = parts(&path, "xl/charts/chart");
        assert_eq!(
            charts.len(),
            10,
            "{lang}: nine figure charts and a scenario's frontier"
        );
        assert_eq!(
            charts
                .values()
                .filter(|x| x.contains("<c:bubbleChart>"))
                .count(),
            1,
            "{lang}: the portfolio map is a bubble chart"
        );
        assert!(
            charts.values().any(|x| x.contains(title)),
            "{lang}: a chart titled {title}"
        );
        let dir = ws.path(&format!("reports/{PERIOD}"));
        let mut images = 0;
        for entry in fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().path();
            match file.extension().and_then(|e| e.to_str()) {
                Some("png") => {
                    assert_eq!(png_size(&fs::read(&file).unwrap()), (960, 540), "{file:?}");
                    images += 1;
                }
                Some("svg") => {
                    let svg = fs::read_to_string(&file).unwrap();
                    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
                    images += 1;
                }
                _ => {}
            }
        }
        assert_eq!(images, 20, "{lang}");
        let funnel = fs::read_to_string(dir.join(format!("demand-funnel-{PERIOD}.svg"))).unwrap();
        assert!(funnel.contains(title), "{lang}: the funnel image's title");
    };
    check("en", "The demand funnel");
    ws.itvalue(&["run", "--period", PERIOD, "--lang", "zh"])
        .assert_code(0);
    check("zh", "需求漏斗");
    let book: Xlsx<_> = open_workbook(workbook(&ws)).unwrap();
    assert_eq!(
        &book.sheet_names()[..4],
        ["摘要", "投资组合", "现金流", "月度"],
        "Chinese sheet names"
    );
}

/// Whether `text` has a Chinese character.
fn chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The cells of `column` in the rows below the header row that starts with `first`, while their
/// first cell is an investment id: (id, cell).
fn by_investment(
    range: &calamine::Range<Data>,
    first: &str,
    column: &str,
) -> Vec<(String, String)> {
    let header = range
        .rows()
        .position(|r| r.first().map(|c| c.to_string()) == Some(first.into()))
        .unwrap_or_else(|| panic!("a table headed {first}"));
    let at = row_texts(range, header)
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("a column {column}"));
    range
        .rows()
        .skip(header + 1)
        .take_while(|r| r[0].to_string().starts_with("INV-"))
        .map(|r| (r[0].to_string(), r[at].to_string()))
        .collect()
}

#[test]
fn a_chinese_pack_gives_its_reasons_and_notes_in_chinese_and_restates_nothing() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    ws.itvalue(&["run", "--period", PERIOD, "--lang", "zh"])
        .assert_code(0);
    let path = workbook(&ws);
    let db = ws.warehouse();
    let stored = |column: &str| -> BTreeMap<String, String> {
        query_strings(
            &db,
            &format!(
                "SELECT investment_id || '|' || coalesce({column}, '') FROM metrics.investment_finance
                 WHERE period = DATE '{PERIOD}-01'"
            ),
        )
        .into_iter()
        .map(|r| {
            let (id, text) = r.split_once('|').unwrap();
            (id.to_string(), text.to_string())
        })
        .collect()
    };
    // The recommendation stays a code; its reason is in the run's language.
    let codes = stored("recommendation");
    assert!(
        codes
            .values()
            .all(|c| ["continue", "fix", "stop", "review", ""].contains(&c.as_str())),
        "{codes:?}"
    );
    let reasons = stored("recommendation_reason");
    let decisions = by_investment(&sheet(&path, "摘要"), "投资项目", "原因");
    assert!(!decisions.is_empty(), "the Summary lists decisions");
    for (id, reason) in &decisions {
        assert!(chinese(reason), "{id}: {reason}");
        assert_eq!(
            reason, &reasons[id],
            "{id}: the Summary shows the stored reason"
        );
    }
    let portfolio = sheet(&path, "投资组合");
    let listed = by_investment(&portfolio, "投资项目", "原因");
    assert_eq!(
        listed.len(),
        reasons.len(),
        "every investment on the Portfolio"
    );
    for (id, reason) in &listed {
        assert!(chinese(reason), "{id}: {reason}");
    }
    let notes = by_investment(&portfolio, "投资项目", "说明");
    assert!(
        notes.iter().any(|(_, n)| !n.is_empty()),
        "some notes in the sample"
    );
    for (id, note) in notes.iter().filter(|(_, n)| !n.is_empty()) {
        assert!(chinese(note), "{id}: {note}");
        assert!(
            !note.contains("; "),
            "{id}: notes joined the Chinese way: {note}"
        );
    }
    // The other families' notes too, as stored.
    for table in [
        "flow_value_stream",
        "delivery_performance",
        "reliability_application",
    ] {
        let notes = query_strings(
            &db,
            &format!(
                "SELECT notes FROM metrics.{table}
                 WHERE period = DATE '{PERIOD}-01' AND coalesce(notes, '') <> ''"
            ),
        );
        for note in notes {
            assert!(chinese(&note), "{table}: {note}");
        }
    }
    // The English run before stored the same figures: words in another language restate nothing.
    drop(db);
    let out = ws.itvalue(&["diff", "--period", PERIOD]);
    out.assert_code(0);
    assert!(
        out.stdout.ends_with("no figure differs\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn source_text_that_looks_like_a_formula_stays_text() {
    let ws = Workspace::with_sample();
    // The investments as CSV, four names turned into formula-like text.
    let book = ws.path("notebooks-data/sample/investments.xlsx");
    let mut xlsx: Xlsx<_> = open_workbook(&book).unwrap();
    let range = xlsx.worksheet_range("Investments").unwrap();
    let mut csv = csv::Writer::from_path(ws.path("investments.csv")).unwrap();
    let tricky = ["=1+2", "+SUM(A1:A3)", "-2+3", "@HYPERLINK(\"http://x\")"];
    let name_column = row_texts(&range, 0)
        .iter()
        .position(|h| h == "项目名称" || h == "Investment Name")
        .expect("the sample's name header");
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, v)| match (i, c) {
                (1..=4, c) if c == name_column => tricky[i - 1].to_string(),
                _ => match v {
                    Data::DateTime(d) => d
                        .as_datetime()
                        .map(|t| t.date().to_string())
                        .unwrap_or_default(),
                    other => other.to_string(),
                },
            })
            .collect();
        csv.write_record(&cells).unwrap();
    }
    csv.flush().unwrap();
    let config = fs::read_to_string(ws.path("pipeline.toml"))
        .unwrap()
        .replace(
            "path = \"notebooks-data/sample/investments.xlsx\"\nsheet = \"Investments\"",
            "path = \"investments.csv\"",
        );
    fs::write(ws.path("pipeline.toml"), config).unwrap();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let path = workbook(&ws);
    let values = sheet(&path, "Portfolio");
    let mut formulas: Xlsx<_> = open_workbook(&path).unwrap();
    let formulas = formulas.worksheet_formula("Portfolio").unwrap();
    let names: Vec<String> = values.rows().skip(3).map(|r| r[1].to_string()).collect();
    for text in tricky {
        let row = names
            .iter()
            .position(|n| n == text)
            .unwrap_or_else(|| panic!("{text} is on the Portfolio as text"));
        let cell = (row as u32 + 3, 1);
        assert!(
            formulas.get_value(cell).is_none_or(String::is_empty),
            "{text} became a formula"
        );
        assert_eq!(values.get_value(cell), Some(&Data::String(text.into())));
    }
}

/// Every cell of every sheet, with run ids and the run's times masked.
fn contents(path: &Path) -> Vec<(String, Vec<String>)> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let run_id = |text: String| -> String {
        text.split(' ')
            .map(|w| {
                let w = w.trim_end_matches([',', ')', ':']);
                let id = w.len() == 25 && w.as_bytes().get(8) == Some(&b'T');
                if id {
                    "[run]".to_string()
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    book.sheet_names()
        .into_iter()
        .filter(|s| s != "Run Info")
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap();
            let cells = range
                .rows()
                .flat_map(|r| r.iter().map(|c| run_id(c.to_string())))
                .collect();
            (name, cells)
        })
        .collect()
}

#[test]
fn a_rerun_gives_the_same_workbook_contents() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let first = contents(&workbook(&ws));
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let second = contents(&workbook(&ws));
    assert_eq!(first.len(), second.len());
    for ((name, a), (_, b)) in first.iter().zip(&second) {
        assert!(a == b, "sheet {name} differs on a rerun");
    }
}

#[test]
fn libreoffice_and_openpyxl_open_the_pack() {
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    if Command::new("soffice").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("ITVALUE_REQUIRE_LIBREOFFICE").is_none(),
            "ITVALUE_REQUIRE_LIBREOFFICE is set but soffice is not on PATH"
        );
        eprintln!("skipped LibreOffice: soffice is not installed");
    } else {
        let out = Command::new("soffice")
            .arg(format!(
                "-env:UserInstallation=file://{}",
                ws.path("lo-profile").display()
            ))
            .args(["--headless", "--convert-to", "pdf", "--outdir"])
            .arg(ws.path("pdf"))
            .arg(workbook(&ws))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pdf = fs::read(ws.path(&format!("pdf/itvalue-{PERIOD}.pdf"))).unwrap();
        assert!(pdf.starts_with(b"%PDF") && pdf.len() > 100_000);
    }
    match std::env::var("ITVALUE_PYTHON") {
        Ok(python) => {
            let out = Command::new(python)
                .args([
                    "-c",
                    "import sys, openpyxl; b = openpyxl.load_workbook(sys.argv[1]); print(len(b.sheetnames), b['Summary']['A1'].value)",
                ])
                .arg(workbook(&ws))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let printed = String::from_utf8_lossy(&out.stdout);
            let book: Xlsx<_> = open_workbook(workbook(&ws)).unwrap();
            let expected = format!("{} The month for the committee", book.sheet_names().len());
            assert!(printed.starts_with(&expected), "{printed}");
        }
        Err(_) => {
            assert!(
                std::env::var_os("ITVALUE_REQUIRE_PYTHON").is_none(),
                "ITVALUE_REQUIRE_PYTHON is set but ITVALUE_PYTHON names no interpreter"
            );
            eprintln!("skipped openpyxl: ITVALUE_PYTHON is not set");
        }
    }
}

#[test]
fn parquet_extracts_hold_the_warehouses_rows_with_their_types() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let ws = Workspace::with_sample();
    ws.itvalue(&["run", "--period", PERIOD]).assert_code(0);
    let db = ws.warehouse();
    let dir = ws.path(&format!("notebooks-data/exports/{PERIOD}"));
    let read = |name: &str| {
        SerializedFileReader::new(fs::File::open(dir.join(name)).unwrap()).expect(name)
    };
    let finance = read("metrics_investment_finance.parquet");
    assert_eq!(
        finance.metadata().file_metadata().num_rows(),
        query_i64(
            &db,
            "SELECT count(*) FROM metrics.investment_finance WHERE period = DATE '2026-10-01'"
        )
    );
    let schema = finance.metadata().file_metadata().schema_descr();
    let npv = schema.columns().iter().find(|c| c.name() == "npv").unwrap();
    assert_eq!(
        (npv.converted_type(), npv.type_precision(), npv.type_scale()),
        (parquet::basic::ConvertedType::DECIMAL, 18, 2),
        "money stays exact"
    );
    let intervals = read("mart_demand_stage_intervals.parquet");
    assert_eq!(
        intervals.metadata().file_metadata().num_rows(),
        query_i64(&db, "SELECT count(*) FROM mart_demand_stage_intervals")
    );
    let files = fs::read_dir(&dir)
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .is_ok_and(|f| f.path().extension().is_some_and(|e| e == "parquet"))
        })
        .count();
    assert_eq!(files, 25, "five marts and twenty metric tables");
}
