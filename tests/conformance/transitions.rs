//! Status changes outside the claim cycle: compare-and-set, get-and-set, and the two
//! administrative overrides (`set_status`, `set_result`).

use std::sync::Arc;

use idemstore::{CommandStatus, IdempotencyStore, StoreError, transition_allowed};

use super::Plan;
use super::support::{Ids, arrange, claim_free, expected, result_of, retryable, snapshot};

use CommandStatus::*;

/// The result an arranged Completed id carries (see `arrange`), for ids in `status`.
fn arranged_result(status: CommandStatus) -> Option<Vec<u8>> {
    (status == Completed).then(|| "arranged".as_bytes().to_vec())
}

/// Pairs a compare-and-set or get-and-set may perform: legal, and not into Completed, which
/// needs a result.
fn settable(from: CommandStatus, to: CommandStatus) -> bool {
    transition_allowed(from, to) && to != Completed
}

pub async fn compare_and_set_with_wrong_expected_status_changes_nothing(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("cas-wrong-expected");
    for actual in CommandStatus::ALL {
        for expected_status in CommandStatus::ALL.into_iter().filter(|s| *s != actual) {
            for new in CommandStatus::ALL
                .into_iter()
                .filter(|new| settable(expected_status, *new))
            {
                let id = ids.id(format!("{actual}-{expected_status}-{new}"));
                arrange(&*store, &id, actual).await;

                let swapped = store.try_set_status(&id, expected_status, new).await;

                let case = format!("{actual} expected as {expected_status} -> {new}");
                assert_eq!(swapped, Ok(false), "{case}");
                assert_eq!(
                    snapshot(&*store, &id).await,
                    (actual, arranged_result(actual)),
                    "{case}"
                );
            }
        }
    }
}

pub async fn compare_and_set_with_illegal_pair_is_an_invalid_transition(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("cas-illegal");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        arrange(&*store, &id, from).await;
        for to in CommandStatus::ALL
            .into_iter()
            .filter(|to| !settable(from, *to))
        {
            let swapped = store.try_set_status(&id, from, to).await;

            assert_eq!(
                swapped,
                Err(StoreError::InvalidTransition { from, to }),
                "{from} -> {to}"
            );
            assert_eq!(
                snapshot(&*store, &id).await,
                (from, arranged_result(from)),
                "{from} -> {to}"
            );
        }
    }
}

pub async fn compare_and_set_from_not_found_creates_the_record(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("cas-from-not-found");
    for new in [NotStarted, InProgress] {
        let id = ids.id(new);

        let swapped = store.try_set_status(&id, NotFound, new).await;

        assert_eq!(swapped, Ok(true), "NotFound -> {new}");
        assert_eq!(snapshot(&*store, &id).await, (new, None));
        let again = store.try_set_status(&id, NotFound, new).await;
        assert_eq!(again, Ok(false), "the record exists now");
    }
}

pub async fn get_and_set_legal_transitions_return_the_previous_status(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("get-and-set-legal");
    for from in CommandStatus::ALL {
        for to in CommandStatus::ALL
            .into_iter()
            .filter(|to| settable(from, *to))
        {
            let id = ids.id(format!("{from}-{to}"));
            arrange(&*store, &id, from).await;

            let answer = store.get_and_set_status(&id, to).await;

            assert_eq!(answer, Ok((from, true)), "{from} -> {to}");
            assert_eq!(snapshot(&*store, &id).await, (to, None), "{from} -> {to}");
        }
    }
}

pub async fn get_and_set_illegal_transition_reports_current_status_and_changes_nothing(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("get-and-set-illegal");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        arrange(&*store, &id, from).await;
        for to in CommandStatus::ALL
            .into_iter()
            .filter(|to| !settable(from, *to))
        {
            let answer = store.get_and_set_status(&id, to).await;

            assert_eq!(answer, Ok((from, false)), "{from} -> {to}");
            assert_eq!(
                snapshot(&*store, &id).await,
                (from, arranged_result(from)),
                "{from} -> {to}"
            );
        }
    }
}

pub async fn get_and_set_in_progress_on_completed_id_is_refused_and_keeps_the_result(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let id = Ids::for_behaviour("get-and-set-completed").id(0);
    let ticket = claim_free(&*store, &id).await;
    assert!(
        store
            .complete(&id, ticket, result_of("kept"))
            .await
            .unwrap()
    );

    let answer = store.get_and_set_status(&id, InProgress).await;

    assert_eq!(answer, Ok((Completed, false)));
    assert_eq!(snapshot(&*store, &id).await, (Completed, expected("kept")));
}

pub async fn override_to_completed_is_refused_and_changes_nothing(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("override-completed");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        let ticket = arrange(&*store, &id, from).await;

        let set = store.set_status(&id, Completed).await;

        assert_eq!(
            set,
            Err(StoreError::InvalidTransition {
                from,
                to: Completed
            })
        );
        assert_eq!(snapshot(&*store, &id).await, (from, arranged_result(from)));
        if let Some(ticket) = ticket {
            let still_owned = store.complete(&id, ticket, result_of("owner")).await;
            assert_eq!(still_owned, Ok(true), "a refused override fences nobody");
        }
    }
}

pub async fn override_to_any_other_status_applies_and_fences_the_current_claim(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("override-fences");
    for to in [NotStarted, InProgress, Failed, Indeterminate] {
        for from in CommandStatus::ALL {
            let id = ids.id(format!("{from}-{to}"));
            let owner = match arrange(&*store, &id, from).await {
                Some(arranged) => Some(arranged),
                None => store.claim(&id).await.unwrap().ticket(),
            };

            store.set_status(&id, to).await.unwrap();

            let after = store.status(&id).await.unwrap();
            assert_eq!(after, to, "{from} overridden to {to}");
            if let Some(owner) = owner {
                let case = format!("owner of a {from} id overridden to {to}");
                assert!(
                    !store.complete(&id, owner, result_of("late")).await.unwrap(),
                    "{case}"
                );
                assert!(
                    !store.fail(&id, owner, retryable()).await.unwrap(),
                    "{case}"
                );
                assert!(!store.release(&id, owner).await.unwrap(), "{case}");
            }
            assert_eq!(
                snapshot(&*store, &id).await,
                (to, None),
                "{from} overridden to {to}"
            );
        }
    }
}

pub async fn override_to_not_found_removes_status_and_result(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("override-not-found");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        let ticket = arrange(&*store, &id, from).await;

        store.set_status(&id, NotFound).await.unwrap();

        assert_eq!(snapshot(&*store, &id).await, (NotFound, None), "{from}");
        if let Some(ticket) = ticket {
            assert!(
                !store
                    .complete(&id, ticket, result_of("late"))
                    .await
                    .unwrap()
            );
            assert_eq!(snapshot(&*store, &id).await, (NotFound, None));
        }
    }
}

pub async fn set_result_completes_with_the_result_in_one_step(
    store: Arc<dyn IdempotencyStore>,
    _: &Plan,
) {
    let ids = Ids::for_behaviour("set-result");
    for from in CommandStatus::ALL {
        let id = ids.id(from);
        arrange(&*store, &id, from).await;

        store.set_result(&id, result_of("set")).await.unwrap();

        assert_eq!(
            snapshot(&*store, &id).await,
            (Completed, expected("set")),
            "{from}"
        );
        assert_eq!(
            store.claim(&id).await.unwrap(),
            idemstore::ClaimOutcome::Existing(Completed),
            "{from}: a set result answers duplicates like a completed run"
        );
    }
}

pub async fn set_result_fences_the_current_claim(store: Arc<dyn IdempotencyStore>, _: &Plan) {
    let id = Ids::for_behaviour("set-result-fences").id(0);
    let owner = claim_free(&*store, &id).await;

    store.set_result(&id, result_of("operator")).await.unwrap();

    assert!(
        !store
            .complete(&id, owner, result_of("owner"))
            .await
            .unwrap()
    );
    assert!(!store.fail(&id, owner, retryable()).await.unwrap());
    assert!(!store.release(&id, owner).await.unwrap());
    assert_eq!(
        snapshot(&*store, &id).await,
        (Completed, expected("operator"))
    );
}
