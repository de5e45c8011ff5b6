//! What every model shares: running it with a preemption bound, the stores it starts from,
//! and small readers that name what a model asserts.

use std::sync::Arc as StdArc;

use crate::{
    CommandResult, CommandStatus, Expiry, Failure, FailurePolicy, LapsePolicy, ManualClock,
    MemoryStore,
};

/// Explores every interleaving of `model` with at most `preemption_bound` preemptions.
///
/// Bugs in lock-free code almost always need only two or three preemptions to show, while the
/// number of schedules grows exponentially with the bound. In the environment,
/// `LOOM_MAX_PREEMPTIONS` overrides the bound for a deeper run, `LOOM_MAX_BRANCHES` overrides
/// [`MAX_BRANCHES`], and `LOOM_LOG` (an env-filter, e.g. `trace`) prints loom's log of each
/// execution, as `loom::model` does.
pub fn check<F>(preemption_bound: usize, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemption_bound);
    }
    if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
        builder.max_branches = MAX_BRANCHES;
    }
    let log = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
        .with_test_writer()
        .without_time()
        .finish();
    tracing::subscriber::with_default(log, || builder.check(model));
}

/// Scheduling points one execution may pass. Loom's default (1000) is too few for the models
/// that fill a table and migrate it, which take about 2000; a loop that spins without
/// yielding still exceeds this bound within a fraction of a second.
const MAX_BRANCHES: usize = 10_000;

/// Slots of the tiny store's first table.
pub const TINY_CAPACITY: usize = 16;

/// Inserts the tiny store's first table takes before the next one has to migrate it.
pub const TINY_LOAD_LIMIT: usize = 12;

/// The lease every claim in the models gets, in milliseconds of the manual clock.
pub const LEASE_MS: u64 = 60_000;

/// A store of one shard whose table has the minimum capacity ([`TINY_CAPACITY`] slots, of
/// which [`TINY_LOAD_LIMIT`] may be used before an insert migrates the shard), on a manual
/// clock that only the model moves, so every execution sees the same deadlines.
pub fn tiny_store() -> MemoryStore {
    tiny_store_on(&ManualClock::new(), LapsePolicy::TakeOver)
}

/// [`tiny_store`] on the given clock, with the given lapse policy.
pub fn tiny_store_on(clock: &ManualClock, lapse: LapsePolicy) -> MemoryStore {
    let lease = std::time::Duration::from_millis(LEASE_MS);
    MemoryStore::builder()
        .shards(1)
        .capacity(0)
        .clock(StdArc::new(clock.clone()))
        .expiry(Expiry {
            in_progress: Some(lease),
            ..Expiry::default()
        })
        .lapse_policy(lapse)
        .build()
}

/// Registers `filler-0`, `filler-1`, ... (`count` of them) in `store`.
pub fn register_fillers(store: &MemoryStore, count: usize) -> Vec<String> {
    let ids: Vec<String> = (0..count).map(|i| format!("filler-{i}")).collect();
    for id in &ids {
        assert!(store.register(id).unwrap(), "{id} was registered twice");
    }
    ids
}

/// A result the models recognise by its value.
pub fn result_of(value: u32) -> CommandResult {
    CommandResult::new(value)
}

/// The value inside a result made by [`result_of`].
pub fn value_of(result: &CommandResult) -> u32 {
    *result
        .downcast_ref::<u32>()
        .expect("every model stores u32 results")
}

/// A retryable failure.
pub fn retryable_failure() -> Failure {
    Failure::new("the command failed", FailurePolicy::Retryable)
}

/// The id's status and the value of its result, read one after the other.
pub fn status_and_result(store: &MemoryStore, id: &str) -> (CommandStatus, Option<u32>) {
    let status = store.status(id).unwrap();
    let result = store.result(id).unwrap().map(|result| value_of(&result));
    (status, result)
}
