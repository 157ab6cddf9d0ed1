//! The command line, as clap sees it. Only `main.rs` uses this module.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use itvalue::Period;

/// itvalue: IT investment and value analytics, from spreadsheets to the committee workbook.
#[derive(Debug, Parser)]
#[command(name = "itvalue", version, about, long_about = None)]
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

    /// Log line format on standard error.
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
    Run {
        /// The month to report, YYYY-MM [default: the latest complete month with actual costs].
        #[arg(long, value_name = "YYYY-MM")]
        period: Option<Period>,
        /// Extract incremental database sources in full and rebuild incremental models in full.
        #[arg(long)]
        full_refresh: bool,
        /// The language of the pack's words [default: the configuration's report.language, else en].
        #[arg(long, value_enum)]
        lang: Option<PackLang>,
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
pub enum GraphFormat {
    Mermaid,
    Dot,
}
