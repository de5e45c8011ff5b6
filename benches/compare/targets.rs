//! The targets idemstore is held to, beside what this run measured, each marked met or short.
//!
//! Nothing here asserts: the machine is shared and noisy, so a verdict is a reading of this
//! run, to be judged with the tables above it. Targets are read at 2 threads (this machine's
//! core count). A quick run measures smaller sizes than some targets name; its verdicts say so.

use std::time::Duration;

use crate::adapters::Kind;
use crate::cli::Plan;
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
    measured: Option<(String, bool)>,
}

pub fn render(plan: &Plan, findings: &Findings) -> String {
    let subject = Kind::Idemstore;
    let t = TARGET_THREADS;
    let mut verdicts = Vec::new();

    let corda = findings.corda.as_deref().map(replay_table::comparison);
    let best = corda.as_ref().and_then(|c| c.to_best_peer(subject, t));
    verdicts.push(Verdict {
        target: "W1 claim + complete on Corda, 2 threads, expiry on: ≥ 2× the best peer",
        measured: best.map(|r| (format!("{r:.2}×"), r >= 2.0)),
    });
    let moka = corda.as_ref().and_then(|c| c.to_moka(subject, t));
    verdicts.push(Verdict {
        target: "W1 claim + complete on Corda, 2 threads, expiry on: ≥ 15× moka",
        measured: moka.map(|r| (format!("{r:.2}×"), r >= 15.0)),
    });

    let orm = findings.orm.as_deref().map(replay_table::comparison);
    let best = orm.as_ref().and_then(|c| c.to_best_peer(subject, t));
    verdicts.push(Verdict {
        target: "W2 duplicate-heavy lookups (orm-busy), 2 threads: ≥ 2× the best peer",
        measured: best.map(|r| (format!("{r:.2}×"), r >= 2.0)),
    });

    let growth = findings.growth.iter().flatten();
    let growth = growth
        .filter(|c| c.kind == subject && c.threads == t)
        .last();
    verdicts.push(Verdict {
        target: "W5 growth to 10^7, 2 threads: max claim latency ≤ 1 ms",
        measured: growth.map(|g| {
            let max = g.growth.claim.max;
            (format!("{} µs", micros(max)), max <= 1_000_000)
        }),
    });
    verdicts.push(Verdict {
        target: "W5 growth to 10^7, 2 threads: claim p99.99 ≤ 50 µs",
        measured: growth.map(|g| {
            let p9999 = g.growth.claim.p9999;
            (format!("{} µs", micros(p9999)), p9999 <= 50_000)
        }),
    });

    let churn = findings.churn.iter().flatten();
    let churn = churn.filter(|c| c.kind == subject && c.threads == t).last();
    verdicts.push(Verdict {
        target: "W4 churn, 2 threads: ≤ 48 bytes per live entry beyond the key",
        measured: churn.map(|c| {
            let beyond = c.churn.heap_per_live_id - ID_LEN as f64;
            (format!("{beyond:.0} B"), beyond <= 48.0)
        }),
    });
    verdicts.push(Verdict {
        target: "W4 churn, 2 threads: resident memory after idle ≤ 1.2× before",
        measured: churn.map(|c| {
            let ratio = c.churn.rss_after as f64 / c.churn.rss_before as f64;
            (format!("{ratio:.2}×"), ratio <= 1.2)
        }),
    });

    let herd = findings.herd.iter().flatten();
    let herd = herd
        .filter(|c| c.kind == subject && c.threads == t && c.waiters == 4096)
        .last();
    verdicts.push(Verdict {
        target: "W3 4,096 waiters, 2 threads: last wake-up p99 ≤ 5 ms",
        measured: herd.map(|h| {
            let p99 = percentile(&h.last_wakeup, 99.0);
            (
                format!("{} µs", micros(p99.as_nanos() as u64)),
                p99 <= Duration::from_millis(5),
            )
        }),
    });

    let mut table = Table::new(&["target (idemstore)", "measured", "verdict"]);
    for verdict in verdicts {
        let (measured, mark) = match verdict.measured {
            Some((value, true)) => (value, "met"),
            Some((value, false)) => (value, "short"),
            None => ("not measured in this run".into(), "—"),
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
