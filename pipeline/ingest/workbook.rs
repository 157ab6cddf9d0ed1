//! Reading one sheet of a workbook (xlsx, xlsm, xlsb, xls, ods) into a [`Grid`] with calamine.
//!
//! In: the file's bytes and its source. Out: the sheet's non-empty cells. Before calamine inflates
//! anything, the zip container's declared sizes are checked against the configured limits, so a
//! zip bomb is refused without being expanded; xlsx and xlsb sheets are then streamed cell by
//! cell, so a sheet whose two cells sit at A1 and XFD1048576 costs two cells, not a dense range of
//! seventeen billion. xls (bounded by its format) and ods sheets are read as calamine ranges.
//! Dates arrive already converted from the workbook's 1900 or 1904 system.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, DataRef, Ods, Reader, SheetType, SheetVisible, Xls, Xlsb, Xlsx};

use super::grid::{Addressing, Grid, GridRow, RawCell};
use crate::config::{Limits, SheetRef, Source, SourceKind};
use crate::error::{Error, Result};

/// Streams the chosen sheet's cells from an xlsx or xlsb book into the sink, one cell at a time,
/// so no grid of the sheet's declared extent is ever allocated. The two readers share no trait, so
/// this is a macro rather than a generic function. Evaluates to the sheet's name.
macro_rules! stream_cells {
    ($book:ident, $path:expr, $source:expr, $cells:ident, $unreadable:ident) => {{
        let mut book = $book;
        let sheet = choose_sheet($path, book.sheets_metadata(), $source)?;
        let mut reader = book
            .worksheet_cells_reader(&sheet)
            .map_err(|e| $unreadable(format!("sheet {sheet}: {e}")))?;
        let mut shared = SharedStrings::default();
        while let Some(cell) = reader
            .next_cell()
            .map_err(|e| $unreadable(format!("sheet {sheet}: {e}")))?
        {
            $cells.push(
                cell.get_position(),
                from_data_ref(cell.get_value(), &mut shared),
            )?;
        }
        sheet
    }};
}

/// Reads the source's sheet from `bytes`, the content of `path`.
///
/// # Errors
///
/// [`Error::InputTooLarge`] when the container or the sheet passes a limit,
/// [`Error::UnreadableInput`] when the file is not a workbook of its kind, [`Error::MissingSheet`]
/// when the sheet is absent.
pub fn read(path: &Path, bytes: Vec<u8>, source: &Source, limits: &Limits) -> Result<Grid> {
    let unreadable = |message: String| Error::UnreadableInput {
        path: path.to_path_buf(),
        kind: source.kind.name(),
        message,
    };
    if matches!(
        source.kind,
        SourceKind::Xlsx | SourceKind::Xlsm | SourceKind::Xlsb | SourceKind::Ods
    ) {
        check_container(path, &bytes, limits, source.kind)?;
    }
    let file_name = file_name(path);
    let mut cells = CellSink::new(path, limits);
    let sheet = match source.kind {
        SourceKind::Xlsx | SourceKind::Xlsm => {
            let book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
            stream_cells!(book, path, source, cells, unreadable)
        }
        SourceKind::Xlsb => {
            let book: Xlsb<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsbError| unreadable(e.to_string()))?;
            stream_cells!(book, path, source, cells, unreadable)
        }
        // xls is bounded by its format (65,536 rows × 256 columns, at most 16.8 million cells).
        SourceKind::Xls => {
            let mut book: Xls<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::XlsError| unreadable(e.to_string()))?;
            let sheet = choose_sheet(path, book.sheets_metadata(), source)?;
            let range = book
                .worksheet_range(&sheet)
                .map_err(|e| unreadable(format!("sheet {sheet}: {e}")))?;
            push_range(&mut cells, &range)?;
            sheet
        }
        // ods: calamine builds the sheet as a dense range; the container's declared sizes were
        // checked above, but repeated-row attributes inside content.xml are not (see the README).
        _ => {
            let mut book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e: calamine::OdsError| unreadable(e.to_string()))?;
            let sheet = choose_sheet(path, book.sheets_metadata(), source)?;
            let range = book
                .worksheet_range(&sheet)
                .map_err(|e| unreadable(format!("sheet {sheet}: {e}")))?;
            push_range(&mut cells, &range)?;
            sheet
        }
    };
    Ok(Grid {
        file_name,
        addressing: Addressing::Sheet(sheet),
        rows: cells.into_rows(),
    })
}

fn push_range(cells: &mut CellSink, range: &calamine::Range<Data>) -> Result<()> {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    for (row, column, value) in range.used_cells() {
        cells.push((r0 + row as u32, c0 + column as u32), from_data(value))?;
    }
    Ok(())
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The configured sheet, or the first visible worksheet: a hidden first sheet usually holds
/// lookups, and a chart sheet holds no cells.
fn choose_sheet(path: &Path, sheets: &[calamine::Sheet], source: &Source) -> Result<String> {
    let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
    let found = match &source.sheet {
        None => sheets
            .iter()
            .find(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
            .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
            .map(|s| s.name.clone()),
        Some(SheetRef::Name(n)) => names.iter().find(|s| *s == n).map(|s| s.to_string()),
        Some(SheetRef::Index(i)) => names.get(i - 1).map(|s| s.to_string()),
    };
    let sheet = found.ok_or_else(|| Error::MissingSheet {
        path: path.to_path_buf(),
        sheet: match &source.sheet {
            Some(SheetRef::Name(n)) => n.clone(),
            Some(SheetRef::Index(i)) => format!("#{i}"),
            None => "#1".to_string(),
        },
        available: names.join(", "),
    })?;
    if let Some(s) = sheets
        .iter()
        .find(|s| s.name == sheet && s.visible != SheetVisible::Visible)
    {
        tracing::info!(path = %path.display(), sheet = %s.name, "reading a hidden sheet, as configured");
    }
    Ok(sheet)
}

/// Refuses a zip container whose parts declare more than the limits allow, before any part is
/// inflated: the total uncompressed size, and the compression ratio of any large part.
fn check_container(path: &Path, bytes: &[u8], limits: &Limits, kind: SourceKind) -> Result<()> {
    let too_large = |message: String| Error::InputTooLarge {
        path: path.to_path_buf(),
        message,
    };
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Not a zip: calamine will say what it is not.
        return Ok(());
    };
    let mut total: u64 = 0;
    let mut shared_strings = None;
    for i in 0..zip.len() {
        // The central directory is all that is read: nothing is inflated.
        let part = zip.by_index_data(i).map_err(|e| Error::UnreadableInput {
            path: path.to_path_buf(),
            kind: "zip",
            message: format!("part {i} of the container: {e}"),
        })?;
        let name = String::from_utf8_lossy(part.name_raw()).into_owned();
        let (size, packed) = (part.size(), part.compressed_size());
        if name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
            shared_strings = Some((i, name.clone(), size));
        }
        total = total.saturating_add(size);
        if total > limits.max_uncompressed_bytes {
            return Err(too_large(format!(
                "its parts declare {} uncompressed (up to {name}), over the limit of {} (limits.max_uncompressed_bytes)",
                bytes_text(total),
                bytes_text(limits.max_uncompressed_bytes)
            )));
        }
        if size > 1 << 20 && size / packed.max(1) > limits.max_compression_ratio {
            return Err(too_large(format!(
                "part {name} inflates {} to {}, a ratio of {} over the limit of {} (limits.max_compression_ratio)",
                bytes_text(packed),
                bytes_text(size),
                size / packed.max(1),
                limits.max_compression_ratio
            )));
        }
    }
    if let Some((index, name, size)) = shared_strings {
        check_shared_string_count(path, &mut zip, index, &name, size)?;
    }
    if kind == SourceKind::Ods {
        check_ods_complete(path, &mut zip)?;
    }
    Ok(())
}

/// Refuses an ods whose `content.xml` stops before its closing tag: calamine's ods reader never
/// returns on such a file, it loops at the end (found by fuzzing: a truncated part spun for good).
/// The part is inflated as a stream, keeping only its last bytes, and its declared size was bounded
/// above.
fn check_ods_complete(path: &Path, zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<()> {
    use std::io::Read;
    const CLOSING: &[u8] = b"</office:document-content>";
    let unreadable = |message: String| Error::UnreadableInput {
        path: path.to_path_buf(),
        kind: "ods",
        message,
    };
    let Ok(mut part) = zip.by_name("content.xml") else {
        // calamine names the missing part.
        return Ok(());
    };
    let mut buffer = vec![0u8; 64 << 10];
    let mut tail: Vec<u8> = Vec::with_capacity(512);
    loop {
        let n = part
            .read(&mut buffer)
            .map_err(|e| unreadable(format!("content.xml cannot be inflated: {e}")))?;
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > 256 {
            tail.drain(..tail.len() - 256);
        }
    }
    let end = tail.trim_ascii_end();
    if end.ends_with(CLOSING) {
        Ok(())
    } else {
        Err(unreadable(
            "content.xml ends before its closing </office:document-content> tag: the file is truncated or damaged".to_string(),
        ))
    }
}

/// The most shared strings a part of `size` bytes can hold: the shortest entry, `<si/>`, takes 5.
const BYTES_PER_SHARED_STRING: u64 = 5;

/// Refuses a shared-string table whose `uniqueCount` promises more strings than its part can hold:
/// calamine reserves room for that many strings before reading one, so a 1 KB workbook declaring
/// 4,294,967,296 of them would ask for 103 GB (found by fuzzing). Only the start of the part is
/// inflated, 64 KiB at most.
fn check_shared_string_count(
    path: &Path,
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    name: &str,
    size: u64,
) -> Result<()> {
    use std::io::Read;
    let Ok(part) = zip.by_index(index) else {
        return Ok(());
    };
    let mut head = Vec::with_capacity(4096);
    if part.take(64 << 10).read_to_end(&mut head).is_err() {
        // A damaged part: calamine will name the damage.
        return Ok(());
    }
    let text = String::from_utf8_lossy(&head);
    let Some(start) = text.find("uniqueCount=") else {
        return Ok(());
    };
    let digits: String = text[start + "uniqueCount=".len()..]
        .chars()
        .skip(1)
        .take_while(char::is_ascii_digit)
        .collect();
    let Ok(count) = digits.parse::<u64>() else {
        return Ok(());
    };
    let room = size / BYTES_PER_SHARED_STRING;
    if count > room {
        return Err(Error::InputTooLarge {
            path: path.to_path_buf(),
            message: format!(
                "part {name} declares {count} shared strings (uniqueCount), more than its {} can hold; the workbook is damaged",
                bytes_text(size)
            ),
        });
    }
    Ok(())
}

fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// One allocation per distinct shared string of a workbook, found by the address calamine
/// hands out for it (its shared-string table lives as long as the sheet reader).
#[derive(Default)]
struct SharedStrings {
    by_address: std::collections::HashMap<(usize, usize), std::sync::Arc<str>>,
}

impl SharedStrings {
    fn get(&mut self, s: &str) -> std::sync::Arc<str> {
        let key = (s.as_ptr() as usize, s.len());
        self.by_address
            .entry(key)
            .or_insert_with(|| std::sync::Arc::from(s))
            .clone()
    }
}

/// Collects non-empty cells into rows, refusing more cells, or more text, than the configured
/// limits allow.
pub struct CellSink<'a> {
    path: &'a Path,
    max_cells: u64,
    max_text_bytes: u64,
    count: u64,
    text_bytes: u64,
    rows: Vec<GridRow>,
}

impl<'a> CellSink<'a> {
    pub fn new(path: &'a Path, limits: &Limits) -> Self {
        CellSink {
            path,
            max_cells: limits.max_cells,
            max_text_bytes: limits.max_text_bytes,
            count: 0,
            text_bytes: 0,
            rows: Vec::new(),
        }
    }

    /// Adds the cell at the 0-based `(row, column)`; empty cells are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::InputTooLarge`] past `limits.max_cells` cells or `limits.max_text_bytes` of text,
    /// counting a shared string once for every cell that shows it: that is what typing the cells
    /// would copy.
    pub fn push(&mut self, (row, column): (u32, u32), cell: Option<RawCell>) -> Result<()> {
        let Some(cell) = cell else { return Ok(()) };
        self.count += 1;
        if self.count > self.max_cells {
            return Err(Error::InputTooLarge {
                path: self.path.to_path_buf(),
                message: format!(
                    "more than {} non-empty cells (limits.max_cells)",
                    self.max_cells
                ),
            });
        }
        self.text_bytes += match &cell {
            RawCell::Text(s) => s.len() as u64,
            RawCell::Shared(s) => s.len() as u64,
            _ => 0,
        };
        if self.text_bytes > self.max_text_bytes {
            return Err(Error::InputTooLarge {
                path: self.path.to_path_buf(),
                message: format!(
                    "its cells expand to more than {} of text (limits.max_text_bytes), counting each cell that repeats a shared string",
                    bytes_text(self.max_text_bytes)
                ),
            });
        }
        let number = row + 1;
        match self.rows.last_mut() {
            Some(last) if last.number == number => last.cells.push((column, cell)),
            _ => self.rows.push(GridRow {
                number,
                cells: vec![(column, cell)],
            }),
        }
        Ok(())
    }

    /// The rows in row order, each with its cells in column order.
    pub fn into_rows(mut self) -> Vec<GridRow> {
        // Writers almost always store cells in order; sorting makes the rare exception correct.
        self.rows.sort_by_key(|r| r.number);
        let mut merged: Vec<GridRow> = Vec::with_capacity(self.rows.len());
        for row in self.rows {
            match merged.last_mut() {
                Some(last) if last.number == row.number => last.cells.extend(row.cells),
                _ => merged.push(row),
            }
        }
        for row in &mut merged {
            row.cells.sort_by_key(|(c, _)| *c);
        }
        merged
    }
}

fn from_data_ref(value: &DataRef, shared: &mut SharedStrings) -> Option<RawCell> {
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) => RawCell::Text(s.clone()),
        DataRef::SharedString(s) => RawCell::Shared(shared.get(s)),
        DataRef::Int(i) => RawCell::Int(*i),
        DataRef::Float(f) => RawCell::Float(*f),
        DataRef::Bool(b) => RawCell::Bool(*b),
        DataRef::DateTime(dt) => excel_datetime(dt),
        DataRef::DateTimeIso(s) => iso_datetime(s),
        DataRef::DurationIso(s) => RawCell::Text(s.clone()),
        DataRef::Error(e) => RawCell::Error(error_name(e)),
    })
}

fn from_data(value: &Data) -> Option<RawCell> {
    Some(match value {
        Data::Empty => return None,
        Data::String(s) => RawCell::Text(s.clone()),
        Data::Int(i) => RawCell::Int(*i),
        Data::Float(f) => RawCell::Float(*f),
        Data::Bool(b) => RawCell::Bool(*b),
        Data::DateTime(dt) => excel_datetime(dt),
        Data::DateTimeIso(s) => iso_datetime(s),
        Data::DurationIso(s) => RawCell::Text(s.clone()),
        Data::Error(e) => RawCell::Error(error_name(e)),
    })
}

/// A date-formatted cell as a point in time; a duration-formatted one ([h]:mm) stays a number,
/// which typing refuses where a date is expected.
fn excel_datetime(dt: &calamine::ExcelDateTime) -> RawCell {
    if dt.is_datetime() {
        dt.as_datetime()
            .map_or(RawCell::Error("#NUM!"), RawCell::DateTime)
    } else {
        RawCell::Float(dt.as_f64())
    }
}

fn iso_datetime(s: &str) -> RawCell {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .map_or_else(|| RawCell::Text(s.to_string()), RawCell::DateTime)
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
