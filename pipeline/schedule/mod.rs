//! Scheduling: reporting periods, cron schedules and the run lock.
//!
//! In: a period text, a cron expression and zone, or a warehouse path. Out: [`Period`]
//! arithmetic for every stage, [`CronSchedule`] due times and the periods they stand for, and a
//! [`RunLock`] that keeps a second run off the same warehouse.

mod cron;
mod lock;
mod period;
pub mod units;

pub use cron::{CronSchedule, Due, PeriodRule};
pub use lock::RunLock;
pub use period::{ParsePeriodError, Period};
