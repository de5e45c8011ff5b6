//! Running work on several threads released together, and failing loudly.
//!
//! Threads are std threads that wait at a barrier; the time of a run is from the first
//! thread's start to the last one's finish, so a straggler counts. Contenders' async calls are
//! driven on each worker thread by `Handle::block_on` of one shared tokio runtime: the future
//! runs on the calling thread, so every contender, sync or async, runs on the same threads.

use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Runs `work(thread, input)` for each input on its own thread; returns the span from the
/// first start to the last finish, and the outputs in input order.
pub fn run_threads<I: Send, T: Send>(
    inputs: Vec<I>,
    work: impl Fn(usize, I) -> T + Sync,
) -> (Duration, Vec<T>) {
    let barrier = Barrier::new(inputs.len());
    let spans: Vec<(Instant, Instant, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = inputs
            .into_iter()
            .enumerate()
            .map(|(thread, input)| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let output = work(thread, input);
                    (start, Instant::now(), output)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let first = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    (last - first, spans.into_iter().map(|s| s.2).collect())
}

/// A tokio runtime whose handle drives contenders' futures on the calling threads (its own
/// worker idles), with timers for idemstore's `wait`.
pub fn driver_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Reports a broken invariant and ends the process with exit code 3: a run whose semantics
/// broke has no numbers worth printing.
pub fn violated(what: std::fmt::Arguments<'_>) -> ! {
    eprintln!("compare: INVARIANT VIOLATED: {what}");
    std::process::exit(3)
}

/// A progress line on stderr (the report goes to stdout).
pub fn progress(what: std::fmt::Arguments<'_>) {
    eprintln!("compare: {what}");
}
