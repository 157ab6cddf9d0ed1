//! Which production deployments failed, by which rule, and when each recovered. A deployment
//! fails by its own result (failed, rolled_back) or by an incident linked to it: one that names it
//! (`caused_by`), one on its application opened within a configured window after it (`window`),
//! or one whose application's latest successful deployment before it opened it is
//! (`latest_prior`, as Apache DevLake links them). Deployments are counted, not incidents: two
//! incidents on one deployment make one failed deployment with two links.
//!
//! In: the deployments, the incidents and the `caused_by`/`result` links of
//! `mart_deployment_incident_links`, as of the period's end. Out: [`FailedDeployment`]s by
//! deployment id.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::config::metrics::Delivery;
use crate::metrics::columns::texts;
use crate::metrics::stats::{HOUR, with_instants};
use crate::zone::LocalTime;

/// A rule that failed a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    Result,
    CausedBy,
    Window,
    LatestPrior,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Result => "result",
            Rule::CausedBy => "caused_by",
            Rule::Window => "window",
            Rule::LatestPrior => "latest_prior",
        }
    }
}

/// A deployment, its times as wall-clock microseconds and as instants.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub application: Option<String>,
    pub finished: i64,
    pub finished_utc: i64,
    pub production: bool,
    pub success: bool,
}

/// An incident opened by the period's end; an impact end after the period's end is not known yet.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: String,
    pub application: Option<String>,
    pub opened_utc: i64,
    pub impact_end: Option<i64>,
    pub impact_end_utc: Option<i64>,
}

/// A failed production deployment: the rules and incidents that failed it and its recovery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailedDeployment {
    pub rules: BTreeSet<Rule>,
    pub incidents: BTreeSet<String>,
    /// When it recovered, in wall-clock microseconds; `None` when not by the period's end.
    pub recovered: Option<i64>,
    pub recovery_hours: Option<f64>,
}

/// The deployments of `frame` (`stg_deployments`) that finished before `end`.
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn deployments(
    frame: &DataFrame,
    settings: &Delivery,
    end: i64,
    zone: &LocalTime,
) -> PolarsResult<Vec<Deployment>> {
    let frame = with_instants(
        frame.select([
            "deployment_id",
            "application_id",
            "finished_at",
            "result",
            "environment",
        ])?,
        &["finished_at"],
        zone,
    )?;
    let ids = texts(&frame, "deployment_id")?;
    let applications = texts(&frame, "application_id")?;
    let results = texts(&frame, "result")?;
    let environments = texts(&frame, "environment")?;
    let finished = frame.column("finished_at")?.i64()?;
    let finished_utc = frame.column("finished_at_utc")?.i64()?;
    let production: Vec<String> = settings
        .production_environments
        .iter()
        .map(|e| e.to_lowercase())
        .collect();
    let mut out = Vec::new();
    for i in 0..frame.height() {
        let (Some(id), Some(at), Some(at_utc)) = (&ids[i], finished.get(i), finished_utc.get(i))
        else {
            continue;
        };
        if at >= end {
            continue;
        }
        out.push(Deployment {
            id: id.clone(),
            application: applications[i].clone(),
            finished: at,
            finished_utc: at_utc,
            // A deployment without an environment counts as production: exports of tools that
            // deploy only to production carry none.
            production: environments[i]
                .as_ref()
                .is_none_or(|e| production.contains(&e.to_lowercase())),
            success: results[i].as_deref() == Some("success"),
        });
    }
    out.sort_by(|a, b| (a.finished_utc, &a.id).cmp(&(b.finished_utc, &b.id)));
    Ok(out)
}

/// The incidents of `frame` (`stg_incidents`) opened before `end`.
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn incidents(frame: &DataFrame, end: i64, zone: &LocalTime) -> PolarsResult<Vec<Incident>> {
    let frame = with_instants(
        frame.select(["incident_id", "application_id", "opened_at", "impact_end"])?,
        &["opened_at", "impact_end"],
        zone,
    )?;
    let ids = texts(&frame, "incident_id")?;
    let applications = texts(&frame, "application_id")?;
    let opened = frame.column("opened_at")?.i64()?;
    let opened_utc = frame.column("opened_at_utc")?.i64()?;
    let ended = frame.column("impact_end")?.i64()?;
    let ended_utc = frame.column("impact_end_utc")?.i64()?;
    let mut out = Vec::new();
    for i in 0..frame.height() {
        let (Some(id), Some(at), Some(at_utc)) = (&ids[i], opened.get(i), opened_utc.get(i)) else {
            continue;
        };
        if at >= end {
            continue;
        }
        let known = ended.get(i).filter(|e| *e < end);
        out.push(Incident {
            id: id.clone(),
            application: applications[i].clone(),
            opened_utc: at_utc,
            impact_end: known,
            impact_end_utc: known.and(ended_utc.get(i)),
        });
    }
    Ok(out)
}

/// The `result` and `caused_by` links of `mart_deployment_incident_links`: (deployment id,
/// rule, incident id).
///
/// # Errors
///
/// Polars' error when the frame lacks a column.
pub fn mart_links(frame: &DataFrame) -> PolarsResult<Vec<(String, Rule, Option<String>)>> {
    let deployments = texts(frame, "deployment_id")?;
    let rules = texts(frame, "rule")?;
    let incidents = texts(frame, "incident_id")?;
    Ok((0..frame.height())
        .filter_map(|i| {
            let rule = match rules[i].as_deref()? {
                "result" => Rule::Result,
                "caused_by" => Rule::CausedBy,
                _ => return None,
            };
            Some((deployments[i].clone()?, rule, incidents[i].clone()))
        })
        .collect())
}

/// The production deployments of `deployments` that failed, by id, as of the period's end.
pub fn failed_deployments(
    deployments: &[Deployment],
    incidents: &[Incident],
    links: &[(String, Rule, Option<String>)],
    settings: &Delivery,
) -> BTreeMap<String, FailedDeployment> {
    let production: BTreeMap<&str, &Deployment> = deployments
        .iter()
        .filter(|d| d.production)
        .map(|d| (d.id.as_str(), d))
        .collect();
    let known_incidents: BTreeMap<&str, &Incident> =
        incidents.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut failed: BTreeMap<String, FailedDeployment> = BTreeMap::new();
    let mut link = |deployment: &str, rule: Rule, incident: Option<&str>| {
        let entry = failed.entry(deployment.to_string()).or_default();
        entry.rules.insert(rule);
        entry.incidents.extend(incident.map(str::to_string));
    };
    for (deployment, rule, incident) in links {
        if !production.contains_key(deployment.as_str()) {
            continue;
        }
        match (rule, incident) {
            (Rule::Result, _) => link(deployment, Rule::Result, None),
            // Only incidents opened by the period's end.
            (_, Some(incident)) if known_incidents.contains_key(incident.as_str()) => {
                link(deployment, *rule, Some(incident))
            }
            _ => {}
        }
    }
    // Each application's production deployments, in time order.
    let mut by_application: BTreeMap<&str, Vec<&Deployment>> = BTreeMap::new();
    for d in production.values() {
        if let Some(app) = &d.application {
            by_application.entry(app.as_str()).or_default().push(d);
        }
    }
    for list in by_application.values_mut() {
        list.sort_by(|a, b| (a.finished_utc, &a.id).cmp(&(b.finished_utc, &b.id)));
    }
    let hour = HOUR as i64;
    for incident in incidents {
        let Some(list) = incident
            .application
            .as_deref()
            .and_then(|a| by_application.get(a))
        else {
            continue;
        };
        // Deployments finished before the incident opened, the latest last.
        let before = list.partition_point(|d| d.finished_utc < incident.opened_utc);
        if settings.incident_window_hours > 0 {
            let from = incident.opened_utc - i64::from(settings.incident_window_hours) * hour;
            for d in list[..before]
                .iter()
                .rev()
                .take_while(|d| d.finished_utc >= from)
            {
                link(&d.id, Rule::Window, Some(&incident.id));
            }
        }
        if settings.latest_prior
            && let Some(d) = list[..before].iter().rev().find(|d| d.success)
        {
            let gap = settings.latest_prior_max_gap_hours;
            if gap == 0 || incident.opened_utc - d.finished_utc <= i64::from(gap) * hour {
                link(&d.id, Rule::LatestPrior, Some(&incident.id));
            }
        }
    }
    for (id, failure) in failed.iter_mut() {
        if let Some(deployment) = production.get(id.as_str()) {
            recover(failure, deployment, &known_incidents, &by_application);
        }
    }
    failed
}

/// Fills in when a failed deployment recovered: the latest impact end of its linked incidents
/// (none while one has not ended), else the next successful production deployment of its
/// application.
fn recover(
    failure: &mut FailedDeployment,
    deployment: &Deployment,
    incidents: &BTreeMap<&str, &Incident>,
    by_application: &BTreeMap<&str, Vec<&Deployment>>,
) {
    let recovered: Option<(i64, i64)> = if failure.incidents.is_empty() {
        deployment
            .application
            .as_deref()
            .and_then(|a| by_application.get(a))
            .and_then(|list| {
                list.iter()
                    .find(|d| d.success && d.finished_utc > deployment.finished_utc)
                    .map(|d| (d.finished, d.finished_utc))
            })
    } else {
        failure
            .incidents
            .iter()
            .map(|id| {
                incidents
                    .get(id.as_str())
                    .and_then(|i| i.impact_end.zip(i.impact_end_utc))
            })
            .collect::<Option<Vec<_>>>()
            .and_then(|ends| ends.into_iter().max_by_key(|(_, utc)| *utc))
    };
    if let Some((local, utc)) = recovered {
        failure.recovered = Some(local);
        failure.recovery_hours = Some(((utc - deployment.finished_utc).max(0)) as f64 / HOUR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = HOUR as i64;

    fn deployment(id: &str, app: &str, at_hours: i64, success: bool) -> Deployment {
        Deployment {
            id: id.into(),
            application: Some(app.into()),
            finished: at_hours * H,
            finished_utc: at_hours * H,
            production: true,
            success,
        }
    }

    fn incident(id: &str, app: &str, opened_hours: i64, ended_hours: Option<i64>) -> Incident {
        Incident {
            id: id.into(),
            application: Some(app.into()),
            opened_utc: opened_hours * H,
            impact_end: ended_hours.map(|h| h * H),
            impact_end_utc: ended_hours.map(|h| h * H),
        }
    }

    fn settings(window: u32, latest_prior: bool, gap: u32) -> Delivery {
        Delivery {
            incident_window_hours: window,
            latest_prior,
            latest_prior_max_gap_hours: gap,
            ..Delivery::default()
        }
    }

    #[test]
    fn two_incidents_on_one_deployment_make_one_failed_deployment() {
        let deployments = [
            deployment("D1", "A", 10, true),
            deployment("D2", "A", 20, true),
        ];
        let incidents = [
            incident("I1", "A", 11, Some(13)),
            incident("I2", "A", 12, Some(15)),
        ];
        let links = [
            ("D1".to_string(), Rule::CausedBy, Some("I1".to_string())),
            ("D1".to_string(), Rule::CausedBy, Some("I2".to_string())),
        ];
        let failed = failed_deployments(&deployments, &incidents, &links, &settings(0, false, 0));
        assert_eq!(failed.len(), 1);
        let d1 = &failed["D1"];
        assert_eq!(d1.incidents, ["I1", "I2"].map(String::from).into());
        // Recovered when the later of the two impacts ended: hour 15, five hours after.
        assert_eq!(d1.recovery_hours, Some(5.0));
    }

    #[test]
    fn a_window_link_never_crosses_applications() {
        let deployments = [
            deployment("DA", "A", 10, true),
            deployment("DB", "B", 10, true),
        ];
        let incidents = [incident("IB", "B", 12, Some(14))];
        let failed = failed_deployments(&deployments, &incidents, &[], &settings(4, false, 0));
        assert_eq!(failed.keys().collect::<Vec<_>>(), ["DB"]);
        assert_eq!(failed["DB"].rules, [Rule::Window].into());
        // Outside the window (opened 5 hours after a 4-hour window): no link.
        let late = [incident("IB", "B", 15, Some(16))];
        assert!(failed_deployments(&deployments, &late, &[], &settings(4, false, 0)).is_empty());
    }

    #[test]
    fn latest_prior_links_the_last_successful_deployment_within_the_gap() {
        let deployments = [
            deployment("D1", "A", 10, true),
            deployment("D2", "A", 20, false),
            deployment("D3", "A", 30, true),
        ];
        let incidents = [incident("I1", "A", 25, None)];
        let failed = failed_deployments(&deployments, &incidents, &[], &settings(0, true, 0));
        // D2 failed on its own result only through the mart; here only latest_prior: D1, the
        // latest *successful* deployment before hour 25. The impact has not ended: no recovery.
        assert_eq!(failed.keys().collect::<Vec<_>>(), ["D1"]);
        assert_eq!(failed["D1"].recovered, None);
        // With a 10-hour gap, D1 (15 hours before) is too far.
        assert!(
            failed_deployments(&deployments, &incidents, &[], &settings(0, true, 10)).is_empty()
        );
    }

    #[test]
    fn a_failed_result_recovers_with_the_next_successful_deployment() {
        let deployments = [
            deployment("D1", "A", 10, false),
            deployment("D2", "A", 13, true),
        ];
        let links = [("D1".to_string(), Rule::Result, None)];
        let failed = failed_deployments(&deployments, &[], &links, &settings(0, false, 0));
        assert_eq!(failed["D1"].rules, [Rule::Result].into());
        assert_eq!(failed["D1"].recovery_hours, Some(3.0));
    }
}
