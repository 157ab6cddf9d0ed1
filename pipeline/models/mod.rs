//! SQL models: every `.sql` file under the models folder is one SELECT whose file name is its
//! table name. Their dependencies come from DuckDB's own parse tree, they run in dependency order,
//! and each is built as a table in one statement, so a failing model leaves the previous table as
//! it was.
//!
//! In: the models folder and the warehouse connection (raw tables loaded). Out: one table per
//! model in the warehouse's `main` schema, and a [`ModelResult`] per model for the ledger.

mod graph;

use std::path::{Path, PathBuf};
use std::time::Instant;

use duckdb::Connection;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::warehouse::quote;

pub use graph::{Dependencies, order};

/// One SQL model.
#[derive(Debug, Clone)]
pub struct Model {
    /// The table it builds: the file name without `.sql`.
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    /// Models this one reads, inferred from the SQL and from a `-- depends_on:` header.
    pub depends_on: Vec<String>,
}

/// How one model's build went.
#[derive(Debug, Clone)]
pub struct ModelResult {
    pub name: String,
    pub rows: u64,
    pub millis: u128,
}

/// Finds every `.sql` file under `dir`, in path order.
///
/// # Errors
///
/// [`Error::Io`] when the folder cannot be read, [`Error::ModelGraph`] naming both files when two
/// models share a name.
pub fn discover(dir: &Path) -> Result<Vec<Model>> {
    let mut files = Vec::new();
    collect_sql_files(dir, &mut files)?;
    files.sort();
    let mut models: Vec<Model> = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(other) = models.iter().find(|m| m.name == name) {
            return Err(Error::ModelGraph(format!(
                "two models are named `{name}`: {} and {}",
                other.path.display(),
                path.display()
            )));
        }
        let sql = std::fs::read_to_string(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        models.push(Model {
            name,
            path,
            sql,
            depends_on: Vec::new(),
        });
    }
    Ok(models)
}

fn collect_sql_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let io = |e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_sql_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            files.push(path);
        }
    }
    Ok(())
}

/// Builds every model in `ordered` (already in dependency order) as a table.
///
/// # Errors
///
/// [`Error::Model`] naming the first model that fails; models after it are not built, and the
/// failing model's previous table is left untouched.
pub fn build_all(
    conn: &Connection,
    ordered: &[Model],
    progress: &dyn Progress,
) -> Result<Vec<ModelResult>> {
    progress.begin("building models", ordered.len() as u64);
    let mut results = Vec::with_capacity(ordered.len());
    for model in ordered {
        let started = Instant::now();
        let fail = |e| Error::Model {
            name: model.name.clone(),
            path: model.path.clone(),
            source: e,
        };
        let body = strip_trailing_semicolon(&model.sql);
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TABLE main.{} AS {body}\n;",
            quote(&model.name)
        ))
        .map_err(fail)?;
        let rows: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM main.{}", quote(&model.name)),
                [],
                |r| r.get(0),
            )
            .map_err(fail)?;
        results.push(ModelResult {
            name: model.name.clone(),
            rows: rows as u64,
            millis: started.elapsed().as_millis(),
        });
        tracing::debug!(model = %model.name, rows, "built");
        progress.advance(&model.name);
    }
    progress.end();
    Ok(results)
}

/// A model file may end its SELECT with `;`, which cannot stand inside CREATE TABLE AS.
fn strip_trailing_semicolon(sql: &str) -> &str {
    let mut body = sql.trim_end();
    while let Some(stripped) = body.strip_suffix(';') {
        body = stripped.trim_end();
    }
    body
}
