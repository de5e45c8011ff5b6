//! Reading a failed run's failure back, which is how a caller that waited on the run learns
//! why it failed without running the command again.

use std::sync::Arc;

use idemstore::{
    ClaimOutcome, CommandStatus, Failure, FailurePolicy, Fingerprint, IdempotencyStore, MemoryStore,
};

async fn failed(store: &dyn IdempotencyStore, id: &str, fingerprint: Option<Fingerprint>) {
    let idemstore::Acquire::Acquired(ticket) = store.acquire(id, fingerprint, None).await.unwrap()
    else {
        panic!("a fresh id is claimed");
    };
    let failure = Failure::new("gateway refused", FailurePolicy::Retryable);
    assert!(store.fail(id, ticket, failure).await.unwrap());
}

#[tokio::test]
async fn a_failed_runs_failure_reads_back_with_its_message_and_policy() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    failed(&*store, "pay-1", None).await;

    let failure = store.failure("pay-1", None).await.unwrap();

    assert_eq!(
        failure,
        Some(Failure::new("gateway refused", FailurePolicy::Retryable))
    );
}

#[tokio::test]
async fn a_failure_is_not_read_under_a_conflicting_fingerprint() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    failed(&*store, "pay-2", Some(Fingerprint::of(b"a"))).await;

    let failure = store
        .failure("pay-2", Some(Fingerprint::of(b"b")))
        .await
        .unwrap();

    assert_eq!(failure, None);
}

#[tokio::test]
async fn an_id_that_is_not_failed_has_no_failure() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    failed(&*store, "pay-3", None).await;
    let ClaimOutcome::Acquired(_) = store.claim("pay-3").await.unwrap() else {
        panic!("a retryable failure is claimed again");
    };

    let failure = store.failure("pay-3", None).await.unwrap();

    assert_eq!(failure, None);
}

#[tokio::test]
async fn a_failed_status_set_by_an_override_has_no_failure() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());
    failed(&*store, "pay-4", None).await;
    store
        .set_status("pay-4", CommandStatus::Failed)
        .await
        .unwrap();

    let failure = store.failure("pay-4", None).await.unwrap();

    assert_eq!(failure, None);
}

#[tokio::test]
async fn reading_the_failure_of_a_bad_id_is_a_typed_error() {
    let store: Arc<dyn IdempotencyStore> = Arc::new(MemoryStore::new());

    let outcome = store.failure("", None).await;

    assert_eq!(outcome, Err(idemstore::StoreError::EmptyId));
}
