//! Measurements that need a process of their own (W4 churn, W5 growth): resident memory and
//! the allocator's state after one contender must not colour the next one's numbers.
//!
//! The parent re-runs its own executable with the hidden `--child W4|W5` and the filters that
//! pick one contender and one thread count. The child measures, then prints one line:
//! [`MARK`] followed by the measurement as JSON. Its stderr passes through. A child that
//! found a broken invariant exits with code 3, and the parent does the same.

use std::process::{Command, Stdio};

use clap::ValueEnum;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::adapters::Kind;
use crate::cli::Workload;
use crate::runner::violated;

/// Starts the child's result line.
pub const MARK: &str = "COMPARE-CHILD ";

/// Runs `workload` for `kind` at `threads` threads in a fresh process and returns its result.
pub fn measure<T: DeserializeOwned>(
    workload: Workload,
    kind: Kind,
    threads: usize,
    quick: bool,
) -> Result<T, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let name = workload
        .to_possible_value()
        .expect("every workload has a name");
    let mut command = Command::new(exe);
    command
        .args(["--child", name.get_name()])
        .args(["--contenders", kind.cli_name()])
        .args(["--threads", &threads.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if quick {
        command.arg("--quick");
    }
    let what = format!("{workload:?} for {} at {threads} threads", kind.label());
    let output = command
        .output()
        .map_err(|e| format!("cannot start the {what} child: {e}"))?;
    if output.status.code() == Some(3) {
        violated(format_args!("in the {what} child (its message is above)"));
    }
    if !output.status.success() {
        return Err(format!("the {what} child failed: {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(MARK))
        .ok_or_else(|| format!("the {what} child printed no result"))?;
    serde_json::from_str(line).map_err(|e| format!("the {what} child's result is unreadable: {e}"))
}

/// The child's side: prints the result line.
pub fn emit<T: Serialize>(result: &T) {
    let json = serde_json::to_string(result).expect("a measurement serialises");
    println!("{MARK}{json}");
}
