//! A shard: the current table of one slice of the key space, and the migrations that replace it.
//!
//! # Operations
//!
//! Every read is one probe of the current table and never waits. Every write is a decision made
//! on what a probe found, applied with one compare-and-swap on the slot word (an insert adds the
//! record-pointer CAS before it). A CAS that fails re-runs the probe and asks the decision
//! again, so decisions are pure functions of the state they are shown.
//!
//! # Migration
//!
//! An insert that would cross the load limit, or a write that meets a frozen slot, first
//! helps the shard's migration to its next table (see [`super::migrate`]) and then retries
//! there. Reads never wait for a migration.

use std::ptr::{self, NonNull};

use super::migrate;
use super::record::{self, Record, RecordHeader};
use super::schedule;
use super::table::{Probe, Table, load_limit, next_capacity};
use super::word;
use crate::CommandStatus;
use crate::sync::epoch::Guard;
use crate::sync::{AtomicPtr, AtomicU64, Ordering};

/// What a decision is shown.
pub(crate) enum Current<'g, V> {
    /// No record for the key.
    Absent,
    /// The key's record, its word (never a frozen one), and the word's home, for a
    /// decision that must re-check ownership while it writes side data first.
    Live {
        record: Record<'g, V>,
        word: u64,
        slot_word: &'g AtomicU64,
    },
}

/// What a decision asks for.
pub(crate) enum Decision<R> {
    /// Change nothing; return this.
    Done(R),
    /// Replace the word (or insert a record with it, if the key was absent); return this if the
    /// CAS succeeds.
    Set(u64, R),
    /// Remove the record (nothing to do if absent); return this if the removal succeeds.
    Remove(R),
}

/// The key an update is about, and what a record created for it starts with.
#[derive(Clone, Copy)]
pub(crate) struct Lookup<'k> {
    pub(crate) hash: u64,
    pub(crate) key: &'k [u8],
    /// The fingerprint a new record is created with.
    pub(crate) fingerprint: u64,
    /// The time a new record's status is set, on the store's clock. A function, called only
    /// when a record is created, because reading a precise clock costs as much as a miss.
    pub(crate) now: &'k dyn Fn() -> u64,
}

/// What an update did.
pub(crate) struct Updated<'g, V, R> {
    /// The decision's value.
    pub(crate) value: R,
    /// The record the decision acted on (inserted, changed or removed); `None` if it changed
    /// nothing.
    pub(crate) record: Option<Record<'g, V>>,
    /// The word before the change ([`word::EMPTY`] for an insert).
    pub(crate) from: u64,
    /// The word after the change (a tombstone for a removal).
    pub(crate) to: u64,
}

pub(crate) struct Shard<V> {
    /// The current table. Replaced only by the thread that finishes a migration.
    pub(super) table: AtomicPtr<Table<V>>,
    /// Tables replaced by migrations and not yet handed to the epoch (linked through
    /// `Table::retired_next`). Retiring them here, from whichever thread runs
    /// [`Shard::reclaim_tables`], rather than into the bag of the thread that happened to
    /// finish the migration, keeps large tables from idling in a thread-local bag.
    pub(super) retired: AtomicPtr<Table<V>>,
    /// Where the current table's slots start and its mask, copied out of the table so a caller
    /// can prefetch a key's home slot before it pins (see [`Shard::prefetch`]).
    pub(super) hint: super::prefetch::SlotHint,
}

/// A record allocated by an insert that has not yet landed in a slot.
struct Spare<V> {
    record: NonNull<RecordHeader<V>>,
    /// True once the record sat in a slot that a migration froze before the insert finished:
    /// another thread may have seen it, so it must be retired rather than freed.
    exposed: bool,
}

impl<V> Shard<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.next_power_of_two().max(super::table::MIN_CAPACITY);
        let table = Box::into_raw(Box::new(Table::new(capacity)));
        // SAFETY: `table` was just allocated and is owned by nobody else yet.
        let hint = super::prefetch::SlotHint::new(unsafe { &*table });
        Shard {
            table: AtomicPtr::new(table),
            retired: AtomicPtr::new(ptr::null_mut()),
            hint,
        }
    }

    /// Starts loading the home slot of `hash` into the cache. Needs no guard and reads no
    /// table: a caller issues it before pinning, so the slot's cache miss overlaps the pin's
    /// fence instead of following it.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        self.hint.prefetch(hash);
    }

    /// The current table, valid for as long as the guard.
    pub(super) fn current<'g>(&self, guard: &'g Guard) -> &'g Table<V> {
        let _ = guard;
        // Acquire pairs with the release store that published the table after its migration.
        let table = self.table.load(Ordering::Acquire);
        // SAFETY: a table is retired only after it stops being current, and the guard was
        // taken before this load, so the table outlives the guard's borrow.
        unsafe { &*table }
    }

    /// Capacity and live records of the current table (approximate under concurrency).
    pub(crate) fn occupancy(&self, guard: &Guard) -> (usize, usize, usize) {
        let table = self.current(guard);
        let used = table.used.load(Ordering::Relaxed);
        let removed = table.removed.load(Ordering::Relaxed);
        (table.capacity(), used.saturating_sub(removed), removed)
    }

    /// Visits every live record of the current table with its word. During a migration this
    /// is the old table's frozen words, which stay current until the migration finishes.
    pub(crate) fn for_each_live<'g>(
        &'g self,
        guard: &'g Guard,
        mut f: impl FnMut(Record<'g, V>, u64),
    ) {
        for slot in self.current(guard).slots.iter() {
            let current = slot.word.load(Ordering::Acquire);
            if word::is_live(current) {
                let raw = slot.record.load(Ordering::Acquire);
                // SAFETY: the word was live when read under the guard, so the record was not
                // retired before the guard was taken.
                f(
                    unsafe { Record::from_ptr(raw, guard) },
                    current & !word::MOVED,
                );
            }
        }
    }

    /// Rebuilds the current table if it is mostly tombstones or mostly empty, so memory
    /// freed by removals comes back even when no insert arrives to trigger a migration.
    /// Returns true if it rebuilt.
    pub(crate) fn compact(&self, guard: &Guard) -> bool {
        let table = self.current(guard);
        let capacity = table.capacity();
        let used = table.used.load(Ordering::Relaxed);
        let removed = table.removed.load(Ordering::Relaxed);
        let live = used.saturating_sub(removed);
        let sparse = next_capacity(live) < capacity || removed >= capacity / 4;
        if !sparse || used == live && capacity <= super::table::MIN_CAPACITY {
            return false;
        }
        self.migrate(table, guard);
        true
    }

    /// The key's record and its word, if it is live. Never waits.
    pub(crate) fn read<'g>(
        &'g self,
        hash: u64,
        key: &[u8],
        guard: &'g Guard,
    ) -> Option<(Record<'g, V>, u64)> {
        match self.current(guard).probe(hash, key, guard) {
            Probe::Found { record, word, .. } => Some((record, word & !word::MOVED)),
            // A pending insert has not happened yet: linearise the read before it.
            Probe::Pending { .. } | Probe::Absent { .. } => None,
        }
    }

    /// Applies `decide` to the key's current state, retrying until its choice sticks. An
    /// insert creates the record with `fingerprint`. A change that takes a record out of
    /// InProgress, or removes it, wakes its waiters.
    pub(crate) fn update<'g, R>(
        &'g self,
        key: &Lookup<'_>,
        guard: &'g Guard,
        mut decide: impl FnMut(Current<'g, V>) -> Decision<R>,
    ) -> Updated<'g, V, R> {
        let Lookup {
            hash,
            key,
            fingerprint,
            now,
        } = *key;
        let mut spare: Option<Spare<V>> = None;
        let mut acted = None;
        let (mut from, mut to) = (word::EMPTY, word::EMPTY);
        let outcome = loop {
            let table = self.current(guard);
            match table.probe(hash, key, guard) {
                Probe::Pending { slot, record } => {
                    // Finish the other thread's insert for it, then look again.
                    let _ = slot.word.compare_exchange(
                        word::EMPTY,
                        record.init_word(),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
                Probe::Found {
                    slot,
                    record,
                    word: seen,
                } => {
                    if word::is_moved(seen) {
                        // Decide only on words that can still change: a frozen word would let a
                        // decision vouch for a state the next table has moved past.
                        self.migrate(table, guard);
                        continue;
                    }
                    let shown = Current::Live {
                        record,
                        word: seen,
                        slot_word: &slot.word,
                    };
                    let (target, outcome) = match decide(shown) {
                        Decision::Done(outcome) => break outcome,
                        Decision::Set(target, outcome) => (target, outcome),
                        Decision::Remove(outcome) => (word::removed_from(seen), outcome),
                    };
                    // AcqRel: release publishes whatever the decision wrote before (a result
                    // cell) to readers that acquire this word; acquire on failure lets the
                    // retry see the newer state.
                    if slot
                        .word
                        .compare_exchange(seen, target, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        (from, to, acted) = (seen, target, Some(record));
                        let leaves_progress = word::status_of(seen) == CommandStatus::InProgress
                            && word::status_of(target) != CommandStatus::InProgress;
                        if leaves_progress || word::is_removed(target) {
                            record.wake();
                        }
                        if word::is_removed(target) {
                            table.removed.fetch_add(1, Ordering::Relaxed);
                            // SAFETY: the CAS turned the slot into a tombstone, so no probe
                            // returns this record any more; only this thread unlinks it.
                            unsafe { schedule::unlink(guard, record) };
                        }
                        break outcome;
                    }
                }
                Probe::Absent { slot, word: seen } => {
                    let (target, outcome) = match decide(Current::Absent) {
                        Decision::Done(outcome) | Decision::Remove(outcome) => break outcome,
                        Decision::Set(target, outcome) => (target, outcome),
                    };
                    let Some(slot) = slot.filter(|_| !word::is_moved(seen)) else {
                        self.migrate(table, guard);
                        continue;
                    };
                    // Reserve room under the load limit before touching the slot. SeqCst pairs
                    // with `next_table`, which links the next table and then counts: either we
                    // see the migration here, or it counts our reservation when it sizes the
                    // next table, so every record it may have to copy fits.
                    let reserved = table.used.fetch_add(1, Ordering::SeqCst) + 1;
                    if reserved > load_limit(table.capacity())
                        || !table.next.load(Ordering::SeqCst).is_null()
                    {
                        table.used.fetch_sub(1, Ordering::Relaxed);
                        self.migrate(table, guard);
                        continue;
                    }
                    let inserted =
                        self.insert(slot, (hash, key, fingerprint), (target, now()), &mut spare);
                    let Some(record) = inserted else {
                        table.used.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    };
                    {
                        // SAFETY: our insert published it while the guard was already held; a
                        // removal may retire it at any time after, but not free it before the
                        // guard drops.
                        acted = Some(unsafe { Record::from_ptr(record.as_ptr(), guard) });
                        to = target;
                        break outcome;
                    }
                }
            }
        };
        if let Some(spare) = spare {
            if spare.exposed {
                // SAFETY: the record was only ever in a frozen slot that no probe returns, and
                // it is retired once, here.
                unsafe { record::retire(guard, spare.record.as_ptr()) };
            } else {
                // SAFETY: the record was never in any slot, so no other thread can reach it.
                unsafe { record::free(spare.record.as_ptr()) };
            }
        }
        Updated {
            value: outcome,
            record: acted,
            from,
            to,
        }
    }

    /// Tries to put the key into `slot`, the first empty slot of its run. Returns the record
    /// when the key is now live there with `target` as its word (or a later one).
    fn insert(
        &self,
        slot: &super::table::Slot<V>,
        (hash, key, fingerprint): (u64, &[u8], u64),
        (target, now): (u64, u64),
        spare: &mut Option<Spare<V>>,
    ) -> Option<NonNull<RecordHeader<V>>> {
        let candidate = match spare {
            Some(candidate) => {
                // SAFETY: the spare is ours and still allocated.
                unsafe { record::set_init_word(candidate.record, target) };
                candidate.record
            }
            None => {
                let record = record::allocate(key, hash, fingerprint, target, now);
                *spare = Some(Spare {
                    record,
                    exposed: false,
                });
                record
            }
        };

        // Step one: claim the slot with the record pointer. Release publishes the key bytes.
        if slot
            .record
            .compare_exchange(
                ptr::null_mut(),
                candidate.as_ptr(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return None;
        }

        // Step two: publish the word. A helper may have done it for us already.
        let published = match slot.word.compare_exchange(
            word::EMPTY,
            target,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(current) => !word::is_empty(current),
        };
        if published {
            *spare = None;
            return Some(candidate);
        }
        if let Some(spare) = spare {
            // A migration froze the slot between our two steps. Our record stays in that dead
            // slot, where nothing reads it, and we retry with it in the next table.
            spare.exposed = true;
        }
        None
    }
}

impl<V> Drop for Shard<V> {
    fn drop(&mut self) {
        let table = self.table.load(Ordering::Relaxed);
        migrate::free_retired(self);
        // SAFETY: `&mut self` means no other thread uses the shard; the current table and
        // every record live in it are owned by it alone.
        unsafe {
            for slot in (*table).slots.iter() {
                if word::is_live(slot.word.load(Ordering::Relaxed) & !word::MOVED) {
                    record::free(slot.record.load(Ordering::Relaxed));
                }
            }
            // A migration abandoned by a panic leaves its next table linked; its records are
            // the frozen ones just freed above, so only its slot array goes.
            let next = (*table).next.load(Ordering::Relaxed);
            if !next.is_null() && !ptr::eq(next, migrate::marker::<V>()) {
                migrate::free_table(next);
            }
            migrate::free_table(table);
        }
    }
}

// SAFETY: the shard only hands out records under epoch guards, and every shared field is
// atomic; `V` values cross threads inside records, hence the bounds.
unsafe impl<V: Send + Sync> Send for Shard<V> {}
// SAFETY: as above.
unsafe impl<V: Send + Sync> Sync for Shard<V> {}
