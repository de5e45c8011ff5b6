//! Where the summary and errors go, when they cannot go there, through the real `idemstore`
//! binary. A summary lost to a failed write is a failure (exit status 1, said on stderr); a
//! reader that went away is not; and a stderr that cannot be written never makes the tool
//! panic (a panic would exit with status 101).

mod cli_support;

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};

use cli_support::{scratch, write_file};

/// `/dev/full`: every write to it fails with "no space left on device".
fn dev_full() -> Stdio {
    Stdio::from(
        File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full opens"),
    )
}

/// The write end of a pipe whose read end is already closed: every write to it fails with a
/// broken pipe.
fn widowed_pipe() -> Stdio {
    let mut ends = [0; 2];
    // SAFETY: `ends` is two writable ints, as pipe(2) requires.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0, "pipe(2) fails");
    // SAFETY: both descriptors were just returned by pipe(2) and are owned by nothing else;
    // each is wrapped exactly once.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
    drop(read);
    Stdio::from(write)
}

/// Runs `idemstore` with `args`, stdout and stderr as given (piped when `None`).
fn run(args: &[&str], stdout: Option<Stdio>, stderr: Option<Stdio>, log: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idemstore"))
        .args(args)
        .env("RUST_LOG", log)
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(stderr.unwrap_or_else(Stdio::piped))
        .output()
        .expect("the idemstore binary runs")
}

const PASSING: &[&str] = &["replay", "--json", "--count", "2000", "--handler-us", "0"];

#[test]
fn a_summary_that_cannot_be_written_fails_with_a_message_on_stderr() {
    let output = run(PASSING, Some(dev_full()), None, "warn");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{stderr}");
    assert!(lines[0].contains("cannot write the summary"), "{stderr}");
}

#[test]
fn a_reader_that_went_away_does_not_change_a_passing_verdict() {
    let output = run(PASSING, Some(widowed_pipe()), None, "warn");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert_eq!(stderr, "", "a closed reader is not reported");
}

#[test]
fn an_unwritable_stderr_does_not_panic_a_refusal() {
    let output = run(
        &["replay", "--workers", "0"],
        None,
        Some(dev_full()),
        "warn",
    );

    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unwritable_stderr_does_not_panic_a_usage_error() {
    let output = run(&["replay", "--bogus"], None, Some(dev_full()), "warn");

    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unwritable_stderr_does_not_panic_logging_or_the_summary_write_error() {
    // Loading a trace logs at info level, so the logger writes to the full stderr too.
    let dir = scratch("output_unwritable_stderr");
    let trace = write_file(&dir, "cdn.txt", b"1 a 10\n2 b 10\n3 a 10\n");
    let args = ["replay", "--json", "--trace", trace.to_str().unwrap()];

    let output = run(&args, Some(dev_full()), Some(dev_full()), "info");

    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn an_unwritable_stderr_does_not_disturb_a_passing_replay() {
    let output = run(PASSING, None, Some(dev_full()), "info");

    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"passed\": true"));
}
