//! W4, churn with expiry: unique ids claimed and completed as fast as the threads go, each
//! expiring 100 ms after its completion, then an idle spell; resident memory before, at the
//! peak and after, and heap bytes per entry held at the peak.
//!
//! Only contenders with TTL take part (idemstore with expiry on, moka); the others cannot
//! forget an id by age, so the rows say "n/a (no TTL)". Each measurement runs in a fresh
//! process (`child`). Ids are formatted on the fly (churn Mops/s includes that), so the only
//! memory that grows is the store's. Upkeep runs every 100 ms throughout, on a thread that
//! calls the adapter's `maintain`: for idemstore one round of its background cleaner (expiry
//! steps until nothing is due, then `compact`), for moka `run_pending_tasks` (moka frees
//! expired entries only during cache calls, so an idle moka frees nothing without it).
//!
//! A monitor thread (`w4_monitor`) samples resident memory, the heap, the entries the store
//! holds and the live ids every 10 ms; bytes per entry are read at the heap's highest sample.
//!
//! Invariant: every claim of a fresh id wins and its complete succeeds.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use super::w4_monitor::{Progress, watch};
use crate::adapters::{Claim, Contender, Key, Kind, Spec, Visitor};
use crate::alloc::{heap_bytes, resident_bytes, trim_allocator};
use crate::child;
use crate::cli::{Plan, Workload};
use crate::ratios::{Comparison, Series};
use crate::report::{Report, Table, bytes, mib, mops, times};
use crate::runner::{driver_runtime, progress, run_threads, violated};
use crate::traces::{ID_LEN, push_uuid_like};

/// What one churn measured (bytes unless named otherwise).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Churn {
    pub mops: f64,
    pub rss_before: u64,
    pub rss_peak: u64,
    pub rss_after: u64,
    /// After the idle and a `malloc_trim`.
    pub rss_trimmed: u64,
    pub heap_before: u64,
    pub heap_peak: u64,
    /// Medians over the churn (see `w4_monitor`): heap above `heap_before` per entry the
    /// store held by its own count, and per live id; the entries held and the ids live.
    pub heap_per_held_entry: f64,
    pub heap_per_live_id: f64,
    pub held: f64,
    pub live: f64,
    pub held_at_end: u64,
    pub held_after: u64,
    pub heap_after: u64,
}

pub struct ChurnCell {
    pub kind: Kind,
    pub threads: usize,
    pub churn: Churn,
    mops: [f64; 1],
}

/// The child's side.
pub fn child(plan: &Plan, kind: Kind, threads: usize) {
    let runtime = driver_runtime();
    let churn = kind.dispatch(ChurnRun {
        plan,
        kind,
        threads,
        handle: runtime.handle(),
    });
    child::emit(&churn);
}

struct ChurnRun<'a> {
    plan: &'a Plan,
    kind: Kind,
    threads: usize,
    handle: &'a Handle,
}

impl Visitor for ChurnRun<'_> {
    type Out = Churn;

    fn visit<C: Contender>(self) -> Churn {
        let ChurnRun {
            plan,
            kind,
            threads,
            handle,
        } = self;
        let (rss_before, heap_before) = (resident_bytes(), heap_bytes());
        let spec = Spec {
            kind,
            completed_ttl: Some(plan.churn_ttl),
            ids_hint: plan.churn_ids,
        };
        let store = C::build(&spec);
        let done = AtomicBool::new(false);
        let progress = Progress::new(threads);

        let (churn, watched) = std::thread::scope(|scope| {
            let monitor = scope.spawn(|| {
                let held = || store.present();
                watch(&done, &progress, plan.churn_ttl, heap_before, held)
            });
            scope.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    handle.block_on(store.maintain());
                    std::thread::sleep(plan.upkeep_every);
                }
            });

            let ranges: Vec<_> = (0..threads)
                .map(|t| plan.churn_ids * t / threads..plan.churn_ids * (t + 1) / threads)
                .collect();
            let (elapsed, _) = run_threads(ranges, |thread, range| {
                handle.block_on(async {
                    let mut id = String::with_capacity(ID_LEN);
                    for index in range {
                        id.clear();
                        push_uuid_like(&mut id, index as u64 | 3 << 60);
                        let key = Key { id: &id, hash: 0 };
                        let Claim::Won(ticket) = store.claim(key).await else {
                            violated(format_args!("{}: fresh id {id} was taken", kind.label()));
                        };
                        if !store.complete(key, ticket, index as u64).await {
                            violated(format_args!("{}: could not complete {id}", kind.label()));
                        }
                        progress.completed(thread);
                    }
                })
            });
            progress.churn_over();
            let held_at_end = store.present();
            std::thread::sleep(plan.churn_idle);
            let churn = Churn {
                mops: plan.churn_ids as f64 / elapsed.as_secs_f64() / 1e6,
                rss_before,
                rss_peak: 0,
                rss_after: resident_bytes(),
                rss_trimmed: 0,
                heap_before,
                heap_peak: 0,
                heap_per_held_entry: 0.0,
                heap_per_live_id: 0.0,
                held: 0.0,
                live: 0.0,
                held_at_end,
                held_after: store.present(),
                heap_after: heap_bytes(),
            };
            done.store(true, Ordering::Release);
            (churn, monitor.join().expect("the monitor thread"))
        });
        // The process ends right after: freeing the store would only cost time.
        std::mem::forget(store);
        trim_allocator();
        Churn {
            rss_peak: watched.rss_peak,
            rss_trimmed: resident_bytes(),
            heap_peak: watched.heap_peak,
            heap_per_held_entry: watched.heap_per_held_entry,
            heap_per_live_id: watched.heap_per_live_id,
            held: watched.held,
            live: watched.live,
            ..churn
        }
    }
}

pub fn run(plan: &Plan, report: &mut Report) -> Result<Vec<ChurnCell>, String> {
    let mut cells = Vec::new();
    for &threads in &plan.child_threads {
        for &kind in plan.contenders.iter().filter(|k| k.has_ttl()) {
            progress(format_args!(
                "churn: {} at {threads} threads ({} ids, own process)",
                kind.label(),
                plan.churn_ids
            ));
            let churn: Churn = child::measure(Workload::W4, kind, threads, plan.quick)?;
            cells.push(ChurnCell {
                kind,
                threads,
                mops: [churn.mops],
                churn,
            });
        }
    }
    report.section(&render(plan, &cells));
    Ok(cells)
}

fn render(plan: &Plan, cells: &[ChurnCell]) -> String {
    let compared = Comparison::new(
        cells
            .iter()
            .map(|cell| Series {
                kind: cell.kind,
                threads: cell.threads,
                values: &cell.mops,
            })
            .collect(),
    );
    let mut table = Table::new(&[
        "contender",
        "threads",
        "churn Mops/s",
        "× best peer",
        "× moka",
        "RSS before MiB",
        "RSS peak MiB",
        "RSS after idle MiB",
        "heap peak MiB",
        "heap after idle MiB",
        "after ÷ before",
        "after trim ÷ before",
        "heap B/held entry",
        "heap B/live id",
        "beyond key",
        "held",
        "live",
        "held at end",
        "held after idle",
    ]);
    for cell in cells {
        let c = &cell.churn;
        table.row(vec![
            cell.kind.label().into(),
            cell.threads.to_string(),
            mops(c.mops),
            times(compared.to_best_peer(cell.kind, cell.threads)),
            times(compared.to_moka(cell.kind, cell.threads)),
            mib(c.rss_before),
            mib(c.rss_peak),
            mib(c.rss_after),
            mib(c.heap_peak),
            mib(c.heap_after),
            format!("{:.2}", c.rss_after as f64 / c.rss_before as f64),
            format!("{:.2}", c.rss_trimmed as f64 / c.rss_before as f64),
            bytes(c.heap_per_held_entry),
            bytes(c.heap_per_live_id),
            bytes(c.heap_per_live_id - ID_LEN as f64),
            format!("{:.0}", c.held),
            format!("{:.0}", c.live),
            c.held_at_end.to_string(),
            c.held_after.to_string(),
        ]);
    }
    let dash = "—".to_string();
    for kind in plan.contenders.iter().filter(|k| !k.has_ttl()) {
        let mut row = vec![kind.label().to_string(), "all".into()];
        row.push("n/a (no TTL)".into());
        row.resize(19, dash.clone());
        table.row(row);
    }
    format!(
        "## W4 churn with expiry\n\n{} unique ids, claim + complete, Completed age {} ms, then \
         {} s idle; upkeep every {} ms; one process per row. RSS: resident set (/proc/self/statm). \
         Heap B/held entry and B/live id: medians over the churn (sampled every 10 ms once it has \
         run for one Completed age) of the heap above the start over the entries the store \
         held (its own count; moka's is an estimate that can lag) and over the ids live \
         (completed within the last {} ms, counted by the workload); held and live are the \
         medians of those counts. \
         Contenders without TTL cannot forget ids by age: n/a. \
         Heap after idle against RSS after idle tells memory the store kept from pages the \
         allocator kept.\n\n{}\n{}\n",
        plan.churn_ids,
        plan.churn_ttl.as_millis(),
        plan.churn_idle.as_secs(),
        plan.upkeep_every.as_millis(),
        plan.churn_ttl.as_millis(),
        table.render(),
        compared.best_peer_line(&plan.child_threads)
    )
}
