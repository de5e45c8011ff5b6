//! Writers racing a shard migration. The store has one shard whose first table (16 slots,
//! load limit 12) is filled to its limit before the threads start, so the first insert of a
//! new id has to migrate every record into the next table while another thread works on an
//! id whose slot is being frozen and copied.

use loom::sync::Arc;
use loom::thread;

use idemstore_loom_tests::harness::{
    TINY_CAPACITY, TINY_LOAD_LIMIT, check, register_fillers, result_of, status_and_result,
    tiny_store,
};
use idemstore_loom_tests::{ClaimOutcome, CommandStatus, MemoryStore};

/// The id whose slot the migration freezes while a thread works on it.
const MOVING: &str = "moving";
/// The id whose insert crosses the load limit and migrates the shard.
const NEWCOMER: &str = "newcomer";

/// Registers fillers until the tiny store's table is at its load limit, so that the next
/// insert migrates it. `MOVING` must already be in the store.
fn fill_to_load_limit(store: &MemoryStore) -> Vec<String> {
    let fillers = register_fillers(store, TINY_LOAD_LIMIT - 1);
    assert_eq!(store.len(), TINY_LOAD_LIMIT);
    assert_eq!(store.slot_capacity(), TINY_CAPACITY);
    fillers
}

/// The newcomer migrated the shard, and every filler it had to move is there as it was.
fn assert_migrated_intact(store: &MemoryStore, fillers: &[String]) {
    assert!(
        store.slot_capacity() > TINY_CAPACITY,
        "the shard was not migrated"
    );
    for id in fillers {
        assert_eq!(store.status(id).unwrap(), CommandStatus::NotStarted, "{id}");
    }
}

#[test]
fn claim_and_complete_of_an_existing_id_survive_a_concurrent_migration() {
    check(3, || {
        let store = tiny_store();
        assert!(store.register(MOVING).unwrap());
        let fillers = fill_to_load_limit(&store);
        let store = Arc::new(store);

        let newcomer = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.claim(NEWCOMER).unwrap())
        };
        let ticket = store
            .claim(MOVING)
            .unwrap()
            .ticket()
            .expect("nobody else claims");
        let completed = store.complete(MOVING, ticket, result_of(5)).unwrap();
        let newcomer = newcomer.join().unwrap();

        assert!(
            completed,
            "the owner's completion was lost in the migration"
        );
        assert!(
            newcomer.ticket().is_some(),
            "the newcomer's claim found {newcomer:?}"
        );
        assert_eq!(
            status_and_result(&store, MOVING),
            (CommandStatus::Completed, Some(5))
        );
        assert_eq!(store.status(NEWCOMER).unwrap(), CommandStatus::InProgress);
        assert_eq!(store.len(), TINY_LOAD_LIMIT + 1);
        assert_migrated_intact(&store, &fillers);
    });
}

#[test]
fn claims_of_one_id_on_both_sides_of_a_migration_acquire_it_once() {
    check(3, || {
        let store = tiny_store();
        assert!(store.register(MOVING).unwrap());
        let fillers = fill_to_load_limit(&store);
        let store = Arc::new(store);

        let migrating = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let newcomer = store.claim(NEWCOMER).unwrap();
                (newcomer, store.claim(MOVING).unwrap())
            })
        };
        let mine = store.claim(MOVING).unwrap();
        let (newcomer, theirs) = migrating.join().unwrap();

        assert!(
            newcomer.ticket().is_some(),
            "the newcomer's claim found {newcomer:?}"
        );
        let acquired = [mine, theirs]
            .iter()
            .filter(|o| o.ticket().is_some())
            .count();
        assert_eq!(acquired, 1, "claims {mine:?} and {theirs:?}");
        for outcome in [mine, theirs].into_iter().filter(|o| o.ticket().is_none()) {
            assert_eq!(outcome, ClaimOutcome::Existing(CommandStatus::InProgress));
        }
        assert_eq!(store.status(MOVING).unwrap(), CommandStatus::InProgress);
        assert_migrated_intact(&store, &fillers);
    });
}

#[test]
fn remove_racing_a_migration_is_neither_lost_nor_undone() {
    check(3, || {
        let store = tiny_store();
        assert!(store.register(MOVING).unwrap());
        let fillers = fill_to_load_limit(&store);
        let store = Arc::new(store);

        let newcomer = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.claim(NEWCOMER).unwrap())
        };
        let removed = store.remove(MOVING).unwrap();
        let newcomer = newcomer.join().unwrap();

        assert!(removed, "the removal found nothing");
        assert!(
            newcomer.ticket().is_some(),
            "the newcomer's claim found {newcomer:?}"
        );
        assert_eq!(
            status_and_result(&store, MOVING),
            (CommandStatus::NotFound, None)
        );
        assert_eq!(store.len(), TINY_LOAD_LIMIT);
        assert_migrated_intact(&store, &fillers);
    });
}

/// An owner completes while the migration moves its record and an override (`set_result`)
/// fences its claim in the next table: the override's result must stand, readable.
///
/// If this model fails with "Model exceeded maximum number of branches", a reader is spinning
/// in `read_result` on a Completed word whose cell holds another generation's value: the
/// stale owner's result replaced the override's.
#[test]
fn stale_complete_across_a_migration_never_replaces_the_overriding_result() {
    check(3, || {
        let store = tiny_store();
        let stale = store.claim(MOVING).unwrap().ticket().unwrap();
        let fillers = fill_to_load_limit(&store);
        let store = Arc::new(store);

        let stale_owner = {
            let store = Arc::clone(&store);
            thread::spawn(move || store.complete(MOVING, stale, result_of(1)).unwrap())
        };
        assert!(store.claim(NEWCOMER).unwrap().ticket().is_some());
        store.set_result(MOVING, result_of(2)).unwrap();
        let _ = stale_owner.join().unwrap();

        assert_eq!(
            status_and_result(&store, MOVING),
            (CommandStatus::Completed, Some(2))
        );
        assert_migrated_intact(&store, &fillers);
    });
}
