//! Reading one spreadsheet source (xlsx, xlsm, xlsb, xls, ods) with calamine.
//!
//! In: a configured [`Source`]. Out: [`SourceRows`]: the typed rows, the rejects with their cell
//! addresses (`costs.xlsx!Costs!D17`), and the file's SHA-256 and row counts. The file is read
//! once; the hash and the parse see the same bytes.

use std::io::Cursor;

use calamine::{Data, Range, Reader, open_workbook_auto_from_rs};
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::contract::Contract;
use super::headers::{self, HeaderCell};
use super::value::{Cell, Value, type_cell};
use super::{Reject, Row, SourceRows};
use crate::config::{SheetRef, Source};
use crate::error::{Error, Result};

/// How many rows from the top are searched for the header row when none is configured.
const HEADER_SEARCH_ROWS: usize = 30;

/// Reads and types every row of `source`.
///
/// # Errors
///
/// [`Error::MissingInput`] when the file cannot be opened, [`Error::UnreadableInput`] when it is
/// not a workbook of its kind, [`Error::MissingSheet`] when the sheet is absent, and
/// [`Error::Contract`] when the header row lacks a required column or repeats one. Bad values are
/// not errors: they become rejects.
pub fn read(source: &Source) -> Result<SourceRows> {
    let bytes = std::fs::read(&source.path).map_err(|e| Error::MissingInput {
        path: source.path.clone(),
        source: e,
    })?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    let mut workbook =
        open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| Error::UnreadableInput {
            path: source.path.clone(),
            kind: source.kind.name(),
            message: e.to_string(),
        })?;
    let names = workbook.sheet_names();
    let sheet = match &source.sheet {
        None => names.first().cloned(),
        Some(SheetRef::Name(n)) => names.iter().find(|s| *s == n).cloned(),
        Some(SheetRef::Index(i)) => names.get(i - 1).cloned(),
    }
    .ok_or_else(|| Error::MissingSheet {
        path: source.path.clone(),
        sheet: match &source.sheet {
            Some(SheetRef::Name(n)) => n.clone(),
            Some(SheetRef::Index(i)) => format!("#{i}"),
            None => "#1".to_string(),
        },
        available: names.join(", "),
    })?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| Error::UnreadableInput {
            path: source.path.clone(),
            kind: source.kind.name(),
            message: format!("sheet {sheet}: {e}"),
        })?;

    let file_name = source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sheet_view = SheetView {
        range: &range,
        file_name: &file_name,
        sheet: &sheet,
    };
    let contract = source.entity.contract();
    let header_row = sheet_view.find_header_row(source, contract)?;
    let header_cells = sheet_view.header_cells(header_row);
    let columns = headers::map_columns(contract, &source.columns, &header_cells, &|c| {
        format!("{}{}", column_letters(c), header_row + 1)
    })
    .map_err(|message| sheet_view.contract_error(message))?;

    let mut out = SourceRows {
        source: source.name.clone(),
        entity: source.entity,
        path: source.path.clone(),
        sha256,
        bytes: size,
        rows_read: 0,
        rows: Vec::new(),
        rejects: Vec::new(),
        columns: columns.clone(),
        location_prefix: format!("{file_name}!{sheet}"),
    };
    let last_row = range.end().map_or(0, |(r, _)| r);
    for row in header_row + 1..=last_row {
        let cells: Vec<Cell> = columns
            .iter()
            .map(|c| c.map_or(Cell::Empty, |c| sheet_view.cell(row, c)))
            .collect();
        if cells
            .iter()
            .all(|c| matches!(c, Cell::Empty) || matches!(c, Cell::Text(s) if s.trim().is_empty()))
        {
            continue;
        }
        out.rows_read += 1;
        type_row(&mut out, contract, &cells, row + 1);
    }
    Ok(out)
}

/// Types one row's cells; a row with any bad value is kept out and each bad value is a reject.
fn type_row(out: &mut SourceRows, contract: &Contract, cells: &[Cell], sheet_row: u32) {
    let mut values = Vec::with_capacity(cells.len());
    let mut failed = false;
    for (i, (cell, column)) in cells.iter().zip(contract.columns).enumerate() {
        match type_cell(cell, column) {
            Ok(v) => values.push(v),
            Err(rule) => {
                failed = true;
                values.push(Value::Null);
                let location = match out.columns[i] {
                    Some(c) => format!("{}!{}{sheet_row}", out.location_prefix, column_letters(c)),
                    None => format!("{}!row {sheet_row}", out.location_prefix),
                };
                out.rejects.push(Reject {
                    source: out.source.clone(),
                    entity: out.entity,
                    location,
                    row_key: row_key(contract, cells),
                    column: column.name.to_string(),
                    value: cell.raw(),
                    rule,
                });
            }
        }
    }
    if !failed {
        out.rows.push(Row { values, sheet_row });
    }
}

/// The row's key as the user typed it, for reject reports ("investment_id=INV-0007").
fn row_key(contract: &Contract, cells: &[Cell]) -> String {
    contract
        .key
        .iter()
        .filter_map(|k| {
            let i = contract.index_of(k)?;
            let raw = cells[i].raw();
            (!raw.is_empty()).then(|| format!("{k}={raw}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sheet's cells addressed by absolute 0-based row and column.
struct SheetView<'a> {
    range: &'a Range<Data>,
    file_name: &'a str,
    sheet: &'a str,
}

impl SheetView<'_> {
    fn contract_error(&self, message: String) -> Error {
        Error::Contract {
            location: format!("{}!{}", self.file_name, self.sheet),
            message,
        }
    }

    fn data(&self, row: u32, column: u32) -> Option<&Data> {
        let (r0, c0) = self.range.start()?;
        if row < r0 || column < c0 {
            return None;
        }
        self.range
            .get(((row - r0) as usize, (column - c0) as usize))
    }

    fn cell(&self, row: u32, column: u32) -> Cell<'_> {
        match self.data(row, column) {
            None | Some(Data::Empty) => Cell::Empty,
            Some(Data::String(s)) => Cell::Text(s),
            Some(Data::Int(i)) => Cell::Int(*i),
            Some(Data::Float(f)) => Cell::Float(*f),
            Some(Data::Bool(b)) => Cell::Bool(*b),
            Some(Data::DateTime(dt)) if dt.is_datetime() => dt
                .as_datetime()
                .map_or(Cell::Error("#NUM!"), Cell::DateTime),
            // A duration formatted cell ([h]:mm) is not a point in time; let typing refuse it.
            Some(Data::DateTime(dt)) => Cell::Float(dt.as_f64()),
            Some(Data::DateTimeIso(s)) => parse_iso(s).map_or(Cell::Text(s), Cell::DateTime),
            Some(Data::DurationIso(s)) => Cell::Text(s),
            Some(Data::Error(e)) => Cell::Error(error_name(e)),
        }
    }

    /// The configured header row, or the first row that holds a required column's header.
    fn find_header_row(&self, source: &Source, contract: &Contract) -> Result<u32> {
        let Some(((r0, _), (r1, _))) = self.range.start().zip(self.range.end()) else {
            return Err(self.contract_error("the sheet is empty".to_string()));
        };
        if let Some(row) = source.header_row {
            let row = row - 1;
            if row < r0 || row > r1 {
                return Err(self.contract_error(format!(
                    "header_row = {}: the sheet's rows with data are {} to {}",
                    row + 1,
                    r0 + 1,
                    r1 + 1
                )));
            }
            return Ok(row);
        }
        let wanted: Vec<String> = contract
            .columns
            .iter()
            .filter(|c| c.required)
            .flat_map(|c| headers::candidates(c.name, &source.columns))
            .map(|h| headers::normalise(&h))
            .collect();
        let last = r1.min(r0 + HEADER_SEARCH_ROWS as u32 - 1);
        (r0..=last)
            .find(|&row| {
                self.header_cells(row)
                    .iter()
                    .any(|h| wanted.contains(&headers::normalise(&h.text)))
            })
            .ok_or_else(|| {
                self.contract_error(format!(
                    "no header row found in the first {HEADER_SEARCH_ROWS} rows: none holds a header of a required column of {}",
                    source.entity
                ))
            })
    }

    fn header_cells(&self, row: u32) -> Vec<HeaderCell> {
        let Some(((_, c0), (_, c1))) = self.range.start().zip(self.range.end()) else {
            return Vec::new();
        };
        (c0..=c1)
            .filter_map(|c| {
                let text = self.cell(row, c).raw();
                (!text.trim().is_empty()).then_some(HeaderCell { column: c, text })
            })
            .collect()
    }
}

fn parse_iso(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

fn error_name(e: &calamine::CellErrorType) -> &'static str {
    use calamine::CellErrorType as E;
    match e {
        E::Div0 => "#DIV/0!",
        E::NA => "#N/A",
        E::Name => "#NAME?",
        E::Null => "#NULL!",
        E::Num => "#NUM!",
        E::Ref => "#REF!",
        E::Value => "#VALUE!",
        E::GettingData => "#DATA!",
    }
}

/// Excel's column letters for a 0-based column: 0 is A, 25 is Z, 26 is AA.
pub fn column_letters(column: u32) -> String {
    let mut n = column + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::column_letters;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(column_letters(16383), "XFD");
    }
}
