//! The monthly run's steps on the work copy: ingest, load, the models (those that read the
//! figures after them), the metric families, the model sheets and the staged pack.
//!
//! In: the configuration, the run's options and its [`Steps`]. Out: a [`Finished`] run summary
//! with its staged pack, or the error that stops the run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use polars::prelude::DataFrame;

use crate::config::{Config, MissingRate};
use crate::error::{Error, Failures, Result};
use crate::ingest::{self, Ingested};
use crate::labels::Lang;
use crate::metrics::controls::{self, ControlTotals, LoadedMoney};
use crate::metrics::finance::INVESTMENT_CASH_FLOWS;
use crate::metrics::{self, FAMILIES, Family, Inputs, Settings};
use crate::models::{Outcome, Project, RunRequest};
use crate::report::{self, LeftOut, PackInputs, RunInfo, RunResults};
use crate::schedule::Period;
use crate::warehouse::ledger::{RunRecord, Status};
use crate::warehouse::{ChangedInput, IncrementalSource, Warehouse, quote};
use crate::zone::LocalTime;

use super::ledgered::{Finished, Steps};
use super::models_step::{self, Verdict};
use super::{LateData, Restated, RunOptions, RunSummary, period, threshold_error};

pub(super) fn run(
    config: &Config,
    options: &RunOptions,
    steps: &mut Steps,
    record: &RunRecord,
) -> Result<Finished<RunSummary>> {
    let (ingested, rows_loaded, changed) = ingest_and_load(
        config,
        options.full_refresh,
        options.sources.as_deref(),
        steps,
        record,
    )?;
    let period = period::reporting_period(
        options.period,
        steps.warehouse,
        options.now,
        &config.timezone,
    )?;
    // The pack's language, which the sentences stored with the figures are written in too.
    let lang = options.lang.unwrap_or(config.report.language);
    let late = late_data(steps.warehouse, period, &changed)?;
    for l in &late {
        tracing::warn!(file = %l.file.display(), from = %l.earliest, "late data: {l}");
    }
    steps.warehouse.set_run_period(&record.run_id, period)?;
    steps.journal.period = Some(period);

    let unfed = models_step::unfed_entities(config);
    let families = families_with_data(&unfed);
    let progress = steps.progress;
    let request = RunRequest {
        selected: None,
        full_refresh: options.full_refresh,
        test_only: false,
        unfed_entities: unfed.clone(),
    };
    // The models the figures read, and every other model that does not read the figures.
    let (project, mut outcome, figure_models) = steps.step(
        "models",
        |w| {
            let project = models_step::prepare(config, w, record, period)?;
            let later = project.after_figures();
            let figure_models = figure_models(&project, &families, &later, config)?;
            let outcome = models_step::run_phase(
                w,
                &project,
                &request,
                |m| !later.contains_key(m),
                progress,
            )?;
            Ok((project, outcome, figure_models))
        },
        |(_, o, _)| (Some(o.models.len() as u64), String::new()),
    )?;
    let without_data = project.without_data(&unfed);
    let later = project.after_figures();
    let early = models_step::judge(&outcome, Some(&figure_models));
    if !early.blocking.is_empty() {
        return Err(fail_on_models(
            config, steps, record, period, &outcome, early, "models",
        ));
    }
    let Figures {
        tables: figures,
        run_info: figures_info,
        faults,
    } = steps.step(
        "metrics",
        |w| compute_figures(w, &families, period, config, lang),
        |f| (Some(f.tables.len() as u64), String::new()),
    )?;
    if !faults.is_empty() {
        let detail: Vec<String> = faults.iter().map(ToString::to_string).collect();
        steps.mark("metrics", Status::Partial, &detail.join("; "));
    }
    let restated = steps.step(
        "restatements",
        |w| restatements(w, &record.run_id, period, &figures),
        |r| {
            (
                r.as_ref().map(|r| r.changes.len() as u64),
                r.as_ref()
                    .map(|r| format!("compared with run {}", r.since_run))
                    .unwrap_or_else(|| "first report of the period".to_string()),
            )
        },
    )?;
    if !later.is_empty() {
        let after = steps.step(
            "models after the figures",
            |w| models_step::run_phase(w, &project, &request, |m| later.contains_key(m), progress),
            |o| (Some(o.models.len() as u64), String::new()),
        )?;
        outcome.models.extend(after.models);
        outcome.tests.extend(after.tests);
    }
    let needed = pack_models(&project, &figure_models, &without_data, config)?;
    let verdict = models_step::judge(&outcome, Some(&needed));
    let last_models_step = if later.is_empty() {
        "models"
    } else {
        "models after the figures"
    };
    if !verdict.blocking.is_empty() {
        return Err(fail_on_models(
            config,
            steps,
            record,
            period,
            &outcome,
            verdict,
            last_models_step,
        ));
    }
    if !verdict.elsewhere.is_empty() {
        let detail = Failures(verdict.elsewhere.clone()).to_string();
        steps.mark("models", Status::Partial, &detail);
    }
    record_outcome(steps, record, &outcome)?;

    let mut left_out = left_out_families(&unfed);
    let model_sheets = steps.step(
        "model sheets",
        |w| report::read_model_sheets(config, w, &without_data, &mut left_out),
        |s| (Some(s.len() as u64), String::new()),
    )?;
    let fx = fx_usage(config, steps.warehouse)?;
    let previous = steps
        .warehouse
        .stored_figures(&SUMMARY_TABLES, period.previous())?;
    let previous_quality = steps.warehouse.accepted_share(period.previous())?;
    let failures = (!verdict.elsewhere.is_empty()).then_some(Failures(verdict.elsewhere));
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
        failures: failures.as_ref().map(Failures::to_string),
        figures: figures_info,
        late: late.iter().map(ToString::to_string).collect(),
        restated: restated.as_ref().map(|r| report::RestatedInfo {
            since_run: r.since_run.clone(),
            since_started: r.since_started.clone(),
            changes: r.changes.clone(),
        }),
    };
    let results = RunResults {
        run_id: &record.run_id,
        command: &record.command,
        period: period.to_string(),
        itvalue_version: crate::VERSION,
        models: &outcome.models,
        tests: &outcome.tests,
    };
    let (pack, staged) = steps.step(
        "report",
        |_| {
            report::stage_pack(
                &config.reports,
                &PackInputs {
                    period,
                    reporting_currency: &config.reporting_currency,
                    lang,
                    figures: &figures,
                    run: &run_info,
                    model_sheets: &model_sheets,
                    chart_font: config.charts.font.as_deref(),
                    previous: &previous,
                    quality: report::quality_share(&run_info.quality),
                    previous_quality,
                    report: &config.report,
                    created: started_at(&record.started_at),
                },
                &results,
                "run_results.json",
            )
        },
        |(p, _)| (None, p.workbook.display().to_string()),
    )?;
    let (extracts, extracts_staged) = steps.step(
        "extracts",
        |w| stage_extracts(config, w, period, &record.run_id, &outcome, &figures),
        |(files, _)| (Some(files.len() as u64), String::new()),
    )?;
    let mut outputs = vec![("workbook", pack.workbook.display().to_string())];
    outputs.extend(
        pack.charts
            .iter()
            .map(|c| ("chart", c.display().to_string())),
    );
    outputs.push(("results", pack.results.display().to_string()));
    outputs.extend(
        extracts
            .iter()
            .map(|e| ("extract", e.display().to_string())),
    );
    steps.warehouse.record_outputs(&record.run_id, &outputs)?;
    let status = if failures.is_some() || !faults.is_empty() {
        Status::Partial
    } else {
        Status::Succeeded
    };
    let message = failures
        .as_ref()
        .map(Failures::to_string)
        .into_iter()
        .chain(faults.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join("; ");
    let reused_inputs = ingested
        .inputs
        .iter()
        .filter(|i| i.reused_from.is_some())
        .count();
    Ok(Finished {
        value: RunSummary {
            run_id: record.run_id.clone(),
            period,
            pack,
            extracts,
            reused_inputs,
            restated,
            late,
            duration: std::time::Duration::ZERO,
            inputs: ingested.inputs.len(),
            rows_loaded,
            rejects: ingested.rejects,
            quality: ingested.quality,
            models: outcome,
            left_out,
            fx,
            failures,
            faults,
        },
        staged,
        also: vec![extracts_staged],
        status,
        message,
    })
}

/// Stages the Parquet extracts: every mart the run built, and each metric table's rows of the
/// period.
fn stage_extracts(
    config: &Config,
    warehouse: &mut Warehouse,
    period: Period,
    run_id: &str,
    outcome: &Outcome,
    figures: &FigureTables,
) -> Result<(Vec<std::path::PathBuf>, report::Staged)> {
    let mut extracts = Vec::new();
    let marts = outcome
        .models
        .iter()
        .filter(|m| m.name.starts_with("mart_") && m.status == crate::models::ModelStatus::Success);
    for model in marts {
        let (schema, batches) = warehouse.record_batches(
            &format!("extracting {}", model.name),
            &format!("SELECT * FROM main.{}", quote(&model.name)),
        )?;
        extracts.push(report::Extract {
            name: model.name.clone(),
            schema,
            batches,
        });
    }
    for table in figures.keys() {
        let (schema, batches) = warehouse.record_batches(
            &format!("extracting metrics.{table}"),
            &format!(
                "SELECT * FROM metrics.{} WHERE period = DATE '{}'",
                quote(table),
                period.first_day()
            ),
        )?;
        extracts.push(report::Extract {
            name: format!("metrics_{table}"),
            schema,
            batches,
        });
    }
    report::stage_extracts(&config.exports, period, run_id, &extracts)
}

/// The tables the Summary reads the previous month's figures from.
const SUMMARY_TABLES: [&str; 4] = [
    crate::metrics::finance::INVESTMENT_FINANCE.name,
    crate::metrics::flow::FLOW_VALUE_STREAM.name,
    crate::metrics::delivery::DELIVERY_PERFORMANCE.name,
    crate::metrics::reliability::RELIABILITY_APPLICATION.name,
];

/// The run's start as written in the ledger (`YYYY-MM-DD HH:MM:SS.fff`, UTC).
fn started_at(text: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap_or_default()
}

/// Reads every source (or, with `only`, those file sources; the others keep what the last load
/// kept of them) and loads what passes into the work copy's raw tables. A file whose bytes and
/// source configuration are those the last load kept is not read again, unless `full_refresh`.
pub(super) fn ingest_and_load(
    config: &Config,
    full_refresh: bool,
    only: Option<&[String]>,
    steps: &mut Steps,
    record: &RunRecord,
) -> Result<(Ingested, u64, Vec<ChangedInput>)> {
    let progress = steps.progress;
    let mut prior = steps
        .warehouse
        .prior(&incremental_sources(config), full_refresh)?;
    if !full_refresh {
        prior.kept_inputs = steps.warehouse.kept_inputs()?;
    }
    if let Some(only) = only {
        prior.kept_sources = config
            .sources
            .iter()
            .filter(|s| !s.kind.is_database() && !only.contains(&s.name))
            .map(|s| s.name.clone())
            .collect();
    }
    let ingested = steps.step(
        "ingest",
        |w| {
            let w: &Warehouse = w;
            ingest::read_sources_reusing(config, &prior, &mut |kept| w.kept_rows(kept), progress)
        },
        |i| {
            let read: u64 = i.inputs.iter().map(|f| f.rows_read).sum();
            let reused = i.inputs.iter().filter(|f| f.reused_from.is_some()).count();
            (
                Some(read),
                format!(
                    "{} inputs ({reused} unchanged, reused), {} rejected values",
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
    // Where the files read now bring new or changed rows, before what is kept of them is
    // replaced: late data for periods already reported. Nothing to compare on a first run.
    let changed = if steps.warehouse.has_reports()? {
        steps.warehouse.changed_inputs(&ingested)?
    } else {
        Vec::new()
    };
    // The load takes the rows as it writes them: the steps after read them from the warehouse,
    // and holding them too would add their size to every later step's memory (about 200 MiB at
    // scale 10).
    let mut ingested = ingested;
    let rows_loaded = steps.step(
        "load",
        |w| w.load(&record.run_id, &mut ingested),
        |rows| (Some(*rows), String::new()),
    )?;
    steps.journal.counts.0 = Some(rows_loaded);
    Ok((ingested, rows_loaded, changed))
}

/// The files whose new or changed rows fall in periods reported before they arrived.
fn late_data(
    warehouse: &Warehouse,
    period: Period,
    changed: &[ChangedInput],
) -> Result<Vec<LateData>> {
    let mut late = Vec::new();
    for c in changed {
        let earliest = Period::containing(c.earliest);
        if earliest >= period {
            continue;
        }
        let reported = warehouse.reported_periods(earliest, period)?;
        if !reported.is_empty() {
            late.push(LateData {
                file: c.path.clone(),
                earliest,
                reported,
            });
        }
    }
    Ok(late)
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

/// "no source feeds costs" when some of the family's entities lack a source.
fn missing_entities(family: &Family, unfed: &BTreeSet<String>) -> Option<String> {
    let missing: Vec<&str> = family
        .entities
        .iter()
        .map(|e| e.name())
        .filter(|e| unfed.contains(*e))
        .collect();
    (!missing.is_empty()).then(|| format!("no source feeds {}", missing.join(" or ")))
}

/// Why `family` is left out: an entity without a source, or a family it reads that is left
/// out (the families before it in FAMILIES decide first).
fn left_out_because(family: &Family, unfed: &BTreeSet<String>) -> Option<String> {
    if let Some(reason) = missing_entities(family, unfed) {
        return Some(reason);
    }
    family.after.iter().find_map(|name| {
        let earlier = metrics::catalogue::family(name)?;
        left_out_because(earlier, unfed)
            .map(|why| format!("it reads the {name} figures, which are left out ({why})"))
    })
}

/// The families whose entities all have a source, and whose earlier families are there too.
fn families_with_data(unfed: &BTreeSet<String>) -> Vec<&'static Family> {
    FAMILIES
        .iter()
        .copied()
        .filter(|f| left_out_because(f, unfed).is_none())
        .collect()
}

/// The families left out of the pack, each with the sheets it would have made and why.
fn left_out_families(unfed: &BTreeSet<String>) -> Vec<LeftOut> {
    FAMILIES
        .iter()
        .filter_map(|f| {
            let reason = left_out_because(f, unfed)?;
            let tables: Vec<String> = f
                .tables
                .iter()
                .map(|t| format!("metrics.{}", t.name))
                .collect();
            Some(LeftOut {
                what: format!(
                    "the {} figures ({}) and their sheets and charts",
                    f.name,
                    tables.join(", ")
                ),
                reason,
            })
        })
        .collect()
}

/// The models the figures read and every model upstream of them; none may read the figures.
fn figure_models(
    project: &Project,
    families: &[&Family],
    later: &BTreeMap<String, String>,
    config: &Config,
) -> Result<BTreeSet<String>> {
    let mut needed = BTreeSet::new();
    for family in families {
        let by = format!("the {} figures", family.name);
        let roots: Vec<(&str, &str)> = family.models.iter().map(|m| (*m, by.as_str())).collect();
        let upstream = models_step::upstream_of(project, &roots, &config.models)?;
        models_step::check_phases(project, &upstream, later, &by)?;
        needed.extend(upstream);
    }
    Ok(needed)
}

/// What the pack needs: the figures' models and the configured sheets' models, with everything
/// upstream of them.
fn pack_models(
    project: &Project,
    figure_models: &BTreeSet<String>,
    without_data: &BTreeMap<String, String>,
    config: &Config,
) -> Result<BTreeSet<String>> {
    let by: Vec<(String, String)> = config
        .sheets
        .iter()
        .filter(|s| project.model(&s.model).is_some() && !without_data.contains_key(&s.model))
        .map(|s| (s.model.clone(), format!("sheet {}", s.title)))
        .collect();
    let roots: Vec<(&str, &str)> = by.iter().map(|(m, b)| (m.as_str(), b.as_str())).collect();
    let mut needed = models_step::upstream_of(project, &roots, &config.models)?;
    needed.extend(figure_models.iter().cloned());
    Ok(needed)
}

/// Records the outcome in the work copy's ledger and in the journal (for a failed run).
fn record_outcome(steps: &mut Steps, record: &RunRecord, outcome: &Outcome) -> Result<()> {
    let (model_records, test_records) = models_step::records(outcome);
    steps
        .warehouse
        .record_models(&record.run_id, &model_records, &test_records)?;
    steps.journal.models = Some((model_records, test_records));
    Ok(())
}

/// The error of a run whose models failed where the pack needs them, after the outcome is
/// recorded for the ledger and its results kept beside the pack.
fn fail_on_models(
    config: &Config,
    steps: &mut Steps,
    record: &RunRecord,
    period: Period,
    outcome: &Outcome,
    verdict: Verdict,
    step: &str,
) -> Error {
    let failures = Failures(verdict.blocking);
    steps.mark(step, Status::Failed, &failures.to_string());
    if let Err(e) = record_outcome(steps, record, outcome) {
        tracing::error!(error = %e, "could not record the models' outcome");
    }
    keep_failed_results(
        config,
        period,
        &format!("run_results-{}.json", record.run_id),
        &RunResults {
            run_id: &record.run_id,
            command: &record.command,
            period: period.to_string(),
            itvalue_version: crate::VERSION,
            models: &outcome.models,
            tests: &outcome.tests,
        },
    );
    Error::ModelsFailed(failures)
}

/// The figure tables by name.
type FigureTables = BTreeMap<&'static str, DataFrame>;

/// Keeps this run's figures of the period in `reported.*` and compares them with those of the
/// latest earlier run that reported the period, if any.
fn restatements(
    warehouse: &mut Warehouse,
    run_id: &str,
    period: Period,
    figures: &FigureTables,
) -> Result<Option<Restated>> {
    let tables: Vec<&str> = figures.keys().copied().collect();
    warehouse.keep_reported(run_id, period, &tables)?;
    let runs = warehouse.reported_runs(period, Some(run_id))?;
    let Some(earlier) = runs.iter().rev().find(|r| r.run_id != run_id) else {
        return Ok(None);
    };
    let changes =
        warehouse.restatements(period, &earlier.run_id, run_id, &super::table_shapes())?;
    Ok(Some(Restated {
        since_run: earlier.run_id.clone(),
        since_started: earlier.started_at.clone(),
        changes,
    }))
}

/// What the metrics step gives: the tables, what Run Info says of how they were computed, and
/// the faults that left a part of them without figures.
struct Figures {
    tables: FigureTables,
    run_info: Vec<(String, String)>,
    faults: Vec<metrics::Fault>,
}

/// Every family's figures as of `period`, stored under `metrics.*` in one transaction, with
/// what they tell Run Info and the faults that left a part of them without figures.
fn compute_figures(
    warehouse: &mut Warehouse,
    families: &[&Family],
    period: Period,
    config: &Config,
    lang: Lang,
) -> Result<Figures> {
    let years = warehouse
        .timestamp_years()?
        .unwrap_or((period.year(), period.year()));
    let zone = LocalTime::new(&config.timezone, years).map_err(|e| Error::Config {
        path: config.path.clone(),
        message: format!("timezone: {e}"),
    })?;
    let settings = Settings {
        default_discount_rate: config.default_discount_rate,
        reporting_currency: &config.reporting_currency,
        metrics: &config.metrics,
        zone: &zone,
        lang,
    };
    let mut tables: Vec<(&'static str, DataFrame)> = Vec::new();
    let mut run_info = Vec::new();
    let mut faults = Vec::new();
    // The parts' times and peak memory, for the metrics benchmark (bench/metrics-stage.sh)
    // and -vv.
    let timed = |part: &str, clock: Instant| {
        tracing::debug!(
            part,
            ms = clock.elapsed().as_millis() as u64,
            peak_rss_mib = super::memory::peak_rss_mib(),
            "metrics part"
        );
    };
    for family in families {
        let clock = Instant::now();
        let mut inputs = Inputs::default();
        for model in family.models {
            let frame = warehouse.frame(
                &format!("reading {model}"),
                &format!("SELECT * FROM main.{}", quote(model)),
            )?;
            inputs.insert(model, frame);
        }
        // The tables of the families it reads, computed above in this run.
        for earlier in family.after {
            let declared = metrics::catalogue::family(earlier).map_or(&[][..], |f| f.tables);
            for (name, frame) in &tables {
                if declared.iter().any(|t| t.name == *name) {
                    inputs.insert_table(name, frame.clone());
                }
            }
        }
        timed(&format!("reading {}", family.name), clock);
        let clock = Instant::now();
        let computed = metrics::compute(family, &inputs, period, &settings)?;
        timed(&format!("computing {}", family.name), clock);
        tables.extend(computed.tables);
        run_info.extend(computed.run_info);
        faults.extend(computed.faults);
    }
    if let Some((_, flows)) = tables
        .iter()
        .find(|(name, _)| *name == INVESTMENT_CASH_FLOWS.name)
    {
        let clock = Instant::now();
        let totals = control_totals(warehouse, flows, period, &config.reporting_currency)?;
        timed("control totals", clock);
        run_info.push((
            "Control totals".to_string(),
            totals.describe(&config.reporting_currency),
        ));
    }
    let clock = Instant::now();
    let borrowed: Vec<(&str, &DataFrame)> = tables.iter().map(|(n, f)| (*n, f)).collect();
    warehouse.store_metrics(period, &borrowed)?;
    timed("storing", clock);
    Ok(Figures {
        tables: tables.into_iter().collect(),
        run_info,
        faults,
    })
}

/// The costs and benefits the valuation used against the raw lines, per investment.
///
/// # Errors
///
/// [`Error::ControlTotals`] naming every investment whose totals differ.
fn control_totals(
    warehouse: &Warehouse,
    flows: &DataFrame,
    period: Period,
    currency: &str,
) -> Result<ControlTotals> {
    let loaded: Vec<LoadedMoney> = warehouse
        .money_loaded_by_investment(period, currency)?
        .into_iter()
        .map(|m| LoadedMoney {
            investment_id: m.investment_id,
            costs: m.costs,
            benefits: m.benefits,
        })
        .collect();
    let compared = controls::compare(flows, &loaded, currency)
        .map_err(|e| Error::metrics("control totals", e))?;
    compared.map_err(Error::ControlTotals)
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
