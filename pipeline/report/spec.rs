//! Sheets and charts as specifications: a sheet is a list of blocks laid out top-down (a title,
//! headings, label/value rows, tables, charts), and a chart names the table it draws, its
//! category column and any number of series. One [`ChartSpec`] becomes both the native Excel
//! chart (here) and the PNG/SVG images (`charts`), so the two never drift apart.
//!
//! In: [`SheetSpec`]s. Out: worksheets of a rust_xlsxwriter workbook.

use polars::prelude::DataFrame;
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::sheet::{ColumnSpec, excel_date, number_format, write_table};
use crate::error::WorkbookError;
use crate::format::group_thousands;
use crate::metrics::catalogue::Unit;

/// A sheet of the workbook.
#[derive(Debug, Clone)]
pub struct SheetSpec {
    pub name: String,
    pub blocks: Vec<Block>,
    /// Rows and columns kept in view when scrolling.
    pub freeze: Option<(u32, u16)>,
    /// Cells the workbook names (`Portfolio_NPV`), so a formula elsewhere can use them.
    pub names: Vec<NamedCell>,
}

/// A workbook-wide name for one cell of a table on the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCell {
    pub name: String,
    pub table: String,
    /// The data row, 0-based below the header.
    pub row: usize,
    pub column: String,
}

/// One block of a sheet, below the one before it.
#[derive(Debug, Clone)]
pub enum Block {
    /// The sheet's title, bold and large, on the first row; a blank row follows.
    Title(String),
    /// A bold line naming the block below it.
    Heading(String),
    /// Rows of a bold label and its value, in two columns of the given widths; a blank row follows.
    KeyValues {
        rows: Vec<(String, String)>,
        widths: Option<(f64, f64)>,
    },
    /// A frame as an Excel table with autofilter; a blank row follows.
    Table(TableBlock),
    /// A chart of an earlier table, beside it.
    Chart(ChartSpec),
    /// Numbers under a row of dates; a blank row follows.
    Grid(GridBlock),
}

/// Numbers under a row of dates, one row per item and one column per date (the Cash Flows
/// sheet's months). Plain cells with a bold header, not an Excel table: a table's headers are
/// text, and formulas elsewhere read the dates as dates.
#[derive(Debug, Clone, PartialEq)]
pub struct GridBlock {
    /// A bold line above the grid.
    pub heading: Option<String>,
    /// A word above each date (`actual`, `plan`), when the columns differ in kind.
    pub tags: Option<Vec<String>>,
    /// The text columns left of the numbers, each (header, width, one value per row).
    pub labels: Vec<(String, f64, Vec<String>)>,
    pub dates: Vec<chrono::NaiveDate>,
    /// One row of `dates.len()` numbers per item; `None` is a blank cell.
    pub values: Vec<Vec<Option<f64>>>,
    pub unit: Unit,
    /// The width of each date column.
    pub width: f64,
}

impl GridBlock {
    /// Rows above the first row of numbers: the heading, the tags and the dates.
    fn rows_above(&self) -> u32 {
        u32::from(self.heading.is_some()) + u32::from(self.tags.is_some()) + 1
    }

    /// The 0-based column of the first date.
    pub fn first_date_column(&self) -> u16 {
        self.labels.len() as u16
    }
}

/// Where a grid lands on its sheet (0-based rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridPlace {
    /// The row of the dates.
    pub date_row: u32,
    /// The row of the grid's first item.
    pub first_row: u32,
}

impl SheetSpec {
    /// Where the `index`-th block (a grid) lands, as [`lay_out`] will place it.
    pub fn grid_place(&self, index: usize) -> Option<GridPlace> {
        let Block::Grid(grid) = self.blocks.get(index)? else {
            return None;
        };
        let top: u32 = self.blocks[..index].iter().map(block_height).sum();
        let first_row = top + grid.rows_above();
        Some(GridPlace {
            date_row: first_row - 1,
            first_row,
        })
    }
}

/// The rows a block takes, the blank row after it included.
fn block_height(block: &Block) -> u32 {
    match block {
        Block::Title(_) => 2,
        Block::Heading(_) => 1,
        Block::KeyValues { rows, .. } => rows.len() as u32 + 1,
        Block::Table(table) => {
            // Only the sheet's last table may be cut (Data Quality's rejects), so what a cut
            // changes is never above another block.
            u32::from(table.heading.is_some() || table.heading_when_cut.is_some())
                + table.frame.height().max(1) as u32
                + 2
        }
        Block::Chart(_) => CHART_ROWS,
        Block::Grid(grid) => grid.rows_above() + grid.values.len() as u32 + 1,
    }
}

/// A frame shown as an Excel table.
#[derive(Debug, Clone)]
pub struct TableBlock {
    /// The Excel table's name (unique in the workbook); charts refer to the table by it.
    pub name: String,
    pub frame: DataFrame,
    pub columns: Vec<ColumnSpec>,
    /// A bold line on the row above the table.
    pub heading: Option<String>,
    /// When the rows do not fit below the table's header in Excel's 1,048,576 rows: the heading
    /// to write instead, with `{shown}`, `{total}` and `{rest}` filled in. The first rows that fit
    /// are shown; without it, too many rows are an error. Never a silent cut.
    pub heading_when_cut: Option<String>,
    /// Columns whose cells are formulas, and cells shown differently row by row (see
    /// [`CellExtras`]).
    pub extras: CellExtras,
}

/// What a table's cells show beyond their values and their column's format.
#[derive(Debug, Clone, Default)]
pub struct CellExtras {
    /// Columns whose cells are formulas, one per row (`None`: the plain value), with `{row}`
    /// standing for the cell's 1-based row; the frame's value is the formula's cached result.
    pub formulas: Vec<(String, Vec<Option<String>>)>,
    /// Columns whose cells link to a place in the workbook (`'Sheet'!A7`), one per row.
    pub links: Vec<(String, Vec<Option<String>>)>,
    /// Columns whose cells take their number format row by row (a Summary of mixed figures).
    pub units: Vec<(String, Vec<Unit>)>,
    /// Columns whose cells are highlighted by rules of their own, row by row.
    pub highlights: Vec<(String, Vec<Vec<super::sheet::Highlight>>)>,
}

impl TableBlock {
    pub fn new(name: &str, frame: DataFrame, columns: Vec<ColumnSpec>) -> TableBlock {
        TableBlock {
            name: name.to_string(),
            frame,
            columns,
            heading: None,
            heading_when_cut: None,
            extras: CellExtras::default(),
        }
    }

    /// The same table with a heading above it.
    pub fn headed(mut self, heading: String) -> TableBlock {
        self.heading = Some(heading);
        self
    }
}

/// Excel's rows per sheet.
pub const EXCEL_ROWS: usize = 1_048_576;

/// How many of `total` rows fit below a table header on the 0-based `header_row`.
pub fn rows_that_fit(header_row: u32, total: usize) -> usize {
    total.min(EXCEL_ROWS.saturating_sub(header_row as usize + 1))
}

/// A chart of one table's columns: over its category column, or (bubbles) one column against
/// another.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    pub title: String,
    pub kind: ChartKind,
    /// The [`TableBlock::name`] whose rows it draws; the table may be anywhere on the sheet.
    pub table: String,
    /// The column along the horizontal axis (the categories; unused by bubbles).
    pub categories: String,
    /// The rows of the table drawn (0-based, the header not counted); all when `None`.
    pub rows: Option<std::ops::Range<usize>>,
    pub series: Vec<SeriesSpec>,
    /// The horizontal axis's number format (`yyyy-mm` for months) and, for bubbles, its label.
    pub category_format: String,
    pub category_label: Option<String>,
    /// The vertical axis's number format and label.
    pub value_format: String,
    pub value_label: String,
    /// The file name (without extension) of its PNG and SVG images beside the workbook, if any.
    pub image: Option<String>,
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Grouped columns, one group per category.
    Column,
    /// Grouped horizontal bars, the first category on top.
    Bar,
    /// A line per series.
    Line,
    /// Areas stacked in series order from the bottom (a cumulative flow).
    AreaStacked,
    /// A bubble per row: x from the series' `x`, y from its `column`, the area from its `size`;
    /// each series its own rows (one per group, such as a category).
    Bubble,
    /// A vertical range per category from the first series (low) to the third (high), with the
    /// second (middle) marked on it: P10, P50 and P90.
    Range,
}

/// One series of a chart: a column of its table, its name and colour.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSpec {
    pub column: String,
    pub name: String,
    /// `0xRRGGBB`.
    pub colour: u32,
    /// Bubbles: the column of the horizontal position, and of the bubble's size.
    pub x: Option<String>,
    pub size: Option<String>,
    /// The rows of this series, when they are not the chart's (bubbles of one group).
    pub rows: Option<std::ops::Range<usize>>,
}

impl SeriesSpec {
    /// A series of `column`, named and coloured.
    pub fn new(column: &str, name: &str, colour: u32) -> SeriesSpec {
        SeriesSpec {
            column: column.to_string(),
            name: name.to_string(),
            colour,
            x: None,
            size: None,
            rows: None,
        }
    }
}

/// The rows a chart takes on its sheet (its height at the default row height), the blank row
/// after it included.
pub const CHART_ROWS: u32 = 22;

/// The size of a chart, in pixels, in the workbook and in its images.
pub const CHART_SIZE: (u32, u32) = (760, 400);

/// Writes `spec` as a new worksheet of `workbook`.
///
/// # Errors
///
/// [`WorkbookError`] naming the sheet, with rust_xlsxwriter's reason (which states the Excel limit
/// a value exceeds).
pub fn write_sheet(
    workbook: &mut Workbook,
    spec: &SheetSpec,
) -> Result<Vec<BubbleSizes>, WorkbookError> {
    let in_sheet = |source: XlsxError| WorkbookError::Xlsx {
        sheet: spec.name.clone(),
        source,
    };
    let sheet = workbook.add_worksheet();
    sheet.set_name(&spec.name).map_err(in_sheet)?;
    let bubbles = lay_out(sheet, spec).map_err(in_sheet)?;
    if let Some((rows, columns)) = spec.freeze {
        sheet.set_freeze_panes(rows, columns).map_err(in_sheet)?;
    }
    print_setup(sheet, spec).map_err(in_sheet)?;
    let landed = landings(spec);
    for named in &spec.names {
        let cell = spec
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Table(t) if t.name == named.table => {
                    let column = t.columns.iter().position(|c| c.column == named.column)?;
                    let (header, _) = landed.get(t.name.as_str())?;
                    Some((header + 1 + named.row as u32, column as u16))
                }
                _ => None,
            })
            .ok_or_else(|| {
                in_sheet(XlsxError::ParameterError(format!(
                    "name {}: table {} has no column {} on the sheet",
                    named.name, named.table, named.column
                )))
            })?;
        let formula = format!(
            "={}!{}",
            rust_xlsxwriter::utility::quote_sheet_name(&spec.name),
            rust_xlsxwriter::utility::row_col_to_cell_absolute(cell.0, cell.1)
        );
        workbook
            .define_name(named.name.as_str(), &formula)
            .map_err(in_sheet)?;
    }
    Ok(bubbles)
}

/// So the pack prints for the meeting: A4 landscape, one page wide, the title and the first
/// table's header repeated on every page.
fn print_setup(sheet: &mut Worksheet, spec: &SheetSpec) -> Result<(), XlsxError> {
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    let first_header = match spec.blocks.get(1) {
        Some(Block::Table(t)) => landings(spec).get(t.name.as_str()).map(|(h, _)| *h),
        _ => None,
    };
    sheet.set_repeat_rows(0, first_header.unwrap_or(0))?;
    Ok(())
}

/// A bubble series the workbook must finish: rust_xlsxwriter writes bubbles as a scatter
/// series (it has no bubble chart), and the saved package turns the series whose y values are
/// `values` into bubbles sized by `sizes` (see `bubbles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BubbleSizes {
    /// The series' y range, as the chart part writes it (`'Summary'!$D$40:$D$52`).
    pub values: String,
    pub sizes: String,
}

/// Where each table of `spec` lands, by name: (header row, last row), before anything is
/// written, so that a chart may draw a table placed below it.
pub(super) fn landings(spec: &SheetSpec) -> std::collections::BTreeMap<&str, (u32, u32)> {
    let mut top = 0;
    let mut out = std::collections::BTreeMap::new();
    for block in &spec.blocks {
        if let Block::Table(table) = block {
            let header_row =
                top + u32::from(table.heading.is_some() || table.heading_when_cut.is_some());
            let fit = rows_that_fit(header_row, table.frame.height()) as u32;
            out.insert(table.name.as_str(), (header_row, header_row + fit.max(1)));
        }
        top += block_height(block);
    }
    out
}

/// A table written on the sheet, for the column formats set once all are written.
struct Placed<'a> {
    block: &'a TableBlock,
}

fn lay_out(sheet: &mut Worksheet, spec: &SheetSpec) -> Result<Vec<BubbleSizes>, XlsxError> {
    let bold = Format::new().set_bold();
    let mut row: u32 = 0;
    let mut placed: Vec<Placed> = Vec::new();
    let landed = landings(spec);
    let mut bubbles = Vec::new();
    // Tables and label columns share the sheet's columns: each gets the widest width asked of it.
    let mut widths: Vec<f64> = Vec::new();
    let widen = |column: usize, width: f64, widths: &mut Vec<f64>| {
        if widths.len() <= column {
            widths.resize(column + 1, 0.0);
        }
        widths[column] = widths[column].max(width);
    };
    for (index, block) in spec.blocks.iter().enumerate() {
        match block {
            Block::Title(text) => {
                let title = Format::new().set_bold().set_font_size(14);
                sheet.write_string_with_format(row, 0, text, &title)?;
                row += 2;
            }
            Block::Heading(text) => {
                sheet.write_string_with_format(row, 0, text, &bold)?;
                row += 1;
            }
            Block::KeyValues { rows, widths: w } => {
                for (label, value) in rows {
                    sheet.write_string_with_format(row, 0, label, &bold)?;
                    sheet.write_string(row, 1, value)?;
                    row += 1;
                }
                if let Some((a, b)) = w {
                    widen(0, *a, &mut widths);
                    widen(1, *b, &mut widths);
                }
                row += 1;
            }
            Block::Table(table) => {
                let header_row = row + u32::from(table.heading.is_some());
                let total = table.frame.height();
                let fit = rows_that_fit(header_row, total);
                let heading = match &table.heading_when_cut {
                    Some(cut) if fit < total => Some(
                        cut.replace("{shown}", &group_thousands(fit as i64))
                            .replace("{total}", &group_thousands(total as i64))
                            .replace("{rest}", &group_thousands((total - fit) as i64)),
                    ),
                    None if fit < total => {
                        return Err(XlsxError::ParameterError(format!(
                            "table {} has {total} rows, over Excel's limit of {EXCEL_ROWS} rows per sheet",
                            table.name
                        )));
                    }
                    _ => table.heading.clone(),
                };
                if let Some(text) = heading {
                    sheet.write_string_with_format(row, 0, &text, &bold)?;
                    row += 1;
                }
                let frame = table.frame.slice(0, fit);
                let last = write_table(
                    sheet,
                    row,
                    &frame,
                    &table.columns,
                    &table.name,
                    &table.extras,
                )?;
                for (c, column) in table.columns.iter().enumerate() {
                    widen(c, column.width, &mut widths);
                }
                debug_assert_eq!(
                    landed.get(table.name.as_str()),
                    Some(&(row, last)),
                    "table {} landed where the layout put it",
                    table.name
                );
                placed.push(Placed { block: table });
                row = last + 2;
            }
            Block::Chart(chart) => {
                let data = spec
                    .blocks
                    .iter()
                    .find_map(|b| match b {
                        Block::Table(t) if t.name == chart.table => Some(t),
                        _ => None,
                    })
                    .zip(landed.get(chart.table.as_str()))
                    .ok_or_else(|| {
                        XlsxError::ParameterError(format!(
                            "chart {} draws table {}, which is not on sheet {}",
                            chart.title, chart.table, spec.name
                        ))
                    })?;
                let (excel, sizes) = excel_chart(&spec.name, chart, data.0, *data.1)?;
                sheet.insert_chart(row, 0, &excel)?;
                bubbles.extend(sizes);
                row += CHART_ROWS;
            }
            Block::Grid(grid) => {
                // Formulas on other sheets point into the grid where grid_place says it is.
                let expected = spec
                    .grid_place(index)
                    .map(|p| p.first_row - grid.rows_above());
                if expected != Some(row) {
                    return Err(XlsxError::ParameterError(format!(
                        "sheet {}: a grid laid out on row {row}, not on row {expected:?} where formulas expect it",
                        spec.name
                    )));
                }
                row = write_grid(sheet, row, grid, &bold)?;
                for (c, (_, width, _)) in grid.labels.iter().enumerate() {
                    widen(c, *width, &mut widths);
                }
                for c in 0..grid.dates.len() {
                    widen(grid.labels.len() + c, grid.width, &mut widths);
                }
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        if *width > 0.0 {
            sheet.set_column_width(c as u16, *width)?;
        }
    }
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    for table in &placed {
        for (c, column) in table.block.columns.iter().enumerate() {
            if column.wrap {
                sheet.set_column_format(c as u16, &wrap)?;
            }
        }
    }
    Ok(bubbles)
}

/// Writes `grid` from `row` on and returns the row after its blank row.
fn write_grid(
    sheet: &mut Worksheet,
    mut row: u32,
    grid: &GridBlock,
    bold: &Format,
) -> Result<u32, XlsxError> {
    if let Some(heading) = &grid.heading {
        sheet.write_string_with_format(row, 0, heading, bold)?;
        row += 1;
    }
    let first = grid.first_date_column();
    if let Some(tags) = &grid.tags {
        let tag = Format::new()
            .set_italic()
            .set_align(rust_xlsxwriter::FormatAlign::Right);
        for (c, text) in tags.iter().enumerate() {
            sheet.write_string_with_format(row, first + c as u16, text, &tag)?;
        }
        row += 1;
    }
    let date_header = bold.clone().set_num_format(number_format(Unit::Date));
    for (c, (header, _, _)) in grid.labels.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, header, bold)?;
    }
    for (c, date) in grid.dates.iter().enumerate() {
        sheet.write_datetime_with_format(
            row,
            first + c as u16,
            excel_date(*date)?,
            &date_header,
        )?;
    }
    row += 1;
    let number = Format::new().set_num_format(number_format(grid.unit));
    for (r, values) in grid.values.iter().enumerate() {
        for (c, (_, _, labels)) in grid.labels.iter().enumerate() {
            if let Some(text) = labels.get(r) {
                sheet.write_string(row, c as u16, text)?;
            }
        }
        for (c, value) in values.iter().enumerate() {
            if let Some(value) = value {
                sheet.write_number_with_format(row, first + c as u16, *value, &number)?;
            }
        }
        row += 1;
    }
    Ok(row + 1)
}

/// The native chart of `spec`, its ranges on the rows its table landed on (`header_row`,
/// `last_row`), and the bubble series the saved package must finish.
fn excel_chart(
    sheet: &str,
    spec: &ChartSpec,
    table: &TableBlock,
    (header_row, last_row): (u32, u32),
) -> Result<(Chart, Vec<BubbleSizes>), XlsxError> {
    use rust_xlsxwriter::{
        ChartFormat, ChartLine, ChartMarker, ChartMarkerType, ChartSolidFill,
        utility::worksheet_range_absolute,
    };
    let kind = match spec.kind {
        ChartKind::Column => ChartType::Column,
        ChartKind::Bar => ChartType::Bar,
        ChartKind::Line | ChartKind::Range => ChartType::Line,
        ChartKind::AreaStacked => ChartType::AreaStacked,
        ChartKind::Bubble => ChartType::Scatter,
    };
    let column_of = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| c.column == name)
            .map(|c| c as u16)
            .ok_or_else(|| {
                XlsxError::ParameterError(format!(
                    "chart {}: table {} has no column {name}",
                    spec.title, table.name
                ))
            })
    };
    // Sheet rows of table rows `rows` (0-based below the header).
    let span = |rows: &Option<std::ops::Range<usize>>| match rows {
        Some(r) => (
            header_row + 1 + r.start as u32,
            header_row + r.end.max(r.start + 1) as u32,
        ),
        None => (header_row + 1, last_row),
    };
    let mut chart = Chart::new(kind);
    let mut bubbles = Vec::new();
    for series in &spec.series {
        let values = column_of(&series.column)?;
        let (first, last) = span(&series.rows.clone().or_else(|| spec.rows.clone()));
        let x = match (&series.x, spec.kind) {
            (Some(x), _) => column_of(x)?,
            (None, _) => column_of(&spec.categories)?,
        };
        let mut fill = ChartSolidFill::new();
        fill.set_color(series.colour);
        if spec.kind == ChartKind::Bubble {
            fill.set_transparency(30);
        }
        let mut line = ChartLine::new();
        line.set_color(series.colour);
        let mut format = ChartFormat::new();
        match spec.kind {
            ChartKind::Range => format.set_no_line(),
            _ => format.set_solid_fill(&fill).set_line(&line),
        };
        let added = chart
            .add_series()
            .set_name(series.name.as_str())
            .set_categories((sheet, first, x, last, x))
            .set_values((sheet, first, values, last, values))
            .set_format(&mut format);
        if spec.kind == ChartKind::Range {
            let mut marker = ChartMarker::new();
            marker
                .set_type(ChartMarkerType::Diamond)
                .set_size(8)
                .set_format(ChartFormat::new().set_solid_fill(&fill));
            added.set_marker(&marker);
        }
        if let (ChartKind::Bubble, Some(size)) = (spec.kind, &series.size) {
            let size = column_of(size)?;
            bubbles.push(BubbleSizes {
                values: worksheet_range_absolute(sheet, first, values, last, values),
                sizes: worksheet_range_absolute(sheet, first, size, last, size),
            });
        }
    }
    if spec.kind == ChartKind::Range {
        chart.set_high_low_lines(true);
    }
    chart.title().set_name(&spec.title);
    chart.x_axis().set_num_format(&spec.category_format);
    if let Some(label) = &spec.category_label {
        chart.x_axis().set_name(label);
    }
    chart.y_axis().set_num_format(&spec.value_format);
    chart.y_axis().set_name(&spec.value_label);
    if spec.kind == ChartKind::Bar {
        // The first category on top, as a table reads.
        chart.x_axis().set_reverse();
    }
    chart.set_width(CHART_SIZE.0).set_height(CHART_SIZE.1);
    Ok((chart, bubbles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_stops_at_excels_last_row_and_counts_the_rest() {
        // A header on row 41 (0-based 40) leaves rows 42 to 1,048,576.
        assert_eq!(rows_that_fit(40, 10), 10);
        assert_eq!(rows_that_fit(40, 2_000_000), 1_048_535);
        assert_eq!(rows_that_fit(1_048_575, 5), 0);
    }
}
