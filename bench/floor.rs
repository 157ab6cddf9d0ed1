//! The I/O floor of the benchmark (bench/run.sh): reads every sheet of every workbook under a
//! folder with calamine, as itvalue's ingest does, and writes one workbook with the same cells
//! (a sheet per input sheet; text as text, numbers as numbers, dates as dates) with
//! rust_xlsxwriter, as the pack writer does. Nothing is typed, checked or computed, so its time is
//! what no program that reads these inputs and writes a workbook can beat by much.
//!
//! In: an input folder (searched recursively for `.xlsx`) and an output path. Out: the workbook,
//! and on stderr the files, sheets and cells it copied with the time of the reading (all files)
//! and of the writing, so the read alone can be set against itvalue's ingest step.
//!
//!   cargo build --release --example floor && target/release/examples/floor DIR OUT.xlsx

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};
use rust_xlsxwriter::{Format, Workbook};

fn workbooks(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            workbooks(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "xlsx") {
            found.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: floor INPUT_DIR OUTPUT.xlsx".into());
    };
    let mut files = Vec::new();
    workbooks(Path::new(&dir), &mut files)?;
    files.sort();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut book = Workbook::new();
    let (mut sheets, mut cells) = (0_usize, 0_usize);
    let started = std::time::Instant::now();
    let mut reading = std::time::Duration::ZERO;
    for file in &files {
        let opened_at = std::time::Instant::now();
        let mut input = open_workbook_auto(file)?;
        reading += opened_at.elapsed();
        for name in input.sheet_names() {
            let read_at = std::time::Instant::now();
            let range = input.worksheet_range(&name)?;
            reading += read_at.elapsed();
            sheets += 1;
            let sheet = book.add_worksheet();
            sheet.set_name(format!("S{sheets}"))?;
            let (row0, col0) = range.start().unwrap_or((0, 0));
            for (r, c, value) in range.used_cells() {
                let (row, col) = (row0 + r as u32, (col0 as usize + c) as u16);
                match value {
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        sheet.write_string(row, col, s)?;
                    }
                    Data::Float(f) => {
                        sheet.write_number(row, col, *f)?;
                    }
                    Data::Int(i) => {
                        sheet.write_number(row, col, *i as f64)?;
                    }
                    Data::Bool(b) => {
                        sheet.write_boolean(row, col, *b)?;
                    }
                    Data::DateTime(d) => {
                        sheet.write_number_with_format(row, col, d.as_f64(), &date)?;
                    }
                    Data::Error(_) | Data::Empty => continue,
                }
                cells += 1;
            }
        }
    }
    book.save(&out)?;
    let total = started.elapsed();
    eprintln!(
        "floor: {} files, {sheets} sheets, {cells} cells -> {out}; read {} ms, cells and write {} ms",
        files.len(),
        reading.as_millis(),
        (total - reading).as_millis()
    );
    Ok(())
}
