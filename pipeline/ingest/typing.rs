//! From the grids of one source to typed rows: find the header row, map headers to columns,
//! keep the latest row per entity when the source is an update log, and type every cell.
//!
//! In: the source's configuration and the grids of its files. Out: [`SourceRows`]: the typed rows,
//! a reject per bad value with its location, per-file counts and the data-quality counts.

use std::collections::HashMap;

use super::grid::{Addressing, Grid, GridRow};
use super::headers::{self, HeaderCell};
use super::value::{Cell, Reading, Value, excerpt, type_cell};
use super::zones::Zones;
use super::{InputFile, Quality, Reject};
use crate::config::Source;
use crate::contract::Contract;
use crate::error::{Error, Result};

/// How many rows from the top are searched for the header row when none is configured.
const HEADER_SEARCH_ROWS: usize = 30;

/// One file of a source as read: its identity and its cells.
pub(super) struct ReadFile {
    pub path: std::path::PathBuf,
    pub sha256: String,
    pub bytes: u64,
    pub grid: Grid,
}

/// Where a file's columns are: the grid (for locations) and each contract column's position.
pub(super) struct Layout {
    pub file_name: String,
    pub addressing: Addressing,
    pub columns: Vec<Option<u32>>,
}

impl Layout {
    pub fn location(&self, column: usize, row: u32) -> String {
        let at = self.columns.get(column).copied().flatten();
        super::grid::location(&self.file_name, &self.addressing, row, at)
    }
}

/// One typed row and where it came from.
pub(super) struct Row {
    pub values: Vec<Value>,
    /// Index into [`SourceRows::layouts`] and [`SourceRows::files`].
    pub file: usize,
    pub number: u32,
}

/// The typed rows of one source, before the checks across sources.
pub(super) struct SourceRows {
    pub source: String,
    pub files: Vec<InputFile>,
    pub layouts: Vec<Layout>,
    pub rows: Vec<Row>,
    pub rejects: Vec<Reject>,
    /// Per reject, the index of its file in [`SourceRows::files`].
    pub reject_files: Vec<usize>,
    pub quality: Quality,
    /// What typing counted per file (the source's `quality` is their sum before the checks
    /// across sources add the foreign keys).
    pub file_quality: Vec<Quality>,
}

/// A data row of a source that keeps the latest row per entity, waiting to be typed.
struct Candidate {
    file: usize,
    row: usize,
}

/// One file of a source: read now, typed already where it was read, or kept by an earlier load
/// whose typed rows are reused.
pub(super) enum SourceFile {
    Read(ReadFile),
    /// A file typed on the thread that read it ([`type_file`]): one file's rows.
    Typed(SourceRows),
    Kept {
        kept: super::reuse::KeptInput,
        /// Its typed rows, in typing order (their `file` is set here).
        rows: Vec<Row>,
        /// Its typing rejects, in typing order.
        rejects: Vec<Reject>,
    },
}

/// Types the rows of every file of `source`, or takes those kept of an unchanged file, in file
/// order: rows and rejects come out in the same order either way.
///
/// # Errors
///
/// [`Error::Contract`] naming the file and sheet when a header row is missing or breaks the
/// contract (a required column absent, a header repeated).
pub(super) fn type_source(
    source: &Source,
    files: Vec<SourceFile>,
    zones: &Zones,
) -> Result<SourceRows> {
    let contract = source.entity.contract();
    let mut out = SourceRows::empty(source, files.len());
    let any_read = files
        .iter()
        .any(|f| matches!(f, SourceFile::Read(_) | SourceFile::Typed(_)));
    if source.latest.is_some() && any_read {
        // Which row stands for an entity depends on every file, so all are read together.
        let read = files
            .into_iter()
            .map(|f| match f {
                SourceFile::Read(r) => Ok(r),
                SourceFile::Typed(rows) => Err(Error::Contract {
                    location: rows
                        .files
                        .first()
                        .map(|f| f.path.display().to_string())
                        .unwrap_or_default(),
                    message: format!(
                        "source {} keeps the latest row per entity, so its files are typed together",
                        source.name
                    ),
                }),
                SourceFile::Kept { kept, .. } => Err(Error::Contract {
                    location: kept.path.display().to_string(),
                    message: format!(
                        "source {} keeps the latest row per entity, so its files are read together or reused together",
                        source.name
                    ),
                }),
            })
            .collect::<Result<Vec<ReadFile>>>()?;
        type_latest(source, contract, read, zones, &mut out)?;
        return Ok(out);
    }
    for (f, file) in files.into_iter().enumerate() {
        match file {
            SourceFile::Read(file) => {
                out.append(type_file(source, file, zones)?);
            }
            SourceFile::Typed(rows) => out.append(rows),
            SourceFile::Kept {
                kept,
                rows,
                rejects,
            } => {
                out.files.push(InputFile {
                    source: source.name.clone(),
                    entity: source.entity,
                    path: kept.path.clone(),
                    sha256: kept.sha256.clone(),
                    bytes: kept.bytes,
                    rows_read: kept.rows_read,
                    rows_superseded: kept.rows_superseded,
                    rows_loaded: 0,
                    rows_rejected: kept.rows_rejected,
                    rejected_rows: Vec::new(),
                    reused_from: Some(kept.run_id.clone()),
                });
                out.layouts.push(kept.layout.layout());
                out.quality.add(kept.quality);
                out.file_quality.push(kept.quality);
                out.reject_files.extend(rejects.iter().map(|_| f));
                out.rejects.extend(rejects);
                out.rows.extend(rows.into_iter().map(|mut r| {
                    r.file = f;
                    r
                }));
            }
        }
    }
    Ok(out)
}

/// Types the one file `file` of a source that does not keep the latest row per entity (such a
/// source's files are typed on their own, each on the thread that read it), freeing each row's
/// cells as soon as the row is typed, so that a large file is not held twice, as cells and as
/// typed values.
///
/// # Errors
///
/// As [`type_source`].
pub(super) fn type_file(source: &Source, mut file: ReadFile, zones: &Zones) -> Result<SourceRows> {
    let contract = source.entity.contract();
    let mut out = SourceRows::empty(source, 1);
    let (candidates, _) = prepare_file(source, contract, &file, &mut out)?;
    out.rows.reserve(candidates.len());
    let plans = column_plans(source, contract, zones);
    for row in candidates {
        type_row(source, contract, &plans, 0, &file.grid.rows[row], &mut out);
        file.grid.rows[row].cells = Vec::new();
    }
    Ok(out)
}

impl SourceRows {
    fn empty(source: &Source, files: usize) -> SourceRows {
        SourceRows {
            source: source.name.clone(),
            files: Vec::with_capacity(files),
            layouts: Vec::with_capacity(files),
            rows: Vec::new(),
            rejects: Vec::new(),
            reject_files: Vec::new(),
            quality: Quality::default(),
            file_quality: Vec::with_capacity(files),
        }
    }

    /// Adds the files of `other` (of the same source) after this one's, keeping file order.
    fn append(&mut self, other: SourceRows) {
        let offset = self.files.len();
        self.files.extend(other.files);
        self.layouts.extend(other.layouts);
        self.file_quality.extend(other.file_quality);
        self.quality.add(other.quality);
        self.rejects.extend(other.rejects);
        self.reject_files
            .extend(other.reject_files.into_iter().map(|f| f + offset));
        if offset == 0 && self.rows.is_empty() {
            self.rows = other.rows;
        } else {
            self.rows.extend(other.rows.into_iter().map(|mut r| {
                r.file += offset;
                r
            }));
        }
    }
}

/// Types one batch of a streamed source, leaving its cells where they are: the batch is small,
/// and the thread that read the cells frees them (freeing another thread's allocations is what
/// the allocator is slowest at).
///
/// # Errors
///
/// As [`type_source`].
pub(super) fn type_batch(source: &Source, batch: &ReadFile, zones: &Zones) -> Result<SourceRows> {
    let contract = source.entity.contract();
    let mut out = SourceRows::empty(source, 1);
    out.rows.reserve(batch.grid.rows.len());
    let (candidates, _) = prepare_file(source, contract, batch, &mut out)?;
    let plans = column_plans(source, contract, zones);
    for row in candidates {
        type_row(source, contract, &plans, 0, &batch.grid.rows[row], &mut out);
    }
    Ok(out)
}

/// Finds a read file's header row and columns, records the file, and returns the grid rows
/// that hold data with the column of `latest.by` when the source has one.
fn prepare_file(
    source: &Source,
    contract: &Contract,
    file: &ReadFile,
    out: &mut SourceRows,
) -> Result<(Vec<usize>, Option<u32>)> {
    let grid = &file.grid;
    let contract_error = |message: String| Error::Contract {
        location: grid.place(),
        message,
    };
    let header = header_row(grid, source, contract).map_err(contract_error)?;
    let header_number = grid.rows[header].number;
    let cells: Vec<HeaderCell> = grid.rows[header]
        .cells
        .iter()
        .map(|(c, v)| HeaderCell {
            column: *c,
            text: v.view().raw(),
        })
        .collect();
    let columns = headers::map_columns(contract, &source.columns, &source.defaults, &cells, &|c| {
        grid.header_address(header_number, c)
    })
    .map_err(contract_error)?;
    let mut latest_by = None;
    if let Some(latest) = &source.latest {
        let key = contract.index_of(&latest.key).and_then(|k| columns[k]);
        if key.is_none() {
            return Err(contract_error(format!(
                "latest.key: column `{}` has no header in this file",
                latest.key
            )));
        }
        let wanted = headers::normalise(&latest.by);
        let by = cells
            .iter()
            .find(|h| headers::normalise(&h.text) == wanted)
            .map(|h| h.column)
            .ok_or_else(|| {
                contract_error(format!(
                    "latest.by: no header {:?} in the header row",
                    latest.by
                ))
            })?;
        latest_by = Some(by);
    }
    let mut rows_read = 0;
    let mut candidates = Vec::new();
    for (r, row) in grid.rows.iter().enumerate().skip(header + 1) {
        let mapped = columns.iter().flatten();
        if mapped.clone().all(|c| blank(&row.cell(*c))) {
            continue;
        }
        rows_read += 1;
        candidates.push(r);
    }
    out.files.push(InputFile {
        source: source.name.clone(),
        entity: source.entity,
        path: file.path.clone(),
        sha256: file.sha256.clone(),
        bytes: file.bytes,
        rows_read,
        rows_superseded: 0,
        rows_loaded: 0,
        rows_rejected: 0,
        rejected_rows: Vec::new(),
        reused_from: None,
    });
    out.layouts.push(Layout {
        file_name: grid.file_name.clone(),
        addressing: grid.addressing.clone(),
        columns,
    });
    out.file_quality.push(Quality::default());
    Ok((candidates, latest_by))
}

/// Types the files of a source that keeps the latest row per entity: all candidates first, then
/// the latest of each entity, then typing.
fn type_latest(
    source: &Source,
    contract: &Contract,
    files: Vec<ReadFile>,
    zones: &Zones,
    out: &mut SourceRows,
) -> Result<()> {
    let mut candidates = Vec::new();
    let mut latest_columns = Vec::new();
    for (f, file) in files.iter().enumerate() {
        let (rows, by) = prepare_file(source, contract, file, out)?;
        latest_columns.push(by.unwrap_or(0));
        candidates.extend(rows.into_iter().map(|row| Candidate { file: f, row }));
    }
    if let Some(latest) = &source.latest {
        let key = contract.index_of(&latest.key).unwrap_or(0);
        let formats: Vec<String> = source
            .rules
            .values()
            .flat_map(|r| r.formats.clone())
            .collect();
        let latest = Latest {
            key,
            by_columns: &latest_columns,
            formats: &formats,
        };
        candidates = keep_latest(candidates, &files, &out.layouts, &latest, &mut out.files);
    }
    let plans = column_plans(source, contract, zones);
    for candidate in candidates {
        let row = &files[candidate.file].grid.rows[candidate.row];
        type_row(source, contract, &plans, candidate.file, row, out);
    }
    Ok(())
}

fn blank(cell: &Cell) -> bool {
    match cell {
        Cell::Empty => true,
        Cell::Text(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// The configured header row, the first row of a Parquet file, or the first row within the top
/// rows that holds a required column's header (titles and blank rows above it are skipped).
fn header_row(
    grid: &Grid,
    source: &Source,
    contract: &Contract,
) -> std::result::Result<usize, String> {
    if grid.rows.is_empty() {
        return Err("the sheet is empty".to_string());
    }
    if let Some(n) = source.header_row {
        return grid
            .rows
            .iter()
            .position(|r| r.number == n)
            .ok_or_else(|| format!("header_row = {n}: that row is empty"));
    }
    if grid.addressing == Addressing::Rows {
        return Ok(0);
    }
    let wanted: Vec<String> = contract
        .columns
        .iter()
        .filter(|c| c.required)
        .flat_map(|c| headers::candidates(c.name, &source.columns))
        .map(|h| headers::normalise(&h))
        .collect();
    grid.rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|row| {
            row.cells
                .iter()
                .any(|(_, v)| wanted.contains(&headers::normalise(&v.view().raw())))
        })
        .ok_or_else(|| {
            format!(
                "no header row found in the first {HEADER_SEARCH_ROWS} rows: none holds a header of a required column of {}",
                source.entity
            )
        })
}

/// How the latest row per entity is told: the key column, the `by` column of each file, and the
/// formats to read `by` values written as dates.
struct Latest<'a> {
    key: usize,
    by_columns: &'a [u32],
    formats: &'a [String],
}

/// Keeps, per entity key, the row with the highest `latest.by` value (the later row on a tie);
/// the others are counted as superseded in their file's record. Values compare as numbers, else
/// as dates and times (ISO or the source's formats), else as text. Rows without a key are kept,
/// so that typing rejects them.
fn keep_latest(
    candidates: Vec<Candidate>,
    files: &[ReadFile],
    layouts: &[Layout],
    latest: &Latest,
    records: &mut [InputFile],
) -> Vec<Candidate> {
    let order = |c: &Candidate| -> (f64, String) {
        let cell = files[c.file].grid.rows[c.row].cell(latest.by_columns[c.file]);
        match cell {
            Cell::Int(i) => (i as f64, String::new()),
            Cell::Float(f) => (f, String::new()),
            Cell::DateTime(t) => (t.and_utc().timestamp() as f64, String::new()),
            other => {
                let raw = other.raw();
                let raw = raw.trim();
                if let Ok(f) = raw.parse::<f64>() {
                    (f, String::new())
                } else if let Some(t) = super::value::timestamp_order(raw, latest.formats) {
                    (t as f64, String::new())
                } else {
                    (f64::NEG_INFINITY, raw.to_string())
                }
            }
        }
    };
    let key_of = |c: &Candidate| {
        layouts[c.file].columns[latest.key]
            .map(|col| {
                files[c.file].grid.rows[c.row]
                    .cell(col)
                    .raw()
                    .trim()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut best: HashMap<String, usize> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let k = key_of(c);
        if k.is_empty() {
            continue;
        }
        match best.get(&k) {
            Some(&j)
                if order(&candidates[j]).partial_cmp(&order(c))
                    == Some(std::cmp::Ordering::Greater) => {}
            _ => {
                best.insert(k, i);
            }
        }
    }
    let winners: std::collections::HashSet<usize> = best.into_values().collect();
    let mut kept = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.into_iter().enumerate() {
        if winners.contains(&i) || key_of(&c).is_empty() {
            kept.push(c);
        } else {
            records[c.file].rows_superseded += 1;
        }
    }
    kept
}

/// Types one row; a row with any bad value is kept out and each bad value is a reject.
fn type_row(
    source: &Source,
    contract: &Contract,
    plans: &[ColumnPlan],
    file: usize,
    row: &GridRow,
    out: &mut SourceRows,
) {
    let layout = &out.layouts[file];
    let mut values = Vec::with_capacity(contract.columns.len());
    // The instants of the timestamps, for the order checks.
    let mut instants: Vec<Option<i64>> = Vec::with_capacity(contract.columns.len());
    let mut failed = false;
    for ((i, column), plan) in contract.columns.iter().enumerate().zip(plans) {
        let found = layout.columns[i].map_or(Cell::Empty, |c| row.cell(c));
        let reading = plan.reading;
        let cell = match plan.default {
            Some(default) if is_empty(&found, reading) => Cell::Text(default),
            _ => found,
        };
        let present = !is_empty(&cell, reading);
        if column.required {
            out.quality.required_expected += 1;
            out.quality.required_present += u64::from(present);
            out.file_quality[file].required_expected += 1;
            out.file_quality[file].required_present += u64::from(present);
        }
        instants.push(match column.kind {
            crate::contract::ColumnKind::Timestamp => super::value::instant_of(&cell, reading),
            _ => None,
        });
        match type_cell(&cell, column, reading) {
            Ok(v) => {
                out.quality.values_present += u64::from(present);
                out.quality.values_valid += u64::from(present);
                out.file_quality[file].values_present += u64::from(present);
                out.file_quality[file].values_valid += u64::from(present);
                values.push(v);
            }
            Err(rule) => {
                out.quality.values_present += u64::from(present);
                out.file_quality[file].values_present += u64::from(present);
                failed = true;
                values.push(Value::Null);
                out.reject_files.push(file);
                out.rejects.push(Reject {
                    source: source.name.clone(),
                    entity: source.entity,
                    location: layout.location(i, row.number),
                    row_key: row_key(contract, layout, row, source),
                    column: column.name.to_string(),
                    value: cell.shown(),
                    rule,
                });
            }
        }
    }
    if !failed
        && let Some((column, rule)) = inverted(contract, layout, row.number, &values, &instants)
    {
        failed = true;
        out.reject_files.push(file);
        out.rejects.push(Reject {
            source: source.name.clone(),
            entity: source.entity,
            location: layout.location(column, row.number),
            row_key: row_key(contract, layout, row, source),
            column: contract.columns[column].name.to_string(),
            // As the cell shows it, like every other reject (the rule gives both stored times).
            value: layout.columns[column]
                .map(|c| row.cell(c).shown())
                .unwrap_or_else(|| values[column].key_text()),
            rule,
        });
    }
    if failed {
        out.files[file].rows_rejected += 1;
        out.files[file].rejected_rows.push(row.number);
    } else {
        out.rows.push(Row {
            values,
            file,
            number: row.number,
        });
    }
}

/// How one contract column of a source is read, looked up once per file rather than per cell.
struct ColumnPlan<'a> {
    reading: Reading<'a>,
    /// The source's default for the column's empty cells.
    default: Option<&'a str>,
}

/// The plan of each contract column of `source`, in contract order.
fn column_plans<'a>(
    source: &'a Source,
    contract: &Contract,
    zones: &'a Zones,
) -> Vec<ColumnPlan<'a>> {
    contract
        .columns
        .iter()
        .map(|column| ColumnPlan {
            reading: Reading {
                rules: source.rules_for(column.name),
                null_values: &source.null_values,
                zones,
            },
            default: source.defaults.get(column.name).map(String::as_str),
        })
        .collect()
}

/// The first pair of points in time that the row inverts, compared as instants: the later column
/// and the rule, which names both cells.
fn inverted(
    contract: &Contract,
    layout: &Layout,
    number: u32,
    values: &[Value],
    instants: &[Option<i64>],
) -> Option<(usize, String)> {
    let at = |name: &str| contract.index_of(name);
    for order in contract.in_order {
        let Some(later) = at(order.later) else {
            continue;
        };
        let Value::Timestamp(end) = values[later] else {
            continue;
        };
        let earlier = order.earlier.iter().find_map(|name| {
            let i = at(name)?;
            match values[i] {
                Value::Timestamp(t) => Some((i, t)),
                _ => None,
            }
        });
        let before = |i: usize, start: chrono::NaiveDateTime| match (instants[later], instants[i]) {
            (Some(e), Some(s)) => e < s,
            _ => end < start,
        };
        if let Some((i, start)) = earlier
            && before(i, start)
        {
            return Some((
                later,
                format!(
                    "{} {end} is before {} {start} (at {}): {}",
                    order.later,
                    contract.columns[i].name,
                    layout.location(i, number),
                    order.meaning
                ),
            ));
        }
    }
    None
}

/// Empty, blank or one of the source's null markers.
fn is_empty(cell: &Cell, reading: Reading) -> bool {
    match cell {
        Cell::Empty => true,
        Cell::Text(s) => {
            let t = s.trim();
            t.is_empty()
                || reading
                    .null_values
                    .iter()
                    .any(|n| super::value::same_text(n, t))
        }
        _ => false,
    }
}

/// The row's key as the user typed it, for reject reports ("investment_id=INV-0007").
fn row_key(contract: &Contract, layout: &Layout, row: &GridRow, source: &Source) -> String {
    contract
        .key
        .iter()
        .filter_map(|k| {
            let i = contract.index_of(k)?;
            let raw = layout.columns[i]
                .map(|c| row.cell(c).raw())
                .unwrap_or_default();
            let raw = if raw.trim().is_empty() {
                source.defaults.get(*k).cloned().unwrap_or_default()
            } else {
                raw
            };
            (!raw.trim().is_empty()).then(|| format!("{k}={}", excerpt(raw.trim())))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
