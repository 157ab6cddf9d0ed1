//! The copy of the warehouse a run works on, so that a run publishes all or nothing.
//!
//! In: the warehouse file, checkpointed so that the file alone holds it. Out: a copy beside it
//! (`<warehouse>.run-<run id>`) that the run loads, builds and writes its metrics into; when every
//! step has succeeded the copy replaces the warehouse in one rename, and otherwise it is deleted.
//! DuckDB cannot undo a failed statement inside a transaction (the transaction is aborted), so a
//! single transaction could not keep the models that fail apart from those that build; a copy
//! that is published or dropped as a whole can.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::Warehouse;
use crate::error::{Error, Result};

/// The infix of a work copy's file name.
const MARK: &str = ".run-";

/// A work copy of the warehouse; dropped without [`WorkCopy::publish`], it deletes itself.
#[derive(Debug)]
pub struct WorkCopy {
    original: PathBuf,
    path: PathBuf,
    published: bool,
}

impl WorkCopy {
    /// Checkpoints `original` and copies its file to `<file>.run-<run_id>`.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the checkpoint fails, [`Error::Output`] when the copy cannot be
    /// written (a full disk, say); nothing is left behind.
    pub fn create(original: &Warehouse, run_id: &str) -> Result<WorkCopy> {
        original.checkpoint()?;
        let path = work_path(original.path(), run_id);
        let copy = WorkCopy {
            original: original.path().to_path_buf(),
            path: path.clone(),
            published: false,
        };
        std::fs::copy(original.path(), &path).map_err(|e| Error::Output {
            path: path.clone(),
            source: e,
        })?;
        Ok(copy)
    }

    /// The copy's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the copy.
    ///
    /// # Errors
    ///
    /// As for [`Warehouse::open`].
    pub fn open(&self) -> Result<Warehouse> {
        Warehouse::open(&self.path)
    }

    /// Closes both files and puts the copy in place of the warehouse: flushed to disk, then
    /// renamed over it, then the folder flushed, so that after a crash the warehouse is either the
    /// old file or the new one, never a mixture.
    ///
    /// # Errors
    ///
    /// [`Error::Warehouse`] when the copy cannot be checkpointed or a write-ahead log is left that
    /// would be replayed into the wrong file, [`Error::Io`] when the flush or the rename fails;
    /// after any of these the warehouse is the old file.
    pub fn publish(mut self, work: Warehouse, original: Warehouse) -> Result<()> {
        work.checkpoint()?;
        drop(work);
        drop(original);
        for file in [&self.path, &self.original] {
            let wal = wal_path(file);
            match std::fs::metadata(&wal) {
                Ok(m) if m.len() > 0 => {
                    return Err(Error::warehouse(
                        file,
                        "publishing the run",
                        format!(
                            "{} still holds changes that belong to this file; nothing was replaced",
                            wal.display()
                        ),
                    ));
                }
                Ok(_) => remove_if_present(&wal)?,
                Err(_) => {}
            }
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| Error::Io { path, source: e }
        };
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(io(&self.path))?;
        std::fs::rename(&self.path, &self.original).map_err(io(&self.original))?;
        self.published = true;
        // The rename is what publishes; flushing the folder only makes it survive a power cut,
        // so its failure is reported but does not undo the run.
        if let Some(dir) = self.original.parent().filter(|d| !d.as_os_str().is_empty())
            && let Err(e) = File::open(dir).and_then(|d| d.sync_all())
        {
            tracing::warn!(folder = %dir.display(), error = %e, "could not flush the warehouse folder after publishing");
        }
        Ok(())
    }
}

impl Drop for WorkCopy {
    fn drop(&mut self) {
        if !self.published {
            for file in [self.path.clone(), wal_path(&self.path)] {
                if let Err(e) = std::fs::remove_file(&file)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(file = %file.display(), error = %e, "could not remove a work copy");
                }
            }
        }
    }
}

/// Removes the work copies that killed runs left beside `warehouse` (the caller holds the run
/// lock, so no run is using them) and returns how many there were.
///
/// # Errors
///
/// [`Error::Io`] when the folder cannot be listed or a copy cannot be removed.
pub fn remove_stale_work_copies(warehouse: &Path) -> Result<usize> {
    let dir = match warehouse.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let Some(name) = warehouse
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return Ok(0);
    };
    let prefix = format!("{name}{MARK}");
    let io = |e| Error::Io {
        path: dir.clone(),
        source: e,
    };
    let mut removed = 0;
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            remove_if_present(&entry.path())?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            "removed work copies left by runs that did not finish"
        );
    }
    Ok(removed)
}

fn work_path(original: &Path, run_id: &str) -> PathBuf {
    let mut name = original.as_os_str().to_owned();
    name.push(format!("{MARK}{run_id}"));
    PathBuf::from(name)
}

fn wal_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".wal");
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}
