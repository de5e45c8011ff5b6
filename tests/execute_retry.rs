//! Retrying: attempts spaced `base × 2^(n−1) × U[0.8, 1.2]` apart, only after outcomes another
//! attempt may cure, and stopped at once when the caller drops the call.
//!
//! These run on tokio's paused clock: a sleep completes the moment every task is idle, having
//! advanced the clock by exactly its length, so measured gaps are the delays themselves.

mod execute_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use execute_support::{Gate, Observed};
use idemstore::{
    Backoff, CallOptions, ClaimOutcome, ExecuteError, ExecuteOptions, Executor, FailurePolicy,
    Fingerprint, IdempotencyStore, Served, StoreError,
};
use tokio::time::Instant;

const BASE: Duration = Duration::from_millis(100);

/// A command that fails its first `failures` calls and then returns 42, noting when each call
/// came.
fn flaky(
    failures: usize,
    calls: &Arc<Mutex<Vec<Instant>>>,
) -> impl FnMut(tokio_util::sync::CancellationToken) -> futures::future::Ready<Result<u32, String>>
+ Send
+ use<> {
    let calls = calls.clone();
    move |_| {
        let mut calls = calls.lock().unwrap();
        calls.push(Instant::now());
        let outcome = if calls.len() <= failures {
            Err("busy".to_owned())
        } else {
            Ok(42)
        };
        futures::future::ready(outcome)
    }
}

fn gaps(calls: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    let calls = calls.lock().unwrap();
    calls.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn retry_delays_double_from_the_base_within_the_jitter_bounds() {
    let executor = Executor::new(Observed::memory());
    let calls = Arc::new(Mutex::new(Vec::new()));

    let outcome = executor
        .execute_with_retry("sync-1", 3, BASE, flaky(usize::MAX, &calls))
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Failed(ref e)) if e == "busy"),
        "{outcome:?}"
    );
    let gaps = gaps(&calls);
    assert_eq!(gaps.len(), 3, "three retries after the first attempt");
    for (retry, gap) in (1..).zip(gaps) {
        let nominal = BASE * 2u32.pow(retry - 1);
        // The timer rounds a deadline up to the next millisecond.
        let (low, high) = (
            nominal.mul_f64(0.8),
            nominal.mul_f64(1.2) + Duration::from_millis(1),
        );
        assert!(
            low <= gap && gap <= high,
            "retry {retry}: {gap:?} outside {low:?}..={high:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_command_that_recovers_within_its_retries_succeeds() {
    let executor = Executor::new(Observed::memory());
    let calls = Arc::new(Mutex::new(Vec::new()));

    let outcome = executor
        .execute_with_retry("sync-2", 3, BASE, flaky(2, &calls))
        .await
        .unwrap();

    assert_eq!((*outcome.value, outcome.served), (42, Served::Ran));
    assert_eq!(calls.lock().unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_terminal_failure_is_not_retried() {
    let executor = Executor::new(Observed::memory());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let call = CallOptions {
        failure_policy: Some(FailurePolicy::Terminal),
    };
    let backoff = Backoff {
        max_retries: 3,
        base_delay: BASE,
    };

    let outcome = executor
        .execute_with_backoff("sync-3", None, call, backoff, flaky(usize::MAX, &calls))
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Failed(_))),
        "{outcome:?}"
    );
    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_fingerprint_conflict_is_not_retried() {
    let store = Observed::memory();
    let executor = Executor::new(store.clone());
    let first = Some(Fingerprint::of(b"order 17, 3 items"));
    executor
        .execute_with("sync-4", first, CallOptions::default(), |_| async {
            Ok::<_, String>(1_u32)
        })
        .await
        .unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let other = Some(Fingerprint::of(b"order 17, 4 items"));

    let outcome = executor
        .execute_with_backoff(
            "sync-4",
            other,
            CallOptions::default(),
            Backoff::default(),
            flaky(0, &calls),
        )
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Conflict)),
        "{outcome:?}"
    );
    assert_eq!(
        store.acquires(),
        2,
        "one acquire for the first call, one for the conflict"
    );
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_bad_id_is_not_retried() {
    let store = Observed::memory();
    let executor = Executor::new(store.clone());
    let calls = Arc::new(Mutex::new(Vec::new()));

    let outcome = executor
        .execute_with_retry("", 3, BASE, flaky(0, &calls))
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Store(StoreError::EmptyId))),
        "{outcome:?}"
    );
    assert_eq!(store.acquires(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_timed_out_is_retried() {
    let store = Observed::memory();
    let ClaimOutcome::Acquired(_never_finished) = store.claim("sync-5").await.unwrap() else {
        panic!("a fresh id is claimed");
    };
    let options = ExecuteOptions {
        wait_timeout: Duration::from_millis(50),
        ..Default::default()
    };
    let executor = Executor::with_options(store.clone(), options);
    let calls = Arc::new(Mutex::new(Vec::new()));

    let outcome = executor
        .execute_with_retry("sync-5", 2, BASE, flaky(0, &calls))
        .await;

    assert!(matches!(outcome, Err(ExecuteError::Timeout)), "{outcome:?}");
    assert_eq!(
        store.waits(),
        3,
        "the first attempt and two retries each waited"
    );
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_retrying_call_stops_its_attempts_at_once() {
    let executor = Arc::new(Executor::new(Observed::memory()));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let first_attempt = Gate::new();
    let retrying = tokio::spawn({
        let (executor, first_attempt) = (executor.clone(), first_attempt.clone());
        let mut flaky = flaky(usize::MAX, &calls);
        async move {
            let op = move |token| {
                first_attempt.open();
                flaky(token)
            };
            executor.execute_with_retry("sync-6", 10, BASE, op).await
        }
    });
    first_attempt.passed().await;

    retrying.abort();
    assert!(retrying.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_secs(3_600)).await;

    assert_eq!(calls.lock().unwrap().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_delays_are_jittered_so_callers_that_failed_together_spread_out() {
    let executor = Executor::new(Observed::memory());
    let mut first_gaps = Vec::new();

    for caller in 0..20 {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let id = format!("sync-7-{caller}");
        let _ = executor
            .execute_with_retry(&id, 1, BASE, flaky(usize::MAX, &calls))
            .await;
        first_gaps.extend(gaps(&calls));
    }

    let (low, high) = (
        BASE.mul_f64(0.8),
        BASE.mul_f64(1.2) + Duration::from_millis(1),
    );
    assert!(
        first_gaps.iter().all(|gap| low <= *gap && *gap <= high),
        "{first_gaps:?}"
    );
    first_gaps.sort();
    first_gaps.dedup();
    assert!(
        first_gaps.len() > 1,
        "twenty delays were all {first_gaps:?}"
    );
}
