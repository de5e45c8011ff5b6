//! What the command-line tests share: running the real `idemstore` binary, reading its JSON,
//! finding the shared traces, and decoding them independently of the tool.
//!
//! The traces live in `../shared/traces/` beside the project. When that folder is missing the
//! tests that need it fail with a message saying so; they never skip.

#![allow(dead_code)]

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// What a run of the binary left behind.
pub struct Run {
    /// Exit status code.
    pub status: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
}

impl Run {
    /// The stdout of a `--json` run, parsed; panics with the run's output if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not one JSON object ({error}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The lines of stderr that are not blank.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect()
    }
}

/// Runs `idemstore` with `args` and waits for it.
pub fn idemstore(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_idemstore"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the idemstore binary runs");
    Run {
        status: status
            .code()
            .expect("idemstore exited rather than being killed"),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `idemstore replay --json` with `args`, requires exit status 0 and returns the JSON.
pub fn replay_json(args: &[&str]) -> Value {
    let mut all = vec!["replay", "--json"];
    all.extend_from_slice(args);
    let run = idemstore(&all);
    assert_eq!(
        run.status, 0,
        "idemstore {all:?} failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run.json()
}

/// `../shared/traces/` beside the project. Panics, failing the test, when it is missing.
pub fn traces_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    assert!(
        dir.is_dir(),
        "the shared traces folder is missing: expected {} (the project's ../shared/traces); \
         the trace replay tests need it and do not skip without it",
        dir.display()
    );
    dir
}

/// The path of one shared trace, as a string for the command line. Panics if it is missing.
pub fn trace(name: &str) -> String {
    let path = traces_dir().join(name);
    assert!(
        path.is_file(),
        "the shared trace {} is missing",
        path.display()
    );
    path.to_str().expect("the trace path is UTF-8").to_owned()
}

/// Deliveries and distinct keys of a shared trace, decoded here, apart from the tool.
pub struct Counted {
    pub deliveries: u64,
    pub distinct: u64,
}

/// Decodes `name` (by its suffixes) and counts its deliveries and distinct keys.
pub fn count_independently(name: &str) -> Counted {
    let file = BufReader::new(File::open(trace(name)).expect("the trace opens"));
    let mut reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::bufread::GzDecoder::new(file))
    } else if name.ends_with(".xz") {
        Box::new(xz2::bufread::XzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .expect("the trace decompresses");

    let keys: Vec<Vec<u8>> = if name.contains(".i64be") {
        bytes.chunks(8).map(<[u8]>::to_vec).collect()
    } else if name.contains(".i32be") {
        bytes.chunks(4).map(<[u8]>::to_vec).collect()
    } else {
        let text = String::from_utf8(bytes).expect("a text trace is UTF-8");
        text.lines()
            .map(|line| {
                line.split(' ')
                    .nth(1)
                    .expect("a line has an ID field")
                    .as_bytes()
                    .to_vec()
            })
            .collect()
    };
    let distinct: HashSet<&Vec<u8>> = keys.iter().collect();
    Counted {
        deliveries: keys.len() as u64,
        distinct: distinct.len() as u64,
    }
}

/// A JSON field that must be an unsigned number.
pub fn number(json: &Value, pointer: &str) -> u64 {
    json.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} is not a number in {json:#}"))
}

/// Names of the checks that failed in a replay's JSON.
pub fn failed_checks(json: &Value) -> Vec<String> {
    json["checks"]
        .as_array()
        .expect("checks is an array")
        .iter()
        .filter(|check| check["passed"] != Value::Bool(true))
        .map(|check| check["name"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// A scratch directory for this test binary's files, emptied of an earlier run's leftovers.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch directory is created");
    dir
}

/// Asserts `run` was refused as bad input with one stderr line containing every `needle`.
pub fn assert_refused(run: &Run, needles: &[&str]) {
    assert_eq!(run.status, 2, "exit status; stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "", "a refused replay prints no summary");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{}", run.stderr);
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{:?} does not mention {needle:?}",
            lines[0]
        );
    }
}

/// Runs `idemstore replay --json --trace path` with `extra` options.
pub fn replay_trace(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["replay", "--json", "--trace", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    idemstore(&args)
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `bytes`, gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `bytes`, xz-compressed.
pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = xz2::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
