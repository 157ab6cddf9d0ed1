//! A model's header: the `--` comment lines at the top of its file, before any SQL.
//!
//! In: the model's SQL text. Out: its description, materialisation and declared dependencies.
//! Lines of the form `-- key: value` set an option when the key is one of `materialized`,
//! `depends_on` or `period_column`; every other comment line is description.

use super::Materialization;

/// What a model's header says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The comment text that is not an option, joined with spaces.
    pub description: String,
    /// `-- materialized: table | view | incremental`, if given.
    pub materialized: Option<String>,
    /// `-- period_column: <column>`, the column an incremental model replaces by.
    pub period_column: Option<String>,
    /// `-- depends_on: a, b`, dependencies the parser cannot see (for example a table read only
    /// through a macro).
    pub depends_on: Vec<String>,
}

impl Header {
    /// Reads the header of `sql`; it ends at the first line that is neither a comment nor blank.
    pub fn parse(sql: &str) -> Header {
        let mut header = Header::default();
        let mut description: Vec<&str> = Vec::new();
        for line in sql.lines().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let comment = comment.trim();
            match comment.split_once(':') {
                Some((key, value)) if is_option(&key.trim().to_lowercase()) => {
                    let value = value.trim();
                    match key.trim().to_lowercase().as_str() {
                        "materialized" | "materialised" => {
                            header.materialized = Some(value.to_lowercase());
                        }
                        "period_column" => header.period_column = Some(value.to_string()),
                        _ => header.depends_on.extend(
                            value
                                .split(',')
                                .map(|d| d.trim().to_lowercase())
                                .filter(|d| !d.is_empty()),
                        ),
                    }
                }
                _ if !comment.is_empty() => description.push(comment),
                _ => {}
            }
        }
        header.description = description.join(" ");
        header
    }

    /// The materialisation the header asks for, or `None` when it does not say.
    ///
    /// # Errors
    ///
    /// A message naming the value and the accepted ones when the value is unknown.
    pub fn materialization(&self) -> Result<Option<Materialization>, String> {
        self.materialized
            .as_deref()
            .map(|m| Materialization::parse(m, self.period_column.as_deref()))
            .transpose()
    }
}

fn is_option(key: &str) -> bool {
    matches!(
        key,
        "materialized" | "materialised" | "period_column" | "depends_on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_description_are_separated() {
        let header = Header::parse(
            "-- Incident minutes per month.\n--   Materialized: Incremental\n\n-- period_column: month\n\
             -- depends_on: stg_a, STG_B\n-- Note: split at month ends.\nSELECT 1 -- materialized: view\n",
        );
        assert_eq!(
            header,
            Header {
                description: "Incident minutes per month. Note: split at month ends.".into(),
                materialized: Some("incremental".into()),
                period_column: Some("month".into()),
                depends_on: vec!["stg_a".into(), "stg_b".into()],
            }
        );
        assert_eq!(
            header.materialization(),
            Ok(Some(Materialization::Incremental {
                period_column: "month".into()
            }))
        );
    }

    #[test]
    fn an_unknown_materialization_is_refused_with_the_choices() {
        let header = Header::parse("-- materialized: ephemeral\nSELECT 1");
        assert_eq!(
            header.materialization(),
            Err("materialized: \"ephemeral\" is not one of table, view, incremental".into())
        );
    }
}
