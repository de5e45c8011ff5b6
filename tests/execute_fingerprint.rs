//! Fingerprints: once an id has run with one payload, a different payload under the same id is
//! a conflict on every path, whether it is executed, acquired directly, waited on or batched.

mod execute_support;

use std::sync::Arc;

use execute_support::{Gate, Observed};
use idemstore::{
    Acquire, BatchItem, CallOptions, ExecuteError, Executed, Executor, Fingerprint,
    IdempotencyStore, Served,
};

fn f1() -> Option<Fingerprint> {
    Some(Fingerprint::of(b"transfer 100 EUR to A"))
}

fn f2() -> Option<Fingerprint> {
    Some(Fingerprint::of(b"transfer 900 EUR to B"))
}

/// An executor whose store has `id` completed under `f1`.
async fn completed_under_f1(id: &str) -> (Executor, Arc<Observed>) {
    let store = Observed::memory();
    let executor = Executor::new(store.clone());
    executor
        .execute_with(id, f1(), CallOptions::default(), |_| async {
            Ok::<_, String>(100_u32)
        })
        .await
        .unwrap();
    (executor, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_payload_executed_under_a_completed_id_conflicts() {
    let (executor, _) = completed_under_f1("transfer-1").await;

    let outcome = executor
        .execute_with("transfer-1", f2(), CallOptions::default(), |_| async {
            Ok::<_, String>(900_u32)
        })
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Conflict)),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_payload_acquired_directly_under_a_completed_id_conflicts() {
    let (_, store) = completed_under_f1("transfer-2").await;

    let outcome = store.acquire("transfer-2", f2(), None).await.unwrap();

    assert!(matches!(outcome, Acquire::Conflict), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_payload_batched_under_a_completed_id_conflicts() {
    let (executor, _) = completed_under_f1("transfer-3").await;
    let item = BatchItem {
        fingerprint: f2(),
        ..BatchItem::new("transfer-3", |_| async { Ok::<_, String>(900_u32) })
    };

    let answers = executor.execute_batch_with([item]).await;

    assert!(
        matches!(answers[0].1, Err(ExecuteError::Conflict)),
        "{:?}",
        answers[0].1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_payload_batched_under_a_completed_id_gets_the_stored_value() {
    let (executor, _) = completed_under_f1("transfer-4").await;
    let item = BatchItem {
        fingerprint: f1(),
        ..BatchItem::new("transfer-4", |_| async { Ok::<_, String>(0_u32) })
    };

    let answers = executor.execute_batch_with([item]).await;

    let executed: &Executed<u32> = answers[0].1.as_ref().unwrap();
    assert_eq!((*executed.value, executed.served), (100, Served::Cached));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_payload_arriving_while_the_first_runs_conflicts_without_waiting() {
    let store = Observed::memory();
    let executor = Arc::new(Executor::new(store.clone()));
    let (started, gate) = (Gate::new(), Gate::new());
    let owner = tokio::spawn({
        let (executor, started, gate) = (executor.clone(), started.clone(), gate.clone());
        async move {
            let op = |_| async move {
                started.open();
                gate.passed().await;
                Ok::<_, String>(100_u32)
            };
            executor
                .execute_with("transfer-5", f1(), CallOptions::default(), op)
                .await
        }
    });
    started.passed().await;

    let outcome = executor
        .execute_with("transfer-5", f2(), CallOptions::default(), |_| async {
            Ok::<_, String>(900_u32)
        })
        .await;

    assert!(
        matches!(outcome, Err(ExecuteError::Conflict)),
        "{outcome:?}"
    );
    assert_eq!(store.waits(), 0);
    gate.open();
    assert_eq!(*owner.await.unwrap().unwrap().value, 100);
}
