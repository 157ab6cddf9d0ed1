//! The binary's operations commands: backfill (`run --from --to`), `schedule`, `history` and
//! `diff`. Each loads what it needs, calls the library, prints through `output` and returns the
//! exit code; private to the binary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use itvalue::job::backfill::{self as backfilling, PeriodOutcome};
use itvalue::job::scheduled::{self, JobOutcome};
use itvalue::job::{RunOptions, table_shapes};
use itvalue::schedule::units::{self, Invocation};
use itvalue::warehouse::Ledger;
use itvalue::{Config, Error, ErrorClass, Period};

use crate::cli::{Cli, OutputFormat};
use crate::output::{self, TerminalProgress};
use crate::{Failed, now};

/// The sources of `--source`, checked against the configuration; `None` when none are given.
///
/// # Errors
///
/// [`Error::Config`] naming an unknown or database source.
pub fn file_sources(config: &Config, names: &[String]) -> Result<Option<Vec<String>>, Error> {
    if names.is_empty() {
        return Ok(None);
    }
    for name in names {
        match config.sources.iter().find(|s| &s.name == name) {
            None => {
                let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::Config {
                    path: "--source".into(),
                    message: format!(
                        "no source is named {name:?}; the sources are: {}",
                        known.join(", ")
                    ),
                });
            }
            Some(s) if s.kind.is_database() => {
                return Err(Error::Config {
                    path: "--source".into(),
                    message: format!(
                        "{name:?} is a database source, which every run extracts; name file sources only"
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(Some(names.to_vec()))
}

/// `itvalue run --from P --to Q`.
pub fn backfill(
    cli: &Cli,
    config: &Config,
    from: Period,
    to: Period,
    options: &RunOptions,
) -> Result<(), Failed> {
    let periods = backfilling::periods(from, to)?;
    let progress = TerminalProgress::new(cli.quiet);
    let done = backfilling::backfill(
        config,
        &periods,
        options,
        &progress,
        &mut |o: &PeriodOutcome| {
            progress.suspend(|| match &o.result {
                Ok(summary) if !cli.quiet => output::print_run(summary),
                Ok(_) => {}
                Err(e) => output::print_period_failure(o.period, e),
            });
        },
    );
    progress.clear();
    let done = done?;
    let code = done.exit_code();
    if !cli.quiet || code != 0 {
        output::print_backfill(&done);
    }
    if code == 0 {
        Ok(())
    } else {
        Err(Failed::Code(code))
    }
}

/// Set by SIGTERM or SIGINT while the foreground scheduler runs.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    // A second signal ends the process at once (a run under way is then left to the next
    // start's clean-up, as a kill would leave it).
    if STOP.swap(true, Ordering::SeqCst) {
        unsafe { libc::_exit(128 + signal) };
    }
}

fn catch_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only touches an atomic and, on a second signal, calls _exit, both
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}

/// "Now" for the foreground scheduler: `ITVALUE_NOW` (if set) moves the clock's start, and time
/// then passes as it does, so a due time can be reached in a test.
struct Clock {
    started: Instant,
    at_start: DateTime<Utc>,
}

impl Clock {
    fn now(&self) -> DateTime<Utc> {
        self.at_start
            + chrono::Duration::from_std(self.started.elapsed()).unwrap_or(chrono::Duration::zero())
    }
}

/// `itvalue schedule [--once | --print-crontab | --print-systemd]`.
pub fn schedule(cli: &Cli, once: bool, crontab: bool, systemd: bool) -> Result<(), Failed> {
    let config = Config::load(&cli.config)?;
    if crontab || systemd {
        let exe = std::env::current_exe().map_err(|e| Error::Io {
            path: "itvalue".into(),
            source: e,
        })?;
        let config_file = std::path::absolute(&config.path).map_err(|e| Error::Io {
            path: config.path.clone(),
            source: e,
        })?;
        let dir = config_file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let inv = Invocation {
            exe: &exe,
            config: &config_file,
            dir: &dir,
            jobs: config
                .schedules
                .iter()
                .map(|j| (j.name.as_str(), j.cron.expression()))
                .collect(),
            zone: &config.timezone,
        };
        print!(
            "{}",
            if crontab {
                units::crontab(&inv)
            } else {
                units::systemd_units(&inv)
            }
        );
        return Ok(());
    }
    if config.schedules.is_empty() {
        return Err(Error::Config {
            path: config.path.clone(),
            message: "no [[schedule]] job: add one (name, cron) for itvalue schedule to run"
                .to_string(),
        }
        .into());
    }
    let progress = TerminalProgress::new(cli.quiet);
    let mut each = |o: &JobOutcome| {
        progress.suspend(|| output::print_job_outcome(o, cli.quiet));
    };
    if once {
        let pass = scheduled::once(&config, now()?, &progress, &mut each);
        progress.clear();
        let pass = match pass {
            Err(e) if e.class() == ErrorClass::Locked => {
                output::print_error(&e);
                eprintln!("  the due jobs wait for the next check");
                return Err(Failed::Code(e.class().exit_code()));
            }
            other => other?,
        };
        let code = pass.exit_code();
        if !cli.quiet || code != 0 {
            output::print_pass(&pass, scheduled::next_due(&config, now()?));
        }
        return if code == 0 {
            Ok(())
        } else {
            Err(Failed::Code(code))
        };
    }
    catch_signals();
    let clock = Clock {
        started: Instant::now(),
        at_start: now()?,
    };
    let path = cli.config.clone();
    let result = scheduled::foreground(
        config,
        &|| Config::load(&path),
        &|| clock.now(),
        &|| STOP.load(Ordering::SeqCst),
        &progress,
        &mut each,
        &mut |event| {
            progress.suspend(|| output::print_schedule_event(&event, cli.quiet));
        },
    );
    progress.clear();
    result?;
    if !cli.quiet {
        println!("stopped");
    }
    Ok(())
}

/// `itvalue history [--run ID] [--period P] [--limit N] [--format json]`.
pub fn history(
    cli: &Cli,
    run: Option<&str>,
    period: Option<Period>,
    limit: usize,
    format: OutputFormat,
) -> Result<(), Failed> {
    let config = Config::load(&cli.config)?;
    let ledger = Ledger::open(&config.warehouse)?;
    if let Some(run_id) = run {
        let detail = match &ledger {
            Some(l) => l.run(run_id, 20)?,
            None => None,
        };
        let Some(detail) = detail else {
            return Err(Error::Config {
                path: "--run".into(),
                message: format!(
                    "no run {run_id} in the ledger of {}; `itvalue history` lists the runs",
                    config.warehouse.display()
                ),
            }
            .into());
        };
        match format {
            OutputFormat::Json => output::print_json(&detail)?,
            OutputFormat::Text => output::print_run_detail(&detail),
        }
        return Ok(());
    }
    let runs = match &ledger {
        Some(l) => l.runs(period, limit)?,
        None => Vec::new(),
    };
    match format {
        OutputFormat::Json => output::print_json(&runs)?,
        OutputFormat::Text => output::print_history(&runs),
    }
    Ok(())
}

/// `itvalue diff --period P [--run A --run B] [--format json]`.
pub fn diff(
    cli: &Cli,
    period: Period,
    runs: &[String],
    format: OutputFormat,
) -> Result<(), Failed> {
    let config = Config::load(&cli.config)?;
    let ledger = Ledger::open(&config.warehouse)?.ok_or_else(|| Error::NothingLoaded {
        path: config.warehouse.clone(),
    })?;
    let reported = ledger.warehouse().reported_runs(period, None)?;
    let known = |id: &str| reported.iter().any(|r| r.run_id == id);
    let (before, after) = match runs {
        [] => match reported.as_slice() {
            [.., a, b] => (a.run_id.clone(), b.run_id.clone()),
            _ => {
                return Err(Error::NoData(format!(
                    "{period} has {} report(s) in the ledger; a restatement needs two: rerun the period, or name two runs with --run",
                    reported.len()
                ))
                .into());
            }
        },
        [a, b] => {
            for id in [a, b] {
                if !known(id) {
                    let listed: Vec<&str> = reported.iter().map(|r| r.run_id.as_str()).collect();
                    return Err(Error::Config {
                        path: "--run".into(),
                        message: format!(
                            "run {id} did not report {period}; the runs that did: {}",
                            if listed.is_empty() {
                                "none".to_string()
                            } else {
                                listed.join(", ")
                            }
                        ),
                    }
                    .into());
                }
            }
            (a.clone(), b.clone())
        }
        _ => {
            return Err(Error::Config {
                path: "--run".into(),
                message: "give --run twice (the earlier run, then the later), or not at all"
                    .to_string(),
            }
            .into());
        }
    };
    let changes = ledger
        .warehouse()
        .restatements(period, &before, &after, &table_shapes())?;
    match format {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "period": period.to_string(),
            "before": before,
            "after": after,
            "changes": changes,
        }))?,
        OutputFormat::Text => output::print_diff(period, &before, &after, &changes),
    }
    Ok(())
}
