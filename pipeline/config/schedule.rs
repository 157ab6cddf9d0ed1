//! `[[schedule]]`: the jobs `itvalue schedule` runs, each a cron expression in the configured
//! zone and what it runs.
//!
//! In: the `[[schedule]]` tables of the configuration. Out: validated [`ScheduledJob`]s, in the
//! order given; a bad expression, an unknown source or a key that does not fit the job is an
//! error naming the job and the key.

use serde::Deserialize;

use super::Source;
use crate::schedule::{CronSchedule, PeriodRule};

/// The most missed periods a job catches up at once, and the default.
const MAX_CATCH_UP: u32 = 120;
const DEFAULT_CATCH_UP: u32 = 12;

/// What a scheduled job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobRun {
    /// The monthly run (`itvalue run`): ingest, models, figures, the pack.
    Pack,
    /// The SQL models and their tests (`itvalue models run`), after loading `sources` if any.
    Models,
}

impl JobRun {
    pub fn as_str(self) -> &'static str {
        match self {
            JobRun::Pack => "pack",
            JobRun::Models => "models",
        }
    }
}

/// One `[[schedule]]` job.
#[derive(Debug, Clone)]
pub struct ScheduledJob {
    /// Unique; the ledger records it with each of the job's runs.
    pub name: String,
    /// When the job is due, in the configured `timezone`.
    pub cron: CronSchedule,
    pub run: JobRun,
    /// Which period a due time stands for (default: the month that has just ended).
    pub period: PeriodRule,
    /// Only these file sources are read again; the others keep what the last load kept of them.
    /// `None` reads every source.
    pub sources: Option<Vec<String>>,
    /// For `run = "models"`: which models to build (`name`, `name+`, `+name`); default all.
    pub select: Option<String>,
    /// The most missed periods one check catches up (the latest ones); default 12.
    pub catch_up: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    name: String,
    cron: String,
    #[serde(default = "default_run")]
    run: JobRun,
    #[serde(default)]
    period: Option<String>,
    sources: Option<Vec<String>>,
    select: Option<String>,
    catch_up: Option<u32>,
}

fn default_run() -> JobRun {
    JobRun::Pack
}

/// Validates the `i`th job.
pub(super) fn validate(
    raw: RawJob,
    i: usize,
    timezone: &str,
    sources: &[Source],
    earlier: &[ScheduledJob],
) -> Result<ScheduledJob, String> {
    let at = format!("schedule[{i}] ({})", raw.name);
    let name_ok = !raw.name.is_empty()
        && raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(format!(
            "schedule[{i}]: name {:?}: use letters, digits, - and _ (it names the job in the ledger and in crontab lines)",
            raw.name
        ));
    }
    if earlier.iter().any(|j| j.name == raw.name) {
        return Err(format!(
            "schedule[{i}]: name {:?} is used by another job; names must be unique",
            raw.name
        ));
    }
    let cron = CronSchedule::parse(&raw.cron, timezone).map_err(|e| format!("{at}: cron = {e}"))?;
    let period = match raw.period.as_deref() {
        None | Some("previous") => PeriodRule::Previous,
        Some("current") => PeriodRule::Current,
        Some(other) => {
            return Err(format!(
                "{at}: period = {other:?}: expected \"previous\" (the month that has just ended) or \"current\""
            ));
        }
    };
    if let Some(names) = &raw.sources {
        if names.is_empty() {
            return Err(format!(
                "{at}: sources = []: name at least one source, or leave the key out to read every source"
            ));
        }
        for name in names {
            match sources.iter().find(|s| &s.name == name) {
                None => {
                    let known: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
                    return Err(format!(
                        "{at}: sources: no source is named {name:?}; the sources are: {}",
                        known.join(", ")
                    ));
                }
                Some(s) if s.kind.is_database() => {
                    return Err(format!(
                        "{at}: sources: {name:?} is a database source, which every run extracts (incrementally with a watermark); list only file sources"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if raw.select.is_some() && raw.run != JobRun::Models {
        return Err(format!(
            "{at}: select: only a job with run = \"models\" builds a selection of models; the pack needs every model it reads"
        ));
    }
    let catch_up = raw.catch_up.unwrap_or(DEFAULT_CATCH_UP);
    if !(1..=MAX_CATCH_UP).contains(&catch_up) {
        return Err(format!(
            "{at}: catch_up = {catch_up}: expected 1 to {MAX_CATCH_UP} periods"
        ));
    }
    Ok(ScheduledJob {
        name: raw.name,
        cron,
        run: raw.run,
        period,
        sources: raw.sources,
        select: raw.select,
        catch_up,
    })
}
