//! One open-addressing table: a power-of-two array of slots and the state of its migration.
//!
//! A slot is two words: the packed state word ([`super::word`]) and a pointer to its record.
//! A key is inserted in two steps, record pointer first, state word second:
//!
//! ```text
//!   (EMPTY, null) --CAS rec--> (EMPTY, rec) --CAS word--> (live, rec) --CAS--> (REMOVED, rec)
//!        |               "pending": any thread that
//!        |               needs the key publishes
//!        |               rec's init_word for it
//!        +--migration freezes--> (EMPTY|MOVED, _)   live|MOVED   REMOVED|MOVED
//! ```
//!
//! # Invariants
//!
//! - A slot's record pointer goes from null to a record once and never changes again; a slot
//!   never holds two different keys over its life. Tombstones are never reused (a probe cannot
//!   tell whether an earlier tombstone would have been the right home), they are dropped when
//!   the table is rebuilt.
//! - A key appears in at most one live slot of a table: an insert goes only into the first
//!   empty slot of its probe run, so two inserts of one key meet at the same slot.
//! - Once a slot's word has the MOVED bit it never changes again, and the table's `next`
//!   holds (or will hold, when the migration publishes it) everything live in it.

use std::ptr;

use super::record::{Record, RecordHeader};
use super::word;
use crate::sync::epoch::Guard;
use crate::sync::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// Slots one migration step freezes and copies before it looks for more work.
pub(crate) const MIGRATION_CHUNK: usize = 256;

/// The smallest table a shard keeps.
pub(crate) const MIN_CAPACITY: usize = 16;

pub(crate) struct Slot<V> {
    pub(crate) word: AtomicU64,
    pub(crate) record: AtomicPtr<RecordHeader<V>>,
}

pub(crate) struct Table<V> {
    pub(crate) slots: Box<[Slot<V>]>,
    /// `capacity - 1`: slot indices are hashes masked by it.
    pub(crate) mask: usize,
    /// Slots ever inserted into, tombstones included. Each insert consumes an empty slot for
    /// good, so this is what the load limit is measured against.
    pub(crate) used: AtomicUsize,
    /// Tombstones. `used - removed` is the number of live records, which sizes the next table.
    pub(crate) removed: AtomicUsize,
    /// The table this one is migrating into, null while no migration is under way.
    pub(crate) next: AtomicPtr<Table<V>>,
    /// The next chunk of slots a migrating thread may claim.
    pub(crate) migrate_cursor: AtomicUsize,
    /// Chunks fully migrated; the thread that finishes the last one publishes `next`.
    pub(crate) migrate_done: AtomicUsize,
    /// The link in the shard's list of replaced tables awaiting retirement.
    pub(crate) retired_next: AtomicPtr<Table<V>>,
}

/// Where a probe for a key ended.
pub(crate) enum Probe<'g, V> {
    /// The key is live (or frozen live) in this slot; `word` is what the probe read.
    Found {
        slot: &'g Slot<V>,
        record: Record<'g, V>,
        word: u64,
    },
    /// The key's record sits in this slot with its word not yet published.
    Pending {
        slot: &'g Slot<V>,
        record: Record<'g, V>,
    },
    /// The key is absent; `slot` is the first empty slot of its run (frozen if `word` says
    /// MOVED), or `None` when the run covered the whole table.
    Absent {
        slot: Option<&'g Slot<V>>,
        word: u64,
    },
}

impl<V> Table<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(
            capacity.is_power_of_two(),
            "table capacity {capacity} not a power of 2"
        );
        let slots = (0..capacity)
            .map(|_| Slot {
                word: AtomicU64::new(word::EMPTY),
                record: AtomicPtr::new(ptr::null_mut()),
            })
            .collect();
        Table {
            slots,
            mask: capacity - 1,
            used: AtomicUsize::new(0),
            removed: AtomicUsize::new(0),
            next: AtomicPtr::new(ptr::null_mut()),
            migrate_cursor: AtomicUsize::new(0),
            migrate_done: AtomicUsize::new(0),
            retired_next: AtomicPtr::new(ptr::null_mut()),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// Looks for `key`. Reads only; never waits.
    pub(crate) fn probe<'g>(&'g self, hash: u64, key: &[u8], guard: &'g Guard) -> Probe<'g, V> {
        let tag = word::tag_for_hash(hash);
        let mut index = home_slot(hash, self.mask);
        for _ in 0..self.capacity() {
            let slot = &self.slots[index];
            // Acquire pairs with the release CAS that published the word, which follows the
            // release CAS of the record pointer: seeing a live word means seeing the record.
            let current = slot.word.load(Ordering::Acquire);
            if word::is_empty(current) {
                let raw = slot.record.load(Ordering::Acquire);
                if raw.is_null() || word::is_moved(current) {
                    return Probe::Absent {
                        slot: Some(slot),
                        word: current,
                    };
                }
                // SAFETY: a non-null record pointer was published by an insert. A pending
                // record is retired only by its own inserter after it gave the slot up, or
                // after a later removal; either way not freed while this guard is held.
                let record = unsafe { Record::from_ptr(raw, guard) };
                if record.key() == key {
                    return Probe::Pending { slot, record };
                }
            } else if word::is_live(current) && word::tag_of(current) == tag {
                let raw = slot.record.load(Ordering::Acquire);
                // SAFETY: as above; the word was live when read, so the record was not yet
                // retired then, and the guard was already held.
                let record = unsafe { Record::from_ptr(raw, guard) };
                if record.key() == key {
                    return Probe::Found {
                        slot,
                        record,
                        word: current,
                    };
                }
            }
            index = (index + 1) & self.mask;
        }
        Probe::Absent {
            slot: None,
            word: word::EMPTY,
        }
    }

    /// Puts a frozen record into this table while it is still private to its migration.
    /// Returns false only if the table has no empty slot left, which the sizing rule in
    /// [`next_capacity`] rules out.
    pub(crate) fn copy_in(&self, record: Record<'_, V>, frozen: u64) -> bool {
        let mut index = home_slot(record.hash(), self.mask);
        for _ in 0..self.capacity() {
            let slot = &self.slots[index];
            // Other migrating threads may be copying into this table too; the record-pointer
            // CAS decides who gets a slot. Nobody reads the table before it is published, and
            // publication orders these writes (see `Shard::finish_chunk`).
            if slot
                .record
                .compare_exchange(
                    ptr::null_mut(),
                    record.as_ptr(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                slot.word.store(frozen & !word::MOVED, Ordering::Relaxed);
                return true;
            }
            index = (index + 1) & self.mask;
        }
        false
    }

    /// How many migration chunks this table splits into.
    pub(crate) fn chunks(&self) -> usize {
        self.capacity().div_ceil(MIGRATION_CHUNK)
    }

    pub(crate) fn chunk_range(&self, chunk: usize) -> std::ops::Range<usize> {
        let start = chunk * MIGRATION_CHUNK;
        start..(start + MIGRATION_CHUNK).min(self.capacity())
    }
}

/// The first slot a key's probe run visits.
fn home_slot(hash: u64, mask: usize) -> usize {
    (hash as usize) & mask
}

/// Slots (live plus tombstones) a table of this capacity may use before it is rebuilt:
/// three quarters, past which linear probe runs grow quickly.
pub(crate) fn load_limit(capacity: usize) -> usize {
    capacity - capacity / 4
}

/// The capacity of the table that replaces a full one holding `live` records.
///
/// Sized so the live records fill at most three eighths of it: growth doubles, a table full
/// of tombstones is rebuilt at the same size, and a mostly empty one shrinks. `live` counts
/// every insert that reserved room before the migration began, and no insert reserves room
/// after, so everything the migration copies fits.
pub(crate) fn next_capacity(live: usize) -> usize {
    (live * 8 / 3).next_power_of_two().max(MIN_CAPACITY)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn next_capacity_doubles_when_live_fills_the_load_limit() {
        assert_eq!(next_capacity(load_limit(1024)), 2048);
        assert_eq!(next_capacity(384), 1024);
        assert_eq!(next_capacity(100), 512);
    }

    #[test]
    fn next_capacity_shrinks_to_the_minimum_when_nothing_is_live() {
        assert_eq!(next_capacity(0), MIN_CAPACITY);
    }
}
