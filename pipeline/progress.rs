//! Progress reporting without printing: the library says how far a long step has got, and the
//! binary decides how to show it (a bar on a terminal, nothing in cron).

/// Receives progress from long steps. Implementations must be cheap and thread-safe: sources are
/// read on several threads at once.
pub trait Progress: Sync {
    /// A step with `total` units of work begins.
    fn begin(&self, step: &str, total: u64);
    /// One unit of the current step is done; `item` says which.
    fn advance(&self, item: &str);
    /// The current step is over.
    fn end(&self);
}

/// Progress that goes nowhere, for tests and for callers that do not want it.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _step: &str, _total: u64) {}
    fn advance(&self, _item: &str) {}
    fn end(&self) {}
}
