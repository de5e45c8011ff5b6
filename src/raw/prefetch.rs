//! A prefetch of a key's home slot that needs neither a guard nor the table.
//!
//! A lookup costs two dependent cache misses (the slot, then the record), and pinning the
//! epoch first costs a full fence, which on x86 also waits for every earlier load. Issuing the
//! slot's prefetch before the pin lets that miss run during the fence, and lets the next
//! operation's slot miss start while the previous one's record miss is still outstanding.
//!
//! # Invariants
//!
//! - The hint is never dereferenced: it is turned into an address with integer arithmetic and
//!   handed to a prefetch instruction, which has no architectural effect and cannot fault, so
//!   a stale hint (a table already retired, or a base and mask from two different tables)
//!   costs a wasted prefetch and nothing else.
//! - The hint's atomics are std's even under loom: they order nothing and take part in no
//!   protocol, so the models have nothing to explore in them.
//! - After every migration the hint ends up describing the current table: the thread that
//!   publishes a table rewrites the hint until the current table is the one it wrote.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sync::epoch::Guard;

use super::table::{Slot, Table};

pub(crate) struct SlotHint {
    /// Address of the current table's first slot, as an integer so nothing can treat it as a
    /// reference.
    base: AtomicUsize,
    /// The current table's `mask`.
    mask: AtomicUsize,
}

impl SlotHint {
    pub(crate) fn new<V>(table: &Table<V>) -> Self {
        SlotHint {
            base: AtomicUsize::new(table.slots.as_ptr() as usize),
            mask: AtomicUsize::new(table.mask),
        }
    }

    /// Points the hint at `table`, then again at whatever is current, until they agree.
    pub(crate) fn point_at<V>(
        &self,
        mut table: &Table<V>,
        current: impl Fn() -> *const Table<V>,
        guard: &Guard,
    ) {
        let _ = guard;
        loop {
            // Relaxed: the hint orders nothing; readers only prefetch from it.
            self.base
                .store(table.slots.as_ptr() as usize, Ordering::Relaxed);
            self.mask.store(table.mask, Ordering::Relaxed);
            let now = current();
            if std::ptr::eq(now, table) {
                return;
            }
            // SAFETY: `now` is the shard's current table, loaded under `guard`, which keeps
            // it alive (tables are retired only after they stop being current).
            table = unsafe { &*now };
        }
    }

    /// Prefetches the home slot of `hash` in the table the hint describes.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        let base = self.base.load(Ordering::Relaxed);
        let mask = self.mask.load(Ordering::Relaxed);
        let offset = (hash as usize & mask).wrapping_mul(size_of::<Slot<()>>());
        prefetch_address(base.wrapping_add(offset));
    }
}

#[cfg(all(target_arch = "x86_64", not(loom)))]
#[inline]
fn prefetch_address(address: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch has no architectural effect and never faults, whatever the address
    // (see the module invariants); SSE, which it needs, is part of the x86_64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) };
}

#[cfg(not(all(target_arch = "x86_64", not(loom))))]
#[inline]
fn prefetch_address(address: usize) {
    let _ = address;
}
