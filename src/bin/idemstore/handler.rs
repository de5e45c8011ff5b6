//! The simulated command handler, and the side-effect ledger it writes.
//!
//! # The ledger is the witness
//!
//! Each execution adds one to its command's slot in the ledger before it does anything else:
//! that increment *is* the side effect. The ledger is a vector of counters indexed by dense
//! command number and shares nothing with the store, so it counts executions even if the
//! store, or the executor's report of what it did, is wrong. Beside it the handler keeps, per
//! command, the number of the run that succeeded; the value an execution returns names its run,
//! so every delivery's answer can be traced back to the one execution that produced it.
//!
//! # Waiting
//!
//! tokio's timer counts whole milliseconds, so `tokio::time::sleep` for 50 µs would take about
//! a millisecond and make every short handler twenty times slower than asked. Below one
//! millisecond the handler therefore spins instead, but cooperatively: it yields to the
//! scheduler between looks at the clock, so the other workers on the same runtime thread keep
//! taking deliveries and duplicates meet the command while it runs, as they would meet a
//! handler blocked on I/O. From one millisecond up it sleeps on the timer. Either way it takes
//! at least the time asked (more when the runtime is busy).
//!
//! # Injected failures
//!
//! Whether an execution fails is drawn from (seed, command, attempt) by a keyed hash, not from a
//! shared random stream, so the same seed fails the same attempts of the same commands
//! whatever order the workers happen to run them in.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// What a successful execution returns: which run of which command produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunValue {
    /// The command's dense number.
    pub id: u32,
    /// The execution's number, unique across the replay.
    pub run: u64,
}

/// An injected failure; its text is what the store records and replays to duplicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("injected failure of command #{id}, attempt {attempt}, run {run}")]
pub struct InjectedFailure {
    /// The command's dense number.
    pub id: u32,
    /// Which execution of this command failed (0 for the first).
    pub attempt: u32,
    /// The execution's number, unique across the replay.
    pub run: u64,
}

/// Below this, the timer is too coarse to wait on (see the module docs).
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// The simulated handler shared by every worker.
pub struct Handler {
    /// Executions per command: the side effects, counted apart from the store.
    ledger: Vec<AtomicU32>,
    /// Per command, 1 + the number of its successful run; 0 while it has none.
    succeeded: Vec<AtomicU64>,
    /// Hands out run numbers, so each execution's value is unique.
    runs: AtomicU64,
    /// How long one execution takes.
    work: Duration,
    /// Which executions fail.
    failures: FailureDraw,
}

impl Handler {
    /// A handler for `ids` commands, taking `work` per execution.
    pub fn new(ids: usize, work: Duration, failures: FailureDraw) -> Handler {
        Handler {
            ledger: (0..ids).map(|_| AtomicU32::new(0)).collect(),
            succeeded: (0..ids).map(|_| AtomicU64::new(0)).collect(),
            runs: AtomicU64::new(0),
            work,
            failures,
        }
    }

    /// Executes command `id` once: records the side effect, works, then succeeds or fails.
    pub async fn execute(&self, id: u32) -> Result<RunValue, InjectedFailure> {
        // Relaxed: the counters are read only after every worker has been joined, and the
        // join orders them before the read.
        let attempt = self.ledger[id as usize].fetch_add(1, Ordering::Relaxed);
        let run = self.runs.fetch_add(1, Ordering::Relaxed);

        self.work().await;

        if self.failures.fails(id, attempt) {
            return Err(InjectedFailure { id, attempt, run });
        }
        self.succeeded[id as usize].store(run + 1, Ordering::Relaxed);
        Ok(RunValue { id, run })
    }

    async fn work(&self) {
        if self.work.is_zero() {
            return;
        }
        if self.work >= TIMER_RESOLUTION {
            tokio::time::sleep(self.work).await;
            return;
        }
        let until = Instant::now() + self.work;
        while Instant::now() < until {
            tokio::task::yield_now().await;
        }
    }

    /// Executions of command `id` so far.
    pub fn executions(&self, id: u32) -> u32 {
        self.ledger[id as usize].load(Ordering::Relaxed)
    }

    /// The run that succeeded for command `id`, if one did.
    pub fn successful_run(&self, id: u32) -> Option<u64> {
        self.succeeded[id as usize]
            .load(Ordering::Relaxed)
            .checked_sub(1)
    }

    /// Executions of every command so far.
    pub fn total_executions(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// The failure draw this handler uses.
    pub fn failures(&self) -> &FailureDraw {
        &self.failures
    }
}

/// Decides which executions fail: a share `rate` of (command, attempt) pairs, chosen by `seed`.
#[derive(Clone, Copy, Debug)]
pub struct FailureDraw {
    rate: f64,
    seed: u64,
}

impl FailureDraw {
    /// Fails a share `rate` (in `[0, 1]`) of executions, chosen by `seed`.
    pub fn new(rate: f64, seed: u64) -> FailureDraw {
        FailureDraw { rate, seed }
    }

    /// True if attempt `attempt` of command `id` fails.
    pub fn fails(&self, id: u32, attempt: u32) -> bool {
        if self.rate <= 0.0 {
            return false;
        }
        let mut key = [0_u8; 8];
        key[..4].copy_from_slice(&id.to_le_bytes());
        key[4..].copy_from_slice(&attempt.to_le_bytes());
        let hash = xxhash_rust::xxh3::xxh3_64_with_seed(&key, self.seed);
        unit_interval(hash) < self.rate
    }
}

/// The top 53 bits of `hash` as a number in `[0, 1)`, evenly spread.
fn unit_interval(hash: u64) -> f64 {
    (hash >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_draws_depend_only_on_seed_command_and_attempt() {
        let (draw, again) = (FailureDraw::new(0.5, 9), FailureDraw::new(0.5, 9));

        let first: Vec<bool> = (0..64).map(|id| draw.fails(id, 0)).collect();
        let second: Vec<bool> = (0..64).rev().map(|id| again.fails(id, 0)).rev().collect();

        assert_eq!(first, second);
    }

    #[test]
    fn the_failure_share_follows_the_rate() {
        let draw = FailureDraw::new(0.1, 3);

        let failed = (0..100_000).filter(|&id| draw.fails(id, 0)).count();

        assert!(
            (9_000..11_000).contains(&failed),
            "{failed} of 100000 failed"
        );
    }

    #[test]
    fn rates_zero_and_one_never_and_always_fail() {
        let (never, always) = (FailureDraw::new(0.0, 1), FailureDraw::new(1.0, 1));

        assert!((0..1000).all(|id| !never.fails(id, 0) && always.fails(id, 0)));
    }

    #[tokio::test]
    async fn each_execution_is_one_side_effect_and_a_unique_run() {
        let handler = Handler::new(2, Duration::ZERO, FailureDraw::new(0.0, 0));

        let first = handler.execute(1).await.unwrap();
        let second = handler.execute(1).await.unwrap();

        assert_eq!((handler.executions(0), handler.executions(1)), (0, 2));
        assert_ne!(first.run, second.run);
        assert_eq!(handler.successful_run(1), Some(second.run));
    }
}
