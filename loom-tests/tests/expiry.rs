//! Expiry racing writers. A lease lapses (the clock is moved past its deadline before the
//! threads start): the lapsed owner is fenced, and the id is taken over once or turned
//! Indeterminate. The expiry wheel, stepped by hand, races claims and removals of the records
//! it holds: each record is removed once and freed once.

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
        assert_ne!(
            winners[0].incarnation, lapsed.incarnation,
            "the lapsed record came back"
        );
        assert_eq!(
            status_and_result(&store, ID),
            (CommandStatus::InProgress, None)
        );
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
        assert_eq!(
            claimed,
            ClaimOutcome::Existing(CommandStatus::Indeterminate)
        );
        assert_eq!(
            status_and_result(&store, ID),
            (CommandStatus::Indeterminate, None)
        );
    });
}

/// The expiry wheel finds the lapsed record due while a claim takes the id over (and removes
/// the lapsed record itself on the way): the record is removed once, counted once, and freed
/// once, by whichever of the wheel and the table lets go of it last.
#[test]
fn expiry_step_racing_a_takeover_removes_the_lapsed_record_once() {
    check(3, || {
        let clock = ManualClock::new();
        let store = Arc::new(tiny_store_on(&clock, LapsePolicy::TakeOver));
        let lapsed = store.claim(ID).unwrap().ticket().unwrap();
        clock.advance(Duration::from_millis(LEASE_MS));

        let wheel = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.run_expiry(16))
        };
        let taken = store.claim(ID).unwrap().ticket();
        let step = wheel.join().unwrap();

        let taken = taken.expect("the takeover claim found the lapsed record standing");
        assert_ne!(taken.incarnation, lapsed.incarnation);
        assert!(step.removed <= 1, "{step:?}");
        assert_eq!(store.health_metrics().expired_removed_total, 1, "{step:?}");
        assert_eq!(store.status(ID).unwrap(), CommandStatus::InProgress);
        assert_eq!(store.len(), 1);
    });
}

/// The wheel looks at a record that is not due yet (and places it again) while the record is
/// removed: the wheel keeps holding a dead record, and frees it when it next lets go of it.
#[test]
fn removal_racing_an_expiry_step_that_keeps_the_record_frees_it_once() {
    check(3, || {
        let clock = ManualClock::new();
        let store = Arc::new(tiny_store_on(&clock, LapsePolicy::TakeOver));
        let ticket = store.claim(ID).unwrap().ticket().unwrap();
        assert!(store.complete(ID, ticket, result_of(3)).unwrap());
        clock.advance(Duration::from_millis(LEASE_MS));

        let wheel = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.run_expiry(16))
        };
        let removed = store.remove(ID).unwrap();
        let step = wheel.join().unwrap();
        clock.advance(Duration::from_millis(LEASE_MS));
        let later = store.run_expiry(16);

        assert!(removed, "the completed record was not there to remove");
        assert_eq!(
            (step.removed, later.removed),
            (0, 0),
            "the wheel removed a live record"
        );
        assert_eq!(
            status_and_result(&store, ID),
            (CommandStatus::NotFound, None)
        );
        assert_eq!(store.len(), 0);
    });
}
