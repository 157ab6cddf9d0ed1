//! The `itvalue` binary: parse the command line, load the configuration, call the library, print
//! the outcome and map errors to the documented exit codes.

mod cli;
mod output;

mod operations;

use std::io::IsTerminal;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Parser;
use itvalue::job::{ModelsOptions, RunOptions};
use itvalue::models::LineageFormat;
use itvalue::{Config, Error};

use cli::{Cli, Command, GraphFormat, LogFormat, ModelsCommand};
use output::{TerminalProgress, print_error};

/// How a command ended: an error to print, or only the code (its story is already printed).
pub enum Failed {
    Error(Error),
    Code(u8),
}

impl From<Error> for Failed {
    fn from(e: Error) -> Self {
        Failed::Error(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed::Error(e)) => {
            print_error(&e);
            ExitCode::from(e.class().exit_code())
        }
        Err(Failed::Code(code)) => ExitCode::from(code),
    }
}

fn dispatch(cli: &Cli) -> Result<(), Failed> {
    match &cli.command {
        Command::Run {
            period,
            from,
            to,
            full_refresh,
            sources,
            lang,
        } => {
            let config = Config::load(&cli.config)?;
            let options = RunOptions {
                period: *period,
                full_refresh: *full_refresh,
                now: now()?,
                sources: operations::file_sources(&config, sources)?,
                job: None,
                lang: lang.map(Into::into),
            };
            if let (Some(from), Some(to)) = (from, to) {
                return operations::backfill(cli, &config, *from, *to, &options);
            }
            let progress = TerminalProgress::new(cli.quiet);
            let summary = itvalue::job::run(&config, &options, &progress);
            progress.clear();
            let summary = summary?;
            if !cli.quiet {
                output::print_run(&summary);
            }
            match summary.failure() {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
        Command::Schedule {
            once,
            print_crontab,
            print_systemd,
        } => operations::schedule(cli, *once, *print_crontab, *print_systemd),
        Command::History {
            run,
            period,
            limit,
            format,
        } => operations::history(cli, run.as_deref(), *period, *limit, *format),
        Command::Diff {
            period,
            runs,
            format,
        } => operations::diff(cli, *period, runs, *format),
        Command::Models { command } => Ok(models(cli, command)?),
        Command::Check { show } => {
            let config = Config::load(&cli.config)?;
            let progress = TerminalProgress::new(cli.quiet);
            let ingested = itvalue::job::check(&config, &progress)?;
            progress.clear();
            if !cli.quiet {
                output::print_quality(&ingested.quality);
                output::print_rejects(&ingested.rejects, *show);
            }
            match itvalue::job::threshold_error(&ingested) {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
        Command::Sample {
            scale,
            seed,
            end,
            out,
            costs_by_month,
        } => {
            let written =
                itvalue::sample::write_costs_by_month(out, *scale, *seed, *end, *costs_by_month)?;
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
/// it was run then, or to test the period rule and the schedule.
pub fn now() -> Result<DateTime<Utc>, Error> {
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
            output::print_models(&itvalue::job::model_project(&config)?);
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
            sources: None,
            job: None,
        },
        ModelsCommand::Test { select, period } => ModelsOptions {
            select: select.clone(),
            period: *period,
            full_refresh: false,
            test_only: true,
            now: now()?,
            sources: None,
            job: None,
        },
    };
    let progress = TerminalProgress::new(cli.quiet);
    let summary = itvalue::job::models_command(&config, &options, &progress);
    progress.clear();
    let summary = summary?;
    if !cli.quiet {
        output::print_models_run(&summary, options.test_only);
    }
    Ok(())
}

fn init_logging(cli: &Cli) {
    // Log collectors reading JSON lines want the runs' events (start, steps, end) by default.
    let json = cli.log_format == LogFormat::Json;
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) if json => "info",
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
