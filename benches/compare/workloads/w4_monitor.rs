//! Watching the churn: resident memory, heap, the entries the store holds and the ids that
//! are live, sampled every 10 ms until told to stop.
//!
//! A live id is one completed within the last Completed age: an id the store must still
//! remember. Counting them from the workload's own progress, not from the store, gives every
//! contender the same denominator (moka's own entry count is an estimate that can lag by a
//! lot). Heap per live id charges a store for everything it holds that it no longer needs,
//! expired entries not yet freed included.
//!
//! Per-entry figures are medians over the samples taken while the churn runs, once it has
//! run for one Completed age (before that the live set is still filling): a single sample, at
//! the heap's peak say, can fall where the live count is briefly small and mean nothing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::alloc::{heap_bytes, resident_bytes};
use crate::stats::median;

/// Time between samples.
const EVERY: Duration = Duration::from_millis(10);

/// Completions so far, one padded counter per churn thread (no shared line in the loop).
pub struct Progress {
    completed: Vec<CachePadded<AtomicU64>>,
    /// Cleared when the churn's threads have all finished.
    churning: AtomicBool,
}

impl Progress {
    pub fn new(threads: usize) -> Progress {
        Progress {
            completed: (0..threads)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
            churning: AtomicBool::new(true),
        }
    }

    /// One more completion by `thread`. Relaxed: the monitor only needs a recent count.
    pub fn completed(&self, thread: usize) {
        self.completed[thread].fetch_add(1, Ordering::Relaxed);
    }

    pub fn churn_over(&self) {
        self.churning.store(false, Ordering::Release);
    }

    fn total(&self) -> u64 {
        self.completed
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// What the monitor saw.
#[derive(Default)]
pub struct Watched {
    pub rss_peak: u64,
    pub heap_peak: u64,
    /// Medians over the churn (see the module docs), bytes above `heap_before`.
    pub heap_per_held_entry: f64,
    pub heap_per_live_id: f64,
    pub held: f64,
    pub live: f64,
}

/// Samples until `done` is set (then once more). `held` reads the store's entry count.
pub fn watch(
    done: &AtomicBool,
    progress: &Progress,
    ttl: Duration,
    heap_before: u64,
    held: impl Fn() -> u64,
) -> Watched {
    let mut watched = Watched::default();
    let started = Instant::now();
    // Samples of the completion count; the front is the newest one at least `ttl` old (or
    // the first sample, before the churn is `ttl` old).
    let mut window: VecDeque<(Instant, u64)> = VecDeque::new();
    let (mut per_held, mut per_live, mut helds, mut lives) = (vec![], vec![], vec![], vec![]);
    loop {
        let finished = done.load(Ordering::Acquire);
        let now = Instant::now();
        let completed = progress.total();
        window.push_back((now, completed));
        while window.len() > 1 && now.duration_since(window[1].0) >= ttl {
            window.pop_front();
        }
        let live = completed - window.front().map_or(0, |oldest| oldest.1);

        watched.rss_peak = watched.rss_peak.max(resident_bytes());
        let heap = heap_bytes();
        watched.heap_peak = watched.heap_peak.max(heap);
        let settled = now.duration_since(started) >= ttl;
        if settled && progress.churning.load(Ordering::Acquire) && live > 0 {
            let above = heap.saturating_sub(heap_before) as f64;
            let held = held() as f64;
            per_held.push(above / held);
            per_live.push(above / live as f64);
            helds.push(held);
            lives.push(live as f64);
        }
        if finished {
            watched.heap_per_held_entry = median(&per_held);
            watched.heap_per_live_id = median(&per_live);
            watched.held = median(&helds);
            watched.live = median(&lives);
            return watched;
        }
        std::thread::sleep(EVERY);
    }
}
