//! Age-based cleanup, counts and health on `MemoryStore`.
//!
//! Cleanup by age is an operator's sweep: it visits every record once (shard by shard, one
//! guard per shard) and removes those whose last status change is older than the age given,
//! each through a CAS on the exact word it judged, so a record claimed, completed or removed
//! meanwhile is never touched. Indeterminate records are never removed by age. The timing
//! wheel, not these sweeps, is what removes records at their deadlines.

use std::collections::HashMap;
use std::time::Duration;

use super::MemoryStore;
use crate::clock::millis;
use crate::raw::shard::{Current, Decision, Lookup};
use crate::raw::word;
use crate::sync::epoch;
use crate::{CommandStatus, HealthMetrics};

impl MemoryStore {
    /// Removes records of any status but Indeterminate whose last status change is older than
    /// `max_age`. Returns how many it removed.
    pub fn cleanup_expired(&self, max_age: Duration) -> u64 {
        self.sweep(|status| (status != CommandStatus::Indeterminate).then_some(max_age))
    }

    /// Removes records with this status whose last status change is older than `max_age`.
    /// Indeterminate records are never removed by age: this returns 0 for them.
    pub fn cleanup_by_status(&self, status: CommandStatus, max_age: Duration) -> u64 {
        if status == CommandStatus::Indeterminate {
            return 0;
        }
        self.sweep(|s| (s == status).then_some(max_age))
    }

    /// One sweep removing Completed, Failed and InProgress records older than their ages.
    /// Returns how many it removed in total.
    pub fn auto_cleanup(
        &self,
        completed_age: Duration,
        failed_age: Duration,
        in_progress_age: Duration,
    ) -> u64 {
        self.sweep(|status| match status {
            CommandStatus::Completed => Some(completed_age),
            CommandStatus::Failed => Some(failed_age),
            CommandStatus::InProgress => Some(in_progress_age),
            _ => None,
        })
    }

    /// Removes every record whose status has an age under `age_of` and whose last change is
    /// older than that age.
    fn sweep(&self, age_of: impl Fn(CommandStatus) -> Option<Duration>) -> u64 {
        let now = self.now();
        let mut removed = 0;
        for shard in self.shards.iter() {
            let guard = epoch::pin();
            let mut doomed = Vec::new();
            shard.for_each_live(&guard, |record, seen| {
                let Some(age) = age_of(word::status_of(seen)) else {
                    return;
                };
                if now.saturating_sub(record.changed_at()) >= millis(age) {
                    doomed.push((record, seen));
                }
            });
            for (held, seen) in doomed {
                let lookup = Lookup {
                    hash: held.hash(),
                    key: held.key(),
                    fingerprint: 0,
                    now: &|| now,
                };
                let updated = shard.update(&lookup, &guard, |current| match current {
                    Current::Live { record, word, .. }
                        if record.as_ptr() == held.as_ptr() && word == seen =>
                    {
                        Decision::Remove(true)
                    }
                    _ => Decision::Done(false),
                });
                if updated.value {
                    self.counters.record(updated.from, updated.to);
                    removed += 1;
                }
            }
            shard.compact(&guard);
        }
        if removed > 0 {
            tracing::debug!(removed, "age-based cleanup removed records");
        }
        removed
    }

    /// Records per status, from running counters (no scan). Expired records still present
    /// count under their status until the wheel removes them.
    pub fn count_by_status(&self) -> HashMap<CommandStatus, u64> {
        CommandStatus::ALL
            .into_iter()
            .filter(|status| *status != CommandStatus::NotFound)
            .map(|status| (status, self.counters.by_status(status)))
            .collect()
    }

    /// A health snapshot. Counts come from running counters; `expired_unremoved` is found by
    /// a scan of the table, so call this for monitoring, not on a hot path.
    pub fn health_metrics(&self) -> HealthMetrics {
        let now = self.now();
        let mut expired_unremoved = 0;
        for shard in self.shards.iter() {
            let guard = epoch::pin();
            shard.for_each_live(&guard, |_, seen| {
                if Self::expired_at(seen, now) {
                    expired_unremoved += 1;
                }
            });
        }
        HealthMetrics {
            expired_unremoved,
            removed_slots: self.removed_slots() as u64,
            expired_removed_total: self.counters.expired_total(),
            ..HealthMetrics::from_counts(self.count_by_status())
        }
    }

    /// Rebuilds every shard whose table is mostly tombstones or mostly empty, and pushes this
    /// thread's deferred frees onward, so memory released by removals comes back. After many
    /// removals it also asks the allocator to return free pages to the system (glibc's
    /// `malloc_trim`, at most once a second; see `memory/trim.rs`). The background cleaner
    /// calls this after its expiry steps.
    pub fn compact(&self) {
        for shard in self.shards.iter() {
            let guard = epoch::pin();
            shard.compact(&guard);
            shard.reclaim_tables(&guard);
        }
        epoch::flush();
        #[cfg(not(loom))]
        {
            let removed = self.counters.removed_total();
            epoch::drain(self.trimmer.flush_rounds(removed));
            self.trimmer.maybe_trim(removed);
        }
    }
}
