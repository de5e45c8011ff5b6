//! How fast one completion releases a crowd: 4,096 duplicates wait on one running command, the
//! owner completes it, and the time is taken from the owner's command returning until the last
//! duplicate has its value back in hand.
//!
//! # Contenders
//!
//! - `executor`: 4,096 [`Executor::execute`] callers of one id on a [`MemoryStore`]. Their path
//!   after the wake is the whole of a duplicate's: leave the store's `wait`, acquire again, read
//!   the result, downcast it. The store is wrapped in the tests' counting store (one more
//!   forwarding call per store call) so that a round completes only once every duplicate is
//!   waiting.
//! - `tokio-notify`: 4,096 tasks parked on one `tokio::sync::Notify` and released by
//!   `notify_waiters`, the primitive the store's waiter registry is built on. The floor: what
//!   waking that many tasks costs on this machine with nothing else to do.
//!
//! Every round checks that each duplicate resumed after the command returned (none was woken
//! early), was served as a waiter, and holds the owner's very `Arc`.
//!
//! # Running
//!
//! `cargo bench --bench waiters` (about 10 s after the build). `IDEMSTORE_BENCH_ROUNDS` sets
//! the number of rounds (default 50). The runtime has two worker threads.

#[path = "../tests/execute_support/mod.rs"]
mod execute_support;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use execute_support::{Gate, Observed};
use futures::future::join_all;
use idemstore::{ExecuteOptions, Executor, Served};
use tokio::sync::{Notify, watch};

const WAITERS: usize = 4_096;

fn main() {
    let rounds = std::env::var("IDEMSTORE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50_usize);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    println!("cargo bench --bench waiters   ({rounds} rounds, {WAITERS} waiters, 2 workers)");
    let executor = runtime.block_on(measure(rounds, executor_round));
    let notify = runtime.block_on(measure(rounds, notify_round));

    println!();
    println!("time from completion until the last waiter resumes");
    println!(
        "{:<14} {:>10} {:>10} {:>10}",
        "contender", "p50", "p99", "max"
    );
    for (name, samples) in [("executor", &executor), ("tokio-notify", &notify)] {
        let (p50, p99, max) = (pct(samples, 50.0), pct(samples, 99.0), pct(samples, 100.0));
        println!("{name:<14} {:>10.3?} {:>10.3?} {:>10.3?}", p50, p99, max);
    }
    let ratio = |p| pct(&executor, p).as_secs_f64() / pct(&notify, p).as_secs_f64();
    println!(
        "executor / tokio-notify: p50 {:.2}x, p99 {:.2}x",
        ratio(50.0),
        ratio(99.0)
    );
    println!(
        "no waiter resumed before completion in any round ({} waiters checked)",
        rounds * WAITERS
    );
}

/// Runs `round` `rounds` times (after one warm-up) and returns the sorted latencies.
async fn measure<F, Fut>(rounds: usize, round: F) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Duration>,
{
    round().await;
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        samples.push(round().await);
    }
    samples.sort();
    samples
}

/// One completion, 4,096 executor waiters: the last one's resume time after the completion.
async fn executor_round() -> Duration {
    let store = Observed::memory();
    let options = ExecuteOptions {
        wait_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let executor = Arc::new(Executor::with_options(store.clone(), options));
    let (started, release) = (Gate::new(), Gate::new());
    let completed_at = Arc::new(OnceLock::new());

    let owner = tokio::spawn({
        let (executor, started, release, completed_at) = (
            executor.clone(),
            started.clone(),
            release.clone(),
            completed_at.clone(),
        );
        async move {
            let op = |_| async move {
                started.open();
                release.passed().await;
                completed_at
                    .set(Instant::now())
                    .expect("the command returns once");
                Ok::<_, String>(vec![0_u8; 64])
            };
            executor.execute("batch-settle", op).await
        }
    });
    started.passed().await;
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let executor = executor.clone();
            tokio::spawn(async move {
                let op = |_| async { Err::<Vec<u8>, String>("a duplicate ran".to_owned()) };
                let outcome = executor.execute("batch-settle", op).await;
                (Instant::now(), outcome)
            })
        })
        .collect();
    store.waiting(WAITERS).await;

    release.open();
    let owned = owner.await.expect("owner task").expect("owner completes");
    let resumed = join_all(waiters).await;

    let completed_at = *completed_at.get().expect("the command returned");
    let mut last = Duration::ZERO;
    for joined in resumed {
        let (at, outcome) = joined.expect("waiter task");
        let executed = outcome.expect("a waiter gets the value");
        assert!(at >= completed_at, "a waiter resumed before the completion");
        assert_eq!(executed.served, Served::Waited, "every duplicate waited");
        assert!(
            Arc::ptr_eq(&executed.value, &owned.value),
            "waiters share the owner's value"
        );
        last = last.max(at - completed_at);
    }
    last
}

/// The floor: 4,096 tasks parked on one `Notify`, released by one `notify_waiters`.
async fn notify_round() -> Duration {
    let notify = Arc::new(Notify::new());
    let (parked, mut parked_count) = watch::channel(0_usize);
    let parked = Arc::new(parked);
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (notify, parked) = (notify.clone(), parked.clone());
            tokio::spawn(async move {
                let notified = notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                parked.send_modify(|n| *n += 1);
                notified.await;
                Instant::now()
            })
        })
        .collect();
    parked_count
        .wait_for(|&n| n >= WAITERS)
        .await
        .expect("the sender is held");

    let released_at = Instant::now();
    notify.notify_waiters();
    let resumed = join_all(waiters).await;

    let mut last = Duration::ZERO;
    for at in resumed {
        let at = at.expect("waiter task");
        assert!(at >= released_at, "a task resumed before the notification");
        last = last.max(at - released_at);
    }
    last
}

/// The `p`th percentile of sorted samples (nearest rank).
fn pct(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
