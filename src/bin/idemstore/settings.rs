//! The replay's settings, checked: every value in range, the backend understood, the seed
//! chosen. Refusals are one-line [`CliError`]s.

use std::path::PathBuf;
use std::time::Duration;

use idemstore::{Expiry, FailurePolicy};

use crate::backend::BackendSpec;
use crate::cli::{PolicyArg, ReplayArgs};
use crate::errors::CliError;
use crate::input::MAX_TRACE_BYTES;
use crate::synthetic::SyntheticOptions;

/// Where deliveries come from.
#[derive(Clone, Debug)]
pub enum Input {
    /// A trace file, in the given format or the one its name shows.
    Trace {
        /// The file.
        path: PathBuf,
        /// `--format`, if given.
        format: Option<String>,
        /// The most bytes the trace may hold, decompressed.
        max_bytes: u64,
    },
    /// The built-in generator.
    Synthetic(SyntheticOptions),
}

/// Everything a replay needs to know, validated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where deliveries come from.
    pub input: Input,
    /// Seeds failure draws (and the synthetic stream).
    pub seed: u64,
    /// Concurrent workers, at least 1.
    pub workers: usize,
    /// How long one execution of the simulated handler takes.
    pub handler_time: Duration,
    /// Share of executions that fail, in `[0, 1]`.
    pub fail_rate: f64,
    /// What a failure means for later deliveries.
    pub failure_policy: FailurePolicy,
    /// Longest a duplicate waits on a running command.
    pub wait_timeout: Duration,
    /// The store to replay against.
    pub backend: BackendSpec,
    /// How long each status is remembered.
    pub expiry: Expiry,
    /// One JSON object instead of the human summary.
    pub json: bool,
}

impl Settings {
    /// Checks `args`; the first value out of range is the error.
    pub fn from_args(args: ReplayArgs) -> Result<Settings, CliError> {
        let backend = BackendSpec::parse(&args.backend)?;
        let workers = match args.workers {
            Some(0) => return Err(invalid("--workers", "the worker count must be at least 1")),
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|&n| n <= MAX_WORKERS)
                .ok_or_else(|| invalid("--workers", format!("at most {MAX_WORKERS} workers")))?,
            None => std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS)),
        };
        if args.handler_us > MAX_HANDLER_US {
            let problem = format!(
                "{} is more than {MAX_HANDLER_US} (one minute)",
                args.handler_us
            );
            return Err(invalid("--handler-us", problem));
        }
        if !(0.0..=1.0).contains(&args.fail_rate) {
            return Err(invalid(
                "--fail-rate",
                format!("{} is not in [0, 1]", args.fail_rate),
            ));
        }
        for (option, age) in [
            ("--completed-ttl", args.completed_ttl),
            ("--failed-ttl", args.failed_ttl),
            ("--in-progress-ttl", args.in_progress_ttl),
        ] {
            if age.is_zero() {
                return Err(invalid(
                    option,
                    "an age of zero would forget every record at once",
                ));
            }
        }
        let seed = args.seed.unwrap_or_else(rand::random);

        let input = match args.trace {
            Some(path) => Input::Trace {
                path,
                format: args.format,
                max_bytes: max_trace_bytes(args.max_trace_bytes)?,
            },
            None => Input::Synthetic(synthetic_options(&args, seed)?),
        };
        Ok(Settings {
            input,
            seed,
            workers,
            handler_time: Duration::from_micros(args.handler_us),
            fail_rate: args.fail_rate,
            failure_policy: match args.failure_policy {
                PolicyArg::Retryable => FailurePolicy::Retryable,
                PolicyArg::Terminal => FailurePolicy::Terminal,
            },
            wait_timeout: args.wait_timeout,
            backend,
            expiry: Expiry {
                completed: Some(args.completed_ttl),
                failed: Some(args.failed_ttl),
                in_progress: Some(args.in_progress_ttl),
                ..Expiry::default()
            },
            json: args.json,
        })
    }
}

/// More workers than this is a typo, not a plan: each is a task with its own latency
/// histogram of about 270 KB, so 4096 workers already hold about 1.1 GB of them.
const MAX_WORKERS: usize = 4096;

/// The longest simulated handler: a minute per execution is already a replay that never ends.
const MAX_HANDLER_US: u64 = 60_000_000;

/// The longest synthetic stream. Each delivery costs tens of bytes across the stream, the
/// answers and the store, so this is already several gigabytes.
const MAX_COUNT: u32 = 100_000_000;

/// The largest redelivery share. Near 1 the stream is almost all redeliveries of a handful of
/// commands (q = share / (1 − share) redeliveries each), which tests nothing more.
const MAX_DUPLICATE_SHARE: f64 = 0.99;

fn max_trace_bytes(given: Option<u64>) -> Result<u64, CliError> {
    match given {
        None => Ok(MAX_TRACE_BYTES),
        Some(bytes) if (1..=MAX_TRACE_BYTES).contains(&bytes) => Ok(bytes),
        Some(bytes) => Err(invalid(
            "--max-trace-bytes",
            format!("{bytes} is not in 1..={MAX_TRACE_BYTES}"),
        )),
    }
}

fn synthetic_options(args: &ReplayArgs, seed: u64) -> Result<SyntheticOptions, CliError> {
    let count = u32::try_from(args.count)
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .ok_or_else(|| {
            invalid(
                "--count",
                format!("{} is not in 1..={MAX_COUNT}", args.count),
            )
        })?;
    if !(0.0..=MAX_DUPLICATE_SHARE).contains(&args.duplicate_share) {
        let problem = format!(
            "{} is not in [0, {MAX_DUPLICATE_SHARE}]",
            args.duplicate_share
        );
        return Err(invalid("--duplicate-share", problem));
    }
    let redelivery_distance = u32::try_from(args.redelivery_distance)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            let problem = format!("{} is not in 1..={}", args.redelivery_distance, u32::MAX);
            invalid("--redelivery-distance", problem)
        })?;
    Ok(SyntheticOptions {
        seed,
        count,
        duplicate_share: args.duplicate_share,
        redelivery_distance,
    })
}

fn invalid(option: &'static str, problem: impl Into<String>) -> CliError {
    CliError::InvalidOption {
        option,
        problem: problem.into(),
    }
}
