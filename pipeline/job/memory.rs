//! The process's peak memory, for the ledger's steps and the parts `-vv` logs.
//!
//! In: nothing but the running process. Out: its peak resident memory so far, where the system
//! says (Linux's `/proc/self/status`).

/// The process's peak resident memory in MiB from its start until now (Linux's `VmHWM`); `None`
/// where the system does not say. It only grows, so a step whose figure is above the step
/// before it set a new peak. (Linux can start the mark afresh, but that would also hide the
/// process's true peak from whoever measures it from outside, such as `/usr/bin/time`.)
pub(super) fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.div_ceil(1024))
}
