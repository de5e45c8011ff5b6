//! Claims whose lease lapsed (the clock is moved past the deadline before the threads start):
//! the lapsed owner is fenced, and the id is taken over once, or turned Indeterminate.

use std::time::Duration;

use loom::sync::Arc;
use loom::thread;

use idemstore_loom_tests::harness::{LEASE_MS, check, result_of, status_and_result, tiny_store_on};
use idemstore_loom_tests::{ClaimOutcome, CommandStatus, LapsePolicy, ManualClock};

const ID: &str = "lease-9";

#[test]
fn lapsed_claim_is_taken_over_once_and_its_owner_fenced() {
    check(3, || {
        let clock = ManualClock::new();
        let store = Arc::new(tiny_store_on(&clock, LapsePolicy::TakeOver));
        let lapsed = store.claim(ID).unwrap().ticket().unwrap();
        clock.advance(Duration::from_millis(LEASE_MS));

        let lapsed_owner = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.complete(ID, lapsed, result_of(1)).unwrap())
        };
        let taker = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.claim(ID).unwrap())
        };
        let mine = store.claim(ID).unwrap();
        let completed = lapsed_owner.join().unwrap();
        let theirs = taker.join().unwrap();

        assert!(!completed, "an owner whose lease lapsed completed");
        let winners: Vec<_> = [mine, theirs].iter().filter_map(|o| o.ticket()).collect();
        assert_eq!(winners.len(), 1, "claims {mine:?} and {theirs:?}");
        assert_ne!(winners[0].incarnation, lapsed.incarnation, "the lapsed record came back");
        assert_eq!(status_and_result(&store, ID), (CommandStatus::InProgress, None));
    });
}

#[test]
fn lapsed_claim_under_the_indeterminate_policy_stays_indeterminate() {
    check(3, || {
        let clock = ManualClock::new();
        let store = Arc::new(tiny_store_on(&clock, LapsePolicy::Indeterminate));
        let lapsed = store.claim(ID).unwrap().ticket().unwrap();
        clock.advance(Duration::from_millis(LEASE_MS));

        let lapsed_owner = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.complete(ID, lapsed, result_of(1)).unwrap())
        };
        let claimed = store.claim(ID).unwrap();
        let completed = lapsed_owner.join().unwrap();

        assert!(!completed, "an owner whose lease lapsed completed");
        assert_eq!(claimed, ClaimOutcome::Existing(CommandStatus::Indeterminate));
        assert_eq!(status_and_result(&store, ID), (CommandStatus::Indeterminate, None));
    });
}
