//! Failpoints: named moments of a run at which the process can be made to stop dead, as a kill
//! or a power cut would stop it, so that tests can check what such a stop leaves behind.
//!
//! In: the environment variable `ITVALUE_FAILPOINT` (a failpoint's name). Out: when a run reaches
//! that failpoint, the process aborts at once: no destructor runs, no file is closed cleanly.
//! Without the variable, nothing happens. The failpoints are `raw-loaded` (the raw tables
//! replaced inside the load's transaction, the inputs, rejects and watermarks not yet recorded),
//! `before-commit` (all steps done, the warehouse not yet replaced), `after-commit` (the warehouse replaced, the pack not yet
//! swapped in) and `pack-exchanged` (the pack swapped in, the folder it replaced not yet removed).

/// Aborts the process when `ITVALUE_FAILPOINT` names `name`.
pub fn reached(name: &str) {
    if std::env::var("ITVALUE_FAILPOINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}
