//! The command line, as clap sees it. Only `main.rs` uses this module.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use itvalue::Period;

/// The exit codes, for `--help` (README, "Exit codes").
const EXIT_CODES: &str = "\
Exit codes:
  0   success
  2   bad command line or configuration (the message names the file and the key)
  65  the data breaks its contract (too many rejects, a failing model or error-severity test,
      control totals that differ, ...); also a run that published its pack while a model
      outside what the pack needs failed
  66  an input file or sheet is missing; models run before any run has loaded data
  69  a database source is unavailable
  70  an internal error (a bug: please report it)
  73  an output (workbook, chart, folder) cannot be created
  74  reading or writing failed part-way, including the warehouse
  75  another run holds the lock on the warehouse, or another program has it open
  78  credentials: a connection variable or password is missing, the login is refused, or TLS fails
A run of several periods (--from/--to, schedule) exits with the code of the period that
failed, else 65 if one published with failures outside its pack, else 0.";

/// itvalue: IT investment and value analytics, from spreadsheets to the committee workbook.
#[derive(Debug, Parser)]
#[command(name = "itvalue", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// The pipeline configuration.
    #[arg(
        long,
        global = true,
        default_value = "pipeline.toml",
        value_name = "FILE"
    )]
    pub config: PathBuf,

    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log more (-v for steps, -vv for detail).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log line format on standard error; json writes one object per line, at info level
    /// unless --quiet, for log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// A language of the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PackLang {
    En,
    Zh,
}

impl From<PackLang> for itvalue::labels::Lang {
    fn from(lang: PackLang) -> Self {
        match lang {
            PackLang::En => itvalue::labels::Lang::En,
            PackLang::Zh => itvalue::labels::Lang::Zh,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the monthly job: ingest, models, metrics, report.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// The month to report, YYYY-MM [default: the latest complete month with actual costs].
        #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to"])]
        period: Option<Period>,
        /// Backfill: run every month from this one to --to, in order, each with its own pack.
        #[arg(long, value_name = "YYYY-MM", requires = "to")]
        from: Option<Period>,
        /// The last month of a backfill.
        #[arg(long, value_name = "YYYY-MM", requires = "from")]
        to: Option<Period>,
        /// Rebuild from the sources: read every file again (no reuse of unchanged ones), extract
        /// incremental database sources in full, rebuild incremental models in full. In a
        /// backfill, the first period only.
        #[arg(long)]
        full_refresh: bool,
        /// Read only this file source (repeat for several); the others keep what the last load
        /// kept of them.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// The language of the pack's words [default: the configuration's report.language, else en].
        #[arg(long, value_enum)]
        lang: Option<PackLang>,
    },
    /// Run the jobs of [[schedule]] that are due, catching up periods missed while the machine
    /// was off; without --once, stay in the foreground and run each job when it is due.
    #[command(after_help = EXIT_CODES)]
    Schedule {
        /// Run what is due now and exit (for cron or a systemd timer).
        #[arg(long, conflicts_with_all = ["print_crontab", "print_systemd"])]
        once: bool,
        /// Print a crontab line that runs `schedule --once` for this configuration.
        #[arg(long, conflicts_with = "print_systemd")]
        print_crontab: bool,
        /// Print a systemd service and timer unit pair that run `schedule --once`.
        #[arg(long)]
        print_systemd: bool,
    },
    /// List the runs in the ledger, or show one in full.
    History {
        /// Show this run in full: steps (with their times and the peak memory up to each), inputs (reused or read), models, tests, outputs, rejects.
        #[arg(long = "run", value_name = "ID")]
        run: Option<String>,
        /// Only the runs of this month.
        #[arg(long, value_name = "YYYY-MM")]
        period: Option<Period>,
        /// How many runs to list, newest first.
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: usize,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// What a rerun of a period restated: the figures two runs reported differently.
    Diff {
        /// The month whose reports to compare.
        #[arg(long, value_name = "YYYY-MM")]
        period: Period,
        /// The two runs to compare, earlier first [default: the period's last two reports].
        #[arg(long = "run", value_name = "ID", num_args = 1, action = clap::ArgAction::Append)]
        runs: Vec<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// The SQL models on their own: list, lineage, build, test.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Validate every source against its contract without loading anything.
    Check {
        /// How many rejects to list (all are counted).
        #[arg(long, default_value_t = 20, value_name = "N")]
        show: usize,
    },
    /// Write a realistic sample portfolio as one workbook per entity.
    Sample {
        /// Size relative to the shipped sample (1 = about 200 investments, 5,000 demands).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Seed of the random generator; the same seed gives the same bytes.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The last month of the sample's 36 months of history.
        #[arg(long, value_name = "YYYY-MM", default_value = "2026-10")]
        end: Period,
        /// The folder to write the workbooks into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write the cost lines as one workbook per month, costs/costs-YYYY-MM.xlsx, instead of
        /// costs.xlsx (point the costs source at the glob costs/costs-*.xlsx).
        #[arg(long)]
        costs_by_month: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the models in build order with their materialization, dependencies and tests.
    List,
    /// Print the lineage graph (raw tables to models).
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Build models (and run their tests) on the warehouse as last loaded.
    Run {
        /// Models to build: NAME, NAME+ (and downstream), +NAME (and upstream); several allowed.
        #[arg(long, short, value_name = "SELECTION")]
        select: Option<String>,
        /// The period incremental models replace [default: the latest complete month].
        #[arg(long, value_name = "YYYY-MM")]
        period: Option<Period>,
        /// Rebuild incremental models in full.
        #[arg(long)]
        full_refresh: bool,
    },
    /// Run the data tests against the models as they are.
    Test {
        /// Models whose tests to run (same syntax as for `run`).
        #[arg(long, short, value_name = "SELECTION")]
        select: Option<String>,
        #[arg(long, value_name = "YYYY-MM")]
        period: Option<Period>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}
