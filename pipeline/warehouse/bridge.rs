//! The Arrow bridge between DuckDB and Polars.
//!
//! In: a query (or a Polars DataFrame). Out: a Polars DataFrame (or rows appended to a table).
//! Both directions go through the Arrow C data interface: the duckdb crate speaks arrow-rs, Polars
//! speaks polars-arrow, and the two share the C structs, so columns cross without a copy of their
//! buffers and every type (DECIMAL, DATE, TIMESTAMP) is kept.

use std::sync::Arc;

use arrow::array::{ArrayRef, make_array};
use arrow::datatypes::{Field as ArrowRsField, Schema as ArrowRsSchema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow::record_batch::RecordBatch;
use duckdb::Connection;
use polars::prelude::{CompatLevel, DataFrame, IntoColumn, PlSmallStr, PolarsError, Series};
use polars_arrow::ffi as pa_ffi;

/// What can go wrong crossing the bridge.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    DuckDb(#[from] duckdb::Error),
    #[error(transparent)]
    Polars(#[from] PolarsError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// Runs `sql` and returns its result as a DataFrame.
///
/// # Errors
///
/// The query's own error, or a type that one side cannot represent.
pub fn query_frame(conn: &Connection, sql: &str) -> Result<DataFrame, BridgeError> {
    let mut statement = conn.prepare(sql)?;
    let arrow = statement.query_arrow([])?;
    let schema = arrow.get_schema();
    let batches: Vec<RecordBatch> = arrow.collect();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let name = PlSmallStr::from_str(field.name());
        let chunks = batches
            .iter()
            .map(|b| to_polars_array(b.column(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let series = if chunks.is_empty() {
            let empty = arrow::array::new_empty_array(field.data_type());
            Series::from_arrow(name, to_polars_array(&empty)?)?
        } else {
            Series::from_arrow_chunks(name, chunks)?
        };
        columns.push(series.into_column());
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Appends the rows of `frame` to `schema.table`, whose columns must match the frame's in order.
///
/// # Errors
///
/// The appender's error when the table does not match, or a type DuckDB cannot take.
pub fn append_frame(
    conn: &Connection,
    schema: &str,
    table: &str,
    frame: &DataFrame,
) -> Result<(), BridgeError> {
    let mut frame = frame.clone();
    frame.rechunk_mut();
    if frame.height() == 0 {
        return Ok(());
    }
    let mut fields = Vec::with_capacity(frame.width());
    let mut arrays = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let series = column.as_materialized_series();
        let array = series.to_arrow(0, CompatLevel::oldest());
        let field = series.field().to_arrow(CompatLevel::oldest());
        let ffi_schema = pa_ffi::export_field_to_c(&field);
        let ffi_array = pa_ffi::export_array_to_c(array);
        // SAFETY: polars-arrow and arrow-rs both define the Arrow C data interface structs with
        // the same layout; ownership of the buffers moves with the struct and is released by
        // arrow-rs's drop of the imported array.
        let data = unsafe {
            let ffi_schema: FFI_ArrowSchema = std::mem::transmute(ffi_schema);
            let ffi_array: FFI_ArrowArray = std::mem::transmute(ffi_array);
            let data = from_ffi(ffi_array, &ffi_schema)?;
            fields.push(ArrowRsField::try_from(&ffi_schema)?);
            data
        };
        arrays.push(make_array(data));
    }
    let batch = RecordBatch::try_new(Arc::new(ArrowRsSchema::new(fields)), arrays)?;
    let mut appender = conn.appender_to_db(table, schema)?;
    appender.append_record_batch(batch)?;
    appender.flush()?;
    Ok(())
}

fn to_polars_array(array: &ArrayRef) -> Result<Box<dyn polars_arrow::array::Array>, BridgeError> {
    let (ffi_array, ffi_schema) = to_ffi(&array.to_data())?;
    // SAFETY: as above, the two crates' C structs share one layout; the exported array is moved
    // into polars-arrow, which takes over releasing it.
    unsafe {
        let ffi_schema: pa_ffi::ArrowSchema = std::mem::transmute(ffi_schema);
        let ffi_array: pa_ffi::ArrowArray = std::mem::transmute(ffi_array);
        let field = pa_ffi::import_field_from_c(&ffi_schema)?;
        Ok(pa_ffi::import_array_from_c(ffi_array, field.dtype)?)
    }
}
