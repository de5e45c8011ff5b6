//! Expiry on MemoryStore: deadlines as reads see them, the wheel's removals, age-based
//! cleanup, counts and health. Time is a ManualClock: nothing here sleeps to pass.

use std::sync::Arc;
use std::time::Duration;

use idemstore::{
    Acquire, ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, Expiry, Failure,
    FailurePolicy, LapsePolicy, ManualClock, MemoryStore, Resolution,
};

const SECOND: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn store_with(expiry: Expiry) -> (MemoryStore, ManualClock) {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .expiry(expiry)
        .clock(Arc::new(clock.clone()))
        .build();
    (store, clock)
}

fn ages(completed: Duration, failed: Duration, in_progress: Duration) -> Expiry {
    Expiry {
        completed: Some(completed),
        failed: Some(failed),
        in_progress: Some(in_progress),
        not_started: Some(in_progress),
    }
}

fn claim(store: &MemoryStore, id: &str) -> ClaimTicket {
    match store.claim(id).unwrap() {
        ClaimOutcome::Acquired(ticket) => ticket,
        other => panic!("claim of {id} found {other:?}"),
    }
}

/// Runs the wheel until it has nothing more due.
fn run_wheel(store: &MemoryStore) -> (u64, u64) {
    let (mut removed, mut lapsed) = (0, 0);
    loop {
        let step = store.run_expiry(1024);
        removed += step.removed;
        lapsed += step.lapsed;
        if !step.more {
            return (removed, lapsed);
        }
    }
}

#[test]
fn a_record_reads_as_not_found_from_the_instant_it_expires() {
    let (store, clock) = store_with(ages(10 * SECOND, SECOND, SECOND));
    let ticket = claim(&store, "a");
    store
        .complete("a", ticket, CommandResult::new(1_u8))
        .unwrap();

    clock.advance(10 * SECOND - MS);
    assert_eq!(store.status("a").unwrap(), CommandStatus::Completed);

    clock.advance(MS);
    assert_eq!(store.status("a").unwrap(), CommandStatus::NotFound);
    assert!(store.result("a").unwrap().is_none());
    assert!(matches!(
        store.claim("a").unwrap(),
        ClaimOutcome::Acquired(_)
    ));
}

#[test]
fn completing_just_before_the_lease_lapses_keeps_the_result_for_the_full_completion_age() {
    let (store, clock) = store_with(ages(60 * SECOND, SECOND, 5 * SECOND));
    let ticket = claim(&store, "late");

    clock.advance(5 * SECOND - MS);
    assert!(
        store
            .complete("late", ticket, CommandResult::new("done"))
            .unwrap()
    );
    clock.advance(59 * SECOND);
    run_wheel(&store);

    let result = store
        .result("late")
        .unwrap()
        .expect("result kept for the completion age");
    assert_eq!(*result.downcast::<&str>().unwrap(), "done");
    clock.advance(SECOND);
    assert_eq!(store.status("late").unwrap(), CommandStatus::NotFound);
}

#[test]
fn a_wheel_entry_for_one_generation_never_removes_the_next() {
    let (store, clock) = store_with(ages(3600 * SECOND, 3600 * SECOND, 3600 * SECOND));
    let first = match store.acquire("g", None, Some(50 * MS)).unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("{other:?}"),
    };
    store
        .fail("g", first, Failure::new("boom", FailurePolicy::Retryable))
        .unwrap();
    let second = claim(&store, "g");

    clock.advance(60 * MS);
    let (removed, _) = run_wheel(&store);

    assert_eq!(removed, 0);
    assert_eq!(store.status("g").unwrap(), CommandStatus::InProgress);
    assert!(
        store
            .complete("g", second, CommandResult::new(2_u8))
            .unwrap()
    );
}

#[test]
fn the_wheel_removes_expired_records_and_counts_them() {
    let (store, clock) = store_with(ages(100 * MS, SECOND, SECOND));
    for i in 0..1000 {
        let id = format!("id-{i}");
        let ticket = claim(&store, &id);
        store.complete(&id, ticket, CommandResult::new(i)).unwrap();
    }
    assert_eq!(store.len(), 1000);

    clock.advance(100 * MS);
    let (removed, _) = run_wheel(&store);

    assert_eq!(removed, 1000);
    assert_eq!(store.len(), 0);
    assert_eq!(store.health_metrics().expired_removed_total, 1000);
    assert_eq!(store.count_by_status()[&CommandStatus::Completed], 0);
}

#[test]
fn deadlines_at_every_level_and_beyond_the_top_one_are_all_honoured() {
    let year = 365 * 24 * 3600 * SECOND;
    let (store, clock) = store_with(ages(3 * year, year, year));
    let ticket = claim(&store, "far");
    store
        .complete("far", ticket, CommandResult::new(()))
        .unwrap();

    // Step through time in growing strides so the record cascades down every level.
    let mut elapsed = Duration::ZERO;
    let mut stride = 10 * MS;
    while elapsed + stride < 3 * year {
        clock.advance(stride);
        elapsed += stride;
        assert_eq!(run_wheel(&store).0, 0, "removed early at {elapsed:?}");
        stride = (stride * 3).min(30 * 24 * 3600 * SECOND);
    }
    assert_eq!(store.status("far").unwrap(), CommandStatus::Completed);
    clock.advance(3 * year - elapsed);

    assert_eq!(run_wheel(&store).0, 1);
    assert_eq!(store.len(), 0);
}

#[test]
fn a_lapsed_lease_lets_the_next_caller_take_over_and_fences_the_old_owner() {
    let (store, clock) = store_with(ages(3600 * SECOND, SECOND, SECOND));
    let hung = match store.acquire("job", None, Some(50 * MS)).unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("{other:?}"),
    };

    clock.advance(50 * MS);
    let next = claim(&store, "job");

    assert!(
        !store
            .complete("job", hung, CommandResult::new("stale"))
            .unwrap()
    );
    assert!(
        store
            .complete("job", next, CommandResult::new("fresh"))
            .unwrap()
    );
    let result = store.result("job").unwrap().unwrap();
    assert_eq!(*result.downcast::<&str>().unwrap(), "fresh");
}

#[test]
fn with_the_indeterminate_policy_a_lapsed_lease_waits_for_an_operator() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .clock(Arc::new(clock.clone()))
        .lapse_policy(LapsePolicy::Indeterminate)
        .build();
    let hung = match store.acquire("pay", None, Some(50 * MS)).unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("{other:?}"),
    };

    clock.advance(50 * MS);

    assert_eq!(store.status("pay").unwrap(), CommandStatus::Indeterminate);
    assert!(matches!(
        store.acquire("pay", None, None).unwrap(),
        Acquire::Indeterminate
    ));
    assert!(
        !store
            .complete("pay", hung, CommandResult::new(1_u8))
            .unwrap()
    );
    assert!(
        store
            .resolve("pay", Resolution::Completed(CommandResult::new(7_u8)))
            .unwrap()
    );
    assert_eq!(
        *store
            .result("pay")
            .unwrap()
            .unwrap()
            .downcast::<u8>()
            .unwrap(),
        7
    );
}

#[test]
fn age_based_cleanup_spares_young_in_progress_and_all_indeterminate_records() {
    let (store, clock) = store_with(Expiry::never());
    let old_running = claim(&store, "old-running");
    let stuck = claim(&store, "stuck");
    store.mark_indeterminate("stuck", stuck).unwrap();
    clock.advance(10 * SECOND);
    let _young_running = claim(&store, "young-running");
    let done = claim(&store, "done");
    store
        .complete("done", done, CommandResult::new(()))
        .unwrap();
    clock.advance(5 * SECOND);

    let removed = store.auto_cleanup(SECOND, SECOND, 8 * SECOND);

    assert_eq!(removed, 2, "old-running and done");
    assert_eq!(
        store.status("old-running").unwrap(),
        CommandStatus::NotFound
    );
    assert_eq!(store.status("done").unwrap(), CommandStatus::NotFound);
    assert_eq!(
        store.status("young-running").unwrap(),
        CommandStatus::InProgress
    );
    assert_eq!(store.status("stuck").unwrap(), CommandStatus::Indeterminate);
    assert!(
        !store
            .complete("old-running", old_running, CommandResult::new(()))
            .unwrap()
    );
    assert_eq!(
        store.cleanup_expired(Duration::ZERO),
        1,
        "only young-running is left"
    );
    assert_eq!(store.status("stuck").unwrap(), CommandStatus::Indeterminate);
}

#[test]
fn cleanup_by_status_touches_only_that_status() {
    let (store, clock) = store_with(Expiry::never());
    let a = claim(&store, "failed");
    store
        .fail("failed", a, Failure::new("x", FailurePolicy::Retryable))
        .unwrap();
    let b = claim(&store, "completed");
    store
        .complete("completed", b, CommandResult::new(()))
        .unwrap();
    clock.advance(SECOND);

    assert_eq!(
        store.cleanup_by_status(CommandStatus::Failed, Duration::ZERO),
        1
    );
    assert_eq!(store.status("completed").unwrap(), CommandStatus::Completed);
    assert_eq!(
        store.cleanup_by_status(CommandStatus::Indeterminate, Duration::ZERO),
        0
    );
}

#[test]
fn counts_and_health_follow_every_transition() {
    let (store, clock) = store_with(ages(SECOND, 3600 * SECOND, 3600 * SECOND));
    let a = claim(&store, "a");
    let b = claim(&store, "b");
    let _c = claim(&store, "c");
    store.register("d").unwrap();
    store.complete("a", a, CommandResult::new(())).unwrap();
    store
        .fail("b", b, Failure::new("no", FailurePolicy::Terminal))
        .unwrap();

    let health = store.health_metrics();

    assert_eq!(health.total, 4);
    assert_eq!(health.by_status[&CommandStatus::Completed], 1);
    assert_eq!(health.by_status[&CommandStatus::Failed], 1);
    assert_eq!(health.by_status[&CommandStatus::InProgress], 1);
    assert_eq!(health.by_status[&CommandStatus::NotStarted], 1);
    assert_eq!(health.failure_rate_percent, 25.0);
    assert_eq!(health.stuck_percent, 25.0);
    assert_eq!(health.expired_unremoved, 0);

    clock.advance(SECOND);
    assert_eq!(
        store.health_metrics().expired_unremoved,
        1,
        "a expired, not yet removed"
    );
    run_wheel(&store);
    let health = store.health_metrics();
    assert_eq!(health.expired_unremoved, 0);
    assert_eq!(health.total, 3);
    assert_eq!(health.expired_removed_total, 1);
}

#[test]
fn a_terminal_failure_is_replayed_until_it_expires() {
    let (store, clock) = store_with(ages(SECOND, 10 * SECOND, SECOND));
    let ticket = claim(&store, "t");
    store
        .fail(
            "t",
            ticket,
            Failure::new("card declined", FailurePolicy::Terminal),
        )
        .unwrap();

    match store.acquire("t", None, None).unwrap() {
        Acquire::Failed(failure) => assert_eq!(&*failure.message, "card declined"),
        other => panic!("{other:?}"),
    }
    clock.advance(10 * SECOND);

    assert!(matches!(
        store.acquire("t", None, None).unwrap(),
        Acquire::Acquired(_)
    ));
}

#[test]
fn renewing_a_lease_keeps_a_slow_owner_in_charge() {
    let (store, clock) = store_with(ages(SECOND, SECOND, SECOND));
    let ticket = match store.acquire("slow", None, Some(100 * MS)).unwrap() {
        Acquire::Acquired(ticket) => ticket,
        other => panic!("{other:?}"),
    };

    for _ in 0..10 {
        clock.advance(60 * MS);
        assert!(store.renew("slow", ticket, 100 * MS).unwrap());
        run_wheel(&store);
    }

    assert!(matches!(
        store.acquire("slow", None, None).unwrap(),
        Acquire::Running
    ));
    assert!(
        store
            .complete("slow", ticket, CommandResult::new(()))
            .unwrap()
    );
}

#[tokio::test]
async fn a_waiter_returns_when_the_lease_lapses_without_anyone_writing() {
    let store = MemoryStore::new();
    let Acquire::Acquired(_hung) = store.acquire("lapse", None, Some(50 * MS)).unwrap() else {
        panic!("fresh id not acquired");
    };
    let started = std::time::Instant::now();

    let status = store.wait("lapse", 10 * SECOND).await.unwrap();

    assert_eq!(status, CommandStatus::NotFound);
    assert!(
        started.elapsed() < 5 * SECOND,
        "waited {:?} for a 50 ms lease",
        started.elapsed()
    );
}

#[test]
fn a_lease_beyond_the_wheels_reach_neither_hangs_the_wheel_nor_expires_early() {
    let (store, clock) = store_with(Expiry::never());
    let year = 365 * 24 * 3600 * SECOND;
    clock.advance(12_345 * MS);
    let Acquire::Acquired(_) = store.acquire("far", None, Some(3 * year)).unwrap() else {
        panic!("fresh id not acquired");
    };

    let step = store.run_expiry(4096);

    assert!(!step.more && step.removed == 0, "{step:?}");
    clock.advance(2 * year);
    run_wheel(&store);
    assert_eq!(store.status("far").unwrap(), CommandStatus::InProgress);
    clock.advance(year);
    assert_eq!(run_wheel(&store).0, 1);
}

/// A clock that reads like Unix-epoch milliseconds: far larger than the slot word's
/// deadline field, which the store must measure from its own start instead.
#[derive(Debug)]
struct EpochLike(ManualClock);

impl idemstore::Clock for EpochLike {
    fn now_ms(&self) -> u64 {
        1_800_000_000_000 + self.0.now_ms()
    }
}

#[test]
fn a_clock_with_a_large_origin_still_expires_records() {
    let clock = ManualClock::new();
    let store = MemoryStore::builder()
        .expiry(ages(20 * MS, 20 * MS, 20 * MS))
        .clock(Arc::new(EpochLike(clock.clone())))
        .build();
    let _crashed = claim(&store, "crashed");

    clock.advance(20 * MS);

    assert_eq!(store.status("crashed").unwrap(), CommandStatus::NotFound);
    assert!(matches!(
        store.claim("crashed").unwrap(),
        ClaimOutcome::Acquired(_)
    ));
}

/// The system clock's cheap reading decides far deadlines; near one, the precise clock must
/// take over so a record is neither kept past its age nor dropped before it.
#[test]
fn with_the_system_clock_a_record_lives_exactly_its_age_as_readers_see_it() {
    let age = Duration::from_millis(40);
    let store = MemoryStore::builder()
        .expiry(Expiry {
            completed: Some(age),
            ..Expiry::default()
        })
        .build();
    let ticket = store.claim("near").unwrap().ticket().unwrap();
    let done = std::time::Instant::now();
    assert!(
        store
            .complete("near", ticket, CommandResult::from_bytes(vec![1]))
            .unwrap()
    );
    // Each read happened between `before` and `after`, whatever the scheduler did meanwhile;
    // the clock counts whole milliseconds, so either edge may be off by one.
    loop {
        let before = done.elapsed();
        let status = store.status("near").unwrap();
        let after = done.elapsed();
        match status {
            CommandStatus::Completed => assert!(
                before < age + Duration::from_millis(2),
                "still Completed {before:?} after completing with a {age:?} age"
            ),
            CommandStatus::NotFound => {
                assert!(
                    after >= age - Duration::from_millis(1),
                    "gone after {after:?}"
                );
                break;
            }
            other => panic!("unexpected status {other:?}"),
        }
    }
}
