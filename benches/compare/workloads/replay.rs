//! Replaying a delivery stream through one contender: the claim storm (W1) and the
//! duplicate-heavy lookups (W2) are this, on different streams.
//!
//! # Per delivery
//!
//! `claim(id)`. The winner completes the id at once with a small result (the delivery's
//! index). A duplicate counts the status it saw: Completed, or InProgress when it raced the
//! winner between claim and complete. Any other status breaks the semantics.
//!
//! # Threads
//!
//! Deliveries are dealt round-robin: thread `t` of `T` takes deliveries `t, t + T, ...`. The
//! threads move through the stream together, so a redelivery that follows its original
//! closely (within 2 to 102 deliveries in the Corda trace) lands on another thread at nearly
//! the same moment and races it, as in a consumer group. Contiguous chunks would give most
//! redeliveries to the thread that had the original, and nothing would race.
//!
//! # Invariants, checked after every run
//!
//! - winners == distinct ids of the stream (one winner per id, none forgotten);
//! - every winner's complete succeeded;
//! - after the latency run, every id reads Completed.
//!
//! # Timing
//!
//! A throughput run times nothing per delivery. A separate latency run stamps the clock after
//! every delivery (claim + complete, or claim alone for a duplicate) into a per-thread
//! histogram, and measures the heap the store holds once the run is over, and again after three
//! rounds of the store's upkeep (which frees what idemstore's growth replaced).
//!
//! LIMITATION: each latency sample includes one clock read (`Instant::now`, tens of
//! nanoseconds here), so percentiles below about 100 ns are mostly the clock.

use std::time::Instant;

use hdrhistogram::Histogram;
use idemstore::CommandStatus;
use tokio::runtime::Handle;

use crate::adapters::{Claim, Contender, Kind, Spec, Visitor, upkeep};
use crate::alloc::{heap_bytes, settle_heap};
use crate::runner::{run_threads, violated};
use crate::stats::{self, Latency, new_histogram};
use crate::traces::Stream;

#[derive(Clone, Copy, Default)]
pub struct Tally {
    pub won: u64,
    pub saw_completed: u64,
    pub saw_in_progress: u64,
}

impl Tally {
    fn add(self, other: Tally) -> Tally {
        Tally {
            won: self.won + other.won,
            saw_completed: self.saw_completed + other.saw_completed,
            saw_in_progress: self.saw_in_progress + other.saw_in_progress,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Throughput,
    Latency,
}

/// What one run measured.
pub struct Run {
    pub mops: f64,
    pub tally: Tally,
    /// Latency runs only.
    pub latency: Option<Latency>,
    /// Heap the store held after the run, per distinct id (latency runs only).
    pub heap_per_id: Option<f64>,
    /// The same after the store's upkeep (`adapters::upkeep`).
    pub heap_per_id_upkept: Option<f64>,
}

/// One run of `stream` through a fresh store of `kind`.
pub struct Replay<'a> {
    pub stream: &'a Stream,
    pub threads: usize,
    pub handle: &'a Handle,
    pub kind: Kind,
    pub mode: Mode,
}

impl Visitor for Replay<'_> {
    type Out = Run;

    fn visit<C: Contender>(self) -> Run {
        let Replay {
            stream,
            threads,
            handle,
            kind,
            mode,
        } = self;
        let timed = mode == Mode::Latency;
        let histograms: Vec<Option<Histogram<u64>>> =
            (0..threads).map(|_| timed.then(new_histogram)).collect();

        settle_heap();
        let heap_before = heap_bytes();
        let spec = Spec {
            kind,
            completed_ttl: None,
            ids_hint: stream.ids.len(),
        };
        let store = C::build(&spec);
        let (elapsed, outputs) = run_threads(histograms, |thread, histogram| {
            handle.block_on(async {
                match histogram {
                    Some(mut histogram) => {
                        let sink = Some(&mut histogram);
                        let run = deliver::<C, true>(&store, stream, thread, threads, sink);
                        let (tally, max) = run.await;
                        (tally, Some((histogram, max)))
                    }
                    None => {
                        let run = deliver::<C, false>(&store, stream, thread, threads, None);
                        (run.await.0, None)
                    }
                }
            })
        });
        let heap_after = heap_bytes();
        let heap_upkept = timed.then(|| {
            handle.block_on(upkeep(&store));
            heap_bytes()
        });

        let mut tally = Tally::default();
        let mut timings = Vec::new();
        for (thread_tally, timing) in outputs {
            tally = tally.add(thread_tally);
            timings.extend(timing);
        }
        check_tally(kind, stream, threads, tally);
        if timed {
            check_all_completed(&store, kind, stream, handle);
        }
        let latency = timed.then(|| {
            let max = timings.iter().map(|t| t.1).max().unwrap_or(0);
            Latency::of(&stats::merge(timings.into_iter().map(|t| t.0)), max)
        });
        drop(store);
        let per_id = |heap: u64| heap.saturating_sub(heap_before) as f64 / stream.ids.len() as f64;
        Run {
            mops: stream.deliveries.len() as f64 / elapsed.as_secs_f64() / 1e6,
            tally,
            latency,
            heap_per_id: timed.then(|| per_id(heap_after)),
            heap_per_id_upkept: heap_upkept.map(per_id),
        }
    }
}

/// Thread `first`'s share of the stream. With `TIMED`, every delivery's time goes into the
/// histogram; returns the tally and the longest delivery (ns).
async fn deliver<C: Contender, const TIMED: bool>(
    store: &C,
    stream: &Stream,
    first: usize,
    step: usize,
    mut histogram: Option<&mut Histogram<u64>>,
) -> (Tally, u64) {
    let mut tally = Tally::default();
    let mut longest = 0;
    let mut last = Instant::now();
    for delivery in (first..stream.deliveries.len()).step_by(step) {
        let key = stream.key_at(delivery);
        match store.claim(key).await {
            Claim::Won(ticket) => {
                if !store.complete(key, ticket, delivery as u64).await {
                    violated(format_args!(
                        "the winner of {} could not complete it",
                        key.id
                    ));
                }
                tally.won += 1;
            }
            Claim::Saw(CommandStatus::Completed) => tally.saw_completed += 1,
            Claim::Saw(CommandStatus::InProgress) => tally.saw_in_progress += 1,
            Claim::Saw(other) => {
                violated(format_args!("a duplicate of {} saw it {other:?}", key.id))
            }
        }
        if TIMED {
            let now = Instant::now();
            let nanos = (now - last).as_nanos() as u64;
            if let Some(histogram) = histogram.as_deref_mut() {
                histogram.saturating_record(nanos);
            }
            longest = longest.max(nanos);
            last = now;
        }
    }
    (tally, longest)
}

fn check_tally(kind: Kind, stream: &Stream, threads: usize, tally: Tally) {
    let distinct = stream.ids.len() as u64;
    if tally.won != distinct {
        violated(format_args!(
            "{}: {} claims won for {distinct} distinct ids ({}, {threads} threads)",
            kind.label(),
            tally.won,
            stream.name
        ));
    }
}

fn check_all_completed<C: Contender>(store: &C, kind: Kind, stream: &Stream, handle: &Handle) {
    handle.block_on(async {
        for index in 0..stream.ids.len() {
            let key = stream.ids.key(index);
            let status = store.status(key).await;
            if status != CommandStatus::Completed {
                violated(format_args!(
                    "{}: {} reads {status:?} after the run, not Completed ({})",
                    kind.label(),
                    key.id,
                    stream.name
                ));
            }
        }
    });
}
