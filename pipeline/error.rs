//! The library's one error type: what failed, with the file, sheet, key or model it concerns,
//! and the [`ErrorClass`] that `main.rs` turns into an exit code.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is; each class has its own documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad command line or configuration (exit 2).
    Usage,
    /// Input data broke its contract (exit 65).
    BadData,
    /// An input file or sheet is missing (exit 66).
    MissingInput,
    /// A source could not be reached (exit 69).
    SourceUnavailable,
    /// A bug: an invariant inside itvalue did not hold (exit 70).
    Internal,
    /// An output could not be created (exit 73).
    CannotCreateOutput,
    /// Reading or writing failed part-way, including the warehouse (exit 74).
    Io,
    /// Another run holds the lock (exit 75).
    Locked,
    /// Credentials are missing or refused (exit 78).
    Credentials,
}

impl ErrorClass {
    /// The documented exit code of the class (README, "Exit codes"; `itvalue --help`).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Usage => 2,
            ErrorClass::BadData => 65,
            ErrorClass::MissingInput => 66,
            ErrorClass::SourceUnavailable => 69,
            ErrorClass::Internal => 70,
            ErrorClass::CannotCreateOutput => 73,
            ErrorClass::Io => 74,
            ErrorClass::Locked => 75,
            ErrorClass::Credentials => 78,
        }
    }

    /// Whether trying again later may succeed with nothing changed: another run held the
    /// warehouse, or a database could not be reached. A scheduled job's due time whose run
    /// failed so is tried again at the next check; any other failure waits for its next due time
    /// (or a run by hand).
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorClass::Locked | ErrorClass::SourceUnavailable)
    }
}

/// Why a database source could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseFailure {
    /// The server cannot be reached, or the connection kept failing (exit 69).
    Unavailable,
    /// No connection string or password, or the login was refused (exit 78).
    Credentials,
    /// The TLS the connection string asks for cannot be had: the server offers none, its
    /// certificate is not trusted or names another host, or the CA file is unusable (exit 78).
    Tls,
    /// The table or query is wrong, or a column has a type itvalue does not read (exit 2).
    Query,
    /// The extract holds more cells than the configured limit (exit 65).
    TooLarge,
}

/// `; did you mean `x`?` after a name that matches nothing, when a known name is close to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DidYouMean(pub Option<String>);

impl std::fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(name) => write!(f, "; did you mean `{name}`?"),
            None => Ok(()),
        }
    }
}

/// Why the SQL models cannot be put in an order (or a selection of them cannot be made).
#[derive(Debug, thiserror::Error)]
pub enum ModelGraphError {
    /// Two `.sql` files under the models folder have one name.
    #[error("two models are named `{name}`: {} and {}", first.display(), second.display())]
    DuplicateModel {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// A model's header comment cannot be read.
    #[error("{}: {message}", path.display())]
    BadHeader { path: PathBuf, message: String },
    /// `[model.<name>]` names no model.
    #[error("the configuration sets model `{name}`, which is not a .sql file under {}{suggestion}", dir.display())]
    UnknownSetting {
        name: String,
        dir: PathBuf,
        suggestion: DidYouMean,
    },
    /// `[model.<name>]` holds a setting that does not fit the model.
    #[error("the configuration's [model.{name}]: {message}")]
    BadSetting { name: String, message: String },
    /// A model's SQL does not parse, or is not one SELECT.
    #[error("{}: {message}", path.display())]
    NotOneSelect { path: PathBuf, message: String },
    /// A model reads a table that nothing provides.
    #[error("model `{model}` ({}) reads `{table}`, which no model or raw entity provides{suggestion}", path.display())]
    UnknownTable {
        model: String,
        path: PathBuf,
        table: String,
        suggestion: DidYouMean,
    },
    /// The figures need a model that runs after them, because it (or a model it reads) reads
    /// `metrics.*`.
    #[error("{needed_by} need model `{model}` ({}), but it reads metrics.* (itself or through {through}), so it runs after the figures are computed; the figures can read only models that do not", path.display())]
    FiguresNeedLaterModel {
        model: String,
        path: PathBuf,
        through: String,
        needed_by: String,
    },
    /// Models that wait on each other.
    #[error("these models depend on each other in a cycle: {}", .cycle.iter().map(|(m, p)| format!("{m} ({})", p.display())).collect::<Vec<_>>().join(", "))]
    Cycle { cycle: Vec<(String, PathBuf)> },
    /// A data test that cannot run as declared.
    #[error("{}: test {test} {message}", file.display())]
    BadTest {
        file: PathBuf,
        test: String,
        message: String,
    },
    /// Two data tests with one name.
    #[error("two tests are named `{name}` ({} and {}); give one a `name`", first.display(), second.display())]
    DuplicateTest {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// A `--select` term that picks nothing.
    #[error("--select {term}: {message}{suggestion}")]
    Selection {
        term: String,
        message: String,
        suggestion: DidYouMean,
    },
}

/// A model or data test that failed, as the error of a run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A model that failed to build, or was skipped because one upstream of it failed.
    Model {
        name: String,
        path: PathBuf,
        message: String,
    },
    /// An error-severity data test that failed or could not run.
    Test {
        name: String,
        model: String,
        message: String,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Model {
                name,
                path,
                message,
            } => write!(f, "model {name} ({}): {message}", path.display()),
            Failure::Test {
                name,
                model,
                message,
            } => write!(f, "test {name} on {model}: {message}"),
        }
    }
}

/// Failures, one after the other as a sentence list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures(pub Vec<Failure>);

impl std::fmt::Display for Failures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let texts: Vec<String> = self.0.iter().map(Failure::to_string).collect();
        f.write_str(&texts.join("; "))
    }
}

/// A source that rejected more rows than its threshold allows.
#[derive(Debug, Clone, PartialEq)]
pub struct OverThreshold {
    pub source: String,
    pub rejected: u64,
    pub rows: u64,
    pub reject_rate: f64,
    pub max_reject_rate: f64,
}

impl std::fmt::Display for OverThreshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "source {} rejected {} of {} rows ({:.2}%), over its max_reject_rate of {:.2}%",
            self.source,
            self.rejected,
            self.rows,
            self.reject_rate * 100.0,
            self.max_reject_rate * 100.0
        )
    }
}

/// An investment whose costs or benefits, as the figures used them, differ from its raw lines
/// converted into the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlMismatch {
    pub investment_id: String,
    /// `costs` or `benefits`.
    pub kind: &'static str,
    pub used: rust_decimal::Decimal,
    pub loaded: rust_decimal::Decimal,
    pub currency: String,
}

impl std::fmt::Display for ControlMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::format::group_thousands_decimal as money;
        write!(
            f,
            "investment {}: {} used {} {c}, raw lines converted {} {c} (difference {} {c})",
            self.investment_id,
            self.kind,
            money(self.used),
            money(self.loaded),
            money(self.used - self.loaded),
            c = self.currency,
        )
    }
}

/// Why the workbook could not be built: the sheet, and rust_xlsxwriter's reason (which states the
/// Excel limit a value exceeds), or a limit itvalue checks itself.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("sheet {sheet}: {source}")]
    Xlsx {
        sheet: String,
        #[source]
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("sheet {sheet}: {message}")]
    OverLimit { sheet: String, message: String },
    #[error("sheet {sheet}: {source}")]
    Frame {
        sheet: String,
        #[source]
        source: polars::error::PolarsError,
    },
    /// The saved package could not be finished (the bubble charts' parts).
    #[error("finishing the package: {message}")]
    Package { message: String },
}

/// Everything that can go wrong in a run. Each variant carries the context a user needs to find
/// the problem: the file, the sheet, the model or the key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file is malformed or names something that does not exist.
    #[error("configuration {}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// An input file named by the configuration does not exist or cannot be opened.
    #[error("input {}: {source}", path.display())]
    MissingInput {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A workbook lacks the sheet a source names.
    #[error("input {}: sheet `{sheet}` not found (the workbook has: {available})", path.display())]
    MissingSheet {
        path: PathBuf,
        sheet: String,
        available: String,
    },

    /// A file cannot be parsed as the kind of file it claims to be.
    #[error("input {}: cannot read it as {kind}: {message}", path.display())]
    UnreadableInput {
        path: PathBuf,
        kind: &'static str,
        message: String,
    },

    /// A file passes a configured bound (declared uncompressed size, compression ratio, cells),
    /// so it is refused before anything is inflated or allocated.
    #[error("input {}: refused: {message}", path.display())]
    InputTooLarge { path: PathBuf, message: String },

    /// A database source could not be extracted. The message names the server as
    /// `postgres://user@host:port/db` and never holds a password.
    #[error("source {source_name}: {message}")]
    Database {
        source_name: String,
        kind: DatabaseFailure,
        message: String,
    },

    /// Sources reject more rows than their thresholds allow; nothing was loaded.
    #[error("too many rejected rows, nothing loaded: {}", .0.iter().map(OverThreshold::to_string).collect::<Vec<_>>().join("; "))]
    TooManyRejects(Vec<OverThreshold>),

    /// The figures used other costs or benefits than the raw loads hold (a model dropped or
    /// repeated lines); nothing was published.
    #[error("control totals differ, nothing published (check the models between raw.costs/raw.benefits and mart_investment_monthly): {}", .0.iter().map(ControlMismatch::to_string).collect::<Vec<_>>().join("; "))]
    ControlTotals(Vec<ControlMismatch>),

    /// A source's shape breaks its entity's contract (a missing column, a duplicate header).
    #[error("input {location}: {message}")]
    Contract { location: String, message: String },

    /// Nothing to report on: no period could be chosen, or the chosen one holds no data.
    #[error("{0}")]
    NoData(String),

    /// The warehouse file could not be opened, read or written.
    #[error("warehouse {}: {context}", path.display())]
    Warehouse {
        path: PathBuf,
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A model failed to build or an error-severity data test failed; the ledger and
    /// `run_results.json` hold every model's and test's outcome.
    #[error("models failed: {0}")]
    ModelsFailed(Failures),

    /// The run published its pack, but models or tests outside what the pack needs failed.
    #[error("published, but models outside what the pack needs failed: {0}")]
    PartialRun(Failures),

    /// The run published its pack, but parts of the figures have none because of faults in the
    /// data or in how the configuration meets it (an infeasible portfolio scenario); each part's
    /// sheet and Run Info say why.
    #[error("published, but {}", .0.join("; "))]
    PartialFigures(Vec<String>),

    /// The SQL models cannot be put in an order: a cycle, a duplicate or an unknown table.
    #[error("models: {0}")]
    ModelGraph(Box<ModelGraphError>),

    /// A metric computation failed; this is a defect in itvalue, not in the data.
    #[error("metrics `{metric}`: {source}")]
    Metrics {
        metric: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },

    /// The workbook could not be produced, including an Excel limit that a value exceeds.
    #[error("workbook {}: {source}", path.display())]
    Workbook {
        path: PathBuf,
        #[source]
        source: Box<WorkbookError>,
    },

    /// A chart image could not be drawn.
    #[error("chart {}: {message}", path.display())]
    Chart { path: PathBuf, message: String },

    /// An output file or folder could not be created.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Another program (a notebook, the DuckDB shell) has the warehouse file open, so DuckDB
    /// refuses to open it for the run.
    #[error(
        "warehouse {} is open in another program ({holder}); close it there, or open it with read_only=True only while no run is going, and run again",
        path.display()
    )]
    WarehouseInUse { path: PathBuf, holder: String },

    /// A stored metric table cannot take this version's figures without losing history.
    #[error("{table}: {message}")]
    MetricTableChanged { table: String, message: String },

    /// A command that works on loaded data found none.
    #[error(
        "warehouse {} holds no loaded data yet: run `itvalue run` first",
        path.display()
    )]
    NothingLoaded { path: PathBuf },

    /// A model that a figure or sheet needs does not exist (its file was removed or renamed).
    #[error("model `{model}` is needed by {needed_by}, but it is not among the models under {}", dir.display())]
    MissingModel {
        model: String,
        needed_by: String,
        dir: PathBuf,
    },

    /// Another process holds the run lock on the warehouse.
    #[error("another run holds the lock {} (pid {holder}); wait for it to finish", path.display())]
    Locked { path: PathBuf, holder: String },

    /// Reading or writing a file failed part-way.
    #[error("I/O on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ModelGraphError> for Error {
    fn from(e: ModelGraphError) -> Self {
        Error::ModelGraph(Box::new(e))
    }
}

impl Error {
    /// The class of failure, which decides the process exit code.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Config { .. } => ErrorClass::Usage,
            Error::MissingInput { .. } | Error::MissingSheet { .. } => ErrorClass::MissingInput,
            Error::UnreadableInput { .. }
            | Error::InputTooLarge { .. }
            | Error::TooManyRejects(_)
            | Error::ControlTotals(_)
            | Error::Contract { .. }
            | Error::NoData(_)
            | Error::ModelsFailed(_)
            | Error::PartialRun(_)
            | Error::PartialFigures(_) => ErrorClass::BadData,
            Error::ModelGraph(_) => ErrorClass::Usage,
            Error::Metrics { .. } => ErrorClass::Internal,
            Error::Workbook { .. } | Error::Chart { .. } | Error::Output { .. } => {
                ErrorClass::CannotCreateOutput
            }
            Error::Warehouse { .. } | Error::Io { .. } => ErrorClass::Io,
            Error::Locked { .. } | Error::WarehouseInUse { .. } => ErrorClass::Locked,
            Error::MetricTableChanged { .. } | Error::MissingModel { .. } => ErrorClass::BadData,
            Error::NothingLoaded { .. } => ErrorClass::MissingInput,
            Error::Database { kind, .. } => match kind {
                DatabaseFailure::Unavailable => ErrorClass::SourceUnavailable,
                DatabaseFailure::Credentials | DatabaseFailure::Tls => ErrorClass::Credentials,
                DatabaseFailure::Query => ErrorClass::Usage,
                DatabaseFailure::TooLarge => ErrorClass::BadData,
            },
        }
    }

    /// Shorthand for a warehouse failure with what was being done.
    pub(crate) fn warehouse(
        path: &std::path::Path,
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Warehouse {
            path: path.to_path_buf(),
            context: context.into(),
            source: source.into(),
        }
    }

    /// Shorthand for a failed metric computation.
    pub(crate) fn metrics(metric: &'static str, source: polars::error::PolarsError) -> Self {
        Error::Metrics { metric, source }
    }
}
