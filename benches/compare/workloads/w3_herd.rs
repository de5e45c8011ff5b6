//! W3, the thundering herd: K duplicates wait on one running id, the owner completes it, and
//! the time is taken from the start of the completion to the last waiter's wake-up.
//!
//! # One repetition
//!
//! On a tokio multi-thread runtime with as many workers as the thread count: claim a fresh id
//! (the owner), spawn K tasks that each `wait` on it, and wait until every one reports that it
//! is registered (its `Notify` enabled, so it cannot miss the wake-up). Then stamp the clock,
//! complete the id, and collect each waiter's wake-up instant and the status it saw.
//!
//! # Invariants, checked every repetition
//!
//! - the owner's claim wins and its complete succeeds;
//! - every waiter saw a terminal status (Completed), never InProgress or NotFound;
//! - no waiter woke before the completion began.
//!
//! Each contender keeps one store per thread count; every repetition uses a new id. Before
//! its repetitions at each K, each contender runs one unrecorded repetition (warm-up), and the
//! repetitions then rotate through the contenders.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idemstore::CommandStatus;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

use crate::adapters::{Claim, Contender, Key, Kind, Spec, Visitor};
use crate::cli::Plan;
use crate::ratios::{Comparison, Series};
use crate::report::{Report, Table, fraction, micros, times};
use crate::runner::{progress, violated};
use crate::stats::percentile;
use crate::traces::Ids;

/// One contender at one thread count and one K.
pub struct HerdCell {
    pub kind: Kind,
    pub threads: usize,
    pub waiters: usize,
    /// Completion to last wake-up, per repetition, sorted.
    pub last_wakeup: Vec<Duration>,
    /// 1 / the p50 of the last wake-up, in 1/s (the ratio columns compare p50s).
    speed: [f64; 1],
}

/// One repetition with `waiters` waiters on a fresh id: completion to last wake-up.
type Repetition<'r> = Box<dyn FnMut(usize, Key<'_>) -> Duration + 'r>;

/// Builds a contender's store on `runtime` and returns its repetition.
struct Herd<'r> {
    kind: Kind,
    runtime: &'r Runtime,
}

impl<'r> Visitor for Herd<'r> {
    type Out = Repetition<'r>;

    fn visit<C: Contender>(self) -> Self::Out {
        let spec = Spec {
            kind: self.kind,
            completed_ttl: None,
            ids_hint: 1 << 16,
        };
        let store = Arc::new(C::build(&spec));
        let (kind, runtime) = (self.kind, self.runtime);
        Box::new(move |waiters, key| runtime.block_on(repetition(&store, kind, waiters, key)))
    }
}

/// Counts registered waiters and wakes the owner once all are in.
struct Gate {
    expected: usize,
    arrived: AtomicUsize,
    all_in: Notify,
}

impl Gate {
    fn arrive(&self) {
        // SeqCst with the load in `all_arrived`: the same no-lost-wake-up pairing as a slot's.
        if self.arrived.fetch_add(1, Ordering::SeqCst) + 1 == self.expected {
            self.all_in.notify_waiters();
        }
    }

    async fn all_arrived(&self) {
        loop {
            let notified = self.all_in.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.arrived.load(Ordering::SeqCst) >= self.expected {
                return;
            }
            notified.await;
        }
    }
}

async fn repetition<C: Contender>(
    store: &Arc<C>,
    kind: Kind,
    waiters: usize,
    key: Key<'_>,
) -> Duration {
    let Claim::Won(ticket) = store.claim(key).await else {
        violated(format_args!(
            "{}: the owner of fresh id {} lost",
            kind.label(),
            key.id
        ));
    };
    let gate = Arc::new(Gate {
        expected: waiters,
        arrived: AtomicUsize::new(0),
        all_in: Notify::new(),
    });
    let (id, hash): (Arc<str>, u64) = (Arc::from(key.id), key.hash);
    let tasks: Vec<_> = (0..waiters)
        .map(|_| {
            let (store, gate, id) = (Arc::clone(store), Arc::clone(&gate), Arc::clone(&id));
            tokio::spawn(async move {
                let status = store.wait(Key { id: &id, hash }, || gate.arrive()).await;
                (Instant::now(), status)
            })
        })
        .collect();
    gate.all_arrived().await;

    let completed_at = Instant::now();
    if !store.complete(key, ticket, 1).await {
        violated(format_args!(
            "{}: the owner could not complete {}",
            kind.label(),
            key.id
        ));
    }
    let mut last = Duration::ZERO;
    for task in tasks {
        let (woke_at, status) = task.await.expect("a waiter task panicked");
        if status != CommandStatus::Completed {
            violated(format_args!(
                "{}: a waiter on {} returned with status {status:?}, not Completed",
                kind.label(),
                key.id
            ));
        }
        if woke_at < completed_at {
            violated(format_args!(
                "{}: a waiter on {} woke before the completion",
                kind.label(),
                key.id
            ));
        }
        last = last.max(woke_at - completed_at);
    }
    last
}

pub fn run(plan: &Plan, report: &mut Report) -> Vec<HerdCell> {
    let reps = plan.herd_reps;
    // Fresh ids: one per repetition (warm-ups included) of every contender and K.
    let per_kind = plan.herd_waiters.len() * (reps + 1);
    let ids = Ids::from_keys((0..(plan.contenders.len() * per_kind) as u64).map(|i| i | 1 << 62));
    let mut cells = Vec::new();
    let mut checked = 0_usize;
    for &threads in &plan.threads {
        progress(format_args!(
            "herd: {threads} runtime workers, {reps} repetitions"
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut contenders: Vec<(Kind, Repetition)> = Vec::new();
        for &kind in &plan.contenders {
            let herd = Herd {
                kind,
                runtime: &runtime,
            };
            contenders.push((kind, kind.dispatch(herd)));
        }
        let mut next_id = 0;
        for &waiters in &plan.herd_waiters {
            let mut samples = vec![Vec::with_capacity(reps); contenders.len()];
            for (_, repetition) in contenders.iter_mut() {
                repetition(waiters, ids.key(next_id));
                next_id += 1;
            }
            for rep in 0..reps {
                for offset in 0..contenders.len() {
                    let at = (rep + offset) % contenders.len();
                    samples[at].push(contenders[at].1(waiters, ids.key(next_id)));
                    next_id += 1;
                    checked += waiters;
                }
            }
            for ((kind, _), mut last_wakeup) in contenders.iter().zip(samples) {
                last_wakeup.sort();
                let p50 = percentile(&last_wakeup, 50.0);
                cells.push(HerdCell {
                    kind: *kind,
                    threads,
                    waiters,
                    last_wakeup,
                    speed: [1.0 / p50.as_secs_f64()],
                });
            }
        }
    }
    report.section(&render(plan, &cells, checked));
    cells
}

fn render(plan: &Plan, cells: &[HerdCell], checked: usize) -> String {
    let mut text = format!(
        "## W3 thundering herd: completion to the last wake-up\n\n\
         K waiters on one InProgress id, on a tokio multi-thread runtime with `threads` \
         workers; {} repetitions per row (a new id each), after one warm-up. Speed ratios \
         compare p50s: the other's p50 over this row's, so above 1 is faster. Every waiter \
         saw Completed, none woke early ({checked} waits checked).\n\n",
        plan.herd_reps
    );
    for &waiters in &plan.herd_waiters {
        let row: Vec<&HerdCell> = cells.iter().filter(|c| c.waiters == waiters).collect();
        let compared = Comparison::new(
            row.iter()
                .map(|cell| Series {
                    kind: cell.kind,
                    threads: cell.threads,
                    values: &cell.speed,
                })
                .collect(),
        );
        let mut table = Table::new(&[
            "contender",
            "threads",
            "K",
            "last wake-up p50 µs",
            "p99 µs",
            "max µs",
            "speed × best peer",
            "speed × moka",
            "of bound",
        ]);
        for cell in &row {
            let (kind, threads) = (cell.kind, cell.threads);
            let at = |p| percentile(&cell.last_wakeup, p).as_nanos() as u64;
            table.row(vec![
                kind.label().into(),
                threads.to_string(),
                waiters.to_string(),
                micros(at(50.0)),
                micros(at(99.0)),
                micros(at(100.0)),
                times(compared.to_best_peer(kind, threads)),
                times(compared.to_moka(kind, threads)),
                fraction(compared.of_bound(kind, threads)),
            ]);
        }
        text.push_str(&format!(
            "### K = {waiters}\n\n{}\n{}\n\n",
            table.render(),
            compared.best_peer_line(&plan.threads)
        ));
    }
    text
}
