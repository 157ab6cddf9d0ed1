//! Ingest: the configured sources, typed under their entity contracts.
//!
//! In: the [`Config`]'s sources (workbooks, CSV and Parquet files, globs of them, PostgreSQL and
//! MySQL tables or queries) and, for incremental database sources, what earlier loads left
//! ([`Prior`]). Out:
//! [`Ingested`]: one Arrow record batch per entity (every entity, empty when no source feeds it),
//! the rejects with their locations, a record of each input file (SHA-256, rows read, superseded,
//! loaded and rejected) and the data-quality scores of each source. Rows whose key repeats or
//! whose foreign key names nothing are rejects too, so what is loaded is consistent.

mod database;
mod delimited;
mod grid;
mod headers;
mod parquet_file;
mod quality;
mod record_batch;
mod typing;
pub mod value;
mod workbook;
pub mod zones;

use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{Config, Source, SourceKind};
use crate::contract::{Contract, Entity};
use crate::error::{Error, Result};
use crate::progress::Progress;
use typing::{ReadFile, SourceRows};
use value::{Value, excerpt};
use zones::Zones;

pub use grid::column_letters;
pub use quality::{Quality, SourceQuality, Verdict};

/// A value that broke a rule, with where it came from. Nothing is dropped without one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The configured source name.
    pub source: String,
    pub entity: Entity,
    /// `file!sheet!cell` (`costs.xlsx!Costs!D17`), `file!cell` for CSV, `file!row N` for Parquet.
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
    /// Rows that a later row of the same entity replaces (update-log exports).
    pub rows_superseded: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
}

/// One entity's typed rows as an Arrow batch: the contract's columns, then `_source` (the source
/// name), `_file` (the file name) and `_row` (the row or line in that file).
#[derive(Debug, Clone)]
pub struct EntityBatch {
    pub entity: Entity,
    /// True when at least one source feeds the entity.
    pub has_sources: bool,
    pub batch: RecordBatch,
}

/// What earlier loads left that an incremental extraction builds on.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Per database source with a watermark column, the highest watermark it has loaded.
    pub watermarks: HashMap<String, String>,
    /// Per entity, the keys of rows that incremental sources loaded before and that stay unless
    /// a new row replaces them; foreign keys may name them.
    pub kept_keys: HashMap<Entity, HashSet<String>>,
}

/// A database source's extraction, for the next run's watermark and for the load.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    pub source: String,
    pub entity: Entity,
    /// Only rows at or after the previous watermark were extracted: the load keeps the rows
    /// loaded before and replaces those with the same key.
    pub incremental: bool,
    /// The highest watermark of this extraction (the previous one when nothing new came).
    pub watermark: Option<String>,
    /// What was read ([`crate::config::DatabaseSource::fingerprint`]).
    pub fingerprint: String,
    pub rows: u64,
}

/// Everything ingest produced for one run.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub inputs: Vec<InputFile>,
    /// One per database source, in configuration order.
    pub extractions: Vec<Extraction>,
    /// One per entity, in [`Entity::ALL`] order.
    pub entities: Vec<EntityBatch>,
    pub rejects: Vec<Reject>,
    /// One per source, in configuration order.
    pub quality: Vec<SourceQuality>,
}

impl Ingested {
    /// The sources whose rejects pass a threshold set to fail the run.
    pub fn failing(&self) -> Vec<&SourceQuality> {
        self.quality
            .iter()
            .filter(|q| q.verdict == Verdict::Fail)
            .collect()
    }
}

/// Reads every configured source, types it, and checks keys and foreign keys across sources.
///
/// Files are read in parallel (rayon), a thread per core.
///
/// # Errors
///
/// The first file that cannot be read at all (missing, not of its kind, over a limit) or whose
/// header row breaks the contract. Bad values do not fail: they are returned as rejects, and
/// [`Ingested::failing`] says which sources have too many.
pub fn read_sources(config: &Config, prior: &Prior, progress: &dyn Progress) -> Result<Ingested> {
    let mut jobs: Vec<(usize, PathBuf)> = Vec::new();
    for (s, source) in config.sources.iter().enumerate() {
        if source.kind.is_database() {
            jobs.push((s, PathBuf::new()));
            continue;
        }
        for path in expand(source)? {
            jobs.push((s, path));
        }
    }
    progress.begin("reading sources", jobs.len() as u64);
    // Files are read on rayon's threads, a thread per core; results keep the jobs' order.
    let read: Vec<_> = jobs
        .par_iter()
        .map(|(s, path)| {
            let source = &config.sources[*s];
            if source.kind.is_database() {
                let since = prior.watermarks.get(&source.name).map(String::as_str);
                tracing::debug!(source = %source.name, since, "extracting");
                let extract = database::extract(source, since, &config.timezone, &config.limits);
                progress.advance(&source.name);
                return extract.map(|e| (e.file, Some((since.is_some(), e.watermark))));
            }
            tracing::debug!(source = %source.name, path = %path.display(), "reading");
            let file = read_file(source, path, config);
            progress.advance(&workbook::file_name(path));
            file.map(|f| (f, None))
        })
        .collect();
    progress.end();
    let mut per_source: Vec<Vec<ReadFile>> = config.sources.iter().map(|_| Vec::new()).collect();
    let mut extractions = Vec::new();
    for ((s, _), file) in jobs.iter().zip(read) {
        let (file, extraction) = file?;
        if let Some((incremental, watermark)) = extraction {
            let source = &config.sources[*s];
            let fingerprint = source
                .database
                .as_ref()
                .map(|d| d.fingerprint(source.kind))
                .unwrap_or_default();
            extractions.push(Extraction {
                source: source.name.clone(),
                entity: source.entity,
                fingerprint,
                incremental,
                watermark: watermark.or_else(|| prior.watermarks.get(&source.name).cloned()),
                rows: file.grid.rows.len().saturating_sub(1) as u64,
            });
        }
        per_source[*s].push(file);
    }
    let mut by_entity: HashMap<Entity, Vec<SourceRows>> = HashMap::new();
    for (source, files) in config.sources.iter().zip(per_source) {
        let rows = typing::type_source(source, files, &source_zones(config, source)?)?;
        by_entity.entry(source.entity).or_default().push(rows);
    }

    let mut keys: HashMap<Entity, HashSet<String>> = HashMap::new();
    let mut checked: HashMap<String, (Vec<InputFile>, Quality)> = HashMap::new();
    let mut ingested = Ingested {
        inputs: Vec::new(),
        extractions,
        entities: Vec::new(),
        rejects: Vec::new(),
        quality: Vec::new(),
    };
    for entity in Entity::ALL {
        let sources = by_entity.remove(&entity).unwrap_or_default();
        let has_sources = !sources.is_empty();
        let (kept, mut entity_keys) =
            check_rows(entity, sources, &keys, &mut ingested, &mut checked);
        if has_sources {
            if let Some(earlier) = prior.kept_keys.get(&entity) {
                entity_keys.extend(earlier.iter().cloned());
            }
            keys.insert(entity, entity_keys);
        }
        ingested.entities.push(EntityBatch {
            entity,
            has_sources,
            batch: record_batch::build(entity, &kept),
        });
    }
    for source in &config.sources {
        if let Some((files, counts)) = checked.remove(&source.name) {
            ingested
                .quality
                .push(SourceQuality::score(source, &files, counts));
            ingested.inputs.extend(files);
        }
    }
    Ok(ingested)
}

/// The zones a source's timestamps are read in and stored in. Database readers place their
/// timestamps in the configured zone themselves; a file's naive timestamps are in its
/// `source_timezone`, by default the configured zone.
fn source_zones(config: &Config, source: &Source) -> Result<Zones> {
    let zones = if source.kind.is_database() {
        Zones::already_in(&config.timezone)
    } else {
        Zones::new(
            source
                .source_timezone
                .as_deref()
                .unwrap_or(&config.timezone),
            &config.timezone,
        )
    };
    zones.map_err(|message| Error::Config {
        path: config.path.clone(),
        message: format!("source {}: {message}", source.name),
    })
}

/// The files a source names: its path, or the matches of its glob pattern in name order.
fn expand(source: &Source) -> Result<Vec<PathBuf>> {
    let text = source.path.to_string_lossy();
    if !text.contains(['*', '?', '[']) {
        return Ok(vec![source.path.clone()]);
    }
    let missing = |message: String| Error::MissingInput {
        path: source.path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, message),
    };
    let matches = glob::glob(&text).map_err(|e| missing(format!("not a valid pattern: {e}")))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in matches {
        // A folder or file the pattern reaches but cannot read is an error, never a silent gap.
        let path = entry.map_err(|e| Error::MissingInput {
            path: e.path().to_path_buf(),
            source: std::io::Error::new(
                e.error().kind(),
                format!("matched by {text} but cannot be read: {}", e.error()),
            ),
        })?;
        // A dangling link or a file that vanished is no less a match for being unreadable.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => paths.push(path),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::MissingInput {
                    source: std::io::Error::new(
                        e.kind(),
                        format!("matched by {text} but cannot be read: {e}"),
                    ),
                    path,
                });
            }
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(missing("no file matches the pattern".to_string()));
    }
    Ok(paths)
}

/// Reads one file of a source into its grid, with the hash of the bytes that were read.
fn read_file(source: &Source, path: &Path, config: &Config) -> Result<ReadFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::MissingInput {
        path: path.to_path_buf(),
        source: e,
    })?;
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let size = bytes.len() as u64;
    let limits = &config.limits;
    let grid = match source.kind {
        SourceKind::Csv => delimited::read(path, &bytes, source, limits)?,
        SourceKind::Parquet => parquet_file::read(path, bytes, limits)?,
        _ => workbook::read(path, bytes, source, limits)?,
    };
    Ok(ReadFile {
        path: path.to_path_buf(),
        sha256,
        bytes: size,
        grid,
    })
}

/// A row that passed every check, with the source and file it came from.
pub(crate) struct KeptRow {
    pub source: std::rc::Rc<str>,
    pub file: std::rc::Rc<str>,
    pub number: u32,
    pub values: Vec<Value>,
}

/// Applies the key and foreign-key rules across all sources of one entity, records rejects and
/// per-file counts, and returns the rows that pass with the entity's set of keys.
fn check_rows(
    entity: Entity,
    sources: Vec<SourceRows>,
    keys: &HashMap<Entity, HashSet<String>>,
    ingested: &mut Ingested,
    checked: &mut HashMap<String, (Vec<InputFile>, Quality)>,
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
        let name: std::rc::Rc<str> = std::rc::Rc::from(source.source.as_str());
        let files: Vec<std::rc::Rc<str>> = source
            .layouts
            .iter()
            .map(|l| std::rc::Rc::from(l.file_name.as_str()))
            .collect();
        ingested.rejects.append(&mut source.rejects);
        for row in std::mem::take(&mut source.rows) {
            let layout = &source.layouts[row.file];
            let problem = foreign_key_problem(contract, &row.values, keys, &mut source.quality)
                .or_else(|| {
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
                            seen.insert(key, layout.location(key_columns[0], row.number));
                            None
                        }
                    }
                });
            match problem {
                Some((column, rule)) => {
                    source.files[row.file].rows_rejected += 1;
                    ingested.rejects.push(Reject {
                        source: source.source.clone(),
                        entity,
                        location: layout.location(column, row.number),
                        row_key: row_key_text(contract, &key_columns, &row.values),
                        column: contract.columns[column].name.to_string(),
                        value: excerpt(&row.values[column].key_text()),
                        rule,
                    });
                }
                None => {
                    source.files[row.file].rows_loaded += 1;
                    kept.push(KeptRow {
                        source: std::rc::Rc::clone(&name),
                        file: std::rc::Rc::clone(&files[row.file]),
                        number: row.number,
                        values: row.values,
                    });
                }
            }
        }
        checked.insert(source.source, (source.files, source.quality));
    }
    (kept, seen.into_keys().collect())
}

/// The first foreign key of the row that names nothing, counting every reference checked.
fn foreign_key_problem(
    contract: &Contract,
    values: &[Value],
    keys: &HashMap<Entity, HashSet<String>>,
    quality: &mut Quality,
) -> Option<(usize, String)> {
    let mut problem = None;
    for fk in contract.foreign_keys {
        let Some(column) = contract.index_of(fk.column) else {
            continue;
        };
        // Without a source for the target entity there is nothing to check against.
        let Some(target_keys) = keys.get(&fk.target) else {
            continue;
        };
        let value = &values[column];
        if *value == Value::Null {
            continue;
        }
        quality.references += 1;
        let text = value.key_text();
        if target_keys.contains(&text) {
            quality.references_resolved += 1;
        } else if problem.is_none() {
            problem = Some((
                column,
                format!(
                    "{} {} does not match any row of {}",
                    fk.column,
                    excerpt(&text),
                    fk.target
                ),
            ));
        }
    }
    problem
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
        .map(|&i| {
            format!(
                "{}={}",
                contract.columns[i].name,
                excerpt(&values[i].key_text())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
