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
pub mod reuse;
mod spill;
mod streamed;
mod typing;
pub mod value;
mod workbook;
pub mod zones;

use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::{Config, Source, SourceKind};
use crate::contract::{Contract, Entity};
use crate::error::{Error, Result};
use crate::progress::Progress;
use reuse::{KeptInput, KeptRows, TypedInput};
use typing::{ReadFile, SourceFile, SourceRows};
use value::{Value, excerpt};
use zones::Zones;

pub use grid::column_letters;
pub use quality::{Quality, SourceQuality, Verdict};
pub use spill::SpilledRows;

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
    /// The numbers of the rows rejected now (not those of a reused file), so that an incremental
    /// database source reads them again next time.
    pub rejected_rows: Vec<u32>,
    /// The run whose load read and typed this file, when this run reused what it kept because
    /// the file and its source's configuration are unchanged; `None` when it was read now.
    pub reused_from: Option<String>,
}

/// One entity's typed rows as Arrow batches: the contract's columns, then `_source` (the source
/// name), `_file` (the file name) and `_row` (the row or line in that file).
#[derive(Debug, Clone)]
pub struct EntityBatch {
    pub entity: Entity,
    /// True when at least one source feeds the entity.
    pub has_sources: bool,
    /// The rows of its file sources (and of database sources that keep the latest row).
    pub batch: RecordBatch,
    /// The rows of its streamed database sources, on disk until they are loaded.
    pub spilled: Vec<SpilledRows>,
}

impl EntityBatch {
    /// The rows to load.
    pub fn rows(&self) -> u64 {
        self.batch.num_rows() as u64 + self.spilled.iter().map(SpilledRows::rows).sum::<u64>()
    }

    /// The rows to load, one batch at a time: [`EntityBatch::batch`], then each spill's batches
    /// as they were written.
    ///
    /// # Errors
    ///
    /// Each item: [`Error::Output`] naming a spill file that cannot be read back.
    pub fn record_batches(&self) -> impl Iterator<Item = Result<RecordBatch>> + '_ {
        let spilled = self.spilled.iter().flat_map(|s| match s.batches() {
            Ok(batches) => Box::new(batches) as Box<dyn Iterator<Item = Result<RecordBatch>>>,
            Err(e) => Box::new(std::iter::once(Err(e))),
        });
        std::iter::once(Ok(self.batch.clone()))
            .filter(|b| b.as_ref().is_ok_and(|b| b.num_rows() > 0))
            .chain(spilled)
    }
}

/// What earlier loads left that an incremental extraction builds on.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Per database source with a watermark column, where its extraction starts: the smallest
    /// watermark among the rows the last extraction rejected, else the highest it loaded.
    pub watermarks: HashMap<String, String>,
    /// Per entity, the keys of rows that incremental sources loaded before and that stay unless
    /// a new row replaces them; foreign keys may name them.
    pub kept_keys: HashMap<Entity, HashSet<String>>,
    /// Per source name and path, what the last load kept of each file it typed: a file whose
    /// SHA-256 and source fingerprint are the same is reused, not read.
    pub kept_inputs: HashMap<(String, PathBuf), KeptInput>,
    /// Sources this run does not read at all: the files their last load kept are taken as they
    /// are (a scheduled job that refreshes only some sources).
    pub kept_sources: BTreeSet<String>,
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
    /// The smallest watermark among the rows of this extraction that were rejected: the next
    /// run reads from there, so a row fixed in the source (or whose foreign key now resolves)
    /// is loaded even when its watermark has not moved. `None` when no row with a watermark
    /// was rejected.
    pub rejected_watermark: Option<String>,
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
    /// Every file read and typed now (not reused), for the warehouse to keep.
    pub typed: Vec<TypedInput>,
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

/// One unit of reading: a file, a kept file taken as it is, or a database source.
enum Job {
    File { source: usize, path: PathBuf },
    Kept { source: usize, kept: Box<KeptInput> },
    Database { source: usize },
}

impl Job {
    fn source(&self) -> usize {
        match self {
            Job::File { source, .. } | Job::Kept { source, .. } | Job::Database { source } => {
                *source
            }
        }
    }
}

/// What reading one job gave.
enum Read {
    File(ReadFile),
    /// A file typed where it was read (its source does not keep the latest row per entity), with
    /// what the warehouse keeps of it for reuse.
    Typed(typing::SourceRows, Vec<TypedInput>),
    /// A file whose kept rows are taken: unchanged, or of a source this run does not read.
    Kept(KeptInput),
    Database(Box<database::Extract>, bool),
}

/// Reads every configured source, types it, and checks keys and foreign keys across sources,
/// reading every file (what `itvalue check` does): [`read_sources_reusing`] with nothing kept.
///
/// # Errors
///
/// As for [`read_sources_reusing`].
pub fn read_sources(config: &Config, prior: &Prior, progress: &dyn Progress) -> Result<Ingested> {
    let prior = Prior {
        kept_inputs: HashMap::new(),
        kept_sources: BTreeSet::new(),
        ..prior.clone()
    };
    read_sources_reusing(
        config,
        &prior,
        &mut |kept| {
            Err(Error::NoData(format!(
                "nothing kept of {} is offered here",
                kept.path.display()
            )))
        },
        progress,
    )
}

/// Reads every configured source, types it, and checks keys and foreign keys across sources.
///
/// Files are read in parallel (rayon), a thread per core. A file that an earlier load kept
/// ([`Prior::kept_inputs`]) with the same SHA-256 and source fingerprint is not read again:
/// `kept_rows` gives its typed rows and rejects, and the checks across files and sources run on
/// them as on any other.
///
/// # Errors
///
/// The first file that cannot be read at all (missing, not of its kind, over a limit) or whose
/// header row breaks the contract, and the error of `kept_rows`. Bad values do not fail: they are
/// returned as rejects, and [`Ingested::failing`] says which sources have too many.
pub fn read_sources_reusing(
    config: &Config,
    prior: &Prior,
    kept_rows: &mut dyn FnMut(&KeptInput) -> Result<KeptRows>,
    progress: &dyn Progress,
) -> Result<Ingested> {
    let clock = std::time::Instant::now();
    let timed = |part: &str, clock: &mut std::time::Instant| {
        tracing::debug!(part, ms = clock.elapsed().as_millis() as u64, "ingest part");
        *clock = std::time::Instant::now();
    };
    let mut clock = clock;
    let jobs = plan(config, prior)?;
    timed("planning (hashing offered files)", &mut clock);
    let job_sources: Vec<usize> = jobs.iter().map(Job::source).collect();
    let zones = config
        .sources
        .iter()
        .map(|source| source_zones(config, source))
        .collect::<Result<Vec<Zones>>>()?;
    progress.begin("reading sources", jobs.len() as u64);
    // Files are read on rayon's threads, a thread per core; results keep the jobs' order. A file
    // is typed on the thread that read it, so that its cells are freed there as each row is typed
    // (all files' cells are never held at once) and typing shares the cores with reading.
    let read: Vec<Result<Read>> = jobs
        .into_par_iter()
        .map(|job| {
            let source = &config.sources[job.source()];
            match job {
                Job::Database { .. } => {
                    let since = prior.watermarks.get(&source.name).map(String::as_str);
                    tracing::debug!(source = %source.name, since, "extracting");
                    let extract =
                        database::extract(source, since, &config.timezone, &config.limits);
                    progress.advance(&source.name);
                    extract.map(|e| Read::Database(Box::new(e), since.is_some()))
                }
                Job::Kept { kept, .. } => {
                    progress.advance(&format!("{} (kept)", workbook::file_name(&kept.path)));
                    Ok(Read::Kept(*kept))
                }
                Job::File { path, source: s } => {
                    tracing::debug!(source = %source.name, path = %path.display(), "reading");
                    let file = read_file(source, &path, config);
                    let read = match file {
                        Ok(file) if source.latest.is_none() => {
                            typing::type_file(source, file, &zones[s]).map(|rows| {
                                let typed = typed_inputs(config, source, &rows);
                                Read::Typed(rows, typed)
                            })
                        }
                        other => other.map(Read::File),
                    };
                    progress.advance(&workbook::file_name(&path));
                    read
                }
            }
        })
        .collect();
    progress.end();
    timed("reading and typing files", &mut clock);
    let mut per_source: Vec<Vec<SourceFile>> = config.sources.iter().map(|_| Vec::new()).collect();
    // What the warehouse keeps of the files typed where they were read, per source.
    let mut typed_early: Vec<Vec<TypedInput>> = config.sources.iter().map(|_| Vec::new()).collect();
    let mut extractions = Vec::new();
    let mut row_watermarks = HashMap::new();
    for (s, read) in job_sources.into_iter().zip(read) {
        let source = &config.sources[s];
        match read? {
            Read::File(file) => per_source[s].push(SourceFile::Read(file)),
            Read::Typed(rows, typed) => {
                per_source[s].push(SourceFile::Typed(rows));
                typed_early[s].extend(typed);
            }
            Read::Kept(kept) => {
                let KeptRows { rows, rejects } = kept_rows(&kept)?;
                let rows = reuse::rows_of(source.entity, &rows, 0).map_err(|e| {
                    Error::warehouse(
                        &kept.path,
                        format!("taking back what source {} kept of this file", source.name),
                        e,
                    )
                })?;
                tracing::debug!(source = %source.name, path = %kept.path.display(), from = %kept.run_id, "reused");
                per_source[s].push(SourceFile::Kept {
                    kept,
                    rows,
                    rejects,
                });
            }
            Read::Database(extract, incremental) => {
                let extract = *extract;
                let database::Extract {
                    file,
                    watermark,
                    row_watermarks: watermarks,
                    ..
                } = extract;
                row_watermarks.insert(source.name.clone(), watermarks);
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
                    rejected_watermark: None,
                    rows: extract.rows,
                });
                per_source[s].push(SourceFile::Read(file));
            }
        }
    }
    timed("taking back kept rows", &mut clock);
    let mut typed = Vec::new();
    let mut by_entity: HashMap<Entity, Vec<SourceRows>> = HashMap::new();
    for (s, (source, files)) in config.sources.iter().zip(per_source).enumerate() {
        if streams(source) {
            continue;
        }
        let rows = typing::type_source(source, files, &zones[s])?;
        if !source.kind.is_database() {
            // Files of a source without `latest` were kept as they were typed, beside reading.
            if source.latest.is_some() {
                typed.extend(typed_inputs(config, source, &rows));
            } else {
                typed.append(&mut typed_early[s]);
            }
        }
        by_entity.entry(source.entity).or_default().push(rows);
    }

    timed("typing what was read together", &mut clock);
    let mut keys: HashMap<Entity, KeySet> = HashMap::new();
    let mut checked: HashMap<String, (Vec<InputFile>, Quality)> = HashMap::new();
    let mut ingested = Ingested {
        inputs: Vec::new(),
        extractions,
        entities: Vec::new(),
        rejects: Vec::new(),
        quality: Vec::new(),
        typed,
    };
    // Spills go beside the warehouse, on the disk that will hold the rows anyway; `check` may
    // run before there is a warehouse folder, and makes none.
    let near = config
        .warehouse
        .parent()
        .filter(|folder| folder.is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    spill::remove_abandoned(&near);
    for entity in Entity::ALL {
        let sources = by_entity.remove(&entity).unwrap_or_default();
        let streamed: Vec<&Source> = config
            .sources
            .iter()
            .filter(|s| s.entity == entity && streams(s))
            .collect();
        let has_sources = !sources.is_empty() || !streamed.is_empty();
        let (kept, seen) = check_rows(entity, sources, &keys, &mut ingested, &mut checked);
        let mut streams = Vec::with_capacity(streamed.len());
        for source in &streamed {
            let since = prior.watermarks.get(&source.name).map(String::as_str);
            tracing::debug!(source = %source.name, since, "extracting a batch at a time");
            let against = streamed::Against {
                keys: &keys,
                seen: &seen,
                progress,
            };
            streams.push(streamed::extract(
                source,
                since,
                &config.timezone,
                &config.limits,
                &near,
                &against,
            )?);
        }
        streamed::reject_duplicates(entity, &mut streams)?;
        let mut entity_keys: KeySet = seen.into_keys().collect();
        if has_sources {
            if is_referenced(entity) {
                entity_keys.extend(streamed::loaded_keys(entity, &streams)?);
            }
            if let Some(earlier) = prior.kept_keys.get(&entity) {
                entity_keys.extend(earlier.iter().cloned());
            }
            keys.insert(entity, entity_keys);
        }
        let mut spilled = Vec::with_capacity(streams.len());
        for (source, stream) in streamed.iter().zip(streams) {
            ingested.extractions.push(Extraction {
                source: source.name.clone(),
                entity,
                incremental: prior.watermarks.contains_key(&source.name),
                watermark: stream
                    .watermark
                    .clone()
                    .or_else(|| prior.watermarks.get(&source.name).cloned()),
                rejected_watermark: stream.first_rejected.clone().map(|(_, w)| w),
                fingerprint: source
                    .database
                    .as_ref()
                    .map(|d| d.fingerprint(source.kind))
                    .unwrap_or_default(),
                rows: stream.rows,
            });
            ingested.rejects.extend(stream.rejects);
            checked.insert(source.name.clone(), (vec![stream.file], stream.quality));
            spilled.push(stream.spilled);
        }
        ingested.entities.push(EntityBatch {
            entity,
            has_sources,
            batch: record_batch::build(entity, &kept),
            spilled,
        });
    }
    // One per database source, in configuration order.
    let order: HashMap<&str, usize> = config
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    ingested
        .extractions
        .sort_by_key(|x| order.get(x.source.as_str()).copied());
    timed("checks across files and batches", &mut clock);
    for source in &config.sources {
        if let Some((files, counts)) = checked.remove(&source.name) {
            ingested
                .quality
                .push(SourceQuality::score(source, &files, counts));
            ingested.inputs.extend(files);
        }
    }
    for extraction in &mut ingested.extractions {
        // Streamed sources found their rejected watermark themselves.
        let Some(watermarks) = row_watermarks.get(&extraction.source) else {
            continue;
        };
        let rejected = ingested
            .inputs
            .iter()
            .filter(|f| f.source == extraction.source)
            .flat_map(|f| f.rejected_rows.iter().copied());
        extraction.rejected_watermark = watermarks.smallest_of(rejected).map(String::from);
    }
    Ok(ingested)
}

/// What reading the sources takes: each database source; each file of a source this run does
/// not read, as kept; and each file a source's path or glob names, as kept when its bytes and its
/// source's configuration are those of the kept file, else to be read. A source that keeps the
/// latest row per entity across its files is reused whole or read whole.
fn plan(config: &Config, prior: &Prior) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (s, source) in config.sources.iter().enumerate() {
        if source.kind.is_database() {
            // The others are streamed when their entity's turn comes (see `streams`).
            if !streams(source) {
                jobs.push(Job::Database { source: s });
            }
            continue;
        }
        let fingerprint = reuse::source_fingerprint(config, source);
        if prior.kept_sources.contains(&source.name) {
            let mut kept: Vec<&KeptInput> = prior
                .kept_inputs
                .values()
                .filter(|k| k.source == source.name && k.fingerprint == fingerprint)
                .collect();
            if !kept.is_empty() {
                kept.sort_by(|a, b| a.path.cmp(&b.path));
                jobs.extend(kept.into_iter().map(|k| Job::Kept {
                    source: s,
                    kept: Box::new(k.clone()),
                }));
                continue;
            }
            tracing::info!(source = %source.name, "nothing kept of this source (or its configuration changed): reading it");
        }
        let paths = expand(source)?;
        let offers: Vec<Option<&KeptInput>> = paths
            .iter()
            .map(|p| {
                prior
                    .kept_inputs
                    .get(&(source.name.clone(), p.clone()))
                    .filter(|k| k.fingerprint == fingerprint && k.entity == source.entity)
            })
            .collect();
        // Hashing reads each offered file once more than a plain read would; a file with
        // nothing kept is not hashed here.
        let unchanged: Vec<bool> = paths
            .par_iter()
            .zip(offers.par_iter())
            .map(|(path, offer)| match offer {
                Some(kept) => reuse::sha256_of(path)
                    .map(|sha| sha == kept.sha256)
                    .map_err(|e| Error::MissingInput {
                        path: path.clone(),
                        source: e,
                    }),
                None => Ok(false),
            })
            .collect::<Result<Vec<bool>>>()?;
        let whole = source.latest.is_none() || unchanged.iter().all(|u| *u);
        for ((path, offer), unchanged) in paths.into_iter().zip(offers).zip(unchanged) {
            match offer {
                Some(kept) if unchanged && whole => jobs.push(Job::Kept {
                    source: s,
                    kept: Box::new(kept.clone()),
                }),
                _ => jobs.push(Job::File { source: s, path }),
            }
        }
    }
    Ok(jobs)
}

/// What the warehouse keeps of each file of `source` that was read now.
fn typed_inputs(config: &Config, source: &Source, rows: &SourceRows) -> Vec<TypedInput> {
    let fingerprint = reuse::source_fingerprint(config, source);
    let mut typed = Vec::new();
    for (f, file) in rows.files.iter().enumerate() {
        if file.reused_from.is_some() {
            continue;
        }
        let of_file: Vec<&typing::Row> = rows.rows.iter().filter(|r| r.file == f).collect();
        let rejects: Vec<Reject> = rows
            .rejects
            .iter()
            .zip(&rows.reject_files)
            .filter(|(_, file)| **file == f)
            .map(|(r, _)| r.clone())
            .collect();
        typed.push(TypedInput {
            kept: KeptInput {
                source: source.name.clone(),
                entity: source.entity,
                path: file.path.clone(),
                sha256: file.sha256.clone(),
                fingerprint: fingerprint.clone(),
                run_id: String::new(),
                bytes: file.bytes,
                rows_read: file.rows_read,
                rows_superseded: file.rows_superseded,
                rows_rejected: file.rows_rejected,
                layout: reuse::KeptLayout::of(&rows.layouts[f]),
                quality: rows.file_quality[f],
            },
            rows: reuse::typed_batch(source.entity, &of_file),
            rejects,
        });
    }
    typed
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
    let sha256 = reuse::hex(&Sha256::digest(&bytes));
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

/// A set of key texts. Keys are hashed once per row and foreign key of every input, so a fast
/// hash (foldhash) rather than std's SipHash: nothing here is keyed by an attacker's choice that
/// could matter beyond one run's speed.
pub(crate) type KeySet = HashSet<String, foldhash::fast::RandomState>;

/// The keys of one entity's file sources, each with the row where it was first seen. The location
/// is written out only when a later row repeats the key.
pub(crate) struct SeenKeys {
    /// The layouts of the entity's files, across its sources.
    layouts: Vec<typing::Layout>,
    /// The contract column whose cell a duplicate's message names (the first key column).
    column: usize,
    /// Key text -> (index into `layouts`, row number).
    first: HashMap<String, (u32, u32), foldhash::fast::RandomState>,
}

impl SeenKeys {
    fn new(column: usize) -> SeenKeys {
        SeenKeys {
            layouts: Vec::new(),
            column,
            first: HashMap::default(),
        }
    }

    /// Where `key` was first seen (`costs.xlsx!Costs!A7`), if it was.
    pub(crate) fn location(&self, key: &str) -> Option<String> {
        self.first
            .get(key)
            .map(|&(layout, row)| self.layouts[layout as usize].location(self.column, row))
    }

    fn into_keys(self) -> impl Iterator<Item = String> {
        self.first.into_keys()
    }
}

/// Applies the key and foreign-key rules across all sources of one entity, records rejects and
/// per-file counts, and returns the rows that pass with the entity's keys, each with the row
/// where it was first seen.
fn check_rows(
    entity: Entity,
    sources: Vec<SourceRows>,
    keys: &HashMap<Entity, KeySet>,
    ingested: &mut Ingested,
    checked: &mut HashMap<String, (Vec<InputFile>, Quality)>,
) -> (Vec<KeptRow>, SeenKeys) {
    let contract = entity.contract();
    let key_columns = key_columns(contract);
    let rows: usize = sources.iter().map(|s| s.rows.len()).sum();
    let mut seen = SeenKeys::new(key_columns[0]);
    seen.first.reserve(rows);
    let mut kept = Vec::with_capacity(rows);
    let duplicate = format!("duplicate key: the same {} as", contract.key.join(", "));
    for mut source in sources {
        let name: std::rc::Rc<str> = std::rc::Rc::from(source.source.as_str());
        let files: Vec<std::rc::Rc<str>> = source
            .layouts
            .iter()
            .map(|l| std::rc::Rc::from(l.file_name.as_str()))
            .collect();
        // This source's layouts follow those of the entity's earlier sources in `seen`.
        let first_layout = seen.layouts.len();
        seen.layouts.append(&mut source.layouts);
        ingested.rejects.append(&mut source.rejects);
        for row in std::mem::take(&mut source.rows) {
            let layout = first_layout + row.file;
            let problem = foreign_key_problem(contract, &row.values, keys, &mut source.quality)
                .or_else(
                    || match seen.first.entry(key_text(&key_columns, &row.values)) {
                        Entry::Occupied(first) => {
                            let (at, number) = *first.get();
                            let first = seen.layouts[at as usize].location(seen.column, number);
                            Some((key_columns[0], format!("{duplicate} {first}")))
                        }
                        Entry::Vacant(slot) => {
                            slot.insert((layout as u32, row.number));
                            None
                        }
                    },
                );
            match problem {
                Some((column, rule)) => {
                    source.files[row.file].rows_rejected += 1;
                    source.files[row.file].rejected_rows.push(row.number);
                    ingested.rejects.push(Reject {
                        source: source.source.clone(),
                        entity,
                        location: seen.layouts[layout].location(column, row.number),
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
    (kept, seen)
}

/// Whether a source is read a batch at a time: a database source, unless it keeps the latest row
/// per entity (which needs every row at once).
fn streams(source: &Source) -> bool {
    source.kind.is_database() && source.latest.is_none()
}

/// Whether another entity's foreign keys name this one's keys.
fn is_referenced(entity: Entity) -> bool {
    Entity::ALL.iter().any(|e| {
        e.contract()
            .foreign_keys
            .iter()
            .any(|fk| fk.target == entity)
    })
}

/// The positions of the contract's key columns.
fn key_columns(contract: &Contract) -> Vec<usize> {
    contract
        .key
        .iter()
        .filter_map(|k| contract.index_of(k))
        .collect()
}

/// The first foreign key of the row that names nothing, counting every reference checked.
fn foreign_key_problem(
    contract: &Contract,
    values: &[Value],
    keys: &HashMap<Entity, KeySet>,
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
        let found = match value {
            Value::Text(text) => target_keys.contains(text.as_str()),
            other => target_keys.contains(&other.key_text()),
        };
        if found {
            quality.references_resolved += 1;
        } else if problem.is_none() {
            let text = value.key_text();
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
    if let [only] = key_columns {
        return values[*only].key_text();
    }
    let mut text = String::new();
    for (n, &i) in key_columns.iter().enumerate() {
        if n > 0 {
            text.push('\u{1f}');
        }
        match &values[i] {
            Value::Text(part) => text.push_str(part),
            other => text.push_str(&other.key_text()),
        }
    }
    text
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
