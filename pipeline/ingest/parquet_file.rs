//! Reading a Parquet file into a [`Grid`] with arrow-rs.
//!
//! In: the file's bytes. Out: a header row of the file's column names (row 0) and its rows
//! numbered from 1, every value written as text the way Arrow displays it (ISO dates and
//! timestamps, exact decimals), so typing treats Parquet like any other source and
//! `costs.parquet!row 17` names the 17th record.

use std::path::Path;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::grid::{Addressing, Grid, GridRow, RawCell};
use super::workbook::file_name;
use crate::config::Limits;
use crate::error::{Error, Result};

/// Reads the Parquet file `path` whose content is `bytes`.
///
/// # Errors
///
/// [`Error::UnreadableInput`] when it is not Parquet or a column cannot be shown as text;
/// [`Error::InputTooLarge`] when its footer promises more cells than `limits.max_cells`, checked
/// before any row is read.
pub fn read(path: &Path, bytes: Vec<u8>, limits: &Limits) -> Result<Grid> {
    let unreadable = |message: String| Error::UnreadableInput {
        path: path.to_path_buf(),
        kind: "parquet",
        message,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| unreadable(e.to_string()))?;
    let schema = builder.schema().clone();
    let rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let cells = rows.saturating_mul(schema.fields().len() as u64);
    if cells > limits.max_cells {
        return Err(Error::InputTooLarge {
            path: path.to_path_buf(),
            message: format!(
                "{rows} rows × {} columns is more than {} cells (limits.max_cells)",
                schema.fields().len(),
                limits.max_cells
            ),
        });
    }
    let mut grid_rows = Vec::with_capacity(rows as usize + 1);
    grid_rows.push(GridRow {
        number: 0,
        cells: schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (i as u32, RawCell::Text(f.name().clone())))
            .collect(),
    });
    let reader = builder.build().map_err(|e| unreadable(e.to_string()))?;
    let options = FormatOptions::default();
    let mut number = 0;
    for batch in reader {
        let batch = batch.map_err(|e| unreadable(e.to_string()))?;
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| unreadable(e.to_string()))?;
        for r in 0..batch.num_rows() {
            number += 1;
            let cells = batch
                .columns()
                .iter()
                .zip(&formatters)
                .enumerate()
                .filter(|(_, (column, _))| !column.is_null(r))
                .map(|(c, (_, format))| (c as u32, RawCell::Text(format.value(r).to_string())))
                .collect();
            grid_rows.push(GridRow { number, cells });
        }
    }
    Ok(Grid {
        file_name: file_name(path),
        addressing: Addressing::Rows,
        rows: grid_rows,
    })
}
