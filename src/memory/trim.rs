//! Giving memory freed by expiry back to the operating system.
//!
//! After a burst of commands expires, the records, result cells and old tables are freed, but
//! glibc's allocator keeps the freed pages in its arenas: the process stays as large as at
//! its peak. [`MemoryStore::compact`] therefore asks the allocator to return free pages
//! (`malloc_trim`) once enough records have been removed (by expiry, a sweep or `remove`)
//! since it last did, and a few more times a second apart once removals stop, because records
//! retired through the epoch are freed some time after they were removed.
//!
//! The trim walks every arena under its lock and its cost grows with the heap (about 13 ms
//! with 2 million records, 250 ms with 6 million, measured in review), so it never runs on the
//! caller's thread: it runs on a short-lived thread of its own, one at a time, at most once a
//! second, and only after [`RECORDS_PER_TRIM`] removals. On other allocators it does nothing.
//!
//! LIMITATION: only glibc is asked; with another allocator (musl, jemalloc as the global
//! allocator) freed pages go back only as that allocator decides.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Removals since the last trim that make another one worth its cost (at ~200 bytes a
/// record, about 12 MiB freed).
pub(super) const RECORDS_PER_TRIM: u64 = 65_536;

/// Trims after the last one that saw new removals.
const FOLLOW_UPS: u8 = 3;

/// The shortest time between two trims.
const TRIM_INTERVAL: Duration = Duration::from_secs(1);

pub(super) struct Trimmer {
    state: Mutex<State>,
    /// Set while a trim thread runs, so trims never overlap however long one takes.
    running: Arc<AtomicBool>,
    /// The removal count at the last [`Trimmer::flush_rounds`] (Relaxed: a statistic).
    flushed_at: AtomicU64,
    /// [`TRIM_INTERVAL`], shorter in tests.
    interval: Duration,
}

struct State {
    /// The store's removal count when it last trimmed.
    removed_at_last: u64,
    /// When it last trimmed.
    last: Option<Instant>,
    /// Trims still owed, a second apart, after the last one that saw new removals: records
    /// retired through the epoch are freed a while after their removal, so one last trim
    /// right after the removals stop would miss them.
    follow_ups: u8,
}

impl Trimmer {
    pub(super) fn new() -> Self {
        Self::with_interval(TRIM_INTERVAL)
    }

    fn with_interval(interval: Duration) -> Self {
        Trimmer {
            state: Mutex::new(State {
                removed_at_last: 0,
                last: None,
                follow_ups: 0,
            }),
            running: Arc::new(AtomicBool::new(false)),
            flushed_at: AtomicU64::new(0),
            interval,
        }
    }

    /// Starts a trim if `removed_total` moved far enough since the last one, or a follow-up
    /// is owed, and the last trim is long enough ago and finished. Returns true if it started.
    pub(super) fn maybe_trim(&self, removed_total: u64) -> bool {
        let Some(mut state) = self.state.try_lock() else {
            // Another thread is deciding right now.
            return false;
        };
        let now = Instant::now();
        if state
            .last
            .is_some_and(|last| now.duration_since(last) < self.interval)
        {
            return false;
        }
        let removed = removed_total.saturating_sub(state.removed_at_last);
        if removed < RECORDS_PER_TRIM && state.follow_ups == 0 {
            return false;
        }
        // Acquire pairs with the trim thread's release store: its trim is over.
        if self.running.swap(true, Ordering::Acquire) {
            return false;
        }
        let running = Arc::clone(&self.running);
        let spawned = std::thread::Builder::new()
            .name("idemstore-trim".into())
            .spawn(move || {
                let released = release_free_pages();
                tracing::debug!(
                    removed_total,
                    released,
                    "returned free memory to the system"
                );
                running.store(false, Ordering::Release);
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start a thread to return free memory");
            self.running.store(false, Ordering::Release);
            return false;
        }
        state.follow_ups = if removed > 0 {
            FOLLOW_UPS
        } else {
            state.follow_ups - 1
        };
        state.removed_at_last = removed_total;
        state.last = Some(now);
        true
    }

    /// How many epoch flushes (`sync::epoch::drain`) [`MemoryStore::compact`] should run so
    /// that records removed since its last call are actually freed: each flush frees up to
    /// 512 objects and a record retires up to two (itself and its cell).
    pub(super) fn flush_rounds(&self, removed_total: u64) -> usize {
        let since =
            removed_total.saturating_sub(self.flushed_at.swap(removed_total, Ordering::Relaxed));
        usize::try_from(since / 128)
            .unwrap_or(usize::MAX)
            .saturating_add(8)
            .min(1 << 20)
    }

    /// Waits for a running trim to finish (tests).
    #[cfg(test)]
    fn wait_idle(&self) {
        while self.running.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Asks the allocator to return free pages. True if it released any.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_pages() -> bool {
    // SAFETY: `malloc_trim` only reorganises the allocator's own free lists under its arena
    // locks; it is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_pages() -> bool {
    false
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn trims_after_many_removals_then_a_few_more_times_then_waits_for_more() {
        let trimmer = Trimmer::with_interval(Duration::from_millis(300));
        let started = |removed| {
            let started = trimmer.maybe_trim(removed);
            trimmer.wait_idle();
            started
        };
        let after_interval = || std::thread::sleep(Duration::from_millis(350));
        assert!(!started(RECORDS_PER_TRIM - 1), "too few removals");
        assert!(started(RECORDS_PER_TRIM), "enough removals");
        assert!(!started(3 * RECORDS_PER_TRIM), "within the interval");
        for follow_up in 0..FOLLOW_UPS {
            after_interval();
            assert!(started(RECORDS_PER_TRIM), "follow-up {follow_up}");
        }
        after_interval();
        assert!(
            !started(RECORDS_PER_TRIM + 10),
            "too few new removals, no follow-up owed"
        );
        assert!(started(2 * RECORDS_PER_TRIM), "enough new removals");
    }
}
