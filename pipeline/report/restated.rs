//! The Run Info sheet's account of restatements: which figures this run reports differently from
//! the latest earlier run of the same period.
//!
//! In: the [`RestatedInfo`] of the run. Out: the blocks of the sheet: a heading naming the
//! earlier run and a table of the changes (table, key, change, figure, before, after), or a line
//! saying nothing changed. A run that is the period's first report adds nothing.

use polars::prelude::{DataFrame, IntoColumn, NamedFrom, Series};

use super::RestatedInfo;
use super::sheet::ColumnSpec;
use super::spec::{Block, TableBlock};
use crate::error::WorkbookError;
use crate::labels::{Lang, Words};
use crate::metrics::catalogue::Unit;

const RESTATED: Words = Words::key("restated.restated");
const NOTHING_RESTATED: Words = Words::key("restated.nothing_restated");
const LATE: Words = Words::key("restated.late");
const CHANGES: Words = Words::key("restated.changes");
const TABLE: Words = Words::key("restated.table");
const KEY: Words = Words::key("restated.key");
const CHANGE: Words = Words::key("restated.change");
const FIGURE: Words = Words::key("restated.figure");
const BEFORE: Words = Words::key("restated.before");
const AFTER: Words = Words::key("restated.after");

/// The label of a Run Info row about late data.
pub(super) fn late_label(lang: Lang) -> String {
    LATE.get(lang).to_string()
}

/// The restatement blocks of the Run Info sheet.
///
/// # Errors
///
/// [`WorkbookError::Frame`] when the table cannot be assembled.
pub(super) fn blocks(
    restated: &RestatedInfo,
    sheet: &str,
    lang: Lang,
) -> Result<Vec<Block>, WorkbookError> {
    let values = [
        ("run", restated.since_run.as_str()),
        ("started", restated.since_started.as_str()),
    ];
    let mut blocks = vec![Block::Heading(RESTATED.fill(lang, &values))];
    if restated.changes.is_empty() {
        blocks.push(Block::KeyValues {
            rows: vec![(NOTHING_RESTATED.fill(lang, &values), String::new())],
            widths: None,
        });
        return Ok(blocks);
    }
    let c = &restated.changes;
    let text = |name: &str, values: Vec<String>| Series::new(name.into(), values).into_column();
    let optional =
        |name: &str, values: Vec<Option<String>>| Series::new(name.into(), values).into_column();
    let frame = DataFrame::new_infer_height(vec![
        text("table", c.iter().map(|r| r.table.clone()).collect()),
        text("key", c.iter().map(|r| r.key.clone()).collect()),
        text(
            "change",
            c.iter().map(|r| r.change.as_str().to_string()).collect(),
        ),
        text("figure", c.iter().map(|r| r.figure.clone()).collect()),
        optional("before", c.iter().map(|r| r.before.clone()).collect()),
        optional("after", c.iter().map(|r| r.after.clone()).collect()),
    ])
    .map_err(|source| WorkbookError::Frame {
        sheet: sheet.to_string(),
        source,
    })?;
    let col =
        |name: &str, words: Words, width| ColumnSpec::new(name, words.get(lang), Unit::Text, width);
    blocks.push(Block::Table(
        TableBlock::new(
            "Restatements",
            frame,
            vec![
                col("table", TABLE, 24.0),
                col("key", KEY, 22.0),
                col("change", CHANGE, 10.0),
                col("figure", FIGURE, 28.0),
                col("before", BEFORE, 24.0),
                col("after", AFTER, 24.0),
            ],
        )
        .headed(CHANGES.get(lang).to_string()),
    ));
    Ok(blocks)
}
