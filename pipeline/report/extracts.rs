//! Parquet extracts for analysts: every mart the run built and every metric table's rows of the
//! period, one file each, under `<exports>/<YYYY-MM>/`, written with arrow-rs's Parquet writer
//! (zstd-compressed, every DuckDB type kept: decimals stay decimals, timestamps stay
//! timestamps), so pandas, Polars and DuckDB read them as the warehouse holds them. The folder is
//! staged and put in place with the pack, after the run's commit; it holds only this run's files.
//!
//! In: the tables' record batches. Out: the staged folder and where the files will be.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::Staged;
use crate::error::{Error, Result};
use crate::schedule::Period;

/// One table to extract: its file name (without `.parquet`), its schema and its rows.
pub struct Extract {
    pub name: String,
    pub schema: arrow::datatypes::SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// Stages `extracts` as `<exports>/<period>/<name>.parquet`; returns where they will be.
///
/// # Errors
///
/// [`Error::Output`] when a file cannot be encoded or written; nothing is left behind.
pub fn stage_extracts(
    exports: &Path,
    period: Period,
    run_id: &str,
    extracts: &[Extract],
) -> Result<(Vec<PathBuf>, Staged)> {
    let mut staged = Staged::fresh(run_id, &exports.join(period.to_string()))?;
    let mut files = Vec::with_capacity(extracts.len());
    for extract in extracts {
        let name = format!("{}.parquet", extract.name);
        let target = staged.target(&name);
        let bytes = parquet_bytes(extract).map_err(|e| Error::Output {
            path: target.clone(),
            source: std::io::Error::other(e),
        })?;
        staged.write(&name, &bytes)?;
        files.push(target);
    }
    Ok((files, staged))
}

/// One table as a Parquet file's bytes.
fn parquet_bytes(extract: &Extract) -> std::result::Result<Vec<u8>, parquet::errors::ParquetError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("itvalue {}", crate::VERSION))
        .build();
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, Arc::clone(&extract.schema), Some(properties))?;
    for batch in &extract.batches {
        writer.write(batch)?;
    }
    writer.close()?;
    Ok(bytes)
}
