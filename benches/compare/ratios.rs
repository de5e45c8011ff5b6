//! The comparison columns every table carries: ratio to the best peer, ratio to moka, and
//! fraction of the hardware bound.
//!
//! Values are "higher is better" (throughput, or 1 / latency for the herd), one per round.
//! Peers are every contender a user could pick instead of idemstore, the two floors
//! included; idemstore's own variants are not peers, and the hardware bound is never one. The
//! best peer at a thread count is the one with the highest median there. Ratios pair rounds
//! (see `stats`).

use crate::adapters::{Kind, Role};
use crate::stats::{median, paired_ratio};

/// One contender's values at one thread count.
pub struct Series<'a> {
    pub kind: Kind,
    pub threads: usize,
    pub values: &'a [f64],
}

pub struct Comparison<'a> {
    series: Vec<Series<'a>>,
}

impl<'a> Comparison<'a> {
    pub fn new(series: Vec<Series<'a>>) -> Comparison<'a> {
        Comparison { series }
    }

    fn find(&self, kind: Kind, threads: usize) -> Option<&Series<'a>> {
        self.series
            .iter()
            .find(|s| s.kind == kind && s.threads == threads && !s.values.is_empty())
    }

    /// True if this contender ran at this thread count.
    pub fn ran(&self, kind: Kind, threads: usize) -> bool {
        self.find(kind, threads).is_some()
    }

    /// True if every peer ran at this thread count: only then is "the best peer" the best of
    /// them all rather than the best of those picked on the command line.
    pub fn every_peer_ran(&self, threads: usize) -> bool {
        Kind::ALL
            .into_iter()
            .filter(|kind| kind.role() == Role::Peer)
            .all(|kind| self.ran(kind, threads))
    }

    pub fn best_peer(&self, threads: usize) -> Option<Kind> {
        self.series
            .iter()
            .filter(|s| s.threads == threads && s.kind.role() == Role::Peer && !s.values.is_empty())
            .max_by(|a, b| median(a.values).total_cmp(&median(b.values)))
            .map(|s| s.kind)
    }

    fn ratio_to(&self, kind: Kind, threads: usize, other: Option<Kind>) -> Option<f64> {
        let mine = self.find(kind, threads)?;
        let theirs = self.find(other?, threads)?;
        Some(paired_ratio(mine.values, theirs.values))
    }

    /// This contender's values over the best peer's.
    pub fn to_best_peer(&self, kind: Kind, threads: usize) -> Option<f64> {
        self.ratio_to(kind, threads, self.best_peer(threads))
    }

    pub fn to_moka(&self, kind: Kind, threads: usize) -> Option<f64> {
        self.ratio_to(kind, threads, Some(Kind::Moka))
    }

    pub fn of_bound(&self, kind: Kind, threads: usize) -> Option<f64> {
        self.ratio_to(kind, threads, Some(Kind::Bound))
    }

    /// A line naming the best peer at each thread count, for under a table.
    pub fn best_peer_line(&self, threads: &[usize]) -> String {
        let named: Vec<String> = threads
            .iter()
            .map(|&t| {
                let best = self.best_peer(t).map_or("none", Kind::label);
                format!("{t} threads: {best}")
            })
            .collect();
        format!("Best peer: {}.", named.join("; "))
    }
}
