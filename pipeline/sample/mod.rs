//! The sample portfolio: a realistic, internally consistent set of input workbooks, one per
//! entity, for trying itvalue and for its tests.
//!
//! In: a scale, a seed and the last month of history. Out: xlsx files (`investments.xlsx`,
//! `costs.xlsx`, ...) in a folder. The same arguments give the same bytes: every entity draws from
//! its own seeded ChaCha stream, and the workbooks carry a fixed creation time.
//!
//! The data has what real portfolios have: overruns, benefits that lag their plans, funnel
//! back-transitions, canary releases failing less often than recreate ones, incidents caused by
//! deployments and incidents spanning a month end, a few headers in Chinese, some numbers stored as
//! text. It also holds exactly [`FAULTS`] deliberate data-quality faults, so a run on it shows what
//! a reject looks like.

mod flow;
mod operations;
mod portfolio;
mod random;
mod workbook;

use std::path::{Path, PathBuf};

use workbook::SampleBook;

use crate::error::{Error, Result};
use crate::schedule::Period;

/// The deliberate faults, with where they sit. Tests assert that a run rejects exactly these.
pub const FAULTS: [&str; 3] = [
    "costs.xlsx: one cost line names an investment that does not exist (an orphan investment id)",
    "costs.xlsx: one actual amount is text with the letter O for zeros (\"12,5OO.00\")",
    "incidents.xlsx: one incident has no severity (a missing required field)",
];

/// How many months of history the sample holds, ending at its `end` month.
pub const HISTORY_MONTHS: i32 = 36;

/// The sample's shared frame: its months and its size.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub scale: f64,
    pub seed: u64,
    /// The first month of history.
    pub start: Period,
    /// The last month of history; later months hold budgets, forecasts and planned benefits.
    pub end: Period,
}

impl Frame {
    /// `base` scaled, at least `minimum`.
    pub fn count(&self, base: f64, minimum: usize) -> usize {
        ((base * self.scale).round() as usize).max(minimum)
    }
}

/// Writes the sample workbooks into `out` and returns their paths.
///
/// # Errors
///
/// [`Error::Config`]-class usage error when the scale is not positive, [`Error::Output`] when a
/// file cannot be written.
pub fn write(out: &Path, scale: f64, seed: u64, end: Period) -> Result<Vec<PathBuf>> {
    write_costs_by_month(out, scale, seed, end, false)
}

/// As [`write`]; with `costs_by_month`, the cost lines go into one workbook per month of their
/// period, `costs/costs-YYYY-MM.xlsx` (as finance often files them, a new file each month),
/// instead of `costs.xlsx`. The rows and their order are the same.
///
/// # Errors
///
/// As for [`write`].
pub fn write_costs_by_month(
    out: &Path,
    scale: f64,
    seed: u64,
    end: Period,
    costs_by_month: bool,
) -> Result<Vec<PathBuf>> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 100.0) {
        return Err(Error::Config {
            path: PathBuf::from("--scale"),
            message: format!("{scale} is not a scale from above 0 to 100"),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| Error::Output {
        path: out.to_path_buf(),
        source: e,
    })?;
    let frame = Frame {
        scale,
        seed,
        start: end.plus(1 - HISTORY_MONTHS),
        end,
    };
    let portfolio = portfolio::generate(&frame);
    let flow = flow::generate(&frame, &portfolio);
    let operations = operations::generate(&frame, &portfolio, &flow);

    let mut books = portfolio.workbooks(&frame);
    books.extend(flow.workbooks());
    books.extend(operations.workbooks());
    let mut written = Vec::with_capacity(books.len());
    for book in books {
        if costs_by_month && book.file_name == "costs.xlsx" {
            written.extend(write_by_month(&book, &out.join("costs"), end)?);
            continue;
        }
        let path = out.join(book.file_name);
        book.write(&path, end)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `book` as one workbook per month of its `Period` column into `dir`.
fn write_by_month(book: &SampleBook, dir: &Path, end: Period) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Output {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let column = book
        .headers
        .iter()
        .position(|h| *h == "Period")
        .unwrap_or(1);
    let mut months: std::collections::BTreeMap<Period, Vec<Vec<workbook::Cell>>> =
        std::collections::BTreeMap::new();
    for row in &book.rows {
        // Every cost line has its month; a line without one would go with the sample's end.
        let month = match row.get(column) {
            Some(workbook::Cell::Month(p)) => *p,
            _ => end,
        };
        months.entry(month).or_default().push(row.clone());
    }
    let mut written = Vec::with_capacity(months.len());
    for (month, rows) in months {
        let path = dir.join(format!("costs-{month}.xlsx"));
        SampleBook {
            file_name: book.file_name,
            sheet: book.sheet,
            headers: book.headers.clone(),
            rows,
        }
        .write(&path, end)?;
        written.push(path);
    }
    Ok(written)
}
