//! Micro-benchmarks of [`MemoryStore`]'s single operations at one and two threads, so that a
//! slowdown in one path shows as its own number instead of hiding in a mixed workload.
//!
//! # What is measured
//!
//! One criterion iteration is one operation (for `wheel_step`, one removed record) and every
//! group declares one element per iteration, so criterion reports the time per operation and
//! the throughput in operations per second; at two threads the throughput is both threads'
//! together. Benchmark ids are `<group>/1t` and `<group>/2t`.
//!
//! - `claim_new`: `claim` of an id the store has never seen: an insert, including the hand-over
//!   of the new record to the expiry wheel. The store is pre-sized for its pool of fresh ids,
//!   so no table migration is timed; when the pool runs out, the full store is dropped and an
//!   empty one built, outside the timed section.
//! - `dup_claim`: `claim` of an id that is Completed, the redelivery path.
//! - `status`: `status` of an id that is Completed.
//! - `complete`: `complete` of an id claimed earlier, with its result made beforehand (the
//!   store's own cell for it is still allocated in the timed call). The claims (the whole pool,
//!   in an order unrelated to the order of the completes) and the results are made outside the
//!   timed section, again in a fresh store whenever the claimed ids run out.
//! - `wheel_step`: `run_expiry(4096)` calls, the step the background cleaner takes, until the
//!   due records are removed; the time is divided by the records removed, so the fixed cost of
//!   a call (taking the wheel's lock, handing each shard's replaced tables to the epoch) is
//!   spread over up to 4,096 removals. The store runs on a `ManualClock` and holds a background
//!   of one million Indeterminate ids, which never expire and which the wheel let go of before
//!   anything is timed, so that its tables are as large as the other groups'. Outside the
//!   timed section each round claims and completes a batch of up to a million ids, hands them
//!   to the wheel with a step that finds nothing due, and moves the clock past the Completed
//!   age.
//!
//! # Store size and access order
//!
//! Every store holds (or, for `claim_new`, `complete` and the due batches, is sized for)
//! 1,000,000 ids: UUID-shaped 36-byte strings made from fixed seeds before anything is timed.
//! With its records and slots such a store takes well over 100 MB, far more than a last-level
//! cache, so the lookups below miss in cache as they would in a service. `dup_claim` and
//! `status` visit the one-million-id Completed store in a shuffled order, each batch continuing
//! where the previous one stopped, so an id comes round again only after every other id was
//! looked up; the ids looked up are copies made in that shuffled order, so the caller's id
//! bytes are read in sequence while the store's memory is not. `complete` visits its claimed
//! ids in another shuffled order. The ids are synthetic because the largest trace in
//! `../shared/traces/` has 90,468 distinct ids, too few to leave the cache.
//!
//! # Threads
//!
//! At two threads both threads work on the same store on disjoint ids (disjoint halves of the
//! batch), start together at a barrier, and the time is from the first start to the last
//! finish. `wheel_step` cannot be pointed at ids: both threads call `run_expiry` on the one
//! store until nothing is due.
//!
//! LIMITATION: the wheel has one lock (a concurrent `run_expiry` waits for the running one), so
//! `wheel_step/2t` shows what a second stepping thread costs, not any scaling.
//!
//! LIMITATION: records, result cells and tables freed through the epoch may be freed during a
//! later timed section (for example cells replaced or records removed by an earlier batch);
//! that cost is real but lands on whichever operation pins at the time.
//!
//! # Checks
//!
//! Every timed operation's answer is checked (counted inside the timed loop, asserted after
//! it): a fresh claim must be acquired, a duplicate must find Completed, a status must read
//! Completed, a complete must succeed, and a round of wheel steps must remove exactly the due
//! records and look at nothing else. A store that answers wrongly fails the run instead of
//! reporting a fast number.
//!
//! # Running
//!
//! - `cargo bench --bench micro`: the full run, 30 samples over 8 s per benchmark after a 2 s
//!   warm-up (about two minutes after the build on two busy cores; building and refilling the
//!   stores outside the timed sections adds to the measured time).
//! - `cargo bench --bench micro -- --quick`: criterion's quick mode: each benchmark runs
//!   doubling batches until two successive ones agree within 5 %, with a 1.5 s ceiling (about
//!   half a minute in all, a fifth of it building the stores).
//! - `IDEMSTORE_BENCH_QUICK=1 cargo bench --bench micro`: the usual sampling, shortened to 10
//!   samples over 1.5 s after a 0.5 s warm-up (under a minute).
//! - `cargo bench --bench micro -- status`: one group (a criterion filter). The stores are
//!   built before any benchmark, whatever the filter, which takes several seconds.
//! - `cargo test --benches`: runs each benchmark once against stores of a few thousand ids.
//!
//! The stores and each operation's timed loop are in `micro/fixtures.rs`; cutting a batch
//! across threads and timing it, in `micro/parallel.rs`.

#[path = "micro/fixtures.rs"]
mod fixtures;
#[path = "micro/parallel.rs"]
mod parallel;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use rand::SeedableRng;
use rand::rngs::StdRng;

use fixtures::{Armed, Fresh, Lookup, Lookups, Wheel, uuid_like_ids};

const THREAD_COUNTS: [usize; 2] = [1, 2];

/// Seeds of the ids and of the visit orders, fixed so that every run draws the same ones.
const ID_SEED: u64 = 0x1d5e_ed00;
const BACKGROUND_ID_SEED: u64 = 0xb4c6_6e0d;
const ORDER_SEED: u64 = 0x0bde_5eed;

/// Sizes and times of one run.
struct Plan {
    /// Ids in every store and pool: a million when measuring, a few thousand when criterion
    /// only checks that each benchmark runs (`cargo test --benches`, `--test`, `--list`).
    ids: usize,
    /// `--quick` on the command line (criterion's quick mode) or `IDEMSTORE_BENCH_QUICK` set.
    quick: bool,
}

impl Plan {
    fn from_args() -> Plan {
        let args: Vec<String> = std::env::args().collect();
        let has = |flag: &str| args.iter().any(|arg| arg == flag);
        let measuring = has("--bench") && !has("--test") && !has("--list");
        let quick = has("--quick")
            || std::env::var("IDEMSTORE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        Plan {
            ids: if measuring { 1_000_000 } else { 4096 },
            quick,
        }
    }

    /// Criterion configured for this plan; command-line options still override it. Under
    /// `--quick` criterion ignores the sample size and warm-up and treats the measurement time
    /// as a ceiling.
    fn criterion(&self) -> Criterion {
        let (samples, warm_up, measurement) = if self.quick {
            (10, Duration::from_millis(500), Duration::from_millis(1500))
        } else {
            (30, Duration::from_secs(2), Duration::from_secs(8))
        };
        Criterion::default()
            .sample_size(samples)
            .warm_up_time(warm_up)
            .measurement_time(measurement)
            .configure_from_args()
    }
}

/// One group: the operation `time` measures, at one and two threads, one element per
/// iteration.
fn bench_group(
    criterion: &mut Criterion,
    name: &str,
    mut time: impl FnMut(u64, usize) -> Duration,
) {
    let mut group = criterion.benchmark_group(name);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(1));
    for threads in THREAD_COUNTS {
        let id = BenchmarkId::from_parameter(format!("{threads}t"));
        group.bench_function(id, |bencher| {
            bencher.iter_custom(|iters| time(iters, threads))
        });
    }
    group.finish();
}

/// The machine's one-minute load average: at two threads any other runnable process takes a
/// core from the run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() {
    let plan = Plan::from_args();
    let load_at_start = load_average();
    let mode = if plan.quick { "quick" } else { "full" };
    println!(
        "idemstore micro-benchmarks, {mode} mode: {} ids per store, threads {THREAD_COUNTS:?}",
        plan.ids
    );

    let setup = Instant::now();
    let mut rng = StdRng::seed_from_u64(ORDER_SEED);
    let ids = uuid_like_ids(plan.ids, ID_SEED);
    let mut lookups = Lookups::new(&ids, &mut rng);
    let mut armed = Armed::new(&ids, &mut rng);
    let mut wheel = Wheel::new(&uuid_like_ids(plan.ids, BACKGROUND_ID_SEED), ids.clone());
    let mut fresh = Fresh::new(ids);
    println!("stores built in {:.1} s", setup.elapsed().as_secs_f64());

    let mut criterion = plan.criterion();
    bench_group(&mut criterion, "claim_new", |iters, threads| {
        fresh.time_claims(iters, threads)
    });
    bench_group(&mut criterion, "dup_claim", |iters, threads| {
        lookups.time(Lookup::DuplicateClaim, iters, threads)
    });
    bench_group(&mut criterion, "status", |iters, threads| {
        lookups.time(Lookup::Status, iters, threads)
    });
    bench_group(&mut criterion, "complete", |iters, threads| {
        armed.time_completes(iters, threads)
    });
    bench_group(&mut criterion, "wheel_step", |iters, threads| {
        wheel.time_steps(iters, threads)
    });
    criterion.final_summary();
    println!(
        "cores: {}; one-minute load average {load_at_start} at start, {} at end",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
}
