//! Interleaved rounds of stream replays: every contender at every thread count, one latency
//! run, then the throughput rounds.
//!
//! The latency run goes first and doubles as each contender's warm-up. Each throughput round
//! runs every contender once, in an order shuffled afresh each round (from a fixed seed), so
//! no contender always follows the same neighbour: a neighbour that leaves the allocator or
//! the caches in some state would otherwise favour or handicap it in every round.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use tokio::runtime::Handle;

use super::replay::{Mode, Replay, Run};
use crate::adapters::Kind;
use crate::cli::Plan;
use crate::runner::progress;
use crate::stats::Latency;
use crate::traces::Stream;

/// One contender at one thread count on one stream.
pub struct ReplayCell {
    pub kind: Kind,
    pub threads: usize,
    /// Mops/s of each throughput round, in round order.
    pub mops: Vec<f64>,
    pub latency: Latency,
    pub heap_per_id: f64,
    pub heap_per_id_upkept: f64,
    /// Duplicates that found their id still InProgress in the latency run (races seen).
    pub saw_in_progress: u64,
}

pub fn measure_stream(plan: &Plan, stream: &Stream, handle: &Handle) -> Vec<ReplayCell> {
    let rounds = plan.rounds_for(stream.deliveries.len());
    let mut shuffler = rand::rngs::StdRng::seed_from_u64(0x0dde_0f_da7e);
    let mut cells = Vec::new();
    for &threads in &plan.threads {
        progress(format_args!(
            "{}: {threads} threads, {} contenders, latency run + {} rounds",
            stream.name,
            plan.contenders.len(),
            rounds
        ));
        let run = |kind: Kind, mode: Mode| -> Run {
            kind.dispatch(Replay {
                stream,
                threads,
                handle,
                kind,
                mode,
            })
        };
        let mut row: Vec<ReplayCell> = plan
            .contenders
            .iter()
            .map(|&kind| {
                let measured = run(kind, Mode::Latency);
                ReplayCell {
                    kind,
                    threads,
                    mops: Vec::with_capacity(rounds),
                    latency: measured.latency.unwrap_or_default(),
                    heap_per_id: measured.heap_per_id.unwrap_or(f64::NAN),
                    heap_per_id_upkept: measured.heap_per_id_upkept.unwrap_or(f64::NAN),
                    saw_in_progress: measured.tally.saw_in_progress,
                }
            })
            .collect();
        for _ in 0..rounds {
            let mut order: Vec<usize> = (0..row.len()).collect();
            order.shuffle(&mut shuffler);
            for at in order {
                let cell = &mut row[at];
                let measured = run(cell.kind, Mode::Throughput);
                cell.mops.push(measured.mops);
            }
        }
        cells.extend(row);
    }
    cells
}
