//! Memory accounting: a global allocator that counts the heap bytes the process holds, and
//! the resident set size from `/proc/self/statm`.
//!
//! # Why the counters are sharded
//!
//! One shared counter would put a contended cache line under every allocation of every thread
//! and slow the allocation-heavy contenders in proportion to how much they allocate, which is
//! exactly what the throughput tables compare. Each thread instead adds to one of [`SLOTS`]
//! cache-padded counters, picked once per thread; a reading sums them all. A block freed on
//! another thread than the one that allocated it leaves one slot high and another low: only the
//! sum means anything, and it is exact once the threads that allocate have stopped.
//!
//! The heap count is what a contender keeps; the resident size also holds pages the allocator
//! took and has not returned, which is what an operator sees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

/// Counters in the sum; more than the threads a run starts, so threads rarely share one.
const SLOTS: usize = 64;

/// Bytes allocated minus bytes freed, per slot. Relaxed everywhere: a count orders no other
/// memory, and readers either run after the counting threads joined or take a sample.
static HELD: [CachePadded<AtomicIsize>; SLOTS] =
    [const { CachePadded::new(AtomicIsize::new(0)) }; SLOTS];

/// Hands out slots to threads in turn.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot, `usize::MAX` until its first allocation. Const-initialised with no
    /// destructor, so reading it never allocates and works while the thread shuts down.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn my_slot() -> usize {
    SLOT.try_with(|slot| {
        let mine = slot.get();
        if mine != usize::MAX {
            return mine;
        }
        let mine = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
        slot.set(mine);
        mine
    })
    .unwrap_or(0)
}

fn count(bytes: isize) {
    HELD[my_slot()].fetch_add(bytes, Ordering::Relaxed);
}

/// The system allocator with the counting above.
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's own arguments, so the contract
// the caller upholds is the one `System` needs; the counting touches no allocated memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: the caller's contract, forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded unchanged.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

/// Heap bytes the process holds now (exact when no other thread is allocating).
pub fn heap_bytes() -> u64 {
    let held: isize = HELD.iter().map(|slot| slot.load(Ordering::Relaxed)).sum();
    held.max(0) as u64
}

/// Lets memory that earlier runs retired through crossbeam-epoch (idemstore's records, cells
/// and tables, freed some time after their store dropped) actually be freed, so it does not
/// come off the next run's heap figures. Each pin-and-flush moves this thread's deferred frees
/// to the global queue and tries to advance the epoch; with no other thread pinned, a few
/// hundred rounds empty the queue.
pub fn settle_heap() {
    for _ in 0..256 {
        crossbeam_epoch::pin().flush();
    }
}

/// Resident set size, in bytes.
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Asks glibc to hand free pages back to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim_allocator() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe { libc::malloc_trim(0) };
}

/// LIMITATION: `malloc_trim` is glibc's; other allocators keep their own policy for handing
/// pages back, so here this does nothing and "after trim" reads the same as "after idle".
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim_allocator() {}

/// Bytes as MiB, for tables.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
