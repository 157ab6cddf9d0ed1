//! The metric catalogue: what every figure family declares about its tables. Per column: its
//! unit (which decides its number format), its width and whether it is a figure; its header in
//! each language, and for a figure its formula and what an empty cell means, are in the label
//! catalogues (`labels/<language>.toml`). The job stores whatever tables a family
//! hands it under `metrics.*`; the report builds the family's sheet columns and the Definitions
//! sheet from the same declaration, so a figure is declared once.
//!
//! In: nothing (the families' static declarations). Out: [`Family`], [`Table`] and [`Column`]
//! for the job, the warehouse and the report.

use polars::prelude::{DataFrame, DataType, Expr, LazyFrame, PolarsResult, TimeUnit, col};

use super::{Computed, Inputs, Settings};
use crate::contract::Entity;
use crate::error::Result;
use crate::labels::{self, Lang};
use crate::schedule::Period;

/// What a column holds, which decides how the workbook shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Text,
    /// Money in the reporting currency, two decimals.
    Money,
    /// A share shown as a percentage.
    Percent,
    /// A plain ratio such as CPI.
    Ratio,
    Integer,
    /// A number with two decimals.
    Number,
    /// A calendar month (a date column shown `yyyy-mm`).
    Month,
    Date,
    DateTime,
}

/// One column of a metric table. Its words (header, and for a figure its formula and what an
/// empty cell means) are in the label catalogues, under `figure.<table>.<column>` (a key
/// column's header may be shared, under `column.<column>`); see [`Table::header`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    pub name: &'static str,
    pub unit: Unit,
    /// The column's width on its sheet, in Excel's character units.
    pub width: f64,
    /// Whether it is a figure (defined on the Definitions sheet) rather than a column that
    /// identifies or describes a row (the period, the investment's id and name).
    pub figure: bool,
    /// Whether the column is part of what identifies a row within a period (the investment's
    /// id, the month): a restatement names the row by these and compares the other columns.
    pub identifies: bool,
    /// Whether its text is written in the run's language (a recommendation's reason, the notes):
    /// a rerun in another language restates nothing, so restatements leave it out.
    pub in_run_language: bool,
}

impl Column {
    /// The column, with its text written in the run's language.
    pub const fn in_run_language(self) -> Column {
        Column {
            in_run_language: true,
            ..self
        }
    }
}

/// A column that identifies a row (with the period); no definition.
pub const fn key(name: &'static str, unit: Unit, width: f64) -> Column {
    Column {
        name,
        unit,
        width,
        figure: false,
        identifies: true,
        in_run_language: false,
    }
}

/// A column that describes a row without identifying it (a name, a status, notes); no
/// definition. A rerun that changes it restates it like a figure.
pub const fn label(name: &'static str, unit: Unit, width: f64) -> Column {
    Column {
        name,
        unit,
        width,
        figure: false,
        identifies: false,
        in_run_language: false,
    }
}

/// A figure, defined in the catalogues.
pub const fn figure(name: &'static str, unit: Unit, width: f64) -> Column {
    Column {
        name,
        unit,
        width,
        figure: true,
        identifies: false,
        in_run_language: false,
    }
}

/// A figure that also identifies its row (a frontier's budget level).
pub const fn identifying_figure(name: &'static str, unit: Unit, width: f64) -> Column {
    Column {
        name,
        unit,
        width,
        figure: true,
        identifies: true,
        in_run_language: false,
    }
}

/// What a figure means, in one language: its formula and what an empty cell means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub formula: &'static str,
    pub when_empty: &'static str,
}

/// A table of `metrics.*`: one set of rows per period, the period in its `period` column.
#[derive(Debug)]
pub struct Table {
    /// Its name under `metrics.`.
    pub name: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    /// The header of `column` in `lang`: the table's own, else the one its columns of that name
    /// share.
    pub fn header(&self, column: &Column, lang: Lang) -> &'static str {
        let own = format!("figure.{}.{}.header", self.name, column.name);
        labels::text(lang, &own)
            .or_else(|| labels::text(lang, &format!("column.{}.header", column.name)))
            .unwrap_or(column.name)
    }

    /// The definition of `column` in `lang`, when it is a figure.
    pub fn definition(&self, column: &Column, lang: Lang) -> Option<Definition> {
        if !column.figure {
            return None;
        }
        let text = |part: &str| {
            labels::text(
                lang,
                &format!("figure.{}.{}.{part}", self.name, column.name),
            )
            .unwrap_or("")
        };
        Some(Definition {
            formula: text("formula"),
            when_empty: text("when_empty"),
        })
    }

    /// The columns that identify a row within a period (the period itself left out).
    pub fn identity(&self) -> impl Iterator<Item = &'static Column> {
        self.columns
            .iter()
            .filter(|c| c.identifies && c.name != "period")
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// `frame`'s declared columns in their declared order, with `period` (the first day of
    /// `period`) as the period column.
    ///
    /// # Errors
    ///
    /// Polars' error when `frame` lacks a declared column.
    pub fn in_order(&self, frame: LazyFrame, period: Period) -> PolarsResult<DataFrame> {
        let columns: Vec<Expr> = self
            .columns
            .iter()
            .map(|c| {
                if c.name == "period" {
                    super::stats::date_lit(period.first_day()).alias("period")
                } else {
                    col(c.name)
                }
            })
            .collect();
        frame.select(columns).collect()
    }

    /// A frame of no rows with the declared columns, each in its unit's type.
    ///
    /// # Errors
    ///
    /// Polars' error when the frame cannot be made (never, for a declared table).
    pub fn empty_frame(&self) -> PolarsResult<DataFrame> {
        let columns: Vec<polars::prelude::Column> = self
            .columns
            .iter()
            .map(|c| {
                let dtype = match c.unit {
                    Unit::Integer => DataType::Int64,
                    Unit::Number | Unit::Percent | Unit::Ratio => DataType::Float64,
                    Unit::Money => DataType::Decimal(18, 2),
                    Unit::Month | Unit::Date => DataType::Date,
                    Unit::DateTime => DataType::Datetime(TimeUnit::Microseconds, None),
                    Unit::Text => DataType::String,
                };
                polars::prelude::Column::new_empty(c.name.into(), &dtype)
            })
            .collect();
        DataFrame::new_infer_height(columns)
    }

    /// Checks that a computed frame has exactly the declared columns, in order: the declaration
    /// is what the warehouse, the sheets and the Definitions sheet are built from.
    ///
    /// # Errors
    ///
    /// A message naming the table and both column lists.
    pub fn check(&self, frame: &DataFrame) -> Result<(), String> {
        let computed: Vec<&str> = frame
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect();
        let declared: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        if computed == declared {
            Ok(())
        } else {
            Err(format!(
                "metrics.{} was computed with the columns {} but is declared with {}",
                self.name,
                computed.join(", "),
                declared.join(", ")
            ))
        }
    }
}

/// A family of figures: what it is computed from, and the tables it makes.
pub struct Family {
    pub name: &'static str,
    /// The models the family reads, by name; they must build for the family's figures to exist.
    pub models: &'static [&'static str],
    /// The entities that must have a source for the family to say anything.
    pub entities: &'static [Entity],
    /// The families (by name) whose tables of the same run this family reads, through
    /// [`Inputs::table`]; they come earlier in [`FAMILIES`], and without them this family is
    /// left out too.
    pub after: &'static [&'static str],
    pub tables: &'static [Table],
    /// Computes the family's tables as of a period from its models' rows.
    pub compute: fn(&Inputs, Period, &Settings) -> Result<Computed>,
}

impl Family {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&'static Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Every family, in the order their figures appear in the pack (and are computed: a family
/// comes after those it reads).
pub const FAMILIES: &[&Family] = &[
    &super::finance::FAMILY,
    &super::flow::FAMILY,
    &super::delivery::FAMILY,
    &super::reliability::FAMILY,
    &super::scenarios::FAMILY,
];

/// The family called `name`.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

/// The table of any family called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    FAMILIES.iter().find_map(|f| f.table(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_period_column_and_unique_column_names() {
        for family in FAMILIES {
            for table in family.tables {
                assert_eq!(table.columns[0].name, "period", "{}", table.name);
                let mut names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), table.columns.len(), "{}", table.name);
            }
        }
    }

    #[test]
    fn a_family_comes_after_the_families_it_reads() {
        for (i, family) in FAMILIES.iter().enumerate() {
            for name in family.after {
                let earlier = FAMILIES[..i].iter().any(|f| f.name == *name);
                assert!(
                    earlier,
                    "{} reads {name}, which is not before it",
                    family.name
                );
            }
        }
    }

    #[test]
    fn every_column_has_its_words_in_every_language_and_the_catalogues_no_others() {
        use crate::labels::{Lang, catalogue};
        let mut declared = std::collections::BTreeSet::new();
        for family in FAMILIES {
            for table in family.tables {
                for column in table.columns {
                    for lang in Lang::ALL {
                        let own = format!("figure.{}.{}.header", table.name, column.name);
                        let shared = format!("column.{}.header", column.name);
                        assert!(
                            catalogue(lang).contains_key(&own)
                                || catalogue(lang).contains_key(&shared),
                            "labels/{}.toml has no header for {}.{}",
                            lang.code(),
                            table.name,
                            column.name
                        );
                        declared.insert(own);
                        declared.insert(shared);
                        if column.figure {
                            for part in ["formula", "when_empty"] {
                                let key = format!("figure.{}.{}.{part}", table.name, column.name);
                                let text = catalogue(lang).get(&key).map(String::as_str);
                                assert!(
                                    text.is_some_and(|t| !t.is_empty()),
                                    "labels/{}.toml has no {key}",
                                    lang.code()
                                );
                                declared.insert(key);
                            }
                        }
                    }
                }
            }
        }
        let stale: Vec<&String> = catalogue(Lang::En)
            .keys()
            .filter(|k| k.starts_with("figure.") || k.starts_with("column."))
            .filter(|k| !declared.contains(*k))
            .collect();
        assert!(
            stale.is_empty(),
            "words for columns no table declares: {stale:?}"
        );
    }
}
