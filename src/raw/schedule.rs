//! How records reach the expiry wheel, and who retires a record the wheel may still hold.
//!
//! # Ownership
//!
//! A record can be reachable from two places: its table slot and the expiry wheel (an
//! incoming stack or a wheel slot). Two bits in the record settle who frees it:
//!
//! | bit        | set by                                    | cleared by                 |
//! | ---------- | ----------------------------------------- | -------------------------- |
//! | `IN_WHEEL` | the scheduler that pushes it (once)       | the wheel when it lets go  |
//! | `DEAD`     | the thread whose CAS unlinked it (once)   | never                      |
//!
//! Whichever of "unlink" and "let go" happens second retires the record: the unlinking thread
//! retires it if `IN_WHEEL` was clear, the wheel retires it if `DEAD` was set. Both are one
//! atomic read-modify-write, so exactly one of them sees the other's bit. A record is pushed
//! only by the thread that turned `IN_WHEEL` on while `DEAD` was off, so the wheel never holds
//! a retired record, and no wheel entry ever points at freed memory.
//!
//! # Incoming stacks
//!
//! Schedulers push onto one of a few lock-free stacks (Treiber stacks linked through the
//! records, one per thread stripe so that threads do not share a cache line); the wheel's
//! owner takes each stack whole with one swap. Only whole-stack takes ever remove entries, so
//! the pushes cannot suffer ABA.

use std::ptr::{self, NonNull};

use crossbeam_utils::CachePadded;

use super::record::{self, Record, RecordHeader};
use crate::sync::epoch::Guard;
use crate::sync::{AtomicPtr, Ordering, stripe};
use crate::wheel::Entry;

/// The record is in an incoming stack or a wheel slot.
pub(crate) const IN_WHEEL: u32 = 1;
/// The record was unlinked from its table.
pub(crate) const DEAD: u32 = 2;

const STRIPES: usize = 16;

/// Unlinks a record the caller has just turned into a tombstone: retires it unless the wheel
/// holds it, in which case the wheel retires it when it lets go.
///
/// # Safety
///
/// The caller's CAS must have unlinked `record` from its table (so this runs once per record).
pub(crate) unsafe fn unlink<V>(guard: &Guard, record: Record<'_, V>) {
    // AcqRel: pairs with the wheel's `release`, so whichever runs second sees the other's bit.
    let previous = flags(record.header_ptr()).fetch_or(DEAD, Ordering::AcqRel);
    if previous & IN_WHEEL == 0 {
        // SAFETY: unlinked by the caller's CAS, and the wheel does not hold it.
        unsafe { record::retire(guard, record.as_ptr()) };
    } else {
        // The wheel frees the record at its next look, which may be the shortest configured
        // age away; the side data (a result can be large) need not wait that long.
        record.discard_cell(guard);
    }
}

fn flags<'a, V>(record: NonNull<RecordHeader<V>>) -> &'a crate::sync::AtomicU32 {
    // SAFETY: every caller holds the record alive (a guard, or the IN_WHEEL bit).
    unsafe { &(*record.as_ptr()).schedule_flags }
}

/// A record held by the expiry wheel.
pub(crate) struct Scheduled<V>(NonNull<RecordHeader<V>>);

impl<V> Clone for Scheduled<V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<V> Copy for Scheduled<V> {}

impl<V> Scheduled<V> {
    fn header(&self) -> &RecordHeader<V> {
        // SAFETY: the IN_WHEEL bit is set while a `Scheduled` exists, so nobody retires the
        // record (see the module docs).
        unsafe { self.0.as_ref() }
    }

    /// A view of the record for a lookup under `guard`.
    pub(crate) fn record<'g>(self, guard: &'g Guard) -> Record<'g, V> {
        // SAFETY: alive while IN_WHEEL is set, which it is until `release`.
        unsafe { Record::from_ptr(self.0.as_ptr(), guard) }
    }

    /// The wheel lets go of the record; retires it if it was unlinked meanwhile.
    pub(crate) fn release(self, guard: &Guard) {
        let previous = flags(self.0).fetch_and(!IN_WHEEL, Ordering::AcqRel);
        if previous & DEAD != 0 {
            // SAFETY: unlinked (DEAD) and no longer held by the wheel: nobody else retires it.
            unsafe { record::retire(guard, self.0.as_ptr()) };
        }
    }

    /// Frees the record if it is dead, for a queue being dropped (live records are freed by
    /// their table).
    ///
    /// # Safety
    ///
    /// No other thread may use the store, and its tables must not have been dropped yet.
    unsafe fn free_if_dead(self) {
        if flags(self.0).load(Ordering::Relaxed) & DEAD != 0 {
            // SAFETY: dead records are reachable only from the wheel, which is being dropped.
            unsafe { record::free(self.0.as_ptr()) };
        }
    }
}

impl<V> Entry for Scheduled<V> {
    fn when(self) -> u64 {
        // Relaxed: written and read only by the wheel's owner, or published by the push CAS.
        self.header().wheel_when.load(Ordering::Relaxed)
    }

    fn set_when(self, when: u64) {
        self.header().wheel_when.store(when, Ordering::Relaxed);
    }

    fn next(self) -> Option<Self> {
        NonNull::new(self.header().wheel_next.load(Ordering::Relaxed)).map(Scheduled)
    }

    fn set_next(self, next: Option<Self>) {
        let next = next.map_or(ptr::null_mut(), |n| n.0.as_ptr());
        self.header().wheel_next.store(next, Ordering::Relaxed);
    }
}

/// The stacks through which scheduled records reach the wheel.
pub(crate) struct Incoming<V> {
    stacks: Box<[CachePadded<AtomicPtr<RecordHeader<V>>>]>,
}

impl<V> Incoming<V> {
    pub(crate) fn new() -> Self {
        let stacks = (0..STRIPES).map(|_| CachePadded::new(AtomicPtr::new(ptr::null_mut())));
        Incoming {
            stacks: stacks.collect(),
        }
    }

    /// Hands `record` to the wheel, to be looked at by `when`, unless the wheel already holds
    /// it (it then looks at the record no later than the time it was given before, which the
    /// caller arranges to be early enough) or the record is dead.
    pub(crate) fn schedule(&self, record: Record<'_, V>, when: u64) {
        let header = record.header_ptr();
        // Most changes find the record already held (a completion after its claim): a plain
        // load answers that without a read-modify-write. Racing a release here is the same
        // race as losing to it below, which the wheel's re-check after a release covers.
        if flags(header).load(Ordering::Acquire) & (IN_WHEEL | DEAD) != 0 {
            return;
        }
        let previous = flags(header).fetch_or(IN_WHEEL, Ordering::AcqRel);
        if previous & (IN_WHEEL | DEAD) != 0 {
            return;
        }
        let entry = Scheduled(header);
        entry.set_when(when);
        let stack = &self.stacks[stripe() % STRIPES];
        let mut head = stack.load(Ordering::Relaxed);
        loop {
            entry.set_next(NonNull::new(head).map(Scheduled));
            // Release publishes the link and the due time to the taker's acquire swap.
            match stack.compare_exchange_weak(
                head,
                header.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    /// Takes every record pushed so far.
    pub(crate) fn take_all(&self, mut f: impl FnMut(Scheduled<V>)) {
        for stack in self.stacks.iter() {
            // Acquire pairs with the pushes' release: links and due times are visible.
            let mut head = NonNull::new(stack.swap(ptr::null_mut(), Ordering::Acquire));
            while let Some(header) = head {
                let entry = Scheduled(header);
                head = entry.next().map(|n| n.0);
                entry.set_next(None);
                f(entry);
            }
        }
    }
}

// SAFETY: the stacks hold records shared under the same rules as the table's.
unsafe impl<V: Send + Sync> Send for Incoming<V> {}
// SAFETY: as above; every shared field is atomic.
unsafe impl<V: Send + Sync> Sync for Incoming<V> {}
// SAFETY: a `Scheduled` is handed between the wheel's owner threads; the record it points at
// is shared under the rules in the module docs.
unsafe impl<V: Send + Sync> Send for Scheduled<V> {}

/// The expiry wheel and the stacks that feed it.
///
/// Must be dropped before the tables whose records it holds: dropping frees the dead records
/// only the wheel can still reach, and reads the flags of live ones, which the tables free.
pub(crate) struct ExpiryQueue<V> {
    pub(crate) incoming: Incoming<V>,
    /// Only the thread running an expiry step touches the wheel; the lock is never taken on
    /// the claim path.
    pub(crate) wheel: parking_lot::Mutex<crate::wheel::Wheel<Scheduled<V>>>,
}

impl<V> ExpiryQueue<V> {
    pub(crate) fn new(now: u64) -> Self {
        ExpiryQueue {
            incoming: Incoming::new(),
            wheel: parking_lot::Mutex::new(crate::wheel::Wheel::new(now)),
        }
    }
}

impl<V> Drop for ExpiryQueue<V> {
    fn drop(&mut self) {
        // SAFETY: `&mut self` means no other thread uses the store, and the owner drops this
        // queue before its tables (see the type's docs).
        self.wheel
            .get_mut()
            .drain(|entry| unsafe { entry.free_if_dead() });
        // SAFETY: as above.
        self.incoming
            .take_all(|entry| unsafe { entry.free_if_dead() });
    }
}
