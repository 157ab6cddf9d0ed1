//! The committee workbook as sheet specifications: Portfolio and Monthly (from the metric
//! catalogue's declarations), the model sheets the configuration adds, Data Quality, Definitions
//! (from the same declarations) and Run Info.
//!
//! In: [`PackInputs`]. Out: the [`SheetSpec`]s, and the xlsx bytes they render to.

use polars::prelude::{Column as FrameColumn, DataFrame, IntoColumn, NamedFrom, Series};
use rust_xlsxwriter::{DocProperties, Workbook};

use super::cash_flows::cash_flow_sheet;
use super::family_sheets::{FAMILY_SHEETS, family_sheet};
use super::sheet::{ColumnSpec, unit_for_type};
use super::spec::{Block, ChartKind, ChartSpec, SeriesSpec, SheetSpec, TableBlock, write_sheet};
use super::{ModelSheetData, PackInputs};
use crate::config::ColumnFormat;
use crate::error::WorkbookError;
use crate::labels::{self as label, Lang};
use crate::metrics::catalogue::{FAMILIES, Table, Unit};
use crate::metrics::finance::{INVESTMENT_CASH_FLOWS, INVESTMENT_FINANCE, PORTFOLIO_MONTHLY};

/// Excel's columns per sheet, and the rows above a model's data (title, blank, header).
const EXCEL_COLUMNS: usize = 16_384;
const ROWS_ABOVE_DATA: usize = 3;

/// The colours of the actual-vs-budget chart's series.
const ACTUAL_COLOUR: u32 = 0x1f4e79;
const BUDGET_COLOUR: u32 = 0xa5a5a5;

/// Every sheet of the pack, in order.
///
/// # Errors
///
/// [`WorkbookError::OverLimit`] when a model sheet passes an Excel limit;
/// [`WorkbookError::Frame`] when a table frame cannot be assembled.
pub fn sheets(inputs: &PackInputs) -> Result<Vec<SheetSpec>, WorkbookError> {
    let mut sheets = Vec::new();
    if let Some(frame) = inputs.figures.get(INVESTMENT_FINANCE.name) {
        let columns = declared_columns(&INVESTMENT_FINANCE, inputs.lang);
        let flows = inputs
            .figures
            .get(INVESTMENT_CASH_FLOWS.name)
            .zip(columns.iter().position(|c| c.column == "discount_rate"))
            .map(|(flows, rate)| {
                cash_flow_sheet(
                    frame,
                    flows,
                    rate as u16,
                    inputs.period,
                    inputs.reporting_currency,
                    inputs.lang,
                )
            })
            .transpose()?;
        let mut table = TableBlock::new("Portfolio", frame.clone(), columns);
        if let Some(flows) = &flows {
            table.extras.formulas = flows.formulas.clone();
        }
        sheets.push(portfolio(inputs, table));
        sheets.extend(flows.map(|f| f.sheet));
    }
    if let Some(frame) = inputs.figures.get(PORTFOLIO_MONTHLY.name) {
        sheets.push(monthly(inputs, frame));
    }
    sheets.extend(super::scenarios::scenario_sheets(inputs)?);
    for spec in &FAMILY_SHEETS {
        sheets.extend(family_sheet(inputs, spec)?);
    }
    for (i, data) in inputs.model_sheets.iter().enumerate() {
        check_excel_limits(data)?;
        sheets.push(model_sheet(inputs, data, i));
    }
    sheets.push(data_quality(inputs)?);
    sheets.push(definitions(inputs)?);
    sheets.push(run_info(inputs)?);
    // The Summary links into the others, so it is made last and shown first.
    let summary = super::summary::summary(inputs, &sheets)?;
    sheets.insert(0, summary);
    Ok(sheets)
}

/// Renders `sheets` as the workbook's bytes.
///
/// # Errors
///
/// [`WorkbookError`] naming the sheet and the Excel limit a value exceeds.
pub fn render(inputs: &PackInputs, sheets: &[SheetSpec]) -> Result<Vec<u8>, WorkbookError> {
    let mut workbook = Workbook::new();
    let properties = |source| WorkbookError::Xlsx {
        sheet: "(properties)".into(),
        source,
    };
    let created =
        rust_xlsxwriter::ExcelDateTime::from_timestamp(inputs.created.and_utc().timestamp())
            .map_err(properties)?;
    let mut document = DocProperties::new()
        .set_title(format!("itvalue {}", inputs.period))
        .set_subject(
            label::DOCUMENT_SUBJECT.fill(inputs.lang, &[("period", &inputs.period.to_string())]),
        )
        .set_author("itvalue")
        .set_creation_datetime(&created);
    if let Some(company) = &inputs.report.company {
        document = document.set_company(company);
    }
    workbook.set_properties(&document);
    let mut bubbles = Vec::new();
    for sheet in sheets {
        bubbles.extend(write_sheet(&mut workbook, sheet)?);
    }
    let bytes = workbook.save_to_buffer().map_err(properties)?;
    super::bubbles::finish(bytes, &bubbles).map_err(|message| WorkbookError::Package { message })
}

/// A metric table's declared columns, except the period (the sheet's title says it).
fn declared_columns(table: &Table, lang: Lang) -> Vec<ColumnSpec> {
    table
        .columns
        .iter()
        .filter(|c| c.name != "period")
        .map(|c| ColumnSpec::declared(table, c, lang))
        .collect()
}

fn period_and_currency(inputs: &PackInputs) -> [(&'static str, String); 2] {
    [
        ("period", inputs.period.to_string()),
        ("currency", inputs.reporting_currency.to_string()),
    ]
}

fn fill(words: label::Words, lang: Lang, values: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    words.fill(lang, &pairs)
}

fn portfolio(inputs: &PackInputs, table: TableBlock) -> SheetSpec {
    let lang = inputs.lang;
    SheetSpec {
        name: label::PORTFOLIO.get(lang).to_string(),
        blocks: vec![
            Block::Title(fill(
                label::PORTFOLIO_TITLE,
                lang,
                &period_and_currency(inputs),
            )),
            Block::Table(table),
        ],
        freeze: Some((3, 2)),
        names: Vec::new(),
    }
}

/// The chart of the Monthly sheet: actual against budget over the twelve months.
pub fn actual_vs_budget(inputs: &PackInputs) -> ChartSpec {
    let lang = inputs.lang;
    ChartSpec {
        title: fill(label::ACTUAL_VS_BUDGET, lang, &period_and_currency(inputs)),
        kind: ChartKind::Column,
        table: "Monthly".into(),
        categories: "month".into(),
        rows: None,
        series: vec![
            SeriesSpec::new("actual", label::ACTUAL.get(lang), ACTUAL_COLOUR),
            SeriesSpec::new("budget", label::BUDGET.get(lang), BUDGET_COLOUR),
        ],
        category_format: "yyyy-mm".into(),
        category_label: None,
        value_format: "#,##0".into(),
        value_label: inputs.reporting_currency.to_string(),
        image: Some(format!("actual-vs-budget-{}", inputs.period)),
    }
}

fn monthly(inputs: &PackInputs, frame: &DataFrame) -> SheetSpec {
    let lang = inputs.lang;
    SheetSpec {
        name: label::MONTHLY.get(lang).to_string(),
        blocks: vec![
            Block::Title(fill(
                label::MONTHLY_TITLE,
                lang,
                &period_and_currency(inputs),
            )),
            Block::Table(TableBlock::new(
                "Monthly",
                frame.clone(),
                declared_columns(&PORTFOLIO_MONTHLY, lang),
            )),
            Block::Chart(actual_vs_budget(inputs)),
        ],
        freeze: Some((3, 0)),
        names: Vec::new(),
    }
}

fn check_excel_limits(data: &ModelSheetData) -> Result<(), WorkbookError> {
    let (rows, columns) = data.frame.shape();
    let title = &data.sheet.title;
    let model = &data.sheet.model;
    let over = |message: String| WorkbookError::OverLimit {
        sheet: title.clone(),
        message,
    };
    if rows + ROWS_ABOVE_DATA > super::spec::EXCEL_ROWS {
        return Err(over(format!(
            "model {model} has {rows} rows, over Excel's limit of {} rows per sheet ({ROWS_ABOVE_DATA} of them hold the title and header); narrow it with `where`",
            super::spec::EXCEL_ROWS
        )));
    }
    if columns > EXCEL_COLUMNS {
        return Err(over(format!(
            "model {model} has {columns} columns, over Excel's limit of {EXCEL_COLUMNS}"
        )));
    }
    Ok(())
}

fn unit_of(format: ColumnFormat) -> Unit {
    match format {
        ColumnFormat::Text => Unit::Text,
        ColumnFormat::Integer => Unit::Integer,
        ColumnFormat::Number => Unit::Number,
        ColumnFormat::Money => Unit::Money,
        ColumnFormat::Percent => Unit::Percent,
        ColumnFormat::Ratio => Unit::Ratio,
        ColumnFormat::Month => Unit::Month,
        ColumnFormat::Date => Unit::Date,
        ColumnFormat::Datetime => Unit::DateTime,
    }
}

/// A model as an Excel table, its columns formatted as configured or by their type.
fn model_sheet(inputs: &PackInputs, data: &ModelSheetData, index: usize) -> SheetSpec {
    let sheet = &data.sheet;
    let columns = data
        .frame
        .columns()
        .iter()
        .map(|c| {
            let name = c.name().as_str();
            let header = sheet.headers.get(name).map_or(name, String::as_str);
            let width = (header.chars().count() as f64 + 4.0).clamp(10.0, 50.0);
            let unit = sheet
                .formats
                .get(name)
                .map_or_else(|| unit_for_type(c.dtype()), |f| unit_of(*f));
            ColumnSpec::new(name, header, unit, width)
        })
        .collect();
    SheetSpec {
        name: sheet.title.clone(),
        blocks: vec![
            Block::Title(label::MODEL_SHEET_TITLE.fill(
                inputs.lang,
                &[
                    ("title", &sheet.title),
                    ("period", &inputs.period.to_string()),
                    ("model", &sheet.model),
                ],
            )),
            Block::Table(TableBlock::new(
                &format!("Model{}", index + 1),
                data.frame.clone(),
                columns,
            )),
        ],
        freeze: Some((3, 0)),
        names: Vec::new(),
    }
}

fn data_quality(inputs: &PackInputs) -> Result<SheetSpec, WorkbookError> {
    let lang = inputs.lang;
    let run = inputs.run;
    let sheet = label::DATA_QUALITY.get(lang);
    let frame = |columns| frame(sheet, columns);
    let q = &run.quality;
    let scores = frame(vec![
        text_column("source", q.iter().map(|q| q.source.clone())),
        text_column("entity", q.iter().map(|q| q.entity.name().to_string())),
        count_column("rows", q.iter().map(|q| q.rows)),
        count_column("rows_loaded", q.iter().map(|q| q.rows_loaded)),
        count_column("rows_rejected", q.iter().map(|q| q.rows_rejected)),
        count_column("rows_superseded", q.iter().map(|q| q.rows_superseded)),
        share_column("completeness", q.iter().map(|q| q.completeness)),
        share_column("accuracy", q.iter().map(|q| q.accuracy)),
        share_column("integrity", q.iter().map(|q| q.integrity)),
        share_column("reject_rate", q.iter().map(|q| Some(q.reject_rate))),
        share_column("max_reject_rate", q.iter().map(|q| Some(q.max_reject_rate))),
        text_column("verdict", q.iter().map(|q| q.verdict.as_str().to_string())),
    ])?;
    let col = |name: &str, words: label::Words, unit, width| {
        ColumnSpec::new(name, words.get(lang), unit, width)
    };
    let score_columns = vec![
        col("source", label::SOURCE, Unit::Text, 16.0),
        col("entity", label::ENTITY, Unit::Text, 16.0),
        col("rows", label::ROWS, Unit::Integer, 10.0),
        col("rows_loaded", label::LOADED, Unit::Integer, 10.0),
        col("rows_rejected", label::REJECTED, Unit::Integer, 10.0),
        col("rows_superseded", label::SUPERSEDED, Unit::Integer, 11.0),
        col("completeness", label::COMPLETENESS, Unit::Percent, 13.0),
        col("accuracy", label::ACCURACY, Unit::Percent, 10.0),
        col("integrity", label::INTEGRITY, Unit::Percent, 10.0),
        col("reject_rate", label::REJECT_RATE, Unit::Percent, 11.0),
        col("max_reject_rate", label::THRESHOLD, Unit::Percent, 10.0),
        col("verdict", label::VERDICT, Unit::Text, 9.0),
    ];
    let files = frame(vec![
        text_column("source", run.inputs.iter().map(|i| i.source.clone())),
        text_column(
            "entity",
            run.inputs.iter().map(|i| i.entity.name().to_string()),
        ),
        text_column(
            "file",
            run.inputs.iter().map(|i| i.path.display().to_string()),
        ),
        count_column("rows_read", run.inputs.iter().map(|i| i.rows_read)),
        count_column("rows_loaded", run.inputs.iter().map(|i| i.rows_loaded)),
        count_column("rows_rejected", run.inputs.iter().map(|i| i.rows_rejected)),
        text_column("sha256", run.inputs.iter().map(|i| i.sha256.clone())),
    ])?;
    let file_columns = vec![
        col("source", label::SOURCE, Unit::Text, 16.0),
        col("entity", label::ENTITY, Unit::Text, 16.0),
        col("file", label::FILE, Unit::Text, 40.0),
        col("rows_read", label::ROWS_READ, Unit::Integer, 11.0),
        col("rows_loaded", label::ROWS_LOADED, Unit::Integer, 11.0),
        col("rows_rejected", label::ROWS_REJECTED, Unit::Integer, 12.0),
        col("sha256", label::SHA256, Unit::Text, 66.0),
    ];
    let r = &run.rejects;
    let rejects = frame(vec![
        text_column("location", r.iter().map(|r| r.location.clone())),
        text_column("source", r.iter().map(|r| r.source.clone())),
        text_column("row_key", r.iter().map(|r| r.row_key.clone())),
        text_column("column", r.iter().map(|r| r.column.clone())),
        text_column("value", r.iter().map(|r| r.value.clone())),
        text_column("rule", r.iter().map(|r| r.rule.clone())),
    ])?;
    let reject_columns = vec![
        col("location", label::LOCATION, Unit::Text, 30.0),
        col("source", label::SOURCE, Unit::Text, 16.0),
        col("row_key", label::ROW_KEY, Unit::Text, 30.0),
        col("column", label::COLUMN, Unit::Text, 16.0),
        col("value", label::VALUE, Unit::Text, 16.0),
        col("rule", label::RULE_BROKEN, Unit::Text, 60.0),
    ];
    // The rejects table is the sheet's last, and holds as many rejects as Excel's rows allow;
    // its heading then says how many more ledger.rejects holds.
    let mut rejects = TableBlock::new("Rejects", rejects, reject_columns)
        .headed(label::REJECTED_VALUES.get(lang).to_string());
    let limit = crate::format::group_thousands(super::spec::EXCEL_ROWS as i64);
    // {shown}, {total} and {rest} are left for the layout, which knows how many rows fit.
    rejects.heading_when_cut =
        Some(label::REJECTED_VALUES_CUT.fill(lang, &[("limit", &limit), ("run_id", &run.run_id)]));
    Ok(SheetSpec {
        name: sheet.to_string(),
        blocks: vec![
            Block::Title(label::DATA_QUALITY_TITLE.fill(
                lang,
                &[
                    ("run_id", &run.run_id),
                    ("rejects", &run.rejects.len().to_string()),
                ],
            )),
            Block::Table(TableBlock::new("Scores", scores, score_columns)),
            Block::Table(
                TableBlock::new("Inputs", files, file_columns)
                    .headed(label::INPUT_FILES.get(lang).to_string()),
            ),
            Block::Table(rejects),
        ],
        freeze: None,
        names: Vec::new(),
    })
}

/// Every figure of the tables in the pack, from the families' declarations.
fn definitions(inputs: &PackInputs) -> Result<SheetSpec, WorkbookError> {
    let lang = inputs.lang;
    let sheet = label::DEFINITIONS.get(lang);
    let mut rows: Vec<[String; 6]> = Vec::new();
    for family in FAMILIES {
        for table in family.tables {
            // A table without rows (no scenario configured, say) shows no figure to define.
            if inputs
                .figures
                .get(table.name)
                .is_none_or(|f| f.height() == 0)
            {
                continue;
            }
            let mut sources: Vec<&str> = family.models.to_vec();
            for earlier in family.after {
                if let Some(f) = FAMILIES.iter().find(|f| f.name == *earlier) {
                    sources.extend(f.tables.iter().map(|t| t.name));
                }
            }
            for column in table.columns {
                if let Some(d) = table.definition(column, lang) {
                    rows.push([
                        table.header(column, lang).to_string(),
                        format!("{}.{}", table.name, column.name),
                        d.formula.to_string(),
                        unit_words(column.unit, lang, inputs.reporting_currency),
                        sources.join(", "),
                        d.when_empty.to_string(),
                    ]);
                }
            }
        }
    }
    let field = |i: usize| rows.iter().map(move |r| r[i].clone());
    let frame = frame(
        sheet,
        vec![
            text_column("figure", field(0)),
            text_column("column", field(1)),
            text_column("formula", field(2)),
            text_column("unit", field(3)),
            text_column("sources", field(4)),
            text_column("when_empty", field(5)),
        ],
    )?;
    let columns = vec![
        ColumnSpec::new("figure", label::FIGURE.get(lang), Unit::Text, 26.0),
        ColumnSpec::new(
            "column",
            label::COLUMN_IN_METRICS.get(lang),
            Unit::Text,
            24.0,
        ),
        ColumnSpec::new("formula", label::DEFINITION.get(lang), Unit::Text, 80.0).wrapped(),
        ColumnSpec::new("unit", label::UNIT.get(lang), Unit::Text, 14.0),
        ColumnSpec::new("sources", label::SOURCES.get(lang), Unit::Text, 30.0).wrapped(),
        ColumnSpec::new("when_empty", label::WHEN_EMPTY.get(lang), Unit::Text, 50.0).wrapped(),
    ];
    Ok(SheetSpec {
        name: sheet.to_string(),
        blocks: vec![
            Block::Title(label::DEFINITIONS_TITLE.get(lang).to_string()),
            Block::Table(TableBlock::new("Definitions", frame, columns)),
        ],
        freeze: None,
        names: Vec::new(),
    })
}

/// What a unit's figures are, in words.
fn unit_words(unit: Unit, lang: Lang, currency: &str) -> String {
    let words = match unit {
        Unit::Text => label::UNIT_TEXT,
        Unit::Money => label::UNIT_MONEY,
        Unit::Percent => label::UNIT_PERCENT,
        Unit::Ratio => label::UNIT_RATIO,
        Unit::Integer => label::UNIT_INTEGER,
        Unit::Number => label::UNIT_NUMBER,
        Unit::Month => label::UNIT_MONTH,
        Unit::Date => label::UNIT_DATE,
        Unit::DateTime => label::UNIT_DATETIME,
    };
    words.fill(lang, &[("currency", currency)])
}

fn run_info(inputs: &PackInputs) -> Result<SheetSpec, WorkbookError> {
    let lang = inputs.lang;
    let run = inputs.run;
    let sheet = label::RUN_INFO.get(lang);
    let l = |w: label::Words| w.get(lang).to_string();
    let rows = vec![
        (l(label::RUN_ID), run.run_id.clone()),
        (l(label::PERIOD), inputs.period.to_string()),
        (l(label::STARTED_UTC), run.started_at.clone()),
        (l(label::VERSION), crate::VERSION.to_string()),
        (
            l(label::CONFIGURATION),
            run.config_path.display().to_string(),
        ),
        (l(label::WAREHOUSE), run.warehouse.display().to_string()),
        (
            l(label::REPORTING_CURRENCY),
            inputs.reporting_currency.to_string(),
        ),
        (l(label::INPUTS), inputs_text(run)),
        (l(label::REJECTS), run.rejects.len().to_string()),
        (
            l(label::FX_RATES),
            if run.fx.is_empty() {
                l(label::NO_AMOUNTS)
            } else {
                run.fx.join("; ")
            },
        ),
        (
            l(label::FAILED_OUTSIDE),
            run.failures.clone().unwrap_or_else(|| l(label::NOTHING)),
        ),
        (
            l(label::MODELS),
            count_by(run.models.iter().map(|m| m.status.as_str()), lang),
        ),
        (
            l(label::DATA_TESTS),
            count_by(run.tests.iter().map(|t| t.status.as_str()), lang),
        ),
    ];
    let mut rows = rows;
    rows.extend(
        run.late
            .iter()
            .map(|l| (super::restated::late_label(lang), l.clone())),
    );
    rows.extend(run.figures.iter().cloned());
    let mut blocks = vec![
        Block::Title(l(label::RUN_INFO_TITLE)),
        Block::KeyValues {
            rows,
            widths: Some((24.0, 44.0)),
        },
    ];
    if !run.left_out.is_empty() {
        blocks.push(Block::Heading(l(label::LEFT_OUT)));
        blocks.push(Block::KeyValues {
            rows: run
                .left_out
                .iter()
                .map(|i| (i.what.clone(), i.reason.clone()))
                .collect(),
            widths: None,
        });
    }
    if let Some(restated) = &run.restated {
        blocks.extend(super::restated::blocks(restated, sheet, lang)?);
    }
    blocks.push(Block::Table(models_table(inputs, sheet)?));
    blocks.push(Block::Table(tests_table(inputs, sheet)?));
    Ok(SheetSpec {
        name: sheet.to_string(),
        blocks,
        freeze: None,
        names: Vec::new(),
    })
}

fn models_table(inputs: &PackInputs, sheet: &str) -> Result<TableBlock, WorkbookError> {
    let lang = inputs.lang;
    let m = &inputs.run.models;
    let models = frame(
        sheet,
        vec![
            text_column("model", m.iter().map(|m| m.name.clone())),
            text_column("status", m.iter().map(|m| m.status.as_str().to_string())),
            text_column(
                "materialized",
                m.iter().map(|m| m.materialized.as_str().to_string()),
            ),
            optional_count_column("rows", m.iter().map(|m| m.rows)),
            count_column("milliseconds", m.iter().map(|m| m.milliseconds)),
            text_column("path", m.iter().map(|m| m.path.display().to_string())),
            text_column("message", m.iter().map(|m| m.message.clone())),
        ],
    )?;
    let col = |name: &str, words: label::Words, unit, width| {
        ColumnSpec::new(name, words.get(lang), unit, width)
    };
    Ok(TableBlock::new(
        "Models",
        models,
        vec![
            col("model", label::MODEL, Unit::Text, 24.0),
            col("status", label::STATUS, Unit::Text, 12.0),
            col("materialized", label::MATERIALIZED, Unit::Text, 13.0),
            col("rows", label::ROWS, Unit::Integer, 12.0),
            col("milliseconds", label::TIME_MS, Unit::Integer, 12.0),
            col("path", label::FILE, Unit::Text, 50.0),
            col("message", label::MESSAGE, Unit::Text, 60.0),
        ],
    )
    .headed(label::MODELS.get(lang).to_string()))
}

fn tests_table(inputs: &PackInputs, sheet: &str) -> Result<TableBlock, WorkbookError> {
    let lang = inputs.lang;
    let t = &inputs.run.tests;
    let tests = frame(
        sheet,
        vec![
            text_column("test", t.iter().map(|t| t.name.clone())),
            text_column("status", t.iter().map(|t| t.status.as_str().to_string())),
            text_column(
                "severity",
                t.iter().map(|t| t.severity.as_str().to_string()),
            ),
            optional_count_column("failures", t.iter().map(|t| t.failures)),
            text_column("model", t.iter().map(|t| t.model.clone())),
            text_column("kind", t.iter().map(|t| t.kind.to_string())),
            text_column(
                "failures_table",
                t.iter()
                    .map(|t| t.failures_table.clone().unwrap_or_default()),
            ),
            text_column("message", t.iter().map(|t| t.message.clone())),
        ],
    )?;
    let col = |name: &str, words: label::Words, unit, width| {
        ColumnSpec::new(name, words.get(lang), unit, width)
    };
    Ok(TableBlock::new(
        "DataTests",
        tests,
        vec![
            col("test", label::TEST, Unit::Text, 24.0),
            col("status", label::STATUS, Unit::Text, 12.0),
            col("severity", label::SEVERITY, Unit::Text, 13.0),
            col("failures", label::FAILING_ROWS, Unit::Integer, 12.0),
            col("model", label::MODEL, Unit::Text, 30.0),
            col("kind", label::KIND, Unit::Text, 16.0),
            col(
                "failures_table",
                label::FAILING_ROWS_KEPT_IN,
                Unit::Text,
                44.0,
            ),
            col("message", label::MESSAGE, Unit::Text, 60.0),
        ],
    )
    .headed(label::DATA_TESTS.get(lang).to_string()))
}

fn text_column(name: &str, values: impl Iterator<Item = String>) -> FrameColumn {
    Series::new(name.into(), values.collect::<Vec<String>>()).into_column()
}

fn count_column(name: &str, values: impl Iterator<Item = u64>) -> FrameColumn {
    Series::new(name.into(), values.map(|v| v as i64).collect::<Vec<i64>>()).into_column()
}

fn optional_count_column(name: &str, values: impl Iterator<Item = Option<u64>>) -> FrameColumn {
    Series::new(
        name.into(),
        values
            .map(|v| v.map(|v| v as i64))
            .collect::<Vec<Option<i64>>>(),
    )
    .into_column()
}

fn share_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> FrameColumn {
    Series::new(name.into(), values.collect::<Vec<Option<f64>>>()).into_column()
}

/// `11` or `11 (10 unchanged since run …, reused)`.
fn inputs_text(run: &super::RunInfo) -> String {
    let reused: Vec<&str> = run
        .inputs
        .iter()
        .filter_map(|i| i.reused_from.as_deref())
        .collect();
    if reused.is_empty() {
        return run.inputs.len().to_string();
    }
    format!(
        "{} ({} unchanged and reused: their rows, rejects and scores are those typed by run {})",
        run.inputs.len(),
        reused.len(),
        {
            let mut runs: Vec<&str> = reused.clone();
            runs.sort_unstable();
            runs.dedup();
            runs.join(", ")
        }
    )
}

/// `12 success, 1 skipped`: how many of each status, in first-seen order.
fn count_by<'a>(statuses: impl Iterator<Item = &'a str>, lang: Lang) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for status in statuses {
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status, 1)),
        }
    }
    if counts.is_empty() {
        return label::NONE.get(lang).to_string();
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn frame(sheet: &str, columns: Vec<FrameColumn>) -> Result<DataFrame, WorkbookError> {
    DataFrame::new_infer_height(columns).map_err(|source| WorkbookError::Frame {
        sheet: sheet.to_string(),
        source,
    })
}
