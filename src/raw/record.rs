//! A record: one allocation holding a key's bytes and a cell for its latest side data.
//!
//! ```text
//! +----------------------------- one allocation -----------------------------+
//! | RecordHeader { hash, fingerprint, ..., cell, waiters } | key bytes (key_len) |
//! +--------------------------------------------------------------------------+
//! ```
//!
//! # Invariants
//!
//! - The key, its hash and its fingerprint never change after the record is published, so
//!   any thread holding a guard may read them without synchronisation beyond the publishing
//!   release store.
//! - A record lives in exactly one live slot of the current table at a time (a migration
//!   moves the pointer, never the memory), and is retired exactly once: by the removal that
//!   turned its slot into a tombstone, or by the table's owner when the store is dropped.
//! - `cell` holds the side data of one generation (a result, or a failure). It is written only
//!   by the owner of that generation while the slot word still shows that owner's claim (see
//!   [`Record::publish_cell`]), so a word that reads Completed at generation g always comes
//!   with the cell of generation g.
//! - `waiters` is null until the first thread waits on the record, then holds one strong
//!   reference to a `Notify` until the record is freed. Waiters clone that reference under
//!   a guard and drop the guard before they await, so no guard is held across an `.await`.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use crate::sync::epoch::{self, Guard};
use std::sync::Arc;

use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, Notify, Ordering, fence};

/// The fixed part of a record. The key bytes follow it in the same allocation.
#[repr(C)]
pub(crate) struct RecordHeader<V> {
    /// The key's full hash: a migration re-homes the record without hashing the key again.
    hash: u64,
    /// The word a helper publishes if it finds this record in a slot whose word is still
    /// empty (an insert caught between its two steps). Atomic because an insert that lost its
    /// slot to a migration retries with the same record and possibly another word, while a
    /// helper that saw the old slot may still be reading it.
    init_word: AtomicU64,
    /// Length of the key bytes that follow the header.
    key_len: u32,
    /// [`IN_WHEEL`](super::schedule::IN_WHEEL) and [`DEAD`](super::schedule::DEAD): who
    /// retires the record when both the table and the expiry wheel may hold it.
    pub(super) schedule_flags: AtomicU32,
    /// Unique among all records this process ever allocates. A claim carries it so that a
    /// claim on a removed record can never match a new record of the same id, whose
    /// generations start over.
    incarnation: u64,
    /// The payload fingerprint the record was created with (0: none). Immutable: a claim
    /// with another fingerprint is a conflict, never a reason to change it.
    fingerprint: u64,
    /// The side data of the latest generation that wrote one; null until then.
    cell: AtomicPtr<Cell<V>>,
    /// Threads waiting for the record to leave InProgress, allocated by the first of them
    /// (`Arc::into_raw`), so records nobody waits on pay one null pointer.
    waiters: AtomicPtr<Notify>,
    /// When the record's status last changed, on the store's clock: what age-based cleanup
    /// measures. Raised (never lowered) before the change's CAS, so whoever sees the new word
    /// sees a time at least this recent.
    changed_at: AtomicU64,
    /// The expiry wheel's link: the next record in the same incoming stack or wheel slot.
    pub(super) wheel_next: AtomicPtr<RecordHeader<V>>,
    /// The time the expiry wheel should look at the record next.
    pub(super) wheel_when: AtomicU64,
    /// Under loom, cleared when the record is reclaimed so that a late reader fails the model.
    #[cfg(loom)]
    alive: loom::sync::atomic::AtomicBool,
}

/// Side data written by the owner of one generation.
pub(crate) struct Cell<V> {
    /// The generation whose owner wrote this cell.
    pub(crate) generation: u64,
    pub(crate) value: V,
}

/// A borrowed view of a live record, valid while the guard it was loaded under is alive.
pub(crate) struct Record<'g, V> {
    header: &'g RecordHeader<V>,
}

impl<V> Clone for Record<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<V> Copy for Record<'_, V> {}

fn layout_for<V>(key_len: usize) -> (Layout, usize) {
    let header = Layout::new::<RecordHeader<V>>();
    let bytes = Layout::array::<u8>(key_len).expect("key length checked by the store");
    let (layout, offset) = header
        .extend(bytes)
        .expect("key length checked by the store");
    (layout.pad_to_align(), offset)
}

/// Allocates a record for `key`. This is the only allocation a first claim makes.
pub(crate) fn allocate<V>(
    key: &[u8],
    hash: u64,
    fingerprint: u64,
    init_word: u64,
    now: u64,
) -> NonNull<RecordHeader<V>> {
    let key_len = u32::try_from(key.len()).expect("key length checked by the store");
    let (layout, offset) = layout_for::<V>(key.len());
    // SAFETY: the layout has a non-zero size (the header is not a ZST).
    let raw = unsafe { alloc::alloc(layout) };
    let Some(raw) = NonNull::new(raw) else {
        alloc::handle_alloc_error(layout)
    };
    let header = raw.cast::<RecordHeader<V>>();
    // SAFETY: `raw` is a fresh allocation of `layout`, which starts with a `RecordHeader<V>`
    // and has `key.len()` bytes at `offset`; nothing else can see it yet.
    unsafe {
        header.as_ptr().write(RecordHeader {
            hash,
            init_word: AtomicU64::new(init_word),
            key_len,
            schedule_flags: AtomicU32::new(0),
            incarnation: next_incarnation(),
            fingerprint,
            cell: AtomicPtr::new(ptr::null_mut()),
            waiters: AtomicPtr::new(ptr::null_mut()),
            changed_at: AtomicU64::new(now),
            wheel_next: AtomicPtr::new(ptr::null_mut()),
            wheel_when: AtomicU64::new(0),
            #[cfg(loom)]
            alive: loom::sync::atomic::AtomicBool::new(true),
        });
        ptr::copy_nonoverlapping(key.as_ptr(), raw.as_ptr().add(offset), key.len());
    }
    header
}

/// Sets the word an insert of this record publishes.
///
/// # Safety
///
/// `record` must come from [`allocate`] and not have been freed.
pub(crate) unsafe fn set_init_word<V>(record: NonNull<RecordHeader<V>>, word: u64) {
    // SAFETY: the record is alive per the contract. Release pairs with the acquire in
    // `Record::init_word`: a helper that finds the record pending publishes the word it reads
    // there, so it must read the whole of what the inserter stored.
    unsafe { (*record.as_ptr()).init_word.store(word, Ordering::Release) };
}

/// Frees a record and its cell.
///
/// # Safety
///
/// No thread may reach `record` any more: it was never published, or it was unlinked and
/// every guard that could have loaded it has been dropped.
pub(crate) unsafe fn free<V>(record: *mut RecordHeader<V>) {
    // SAFETY: per the contract we are the last user; the cell pointer, if set, was boxed by
    // `publish_cell` and is owned by this record.
    unsafe {
        // Under loom a record is only marked dead (see below), so a second free would find it
        // dead here: fail the model instead of dropping the cell twice.
        #[cfg(loom)]
        assert!(
            (*record).alive.swap(false, Ordering::SeqCst),
            "record freed twice"
        );
        let cell = (*record).cell.load(Ordering::Relaxed);
        if !cell.is_null() {
            drop(Box::from_raw(cell));
        }
        let waiters = (*record).waiters.load(Ordering::Relaxed);
        if !waiters.is_null() {
            drop(Arc::from_raw(waiters));
        }
        let (layout, _) = layout_for::<V>((*record).key_len as usize);
        #[cfg(loom)]
        {
            // Leave the memory in place, marked dead above, so a racing reader trips the
            // `alive` check instead of reading freed memory.
            let _ = layout;
            return;
        }
        #[cfg(not(loom))]
        {
            ptr::drop_in_place(record);
            alloc::dealloc(record.cast::<u8>(), layout);
        }
    }
}

/// Retires a record that has just been unlinked from its slot.
///
/// # Safety
///
/// The record must be unreachable for threads that pin after this call, and be retired once.
pub(crate) unsafe fn retire<V>(guard: &Guard, record: *mut RecordHeader<V>) {
    // SAFETY: forwarded contract; `free::<V>` releases exactly what `allocate::<V>` made.
    unsafe { epoch::retire(guard, record, free::<V>) };
}

/// The waiter's half of the fence pair described at [`Record::wake`]: called after taking
/// `notified()` and before re-reading the word.
pub(crate) fn waiter_fence() {
    fence(Ordering::SeqCst);
}

/// Incarnations are handed out in blocks, so allocating a record touches no shared counter
/// except once per block.
#[cfg(not(loom))]
fn next_incarnation() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::AtomicU64 as StdAtomicU64;

    const BLOCK: u64 = 1024;
    static NEXT_BLOCK: StdAtomicU64 = StdAtomicU64::new(1);
    thread_local! {
        static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    // Relaxed: uniqueness needs only the atomicity of the increment.
    let block = || NEXT_BLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * BLOCK;
    RANGE
        .try_with(|range| {
            let (mut next, mut end) = range.get();
            if next == end {
                next = block();
                end = next + BLOCK;
            }
            range.set((next + 1, end));
            next
        })
        // During thread teardown the thread-local is gone: take a whole block for one record.
        .unwrap_or_else(|_| block())
}

#[cfg(loom)]
fn next_incarnation() -> u64 {
    loom::lazy_static! {
        static ref NEXT: AtomicU64 = AtomicU64::new(1);
    }
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// # Safety
///
/// `cell` must come from `publish_cell`'s box, be unlinked from its record, and be freed once.
unsafe fn free_cell<V>(cell: *mut Cell<V>) {
    // SAFETY: the cell was boxed by `publish_cell` and unlinked before being retired.
    drop(unsafe { Box::from_raw(cell) });
}

impl<'g, V> Record<'g, V> {
    /// Views a published record.
    ///
    /// # Safety
    ///
    /// `ptr` must have been loaded from a slot under `_guard`, and the slot's word must have
    /// shown the record as live or pending when it was loaded.
    pub(crate) unsafe fn from_ptr(ptr: *mut RecordHeader<V>, _guard: &'g Guard) -> Self {
        // SAFETY: per the contract the record was published and cannot be freed while the
        // guard lives.
        let header = unsafe { &*ptr };
        #[cfg(loom)]
        assert!(
            header.alive.load(Ordering::SeqCst),
            "record read after it was reclaimed"
        );
        Record { header }
    }

    pub(crate) fn key(&self) -> &'g [u8] {
        let (_, offset) = layout_for::<V>(self.header.key_len as usize);
        let base = (self.header as *const RecordHeader<V>).cast::<u8>();
        // SAFETY: `allocate` wrote `key_len` bytes at `offset` before publication and they are
        // never written again; the guard keeps the allocation alive for `'g`.
        unsafe { std::slice::from_raw_parts(base.add(offset), self.header.key_len as usize) }
    }

    pub(crate) fn incarnation(&self) -> u64 {
        self.header.incarnation
    }

    pub(crate) fn hash(&self) -> u64 {
        self.header.hash
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.header.fingerprint
    }

    /// When the record's status last changed (see the field's doc).
    pub(crate) fn changed_at(&self) -> u64 {
        // Acquire pairs with the release of `touch`'s fetch_max.
        self.header.changed_at.load(Ordering::Acquire)
    }

    /// Records a status change at `now`; call before the change's CAS.
    pub(crate) fn touch(&self, now: u64) {
        // A claim and its completion usually fall in the same millisecond: skip the
        // read-modify-write then. A reader that acquires the CAS that follows sees at least
        // the value loaded here (read-read coherence), which is already `now` or later.
        if self.header.changed_at.load(Ordering::Acquire) >= now {
            return;
        }
        // Release so that the CAS that follows publishes it; fetch_max keeps the time from
        // going back when a late writer loses its CAS.
        self.header.changed_at.fetch_max(now, Ordering::Release);
    }

    pub(crate) fn header_ptr(&self) -> NonNull<RecordHeader<V>> {
        NonNull::from(self.header)
    }

    /// The record's `Notify`, created by the first caller. The caller must take its
    /// `notified()` future and then re-check the word after [`fence`]: see [`Self::wake`].
    pub(crate) fn waiters(&self) -> Arc<Notify> {
        let mut current = self.header.waiters.load(Ordering::Acquire);
        if current.is_null() {
            let fresh = Arc::into_raw(Arc::new(Notify::new())).cast_mut();
            // AcqRel: release publishes the new Notify; acquire on failure sees the winner's.
            current = match self.header.waiters.compare_exchange(
                ptr::null_mut(),
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => fresh,
                Err(winner) => {
                    // SAFETY: `fresh` lost the race and was never shared.
                    drop(unsafe { Arc::from_raw(fresh) });
                    winner
                }
            };
        }
        // SAFETY: the record holds one strong reference until it is freed, and the caller's
        // guard keeps the record alive, so the count is at least one while we add ours.
        unsafe {
            Arc::increment_strong_count(current);
            Arc::from_raw(current)
        }
    }

    /// Wakes every waiter after a transition out of InProgress.
    ///
    /// The store-buffer race this closes: a waiter publishes `waiters`, takes `notified()`,
    /// then reads the word; the transition writes the word, then reads `waiters`. The two
    /// SeqCst fences (here and in the waiter, see [`waiter_fence`]) guarantee that at least one
    /// side sees the other's write, so either the waiter sees the new word or this call sees
    /// the `Notify` and wakes the future that was already taken.
    pub(crate) fn wake(&self) {
        fence(Ordering::SeqCst);
        let waiters = self.header.waiters.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is the record's own strong reference, alive while the
        // record is, which the caller's guard ensures.
        if let Some(notify) = unsafe { waiters.as_ref() } {
            notify.notify_waiters();
        }
    }

    pub(crate) fn init_word(&self) -> u64 {
        self.header.init_word.load(Ordering::Acquire)
    }

    pub(crate) fn as_ptr(&self) -> *mut RecordHeader<V> {
        (self.header as *const RecordHeader<V>).cast_mut()
    }

    /// Detaches and retires the cell of a record that has just been unlinked. A reader that
    /// still sees the record then finds no cell, which it treats as "not this generation's
    /// data" and looks again (finding the record gone); an owner publishing late fails its
    /// ownership check against the tombstone.
    pub(crate) fn discard_cell(&self, guard: &'g Guard) {
        // AcqRel: acquire so the cell's contents are ours to drop; release so a publisher
        // whose compare-exchange fails on the null re-checks ownership after the tombstone.
        let cell = self.header.cell.swap(ptr::null_mut(), Ordering::AcqRel);
        if !cell.is_null() {
            // SAFETY: the swap unlinked the cell from the record; only this swap retires it.
            unsafe { epoch::retire(guard, cell, free_cell::<V>) };
        }
    }

    /// The cell, if one was written. The caller checks its generation against the word.
    pub(crate) fn cell(&self, guard: &'g Guard) -> Option<&'g Cell<V>> {
        let _ = guard;
        // Acquire pairs with the release in `publish_cell`, so the value is fully written.
        let cell = self.header.cell.load(Ordering::Acquire);
        // SAFETY: a non-null cell was boxed by `publish_cell`; a replaced cell is retired, not
        // freed, so it outlives the guard it was loaded under.
        unsafe { cell.as_ref() }
    }

    /// Installs `value` as the side data of `generation`, as long as `still_owner` keeps
    /// answering true. Hands the value back once it answers false.
    ///
    /// `still_owner` must re-read the slot word and confirm it still shows the caller's claim,
    /// answering false for a frozen (MOVED) word: a frozen word never changes again, so it
    /// would keep vouching for an owner whom the record's next table has long fenced.
    /// Asking after loading the current cell and before swapping it out is what keeps a stale
    /// owner from overwriting the cell of a newer generation: if a newer owner has replaced the
    /// cell in between, the swap fails and the next check sees the newer claim.
    pub(crate) fn publish_cell(
        &self,
        generation: u64,
        value: V,
        guard: &'g Guard,
        mut still_owner: impl FnMut() -> bool,
    ) -> Result<(), V> {
        let fresh = Box::into_raw(Box::new(Cell { generation, value }));
        loop {
            let current = self.header.cell.load(Ordering::Acquire);
            if !still_owner() {
                // SAFETY: `fresh` was never published.
                return Err(unsafe { Box::from_raw(fresh) }.value);
            }
            // AcqRel: release publishes the cell's contents to readers that acquire it;
            // acquire orders the next `still_owner` read after a newer owner's claim.
            match self.header.cell.compare_exchange(
                current,
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if !current.is_null() {
                        // SAFETY: `current` is now unlinked from this record, and only the
                        // thread whose swap removed it retires it.
                        unsafe { epoch::retire(guard, current, free_cell::<V>) };
                    }
                    return Ok(());
                }
                Err(_) => continue,
            }
        }
    }
}
