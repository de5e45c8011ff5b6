//! Time as the store sees it: whole milliseconds since the store's clock origin.
//!
//! Deadlines live in slot words as milliseconds since an origin ([`Clock::now_ms`]), so the
//! clock must be monotonic. Production stores use [`SystemClock`]; tests inject a
//! [`ManualClock`] and advance it instead of sleeping, so no expiry test depends on how fast
//! the machine runs.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic millisecond clock.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since this clock's origin. Never decreases, and never returns 0, which
    /// the slot word reserves for "no deadline".
    fn now_ms(&self) -> u64;
}

/// The real clock: milliseconds since it was created, plus one.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64 + 1
    }
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use idemstore::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now_ms();
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(clock.now_ms() - start, 2_000);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock that reads 1 ms until advanced.
    pub fn new() -> Self {
        ManualClock {
            now: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        // Relaxed: the store reads the clock as a plain value; ordering with other memory is
        // provided by whatever the test does after advancing (spawning, joining, awaiting).
        let by = millis(by);
        let _ = self
            .now
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(by))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }
}

/// Milliseconds in a duration, saturating, for adding to [`Clock::now_ms`].
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
