//! The `itvalue` binary: parse the command line, load the configuration, call the library, print
//! the outcome and map errors to the documented exit codes.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use itvalue::ingest::{Reject, SourceQuality, Verdict};
use itvalue::job::{ModelsOptions, ModelsSummary, RunOptions, RunSummary};
use itvalue::models::{LineageFormat, ModelStatus, Outcome, Project, TestStatus};
use itvalue::progress::Progress;
use itvalue::{Config, Error, ErrorClass};

use cli::{Cli, Command, GraphFormat, LogFormat, ModelsCommand};

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
        ErrorClass::Credentials => 78,
    }
}

fn dispatch(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Run {
            period,
            full_refresh,
        } => {
            let config = Config::load(&cli.config)?;
            let progress = TerminalProgress::new(cli.quiet);
            let options = RunOptions {
                period: *period,
                full_refresh: *full_refresh,
                now: now()?,
            };
            let summary = itvalue::job::run(&config, &options, &progress);
            progress.clear();
            let summary = summary?;
            if !cli.quiet {
                print_run(&summary);
            }
            match summary.failure() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        Command::Models { command } => models(cli, command),
        Command::Check { show } => {
            let config = Config::load(&cli.config)?;
            let progress = TerminalProgress::new(cli.quiet);
            let ingested = itvalue::job::check(&config, &progress)?;
            progress.clear();
            if !cli.quiet {
                print_quality(&ingested.quality);
                print_rejects(&ingested.rejects, *show);
            }
            match itvalue::job::threshold_error(&ingested) {
                Some(e) => Err(e),
                None => Ok(()),
            }
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

/// The instant a run takes as "now": the clock, or `ITVALUE_NOW` (RFC 3339) to rerun a month as
/// it was run then, or to test the period rule.
fn now() -> Result<DateTime<Utc>, Error> {
    match std::env::var("ITVALUE_NOW") {
        Err(_) => Ok(Utc::now()),
        Ok(text) => DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::Config {
                path: "ITVALUE_NOW".into(),
                message: format!(
                    "{text:?} is not an RFC 3339 time such as 2026-11-01T06:00:00Z: {e}"
                ),
            }),
    }
}

fn models(cli: &Cli, command: &ModelsCommand) -> Result<(), Error> {
    let config = Config::load(&cli.config)?;
    let options = match command {
        ModelsCommand::List => {
            print_models(&itvalue::job::model_project(&config)?);
            return Ok(());
        }
        ModelsCommand::Graph { format } => {
            let format = match format {
                GraphFormat::Mermaid => LineageFormat::Mermaid,
                GraphFormat::Dot => LineageFormat::Dot,
            };
            let project = itvalue::job::model_project(&config)?;
            print!("{}", itvalue::models::lineage(&project.models, format));
            return Ok(());
        }
        ModelsCommand::Run {
            select,
            period,
            full_refresh,
        } => ModelsOptions {
            select: select.clone(),
            period: *period,
            full_refresh: *full_refresh,
            test_only: false,
            now: now()?,
        },
        ModelsCommand::Test { select, period } => ModelsOptions {
            select: select.clone(),
            period: *period,
            full_refresh: false,
            test_only: true,
            now: now()?,
        },
    };
    let progress = TerminalProgress::new(cli.quiet);
    let summary = itvalue::job::models_command(&config, &options, &progress);
    progress.clear();
    let summary: ModelsSummary = summary?;
    if !cli.quiet {
        println!(
            "itvalue {} {} for {}",
            if options.test_only {
                "models test"
            } else {
                "models run"
            },
            summary.run_id,
            summary.period
        );
        print_outcome(&summary.outcome);
        println!("  results  {}", summary.results_file.display());
    }
    Ok(())
}

fn print_models(project: &Project) {
    println!(
        "{:<34} {:<12} {:>5}  reads",
        "model", "materialized", "tests"
    );
    for model in &project.models {
        let tests = project
            .tests
            .iter()
            .filter(|t| t.model == model.name)
            .count();
        let reads: Vec<&str> = model
            .depends_on
            .iter()
            .chain(&model.reads)
            .map(String::as_str)
            .collect();
        println!(
            "{:<34} {:<12} {:>5}  {}",
            model.name,
            model.materialization.as_str(),
            tests,
            reads.join(", ")
        );
    }
}

/// One line per model and per test that did not simply pass.
fn print_outcome(outcome: &Outcome) {
    for m in &outcome.models {
        let rows = m.rows.map_or("—".to_string(), |r| r.to_string());
        let note = if m.status == ModelStatus::Success {
            String::new()
        } else {
            format!("  {}", m.message)
        };
        println!(
            "  model    {:<34} {:<8} {:>9} rows {:>6} ms{note}",
            m.name,
            m.status.as_str(),
            rows,
            m.milliseconds
        );
    }
    let passed = outcome
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Pass)
        .count();
    println!("  tests    {passed} of {} passed", outcome.tests.len());
    for t in outcome
        .tests
        .iter()
        .filter(|t| t.status != TestStatus::Pass)
    {
        println!(
            "  test     {:<44} {:<8} {}",
            t.name,
            t.status.as_str(),
            t.message
        );
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
    let built = summary
        .models
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Success)
        .count();
    let passed = summary
        .models
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Pass)
        .count();
    let skipped = summary
        .models
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Skipped)
        .count();
    let skipped = if skipped > 0 {
        format!(" ({skipped} skipped)")
    } else {
        String::new()
    };
    println!(
        "  models   {built} built; {passed} of {} data tests passed{skipped}",
        summary.models.tests.len()
    );
    for t in summary
        .models
        .tests
        .iter()
        .filter(|t| t.status == TestStatus::Warn)
    {
        println!("  warning  test {}: {}", t.name, t.message);
    }
    println!("  workbook {}", summary.pack.workbook.display());
    for chart in &summary.pack.charts {
        println!("  chart    {}", chart.display());
    }
    for line in summary.fx.iter().skip(1) {
        println!("  fx       {line}");
    }
    for item in &summary.left_out {
        println!("  left out {}: {}", item.what, item.reason);
    }
    for m in summary
        .models
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Skipped && m.without_data)
    {
        println!("  skipped  model {}: {}", m.name, m.message);
    }
    for q in summary
        .quality
        .iter()
        .filter(|q| q.verdict == Verdict::Warn)
    {
        println!(
            "  warning  source {} rejected {:.2}% of its rows, over its max_reject_rate of {:.2}%",
            q.source,
            q.reject_rate * 100.0,
            q.max_reject_rate * 100.0
        );
    }
    print_rejects(&summary.rejects, 20);
}

/// Lists the first `shown` rejects with their locations.
fn print_rejects(rejects: &[Reject], shown: usize) {
    if rejects.is_empty() {
        return;
    }
    println!(
        "rejected values ({} in all; the workbook's Data Quality sheet and ledger.rejects hold every one):",
        rejects.len()
    );
    for r in rejects.iter().take(shown) {
        println!("  {}  {} = {:?}: {}", r.location, r.column, r.value, r.rule);
    }
    if rejects.len() > shown {
        println!("  … and {} more", rejects.len() - shown);
    }
}

/// One line per source: rows, rejects and the three data-quality scores.
fn print_quality(quality: &[SourceQuality]) {
    let percent =
        |share: Option<f64>| share.map_or("—".to_string(), |s| format!("{:.2}%", s * 100.0));
    println!(
        "{:<18} {:<16} {:>8} {:>9} {:>11} {:>13} {:>9} {:>10} {:>8}",
        "source",
        "entity",
        "rows",
        "rejected",
        "superseded",
        "completeness",
        "accuracy",
        "integrity",
        "verdict"
    );
    for q in quality {
        println!(
            "{:<18} {:<16} {:>8} {:>9} {:>11} {:>13} {:>9} {:>10} {:>8}",
            q.source,
            q.entity.name(),
            q.rows,
            q.rows_rejected,
            q.rows_superseded,
            percent(q.completeness),
            percent(q.accuracy),
            percent(q.integrity),
            q.verdict.as_str()
        );
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
