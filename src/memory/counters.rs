//! Running counts of records per status, kept without a shared hot cache line.
//!
//! Each thread adds to its own stripe (chosen once per thread, round robin), so a transition
//! costs two uncontended atomic additions; a reader sums the stripes. Sums are exact whenever
//! no transition is in flight, and never drift: every change is one -1 and one +1 applied by
//! the thread whose CAS made it.

use std::sync::atomic::{AtomicI64, Ordering};

use crossbeam_utils::CachePadded;

use crate::CommandStatus;
use crate::raw::word;
use crate::sync::stripe;

const STRIPES: usize = 16;
/// Slots per stripe: one per live status code (1 to 5), plus the removal counts.
const FIELDS: usize = 8;
/// Records taken out of the table by any path (expiry, sweeps, `remove`); code 0 is the empty
/// word, which no live record has, so its slot is free for this.
const REMOVED_FIELD: usize = 0;
const EXPIRED_FIELD: usize = 7;

pub(crate) struct StatusCounters {
    stripes: Box<[CachePadded<[AtomicI64; FIELDS]>]>,
}

impl StatusCounters {
    pub(crate) fn new() -> Self {
        let stripes = (0..STRIPES)
            .map(|_| CachePadded::new(Default::default()))
            .collect();
        StatusCounters { stripes }
    }

    /// Accounts for a record whose word went from `from` to `to` (either may be empty or a
    /// tombstone: those are not counted).
    pub(crate) fn record(&self, from: u64, to: u64) {
        let (from, to) = (from & word::STATUS_MASK, to & word::STATUS_MASK);
        if from == to {
            return;
        }
        let fields = &self.stripes[stripe() % STRIPES];
        // Relaxed: the counts are statistics, read as a sum; no other memory depends on them.
        if word::is_live(from) {
            fields[from as usize].fetch_sub(1, Ordering::Relaxed);
        }
        if word::is_live(to) {
            fields[to as usize].fetch_add(1, Ordering::Relaxed);
        } else if word::is_live(from) {
            fields[REMOVED_FIELD].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one record removed because it expired.
    pub(crate) fn expired(&self, records: u64) {
        self.stripes[stripe() % STRIPES][EXPIRED_FIELD]
            .fetch_add(records as i64, Ordering::Relaxed);
    }

    fn sum(&self, field: usize) -> u64 {
        let total: i64 = self
            .stripes
            .iter()
            .map(|s| s[field].load(Ordering::Relaxed))
            .sum();
        total.max(0) as u64
    }

    /// Records per live status.
    pub(crate) fn by_status(&self, status: CommandStatus) -> u64 {
        if status == CommandStatus::NotFound {
            return 0;
        }
        self.sum(word::status_code(status) as usize)
    }

    /// Records removed from the table, by any path, since the store was built.
    pub(crate) fn removed_total(&self) -> u64 {
        self.sum(REMOVED_FIELD)
    }

    /// Records removed by expiry since the store was built.
    pub(crate) fn expired_total(&self) -> u64 {
        self.sum(EXPIRED_FIELD)
    }
}
