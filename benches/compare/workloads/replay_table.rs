//! The table of a stream replay (W1, W2): one row per contender and thread count.

use super::rounds::ReplayCell;
use crate::cli::Plan;
use crate::ratios::{Comparison, Series};
use crate::report::{Table, beyond_key, bytes, fraction, micros, mops, times};
use crate::stats::median;
use crate::traces::{ID_LEN, Stream};

pub fn comparison(cells: &[ReplayCell]) -> Comparison<'_> {
    Comparison::new(
        cells
            .iter()
            .map(|cell| Series {
                kind: cell.kind,
                threads: cell.threads,
                values: &cell.mops,
            })
            .collect(),
    )
}

pub fn render(title: &str, stream: &Stream, cells: &[ReplayCell], plan: &Plan) -> String {
    let compared = comparison(cells);
    let mut table = Table::new(&[
        "contender",
        "threads",
        "Mops/s",
        "× best peer",
        "× moka",
        "of bound",
        "p50 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "heap B/id",
        "after upkeep",
        "beyond key",
        "raced (saw InProgress)",
    ]);
    for cell in cells {
        let (kind, threads) = (cell.kind, cell.threads);
        table.row(vec![
            kind.label().into(),
            threads.to_string(),
            mops(median(&cell.mops)),
            times(compared.to_best_peer(kind, threads)),
            times(compared.to_moka(kind, threads)),
            fraction(compared.of_bound(kind, threads)),
            micros(cell.latency.p50),
            micros(cell.latency.p99),
            micros(cell.latency.p999),
            micros(cell.latency.max),
            bytes(cell.heap_per_id),
            bytes(cell.heap_per_id_upkept),
            beyond_key(kind, cell.heap_per_id_upkept),
            cell.saw_in_progress.to_string(),
        ]);
    }
    format!(
        "## {title}\n\n{} deliveries of {} distinct ids ({:.1} % duplicates), {ID_LEN}-byte ids. \
         Mops/s: deliveries per second, median of {} interleaved rounds; ratios: median of \
         per-round ratios. Latency: one more run timing every delivery (claim + complete, or the \
         duplicate's claim). Heap B/id: heap the store holds after that run, per distinct id; \
         after upkeep: the same after three rounds of the store's own upkeep (see the \
         adapters); beyond key: that less the {ID_LEN} bytes of the id.\n\n\
         {}\n{}\n",
        stream.deliveries.len(),
        stream.ids.len(),
        stream.duplicate_share() * 100.0,
        plan.rounds_for(stream.deliveries.len()),
        table.render(),
        compared.best_peer_line(&plan.threads),
    )
}
