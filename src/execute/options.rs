//! How an [`Executor`](super::Executor) behaves: per executor, per call, and per retrying call.

use std::time::Duration;

use crate::FailurePolicy;

/// What an [`Executor`](super::Executor) does for every call, unless a call overrides it.
#[derive(Clone, Debug)]
pub struct ExecuteOptions {
    /// How long a duplicate waits for the running owner before giving up with
    /// [`ExecuteError::Timeout`](super::ExecuteError::Timeout) (default 30 s). The owner itself
    /// is never cut short by it: only waiting has a deadline.
    pub wait_timeout: Duration,
    /// Whether a run that returned an error may run again on the next call (default
    /// [`FailurePolicy::Retryable`]).
    pub failure_policy: FailurePolicy,
    /// What becomes of the claim when the owner's future is dropped mid-run (default
    /// [`CancelPolicy::Release`]). It is never left InProgress for its lease to run out.
    pub on_cancel: CancelPolicy,
    /// The lease each claim asks for. `Some` renews it every third of the lease while the
    /// command runs, so a live owner keeps its claim however long it takes and a dead one
    /// loses it within one lease. `None` (default) claims with the store's InProgress age and
    /// does not renew.
    ///
    /// A lease shorter than [`MIN_LEASE`] is raised to it: renewals run on a millisecond
    /// timer, and a lease of a few milliseconds would lapse before the first one, handing the
    /// command to every caller in turn.
    ///
    /// LIMITATION: with `None` the executor cannot renew, because the store trait does not say
    /// what its InProgress age is; a run longer than that age loses its claim. Set a lease for
    /// commands that may run long.
    pub lease: Option<Duration>,
    /// How many commands of one [`execute_batch`](super::Executor::execute_batch) call are
    /// run or waited on at once (default four per available core, at least 1; 0 counts as 1).
    pub batch_concurrency: usize,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            wait_timeout: Duration::from_secs(30),
            failure_policy: FailurePolicy::Retryable,
            on_cancel: CancelPolicy::Release,
            lease: None,
            batch_concurrency: default_batch_concurrency(),
        }
    }
}

/// Four commands in flight per core: a batch mostly awaits the store or the commands' own I/O,
/// so one per core would leave cores idle, while an unbounded batch could open as many
/// connections or tasks as it has items.
fn default_batch_concurrency() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_mul(4).max(1)
}

/// What becomes of a claim whose owner's future was dropped before the command finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CancelPolicy {
    /// Give the claim back (NotStarted): the next caller runs the command. Right when a
    /// command abandoned midway has no lasting effect, or its effect is safe to repeat.
    #[default]
    Release,
    /// Mark it Indeterminate: nobody runs it again until an operator resolves or resets it.
    /// Right for side effects that must never happen twice.
    Indeterminate,
}

/// Overrides of [`ExecuteOptions`] for one call; `None` keeps the executor's setting.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// The failure policy of this call's run, if it runs.
    pub failure_policy: Option<FailurePolicy>,
}

/// How [`execute_with_backoff`](super::Executor::execute_with_backoff) spaces its attempts.
///
/// Retry `n` (counting from 1) waits `base_delay × 2^(n−1)`, times a factor drawn uniformly
/// from [0.8, 1.2] so that callers that failed together do not all come back together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts after the first (default 3).
    pub max_retries: u32,
    /// The delay before the first retry, before jitter (default 100 ms).
    pub base_delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
        }
    }
}

/// The smallest jitter factor applied to a retry delay.
pub(super) const JITTER_MIN: f64 = 0.8;
/// The largest jitter factor applied to a retry delay.
pub(super) const JITTER_MAX: f64 = 1.2;

impl Backoff {
    /// The delay before retry `retry` (1 for the first) with jitter `factor`, saturating at
    /// [`Duration::MAX`] rather than overflowing.
    pub fn delay(&self, retry: u32, factor: f64) -> Duration {
        debug_assert!(retry >= 1, "retry {retry} counts from 1");
        debug_assert!(
            (JITTER_MIN..=JITTER_MAX).contains(&factor),
            "jitter factor {factor} outside [{JITTER_MIN}, {JITTER_MAX}]"
        );
        let doublings = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.base_delay.as_secs_f64() * 2f64.powi(doublings) * factor;
        Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn delays_double_per_retry_before_jitter() {
        let backoff = Backoff {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
        };

        let delays: Vec<Duration> = (1..=4).map(|retry| backoff.delay(retry, 1.0)).collect();

        let expected = [100, 200, 400, 800].map(Duration::from_millis);
        assert_eq!(delays, expected);
    }

    #[test]
    fn jitter_scales_the_delay_within_its_bounds() {
        let backoff = Backoff::default();

        let (low, high) = (backoff.delay(3, JITTER_MIN), backoff.delay(3, JITTER_MAX));

        assert_eq!(low, Duration::from_millis(320));
        assert_eq!(high, Duration::from_millis(480));
    }

    #[test]
    fn a_delay_too_long_to_represent_saturates() {
        let backoff = Backoff {
            max_retries: u32::MAX,
            base_delay: Duration::from_secs(1),
        };

        assert_eq!(backoff.delay(u32::MAX, JITTER_MAX), Duration::MAX);
    }

    #[test]
    fn batch_concurrency_is_at_least_one() {
        assert!(ExecuteOptions::default().batch_concurrency >= 1);
    }
}

/// The shortest lease an executor asks for (see [`ExecuteOptions::lease`]).
pub const MIN_LEASE: Duration = Duration::from_millis(20);
