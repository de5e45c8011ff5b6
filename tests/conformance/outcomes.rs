//! What `acquire` and `register` answer: the stored result or failure replayed, and a
//! payload fingerprint guarding an id against a different command.

use std::sync::Arc;

use idemstore::{
    Acquire, ClaimOutcome, CommandStatus, Failure, FailurePolicy, Fingerprint, IdempotencyStore,
};

use super::Plan;
use super::support::{Ids, arrange, bytes, claim_free, expected, result_of, retryable, snapshot};

/// Acquires with the default lease.
async fn acquire(
    store: &dyn IdempotencyStore,
    id: &str,
    fingerprint: Option<Fingerprint>,
) -> Acquire {
    store.acquire(id, fingerprint, None).await.unwrap()
}

pub async fn acquire_answers_with_what_stands(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    let ids = Ids::for_behaviour("acquire-answers");
    let [fresh, running, done, indeterminate] =
        ["fresh", "running", "done", "indeterminate"].map(|name| ids.id(name));
    arrange(&*store, &running, CommandStatus::InProgress).await;
    arrange(&*store, &indeterminate, CommandStatus::Indeterminate).await;
    let ticket = claim_free(&*store, &done).await;
    assert!(
        store
            .complete(&done, ticket, result_of("replayed"))
            .await
            .unwrap()
    );

    let on_fresh = acquire(&*store, &fresh, None).await;
    let on_running = acquire(&*store, &running, None).await;
    let on_done = acquire(&*store, &done, None).await;
    let on_indeterminate = acquire(&*store, &indeterminate, None).await;

    assert!(matches!(on_fresh, Acquire::Acquired(_)), "{on_fresh:?}");
    assert!(matches!(on_running, Acquire::Running), "{on_running:?}");
    match on_done {
        Acquire::Completed(result) => assert_eq!(bytes(&Some(result)), expected("replayed")),
        other => panic!("a completed id acquired as {other:?}"),
    }
    assert!(
        matches!(on_indeterminate, Acquire::Indeterminate),
        "{on_indeterminate:?}"
    );
}

pub async fn terminal_failure_is_replayed_instead_of_running_again(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("terminal-failure").id(0);
    let failure = Failure::new("card declined", FailurePolicy::Terminal);
    let ticket = claim_free(&*store, &id).await;
    assert!(store.fail(&id, ticket, failure.clone()).await.unwrap());

    let acquired = acquire(&*store, &id, None).await;
    let claimed = store.claim(&id).await.unwrap();

    match acquired {
        Acquire::Failed(replayed) => assert_eq!(replayed, failure),
        other => panic!("a terminally failed id acquired as {other:?}"),
    }
    assert_eq!(claimed, ClaimOutcome::Existing(CommandStatus::Failed));
    assert_eq!(snapshot(&*store, &id).await, (CommandStatus::Failed, None));
}

pub async fn retryable_failure_lets_the_next_caller_run_again(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("retryable-failure").id(0);
    let ticket = claim_free(&*store, &id).await;
    assert!(store.fail(&id, ticket, retryable()).await.unwrap());

    let acquired = acquire(&*store, &id, None).await;

    let Acquire::Acquired(retry) = acquired else {
        panic!("a retryably failed id acquired as {acquired:?}");
    };
    assert_ne!(retry, ticket);
    assert!(
        store
            .complete(&id, retry, result_of("second try"))
            .await
            .unwrap()
    );
}

pub async fn different_fingerprint_on_the_same_id_is_a_conflict_whatever_the_status(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("fingerprint-conflict").id(0);
    let (ours, theirs) = (
        Fingerprint::of(b"pay 10 EUR"),
        Fingerprint::of(b"pay 99 EUR"),
    );
    let Acquire::Acquired(ticket) = acquire(&*store, &id, Some(ours)).await else {
        panic!("fresh id not acquired");
    };

    let while_running = acquire(&*store, &id, Some(theirs)).await;
    let same_payload = acquire(&*store, &id, Some(ours)).await;
    let unfingerprinted = acquire(&*store, &id, None).await;
    assert!(
        store
            .complete(&id, ticket, result_of("paid"))
            .await
            .unwrap()
    );
    let once_completed = acquire(&*store, &id, Some(theirs)).await;

    assert!(
        matches!(while_running, Acquire::Conflict),
        "{while_running:?}"
    );
    assert!(matches!(same_payload, Acquire::Running), "{same_payload:?}");
    assert!(
        matches!(unfingerprinted, Acquire::Running),
        "{unfingerprinted:?}"
    );
    assert!(
        matches!(once_completed, Acquire::Conflict),
        "{once_completed:?}"
    );
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::Completed, expected("paid"))
    );
}

pub async fn register_creates_a_not_started_record_only_for_an_unknown_id(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("register").id(0);

    let first = store.register(&id).await.unwrap();
    let second = store.register(&id).await.unwrap();

    assert!(first);
    assert!(!second, "the id was registered already");
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::NotStarted, None)
    );
    assert!(store.claim(&id).await.unwrap().ticket().is_some());
}

pub async fn register_leaves_an_existing_record_as_it_was(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("register-existing");
    for status in CommandStatus::ALL
        .into_iter()
        .filter(|s| *s != CommandStatus::NotFound)
    {
        let id = ids.id(status);
        let owner = arrange(&*store, &id, status).await;
        let before = snapshot(&*store, &id).await;

        let registered = store.register(&id).await;

        assert_eq!(registered, Ok(false), "register on a {status} id");
        assert_eq!(
            snapshot(&*store, &id).await,
            before,
            "register on a {status} id"
        );
        if let Some(owner) = owner {
            let completed = store.complete(&id, owner, result_of("owner")).await;
            assert_eq!(completed, Ok(true), "register fenced the running owner");
        }
    }
}
