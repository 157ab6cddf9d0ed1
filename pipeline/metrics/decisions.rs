//! The recommendation per investment: continue, fix, stop or review, by the thresholds of
//! `[metrics.decisions]`, with the reason in words of the run's language (`[reasons]` of the
//! label catalogues).
//!
//! In: an investment's [`Stage`], CPI, SPI, forward NPV at P50, probability of a positive NPV and
//! benefit realization (each may be missing), and the language. Out: the recommendation, a code
//! in every language, and its reason.
//!
//! The rules, in order: **stop** when the forward NPV at P50 is below its threshold (what is
//! still to be spent is not worth it), or, for an investment with nothing spent yet, when the
//! probability of a positive NPV is; **fix** when CPI or SPI is below its threshold (it is worth
//! it, but costs or schedule slip); **review** when an investment under way has a probability of
//! a positive lifecycle NPV below the threshold (the approved case no longer holds, though what
//! is spent is spent: stopping on it would be the sunk-cost fallacy), when benefit realization is
//! below its threshold, or when no forward NPV can be had; **continue** otherwise. An investment
//! of a `run_categories` category keeps the business running and costs money by nature: it is
//! fixed on CPI and SPI and reviewed on benefit realization, never stopped or reviewed on NPV. The reason
//! names every threshold the chosen rule found crossed, and the figures behind a continue. A
//! completed or cancelled investment has no decision left: no recommendation, and the reason
//! says so.

use crate::config::metrics::Decisions;
use crate::format::group_thousands;
use crate::labels::explained as words;
use crate::labels::{Lang, Words};

/// Where an investment stands, which decides the rules that apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Stage {
    /// No actual cost yet: its lifecycle NPV is all still to come.
    NotStarted,
    /// Money spent, and not completed or cancelled.
    #[default]
    UnderWay,
    /// Completed or cancelled (its status says so): nothing left to decide.
    Closed,
}

impl Stage {
    /// The stage of an investment from its status and its actual cost to date.
    pub fn of(status: Option<&str>, spent: bool) -> Stage {
        let status = status.map(|s| s.trim().to_ascii_lowercase());
        match status.as_deref() {
            Some("completed" | "closed" | "cancelled" | "canceled") => Stage::Closed,
            _ if !spent => Stage::NotStarted,
            _ => Stage::UnderWay,
        }
    }
}

/// The figures a recommendation weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    pub stage: Stage,
    /// A category of `run_categories`: judged on CPI, SPI and benefit realization, not on NPV.
    pub runs_the_business: bool,
    pub cpi: Option<f64>,
    pub spi: Option<f64>,
    pub forward_npv_p50: Option<f64>,
    pub probability_positive: Option<f64>,
    pub benefit_realization: Option<f64>,
}

fn money(value: f64, currency: &str) -> String {
    let whole = group_thousands(value.round() as i64);
    format!("{} {currency}", whole.replace('-', "−"))
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// The recommendation (`continue`, `fix`, `stop` or `review`; `None` for a closed investment)
/// and its reason in `lang`; the numbers in it are formatted alike in every language.
pub fn recommend(
    s: Signals,
    rules: &Decisions,
    currency: &str,
    lang: Lang,
) -> (Option<&'static str>, String) {
    if s.stage == Stage::Closed {
        return (None, words::CLOSED.get(lang).to_string());
    }
    let below = |words: Words, name: &str, value: String, threshold: String| {
        words.fill(lang, &[(name, &value), ("threshold", &threshold)])
    };
    let low_probability = s
        .probability_positive
        .filter(|p| *p < rules.stop_below_probability_positive)
        .map(|p| {
            below(
                words::PROBABILITY_BELOW,
                "share",
                percent(p),
                percent(rules.stop_below_probability_positive),
            )
        });
    let low_probability = low_probability.filter(|_| !s.runs_the_business);
    let mut stop = Vec::new();
    if let Some(v) = s.forward_npv_p50
        && v < rules.stop_below_forward_npv
        && !s.runs_the_business
    {
        stop.push(words::FORWARD_NPV_BELOW.fill(lang, &[("amount", &money(v, currency))]));
    }
    if s.stage == Stage::NotStarted {
        stop.extend(low_probability.clone());
    }
    let mut slip = Vec::new();
    if let Some(c) = s.cpi
        && c < rules.fix_below_cpi
    {
        slip.push(below(
            words::CPI_BELOW,
            "cpi",
            format!("{c:.2}"),
            format!("{:.2}", rules.fix_below_cpi),
        ));
    }
    if let Some(v) = s.spi
        && v < rules.fix_below_spi
    {
        slip.push(below(
            words::SPI_BELOW,
            "spi",
            format!("{v:.2}"),
            format!("{:.2}", rules.fix_below_spi),
        ));
    }
    let and = |parts: Vec<String>| words::join(&parts, words::AND, lang);
    if !stop.is_empty() {
        // A slip makes a stop the more evident; both are said.
        return (Some("stop"), and(slip.into_iter().chain(stop).collect()));
    }
    if !slip.is_empty() {
        return (Some("fix"), and(slip));
    }
    let mut review: Vec<String> = Vec::new();
    if s.stage == Stage::UnderWay
        && let Some(low) = low_probability
    {
        review.push(words::OVER_LIFECYCLE.fill(lang, &[("reason", &low)]));
    }
    if let Some(b) = s.benefit_realization
        && b < rules.review_below_benefit_realization
    {
        review.push(below(
            words::BENEFIT_REALIZATION_BELOW,
            "share",
            percent(b),
            percent(rules.review_below_benefit_realization),
        ));
    }
    let ratios = || {
        let cpi = s
            .cpi
            .map(|c| words::CPI.fill(lang, &[("cpi", &format!("{c:.2}"))]));
        let spi = s
            .spi
            .map(|v| words::SPI.fill(lang, &[("spi", &format!("{v:.2}"))]));
        cpi.into_iter().chain(spi)
    };
    let list = |parts: Vec<String>| words::join(&parts, words::LIST, lang);
    if s.runs_the_business {
        if !review.is_empty() {
            return (Some("review"), and(review));
        }
        let mut figures = vec![words::RUN_INVESTMENT.get(lang).to_string()];
        figures.extend(ratios());
        return (Some("continue"), list(figures));
    }
    let Some(forward) = s.forward_npv_p50 else {
        review.push(words::NO_FORWARD_NPV.get(lang).to_string());
        return (Some("review"), and(review));
    };
    if !review.is_empty() {
        return (Some("review"), and(review));
    }
    let mut figures: Vec<String> = ratios().collect();
    figures.push(words::FORWARD_NPV.fill(lang, &[("amount", &money(forward, currency))]));
    if let Some(p) = s.probability_positive {
        figures.push(words::PROBABILITY.fill(lang, &[("share", &percent(p))]));
    }
    (Some("continue"), list(figures))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals() -> Signals {
        Signals {
            stage: Stage::UnderWay,
            runs_the_business: false,
            cpi: Some(0.98),
            spi: Some(1.02),
            forward_npv_p50: Some(1_234_567.4),
            probability_positive: Some(0.91),
            benefit_realization: Some(0.95),
        }
    }

    fn said(s: Signals, rules: &Decisions) -> (Option<&'static str>, String) {
        recommend(s, rules, "EUR", Lang::En)
    }

    #[test]
    fn each_rule_gives_its_recommendation_and_reason() {
        let rules = Decisions::default();
        assert_eq!(
            said(signals(), &rules),
            (
                Some("continue"),
                "CPI 0.98, SPI 1.02, forward NPV at P50 1,234,567 EUR, P(NPV > 0) 91%".into()
            )
        );
        let stop = Signals {
            cpi: Some(0.71),
            forward_npv_p50: Some(-120_400.0),
            ..signals()
        };
        let strict = Decisions {
            fix_below_cpi: 0.85,
            ..Decisions::default()
        };
        assert_eq!(
            said(stop, &strict),
            (
                Some("stop"),
                "CPI 0.71 < 0.85 and forward NPV at P50 is −120,400 EUR".into()
            )
        );
        let fix = Signals {
            spi: Some(0.8),
            ..signals()
        };
        assert_eq!(said(fix, &rules), (Some("fix"), "SPI 0.80 < 0.90".into()));
        let review = Signals {
            benefit_realization: Some(0.5),
            ..signals()
        };
        assert_eq!(
            said(review, &rules),
            (Some("review"), "benefit realization 50% < 80%".into())
        );
        let unknown = Signals {
            forward_npv_p50: None,
            probability_positive: None,
            ..signals()
        };
        assert_eq!(
            said(unknown, &rules),
            (
                Some("review"),
                "no forward NPV (no cash flows after the period, or a line without an FX rate)"
                    .into()
            )
        );
    }

    #[test]
    fn a_lifecycle_npv_sunk_in_spent_money_asks_for_a_review_not_a_stop() {
        let rules = Decisions::default();
        let sunk = Signals {
            probability_positive: Some(0.12),
            ..signals()
        };
        assert_eq!(
            said(sunk, &rules),
            (
                Some("review"),
                "P(NPV > 0) is 12% < 50% over the lifecycle (spent money included)".into()
            )
        );
        // Before any money is spent the same figure is a reason not to start.
        let not_started = Signals {
            stage: Stage::NotStarted,
            cpi: None,
            spi: None,
            benefit_realization: None,
            ..sunk
        };
        assert_eq!(
            said(not_started, &rules),
            (Some("stop"), "P(NPV > 0) is 12% < 50%".into())
        );
    }

    #[test]
    fn a_run_investment_is_not_stopped_for_costing_money() {
        let rules = Decisions::default();
        let run = Signals {
            runs_the_business: true,
            forward_npv_p50: Some(-800_000.0),
            probability_positive: Some(0.0),
            benefit_realization: None,
            ..signals()
        };
        assert_eq!(
            said(run, &rules),
            (
                Some("continue"),
                "a run investment, not judged on NPV, CPI 0.98, SPI 1.02".into()
            )
        );
        let slipping = Signals {
            cpi: Some(0.8),
            ..run
        };
        assert_eq!(
            said(slipping, &rules),
            (Some("fix"), "CPI 0.80 < 0.90".into())
        );
    }

    #[test]
    fn reasons_are_written_in_the_runs_language_with_the_numbers_formatted_alike() {
        let rules = Decisions::default();
        let strict = Decisions {
            fix_below_cpi: 0.85,
            ..Decisions::default()
        };
        let zh = |s: Signals, rules: &Decisions| recommend(s, rules, "EUR", Lang::Zh);
        assert_eq!(
            zh(signals(), &rules),
            (
                Some("continue"),
                "CPI 0.98，SPI 1.02，前瞻净现值 P50 为 1,234,567 EUR，P(NPV > 0) 为 91%".into()
            )
        );
        let stop = Signals {
            cpi: Some(0.71),
            forward_npv_p50: Some(-120_400.0),
            ..signals()
        };
        assert_eq!(
            zh(stop, &strict),
            (
                Some("stop"),
                "CPI 0.71 低于 0.85；前瞻净现值 P50 为 −120,400 EUR".into()
            )
        );
        let sunk = Signals {
            probability_positive: Some(0.12),
            ..signals()
        };
        assert_eq!(
            zh(sunk, &rules),
            (
                Some("review"),
                "P(NPV > 0) 为 12%，低于 50%（按全生命周期计，含已支出资金）".into()
            )
        );
        let closed = Signals {
            stage: Stage::Closed,
            ..signals()
        };
        assert_eq!(
            zh(closed, &rules),
            (None, "已完成或已取消：无需再决策；数字留作记录".into())
        );
        assert_eq!(
            said(closed, &rules).1,
            "completed or cancelled: no decision left; the figures stay for the record"
        );
    }

    #[test]
    fn a_closed_investment_has_no_recommendation() {
        assert_eq!(Stage::of(Some("Completed"), true), Stage::Closed);
        assert_eq!(Stage::of(Some("cancelled"), false), Stage::Closed);
        assert_eq!(Stage::of(Some("proposed"), false), Stage::NotStarted);
        assert_eq!(Stage::of(None, true), Stage::UnderWay);
        let closed = Signals {
            stage: Stage::Closed,
            forward_npv_p50: Some(-1.0),
            ..signals()
        };
        assert_eq!(said(closed, &Decisions::default()).0, None);
    }
}
