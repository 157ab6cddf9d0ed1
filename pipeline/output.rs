//! What the `itvalue` binary prints: the run's summary, the models' and sources' tables, errors,
//! and the progress bar on a terminal. Private to the binary: the library never prints.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use itvalue::Error;
use itvalue::ingest::{Reject, SourceQuality, Verdict};
use itvalue::job::{ModelsSummary, RunSummary};
use itvalue::models::{ModelStatus, Outcome, Project, TestStatus};
use itvalue::progress::Progress;

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
    println!("  workbook {}", summary.pack.workbook.display());
    if let Some(folder) = summary.pack.charts.first().and_then(|c| c.parent()) {
        // Each chart is written twice, as PNG and as SVG.
        println!(
            "  charts   {} as PNG and SVG in {}/",
            summary.pack.charts.len() / 2,
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
    print_rejects(&summary.rejects, 20);
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
