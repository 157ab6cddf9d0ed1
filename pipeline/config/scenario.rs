//! `[[scenario]]` entries: portfolio scenarios, each a budget envelope over a window of months,
//! an objective and the committee's constraints, from which the scenarios family picks the
//! candidates to fund.
//!
//! In: the raw TOML tables. Out: validated [`Scenario`]s. What can be checked without the data is
//! checked here (names, amounts, shares, the window, the objective); what needs the investments
//! (an id that names none, must-funds over budget, a cycle of prerequisites) is the scenario's
//! fault at run time, which leaves the rest of the pack standing.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::sheet::{FIXED_SHEETS, MAX_SHEET_NAME, ModelSheet};
use crate::schedule::Period;

/// What a scenario maximises.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Objective {
    /// The forward NPV at P50 of the simulation (risk-adjusted; the default).
    #[default]
    NpvP50,
    /// The mean forward NPV over the simulation's draws.
    ExpectedNpv,
    /// A weighted sum of figures of `metrics.investment_finance`, by column name.
    Weighted(BTreeMap<String, f64>),
}

impl Objective {
    /// The objective's key in the configuration.
    pub fn key(&self) -> &'static str {
        match self {
            Objective::NpvP50 => "npv_p50",
            Objective::ExpectedNpv => "expected_npv",
            Objective::Weighted(_) => "weighted",
        }
    }
}

/// The figures of `metrics.investment_finance` a weighted objective may weigh.
pub const WEIGHABLE: [&str; 14] = [
    "forward_npv_p50",
    "forward_npv_mean",
    "forward_npv",
    "npv",
    "npv_p10",
    "npv_p50",
    "npv_p90",
    "probability_npv_positive",
    "irr",
    "roi_lifecycle",
    "benefit_realization",
    "cpi",
    "spi",
    "tcpi",
];

/// A quarter of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub quarter: u32,
}

impl Quarter {
    /// Its first month.
    pub fn first(self) -> Period {
        Period::new(self.year, self.quarter * 3 - 2).expect("a validated quarter")
    }

    /// Its last month.
    pub fn last(self) -> Period {
        self.first().plus(2)
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.quarter)
    }
}

impl FromStr for Quarter {
    type Err = ();

    fn from_str(s: &str) -> Result<Quarter, ()> {
        let (year, quarter) = s.trim().split_once(['-', ' ']).ok_or(())?;
        let quarter = quarter.trim().strip_prefix(['Q', 'q']).ok_or(())?;
        let year: i32 = year.parse().map_err(|_| ())?;
        let quarter: u32 = quarter.parse().map_err(|_| ())?;
        if !(1..=4).contains(&quarter) || Period::new(year, 1).is_none() {
            return Err(());
        }
        Ok(Quarter { year, quarter })
    }
}

/// The envelope: a total over the window, and optionally per year and per quarter, in the
/// reporting currency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Budget {
    pub total: Option<Decimal>,
    pub years: BTreeMap<i32, Decimal>,
    pub quarters: BTreeMap<Quarter, Decimal>,
}

impl Budget {
    /// The envelope as one amount: the total, else the years' sum, else the quarters'.
    pub fn envelope(&self) -> Decimal {
        match self.total {
            Some(total) => total,
            None if !self.years.is_empty() => self.years.values().copied().sum(),
            None => self.quarters.values().copied().sum(),
        }
    }
}

/// A portfolio scenario, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name: the key of its rows in `metrics.scenario_*` and the name of its sheet.
    pub name: String,
    /// The months whose costs the envelope covers; `None`: the whole calendar years the yearly
    /// and quarterly budgets fall in, else the calendar year after the period.
    pub window: Option<(Period, Period)>,
    pub budget: Budget,
    pub objective: Objective,
    /// Investments funded (or continued) whatever the objective says.
    pub must_fund: Vec<String>,
    /// Investments not funded (or stopped) whatever the objective says.
    pub must_stop: Vec<String>,
    /// Per investment, the investments it needs: funded only with all of them.
    pub requires: BTreeMap<String, Vec<String>>,
    /// Named groups of which at most one is funded.
    pub exclusive: BTreeMap<String, Vec<String>>,
    /// Per category, the largest share of the funded cost in the window it may take.
    pub category_max_share: BTreeMap<String, Decimal>,
    /// Proposed candidates whose probability of a positive NPV is below this are not funded.
    pub min_probability_positive: Option<f64>,
    /// Keep active investments of `metrics.decisions.run_categories` (unless must-stop), as the
    /// recommendation never stops them on NPV.
    pub keep_running: bool,
    /// The budget levels of the efficient frontier, as shares of the envelope, ascending.
    pub frontier: Vec<f64>,
    /// How long one solve may take before the best selection found is used.
    pub time_limit_seconds: f64,
}

impl Scenario {
    /// The file name stem of its frontier chart (`frontier-budget-2027`).
    pub fn slug(&self) -> String {
        slug(&self.name)
    }
}

/// The file name stem of the frontier chart of the scenario called `name`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    format!("frontier-{}", out.trim_matches('-'))
}

/// The default frontier: 60% to 140% of the envelope in steps of 10%.
pub const DEFAULT_FRONTIER: [f64; 9] = [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4];

/// The default time limit of one solve, in seconds.
pub const DEFAULT_TIME_LIMIT_SECONDS: f64 = 10.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    name: String,
    from: Option<String>,
    to: Option<String>,
    budget: RawBudget,
    #[serde(default)]
    objective: Option<String>,
    #[serde(default)]
    weights: BTreeMap<String, f64>,
    #[serde(default)]
    must_fund: Vec<String>,
    #[serde(default)]
    must_stop: Vec<String>,
    #[serde(default)]
    requires: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    exclusive: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    category_max_share: BTreeMap<String, f64>,
    min_probability_positive: Option<f64>,
    #[serde(default = "yes")]
    keep_running: bool,
    frontier: Option<Vec<f64>>,
    time_limit_seconds: Option<f64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    total: Option<f64>,
    #[serde(default)]
    years: BTreeMap<String, f64>,
    #[serde(default)]
    quarters: BTreeMap<String, f64>,
}

/// An amount of the configuration as exact money: at most two decimals, not negative.
fn money(key: &str, value: f64) -> Result<Decimal, String> {
    let cents = (value * 100.0).round();
    if !value.is_finite() || value < 0.0 || cents >= 1e17 {
        return Err(format!(
            "{key} = {value}: expected an amount of at least 0 in the reporting currency"
        ));
    }
    if (value * 100.0 - cents).abs() > 1e-6 * cents.abs().max(1.0) {
        return Err(format!("{key} = {value}: expected at most 2 decimals"));
    }
    Ok(Decimal::new(cents as i64, 2))
}

fn period(key: &str, text: &str) -> Result<Period, String> {
    text.parse()
        .map_err(|_| format!("{key} = {text:?}: expected a month such as \"2027-01\""))
}

fn ids(key: &str, list: Vec<String>) -> Result<Vec<String>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for id in list {
        let id = id.trim().to_string();
        if id.is_empty() {
            return Err(format!("{key}: an investment id is empty"));
        }
        if !seen.insert(id.clone()) {
            return Err(format!("{key}: {id} is listed twice"));
        }
        out.push(id);
    }
    Ok(out)
}

/// Checks one `[[scenario]]` against the rules that need no data, the sheets before it and the
/// model sheets (a scenario's sheet is named after it).
pub(super) fn validate(
    raw: RawScenario,
    index: usize,
    earlier: &[Scenario],
    model_sheets: &[ModelSheet],
) -> Result<Scenario, String> {
    let name = raw.name.trim().to_string();
    let at = format!("scenario[{index}] ({name})");
    check_name(&name, index, &at, earlier, model_sheets)?;
    let key = |k: &str| format!("{at}: {k}");
    let window = match (&raw.from, &raw.to) {
        (Some(from), Some(to)) => {
            let (from, to) = (period(&key("from"), from)?, period(&key("to"), to)?);
            if to < from {
                return Err(format!("{at}: to = {to} is before from = {from}"));
            }
            Some((from, to))
        }
        (None, None) => None,
        _ => {
            return Err(format!(
                "{at}: give both from and to (the window's first and last month), or neither"
            ));
        }
    };
    let budget = budget(raw.budget, &key)?;
    if let Some((from, to)) = window {
        for (label, first, last) in budget_spans(&budget) {
            if last < from || first > to {
                return Err(format!(
                    "{at}: budget.{label} lies outside the window {from} to {to}"
                ));
            }
        }
    }
    let objective = objective(raw.objective.as_deref(), raw.weights, &key)?;
    let must_fund = ids(&key("must_fund"), raw.must_fund)?;
    let must_stop = ids(&key("must_stop"), raw.must_stop)?;
    let mut requires = BTreeMap::new();
    for (id, needs) in raw.requires {
        let needs = ids(&key(&format!("requires.{id}")), needs)?;
        if needs.is_empty() {
            return Err(format!(
                "{}: name the investments it needs",
                key(&format!("requires.{id}"))
            ));
        }
        requires.insert(id.trim().to_string(), needs);
    }
    let mut exclusive = BTreeMap::new();
    for (group, members) in raw.exclusive {
        let members = ids(&key(&format!("exclusive.{group}")), members)?;
        if members.len() < 2 {
            return Err(format!(
                "{}: a group of mutually exclusive investments needs at least two",
                key(&format!("exclusive.{group}"))
            ));
        }
        exclusive.insert(group, members);
    }
    let mut category_max_share = BTreeMap::new();
    for (category, share) in raw.category_max_share {
        if !["run", "grow", "transform"].contains(&category.as_str()) {
            return Err(format!(
                "{}: {category:?} is not a category (run, grow, transform)",
                key("category_max_share")
            ));
        }
        if !(0.0..=1.0).contains(&share) {
            return Err(format!(
                "{} = {share}: expected a share from 0 to 1 of the funded cost",
                key(&format!("category_max_share.{category}"))
            ));
        }
        // The shortest decimal that reads back as the float: 0.35, not 0.34999….
        let exact = Decimal::from_str(&share.to_string())
            .map_err(|e| format!("{}: {e}", key("category_max_share")))?;
        category_max_share.insert(category, exact);
    }
    if let Some(p) = raw.min_probability_positive
        && !(0.0..=1.0).contains(&p)
    {
        return Err(format!(
            "{} = {p}: expected a share from 0 to 1",
            key("min_probability_positive")
        ));
    }
    let frontier = frontier(raw.frontier, &key)?;
    let time_limit_seconds = raw.time_limit_seconds.unwrap_or(DEFAULT_TIME_LIMIT_SECONDS);
    if !(0.1..=3600.0).contains(&time_limit_seconds) {
        return Err(format!(
            "{} = {time_limit_seconds}: expected 0.1 to 3600 seconds",
            key("time_limit_seconds")
        ));
    }
    Ok(Scenario {
        name,
        window,
        budget,
        objective,
        must_fund,
        must_stop,
        requires,
        exclusive,
        category_max_share,
        min_probability_positive: raw.min_probability_positive,
        keep_running: raw.keep_running,
        frontier,
        time_limit_seconds,
    })
}

/// A scenario's name is its sheet's: Excel's rules, and unique among the sheets.
fn check_name(
    name: &str,
    index: usize,
    at: &str,
    earlier: &[Scenario],
    model_sheets: &[ModelSheet],
) -> Result<(), String> {
    let length = name.chars().count();
    if length == 0 {
        return Err(format!("scenario[{index}]: name is empty"));
    }
    if length > MAX_SHEET_NAME {
        return Err(format!(
            "{at}: name is {length} characters, over Excel's limit of {MAX_SHEET_NAME} for the name of its sheet"
        ));
    }
    if let Some(c) = name.chars().find(|c| "[]:*?/\\".contains(*c)) {
        return Err(format!(
            "{at}: name holds {c:?}, which Excel does not allow in the name of its sheet ([ ] : * ? / \\)"
        ));
    }
    if name.starts_with('\'') || name.ends_with('\'') {
        return Err(format!(
            "{at}: name starts or ends with an apostrophe, which Excel does not allow in a sheet name"
        ));
    }
    let taken = FIXED_SHEETS
        .iter()
        .map(|s| s.to_string())
        .chain(["Cash Flows".to_string(), "History".to_string()])
        .chain(model_sheets.iter().map(|s| s.title.clone()))
        .chain(earlier.iter().map(|s| s.name.clone()))
        .find(|t| t.to_lowercase() == name.to_lowercase());
    if let Some(taken) = taken {
        return Err(format!(
            "{at}: name is already the name of sheet {taken:?} (Excel compares sheet names without case)"
        ));
    }
    if let Some(other) = earlier.iter().find(|s| s.slug() == slug(name)) {
        return Err(format!(
            "{at}: its chart file would be {}.png, as scenario {:?}'s is; give it a name that differs in more than punctuation",
            slug(name),
            other.name
        ));
    }
    Ok(())
}

fn budget(raw: RawBudget, key: &dyn Fn(&str) -> String) -> Result<Budget, String> {
    let total = raw
        .total
        .map(|t| money(&key("budget.total"), t))
        .transpose()?;
    let mut years = BTreeMap::new();
    for (year, amount) in raw.years {
        let k = key(&format!("budget.years.{year}"));
        let y: i32 = year
            .trim()
            .parse()
            .ok()
            .filter(|y| Period::new(*y, 1).is_some())
            .ok_or_else(|| format!("{k}: expected a year such as \"2027\""))?;
        years.insert(y, money(&k, amount)?);
    }
    let mut quarters = BTreeMap::new();
    for (quarter, amount) in raw.quarters {
        let k = key(&format!("budget.quarters.{quarter}"));
        let q: Quarter = quarter
            .parse()
            .map_err(|()| format!("{k}: expected a quarter such as \"2027-Q1\""))?;
        quarters.insert(q, money(&k, amount)?);
    }
    if total.is_none() && years.is_empty() && quarters.is_empty() {
        return Err(format!(
            "{}: give the envelope: total, years (\"2027\" = amount) or quarters (\"2027-Q1\" = amount)",
            key("budget")
        ));
    }
    Ok(Budget {
        total,
        years,
        quarters,
    })
}

/// Each yearly and quarterly budget's label and months.
pub fn budget_spans(budget: &Budget) -> Vec<(String, Period, Period)> {
    let years = budget.years.keys().map(|y| {
        let first = Period::new(*y, 1).expect("a validated year");
        (format!("years.{y}"), first, first.plus(11))
    });
    let quarters = budget
        .quarters
        .keys()
        .map(|q| (format!("quarters.{q}"), q.first(), q.last()));
    years.chain(quarters).collect()
}

fn objective(
    name: Option<&str>,
    weights: BTreeMap<String, f64>,
    key: &dyn Fn(&str) -> String,
) -> Result<Objective, String> {
    let objective = match name.unwrap_or("npv_p50") {
        "npv_p50" => Objective::NpvP50,
        "expected_npv" => Objective::ExpectedNpv,
        "weighted" => {
            if weights.is_empty() {
                return Err(format!(
                    "{}: objective = \"weighted\" needs weights, such as {{ forward_npv_p50 = 1.0 }}",
                    key("weights")
                ));
            }
            for (figure, weight) in &weights {
                if !WEIGHABLE.contains(&figure.as_str()) {
                    return Err(format!(
                        "{}: {figure:?} is not a figure a score may weigh ({})",
                        key("weights"),
                        WEIGHABLE.join(", ")
                    ));
                }
                if !weight.is_finite() {
                    return Err(format!(
                        "{} = {weight}: expected a number",
                        key(&format!("weights.{figure}"))
                    ));
                }
            }
            return Ok(Objective::Weighted(weights));
        }
        other => {
            return Err(format!(
                "{} = {other:?}: expected \"npv_p50\", \"expected_npv\" or \"weighted\"",
                key("objective")
            ));
        }
    };
    if !weights.is_empty() {
        return Err(format!(
            "{}: weights apply to objective = \"weighted\" only",
            key("weights")
        ));
    }
    Ok(objective)
}

fn frontier(levels: Option<Vec<f64>>, key: &dyn Fn(&str) -> String) -> Result<Vec<f64>, String> {
    let Some(levels) = levels else {
        return Ok(DEFAULT_FRONTIER.to_vec());
    };
    if levels.len() > 50 {
        return Err(format!(
            "{}: {} levels; at most 50 (each is a solve)",
            key("frontier"),
            levels.len()
        ));
    }
    for pair in levels.windows(2) {
        if pair[1] <= pair[0] {
            return Err(format!(
                "{}: levels must rise ({} then {})",
                key("frontier"),
                pair[0],
                pair[1]
            ));
        }
    }
    if let Some(bad) = levels.iter().find(|l| !(**l > 0.0 && **l <= 10.0)) {
        return Err(format!(
            "{}: level {bad} is not a share of the envelope from above 0 to 10 (1.0 is the envelope)",
            key("frontier")
        ));
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Scenario>, String> {
        #[derive(Deserialize)]
        struct File {
            scenario: Vec<RawScenario>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut out: Vec<Scenario> = Vec::new();
        for (i, raw) in file.scenario.into_iter().enumerate() {
            let s = validate(raw, i, &out, &[])?;
            out.push(s);
        }
        Ok(out)
    }

    const BASIC: &str = "[[scenario]]\nname = \"Budget 2027\"\nbudget = { total = 9_000_000 }\n";

    #[test]
    fn a_scenario_needs_only_a_name_and_an_envelope() {
        let s = &parse(BASIC).unwrap()[0];
        assert_eq!(s.name, "Budget 2027");
        assert_eq!(s.budget.total, Some(Decimal::new(900_000_000, 2)));
        assert_eq!(s.objective, Objective::NpvP50);
        assert_eq!(s.window, None);
        assert_eq!(s.frontier, DEFAULT_FRONTIER);
        assert_eq!(s.time_limit_seconds, 10.0);
        assert!(s.keep_running);
        assert_eq!(s.slug(), "frontier-budget-2027");
    }

    #[test]
    fn every_key_is_read_and_checked() {
        let s = &parse(
            r#"
[[scenario]]
name = "Plan"
from = "2027-01"
to = "2028-12"
objective = "weighted"
weights = { forward_npv_p50 = 1.0, probability_npv_positive = 100000 }
must_fund = ["INV-1"]
must_stop = ["INV-2"]
requires = { "INV-3" = ["INV-1"] }
exclusive = { crm = ["INV-4", "INV-5"] }
category_max_share = { transform = 0.35 }
min_probability_positive = 0.5
keep_running = false
frontier = [0.8, 1.0, 1.2]
time_limit_seconds = 2.5
[scenario.budget]
total = 1234.5
years = { "2027" = 1000, "2028" = 500 }
quarters = { "2027-Q1" = 300 }
"#,
        )
        .unwrap()[0];
        let p = |t: &str| t.parse::<Period>().unwrap();
        assert_eq!(s.window, Some((p("2027-01"), p("2028-12"))));
        assert_eq!(s.budget.total, Some(Decimal::new(123_450, 2)));
        assert_eq!(s.budget.years[&2028], Decimal::new(50_000, 2));
        let q1 = Quarter {
            year: 2027,
            quarter: 1,
        };
        assert_eq!(s.budget.quarters[&q1], Decimal::new(30_000, 2));
        assert_eq!((q1.first(), q1.last()), (p("2027-01"), p("2027-03")));
        assert_eq!(s.category_max_share["transform"].to_string(), "0.35");
        assert_eq!(s.requires["INV-3"], ["INV-1"]);
        assert_eq!(s.exclusive["crm"], ["INV-4", "INV-5"]);
        assert_eq!(s.frontier, [0.8, 1.0, 1.2]);
        assert!(!s.keep_running);
        assert!(matches!(&s.objective, Objective::Weighted(w) if w.len() == 2));
    }

    fn error(extra: &str) -> String {
        parse(&format!("{BASIC}{extra}")).unwrap_err()
    }

    #[test]
    fn bad_values_are_refused_naming_the_scenario_and_the_key() {
        assert_eq!(
            parse("[[scenario]]\nname = \"X\"\n[scenario.budget]\ntotal = 10.005\n").unwrap_err(),
            "scenario[0] (X): budget.total = 10.005: expected at most 2 decimals"
        );
        assert_eq!(
            parse("[[scenario]]\nname = \"X\"\n[scenario.budget]\n").unwrap_err(),
            "scenario[0] (X): budget: give the envelope: total, years (\"2027\" = amount) or quarters (\"2027-Q1\" = amount)"
        );
        assert_eq!(
            parse("[[scenario]]\nname = \"X\"\n[scenario.budget]\nquarters = { \"2027-5\" = 1 }\n")
                .unwrap_err(),
            "scenario[0] (X): budget.quarters.2027-5: expected a quarter such as \"2027-Q1\""
        );
        assert!(
            error("objective = \"irr\"\n").ends_with(
                "objective = \"irr\": expected \"npv_p50\", \"expected_npv\" or \"weighted\""
            ),
            "{}",
            error("objective = \"irr\"\n")
        );
        assert!(
            error("objective = \"weighted\"\nweights = { colour = 1 }\n")
                .contains("weights: \"colour\" is not a figure a score may weigh")
        );
        assert!(
            error("category_max_share = { innovate = 0.2 }\n")
                .contains("\"innovate\" is not a category")
        );
        assert!(
            error("category_max_share = { run = 1.2 }\n")
                .contains("category_max_share.run = 1.2: expected a share from 0 to 1")
        );
        assert!(error("frontier = [1.0, 0.9]\n").contains("levels must rise (1 then 0.9)"));
        assert!(error("must_fund = [\"A\", \"A\"]\n").contains("must_fund: A is listed twice"));
        assert!(error("exclusive = { g = [\"A\"] }\n").contains("needs at least two"));
        assert!(error("from = \"2027-01\"\n").contains("give both from and to"));
        assert!(error("time_limit_seconds = 0\n").contains("expected 0.1 to 3600 seconds"));
        assert!(
            parse(
                "[[scenario]]\nname = \"X\"\nfrom = \"2027-01\"\nto = \"2027-12\"\n[scenario.budget]\nyears = { \"2028\" = 1 }\n"
            )
            .unwrap_err()
            .ends_with("budget.years.2028 lies outside the window 2027-01 to 2027-12")
        );
    }

    #[test]
    fn a_scenario_name_follows_excels_sheet_rules_and_is_unique() {
        assert!(
            parse(&BASIC.replace("Budget 2027", "Run Info"))
                .unwrap_err()
                .contains("already the name of sheet \"Run Info\"")
        );
        assert!(
            parse(&BASIC.replace("Budget 2027", "Budget 2027/28"))
                .unwrap_err()
                .contains("holds '/'")
        );
        assert!(
            parse(&format!(
                "{BASIC}{}",
                BASIC.replace("Budget 2027", "budget 2027")
            ))
            .unwrap_err()
            .contains(
                "scenario[1] (budget 2027): name is already the name of sheet \"Budget 2027\""
            )
        );
        assert!(
            parse(&format!(
                "{BASIC}{}",
                BASIC.replace("Budget 2027", "Budget-2027")
            ))
            .unwrap_err()
            .contains("its chart file would be frontier-budget-2027.png")
        );
    }
}
