//! The typed rows of a streamed database extraction, kept on disk between typing and the load,
//! so that memory follows one batch rather than the table.
//!
//! In: Arrow record batches of an entity's rows (the warehouse's columns, then `_watermark`, the
//! row's watermark as the database wrote it). Out: the same batches read back one at a time,
//! without `_watermark` and without the rows that a later check rejected. The file is Arrow's
//! IPC stream format (no encoding work either way) in a temporary folder beside the warehouse,
//! removed when the last holder of the [`SpilledRows`] drops it.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;

use crate::error::{Error, Result};

/// How spill folders' names begin; the process id that made one follows.
const PREFIX: &str = ".itvalue-spill-";

/// Removes the spill folders in `near` left by processes that no longer run (a run killed before
/// it could remove its own); those of live processes (a `check` beside a run) stay. What cannot
/// be removed is only logged: it takes disk space, not correctness.
pub(super) fn remove_abandoned(near: &Path) {
    let Ok(entries) = std::fs::read_dir(near) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if pid <= 0 || process_runs(pid) {
            continue;
        }
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => {
                tracing::info!(path = %entry.path().display(), pid, "removed a spill left by a process that no longer runs")
            }
            Err(e) => {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove an abandoned spill")
            }
        }
    }
}

/// Whether a process with this id runs (signal 0 checks without sending anything).
fn process_runs(pid: libc::pid_t) -> bool {
    // SAFETY: kill with signal 0 sends nothing; it only reports whether the process exists.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The extra column that carries each spilled row's watermark.
pub(super) const WATERMARK: &str = "_watermark";

/// Writes one source's typed batches to its spill file.
pub(super) struct SpillWriter {
    folder: tempfile::TempDir,
    path: PathBuf,
    writer: Option<StreamWriter<BufWriter<File>>>,
    rows: u64,
}

impl SpillWriter {
    /// A new, empty spill in a temporary folder inside `near`.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder or file cannot be made.
    pub fn new(near: &Path, source: &str) -> Result<SpillWriter> {
        let fail = |e: std::io::Error| {
            spill_error(
                near,
                &format!("making a spill folder for the rows of source {source}"),
                e,
            )
        };
        std::fs::create_dir_all(near).map_err(fail)?;
        let folder = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(near)
            .map_err(fail)?;
        let path = folder.path().join("rows.arrows");
        Ok(SpillWriter {
            folder,
            path,
            writer: None,
            rows: 0,
        })
    }

    /// Appends `batch` (the entity's columns, then [`WATERMARK`]).
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the spill file when it cannot be written (a full disk).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            let file = File::create(&self.path).map_err(|e| self.error(e))?;
            let writer = StreamWriter::try_new(BufWriter::new(file), &batch.schema())
                .map_err(|e| self.error(e))?;
            self.writer = Some(writer);
        }
        if let Some(writer) = self.writer.as_mut()
            && let Err(e) = writer.write(batch)
        {
            return Err(self.error(e));
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    fn error(&self, e: impl std::fmt::Display) -> Error {
        spill_error(&self.path, "writing rows to the spill file", e)
    }

    /// Closes the file: the rows can be read back.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the last bytes cannot be written.
    pub fn finish(mut self) -> Result<SpilledRows> {
        let written = self.writer.is_some();
        if let Some(mut writer) = self.writer.take() {
            writer.finish().map_err(|e| self.error(e))?;
            let mut file = writer.into_inner().map_err(|e| self.error(e))?;
            std::io::Write::flush(&mut file).map_err(|e| self.error(e))?;
        }
        Ok(SpilledRows {
            _folder: Arc::new(self.folder),
            path: self.path,
            rows: self.rows,
            written,
            excluded: BTreeSet::new(),
        })
    }
}

/// A finished spill: its rows, less those excluded after they were written.
#[derive(Debug, Clone)]
pub struct SpilledRows {
    _folder: Arc<tempfile::TempDir>,
    path: PathBuf,
    rows: u64,
    written: bool,
    /// Row numbers (`_row`) of rows a later check rejected.
    excluded: BTreeSet<u32>,
}

impl SpilledRows {
    /// The rows that will be loaded.
    pub fn rows(&self) -> u64 {
        self.rows - self.excluded.len() as u64
    }

    /// Leaves the row numbered `number` out of every later read.
    pub(super) fn exclude(&mut self, number: u32) {
        self.excluded.insert(number);
    }

    /// Reads the batches back as they were written, `_watermark` included, excluded rows too.
    pub(super) fn read_all(&self) -> Result<Box<dyn Iterator<Item = Result<RecordBatch>> + '_>> {
        if !self.written {
            return Ok(Box::new(std::iter::empty()));
        }
        let fail = |e: &dyn std::fmt::Display| {
            spill_error(&self.path, "reading rows back from the spill file", e)
        };
        let file = File::open(&self.path).map_err(|e| fail(&e))?;
        let reader = StreamReader::try_new(BufReader::new(file), None).map_err(|e| fail(&e))?;
        Ok(Box::new(
            reader.map(move |batch| batch.map_err(|e| fail(&e))),
        ))
    }

    /// Reads the rows to load, one written batch at a time: without `_watermark` and without
    /// the excluded rows.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the spill file when it cannot be read.
    pub fn batches(&self) -> Result<impl Iterator<Item = Result<RecordBatch>> + '_> {
        Ok(self
            .read_all()?
            .map(move |batch| batch.and_then(|b| self.to_load(b))))
    }

    fn to_load(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let fail = |e: arrow::error::ArrowError| {
            spill_error(&self.path, "reading rows back from the spill file", e)
        };
        let columns: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| batch.schema().field(i).name() != WATERMARK)
            .collect();
        let batch = batch.project(&columns).map_err(fail)?;
        if self.excluded.is_empty() {
            return Ok(batch);
        }
        let numbers = row_numbers(&batch);
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|r| Some(!numbers.is_some_and(|n| self.excluded.contains(&(n.value(r) as u32)))))
            .collect();
        arrow::compute::filter_record_batch(&batch, &keep).map_err(fail)
    }
}

/// An I/O failure of the spill, naming its file and what was being done.
fn spill_error(path: &Path, doing: &str, e: impl std::fmt::Display) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("{doing}: {e}")),
    }
}

/// The `_row` column of a spilled batch.
pub(super) fn row_numbers(batch: &RecordBatch) -> Option<&Int64Array> {
    batch
        .column_by_name("_row")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
}

/// The `_watermark` column of a spilled batch.
pub(super) fn watermarks(batch: &RecordBatch) -> Option<&StringArray> {
    batch
        .column_by_name(WATERMARK)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
}

/// `batch` with a `_watermark` column of `values` added at the end.
///
/// # Errors
///
/// Arrow's, when the lengths differ (a defect).
pub(super) fn with_watermarks(
    batch: RecordBatch,
    values: Vec<Option<String>>,
) -> std::result::Result<RecordBatch, arrow::error::ArrowError> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| (**f).clone()).collect();
    fields.push(Field::new(WATERMARK, DataType::Utf8, true));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(StringArray::from(values)) as Arc<dyn Array>);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    fn batch(numbers: &[i64], marks: &[Option<&str>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_row",
            DataType::Int64,
            false,
        )]));
        let plain = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(numbers.to_vec())) as Arc<dyn Array>],
        )
        .unwrap();
        with_watermarks(plain, marks.iter().map(|m| m.map(String::from)).collect()).unwrap()
    }

    #[test]
    fn spilled_rows_come_back_in_order_without_the_watermark_and_the_excluded_rows() {
        let folder = tempfile::tempdir().unwrap();
        let mut writer = SpillWriter::new(folder.path(), "s").unwrap();
        writer
            .write(&batch(&[1, 2, 3], &[Some("a"), None, Some("c")]))
            .unwrap();
        writer
            .write(&batch(&[4, 5], &[Some("d"), Some("e")]))
            .unwrap();
        let mut spilled = writer.finish().unwrap();
        spilled.exclude(2);
        spilled.exclude(5);
        assert_eq!(spilled.rows(), 3);
        let loaded: Vec<Vec<i64>> = spilled
            .batches()
            .unwrap()
            .map(|b| {
                let b = b.unwrap();
                assert_eq!(b.num_columns(), 1, "no _watermark in what is loaded");
                row_numbers(&b).unwrap().values().to_vec()
            })
            .collect();
        assert_eq!(loaded, [vec![1, 3], vec![4]]);
        let marks: Vec<Option<String>> = spilled
            .read_all()
            .unwrap()
            .flat_map(|b| {
                let b = b.unwrap();
                watermarks(&b)
                    .unwrap()
                    .iter()
                    .map(|m| m.map(String::from))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            marks,
            [Some("a"), None, Some("c"), Some("d"), Some("e")].map(|m| m.map(String::from))
        );
        let spill_folder = spilled.path.parent().unwrap().to_path_buf();
        drop(spilled);
        assert!(
            !spill_folder.exists(),
            "the spill is removed with its last holder"
        );
    }

    #[test]
    fn spills_of_processes_that_no_longer_run_are_removed_and_live_ones_kept() {
        let folder = tempfile::tempdir().unwrap();
        let live = SpillWriter::new(folder.path(), "s").unwrap();
        // pid_max is at most 2^22 on Linux, so this process cannot exist.
        let dead = folder.path().join(format!("{PREFIX}4194305-abc"));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("rows.arrows"), b"left over").unwrap();
        let unrelated = folder.path().join("notes");
        std::fs::create_dir(&unrelated).unwrap();
        remove_abandoned(folder.path());
        assert!(!dead.exists());
        assert!(live.folder.path().exists());
        assert!(unrelated.exists());
    }

    #[test]
    fn a_spill_that_received_no_rows_reads_back_empty() {
        let folder = tempfile::tempdir().unwrap();
        let spilled = SpillWriter::new(folder.path(), "s")
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(spilled.rows(), 0);
        assert_eq!(spilled.batches().unwrap().count(), 0);
    }
}
