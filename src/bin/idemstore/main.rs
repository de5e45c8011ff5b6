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
//! Exit status: 0 when every check holds, 1 when a check fails (or the store breaks, or the
//! summary cannot be written), 2 for bad input or options (a one-line error on stderr, nothing
//! replayed). Writing to stderr never panics: if stderr itself fails, the exit status is all
//! that is left to say it.

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

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use clap::error::ErrorKind as ClapErrorKind;
use idemstore::{ExecuteOptions, Executor};
use tracing_subscriber::EnvFilter;

use crate::backend::Backend;
use crate::check::{Evidence, StoreView};
use crate::cli::{Cli, Command};
use crate::errors::{CliError, EXIT_BAD_INPUT, EXIT_FAILED};
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
        // A log line stderr refuses is dropped; the subscriber's own report of that would go
        // to the same stderr with a panicking `eprintln!`.
        .log_internal_errors(false)
        .init();

    let args = match Cli::try_parse() {
        Ok(Cli {
            command: Command::Replay(args),
        }) => args,
        Err(error) => return command_line_refused(&error),
    };
    let outcome = Settings::from_args(args)
        .and_then(run)
        .and_then(|printed| print(&printed).map(|()| printed.report.passed));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED),
        Err(error) => {
            // If stderr is gone too there is nowhere left to say it; the status still does.
            let _ = writeln!(std::io::stderr().lock(), "error: {error}");
            ExitCode::from(error.exit_status())
        }
    }
}

/// Ends the tool for a command line clap did not accept. Help and version go out as clap
/// writes them; a usage error becomes one line (the first of clap's message), exit status 2.
fn command_line_refused(error: &clap::Error) -> ExitCode {
    match error.kind() {
        ClapErrorKind::DisplayHelp
        | ClapErrorKind::DisplayVersion
        | ClapErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // clap writes help to stdout (to stderr, status 2, when a subcommand is missing);
            // a failed write of it is not worth a panic.
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_BAD_INPUT))
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty())
                .unwrap_or("the command line is invalid");
            let message = first.strip_prefix("error:").map_or(first, str::trim_start);
            let refused = CliError::CommandLine(message.to_owned());
            let _ = writeln!(std::io::stderr().lock(), "error: {refused}");
            ExitCode::from(refused.exit_status())
        }
    }
}

/// Writes the summary to stdout. A reader that went away (`| head`) is no reason to change the
/// verdict; any other failure (a full disk) means the result was lost, and is an error.
fn print(printed: &Printed) -> Result<(), CliError> {
    let Printed { report, json } = printed;
    let mut text = if *json {
        report.to_json()
    } else {
        report.to_text()
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != ErrorKind::BrokenPipe => Err(CliError::WriteSummary(error)),
        _ => Ok(()),
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
        Input::Trace {
            path,
            format,
            max_bytes,
        } => input::load_trace(path, format.as_deref(), *max_bytes)?,
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
