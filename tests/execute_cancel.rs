//! Cancellation: an owner whose future is dropped mid-run never leaves its claim InProgress.
//! The claim is released or marked Indeterminate, as the executor's policy says, and every
//! waiter is woken to learn so.

mod execute_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use execute_support::{Gate, Observed};
use futures::future::join_all;
use idemstore::{
    CancelPolicy, CommandStatus, ExecuteError, ExecuteOptions, Executed, Executor,
    IdempotencyStore, Served,
};
use tokio::task::JoinHandle;

type Outcome = Result<Executed<u32>, ExecuteError<String>>;

fn executor(store: &Arc<Observed>, on_cancel: CancelPolicy) -> Arc<Executor> {
    let options = ExecuteOptions {
        on_cancel,
        ..Default::default()
    };
    Arc::new(Executor::with_options(store.clone(), options))
}

/// Starts an owner whose command never finishes, and returns once the command is running.
async fn start_owner(executor: &Arc<Executor>, id: &'static str) -> JoinHandle<Outcome> {
    let started = Gate::new();
    let owner = tokio::spawn({
        let (executor, started) = (executor.clone(), started.clone());
        async move {
            executor
                .execute(id, |_| async move {
                    started.open();
                    std::future::pending::<Result<u32, String>>().await
                })
                .await
        }
    });
    started.passed().await;
    owner
}

/// Starts `count` duplicates whose commands return 7, counting the ones that run.
fn start_waiters(
    executor: &Arc<Executor>,
    id: &'static str,
    count: usize,
    runs: &Arc<AtomicUsize>,
) -> Vec<JoinHandle<Outcome>> {
    (0..count)
        .map(|_| {
            let (executor, runs) = (executor.clone(), runs.clone());
            tokio::spawn(async move {
                executor
                    .execute(id, |_| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, String>(7)
                    })
                    .await
            })
        })
        .collect()
}

/// Drops the owner's future and waits for it to be gone.
async fn drop_owner(owner: JoinHandle<Outcome>) {
    owner.abort();
    assert!(owner.await.unwrap_err().is_cancelled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_owner_releases_its_claim() {
    let store = Observed::memory();
    let owner = start_owner(&executor(&store, CancelPolicy::Release), "mail-1").await;

    drop_owner(owner).await;
    let after = store.wait("mail-1", Duration::from_secs(10)).await.unwrap();

    assert_eq!(after, CommandStatus::NotStarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_owner_marks_its_claim_indeterminate_under_that_policy() {
    let store = Observed::memory();
    let owner = start_owner(&executor(&store, CancelPolicy::Indeterminate), "mail-2").await;

    drop_owner(owner).await;
    let after = store.wait("mail-2", Duration::from_secs(10)).await.unwrap();

    assert_eq!(after, CommandStatus::Indeterminate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_on_a_dropped_owner_learn_it_is_indeterminate() {
    let store = Observed::memory();
    let executor = executor(&store, CancelPolicy::Indeterminate);
    let owner = start_owner(&executor, "mail-3").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let waiters = start_waiters(&executor, "mail-3", 4, &runs);
    store.waiting(4).await;

    let started = Instant::now();
    drop_owner(owner).await;
    let outcomes = join_all(waiters).await;

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woken, not timed out"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    let indeterminate = outcomes
        .into_iter()
        .filter(|o| matches!(o, Ok(Err(ExecuteError::Indeterminate))));
    assert_eq!(indeterminate.count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_claim_is_run_by_one_of_its_waiters_for_all_of_them() {
    let store = Observed::memory();
    let executor = executor(&store, CancelPolicy::Release);
    let owner = start_owner(&executor, "mail-4").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let waiters = start_waiters(&executor, "mail-4", 4, &runs);
    store.waiting(4).await;

    drop_owner(owner).await;
    let outcomes: Vec<Executed<u32>> = join_all(waiters)
        .await
        .into_iter()
        .map(|o| o.unwrap().unwrap())
        .collect();

    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        outcomes.iter().filter(|o| o.served == Served::Ran).count(),
        1
    );
    assert!(
        outcomes
            .iter()
            .all(|o| Arc::ptr_eq(&o.value, &outcomes[0].value))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_owner_cancels_the_token_its_command_was_given() {
    let store = Observed::memory();
    let executor = executor(&store, CancelPolicy::Release);
    let (started, cancelled) = (Gate::new(), Gate::new());
    let owner = tokio::spawn({
        let (executor, started, cancelled) = (executor.clone(), started.clone(), cancelled.clone());
        async move {
            executor
                .execute("mail-5", |token| async move {
                    // Work the command hands off outlives the command's own future.
                    tokio::spawn(async move {
                        token.cancelled().await;
                        cancelled.open();
                    });
                    started.open();
                    std::future::pending::<Result<u32, String>>().await
                })
                .await
        }
    });
    started.passed().await;

    drop_owner(owner).await;

    tokio::time::timeout(Duration::from_secs(10), cancelled.passed())
        .await
        .expect("the token is cancelled when the run is dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_dropped_while_its_value_is_being_stored_still_completes() {
    let store = Observed::memory();
    let slow_backend = Gate::new();
    store.hold_completes(slow_backend.clone());
    let executor = executor(&store, CancelPolicy::Release);
    let owner = tokio::spawn({
        let executor = executor.clone();
        async move {
            executor
                .execute("mail-6", |_| async { Ok::<_, String>(6_u32) })
                .await
        }
    });
    store.completing(1).await;

    drop_owner(owner).await;
    slow_backend.open();
    let after = store.wait("mail-6", Duration::from_secs(10)).await.unwrap();

    assert_eq!(after, CommandStatus::Completed);
    let stored = store.result("mail-6").await.unwrap().unwrap();
    assert_eq!(*stored.downcast::<u32>().unwrap(), 6);
}

#[test]
fn an_owner_whose_runtime_shuts_down_mid_run_still_releases_its_claim() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(idemstore::MemoryStore::new());
    let executor = Arc::new(Executor::new(store.clone()));
    let owner_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let owner = {
        let (executor, started) = (executor.clone(), started.clone());
        owner_runtime.spawn(async move {
            executor
                .execute("shutdown", |_| async move {
                    started.notify_one();
                    std::future::pending::<Result<u32, String>>().await
                })
                .await
        })
    };
    owner_runtime.block_on(started.notified());

    drop(owner_runtime);

    let reader = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let status = reader.block_on(store.status("shutdown")).unwrap();
    assert_eq!(
        status,
        CommandStatus::NotStarted,
        "the claim was left {status}"
    );
    drop(owner);
}
