//! Ingest: the configured sources, typed under their entity contracts.
//!
//! In: the [`Config`]'s sources. Out: [`Ingested`]: one Arrow record batch per entity (every
//! entity, empty when no source feeds it), the rejects with their locations, and a record of each
//! input file (SHA-256, rows read, loaded and rejected) for the run ledger. Rows whose key repeats
//! or whose foreign key names nothing are rejects too, so what is loaded is consistent.

pub mod contract;
mod headers;
mod record_batch;
mod spreadsheet;
pub mod value;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::record_batch::RecordBatch;

use crate::config::{Config, Source};
use crate::error::Result;
use crate::progress::Progress;
use contract::{Contract, Entity};
use value::Value;

pub use spreadsheet::column_letters;

/// A value that broke a rule, with where it came from. Nothing is dropped without one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The configured source name.
    pub source: String,
    pub entity: Entity,
    /// `file!sheet!cell`, e.g. `costs.xlsx!Costs!D17`.
    pub location: String,
    /// The row's key as typed, e.g. `investment_id=INV-0007, period=2025-03`.
    pub row_key: String,
    /// The entity column the value was for.
    pub column: String,
    /// The value as the user sees it in the source.
    pub value: String,
    /// The rule it broke.
    pub rule: String,
}

/// What was read from one input file, for the run ledger.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub source: String,
    pub entity: Entity,
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    /// Non-blank data rows.
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
}

/// One entity's typed rows as an Arrow batch: the contract's columns, then `_source` (the source
/// name) and `_row` (the row number in the source).
#[derive(Debug, Clone)]
pub struct EntityBatch {
    pub entity: Entity,
    /// True when at least one source feeds the entity.
    pub has_sources: bool,
    pub batch: RecordBatch,
}

/// Everything ingest produced for one run.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub inputs: Vec<InputFile>,
    /// One per entity, in [`Entity::ALL`] order.
    pub entities: Vec<EntityBatch>,
    pub rejects: Vec<Reject>,
}

/// The typed rows of one source, before cross-row checks.
struct SourceRows {
    source: String,
    entity: Entity,
    path: PathBuf,
    sha256: String,
    bytes: u64,
    rows_read: u64,
    rows: Vec<Row>,
    rejects: Vec<Reject>,
    /// The sheet column of each contract column.
    columns: Vec<Option<u32>>,
    /// `file!sheet`, the start of every location in this source.
    location_prefix: String,
}

impl SourceRows {
    fn cell_location(&self, column: usize, row: u32) -> String {
        match self.columns[column] {
            Some(c) => format!("{}!{}{row}", self.location_prefix, column_letters(c)),
            None => format!("{}!row {row}", self.location_prefix),
        }
    }
}

/// One typed row: a value per contract column.
struct Row {
    values: Vec<Value>,
    /// The 1-based row number in the sheet.
    sheet_row: u32,
}

/// Reads every configured source, types it, and checks keys and foreign keys across sources.
///
/// Sources are read in parallel, a thread per core.
///
/// # Errors
///
/// The first source that cannot be read at all (missing file or sheet, a header row that breaks
/// the contract). Bad values do not fail: they are returned as rejects.
pub fn read_sources(config: &Config, progress: &dyn Progress) -> Result<Ingested> {
    progress.begin("reading sources", config.sources.len() as u64);
    let results = read_in_parallel(&config.sources, progress);
    progress.end();
    let mut by_entity: HashMap<Entity, Vec<SourceRows>> = HashMap::new();
    for result in results {
        let rows = result?;
        by_entity.entry(rows.entity).or_default().push(rows);
    }

    let mut keys: HashMap<Entity, HashSet<String>> = HashMap::new();
    let mut ingested = Ingested {
        inputs: Vec::new(),
        entities: Vec::new(),
        rejects: Vec::new(),
    };
    for entity in Entity::ALL {
        let sources = by_entity.remove(&entity).unwrap_or_default();
        let has_sources = !sources.is_empty();
        let (kept, entity_keys) = check_rows(entity, sources, &keys, &mut ingested);
        if has_sources {
            keys.insert(entity, entity_keys);
        }
        ingested.entities.push(EntityBatch {
            entity,
            has_sources,
            batch: record_batch::build(entity, &kept),
        });
    }
    Ok(ingested)
}

fn read_in_parallel(sources: &[Source], progress: &dyn Progress) -> Vec<Result<SourceRows>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SourceRows>>>> =
        Mutex::new((0..sources.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(source) = sources.get(i) else { break };
                    tracing::debug!(source = %source.name, path = %source.path.display(), "reading");
                    let result = spreadsheet::read(source);
                    progress.advance(&source.name);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// A row that passed every check, with the source it came from.
pub(crate) struct KeptRow {
    pub source: Rc<str>,
    pub sheet_row: u32,
    pub values: Vec<Value>,
}

/// Applies the key and foreign-key rules across all sources of one entity, records inputs and
/// rejects, and returns the rows that pass with the entity's set of keys.
fn check_rows(
    entity: Entity,
    sources: Vec<SourceRows>,
    keys: &HashMap<Entity, HashSet<String>>,
    ingested: &mut Ingested,
) -> (Vec<KeptRow>, HashSet<String>) {
    let contract = entity.contract();
    let key_columns: Vec<usize> = contract
        .key
        .iter()
        .filter_map(|k| contract.index_of(k))
        .collect();
    // Key text -> where the key was first seen, for the duplicate's reject message.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut kept = Vec::new();
    for mut source in sources {
        let name: Rc<str> = Rc::from(source.source.as_str());
        let mut rejected = source.rows_read - source.rows.len() as u64;
        ingested.rejects.append(&mut source.rejects);
        for row in std::mem::take(&mut source.rows) {
            let problem = foreign_key_problem(contract, &row, keys).or_else(|| {
                let key = key_text(&key_columns, &row.values);
                match seen.get(&key) {
                    Some(first) => Some((
                        key_columns[0],
                        format!(
                            "duplicate key: the same {} as {first}",
                            contract.key.join(", ")
                        ),
                    )),
                    None => {
                        seen.insert(key, source.cell_location(key_columns[0], row.sheet_row));
                        None
                    }
                }
            });
            match problem {
                Some((column, rule)) => {
                    rejected += 1;
                    ingested.rejects.push(Reject {
                        source: source.source.clone(),
                        entity,
                        location: source.cell_location(column, row.sheet_row),
                        row_key: row_key_text(contract, &key_columns, &row.values),
                        column: contract.columns[column].name.to_string(),
                        value: row.values[column].key_text(),
                        rule,
                    });
                }
                None => kept.push(KeptRow {
                    source: Rc::clone(&name),
                    sheet_row: row.sheet_row,
                    values: row.values,
                }),
            }
        }
        ingested.inputs.push(InputFile {
            source: source.source,
            entity,
            path: source.path,
            sha256: source.sha256,
            bytes: source.bytes,
            rows_read: source.rows_read,
            rows_loaded: source.rows_read - rejected,
            rows_rejected: rejected,
        });
    }
    (kept, seen.into_keys().collect())
}

fn foreign_key_problem(
    contract: &Contract,
    row: &Row,
    keys: &HashMap<Entity, HashSet<String>>,
) -> Option<(usize, String)> {
    contract.foreign_keys.iter().find_map(|fk| {
        let column = contract.index_of(fk.column)?;
        let target_keys = keys.get(&fk.target)?;
        let value = &row.values[column];
        let text = value.key_text();
        (*value != Value::Null && !target_keys.contains(&text)).then(|| {
            (
                column,
                format!(
                    "{} {text} does not match any row of {}",
                    fk.column, fk.target
                ),
            )
        })
    })
}

fn key_text(key_columns: &[usize], values: &[Value]) -> String {
    key_columns
        .iter()
        .map(|&i| values[i].key_text())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

fn row_key_text(contract: &Contract, key_columns: &[usize], values: &[Value]) -> String {
    key_columns
        .iter()
        .filter(|&&i| values[i] != Value::Null)
        .map(|&i| format!("{}={}", contract.columns[i].name, values[i].key_text()))
        .collect::<Vec<_>>()
        .join(", ")
}
