//! Claims racing each other and the owner's own endings: one owner at a time, always.

use loom::sync::Arc;
use loom::thread;

use idemstore_loom_tests::harness::{
    check, result_of, retryable_failure, status_and_result, tiny_store,
};
use idemstore_loom_tests::{ClaimOutcome, CommandStatus};

const ID: &str = "payment-42";

#[test]
fn two_claims_of_one_id_acquire_it_exactly_once() {
    check(3, || {
        let store = Arc::new(tiny_store());

        let other = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.claim(ID).unwrap())
        };
        let mine = store.claim(ID).unwrap();
        let other = other.join().unwrap();

        let acquired = [mine, other]
            .iter()
            .filter(|o| o.ticket().is_some())
            .count();
        assert_eq!(acquired, 1, "claims {mine:?} and {other:?}");
        let loser = if mine.ticket().is_some() { other } else { mine };
        assert_eq!(loser, ClaimOutcome::Existing(CommandStatus::InProgress));
        assert_eq!(store.status(ID).unwrap(), CommandStatus::InProgress);
    });
}

#[test]
fn three_claims_of_one_id_acquire_it_exactly_once() {
    check(3, || {
        let store = Arc::new(tiny_store());

        let others: Vec<_> = (0..2)
            .map(|_| {
                let store = Arc::clone(&store);
                thread::spawn(move || store.claim(ID).unwrap())
            })
            .collect();
        let mut outcomes = vec![store.claim(ID).unwrap()];
        outcomes.extend(others.into_iter().map(|other| other.join().unwrap()));

        let winners = outcomes.iter().filter(|o| o.ticket().is_some()).count();
        assert_eq!(winners, 1, "claims {outcomes:?}");
        for outcome in outcomes.iter().filter(|o| o.ticket().is_none()) {
            assert_eq!(*outcome, ClaimOutcome::Existing(CommandStatus::InProgress));
        }
    });
}

#[test]
fn release_racing_a_claim_hands_the_id_over_at_most_once() {
    check(3, || {
        let store = Arc::new(tiny_store());
        let first = store.claim(ID).unwrap().ticket().unwrap();

        let releaser = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.release(ID, first).unwrap())
        };
        let second = store.claim(ID).unwrap();
        let released = releaser.join().unwrap();

        assert!(released, "the owner's release was refused");
        match second {
            ClaimOutcome::Acquired(ticket) => {
                assert_eq!(ticket.incarnation, first.incarnation);
                assert_ne!(ticket.generation, first.generation);
                assert_eq!(store.status(ID).unwrap(), CommandStatus::InProgress);
                assert!(
                    !store.complete(ID, first, result_of(1)).unwrap(),
                    "stale ticket won"
                );
            }
            ClaimOutcome::Existing(status) => {
                assert_eq!(status, CommandStatus::InProgress);
                assert_eq!(store.status(ID).unwrap(), CommandStatus::NotStarted);
            }
        }
    });
}

#[test]
fn fail_racing_a_claim_lets_the_claim_in_only_after_the_failure() {
    check(3, || {
        let store = Arc::new(tiny_store());
        let first = store.claim(ID).unwrap().ticket().unwrap();

        let failer = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.fail(ID, first, retryable_failure()).unwrap())
        };
        let second = store.claim(ID).unwrap();
        let failed = failer.join().unwrap();

        assert!(failed, "the owner's fail was refused");
        let expected = match second {
            ClaimOutcome::Acquired(_) => CommandStatus::InProgress,
            ClaimOutcome::Existing(status) => {
                assert_eq!(status, CommandStatus::InProgress);
                CommandStatus::Failed
            }
        };
        assert_eq!(store.status(ID).unwrap(), expected);
    });
}

/// A reaper fails a running claim without its ticket and a new owner claims and completes,
/// while the first owner completes with its now stale ticket: whichever result stands, it is
/// the one of the claim that stood when it was written.
#[test]
fn stale_complete_never_overwrites_the_next_owners_result() {
    check(3, || {
        let store = Arc::new(tiny_store());
        let stale = store.claim(ID).unwrap().ticket().unwrap();

        let stale_owner = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.complete(ID, stale, result_of(1)).unwrap())
        };
        let (_, reaped) = store.get_and_set_status(ID, CommandStatus::Failed).unwrap();
        let next = if reaped {
            store.claim(ID).unwrap().ticket()
        } else {
            None
        };
        let next_completed = next.map(|ticket| store.complete(ID, ticket, result_of(2)).unwrap());
        let stale_completed = stale_owner.join().unwrap();

        assert_ne!(
            reaped, stale_completed,
            "exactly one of reaping and completing wins"
        );
        if reaped {
            assert_eq!(next_completed, Some(true));
            assert_eq!(
                status_and_result(&store, ID),
                (CommandStatus::Completed, Some(2))
            );
        } else {
            assert_eq!(
                status_and_result(&store, ID),
                (CommandStatus::Completed, Some(1))
            );
        }
    });
}
