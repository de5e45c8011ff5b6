//! Readers racing the reclamation of a removed record. A record freed while a reader can
//! still reach it fails the model through the record's alive check.

use loom::sync::Arc;
use loom::thread;

use idemstore_loom_tests::CommandStatus;
use idemstore_loom_tests::harness::{check, result_of, tiny_store, value_of};
use idemstore_loom_tests::raw_scenarios::read_past_its_guard_racing_a_removal;

const ID: &str = "refund-3";

#[test]
fn reader_racing_a_removal_sees_the_record_whole_or_not_at_all() {
    check(3, || {
        let store = Arc::new(tiny_store());
        let ticket = store.claim(ID).unwrap().ticket().unwrap();
        assert!(store.complete(ID, ticket, result_of(7)).unwrap());

        let remover = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.remove(ID).unwrap())
        };
        let status = store.status(ID).unwrap();
        let result = store.result(ID).unwrap().map(|result| value_of(&result));
        let removed = remover.join().unwrap();

        assert!(removed, "the removal found nothing");
        assert!(
            matches!(status, CommandStatus::Completed | CommandStatus::NotFound),
            "status {status}"
        );
        assert!(result.is_none() || result == Some(7), "result {result:?}");
        if status == CommandStatus::NotFound {
            assert_eq!(result, None, "a result was read after the removal was seen");
        }
    });
}

/// The removed id is claimed again at once: a reader gets the old record's result or the new
/// record's status, never the old result after the new record, and never a reclaimed record.
#[test]
fn reader_racing_removal_and_reclaim_never_mixes_incarnations() {
    check(3, || {
        let store = Arc::new(tiny_store());
        let first = store.claim(ID).unwrap().ticket().unwrap();
        assert!(store.complete(ID, first, result_of(7)).unwrap());

        let writer = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                assert!(store.remove(ID).unwrap());
                store
                    .claim(ID)
                    .unwrap()
                    .ticket()
                    .expect("nobody else claims")
            })
        };
        let status = store.status(ID).unwrap();
        let result = store.result(ID).unwrap().map(|result| value_of(&result));
        let second = writer.join().unwrap();

        assert_ne!(second.incarnation, first.incarnation);
        assert!(result.is_none() || result == Some(7), "result {result:?}");
        if status != CommandStatus::Completed {
            assert_eq!(
                result, None,
                "the old result was read after its record was seen gone"
            );
        }
        assert!(
            !store.complete(ID, first, result_of(8)).unwrap(),
            "the old ticket still works"
        );
        assert_eq!(store.status(ID).unwrap(), CommandStatus::InProgress);
    });
}

/// The reclaimer must be able to fail a model: this reader breaks the guard rule on purpose,
/// and loom has to find the schedule in which that reads a reclaimed record.
#[test]
#[should_panic(expected = "record read after it was reclaimed")]
fn a_record_read_after_its_guard_is_dropped_trips_the_alive_check() {
    check(2, read_past_its_guard_racing_a_removal);
}
