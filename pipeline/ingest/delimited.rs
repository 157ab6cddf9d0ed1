//! Reading a CSV (or other delimited) export into a [`Grid`].
//!
//! In: the file's bytes and its source (the delimiter). Out: every non-empty field as text, each
//! row numbered by the line its record starts on, so `incidents.csv!C17` is the cell a spreadsheet
//! program shows when it opens the file. A UTF-8 byte-order mark is skipped; any other encoding is
//! refused with the line where it shows.

use std::path::Path;

use super::grid::{Addressing, Grid, RawCell};
use super::workbook::{CellSink, file_name};
use crate::config::{Limits, Source};
use crate::error::{Error, Result};

/// Reads the delimited file `path` whose content is `bytes`.
///
/// # Errors
///
/// [`Error::UnreadableInput`] naming the line of a malformed record or of text that is not
/// UTF-8; [`Error::InputTooLarge`] past `limits.max_cells`.
pub fn read(path: &Path, bytes: &[u8], source: &Source, limits: &Limits) -> Result<Grid> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(source.delimiter)
        .from_reader(body);
    let mut cells = CellSink::new(path, limits);
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::default();
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| Error::UnreadableInput {
                path: path.to_path_buf(),
                kind: "csv",
                message: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = lines.line_at(body, record.position().map_or(0, |p| p.byte()) as usize);
        for (column, field) in record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| Error::UnreadableInput {
                path: path.to_path_buf(),
                kind: "csv",
                message: format!(
                    "line {line}, field {} is not UTF-8 text; save the export as UTF-8",
                    column + 1
                ),
            })?;
            if !text.trim().is_empty() {
                cells.push(
                    (line.saturating_sub(1), column as u32),
                    Some(RawCell::Text(text.to_string())),
                )?;
            }
        }
    }
    Ok(Grid {
        file_name: file_name(path),
        addressing: Addressing::Lines,
        rows: cells.into_rows(),
    })
}

/// Line numbers from byte offsets. The csv crate's own line count drifts on CRLF files and after
/// blank lines, so the line a record starts on is counted here from the bytes before it.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u32,
}

impl LineCounter {
    /// The 1-based line of the record that starts at `byte` (at or after the previous one).
    fn line_at(&mut self, body: &[u8], byte: usize) -> u32 {
        // A record's start may point at the line break that ends the previous record.
        let mut start = byte.min(body.len());
        while start < body.len() && matches!(body[start], b'\r' | b'\n') {
            start += 1;
        }
        let from = self.offset.min(start);
        self.newlines += body[from..start].iter().filter(|b| **b == b'\n').count() as u32;
        self.offset = start;
        self.newlines + 1
    }
}

#[cfg(test)]
mod tests {
    use super::LineCounter;

    #[test]
    fn lines_are_counted_alike_for_lf_crlf_and_blank_lines() {
        for body in [&b"a\nb\n\nc\n"[..], &b"a\r\nb\r\n\r\nc\r\n"[..]] {
            let mut lines = LineCounter::default();
            let starts: Vec<usize> = [b'a', b'b', b'c']
                .iter()
                .map(|c| body.iter().position(|b| b == c).unwrap())
                .collect();
            let numbers: Vec<u32> = starts.iter().map(|s| lines.line_at(body, *s)).collect();
            assert_eq!(numbers, [1, 2, 4]);
        }
    }
}
