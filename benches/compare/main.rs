//! idemstore beside its peers: every contender on the same workloads, in one process, one
//! markdown report.
//!
//! ```text
//! cargo bench --bench compare                      # the full run (under 20 minutes on 2 cores)
//! cargo bench --bench compare -- --quick           # under 2 minutes
//! cargo bench --bench compare -- --workload W1,W3 --threads 1,2 --contenders idemstore,moka
//! cargo bench --bench compare -- --out report.md   # also write the report to a file
//! ```
//!
//! # What is compared
//!
//! idemstore's `MemoryStore` (expiry on, and off), papaya, scc, dashmap, quick_cache, moka
//! (the only peer with TTL), two floors (one `Mutex` around one table, and RwLock shards) and
//! the hardware bound (atomic words, no keys), each behind a thin adapter with the same
//! claim → InProgress → complete semantics (`adapters`).
//!
//! # Workloads
//!
//! - W1 claim storm: the Corda trace, and a synthetic Zipf(0.99) stream over 10^6 ids.
//! - W2 duplicate-heavy lookups: the cache2k orm-busy trace.
//! - W3 thundering herd: 1 to 4,096 waiters on one id, completion to the last wake-up.
//! - W4 churn with expiry: memory through 10^7 short-lived ids and an idle spell.
//! - W5 growth from empty to 10^7 ids: the claim latency tail that resizing causes.
//!
//! Each at 1, 2, 4 and 8 threads. Every run checks its invariants (one winner per id, every
//! waiter saw a terminal status) and ends the process with exit code 3 if one breaks. A
//! missing trace folder ends it with exit code 1 and the path it looked in. An `--out` file
//! that cannot be created ends it with exit code 2 before anything runs; otherwise the file
//! holds the report so far even when a run ends early.

mod adapters;
mod alloc;
mod child;
mod cli;
mod machine;
mod ratios;
mod report;
mod runner;
mod stats;
mod targets;
mod traces;
mod workloads;

use std::time::Instant;

use clap::Parser;

use cli::{Args, Plan, Workload};
use report::Report;
use runner::progress;
use targets::Findings;
use workloads::{w1_claim, w2_lookups, w3_herd, w4_churn, w5_growth};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

fn main() {
    let args = Args::parse();
    let plan = Plan::from_args(&args);
    let outcome = match args.child {
        Some(workload) => run_child(&plan, workload),
        None => run(&args, &plan),
    };
    if let Err(message) = outcome {
        eprintln!("compare: {message}");
        std::process::exit(1);
    }
}

fn run(args: &Args, plan: &Plan) -> Result<(), String> {
    let mut report = match &args.out {
        Some(out) => Report::to_file(out).unwrap_or_else(|message| {
            eprintln!("compare: {message}");
            std::process::exit(2)
        }),
        None => Report::new(),
    };
    let needs_traces = plan.runs(Workload::W1) || plan.runs(Workload::W2);
    if needs_traces && !traces::trace_dir().is_dir() {
        return Err(format!(
            "the trace folder {} is missing: W1 and W2 replay the real traces kept there \
             (the project's shared/traces, beside this repository)",
            traces::trace_dir().display()
        ));
    }
    let started = Instant::now();
    report.section(&machine::header(plan));

    let runtime = runner::driver_runtime();
    let handle = runtime.handle();
    let mut findings = Findings::default();
    let mut lap = Instant::now();
    if plan.runs(Workload::W1) {
        findings.corda = Some(w1_claim::run(plan, handle, &mut report)?);
        report.section(&machine::load_after(&mut lap, Workload::W1));
    }
    if plan.runs(Workload::W2) {
        findings.orm = Some(w2_lookups::run(plan, handle, &mut report)?);
        report.section(&machine::load_after(&mut lap, Workload::W2));
    }
    if plan.runs(Workload::W3) {
        findings.herd = Some(w3_herd::run(plan, &mut report));
        report.section(&machine::load_after(&mut lap, Workload::W3));
    }
    if plan.runs(Workload::W4) {
        findings.churn = Some(w4_churn::run(plan, &mut report)?);
        report.section(&machine::load_after(&mut lap, Workload::W4));
    }
    if plan.runs(Workload::W5) {
        findings.growth = Some(w5_growth::run(plan, &mut report)?);
        report.section(&machine::load_after(&mut lap, Workload::W5));
    }
    report.section(&targets::render(plan, &findings));
    report.section(&machine::footer(started.elapsed()));

    if let Some(out) = report.finish()? {
        progress(format_args!("report written to {}", out.display()));
    }
    Ok(())
}

/// The child's side of `child::measure`: one contender, one thread count.
fn run_child(plan: &Plan, workload: Workload) -> Result<(), String> {
    let ([kind], [threads]) = (plan.contenders.as_slice(), plan.threads.as_slice()) else {
        return Err("--child needs exactly one contender and one thread count".into());
    };
    match workload {
        Workload::W4 => w4_churn::child(plan, *kind, *threads),
        Workload::W5 => w5_growth::child(plan, *kind, *threads),
        other => return Err(format!("--child runs W4 or W5, not {other:?}")),
    }
    Ok(())
}
