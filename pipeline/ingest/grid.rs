//! The grid every reader produces: the non-empty cells of one sheet or file, row by row, with
//! enough to name any cell's location the way its user would look for it.
//!
//! In: cells from a reader (xlsx stream, calamine range, CSV records, Parquet rows). Out: a
//! [`Grid`] the typing step walks. Only non-empty cells are stored, so memory follows what the
//! file holds, not the extent its cells claim.

use chrono::NaiveDateTime;

use super::value::Cell;

/// An owned cell as a reader found it.
#[derive(Debug, Clone, PartialEq)]
pub enum RawCell {
    Text(String),
    /// A workbook's shared string: every cell that uses it holds the same allocation, so memory
    /// follows the file rather than the number of cells repeating one string.
    Shared(std::sync::Arc<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    Error(&'static str),
}

impl RawCell {
    /// The borrowed view that typing works on.
    pub fn view(&self) -> Cell<'_> {
        match self {
            RawCell::Text(s) => Cell::Text(s),
            RawCell::Shared(s) => Cell::Text(s),
            RawCell::Int(i) => Cell::Int(*i),
            RawCell::Float(f) => Cell::Float(*f),
            RawCell::Bool(b) => Cell::Bool(*b),
            RawCell::DateTime(t) => Cell::DateTime(*t),
            RawCell::Error(e) => Cell::Error(e),
        }
    }
}

/// One row: its number as the user sees it (sheet row, CSV line, Parquet row) and its non-empty
/// cells by 0-based column, in column order.
#[derive(Debug, Clone, Default)]
pub struct GridRow {
    pub number: u32,
    pub cells: Vec<(u32, RawCell)>,
}

impl GridRow {
    /// The cell at `column`, empty when there is none.
    pub fn cell(&self, column: u32) -> Cell<'_> {
        match self.cells.binary_search_by_key(&column, |(c, _)| *c) {
            Ok(i) => self.cells[i].1.view(),
            Err(_) => Cell::Empty,
        }
    }
}

/// How locations in a grid are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressing {
    /// `file!sheet!D17`: a workbook sheet.
    Sheet(String),
    /// `file!D17`: a CSV file opened in a spreadsheet program shows the same cell (the row is the
    /// line where the record starts).
    Lines,
    /// `file!row 17`: a Parquet file, whose columns have names rather than letters.
    Rows,
}

/// The non-empty cells of one sheet or file.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The file's name, without its folder.
    pub file_name: String,
    pub addressing: Addressing,
    /// In row order.
    pub rows: Vec<GridRow>,
}

impl Grid {
    /// Where the rows of this grid are, without a row: `costs.xlsx!Costs`.
    pub fn place(&self) -> String {
        place(&self.file_name, &self.addressing)
    }

    /// The address of a cell in the header row, for messages about headers.
    pub fn header_address(&self, row: u32, column: u32) -> String {
        match self.addressing {
            Addressing::Rows => format!("column {}", column + 1),
            _ => format!("{}{row}", column_letters(column)),
        }
    }
}

/// `costs.xlsx!Costs` for a sheet, the file name otherwise.
pub fn place(file_name: &str, addressing: &Addressing) -> String {
    match addressing {
        Addressing::Sheet(sheet) => format!("{file_name}!{sheet}"),
        Addressing::Lines | Addressing::Rows => file_name.to_string(),
    }
}

/// The location of a cell: `costs.xlsx!Costs!D17`, `costs.csv!D17` or `costs.parquet!row 17`.
pub fn location(file_name: &str, addressing: &Addressing, row: u32, column: Option<u32>) -> String {
    let place = place(file_name, addressing);
    match (addressing, column) {
        (Addressing::Rows, _) | (_, None) => format!("{place}!row {row}"),
        (_, Some(c)) => format!("{place}!{}{row}", column_letters(c)),
    }
}

/// Excel's column letters for a 0-based column: 0 is A, 25 is Z, 26 is AA.
pub fn column_letters(column: u32) -> String {
    let mut n = column + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(column_letters(16383), "XFD");
    }

    #[test]
    fn locations_follow_what_each_kind_of_file_shows() {
        let at = |addressing| location("costs.xlsx", &addressing, 17, Some(3));
        assert_eq!(
            at(Addressing::Sheet("Costs".into())),
            "costs.xlsx!Costs!D17"
        );
        assert_eq!(at(Addressing::Lines), "costs.xlsx!D17");
        assert_eq!(at(Addressing::Rows), "costs.xlsx!row 17");
    }

    #[test]
    fn missing_cells_read_as_empty() {
        let row = GridRow {
            number: 2,
            cells: vec![(0, RawCell::Int(1)), (5, RawCell::Text("x".into()))],
        };
        assert_eq!(row.cell(5), Cell::Text("x"));
        assert_eq!(row.cell(3), Cell::Empty);
    }
}
