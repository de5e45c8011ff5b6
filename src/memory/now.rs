//! The store's time as one operation sees it, read only when a decision needs it.
//!
//! Every operation must know whether the word it read has a passed deadline, but most words
//! have deadlines hours away (a Completed result is kept for a day by default) or none. A
//! precise clock reading costs as much as a cache miss, so an operation first compares the
//! deadline with the clock's cheap upper bound ([`Clock::now_ms_upper_bound`]): if even that
//! is earlier, the deadline has not passed. Only a deadline within the bound's margin, or a
//! write that computes a new deadline, reads the precise clock, once per operation. A clock
//! without a cheap bound is read precisely once per operation, as before.
//!
//! [`Clock::now_ms_upper_bound`]: crate::Clock::now_ms_upper_bound

use std::cell::Cell;

use super::MemoryStore;

pub(super) struct Now<'s> {
    store: &'s MemoryStore,
    /// The precise reading once taken (store-relative, never 0), else 0.
    precise: Cell<u64>,
}

impl<'s> Now<'s> {
    pub(super) fn new(store: &'s MemoryStore) -> Self {
        Now {
            store,
            precise: Cell::new(0),
        }
    }

    /// The precise time, read on first use and then kept for the rest of the operation.
    pub(super) fn get(&self) -> u64 {
        match self.precise.get() {
            0 => {
                let now = self.store.now();
                self.precise.set(now);
                now
            }
            now => now,
        }
    }

    /// True if `deadline` (0 for none) has passed.
    pub(super) fn reached(&self, deadline: u64) -> bool {
        if deadline == 0 {
            return false;
        }
        let precise = self.precise.get();
        if precise != 0 {
            return precise >= deadline;
        }
        if let Some(bound) = self.store.now_upper_bound() {
            if bound < deadline {
                return false;
            }
        }
        self.get() >= deadline
    }
}
