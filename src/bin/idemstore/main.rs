//! `idemstore`: replays command deliveries through an idempotency store and checks that every
//! command ran once.
//!
//! ```text
//! idemstore replay                                   # built-in at-least-once stream
//! idemstore replay --trace corda-vaultservice.i64be.gz --workers 8 --json
//! ```
//!
//! # Flow
//!
//! ```text
//! settings ──> input (trace file or synthetic) ──> stream
//!                                                    │
//!                  workers ──execute──> store <──────┘ replay
//!                     │
//!                  handler ledger ──> checks <── store counts ──> report (text or JSON)
//! ```
//!
//! Exit status: 0 when every check holds, 1 when a check fails (or the store breaks), 2 for bad
//! input or options (a one-line error on stderr, nothing replayed).

mod backend;
mod check;
mod cli;
mod errors;
mod handler;
mod input;
mod progress;
mod replay;
mod report;
mod settings;
mod stream;
mod synthetic;
mod tally;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use idemstore::{ExecuteOptions, Executor};
use tracing_subscriber::EnvFilter;

use crate::backend::Backend;
use crate::check::{Evidence, StoreView};
use crate::cli::{Cli, Command};
use crate::errors::{CliError, EXIT_FAILED};
use crate::handler::{FailureDraw, Handler};
use crate::progress::Progress;
use crate::report::Summary;
use crate::settings::{Input, Settings};
use crate::stream::Stream;
use crate::tally::Tally;

fn main() -> ExitCode {
    // Logs go to stderr, warnings and up unless RUST_LOG asks for more; stdout stays the
    // summary's alone.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let Cli {
        command: Command::Replay(args),
    } = Cli::parse();
    let outcome = Settings::from_args(args).and_then(run);
    match outcome {
        Ok(Printed { report, json }) => {
            let mut printed = if json {
                report.to_json()
            } else {
                report.to_text()
            };
            if !printed.ends_with('\n') {
                printed.push('\n');
            }
            // A reader that went away (`| head`) is no reason to panic or to change the verdict.
            let _ = std::io::stdout().lock().write_all(printed.as_bytes());
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_status())
        }
    }
}

/// A finished replay's report, and how to print it.
struct Printed {
    report: Summary,
    json: bool,
}

/// Loads the stream, replays it and checks the outcome.
fn run(settings: Settings) -> Result<Printed, CliError> {
    let stream = match &settings.input {
        Input::Trace { path, format } => input::load_trace(path, format.as_deref())?,
        Input::Synthetic(options) => synthetic::generate(*options),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let report = runtime.block_on(replay_and_check(&settings, Arc::new(stream)))?;
    Ok(Printed {
        report,
        json: settings.json,
    })
}

async fn replay_and_check(settings: &Settings, stream: Arc<Stream>) -> Result<Summary, CliError> {
    let backend = Backend::open(&settings.backend, settings.expiry, stream.ids.len());
    let options = ExecuteOptions {
        wait_timeout: settings.wait_timeout,
        failure_policy: settings.failure_policy,
        // The claim's lease is the store's InProgress age (--in-progress-ttl); the simulated
        // handler never runs long enough to need renewals.
        lease: None,
        ..ExecuteOptions::default()
    };
    let executor = Arc::new(Executor::with_options(Arc::clone(&backend.store), options));
    let failures = FailureDraw::new(settings.fail_rate, settings.seed);
    let handler = Arc::new(Handler::new(
        stream.ids.len(),
        settings.handler_time,
        failures,
    ));

    let progress = Progress::new();
    let drawing = progress.draw(stream.deliveries.len() as u64, !settings.json);
    let replayed = replay::replay(
        Arc::clone(&stream),
        executor,
        Arc::clone(&handler),
        settings.workers,
        Arc::clone(&progress),
    )
    .await;
    progress.finish();
    if let Some(drawing) = drawing {
        // The bar only draws; if its task failed, the replay's result stands regardless.
        let _ = drawing.await;
    }

    backend.quiesce();
    let store = StoreView::read(&*backend.store, &stream.ids).await?;
    let tally = Tally::of(&replayed);
    let checks = check::verify(&Evidence {
        stream: &stream,
        replayed: &replayed,
        tally: &tally,
        handler: &handler,
        policy: settings.failure_policy,
        store: &store,
    });
    Ok(Summary::new(
        settings,
        &stream,
        tally,
        handler.total_executions(),
        &replayed,
        &store,
        checks,
    ))
}
