//! The models step of a run: the variables models read, the `to_utc` macro, the fence, then every
//! model and data test; and what a failure means for the run.
//!
//! In: the configuration, the work copy (raw tables loaded) and the period. Out: the models'
//! [`Outcome`], and whether a failure blocks the run (it touches what the pack needs) or only
//! makes it partial.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Config, MissingRate};
use crate::contract::Entity;
use crate::error::{Error, Failure, ModelGraphError, Result};
use crate::models::{self, Dependencies, ModelSettings, ModelStatus, Outcome, Project, RunRequest};
use crate::schedule::Period;
use crate::warehouse::ledger::{ModelRecord, RunRecord, TestRecord};
use crate::warehouse::{Warehouse, quote_text};

/// The entities no configured source feeds.
pub(super) fn unfed_entities(config: &Config) -> BTreeSet<String> {
    Entity::ALL
        .iter()
        .filter(|e| !config.sources.iter().any(|s| s.entity == **e))
        .map(|e| e.name().to_string())
        .collect()
}

/// The models and tests under the configured folder, parsed with `conn`.
pub(super) fn load_project(config: &Config, conn: &duckdb::Connection) -> Result<Project> {
    let settings = config
        .model_settings
        .iter()
        .map(|(name, setting)| {
            (
                name.to_lowercase(),
                ModelSettings {
                    materialized: setting.materialized.clone(),
                    period_column: setting.period_column.clone(),
                },
            )
        })
        .collect();
    // Models that read metrics.* run after the figures (see `Project::after_figures`); ledger.*
    // is history, which models may read on purpose (the data-quality trend).
    let dependencies = Dependencies {
        external_schemas: vec!["metrics".into(), "ledger".into()],
    };
    Project::load(conn, &config.models, &settings, &dependencies)
}

/// Sets the variables models may read, defines `to_utc` for the loaded timestamps, fences the
/// connection, and loads the models.
pub(super) fn prepare(
    config: &Config,
    warehouse: &Warehouse,
    record: &RunRecord,
    period: Period,
) -> Result<Project> {
    let budget_rates: Vec<String> = config
        .fx
        .budget_rates
        .iter()
        .map(|(currency, rate)| {
            format!(
                "{{'currency': {}, 'rate': {rate:?}::DOUBLE}}",
                quote_text(currency)
            )
        })
        .collect();
    warehouse.execute_batch(
        "setting model variables",
        &format!(
            "SET VARIABLE reporting_currency = {};
             SET VARIABLE period = DATE '{}';
             SET VARIABLE run_id = {};
             SET VARIABLE fx_missing_rate = {};
             SET VARIABLE fx_budget_rates = [{}]::STRUCT(currency VARCHAR, rate DOUBLE)[];",
            quote_text(&config.reporting_currency),
            period.first_day(),
            quote_text(&record.run_id),
            quote_text(match config.fx.missing_rate {
                MissingRate::Latest => "latest",
                MissingRate::Budget => "budget",
                MissingRate::None => "none",
            }),
            budget_rates.join(", ")
        ),
    )?;
    let years = warehouse
        .timestamp_years()?
        .unwrap_or((period.year(), period.year()));
    warehouse.define_to_utc(&config.timezone, years)?;
    models::fence(warehouse.connection()).map_err(|e| {
        Error::warehouse(
            warehouse.path(),
            "fencing the models from files and network",
            e,
        )
    })?;
    load_project(config, warehouse.connection())
}

/// `roots` and every model upstream of them: what must build for the pack.
///
/// # Errors
///
/// [`Error::MissingModel`] when a root is not a model of the project.
pub(super) fn upstream_of(
    project: &Project,
    roots: &[(&str, &str)],
    dir: &std::path::Path,
) -> Result<BTreeSet<String>> {
    let mut needed = BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    for (model, needed_by) in roots {
        if project.model(model).is_none() {
            return Err(Error::MissingModel {
                model: model.to_string(),
                needed_by: needed_by.to_string(),
                dir: dir.to_path_buf(),
            });
        }
        pending.push(model.to_string());
    }
    while let Some(name) = pending.pop() {
        if !needed.insert(name.clone()) {
            continue;
        }
        if let Some(model) = project.model(&name) {
            pending.extend(model.depends_on.iter().cloned());
        }
    }
    Ok(needed)
}

/// What the failures of an outcome mean for the run.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// Failures among what the pack needs: the run fails and publishes nothing.
    pub blocking: Vec<Failure>,
    /// Failures elsewhere: the run publishes, and reports them.
    pub elsewhere: Vec<Failure>,
}

/// Sorts the outcome's failures by whether `needed` (every model, when `None`) holds them.
pub(super) fn judge(outcome: &Outcome, needed: Option<&BTreeSet<String>>) -> Verdict {
    let is_needed = |model: &str| needed.is_none_or(|n| n.contains(model));
    let mut verdict = Verdict::default();
    for m in &outcome.models {
        let failed = match m.status {
            ModelStatus::Error => true,
            ModelStatus::Skipped => !m.without_data,
            ModelStatus::Success => false,
        };
        if failed {
            let failure = Failure::Model {
                name: m.name.clone(),
                path: m.path.clone(),
                message: m.message.clone(),
            };
            if is_needed(&m.name) {
                verdict.blocking.push(failure);
            } else {
                verdict.elsewhere.push(failure);
            }
        }
    }
    for t in outcome.tests.iter().filter(|t| t.blocks()) {
        let failure = Failure::Test {
            name: t.name.clone(),
            model: t.model.clone(),
            message: t.message.clone(),
        };
        if is_needed(&t.model) {
            verdict.blocking.push(failure);
        } else {
            verdict.elsewhere.push(failure);
        }
    }
    verdict
}

/// Refuses figures that would need a model of the post-figures phase.
///
/// # Errors
///
/// [`ModelGraphError::FiguresNeedLaterModel`] naming the model and what it reads metrics through.
pub(super) fn check_phases(
    project: &Project,
    needed: &BTreeSet<String>,
    later: &BTreeMap<String, String>,
    needed_by: &str,
) -> Result<()> {
    match needed.iter().find_map(|m| later.get(m).map(|t| (m, t))) {
        None => Ok(()),
        Some((model, through)) => Err(ModelGraphError::FiguresNeedLaterModel {
            model: model.clone(),
            path: project
                .model(model)
                .map(|m| m.path.clone())
                .unwrap_or_default(),
            through: through.clone(),
            needed_by: needed_by.to_string(),
        }
        .into()),
    }
}

/// Builds the models of one phase (those `in_phase` says) and runs their tests.
pub(super) fn run_phase(
    warehouse: &Warehouse,
    project: &Project,
    request: &RunRequest,
    in_phase: impl Fn(&str) -> bool,
    progress: &dyn crate::progress::Progress,
) -> Result<Outcome> {
    let selected: BTreeSet<String> = project
        .models
        .iter()
        .map(|m| m.name.clone())
        .filter(|m| request.selected.as_ref().is_none_or(|s| s.contains(m)))
        .filter(|m| in_phase(m))
        .collect();
    let request = RunRequest {
        selected: Some(selected),
        ..request.clone()
    };
    Ok(models::run(
        warehouse.connection(),
        project,
        &request,
        progress,
    ))
}

/// The outcome as the ledger keeps it.
pub(super) fn records(outcome: &Outcome) -> (Vec<ModelRecord>, Vec<TestRecord>) {
    let models = outcome
        .models
        .iter()
        .map(|m| ModelRecord {
            model: m.name.clone(),
            path: m.path.display().to_string(),
            materialized: m.materialized.as_str(),
            status: m.status.as_str(),
            rows: m.rows,
            milliseconds: m.milliseconds,
            message: m.message.clone(),
        })
        .collect();
    let tests = outcome
        .tests
        .iter()
        .map(|t| TestRecord {
            test: t.name.clone(),
            model: t.model.clone(),
            kind: t.kind,
            severity: t.severity.as_str(),
            status: t.status.as_str(),
            failures: t.failures,
            failures_table: t.failures_table.clone(),
            milliseconds: t.milliseconds,
            message: t.message.clone(),
        })
        .collect();
    (models, tests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Materialization, ModelResult, Severity, TestResult, TestStatus};

    fn model(name: &str, status: ModelStatus, without_data: bool) -> ModelResult {
        ModelResult {
            name: name.into(),
            path: format!("sql/{name}.sql").into(),
            materialized: Materialization::Table,
            status,
            rows: None,
            milliseconds: 0,
            message: "boom".into(),
            without_data,
        }
    }

    fn test(model: &str, status: TestStatus) -> TestResult {
        TestResult {
            name: format!("t_{model}"),
            model: model.into(),
            kind: "unique",
            severity: Severity::Error,
            status,
            failures: Some(1),
            failures_table: None,
            milliseconds: 0,
            message: "1 failing rows".into(),
        }
    }

    #[test]
    fn failures_block_the_run_only_where_the_pack_reads() {
        let outcome = Outcome {
            models: vec![
                model("stg_costs", ModelStatus::Success, false),
                model("stg_incidents", ModelStatus::Skipped, true),
                model("analyst_scratch", ModelStatus::Error, false),
                model("analyst_downstream", ModelStatus::Skipped, false),
            ],
            tests: vec![
                test("stg_costs", TestStatus::Fail),
                test("analyst_scratch", TestStatus::Skipped),
            ],
        };
        let needed: BTreeSet<String> = ["stg_costs".to_string()].into();
        let verdict = judge(&outcome, Some(&needed));
        let text = |f: &[Failure]| crate::error::Failures(f.to_vec()).to_string();
        assert_eq!(
            text(&verdict.blocking),
            "test t_stg_costs on stg_costs: 1 failing rows"
        );
        assert_eq!(
            text(&verdict.elsewhere),
            "model analyst_scratch (sql/analyst_scratch.sql): boom; model analyst_downstream (sql/analyst_downstream.sql): boom"
        );
        // A models-only run needs every model it selected.
        let all = judge(&outcome, None);
        assert!(all.elsewhere.is_empty());
        assert!(text(&all.blocking).starts_with("model analyst_scratch"));
    }
}
