//! Writing a DataFrame as an Excel table: typed cells, number formats, a header with autofilter,
//! frozen panes. Text is always written as text, never as a formula.
//!
//! In: a worksheet, a DataFrame and the columns to show. Out: the cells, and the range written.

use polars::prelude::{AnyValue, DataFrame, DataType};

use crate::labels::Lang;
use crate::metrics::catalogue::{Column, Unit};
use rust_xlsxwriter::{
    ExcelDateTime, Format, Table, TableColumn, TableStyle, Worksheet, XlsxError,
};

/// How a column of `dtype` is shown when nothing says otherwise.
pub fn unit_for_type(dtype: &DataType) -> Unit {
    match dtype {
        DataType::Date => Unit::Date,
        DataType::Datetime(..) => Unit::DateTime,
        DataType::Decimal(..) => Unit::Money,
        DataType::Float32 | DataType::Float64 => Unit::Number,
        d if d.is_integer() => Unit::Integer,
        _ => Unit::Text,
    }
}

/// One column of a sheet's table: the frame column, its header, how it is shown and how wide.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub column: String,
    pub header: String,
    pub unit: Unit,
    pub width: f64,
    /// Long text wrapped within the column, aligned to the top.
    pub wrap: bool,
    /// Conditional formats of the whole column (a recommendation of `stop` in red).
    pub highlights: Vec<Highlight>,
}

/// A conditional format: cells meeting the rule are filled in the tone's colour, by Excel
/// itself, so an edited value is re-coloured.
#[derive(Debug, Clone, PartialEq)]
pub enum Highlight {
    TextIs(String, Tone),
    Below(f64, Tone),
    AtMost(f64, Tone),
    Above(f64, Tone),
    AtLeast(f64, Tone),
    /// From the first bound to the second, both included.
    Within(f64, f64, Tone),
    Outside(f64, f64, Tone),
}

/// The fill of a highlighted cell: green, amber or red (with a dark text of the same hue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
}

impl Tone {
    fn format(self) -> Format {
        let (fill, font) = match self {
            Tone::Good => (0xC6EFCE, 0x006100),
            Tone::Warn => (0xFFEB9C, 0x9C5700),
            Tone::Bad => (0xFFC7CE, 0x9C0006),
        };
        Format::new()
            .set_background_color(fill)
            .set_font_color(font)
    }
}

/// Adds `highlight` to the cells `first_row..=last_row` of column `col`.
fn add_highlight(
    sheet: &mut Worksheet,
    (first_row, last_row, col): (u32, u32, u16),
    highlight: &Highlight,
) -> Result<(), XlsxError> {
    use rust_xlsxwriter::{
        ConditionalFormatCell, ConditionalFormatCellRule as Rule, ConditionalFormatText,
        ConditionalFormatTextRule,
    };
    match highlight {
        Highlight::TextIs(text, tone) => {
            let rule = ConditionalFormatText::new()
                .set_rule(ConditionalFormatTextRule::BeginsWith(text.clone()))
                .set_format(tone.format());
            sheet.add_conditional_format(first_row, col, last_row, col, &rule)?;
        }
        Highlight::Below(v, tone)
        | Highlight::AtMost(v, tone)
        | Highlight::Above(v, tone)
        | Highlight::AtLeast(v, tone)
        | Highlight::Within(v, _, tone)
        | Highlight::Outside(v, _, tone) => {
            let rule = match highlight {
                Highlight::Below(..) => Rule::LessThan(*v),
                Highlight::AtMost(..) => Rule::LessThanOrEqualTo(*v),
                Highlight::Above(..) => Rule::GreaterThan(*v),
                Highlight::Within(_, to, _) => Rule::Between(*v, *to),
                Highlight::Outside(_, to, _) => Rule::NotBetween(*v, *to),
                _ => Rule::GreaterThanOrEqualTo(*v),
            };
            let format = ConditionalFormatCell::new()
                .set_rule(rule)
                .set_format(tone.format());
            sheet.add_conditional_format(first_row, col, last_row, col, &format)?;
        }
    }
    Ok(())
}

impl ColumnSpec {
    pub fn new(column: &str, header: &str, unit: Unit, width: f64) -> ColumnSpec {
        ColumnSpec {
            column: column.to_string(),
            header: header.to_string(),
            unit,
            width,
            wrap: false,
            highlights: Vec::new(),
        }
    }

    /// The same column with conditional formats.
    pub fn highlighted(mut self, highlights: Vec<Highlight>) -> ColumnSpec {
        self.highlights = highlights;
        self
    }

    /// A column as a metric table declares it, with its header in `lang`.
    pub fn declared(column: &Column, lang: Lang) -> ColumnSpec {
        ColumnSpec::new(
            column.name,
            column.header.get(lang),
            column.unit,
            column.width,
        )
    }

    /// The same column, its text wrapped.
    pub fn wrapped(mut self) -> ColumnSpec {
        self.wrap = true;
        self
    }
}

/// The Excel number format of a unit.
pub fn number_format(unit: Unit) -> &'static str {
    match unit {
        Unit::Text => "",
        Unit::Money => "#,##0.00;[Red]-#,##0.00",
        Unit::Percent => "0.0%;[Red]-0.0%",
        Unit::Ratio => "0.00",
        Unit::Integer => "#,##0",
        Unit::Number => "#,##0.00",
        Unit::Month => "yyyy-mm",
        Unit::Date => "yyyy-mm-dd",
        Unit::DateTime => "yyyy-mm-dd hh:mm",
    }
}

fn format_for(unit: Unit) -> Format {
    match unit {
        Unit::Text => Format::new(),
        other => Format::new().set_num_format(number_format(other)),
    }
}

/// Writes `frame`'s `columns` as an Excel table whose header is at `first_row`, and returns the
/// last row written (the header row when the frame is empty).
///
/// # Errors
///
/// rust_xlsxwriter's error, which names the Excel limit a value exceeds (text over 32,767
/// characters, more than 1,048,576 rows); the caller adds the sheet and file.
pub fn write_table(
    sheet: &mut Worksheet,
    first_row: u32,
    frame: &DataFrame,
    columns: &[ColumnSpec],
    table_name: &str,
    extras: &super::spec::CellExtras,
) -> Result<u32, XlsxError> {
    let rows = frame.height() as u32;
    let last_row = first_row + rows.max(1);
    let mut table_columns = Vec::with_capacity(columns.len());
    for (c, spec) in columns.iter().enumerate() {
        let c = c as u16;
        let format = format_for(spec.unit);
        sheet.set_column_width(c, spec.width)?;
        let column_units = of_column(&extras.units, &spec.column);
        // A table column's format is laid over its cells, so a column formatted row by row
        // leaves it out.
        let table_column = TableColumn::new().set_header(spec.header.as_str());
        table_columns.push(if column_units.is_empty() {
            table_column.set_format(format.clone())
        } else {
            table_column
        });
        let series = frame
            .column(&spec.column)
            .map_err(|e| XlsxError::ParameterError(e.to_string()))?
            .as_materialized_series();
        let series = match series.dtype() {
            DataType::Decimal(..) => series
                .cast(&DataType::Float64)
                .map_err(|e| XlsxError::ParameterError(e.to_string()))?,
            _ => series.clone(),
        };
        let column_formulas = of_column(&extras.formulas, &spec.column);
        let column_links = of_column(&extras.links, &spec.column);
        for (r, value) in series.iter().enumerate() {
            let row = first_row + 1 + r as u32;
            let format = column_units
                .get(r)
                .map_or_else(|| format.clone(), |unit| format_for(*unit));
            match (
                column_formulas.get(r).and_then(Option::as_deref),
                column_links.get(r).and_then(Option::as_deref),
            ) {
                (Some(formula), _) => write_formula(sheet, row, c, formula, &value, &format)?,
                (None, Some(place)) => {
                    let text = match &value {
                        AnyValue::Null => String::new(),
                        AnyValue::String(s) => s.to_string(),
                        AnyValue::StringOwned(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    let url = rust_xlsxwriter::Url::new(format!("internal:{place}")).set_text(text);
                    sheet.write_url(row, c, &url)?;
                }
                (None, None) => write_value(sheet, row, c, &value, &format)?,
            }
        }
        if rows > 0 {
            for highlight in &spec.highlights {
                add_highlight(sheet, (first_row + 1, first_row + rows, c), highlight)?;
            }
            {
                for (r, rules) in of_column(&extras.highlights, &spec.column)
                    .iter()
                    .enumerate()
                {
                    let row = first_row + 1 + r as u32;
                    for highlight in rules {
                        add_highlight(sheet, (row, row, c), highlight)?;
                    }
                }
            }
        }
    }
    let table = Table::new()
        .set_name(table_name)
        .set_style(TableStyle::Medium2)
        .set_columns(&table_columns);
    sheet.add_table(first_row, 0, last_row, columns.len() as u16 - 1, &table)?;
    Ok(last_row)
}

/// The per-row values a list gives for `column` (none when it does not name it).
fn of_column<'a, T>(list: &'a [(String, Vec<T>)], column: &str) -> &'a [T] {
    list.iter()
        .find(|(name, _)| name == column)
        .map_or(&[], |(_, values)| values.as_slice())
}

/// A formula with `{row}` filled in and `value` as its cached result, so that a reader that
/// does not recalculate shows the figure itvalue computed.
fn write_formula(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    formula: &str,
    value: &AnyValue,
    format: &Format,
) -> Result<(), XlsxError> {
    let text = formula.replace("{row}", &(row + 1).to_string());
    let cached = match value {
        AnyValue::Float64(f) => f.to_string(),
        AnyValue::Null => String::new(),
        other => other
            .extract::<f64>()
            .map_or_else(|| other.to_string(), |f| f.to_string()),
    };
    sheet.write_formula_with_format(
        row,
        col,
        rust_xlsxwriter::Formula::new(text).set_result(cached),
        format,
    )?;
    Ok(())
}

fn write_value(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: &AnyValue,
    format: &Format,
) -> Result<(), XlsxError> {
    match value {
        AnyValue::Null => {
            sheet.write_blank(row, col, format)?;
        }
        AnyValue::String(s) => {
            sheet.write_string_with_format(row, col, *s, format)?;
        }
        AnyValue::StringOwned(s) => {
            sheet.write_string_with_format(row, col, s.as_str(), format)?;
        }
        AnyValue::Float64(f) => {
            sheet.write_number_with_format(row, col, *f, format)?;
        }
        AnyValue::Int64(i) => {
            sheet.write_number_with_format(row, col, *i as f64, format)?;
        }
        AnyValue::Int32(i) => {
            sheet.write_number_with_format(row, col, f64::from(*i), format)?;
        }
        AnyValue::UInt32(i) => {
            sheet.write_number_with_format(row, col, f64::from(*i), format)?;
        }
        AnyValue::Int8(_)
        | AnyValue::Int16(_)
        | AnyValue::UInt8(_)
        | AnyValue::UInt16(_)
        | AnyValue::UInt64(_)
        | AnyValue::Float32(_) => match value.extract::<f64>() {
            Some(number) => {
                sheet.write_number_with_format(row, col, number, format)?;
            }
            None => {
                sheet.write_string_with_format(row, col, value.to_string(), format)?;
            }
        },
        AnyValue::Boolean(b) => {
            sheet.write_boolean_with_format(row, col, *b, format)?;
        }
        AnyValue::Datetime(..) | AnyValue::DatetimeOwned(..) => {
            // Microseconds (DuckDB's TIMESTAMP) since 1970, shown in Excel's serial days.
            let micros = match value {
                AnyValue::Datetime(v, unit, _) | AnyValue::DatetimeOwned(v, unit, _) => {
                    match unit {
                        polars::prelude::TimeUnit::Nanoseconds => v / 1_000,
                        polars::prelude::TimeUnit::Microseconds => *v,
                        polars::prelude::TimeUnit::Milliseconds => v * 1_000,
                    }
                }
                _ => 0,
            };
            let serial = 25_569.0 + micros as f64 / 86_400_000_000.0;
            sheet.write_number_with_format(row, col, serial, format)?;
        }
        AnyValue::Date(days) => {
            let day = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
                + chrono::Duration::days(i64::from(*days));
            let excel = excel_date(day)?;
            sheet.write_datetime_with_format(row, col, &excel, format)?;
        }
        // Lists, structs, durations and the like have no cell type; their text is shown.
        other => {
            sheet.write_string_with_format(row, col, other.to_string(), format)?;
        }
    }
    Ok(())
}

/// The Excel date for a calendar day.
pub fn excel_date(day: chrono::NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    use chrono::Datelike;
    ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)
}
