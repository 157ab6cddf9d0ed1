//! Metrics: the figures of DESIGN.md computed with Polars from the marts.
//!
//! In: DataFrames read from the warehouse's models. Out: metric DataFrames for one period, which
//! the job stores in `metrics.*` and hands to the report, and the [`DEFINITIONS`] that the
//! workbook prints beside them.

pub mod finance;

/// How a figure is defined, for the workbook's Definitions sheet.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    /// The figure's name as the workbook shows it.
    pub figure: &'static str,
    /// Its column in the metric table.
    pub column: &'static str,
    pub formula: &'static str,
    /// What an empty cell means.
    pub when_empty: &'static str,
}

/// Every figure the workbook shows, with its formula.
pub const DEFINITIONS: &[Definition] = &[
    Definition {
        figure: "Actual (month)",
        column: "actual_month",
        formula: "Sum of actual cost lines of the period, converted to the reporting currency at the month's FX rate (or the rate policy's). Zero when the investment books actuals, but none this month.",
        when_empty: "The investment has no actual cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Budget (month)",
        column: "budget_month",
        formula: "Sum of budget cost lines of the period, in the reporting currency. Zero when the investment has budget lines, but none this month.",
        when_empty: "The investment has no budget cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Variance (month)",
        column: "variance_month",
        formula: "Actual (month) − Budget (month). Positive means over budget.",
        when_empty: "Actual or budget is empty.",
    },
    Definition {
        figure: "Variance % (month)",
        column: "variance_month_pct",
        formula: "Variance (month) / Budget (month).",
        when_empty: "No budget in the month (division by zero), or an input is empty.",
    },
    Definition {
        figure: "Actual YTD",
        column: "actual_ytd",
        formula: "Sum of actual cost lines from January of the period's year to the period.",
        when_empty: "No actual cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Budget YTD",
        column: "budget_ytd",
        formula: "Sum of budget cost lines from January of the period's year to the period.",
        when_empty: "No budget cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Variance YTD",
        column: "variance_ytd",
        formula: "Actual YTD − Budget YTD.",
        when_empty: "Actual or budget YTD is empty.",
    },
    Definition {
        figure: "Variance % YTD",
        column: "variance_ytd_pct",
        formula: "Variance YTD / Budget YTD.",
        when_empty: "No budget this year, or an input is empty.",
    },
    Definition {
        figure: "Actual to date (AC)",
        column: "actual_to_date",
        formula: "Sum of actual cost lines of every month up to and including the period.",
        when_empty: "No actual cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Budget to date (PV)",
        column: "budget_to_date",
        formula: "Sum of budget cost lines of every month up to and including the period (planned value).",
        when_empty: "No budget cost lines at all, or a line lacks an FX rate.",
    },
    Definition {
        figure: "Budget at completion (BAC)",
        column: "budget_at_completion",
        formula: "The investment's budget_total, else the sum of all its budget lines.",
        when_empty: "Neither a budget_total nor budget lines.",
    },
    Definition {
        figure: "% complete",
        column: "percent_complete",
        formula: "The latest percent_complete reported in or before the period.",
        when_empty: "No progress reported by the period.",
    },
    Definition {
        figure: "Earned value (EV)",
        column: "earned_value",
        formula: "BAC × % complete, computed in decimal and rounded once to cents, half away from zero.",
        when_empty: "No BAC or no progress.",
    },
    Definition {
        figure: "CPI",
        column: "cpi",
        formula: "EV / AC. Below 1 means the work done cost more than planned.",
        when_empty: "No EV, or no actual cost to date.",
    },
    Definition {
        figure: "SPI",
        column: "spi",
        formula: "EV / PV. Below 1 means less work is done than planned by now.",
        when_empty: "No EV, or no budget to date.",
    },
];
