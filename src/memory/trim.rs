//! Giving memory freed by expiry back to the operating system.
//!
//! After a burst of commands expires, the records, result cells and old tables are freed, but
//! glibc's allocator keeps the freed pages in its arenas: the process stays as large as at
//! its peak. [`MemoryStore::compact`] therefore asks the allocator to return free pages
//! (`malloc_trim`) once enough records have expired since it last did, and once more a
//! second later, because records retired through the epoch are freed some time after they
//! were removed.
//!
//! The trim walks every arena under its lock, so it is rate-limited: at most once a second,
//! and only after [`RECORDS_PER_TRIM`] expiries. On other allocators it does nothing.
//!
//! LIMITATION: only glibc is asked; with another allocator (musl, jemalloc as the global
//! allocator) freed pages go back only as that allocator decides.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Expiries since the last trim that make another one worth its cost (at ~200 bytes a
/// record, about 12 MiB freed).
pub(super) const RECORDS_PER_TRIM: u64 = 65_536;

/// The shortest time between two trims.
const TRIM_INTERVAL: Duration = Duration::from_secs(1);

pub(super) struct Trimmer {
    state: Mutex<State>,
    /// [`TRIM_INTERVAL`], shorter in tests.
    interval: Duration,
}

struct State {
    /// The store's expiry count when it last trimmed.
    expired_at_last: u64,
    /// When it last trimmed.
    last: Option<Instant>,
    /// A trim is owed a second after the last one, for memory the epoch freed since.
    follow_up: bool,
}

impl Trimmer {
    pub(super) fn new() -> Self {
        Self::with_interval(TRIM_INTERVAL)
    }

    fn with_interval(interval: Duration) -> Self {
        Trimmer {
            state: Mutex::new(State {
                expired_at_last: 0,
                last: None,
                follow_up: false,
            }),
            interval,
        }
    }

    /// Trims if `expired_total` moved far enough since the last trim, or a follow-up is owed,
    /// and the last trim is long enough ago. Returns true if it trimmed.
    pub(super) fn maybe_trim(&self, expired_total: u64) -> bool {
        let Some(mut state) = self.state.try_lock() else {
            // Another thread is deciding or trimming right now.
            return false;
        };
        let now = Instant::now();
        if state
            .last
            .is_some_and(|last| now.duration_since(last) < self.interval)
        {
            return false;
        }
        let many = expired_total.saturating_sub(state.expired_at_last) >= RECORDS_PER_TRIM;
        if !many && !state.follow_up {
            return false;
        }
        state.follow_up = many;
        state.expired_at_last = expired_total;
        state.last = Some(now);
        let released = release_free_pages();
        tracing::debug!(
            expired_total,
            released,
            "returned free memory to the system"
        );
        true
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
    fn trims_after_many_expiries_then_once_more_then_waits_for_more() {
        let trimmer = Trimmer::with_interval(Duration::from_millis(20));
        assert!(
            !trimmer.maybe_trim(RECORDS_PER_TRIM - 1),
            "too few expiries"
        );
        assert!(trimmer.maybe_trim(RECORDS_PER_TRIM), "enough expiries");
        assert!(
            !trimmer.maybe_trim(3 * RECORDS_PER_TRIM),
            "within the interval"
        );
        std::thread::sleep(Duration::from_millis(30));
        assert!(trimmer.maybe_trim(RECORDS_PER_TRIM), "the follow-up");
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            !trimmer.maybe_trim(RECORDS_PER_TRIM + 10),
            "nothing new, no follow-up owed"
        );
        assert!(
            trimmer.maybe_trim(2 * RECORDS_PER_TRIM),
            "enough new expiries"
        );
    }
}
