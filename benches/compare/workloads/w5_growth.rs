//! W5, growth from empty: claim + complete of fresh ids into a store built with no size hint,
//! every claim timed, so the tail shows what resizing costs the claims that run into it.
//!
//! Each measurement runs in a fresh process (`child`). The ids are made before the store is
//! built and before anything is timed; thread `t` takes a contiguous share of them (all ids
//! are fresh, so there is nothing to race on: the point is the store's growth). Each claim is
//! timed on its own into a per-thread histogram (p50 to p99.99; the max is exact); the
//! throughput counts claim + complete and so includes the clock reads. Heap per id is the heap
//! the store holds at the end over the ids in it, and again after three rounds of the store's
//! upkeep (idemstore frees the tables its growth replaced there). The hardware bound is
//! pre-sized by definition, so it shows the tail of a store that never grows.
//!
//! LIMITATION: each claim's time includes a clock read's worth (two reads bracket it), tens of
//! nanoseconds here: the p50 of the fastest stores is partly the clock.
//!
//! Invariants: every claim wins and its complete succeeds; a sample of ids (every 97th) reads
//! Completed at the end.

use std::time::Instant;

use idemstore::CommandStatus;
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::adapters::{Claim, Contender, Kind, Spec, Visitor, upkeep};
use crate::alloc::heap_bytes;
use crate::child;
use crate::cli::{Plan, Workload};
use crate::ratios::{Comparison, Series};
use crate::report::{Report, Table, beyond_key, bytes, fraction, micros, mops, times};
use crate::runner::{driver_runtime, progress, run_threads, violated};
use crate::stats::{self, Latency, new_histogram};
use crate::traces::Ids;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Growth {
    pub mops: f64,
    pub claim: Latency,
    pub heap_per_id: f64,
    pub heap_per_id_upkept: f64,
}

pub struct GrowthCell {
    pub kind: Kind,
    pub threads: usize,
    pub growth: Growth,
    mops: [f64; 1],
}

/// The child's side.
pub fn child(plan: &Plan, kind: Kind, threads: usize) {
    let runtime = driver_runtime();
    let growth = kind.dispatch(GrowthRun {
        ids: plan.growth_ids,
        kind,
        threads,
        handle: runtime.handle(),
    });
    child::emit(&growth);
}

struct GrowthRun<'a> {
    ids: usize,
    kind: Kind,
    threads: usize,
    handle: &'a Handle,
}

impl Visitor for GrowthRun<'_> {
    type Out = Growth;

    fn visit<C: Contender>(self) -> Growth {
        let GrowthRun {
            ids: count,
            kind,
            threads,
            handle,
        } = self;
        let ids = Ids::from_keys((0..count as u64).map(|i| i | 5 << 60));
        let shares: Vec<_> = (0..threads)
            .map(|t| {
                (
                    count * t / threads..count * (t + 1) / threads,
                    new_histogram(),
                )
            })
            .collect();

        let heap_before = heap_bytes();
        let spec = Spec {
            kind,
            completed_ttl: None,
            ids_hint: count,
        };
        let store = C::build(&spec);
        let (elapsed, outputs) = run_threads(shares, |_, (range, mut histogram)| {
            handle.block_on(async {
                let mut longest = 0;
                for index in range {
                    let key = ids.key(index);
                    let start = Instant::now();
                    let claim = store.claim(key).await;
                    let nanos = start.elapsed().as_nanos() as u64;
                    histogram.saturating_record(nanos);
                    longest = longest.max(nanos);
                    let Claim::Won(ticket) = claim else {
                        violated(format_args!(
                            "{}: fresh id {} was taken",
                            kind.label(),
                            key.id
                        ));
                    };
                    if !store.complete(key, ticket, index as u64).await {
                        violated(format_args!(
                            "{}: could not complete {}",
                            kind.label(),
                            key.id
                        ));
                    }
                }
                (histogram, longest)
            })
        });
        let heap_after = heap_bytes();
        handle.block_on(upkeep(&store));
        let heap_upkept = heap_bytes();

        handle.block_on(async {
            for index in (0..count).step_by(97) {
                let status = store.status(ids.key(index)).await;
                if status != CommandStatus::Completed {
                    violated(format_args!(
                        "{}: {} reads {status:?} after growing, not Completed",
                        kind.label(),
                        ids.id(index)
                    ));
                }
            }
        });
        // The process ends right after: freeing the store would only cost time.
        std::mem::forget(store);
        let longest = outputs.iter().map(|o| o.1).max().unwrap_or(0);
        let histogram = stats::merge(outputs.into_iter().map(|o| o.0));
        Growth {
            mops: count as f64 / elapsed.as_secs_f64() / 1e6,
            claim: Latency::of(&histogram, longest),
            heap_per_id: heap_after.saturating_sub(heap_before) as f64 / count as f64,
            heap_per_id_upkept: heap_upkept.saturating_sub(heap_before) as f64 / count as f64,
        }
    }
}

pub fn run(plan: &Plan, report: &mut Report) -> Result<Vec<GrowthCell>, String> {
    let mut cells = Vec::new();
    for &threads in &plan.child_threads {
        for &kind in &plan.contenders {
            progress(format_args!(
                "growth: {} at {threads} threads ({} ids, own process)",
                kind.label(),
                plan.growth_ids
            ));
            let growth: Growth = child::measure(Workload::W5, kind, threads, plan.quick)?;
            cells.push(GrowthCell {
                kind,
                threads,
                mops: [growth.mops],
                growth,
            });
        }
    }
    report.section(&render(plan, &cells));
    Ok(cells)
}

fn render(plan: &Plan, cells: &[GrowthCell]) -> String {
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
        "Mops/s",
        "× best peer",
        "× moka",
        "of bound",
        "claim p50 µs",
        "p99 µs",
        "p99.9 µs",
        "p99.99 µs",
        "max µs",
        "heap B/id",
        "after upkeep",
        "beyond key",
    ]);
    for cell in cells {
        let (kind, threads, g) = (cell.kind, cell.threads, &cell.growth);
        table.row(vec![
            kind.label().into(),
            threads.to_string(),
            mops(g.mops),
            times(compared.to_best_peer(kind, threads)),
            times(compared.to_moka(kind, threads)),
            fraction(compared.of_bound(kind, threads)),
            micros(g.claim.p50),
            micros(g.claim.p99),
            micros(g.claim.p999),
            micros(g.claim.p9999),
            micros(g.claim.max),
            bytes(g.heap_per_id),
            bytes(g.heap_per_id_upkept),
            beyond_key(kind, g.heap_per_id_upkept),
        ]);
    }
    format!(
        "## W5 growth from empty\n\n{} fresh ids claimed and completed into a store built with \
         no size hint (the bound is pre-sized by definition); one process and one run per row. \
         Every claim timed on its own; Mops/s counts claim + complete, clock reads included.\n\n\
         {}\n{}\n",
        plan.growth_ids,
        table.render(),
        compared.best_peer_line(&plan.child_threads)
    )
}
