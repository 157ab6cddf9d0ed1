//! The ingest stage on fixture files named after their case: the exact rows, rejects, cell
//! addresses and scores each one gives.

use std::fs;

use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use itvalue::contract::Entity;
use itvalue::ingest::{Ingested, Verdict};
use itvalue::{Config, Error};

use crate::common::{Workspace, repo_path};
use crate::fixtures::{C, Sheet, costs_header, xlsx, xlsx_1904, zip_declaring};

const HEAD: &str = r#"reporting_currency = "EUR"
default_discount_rate = 0.08
warehouse = "w.duckdb"
reports = "reports"
"#;

fn config(ws: &Workspace, sources: &str) -> Config {
    let path = ws.path("pipeline.toml");
    let text = format!("{HEAD}{sources}");
    fs::write(&path, &text).unwrap();
    Config::parse(&text, &path).unwrap()
}

fn ingest(config: &Config) -> Result<Ingested, Error> {
    itvalue::ingest::read_sources(
        config,
        &itvalue::ingest::Prior::default(),
        &itvalue::progress::Silent,
    )
}

fn batch(ingested: &Ingested, entity: Entity) -> &RecordBatch {
    &ingested
        .entities
        .iter()
        .find(|b| b.entity == entity)
        .expect("every entity has a batch")
        .batch
}

/// A column's values as text, `∅` for NULL.
fn strings(batch: &RecordBatch, column: &str) -> Vec<String> {
    let array = batch.column_by_name(column).expect(column);
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                "∅".to_string()
            } else {
                array_value_to_string(array, i).unwrap()
            }
        })
        .collect()
}

fn rejects(ingested: &Ingested) -> Vec<String> {
    ingested
        .rejects
        .iter()
        .map(|r| format!("{} | {} | {} | {}", r.location, r.column, r.value, r.rule))
        .collect()
}

fn source(name: &str, entity: &str, path: &str, extra: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nentity = \"{entity}\"\npath = \"{path}\"\n{extra}\n")
}

fn investments_rows(days: [(i32, u32, u32); 4]) -> Vec<Vec<C>> {
    let [a, b, c, d] = days;
    vec![
        vec![
            C::S("investment_id"),
            C::S("name"),
            C::S("category"),
            C::S("start_date"),
            C::S("end_date"),
        ],
        vec![
            C::S("INV-1"),
            C::S("Leap"),
            C::S("run"),
            C::Day(a.0, a.1, a.2),
            C::Day(b.0, b.1, b.2),
        ],
        vec![
            C::S("INV-2"),
            C::S("Millennium"),
            C::S("grow"),
            C::Day(c.0, c.1, c.2),
            C::Day(d.0, d.1, d.2),
        ],
    ]
}

#[test]
fn a_1904_workbook_gives_the_same_dates_as_a_1900_one() {
    let ws = Workspace::empty();
    let days = [(2024, 2, 29), (2025, 12, 31), (1999, 12, 31), (2000, 3, 1)];
    xlsx(
        &ws.path("investments-1900-epoch.xlsx"),
        vec![Sheet::new("I", investments_rows(days))],
    );
    xlsx_1904(
        &ws.path("investments-1904-epoch.xlsx"),
        vec![Sheet::new("I", investments_rows(days))],
    );
    for file in ["investments-1900-epoch.xlsx", "investments-1904-epoch.xlsx"] {
        let c = config(&ws, &source("i", "investments", file, ""));
        let ingested = ingest(&c).unwrap();
        let b = batch(&ingested, Entity::Investments);
        assert_eq!(
            strings(b, "start_date"),
            ["2024-02-29", "1999-12-31"],
            "{file}"
        );
        assert_eq!(
            strings(b, "end_date"),
            ["2025-12-31", "2000-03-01"],
            "{file}"
        );
    }
}

#[test]
fn error_cells_are_rejects_that_name_the_error_and_the_cell() {
    let ws = Workspace::empty();
    xlsx(
        &ws.path("costs-error-cells.xlsx"),
        vec![Sheet::new(
            "Costs",
            vec![
                costs_header(),
                vec![
                    C::S("INV-1"),
                    C::S("2025-01"),
                    C::S("actual"),
                    C::F("=NA()", "#N/A"),
                ],
                vec![
                    C::S("INV-1"),
                    C::F("=1/0", "#DIV/0!"),
                    C::S("budget"),
                    C::N(10.0),
                ],
                vec![C::S("INV-1"), C::S("2025-02"), C::S("actual"), C::N(12.5)],
            ],
        )],
    );
    let ingested = ingest(&config(
        &ws,
        &source("c", "costs", "costs-error-cells.xlsx", ""),
    ))
    .unwrap();
    assert_eq!(
        rejects(&ingested),
        [
            "costs-error-cells.xlsx!Costs!D2 | amount | #N/A | the cell holds the error value #N/A",
            "costs-error-cells.xlsx!Costs!B3 | period | #DIV/0! | the cell holds the error value #DIV/0!",
        ]
    );
    assert_eq!(
        strings(batch(&ingested, Entity::Costs), "amount"),
        ["12.50"]
    );
}

#[test]
fn title_and_blank_rows_above_the_header_are_skipped_and_addresses_stay_true() {
    let ws = Workspace::empty();
    xlsx(
        &ws.path("costs-title-rows.xlsx"),
        vec![Sheet::new(
            "Costs",
            vec![
                vec![C::S("Cost report FY2025")],
                vec![],
                vec![C::Blank, C::S("Prepared by finance")],
                costs_header(),
                vec![C::S("INV-1"), C::S("2025-01"), C::S("actual"), C::N(100.0)],
                vec![C::S("INV-1"), C::S("2025-02"), C::S("actual"), C::S("n/a")],
            ],
        )],
    );
    let ingested = ingest(&config(
        &ws,
        &source("c", "costs", "costs-title-rows.xlsx", ""),
    ))
    .unwrap();
    assert_eq!(
        rejects(&ingested),
        [
            "costs-title-rows.xlsx!Costs!D6 | amount | n/a | expected an amount with at most 2 decimals, found the text \"n/a\""
        ]
    );
    assert_eq!(strings(batch(&ingested, Entity::Costs), "_row"), ["5"]);
}

#[test]
fn the_first_visible_sheet_is_read_when_none_is_named() {
    let ws = Workspace::empty();
    let mut lookups = Sheet::new("Lookups", vec![vec![C::S("code")], vec![C::S("x")]]);
    lookups.hidden = true;
    let costs = Sheet::new(
        "Costs",
        vec![
            costs_header(),
            vec![C::S("INV-1"), C::S("2025-01"), C::S("actual"), C::N(1.0)],
        ],
    );
    xlsx(
        &ws.path("costs-hidden-first-sheet.xlsx"),
        vec![lookups, costs],
    );
    let ingested = ingest(&config(
        &ws,
        &source("c", "costs", "costs-hidden-first-sheet.xlsx", ""),
    ))
    .unwrap();
    assert_eq!(strings(batch(&ingested, Entity::Costs), "amount"), ["1.00"]);
}

#[test]
fn formulas_load_their_cached_values_and_numbers_stored_as_text_load_as_numbers() {
    let ws = Workspace::empty();
    xlsx(
        &ws.path("costs-formulas-and-text-numbers.xlsx"),
        vec![Sheet::new(
            "Costs",
            vec![
                costs_header(),
                vec![
                    C::S("INV-1"),
                    C::S("2025-01"),
                    C::S("actual"),
                    C::F("=125.25*2", "250.5"),
                ],
                vec![
                    C::S("INV-1"),
                    C::S("2025-02"),
                    C::S("actual"),
                    C::S("1,234.50"),
                ],
                vec![
                    C::S("INV-1"),
                    C::S("2025-03"),
                    C::S("actual"),
                    C::S("(99.00)"),
                ],
                vec![
                    C::S("INV-1"),
                    C::S("2025-04"),
                    C::S("actual"),
                    C::S("12,5OO.00"),
                ],
            ],
        )],
    );
    let c = config(
        &ws,
        &source("c", "costs", "costs-formulas-and-text-numbers.xlsx", ""),
    );
    let ingested = ingest(&c).unwrap();
    assert_eq!(
        strings(batch(&ingested, Entity::Costs), "amount"),
        ["250.50", "1234.50", "-99.00"]
    );
    assert_eq!(
        rejects(&ingested),
        [
            "costs-formulas-and-text-numbers.xlsx!Costs!D5 | amount | 12,5OO.00 | expected an amount with at most 2 decimals, found the text \"12,5OO.00\""
        ]
    );
}

#[test]
fn a_duplicate_header_is_a_contract_error_naming_both_cells() {
    let ws = Workspace::empty();
    let mut header = costs_header();
    header.push(C::S("Note"));
    header.push(C::S("amount"));
    xlsx(
        &ws.path("costs-duplicate-header.xlsx"),
        vec![Sheet::new("Costs", vec![header])],
    );
    let err = ingest(&config(
        &ws,
        &source("c", "costs", "costs-duplicate-header.xlsx", ""),
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "input costs-duplicate-header.xlsx!Costs: column `amount`: the header \"Amount\" appears twice, at D1 and F1"
    );
    assert_eq!(err.class(), itvalue::ErrorClass::BadData);
}

#[test]
fn a_european_csv_reads_with_decimal_commas_currency_symbols_and_its_own_month_format() {
    let ws = Workspace::empty();
    fs::write(
        ws.path("costs-european.csv"),
        "\u{feff}Projekt;Monat;Szenario;Betrag\nINV-1;03.2025;actual;\"1.234,50 €\"\nINV-1;04.2025;budget;-12,5\nINV-1;05.2025;actual;1,234.50\n",
    )
    .unwrap();
    let extra = r#"delimiter = ";"
[source.columns]
investment_id = "Projekt"
period = "Monat"
scenario = "Szenario"
amount = "Betrag"
[source.rules.period]
formats = ["%m.%Y"]
[source.rules.amount]
decimal = ","
strip = ["€"]"#;
    let ingested = ingest(&config(
        &ws,
        &source("c", "costs", "costs-european.csv", extra),
    ))
    .unwrap();
    let b = batch(&ingested, Entity::Costs);
    assert_eq!(strings(b, "amount"), ["1234.50", "-12.50"]);
    assert_eq!(strings(b, "period"), ["2025-03-01", "2025-04-01"]);
    assert_eq!(
        rejects(&ingested),
        [
            "costs-european.csv!D4 | amount | 1,234.50 | expected an amount with at most 2 decimals, found the text \"1,234.50\""
        ]
    );
}

#[test]
fn monthly_files_matched_by_a_glob_feed_one_source_each_with_its_own_record() {
    let ws = Workspace::empty();
    fs::create_dir_all(ws.path("monthly")).unwrap();
    for (month, amount) in [("01", 10.0), ("02", 20.0), ("03", 30.0)] {
        let rows = vec![
            costs_header(),
            vec![
                C::S("INV-1"),
                C::S(Box::leak(format!("2025-{month}").into_boxed_str())),
                C::S("actual"),
                C::N(amount),
            ],
        ];
        xlsx(
            &ws.path(&format!("monthly/costs-2025-{month}.xlsx")),
            vec![Sheet::new("Costs", rows)],
        );
    }
    let ingested = ingest(&config(
        &ws,
        &source("c", "costs", "monthly/costs-2025-*.xlsx", ""),
    ))
    .unwrap();
    let b = batch(&ingested, Entity::Costs);
    assert_eq!(strings(b, "amount"), ["10.00", "20.00", "30.00"]);
    assert_eq!(
        strings(b, "_file"),
        [
            "costs-2025-01.xlsx",
            "costs-2025-02.xlsx",
            "costs-2025-03.xlsx"
        ]
    );
    let files: Vec<String> = ingested
        .inputs
        .iter()
        .map(|i| {
            format!(
                "{} {} {}",
                i.path.file_name().unwrap().to_string_lossy(),
                i.rows_read,
                i.rows_loaded
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            "costs-2025-01.xlsx 1 1",
            "costs-2025-02.xlsx 1 1",
            "costs-2025-03.xlsx 1 1"
        ]
    );
    assert_eq!(ingested.quality[0].files, 3);
}

const SERVICENOW: &str = r#"kind = "csv"
null_values = ["?"]
latest = { key = "incident_id", by = "sys_mod_count" }
[source.columns]
incident_id = "number"
application_id = "cmdb_ci"
severity = "priority"
[source.rules.severity.values]
"1 - Critical" = "1"
"2 - High" = "2"
"3 - Moderate" = "3"
"4 - Low" = "4"
[source.rules.opened_at]
formats = ["%d-%m-%Y %H:%M"]
[source.rules.resolved_at]
formats = ["%d-%m-%Y %H:%M"]
[source.rules.closed_at]
formats = ["%d-%m-%Y %H:%M"]
"#;

fn servicenow(ws: &Workspace, extra: &str) -> Ingested {
    fs::copy(
        repo_path("tests/fixtures/servicenow_incident_export.csv"),
        ws.path("incidents.csv"),
    )
    .unwrap();
    let text = source(
        "servicenow",
        "incidents",
        "incidents.csv",
        &format!("{SERVICENOW}{extra}"),
    );
    // TOML tables must follow the source's plain keys, so defaults go in their own table.
    ingest(&config(ws, &text)).unwrap()
}

#[test]
fn a_servicenow_audit_export_loads_one_row_per_incident_by_configuration_alone() {
    let ws = Workspace::empty();
    let ingested = servicenow(&ws, "[source.defaults]\napplication_id = \"UNASSIGNED\"\n");
    let b = batch(&ingested, Entity::Incidents);
    assert_eq!(b.num_rows(), 300);
    assert!(ingested.rejects.is_empty(), "{:?}", rejects(&ingested));
    let q = &ingested.quality[0];
    assert_eq!((q.rows, q.rows_superseded, q.rows_loaded), (300, 1455, 300));
    let severities = strings(b, "severity");
    let count = |s: &str| severities.iter().filter(|v| *v == s).count();
    assert_eq!(
        [count("1"), count("2"), count("3"), count("4")],
        [12, 80, 108, 100]
    );
    let apps = strings(b, "application_id");
    assert_eq!(apps.iter().filter(|a| *a == "UNASSIGNED").count(), 105);
    // INC7000013's latest update, read day-first.
    let ids = strings(b, "incident_id");
    let i = ids.iter().position(|id| id == "INC7000013").unwrap();
    assert_eq!(strings(b, "opened_at")[i], "2025-12-12T15:38:00");
    assert_eq!(strings(b, "resolved_at")[i], "2025-12-13T04:53:00");
    assert_eq!(strings(b, "closed_at")[i], "2025-12-18T04:53:00");
    let unresolved = strings(b, "resolved_at")
        .iter()
        .filter(|v| *v == "∅")
        .count();
    assert_eq!(unresolved, 15);
}

#[test]
fn a_servicenow_export_without_its_service_rejects_those_incidents_and_fails_its_threshold() {
    let ws = Workspace::empty();
    let ingested = servicenow(&ws, "");
    assert_eq!(ingested.rejects.len(), 105);
    let first = &ingested.rejects[0];
    assert_eq!(first.column, "application_id");
    assert_eq!(first.rule, "a value is required");
    assert_eq!(first.value, "?");
    assert!(
        first.location.starts_with("incidents.csv!T"),
        "{}",
        first.location
    );
    let q = &ingested.quality[0];
    assert_eq!((q.rows, q.rows_loaded, q.rows_rejected), (300, 195, 105));
    assert_eq!(q.reject_rate, 0.35);
    assert_eq!(q.verdict, Verdict::Fail);
    // cmdb_ci is one of four required fields per incident.
    assert_eq!(q.completeness, Some((1200.0 - 105.0) / 1200.0));
}

/// Three cost lines as a pandas or DuckDB export would hold them: a date column, a decimal
/// amount with a null, in a snappy-compressed file.
fn write_costs_parquet(path: &std::path::Path) {
    use arrow::array::{ArrayRef, Date32Array, Decimal128Array, StringArray};
    use std::sync::Arc;
    let day = |y, m, d| {
        (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
            - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days() as i32
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "Investment ID",
            Arc::new(StringArray::from(vec!["INV-1", "INV-1", "INV-2"])),
        ),
        (
            "Period",
            Arc::new(Date32Array::from(vec![
                day(2025, 3, 1),
                day(2025, 3, 17),
                day(2025, 4, 30),
            ])),
        ),
        (
            "Scenario",
            Arc::new(StringArray::from(vec!["actual", "plan", "budget"])),
        ),
        (
            "Amount",
            Arc::new(
                Decimal128Array::from(vec![Some(123_456), Some(500), None])
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let file = fs::File::create(path).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn a_parquet_file_loads_with_row_numbers_as_locations() {
    let ws = Workspace::empty();
    write_costs_parquet(&ws.path("costs.parquet"));
    let ingested = ingest(&config(&ws, &source("c", "costs", "costs.parquet", ""))).unwrap();
    let b = batch(&ingested, Entity::Costs);
    assert_eq!(strings(b, "amount"), ["1234.56"]);
    assert_eq!(strings(b, "period"), ["2025-03-01"]);
    assert_eq!(
        rejects(&ingested),
        [
            "costs.parquet!row 2 | scenario | plan | \"plan\" is not one of: actual, budget, forecast",
            "costs.parquet!row 3 | amount |  | a value is required",
        ]
    );
}

#[test]
fn quality_scores_count_missing_invalid_and_orphan_values() {
    let ws = Workspace::empty();
    xlsx(
        &ws.path("investments.xlsx"),
        vec![Sheet::new(
            "I",
            vec![
                vec![C::S("investment_id"), C::S("name"), C::S("category")],
                vec![C::S("INV-1"), C::S("One"), C::S("run")],
                vec![C::S("INV-2"), C::S("Two"), C::S("grow")],
            ],
        )],
    );
    let mut header = costs_header();
    header.extend([C::S("Currency"), C::S("Cost Pool")]);
    xlsx(
        &ws.path("costs-quality.xlsx"),
        vec![Sheet::new(
            "Costs",
            vec![
                header,
                vec![C::S("INV-1"), C::S("2025-01"), C::S("actual"), C::N(100.0)],
                vec![C::S("INV-1"), C::S("2025-01"), C::S("budget")],
                vec![C::S("INV-9"), C::S("2025-01"), C::S("actual"), C::N(50.0)],
                vec![C::S("INV-2"), C::S("2025-02"), C::S("actual"), C::S("abc")],
                vec![
                    C::S("INV-2"),
                    C::S("2025-02"),
                    C::S("budget"),
                    C::N(80.0),
                    C::S("EUR"),
                    C::S("software"),
                ],
            ],
        )],
    );
    let sources = format!(
        "{}{}",
        source("investments", "investments", "investments.xlsx", ""),
        source("costs", "costs", "costs-quality.xlsx", "")
    );
    let ingested = ingest(&config(&ws, &sources)).unwrap();
    let q = ingested
        .quality
        .iter()
        .find(|q| q.source == "costs")
        .unwrap();
    // 5 rows × 4 required fields, one amount missing.
    assert_eq!(q.completeness, Some(19.0 / 20.0));
    // 21 values present, "abc" is not an amount.
    assert_eq!(q.accuracy, Some(20.0 / 21.0));
    // The 3 rows that typed cleanly name an investment; INV-9 does not exist.
    assert_eq!(q.integrity, Some(2.0 / 3.0));
    assert_eq!((q.rows, q.rows_loaded, q.rows_rejected), (5, 2, 3));
    assert_eq!(q.reject_rate, 0.6);
    assert_eq!(q.verdict, Verdict::Fail);
    assert_eq!(
        rejects(&ingested),
        [
            "costs-quality.xlsx!Costs!D3 | amount |  | a value is required",
            "costs-quality.xlsx!Costs!D5 | amount | abc | expected an amount with at most 2 decimals, found the text \"abc\"",
            "costs-quality.xlsx!Costs!A4 | investment_id | INV-9 | investment_id INV-9 does not match any row of investments",
        ]
    );
}

#[test]
fn a_zip_that_declares_gigabytes_is_refused_before_anything_is_inflated() {
    let ws = Workspace::empty();
    zip_declaring(
        &ws.path("costs-zip-bomb.xlsx"),
        "xl/sharedStrings.xml",
        1024,
        3 << 30,
    );
    let err = ingest(&config(
        &ws,
        &source("c", "costs", "costs-zip-bomb.xlsx", ""),
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "input {}: refused: its parts declare 3.0 GiB uncompressed (up to xl/sharedStrings.xml), over the limit of 2.0 GiB (limits.max_uncompressed_bytes)",
            ws.path("costs-zip-bomb.xlsx").display()
        )
    );
    zip_declaring(
        &ws.path("costs-ratio-bomb.xlsx"),
        "xl/worksheets/sheet1.xml",
        10_240,
        100 << 20,
    );
    let err = ingest(&config(
        &ws,
        &source("c", "costs", "costs-ratio-bomb.xlsx", ""),
    ))
    .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "refused: part xl/worksheets/sheet1.xml inflates 10.0 KiB to 100.0 MiB, a ratio of 10240 over the limit of 200 (limits.max_compression_ratio)"
        ),
        "{err}"
    );
}

#[test]
fn a_sheet_with_cells_at_a1_and_xfd1048576_costs_its_cells_not_its_extent() {
    let ws = Workspace::empty();
    let path = ws.path("costs-far-corners.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["Investment ID", "Period", "Scenario", "Amount"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["INV-1", "2025-01", "actual"].iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_number(1, 3, 7.0).unwrap();
    sheet.write_string(1_048_575, 16_383, "stray").unwrap();
    workbook.save(&path).unwrap();
    // A dense read of this sheet would need 17 billion cells; the limit below is 100.
    let c = config(
        &ws,
        &format!(
            "[limits]\nmax_cells = 100\n{}",
            source("c", "costs", "costs-far-corners.xlsx", "")
        ),
    );
    let ingested = ingest(&c).unwrap();
    assert_eq!(strings(batch(&ingested, Entity::Costs), "amount"), ["7.00"]);
}

#[test]
fn a_sheet_with_more_cells_than_the_limit_is_refused() {
    let ws = Workspace::empty();
    let rows: Vec<Vec<C>> = std::iter::once(costs_header())
        .chain((0..10).map(|_| vec![C::S("INV-1"), C::S("2025-01"), C::S("actual"), C::N(1.0)]))
        .collect();
    xlsx(
        &ws.path("costs-many-cells.xlsx"),
        vec![Sheet::new("Costs", rows)],
    );
    let c = config(
        &ws,
        &format!(
            "[limits]\nmax_cells = 20\n{}",
            source("c", "costs", "costs-many-cells.xlsx", "")
        ),
    );
    let err = ingest(&c).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("refused: more than 20 non-empty cells (limits.max_cells)"),
        "{err}"
    );
}
