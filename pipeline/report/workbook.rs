//! The committee workbook: Portfolio, Monthly (with a native chart), the model sheets the
//! configuration adds, Data Quality, Definitions and Run Info sheets.
//!
//! In: [`PackInputs`]. Out: the xlsx bytes, ready to be written atomically.

use polars::prelude::{Column, DataFrame, DataType, IntoColumn, NamedFrom, Series};
use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::sheet::{ColumnSpec, Shown, excel_date, spec, write_table};
use super::{ModelSheetData, PackInputs};
use crate::config::ColumnFormat;
use crate::format::group_thousands;
use crate::metrics::DEFINITIONS;
use crate::metrics::finance::Finance;

const PORTFOLIO: &[ColumnSpec] = &[
    spec("investment_id", "Investment", Shown::Text, 12.0),
    spec("name", "Name", Shown::Text, 34.0),
    spec("category", "Category", Shown::Text, 11.0),
    spec("value_stream", "Value stream", Shown::Text, 16.0),
    spec("status", "Status", Shown::Text, 11.0),
    spec("actual_month", "Actual (month)", Shown::Money, 15.0),
    spec("budget_month", "Budget (month)", Shown::Money, 15.0),
    spec("variance_month", "Variance (month)", Shown::Money, 16.0),
    spec(
        "variance_month_pct",
        "Variance % (month)",
        Shown::Percent,
        12.0,
    ),
    spec("actual_ytd", "Actual YTD", Shown::Money, 15.0),
    spec("budget_ytd", "Budget YTD", Shown::Money, 15.0),
    spec("variance_ytd", "Variance YTD", Shown::Money, 15.0),
    spec("variance_ytd_pct", "Variance % YTD", Shown::Percent, 12.0),
    spec("actual_to_date", "Actual to date (AC)", Shown::Money, 17.0),
    spec("budget_to_date", "Budget to date (PV)", Shown::Money, 17.0),
    spec(
        "budget_at_completion",
        "Budget at completion (BAC)",
        Shown::Money,
        17.0,
    ),
    spec("percent_complete", "% complete", Shown::Percent, 11.0),
    spec("earned_value", "Earned value (EV)", Shown::Money, 16.0),
    spec("cpi", "CPI", Shown::Ratio, 8.0),
    spec("spi", "SPI", Shown::Ratio, 8.0),
    spec("notes", "Notes", Shown::Text, 60.0),
];

const MONTHLY: &[ColumnSpec] = &[
    spec("month", "Month", Shown::Month, 10.0),
    spec("actual", "Actual", Shown::Money, 16.0),
    spec("budget", "Budget", Shown::Money, 16.0),
    spec("forecast", "Forecast", Shown::Money, 16.0),
];

const SCORES: &[ColumnSpec] = &[
    spec("source", "Source", Shown::Text, 16.0),
    spec("entity", "Entity", Shown::Text, 16.0),
    spec("rows", "Rows", Shown::Integer, 10.0),
    spec("rows_loaded", "Loaded", Shown::Integer, 10.0),
    spec("rows_rejected", "Rejected", Shown::Integer, 10.0),
    spec("rows_superseded", "Superseded", Shown::Integer, 11.0),
    spec("completeness", "Completeness", Shown::Percent, 13.0),
    spec("accuracy", "Accuracy", Shown::Percent, 10.0),
    spec("integrity", "Integrity", Shown::Percent, 10.0),
    spec("reject_rate", "Reject rate", Shown::Percent, 11.0),
    spec("max_reject_rate", "Threshold", Shown::Percent, 10.0),
    spec("verdict", "Verdict", Shown::Text, 9.0),
];

const INPUTS: &[ColumnSpec] = &[
    spec("source", "Source", Shown::Text, 16.0),
    spec("entity", "Entity", Shown::Text, 16.0),
    spec("file", "File", Shown::Text, 40.0),
    spec("rows_read", "Rows read", Shown::Integer, 11.0),
    spec("rows_loaded", "Rows loaded", Shown::Integer, 11.0),
    spec("rows_rejected", "Rows rejected", Shown::Integer, 12.0),
    spec("sha256", "SHA-256", Shown::Text, 66.0),
];

const REJECTS: &[ColumnSpec] = &[
    spec("location", "Location", Shown::Text, 30.0),
    spec("source", "Source", Shown::Text, 16.0),
    spec("row_key", "Row key", Shown::Text, 30.0),
    spec("column", "Column", Shown::Text, 16.0),
    spec("value", "Value", Shown::Text, 16.0),
    spec("rule", "Rule broken", Shown::Text, 60.0),
];

/// The chart's data: month labels and the two series (`None` for a month whose figure is
/// unknown).
pub struct ActualVsBudget {
    pub months: Vec<String>,
    pub actual: Vec<Option<f64>>,
    pub budget: Vec<Option<f64>>,
}

/// Builds the workbook in memory.
///
/// # Errors
///
/// A message naming the sheet and rust_xlsxwriter's reason (which states the Excel limit hit).
pub fn build(inputs: &PackInputs) -> Result<Vec<u8>, String> {
    let mut workbook = Workbook::new();
    // A fixed creation time (the period's end) keeps reruns of a period byte-for-byte comparable.
    let created = excel_date(inputs.period.last_day()).map_err(|e| e.to_string())?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("itvalue {}", inputs.period))
            .set_creation_datetime(&created),
    );
    let in_sheet = |name: &'static str| move |e: XlsxError| format!("sheet {name}: {e}");
    if let Some(finance) = inputs.finance {
        portfolio(workbook.add_worksheet(), inputs, finance).map_err(in_sheet("Portfolio"))?;
        monthly(workbook.add_worksheet(), inputs, finance).map_err(in_sheet("Monthly"))?;
    }
    for (i, data) in inputs.model_sheets.iter().enumerate() {
        check_excel_limits(data)?;
        model_sheet(workbook.add_worksheet(), inputs, data, i)
            .map_err(|e| format!("sheet {}: {e}", data.sheet.title))?;
    }
    data_quality(workbook.add_worksheet(), inputs).map_err(in_sheet("Data Quality"))?;
    definitions(workbook.add_worksheet()).map_err(in_sheet("Definitions"))?;
    run_info(workbook.add_worksheet(), inputs).map_err(in_sheet("Run Info"))?;
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// Excel's rows per sheet, and the rows above a model's data (title, blank, header).
const EXCEL_ROWS: usize = 1_048_576;
const ROWS_ABOVE_DATA: usize = 3;
const EXCEL_COLUMNS: usize = 16_384;

fn check_excel_limits(data: &ModelSheetData) -> Result<(), String> {
    let (rows, columns) = data.frame.shape();
    let title = &data.sheet.title;
    let model = &data.sheet.model;
    if rows + ROWS_ABOVE_DATA > EXCEL_ROWS {
        return Err(format!(
            "sheet {title}: model {model} has {rows} rows, over Excel's limit of {EXCEL_ROWS} rows per sheet ({ROWS_ABOVE_DATA} of them hold the title and header); narrow it with `where`"
        ));
    }
    if columns > EXCEL_COLUMNS {
        return Err(format!(
            "sheet {title}: model {model} has {columns} columns, over Excel's limit of {EXCEL_COLUMNS}"
        ));
    }
    Ok(())
}

/// How many of `total` rejects fit below a table header at the 0-based `header_row`.
fn rejects_that_fit(header_row: u32, total: usize) -> usize {
    let room = EXCEL_ROWS.saturating_sub(header_row as usize + 1);
    total.min(room)
}

fn shown_as(format: ColumnFormat) -> Shown {
    match format {
        ColumnFormat::Text => Shown::Text,
        ColumnFormat::Integer => Shown::Integer,
        ColumnFormat::Number => Shown::Number,
        ColumnFormat::Money => Shown::Money,
        ColumnFormat::Percent => Shown::Percent,
        ColumnFormat::Ratio => Shown::Ratio,
        ColumnFormat::Month => Shown::Month,
        ColumnFormat::Date => Shown::Date,
        ColumnFormat::Datetime => Shown::DateTime,
    }
}

/// A model as an Excel table, its columns formatted as configured or by their type.
fn model_sheet(
    sheet: &mut Worksheet,
    inputs: &PackInputs,
    data: &ModelSheetData,
    index: usize,
) -> Result<(), XlsxError> {
    let spec_of = &data.sheet;
    sheet.set_name(&spec_of.title)?;
    title(
        sheet,
        &format!(
            "{} ({}, model {})",
            spec_of.title, inputs.period, spec_of.model
        ),
    )?;
    let columns: Vec<ColumnSpec> = data
        .frame
        .columns()
        .iter()
        .map(|c| {
            let name = c.name().as_str();
            let header = spec_of.headers.get(name).map_or(name, String::as_str);
            let width = (header.chars().count() as f64 + 4.0).clamp(10.0, 50.0);
            let shown = spec_of
                .formats
                .get(name)
                .map_or_else(|| Shown::for_type(c.dtype()), |f| shown_as(*f));
            ColumnSpec {
                column: name,
                header,
                shown,
                width,
            }
        })
        .collect();
    write_table(
        sheet,
        2,
        &data.frame,
        &columns,
        &format!("Model{}", index + 1),
    )?;
    sheet.set_freeze_panes(3, 0)?;
    Ok(())
}

fn title(sheet: &mut Worksheet, text: &str) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, text, &Format::new().set_bold().set_font_size(14))?;
    Ok(())
}

fn portfolio(
    sheet: &mut Worksheet,
    inputs: &PackInputs,
    finance: &Finance,
) -> Result<(), XlsxError> {
    sheet.set_name("Portfolio")?;
    title(
        sheet,
        &format!(
            "Portfolio as of {} (amounts in {})",
            inputs.period, inputs.reporting_currency
        ),
    )?;
    write_table(sheet, 2, &finance.investments, PORTFOLIO, "Portfolio")?;
    sheet.set_freeze_panes(3, 2)?;
    Ok(())
}

fn monthly(sheet: &mut Worksheet, inputs: &PackInputs, finance: &Finance) -> Result<(), XlsxError> {
    sheet.set_name("Monthly")?;
    title(
        sheet,
        &format!(
            "Portfolio cost by month, 12 months to {} ({})",
            inputs.period, inputs.reporting_currency
        ),
    )?;
    let frame = &finance.portfolio_monthly;
    let last = write_table(sheet, 2, frame, MONTHLY, "Monthly")?;
    sheet.set_freeze_panes(3, 0)?;

    let mut chart = Chart::new(ChartType::Column);
    for (column, name) in [(1, "Actual"), (2, "Budget")] {
        chart
            .add_series()
            .set_name(name)
            .set_categories(("Monthly", 3, 0, last, 0))
            .set_values(("Monthly", 3, column, last, column));
    }
    chart.title().set_name(&format!(
        "Actual vs budget, 12 months to {} ({})",
        inputs.period, inputs.reporting_currency
    ));
    chart.x_axis().set_num_format("yyyy-mm");
    chart.y_axis().set_num_format("#,##0");
    chart.set_width(760).set_height(400);
    sheet.insert_chart(2, 5, &chart)?;
    Ok(())
}

fn data_quality(sheet: &mut Worksheet, inputs: &PackInputs) -> Result<(), XlsxError> {
    sheet.set_name("Data Quality")?;
    let run = inputs.run;
    title(
        sheet,
        &format!(
            "Data quality of run {}: {} rejected value(s)",
            run.run_id,
            run.rejects.len()
        ),
    )?;
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
    let bold = Format::new().set_bold();
    let mut last = write_table(sheet, 2, &scores, SCORES, "Scores")?;

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
    sheet.write_string_with_format(last + 2, 0, "Input files", &bold)?;
    last = write_table(sheet, last + 3, &files, INPUTS, "Inputs")?;

    // The rejects table is the sheet's last: its header sits below the other tables, and it
    // holds as many rejects as Excel's rows allow. The rest are counted, never dropped silently.
    let header_row = last + 3;
    let shown = &run.rejects[..rejects_that_fit(header_row, run.rejects.len())];
    let rejects = frame(vec![
        text_column("location", shown.iter().map(|r| r.location.clone())),
        text_column("source", shown.iter().map(|r| r.source.clone())),
        text_column("row_key", shown.iter().map(|r| r.row_key.clone())),
        text_column("column", shown.iter().map(|r| r.column.clone())),
        text_column("value", shown.iter().map(|r| r.value.clone())),
        text_column("rule", shown.iter().map(|r| r.rule.clone())),
    ])?;
    let heading = if shown.len() < run.rejects.len() {
        format!(
            "Rejected values: the first {} of {}; Excel's limit of {} rows per sheet leaves no room for the other {}, which ledger.rejects holds for run {}",
            group_thousands(shown.len() as i64),
            group_thousands(run.rejects.len() as i64),
            group_thousands(EXCEL_ROWS as i64),
            group_thousands((run.rejects.len() - shown.len()) as i64),
            run.run_id
        )
    } else {
        "Rejected values".to_string()
    };
    sheet.write_string_with_format(last + 2, 0, &heading, &bold)?;
    write_table(sheet, header_row, &rejects, REJECTS, "Rejects")?;
    // The tables share the sheet's columns: each column gets the widest of its widths.
    for c in 0..SCORES.len() {
        let width = |specs: &[ColumnSpec]| specs.get(c).map_or(0.0, |s| s.width);
        let widest = width(SCORES).max(width(INPUTS)).max(width(REJECTS));
        sheet.set_column_width(c as u16, widest)?;
    }
    Ok(())
}

fn definitions(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    sheet.set_name("Definitions")?;
    title(sheet, "Definitions of every figure")?;
    let frame = frame(vec![
        text_column("figure", DEFINITIONS.iter().map(|d| d.figure.to_string())),
        text_column("column", DEFINITIONS.iter().map(|d| d.column.to_string())),
        text_column("formula", DEFINITIONS.iter().map(|d| d.formula.to_string())),
        text_column(
            "when_empty",
            DEFINITIONS.iter().map(|d| d.when_empty.to_string()),
        ),
    ])?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    write_table(
        sheet,
        2,
        &frame,
        &[
            spec("figure", "Figure", Shown::Text, 26.0),
            spec(
                "column",
                "Column in metrics.investment_finance",
                Shown::Text,
                24.0,
            ),
            spec("formula", "Definition", Shown::Text, 80.0),
            spec("when_empty", "When empty", Shown::Text, 50.0),
        ],
        "Definitions",
    )?;
    sheet.set_column_format(2, &wrap)?;
    sheet.set_column_format(3, &wrap)?;
    Ok(())
}

fn run_info(sheet: &mut Worksheet, inputs: &PackInputs) -> Result<(), XlsxError> {
    sheet.set_name("Run Info")?;
    title(sheet, "Run information")?;
    let run = inputs.run;
    let rows = [
        ("Run ID", run.run_id.clone()),
        ("Period", inputs.period.to_string()),
        ("Started (UTC)", run.started_at.clone()),
        ("itvalue version", crate::VERSION.to_string()),
        ("Configuration", run.config_path.display().to_string()),
        ("Warehouse", run.warehouse.display().to_string()),
        ("Reporting currency", inputs.reporting_currency.to_string()),
        ("Inputs", run.inputs.len().to_string()),
        ("Rejected values", run.rejects.len().to_string()),
        (
            "FX rates",
            if run.fx.is_empty() {
                "no amounts to convert".to_string()
            } else {
                run.fx.join("; ")
            },
        ),
        (
            "Failed outside the pack",
            run.failures
                .clone()
                .unwrap_or_else(|| "nothing".to_string()),
        ),
        (
            "Models",
            count_by(run.models.iter().map(|m| m.status.as_str())),
        ),
        (
            "Data tests",
            count_by(run.tests.iter().map(|t| t.status.as_str())),
        ),
    ];
    let bold = Format::new().set_bold();
    for (i, (key, value)) in rows.iter().enumerate() {
        let row = 2 + i as u32;
        sheet.write_string_with_format(row, 0, *key, &bold)?;
        sheet.write_string(row, 1, value)?;
    }
    let mut next = 2 + rows.len() as u32 + 1;
    if !run.left_out.is_empty() {
        sheet.write_string_with_format(next, 0, "Left out of this pack", &bold)?;
        for item in &run.left_out {
            next += 1;
            sheet.write_string(next, 0, &item.what)?;
            sheet.write_string(next, 1, &item.reason)?;
        }
        next += 2;
    }
    let models_row = next + 1;
    sheet.write_string_with_format(models_row - 1, 0, "Models", &bold)?;
    let models = frame(vec![
        text_column("model", run.models.iter().map(|m| m.name.clone())),
        text_column(
            "status",
            run.models.iter().map(|m| m.status.as_str().to_string()),
        ),
        text_column(
            "materialized",
            run.models
                .iter()
                .map(|m| m.materialized.as_str().to_string()),
        ),
        optional_count_column("rows", run.models.iter().map(|m| m.rows)),
        count_column("milliseconds", run.models.iter().map(|m| m.milliseconds)),
        text_column(
            "path",
            run.models.iter().map(|m| m.path.display().to_string()),
        ),
        text_column("message", run.models.iter().map(|m| m.message.clone())),
    ])?;
    let last = write_table(
        sheet,
        models_row,
        &models,
        &[
            spec("model", "Model", Shown::Text, 24.0),
            spec("status", "Status", Shown::Text, 12.0),
            spec("materialized", "Materialized", Shown::Text, 13.0),
            spec("rows", "Rows", Shown::Integer, 12.0),
            spec("milliseconds", "Time (ms)", Shown::Integer, 12.0),
            spec("path", "File", Shown::Text, 50.0),
            spec("message", "Message", Shown::Text, 60.0),
        ],
        "Models",
    )?;
    let tests_row = last + 3;
    sheet.write_string_with_format(tests_row - 1, 0, "Data tests", &bold)?;
    let tests = frame(vec![
        text_column("test", run.tests.iter().map(|t| t.name.clone())),
        text_column(
            "status",
            run.tests.iter().map(|t| t.status.as_str().to_string()),
        ),
        text_column(
            "severity",
            run.tests.iter().map(|t| t.severity.as_str().to_string()),
        ),
        optional_count_column("failures", run.tests.iter().map(|t| t.failures)),
        text_column("model", run.tests.iter().map(|t| t.model.clone())),
        text_column("kind", run.tests.iter().map(|t| t.kind.to_string())),
        text_column(
            "failures_table",
            run.tests
                .iter()
                .map(|t| t.failures_table.clone().unwrap_or_default()),
        ),
        text_column("message", run.tests.iter().map(|t| t.message.clone())),
    ])?;
    write_table(
        sheet,
        tests_row,
        &tests,
        &[
            spec("test", "Test", Shown::Text, 24.0),
            spec("status", "Status", Shown::Text, 12.0),
            spec("severity", "Severity", Shown::Text, 13.0),
            spec("failures", "Failing rows", Shown::Integer, 12.0),
            spec("model", "Model", Shown::Text, 30.0),
            spec("kind", "Kind", Shown::Text, 16.0),
            spec("failures_table", "Failing rows kept in", Shown::Text, 44.0),
            spec("message", "Message", Shown::Text, 60.0),
        ],
        "DataTests",
    )?;
    // The key-value block above shares columns A and B with the models table.
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 44)?;
    Ok(())
}

/// The Monthly frame as chart series.
///
/// # Errors
///
/// A message when the frame lacks its columns.
pub fn actual_vs_budget(inputs: &PackInputs) -> Result<ActualVsBudget, String> {
    let frame = &inputs
        .finance
        .ok_or("no finance figures for the chart")?
        .portfolio_monthly;
    let floats = |name: &str| -> Result<Vec<Option<f64>>, String> {
        let series = frame
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| e.to_string())?;
        let values = series.f64().map_err(|e| e.to_string())?;
        // An empty month (no lines, or a line without an FX rate) draws as no bar, as the
        // workbook's chart shows its empty cell.
        Ok(values.iter().collect())
    };
    let months = frame
        .column("month")
        .and_then(|c| c.cast(&DataType::String))
        .map_err(|e| e.to_string())?;
    let months = months
        .str()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|m| m.map(|m| m[..7].to_string()).unwrap_or_default())
        .collect();
    Ok(ActualVsBudget {
        months,
        actual: floats("actual")?,
        budget: floats("budget")?,
    })
}

fn text_column(name: &str, values: impl Iterator<Item = String>) -> Column {
    Series::new(name.into(), values.collect::<Vec<String>>()).into_column()
}

fn count_column(name: &str, values: impl Iterator<Item = u64>) -> Column {
    Series::new(name.into(), values.map(|v| v as i64).collect::<Vec<i64>>()).into_column()
}

fn optional_count_column(name: &str, values: impl Iterator<Item = Option<u64>>) -> Column {
    Series::new(
        name.into(),
        values
            .map(|v| v.map(|v| v as i64))
            .collect::<Vec<Option<i64>>>(),
    )
    .into_column()
}

/// `12 success, 1 skipped`: how many of each status, in first-seen order.
fn count_by<'a>(statuses: impl Iterator<Item = &'a str>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for status in statuses {
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => counts.push((status, 1)),
        }
    }
    if counts.is_empty() {
        return "none".to_string();
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn share_column(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Series::new(name.into(), values.collect::<Vec<Option<f64>>>()).into_column()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame, XlsxError> {
    DataFrame::new_infer_height(columns).map_err(|e| XlsxError::ParameterError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rejects_table_stops_at_excels_last_row_and_counts_the_rest() {
        // A header on row 41 (0-based 40) leaves rows 42 to 1,048,576 for rejects.
        assert_eq!(rejects_that_fit(40, 10), 10);
        assert_eq!(rejects_that_fit(40, 2_000_000), 1_048_535);
        assert_eq!(rejects_that_fit(1_048_575, 5), 0);
    }
}
