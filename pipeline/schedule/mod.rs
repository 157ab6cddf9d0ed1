//! Scheduling: reporting periods and the run lock.
//!
//! In: a period text or a warehouse path. Out: [`Period`] arithmetic for every stage, and a
//! [`RunLock`] that keeps a second run off the same warehouse.

mod lock;
mod period;

pub use lock::RunLock;
pub use period::{ParsePeriodError, Period};
