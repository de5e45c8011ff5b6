//! What a store reports about itself.

use std::collections::HashMap;

use crate::CommandStatus;

/// A snapshot of a store's state, for dashboards and logs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthMetrics {
    /// Records present, whatever their status.
    pub total: u64,
    /// Records per status (NotFound is always 0).
    pub by_status: HashMap<CommandStatus, u64>,
    /// Failed records as a share of `total`, in percent.
    pub failure_rate_percent: f64,
    /// InProgress records as a share of `total`, in percent: runs that may be stuck.
    pub stuck_percent: f64,
    /// Records an operator must resolve.
    pub indeterminate: u64,
    /// Records whose deadline has passed but which are still physically present (they read
    /// as NotFound already; the expiry wheel removes them on its next steps).
    pub expired_unremoved: u64,
    /// Table slots left by removals and not yet reclaimed by a rebuild.
    pub removed_slots: u64,
    /// Records removed by expiry since the store was built.
    pub expired_removed_total: u64,
}

impl HealthMetrics {
    /// Fills in the totals and shares from the per-status counts.
    pub fn from_counts(by_status: HashMap<CommandStatus, u64>) -> Self {
        let count = |status| by_status.get(&status).copied().unwrap_or(0);
        let total: u64 = by_status.values().sum();
        let share = |n: u64| {
            if total == 0 {
                0.0
            } else {
                n as f64 * 100.0 / total as f64
            }
        };
        HealthMetrics {
            total,
            failure_rate_percent: share(count(CommandStatus::Failed)),
            stuck_percent: share(count(CommandStatus::InProgress)),
            indeterminate: count(CommandStatus::Indeterminate),
            by_status,
            ..HealthMetrics::default()
        }
    }
}
