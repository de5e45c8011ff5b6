//! The command line, as clap parses it. Values are checked for range and meaning afterwards,
//! in `settings`, so every refusal there is one line naming the problem.
//!
//! Numeric options allow negative numbers: `--fail-rate -0.1` is then a value the parser or
//! `settings` refuses by name, not an unknown flag `-0`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make commands run once: replay command deliveries through an idempotency store and check
/// that every command's side effect happened once and every duplicate got its answer.
#[derive(Debug, Parser)]
#[command(name = "idemstore", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The tool's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a stream of deliveries through the store with concurrent workers, then check
    /// exactly-once: side effects, answers, and the store's own counts.
    ///
    /// Exit status: 0 when every check holds, 1 when one fails, 2 for bad input or options.
    Replay(ReplayArgs),
}

/// Options of `idemstore replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Replay this trace file instead of the built-in synthetic stream.
    #[arg(long, value_name = "PATH", help_heading = "Input")]
    pub trace: Option<PathBuf>,

    /// The trace's format: i64be, i32be or text, with .gz or .xz appended when compressed
    /// (e.g. i32be.xz). Without it, the format is recognised from the file name
    /// (name.i64be.gz, name.i32be.xz, name.txt.xz, ...).
    #[arg(
        long,
        value_name = "FORMAT",
        requires = "trace",
        help_heading = "Input"
    )]
    pub format: Option<String>,

    /// Refuse a trace holding more than this many bytes once decompressed; the whole trace is
    /// held in memory. At most 4294967296 (4 GiB), the default.
    #[arg(
        long,
        value_name = "BYTES",
        requires = "trace",
        allow_negative_numbers = true,
        help_heading = "Input"
    )]
    pub max_trace_bytes: Option<u64>,

    /// Deliveries in the synthetic stream, at most 100000000.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        conflicts_with = "trace",
        allow_negative_numbers = true
    )]
    #[arg(help_heading = "Input")]
    pub count: u64,

    /// Share of synthetic deliveries that are redeliveries of an earlier command, in [0, 0.99].
    #[arg(long, value_name = "SHARE", default_value_t = 1.0 / 3.0, conflicts_with = "trace")]
    #[arg(help_heading = "Input", allow_negative_numbers = true)]
    pub duplicate_share: f64,

    /// A synthetic redelivery arrives 1 to this many deliveries after the first one
    /// (uniformly), so the shortest meet the first delivery while it still runs.
    #[arg(long, value_name = "N", default_value_t = 8, conflicts_with = "trace")]
    #[arg(help_heading = "Input", allow_negative_numbers = true)]
    pub redelivery_distance: u64,

    /// Seed of the synthetic stream and of injected failures; a run with the same seed and
    /// options replays the same stream and fails the same attempts. Random when not given
    /// (the summary prints the one used).
    #[arg(
        long,
        value_name = "SEED",
        help_heading = "Input",
        allow_negative_numbers = true
    )]
    pub seed: Option<u64>,

    /// Concurrent workers taking deliveries in order, at most 4096 [default: available
    /// parallelism].
    #[arg(
        long,
        value_name = "N",
        help_heading = "Work",
        allow_negative_numbers = true
    )]
    pub workers: Option<u64>,

    /// How long the simulated handler takes per execution, in microseconds; at most 60000000
    /// (one minute).
    #[arg(
        long,
        value_name = "MICROS",
        default_value_t = 50,
        help_heading = "Work",
        allow_negative_numbers = true
    )]
    pub handler_us: u64,

    /// Share of handler executions that fail (drawn per command and attempt from the seed).
    #[arg(
        long,
        value_name = "RATE",
        default_value_t = 0.0,
        help_heading = "Work",
        allow_negative_numbers = true
    )]
    pub fail_rate: f64,

    /// Whether a failed command runs again on its next delivery (retryable) or every later
    /// delivery gets the stored failure (terminal).
    #[arg(long, value_enum, default_value_t = PolicyArg::Retryable, help_heading = "Work")]
    pub failure_policy: PolicyArg,

    /// Longest a duplicate waits for the running first delivery before giving up.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        help_heading = "Work"
    )]
    #[arg(value_parser = humantime::parse_duration)]
    pub wait_timeout: Duration,

    /// The store: `memory` (in-process). A networked backend will be named by URL.
    #[arg(
        long,
        value_name = "BACKEND",
        default_value = "memory",
        help_heading = "Store"
    )]
    pub backend: String,

    /// How long a completed command's result is kept and replayed to duplicates.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "24h",
        help_heading = "Store"
    )]
    #[arg(value_parser = humantime::parse_duration)]
    pub completed_ttl: Duration,

    /// How long a failed command's record is kept.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1h",
        help_heading = "Store"
    )]
    #[arg(value_parser = humantime::parse_duration)]
    pub failed_ttl: Duration,

    /// The lease of a running command: how long it stays InProgress before its owner is
    /// presumed gone.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30m",
        help_heading = "Store"
    )]
    #[arg(value_parser = humantime::parse_duration)]
    pub in_progress_ttl: Duration,

    /// Print one JSON object instead of the human summary (and no progress bar).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
}

/// `--failure-policy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// The next delivery of a failed command runs it again.
    Retryable,
    /// The failure is stored and replayed to every later delivery.
    Terminal,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
