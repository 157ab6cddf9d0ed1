//! The model sheets a run adds to the workbook: each `[[sheet]]` of the configuration read from
//! its model, with the model and the columns its formats and headers name checked.
//!
//! In: the configuration's sheets and the work copy (models built). Out: each sheet's rows, and
//! the sheets left out because no source feeds their model.

use std::collections::BTreeMap;

use super::{LeftOut, ModelSheetData};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::models;
use crate::warehouse::{Warehouse, quote};

/// Reads each configured model sheet's rows, checking that the model and the columns its
/// formats and headers name exist.
pub fn read_model_sheets(
    config: &Config,
    warehouse: &Warehouse,
    without_data: &BTreeMap<String, String>,
    left_out: &mut Vec<LeftOut>,
) -> Result<Vec<ModelSheetData>> {
    let fail = |i: usize, title: &str, message: String| Error::Config {
        path: config.path.clone(),
        message: format!("sheet[{i}] ({title}): {message}"),
    };
    if config.sheets.is_empty() {
        return Ok(Vec::new());
    }
    let listing = |e| Error::warehouse(warehouse.path(), "listing the models", e);
    let known: Vec<String> = {
        let mut statement = warehouse
            .connection()
            .prepare(
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = 'main' ORDER BY 1",
            )
            .map_err(listing)?;
        let names = statement
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(listing)?;
        names.collect::<duckdb::Result<_>>().map_err(listing)?
    };
    let mut sheets = Vec::with_capacity(config.sheets.len());
    for (i, sheet) in config.sheets.iter().enumerate() {
        if let Some(reason) = without_data.get(&sheet.model) {
            left_out.push(LeftOut {
                what: format!("sheet {}", sheet.title),
                reason: format!("model {}: {reason}", sheet.model),
            });
            continue;
        }
        if !known.contains(&sheet.model) {
            return Err(fail(
                i,
                &sheet.title,
                format!(
                    "model = {:?}: no model of that name was built; models are: {}",
                    sheet.model,
                    known.join(", ")
                ),
            ));
        }
        let mut sql = format!("SELECT * FROM main.{}", quote(&sheet.model));
        if let Some(filter) = &sheet.filter {
            sql.push_str(&format!(" WHERE {filter}"));
        }
        if let Some(order) = &sheet.order_by {
            sql.push_str(&format!(" ORDER BY {order}"));
        }
        models::check_select(warehouse.connection(), &sql).map_err(|message| {
            fail(
                i,
                &sheet.title,
                format!("where / order_by must keep it one SELECT: {message}"),
            )
        })?;
        let frame = warehouse
            .frame(
                &format!("reading model {} for sheet {}", sheet.model, sheet.title),
                &sql,
            )
            .map_err(|e| fail(i, &sheet.title, e.to_string()))?;
        let columns: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        for (key, column) in sheet
            .formats
            .keys()
            .map(|c| ("formats", c))
            .chain(sheet.headers.keys().map(|c| ("headers", c)))
        {
            if !columns.contains(column) {
                return Err(fail(
                    i,
                    &sheet.title,
                    format!(
                        "{key}.{column}: model {} has no column `{column}`; its columns are: {}",
                        sheet.model,
                        columns.join(", ")
                    ),
                ));
            }
        }
        let mut headers: Vec<&str> = columns
            .iter()
            .map(|c| sheet.headers.get(c).map_or(c.as_str(), String::as_str))
            .collect();
        headers.sort_unstable_by_key(|h| h.to_lowercase());
        if let Some(pair) = headers
            .windows(2)
            .find(|w| w[0].to_lowercase() == w[1].to_lowercase())
        {
            return Err(fail(
                i,
                &sheet.title,
                format!(
                    "two columns would have the header {:?}; an Excel table needs distinct headers",
                    pair[0]
                ),
            ));
        }
        sheets.push(ModelSheetData {
            sheet: sheet.clone(),
            frame,
        });
    }
    Ok(sheets)
}
