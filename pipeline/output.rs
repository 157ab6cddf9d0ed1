//! What the `itvalue` binary prints: the run's summary, the models' and sources' tables, errors,
//! and the progress bar on a terminal. Private to the binary: the library never prints.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use itvalue::ingest::{Reject, SourceQuality, Verdict};
use itvalue::job::backfill::Backfill;
use itvalue::job::scheduled::{Event, JobOutcome, Pass, Ran};
use itvalue::job::{ModelsSummary, RunSummary};
use itvalue::models::{ModelStatus, Outcome, Project, TestStatus};
use itvalue::progress::Progress;
use itvalue::warehouse::history::{RunDetail, RunRow};
use itvalue::warehouse::reported::Restatement;
use itvalue::{Error, Period};

pub fn print_models(project: &Project) {
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
pub fn print_outcome(outcome: &Outcome) {
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

pub fn print_run(summary: &RunSummary) {
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
    let failed = summary
        .models
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Error)
        .count();
    let after_failure = summary
        .models
        .models
        .iter()
        .filter(|m| m.status == ModelStatus::Skipped && !m.without_data)
        .count();
    let mut models = format!("{built} built");
    if failed > 0 {
        models.push_str(&format!(", {failed} failed"));
    }
    if after_failure > 0 {
        models.push_str(&format!(", {after_failure} skipped after a failure"));
    }
    println!(
        "  models   {models}; {passed} of {} data tests passed{skipped}",
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
    if summary.reused_inputs > 0 {
        println!(
            "  reused   {} of {} inputs unchanged since they were last typed (not read again)",
            summary.reused_inputs, summary.inputs
        );
    }
    match &summary.restated {
        Some(r) if !r.changes.is_empty() => println!(
            "  restated {} figures differ from run {} (itvalue diff --period {}; Run Info lists them)",
            r.changes.len(),
            r.since_run,
            summary.period
        ),
        Some(r) => println!(
            "  restated nothing: every figure is as run {} reported it",
            r.since_run
        ),
        None => {}
    }
    for late in &summary.late {
        println!("  late     {late}");
    }
    println!("  workbook {}", summary.pack.workbook.display());
    if let Some(folder) = summary.pack.charts.first().and_then(|c| c.parent()) {
        // Each chart is written twice, as PNG and as SVG.
        println!(
            "  charts   {} as PNG and SVG in {}/",
            summary.pack.charts.len() / 2,
            folder.display()
        );
    }
    if let Some(folder) = summary.extracts.first().and_then(|e| e.parent()) {
        println!(
            "  extracts {} Parquet files in {}/",
            summary.extracts.len(),
            folder.display()
        );
    }
    for line in summary.fx.iter().skip(1) {
        println!("  fx       {line}");
    }
    for item in &summary.left_out {
        println!("  left out {}: {}", item.what, item.reason);
    }
    for fault in &summary.faults {
        println!("  fault    {fault}");
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
    println!(
        "  took     {}",
        duration(summary.duration.as_millis() as i64)
    );
    print_rejects(&summary.rejects, 20);
}

/// `1.2 s`, `3 min 4 s`.
fn duration(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// A period of several whose run failed: what failed, on standard error.
pub fn print_period_failure(period: Period, e: &Error) {
    eprintln!("period {period} failed (exit {}):", e.class().exit_code());
    print_error(e);
}

/// The end of a backfill: the periods, what they loaded and reused, and which failed.
pub fn print_backfill(done: &Backfill) {
    let ran: Vec<&RunSummary> = done
        .outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .collect();
    let first = done.outcomes.first().map(|o| o.period.to_string());
    let last = done.outcomes.last().map(|o| o.period.to_string());
    println!(
        "backfill: {} of {} periods published ({} … {}) in {}",
        ran.len(),
        done.outcomes.len() + done.not_run.len(),
        first.unwrap_or_default(),
        last.unwrap_or_default(),
        duration(done.duration.as_millis() as i64)
    );
    let rows: u64 = ran.iter().map(|r| r.rows_loaded).sum();
    let rejects: usize = ran.iter().map(|r| r.rejects.len()).sum();
    let inputs: usize = ran.iter().map(|r| r.inputs).sum();
    let reused: usize = ran.iter().map(|r| r.reused_inputs).sum();
    let restated: usize = ran
        .iter()
        .filter_map(|r| r.restated.as_ref())
        .map(|r| r.changes.len())
        .sum();
    println!(
        "  loaded   {rows} rows, {rejects} rejected values; {reused} of {inputs} inputs reused; {restated} figures restated"
    );
    if let Some(failed) = done.failed()
        && let Err(e) = &failed.result
    {
        println!(
            "  failed   {} (exit {}): {e}",
            failed.period,
            e.class().exit_code()
        );
        println!(
            "  kept     the periods before it stay published; not run: {}",
            if done.not_run.is_empty() {
                "none".to_string()
            } else {
                done.not_run
                    .iter()
                    .map(Period::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
}

/// One scheduled run as it ends.
pub fn print_job_outcome(o: &JobOutcome, quiet: bool) {
    match &o.result {
        Ok(ran) if !quiet => {
            println!(
                "job {} due {} for {}:",
                o.job,
                o.due.at.format("%Y-%m-%d %H:%M UTC"),
                o.due.period
            );
            match ran {
                Ran::Pack(summary) => print_run(summary),
                Ran::Models(summary) => print_models_run(summary, false),
            }
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!(
                "job {} due {} for {} failed (exit {}):",
                o.job,
                o.due.at.format("%Y-%m-%d %H:%M UTC"),
                o.due.period,
                e.class().exit_code()
            );
            print_error(e);
        }
    }
}

/// The end of a scheduler pass.
pub fn print_pass(pass: &Pass, next: Option<(DateTime<Utc>, String)>) {
    if pass.outcomes.is_empty() {
        println!("schedule: nothing is due");
    } else {
        let failed = pass.outcomes.iter().filter(|o| o.result.is_err()).count();
        let runs = pass.outcomes.len();
        println!(
            "schedule: {runs} run{}, {} published, {failed} failed",
            if runs == 1 { "" } else { "s" },
            runs - failed
        );
    }
    for (job, periods) in &pass.waiting {
        println!(
            "  waiting  job {job}: {} wait for the next check",
            list(periods)
        );
    }
    for (job, periods) in &pass.too_old {
        println!(
            "  skipped  job {job}: {} missed, older than its catch_up; run them with itvalue run --from … --to …",
            list(periods)
        );
    }
    if let Some((at, job)) = next {
        println!("  next     {job} at {}", at.format("%Y-%m-%d %H:%M UTC"));
    }
}

fn list(periods: &[Period]) -> String {
    periods
        .iter()
        .map(Period::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the foreground scheduler says between passes.
pub fn print_schedule_event(event: &Event, quiet: bool) {
    match event {
        Event::Pass(pass) if !quiet && !pass.outcomes.is_empty() => print_pass(pass, None),
        Event::Waiting(Some((at, job))) if !quiet => {
            println!(
                "schedule: waiting for {job} at {}",
                at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        Event::Waiting(None) if !quiet => {
            println!("schedule: no job is scheduled; reading the configuration again in an hour");
        }
        Event::Busy(e) => eprintln!("schedule: {e}; trying again in a minute"),
        Event::ConfigError(e) => {
            eprintln!(
                "schedule: the configuration could not be read again; keeping the last good one:"
            );
            print_error(e);
        }
        _ => {}
    }
}

/// Serialises `value` as pretty JSON on standard output.
///
/// # Errors
///
/// [`Error::Output`] when it cannot be serialised.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Output {
        path: "stdout".into(),
        source: e.into(),
    })?;
    println!("{text}");
    Ok(())
}

/// `itvalue history`: one line per run, newest first.
pub fn print_history(runs: &[RunRow]) {
    if runs.is_empty() {
        println!("no runs in the ledger yet");
        return;
    }
    println!(
        "{:<26} {:<7} {:<11} {:<16} {:<9} {:>4} {:>9} {:>11} {:>9} {:>7} {:>10} {:>9} {:>7}",
        "run",
        "period",
        "command",
        "job",
        "status",
        "exit",
        "duration",
        "inputs",
        "rows",
        "rejects",
        "models",
        "tests",
        "outputs"
    );
    for r in runs {
        println!(
            "{:<26} {:<7} {:<11} {:<16} {:<9} {:>4} {:>9} {:>11} {:>9} {:>7} {:>10} {:>9} {:>7}",
            r.run_id,
            r.period.as_deref().unwrap_or("—"),
            r.command,
            r.job.as_deref().unwrap_or("—"),
            r.status,
            r.exit_code.map_or("—".to_string(), |c| c.to_string()),
            r.duration_ms.map_or("—".to_string(), duration),
            if r.inputs_reused > 0 {
                format!("{} ({} kept)", r.inputs, r.inputs_reused)
            } else {
                r.inputs.to_string()
            },
            r.rows_loaded.map_or("—".to_string(), |n| n.to_string()),
            r.rejects.map_or("—".to_string(), |n| n.to_string()),
            if r.models_failed > 0 {
                format!("{} ({} ✗)", r.models_built, r.models_failed)
            } else {
                r.models_built.to_string()
            },
            format!("{}/{}", r.tests_passed, r.tests),
            r.outputs
        );
    }
}

/// `itvalue history --run ID`: one run in full.
pub fn print_run_detail(d: &RunDetail) {
    let r = &d.run;
    println!("run      {}", r.run_id);
    println!("command  {}", r.command);
    println!("period   {}", r.period.as_deref().unwrap_or("—"));
    if let Some(job) = &r.job {
        println!(
            "job      {job} (due {} UTC)",
            r.due_at.as_deref().unwrap_or("—")
        );
    }
    println!(
        "status   {} (exit {})",
        r.status,
        r.exit_code.map_or("—".to_string(), |c| c.to_string())
    );
    println!(
        "started  {} UTC; finished {}; took {}",
        r.started_at,
        r.finished_at.as_deref().unwrap_or("—"),
        r.duration_ms.map_or("—".to_string(), duration)
    );
    println!("version  itvalue {}", r.tool_version);
    println!("config   {}", d.config_path);
    if let Some(m) = r.message.as_deref().filter(|m| !m.is_empty()) {
        println!("message  {m}");
    }
    println!("steps:");
    for s in &d.steps {
        println!(
            "  {:<26} {:<9} {:>9} rows {:>7} MiB  {}  {}",
            s.step,
            s.status,
            s.rows.map_or("—".to_string(), |n| n.to_string()),
            s.peak_rss_mib.map_or("—".to_string(), |n| n.to_string()),
            s.started_at,
            s.detail.as_deref().unwrap_or("")
        );
    }
    println!(
        "inputs ({}, {} reused):",
        d.inputs.len(),
        d.inputs.iter().filter(|i| i.reused_from.is_some()).count()
    );
    for i in &d.inputs {
        println!(
            "  {:<18} {:>8} read {:>8} loaded {:>6} rejected  {}  {}{}",
            i.source,
            i.rows_read,
            i.rows_loaded,
            i.rows_rejected,
            &i.sha256[..i.sha256.len().min(12)],
            i.path,
            i.reused_from
                .as_deref()
                .map(|run| format!("  (reused: typed by run {run})"))
                .unwrap_or_default()
        );
    }
    println!("models ({}):", d.models.len());
    for m in &d.models {
        println!(
            "  {:<34} {:<8} {:>9} rows {:>6} ms  {}",
            m.name,
            m.status,
            m.rows.map_or("—".to_string(), |n| n.to_string()),
            m.milliseconds,
            m.message
        );
    }
    let passed = d.tests.iter().filter(|t| t.status == "pass").count();
    println!("tests    {passed} of {} passed", d.tests.len());
    for t in d.tests.iter().filter(|t| t.status != "pass") {
        println!("  {:<44} {:<8} {}", t.name, t.status, t.message);
    }
    println!("outputs ({}):", d.outputs.len());
    for o in &d.outputs {
        println!("  {:<8} {}", o.kind, o.path);
    }
    let total = r.rejects.unwrap_or(d.rejects.len() as i64);
    if total > 0 {
        println!("rejects ({total} in all; ledger.rejects holds every one):");
        for x in &d.rejects {
            println!("  {}  {} = {:?}: {}", x.location, x.column, x.value, x.rule);
        }
    }
}

/// `itvalue diff`: what the later run reported differently.
pub fn print_diff(period: Period, before: &str, after: &str, changes: &[Restatement]) {
    println!("{period}: run {after} against run {before}");
    if changes.is_empty() {
        println!("no figure differs");
        return;
    }
    println!(
        "{:<24} {:<22} {:<8} {:<28} {:>20} {:>20}",
        "table", "key", "change", "figure", "before", "after"
    );
    for c in changes {
        println!(
            "{:<24} {:<22} {:<8} {:<28} {:>20} {:>20}",
            c.table,
            c.key,
            c.change.as_str(),
            c.figure,
            c.before.as_deref().unwrap_or("—"),
            c.after.as_deref().unwrap_or("—")
        );
    }
    println!("{} differences", changes.len());
}

/// Lists the first `shown` rejects with their locations.
pub fn print_rejects(rejects: &[Reject], shown: usize) {
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
pub fn print_quality(quality: &[SourceQuality]) {
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
pub fn print_error(e: &Error) {
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

/// What a models-only run did, in a few lines.
pub fn print_models_run(summary: &ModelsSummary, test_only: bool) {
    println!(
        "itvalue {} {} for {}",
        if test_only {
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

/// A progress bar on standard error when it is a terminal; nothing otherwise (cron, pipes).
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    pub fn new(quiet: bool) -> Self {
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

    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Runs `print` with the bar hidden, so that text printed between runs does not mix with
    /// it; the bar draws itself again afterwards.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
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
