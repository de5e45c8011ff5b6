//! Claims: who wins a race, what duplicates see, and why an overtaken owner can change nothing.

use std::sync::Arc;
use std::time::Duration;

use idemstore::{ClaimOutcome, ClaimTicket, CommandStatus, IdempotencyStore};
use tokio::sync::Barrier;

use super::Plan;
use super::support::{Ids, arrange, bytes, claim_free, expected, result_of, retryable, snapshot};

/// Rounds of the sixteen-way claim race, each on a fresh id.
const CLAIM_RACE_ROUNDS: usize = 1_000;
/// Callers in each claim race.
const CLAIM_RACERS: usize = 16;
/// Rounds of the two-caller check-then-claim race.
const CHECK_THEN_CLAIM_ROUNDS: usize = 500;
/// Claims made on one id after a ticket went stale: more than a 16-bit generation counter
/// can tell apart, so a store that compares truncated generations is caught.
const CLAIMS_AFTER_STALE_TICKET: usize = (1 << 16) + 16;

pub async fn exactly_one_of_sixteen_concurrent_claims_wins(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("sixteen-way-claim");

    for round in 0..CLAIM_RACE_ROUNDS {
        let id = Arc::new(ids.id(round));
        let start = Arc::new(Barrier::new(CLAIM_RACERS));
        let racers: Vec<_> = (0..CLAIM_RACERS)
            .map(|_| {
                let (store, id, start) = (store.clone(), id.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    store.claim(&id).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(CLAIM_RACERS);
        for racer in racers {
            outcomes.push(racer.await.unwrap());
        }

        let winners = outcomes.iter().filter(|o| o.ticket().is_some()).count();
        assert_eq!(winners, 1, "round {round}: outcomes {outcomes:?}");
        for outcome in outcomes.iter().filter(|o| o.ticket().is_none()) {
            assert_eq!(*outcome, ClaimOutcome::Existing(CommandStatus::InProgress));
        }
        assert_eq!(store.status(&id).await.unwrap(), CommandStatus::InProgress);
    }
}

pub async fn racing_check_then_claim_lets_one_win_and_the_other_see_in_progress(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    race_check_then_claim(store, "status-then-claim", |store, id| async move {
        match store.claim(&id).await.unwrap() {
            ClaimOutcome::Acquired(_) => None,
            ClaimOutcome::Existing(status) => Some(status),
        }
    })
    .await;
}

pub async fn racing_check_then_compare_and_set_lets_one_win_and_the_other_see_in_progress(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    race_check_then_claim(store, "check-then-cas", |store, id| async move {
        let won = store
            .try_set_status(&id, CommandStatus::NotFound, CommandStatus::InProgress)
            .await
            .unwrap();
        if won {
            None
        } else {
            Some(store.status(&id).await.unwrap())
        }
    })
    .await;
}

/// Two callers each read the status and, seeing NotFound, try to take the id with `take`,
/// which answers `None` for a win or the status the loser then sees. Exactly one wins and
/// the other sees InProgress, whether at its read or after its attempt.
async fn race_check_then_claim<F, Fut>(store: Arc<dyn IdempotencyStore>, behaviour: &str, take: F)
where
    F: Fn(Arc<dyn IdempotencyStore>, Arc<String>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Option<CommandStatus>> + Send,
{
    let ids = Ids::for_behaviour(behaviour);

    for round in 0..CHECK_THEN_CLAIM_ROUNDS {
        let id = Arc::new(ids.id(round));
        let start = Arc::new(Barrier::new(2));
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (store, id, start, take) =
                    (store.clone(), id.clone(), start.clone(), take.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    match store.status(&id).await.unwrap() {
                        CommandStatus::NotFound => take(store, id).await,
                        seen => Some(seen),
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        for caller in callers {
            seen.push(caller.await.unwrap());
        }

        let winners = seen.iter().filter(|s| s.is_none()).count();
        assert_eq!(winners, 1, "round {round}: callers saw {seen:?}");
        assert!(
            seen.contains(&Some(CommandStatus::InProgress)),
            "round {round}: the loser saw {seen:?}"
        );
        assert_eq!(store.status(&id).await.unwrap(), CommandStatus::InProgress);
    }
}

pub async fn duplicate_claim_while_running_reports_in_progress(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("duplicate-while-running").id(0);
    let ticket = claim_free(&*store, &id).await;

    let duplicate = store.claim(&id).await.unwrap();

    assert_eq!(duplicate, ClaimOutcome::Existing(CommandStatus::InProgress));
    assert!(
        store
            .complete(&id, ticket, result_of("first"))
            .await
            .unwrap()
    );
}

pub async fn duplicate_claim_of_completed_id_reports_completed_and_keeps_the_result(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("duplicate-of-completed").id(0);
    let ticket = claim_free(&*store, &id).await;
    assert!(
        store
            .complete(&id, ticket, result_of("done"))
            .await
            .unwrap()
    );

    let duplicate = store.claim(&id).await.unwrap();

    assert_eq!(duplicate, ClaimOutcome::Existing(CommandStatus::Completed));
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::Completed, expected("done"))
    );
}

pub async fn failed_or_released_command_can_be_claimed_again(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("reclaim");
    for from in [CommandStatus::Failed, CommandStatus::NotStarted] {
        let id = ids.id(from);
        arrange(&*store, &id, from).await;

        let again = store.claim(&id).await.unwrap();

        let ticket = again
            .ticket()
            .unwrap_or_else(|| panic!("{from}: claim found {again:?}"));
        assert_eq!(store.status(&id).await.unwrap(), CommandStatus::InProgress);
        assert!(
            store
                .complete(&id, ticket, result_of("retried"))
                .await
                .unwrap()
        );
        assert_eq!(
            snapshot(&*store, &id).await,
            (CommandStatus::Completed, expected("retried"))
        );
    }
}

pub async fn remove_then_claim_starts_a_new_claim_that_the_old_ticket_cannot_touch(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("remove-then-claim").id(0);
    let old = claim_free(&*store, &id).await;
    assert!(store.complete(&id, old, result_of("old")).await.unwrap());

    assert!(store.remove(&id).await.unwrap());
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::NotFound, None)
    );
    assert!(
        !store.remove(&id).await.unwrap(),
        "a second remove finds nothing"
    );
    let new = claim_free(&*store, &id).await;

    assert_ne!(
        new, old,
        "the new claim must be told apart from the removed one"
    );
    assert!(!store.complete(&id, old, result_of("stale")).await.unwrap());
    assert!(!store.fail(&id, old, retryable()).await.unwrap());
    assert!(!store.release(&id, old).await.unwrap());
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::InProgress, None)
    );
    assert!(store.complete(&id, new, result_of("new")).await.unwrap());
    assert_eq!(
        snapshot(&*store, &id).await,
        (CommandStatus::Completed, expected("new"))
    );
}

pub async fn stale_ticket_cannot_complete_fail_or_release_a_newer_claim(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("stale-ticket");
    // Every way an owner can be overtaken without the record going away.
    let overtakes = [
        "release",
        "fail",
        "cas-to-not-started",
        "get-and-set-failed",
        "override",
    ];
    for (n, overtake) in overtakes.into_iter().enumerate() {
        let id = ids.id(n);
        let stale = claim_free(&*store, &id).await;
        match overtake {
            "release" => assert!(store.release(&id, stale).await.unwrap()),
            "fail" => assert!(store.fail(&id, stale, retryable()).await.unwrap()),
            "cas-to-not-started" => assert!(
                store
                    .try_set_status(&id, CommandStatus::InProgress, CommandStatus::NotStarted)
                    .await
                    .unwrap()
            ),
            "get-and-set-failed" => assert_eq!(
                store
                    .get_and_set_status(&id, CommandStatus::Failed)
                    .await
                    .unwrap(),
                (CommandStatus::InProgress, true)
            ),
            _ => store
                .set_status(&id, CommandStatus::NotStarted)
                .await
                .unwrap(),
        }
        let newer = claim_free(&*store, &id).await;

        assert!(
            !store
                .complete(&id, stale, result_of("stale"))
                .await
                .unwrap(),
            "{overtake}"
        );
        assert!(
            !store.fail(&id, stale, retryable()).await.unwrap(),
            "{overtake}"
        );
        assert!(!store.release(&id, stale).await.unwrap(), "{overtake}");
        assert_eq!(
            snapshot(&*store, &id).await,
            (CommandStatus::InProgress, None)
        );
        assert!(
            store
                .complete(&id, newer, result_of("newer"))
                .await
                .unwrap(),
            "{overtake}"
        );
    }
}

pub async fn stale_ticket_stays_stale_however_many_claims_follow(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("stale-after-many-claims").id(0);
    let stale = claim_free(&*store, &id).await;
    assert!(store.release(&id, stale).await.unwrap());

    for claims in 1..=CLAIMS_AFTER_STALE_TICKET {
        let current = claim_free(&*store, &id).await;

        let stale_released = store.release(&id, stale).await.unwrap();

        assert!(
            !stale_released,
            "the ticket {stale:?} went stale {claims} claims ago, yet it released the \
             claim {current:?}"
        );
        assert!(store.release(&id, current).await.unwrap(), "claim {claims}");
    }
    assert_eq!(bytes(&store.result(&id).await.unwrap()), None);
}

pub async fn ticket_of_one_id_cannot_finish_another_ids_claim(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("foreign-ticket");
    let (mine, theirs) = (ids.id("mine"), ids.id("theirs"));
    let my_ticket = claim_free(&*store, &mine).await;
    let their_ticket = claim_free(&*store, &theirs).await;
    let forged = ClaimTicket {
        incarnation: 0,
        generation: 0,
    };

    for ticket in [my_ticket, forged] {
        assert!(
            !store
                .complete(&theirs, ticket, result_of("wrong"))
                .await
                .unwrap()
        );
        assert!(!store.fail(&theirs, ticket, retryable()).await.unwrap());
        assert!(!store.release(&theirs, ticket).await.unwrap());
        assert!(!store.mark_indeterminate(&theirs, ticket).await.unwrap());
        assert!(
            !store
                .renew(&theirs, ticket, Duration::from_secs(60))
                .await
                .unwrap()
        );
    }

    assert_eq!(
        snapshot(&*store, &theirs).await,
        (CommandStatus::InProgress, None)
    );
    assert!(
        store
            .complete(&theirs, their_ticket, result_of("theirs"))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete(&mine, my_ticket, result_of("mine"))
            .await
            .unwrap()
    );
}
