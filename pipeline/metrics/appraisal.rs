//! The appraisal of every investment as of a period: the earned-value forecasts (CV, SV, EAC,
//! ETC, VAC, TCPI), the valuation (NPV, IRR, forward NPV, ROI, payback, benefit realization),
//! the risk-adjusted NPV and the recommendation, added to the rows of `investment_finance`; and
//! the investments' cash flows month by month.
//!
//! In: the earned-value frame, the monthly mart, the investments, the benefit lines and the
//! settings. Out: the frame with the appraisal's columns, the cash-flow frame, and what Run Info
//! says of the simulation.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Settings;
use super::columns::{cents, dates, floats, money, money_series, texts};
use super::decisions::{Signals, Stage, recommend};
use super::simulation::{BenefitLine, Overrun, Simulated, simulate};
use super::valuation::{BenefitsToDate, Flow, Valuation, cash_flows, value};
use crate::config::metrics::CostOverrun;
use crate::labels::Lang;
use crate::labels::explained::{SEPARATOR, finance as notes};
use crate::schedule::Period;

/// What the appraisal adds, and what it says about itself.
pub struct Appraisal {
    /// The earned-value frame with the appraisal's columns.
    pub investments: DataFrame,
    /// period, investment_id, month, flow_date, costs, benefits, net_flow, basis.
    pub cash_flows: DataFrame,
    /// The simulation's settings and cost model, in words.
    pub simulation: String,
}

/// One investment's appraisal, before it becomes columns.
#[derive(Default)]
struct Row {
    valuation: Valuation,
    /// Planned and realized benefits of the months up to the period.
    benefits_to_date: BenefitsToDate,
    simulated: Option<Simulated>,
    cv: Option<Decimal>,
    sv: Option<Decimal>,
    eac: Option<Decimal>,
    etc: Option<Decimal>,
    vac: Option<Decimal>,
    tcpi: Option<f64>,
    rate: f64,
    recommendation: Option<&'static str>,
    reason: String,
    notes: Vec<String>,
}

fn to_cents(value: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(value).map(cents)
}

/// The benefit lines after the period, per investment, with their low and high amounts (the
/// configured band of their benefit_type where the line has none).
fn future_lines(
    benefits: &DataFrame,
    period: Period,
    settings: &Settings,
) -> PolarsResult<BTreeMap<String, Vec<BenefitLine>>> {
    let ids = texts(benefits, "investment_id")?;
    let scenario = texts(benefits, "scenario")?;
    let kind = texts(benefits, "benefit_type")?;
    let months = dates(benefits, "period")?;
    let likely = floats(benefits, "amount_reporting")?;
    let low = floats(benefits, "amount_low_reporting")?;
    let high = floats(benefits, "amount_high_reporting")?;
    let bands = &settings.metrics.valuation.benefit_bands;
    let mut lines: BTreeMap<String, Vec<BenefitLine>> = BTreeMap::new();
    for i in 0..benefits.height() {
        let (Some(id), Some(month), Some(likely)) = (&ids[i], months[i], likely[i]) else {
            continue;
        };
        if scenario[i].as_deref() != Some("planned") || month <= period.first_day() {
            continue;
        }
        let band = kind[i]
            .as_deref()
            .and_then(|k| bands.get(k))
            .copied()
            .unwrap_or([0.8, 1.2]);
        let low = low[i].unwrap_or(likely * band[0]).min(likely);
        let high = high[i].unwrap_or(likely * band[1]).max(likely);
        lines.entry(id.clone()).or_default().push(BenefitLine {
            month,
            low,
            likely,
            high,
        });
    }
    Ok(lines)
}

/// The benefits planned and realized in the months up to the period, per investment.
fn benefits_to_date(
    monthly: &DataFrame,
    period: Period,
) -> PolarsResult<BTreeMap<String, BenefitsToDate>> {
    let ids = texts(monthly, "investment_id")?;
    let months = dates(monthly, "period")?;
    let planned = money(monthly, "planned_benefit")?;
    let realized = money(monthly, "realized_benefit")?;
    let mut totals: BTreeMap<String, BenefitsToDate> = BTreeMap::new();
    for i in 0..monthly.height() {
        let (Some(id), Some(month)) = (&ids[i], months[i]) else {
            continue;
        };
        if month <= period.first_day() {
            let t = totals.entry(id.clone()).or_insert(NO_BENEFITS);
            // An empty month (a line without an FX rate) empties the total.
            t.planned = t.planned.zip(planned[i]).map(|(a, b)| a + b);
            t.realized = t.realized.zip(realized[i]).map(|(a, b)| a + b);
        }
    }
    Ok(totals)
}

/// No benefit lines up to the period.
const NO_BENEFITS: BenefitsToDate = BenefitsToDate {
    planned: Some(Decimal::ZERO),
    realized: Some(Decimal::ZERO),
};

/// CV, SV, EAC, ETC, VAC in exact money and TCPI, from EV, AC, PV and BAC.
fn forecasts(
    row: &mut Row,
    ev: Option<Decimal>,
    ac: Option<Decimal>,
    pv: Option<Decimal>,
    bac: Option<Decimal>,
    lang: Lang,
) {
    row.cv = ev.zip(ac).map(|(ev, ac)| ev - ac);
    row.sv = ev.zip(pv).map(|(ev, pv)| ev - pv);
    // EAC = BAC / CPI = BAC × AC / EV, rounded once; like CPI it needs money spent.
    row.eac = match (bac, ac, ev) {
        (Some(bac), Some(ac), Some(ev)) if !ev.is_zero() && ac > Decimal::ZERO => bac
            .checked_mul(ac)
            .and_then(|x| x.checked_div(ev))
            .map(cents),
        _ => None,
    };
    row.etc = row.eac.zip(ac).map(|(eac, ac)| eac - ac);
    row.vac = bac.zip(row.eac).map(|(bac, eac)| bac - eac);
    // Past BAC the remaining budget is negative and the ratio says nothing: EAC is the forecast.
    row.tcpi = match (bac, ev, ac) {
        (Some(bac), Some(ev), Some(ac)) if bac > ac => ((bac - ev) / (bac - ac)).to_f64(),
        _ => None,
    };
    let missing = match (ev, ac) {
        (None, _) => Some(notes::NO_EAC_WITHOUT_EV),
        (_, None) => Some(notes::NO_EAC_WITHOUT_ACTUAL),
        (_, Some(ac)) if ac <= Decimal::ZERO => Some(notes::NO_EAC_WITHOUT_ACTUAL),
        (Some(ev), _) if ev.is_zero() => Some(notes::NO_EAC_EV_ZERO),
        _ => None,
    };
    if let Some(missing) = missing {
        row.notes.push(missing.get(lang).to_string());
    }
    if let (Some(bac), Some(ac)) = (bac, ac)
        && ac >= bac
    {
        row.notes.push(notes::AC_REACHED_BAC.get(lang).to_string());
    }
}

/// What the investments table says of one investment, by id.
#[derive(Default)]
struct Facts {
    rate: Option<f64>,
    status: Option<String>,
    runs_the_business: bool,
}

fn facts(investments: &DataFrame, settings: &Settings) -> PolarsResult<BTreeMap<String, Facts>> {
    let run_categories = &settings.metrics.decisions.run_categories;
    let ids = texts(investments, "investment_id")?;
    let rates = floats(investments, "discount_rate")?;
    let statuses = texts(investments, "status")?;
    let categories = texts(investments, "category")?;
    Ok(ids
        .into_iter()
        .zip(rates.into_iter().zip(statuses.into_iter().zip(categories)))
        .filter_map(|(id, (rate, (status, category)))| {
            let runs_the_business = category.is_some_and(|c| run_categories.contains(&c));
            Some((
                id?,
                Facts {
                    rate,
                    status,
                    runs_the_business,
                },
            ))
        })
        .collect())
}

/// The earned-value figures of one row of the earned-value frame.
#[derive(Clone, Copy)]
struct Earned {
    cpi: Option<f64>,
    spi: Option<f64>,
    ev: Option<Decimal>,
    ac: Option<Decimal>,
    pv: Option<Decimal>,
    bac: Option<Decimal>,
}

fn earned(frame: &DataFrame) -> PolarsResult<Vec<Earned>> {
    let cpi = floats(frame, "cpi")?;
    let spi = floats(frame, "spi")?;
    let ev = money(frame, "earned_value")?;
    let ac = money(frame, "actual_to_date")?;
    let pv = money(frame, "budget_to_date")?;
    let bac = money(frame, "budget_at_completion")?;
    Ok((0..frame.height())
        .map(|i| Earned {
            cpi: cpi[i],
            spi: spi[i],
            ev: ev[i],
            ac: ac[i],
            pv: pv[i],
            bac: bac[i],
        })
        .collect())
}

/// Future costs' overrun: the configured band, or the spread of AC / EV the portfolio shows.
fn overrun_model(earned: &[Earned], settings: &Settings) -> Overrun {
    match &settings.metrics.valuation.cost_overrun {
        CostOverrun::Observed => Overrun::observed(
            earned
                .iter()
                .filter_map(|e| e.cpi)
                .filter(|c| *c > 0.0)
                .map(|c| 1.0 / c)
                .collect(),
        ),
        CostOverrun::Band([low, likely, high]) => Overrun::Band {
            low: *low,
            likely: *likely,
            high: *high,
        },
    }
}

/// Everything an investment's appraisal reads besides its own row.
struct Portfolio<'a> {
    flows: BTreeMap<String, Vec<Flow>>,
    lines: BTreeMap<String, Vec<BenefitLine>>,
    to_date: BTreeMap<String, BenefitsToDate>,
    facts: BTreeMap<String, Facts>,
    overrun: Overrun,
    period: Period,
    settings: &'a Settings<'a>,
}

impl Portfolio<'_> {
    fn appraise_one(&self, id: &str, e: Earned) -> Row {
        let facts = self.facts.get(id);
        let settings = self.settings;
        let mut row = Row {
            rate: facts
                .and_then(|f| f.rate)
                .unwrap_or(settings.default_discount_rate),
            ..Row::default()
        };
        forecasts(&mut row, e.ev, e.ac, e.pv, e.bac, settings.lang);
        let flows = self.flows.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let to_date = self.to_date.get(id).copied().unwrap_or(NO_BENEFITS);
        row.benefits_to_date = to_date;
        row.valuation = value(flows, row.rate, self.period, to_date, settings.lang);
        let nets: Option<Vec<f64>> = flows
            .iter()
            .map(|f| f.net().and_then(|n| n.to_f64()))
            .collect();
        // Simulated only what has an NPV: the same gaps, the same reasons.
        if let Some(nets) = nets.filter(|_| row.valuation.npv.is_some()) {
            let valuation = &settings.metrics.valuation;
            row.simulated = simulate(
                id,
                flows,
                &nets,
                self.lines.get(id).map(Vec::as_slice).unwrap_or(&[]),
                row.rate,
                self.period,
                &self.overrun,
                valuation.draws,
                valuation.seed,
            );
        }
        let spent = e.ac.is_some_and(|ac| ac > Decimal::ZERO);
        let signals = Signals {
            stage: Stage::of(facts.and_then(|f| f.status.as_deref()), spent),
            runs_the_business: facts.is_some_and(|f| f.runs_the_business),
            cpi: e.cpi,
            spi: e.spi,
            forward_npv_p50: row
                .simulated
                .filter(|_| row.valuation.forward_npv.is_some())
                .map(|s| s.forward_p50),
            probability_positive: row.simulated.map(|s| s.probability_positive),
            benefit_realization: row.valuation.benefit_realization,
        };
        let (recommendation, reason) = recommend(
            signals,
            &settings.metrics.decisions,
            settings.reporting_currency,
            settings.lang,
        );
        row.recommendation = recommendation;
        row.reason = reason;
        row
    }
}

/// Appraises every investment of `frame` (the earned-value rows) as of `period`, the
/// investments in parallel (each one's simulation seeds its own stream, so the order and the
/// thread count change nothing).
///
/// # Errors
///
/// A Polars error when an input lacks an expected column.
pub fn appraise(
    frame: DataFrame,
    monthly: &DataFrame,
    investments: &DataFrame,
    benefits: &DataFrame,
    period: Period,
    settings: &Settings,
) -> PolarsResult<Appraisal> {
    let ids = texts(&frame, "investment_id")?;
    let earned = earned(&frame)?;
    let portfolio = Portfolio {
        flows: cash_flows(monthly, period)?,
        lines: future_lines(benefits, period, settings)?,
        to_date: benefits_to_date(monthly, period)?,
        facts: facts(investments, settings)?,
        overrun: overrun_model(&earned, settings),
        period,
        settings,
    };
    let rows: Vec<Row> = (0..frame.height())
        .into_par_iter()
        .map(|i| portfolio.appraise_one(ids[i].as_deref().unwrap_or_default(), earned[i]))
        .collect();
    let investments = with_columns(frame, &rows, SEPARATOR.get(settings.lang))?;
    let cash_flows = cash_flow_frame(&portfolio.flows, period)?;
    let valuation = &settings.metrics.valuation;
    Ok(Appraisal {
        investments,
        cash_flows,
        simulation: format!(
            "{} draws per investment from seed {}; benefits triangular on their low, likely and high amounts; {}",
            valuation.draws,
            valuation.seed,
            portfolio.overrun.describe()
        ),
    })
}

fn float_series(name: &str, values: impl Iterator<Item = Option<f64>>) -> Column {
    Series::new(name.into(), values.collect::<Vec<_>>()).into_column()
}

fn date_series(
    name: &str,
    values: impl Iterator<Item = Option<NaiveDate>>,
) -> PolarsResult<Column> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let days: Vec<Option<i32>> = values
        .map(|d| d.map(|d| (d - epoch).num_days() as i32))
        .collect();
    Ok(Series::new(name.into(), days)
        .cast(&DataType::Date)?
        .into_column())
}

fn with_columns(mut frame: DataFrame, rows: &[Row], separator: &str) -> PolarsResult<DataFrame> {
    let notes = texts(&frame, "notes")?;
    let v = |f: fn(&Row) -> Option<f64>| rows.iter().map(f);
    let columns = vec![
        money_series("cv", rows.iter().map(|r| r.cv))?,
        money_series("sv", rows.iter().map(|r| r.sv))?,
        money_series("eac", rows.iter().map(|r| r.eac))?,
        money_series("etc", rows.iter().map(|r| r.etc))?,
        money_series("vac", rows.iter().map(|r| r.vac))?,
        float_series("tcpi", v(|r| r.tcpi)),
        float_series("discount_rate", v(|r| Some(r.rate))),
        money_series(
            "npv",
            rows.iter().map(|r| r.valuation.npv.and_then(to_cents)),
        )?,
        float_series("irr", v(|r| r.valuation.irr)),
        money_series(
            "forward_npv",
            rows.iter()
                .map(|r| r.valuation.forward_npv.and_then(to_cents)),
        )?,
        money_series(
            "npv_p10",
            rows.iter()
                .map(|r| r.simulated.and_then(|s| to_cents(s.p10))),
        )?,
        money_series(
            "npv_p50",
            rows.iter()
                .map(|r| r.simulated.and_then(|s| to_cents(s.p50))),
        )?,
        money_series(
            "npv_p90",
            rows.iter()
                .map(|r| r.simulated.and_then(|s| to_cents(s.p90))),
        )?,
        float_series(
            "probability_npv_positive",
            v(|r| r.simulated.map(|s| s.probability_positive)),
        ),
        money_series(
            "forward_npv_p50",
            rows.iter().map(|r| {
                r.simulated
                    .filter(|_| r.valuation.forward_npv.is_some())
                    .and_then(|s| to_cents(s.forward_p50))
            }),
        )?,
        money_series(
            "forward_npv_mean",
            rows.iter().map(|r| {
                r.simulated
                    .filter(|_| r.valuation.forward_npv.is_some())
                    .and_then(|s| to_cents(s.forward_mean))
            }),
        )?,
        float_series("roi_lifecycle", v(|r| r.valuation.roi_lifecycle)),
        float_series("roi_to_date", v(|r| r.valuation.roi_to_date)),
        date_series(
            "payback_date",
            rows.iter().map(|r| r.valuation.payback_date),
        )?,
        float_series("payback_months", v(|r| r.valuation.payback_months)),
        date_series(
            "discounted_payback_date",
            rows.iter().map(|r| r.valuation.discounted_payback_date),
        )?,
        float_series(
            "discounted_payback_months",
            v(|r| r.valuation.discounted_payback_months),
        ),
        money_series(
            "planned_benefits_to_date",
            rows.iter().map(|r| r.benefits_to_date.planned),
        )?,
        money_series(
            "realized_benefits_to_date",
            rows.iter().map(|r| r.benefits_to_date.realized),
        )?,
        float_series(
            "benefit_realization",
            v(|r| r.valuation.benefit_realization),
        ),
        Series::new(
            "recommendation".into(),
            rows.iter().map(|r| r.recommendation).collect::<Vec<_>>(),
        )
        .into_column(),
        Series::new(
            "recommendation_reason".into(),
            rows.iter().map(|r| r.reason.clone()).collect::<Vec<_>>(),
        )
        .into_column(),
    ];
    let merged: Vec<String> = notes
        .into_iter()
        .zip(rows)
        .map(|(note, row)| {
            let mut parts: Vec<String> = note
                .into_iter()
                .filter(|n| !n.is_empty())
                .chain(row.notes.iter().cloned())
                .chain(row.valuation.notes.iter().cloned())
                .collect();
            parts.dedup();
            parts.join(separator)
        })
        .collect();
    let _ = frame.drop_in_place("notes")?;
    for column in columns {
        frame.with_column(column)?;
    }
    frame.with_column(Series::new("notes".into(), merged).into_column())?;
    Ok(frame)
}

/// The long frame of every investment's flows.
fn cash_flow_frame(flows: &BTreeMap<String, Vec<Flow>>, period: Period) -> PolarsResult<DataFrame> {
    let all: Vec<(&String, &Flow)> = flows
        .iter()
        .flat_map(|(id, f)| f.iter().map(move |flow| (id, flow)))
        .collect();
    DataFrame::new_infer_height(vec![
        date_series("period", all.iter().map(|_| Some(period.first_day())))?,
        Series::new(
            "investment_id".into(),
            all.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        )
        .into_column(),
        date_series("month", all.iter().map(|(_, f)| Some(f.month)))?,
        date_series("flow_date", all.iter().map(|(_, f)| Some(f.date())))?,
        money_series("costs", all.iter().map(|(_, f)| f.costs))?,
        money_series("benefits", all.iter().map(|(_, f)| f.benefits))?,
        money_series("net_flow", all.iter().map(|(_, f)| f.net()))?,
        Series::new(
            "basis".into(),
            all.iter().map(|(_, f)| f.basis).collect::<Vec<_>>(),
        )
        .into_column(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(cents: i64) -> Option<Decimal> {
        Some(Decimal::new(cents, 2))
    }

    #[test]
    fn eac_etc_vac_and_tcpi_follow_bac_ev_and_ac_to_the_cent() {
        let mut row = Row::default();
        // BAC 1,000.00, EV 300.00, AC 400.00, PV 350.00: CPI 0.75, EAC 1,333.33 (1,333.333…).
        forecasts(
            &mut row,
            money(30_000),
            money(40_000),
            money(35_000),
            money(100_000),
            Lang::En,
        );
        assert_eq!(row.cv, money(-10_000));
        assert_eq!(row.sv, money(-5_000));
        assert_eq!(row.eac, money(133_333));
        assert_eq!(row.etc, money(93_333));
        assert_eq!(row.vac, money(-33_333));
        assert_eq!(row.tcpi, Some(700.0 / 600.0));
        assert!(row.notes.is_empty(), "{:?}", row.notes);
    }

    #[test]
    fn progress_without_money_spent_gives_no_eac_rather_than_an_eac_of_zero() {
        let mut row = Row::default();
        forecasts(
            &mut row,
            money(5_000),
            money(0),
            money(0),
            money(100_000),
            Lang::En,
        );
        assert_eq!((row.eac, row.etc, row.vac), (None, None, None));
        assert_eq!(row.notes, ["no actual cost, so no EAC, ETC or VAC"]);
    }

    #[test]
    fn a_spent_budget_gives_no_tcpi_rather_than_a_negative_one() {
        let mut row = Row::default();
        // AC 1,200.00 over a BAC of 1,000.00: the remaining budget is negative.
        forecasts(
            &mut row,
            money(80_000),
            money(120_000),
            money(100_000),
            money(100_000),
            Lang::En,
        );
        assert_eq!(row.tcpi, None);
        assert_eq!(row.eac, money(150_000));
        assert_eq!(
            row.notes,
            ["AC has reached BAC, so no TCPI (EAC is the forecast)"]
        );
    }
}
