//! Summaries of repeated measurements: medians, percentiles, latency histograms, and the
//! ratios the tables print.
//!
//! # Ratios on a noisy machine
//!
//! Rounds run the contenders one after another in a rotating order, so round `r` of every
//! contender ran within moments of the others. A ratio is the median over rounds of the
//! per-round quotient, which cancels load that came and went between rounds; a quotient of
//! two medians would not.

use std::time::Duration;

use hdrhistogram::Histogram;

/// A histogram of nanoseconds from 1 ns to one minute, three significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_max(60_000_000_000, 3).expect("valid histogram bounds")
}

/// Percentiles of one latency distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub p9999: u64,
    /// Exact, not rounded to the histogram's precision.
    pub max: u64,
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>, exact_max: u64) -> Latency {
        Latency {
            p50: histogram.value_at_quantile(0.50),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            p9999: histogram.value_at_quantile(0.9999),
            max: exact_max,
        }
    }
}

/// Per-thread histograms merged into one.
pub fn merge(histograms: impl IntoIterator<Item = Histogram<u64>>) -> Histogram<u64> {
    let mut all = new_histogram();
    for histogram in histograms {
        all.add(&histogram).expect("histograms of equal bounds");
    }
    all
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The median over rounds of `numerator[r] / denominator[r]`.
pub fn paired_ratio(numerator: &[f64], denominator: &[f64]) -> f64 {
    let quotients: Vec<f64> = numerator
        .iter()
        .zip(denominator)
        .map(|(n, d)| n / d)
        .collect();
    median(&quotients)
}

/// The `p`th percentile (0 to 100) of sorted samples, by nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
