//! Database sources read a batch at a time: each batch is typed, checked against the keys of the
//! entities it refers to and spilled to disk before the next one is fetched, so that memory
//! follows `batch_rows` and not the table. Duplicate keys are found at the end, over 64-bit
//! hashes of the keys (8 bytes a row), and confirmed on the keys themselves before any row is
//! rejected.
//!
//! In: a database source without `latest`, the keys of the entities loaded before its own, the
//! keys its entity's file sources already hold. Out: a [`Streamed`] source: its input record,
//! data-quality counts, rejects and the [`SpilledRows`] the warehouse loads.

use std::collections::{HashMap, HashSet};

use arrow::array::Array;
use std::hash::{DefaultHasher, Hasher};
use std::path::Path;
use std::rc::Rc;

use super::database::{self, RowReceiver};
use super::grid::Grid;
use super::record_batch;
use super::spill::{self, SpillWriter, SpilledRows};
use super::typing::{self, ReadFile};
use super::value::excerpt;
use super::zones::Zones;
use super::{
    InputFile, KeptRow, KeySet, Quality, Reject, SeenKeys, foreign_key_problem, key_text,
    row_key_text,
};
use crate::config::{Limits, Source};
use crate::contract::Entity;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// A streamed database source after its extraction.
pub(super) struct Streamed {
    pub file: InputFile,
    pub quality: Quality,
    pub rejects: Vec<Reject>,
    pub spilled: SpilledRows,
    /// Where the rows are, for the locations of rejects found after the extraction.
    layout: typing::Layout,
    /// Per row read (row `n` at `n - 1`), the hash of its key, for the duplicate check; 0 for a
    /// row that was not kept.
    keys: Vec<u64>,
    /// The highest watermark of the extraction.
    pub watermark: Option<String>,
    /// The row number and watermark of the first rejected row that has one: rows arrive in
    /// watermark order, so its watermark is the smallest of the rejected rows'.
    pub first_rejected: Option<(u32, String)>,
    pub rows: u64,
}

/// What a streamed extraction checks each row against.
pub(super) struct Against<'k> {
    /// The keys of the entities loaded before this one.
    pub keys: &'k HashMap<Entity, KeySet>,
    /// The keys of this entity's file sources, with where each was first seen.
    pub seen: &'k SeenKeys,
    pub progress: &'k dyn Progress,
}

/// Extracts `source` a batch at a time into a spill beside the warehouse (`near`). The database
/// is read on this thread while the batches are typed, checked and spilled on another, two
/// batches apart at most, so both cores work and memory follows `batch_rows`.
///
/// # Errors
///
/// As [`database::stream`]; [`Error::Contract`] when the result's columns break the contract;
/// [`Error::Output`] when the spill cannot be written.
pub(super) fn extract(
    source: &Source,
    since: Option<&str>,
    timezone: &str,
    limits: &Limits,
    near: &Path,
    against: &Against,
) -> Result<Streamed> {
    let mut receiver = Receiver {
        source,
        near,
        against,
        zones: Zones::already_in(timezone).map_err(|message| Error::Contract {
            location: source.name.clone(),
            message,
        })?,
        state: None,
    };
    against
        .progress
        .begin(&format!("extracting {}", source.name), 0);
    let (extract, typed) = std::thread::scope(|scope| {
        let (sender, batches) = std::sync::mpsc::sync_channel::<Message>(2);
        let (used, returned) = std::sync::mpsc::channel::<Used>();
        let typing = scope.spawn(|| {
            receiver
                .take_all(batches, used)
                .map(|()| receiver.state.take())
        });
        let mut sender = Sender {
            batches: sender,
            returned,
        };
        let extract = database::stream(source, since, timezone, limits, &mut sender);
        drop(sender.batches);
        let typed = typing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (extract, typed)
    });
    against.progress.end();
    // Typing's own error is the cause when both failed: the extraction only saw it stop.
    let state = typed?;
    let extract = extract?;
    let state = match state {
        Some(state) => state,
        // No batch came: an empty result still has its header row, which is typed for the
        // contract's sake.
        None => {
            let mut grid = extract.file.grid;
            grid.rows.truncate(1);
            receiver.batch(grid, Vec::new())?;
            receiver.state.take().expect("made by the batch")
        }
    };
    let mut file = state.file;
    file.path = extract.file.path;
    file.sha256 = extract.file.sha256;
    file.bytes = extract.file.bytes;
    let spilled = state.spill.finish()?;
    file.rows_loaded = spilled.rows();
    Ok(Streamed {
        file,
        quality: state.quality,
        rejects: state.rejects,
        spilled,
        layout: state.layout,
        keys: state.keys,
        watermark: extract.watermark,
        first_rejected: state.first_rejected,
        rows: extract.rows,
    })
}

/// What the extracting thread hands the typing thread.
enum Message {
    Restart,
    Batch(Grid, Vec<Option<String>>),
}

/// The extracting thread's ends of the channels: batches go, typed batches' grids come back to
/// be freed on the thread that allocated their cells.
struct Sender {
    batches: std::sync::mpsc::SyncSender<Message>,
    returned: std::sync::mpsc::Receiver<Used>,
}

/// A typed batch's grid and watermarks, going back to the thread that allocated them.
type Used = (Grid, Vec<Option<String>>);

impl Sender {
    fn send(&mut self, message: Message) -> Result<()> {
        self.returned.try_iter().for_each(drop);
        // The typing thread stopped on an error of its own, which the caller reports.
        self.batches.send(message).map_err(|_| Error::Contract {
            location: String::new(),
            message: "typing stopped".into(),
        })
    }
}

impl RowReceiver for Sender {
    fn restart(&mut self) -> Result<()> {
        self.send(Message::Restart)
    }

    fn batch(&mut self, grid: Grid, watermarks: Vec<Option<String>>) -> Result<()> {
        self.send(Message::Batch(grid, watermarks))
    }
}

/// Takes the batches of one extraction.
struct Receiver<'a, 'k> {
    source: &'a Source,
    near: &'a Path,
    against: &'a Against<'k>,
    zones: Zones,
    /// `None` until the first batch of an attempt.
    state: Option<State>,
}

impl Receiver<'_, '_> {
    /// Types every batch the channel brings until the extraction ends, handing each typed
    /// batch's grid back through `used`.
    fn take_all(
        &mut self,
        batches: std::sync::mpsc::Receiver<Message>,
        used: std::sync::mpsc::Sender<Used>,
    ) -> Result<()> {
        for message in batches {
            match message {
                Message::Restart => self.restart()?,
                Message::Batch(grid, watermarks) => {
                    let typed = self.type_batch(grid, watermarks)?;
                    // The extracting thread may have finished; then they are freed here.
                    let _ = used.send(typed);
                }
            }
        }
        Ok(())
    }
}

/// What the batches of one attempt have given so far.
struct State {
    file: InputFile,
    layout: typing::Layout,
    quality: Quality,
    rejects: Vec<Reject>,
    spill: SpillWriter,
    /// As [`Streamed`]'s.
    keys: Vec<u64>,
    first_rejected: Option<(u32, String)>,
}

impl RowReceiver for Receiver<'_, '_> {
    fn restart(&mut self) -> Result<()> {
        self.state = None;
        Ok(())
    }

    fn batch(&mut self, grid: Grid, watermarks: Vec<Option<String>>) -> Result<()> {
        self.type_batch(grid, watermarks).map(drop)
    }
}

impl Receiver<'_, '_> {
    /// Types, checks and spills one batch, and gives its grid and watermarks back.
    fn type_batch(&mut self, grid: Grid, watermarks: Vec<Option<String>>) -> Result<Used> {
        let source = self.source;
        let first_number = grid.rows.get(1).map_or(1, |r| r.number);
        let file_name: Rc<str> = Rc::from(grid.file_name.as_str());
        let source_name: Rc<str> = Rc::from(source.name.as_str());
        let read = ReadFile {
            path: Default::default(),
            sha256: String::new(),
            bytes: 0,
            grid,
        };
        let mut typed = typing::type_batch(source, &read, &self.zones)?;
        let state = match &mut self.state {
            Some(state) => state,
            None => {
                let mut file = typed.files[0].clone();
                file.rows_read = 0;
                file.rows_rejected = 0;
                file.rejected_rows.clear();
                self.state.insert(State {
                    file,
                    layout: typed.layouts.remove(0),
                    quality: Quality::default(),
                    rejects: Vec::new(),
                    spill: SpillWriter::new(self.near, &source.name)?,
                    keys: Vec::new(),
                    first_rejected: None,
                })
            }
        };
        let watermark_of = |number: u32| -> Option<&String> {
            watermarks
                .get(number.checked_sub(first_number)? as usize)?
                .as_ref()
        };
        let batch_file = &typed.files[0];
        state.file.rows_read += batch_file.rows_read;
        state.file.rows_rejected += batch_file.rows_rejected;
        for &number in &batch_file.rejected_rows {
            state.note_rejected(number, watermark_of(number));
        }
        state.file.rejected_rows.extend(&batch_file.rejected_rows);
        state.rejects.append(&mut typed.rejects);
        state.quality.add(typed.quality);

        let entity = source.entity;
        let contract = entity.contract();
        let key_columns = super::key_columns(contract);
        let mut kept = Vec::with_capacity(typed.rows.len());
        let mut kept_watermarks = Vec::with_capacity(typed.rows.len());
        for row in typed.rows {
            let key = key_text(&key_columns, &row.values);
            let problem =
                foreign_key_problem(contract, &row.values, self.against.keys, &mut state.quality)
                    .or_else(|| {
                        self.against.seen.location(&key).map(|first| {
                            (
                                key_columns[0],
                                format!(
                                    "duplicate key: the same {} as {first}",
                                    contract.key.join(", ")
                                ),
                            )
                        })
                    });
            if let Some((column, rule)) = problem {
                state.file.rows_rejected += 1;
                state.file.rejected_rows.push(row.number);
                state.note_rejected(row.number, watermark_of(row.number));
                state.rejects.push(Reject {
                    source: source.name.clone(),
                    entity,
                    location: state.layout.location(column, row.number),
                    row_key: row_key_text(contract, &key_columns, &row.values),
                    column: contract.columns[column].name.to_string(),
                    value: excerpt(&row.values[column].key_text()),
                    rule,
                });
                continue;
            }
            let at = row.number as usize - 1;
            if state.keys.len() <= at {
                state.keys.resize(at + 1, NOT_KEPT);
            }
            state.keys[at] = hash_of(&key);
            kept_watermarks.push(watermark_of(row.number).cloned());
            kept.push(KeptRow {
                source: Rc::clone(&source_name),
                file: Rc::clone(&file_name),
                number: row.number,
                values: row.values,
            });
        }
        let batch = spill::with_watermarks(record_batch::build(entity, &kept), kept_watermarks)
            .map_err(|e| Error::Contract {
                location: source.name.clone(),
                message: format!("building a batch of typed rows: {e}"),
            })?;
        state.spill.write(&batch)?;
        self.against
            .progress
            .advance(&format!("{} rows", state.file.rows_read));
        Ok((read.grid, watermarks))
    }
}

impl State {
    fn note_rejected(&mut self, number: u32, watermark: Option<&String>) {
        if let Some(watermark) = watermark
            && self
                .first_rejected
                .as_ref()
                .is_none_or(|(n, _)| number < *n)
        {
            self.first_rejected = Some((number, watermark.clone()));
        }
    }
}

/// The key hash of a row that was not kept.
const NOT_KEPT: u64 = 0;

/// A 64-bit hash of a key's text, never [`NOT_KEPT`]; equal hashes are only candidates,
/// confirmed on the keys.
fn hash_of(key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(key.as_bytes());
    hasher.finish().max(1)
}

/// Rejects every row of `streams` (the streamed sources of one entity, in configuration order)
/// whose key an earlier row of them already has: the first row keeps the key, as when files are
/// checked. Rows are compared by key hash first; rows whose hashes meet are read back from their
/// spills and compared on the keys themselves, so a hash collision never rejects a row.
///
/// # Errors
///
/// [`Error::Output`] when a spill cannot be read back.
pub(super) fn reject_duplicates(entity: Entity, streams: &mut [Streamed]) -> Result<()> {
    // Hashes that occur more than once, from a sorted copy: the rows themselves stay in place.
    let mut sorted: Vec<u64> = streams
        .iter()
        .flat_map(|s| s.keys.iter().copied())
        .filter(|&h| h != NOT_KEPT)
        .collect();
    sorted.sort_unstable();
    let repeated: HashSet<u64> = sorted
        .chunk_by(|a, b| a == b)
        .filter(|group| group.len() > 1)
        .map(|group| group[0])
        .collect();
    drop(sorted);
    // Per repeated hash, its rows in processing order, as (stream << 32 | row number).
    let mut groups: HashMap<u64, Vec<u64>> = HashMap::new();
    for (s, stream) in streams.iter_mut().enumerate() {
        for (i, hash) in std::mem::take(&mut stream.keys).into_iter().enumerate() {
            if repeated.contains(&hash) {
                groups
                    .entry(hash)
                    .or_default()
                    .push(((s as u64) << 32) | (i as u64 + 1));
            }
        }
    }
    let candidates: Vec<Vec<u64>> = groups.into_values().collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<u64> = candidates.iter().flatten().copied().collect();
    let contract = entity.contract();
    let key_columns = super::key_columns(contract);
    // Per candidate row: its key text, its row key for the message, its watermark.
    let mut read: HashMap<u64, (String, String, Option<String>)> = HashMap::new();
    for (s, stream) in streams.iter().enumerate() {
        for batch in stream.spilled.read_all()? {
            let batch = batch?;
            let marks = spill::watermarks(&batch);
            let rows =
                super::reuse::rows_of(entity, std::slice::from_ref(&batch), 0).map_err(|e| {
                    Error::Contract {
                        location: stream.file.path.display().to_string(),
                        message: format!("reading spilled rows back: {e}"),
                    }
                })?;
            for (r, row) in rows.into_iter().enumerate() {
                let at = ((s as u64) << 32) | u64::from(row.number);
                if wanted.contains(&at) {
                    let mark = marks.and_then(|m| m.is_valid(r).then(|| m.value(r).to_string()));
                    read.insert(
                        at,
                        (
                            key_text(&key_columns, &row.values),
                            row_key_text(contract, &key_columns, &row.values),
                            mark,
                        ),
                    );
                }
            }
        }
    }
    // Rejects go to their sources in row order, whatever order the groups come in.
    let mut duplicates: Vec<(u64, Reject)> = Vec::new();
    for group in candidates {
        // The group is in processing order; the first row of each distinct key keeps it.
        let mut first_of: HashMap<&str, u64> = HashMap::new();
        for at in group {
            let Some((key, row_key, mark)) = read.get(&at) else {
                continue;
            };
            let Some(&first) = first_of.get(key.as_str()) else {
                first_of.insert(key, at);
                continue;
            };
            let (s, number) = ((at >> 32) as usize, at as u32);
            let (first_s, first_number) = ((first >> 32) as usize, first as u32);
            let first_location = streams[first_s]
                .layout
                .location(key_columns[0], first_number);
            let stream = &mut streams[s];
            stream.spilled.exclude(number);
            stream.file.rows_loaded -= 1;
            stream.file.rows_rejected += 1;
            stream.file.rejected_rows.push(number);
            if let Some(mark) = mark
                && stream
                    .first_rejected
                    .as_ref()
                    .is_none_or(|(n, _)| number < *n)
            {
                stream.first_rejected = Some((number, mark.clone()));
            }
            duplicates.push((
                at,
                Reject {
                    source: stream.file.source.clone(),
                    entity,
                    location: stream.layout.location(key_columns[0], number),
                    row_key: row_key.clone(),
                    column: contract.columns[key_columns[0]].name.to_string(),
                    value: excerpt(key.split('\u{1f}').next().unwrap_or_default()),
                    rule: format!(
                        "duplicate key: the same {} as {first_location}",
                        contract.key.join(", ")
                    ),
                },
            ));
        }
    }
    duplicates.sort_unstable_by_key(|(at, _)| *at);
    for (at, reject) in duplicates {
        streams[(at >> 32) as usize].rejects.push(reject);
    }
    Ok(())
}

/// The keys of the rows `streams` load, for the foreign keys of later entities.
///
/// # Errors
///
/// [`Error::Output`] when a spill cannot be read back.
pub(super) fn loaded_keys(entity: Entity, streams: &[Streamed]) -> Result<HashSet<String>> {
    let key_columns = super::key_columns(entity.contract());
    let mut keys = HashSet::new();
    for stream in streams {
        for batch in stream.spilled.batches()? {
            let rows =
                super::reuse::rows_of(entity, &[batch?], 0).map_err(|e| Error::Contract {
                    location: stream.file.path.display().to_string(),
                    message: format!("reading spilled rows back: {e}"),
                })?;
            keys.extend(rows.iter().map(|r| key_text(&key_columns, &r.values)));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::grid::Addressing;
    use crate::ingest::value::Value;

    /// A streamed deployments source whose rows are (number, deployment_id, key hash): the hashes
    /// are made up, so that keys collide where the test says.
    fn streamed(folder: &Path, file: &str, rows: &[(u32, &str, u64)]) -> Streamed {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 10, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let kept: Vec<KeptRow> = rows
            .iter()
            .map(|(number, id, _)| KeptRow {
                source: Rc::from(file),
                file: Rc::from(file),
                number: *number,
                values: vec![
                    Value::Text(id.to_string()),
                    Value::Text("APP-1".into()),
                    Value::Timestamp(at),
                    Value::Text("success".into()),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            })
            .collect();
        let marks = rows.iter().map(|(n, _, _)| Some(format!("w{n}"))).collect();
        let batch =
            spill::with_watermarks(record_batch::build(Entity::Deployments, &kept), marks).unwrap();
        let mut writer = SpillWriter::new(folder, file).unwrap();
        writer.write(&batch).unwrap();
        let spilled = writer.finish().unwrap();
        Streamed {
            file: InputFile {
                source: file.to_string(),
                entity: Entity::Deployments,
                path: file.into(),
                sha256: String::new(),
                bytes: 0,
                rows_read: rows.len() as u64,
                rows_superseded: 0,
                rows_loaded: spilled.rows(),
                rows_rejected: 0,
                rejected_rows: Vec::new(),
                reused_from: None,
            },
            quality: Quality::default(),
            rejects: Vec::new(),
            spilled,
            layout: typing::Layout {
                file_name: file.to_string(),
                addressing: Addressing::Rows,
                columns: vec![Some(0); 8],
            },
            keys: {
                let mut keys = vec![NOT_KEPT; rows.iter().map(|r| r.0).max().unwrap_or(0) as usize];
                for (n, _, hash) in rows {
                    keys[*n as usize - 1] = *hash;
                }
                keys
            },
            watermark: None,
            first_rejected: None,
            rows: rows.len() as u64,
        }
    }

    #[test]
    fn rows_whose_key_hashes_collide_are_rejected_only_when_their_keys_are_equal() {
        let folder = tempfile::tempdir().unwrap();
        let mut streams = vec![
            streamed(
                folder.path(),
                "a",
                &[(1, "D-1", 7), (2, "D-2", 7), (3, "D-1", 7)],
            ),
            streamed(folder.path(), "b", &[(1, "D-2", 7), (2, "D-3", 9)]),
        ];
        reject_duplicates(Entity::Deployments, &mut streams).unwrap();
        let rejects: Vec<String> = streams
            .iter()
            .flat_map(|s| &s.rejects)
            .map(|r| format!("{} {} {} {}", r.location, r.row_key, r.value, r.rule))
            .collect();
        assert_eq!(
            rejects,
            [
                "a!row 3 deployment_id=D-1 D-1 duplicate key: the same deployment_id as a!row 1",
                "b!row 1 deployment_id=D-2 D-2 duplicate key: the same deployment_id as a!row 2",
            ]
        );
        let loaded: Vec<Vec<i64>> = streams
            .iter()
            .map(|s| {
                s.spilled
                    .batches()
                    .unwrap()
                    .flat_map(|b| spill::row_numbers(&b.unwrap()).unwrap().values().to_vec())
                    .collect()
            })
            .collect();
        assert_eq!(loaded, [vec![1, 2], vec![2]]);
        let counts: Vec<String> = streams
            .iter()
            .map(|s| {
                format!(
                    "loaded {} rejected {} rows {:?} first {:?}",
                    s.file.rows_loaded,
                    s.file.rows_rejected,
                    s.file.rejected_rows,
                    s.first_rejected
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                "loaded 2 rejected 1 rows [3] first Some((3, \"w3\"))",
                "loaded 1 rejected 1 rows [1] first Some((1, \"w1\"))",
            ]
        );
        assert_eq!(
            loaded_keys(Entity::Deployments, &streams).unwrap(),
            ["D-1", "D-2", "D-3"]
                .map(String::from)
                .into_iter()
                .collect()
        );
    }
}
