//! The `itvalue` binary: parse the command line, load the configuration, call the library, print
//! the outcome and map errors to the documented exit codes.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use itvalue::job::{RunOptions, RunSummary};
use itvalue::progress::Progress;
use itvalue::{Config, Error, ErrorClass};

use cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::from(exit_code(e.class()))
        }
    }
}

/// The documented exit codes (README, "Exit codes").
fn exit_code(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::Usage => 2,
        ErrorClass::BadData => 65,
        ErrorClass::MissingInput => 66,
        ErrorClass::SourceUnavailable => 69,
        ErrorClass::Internal => 70,
        ErrorClass::CannotCreateOutput => 73,
        ErrorClass::Io => 74,
        ErrorClass::Locked => 75,
    }
}

fn dispatch(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Run { period } => {
            let config = Config::load(&cli.config)?;
            let progress = TerminalProgress::new(cli.quiet);
            let summary = itvalue::job::run(&config, &RunOptions { period: *period }, &progress)?;
            progress.clear();
            if !cli.quiet {
                print_run(&summary);
            }
            Ok(())
        }
        Command::Sample {
            scale,
            seed,
            end,
            out,
        } => {
            let written = itvalue::sample::write(out, *scale, *seed, *end)?;
            if !cli.quiet {
                println!(
                    "wrote {} sample workbooks to {}",
                    written.len(),
                    out.display()
                );
                for file in written {
                    println!("  {}", file.display());
                }
            }
            Ok(())
        }
    }
}

fn print_run(summary: &RunSummary) {
    println!("itvalue run {} for {}", summary.run_id, summary.period);
    println!(
        "  loaded   {} rows from {} inputs; {} values rejected",
        summary.rows_loaded,
        summary.inputs,
        summary.rejects.len()
    );
    println!("  models   {} built", summary.models);
    println!("  workbook {}", summary.workbook.display());
    for chart in &summary.charts {
        println!("  chart    {}", chart.display());
    }
    if summary.rejects.is_empty() {
        return;
    }
    const SHOWN: usize = 20;
    println!("rejected values (the workbook's Data Quality sheet lists them all):");
    for r in summary.rejects.iter().take(SHOWN) {
        println!("  {}  {} = {:?}: {}", r.location, r.column, r.value, r.rule);
    }
    if summary.rejects.len() > SHOWN {
        println!("  … and {} more", summary.rejects.len() - SHOWN);
    }
}

/// Prints the error and each cause that adds something to it.
fn print_error(e: &Error) {
    let mut shown = e.to_string();
    eprintln!("error: {shown}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {text}");
            shown.push_str(&text);
        }
        cause = c.source();
    }
}

fn init_logging(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("itvalue={default},warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match cli.log_format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// A progress bar on standard error when it is a terminal; nothing otherwise (cron, pipes).
struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:18} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        TerminalProgress { bar }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, step: &str, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(step.to_string());
            bar.set_length(total);
            bar.set_position(0);
            bar.set_message("");
        }
    }

    fn advance(&self, item: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(item.to_string());
            bar.inc(1);
        }
    }

    fn end(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message("done");
        }
    }
}
