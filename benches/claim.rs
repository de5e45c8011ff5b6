//! Claim throughput of [`MemoryStore`] next to papaya-based stores with the same semantics,
//! all measured in one run so the ratios between them can be quoted.
//!
//! # Contenders
//!
//! - `idemstore`: [`MemoryStore`] through its synchronous API, default settings.
//! - `papaya-arc`: a `papaya::HashMap<Box<str>, Arc<Entry>>`, the shape a service would write
//!   to hand an entry out beyond a guard.
//! - `papaya-inline`: the same map holding `Entry` itself, one allocation and one pointer hop
//!   fewer, to show how much of any gap is the `Arc` rather than the table.
//!
//! An `Entry` is an `AtomicU8` status and a `OnceLock` result slot. A claim looks the id up
//! and, when absent, inserts it as InProgress with `try_insert` (winning if the insert was
//! ours); a found entry is won by CAS-ing its status from a claimable status to InProgress.
//! A complete looks the id up again, stores the result, then CASes InProgress to Completed, so
//! a reader that sees Completed sees the result. A `OnceLock` suffices because only Completed
//! carries a result and Completed is terminal. Unlike `MemoryStore` the adapter has no
//! fencing and no expiry: its complete checks InProgress, not a claim ticket. Both sides
//! allocate the same `CommandResult` per complete, take one guard per call (crossbeam-epoch
//! pin, seize guard), and hash with `ahash::RandomState`; papaya keeps its default
//! (incremental) resize mode.
//!
//! `try_insert`, not `try_insert_with`: in papaya 0.2.5 the closure variants go through
//! `compute`, which never helps an incremental resize along, so a map grown only through them
//! piles up unfinished resizes and every later lookup walks the chain of tables (10 to 20
//! times slower lookups after growing to 100k ids, on the machine this was written on).
//!
//! # Workloads
//!
//! - `fresh_grow` / `fresh_presized`: claim then complete each of a batch of new ids in a
//!   store built for that batch (empty, or pre-sized for it). Building and dropping the store
//!   is outside the timed section, so every timed claim is an insert.
//! - `dup_claim`: claims of ids that are already Completed, the redelivery hot path.
//! - `status`: status reads of existing ids.
//!
//! Lookups run against one pre-populated store per contender and visit its ids in a shuffled
//! order, so neither the table nor the records are walked in memory order. Ids are
//! UUID-shaped 36-byte strings made from fixed seeds before anything is timed. At two threads
//! the threads start together at a barrier and work on disjoint ids; the time is from the
//! first start to the last finish.
//!
//! # Running
//!
//! `cargo bench --bench claim` runs the full plan (about five minutes);
//! `IDEMSTORE_BENCH_QUICK=1 cargo bench --bench claim` runs small sizes briefly (under two
//! minutes). Criterion reports each contender's throughput (Melem/s, an element being one
//! operation). Then, for every workload criterion ran, the contenders are timed again in
//! interleaved rounds, one batch each per round in rotating order, and a table prints their
//! median throughput and the median of the per-round ratios. Pairing batches that ran
//! moments apart keeps the ratio meaningful on a shared, noisy machine.

use std::cell::{OnceCell, RefCell};
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
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
    /// Ids claimed and completed per fresh store (even, so two threads split it exactly).
    fresh_batch: usize,
    /// Ids in the populated store the lookup workloads read.
    lookup_ids: usize,
    /// Lookups per timed batch, split across the threads (even, as above).
    lookup_batch: usize,
    sample_size: usize,
    warm_up: Duration,
    measurement: Duration,
    /// Interleaved rounds per workload for the summary table.
    rounds: usize,
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
                rounds: 9,
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
                rounds: 21,
            }
        }
    }
}

/// A store under test, seen through the operations the workloads time.
trait Contender: Sync + Sized {
    const NAME: &'static str;

    fn build(presize_for: Option<usize>) -> Self;

    /// This contender's populated store among the run's inputs.
    fn populated(populated: &Populated) -> &OnceCell<Self>;

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

    fn populated(populated: &Populated) -> &OnceCell<Self> {
        &populated.idemstore
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

impl<H: Handle> Contender for PapayaStore<H>
where
    Populated: PopulatedPapaya<H>,
{
    const NAME: &'static str = H::NAME;

    fn build(presize_for: Option<usize>) -> Self {
        let builder = papaya::HashMap::<Box<str>, H>::builder()
            .hasher(ahash::RandomState::new())
            .capacity(presize_for.unwrap_or(0));
        PapayaStore {
            map: builder.build(),
        }
    }

    fn populated(populated: &Populated) -> &OnceCell<Self> {
        populated.papaya()
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

/// One store per contender in which every lookup id is Completed, built on first use so a
/// criterion filter that skips the lookups also skips building them.
#[derive(Default)]
struct Populated {
    idemstore: OnceCell<MemoryStore>,
    papaya_arc: OnceCell<PapayaStore<Arc<Entry>>>,
    papaya_inline: OnceCell<PapayaStore<Entry>>,
}

/// Picks the populated papaya store by how it holds entries.
trait PopulatedPapaya<H> {
    fn papaya(&self) -> &OnceCell<PapayaStore<H>>;
}

impl PopulatedPapaya<Arc<Entry>> for Populated {
    fn papaya(&self) -> &OnceCell<PapayaStore<Arc<Entry>>> {
        &self.papaya_arc
    }
}

impl PopulatedPapaya<Entry> for Populated {
    fn papaya(&self) -> &OnceCell<PapayaStore<Entry>> {
        &self.papaya_inline
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

/// Everything the workloads read, made before anything is timed.
struct Inputs {
    plan: Plan,
    fresh_ids: Vec<String>,
    /// Inserted into the populated stores in this order, so records and keys sit in memory in
    /// this order.
    stored_ids: Vec<String>,
    /// The stored ids shuffled, each a fresh copy: lookups do not walk the stores' memory in
    /// allocation order (which would let the prefetcher hide the misses), while the bytes of
    /// the id being looked up are read in sequence, as a message's id would be in cache.
    lookup_order: Vec<String>,
    populated: Populated,
    /// Workloads criterion ran (a filter may skip some), in the order it ran them.
    ran: RefCell<Vec<(Workload, usize)>>,
}

impl Inputs {
    fn new(plan: Plan) -> Inputs {
        let stored_ids = uuid_like_ids(plan.lookup_ids, 0xd0b1_1ca7e);
        let mut positions: Vec<usize> = (0..stored_ids.len()).collect();
        positions.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x5eed));
        Inputs {
            fresh_ids: uuid_like_ids(plan.fresh_batch, 0x1de5_7012e),
            lookup_order: positions.iter().map(|&at| stored_ids[at].clone()).collect(),
            stored_ids,
            plan,
            populated: Populated::default(),
            ran: RefCell::new(Vec::new()),
        }
    }

    /// Operations in one timed batch of `workload`.
    fn batch(&self, workload: Workload) -> usize {
        match workload {
            Workload::FreshGrow | Workload::FreshPresized => self.fresh_ids.len(),
            Workload::DuplicateClaim | Workload::Status => self.plan.lookup_batch,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    FreshGrow,
    FreshPresized,
    DuplicateClaim,
    Status,
}

impl Workload {
    const ALL: [Workload; 4] = [
        Workload::FreshGrow,
        Workload::FreshPresized,
        Workload::DuplicateClaim,
        Workload::Status,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::FreshGrow => "fresh_grow",
            Workload::FreshPresized => "fresh_presized",
            Workload::DuplicateClaim => "dup_claim",
            Workload::Status => "status",
        }
    }
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
    let first = spans.iter().map(|span| span.0).min();
    let last = spans.iter().map(|span| span.1).max();
    last.zip(first)
        .map_or(Duration::ZERO, |(last, first)| last - first)
}

/// Claims and completes every fresh id in a store built for the batch; returns the time the
/// claims took. Every claim must win: a lost one means the store was not fresh.
fn time_fresh<C: Contender>(inputs: &Inputs, threads: usize, presize: bool) -> Duration {
    let ids = &inputs.fresh_ids[..];
    let per_thread = ids.len() / threads;
    let store = C::build(presize.then_some(ids.len()));
    let won = AtomicUsize::new(0);

    let elapsed = run_parallel(threads, |thread| {
        let share = &ids[thread * per_thread..(thread + 1) * per_thread];
        let mut wins = 0;
        for (value, id) in (0u64..).zip(share) {
            wins += usize::from(black_box(store.claim_and_complete(id, value)));
        }
        won.fetch_add(wins, Ordering::Relaxed);
    });

    assert_eq!(
        won.into_inner(),
        per_thread * threads,
        "{} lost a fresh claim",
        C::NAME
    );
    drop(store);
    elapsed
}

/// A store in which every one of `ids` is Completed.
fn populate<C: Contender>(ids: &[String]) -> C {
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

/// Looks up one batch of ids in the populated store, each thread starting in its own part of
/// the lookup order at `cursor`; returns the time taken and moves `cursor` past the batch.
fn time_lookups<C: Contender>(
    inputs: &Inputs,
    workload: Workload,
    threads: usize,
    cursor: &mut usize,
) -> Duration {
    let store = C::populated(&inputs.populated).get_or_init(|| populate(&inputs.stored_ids));
    let ids = &inputs.lookup_order[..];
    let per_thread = inputs.plan.lookup_batch / threads;
    let hits = AtomicUsize::new(0);

    let elapsed = run_parallel(threads, |thread| {
        let start = (*cursor + thread * ids.len() / threads) % ids.len();
        let walk = ids[start..].iter().chain(ids).take(per_thread);
        let found = match workload {
            Workload::DuplicateClaim => walk
                .filter(|id| black_box(store.claim_finds_completed(id)))
                .count(),
            _ => walk
                .filter(|id| black_box(store.status(id)) == CommandStatus::Completed)
                .count(),
        };
        hits.fetch_add(found, Ordering::Relaxed);
    });

    *cursor = (*cursor + per_thread) % ids.len();
    assert_eq!(
        hits.into_inner(),
        per_thread * threads,
        "{} missed an id",
        C::NAME
    );
    elapsed
}

/// Times one batch of `workload` on `C`.
fn time_batch<C: Contender>(
    inputs: &Inputs,
    workload: Workload,
    threads: usize,
    cursor: &mut usize,
) -> Duration {
    match workload {
        Workload::FreshGrow => time_fresh::<C>(inputs, threads, false),
        Workload::FreshPresized => time_fresh::<C>(inputs, threads, true),
        Workload::DuplicateClaim | Workload::Status => {
            time_lookups::<C>(inputs, workload, threads, cursor)
        }
    }
}

fn bench_contender<C: Contender>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    inputs: &Inputs,
    workload: Workload,
    threads: usize,
) {
    let mut cursor = 0;
    let id = BenchmarkId::new(C::NAME, format!("{threads}t"));
    group.bench_function(id, |bencher| {
        let mut ran = inputs.ran.borrow_mut();
        if !ran.contains(&(workload, threads)) {
            ran.push((workload, threads));
        }
        drop(ran);
        bencher.iter_custom(|iters| {
            (0..iters)
                .map(|_| time_batch::<C>(inputs, workload, threads, &mut cursor))
                .sum()
        })
    });
}

fn run_criterion(criterion: &mut Criterion, inputs: &Inputs) {
    for workload in Workload::ALL {
        let mut group = criterion.benchmark_group(workload.name());
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(inputs.batch(workload) as u64));
        for threads in THREAD_COUNTS {
            bench_contender::<MemoryStore>(&mut group, inputs, workload, threads);
            bench_contender::<PapayaStore<Arc<Entry>>>(&mut group, inputs, workload, threads);
            bench_contender::<PapayaStore<Entry>>(&mut group, inputs, workload, threads);
        }
        group.finish();
    }
}

const CONTENDERS: usize = 3;

/// Millions of operations per second of each contender, one batch each per round, the
/// order rotating from round to round so no contender always runs first.
fn interleaved_rounds(inputs: &Inputs, workload: Workload, threads: usize) -> [Vec<f64>; 3] {
    let operations = (inputs.batch(workload) / threads * threads) as f64;
    let mut cursors = [0; CONTENDERS];
    let mut rates: [Vec<f64>; CONTENDERS] = Default::default();
    for round in 0..inputs.plan.rounds {
        for turn in 0..CONTENDERS {
            let contender = (round + turn) % CONTENDERS;
            let cursor = &mut cursors[contender];
            let elapsed = match contender {
                0 => time_batch::<MemoryStore>(inputs, workload, threads, cursor),
                1 => time_batch::<PapayaStore<Arc<Entry>>>(inputs, workload, threads, cursor),
                _ => time_batch::<PapayaStore<Entry>>(inputs, workload, threads, cursor),
            };
            rates[contender].push(operations / elapsed.as_secs_f64() / 1e6);
        }
    }
    rates
}

/// The value at quantile `q` of `values` (nearest rank).
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// "median [p25-p75]" of the per-round ratios `ours[r] / theirs[r]`.
fn paired_ratio(ours: &[f64], theirs: &[f64]) -> String {
    let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    format!(
        "{:.2}x [{:.2}-{:.2}]",
        quantile(&ratios, 0.5),
        quantile(&ratios, 0.25),
        quantile(&ratios, 0.75)
    )
}

/// The machine's one-minute load average, to show how much else was running (the machine
/// may be shared; at two threads any other runnable process takes a core from the run).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn print_summary(inputs: &Inputs, load_at_start: &str) {
    let plan = &inputs.plan;
    let ran = inputs.ran.borrow().clone();
    println!();
    println!(
        "summary: {} interleaved rounds per row, timed after criterion in this process",
        plan.rounds
    );
    println!("Mops/s = median over rounds; ratio = idemstore / papaya variant per round, median");
    println!("and [25th-75th percentile] over rounds (above 1: idemstore faster)");
    println!(
        "{:<15} {:>3} {:>9} {:>10} {:>20} {:>13} {:>20}",
        "workload", "thr", "idemstore", "papaya-arc", "ratio", "papaya-inline", "ratio"
    );
    for (workload, threads) in ran {
        let [ours, arc, inline] = interleaved_rounds(inputs, workload, threads);
        println!(
            "{:<15} {:>3} {:>9.2} {:>10.2} {:>20} {:>13.2} {:>20}",
            workload.name(),
            threads,
            quantile(&ours, 0.5),
            quantile(&arc, 0.5),
            paired_ratio(&ours, &arc),
            quantile(&inline, 0.5),
            paired_ratio(&ours, &inline)
        );
    }
    println!(
        "mode: {}; fresh: {} ids per fresh store; lookups: {} of {} Completed ids per batch",
        if plan.quick { "quick" } else { "full" },
        plan.fresh_batch,
        plan.lookup_batch,
        plan.lookup_ids
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
            "idemstore vs papaya 0.2, {} mode; hasher: ahash::RandomState for every contender \
             (MemoryStore's own; papaya through HashMap::builder().hasher); papaya resize \
             mode: default (incremental)",
            if plan.quick { "quick" } else { "full" },
        );
    }
    let mut criterion = Criterion::default()
        .sample_size(plan.sample_size)
        .warm_up_time(plan.warm_up)
        .measurement_time(plan.measurement)
        .configure_from_args();
    let inputs = Inputs::new(plan);

    run_criterion(&mut criterion, &inputs);
    criterion.final_summary();
    if measuring {
        print_summary(&inputs, &load_at_start);
    }
}
