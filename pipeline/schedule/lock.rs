//! The run lock: one writer at a time per warehouse.
//!
//! The lock is an OS file lock on `<warehouse>.lock`, so it is released when the process ends,
//! even by a crash; a stale file left behind never blocks the next run. The file holds the
//! holder's process id for the message the second run prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held for the length of a run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `warehouse` without waiting.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`] naming the lock file and the holder's process id when another run holds
    /// it; [`Error::Output`] when the lock file cannot be created.
    pub fn acquire(warehouse: &Path) -> Result<RunLock> {
        let mut name = warehouse.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Output {
                path: dir.to_path_buf(),
                source: e,
            })?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::Output {
                path: path.clone(),
                source: e,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Locked {
                    path,
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::Output { path, source: e }),
        }
        let io = |e| Error::Io {
            path: path.clone(),
            source: e,
        };
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(RunLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_warehouse_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let warehouse = dir.path().join("w.duckdb");
        let first = RunLock::acquire(&warehouse).unwrap();
        let err = RunLock::acquire(&warehouse).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "another run holds the lock {} (pid {}); wait for it to finish",
                first.path().display(),
                std::process::id()
            )
        );
        drop(first);
        RunLock::acquire(&warehouse).unwrap();
    }
}
