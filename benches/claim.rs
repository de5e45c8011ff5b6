//! Claim throughput of [`MemoryStore`] next to papaya-based stores with the same semantics,
//! all measured in one run so the ratios between them can be quoted.
//!
//! # Contenders
//!
//! - `idemstore`: [`MemoryStore`] through its synchronous API, default settings.
//! - `papaya-arc`: a `papaya::HashMap<Box<str>, Arc<Entry>>`, the shape a service would write
//!   to hand an entry out beyond a guard.
//! - `papaya-inline`: the same map holding `Entry` itself, one allocation and one pointer hop
//!   fewer, to show how much of the gap is the `Arc` rather than the table.
//!
//! An `Entry` is an `AtomicU8` status and a `OnceLock` result slot. A claim looks the id up
//! and, when absent, inserts it as InProgress with `try_insert` (winning if the insert was
//! ours); a found entry is won by CAS-ing its status from a claimable status to InProgress.
//! `try_insert`, not `try_insert_with`: in papaya 0.2.5 the closure variants go through
//! `compute`, which never helps an incremental resize along, so a map grown only through them
//! piles up unfinished resizes and every later lookup walks the chain of tables (measured
//! here at 10 to 20 times slower lookups after growing to 100k ids). A complete looks the id up again, stores the result, then CASes InProgress to
//! Completed, so a reader that sees Completed sees the result. A `OnceLock` suffices because
//! only Completed carries a result and Completed is terminal. Unlike `MemoryStore` the
//! adapter has no fencing: its complete checks InProgress, not a claim ticket, so it does
//! strictly less work. Both sides allocate the same `CommandResult` per complete, take one
//! guard per call (crossbeam-epoch pin, seize guard), and hash with `ahash::RandomState`.
//!
//! # Workloads
//!
//! One criterion iteration is a batch of operations; throughput is reported per operation.
//!
//! - `fresh_grow` / `fresh_presized`: claim then complete each of a batch of new ids in a
//!   store built for that iteration (empty, or pre-sized for the batch). Building and dropping
//!   the store is outside the timed section.
//! - `dup_claim`: claims of ids that are already Completed, the redelivery hot path.
//! - `status`: status reads of existing ids.
//!
//! Lookups run against one pre-populated store per contender and visit its ids in a shuffled
//! order, so neither the table nor the records are walked in memory order. Ids are
//! UUID-shaped 36-byte strings made from a fixed seed before anything is timed. At two threads the threads start together at
//! a barrier, work on disjoint ids, and the time is from the first start to the last finish.
//!
//! # Running
//!
//! `cargo bench --bench claim` runs the full plan (about five minutes);
//! `IDEMSTORE_BENCH_QUICK=1 cargo bench --bench claim` runs small sizes briefly (under two
//! minutes). After criterion's report a summary table prints each workload's median
//! throughput per contender and the ratios, all from samples taken in this process.

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use idemstore::{ClaimOutcome, CommandResult, CommandStatus, MemoryStore};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const THREAD_COUNTS: [usize; 2] = [1, 2];

/// Sizes and times of one run.
struct Plan {
    quick: bool,
    /// Ids claimed and completed per fresh-store iteration.
    fresh_batch: usize,
    /// Ids in the populated store the lookup workloads read.
    lookup_ids: usize,
    /// Lookups per lookup iteration, split across the threads.
    lookup_batch: usize,
    sample_size: usize,
    warm_up: Duration,
    measurement: Duration,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::var("IDEMSTORE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Plan {
                quick,
                fresh_batch: 20_000,
                lookup_ids: 100_000,
                lookup_batch: 20_000,
                sample_size: 10,
                warm_up: Duration::from_millis(300),
                measurement: Duration::from_secs(1),
            }
        } else {
            Plan {
                quick,
                fresh_batch: 100_000,
                lookup_ids: 1_000_000,
                lookup_batch: 100_000,
                sample_size: 30,
                warm_up: Duration::from_millis(1500),
                measurement: Duration::from_secs(4),
            }
        }
    }
}

/// A store under test, seen through the operations the workloads time.
trait Contender: Sync + Sized {
    const NAME: &'static str;

    fn build(presize_for: Option<usize>) -> Self;

    /// Claims `id`, then completes it with `value`. True when both steps won.
    fn claim_and_complete(&self, id: &str, value: u64) -> bool;

    /// Claims `id` again. True when the answer is "already Completed".
    fn claim_finds_completed(&self, id: &str) -> bool;

    fn status(&self, id: &str) -> CommandStatus;
}

impl Contender for MemoryStore {
    const NAME: &'static str = "idemstore";

    fn build(presize_for: Option<usize>) -> Self {
        match presize_for {
            Some(ids) => MemoryStore::builder().capacity(ids).build(),
            None => MemoryStore::new(),
        }
    }

    fn claim_and_complete(&self, id: &str, value: u64) -> bool {
        match self.claim(id) {
            Ok(ClaimOutcome::Acquired(ticket)) => {
                matches!(
                    self.complete(id, ticket, CommandResult::new(value)),
                    Ok(true)
                )
            }
            _ => false,
        }
    }

    fn claim_finds_completed(&self, id: &str) -> bool {
        matches!(
            self.claim(id),
            Ok(ClaimOutcome::Existing(CommandStatus::Completed))
        )
    }

    fn status(&self, id: &str) -> CommandStatus {
        MemoryStore::status(self, id).expect("bench ids are valid")
    }
}

/// The papaya adapter's record of one id. The status is `CommandStatus as u8`.
struct Entry {
    status: AtomicU8,
    result: OnceLock<CommandResult>,
}

const IN_PROGRESS: u8 = CommandStatus::InProgress as u8;
const COMPLETED: u8 = CommandStatus::Completed as u8;

/// How the map holds an entry: behind an `Arc`, or inline in papaya's own node.
trait Handle: Send + Sync + 'static {
    const NAME: &'static str;
    fn wrap(entry: Entry) -> Self;
    fn entry(&self) -> &Entry;
}

impl Handle for Arc<Entry> {
    const NAME: &'static str = "papaya-arc";
    fn wrap(entry: Entry) -> Self {
        Arc::new(entry)
    }
    fn entry(&self) -> &Entry {
        self
    }
}

impl Handle for Entry {
    const NAME: &'static str = "papaya-inline";
    fn wrap(entry: Entry) -> Self {
        entry
    }
    fn entry(&self) -> &Entry {
        self
    }
}

struct PapayaStore<H> {
    map: papaya::HashMap<Box<str>, H, ahash::RandomState>,
}

enum PapayaClaim {
    Acquired,
    Existing(CommandStatus),
}

impl<H: Handle> PapayaStore<H> {
    fn claim(&self, id: &str) -> PapayaClaim {
        let guard = self.map.guard();
        let found = match self.map.get(id, &guard) {
            Some(found) => found,
            None => {
                let claimed = H::wrap(Entry {
                    status: AtomicU8::new(IN_PROGRESS),
                    result: OnceLock::new(),
                });
                match self.map.try_insert(Box::from(id), claimed, &guard) {
                    Ok(_) => return PapayaClaim::Acquired,
                    Err(occupied) => occupied.current,
                }
            }
        };
        let status = &found.entry().status;
        let mut seen = status.load(Ordering::Acquire);
        loop {
            let current = CommandStatus::ALL[usize::from(seen)];
            if !current.is_claimable() {
                return PapayaClaim::Existing(current);
            }
            match status.compare_exchange(seen, IN_PROGRESS, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return PapayaClaim::Acquired,
                Err(now) => seen = now,
            }
        }
    }

    fn complete(&self, id: &str, result: CommandResult) -> bool {
        let guard = self.map.guard();
        let Some(found) = self.map.get(id, &guard) else {
            return false;
        };
        let entry = found.entry();
        if entry.status.load(Ordering::Acquire) != IN_PROGRESS || entry.result.set(result).is_err()
        {
            return false;
        }
        // Release pairs with the acquire status loads: whoever reads Completed sees the result.
        entry
            .status
            .compare_exchange(IN_PROGRESS, COMPLETED, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }
}

impl<H: Handle> Contender for PapayaStore<H> {
    const NAME: &'static str = H::NAME;

    fn build(presize_for: Option<usize>) -> Self {
        let builder = papaya::HashMap::<Box<str>, H>::builder()
            .hasher(ahash::RandomState::new())
            .capacity(presize_for.unwrap_or(0));
        PapayaStore {
            map: builder.build(),
        }
    }

    fn claim_and_complete(&self, id: &str, value: u64) -> bool {
        matches!(self.claim(id), PapayaClaim::Acquired)
            && self.complete(id, CommandResult::new(value))
    }

    fn claim_finds_completed(&self, id: &str) -> bool {
        matches!(
            self.claim(id),
            PapayaClaim::Existing(CommandStatus::Completed)
        )
    }

    fn status(&self, id: &str) -> CommandStatus {
        let guard = self.map.guard();
        self.map
            .get(id, &guard)
            .map_or(CommandStatus::NotFound, |found| {
                CommandStatus::ALL[usize::from(found.entry().status.load(Ordering::Acquire))]
            })
    }
}

/// UUID-shaped ids (8-4-4-4-12 hex digits, 36 bytes) from a fixed seed.
fn uuid_like_ids(count: usize, seed: u64) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let bits: u128 = rng.r#gen();
            format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                bits >> 96,
                (bits >> 80) & 0xffff,
                (bits >> 64) & 0xffff,
                (bits >> 48) & 0xffff,
                bits & 0xffff_ffff_ffff
            )
        })
        .collect()
}

/// Runs `work(thread)` on `threads` threads released together; returns the time from the
/// first thread's start to the last one's finish. One thread runs on the caller.
fn run_parallel(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    if threads == 1 {
        let start = Instant::now();
        work(0);
        return start.elapsed();
    }
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    work(thread);
                    (start, Instant::now())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("bench worker panicked"))
            .collect()
    });
    let first = spans
        .iter()
        .map(|span| span.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|span| span.1)
        .max()
        .expect("at least one thread");
    last - first
}

/// Thread `thread`'s share of `ids` when `threads` split them evenly.
fn share(ids: &[String], thread: usize, threads: usize) -> &[String] {
    let per_thread = ids.len() / threads;
    &ids[thread * per_thread..(thread + 1) * per_thread]
}

/// One iter_custom call: `operations` timed in `elapsed`.
struct Sample {
    workload: &'static str,
    threads: usize,
    contender: &'static str,
    operations: u64,
    elapsed: Duration,
}

static SAMPLES: Mutex<Vec<Sample>> = Mutex::new(Vec::new());

fn record(workload: &'static str, threads: usize, contender: &'static str, ops: u64, t: Duration) {
    SAMPLES.lock().expect("sample log poisoned").push(Sample {
        workload,
        threads,
        contender,
        operations: ops,
        elapsed: t,
    });
}

fn bench_fresh<C: Contender>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    workload: &'static str,
    ids: &[String],
    threads: usize,
    presize: bool,
) {
    let id = BenchmarkId::new(C::NAME, format!("{threads}t"));
    group.bench_function(id, |bencher| {
        bencher.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let store = C::build(presize.then_some(ids.len()));
                let won = AtomicUsize::new(0);
                elapsed += run_parallel(threads, |thread| {
                    let mut wins = 0;
                    for (value, id) in (0u64..).zip(share(ids, thread, threads)) {
                        wins += usize::from(black_box(store.claim_and_complete(id, value)));
                    }
                    won.fetch_add(wins, Ordering::Relaxed);
                });
                let won = won.into_inner();
                assert_eq!(
                    won,
                    ids.len() / threads * threads,
                    "{} lost a fresh claim",
                    C::NAME
                );
                drop(store);
            }
            record(
                workload,
                threads,
                C::NAME,
                iters * ids.len() as u64,
                elapsed,
            );
            elapsed
        })
    });
}

/// A store in which every id of `ids` is Completed.
fn populated<C: Contender>(ids: &[String]) -> C {
    let store = C::build(None);
    let won = (0u64..)
        .zip(ids)
        .filter(|(value, id)| store.claim_and_complete(id, *value));
    assert_eq!(
        won.count(),
        ids.len(),
        "{} lost a claim while populating",
        C::NAME
    );
    store
}

#[derive(Clone, Copy)]
enum Lookup {
    DuplicateClaim,
    Status,
}

impl Lookup {
    fn workload(self) -> &'static str {
        match self {
            Lookup::DuplicateClaim => "dup_claim",
            Lookup::Status => "status",
        }
    }
}

/// The ids a lookup workload stores, and the order it looks them up in.
struct LookupIds {
    /// Inserted in this order, so records and keys sit in memory in this order.
    stored: Vec<String>,
    /// The same ids shuffled, each a fresh copy: lookups do not walk the stores' memory in
    /// allocation order (which would let the prefetcher hide the misses), while the bytes
    /// of the id being looked up are read sequentially, as a message's id would be in cache.
    order: Vec<String>,
}

impl LookupIds {
    fn new(count: usize) -> LookupIds {
        let stored = uuid_like_ids(count, 0xd0b1_1ca7e);
        let mut positions: Vec<usize> = (0..count).collect();
        positions.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x5eed));
        let order = positions.iter().map(|&at| stored[at].clone()).collect();
        LookupIds { stored, order }
    }
}

fn bench_lookup<C: Contender>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    lookup: Lookup,
    store: &OnceCell<C>,
    lookup_ids: &LookupIds,
    batch: usize,
    threads: usize,
) {
    let per_thread = batch / threads;
    let ids = &lookup_ids.order[..];
    let mut cursor = 0;
    group.bench_function(
        BenchmarkId::new(C::NAME, format!("{threads}t")),
        |bencher| {
            let store = store.get_or_init(|| populated(&lookup_ids.stored));
            bencher.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let hits = AtomicUsize::new(0);
                    elapsed += run_parallel(threads, |thread| {
                        // Each thread starts in its own part of the ids and walks on from there.
                        let start = (cursor + thread * ids.len() / threads) % ids.len();
                        let walk = ids[start..].iter().chain(ids).take(per_thread);
                        let found = match lookup {
                            Lookup::DuplicateClaim => walk
                                .filter(|id| black_box(store.claim_finds_completed(id)))
                                .count(),
                            Lookup::Status => walk
                                .filter(|id| {
                                    black_box(store.status(id)) == CommandStatus::Completed
                                })
                                .count(),
                        };
                        hits.fetch_add(found, Ordering::Relaxed);
                    });
                    cursor = (cursor + per_thread) % ids.len();
                    assert_eq!(
                        hits.into_inner(),
                        per_thread * threads,
                        "{} missed an id",
                        C::NAME
                    );
                }
                let ops = iters * (per_thread * threads) as u64;
                record(lookup.workload(), threads, C::NAME, ops, elapsed);
                elapsed
            })
        },
    );
}

fn run_benches(criterion: &mut Criterion, plan: &Plan) {
    let fresh_ids = uuid_like_ids(plan.fresh_batch, 0x1de5_7012e);
    for (workload, presize) in [("fresh_grow", false), ("fresh_presized", true)] {
        let mut group = criterion.benchmark_group(workload);
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(plan.fresh_batch as u64));
        for threads in THREAD_COUNTS {
            bench_fresh::<MemoryStore>(&mut group, workload, &fresh_ids, threads, presize);
            bench_fresh::<PapayaStore<Arc<Entry>>>(
                &mut group, workload, &fresh_ids, threads, presize,
            );
            bench_fresh::<PapayaStore<Entry>>(&mut group, workload, &fresh_ids, threads, presize);
        }
        group.finish();
    }
    drop(fresh_ids);

    let lookup_ids = LookupIds::new(plan.lookup_ids);
    let idemstore = OnceCell::<MemoryStore>::new();
    let papaya_arc = OnceCell::<PapayaStore<Arc<Entry>>>::new();
    let papaya_inline = OnceCell::<PapayaStore<Entry>>::new();
    for lookup in [Lookup::DuplicateClaim, Lookup::Status] {
        let mut group = criterion.benchmark_group(lookup.workload());
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(plan.lookup_batch as u64));
        for threads in THREAD_COUNTS {
            let (ids, batch) = (&lookup_ids, plan.lookup_batch);
            bench_lookup(&mut group, lookup, &idemstore, ids, batch, threads);
            bench_lookup(&mut group, lookup, &papaya_arc, ids, batch, threads);
            bench_lookup(&mut group, lookup, &papaya_inline, ids, batch, threads);
        }
        group.finish();
    }
}

/// Median and interquartile spread (relative to the median) of millions of ops per second.
fn mops(workload: &str, threads: usize, contender: &str) -> Option<(f64, f64)> {
    let samples = SAMPLES.lock().expect("sample log poisoned");
    let mut rates: Vec<f64> = samples
        .iter()
        .filter(|s| s.workload == workload && s.threads == threads && s.contender == contender)
        .map(|s| s.operations as f64 / s.elapsed.as_secs_f64() / 1e6)
        .collect();
    if rates.is_empty() {
        return None;
    }
    rates.sort_by(f64::total_cmp);
    let at = |q: f64| rates[((rates.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), (at(0.75) - at(0.25)) / at(0.5)))
}

/// The machine's one-minute load average, to show how much else was running (the machine
/// is shared; at two threads any other runnable process takes a core from the benchmark).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn print_summary(plan: &Plan, load_at_start: &str) {
    let contenders = [
        MemoryStore::NAME,
        <PapayaStore<Arc<Entry>>>::NAME,
        <PapayaStore<Entry>>::NAME,
    ];
    println!();
    println!("claim benchmark summary: median Mops/s over this run's samples (warm-up included)");
    println!("ratio = idemstore / papaya variant (above 1: idemstore faster); spread = widest");
    println!("interquartile range among the row's contenders, relative to its median");
    println!(
        "{:<16} {:>3} {:>10} {:>11} {:>7} {:>14} {:>7} {:>7}",
        "workload", "thr", "idemstore", "papaya-arc", "ratio", "papaya-inline", "ratio", "spread"
    );
    let workloads = ["fresh_grow", "fresh_presized", "dup_claim", "status"];
    for workload in workloads {
        for threads in THREAD_COUNTS {
            let found: Vec<_> = contenders
                .iter()
                .map(|c| mops(workload, threads, c))
                .collect();
            let [Some(ours), Some(arc), Some(inline)] = found[..] else {
                continue;
            };
            let spread = [ours.1, arc.1, inline.1].into_iter().fold(0.0, f64::max);
            println!(
                "{:<16} {:>3} {:>10.2} {:>11.2} {:>6.2}x {:>14.2} {:>6.2}x {:>6.1}%",
                workload,
                threads,
                ours.0,
                arc.0,
                ours.0 / arc.0,
                inline.0,
                ours.0 / inline.0,
                spread * 100.0
            );
        }
    }
    println!(
        "mode: {}; fresh batch {} ids per store; lookups over {} Completed ids, {} per sample",
        if plan.quick { "quick" } else { "full" },
        plan.fresh_batch,
        plan.lookup_ids,
        plan.lookup_batch
    );
    println!(
        "cores: {}; one-minute load average {load_at_start} at start, {} at end",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
}

/// True when criterion will measure (not `--test`, `--list` or `--profile-time`), as under
/// `cargo bench`, which passes `--bench`.
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| {
        args.iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")))
    };
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

fn main() {
    let plan = Plan::from_env();
    let measuring = measuring();
    let load_at_start = load_average();
    if measuring {
        println!(
            "idemstore vs papaya {} mode; hasher ahash::RandomState for every contender \
             (MemoryStore's own; papaya via HashMap::builder().hasher); papaya resize mode \
             default (incremental)",
            if plan.quick { "quick" } else { "full" },
        );
    }
    let mut criterion = Criterion::default()
        .sample_size(plan.sample_size)
        .warm_up_time(plan.warm_up)
        .measurement_time(plan.measurement)
        .configure_from_args();
    run_benches(&mut criterion, &plan);
    criterion.final_summary();
    if measuring {
        print_summary(&plan, &load_at_start);
    }
}
