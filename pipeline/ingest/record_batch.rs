//! Turning typed rows into one columnar Arrow batch per entity, the form the warehouse loads.
//!
//! In: the rows that passed every check. Out: a [`RecordBatch`] with the contract's columns in
//! order (money as Decimal128(18,2), periods and dates as Date32, timestamps in microseconds),
//! then `_source`, `_file` and `_row`.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use super::KeptRow;
use super::value::Value;
use crate::contract::{ColumnKind, Entity};

/// The Arrow type of a contract column.
pub fn arrow_type(kind: ColumnKind) -> DataType {
    match kind {
        ColumnKind::Text => DataType::Utf8,
        ColumnKind::Integer => DataType::Int64,
        ColumnKind::Money => DataType::Decimal128(18, 2),
        ColumnKind::Number => DataType::Float64,
        ColumnKind::Date | ColumnKind::Period => DataType::Date32,
        ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
    }
}

/// Builds the entity's batch; with no rows, an empty batch with the full schema.
pub(super) fn build(entity: Entity, rows: &[KeptRow]) -> RecordBatch {
    let contract = entity.contract();
    let mut fields: Vec<Field> = contract
        .columns
        .iter()
        .map(|c| Field::new(c.name, arrow_type(c.kind), !c.required))
        .collect();
    fields.push(Field::new("_source", DataType::Utf8, false));
    fields.push(Field::new("_file", DataType::Utf8, false));
    fields.push(Field::new("_row", DataType::Int64, false));

    let mut arrays: Vec<ArrayRef> = contract
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| column_array(c.kind, rows.iter().map(|r| &r.values[i])))
        .collect();
    let mut sources = StringBuilder::new();
    let mut files = StringBuilder::new();
    let mut numbers = Int64Builder::new();
    for row in rows {
        sources.append_value(&*row.source);
        files.append_value(&*row.file);
        numbers.append_value(i64::from(row.number));
    }
    arrays.push(Arc::new(sources.finish()));
    arrays.push(Arc::new(files.finish()));
    arrays.push(Arc::new(numbers.finish()));
    // The arrays are built from the same contract as the schema, so the shapes always agree.
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .expect("ingest batch columns match their schema")
}

pub(super) fn column_array<'a>(
    kind: ColumnKind,
    values: impl Iterator<Item = &'a Value>,
) -> ArrayRef {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    match kind {
        ColumnKind::Text => {
            let mut b = StringBuilder::new();
            for v in values {
                match v {
                    Value::Text(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        ColumnKind::Integer => {
            let mut b = Int64Builder::new();
            for v in values {
                b.append_option(match v {
                    Value::Integer(i) => Some(*i),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnKind::Money => {
            let mut b = Decimal128Builder::new();
            for v in values {
                // Typing rescaled every amount to scale 2, so the mantissa is the cents.
                b.append_option(match v {
                    Value::Money(d) => Some(d.mantissa()),
                    _ => None,
                });
            }
            Arc::new(
                b.finish()
                    .with_precision_and_scale(18, 2)
                    .expect("18,2 is a valid decimal type"),
            )
        }
        ColumnKind::Number => {
            let mut b = Float64Builder::new();
            for v in values {
                b.append_option(match v {
                    Value::Number(f) => Some(*f),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnKind::Date | ColumnKind::Period => {
            let mut b = Date32Builder::new();
            for v in values {
                b.append_option(match v {
                    Value::Date(d) => Some((*d - epoch).num_days() as i32),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        ColumnKind::Timestamp => {
            let mut b = TimestampMicrosecondBuilder::new();
            for v in values {
                b.append_option(match v {
                    Value::Timestamp(t) => Some(t.and_utc().timestamp_micros()),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
    }
}
