//! A completion racing a removal of the same id, watched by a reader: the result and the
//! Completed status appear together and disappear together.

use loom::sync::Arc;
use loom::thread;

use idemstore_loom_tests::CommandStatus;
use idemstore_loom_tests::harness::{check, result_of, status_and_result, tiny_store, value_of};

const ID: &str = "invoice-7";
const RESULT: u32 = 1250;

#[test]
fn complete_racing_remove_never_shows_completed_without_its_result() {
    check(3, || {
        let store = Arc::new(tiny_store());

        let owner = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let ticket = store
                    .claim(ID)
                    .unwrap()
                    .ticket()
                    .expect("nobody else claims");
                store.complete(ID, ticket, result_of(RESULT)).unwrap()
            })
        };
        let remover = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.remove(ID).unwrap())
        };
        let seen_before = store.status(ID).unwrap();
        let result = store.result(ID).unwrap().map(|result| value_of(&result));
        let seen_after = store.status(ID).unwrap();
        let completed = owner.join().unwrap();
        let removed = remover.join().unwrap();

        assert!(
            result.is_none() || result == Some(RESULT),
            "the reader got a result nobody stored: {result:?}"
        );
        if seen_before == CommandStatus::Completed && result.is_none() {
            assert_eq!(
                seen_after,
                CommandStatus::NotFound,
                "Completed was read without its result, and not because the id was removed"
            );
        }
        match status_and_result(&store, ID) {
            (CommandStatus::Completed, Some(RESULT)) => {
                assert!(
                    completed && !removed,
                    "completed {completed}, removed {removed}"
                )
            }
            (CommandStatus::NotFound, None) => assert!(removed, "gone but nobody removed it"),
            other => panic!("end state {other:?}: neither removed nor completed with its result"),
        }
    });
}
