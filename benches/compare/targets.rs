//! The targets idemstore is held to, beside what this run measured, each marked met or short.
//!
//! Nothing here asserts: the machine is shared and noisy, so a verdict is a reading of this
//! run, to be judged with the tables above it. Targets are read at 2 threads (this machine's
//! core count). A quick run measures smaller sizes than some targets name; its verdicts say so.
//! A "× best peer" target is judged only when every peer (the floors included) ran in that
//! workload at that thread count, and a "× moka" target only when moka ran: a ratio to
//! whichever peers the command line picked says nothing about the target.

use std::time::Duration;

use crate::adapters::Kind;
use crate::cli::Plan;
use crate::ratios::Comparison;
use crate::report::{Table, micros};
use crate::stats::percentile;
use crate::traces::ID_LEN;
use crate::workloads::replay_table;
use crate::workloads::rounds::ReplayCell;
use crate::workloads::w3_herd::HerdCell;
use crate::workloads::w4_churn::ChurnCell;
use crate::workloads::w5_growth::GrowthCell;

/// The thread count targets are read at.
const TARGET_THREADS: usize = 2;

/// What the workloads measured, for the verdicts.
#[derive(Default)]
pub struct Findings {
    pub corda: Option<Vec<ReplayCell>>,
    pub orm: Option<Vec<ReplayCell>>,
    pub herd: Option<Vec<HerdCell>>,
    pub churn: Option<Vec<ChurnCell>>,
    pub growth: Option<Vec<GrowthCell>>,
}

/// One target: its wording, what was measured, and whether that meets it.
struct Verdict {
    target: &'static str,
    measured: Reading,
}

/// What this run can say about one target.
enum Reading {
    /// The value, and whether it meets the target.
    Judged(String, bool),
    /// Not judged, and why (the verdict cell).
    Unjudged(&'static str),
}

const NOT_RUN: &str = "not measured in this run";
const NOT_EVERY_PEER: &str = "not measured (not every peer ran)";
const NO_MOKA: &str = "not measured (moka did not run at this thread count)";

impl From<Option<(String, bool)>> for Reading {
    fn from(measured: Option<(String, bool)>) -> Reading {
        match measured {
            Some((value, met)) => Reading::Judged(value, met),
            None => Reading::Unjudged(NOT_RUN),
        }
    }
}

/// A "≥ `at_least` × the best peer" reading, judged only if every peer ran.
fn to_best_peer(compared: Option<&Comparison<'_>>, threads: usize, at_least: f64) -> Reading {
    let subject = Kind::Idemstore;
    match compared {
        Some(c) if !c.every_peer_ran(threads) => Reading::Unjudged(NOT_EVERY_PEER),
        Some(c) => c
            .to_best_peer(subject, threads)
            .map(|r| (format!("{r:.2}×"), r >= at_least))
            .into(),
        None => Reading::Unjudged(NOT_RUN),
    }
}

/// A "≥ `at_least` × moka" reading, judged only if moka ran.
fn to_moka(compared: Option<&Comparison<'_>>, threads: usize, at_least: f64) -> Reading {
    let subject = Kind::Idemstore;
    match compared {
        Some(c) if !c.ran(Kind::Moka, threads) => Reading::Unjudged(NO_MOKA),
        Some(c) => c
            .to_moka(subject, threads)
            .map(|r| (format!("{r:.2}×"), r >= at_least))
            .into(),
        None => Reading::Unjudged(NOT_RUN),
    }
}

pub fn render(plan: &Plan, findings: &Findings) -> String {
    let subject = Kind::Idemstore;
    let t = TARGET_THREADS;
    let mut verdicts = Vec::new();

    let corda = findings.corda.as_deref().map(replay_table::comparison);
    verdicts.push(Verdict {
        target: "W1 claim + complete on Corda, 2 threads, expiry on: ≥ 2× the best peer",
        measured: to_best_peer(corda.as_ref(), t, 2.0),
    });
    verdicts.push(Verdict {
        target: "W1 claim + complete on Corda, 2 threads, expiry on: ≥ 15× moka",
        measured: to_moka(corda.as_ref(), t, 15.0),
    });

    let orm = findings.orm.as_deref().map(replay_table::comparison);
    verdicts.push(Verdict {
        target: "W2 duplicate-heavy lookups (orm-busy), 2 threads: ≥ 2× the best peer",
        measured: to_best_peer(orm.as_ref(), t, 2.0),
    });

    let growth = findings.growth.iter().flatten();
    let growth = growth
        .filter(|c| c.kind == subject && c.threads == t)
        .last();
    verdicts.push(Verdict {
        target: "W5 growth to 10^7, 2 threads: max claim latency ≤ 1 ms",
        measured: growth
            .map(|g| {
                let max = g.growth.claim.max;
                (format!("{} µs", micros(max)), max <= 1_000_000)
            })
            .into(),
    });
    verdicts.push(Verdict {
        target: "W5 growth to 10^7, 2 threads: claim p99.99 ≤ 50 µs",
        measured: growth
            .map(|g| {
                let p9999 = g.growth.claim.p9999;
                (format!("{} µs", micros(p9999)), p9999 <= 50_000)
            })
            .into(),
    });

    let churn = findings.churn.iter().flatten();
    let churn = churn.filter(|c| c.kind == subject && c.threads == t).last();
    verdicts.push(Verdict {
        target: "W4 churn, 2 threads: ≤ 48 bytes per live entry beyond the key",
        measured: churn
            .map(|c| {
                let beyond = c.churn.heap_per_live_id - ID_LEN as f64;
                (format!("{beyond:.0} B"), beyond <= 48.0)
            })
            .into(),
    });
    verdicts.push(Verdict {
        target: "W4 churn, 2 threads: resident memory after idle ≤ 1.2× before",
        measured: churn
            .map(|c| {
                let ratio = c.churn.rss_after as f64 / c.churn.rss_before as f64;
                (format!("{ratio:.2}×"), ratio <= 1.2)
            })
            .into(),
    });

    let herd = findings.herd.iter().flatten();
    let herd = herd
        .filter(|c| c.kind == subject && c.threads == t && c.waiters == 4096)
        .last();
    verdicts.push(Verdict {
        target: "W3 4,096 waiters, 2 threads: last wake-up p99 ≤ 5 ms",
        measured: herd
            .map(|h| {
                let p99 = percentile(&h.last_wakeup, 99.0);
                (
                    format!("{} µs", micros(p99.as_nanos() as u64)),
                    p99 <= Duration::from_millis(5),
                )
            })
            .into(),
    });

    let mut table = Table::new(&["target (idemstore)", "measured", "verdict"]);
    for verdict in verdicts {
        let (measured, mark) = match verdict.measured {
            Reading::Judged(value, true) => (value, "met"),
            Reading::Judged(value, false) => (value, "short"),
            Reading::Unjudged(why) => ("—".to_string(), why),
        };
        table.row(vec![verdict.target.into(), measured, mark.into()]);
    }
    let caveat = if plan.quick {
        format!(
            " This is a quick run: growth and churn used {} ids (the targets name 10^7) and \
             orm-busy only its first deliveries, so these verdicts are indicative only.",
            plan.growth_ids
        )
    } else {
        String::new()
    };
    format!(
        "## Targets\n\nRead from the tables above at {t} threads; nothing is asserted.{caveat}\n\n\
         {}\n",
        table.render()
    )
}
