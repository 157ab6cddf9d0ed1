//! Writing a sample sheet as an xlsx workbook the way people keep them: a bold header row,
//! frozen, with dates, months and money in their Excel formats.

use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::schedule::Period;

/// One cell of a sample sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Blank,
    Text(String),
    Number(f64),
    /// Cents, written as a number with two decimals.
    Money(i64),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// A month, written as its first day formatted `yyyy-mm`.
    Month(Period),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn optional_text(s: Option<&str>) -> Cell {
        s.map_or(Cell::Blank, Cell::text)
    }
}

/// A single-sheet workbook.
pub struct SampleBook {
    pub file_name: &'static str,
    pub sheet: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl SampleBook {
    /// Writes the workbook to `path`, with the creation time fixed at the end of `end`.
    pub fn write(&self, path: &Path, end: Period) -> Result<()> {
        let bytes = self.to_bytes(end).map_err(|e| Error::Workbook {
            path: path.to_path_buf(),
            source: Box::new(crate::error::WorkbookError::Xlsx {
                sheet: self.sheet.to_string(),
                source: e,
            }),
        })?;
        std::fs::write(path, bytes).map_err(|e| Error::Output {
            path: path.to_path_buf(),
            source: e,
        })
    }

    fn to_bytes(&self, end: Period) -> std::result::Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        let last = end.last_day();
        let created =
            ExcelDateTime::from_ymd(last.year() as u16, last.month() as u8, last.day() as u8)?;
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let sheet = workbook.add_worksheet();
        sheet.set_name(self.sheet)?;
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let month = Format::new().set_num_format("yyyy-mm");
        for (c, header) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *header, &bold)?;
            sheet.set_column_width(c as u16, (header.chars().count() as f64 + 4.0).max(12.0))?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Blank => {}
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, c, *n)?;
                    }
                    Cell::Money(cents) => {
                        sheet.write_number_with_format(r, c, *cents as f64 / 100.0, &money)?;
                    }
                    Cell::Date(d) => {
                        sheet.write_datetime_with_format(r, c, &excel_day(*d)?, &date)?;
                    }
                    Cell::DateTime(t) => {
                        let excel = excel_day(t.date())?.and_hms(
                            t.hour() as u16,
                            t.minute() as u8,
                            f64::from(t.second()),
                        )?;
                        sheet.write_datetime_with_format(r, c, &excel, &datetime)?;
                    }
                    Cell::Month(p) => {
                        sheet.write_datetime_with_format(
                            r,
                            c,
                            &excel_day(p.first_day())?,
                            &month,
                        )?;
                    }
                }
            }
        }
        workbook.save_to_buffer()
    }
}

fn excel_day(d: NaiveDate) -> std::result::Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}
