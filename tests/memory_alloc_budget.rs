//! How many heap allocations `MemoryStore`'s synchronous calls make, counted exactly.
//!
//! A counting global allocator adds every allocation to a counter of the thread that made it,
//! so tests running at the same time on other threads do not disturb the count.
//!
//! Before measuring, each test builds a store large enough that no table grows during the
//! measured calls (and checks afterwards that none did), and makes one call on the measuring
//! thread, which registers the thread with crossbeam-epoch (an allocation made once per
//! thread). Nothing in this binary removes records, so no deferred garbage builds up that a
//! later pin could have to allocate for while collecting it.
//!
//! What the calls allocate, as measured here:
//!
//! | call                                            | allocations                          |
//! | ----------------------------------------------- | ------------------------------------ |
//! | `status`, `result` (found or not)               | none                                 |
//! | `claim` of an id that has a record              | none                                 |
//! | `claim` of a new id                             | one: the record (header and key)     |
//! | `complete`                                      | one: the cell that holds the result  |
//! | any call through `dyn IdempotencyStore`         | one more: the boxed future           |
//!
//! `CommandResult::new` itself allocates the `Arc` around the value; that is the caller's,
//! made before `complete` is called.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use idemstore::{ClaimOutcome, ClaimTicket, CommandResult, IdempotencyStore, MemoryStore};

/// Ids each test works on.
const IDS: usize = 10_000;

thread_local! {
    /// Allocations made by this thread. Const-initialised and without a destructor, so using
    /// it from inside the allocator never allocates or registers anything.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only a thread-local `Cell`.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn count_one() {
    // `try_with`: a thread being torn down may still allocate; it is not measured.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

/// Runs `f` and returns its value with the allocations this thread made meanwhile.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (value, ALLOCATIONS.with(Cell::get) - before)
}

/// A store sized for four times `IDS` (so that no shard reaches its load limit however the
/// ids spread), with this thread already registered with the epoch collector.
fn presized_store() -> MemoryStore {
    let store = MemoryStore::builder().capacity(4 * IDS).build();
    store.status("warm-up").unwrap();
    store
}

fn ids(prefix: &str) -> Vec<String> {
    (0..IDS).map(|n| format!("{prefix}-{n}")).collect()
}

/// Claims every id, completing the even ones and leaving the odd ones running.
fn half_completed(store: &MemoryStore, ids: &[String]) {
    for (n, id) in ids.iter().enumerate() {
        let ticket = store.claim(id).unwrap().ticket().unwrap();
        if n % 2 == 0 {
            assert!(store.complete(id, ticket, CommandResult::new(n)).unwrap());
        }
    }
}

#[test]
fn status_and_result_reads_allocate_nothing() {
    let store = presized_store();
    let (present, absent) = (ids("present"), ids("absent"));
    half_completed(&store, &present);

    let (found, allocations) = allocations_in(|| {
        let mut found = 0;
        for id in present.iter().chain(&absent) {
            store.status(id).unwrap();
            found += usize::from(store.result(id).unwrap().is_some());
        }
        found
    });

    assert_eq!(
        found,
        IDS / 2,
        "every completed id read back with its result"
    );
    assert_eq!(allocations, 0, "{} reads allocated", 4 * IDS);
}

#[test]
fn duplicate_claims_of_existing_ids_allocate_nothing() {
    let store = presized_store();
    let existing = ids("existing");
    half_completed(&store, &existing);

    let (refused, allocations) = allocations_in(|| {
        existing
            .iter()
            .filter(|id| matches!(store.claim(id).unwrap(), ClaimOutcome::Existing(_)))
            .count()
    });

    assert_eq!(refused, IDS, "every duplicate claim was refused");
    assert_eq!(allocations, 0, "{IDS} duplicate claims allocated");
}

#[test]
fn first_claim_of_a_new_id_allocates_at_most_once() {
    let store = presized_store();
    let fresh = ids("fresh");
    let capacity = store.slot_capacity();

    let per_claim: Vec<(Option<ClaimTicket>, u64)> = fresh
        .iter()
        .map(|id| allocations_in(|| store.claim(id).unwrap().ticket()))
        .collect();

    assert_eq!(
        store.slot_capacity(),
        capacity,
        "a table grew: the measurement is void"
    );
    assert!(per_claim.iter().all(|(ticket, _)| ticket.is_some()));
    let most = per_claim.iter().map(|(_, allocations)| *allocations).max();
    assert_eq!(most, Some(1), "the most any first claim allocated");
}

#[test]
fn complete_allocates_exactly_the_result_cell() {
    let store = presized_store();
    let claimed = ids("claimed");
    let tickets: Vec<ClaimTicket> = claimed
        .iter()
        .map(|id| store.claim(id).unwrap().ticket().unwrap())
        .collect();
    let results: Vec<CommandResult> = (0..IDS).map(CommandResult::new).collect();

    let per_complete: Vec<u64> = claimed
        .iter()
        .zip(tickets)
        .zip(results)
        .map(|((id, ticket), result)| {
            let (completed, allocations) =
                allocations_in(|| store.complete(id, ticket, result).unwrap());
            assert!(completed, "{id}");
            allocations
        })
        .collect();

    assert!(
        per_complete.iter().all(|a| *a == 1),
        "allocations per complete: {per_complete:?}"
    );
}

#[test]
fn calls_through_the_trait_add_only_the_boxed_future() {
    let store = presized_store();
    let present = ids("through-trait");
    half_completed(&store, &present);
    let store: &dyn IdempotencyStore = &store;
    // A claim that finds a Completed id first builds the store's shared placeholder result,
    // once per process; do that outside the measurement.
    for id in &present {
        ready(store.claim(id)).unwrap();
    }

    let (_, allocations) = allocations_in(|| {
        for id in &present {
            ready(store.status(id)).unwrap();
            ready(store.result(id)).unwrap();
            ready(store.claim(id)).unwrap();
        }
    });

    assert_eq!(
        allocations,
        3 * IDS as u64,
        "one boxed future per call and nothing else"
    );
}

/// Polls a future that must be ready at once (the in-memory store never waits).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory call returned Pending"),
    }
}
