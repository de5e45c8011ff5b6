//! The background cleaner: runs the expiry wheel often, age-based cleanup now and then, and
//! logs health, for a store nobody wants to tend by hand.
//!
//! It runs as a tokio task when started inside a runtime, and as a named thread otherwise. It
//! holds the store weakly, so it never keeps a store alive; it stops when the store is dropped
//! or [`MemoryStore::stop_cleaner`] is called, waking at once rather than at its next round.
//! A round that panics is logged and the next round runs as usual.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::MemoryStore;

/// What the cleaner does and how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanerOptions {
    /// Time between age-based cleanups (default 10 min).
    pub interval: Duration,
    /// Age past which Completed records are swept (default 24 h).
    pub completed_age: Duration,
    /// Age past which Failed records are swept (default 1 h).
    pub failed_age: Duration,
    /// Age past which InProgress records are swept (default 30 min).
    pub in_progress_age: Duration,
    /// Log health metrics after each cleanup (default on).
    pub log_health: bool,
    /// Time between steps of the expiry wheel (default 1 s): how soon after its deadline an
    /// expired record's memory comes back.
    pub expiry_interval: Duration,
}

impl Default for CleanerOptions {
    fn default() -> Self {
        CleanerOptions {
            interval: Duration::from_secs(600),
            completed_age: Duration::from_secs(24 * 3600),
            failed_age: Duration::from_secs(3600),
            in_progress_age: Duration::from_secs(30 * 60),
            log_health: true,
            expiry_interval: Duration::from_secs(1),
        }
    }
}

/// Record looks per wheel step; the cleaner yields between steps.
const STEP_BUDGET: usize = 4096;

/// The running cleaner, owned by its store.
pub(crate) struct Cleaner {
    stop: Arc<StopSignal>,
    worker: Mutex<Option<Worker>>,
}

enum Worker {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

/// Wakes a sleeping cleaner at once when it must stop.
struct StopSignal {
    stopped: Mutex<bool>,
    condvar: Condvar,
    notify: tokio::sync::Notify,
}

impl StopSignal {
    fn raise(&self) {
        *self.stopped.lock() = true;
        self.condvar.notify_all();
        self.notify.notify_one();
    }

    fn is_raised(&self) -> bool {
        *self.stopped.lock()
    }
}

impl Cleaner {
    /// Starts the cleaner for `store`: a task if called inside a tokio runtime, else a thread.
    pub(crate) fn start(store: &Arc<MemoryStore>, options: CleanerOptions) -> Cleaner {
        let stop = Arc::new(StopSignal {
            stopped: Mutex::new(false),
            condvar: Condvar::new(),
            notify: tokio::sync::Notify::new(),
        });
        let weak = Arc::downgrade(store);
        let runtime = tokio::runtime::Handle::try_current().ok().filter(|_| {
            // A runtime built without `enable_time` would kill the task at its first sleep,
            // silently; such a store gets the thread instead.
            let timers = has_timers();
            if !timers {
                tracing::warn!("runtime has no timers; the cleaner runs as a thread");
            }
            timers
        });
        let worker = match runtime {
            Some(runtime) => {
                let stop = Arc::clone(&stop);
                Worker::Task(runtime.spawn(run_task(weak, options, stop)))
            }
            None => {
                let stop = Arc::clone(&stop);
                let thread = std::thread::Builder::new()
                    .name("idemstore-cleaner".into())
                    .spawn(move || run_thread(weak, options, stop))
                    .expect("the cleaner thread could not be spawned");
                Worker::Thread(thread)
            }
        };
        tracing::info!("cleaner started");
        Cleaner {
            stop,
            worker: Mutex::new(Some(worker)),
        }
    }

    /// Stops the cleaner and waits for its thread to end (a task is aborted at its next
    /// await, which it reaches at once: it never blocks inside a round for long).
    pub(crate) fn stop(&self) {
        self.stop.raise();
        let Some(worker) = self.worker.lock().take() else {
            return;
        };
        match worker {
            Worker::Task(task) => task.abort(),
            Worker::Thread(thread) if thread.thread().id() != std::thread::current().id() => {
                let _ = thread.join();
            }
            // Dropped on the cleaner thread itself (it held the last reference for a moment):
            // the raised signal ends its loop right after this.
            Worker::Thread(_) => {}
        }
        tracing::info!("cleaner stopped");
    }
}

impl Drop for Cleaner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// True if the current runtime can run timers (creating a sleep panics when it cannot).
fn has_timers() -> bool {
    catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok()
}

/// The work between two sleeps. Returns false once the store is gone.
fn round(store: &Weak<MemoryStore>, options: &CleanerOptions, last_sweep: &mut Instant) -> bool {
    let Some(store) = store.upgrade() else {
        return false;
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        while store.run_expiry(STEP_BUDGET).more {
            std::thread::yield_now();
        }
        if last_sweep.elapsed() >= options.interval {
            *last_sweep = Instant::now();
            let removed = store.auto_cleanup(
                options.completed_age,
                options.failed_age,
                options.in_progress_age,
            );
            if options.log_health {
                let health = store.health_metrics();
                tracing::info!(removed, ?health, "cleanup round");
            }
        }
        store.compact();
    }));
    if outcome.is_err() {
        tracing::warn!("a cleaner round panicked; the next round runs as usual");
    }
    true
}

fn run_thread(store: Weak<MemoryStore>, options: CleanerOptions, stop: Arc<StopSignal>) {
    let mut last_sweep = Instant::now();
    loop {
        {
            let mut stopped = stop.stopped.lock();
            if !*stopped {
                stop.condvar.wait_for(&mut stopped, options.expiry_interval);
            }
            if *stopped {
                break;
            }
        }
        if !round(&store, &options, &mut last_sweep) {
            break;
        }
    }
    tracing::debug!("cleaner thread ends");
}

async fn run_task(store: Weak<MemoryStore>, options: CleanerOptions, stop: Arc<StopSignal>) {
    let mut last_sweep = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(options.expiry_interval) => {}
            () = stop.notify.notified() => {}
        }
        if stop.is_raised() || !round(&store, &options, &mut last_sweep) {
            break;
        }
    }
    tracing::debug!("cleaner task ends");
}
