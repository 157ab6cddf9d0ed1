//! Staging the pack: the whole period folder is built beside it
//! (`<reports>/.itvalue-<run id>.<period>/`, holding links to the files already there and the
//! run's new files, each flushed to disk) and swapped with the period folder in one atomic
//! exchange, after the run's warehouse changes are committed. A reader sees the old folder or the
//! new one, never a mixture; a run that fails or is killed before the swap leaves the previous pack
//! as it was. The next run removes what an unfinished run left, and finishes the swap of a run
//! that was killed after its commit.
//!
//! In: the period folder and file contents (or a writer for files a library draws, such as PNG
//! charts). Out: the published folder, or nothing.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of a staged folder (and of the staged files of older versions and of the fallback).
const STAGED: &str = ".itvalue-";
/// Temporary chart files of versions that wrote them at random names.
const OLD_CHART: &str = ".chart-";
/// The file in a staged folder that names the run that staged it.
pub const MARKER: &str = ".itvalue-pack";

/// A period folder being staged. Dropped without [`Staged::publish`], it is removed.
#[derive(Debug)]
pub struct Staged {
    run_id: String,
    /// The period folder.
    target: PathBuf,
    /// Where its next version is built.
    staged: PathBuf,
    /// The files this run writes, by name.
    written: Vec<String>,
    done: bool,
}

fn output(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Output {
        path: path.to_path_buf(),
        source: e,
    }
}

impl Staged {
    /// Starts the next version of `target` (a period folder) for `run_id`: a folder beside it with
    /// links to (or copies of) the files it holds now.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder cannot be made or a file linked.
    pub fn new(run_id: &str, target: &Path) -> Result<Staged> {
        Staged::start(run_id, target, true)
    }

    /// Starts the next version of `target` holding only what this run writes: the files of the
    /// current version are left out (an extract whose table is gone does not linger).
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder cannot be made.
    pub fn fresh(run_id: &str, target: &Path) -> Result<Staged> {
        Staged::start(run_id, target, false)
    }

    fn start(run_id: &str, target: &Path, keep: bool) -> Result<Staged> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = target.parent().unwrap_or(Path::new("."));
        let staged = parent.join(format!("{STAGED}{run_id}.{name}"));
        let stage = Staged {
            run_id: run_id.to_string(),
            target: target.to_path_buf(),
            staged: staged.clone(),
            written: Vec::new(),
            done: false,
        };
        std::fs::create_dir_all(&staged).map_err(output(&staged))?;
        if keep && target.is_dir() {
            for entry in std::fs::read_dir(target).map_err(output(target))? {
                let entry = entry.map_err(output(target))?;
                let file = entry.file_name();
                let from = entry.path();
                if !from.is_file() || file.to_string_lossy() == MARKER {
                    continue;
                }
                let to = staged.join(&file);
                if std::fs::hard_link(&from, &to).is_err() {
                    std::fs::copy(&from, &to).map_err(output(&to))?;
                }
            }
        }
        let mut marker = File::create(staged.join(MARKER)).map_err(output(&staged))?;
        marker
            .write_all(run_id.as_bytes())
            .map_err(output(&staged))?;
        Ok(stage)
    }

    /// Where `name` will be once published.
    pub fn target(&self, name: &str) -> PathBuf {
        self.target.join(name)
    }

    /// Stages `bytes` as the file `name`.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the file cannot be written.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        self.write_with(name, |path| {
            let mut file = File::create(path)?;
            file.write_all(bytes)
        })
    }

    /// Stages a file that `write` creates at the path it is given (a chart library that writes
    /// files itself); the file is flushed to disk afterwards. Returns where it will be once
    /// published.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when `write` fails or the file cannot be flushed.
    pub fn write_with(
        &mut self,
        name: &str,
        write: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<PathBuf> {
        let path = self.staged.join(name);
        let target = self.target(name);
        let fail = output(&target);
        // A link to the file it replaces is removed first: writing through it would change the
        // published file.
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e)),
        }
        write(&path).map_err(&fail)?;
        File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(&fail)?;
        self.written.push(name.to_string());
        Ok(self.target(name))
    }

    /// Swaps the staged folder in for the period folder in one atomic exchange (Linux's
    /// `renameat2(RENAME_EXCHANGE)`), or renames it into place when there is none yet, and removes
    /// the folder it replaced. Where the file system cannot exchange, the new files are renamed
    /// into place one by one.
    ///
    /// # Errors
    ///
    /// [`Error::Output`] when the folder cannot be put in place; the previous pack is then as it
    /// was, and the next run finishes the swap.
    pub fn publish(mut self) -> Result<()> {
        File::open(&self.staged)
            .and_then(|d| d.sync_all())
            .map_err(output(&self.staged))?;
        if !self.target.exists() {
            std::fs::rename(&self.staged, &self.target).map_err(output(&self.target))?;
        } else if exchange(&self.staged, &self.target).map_err(output(&self.target))? {
            crate::failpoint::reached("pack-exchanged");
            // The staged path now holds the previous folder.
            std::fs::remove_dir_all(&self.staged).map_err(output(&self.staged))?;
        } else {
            for name in &self.written {
                std::fs::rename(self.staged.join(name), self.target.join(name))
                    .map_err(output(&self.target))?;
            }
            std::fs::remove_dir_all(&self.staged).map_err(output(&self.staged))?;
        }
        self.done = true;
        if let Some(parent) = self.target.parent()
            && let Err(e) = File::open(parent).and_then(|d| d.sync_all())
        {
            tracing::warn!(folder = %parent.display(), error = %e, "could not flush the reports folder");
        }
        tracing::debug!(run_id = %self.run_id, folder = %self.target.display(), "pack published");
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done
            && let Err(e) = std::fs::remove_dir_all(&self.staged)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(folder = %self.staged.display(), error = %e, "could not remove a staged pack");
        }
    }
}

/// Exchanges two folders atomically; `Ok(false)` when the file system (or the platform) cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let a = std::ffi::CString::new(a.as_os_str().as_bytes())?;
    let b = std::ffi::CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated C strings that live across the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EXDEV) | Some(libc::ENOTSUP) => {
            Ok(false)
        }
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// What [`recover`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Packs of committed runs, swapped in.
    pub published: usize,
    /// Staged packs of runs that never committed, folders a swap left behind, and temporary files
    /// of older versions, removed.
    pub removed: usize,
}

/// Cleans `reports` of what killed runs left. A staged folder whose marker names its own run is
/// that run's new pack: swapped in when `committed` says the run committed (it was killed between
/// its commit and the swap), removed otherwise. A staged folder whose marker names another run
/// is the folder a swap replaced: removed. Staged files of older versions inside period folders
/// are put in place for committed runs and removed otherwise. The caller holds the run lock, so no
/// run is staging meanwhile.
///
/// # Errors
///
/// [`Error::Output`] when a folder cannot be read or moved, and whatever `committed` returns.
pub fn recover(reports: &Path, committed: &dyn Fn(&str) -> Result<bool>) -> Result<Recovered> {
    let mut done = Recovered::default();
    let entries = match std::fs::read_dir(reports) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(output(reports)(e)),
    };
    for entry in entries {
        let path = entry.map_err(output(reports))?.path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match name
            .strip_prefix(STAGED)
            .and_then(|rest| rest.split_once('.'))
        {
            Some((run_id, period)) => {
                let marker = std::fs::read_to_string(path.join(MARKER)).unwrap_or_default();
                if marker == run_id && committed(run_id)? {
                    let staged = Staged {
                        run_id: run_id.to_string(),
                        target: reports.join(period),
                        staged: path.clone(),
                        written: files_of(&path)?,
                        done: false,
                    };
                    staged.publish()?;
                    done.published += 1;
                } else {
                    std::fs::remove_dir_all(&path).map_err(output(&path))?;
                    done.removed += 1;
                }
            }
            None => recover_files(&path, committed, &mut done)?,
        }
    }
    if done != Recovered::default() {
        tracing::info!(
            published = done.published,
            removed = done.removed,
            "cleaned the reports folder of what unfinished runs left"
        );
    }
    Ok(done)
}

/// The names of the files in `dir`, but its marker.
fn files_of(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(output(dir))? {
        let name = entry.map_err(output(dir))?.file_name();
        let name = name.to_string_lossy();
        if name != MARKER {
            names.push(name.into_owned());
        }
    }
    Ok(names)
}

/// Staged files inside a period folder, as older versions (and the per-file fallback) left them:
/// `.itvalue-<run id>.<file>`.
fn recover_files(
    dir: &Path,
    committed: &dyn Fn(&str) -> Result<bool>,
    done: &mut Recovered,
) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(output(dir))? {
        let path = entry.map_err(output(dir))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == MARKER {
            continue;
        }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_staged_pack_appears_whole_when_published_and_not_at_all_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let period = dir.path().join("2026-10");
        std::fs::create_dir_all(&period).unwrap();
        std::fs::write(period.join("itvalue-2026-10.xlsx"), "old").unwrap();
        std::fs::write(period.join("run_results-R0.json"), "kept").unwrap();

        let mut staged = Staged::new("R1", &period).unwrap();
        staged.write("itvalue-2026-10.xlsx", b"new").unwrap();
        staged.write("chart.png", b"png").unwrap();
        // Nothing shows before the swap, and the old file's link was not written through.
        assert_eq!(
            std::fs::read_to_string(period.join("itvalue-2026-10.xlsx")).unwrap(),
            "old"
        );
        assert!(!period.join("chart.png").exists());
        staged.publish().unwrap();
        assert_eq!(
            names(&period),
            [
                MARKER,
                "chart.png",
                "itvalue-2026-10.xlsx",
                "run_results-R0.json"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(period.join("itvalue-2026-10.xlsx")).unwrap(),
            "new"
        );
        assert_eq!(names(dir.path()), ["2026-10"]);

        let mut dropped = Staged::new("R2", &period).unwrap();
        dropped.write("itvalue-2026-10.xlsx", b"newer").unwrap();
        drop(dropped);
        assert_eq!(
            std::fs::read_to_string(period.join("itvalue-2026-10.xlsx")).unwrap(),
            "new"
        );
        assert_eq!(names(dir.path()), ["2026-10"]);
    }

    #[test]
    fn recovery_swaps_in_committed_packs_and_removes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let period = dir.path().join("2026-10");
        std::fs::create_dir_all(&period).unwrap();
        std::fs::write(period.join("itvalue-2026-10.xlsx"), "old").unwrap();
        // A committed run killed before its swap, and one killed before its commit.
        for run in ["DONE", "KILLED"] {
            let mut staged = Staged::new(run, &period).unwrap();
            staged
                .write("itvalue-2026-10.xlsx", run.as_bytes())
                .unwrap();
            std::mem::forget(staged);
        }
        // A folder a swap replaced (its marker names the run before), and older temporary files.
        let swapped = dir.path().join(".itvalue-LATER.2026-09");
        std::fs::create_dir_all(&swapped).unwrap();
        std::fs::write(swapped.join(MARKER), "EARLIER").unwrap();
        std::fs::write(period.join(".itvalue-a8Xk2q"), "x").unwrap();
        std::fs::write(period.join(".chart-Zt61pa.png"), "x").unwrap();

        let done = recover(dir.path(), &|run| Ok(run == "DONE")).unwrap();
        assert_eq!(
            done,
            Recovered {
                published: 1,
                removed: 4
            }
        );
        assert_eq!(names(dir.path()), ["2026-10"]);
        assert_eq!(
            std::fs::read_to_string(period.join("itvalue-2026-10.xlsx")).unwrap(),
            "DONE"
        );
        assert_eq!(names(&period), [MARKER, "itvalue-2026-10.xlsx"]);
    }
}
