//! Running one batch on one or several threads: cutting the batch into disjoint parts and
//! timing the parts from the first thread's start to the last one's finish.

use std::sync::Barrier;
use std::time::{Duration, Instant};

/// The bounds of part `part` of `len` items cut into `parts` pieces within one of each other.
pub fn bounds(len: usize, parts: usize, part: usize) -> (usize, usize) {
    (len * part / parts, len * (part + 1) / parts)
}

/// `items` cut into exactly `parts` contiguous pieces (some empty if there are too few).
pub fn split<T>(items: &[T], parts: usize) -> Vec<&[T]> {
    (0..parts)
        .map(|part| {
            let (start, end) = bounds(items.len(), parts, part);
            &items[start..end]
        })
        .collect()
}

/// [`split`] for mutable pieces.
pub fn split_mut<T>(mut items: &mut [T], parts: usize) -> Vec<&mut [T]> {
    let len = items.len();
    let mut pieces = Vec::with_capacity(parts);
    for part in 0..parts {
        let (start, end) = bounds(len, parts, part);
        let (piece, rest) = std::mem::take(&mut items).split_at_mut(end - start);
        pieces.push(piece);
        items = rest;
    }
    pieces
}

/// Runs `work` on every part at once, one thread per part, the threads released together at a
/// barrier. Returns the sum of what `work` returned and the time from the first thread's start
/// to the last one's finish. A single part runs on the calling thread.
pub fn run_parts<P: Send>(parts: Vec<P>, work: impl Fn(P) -> usize + Sync) -> (usize, Duration) {
    if parts.len() == 1 {
        let part = parts.into_iter().next().expect("one part");
        let start = Instant::now();
        let done = work(part);
        return (done, start.elapsed());
    }
    let barrier = Barrier::new(parts.len());
    let spans: Vec<(usize, Instant, Instant)> = std::thread::scope(|scope| {
        let threads: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    let done = work(part);
                    (done, start, Instant::now())
                })
            })
            .collect();
        let joined = threads.into_iter().map(|thread| thread.join());
        joined
            .map(|span| span.expect("a bench thread panicked"))
            .collect()
    });
    let done = spans.iter().map(|span| span.0).sum();
    let first = spans.iter().map(|span| span.1).min();
    let last = spans.iter().map(|span| span.2).max();
    let elapsed = last
        .zip(first)
        .map_or(Duration::ZERO, |(last, first)| last - first);
    (done, elapsed)
}
