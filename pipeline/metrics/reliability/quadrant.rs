//! Gartner's TIME quadrant per application: a technical-fit score from its incidents, change
//! failure rate and error budget over the twelve months to the period, against a business-fit
//! score from its criticality, the benefits its investment plans and the users its incidents
//! reach. Invest, Tolerate, Migrate or Eliminate by the configured thresholds, with the scores
//! behind each classification in words.
//!
//! In: the reliability [`Facts`], the deployments and links (for the change failure rate) and
//! the investments' months (for the benefits). Out: `metrics.application_time_quadrant`.

use std::collections::BTreeMap;

use polars::prelude::*;
use rust_decimal::prelude::ToPrimitive;

use super::APPLICATION_TIME_QUADRANT;
use super::figures::{Facts, ReliabilityInputs, Rows, round2};
use crate::metrics::Settings;
use crate::metrics::columns::{money, texts};
use crate::metrics::delivery::links;
use crate::metrics::stats::month_start;

/// Excel's PERCENTRANK.INC of `x` among `values` (which hold it), to three digits as Excel
/// shows it by default: the share of the other values below it.
pub fn percent_rank(values: &[f64], x: f64) -> f64 {
    if values.len() < 2 {
        return 1.0;
    }
    let below = values.iter().filter(|v| **v < x).count() as f64;
    (below / (values.len() - 1) as f64 * 1000.0).floor() / 1000.0
}

/// The mean of the scores that exist.
fn mean(scores: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = scores.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Invest, Tolerate, Migrate or Eliminate.
pub fn quadrant(
    technical: f64,
    business: f64,
    technical_at: f64,
    business_at: f64,
) -> &'static str {
    match (technical >= technical_at, business >= business_at) {
        (true, true) => "Invest",
        (true, false) => "Tolerate",
        (false, true) => "Migrate",
        (false, false) => "Eliminate",
    }
}

pub(super) fn table(
    facts: &Facts,
    inputs: &ReliabilityInputs,
    settings: &Settings,
) -> PolarsResult<DataFrame> {
    let t = &settings.metrics.time_quadrant;
    let year_from = month_start(facts.months[0]);
    let changes = change_failure_rates(facts, inputs, settings, year_from)?;
    let benefits = planned_benefits(inputs.monthly)?;
    let users: BTreeMap<&str, i64> = facts
        .incidents
        .iter()
        .filter(|i| i.opened.local >= year_from)
        .filter_map(|i| Some((i.application.as_deref()?, i.users_affected?)))
        .fold(BTreeMap::new(), |mut most, (app, n)| {
            let m = most.entry(app).or_insert(n);
            *m = (*m).max(n);
            most
        });
    let benefit_of = |app: &super::incidents::Application| {
        app.investment
            .as_ref()
            .and_then(|inv| benefits.get(inv))
            .copied()
            .filter(|b| *b > 0.0)
    };
    let all_benefits: Vec<f64> = facts.applications.values().filter_map(benefit_of).collect();
    let all_users: Vec<f64> = users.values().map(|n| *n as f64).collect();
    let mut rows = Rows::default();
    for app in facts.applications.values() {
        // Through the application's index: a scan of every incident per application made this
        // table quadratic (14 s at scale 50).
        let incidents = facts
            .of(Some(app.id.as_str()))
            .filter(|i| i.opened.local >= year_from)
            .count();
        let per_month = incidents as f64 / 12.0;
        let incident_score = (1.0 - per_month / t.max_incidents_per_month).max(0.0);
        let change = changes.get(app.id.as_str()).copied();
        let change_score = change.map(|c| (1.0 - c / t.max_change_failure_rate).max(0.0));
        let levels = &facts.levels[&app.id];
        let (bad, budget) = levels
            .iter()
            .fold((0.0, 0.0), |(b, g), l| (b + l.bad(), g + l.error_budget()));
        let consumed = (budget > 0.0).then(|| bad / budget);
        let budget_score = consumed.map(|c| (1.0 - c).max(0.0));
        let technical = mean(&[Some(incident_score), change_score, budget_score]).unwrap_or(0.0);
        let criticality = app
            .criticality
            .filter(|c| (1..=4).contains(c))
            .map(|c| (4 - c) as f64 / 3.0);
        let benefit = benefit_of(app).map(|b| percent_rank(&all_benefits, b));
        let reach = users
            .get(app.id.as_str())
            .map(|n| percent_rank(&all_users, *n as f64));
        let business = mean(&[criticality, benefit, reach]);
        let class = business.map(|b| quadrant(technical, b, t.technical_fit, t.business_fit));
        let reason = match (business, class) {
            (Some(b), Some(class)) => format!(
                "{class}: technical fit {technical:.2} {} {:.2}, business fit {b:.2} {} {:.2}",
                if technical >= t.technical_fit {
                    "≥"
                } else {
                    "<"
                },
                t.technical_fit,
                if b >= t.business_fit { "≥" } else { "<" },
                t.business_fit
            ),
            _ => "no criticality, linked benefits or affected users, so no business fit".into(),
        };
        let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
        rows.text("application_id", Some(app.id.clone()));
        rows.text("name", app.name.clone());
        rows.text("investment_id", app.investment.clone());
        rows.float("incidents_per_month", Some(round2(per_month)));
        rows.float("incident_score", Some(round3(incident_score)));
        rows.float("change_failure_rate_12m", change);
        rows.float("change_score", change_score.map(round3));
        rows.float("budget_consumed_12m", consumed);
        rows.float("budget_score", budget_score.map(round3));
        rows.float("technical_fit", Some(round3(technical)));
        rows.float("criticality_score", criticality.map(round3));
        rows.float("benefit_score", benefit);
        rows.float("users_score", reach);
        rows.float("business_fit", business.map(round3));
        rows.text("quadrant", class.map(str::to_string));
        rows.text("reason", Some(reason));
    }
    rows.frame(&APPLICATION_TIME_QUADRANT, facts.period)
}

/// Each application's change failure rate over the production deployments that finished from
/// `from` to the period's end, by the delivery figures' rules.
fn change_failure_rates(
    facts: &Facts,
    inputs: &ReliabilityInputs,
    settings: &Settings,
    from: i64,
) -> PolarsResult<BTreeMap<String, f64>> {
    let delivery = &settings.metrics.delivery;
    let end = facts.window.end;
    let deployments = links::deployments(inputs.deployments, delivery, end, settings.zone)?;
    let incidents = links::incidents(inputs.incidents, end, settings.zone)?;
    let failed = links::failed_deployments(
        &deployments,
        &incidents,
        &links::mart_links(inputs.links)?,
        delivery,
    );
    let mut counts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for d in deployments
        .iter()
        .filter(|d| d.production && d.finished >= from)
    {
        if let Some(app) = &d.application {
            let c = counts.entry(app.clone()).or_default();
            c.0 += 1;
            c.1 += u32::from(failed.contains_key(&d.id));
        }
    }
    Ok(counts
        .into_iter()
        .map(|(app, (all, failed))| (app, f64::from(failed) / f64::from(all)))
        .collect())
}

/// Each investment's planned benefits over all its months, in the reporting currency.
fn planned_benefits(monthly: &DataFrame) -> PolarsResult<BTreeMap<String, f64>> {
    let ids = texts(monthly, "investment_id")?;
    let planned = money(monthly, "planned_benefit")?;
    let mut out: BTreeMap<String, rust_decimal::Decimal> = BTreeMap::new();
    for (id, amount) in ids.into_iter().zip(planned) {
        if let (Some(id), Some(amount)) = (id, amount) {
            *out.entry(id).or_default() += amount;
        }
    }
    Ok(out
        .into_iter()
        .filter_map(|(id, d)| Some((id, d.to_f64()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rank_and_the_quadrants_follow_their_definitions() {
        // Excel: PERCENTRANK.INC({1,2,3,4}, 2) = 0.333; of the largest value, 1.
        assert_eq!(percent_rank(&[1.0, 2.0, 3.0, 4.0], 2.0), 0.333);
        assert_eq!(percent_rank(&[1.0, 2.0, 3.0, 4.0], 4.0), 1.0);
        assert_eq!(percent_rank(&[7.0], 7.0), 1.0);
        assert_eq!(quadrant(0.8, 0.9, 0.5, 0.5), "Invest");
        assert_eq!(quadrant(0.8, 0.2, 0.5, 0.5), "Tolerate");
        assert_eq!(quadrant(0.3, 0.9, 0.5, 0.5), "Migrate");
        assert_eq!(quadrant(0.3, 0.2, 0.5, 0.5), "Eliminate");
        assert_eq!(quadrant(0.5, 0.5, 0.5, 0.5), "Invest");
        assert_eq!(mean(&[Some(1.0), None, Some(0.5)]), Some(0.75));
        assert_eq!(mean(&[None, None]), None);
    }
}
