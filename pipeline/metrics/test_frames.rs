//! Test helpers shared by the figure families' unit tests: one row of a computed table, and its
//! cells as Rust values.

use polars::prelude::*;

/// The single row of `frame` that `filter` keeps; fails the test unless there is exactly one.
pub fn row(frame: &DataFrame, filter: Expr) -> DataFrame {
    let out = frame.clone().lazy().filter(filter).collect().unwrap();
    assert_eq!(out.height(), 1, "{out}");
    out
}

/// The first cell of `column`.
pub fn value(frame: &DataFrame, column: &str) -> AnyValue<'static> {
    frame.column(column).unwrap().get(0).unwrap().into_static()
}

/// The first cell of `column` as a float, `None` when it is empty.
pub fn float(frame: &DataFrame, column: &str) -> Option<f64> {
    value(frame, column).extract::<f64>()
}
