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

    /// A value no smaller than what [`now_ms`](Self::now_ms) would return at this moment, for
    /// clocks that can give one more cheaply than a precise reading; `None` (the default) if
    /// they cannot, and then the store reads [`now_ms`](Self::now_ms) once per decision as
    /// before. A reader uses the bound to show that a deadline has not passed; it reads the
    /// precise clock only near a deadline or to set one.
    fn now_ms_upper_bound(&self) -> Option<u64> {
        None
    }
}

/// The real clock: milliseconds since it was created, plus one.
///
/// On Linux it reads `CLOCK_MONOTONIC` directly (the clock behind `Instant`), and answers
/// [`Clock::now_ms_upper_bound`] from `CLOCK_MONOTONIC_COARSE`, which the kernel serves from
/// the last timer tick without reading the hardware counter: about 5 ns against 25 to 50 ns
/// for a precise reading on the machine this was written on. The coarse clock normally lags
/// by at most one tick; the bound adds eight ticks and two milliseconds (34 ms at 250 Hz),
/// which also covers the kernel's stalled-timekeeping takeover (five ticks). Elsewhere there
/// is no bound and the store reads `Instant`.
///
/// LIMITATION: the coarse clock can lag further when the whole machine is paused (a virtual
/// machine whose host deschedules every vCPU): review measured 12 to 17 ms lags under load on a
/// 250 Hz VM. A lag beyond the margin makes a record read as live past its deadline by the
/// excess, never gone before it, which errs on the side of running a command once.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
    #[cfg(target_os = "linux")]
    monotonic: linux::Monotonic,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
            #[cfg(target_os = "linux")]
            monotonic: linux::Monotonic::new(),
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
        #[cfg(target_os = "linux")]
        if let Some(now) = self.monotonic.now_ms() {
            return now;
        }
        self.origin.elapsed().as_millis() as u64 + 1
    }

    fn now_ms_upper_bound(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        return self.monotonic.upper_bound_ms();
        #[cfg(not(target_os = "linux"))]
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    /// Both readings of `CLOCK_MONOTONIC`, measured from one origin.
    #[derive(Debug)]
    pub(super) struct Monotonic {
        /// The precise clock at creation, in ns; `None` if it could not be read, and then
        /// the caller falls back to `Instant`.
        origin_ns: Option<u64>,
        /// What is added to a coarse reading to bound the precise one from above (eight coarse
        /// ticks and two milliseconds); `None` if the coarse clock is not available.
        coarse_margin_ns: Option<u64>,
    }

    impl Monotonic {
        pub(super) fn new() -> Self {
            let origin_ns = read(libc::CLOCK_MONOTONIC);
            let coarse_margin_ns = resolution_ns(libc::CLOCK_MONOTONIC_COARSE)
                .filter(|_| read(libc::CLOCK_MONOTONIC_COARSE).is_some())
                .map(|tick| tick.saturating_mul(8).saturating_add(2_000_000));
            Monotonic {
                origin_ns,
                coarse_margin_ns,
            }
        }

        pub(super) fn now_ms(&self) -> Option<u64> {
            let origin = self.origin_ns?;
            let now = read(libc::CLOCK_MONOTONIC)?;
            Some(now.saturating_sub(origin) / 1_000_000 + 1)
        }

        pub(super) fn upper_bound_ms(&self) -> Option<u64> {
            let origin = self.origin_ns?;
            let margin = self.coarse_margin_ns?;
            let coarse = read(libc::CLOCK_MONOTONIC_COARSE)?;
            Some(coarse.saturating_add(margin).saturating_sub(origin) / 1_000_000 + 1)
        }
    }

    fn read(clock: libc::clockid_t) -> Option<u64> {
        // SAFETY: a timespec is plain integers (and, on some targets, padding): all zeroes is
        // a valid value.
        let mut time: libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: `time` is a valid, writable timespec for the call's duration.
        let status = unsafe { libc::clock_gettime(clock, &mut time) };
        nanos(status, &time)
    }

    fn resolution_ns(clock: libc::clockid_t) -> Option<u64> {
        // SAFETY: as in `read`.
        let mut time: libc::timespec = unsafe { std::mem::zeroed() };
        // SAFETY: as in `read`.
        let status = unsafe { libc::clock_getres(clock, &mut time) };
        nanos(status, &time)
    }

    fn nanos(status: libc::c_int, time: &libc::timespec) -> Option<u64> {
        if status != 0 {
            return None;
        }
        let secs = u64::try_from(time.tv_sec).ok()?;
        let nanos = u64::try_from(time.tv_nsec).ok()?;
        secs.checked_mul(1_000_000_000)?.checked_add(nanos)
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_system_clocks_upper_bound_holds_over_a_precise_reading_taken_before_it() {
        // Not a proof (see the LIMITATION on `SystemClock`): a check that the margin covers the
        // coarse clock's ordinary lag while this test runs.
        let clock = SystemClock::new();
        if clock.now_ms_upper_bound().is_none() {
            // No coarse clock on this platform: the store always reads the precise one.
            return;
        }
        let mut slack_seen = 0;
        for _ in 0..200_000 {
            let precise = clock.now_ms();
            let bound = clock
                .now_ms_upper_bound()
                .expect("the coarse clock stays available");
            assert!(
                bound >= precise,
                "upper bound {bound} ms below the precise reading {precise} ms taken before it"
            );
            slack_seen = slack_seen.max(bound - precise);
        }
        // Not so loose that no deadline would ever be judged by the cheap reading alone.
        assert!(
            slack_seen < 1_000,
            "upper bound {slack_seen} ms ahead of the clock"
        );
    }

    #[test]
    fn a_manual_clock_has_no_cheaper_bound() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_millis(7));
        assert_eq!(clock.now_ms_upper_bound(), None);
    }
}
