//! The command line, and the sizes and repetitions of a quick or a full run.
//!
//! `cargo bench --bench compare -- [--quick] [--workload W1,W3] [--threads 1,2]
//! [--contenders idemstore,moka] [--rounds N] [--out FILE]`. Bad arguments end the run with
//! clap's message and exit code 2. `cargo bench` adds `--bench`, which is accepted and ignored.
//! The hidden `--child W4|W5` runs one contender at one thread count in a fresh process (see
//! `child.rs`); the parent passes the filters that pick them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::adapters::Kind;

#[derive(Parser, Debug)]
#[command(
    name = "compare",
    about = "idemstore beside its peers on the same workloads, in one run; prints markdown tables"
)]
pub struct Args {
    /// Small sizes and few repetitions (under two minutes on two cores).
    #[arg(long)]
    pub quick: bool,
    /// Workloads to run, comma separated (default: all).
    #[arg(long, value_delimiter = ',', ignore_case = true)]
    pub workload: Vec<Workload>,
    /// Thread counts, comma separated (default: 1,2,4,8, and 1,2 for W4 and W5).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Vec<u16>,
    /// Contenders, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub contenders: Vec<Kind>,
    /// Throughput rounds per W1/W2 table cell (default: quick 5 or 3, full 15, 5 or 3, as
    /// the stream is short, medium or long).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub rounds: Option<u16>,
    /// Also write the markdown report to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
    /// Internal: run one W4 or W5 measurement in this process and print it as JSON.
    #[arg(long, hide = true)]
    pub child: Option<Workload>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Workload {
    /// Claim storm: Corda trace and synthetic Zipf(0.99).
    W1,
    /// Duplicate-heavy lookups: cache2k orm-busy trace.
    W2,
    /// Thundering herd: K waiters on one id.
    W3,
    /// Churn with expiry.
    W4,
    /// Growth from empty.
    W5,
}

/// Sizes and repetitions of one run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub quick: bool,
    pub workloads: Vec<Workload>,
    pub threads: Vec<usize>,
    pub contenders: Vec<Kind>,
    /// Interleaved throughput rounds per W1/W2 cell, if the command line fixed them.
    pub fixed_rounds: Option<usize>,
    /// Thread counts of the one-process-per-row workloads (W4, W5).
    pub child_threads: Vec<usize>,
    /// Distinct ids of the synthetic Zipf stream, and its deliveries.
    pub zipf_ids: usize,
    pub zipf_deliveries: usize,
    pub zipf_exponent: f64,
    /// Leading deliveries of orm-busy replayed (`None`: all 5,000,000).
    pub orm_deliveries: Option<usize>,
    /// Waiter counts of the herd, and repetitions of each.
    pub herd_waiters: Vec<usize>,
    pub herd_reps: usize,
    /// Unique ids through the churn, their Completed age, the idle after, and how often the
    /// contenders' upkeep runs.
    pub churn_ids: usize,
    pub churn_ttl: Duration,
    pub churn_idle: Duration,
    pub upkeep_every: Duration,
    /// Ids the growth inserts into an empty store.
    pub growth_ids: usize,
}

impl Plan {
    pub fn from_args(args: &Args) -> Plan {
        let quick = args.quick;
        let mut workloads = if args.workload.is_empty() {
            vec![
                Workload::W1,
                Workload::W2,
                Workload::W3,
                Workload::W4,
                Workload::W5,
            ]
        } else {
            args.workload.clone()
        };
        workloads.sort();
        workloads.dedup();
        let mut threads: Vec<usize> = if args.threads.is_empty() {
            vec![1, 2, 4, 8]
        } else {
            args.threads.iter().map(|&t| usize::from(t)).collect()
        };
        threads.sort();
        threads.dedup();
        let contenders = if args.contenders.is_empty() {
            Kind::ALL.to_vec()
        } else {
            Kind::ALL
                .into_iter()
                .filter(|kind| args.contenders.contains(kind))
                .collect()
        };
        // LIMITATION: every W4 or W5 row is a process of its own through up to 10^7 ids (moka
        // needs over a minute for one on two cores), so to keep the full run under twenty
        // minutes they run by default at 1 and 2 threads only, not oversubscribed; an explicit
        // --threads applies to every workload.
        let child_threads = if args.threads.is_empty() {
            vec![1, 2]
        } else {
            threads.clone()
        };
        Plan {
            quick,
            workloads,
            threads,
            contenders,
            fixed_rounds: args.rounds.map(usize::from),
            child_threads,
            zipf_ids: 1_000_000,
            zipf_deliveries: if quick { 100_000 } else { 500_000 },
            zipf_exponent: 0.99,
            orm_deliveries: quick.then_some(500_000),
            herd_waiters: vec![1, 16, 256, 4096],
            herd_reps: if quick { 30 } else { 100 },
            churn_ids: if quick { 500_000 } else { 10_000_000 },
            churn_ttl: Duration::from_millis(100),
            churn_idle: Duration::from_secs(if quick { 1 } else { 5 }),
            upkeep_every: Duration::from_millis(100),
            growth_ids: if quick { 500_000 } else { 10_000_000 },
        }
    }

    /// Throughput rounds for a stream of `deliveries`: fewer for long streams, whose runs are
    /// long enough to average out short disturbances by themselves.
    pub fn rounds_for(&self, deliveries: usize) -> usize {
        match (self.fixed_rounds, self.quick) {
            (Some(rounds), _) => rounds,
            (None, true) if deliveries <= 300_000 => 5,
            (None, true) => 3,
            (None, false) if deliveries <= 300_000 => 15,
            (None, false) if deliveries <= 1_500_000 => 5,
            (None, false) => 3,
        }
    }

    pub fn runs(&self, workload: Workload) -> bool {
        self.workloads.contains(&workload)
    }
}
