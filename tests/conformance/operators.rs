//! Leases, the Indeterminate state and an operator's way out of it, and waiting for a run.
//!
//! The lease behaviours use real time: a lease is a lower bound, so sleeping past it makes
//! the lapse certain however slow the machine, and the leases are long enough that the calls
//! made before them cannot plausibly take as long.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idemstore::{
    Acquire, ClaimTicket, CommandStatus, Failure, FailurePolicy, IdempotencyStore, Resolution,
};

use super::Plan;
use super::support::{Ids, arrange, claim_free, expected, result_of, retryable, snapshot};

/// A lease short enough to sleep past in a test.
const SHORT_LEASE: Duration = Duration::from_secs(1);
/// How long past a lease the lease tests sleep.
const PAST_LEASE: Duration = Duration::from_millis(1_500);
/// A wait that, in these tests, only ends by notification or an immediate answer.
const LONG_WAIT: Duration = Duration::from_secs(10);
/// Longer than any immediate answer could plausibly take, shorter than `LONG_WAIT`.
const AT_ONCE: Duration = Duration::from_secs(2);

async fn acquire_with_lease(
    store: &dyn IdempotencyStore,
    id: &str,
    lease: Duration,
) -> ClaimTicket {
    match store.acquire(id, None, Some(lease)).await.unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("{id:?} not acquired: {other:?}"),
    }
}

pub async fn lapsed_lease_lets_the_next_caller_take_over_and_fences_the_old_owner(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("lease-lapse").id(0);
    let old = acquire_with_lease(&*store, &id, SHORT_LEASE).await;

    tokio::time::sleep(PAST_LEASE).await;
    let lapsed = store.status(&id).await.unwrap();
    let new = claim_free(&*store, &id).await;

    assert_eq!(
        lapsed,
        CommandStatus::NotFound,
        "a lapsed claim reads as gone"
    );
    assert!(!store.complete(&id, old, result_of("late")).await.unwrap());
    assert!(!store.renew(&id, old, LONG_WAIT).await.unwrap());
    assert!(
        store
            .complete(&id, new, result_of("taken over"))
            .await
            .unwrap()
    );
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::Completed, expected("taken over"))
    );
}

pub async fn renewed_lease_outlives_the_original_one(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    let id = Ids::for_behaviour("lease-renew").id(0);
    let ticket = acquire_with_lease(&*store, &id, SHORT_LEASE).await;

    assert!(store.renew(&id, ticket, LONG_WAIT).await.unwrap());
    tokio::time::sleep(PAST_LEASE).await;

    assert_eq!(store.status(&id).await.unwrap(), CommandStatus::InProgress);
    assert!(
        store
            .complete(&id, ticket, result_of("renewed"))
            .await
            .unwrap()
    );
}

pub async fn indeterminate_claim_stands_until_an_operator_resolves_it(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("indeterminate");
    let (completed, failed) = (ids.id("completed"), ids.id("failed"));
    let failure = Failure::new("refund issued by hand", FailurePolicy::Terminal);
    for id in [&completed, &failed] {
        let ticket = claim_free(&*store, id).await;
        assert!(store.mark_indeterminate(id, ticket).await.unwrap());
        assert!(
            !store.mark_indeterminate(id, ticket).await.unwrap(),
            "the ticket ended"
        );
        assert!(!store.complete(id, ticket, result_of("late")).await.unwrap());
        let claimed = store.claim(id).await.unwrap();
        assert_eq!(claimed.ticket(), None, "{id}: {claimed:?}");
    }

    let resolved_completed = store
        .resolve(&completed, Resolution::Completed(result_of("settled")))
        .await;
    let resolved_failed = store
        .resolve(&failed, Resolution::Failed(failure.clone()))
        .await;

    assert_eq!(resolved_completed, Ok(true));
    assert_eq!(resolved_failed, Ok(true));
    assert_eq!(
        snapshot(&*store, &completed).await,
        (CommandStatus::Completed, expected("settled"))
    );
    match store.acquire(&failed, None, None).await.unwrap() {
        Acquire::Failed(replayed) => assert_eq!(replayed, failure),
        other => panic!("a terminally resolved id acquired as {other:?}"),
    }
}

pub async fn resolve_and_reset_touch_only_indeterminate_ids(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("resolve-reset-guard");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        arrange(&*store, &id, from).await;
        let before = snapshot(&*store, &id).await;

        let resolved = store
            .resolve(&id, Resolution::Completed(result_of("x")))
            .await;
        let failed = store.resolve(&id, Resolution::Failed(retryable())).await;
        let reset = store.reset(&id).await;

        let acts = from == CommandStatus::Indeterminate;
        assert_eq!(resolved, Ok(acts), "resolve on {from}");
        if acts {
            assert_eq!(failed, Ok(false), "resolve on the id resolved just before");
            assert_eq!(reset, Ok(false), "reset on the id resolved just before");
            assert_eq!(
                snapshot(&*store, &id).await,
                (CommandStatus::Completed, expected("x"))
            );
        } else {
            assert_eq!((failed, reset), (Ok(false), Ok(false)), "{from}");
            assert_eq!(snapshot(&*store, &id).await, before, "{from}");
        }
    }
}

pub async fn reset_forgets_an_indeterminate_id_so_the_next_call_runs_it(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("reset").id(0);
    arrange(&*store, &id, CommandStatus::Indeterminate).await;

    let reset = store.reset(&id).await;

    assert_eq!(reset, Ok(true));
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::NotFound, None)
    );
    assert!(store.claim(&id).await.unwrap().ticket().is_some());
}

pub async fn waiter_wakes_when_the_run_ends(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    let ids = Ids::for_behaviour("wait");
    let endings = ["complete", "fail", "release", "remove"];
    for ending in endings {
        let id = Arc::new(ids.id(ending));
        let ticket = claim_free(&*store, &id).await;
        let waiter = {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                (store.wait(&id, LONG_WAIT).await, started.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;

        let (expected_status, ended) = match ending {
            "complete" => (
                CommandStatus::Completed,
                store.complete(&id, ticket, result_of("done")).await,
            ),
            "fail" => (
                CommandStatus::Failed,
                store.fail(&id, ticket, retryable()).await,
            ),
            "release" => (CommandStatus::NotStarted, store.release(&id, ticket).await),
            _ => (CommandStatus::NotFound, store.remove(&id).await),
        };

        assert_eq!(ended, Ok(true), "{ending}");
        let (seen, waited) = waiter.await.unwrap();
        assert_eq!(seen, Ok(expected_status), "{ending}");
        assert!(
            waited < LONG_WAIT,
            "{ending}: the waiter ran into its timeout"
        );
    }
}

pub async fn wait_returns_at_once_unless_running_and_times_out_while_running(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("wait-edges");
    let (unknown, done, running) = (ids.id("unknown"), ids.id("done"), ids.id("running"));
    arrange(&*store, &done, CommandStatus::Completed).await;
    arrange(&*store, &running, CommandStatus::InProgress).await;

    let on_unknown = tokio::time::timeout(AT_ONCE, store.wait(&unknown, LONG_WAIT)).await;
    let on_done = tokio::time::timeout(AT_ONCE, store.wait(&done, LONG_WAIT)).await;
    let started = Instant::now();
    let on_running = store.wait(&running, Duration::from_millis(50)).await;

    assert_eq!(on_unknown, Ok(Ok(CommandStatus::NotFound)));
    assert_eq!(on_done, Ok(Ok(CommandStatus::Completed)));
    assert_eq!(on_running, Ok(CommandStatus::InProgress));
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "returned before its timeout"
    );
}

pub async fn longest_durations_are_accepted_without_panicking(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("longest-durations");
    let (leased, done) = (ids.id("leased"), ids.id("done"));
    arrange(&*store, &done, CommandStatus::Completed).await;

    let ticket = acquire_with_lease(&*store, &leased, Duration::MAX).await;
    let renewed = store.renew(&leased, ticket, Duration::MAX).await;
    let on_done = tokio::time::timeout(AT_ONCE, store.wait(&done, Duration::MAX)).await;
    let waiter = {
        let (store, leased) = (store.clone(), leased.clone());
        tokio::spawn(async move { store.wait(&leased, Duration::MAX).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        store
            .complete(&leased, ticket, result_of("done"))
            .await
            .unwrap()
    );

    assert_eq!(renewed, Ok(true));
    assert_eq!(on_done, Ok(Ok(CommandStatus::Completed)));
    let woken = tokio::time::timeout(LONG_WAIT, waiter).await;
    assert!(
        matches!(woken, Ok(Ok(Ok(CommandStatus::Completed)))),
        "a wait without a practical timeout: {woken:?}"
    );
}
