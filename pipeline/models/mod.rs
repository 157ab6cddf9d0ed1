//! SQL models: every `.sql` file under the models folder is one SELECT whose file name is its
//! table name. Dependencies come from DuckDB's own parse tree; models run in dependency order,
//! fenced from files and the network, each built under a temporary name and swapped in, and
//! tested by the data tests declared beside them.
//!
//! In: the models folder, per-model settings from the configuration, and the warehouse connection
//! (raw tables loaded). Out: one table or view per model in the warehouse's `main` schema, failing
//! test rows in `test_failures`, and an [`Outcome`] with a [`ModelResult`] per model and a
//! [`TestResult`] per test.

mod data_tests;
mod graph;
mod header;
mod lineage;
mod materialize;
mod select;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use duckdb::Connection;
use serde::Serialize;

use crate::error::{Error, ModelGraphError, Result};
use crate::progress::Progress;

pub use data_tests::{Check, DataTest, FAILURES_SCHEMA, Severity, TestResult, TestStatus};
pub use graph::Dependencies;
pub use lineage::{Format as LineageFormat, render as lineage};
pub use materialize::{ModelResult, ModelStatus};

/// How a model is kept in the warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Materialization {
    /// Rebuilt in full on every run (the default).
    #[default]
    Table,
    /// A view: nothing stored, always current.
    View,
    /// A table whose rows of the run's period are replaced, other periods kept.
    Incremental { period_column: String },
}

impl Materialization {
    /// Reads `table`, `view` or `incremental` (whose period column defaults to `period`).
    ///
    /// # Errors
    ///
    /// A message naming the value and the accepted ones.
    pub fn parse(text: &str, period_column: Option<&str>) -> std::result::Result<Self, String> {
        match text {
            "table" => Ok(Materialization::Table),
            "view" => Ok(Materialization::View),
            "incremental" => Ok(Materialization::Incremental {
                period_column: period_column.unwrap_or("period").to_string(),
            }),
            other => Err(format!(
                "materialized: {other:?} is not one of table, view, incremental"
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Materialization::Table => "table",
            Materialization::View => "view",
            Materialization::Incremental { .. } => "incremental",
        }
    }
}

impl Serialize for Materialization {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One SQL model.
#[derive(Debug, Clone)]
pub struct Model {
    /// The table it builds: the file name without `.sql`, in lower case.
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    /// The header's description.
    pub description: String,
    pub materialization: Materialization,
    /// Models this one reads, inferred from the SQL and from a `-- depends_on:` header.
    pub depends_on: Vec<String>,
    /// Tables outside the models it reads (`raw.costs`, `ledger.data_quality`).
    pub reads: Vec<String>,
}

/// The models of a folder in build order, with their data tests.
#[derive(Debug, Clone)]
pub struct Project {
    pub models: Vec<Model>,
    pub tests: Vec<DataTest>,
}

/// Settings the configuration gives a model, overriding its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSettings {
    /// `table`, `view` or `incremental`.
    pub materialized: Option<String>,
    /// The period column of an incremental model.
    pub period_column: Option<String>,
}

impl Project {
    /// Discovers the models and tests under `dir`, applies `settings`, and orders the models.
    ///
    /// # Errors
    ///
    /// [`Error::ModelGraph`] for two models with one name, a bad header, a setting or test naming
    /// no model, an unknown table or a cycle; [`Error::Config`] for a malformed `tests.toml`;
    /// [`Error::Io`] when the folder cannot be read.
    pub fn load(
        conn: &Connection,
        dir: &Path,
        settings: &BTreeMap<String, ModelSettings>,
        dependencies: &Dependencies,
    ) -> Result<Project> {
        let (mut models, test_files) = discover(dir)?;
        for (name, setting) in settings {
            let Some(index) = models.iter().position(|m| &m.name == name) else {
                return Err(ModelGraphError::UnknownSetting {
                    name: name.clone(),
                    dir: dir.to_path_buf(),
                    suggestion: graph::suggest(name, models.iter().map(|m| m.name.clone())),
                }
                .into());
            };
            let model = &mut models[index];
            let fail = |message: String| {
                Error::from(ModelGraphError::BadSetting {
                    name: name.clone(),
                    message,
                })
            };
            let header_column = match &model.materialization {
                Materialization::Incremental { period_column } => Some(period_column.clone()),
                _ => None,
            };
            match (&setting.materialized, &setting.period_column) {
                (Some(m), column) => {
                    let column = column.clone().or(header_column);
                    model.materialization =
                        Materialization::parse(m, column.as_deref()).map_err(fail)?;
                }
                (None, Some(column)) => match &mut model.materialization {
                    Materialization::Incremental { period_column } => {
                        *period_column = column.clone();
                    }
                    other => {
                        return Err(fail(format!(
                            "period_column is set, but the model is materialized as {}, not incremental",
                            other.as_str()
                        )));
                    }
                },
                (None, None) => {}
            }
        }
        let models = graph::order(conn, models, dependencies)?;
        let mut tests: Vec<DataTest> = Vec::new();
        for file in test_files {
            for mut test in data_tests::load(&file)? {
                check_test(&test, &models, &tests)?;
                let tree =
                    graph::parse_select(conn, &test.failing_rows_sql()).map_err(|message| {
                        ModelGraphError::BadTest {
                            file: test.file.clone(),
                            test: test.name.clone(),
                            message: format!(": {message}"),
                        }
                    })?;
                let names: BTreeSet<String> = models.iter().map(|m| m.name.clone()).collect();
                test.needs = graph::models_read(&tree, &names)
                    .into_iter()
                    .filter(|m| *m != test.model)
                    .collect();
                tests.push(test);
            }
        }
        Ok(Project { models, tests })
    }

    /// The model named `name`.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The names a `--select` picks (every model when `selection` is `None`).
    ///
    /// # Errors
    ///
    /// [`Error::ModelGraph`] naming a term that matches no model.
    pub fn select(&self, selection: Option<&str>) -> Result<BTreeSet<String>> {
        match selection {
            Some(s) => select::select(&self.models, s),
            None => Ok(self.models.iter().map(|m| m.name.clone()).collect()),
        }
    }
}

fn check_test(test: &DataTest, models: &[Model], earlier: &[DataTest]) -> Result<()> {
    let names = || models.iter().map(|m| m.name.clone());
    if !models.iter().any(|m| m.name == test.model) {
        return Err(ModelGraphError::BadTest {
            file: test.file.clone(),
            test: test.name.clone(),
            message: format!(
                "is on model `{}`, which does not exist{}",
                test.model,
                graph::suggest(&test.model, names())
            ),
        }
        .into());
    }
    if let Some(other) = earlier.iter().find(|t| t.name == test.name) {
        return Err(ModelGraphError::DuplicateTest {
            name: test.name.clone(),
            first: other.file.clone(),
            second: test.file.clone(),
        }
        .into());
    }
    if let Check::Relationships { to, .. } = &test.check
        && !to.contains('.')
        && !models.iter().any(|m| &m.name == to)
    {
        return Err(ModelGraphError::BadTest {
            file: test.file.clone(),
            test: test.name.clone(),
            message: format!(
                "refers to `{to}`, which is no model (write schema.table for a raw table){}",
                graph::suggest(to, names())
            ),
        }
        .into());
    }
    Ok(())
}

/// Finds every `.sql` file (a model) and `tests.toml` under `dir`, in path order.
fn discover(dir: &Path) -> Result<(Vec<Model>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let test_files: Vec<PathBuf> = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "tests.toml"))
        .cloned()
        .collect();
    let mut models: Vec<Model> = Vec::new();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
    {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if let Some(other) = models.iter().find(|m| m.name == name) {
            return Err(ModelGraphError::DuplicateModel {
                name,
                first: other.path.clone(),
                second: path,
            }
            .into());
        }
        let sql = std::fs::read_to_string(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let header = header::Header::parse(&sql);
        let materialization = header
            .materialization()
            .map_err(|message| ModelGraphError::BadHeader {
                path: path.clone(),
                message,
            })?
            .unwrap_or_default();
        models.push(Model {
            name,
            path,
            description: header.description,
            materialization,
            depends_on: header.depends_on,
            reads: Vec::new(),
            sql,
        });
    }
    Ok((models, test_files))
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let io = |e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Checks that `sql` is one SELECT that changes nothing, for SQL that configuration adds around
/// a model (a sheet's filter and order).
///
/// # Errors
///
/// A message with the parser's error or the rule broken.
pub fn check_select(conn: &Connection, sql: &str) -> std::result::Result<(), String> {
    graph::parse_select(conn, sql).map(|_| ())
}

/// Switches off everything outside the warehouse for the rest of the connection's life: no file
/// reads or writes (`read_csv`, `COPY`), no `ATTACH`, no extension installs or loads, and the
/// configuration locked so a model cannot switch it back on. DuckDB cannot lift the lock within a
/// database instance, so whatever must touch files afterwards goes through Polars or a new
/// instance.
///
/// # Errors
///
/// DuckDB's error if a setting is refused.
pub fn fence(conn: &Connection) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE SCHEMA IF NOT EXISTS {FAILURES_SCHEMA};
         SET enable_external_access = false;
         SET autoinstall_known_extensions = false;
         SET autoload_known_extensions = false;
         SET lock_configuration = true;"
    ))
}

/// What one run of the models did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub models: Vec<ModelResult>,
    pub tests: Vec<TestResult>,
}

impl Outcome {
    /// A one-paragraph account of what failed, or `None` when nothing did.
    pub fn failure(&self) -> Option<String> {
        let failed: Vec<String> = self
            .models
            .iter()
            .filter(|m| m.status == ModelStatus::Error)
            .map(|m| format!("model {} ({}): {}", m.name, m.path.display(), m.message))
            .chain(
                self.tests
                    .iter()
                    .filter(|t| t.blocks())
                    .map(|t| format!("test {} on {}: {}", t.name, t.model, t.message)),
            )
            .collect();
        if failed.is_empty() {
            return None;
        }
        let skipped = self
            .models
            .iter()
            .filter(|m| m.status == ModelStatus::Skipped && !m.without_data)
            .count();
        Some(format!(
            "{}{}",
            failed.join("; "),
            if skipped > 0 {
                format!("; {skipped} downstream models skipped")
            } else {
                String::new()
            }
        ))
    }
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// The models to build; `None` builds all.
    pub selected: Option<BTreeSet<String>>,
    /// Rebuild incremental models in full.
    pub full_refresh: bool,
    /// Run the tests only, building nothing.
    pub test_only: bool,
    /// The raw entities that no source feeds. A model that reads only such entities (directly or
    /// through other models) is skipped and left empty, so the models that also read fed entities
    /// still run; a test that touches it is skipped. Both say which entities are missing.
    pub unfed_entities: BTreeSet<String>,
}

impl Project {
    /// The models that read `metrics.*`, directly or through models they read, each with what it
    /// reads it through (`metrics.investment_finance`, or `model mart_x`). They run after the
    /// figures are computed, so what they read of `metrics.*` is always this run's.
    pub fn after_figures(&self) -> BTreeMap<String, String> {
        let mut later: BTreeMap<String, String> = BTreeMap::new();
        for model in &self.models {
            let direct = model.reads.iter().find(|r| r.starts_with("metrics."));
            let through = direct.cloned().or_else(|| {
                model
                    .depends_on
                    .iter()
                    .find(|d| later.contains_key(*d))
                    .map(|d| format!("model {d}"))
            });
            if let Some(through) = through {
                later.insert(model.name.clone(), through);
            }
        }
        later
    }

    /// Per model that reads only unfed entities, why it has nothing to build from
    /// ("no source feeds costs, fx_rates"). A model that reads no raw entity at all (the ledger,
    /// say) is never in it.
    pub fn without_data(&self, unfed: &BTreeSet<String>) -> BTreeMap<String, String> {
        let mut entities: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for model in &self.models {
            // Build order puts every model after the ones it reads.
            let mut read: BTreeSet<String> = model
                .reads
                .iter()
                .filter_map(|r| r.strip_prefix("raw.").map(String::from))
                .collect();
            for dependency in &model.depends_on {
                if let Some(upstream) = entities.get(dependency.as_str()) {
                    read.extend(upstream.iter().cloned());
                }
            }
            entities.insert(&model.name, read);
        }
        entities
            .into_iter()
            .filter(|(_, read)| !read.is_empty() && read.iter().all(|e| unfed.contains(e)))
            .map(|(name, read)| {
                let list: Vec<String> = read.into_iter().collect();
                (
                    name.to_string(),
                    format!("no source feeds {}", list.join(", ")),
                )
            })
            .collect()
    }
}

/// Builds the requested models in order and runs each one's tests as soon as the models they
/// need are built. A model that fails, or whose error-severity test fails, has every model
/// downstream of it skipped; models on other branches still run.
pub fn run(
    conn: &Connection,
    project: &Project,
    request: &RunRequest,
    progress: &dyn Progress,
) -> Outcome {
    let chosen = |name: &str| request.selected.as_ref().is_none_or(|s| s.contains(name));
    let models: Vec<&Model> = project.models.iter().filter(|m| chosen(&m.name)).collect();
    let mut tests: Vec<&DataTest> = project.tests.iter().filter(|t| chosen(&t.model)).collect();
    let step = if request.test_only {
        "testing models"
    } else {
        "building models"
    };
    let models_shown = if request.test_only { 0 } else { models.len() };
    progress.begin(step, (models_shown + tests.len()) as u64);
    let mut outcome = Outcome::default();
    let without_data = project.without_data(&request.unfed_entities);
    // Why a test cannot say anything in this run, when a model or raw table it touches has no
    // source behind it.
    let nothing_to_test = |test: &DataTest| -> Option<String> {
        let target = match &test.check {
            Check::Relationships { to, .. } => Some(to.as_str()),
            _ => None,
        };
        std::iter::once(test.model.as_str())
            .chain(test.needs.iter().map(String::as_str))
            .chain(target)
            .find_map(|name| match name.strip_prefix("raw.") {
                Some(entity) if request.unfed_entities.contains(entity) => {
                    Some(format!("no source feeds {entity}"))
                }
                Some(_) => None,
                None => without_data.get(name).map(|r| format!("{name}: {r}")),
            })
    };
    // Models whose outputs cannot be trusted in this run: failed, failed a test, or skipped.
    let mut broken: BTreeMap<String, String> = BTreeMap::new();
    // Models not built in this run; their tests are skipped.
    let mut unbuilt: BTreeSet<String> = BTreeSet::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let is_model = |name: &str| project.model(name).is_some();
    for model in models {
        if !request.test_only {
            let upstream_broken = model.depends_on.iter().find(|d| broken.contains_key(*d));
            let result = match (upstream_broken, without_data.get(&model.name)) {
                (Some(dependency), _) => ModelResult::skipped(
                    model,
                    format!("upstream model {dependency} did not build or failed a test"),
                ),
                (None, Some(reason)) => materialize::build_empty(conn, model, reason),
                (None, None) => materialize::build(conn, model, request.full_refresh),
            };
            tracing::debug!(model = %model.name, status = result.status.as_str(), "model");
            if result.status != ModelStatus::Success && !result.without_data {
                broken.insert(model.name.clone(), result.message.clone());
                unbuilt.insert(model.name.clone());
            }
            outcome.models.push(result);
            progress.advance(&model.name);
        }
        done.insert(&model.name);

        // A test runs once its model, and a model it refers to, have had their turn.
        let has_had_its_turn = |name: &str| done.contains(name) || !is_model(name) || !chosen(name);
        let (ready, waiting): (Vec<&DataTest>, Vec<&DataTest>) = tests.into_iter().partition(|t| {
            done.contains(t.model.as_str()) && t.needs.iter().all(|n| has_had_its_turn(n))
        });
        tests = waiting;
        for test in ready {
            let needed_broken = std::iter::once(&test.model)
                .chain(&test.needs)
                .find(|n| unbuilt.contains(*n));
            let result = match (needed_broken, nothing_to_test(test)) {
                (Some(name), _) => TestResult::skipped(test, format!("model {name} did not build")),
                (None, Some(reason)) => TestResult::skipped(test, reason),
                (None, None) => data_tests::run(conn, test),
            };
            if result.blocks() {
                broken.insert(test.model.clone(), result.message.clone());
            }
            outcome.tests.push(result);
            progress.advance(&test.name);
        }
    }
    progress.end();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error DuckDB gives `sql` on a fenced connection.
    fn refused(sql: &str) -> String {
        let conn = Connection::open_in_memory().unwrap();
        fence(&conn).unwrap();
        conn.execute_batch(sql)
            .expect_err("the fence lets it through")
            .to_string()
    }

    #[test]
    fn a_model_reading_only_unfed_entities_has_no_data_and_says_which() {
        let dir = tempfile::tempdir().unwrap();
        for (name, sql) in [
            ("a", "SELECT investment_id FROM raw.costs"),
            ("b", "SELECT application_id FROM raw.incidents"),
            ("c", "SELECT * FROM a, b"),
            ("d", "SELECT * FROM a"),
            ("e", "SELECT 1 AS n"),
        ] {
            std::fs::write(dir.path().join(format!("{name}.sql")), sql).unwrap();
        }
        let conn = Connection::open_in_memory().unwrap();
        let project = Project::load(
            &conn,
            dir.path(),
            &BTreeMap::new(),
            &Dependencies::default(),
        )
        .unwrap();
        let unfed: BTreeSet<String> = ["costs".to_string(), "fx_rates".to_string()].into();
        let without: Vec<(String, String)> = project.without_data(&unfed).into_iter().collect();
        assert_eq!(
            without,
            [
                ("a".to_string(), "no source feeds costs".to_string()),
                ("d".to_string(), "no source feeds costs".to_string())
            ]
        );
    }

    #[test]
    fn the_fence_refuses_reading_files() {
        let message = refused("SELECT * FROM read_csv('/etc/passwd')");
        assert!(message.contains("Permission Error"), "{message}");
    }

    #[test]
    fn the_fence_refuses_writing_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let message = refused(&format!("COPY (SELECT 42) TO '{}'", target.display()));
        assert!(message.contains("Permission Error"), "{message}");
        assert!(!target.exists());
    }

    #[test]
    fn the_fence_refuses_attaching_databases() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.duckdb");
        let message = refused(&format!("ATTACH '{}' AS other", other.display()));
        assert!(message.contains("Permission Error"), "{message}");
        assert!(!other.exists());
    }

    #[test]
    fn the_fence_refuses_installing_and_loading_extensions() {
        for sql in ["INSTALL spatial", "LOAD spatial"] {
            let message = refused(sql);
            assert!(message.contains("Permission Error"), "{sql}: {message}");
        }
    }

    #[test]
    fn the_fence_cannot_be_lifted() {
        for sql in [
            "SET enable_external_access = true",
            "RESET enable_external_access",
            "SET lock_configuration = false",
        ] {
            let message = refused(sql);
            assert!(
                message.contains("configuration has been locked"),
                "{sql}: {message}"
            );
        }
    }
}
