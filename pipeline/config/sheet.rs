//! `[[sheet]]` entries: any model shown as a workbook sheet, and `[model.<name>]` settings.
//!
//! In: the raw TOML tables. Out: validated [`ModelSheet`]s whose titles already satisfy Excel's
//! rules for sheet names, so a bad title fails when the configuration loads, not after a run.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The sheets every workbook has; a model sheet cannot take one of their names.
pub const FIXED_SHEETS: [&str; 5] = [
    "Portfolio",
    "Monthly",
    "Data Quality",
    "Definitions",
    "Run Info",
];

/// How a column of a model sheet is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnFormat {
    Text,
    Integer,
    Number,
    Money,
    Percent,
    Ratio,
    Month,
    Date,
    Datetime,
}

/// A model shown as a sheet of the workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSheet {
    /// The model (table or view in `main`) to show.
    pub model: String,
    /// The sheet's name: at most 31 characters, none of `[]:*?/\`.
    pub title: String,
    /// An SQL condition on the model's rows; `getvariable('period')` is the report month.
    pub filter: Option<String>,
    /// An SQL ORDER BY list.
    pub order_by: Option<String>,
    /// Column formats; other columns get one from their type.
    pub formats: BTreeMap<String, ColumnFormat>,
    /// Column headers; other columns show their names.
    pub headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSheet {
    model: String,
    title: String,
    #[serde(rename = "where")]
    filter: Option<String>,
    order_by: Option<String>,
    #[serde(default)]
    formats: BTreeMap<String, ColumnFormat>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Excel's longest sheet name.
pub const MAX_SHEET_NAME: usize = 31;

/// Checks one `[[sheet]]` against Excel's sheet-name rules and the sheets before it.
pub(super) fn validate(
    raw: RawSheet,
    index: usize,
    earlier: &[ModelSheet],
) -> Result<ModelSheet, String> {
    let at = format!("sheet[{index}] ({})", raw.title);
    let title = raw.title.trim().to_string();
    let length = title.chars().count();
    if length == 0 {
        return Err(format!("sheet[{index}]: title is empty"));
    }
    if length > MAX_SHEET_NAME {
        return Err(format!(
            "{at}: title is {length} characters, over Excel's limit of {MAX_SHEET_NAME} for a sheet name"
        ));
    }
    if let Some(c) = title.chars().find(|c| "[]:*?/\\".contains(*c)) {
        return Err(format!(
            "{at}: title holds {c:?}, which Excel does not allow in a sheet name ([ ] : * ? / \\)"
        ));
    }
    if title.starts_with('\'') || title.ends_with('\'') {
        return Err(format!(
            "{at}: title starts or ends with an apostrophe, which Excel does not allow"
        ));
    }
    let taken = FIXED_SHEETS
        .iter()
        .map(|s| s.to_string())
        .chain(["History".to_string()])
        .chain(earlier.iter().map(|s| s.title.clone()))
        .find(|t| t.to_lowercase() == title.to_lowercase());
    if let Some(taken) = taken {
        return Err(format!(
            "{at}: title is already the name of sheet {taken:?} (Excel compares sheet names without case)"
        ));
    }
    if raw.model.trim().is_empty() {
        return Err(format!("{at}: model is empty"));
    }
    Ok(ModelSheet {
        model: raw.model.trim().to_lowercase(),
        title,
        filter: raw.filter.filter(|f| !f.trim().is_empty()),
        order_by: raw.order_by.filter(|o| !o.trim().is_empty()),
        formats: raw.formats,
        headers: raw.headers,
    })
}

/// `[model.<name>]`: settings that override a model's header.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `table`, `view` or `incremental`.
    pub materialized: Option<String>,
    /// The period column of an incremental model (default `period`).
    pub period_column: Option<String>,
}
