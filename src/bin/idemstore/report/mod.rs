//! What the tool prints: a summary for people, or one JSON object for programs.
//!
//! Both come from one [`Summary`], so they never disagree. The summary goes to stdout; the
//! progress bar, logs and errors go to stderr.

use std::collections::BTreeMap;
use std::time::Duration;

use idemstore::{CommandStatus, FailurePolicy};
use serde::Serialize;

use crate::check::{Check, StoreView};
use crate::replay::Replayed;
use crate::settings::Settings;
use crate::stream::{Source, Stream};
use crate::tally::Tally;

mod text;

/// Everything a replay reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Where the deliveries came from.
    pub source: SourceReport,
    /// The store replayed against.
    pub backend: String,
    /// Concurrent workers.
    pub workers: usize,
    /// Simulated handler time per execution, in microseconds.
    pub handler_us: u64,
    /// Seed of the failure draws (and of the synthetic stream).
    pub seed: u64,
    /// Share of executions made to fail.
    pub fail_rate: f64,
    /// `retryable` or `terminal`.
    pub failure_policy: &'static str,
    /// Ages per status, as given.
    pub ttl: TtlReport,
    /// Deliveries in the stream.
    pub deliveries: u64,
    /// Distinct command ids among them.
    pub distinct_ids: u64,
    /// Deliveries that repeat an earlier id.
    pub duplicates: u64,
    /// Executions of the handler: the side effects, from its ledger.
    pub executions: u64,
    /// Deliveries answered with their command's outcome without running it.
    pub duplicates_absorbed: u64,
    /// How deliveries were served and failed, from their answers.
    pub answers: Tally,
    /// Seconds from the first worker starting to the last finishing.
    pub elapsed_s: f64,
    /// Deliveries per second over `elapsed_s`.
    pub throughput_per_s: f64,
    /// Time from taking a delivery to its answer, in microseconds.
    pub latency_us: LatencyReport,
    /// The store's own counts after the replay.
    pub store: StoreReport,
    /// Every check's verdict.
    pub checks: Vec<Check>,
    /// True when every check held.
    pub passed: bool,
}

/// The stream's origin.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceReport {
    /// A trace file.
    Trace {
        /// As given.
        path: String,
        /// Record encoding.
        encoding: String,
        /// Compression.
        compression: String,
    },
    /// The built-in generator.
    Synthetic {
        /// Redeliveries' share of deliveries, as asked for.
        duplicate_share: f64,
        /// Longest redelivery distance, in deliveries.
        redelivery_distance: u32,
    },
}

/// Ages per status.
#[derive(Debug, Serialize)]
pub struct TtlReport {
    /// Completed records.
    pub completed: String,
    /// Failed records.
    pub failed: String,
    /// InProgress records (the claim's lease).
    pub in_progress: String,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Serialize)]
pub struct LatencyReport {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Slowest delivery.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// The store after the replay.
#[derive(Debug, Serialize)]
pub struct StoreReport {
    /// `count_by_status`, by status name.
    pub counts: BTreeMap<&'static str, u64>,
    /// Records present.
    pub total: u64,
    /// Failed records as a share of `total`, in percent.
    pub failure_rate_percent: f64,
    /// InProgress records as a share of `total`, in percent.
    pub stuck_percent: f64,
    /// Records an operator must resolve.
    pub indeterminate: u64,
    /// Records past their deadline but not yet removed.
    pub expired_unremoved: u64,
    /// Records removed by expiry during the replay.
    pub expired_removed_total: u64,
    /// Table slots freed by removals and not yet reclaimed.
    pub removed_slots: u64,
}

impl Summary {
    /// Puts the report together.
    pub fn new(
        settings: &Settings,
        stream: &Stream,
        tally: Tally,
        executions: u64,
        replayed: &Replayed,
        store: &StoreView,
        checks: Vec<Check>,
    ) -> Summary {
        let (elapsed, latency_ns) = (replayed.elapsed, &replayed.latency_ns);
        let deliveries = stream.deliveries.len() as u64;
        let micros = |ns: u64| ns as f64 / 1_000.0;
        let health = &store.health;
        Summary {
            source: SourceReport::of(&stream.source),
            backend: settings.backend.to_string(),
            workers: settings.workers,
            handler_us: settings.handler_time.as_micros() as u64,
            seed: settings.seed,
            fail_rate: settings.fail_rate,
            failure_policy: policy_name(settings.failure_policy),
            ttl: TtlReport {
                completed: age(settings.expiry.completed),
                failed: age(settings.expiry.failed),
                in_progress: age(settings.expiry.in_progress),
            },
            deliveries,
            distinct_ids: stream.ids.len() as u64,
            duplicates: stream.duplicates() as u64,
            executions,
            duplicates_absorbed: tally.absorbed(),
            answers: tally,
            elapsed_s: elapsed.as_secs_f64(),
            throughput_per_s: deliveries as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
            latency_us: LatencyReport {
                p50: micros(latency_ns.value_at_quantile(0.50)),
                p90: micros(latency_ns.value_at_quantile(0.90)),
                p99: micros(latency_ns.value_at_quantile(0.99)),
                p99_9: micros(latency_ns.value_at_quantile(0.999)),
                max: micros(latency_ns.max()),
                mean: latency_ns.mean() / 1_000.0,
            },
            store: StoreReport {
                counts: live_statuses()
                    .map(|s| (s.as_str(), store.count(s)))
                    .collect(),
                total: health.total,
                failure_rate_percent: health.failure_rate_percent,
                stuck_percent: health.stuck_percent,
                indeterminate: health.indeterminate,
                expired_unremoved: health.expired_unremoved,
                expired_removed_total: health.expired_removed_total,
                removed_slots: health.removed_slots,
            },
            passed: checks.iter().all(|check| check.passed),
            checks,
        }
    }

    /// The JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the summary holds only serialisable values")
    }
}

impl SourceReport {
    fn of(source: &Source) -> SourceReport {
        match source {
            Source::Trace { path, format } => SourceReport::Trace {
                path: path.display().to_string(),
                encoding: format.encoding.to_string(),
                compression: format.compression.to_string(),
            },
            Source::Synthetic {
                duplicate_share,
                redelivery_distance,
                ..
            } => SourceReport::Synthetic {
                duplicate_share: *duplicate_share,
                redelivery_distance: *redelivery_distance,
            },
        }
    }
}

impl std::fmt::Display for SourceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceReport::Trace {
                path,
                encoding,
                compression,
            } => {
                write!(f, "trace {path} ({encoding}, {compression})")
            }
            SourceReport::Synthetic {
                duplicate_share,
                redelivery_distance,
            } => write!(
                f,
                "the synthetic at-least-once stream (duplicate share {duplicate_share:.3}, \
                 redelivery within {redelivery_distance} deliveries)"
            ),
        }
    }
}

fn policy_name(policy: FailurePolicy) -> &'static str {
    match policy {
        FailurePolicy::Retryable => "retryable",
        FailurePolicy::Terminal => "terminal",
    }
}

fn age(age: Option<Duration>) -> String {
    age.map_or_else(
        || "never".to_owned(),
        |age| humantime::format_duration(age).to_string(),
    )
}

pub(super) fn live_statuses() -> impl Iterator<Item = CommandStatus> {
    CommandStatus::ALL
        .into_iter()
        .filter(|status| *status != CommandStatus::NotFound)
}

/// `n` with a comma between groups of three digits: 1234567 → "1,234,567".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(135_702), "135,702");
        assert_eq!(grouped(12_345_678), "12,345,678");
    }
}
