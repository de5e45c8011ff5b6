//! W1, the claim storm: claim → complete on every delivery of the real Corda trace (a third
//! of its ids redelivered within about a hundred deliveries) and of a synthetic Zipf(0.99)
//! stream over 10^6 ids. See `replay` for the semantics, threads and invariants.

use tokio::runtime::Handle;

use super::replay_table;
use super::rounds::{ReplayCell, measure_stream};
use crate::cli::Plan;
use crate::report::Report;
use crate::runner::progress;
use crate::traces;

pub fn run(plan: &Plan, handle: &Handle, report: &mut Report) -> Result<Vec<ReplayCell>, String> {
    let corda = traces::corda()?;
    let cells = measure_stream(plan, &corda, handle);
    report.section(&replay_table::render(
        "W1 claim storm: Corda trace",
        &corda,
        &cells,
        plan,
    ));
    drop(corda);

    progress(format_args!(
        "generating {} Zipf({}) deliveries over {} ids",
        plan.zipf_deliveries, plan.zipf_exponent, plan.zipf_ids
    ));
    let zipf = traces::zipf(plan.zipf_ids, plan.zipf_deliveries, plan.zipf_exponent);
    let zipf_cells = measure_stream(plan, &zipf, handle);
    let title = format!("W1 claim storm: {}", zipf.name);
    report.section(&replay_table::render(&title, &zipf, &zipf_cells, plan));
    Ok(cells)
}
