//! The stores the micro-benchmarks run against, built before anything is timed, and the
//! timed loop of each operation. Every timed operation's answer is counted inside the loop and
//! asserted after it.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use idemstore::{
    ClaimOutcome, ClaimTicket, CommandResult, CommandStatus, ManualClock, MemoryStore,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::parallel::{bounds, run_parts, split, split_mut};

/// Record looks per wheel step: the budget the background cleaner gives each of its steps.
const WHEEL_BUDGET: usize = 4096;

/// How far the clock moves to make the wheel's records due: past the default Completed age
/// (24 h), which is also past the wheel's revisit period (the shortest age, 30 min).
const PAST_COMPLETED_AGE: Duration = Duration::from_secs(24 * 3600 + 60);

/// UUID-shaped ids (8-4-4-4-12 lowercase hex digits, 36 bytes) drawn from `seed`.
pub fn uuid_like_ids(count: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let hex = format!("{:032x}", rng.r#gen::<u128>());
            let parts = [
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..],
            ];
            parts.join("-")
        })
        .collect()
}

/// Copies of `ids` in a shuffled order, each copy allocated in that order.
fn shuffled_copies(ids: &[String], rng: &mut StdRng) -> Vec<String> {
    let mut order: Vec<&String> = ids.iter().collect();
    order.shuffle(rng);
    order.into_iter().cloned().collect()
}

fn presized(ids: usize) -> MemoryStore {
    MemoryStore::builder().capacity(ids).build()
}

fn claim_fresh(store: &MemoryStore, id: &str) -> ClaimTicket {
    match store.claim(id) {
        Ok(ClaimOutcome::Acquired(ticket)) => ticket,
        other => panic!("setting up: claim of new id {id} answered {other:?}"),
    }
}

fn claim_and_complete(store: &MemoryStore, id: &str, value: u64) {
    let ticket = claim_fresh(store, id);
    let completed = store.complete(id, ticket, CommandResult::new(value));
    assert!(
        matches!(completed, Ok(true)),
        "setting up: complete of {id} answered {completed:?}"
    );
}

/// A pool of ids the store has never seen, and the pre-sized store they are claimed in.
pub struct Fresh {
    ids: Vec<String>,
    store: MemoryStore,
    /// The ids before this index are already claimed in `store`.
    next: usize,
}

impl Fresh {
    pub fn new(ids: Vec<String>) -> Fresh {
        Fresh {
            store: presized(ids.len()),
            ids,
            next: 0,
        }
    }

    /// Claims `iters` new ids on `threads` threads; returns the time the claims took.
    pub fn time_claims(&mut self, iters: u64, threads: usize) -> Duration {
        let mut left = iters as usize;
        let mut elapsed = Duration::ZERO;
        while left > 0 {
            let count = left.min(self.ids.len());
            if self.next + count > self.ids.len() {
                self.store = presized(self.ids.len());
                self.next = 0;
            }
            let (store, batch) = (&self.store, &self.ids[self.next..self.next + count]);
            let (acquired, took) = run_parts(split(batch, threads), |ids| {
                let claim = |id: &String| black_box(store.claim(id));
                let outcomes = ids.iter().map(claim);
                outcomes
                    .filter(|outcome| matches!(outcome, Ok(ClaimOutcome::Acquired(_))))
                    .count()
            });
            assert_eq!(acquired, count, "a claim of a new id was not acquired");
            self.next += count;
            left -= count;
            elapsed += took;
        }
        elapsed
    }
}

/// A store in which every id is Completed, and the order lookups visit the ids in.
pub struct Lookups {
    store: MemoryStore,
    /// The stored ids shuffled, each a copy allocated in this order.
    order: Vec<String>,
    /// Where the next batch starts in `order`: batches continue one another, so an id comes
    /// round again only after every other id was looked up.
    cursor: usize,
}

/// The lookup a batch times.
#[derive(Clone, Copy)]
pub enum Lookup {
    DuplicateClaim,
    Status,
}

impl Lookups {
    pub fn new(ids: &[String], rng: &mut StdRng) -> Lookups {
        let store = presized(ids.len());
        for (value, id) in (0u64..).zip(ids) {
            claim_and_complete(&store, id, value);
        }
        Lookups {
            store,
            order: shuffled_copies(ids, rng),
            cursor: 0,
        }
    }

    /// Runs `iters` lookups on `threads` threads, each thread starting in its own part of the
    /// order; returns the time they took.
    pub fn time(&mut self, lookup: Lookup, iters: u64, threads: usize) -> Duration {
        let len = self.order.len();
        let per_thread = (iters as usize).div_ceil(threads);
        let parts = (0..threads).map(|part| {
            let (start, _) = bounds(len, threads, part);
            let (first, last) = bounds(iters as usize, threads, part);
            ((self.cursor + start) % len, last - first)
        });
        let (store, order) = (&self.store, &self.order[..]);
        let (completed, elapsed) = run_parts(parts.collect(), |(start, count)| {
            let mut at = start;
            let mut completed = 0;
            for _ in 0..count {
                let id = &order[at];
                completed += usize::from(match lookup {
                    Lookup::DuplicateClaim => matches!(
                        black_box(store.claim(id)),
                        Ok(ClaimOutcome::Existing(CommandStatus::Completed))
                    ),
                    Lookup::Status => {
                        matches!(black_box(store.status(id)), Ok(CommandStatus::Completed))
                    }
                });
                at += 1;
                if at == order.len() {
                    at = 0;
                }
            }
            completed
        });
        assert_eq!(completed, iters as usize, "a lookup did not find Completed");
        self.cursor = (self.cursor + per_thread) % len;
        elapsed
    }
}

/// An id claimed ahead of a timed complete.
struct Claimed {
    id: String,
    ticket: ClaimTicket,
    /// Made with the claim, so the timed complete does not allocate it.
    result: Option<CommandResult>,
}

/// A store in which every id of a pool is claimed, and the order the completes visit them in.
pub struct Armed {
    store: MemoryStore,
    /// The ids shuffled, in the order the completes visit them.
    queue: Vec<Claimed>,
    /// Positions in `queue` in the order they are claimed: another shuffle, so the completes
    /// do not meet the records in the order they were allocated.
    claim_order: Vec<usize>,
    /// The entries of `queue` before this index are completed.
    next: usize,
}

impl Armed {
    pub fn new(ids: &[String], rng: &mut StdRng) -> Armed {
        let queue = shuffled_copies(ids, rng).into_iter().map(|id| Claimed {
            id,
            ticket: ClaimTicket {
                incarnation: 0,
                generation: 0,
            },
            result: None,
        });
        let mut claim_order: Vec<usize> = (0..ids.len()).collect();
        claim_order.shuffle(rng);
        let mut armed = Armed {
            store: presized(ids.len()),
            queue: queue.collect(),
            claim_order,
            next: 0,
        };
        armed.arm();
        armed
    }

    /// Replaces the store with a fresh one in which every id of the queue is claimed.
    fn arm(&mut self) {
        self.store = presized(self.queue.len());
        for &position in &self.claim_order {
            let claimed = &mut self.queue[position];
            claimed.ticket = claim_fresh(&self.store, &claimed.id);
            claimed.result = Some(CommandResult::new(position as u64));
        }
        self.next = 0;
    }

    /// Completes `iters` claimed ids on `threads` threads; returns the time the completes took.
    pub fn time_completes(&mut self, iters: u64, threads: usize) -> Duration {
        let mut left = iters as usize;
        let mut elapsed = Duration::ZERO;
        while left > 0 {
            let count = left.min(self.queue.len());
            if self.next + count > self.queue.len() {
                self.arm();
            }
            let store = &self.store;
            let batch = &mut self.queue[self.next..self.next + count];
            let (completed, took) = run_parts(split_mut(batch, threads), |claims| {
                let mut completed = 0;
                for claimed in claims {
                    let result = claimed
                        .result
                        .take()
                        .expect("every queued claim has a result");
                    let outcome = store.complete(&claimed.id, claimed.ticket, result);
                    completed += usize::from(matches!(black_box(outcome), Ok(true)));
                }
                completed
            });
            assert_eq!(completed, count, "a complete of an owned claim failed");
            self.next += count;
            left -= count;
            elapsed += took;
        }
        elapsed
    }
}

/// A store on a manual clock whose wheel is given batches of due records to remove.
pub struct Wheel {
    clock: ManualClock,
    store: MemoryStore,
    /// Made due a batch at a time; every batch is removed by its round, so the ids are reused.
    due: Vec<String>,
}

impl Wheel {
    /// A store holding `background` as Indeterminate ids, which never expire, and which the
    /// wheel has already looked at and let go of.
    pub fn new(background: &[String], due: Vec<String>) -> Wheel {
        let clock = ManualClock::new();
        let store = MemoryStore::builder()
            .clock(Arc::new(clock.clone()))
            .capacity(background.len() + due.len())
            .build();
        for id in background {
            let ticket = claim_fresh(&store, id);
            let marked = store.mark_indeterminate(id, ticket);
            assert!(
                matches!(marked, Ok(true)),
                "setting up: marking {id} answered {marked:?}"
            );
        }
        clock.advance(PAST_COMPLETED_AGE);
        let step = store.run_expiry(usize::MAX);
        assert_eq!(
            (step.removed, step.rescheduled),
            (0, 0),
            "setting up: the wheel kept or removed an Indeterminate id"
        );
        Wheel { clock, store, due }
    }

    /// Removes `iters` due records with wheel steps on `threads` threads; returns the time the
    /// steps took.
    pub fn time_steps(&mut self, iters: u64, threads: usize) -> Duration {
        let mut left = iters as usize;
        let mut elapsed = Duration::ZERO;
        while left > 0 {
            let count = left.min(self.due.len());
            for (value, id) in (0u64..).zip(&self.due[..count]) {
                claim_and_complete(&self.store, id, value);
            }
            let handed = self.store.run_expiry(usize::MAX);
            assert_eq!(
                (handed.removed, handed.rescheduled),
                (0, 0),
                "a record was due before the clock moved"
            );
            self.clock.advance(PAST_COMPLETED_AGE);

            let store = &self.store;
            let (removed, took) = run_parts(vec![(); threads], |()| {
                let mut removed = 0;
                loop {
                    let step = black_box(store.run_expiry(WHEEL_BUDGET));
                    assert_eq!(
                        step.rescheduled + step.lapsed,
                        0,
                        "a wheel step looked at a record it did not remove"
                    );
                    removed += step.removed as usize;
                    if !step.more {
                        return removed;
                    }
                }
            });
            assert_eq!(
                removed, count,
                "the wheel steps did not remove every due record"
            );
            left -= count;
            elapsed += took;
        }
        elapsed
    }
}
