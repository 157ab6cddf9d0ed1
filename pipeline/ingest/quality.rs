//! Data-quality scores per source, as DESIGN.md defines them, and the verdict of its threshold.
//!
//! In: the counts gathered while typing and checking a source's rows. Out: a [`SourceQuality`]
//! with completeness, accuracy and integrity, the share of rejected rows and whether it passes.

use super::InputFile;
use crate::config::{OverThreshold, Source};
use crate::contract::Entity;

/// What typing and the cross checks counted for one source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quality {
    /// Required fields of the rows typed, and how many held a value.
    pub required_expected: u64,
    pub required_present: u64,
    /// Values present, and how many passed their type, range and accepted-value rules.
    pub values_present: u64,
    pub values_valid: u64,
    /// Foreign-key values checked, and how many named an existing row.
    pub references: u64,
    pub references_resolved: u64,
}

impl Quality {
    /// Adds the counts of `other` (another file of the same source).
    pub fn add(&mut self, other: Quality) {
        self.required_expected += other.required_expected;
        self.required_present += other.required_present;
        self.values_present += other.values_present;
        self.values_valid += other.values_valid;
        self.references += other.references;
        self.references_resolved += other.references_resolved;
    }
}

/// How a source's rejects compare with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Over the threshold, configured to warn.
    Warn,
    /// Over the threshold, configured to fail the run.
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// The scores of one source in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceQuality {
    pub source: String,
    pub entity: Entity,
    pub files: usize,
    /// Data rows read, less those superseded by later rows of the same entity.
    pub rows: u64,
    pub rows_superseded: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    /// Share of required fields present; empty when there was nothing to measure.
    pub completeness: Option<f64>,
    /// Share of present values that pass type, range and accepted-value rules.
    pub accuracy: Option<f64>,
    /// Share of foreign-key values that resolve.
    pub integrity: Option<f64>,
    /// Rejected rows / rows.
    pub reject_rate: f64,
    pub max_reject_rate: f64,
    pub verdict: Verdict,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl SourceQuality {
    /// Scores `source` from its files' records and the counts gathered for it.
    pub fn score(source: &Source, files: &[InputFile], counts: Quality) -> SourceQuality {
        let read: u64 = files.iter().map(|f| f.rows_read).sum();
        let superseded: u64 = files.iter().map(|f| f.rows_superseded).sum();
        let loaded: u64 = files.iter().map(|f| f.rows_loaded).sum();
        let rejected: u64 = files.iter().map(|f| f.rows_rejected).sum();
        let rows = read - superseded;
        let reject_rate = share(rejected, rows).unwrap_or(0.0);
        let verdict = match (reject_rate > source.max_reject_rate, source.over_threshold) {
            (false, _) => Verdict::Ok,
            (true, OverThreshold::Warn) => Verdict::Warn,
            (true, OverThreshold::Fail) => Verdict::Fail,
        };
        SourceQuality {
            source: source.name.clone(),
            entity: source.entity,
            files: files.len(),
            rows,
            rows_superseded: superseded,
            rows_loaded: loaded,
            rows_rejected: rejected,
            completeness: share(counts.required_present, counts.required_expected),
            accuracy: share(counts.values_valid, counts.values_present),
            integrity: share(counts.references_resolved, counts.references),
            reject_rate,
            max_reject_rate: source.max_reject_rate,
            verdict,
        }
    }
}
