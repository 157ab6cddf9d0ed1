//! Staging the pack: every file is written beside its destination under a name that holds the
//! run id (`.itvalue-<run id>.<file name>`), flushed to disk, and renamed into place only after
//! the run's warehouse changes are committed. A run that fails or is killed before its commit
//! leaves the previous pack as it was; the next run removes what it left, and finishes putting in
//! place the files of a run that was killed after its commit.
//!
//! In: file contents (or a writer for files a library draws, such as PNG charts). Out: the
//! published files, or nothing.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of every staged file; files of the earlier, unnamed kind (`.itvalue-XXXXXX`,
/// `.chart-XXXXXX.png`) are left by versions that wrote temporary files at random names.
const STAGED: &str = ".itvalue-";
const OLD_CHART: &str = ".chart-";

/// Files written but not yet in place. Dropped without [`Staged::publish`], they are removed.
#[derive(Debug, Default)]
pub struct Staged {
    /// `(staged file, destination)`, in the order they go into place.
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// The staged name of `target` for `run_id`.
    fn staged_name(run_id: &str, target: &Path) -> Result<PathBuf> {
        let name = target.file_name().ok_or_else(|| Error::Output {
            path: target.to_path_buf(),
            source: std::io::Error::other("not a file name"),
        })?;
        let dir = target.parent().unwrap_or(Path::new("."));
        Ok(dir.join(format!("{STAGED}{run_id}.{}", name.to_string_lossy())))
    }

    /// Stages `bytes` for `target`.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder or the file cannot be written.
    pub fn write(&mut self, run_id: &str, target: &Path, bytes: &[u8]) -> Result<()> {
        self.write_with(run_id, target, |path| {
            let mut file = File::create(path)?;
            file.write_all(bytes)
        })
    }

    /// Stages a file that `write` creates at the path it is given (a chart library that writes
    /// files itself); the file is flushed to disk afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when `write` fails or the file cannot be flushed.
    pub fn write_with(
        &mut self,
        run_id: &str,
        target: &Path,
        write: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<()> {
        let output = |e| Error::Output {
            path: target.to_path_buf(),
            source: e,
        };
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(output)?;
        }
        let staged = Self::staged_name(run_id, target)?;
        // Registered first, so a failed write is removed with the rest.
        self.files.push((staged.clone(), target.to_path_buf()));
        write(&staged).map_err(output)?;
        File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(output)?;
        Ok(())
    }

    /// Renames every staged file into place, in the order staged, and flushes the folders.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] naming the file that could not be put in place; the files before it
    /// are in place, the rest are put in place by the next run.
    pub fn publish(mut self) -> Result<()> {
        let files = std::mem::take(&mut self.files);
        let mut dirs: Vec<PathBuf> = Vec::new();
        for (staged, target) in &files {
            std::fs::rename(staged, target).map_err(|e| Error::Output {
                path: target.clone(),
                source: e,
            })?;
            if let Some(dir) = target.parent()
                && !dirs.iter().any(|d| d == dir)
            {
                dirs.push(dir.to_path_buf());
            }
        }
        for dir in dirs {
            File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::Output {
                    path: dir.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (staged, _) in &self.files {
            if let Err(e) = std::fs::remove_file(staged)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %staged.display(), error = %e, "could not remove a staged file");
            }
        }
    }
}

/// What [`recover`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Staged files of committed runs, put in place.
    pub published: usize,
    /// Staged files of runs that never committed, and temporary files of older versions, removed.
    pub removed: usize,
}

/// Cleans the period folders under `reports` of what killed runs left: the staged files of a run
/// that `committed` says was committed are put in place (it was killed while publishing), all
/// others are removed. The caller holds the run lock, so no run is staging files meanwhile.
///
/// # Errors
///
/// [`Error::Output`] when a folder cannot be read or a file cannot be moved or removed, and
/// whatever `committed` returns.
pub fn recover(reports: &Path, committed: &dyn Fn(&str) -> Result<bool>) -> Result<Recovered> {
    let mut done = Recovered::default();
    let output = |path: &Path| {
        let path = path.to_path_buf();
        move |e| Error::Output { path, source: e }
    };
    let periods = match std::fs::read_dir(reports) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(output(reports)(e)),
    };
    for period in periods {
        let dir = period.map_err(output(reports))?.path();
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(output(&dir))? {
            let path = entry.map_err(output(&dir))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let staged = name
                .strip_prefix(STAGED)
                .and_then(|rest| rest.split_once('.'))
                .filter(|(run_id, target)| !run_id.is_empty() && !target.is_empty());
            match staged {
                Some((run_id, target)) if committed(run_id)? => {
                    std::fs::rename(&path, dir.join(target)).map_err(output(&path))?;
                    done.published += 1;
                }
                _ if name.starts_with(STAGED) || name.starts_with(OLD_CHART) => {
                    std::fs::remove_file(&path).map_err(output(&path))?;
                    done.removed += 1;
                }
                _ => {}
            }
        }
    }
    if done != Recovered::default() {
        tracing::info!(
            published = done.published,
            removed = done.removed,
            "cleaned the pack folders of what unfinished runs left"
        );
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_when_published_and_vanish_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("2026-10/itvalue-2026-10.xlsx");
        let mut staged = Staged::default();
        staged.write("RUN1", &target, b"new").unwrap();
        assert!(!target.exists());
        assert!(
            dir.path()
                .join("2026-10/.itvalue-RUN1.itvalue-2026-10.xlsx")
                .exists()
        );
        staged.publish().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");

        let mut dropped = Staged::default();
        dropped.write("RUN2", &target, b"newer").unwrap();
        drop(dropped);
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("2026-10"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["itvalue-2026-10.xlsx"]);
    }

    #[test]
    fn recovery_finishes_committed_runs_and_removes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let period = dir.path().join("2026-10");
        std::fs::create_dir_all(&period).unwrap();
        for name in [
            ".itvalue-DONE.itvalue-2026-10.xlsx",
            ".itvalue-KILLED.itvalue-2026-10.xlsx",
            ".itvalue-a8Xk2q",
            ".chart-Zt61pa.png",
            "itvalue-2026-10.xlsx",
        ] {
            std::fs::write(period.join(name), name).unwrap();
        }
        let done = recover(dir.path(), &|run| Ok(run == "DONE")).unwrap();
        assert_eq!(
            done,
            Recovered {
                published: 1,
                removed: 3
            }
        );
        let mut left: Vec<_> = std::fs::read_dir(&period)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["itvalue-2026-10.xlsx"]);
        assert_eq!(
            std::fs::read_to_string(period.join("itvalue-2026-10.xlsx")).unwrap(),
            ".itvalue-DONE.itvalue-2026-10.xlsx"
        );
    }
}
