//! The executor runs a command once across concurrent callers, and every caller learns the one
//! outcome: a value, a failure, a panic, or a deadline that passed while waiting.

mod execute_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use execute_support::{Gate, Observed};
use futures::future::join_all;
use idemstore::{
    CallOptions, ClaimOutcome, CommandStatus, ExecuteError, ExecuteOptions, Executed, Executor,
    FailurePolicy, IdempotencyStore, MemoryStore, Served,
};

type Outcome = Result<Executed<String>, ExecuteError<String>>;

/// `callers` tasks call `execute` on one id at once with a 20 ms command; returns their
/// outcomes and how many times the command ran.
async fn concurrent_callers(callers: usize) -> (Vec<Outcome>, usize) {
    let executor = Arc::new(Executor::new(Arc::new(MemoryStore::new())));
    let runs = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(callers));

    let tasks = (0..callers).map(|_| {
        let (executor, runs, start) = (executor.clone(), runs.clone(), start.clone());
        tokio::spawn(async move {
            start.wait().await;
            executor
                .execute("charge-1", |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, String>("receipt-1".to_owned())
                })
                .await
        })
    });
    let outcomes = join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.unwrap())
        .collect();

    (outcomes, runs.load(Ordering::SeqCst))
}

/// Asserts one run, and that every caller holds that run's very value.
fn assert_one_shared_run(outcomes: Vec<Outcome>, runs: usize) {
    assert_eq!(runs, 1);
    let executed: Vec<Executed<String>> = outcomes.into_iter().map(Result::unwrap).collect();
    let ran = executed.iter().filter(|e| e.served == Served::Ran).count();
    assert_eq!(ran, 1, "exactly one caller reports running the command");
    let first = &executed[0].value;
    assert_eq!(**first, "receipt-1");
    assert!(executed.iter().all(|e| Arc::ptr_eq(&e.value, first)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_callers_run_the_command_once_and_share_its_value() {
    let (outcomes, runs) = concurrent_callers(16).await;

    assert_one_shared_run(outcomes, runs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_run_the_command_once_and_share_its_value() {
    let (outcomes, runs) = concurrent_callers(1_000).await;

    assert_one_shared_run(outcomes, runs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_command_is_answered_from_the_store_without_running() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    let first = executor
        .execute("ship-3", |_| async { Ok::<_, String>(3_u32) })
        .await
        .unwrap();

    let again = executor
        .execute("ship-3", |_| async {
            Err::<u32, _>("ran twice".to_owned())
        })
        .await
        .unwrap();

    assert_eq!(again.served, Served::Cached);
    assert!(Arc::ptr_eq(&first.value, &again.value));
}

/// Eleven identical callers; whichever claims the id holds its run until the other ten wait,
/// then fails after 20 ms.
async fn ten_wait_on_a_failing_owner(policy: FailurePolicy) -> (Vec<Outcome>, usize) {
    let store = Observed::memory();
    let executor = Arc::new(Executor::new(store.clone()));
    let runs = Arc::new(AtomicUsize::new(0));

    let tasks = (0..11).map(|_| {
        let (executor, store, runs) = (executor.clone(), store.clone(), runs.clone());
        tokio::spawn(async move {
            let call = CallOptions {
                failure_policy: Some(policy),
            };
            let op = |_| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                store.waiting(10).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err::<String, _>("card declined".to_owned())
            };
            executor.execute_with("charge-2", None, call, op).await
        })
    });
    let outcomes = join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.unwrap())
        .collect();

    (outcomes, runs.load(Ordering::SeqCst))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_on_an_owner_that_fails_all_learn_its_failure() {
    let (outcomes, runs) = ten_wait_on_a_failing_owner(FailurePolicy::Retryable).await;

    assert_eq!(runs, 1);
    let own = outcomes
        .iter()
        .filter(|o| matches!(o, Err(ExecuteError::Failed(e)) if e == "card declined"));
    assert_eq!(own.count(), 1, "the owner gets its own error back");
    let elsewhere = outcomes.iter().filter(
        |o| matches!(o, Err(ExecuteError::FailedElsewhere(f)) if &*f.message == "card declined"),
    );
    assert_eq!(
        elsewhere.count(),
        10,
        "every waiter learns the failure: {outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_after_a_retryable_failure_runs_the_command_again() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    let failed = executor
        .execute("charge-3", |_| async {
            Err::<u32, _>("timeout upstream".to_owned())
        })
        .await;

    let again = executor
        .execute("charge-3", |_| async { Ok::<_, String>(3_u32) })
        .await
        .unwrap();

    assert!(matches!(failed, Err(ExecuteError::Failed(_))));
    assert_eq!((*again.value, again.served), (3, Served::Ran));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_failure_is_replayed_without_running() {
    let options = ExecuteOptions {
        failure_policy: FailurePolicy::Terminal,
        ..Default::default()
    };
    let executor = Executor::with_options(Arc::new(MemoryStore::new()), options);
    let _ = executor
        .execute("charge-4", |_| async {
            Err::<u32, _>("card stolen".to_owned())
        })
        .await;

    let again = executor
        .execute("charge-4", |_| async { Ok::<_, String>(4_u32) })
        .await;

    assert!(
        matches!(&again, Err(ExecuteError::FailedElsewhere(f))
            if &*f.message == "card stolen" && f.policy == FailurePolicy::Terminal),
        "{again:?}"
    );
}

/// A command that panics.
fn corrupt_ledger() -> Result<u32, String> {
    panic!("ledger corrupt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_resumes_in_the_owner_and_fails_the_command_for_its_waiters() {
    let store = Observed::memory();
    let executor = Arc::new(Executor::new(store.clone()));

    let tasks = (0..6).map(|_| {
        let (executor, store) = (executor.clone(), store.clone());
        tokio::spawn(async move {
            let op = |_| async move {
                store.waiting(5).await;
                corrupt_ledger()
            };
            executor.execute("charge-5", op).await
        })
    });
    let (panicked, answered): (Vec<_>, Vec<_>) =
        join_all(tasks).await.into_iter().partition(Result::is_err);

    let [owner] = <[_; 1]>::try_from(panicked).expect("one caller ran the command and panicked");
    let payload = owner.unwrap_err().into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"ledger corrupt"));
    let told = answered.into_iter().map(Result::unwrap).filter(|o| {
        let expected = "panicked: ledger corrupt";
        matches!(o, Err(ExecuteError::FailedElsewhere(f)) if &*f.message == expected)
    });
    assert_eq!(told.count(), 5);
    assert_eq!(
        store.status("charge-5").await.unwrap(),
        CommandStatus::Failed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_duplicate_that_errors_leaves_the_owners_claim_untouched() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    let owner = Executor::new(store.clone());
    let impatient = ExecuteOptions {
        wait_timeout: Duration::from_millis(50),
        ..Default::default()
    };
    let duplicate = Executor::with_options(store.clone(), impatient);
    let (gate, started) = (Gate::new(), Gate::new());
    let a = {
        let (gate, started) = (gate.clone(), started.clone());
        tokio::spawn(async move {
            owner
                .execute("order-5", |_| async move {
                    started.open();
                    gate.passed().await;
                    Ok::<_, String>("A's result".to_owned())
                })
                .await
        })
    };
    started.passed().await;

    let b = duplicate
        .execute("order-5", |_| async {
            Err::<String, _>("B must not run".to_owned())
        })
        .await;
    let c = store.claim("order-5").await.unwrap();

    assert!(matches!(b, Err(ExecuteError::Timeout)), "{b:?}");
    assert_eq!(c, ClaimOutcome::Existing(CommandStatus::InProgress));
    gate.open();
    let a = a.await.unwrap().unwrap();
    assert_eq!((a.value.as_str(), a.served), ("A's result", Served::Ran));
    let stored = store.result("order-5").await.unwrap().unwrap();
    assert_eq!(*stored.downcast::<String>().unwrap(), "A's result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_past_its_deadline_gets_a_typed_timeout() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    let ClaimOutcome::Acquired(_never_finished) = store.claim("stuck-1").await.unwrap() else {
        panic!("a fresh id is claimed");
    };
    let options = ExecuteOptions {
        wait_timeout: Duration::from_millis(100),
        ..Default::default()
    };
    let waiter = Executor::with_options(store.clone(), options);

    let started = Instant::now();
    let outcome = waiter
        .execute("stuck-1", |_| async { Ok::<_, String>(1_u32) })
        .await;
    let waited = started.elapsed();

    assert!(matches!(outcome, Err(ExecuteError::Timeout)), "{outcome:?}");
    assert!(
        waited >= Duration::from_millis(90) && waited <= Duration::from_secs(2),
        "waited {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_result_of_another_type_is_a_result_type_error() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));
    executor
        .execute("typed-1", |_| async { Ok::<_, String>(1_u32) })
        .await
        .unwrap();

    let read_as_string = executor
        .execute("typed-1", |_| async { Ok::<_, String>("one".to_owned()) })
        .await;

    assert!(
        matches!(read_as_string, Err(ExecuteError::ResultType)),
        "{read_as_string:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_id_is_a_typed_store_error_and_runs_nothing() {
    let executor = Executor::new(Arc::new(MemoryStore::new()));

    let outcome = executor
        .execute("", |_| async { Ok::<_, String>(1_u32) })
        .await;

    assert!(
        matches!(
            outcome,
            Err(ExecuteError::Store(idemstore::StoreError::EmptyId))
        ),
        "{outcome:?}"
    );
}
