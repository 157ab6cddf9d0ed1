//! The monthly run's steps: ingest, load, models, model sheets, metrics, report, all on the work
//! copy, with the pack staged for after the commit.
//!
//! In: the configuration, the run's options and its [`Steps`]. Out: a [`Finished`] run summary
//! with its staged pack, or the error that stops the run.

use crate::config::{Config, MissingRate};
use crate::error::{Error, Result};
use crate::ingest;
use crate::metrics::finance::{self, FinanceInputs};
use crate::models::{self, RunRequest};
use crate::report::{self, LeftOut, PackInputs, RunInfo, RunResults};
use crate::schedule::Period;
use crate::warehouse::ledger::{RunRecord, Status};
use crate::warehouse::{IncrementalSource, Warehouse};

use super::ledgered::{Finished, Steps};
use super::{RunOptions, RunSummary, models_step, period, sheets, threshold_error};

/// The entities the finance figures need a source for.
const FINANCE_ENTITIES: [&str; 2] = ["investments", "costs"];

pub(super) fn run(
    config: &Config,
    options: &RunOptions,
    steps: &mut Steps,
    record: &RunRecord,
) -> Result<Finished<RunSummary>> {
    let progress = steps.progress;
    let prior = steps
        .warehouse
        .prior(&incremental_sources(config), options.full_refresh)?;
    let ingested = steps.step(
        "ingest",
        |_| ingest::read_sources(config, &prior, progress),
        |i| {
            let read: u64 = i.inputs.iter().map(|f| f.rows_read).sum();
            (
                Some(read),
                format!(
                    "{} inputs, {} rejected values",
                    i.inputs.len(),
                    i.rejects.len()
                ),
            )
        },
    )?;
    for reject in &ingested.rejects {
        tracing::info!(location = %reject.location, value = %reject.value, rule = %reject.rule, "rejected");
    }
    steps.journal.ingest = Some((
        ingested.inputs.clone(),
        ingested.quality.clone(),
        ingested.rejects.clone(),
    ));
    steps.journal.counts.1 = Some(ingested.rejects.len() as u64);
    if let Some(error) = threshold_error(&ingested) {
        return Err(error);
    }
    let rows_loaded = steps.step(
        "load",
        |w| w.load(&record.run_id, &ingested),
        |rows| (Some(*rows), String::new()),
    )?;
    steps.journal.counts.0 = Some(rows_loaded);

    let period = period::reporting_period(
        options.period,
        steps.warehouse,
        options.now,
        &config.timezone,
    )?;
    steps.warehouse.set_run_period(&record.run_id, period)?;
    steps.journal.period = Some(period);

    let unfed = models_step::unfed_entities(config);
    let (outcome, project) = steps.step(
        "models",
        |w| {
            let project = models_step::prepare(config, w, record, period)?;
            let request = RunRequest {
                selected: None,
                full_refresh: options.full_refresh,
                test_only: false,
                unfed_entities: unfed.clone(),
            };
            Ok((
                models::run(w.connection(), &project, &request, progress),
                project,
            ))
        },
        |(o, _)| (Some(o.models.len() as u64), String::new()),
    )?;
    let (model_records, test_records) = models_step::records(&outcome);
    steps
        .warehouse
        .record_models(&record.run_id, &model_records, &test_records)?;
    steps.journal.models = Some((model_records, test_records));
    let results = RunResults {
        run_id: &record.run_id,
        command: &record.command,
        period: period.to_string(),
        itvalue_version: crate::VERSION,
        models: &outcome.models,
        tests: &outcome.tests,
    };

    let without_data = project.without_data(&unfed);
    let finance_gap = missing_entities(&unfed, &FINANCE_ENTITIES);
    let mut roots: Vec<(&str, String)> = Vec::new();
    if finance_gap.is_none() {
        roots.extend(
            finance::MODELS
                .iter()
                .map(|m| (*m, "the finance figures".to_string())),
        );
    }
    for sheet in &config.sheets {
        if project.model(&sheet.model).is_some() && !without_data.contains_key(&sheet.model) {
            roots.push((sheet.model.as_str(), format!("sheet {}", sheet.title)));
        }
    }
    let roots: Vec<(&str, &str)> = roots.iter().map(|(m, by)| (*m, by.as_str())).collect();
    let needed = models_step::upstream_of(&project, &roots, &config.models)?;
    let verdict = models_step::judge(&outcome, Some(&needed));
    if let Some(blocking) = verdict.blocking {
        keep_failed_results(
            config,
            period,
            &format!("run_results-{}.json", record.run_id),
            &results,
        );
        return Err(Error::ModelsFailed(blocking));
    }

    let mut left_out = Vec::new();
    let model_sheets = steps.step(
        "model sheets",
        |w| sheets::read_model_sheets(config, w, &without_data, &mut left_out),
        |s| (Some(s.len() as u64), String::new()),
    )?;
    let finance = match finance_gap {
        Some(reason) => {
            left_out.push(LeftOut {
                what: "sheets Portfolio and Monthly, and the actual-vs-budget chart".into(),
                reason,
            });
            None
        }
        None => Some(steps.step(
            "metrics",
            |w| finance_figures(w, period),
            |f| (Some(f.investments.height() as u64), String::new()),
        )?),
    };
    let fx = fx_usage(config, steps.warehouse)?;

    let run_info = RunInfo {
        run_id: record.run_id.clone(),
        started_at: record.started_at.clone(),
        config_path: config.path.clone(),
        warehouse: config.warehouse.clone(),
        inputs: ingested.inputs.clone(),
        rejects: ingested.rejects.clone(),
        quality: ingested.quality.clone(),
        models: outcome.models.clone(),
        tests: outcome.tests.clone(),
        fx: fx.clone(),
        left_out: left_out.clone(),
        failures: verdict.elsewhere.clone(),
    };
    let (pack, staged) = steps.step(
        "report",
        |_| {
            report::stage_pack(
                &config.reports,
                &PackInputs {
                    period,
                    reporting_currency: &config.reporting_currency,
                    finance: finance.as_ref(),
                    run: &run_info,
                    model_sheets: &model_sheets,
                    chart_font: config.charts.font.as_deref(),
                },
                &results,
                "run_results.json",
            )
        },
        |(p, _)| (None, p.workbook.display().to_string()),
    )?;

    let status = match verdict.elsewhere {
        Some(_) => Status::Partial,
        None => Status::Succeeded,
    };
    Ok(Finished {
        value: RunSummary {
            run_id: record.run_id.clone(),
            period,
            pack,
            inputs: ingested.inputs.len(),
            rows_loaded,
            rejects: ingested.rejects,
            quality: ingested.quality,
            models: outcome.clone(),
            left_out,
            fx,
            failures: verdict.elsewhere.clone(),
        },
        staged,
        status,
        message: verdict.elsewhere.unwrap_or_default(),
    })
}

/// The database sources that extract incrementally.
fn incremental_sources(config: &Config) -> Vec<IncrementalSource> {
    config
        .sources
        .iter()
        .filter_map(|s| {
            let db = s.database.as_ref().filter(|d| d.watermark.is_some())?;
            Some(IncrementalSource {
                name: s.name.clone(),
                entity: s.entity,
                fingerprint: db.fingerprint(s.kind),
            })
        })
        .collect()
}

/// "no source feeds costs" when some of `entities` lack a source.
fn missing_entities(
    unfed: &std::collections::BTreeSet<String>,
    entities: &[&str],
) -> Option<String> {
    let missing: Vec<&str> = entities
        .iter()
        .copied()
        .filter(|e| unfed.contains(*e))
        .collect();
    (!missing.is_empty()).then(|| format!("no source feeds {}", missing.join(" or ")))
}

/// The finance figures as of `period`, stored under `metrics.*`.
fn finance_figures(warehouse: &mut Warehouse, period: Period) -> Result<finance::Finance> {
    let read = |model: &str| {
        warehouse.frame(
            &format!("reading {model}"),
            &format!("SELECT * FROM main.{}", crate::warehouse::quote(model)),
        )
    };
    let inputs = FinanceInputs {
        monthly: read("mart_investment_monthly")?,
        investments: read("stg_investments")?,
        progress: read("stg_progress")?,
    };
    let figures = finance::compute(&inputs, period)?;
    warehouse.store_metrics(
        period,
        &[
            ("investment_finance", &figures.investments),
            ("portfolio_monthly", &figures.portfolio_monthly),
        ],
    )?;
    Ok(figures)
}

/// How cost and benefit lines were converted into the reporting currency, in words for Run Info
/// and the run's summary: the policy, then per kind of line how many took which rate.
fn fx_usage(config: &Config, warehouse: &Warehouse) -> Result<Vec<String>> {
    let counts = warehouse.lines_by_fx_rule()?;
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let policy = match config.fx.missing_rate {
        MissingRate::Latest => "the latest known rate",
        MissingRate::Budget => "the budget rate of fx.budget_rates",
        MissingRate::None => "none (such lines stay without a rate)",
    };
    let mut lines = vec![format!(
        "months without a rate take {policy} (fx.missing_rate = \"{}\")",
        config.fx.missing_rate.as_str()
    )];
    // From the rate a reader expects to the one that needs a second look.
    let rank = |rule: Option<&str>| match rule {
        Some("month") => 0,
        Some("reporting") => 1,
        Some("latest") => 2,
        Some("budget") => 3,
        Some(_) => 4,
        None => 5,
    };
    for kind in ["cost", "benefit"] {
        let mut of_kind: Vec<&(String, Option<String>, u64)> =
            counts.iter().filter(|(k, _, _)| k == kind).collect();
        of_kind.sort_by_key(|(_, rule, _)| rank(rule.as_deref()));
        let parts: Vec<String> = of_kind
            .into_iter()
            .map(|(_, rule, n)| {
                let how = match rule.as_deref() {
                    Some("month") => "at their month's rate".to_string(),
                    Some("reporting") => format!("in {}", config.reporting_currency),
                    Some("latest") => "at the latest known rate".to_string(),
                    Some("budget") => "at the budget rate".to_string(),
                    Some(other) => format!("by rule {other}"),
                    None => "without a rate (their figures are empty)".to_string(),
                };
                format!("{} {how}", crate::format::group_thousands(*n as i64))
            })
            .collect();
        if !parts.is_empty() {
            lines.push(format!("{kind} lines: {}", parts.join(", ")));
        }
    }
    Ok(lines)
}

/// Writes a failed run's model results beside the pack under their own name, so the period's
/// `run_results.json` stays the one of its published pack; a failure to write them is logged.
pub(super) fn keep_failed_results(
    config: &Config,
    period: Period,
    file_name: &str,
    results: &RunResults,
) {
    match report::write_results_now(&config.reports, period, file_name, results) {
        Ok(path) => tracing::info!(file = %path.display(), "kept the failed run's model results"),
        Err(e) => tracing::error!(error = %e, "could not keep the failed run's model results"),
    }
}
