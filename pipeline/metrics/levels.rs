//! Figures at several levels at once: the value-stream figures for the portfolio, each value
//! stream and each team of a value stream; the delivery figures for the portfolio, each
//! application, team and release strategy. A level names the key columns it groups by; the rows
//! of every level share one table, told apart by its `level` column, with the keys of other
//! levels left empty.
//!
//! In: a lazy frame of items (demands, deployments, incidents) and the aggregations of a figure.
//! Out: one row per group of every level, with `level`, every key column and the aggregations.

use polars::prelude::*;

/// One level: its name in the `level` column and the columns it groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub name: &'static str,
    pub keys: &'static [&'static str],
}

/// The portfolio: every item in one group.
pub const PORTFOLIO: Level = Level {
    name: "portfolio",
    keys: &[],
};

/// Aggregates `items` at every level of `levels`. The result has the column `level`, then each of
/// `all_keys` (empty where the level does not group by it; a key that some level leaves empty
/// must be text), then `aggregations`. The
/// portfolio level always has its row, even over no items (counts of zero, empty percentiles).
///
/// # Errors
///
/// Polars' error when an aggregation names a column the items lack.
pub fn at_levels(
    items: LazyFrame,
    levels: &[Level],
    all_keys: &[&str],
    aggregations: &[Expr],
) -> PolarsResult<DataFrame> {
    // The aggregations' output names, from the plan's schema.
    let names: Vec<PlSmallStr> = items
        .clone()
        .select(aggregations)
        .collect_schema()?
        .iter_names()
        .cloned()
        .collect();
    let mut parts = Vec::with_capacity(levels.len());
    for level in levels {
        let grouped = if level.keys.is_empty() {
            items.clone().select(aggregations)
        } else {
            let keys: Vec<Expr> = level.keys.iter().map(|k| col(*k)).collect();
            items.clone().group_by(keys).agg(aggregations)
        };
        let mut columns = vec![lit(level.name).alias("level")];
        for key in all_keys {
            columns.push(if level.keys.contains(key) {
                col(*key)
            } else {
                lit(NULL).cast(DataType::String).alias(*key)
            });
        }
        columns.extend(names.iter().map(|n| col(n.clone())));
        let sort: Vec<&str> = level.keys.to_vec();
        let mut part = grouped.select(columns);
        if !sort.is_empty() {
            part = part.sort(sort, SortMultipleOptions::default().with_nulls_last(true));
        }
        parts.push(part);
    }
    concat(parts, UnionArgs::default())?.collect()
}

/// The join of figures computed per level on `level` and the key columns, keeping every row of
/// `left` (a group without items in a figure's window gets nulls there).
pub fn join_levels(left: LazyFrame, right: LazyFrame, all_keys: &[&str]) -> LazyFrame {
    let mut on: Vec<Expr> = vec![col("level")];
    on.extend(all_keys.iter().map(|k| col(*k)));
    let mut args = JoinArgs::new(JoinType::Left);
    // Keys of other levels are empty on both sides: empty matches empty.
    args.nulls_equal = true;
    left.join(right, on.clone(), on, args)
}

/// `groups` (one row per group, from [`at_levels`]) once for each of `months`, with the month's
/// index in `month` (UInt32) and its first day in `month_date`: the rows of a monthly trend, so
/// that a month without items still has its row.
///
/// # Errors
///
/// Polars' error when the months cannot be made into a frame.
pub fn every_month(
    groups: DataFrame,
    months: &[crate::schedule::Period],
) -> PolarsResult<LazyFrame> {
    let months = DataFrame::new_infer_height(vec![
        Column::new("month".into(), (0..months.len() as u32).collect::<Vec<_>>()),
        Column::new(
            "month_date".into(),
            months.iter().map(|m| m.first_day()).collect::<Vec<_>>(),
        ),
    ])?;
    // Every group with every month: a join on one constant key.
    let key = || lit(0_i32).alias("__every_month");
    Ok(groups
        .lazy()
        .with_column(key())
        .join(
            months.lazy().with_column(key()),
            [col("__every_month")],
            [col("__every_month")],
            JoinArgs::new(JoinType::Inner),
        )
        .drop(by_name(["__every_month"], true, false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_its_groups_and_the_portfolio_its_row_even_over_nothing() {
        let items = df!(
            "value_stream" => ["Payments", "Payments", "Lending"],
            "team" => ["Core", "Mobile", "Core"],
            "days" => [1.0, 3.0, 5.0],
        )
        .unwrap();
        let levels = [
            PORTFOLIO,
            Level {
                name: "value_stream",
                keys: &["value_stream"],
            },
            Level {
                name: "team",
                keys: &["value_stream", "team"],
            },
        ];
        let keys = ["value_stream", "team"];
        let aggregations = [len().alias("items"), col("days").sum().alias("days")];
        let out = at_levels(items.clone().lazy(), &levels, &keys, &aggregations).unwrap();
        let level: Vec<Option<&str>> = out.column("level").unwrap().str().unwrap().iter().collect();
        assert_eq!(
            level,
            [
                Some("portfolio"),
                Some("value_stream"),
                Some("value_stream"),
                Some("team"),
                Some("team"),
                Some("team")
            ]
        );
        let streams: Vec<Option<&str>> = out
            .column("value_stream")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            streams,
            [
                None,
                Some("Lending"),
                Some("Payments"),
                Some("Lending"),
                Some("Payments"),
                Some("Payments")
            ]
        );
        let days: Vec<Option<f64>> = out.column("days").unwrap().f64().unwrap().iter().collect();
        assert_eq!(
            days,
            [
                Some(9.0),
                Some(5.0),
                Some(4.0),
                Some(5.0),
                Some(1.0),
                Some(3.0)
            ]
        );

        let none = items.lazy().filter(lit(false));
        let out = at_levels(none, &levels, &keys, &aggregations).unwrap();
        assert_eq!(out.height(), 1);
        assert_eq!(
            out.column("items").unwrap().get(0).unwrap(),
            AnyValue::UInt32(0)
        );
    }
}
