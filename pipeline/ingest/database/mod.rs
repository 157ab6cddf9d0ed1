//! Database sources: a table or query of PostgreSQL or MySQL/MariaDB, extracted in one
//! consistent read-only snapshot, a batch at a time, into the same [`Grid`] the file readers
//! produce, so the same contract, rules and rejects apply.
//!
//! In: a database [`Source`], the watermark of its last load (if any), the zone timestamps are
//! converted into, and the cell limit. Out: an [`Extract`] with the grid (a header row of column
//! names, then rows numbered from 1), a SHA-256 of the rows, a description of where they came from
//! that holds no secret, and the new watermark. The connection string comes from an environment
//! variable and the password, when it is not in there, from another variable or the standard
//! password file; neither ever reaches a message, a log line or the ledger. TLS is asked for in
//! the connection string, in each client's own words (see `tls`).

mod mysql_source;
mod mysql_tls;
mod password;
mod postgres_source;
mod postgres_tls;
mod tls;

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::grid::{Addressing, Grid, GridRow, RawCell};
use super::typing::ReadFile;
pub(super) use super::zones::Zones;
use crate::config::{DatabaseSource, Limits, Relation, Source, SourceKind};
use crate::error::{DatabaseFailure, Error, Result};

/// The extra column that carries each row's watermark as the database writes it.
const WATERMARK_COLUMN: &str = "__itvalue_watermark";

/// What one extraction produced.
pub(super) struct Extract {
    pub file: ReadFile,
    /// The highest watermark among the rows, as the database wrote it; `None` without a
    /// watermark column or without rows.
    pub watermark: Option<String>,
    /// Each data row's watermark, so that the rows the checks reject can be read again (empty
    /// when the rows were streamed: the receiver had them).
    pub row_watermarks: RowWatermarks,
    /// Data rows extracted.
    pub rows: u64,
}

/// Each data row's watermark as the database wrote it, by row number (from 1). Rows arrive in
/// watermark order, so the lowest-numbered row of a set has the smallest watermark, and equal
/// neighbours share one copy of the text.
#[derive(Default)]
pub(super) struct RowWatermarks {
    text: String,
    /// Per row, the start and length of its watermark in `text`; `None` for NULL.
    spans: Vec<Option<(u64, u32)>>,
    last: Option<(u64, u32)>,
}

impl RowWatermarks {
    fn push(&mut self, watermark: Option<&str>) {
        let span = watermark.map(|w| match self.last {
            Some((start, len)) if self.text[start as usize..][..len as usize] == *w => (start, len),
            _ => {
                let start = self.text.len() as u64;
                self.text.push_str(w);
                (start, w.len() as u32)
            }
        });
        if span.is_some() {
            self.last = span;
        }
        self.spans.push(span);
    }

    /// The watermark of row `number`; `None` when it was NULL or there is no such row.
    pub fn of(&self, number: u32) -> Option<&str> {
        let (start, len) = (*self.spans.get((number as usize).checked_sub(1)?)?)?;
        Some(&self.text[start as usize..][..len as usize])
    }

    /// The smallest watermark among `rows` (row numbers), skipping rows without one.
    pub fn smallest_of(&self, rows: impl IntoIterator<Item = u32>) -> Option<&str> {
        let mut rows: Vec<u32> = rows.into_iter().collect();
        rows.sort_unstable();
        rows.into_iter().find_map(|r| self.of(r))
    }
}

/// How one attempt failed.
pub(super) struct Failure {
    pub kind: DatabaseFailure,
    pub message: String,
    /// A lost or refused connection, worth another attempt.
    pub transient: bool,
    /// What the receiver of the rows failed with (a spill file that cannot be written): it is
    /// the error of the extraction, not a database failure.
    pub receiver: Option<Box<Error>>,
}

impl Failure {
    /// A failure that another attempt would not mend.
    fn permanent(kind: DatabaseFailure, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            transient: false,
            receiver: None,
        }
    }

    fn unavailable(message: impl Into<String>) -> Failure {
        Failure {
            kind: DatabaseFailure::Unavailable,
            message: message.into(),
            transient: true,
            receiver: None,
        }
    }

    fn of_receiver(error: Error) -> Failure {
        Failure {
            kind: DatabaseFailure::Query,
            message: error.to_string(),
            transient: false,
            receiver: Some(Box::new(error)),
        }
    }
}

/// Where a streamed extraction's rows go, a batch at a time, so that memory follows
/// `batch_rows` and not the table.
pub(super) trait RowReceiver {
    /// Called before every attempt: whatever an earlier, failed attempt handed over is dropped.
    ///
    /// # Errors
    ///
    /// Whatever dropping it fails with.
    fn restart(&mut self) -> Result<()>;

    /// One batch: a grid of the header row and up to `batch_rows` data rows (numbered on from
    /// the previous batch), with each data row's watermark as the database wrote it.
    ///
    /// # Errors
    ///
    /// Whatever keeping the rows fails with; the extraction stops with it.
    fn batch(&mut self, grid: Grid, watermarks: Vec<Option<String>>) -> Result<()>;
}

/// Grows the grid row by row, counting cells against the limit and hashing what it holds; when
/// streaming, hands every `batch_rows` rows to the receiver instead of keeping them.
pub(super) struct GridBuilder<'r> {
    file_name: String,
    header: Option<GridRow>,
    rows: Vec<GridRow>,
    /// Data rows so far, handed over or not.
    rows_read: u32,
    cells: u64,
    max_cells: u64,
    hash: Sha256,
    bytes: u64,
    watermark_column: Option<usize>,
    pub watermark: Option<String>,
    row_watermarks: RowWatermarks,
    /// The rows' watermarks of the batch being filled (streaming only).
    batch_watermarks: Vec<Option<String>>,
    receiver: Option<(&'r mut dyn RowReceiver, usize)>,
}

impl<'r> GridBuilder<'r> {
    /// A builder that keeps every row, up to `max_cells` cells.
    fn new(file_name: String, max_cells: u64) -> GridBuilder<'r> {
        GridBuilder {
            file_name,
            header: None,
            rows: Vec::new(),
            rows_read: 0,
            cells: 0,
            max_cells,
            hash: Sha256::new(),
            bytes: 0,
            watermark_column: None,
            watermark: None,
            row_watermarks: RowWatermarks::default(),
            batch_watermarks: Vec::new(),
            receiver: None,
        }
    }

    /// A builder that hands every `batch_rows` rows to `receiver`. No cell limit applies: what it
    /// holds is one batch.
    fn streaming(
        file_name: String,
        batch_rows: usize,
        receiver: &'r mut dyn RowReceiver,
    ) -> GridBuilder<'r> {
        GridBuilder {
            receiver: Some((receiver, batch_rows.max(1))),
            ..GridBuilder::new(file_name, u64::MAX)
        }
    }

    /// The header row: the result's column names, without the watermark column.
    pub fn header(&mut self, names: Vec<String>) {
        self.watermark_column = names.iter().position(|n| n == WATERMARK_COLUMN);
        let cells = names
            .into_iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != self.watermark_column)
            .map(|(i, n)| (i as u32, RawCell::Text(n)))
            .collect();
        self.header = Some(GridRow { number: 0, cells });
    }

    /// Adds one row of cells by result column; `None` is an empty value.
    pub fn row(&mut self, values: Vec<Option<RawCell>>) -> std::result::Result<(), Failure> {
        self.rows_read += 1;
        let number = self.rows_read;
        let mut cells = Vec::with_capacity(values.len());
        let mut watermark = None;
        for (i, value) in values.into_iter().enumerate() {
            let Some(value) = value else { continue };
            if Some(i) == self.watermark_column {
                if let RawCell::Text(w) = value {
                    watermark = Some(w);
                }
                continue;
            }
            self.hash.update(i.to_le_bytes());
            self.bytes += hash_value(&mut self.hash, &value);
            self.hash.update([0x1f]);
            cells.push((i as u32, value));
        }
        self.hash.update(b"\n");
        self.cells += cells.len() as u64;
        if self.cells > self.max_cells {
            return Err(Failure::permanent(
                DatabaseFailure::TooLarge,
                format!(
                    "the extract holds more than {} cells (limits.max_cells); narrow the query",
                    self.max_cells
                ),
            ));
        }
        if self.receiver.is_some() {
            self.batch_watermarks.push(watermark.clone());
        } else if self.watermark_column.is_some() {
            self.row_watermarks.push(watermark.as_deref());
        }
        if watermark.is_some() {
            self.watermark = watermark;
        }
        self.rows.push(GridRow { number, cells });
        match &self.receiver {
            Some((_, batch_rows)) if self.rows.len() >= *batch_rows => self.hand_over(),
            _ => Ok(()),
        }
    }

    /// Hands the rows held to the receiver, if streaming.
    fn hand_over(&mut self) -> std::result::Result<(), Failure> {
        let Some((receiver, _)) = &mut self.receiver else {
            return Ok(());
        };
        let mut rows = Vec::with_capacity(self.rows.len() + 1);
        rows.push(self.header.clone().unwrap_or_default());
        rows.append(&mut self.rows);
        let grid = Grid {
            file_name: self.file_name.clone(),
            addressing: Addressing::Rows,
            rows,
        };
        receiver
            .batch(grid, std::mem::take(&mut self.batch_watermarks))
            .map_err(Failure::of_receiver)
    }

    pub fn rows_read(&self) -> usize {
        self.rows_read as usize
    }
}

/// Feeds one value to the extract's hash as it came from the database, without formatting it
/// (this runs for every cell of every row), and returns its size: the text's bytes, 8 for a
/// number or a time, 1 for a truth value.
fn hash_value(hash: &mut Sha256, value: &RawCell) -> u64 {
    let mut feed = |tag: u8, bytes: &[u8]| {
        hash.update([tag]);
        hash.update(bytes);
        bytes.len() as u64
    };
    match value {
        RawCell::Text(s) => feed(b's', s.as_bytes()),
        RawCell::Shared(s) => feed(b's', s.as_bytes()),
        RawCell::Int(i) => feed(b'i', &i.to_le_bytes()),
        RawCell::Float(f) => feed(b'f', &f.to_bits().to_le_bytes()),
        RawCell::Bool(b) => feed(b'b', &[u8::from(*b)]),
        RawCell::DateTime(t) => feed(b't', &t.and_utc().timestamp_micros().to_le_bytes()),
        RawCell::Error(e) => feed(b'e', e.as_bytes()),
    }
}

/// Extracts `source` whole, retrying the whole extraction after a lost connection.
///
/// `since` is the watermark of the last load, `None` for a full extraction. The rows are held in
/// memory (up to `limits.max_cells` cells): for sources that keep the latest row per entity,
/// which needs every row at once; [`stream`] is the bounded way.
///
/// # Errors
///
/// [`Error::Database`] naming the source (never the secret): unavailable (exit 69) when the
/// server cannot be reached or the connection keeps failing, credentials (exit 78) when the login
/// is refused or no password can be found, TLS (exit 78) when the TLS the connection string asks
/// for cannot be had (never retried, never replaced by plain text), query (exit 2) when the table or query is wrong or a
/// column has a type itvalue does not read; [`Error::InputTooLarge`] past `limits.max_cells`.
pub(super) fn extract(
    source: &Source,
    since: Option<&str>,
    timezone: &str,
    limits: &Limits,
) -> Result<Extract> {
    extract_into(source, since, timezone, limits, None)
}

/// Extracts `source` batch by batch into `receiver`, retrying the whole extraction (after
/// [`RowReceiver::restart`]) after a lost connection. The [`Extract`]'s grid holds the header
/// row only; its row watermarks are empty (the receiver had them).
///
/// # Errors
///
/// As [`extract`] (without the cell limit), and the receiver's own errors.
pub(super) fn stream(
    source: &Source,
    since: Option<&str>,
    timezone: &str,
    limits: &Limits,
    receiver: &mut dyn RowReceiver,
) -> Result<Extract> {
    extract_into(source, since, timezone, limits, Some(receiver))
}

fn extract_into(
    source: &Source,
    since: Option<&str>,
    timezone: &str,
    limits: &Limits,
    mut receiver: Option<&mut dyn RowReceiver>,
) -> Result<Extract> {
    let Some(db) = &source.database else {
        return Err(Error::Contract {
            location: source.name.clone(),
            message: "not a database source".into(),
        });
    };
    let fail = |kind: DatabaseFailure, message: String| Error::Database {
        source_name: source.name.clone(),
        kind,
        message,
    };
    let connection = std::env::var(&db.connection_env).map_err(|_| {
        fail(
            DatabaseFailure::Credentials,
            format!(
                "the environment variable {} that should hold the connection string is not set",
                db.connection_env
            ),
        )
    })?;
    let zones = Zones::new(&db.source_timezone, timezone)
        .map_err(|message| fail(DatabaseFailure::Query, message))?;
    let file_name = format!("{}:{}", source.kind.name(), relation_name(db));
    let attempts = db.retries + 1;
    for attempt in 1..=attempts {
        let mut grid = match receiver.as_deref_mut() {
            Some(receiver) => {
                receiver.restart()?;
                GridBuilder::streaming(file_name.clone(), db.batch_rows, receiver)
            }
            None => GridBuilder::new(file_name.clone(), limits.max_cells),
        };
        let outcome = match source.kind {
            SourceKind::Postgres => {
                postgres_source::fetch(&connection, db, since, &zones, &mut grid)
            }
            _ => mysql_source::fetch(&connection, db, since, &zones, &mut grid),
        }
        .and_then(|described| grid.hand_over().map(|()| described));
        match outcome {
            Ok(described) => {
                tracing::info!(source = %source.name, rows = grid.rows_read(), attempt, "extracted");
                return Ok(finish(db, described, grid));
            }
            Err(f) if f.receiver.is_some() => {
                return Err(*f.receiver.expect("checked to be there"));
            }
            Err(f) if f.transient && attempt < attempts => {
                let wait = Duration::from_millis(500 << (attempt - 1).min(6));
                tracing::warn!(
                    source = %source.name,
                    attempt,
                    error = %f.message,
                    wait_ms = wait.as_millis() as u64,
                    "extraction failed; retrying it from the start"
                );
                std::thread::sleep(wait);
            }
            Err(f) if f.kind == DatabaseFailure::TooLarge => {
                return Err(Error::InputTooLarge {
                    path: PathBuf::from(&source.name),
                    message: f.message,
                });
            }
            Err(f) => {
                let message = if f.transient && attempts > 1 {
                    format!("{} (after {attempts} attempts)", f.message)
                } else {
                    f.message
                };
                return Err(fail(f.kind, message));
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// The table's name, or `query`.
fn relation_name(db: &DatabaseSource) -> String {
    match &db.relation {
        Relation::Table(t) => t.clone(),
        Relation::Query(_) => "query".to_string(),
    }
}

fn finish(db: &DatabaseSource, described: String, grid: GridBuilder) -> Extract {
    let sha256: String = grid
        .hash
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut rows = Vec::with_capacity(grid.rows.len() + 1);
    rows.extend(grid.header);
    rows.extend(grid.rows);
    Extract {
        watermark: grid.watermark,
        row_watermarks: grid.row_watermarks,
        rows: u64::from(grid.rows_read),
        file: ReadFile {
            path: PathBuf::from(format!("{described}/{}", relation_name(db))),
            sha256,
            bytes: grid.bytes,
            grid: Grid {
                file_name: grid.file_name,
                addressing: Addressing::Rows,
                rows,
            },
        },
    }
}

/// The statement an extraction runs: the table or query, with the watermark column and, when
/// `since` is the SQL of the bound last watermark, the filter, `watermark_lag` before it. The watermark travels as the text
/// the database itself wrote and is bound as a parameter, never spliced into the statement.
pub(super) fn extraction_sql(kind: SourceKind, db: &DatabaseSource, since: Option<&str>) -> String {
    let quote = |name: &str| match kind {
        SourceKind::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    };
    let base = match &db.relation {
        Relation::Table(t) => format!(
            "SELECT * FROM {}",
            t.split('.').map(quote).collect::<Vec<_>>().join(".")
        ),
        Relation::Query(q) => q.trim().trim_end_matches(';').to_string(),
    };
    let Some(watermark) = &db.watermark else {
        return base;
    };
    let column = format!("src.{}", quote(watermark));
    let text = match kind {
        SourceKind::Mysql => "CHAR",
        _ => "TEXT",
    };
    let lag = db.watermark_lag_seconds;
    let filter = since
        .map(|parameter| match kind {
            _ if lag == 0 => format!(" WHERE {column} >= {parameter}"),
            SourceKind::Mysql => {
                format!(" WHERE {column} >= DATE_SUB({parameter}, INTERVAL {lag} SECOND)")
            }
            _ => format!(" WHERE {column} >= {parameter} - make_interval(secs => {lag})"),
        })
        .unwrap_or_default();
    format!(
        "SELECT src.*, CAST({column} AS {text}) AS {WATERMARK_COLUMN} FROM ({base}\n) AS src{filter} ORDER BY {column}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(relation: Relation, watermark: Option<&str>) -> DatabaseSource {
        DatabaseSource {
            connection_env: "X".into(),
            password_env: None,
            relation,
            watermark: watermark.map(String::from),
            watermark_lag_seconds: 0,
            batch_rows: 10,
            retries: 0,
            source_timezone: "UTC".into(),
        }
    }

    #[test]
    fn the_smallest_watermark_of_rejected_rows_skips_rows_without_one() {
        let mut w = RowWatermarks::default();
        for value in [
            None,
            Some("2026-11-01"),
            Some("2026-11-01"),
            Some("2026-11-02"),
            None,
        ] {
            w.push(value);
        }
        assert_eq!(w.text, "2026-11-012026-11-02");
        assert_eq!(
            (1..=6).map(|r| w.of(r)).collect::<Vec<_>>(),
            [
                None,
                Some("2026-11-01"),
                Some("2026-11-01"),
                Some("2026-11-02"),
                None,
                None
            ]
        );
        assert_eq!(w.smallest_of([5, 4, 1]), Some("2026-11-02"));
        assert_eq!(w.smallest_of([4, 3]), Some("2026-11-01"));
        assert_eq!(w.smallest_of([1, 5]), None);
        assert_eq!(w.smallest_of([]), None);
        assert_eq!(w.of(0), None);
    }

    #[test]
    fn the_watermark_filter_quotes_for_each_dialect_and_binds_the_value() {
        let table = db(
            Relation::Table("servicedesk.incidents".into()),
            Some("updated_at"),
        );
        assert_eq!(
            extraction_sql(
                SourceKind::Postgres,
                &table,
                Some("CAST($1::TEXT AS \"timestamp\")")
            ),
            "SELECT src.*, CAST(src.\"updated_at\" AS TEXT) AS __itvalue_watermark FROM (SELECT * FROM \"servicedesk\".\"incidents\"\n) AS src WHERE src.\"updated_at\" >= CAST($1::TEXT AS \"timestamp\") ORDER BY src.\"updated_at\""
        );
        let query = db(Relation::Query("SELECT * FROM t;".into()), Some("ver"));
        assert_eq!(
            extraction_sql(SourceKind::Mysql, &query, Some("?")),
            "SELECT src.*, CAST(src.`ver` AS CHAR) AS __itvalue_watermark FROM (SELECT * FROM t\n) AS src WHERE src.`ver` >= ? ORDER BY src.`ver`"
        );
        assert_eq!(
            extraction_sql(
                SourceKind::Postgres,
                &db(Relation::Table("t".into()), None),
                None
            ),
            "SELECT * FROM \"t\""
        );
        let lagged = |kind, parameter| {
            let mut source = db(Relation::Table("t".into()), Some("updated_at"));
            source.watermark_lag_seconds = 7_200;
            extraction_sql(kind, &source, Some(parameter))
        };
        assert_eq!(
            lagged(SourceKind::Postgres, "CAST($1::TEXT AS \"timestamp\")"),
            "SELECT src.*, CAST(src.\"updated_at\" AS TEXT) AS __itvalue_watermark FROM (SELECT * FROM \"t\"\n) AS src WHERE src.\"updated_at\" >= CAST($1::TEXT AS \"timestamp\") - make_interval(secs => 7200) ORDER BY src.\"updated_at\""
        );
        assert_eq!(
            lagged(SourceKind::Mysql, "?"),
            "SELECT src.*, CAST(src.`updated_at` AS CHAR) AS __itvalue_watermark FROM (SELECT * FROM `t`\n) AS src WHERE src.`updated_at` >= DATE_SUB(?, INTERVAL 7200 SECOND) ORDER BY src.`updated_at`"
        );
    }
}
