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
//! When inserting would cross the load limit, the inserting thread allocates the next table
//! (twice the size, the same size to drop tombstones, or smaller) and links it from the full
//! one. From then on, every thread that wants to insert into the shard, or to write a slot that
//! has been frozen, first helps: it claims chunks of `MIGRATION_CHUNK` slots, freezes each
//! slot by setting its MOVED bit, and copies live records into the next table. The thread that
//! completes the last chunk makes the next table current and retires the old one.
//!
//! - Readers never wait and never help: a frozen word is the record's latest state for as long
//!   as the old table is current, and a reader that loaded the old table before the switch is
//!   linearised before it.
//! - Writers to slots not yet frozen proceed in the old table; the freeze copies their result.
//! - Only writers to this shard that meet the migration wait, and they wait by working; other
//!   shards never notice. A thread preempted inside a chunk can delay the switch for the
//!   others until it runs again.
//!   LIMITATION: on an oversubscribed machine that delay is a scheduler quantum; waiting
//!   threads yield rather than spin, which bounds the cost but not the latency.

use std::ptr::{self, NonNull};

use super::record::{self, Record, RecordHeader};
use super::table::{Probe, Table, next_capacity};
use super::word;
use crate::CommandStatus;
use crate::sync::epoch::{self, Guard};
use crate::sync::{AtomicPtr, AtomicU64, Ordering, yield_now};

/// What a decision is shown.
pub(crate) enum Current<'g, V> {
    /// No record for the key.
    Absent,
    /// The key's record, its word (without the MOVED bit), and the word's home, for a
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
    table: AtomicPtr<Table<V>>,
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
        Shard {
            table: AtomicPtr::new(table),
        }
    }

    /// The current table, valid for as long as the guard.
    fn current<'g>(&self, guard: &'g Guard) -> &'g Table<V> {
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
        hash: u64,
        key: &[u8],
        fingerprint: u64,
        guard: &'g Guard,
        mut decide: impl FnMut(Current<'g, V>) -> Decision<R>,
    ) -> Updated<'g, V, R> {
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
                    let shown = seen & !word::MOVED;
                    let (target, outcome) = match decide(Current::Live {
                        record,
                        word: shown,
                        slot_word: &slot.word,
                    }) {
                        Decision::Done(outcome) => break outcome,
                        Decision::Set(target, outcome) => (target, outcome),
                        Decision::Remove(outcome) => (word::removed_from(seen), outcome),
                    };
                    if word::is_moved(seen) {
                        self.migrate(table, guard);
                        continue;
                    }
                    // AcqRel: release publishes whatever the decision wrote before (a result
                    // cell) to readers that acquire this word; acquire on failure lets the
                    // retry see the newer state.
                    if slot
                        .word
                        .compare_exchange(seen, target, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        (from, to, acted) = (shown, target, Some(record));
                        let leaves_progress = word::status_of(shown) == CommandStatus::InProgress
                            && word::status_of(target) != CommandStatus::InProgress;
                        if leaves_progress || word::is_removed(target) {
                            record.wake();
                        }
                        if word::is_removed(target) {
                            table.removed.fetch_add(1, Ordering::Relaxed);
                            // SAFETY: the CAS turned the slot into a tombstone, so no probe
                            // returns this record any more, and only the thread whose CAS did
                            // that retires it.
                            unsafe { record::retire(guard, record.as_ptr()) };
                        }
                        break outcome;
                    }
                }
                Probe::Absent { slot, word: seen } => {
                    let (target, outcome) = match decide(Current::Absent) {
                        Decision::Done(outcome) | Decision::Remove(outcome) => break outcome,
                        Decision::Set(target, outcome) => (target, outcome),
                    };
                    let slot = match slot {
                        Some(slot)
                            if !word::is_moved(seen)
                                && table.next.load(Ordering::Acquire).is_null()
                                && !table.is_full() =>
                        {
                            slot
                        }
                        _ => {
                            self.migrate(table, guard);
                            continue;
                        }
                    };
                    if let Some(record) =
                        self.insert(table, slot, (hash, key, fingerprint), target, &mut spare)
                    {
                        // SAFETY: the record is live in a slot of a table we hold under the
                        // guard, so it cannot be freed before the guard drops.
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
        table: &Table<V>,
        slot: &super::table::Slot<V>,
        (hash, key, fingerprint): (u64, &[u8], u64),
        target: u64,
        spare: &mut Option<Spare<V>>,
    ) -> Option<NonNull<RecordHeader<V>>> {
        let candidate = match spare {
            Some(candidate) => {
                // SAFETY: the spare is ours and still allocated.
                unsafe { record::set_init_word(candidate.record, target) };
                candidate.record
            }
            None => {
                let record = record::allocate(key, hash, fingerprint, target);
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
            table.used.fetch_add(1, Ordering::Relaxed);
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

    /// Helps the migration of `table` (starting it if needed) until the next table is current.
    #[cold]
    fn migrate(&self, table: &Table<V>, guard: &Guard) {
        let next = self.next_table(table);
        let chunks = table.chunks();
        loop {
            let chunk = table.migrate_cursor.fetch_add(1, Ordering::Relaxed);
            if chunk >= chunks {
                break;
            }
            let mut copied = 0;
            for index in table.chunk_range(chunk) {
                copied += self.migrate_slot(table, next, index, guard);
            }
            next.used.fetch_add(copied, Ordering::Relaxed);
            // AcqRel: each finished chunk releases its copies; the thread that sees the last
            // one has acquired them all before it publishes the next table.
            if table.migrate_done.fetch_add(1, Ordering::AcqRel) + 1 == chunks {
                self.finish(table, next, guard);
                return;
            }
        }
        while ptr::eq(self.table.load(Ordering::Acquire), table) {
            yield_now();
        }
    }

    /// The table `table` migrates into, allocating and linking it if nobody has yet.
    fn next_table<'t>(&self, table: &'t Table<V>) -> &'t Table<V> {
        let mut next = table.next.load(Ordering::Acquire);
        if next.is_null() {
            let used = table.used.load(Ordering::Relaxed);
            let live = used.saturating_sub(table.removed.load(Ordering::Relaxed));
            let fresh = Box::into_raw(Box::new(Table::new(next_capacity(live))));
            next = match table.next.compare_exchange(
                ptr::null_mut(),
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    tracing::trace!(
                        from = table.capacity(),
                        to = next_capacity(live),
                        live,
                        "shard migration started"
                    );
                    fresh
                }
                Err(existing) => {
                    // SAFETY: `fresh` lost the race and was never shared.
                    drop(unsafe { Box::from_raw(fresh) });
                    existing
                }
            };
        }
        // SAFETY: a linked next table is freed only after it was current and then retired,
        // which cannot happen before `table`, which we hold under a guard, stopped being
        // current; the caller's guard therefore keeps it alive for `'t`.
        unsafe { &*next }
    }

    /// Freezes one slot and copies its record, if live. Returns the number of records copied.
    fn migrate_slot(
        &self,
        table: &Table<V>,
        next: &Table<V>,
        index: usize,
        guard: &Guard,
    ) -> usize {
        let slot = &table.slots[index];
        loop {
            let current = slot.word.load(Ordering::Acquire);
            if word::is_moved(current) {
                return 0;
            }
            if word::is_empty(current) {
                let raw = slot.record.load(Ordering::Acquire);
                if !raw.is_null() {
                    // SAFETY: the pointer was published by an insert; the guard holds it.
                    let record = unsafe { Record::from_ptr(raw, guard) };
                    let _ = slot.word.compare_exchange(
                        word::EMPTY,
                        record.init_word(),
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    continue;
                }
            }
            if slot
                .word
                .compare_exchange(
                    current,
                    current | word::MOVED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
            {
                continue;
            }
            if !word::is_live(current) {
                return 0;
            }
            let raw = slot.record.load(Ordering::Acquire);
            // SAFETY: the word was live when frozen and a frozen live record is never retired
            // from this table, so the pointer is valid under the guard.
            let record = unsafe { Record::from_ptr(raw, guard) };
            let copied = next.copy_in(record, current);
            assert!(
                copied,
                "idemstore internal error: next table of capacity {} overflowed during migration",
                next.capacity()
            );
            return 1;
        }
    }

    /// Makes `next` current and retires `table`.
    fn finish(&self, table: &Table<V>, next: &Table<V>, guard: &Guard) {
        let old = (table as *const Table<V>).cast_mut();
        let new = (next as *const Table<V>).cast_mut();
        // Release pairs with the acquire in `current`: every copy into `next` is visible to
        // whoever loads it.
        let swapped = self
            .table
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        debug_assert!(
            swapped,
            "only the thread finishing the last chunk publishes"
        );
        tracing::trace!(capacity = next.capacity(), "shard migration finished");
        // SAFETY: `table` is no longer current, so threads that pin from now on cannot reach
        // it; it is retired once, by the thread that finished its migration. Its records live
        // on in `next`, so only the slot array is freed.
        unsafe { epoch::retire(guard, old, free_table::<V>) };
    }
}

unsafe fn free_table<V>(table: *mut Table<V>) {
    // SAFETY: the table was boxed by `Shard::new` or `next_table` and is unreachable now.
    drop(unsafe { Box::from_raw(table) });
}

impl<V> Drop for Shard<V> {
    fn drop(&mut self) {
        let table = self.table.load(Ordering::Relaxed);
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
            if !next.is_null() {
                free_table(next);
            }
            free_table(table);
        }
    }
}

// SAFETY: the shard only hands out records under epoch guards, and every shared field is
// atomic; `V` values cross threads inside records, hence the bounds.
unsafe impl<V: Send + Sync> Send for Shard<V> {}
// SAFETY: as above.
unsafe impl<V: Send + Sync> Sync for Shard<V> {}
