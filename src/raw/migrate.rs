//! Migration: replacing a shard's table by a larger, same-size or smaller one without stopping
//! the world.
//!
//! The thread that finds a table full links the next table (a marker first, then the real
//! table once it has counted what must fit). From then on, every writer that meets the
//! migration helps: it claims chunks of slots, freezes each slot by setting its MOVED bit, and
//! copies live records into the next table. The thread that completes the last chunk makes
//! the next table current and parks the old one for [`Shard::reclaim_tables`].
//!
//! - Readers never wait and never help: a frozen word is the record's latest state for as long
//!   as the old table is current, and a reader that loaded the old table before the switch is
//!   linearised before it.
//! - Writers to slots not yet frozen proceed in the old table; the freeze copies their result.
//! - Only writers to this shard that meet the migration wait, and they wait by working; other
//!   shards never notice.
//!   LIMITATION: a thread preempted inside a chunk delays the switch for the others until it
//!   runs again; on an oversubscribed machine that is a scheduler quantum. Waiting threads
//!   yield rather than spin, which bounds the cost but not the latency.

use std::ptr;

use super::record::Record;
use super::shard::Shard;
use super::table::{Table, next_capacity};
use super::word;
use crate::sync::epoch::{self, Guard};
use crate::sync::{Ordering, yield_now};

impl<V> Shard<V> {
    /// Helps the migration of `table` (starting it if needed) until the next table is current.
    #[cold]
    pub(super) fn migrate(&self, table: &Table<V>, guard: &Guard) {
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
    ///
    /// The first thread links a marker, then counts the records, then allocates: an insert
    /// that reserved room before the marker is counted, and one that reserves after it sees
    /// the marker and does not insert (see the reservation in `update`). Others wait for the
    /// real table, which takes one allocation.
    fn next_table<'t>(&self, table: &'t Table<V>) -> &'t Table<V> {
        let marker = marker::<V>();
        let mut next = table.next.load(Ordering::Acquire);
        if next.is_null() {
            match table.next.compare_exchange(
                ptr::null_mut(),
                marker,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    let used = table.used.load(Ordering::SeqCst);
                    let live = used.saturating_sub(table.removed.load(Ordering::Relaxed));
                    let capacity = next_capacity(live);
                    tracing::trace!(
                        from = table.capacity(),
                        to = capacity,
                        live,
                        "migration started"
                    );
                    next = Box::into_raw(Box::new(Table::new(capacity)));
                    // Release publishes the new table to the threads waiting below.
                    table.next.store(next, Ordering::Release);
                }
                Err(current) => next = current,
            }
        }
        while ptr::eq(next, marker) {
            yield_now();
            next = table.next.load(Ordering::Acquire);
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
            // SAFETY: the word was live when we froze it, under a guard taken before; the
            // record can only be retired after a removal in the next table, which is not
            // current yet, and is not freed before our guard drops.
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
        self.hint.point_at(
            next,
            || self.table.load(Ordering::Acquire).cast_const(),
            guard,
        );
        tracing::trace!(capacity = next.capacity(), "shard migration finished");
        let _ = guard;
        // Park the old table for `reclaim_tables`; it is unreachable for threads that pin
        // from now on, and retiring it later than this is only safer.
        let mut head = self.retired.load(Ordering::Relaxed);
        loop {
            table.retired_next.store(head, Ordering::Relaxed);
            // Release publishes the link to the swap in `reclaim_tables`.
            match self.retired.compare_exchange_weak(
                head,
                old,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(current) => head = current,
            }
        }
    }

    /// Hands the tables parked by finished migrations to the epoch, from this thread.
    pub(crate) fn reclaim_tables(&self, guard: &Guard) {
        // Acquire pairs with the release pushes in `finish`.
        let mut head = self.retired.swap(ptr::null_mut(), Ordering::Acquire);
        while !head.is_null() {
            // SAFETY: parked tables stay allocated until retired here; only this swap took
            // them off the list.
            let next = unsafe { (*head).retired_next.load(Ordering::Relaxed) };
            // SAFETY: the table stopped being current before it was parked, so threads that
            // pin from now on cannot reach it, and it is retired once, here.
            unsafe { epoch::retire(guard, head, free_table::<V>) };
            head = next;
        }
    }
}

/// Frees the parked tables of a shard being dropped.
pub(super) fn free_retired<V>(shard: &mut Shard<V>) {
    let mut head = shard.retired.swap(ptr::null_mut(), Ordering::Relaxed);
    while !head.is_null() {
        // SAFETY: `&mut` access: nobody else can reach the shard's parked tables.
        unsafe {
            let next = (*head).retired_next.load(Ordering::Relaxed);
            free_table(head);
            head = next;
        }
    }
}

/// Stands in `Table::next` while the first migrating thread sizes and allocates the next
/// table. Never dereferenced.
pub(super) fn marker<V>() -> *mut Table<V> {
    ptr::NonNull::<Table<V>>::dangling().as_ptr()
}

/// # Safety
///
/// `table` must be a boxed table that no thread can reach any more, freed once.
pub(super) unsafe fn free_table<V>(table: *mut Table<V>) {
    // SAFETY: the table was boxed by `Shard::new` or `next_table` and is unreachable now.
    drop(unsafe { Box::from_raw(table) });
}
