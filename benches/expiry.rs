//! What expiry costs: claim + complete throughput with expiry on against the same run with
//! expiry off, and resident memory through a churn of unique ids with a short completion age.
//!
//! Run: `cargo bench --bench expiry` (add `-- --quick` for a smaller run, `-- --churn-only`
//! to skip the throughput part).
//! Prints a table; nothing is asserted, since the machine is shared and noisy.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use idemstore::{ClaimOutcome, CleanerOptions, CommandResult, Expiry, MemoryStore};

/// Counts the heap bytes the process holds, to tell what the store keeps from what the
/// allocator keeps (resident memory includes pages the allocator has not returned).
struct Counting;

static HEAP: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn heap_bytes() -> u64 {
    HEAP.load(Ordering::Relaxed).max(0) as u64
}

/// Asks glibc to hand free pages back to the kernel.
fn trim_allocator() {
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe { libc::malloc_trim(0) };
}

struct Sizes {
    ids_per_thread: usize,
    rounds: usize,
    churn_ids: usize,
}

fn sizes() -> Sizes {
    if std::env::args().any(|arg| arg == "--quick") {
        Sizes {
            ids_per_thread: 250_000,
            rounds: 3,
            churn_ids: 1_000_000,
        }
    } else {
        Sizes {
            ids_per_thread: 1_000_000,
            rounds: 5,
            churn_ids: 10_000_000,
        }
    }
}

/// Claims and completes `ids` fresh ids on each of `threads` threads; returns Mops/s.
fn claim_complete(store: &MemoryStore, ids: &[Vec<String>]) -> f64 {
    let barrier = Barrier::new(ids.len() + 1);
    let elapsed = std::thread::scope(|scope| {
        for chunk in ids {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                for id in chunk {
                    let ClaimOutcome::Acquired(ticket) = store.claim(id).unwrap() else {
                        panic!("fresh id {id} was not acquired");
                    };
                    assert!(store.complete(id, ticket, CommandResult::new(())).unwrap());
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    });
    let ops: usize = ids.iter().map(Vec::len).sum();
    ops as f64 / elapsed.as_secs_f64() / 1e6
}

fn uuid_like(thread: usize, i: usize, round: usize) -> String {
    format!("{:08x}-{:04x}-4000-8000-{:012x}", i, thread, round)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let sizes = sizes();
    let threads = 2;
    println!(
        "# expiry cost (threads = {threads}, {} ids per thread)",
        sizes.ids_per_thread
    );
    println!();

    // The churn runs first, so that its "before" is the resident size of a fresh process.
    let before = resident_bytes();
    let heap_before = heap_bytes();
    let mut heap_peak = heap_before;
    let expiry = Expiry {
        completed: Some(Duration::from_millis(100)),
        ..Expiry::default()
    };
    let cleaner = CleanerOptions {
        expiry_interval: Duration::from_millis(100),
        log_health: false,
        ..CleanerOptions::default()
    };
    let store = MemoryStore::builder()
        .expiry(expiry)
        .build_with_cleaner(cleaner);
    let per_thread = sizes.churn_ids / threads;
    let mut peak = resident_bytes();
    let start = Instant::now();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (store, finished) = (&store, &finished);
            scope.spawn(move || {
                let mut id = String::with_capacity(40);
                for i in 0..per_thread {
                    id.clear();
                    id.push_str(&uuid_like(t, i, 99));
                    let ClaimOutcome::Acquired(ticket) = store.claim(&id).unwrap() else {
                        panic!("fresh id {id} was not acquired");
                    };
                    store.complete(&id, ticket, CommandResult::new(())).unwrap();
                }
                finished.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        while finished.load(std::sync::atomic::Ordering::Acquire) < threads {
            std::thread::sleep(Duration::from_millis(50));
            peak = peak.max(resident_bytes());
            heap_peak = heap_peak.max(heap_bytes());
        }
    });
    let churn_secs = start.elapsed().as_secs_f64();
    peak = peak.max(resident_bytes());
    let live_at_end = store.len();
    std::thread::sleep(Duration::from_secs(5));
    let after = resident_bytes();
    let heap_after = heap_bytes();
    trim_allocator();
    let trimmed = resident_bytes();
    println!(
        "| churn: {} unique ids, completion age 100 ms, then 5 s idle | value |",
        sizes.churn_ids
    );
    println!("| --- | ---: |");
    println!("| churn time | {churn_secs:.1} s |");
    println!("| live records when the churn ended | {live_at_end} |");
    println!("| live records after idle | {} |", store.len());
    println!("| resident before | {:.1} MiB |", mib(before));
    println!("| resident at peak | {:.1} MiB |", mib(peak));
    println!("| resident after idle | {:.1} MiB |", mib(after));
    println!(
        "| after / before | {:.2} x (target <= 1.2 x) |",
        after as f64 / before as f64
    );
    println!(
        "| resident after idle, then malloc_trim | {:.1} MiB ({:.2} x before) |",
        mib(trimmed),
        trimmed as f64 / before as f64
    );
    println!(
        "| heap held: before / peak / after idle | {:.1} / {:.1} / {:.1} MiB |",
        mib(heap_before),
        mib(heap_peak),
        mib(heap_after)
    );
    println!(
        "| expired records removed | {} |",
        store.health_metrics().expired_removed_total
    );
    println!();
    if std::env::args().any(|arg| arg == "--churn-only") {
        return;
    }

    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..sizes.rounds {
        let ids: Vec<Vec<String>> = (0..threads)
            .map(|t| {
                (0..sizes.ids_per_thread)
                    .map(|i| uuid_like(t, i, round))
                    .collect()
            })
            .collect();
        // Alternate which one goes first: the first of a pair pays for fresh pages.
        for expiry_on in [round % 2 == 0, round % 2 == 1] {
            let expiry = if expiry_on {
                Expiry::default()
            } else {
                Expiry::never()
            };
            let store = MemoryStore::builder().expiry(expiry).build();
            let mops = claim_complete(&store, &ids);
            if expiry_on {
                on.push(mops)
            } else {
                off.push(mops)
            }
        }
    }
    let (on, off) = (median(on), median(off));
    println!(
        "| claim + complete, fresh ids | Mops/s (median of {}) |",
        sizes.rounds
    );
    println!("| --- | ---: |");
    println!("| expiry on (default ages) | {on:.2} |");
    println!("| expiry off | {off:.2} |");
    println!("| on / off | {:.1} % (target >= 90 %) |", on / off * 100.0);
    println!();
}
