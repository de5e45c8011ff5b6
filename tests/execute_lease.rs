//! Leases: an owner that hangs loses its claim to the next caller and cannot complete over it;
//! a live owner keeps its claim by renewing it, and learns at once when it has lost it.
//!
//! The stores here run on a `ManualClock`, so a lease lapses exactly when a test moves the
//! clock, never because the machine was slow.

mod execute_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use execute_support::{Gate, Observed};
use idemstore::{
    Acquire, CleanerOptions, CommandResult, CommandStatus, ExecuteError, ExecuteOptions, Executor,
    IdempotencyStore, ManualClock, MemoryStore, Served,
};

const LEASE: Duration = Duration::from_millis(50);

fn store_on(clock: &ManualClock) -> Arc<dyn IdempotencyStore> {
    Arc::new(
        MemoryStore::builder()
            .clock(Arc::new(clock.clone()))
            .build(),
    )
}

/// Claims `id` by hand with a 50 ms lease that nobody renews: an owner that hangs.
async fn hung_owner(store: &dyn IdempotencyStore, id: &str) -> idemstore::ClaimTicket {
    match store.acquire(id, None, Some(LEASE)).await.unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("a fresh id is claimed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_caller_takes_over_once_a_hung_owners_lease_lapses() {
    let clock = ManualClock::new();
    let store = store_on(&clock);
    let _hung = hung_owner(&*store, "export-1").await;
    let executor = Executor::new(store.clone());

    clock.advance(LEASE + Duration::from_millis(10));
    let next = executor
        .execute("export-1", |_| async {
            Ok::<_, String>("new owner's".to_owned())
        })
        .await
        .unwrap();

    assert_eq!(
        (next.value.as_str(), next.served),
        ("new owner's", Served::Ran)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_owners_late_complete_is_rejected_after_a_takeover() {
    let clock = ManualClock::new();
    let store = store_on(&clock);
    let hung = hung_owner(&*store, "export-2").await;
    let executor = Executor::new(store.clone());
    clock.advance(LEASE + Duration::from_millis(10));
    executor
        .execute("export-2", |_| async {
            Ok::<_, String>("new owner's".to_owned())
        })
        .await
        .unwrap();

    let late = store
        .complete(
            "export-2",
            hung,
            CommandResult::new("hung owner's".to_owned()),
        )
        .await
        .unwrap();

    assert!(!late, "a fenced owner's complete is refused");
    let kept = store.result("export-2").await.unwrap().unwrap();
    assert_eq!(*kept.downcast::<String>().unwrap(), "new owner's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_takes_over_when_the_owners_lease_lapses() {
    let clock = ManualClock::new();
    let cleaner = CleanerOptions {
        expiry_interval: Duration::from_millis(5),
        ..Default::default()
    };
    let memory = MemoryStore::builder()
        .clock(Arc::new(clock.clone()))
        .build_with_cleaner(cleaner);
    let store = Observed::over(memory);
    let _hung = hung_owner(&*store, "export-3").await;
    let executor = Arc::new(Executor::new(store.clone()));
    let waiter = tokio::spawn({
        let executor = executor.clone();
        async move {
            executor
                .execute("export-3", |_| async { Ok::<_, String>(3_u32) })
                .await
        }
    });
    store.waiting(1).await;

    clock.advance(LEASE + Duration::from_millis(10));
    let took_over = tokio::time::timeout(Duration::from_secs(10), waiter).await;

    let took_over = took_over
        .expect("the lapse wakes the waiter")
        .unwrap()
        .unwrap();
    assert_eq!((*took_over.value, took_over.served), (3, Served::Ran));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_keep_a_running_owners_claim_past_its_lease() {
    let clock = ManualClock::new();
    let store = Observed::over(store_on(&clock));
    let options = ExecuteOptions {
        lease: Some(LEASE),
        ..Default::default()
    };
    let executor = Arc::new(Executor::with_options(store.clone(), options));
    let gate = Gate::new();
    let owner = tokio::spawn({
        let (executor, gate) = (executor.clone(), gate.clone());
        async move {
            executor
                .execute("report-1", |_| async move {
                    gate.passed().await;
                    Ok::<_, String>(1_u32)
                })
                .await
        }
    });

    // Six leases' worth of time passes, in 30 ms steps with a renewal between each two. One
    // renewal at most is in flight at a time, so the second to return after a step began
    // after it, and was applied at the clock the step set.
    for _ in 0..10 {
        let seen = store.renewals();
        store.renewed(seen + 2).await;
        clock.advance(Duration::from_millis(30));
    }
    let duplicate = store.acquire("report-1", None, None).await.unwrap();
    gate.open();
    let owned = owner.await.unwrap().unwrap();

    assert!(matches!(duplicate, Acquire::Running), "{duplicate:?}");
    assert_eq!((*owned.value, owned.served), (1, Served::Ran));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_cancels_the_commands_token_and_is_not_completed() {
    let clock = ManualClock::new();
    let store = Observed::over(store_on(&clock));
    let options = ExecuteOptions {
        lease: Some(LEASE),
        ..Default::default()
    };
    let executor = Arc::new(Executor::with_options(store.clone(), options));
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let owner = tokio::spawn({
        let (executor, saw_cancel) = (executor.clone(), saw_cancel.clone());
        async move {
            executor
                .execute("report-2", |token| async move {
                    token.cancelled().await;
                    saw_cancel.store(true, Ordering::SeqCst);
                    Ok::<_, String>(2_u32)
                })
                .await
        }
    });
    store.renewed(1).await;

    clock.advance(LEASE * 2);
    let outcome = owner.await.unwrap();

    assert!(
        matches!(outcome, Err(ExecuteError::OwnershipLost)),
        "{outcome:?}"
    );
    assert!(saw_cancel.load(Ordering::SeqCst));
    assert_eq!(
        store.status("report-2").await.unwrap(),
        CommandStatus::NotFound
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_whose_deadline_finds_the_lease_lapsed_takes_over_instead_of_timing_out() {
    let clock = ManualClock::new();
    let store = Observed::over(store_on(&clock));
    let _hung = hung_owner(&*store, "export-4").await;
    let options = ExecuteOptions {
        wait_timeout: Duration::from_millis(100),
        ..Default::default()
    };
    let executor = Arc::new(Executor::with_options(store.clone(), options));
    let waiter = tokio::spawn({
        let executor = executor.clone();
        async move {
            executor
                .execute("export-4", |_| async { Ok::<_, String>(4_u32) })
                .await
        }
    });
    store.waiting(1).await;

    // No cleaner runs, so nothing wakes the waiter at the lapse; its deadline does.
    clock.advance(LEASE + Duration::from_millis(10));
    let outcome = waiter.await.unwrap();

    let took_over = outcome.unwrap();
    assert_eq!((*took_over.value, took_over.served), (4, Served::Ran));
}
