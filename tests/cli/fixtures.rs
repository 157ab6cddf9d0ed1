//! Fixture files for the ingest tests, written into each test's temporary folder. Each is named
//! after the case it covers (`costs-1904-epoch.xlsx`, `costs-error-cells.xlsx`, ...).

use std::io::{Cursor, Read, Write};
use std::path::Path;

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Formula, Workbook, Worksheet};

/// A cell of a fixture sheet.
#[derive(Debug, Clone)]
pub enum C {
    Blank,
    S(&'static str),
    N(f64),
    /// A date written as Excel writes it: a serial number formatted as a date.
    Day(i32, u32, u32),
    /// A formula with the value Excel cached for it.
    F(&'static str, &'static str),
}

/// One sheet: its name, whether it is hidden, and its rows from A1 down.
pub struct Sheet {
    pub name: &'static str,
    pub hidden: bool,
    pub rows: Vec<Vec<C>>,
}

impl Sheet {
    pub fn new(name: &'static str, rows: Vec<Vec<C>>) -> Sheet {
        Sheet {
            name,
            hidden: false,
            rows,
        }
    }
}

/// Days from an epoch to a date, as Excel stores dates.
fn serial(epoch_1904: bool, y: i32, m: u32, d: u32) -> f64 {
    let day = NaiveDate::from_ymd_opt(y, m, d).expect("valid fixture date");
    let epoch = if epoch_1904 {
        NaiveDate::from_ymd_opt(1904, 1, 1)
    } else {
        // 1899-12-30, which absorbs Excel's fictitious 1900-02-29 for dates after March 1900.
        NaiveDate::from_ymd_opt(1899, 12, 30)
    }
    .expect("valid epoch");
    (day - epoch).num_days() as f64
}

fn write_sheet(sheet: &mut Worksheet, rows: &[Vec<C>], epoch_1904: bool) {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                C::Blank => {}
                C::S(s) => {
                    sheet.write_string(r, c, *s).expect("write");
                }
                C::N(n) => {
                    sheet.write_number(r, c, *n).expect("write");
                }
                C::Day(y, m, d) => {
                    sheet
                        .write_number_with_format(r, c, serial(epoch_1904, *y, *m, *d), &date)
                        .expect("write");
                }
                C::F(formula, result) => {
                    sheet
                        .write_formula(r, c, Formula::new(*formula).set_result(*result))
                        .expect("write");
                }
            }
        }
    }
}

/// Writes an xlsx with `sheets`, in the 1900 date system.
pub fn xlsx(path: &Path, sheets: Vec<Sheet>) {
    std::fs::write(path, xlsx_bytes(&sheets, false)).expect("write fixture");
}

/// Writes an xlsx with `sheets` in the 1904 date system (dates stored as days since 1904-01-01,
/// and the workbook flagged `date1904`), as old Excel for Mac files are.
pub fn xlsx_1904(path: &Path, sheets: Vec<Sheet>) {
    let bytes = xlsx_bytes(&sheets, true);
    std::fs::write(path, flag_1904(&bytes)).expect("write fixture");
}

fn xlsx_bytes(sheets: &[Sheet], epoch_1904: bool) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let visible = sheets.iter().position(|s| !s.hidden).unwrap_or(0);
    for (i, s) in sheets.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(s.name).expect("sheet name");
        write_sheet(sheet, &s.rows, epoch_1904);
        if i == visible {
            sheet.set_active(true);
        }
        if s.hidden {
            sheet.set_hidden(true);
        }
    }
    workbook.save_to_buffer().expect("fixture workbook")
}

/// Rewrites xl/workbook.xml with `date1904="1"` and copies every other part unchanged.
fn flag_1904(bytes: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).expect("part");
        let name = part.name().expect("part name").into_owned();
        let mut content = Vec::new();
        part.read_to_end(&mut content).expect("read part");
        if name == "xl/workbook.xml" {
            let xml = String::from_utf8(content).expect("utf-8");
            content = xml
                .replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1)
                .into_bytes();
        }
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file(name, options).expect("start part");
        out.write_all(&content).expect("write part");
    }
    out.finish().expect("finish zip").into_inner()
}

/// A zip whose one part declares `declared` uncompressed bytes but stores `stored` bytes: what a
/// zip bomb's directory looks like to a reader that trusts it.
pub fn zip_declaring(path: &Path, part: &str, stored: usize, declared: u32) {
    let data = vec![b'x'; stored];
    let name = part.as_bytes();
    let mut zip = Vec::new();
    // Local file header.
    zip.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0, 0]); // version, flags, deflate, time, date
    zip.extend_from_slice(&0_u32.to_le_bytes()); // crc (never checked: nothing is inflated)
    zip.extend_from_slice(&(stored as u32).to_le_bytes());
    zip.extend_from_slice(&declared.to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes());
    zip.extend_from_slice(name);
    zip.extend_from_slice(&data);
    let directory_start = zip.len() as u32;
    // Central directory entry, the part readers trust for sizes.
    zip.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&[20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&0_u32.to_le_bytes());
    zip.extend_from_slice(&(stored as u32).to_le_bytes());
    zip.extend_from_slice(&declared.to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
    zip.extend_from_slice(&0_u32.to_le_bytes()); // offset of the local header
    zip.extend_from_slice(name);
    let directory_size = zip.len() as u32 - directory_start;
    // End of central directory.
    zip.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&directory_size.to_le_bytes());
    zip.extend_from_slice(&directory_start.to_le_bytes());
    zip.extend_from_slice(&0_u16.to_le_bytes());
    std::fs::write(path, zip).expect("write zip");
}

/// The header row of a costs sheet.
pub fn costs_header() -> Vec<C> {
    vec![
        C::S("Investment ID"),
        C::S("Period"),
        C::S("Scenario"),
        C::S("Amount"),
    ]
}
