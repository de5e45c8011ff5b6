//! The replay engine: workers take deliveries in order and execute each through the store.
//!
//! # How deliveries are handed out
//!
//! The stream is one shared queue: a cursor that each worker advances by one to take the next
//! delivery. Deliveries therefore start in stream order, `workers` of them in flight at most,
//! which is how a broker with `workers` consumers hands them out; a redelivery closer than
//! `workers` positions to its first delivery usually meets it still running.
//!
//! # What is recorded
//!
//! For every delivery, what its `execute` call answered (the value with how it was served, or
//! the error), and how long the call took from the moment the worker took the delivery. The
//! engine judges nothing: `check` compares the answers with the handler's ledger afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use idemstore::{ExecuteError, Executed, Executor, Served};

use crate::handler::{Handler, InjectedFailure, RunValue};
use crate::progress::Progress;
use crate::stream::Stream;

/// What one delivery's `execute` call answered.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A value, and whether this delivery ran the command, waited for it, or found it done.
    Value {
        /// How the value was served.
        served: Served,
        /// The value: which run of which command produced it.
        value: RunValue,
    },
    /// This delivery ran the command and the run failed.
    Failed(InjectedFailure),
    /// Another delivery's run failed; this is the failure the store recorded.
    FailedElsewhere(Arc<str>),
    /// No outcome of the command at all.
    Refused(Refusal),
}

/// Why a delivery got no outcome of its command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The wait for the running first delivery timed out.
    Timeout,
    /// The id was taken by a different payload.
    Conflict,
    /// The command's outcome is unknown.
    Indeterminate,
    /// The claim was lost while the command ran.
    OwnershipLost,
    /// The stored result had another type.
    ResultType,
    /// The store failed.
    Store(Box<str>),
}

impl Refusal {
    /// A short name, for counts in the report.
    pub fn name(&self) -> &'static str {
        match self {
            Refusal::Timeout => "Timeout",
            Refusal::Conflict => "Conflict",
            Refusal::Indeterminate => "Indeterminate",
            Refusal::OwnershipLost => "OwnershipLost",
            Refusal::ResultType => "ResultType",
            Refusal::Store(_) => "Store",
        }
    }
}

/// Everything the workers recorded.
pub struct Replayed {
    /// Per worker, `(position in the stream, answer)` for each delivery it took.
    logs: Vec<Vec<(usize, Answer)>>,
    /// Latency of every delivery, in nanoseconds, from taking it to its answer.
    pub latency_ns: Histogram<u64>,
    /// Wall time from the first worker starting to the last finishing.
    pub elapsed: Duration,
}

impl Replayed {
    /// Every delivery's answer with its position in the stream, in no particular order.
    pub fn answers(&self) -> impl Iterator<Item = (usize, &Answer)> {
        self.logs
            .iter()
            .flatten()
            .map(|(position, answer)| (*position, answer))
    }
}

/// Deliveries a worker counts locally before it publishes them to the progress bar.
const PROGRESS_BATCH: u64 = 256;

/// Replays `stream` with `workers` concurrent workers.
pub async fn replay(
    stream: Arc<Stream>,
    executor: Arc<Executor>,
    handler: Arc<Handler>,
    workers: usize,
    progress: Arc<Progress>,
) -> Replayed {
    let cursor = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let worker = Worker {
                stream: Arc::clone(&stream),
                executor: Arc::clone(&executor),
                handler: Arc::clone(&handler),
                cursor: Arc::clone(&cursor),
                progress: Arc::clone(&progress),
            };
            tokio::spawn(worker.run())
        })
        .collect();

    let mut logs = Vec::with_capacity(workers);
    let mut latency_ns = new_histogram();
    for task in tasks {
        let (log, histogram) = match task.await {
            Ok(done) => done,
            // A worker only panics on a bug in this tool or the library: show it as it was.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        logs.push(log);
        latency_ns
            .add(histogram)
            .expect("histograms of one shape always add");
    }
    Replayed {
        logs,
        latency_ns,
        elapsed: started.elapsed(),
    }
}

/// One worker's share of the replay.
struct Worker {
    stream: Arc<Stream>,
    executor: Arc<Executor>,
    handler: Arc<Handler>,
    /// The next position to take; shared by all workers.
    cursor: Arc<AtomicUsize>,
    progress: Arc<Progress>,
}

impl Worker {
    async fn run(self) -> (Vec<(usize, Answer)>, Histogram<u64>) {
        let total = self.stream.deliveries.len();
        let mut log = Vec::with_capacity(total / 4 + 1);
        let mut latency = new_histogram();
        let mut unpublished = 0;
        loop {
            // Relaxed: the cursor only hands out distinct positions; the stream it indexes
            // was built before any worker started.
            let position = self.cursor.fetch_add(1, Ordering::Relaxed);
            if position >= total {
                break;
            }
            let number = self.stream.deliveries[position];
            let id = &self.stream.ids[number as usize];

            let taken = Instant::now();
            let handler = &self.handler;
            let outcome = self
                .executor
                .execute(id, |_cancel| handler.execute(number))
                .await;
            latency.saturating_record(taken.elapsed().as_nanos() as u64);

            log.push((position, answer_of(outcome)));
            // The memory store answers without ever suspending, so with a handler that does
            // not suspend either (`--handler-us 0`) this loop would never give its thread
            // back. A duplicate it wakes is queued on this thread, in a slot the other threads
            // cannot steal from, and would wait for the whole rest of the stream. Spending
            // scheduler budget yields every so often (tokio's budget is 128 units), which
            // bounds that wait at a few microseconds.
            tokio::task::coop::consume_budget().await;
            unpublished += 1;
            if unpublished == PROGRESS_BATCH {
                self.progress.advance(unpublished);
                unpublished = 0;
            }
        }
        self.progress.advance(unpublished);
        (log, latency)
    }
}

fn answer_of(outcome: Result<Executed<RunValue>, ExecuteError<InjectedFailure>>) -> Answer {
    match outcome {
        Ok(executed) => Answer::Value {
            served: executed.served,
            value: *executed.value,
        },
        Err(ExecuteError::Failed(failure)) => Answer::Failed(failure),
        Err(ExecuteError::FailedElsewhere(failure)) => Answer::FailedElsewhere(failure.message),
        Err(ExecuteError::Timeout) => Answer::Refused(Refusal::Timeout),
        Err(ExecuteError::Conflict) => Answer::Refused(Refusal::Conflict),
        Err(ExecuteError::Indeterminate) => Answer::Refused(Refusal::Indeterminate),
        Err(ExecuteError::OwnershipLost) => Answer::Refused(Refusal::OwnershipLost),
        Err(ExecuteError::ResultType) => Answer::Refused(Refusal::ResultType),
        Err(ExecuteError::Store(error)) => {
            Answer::Refused(Refusal::Store(error.to_string().into()))
        }
    }
}

/// The longest latency tracked exactly; a slower delivery is recorded as this long.
const LATENCY_CEILING_NS: u64 = 3_600 * 1_000_000_000;

/// A histogram of nanoseconds, from 1 ns to an hour, with three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_CEILING_NS, 3).expect("the bounds are valid")
}
