//! Reuse of unchanged input files: what a load keeps of each file it typed, so that a later run
//! whose file has the same bytes and the same source configuration takes the typed rows, rejects
//! and counts from there instead of reading and typing the file again.
//!
//! In: the configuration of a source (for its fingerprint), the typed rows of a file (to keep),
//! and kept rows as an Arrow batch (to take back). Out: [`KeptInput`] (what is known of a kept
//! file without its rows), [`TypedInput`] (a freshly typed file, for the warehouse to keep) and
//! the typed rows again. The checks across files and sources (duplicate keys, foreign keys) are
//! never kept: they run on every row of every run, so a reused file's rows are judged against the
//! other files exactly as if it had been read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Days, NaiveDate};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::grid::Addressing;
use super::record_batch::{arrow_type, column_array};
use super::typing::Row;
use super::value::Value;
use super::{Quality, Reject};
use crate::config::{Config, Source};
use crate::contract::{ColumnKind, Entity};

/// What a load kept of one input file it read and typed: enough to decide whether a later run
/// may reuse it, and to report its rows and rejects as if it had been read.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptInput {
    pub source: String,
    pub entity: Entity,
    pub path: PathBuf,
    pub sha256: String,
    /// [`source_fingerprint`] when it was typed.
    pub fingerprint: String,
    /// The run whose load read and typed it.
    pub run_id: String,
    pub bytes: u64,
    pub rows_read: u64,
    pub rows_superseded: u64,
    /// Rows that typing rejected (the checks across files come later, in every run).
    pub rows_rejected: u64,
    /// Where its cells are, for the locations of rejects found by the checks across files.
    pub layout: KeptLayout,
    /// What typing counted for the data-quality scores.
    pub quality: Quality,
}

/// Where a kept file's columns are, as its typing found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLayout {
    pub file_name: String,
    /// `sheet:<name>`, `lines` or `rows`.
    pub addressing: String,
    /// Per contract column, the 0-based column of the file that holds it.
    pub columns: Vec<Option<u32>>,
}

impl KeptLayout {
    pub(super) fn of(layout: &super::typing::Layout) -> KeptLayout {
        KeptLayout {
            file_name: layout.file_name.clone(),
            addressing: match &layout.addressing {
                Addressing::Sheet(s) => format!("sheet:{s}"),
                Addressing::Lines => "lines".to_string(),
                Addressing::Rows => "rows".to_string(),
            },
            columns: layout.columns.clone(),
        }
    }

    pub(super) fn layout(&self) -> super::typing::Layout {
        super::typing::Layout {
            file_name: self.file_name.clone(),
            addressing: match self.addressing.as_str() {
                "lines" => Addressing::Lines,
                "rows" => Addressing::Rows,
                other => Addressing::Sheet(other.trim_start_matches("sheet:").to_string()),
            },
            columns: self.columns.clone(),
        }
    }

    /// The columns as text for the ledger: `3,0,,12` (empty where the file lacks the column).
    pub fn columns_text(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.map(|c| c.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The inverse of [`KeptLayout::columns_text`].
    pub fn parse_columns(text: &str) -> Vec<Option<u32>> {
        if text.is_empty() {
            return Vec::new();
        }
        text.split(',').map(|c| c.parse().ok()).collect()
    }
}

/// A kept file's typed rows (the contract's columns and `_row`) and its typing rejects, in the
/// order typing produced them.
#[derive(Debug, Clone)]
pub struct KeptRows {
    pub rows: Vec<RecordBatch>,
    pub rejects: Vec<Reject>,
}

/// A file this run read and typed, for the warehouse to keep: its record, its typed rows (the
/// contract's columns, then `_row`) and its typing rejects.
#[derive(Debug, Clone)]
pub struct TypedInput {
    pub kept: KeptInput,
    pub rows: RecordBatch,
    pub rejects: Vec<Reject>,
}

/// What a source's typing depends on besides the file's bytes: its whole configuration except
/// its name and reject threshold (which only judge the counts), the configured zone, the limits
/// and itvalue's version (typing rules may change between versions). Any change gives another
/// fingerprint, so the file is read again.
pub fn source_fingerprint(config: &Config, source: &Source) -> String {
    let mut reading = source.clone();
    reading.name = String::new();
    reading.max_reject_rate = 0.0;
    reading.over_threshold = crate::config::OverThreshold::Fail;
    let text = format!(
        "itvalue {}\nsource {reading:?}\ntimezone {}\nlimits {:?}",
        crate::VERSION,
        config.timezone,
        config.limits
    );
    hex(&Sha256::digest(text.as_bytes()))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file's bytes, read in blocks so that memory stays small.
pub(super) fn sha256_of(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The schema of a kept file's typed rows: the contract's columns, then `_row`.
pub fn typed_schema(entity: Entity) -> Schema {
    let mut fields: Vec<Field> = entity
        .contract()
        .columns
        .iter()
        .map(|c| Field::new(c.name, arrow_type(c.kind), true))
        .collect();
    fields.push(Field::new("_row", DataType::Int64, false));
    Schema::new(fields)
}

/// The typed rows of one file as a batch of [`typed_schema`].
pub(super) fn typed_batch(entity: Entity, rows: &[&Row]) -> RecordBatch {
    let contract = entity.contract();
    let mut arrays: Vec<ArrayRef> = contract
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| column_array(c.kind, rows.iter().map(|r| &r.values[i])))
        .collect();
    arrays.push(Arc::new(Int64Array::from_iter_values(
        rows.iter().map(|r| i64::from(r.number)),
    )));
    RecordBatch::try_new(Arc::new(typed_schema(entity)), arrays)
        .expect("typed batch columns match their schema")
}

/// Why kept rows cannot be taken back: a column missing or of an unexpected type (a warehouse
/// changed by hand, say). The file is then read again.
#[derive(Debug, thiserror::Error)]
#[error("kept rows of {entity}: {message}")]
pub struct KeptRowsError {
    pub entity: Entity,
    pub message: String,
}

/// The typed rows of kept batches, in order, as typing would have made them.
///
/// # Errors
///
/// [`KeptRowsError`] when a batch lacks a column or holds one of another type.
pub(super) fn rows_of(
    entity: Entity,
    batches: &[RecordBatch],
    file: usize,
) -> Result<Vec<Row>, KeptRowsError> {
    let contract = entity.contract();
    let fail = |message: String| KeptRowsError { entity, message };
    let mut rows = Vec::new();
    for batch in batches {
        let column = |name: &str, kind: DataType| -> Result<ArrayRef, KeptRowsError> {
            let array = batch
                .column_by_name(name)
                .ok_or_else(|| fail(format!("no column {name}")))?;
            arrow::compute::cast(array, &kind).map_err(|e| fail(format!("column {name}: {e}")))
        };
        let numbers = column("_row", DataType::Int64)?;
        let numbers = numbers
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| fail("_row is not BIGINT".into()))?;
        let mut columns: Vec<Vec<Value>> = Vec::with_capacity(contract.columns.len());
        for c in contract.columns {
            let array = column(c.name, arrow_type(c.kind))?;
            columns.push(values(c.kind, &array).map_err(|m| fail(format!("{}: {m}", c.name)))?);
        }
        for r in 0..batch.num_rows() {
            let number = u32::try_from(numbers.value(r))
                .map_err(|_| fail(format!("row number {} out of range", numbers.value(r))))?;
            rows.push(Row {
                values: columns
                    .iter_mut()
                    .map(|c| std::mem::replace(&mut c[r], Value::Null))
                    .collect(),
                file,
                number,
            });
        }
    }
    Ok(rows)
}

/// One column's values, the inverse of [`column_array`].
fn values(kind: ColumnKind, array: &ArrayRef) -> Result<Vec<Value>, String> {
    let n = array.len();
    let wrong = || format!("not of type {:?}", arrow_type(kind));
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut out = Vec::with_capacity(n);
    match kind {
        ColumnKind::Text => {
            let a = array.as_string_opt::<i32>().ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Text(a.value(i).to_string())
                });
            }
        }
        ColumnKind::Integer => {
            let a = array
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Integer(a.value(i))
                });
            }
        }
        ColumnKind::Money => {
            let a = array
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    let cents = i64::try_from(a.value(i)).map_err(|_| "amount out of range")?;
                    Value::Money(Decimal::new(cents, 2))
                });
            }
        }
        ColumnKind::Number => {
            let a = array
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    Value::Number(a.value(i))
                });
            }
        }
        ColumnKind::Date | ColumnKind::Period => {
            let a = array
                .as_any()
                .downcast_ref::<Date32Array>()
                .ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    let days = a.value(i);
                    let day = if days >= 0 {
                        epoch.checked_add_days(Days::new(days as u64))
                    } else {
                        epoch.checked_sub_days(Days::new(days.unsigned_abs() as u64))
                    };
                    Value::Date(day.ok_or("date out of range")?)
                });
            }
        }
        ColumnKind::Timestamp => {
            let a = array
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .ok_or_else(wrong)?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    let t = DateTime::from_timestamp_micros(a.value(i))
                        .ok_or("timestamp out of range")?;
                    Value::Timestamp(t.naive_utc())
                });
            }
        }
    }
    Ok(out)
}

/// The column of an entity that dates its rows (the first required period, date or timestamp
/// column: a cost line's period, an incident's opened_at), if it has one.
pub fn dated_column(entity: Entity) -> Option<usize> {
    entity.contract().columns.iter().position(|c| {
        c.required
            && matches!(
                c.kind,
                ColumnKind::Period | ColumnKind::Date | ColumnKind::Timestamp
            )
    })
}

/// The earliest day of the rows of `new` that `old` (what was kept of the same file before)
/// does not hold as they are: rows added or changed. `None` when the entity has no dated column
/// or no row is new.
///
/// # Errors
///
/// [`KeptRowsError`] when a batch lacks a column or holds one of another type.
pub fn earliest_new(
    entity: Entity,
    new: &RecordBatch,
    old: &[RecordBatch],
) -> Result<Option<NaiveDate>, KeptRowsError> {
    let Some(dated) = dated_column(entity) else {
        return Ok(None);
    };
    let text = |r: &Row| {
        r.values
            .iter()
            .map(Value::key_text)
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let before: std::collections::HashSet<String> =
        rows_of(entity, old, 0)?.iter().map(text).collect();
    let earliest = rows_of(entity, std::slice::from_ref(new), 0)?
        .iter()
        .filter(|r| !before.contains(&text(r)))
        .filter_map(|r| match &r.values[dated] {
            Value::Date(d) => Some(*d),
            Value::Timestamp(t) => Some(t.date()),
            _ => None,
        })
        .min();
    Ok(earliest)
}

/// Text of a row's identity columns, for tests of the round trip.
#[cfg(test)]
fn texts(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            r.values
                .iter()
                .map(Value::key_text)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// A text column of `n` copies of `value`, for the `_source`/`_path` columns the warehouse adds.
pub fn repeated_text(value: &str, n: usize) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, n * value.len());
    for _ in 0..n {
        b.append_value(value);
    }
    Arc::new(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn row(values: Vec<Value>, number: u32) -> Row {
        Row {
            values,
            file: 0,
            number,
        }
    }

    #[test]
    fn typed_rows_come_back_from_their_batch_exactly() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        let incidents = [
            row(
                vec![
                    Value::Text("INC-1".into()),
                    Value::Text("APP-1".into()),
                    Value::Integer(2),
                    Value::Timestamp(at("2024-02-29 23:59:59.123")),
                ],
                2,
            ),
            row(
                vec![
                    Value::Text("INC-2".into()),
                    Value::Null,
                    Value::Null,
                    Value::Timestamp(at("1969-12-31 00:00:00.5")),
                ],
                7,
            ),
        ];
        // Only the first four columns are set; the rest of the contract's columns stay empty.
        let width = Entity::Incidents.contract().columns.len();
        let full: Vec<Row> = incidents
            .iter()
            .map(|r| {
                let mut values = r.values.clone();
                values.resize(width, Value::Null);
                row(values, r.number)
            })
            .collect();
        let refs: Vec<&Row> = full.iter().collect();
        let batch = typed_batch(Entity::Incidents, &refs);
        let back = rows_of(Entity::Incidents, &[batch], 0).unwrap();
        assert_eq!(texts(&back), texts(&full));
        assert_eq!(
            back.iter().map(|r| r.number).collect::<Vec<_>>(),
            vec![2, 7]
        );

        let costs_width = Entity::Costs.contract().columns.len();
        let mut values = vec![
            Value::Text("INV-1".into()),
            Value::Date(day("1965-03-01")),
            Value::Text("actual".into()),
            Value::Money(Decimal::new(-1_234_567, 2)),
        ];
        values.resize(costs_width, Value::Null);
        let cost = row(values, 3);
        let batch = typed_batch(Entity::Costs, &[&cost]);
        let back = rows_of(Entity::Costs, &[batch], 4).unwrap();
        assert_eq!(texts(&back), ["INV-1|1965-03-01|actual|-12345.67||||"]);
        assert_eq!(back[0].file, 4);
    }

    #[test]
    fn a_layout_survives_the_ledger() {
        let layout = KeptLayout {
            file_name: "costs-2026-10.xlsx".into(),
            addressing: "sheet:Costs".into(),
            columns: vec![Some(0), None, Some(12)],
        };
        assert_eq!(layout.columns_text(), "0,,12");
        assert_eq!(
            KeptLayout::parse_columns(&layout.columns_text()),
            layout.columns
        );
        assert_eq!(KeptLayout::of(&layout.layout()), layout);
    }
}
