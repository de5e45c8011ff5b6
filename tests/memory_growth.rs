//! `MemoryStore` tables growing from empty under contention, and staying bounded under churn.
//!
//! Unoptimised builds (plain `cargo test`) run smaller sizes, so that run stays at a few
//! seconds on two cores; `cargo test --release` runs the full sizes.

use std::sync::atomic::{AtomicU8, Ordering};
use std::thread;

use idemstore::{ClaimOutcome, CommandResult, CommandStatus, MemoryStore};

/// Threads racing over the same ids.
const RACERS: usize = 4;
/// Ids every racer tries to claim.
const GROWTH_IDS: usize = if cfg!(debug_assertions) {
    150_000
} else {
    500_000
};
/// Ids churned in and out of one shard.
const CHURN_IDS: usize = 1_000;
/// Insert-and-remove passes over the churned ids: a million of each in optimised builds.
const CHURN_ROUNDS: usize = if cfg!(debug_assertions) { 500 } else { 1_000 };

fn id(n: usize) -> String {
    format!("growth-{n}")
}

/// Every racer claims every id in the same order, so most ids are contended; each winner
/// completes with the id's number. Returns how many times each id was won.
fn race_to_claim_every_id(store: &MemoryStore) -> Vec<u8> {
    let wins: Vec<AtomicU8> = (0..GROWTH_IDS).map(|_| AtomicU8::new(0)).collect();
    thread::scope(|scope| {
        for _ in 0..RACERS {
            scope.spawn(|| {
                for (n, won) in wins.iter().enumerate() {
                    let id = id(n);
                    if let ClaimOutcome::Acquired(ticket) = store.claim(&id).unwrap() {
                        won.fetch_add(1, Ordering::Relaxed);
                        let result = CommandResult::new(n as u64);
                        assert!(store.complete(&id, ticket, result).unwrap(), "{id}");
                    }
                }
            });
        }
    });
    wins.into_iter().map(AtomicU8::into_inner).collect()
}

/// Removes every id, split over the racers; each removal must find its record.
fn remove_every_id(store: &MemoryStore) {
    thread::scope(|scope| {
        for racer in 0..RACERS {
            scope.spawn(move || {
                for n in (racer..GROWTH_IDS).step_by(RACERS) {
                    assert!(store.remove(&id(n)).unwrap(), "{}", id(n));
                }
            });
        }
    });
}

fn growth_from_empty_claims_each_id_once_and_survives_remove_and_reinsert(store: MemoryStore) {
    let empty_capacity = store.slot_capacity();

    let wins = race_to_claim_every_id(&store);

    let miscounted: Vec<_> = wins
        .iter()
        .enumerate()
        .filter(|(_, w)| **w != 1)
        .take(5)
        .collect();
    assert!(
        miscounted.is_empty(),
        "ids not won exactly once: {miscounted:?}"
    );
    assert_eq!(store.len(), GROWTH_IDS);
    assert!(
        store.slot_capacity() > empty_capacity,
        "the tables never grew"
    );
    for n in 0..GROWTH_IDS {
        let id = id(n);
        assert_eq!(store.status(&id).unwrap(), CommandStatus::Completed, "{id}");
        let result = store
            .result(&id)
            .unwrap()
            .expect("a completed id has its result");
        assert_eq!(result.downcast_ref::<u64>(), Some(&(n as u64)), "{id}");
    }

    remove_every_id(&store);

    assert_eq!(store.len(), 0);
    assert!((0..GROWTH_IDS).all(|n| store.status(&id(n)).unwrap() == CommandStatus::NotFound));
    for n in 0..GROWTH_IDS {
        assert!(store.claim(&id(n)).unwrap().ticket().is_some(), "{}", id(n));
    }
    assert_eq!(store.len(), GROWTH_IDS);
}

#[test]
fn racing_claims_grow_a_default_store_from_empty_and_win_each_id_once() {
    growth_from_empty_claims_each_id_once_and_survives_remove_and_reinsert(MemoryStore::new());
}

#[test]
fn racing_claims_grow_a_single_shard_from_sixteen_slots_and_win_each_id_once() {
    let store = MemoryStore::builder().shards(1).build();

    growth_from_empty_claims_each_id_once_and_survives_remove_and_reinsert(store);
}

/// The largest table the sizing rule builds for `live` records: they fill at most three
/// eighths of a rebuilt table, rounded up to a power of two.
fn largest_table_for(live: usize) -> usize {
    (live * 8 / 3).next_power_of_two()
}

/// Inserts and removes `ids` `rounds` times on `store`; returns the largest slot capacity
/// seen after any pass.
fn churn(store: &MemoryStore, ids: &[String], rounds: usize) -> usize {
    let mut largest = 0;
    for _ in 0..rounds {
        for id in ids {
            assert!(store.claim(id).unwrap().ticket().is_some(), "{id}");
        }
        largest = largest.max(store.slot_capacity());
        for id in ids {
            assert!(store.remove(id).unwrap(), "{id}");
        }
        largest = largest.max(store.slot_capacity());
    }
    largest
}

#[test]
fn insert_remove_churn_on_one_shard_keeps_slot_capacity_bounded() {
    let store = MemoryStore::builder().shards(1).build();
    let ids: Vec<String> = (0..CHURN_IDS).map(|n| format!("churn-{n}")).collect();

    let largest = churn(&store, &ids, CHURN_ROUNDS);

    // Every insert uses a fresh slot and every removal leaves a tombstone, so without the
    // same-size rebuild the table would reach millions of slots here.
    assert!(
        largest <= largest_table_for(CHURN_IDS),
        "{} inserts of {CHURN_IDS} ids grew the shard to {largest} slots",
        CHURN_IDS * CHURN_ROUNDS
    );
    assert_eq!(store.len(), 0);
    assert!(
        ids.iter()
            .all(|id| store.claim(id).unwrap().ticket().is_some())
    );
    assert_eq!(store.len(), CHURN_IDS);
}

#[test]
fn concurrent_churn_on_one_shard_keeps_slot_capacity_bounded() {
    let store = MemoryStore::builder().shards(1).build();
    let halves: Vec<Vec<String>> = (0..2)
        .map(|half| {
            (0..CHURN_IDS / 2)
                .map(|n| format!("churn-{half}-{n}"))
                .collect()
        })
        .collect();

    let largest = thread::scope(|scope| {
        let churners: Vec<_> = halves
            .iter()
            .map(|ids| scope.spawn(|| churn(&store, ids, CHURN_ROUNDS / 2)))
            .collect();
        churners
            .into_iter()
            .map(|c| c.join().unwrap())
            .max()
            .unwrap()
    });

    // A rebuild sized while the other writer has an insert in flight counts at most one
    // record more than are live, which stays under the same power of two.
    assert!(
        largest <= largest_table_for(CHURN_IDS),
        "concurrent churn of {CHURN_IDS} ids grew the shard to {largest} slots"
    );
    assert_eq!(store.len(), 0);
}
