//! The background cleaner: memory really comes back, and the cleaner leaves nothing behind.
//!
//! The store's clock is a ManualClock; only the cleaner's own pacing is real time, and the
//! waits below poll for an outcome with a generous bound instead of sleeping a fixed time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use idemstore::{ClaimOutcome, CleanerOptions, CommandResult, Expiry, ManualClock, MemoryStore};

/// Net heap bytes held by the whole process.
struct Counting;

static NET_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NET_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NET_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// These tests count process-wide threads and heap bytes, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn net_bytes() -> isize {
    NET_BYTES.load(Ordering::Relaxed)
}

/// Polls `done` every 10 ms for up to 30 s; returns whether it became true.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

fn fast_cleaner() -> CleanerOptions {
    CleanerOptions {
        expiry_interval: Duration::from_millis(5),
        ..CleanerOptions::default()
    }
}

fn cleaner_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists this process's threads")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "idemstore-clean")
        .count()
}

#[test]
fn completed_ids_never_read_again_are_removed_and_their_memory_comes_back() {
    let _serial = serial();
    let clock = ManualClock::new();
    let expiry = Expiry {
        completed: Some(Duration::from_millis(100)),
        ..Expiry::default()
    };
    let baseline = net_bytes();
    let store = MemoryStore::builder()
        .expiry(expiry)
        .clock(Arc::new(clock.clone()))
        .build_with_cleaner(fast_cleaner());
    let empty_store = net_bytes() - baseline;
    let empty_slots = store.slot_capacity();

    for i in 0..200_000_u64 {
        let id = format!("command-{i:08}");
        let ClaimOutcome::Acquired(ticket) = store.claim(&id).unwrap() else {
            panic!("{id}")
        };
        assert!(store.complete(&id, ticket, CommandResult::new(i)).unwrap());
    }
    let peak = net_bytes() - baseline;
    assert_eq!(store.len(), 200_000);

    clock.advance(Duration::from_millis(100));

    assert!(
        eventually(|| store.len() == 0),
        "live count stayed at {}",
        store.len()
    );
    assert!(
        eventually(|| store.slot_capacity() == empty_slots),
        "tables stayed at {} slots (started at {empty_slots})",
        store.slot_capacity()
    );
    // Near the start: the empty store plus a fixed allowance for crossbeam-epoch's own
    // bookkeeping (sealed bags of the global queue, about 2 KiB each, a few dozen of which
    // wait for a later collection whatever the store's size). The peak is ~40 MB.
    let near_start = empty_store + empty_store / 5 + 256 * 1024;
    let settled = eventually(|| net_bytes() - baseline <= near_start);
    let after = net_bytes() - baseline;
    assert!(
        settled,
        "heap: empty {empty_store} B, peak {peak} B, after {after} B"
    );
    assert_eq!(store.health_metrics().expired_removed_total, 200_000);
}

#[test]
fn the_cleaner_thread_ends_when_the_store_is_dropped() {
    let _serial = serial();
    let store = MemoryStore::builder().build_with_cleaner(fast_cleaner());
    assert!(
        eventually(|| cleaner_threads() >= 1),
        "no cleaner thread started"
    );
    let before = cleaner_threads();

    drop(store);

    assert!(
        eventually(|| cleaner_threads() < before),
        "the cleaner thread outlived its store"
    );
}

#[test]
fn stopping_the_cleaner_joins_its_thread() {
    let _serial = serial();
    let store = MemoryStore::builder().build_with_cleaner(fast_cleaner());
    assert!(
        eventually(|| cleaner_threads() >= 1),
        "no cleaner thread started"
    );
    let before = cleaner_threads();

    store.stop_cleaner();

    assert!(
        cleaner_threads() < before,
        "stop_cleaner returned with the thread still alive"
    );
}

#[test]
fn inside_a_runtime_the_cleaner_is_a_task_that_ends_with_the_store() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let store = MemoryStore::builder().build_with_cleaner(fast_cleaner());
        assert_eq!(metrics.num_alive_tasks(), before + 1);

        drop(store);

        let start = Instant::now();
        while metrics.num_alive_tasks() > before && start.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            metrics.num_alive_tasks(),
            before,
            "the cleaner task outlived its store"
        );
    });
}

#[test]
fn removing_a_record_frees_its_result_before_the_wheel_looks_at_it() {
    let _serial = serial();
    let store = MemoryStore::new();
    let ids: Vec<String> = (0..2_000).map(|i| format!("big-{i}")).collect();
    for id in &ids {
        let ClaimOutcome::Acquired(ticket) = store.claim(id).unwrap() else {
            panic!("{id}")
        };
        store
            .complete(id, ticket, CommandResult::new(vec![7_u8; 4096]))
            .unwrap();
    }
    let held = net_bytes();

    for id in &ids {
        assert!(store.remove(id).unwrap());
    }

    let results = (ids.len() * 4096) as isize;
    assert!(
        eventually(|| {
            store.compact();
            held - net_bytes() >= results
        }),
        "removing {} records freed only {} of their {results} result bytes",
        ids.len(),
        held - net_bytes()
    );
}

#[test]
fn a_runtime_without_timers_gets_a_cleaner_thread_that_still_cleans() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clock = ManualClock::new();
    let expiry = Expiry {
        completed: Some(Duration::from_millis(10)),
        ..Expiry::default()
    };
    let store = runtime.block_on(async {
        MemoryStore::builder()
            .expiry(expiry)
            .clock(Arc::new(clock.clone()))
            .build_with_cleaner(fast_cleaner())
    });
    let ClaimOutcome::Acquired(ticket) = store.claim("t").unwrap() else {
        panic!("claim")
    };
    store.complete("t", ticket, CommandResult::new(())).unwrap();

    clock.advance(Duration::from_millis(10));

    assert!(
        eventually(|| store.is_empty()),
        "no cleaner removed the expired record"
    );
}
