//! Matching a source's header row to its entity's columns through the configured aliases.
//!
//! In: the header cells of a sheet (position and text) and the source's column mapping. Out: for
//! each contract column, the position of the header that stands for it, or a contract error that
//! says which headers were looked for and which were found.

use std::collections::BTreeMap;

use crate::contract::Contract;

/// One header cell: its 0-based column and its text.
pub struct HeaderCell {
    pub column: u32,
    pub text: String,
}

/// Headers are compared case-folded, with underscores and hyphens read as spaces and runs of
/// whitespace collapsed, so that "Investment  ID ", "investment-id" and the column name
/// `investment_id` all match.
pub fn normalise(header: &str) -> String {
    header
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The headers that stand for `column`: its aliases, and always its own name.
pub fn candidates(column: &str, aliases: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut names: Vec<String> = aliases.get(column).cloned().unwrap_or_default();
    names.push(column.to_string());
    names
}

/// Maps each contract column to the position of its header, or `None` when the sheet lacks it
/// (allowed for an optional column, or a required one with a configured default).
///
/// `address` turns a 0-based column into a cell address for messages.
///
/// # Errors
///
/// A message naming the difference: a required column without a header, a header that appears
/// twice, or a column matched by two different headers.
pub fn map_columns(
    contract: &Contract,
    aliases: &BTreeMap<String, Vec<String>>,
    defaults: &BTreeMap<String, String>,
    headers: &[HeaderCell],
    address: &dyn Fn(u32) -> String,
) -> Result<Vec<Option<u32>>, String> {
    let mut mapping = Vec::with_capacity(contract.columns.len());
    let mut missing = Vec::new();
    for column in contract.columns {
        let wanted: Vec<String> = candidates(column.name, aliases)
            .iter()
            .map(|c| normalise(c))
            .collect();
        let found: Vec<&HeaderCell> = headers
            .iter()
            .filter(|h| wanted.contains(&normalise(&h.text)))
            .collect();
        match found.as_slice() {
            [] => {
                // A required column the source lacks is fine when the configuration gives a default.
                if column.required && !defaults.contains_key(column.name) {
                    missing.push(format!(
                        "`{}` (looked for {})",
                        column.name,
                        quoted(&candidates(column.name, aliases))
                    ));
                }
                mapping.push(None);
            }
            [one] => mapping.push(Some(one.column)),
            [first, second, ..] => {
                let what = if normalise(&first.text) == normalise(&second.text) {
                    format!("the header {:?} appears twice", first.text)
                } else {
                    format!(
                        "two headers stand for it, {:?} and {:?}",
                        first.text, second.text
                    )
                };
                return Err(format!(
                    "column `{}`: {what}, at {} and {}",
                    column.name,
                    address(first.column),
                    address(second.column)
                ));
            }
        }
    }
    if !missing.is_empty() {
        let present: Vec<String> = headers.iter().map(|h| h.text.clone()).collect();
        return Err(format!(
            "required column{} {} not found; the header row has: {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            quoted(&present)
        ));
    }
    Ok(mapping)
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Entity;

    fn headers(texts: &[&str]) -> Vec<HeaderCell> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| HeaderCell {
                column: i as u32,
                text: (*t).to_string(),
            })
            .collect()
    }

    fn letter(c: u32) -> String {
        char::from(b'A' + c as u8).to_string()
    }

    #[test]
    fn aliases_in_any_language_and_case_match() {
        let mut aliases = BTreeMap::new();
        aliases.insert("investment_id".to_string(), vec!["项目编号".to_string()]);
        aliases.insert("name".to_string(), vec!["Project Name".to_string()]);
        let h = headers(&["项目编号", " project  NAME", "Category", "Budget_Total"]);
        let map = map_columns(
            Entity::Investments.contract(),
            &aliases,
            &BTreeMap::new(),
            &h,
            &letter,
        )
        .unwrap();
        assert_eq!(&map[..3], &[Some(0), Some(1), Some(2)]);
        assert_eq!(map[9], Some(3));
    }

    #[test]
    fn missing_required_columns_are_all_named_with_what_was_looked_for() {
        let h = headers(&["investment_id", "Title"]);
        let e = map_columns(
            Entity::Investments.contract(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &h,
            &letter,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "required columns `name` (looked for \"name\"), `category` (looked for \"category\") not found; the header row has: \"investment_id\", \"Title\""
        );
    }

    #[test]
    fn a_duplicate_header_is_refused_with_both_cells() {
        let h = headers(&["investment_id", "name", "category", "Name"]);
        let e = map_columns(
            Entity::Investments.contract(),
            &BTreeMap::new(),
            &BTreeMap::new(),
            &h,
            &letter,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "column `name`: the header \"name\" appears twice, at B and D"
        );
    }

    #[test]
    fn a_required_column_with_a_default_may_be_absent() {
        let h = headers(&["investment_id", "name"]);
        let mut defaults = BTreeMap::new();
        defaults.insert("category".to_string(), "run".to_string());
        let map = map_columns(
            Entity::Investments.contract(),
            &BTreeMap::new(),
            &defaults,
            &h,
            &letter,
        )
        .unwrap();
        assert_eq!(&map[..3], &[Some(0), Some(1), None]);
    }
}
