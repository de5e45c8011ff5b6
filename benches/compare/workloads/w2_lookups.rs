//! W2, duplicate-heavy lookups: the cache2k orm-busy trace (98.5 % duplicates, one key
//! repeated 27,210 times), replayed with the same claim → complete semantics as W1, so nearly
//! every delivery is a duplicate's claim that finds its id Completed. See `replay`.

use tokio::runtime::Handle;

use super::replay_table;
use super::rounds::{ReplayCell, measure_stream};
use crate::cli::Plan;
use crate::report::Report;
use crate::runner::progress;
use crate::traces;

pub fn run(plan: &Plan, handle: &Handle, report: &mut Report) -> Result<Vec<ReplayCell>, String> {
    progress(format_args!("decoding the orm-busy trace"));
    let orm = traces::orm_busy(plan.orm_deliveries)?;
    let cells = measure_stream(plan, &orm, handle);
    report.section(&replay_table::render(
        "W2 duplicate-heavy lookups: cache2k orm-busy trace",
        &orm,
        &cells,
        plan,
    ));
    Ok(cells)
}
